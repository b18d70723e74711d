"""Building blocks shared by every figure of the book: colour maps, colour limits, grids.

Conventions used by every figure function in :mod:`helpers.figures`:

* Each function **returns** a :class:`matplotlib.figure.Figure` and never calls ``plt.show()``.
  Figures are created with ``Figure(...)`` directly, not through pyplot, so they are not kept in
  pyplot's global list (no leaks, nothing to close) and a notebook shows them exactly once: end
  the cell with the call (``show_maps(cache["C1"])``) or pass the result to ``display``.
* **Signed** data (errors ``dC2``, gradients ``dk2``, differences) use a diverging colormap
  (``RdBu_r``) whose limits are symmetric, ``vmin = -vmax``, so white always means zero.
  **Unsigned** data (images, sigmoid activations) use a sequential colormap.
* Panels are labelled with the seeds' **1-based** indices (``p=1`` is ``maps[0]``), because the
  equations the figures illustrate use them; pass ``start=0`` to label with numpy indices.
* Every colourbar and every axis that carries numbers is labelled.
* Output is deterministic: fixed sizes, no randomness, no timestamps.
* **Readable in class**: at most :data:`MAX_WIDTH` inches wide at dpi 100 (so the notebook shows
  it unshrunk) and no text under :data:`SMALL_FONT` points; a value that does not fit its cell
  at that size is printed or tabulated instead of written into the picture.
"""

from __future__ import annotations

import math

import matplotlib

# Importing pyplot lets IPython's inline backend register its PNG formatter for Figure objects;
# without it a figure returned from here would show only as text in a notebook. The pyplot
# state machine itself is not used.
import matplotlib.pyplot as plt  # noqa: F401
import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure, SubFigure

from helpers._validate import as_float_array, check_ndim

SIGNED_CMAP = "RdBu_r"
"""Diverging colormap for errors, gradients and differences (blue < 0 < red, white = 0)."""
ACTIVATION_CMAP = "viridis"
"""Sequential colormap for feature maps (activations)."""
IMAGE_CMAP = "gray_r"
"""Sequential colormap for input digits (ink is dark, paper is white)."""

TINY = 1e-12

MAX_WIDTH = 9.2
"""Widest figure in inches (at dpi 100): JupyterLab's notebook column at a 1366x768 projector is
about 930 px, and a wider image is shrunk, fonts and all."""
SMALL_FONT = 8.0
"""Smallest font in points: 11 px at dpi 100, legible from the back of a classroom."""
PROJECTED_TEXT_PX = 14.0
"""Smallest text of a widget figure in screen pixels at 1366x768 (issue 23): a widget is what the
lecturer projects and changes live, so its figure is held to more than :data:`SMALL_FONT`."""

__all__ = [
    "SIGNED_CMAP", "ACTIVATION_CMAP", "IMAGE_CMAP", "TINY", "MAX_WIDTH", "SMALL_FONT",
    "symmetric_limits", "signed_norm", "new_figure", "norm_for", "text_colour", "annotate_cells",
    "default_ncols", "image_grid", "stack_maps", "check_labels", "target_figure", "root_figure",
    "block_mosaic", "mosaic_panel", "PROJECTED_TEXT_PX", "projected_points", "smallest_text",
    "raise_small_text",
]


def symmetric_limits(arr) -> tuple[float, float]:
    """Return ``(-m, m)`` with ``m = max |arr|`` (or ``1e-12`` if ``arr`` is all zeros).

    ``arr`` may be any numeric array or a list of arrays of different shapes (all are scanned).
    Use the result as ``vmin, vmax`` so that zero sits in the middle of a diverging colormap.
    """
    parts = _as_parts(arr, "arr")
    m = max((float(np.max(np.abs(p))) for p in parts if p.size), default=0.0)
    m = max(m, TINY)
    return -m, m


def signed_norm(arr) -> Normalize:
    """Return a ``Normalize(vmin=-m, vmax=m)`` centred on zero for signed data ``arr``."""
    vmin, vmax = symmetric_limits(arr)
    return Normalize(vmin=vmin, vmax=vmax)


def new_figure(width: float, height: float) -> Figure:
    """Return an empty constrained-layout :class:`Figure` of ``width`` x ``height`` inches.

    The figure is not registered with pyplot: it is shown once when a notebook cell ends with it
    and is freed like any Python object. A figure wider than :data:`MAX_WIDTH` is scaled down to
    it (height too), so that the notebook never shrinks it and its fonts.
    """
    if width > MAX_WIDTH:
        width, height = MAX_WIDTH, round(height * MAX_WIDTH / width, 2)
    return Figure(figsize=(float(width), float(height)), layout="constrained", dpi=100)


def _as_parts(arr, name: str) -> list[np.ndarray]:
    """Turn an array, or a list of arrays of different shapes, into a list of float arrays."""
    if isinstance(arr, (list, tuple)) and arr and all(np.ndim(a) >= 1 for a in arr):
        shapes = {np.shape(a) for a in arr}
        if len(shapes) > 1:
            return [as_float_array(a, f"{name}[{i}]", allow_int=True) for i, a in enumerate(arr)]
    return [as_float_array(arr, name, allow_int=True)]


