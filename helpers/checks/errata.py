"""Checks for notebook 09, the errata appendix: find the offset, fix the parameter count, which
'*' is it."""

from __future__ import annotations

import numpy as np

from helpers.checks.base import case_rng, run_cases

__all__ = ["check_find_offset", "check_param_total", "check_which_convention"]


def _offset_ops(hidden=False):
    """``(label, op, f)`` cases for :func:`check_find_offset`: true convolutions with unknown padding."""
    from helpers.convolution import convolve2d, pad2d

    def padded(pad):
        return lambda x, k: convolve2d(pad2d(x, pad), k)

    if hidden:
        return [("'same' 3x3 (padding 1)", padded(1), 3), ("7x7 with padding 2", padded(2), 7),
                ("full 7x7", lambda x, k: convolve2d(x, k, mode="full"), 7), ("valid 1x1", convolve2d, 1)]
    return [("valid 5x5, Zhang's eq. 5", lambda x, k: convolve2d(x, k), 5),
            ("valid 3x3", lambda x, k: convolve2d(x, k), 3),
            ("valid 7x7", lambda x, k: convolve2d(x, k), 7),
            ("'same' 5x5 (padding 2)", padded(2), 5),
            ("5x5 with padding 1", padded(1), 5),
            ("full 5x5", lambda x, k: convolve2d(x, k, mode="full"), 5),
            ("full 3x3", lambda x, k: convolve2d(x, k, mode="full"), 3)]


def _offset_by_search(op, f, rng):
    """The offset c of ``op`` found by trying every candidate on a random image and kernel:
    the one for which ``out(i, j) = sum_uv x(i + c - u, j + c - v) k(u, v)`` (1-based, x = 0
    outside) reproduces ``op`` exactly."""
    r = (f - 1) // 2
    x = rng.standard_normal((f + 6, f + 8))
    k = rng.standard_normal((f, f))
    out = op(x, k)
    big = np.pad(x, 4 * f)  # zeros around: 1-based pixel (a, b) of x sits at big[a - 1 + 4f, b - 1 + 4f]
    found = []
    for c in range(-f, f + 1):
        guess = np.zeros(out.shape)
        for u in range(-r, r + 1):
            for v in range(-r, r + 1):
                rows = np.arange(1, out.shape[0] + 1) + c - u - 1 + 4 * f
                cols = np.arange(1, out.shape[1] + 1) + c - v - 1 + 4 * f
                guess += k[u + r, v + r] * big[np.ix_(rows, cols)]
        if np.allclose(guess, out, rtol=0, atol=1e-10):
            found.append(c)
    if len(found) != 1:
        raise RuntimeError(f"offset search found {found} for a case of check_find_offset")
    return found[0]


def check_find_offset(fn, hidden: bool = False) -> bool:
    """Exercise 09.1: ``fn(op, f)`` returns the offset ``c`` of a convolution routine ``op(x, k)``
    (2-D image, f x f kernel, f odd): the integer for which
    ``op(x, k)[i-1, j-1] = sum_{u,v=-r..r} x(i + c - u, j + c - v) k(u, v)`` with 1-based i, j,
    centred kernel indices (r = (f - 1) / 2) and x = 0 outside the image.

    Zhang's eq. 5 is the valid case, c = 2 for a 5x5 kernel (the unstated "+2"). Expected values
    are found by trying every candidate c on a random image and kernel. ``hidden=True``: other
    routines.
    """
    rng = case_rng(901, hidden)
    cases = []
    for label, op, f in _offset_ops(hidden):
        expected = _offset_by_search(op, f, rng)
        cases.append((label, lambda op=op, f=f: int(fn(op, f)), expected))
    return run_cases("check_find_offset: op(x, k)(i, j) = sum_uv x(i + c - u, j + c - v) k(u, v)", cases,
                     hidden=hidden)


