"""Training: loss and accuracy curves, confusion matrices, mistakes, kernels and feature maps
as they are learned (notebooks 06-08, Zhang eqs. 65-70)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from helpers._validate import as_float_array, check_ndim
from helpers.figures.base import (MAX_WIDTH, IMAGE_CMAP, TINY, annotate_cells, check_labels, block_mosaic,
                                  mosaic_panel, new_figure, projected_points, root_figure, stack_maps)
from helpers.figures.layout import axes_at, colorbar_at, fixed_figure, linear_ticks
from helpers.figures.maps import show_digit

__all__ = ["confusion_matrix_plot", "curves_plot", "show_runs", "show_training_history", "show_step_losses",
           "show_mistakes", "show_trained_kernels", "show_feature_maps", "show_training_snapshot",
           "SNAPSHOT_SCALES"]


def confusion_matrix_plot(cm, class_names=None, *, normalize=False, title=None, cmap="Blues",
                          ax=None, log=False) -> Figure:
    """Confusion matrix ``cm`` (n, n): row = true class, column = predicted class.

    Counts (or, with ``normalize``, the fraction of each true class) are written in the cells;
    the default title gives the accuracy ``trace / total``. With ``log=True`` the colour scale is
    logarithmic above 1 (linear below, so 0 stays white): a few off-diagonal mistakes stay visible
    next to a diagonal of hundreds. Returns the figure.
    """
    arr = as_float_array(cm, "cm", allow_int=True)
    check_ndim(arr, "cm", 2, "(n, n)")
    n = arr.shape[0]
    if n == 0 or arr.shape[1] != n:
        raise ValueError(f"cm must be square (n, n), got shape {arr.shape}")
    if (arr < 0).any():
        raise ValueError("cm must hold non-negative counts")
    total = float(arr.sum())
    names = (check_labels(class_names, n, "class_names") if class_names is not None
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
    vmax = max(float(shown.max()), TINY)
    norm = (SymLogNorm(linthresh=min(1.0, vmax), vmin=0.0, vmax=vmax, base=10) if log
            else Normalize(vmin=0.0, vmax=vmax))
    image = ax.imshow(shown, cmap=cmap, norm=norm, interpolation="nearest")
    fmt = ".2f" if normalize else (".0f" if np.all(arr == np.round(arr)) else ".1f")
    annotate_cells(ax, shown, cmap, norm, fmt, fontsize=8 if n <= 10 else 6)
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
    return root_figure(fig)


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
    arr = stack_maps(images, "images")
    k = arr.shape[0]
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    conf = as_float_array(confidence, "confidence")
    for name, v in (("y_true", y_true), ("y_pred", y_pred), ("confidence", conf)):
        if v.shape != (k,):
            raise ValueError(f"{name} must have shape ({k},) to match images, got {v.shape}")
    names = (check_labels(class_names, 10, "class_names") if class_names is not None
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


PROJECTED_FONT = 11.0
"""Points of every label in :func:`show_trained_kernels` and :func:`show_feature_maps`: 15 px at
the inline backend's 100 dpi, readable projected on a 930 px notebook column."""