def norm_for(parts: list[np.ndarray], signed: bool, vmin=None, vmax=None) -> Normalize:
    """Colour limits for data ``parts``: symmetric if ``signed``, else data range or given."""
    if signed:
        if vmin is not None and vmax is None:
            vmax = -float(vmin)
        m = float(vmax) if vmax is not None else symmetric_limits(parts)[1]
        if m <= 0:
            raise ValueError(f"vmax for signed data must be > 0, got {vmax}")
        return Normalize(vmin=-m, vmax=m)
    lo = float(vmin) if vmin is not None else min(float(p.min()) for p in parts if p.size)
    hi = float(vmax) if vmax is not None else max(float(p.max()) for p in parts if p.size)
    if hi <= lo:  # a constant map: widen so that the colourbar still has a range
        lo, hi = lo - 0.5, hi + 0.5
    return Normalize(vmin=lo, vmax=hi)


def text_colour(cmap, norm: Normalize, value: float) -> str:
    """Black or white, whichever reads better on the colour that ``value`` is drawn with."""
    r, g, b, _ = matplotlib.colormaps[cmap](float(np.clip(norm(value), 0.0, 1.0)))
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.5 else "black"


def annotate_cells(ax, m: np.ndarray, cmap, norm: Normalize, fmt: str, fontsize: float, transform=None) -> None:
    """Write each value of the 2-D array ``m`` in its cell (never smaller than :data:`SMALL_FONT`);
    cell ``(i, j)`` is at ``(j, i)`` in ``transform`` (default: the data coordinates of ``ax``)."""
    fontsize = max(float(fontsize), SMALL_FONT)
    where = {} if transform is None else {"transform": transform}
    # one colormap lookup for every cell (a lookup per cell copies the colormap each time)
    rgb = matplotlib.colormaps[cmap](np.clip(norm(np.asarray(m, dtype=float)), 0.0, 1.0))[..., :3]
    dark = rgb @ np.array([0.299, 0.587, 0.114]) < 0.5
    for (i, j), value in np.ndenumerate(m):
        ax.text(j, i, format(value, fmt), ha="center", va="center", fontsize=fontsize,
                color="white" if dark[i, j] else "black", **where)


def default_ncols(k: int) -> int:
    """Grid width for ``k`` panels: one row up to 6, two rows up to 12, then about square."""
    if k <= 6:
        return k
    if k <= 12:
        return math.ceil(k / 2)
    return math.ceil(math.sqrt(k))


def image_grid(fig, maps, nrows, ncols, *, cmap, norm, panel_titles=None, row_labels=None,
                col_labels=None, cbar_label=None, annotate=False, fmt=".2f", ticks=False,
                title=None, cbar_location="right"):
    """Draw 2-D ``maps`` into an ``nrows`` x ``ncols`` grid of ``fig`` with one colourbar.

    Empty grid cells are removed, so ``fig`` ends up with ``len(maps)`` image axes plus one
    colourbar axes. Returns the list of image axes.
    """
    axes = fig.subplots(nrows, ncols, squeeze=False)
    used = []
    image = None
    for idx, ax in enumerate(axes.flat):
        if idx >= len(maps):
            fig.delaxes(ax)
            continue
        m = maps[idx]
        image = ax.imshow(m, cmap=cmap, norm=norm, interpolation="nearest")
        r, c = divmod(idx, ncols)
        if panel_titles is not None:
            ax.set_title(panel_titles[idx], fontsize=9)
        if col_labels is not None and r == 0:
            ax.set_title(col_labels[c], fontsize=9)
        if ticks:
            ax.set_xticks(range(m.shape[1]))
            ax.set_yticks(range(m.shape[0]))
            ax.tick_params(labelsize=SMALL_FONT)
            ax.set_xlabel("column", fontsize=8)
            ax.set_ylabel("row", fontsize=8)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        if row_labels is not None and c == 0:
            ax.set_ylabel(row_labels[r], fontsize=9, rotation=0, ha="right", va="center")
        if annotate:
            annotate_cells(ax, m, cmap, norm, fmt, fontsize=max(5.0, 9.0 - 0.6 * max(m.shape)))
        used.append(ax)
    cbar = fig.colorbar(image, ax=used, location=cbar_location, shrink=0.9, aspect=25)
    cbar.set_label(cbar_label if cbar_label else "value")
    cbar.ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title)
    return used


def stack_maps(maps, name: str) -> np.ndarray:
    """Return ``maps`` as a float array (K, H, W); a single (H, W) map becomes K = 1."""
    arr = as_float_array(maps, name, allow_int=True)
    check_ndim(arr, name, (2, 3), "(K, H, W) or (H, W)")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise ValueError(f"{name} must be non-empty, got shape {arr.shape}")
    return arr


