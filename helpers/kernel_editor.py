"""The kernel editor: a grid of number boxes a student types a convolution kernel into.

Notebook 01 convolves a digit with a kernel the class chooses (presets such as "vertical edge",
or typed entry by entry); the explorer's "first-layer kernel" is the same editor. The editor is a
control like any other (its ``value`` is the kernel as a tuple of rows), so it can drive
:func:`helpers.widgets.interactive_figure`. :func:`multi_size_kernel_editor` adds a size switch
(3x3 / 5x5). Everything here is re-exported by :mod:`helpers.widgets`.
"""

from __future__ import annotations

import numbers

import ipywidgets as widgets
import numpy as np
import traitlets

from helpers._validate import as_float_array, check_ndim, check_positive_int

__all__ = ["kernel_presets", "KernelEditor", "kernel_editor", "read_kernel", "set_kernel",
           "MultiSizeKernelEditor", "multi_size_kernel_editor"]


def kernel_presets(size: int = 3) -> dict[str, np.ndarray]:
    """Classic kernels of shape (size, size), size 3 or 5, for the kernel editor.

    "vertical edge" is a Sobel kernel (smoothing along rows times a central difference across
    columns; for size 5 the binomial [1, 4, 6, 4, 1] and [-1, -2, 0, 2, 1]); "horizontal edge"
    is its transpose. As a cross-correlation it responds to left-to-right increases; a true
    convolution flips the sign (seed 004's rot180).
    """
    if size not in (3, 5):
        raise ValueError(f"size must be 3 or 5, got {size!r}")
    smooth = np.array([1.0, 2.0, 1.0]) if size == 3 else np.array([1.0, 4.0, 6.0, 4.0, 1.0])
    slope = np.array([-1.0, 0.0, 1.0]) if size == 3 else np.array([-1.0, -2.0, 0.0, 2.0, 1.0])
    identity = np.zeros((size, size))
    identity[size // 2, size // 2] = 1.0
    box = np.full((size, size), 1.0 / size**2)
    laplace = -np.ones((size, size))
    laplace[size // 2, size // 2] = size**2 - 1.0
    return {
        "identity": identity,
        "box blur": box,
        "vertical edge": np.outer(smooth, slope),
        "horizontal edge": np.outer(slope, smooth),
        "outline (Laplacian)": laplace,
        "sharpen": 2.0 * identity - box,
    }


_CUSTOM = "custom"


class KernelEditor(widgets.VBox):
    """A grid of FloatText boxes plus a preset dropdown; ``value`` is the kernel as an array.

    ``value`` (a float64 array (size, size)) changes once per edit, so the editor can be a
    control of :func:`interactive_figure` like a slider. Choosing a preset fills the grid;
    editing a box switches the dropdown to "custom". Assigning ``value`` updates the boxes.
    """

    value = traitlets.Any()

    def __init__(self, size: int = 3, presets=None, value=None, description: str = "kernel"):
        presets = kernel_presets(size) if presets is None else dict(presets)
        self.size = check_positive_int(size, "size")
        self.presets = {name: self._check(k, f"presets[{name!r}]") for name, k in presets.items()}
        if _CUSTOM in self.presets:
            raise ValueError(f"a preset may not be called {_CUSTOM!r}")
        self._syncing = False
        self.cells = [
            widgets.FloatText(value=0.0, step=0.1, layout=widgets.Layout(width="4.5em"))
            for _ in range(self.size * self.size)
        ]
        self.grid = widgets.GridBox(
            self.cells,
            layout=widgets.Layout(grid_template_columns=f"repeat({self.size}, 4.8em)"),
        )
        names = list(self.presets) + [_CUSTOM]
        self.preset = widgets.Dropdown(options=names, value=names[0], description=description)
        super().__init__([self.preset, self.grid])
        if value is not None:
            start = self._check(value, "value")
            self.preset.value = _CUSTOM
        elif self.presets:
            start = self.presets[names[0]]
        else:
            start = np.zeros((self.size, self.size))
        self._fill(start)
        self.value = start.copy()
        for cell in self.cells:
            cell.observe(self._on_cell, names="value")
        self.preset.observe(self._on_preset, names="value")

    def _check(self, k, name: str) -> np.ndarray:
        arr = as_float_array(k, name, allow_int=True)
        check_ndim(arr, name, 2, f"({self.size}, {self.size})")
        if arr.shape != (self.size, self.size):
            raise ValueError(f"{name} must have shape ({self.size}, {self.size}), got {arr.shape}")
        return arr.astype(np.float64)

    def _fill(self, k: np.ndarray) -> None:
        """Write ``k`` into the boxes without firing one update per box."""
        self._syncing = True
        try:
            for cell, v in zip(self.cells, k.ravel()):
                cell.value = float(v)
        finally:
            self._syncing = False

    def _read(self) -> np.ndarray:
        return np.array([c.value for c in self.cells], dtype=np.float64).reshape(self.size,
                                                                                  self.size)

    def _on_cell(self, change) -> None:
        if self._syncing:
            return
        self._syncing = True
        try:
            self.preset.value = _CUSTOM
        finally:
            self._syncing = False
        self.value = self._read()

    def _on_preset(self, change) -> None:
        if self._syncing or change["new"] == _CUSTOM:
            return
        self.set(self.presets[change["new"]], _from_preset=True)

    def set(self, k, *, _from_preset: bool = False) -> None:
        """Show kernel ``k`` (size, size) in the boxes and make it the ``value``."""
        arr = self._check(k, "k")
        if not _from_preset:
            self._syncing = True
            try:
                self.preset.value = _CUSTOM
            finally:
                self._syncing = False
        self._fill(arr)
        self.value = arr.copy()

    @traitlets.validate("value")
    def _validate_value(self, proposal):
        arr = self._check(proposal["value"], "value")
        arr.flags.writeable = False  # a render function must not change the editor's kernel
        return arr

    @traitlets.observe("value")
    def _value_changed(self, change) -> None:
        # keep the boxes in step when someone assigns editor.value directly
        if not self._syncing and not np.array_equal(self._read(), change["new"]):
            self._fill(change["new"])


def kernel_editor(size: int = 3, preset=None, *, presets=None,
                  description: str = "kernel") -> KernelEditor:
    """Return a :class:`KernelEditor` of ``size`` x ``size`` boxes (size 3 or 5 by default).

    ``preset`` names the starting preset ("identity", "vertical edge"...) or gives a starting
    array; ``presets`` replaces the built-in dict of name -> array (see :func:`kernel_presets`).
    """
    editor = KernelEditor(size, presets=presets, description=description,
                          value=None if preset is None or isinstance(preset, str) else preset)
    if isinstance(preset, str):
        if preset not in editor.presets:
            raise ValueError(f"preset must be one of {list(editor.presets)}, got {preset!r}")
        editor.preset.value = preset
    return editor


def read_kernel(editor: KernelEditor) -> np.ndarray:
    """The kernel currently typed into ``editor``, as a new float64 array (size, size)."""
    if not isinstance(editor, KernelEditor):
        raise TypeError(f"editor must be made by kernel_editor(), got {type(editor).__name__}")
    return editor._read()


def set_kernel(editor: KernelEditor, k) -> None:
    """Type kernel ``k`` (size, size) into ``editor`` (its dropdown switches to "custom")."""
    if not isinstance(editor, KernelEditor):
        raise TypeError(f"editor must be made by kernel_editor(), got {type(editor).__name__}")
    editor.set(k)


# --------------------------------------------------------------------------------------------
# A kernel control with a size switch (notebook 01)
# --------------------------------------------------------------------------------------------


class MultiSizeKernelEditor(widgets.VBox):
    """Size buttons (e.g. 3x3 / 5x5) above one :class:`KernelEditor` per size.

    Only the editor of the chosen size is shown; ``value`` is always that editor's kernel, so
    the control can drive :func:`interactive_figure` like any other (``render(kernel=...)``
    receives a (3, 3) or a (5, 5) array). Attributes: ``size_buttons`` and ``editors``
    (dict size -> KernelEditor).
    """

    value = traitlets.Any()

    def __init__(self, sizes=(3, 5), presets=None, preset=None, size=None,
                 description: str = "kernel"):
        sizes = tuple(sizes)
        if not sizes or any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1
                            for s in sizes) or len(set(sizes)) != len(sizes):
            raise ValueError(f"sizes must be distinct positive integers, got {sizes!r}")
        presets = {} if presets is None else dict(presets)
        unknown = set(presets) - set(sizes)
        if unknown:
            raise ValueError(f"presets has sizes {sorted(unknown)} that are not in sizes {sizes}")
        preset = {} if preset is None else dict(preset)
        self.editors = {}
        for s in sizes:
            self.editors[s] = kernel_editor(s, preset.get(s), presets=presets.get(s),
                                            description=description)
        size = sizes[0] if size is None else size
        if size not in sizes:
            raise ValueError(f"size must be one of {sizes}, got {size!r}")
        self.size_buttons = widgets.ToggleButtons(
            options=[(f"{s}x{s}", s) for s in sizes], value=size, description="size")
        super().__init__([self.size_buttons] + list(self.editors.values()))
        for s, editor in self.editors.items():
            editor.observe(lambda change, s=s: self._on_edit(s, change), names="value")
        self.size_buttons.observe(lambda change: self._show(change["new"]), names="value")
        self._show(size)

    def _show(self, size) -> None:
        for s, editor in self.editors.items():
            editor.layout.display = None if s == size else "none"
        self.value = self.editors[size].value

    def _on_edit(self, size, change) -> None:
        if size == self.size_buttons.value:
            self.value = change["new"]


def multi_size_kernel_editor(sizes=(3, 5), presets=None, preset=None, size=None,
                             description: str = "kernel") -> MultiSizeKernelEditor:
    """Return a :class:`MultiSizeKernelEditor`.

    ``presets`` maps a size to a dict name -> array (default :func:`kernel_presets` of that
    size); ``preset`` maps a size to the starting preset name; ``size`` is the size shown first.
    """
    return MultiSizeKernelEditor(sizes, presets=presets, preset=preset, size=size,
                                 description=description)
