"""Tests for helpers.figures.maps: maps, kernels, digits, vectors, a forward pass and arrays side by side
have the panels, titles and labelled colourbars they promise, and reject bad input."""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figtools import all_texts, colorbar_axes, image_axes, seed_cache  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import figures  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def _walk_axes(sub):
    found = list(sub.axes)
    for child in sub.subfigs:
        found += _walk_axes(child)
    return found


@pytest.mark.parametrize("k", [1, 5, 6, 12, 13])
def test_show_maps_draws_one_panel_per_map_and_one_colorbar(rng, k):
    maps = rng.random((k, 8, 8))
    fig = figures.show_maps(maps, title="C2")
    assert isinstance(fig, Figure)
    assert len(image_axes(fig)) == k
    assert len(colorbar_axes(fig)) == 1
    assert len(fig.axes) == k + 1
    for i, ax in enumerate(image_axes(fig)):
        assert ax.get_title() == f"p={i + 1}"
        np.testing.assert_array_equal(ax.images[0].get_array(), maps[i])
    assert fig.get_suptitle() == "C2"


def test_show_maps_signed_limits_are_symmetric_and_shared(rng):
    maps = rng.normal(size=(12, 8, 8)) * 3.0 + 1.0  # mostly positive: limits must still be ±m
    fig = figures.show_maps(maps, signed=True, cbar_label="dE/dC2")
    m = np.abs(maps).max()
    for ax in image_axes(fig):
        vmin, vmax = ax.images[0].get_clim()
        assert vmin == -vmax == pytest.approx(-m)
        assert ax.images[0].get_cmap().name == figures.SIGNED_CMAP
    assert colorbar_axes(fig)[0].get_ylabel() == "dE/dC2"


def test_show_maps_unsigned_uses_data_range_and_sequential_map(rng):
    maps = rng.random((6, 4, 4)) * 0.5 + 0.25
    fig = figures.show_maps(maps, prefix="q", start=0)
    clim = image_axes(fig)[0].images[0].get_clim()
    assert clim == (pytest.approx(maps.min()), pytest.approx(maps.max()))
    assert image_axes(fig)[0].images[0].get_cmap().name == figures.ACTIVATION_CMAP
    assert [ax.get_title() for ax in image_axes(fig)] == [f"q={i}" for i in range(6)]
    assert colorbar_axes(fig)[0].get_ylabel() == "activation"


def test_show_maps_accepts_one_map_custom_labels_and_annotations():
    m = np.array([[1.0, -2.0], [0.5, 0.0]])
    fig = figures.show_maps(m, labels=["dS2[0]"], signed=True, annotate=True, ticks=True)
    (ax,) = image_axes(fig)
    assert ax.get_title() == "dS2[0]"
    assert ax.get_xlabel() == "column" and ax.get_ylabel() == "row"
    assert sorted(t.get_text() for t in ax.texts) == sorted(["1.00", "-2.00", "0.50", "0.00"])


