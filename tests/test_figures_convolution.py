"""Tests for helpers.figures.convolution: a worked convolution, kernel placement, initial weights and a kernel
gradient term by term (its terms add up to the gradient of a loop convolution)."""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figtools import assert_symmetric, assert_text_inside_and_apart, colorbar_labels, image_axes, texts_of  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import figures  # noqa: E402
from helpers.convolution import convolve2d, correlate2d, rot180  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def _true_conv(x, k):
    kh, kw = k.shape
    ho, wo = x.shape[0] - kh + 1, x.shape[1] - kw + 1
    return np.array([[sum(x[i + kh - 1 - a, j + kw - 1 - b] * k[a, b] for a in range(kh) for b in range(kw))
                      for j in range(wo)] for i in range(ho)])


def _correlate(x, k):
    kh, kw = k.shape
    return np.array([[np.sum(x[i:i + kh, j:j + kw] * k) for j in range(x.shape[1] - kw + 1)]
                     for i in range(x.shape[0] - kh + 1)])


@pytest.mark.parametrize("convention, forward", [("convolution", _true_conv), ("correlation", _correlate)])
def test_kernel_gradient_terms_add_up_to_the_kernel_gradient(rng, convention, forward):
    x = rng.normal(size=(6, 7))
    err = rng.normal(size=(4, 4))  # kernel 3 x 4
    patches, products, dk = figures.kernel_gradient_terms(x, err, convention)
    assert patches.shape == products.shape == (3, 4, 4, 4) and dk.shape == (3, 4)
    # the loss sum(err * forward(x, k)) is linear in k: its gradient entry (a, b) is its value
    # for the kernel that is 1 at (a, b)
    for a in range(3):
        for b in range(4):
            probe = np.zeros((3, 4))
            probe[a, b] = 1.0
            np.testing.assert_allclose(patches[a, b], forward(x, probe), atol=1e-12)
            assert dk[a, b] == pytest.approx(np.sum(err * forward(x, probe)))
    np.testing.assert_allclose(products, patches * err, atol=1e-12)


@pytest.mark.parametrize("args, error", [
    ((np.zeros((4, 4)), np.zeros((5, 5))), ValueError),              # error larger than input
    ((np.zeros((4, 4)), np.zeros((2, 2)), "flip"), ValueError),      # unknown convention
    ((np.zeros((2, 4, 4)), np.zeros((2, 2))), ValueError),           # input must be 2-D
    ((np.zeros((4, 4)), np.zeros(2)), ValueError),                   # error must be 2-D
    ((np.zeros((4, 4)), [["a", "b"], ["c", "d"]]), TypeError),
])
def test_kernel_gradient_terms_rejects_bad_input(args, error):
    with pytest.raises(error):
        figures.kernel_gradient_terms(*args)


def _images(fig):
    """The images of a figure drawn on one sheet, by label (see figures.layout.Sheet)."""
    (ax,) = fig.axes
    return {image.get_label(): image for image in ax.images}



@pytest.mark.parametrize("show", ["patches", "products"])
def test_show_kernel_gradient_terms_panels_and_scales(rng, show):
    x = rng.random((7, 7))
    err = rng.normal(size=(5, 5))  # 3 x 3 kernel
    _, products, dk = figures.kernel_gradient_terms(x, err)
    fig = figures.show_kernel_gradient_terms(x, err, show=show, input_label="S1", title="eq. 40")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1 and fig.get_layout_engine() is None  # one sheet, placed by hand
    images = _images(fig)
    bars = sorted(image.get_label() for image in fig.axes[0].images if image.get_label().startswith("colour bar"))
    # one colour bar per scale: the input's, and the error's (shared with the products, or the
    # patches on the input's scale with a bar of their own)
    assert bars == (["colour bar: S1", "colour bar: error; patch x error"] if show == "products"
                    else ["colour bar: S1", "colour bar: S1", "colour bar: error"])
    np.testing.assert_array_equal(images["input"].get_array(), x)
    np.testing.assert_array_equal(images["error"].get_array(), err)
    np.testing.assert_allclose(images["gradient"].get_array(), dk)
    assert_symmetric(images["gradient"], np.abs(dk).max())
    if show == "products":
        # error and products on one symmetric scale
        assert_symmetric(images["error"], max(np.abs(err).max(), np.abs(products).max()))
        assert images["terms"].norm is images["error"].norm
        assert images["terms"].get_cmap().name.startswith(figures.SIGNED_CMAP)
    else:
        assert_symmetric(images["error"], np.abs(err).max())
        assert images["terms"].get_clim() == images["input"].get_clim() == (x.min(), x.max())
    # every tap: a 3 x 3 mosaic; the sums are written into the kernel gradient, divided by the
    # power of ten its title names; its tick labels are Zhang's centred u and v
    assert images["terms"].get_array().shape == (3 * 5 + 2 * 2, 3 * 5 + 2 * 2)
    power = int(np.floor(np.log10(np.abs(dk).max())))
    written = texts_of(fig.axes[0])
    in_cells = [t.get_text() for t in fig.axes[0].texts if t.get_transform() is not fig.axes[0].transData]
    assert in_cells == [f"{v / 10.0**power:.2f}" for v in dk.ravel()]
    assert any(t.endswith(f"numbers x 1e{power}" if power else "numbers") for t in written)
    assert written.count("-1") >= 2 and written.count("1") >= 2 and "eq. 40" in written
    assert min(t.get_fontsize() for t in fig.axes[0].texts) >= figures.projected_points(fig)


