"""Tests for the drawing helpers added for notebooks 04-08 (helpers.plots) and the checkpoint
widgets of notebook 06 (helpers.widgets): each returns a Figure with the promised panels, titles
and labelled colourbars, draws the data it was given, centres signed data on zero, and rejects
bad input with ValueError/TypeError. Expected values are computed here by loops."""

import io

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import ipywidgets  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from helpers import plots, widgets  # noqa: E402


pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def colorbar_axes(fig):
    return [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]


def colorbar_labels(fig):
    return [ax.get_ylabel() or ax.get_xlabel() for ax in colorbar_axes(fig)]


def texts_of(ax):
    return [t.get_text() for t in ax.texts if t.get_text()]


def all_texts(fig):
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def draws(fig):
    """Render to PNG in memory: errors that only show at draw time surface here."""
    fig.savefig(io.BytesIO(), format="png", dpi=40)
    return True


def assert_symmetric(image, m=None):
    vmin, vmax = image.get_clim()
    assert vmin == -vmax
    if m is not None:
        assert vmax == pytest.approx(m)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------------------------
# Notebook 04: flatten_index_maps, show_scan_order, show_pool_routing, show_error_upsampling
# --------------------------------------------------------------------------------------------


def test_flatten_index_maps_column_scan_and_row_scan():
    col = plots.flatten_index_maps(12, 4, "column")
    row = plots.flatten_index_maps(12, 4, "row")
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
    assert plots.flatten_index_maps(2, 3)[1, 2, 0] == 9 + 2  # default is the column scan


@pytest.mark.parametrize("kwargs", [dict(order="diagonal"), dict(n_maps=0), dict(side=-1),
                                    dict(n_maps=True), dict(side=2.0)])
def test_flatten_index_maps_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        plots.flatten_index_maps(**kwargs)


def test_show_scan_order_writes_each_index_in_its_cell_and_draws_the_path():
    fig = plots.show_scan_order(3, 4, "column", path_maps=2, title="F")
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
    fig = plots.show_scan_order(1, 3, "row", path_maps=1)
    first = [t for t in image_axes(fig)[0].texts if isinstance(t, Annotation)][0]
    assert first.xyann == (0, 0) and first.xy == (1, 0)


def test_show_scan_order_rejects_an_unknown_order():
    with pytest.raises(ValueError, match="order"):
        plots.show_scan_order(order="zigzag")


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


def test_show_pool_routing_max_marks_the_first_maximum_and_routes_the_error():
    C = np.array([[5, 5, 1, 0], [1, 2, 0, 1], [3, 1, 2, 2], [1, 3, 2, 2]], dtype=float)  # ties
    dout = np.array([[1.0, -2.0], [3.0, 4.0]])
    fig = plots.show_pool_routing(C, dout, mode="max")
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
    fig = plots.show_pool_routing(C, dout, size=3, stride=2, mode="avg", fmt=".1f")
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
    fig = plots.show_pool_routing(C, np.ones((2, 2)), mode="max")
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
        plots.show_pool_routing(x, dout, **kwargs)


def test_show_error_upsampling_shares_one_symmetric_scale(rng):
    dS = rng.normal(size=(3, 2, 2))
    dC = np.repeat(np.repeat(dS, 2, axis=1), 2, axis=2) / 4
    fig = plots.show_error_upsampling(dS, dC, x=rng.random((28, 28)), label=7, title="eq. 32")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 1 + 3 + 3
    assert axes[0].get_title() == "input x, label 7"
    assert [ax.get_title() for ax in axes[1:]] == ["q=1", "q=2", "q=3"] * 2
    assert colorbar_labels(fig) == ["dL/dS (same colour scale)", "dL/dC (same colour scale)"]
    m = np.abs(dS).max()
    for ax in axes[1:]:
        assert_symmetric(ax.images[0], m)
    np.testing.assert_array_equal(axes[4].images[0].get_array(), dC[0])
    assert fig.get_suptitle() == "eq. 32"


def test_show_error_upsampling_without_sharing_scales_each_grid(rng):
    dS = rng.normal(size=(2, 3, 3))
    dC = np.repeat(np.repeat(dS, 2, axis=1), 2, axis=2) / 4
    fig = plots.show_error_upsampling(dS, dC, share=False, mode="max")
    axes = image_axes(fig)
    assert len(axes) == 4
    assert_symmetric(axes[0].images[0], np.abs(dS).max())
    assert_symmetric(axes[2].images[0], np.abs(dC).max())
    assert colorbar_labels(fig) == ["dL/dS", "dL/dC"]
    assert any("after max upsampling" in t for t in all_texts(fig))


