"""Convolution: one worked example, where a kernel is placed, initial weights (notebooks 01-02),
and a kernel gradient as the sum it is (notebook 05, Zhang eqs. 36-40 and 56-59)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from helpers._validate import as_float_array, check_ndim
from helpers.figures.base import (MAX_WIDTH, SMALL_FONT, ACTIVATION_CMAP, IMAGE_CMAP, SIGNED_CMAP, annotate_cells,
                                  block_mosaic, new_figure, norm_for, projected_points, signed_norm)
from helpers.figures.layout import Sheet, bar_room, power_of_ten, text_width

__all__ = ["show_conv_example", "show_kernel_placement", "show_init_histograms", "kernel_gradient_terms",
           "show_kernel_gradient_terms", "show_kernel_mosaic"]


_OPERATIONS = ("cross-correlation", "convolution")


def _kernel_format(k) -> str:
    """How a kernel's values are written: integers as integers (a preset), else two decimals."""
    return ".0f" if np.all(k == np.round(k)) else ".2f"


def _kernel_panel(sheet, m, left, top, cell, norm, name):
    """Kernel ``m`` on ``sheet`` with cells ``cell`` inches wide, its values written in
    (:func:`_kernel_format`), rows ``a`` and columns ``b`` (0-based) labelled left and below,
    ``name`` above. Returns the image."""
    kh, kw = m.shape
    image = sheet.image(m, left, top, cell * kw, cell * kh, SIGNED_CMAP, norm, label=name.replace("\n", " "))
    annotate_cells(sheet.ax, m, SIGNED_CMAP, norm, _kernel_format(m), fontsize=sheet.size,
                   transform=sheet.cells(image))
    sheet.text(left + cell * kw / 2, top - 0.06, name, ha="center", va="bottom")
    for b in range(kw):
        sheet.text(left + (b + 0.5) * cell, top + cell * kh + 0.05, str(b), ha="center", va="top")
    for a in range(kh):
        sheet.text(left - 0.06, top + (a + 0.5) * cell, str(a), ha="right", va="center")
    sheet.text(left + cell * kw / 2, top + cell * kh + 0.1 + 1.2 * sheet.em, "column b (0-based)", ha="center",
               va="top")
    sheet.text(left - 0.2, top + cell * kh / 2, "row a (0-based)", ha="right", va="center", rotation=90)
    return image


