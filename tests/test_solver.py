"""Tests for helpers.solver: the generic loop ``sgd_loop`` over any ``loss_and_grads`` (notebooks
07 and 08), the seed network's ``train`` (notebook 06), evaluation, confusion matrix, confident
mistakes, the digit trace, and notebook 06's figures, widget and self-checks built on them.

The loop is tested on least squares, whose gradient and minimum are known in closed form, and
against ``solver.train`` on the seed network."""

from __future__ import annotations

import math
import time
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from helpers import data, engine, network, optim, solver

KEYS = list(network.PARAM_SHAPES)


@pytest.fixture(scope="module")
def mnist5k():
    """A small real subset: 200 training and 100 held-out MNIST-5k digits, float64."""
    x_train, y_train, x_val, y_val = data.load_mnist_5k_split(dtype=np.float64)
    return x_train[:200], y_train[:200], x_val[:100], y_val[:100]


def least_squares_problem(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    w_true = np.array([1.5, -2.0, 0.5])
    y = x @ w_true + 0.3
    return x, y, w_true


def loss_and_grads(params, xb, yb):
    r = xb @ params["w"] + params["c"] - yb
    return float(np.mean(r ** 2) / 2), {"w": xb.T @ r / len(yb), "c": np.array(r.mean())}


# --------------------------------------------------------------------------------------------
# sgd_loop
# --------------------------------------------------------------------------------------------
def test_sgd_loop_reaches_the_least_squares_solution():
    x, y, w_true = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    params, history = solver.sgd_loop(loss_and_grads, start, x, y, epochs=60, batch_size=8, lr=0.1, seed=1)
    assert_allclose(params["w"], w_true, atol=1e-6)
    assert float(params["c"]) == pytest.approx(0.3, abs=1e-6)
    assert len(history["step_loss"]) == 60 * 8                       # ceil(60 / 8) = 8 batches
    assert history["epoch"] == list(range(61))
    assert history["step_loss"][-1] < 1e-10 < history["step_loss"][0]
    assert not start["w"].any()                                      # the start is not modified


def test_sgd_loop_is_deterministic_and_seed_dependent():
    x, y, _ = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    a = solver.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=3)
    b = solver.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=3)
    c = solver.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=4)
    assert_array_equal(a[0]["w"], b[0]["w"])
    assert a[1]["step_loss"] == b[1]["step_loss"]
    assert not np.array_equal(a[0]["w"], c[0]["w"])


def test_sgd_loop_with_evaluate_records_every_epoch():
    x, y, _ = least_squares_problem()
    calls = []

    def evaluate(p):
        calls.append(p["w"].copy())
        r = x @ p["w"] + p["c"] - y
        return {"loss": float(np.mean(r ** 2) / 2), "accuracy": float(np.mean(np.abs(r) < 0.1))}

    _, history = solver.sgd_loop(loss_and_grads, {"w": np.zeros(3), "c": np.array(0.0)}, x, y,
                            epochs=3, batch_size=60, lr=0.5, evaluate=evaluate)
    assert len(calls) == 4 and not calls[0].any()
    assert len(history["val_loss"]) == len(history["val_acc"]) == 4
    assert history["val_loss"][0] > history["val_loss"][-1]


