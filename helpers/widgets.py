"""A thin layer over ipywidgets: a figure that redraws when the student moves a control.

The pattern every notebook follows:

1. Write a **plain render function** ``render(**values) -> Figure`` (usually built from
   :mod:`helpers.figures`). It knows nothing about widgets, so tests and the notebook's static
   cell call it directly: ``render(digit=0, layer="C1")`` is the picture a static render shows.
2. Wrap it: ``interactive_figure(render, **digit_picker(labels), layer=layer_dropdown())``.
   Each keyword names an argument of ``render`` and gives its control; the result is a widget
   box that draws the figure once and again whenever a control changes.

Controls may be given as ipywidgets objects (IntSlider, Dropdown, ToggleButtons, Checkbox,
FloatSlider, :func:`kernel_editor`...) or as shorthands: ``(min, max)`` or ``(min, max, step)``
(IntSlider when all are ints, else FloatSlider), a list of options (Dropdown) or a bool
(Checkbox). Fixed arguments are bound beforehand with ``functools.partial``.

Choosing a digit: a digit is a **class and an example of that class** everywhere in the book.
:func:`digit_picker` gives the class dropdown and the example slider (as :mod:`helpers.explorer`
does); :func:`image_index` turns the pair into an index into the data set. Each control carries a
short description (its tooltip), and a control that does nothing in the current mode is hidden, not greyed.

In a notebook, give the widget cell the tag ``nbval-ignore-output`` (widget outputs never
compare cleanly) and put a plain cell beside it that calls ``render`` with fixed values and prints
the numbers the picture shows, so the static render has a figure and nbval has numbers to check.

Everything here builds without a display or a kernel, so tests can change ``control.value`` and
check that the figure was rendered again.
"""

from __future__ import annotations

import math
import numbers
import traceback
import warnings

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython import get_ipython

from helpers._validate import check_positive_int
# the kernel editor lives in its own module; notebooks reach it here, with every other control
from helpers.kernel_editor import (KernelEditor, MultiSizeKernelEditor, kernel_editor,  # noqa: F401
                                   kernel_presets, multi_size_kernel_editor, read_kernel, set_kernel)

__all__ = [
    "PLACEHOLDER",
    "BookBox",
    "BookHBox",
    "figure_output",
    "InteractiveFigure",
    "interactive_figure",
    "make_control",
    "examples_by_class",
    "digit_picker",
    "image_index",
    "layer_dropdown",
    "kernel_presets",
    "KernelEditor",
    "kernel_editor",
    "read_kernel",
    "set_kernel",
    "MultiSizeKernelEditor",
    "multi_size_kernel_editor",
]


# --------------------------------------------------------------------------------------------
# The figure that follows its controls
# --------------------------------------------------------------------------------------------


def make_control(name: str, spec) -> widgets.Widget:
    """Turn a control ``spec`` for argument ``name`` into a widget (see the module docstring)."""
    if isinstance(spec, widgets.Widget):
        if not spec.has_trait("value"):
            raise TypeError(f"control {name!r} is a {type(spec).__name__}, which has no value")
        return spec
    if isinstance(spec, (bool, np.bool_)):
        return widgets.Checkbox(value=bool(spec), description=name)
    if isinstance(spec, tuple) and len(spec) in (2, 3) and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in spec
    ):
        lo, hi = spec[0], spec[1]
        if lo >= hi:
            raise ValueError(f"control {name!r}: min must be < max, got {spec}")
        if all(isinstance(v, numbers.Integral) for v in spec):
            step = spec[2] if len(spec) == 3 else 1
            return widgets.IntSlider(value=int(lo), min=int(lo), max=int(hi), step=int(step),
                                     description=name, continuous_update=False)
        step = spec[2] if len(spec) == 3 else (hi - lo) / 100
        return widgets.FloatSlider(value=float(lo), min=float(lo), max=float(hi),
                                   step=float(step), description=name, continuous_update=False)
    if isinstance(spec, list) and spec:
        return widgets.Dropdown(options=spec, value=spec[0], description=name)
    raise TypeError(
        f"control {name!r} must be an ipywidgets control, a (min, max[, step]) tuple, "
        f"a non-empty list of options or a bool; got {spec!r}"
    )


