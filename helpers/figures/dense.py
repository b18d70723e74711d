"""The gradient of the fully connected layer (notebook 03, Zhang eqs. 18-19)."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure

from helpers._validate import as_float_array, check_ndim
from helpers.figures.base import SMALL_FONT, SIGNED_CMAP, block_mosaic, default_ncols, new_figure, norm_for, text_colour
from helpers.figures.layout import (WIDGET_FONT, axes_at, colorbar_at, fixed_figure, labels_below, labels_left,
                                    power_of_ten, title_at)
from helpers.figures.maps import mark_classes, show_digit, show_vector

__all__ = ["show_fc_gradient", "show_output_error"]


def show_fc_gradient(dW_maps, dy_hat, x=None, label=None, *, output_class=None, title=None,
                     fmt=".1f") -> Figure:
    """Zhang eq. 19, ``Delta W = Delta y_hat f^T``, with each row folded back into S2's shape.

    ``dW_maps`` (10, 12, 4, 4) is ``Delta W`` (10, 192) with row ``i`` folded by F^{-1}
    (Zhang eq. 11) into the twelve 4x4 maps it multiplies: ``dW_maps[i, q]`` holds the
    gradients of the weights that connect map ``q`` of S2 to output ``i``. ``dy_hat`` (10,) is
    Zhang's ``Delta y_hat`` (eq. 18), drawn as bars with the true class ``label`` marked (or,
    without a label, the row shown); ``x`` (28, 28) and ``label`` show the digit.

    With ``output_class=None`` the right part is a 10 x 12 mosaic (rows: output classes 0..9,
    columns: maps q=1..12, the book's 1-based map numbers, Zhang's S^2_q) on one colour scale centred on
    zero; with ``output_class=i`` it shows the twelve maps of row ``i`` only, larger and with
    their values written in (format ``fmt``, scaled by the power of ten named on the colour bar,
    so that they fit their cells at 8 pt; the colour bar's ticks are in the same scaled units).
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
    fig = new_figure(9.2, 6.6 if single else 4.4)
    left, right = fig.subfigures(1, 2, width_ratios=[1.0, 3.0])
    if x is not None:
        top, bottom = left.subfigures(2, 1, height_ratios=[1.0, 1.0])
        show_digit(x, label=label, ax=top.add_subplot(), colorbar=False)
    else:
        bottom = left
    ax = bottom.add_subplot()
    show_vector(delta, title=None, xlabel="output class i", ylabel=r"$\Delta\hat{y}(i)$ (Zhang eq. 18)", ax=ax)
    if label is not None:
        mark_classes(ax, true=int(label), ncols=1)
    elif output_class is not None:
        mark_classes(ax, true=output_class, true_name="row shown", ncols=1)

    blocks = maps[output_class] if single else maps.reshape(n_classes * n_maps, h, w)
    ncols = (3 if n_maps == 12 else default_ncols(n_maps)) if single else n_maps
    nrows = math.ceil(blocks.shape[0] / ncols)
    mosaic = block_mosaic(blocks, ncols)
    norm = norm_for([blocks], True)
    cmap = matplotlib.colormaps[SIGNED_CMAP].with_extremes(bad="white")
    ax = right.add_subplot()
    image = ax.imshow(mosaic, cmap=cmap, norm=norm, interpolation="nearest")
    for spine in ax.spines.values():
        spine.set_visible(False)
    centres_x = [c * (w + 1) + (w - 1) / 2 for c in range(ncols)]
    centres_y = [r * (h + 1) + (h - 1) / 2 for r in range(nrows)]
    peak = float(np.max(np.abs(blocks)))
    power = power_of_ten(peak) if single else 0
    if single:
        ax.set_xticks([])
        ax.set_yticks([])
        for q in range(blocks.shape[0]):
            r, c = divmod(q, ncols)
            ax.text(centres_x[c], r * (h + 1) - 0.6, f"q={q + 1}", ha="center", va="bottom", fontsize=9)
            for (u, v), value in np.ndenumerate(blocks[q]):
                ax.text(c * (w + 1) + v, r * (h + 1) + u, format(value / 10.0**power, fmt), ha="center",
                        va="center", fontsize=SMALL_FONT, color=text_colour(SIGNED_CMAP, norm, value))
        ax.set_title(f"row i={output_class} of " + r"$\Delta W$ folded by $F^{-1}$: "
                     + r"$\Delta\hat{y}$" + f"({output_class}) = {delta[output_class]:+.4f}\n"
                     + f"times the {n_maps} maps of S2", fontsize=11, pad=18)
    else:
        ax.set_xticks(centres_x, [f"q={q + 1}" for q in range(n_maps)], fontsize=8)
        ax.xaxis.tick_top()
        ax.set_yticks(centres_y, [f"i={i}" for i in range(n_classes)], fontsize=9)
        ax.tick_params(length=0)
        ax.set_xlabel(f"map q of S2 ({h}x{w} each; q = 1..{n_maps} as in Zhang, i = digit)", fontsize=9)
        ax.set_ylabel("output class i (row of " + r"$\Delta W$)", fontsize=9)
        ax.set_title(r"$\Delta W$: each row folded by $F^{-1}$" + f"\ninto the {n_maps} maps of S2 it multiplies",
                     fontsize=11)
    cbar = right.colorbar(image, ax=ax, shrink=0.85, aspect=25)
    cbar.set_label(r"$\Delta W(i, j)$" + (f" (numbers x 1e{power})" if power else ""))
    cbar.ax.tick_params(labelsize=8)
    if power:  # ticks in the units of the numbers written in the cells
        cbar.ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v / 10.0**power:g}"))
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