def check_param_total(fn, hidden: bool = False) -> bool:
    """Exercise 09.2: ``fn(conv, dense)`` counts the trainable numbers of a network.

    ``conv`` is a list of ``(maps_in, maps_out, f)``: one f x f kernel per pair of maps and one
    bias per output map; ``dense`` a list of ``(n_in, n_out)``: an ``(n_out, n_in)`` matrix and a
    bias vector. Expected values are the sizes of zero arrays of those shapes. Cases: Zhang's
    network (seed 001), seed 003's (printed total 6170), seed 002's, and two edge cases.
    ``hidden=True``: other networks.
    """
    cases = []
    nets = [("a LeNet-like network", [(1, 6, 5), (6, 16, 5)], [(256, 120), (120, 84), (84, 10)]),
            ("one 1x1 convolution", [(3, 3, 1)], []), ("nothing at all", [], [])] if hidden else [
        ("Zhang's network (seed 001)", [(1, 6, 5), (6, 12, 5)], [(192, 10)]),
        ("seed 003's network", [(1, 4, 5), (4, 6, 5)], [(96, 50), (50, 10)]),
        ("seed 002's network", [(1, 1, 5)], [(144, 10)]),
        ("convolution layers only", [(3, 8, 3), (8, 8, 3)], []),
        ("a dense network (no convolution)", [], [(784, 30), (30, 10)])]
    for label, conv, dense in nets:
        arrays = [np.zeros((m_in, m_out, f, f)) for m_in, m_out, f in conv] + [np.zeros(m_out) for _, m_out, _ in conv]
        arrays += [np.zeros((n_out, n_in)) for n_in, n_out in dense] + [np.zeros(n_out) for _, n_out in dense]
        expected = int(sum(a.size for a in arrays))
        cases.append((label, lambda conv=conv, dense=dense: int(fn(list(conv), list(dense))), expected))
    return run_cases("check_param_total: kernels + biases + weight matrices + bias vectors", cases, hidden=hidden)


def check_which_convention(fn, hidden: bool = False) -> bool:
    """Exercise 09.3: ``fn(op)`` returns ``"convolution"`` when the routine ``op(x, k)`` (2-D
    image, 2-D kernel, valid output) flips the kernel and ``"correlation"`` when it does not
    (seed 004's '*' means both).

    The hidden routines are the helpers' fast and loop versions of both operations, the layer
    function ``conv_forward`` with either convention, and a dot-product-per-window routine. The
    expected answer is found by comparing each routine with ``correlate2d`` on random data.
    ``hidden=True``: other routines (a kernel flipped before one of the helpers' routines).
    """
    from helpers.convolution import conv_forward, convolve2d, convolve2d_naive, correlate2d, correlate2d_naive

    def layer(convention):
        return lambda x, k: conv_forward(np.asarray(x, dtype=float)[None, None], np.asarray(k, dtype=float)[None, None],
                                         np.zeros(1), convention=convention)[0][0, 0]

    def windows_flipped(x, k):
        kh, kw = k.shape
        return np.array([[np.sum(x[i:i + kh, j:j + kw] * k[::-1, ::-1]) for j in range(x.shape[1] - kw + 1)]
                         for i in range(x.shape[0] - kh + 1)])

    rng = case_rng(903, hidden)
    x = rng.standard_normal((7, 6))
    k = rng.standard_normal((3, 2))
    reference = correlate2d(x, k)
    cases = []
    routines = [("correlate2d of the flipped kernel", lambda x, k: correlate2d(x, np.asarray(k)[::-1, ::-1])),
                ("convolve2d of the flipped kernel", lambda x, k: convolve2d(x, np.asarray(k)[::-1, ::-1])),
                ("a window-by-window routine", windows_flipped)] if hidden else [("helpers.convolution.convolve2d", convolve2d), ("helpers.convolution.correlate2d", correlate2d),
                      ("convolve2d_naive (loops)", convolve2d_naive), ("correlate2d_naive (loops)", correlate2d_naive),
                      ("conv_forward, convention='convolution'", layer("convolution")),
                      ("conv_forward, convention='correlation'", layer("correlation")),
                      ("a window-by-window routine", windows_flipped)]
    for label, op in routines:
        expected = "correlation" if np.allclose(op(x, k), reference) else "convolution"
        cases.append((label, lambda op=op: fn(op), expected))
    return run_cases("check_which_convention: does op flip the kernel?", cases, hidden=hidden)
