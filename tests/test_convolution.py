"""Tests for helpers.convolution against independent computations (tests/refimpl.py, numpy's
1-D np.convolve / np.correlate, hand-written sums of seed 004, and finite differences)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import refimpl as R
from helpers import convolution as cv

RTOL, ATOL = 1e-12, 1e-12


# --------------------------------------------------------------------------------------------
# rot180, padding and the output-size formula
# --------------------------------------------------------------------------------------------
def test_rot180_reverses_rows_and_columns():
    k = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert_array_equal(cv.rot180(k), [[6.0, 5.0, 4.0], [3.0, 2.0, 1.0]])
    stack = np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2)
    out = cv.rot180(stack)
    for p in range(2):
        for q in range(3):
            assert_array_equal(out[p, q], [[stack[p, q, 1, 1], stack[p, q, 1, 0]], [stack[p, q, 0, 1], stack[p, q, 0, 0]]])
    assert_array_equal(cv.rot180(cv.rot180(stack)), stack)


def test_rot180_rejects_vectors():
    with pytest.raises(ValueError, match="k must have at least 2 dimensions"):
        cv.rot180(np.ones(3))


def test_pad2d_pads_only_the_last_two_axes():
    x = np.arange(6.0).reshape(1, 2, 3)
    xp = cv.pad2d(x, 1)
    assert xp.shape == (1, 4, 5)
    assert xp[0, 1:3, 1:4].tolist() == x[0].tolist()
    assert xp.sum() == x.sum() and xp[0, 0].tolist() == [0] * 5 and xp[0, :, 0].tolist() == [0] * 4
    assert_array_equal(cv.pad2d(x, 0), x)


# (n, f, p, s) -> floor((n + 2p - f) / s) + 1 (seed 004, slide 2.1); the expected values are
# typed in by hand and are also counted below as the number of window positions.
OUTPUT_SIZES = [
    (6, 3, 0, 1, 4),
    (6, 3, 1, 1, 6),  # "same" padding for a 3x3 filter
    (7, 3, 0, 2, 3),
    (7, 3, 1, 2, 4),
    (6, 3, 0, 2, 2),  # floor((6 - 3) / 2) + 1: the last column is never reached
    (5, 2, 0, 2, 2),
    (28, 5, 0, 1, 24),  # Zhang's C1
    (12, 5, 0, 1, 8),  # Zhang's C2
    (24, 2, 0, 2, 12),  # a 2x2 pooling window with stride 2
    (4, 4, 0, 1, 1),
    (3, 2, 1, 1, 4),  # seed 004's padded error map: 2x2 error, pad 1, 2x2 kernel -> 3x3
    (2, 2, 1, 1, 3),
    (1, 3, 1, 5, 1),
]


@pytest.mark.parametrize("n, f, p, s, expected", OUTPUT_SIZES)
def test_output_size_table(n, f, p, s, expected):
    assert cv.output_size(n, f, p, s) == expected
    assert len(R.positions(n, f, p, s)) == expected
    x = np.ones((n, n))
    assert cv.correlate2d(x, np.ones((f, f)), stride=s, padding=p).shape == (expected, expected)


@pytest.mark.parametrize(
    "args, exc, match",
    [
        ((3, 5, 0, 1), ValueError, "does not fit"),
        ((5, 3, -1, 1), ValueError, "padding must be >= 0"),
        ((5, 3, 0, 0), ValueError, "stride must be >= 1"),
        ((5.0, 3, 0, 1), TypeError, "n must be an integer"),
        ((5, True, 0, 1), TypeError, "f must be an integer"),
        ((5, 3, 0, 1.5), TypeError, "stride must be an integer"),
        ((0, 1, 0, 1), ValueError, "n must be >= 1"),
    ],
)
def test_output_size_errors(args, exc, match):
    with pytest.raises(exc, match=match):
        cv.output_size(*args)


# --------------------------------------------------------------------------------------------
# single maps: naive == vectorized == independent references
# --------------------------------------------------------------------------------------------
SINGLE_CASES = [
    # (H, W, kh, kw, stride, padding)
    (5, 5, 3, 3, 1, 0),
    (6, 7, 2, 3, 1, 0),
    (7, 6, 3, 2, 2, 0),
    (7, 7, 3, 3, 2, 1),
    (8, 5, 4, 2, 3, 2),
    (4, 4, 1, 1, 1, 0),
    (3, 3, 5, 5, 1, 2),
    (9, 9, 3, 3, 4, 1),
]


@pytest.mark.parametrize("H, W, kh, kw, stride, padding", SINGLE_CASES)
def test_correlate2d_naive_vectorized_and_dense_matrix_agree(H, W, kh, kw, stride, padding):
    rng = np.random.default_rng([H, W, kh, kw, stride, padding])
    x, k = rng.normal(size=(H, W)), rng.normal(size=(kh, kw))
    ref = R.correlate_ref(x, k, stride, padding)
    assert_allclose(cv.correlate2d_naive(x, k, stride=stride, padding=padding), ref, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.correlate2d(x, k, stride=stride, padding=padding), ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("H, W, f", [(5, 6, 1), (5, 6, 2), (4, 4, 3), (6, 3, 3), (2, 2, 4)])
def test_full_correlation_equals_zero_padding_by_f_minus_1(H, W, f):
    rng = np.random.default_rng([H, W, f, 1])
    x, k = rng.normal(size=(H, W)), rng.normal(size=(f, f))
    ref = R.correlate_ref(x, k, 1, f - 1)
    assert ref.shape == (H + f - 1, W + f - 1)
    assert_allclose(cv.correlate2d(x, k, mode="full"), ref, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.correlate2d_naive(x, k, mode="full"), ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("n, f", [(9, 1), (9, 4), (7, 3), (5, 5)])
def test_one_row_agrees_with_numpy_convolve_and_correlate(n, f):
    """A single row is a 1-D signal: numpy's own np.convolve / np.correlate are the reference."""
    rng = np.random.default_rng([n, f, 2])
    x, k = rng.normal(size=n), rng.normal(size=f)
    X, K = x[None, :], k[None, :]
    assert_allclose(cv.correlate2d(X, K)[0], np.correlate(x, k, "valid"), rtol=RTOL, atol=ATOL)
    assert_allclose(cv.correlate2d_naive(X, K)[0], np.correlate(x, k, "valid"), rtol=RTOL, atol=ATOL)
    assert_allclose(cv.convolve2d(X, K)[0], np.convolve(x, k, "valid"), rtol=RTOL, atol=ATOL)
    assert_allclose(cv.convolve2d_naive(X, K)[0], np.convolve(x, k, "valid"), rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("H, W, kh, kw", [(6, 6, 3, 3), (7, 5, 5, 5), (5, 8, 1, 1), (6, 6, 2, 2), (5, 6, 2, 4), (4, 4, 3, 1)])
def test_convolve2d_valid_matches_scatter_definition(H, W, kh, kw):
    rng = np.random.default_rng([H, W, kh, kw, 3])
    x, k = rng.normal(size=(H, W)), rng.normal(size=(kh, kw))
    ref = R.valid_convolution_scatter(x, k)
    assert_allclose(cv.convolve2d(x, k), ref, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.convolve2d_naive(x, k), ref, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("H, W, f", [(6, 6, 3), (4, 7, 5), (3, 3, 2), (5, 4, 1)])
def test_convolve2d_full_matches_scatter_definition(H, W, f):
    rng = np.random.default_rng([H, W, f, 4])
    x, k = rng.normal(size=(H, W)), rng.normal(size=(f, f))
    ref = R.full_convolution_scatter(x, k)
    assert_allclose(cv.convolve2d(x, k, mode="full"), ref, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.convolve2d_naive(x, k, mode="full"), ref, rtol=RTOL, atol=ATOL)


def test_convolution_flips_the_kernel_on_an_impulse():
    """A single 1 in the middle of zeros reproduces the kernel under convolution and its
    180-degree rotation under correlation: the difference between the two operations."""
    x = np.zeros((5, 5))
    x[2, 2] = 1.0
    k = np.arange(1.0, 10.0).reshape(3, 3)
    assert_array_equal(cv.convolve2d(x, k), k)
    assert_array_equal(cv.correlate2d(x, k), k[::-1, ::-1])
    assert_array_equal(cv.convolve2d_naive(x, k), k)
    assert_array_equal(cv.correlate2d_naive(x, k), k[::-1, ::-1])


def test_zhang_centred_index_form_for_a_5x5_kernel():
    """Zhang eq. 5 with 1-based i, j and u, v in -2..2, typed in directly: out(i, j) =
    sum I(i - u, j - v) k(u, v), where the valid output (i, j) is centred on pixel (i + 2, j + 2)."""
    rng = np.random.default_rng(5)
    img, k = rng.normal(size=(9, 8)), rng.normal(size=(5, 5))

    def I(r, c):  # 1-based image access
        return img[r - 1, c - 1]

    def K(u, v):  # centred kernel access
        return k[u + 2, v + 2]

    expected = np.array([[sum(I(i + 2 - u, j + 2 - v) * K(u, v) for u in range(-2, 3) for v in range(-2, 3))
                          for j in range(1, 5)] for i in range(1, 6)])
    assert_allclose(cv.convolve2d(img, k), expected, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.convolve2d_naive(img, k), expected, rtol=RTOL, atol=ATOL)


def test_leading_axes_are_independent_maps():
    rng = np.random.default_rng(6)
    x, k = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(3, 2))
    out = cv.correlate2d(x, k, stride=2, padding=1)
    conv = cv.convolve2d(x, k, mode="valid")
    for idx in np.ndindex(2, 3):
        assert_allclose(out[idx], R.correlate_ref(x[idx], k, 2, 1), rtol=RTOL, atol=ATOL)
        assert_allclose(out[idx], cv.correlate2d_naive(x[idx], k, stride=2, padding=1), rtol=RTOL, atol=ATOL)
        assert_allclose(conv[idx], R.valid_convolution_scatter(x[idx], k), rtol=RTOL, atol=ATOL)


def test_single_map_dtypes():
    x32 = np.linspace(0, 1, 36, dtype=np.float32).reshape(6, 6)
    k32 = np.ones((3, 3), dtype=np.float32)
    for fn in (cv.correlate2d, cv.correlate2d_naive, cv.convolve2d, cv.convolve2d_naive):
        assert fn(x32, k32).dtype == np.float32
        # integers are accepted by the single-map functions and computed in float64
        out = fn(np.arange(36).reshape(6, 6), np.ones((3, 3), dtype=np.int64))
        assert out.dtype == np.float64
        assert out[0, 0] == sum(r * 6 + c for r in range(3) for c in range(3))


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: cv.correlate2d(np.ones(5), np.ones((2, 2))), ValueError, r"x must have shape \(\.\.\., H, W\)"),
        (lambda: cv.correlate2d(np.ones((5, 5)), np.ones((2, 2, 2))), ValueError, r"k must have shape \(kh, kw\)"),
        (lambda: cv.correlate2d_naive(np.ones((2, 5, 5)), np.ones((2, 2))), ValueError, r"x must have shape \(H, W\)"),
        (lambda: cv.convolve2d_naive(np.ones((2, 5, 5)), np.ones((3, 3))), ValueError, r"x must have shape \(H, W\)"),
        (lambda: cv.correlate2d(np.ones((5, 5)), np.ones((2, 2)), mode="same"), ValueError, "mode must be 'valid' or 'full'"),
        (lambda: cv.correlate2d(np.ones((5, 5)), np.ones((2, 2)), mode="full", padding=1), ValueError, "either mode='full' or padding"),
        (lambda: cv.correlate2d(np.ones((5, 5)), np.ones((2, 3)), mode="full"), ValueError, "square kernel"),
        (lambda: cv.correlate2d(np.ones((5, 5)), np.ones((2, 2)), stride=0), ValueError, "stride must be >= 1"),
        (lambda: cv.correlate2d(np.ones((5, 5)), np.ones((2, 2)), stride=1.0), TypeError, "stride must be an integer"),
        (lambda: cv.correlate2d(np.ones((5, 5)), np.ones((2, 2)), padding=-1), ValueError, "padding must be >= 0"),
        (lambda: cv.correlate2d(np.ones((3, 3)), np.ones((4, 4))), ValueError, "does not fit"),
        (lambda: cv.correlate2d_naive(np.ones((3, 3)), np.ones((4, 4))), ValueError, "does not fit"),
        (lambda: cv.convolve2d(np.ones((3, 3)), np.ones((4, 4))), ValueError, "does not fit"),
        (lambda: cv.correlate2d([["a", "b"], ["c", "d"]], np.ones((1, 1))), TypeError, "x must be a numeric"),
        (lambda: cv.correlate2d(np.ones((3, 3)), np.ones((2, 2), dtype=bool)), TypeError, "k must be a numeric"),
        (lambda: cv.correlate2d(np.ones((3, 3)), np.array([[1.0, np.nan], [0, 0]])), ValueError, "k contains NaN"),
        (lambda: cv.convolve2d(np.full((3, 3), np.inf), np.ones((2, 2))), ValueError, "x contains NaN or infinity"),
        (lambda: cv.correlate2d([[1.0, 2.0], [3.0]], np.ones((1, 1))), TypeError, "x must be a numeric array"),
        (lambda: cv.convolve2d(np.ones((5, 5), dtype=object), np.ones((2, 2))), TypeError, "x must be a numeric"),
    ],
)
def test_single_map_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------------------------
# seed 004's worked example: a 3x3 input, a 2x2 kernel, correlation (slides 2.2.1 and 2.3)
# --------------------------------------------------------------------------------------------
@pytest.fixture
def seed004():
    rng = np.random.default_rng(2004)
    return rng.normal(size=(3, 3)), rng.normal(size=(2, 2)), rng.normal(size=(2, 2))


