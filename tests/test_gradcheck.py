"""Tests for helpers.gradcheck on functions whose derivatives are known in closed form."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from helpers import gradcheck as gc


# --------------------------------------------------------------------------------------------
# relative_error
# --------------------------------------------------------------------------------------------
def test_relative_error_hand_numbers():
    # entries: |1 - 1.1| / 2.1, |2 - 2| / 4 = 0, |-3 - 3| / 6 = 1; the maximum is reported
    assert gc.relative_error([1.0, 2.0], [1.1, 2.0]) == pytest.approx(0.1 / 2.1, rel=1e-12)
    assert gc.relative_error([1.0, 2.0, -3.0], [1.1, 2.0, 3.0]) == 1.0
    assert gc.relative_error(np.array([[1e-3]]), np.array([[1.001e-3]])) == pytest.approx(1e-6 / 2.001e-3, rel=1e-9)


def test_relative_error_floor_for_zeros():
    # both zero: 0 / max(1e-12, 0) = 0, not NaN
    assert gc.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # tiny values are divided by 1e-12, not by their own size
    assert gc.relative_error([1e-14], [0.0]) == pytest.approx(1e-2, rel=1e-12)
    assert gc.relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_relative_error_is_symmetric_and_returns_a_float():
    a, n = np.array([0.3, -1.0, 5.0]), np.array([0.31, -1.2, 5.0])
    assert gc.relative_error(a, n) == gc.relative_error(n, a)
    assert type(gc.relative_error(a, n)) is float


def test_relative_error_shape_mismatch():
    with pytest.raises(ValueError, match=r"analytic has shape \(3,\) but numeric has shape \(1, 3\)"):
        gc.relative_error(np.ones(3), np.ones((1, 3)))


def test_relative_error_norm_hand_numbers():
    # ||a - n|| = ||(0, 0.3, 0.4)|| = 0.5; ||a|| = ||(3, 4, 0)|| = 5, ||n|| = ||(3, 4.3, 0.4)||
    a, n = np.array([3.0, 4.0, 0.0]), np.array([3.0, 4.3, 0.4])
    assert gc.relative_error_norm(a, n) == pytest.approx(0.5 / (5.0 + math.sqrt(9 + 4.3 ** 2 + 0.16)), rel=1e-12)
    assert gc.relative_error_norm(np.zeros(4), np.zeros(4)) == 0.0
    with pytest.raises(ValueError, match=r"analytic has shape \(2,\) but numeric has shape \(3,\)"):
        gc.relative_error_norm(np.ones(2), np.ones(3))


def test_norm_error_is_not_dominated_by_one_tiny_entry():
    a = np.array([1.0, 2.0, 1e-9])
    n = np.array([1.0, 2.0, 1.1e-9])  # only the tiny entry is off, by 10 %
    assert gc.relative_error(a, n) == pytest.approx(0.1e-9 / 2.1e-9, rel=1e-9)
    assert gc.relative_error_norm(a, n) < 1e-10


# --------------------------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------------------------
def test_numerical_gradient_of_sum_of_cubes():
    x = np.random.default_rng(0).normal(size=(3, 4))
    before = x.copy()
    grad = gc.numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    assert_allclose(grad, 3 * before ** 2, rtol=1e-8, atol=1e-10)
    assert_array_equal(x, before)  # every entry is restored exactly
    assert grad.shape == x.shape and grad.dtype == np.float64


def test_numerical_gradient_error_is_of_order_h_squared():
    """For x^3 the central difference is exactly 3x^2 + h^2, a check of the formula itself."""
    x = np.array([0.5, 2.0])
    for h in (1e-2, 1e-3):
        grad = gc.numerical_gradient(lambda: float(np.sum(x ** 3)), x, h=h)
        assert_allclose(grad - 3 * x ** 2, h ** 2, rtol=1e-4)


def test_numerical_gradient_of_a_coupled_function():
    # f(A) = sum(sin(A @ B)) has gradient cos(A @ B) @ B^T
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    grad = gc.numerical_gradient(lambda: float(np.sum(np.sin(A @ B))), A)
    assert_allclose(grad, np.cos(A @ B) @ B.T, rtol=1e-7, atol=1e-9)


def test_numerical_gradient_indices_restrict_the_work():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    calls = []

    def f():
        calls.append(1)
        return float(np.sum(x ** 2))

    grad = gc.numerical_gradient(f, x, indices=[(0, 1), (1, 2)])
    assert len(calls) == 4
    expected = np.zeros((2, 3))
    expected[0, 1], expected[1, 2] = 4.0, 12.0
    assert_allclose(grad, expected, rtol=1e-8, atol=0)


@pytest.mark.parametrize("arr", [np.ones(3, dtype=np.float32), [1.0, 2.0], np.ones(3, dtype=int)])
def test_numerical_gradient_needs_a_float64_array(arr):
    with pytest.raises(TypeError, match="arr must be a float64 numpy array"):
        gc.numerical_gradient(lambda: 0.0, arr)


# --------------------------------------------------------------------------------------------
# numerical_gradients and gradient_check over a dict
# --------------------------------------------------------------------------------------------
def _quadratic_problem():
    """L(W, b) = 1/2 |W x + b - t|^2 with gradients r x^T and r, r = W x + b - t."""
    rng = np.random.default_rng(2)
    x, t = rng.normal(size=4), rng.normal(size=3)
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=3)}

    def loss(p):
        r = p["W"] @ x + p["b"] - t
        return 0.5 * float(r @ r)

    r = params["W"] @ x + params["b"] - t
    return loss, params, {"W": np.outer(r, x), "b": r}


def test_numerical_gradients_over_a_dict():
    loss, params, exact = _quadratic_problem()
    originals = {k: v.copy() for k, v in params.items()}
    numeric = gc.numerical_gradients(loss, params)
    assert set(numeric) == {"W", "b"}
    for key in params:
        assert_allclose(numeric[key], exact[key], rtol=1e-7, atol=1e-9)
        assert_array_equal(params[key], originals[key])  # the caller's arrays are untouched


def test_numerical_gradients_work_in_float64_even_for_float32_params():
    loss, params, exact = _quadratic_problem()
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    seen = []

    def spy(p):
        seen.append({k: v.dtype for k, v in p.items()})
        return loss(p)

    numeric = gc.numerical_gradients(spy, p32)
    assert all(d == {"W": np.float64, "b": np.float64} for d in seen)
    assert numeric["W"].dtype == np.float64


def test_gradient_check_accepts_the_right_gradient():
    loss, params, exact = _quadratic_problem()
    errors = gc.gradient_check(loss, params, exact)
    assert set(errors) == {"W", "b"}
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda g: {"W": g["W"].T.reshape(g["W"].shape), "b": g["b"]},  # wrong layout
        lambda g: {"W": g["W"], "b": 2 * g["b"]},  # forgot a factor
        lambda g: {"W": g["W"], "b": -g["b"]},  # wrong sign
    ],
)
def test_gradient_check_reports_a_wrong_gradient(corrupt):
    loss, params, exact = _quadratic_problem()
    errors = gc.gradient_check(loss, params, corrupt(exact))
    assert max(errors.values()) > 1e-2


def test_gradient_check_of_a_cube_with_the_derivative_of_a_square():
    x = {"x": np.array([0.5, -1.5, 2.0])}
    errors = gc.gradient_check(lambda p: float(np.sum(p["x"] ** 3)), x, {"x": 2 * x["x"]})
    # entry by entry |2x - 3x^2| / (|2x| + 3x^2): 0.1/1.75, 9.75/9.75, 8/16
    assert errors["x"] == pytest.approx(1.0, rel=1e-6)


@pytest.mark.parametrize("measure", ["max", "norm"])
def test_gradient_check_measures(measure):
    loss, params, exact = _quadratic_problem()
    assert max(gc.gradient_check(loss, params, exact, measure=measure).values()) < 1e-7
    wrong = {"W": exact["W"], "b": 2 * exact["b"]}
    errors = gc.gradient_check(loss, params, wrong, measure=measure)
    assert errors["b"] == pytest.approx(1 / 3, rel=1e-5)  # |2r - r| / (|2r| + |r|) entrywise and in norm
    assert errors["W"] < 1e-7


def test_gradient_check_unknown_measure():
    loss, params, exact = _quadratic_problem()
    with pytest.raises(ValueError, match="measure must be 'max' or 'norm', got 'mean'"):
        gc.gradient_check(loss, params, exact, measure="mean")


def test_gradient_check_missing_key():
    loss, params, exact = _quadratic_problem()
    with pytest.raises(ValueError, match=r"analytic gradients are missing keys \['b'\]"):
        gc.gradient_check(loss, params, {"W": exact["W"]})


@pytest.mark.parametrize("err, text", [(0.0, "0"), (3.2e-9, "1e-9"), (1e-7, "1e-7"), (0.99, "1e-1"),
                                       (1.0, "1e0"), (12.0, "1e1")])
def test_order(err, text):
    assert gc.order(err) == text


@pytest.mark.parametrize("bad", [-1e-3, float("nan"), float("inf")])
def test_order_rejects_what_has_no_order(bad):
    with pytest.raises(ValueError, match="finite number >= 0"):
        gc.order(bad)


def test_report_passes_a_right_gradient_and_fails_a_wrong_one(capsys):
    loss, params, exact = _quadratic_problem()
    numeric = gc.numerical_gradients(loss, params)
    assert gc.report("dW", exact["W"], numeric["W"]) is True
    assert gc.report("db, doubled", 2 * exact["b"], numeric["b"]) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["dW", "rel.", "error", "<", "1e-7", "ok"]
    # |2r - r| / (|2r| + |r|) = 1/3 whatever r is
    assert lines[1].split() == ["db,", "doubled", "rel.", "error", "1e-1", "WRONG"]


def test_report_tolerance_is_the_pass_mark(capsys):
    a, n = np.array([1.0, 0.0]), np.array([1.0, 1e-5])           # error 1e-5 / (1 + 1e-5)
    assert gc.report("x", a, n, tol=1e-4) and not gc.report("x", a, n, tol=1e-6)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[-3:] == ["<", "1e-4", "ok"] and out[1].split()[-2:] == ["1e-6", "WRONG"]


def test_report_gradients_every_tensor(capsys):
    loss, params, exact = _quadratic_problem()
    assert gc.report_gradients(loss, params, exact, prefix="quad ")
    assert not gc.report_gradients(loss, params, {"W": exact["W"], "b": -exact["b"]})
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out[:2]] == [["quad", "W"], ["quad", "b"]]
    assert out[2].endswith("ok") and out[3].endswith("WRONG")
    with pytest.raises(ValueError, match=r"missing keys \['b'\]"):
        gc.report_gradients(loss, params, {"W": exact["W"]})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
@pytest.mark.parametrize("where", ["analytic", "numeric"])
def test_report_calls_a_gradient_that_is_not_finite_wrong(bad, where, capsys):
    good = np.array([1.0, 2.0, 3.0])
    broken = good.copy()
    broken[1] = bad
    args = (broken, good) if where == "analytic" else (good, broken)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on stderr (notebooks compare it)
        assert gc.report("dW", *args) is False
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.split()[0] == "dW" and "not finite" in line and line.endswith("WRONG")
