"""Every notebook 01-09 is one lesson (issue 19, BOOK-STANDARD.md "A notebook is a lesson").

Read from the stored notebooks: a plan at the top (a Markdown table with a ``minutes`` column in
one of the first four cells, 45-90 minutes in all) and a class path, everything above the first
Markdown heading that begins "After class", within one lesson's limits. The limits are counted
exactly as the repository's before-stop hook counts them: code cells other than exercise cells
(a ``BEGIN SOLUTION`` marker inside, or nbgrader solution or grade metadata); whitespace-separated
words of the path's Markdown, mathematics included; exercises as the distinct numbers ``n.k`` of
Markdown lines that begin with ``**Exercise n.k`` or a heading ``Exercise n.k``.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
LESSONS = sorted(p.name for p in NOTEBOOKS.glob("0[1-9]_*.ipynb"))
MAX_CODE, MAX_WORDS, MAX_EXERCISES = 20, 2000, 2
AFTER_CLASS = re.compile(r"^#+\s*(\d+\.?\s*)?After class", re.M | re.I)


def cells_of(name):
    return json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell.get("source", ""))


def exercise_cell(cell):
    grader = cell.get("metadata", {}).get("nbgrader", {})
    return "BEGIN SOLUTION" in source(cell) or bool(grader.get("solution") or grader.get("grade"))


def class_path(cells):
    """The cells above the first Markdown heading that begins 'After class' (None if there is none)."""
    cut = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and AFTER_CLASS.search(source(c))),
               None)
    return None if cut is None else cells[:cut]


def path_counts(path):
    """(code cells, Markdown words, exercises) of a class path, counted as the before-stop hook does."""
    code = sum(1 for c in path if c["cell_type"] == "code" and not exercise_cell(c))
    md = "\n".join(source(c) for c in path if c["cell_type"] == "markdown")
    exercises = len(set(re.findall(r"^\s*(?:\*\*|#+\s*)Exercise\s+(\d+\.\d+)", md, re.M)))
    return code, len(md.split()), exercises


def minutes_table(text):
    """(header, rows) of the first Markdown table in ``text`` with a 'minutes' column (cells
    stripped, header lower-cased), or None."""
    lines = text.splitlines()
    split = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]
    for k, line in enumerate(lines):
        if line.lstrip().startswith("|") and "minutes" in [h.lower() for h in split(line)]:
            rows = []
            for row in lines[k + 2:]:
                if not row.lstrip().startswith("|"):
                    break
                rows.append(split(row))
            return [h.lower() for h in split(line)], rows
    return None


def plan_minutes(cells):
    """The minutes column of the first Markdown table with a 'minutes' header in cells 0-3, as ints."""
    for cell in cells[:4]:
        table = minutes_table(source(cell)) if cell["cell_type"] == "markdown" else None
        if table:
            header, rows = table
            return [int(row[header.index("minutes")].strip("*")) for row in rows]
    return None


def test_counting_matches_the_hook_on_a_made_up_notebook():
    """The counting rules on cells whose counts are known (guards the parser, not a notebook)."""
    md = lambda s: {"cell_type": "markdown", "source": s, "metadata": {}}
    code = lambda s, meta=None: {"cell_type": "code", "source": s, "metadata": meta or {}}
    cells = [md("# Title\n\n| part | minutes |\n| --- | --- |\n| one | 30 |\n| two | 45 |"),
             code("x = 1"),
             md("**Exercise 1.1.** Write it.\n\n## Exercise 1.2 again\n**Exercise 1.1** twice"),
             code("### BEGIN SOLUTION\npass\n### END SOLUTION"),
             code("check()", {"nbgrader": {"grade": True}}),
             md("## After class: more"), code("y = 2"), md("**Exercise 1.3.**")]
    assert plan_minutes(cells) == [30, 45]
    path = class_path(cells)
    assert len(path) == 5
    assert path_counts(path) == (1, 22 + 11, 2)  # 2 + 4 x 5 table tokens; 4 + 4 + 3
    assert class_path(cells[:5]) is None
    assert class_path([md("## 7. After class, going further")]) == []


@pytest.mark.parametrize("name", LESSONS)
def test_plan_at_the_top(name):
    minutes = plan_minutes(cells_of(name))
    assert minutes, f"{name}: no Markdown table with a 'minutes' column in its first four cells"
    assert 45 <= sum(minutes) <= 90, f"{name}: the plan's minutes sum to {sum(minutes)}, not 45-90"


@pytest.mark.parametrize("name", LESSONS)
def test_class_path_is_one_lesson(name):
    path = class_path(cells_of(name))
    assert path is not None, f"{name}: no Markdown heading beginning 'After class'"
    code, words, exercises = path_counts(path)
    assert code <= MAX_CODE, f"{name}: {code} code cells on the class path (at most {MAX_CODE})"
    assert words <= MAX_WORDS, f"{name}: {words} words on the class path (at most {MAX_WORDS})"
    assert exercises <= MAX_EXERCISES, f"{name}: {exercises} exercises on the class path (at most {MAX_EXERCISES})"


def minutes_by_notebook(text, name_pattern):
    """{notebook number: minutes} from the first table in ``text`` with a 'minutes' column; a row's
    notebook is the first match of ``name_pattern`` (a regex with one group, the number) in its cells."""
    header, rows = minutes_table(text)
    found = {}
    for row in rows:
        match = re.search(name_pattern, "| " + " | ".join(row) + " |")
        if match:
            found[match.group(1)] = row[header.index("minutes")]
    return found


def test_readme_and_notebook_00_give_the_same_minutes_per_lesson():
    """Issue 19: the README's notebook table and 00's class plan say the same (01-09, a lesson each)."""
    readme = (NOTEBOOKS.parent / "README.md").read_text(encoding="utf-8")
    plan_cell = next(source(c) for c in cells_of("00_start_here.ipynb")
                     if c["cell_type"] == "markdown" and "class plan" in source(c).lower())
    in_readme = minutes_by_notebook(readme, r"`(0[1-9])_\w+\.ipynb`")
    in_00 = minutes_by_notebook(plan_cell, r"^\|\s*\d+\s*\|\s*(0[1-9]) ")
    assert sorted(in_readme) == [name[:2] for name in LESSONS]
    assert in_00 == in_readme
