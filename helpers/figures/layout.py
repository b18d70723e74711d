"""Fixed layouts for the figures a widget redraws: axes placed in inches, no layout engine.

Two ways, one idea: :func:`fixed_figure` with :func:`axes_at` and :func:`colorbar_at` places a
few axes by hand (notebooks 02-04 and 06-09); a :class:`Sheet` draws a whole figure on one axes
whose units are inches (notebooks 01 and 05: maps, colour bars and labels of a worked example).

Constrained layout measures every axes' tick labels and titles before each draw and draws the
figure twice when it is saved; for a widget that redraws on every click that is most of the
time. A figure built here places each axes at a fixed position in inches, with room for text of
:data:`WIDGET_FONT` points (the size a projected widget needs, :data:`~helpers.figures.base.PROJECTED_TEXT_PX`
at dpi 100), so :func:`~helpers.figures.base.raise_small_text` has nothing to move and nothing is
clipped (tests/test_figures_readable.py checks every text lies inside the figure, apart).
"""

from __future__ import annotations

import functools
import math

import numpy as np
from matplotlib import transforms
from matplotlib.figure import Figure

from helpers.figures.base import MAX_WIDTH, new_figure, projected_points

WIDGET_FONT = 10.5
"""Font size in points of every text of a widget figure: above the 10.08 pt that 14 px needs at
dpi 100, so the widget's raise leaves it as designed."""

__all__ = ["WIDGET_FONT", "fixed_figure", "axes_at", "colorbar_at", "linear_ticks", "index_ticks", "labels_below", "labels_left",
           "index_labels", "title_at", "Sheet", "text_width", "bar_ticks", "bar_room", "power_of_ten"]


def fixed_figure(width: float, height: float) -> Figure:
    """An empty :class:`Figure` of ``width`` x ``height`` inches at dpi 100 (whole pixels), without
    layout engine, for axes placed by hand (:func:`axes_at`); not registered with pyplot, like
    :func:`~helpers.figures.base.new_figure`. The caller leaves room for every text it draws, so
    ``width`` must not exceed :data:`~helpers.figures.base.MAX_WIDTH` (a hand layout cannot be
    scaled down without moving its text).

    The figure has its own Agg canvas: every PNG of a figure redrawn in place is drawn by one
    renderer with its text sizes cached, not by a temporary canvas per save.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if width > MAX_WIDTH + 1e-9:
        raise ValueError(f"a widget figure is at most {MAX_WIDTH} in wide, got {width}")
    fig = Figure(figsize=(round(float(width), 2), round(float(height), 2)), dpi=100)  # whole pixels
    FigureCanvasAgg(fig)
    return fig


def axes_at(fig, left: float, y: float, width: float, height: float, *, from_top: bool = False, **kwargs):
    """An axes of ``fig`` whose box is ``width`` x ``height`` inches, ``left`` inches from the
    figure's left edge and ``y`` inches above its bottom edge (or, ``from_top``, with its top ``y``
    inches below the figure's top edge). ``kwargs`` go to ``fig.add_axes``."""
    fig_w, fig_h = fig.get_size_inches()
    bottom = fig_h - y - height if from_top else y
    return fig.add_axes((left / fig_w, bottom / fig_h, width / fig_w, height / fig_h), **kwargs)


def colorbar_at(fig, image, rect, label: str, *, orientation: str = "vertical", ticks=None,
                from_top: bool = False, fontsize: float = WIDGET_FONT, powerlimits=None):
    """A colour bar for ``image`` in the box ``rect`` = (left, y, width, height) inches (``y`` as
    :func:`axes_at` reads it), labelled ``label``, its text at ``fontsize``. ``ticks`` fixes the
    ticks; ``powerlimits`` (e.g. ``(-2, 2)``) gives it :func:`linear_ticks` instead. A vertical
    bar needs about 0.95 inch right of it for its tick labels and label. Returns the colour bar."""
    cax = axes_at(fig, *rect, from_top=from_top, label="<colorbar>")  # as matplotlib names its bars
    cbar = fig.colorbar(image, cax=cax, orientation=orientation)
    cbar.set_label(label, fontsize=fontsize)
    cbar.ax.tick_params(labelsize=fontsize)
    if orientation == "vertical":  # an exponent (1e-8) starts at the bar's left edge, clear of the panel
        cax.yaxis.get_offset_text().set(fontsize=fontsize, x=0.0, horizontalalignment="left")
    if ticks is not None:
        cbar.set_ticks(ticks)
    elif powerlimits is not None:
        linear_ticks(cbar, powerlimits)
    return cbar


