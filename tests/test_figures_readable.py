"""Every figure the helpers draw is readable from the back of the room (issue 12).

JupyterLab at a 1366x768 projector gives the notebook column about 930 px; a wider image is
shrunk and its fonts with it. For every public drawing function of :mod:`helpers.figures` and the
render function of :func:`helpers.widgets.checkpoint_explorer`, drawn with the inputs a notebook
gives it, the figure must fit 930 px and its smallest text must be at least 11 px there
(``figure_font_px`` in tests/conftest.py measures both as the inline backend shows the figure).
"""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from figtools import assert_text_inside_and_apart, digit_trace, text_boxes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import figures, maxpool_net, network, softmax_net, widgets  # noqa: E402
from helpers.flatten import column_unscan  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py

NOTEBOOK_PX = 930
SMALLEST_PX = 11
PROJECTED_PX = 14  # issue 19: the figures a lecturer projects and points into


def _digit(rng):
    """A 28x28 image with a stroke of ink, like an MNIST digit scaled to 0..1."""
    x = np.zeros((28, 28))
    x[5:23, 12:16] = 1.0
    x[5:9, 8:20] = 0.8
    return np.clip(x + 0.05 * rng.random((28, 28)), 0, 1)


def _seed(rng):
    """Forward cache, errors and gradients of the seed network (notebooks 02-05)."""
    params = network.init_params(0)
    x = _digit(rng)
    cache = network.forward(params, x)
    y = np.zeros(10)
    y[3] = 1.0
    grads, errors = network.backward_with_errors(params, cache, y)
    return params, x, cache, grads, errors


def _history(rng, epochs=4, steps=800):
    return {"epoch": list(range(epochs + 1)), "step_loss": list(rng.random(epochs * steps) + 0.5),
            "train_loss": [float("nan")] + list(rng.random(epochs)),
            "train_acc": [float("nan")] + list(rng.random(epochs)),
            "val_loss": list(rng.random(epochs + 1)), "val_acc": list(rng.random(epochs + 1))}


def _sgd_history(rng, epochs=2, steps=400):
    return {"epoch": list(range(epochs + 1)), "step_loss": list(rng.random(epochs * steps)),
            "val_loss": list(rng.random(epochs + 1)), "val_acc": list(np.linspace(0.1, 0.9, epochs + 1))}


def _placements(n=10, k=5, corr=True):
    """(k, k, 2) input positions read by each tap for the output (2, 3) (notebook 01)."""
    place = np.zeros((k, k, 2), dtype=int)
    for a in range(k):
        for b in range(k):
            place[a, b] = (2 + a, 3 + b) if corr else (2 + k - 1 - a, 3 + k - 1 - b)
    return place


def _kernel_terms_c1(rng, show, taps=None):
    _, x, _, _, e = _seed(rng)
    return figures.show_kernel_gradient_terms(
        x, e["dC1_sigma"][2], show=show, input_name="I", input_cmap=figures.IMAGE_CMAP,
        input_label="pixel intensity", error_name=r"\Delta C^1_{3,\sigma}", grad_name=r"\Delta k^1_{1,3}",
        title="digit 12 (label 3), layer C1, p=3", taps=taps)


def _kernel_terms_c2(rng, show, taps=None):
    _, _, c, _, e = _seed(rng)
    return figures.show_kernel_gradient_terms(
        c["S1"][2], e["dC2_sigma"][0], show=show, input_name="S^1_3", error_name=r"\Delta C^2_{1,\sigma}",
        grad_name=r"\Delta k^2_{3,1}", title="digit 12 (label 3), layer C2, p=3, q=1", taps=taps)


def _maxpool(rng):
    params = maxpool_net.init_params(0)
    x = _digit(rng)
    c = maxpool_net.forward(params, x)
    g, e = maxpool_net.backward_with_errors(params, c, 3)
    return figures.show_maxpool_backward(x, c["a1"], c["a2"], e["delta1"], params["w1"], g["w1"], label=3,
                                         title="trained seed 002 network, digit 3, quadratic cost: predicted 3")


def _softmax_layer(rng, value_key, error_key, value_name, error_name, prefix):
    params = softmax_net.init_params(0)
    c = softmax_net.forward(params, _digit(rng), "relu")
    e = softmax_net.backward_with_errors(params, c, 3)[1]
    return figures.show_layer_errors(c[value_key], e[error_key], value_name=value_name, error_name=error_name,
                                     label=3, prefix=prefix, title=f"digit 3, layer {value_key}")


