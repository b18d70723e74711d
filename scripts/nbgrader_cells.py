"""Give the book's exercise cells nbgrader's cell metadata: an answer cell and a locked test cell.

Usage (from the repository root)::

    python scripts/nbgrader_cells.py notebooks/03_fc_gradients.ipynb [more notebooks ...]
    python scripts/nbgrader_cells.py --check notebooks/*.ipynb     # report only, write nothing

An exercise cell of the book holds the function to write, its reference solution between
``### BEGIN SOLUTION`` and ``### END SOLUTION``, and after the last END line its self-check,
``checks.check_x(my_fn)`` (or ``_ = ...`` / ``passed = ...``). nbgrader wants the two apart: the
solution in an *autograded answer* cell (``solution: true, grade: false``) and the check in a
separate *autograder test* cell (``grade: true, solution: false, locked: true, points: N``) whose
failure costs the points. For every such cell this script writes

1. the answer cell: the same source up to the self-check, the same metadata (tags such as
   ``hide-input``, ``jupyter.source_hidden``) plus ``nbgrader`` with ``grade_id`` ``exN_K_answer``;
2. right below it, a read-only test cell (``editable``/``deletable`` false) with ``grade_id``
   ``exN_K_test`` and one point per check::

       assert checks.check_x(my_fn), "check_x: does not pass (see the lines above)"
       ### BEGIN HIDDEN TESTS
       assert checks.check_x(my_fn, hidden=True), "check_x: a hidden case does not pass"
       ### END HIDDEN TESTS

   nbgrader removes the hidden block from the student release and runs it when grading.

``N.K`` is the number of the nearest ``**Exercise N.K`` above the cell (Markdown), so the ids stay
the same when cells move; without one, the notebook's number and the cell's rank are used. Both
cells lose their outputs: regenerate the notebook afterwards. Cells that already carry
``nbgrader`` metadata are left alone, so a second run changes nothing (the file is not rewritten).
``--show-answers`` is for the student release that ``nbgrader generate_assignment`` writes: nbgrader
keeps the book's ``source_hidden`` flag and ``hide-input`` tag, so it unhides the answer cells::

    python scripts/nbgrader_cells.py --show-answers release/book/*.ipynb

Errors (a BEGIN without END, an END without BEGIN, code after the self-check, a marker in a
Markdown cell, hidden tests outside a test cell) stop the script before anything is written.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

SCRIPTS = Path(__file__).resolve().parent
for folder in (SCRIPTS.parent, SCRIPTS):  # the helpers of this checkout, and the sibling script
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from helpers import files  # noqa: E402
# nbgrader's own rule (ClearSolutions, ClearHiddenTests): a line holding the text is a marker
from make_student_edition import BEGIN, BEGIN_HIDDEN, END, END_HIDDEN, marker_regions, unhide  # noqa: E402

SCHEMA_VERSION = 3
CHECK_LINE = re.compile(r"^\s*(?:[A-Za-z_]\w*\s*=\s*)?checks\.(check_\w+)\((.*)\)\s*;?\s*$")
EXERCISE = re.compile(r"\*\*Exercise\s+(\d+)\.(\d+)")


def _nbgrader(cell) -> dict | None:
    return cell.get("metadata", {}).get("nbgrader")


def split_source(source: str) -> tuple[str, list[tuple[str, str]]]:
    """``(answer, checks)``: the source up to the self-check lines, and ``(check, arguments)`` of
    each ``checks.check_x(arguments)`` line after the last ``END SOLUTION`` marker.

    Raises ValueError for a BEGIN without END, an END without BEGIN, nested BEGINs, or code
    after the first self-check line that is not another self-check.
    """
    lines = source.split("\n")
    ends = [n - 1 for n, _, role in marker_regions(source, BEGIN, END) if role == "end"]
    last_end = ends[-1] if ends else None
    if last_end is None:
        raise ValueError(f"no {BEGIN} ... {END} region")
    found, first = [], None
    for n in range(last_end + 1, len(lines)):
        line = lines[n]
        match = CHECK_LINE.match(line)
        if match:
            found.append((match.group(1), match.group(2).strip()))
            first = n if first is None else first
        elif first is not None and line.strip() and not line.strip().startswith("#"):
            raise ValueError(f"line {n + 1}: code after the self-check ({line.strip()!r}); "
                             "move it above the check")
    answer = lines if first is None else lines[:first]
    while answer and not answer[-1].strip():
        answer = answer[:-1]
    return "\n".join(answer), found


def test_source(found: list[tuple[str, str]]) -> str:
    """The source of the test cell for the self-checks ``found`` (see the module's docstring)."""
    visible = [f'assert checks.{name}({args}), "{name}: does not pass (see the lines above)"' for name, args in found]
    hidden = [f'assert checks.{name}({args}, hidden=True), "{name}: a hidden case does not pass"' for name, args in found]
    return "\n".join(visible + [f"### {BEGIN_HIDDEN}"] + hidden + [f"### {END_HIDDEN}"])


def _checks_only(cell) -> list[tuple[str, str]]:
    """The self-checks of ``cell`` when it is a plain code cell holding only self-check lines
    (and blank or comment lines), else an empty list."""
    if cell is None or cell.cell_type != "code" or _nbgrader(cell):
        return []
    found = []
    for line in cell.source.split("\n"):
        match = CHECK_LINE.match(line)
        if match:
            found.append((match.group(1), match.group(2).strip()))
        elif line.strip() and not line.strip().startswith("#"):
            return []
    return found


def _exercise_number(cells, index, fallback):
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            numbers = EXERCISE.findall(cell.source)
            if numbers:
                return f"{int(numbers[-1][0])}_{int(numbers[-1][1])}"
    return fallback


def _notebook_number(path) -> int:
    match = re.match(r"(\d+)", Path(path).name)
    return int(match.group(1)) if match else 0


def convert(nb, name: str = "notebook.ipynb"):
    """Split every exercise cell of ``nb`` (changed in place) into answer and test cells.

    Returns the list of ``(grade_id of the answer, grade_id of the test or None, checks)`` made.
    Raises ValueError naming the cell when a cell cannot be converted (nothing is changed then).
    """
    used = {(_nbgrader(c) or {}).get("grade_id") for c in nb.cells} - {None}
    ids = {c.get("id") for c in nb.cells} - {None}
    plan = []
    for index, cell in enumerate(nb.cells):
        text = cell.source
        markers = any(m in text for m in (BEGIN, END))
        if _nbgrader(cell):
            continue
        if BEGIN_HIDDEN in text or END_HIDDEN in text:
            raise ValueError(f"{name}, cell {index}: hidden tests in a cell that is not an nbgrader test cell")
        if not markers:
            continue
        if cell.cell_type != "code":
            raise ValueError(f"{name}, cell {index}: a solution marker in a {cell.cell_type} cell")
        try:
            answer, found = split_source(text)
        except ValueError as exc:
            raise ValueError(f"{name}, cell {index}: {exc}") from None
        separate = not found and _checks_only(nb.cells[index + 1] if index + 1 < len(nb.cells) else None)
        if separate:  # the self-check already sits in the next cell: that cell becomes the test cell
            found = separate
        number = _exercise_number(nb.cells, index, f"{_notebook_number(name)}_{len(plan) + 1}")
        base, suffix = f"ex{number}", ""
        while f"{base}{suffix}_answer" in used or f"{base}{suffix}_test" in used:
            suffix = chr(ord(suffix or "a") + 1)
        base += suffix
        used |= {f"{base}_answer", f"{base}_test"}
        plan.append((index, answer, found, base, bool(separate)))
    made = []
    for index, answer, found, base, separate in reversed(plan):
        cell = nb.cells[index]
        cell.source = answer
        cell.outputs, cell.execution_count = [], None
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": f"{base}_answer", "locked": False,
                                     "schema_version": SCHEMA_VERSION, "solution": True}
        test = None
        if found:
            test = nbformat.v4.new_code_cell(test_source(found))
            test.metadata = {"deletable": False, "editable": False,
                             "nbgrader": {"grade": True, "grade_id": f"{base}_test", "locked": True,
                                          "points": len(found), "schema_version": SCHEMA_VERSION, "solution": False}}
            new_id = f"{base}-test".replace("_", "-")
            while new_id in ids:
                new_id += "-x"
            if "id" in cell:
                test["id"] = nb.cells[index + 1]["id"] if separate else new_id
            else:
                test.pop("id", None)
            ids.add(new_id)
            if separate:
                nb.cells[index + 1] = test
            else:
                nb.cells.insert(index + 1, test)
        made.append((f"{base}_answer", f"{base}_test" if found else None, [n for n, _ in found]))
    return list(reversed(made))


