"""The student edition: nbgrader's solution markers in the book, the script that strips them,
the one-line "not implemented yet" report of every self-check, and a run of the stripped
notebooks from top to bottom (slow: every notebook is executed once more).
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


# --------------------------------------------------------------------------------------------
# The book: markers, hidden solutions, exercises numbered n.k
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS[1:], ids=[p.stem for p in NOTEBOOKS[1:]])
def test_every_exercise_solution_is_marked_and_hidden(path):
    cells = _solution_cells(path)
    assert cells, "a notebook with exercises has reference solutions between nbgrader's markers"
    for cell in cells:
        assert cell.source.count(BEGIN) == cell.source.count(END) >= 1
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True
        assert "hide-input" in cell.metadata.get("tags", [])
        assert _check_calls(cell.source), "the solution cell runs its self-check"


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
# Build the student edition and run it
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def student_edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    result = subprocess.run([sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_student_edition_runs_and_every_check_says_not_implemented(path, student_edition):
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    nb = nbformat.read(student_edition / path.name, as_version=4)
    assert BEGIN not in "".join(c.source for c in nb.cells)
    stubbed = [c for c in nb.cells if c.cell_type == "code" and "raise NotImplementedError()" in c.source]
    assert len(stubbed) == len(_solution_cells(path))
    for cell in stubbed:
        assert "source_hidden" not in cell.metadata.get("jupyter", {})
        assert "hide-input" not in cell.metadata.get("tags", [])

    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    NotebookClient(nb, km=km, timeout=600, allow_errors=False, skip_cells_with_tag="skip-execution",
                   resources={"metadata": {"path": str(student_edition)}}).execute()

    for cell in stubbed:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        expected = "".join(f"{name}: not implemented yet\n" for name in _check_calls(cell.source))
        assert text == expected, cell.source


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
