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