def test_seed004_forward_sums(seed004):
    a, w, _ = seed004
    (a11, a12, a13), (a21, a22, a23), (a31, a32, a33) = a
    (w11, w12), (w21, w22) = w
    z = np.array([
        [a11 * w11 + a12 * w12 + a21 * w21 + a22 * w22, a12 * w11 + a13 * w12 + a22 * w21 + a23 * w22],
        [a21 * w11 + a22 * w12 + a31 * w21 + a32 * w22, a22 * w11 + a23 * w12 + a32 * w21 + a33 * w22],
    ])
    assert_allclose(cv.correlate2d(a, w), z, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.correlate2d_naive(a, w), z, rtol=RTOL, atol=ATOL)
    layer, _ = cv.conv_forward(a[None, None], w[None, None], np.array([0.0]))
    assert_allclose(layer[0, 0], z, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.conv_forward_naive(a[None, None], w[None, None], np.array([0.0]))[0, 0], z, rtol=RTOL, atol=ATOL)


def test_seed004_input_gradient_is_padded_error_correlated_with_rot180_w(seed004):
    a, w, d = seed004
    (w11, w12), (w21, w22) = w
    (d11, d12), (d21, d22) = d
    grad_a = np.array([  # the nine expressions of slide 2.2.1
        [d11 * w11, d11 * w12 + d12 * w11, d12 * w12],
        [d11 * w21 + d21 * w11, d11 * w22 + d12 * w21 + d21 * w12 + d22 * w11, d12 * w22 + d22 * w12],
        [d21 * w21, d21 * w22 + d22 * w21, d22 * w22],
    ])
    padded = np.array([[0, 0, 0, 0], [0, d11, d12, 0], [0, d21, d22, 0], [0, 0, 0, 0]])
    rotated = np.array([[w22, w21], [w12, w11]])
    assert_array_equal(cv.rot180(w), rotated)
    assert_allclose(cv.correlate2d(padded, rotated), grad_a, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.correlate2d_naive(padded, rotated), grad_a, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.correlate2d(d, cv.rot180(w), padding=1), grad_a, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.correlate2d(d, cv.rot180(w), mode="full"), grad_a, rtol=RTOL, atol=ATOL)
    assert_allclose(cv.convolve2d(d, w, mode="full"), grad_a, rtol=RTOL, atol=ATOL)
    dx, _, _ = cv.conv_backward(d[None, None], cv.conv_forward(a[None, None], w[None, None], np.zeros(1))[1])
    assert_allclose(dx[0, 0], grad_a, rtol=RTOL, atol=ATOL)
    dx_naive, _, _ = cv.conv_backward_naive(d[None, None], a[None, None], w[None, None])
    assert_allclose(dx_naive[0, 0], grad_a, rtol=RTOL, atol=ATOL)


