"""The drawing pad and the explorer in JupyterLab: strokes drawn with the mouse reach the network.

A scratch notebook builds a :class:`helpers.drawpad.DrawingPad` and an
:class:`helpers.explorer.Explorer` wired to it, on the shipped states of the network. In
headless Chromium the test presses the mouse on the
canvas, draws strokes, releases, and checks that the 28x28 preview, the explorer's numbers and
its figure all change, and that no error appears. Then the generic driver moves every control
of both widgets (``browserkit.drive_widgets``).
"""

from __future__ import annotations

import json
import re

import pytest

import browserkit as bk
from test_jupyterlab_widgets import run_all_in_lab, shut_down_kernel

pytestmark = pytest.mark.browser

CELLS = [
    """%matplotlib inline
from helpers import data
from helpers.drawpad import DrawingPad
from helpers.explorer import Explorer, book_states
x_train, y_train, x_test, y_test = data.load_mnist_5k_split()
states = book_states()  # the shipped untrained, one-epoch and trained networks""",
    """pad = DrawingPad()
pad.widget""",
    """explorer = Explorer(states, x_test, y_test, pad=pad, digit=3, step="dC1_sigma")
explorer.widget""",
]


def pad_notebook(folder):
    return bk.scratch_notebook(folder, "zz_drawpad", CELLS)


STATE = """() => {
    const img = sel => { const i = document.querySelector(sel); return i ? i.getAttribute('src') : null; };
    const previews = Array.from(document.querySelectorAll('.jp-NotebookPanel .widget-image'));
    const html = Array.from(document.querySelectorAll('.jp-NotebookPanel .widget-html'))
        .map(h => h.innerText).find(t => t.includes('largest |error|')) || '';
    const figure = document.querySelector('.jp-NotebookPanel .widget-output img');
    return {preview: previews.length ? previews[0].getAttribute('src') : null,
            summary: html, figure: figure ? figure.getAttribute('src') : null};
}"""


def draw(page, canvas, points):
    box = canvas.bounding_box()
    assert box is not None, "the drawing pad's canvas is not on the page"
    x0, y0 = box["x"], box["y"]
    sx, sy = box["width"] / 280, box["height"] / 280  # points in canvas pixels; shown smaller
    page.mouse.move(x0 + points[0][0] * sx, y0 + points[0][1] * sy)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(x0 + x * sx, y0 + y * sy, steps=4)
    page.mouse.up()


def test_mouse_strokes_reach_the_explorer(lab, book_page, tmp_path):
    page = book_page.page
    path = pad_notebook(tmp_path)
    try:
        run_all_in_lab(book_page, lab, path)
        bk.install_page_script(page)
        canvas = page.locator(".jp-NotebookPanel canvas").first  # the pad's own cell (the explorer
        # shows the same canvas only once "my drawing" is chosen)
        canvas.scroll_into_view_if_needed()
        before = page.evaluate(STATE)
        assert before["figure"] and "predicted" in before["summary"], before
        # a "7": a bar across the top and a stroke down to the bottom left
        draw(page, canvas, [(70, 60), (210, 60), (190, 110), (160, 170), (130, 240)])
        page.wait_for_function(
            f"() => ({STATE})().figure !== {json.dumps(before['figure'])}",
            timeout=bk.seconds(60) * 1000)
        after = page.evaluate(STATE)
        assert after["preview"] != before["preview"], "the 28x28 preview did not change"
        assert after["summary"] != before["summary"], "the explorer's numbers did not change"
        predicted = re.search(r"predicted (\d)", after["summary"])
        assert predicted, after["summary"]
        problems = bk.page_problems(page, set()) + book_page.traffic.problems
        assert not problems, "\n".join(problems)
        # the second stroke is drawn too: the numbers move again
        draw(page, canvas, [(110, 140), (200, 140)])
        page.wait_for_function(
            f"() => ({STATE})().summary !== {json.dumps(after['summary'])} && "
            f"({STATE})().figure !== {json.dumps(after['figure'])}",
            timeout=bk.seconds(60) * 1000)
        # screenshots of the pad and the explorer in a tall window (the README's screenshot of
        # the explorer at 1366x768 comes from test_lecture_room.py)
        page.set_viewport_size({"width": 1400, "height": 2600})
        page.locator(".jp-NotebookPanel .jp-Cell").nth(1).screenshot(
            path=str(bk.artifacts_dir() / "drawpad.png"))
        page.locator(".jp-NotebookPanel .jp-Cell").nth(2).screenshot(
            path=str(bk.artifacts_dir() / "explorer.png"))
        page.set_viewport_size({"width": 1400, "height": 1000})
        report = bk.check_page_and_drive(book_page, path.name, set(), "after drawing")
        print(report.text())
        assert report.ok, report.text()
    finally:
        shut_down_kernel(book_page)