def show_answers(nb) -> int:
    """Unhide the answer cells of a student release (changed in place): nbgrader keeps the book's
    ``jupyter.source_hidden`` flag and ``hide-input`` tag, which would fold the stub away. Returns
    the number of cells changed. nbgrader's checksums do not cover this metadata."""
    return sum(unhide(cell) for cell in nb.cells if (_nbgrader(cell) or {}).get("solution"))


def write_atomic(nb, path: Path) -> None:
    """Write ``nb`` over ``path`` whole or not at all, keeping the file's mode and a symbolic link
    as a link (``helpers.files.replace_file``, the one writer of the book's scripts)."""
    text = nbformat.writes(nb)
    files.replace_file(path, lambda fh: fh.write((text if text.endswith("\n") else text + "\n").encode("utf-8")))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks to convert in place")
    parser.add_argument("--check", action="store_true", help="only report what would change; write nothing")
    parser.add_argument("--show-answers", action="store_true",
                        help="on a student release (after nbgrader generate_assignment): unhide the answer cells")
    args = parser.parse_args(argv)
    results = []
    try:
        for path in args.notebooks:
            nb = nbformat.read(path, as_version=4)
            if args.show_answers:
                changed = show_answers(nb)
                print(f"{path.name}: {changed} answer cell(s) unhidden")
                if changed and not args.check:
                    write_atomic(nb, path)
                continue
            results.append((path, nb, convert(nb, path.name)))
    except (OSError, ValueError) as exc:
        print(f"error: {exc} (nothing was written)", file=sys.stderr)
        return 1
    for path, nb, made in results:
        for answer, test, names in made:
            print(f"{path.name}: {answer}" + (f" + {test} ({', '.join(names)})" if test else " (no self-check: no test cell)"))
        if made and not args.check:
            write_atomic(nb, path)
        if not made:
            print(f"{path.name}: nothing to do")
    return 0


if __name__ == "__main__":
    sys.exit(main())