#: what a widget cell shows before it is run (the stored ``text/plain`` of the widget's output)
PLACEHOLDER = "interactive figure: run this cell"
#: figures are drawn at this many image pixels per screen pixel, so they stay sharp when zoomed
PIXEL_RATIO = 2


class Placeholder:
    """Mixin for the book's widget boxes: the repr is one friendly line, not ``VBox(children=...``.

    A notebook stores a widget's ``text/plain`` beside its view; JupyterLab and Notebook 7 show
    that text until the cell is run (and whenever the widget's state is missing).
    """

    placeholder = PLACEHOLDER

    def __repr__(self) -> str:
        return self.placeholder


class BookBox(Placeholder, widgets.VBox):
    """A VBox whose repr is the placeholder line ``placeholder`` (default :data:`PLACEHOLDER`)."""

    def __init__(self, children=(), placeholder: str | None = None, **kwargs):
        super().__init__(children, **kwargs)
        if placeholder is not None:
            self.placeholder = placeholder


class BookHBox(Placeholder, widgets.HBox):
    """An HBox whose repr is the placeholder line ``placeholder``."""

    def __init__(self, children=(), placeholder: str | None = None, **kwargs):
        super().__init__(children, **kwargs)
        if placeholder is not None:
            self.placeholder = placeholder


def figure_output(figure, pixel_ratio: int = PIXEL_RATIO) -> dict:
    """A ``display_data`` output of ``figure`` as PNG drawn at ``pixel_ratio`` x its dpi and shown
    at its natural size (``width`` metadata): sharp under browser zoom, text as large as designed.
    Its metadata ``book/figure`` gives the smallest text in points and the PNG's dpi.

    A string instead of a figure becomes a one-line HTML message (for example "draw a digit").
    """
    if isinstance(figure, str):
        import html

        return {"output_type": "display_data",
                "data": {"text/plain": figure,
                         "text/html": f"<div class='book-message' style='font-size:18px;padding:24px'>"
                                      f"{html.escape(figure)}</div>"},
                "metadata": {}}
    import io
    import struct

    from helpers.figures.base import smallest_text

    buf = io.BytesIO()
    dpi = figure.dpi * pixel_ratio
    # zlib level 1: about a tenth of a redraw faster than the default 6, for a PNG ~15% larger
    figure.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    smallest = smallest_text(figure)  # inf for a figure without text: None in JSON
    png = buf.getvalue()
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    import base64

    # "book/figure": the smallest text as drawn (points) and the PNG's dpi, so that a browser
    # test can compute the text's size on screen: points x dpi / 72 x rendered / natural width
    return {"output_type": "display_data",
            "data": {"image/png": base64.b64encode(png).decode("ascii"),
                     "text/plain": f"<Figure size {round(width / pixel_ratio)}x{round(height / pixel_ratio)}>"},
            "metadata": {"image/png": {"width": round(width / pixel_ratio),
                                       "height": round(height / pixel_ratio)},
                         "book/figure": {"smallest_text_pt": smallest if math.isfinite(smallest) else None,
                                         "dpi": dpi}}}


def _later(callback) -> None:
    """Run ``callback`` once the kernel has handled the messages already waiting (a moved
    control's later values), or at once when no event loop runs (tests, scripts)."""
    import asyncio

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        callback()
        return
    loop.call_later(0.02, callback)