def test_sgd_loop_errors():
    x, y, _ = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(FloatingPointError, match="too large"):
        solver.sgd_loop(loss_and_grads, start, x * 1e3, y, epochs=30, batch_size=10, lr=10.0)
    with pytest.raises(ValueError, match="epochs"):
        solver.sgd_loop(loss_and_grads, start, x, y, epochs=0, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="batch_size"):
        solver.sgd_loop(loss_and_grads, start, x, y, epochs=1, batch_size=2.5, lr=0.1)
    with pytest.raises(ValueError, match="one entry per example"):
        solver.sgd_loop(loss_and_grads, start, x, y[:-1], epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(ValueError, match="non-empty"):
        solver.sgd_loop(loss_and_grads, start, x[:0], y[:0], epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="callable"):
        solver.sgd_loop("grads", start, x, y, epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="evaluate"):
        solver.sgd_loop(loss_and_grads, start, x, y, epochs=1, batch_size=10, lr=0.1, evaluate=3)
    with pytest.raises(ValueError, match="seed"):
        solver.sgd_loop(loss_and_grads, start, x, y, epochs=1, batch_size=10, lr=0.1, seed=-1)
    with pytest.raises(TypeError, match="dict"):
        solver.sgd_loop(loss_and_grads, [start], x, y, epochs=1, batch_size=10, lr=0.1)


def test_sgd_loop_decays_the_learning_rate_and_calls_back():
    x, y, _ = least_squares_problem()
    seen = []
    _, history = solver.sgd_loop(loss_and_grads, {"w": np.zeros(3), "c": np.array(0.0)}, x, y, epochs=3,
                            batch_size=60, lr=0.4, lr_decay=0.5,
                            callback=lambda e, p, h: seen.append((e, h["lr"][-1])))
    assert seen == [(1, 0.4), (2, 0.2), (3, 0.1)]
    assert history["lr"][1:] == [0.4, 0.2, 0.1] and np.isnan(history["lr"][0])
    with pytest.raises(TypeError, match="callback"):
        solver.sgd_loop(loss_and_grads, {"w": np.zeros(3), "c": np.array(0.0)}, x, y, epochs=1, batch_size=10,
                   lr=0.1, callback="print")


def test_train_is_sgd_loop_on_the_seed_network():
    """train.train adds bookkeeping only: same batches, same arithmetic, bit for bit."""
    x, y, xv, yv = (a[:40] for a in data.load_mnist_5k_split(dtype=np.float32))
    start = network.init_params(2, np.float32)
    trained, history = solver.train(start, x, y, xv, yv, epochs=2, batch_size=16, lr=1.5, lr_decay=0.5,
                               seed=5, progress=False)
    params, loop_history = solver.sgd_loop(engine.loss_and_grads, start, x, y, epochs=2, batch_size=16,
                                      lr=1.5, lr_decay=0.5, seed=5)
    for key in network.PARAM_SHAPES:
        assert_array_equal(trained[key], params[key])
        assert trained[key].dtype == np.float32
    assert history["step_loss"] == loop_history["step_loss"]
    assert history["lr"][1:] == loop_history["lr"][1:] == [1.5, 0.75]


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------
def test_train_is_the_sgd_loop_it_documents(mnist5k):
    """Rebuild two epochs by hand: default_rng(seed) permutations, mean-loss gradients, eqs. 65-70."""
    x, y, xv, yv = mnist5k
    x, y = x[:45], y[:45]  # 45 = 4 full batches of 10 and a last batch of 5
    start = network.init_params(3)
    trained, history = solver.train(start, x, y, xv, yv, epochs=2, batch_size=10, lr=0.8, lr_decay=0.5,
                               seed=7, progress=False)
    rng = np.random.default_rng(7)
    params = {key: val.copy() for key, val in start.items()}
    step_losses = []
    for alpha in (0.8, 0.4):
        order = rng.permutation(45)
        for s in range(0, 45, 10):
            idx = order[s:s + 10]
            cache = network.forward(params, x[idx])
            step_losses.append(network.loss(cache, y[idx]))
            grads = network.backward(params, cache, y[idx])
            params = {key: params[key] - alpha * grads[key] for key in KEYS}
    for key in KEYS:
        assert_allclose(trained[key], params[key], rtol=0, atol=1e-12)
    assert_allclose(history["step_loss"], step_losses, rtol=1e-12)
    assert history["lr"][1:] == [0.8, 0.4]
    final = solver.evaluate(params, xv, yv)
    assert history["val_acc"][-1] == final["accuracy"]
    assert history["val_loss"][-1] == pytest.approx(final["loss"], rel=1e-12)


def test_loss_decreases_on_real_digits(mnist5k):
    x, y, xv, yv = mnist5k
    params = network.init_params(0)
    before = solver.evaluate(params, x, y)["loss"]
    trained, history = solver.train(params, x, y, xv, yv, epochs=2, batch_size=10, lr=1.0, progress=False)
    after = solver.evaluate(trained, x, y)["loss"]
    assert after < 0.6 * before  # 1.25 (all outputs 0.5) falls towards 0.45 (outputs ~ 0.1) and below
    assert history["step_loss"][-1] < history["step_loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_train_is_deterministic_and_seeded(mnist5k):
    x, y, xv, yv = mnist5k
    kwargs = dict(epochs=1, batch_size=20, lr=1.0, progress=False)
    p0 = network.init_params(0, np.float32)
    a, ha = solver.train(p0, x, y, xv, yv, seed=1, **kwargs)
    b, hb = solver.train(p0, x, y, xv, yv, seed=1, **kwargs)
    c, _ = solver.train(p0, x, y, xv, yv, seed=2, **kwargs)
    for key in KEYS:
        assert_array_equal(a[key], b[key])
        assert a[key].dtype == np.float32
    assert ha == hb or all(np.array_equal(ha[k], hb[k], equal_nan=True) for k in ha)
    assert not np.array_equal(a["W"], c["W"])  # another seed shuffles differently


def test_train_history_checkpoints_and_callback(mnist5k):
    x, y, xv, yv = mnist5k
    x, y = x[:30], y[:30]
    start = network.init_params(0)
    checkpoints, seen = [], []
    trained, history = solver.train(start, x, y, xv, yv, epochs=3, batch_size=8, lr=0.5, progress=False,
                               checkpoints=checkpoints, callback=lambda e, p, h: seen.append(e))
    assert history["epoch"] == [0, 1, 2, 3]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert len(history[key]) == 4
    assert math.isnan(history["train_loss"][0]) and math.isnan(history["lr"][0])
    assert len(history["step_loss"]) == 3 * 4  # ceil(30 / 8) = 4 steps per epoch
    assert history["val_acc"][0] == solver.evaluate(start, xv, yv)["accuracy"]
    assert seen == [1, 2, 3]
    assert len(checkpoints) == 4
    for key in KEYS:
        assert_array_equal(checkpoints[0][key], start[key])
        assert_array_equal(checkpoints[-1][key], trained[key])
        assert checkpoints[-1][key] is not trained[key]
    assert not np.array_equal(checkpoints[1]["W"], checkpoints[2]["W"])


def test_train_variants_run(mnist5k):
    x, y, xv, yv = mnist5k
    for variant in ({"pooling": "max"}, {"conv_activation": "relu"}, {"output": "softmax"}):
        _, history = solver.train(network.init_params(0), x[:20], y[:20], xv, yv, epochs=1, batch_size=10,
                             lr=0.1, variant=variant, progress=False)
        assert np.isfinite(history["val_loss"]).all()
    with pytest.raises(ValueError, match="pooling"):
        solver.train(network.init_params(0), x, y, xv, yv, epochs=1, batch_size=10, lr=0.1,
                variant={"pooling": "median"}, progress=False)


def test_train_rejects_bad_arguments(mnist5k):
    x, y, xv, yv = mnist5k
    p = network.init_params(0)
    with pytest.raises(ValueError, match="x_train"):
        solver.train(p, x[:, :27], y, xv, yv, epochs=1, batch_size=10, lr=1.0, progress=False)
    with pytest.raises(ValueError, match="y_train"):
        solver.train(p, x, y[:-1], xv, yv, epochs=1, batch_size=10, lr=1.0, progress=False)
    with pytest.raises(TypeError, match="y_val"):
        solver.train(p, x, y, xv, yv.astype(float), epochs=1, batch_size=10, lr=1.0, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        solver.train(p, x, y, xv, yv, epochs=1, batch_size=0, lr=1.0, progress=False)
    with pytest.raises(TypeError, match="checkpoints"):
        solver.train(p, x, y, xv, yv, epochs=1, batch_size=10, lr=1.0, progress=False, checkpoints={})


def test_train_reports_divergence(mnist5k):
    x, y, xv, yv = mnist5k
    p = network.init_params(0, np.float32)
    with np.errstate(all="ignore"), pytest.raises((FloatingPointError, ValueError)):
        solver.train(p, x[:20], y[:20], xv, yv, epochs=1, batch_size=10, lr=1e38, variant={"output": "softmax"},
                progress=False)


# --------------------------------------------------------------------------------------------
# evaluate, confusion_matrix
# --------------------------------------------------------------------------------------------
def test_evaluate_matches_network(mnist5k):
    _, _, xv, yv = mnist5k
    params = network.init_params(4)
    result = solver.evaluate(params, xv, yv, batch_size=32)
    cache = network.forward(params, xv)
    assert result["loss"] == pytest.approx(network.loss(cache, yv), rel=1e-12)
    assert_array_equal(result["y_pred"], network.predict(params, xv))
    assert result["accuracy"] == np.mean(network.predict(params, xv) == yv)
    assert result["y_hat"].shape == (100, 10)


def test_confusion_matrix_counts():
    y_true = np.array([0, 1, 1, 2, 2, 2, 9])
    y_pred = np.array([0, 2, 1, 2, 0, 2, 9])
    cm = solver.confusion_matrix(y_true, y_pred)
    expected = np.zeros((10, 10), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    assert_array_equal(cm, expected)
    assert cm.dtype == np.int64 and np.trace(cm) == 5
    with pytest.raises(ValueError, match="y_pred"):
        solver.confusion_matrix(y_true, np.array([0, 1, 2, 3, 4, 5, 10]))
    with pytest.raises(ValueError, match="shape"):
        solver.confusion_matrix(y_true, y_pred[:-1])
    with pytest.raises(TypeError, match="y_true"):
        solver.confusion_matrix(y_true.astype(float), y_pred)


# --------------------------------------------------------------------------------------------
# confident_mistakes, digit_trace and notebook 06's figures, widget and self-checks
# --------------------------------------------------------------------------------------------
def test_confident_mistakes_orders_wrong_answers_by_their_winning_output():
    y_hat = np.full((6, 10), 0.1)
    y_hat[0, 3] = 0.9   # right (label 3)
    y_hat[1, 5] = 0.6   # wrong: label 2
    y_hat[2, 7] = 0.95  # wrong: label 1
    y_hat[3, 0] = 0.6   # wrong: label 4, ties with image 1
    y_hat[4, 9] = 0.99  # right
    y_hat[5, 8] = 0.3   # wrong: label 6
    y_true = np.array([3, 2, 1, 4, 9, 6])
    assert_array_equal(solver.confident_mistakes(y_hat, y_true, n=10), [2, 1, 3, 5])
    assert_array_equal(solver.confident_mistakes(y_hat, y_true, n=2), [2, 1])
    with pytest.raises(ValueError, match="y_hat"):
        solver.confident_mistakes(y_hat[:, :9], y_true)


@pytest.fixture(scope="module")
def short_run(mnist5k):
    x, y, xv, yv = mnist5k
    checkpoints = []
    params, history = solver.train(network.init_params(0), x, y, xv, yv, epochs=3, batch_size=5, lr=1.0,
                              progress=False, checkpoints=checkpoints)
    return params, history, checkpoints


def test_digit_trace_matches_the_network(short_run, mnist5k):
    _, _, checkpoints = short_run
    x, y = mnist5k[0][7], int(mnist5k[1][7])
    trace = solver.digit_trace(checkpoints, x, y)
    assert trace["loss"].shape == (4,) and trace["dC1_sigma"].shape == (4, 6, 24, 24)
    assert trace["dC2_sigma"].shape == (4, 12, 8, 8) and trace["k1"].shape == (4, 6, 5, 5)
    cache = network.forward(checkpoints[2], x)
    _, errors = network.backward_with_errors(checkpoints[2], cache, y)
    assert_allclose(trace["dC1_sigma"][2], errors["dC1_sigma"], rtol=0, atol=1e-15)
    assert trace["loss"][2] == pytest.approx(network.loss(cache, y))
    assert_array_equal(trace["predicted"], trace["y_hat"].argmax(axis=1))
    with pytest.raises(ValueError, match="label"):
        solver.digit_trace(checkpoints, x, 10)


def _draw(fig):
    import io
    fig.savefig(io.BytesIO(), format="png")
    return fig


def test_training_figures_show_the_history(short_run, mnist5k):
    from helpers import figures

    _, history, _ = short_run
    fig = _draw(figures.show_training_history(history))
    ax_loss, ax_acc = fig.axes
    held_out = [line for line in ax_acc.get_lines() if line.get_label() == "held-out"][0]
    assert_allclose(held_out.get_ydata(), 100 * np.array(history["val_acc"]))
    step_line = ax_loss.get_lines()[0]
    assert len(step_line.get_xdata()) == len(history["step_loss"]) and step_line.get_xdata()[-1] == 3.0
    fig = _draw(figures.show_step_losses({"a": history, "b": history}, reference={"0.45": 0.45}, xmax=2))
    assert len(fig.axes[0].get_lines()) == 3 and fig.axes[0].get_xlim() == (0, 2)
    with pytest.raises(ValueError, match="equal epochs"):
        figures.show_step_losses({"bad": dict(history, step_loss=history["step_loss"][:-1])})


def test_mistakes_kernels_and_feature_maps_figures(short_run, mnist5k):
    from helpers import figures

    params, _, checkpoints = short_run
    _, _, xv, yv = mnist5k
    fig = _draw(figures.show_mistakes(xv[:5], yv[:5], (yv[:5] + 1) % 10, np.linspace(0.9, 0.5, 5)))
    assert sum(1 for ax in fig.axes if ax.images) == 5
    assert fig.axes[0].get_title().startswith(f"true {yv[0]} -> {(yv[0] + 1) % 10}")
    fig = _draw(figures.show_trained_kernels(params["k1"], params["k2"]))
    mosaic = fig.axes[1].images[0].get_array()
    assert mosaic.shape == (6 * 6 - 1, 12 * 6 - 1)  # 6 x 12 kernels of 5x5 with one-pixel gaps
    assert_allclose(mosaic[6:11, 12:17], params["k2"][1, 2])  # row p=2, column q=3
    caches = {"before": network.forward(checkpoints[0], xv[0]), "after": network.forward(params, xv[0])}
    fig = _draw(figures.show_feature_maps(caches, label=int(yv[0])))
    assert fig.axes[0].get_title() == "before" and fig.axes[3].get_title() == "after"
    with pytest.raises(ValueError, match="k2"):
        figures.show_trained_kernels(params["k1"], params["k2"][:3])


def test_snapshot_uses_one_scale_for_all_epochs_and_the_widget_redraws(short_run, mnist5k):
    from helpers import figures, widgets

    _, _, checkpoints = short_run
    x, y = mnist5k[0][3], int(mnist5k[1][3])
    trace = solver.digit_trace(checkpoints, x, y)
    limit = np.abs(trace["dC2_sigma"]).max()
    for epoch in (0, 3):
        fig = _draw(figures.show_training_snapshot(trace, epoch, x, y))
        limits = sorted(round(im.norm.vmax, 12) for ax in fig.axes for im in ax.images if im.norm.vmin < 0)
        assert round(limit, 12) in limits
    with pytest.raises(ValueError, match="epoch"):
        figures.show_training_snapshot(trace, 4, x, y)
    box = widgets.checkpoint_explorer(trace, x, y, value=0)
    assert box.controls["epoch"].max == 3 and box.controls["epoch"].value == 0
    redraws = box.redraws
    box.controls["epoch"].value = 2
    assert box.redraws == redraws + 1 and "epoch 2" in box.figure.get_suptitle()


def test_notebook06_selfchecks_pass_right_and_fail_wrong_solutions(capsys):
    from helpers import checks

    def in_place(params, grads, lr):
        for k in params:
            params[k] -= lr * grads[k]
        return params

    assert checks.check_sgd_step(optim.sgd_step)
    assert not checks.check_sgd_step(in_place)
    assert not checks.check_sgd_step(lambda p, g, lr: {k: p[k] + lr * g[k] for k in p})
    assert checks.check_confusion_matrix(solver.confusion_matrix)
    assert not checks.check_confusion_matrix(lambda t, p: solver.confusion_matrix(p, t))  # transposed

    def batches(n, size, rng):
        order = rng.permutation(n)
        return [order[i:i + size] for i in range(0, n, size)]

    assert checks.check_minibatches(batches)
    assert not checks.check_minibatches(lambda n, size, rng: [np.arange(n)[i:i + size] for i in range(0, n, size)])
    assert not checks.check_minibatches(lambda n, size, rng: batches(n - 1, size, rng))

    def momentum(params, grads, velocity, lr, mu):
        v = {k: mu * velocity[k] - lr * grads[k] for k in params}
        return {k: params[k] + v[k] for k in params}, v

    assert checks.check_momentum_step(momentum)
    assert not checks.check_momentum_step(lambda p, g, v, lr, mu: momentum(p, g, v, lr, 0.0))
    assert "FAIL" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# issue 14, faults 6 and 7: lazy schedules, rates checked against the dtype before training
# --------------------------------------------------------------------------------------------
class _Stop(Exception):
    pass


def _stop_after_first_epoch(epoch, params, history):
    raise _Stop(epoch)


def test_a_billion_epochs_cost_no_memory_up_front(mnist5k):
    """Today a list of 1e9 rates is built before the first step (MemoryError after ~20 s)."""
    x, y, xv, yv = mnist5k
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(_Stop, match="^1$"):
            solver.sgd_loop(loss_and_grads, {"w": np.zeros(3), "c": np.array(0.0)}, *least_squares_problem()[:2],
                            epochs=10 ** 9, batch_size=8, lr=0.1, callback=_stop_after_first_epoch)
        with pytest.raises(_Stop, match="^1$"):
            solver.train(network.init_params(0), x[:10], y[:10], xv[:10], yv[:10], epochs=10 ** 9, batch_size=5,
                         lr=1.0, progress=False, callback=_stop_after_first_epoch)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 10 and peak < 50_000_000


def test_rates_are_checked_against_the_training_dtype_before_training(mnist5k):
    x, y, xv, yv = mnist5k
    checkpoints, calls = [], []
    with np.errstate(all="raise"), pytest.raises(ValueError, match=r"lr = 1e\+39 overflows float32") as info:
        solver.train(network.init_params(0, np.float32), x[:10], y[:10], xv, yv, epochs=1, batch_size=5,
                     lr=1e39, progress=False, checkpoints=checkpoints)
    assert checkpoints == [] and "k1" not in str(info.value)  # refused before the first step
    with pytest.raises(ValueError, match="overflows float32"):
        solver.sgd_loop(lambda p, xb, yb: calls.append(1), {"w": np.zeros(3, np.float32)}, np.zeros((4, 3)),
                        np.zeros(4), epochs=1, batch_size=2, lr=1e39)
    with pytest.raises(ValueError, match="epoch 800"):  # 0.5 ** 799 underflows: the last epoch's rate is 0
        solver.sgd_loop(lambda p, xb, yb: calls.append(1), {"w": np.zeros(3)}, np.zeros((4, 3)), np.zeros(4),
                        epochs=800, batch_size=2, lr=1.0, lr_decay=0.5 ** 2)
    assert calls == []


# --------------------------------------------------------------------------------------------
# a schedule given as a function, and a per-batch input transform (data augmentation)
# --------------------------------------------------------------------------------------------
def test_a_callable_schedule_is_asked_once_per_epoch():
    x, y, _ = least_squares_problem()
    asked = []

    def rate(epoch):
        asked.append(epoch)
        return 0.4 / epoch

    start = {"w": np.zeros(3), "c": np.array(0.0)}
    params, history = solver.sgd_loop(loss_and_grads, start, x, y, epochs=3, batch_size=60, lr=rate)
    assert history["lr"][1:] == [0.4, 0.2, 0.4 / 3]
    assert asked == [1, 3, 1, 2, 3]  # epochs 1 and 3 checked before training, then one call per epoch
    same, _ = solver.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=60, lr=lambda e: 0.4 * 0.5 ** (e - 1))
    decayed, _ = solver.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=60, lr=0.4, lr_decay=0.5)
    assert_array_equal(same["w"], decayed["w"])
    with pytest.raises(ValueError, match="lr_decay must be 1"):
        solver.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=60, lr=rate, lr_decay=0.5)
    with pytest.raises(ValueError, match="epoch 2"):
        solver.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=60, lr=lambda e: 1.0 if e == 1 else -1.0)


