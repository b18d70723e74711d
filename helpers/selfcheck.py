"""Self-checks for the exercises at the end of each notebook.

A student writes a function; ``check_<thing>(their_function)`` runs it on a few cases against an
independent computation from :mod:`helpers` and prints one line per case, ``pass`` or what went
wrong. Each check returns ``True`` when every case passes, so a notebook can also ``assert`` it.

All checks share :func:`run_cases`; a check only has to say what the cases are.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np


def run_cases(title: str, cases: Iterable[tuple[str, Callable[[], object], object]], atol: float = 1e-8) -> bool:
    """Run ``(name, compute, expected)`` cases and print one line each.

    ``compute()`` calls the student's function; its result is compared with ``expected``
    (arrays by shape and ``max |difference| <= atol``, anything else by ``==``). An exception
    counts as a failure and its type and message are printed instead of a traceback.
    """
    print(title)
    passed = total = 0
    for name, compute, expected in cases:
        total += 1
        try:
            got = compute()
        except Exception as exc:  # the student's code may raise anything
            print(f"  FAIL  {name}: raised {type(exc).__name__}: {exc}")
            continue
        ok, why = _compare(got, expected, atol)
        passed += ok
        print(f"  {'pass' if ok else 'FAIL'}  {name}" + ("" if ok else f": {why}"))
    print(f"{passed} of {total} cases pass")
    return passed == total


def _compare(got, expected, atol):
    if isinstance(expected, (np.ndarray, list, tuple)) and not isinstance(expected, str):
        exp = np.asarray(expected)
        try:
            arr = np.asarray(got, dtype=np.float64) if exp.dtype.kind in "fiub" else np.asarray(got)
        except (TypeError, ValueError):
            return False, f"expected an array of shape {exp.shape}, got {type(got).__name__}"
        if arr.shape != exp.shape:
            return False, f"shape {arr.shape}, expected {exp.shape}"
        if exp.dtype.kind in "fiub":
            err = float(np.max(np.abs(arr - exp))) if exp.size else 0.0
            return (err <= atol), f"max |difference| = {err:.2e}"
        return bool(np.array_equal(arr, exp)), "values differ"
    if isinstance(expected, float):
        try:
            err = abs(float(got) - expected)
        except (TypeError, ValueError):
            return False, f"expected a number, got {type(got).__name__}"
        return err <= atol, f"|difference| = {err:.2e}"
    return got == expected, f"got {got!r}, expected {expected!r}"
