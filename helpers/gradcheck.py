"""Finite-difference gradient checks, the independent computation every gradient is tested against.

Central differences in float64: ``dL/dt ~ (L(t + h) - L(t - h)) / (2h)`` with error ``O(h^2)``.
The relative error is reported as CS231n does, ``max |a - n| / max(1e-12, |a| + |n|)`` over the
entries of a tensor. In float64 with ``h = 1e-6`` a correct smooth gradient typically gives
``1e-7`` or less; ``1e-2`` or more means a bug (or a kink such as a max-pool tie or ReLU at 0).
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np


def relative_error(analytic, numeric) -> float:
    """``max over entries of |a - n| / max(1e-12, |a| + |n|)`` (CS231n's report)."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"analytic has shape {a.shape} but numeric has shape {n.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - n) / np.maximum(1e-12, np.abs(a) + np.abs(n))))


def relative_error_norm(analytic, numeric) -> float:
    """Whole-tensor relative error ``||a - n|| / max(1e-12, ||a|| + ||n||)`` (Euclidean norms).

    :func:`relative_error` reports the worst ENTRY, which is dominated by entries whose true
    gradient is tiny (1e-6, say): there rounding noise of the finite difference (about 1e-10)
    alone gives a ratio near 1e-4. The norm version weighs entries by size and is the better
    single number for a whole tensor; a correct float64 gradient gives 1e-8 or less.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"analytic has shape {a.shape} but numeric has shape {n.shape}")
    return float(np.linalg.norm(a - n) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(n)))


def numerical_gradient(f: Callable[[], float], arr: np.ndarray, h: float = 1e-6, indices=None) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to ``arr``, changed in place.

    ``f`` takes no argument and reads ``arr`` (a float64 array it closes over). Each entry is
    restored after its two evaluations. ``indices`` (an iterable of index tuples) restricts the
    check to some entries; the others are left at zero.
    """
    if not isinstance(arr, np.ndarray) or arr.dtype != np.float64:
        raise TypeError("arr must be a float64 numpy array (finite differences need float64)")
    grad = np.zeros_like(arr)
    it = indices if indices is not None else np.ndindex(*arr.shape)
    for idx in it:
        old = arr[idx]
        arr[idx] = old + h
        plus = f()
        arr[idx] = old - h
        minus = f()
        arr[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


def numerical_gradients(loss: Callable[[dict], float], params: Mapping[str, np.ndarray], h: float = 1e-6) -> dict:
    """Central differences of ``loss(params)`` for every array in the dict ``params``.

    The arrays are copied to float64 first; ``loss`` is called with that dict of copies.
    Returns a dict with the same keys and shapes.
    """
    work = {key: np.array(val, dtype=np.float64) for key, val in params.items()}
    return {key: numerical_gradient(lambda: float(loss(work)), work[key], h) for key in work}


def gradient_check(loss: Callable[[dict], float], params: Mapping[str, np.ndarray], analytic: Mapping[str, np.ndarray],
                   h: float = 1e-6, measure: str = "max") -> dict:
    """Relative error between ``analytic`` gradients and central differences, per parameter.

    ``measure="max"`` uses :func:`relative_error` (worst entry, CS231n), ``"norm"`` uses
    :func:`relative_error_norm` (whole tensor). Returns ``{name: error}`` for every key of ``params``.
    """
    missing = set(params) - set(analytic)
    if missing:
        raise ValueError(f"analytic gradients are missing keys {sorted(missing)}")
    if measure not in ("max", "norm"):
        raise ValueError(f"measure must be 'max' or 'norm', got {measure!r}")
    metric = relative_error if measure == "max" else relative_error_norm
    numeric = numerical_gradients(loss, params, h)
    return {key: metric(analytic[key], numeric[key]) for key in params}


BOOK_TOL = 1e-7
"""The book's pass mark: a whole-tensor relative error (:func:`relative_error_norm`) below it."""


def order(err: float) -> str:
    """The order of magnitude of a non-negative number as stable text: 3.2e-09 -> ``"1e-9"``.

    Below the pass mark only the order is stable across CPUs and BLAS builds (the last digits of
    a finite difference are rounding noise), so that is what the book prints.
    """
    err = float(err)
    if not np.isfinite(err) or err < 0:
        raise ValueError(f"err must be a finite number >= 0, got {err!r}")
    return "0" if err == 0 else f"1e{int(np.floor(np.log10(err)))}"


def describe(err: float, tol: float = BOOK_TOL) -> str:
    """``"< 1e-7"`` when ``err`` passes, else its order (``"1e-1"``): text that holds on any CPU.

    A non-finite ``err`` (a gradient holding NaN or infinity) is ``"not finite"``: it fails.
    """
    if not np.isfinite(err):
        return "not finite"
    return f"< {order(tol)}" if err < tol else order(err)


def report(name: str, analytic, numeric, tol: float = BOOK_TOL, width: int = 34) -> bool:
    """Print one line comparing an analytic gradient with finite differences; return whether it passes.

    The book's one gradient-check report. The metric is :func:`relative_error_norm` (whole
    tensor, ``||a - n|| / (||a|| + ||n||)``); it passes when below ``tol`` (default
    :data:`BOOK_TOL`). Printed: ``name  rel. error < 1e-7  ok`` or ``name  rel. error 1e-1  WRONG``;
    a gradient holding NaN or infinity is wrong whatever the other holds: ``not finite  WRONG``.

    Inputs:
    - name: what is checked (printed, left-aligned in ``width`` characters)
    - analytic, numeric: arrays of the same shape
    Returns True when the error is below ``tol``.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: no warning, the line says it
        err = relative_error_norm(a, n)  # also refuses arrays of different shapes
    if not (np.isfinite(a).all() and np.isfinite(n).all()):
        err = float("nan")
    passed = bool(err < tol)
    print(f"{name:<{width}} rel. error {describe(err, tol):>7}  {'ok' if passed else 'WRONG'}")
    return passed


def report_gradients(loss: Callable[[dict], float], params: Mapping[str, np.ndarray],
                     analytic: Mapping[str, np.ndarray], tol: float = BOOK_TOL, h: float = 1e-6,
                     prefix: str = "") -> bool:
    """:func:`report` for every array of ``params``, against central differences of ``loss``.

    Inputs as :func:`gradient_check`; ``prefix`` is put before each name. Returns True when
    every tensor passes.
    """
    missing = set(params) - set(analytic)
    if missing:
        raise ValueError(f"analytic gradients are missing keys {sorted(missing)}")
    numeric = numerical_gradients(loss, params, h)
    return all([report(f"{prefix}{key}", analytic[key], numeric[key], tol) for key in params])