def show_trained_kernels(k1, k2, *, title=None) -> Figure:
    """The kernels of the seed network: ``k1`` (6, 5, 5) on top as one row, ``k2`` (6, 12, 5, 5)
    below as a 6 x 12 mosaic (row p = input map of S1, column q = output map of C2), the full
    width of the notebook so that its labels can be read projected (:data:`PROJECTED_FONT`).
    Each has its own colour scale centred on zero and a labelled colourbar. Returns the figure."""
    k1 = as_float_array(k1, "k1", allow_int=True)
    k2 = as_float_array(k2, "k2", allow_int=True)
    if k1.ndim != 3:
        raise ValueError(f"k1 must have shape (P, h, w), e.g. (6, 5, 5), got {k1.shape}")
    if k2.ndim != 4 or k2.shape[0] != k1.shape[0]:
        raise ValueError(f"k2 must have shape ({k1.shape[0]}, Q, h, w), e.g. (6, 12, 5, 5), got {k2.shape}")
    p_count, q_count, h, w = k2.shape
    font = PROJECTED_FONT
    fig = new_figure(9.2, 6.6 if title else 6.2)
    ax1, ax2 = fig.subplots(2, 1, height_ratios=[1.0, 2.6])
    image = mosaic_panel(ax1, k1, k1.shape[0], max(float(np.abs(k1).max()), TINY), "p",
                         "C1 kernels k1[p]", fontsize=font, title_size=font + 1)
    ax1.set_title("C1 kernels k1[p]", fontsize=font + 1, pad=26)  # above the p= labels (0.7 of a pixel up)
    cbar = fig.colorbar(image, ax=ax1, shrink=0.9, aspect=8)
    cbar.set_label("weight", fontsize=font)
    cbar.ax.tick_params(labelsize=font)
    image = mosaic_panel(ax2, k2.reshape(p_count * q_count, h, w), q_count,
                         max(float(np.abs(k2).max()), TINY), "", "C2 kernels k2[p, q]", labels=False,
                         title_size=font + 1)
    ax2.set_xticks([c * (w + 1) + (w - 1) / 2 for c in range(q_count)], [f"q={q + 1}" for q in range(q_count)],
                   fontsize=font)
    ax2.xaxis.tick_top()
    ax2.set_yticks([r * (h + 1) + (h - 1) / 2 for r in range(p_count)], [f"p={p + 1}" for p in range(p_count)],
                   fontsize=font)
    ax2.tick_params(length=0)
    ax2.set_xlabel("output map q of C2", fontsize=font)
    ax2.set_ylabel("input map p of S1", fontsize=font)
    cbar = fig.colorbar(image, ax=ax2, shrink=0.9, aspect=20)
    cbar.set_label("weight", fontsize=font)
    cbar.ax.tick_params(labelsize=font)
    if title:
        fig.suptitle(title, fontsize=font + 2)
    return fig


def show_feature_maps(caches, label=None, *, title=None) -> Figure:
    """Feature maps of one digit under several parameter sets.

    ``caches`` is ``{row title: forward cache of ONE image}`` (``helpers.network.forward``),
    e.g. ``{"before training": ..., "after training": ...}``. Each parameter set gets the digit
    at the left, the six maps of C1 (24x24) in one row and the twelve maps of C2 (8x8) in one row
    below, all on the activation scale 0..1 (sigmoid outputs), labelled ``p=``/``q=`` in
    :data:`PROJECTED_FONT`. Returns the figure.
    """
    if not isinstance(caches, Mapping) or not caches:
        raise TypeError("caches must be a non-empty dict {row title: cache of one image}")
    rows = len(caches)
    font = PROJECTED_FONT
    fig = new_figure(9.2, 2.8 * rows + (0.5 if title else 0.1))
    grid = fig.add_gridspec(2 * rows, 2, width_ratios=[0.9, 6.0], height_ratios=[1.6, 1.0] * rows)
    image, map_axes = None, []
    for r, (name, cache) in enumerate(caches.items()):
        if not isinstance(cache, Mapping) or any(k not in cache for k in ("x", "C1", "C2")):
            raise TypeError(f"caches[{name!r}] must be the forward cache of one image")
        C1, C2 = stack_maps(cache["C1"], "C1"), stack_maps(cache["C2"], "C2")
        x = np.asarray(cache["x"], dtype=float)
        if x.ndim != 2:
            raise ValueError(f"caches[{name!r}] must be the cache of one image, x has shape {x.shape}")
        ax_digit = fig.add_subplot(grid[2 * r:2 * r + 2, 0])
        show_digit(x, label=label, ax=ax_digit, colorbar=False, title=str(name))
        ax_digit.title.set_fontsize(font)
        ax_digit.xaxis.label.set_fontsize(font)
        ax_digit.set_xlabel(f"{x.shape[0]}x{x.shape[1]} pixels")
        top = max(1.0, float(C1.max()), float(C2.max()))
        ax_c1, ax_c2 = fig.add_subplot(grid[2 * r, 1]), fig.add_subplot(grid[2 * r + 1, 1])
        map_axes += [ax_c1, ax_c2]
        image = mosaic_panel(ax_c1, C1, C1.shape[0], top, "p", f"C1: {C1.shape[0]} maps {C1.shape[1]}x{C1.shape[2]}",
                             signed=False, fontsize=font, title_size=font)
        mosaic_panel(ax_c2, C2, C2.shape[0], top, "q", f"C2: {C2.shape[0]} maps {C2.shape[1]}x{C2.shape[2]}",
                     signed=False, fontsize=font, title_size=font)
    cbar = fig.colorbar(image, ax=map_axes, shrink=0.8, aspect=30)
    cbar.set_label("activation (sigmoid output)", fontsize=font)
    cbar.ax.tick_params(labelsize=font)
    if title:
        fig.suptitle(title, fontsize=font + 2)
    return fig