def linear_ticks(cbar, powerlimits=(-2, 2)) -> None:
    """Few round ticks on the colour bar ``cbar`` of a linear scale: steps of 1, 2, 2.5 or 5 x
    10^k, three to five inside the bar, symmetric about 0 for a symmetric scale (few labels draw
    fast and never touch). Numbers outside ``10**powerlimits`` get one exponent (``1e-8``)."""
    import matplotlib.ticker

    cbar.locator = matplotlib.ticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10],
                                                 symmetric=cbar.norm.vmin == -cbar.norm.vmax)
    cbar.formatter = matplotlib.ticker.ScalarFormatter()
    cbar.formatter.set_powerlimits(powerlimits)
    cbar.ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def index_ticks(n: int, step: int = 5) -> list[int]:
    """0-based integer ticks for an axis of ``n`` cells: every ``step``-th (0, 5, 10, ...), or
    every index when ``n <= 6``, so that labels of :data:`WIDGET_FONT` never crowd."""
    return list(range(n)) if n <= 6 else list(range(0, n, step))


def labels_below(ax, positions, texts, *, xlabel=None, offset: float = 3.0) -> None:
    """Write ``texts`` under the bottom edge of ``ax`` at the data x ``positions`` (no matplotlib
    ticks), ``offset`` points below it, and name the axis ``xlabel`` clear of them.

    Plain text instead of ticks: each tick is two lines and two texts that are created and
    measured on every draw, which is much of the time of a widget redraw with several panels."""
    ax.set_xticks([])
    below = transforms.offset_copy(ax.get_xaxis_transform(), fig=ax.figure, y=-offset, units="points")
    for x, text in zip(positions, texts):
        ax.text(x, 0.0, str(text), transform=below, ha="center", va="top", fontsize=WIDGET_FONT)
    if xlabel:
        ax.set_xlabel(xlabel, fontsize=WIDGET_FONT, labelpad=WIDGET_FONT + offset + 3)


def labels_left(ax, positions, texts, *, ylabel=None, offset: float = 3.0) -> None:
    """Write ``texts`` left of ``ax`` at the data y ``positions`` (see :func:`labels_below`) and
    name the axis ``ylabel`` clear of them."""
    ax.set_yticks([])
    beside = transforms.offset_copy(ax.get_yaxis_transform(), fig=ax.figure, x=-offset, units="points")
    texts = [str(t) for t in texts]
    for y, text in zip(positions, texts):
        ax.text(0.0, y, text, transform=beside, ha="right", va="center", fontsize=WIDGET_FONT)
    if ylabel:
        widest = max((len(t) for t in texts), default=0)
        ax.set_ylabel(ylabel, fontsize=WIDGET_FONT, labelpad=0.65 * WIDGET_FONT * widest + offset + 2)


def index_labels(ax, n_rows: int, n_cols: int, *, xlabel=None, ylabel=None, step: int = 5) -> None:
    """Label the cells of an image of ``n_rows`` x ``n_cols`` on ``ax`` with 0-based indices
    (:func:`index_ticks`) beside its left and bottom edges (:func:`labels_left`,
    :func:`labels_below`), and name the axes ``xlabel`` / ``ylabel``."""
    cols, rows = index_ticks(n_cols, step), index_ticks(n_rows, step)
    labels_below(ax, cols, cols, xlabel=xlabel)
    labels_left(ax, rows, rows, ylabel=ylabel)


def title_at(ax, text: str, *, pad: float = 8.0, **kwargs):
    """``ax.set_title(text)`` at :data:`WIDGET_FONT`, ``pad`` points above the axes box, at a fixed
    place (matplotlib otherwise measures the axes' tick labels on every draw to lift the title)."""
    return ax.set_title(text, fontsize=kwargs.pop("fontsize", WIDGET_FONT), y=1.0, pad=pad, **kwargs)


# --------------------------------------------------------------------------------------------
# A whole figure on one axes in inches (notebooks 01 and 05)
# --------------------------------------------------------------------------------------------