def test_show_error_upsampling_needs_matching_map_counts(rng):
    with pytest.raises(ValueError, match="maps"):
        plots.show_error_upsampling(rng.normal(size=(3, 2, 2)), rng.normal(size=(2, 4, 4)))
    with pytest.raises(ValueError):
        plots.show_error_upsampling(rng.normal(size=(1, 3, 2, 2)), rng.normal(size=(3, 4, 4)))


# --------------------------------------------------------------------------------------------
# Notebook 05: kernel_gradient_terms, show_kernel_gradient_terms, show_kernel_mosaic
# --------------------------------------------------------------------------------------------


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
    patches, products, dk = plots.kernel_gradient_terms(x, err, convention)
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
        plots.kernel_gradient_terms(*args)


@pytest.mark.parametrize("show", ["patches", "products"])
def test_show_kernel_gradient_terms_panels_and_scales(rng, show):
    x = rng.random((7, 7))
    err = rng.normal(size=(5, 5))  # 3 x 3 kernel
    _, products, dk = plots.kernel_gradient_terms(x, err)
    fig = plots.show_kernel_gradient_terms(x, err, show=show, input_label="S1", title="eq. 40")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 4 and len(colorbar_axes(fig)) == 4
    labels = colorbar_labels(fig)
    assert labels[0] == "S1" and labels[1] == "error" and labels[3] == "gradient"
    assert labels[2] == ("patch x error" if show == "products" else "input value")
    ax_in, ax_err, ax_mosaic, ax_dk = axes
    np.testing.assert_array_equal(ax_in.images[0].get_array(), x)
    assert_symmetric(ax_err.images[0], np.abs(err).max())
    np.testing.assert_allclose(ax_dk.images[0].get_array(), dk)
    assert_symmetric(ax_dk.images[0], np.abs(dk).max())
    if show == "products":
        assert_symmetric(ax_mosaic.images[0], np.abs(products).max())
        assert ax_mosaic.images[0].get_cmap().name.startswith(plots.SIGNED_CMAP)
    # each tap's panel is labelled with Zhang's centred (u, v) and the sum it contributes
    labels_written = texts_of(ax_mosaic)
    assert len(labels_written) == 9
    assert f"(-1,-1): {dk[0, 0]:.2e}" in labels_written and f"(1,0): {dk[2, 1]:.2e}" in labels_written
    assert [t.get_text() for t in ax_dk.get_xticklabels()] == ["-1", "0", "1"]
    assert fig.get_suptitle() == "eq. 40"


def test_show_kernel_gradient_terms_rejects_an_unknown_view(rng):
    with pytest.raises(ValueError, match="show"):
        plots.show_kernel_gradient_terms(rng.random((5, 5)), rng.random((3, 3)), show="sums")
    with pytest.raises(ValueError, match="convention"):
        plots.show_kernel_gradient_terms(rng.random((5, 5)), rng.random((3, 3)), convention="flip")


def test_show_kernel_mosaic_places_kernel_pq_at_row_p_column_q(rng):
    k = rng.normal(size=(2, 3, 4, 5))
    fig = plots.show_kernel_mosaic(k, title="dk2", cbar_label="gradient")
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
    fig = plots.show_kernel_mosaic(k, signed=False, start=0, row_prefix="m", col_prefix="n")
    (ax,) = image_axes(fig)
    assert ax.images[0].get_clim() == (pytest.approx(k.min()), pytest.approx(k.max()))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["n=0", "n=1"]


@pytest.mark.parametrize("k", [np.zeros((6, 5, 5)), np.zeros((0, 2, 5, 5)), np.full((1, 1, 2, 2), np.nan)])
def test_show_kernel_mosaic_rejects_bad_kernels(k):
    with pytest.raises(ValueError):
        plots.show_kernel_mosaic(k)


# --------------------------------------------------------------------------------------------
# Notebooks 07 and 08: show_maxpool_backward, show_layer_errors, show_gradient_sizes, show_runs
# --------------------------------------------------------------------------------------------


