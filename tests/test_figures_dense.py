"""Tests for helpers.figures.dense: the gradient of the fully connected layer, folded back into S2's shape."""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import figures, network  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def fold_rows(M):
    return M.reshape(M.shape[0], 12, 4, 4).transpose(0, 1, 3, 2)


def test_show_fc_gradient_all_classes_and_one_class():
    rng = np.random.default_rng(0)
    params = network.init_params(0)
    cache = network.forward(params, rng.random((28, 28)))
    grads, errors = network.backward_with_errors(params, cache, 3)
    maps = fold_rows(grads["W"])
    fig = figures.show_fc_gradient(maps, errors["dy_hat"], cache["x"], 3)
    images = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    assert len(images) == 2  # the digit and one mosaic of the 10 x 12 maps
    mosaic = images[1].images[0]
    data = np.ma.getdata(mosaic.get_array())
    assert data.shape == (10 * 5 - 1, 12 * 5 - 1)
    assert np.array_equal(data[5 * 2:5 * 2 + 4, 5 * 7:5 * 7 + 4], maps[2, 7])  # class 2, map q=8
    assert np.isnan(data[4]).all() and np.isnan(data[:, 4]).all()  # white gaps between maps
    vmin, vmax = mosaic.get_clim()
    assert vmin == -vmax == -np.abs(maps).max()
    assert [t.get_text() for t in images[1].get_yticklabels()] == [f"i={i}" for i in range(10)]
    # rows are the digits 0..9; maps follow the book's index rule, 1-based q = 1..12 (notebooks 00, 01)
    assert [t.get_text() for t in images[1].get_xticklabels()] == [f"q={q}" for q in range(1, 13)]
    fig = figures.show_fc_gradient(maps, errors["dy_hat"], output_class=3)
    panel = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"][0]
    data = np.ma.getdata(panel.images[0].get_array())
    assert data.shape == (4 * 5 - 1, 3 * 5 - 1)  # 12 maps in 4 rows of 3 (large enough for 8 pt values)
    assert np.array_equal(data[5:9, 5:9], maps[3, 4])  # map q=5 of row 3
    assert len(panel.texts) == 12 * 16 + 12  # every value plus the 12 map titles
    assert panel.images[0].get_clim()[1] == np.abs(maps[3]).max()
    power = int(np.floor(np.log10(np.abs(maps[3]).max())))  # values scaled by the power on the colour bar
    assert f"{maps[3, 4, 0, 0] / 10.0**power:.1f}" in [t.get_text() for t in panel.texts]
    assert "q=1" in [t.get_text() for t in panel.texts] and "q=0" not in [t.get_text() for t in panel.texts]
    cbar = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"][0]
    assert cbar.get_ylabel().endswith(f"x 1e{power})")
    # the colour bar's ticks are in the same scaled units as the numbers in the cells (review, 03 c33)
    fig.canvas.draw()
    ticks = [(t.get_position()[1], t.get_text()) for t in cbar.get_yticklabels() if t.get_text()]
    assert ticks and all(abs(float(text.replace("−", "-")) - value / 10.0**power) < 1e-9 for value, text in ticks)


def test_show_fc_gradient_errors_name_the_argument():
    maps = np.zeros((10, 12, 4, 4))
    with pytest.raises(ValueError, match="dy_hat"):
        figures.show_fc_gradient(maps, np.zeros(9))
    with pytest.raises(ValueError, match="dW_maps"):
        figures.show_fc_gradient(np.zeros((10, 192)), np.zeros(10))
    with pytest.raises(ValueError, match="output_class"):
        figures.show_fc_gradient(maps, np.zeros(10), output_class=10)


def test_show_output_error_draws_dy_hat_and_the_whole_dW():
    rng = np.random.default_rng(1)
    params = network.init_params(0)
    cache = network.forward(params, rng.random((28, 28)))
    grads, errors = network.backward_with_errors(params, cache, 7)
    predicted = int(np.argmax(cache["y_hat"]))
    fig = figures.show_output_error(cache["x"], errors["dy_hat"], grads["W"], target=7, predicted=predicted,
                                    loss=0.5, digit=7, title="t")
    axes = [ax for ax in fig.findobj(lambda o: hasattr(o, "get_ylabel") and hasattr(o, "images"))]
    heat = [ax for ax in axes if ax.images and ax.get_ylabel() == "output class i"][0]
    data = heat.images[0].get_array()
    assert data.shape == (10, 192) and np.array_equal(data, grads["W"])
    vmin, vmax = heat.images[0].get_clim()
    assert vmin == -vmax == -np.abs(grads["W"]).max()  # centred on zero
    assert [t.get_text() for t in heat.texts] == [str(i) for i in range(10)] + [f"q={q}" for q in range(1, 13)]
    assert fig.get_layout_engine() is None             # a fixed layout: the widget redraws it fast
    bars_ax = [ax for ax in axes if ax.containers][0]
    heights = [bar.get_height() for bar in bars_ax.containers[0]]
    assert np.allclose(heights, errors["dy_hat"])  # 0.01 .. 1: no scale factor
    legend = [t.get_text() for t in bars_ax.get_legend().get_texts()]
    assert legend == (["label in the loss: 7", f"predicted: {predicted}"] if predicted != 7
                      else ["label in the loss = predicted: 7"])
    small = figures.show_output_error(cache["x"], 1e-5 * errors["dy_hat"], grads["W"], target=7, predicted=7, loss=0.0)
    bars_ax = [ax for ax in small.findobj(lambda o: hasattr(o, "containers")) if getattr(ax, "containers", None)][0]
    power = int(np.floor(np.log10(1e-5 * np.abs(errors["dy_hat"]).max())))
    assert bars_ax.get_ylabel().endswith(f"(x 1e{power})")
    assert np.allclose([bar.get_height() for bar in bars_ax.containers[0]], 1e-5 * errors["dy_hat"] / 10.0**power)
    legend = [t.get_text() for t in bars_ax.get_legend().get_texts()]
    assert legend == ["label in the loss = predicted: 7"]
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    assert any("loss L = 0.5000" in t for t in texts)
    assert any("\u0394W(i, j)" in t for t in texts)  # the colour bar is labelled


def test_show_output_error_checks_its_arguments():
    x, d, g = np.zeros((28, 28)), np.zeros(10), np.zeros((10, 192))
    with pytest.raises(ValueError, match="dy_hat"):
        figures.show_output_error(x, np.zeros(9), g, target=1, predicted=1, loss=0.0)
    with pytest.raises(ValueError, match="target"):
        figures.show_output_error(x, d, g, target=10, predicted=1, loss=0.0)
    with pytest.raises(ValueError, match="predicted"):
        figures.show_output_error(x, d, g, target=1, predicted=True, loss=0.0)
