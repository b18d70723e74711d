"""The explorer in a lecture room (issue 23): one screen at 1366x768, any zoom, a pad that
survives a reload, text a back row can read.

A scratch notebook builds the book's explorer with a drawing pad, as notebook 05 does. For each
screen (1366x768 in JupyterLab's default layout; 125% and 150% browser zoom with the sidebar
collapsed, emulated as the CSS viewport a zoomed window has), the explorer is scrolled to the
top of the notebook and the test checks that:

- the widget is at most 640 px tall (on screen) and every visible control and the figure lie
  inside the notebook's visible area, so no scrolling is needed between a control and the figure;
- the smallest text of the figure is at least 14 px on screen, computed as points x dpi / 72 x
  (rendered width / natural width of the PNG) x zoom, with the points read from the figure the
  kernel drew (the same render function, run in this process).

Then the pad: an empty pad shows "draw a digit" and no prediction; after a stroke and a page
reload the canvas shows the kernel's drawing (dark pixels where the stroke was) and a new stroke
reaches the kernel and the explorer. A screenshot of the window at 1366x768 with a 7 drawn on the pad is written to
``tmp/artifacts/explorer-1366x768.png`` (the README's ``docs/figures/explorer.png``).
"""

from __future__ import annotations

import json

import pytest

import browserkit as bk
from test_jupyterlab_widgets import run_all_in_lab, shut_down_kernel

pytestmark = pytest.mark.browser

CELLS = [
    """%matplotlib inline
from helpers import explorer
from helpers.drawpad import DrawingPad
pad = DrawingPad()
book = explorer.book_explorer(step="dk1", pad=pad)""",
    """book.widget""",
]

#: (name, CSS viewport, zoom, collapse the left sidebar)
SCREENS = [("1366x768", (1366, 768), 1.0, False),
           ("125pc", (round(1366 / 1.25), round(768 / 1.25)), 1.25, True),
           ("150pc", (round(1366 / 1.5), round(768 / 1.5)), 1.5, True)]

MAX_HEIGHT = 640  # screen px: the widget must fit what a 1366x768 JupyterLab shows
MIN_TEXT = 14  # screen px: the smallest figure text

GEOMETRY = """() => {
    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer')
        || document.querySelector('.jp-NotebookPanel .jp-Notebook');
    const view = panel.getBoundingClientRect();
    const widget = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output > .jupyter-widgets'))
        .find(w => w.querySelector('.book-figure'));
    const box = r => ({top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height, width: r.width});
    const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const controls = Array.from(widget.querySelectorAll(
        '.widget-slider, .widget-dropdown, .widget-toggle-buttons, .widget-button, .jupyter-widget-Collapse-header, .p-Collapse-header, .lm-Collapse-header'))
        .filter(visible).map(el => Object.assign(box(el.getBoundingClientRect()),
            {label: (el.innerText || '').split('\\n')[0].slice(0, 40)}));
    const img = widget.querySelector('.widget-output img');
    return {view: box(view), widget: box(widget.getBoundingClientRect()), controls,
            figure: img ? Object.assign(box(img.getBoundingClientRect()), {natural: img.naturalWidth}) : null};
}"""


def smallest_points(step: str = "dk1") -> tuple[float, float]:
    """(smallest font size in points, dpi) of the explorer's figure for ``step``, drawn here."""
    from matplotlib.text import Text

    from helpers import explorer

    book = explorer.book_explorer(step=step)
    fig = book.figure
    fig.canvas.draw() if hasattr(fig.canvas, "draw") else None
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes), fig.dpi


def set_screen(page, size, collapse: bool) -> None:
    page.set_viewport_size({"width": size[0], "height": size[1]})
    sidebar_open = page.evaluate(
        "() => { const a = document.querySelector('#jp-left-stack'); return !!a && !a.classList.contains('lm-mod-hidden'); }")
    if collapse and sidebar_open:
        page.keyboard.press("Control+b")
        page.wait_for_function("() => document.querySelector('#jp-left-stack').classList.contains('lm-mod-hidden')")
    page.wait_for_timeout(500)  # the notebook relayouts after a resize


def compact_on(page) -> bool:
    return page.evaluate("() => document.querySelector('.book-compact') !== null")


def explorer_to_top(page) -> None:
    page.evaluate("""() => {
        const w = Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output > .jupyter-widgets'))
            .find(w => w.querySelector('.book-figure'));
        w.scrollIntoView({block: 'start'});
    }""")
    page.wait_for_timeout(300)