def show_output_error(x, dy_hat, dW, *, target, predicted, loss, digit=None, title=None) -> Figure:
    """The output error of one digit and the whole gradient it gives the output layer.

    Zhang eqs. 17-19: ``dy_hat`` (10,) is ``Delta y_hat``, the error before the output sigmoid
    for the label ``target`` used in the loss, drawn as bars with ``target`` and the network's
    ``predicted`` class marked (:func:`~helpers.figures.maps.mark_classes`); ``dW`` (10, 192)
    is ``Delta W = Delta y_hat f^T``, every entry on one diverging scale centred on zero, the
    192 columns grouped by the S2 map q = 1..12 (1-based, as in Zhang) their f entries come from. ``x`` (28, 28) is
    the digit, ``digit`` its class (shown over it) and ``loss`` the squared error L (eq. 13),
    printed beside the bars. Errors below 1e-2 are drawn in units of a power of ten named on the
    axis. Returns the figure.
    """
    delta = as_float_array(dy_hat, "dy_hat", allow_int=True)
    check_ndim(delta, "dy_hat", 1, "(10,)")
    grad = as_float_array(dW, "dW", allow_int=True)
    check_ndim(grad, "dW", 2, "(10, 192)")
    n_out, n_in = grad.shape
    if delta.shape != (n_out,):
        raise ValueError(f"dy_hat must have shape ({n_out},) to match dW {grad.shape}, got {delta.shape}")
    for name, value in (("target", target), ("predicted", predicted)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < n_out:
            raise ValueError(f"{name} must be an int in 0..{n_out - 1}, got {value!r}")
    # A fixed layout in inches (helpers.figures.layout), text at WIDGET_FONT: notebook 03's widget
    # redraws this figure on every click, and a layout engine would measure it twice each time.
    head = 0.4 if title else 0.1
    fig = fixed_figure(9.2, head + 5.55)
    top = fig.get_figheight() - head                          # inches from the bottom
    ax_x = axes_at(fig, 0.2, top - 0.35 - 1.85, 1.85, 1.85)
    show_digit(x, label=digit, ax=ax_x, colorbar=False)
    title_at(ax_x, ax_x.get_title())
    ax_x.xaxis.label.set_fontsize(WIDGET_FONT)
    ax = axes_at(fig, 3.0, top - 0.45 - 1.6, 3.55, 1.6)
    peak = max(float(np.max(np.abs(delta))), 1e-12)
    power = power_of_ten(peak)
    power = power if abs(power) >= 2 else 0  # small errors: bars in units of 1e-power, said on the axis
    show_vector(delta / 10.0**power, title=None, xlabel="output class i",
                ylabel="\u0394\u0177(i)" + (f" (x 1e{power})" if power else ""), ax=ax)
    mark_classes(ax, true=int(target), predicted=int(predicted), true_name="label in the loss")
    ax.set_ylim(-1.15 * peak / 10.0**power, 1.15 * peak / 10.0**power)
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, symmetric=True))
    ax.tick_params(labelsize=WIDGET_FONT)
    labels_below(ax, range(n_out), range(n_out), xlabel="output class i")
    for text in [ax.yaxis.label, *ax.get_legend().get_texts()]:
        text.set_fontsize(WIDGET_FONT)
    # plain text (no mathtext): the numbers change on every redraw and mathtext would parse them anew
    fig.text(6.8 / 9.2, (top - 1.25) / fig.get_figheight(),
             f"loss L = {float(loss):.4f}\n\nlargest |\u0394\u0177|\n= {peak:.2e}\n\n"
             f"largest |\u0394W|\n= {float(np.max(np.abs(grad))):.2e}", fontsize=WIDGET_FONT + 0.5, va="center")
    ax2 = axes_at(fig, 1.0, 0.55, 6.75, 2.05)
    norm = norm_for([grad], True)
    image = ax2.imshow(grad, cmap=SIGNED_CMAP, norm=norm, aspect="auto", interpolation="nearest")
    group = n_in // 12 if n_in % 12 == 0 else None
    # labels as plain text (helpers.figures.layout): cheaper to draw than ticks, on every click
    labels_left(ax2, range(n_out), range(n_out), ylabel="output class i")
    if group:
        for q in range(1, 12):
            ax2.axvline(q * group - 0.5, color="0.5", linewidth=0.6)
        labels_below(ax2, [q * group + (group - 1) / 2 for q in range(12)], [f"q={q + 1}" for q in range(12)],
                     xlabel=f"column j of \u0394W = entry j of f (0-based), grouped by the S2 map q = j // {group} + 1")
    else:
        ax2.set_xticks([])
        ax2.set_xlabel("column j of \u0394W (entry j of f)", fontsize=WIDGET_FONT)
    # symbols in Unicode: mathtext would be parsed anew for every figure the widget draws
    title_at(ax2, "\u0394W = \u0394\u0177 f\u1d40 (Zhang eq. 19): row i is f scaled by \u0394\u0177(i)",
             fontsize=WIDGET_FONT + 0.5)
    cbar = colorbar_at(fig, image, (7.95, 0.55, 0.14, 2.05), "\u0394W(i, j) (blue < 0 < red)")
    cbar.ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, symmetric=True))
    if title:
        fig.suptitle(title, fontsize=WIDGET_FONT + 1, y=1.0 - 0.08 / fig.get_figheight(), va="top")
    return fig