def _fc(rng, output_class):
    params, x, _, grads, errors = _seed(rng)
    maps = np.stack([column_unscan(row, 12, 4) for row in grads["W"]])
    return figures.show_fc_gradient(maps, errors["dy_hat"], x, 3, output_class=output_class)


def _snapshot(rng, epoch, scale="all epochs"):
    trace = digit_trace(rng, checkpoints=18)
    return figures.show_training_snapshot(trace, epoch, _digit(rng), 3, scale=scale)


def _checkpoint_render(rng, epoch):
    trace = digit_trace(rng, checkpoints=18)
    box = widgets.checkpoint_explorer(trace, _digit(rng), 3, value=1)
    values = {**box.values(), "epoch": epoch}
    return box.render(**values)


FIGURES = {
    # notebook 01
    "show_kernel_placement": lambda rng: figures.show_kernel_placement(
        {"cross-correlation (seeds 002, 004)": _placements(), "true convolution (Zhang eq. 5, corrected as (1.3))":
         _placements(corr=False)}, n=10, out_index=(2, 3)),
    "show_maps 2 edge maps": lambda rng: figures.show_maps(
        rng.normal(size=(2, 26, 26)), signed=True, labels=["filter0: vertical edges", "filter1: horizontal edges"],
        cbar_label="response (cross-correlation)", panel_size=3),
    "show_conv_example 3x3": lambda rng: figures.show_conv_example(
        _digit(rng), widgets.kernel_presets(3)["vertical edge"], rng.normal(size=(26, 26)),
        "cross-correlation", label=3),
    "show_conv_example 5x5": lambda rng: figures.show_conv_example(
        _digit(rng), widgets.kernel_presets(5)["vertical edge"], rng.normal(size=(24, 24)), "convolution", label=3),
    "show_conv_example widget row": lambda rng: figures.show_conv_example(
        _digit(rng), rng.uniform(-1, 1, (5, 5)), rng.normal(size=(24, 24)), "convolution", label=3, typed=False),
    # notebook 02
    "show_init_histograms 3": lambda rng: figures.show_init_histograms(
        network.init_params(0), {"k1": 0.35, "k2": 0.12, "W": 0.17},
        titles={"k1": "k1, eq. (1)", "k2": "k2, eq. (2)", "W": "W, eq. (3)"}),
    "show_scan_order 3 maps": lambda rng: figures.show_scan_order(
        n_maps=3, path_maps=2,
        title="F (eq. 10): the 0-based index of f that each cell of S2 becomes (maps q = 1..3 of 12)"),
    "show_network_flow": lambda rng: figures.show_network_flow(_seed(rng)[2], label=3),
    "show_maps C1 (6 maps)": lambda rng: figures.show_maps(
        _seed(rng)[2]["C1"], title="C1 of digit 12 (label 3), init seed 0: 6 maps of 24x24", vmin=0.0, vmax=1.0,
        prefix="p", panel_size=1.6, cbar_label="activation"),
    "show_maps C2 (12 maps)": lambda rng: figures.show_maps(
        _seed(rng)[2]["C2"], title="C2 of digit 12 (label 3), init seed 0: 12 maps of 8x8", vmin=0.0, vmax=1.0,
        prefix="q", panel_size=1.6, cbar_label="activation"),
    "show_maps mosaic C2 (12 maps)": lambda rng: figures.show_maps(  # 02's widget
        _seed(rng)[2]["C2"], title="C2 of digit 3 (example 0, image 1500), init seed 0: 12 maps of 8x8", vmin=0.0,
        vmax=1.0, prefix="q", panel_size=1.6, cbar_label="activation", mosaic=True),
    "show_maps mosaic S2 (12 of 4x4)": lambda rng: figures.show_maps(
        _seed(rng)[2]["S2"], title="S2 of digit 3 (example 0, image 1500), init seed 0: 12 maps of 4x4", vmin=0.0,
        vmax=1.0, prefix="q", panel_size=1.6, cbar_label="activation", mosaic=True),
    "show_maps mosaic C1_sigma (6 signed)": lambda rng: figures.show_maps(
        _seed(rng)[2]["C1_sigma"], signed=True, title="C1_sigma of digit 7 (example 1, image 3501), init seed 2: "
        "6 maps of 24x24", prefix="p", panel_size=1.6, cbar_label="pre-activation", mosaic=True),
    # notebook 03
    "show_fc_gradient all": lambda rng: _fc(rng, None),
    "show_fc_gradient class 3": lambda rng: _fc(rng, 3),
    "show_output_error": lambda rng: figures.show_output_error(
        _digit(rng), _seed(rng)[4]["dy_hat"], _seed(rng)[3]["W"], target=8, predicted=4, loss=1.3079, digit=3,
        title="digit 3 (example 0), untrained network, label in the loss 8"),
    "show_vector 192": lambda rng: figures.show_vector(rng.normal(size=192), group=16, title="f"),
    "show_digit": lambda rng: figures.show_digit(_digit(rng), label=3),
    # notebook 04
    "show_scan_order 12 maps": lambda rng: figures.show_scan_order(
        title="Zhang's F (eq. 10) and F$^{-1}$ (eq. 31): entry n of f (0-based) sits in this cell"),
    "show_pool_routing 4x4": lambda rng: figures.show_pool_routing(
        rng.integers(0, 9, size=(4, 4)).astype(float), rng.integers(1, 5, size=(2, 2)).astype(float), mode="max",
        title="seed 004, slide 2.1: each window's error goes to its maximum (thick frame)"),
    "show_pool_routing 5x5 stride 2": lambda rng: figures.show_pool_routing(
        rng.integers(0, 9, size=(5, 5)).astype(float), np.array([[1.0, 2.0], [3.0, 4.0]]), size=3, stride=2,
        mode="max", title="3x3 windows with stride 2 overlap: the centre wins all four and collects 1+2+3+4"),
    "show_error_upsampling": lambda rng: figures.show_error_upsampling(
        _seed(rng)[4]["dS2"], _seed(rng)[4]["dC2"], _digit(rng), label=3, mode="avg",
        title="digit 3, avg pooling: $\\Delta S^2$ and $\\Delta C^2$"),
    "show_error_upsampling own scales": lambda rng: figures.show_error_upsampling(
        _seed(rng)[4]["dS2"], _seed(rng)[4]["dC2"], _digit(rng), label=3, mode="max", share=False,
        title="digit 3 (example 0), untrained, label 3 in the loss, max pooling: $\\Delta S^2$ and $\\Delta C^2$"),
    # notebook 05
    "show_maps dC2 (12 signed)": lambda rng: figures.show_maps(
        _seed(rng)[4]["dC2_sigma"], signed=True, prefix="q", ncols=6, cbar_label=r"$\Delta C^2_{q,\sigma}$",
        title="error before the sigmoid on C2 (eq. 37), digit 3"),
    "show_maps dC1 (6 signed)": lambda rng: figures.show_maps(
        _seed(rng)[4]["dC1_sigma"], signed=True, prefix="p", ncols=6, panel_size=2.0,
        cbar_label=r"$\Delta C^1_{p,\sigma}$", title="error before the sigmoid on C1 (eq. 57), digit 3"),
    "show_kernels dk1": lambda rng: figures.show_kernels(
        _seed(rng)[3]["k1"], cbar_label=r"$\Delta k^1_{1,p}$", title="gradient of the C1 kernels (eq. 59)"),
    "show_kernels k2 (6x12)": lambda rng: figures.show_kernels(network.init_params(0)["k2"], title="k2"),
    "show_kernel_mosaic dk2": lambda rng: figures.show_kernel_mosaic(
        _seed(rng)[3]["k2"], cbar_label=r"$\Delta k^2_{p,q}$",
        title="gradient of the C2 kernels (eq. 40): rows p, columns q"),
    "show_kernel_gradient_terms C1 patches": lambda rng: _kernel_terms_c1(rng, "patches"),
    "show_kernel_gradient_terms C1 products": lambda rng: _kernel_terms_c1(rng, "products"),
    "show_kernel_gradient_terms C2 patches": lambda rng: _kernel_terms_c2(rng, "patches"),
    "show_kernel_gradient_terms C2 products": lambda rng: _kernel_terms_c2(rng, "products"),
    "show_kernel_gradient_terms C1 one tap": lambda rng: _kernel_terms_c1(rng, "products", taps=[(-2, -2)]),
    "show_kernel_gradient_terms C2 one tap": lambda rng: _kernel_terms_c2(rng, "patches", taps=[(1, 0)]),
    # notebook 06
    "show_training_history": lambda rng: figures.show_training_history(
        _history(rng), title="seed network, MNIST-5k: 4,000 training / 1,000 held-out digits"),
    "show_step_losses": lambda rng: figures.show_step_losses(
        {"batch 5, lr 2.5 (ours)": _history(rng, 3), "batch 50, lr 1 (DeepLearnToolbox)": _history(rng, 3, 80)},
        reference={"always 0.1 (plateau)": 0.45}, title="first three epochs"),
    "confusion_matrix_plot": lambda rng: figures.confusion_matrix_plot(
        rng.integers(0, 100, size=(10, 10)) + np.diag(rng.integers(80, 120, size=10)),
        title="held-out digits (accuracy 93.4%)"),
    "curves_plot": lambda rng: figures.curves_plot(
        {"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.3], "test_loss": [1.1, 0.6, 0.4],
         "train_acc": [0.5, 0.7, 0.8], "test_acc": [0.4, 0.6, 0.7]}, title="curves"),
    "show_mistakes": lambda rng: figures.show_mistakes(
        rng.random((12, 28, 28)), rng.integers(0, 10, 12), rng.integers(0, 10, 12), rng.random(12),
        title="held-out digits the network gets wrong"),
    "show_trained_kernels": lambda rng: figures.show_trained_kernels(
        rng.normal(size=(6, 5, 5)), rng.normal(size=(6, 12, 5, 5)), title="kernels after training (blue < 0 < red)"),
    "show_feature_maps": lambda rng: figures.show_feature_maps(
        {"before training": _seed(rng)[2], "after training": _seed(rng)[2]}, label=3),
    "show_training_snapshot epoch 1": lambda rng: _snapshot(rng, 1),
    "show_training_snapshot epoch 17": lambda rng: _snapshot(rng, 17),
    "show_training_snapshot epoch 17 this epoch": lambda rng: _snapshot(rng, 17, "this epoch"),
    "show_training_snapshot epoch 17 symlog": lambda rng: _snapshot(rng, 17, "symlog"),
    "checkpoint_explorer render epoch 0": lambda rng: _checkpoint_render(rng, 0),
    "checkpoint_explorer render epoch 17": lambda rng: _checkpoint_render(rng, 17),
    # notebooks 07 and 08
    "show_runs": lambda rng: figures.show_runs(
        {"seed 002 (max pooling)": _sgd_history(rng), "Zhang's seed network": _sgd_history(rng)}, smooth=40,
        title="same data, same budget: 2 epochs of 4,000 images, batches of 10, quadratic cost"),
    "show_maxpool_backward": _maxpool,
    "show_init_histograms 4": lambda rng: figures.show_init_histograms(
        {"K1 as printed": rng.uniform(-1, 1, 150), "K1 Glorot": rng.uniform(-0.4, 0.4, 150),
         "K2": rng.uniform(-0.2, 0.2, 3600), "W1": rng.uniform(-0.1, 0.1, 19200)},
        {"K1 as printed": 1.0, "K1 Glorot": 0.4, "K2": 0.2, "W1": 0.1}),
    "show_gradient_sizes": lambda rng: figures.show_gradient_sizes(
        {"sigmoid": {"K1": 1e-4, "b1": 2e-4, "K2": 1e-3, "b2": 3e-3, "W1": 1e-2, "bh": 2e-2, "W2": 0.1, "bo": 0.2},
         "ReLU": {"K1": 1e-2, "b1": 2e-2, "K2": 1e-2, "b2": 3e-2, "W1": 1e-2, "bh": 2e-2, "W2": 0.1, "bo": 0.2}},
        title="size of each layer's gradient at the start (100 training images)"),
    "show_layer_errors C1 (maps)": lambda rng: _softmax_layer(rng, "C1", "dC1_sigma", "C^1_m", r"\delta C^1_m", "m"),
    "show_layer_errors C2 (maps)": lambda rng: _softmax_layer(rng, "C2", "dC2_sigma", "C^2_n", r"\delta C^2_n", "n"),
    "show_layer_errors hidden": lambda rng: _softmax_layer(rng, "a1", "delta1", "a_1", r"\delta_1", "h"),
    "show_layer_errors output": lambda rng: _softmax_layer(rng, "s", "delta", "s", r"\delta = s - y", "i"),
    # notebook 09
    "show_layer_errors 12 maps": lambda rng: figures.show_layer_errors(  # two rows of maps in each mosaic
        rng.random((12, 8, 8)), rng.normal(size=(12, 8, 8)), value_name="C^2_q", error_name=r"\Delta C^2_q",
        prefix="q", title="the seed network's C2"),
    "side_by_side 1 map": lambda rng: figures.side_by_side(
        [rng.random((24, 24)), rng.random((24, 24))], ["as printed", "corrected"], show_difference=True,
        title="C1, map p = 1: eq. 5 as printed (zeros outside) vs (9.2)", cbar_label="activation", panel_size=2.2),
    "side_by_side 6 maps": lambda rng: figures.side_by_side(
        [rng.normal(size=(6, 12, 12)), rng.normal(size=(6, 12, 12))], ["as printed", "corrected"], signed=True,
        show_difference=True, title="E2 eq. 49: error on S1, digit 12", cbar_label="error"),
}


