"""Tests for what a failing check says (helpers.checks.feedback through run_cases): expected versus
got at the worst position, one hint per known mistake (each wrong function triggers exactly its
hint), NotImplementedError raised by another function named, checks that never raise whatever the
student's function does, and the hidden cases of every check (hidden=True)."""

import re

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import test_checks as T  # noqa: E402

from helpers import checks  # noqa: E402
from helpers.convolution import convolve2d  # noqa: E402


def _hints(out):
    return {line.strip() for line in out.splitlines() if line.strip().startswith("hint:")}


def test_a_failing_array_case_prints_expected_and_got_at_the_worst_position(capsys):
    expected = np.zeros((2, 3))
    got = np.full((2, 3), 0.01)
    got[1, 2] = 0.5678
    assert checks.run_cases("t", [("c", lambda: got, expected)]) is False
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "  FAIL  c: max |difference| = 5.68e-01"
    assert lines[2] == "        at [1, 2]: expected 0, got 0.5678"


def test_a_nan_is_the_worst_position(capsys):
    got = np.array([1.0, np.nan, 3.0])
    checks.run_cases("t", [("c", lambda: got, np.array([1.0, 2.0, 2.0]))])
    assert "at [1]: expected 2, got nan" in capsys.readouterr().out


def test_a_float_case_prints_expected_and_got(capsys):
    checks.run_cases("t", [("c", lambda: 0.75, 0.5)])
    assert "|difference| = 2.50e-01 (expected 0.5, got 0.75)" in capsys.readouterr().out


def test_passing_lines_are_unchanged(capsys):
    assert checks.run_cases("t: x", [("c", lambda: np.ones(2), np.ones(2))]) is True
    assert capsys.readouterr().out == "t: x\n  pass  c\n1 of 1 cases pass\n"


def _full_conv(x, k):
    return convolve2d(x, k, mode="full")


def _shifted_conv(x, k):  # an index off by one: output row i reads the window of row i + 1
    out = convolve2d(x, k)
    return np.vstack([out[1:], np.zeros((1, out.shape[1]))])


# what each kind of hint says, and one phrase only that kind uses
KINDS = {"flip": "rot180", "transposed": "transposed", "factor": "x expected: a factor 1/", "sign": "sign is flipped",
         "shift": "off by one", "mode": "wrong mode"}

# (check, wrong function, kind of mistake, the hint it must print)
HINTS = [
    ("check_convolve2d", lambda x, k: T.correlate2d(x, k), "flip", "kernel not flipped: this is cross-correlation"),
    ("check_conv_kernel_grad", lambda S, dz: T.conv_kernel_grad(S, dz, flip=False), "flip",
     "rotated by 180 degrees"),
    ("check_full_conv_input_grad", lambda dz, k: T.full_conv_input_grad(dz, k, flip=False), "flip",
     "kernel not flipped (rot180 forgotten)"),
    ("check_unflatten", lambda df: np.asarray(df).reshape(12, 4, 4), "transposed", "transposed"),
    ("check_seed003_upsample_error", lambda dP, C: T._upsample(dP, scale=1.0) * C * (1 - C), "factor",
     "got = 4 x expected: a factor 1/4 is missing (the 1/4 of 2x2 average pooling"),
    ("check_fc_backward_batch", lambda W, F, Yh, Y: tuple(a * F.shape[0] for a in T.fc_backward_batch(W, F, Yh, Y)),
     "factor", "x expected: a factor 1/"),
    ("check_softmax_ce_delta", lambda z, y: -T.softmax_ce_delta(z, y), "sign", "the sign is flipped"),
    ("check_convolve2d", _shifted_conv, "shift", "off by one row: got is expected shifted up by one row"),
    ("check_convolve2d", _full_conv, "mode", "wrong mode"),
]


@pytest.mark.parametrize("check_name, wrong, kind, hint", HINTS, ids=[f"{c}-{k}" for c, _, k, _ in HINTS])
def test_each_known_mistake_gets_its_hint_and_no_other(check_name, wrong, kind, hint, capsys):
    with np.errstate(all="ignore"):
        assert getattr(checks, check_name)(wrong) is False
    out = capsys.readouterr().out
    hints = _hints(out)
    assert hints and all(hint in h and KINDS[kind] in h for h in hints), out
    assert not any(phrase in h for other, phrase in KINDS.items() if other != kind for h in hints), out
    if check_name == "check_fc_backward_batch":  # N = 4 and N = 7 images: each its own factor
        assert any("got = 7 x expected" in h for h in hints) and any("got = 4 x expected" in h for h in hints)


def test_a_correct_result_of_the_other_mode_is_named_by_shape(capsys):
    assert checks.check_convolve2d(_full_conv) is False
    out = capsys.readouterr().out
    assert "hint: wrong mode: 4 row(s) and 4 column(s) too many, as a FULL result" in out