def check_labels(labels, count: int, name: str) -> list[str]:
    labels = [str(s) for s in labels]
    if len(labels) != count:
        raise ValueError(f"{name} must have {count} entries, got {len(labels)}")
    return labels


def target_figure(fig, width, height):
    """Use the given Figure/SubFigure or make a new one."""
    if fig is None:
        return new_figure(width, height)
    if not isinstance(fig, (Figure, SubFigure)):
        raise TypeError(f"fig must be a matplotlib Figure or SubFigure, got {type(fig).__name__}")
    return fig


def root_figure(fig) -> Figure:
    """The top-level Figure of a Figure or SubFigure."""
    while isinstance(fig, SubFigure):
        try:
            fig = fig.get_figure(root=True)  # matplotlib >= 3.10
        except TypeError:
            fig = fig.figure  # older: a SubFigure's .figure is the top-level Figure
    return fig


def block_mosaic(blocks, ncols, gap=1, row_gap=None):
    """Tile equal 2-D ``blocks`` (K, h, w) into one array, row-major, separated by NaN gaps:
    ``gap`` pixels between columns, ``row_gap`` (default ``gap``) between rows."""
    k, h, w = blocks.shape
    row_gap = gap if row_gap is None else row_gap
    nrows = math.ceil(k / ncols)
    mosaic = np.full((nrows * (h + row_gap) - row_gap, ncols * (w + gap) - gap), np.nan)
    for idx, block in enumerate(blocks):
        r, c = divmod(idx, ncols)
        mosaic[r * (h + row_gap):r * (h + row_gap) + h, c * (w + gap):c * (w + gap) + w] = block
    return mosaic


def mosaic_panel(ax, blocks, ncols, limit, prefix, title, *, signed=True, start=1, labels=True,
                 fontsize=SMALL_FONT, title_size=9, row_gap=1):
    """Maps (K, h, w) tiled into one image on ``ax`` (grey gaps), labelled ``p=1..`` above each.

    ``signed``: diverging colours on ``-limit..limit``; otherwise :data:`ACTIVATION_CMAP` on
    ``0..limit``. ``fontsize`` and ``title_size`` (points) set the map labels and the title.
    ``row_gap`` (pixels of the mosaic) separates rows of maps: make it hold a label (about
    ``fontsize`` x 1.5 points) when there is more than one row. One image instead of K axes
    draws many times faster. Returns the image.
    """
    k, h, w = blocks.shape
    base = SIGNED_CMAP if signed else ACTIVATION_CMAP
    cmap = matplotlib.colormaps[base].with_extremes(bad="0.85" if signed else "white")
    norm = Normalize(vmin=-limit if signed else 0.0, vmax=limit)
    image = ax.imshow(block_mosaic(blocks, ncols, row_gap=row_gap), cmap=cmap, norm=norm,
                      interpolation="nearest")
    if labels:
        for idx in range(k):
            r, c = divmod(idx, ncols)
            ax.text(c * (w + 1) + (w - 1) / 2, r * (h + row_gap) - 0.7, f"{prefix}={idx + start}", ha="center",
                    va="bottom", fontsize=fontsize)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title, fontsize=title_size, pad=(12 if labels else 4) * max(1.0, fontsize / SMALL_FONT))
    return image



def projected_points(fig, px: float = PROJECTED_TEXT_PX) -> float:
    """Font size in points that ``fig`` needs for text ``px`` screen pixels high when its image is
    shown at its natural size (points = px x 72 / dpi: 10.08 pt at the book's dpi of 100)."""
    return float(px) * 72.0 / float(root_figure(fig).dpi)


def _texts(fig):
    from matplotlib.text import Text

    return [t for t in root_figure(fig).findobj(Text) if t.get_visible() and t.get_text().strip()]


def smallest_text(fig) -> float:
    """The smallest font size, in points, of the visible non-empty texts of ``fig`` (tick labels
    included, as drawn: call it after ``fig.canvas.draw()`` or a save). ``inf`` without text."""
    return min((float(t.get_fontsize()) for t in _texts(fig)), default=math.inf)


def raise_small_text(fig, points: float):
    """Raise every text of ``fig`` smaller than ``points`` to ``points``: titles, labels, legends,
    text written into cells and the tick labels of every axes (also those made at draw time).
    The layout engine makes room when the figure is drawn. Returns ``fig``.

    Widgets apply it with :func:`projected_points`, so that whatever a render function drew,
    the projected figure holds :data:`PROJECTED_TEXT_PX` (see :class:`helpers.widgets.InteractiveFigure`).
    """
    points = float(points)
    root = root_figure(fig)
    for ax in root.get_axes():
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            labels = axis.get_ticklabels(which="both")
            if not labels or min(t.get_fontsize() for t in labels) < points:
                # also the ticks a locator makes at draw time (they copy the axis' tick settings)
                ax.tick_params(axis=name, which="both", labelsize=points)
    for text in _texts(root):
        if text.get_fontsize() < points:
            text.set_fontsize(points)
    return root