@pytest.mark.parametrize("name", list(FIGURES))
def test_figure_fits_the_notebook_and_reads_from_the_back(name, figure_font_px):
    fig = FIGURES[name](np.random.default_rng(0))
    assert isinstance(fig, Figure)
    width_px, smallest = figure_font_px(fig)
    assert width_px <= NOTEBOOK_PX, f"{name}: {width_px:.0f} px wide"
    assert smallest >= SMALLEST_PX, f"{name}: smallest text {smallest:.1f} px"


def test_every_public_drawing_function_is_measured():
    drawing = {n for n in figures.__all__ if n.startswith("show_")} | {"side_by_side", "confusion_matrix_plot",
                                                                       "curves_plot"}
    measured = {name.split()[0] for name in FIGURES}
    assert drawing <= measured, f"not measured: {sorted(drawing - measured)}"


PROJECTED = ["show_trained_kernels", "show_feature_maps"]  # notebook 06's kernel mosaic and map labels (issue 19)


@pytest.mark.parametrize("name", PROJECTED)
def test_projected_figure_labels_are_large_and_apart(name, figure_font_px):
    """Issue 19 (06 c31/c33): every label at least 14 px on a 930 px column, no two labels touch,
    and no label lies on a map or kernel."""
    fig = FIGURES[name](np.random.default_rng(0))
    width_px, smallest = figure_font_px(fig)  # draws the figure
    assert width_px <= NOTEBOOK_PX and smallest >= PROJECTED_PX, f"{name}: smallest text {smallest:.1f} px"
    boxes = text_boxes(fig)
    images = [im.get_window_extent() for ax in fig.axes for im in ax.images]
    for k, (text, box) in enumerate(boxes):
        assert not any(box.overlaps(other) for _, other in boxes[k + 1:]), f"{name}: {text!r} overlaps a label"
        assert not any(box.overlaps(im) for im in images), f"{name}: {text!r} lies on a map"


