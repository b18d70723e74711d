"""Fixed layouts for the figures a widget redraws: axes placed in inches, no layout engine.

Constrained layout measures every axes' tick labels and titles before each draw and draws the
figure twice when it is saved; for a widget that redraws on every click that is most of the
time. A figure built here places each axes at a fixed position in inches, with room for text of
:data:`WIDGET_FONT` points (the size a projected widget needs, :data:`~helpers.figures.base.PROJECTED_TEXT_PX`
at dpi 100), so :func:`~helpers.figures.base.raise_small_text` has nothing to move and nothing is
clipped (tests/test_figures_readable.py checks every text lies inside the figure, apart).
"""

from __future__ import annotations

from matplotlib import transforms
from matplotlib.figure import Figure

from helpers.figures.base import MAX_WIDTH

WIDGET_FONT = 10.5
"""Font size in points of every text of a widget figure: above the 10.08 pt that 14 px needs at
dpi 100, so the widget's raise leaves it as designed."""

__all__ = ["WIDGET_FONT", "fixed_figure", "axes_at", "colorbar_at", "index_ticks", "labels_below", "labels_left",
           "index_labels", "title_at"]


def fixed_figure(width: float, height: float) -> Figure:
    """An empty :class:`Figure` of ``width`` x ``height`` inches at dpi 100, without layout engine
    (not registered with pyplot, like :func:`~helpers.figures.base.new_figure`)."""
    if width > MAX_WIDTH + 1e-9:
        raise ValueError(f"a widget figure is at most {MAX_WIDTH} in wide, got {width}")
    return Figure(figsize=(round(float(width), 2), round(float(height), 2)), dpi=100)  # whole pixels


def axes_at(fig, left: float, bottom: float, width: float, height: float, **kwargs):
    """An axes of ``fig`` whose box is ``width`` x ``height`` inches, its lower-left corner
    ``left``, ``bottom`` inches from the figure's lower-left corner."""
    fig_w, fig_h = fig.get_size_inches()
    return fig.add_axes((left / fig_w, bottom / fig_h, width / fig_w, height / fig_h), **kwargs)


def colorbar_at(fig, image, rect, label: str, *, orientation: str = "vertical", ticks=None):
    """A colour bar for ``image`` in the box ``rect`` = (left, bottom, width, height) inches,
    labelled ``label``, its text at :data:`WIDGET_FONT`. ``ticks`` (optional) fixes the ticks."""
    cax = axes_at(fig, *rect, label="<colorbar>")
    cbar = fig.colorbar(image, cax=cax, orientation=orientation)
    cbar.set_label(label, fontsize=WIDGET_FONT)
    cbar.ax.tick_params(labelsize=WIDGET_FONT)
    if ticks is not None:
        cbar.set_ticks(ticks)
    return cbar


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
