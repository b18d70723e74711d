"""The networks of seeds 002 and 003 (notebooks 07 and 08): max pooling backward, a layer's
values next to its error, gradient sizes per layer."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from helpers._validate import as_float_array, check_ndim
from helpers.figures.base import (ACTIVATION_CMAP, MAX_WIDTH, SIGNED_CMAP, TINY, annotate_cells, mosaic_panel,
                                  new_figure, norm_for)
from helpers.figures.layout import (WIDGET_FONT, axes_at, colorbar_at, fixed_figure, index_labels, index_ticks,
                                    power_of_ten, title_at)
from helpers.figures.maps import show_digit, show_vector

__all__ = ["window_winners", "show_maxpool_backward", "show_layer_errors", "show_gradient_sizes"]


def window_winners(a1, size: int = 2):
    """Row and column (0-based) of the first maximum of every ``size`` x ``size`` window of
    ``a1`` (H, W), the entry that max pooling routes the error to (helpers.pooling's rule)."""
    h, w = a1.shape[0] // size * size, a1.shape[1] // size * size
    win = a1[:h, :w].reshape(h // size, size, w // size, size).transpose(0, 2, 1, 3)
    arg = win.reshape(h // size, w // size, size * size).argmax(axis=2)
    rows = np.arange(h // size)[:, None] * size + arg // size
    cols = np.arange(w // size)[None, :] * size + arg % size
    return rows.ravel(), cols.ravel()


def _scaled_numbers(ax, arr, cmap, norm):
    """Write the values of the small map ``arr`` into its cells at :data:`WIDGET_FONT`, in units of
    the power of ten that leaves one digit before the point (``-3.4`` for -0.34); returns that power."""
    peak = float(np.max(np.abs(arr)))
    power = power_of_ten(peak)
    scale = 10.0 ** power
    annotate_cells(ax, np.round(arr / scale, 1) + 0.0, cmap,  # + 0.0: no "-0.0"
                   Normalize(norm.vmin / scale, norm.vmax / scale), ".1f",
                   fontsize=WIDGET_FONT)
    return power


def show_maxpool_backward(x, a1, a2, delta1, w1, dw1, *, label=None, title=None) -> Figure:
    """Seed 002's network for one digit: what goes forward and what comes back.

    Top row: the input ``x`` (28, 28), the conv layer's activations ``a1`` (24, 24) with the
    entry each 2x2 window passes on marked by a dot (the first maximum), and the pooled map
    ``a2`` (12, 12), both on one activation scale 0..1 (one colour bar). Bottom row: the shared
    kernel ``w1`` (5, 5), the error ``delta1`` (24, 24) of the modified BP2 (non-zero only at the
    dots, with its colour bar) and the kernel gradient ``dw1`` (5, 5) of the shared-weight BP4.
    The two 5x5 panels carry their values written in (in units of the power of ten named in the
    title) instead of a colour bar. Signed panels use :data:`SIGNED_CMAP` centred on zero; ticks
    are 0-based indices. A fixed layout of :data:`WIDGET_FONT` text, symbols in Unicode (mathtext
    is parsed anew for every figure): notebook 07's widget redraws it.
    """
    arrays = {}
    for name, arr, shape in (("x", x, (28, 28)), ("a1", a1, (24, 24)), ("a2", a2, (12, 12)),
                             ("delta1", delta1, (24, 24)), ("w1", w1, (5, 5)), ("dw1", dw1, (5, 5))):
        arr = as_float_array(arr, name, allow_int=True)
        if arr.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, got {arr.shape}")
        arrays[name] = arr
    size, left, gap, bar_gap = 1.72, 0.62, 0.62, 1.38    # panel side, margins in inches
    lefts = [left, left + size + gap, left + 2 * size + gap + bar_gap]
    bottom, title_room, row_gap = 0.55, 0.5, 0.35     # room for tick labels and x label, 2-line titles
    row_tops = [bottom + 2 * size + title_room + row_gap, bottom + size]
    fig = fixed_figure(lefts[2] + size + 1.05, row_tops[0] + title_room + (0.35 if title else 0.05))
    axes = {}
    for r, names in enumerate((("x", "a1", "a2"), ("w1", "delta1", "dw1"))):
        for c, name in enumerate(names):
            axes[name] = axes_at(fig, lefts[c], row_tops[r] - size, size, size)
    show_digit(arrays["x"], label=label, ax=axes["x"], colorbar=False,
               title="input a⁰" + (f", label {label}" if label is not None else ""))
    title_at(axes["x"], axes["x"].get_title())
    axes["x"].xaxis.label.set_fontsize(WIDGET_FONT)
    panels = [
        ("a1", "conv layer a¹ (24x24)\ndots: what each 2x2 passes on", ACTIVATION_CMAP, False),
        ("a2", "max-pooled a² (12x12)", ACTIVATION_CMAP, False),
        ("w1", "shared kernel w¹ (5x5)", SIGNED_CMAP, True),
        ("delta1", "error δ¹ = ∂C/∂z¹\nzero except at the dots", SIGNED_CMAP, True),
        ("dw1", "gradient ∂C/∂w¹ (5x5)", SIGNED_CMAP, True),
    ]
    images = {}
    for name, panel_title, cmap, signed in panels:
        ax, arr = axes[name], arrays[name]
        norm = norm_for([arr], signed, *((0.0, 1.0) if name in ("a1", "a2") else (None, None)))
        images[name] = ax.imshow(arr, cmap=cmap, norm=norm, interpolation="nearest")
        index_labels(ax, *arr.shape, xlabel="column (0-based)" if name in ("w1", "delta1", "dw1") else None,
                     ylabel="row (0-based)" if name in ("a1", "w1") else None)
        if arr.shape == (5, 5):
            power = _scaled_numbers(ax, arr, cmap, norm)
            if power:
                panel_title += f"\nnumbers x 1e{power}"
        title_at(ax, panel_title)
    bar = (0.14, size)
    colorbar_at(fig, images["a2"], (lefts[2] + size + 0.12, row_tops[0] - size, *bar), "activation",
                ticks=[0.0, 0.25, 0.5, 0.75, 1.0])
    colorbar_at(fig, images["delta1"], (lefts[1] + size + 0.12, row_tops[1] - size, *bar), "error")
    rows, cols = window_winners(arrays["a1"])
    for name, colour in (("a1", "white"), ("delta1", "0.3")):
        axes[name].plot(cols, rows, "o", color=colour, markersize=1.6, markeredgewidth=0)
    if title:
        fig.suptitle(title, fontsize=WIDGET_FONT + 1, y=1.0 - 0.08 / fig.get_size_inches()[1], va="top")
    return fig


def show_layer_errors(values, errors, *, value_name="activation", error_name="error", label=None,
                      prefix="m", title=None) -> Figure:
    """One layer of a network seen both ways: its values (top) and its error (bottom).

    ``values`` and ``errors`` have the same shape: K maps (K, H, W) drawn as two mosaics, one
    image each (values in :data:`ACTIVATION_CMAP` from 0, or centred on zero if some are
    negative; errors in :data:`SIGNED_CMAP` centred on zero), maps labelled ``m=1..K`` and a
    colour bar each; or one vector (n,) drawn as two bar charts (bars of class ``label``
    highlighted when n = 10). ``value_name`` and ``error_name`` label the rows (LaTeX without
    dollars is fine). A fixed layout of :data:`WIDGET_FONT` text: notebook 08's widget redraws it.
    """
    vals = as_float_array(values, "values", allow_int=True)
    errs = as_float_array(errors, "errors", allow_int=True)
    if vals.shape != errs.shape:
        raise ValueError(f"errors must have the shape of values {vals.shape}, got {errs.shape}")
    check_ndim(vals, "values", (1, 3), "(K, H, W) maps or (n,) a vector")
    head = 0.4 if title else 0.05
    if vals.ndim == 1:
        n = vals.size
        plot_h, row_h, left = 1.45, 2.45, 0.95
        fig = fixed_figure(MAX_WIDTH, head + 2 * row_h)
        marks = None if label is None or n != 10 else int(label)
        for r, (arr, name, ylabel) in enumerate(((vals, f"${value_name}$ ({n} values)", "value"),
                                                 (errs, f"${error_name}$", "error"))):
            bottom = fig.get_figheight() - head - r * row_h - 0.35 - plot_h
            ax = axes_at(fig, left, bottom, MAX_WIDTH - left - 0.2, plot_h)
            show_vector(arr, xlabel="index (0-based)", ylabel=ylabel, highlight=marks, ax=ax)
            if n > 20:  # integer index ticks, few enough to read
                ax.set_xticks(index_ticks(n, 10 if n <= 100 else 50))
            ax.tick_params(labelsize=WIDGET_FONT)
            ax.xaxis.label.set_fontsize(WIDGET_FONT)
            ax.yaxis.label.set_fontsize(WIDGET_FONT)
            title_at(ax, name)
    else:
        k, h, w = vals.shape
        ncols = k if k <= 6 else math.ceil(k / 2)
        nrows = math.ceil(k / ncols)
        left, bar_room = 0.2, 1.25                       # colour bar, its ticks and its label on the right
        unit = min((MAX_WIDTH - left - bar_room) / (ncols * (w + 1) - 1), 1.6 / h)   # inches per pixel
        block_h, label_h, title_h = unit * h, 0.27, 0.3  # a row of maps, the "m=1" labels above it, a title
        group_h = title_h + nrows * (label_h + block_h) + 0.2
        fig = fixed_figure(min(MAX_WIDTH, left + unit * (ncols * (w + 1) - 1) + bar_room), head + 2 * group_h)
        in_unit = float(vals.min()) >= 0.0
        for g, (arr, name, signed, bar_label) in enumerate(((vals, f"${value_name}$ ({k} maps of {h}x{w})",
                                                            not in_unit, "value"),
                                                           (errs, f"${error_name}$", True, "error"))):
            limit = max(float(np.max(np.abs(arr))), TINY)
            top = fig.get_figheight() - head - g * group_h - title_h
            for r in range(nrows):
                chunk = arr[r * ncols:(r + 1) * ncols]
                y = top - (r + 1) * (label_h + block_h)
                ax = axes_at(fig, left, y, unit * (len(chunk) * (w + 1) - 1), block_h)
                image = mosaic_panel(ax, chunk, len(chunk), limit, prefix, "", signed=signed, start=r * ncols + 1,
                                     fontsize=WIDGET_FONT)
                if r == 0:
                    title_at(ax, name, pad=label_h * 72 + 2)
            bottom = top - nrows * (label_h + block_h)
            bar_left = left + unit * (ncols * (w + 1) - 1) + 0.15
            colorbar_at(fig, image, (bar_left, bottom, 0.14, top - label_h - bottom), bar_label)
    if title:
        fig.suptitle(title, fontsize=WIDGET_FONT + 1, y=1.0 - 0.08 / fig.get_figheight(), va="top")
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