def test_seed004_kernel_and_bias_gradients_need_no_rotation(seed004):
    a, w, d = seed004
    (a11, a12, a13), (a21, a22, a23), (a31, a32, a33) = a
    (d11, d12), (d21, d22) = d
    grad_w = np.array([  # slide 2.3.1
        [a11 * d11 + a12 * d12 + a21 * d21 + a22 * d22, a12 * d11 + a13 * d12 + a22 * d21 + a23 * d22],
        [a21 * d11 + a22 * d12 + a31 * d21 + a32 * d22, a22 * d11 + a23 * d12 + a32 * d21 + a33 * d22],
    ])
    assert_allclose(cv.correlate2d(a, d), grad_w, rtol=RTOL, atol=ATOL)
    _, cache = cv.conv_forward(a[None, None], w[None, None], np.zeros(1))
    _, dw, db = cv.conv_backward(d[None, None], cache)
    assert_allclose(dw[0, 0], grad_w, rtol=RTOL, atol=ATOL)
    assert_allclose(db, [d11 + d12 + d21 + d22], rtol=RTOL, atol=ATOL)
    _, dw_naive, db_naive = cv.conv_backward_naive(d[None, None], a[None, None], w[None, None])
    assert_allclose(dw_naive[0, 0], grad_w, rtol=RTOL, atol=ATOL)
    assert_allclose(db_naive, [d11 + d12 + d21 + d22], rtol=RTOL, atol=ATOL)


