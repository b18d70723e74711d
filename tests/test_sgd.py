"""Tests for helpers.sgd: the update rule, the mini-batch loop, determinism and argument checks.

The loop is tested on least squares, whose gradient and minimum are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from helpers import sgd


def least_squares_problem(n=60, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    w_true = np.array([1.5, -2.0, 0.5])
    y = x @ w_true + 0.3
    return x, y, w_true


def loss_and_grads(params, xb, yb):
    r = xb @ params["w"] + params["c"] - yb
    return float(np.mean(r ** 2) / 2), {"w": xb.T @ r / len(yb), "c": np.array(r.mean())}


def test_sgd_update_is_theta_minus_lr_grad_and_copies():
    params = {"w": np.array([1.0, 2.0]), "c": np.array(0.5)}
    grads = {"w": np.array([0.5, -1.0]), "c": np.array(2.0)}
    new = sgd.sgd_update(params, grads, 0.1)
    assert_allclose(new["w"], [0.95, 2.1])
    assert new["c"].shape == () and float(new["c"]) == pytest.approx(0.3)
    assert_array_equal(params["w"], [1.0, 2.0])                   # inputs untouched
    new32 = sgd.sgd_update({"w": np.ones(2, np.float32)}, {"w": np.ones(2)}, 0.5)
    assert new32["w"].dtype == np.float32


def test_sgd_update_errors():
    p = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="keys"):
        sgd.sgd_update(p, {"v": np.zeros(2)}, 0.1)
    with pytest.raises(ValueError, match="shape"):
        sgd.sgd_update(p, {"w": np.zeros(3)}, 0.1)
    with pytest.raises(ValueError, match="lr"):
        sgd.sgd_update(p, {"w": np.zeros(2)}, -1.0)
    with pytest.raises(TypeError, match="lr"):
        sgd.sgd_update(p, {"w": np.zeros(2)}, "fast")
    with pytest.raises(ValueError, match="NaN"):
        sgd.sgd_update(p, {"w": np.array([np.nan, 0.0])}, 0.1)
    with pytest.raises(TypeError, match="dicts"):
        sgd.sgd_update([0.0], {"w": np.zeros(2)}, 0.1)


def test_train_reaches_the_least_squares_solution():
    x, y, w_true = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    params, history = sgd.train(loss_and_grads, start, x, y, epochs=60, batch_size=8, lr=0.1, seed=1)
    assert_allclose(params["w"], w_true, atol=1e-6)
    assert float(params["c"]) == pytest.approx(0.3, abs=1e-6)
    assert len(history["step_loss"]) == 60 * 8                       # ceil(60 / 8) = 8 batches
    assert history["epoch"] == list(range(61))
    assert history["step_loss"][-1] < 1e-10 < history["step_loss"][0]
    assert not start["w"].any()                                      # the start is not modified


def test_train_is_deterministic_and_seed_dependent():
    x, y, _ = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    a = sgd.train(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=3)
    b = sgd.train(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=3)
    c = sgd.train(loss_and_grads, start, x, y, epochs=2, batch_size=7, lr=0.05, seed=4)
    assert_array_equal(a[0]["w"], b[0]["w"])
    assert a[1]["step_loss"] == b[1]["step_loss"]
    assert not np.array_equal(a[0]["w"], c[0]["w"])


def test_train_with_evaluate_records_every_epoch():
    x, y, _ = least_squares_problem()
    calls = []

    def evaluate(p):
        calls.append(p["w"].copy())
        r = x @ p["w"] + p["c"] - y
        return {"loss": float(np.mean(r ** 2) / 2), "accuracy": float(np.mean(np.abs(r) < 0.1))}

    _, history = sgd.train(loss_and_grads, {"w": np.zeros(3), "c": np.array(0.0)}, x, y,
                           epochs=3, batch_size=60, lr=0.5, evaluate=evaluate)
    assert len(calls) == 4 and not calls[0].any()
    assert len(history["val_loss"]) == len(history["val_acc"]) == 4
    assert history["val_loss"][0] > history["val_loss"][-1]


def test_train_errors():
    x, y, _ = least_squares_problem()
    start = {"w": np.zeros(3), "c": np.array(0.0)}
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(FloatingPointError, match="too large"):
        sgd.train(loss_and_grads, start, x * 1e3, y, epochs=30, batch_size=10, lr=10.0)
    with pytest.raises(ValueError, match="epochs"):
        sgd.train(loss_and_grads, start, x, y, epochs=0, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="batch_size"):
        sgd.train(loss_and_grads, start, x, y, epochs=1, batch_size=2.5, lr=0.1)
    with pytest.raises(ValueError, match="one entry per image"):
        sgd.train(loss_and_grads, start, x, y[:-1], epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(ValueError, match="non-empty"):
        sgd.train(loss_and_grads, start, x[:0], y[:0], epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="callable"):
        sgd.train("grads", start, x, y, epochs=1, batch_size=10, lr=0.1)
    with pytest.raises(TypeError, match="evaluate"):
        sgd.train(loss_and_grads, start, x, y, epochs=1, batch_size=10, lr=0.1, evaluate=3)
    with pytest.raises(ValueError, match="seed"):
        sgd.train(loss_and_grads, start, x, y, epochs=1, batch_size=10, lr=0.1, seed=-1)
    with pytest.raises(TypeError, match="dict"):
        sgd.train(loss_and_grads, [start], x, y, epochs=1, batch_size=10, lr=0.1)
