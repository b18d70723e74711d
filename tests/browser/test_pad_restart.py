"""After a kernel restart the drawing pad says that its cell must be run again (issue 23).

A restart leaves the pad's canvas on the page, dead: the new kernel has no pad, so strokes go
nowhere. The widget manager marks every view whose model lost its kernel connection with the
CSS class ``jupyter-widgets-disconnected``; the pad's own stylesheet uses it to show a message
over the dimmed canvas.

The scratch notebook of ``test_lecture_room.py`` (the explorer with the pad, as notebook 05 has
it) runs in JupyterLab at 1366x768; with "my drawing" chosen the pad is on screen. While the
kernel is alive no "run this cell again" text is visible near the pad, also after the notebook
is saved and the page reloaded (the widgets come back from the live kernel); after Kernel > Restart
Kernel... (dialog confirmed) such a text is visible over or beside the canvas, at least 14 px,
on top (the element at its centre is the message itself), and the canvas is dimmed. A
screenshot of that state is written to ``tmp/artifacts/pad-restart-1366x768.png``.
``test_notebook7.py`` checks the same in Notebook 7 with :func:`check_restart_message`.
"""

from __future__ import annotations

import re

import pytest

import browserkit as bk
from test_jupyterlab_widgets import run_all_in_lab, shut_down_kernel
from test_lecture_room import CELLS

pytestmark = pytest.mark.browser

#: the words the message must contain (the pad's own text may say more)
AGAIN = "run this cell again"
MIN_TEXT = 14  # px: readable from a back row, like the figures' text

#: The pad on screen (the last visible 280x280 canvas) and every element around it whose text
#: says "run this cell again": is it shown, how big, near the canvas, on top; the canvas's opacity.
PAD_NOTE = """() => {
    const canvases = Array.from(document.querySelectorAll('.jp-NotebookPanel canvas'))
        .filter(c => c.width === 280 && c.getClientRects().length > 0);
    if (!canvases.length) return null;
    const canvas = canvases[canvases.length - 1];
    canvas.scrollIntoView({block: 'center'});  // a restart adds icons above: the pad moves down
    const box = canvas.closest('.widget-vbox') || canvas.parentElement;
    const says = e => e.textContent.includes(%(again)s);
    const leaves = Array.from(box.querySelectorAll('*'))
        .filter(e => says(e) && !Array.from(e.children).some(says));
    const alpha = e => { let a = 1; for (let x = e; x && x !== document.body; x = x.parentElement)
        a *= parseFloat(getComputedStyle(x).opacity); return a; };
    const shown = e => {
        for (let x = e; x && x !== document.body; x = x.parentElement) {
            const s = getComputedStyle(x);
            if (s.display === 'none' || s.visibility === 'hidden') return false;
        }
        const r = e.getBoundingClientRect();
        return r.width > 0 && r.height > 0 && alpha(e) > 0.5;
    };
    const c = canvas.getBoundingClientRect();
    const notes = leaves.map(e => {
        const r = e.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return {text: e.textContent.trim(), visible: shown(e),
                font_px: parseFloat(getComputedStyle(e).fontSize),
                near: r.right > c.left - 40 && r.left < c.right + 40 &&
                      r.bottom > c.top - 40 && r.top < c.bottom + 40,
                on_top: !!hit && (e.contains(hit) || hit.contains(e))};
    });
    return {notes: notes, canvas_opacity: alpha(canvas)};
}""" % {"again": repr(AGAIN)}


def pad_note(page) -> dict:
    state = page.evaluate(PAD_NOTE)
    assert state is not None, "no drawing pad is on screen"
    return state


def restart_kernel(page) -> None:
    """Kernel > Restart Kernel... and confirm the dialog (JupyterLab and Notebook 7 alike); wait
    until the widget manager has marked the old widgets as disconnected and the new kernel is
    idle (the message must stay once the restart is over)."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Kernel$")).click()
    page.locator(".lm-Menu-item", has=page.locator(
        ".lm-Menu-itemLabel", has_text=re.compile(r"^Restart Kernel(…|\.\.\.)?$"))).click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_selector(".jp-NotebookPanel .jupyter-widgets-disconnected", state="attached",
                           timeout=bk.seconds(60) * 1000)
    page.wait_for_selector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]',
                           state="attached", timeout=bk.seconds(60) * 1000)


def check_restart_message(page) -> dict:
    """With the pad on screen and its kernel alive: no "run this cell again" is visible near it;
    restart the kernel; then the message is visible, near the canvas, on top, >= 14 px, and the
    canvas is dimmed. Returns what was measured."""
    alive = pad_note(page)
    shown = [n for n in alive["notes"] if n["visible"]]
    assert not shown, f"while the kernel is alive the pad already says: {shown}"
    assert alive["canvas_opacity"] > 0.9, f"the live pad is dimmed: {alive}"
    restart_kernel(page)
    page.wait_for_function(f"() => {{ const s = ({PAD_NOTE})(); "
                           "return s && s.notes.some(n => n.visible); }",
                           timeout=bk.seconds(30) * 1000)
    dead = pad_note(page)
    notes = [n for n in dead["notes"] if n["visible"]]
    problems = [f"{n['text']!r}: {n['font_px']} px (< {MIN_TEXT})" for n in notes
                if n["font_px"] < MIN_TEXT]
    problems += [f"{n['text']!r} is not next to the pad" for n in notes if not n["near"]]
    problems += [f"{n['text']!r} is covered by another element" for n in notes if not n["on_top"]]
    if dead["canvas_opacity"] > 0.6:
        problems.append(f"the dead canvas is not dimmed (opacity {dead['canvas_opacity']:.2f})")
    assert not problems, "after a kernel restart:\n" + "\n".join(problems)
    return {"message": notes[0]["text"], "font_px": notes[0]["font_px"],
            "canvas_opacity": round(dead["canvas_opacity"], 2)}


def test_after_a_kernel_restart_the_pad_says_run_this_cell_again(lab, book_page, tmp_path):
    page = book_page.page
    page.set_viewport_size({"width": 1366, "height": 768})
    path = bk.scratch_notebook(tmp_path, "zz_pad_restart", CELLS)
    try:
        run_all_in_lab(book_page, lab, path)
        page.locator(".jp-NotebookPanel .widget-toggle-buttons button", has_text="my drawing").click()
        page.wait_for_function("() => Array.from(document.querySelectorAll('.jp-NotebookPanel canvas'))"
                               ".some(c => c.width === 280 && c.getClientRects().length > 0)")
        assert not [n for n in pad_note(page)["notes"] if n["visible"]], "the live pad says run again"
        # a page reload gets the widgets back from the live kernel: still no message
        page.locator(".jp-NotebookPanel .jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.keyboard.press("Control+s")
        page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=bk.seconds(30) * 1000)
        page.reload(wait_until="domcontentloaded")
        page.wait_for_function("() => Array.from(document.querySelectorAll('.jp-NotebookPanel canvas'))"
                               ".some(c => c.width === 280 && c.getClientRects().length > 0)",
                               timeout=bk.seconds(120) * 1000)
        page.wait_for_selector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status="idle"]',
                               state="attached", timeout=bk.seconds(60) * 1000)
        measured = check_restart_message(page)
        page.screenshot(path=str(bk.artifacts_dir() / "pad-restart-1366x768.png"))
        # (JupyterLab's debugger logs a console error for the requests a restart cancels: not ours)
        assert not book_page.js_errors, f"uncaught JavaScript errors: {book_page.js_errors}"
        print("\nJupyterLab, after a kernel restart:", measured)
    finally:
        shut_down_kernel(book_page)
