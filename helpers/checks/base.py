"""What every exercise check shares: running cases, comparing results, small independent math.

A student writes a function; ``check_<thing>(their_function)`` runs it on a few cases against an
independent computation and prints one line per case, ``pass`` or what went wrong. Each check
returns ``True`` when every case passes, so a notebook can also ``assert`` it. All checks share
:func:`run_cases`; a check only has to say what its cases are.
"""

from __future__ import annotations

import numbers
from typing import Callable, Iterable

import numpy as np

from helpers.checks import feedback


__all__ = ["run_cases", "compare", "agree", "sigmoid64", "log_softmax64", "pick", "gradient_cases", "case_rng",
           "leaves_inputs_alone", "pick_key"]


def run_cases(title: str, cases: Iterable[tuple], atol: float = 1e-8, *, hidden: bool = False) -> bool:
    """Run ``(name, compute, expected)`` or ``(name, compute, expected, mistakes)`` cases and
    print one line each; return True only when every case passes. Never raises.

    ``compute()`` calls the student's function; its result is compared with ``expected``
    (arrays by shape and ``max |difference| <= atol``, anything else by ``==``, which must give
    True or False). An exception, raised by the student's code or while comparing its result,
    counts as a failure and its type and message are printed instead of a traceback. A failing
    array case also prints, indented below its line, expected versus got at the worst position
    (``at [i, j]: expected 0.1234, got 0.5678``) and, when the difference matches a known
    mistake, a ``hint:`` line (:func:`helpers.checks.feedback.hint`; ``mistakes`` is an optional
    dict ``{description: wrong answer or callable giving it}`` the check knows for the case).

    A function that still raises ``NotImplementedError`` (the stub of the student edition, made
    by ``scripts/make_student_edition.py``) is not graded case by case: the check prints the one
    line ``<title>: not implemented yet`` and returns False. When the error comes from another
    function the checked one calls (another exercise's stub, say), the line names it:
    ``<title>: my_fn calls other_fn, which is not implemented yet``.

    ``hidden=True`` marks the title ``(hidden cases)``: the check ran the extra cases that an
    nbgrader test cell keeps between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.
    """
    if hidden:
        head, colon, rest = title.partition(":")
        title = f"{head} (hidden cases){colon}{rest}"
    lines = [title]
    passed = total = 0
    for case in cases:
        name, compute, expected = case[:3]
        mistakes = case[3] if len(case) > 3 else None
        total += 1
        try:
            got = compute()
        except NotImplementedError as exc:
            owner = feedback.stub_owner(exc)
            where = f"{feedback.checked_name(exc)} calls {owner}, which is " if owner else ""
            print(f"{title.split(':')[0]}: {where}not implemented yet")
            return False
        except Exception as exc:  # the student's code may raise anything
            lines.append(f"  FAIL  {name}: raised {type(exc).__name__}: {_message(exc)}")
            continue
        try:
            ok, why = compare(got, expected, atol)
            ok = bool(ok)
        except Exception as exc:  # a result whose comparison itself fails is a wrong result
            ok, why = False, f"the result could not be compared: {type(exc).__name__}: {_message(exc)}"
        passed += ok
        lines.append(f"  {'pass' if ok else 'FAIL'}  {name}" + ("" if ok else f": {why}"))
        if not ok:
            lines += [f"        {line}" for line in _details(got, expected, atol, mistakes)]
    lines.append(f"{passed} of {total} cases pass")
    print("\n".join(lines))
    return passed == total


def _message(exc: BaseException) -> str:
    """``str(exc)``, or a placeholder when even that raises."""
    try:
        return str(exc)
    except Exception:
        return "(its message cannot be printed)"


def _details(got, expected, atol, mistakes) -> list[str]:
    """The indented lines under a FAIL line of an array case: worst position and hint. Never raises."""
    if not isinstance(expected, (np.ndarray, list, tuple)):
        return []
    out = []
    try:
        expected = np.asarray(expected)
        if expected.dtype.kind not in "fiub":
            return []
        arr = np.asarray(got, dtype=np.float64)
        if arr.shape == expected.shape and expected.size:
            out.append(feedback.worst_position(arr, expected.astype(np.float64)))
    except Exception:  # the FAIL line already says why; these lines are extras
        pass
    why = feedback.hint(got, expected, atol, mistakes)
    if why:
        out.append(f"hint: {why}")
    return out