# Issue 23: the figures widgets redraw, laid out by hand (no layout engine, helpers.figures.layout)
# and designed with text a projector shows at 14 px. Name -> whether labels must also stay off
# the maps (false where values are written into cells on purpose).
WIDGET_FIGURES = {"show_output_error": False, "show_maxpool_backward": False, "show_layer_errors C1 (maps)": False,
                  "show_layer_errors C2 (maps)": False, "show_layer_errors hidden": False,
                  "show_layer_errors output": False, "show_layer_errors 12 maps": False,
                  "side_by_side 1 map": False, "side_by_side 6 maps": False,
                  "show_error_upsampling": True, "show_error_upsampling own scales": True,
                  "show_training_snapshot epoch 1": True, "show_training_snapshot epoch 17 this epoch": True,
                  "show_training_snapshot epoch 17 symlog": True, "checkpoint_explorer render epoch 0": True,
                  "checkpoint_explorer render epoch 17": True, "show_maps mosaic C2 (12 maps)": True,
                  "show_maps mosaic C1_sigma (6 signed)": True, "show_maps mosaic S2 (12 of 4x4)": True}


@pytest.mark.parametrize("name", WIDGET_FIGURES)
def test_widget_figure_needs_no_raise_and_its_text_is_inside_and_apart(name):
    """Drawn as its widget shows it: no text under the projected size (the widget's raise changes
    nothing), no layout engine, every text inside the figure, no two texts touching (and none on
    a map where that is asked), the figure no wider than the notebook column."""
    fig = FIGURES[name](np.random.default_rng(0))
    assert fig.get_layout_engine() is None
    assert fig.get_figwidth() * fig.dpi <= NOTEBOOK_PX
    fig.canvas.draw()
    points = figures.projected_points(fig)
    assert figures.smallest_text(fig) >= points, f"{name}: text of {figures.smallest_text(fig):.1f} pt"
    figures.raise_small_text(fig, points)
    assert_text_inside_and_apart(fig, name, off_maps=WIDGET_FIGURES[name])
