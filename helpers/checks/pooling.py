"""Checks for notebook 04: back through F^{-1} and the pooling layers (Zhang eqs. 31-32, seed 002
BP2)."""

from __future__ import annotations

import numpy as np

from helpers.checks.base import case_rng, run_cases
from helpers.flatten import column_scan, column_unscan

__all__ = ["check_unflatten", "check_avgpool_backward", "check_maxpool_backward", "check_pool_backward"]


def check_unflatten(fn, hidden: bool = False) -> bool:
    """Exercise 4.1: ``fn(df)`` is Zhang's F^{-1} (eq. 31), Delta f (192,) -> Delta S2 (12, 4, 4).

    Each 16-entry block of ``df`` is one map (q = 1..12 in order), filled column by column.
    Cases: the index vector 0..191 (shows where every entry lands), a random vector, and the
    round trip F^{-1}(F(S2)) = S2 with F from :func:`helpers.flatten.column_scan`.
    ``hidden=True``: other numbers.
    """
    rng = case_rng(404, hidden)
    S2 = rng.normal(size=(12, 4, 4))
    df = rng.normal(size=192)
    index_maps = column_unscan(np.arange(192.0), 12, 4)
    expected_df = column_unscan(df, 12, 4)
    cases = [
        ("random Delta f", lambda: fn(df.copy()), expected_df),
        ("round trip: F^{-1}(F(S2)) == S2", lambda: fn(column_scan(S2)), S2),
    ]
    if not hidden:
        cases.insert(0, ("index vector 0..191: entry n lands in map n // 16, column (n % 16) // 4, row n % 4",
                         lambda: fn(np.arange(192.0)), index_maps))
    return run_cases("check_unflatten: Delta S2 = F^{-1}(Delta f), Zhang eq. 31", cases, hidden=hidden)


def _pooling_backward(dout, x, size, stride, mode):
    from helpers import pooling

    _, cache = pooling.pool_forward(x, size, stride, mode)
    return pooling.pool_backward(dout, cache)


def check_avgpool_backward(fn, hidden: bool = False) -> bool:
    """Exercise 4.2: ``fn(dS)`` upsamples the error through 2x2 average pooling (Zhang eq. 32):
    ``(..., h, w) -> (..., 2h, 2w)``, every cell of a window gets a quarter of its error.

    Cases: one 4x4 map, Zhang's twelve maps of S2 (12, 4, 4), the six 12x12 maps of S1 (eq. 52),
    and a single non-zero error (only its own window may receive anything).
    ``hidden=True``: other shapes and numbers.
    """
    rng = case_rng(4042, hidden)
    if hidden:
        spike = np.zeros((2, 4))
        spike[0, 3] = -4.0
        named = [("one 5x5 map", rng.normal(size=(5, 5))), ("a stack (2, 3, 5)", rng.normal(size=(2, 3, 5))),
                 ("a single error of -4 spreads -1 to its own window only", spike)]
    else:
        one = rng.normal(size=(4, 4))
        s2 = rng.normal(size=(12, 4, 4))
        s1 = rng.normal(size=(6, 12, 12))
        spike = np.zeros((3, 3))
        spike[1, 2] = 8.0
        named = [("one 4x4 map", one), ("Delta S2, shape (12, 4, 4)", s2), ("Delta S1, shape (6, 12, 12) (eq. 52)", s1),
                 ("a single error of 8 spreads 2 to its own window only", spike)]
    cases = [(name, (lambda d=d: fn(d.copy())),
              _pooling_backward(d, np.zeros(d.shape[:-2] + (2 * d.shape[-2], 2 * d.shape[-1])), 2, 2, "avg"))
             for name, d in named]
    return run_cases("check_avgpool_backward: Delta C = 1/4 Delta S(ceil(i/2), ceil(j/2))", cases, hidden=hidden)