class InteractiveFigure(Placeholder, widgets.VBox):
    """A box of controls above (or beside) an Output area showing ``render(**values)``.

    Attributes: ``controls`` (dict name -> widget), ``output`` (the Output widget),
    ``render`` (the plain function) and ``figure`` (the last figure drawn). ``redraw()`` draws
    again by hand. Each redraw clears the Output first and closes the previous figure.

    Rapid changes coalesce: a moved control asks for a redraw, which runs once the kernel has
    handled the messages already waiting, so five quick moves of a slider draw the figure once,
    for the last value (``schedule`` replaces the kernel's event loop, e.g. in tests; the number
    of redraws so far is ``redraws``). ``render`` may return a string instead of a figure: a
    message shown in the figure's place (e.g. "draw a digit"). Text smaller than a projector shows
    legibly is raised (:func:`helpers.figures.base.raise_small_text`): every figure a widget
    draws has text of at least 14 px at its natural size.
    """

    def __init__(self, render, controls: dict, *, controls_position: str = "top", schedule=None,
                 placeholder: str | None = None):
        if not callable(render):
            raise TypeError(f"render must be callable, got {type(render).__name__}")
        if not controls:
            raise ValueError("interactive_figure needs at least one control")
        if controls_position not in ("top", "left"):
            raise ValueError(f"controls_position must be 'top' or 'left', got {controls_position!r}")
        self.render = render
        self.controls = {name: make_control(name, spec) for name, spec in controls.items()}
        self.output = widgets.Output()
        self.figure = None
        self.redraws = 0
        self._schedule = _later if schedule is None else schedule
        self._pending = False
        if placeholder is not None:
            self.placeholder = placeholder
        panel = widgets.VBox(list(self.controls.values()))
        if controls_position == "left":
            super().__init__([widgets.HBox([panel, self.output])])
        else:
            super().__init__([panel, self.output])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.redraw()

    def values(self) -> dict:
        """The current value of every control, by argument name."""
        return {name: control.value for name, control in self.controls.items()}

    def _on_change(self, change) -> None:
        self.request_redraw()

    def request_redraw(self) -> None:
        """Ask for a redraw with the values the controls will have once the waiting messages are
        handled; requests made before it runs are one redraw."""
        if self._pending:
            return
        self._pending = True
        self._schedule(self._run_pending)

    def _run_pending(self) -> None:
        self._pending = False
        self.redraw(raise_errors=False)

    def _render(self):
        """``render(**values)`` with its text raised to what a projector shows legibly
        (:data:`helpers.figures.base.PROJECTED_TEXT_PX` at the figure's natural size)."""
        from matplotlib.figure import Figure

        from helpers.figures.base import projected_points, raise_small_text

        figure = self.render(**self.values())
        if isinstance(figure, Figure):
            raise_small_text(figure, projected_points(figure))
        return figure

    def redraw(self, raise_errors: bool = True) -> None:
        """Call ``render`` with the current values and show the figure in ``output``.

        With ``raise_errors`` (construction, direct calls) an exception from ``render``
        propagates; after a control moves it is shown as a traceback inside the Output area
        instead, so a student sees what went wrong next to the figure.
        """
        previous, self.figure = self.figure, None
        if previous is not None and not isinstance(previous, str):
            plt.close(previous)  # frees pyplot-made figures; a no-op for plain Figure objects
        self.redraws += 1
        shell = get_ipython()
        if shell is None:  # headless (tests, scripts): nothing to show
            figure = self._render()
        else:
            # The Output's content is replaced by setting its ``outputs`` in one state update,
            # not by drawing inside ``with self.output:``. Capturing inside the context manager
            # while the cell that builds the widget is still running makes nbclient (Voila,
            # nbconvert, the regeneration script) lose the cell's reply now and then and hang
            # for good (nbclient issue 312); JupyterLab is unaffected either way.
            # A warning raised while drawing is shown under the figure, where the student looks:
            # the redraw runs after the control's message was handled, so stderr would reach no cell.
            try:
                with warnings.catch_warnings(record=True) as caught:
                    figure = self._render()
                    output = figure_output(figure)
            except Exception:
                if raise_errors:
                    raise
                figure = None
                text = "".join(traceback.format_exc())
                self.output.outputs = ({"output_type": "stream", "name": "stderr", "text": text},)
            else:
                shown = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
                self.output.outputs = (output,) + (
                    ({"output_type": "stream", "name": "stderr", "text": shown},) if shown else ())
        self.figure = figure
        if figure is not None and not isinstance(figure, str):
            # A figure made with pyplot would otherwise be drawn a second time, outside the
            # Output, by the inline backend at the end of the cell. (The Figure object stays
            # usable: closing only drops pyplot's reference to it.)
            plt.close(figure)