def check_one_screen(page, zoom: float, points: float, dpi: float) -> dict:
    g = page.evaluate(GEOMETRY)
    view, widget, fig = g["view"], g["widget"], g["figure"]
    assert fig is not None, "the explorer shows no figure"
    problems = []
    if widget["height"] * zoom > MAX_HEIGHT + 0.5:
        problems.append(f"the explorer is {widget['height'] * zoom:.0f} px tall on screen (> {MAX_HEIGHT})")
    for item in g["controls"] + [dict(fig, label="the figure")]:
        if item["top"] < view["top"] - 1 or item["bottom"] > view["bottom"] + 1 or item["right"] > view["right"] + 1:
            problems.append(f"{item['label']!r} lies outside the visible notebook "
                            f"({item['top']:.0f}..{item['bottom']:.0f} vs {view['top']:.0f}..{view['bottom']:.0f}, "
                            f"right {item['right']:.0f} vs {view['right']:.0f})")
    text_px = points * (2 * dpi) / 72 * fig["width"] / fig["natural"] * zoom
    if text_px < MIN_TEXT:
        problems.append(f"the smallest figure text is {text_px:.1f} px on screen (< {MIN_TEXT})")
    print("geometry", json.dumps({"view": view, "widget": widget, "figure": fig}))
    assert not problems, "\n".join(problems)
    return {"height_px": round(widget["height"] * zoom), "text_px": round(text_px, 1),
            "controls": len(g["controls"]), "visible_px": round(view["height"] * zoom)}


STATE = """() => {
    const summary = document.querySelector('.jp-NotebookPanel .book-summary');
    const html = summary ? summary.innerText : '';
    const out = document.querySelector('.jp-NotebookPanel .book-figure');
    const img = out ? out.querySelector('img') : null;
    const text = out && !img ? out.innerText.trim() : '';
    return {summary: html, figure: img ? img.getAttribute('src') : null, message: text ? text : null};
}"""

INK = """() => {
    const c = Array.from(document.querySelectorAll('.jp-NotebookPanel canvas')).find(c => c.width === 280);
    if (!c) return -1;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 128 && d[i + 3] > 0) dark++;
    return dark;
}"""


def pad_canvas(page):
    return page.locator(".jp-NotebookPanel canvas").filter(has=None).last


def draw(page, points):
    canvas = page.locator(".jp-NotebookPanel .jupyter-widgets canvas").last
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    sx, sy = box["width"] / 280, box["height"] / 280
    page.mouse.move(box["x"] + points[0][0] * sx, box["y"] + points[0][1] * sy)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * sx, box["y"] + y * sy, steps=4)
    page.mouse.up()


def wait_state(page, condition: str):
    """The page's state (summary, figure, message) at the moment ``condition`` holds for it."""
    handle = page.wait_for_function(f"() => {{ const s = ({STATE})(); return ({condition}) ? s : null; }}",
                                    timeout=bk.seconds(60) * 1000)
    return handle.json_value()


def draw_a_seven_on_the_empty_pad(page) -> tuple[dict, dict]:
    """Choose "my drawing": the empty pad says "draw a digit" and no prediction; then draw a 7 and
    wait until the explorer reads it. Returns the page's states (empty, drawn)."""
    page.locator(".jp-NotebookPanel .widget-toggle-buttons button", has_text="my drawing").click()
    empty = wait_state(page, "s.message !== null")
    assert "draw a digit" in empty["message"] and "predicted" not in empty["summary"], empty
    draw(page, [(70, 60), (210, 60), (190, 110), (160, 170), (130, 240)])
    drawn = wait_state(page, "s.figure !== null && s.summary.includes('predicted')")
    assert page.evaluate(INK) > 500, "the stroke is not on the canvas"
    return empty, drawn


