"""Figures for the book: feature maps, kernels, error maps, vectors, training curves.

Conventions used by every function here:

* Each function **returns** a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``.
  Figures are created with ``Figure(...)`` directly, not through pyplot, so they are not kept in
  pyplot's global list (no leaks, nothing to close) and a notebook shows them exactly once: end
  the cell with the call (``show_maps(cache["C1"])``) or pass the result to ``display``.
* **Signed** data (errors ``dC2``, gradients ``dk2``, differences) use a diverging colormap
  (``RdBu_r``) whose limits are symmetric, ``vmin = -vmax``, so white always means zero.
  **Unsigned** data (images, sigmoid activations) use a sequential colormap.
* Panels are labelled with the seeds' **1-based** indices (``p=1`` is ``maps[0]``), because the
  equations the figures illustrate use them; pass ``start=0`` to label with numpy indices.
* Every colourbar and every axis that carries numbers is labelled.
* Output is deterministic: fixed sizes, no randomness, no timestamps.

Other notebooks append their own figure functions at the end of this module; build them from the
helpers in the first section (:func:`new_figure`, :func:`symmetric_limits`, :func:`show_maps`...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib

# Importing pyplot lets IPython's inline backend register its PNG formatter for Figure objects;
# without it a figure returned from here would show only as text in a notebook. The pyplot
# state machine itself is not used.
import matplotlib.pyplot as plt  # noqa: F401
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import MaxNLocator

from helpers._validate import as_float_array, check_ndim

SIGNED_CMAP = "RdBu_r"
"""Diverging colormap for errors, gradients and differences (blue < 0 < red, white = 0)."""
ACTIVATION_CMAP = "viridis"
"""Sequential colormap for feature maps (activations)."""
IMAGE_CMAP = "gray_r"
"""Sequential colormap for input digits (ink is dark, paper is white)."""

_TINY = 1e-12

__all__ = [
    "SIGNED_CMAP",
    "ACTIVATION_CMAP",
    "IMAGE_CMAP",
    "symmetric_limits",
    "signed_norm",
    "new_figure",
    "show_maps",
    "show_kernels",
    "show_digit",
    "show_vector",
    "show_network_flow",
    "side_by_side",
    "confusion_matrix_plot",
    "curves_plot",
]


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def symmetric_limits(arr) -> tuple[float, float]:
    """Return ``(-m, m)`` with ``m = max |arr|`` (or ``1e-12`` if ``arr`` is all zeros).

    ``arr`` may be any numeric array or a list of arrays of different shapes (all are scanned).
    Use the result as ``vmin, vmax`` so that zero sits in the middle of a diverging colormap.
    """
    parts = _as_parts(arr, "arr")
    m = max((float(np.max(np.abs(p))) for p in parts if p.size), default=0.0)
    m = max(m, _TINY)
    return -m, m


def signed_norm(arr) -> Normalize:
    """Return a ``Normalize(vmin=-m, vmax=m)`` centred on zero for signed data ``arr``."""
    vmin, vmax = symmetric_limits(arr)
    return Normalize(vmin=vmin, vmax=vmax)


def new_figure(width: float, height: float) -> Figure:
    """Return an empty constrained-layout :class:`Figure` of ``width`` x ``height`` inches.

    The figure is not registered with pyplot: it is shown once when a notebook cell ends with it
    and is freed like any Python object.
    """
    return Figure(figsize=(float(width), float(height)), layout="constrained", dpi=100)


def _as_parts(arr, name: str) -> list[np.ndarray]:
    """Turn an array, or a list of arrays of different shapes, into a list of float arrays."""
    if isinstance(arr, (list, tuple)) and arr and all(np.ndim(a) >= 1 for a in arr):
        shapes = {np.shape(a) for a in arr}
        if len(shapes) > 1:
            return [as_float_array(a, f"{name}[{i}]", allow_int=True) for i, a in enumerate(arr)]
    return [as_float_array(arr, name, allow_int=True)]


def _norm_for(parts: list[np.ndarray], signed: bool, vmin=None, vmax=None) -> Normalize:
    """Colour limits for data ``parts``: symmetric if ``signed``, else data range or given."""
    if signed:
        if vmin is not None and vmax is None:
            vmax = -float(vmin)
        m = float(vmax) if vmax is not None else symmetric_limits(parts)[1]
        if m <= 0:
            raise ValueError(f"vmax for signed data must be > 0, got {vmax}")
        return Normalize(vmin=-m, vmax=m)
    lo = float(vmin) if vmin is not None else min(float(p.min()) for p in parts if p.size)
    hi = float(vmax) if vmax is not None else max(float(p.max()) for p in parts if p.size)
    if hi <= lo:  # a constant map: widen so that the colourbar still has a range
        lo, hi = lo - 0.5, hi + 0.5
    return Normalize(vmin=lo, vmax=hi)


def _text_colour(cmap, norm: Normalize, value: float) -> str:
    """Black or white, whichever reads better on the colour that ``value`` is drawn with."""
    r, g, b, _ = matplotlib.colormaps[cmap](float(np.clip(norm(value), 0.0, 1.0)))
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def _annotate(ax, m: np.ndarray, cmap, norm: Normalize, fmt: str, fontsize: float) -> None:
    """Write each value of the 2-D array ``m`` in its cell."""
    for (i, j), value in np.ndenumerate(m):
        ax.text(j, i, format(value, fmt), ha="center", va="center", fontsize=fontsize,
                color=_text_colour(cmap, norm, value))


def _default_ncols(k: int) -> int:
    """Grid width for ``k`` panels: one row up to 6, two rows up to 12, then about square."""
    if k <= 6:
        return k
    if k <= 12:
        return math.ceil(k / 2)
    return math.ceil(math.sqrt(k))


def _image_grid(fig, maps, nrows, ncols, *, cmap, norm, panel_titles=None, row_labels=None,
                col_labels=None, cbar_label=None, annotate=False, fmt=".2f", ticks=False,
                title=None, cbar_location="right"):
    """Draw 2-D ``maps`` into an ``nrows`` x ``ncols`` grid of ``fig`` with one colourbar.

    Empty grid cells are removed, so ``fig`` ends up with ``len(maps)`` image axes plus one
    colourbar axes. Returns the list of image axes.
    """
    axes = fig.subplots(nrows, ncols, squeeze=False)
    used = []
    image = None
    for idx, ax in enumerate(axes.flat):
        if idx >= len(maps):
            fig.delaxes(ax)
            continue
        m = maps[idx]
        image = ax.imshow(m, cmap=cmap, norm=norm, interpolation="nearest")
        r, c = divmod(idx, ncols)
        if panel_titles is not None:
            ax.set_title(panel_titles[idx], fontsize=9)
        if col_labels is not None and r == 0:
            ax.set_title(col_labels[c], fontsize=9)
        if ticks:
            ax.set_xticks(range(m.shape[1]))
            ax.set_yticks(range(m.shape[0]))
            ax.tick_params(labelsize=7)
            ax.set_xlabel("column", fontsize=8)
            ax.set_ylabel("row", fontsize=8)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        if row_labels is not None and c == 0:
            ax.set_ylabel(row_labels[r], fontsize=9, rotation=0, ha="right", va="center")
        if annotate:
            _annotate(ax, m, cmap, norm, fmt, fontsize=max(5.0, 9.0 - 0.6 * max(m.shape)))
        used.append(ax)
    cbar = fig.colorbar(image, ax=used, location=cbar_location, shrink=0.9, aspect=25)
    cbar.set_label(cbar_label if cbar_label else "value")
    cbar.ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title)
    return used


def _stack_maps(maps, name: str) -> np.ndarray:
    """Return ``maps`` as a float array (K, H, W); a single (H, W) map becomes K = 1."""
    arr = as_float_array(maps, name, allow_int=True)
    check_ndim(arr, name, (2, 3), "(K, H, W) or (H, W)")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {arr.shape}")
    return arr


def _check_labels(labels, count: int, name: str) -> list[str]:
    labels = [str(s) for s in labels]
    if len(labels) != count:
        raise ValueError(f"{name} must have {count} entries, got {len(labels)}")
    return labels


def _target(fig, width, height):
    """Use the given Figure/SubFigure or make a new one."""
    if fig is None:
        return new_figure(width, height)
    if not isinstance(fig, (Figure, SubFigure)):
        raise TypeError(f"fig must be a matplotlib Figure or SubFigure, got {type(fig).__name__}")
    return fig


def _root(fig) -> Figure:
    """The top-level Figure of a Figure or SubFigure."""
    while isinstance(fig, SubFigure):
        try:
            fig = fig.get_figure(root=True)  # matplotlib >= 3.10
        except TypeError:
            fig = fig.figure  # older: a SubFigure's .figure is the top-level Figure
    return fig


# --------------------------------------------------------------------------------------------
# Maps, kernels, digits, vectors
# --------------------------------------------------------------------------------------------


def show_maps(maps, title=None, signed=False, ncols=None, labels=None, cbar_label=None, *,
              prefix="p", start=1, cmap=None, vmin=None, vmax=None, annotate=False, fmt=".2f",
              ticks=False, panel_size=1.5, fig=None) -> Figure:
    """Grid of 2-D maps ``maps`` (K, H, W) (or one (H, W) map) with one shared colourbar.

    Panels are titled ``f"{prefix}={i + start}"`` (``p=1`` ... ``p=K``) unless ``labels`` gives
    K titles. ``signed=True`` draws errors and gradients with :data:`SIGNED_CMAP` and limits
    ``-m, m`` (m = max |maps|, or ``vmax`` if given); otherwise :data:`ACTIVATION_CMAP` over the
    data range (or ``vmin``/``vmax``). ``annotate`` writes each value (format ``fmt``) in its
    cell, for small worked examples; ``ticks`` shows 0-based row/column indices.
    ``fig`` draws into an existing Figure or SubFigure (used to compose bigger figures).
    Returns the figure: K image axes plus one colourbar axes.
    """
    arr = _stack_maps(maps, "maps")
    k = arr.shape[0]
    ncols = _default_ncols(k) if ncols is None else min(int(ncols), k)
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    nrows = math.ceil(k / ncols)
    titles = (_check_labels(labels, k, "labels") if labels is not None
              else [f"{prefix}={i + start}" for i in range(k)])
    cmap = cmap or (SIGNED_CMAP if signed else ACTIVATION_CMAP)
    norm = _norm_for([arr], signed, vmin, vmax)
    aspect = arr.shape[1] / arr.shape[2]
    target = _target(fig, panel_size * ncols + 1.2,
                     panel_size * aspect * nrows + (0.6 if title else 0.2) + 0.3)
    _image_grid(target, list(arr), nrows, ncols, cmap=cmap, norm=norm, panel_titles=titles,
                cbar_label=cbar_label or ("signed value" if signed else "activation"),
                annotate=annotate, fmt=fmt, ticks=ticks, title=title)
    return target


def show_kernels(k, title=None, signed=True, cbar_label="weight", *, row_prefix="p",
                 col_prefix="q", start=1, cmap=None, annotate=False, fmt=".2f",
                 panel_size=None, fig=None) -> Figure:
    """Kernels ``k`` of shape (K, h, w) in a row/grid, or (P, Q, h, w) in a P x Q grid.

    For the seed network: ``k1`` (6, 5, 5) gives panels ``p=1..6``; ``k2`` (6, 12, 5, 5),
    indexed [p, q, u, v], gives 6 rows labelled ``p=`` and 12 columns labelled ``q=``.
    ``signed`` (default) centres a diverging colormap on zero, since weights and their
    gradients have both signs. Returns the figure: one image axes per kernel plus a colourbar.
    """
    arr = as_float_array(k, "k", allow_int=True)
    check_ndim(arr, "k", (2, 3, 4), "(K, h, w) or (P, Q, h, w)")
    if arr.ndim < 4:
        return show_maps(arr, title=title, signed=signed, labels=None, cbar_label=cbar_label,
                         prefix=row_prefix, start=start, cmap=cmap, annotate=annotate, fmt=fmt,
                         panel_size=panel_size or 1.3, fig=fig)
    p_count, q_count = arr.shape[:2]
    if min(arr.shape) == 0:
        raise ValueError(f"k must be non-empty, got shape {arr.shape}")
    size = panel_size or (0.85 if q_count > 6 else 1.2)
    target = _target(fig, size * q_count + 1.6, size * p_count + (0.7 if title else 0.4))
    cmap = cmap or (SIGNED_CMAP if signed else ACTIVATION_CMAP)
    norm = _norm_for([arr], signed)
    _image_grid(target, list(arr.reshape(p_count * q_count, *arr.shape[2:])), p_count, q_count,
                cmap=cmap, norm=norm,
                row_labels=[f"{row_prefix}={i + start}" for i in range(p_count)],
                col_labels=[f"{col_prefix}={j + start}" for j in range(q_count)],
                cbar_label=cbar_label, annotate=annotate, fmt=fmt, title=title)
    return target


def show_digit(x, label=None, ax=None, *, title=None, colorbar=True) -> Figure:
    """One input image ``x`` (28, 28) (or flat (784,)) in :data:`IMAGE_CMAP`.

    ``label`` (the true class) goes into the title. With ``ax`` the digit is drawn there (no
    colourbar is added unless ``colorbar``) and the axes' figure is returned.
    """
    arr = as_float_array(x, "x", allow_int=True)
    if arr.ndim == 1 and math.isqrt(arr.size) ** 2 == arr.size and arr.size:
        side = math.isqrt(arr.size)
        arr = arr.reshape(side, side)
    check_ndim(arr, "x", 2, "(28, 28) or (784,)")
    if ax is None:
        fig = new_figure(3.2 if colorbar else 2.6, 2.8)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    lo, hi = min(0.0, float(arr.min())), max(1.0, float(arr.max()))
    image = ax.imshow(arr, cmap=IMAGE_CMAP, vmin=lo, vmax=hi, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title is None:
        title = f"input x, label {label}" if label is not None else "input x"
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(f"{arr.shape[0]} x {arr.shape[1]} pixels", fontsize=8)
    if colorbar:
        cbar = fig.colorbar(image, ax=ax, shrink=0.85)
        cbar.set_label("pixel intensity")
        cbar.ax.tick_params(labelsize=8)
    return _root(fig)


def show_vector(v, title=None, xlabel="index", ylabel="value", *, highlight=None,
                tick_labels=None, group=None, group_prefix="q", start=1, ax=None,
                width=None) -> Figure:
    """Bar chart of a 1-D vector ``v`` such as ``f`` (192,) or ``y_hat`` (10,).

    ``highlight`` (an index or list of indices) draws those bars in a contrasting colour (the
    true class, the prediction...). ``tick_labels`` names every bar (classes 0..9). ``group``
    (e.g. 16 for ``f``, one group per S2 map) draws separators and labels each group
    ``f"{group_prefix}={g + start}"``. With ``ax`` the chart goes there. Returns the figure.
    """
    arr = as_float_array(v, "v", allow_int=True)
    check_ndim(arr, "v", 1, "(n,)")
    n = arr.size
    if n == 0:
        raise ValueError("v must be non-empty, got shape (0,)")
    if ax is None:
        fig = new_figure(width or min(11.0, max(3.5, 0.35 * n + 1.5)), 2.8)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    marked = set() if highlight is None else set(np.atleast_1d(highlight).astype(int).tolist())
    colours = ["C3" if i in marked else "C0" for i in range(n)]
    ax.bar(np.arange(n), arr, color=colours, width=0.8 if n <= 40 else 1.0)
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xlim(-0.6, n - 0.4)
    if tick_labels is not None:
        ax.set_xticks(np.arange(n), _check_labels(tick_labels, n, "tick_labels"))
    elif n <= 20:
        ax.set_xticks(np.arange(n))
    if group:
        group = int(group)
        if group < 1 or n % group:
            raise ValueError(f"group must divide len(v) = {n}, got {group}")
        top = ax.get_ylim()[1]
        for g in range(n // group):
            if g:
                ax.axvline(g * group - 0.5, color="0.6", linewidth=0.6)
            ax.text(g * group + group / 2 - 0.5, top, f"{group_prefix}={g + start}",
                    ha="center", va="bottom", fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10, pad=14 if group else 6)
    return _root(fig)


_FLOW_KEYS = ("x", "C1", "S1", "C2", "S2", "f", "y_hat")


def show_network_flow(cache, label=None, *, index=0, title=None) -> Figure:
    """One digit flowing through the seed network: x, C1, S1, C2, S2, f and y_hat.

    ``cache`` is the forward cache of one image (``helpers.network.forward``): ``x`` (28, 28),
    ``C1`` (6, 24, 24), ``S1`` (6, 12, 12), ``C2`` (12, 8, 8), ``S2`` (12, 4, 4), ``f`` (192,)
    and ``y_hat`` (10,); other layer sizes work too. For the cache of a batch (``x`` of shape
    (N, 28, 28)) image ``index`` is shown. ``label`` is the true class, marked in the y_hat
    panel next to the predicted class. Sigmoid activations share the scale 0..1.
    """
    if not isinstance(cache, Mapping):
        raise TypeError(f"cache must be a dict of arrays, got {type(cache).__name__}")
    missing = [key for key in _FLOW_KEYS if key not in cache]
    if missing:
        raise KeyError(f"cache is missing {missing}; expected keys {list(_FLOW_KEYS)}")
    if np.ndim(cache["x"]) == 3:  # a batch: keep image `index` of every array
        n = np.shape(cache["x"])[0]
        if not -n <= int(index) < n:
            raise ValueError(f"index must be in 0 .. {n - 1} for a batch of {n}, got {index}")
        cache = {key: np.asarray(cache[key])[int(index)] for key in _FLOW_KEYS}
    layers = {name: _stack_maps(cache[name], name) for name in ("C1", "S1", "C2", "S2")}
    y_hat = as_float_array(cache["y_hat"], "y_hat")
    check_ndim(y_hat, "y_hat", 1, "(10,)")
    f = as_float_array(cache["f"], "f")
    check_ndim(f, "f", 1, "(n,)")
    s2_size = layers["S2"].shape[1] * layers["S2"].shape[2]

    fig = new_figure(13.0, 10.0)
    rows = fig.subfigures(3, 1, height_ratios=[1.0, 1.25, 0.8])
    top = rows[0].subfigures(1, 3, width_ratios=[0.8, 1.6, 1.6])
    middle = rows[1].subfigures(1, 2)
    bottom = rows[2].subfigures(1, 2, width_ratios=[2.2, 1.0])

    show_digit(cache["x"], label=label, ax=top[0].add_subplot(), colorbar=False)
    panels = [(top[1], "C1"), (top[2], "S1"), (middle[0], "C2"), (middle[1], "S2")]
    for sub, name in panels:
        maps = layers[name]
        in_unit = maps.min() >= 0.0 and maps.max() <= 1.0
        k = maps.shape[0]
        show_maps(maps, title=f"{name}  ({k} maps of {maps.shape[1]}x{maps.shape[2]})",
                  ncols=math.ceil(k / 2) if k <= 6 else math.ceil(k / 3),
                  vmin=0.0 if in_unit else None, vmax=1.0 if in_unit else None,
                  cbar_label="activation", prefix="p" if name[1] == "1" else "q", fig=sub)
    ax_f = bottom[0].add_subplot()
    show_vector(f, title=f"f  (S2 flattened, {f.size} values)", xlabel="index of f (0-based)",
                ylabel="activation", group=s2_size if f.size % s2_size == 0 else None, ax=ax_f)
    predicted = int(np.argmax(y_hat))
    marks = [predicted] if label is None else [predicted, int(label)]
    show_vector(y_hat, title=f"y_hat  (predicted {predicted}"
                + (f", true {int(label)})" if label is not None else ")"),
                xlabel="class", ylabel="output", highlight=marks, ax=bottom[1].add_subplot())
    fig.suptitle(title or "one digit flowing through the network", fontsize=13)
    return fig


# --------------------------------------------------------------------------------------------
# Comparisons and training
# --------------------------------------------------------------------------------------------


def side_by_side(arrays, titles, signed=False, *, title=None, cbar_label=None, share=True,
                 show_difference=False, prefix="p", start=1, cmap=None, annotate=False,
                 fmt=".2f", panel_size=1.6) -> Figure:
    """Compare arrays column by column: e.g. loops vs fast, or ``dS2`` next to ``dC2``.

    ``arrays`` is a list of 2-D arrays, or of 3-D arrays (K, H, W) with the same K: then map k
    of every array sits in row k (rows labelled ``p=1..K``). Shapes may differ between columns.
    ``share`` uses one colour scale and one colourbar for all columns (right for loops vs fast);
    ``share=False`` gives each column its own scale and colourbar (right for dS2 vs dC2, whose
    magnitudes differ). ``show_difference`` adds a column ``arrays[0] - arrays[1]`` (signed
    scale, own colourbar) when exactly two arrays of the same shape are given.
    """
    if not isinstance(arrays, Sequence) or isinstance(arrays, (str, bytes)) or not arrays:
        raise TypeError("arrays must be a non-empty list of 2-D or 3-D arrays")
    stacks = [_stack_maps(a, f"arrays[{i}]") for i, a in enumerate(arrays)]
    titles = _check_labels(titles, len(stacks), "titles")
    k = stacks[0].shape[0]
    for i, s in enumerate(stacks):
        if s.shape[0] != k:
            raise ValueError(f"arrays[{i}] has {s.shape[0]} maps, arrays[0] has {k}; "
                             "every array needs the same number of maps")
    if show_difference:
        if len(stacks) != 2 or stacks[0].shape != stacks[1].shape:
            raise ValueError("show_difference needs exactly two arrays of the same shape")
    ncols = len(stacks) + (1 if show_difference else 0)
    target = new_figure(panel_size * ncols + 1.0, panel_size * k + (0.8 if title else 0.4) + 0.7)
    grid = target.subplots(k, ncols, squeeze=False)
    cmap = cmap or (SIGNED_CMAP if signed else ACTIVATION_CMAP)
    label = cbar_label or ("signed value" if signed else "value")
    shared_norm = _norm_for(stacks, signed) if share else None
    columns = [(s, shared_norm or _norm_for([s], signed), cmap) for s in stacks]
    if show_difference:
        diff = stacks[0] - stacks[1]
        columns.append((diff, _norm_for([diff], True), SIGNED_CMAP))
        titles = titles + [f"{titles[0]} - {titles[1]}"]
    for c, (stack, norm, col_cmap) in enumerate(columns):
        is_diff = show_difference and c == ncols - 1
        # a difference near rounding level would print as "-0.00": use scientific notation
        col_fmt = ".0e" if is_diff and 0 < norm.vmax < 5e-3 else fmt
        for r in range(k):
            ax = grid[r, c]
            image = ax.imshow(stack[r], cmap=col_cmap, norm=norm, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if annotate:
                _annotate(ax, stack[r], col_cmap, norm, col_fmt,
                          fontsize=max(5.0, 9.0 - 0.6 * max(stack[r].shape)))
            if r == 0:
                ax.set_title(titles[c], fontsize=9)
            if c == 0 and k > 1:
                ax.set_ylabel(f"{prefix}={r + start}", rotation=0, ha="right", va="center",
                              fontsize=9)
        if is_diff or not share:
            cbar = target.colorbar(image, ax=list(grid[:, c]), location="bottom", shrink=0.9)
            cbar.set_label("difference" if is_diff else label, fontsize=8)
            cbar.ax.tick_params(labelsize=7)
    if share:
        cbar = target.colorbar(grid[0, 0].images[0], ax=list(grid[:, :len(stacks)].flat),
                               location="bottom", shrink=0.9)
        cbar.set_label(label, fontsize=8)
        cbar.ax.tick_params(labelsize=7)
    if title:
        target.suptitle(title)
    return target


def confusion_matrix_plot(cm, class_names=None, *, normalize=False, title=None, cmap="Blues",
                          ax=None) -> Figure:
    """Confusion matrix ``cm`` (n, n): row = true class, column = predicted class.

    Counts (or, with ``normalize``, the fraction of each true class) are written in the cells;
    the default title gives the accuracy ``trace / total``. Returns the figure.
    """
    arr = as_float_array(cm, "cm", allow_int=True)
    check_ndim(arr, "cm", 2, "(n, n)")
    n = arr.shape[0]
    if n == 0 or arr.shape[1] != n:
        raise ValueError(f"cm must be square (n, n), got shape {arr.shape}")
    if (arr < 0).any():
        raise ValueError("cm must hold non-negative counts")
    total = float(arr.sum())
    names = (_check_labels(class_names, n, "class_names") if class_names is not None
             else [str(i) for i in range(n)])
    shown = arr
    if normalize:
        rows = arr.sum(axis=1, keepdims=True)
        shown = np.divide(arr, rows, out=np.zeros_like(arr), where=rows > 0)
    if ax is None:
        fig = new_figure(0.45 * n + 2.6, 0.45 * n + 1.6)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    norm = Normalize(vmin=0.0, vmax=max(float(shown.max()), _TINY))
    image = ax.imshow(shown, cmap=cmap, norm=norm, interpolation="nearest")
    fmt = ".2f" if normalize else (".0f" if np.all(arr == np.round(arr)) else ".1f")
    _annotate(ax, shown, cmap, norm, fmt, fontsize=8 if n <= 10 else 6)
    ax.set_xticks(np.arange(n), names)
    ax.set_yticks(np.arange(n), names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title is None:
        accuracy = float(np.trace(arr)) / total if total else 0.0
        title = f"confusion matrix (accuracy {100 * accuracy:.1f}%)"
    ax.set_title(title, fontsize=10)
    cbar = fig.colorbar(image, ax=ax, shrink=0.85)
    cbar.set_label("fraction of true class" if normalize else "count")
    return _root(fig)


_SPLITS = ("train", "val", "valid", "validation", "test")
_X_KEYS = ("epoch", "epochs", "step", "steps", "iteration", "iterations")


def _metric_family(key: str) -> tuple[str, str]:
    """Split "train_loss" into ("loss", "train"); a key without a split name is its own family."""
    for split in _SPLITS:
        if key.startswith(split + "_"):
            return key[len(split) + 1:], split
        if key.endswith("_" + split):
            return key[: -len(split) - 1], split
    return key, key


def curves_plot(history, *, title=None, xlabel=None, logy=False) -> Figure:
    """Training curves from ``history``, a dict of name -> list of numbers.

    Series are grouped by metric: ``train_loss`` and ``test_loss`` share a "loss" panel,
    ``train_acc`` and ``test_acc`` an "acc" panel, one panel per metric, side by side. A key
    named ``epoch``/``step``/``iteration`` gives the x values (otherwise 1, 2, ...).
    ``logy`` puts panels whose name contains "loss" on a log scale. Returns the figure.
    """
    if not isinstance(history, Mapping) or not history:
        raise TypeError("history must be a non-empty dict of name -> list of numbers")
    x_key = next((k for k in history if str(k).lower() in _X_KEYS), None)
    x_values = None
    if x_key is not None:
        x_values = as_float_array(history[x_key], x_key, allow_int=True)
        check_ndim(x_values, x_key, 1, "(n,)")
    families: dict[str, list[tuple[str, np.ndarray]]] = {}
    for key, values in history.items():
        if key == x_key:
            continue
        arr = as_float_array(values, f"history[{key!r}]", allow_int=True)
        check_ndim(arr, f"history[{key!r}]", 1, "(n,)")
        if arr.size == 0:
            raise ValueError(f"history[{key!r}] is empty")
        family, split = _metric_family(str(key))
        families.setdefault(family, []).append((split, arr))
    if not families:
        raise ValueError("history holds no series besides its x values")
    fig = new_figure(4.2 * len(families), 3.2)
    axes = fig.subplots(1, len(families), squeeze=False)[0]
    for ax, (family, series) in zip(axes, families.items()):
        for split, arr in series:
            use_given = x_values is not None and x_values.size == arr.size
            xs = x_values if use_given else np.arange(1, arr.size + 1)
            ax.plot(xs, arr, marker="o" if arr.size <= 30 else None, markersize=3, label=split)
        if logy and "loss" in family.lower():
            ax.set_yscale("log")
        if all(float(v).is_integer() for v in ax.get_lines()[0].get_xdata()):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel(xlabel or (x_key if x_key is not None else "epoch"))
        ax.set_ylabel(family)
        ax.set_title(family, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------------
# Notebook 03: the gradient of the fully connected layer
# --------------------------------------------------------------------------------------------


def _block_mosaic(blocks, ncols, gap=1):
    """Tile equal 2-D ``blocks`` (K, h, w) into one array, row-major, separated by NaN gaps."""
    k, h, w = blocks.shape
    nrows = math.ceil(k / ncols)
    mosaic = np.full((nrows * (h + gap) - gap, ncols * (w + gap) - gap), np.nan)
    for idx, block in enumerate(blocks):
        r, c = divmod(idx, ncols)
        mosaic[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = block
    return mosaic


def show_fc_gradient(dW_maps, dy_hat, x=None, label=None, *, output_class=None, title=None,
                     fmt=".3f") -> Figure:
    """Zhang eq. 19, ``Delta W = Delta y_hat f^T``, with each row folded back into S2's shape.

    ``dW_maps`` (10, 12, 4, 4) is ``Delta W`` (10, 192) with row ``i`` folded by F^{-1}
    (Zhang eq. 11) into the twelve 4x4 maps it multiplies: ``dW_maps[i, q]`` holds the
    gradients of the weights that connect map ``q`` of S2 to output ``i``. ``dy_hat`` (10,) is
    Zhang's ``Delta y_hat`` (eq. 18), drawn as bars; ``x`` (28, 28) and ``label`` show the digit.

    With ``output_class=None`` the right part is a 10 x 12 mosaic (rows: output classes 0..9,
    columns: maps q=1..12) on one colour scale centred on zero; with ``output_class=i`` it shows
    the twelve maps of row ``i`` only, larger and with their values written in (format ``fmt``).
    The maps are tiled into one image (white gaps between them), which draws fast. Returns the
    figure.
    """
    maps = as_float_array(dW_maps, "dW_maps", allow_int=True)
    check_ndim(maps, "dW_maps", 4, "(n_classes, n_maps, h, w), e.g. (10, 12, 4, 4)")
    n_classes, n_maps, h, w = maps.shape
    if min(maps.shape) == 0:
        raise ValueError(f"dW_maps must be non-empty, got shape {maps.shape}")
    delta = as_float_array(dy_hat, "dy_hat", allow_int=True)
    if delta.shape != (n_classes,):
        raise ValueError(f"dy_hat must have shape ({n_classes},) to match dW_maps, got {delta.shape}")
    if output_class is not None:
        if isinstance(output_class, bool) or not isinstance(output_class, (int, np.integer)) \
                or not 0 <= int(output_class) < n_classes:
            raise ValueError(f"output_class must be None or an int in 0..{n_classes - 1}, got {output_class!r}")
        output_class = int(output_class)

    single = output_class is not None
    fig = new_figure(12.5, 6.0)
    left, right = fig.subfigures(1, 2, width_ratios=[1.0, 3.2])
    if x is not None:
        top, bottom = left.subfigures(2, 1, height_ratios=[1.0, 1.0])
        show_digit(x, label=label, ax=top.add_subplot(), colorbar=False)
    else:
        bottom = left
    marks = [int(m) for m in (label, output_class) if m is not None]
    ax = bottom.add_subplot()
    show_vector(delta, title=r"$\Delta\hat{y}$ (Zhang eq. 18)", xlabel="output class i",
                ylabel=r"$\Delta\hat{y}(i)$", highlight=marks or None, ax=ax)
    if label is not None:
        ax.get_xticklabels()[int(label)].set_fontweight("bold")

    blocks = maps[output_class] if single else maps.reshape(n_classes * n_maps, h, w)
    ncols = (4 if n_maps == 12 else _default_ncols(n_maps)) if single else n_maps
    nrows = math.ceil(blocks.shape[0] / ncols)
    mosaic = _block_mosaic(blocks, ncols)
    norm = _norm_for([blocks], True)
    cmap = matplotlib.colormaps[SIGNED_CMAP].with_extremes(bad="white")
    ax = right.add_subplot()
    image = ax.imshow(mosaic, cmap=cmap, norm=norm, interpolation="nearest")
    for spine in ax.spines.values():
        spine.set_visible(False)
    centres_x = [c * (w + 1) + (w - 1) / 2 for c in range(ncols)]
    centres_y = [r * (h + 1) + (h - 1) / 2 for r in range(nrows)]
    if single:
        ax.set_xticks([])
        ax.set_yticks([])
        for q in range(blocks.shape[0]):
            r, c = divmod(q, ncols)
            ax.text(centres_x[c], r * (h + 1) - 0.6, f"q={q + 1}", ha="center", va="bottom", fontsize=9)
            for (u, v), value in np.ndenumerate(blocks[q]):
                ax.text(c * (w + 1) + v, r * (h + 1) + u, format(value, fmt), ha="center",
                        va="center", fontsize=7, color=_text_colour(SIGNED_CMAP, norm, value))
        ax.set_title(f"row i={output_class} of " + r"$\Delta W$ folded by $F^{-1}$: "
                     + r"$\Delta\hat{y}$" + f"({output_class}) = {delta[output_class]:+.4f}"
                     + f" times the {n_maps} maps of S2", fontsize=11, pad=18)
    else:
        ax.set_xticks(centres_x, [f"q={q + 1}" for q in range(n_maps)], fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(centres_y, [f"i={i}" for i in range(n_classes)], fontsize=9)
        ax.tick_params(length=0)
        ax.set_xlabel(f"map q of S2 ({h}x{w} each)", fontsize=9)
        ax.set_ylabel("output class i (row of " + r"$\Delta W$)", fontsize=9)
        ax.set_title(r"$\Delta W$: each row folded by $F^{-1}$ into the " + f"{n_maps} maps of S2 it multiplies",
                     fontsize=11)
    cbar = right.colorbar(image, ax=ax, shrink=0.85, aspect=25)
    cbar.set_label(r"$\Delta W(i, j)$")
    cbar.ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


# --------------------------------------------------------------------------------------------
# Notebook 04: the flattening order, routes through pooling, the error before and after pooling
# --------------------------------------------------------------------------------------------


def flatten_index_maps(n_maps: int = 12, side: int = 4, order: str = "column") -> np.ndarray:
    """Integer maps ``(n_maps, side, side)``: entry ``[q, i, j]`` is the 0-based index ``n`` of
    the flat vector that map ``q``'s cell ``(i, j)`` becomes.

    ``order="column"`` is Zhang's column scan (eq. 10): ``n = q*side^2 + j*side + i``;
    ``order="row"`` is numpy's ``reshape`` (row scan): ``n = q*side^2 + i*side + j``.
    """
    if order not in ("column", "row"):
        raise ValueError(f"order must be 'column' or 'row', got {order!r}")
    for value, name in ((n_maps, "n_maps"), (side, "side")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    idx = np.arange(n_maps * side * side).reshape(n_maps, side, side)
    return idx.transpose(0, 2, 1) if order == "column" else idx


def show_scan_order(n_maps: int = 12, side: int = 4, order: str = "column", *, path_maps: int = 2,
                    ncols=None, title=None, panel_size: float = 1.55) -> Figure:
    """Where each entry of the flat vector ``f`` sits in the maps (Zhang eqs. 10 and 31).

    Draws ``n_maps`` maps of ``side`` x ``side`` cells; each cell shows the 0-based index ``n`` of
    ``f`` it is read into (see :func:`flatten_index_maps`), and its colour encodes ``n``. Arrows
    follow the scan through the first ``path_maps`` maps. Panels are titled ``q=1..n_maps``.
    Returns the figure (``n_maps`` image axes plus one colourbar axes).
    """
    idx = flatten_index_maps(n_maps, side, order)
    total = n_maps * side * side
    fig = show_maps(idx, title=title, ncols=ncols if ncols is not None else _default_ncols(n_maps),
                    prefix="q", cmap="YlGnBu", vmin=0, vmax=total - 1,
                    cbar_label=f"index n of f (0-based, 0..{total - 1})", annotate=True,
                    fmt=".0f", panel_size=panel_size)
    image_axes = [ax for ax in fig.axes if ax.images][:n_maps]
    for q, ax in enumerate(image_axes[:max(0, int(path_maps))]):
        flat = idx[q].ravel()
        cells = [divmod(int(k), side) for k in np.argsort(flat)]  # (row, col) in scan order
        for (r0, c0), (r1, c1) in zip(cells[:-1], cells[1:]):
            ax.annotate("", xy=(c1, r1), xytext=(c0, r0),
                        arrowprops=dict(arrowstyle="->", color="C3", lw=0.9, alpha=0.85,
                                        shrinkA=6, shrinkB=6))
    return fig


def _pool_window_origins(h: int, w: int, size: int, stride: int):
    ho, wo = (h - size) // stride + 1, (w - size) // stride + 1
    return [(i * stride, j * stride) for i in range(ho) for j in range(wo)], (ho, wo)


def show_pool_routing(x, dout, size: int = 2, stride=None, mode: str = "max", *, title=None,
                      fmt: str = ".0f", panel_size: float = 2.4) -> Figure:
    """Four panels for one pooling layer: its input ``x`` (H, W) with the windows drawn, the
    pooled output ``S``, the error ``dout`` (Ho, Wo) arriving at ``S``, and the error ``dx``
    (H, W) it sends back (seed 002 BP2, seed 004 slide 2.1; Zhang eq. 32 for ``mode="avg"``).

    Each window has its own outline colour; the same colour frames its output cell. For
    ``mode="max"`` the cell that wins each window (the first maximum in row-major order, as in
    :mod:`helpers.pooling`) is marked with a thick frame of that colour. Overlapping windows
    (``stride < size``) are drawn slightly inset so that every outline stays visible.
    Values are written in the cells with format ``fmt``. Returns the figure.
    """
    from helpers import pooling  # local import: plots does not otherwise depend on pooling
    from matplotlib.patches import Rectangle

    arr = as_float_array(x, "x", allow_int=True)
    check_ndim(arr, "x", 2, "(H, W)")
    err = as_float_array(dout, "dout", allow_int=True)
    stride = size if stride is None else stride
    S, cache = pooling.pool_forward(arr, size, stride, mode)
    if err.shape != S.shape:
        raise ValueError(f"dout must have the pooled shape {S.shape}, got {err.shape}")
    dx = pooling.pool_backward(err, cache)
    origins, (ho, wo) = _pool_window_origins(*arr.shape, size, stride)
    colours = [f"C{k % 10}" for k in range(len(origins))]

    fig = new_figure(4 * panel_size + 1.4, panel_size + (0.9 if title else 0.6))
    axes = fig.subplots(1, 4)
    lo, hi = min(arr.min(), S.min()), max(arr.max(), S.max())
    # light greys so the written values stay readable (hi * 1.8 would fall below lo for negative data)
    plain = Normalize(vmin=lo - 1e-9, vmax=(hi * 1.8 if hi >= 0 else hi + 0.8 * (hi - lo)) + 1e-9)
    signed = _norm_for([err, dx], True)
    panels = [(axes[0], arr, "Greys", plain, f"input of pooling\n({arr.shape[0]}x{arr.shape[1]})"),
              (axes[1], S, "Greys", plain, f"{mode}-pooled output\n({ho}x{wo})"),
              (axes[2], err, SIGNED_CMAP, signed, "error arriving\nat the output"),
              (axes[3], dx, SIGNED_CMAP, signed, "error sent back\nto the input")]
    for ax, m, cmap, norm, name in panels:
        image = ax.imshow(m, cmap=cmap, norm=norm, interpolation="nearest")
        _annotate(ax, m, cmap, norm, fmt, fontsize=max(6.0, 11.0 - 0.5 * max(m.shape)))
        ax.set_xticks(range(m.shape[1]))
        ax.set_yticks(range(m.shape[0]))
        ax.tick_params(labelsize=7)
        ax.set_xlabel("column (0-based)", fontsize=8)
        ax.set_title(name, fontsize=9)
    axes[0].set_ylabel("row (0-based)", fontsize=8)
    overlap = stride < size
    for k, (r0, c0) in enumerate(origins):
        inset = 0.06 + (0.08 * (k % 3) if overlap else 0.0)
        axes[0].add_patch(Rectangle((c0 - 0.5 + inset, r0 - 0.5 + inset), size - 2 * inset,
                                    size - 2 * inset, fill=False, edgecolor=colours[k], lw=1.6))
        i, j = divmod(k, wo)
        for ax in (axes[1], axes[2]):
            ax.add_patch(Rectangle((j - 0.44, i - 0.44), 0.88, 0.88, fill=False,
                                   edgecolor=colours[k], lw=1.6))
        if mode == "max":
            u, v = divmod(int(cache["argmax"][i, j]), size)
            for ax in (axes[0], axes[3]):
                ax.add_patch(Rectangle((c0 + v - 0.4, r0 + u - 0.4), 0.8, 0.8, fill=False,
                                       edgecolor=colours[k], lw=3.0))
    cbar = fig.colorbar(image, ax=axes[3], shrink=0.8)
    cbar.set_label("error (signed)", fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    fig.suptitle(title or f"{mode} pooling, window {size}x{size}, stride {stride}", fontsize=11)
    return fig


def show_error_upsampling(dS, dC, x=None, label=None, *, mode: str = "avg", share: bool = True,
                          title=None, ncols: int = 4) -> Figure:
    """The error on a pooled layer next to the error it becomes on the layer before pooling.

    ``dS`` (K, h, w) is e.g. Zhang's Delta S2 (12, 4, 4) = F^{-1}(Delta f) (eq. 31) and ``dC``
    (K, 2h, 2w) the upsampled Delta C2 (12, 8, 8) (eq. 32 for ``mode="avg"``, the max-pool routing
    of seed 002 for ``mode="max"``). ``x`` (28, 28), if given, is drawn on the left with
    ``label``. With ``share`` both grids use one symmetric colour scale, so the 1/4 of average
    pooling shows as paler colours; otherwise each grid has its own. Returns the figure.
    """
    s = _stack_maps(dS, "dS")
    c = _stack_maps(dC, "dC")
    if s.shape[0] != c.shape[0]:
        raise ValueError(f"dS has {s.shape[0]} maps but dC has {c.shape[0]}; they must match")
    k = s.shape[0]
    ncols = min(int(ncols), k)
    nrows = math.ceil(k / ncols)
    panel = 1.05
    width = 2 * (panel * ncols + 1.1) + (2.3 if x is not None else 0.0)
    fig = new_figure(width, panel * nrows + 1.3)
    ratios = ([2.3] if x is not None else []) + [panel * ncols + 1.1] * 2
    subs = fig.subfigures(1, len(ratios), width_ratios=ratios)
    if x is not None:
        show_digit(x, label=label, ax=subs[0].add_subplot(), colorbar=False)
        subs = subs[1:]
    vmax = symmetric_limits([s, c])[1] if share else None
    scale = " (same colour scale)" if share else ""
    show_maps(s, title=f"error on the pooled maps ({k} of {s.shape[1]}x{s.shape[2]})",
              signed=True, ncols=ncols, prefix="q", vmax=vmax, panel_size=panel,
              cbar_label="dL/dS" + scale, fig=subs[0])
    show_maps(c, title=f"after {mode} upsampling ({k} of {c.shape[1]}x{c.shape[2]})",
              signed=True, ncols=ncols, prefix="q", vmax=vmax, panel_size=panel,
              cbar_label="dL/dC" + scale, fig=subs[1])
    if title:
        fig.suptitle(title)
    return fig


__all__ += ["flatten_index_maps", "show_scan_order", "show_pool_routing", "show_error_upsampling"]


# --------------------------------------------------------------------------------------------
# Notebook 01 (convolution and notation) and notebook 02 (forward pass)
# --------------------------------------------------------------------------------------------

_OPERATIONS = ("cross-correlation", "convolution")


def show_conv_example(x, k, out, operation="cross-correlation", *, label=None,
                      title=None) -> Figure:
    """Input ``x`` (H, W), kernel ``k`` (kh, kw), the kernel as it is slid, feature map ``out``.

    ``operation`` is ``"cross-correlation"`` (seed 002, seed 004's worked examples: the window of
    ``x`` is multiplied entry by entry with ``k``) or ``"convolution"`` (Zhang eq. 5: the window is
    multiplied with ``rot180(k)``). The two kernel panels share one signed colour scale and show
    their values; ``out`` is drawn on a diverging scale centred on zero. Returns the figure.
    """
    img = as_float_array(x, "x", allow_int=True)
    check_ndim(img, "x", 2, "(H, W)")
    ker = as_float_array(k, "k", allow_int=True)
    check_ndim(ker, "k", 2, "(kh, kw)")
    res = as_float_array(out, "out", allow_int=True)
    check_ndim(res, "out", 2, "(Ho, Wo)")
    if operation not in _OPERATIONS:
        raise ValueError(f"operation must be one of {_OPERATIONS}, got {operation!r}")
    slid = ker if operation == "cross-correlation" else ker[::-1, ::-1]
    fig = new_figure(13.0, 3.6)
    axes = fig.subplots(1, 4, width_ratios=[1.3, 0.9, 0.9, 1.3])
    show_digit(img, label=label, ax=axes[0], colorbar=True)
    knorm = signed_norm(ker)
    kernel_titles = ("kernel k as typed", "slid over x: " + ("k" if slid is ker else "rot180(k)"))
    for ax, m, name in zip(axes[1:3], (ker, slid), kernel_titles):
        image = ax.imshow(m, cmap=SIGNED_CMAP, norm=knorm, interpolation="nearest")
        _annotate(ax, m, SIGNED_CMAP, knorm, ".2f", fontsize=8 if m.shape[0] <= 3 else 6.5)
        ax.set_xticks(range(m.shape[1]))
        ax.set_yticks(range(m.shape[0]))
        ax.tick_params(labelsize=7)
        ax.set_xlabel("column b (0-based)", fontsize=8)
        ax.set_ylabel("row a (0-based)", fontsize=8)
        ax.set_title(name, fontsize=10)
    cbar = fig.colorbar(image, ax=list(axes[1:3]), shrink=0.8)
    cbar.set_label("weight")
    onorm = signed_norm(res)
    image = axes[3].imshow(res, cmap=SIGNED_CMAP, norm=onorm, interpolation="nearest")
    axes[3].set_xticks([])
    axes[3].set_yticks([])
    axes[3].set_title(f"{operation}: {res.shape[0]}x{res.shape[1]} map", fontsize=10)
    cbar = fig.colorbar(image, ax=axes[3], shrink=0.85)
    cbar.set_label("response (0 = white)")
    if title:
        fig.suptitle(title)
    return fig


def show_kernel_placement(placements, n: int, *, out_index=None, title=None) -> Figure:
    """Which input pixel each kernel entry multiplies, for one output entry, one panel per rule.

    ``placements`` maps a panel title to an integer array (f, f, 2): ``placements[t][a, b]`` is
    the (row, col) of the input pixel multiplied by kernel entry ``k[a, b]`` (0-based). The
    first ``n`` x ``n`` input pixels are drawn as a grid; pixels that a tap lands on are shaded
    and labelled ``ab``; the window's centre (Zhang's ``u = v = 0``) is circled.
    ``out_index`` (0-based (i, j)) only goes into the titles. Returns the figure.
    """
    if not isinstance(placements, Mapping) or not placements:
        raise TypeError("placements must be a non-empty dict: title -> (f, f, 2) int array")
    from matplotlib.patches import Circle, Rectangle

    n = int(n)
    fig = new_figure(4.6 * len(placements) + 0.4, 4.9)
    axes = fig.subplots(1, len(placements), squeeze=False)[0]
    for ax, (name, place) in zip(axes, placements.items()):
        place = np.asarray(place)
        if place.ndim != 3 or place.shape[2] != 2 or place.shape[0] != place.shape[1]:
            raise ValueError(f"placements[{name!r}] must have shape (f, f, 2), got {place.shape}")
        if place.min() < 0 or place.max() >= n:
            raise ValueError(f"placements[{name!r}] points outside the {n}x{n} grid drawn")
        f = place.shape[0]
        shade = np.zeros((n, n))
        for a in range(f):
            for b in range(f):
                r, c = place[a, b]
                shade[r, c] = 1.0
                ax.text(c, r, f"{a}{b}", ha="center", va="center", fontsize=7,
                        color="white" if (a, b) == (0, 0) else "black",
                        fontweight="bold" if (a, b) == (0, 0) else "normal")
        ax.imshow(shade, cmap="Blues", vmin=-0.4, vmax=1.6, interpolation="nearest")
        tap00 = place[0, 0]
        ax.add_patch(Rectangle((tap00[1] - 0.5, tap00[0] - 0.5), 1, 1,
                                                  fill=True, color="C3", alpha=0.85))
        ax.text(tap00[1], tap00[0], "00", ha="center", va="center", fontsize=7,
                color="white", fontweight="bold")
        centre = place[f // 2, f // 2]
        ax.add_patch(Circle((centre[1], centre[0]), 0.45, fill=False,
                                               edgecolor="black", linewidth=1.2))
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.tick_params(labelsize=7)
        ax.set_xticks(np.arange(-0.5, n, 1.0), minor=True)
        ax.set_yticks(np.arange(-0.5, n, 1.0), minor=True)
        ax.grid(which="minor", color="0.75", linewidth=0.5)
        ax.tick_params(which="minor", length=0)
        ax.set_xlabel("input column (0-based)", fontsize=8)
        ax.set_ylabel("input row (0-based)", fontsize=8)
        ax.set_title(name, fontsize=10)
    if title is None:
        where = "" if out_index is None else f" ({int(out_index[0])}, {int(out_index[1])}) (0-based)"
        title = (f"input pixels read by output{where}; label ab = kernel entry k[a, b], "
                 "red = k[0, 0],\ncircle = the window's centre (Zhang's u = v = 0)")
    fig.suptitle(title, fontsize=10)
    return fig


def show_init_histograms(params, bounds, *, titles=None, bins=40) -> Figure:
    """Histograms of initial weights against the bounds of their uniform distribution.

    ``params`` maps a name to an array (e.g. ``k1``, ``k2``, ``W`` of the seed network);
    ``bounds`` maps the same names to ``a`` for ``U(-a, a)`` (Zhang eqs. 1-3). Each panel shows
    the density histogram, dashed lines at ``+-a`` and the flat density ``1 / (2a)`` that the
    histogram should follow. ``titles`` optionally maps names to panel titles.
    """
    if not isinstance(bounds, Mapping) or not bounds:
        raise TypeError("bounds must be a non-empty dict: name -> bound a of U(-a, a)")
    names = list(bounds)
    missing = [name for name in names if name not in params]
    if missing:
        raise KeyError(f"params is missing {missing}")
    fig = new_figure(4.0 * len(names), 3.2)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        values = as_float_array(params[name], f"params[{name!r}]").ravel()
        a = float(bounds[name])
        if a <= 0:
            raise ValueError(f"bounds[{name!r}] must be > 0, got {a}")
        # bin edges fall on -a and +a, with two empty-if-correct bins outside on each side
        n_bins = int(np.clip(values.size // 40, 10, int(bins)))
        width = 2.0 * a / n_bins
        edges = -a + width * np.arange(-2, n_bins + 3)
        ax.hist(values, bins=edges, density=True, color="C0", alpha=0.8,
                label=f"{values.size} values, {n_bins} bins")
        ax.axhline(1.0 / (2.0 * a), color="black", linestyle=":", linewidth=1.2,
                   label="U(-a, a) density")
        for edge in (-a, a):
            ax.axvline(edge, color="C3", linestyle="--", linewidth=1.2)
        ax.set_xlabel("initial value")
        ax.set_ylabel("density")
        label = titles.get(name, name) if isinstance(titles, Mapping) else name
        ax.set_title(f"{label}: a = {a:.4f}", fontsize=10)
        ax.set_ylim(0, 1.45 * ax.get_ylim()[1])
        ax.legend(fontsize=7, loc="upper center")
    return fig


# --------------------------------------------------------------------------------------------
# Notebook 05: the gradient of a convolution kernel, term by term
# --------------------------------------------------------------------------------------------


def kernel_gradient_terms(input_map, error_map, convention: str = "convolution"):
    """The pieces of a kernel gradient: ``(patches, products, dk)``.

    For a valid convolution ``z = input * k`` (Zhang eqs. 5 and 8, ``convention="convolution"``)
    kernel tap ``(a, b)`` (0-based, Zhang's ``u = a - c``, ``c = kh // 2``) multiplies the input
    block ``patches[a, b] = input[kh-1-a : kh-1-a+Ho, kw-1-b : kw-1-b+Wo]`` at every output
    position, so (Zhang eqs. 36 and 56, with the +c offset written out)::

        dk[a, b] = sum_{i,j} error[i, j] * input[i + kh-1-a, j + kw-1-b]
                 = sum_{i,j} products[a, b, i, j]

    For cross-correlation (``convention="correlation"``) tap ``(a, b)`` reads
    ``input[a : a+Ho, b : b+Wo]`` instead. Shapes: ``input_map (H, W)``, ``error_map (Ho, Wo)``
    -> ``patches, products (kh, kw, Ho, Wo)`` and ``dk (kh, kw)`` with ``kh = H - Ho + 1``.
    """
    inp = as_float_array(input_map, "input_map", allow_int=True)
    err = as_float_array(error_map, "error_map", allow_int=True)
    check_ndim(inp, "input_map", 2, "(H, W)")
    check_ndim(err, "error_map", 2, "(Ho, Wo)")
    if convention not in ("convolution", "correlation"):
        raise ValueError(f"convention must be 'convolution' or 'correlation', got {convention!r}")
    kh, kw = inp.shape[0] - err.shape[0] + 1, inp.shape[1] - err.shape[1] + 1
    if kh < 1 or kw < 1:
        raise ValueError(f"error_map {err.shape} must not be larger than input_map {inp.shape}")
    ho, wo = err.shape
    patches = np.empty((kh, kw, ho, wo))
    for a in range(kh):
        for b in range(kw):
            r, c = (kh - 1 - a, kw - 1 - b) if convention == "convolution" else (a, b)
            patches[a, b] = inp[r:r + ho, c:c + wo]
    products = patches * err
    return patches, products, products.sum(axis=(2, 3))


def show_kernel_gradient_terms(input_map, error_map, *, show="patches", convention="convolution",
                               input_name="S1_p", error_name=r"\Delta C^2_{q,\sigma}",
                               grad_name=r"\Delta k^2_{p,q}", input_cmap=None,
                               input_label="activation", title=None, fmt=".2e") -> Figure:
    """One kernel gradient drawn as the sum it is (Zhang eqs. 36/39 and 56/58).

    Left: the layer's input map ``input_map`` (H, W) with the block that kernel tap
    ``(u, v) = (-c, -c)`` reads outlined, and the error before the sigmoid ``error_map``
    (Ho, Wo). Middle: a kh x kw grid, one panel per kernel tap ``(u, v)`` (Zhang's centred
    indices, -c..c): the input patch that tap touches (``show="patches"``) or that patch times
    the error map (``show="products"``), titled with the sum of the product. Right: the kernel
    gradient, whose entry ``(u, v)`` is that sum, with values written in (format ``fmt``).
    Names are LaTeX without dollars; ``input_label`` labels the input's colourbar.
    Returns the figure. See :func:`kernel_gradient_terms`.
    """
    from matplotlib.patches import Rectangle

    if show not in ("patches", "products"):
        raise ValueError(f"show must be 'patches' or 'products', got {show!r}")
    patches, products, dk = kernel_gradient_terms(input_map, error_map, convention)
    inp = np.asarray(input_map, dtype=float)
    err = np.asarray(error_map, dtype=float)
    kh, kw, ho, wo = patches.shape
    ch, cw = kh // 2, kw // 2

    fig = new_figure(14.0, 6.4)
    left, middle, right = fig.subfigures(1, 3, width_ratios=[1.05, 2.3, 1.25])

    ax_in, ax_err = left.subplots(2, 1)
    cmap_in = input_cmap or ACTIVATION_CMAP
    im = ax_in.imshow(inp, cmap=cmap_in, interpolation="nearest")
    r0, c0 = (kh - 1, kw - 1) if convention == "convolution" else (0, 0)
    ax_in.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), wo, ho, fill=False,
                                                 edgecolor="crimson", linewidth=1.5))
    ax_in.set_title(f"input ${input_name}$ ({inp.shape[0]}x{inp.shape[1]})\n"
                    f"red box: read by tap ({-ch},{-cw})", fontsize=9)
    ax_in.set_xlabel("column (0-based)", fontsize=8)
    ax_in.set_ylabel("row (0-based)", fontsize=8)
    ax_in.tick_params(labelsize=7)
    cb = left.colorbar(im, ax=ax_in, shrink=0.85)
    cb.set_label(input_label, fontsize=8)
    cb.ax.tick_params(labelsize=7)
    norm_err = _norm_for([err], True)
    im = ax_err.imshow(err, cmap=SIGNED_CMAP, norm=norm_err, interpolation="nearest")
    ax_err.set_title(f"error ${error_name}$ ({ho}x{wo})", fontsize=9)
    ax_err.set_xlabel("column j (0-based)", fontsize=8)
    ax_err.set_ylabel("row i (0-based)", fontsize=8)
    ax_err.tick_params(labelsize=7)
    cb = left.colorbar(im, ax=ax_err, shrink=0.85)
    cb.set_label("error", fontsize=8)
    cb.ax.tick_params(labelsize=7)

    grid = products if show == "products" else patches
    signed = show == "products"
    norm = _norm_for([grid], signed)
    cmap = SIGNED_CMAP if signed else cmap_in
    # one image for the kh x kw panels (a grid of 25 axes takes seconds to draw)
    gap = max(2, round(0.35 * ho))
    mosaic = _block_mosaic(grid.reshape(kh * kw, ho, wo), kw, gap=gap)
    ax_m = middle.add_subplot()
    im = ax_m.imshow(mosaic, cmap=matplotlib.colormaps[cmap].with_extremes(bad="white"), norm=norm,
                     interpolation="nearest")
    ax_m.set_ylim(mosaic.shape[0] - 0.5, -gap - 0.5)
    ax_m.set_xticks([])
    ax_m.set_yticks([])
    for spine in ax_m.spines.values():
        spine.set_visible(False)
    for a in range(kh):
        for b in range(kw):
            ax_m.text(b * (wo + gap) + (wo - 1) / 2, a * (ho + gap) - 0.6,
                      f"({a - ch},{b - cw}): {dk[a, b]:{fmt}}", ha="center", va="bottom", fontsize=7)
            ax_m.add_patch(Rectangle((b * (wo + gap) - 0.5, a * (ho + gap) - 0.5), wo, ho, fill=False,
                                     edgecolor="0.5", linewidth=0.6))
    ax_m.set_title("patch x error for each tap (u,v); label: (u,v): its sum" if signed
                   else "input patch read by each tap (u,v); label: (u,v): sum of patch x error", fontsize=9)
    cb = middle.colorbar(im, ax=ax_m, shrink=0.85, aspect=30)
    cb.set_label("patch x error" if signed else "input value", fontsize=8)
    cb.ax.tick_params(labelsize=7)

    ax_k = right.subplots()
    norm_k = _norm_for([dk], True)
    im = ax_k.imshow(dk, cmap=SIGNED_CMAP, norm=norm_k, interpolation="nearest")
    _annotate(ax_k, dk, SIGNED_CMAP, norm_k, fmt, fontsize=6.5 if kw > 3 else 9)
    ax_k.set_xticks(range(kw), [str(v - cw) for v in range(kw)])
    ax_k.set_yticks(range(kh), [str(u - ch) for u in range(kh)])
    ax_k.set_xlabel("v (Zhang's centred index)", fontsize=8)
    ax_k.set_ylabel("u", fontsize=8)
    ax_k.set_title(f"kernel gradient ${grad_name}(u,v)$", fontsize=9)
    cb = right.colorbar(im, ax=ax_k, shrink=0.7, location="bottom")
    cb.set_label("gradient", fontsize=8)
    cb.ax.tick_params(labelsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def show_kernel_mosaic(k, title=None, cbar_label="weight", *, row_prefix="p", col_prefix="q",
                       start=1, signed=True) -> Figure:
    """Kernels ``k`` (P, Q, h, w), e.g. ``k2`` or its gradient ``dk2`` (6, 12, 5, 5), as one
    P x Q mosaic: row p, column q holds ``k[p, q]``, white gaps between kernels.

    Same picture as :func:`show_kernels` for 4-D input, drawn as a single image (72 separate axes
    take seconds to draw). ``signed`` (default) uses :data:`SIGNED_CMAP` with limits symmetric about
    zero. Rows and columns are labelled with 1-based indices (``start=0`` for numpy's).
    """
    arr = as_float_array(k, "k", allow_int=True)
    check_ndim(arr, "k", 4, "(P, Q, h, w)")
    if min(arr.shape) == 0:
        raise ValueError(f"k must be non-empty, got shape {arr.shape}")
    p_count, q_count, h, w = arr.shape
    fig = new_figure(0.8 * q_count + 1.6, 0.8 * p_count + (0.9 if title else 0.6))
    ax = fig.add_subplot()
    cmap = SIGNED_CMAP if signed else ACTIVATION_CMAP
    norm = _norm_for([arr], signed)
    mosaic = _block_mosaic(arr.reshape(p_count * q_count, h, w), q_count)
    image = ax.imshow(mosaic, cmap=matplotlib.colormaps[cmap].with_extremes(bad="white"), norm=norm,
                      interpolation="nearest")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks([c * (w + 1) + (w - 1) / 2 for c in range(q_count)],
                  [f"{col_prefix}={c + start}" for c in range(q_count)], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks([r * (h + 1) + (h - 1) / 2 for r in range(p_count)],
                  [f"{row_prefix}={r + start}" for r in range(p_count)], fontsize=8)
    ax.tick_params(length=0)
    cbar = fig.colorbar(image, ax=ax, shrink=0.85, aspect=25)
    cbar.set_label(cbar_label)
    cbar.ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title)
    return fig


# --------------------------------------------------------------------------------------------
# Notebooks 07 and 08: the networks of seeds 002 and 003
# --------------------------------------------------------------------------------------------


def _window_winners(a1, size: int = 2):
    """Row and column (0-based) of the first maximum of every ``size`` x ``size`` window of
    ``a1`` (H, W), the entry that max pooling routes the error to (helpers.pooling's rule)."""
    h, w = a1.shape[0] // size * size, a1.shape[1] // size * size
    win = a1[:h, :w].reshape(h // size, size, w // size, size).transpose(0, 2, 1, 3)
    arg = win.reshape(h // size, w // size, size * size).argmax(axis=2)
    rows = np.arange(h // size)[:, None] * size + arg // size
    cols = np.arange(w // size)[None, :] * size + arg % size
    return rows.ravel(), cols.ravel()


def show_maxpool_backward(x, a1, a2, delta1, w1, dw1, *, label=None, title=None) -> Figure:
    """Seed 002's network for one digit: what goes forward and what comes back.

    Top row: the input ``x`` (28, 28), the conv layer's activations ``a1`` (24, 24) with the
    entry each 2x2 window passes on marked by a dot (the first maximum), and the pooled map
    ``a2`` (12, 12). Bottom row: the shared kernel ``w1`` (5, 5), the error ``delta1`` (24, 24)
    of the modified BP2 (non-zero only at the dots) and the kernel gradient ``dw1`` (5, 5) of the
    shared-weight BP4. Signed panels use :data:`SIGNED_CMAP` centred on zero.
    """
    arrays = {}
    for name, arr, shape in (("x", x, (28, 28)), ("a1", a1, (24, 24)), ("a2", a2, (12, 12)),
                             ("delta1", delta1, (24, 24)), ("w1", w1, (5, 5)), ("dw1", dw1, (5, 5))):
        arr = as_float_array(arr, name, allow_int=True)
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        arrays[name] = arr
    fig = new_figure(12.5, 7.6)
    axes = fig.subplots(2, 3)
    show_digit(arrays["x"], label=label, ax=axes[0, 0], title=f"input $a^0$ (28x28)"
               + (f", label {label}" if label is not None else ""))
    panels = [
        (axes[0, 1], "a1", "conv layer $a^1 = \\sigma(z^1)$ (24x24)\ndots: the entry each 2x2 window passes on",
         ACTIVATION_CMAP, False, "activation"),
        (axes[0, 2], "a2", "max-pooled $a^2$ (12x12)", ACTIVATION_CMAP, False, "activation"),
        (axes[1, 0], "w1", "shared kernel $w^1$ (5x5)", SIGNED_CMAP, True, "weight"),
        (axes[1, 1], "delta1", "error $\\delta^1 = \\partial C/\\partial z^1$ (24x24),\nzero except at the dots",
         SIGNED_CMAP, True, "error"),
        (axes[1, 2], "dw1", "shared-weight gradient $\\partial C/\\partial w^1$ (5x5)", SIGNED_CMAP, True,
         "gradient"),
    ]
    for ax, name, panel_title, cmap, signed, cbar_label in panels:
        arr = arrays[name]
        norm = _norm_for([arr], signed, *((0.0, 1.0) if name in ("a1", "a2") else (None, None)))
        image = ax.imshow(arr, cmap=cmap, norm=norm, interpolation="nearest")
        ax.set_title(panel_title, fontsize=9)
        ax.set_xlabel("column (0-based)", fontsize=8)
        ax.set_ylabel("row (0-based)", fontsize=8)
        ax.tick_params(labelsize=7)
        if arr.shape == (5, 5):
            _annotate(ax, arr, cmap, norm, ".2f" if name == "w1" else ".1e", fontsize=6)
        cbar = fig.colorbar(image, ax=ax, shrink=0.8)
        cbar.set_label(cbar_label, fontsize=8)
        cbar.ax.tick_params(labelsize=7)
    rows, cols = _window_winners(arrays["a1"])
    for ax in (axes[0, 1], axes[1, 1]):
        ax.plot(cols, rows, "o", color="white" if ax is axes[0, 1] else "0.3", markersize=1.6,
                markeredgewidth=0)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def show_layer_errors(values, errors, *, value_name="activation", error_name="error", label=None,
                      prefix="m", title=None) -> Figure:
    """One layer of a network seen both ways: its values (top) and its error (bottom).

    ``values`` and ``errors`` have the same shape: K maps (K, H, W) drawn as two grids (values in
    :data:`ACTIVATION_CMAP`, errors in :data:`SIGNED_CMAP` centred on zero, panels ``m=1..K``),
    or one vector (n,) drawn as two bar charts (bars of class ``label`` highlighted when n = 10).
    ``value_name`` and ``error_name`` label the rows (LaTeX without dollars is fine).
    """
    vals = as_float_array(values, "values", allow_int=True)
    errs = as_float_array(errors, "errors", allow_int=True)
    if vals.shape != errs.shape:
        raise ValueError(f"errors must have the shape of values {vals.shape}, got {errs.shape}")
    check_ndim(vals, "values", (1, 3), "(K, H, W) maps or (n,) a vector")
    if vals.ndim == 1:
        n = vals.size
        fig = new_figure(min(11.0, max(5.0, 0.16 * n + 3.0)), 5.2)
        top, bottom = fig.subplots(2, 1)
        marks = None if label is None or n != 10 else int(label)
        show_vector(vals, title=f"${value_name}$ ({n} values)", xlabel="index (0-based)",
                    ylabel="value", highlight=marks, ax=top)
        show_vector(errs, title=f"${error_name}$", xlabel="index (0-based)", ylabel="error",
                    highlight=marks, ax=bottom)
    else:
        k, h, w = vals.shape
        ncols = k if k <= 6 else math.ceil(k / 2)
        nrows = math.ceil(k / ncols)
        size = 1.7 if h >= 12 else 1.4
        fig = new_figure(size * ncols + 1.4, 2 * (size * nrows + 0.5) + 0.5)
        top, bottom = fig.subfigures(2, 1)
        show_maps(vals, title=f"${value_name}$ ({k} maps of {h}x{w})", ncols=ncols, prefix=prefix,
                  cbar_label="value", panel_size=size, fig=top)
        show_maps(errs, title=f"${error_name}$", signed=True, ncols=ncols, prefix=prefix,
                  cbar_label="error", panel_size=size, fig=bottom)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def show_gradient_sizes(sizes, *, title=None, ylabel="RMS of the gradient entries") -> Figure:
    """Grouped bars on a log scale: ``sizes[run][tensor]`` is one positive number per tensor
    (e.g. the root mean square of a gradient), one colour per run, tensors in the order of the
    first run. Used to compare how large the gradients of each layer are under two choices."""
    if not isinstance(sizes, Mapping) or not sizes:
        raise TypeError("sizes must be a non-empty dict: run name -> {tensor name: value}")
    runs = list(sizes)
    tensors = list(sizes[runs[0]])
    for run in runs:
        if list(sizes[run]) != tensors:
            raise ValueError(f"sizes[{run!r}] must have the tensors {tensors} in this order")
        if any(not float(v) > 0 for v in sizes[run].values()):
            raise ValueError(f"sizes[{run!r}] must hold positive numbers (log scale)")
    fig = new_figure(min(10.0, max(5.0, 0.5 * len(tensors) * len(runs) + 2.0)), 3.4)
    ax = fig.add_subplot()
    width = 0.8 / len(runs)
    for r, run in enumerate(runs):
        xs = np.arange(len(tensors)) + (r - (len(runs) - 1) / 2) * width
        ax.bar(xs, [float(sizes[run][t]) for t in tensors], width=width, label=run, color=f"C{r}")
    ax.set_yscale("log")
    ax.set_xticks(np.arange(len(tensors)), tensors)
    ax.set_xlabel("parameter tensor (input side left, output side right)")
    ax.set_ylabel(ylabel)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def show_runs(runs, *, smooth: int = 40, title=None) -> Figure:
    """Training runs side by side: the cost of every mini-batch (a moving average over ``smooth``
    steps) and the held-out accuracy after every epoch.

    ``runs`` maps a name to a history dict with ``step_loss`` (one value per step), ``epoch`` and
    ``val_acc`` (fractions, index 0 = before training), as returned by :func:`helpers.train.sgd_loop`
    and :func:`helpers.train.train`.
    """
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError("runs must be a non-empty dict: name -> history")
    smooth = int(smooth)
    if smooth < 1:
        raise ValueError(f"smooth must be >= 1, got {smooth}")
    fig = new_figure(11.0, 3.6)
    ax_loss, ax_acc = fig.subplots(1, 2)
    for r, (name, history) in enumerate(runs.items()):
        missing = [k for k in ("step_loss", "epoch", "val_acc") if k not in history]
        if missing:
            raise KeyError(f"runs[{name!r}] is missing {missing}")
        steps = as_float_array(history["step_loss"], f"runs[{name!r}]['step_loss']")
        window = min(smooth, steps.size)
        avg = np.convolve(steps, np.ones(window) / window, mode="valid")
        ax_loss.plot(np.arange(window, steps.size + 1), avg, color=f"C{r}", label=name)
        acc = 100 * as_float_array(history["val_acc"], f"runs[{name!r}]['val_acc']", allow_int=True)
        ax_acc.plot(history["epoch"], acc, "o-", color=f"C{r}", label=f"{name}: {acc[-1]:.1f}%")
    ax_loss.set_xlabel("mini-batch step")
    ax_loss.set_ylabel(f"cost (mean of {smooth} steps)")
    ax_loss.set_title("training cost per mini-batch", fontsize=10)
    ax_acc.set_xlabel("epoch (0 = before training)")
    ax_acc.set_ylabel("held-out accuracy (%)")
    ax_acc.set_title("held-out accuracy", fontsize=10)
    ax_acc.set_ylim(0, 100)
    ax_acc.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in (ax_loss, ax_acc):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


# --------------------------------------------------------------------------------------------
# Notebook 06: training curves, mistakes, a network as it learns
# --------------------------------------------------------------------------------------------


def _step_axis(history, name="history"):
    """Mini-batch losses of ``history`` and their x positions in epochs (step i ends at (i+1)/S)."""
    if not isinstance(history, Mapping):
        raise TypeError(f"{name} must be the history dict returned by helpers.train.train")
    for key in ("epoch", "step_loss"):
        if key not in history:
            raise KeyError(f"{name} has no {key!r}; pass the history returned by helpers.train.train")
    losses = as_float_array(history["step_loss"], f"{name}['step_loss']")
    check_ndim(losses, f"{name}['step_loss']", 1, "(steps,)")
    epochs = len(history["epoch"]) - 1
    if epochs < 1 or losses.size == 0 or losses.size % epochs:
        raise ValueError(f"{name}: {losses.size} mini-batch losses do not split into {epochs} equal epochs")
    per_epoch = losses.size // epochs
    return np.arange(1, losses.size + 1) / per_epoch, losses, per_epoch


def _running_mean(values, window: int):
    """Mean of the last ``window`` values at every position (fewer at the start)."""
    window = max(1, int(window))
    csum = np.cumsum(np.concatenate([[0.0], values]))
    idx = np.arange(1, values.size + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def show_training_history(history, *, title=None, held_out="held-out", smooth=0.05) -> Figure:
    """Two panels for a run of :func:`helpers.train.train`: loss (left) and accuracy (right).

    Left: the loss of every mini-batch as a thin line (a running mean over ``smooth`` of an
    epoch, 0 for raw values), x in epochs, and the per-epoch training loss (mean over the
    epoch's batches) and ``held_out`` loss as markers. Right: training and held-out accuracy
    in percent per epoch (epoch 0 = before training). Returns the figure.
    """
    xs, losses, per_epoch = _step_axis(history)
    shown = _running_mean(losses, round(smooth * per_epoch)) if smooth else losses
    epochs = np.asarray(history["epoch"], dtype=float)
    fig = new_figure(10.5, 3.6)
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(xs, shown, color="0.65", linewidth=0.8,
                 label="mini-batch loss" + (f" (mean of {smooth:g} epoch)" if smooth else ""))
    ax_loss.plot(epochs[1:], history["train_loss"][1:], "o-", markersize=3, label="training (epoch mean)")
    ax_loss.plot(epochs, history["val_loss"], "s-", markersize=3, label=held_out)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss L (mean over images)")
    ax_loss.set_title("loss", fontsize=10)
    ax_acc.plot(epochs[1:], 100 * np.asarray(history["train_acc"][1:], float), "o-", markersize=3,
                label="training (during the epoch)")
    ax_acc.plot(epochs, 100 * np.asarray(history["val_acc"], float), "s-", markersize=3, label=held_out)
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_title("accuracy", fontsize=10)
    final = 100 * float(history["val_acc"][-1])
    ax_acc.annotate(f"{final:.1f}%", (epochs[-1], final), textcoords="offset points", xytext=(-10, -14),
                    ha="right", fontsize=8)
    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def show_step_losses(histories, *, title=None, smooth=0.05, reference=None, xmax=None) -> Figure:
    """Mini-batch loss against epochs for several runs, ``histories = {label: history}``.

    Each curve is a running mean over ``smooth`` of an epoch of that run (so runs with
    different batch sizes are smoothed over the same number of images). ``reference`` is an
    optional ``{text: value}`` of horizontal dashed lines (e.g. the plateau level).
    ``xmax`` limits the x axis (in epochs). Returns the figure.
    """
    if not isinstance(histories, Mapping) or not histories:
        raise TypeError("histories must be a non-empty dict {label: history}")
    fig = new_figure(7.5, 3.6)
    ax = fig.add_subplot()
    for label, history in histories.items():
        xs, losses, per_epoch = _step_axis(history, f"histories[{label!r}]")
        ax.plot(xs, _running_mean(losses, round(smooth * per_epoch)) if smooth else losses,
                linewidth=1.2, label=str(label))
    for text, value in (reference or {}).items():
        ax.axhline(float(value), color="0.3", linestyle="--", linewidth=0.8)
        ax.text(ax.get_xlim()[1] if xmax is None else xmax, float(value), f" {text}", va="bottom",
                ha="right", fontsize=8, color="0.3")
    if xmax is not None:
        ax.set_xlim(0, xmax)
    ax.set_xlabel("epoch (images seen / training-set size)")
    ax.set_ylabel("mini-batch loss" + (f" (mean of {smooth:g} epoch)" if smooth else ""))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def show_mistakes(images, y_true, y_pred, confidence, *, ncols=6, title=None,
                  class_names=None) -> Figure:
    """A grid of misread digits: ``images`` (K, 28, 28) with true and predicted classes (K,)
    and the winning output ``confidence`` (K,), written above each digit as
    ``true 4 -> 9 (0.97)``. Returns the figure."""
    arr = _stack_maps(images, "images")
    k = arr.shape[0]
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    conf = as_float_array(confidence, "confidence")
    for name, v in (("y_true", y_true), ("y_pred", y_pred), ("confidence", conf)):
        if v.shape != (k,):
            raise ValueError(f"{name} must have shape ({k},) to match images, got {v.shape}")
    names = (_check_labels(class_names, 10, "class_names") if class_names is not None
             else [str(i) for i in range(10)])
    ncols = max(1, min(int(ncols), k))
    nrows = math.ceil(k / ncols)
    fig = new_figure(1.55 * ncols + 0.3, 1.75 * nrows + (0.5 if title else 0.15))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for idx, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if idx >= k:
            ax.set_axis_off()
            continue
        ax.imshow(arr[idx], cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(f"true {names[int(y_true[idx])]} -> {names[int(y_pred[idx])]}\n"
                     f"output {conf[idx]:.2f}", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def _mosaic_panel(ax, blocks, ncols, limit, prefix, title, *, signed=True, start=1, labels=True):
    """Maps (K, h, w) tiled into one image on ``ax`` (grey gaps), labelled ``p=1..`` above each.

    ``signed``: diverging colours on ``-limit..limit``; otherwise :data:`ACTIVATION_CMAP` on
    ``0..limit``. One image instead of K axes draws many times faster. Returns the image.
    """
    k, h, w = blocks.shape
    base = SIGNED_CMAP if signed else ACTIVATION_CMAP
    cmap = matplotlib.colormaps[base].with_extremes(bad="0.85" if signed else "white")
    norm = Normalize(vmin=-limit if signed else 0.0, vmax=limit)
    image = ax.imshow(_block_mosaic(blocks, ncols), cmap=cmap, norm=norm, interpolation="nearest")
    if labels:
        for idx in range(k):
            r, c = divmod(idx, ncols)
            ax.text(c * (w + 1) + (w - 1) / 2, r * (h + 1) - 0.7, f"{prefix}={idx + start}", ha="center",
                    va="bottom", fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=9, pad=12 if labels else 4)
    return image


def show_trained_kernels(k1, k2, *, title=None) -> Figure:
    """The kernels of the seed network: ``k1`` (6, 5, 5) left, ``k2`` (6, 12, 5, 5) right as a
    6 x 12 mosaic (row p = input map of S1, column q = output map of C2). Each has its own
    colour scale centred on zero and a labelled colourbar. Returns the figure."""
    k1 = as_float_array(k1, "k1", allow_int=True)
    k2 = as_float_array(k2, "k2", allow_int=True)
    if k1.ndim != 3:
        raise ValueError(f"k1 must have shape (P, h, w), e.g. (6, 5, 5), got {k1.shape}")
    if k2.ndim != 4 or k2.shape[0] != k1.shape[0]:
        raise ValueError(f"k2 must have shape ({k1.shape[0]}, Q, h, w), e.g. (6, 12, 5, 5), got {k2.shape}")
    p_count, q_count, h, w = k2.shape
    fig = new_figure(13.0, 4.2)
    ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.0, 3.6])
    image = _mosaic_panel(ax1, k1, 2, max(float(np.abs(k1).max()), _TINY), "p", "C1 kernels k1[p]")
    cbar = fig.colorbar(image, ax=ax1, shrink=0.8)
    cbar.set_label("weight", fontsize=8)
    image = _mosaic_panel(ax2, k2.reshape(p_count * q_count, h, w), q_count,
                          max(float(np.abs(k2).max()), _TINY), "", "C2 kernels k2[p, q]", labels=False)
    ax2.set_xticks([c * (w + 1) + (w - 1) / 2 for c in range(q_count)], [f"q={q + 1}" for q in range(q_count)],
                   fontsize=8)
    ax2.xaxis.tick_top()
    ax2.set_yticks([r * (h + 1) + (h - 1) / 2 for r in range(p_count)], [f"p={p + 1}" for p in range(p_count)],
                   fontsize=8)
    ax2.tick_params(length=0)
    ax2.set_xlabel("output map q of C2", fontsize=9)
    ax2.set_ylabel("input map p of S1", fontsize=9)
    cbar = fig.colorbar(image, ax=ax2, shrink=0.8)
    cbar.set_label("weight", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def show_feature_maps(caches, label=None, *, title=None) -> Figure:
    """Feature maps of one digit under several parameter sets, one row each.

    ``caches`` is ``{row title: forward cache of ONE image}`` (``helpers.network.forward``),
    e.g. ``{"before training": ..., "after training": ...}``. Each row shows the digit, the six
    maps of C1 (24x24) and the twelve maps of C2 (8x8), all on the activation scale 0..1
    (sigmoid outputs). Returns the figure.
    """
    if not isinstance(caches, Mapping) or not caches:
        raise TypeError("caches must be a non-empty dict {row title: cache of one image}")
    rows = len(caches)
    fig = new_figure(13.0, 2.9 * rows + 0.5)
    axes = fig.subplots(rows, 3, squeeze=False, width_ratios=[0.55, 2.0, 1.45])
    image = None
    for r, (name, cache) in enumerate(caches.items()):
        if not isinstance(cache, Mapping) or any(k not in cache for k in ("x", "C1", "C2")):
            raise TypeError(f"caches[{name!r}] must be the forward cache of one image")
        C1, C2 = _stack_maps(cache["C1"], "C1"), _stack_maps(cache["C2"], "C2")
        x = np.asarray(cache["x"], dtype=float)
        if x.ndim != 2:
            raise ValueError(f"caches[{name!r}] must be the cache of one image, x has shape {x.shape}")
        show_digit(x, label=label, ax=axes[r, 0], colorbar=False, title=str(name))
        top = max(1.0, float(C1.max()), float(C2.max()))
        image = _mosaic_panel(axes[r, 1], C1, 3, top, "p", f"C1: {C1.shape[0]} maps {C1.shape[1]}x{C1.shape[2]}",
                              signed=False)
        _mosaic_panel(axes[r, 2], C2, 4, top, "q", f"C2: {C2.shape[0]} maps {C2.shape[1]}x{C2.shape[2]}",
                      signed=False)
    cbar = fig.colorbar(image, ax=list(axes[:, 1:].flat), shrink=0.8, aspect=30)
    cbar.set_label("activation (sigmoid output)")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def show_training_snapshot(trace, epoch, x, label=None, *, title=None) -> Figure:
    """One checkpoint of :func:`helpers.train.digit_trace`: what the network does with one digit.

    Panels: the digit ``x`` (28, 28); the outputs ``y_hat`` (true class and answer marked); the
    six C1 kernels ``k1``; the error maps of this digit before the sigmoid, ``dC1_sigma``
    (6, 24, 24, Zhang eq. 57) and ``dC2_sigma`` (12, 8, 8, eq. 37). Each of the last three uses
    one colour scale for **all** checkpoints of ``trace`` (centred on zero), so scrubbing
    through epochs shows the kernels grow and the errors fade. ``epoch`` indexes the trace
    (0 = before training). Returns the figure.
    """
    if not isinstance(trace, Mapping):
        raise TypeError("trace must be the dict returned by helpers.train.digit_trace")
    count = len(trace["loss"])
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or not 0 <= epoch < count:
        raise ValueError(f"epoch must be an int in 0..{count - 1}, got {epoch!r}")
    epoch = int(epoch)
    y_hat = np.asarray(trace["y_hat"][epoch], dtype=float)
    predicted = int(np.argmax(y_hat))

    def limit(key):
        return max(float(np.max(np.abs(trace[key]))), _TINY)

    fig = new_figure(13.0, 5.6)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.15])
    ax_x, ax_y, ax_k = top.subplots(1, 3, width_ratios=[0.8, 1.3, 2.6])
    show_digit(x, label=label, ax=ax_x, colorbar=False)
    marks = [predicted] if label is None else [predicted, int(label)]
    show_vector(y_hat, title=f"y_hat: answer {predicted}", xlabel="class", ylabel="output",
                highlight=marks, ax=ax_y)
    ax_y.set_ylim(0, 1)
    k1 = np.asarray(trace["k1"][epoch], dtype=float)
    image = _mosaic_panel(ax_k, k1, 6, limit("k1"), "p",
                          f"C1 kernels k1 (max |k1| = {np.abs(k1).max():.2f})")
    cbar = top.colorbar(image, ax=ax_k, shrink=0.8, aspect=12)
    cbar.set_label("weight", fontsize=8)
    cbar.ax.tick_params(labelsize=7)
    ax_e1, ax_e2 = bottom.subplots(1, 2, width_ratios=[1.0, 1.0])
    for ax, key, ncols, prefix, name, eq in ((ax_e1, "dC1_sigma", 3, "p", r"$\Delta C^1_{p,\sigma}$", 57),
                                              (ax_e2, "dC2_sigma", 4, "q", r"$\Delta C^2_{q,\sigma}$", 37)):
        maps = np.asarray(trace[key][epoch], dtype=float)
        image = _mosaic_panel(ax, maps, ncols, limit(key), prefix,
                              f"error {name} of this digit (eq. {eq}), max |.| = {np.abs(maps).max():.1e}")
        cbar = bottom.colorbar(image, ax=ax, shrink=0.85, aspect=18)
        cbar.set_label("error (same scale for every epoch)", fontsize=8)
        cbar.ax.tick_params(labelsize=7)
    loss = float(trace["loss"][epoch])
    fig.suptitle(title or f"after epoch {epoch}: loss of this digit {loss:.4f}" if epoch else
                 title or f"before training: loss of this digit {loss:.4f}", fontsize=12)
    return fig


__all__ += ["show_training_history", "show_step_losses", "show_mistakes", "show_trained_kernels",
            "show_feature_maps", "show_training_snapshot"]