def test_show_maps_errors_name_the_argument(rng):
    with pytest.raises(ValueError, match=r"maps must have shape \(K, H, W\)"):
        figures.show_maps(rng.random((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="labels must have 3 entries"):
        figures.show_maps(rng.random((3, 4, 4)), labels=["a", "b"])
    with pytest.raises(TypeError, match="maps must be a numeric"):
        figures.show_maps(np.array([["a"]]))


def test_show_kernels_3d_is_a_row_of_signed_panels(rng):
    k1 = rng.normal(size=(6, 5, 5))
    fig = figures.show_kernels(k1, title="k1")
    assert len(image_axes(fig)) == 6 and len(colorbar_axes(fig)) == 1
    vmin, vmax = image_axes(fig)[0].images[0].get_clim()
    assert vmin == -vmax == pytest.approx(-np.abs(k1).max())
    assert colorbar_axes(fig)[0].get_ylabel() == "weight"


def test_show_kernels_4d_puts_p_in_rows_and_q_in_columns(rng):
    k2 = rng.normal(size=(6, 12, 5, 5))
    fig = figures.show_kernels(k2)
    axes = image_axes(fig)
    assert len(axes) == 72 and len(fig.axes) == 73
    for p in range(6):
        for q in range(12):
            ax = axes[p * 12 + q]
            np.testing.assert_array_equal(ax.images[0].get_array(), k2[p, q])
            vmin, vmax = ax.images[0].get_clim()
            assert vmin == -vmax
    assert [axes[p * 12].get_ylabel() for p in range(6)] == [f"p={p + 1}" for p in range(6)]
    assert [axes[q].get_title() for q in range(12)] == [f"q={q + 1}" for q in range(12)]


def test_show_digit_reshapes_flat_images_and_shows_the_label(rng):
    x = rng.random(784)
    fig = figures.show_digit(x, label=7)
    (ax,) = image_axes(fig)
    np.testing.assert_array_equal(ax.images[0].get_array(), x.reshape(28, 28))
    assert "7" in ax.get_title()
    assert colorbar_axes(fig)[0].get_ylabel() == "pixel intensity"
    with pytest.raises(ValueError, match="x must have shape"):
        figures.show_digit(rng.random(10))


def test_show_digit_draws_into_a_given_axes(rng):
    fig = figures.new_figure(3, 3)
    ax = fig.add_subplot()
    assert figures.show_digit(rng.random((28, 28)), ax=ax, colorbar=False) is fig
    assert len(fig.axes) == 1 and ax.images


def test_show_vector_bars_labels_and_highlight():
    y_hat = np.linspace(0.0, 0.9, 10)
    fig = figures.show_vector(y_hat, title="y_hat", xlabel="class", ylabel="output",
                            highlight=[3, 9])
    (ax,) = fig.axes
    heights = [bar.get_height() for bar in ax.patches]
    np.testing.assert_allclose(heights, y_hat)
    red = [i for i, bar in enumerate(ax.patches)
           if bar.get_facecolor() == matplotlib.colors.to_rgba("C3")]
    assert red == [3, 9]
    assert ax.get_xlabel() == "class" and ax.get_ylabel() == "output"


def test_show_vector_groups_f_by_s2_map(rng):
    fig = figures.show_vector(rng.random(192), group=16, xlabel="index of f")
    (ax,) = fig.axes
    assert len(ax.patches) == 192
    assert [t.get_text() for t in ax.texts] == [f"q={g + 1}" for g in range(12)]
    with pytest.raises(ValueError, match="group must divide"):
        figures.show_vector(rng.random(192), group=10)
    with pytest.raises(ValueError, match=r"v must have shape \(n,\)"):
        figures.show_vector(rng.random((2, 3)))


def test_show_network_flow_has_every_layer(rng):
    cache = seed_cache(rng)
    fig = figures.show_network_flow(cache, label=3)
    # digit + (6 + 6 + 12 + 12) maps + 4 colourbars + f + y_hat
    all_axes = [ax for sub in fig.subfigs for ax in _walk_axes(sub)]
    assert len(all_axes) == 1 + 36 + 4 + 2
    drawn = [ax.images[0].get_array() for ax in all_axes
             if ax.images and ax.get_label() != "<colorbar>"]
    for name in ("C1", "S1", "C2", "S2"):
        for m in cache[name]:
            assert any(d.shape == m.shape and np.array_equal(d, m) for d in drawn), name
    texts = all_texts(fig)
    for name in ("C1", "S1", "C2", "S2", "f", "y_hat"):
        assert any(t.startswith(name) for t in texts), name
    predicted = int(np.argmax(cache["y_hat"]))
    assert predicted != 3
    assert "true class: 3" in texts and f"predicted: {predicted}" in texts  # the legend names both
    bars = [ax for ax in all_axes if ax.get_ylabel() == "y_hat (output)"][0].containers[0]
    true_bar, predicted_bar = bars[3], bars[predicted]
    # two different marks, told apart by colour and by pattern (colour-blind safe)
    assert true_bar.get_facecolor() != predicted_bar.get_facecolor()
    assert predicted_bar.get_hatch() == "//" and not true_bar.get_hatch()
    others = {bar.get_facecolor() for i, bar in enumerate(bars) if i not in (3, predicted)}
    assert len(others) == 1 and others.isdisjoint({true_bar.get_facecolor(), predicted_bar.get_facecolor()})


def test_mark_classes_when_the_prediction_is_right(rng):
    fig = figures.show_vector(np.arange(10.0))
    ax = fig.axes[0]
    figures.mark_classes(ax, true=9, predicted=9, true_name="label in the loss")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["label in the loss = predicted: 9"]
    assert ax.containers[0][9].get_hatch() == "//"
    with pytest.raises(ValueError, match="bar chart"):
        figures.mark_classes(figures.new_figure(2, 2).add_subplot(), true=1)


def test_show_network_flow_with_the_real_network(rng):
    network = pytest.importorskip("helpers.network")
    params = network.init_params(seed=0)
    cache = network.forward(params, rng.random((28, 28)))
    fig = figures.show_network_flow(cache, label=1)
    assert isinstance(fig, Figure)
    batch = network.forward(params, rng.random((3, 28, 28)))
    fig_batch = figures.show_network_flow(batch, index=2)
    legend = [t for t in all_texts(fig_batch) if t.startswith(("predicted", "true"))]
    assert legend == [f"predicted: {int(np.argmax(batch['y_hat'][2]))}"]


def test_show_network_flow_names_missing_keys(rng):
    cache = seed_cache(rng)
    del cache["S2"]
    with pytest.raises(KeyError, match="S2"):
        figures.show_network_flow(cache)


def test_side_by_side_shared_scale_and_difference_column(rng):
    loops = rng.normal(size=(3, 4, 4))
    fast = loops + 1e-3 * rng.normal(size=(3, 4, 4))
    fig = figures.side_by_side([loops, fast], ["loops", "fast"], signed=True,
                             show_difference=True)
    images = image_axes(fig)
    assert len(images) == 9 and len(colorbar_axes(fig)) == 2
    columns = [images[c::3] for c in range(3)]  # the grid is stored row by row
    assert [col[0].get_title() for col in columns] == ["loops", "fast", "loops - fast"]
    assert [ax.get_ylabel() for ax in columns[0]] == ["p=1", "p=2", "p=3"]
    m = max(np.abs(loops).max(), np.abs(fast).max())
    for c, data in enumerate([loops, fast, loops - fast]):
        limit = m if c < 2 else np.abs(loops - fast).max()
        for r, ax in enumerate(columns[c]):
            np.testing.assert_array_equal(ax.images[0].get_array(), data[r])
            vmin, vmax = ax.images[0].get_clim()
            assert vmin == -vmax == pytest.approx(-limit)


def test_side_by_side_separate_scales_for_different_shapes(rng):
    dS2 = rng.normal(size=(2, 4, 4))
    dC2 = np.repeat(np.repeat(dS2, 2, axis=1), 2, axis=2) / 4.0
    fig = figures.side_by_side([dS2, dC2], ["dS2", "dC2"], signed=True, share=False)
    assert len(image_axes(fig)) == 4 and len(colorbar_axes(fig)) == 2
    clims = [ax.images[0].get_clim() for ax in image_axes(fig)]
    assert clims[0] == pytest.approx((-np.abs(dS2).max(), np.abs(dS2).max()))
    assert clims[1] == pytest.approx((-np.abs(dC2).max(), np.abs(dC2).max()))
    with pytest.raises(ValueError, match="same number of maps"):
        figures.side_by_side([dS2, dC2[:1]], ["a", "b"])
    with pytest.raises(ValueError, match="same shape"):
        figures.side_by_side([dS2, dC2], ["a", "b"], show_difference=True)


@pytest.mark.parametrize("scale", [0.0015, 0.0025, 0.04, 3.0])
def test_side_by_side_difference_colour_bar_labels_do_not_overlap(scale):
    """09's difference figure (one map, panel_size 2.2): the difference column's colour bar is one
    panel wide; its tick labels (e.g. -0.0050 -0.0025 0.0000 0.0025 0.0050) must not run together."""
    rng = np.random.default_rng(9)
    fig = figures.side_by_side([scale * rng.normal(size=(12, 12)), scale * rng.normal(size=(12, 12))],
                               ["as printed", "corrected"], signed=True, show_difference=True,
                               title="E2 eq. 49: error on S1", cbar_label="value", panel_size=2.2)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    for cbar in colorbar_axes(fig):
        boxes = sorted((t.get_window_extent(renderer) for t in cbar.get_xticklabels() if t.get_text()),
                       key=lambda b: b.x0)
        assert len(boxes) >= 2
        gaps = [right.x0 - left.x1 for left, right in zip(boxes, boxes[1:])]
        assert min(gaps) > 2, f"tick labels of a colour bar overlap or touch (gaps {gaps} px)"


def test_show_maps_mosaic_draws_one_image_with_labels_and_one_colour_bar(rng):
    from figtools import colorbar_labels, mosaic_blocks

    maps = rng.random((12, 8, 8))
    fig = figures.show_maps(maps, title="C2", prefix="q", vmin=0.0, vmax=1.0, cbar_label="activation", mosaic=True)
    assert fig.get_layout_engine() is None and fig.get_figwidth() <= figures.MAX_WIDTH
    (ax,) = image_axes(fig)
    assert [t.get_text() for t in ax.texts] == [f"q={q}" for q in range(1, 13)]
    assert ax.images[0].get_clim() == (0.0, 1.0)
    for block, expected in zip(mosaic_blocks(ax.images[0], 12, 6, 8, 8), maps):  # two rows of six
        np.testing.assert_array_equal(block, expected)
    assert colorbar_labels(fig) == ["activation"] and fig.get_suptitle() == "C2"
    signed = figures.show_maps(rng.normal(size=(6, 24, 24)) - 3, signed=True, start=0, mosaic=True)
    (ax,) = image_axes(signed)
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi == pytest.approx(-np.abs(signed.axes[0].images[0].get_array()).max())
    assert ax.texts[0].get_text() == "p=0" and colorbar_labels(signed) == ["signed value"]


@pytest.mark.parametrize("kwargs", [dict(labels=list("abc")), dict(annotate=True), dict(ticks=True),
                                    dict(vmin=0.2), dict(cmap="gray")])
def test_show_maps_mosaic_refuses_what_it_cannot_draw(rng, kwargs):
    with pytest.raises(ValueError, match="mosaic"):
        figures.show_maps(rng.random((3, 4, 4)), mosaic=True, **kwargs)
