"""Tests for helpers.figures.networks: the figures of seeds 002 and 003 (max pooling backward, a layer's
values and errors, gradient sizes per layer)."""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import refimpl as R  # noqa: E402
from figtools import assert_symmetric, colorbar_labels, image_axes, texts_of  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import figures, maxpool_net, pooling, softmax_net  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def _seed002_arrays(rng):
    a1 = R.sigmoid(rng.normal(size=(24, 24)))
    a2 = a1.reshape(12, 2, 12, 2).max(axis=(1, 3))
    delta1 = np.zeros((24, 24))
    delta1[::2, ::2] = rng.normal(size=(12, 12))
    return dict(x=rng.random((28, 28)), a1=a1, a2=a2, delta1=delta1, w1=rng.normal(size=(5, 5)),
                dw1=rng.normal(size=(5, 5)))


def _digit():
    x = np.zeros((28, 28))
    x[6:22, 12:16] = 1.0
    return x


def test_show_maxpool_backward_six_panels_signed_ones_centred(rng):
    arrays = _seed002_arrays(rng)
    fig = figures.show_maxpool_backward(**arrays, label=4, title="seed 002")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 6
    # one colour bar for the activations a1 and a2 (one scale 0..1), one for delta1; the 5x5 panels carry numbers
    assert colorbar_labels(fig) == ["activation", "error"]
    assert "label 4" in axes[0].get_title()
    by_data = {name: ax for name, ax in zip(["x", "a1", "a2", "w1", "delta1", "dw1"], axes)}
    for name, ax in by_data.items():
        np.testing.assert_array_equal(ax.images[0].get_array(), arrays[name])
    for name in ("w1", "delta1", "dw1"):
        assert_symmetric(by_data[name].images[0], np.abs(arrays[name]).max())
    assert by_data["a1"].images[0].get_clim() == by_data["a2"].images[0].get_clim() == (0.0, 1.0)
    for name in ("w1", "dw1"):  # 25 numbers in units of 10^power (named in the title), one digit before the point
        power = int(np.floor(np.log10(np.abs(arrays[name]).max())))
        shown = [float(t) for t in texts_of(by_data[name])[-25:]]
        np.testing.assert_allclose(shown, (arrays[name] / 10.0**power).ravel(), atol=0.051)
        assert (f"numbers x 1e{power}" in by_data[name].get_title()) == (power != 0)
    # 0-based index labels: every 5th of a 24x24 map, each of a 5x5 kernel
    assert texts_of(by_data["a1"])[:10] == ["0", "5", "10", "15", "20"] * 2
    assert texts_of(by_data["w1"])[:10] == ["0", "1", "2", "3", "4"] * 2
    # one dot per 2x2 window, at its first maximum
    rows, cols = by_data["a1"].lines[0].get_ydata(), by_data["a1"].lines[0].get_xdata()
    assert len(rows) == 144
    for r, c in zip(rows, cols):
        window = arrays["a1"][r // 2 * 2:r // 2 * 2 + 2, c // 2 * 2:c // 2 * 2 + 2]
        assert arrays["a1"][r, c] == window.max()
    assert fig.get_suptitle() == "seed 002"


def test_show_maxpool_backward_checks_every_shape(rng):
    arrays = _seed002_arrays(rng)
    arrays["dw1"] = np.zeros((3, 3))
    with pytest.raises(ValueError, match="dw1 must have shape"):
        figures.show_maxpool_backward(**arrays)


def test_show_layer_errors_maps_values_on_top_errors_below(rng):
    values = R.sigmoid(rng.normal(size=(4, 8, 8)))
    errors = rng.normal(size=(4, 8, 8)) * 1e-3
    fig = figures.show_layer_errors(values, errors, value_name="C^2", error_name=r"\Delta C^2", prefix="n",
                                  title="layer 2")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 2                               # one mosaic image per row: values, errors
    assert [texts_of(ax) for ax in axes] == [["n=1", "n=2", "n=3", "n=4"]] * 2
    assert [ax.get_title() for ax in axes] == ["$C^2$ (4 maps of 8x8)", r"$\Delta C^2$"]
    assert colorbar_labels(fig) == ["value", "error"]
    for ax, maps in zip(axes, (values, errors)):       # map k in block k, one grey pixel apart
        mosaic = ax.images[0].get_array()
        for k in range(4):
            np.testing.assert_array_equal(mosaic[:, 9 * k:9 * k + 8], maps[k])
    assert axes[0].images[0].get_clim() == (0.0, values.max())
    assert_symmetric(axes[1].images[0], np.abs(errors).max())
    assert axes[1].images[0].get_cmap().name.startswith(figures.SIGNED_CMAP)


def test_show_layer_errors_vector_draws_two_bar_charts(rng):
    fig = figures.show_layer_errors(rng.random(10), rng.normal(size=10), label=3)
    assert len(fig.axes) == 2
    top, bottom = fig.axes
    assert len(top.patches) == len(bottom.patches) == 10
    colours = {tuple(p.get_facecolor()) for p in top.patches}
    assert len(colours) == 2  # the bar of class 3 stands out
    assert top.patches[3].get_facecolor() != top.patches[0].get_facecolor()


@pytest.mark.parametrize("values, errors", [(np.zeros((2, 4, 4)), np.zeros((2, 4, 5))),
                                            (np.zeros((4, 4)), np.zeros((4, 4)))])
def test_show_layer_errors_rejects_bad_shapes(values, errors):
    with pytest.raises(ValueError):
        figures.show_layer_errors(values, errors)


def test_show_gradient_sizes_one_bar_per_run_and_tensor_on_a_log_scale():
    sizes = {"quadratic": {"w1": 1e-3, "b1": 2e-3, "w3": 0.1}, "cross-entropy": {"w1": 1e-2, "b1": 5e-2, "w3": 1.0}}
    fig = figures.show_gradient_sizes(sizes, title="RMS")
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert len(ax.patches) == 6
    heights = sorted(p.get_height() for p in ax.patches)
    assert heights == sorted(v for run in sizes.values() for v in run.values())
    assert [t.get_text() for t in ax.get_xticklabels()] == ["w1", "b1", "w3"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["quadratic", "cross-entropy"]


@pytest.mark.parametrize("sizes, error", [
    ({}, TypeError),
    ([("a", {"w": 1.0})], TypeError),
    ({"a": {"w": 1.0, "b": 2.0}, "b": {"b": 2.0, "w": 1.0}}, ValueError),  # tensors in another order
    ({"a": {"w": 0.0}}, ValueError),                                       # not positive: no log scale
])
def test_show_gradient_sizes_rejects_bad_input(sizes, error):
    with pytest.raises(error):
        figures.show_gradient_sizes(sizes)


def test_show_maxpool_backward_panels_and_errors():
    p = maxpool_net.init_params(0)
    cache = maxpool_net.forward(p, _digit())
    grads, err = maxpool_net.backward_with_errors(p, cache, 1)
    fig = figures.show_maxpool_backward(_digit(), cache["a1"], cache["a2"], err["delta1"], p["w1"], grads["w1"],
                                      label=1, title="t")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 8                          # six panels and two colourbars
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "max-pooled" in titles and "shared kernel" in titles
    with pytest.raises(ValueError, match=r"a1 must have shape \(24, 24\)"):
        figures.show_maxpool_backward(_digit(), cache["a2"], cache["a2"], err["delta1"], p["w1"], grads["w1"])


def test_window_winners_follow_the_first_maximum_rule():
    rng = np.random.default_rng(0)
    a1 = rng.random((24, 24))
    a1[0:2, 0:2] = 0.5                                 # a four-way tie: the winner is (0, 0)
    rows, cols = figures.window_winners(a1)
    routed = pooling.maxpool_backward(np.ones((12, 12)), pooling.maxpool_forward(a1, 2, 2)[1])
    marked = np.zeros((24, 24))
    marked[rows, cols] = 1
    assert np.array_equal(marked, routed)
    assert marked[0, 0] == 1


def test_show_layer_errors_maps_and_vectors():
    p = softmax_net.init_params(0)
    cache = softmax_net.forward(p, _digit())
    _, err = softmax_net.backward_with_errors(p, cache, 2)
    fig = figures.show_layer_errors(cache["C2"], err["dC2_sigma"], value_name="C^2_n", error_name=r"\delta C^2_n",
                                  prefix="n")
    assert len(fig.axes) == 2 + 2                      # two mosaics of six maps, a colourbar each
    assert [len(texts_of(ax)) for ax in image_axes(fig)] == [6, 6]
    fig = figures.show_layer_errors(cache["s"], err["delta"], label=2)
    assert len(fig.axes) == 2
    bars = fig.axes[0].patches
    assert bars[2].get_facecolor() != bars[0].get_facecolor()      # the label's bar is highlighted
    with pytest.raises(ValueError, match="shape of values"):
        figures.show_layer_errors(cache["C2"], err["dC1P"])
    with pytest.raises(ValueError, match=r"\(K, H, W\) maps or \(n,\)"):
        figures.show_layer_errors(np.zeros((4, 4)), np.zeros((4, 4)))


def test_show_gradient_sizes_and_show_runs():
    sizes = {"a": {"K1": 1e-3, "W": 1e-2}, "b": {"K1": 2e-2, "W": 1e-2}}
    fig = figures.show_gradient_sizes(sizes, title="t")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.patches) == 4
    with pytest.raises(ValueError, match="positive"):
        figures.show_gradient_sizes({"a": {"K1": 0.0}})
    with pytest.raises(ValueError, match="in this order"):
        figures.show_gradient_sizes({"a": {"K1": 1.0, "W": 1.0}, "b": {"W": 1.0, "K1": 1.0}})
    with pytest.raises(TypeError, match="non-empty dict"):
        figures.show_gradient_sizes({})
    history = {"step_loss": list(np.linspace(1, 0.1, 50)), "epoch": [0, 1, 2], "val_acc": [0.1, 0.5, 0.8]}
    fig = figures.show_runs({"run": history}, smooth=10)
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.lines[0].get_xdata()) == 41       # 50 steps, moving average of 10
    assert list(ax_acc.lines[0].get_ydata()) == pytest.approx([10.0, 50.0, 80.0])
    assert "80.0%" in ax_acc.get_legend().get_texts()[0].get_text()
    with pytest.raises(KeyError, match="val_acc"):
        figures.show_runs({"run": {"step_loss": [1.0], "epoch": [0]}})
    with pytest.raises(ValueError, match="smooth"):
        figures.show_runs({"run": history}, smooth=0)
