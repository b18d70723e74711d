"""The explorer, its placeholder and the drawing pad in Notebook 7 (issue 23), at 1366x768.

Notebook 7 (the ``notebook`` package, in the ``browser`` extra) serves ``/notebooks/<path>`` on
a server started by ``browserkit.lab_server`` (fixture ``notebook7``, a second one beside
JupyterLab's, see conftest.py): the same settings, kernels and widget manager, another
application around them.

1. Before any cell runs, a scratch copy of notebook 05 shows, for each cell whose stored output is
   a widget, the one friendly line the book stores with it ("interactive explorer: run this
   cell", ``helpers.widgets.PLACEHOLDER``...) and nowhere a ``VBox(children=...`` repr or a
   widget-manager error.
2. The scratch notebook of ``test_lecture_room.py`` (the explorer with its pad, as in 05) is run
   from Notebook 7's Run menu: the explorer shows its figure; moving "step of the pass" redraws
   it (``browserkit.move_and_check``: the kernel answered, the Output area holds new image
   bytes); "my drawing" shows "draw a digit"; a 7 drawn with the mouse reaches the kernel (the
   summary gives a prediction, the figure comes back); no error on the page or from the kernel.
   Then the kernel is restarted from the Kernel menu and the pad must say that the cell must be
   run again (``test_pad_restart.check_restart_message``).
"""

from __future__ import annotations

import collections

import pytest

import browserkit as bk
from test_jupyterlab_widgets import run_all_in_lab, shut_down_kernel
from test_lecture_room import CELLS, draw_a_seven_on_the_empty_pad
from test_pad_restart import check_restart_message

pytestmark = pytest.mark.browser

SCREEN = {"width": 1366, "height": 768}
PLACEHOLDER_NOTEBOOK = bk.NOTEBOOK_DIR / "05_conv_kernel_gradients.ipynb"

#: Notebook 7's own start-up error, not the book's: its shortcuts extension reads the settings of a
#: plugin the registry has not loaded yet (jupyter/notebook issue 7862, open, "can't access
#: property 'schema', registry.plugins[shortcuts.id] is undefined"; seen with notebook 7.6.5 on
#: every page, /tree included). Only this exact message is tolerated.
NOTEBOOK7_STARTUP_ERROR = "uncaught JavaScript error: Cannot read properties of undefined (reading 'schema')"


def page_problems(book_page, allowed_cells: set = frozenset()) -> list[str]:
    """Errors on the page, from the kernel and in the browser, minus Notebook 7's start-up error."""
    bk.install_page_script(book_page.page)
    found = bk.page_problems(book_page.page, allowed_cells) + book_page.traffic.problems
    return found + [p for p in book_page.browser_problems() if p != NOTEBOOK7_STARTUP_ERROR]


OUTPUT_TEXTS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output'))
    .map(o => o.innerText.trim())"""


def stored_placeholders(nb: dict) -> list[str]:
    """The text/plain stored beside each widget view among the notebook's outputs."""
    found = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if bk.WIDGET_VIEW_MIME in data:
                text = data.get("text/plain", "")
                found.append(("".join(text) if isinstance(text, list) else text).strip())
    return found


def test_a_widget_cell_not_yet_run_shows_its_placeholder_in_notebook7(notebook7, book_page):
    page = book_page.page
    book_page.servers.append(notebook7)
    expected = stored_placeholders(bk.read_notebook(PLACEHOLDER_NOTEBOOK))
    assert expected, f"{PLACEHOLDER_NOTEBOOK.name} stores no widget output"
    reprs = [t for t in expected if not t.endswith("run this cell")]
    assert not reprs, f"{PLACEHOLDER_NOTEBOOK.name} stores reprs, not placeholders: {reprs}"
    copy = bk.copy_notebook(PLACEHOLDER_NOTEBOOK, notebook7.root)
    page.set_viewport_size(SCREEN)
    page.goto(f"{notebook7.url}/notebooks/{copy.name}", wait_until="domcontentloaded",
              timeout=bk.seconds(180) * 1000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=bk.seconds(180) * 1000)
    try:
        book_page.traffic.wait_kernel_ready(page, bk.seconds(180))
        try:  # the widget renderer falls back to the stored line once it knows the model is absent
            page.wait_for_function(
                "lines => { const t = (" + OUTPUT_TEXTS + ")(); return lines.every(l => t.includes(l)); }",
                arg=expected, timeout=bk.seconds(30) * 1000)
        except Exception:  # a Playwright timeout: the assertions below say what is shown
            pass
        texts = page.evaluate(OUTPUT_TEXTS)
        missing = collections.Counter(expected) - collections.Counter(texts)
        assert not missing, f"placeholders not shown: {dict(missing)}; widget outputs show: " \
            f"{[t[:200] for t in texts if 'run this cell' in t or 'children=' in t or 'widget' in t.lower()]}"
        shown_reprs = [t[:200] for t in texts if "children=(" in t]
        assert not shown_reprs, f"a widget cell shows a Python repr: {shown_reprs}"
        problems = page_problems(book_page, bk.cells_with_stored_stderr(bk.read_notebook(PLACEHOLDER_NOTEBOOK)))
        assert not problems, "\n".join(problems)
        print(f"\nNotebook 7 before running: {len(expected)} placeholder lines shown: {expected}")
    finally:
        shut_down_kernel(book_page)


def test_explorer_and_pad_in_notebook7(notebook7, book_page, tmp_path):
    page = book_page.page
    page.set_viewport_size(SCREEN)
    path = bk.scratch_notebook(tmp_path, "zz_notebook7", CELLS)
    try:
        times = run_all_in_lab(book_page, notebook7, path, notebook7=True)
        assert page.evaluate("() => document.title") and page.locator(
            ".jp-NotebookPanel .book-explorer").count() == 1, "no explorer on the Notebook 7 page"
        # the explorer's figure, then one control moved: the kernel answers and the figure is redrawn
        page.wait_for_selector(".jp-NotebookPanel .book-figure img", timeout=bk.seconds(60) * 1000)
        bk.install_page_script(page)
        step = [c for c in page.evaluate("() => window.__bt.scan()")
                if c["label"].startswith("step of the pass") and c["visible"]]
        assert step, "no visible 'step of the pass' control"
        move = bk.move_and_check(page, book_page.traffic, step[0])
        assert move.changed, f"the figure was not redrawn: {move.line()}"
        # the pad: empty, then a 7 drawn with the mouse reaches the kernel and the explorer
        _, drawn = draw_a_seven_on_the_empty_pad(page)
        problems = page_problems(book_page)
        assert not problems, "\n".join(problems)
        page.screenshot(path=str(bk.artifacts_dir() / "notebook7-1366x768.png"))
        # a kernel restart: the pad says the cell must be run again
        restarted = check_restart_message(page)
        errors = [e for e in book_page.js_errors if f"uncaught JavaScript error: {e}" != NOTEBOOK7_STARTUP_ERROR]
        assert not errors, f"uncaught JavaScript errors after the restart: {errors}"
        print(f"\nNotebook 7: ran {times['cells']} cells in {times['ran']:.1f} s; {move.line()}; "
              f"drawing: {drawn['summary'][:80]!r}; after a restart: {restarted}")
    finally:
        shut_down_kernel(book_page)