def test_the_transform_hook_sees_every_batch_with_the_loop_generator(mnist5k):
    x, y, xv, yv = (a[:40] for a in mnist5k)
    start = network.init_params(1)
    seen = []

    def identity(xb, rng):
        seen.append((xb.shape, rng.random()))
        return xb

    plain, h_plain = solver.train(start, x, y, xv, yv, epochs=1, batch_size=16, lr=1.0, seed=4, progress=False)
    hooked, h_hooked = solver.train(start, x, y, xv, yv, epochs=2, batch_size=16, lr=1.0, seed=4, progress=False,
                                    transform=identity)
    assert [shape for shape, _ in seen] == [(16, 28, 28), (16, 28, 28), (8, 28, 28)] * 2
    # the first epoch's batches are drawn before the transform draws: the same first epoch
    assert h_plain["step_loss"] == h_hooked["step_loss"][:3]
    # the transform draws from the loop's generator, right after the permutation
    rng = np.random.default_rng(4)
    rng.permutation(40)
    assert [r for _, r in seen[:3]] == [rng.random() for _ in range(3)]
    draws = [r for _, r in seen]
    seen.clear()
    solver.train(start, x, y, xv, yv, epochs=2, batch_size=16, lr=1.0, seed=4, progress=False, transform=identity)
    assert [r for _, r in seen] == draws  # seeded: the same augmentation every run

    def brighter(xb, rng):
        return np.clip(xb + 0.5, 0, 1)

    changed, _ = solver.train(start, x, y, xv, yv, epochs=1, batch_size=16, lr=1.0, progress=False, transform=brighter)
    assert not np.array_equal(changed["W"], solver.train(start, x, y, xv, yv, epochs=1, batch_size=16, lr=1.0,
                                                         progress=False)[0]["W"])
    with pytest.raises(ValueError, match="shape"):
        solver.train(start, x, y, xv, yv, epochs=1, batch_size=16, lr=1.0, progress=False,
                     transform=lambda xb, rng: xb[:, :27])
    with pytest.raises(TypeError, match="transform"):
        solver.sgd_loop(loss_and_grads, {"w": np.zeros(3)}, x, y, epochs=1, batch_size=4, lr=0.1, transform=3)
