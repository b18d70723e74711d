"""Tests for helpers.figures.training: training curves, confusion matrices, mistakes, learned kernels and
feature maps have the panels they promise and reject bad histories."""

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import refimpl as R  # noqa: E402
from figtools import (all_texts, assert_symmetric, colorbar_axes, colorbar_labels, digit_trace, image_axes,  # noqa: E402
                      mosaic_blocks, texts_of)

from helpers import figures  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_pyplot_leak")  # fixture in tests/conftest.py


def _sgd_history(rng, epochs=3, steps=20):
    return {"epoch": list(range(epochs + 1)), "step_loss": list(rng.random(epochs * steps)),
            "val_loss": list(rng.random(epochs + 1)), "val_acc": list(np.linspace(0.1, 0.9, epochs + 1))}


def _train_history(rng, epochs=4, steps=10):
    return {"epoch": list(range(epochs + 1)), "step_loss": list(rng.random(epochs * steps) + 0.5),
            "train_loss": [float("nan")] + list(rng.random(epochs)),
            "train_acc": [float("nan")] + list(rng.random(epochs)),
            "val_loss": list(rng.random(epochs + 1)), "val_acc": list(rng.random(epochs + 1))}


def _one_image_cache(rng):
    return {"x": rng.random((28, 28)), "C1": R.sigmoid(rng.normal(size=(6, 24, 24))),
            "C2": R.sigmoid(rng.normal(size=(12, 8, 8)))}


def test_confusion_matrix_plot_counts_and_accuracy():
    cm = np.array([[5, 1, 0], [2, 3, 0], [0, 0, 9]])
    fig = figures.confusion_matrix_plot(cm, class_names=["a", "b", "c"])
    ax = image_axes(fig)[0]
    assert [t.get_text() for t in ax.texts] == [str(v) for v in cm.ravel()]
    assert ax.get_title() == f"confusion matrix (accuracy {100 * 17 / 20:.1f}%)"
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert colorbar_axes(fig)[0].get_ylabel() == "count"
    normed = figures.confusion_matrix_plot(cm, normalize=True)
    shown = image_axes(normed)[0].images[0].get_array()
    np.testing.assert_allclose(shown.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="square"):
        figures.confusion_matrix_plot(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        figures.confusion_matrix_plot(-np.eye(2))



def test_confusion_matrix_plot_log_scale_keeps_single_mistakes_visible():
    cm = np.diag([97, 98, 99]) + np.array([[0, 1, 0], [0, 0, 0], [4, 0, 0]])
    linear = image_axes(figures.confusion_matrix_plot(cm))[0].images[0]
    log = image_axes(figures.confusion_matrix_plot(cm, log=True))[0].images[0]
    # one mistake gets about 1% of the colour range on the linear scale, a third of it on the log one
    assert linear.norm(1.0) < 0.02 < 0.3 < log.norm(1.0) < log.norm(4.0) < log.norm(99.0) == 1.0
    assert log.norm(0.0) == 0.0 == linear.norm(0.0)

def test_curves_plot_groups_series_by_metric():
    history = {"epoch": [1, 2, 3], "train_loss": [1.0, 0.5, 0.3], "test_loss": [1.1, 0.6, 0.4],
               "train_acc": [0.5, 0.8, 0.9], "test_acc": [0.4, 0.7, 0.85]}
    fig = figures.curves_plot(history, logy=True)
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "acc"]
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_yscale() == "log" and acc_ax.get_yscale() == "linear"
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "test"]
    np.testing.assert_array_equal(acc_ax.get_lines()[1].get_ydata(), history["test_acc"])
    np.testing.assert_array_equal(acc_ax.get_lines()[1].get_xdata(), history["epoch"])
    assert loss_ax.get_xlabel() == "epoch"


def test_curves_plot_rejects_bad_history():
    with pytest.raises(TypeError, match="non-empty dict"):
        figures.curves_plot({})
    with pytest.raises(ValueError, match="is empty"):
        figures.curves_plot({"loss": []})
    with pytest.raises(ValueError, match="NaN"):
        figures.curves_plot({"loss": [1.0, float("nan")]})


