"""Looking inside a matplotlib Figure, for the figure tests (test_figures_*.py): which axes hold
images, which are colourbars, what text is written, and whether the figure draws at all; and the
fake inputs those tests draw (a forward cache, a training trace)."""

import io

import matplotlib.text
import numpy as np
import pytest
import refimpl as R


def image_axes(fig):
    """The axes of ``fig`` that show an image, colourbars left out."""
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def colorbar_axes(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def colorbar_labels(fig):
    return [ax.get_ylabel() or ax.get_xlabel() for ax in colorbar_axes(fig)]


def texts_of(ax):
    return [t.get_text() for t in ax.texts if t.get_text()]


def all_texts(fig):
    """Every title, axis label, suptitle and text in the figure and its subfigures."""
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def text_boxes(fig):
    """(text, window box) of every label drawn: tick labels of ticks outside an axis's view are
    kept by matplotlib but not drawn, so they are left out. Draw the figure first."""
    renderer = fig.canvas.get_renderer()
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = 1e-9 * max(1.0, hi - lo)
            hidden |= {id(label) for tick in axis.get_major_ticks() + axis.get_minor_ticks()
                       if not lo - span <= tick.get_loc() <= hi + span for label in (tick.label1, tick.label2)}
    return [(t.get_text(), t.get_window_extent(renderer)) for t in fig.findobj(matplotlib.text.Text)
            if id(t) not in hidden and t.get_visible() and t.get_text().strip()
            and t.get_window_extent(renderer).width > 0]


def covers_a_map(image, box):
    """Whether the window box ``box`` covers a pixel of ``image`` that is not a NaN gap of a mosaic."""
    if not box.overlaps(image.get_window_extent()):
        return False
    gap = np.ma.getmaskarray(np.ma.masked_invalid(image.get_array()))
    (x0, y0), (x1, y1) = image.axes.transData.inverted().transform([[box.x0, box.y0], [box.x1, box.y1]])
    cols = slice(max(0, int(np.floor(min(x0, x1) + 0.5))), int(np.ceil(max(x0, x1) + 0.5)))
    rows = slice(max(0, int(np.floor(min(y0, y1) + 0.5))), int(np.ceil(max(y0, y1) + 0.5)))
    return not gap[rows, cols].all()


def assert_text_inside_and_apart(fig, name, *, off_maps=False):
    """Issue 23's check of a hand-laid widget figure, drawn on its own Agg canvas: every text lies
    inside the figure (no layout engine moves it back in), no two texts touch, and with
    ``off_maps`` none lies on a map (a label inside a mosaic sits on its grey gaps only)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    frame = fig.bbox
    boxes = text_boxes(fig)
    images = [im for ax in fig.axes for im in ax.images] if off_maps else []
    for k, (text, box) in enumerate(boxes):
        assert frame.x0 - 0.5 <= box.x0 and box.x1 <= frame.x1 + 0.5 and frame.y0 - 0.5 <= box.y0 \
            and box.y1 <= frame.y1 + 0.5, f"{name}: {text!r} is cut by the figure's edge"
        clash = [other for other, box2 in boxes[k + 1:] if box.overlaps(box2)]
        assert not clash, f"{name}: {text!r} overlaps {clash[0]!r}"
        assert not any(covers_a_map(im, box) for im in images), f"{name}: {text!r} lies on a map"


def draws(fig):
    """Render to PNG in memory: errors that only show at draw time surface here."""
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    return True


def mosaic_blocks(image, k, ncols, h, w):
    """The k blocks (h, w) of a mosaic image, row-major, read back at the rows and columns they
    start at (rows of blocks may be further apart than columns, to hold their labels)."""
    mosaic = np.ma.getdata(image.get_array())
    nrows = -(-k // ncols)
    row_gap = (mosaic.shape[0] - nrows * h) // max(1, nrows - 1) if nrows > 1 else 1
    assert mosaic.shape == (nrows * (h + row_gap) - row_gap, ncols * (w + 1) - 1)
    return [mosaic[r * (h + row_gap):r * (h + row_gap) + h, c * (w + 1):c * (w + 1) + w]
            for r, c in (divmod(q, ncols) for q in range(k))]


def assert_symmetric(image, m=None):
    """The colour limits of ``image`` are ``-m, m`` (white = zero)."""
    vmin, vmax = image.get_clim()
    assert vmin == -vmax
    if m is not None:
        assert vmax == pytest.approx(m)


def seed_cache(rng):
    """A forward cache with the seed network's shapes, filled with sigmoid-like values."""
    return {
        "x": rng.random((28, 28)),
        "C1": R.sigmoid(rng.normal(size=(6, 24, 24))),
        "S1": R.sigmoid(rng.normal(size=(6, 12, 12))),
        "C2": R.sigmoid(rng.normal(size=(12, 8, 8))),
        "S2": R.sigmoid(rng.normal(size=(12, 4, 4))),
        "f": R.sigmoid(rng.normal(size=192)),
        "y_hat": R.sigmoid(rng.normal(size=10)),
    }


def digit_trace(rng, checkpoints=3):
    """A fake helpers.train.digit_trace: kernels grow and errors fade over ``checkpoints``."""
    shrink = np.linspace(1.0, 0.1, checkpoints)
    y_hat = R.sigmoid(rng.normal(size=(checkpoints, 10)))
    return {"loss": rng.random(checkpoints), "y_hat": y_hat, "predicted": y_hat.argmax(axis=1),
            "k1": rng.normal(size=(checkpoints, 6, 5, 5)) / shrink[:, None, None, None],
            "dC1_sigma": rng.normal(size=(checkpoints, 6, 24, 24)) * shrink[:, None, None, None],
            "dC2_sigma": rng.normal(size=(checkpoints, 12, 8, 8)) * shrink[:, None, None, None]}
