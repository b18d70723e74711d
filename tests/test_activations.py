"""Tests for helpers.activations: values against direct formulas (math module, hand numbers),
no overflow or warnings at extreme inputs, dtype preservation, and derivatives by finite
differences."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import refimpl as R
from helpers import activations as act


@pytest.fixture
def strict_numpy():
    """Overflow, invalid operations and division by zero raise, and so does any warning.

    Underflow is left alone: e^-1000 is smaller than the smallest float, so rounding it to 0 is
    the correct result of any computation of sigmoid(-1000), and numpy does not warn about it.
    """
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# --------------------------------------------------------------------------------------------
# sigmoid
# --------------------------------------------------------------------------------------------
def test_sigmoid_matches_math_module():
    z = np.array([-30.0, -5.0, -1.0, -0.25, 0.0, 0.25, 1.0, 5.0, 30.0])
    expected = [1.0 / (1.0 + math.exp(-t)) for t in z]
    assert_allclose(act.sigmoid(z), expected, rtol=1e-15, atol=0)
    assert act.sigmoid(0.0) == 0.5


def test_sigmoid_extreme_inputs_do_not_overflow_or_warn(strict_numpy):
    z = np.array([-1e308, -1e30, -1000.0, -745.0, -710.0, 710.0, 1000.0, 1e30, 1e308, -np.inf, np.inf])
    s = act.sigmoid(z)
    assert np.all((s >= 0) & (s <= 1))
    assert_array_equal(s[[0, 1, 2, 9]], 0.0)
    assert_array_equal(s[[5, 6, 7, 8, 10]], 1.0)
    # far tails keep their relative precision: sigmoid(-700) = e^-700 / (1 + e^-700)
    assert_allclose(act.sigmoid(np.array([-700.0]))[0], math.exp(-700.0), rtol=1e-13)


def test_sigmoid_raises_nothing_at_all_while_the_result_is_representable():
    """Under np.errstate(all="raise"), even underflow: up to |z| = 700 in float64 and 80 in
    float32 every intermediate, e^-|z| included, is a normal number."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error")
        s = act.sigmoid(np.linspace(-700, 700, 1401))
        s32 = act.sigmoid(np.linspace(-80, 80, 161, dtype=np.float32))
    assert np.all(np.diff(s) >= 0) and s[0] > 0 and s[-1] == 1.0
    assert s32.dtype == np.float32 and np.all(np.diff(s32) >= 0)


def test_sigmoid_float32_extremes(strict_numpy):
    z = np.array([-200.0, -89.0, -88.0, 0.0, 88.0, 89.0, 200.0], dtype=np.float32)
    s = act.sigmoid(z)
    assert s.dtype == np.float32
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert_allclose(s, [1 / (1 + math.exp(-float(t))) for t in z], rtol=1e-6, atol=1e-45)


def test_sigmoid_symmetry_and_integer_input():
    z = np.linspace(-40, 40, 161)
    assert_allclose(act.sigmoid(-z), 1 - act.sigmoid(z), rtol=0, atol=3e-16)
    out = act.sigmoid(np.arange(-3, 4))
    assert out.dtype == np.float64
    assert_allclose(out, [1 / (1 + math.exp(-t)) for t in range(-3, 4)], rtol=1e-15)


def test_sigmoid_prime_is_the_derivative():
    z = np.linspace(-6, 6, 25)
    numeric = (act.sigmoid(z + 1e-6) - act.sigmoid(z - 1e-6)) / 2e-6
    assert_allclose(act.sigmoid_prime(act.sigmoid(z)), numeric, rtol=1e-7, atol=1e-9)
    assert act.sigmoid_prime(np.float32(0.5)).dtype == np.float32


# --------------------------------------------------------------------------------------------
# ReLU
# --------------------------------------------------------------------------------------------
def test_relu_and_its_derivative():
    z = np.array([-2.0, -0.0, 0.0, 1e-300, 3.5])
    assert_array_equal(act.relu(z), [0.0, 0.0, 0.0, 1e-300, 3.5])
    assert_array_equal(act.relu_prime(z), [0.0, 0.0, 0.0, 1.0, 1.0])  # 0 at the kink
    z32 = z.astype(np.float32)
    assert act.relu(z32).dtype == np.float32 and act.relu_prime(z32).dtype == np.float32
    assert act.relu_prime(np.array([-1, 2])).dtype == np.float64
    zz = np.array([-1.5, -0.3, 0.4, 2.0])
    numeric = (act.relu(zz + 1e-6) - act.relu(zz - 1e-6)) / 2e-6
    assert_allclose(act.relu_prime(zz), numeric, rtol=1e-9)


