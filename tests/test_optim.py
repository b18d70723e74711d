"""Tests for helpers.optim: the SGD update (Zhang eqs. 65-70) on the seed network's six tensors
and on any dict of arrays, CS231n's ``sgd(w, dw, config)``, the learning-rate schedule and the
check of a rate against the training dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from helpers import network, optim

KEYS = list(network.PARAM_SHAPES)


def hand_params(dtype=np.float64):
    """Parameters whose entries are 0, 1, 2, ... scaled, so every entry is distinct."""
    params, start = {}, 0
    for key, shape in network.PARAM_SHAPES.items():
        size = int(np.prod(shape))
        params[key] = (np.arange(start, start + size, dtype=np.float64).reshape(shape) / 100).astype(dtype)
        start += size
    return params


# --------------------------------------------------------------------------------------------
# sgd_step on the seed network
# --------------------------------------------------------------------------------------------
def test_sgd_step_hand_numbers():
    params = hand_params()
    grads = {key: np.full(shape, 0.5) for key, shape in network.PARAM_SHAPES.items()}
    grads["b1"] = np.array([1.0, -2.0, 0.0, 4.0, 0.25, -0.5])
    before = {key: val.copy() for key, val in params.items()}
    new = optim.sgd_step(params, grads, lr=0.1)
    # eq. 66 entry by entry: b1 = [1.50, 1.51, ...] (k1 holds the first 150 numbers) minus 0.1 * grads
    assert_allclose(new["b1"], [1.50 - 0.1, 1.51 + 0.2, 1.52, 1.53 - 0.4, 1.54 - 0.025, 1.55 + 0.05])
    assert new["k1"][0, 0, 0] == pytest.approx(0.0 - 0.05)  # eq. 65, first entry
    assert new["b"][-1] == pytest.approx(3897 / 100 - 0.05)  # eq. 70, the 3898th number
    for key in ("k2", "b2", "W"):  # eqs. 67-69
        assert_allclose(new[key], before[key] - 0.05)
    for key in KEYS:  # inputs untouched, new arrays returned
        assert_array_equal(params[key], before[key])
        assert new[key] is not params[key]


def test_sgd_step_keeps_float32():
    params = hand_params(np.float32)
    grads = {key: np.ones(shape, np.float32) for key, shape in network.PARAM_SHAPES.items()}
    new = optim.sgd_step(params, grads, 0.3)
    assert all(new[key].dtype == np.float32 for key in KEYS)
    assert_allclose(new["W"], params["W"] - np.float32(0.3), rtol=0, atol=1e-6)


@pytest.mark.parametrize("change, error", [
    (lambda g: g.pop("W"), ValueError),
    (lambda g: g.update(extra=np.zeros(1)), ValueError),
    (lambda g: g.update(k2=np.zeros((12, 6, 5, 5))), ValueError),
    (lambda g: g.update(b=np.full(10, np.nan)), ValueError),
    (lambda g: g.update(b=np.arange(10)), TypeError),
])
def test_sgd_step_rejects_bad_grads(change, error):
    params = network.init_params(0)
    grads = {key: np.zeros(shape) for key, shape in network.PARAM_SHAPES.items()}
    change(grads)
    with pytest.raises(error):
        optim.sgd_step(params, grads, 0.1)


@pytest.mark.parametrize("lr, error", [(0, ValueError), (-1, ValueError), (math.inf, ValueError),
                                       ("1", TypeError), (True, TypeError)])
def test_sgd_step_rejects_bad_lr(lr, error):
    params = network.init_params(0)
    grads = {key: np.zeros(shape) for key, shape in network.PARAM_SHAPES.items()}
    with pytest.raises(error, match="lr"):
        optim.sgd_step(params, grads, lr)


def test_learning_rates():
    assert optim.learning_rates(2.0, 3) == [2.0, 2.0, 2.0]
    assert_allclose(optim.learning_rates(2.0, 4, 0.5), [2.0, 1.0, 0.5, 0.25])
    with pytest.raises(ValueError, match="lr_decay"):
        optim.learning_rates(1.0, 3, 1.5)
    with pytest.raises(ValueError, match="epochs"):
        optim.learning_rates(1.0, 0)


# --------------------------------------------------------------------------------------------
# sgd_step on any dict
# --------------------------------------------------------------------------------------------
def test_sgd_step_on_any_dict_is_theta_minus_lr_grad_and_copies():
    params = {"w": np.array([1.0, 2.0]), "c": np.array(0.5)}
    grads = {"w": np.array([0.5, -1.0]), "c": np.array(2.0)}
    new = optim.sgd_step(params, grads, 0.1)
    assert_allclose(new["w"], [0.95, 2.1])
    assert new["c"].shape == () and float(new["c"]) == pytest.approx(0.3)
    assert_array_equal(params["w"], [1.0, 2.0])                   # inputs untouched
    new32 = optim.sgd_step({"w": np.ones(2, np.float32)}, {"w": np.ones(2)}, 0.5)
    assert new32["w"].dtype == np.float32


def test_sgd_step_on_any_dict_errors():
    p = {"w": np.zeros(2)}
    with pytest.raises(ValueError, match="keys"):
        optim.sgd_step(p, {"v": np.zeros(2)}, 0.1)
    with pytest.raises(ValueError, match="shape"):
        optim.sgd_step(p, {"w": np.zeros(3)}, 0.1)
    with pytest.raises(ValueError, match="lr"):
        optim.sgd_step(p, {"w": np.zeros(2)}, -1.0)
    with pytest.raises(TypeError, match="lr"):
        optim.sgd_step(p, {"w": np.zeros(2)}, "fast")
    with pytest.raises(ValueError, match="NaN"):
        optim.sgd_step(p, {"w": np.array([np.nan, 0.0])}, 0.1)
    with pytest.raises(TypeError, match="dict"):
        optim.sgd_step([0.0], {"w": np.zeros(2)}, 0.1)


# --------------------------------------------------------------------------------------------
# sgd(w, dw, config), CS231n style
# --------------------------------------------------------------------------------------------
def test_sgd_one_array_with_a_config():
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    next_w, config = optim.sgd(w, np.ones((2, 2)), {"learning_rate": 0.5})
    assert_array_equal(next_w, w - 0.5)
    assert config == {"learning_rate": 0.5} and next_w is not w
    next_w, config = optim.sgd(w, np.ones((2, 2)))
    assert config["learning_rate"] == 1e-2  # CS231n's default
    w32 = np.ones(3, np.float32)
    assert optim.sgd(w32, np.ones(3), {"learning_rate": 0.25})[0].dtype == np.float32
    with pytest.raises(ValueError, match="shape"):
        optim.sgd(w, np.ones(4), {"learning_rate": 0.1})
    with pytest.raises(TypeError, match="config"):
        optim.sgd(w, np.ones((2, 2)), 0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        optim.sgd(w, np.ones((2, 2)), {"learning_rate": -1.0})


def test_sgd_step_is_sgd_on_every_tensor():
    params, grads = hand_params(np.float32), {k: np.full(s, 0.25) for k, s in network.PARAM_SHAPES.items()}
    new = optim.sgd_step(params, grads, 0.3)
    for key in KEYS:
        assert_array_equal(new[key], optim.sgd(params[key], grads[key], {"learning_rate": 0.3})[0])


# --------------------------------------------------------------------------------------------
# issue 14, fault 7: the learning rate is checked against the training dtype
# --------------------------------------------------------------------------------------------
def test_a_rate_that_overflows_float32_is_refused_and_named():
    params = network.init_params(0, np.float32)
    grads = {key: np.zeros(shape, np.float32) for key, shape in network.PARAM_SHAPES.items()}
    with np.errstate(all="raise"), pytest.raises(ValueError, match=r"lr = 1e\+39 overflows float32") as info:
        optim.sgd_step(params, grads, 1e39)
    assert "k1" not in str(info.value)
    assert optim.check_lr(1e39, np.float64) == 1e39  # fine in float64
    with pytest.raises(ValueError, match="rounds to 0 in float32"):
        optim.check_lr(1e-50, np.float32)
    with pytest.raises(ValueError, match="overflows float32"):
        optim.sgd(np.ones(2, np.float32), np.ones(2), {"learning_rate": 1e39})


# --------------------------------------------------------------------------------------------
# issue 14, fault 6: the schedule is computed when asked, not listed up front
# --------------------------------------------------------------------------------------------
def test_lr_schedule_is_lazy_and_matches_learning_rates():
    rate = optim.lr_schedule(2.0, 0.5)
    assert [rate(e) for e in (1, 2, 3, 4)] == optim.learning_rates(2.0, 4, 0.5) == [2.0, 1.0, 0.5, 0.25]
    assert optim.lr_schedule(2.5)(10 ** 9) == 2.5  # any epoch, nothing built
    assert optim.lr_schedule(1.0, 0.9)(10 ** 9) == 0.0  # underflows: the loop refuses it before training
    with pytest.raises(ValueError, match="lr_decay"):
        optim.lr_schedule(1.0, 1.5)
    with pytest.raises(TypeError, match="lr"):
        optim.lr_schedule("1")
