"""Tests for the generic part of helpers.train: ``sgd_step`` on any dict of arrays and
``sgd_loop`` over any ``loss_and_grads`` (notebooks 07 and 08), determinism and argument checks.

The loop is tested on least squares, whose gradient and minimum are known in closed form, and
against ``train.train`` on the seed network."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from helpers import data, engine, network
from helpers import train as T


def least_squares_problem(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    w_true = np.array([1.5, -2.0, 0.5])
    y = x @ w_true + 0.3
    return x, y, w_true


def loss_and_grads(params, xb, yb):
    r = xb @ params["w"] + params["c"] - yb
    return float(np.mean(r ** 2) / 2), {"w": xb.T @ r / len(yb), "c": np.array(r.mean())}


def test_sgd_step_on_any_dict_is_theta_minus_lr_grad_and_copies():
    params = {"w": np.array([1.0, 2.0]), "c": np.array(0.5)}
    grads = {"w": np.array([0.5, -1.0]), "c": np.array(2.0)}
    new = T.sgd_step(params, grads, 0.1)
    assert_allclose(new["w"], [0.95, 2.1])
    assert new["c"].shape == () and float(new["c"]) == pytest.approx(0.3)
    assert_array_equal(params["w"], [1.0, 2.0])                   # inputs untouched
    new32 = T.sgd_step({"w": np.ones(2, np.float32)}, {"w": np.ones(2)}, 0.5)
    assert new32["w"].dtype == np.float32


def test_sgd_step_on_any_dict_errors():
    p = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="keys"):
        T.sgd_step(p, {"v": np.zeros(2)}, 0.1)
    with pytest.raises(ValueError, match="shape"):
        T.sgd_step(p, {"w": np.zeros(3)}, 0.1)
    with pytest.raises(ValueError, match="lr"):
        T.sgd_step(p, {"w": np.zeros(2)}, -1.0)
    with pytest.raises(TypeError, match="lr"):
        T.sgd_step(p, {"w": np.zeros(2)}, "fast")
    with pytest.raises(ValueError, match="NaN"):
        T.sgd_step(p, {"w": np.array([np.nan, 0.0])}, 0.1)
    with pytest.raises(TypeError, match="dict"):
        T.sgd_step([0.0], {"w": np.zeros(2)}, 0.1)


def test_sgd_loop_reaches_the_least_squares_solution():
    x, y, w_true = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    params, history = T.sgd_loop(loss_and_grads, start, x, y, epochs=60, batch_size=8, lr=0.1, seed=1)
    assert_allclose(params["w"], w_true, atol=1e-6)
    assert float(params["c"]) == pytest.approx(0.3, abs=1e-6)
    assert len(history["step_loss"]) == 60 * 8                       # ceil(60 / 8) = 8 batches
    assert history["epoch"] == list(range(61))
    assert history["step_loss"][-1] < 1e-10 < history["step_loss"][0]
    assert not start["w"].any()                                      # the start is not modified


def test_sgd_loop_is_deterministic_and_seed_dependent():
    x, y, _ = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    a = T.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=3)
    b = T.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=3)
    c = T.sgd_loop(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=4)
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

    _, history = T.sgd_loop(loss_and_grads, {"w": np.zeros(3), "c": np.array(0.0)}, x, y,
                            epochs=3, batch_size=60, lr=0.5, evaluate=evaluate)
    assert len(calls) == 4 and not calls[0].any()
    assert len(history["val_loss"]) == len(history["val_acc"]) == 4
    assert history["val_loss"][0] > history["val_loss"][-1]


def test_sgd_loop_errors():
    x, y, _ = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(FloatingPointError, match="too large"):
        T.sgd_loop(loss_and_grads, start, x * 1e3, y, epochs=30, batch_size=10, lr=10.0)
    with pytest.raises(ValueError, match="epochs"):
        T.sgd_loop(loss_and_grads, start, x, y, epochs=0, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="batch_size"):
        T.sgd_loop(loss_and_grads, start, x, y, epochs=1, batch_size=2.5, lr=0.1)
    with pytest.raises(ValueError, match="one entry per example"):
        T.sgd_loop(loss_and_grads, start, x, y[:-1], epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(ValueError, match="non-empty"):
        T.sgd_loop(loss_and_grads, start, x[:0], y[:0], epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="callable"):
        T.sgd_loop("grads", start, x, y, epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="evaluate"):
        T.sgd_loop(loss_and_grads, start, x, y, epochs=1, batch_size=10, lr=0.1, evaluate=3)
    with pytest.raises(ValueError, match="seed"):
        T.sgd_loop(loss_and_grads, start, x, y, epochs=1, batch_size=10, lr=0.1, seed=-1)
    with pytest.raises(TypeError, match="dict"):
        T.sgd_loop(loss_and_grads, [start], x, y, epochs=1, batch_size=10, lr=0.1)


def test_sgd_loop_decays_the_learning_rate_and_calls_back():
    x, y, _ = least_squares_problem()
    seen = []
    _, history = T.sgd_loop(loss_and_grads, {"w": np.zeros(3), "c": np.array(0.0)}, x, y, epochs=3,
                            batch_size=60, lr=0.4, lr_decay=0.5,
                            callback=lambda e, p, h: seen.append((e, h["lr"][-1])))
    assert seen == [(1, 0.4), (2, 0.2), (3, 0.1)]
    assert history["lr"][1:] == [0.4, 0.2, 0.1] and np.isnan(history["lr"][0])
    with pytest.raises(TypeError, match="callback"):
        T.sgd_loop(loss_and_grads, {"w": np.zeros(3), "c": np.array(0.0)}, x, y, epochs=1, batch_size=10,
                   lr=0.1, callback="print")


def test_train_is_sgd_loop_on_the_seed_network():
    """train.train adds bookkeeping only: same batches, same arithmetic, bit for bit."""
    x, y, xv, yv = (a[:40] for a in data.load_mnist_5k_split(dtype=np.float32))
    start = network.init_params(2, np.float32)
    trained, history = T.train(start, x, y, xv, yv, epochs=2, batch_size=16, lr=1.5, lr_decay=0.5,
                               seed=5, progress=False)
    params, loop_history = T.sgd_loop(engine.loss_and_grads, start, x, y, epochs=2, batch_size=16,
                                      lr=1.5, lr_decay=0.5, seed=5)
    for key in network.PARAM_SHAPES:
        assert_array_equal(trained[key], params[key])
        assert trained[key].dtype == np.float32
    assert history["step_loss"] == loop_history["step_loss"]
    assert history["lr"][1:] == loop_history["lr"][1:] == [1.5, 0.75]