def show_conv_example(x, k, out, operation="cross-correlation", *, label=None,
                      title=None, typed=True) -> Figure:
    """Input ``x`` (H, W), kernel ``k`` (kh, kw), the kernel as it is slid, feature map ``out``.

    ``operation`` is ``"cross-correlation"`` (seed 002, seed 004's worked examples: the window of
    ``x`` is multiplied entry by entry with ``k``) or ``"convolution"`` (Zhang eq. 5: the window is
    multiplied with ``rot180(k)``). The feature map is drawn on a diverging scale centred on zero,
    the kernels on one signed scale with their values written in, rows ``a`` and columns ``b``
    0-based. With ``typed`` (default): the input and the feature map above, the kernel as typed
    and as slid below; without (a widget whose kernel editor shows ``k`` as typed): one row,
    input, kernel as slid, feature map, like the equation. The figure is one hand-placed axes
    (:class:`Sheet`), its images named (``get_label()``). Returns the figure.
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
    kh, kw = ker.shape

    # layout in inches: kernel cells wide enough for their numbers, a vertical colour bar right
    # of each map and of the kernels
    em = projected_points(new_figure(1, 1)) / 72.0
    cell = max(text_width([format(v, _kernel_format(ker)) for v in ker.ravel()], em) + 0.1,
               min(0.6, 2.2 / max(kh, kw)))
    k_w, k_h = cell * kw, cell * kh
    lo, hi = min(0.0, float(img.min())), max(1.0, float(img.max()))
    norms = {"input": Normalize(lo, hi), "out": signed_norm(res), "k": signed_norm(ker)}
    room = {name: bar_room(norm, em) for name, norm in norms.items()}
    k_left = 0.25 + 1.3 * em  # the kernel's row labels
    shown = "x, label " + str(label) if label is not None else "x"
    slid_name = "slid over x: " + ("k" if slid is ker else "rot180(k)")
    out_name = f"{operation}: {res.shape[0]}x{res.shape[1]} map"
    if typed:  # two rows of two columns, each row centred in its column
        row1 = 2.0 + 0.15 + max(room["input"], room["out"])
        row2 = k_left + k_w + 0.2 + room["k"]
        width = min(MAX_WIDTH, max(7.6, 2 * max(row1, row2) + 0.2))
        col, side = width / 2, 2.0
        top = (1.8 * em if title else 0.0) + 0.1 + 1.4 * em
        top2 = top + side + 0.25 + 1.4 * em
        height = top2 + k_h + 0.12 + 2.6 * em + 0.08
        x_in, x_out = (col - row1) / 2, col + (col - row1) / 2
        x_k = [(col - row2) / 2 + k_left, col + (col - row2) / 2 + k_left]
        names = [f"input {shown}, {img.shape[0]}x{img.shape[1]}", out_name, "kernel k as typed", slid_name]
    else:  # one row: input, kernel as slid, feature map; the maps' colour bars below them
        side = min(2.4, (MAX_WIDTH - 0.1 - 0.3 - k_left - k_w - 0.2 - room["k"] - 0.3 - 0.1) / 2)
        width = MAX_WIDTH
        top = (1.8 * em if title else 0.0) + 0.1 + 2.6 * em
        top2 = top
        height = top + max(side + 0.12 + 0.2 + 2.6 * em, k_h + 0.12 + 2.6 * em) + 0.08
        x_in = 0.1
        x_k = [None, x_in + side + 0.3 + k_left]
        x_out = x_k[1] + k_w + 0.2 + room["k"] + 0.3
        names = [f"input {shown}\n{img.shape[0]}x{img.shape[1]} pixels",
                 f"{operation}:\n{res.shape[0]}x{res.shape[1]} map", None, slid_name.replace(": ", ":\n")]
    sheet = Sheet(width, height)

    # the input and the feature map: a picture, its name above, its colour bar right or below
    for data, left, cmap, norm, label, name, bar_label in (
            (img, x_in, IMAGE_CMAP, norms["input"], "input", names[0], "pixel intensity"),
            (res, x_out, SIGNED_CMAP, norms["out"], "feature map", names[1], "response (0 = white)")):
        h = side * min(1.0, data.shape[0] / data.shape[1])
        image = sheet.image(data, left, top, side, h, cmap, norm, label=label)
        sheet.text(left + side / 2, top - 0.06, name, ha="center", va="bottom")
        if typed:
            sheet.bar(image, left + side + 0.15, top, h, bar_label, vertical=True)
        else:
            sheet.bar(image, left + 0.15, top + h + 0.12, side - 0.3, bar_label)
    for m, name, left in zip((ker, slid), names[2:], x_k):
        if name is not None:
            image = _kernel_panel(sheet, m, left, top2, cell, norms["k"], name)
    sheet.bar(image, x_k[1] + k_w + 0.2, top2, k_h, "weight", vertical=True)
    if title:
        sheet.text(width / 2, 0.06, title, ha="center", va="top", fontsize=sheet.size + 1)
    return sheet.fig


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
    """One kernel gradient drawn as the sum it is (Zhang eqs. 36/39 and 56/58), in one row.

    From the left: the layer's input map ``input_map`` (H, W) with the block that the first tap
    shown reads outlined in red (tap ``(u, v) = (-c, -c)`` when every tap is shown); the error
    before the sigmoid ``error_map`` (Ho, Wo); the term of each tap ``(u, v)`` shown (Zhang's
    centred indices, -c..c): the input patch it reads (``show="patches"``, on the input's scale)
    or that patch times the error (``show="products"``, on the error's scale: a product is the
    error weighted by the input); and the kernel gradient, whose entry ``(u, v)`` is the sum of
    that product, with its values written in (format ``fmt``, divided by the power of ten its
    title names) and the taps shown framed. ``taps``, a list of centred ``(u, v)``, shows only
    those taps (one tap: the largest panels, what a lecturer projects); default every tap, as a
    kh x kw mosaic. Names are LaTeX without dollars; ``input_label`` labels the input's colour
    bar. The whole figure is one axes (see :class:`Sheet`); its images, in order, are the input,
    the error, the terms, the gradient, then the colour bars. Returns the figure.
    See :func:`kernel_gradient_terms`.
    """
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
    signed = show == "products"
    grid = products if signed else patches
    cmap_in = input_cmap or ACTIVATION_CMAP
    norm_in = norm_for([inp], False)
    norm_err = norm_for([err, np.stack([products[t] for t in chosen])] if signed else [err], True)

    # the terms: one panel for one tap, else one mosaic about as wide as high
    one = len(chosen) == 1
    ncols = kw if taps is None else math.ceil(math.sqrt(len(chosen)))
    gap = max(2, round(0.35 * ho))
    mosaic = grid[chosen[0]] if one else block_mosaic(np.stack([grid[t] for t in chosen]), ncols, gap=gap)
    labelled = not one and taps is not None  # "(u,v)" written above each tile

    # the layout, in inches: three maps of side s in a row, then the kernel gradient, wide enough
    # for its numbers; a colour bar under the maps
    size = projected_points(new_figure(1, 1))
    em = size / 72.0
    power = power_of_ten(float(np.max(np.abs(dk))))
    numbers = [format(value, fmt) for value in (dk / 10.0**power).ravel()]
    dk_w = max((text_width(numbers, em) + 0.15) * kw, 1.2)
    gap_w, left_w, dk_left = 0.3, 0.12, 0.5
    ratio = mosaic.shape[1] / (mosaic.shape[0] + (1.2 * em * mosaic.shape[0] / 2.0 if labelled else 0))
    side = min((MAX_WIDTH - left_w - 2 * gap_w - dk_left - dk_w - 0.1) / (2 + ratio), 2.4)
    top = (1.8 * em if title else 0.0) + 0.1 + 2.6 * em
    bar_top = top + side + 0.12
    sheet = Sheet(MAX_WIDTH, bar_top + 0.2 + 2.6 * em + 0.08)
    x_err = left_w + side + gap_w
    x_term = x_err + side + gap_w
    term_w = side * ratio
    x_dk = x_term + term_w + dk_left

    def title_above(x, w, s):
        sheet.text(x + w / 2, top - 0.06, s, ha="center", va="bottom", linespacing=1.1)

    h_in = side * min(1.0, inp.shape[0] / inp.shape[1])
    im_in = sheet.image(inp, left_w, top, side, h_in, cmap_in, norm_in, label="input")
    a0, b0 = chosen[0] if taps is not None else (0, 0)
    r0, c0 = (kh - 1 - a0, kw - 1 - b0) if convention == "convolution" else (a0, b0)
    px = side / inp.shape[1]
    sheet.frame(left_w + c0 * px, top + r0 * h_in / inp.shape[0], wo * px, ho * h_in / inp.shape[0],
                edgecolor="crimson", linewidth=2)
    title_above(left_w, side, f"input ${input_name}$, {inp.shape[0]}x{inp.shape[1]}\n"
                              f"red box: tap ({a0 - ch},{b0 - cw})")
    sheet.bar(im_in, left_w + 0.15, bar_top, side - 0.3, input_label)

    im_err = sheet.image(err, x_err, top, side, side * min(1.0, ho / wo), SIGNED_CMAP, norm_err, label="error")
    title_above(x_err, side, f"error ${error_name}$\n{ho}x{wo}")

    cmap = matplotlib.colormaps[SIGNED_CMAP if signed else cmap_in].with_extremes(bad="white")
    m_top = top + (1.2 * em if labelled else 0.0)
    m_h = side - (m_top - top)
    im_m = sheet.image(mosaic, x_term, m_top, term_w, m_h, cmap, norm_err if signed else norm_in,
                       label="terms", frame=one)
    what = "patch x error" if signed else "patch (red box)" if one else "patch read"
    if one:
        title_above(x_term, term_w, f"tap (u,v) = ({chosen[0][0] - ch},{chosen[0][1] - cw})\n{what}")
    else:
        title_above(x_term, term_w, f"{what}, {'every tap' if taps is None else f'{len(chosen)} taps'}\n"
                                    "sum = gradient entry")
        tile_w, tile_h = term_w * wo / mosaic.shape[1], m_h * ho / mosaic.shape[0]
        for k, (a, b) in enumerate(chosen):
            row, col = divmod(k, ncols)
            x0 = x_term + col * (wo + gap) * tile_w / wo
            y0 = m_top + row * (ho + gap) * tile_h / ho
            sheet.frame(x0, y0, tile_w, tile_h, linewidth=0.5, edgecolor="0.5")
            if labelled:
                sheet.text(x0 + tile_w / 2, y0 - 0.03, f"({a - ch},{b - cw})", ha="center", va="bottom")
    if signed:
        sheet.bar(im_m, x_err + 0.15, bar_top, x_term + term_w - x_err - 0.3, "error; patch x error")
    else:
        sheet.bar(im_err, x_err + 0.15, bar_top, side - 0.3, "error")
        sheet.bar(im_m, x_term + 0.15, bar_top, term_w - 0.3, input_label)

    norm_k = norm_for([dk], True)
    im_k = sheet.image(dk, x_dk, top, dk_w, side, SIGNED_CMAP, norm_k, label="gradient")
    scale = 10.0**power
    annotate_cells(sheet.ax, dk / scale, SIGNED_CMAP, Normalize(norm_k.vmin / scale, norm_k.vmax / scale), fmt,
                   fontsize=size, transform=sheet.cells(im_k))
    cell_w, cell_h = dk_w / kw, side / kh
    if taps is not None:
        for a, b in chosen:
            sheet.frame(x_dk + b * cell_w, top + a * cell_h, cell_w, cell_h, linewidth=2.5)
    for b in range(kw):
        sheet.text(x_dk + (b + 0.5) * cell_w, top + side + 0.05, str(b - cw), ha="center", va="top")
    for a in range(kh):
        sheet.text(x_dk - 0.06, top + (a + 0.5) * cell_h, str(a - ch), ha="right", va="center")
    sheet.text(x_dk + dk_w / 2, top + side + 0.1 + 1.2 * em, "v (centred index)", ha="center", va="top")
    sheet.text(x_dk - 0.3, top + side / 2, "u", ha="right", va="center")
    title_above(x_dk, dk_w, f"gradient ${grad_name}(u,v)$\n" + (f"numbers x 1e{power}" if power else "numbers"))
    if title:
        sheet.text(MAX_WIDTH / 2, 0.06, title, ha="center", va="top", fontsize=size + 1)
    return sheet.fig


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