def test_seed004_same_example_under_the_convolution_convention(seed004):
    """With a true-convolution layer the roles swap: the input gradient is the full correlation
    of the error with w itself, and the kernel gradient is rot180 of the correlation of a and d."""
    a, w, d = seed004
    _, cache = cv.conv_forward(a[None, None], w[None, None], np.zeros(1), convention="convolution")
    dx, dw, _ = cv.conv_backward(d[None, None], cache)
    assert_allclose(dx[0, 0], cv.correlate2d(d, w, mode="full"), rtol=RTOL, atol=ATOL)
    assert_allclose(dw[0, 0], cv.rot180(R.correlate_ref(a, d)), rtol=RTOL, atol=ATOL)


# --------------------------------------------------------------------------------------------
# multi-channel layers
# --------------------------------------------------------------------------------------------
LAYER_CASES = [
    # (N, C_in, C_out, H, W, kh, kw, stride, padding)
    (1, 1, 1, 5, 5, 3, 3, 1, 0),
    (2, 3, 2, 6, 5, 3, 2, 1, 0),
    (2, 2, 3, 7, 7, 3, 3, 2, 1),
    (1, 2, 2, 8, 6, 2, 4, 3, 2),
    (3, 1, 4, 4, 4, 4, 4, 1, 0),
    (1, 3, 1, 5, 6, 1, 1, 2, 0),
    (1, 2, 2, 3, 3, 5, 5, 2, 2),
]