SNAPSHOT_SCALES = {
    "all epochs": "error (same scale for every epoch)",
    "this epoch": "error (scale of this epoch)",
    "symlog": "error (symmetric log, every epoch)",
}
"""Colour scales of :func:`show_training_snapshot`'s error maps, with their colour-bar labels."""


def _symlog_ticks(linthresh: float, limit: float) -> list[float]:
    """Ticks of a symmetric-log colour bar: 0 and +-10^k from ``linthresh`` up to ``limit``, at
    most three decades a side (every other decade if more), so that no two labels touch."""
    decades = 10.0 ** np.arange(math.ceil(math.log10(linthresh)), math.floor(math.log10(limit)) + 1)
    if decades.size > 3:
        decades = decades[::-1][::2][::-1]
    return [float(-v) for v in decades[::-1]] + [0.0] + [float(v) for v in decades]


def _exponent_label(value: float, _pos=None) -> str:
    """``1e-3``, ``-1e-3`` and ``0``: short tick labels of a symmetric-log colour bar."""
    if value == 0:
        return "0"
    return f"{'-' if value < 0 else ''}1e{round(math.log10(abs(value)))}"


def show_training_snapshot(trace, epoch, x, label=None, *, title=None, scale="all epochs", into=None) -> Figure:
    """One checkpoint of :func:`helpers.train.digit_trace`: what the network does with one digit.

    Panels: the digit ``x`` (28, 28); the outputs ``y_hat`` (true class in green, a wrong
    answer in red); the six C1 kernels ``k1``, on one colour scale for **all** checkpoints of
    ``trace`` (centred on zero), so scrubbing through epochs shows the kernels grow (on their own
    scale at this epoch with ``scale="this epoch"``, so that faint early kernels show); the error
    maps of this digit before the sigmoid, ``dC1_sigma`` (6, 24, 24, Zhang eq. 57) and
    ``dC2_sigma`` (12, 8, 8, eq. 37). ``scale`` sets the colours of the error maps (see
    :data:`SNAPSHOT_SCALES`): ``"all epochs"`` (one linear scale, errors fade as they shrink),
    ``"this epoch"`` (each map set on its own largest value at this epoch: late, tiny errors stay
    visible) or ``"symlog"`` (symmetric log over every epoch, linear below 1/1000 of the largest
    error). ``epoch`` indexes the trace (0 = before training). Each set of maps is one mosaic
    image labelled ``p=``/``q=``; drawn for notebook 06's checkpoint explorer with text of at least
    :data:`~helpers.figures.base.PROJECTED_TEXT_PX` and laid out by hand (no layout engine).

    ``into``: a figure this function returned before, for a trace of the same shapes; its
    pictures, bars, colour scales and titles are redrawn in place and it is returned (what a
    widget does on every control change: no new axes, and the text measured once). Returns the
    figure.
    """
    if not isinstance(trace, Mapping):
        raise TypeError("trace must be the dict returned by helpers.train.digit_trace")
    if scale not in SNAPSHOT_SCALES:
        raise ValueError(f"scale must be one of {list(SNAPSHOT_SCALES)}, got {scale!r}")
    count = len(trace["loss"])
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or not 0 <= epoch < count:
        raise ValueError(f"epoch must be an int in 0..{count - 1}, got {epoch!r}")
    shapes = tuple(np.shape(trace[key])[1:] for key in ("y_hat", "k1", "dC1_sigma", "dC2_sigma"))
    parts = getattr(into, "_snapshot_parts", None)
    if into is not None and (parts is None or parts["shapes"] != shapes):
        raise ValueError("into must be a figure returned by show_training_snapshot for a trace of the same shapes")
    if parts is None:
        into = _snapshot_layout(shapes)
        parts = into._snapshot_parts
    _snapshot_update(into, parts, trace, int(epoch), x, label, title, scale)
    return into


