"""The student edition: nbgrader's solution markers and cell metadata in the book, the script
that strips them, the one-line "not implemented yet" report of every self-check, and runs of the
stripped notebooks (slow: every notebook is executed once more, with each exercise's solution put
back in turn).
"""

import importlib.util
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # this module only: notebooks keep their inline backend

import nbformat  # noqa: E402
import pytest  # noqa: E402

from helpers import checks  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "make_student_edition.py"
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"


def _script():
    spec = importlib.util.spec_from_file_location("make_student_edition", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _solution_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and BEGIN in c.source]


def _check_calls(source):
    return re.findall(r"checks\.(check_\w+)\(", source)


def _grader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _exercises(nb):
    """``[(answer index, test index, exercise id)]`` of a notebook, from nbgrader's grade ids
    ``exN_K_answer`` / ``exN_K_test``."""
    index = {_grader(c).get("grade_id"): i for i, c in enumerate(nb.cells) if _grader(c)}
    return [(i, index[gid[:-len("answer")] + "test"], gid[:-len("_answer")])
            for gid, i in index.items() if gid and gid.endswith("_answer")]


# --------------------------------------------------------------------------------------------
# The book: markers, hidden solutions, exercises numbered n.k, nbgrader's answer and test cells
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=[p.stem for p in NOTEBOOKS[1:]])
def test_every_exercise_solution_is_marked_and_hidden(path):
    cells = _solution_cells(path)
    assert cells, "a notebook with exercises has reference solutions between nbgrader's markers"
    for cell in cells:
        assert cell.source.count(BEGIN) == cell.source.count(END) >= 1
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True
        assert "hide-input" in cell.metadata.get("tags", [])


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=[p.stem for p in NOTEBOOKS[1:]])
def test_every_exercise_is_an_answer_cell_and_a_locked_test_cell(path):
    """Issue 20: the solution sits in an nbgrader answer cell, its check in the read-only test
    cell right below it that asserts the check, visible cases then hidden ones."""
    nb = nbformat.read(path, as_version=4)
    exercises = _exercises(nb)
    assert len(exercises) == len(_solution_cells(path))
    for answer, test, name in exercises:
        assert test == answer + 1, name
        assert BEGIN in nb.cells[answer].source and not _check_calls(nb.cells[answer].source), name
        assert _grader(nb.cells[answer]) == {"grade": False, "grade_id": f"{name}_answer", "locked": False,
                                              "schema_version": 3, "solution": True}
        grader, cell = _grader(nb.cells[test]), nb.cells[test]
        assert grader["grade"] and grader["locked"] and not grader["solution"] and grader["points"] >= 1, name
        assert cell.metadata["editable"] is False and cell.metadata["deletable"] is False
        visible, _, hidden = cell.source.partition("### BEGIN HIDDEN TESTS\n")
        assert hidden.endswith("### END HIDDEN TESTS"), name
        assert all(line.startswith("assert checks.check_") for line in visible.splitlines()), name
        assert _check_calls(visible) == _check_calls(hidden) and "hidden=True" in hidden, name


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=[p.stem for p in NOTEBOOKS[1:]])
def test_exercises_are_numbered_n_k(path):
    n = int(path.name[:2])
    text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
    numbers = re.findall(r"\*\*Exercise ([0-9.]+)", text)
    assert numbers, "the notebook has exercises"
    assert all(re.fullmatch(rf"{n}\.[1-9]", num.rstrip(".")) for num in numbers), numbers


# --------------------------------------------------------------------------------------------
# The stripping rule (nbgrader's ClearSolutions) and the script's file handling
# --------------------------------------------------------------------------------------------