def test_show_runs_draws_a_smoothed_cost_and_the_accuracy(rng):
    runs = {"quadratic": _sgd_history(rng), "cross-entropy": _sgd_history(rng)}
    fig = figures.show_runs(runs, smooth=5, title="two costs")
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
        figures.show_runs({})
    with pytest.raises(ValueError, match="smooth"):
        figures.show_runs({"a": _sgd_history(rng)}, smooth=0)
    broken = _sgd_history(rng)
    del broken["val_acc"]
    with pytest.raises(KeyError, match="val_acc"):
        figures.show_runs({"a": broken})


def test_show_training_history_loss_and_accuracy_panels(rng):
    history = _train_history(rng)
    fig = figures.show_training_history(history, held_out="test", smooth=0, title="run")
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
    fig = figures.show_training_history(history, smooth=0.3)  # 3 of the 10 steps of an epoch
    losses = np.array(history["step_loss"])
    expected = [losses[max(0, i - 2):i + 1].mean() for i in range(losses.size)]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), expected)


def test_show_training_history_rejects_bad_histories(rng):
    with pytest.raises(TypeError):
        figures.show_training_history([1, 2, 3])
    history = _train_history(rng)
    del history["step_loss"]
    with pytest.raises(KeyError, match="step_loss"):
        figures.show_training_history(history)
    history = _train_history(rng)
    history["step_loss"] = history["step_loss"][:-1]  # 39 losses do not split into 4 epochs
    with pytest.raises(ValueError, match="equal epochs"):
        figures.show_training_history(history)


def test_show_step_losses_one_curve_per_run_and_reference_lines(rng):
    runs = {"batch 5": _train_history(rng, steps=20), "batch 50": _train_history(rng, steps=2)}
    fig = figures.show_step_losses(runs, smooth=0, reference={"plateau": 2.3}, xmax=3, title="batch size")
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
        figures.show_step_losses({})
    with pytest.raises(TypeError):
        figures.show_step_losses({"a": [0.1, 0.2]})


def test_show_mistakes_titles_each_digit_with_its_answer(rng):
    images = rng.random((5, 28, 28))
    fig = figures.show_mistakes(images, [4, 7, 1, 3, 9], [9, 1, 7, 5, 4], [0.97, 0.5, 0.61, 0.8, 0.99], ncols=3,
                              title="mistakes")
    axes = image_axes(fig)
    assert len(axes) == 5 and len(fig.axes) == 6  # 2 x 3 grid, the last cell left empty
    assert axes[0].get_title() == "true 4 -> 9\noutput 0.97"
    np.testing.assert_array_equal(axes[2].images[0].get_array(), images[2])
    names = [f"c{i}" for i in range(10)]
    fig = figures.show_mistakes(images[:1], [2], [3], [0.5], class_names=names)
    assert image_axes(fig)[0].get_title().startswith("true c2 -> c3")


@pytest.mark.parametrize("kwargs", [dict(y_true=[1, 2]), dict(confidence=[0.5, 0.5, 0.5, 0.5]),
                                    dict(class_names=["a", "b"])])
def test_show_mistakes_rejects_mismatched_input(rng, kwargs):
    args = dict(images=rng.random((3, 28, 28)), y_true=[1, 2, 3], y_pred=[2, 3, 4], confidence=[0.1, 0.2, 0.3])
    args.update(kwargs)
    with pytest.raises(ValueError):
        figures.show_mistakes(**args)


def test_show_trained_kernels_two_mosaics_each_centred_on_zero(rng):
    k1 = rng.normal(size=(6, 5, 5))
    k2 = rng.normal(size=(6, 12, 5, 5)) * 0.1
    fig = figures.show_trained_kernels(k1, k2, title="after training")
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
        figures.show_trained_kernels(k1, k2)


