"""The networks of seeds 002 and 003 (notebooks 07 and 08): max pooling backward, a layer's
values next to its error, gradient sizes per layer."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from helpers._validate import as_float_array, check_ndim
from helpers.figures.base import SMALL_FONT, ACTIVATION_CMAP, SIGNED_CMAP, annotate_cells, new_figure, norm_for
from helpers.figures.maps import show_digit, show_maps, show_vector

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
    show_digit(arrays["x"], label=label, ax=axes[0, 0], title="input $a^0$ (28x28)"
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
        norm = norm_for([arr], signed, *((0.0, 1.0) if name in ("a1", "a2") else (None, None)))
        image = ax.imshow(arr, cmap=cmap, norm=norm, interpolation="nearest")
        ax.set_title(panel_title, fontsize=9)
        ax.set_xlabel("column (0-based)", fontsize=8)
        ax.set_ylabel("row (0-based)", fontsize=8)
        ax.tick_params(labelsize=SMALL_FONT)
        if arr.shape == (5, 5):  # values written in; the gradient scaled by a power of ten to fit at 8 pt
            peak = float(np.max(np.abs(arr)))
            power = int(np.floor(np.log10(peak))) if name == "dw1" and peak > 0 else 0
            annotate_cells(ax, arr / 10.0**power, cmap, Normalize(norm.vmin / 10.0**power, norm.vmax / 10.0**power),
                           ".2f", fontsize=SMALL_FONT)
            if power:
                ax.set_title(f"{panel_title}\nnumbers x 1e{power}", fontsize=9)
        cbar = fig.colorbar(image, ax=ax, shrink=0.8)
        cbar.set_label(cbar_label, fontsize=8)
        cbar.ax.tick_params(labelsize=SMALL_FONT)
    rows, cols = window_winners(arrays["a1"])
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

