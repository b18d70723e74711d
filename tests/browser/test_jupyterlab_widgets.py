"""Every widget of every notebook, used in the JupyterLab UI the way a class uses the book.

The notebooks are found by reading them (``browserkit.widget_notebooks``): a notebook added
under ``notebooks/`` that builds a widget is tested without touching this file.

For each one: JupyterLab (empty token, isolated settings, autosave off) serves a scratch copy of
the notebook; the test opens it, chooses Run > Run All Cells from the menu, waits until the
kernel has answered every cell (read from the page's kernel websocket) and every prompt shows
an execution count, checks that no cell shows an error, and then ``browserkit.drive_widgets``
moves every control of every widget and checks that the figure it drives is redrawn with
different image bytes and that no error appears (see that module's docstring).
"""

from __future__ import annotations

import re
import time

import pytest

import browserkit as bk

pytestmark = pytest.mark.browser

NOTEBOOKS = bk.widget_notebooks()

# Notebooks whose widgets choose a digit the book's one way (issue 12): a class and an example of
# it (helpers.widgets.digit_picker), never an index into the data set ("image #").
DIGIT_PICKER_NOTEBOOKS = ("01_", "02_", "03_")
DIGIT_CONTROLS = {"digit: class", "example of that class"}
MIN_TEXT_PX = 14  # issue 23: the smallest figure text a back row reads on a 1366x768 projector

PROMPTS_DONE = r"""n => {
    const prompts = Array.from(document.querySelectorAll(
        '.jp-NotebookPanel .jp-CodeCell .jp-InputArea-prompt'));
    const numbered = prompts.filter(p => /^\[\d+\]:$/.test(p.textContent.trim()));
    return numbered.length >= n && !prompts.some(p => p.textContent.includes('*'));
}"""

# Every output area child has rendered something (a widget view is drawn asynchronously into
# an empty element once its model has arrived), and at least one widget view is on the page.
VIEWS_RENDERED = """() => {
    const outputs = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output'));
    return outputs.every(o => o.childElementCount > 0) &&
        document.querySelector('.jp-NotebookPanel .jp-OutputArea-output > .jupyter-widgets') !== null;
}"""


def run_all_in_lab(book_page, lab, notebook, *, notebook7: bool = False) -> dict:
    """Open a scratch copy of ``notebook`` in JupyterLab (or, with ``notebook7``, in Notebook 7
    at ``/notebooks/<name>`` on the same server), run all cells from the Run menu, and wait
    until every cell has run and every widget view is rendered. Returns timings."""
    page, traffic = book_page.page, book_page.traffic
    book_page.servers.append(lab)
    nb = bk.read_notebook(notebook)
    n_cells = len(bk.code_cell_indices(nb))
    copy = bk.copy_notebook(notebook, lab.root)
    start = time.monotonic()
    # a workspace of its own, so no tab of an earlier test is restored (Notebook 7 opens one
    # notebook per page and restores nothing)
    url = (f"{lab.url}/notebooks/{copy.name}" if notebook7 else
           f"{lab.url}/lab/workspaces/{bk.safe_name(notebook.stem)}/tree/{copy.name}")
    page.goto(url, wait_until="domcontentloaded", timeout=bk.seconds(180) * 1000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell",
                           timeout=bk.seconds(180) * 1000)
    traffic.wait_kernel_ready(page, bk.seconds(180))
    page.wait_for_selector(
        '.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]',
        state="attached", timeout=bk.seconds(60) * 1000)
    opened = time.monotonic() - start

    mark = traffic.mark()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    item = page.locator(".lm-Menu-item", has=page.locator(
        ".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")))
    assert "lm-mod-disabled" not in (item.get_attribute("class") or ""), \
        "Run > Run All Cells is disabled although the kernel is ready"
    item.click()
    sent = traffic.wait_answered(page, mark, bk.seconds(300), minimum=n_cells,
                                 what="Run All Cells", stop_on_problem=True)
    executed = [s for s in sent if s[1] == "execute_request"]
    # the k-th execute request runs the k-th non-blank code cell; stderr that the notebook
    # stores for that cell is expected there
    allowed = bk.cells_with_stored_stderr(nb)
    order = bk.code_cell_indices(nb)
    traffic.accept_problems_from({s[2] for s, i in zip(executed, order) if i in allowed},
                                 "stderr stored in the notebook for this cell")
    assert not traffic.problems, f"running {notebook.name} in JupyterLab failed:\n" + \
        "\n".join(traffic.problems)
    assert len(executed) == n_cells, f"{len(executed)} of {n_cells} code cells were executed"
    # cells whose input is hidden (the exercise solutions) show no input prompt
    page.wait_for_function(PROMPTS_DONE, arg=len(bk.code_cells_with_shown_input(nb)),
                           timeout=bk.seconds(60) * 1000)
    page.wait_for_function(VIEWS_RENDERED, timeout=bk.seconds(120) * 1000)
    return {"cells": n_cells, "opened": opened, "ran": time.monotonic() - start - opened}


