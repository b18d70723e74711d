"""Convolution: one worked example, where a kernel is placed, initial weights (notebooks 01-02),
and a kernel gradient as the sum it is (notebook 05, Zhang eqs. 36-40 and 56-59)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from helpers._validate import as_float_array, check_ndim
from helpers.figures.base import (SMALL_FONT, ACTIVATION_CMAP, SIGNED_CMAP, annotate_cells, block_mosaic,
                                  new_figure, norm_for, signed_norm)
from helpers.figures.maps import show_digit

__all__ = ["show_conv_example", "show_kernel_placement", "show_init_histograms", "kernel_gradient_terms",
           "show_kernel_gradient_terms", "show_kernel_mosaic"]


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
    # input and feature map above, the two kernels (large enough for their values at 8 pt) below
    fig = new_figure(9.2, 5.8)
    axes = [fig.add_subplot(2, 2, 1), fig.add_subplot(2, 2, 3), fig.add_subplot(2, 2, 4), fig.add_subplot(2, 2, 2)]
    show_digit(img, label=label, ax=axes[0], colorbar=True)
    knorm = signed_norm(ker)
    kernel_titles = ("kernel k as typed", "slid over x: " + ("k" if slid is ker else "rot180(k)"))
    for ax, m, name in zip(axes[1:3], (ker, slid), kernel_titles):
        image = ax.imshow(m, cmap=SIGNED_CMAP, norm=knorm, interpolation="nearest")
        annotate_cells(ax, m, SIGNED_CMAP, knorm, ".2f", fontsize=SMALL_FONT if m.shape[0] > 3 else 9)
        ax.set_xticks(range(m.shape[1]))
        ax.set_yticks(range(m.shape[0]))
        ax.tick_params(labelsize=SMALL_FONT)
        ax.set_xlabel("column b (0-based)", fontsize=8)
        ax.set_ylabel("row a (0-based)", fontsize=8)
        ax.set_title(name, fontsize=10)
    cbar = fig.colorbar(image, ax=list(axes[1:3]), shrink=0.9)
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
                ax.text(c, r, f"{a}{b}", ha="center", va="center", fontsize=SMALL_FONT,
                        color="white" if (a, b) == (0, 0) else "black",
                        fontweight="bold" if (a, b) == (0, 0) else "normal")
        ax.imshow(shade, cmap="Blues", vmin=-0.4, vmax=1.6, interpolation="nearest")
        tap00 = place[0, 0]
        ax.add_patch(Rectangle((tap00[1] - 0.5, tap00[0] - 0.5), 1, 1,
                                                  fill=True, color="C3", alpha=0.85))
        ax.text(tap00[1], tap00[0], "00", ha="center", va="center", fontsize=SMALL_FONT,
                color="white", fontweight="bold")
        centre = place[f // 2, f // 2]
        ax.add_patch(Circle((centre[1], centre[0]), 0.45, fill=False,
                                               edgecolor="black", linewidth=1.2))
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.tick_params(labelsize=SMALL_FONT)
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
    # at most three panels in a row, so that each stays readable at 930 px
    ncols = len(names) if len(names) <= 3 else 2
    nrows = -(-len(names) // ncols)
    fig = new_figure(min(3.1 * ncols, 9.2), 2.8 * nrows)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(names):]:
        fig.delaxes(ax)
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
        ax.legend(fontsize=SMALL_FONT, loc="upper center")
    return fig


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
                               input_label="activation", title=None, fmt=".2f", taps=None) -> Figure:
    """One kernel gradient drawn as the sum it is (Zhang eqs. 36/39 and 56/58).

    Left: the layer's input map ``input_map`` (H, W) with the block that kernel tap
    ``(u, v) = (-c, -c)`` reads outlined, and the error before the sigmoid ``error_map``
    (Ho, Wo). Middle: a kh x kw grid, one panel per kernel tap ``(u, v)`` (Zhang's centred
    indices, -c..c): the input patch that tap touches (``show="patches"``) or that patch times
    the error map (``show="products"``), labelled ``(u, v)``. The kernel gradient, whose entry
    ``(u, v)`` is the sum of that product, is drawn with its values written in (format ``fmt``,
    scaled by the power of ten named on its colour bar, so they stay legible at 930 px).
    Names are LaTeX without dollars; ``input_label`` labels the input's colourbar. ``taps``, a
    list of centred ``(u, v)``, draws only those taps' panels, in one row and larger (readable
    when projected); default every tap.
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
    chosen = [(a, b) for a in range(kh) for b in range(kw)] if taps is None else \
        [(int(u) + ch, int(v) + cw) for u, v in taps]
    if not chosen or any(not (0 <= a < kh and 0 <= b < kw) for a, b in chosen):
        raise ValueError(f"taps must be a non-empty list of (u, v) in -{ch}..{ch}, got {taps!r}")
    ncols = kw if taps is None else len(chosen)

    # Readable at 930 px: the three small maps in a row above, the kh x kw patches below; the
    # sums are written into the kernel gradient (scaled by a power of ten named on its colour
    # bar), not as tiny labels on the patches.
    fig = new_figure(9.2, 7.4)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 1.35])
    ax_in, ax_err = top.add_subplot(1, 3, 1), top.add_subplot(1, 3, 2)
    cmap_in = input_cmap or ACTIVATION_CMAP
    im = ax_in.imshow(inp, cmap=cmap_in, interpolation="nearest")
    r0, c0 = (kh - 1, kw - 1) if convention == "convolution" else (0, 0)
    ax_in.add_patch(Rectangle((c0 - 0.5, r0 - 0.5), wo, ho, fill=False,
                                                 edgecolor="crimson", linewidth=1.5))
    ax_in.set_title(f"input ${input_name}$ ({inp.shape[0]}x{inp.shape[1]})\n"
                    f"red box: read by tap ({-ch},{-cw})", fontsize=9)
    ax_in.set_xlabel("column (0-based)", fontsize=8)
    ax_in.set_ylabel("row (0-based)", fontsize=8)
    ax_in.tick_params(labelsize=SMALL_FONT)
    cb = top.colorbar(im, ax=ax_in, shrink=0.85)
    cb.set_label(input_label, fontsize=8)
    cb.ax.tick_params(labelsize=SMALL_FONT)
    norm_err = norm_for([err], True)
    im = ax_err.imshow(err, cmap=SIGNED_CMAP, norm=norm_err, interpolation="nearest")
    ax_err.set_title(f"error ${error_name}$\n({ho}x{wo})", fontsize=9)
    ax_err.set_xlabel("column j (0-based)", fontsize=8)
    ax_err.set_ylabel("row i (0-based)", fontsize=8)
    ax_err.tick_params(labelsize=SMALL_FONT)
    cb = top.colorbar(im, ax=ax_err, shrink=0.85)
    cb.set_label("error", fontsize=8)
    cb.ax.tick_params(labelsize=SMALL_FONT)

    grid = products if show == "products" else patches
    signed = show == "products"
    norm = norm_for([grid], signed)
    cmap = SIGNED_CMAP if signed else cmap_in
    # one image for the kh x kw panels (a grid of 25 axes takes seconds to draw)
    gap = max(2, round(0.35 * ho))
    mosaic = block_mosaic(np.stack([grid[a, b] for a, b in chosen]), ncols, gap=gap)
    ax_m = bottom.add_subplot()
    im = ax_m.imshow(mosaic, cmap=matplotlib.colormaps[cmap].with_extremes(bad="white"), norm=norm,
                     interpolation="nearest")
    ax_m.set_ylim(mosaic.shape[0] - 0.5, -gap - 0.5)
    ax_m.set_xticks([])
    ax_m.set_yticks([])
    for spine in ax_m.spines.values():
        spine.set_visible(False)
    for k, (a, b) in enumerate(chosen):
        row, col = divmod(k, ncols)
        ax_m.text(col * (wo + gap) + (wo - 1) / 2, row * (ho + gap) - 0.6,
                  f"({a - ch},{b - cw})", ha="center", va="bottom", fontsize=SMALL_FONT if taps is None else 9)
        ax_m.add_patch(Rectangle((col * (wo + gap) - 0.5, row * (ho + gap) - 0.5), wo, ho, fill=False,
                                 edgecolor="0.5", linewidth=0.6))
    which = "each tap (u,v)" if taps is None else f"{len(chosen)} of the {kh * kw} taps (u,v)"
    ax_m.set_title(f"patch x error for {which}: its sum is the gradient entry (u,v) above" if signed
                   else f"input patch read by {which}: sum of patch x error = gradient entry (u,v) above",
                   fontsize=9)
    cb = bottom.colorbar(im, ax=ax_m, shrink=0.85, aspect=30)
    cb.set_label("patch x error" if signed else "input value", fontsize=8)
    cb.ax.tick_params(labelsize=SMALL_FONT)

    ax_k = top.add_subplot(1, 3, 3)
    norm_k = norm_for([dk], True)
    im = ax_k.imshow(dk, cmap=SIGNED_CMAP, norm=norm_k, interpolation="nearest")
    peak = float(np.max(np.abs(dk)))
    power = int(np.floor(np.log10(peak))) if peak > 0 else 0
    annotate_cells(ax_k, dk / 10.0**power, SIGNED_CMAP, Normalize(norm_k.vmin / 10.0**power,
                   norm_k.vmax / 10.0**power), fmt, fontsize=SMALL_FONT)
    ax_k.set_xticks(range(kw), [str(v - cw) for v in range(kw)])
    ax_k.set_yticks(range(kh), [str(u - ch) for u in range(kh)])
    ax_k.tick_params(labelsize=SMALL_FONT)
    ax_k.set_xlabel("v (Zhang's centred index)", fontsize=8)
    ax_k.set_ylabel("u", fontsize=8)
    ax_k.set_title(f"kernel gradient\n${grad_name}(u,v)$", fontsize=9)
    cb = top.colorbar(im, ax=ax_k, shrink=0.85)
    cb.set_label("gradient" + (f" (numbers x 1e{power})" if power else ""), fontsize=8)
    cb.ax.tick_params(labelsize=SMALL_FONT)
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
    norm = norm_for([arr], signed)
    mosaic = block_mosaic(arr.reshape(p_count * q_count, h, w), q_count)
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