_SNAPSHOT_ERRORS = (("dC1_sigma", 3, "p", "ΔC¹", 57), ("dC2_sigma", 4, "q", "ΔC²", 37))
"""The error mosaics of :func:`show_training_snapshot`: key, columns, label prefix, symbol (plain text,
not mathtext, which a new renderer would parse again on every redraw) and Zhang's equation."""


def _snapshot_layout(shapes) -> Figure:
    """The axes, mosaics and colour bars of :func:`show_training_snapshot` for a trace whose
    ``y_hat``, ``k1``, ``dC1_sigma`` and ``dC2_sigma`` have ``shapes`` per checkpoint, with
    placeholder data; the artists to update are kept on the figure (``_snapshot_parts``)."""
    font = projected_points(Figure(dpi=100))  # 14 px at the book's dpi
    line = 1.25 * (font + 1) / 72  # one line of a panel title, inches

    def geometry(shape, ncols, width):
        """Row gap (mosaic pixels, room for a label) and height (inches) of a mosaic ``width`` wide."""
        k, h, w = shape
        cols_px = ncols * (w + 1) - 1
        row_gap = max(1, math.ceil(1.6 * font / 72 * cols_px / width))
        return row_gap, width * (math.ceil(k / ncols) * (h + row_gap) - row_gap) / cols_px

    def mosaic(left, top, width, shape, ncols, prefix):
        """A mosaic of maps of ``shape`` ``width`` inches wide, room for a two-line title above its labels."""
        row_gap, height = geometry(shape, ncols, width)
        ax = axes_at(fig, left, top, width, height, from_top=True)
        image = mosaic_panel(ax, np.zeros(shape), ncols, 1.0, prefix, "", fontsize=font, row_gap=row_gap)
        ax.set_title("", fontsize=font + 1, pad=1.9 * font)  # above the p=/q= labels
        bar = colorbar_at(fig, image, (left + width + 0.15, top, 0.14, height), "", fontsize=font, from_top=True,
                          powerlimits=(-2, 2))
        return {"ax": ax, "image": image, "bar": bar, "ncols": ncols, "row_gap": row_gap}

    head = 2 * line + 1.9 * font / 72 + 0.06  # a two-line title over a row of map labels
    width_k, width_e = 2.15, 2.75
    k_height = geometry(shapes[1], 3, width_k)[1]
    top1 = 0.38 + head
    top2 = top1 + k_height + 0.55 + head
    bottom = max(geometry(shape, ncols, width_e)[1] for shape, (_, ncols, *_) in zip(shapes[2:], _SNAPSHOT_ERRORS))
    fig = fixed_figure(MAX_WIDTH, round(top2 + bottom + 0.12, 2))
    parts = {"shapes": tuple(shapes), "font": font}
    # row 1: the digit, the outputs, the kernels
    ax_x = axes_at(fig, 0.1, top1 + (k_height - 1.45) / 2, 1.45, 1.45, from_top=True)
    show_digit(np.zeros((28, 28)), ax=ax_x, colorbar=False)
    ax_x.title.set_fontsize(font)
    ax_x.xaxis.label.set_fontsize(font)
    ax_y = axes_at(fig, 2.25, top1, 2.55, k_height, from_top=True)
    classes = shapes[0][0]
    parts["bars"] = ax_y.bar(np.arange(classes), np.zeros(classes))
    ax_y.set_xticks(np.arange(classes))
    ax_y.set_yticks([0.0, 0.5, 1.0])
    ax_y.set_ylim(0, 1)
    ax_y.set_xlabel("class i", fontsize=font, labelpad=2)
    ax_y.set_ylabel("output ŷᵢ", fontsize=font, labelpad=2)
    ax_y.tick_params(labelsize=font)
    ax_y.title.set_fontsize(font + 1)
    parts["k1"] = mosaic(5.45, top1, width_k, shapes[1], 3, "p")
    parts["k1"]["bar"].set_label("weight", fontsize=font)
    # row 2: the error maps
    for (key, ncols, prefix, _, _), shape, left in zip(_SNAPSHOT_ERRORS, shapes[2:], (0.3, 4.75)):
        parts[key] = mosaic(left, top2, width_e, shape, ncols, prefix)
    parts.update(digit=ax_x, outputs=ax_y)
    fig.suptitle(" ", fontsize=font + 2, y=1 - 0.08 / fig.get_figheight(), va="top")
    fig._snapshot_parts = parts
    return fig