def test_no_hint_for_a_difference_that_matches_no_known_mistake(capsys):
    rng = np.random.default_rng(0)
    noise = rng.standard_normal((6, 6))
    checks.run_cases("t", [("c", lambda: noise, rng.standard_normal((6, 6)))])
    assert not _hints(capsys.readouterr().out)


def _stub_of_another_exercise(z, y):
    raise NotImplementedError()


def my_softmax_delta(z, y):
    return _stub_of_another_exercise(z, y)


def my_own_stub(z, y):
    raise NotImplementedError()


def test_not_implemented_in_another_function_is_named(capsys):
    assert checks.check_softmax_ce_delta(my_softmax_delta) is False
    assert capsys.readouterr().out == ("check_softmax_ce_delta: my_softmax_delta calls _stub_of_another_exercise, "
                                       "which is not implemented yet\n")


def test_the_checked_functions_own_stub_keeps_its_line(capsys):
    assert checks.check_softmax_ce_delta(my_own_stub) is False
    assert capsys.readouterr().out == "check_softmax_ce_delta: not implemented yet\n"


# ----------------------------------------------------------------------------------------------
# Never raises, True only when every case passes
# ----------------------------------------------------------------------------------------------


class _Custom(Exception):
    pass


class _EqualsAnything:
    def __eq__(self, other):
        return True

    __hash__ = None


class _BadArray:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array for you")

    def __eq__(self, other):
        raise RuntimeError("no comparing me")


GARBAGE = [None, "a string", object(), {}, [], _EqualsAnything(), _BadArray(), np.full((3, 3), np.nan),
           np.ones((7, 7)) * 1j, (x for x in range(3)), np.zeros((200, 1)), float("nan"), -1, True]
RAISES = [ValueError("bad"), KeyError("k"), _Custom("custom"), ZeroDivisionError("zero"), IndexError("i"),
          TypeError("t"), RecursionError("deep"), AssertionError("assert"), MemoryError("memory")]


def _cycling(items, raising):
    calls = [0]

    def student(*args, **kwargs):
        item = items[calls[0] % len(items)]
        calls[0] += 1
        if raising:
            raise item
        return item
    return student


@pytest.mark.parametrize("check_name", T.ALL_CHECKS)
def test_a_check_never_raises_and_is_true_only_when_every_case_passes(check_name, capsys):
    for fn in (_cycling(GARBAGE, False), _cycling(RAISES, True)):
        with np.errstate(all="ignore"):
            result = getattr(checks, check_name)(fn)
        out = capsys.readouterr().out
        assert result is False, out
        last = out.strip().splitlines()[-1]
        passed, total = (int(w) for w in re.match(r"(\d+) of (\d+) cases pass", last).groups())
        assert passed < total


def test_an_object_equal_to_anything_is_no_answer(capsys):
    assert checks.check_output_size(lambda n, f, p, s: _EqualsAnything()) is False
    assert "got a _EqualsAnything" in capsys.readouterr().out


# ----------------------------------------------------------------------------------------------
# Hidden cases: check_x(fn, hidden=True)
# ----------------------------------------------------------------------------------------------


def _fingerprint(value):
    if isinstance(value, dict):
        return tuple(sorted((k, _fingerprint(v)) for k, v in value.items()))
    if isinstance(value, np.ndarray):
        return (value.shape, value.tobytes())
    if callable(value):  # a routine of 09.1 or 09.3: its code
        return getattr(value, "__code__", value)
    return repr(value)


def _recording(solution, calls):
    def student(*args):
        calls.append(tuple(_fingerprint(a) for a in args))
        return solution(*args)
    return student


@pytest.mark.parametrize("check_name, solution", T.CORRECT, ids=[f"{n}-{i}" for i, (n, _) in enumerate(T.CORRECT)])
def test_hidden_cases_pass_a_correct_solution_on_inputs_the_visible_cases_never_use(check_name, solution, capsys):
    visible, hidden = [], []
    assert getattr(checks, check_name)(_recording(solution, visible)) is True
    assert getattr(checks, check_name)(_recording(solution, hidden), hidden=True) is True, capsys.readouterr().out
    out = capsys.readouterr().out
    assert f"{check_name} (hidden cases):" in out
    assert hidden and set(hidden) - set(visible), "the hidden cases repeat the visible ones"


@pytest.mark.parametrize("check_name, wrong", T.WRONG, ids=[f"{n}-{i}" for i, (n, _) in enumerate(T.WRONG)])
def test_hidden_cases_reject_the_plausible_mistakes(check_name, wrong, capsys):
    with np.errstate(all="ignore"):
        assert getattr(checks, check_name)(wrong, hidden=True) is False, capsys.readouterr().out