def test_show_kernel_gradient_terms_draws_only_the_chosen_taps(rng):
    x = rng.random((9, 9))
    err = rng.normal(size=(5, 5))  # 5 x 5 kernel
    patches, products, dk = figures.kernel_gradient_terms(x, err)
    fig = figures.show_kernel_gradient_terms(x, err, show="products", taps=[(-2, -2), (0, 0), (2, 1)])
    images = _images(fig)
    written = texts_of(fig.axes[0])
    assert [t for t in written if t.startswith("(")] == ["(-2,-2)", "(0,0)", "(2,1)"]
    mosaic = np.ma.filled(images["terms"].get_array(), np.nan)
    gap = max(2, round(0.35 * 5))
    np.testing.assert_array_equal(mosaic[:5, :5], products[0, 0])        # 2 x 2 tiles, in the order given
    np.testing.assert_array_equal(mosaic[:5, 5 + gap:], products[2, 2])
    np.testing.assert_array_equal(mosaic[5 + gap:, :5], products[4, 3])
    assert np.isnan(mosaic[5 + gap:, 5 + gap:]).all()
    with pytest.raises(ValueError, match="taps"):
        figures.show_kernel_gradient_terms(x, err, taps=[(3, 0)])


def test_show_kernel_gradient_terms_one_tap_is_framed_in_the_gradient(rng):
    """The widget's view: one tap, its patch outlined in the input, its cell framed in the gradient."""
    x = rng.random((9, 9))
    err = rng.normal(size=(5, 5))  # 5 x 5 kernel
    patches, products, dk = figures.kernel_gradient_terms(x, err)
    fig = figures.show_kernel_gradient_terms(x, err, show="patches", taps=[(1, -2)])
    images = _images(fig)
    np.testing.assert_array_equal(images["terms"].get_array(), patches[3, 0])
    np.testing.assert_array_equal(patches[3, 0], x[1:6, 4:9])  # tap (1,-2) of a convolution: rows 1..5, cols 4..8
    written = texts_of(fig.axes[0])
    assert "tap (u,v) = (1,-2)\npatch (red box)" in written and "red box: tap (1,-2)" in " ".join(written)
    ax = fig.axes[0]
    left, right, bottom, top = images["input"].get_extent()
    pixel = (right - left) / 9
    red = [p for p in ax.patches if p.get_edgecolor()[:3] == matplotlib.colors.to_rgb("crimson")]
    assert len(red) == 1 and red[0].get_xy() == (pytest.approx(left + 4 * pixel), pytest.approx(top + 1 * pixel))
    left, right, bottom, top = images["gradient"].get_extent()
    framed = [p for p in ax.patches if p.get_linewidth() == 2.5]
    assert len(framed) == 1
    assert framed[0].get_xy() == (pytest.approx(left), pytest.approx(top + 3 * (bottom - top) / 5))  # u = 1, v = -2


def test_show_kernel_gradient_terms_rejects_an_unknown_view(rng):
    with pytest.raises(ValueError, match="show"):
        figures.show_kernel_gradient_terms(rng.random((5, 5)), rng.random((3, 3)), show="sums")
    with pytest.raises(ValueError, match="convention"):
        figures.show_kernel_gradient_terms(rng.random((5, 5)), rng.random((3, 3)), convention="flip")


