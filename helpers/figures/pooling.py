"""The column scan F and the pooling layers: where each entry of ``f`` sits, how the error is
routed back through pooling (notebook 04, Zhang eqs. 10-11 and 31-32, seed 002 BP2)."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from helpers._validate import as_float_array, check_choice, check_ndim, check_positive_int
from helpers.figures.base import (MAX_WIDTH, SMALL_FONT, SIGNED_CMAP, annotate_cells, default_ncols, mosaic_panel,
                                  new_figure, norm_for, projected_points, stack_maps, symmetric_limits)
from helpers.figures.layout import axes_at, colorbar_at, fixed_figure
from helpers.figures.maps import show_digit, show_maps
from helpers.flatten import column_unscan

__all__ = ["flatten_index_maps", "show_scan_order", "show_pool_routing", "show_error_upsampling"]


def flatten_index_maps(n_maps: int = 12, side: int = 4, order: str = "column") -> np.ndarray:
    """Integer maps ``(n_maps, side, side)``: entry ``[q, i, j]`` is the 0-based index ``n`` of
    the flat vector that map ``q``'s cell ``(i, j)`` becomes.

    ``order="column"`` is Zhang's column scan (eq. 10): ``n = q*side^2 + j*side + i``;
    ``order="row"`` is numpy's ``reshape`` (row scan): ``n = q*side^2 + i*side + j``.
    """
    check_choice(order, "order", ("column", "row"))
    n_maps, side = check_positive_int(n_maps, "n_maps"), check_positive_int(side, "side")
    idx = np.arange(n_maps * side * side)
    return column_unscan(idx, n_maps, side) if order == "column" else idx.reshape(n_maps, side, side)


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
    fig = show_maps(idx, title=title, ncols=ncols if ncols is not None else default_ncols(n_maps),
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
    from helpers import pooling  # the layer itself, not this module: figures do not otherwise need it
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
    signed = norm_for([err, dx], True)
    panels = [(axes[0], arr, "Greys", plain, f"input of pooling\n({arr.shape[0]}x{arr.shape[1]})"),
              (axes[1], S, "Greys", plain, f"{mode}-pooled output\n({ho}x{wo})"),
              (axes[2], err, SIGNED_CMAP, signed, "error arriving\nat the output"),
              (axes[3], dx, SIGNED_CMAP, signed, "error sent back\nto the input")]
    for ax, m, cmap, norm, name in panels:
        image = ax.imshow(m, cmap=cmap, norm=norm, interpolation="nearest")
        annotate_cells(ax, m, cmap, norm, fmt, fontsize=max(6.0, 11.0 - 0.5 * max(m.shape)))
        ax.set_xticks(range(m.shape[1]))
        ax.set_yticks(range(m.shape[0]))
        ax.tick_params(labelsize=SMALL_FONT)
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
    cbar.ax.tick_params(labelsize=SMALL_FONT)
    fig.suptitle(title or f"{mode} pooling, window {size}x{size}, stride {stride}", fontsize=11)
    return fig


def show_error_upsampling(dS, dC, x=None, label=None, *, mode: str = "avg", share: bool = True,
                          title=None, ncols: int = 4) -> Figure:
    """The error on a pooled layer next to the error it becomes on the layer before pooling.

    ``dS`` (K, h, w) is e.g. Zhang's Delta S2 (12, 4, 4) = F^{-1}(Delta f) (eq. 31) and ``dC``
    (K, 2h, 2w) the upsampled Delta C2 (12, 8, 8) (eq. 32 for ``mode="avg"``, the max-pool routing
    of seed 002 for ``mode="max"``). ``x`` (28, 28), if given, is drawn on the left with
    ``label``. Each set of maps is one mosaic image of ``ncols`` columns, maps labelled
    ``q=1..K``; a map of ``dS`` is drawn as large as its map of ``dC`` (each of its cells covers
    the pixels it is spread over). With ``share`` both mosaics use one symmetric colour scale, so
    the 1/4 of average pooling shows as paler colours, and one colour bar says so; otherwise
    each mosaic has its own scale and colour bar, and each says so (readable on a projector when
    one set is much weaker). Drawn for notebook 04's widget: text of at least
    :data:`~helpers.figures.base.PROJECTED_TEXT_PX`, laid out by hand (no layout engine), so a
    redraw is fast. Returns the figure.
    """
    s = stack_maps(dS, "dS")
    c = stack_maps(dC, "dC")
    if s.shape[0] != c.shape[0]:
        raise ValueError(f"dS has {s.shape[0]} maps but dC has {c.shape[0]}; they must match")
    k = s.shape[0]
    ncols = max(1, min(int(ncols), k))
    nrows = math.ceil(k / ncols)
    fy, fx = c.shape[1] / s.shape[1], c.shape[2] / s.shape[2]
    shown_s = s
    if fy == int(fy) >= 1 and fx == int(fx) >= 1:  # dC's geometry: map q sits at the same place in both
        shown_s = np.repeat(np.repeat(s, int(fy), axis=1), int(fx), axis=2)
    font = projected_points(Figure(dpi=100))  # 14 px at the book's dpi
    # the hand layout, in inches: [digit] mosaic [bar] mosaic bar; a bar with its ticks and label
    bar, bar_room, digit = 0.14, 0.95, (1.6 if x is not None else 0.0)
    left = 0.1 + (digit + 0.3 if x is not None else 0.0)
    bars = 1 if share else 2
    mosaic_w = (MAX_WIDTH - left - bars * (0.12 + bar + bar_room) - (0.2 if share else 0.05)) / 2
    h, w = c.shape[1:]
    cols_px = ncols * (w + 1) - 1
    row_gap = max(1, math.ceil(1.6 * font / 72 * cols_px / mosaic_w))  # a label row between rows of maps
    mosaic_h = mosaic_w * (nrows * (h + row_gap) - row_gap) / cols_px
    top = 0.38 if title else 0.08
    head = 2 * 1.25 * (font + 1) / 72 + 1.9 * font / 72 + 0.08  # two title lines over a row of labels
    body = max(head + mosaic_h, digit + 0.8)
    fig = fixed_figure(MAX_WIDTH, round(top + body + 0.15, 2))
    if x is not None:
        ax = axes_at(fig, 0.1, top + (body - digit) / 2, digit, digit, from_top=True)
        show_digit(x, label=label, ax=ax, colorbar=False)
        ax.title.set_fontsize(font)
        ax.xaxis.label.set_fontsize(font)
    y0 = top + (body - head - mosaic_h) / 2 + head
    ax_s = axes_at(fig, left, y0, mosaic_w, mosaic_h, from_top=True)
    second = left + mosaic_w + (0.2 if share else 0.12 + bar + bar_room + 0.05)
    ax_c = axes_at(fig, second, y0, mosaic_w, mosaic_h, from_top=True)
    limits = [symmetric_limits([s, c])[1]] * 2 if share else [symmetric_limits(s)[1], symmetric_limits(c)[1]]
    scale = " (same colour scale)" if share else " (its own scale)"
    grids = ((ax_s, shown_s, limits[0], f"error on the pooled maps\n({k} of {s.shape[1]}x{s.shape[2]})", "dL/dS"),
             (ax_c, c, limits[1], f"after {mode} upsampling\n({k} of {h}x{w})", "dL/dC"))
    images = []
    for ax, maps, limit, name, _ in grids:
        images.append(mosaic_panel(ax, maps, ncols, limit, "q", name, fontsize=font, title_size=font + 1,
                                   row_gap=row_gap))
        ax.set_title(name, fontsize=font + 1, pad=1.9 * font)  # above the q= labels
    places = [(images[1], second + mosaic_w + 0.12, "dL/dS and dL/dC\n" + scale.strip())] if share else \
        [(images[0], left + mosaic_w + 0.12, "dL/dS" + scale), (images[1], second + mosaic_w + 0.12, "dL/dC" + scale)]
    for image, at, text in places:
        colorbar_at(fig, image, (at, y0, bar, mosaic_h), text, fontsize=font, from_top=True, powerlimits=(-2, 2))
    if title:
        fig.suptitle(title, fontsize=font + 2, y=1 - 0.08 / fig.get_figheight(), va="top")
    return fig
