"""Layers of a network as pictures: feature maps, kernels, digits, vectors, a whole forward pass,
and arrays side by side (loops vs fast code, an error before and after a layer)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from helpers._validate import as_float_array, check_ndim
from helpers.figures.base import (MAX_WIDTH, SMALL_FONT, ACTIVATION_CMAP, IMAGE_CMAP, SIGNED_CMAP, TINY,
                                  annotate_cells, check_labels, default_ncols, image_grid, mosaic_panel, new_figure,
                                  norm_for, projected_points, root_figure, stack_maps, symmetric_limits, target_figure)
from helpers.figures.layout import WIDGET_FONT, axes_at, colorbar_at, fixed_figure, title_at

__all__ = ["show_maps", "show_kernels", "show_digit", "show_vector", "show_network_flow", "side_by_side",
           "mark_classes", "TRUE_COLOUR", "PREDICTED_COLOUR"]


def show_maps(maps, title=None, signed=False, ncols=None, labels=None, cbar_label=None, *,
              prefix="p", start=1, cmap=None, vmin=None, vmax=None, annotate=False, fmt=".2f",
              ticks=False, panel_size=1.5, fig=None, mosaic=False) -> Figure:
    """Grid of 2-D maps ``maps`` (K, H, W) (or one (H, W) map) with one shared colourbar.

    Panels are titled ``f"{prefix}={i + start}"`` (``p=1`` ... ``p=K``) unless ``labels`` gives
    K titles. ``signed=True`` draws errors and gradients with :data:`SIGNED_CMAP` and limits
    ``-m, m`` (m = max |maps|, or ``vmax`` if given); otherwise :data:`ACTIVATION_CMAP` over the
    data range (or ``vmin``/``vmax``). ``annotate`` writes each value (format ``fmt``) in its
    cell, for small worked examples; ``ticks`` shows 0-based row/column indices.
    ``fig`` draws into an existing Figure or SubFigure (used to compose bigger figures).
    Returns the figure: K image axes plus one colourbar axes.

    ``mosaic=True`` (for a widget, which redraws on every change) draws the maps as ONE image
    with labels in label rows (:func:`~helpers.figures.base.mosaic_panel`), text of at least
    :data:`~helpers.figures.base.PROJECTED_TEXT_PX` and a hand layout (no layout engine): several
    times faster. It takes a symmetric scale (``signed``) or one from 0 (``vmin`` None or 0),
    the default colour maps, and neither ``labels``, ``annotate``, ``ticks`` nor ``fig``.
    Returns the figure: one image axes plus one colourbar axes.
    """
    arr = stack_maps(maps, "maps")
    k = arr.shape[0]
    ncols = default_ncols(k) if ncols is None else min(int(ncols), k)
    if ncols < 1:
        raise ValueError(f"ncols must be >= 1, got {ncols}")
    if mosaic:
        if labels is not None or annotate or ticks or fig is not None or cmap is not None:
            raise ValueError("mosaic=True takes neither labels, annotate, ticks, cmap nor fig")
        if not signed and vmin not in (None, 0, 0.0):
            raise ValueError(f"mosaic=True draws unsigned maps from 0, got vmin={vmin}")
        return _maps_mosaic(arr, ncols, title, signed, vmax, cbar_label, prefix, start, panel_size)
    nrows = math.ceil(k / ncols)
    titles = (check_labels(labels, k, "labels") if labels is not None
              else [f"{prefix}={i + start}" for i in range(k)])
    cmap = cmap or (SIGNED_CMAP if signed else ACTIVATION_CMAP)
    norm = norm_for([arr], signed, vmin, vmax)
    aspect = arr.shape[1] / arr.shape[2]
    target = target_figure(fig, panel_size * ncols + 1.2,
                     panel_size * aspect * nrows + (0.6 if title else 0.2) + 0.3)
    image_grid(target, list(arr), nrows, ncols, cmap=cmap, norm=norm, panel_titles=titles,
                cbar_label=cbar_label or ("signed value" if signed else "activation"),
                annotate=annotate, fmt=fmt, ticks=ticks, title=title)
    return target


def _maps_mosaic(arr, ncols, title, signed, vmax, cbar_label, prefix, start, panel_size) -> Figure:
    """:func:`show_maps` with ``mosaic=True``: one image, laid out by hand."""
    font = projected_points(Figure(dpi=100))  # 14 px at the book's dpi
    k, h, w = arr.shape
    limit = float(vmax) if vmax is not None else (symmetric_limits(arr)[1] if signed else max(float(arr.max()), TINY))
    width = min(panel_size * ncols, MAX_WIDTH - 0.1 - 0.15 - 0.14 - 0.95 - 0.05)
    cols_px = ncols * (w + 1) - 1
    row_gap = max(1, math.ceil(1.6 * font / 72 * cols_px / width))  # a label row between rows of maps
    height = width * (math.ceil(k / ncols) * (h + row_gap) - row_gap) / cols_px
    top = (0.42 if title else 0.08) + 1.9 * font / 72
    target = fixed_figure(round(0.1 + width + 0.15 + 0.14 + 0.95 + 0.05, 2), round(top + height + 0.12, 2))
    ax = axes_at(target, 0.1, top, width, height, from_top=True)
    image = mosaic_panel(ax, arr, ncols, limit, prefix, "", signed=signed, start=start, fontsize=font, row_gap=row_gap)
    colorbar_at(target, image, (0.1 + width + 0.15, top, 0.14, height),
                cbar_label or ("signed value" if signed else "activation"), fontsize=font, from_top=True,
                powerlimits=(-2, 2))
    if title:
        target.suptitle(title, fontsize=font + 2, y=1 - 0.08 / target.get_figheight(), va="top")
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
    target = target_figure(fig, size * q_count + 1.6, size * p_count + (0.7 if title else 0.4))
    cmap = cmap or (SIGNED_CMAP if signed else ACTIVATION_CMAP)
    norm = norm_for([arr], signed)
    image_grid(target, list(arr.reshape(p_count * q_count, *arr.shape[2:])), p_count, q_count,
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
    return root_figure(fig)


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
        ax.set_xticks(np.arange(n), check_labels(tick_labels, n, "tick_labels"))
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
                    ha="center", va="bottom", fontsize=SMALL_FONT)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title, fontsize=10, pad=14 if group else 6)
    return root_figure(fig)


TRUE_COLOUR = "#0072B2"
"""Bar of the true class (Okabe-Ito blue; a solid bar with a black edge)."""
PREDICTED_COLOUR = "#E69F00"
"""Bar of the predicted class (Okabe-Ito orange, hatched): told apart from the true class by
colour and by pattern, so also in greyscale and by colour-blind readers."""


def mark_classes(ax, true=None, predicted=None, *, true_name="true class",
                 predicted_name="predicted", ncols=None) -> None:
    """Mark the true and the predicted class on a bar chart of class scores drawn on ``ax``.

    The other bars turn grey; the true class is solid blue with a black edge, the predicted
    class orange and hatched (blue, hatched and edged when they coincide); a legend above the
    axes names both, with their class numbers, in ``ncols`` columns (default: one row).
    ``true_name`` renames the first mark (for instance "label in the loss").
    """
    bars = list(ax.containers[0]) if ax.containers else []
    if not bars:
        raise ValueError("mark_classes needs an axes with a bar chart (show_vector)")
    for bar in bars:
        bar.set_facecolor("0.72")
    handles = []
    same = true is not None and predicted is not None and int(true) == int(predicted)
    if true is not None:
        bars[int(true)].set(facecolor=TRUE_COLOUR, edgecolor="black", linewidth=1.5,
                            hatch="//" if same else None)
        name = f"{true_name} = {predicted_name}" if same else true_name
        handles.append(Patch(facecolor=TRUE_COLOUR, edgecolor="black", linewidth=1.5,
                             hatch="//" if same else None, label=f"{name}: {int(true)}"))
    if predicted is not None and not same:
        bars[int(predicted)].set(facecolor=PREDICTED_COLOUR, edgecolor="black", linewidth=0.8,
                                 hatch="//")
        handles.append(Patch(facecolor=PREDICTED_COLOUR, edgecolor="black", linewidth=0.8,
                             hatch="//", label=f"{predicted_name}: {int(predicted)}"))
    if not handles:
        return
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=ncols or len(handles),
              fontsize=SMALL_FONT + 1, frameon=False, borderaxespad=0.2, handlelength=1.5,
              columnspacing=1.0)


_FLOW_KEYS = ("x", "C1", "S1", "C2", "S2", "f", "y_hat")


def show_network_flow(cache, label=None, *, index=0, title=None) -> Figure:
    """One digit flowing through the seed network: x, C1, S1, C2, S2, f and y_hat.

    ``cache`` is the forward cache of one image (``helpers.network.forward``): ``x`` (28, 28),
    ``C1`` (6, 24, 24), ``S1`` (6, 12, 12), ``C2`` (12, 8, 8), ``S2`` (12, 4, 4), ``f`` (192,)
    and ``y_hat`` (10,); other layer sizes work too. For the cache of a batch (``x`` of shape
    (N, 28, 28)) image ``index`` is shown. ``label`` is the true class, marked in the y_hat
    panel beside the predicted class (:func:`mark_classes`, with a legend). Sigmoid activations
    share the scale 0..1.
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
    layers = {name: stack_maps(cache[name], name) for name in ("C1", "S1", "C2", "S2")}
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
    ax_y = bottom[1].add_subplot()
    show_vector(y_hat, title=None, xlabel="class", ylabel="y_hat (output)", ax=ax_y)
    mark_classes(ax_y, true=label, predicted=predicted, ncols=1)
    fig.suptitle(title or "one digit flowing through the network", fontsize=13)
    return fig


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
    stacks = [stack_maps(a, f"arrays[{i}]") for i, a in enumerate(arrays)]
    titles = check_labels(titles, len(stacks), "titles")
    k = stacks[0].shape[0]
    for i, s in enumerate(stacks):
        if s.shape[0] != k:
            raise ValueError(f"arrays[{i}] has {s.shape[0]} maps, arrays[0] has {k}; "
                             "every array needs the same number of maps")
    if show_difference:
        if len(stacks) != 2 or stacks[0].shape != stacks[1].shape:
            raise ValueError("show_difference needs exactly two arrays of the same shape")
    ncols = len(stacks) + (1 if show_difference else 0)
    cmap = cmap or (SIGNED_CMAP if signed else ACTIVATION_CMAP)
    label = cbar_label or ("signed value" if signed else "value")
    shared_norm = norm_for(stacks, signed) if share else None
    columns = [(s, shared_norm or norm_for([s], signed), cmap) for s in stacks]
    if show_difference:
        diff = stacks[0] - stacks[1]
        columns.append((diff, norm_for([diff], True), SIGNED_CMAP))
        titles = titles + [f"{titles[0]} - {titles[1]}"]
    # A fixed layout in inches (helpers.figures.layout): no layout engine to measure every panel
    # on each redraw of 09's errata widget. Text is WIDGET_FONT; columns shrink to fit MAX_WIDTH.
    left = 0.15 + (0.6 if k > 1 else 0.0)
    gap, row_gap, right = 0.15, 0.12, 0.15
    panel = min(float(panel_size), (MAX_WIDTH - left - right - gap * (ncols - 1)) / ncols)
    top = (0.42 if title else 0.05) + 0.32            # the title, then the column titles
    bottom = 0.95                                       # a colour bar with ticks and its label
    width = left + ncols * panel + gap * (ncols - 1) + right
    height = top + k * panel + (k - 1) * row_gap + bottom
    target = fixed_figure(width, height)
    grid = np.empty((k, ncols), dtype=object)
    for r in range(k):
        for c in range(ncols):
            grid[r, c] = axes_at(target, left + c * (panel + gap), height - top - (r + 1) * panel - r * row_gap,
                                 panel, panel)
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
                annotate_cells(ax, stack[r], col_cmap, norm, col_fmt,
                          fontsize=max(5.0, 9.0 - 0.6 * max(stack[r].shape)))
            if r == 0:
                title_at(ax, titles[c])
            if c == 0 and k > 1:
                ax.set_ylabel(f"{prefix}={r + start}", rotation=0, ha="right", va="center",
                              fontsize=WIDGET_FONT)
        if is_diff or not share:
            _bottom_bar(target, image, c, c + 1, left, panel, gap, "difference" if is_diff else label,
                        symmetric=is_diff or signed)
    if share:
        _bottom_bar(target, grid[0, 0].images[0], 0, len(stacks), left, panel, gap, label, symmetric=signed)
    if title:
        target.suptitle(title, fontsize=WIDGET_FONT + 1, y=1.0 - 0.08 / height, va="top")
    return target


def _bottom_bar(fig, image, first, stop, left, panel, gap, label, symmetric):
    """A horizontal colour bar under columns ``first .. stop - 1`` of :func:`side_by_side`'s grid,
    with about two ticks per column (one column: e.g. -0.005, 0, 0.005), so labels never run together."""
    x0 = left + first * (panel + gap) + 0.05 * panel
    span = (stop - first) * panel + (stop - first - 1) * gap - 0.1 * panel
    bar = colorbar_at(fig, image, (x0, 0.72, span, 0.14), label, orientation="horizontal")
    bar.ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=2 * (stop - first), symmetric=symmetric))
    return bar
