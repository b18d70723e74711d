"""The book as an nbgrader course, with nbgrader's default settings (marker ``teacher``).

Run in an environment with the teacher extra::

    pip install -r requirements.txt -e ".[teacher]"
    python -m pytest -m teacher tests/teacher

A quickstart course is built in a temporary folder from two notebooks of the book (03 and 05 by
default; ``BOOK_NOTEBOOKS`` names another folder of notebooks to take them from and
``BOOK_TEACHER_NOTEBOOKS`` other name patterns, e.g. ``"0[1-9]_*.ipynb"`` for the whole book), then
``nbgrader generate_assignment`` makes the student release, ``nbgrader autograde`` grades the
release submitted unchanged (0 points of a maximum above 0) and the book's own notebooks submitted
as they are (full marks). The release's cell sources, after the header cells
quickstart configures, are those ``scripts/make_student_edition.py`` writes (sources compared, not
metadata). Between the two, ``scripts/nbgrader_cells.py --show-answers`` unhides the
release's answer cells (nbgrader keeps the book's ``source_hidden``). nbgrader is imported and run only inside the test, so the default
``python -m pytest`` collects this file without nbgrader installed; when the test runs, a missing
nbgrader fails it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = tuple(os.environ.get("BOOK_TEACHER_NOTEBOOKS", "03_*.ipynb 05_*.ipynb").split())
STUDENTS = {"unchanged_release": "release", "the_book": "source"}

pytestmark = pytest.mark.teacher


def _nbgrader(args, cwd, env):
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=1800)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stdout}\n{run.stderr[-4000:]}"
    return run


def _graded_cells(path):
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def _student_edition_script():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_student_edition", ROOT / "scripts" / "make_student_edition.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_book_is_an_nbgrader_course_with_default_settings(tmp_path):
    from nbgrader.api import Gradebook  # the teacher extra; imported here so collection never needs it

    source_dir = Path(os.environ.get("BOOK_NOTEBOOKS", ROOT / "notebooks"))
    found = [sorted(source_dir.glob(pattern)) for pattern in NOTEBOOKS]
    assert all(found), f"{source_dir} lacks one of {NOTEBOOKS}"
    books = sorted({book for books in found for book in books})
    for book in books:
        assert _graded_cells(book), (f"{book.name} has no nbgrader test cell: run "
                                     f"python scripts/nbgrader_cells.py {book}")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-runtime"))
    env.pop("MPLBACKEND", None)

    _nbgrader(["quickstart", "course"], tmp_path, env)
    course = tmp_path / "course"
    shutil.rmtree(course / "source" / "ps1")
    (course / "source" / "book").mkdir()
    for book in books:
        shutil.copy(book, course / "source" / "book" / book.name)
    _nbgrader(["generate_assignment", "book"], course, env)

    edition = _student_edition_script()
    header = course / "source" / "header.ipynb"  # quickstart's header cells (name, collaborators) come first
    header_cells = json.loads(header.read_text(encoding="utf-8"))["cells"] if header.exists() else []
    for book in books:  # the script for teachers without nbgrader gives the same cell sources
        release = json.loads((course / "release" / "book" / book.name).read_text(encoding="utf-8"))["cells"]
        assert [c["source"] for c in release[:len(header_cells)]] == [c["source"] for c in header_cells]
        ours = edition.student_notebook(edition.nbformat.read(book, as_version=4)).cells
        assert [(c["cell_type"], "".join(c["source"])) for c in release[len(header_cells):]] == \
            [(c.cell_type, c.source) for c in ours], f"make_student_edition.py and nbgrader's release differ on {book.name}"

    released = sorted(str(p) for p in (course / "release" / "book").glob("*.ipynb"))
    unhide = subprocess.run([sys.executable, str(ROOT / "scripts" / "nbgrader_cells.py"), "--show-answers", *released],
                            capture_output=True, text=True, env=env)
    assert unhide.returncode == 0, unhide.stderr
    for book in books:
        release = (course / "release" / "book" / book.name).read_text(encoding="utf-8")
        answers = [c for c in json.loads(release)["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        assert answers and not any(c["metadata"].get("jupyter", {}).get("source_hidden") for c in answers)
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in release, f"{marker} left in the release of {book.name}"
        assert "raise NotImplementedError()" in release
        assert all(c["metadata"]["nbgrader"]["locked"] for c in _graded_cells(course / "release" / "book" / book.name))

    for student, folder in STUDENTS.items():
        shutil.copytree(course / folder / "book", course / "submitted" / student / "book")
        _nbgrader(["db", "student", "add", student], course, env)
    _nbgrader(["autograde", "book"], course, env)

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {s: gradebook.find_submission("book", s) for s in STUDENTS}
        release, book = scores["unchanged_release"], scores["the_book"]
        per_cell = {nb.name: {g.name: g.score for g in nb.grades} for nb in book.notebooks}
        assert release.max_score > 0 and release.max_score == book.max_score
        assert release.score == 0, {nb.name: {g.name: g.score for g in nb.grades} for nb in release.notebooks}
        assert book.score == book.max_score, per_cell
        tests = sum(len(_graded_cells(b)) for b in books)
        assert sum(len(cells) for cells in per_cell.values()) == tests