def test_explorer_fits_one_screen_at_every_zoom_and_the_pad_survives_a_reload(lab, book_page, tmp_path):
    page = book_page.page
    path = bk.scratch_notebook(tmp_path, "zz_lecture_room", CELLS)
    points, dpi = smallest_points("dk1")
    page.set_viewport_size({"width": 1366, "height": 768})
    measured = {}
    try:
        run_all_in_lab(book_page, lab, path)
        bk.install_page_script(page)
        for name, size, zoom, collapse in SCREENS:
            set_screen(page, size, collapse)
            if zoom > 1 and not compact_on(page):  # the lecturer's compact presentation
                page.locator(".book-explorer .widget-toggle-button", has_text="compact").click()
                page.wait_for_function("() => document.querySelector('.book-compact') !== null")
            explorer_to_top(page)
            measured[name] = check_one_screen(page, zoom, points, dpi)
        print("\none screen:", json.dumps(measured))

        # back to 1366x768 in the default layout: compact off, the sidebar open again
        page.set_viewport_size({"width": 1366, "height": 768})
        if compact_on(page):
            page.locator(".book-explorer .widget-toggle-button", has_text="compact").click()
            page.wait_for_function("() => document.querySelector('.book-compact') === null")
        if page.evaluate("() => document.querySelector('#jp-left-stack').classList.contains('lm-mod-hidden')"):
            page.keyboard.press("Control+b")
            page.wait_for_timeout(500)
        # the kernel editor, opened: its labels are not cut off ("load a pre...")
        page.locator(".book-explorer .widget-toggle-button", has_text="kernel").click()
        page.locator(".book-explorer .widget-dropdown", has_text="first-layer kernel").locator("select") \
            .select_option(index=1)
        page.wait_for_function("""() => Array.from(document.querySelectorAll('.book-explorer .widget-label'))
            .some(l => l.innerText.trim() === 'load a preset' && l.offsetWidth > 0)""")
        cut = page.evaluate("""() => Array.from(document.querySelectorAll('.book-explorer .widget-label'))
            .filter(l => l.offsetWidth > 0 && l.scrollWidth > l.clientWidth + 1).map(l => l.innerText)""")
        assert not cut, f"labels cut off: {cut}"
        page.locator(".book-explorer .widget-dropdown", has_text="first-layer kernel").locator("select") \
            .select_option(index=0)  # back to the trained kernels
        page.locator(".book-explorer .widget-toggle-button", has_text="kernel").click()
        # an empty pad ("draw a digit", no prediction), a stroke, then a reload: the canvas shows
        # the kernel's drawing and takes new strokes
        _, drawn = draw_a_seven_on_the_empty_pad(page)
        explorer_to_top(page)  # the README's screenshot: the whole window, explorer and pad in it
        page.screenshot(path=str(bk.artifacts_dir() / "explorer-1366x768.png"))
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+s")  # saved with its widget views, as a lecturer would
        page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=bk.seconds(30) * 1000)
        page.reload(wait_until="domcontentloaded")
        page.wait_for_selector(".jp-NotebookPanel .jupyter-widgets canvas", timeout=bk.seconds(120) * 1000)
        page.wait_for_function(f"() => ({INK})() > 500", timeout=bk.seconds(60) * 1000)
        bk.install_page_script(page)
        draw(page, [(110, 140), (200, 140)])
        after = wait_state(page, f"s.figure !== null && s.summary !== {json.dumps(drawn['summary'])}")
        assert "predicted" in after["summary"], after
        page.locator(".jp-NotebookPanel .widget-button", has_text="clear").click()
        cleared = wait_state(page, "s.message !== null")
        assert "draw a digit" in cleared["message"] and "predicted" not in cleared["summary"], cleared
        problems = [p for p in book_page.browser_problems() if "setAttr" in p]
        assert not problems, "\n".join(problems)
    finally:
        shut_down_kernel(book_page)


def test_a_widget_cell_not_yet_run_shows_one_friendly_line(lab, book_page):
    """Before Run All, the stored output of a widget cell reads "interactive ...: run this cell"
    (the stored text/plain), not a ``VBox(children=...`` repr."""
    page = book_page.page
    book_page.servers.append(lab)
    notebook = bk.NOTEBOOK_DIR / "05_conv_kernel_gradients.ipynb"
    copy = bk.copy_notebook(notebook, lab.root)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{lab.url}/lab/workspaces/placeholder/tree/{copy.name}", wait_until="domcontentloaded",
              timeout=bk.seconds(180) * 1000)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=bk.seconds(180) * 1000)
    try:
        texts = page.evaluate("""async () => {
            const nb = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer');
            for (let y = 0; y < nb.scrollHeight; y += 500) { nb.scrollTop = y; await new Promise(r => setTimeout(r, 30)); }
            return Array.from(document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output'))
                .map(o => o.innerText.trim());
        }""")
        friendly = [t for t in texts if t.endswith("run this cell")]
        assert friendly, "no widget cell shows the placeholder line"
        assert not [t for t in texts if "children=(" in t], "a widget cell shows a Python repr"
    finally:
        shut_down_kernel(book_page)