def _seed002_arrays(rng):
    a1 = _sigmoid(rng.normal(size=(24, 24)))
    a2 = a1.reshape(12, 2, 12, 2).max(axis=(1, 3))
    delta1 = np.zeros((24, 24))
    delta1[::2, ::2] = rng.normal(size=(12, 12))
    return dict(x=rng.random((28, 28)), a1=a1, a2=a2, delta1=delta1, w1=rng.normal(size=(5, 5)),
                dw1=rng.normal(size=(5, 5)))


def test_show_maxpool_backward_six_panels_signed_ones_centred(rng):
    arrays = _seed002_arrays(rng)
    fig = plots.show_maxpool_backward(**arrays, label=4, title="seed 002")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 6
    assert colorbar_labels(fig) == ["pixel intensity", "activation", "activation", "weight", "error", "gradient"]
    assert "label 4" in axes[0].get_title()
    by_data = {name: ax for name, ax in zip(["x", "a1", "a2", "w1", "delta1", "dw1"], axes)}
    for name, ax in by_data.items():
        np.testing.assert_array_equal(ax.images[0].get_array(), arrays[name])
    for name in ("w1", "delta1", "dw1"):
        assert_symmetric(by_data[name].images[0], np.abs(arrays[name]).max())
    assert by_data["a1"].images[0].get_clim() == (0.0, 1.0)
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
        plots.show_maxpool_backward(**arrays)


def test_show_layer_errors_maps_values_on_top_errors_below(rng):
    values = _sigmoid(rng.normal(size=(4, 8, 8)))
    errors = rng.normal(size=(4, 8, 8)) * 1e-3
    fig = plots.show_layer_errors(values, errors, value_name="C^2", error_name=r"\Delta C^2", prefix="n",
                                  title="layer 2")
    assert isinstance(fig, Figure)
    axes = image_axes(fig)
    assert len(axes) == 8
    assert [ax.get_title() for ax in axes] == ["n=1", "n=2", "n=3", "n=4"] * 2
    assert colorbar_labels(fig) == ["value", "error"]
    for ax, m in zip(axes, list(values) + list(errors)):
        np.testing.assert_array_equal(ax.images[0].get_array(), m)
    for ax in axes[4:]:
        assert_symmetric(ax.images[0], np.abs(errors).max())
    assert ax.images[0].get_cmap().name == plots.SIGNED_CMAP


def test_show_layer_errors_vector_draws_two_bar_charts(rng):
    fig = plots.show_layer_errors(rng.random(10), rng.normal(size=10), label=3)
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
        plots.show_layer_errors(values, errors)


def test_show_gradient_sizes_one_bar_per_run_and_tensor_on_a_log_scale():
    sizes = {"quadratic": {"w1": 1e-3, "b1": 2e-3, "w3": 0.1}, "cross-entropy": {"w1": 1e-2, "b1": 5e-2, "w3": 1.0}}
    fig = plots.show_gradient_sizes(sizes, title="RMS")
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
        plots.show_gradient_sizes(sizes)


def _sgd_history(rng, epochs=3, steps=20):
    return {"epoch": list(range(epochs + 1)), "step_loss": list(rng.random(epochs * steps)),
            "val_loss": list(rng.random(epochs + 1)), "val_acc": list(np.linspace(0.1, 0.9, epochs + 1))}


def test_show_runs_draws_a_smoothed_cost_and_the_accuracy(rng):
    runs = {"quadratic": _sgd_history(rng), "cross-entropy": _sgd_history(rng)}
    fig = plots.show_runs(runs, smooth=5, title="two costs")
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.lines) == len(ax_acc.lines) == 2
    steps = np.array(runs["quadratic"]["step_loss"])
    expected = [steps[i - 5:i].mean() for i in range(5, steps.size + 1)]
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), expected)
    np.testing.assert_allclose(ax_acc.lines[1].get_ydata(), 100 * np.array(runs["cross-entropy"]["val_acc"]))
    assert ax_acc.get_ylim() == (0, 100)
    assert "90.0%" in ax_acc.get_legend().get_texts()[0].get_text()


def test_show_runs_rejects_bad_input(rng):
    with pytest.raises(TypeError):
        plots.show_runs({})
    with pytest.raises(ValueError, match="smooth"):
        plots.show_runs({"a": _sgd_history(rng)}, smooth=0)
    broken = _sgd_history(rng)
    del broken["val_acc"]
    with pytest.raises(KeyError, match="val_acc"):
        plots.show_runs({"a": broken})


