"""Tests for helpers.figures.pooling: the column-scan index maps, the scan order, the routes through pooling
and the error before and after upsampling."""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figtools import (all_texts, assert_symmetric, colorbar_axes, colorbar_labels, draws, image_axes,  # noqa: E402
                      mosaic_blocks)
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from helpers import figures  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def _first_max_cells(C, size, stride):
    cells = []
    for i in range((C.shape[0] - size) // stride + 1):
        for j in range((C.shape[1] - size) // stride + 1):
            best = None
            for r in range(size):
                for c in range(size):
                    if best is None or C[i * stride + r, j * stride + c] > C[best]:
                        best = (i * stride + r, j * stride + c)
            cells.append(best)
    return cells


def test_flatten_index_maps_column_scan_and_row_scan():
    col = figures.flatten_index_maps(12, 4, "column")
    row = figures.flatten_index_maps(12, 4, "row")
    assert col.shape == row.shape == (12, 4, 4)
    n = 0
    for q in range(12):
        for j in range(4):          # Zhang eq. 10: column by column
            for i in range(4):
                assert col[q, i, j] == n
                n += 1
    n = 0
    for q in range(12):
        for i in range(4):          # numpy's reshape: row by row
            for j in range(4):
                assert row[q, i, j] == n
                n += 1
    assert sorted(col.ravel().tolist()) == list(range(192))
    assert figures.flatten_index_maps(2, 3)[1, 2, 0] == 9 + 2  # default is the column scan


@pytest.mark.parametrize("kwargs", [dict(order="diagonal"), dict(n_maps=0), dict(side=-1),
                                    dict(n_maps=True), dict(side=2.0)])
def test_flatten_index_maps_rejects_bad_arguments(kwargs):
    with pytest.raises((TypeError, ValueError)):
        figures.flatten_index_maps(**kwargs)


def test_show_scan_order_writes_each_index_in_its_cell_and_draws_the_path():
    fig = figures.show_scan_order(3, 4, "column", path_maps=2, title="F")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 3 and len(colorbar_axes(fig)) == 1
    assert [ax.get_title() for ax in axes] == ["q=1", "q=2", "q=3"]
    assert "index n of f" in colorbar_labels(fig)[0]
    assert axes[0].images[0].get_clim() == (0, 47)
    for q, ax in enumerate(axes):
        written = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
                   for t in ax.texts if not isinstance(t, Annotation)}
        assert written == {(i, j): str(16 * q + 4 * j + i) for i in range(4) for j in range(4)}
        arrows = [t for t in ax.texts if isinstance(t, Annotation)]
        assert len(arrows) == (15 if q < 2 else 0)
    first = [t for t in axes[0].texts if isinstance(t, Annotation)][0]
    assert first.xyann == (0, 0) and first.xy == (0, 1)  # the column scan goes down first
    assert fig.get_suptitle() == "F"


def test_show_scan_order_row_order_goes_right_first():
    fig = figures.show_scan_order(1, 3, "row", path_maps=1)
    first = [t for t in image_axes(fig)[0].texts if isinstance(t, Annotation)][0]
    assert first.xyann == (0, 0) and first.xy == (1, 0)


def test_show_scan_order_rejects_an_unknown_order():
    with pytest.raises(ValueError, match="order"):
        figures.show_scan_order(order="zigzag")


def test_show_pool_routing_max_marks_the_first_maximum_and_routes_the_error():
    C = np.array([[5, 5, 1, 0], [1, 2, 0, 1], [3, 1, 2, 2], [1, 3, 2, 2]], dtype=float)  # ties
    dout = np.array([[1.0, -2.0], [3.0, 4.0]])
    fig = figures.show_pool_routing(C, dout, mode="max")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 4 and len(colorbar_axes(fig)) == 1
    assert colorbar_labels(fig) == ["error (signed)"]
    assert "max pooling, window 2x2, stride 2" in fig.get_suptitle()
    winners = _first_max_cells(C, 2, 2)
    expected_dx = np.zeros((4, 4))
    for (r, c), d in zip(winners, dout.ravel()):
        expected_dx[r, c] += d
    np.testing.assert_array_equal(axes[1].images[0].get_array(), [[5, 1], [3, 2]])
    np.testing.assert_array_equal(axes[2].images[0].get_array(), dout)
    np.testing.assert_array_equal(axes[3].images[0].get_array(), expected_dx)
    for ax in (axes[2], axes[3]):
        assert_symmetric(ax.images[0], 4.0)
    thick = [p for p in axes[0].patches if isinstance(p, Rectangle) and p.get_linewidth() == 3.0]
    marked = sorted((round(p.get_y() + 0.4), round(p.get_x() + 0.4)) for p in thick)
    assert marked == sorted(winners)
    assert draws(fig)


def test_show_pool_routing_avg_with_overlapping_windows_adds_them_up(rng):
    C = rng.normal(size=(5, 5))
    dout = rng.normal(size=(2, 2))
    fig = figures.show_pool_routing(C, dout, size=3, stride=2, mode="avg", fmt=".1f")
    expected = np.zeros((5, 5))
    for i in range(2):
        for j in range(2):
            expected[2 * i:2 * i + 3, 2 * j:2 * j + 3] += dout[i, j] / 9
    axes = image_axes(fig)
    np.testing.assert_allclose(axes[3].images[0].get_array(), expected, atol=1e-12)
    assert_symmetric(axes[3].images[0], np.abs(np.concatenate([dout.ravel(), expected.ravel()])).max())
    assert len([p for p in axes[0].patches if isinstance(p, Rectangle)]) == 4  # one outline per window


def test_show_pool_routing_draws_all_negative_inputs():
    """Regression: the grey scale for the input used max * 1.8 as its top, below the minimum
    when every value is negative (as in check_maxpool_backward's all-negative case)."""
    C = -np.array([[1.0, 1.2, 1.1, 1.4], [1.3, 1.0, 1.2, 1.1], [1.5, 1.1, 1.0, 1.2], [1.2, 1.3, 1.4, 1.1]])
    fig = figures.show_pool_routing(C, np.ones((2, 2)), mode="max")
    vmin, vmax = image_axes(fig)[0].images[0].get_clim()
    assert vmin <= C.min() and vmax >= C.max()
    assert draws(fig)


@pytest.mark.parametrize("x, dout, kwargs, error", [
    (np.zeros((4, 4)), np.zeros((3, 3)), {}, ValueError),                 # dout not the pooled shape
    (np.zeros((2, 4, 4)), np.zeros((2, 2)), {}, ValueError),              # x must be one map
    (np.zeros((4, 4)), np.zeros((2, 2)), dict(mode="median"), ValueError),
    (np.array([[np.nan, 0], [0, 0]]), np.zeros((1, 1)), {}, ValueError),
])
def test_show_pool_routing_rejects_bad_input(x, dout, kwargs, error):
    with pytest.raises(error):
        figures.show_pool_routing(x, dout, **kwargs)


def test_show_error_upsampling_shares_one_symmetric_scale(rng):
    dS = rng.normal(size=(3, 2, 2))
    dC = np.repeat(np.repeat(dS, 2, axis=1), 2, axis=2) / 4
    fig = figures.show_error_upsampling(dS, dC, x=rng.random((28, 28)), label=7, title="eq. 32", ncols=2)
    assert isinstance(fig, Figure) and fig.get_layout_engine() is None  # laid out by hand: fast redraws
    axes = image_axes(fig)
    assert len(axes) == 1 + 2  # the digit and one mosaic image per set of maps
    assert axes[0].get_title() == "input x, label 7"
    for ax in axes[1:]:
        assert [t.get_text() for t in ax.texts] == ["q=1", "q=2", "q=3"]
    assert colorbar_labels(fig) == ["dL/dS and dL/dC\n(same colour scale)"]  # one scale, one bar
    m = np.abs(dS).max()
    for ax in axes[1:]:
        assert_symmetric(ax.images[0], m)
    for q, block in enumerate(mosaic_blocks(axes[2].images[0], 3, 2, 4, 4)):
        np.testing.assert_array_equal(block, dC[q])
    for q, block in enumerate(mosaic_blocks(axes[1].images[0], 3, 2, 4, 4)):  # dS drawn at dC's size
        np.testing.assert_array_equal(block, np.kron(dS[q], np.ones((2, 2))))
    assert fig.get_suptitle() == "eq. 32"
    assert draws(fig)


def test_show_error_upsampling_without_sharing_scales_each_grid(rng):
    dS = rng.normal(size=(12, 4, 4))
    dC = np.repeat(np.repeat(dS, 2, axis=1), 2, axis=2) / 4
    fig = figures.show_error_upsampling(dS, dC, share=False, mode="max")
    axes = image_axes(fig)
    assert len(axes) == 2
    assert_symmetric(axes[0].images[0], np.abs(dS).max())
    assert_symmetric(axes[1].images[0], np.abs(dC).max())
    assert [t.get_text() for t in axes[1].texts] == [f"q={q}" for q in range(1, 13)]
    assert len(mosaic_blocks(axes[1].images[0], 12, 4, 8, 8)) == 12
    assert colorbar_labels(fig) == ["dL/dS (its own scale)", "dL/dC (its own scale)"]
    assert any("after max upsampling" in t for t in all_texts(fig))
    assert fig.get_figwidth() <= figures.MAX_WIDTH and draws(fig)


def test_show_error_upsampling_needs_matching_map_counts(rng):
    with pytest.raises(ValueError, match="maps"):
        figures.show_error_upsampling(rng.normal(size=(3, 2, 2)), rng.normal(size=(2, 4, 4)))
    with pytest.raises(ValueError):
        figures.show_error_upsampling(rng.normal(size=(1, 3, 2, 2)), rng.normal(size=(3, 4, 4)))