def test_strip_solutions_keeps_the_signature_and_stubs_the_body():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    y = 2 * x\n    return y\n    ### END SOLUTION\n\ncheck(f)"
    assert _script().strip_solutions(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\ncheck(f)")


@pytest.mark.parametrize("source", [
    "def f():\n    ### BEGIN SOLUTION\n    return 1",
    "def f():\n    return 1\n    ### END SOLUTION",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
])
def test_unbalanced_markers_are_an_error(source):
    with pytest.raises(ValueError):
        _script().strip_solutions(source)


def test_the_script_never_overwrites_a_file(tmp_path):
    mine = tmp_path / "03_fc_gradients.ipynb"
    mine.write_text("my own notes")
    result = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 2
    assert "already exist" in result.stderr and "nothing was written" in result.stderr
    assert mine.read_text() == "my own notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["03_fc_gradients.ipynb"]


# --------------------------------------------------------------------------------------------
# Every self-check reports a stub in one line
# --------------------------------------------------------------------------------------------


def _stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.mark.parametrize("check_name", sorted(n for n in dir(checks) if n.startswith("check_")))
def test_a_stub_is_reported_as_not_implemented_in_one_line(check_name, capsys):
    assert getattr(checks, check_name)(_stub) is False
    assert capsys.readouterr().out == f"{check_name}: not implemented yet\n"


def test_run_cases_reports_a_stub_even_after_cases_that_ran(capsys):
    cases = [("first", lambda: 1.0, 1.0), ("second", _stub, 1.0)]
    assert checks.run_cases("check_x: two cases", cases) is False
    assert capsys.readouterr().out == "check_x: not implemented yet\n"


# --------------------------------------------------------------------------------------------
# Build the student edition and run it: every test cell fails, nothing else; each solution put
# back passes its own test cell and no other
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    result = subprocess.run([sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


def _error(cell):
    errors = [o for o in cell.outputs if o.output_type == "error"]
    return (errors[0].ename, errors[0].evalue) if errors else None


def _stream(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _run_student_edition(book_path, student_path):
    """Run the student edition of one notebook in one kernel, cell by cell, and record
    ``{"cells": executed student notebook, "at_place": {exercise: (error of its solution,
    error of its test)}, "passes": {exercise: exercises whose test cells pass}}``.

    At each answer cell the book's solution is put back and its test cell (with the hidden cases)
    run: only the cells above and the stubs of the earlier exercises are defined then. The stub is
    executed again, then the student's cells go on. At the end, for every exercise in turn, its
    solution is put back and every test cell of the book run, and the stub restored.
    """
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    book = nbformat.read(book_path, as_version=4)
    nb = nbformat.read(student_path, as_version=4)
    exercises = _exercises(book)
    by_answer = {answer: (test, name) for answer, test, name in exercises}
    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(nb, km=km, timeout=600, allow_errors=True, skip_cells_with_tag="skip-execution",
                            resources={"metadata": {"path": str(student_path.parent)}})

    def run(source, index):  # nbclient stores the cell it ran at ``index``: put the student's back
        cell, kept = nbformat.v4.new_code_cell(source), nb.cells[index]
        client.execute_cell(cell, index)
        nb.cells[index] = kept
        return cell

    at_place, passes = {}, {}
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if index in by_answer:
                test, name = by_answer[index]
                solution = run(book.cells[index].source, index)
                checked = run(book.cells[test].source, test)
                at_place[name] = (_error(solution), _error(checked), _stream(checked))
            client.execute_cell(cell, index)
        for answer, _, name in exercises:
            run(book.cells[answer].source, answer)
            passes[name] = [other for _, test, other in exercises if _error(run(book.cells[test].source, test)) is None]
            run(nb.cells[answer].source, answer)
    return {"cells": nb.cells, "at_place": at_place, "passes": passes, "exercises": exercises}


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def student_run(request, student_edition):
    path = request.param
    nb = nbformat.read(student_edition / path.name, as_version=4)
    return path, nb, _run_student_edition(path, student_edition / path.name)


@pytest.mark.slow
def test_the_student_edition_fails_exactly_its_test_cells(student_run):
    """Issue 20: run from top to bottom (errors allowed), the student edition's only errors are
    the test cells' assertion failures, each after its check's "not implemented yet" line."""
    path, nb, run = student_run
    assert "BEGIN SOLUTION" not in "".join(c.source for c in nb.cells)
    assert "HIDDEN TESTS" not in "".join(c.source for c in nb.cells)
    stubbed = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
    assert len(stubbed) == len(_solution_cells(path))
    for cell in stubbed:
        assert "source_hidden" not in cell.metadata.get("jupyter", {})
        assert "hide-input" not in cell.metadata.get("tags", [])
    tests = {test for _, test, _ in run["exercises"]}
    for index, cell in enumerate(run["cells"]):
        if cell.cell_type != "code":
            continue
        if index not in tests:
            assert _error(cell) is None, f"cell {index} raised {_error(cell)}:\n{cell.source}"
            continue
        first = _check_calls(cell.source)[0]
        assert _error(cell) == ("AssertionError", f"{first}: does not pass (see the lines above)"), cell.source
        assert _stream(cell) == f"{first}: not implemented yet\n", cell.source


@pytest.mark.slow
def test_each_solution_put_back_passes_its_own_test_cell_and_no_other(student_run):
    """Issue 20, every exercise stands alone: the student edition with only one exercise's
    solution put back passes that exercise's test cell (hidden cases included) and no other,
    both where the exercise stands (only the cells above it run, earlier exercises still stubs)
    and after the whole notebook has run."""
    path, nb, run = student_run
    if not run["exercises"]:
        pytest.skip(f"{path.name} has no nbgrader exercises")
    for name, (solution_error, test_error, printed) in run["at_place"].items():
        assert solution_error is None and test_error is None, (name, solution_error, test_error, printed)
        assert "not implemented yet" not in printed and "FAIL" not in printed, (name, printed)
    assert run["passes"] == {name: [name] for name in run["passes"]}


# --------------------------------------------------------------------------------------------
# issue 21, fault 5: every marker nbgrader accepts is stripped, by one rule
# --------------------------------------------------------------------------------------------
# nbgrader's ClearSolutions (nbgrader/preprocessors/clearsolutions.py, 2026) takes a line as a
# marker when it contains "BEGIN SOLUTION" (or "END SOLUTION") anywhere: any number of comment
# marks, with or without a space, text after it.
SPELLINGS = [("#### BEGIN SOLUTION", "#### END SOLUTION"), ("###BEGIN SOLUTION", "###END SOLUTION"),
             ("# BEGIN SOLUTION", "# END SOLUTION"), ("### BEGIN SOLUTION (the loop)", "### END SOLUTION  "),
             ("\t### BEGIN SOLUTION", "\t### END SOLUTION")]


@pytest.mark.parametrize("begin, end", SPELLINGS)
def test_every_spelling_nbgrader_accepts_is_stripped(begin, end):
    indent = "    " if not begin.startswith("\t") else ""
    source = f"def f(x):\n{indent}{begin}\n    secret = 2 * x\n    return secret\n{indent}{end}\ncheck(f)"
    stripped = _script().strip_solutions(source)
    assert "secret" not in stripped and "SOLUTION" not in stripped
    stub_indent = indent or "\t"
    assert stripped == (f"def f(x):\n{stub_indent}# YOUR CODE HERE\n{stub_indent}raise NotImplementedError()\n"
                        "check(f)")


@pytest.mark.parametrize("begin, end", SPELLINGS)
def test_a_solution_cell_in_any_spelling_is_stripped_and_shown(begin, end):
    import nbformat.v4 as v4

    cell = v4.new_code_cell(f"def f():\n    {begin.strip()}\n    return 'secret'\n    {end.strip()}",
                            metadata={"jupyter": {"source_hidden": True}, "tags": ["hide-input"]})
    (out,) = _script().student_notebook(v4.new_notebook(cells=[cell])).cells
    assert "secret" not in out.source and "raise NotImplementedError()" in out.source
    assert out.metadata == {}  # shown: no source_hidden, no hide-input


@pytest.mark.parametrize("source", [
    "def f():\n    return 1\n    #### END SOLUTION",
    "def f():\n    return 1\n    ##END SOLUTION",
    "###BEGIN SOLUTION\n#### BEGIN SOLUTION\n### END SOLUTION",
    "def f():\n    #### BEGIN SOLUTION\n    return 1",
])
def test_unbalanced_markers_in_any_spelling_are_an_error(source):
    with pytest.raises(ValueError):
        _script().strip_solutions(source)


# --------------------------------------------------------------------------------------------
# issue 21, faults 3 and 15: the user's umask, and one line for a target that cannot be written
# --------------------------------------------------------------------------------------------
def _run_main(capsys, *argv):
    code = _script().main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_student_edition_gets_the_users_umask(tmp_path, capsys):
    old = os.umask(0o027)
    try:
        code, out, err = _run_main(capsys, tmp_path / "student", NOTEBOOKS[1])
    finally:
        os.umask(old)
    assert code == 0, err
    written = tmp_path / "student" / NOTEBOOKS[1].name
    assert stat.S_IMODE(written.stat().st_mode) == 0o640  # 0666 less the umask, not 0600
    assert [p.name for p in written.parent.iterdir()] == [NOTEBOOKS[1].name]


def _one_error_line(code, err):
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def test_a_target_that_is_a_file_is_one_error_line(tmp_path, capsys):
    target = tmp_path / "student"
    target.write_text("my notes")
    code, out, err = _run_main(capsys, target, NOTEBOOKS[1])
    _one_error_line(code, err)
    assert "student" in err and "not a folder" in err
    assert target.read_text() == "my notes"
    code, out, err = _run_main(capsys, target / "deeper", NOTEBOOKS[1])  # a file as a parent
    _one_error_line(code, err)
    assert target.read_text() == "my notes"


def test_a_folder_that_takes_no_new_files_is_one_error_line(tmp_path, capsys, monkeypatch):
    """Root writes into a 0555 folder, so the refusal of the operating system is simulated: the
    temporary file cannot be created (EACCES), as for a non-root user in a read-only folder."""
    from helpers import files

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    code, out, err = _run_main(capsys, tmp_path, NOTEBOOKS[1])
    _one_error_line(code, err)
    assert "Permission denied" in err and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only folders; the simulated refusal covers root")
def test_a_read_only_folder_is_one_error_line(tmp_path, capsys):
    tmp_path.chmod(0o555)
    try:
        code, out, err = _run_main(capsys, tmp_path, NOTEBOOKS[1])
    finally:
        tmp_path.chmod(0o755)
    _one_error_line(code, err)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# issue 20: hidden tests are removed as nbgrader's ClearHiddenTests removes them
# --------------------------------------------------------------------------------------------
def test_hidden_tests_are_removed_with_their_markers():
    source = ('assert checks.check_x(f), "visible"\n### BEGIN HIDDEN TESTS\n'
              'assert checks.check_x(f, hidden=True), "hidden"\n### END HIDDEN TESTS')
    assert _script().strip_hidden_tests(source) == 'assert checks.check_x(f), "visible"'
    assert _script().strip_hidden_tests("a = 1\n#BEGIN HIDDEN TESTS (two)\nsecret\n##END HIDDEN TESTS\nb = 2") == "a = 1\nb = 2"


@pytest.mark.parametrize("source", ["a\n### BEGIN HIDDEN TESTS\nsecret", "secret\n### END HIDDEN TESTS",
                                    "### BEGIN HIDDEN TESTS\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"])
def test_unbalanced_hidden_test_markers_are_an_error(source):
    with pytest.raises(ValueError):
        _script().strip_hidden_tests(source)


def test_a_test_cell_keeps_its_visible_lines_and_a_marker_free_solution_cell_is_the_stub():
    import nbformat.v4 as v4

    test = v4.new_code_cell('assert ok\n### BEGIN HIDDEN TESTS\nassert secret\n### END HIDDEN TESTS',
                            metadata={"nbgrader": {"grade": True, "solution": False}, "editable": False})
    whole = v4.new_code_cell("def f():\n    return 'secret'",
                             metadata={"nbgrader": {"grade": False, "solution": True}, "tags": ["hide-input"]})
    out_test, out_whole = _script().student_notebook(v4.new_notebook(cells=[test, whole])).cells
    assert out_test.source == "assert ok" and out_test.metadata == test.metadata
    assert out_whole.source == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert "tags" not in out_whole.metadata