@pytest.mark.parametrize("convention", cv.CONVENTIONS)
@pytest.mark.parametrize("N, C_in, C_out, H, W, kh, kw, stride, padding", LAYER_CASES)
def test_layer_forward_backward_naive_vectorized_dense(N, C_in, C_out, H, W, kh, kw, stride, padding, convention):
    rng = np.random.default_rng([N, C_in, C_out, H, W, kh, kw, stride, padding, len(convention)])
    x = rng.normal(size=(N, C_in, H, W))
    k = rng.normal(size=(C_in, C_out, kh, kw))
    b = rng.normal(size=C_out)
    z_ref = R.layer_forward_ref(x, k, b, stride, padding, convention)
    z, cache = cv.conv_forward(x, k, b, stride=stride, padding=padding, convention=convention)
    assert z.shape == z_ref.shape
    assert_allclose(z, z_ref, rtol=1e-10, atol=1e-12)
    assert_allclose(cv.conv_forward_naive(x, k, b, stride, padding, convention), z_ref, rtol=1e-10, atol=1e-12)

    dz = rng.normal(size=z.shape)
    refs = R.layer_backward_ref(dz, x, k, stride, padding, convention)
    fast = cv.conv_backward(dz, cache)
    naive = cv.conv_backward_naive(dz, x, k, stride, padding, convention)
    for name, r, f, s in zip(("dx", "dk", "db"), refs, fast, naive):
        assert f.shape == r.shape, name
        assert_allclose(f, r, rtol=1e-10, atol=1e-12, err_msg=name)
        assert_allclose(s, r, rtol=1e-10, atol=1e-12, err_msg=name)


