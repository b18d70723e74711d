"""What a failing case says beyond "FAIL": expected versus got at the worst position, a hint when
the difference matches a known mistake, and who raised a ``NotImplementedError``.

:func:`helpers.checks.base.run_cases` calls :func:`explain` for every array case that fails and
:func:`stub_owner` when a case raises ``NotImplementedError``. Everything here is written so that
it cannot raise: a hint that cannot be computed is simply not given.

The hints, tried in this order (the first that matches is printed):

* a mistake the check names for its case (``mistakes={"kernel not flipped (rot180 forgotten)":
  array}``), matched by value, or by shape when the shape is wrong;
* **wrong mode**: the last two axes are both larger (or both smaller) than expected, as a FULL
  result is where a VALID one was asked for (or the reverse);
* **kernel not flipped**: ``got`` is ``expected`` rotated by 180 degrees in its last two axes;
* **transposed**: ``got`` is ``expected`` with its last two axes swapped;
* **a factor**: ``got = c * expected`` (c = 4: the 1/4 of average pooling missing; c = N, an
  integer: a sum where a mean over N was asked for; c = 1/4 or 1/N the reverse; c = -1: the sign);
* **off by one row or column**: ``got`` shifted by one row (or column) matches ``expected`` on
  all the entries the shift keeps.
"""

from __future__ import annotations

import os

import numpy as np


__all__ = []  # used through helpers.checks.base; nothing here is an exercise check

_CHECKS_DIR = os.path.dirname(os.path.abspath(__file__))


def worst_position(got: np.ndarray, expected: np.ndarray) -> str:
    """``at [i, j]: expected 0.1234, got 0.5678``: the entry with the largest ``|got - expected|``
    (a NaN counts as the largest). ``got`` and ``expected`` have the same shape."""
    diff = np.abs(got - expected)
    diff = np.where(np.isnan(diff), np.inf, diff)
    index = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    where = f"at [{', '.join(str(int(i)) for i in index)}]: " if index else ""
    return f"{where}expected {float(expected[index]):.4g}, got {float(got[index]):.4g}"


def _close(a, b, tol) -> bool:
    return a.shape == b.shape and bool(np.all(np.abs(a - b) <= tol))


def _factor_name(c: float) -> str | None:
    """Words for ``got = c * expected``, or None when ``c`` is no telling factor."""
    if abs(c + 1) < 1e-6:
        return "the sign is flipped (got = -expected)"
    for n in range(2, 10001):
        if abs(c - n) < 1e-6 * n:
            why = "the 1/4 of 2x2 average pooling, or a mean over 4" if n == 4 else f"a mean over {n}"
            return f"got = {n} x expected: a factor 1/{n} is missing ({why}?)"
        if abs(c * n - 1) < 1e-6:
            why = "1/4 applied twice, or a mean where a sum is asked for" if n == 4 else \
                f"a mean over {n} where a sum is asked for"
            return f"got = expected / {n}: an extra factor 1/{n} ({why}?)"
    return None


def _shape_hint(got: np.ndarray, expected: np.ndarray) -> str | None:
    if got.ndim != expected.ndim or got.ndim < 2 or got.shape[:-2] != expected.shape[:-2]:
        return None
    dh, dw = got.shape[-2] - expected.shape[-2], got.shape[-1] - expected.shape[-1]
    if dh > 0 and dw > 0:
        return (f"wrong mode: {dh} row(s) and {dw} column(s) too many, as a FULL result has where "
                "a VALID one is asked for (pad by kernel size - 1 only for FULL)")
    if dh < 0 and dw < 0:
        return (f"wrong mode: {-dh} row(s) and {-dw} column(s) too few, as a VALID result has where "
                "a FULL one is asked for (pad by kernel size - 1 on every side)")
    return None


def _value_hint(got: np.ndarray, expected: np.ndarray, tol: float) -> str | None:
    if expected.ndim >= 2:
        if _close(got, expected[..., ::-1, ::-1], tol):
            return "kernel not flipped? got is expected rotated by 180 degrees (rot180 forgotten or applied twice)"
        if expected.shape[-1] == expected.shape[-2] and _close(got, np.swapaxes(expected, -1, -2), tol):
            return "transposed: got is expected with rows and columns swapped (a row scan for a column scan?)"
    norm = float(np.sum(expected * expected))
    if norm > 0 and expected.size >= 4:  # a factor between two short vectors is a coincidence
        c = float(np.sum(got * expected)) / norm
        if _close(got, c * expected, tol * max(1.0, abs(c))):
            name = _factor_name(c)
            if name:
                return name
    for axis, word in ((-2, "row"), (-1, "column")):
        if expected.ndim < (1 if axis == -1 else 2) or expected.shape[axis] < 3:
            continue
        for step, way in ((1, "down" if axis == -2 else "right"), (-1, "up" if axis == -2 else "left")):
            keep = slice(0, -1) if step == 1 else slice(1, None)
            moved = slice(1, None) if step == 1 else slice(0, -1)
            ix_exp = [slice(None)] * expected.ndim
            ix_got = [slice(None)] * expected.ndim
            ix_exp[axis], ix_got[axis] = keep, moved
            if _close(got[tuple(ix_got)], expected[tuple(ix_exp)], tol):
                return f"off by one {word}: got is expected shifted {way} by one {word} (an index off by one?)"
    return None


def hint(got, expected: np.ndarray, atol: float, mistakes=None) -> str | None:
    """The first known mistake that ``got`` matches (see the module's docstring), or None.

    Inputs: ``got`` (anything array-like), ``expected`` a float array, ``atol`` the case's
    tolerance, ``mistakes`` a dict ``{description: array or zero-argument callable returning
    one}`` of wrong answers the check knows for this case. Never raises.
    """
    try:
        got = np.asarray(got, dtype=np.float64)
        expected = np.asarray(expected, dtype=np.float64)
        scale = float(np.max(np.abs(expected))) if expected.size else 0.0
        tol = max(10.0 * atol, 1e-9 * scale, 1e-12)
        shape_ok = got.shape == expected.shape
        for description, wrong in (mistakes or {}).items():
            try:
                wrong = np.asarray(wrong() if callable(wrong) else wrong, dtype=np.float64)
            except Exception:  # a mistake the check cannot compute gives no hint
                continue
            if (shape_ok and _close(got, wrong, tol)) or (not shape_ok and wrong.shape == got.shape):
                return description
        if not shape_ok:
            return _shape_hint(got, expected)
        if expected.size == 0 or not np.all(np.isfinite(got)):
            return None
        return _value_hint(got, expected, tol)
    except Exception:  # a hint is a courtesy: never let it break a check
        return None


def stub_owner(exc: BaseException) -> str | None:
    """Name of the function that raised ``exc`` when it is not the function being checked.

    The function being checked is the first frame of the traceback outside ``helpers/checks``
    (a check's lambda calls it); the innermost frame is the one that raised. If they differ,
    the checked function called another one that is not written yet (say, another exercise's
    stub): its name is returned. None when the checked function raised it itself.
    """
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame.f_code)
        tb = tb.tb_next
    outside = [code for code in frames if not os.path.abspath(code.co_filename).startswith(_CHECKS_DIR + os.sep)]
    if not outside or outside[-1] is outside[0]:
        return None
    return getattr(outside[-1], "co_qualname", outside[-1].co_name)


def checked_name(exc: BaseException) -> str | None:
    """Name of the function being checked (the first frame outside ``helpers/checks``), or None."""
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if not os.path.abspath(code.co_filename).startswith(_CHECKS_DIR + os.sep):
            return getattr(code, "co_qualname", code.co_name)
        tb = tb.tb_next
    return None
