"""Fixtures shared by the unit tests (the notebook environment lives in the root conftest.py)."""

import numpy as np
import matplotlib
import matplotlib.text
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def no_pyplot_leak():
    """The plotting helpers build plain Figures: pyplot's list of open figures must not grow."""
    import matplotlib.pyplot as plt  # imported here: only the figure tests need pyplot

    before = set(plt.get_fignums())
    yield
    after = set(plt.get_fignums())
    plt.close("all")
    assert after == before, "a plotting function registered a figure with pyplot"


NOTEBOOK_WIDTH_PX = 930  # JupyterLab's notebook column at a 1366x768 projector


def _figure_font_px(fig):
    """``(width_px, smallest_font_px)`` of ``fig`` as the inline backend shows it.

    The inline backend saves at the figure's dpi with a tight bounding box; JupyterLab shrinks an
    image wider than the notebook column to fit, and every font shrinks with it. Only visible
    text with characters counts.
    """
    if not hasattr(fig.canvas, "get_renderer"):  # a plain Figure(): draw it with Agg, as the inline backend does
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.get_tightbbox(renderer).width * fig.dpi
    shrink = min(1.0, NOTEBOOK_WIDTH_PX / width)
    sizes = [t.get_fontsize() * fig.dpi / 72 * shrink for t in fig.findobj(matplotlib.text.Text)
             if t.get_visible() and t.get_text().strip() and t.get_window_extent(renderer).width > 0]
    return width, min(sizes)


@pytest.fixture
def figure_font_px():
    """Measure a figure: its width in pixels and its smallest font in pixels (see above)."""
    return _figure_font_px