def test_the_two_conventions_differ_by_rot180():
    rng = np.random.default_rng(7)
    x, k, b = rng.normal(size=(2, 2, 6, 6)), rng.normal(size=(2, 3, 3, 3)), rng.normal(size=3)
    z_conv, _ = cv.conv_forward(x, k, b, convention="convolution")
    z_corr, _ = cv.conv_forward(x, np.ascontiguousarray(k[:, :, ::-1, ::-1]), b, convention="correlation")
    assert_allclose(z_conv, z_corr, rtol=1e-12, atol=1e-12)
    assert not np.allclose(z_conv, cv.conv_forward(x, k, b)[0])


def test_bias_none_means_zero_bias():
    rng = np.random.default_rng(8)
    x, k = rng.normal(size=(1, 2, 5, 5)), rng.normal(size=(2, 2, 3, 3))
    assert_allclose(cv.conv_forward(x, k, None)[0], cv.conv_forward(x, k, np.zeros(2))[0], rtol=0, atol=0)


def test_layer_dtype_float32_preserved():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 2, 6, 6)).astype(np.float32)
    k = rng.normal(size=(2, 3, 3, 3)).astype(np.float32)
    b = np.zeros(3, np.float32)
    z, cache = cv.conv_forward(x, k, b, stride=2, padding=1, convention="convolution")
    assert z.dtype == np.float32
    assert cv.conv_forward_naive(x, k, b, 2, 1, "convolution").dtype == np.float32
    dz = np.ones_like(z)
    for grads in (cv.conv_backward(dz, cache), cv.conv_backward_naive(dz, x, k, 2, 1, "convolution")):
        assert [g.dtype for g in grads] == [np.float32] * 3
    z64 = R.layer_forward_ref(x, k, b, 2, 1, "convolution")
    assert_allclose(z, z64, rtol=1e-5, atol=1e-5)


def _layer_error_calls():
    x, k, b = np.ones((1, 2, 5, 5)), np.ones((2, 3, 3, 3)), np.zeros(3)
    z, cache = cv.conv_forward(x, k, b)
    calls = []
    for fwd in (cv.conv_forward, cv.conv_forward_naive):
        calls += [
            (lambda f=fwd: f(np.ones((2, 5, 5)), k, b), ValueError, r"x must have shape \(N, C_in, H, W\)"),
            (lambda f=fwd: f(x, np.ones((2, 3, 3)), b), ValueError, r"k must have shape \(C_in, C_out, kh, kw\)"),
            (lambda f=fwd: f(np.ones((1, 3, 5, 5)), k, b), ValueError, "C_in"),
            (lambda f=fwd: f(x, k, np.zeros(2)), ValueError, r"b must have shape \(3,\)"),
            (lambda f=fwd: f(x, k, np.zeros((3, 1))), ValueError, r"b must have shape \(C_out,\)"),
            (lambda f=fwd: f(x, k, b, convention="flipped"), ValueError, "convention must be one of"),
            (lambda f=fwd: f(x, k, b, stride=0), ValueError, "stride must be >= 1"),
            (lambda f=fwd: f(x, k, b, padding=0.5), TypeError, "padding must be an integer"),
            (lambda f=fwd: f(np.ones((1, 2, 2, 2)), k, b), ValueError, "does not fit"),
            (lambda f=fwd: f(np.ones((1, 2, 5, 5), dtype=np.uint8), k, b), TypeError, "x must be a floating array"),
            (lambda f=fwd: f(x.astype(str), k, b), TypeError, "x must be a numeric"),
            (lambda f=fwd: f(x, np.full(k.shape, np.nan), b), ValueError, "k contains NaN"),
            (lambda f=fwd: f(x, k, np.array([0.0, np.inf, 0.0])), ValueError, "b contains NaN or infinity"),
        ]
    calls += [
        (lambda: cv.conv_backward(np.ones((1, 3, 2, 2)), cache), ValueError, r"dz must have shape \(1, 3, 3, 3\)"),
        (lambda: cv.conv_backward(np.ones(z.shape, dtype=int), cache), TypeError, "dz must be a floating array"),
        (lambda: cv.conv_backward(np.full(z.shape, np.nan), cache), ValueError, "dz contains NaN"),
        (lambda: cv.conv_backward_naive(np.ones((1, 3, 2, 2)), x, k), ValueError, r"dz must have shape \(1, 3, 3, 3\)"),
        (lambda: cv.conv_backward_naive(np.ones(z.shape), x, np.ones((3, 3, 3, 3))), ValueError, "C_in"),
    ]
    return calls