# --------------------------------------------------------------------------------------------
# softmax
# --------------------------------------------------------------------------------------------
def test_softmax_matches_the_direct_formula_for_moderate_logits():
    z = np.array([[0.5, -1.0, 2.0, 0.0], [3.0, 3.0, 3.0, 3.0]])
    for row, out in zip(z, act.softmax(z)):
        e = [math.exp(t) for t in row]
        assert_allclose(out, [t / sum(e) for t in e], rtol=1e-15)
    assert_allclose(act.softmax(z, axis=0)[:, 0], [math.exp(0.5) / (math.exp(0.5) + math.exp(3)),
                                                   math.exp(3) / (math.exp(0.5) + math.exp(3))], rtol=1e-15)


def test_softmax_large_logits(strict_numpy):
    s = act.softmax(np.array([1000.0, 1000.0, 0.0]))
    assert_allclose(s, [0.5, 0.5, 0.0], rtol=0, atol=1e-300)
    s = act.softmax(np.array([[1000.0, 999.0], [-1000.0, -1001.0]]))
    p = 1 / (1 + math.exp(-1))
    assert_allclose(s, [[p, 1 - p], [p, 1 - p]], rtol=1e-15)
    s32 = act.softmax(np.array([500.0, 0.0, -500.0], dtype=np.float32))
    assert s32.dtype == np.float32 and s32[0] == 1.0
    assert act.softmax(np.array([1, 2, 3])).dtype == np.float64


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=8), st.floats(-1e3, 1e3))
def test_property_softmax_is_a_distribution_and_shift_invariant(logits, shift):
    z = np.array(logits)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s = act.softmax(z)
        s_shift = act.softmax(z + shift)
    assert np.all(s >= 0) and abs(s.sum() - 1) < 1e-12
    assert s[z.argmax()] == s.max()
    assert_allclose(s, s_shift, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------------------------------------------
# losses
# --------------------------------------------------------------------------------------------
def test_squared_error_is_half_the_sum_of_squares():
    y_hat = np.array([0.2, 0.7, 0.1])
    y = np.array([0, 1, 0])
    assert act.squared_error(y_hat, y) == pytest.approx(0.5 * (0.04 + 0.09 + 0.01), rel=1e-15)
    batch = np.array([[0.2, 0.7, 0.1], [1.0, 0.0, 0.5]])
    Y = np.array([[0, 1, 0], [0, 0, 1]], dtype=float)
    per_image = [0.5 * (0.04 + 0.09 + 0.01), 0.5 * (1.0 + 0.0 + 0.25)]
    assert act.squared_error(batch, Y) == pytest.approx(sum(per_image) / 2, rel=1e-15)
    assert isinstance(act.squared_error(batch, Y), float)


def test_cross_entropy_hand_numbers():
    s = np.array([0.25, 0.5, 0.25])
    assert act.cross_entropy(s, np.array([0, 1, 0])) == pytest.approx(math.log(2), rel=1e-15)
    soft_target = np.array([0.5, 0.5, 0.0])
    assert act.cross_entropy(s, soft_target) == pytest.approx(-(0.5 * math.log(0.25) + 0.5 * math.log(0.5)), rel=1e-15)
    S = np.array([[0.25, 0.5, 0.25], [0.1, 0.1, 0.8]])
    Y = np.array([[0, 1, 0], [0, 0, 1]])
    assert act.cross_entropy(S, Y) == pytest.approx((math.log(2) - math.log(0.8)) / 2, rel=1e-15)


def test_cross_entropy_of_a_zero_probability_is_large_but_finite(strict_numpy):
    loss = act.cross_entropy(np.array([1.0, 0.0]), np.array([0.0, 1.0]))
    assert loss == pytest.approx(-math.log(1e-12), rel=1e-12)


def test_softmax_cross_entropy_loss_and_delta():
    z = np.array([[0.3, -1.2, 2.0, 0.1], [1.0, 1.0, -3.0, 0.5]])
    Y = np.array([[0, 0, 1, 0], [1, 0, 0, 0]], dtype=float)
    loss, delta = act.softmax_cross_entropy(z, Y)
    s = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert loss == pytest.approx(np.mean(-np.log(s[Y == 1])), rel=1e-14)
    assert_allclose(delta, (s - Y) / 2, rtol=1e-13, atol=1e-16)  # mean over the batch
    loss1, delta1 = act.softmax_cross_entropy(z[0], Y[0])
    assert loss1 == pytest.approx(-math.log(s[0, 2]), rel=1e-14)
    assert_allclose(delta1, s[0] - Y[0], rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("shape", [(5,), (3, 5)])
def test_softmax_cross_entropy_delta_by_finite_differences(shape):
    rng = np.random.default_rng(len(shape))
    z = rng.normal(scale=3, size=shape)
    y = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1]).reshape(shape)  # soft targets
    _, delta = act.softmax_cross_entropy(z, y)
    numeric = R.central_diff(lambda: act.softmax_cross_entropy(z, y)[0], z, h=1e-6)
    assert_allclose(delta, numeric, rtol=1e-7, atol=1e-10)
    # the same loss built from the two separate functions
    assert act.softmax_cross_entropy(z, y)[0] == pytest.approx(act.cross_entropy(act.softmax(z), y), rel=1e-12)