def shut_down_kernel(book_page) -> None:
    """Stop the notebook's kernel through the REST API, with JupyterLab's XSRF cookie."""
    for url in book_page.traffic.sockets:
        match = re.search(r"/api/kernels/([0-9a-f-]+)/channels", url)
        if not match:
            continue
        try:
            book_page.page.evaluate("""async id => {
                const x = document.cookie.match(/(?:^|;\\s*)_xsrf=([^;]*)/);
                await fetch('/api/kernels/' + id, {method: 'DELETE',
                    headers: x ? {'X-XSRFToken': decodeURIComponent(x[1])} : {}});
            }""", match.group(1))
        except Exception:  # best effort: the server stops every kernel when the session ends
            pass


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_widget_redraws_its_figure(notebook, lab, book_page):
    start = time.monotonic()
    allowed = bk.cells_with_stored_stderr(bk.read_notebook(notebook))
    try:
        times = run_all_in_lab(book_page, lab, notebook)
        report = bk.check_page_and_drive(book_page, notebook.name, allowed, "after Run All Cells")
        print(f"\n{notebook.name}: opened in {times['opened']:.1f} s, ran {times['cells']} "
              f"cells in {times['ran']:.1f} s, total {time.monotonic() - start:.1f} s\n"
              f"{report.text()}")
        assert report.ok, f"{notebook.name}:\n{report.text()}"
        # issue 23: at 1366x768 (JupyterLab's default layout) the smallest text of every figure
        # a widget drew is at least 14 px on screen
        book_page.page.set_viewport_size({"width": 1366, "height": 768})
        book_page.page.wait_for_timeout(500)  # JupyterLab lays the panel out again
        px, widths = bk.smallest_figure_text_px(book_page.page, book_page.traffic)
        print(f"smallest figure text at 1366x768: {px:.1f} px over {len(book_page.traffic.figure_text)} "
              f"figures; images drawn at {min(f['rendered'] / f['natural'] for f in widths):.2f} of their pixels")
        assert px >= MIN_TEXT_PX, f"{notebook.name}: figure text {px:.1f} px on screen at 1366x768 " \
                                  f"(smallest of {book_page.traffic.figure_text}; widths {widths})"
        if notebook.stem.startswith(DIGIT_PICKER_NOTEBOOKS):
            redrawn = {m.control["label"] for m in report.moves if m.changed}
            assert DIGIT_CONTROLS <= redrawn, \
                f"{notebook.name}: the digit controls {sorted(DIGIT_CONTROLS - redrawn)} redrew nothing"
            assert not any(m.control["label"].startswith("image #") for m in report.moves), \
                f"{notebook.name} still chooses its digit by image index"
    finally:
        shut_down_kernel(book_page)


# --------------------------------------------------------------------------------------------
# The checks can fail: a notebook with three deliberately broken widgets
# --------------------------------------------------------------------------------------------

CANARY_CELLS = [
    """%matplotlib inline
import warnings
import matplotlib.pyplot as plt
from helpers.widgets import interactive_figure

def bar(n):
    # a figure that differs for every n
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.bar([0], [n + 1])
    ax.set_ylim(0, 5)
    return fig""",
    """def breaks(n):
    if n > 0:
        raise ValueError("canary: n must stay 0")
    return bar(n)

interactive_figure(breaks, n=(0, 3))""",
    """def ignores(n, unused):
    return bar(n)

interactive_figure(ignores, n=(0, 3), unused=["a", "b"])""",
    """def warns(n):
    if n > 0:
        warnings.warn("canary: a warning in a widget callback")
    return bar(n)

interactive_figure(warns, n=(0, 3))""",
]


def canary_notebook(folder):
    return bk.scratch_notebook(folder, "zz_canary", CANARY_CELLS)


def test_broken_widgets_are_reported(lab, book_page, tmp_path):
    """A widget whose callback raises, a control that changes nothing, and a callback that
    warns: each must appear among the failures, while the controls that work pass."""
    path = canary_notebook(tmp_path)
    run_all_in_lab(book_page, lab, path)
    try:
        report = bk.drive_widgets(book_page.page, book_page.traffic, set(),
                                  stop_at_first_failure=False)
    finally:
        shut_down_kernel(book_page)
    text = "\n".join(report.failures)
    print(report.text())
    assert "canary: n must stay 0" in text, report.text()             # traceback in the widget
    assert "figure did not change" in text and "'unused'" in text, report.text()
    assert "canary: a warning in a widget callback" in text, report.text()
    # the working slider of the second widget redrew its figure
    good = [m for m in report.moves if m.changed]
    assert any(m.control["label"] == "n" for m in good), report.text()
    assert not any("'unused'" in m.control["label"] for m in good)