def test_show_feature_maps_one_row_per_parameter_set(rng):
    caches = {"before training": _one_image_cache(rng), "after training": _one_image_cache(rng)}
    fig = figures.show_feature_maps(caches, label=5, title="feature maps")
    axes = image_axes(fig)
    assert len(axes) == 6 and len(colorbar_axes(fig)) == 1
    assert colorbar_labels(fig) == ["activation (sigmoid output)"]
    assert axes[0].get_title() == "before training" and axes[3].get_title() == "after training"
    for ax in axes[1:3] + axes[4:6]:
        assert ax.images[0].get_clim() == (0.0, 1.0)
    mosaic = np.ma.filled(axes[4].images[0].get_array(), np.nan)  # C1 of row 2, the six maps in one row
    np.testing.assert_array_equal(mosaic[0:24, 75:99], caches["after training"]["C1"][3])
    mosaic = np.ma.filled(axes[5].images[0].get_array(), np.nan)  # C2 of row 2, the twelve maps in one row
    np.testing.assert_array_equal(mosaic[0:8, 45:53], caches["after training"]["C2"][5])


def test_show_feature_maps_rejects_bad_caches(rng):
    with pytest.raises(TypeError):
        figures.show_feature_maps({})
    with pytest.raises(TypeError):
        figures.show_feature_maps({"a": {"x": np.zeros((28, 28))}})
    batch = _one_image_cache(rng)
    batch["x"] = np.zeros((2, 28, 28))
    with pytest.raises(ValueError, match="one image"):
        figures.show_feature_maps({"a": batch})


def test_show_training_snapshot_uses_one_scale_for_every_checkpoint(rng):
    trace = digit_trace(rng)
    x = rng.random((28, 28))
    figs = [figures.show_training_snapshot(trace, e, x, label=2) for e in range(3)]
    for e, fig in enumerate(figs):
        axes = image_axes(fig)
        assert len(axes) == 4  # digit, k1 mosaic, two error mosaics
        assert colorbar_labels(fig) == ["weight", "error (same scale for every epoch)",
                                        "error (same scale for every epoch)"]
        for ax, key in zip(axes[1:], ("k1", "dC1_sigma", "dC2_sigma")):
            assert_symmetric(ax.images[0], np.abs(trace[key]).max())  # all checkpoints, not this one
        bars = [ax for ax in fig.axes if ax.patches and not ax.images][0]
        np.testing.assert_allclose([p.get_height() for p in bars.patches], trace["y_hat"][e])
    assert figs[0].get_suptitle() == f"before training: loss of this digit {trace['loss'][0]:.3g}"
    assert figs[2].get_suptitle() == f"after epoch 2: loss of this digit {trace['loss'][2]:.3g}"
    assert figures.show_training_snapshot(trace, 1, x, title="T").get_suptitle() == "T"


@pytest.mark.parametrize("epoch", [3, -1, 1.0, True])
def test_show_training_snapshot_rejects_a_bad_epoch(rng, epoch):
    with pytest.raises(ValueError, match="epoch"):
        figures.show_training_snapshot(digit_trace(rng), epoch, np.zeros((28, 28)))


def test_show_training_snapshot_needs_a_trace():
    with pytest.raises(TypeError):
        figures.show_training_snapshot([0.1, 0.2], 0, np.zeros((28, 28)))


def test_show_training_snapshot_scales_keep_late_errors_visible(rng):
    trace = digit_trace(rng, checkpoints=4)
    trace["dC1_sigma"][-1] *= 1e-4  # a late epoch: errors far below the first epoch's
    x = rng.random((28, 28))
    here = figures.show_training_snapshot(trace, 3, x, scale="this epoch")
    ax_k1, ax_e1 = image_axes(here)[1:3]
    assert_symmetric(ax_e1.images[0], np.abs(trace["dC1_sigma"][3]).max())
    assert_symmetric(ax_k1.images[0], np.abs(trace["k1"][3]).max())
    assert colorbar_labels(here)[1:] == ["error (scale of this epoch)"] * 2
    log = figures.show_training_snapshot(trace, 3, x, scale="symlog")
    norm = image_axes(log)[2].images[0].norm
    m = np.abs(trace["dC1_sigma"]).max()
    assert norm.vmin == -norm.vmax == pytest.approx(-m) and norm.linthresh == pytest.approx(m * 1e-3)
    with pytest.raises(ValueError, match="scale"):
        figures.show_training_snapshot(trace, 0, x, scale="log")


