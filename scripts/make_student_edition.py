"""Write the student edition of the book: every reference solution replaced by a stub.

Usage (from the repository root)::

    python scripts/make_student_edition.py student/                       # every notebook
    python scripts/make_student_edition.py student/ notebooks/03_fc_gradients.ipynb

The book marks its reference solutions the way nbgrader does: the code of a solution sits between
the lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` inside the function the exercise asks
for. This script applies nbgrader's rule (its ``ClearSolutions`` step) with nbformat: the two
markers and everything between them become ``# YOUR CODE HERE`` and ``raise NotImplementedError()``
at the indentation of the ``### BEGIN SOLUTION`` line. It also shows the solution cells' source
(the book hides it: JupyterLab's ``source_hidden`` flag and the ``hide-input`` tag) and clears all
outputs. Run on the student edition, every self-check prints ``check_...: not implemented yet``
until the student fills in the function.

Teachers who use nbgrader can run its own step instead: ``nbgrader generate_assignment`` applies
the same rule to notebooks carrying these markers.

The output folder is created if needed. A notebook that already exists there is never
overwritten: the script stops with an error before writing anything.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


def strip_solutions(source: str) -> str:
    """Replace every BEGIN/END SOLUTION region of a cell's source by the stub (nbgrader's rule)."""
    out, inside = [], False
    for line in source.split("\n"):
        if line.strip() == BEGIN:
            if inside:
                raise ValueError("### BEGIN SOLUTION inside another solution region")
            indent = line[:len(line) - len(line.lstrip())]
            out += [indent + s for s in STUB]
            inside = True
        elif line.strip() == END:
            if not inside:
                raise ValueError("### END SOLUTION without a ### BEGIN SOLUTION")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("### BEGIN SOLUTION without a ### END SOLUTION")
    return "\n".join(out)


def student_notebook(nb):
    """The student edition of one notebook (a new object; ``nb`` is left as it was)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        if BEGIN in cell.source:
            cell.source = strip_solutions(cell.source)
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
            if "jupyter" in cell.metadata and not cell.metadata["jupyter"]:
                del cell.metadata["jupyter"]
            tags = [t for t in cell.metadata.get("tags", []) if t != "hide-input"]
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for the student edition (created if needed)")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to convert (default: every notebook in notebooks/)")
    args = parser.parse_args(argv)
    sources = args.notebooks or sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))
    targets = [args.out_dir / src.name for src in sources]
    existing = [str(t) for t in targets if t.exists()]
    if existing:
        print(f"error: {', '.join(existing)} already exist(s); choose an empty folder "
              "(nothing was written)", file=sys.stderr)
        return 1
    try:
        editions = [student_notebook(nbformat.read(src, as_version=4)) for src in sources]
    except (OSError, ValueError) as exc:
        print(f"error: {exc} (nothing was written)", file=sys.stderr)
        return 1
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for nb, target in zip(editions, targets):
        fd, tmp = tempfile.mkstemp(dir=args.out_dir, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                nbformat.write(nb, handle)
            os.link(tmp, target)            # fails instead of overwriting a file that appeared since
        except FileExistsError:
            print(f"error: {target} already exists; it was left as it was", file=sys.stderr)
            return 1
        finally:
            os.unlink(tmp)
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