# --------------------------------------------------------------------------------------------
# Notebook 06: training curves, mistakes, kernels, feature maps, a digit through the epochs
# --------------------------------------------------------------------------------------------


def _train_history(rng, epochs=4, steps=10):
    return {"epoch": list(range(epochs + 1)), "step_loss": list(rng.random(epochs * steps) + 0.5),
            "train_loss": [float("nan")] + list(rng.random(epochs)),
            "train_acc": [float("nan")] + list(rng.random(epochs)),
            "val_loss": list(rng.random(epochs + 1)), "val_acc": list(rng.random(epochs + 1))}


def test_show_training_history_loss_and_accuracy_panels(rng):
    history = _train_history(rng)
    fig = plots.show_training_history(history, held_out="test", smooth=0, title="run")
    ax_loss, ax_acc = fig.axes
    assert ax_loss.get_title() == "loss" and ax_acc.get_title() == "accuracy"
    steps = ax_loss.lines[0]
    np.testing.assert_allclose(steps.get_xdata(), np.arange(1, 41) / 10)  # x in epochs
    np.testing.assert_allclose(steps.get_ydata(), history["step_loss"])  # smooth=0: raw values
    np.testing.assert_allclose(ax_acc.lines[1].get_ydata(), 100 * np.array(history["val_acc"]))
    assert "test" in [t.get_text() for t in ax_acc.get_legend().get_texts()]
    assert f"{100 * history['val_acc'][-1]:.1f}%" in texts_of(ax_acc)
    assert fig.get_suptitle() == "run"


def test_show_training_history_smooths_over_a_fraction_of_an_epoch(rng):
    history = _train_history(rng)
    fig = plots.show_training_history(history, smooth=0.3)  # 3 of the 10 steps of an epoch
    losses = np.array(history["step_loss"])
    expected = [losses[max(0, i - 2):i + 1].mean() for i in range(losses.size)]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), expected)


def test_show_training_history_rejects_bad_histories(rng):
    with pytest.raises(TypeError):
        plots.show_training_history([1, 2, 3])
    history = _train_history(rng)
    del history["step_loss"]
    with pytest.raises(KeyError, match="step_loss"):
        plots.show_training_history(history)
    history = _train_history(rng)
    history["step_loss"] = history["step_loss"][:-1]  # 39 losses do not split into 4 epochs
    with pytest.raises(ValueError, match="equal epochs"):
        plots.show_training_history(history)


def test_show_step_losses_one_curve_per_run_and_reference_lines(rng):
    runs = {"batch 5": _train_history(rng, steps=20), "batch 50": _train_history(rng, steps=2)}
    fig = plots.show_step_losses(runs, smooth=0, reference={"plateau": 2.3}, xmax=3, title="batch size")
    (ax,) = fig.axes
    curves = [line for line in ax.lines if line.get_linestyle() == "-"]
    assert len(curves) == 2
    assert curves[1].get_xdata()[-1] == pytest.approx(4.0)  # both runs end at epoch 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["batch 5", "batch 50"]
    dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dashed) == 1 and dashed[0].get_ydata()[0] == 2.3
    assert " plateau" in texts_of(ax)
    assert ax.get_xlim() == (0, 3)


def test_show_step_losses_rejects_bad_input(rng):
    with pytest.raises(TypeError):
        plots.show_step_losses({})
    with pytest.raises(TypeError):
        plots.show_step_losses({"a": [0.1, 0.2]})


def test_show_mistakes_titles_each_digit_with_its_answer(rng):
    images = rng.random((5, 28, 28))
    fig = plots.show_mistakes(images, [4, 7, 1, 3, 9], [9, 1, 7, 5, 4], [0.97, 0.5, 0.61, 0.8, 0.99], ncols=3,
                              title="mistakes")
    axes = image_axes(fig)
    assert len(axes) == 5 and len(fig.axes) == 6  # 2 x 3 grid, the last cell left empty
    assert axes[0].get_title() == "true 4 -> 9\noutput 0.97"
    np.testing.assert_array_equal(axes[2].images[0].get_array(), images[2])
    names = [f"c{i}" for i in range(10)]
    fig = plots.show_mistakes(images[:1], [2], [3], [0.5], class_names=names)
    assert image_axes(fig)[0].get_title().startswith("true c2 -> c3")


@pytest.mark.parametrize("kwargs", [dict(y_true=[1, 2]), dict(confidence=[0.5, 0.5, 0.5, 0.5]),
                                    dict(class_names=["a", "b"])])