def _picture(fig):
    """What a snapshot shows: image data and colour limits, bar heights and colours, every text."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    images = [(np.nan_to_num(np.ma.getdata(im.get_array()), nan=-9).tolist(), im.norm.vmin, im.norm.vmax, type(im.norm).__name__)
              for ax in fig.axes for im in ax.images]
    bars = [(p.get_height(), p.get_facecolor()) for ax in fig.axes for p in ax.patches if ax.get_label() == ""
            and not ax.images and ax.patches]
    ticks = [[t.get_text() for t in ax.yaxis.get_ticklabels() if t.get_visible()] for ax in colorbar_axes(fig)]
    return images, bars, ticks, sorted(all_texts(fig))


def test_show_training_snapshot_redrawn_in_place_shows_what_a_new_figure_shows(rng):
    trace, other = digit_trace(rng, checkpoints=4), digit_trace(np.random.default_rng(5), checkpoints=4)
    x, x_other = rng.random((28, 28)), rng.random((28, 28))
    fig = figures.show_training_snapshot(trace, 0, x, label=2, scale="symlog")
    assert fig.get_layout_engine() is None and len(image_axes(fig)) == 4
    axes = len(fig.axes)
    for t, e, xi, li, scale in ((trace, 3, x, 2, "this epoch"), (other, 1, x_other, 7, "symlog"),
                                (other, 2, x_other, None, "all epochs")):
        assert figures.show_training_snapshot(t, e, xi, li, scale=scale, into=fig) is fig
        assert len(fig.axes) == axes  # nothing added
        digit, kernels, error1, error2 = image_axes(fig)
        np.testing.assert_array_equal(digit.images[0].get_array(), xi)
        assert digit.get_title() == ("input x" if li is None else f"input x, label {li}")
        for ax, key, ncols, (h, w) in ((kernels, "k1", 3, (5, 5)), (error1, "dC1_sigma", 3, (24, 24)),
                                       (error2, "dC2_sigma", 4, (8, 8))):
            for block, expected in zip(mosaic_blocks(ax.images[0], len(t[key][e]), ncols, h, w), t[key][e]):
                np.testing.assert_array_equal(block, expected)
        bars = [ax for ax in fig.axes if ax.patches and not ax.images][0].patches
        np.testing.assert_allclose([p.get_height() for p in bars], t["y_hat"][e])
        if li is not None:
            assert bars[li].get_facecolor() == matplotlib.colors.to_rgba("tab:green")
        assert colorbar_labels(fig)[1:] == [figures.SNAPSHOT_SCALES[scale]] * 2
        assert f"epoch {e}" in fig.get_suptitle()
        assert _picture(fig) == _picture(figures.show_training_snapshot(t, e, xi, li, scale=scale))


def test_show_training_snapshot_redraws_only_its_own_figures(rng):
    trace = digit_trace(rng)
    with pytest.raises(ValueError, match="into"):
        figures.show_training_snapshot(trace, 0, np.zeros((28, 28)), into=figures.show_digit(np.zeros((28, 28))))
    small = dict(trace, dC2_sigma=trace["dC2_sigma"][:, :6])
    with pytest.raises(ValueError, match="same shapes"):
        figures.show_training_snapshot(small, 0, np.zeros((28, 28)),
                                       into=figures.show_training_snapshot(trace, 0, np.zeros((28, 28))))


def test_show_training_snapshot_symlog_ticks_are_decades_that_do_not_touch(rng):
    trace = digit_trace(rng)
    fig = figures.show_training_snapshot(trace, 1, rng.random((28, 28)), scale="symlog")
    labels = _picture(fig)[2][1:]
    m = np.abs(trace["dC1_sigma"]).max()
    top = int(np.floor(np.log10(m)))
    assert labels[0] == [f"-1e{top}", f"-1e{top - 1}", f"-1e{top - 2}", "0", f"1e{top - 2}", f"1e{top - 1}", f"1e{top}"]