def _set_mosaic(part, maps, norm, title, bar_label=None):
    """New maps, colour scale and title for a mosaic of :func:`_snapshot_layout`."""
    part["image"].set_data(block_mosaic(maps, part["ncols"], row_gap=part["row_gap"]))
    part["image"].set_norm(norm)  # the colour bar follows (and resets its ticks)
    part["ax"].title.set_text(title)
    bar = part["bar"]
    if bar_label is not None:
        bar.set_label(bar_label)
    if isinstance(norm, SymLogNorm):
        bar.set_ticks(_symlog_ticks(norm.linthresh, norm.vmax))
        bar.ax.yaxis.set_major_formatter(_exponent_label)
        bar.ax.yaxis.set_minor_locator(NullLocator())
    else:
        linear_ticks(bar)


def _snapshot_update(fig, parts, trace, epoch, x, label, title, scale) -> None:
    """Draw checkpoint ``epoch`` of ``trace`` into the figure of :func:`_snapshot_layout`."""
    y_hat = np.asarray(trace["y_hat"][epoch], dtype=float)
    predicted = int(np.argmax(y_hat))

    def limit(key):
        return max(float(np.max(np.abs(trace[key]))), TINY)

    arr = as_float_array(x, "x", allow_int=True)
    if arr.ndim == 1 and arr.size and math.isqrt(arr.size) ** 2 == arr.size:  # a flat image, as show_digit takes
        arr = arr.reshape(math.isqrt(arr.size), -1)
    check_ndim(arr, "x", 2, "(28, 28) or (784,)")
    digit = parts["digit"]
    digit.images[0].set_data(arr)
    digit.images[0].set_clim(min(0.0, float(arr.min())), max(1.0, float(arr.max())))
    digit.title.set_text(f"input x, label {label}" if label is not None else "input x")
    digit.set_xlabel(f"{arr.shape[0]} x {arr.shape[1]} pixels")
    for i, (bar, value) in enumerate(zip(parts["bars"], y_hat)):
        bar.set_height(value)
        bar.set_color("tab:green" if label is not None and i == int(label) else
                      "tab:red" if i == predicted else "tab:blue")
    right = label is None or predicted == int(label)
    verdict = "" if label is None else (" (right)" if right else " (wrong)")
    colour_key = (f"green: class {int(label)}, red: answer" if label is not None and not right
                  else ("green: the true class" if label is not None else "red: the answer"))
    parts["outputs"].title.set_text(f"outputs: answer {predicted}{verdict}\n{colour_key}")
    k1 = np.asarray(trace["k1"][epoch], dtype=float)
    k1_limit = max(float(np.abs(k1).max()), TINY) if scale == "this epoch" else limit("k1")
    _set_mosaic(parts["k1"], k1, Normalize(-k1_limit, k1_limit), f"C1 kernels k1\n(max |k1| = {np.abs(k1).max():.2f})")
    for key, _, _, name, eq in _SNAPSHOT_ERRORS:
        maps = np.asarray(trace[key][epoch], dtype=float)
        peak = float(np.abs(maps).max())
        m = max(peak, TINY) if scale == "this epoch" else limit(key)
        norm = (SymLogNorm(linthresh=m * 1e-3, vmin=-m, vmax=m, base=10) if scale == "symlog"
                else Normalize(-m, m))
        _set_mosaic(parts[key], maps, norm, f"error {name} (before σ, eq. {eq})\nmax |.| = {peak:.1e}",
                    SNAPSHOT_SCALES[scale])
    loss = float(trace["loss"][epoch])
    fig._suptitle.set_text(title or (f"after epoch {epoch}: loss of this digit {loss:.3g}" if epoch else
                                     f"before training: loss of this digit {loss:.3g}"))