def compare(got, expected, atol):
    """``(ok, why)``: whether ``got`` matches ``expected`` (see :func:`run_cases`) and, if not, why."""
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
            value = float(got)
        except (TypeError, ValueError):
            return False, f"expected a number, got {type(got).__name__}"
        err = abs(value - expected)
        return err <= atol, f"|difference| = {err:.2e} (expected {expected:.6g}, got {value:.6g})"
    same = got == expected
    if not isinstance(same, (bool, np.bool_)):  # an array compared with a number, say
        return False, f"got {got!r}, expected {expected!r}"
    kind = str if isinstance(expected, str) else (numbers.Number, np.generic) if isinstance(
        expected, numbers.Number) else object
    if same and not isinstance(got, kind):  # an object whose == says True to anything is no answer
        return False, f"expected {type(expected).__name__} {expected!r}, got a {type(got).__name__}"
    return bool(same), f"got {got!r}, expected {expected!r}"


def agree(name, loops, fast, *, name_width: int = 12, shape_width: int = 14) -> None:
    """Print the one-line proof that a loops version and a fast version compute the same array.

    Inputs: ``loops`` and ``fast``, arrays of the same shape; ``name`` labels the line (padded to
    ``name_width`` characters, the shape to ``shape_width``). Prints ``name shape max |loops -
    fast| < 1e-12: True`` (or ``False``). Returns nothing, so that a notebook cell ending with
    the call shows only the printed line.
    """
    ok = bool(np.abs(loops - fast).max() < 1e-12)
    print(f"{name:{name_width}s} {str(np.shape(loops)):{shape_width}s} max |loops - fast| < 1e-12: {ok}")


def sigmoid64(z):
    """The logistic sigmoid ``1 / (1 + exp(-z))`` in float64, written here so that checks do not
    depend on :mod:`helpers.activations`, the code they check."""
    return 1.0 / (1.0 + np.exp(-z))


def log_softmax64(z):
    """``log softmax(z)`` of a vector (K,), shifted by ``max z`` so that large logits do not overflow."""
    shifted = z - z.max()
    return shifted - np.log(np.exp(shifted).sum())


def pick(result, k, names):
    """Entry ``k`` of a student's ``(dW, db, df)`` result, with a clear error if it is not a triple."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise TypeError(f"the function must return a tuple {tuple(names)}, got {type(result).__name__}"
                        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    return result[k]


def gradient_cases(fn, label, args, expected, names):
    """One case per returned array; the inputs are copied for every call."""
    cases = []
    for k, name in enumerate(names):
        def compute(k=k):
            return pick(fn(*[np.array(a, copy=True) for a in args]), k, names)
        cases.append((f"{label}: {name}", compute, expected[k]))
    return cases


def _copy_input(value):
    """A deep enough copy of one argument: dicts of arrays and arrays are copied, numbers kept."""
    if isinstance(value, dict):
        return {k: np.array(v, copy=True) for k, v in value.items()}
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def leaves_inputs_alone(fn, args):
    """Call ``fn`` on copies of ``args`` (dicts of arrays, arrays, numbers); True if the copies
    are unchanged afterwards."""
    copies = [_copy_input(a) for a in args]
    fn(*copies)
    for copy, original in zip(copies, args):
        if isinstance(original, dict):
            if set(copy) != set(original) or not all(np.array_equal(copy[k], original[k]) for k in original):
                return False
        elif isinstance(original, np.ndarray) and not np.array_equal(copy, original):
            return False
    return True


def pick_key(result, key):
    """Entry ``key`` of a student's dict result, with a clear error if it is not a dict or lacks it."""
    if not isinstance(result, dict):
        raise TypeError(f"expected a dict of arrays, got {type(result).__name__}")
    if key not in result:
        raise KeyError(f"the result has no key {key!r}")
    return result[key]


def case_rng(seed: int, hidden: bool) -> np.random.Generator:
    """The random generator of a check's cases: ``seed`` for the visible cases, another seed for
    the hidden ones (``hidden=True``), so that hidden cases draw numbers the visible never show."""
    return np.random.default_rng(seed + 7919 * bool(hidden))