def test_show_mistakes_rejects_mismatched_input(rng, kwargs):
    args = dict(images=rng.random((3, 28, 28)), y_true=[1, 2, 3], y_pred=[2, 3, 4], confidence=[0.1, 0.2, 0.3])
    args.update(kwargs)
    with pytest.raises(ValueError):
        plots.show_mistakes(**args)


def test_show_trained_kernels_two_mosaics_each_centred_on_zero(rng):
    k1 = rng.normal(size=(6, 5, 5))
    k2 = rng.normal(size=(6, 12, 5, 5)) * 0.1
    fig = plots.show_trained_kernels(k1, k2, title="after training")
    axes = image_axes(fig)
    assert len(axes) == 2
    assert colorbar_labels(fig) == ["weight", "weight"]
    assert_symmetric(axes[0].images[0], np.abs(k1).max())
    assert_symmetric(axes[1].images[0], np.abs(k2).max())
    mosaic = np.ma.filled(axes[1].images[0].get_array(), np.nan)
    np.testing.assert_array_equal(mosaic[6:11, 18:23], k2[1, 3])  # row p=2, column q=4
    assert [t.get_text() for t in axes[1].get_xticklabels()][:2] == ["q=1", "q=2"]
    assert [f"p={p}" for p in range(1, 7)] == [t for t in texts_of(axes[0])]


@pytest.mark.parametrize("k1, k2", [(np.zeros((6, 25)), np.zeros((6, 12, 5, 5))),
                                    (np.zeros((6, 5, 5)), np.zeros((4, 12, 5, 5))),
                                    (np.zeros((6, 5, 5)), np.zeros((6, 12, 25)))])
def test_show_trained_kernels_rejects_bad_shapes(k1, k2):
    with pytest.raises(ValueError):
        plots.show_trained_kernels(k1, k2)


def _one_image_cache(rng):
    return {"x": rng.random((28, 28)), "C1": _sigmoid(rng.normal(size=(6, 24, 24))),
            "C2": _sigmoid(rng.normal(size=(12, 8, 8)))}


def test_show_feature_maps_one_row_per_parameter_set(rng):
    caches = {"before training": _one_image_cache(rng), "after training": _one_image_cache(rng)}
    fig = plots.show_feature_maps(caches, label=5, title="feature maps")
    axes = image_axes(fig)
    assert len(axes) == 6 and len(colorbar_axes(fig)) == 1
    assert colorbar_labels(fig) == ["activation (sigmoid output)"]
    assert axes[0].get_title() == "before training" and axes[3].get_title() == "after training"
    for ax in axes[1:3] + axes[4:6]:
        assert ax.images[0].get_clim() == (0.0, 1.0)
    mosaic = np.ma.filled(axes[4].images[0].get_array(), np.nan)  # C1 of row 2, 3 per row
    np.testing.assert_array_equal(mosaic[25:49, 0:24], caches["after training"]["C1"][3])


def test_show_feature_maps_rejects_bad_caches(rng):
    with pytest.raises(TypeError):
        plots.show_feature_maps({})
    with pytest.raises(TypeError):
        plots.show_feature_maps({"a": {"x": np.zeros((28, 28))}})
    batch = _one_image_cache(rng)
    batch["x"] = np.zeros((2, 28, 28))
    with pytest.raises(ValueError, match="one image"):
        plots.show_feature_maps({"a": batch})


def _digit_trace(rng, checkpoints=3):
    shrink = np.linspace(1.0, 0.1, checkpoints)  # errors fade as training goes on
    y_hat = _sigmoid(rng.normal(size=(checkpoints, 10)))
    return {"loss": rng.random(checkpoints), "y_hat": y_hat, "predicted": y_hat.argmax(axis=1),
            "k1": rng.normal(size=(checkpoints, 6, 5, 5)) / shrink[:, None, None, None],
            "dC1_sigma": rng.normal(size=(checkpoints, 6, 24, 24)) * shrink[:, None, None, None],
            "dC2_sigma": rng.normal(size=(checkpoints, 12, 8, 8)) * shrink[:, None, None, None]}


