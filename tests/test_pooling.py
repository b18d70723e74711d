"""Tests for helpers.pooling against list-based references (tests/refimpl.py), seed 004's max-pool
example, the tie rule, and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import refimpl as R
from helpers import pooling as pl

TOL = dict(rtol=1e-12, atol=1e-12)


def run_all(x, dout, size, stride, mode):
    """(forward, backward) from the naive functions, the vectorized ones and the dispatchers."""
    fwd_fast, cache = (pl.avgpool_forward if mode == "avg" else pl.maxpool_forward)(x, size, stride)
    back_fast = (pl.avgpool_backward if mode == "avg" else pl.maxpool_backward)(dout, cache)
    fwd_disp, cache_disp = pl.pool_forward(x, size, stride, mode)
    back_disp = pl.pool_backward(dout, cache_disp)
    fwd_naive = pl.pool_forward_naive(x, size, stride, mode)
    back_naive = pl.pool_backward_naive(dout, x, size, stride, mode)
    return [("fast", fwd_fast, back_fast), ("dispatch", fwd_disp, back_disp), ("naive", fwd_naive, back_naive)]


# --------------------------------------------------------------------------------------------
# seed 004's example and the tie rule
# --------------------------------------------------------------------------------------------
SEED004_X = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=float)
SEED004_DOUT = np.array([[2, 8], [4, 6]], dtype=float)
# The window maxima are 9 at (1, 1), 2 at (0, 2), 6 at (3, 1) and 3 at (2, 3), so each error
# value lands on that cell: seed 004, slide 2.1.
SEED004_ROUTED = np.array([[0, 0, 8, 0], [0, 2, 0, 0], [0, 0, 0, 6], [0, 4, 0, 0]], dtype=float)


def test_seed004_max_pool_routing():
    for name, fwd, back in run_all(SEED004_X, SEED004_DOUT, 2, 2, "max"):
        assert_array_equal(fwd, [[9, 2], [6, 3]], err_msg=name)
        assert_array_equal(back, SEED004_ROUTED, err_msg=name)
    assert_array_equal(R.pool_ref(SEED004_X, SEED004_DOUT, 2, 2, "max")[1], SEED004_ROUTED)


def test_seed004_example_with_average_pooling_spreads_a_quarter():
    for name, fwd, back in run_all(SEED004_X, SEED004_DOUT, 2, 2, "avg"):
        assert_array_equal(fwd, [[15 / 4, 5 / 4], [15 / 4, 8 / 4]], err_msg=name)
        assert_array_equal(back, [[0.5, 0.5, 2, 2], [0.5, 0.5, 2, 2], [1, 1, 1.5, 1.5], [1, 1, 1.5, 1.5]], err_msg=name)


def test_zhang_eq32_upsampling_one_based():
    """Zhang eq. 32, 1-based: dC(i, j) = 1/4 dS(ceil(i/2), ceil(j/2)) on an 8x8 map."""
    rng = np.random.default_rng(32)
    dS = rng.normal(size=(4, 4))
    C = rng.normal(size=(8, 8))
    expected = np.array([[0.25 * dS[-(-i // 2) - 1, -(-j // 2) - 1] for j in range(1, 9)] for i in range(1, 9)])
    for name, _, back in run_all(C, dS, 2, 2, "avg"):
        assert_allclose(back, expected, err_msg=name, **TOL)


TIE_CASES = [
    # window, the cell (u, v) that must receive the gradient
    (np.array([[5.0, 5.0], [5.0, 5.0]]), (0, 0)),
    (np.array([[1.0, 7.0], [7.0, 7.0]]), (0, 1)),
    (np.array([[1.0, 2.0], [7.0, 7.0]]), (1, 0)),
    (np.array([[-3.0, -1.0, -1.0], [-1.0, -2.0, -5.0], [-1.0, -1.0, -9.0]]), (0, 1)),
    (np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 4.0], [4.0, 0.0, 4.0]]), (1, 2)),
]


@pytest.mark.parametrize("window, winner", TIE_CASES)
def test_max_pool_ties_go_to_the_first_maximum_in_row_major_order(window, winner):
    size = window.shape[0]
    expected = np.zeros_like(window)
    expected[winner] = 3.0
    for name, fwd, back in run_all(window, np.array([[3.0]]), size, size, "max"):
        assert_array_equal(fwd, [[window.max()]], err_msg=name)
        assert_array_equal(back, expected, err_msg=name)


def test_overlapping_windows_accumulate():
    """A 3x3 map whose centre is the largest: with 2x2 windows and stride 1 the centre is the
    maximum of all four windows and collects the sum of their errors."""
    x = np.array([[0.0, 1.0, 0.0], [2.0, 9.0, 3.0], [0.0, 4.0, 0.0]])
    dout = np.array([[1.0, 10.0], [100.0, 1000.0]])
    for name, fwd, back in run_all(x, dout, 2, 1, "max"):
        assert_array_equal(fwd, np.full((2, 2), 9.0), err_msg=name)
        expected = np.zeros((3, 3))
        expected[1, 1] = 1111.0
        assert_array_equal(back, expected, err_msg=name)
    for name, _, back in run_all(x, dout, 2, 1, "avg"):
        expected = np.array([[1, 11, 10], [101, 1111, 1010], [100, 1100, 1000]]) / 4.0
        assert_allclose(back, expected, err_msg=name, **TOL)


def test_ties_in_overlapping_windows_each_pick_their_own_first_maximum():
    x = np.full((3, 3), 2.0)
    dout = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 0.0]])  # each window's top-left
    for name, _, back in run_all(x, dout, 2, 1, "max"):
        assert_array_equal(back, expected, err_msg=name)


def test_uncovered_rows_and_columns_get_zero_gradient():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 5))  # 2x2 windows with stride 2 never reach row 6 or column 4
    dout = rng.normal(size=(3, 2))
    for mode in ("avg", "max"):
        for name, fwd, back in run_all(x, dout, 2, 2, mode):
            assert fwd.shape == (3, 2)
            assert not back[6].any() and not back[:, 4].any(), (mode, name)


# --------------------------------------------------------------------------------------------
# naive == vectorized == reference, any window and stride
# --------------------------------------------------------------------------------------------
POOL_CASES = [
    # (shape, size, stride)
    ((4, 4), 2, None),
    ((2, 3, 8, 8), 2, 2),
    ((6, 6), 3, 3),
    ((7, 9), 3, 2),  # overlapping, uneven
    ((5, 5), 2, 1),  # overlapping
    ((6, 7), 2, 3),  # gaps between windows
    ((3, 5, 5), 5, 1),
    ((1, 4, 6), 1, 1),
    ((9, 4), 4, 1),
]


@pytest.mark.parametrize("mode", pl.MODES)
@pytest.mark.parametrize("shape, size, stride", POOL_CASES)
def test_pooling_naive_vectorized_reference(shape, size, stride, mode):
    rng = np.random.default_rng([len(shape), *shape, size, stride or 0, len(mode)])
    x = rng.normal(size=shape)
    s = size if stride is None else stride
    ho, wo = len(R.positions(shape[-2], size, 0, s)), len(R.positions(shape[-1], size, 0, s))
    assert pl.pool_output_shape(shape[-2], shape[-1], size, stride) == (ho, wo)
    dout = rng.normal(size=shape[:-2] + (ho, wo))
    ref_out, ref_dx = R.pool_ref_nd(x, dout, size, s, mode)
    for name, fwd, back in run_all(x, dout, size, stride, mode):
        assert_allclose(fwd, ref_out, err_msg=name, **TOL)
        assert_allclose(back, ref_dx, err_msg=name, **TOL)


@pytest.mark.parametrize("h, w, size, stride, expected", [
    (24, 24, 2, None, (12, 12)), (8, 8, 2, 2, (4, 4)), (5, 7, 2, 2, (2, 3)),
    (5, 5, 3, 1, (3, 3)), (7, 7, 3, 2, (3, 3)), (4, 4, 4, None, (1, 1)), (6, 9, 2, 3, (2, 3)),
])
def test_pool_output_shape_table(h, w, size, stride, expected):
    assert pl.pool_output_shape(h, w, size, stride) == expected
    assert pl.avgpool_forward(np.zeros((h, w)), size, stride)[0].shape == expected


def test_float32_preserved():
    x = np.random.default_rng(4).normal(size=(2, 6, 6)).astype(np.float32)
    for mode in pl.MODES:
        for stride in (2, 1):
            dout = np.ones(pl.pool_output_shape(6, 6, 2, stride), np.float32)[None].repeat(2, axis=0)
            for name, fwd, back in run_all(x, dout, 2, stride, mode):
                assert fwd.dtype == np.float32 and back.dtype == np.float32, (mode, stride, name)


def test_pool_backward_accepts_the_cache_of_either_specific_forward():
    rng = np.random.default_rng(5)
    x, dout = rng.normal(size=(5, 5)), rng.normal(size=(2, 2))
    for forward, backward, mode in ((pl.avgpool_forward, pl.avgpool_backward, "avg"),
                                    (pl.maxpool_forward, pl.maxpool_backward, "max")):
        _, cache = forward(x, 3, 2)
        assert_array_equal(pl.pool_backward(dout, cache), backward(dout, cache))
        assert_allclose(pl.pool_backward(dout, cache), R.pool_ref(x, dout, 3, 2, mode)[1], **TOL)


def _error_calls():
    x = np.ones((4, 4))
    _, avg_cache = pl.avgpool_forward(x)
    _, max_cache = pl.maxpool_forward(x)
    calls = []
    for fwd in (pl.avgpool_forward, pl.maxpool_forward, lambda *a: pl.pool_forward_naive(*a)):
        calls += [
            (lambda f=fwd: f(np.ones(4), 2), ValueError, r"x must have shape \(\.\.\., H, W\)"),
            (lambda f=fwd: f(np.ones((3, 3)), 4), ValueError, "does not fit"),
            (lambda f=fwd: f(x, 0), ValueError, "size must be >= 1"),
            (lambda f=fwd: f(x, 2.0), TypeError, "size must be an integer"),
            (lambda f=fwd: f(x, 2, 0), ValueError, "stride must be >= 1"),
            (lambda f=fwd: f(np.ones((4, 4), dtype=np.uint8), 2), TypeError, "x must be a floating array.*255"),
            (lambda f=fwd: f(np.array([["a", "b"], ["c", "d"]]), 2), TypeError, "x must be a numeric"),
            (lambda f=fwd: f(np.full((4, 4), np.nan), 2), ValueError, "x contains NaN"),
        ]
    calls += [
        (lambda: pl.pool_forward(x, 2, mode="median"), ValueError, "mode must be one of"),
        (lambda: pl.pool_forward_naive(x, 2, mode="median"), ValueError, "mode must be one of"),
        (lambda: pl.pool_backward_naive(np.ones((2, 2)), x, 2, mode="sum"), ValueError, "mode must be one of"),
        (lambda: pl.avgpool_backward(np.ones((3, 3)), avg_cache), ValueError, r"dout must have shape \(2, 2\)"),
        (lambda: pl.maxpool_backward(np.ones((1, 2, 2)), max_cache), ValueError, r"dout must have shape \(2, 2\)"),
        (lambda: pl.pool_backward_naive(np.ones((2, 3)), x, 2, mode="max"), ValueError, r"dout must have shape \(2, 2\)"),
        (lambda: pl.maxpool_backward(np.full((2, 2), np.inf), max_cache), ValueError, "dout contains NaN or infinity"),
        (lambda: pl.avgpool_backward(np.ones((2, 2), dtype=int), avg_cache), TypeError, "dout must be a floating array"),
    ]
    return calls


@pytest.mark.parametrize("call, exc, match", _error_calls())
def test_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------------------------
# property tests
# --------------------------------------------------------------------------------------------
@st.composite
def pool_configs(draw):
    size = draw(st.integers(1, 4))
    stride = draw(st.integers(1, 4))
    H, W = draw(st.integers(size, size + 5)), draw(st.integers(size, size + 5))
    lead = tuple(draw(st.lists(st.integers(1, 2), max_size=2)))
    return lead + (H, W), size, stride, draw(st.sampled_from(pl.MODES)), draw(st.integers(0, 2**32 - 1))


def _distinct_values(rng, shape):
    """Entries at least 0.01 apart (a shuffled grid plus small noise): no ties, and a finite
    difference step of 1e-6 never changes which entry is a window's maximum."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.01 + rng.uniform(0, 0.001, n)).reshape(shape) - 0.005 * n


