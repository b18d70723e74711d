"""Tests for helpers.checks.base: run_cases compares and reports, agree prints its one line, and
the shared pieces (leaves_inputs_alone, pick, pick_key) behave as the checks rely on."""

import numpy as np
import pytest

from helpers import checks
from helpers.checks import base


def test_run_cases_compares_arrays_numbers_and_other_values(capsys):
    cases = [
        ("array within atol", lambda: np.ones(3) + 1e-10, np.ones(3)),
        ("list against array", lambda: [1.0, 2.0], np.array([1.0, 2.0])),
        ("float", lambda: 0.5, 0.5),
        ("string", lambda: "correlation", "correlation"),
        ("int", lambda: 7, 7),
    ]
    assert checks.run_cases("all good", cases) is True
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "all good"
    assert out.strip().splitlines()[-1] == "5 of 5 cases pass"


@pytest.mark.parametrize("compute, expected, why", [
    (lambda: np.ones(3) + 1e-3, np.ones(3), "max |difference| = 1.00e-03"),
    (lambda: np.ones((3, 1)), np.ones(3), "shape (3, 1), expected (3,)"),
    (lambda: "abc", np.ones(3), "expected an array of shape (3,), got str"),
    (lambda: "x", 1.0, "expected a number, got str"),
    (lambda: 0.75, 0.5, "|difference| = 2.50e-01"),
    (lambda: "convolution", "correlation", "got 'convolution', expected 'correlation'"),
    (lambda: 1 / 0, 1.0, "raised ZeroDivisionError"),
])
def test_run_cases_explains_each_failure(compute, expected, why, capsys):
    assert checks.run_cases("one case", [("the case", compute, expected)]) is False
    out = capsys.readouterr().out
    assert "FAIL  the case" in out and why in out
    assert out.strip().splitlines()[-1] == "0 of 1 cases pass"


def test_run_cases_runs_every_case_after_a_failure(capsys):
    cases = [("first", lambda: 1 / 0, 1.0), ("second", lambda: 1.0, 1.0), ("third", lambda: 2.0, 1.0)]
    assert checks.run_cases("three", cases) is False
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines[1:4]] == ["FAIL", "pass", "FAIL"]
    assert lines[-1] == "1 of 3 cases pass"


def test_agree_prints_the_shape_and_the_verdict(capsys):
    assert base.agree("C1", np.ones((2, 3)), np.ones((2, 3)) + 1e-13) is None
    base.agree("S1", np.zeros(4), np.ones(4), name_width=4, shape_width=6)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "C1           (2, 3)         max |loops - fast| < 1e-12: True"
    assert lines[1] == "S1   (4,)   max |loops - fast| < 1e-12: False"


def test_leaves_inputs_alone_sees_changes_to_arrays_and_dicts():
    args = (np.ones(3), {"W": np.zeros(2)}, 0.5)
    assert base.leaves_inputs_alone(lambda a, d, lr: a + 1, args) is True

    def scribble(a, d, lr):
        d["W"] += 1

    assert base.leaves_inputs_alone(scribble, args) is False
    assert np.array_equal(args[1]["W"], np.zeros(2))  # only the copies were changed


def test_pick_and_pick_key_name_what_is_wrong():
    assert base.pick((1, 2, 3), 1, ("a", "b", "c")) == 2
    with pytest.raises(TypeError, match=r"tuple \('a', 'b', 'c'\), got tuple of length 2"):
        base.pick((1, 2), 0, ("a", "b", "c"))
    assert base.pick_key({"k": 1}, "k") == 1
    with pytest.raises(TypeError, match="expected a dict"):
        base.pick_key([1], "k")
    with pytest.raises(KeyError, match="no key 'k'"):
        base.pick_key({}, "k")


def test_the_package_exports_every_check_of_its_modules():
    from helpers.checks import convolution, errata, fc, forward, networks, pooling, training

    for module in (base, convolution, errata, fc, forward, networks, pooling, training):
        public = {name for name, obj in vars(module).items() if not name.startswith("_") and callable(obj)
                  and getattr(obj, "__module__", None) == module.__name__}
        assert public <= set(module.__all__) <= set(checks.__all__), (module.__name__, public - set(module.__all__))
        assert all(getattr(checks, name) is getattr(module, name) for name in module.__all__)


class _Uncomparable:
    def __eq__(self, other):
        raise RuntimeError("no comparing me")


@pytest.mark.parametrize("compute, expected, why", [
    (lambda: np.array([24, 0]), 24, "got array([24,  0]), expected 24"),
    (lambda: np.array([24]), 24, "got array([24]), expected 24"),
    (lambda: _Uncomparable(), 24, "RuntimeError: no comparing me"),
])
def test_run_cases_turns_a_result_it_cannot_compare_into_a_fail_line(compute, expected, why, capsys):
    assert checks.run_cases("one case", [("the case", compute, expected)]) is False
    out = capsys.readouterr().out
    assert "FAIL  the case" in out and why in out
    assert out.strip().splitlines()[-1] == "0 of 1 cases pass"


def test_check_output_size_fails_each_case_of_an_array_answer(capsys):
    assert checks.check_output_size(lambda n, f, p, s: np.array([n, 0])) is False
    lines = capsys.readouterr().out.strip().splitlines()
    assert all(line.split()[0] == "FAIL" for line in lines[1:-1]) and len(lines) == 11
    assert lines[-1] == "0 of 9 cases pass"
