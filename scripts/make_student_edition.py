"""Write the student edition of the book: every reference solution replaced by a stub.

Usage (from the repository root)::

    python scripts/make_student_edition.py student/                       # every notebook
    python scripts/make_student_edition.py student/ notebooks/03_fc_gradients.ipynb

The book marks its reference solutions the way nbgrader does: the code of a solution sits between
the lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` inside the function the exercise asks
for. This script applies nbgrader's rule (its ``ClearSolutions`` step) with nbformat. As in
nbgrader, a line is a marker when it *contains* ``BEGIN SOLUTION`` (or ``END SOLUTION``), so
``#### BEGIN SOLUTION``, ``###BEGIN SOLUTION`` and ``# BEGIN SOLUTION (the loop)`` all count; the
two markers and everything between them become ``# YOUR CODE HERE`` and
``raise NotImplementedError()`` at the indentation of the BEGIN line. The same rule finds the
solution cells, whose source the script shows (the book hides it: JupyterLab's ``source_hidden``
flag and the ``hide-input`` tag); all outputs are cleared. A BEGIN inside a region, a BEGIN
without an END and an END without a BEGIN are errors (nbgrader lets the last pass). A cell that
nbgrader's metadata marks as a solution but that has no marker becomes the stub as a whole, as in
nbgrader. The hidden cases of a test cell, the lines from one containing ``BEGIN HIDDEN TESTS``
to one containing ``END HIDDEN TESTS`` (nbgrader's ``ClearHiddenTests``), are removed, markers
included; unbalanced hidden-test markers are errors too. Run on the student edition, every test
cell fails its assertion, after the check has printed ``check_...: not implemented yet``, until
the student fills in the function.

Teachers who use nbgrader can run its own step instead: ``nbgrader generate_assignment`` (default
settings) on the book's notebooks gives the same cell sources (``tests/teacher`` compares them);
only the metadata differ (nbgrader keeps ``source_hidden``: see ``scripts/nbgrader_cells.py
--show-answers``).

The output folder is created if needed. A notebook that already exists there is never
overwritten: the script stops with an error before writing anything. Each notebook is written
whole or not at all (``helpers.files.replace_file``: a temporary file beside it, renamed when
complete) with the user's umask (``0666`` less the umask). Every error -- a notebook already
there, an output "folder" that is a file, a folder that takes no new files, an unreadable
source -- is one ``error:`` line and exit status 2.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # the helpers of this checkout, even if not installed

from helpers import files  # noqa: E402

#: nbgrader's delimiters (``ClearSolutions.begin_solution_delimeter`` / ``end_...``): a line that
#: contains one of them is a marker, whatever comment marks surround it.
BEGIN, END = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


def is_solution(source: str) -> bool:
    """True if a cell's source has a BEGIN SOLUTION marker line (nbgrader's rule, as stripped)."""
    return BEGIN in source


def marker_regions(source: str, begin: str, end: str) -> list[tuple[int, str, str]]:
    """Each line of ``source`` with its place in the ``begin`` ... ``end`` regions, by nbgrader's
    rule (a line containing the text is a marker): a list of ``(line number from 1, line, role)``,
    role ``"begin"``, ``"end"``, ``"inside"`` or ``"outside"``. Raises ValueError, naming the line,
    for a nested ``begin``, an ``end`` without a ``begin`` or a ``begin`` without an ``end``."""
    out, inside = [], False
    for n, line in enumerate(source.split("\n"), 1):
        if begin in line:
            if inside:
                raise ValueError(f"line {n}: a second {begin} before the {end} of the first")
            inside, role = True, "begin"
        elif end in line:
            if not inside:
                raise ValueError(f"line {n}: {end} without a {begin}")
            inside, role = False, "end"
        else:
            role = "inside" if inside else "outside"
        out.append((n, line, role))
    if inside:
        raise ValueError(f"{begin} without an {end}")
    return out


def strip_solutions(source: str) -> str:
    """Replace every BEGIN/END SOLUTION region of a cell's source by the stub, indented as its
    BEGIN line (:func:`marker_regions`; unbalanced markers are a ValueError)."""
    out = []
    for _, line, role in marker_regions(source, BEGIN, END):
        if role == "begin":
            out += [line[:len(line) - len(line.lstrip())] + s for s in STUB]
        elif role == "outside":
            out.append(line)
    return "\n".join(out)


def strip_hidden_tests(source: str) -> str:
    """Remove every region from a line containing ``BEGIN HIDDEN TESTS`` to one containing
    ``END HIDDEN TESTS``, both lines included (nbgrader's ``ClearHiddenTests``; unbalanced markers
    are a ValueError, :func:`marker_regions`)."""
    return "\n".join(line for _, line, role in marker_regions(source, BEGIN_HIDDEN, END_HIDDEN)
                     if role == "outside")


def _nbgrader_solution(cell) -> bool:
    grader = cell.metadata.get("nbgrader", {})
    return isinstance(grader, dict) and bool(grader.get("solution"))


def student_notebook(nb):
    """The student edition of one notebook (a new object; ``nb`` is left as it was)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        cell.source = strip_hidden_tests(cell.source)
        if is_solution(cell.source) or _nbgrader_solution(cell):
            cell.source = strip_solutions(cell.source) if is_solution(cell.source) else "\n".join(STUB)
            unhide(cell)
    return nb


def unhide(cell) -> bool:
    """Show an answer cell's source (changed in place): drop the book's ``jupyter.source_hidden``
    flag and ``hide-input`` tag, which would fold a student's stub away. Returns whether the
    cell changed. scripts/nbgrader_cells.py --show-answers uses the same rule on a release."""
    before = (dict(cell.metadata.get("jupyter", {})), list(cell.metadata.get("tags", [])))
    cell.metadata.get("jupyter", {}).pop("source_hidden", None)
    if "jupyter" in cell.metadata and not cell.metadata["jupyter"]:
        del cell.metadata["jupyter"]
    tags = [t for t in cell.metadata.get("tags", []) if t != "hide-input"]
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)
    return before != (dict(cell.metadata.get("jupyter", {})), list(cell.metadata.get("tags", [])))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the student edition (created if needed)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to convert (default: every notebook in notebooks/)")
    args = parser.parse_args(argv)
    sources = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    out_dir = args.out_dir
    targets = [out_dir / src.name for src in sources]

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    if out_dir.exists() and not out_dir.is_dir():
        return fail(f"{out_dir} is not a folder (a file of that name exists); nothing was written")
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        return fail(f"{', '.join(existing)} already exist(s); choose an empty folder (nothing was written)")
    try:
        editions = [student_notebook(nbformat.read(src, as_version=4)) for src in sources]
    except (OSError, ValueError) as exc:
        return fail(f"{exc} (nothing was written)")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return fail(f"cannot create the folder {out_dir}: {exc.strerror or exc}; nothing was written")
    for nb, target in zip(editions, targets):
        text = nbformat.writes(nb)
        try:  # claimed with a hard link: a file that appeared meanwhile is never overwritten
            files.write_text(target, text if text.endswith("\n") else text + "\n", overwrite=False)
        except FileExistsError:
            return fail(f"{target} already exists; it was left as it was")
        except OSError as exc:
            return fail(f"cannot write {target}: {exc.strerror or exc}")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