@pytest.mark.parametrize("call, exc, match", _layer_error_calls())
def test_layer_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


# --------------------------------------------------------------------------------------------
# property tests
# --------------------------------------------------------------------------------------------
@st.composite
def layer_configs(draw, max_side=4):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    padding = draw(st.integers(0, 2))
    stride = draw(st.integers(1, 3))
    H = draw(st.integers(max(1, kh - 2 * padding), kh + max_side))
    W = draw(st.integers(max(1, kw - 2 * padding), kw + max_side))
    return {
        "N": draw(st.integers(1, 2)), "C_in": draw(st.integers(1, 3)), "C_out": draw(st.integers(1, 3)),
        "H": H, "W": W, "kh": kh, "kw": kw, "stride": stride, "padding": padding,
        "convention": draw(st.sampled_from(cv.CONVENTIONS)), "seed": draw(st.integers(0, 2**32 - 1)),
    }


def _layer_data(c):
    rng = np.random.default_rng(c["seed"])
    x = rng.normal(size=(c["N"], c["C_in"], c["H"], c["W"]))
    k = rng.normal(size=(c["C_in"], c["C_out"], c["kh"], c["kw"]))
    b = rng.normal(size=c["C_out"])
    return rng, x, k, b


@settings(max_examples=60, deadline=None)
@given(layer_configs())
def test_property_layer_naive_equals_vectorized(c):
    rng, x, k, b = _layer_data(c)
    opts = dict(stride=c["stride"], padding=c["padding"], convention=c["convention"])
    z, cache = cv.conv_forward(x, k, b, **opts)
    assert z.shape[2:] == (cv.output_size(c["H"], c["kh"], c["padding"], c["stride"]),
                           cv.output_size(c["W"], c["kw"], c["padding"], c["stride"]))
    assert_allclose(z, cv.conv_forward_naive(x, k, b, **opts), rtol=1e-10, atol=1e-10)
    dz = rng.normal(size=z.shape)
    for f, s in zip(cv.conv_backward(dz, cache), cv.conv_backward_naive(dz, x, k, **opts)):
        assert_allclose(f, s, rtol=1e-10, atol=1e-10)


@settings(max_examples=30, deadline=None)
@given(layer_configs(max_side=3))
def test_property_layer_gradients_match_finite_differences(c):
    """L = sum(G * z) + 1/2 sum(z^2), so dL/dz = G + z; every entry of x, k and b is perturbed."""
    rng, x, k, b = _layer_data(c)
    opts = dict(stride=c["stride"], padding=c["padding"], convention=c["convention"])
    z, cache = cv.conv_forward(x, k, b, **opts)
    G = rng.normal(size=z.shape)

    def loss():
        out = cv.conv_forward(x, k, b, **opts)[0]
        return float(np.sum(G * out) + 0.5 * np.sum(out * out))

    dx, dk, db = cv.conv_backward(G + z, cache)
    for analytic, arr in ((dx, x), (dk, k), (db, b)):
        numeric = R.central_diff(loss, arr, h=1e-5)
        assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-6 * (1 + np.abs(numeric).max()))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
       st.integers(0, 2), st.integers(0, 2**32 - 1))
def test_property_single_map_correlation(H, W, kh, kw, stride, padding, seed):
    if H + 2 * padding < kh or W + 2 * padding < kw:
        with pytest.raises(ValueError, match="does not fit"):
            cv.correlate2d(np.ones((H, W)), np.ones((kh, kw)), stride=stride, padding=padding)
        return
    rng = np.random.default_rng(seed)
    x, k = rng.normal(size=(H, W)), rng.normal(size=(kh, kw))
    ref = R.correlate_ref(x, k, stride, padding)
    assert_allclose(cv.correlate2d(x, k, stride=stride, padding=padding), ref, rtol=1e-10, atol=1e-10)
    assert_allclose(cv.correlate2d_naive(x, k, stride=stride, padding=padding), ref, rtol=1e-10, atol=1e-10)
    if H >= kh and W >= kw:
        conv = R.valid_convolution_scatter(x, k)
        assert_allclose(cv.convolve2d(x, k), conv, rtol=1e-10, atol=1e-10)
        assert_allclose(cv.convolve2d_naive(x, k), conv, rtol=1e-10, atol=1e-10)