@settings(max_examples=60, deadline=None)
@given(pool_configs())
def test_property_naive_equals_vectorized(config):
    shape, size, stride, mode, seed = config
    rng = np.random.default_rng(seed)
    # integer-valued data makes ties frequent, so the tie rule is exercised as well
    x = rng.integers(-2, 3, size=shape).astype(float)
    ho, wo = pl.pool_output_shape(shape[-2], shape[-1], size, stride)
    dout = rng.normal(size=shape[:-2] + (ho, wo))
    ref_out, ref_dx = R.pool_ref_nd(x, dout, size, stride, mode)
    for name, fwd, back in run_all(x, dout, size, stride, mode):
        assert_allclose(fwd, ref_out, err_msg=name, **TOL)
        assert_allclose(back, ref_dx, err_msg=name, **TOL)


@settings(max_examples=40, deadline=None)
@given(pool_configs())
def test_property_gradient_matches_finite_differences(config):
    shape, size, stride, mode, seed = config
    rng = np.random.default_rng(seed)
    x = _distinct_values(rng, shape)
    out, cache = pl.pool_forward(x, size, stride, mode)
    G = rng.normal(size=out.shape)

    def loss():  # L = sum(G * S) + 1/2 sum(S^2), dL/dS = G + S
        s = pl.pool_forward(x, size, stride, mode)[0]
        return float(np.sum(G * s) + 0.5 * np.sum(s * s))

    analytic = pl.pool_backward(G + out, cache)
    numeric = R.central_diff(loss, x, h=1e-6)
    assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * (1 + np.abs(numeric).max()))
