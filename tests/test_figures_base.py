"""Tests for helpers.figures.base: symmetric colour limits, and figures that come out the same every time."""

import io

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figtools import seed_cache  # noqa: E402

from helpers import figures  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def test_symmetric_limits_use_the_largest_magnitude():
    assert figures.symmetric_limits(np.array([[-0.5, 2.0], [0.1, -3.0]])) == (-3.0, 3.0)
    assert figures.symmetric_limits([np.array([0.5]), np.array([[-0.75, 0.0]])]) == (-0.75, 0.75)


def test_symmetric_limits_of_zeros_are_tiny_not_zero():
    vmin, vmax = figures.symmetric_limits(np.zeros((3, 3)))
    assert vmin == -vmax and vmax == 1e-12


def test_signed_norm_centres_zero():
    norm = figures.signed_norm(np.array([-1.0, 4.0]))
    assert norm.vmin == -norm.vmax == -4.0
    assert norm(0.0) == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), np.array([np.inf])])
def test_symmetric_limits_reject_non_finite(bad):
    with pytest.raises(ValueError, match="NaN or infinity"):
        figures.symmetric_limits(bad)


def test_figures_are_deterministic(rng):
    cache = seed_cache(rng)
    pngs = []
    for _ in range(2):
        buffer = io.BytesIO()
        figures.show_network_flow(cache, label=3).savefig(buffer, format="png")
        pngs.append(buffer.getvalue())
    assert pngs[0] == pngs[1]


def test_every_module_lists_its_public_functions_in_all_and_the_package_reexports_them():
    import importlib
    import inspect

    for name in ("base", "maps", "convolution", "dense", "pooling", "networks", "training"):
        module = importlib.import_module(f"helpers.figures.{name}")
        defined = {n for n, obj in vars(module).items() if not n.startswith("_")
                   and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__}
        assert defined <= set(module.__all__), (name, defined - set(module.__all__))
        assert set(module.__all__) <= set(figures.__all__), name
        assert all(getattr(figures, n) is getattr(module, n) for n in module.__all__)


def test_block_mosaic_rows_may_be_further_apart_than_columns():
    from helpers.figures.base import block_mosaic

    blocks = np.arange(5 * 2 * 3, dtype=float).reshape(5, 2, 3)
    mosaic = block_mosaic(blocks, 3, row_gap=4)
    assert mosaic.shape == (2 + 4 + 2, 3 + 1 + 3 + 1 + 3)
    np.testing.assert_array_equal(mosaic[6:8, 4:7], blocks[4])  # block 4: row 1, column 1
    assert np.isnan(mosaic[2:6]).all() and np.isnan(mosaic[:, 3]).all()
    assert block_mosaic(blocks, 3).shape == (5, 11)  # row_gap defaults to gap


def test_fixed_figure_places_axes_in_inches_without_a_layout_engine():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from helpers.figures import layout

    fig = layout.fixed_figure(8.0, 4.0)
    assert fig.get_layout_engine() is None and tuple(fig.get_size_inches()) == (8.0, 4.0)
    assert isinstance(fig.canvas, FigureCanvasAgg)  # one renderer for every PNG of this figure
    ax = layout.axes_at(fig, 1.0, 0.5, 2.0, 1.5, from_top=True)  # from the top-left corner
    np.testing.assert_allclose(ax.get_position().bounds, (1 / 8, 1 - 2 / 4, 2 / 8, 1.5 / 4))
    ax = layout.axes_at(fig, 1.0, 0.5, 2.0, 1.5)  # from the bottom-left corner
    np.testing.assert_allclose(ax.get_position().bounds, (1 / 8, 0.5 / 4, 2 / 8, 1.5 / 4))
    bar = layout.colorbar_at(fig, ax.imshow([[0.0, 1.0]]), (6.0, 0.5, 0.14, 3.0), "value", from_top=True,
                             powerlimits=(-2, 2))
    np.testing.assert_allclose(bar.ax.get_position().bounds, (6 / 8, 0.5 / 4, 0.14 / 8, 3 / 4))
    assert bar.ax.get_ylabel() == "value" and bar.ax.get_label() == "<colorbar>"
    with pytest.raises(ValueError, match="at most"):
        layout.fixed_figure(figures.MAX_WIDTH + 0.1, 3.0)