def interactive_figure(render, *, controls_position: str = "top", **controls) -> InteractiveFigure:
    """Return a widget that shows ``render(**values)`` and redraws it when a control moves.

    ``controls`` maps each argument of ``render`` to a control or a shorthand (module
    docstring). ``controls_position`` is ``"top"`` (default) or ``"left"`` (for tall controls
    such as :func:`kernel_editor`). The returned :class:`InteractiveFigure` is a ``VBox``.
    """
    return InteractiveFigure(render, controls, controls_position=controls_position)


# --------------------------------------------------------------------------------------------
# Ready-made controls
# --------------------------------------------------------------------------------------------


def examples_by_class(labels) -> dict:
    """``{class: indices (k,) of the images of that class, in data-set order}`` for the classes
    present in ``labels`` (N,): the one lookup behind every "class + example" digit control."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"labels must be a non-empty 1-D array of classes, got shape {labels.shape}")
    return {int(c): np.flatnonzero(labels == c) for c in np.unique(labels)}


def image_index(labels, digit: int, example: int) -> int:
    """Index into the data set of example ``example`` (0-based) of class ``digit``."""
    by_class = examples_by_class(labels)
    if digit not in by_class:
        raise ValueError(f"no image of class {digit!r} in labels")
    if not 0 <= int(example) < len(by_class[digit]):
        raise ValueError(f"example must be in 0 .. {len(by_class[digit]) - 1}, got {example}")
    return int(by_class[digit][int(example)])


def digit_picker(labels, index: int = 0) -> dict:
    """Two linked controls that choose a digit the way :mod:`helpers.explorer` does.

    ``{"digit": Dropdown of the classes, "example": IntSlider over the examples of that
    class}``, starting at image ``index`` of the data set whose classes are ``labels`` (N,).
    "digit" means the same in every notebook: the class; the example slider's range follows
    the class. Pass them to :func:`interactive_figure` with ``**digit_picker(labels)`` and get
    the image with ``image_index(labels, digit, example)``.
    """
    by_class = examples_by_class(labels)
    labels = np.asarray(labels)
    if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < labels.size:
        raise ValueError(f"index must be an int in 0 .. {labels.size - 1}, got {index!r}")
    digit = int(labels[index])
    style = {"description_width": "initial"}
    classes = widgets.Dropdown(options=sorted(by_class), value=digit, description="digit: class",
                               style=style, layout=widgets.Layout(width="160px"),
                               tooltip="the class of the digit (0-9)")
    example = widgets.IntSlider(value=int(np.flatnonzero(by_class[digit] == index)[0]), min=0,
                                max=len(by_class[digit]) - 1, description="example of that class",
                                style=style, continuous_update=False,
                                tooltip="which image of that class (0 = the first in the data set)")

    def follow(change):
        example.value = min(example.value, len(by_class[change["new"]]) - 1)
        example.max = len(by_class[change["new"]]) - 1

    classes.observe(follow, names="value")  # registered first: runs before a figure redraws
    return {"digit": classes, "example": example}


def layer_dropdown(options=("C1", "S1", "C2", "S2"), value=None,
                   description: str = "layer") -> widgets.Dropdown:
    """Dropdown to choose a layer (default the seed network's C1, S1, C2, S2)."""
    options = list(options)
    if not options:
        raise ValueError("options must not be empty")
    if value is not None and value not in options:
        raise ValueError(f"value must be one of {options}, got {value!r}")
    return widgets.Dropdown(options=options, value=options[0] if value is None else value,
                            description=description)


# --------------------------------------------------------------------------------------------
# Notebook 06: scrub through the checkpoints of a training run
# --------------------------------------------------------------------------------------------


def checkpoint_slider(n_checkpoints: int, value=None, description: str = "epoch") -> widgets.IntSlider:
    """Slider over checkpoint indices ``0 .. n-1`` (0 = before training, e = after epoch e);
    starts at the last checkpoint unless ``value`` is given."""
    n_checkpoints = check_positive_int(n_checkpoints, "n_checkpoints")
    value = int(n_checkpoints) - 1 if value is None else value
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < n_checkpoints:
        raise ValueError(f"value must be an int in 0 .. {n_checkpoints - 1}, got {value!r}")
    return widgets.IntSlider(value=int(value), min=0, max=int(n_checkpoints) - 1, step=1,
                             description=description, continuous_update=False)


def checkpoint_explorer(trace, x, label=None, value=None, *, scale: str = "this epoch",
                        checkpoints=None, images=None, labels=None, index=None) -> InteractiveFigure:
    """Widget: an epoch slider over the checkpoints in ``trace`` (from
    :func:`helpers.train.digit_trace`) redrawing :func:`helpers.figures.show_training_snapshot`
    for the digit ``x`` (28, 28) of class ``label``, and a choice of colour scale for the error
    maps (default ``"this epoch"``, so that the small errors of late epochs stay visible; the
    colour bar shows the scale). Its ``render(epoch=e, scale=s)`` draws the figure without a
    widget (for static renders and tests). The widget keeps ONE figure and every change redraws
    it in place (``show_training_snapshot(..., into=figure)``): no new axes, text measured once.

    With ``checkpoints`` (the list given to ``digit_trace``), ``images`` (N, 28, 28), ``labels``
    (N,) and ``index`` (the position of ``x`` in ``images``) it also has a :func:`digit_picker`
    (class and example): another digit is traced through the checkpoints when chosen.
    """
    from functools import partial

    from helpers.figures import SNAPSHOT_SCALES, show_training_snapshot

    if not isinstance(trace, dict) or "loss" not in trace:
        raise TypeError("trace must be the dict returned by helpers.train.digit_trace")
    if scale not in SNAPSHOT_SCALES:
        raise ValueError(f"scale must be one of {list(SNAPSHOT_SCALES)}, got {scale!r}")
    scales = widgets.ToggleButtons(options=list(SNAPSHOT_SCALES), value=scale, description="error colours",
                                   style={"description_width": "initial"},
                                   tooltips=["one linear scale for every epoch: errors fade as they shrink",
                                             "each map set on its own largest value at this epoch",
                                             "symmetric log over every epoch: small errors stay visible"])
    epochs = checkpoint_slider(len(trace["loss"]), value)
    epochs.tooltip = "0 = before training, e = after epoch e"
    shown = {}  # this widget's figure, redrawn in place by every change (no new axes, text measured once)

    def snapshot(t, epoch, xi, li, scale="all epochs"):
        shown["figure"] = show_training_snapshot(t, epoch, xi, li, scale=scale, into=shown.get("figure"))
        return shown["figure"]

    if checkpoints is None and images is None and labels is None:
        return interactive_figure(partial(snapshot, trace, xi=x, li=label), epoch=epochs, scale=scales)
    if checkpoints is None or images is None or labels is None or index is None:
        raise TypeError("a choice of digit needs checkpoints, images, labels and index together")
    from helpers.train import digit_trace

    images = np.asarray(images)
    traces = {int(index): (trace, x, label)}

    def render(epoch, scale, digit, example):
        i = image_index(labels, digit, example)
        if i not in traces:  # a new digit: run it through every checkpoint once
            xi = images[i].astype(np.float32) / np.float32(255) if images.dtype == np.uint8 else images[i]
            traces[i] = (digit_trace(checkpoints, xi, int(labels[i])), xi, int(labels[i]))
        t, xi, li = traces[i]
        return snapshot(t, epoch, xi, li, scale)

    return interactive_figure(render, epoch=epochs, scale=scales, **digit_picker(labels, int(index)))


__all__ += ["checkpoint_slider", "checkpoint_explorer"]