def check_maxpool_backward(fn, hidden: bool = False) -> bool:
    """Exercise 4.3: ``fn(dS, C)`` routes the error through 2x2 max pooling with stride 2
    (seed 002 BP2): ``dS (..., h, w)``, ``C (..., 2h, 2w)`` -> ``dC`` shaped like ``C``. Each
    window's error goes to its maximum; at a tie, to the first maximum in row-major order.

    Cases: seed 004's worked example, windows with ties, windows whose values are all negative,
    and a random stack shaped like Zhang's C2 (12, 8, 8). ``hidden=True``: other numbers, and
    other ties, instead of the worked example.
    """
    rng = case_rng(4043, hidden)
    c004 = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=float)
    d004 = np.array([[2, 8], [4, 6]], dtype=float)
    routed004 = np.array([[0, 0, 8, 0], [0, 2, 0, 0], [0, 0, 0, 6], [0, 4, 0, 0]], dtype=float)
    c_tie = np.array([[0, 1, 4, 4], [1, 1, 4, 4], [2, 0, 7, 1], [2, 1, 1, 7]], dtype=float) if hidden else \
        np.array([[5, 5, 1, 0], [1, 2, 0, 1], [3, 1, 2, 2], [1, 3, 2, 2]], dtype=float)
    d_tie = np.array([[1, 2], [3, 4]], dtype=float)
    c_neg = -rng.uniform(1, 2, size=(4, 6))
    d_neg = rng.normal(size=(2, 3))
    c2 = rng.normal(size=(3, 6, 6) if hidden else (12, 8, 8))
    d2 = rng.normal(size=(3, 3, 3) if hidden else (12, 4, 4))
    cases = [
        ("seed 004's 4x4 example", lambda: fn(d004.copy(), c004.copy()), routed004),
        ("ties go to the first maximum in row-major order", lambda: fn(d_tie.copy(), c_tie.copy()),
         _pooling_backward(d_tie, c_tie, 2, 2, "max")),
        ("all values negative", lambda: fn(d_neg.copy(), c_neg.copy()),
         _pooling_backward(d_neg, c_neg, 2, 2, "max")),
        ("a stack (3, 6, 6)" if hidden else "a stack shaped like C2, (12, 8, 8)", lambda: fn(d2.copy(), c2.copy()),
         _pooling_backward(d2, c2, 2, 2, "max")),
    ]
    return run_cases("check_maxpool_backward: each window's error goes to its maximum", cases[hidden:],
                     hidden=hidden)


def check_pool_backward(fn, hidden: bool = False) -> bool:
    """Exercise 4.4: ``fn(dS, C, size, stride, mode)`` for any square window and stride,
    ``mode`` "avg" or "max"; ``C`` is one map (H, W) and ``dS`` the pooled error (Ho, Wo) with
    ``Ho = (H - size) // stride + 1``. Overlapping windows (``stride < size``) add up their
    contributions; rows or columns that no window covers get zero. ``hidden=True``: other
    windows, strides and numbers.
    """
    rng = case_rng(4044, hidden)
    c5 = rng.normal(size=(5, 5))
    c5[2, 2] = 10.0  # the centre is the maximum of all four overlapping 3x3 windows
    c4 = rng.normal(size=(4, 4))
    c7 = rng.normal(size=(7, 7))
    settings = [
        ("3x3 windows, stride 2, avg (overlap)", c5, 3, 2, "avg"),
        ("3x3 windows, stride 2, max (the centre collects four errors)", c5, 3, 2, "max"),
        ("2x2 windows, stride 1, avg", c4, 2, 1, "avg"),
        ("2x2 windows, stride 1, max", c4, 2, 1, "max"),
        ("3x3 windows, stride 3 on 7x7 (last row and column unused), max", c7, 3, 3, "max"),
    ]
    if hidden:
        c6, c8 = rng.normal(size=(6, 6)), rng.normal(size=(8, 8))
        settings = [("2x2 windows, stride 2 on 6x6, avg", c6, 2, 2, "avg"),
                    ("3x3 windows, stride 1 on 6x6, max (overlap)", c6, 3, 1, "max"),
                    ("4x4 windows, stride 2 on 8x8, avg (overlap)", c8, 4, 2, "avg"),
                    ("2x2 windows, stride 3 on 8x8 (gaps), max", c8, 2, 3, "max")]
    cases = []
    for name, c, size, stride, mode in settings:
        ho = (c.shape[0] - size) // stride + 1
        wo = (c.shape[1] - size) // stride + 1
        d = rng.normal(size=(ho, wo))
        cases.append((name, (lambda d=d, c=c, size=size, stride=stride, mode=mode:
                             fn(d.copy(), c.copy(), size, stride, mode)),
                      _pooling_backward(d, c, size, stride, mode)))
    return run_cases("check_pool_backward: any window and stride, overlapping windows add up", cases, hidden=hidden)