def test_show_training_snapshot_uses_one_scale_for_every_checkpoint(rng):
    trace = _digit_trace(rng)
    x = rng.random((28, 28))
    figs = [plots.show_training_snapshot(trace, e, x, label=2) for e in range(3)]
    for e, fig in enumerate(figs):
        axes = image_axes(fig)
        assert len(axes) == 4  # digit, k1 mosaic, two error mosaics
        assert colorbar_labels(fig) == ["weight", "error (same scale for every epoch)",
                                        "error (same scale for every epoch)"]
        for ax, key in zip(axes[1:], ("k1", "dC1_sigma", "dC2_sigma")):
            assert_symmetric(ax.images[0], np.abs(trace[key]).max())  # all checkpoints, not this one
        bars = [ax for ax in fig.axes if ax.patches and not ax.images][0]
        np.testing.assert_allclose([p.get_height() for p in bars.patches], trace["y_hat"][e])
    assert figs[0].get_suptitle() == f"before training: loss of this digit {trace['loss'][0]:.4f}"
    assert figs[2].get_suptitle() == f"after epoch 2: loss of this digit {trace['loss'][2]:.4f}"
    assert plots.show_training_snapshot(trace, 1, x, title="T").get_suptitle() == "T"


@pytest.mark.parametrize("epoch", [3, -1, 1.0, True])
def test_show_training_snapshot_rejects_a_bad_epoch(rng, epoch):
    with pytest.raises(ValueError, match="epoch"):
        plots.show_training_snapshot(_digit_trace(rng), epoch, np.zeros((28, 28)))


def test_show_training_snapshot_needs_a_trace():
    with pytest.raises(TypeError):
        plots.show_training_snapshot([0.1, 0.2], 0, np.zeros((28, 28)))


# --------------------------------------------------------------------------------------------
# widgets: make_control, checkpoint_slider, checkpoint_explorer
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, kind, value", [
    ((0, 9), ipywidgets.IntSlider, 0),
    ((1, 9, 2), ipywidgets.IntSlider, 1),
    ((0.0, 1.0), ipywidgets.FloatSlider, 0.0),
    (["C1", "S1"], ipywidgets.Dropdown, "C1"),
    (True, ipywidgets.Checkbox, True),
    (np.bool_(False), ipywidgets.Checkbox, False),
])
def test_make_control_turns_shorthands_into_widgets(spec, kind, value):
    control = widgets.make_control("digit", spec)
    assert type(control) is kind
    assert control.value == value and control.description == "digit"


def test_make_control_passes_widgets_through():
    slider = ipywidgets.IntSlider()
    assert widgets.make_control("a", slider) is slider


@pytest.mark.parametrize("spec, error", [((3, 3), ValueError), ((5, 1), ValueError), ([], TypeError),
                                         ("abc", TypeError), ((0, 1, 2, 3), TypeError),
                                         (ipywidgets.Button(), TypeError)])
def test_make_control_rejects_bad_specs(spec, error):
    with pytest.raises(error):
        widgets.make_control("a", spec)


def test_checkpoint_slider_covers_every_checkpoint():
    slider = widgets.checkpoint_slider(11)
    assert (slider.min, slider.max, slider.value, slider.step) == (0, 10, 10, 1)
    assert slider.description == "epoch" and slider.continuous_update is False
    assert widgets.checkpoint_slider(11, value=0).value == 0


@pytest.mark.parametrize("n, value", [(0, None), (True, None), (2.0, None), (3, 3), (3, -1), (3, 1.0)])
def test_checkpoint_slider_rejects_bad_arguments(n, value):
    with pytest.raises(ValueError):
        widgets.checkpoint_slider(n, value)


def test_checkpoint_explorer_redraws_the_snapshot_when_the_slider_moves(rng):
    trace = _digit_trace(rng)
    x = rng.random((28, 28))
    explorer = widgets.checkpoint_explorer(trace, x, label=2, value=0)
    assert isinstance(explorer, ipywidgets.VBox)
    slider = explorer.controls["epoch"]
    assert (slider.min, slider.max, slider.value) == (0, 2, 0)
    first = explorer.figure
    assert isinstance(first, Figure) and first.get_suptitle().startswith("before training")
    slider.value = 2
    assert explorer.figure is not first
    assert explorer.figure.get_suptitle().startswith("after epoch 2")
    static = explorer.render(epoch=1)
    assert static.get_suptitle().startswith("after epoch 1")


def test_checkpoint_explorer_needs_a_trace():
    with pytest.raises(TypeError):
        widgets.checkpoint_explorer({"k1": np.zeros((1, 6, 5, 5))}, np.zeros((28, 28)))
