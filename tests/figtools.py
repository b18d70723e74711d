"""Looking inside a matplotlib Figure, for the figure tests (test_figures_*.py): which axes hold
images, which are colourbars, what text is written, and whether the figure draws at all."""

import io

import matplotlib.text
import pytest


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


def assert_symmetric(image, m=None):
    """The colour limits of ``image`` are ``-m, m`` (white = zero)."""
    vmin, vmax = image.get_clim()
    assert vmin == -vmax
    if m is not None:
        assert vmax == pytest.approx(m)