class Sheet:
    """A figure drawn on one invisible axes whose units are inches from the top-left corner.

    Maps, colour bars and labels are placed by hand: one axes for a whole widget figure instead
    of one per map and colour bar, without a layout engine, draws several times faster (axes and
    their layout are most of a redraw). Text is drawn at :func:`helpers.figures.base.projected_points`,
    so a widget's projected figure needs no text raised after layout. ``fig`` is the figure.
    """

    def __init__(self, width: float, height: float):
        # whole pixels at dpi 100: the figure's size (and its repr in a notebook) stays tidy
        self.fig = new_figure(math.ceil(width * 100 - 1e-6) / 100, math.ceil(height * 100 - 1e-6) / 100)
        self.fig.set_layout_engine(None)  # None, not "none": a placeholder engine still costs a layout draw
        self.size = projected_points(self.fig)
        self.em = self.size / 72.0  # the text's height in inches
        self.ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0))
        self.ax.set_xlim(0.0, width)
        self.ax.set_ylim(height, 0.0)
        self.ax.set_xticks([])
        self.ax.set_yticks([])
        self.ax.set_axis_off()
        self.ax.set_autoscale_on(False)

    def text(self, x, y, s, **kwargs):
        return self.ax.text(x, y, s, fontsize=kwargs.pop("fontsize", self.size), **kwargs)

    def frame(self, left, top, width, height, **kwargs):
        from matplotlib.patches import Rectangle

        style = {"fill": False, "edgecolor": "black", "linewidth": 0.8, **kwargs}
        return self.ax.add_patch(Rectangle((left, top), width, height, **style))

    def image(self, data, left, top, width, height, cmap, norm, *, label, frame=True):
        """``data`` (h, w) drawn into the box ``width`` x ``height`` at ``left``, ``top``; ``label``
        names it (``image.get_label()``)."""
        image = self.ax.imshow(data, cmap=cmap, norm=norm, interpolation="nearest", aspect="auto",
                               extent=(left, left + width, top + height, top))
        image.set_label(label)
        if frame:
            self.frame(left, top, width, height)
        return image

    def cells(self, image):
        """The transform that puts cell ``(i, j)`` of ``image`` at ``(j, i)``: its centre."""
        from matplotlib.transforms import Affine2D

        left, right, bottom, top = image.get_extent()
        h, w = image.get_array().shape[:2]
        return Affine2D().scale((right - left) / w, (bottom - top) / h).translate(
            left + (right - left) / w / 2, top + (bottom - top) / h / 2) + self.ax.transData

    def bar(self, image, left, top, length, label, *, vertical=False):
        """A colour bar of ``image``'s colours, 0.1 in thick and ``length`` long, below (horizontal)
        or right of a panel (``vertical``), ticks at both ends and the middle; a signed scale's
        numbers are divided by its power of ten, which the label names."""
        lo, hi = float(image.norm.vmin), float(image.norm.vmax)
        ticks, power = bar_ticks(image.norm)
        label = label + (f" (x 1e{power})" if power else "")
        ramp = np.linspace(lo, hi, 256)
        if vertical:
            self.image(ramp[::-1, None], left, top, 0.1, length, image.get_cmap(), image.norm,
                       label=f"colour bar: {label}")
            at = [top + length, top + length / 2, top]
            self.ax.hlines(at, left + 0.1, left + 0.14, color="black", linewidth=0.8)
            for y, s in zip(at, ticks):
                self.text(left + 0.17, y, s, ha="left", va="center")
            self.text(left + 0.22 + text_width(ticks, self.em), top + length / 2, label, ha="left",
                      va="center", rotation=90)
            return
        self.image(ramp[None], left, top, length, 0.1, image.get_cmap(), image.norm, label=f"colour bar: {label}")
        at = [left, left + length / 2, left + length]
        self.ax.vlines(at, top + 0.1, top + 0.14, color="black", linewidth=0.8)
        for x, s in zip(at, ticks):
            self.text(x, top + 0.16, s, ha="center", va="top")
        self.text(left + length / 2, top + 0.2 + 1.3 * self.em, label, ha="center", va="top")


@functools.lru_cache(maxsize=256)
def char_width(char: str) -> float:
    """The advance of ``char`` in the default font, in em (a digit of DejaVu Sans: 0.64)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    return text_to_path.get_text_width_height_descent(char, FontProperties(size=72), ismath=False)[0] / 72.0


def text_width(strings, em: float) -> float:
    """The width in inches of the widest of ``strings`` at a font size of ``em`` inches (plain
    text, kerning left out: a few per cent wider than drawn)."""
    return em * max(sum(char_width(c) for c in s) for s in strings)


def bar_room(norm, em: float) -> float:
    """The width a vertical colour bar of ``norm`` takes right of its panel (:meth:`Sheet.bar`)."""
    return 0.32 + text_width(bar_ticks(norm)[0], em) + 1.3 * em


def bar_ticks(norm):
    """``(labels, power)``: the colour bar labels of ``norm``'s ends and middle. A signed scale
    (``vmin = -vmax``) outside 0.01..9999 is divided by its power of ten ``power`` (else 0); an
    unsigned one gets the decimals its range needs."""
    lo, hi = float(norm.vmin), float(norm.vmax)
    ticks = (lo, (lo + hi) / 2, hi)
    if lo == -hi:
        power = power_of_ten(hi)
        power = power if not -3 < power < 4 else 0
        return [f"{t / 10.0**power:.2g}" if t else "0" for t in ticks], power
    decimals = max(0, 1 - int(np.floor(np.log10(hi - lo)))) if hi > lo else 2
    return [f"{t:.{decimals}f}" for t in ticks], 0


def power_of_ten(m: float) -> int:
    """The power of ten of ``m`` (0 for 0): values are written as ``value / 10**power``."""
    return int(np.floor(np.log10(m))) if m > 0 else 0