def test_softmax_cross_entropy_large_logits(strict_numpy):
    z = np.array([1000.0, 0.0, -1000.0])
    loss, delta = act.softmax_cross_entropy(z, np.array([0.0, 1.0, 0.0]))
    assert loss == pytest.approx(1000.0, rel=1e-15)
    assert_allclose(delta, [1.0, -1.0, 0.0], atol=1e-300)
    loss, _ = act.softmax_cross_entropy(z, np.array([1.0, 0.0, 0.0]))
    assert loss == 0.0


@pytest.mark.parametrize("fn", [act.squared_error, act.cross_entropy, act.softmax_cross_entropy])
@pytest.mark.parametrize(
    "y_hat, y, exc, match",
    [
        (np.ones(3), np.ones(4), ValueError, r"y must have the shape of y_hat \(3,\)"),
        (np.ones((2, 3)), np.ones(3), ValueError, r"y must have the shape of y_hat \(2, 3\)"),
        (np.ones((2, 2, 3)), np.ones((2, 2, 3)), ValueError, r"y_hat must have shape \(K,\) or \(N, K\)"),
        (np.array(["a", "b"]), np.ones(2), TypeError, "y_hat must be a numeric"),
        (np.ones(2, dtype=int), np.ones(2), TypeError, "y_hat must be a floating array"),
        (np.ones(2), np.array([True, False]), TypeError, "y must be a numeric"),
        (np.array([0.5, np.nan]), np.ones(2), ValueError, "y_hat contains NaN"),
        (np.ones(2), np.array([np.inf, 0.0]), ValueError, "y contains NaN or infinity"),
    ],
)
def test_loss_errors_name_the_argument(fn, y_hat, y, exc, match):
    with pytest.raises(exc, match=match):
        fn(y_hat, y)


# --------------------------------------------------------------------------------------------
# issue 15: the input dtype is kept explicitly (numpy 1.x promotes float32 scalars to float64)
# --------------------------------------------------------------------------------------------
FUNCTIONS = {"sigmoid": act.sigmoid, "sigmoid_prime": act.sigmoid_prime, "relu": act.relu,
             "relu_prime": act.relu_prime, "softmax": act.softmax}


@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("make", [lambda v: np.array(v, dtype=np.float32), np.float32],
                         ids=["0-d array", "scalar"])
def test_float32_0d_and_scalar_stay_float32(name, make):
    z = make(0.75) if name != "softmax" else np.array([0.75], dtype=np.float32)
    out = FUNCTIONS[name](z)
    assert out.dtype == np.float32, (name, out.dtype)
    assert np.shape(out) == np.shape(z)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_float32_arrays_stay_float32_and_float64_stays_float64(name):
    for dtype in (np.float32, np.float64):
        assert FUNCTIONS[name](np.linspace(-2, 2, 5, dtype=dtype)).dtype == dtype, (name, dtype)


# --------------------------------------------------------------------------------------------
# issue 14, item 13: inputs are checked as the package promises
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(FUNCTIONS))
@pytest.mark.parametrize("bad", [None, np.array([1 + 2j, 0.5]), np.array(["1", "2"]), "0.5",
                                 np.array([True, False])], ids=["None", "complex", "strings", "str", "bool"])
def test_non_real_inputs_raise_a_clear_type_error(name, bad):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning on the way to the error
        with pytest.raises(TypeError, match="must be a real numeric array"):
            FUNCTIONS[name](bad)


@pytest.mark.parametrize("z, axis", [(np.array([]), -1), (np.zeros((3, 0)), 1), (np.zeros((0, 4)), 0),
                                     (np.array(1.0), -1), (np.zeros((2, 3)), 2)])
def test_softmax_of_nothing_or_a_missing_axis_is_a_clear_error(z, axis):
    with pytest.raises(ValueError, match="softmax needs at least one logit along axis"):
        act.softmax(z, axis=axis)


def test_softmax_of_an_empty_batch_is_an_empty_batch():
    out = act.softmax(np.zeros((0, 10)), axis=1)
    assert out.shape == (0, 10) and out.dtype == np.float64
