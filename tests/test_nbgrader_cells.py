"""Tests for scripts/nbgrader_cells.py on small synthetic notebooks (no nbgrader needed): exercise
cells split into an nbgrader answer cell and a locked test cell with hidden tests, metadata and tags
kept, stable ids, idempotent, and a cell it cannot convert refused before anything is written."""

import importlib.util
import os
import stat
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("nbgrader_cells", ROOT / "scripts" / "nbgrader_cells.py")
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

EXERCISE = '''def my_double(x):
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

_ = checks.check_double(my_double)'''


def _notebook(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _exercise(source=EXERCISE, **metadata):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata.update(metadata)
    cell.outputs = [nbformat.v4.new_output("stream", text="check_double: ...\n")]
    cell.execution_count = 3
    return cell


def _book():
    return _notebook(nbformat.v4.new_markdown_cell("**Exercise 3.2.** Write `my_double(x)`."),
                     _exercise(tags=["hide-input"], jupyter={"source_hidden": True}),
                     nbformat.v4.new_markdown_cell("**Exercise 3.3.** Two functions, two checks."),
                     _exercise(EXERCISE + "\npassed = checks.check_half(my_half)\n"))


def test_an_exercise_cell_becomes_an_answer_cell_and_a_locked_test_cell():
    nb = _book()
    made = tool.convert(nb, "03_x.ipynb")
    assert made == [("ex3_2_answer", "ex3_2_test", ["check_double"]),
                    ("ex3_3_answer", "ex3_3_test", ["check_double", "check_half"])]
    answer, test = nb.cells[1], nb.cells[2]
    assert answer.source == EXERCISE.split("\n\n_ =")[0]
    assert answer.metadata["nbgrader"] == {"grade": False, "grade_id": "ex3_2_answer", "locked": False,
                                           "schema_version": 3, "solution": True}
    assert answer.metadata["tags"] == ["hide-input"] and answer.metadata["jupyter"] == {"source_hidden": True}
    assert answer.outputs == [] and answer.execution_count is None
    assert test.metadata["nbgrader"] == {"grade": True, "grade_id": "ex3_2_test", "locked": True, "points": 1,
                                         "schema_version": 3, "solution": False}
    assert test.metadata["editable"] is False and test.metadata["deletable"] is False
    assert "tags" not in test.metadata and "jupyter" not in test.metadata  # the check stays shown
    assert test.source.split("\n") == [
        'assert checks.check_double(my_double), "check_double: does not pass (see the lines above)"',
        "### BEGIN HIDDEN TESTS",
        'assert checks.check_double(my_double, hidden=True), "check_double: a hidden case does not pass"',
        "### END HIDDEN TESTS"]
    two = nb.cells[5]
    assert two.metadata["nbgrader"]["points"] == 2 and "checks.check_half(my_half, hidden=True)" in two.source
    assert len({c.id for c in nb.cells}) == len(nb.cells)
    nbformat.validate(nb)


def test_converting_twice_changes_nothing():
    nb = _book()
    tool.convert(nb, "03_x.ipynb")
    once = nbformat.writes(nb)
    assert tool.convert(nb, "03_x.ipynb") == []
    assert nbformat.writes(nb) == once


def test_a_check_already_in_the_next_cell_becomes_the_test_cell():
    answer = _exercise(EXERCISE.split("\n\n_ =")[0])
    check = nbformat.v4.new_code_cell("# the check\nchecks.check_double(my_double)")
    nb = _notebook(nbformat.v4.new_markdown_cell("**Exercise 1.4.**"), answer, check)
    made = tool.convert(nb, "01_x.ipynb")
    assert made == [("ex1_4_answer", "ex1_4_test", ["check_double"])]
    assert len(nb.cells) == 3 and nb.cells[2].id == check.id and nb.cells[2].metadata["nbgrader"]["grade"]


def test_ids_without_an_exercise_heading_use_the_notebook_number_and_stay_unique():
    nb = _notebook(_exercise(), _exercise())
    made = tool.convert(nb, "07_y.ipynb")
    assert [m[0] for m in made] == ["ex7_1_answer", "ex7_2_answer"]
    same = _notebook(nbformat.v4.new_markdown_cell("**Exercise 2.1.**"), _exercise(), _exercise())
    assert [m[0] for m in tool.convert(same, "02.ipynb")] == ["ex2_1_answer", "ex2_1b_answer"]


@pytest.mark.parametrize("source, message", [
    ("def f():\n    ### BEGIN SOLUTION\n    return 1\n\nchecks.check_f(f)", "BEGIN SOLUTION without an END SOLUTION"),
    ("def f():\n    return 1\n    ### END SOLUTION\nchecks.check_f(f)", "END SOLUTION without a BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "a second BEGIN SOLUTION"),
    (EXERCISE + "\nprint('more')", "code after the self-check"),
])
def test_a_cell_it_cannot_convert_is_refused_and_nothing_changes(source, message):
    nb = _notebook(_exercise(), _exercise(source))
    before = nbformat.writes(nb)
    with pytest.raises(ValueError, match=message):
        tool.convert(nb, "05_x.ipynb")
    assert nbformat.writes(nb) == before


def test_markers_outside_code_cells_and_stray_hidden_tests_are_refused():
    with pytest.raises(ValueError, match="marker in a markdown cell"):
        tool.convert(_notebook(nbformat.v4.new_markdown_cell("### BEGIN SOLUTION")), "x.ipynb")
    with pytest.raises(ValueError, match="hidden tests in a cell"):
        tool.convert(_notebook(nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS")), "x.ipynb")


def test_the_script_writes_atomically_keeps_the_mode_and_writes_nothing_on_error(tmp_path, capsys):
    good, bad = tmp_path / "03_a.ipynb", tmp_path / "04_b.ipynb"
    nbformat.write(_book(), good)
    nbformat.write(_notebook(_exercise("### BEGIN SOLUTION\nx = 1")), bad)
    os.chmod(good, 0o640)
    before = good.read_bytes()
    assert tool.main([str(good), str(bad)]) == 1
    assert "04_b.ipynb, cell 0: BEGIN SOLUTION without an END SOLUTION (nothing was written)" in capsys.readouterr().err
    assert good.read_bytes() == before
    assert tool.main([str(good), "--check"]) == 0 and good.read_bytes() == before
    assert tool.main([str(good)]) == 0
    assert stat.S_IMODE(good.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    converted = good.read_bytes()
    assert converted != before
    capsys.readouterr()
    assert tool.main([str(good)]) == 0 and good.read_bytes() == converted
    assert "03_a.ipynb: nothing to do" in capsys.readouterr().out


def test_show_answers_unhides_only_the_answer_cells_of_a_release(tmp_path, capsys):
    nb = _book()
    nb.cells.append(_exercise("x = 1", tags=["hide-input", "keep"], jupyter={"source_hidden": True}))
    tool.convert(nb, "03_x.ipynb")
    path = tmp_path / "03_x.ipynb"
    nbformat.write(nb, path)
    assert tool.main(["--show-answers", str(path)]) == 0
    assert "03_x.ipynb: 1 answer cell(s) unhidden" in capsys.readouterr().out
    cells = nbformat.read(path, as_version=4).cells
    answer = next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex3_2_answer")
    assert "jupyter" not in answer.metadata and "tags" not in answer.metadata
    assert cells[-1].metadata["tags"] == ["hide-input", "keep"]  # not an nbgrader answer cell
    assert cells[-1].metadata["jupyter"] == {"source_hidden": True}