def test_show_kernel_mosaic_places_kernel_pq_at_row_p_column_q(rng):
    k = rng.normal(size=(2, 3, 4, 5))
    fig = figures.show_kernel_mosaic(k, title="dk2", cbar_label="gradient")
    assert isinstance(fig, Figure)
    (ax,) = image_axes(fig)
    assert colorbar_labels(fig) == ["gradient"]
    mosaic = np.ma.filled(ax.images[0].get_array(), np.nan)
    assert mosaic.shape == (2 * 4 + 1, 3 * 5 + 2)
    for p in range(2):
        for q in range(3):
            np.testing.assert_array_equal(mosaic[p * 5:p * 5 + 4, q * 6:q * 6 + 5], k[p, q])
    assert np.isnan(mosaic[4]).all() and np.isnan(mosaic[:, 5]).all()  # gaps between kernels
    assert_symmetric(ax.images[0], np.abs(k).max())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["q=1", "q=2", "q=3"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["p=1", "p=2"]
    assert fig.get_suptitle() == "dk2"


def test_show_kernel_mosaic_unsigned_and_zero_based(rng):
    k = rng.random((1, 2, 3, 3)) + 1.0
    fig = figures.show_kernel_mosaic(k, signed=False, start=0, row_prefix="m", col_prefix="n")
    (ax,) = image_axes(fig)
    assert ax.images[0].get_clim() == (pytest.approx(k.min()), pytest.approx(k.max()))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["n=0", "n=1"]


@pytest.mark.parametrize("k", [np.zeros((6, 5, 5)), np.zeros((0, 2, 5, 5)), np.full((1, 1, 2, 2), np.nan)])
def test_show_kernel_mosaic_rejects_bad_kernels(k):
    with pytest.raises(ValueError):
        figures.show_kernel_mosaic(k)


def test_show_conv_example_panels_and_flip():
    x = np.random.default_rng(0).random((10, 10))
    k = np.arange(9.0).reshape(3, 3) - 4.0
    fig = figures.show_conv_example(x, k, convolve2d(x, k), "convolution", label=3)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1 and fig.get_layout_engine() is None  # one sheet, placed by hand
    (ax,) = fig.axes
    labels = [image.get_label() for image in ax.images]
    assert labels == ["input", "colour bar: pixel intensity", "feature map", "colour bar: response (0 = white)",
                      "kernel k as typed", "slid over x: rot180(k)", "colour bar: weight"]
    images = dict(zip(labels, ax.images))
    np.testing.assert_array_equal(images["input"].get_array(), x)
    np.testing.assert_array_equal(images["kernel k as typed"].get_array(), k)
    np.testing.assert_array_equal(images["slid over x: rot180(k)"].get_array(), rot180(k))
    np.testing.assert_array_equal(images["feature map"].get_array(), convolve2d(x, k))
    assert_symmetric(images["feature map"], np.abs(convolve2d(x, k)).max())
    # both kernels on one signed scale, their values written in at the projected size
    assert images["kernel k as typed"].norm is images["slid over x: rot180(k)"].norm
    assert_symmetric(images["kernel k as typed"], 4.0)
    in_cells = [t.get_text() for t in ax.texts if t.get_transform() is not ax.transData]
    assert in_cells == [f"{v:.0f}" for v in k.ravel()] + [f"{v:.0f}" for v in rot180(k).ravel()]  # integers
    assert "input x, label 3, 10x10" in texts_of(ax) and "convolution: 8x8 map" in texts_of(ax)
    assert min(t.get_fontsize() for t in ax.texts) >= figures.projected_points(fig)
    fig2 = figures.show_conv_example(x, k, correlate2d(x, k), "cross-correlation")
    slid = [image for image in fig2.axes[0].images if image.get_label() == "slid over x: k"]
    np.testing.assert_array_equal(slid[0].get_array(), k)
    # the widget's view: the editor shows k as typed, the figure one row: input, k as slid, feature map
    k2 = k / 7.0
    fig3 = figures.show_conv_example(x, k2, convolve2d(x, k2), "convolution", typed=False)
    (ax3,) = fig3.axes
    assert [image.get_label() for image in ax3.images] == [
        "input", "colour bar: pixel intensity", "feature map", "colour bar: response (0 = white)",
        "slid over x: rot180(k)", "colour bar: weight"]
    np.testing.assert_array_equal(ax3.images[4].get_array(), rot180(k2))
    in_cells = [t.get_text() for t in ax3.texts if t.get_transform() is not ax3.transData]
    assert in_cells == [f"{v:.2f}" for v in rot180(k2).ravel()]
    tops = [image.get_extent()[3] for image in ax3.images if not image.get_label().startswith("colour")]
    assert len(set(tops)) == 1  # one row
    with pytest.raises(ValueError, match="operation"):
        figures.show_conv_example(x, k, correlate2d(x, k), "conv")
    with pytest.raises(ValueError, match="k must have shape"):
        figures.show_conv_example(x, k[0], correlate2d(x, k))


def test_show_kernel_placement_validates():
    place = np.stack(np.meshgrid(np.arange(3), np.arange(3), indexing="ij"), axis=-1)
    fig = figures.show_kernel_placement({"corr": place, "conv": place[::-1, ::-1]}, n=5, out_index=(0, 0))
    assert len([ax for ax in fig.axes if ax.images]) == 2
    with pytest.raises(ValueError, match="outside"):
        figures.show_kernel_placement({"corr": place + 4}, n=5)
    with pytest.raises(ValueError, match=r"\(f, f, 2\)"):
        figures.show_kernel_placement({"corr": place[..., 0]}, n=5)
    with pytest.raises(TypeError):
        figures.show_kernel_placement({}, n=5)


def test_show_init_histograms_density_matches_uniform():
    rng = np.random.default_rng(1)
    params = {"W": rng.uniform(-0.2, 0.2, 4000)}
    fig = figures.show_init_histograms(params, {"W": 0.2})
    ax = fig.axes[0]
    heights = np.array([patch.get_height() for patch in ax.patches])
    # two empty bins on each side of +-a; inside, a flat density near 1 / (2a) = 2.5
    assert np.all(heights[:2] == 0) and np.all(heights[-2:] == 0)
    assert abs(heights[2:-2].mean() - 2.5) < 0.05
    with pytest.raises(KeyError):
        figures.show_init_histograms(params, {"k1": 0.1})
    with pytest.raises(ValueError, match="> 0"):
        figures.show_init_histograms(params, {"W": 0.0})


def _sheet_cases():
    rng = np.random.default_rng(3)
    x = rng.random((28, 28))
    laplacian = -np.ones((5, 5))
    laplacian[2, 2] = 24.0
    yield "conv 3x3", lambda: figures.show_conv_example(x, np.eye(3) - 0.5, convolve2d(x, np.eye(3) - 0.5),
                                                          "convolution", label=3)
    yield "corr 5x5 title", lambda: figures.show_conv_example(x, laplacian, correlate2d(x, laplacian),
                                                                "cross-correlation", label=7, title="static")
    yield "corr 5x5 random", lambda: figures.show_conv_example(x, rng.uniform(-1, 1, (5, 5)),
                                                                 rng.normal(size=(24, 24)), label=0)
    for size, kernel in ((3, np.eye(3) - 0.5), (5, laplacian), (5, rng.uniform(-1, 1, (5, 5))), (2, np.ones((2, 3)))):
        yield f"one row {size}x{size}", lambda kernel=kernel: figures.show_conv_example(
            x, kernel, convolve2d(x, kernel), "convolution", label=3, typed=False)
    for show in ("products", "patches"):
        for taps in (None, [(-2, -2)], [(2, 1)], [(-2, -2), (0, 0), (2, 2)]):
            yield f"C1 {show} {taps}", lambda show=show, taps=taps: figures.show_kernel_gradient_terms(
                x, rng.normal(size=(24, 24)) * 1e-4, show=show, taps=taps, input_name="I",
                input_label="pixel intensity", error_name=r"\Delta C^1_{3,\sigma}", grad_name=r"\Delta k^1_{1,3}",
                title="digit 3, example 0, layer C1, p=3")
        yield f"C2 {show}", lambda show=show: figures.show_kernel_gradient_terms(
            rng.random((12, 12)), rng.normal(size=(8, 8)) * 1e-3, show=show, taps=[(1, 0)], input_name="S^1_6",
            error_name=r"\Delta C^2_{12,\sigma}", grad_name=r"\Delta k^2_{6,12}",
            title="digit 9, example 4, layer C2, p=6, q=12")


@pytest.mark.parametrize("name, draw", list(_sheet_cases()), ids=[name for name, _ in _sheet_cases()])
def test_hand_placed_figures_keep_every_label_inside_and_apart(name, draw):
    """The widget figures are placed by hand, without a layout engine: every text lies inside the
    figure, no two texts touch, and the figure fits the notebook column (930 px at dpi 100)."""
    fig = draw()
    assert fig.get_size_inches()[0] <= figures.MAX_WIDTH
    assert_text_inside_and_apart(fig, name)
