"""Widget latency in a real browser: from a control change to the redrawn figure.

For each notebook that builds widgets (``tests/browser/browserkit.widget_notebooks``, or the
notebooks named on the command line), JupyterLab serves a scratch copy, headless Chromium runs
all cells, and then every control of every widget is moved ``--rounds`` times by the browser
test kit (``browserkit.drive_widgets``: an arrow key on a slider handle, another dropdown option,
a click on another toggle button...). One move is timed from the control's input event to the
widget's figure replaced and loaded: what a lecturer waits for.

Then a burst: five presses of the first slider of each widget 150 ms apart, timed from the last
press to the last redraw (the widgets coalesce rapid changes into one redraw with the last
value; before that, a burst queued five redraws).

Times are taken in the page: from the first input event of the move (the key, pointer or
change event the browser dispatches) to the moment every Output area the control drives holds
the new figure, loaded (a MutationObserver and the image's load event:
``browserkit.PAGE_SCRIPT``'s ``latency``), so neither Playwright's round trips nor the test
kit's polling add to them. The kit's own time per move (snapshots, waits) is printed beside.

Prints, per widget (named by its notebook and its first control), the number of moves, the
median and the maximum in seconds, the burst's settle time, and the median of the kit's time
per move; and the machine's load average before and after (the machine may be shared: state it
with the figures).

Usage (from the repository root, with the ``browser`` extra installed and Debian's chromium)::

    python benchmarks/bench_widgets.py                          # every widget notebook, 3 rounds
    python benchmarks/bench_widgets.py notebooks/05_conv_kernel_gradients.ipynb --rounds 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT))

import browserkit as bk  # noqa: E402


class _Page:
    """What ``run_all_in_lab`` needs of the browser tests' page fixture."""

    def __init__(self, page):
        self.page = page
        self.traffic = bk.KernelTraffic()
        self.traffic.attach(page)
        self.servers = []


def burst(page, traffic, control, presses: int = 5, gap_ms: int = 150) -> float | None:
    """Seconds from the last of ``presses`` slider presses ``gap_ms`` apart to the last redraw,
    timed in the page."""
    outs = page.evaluate("id => window.__bt.outputsFor(id)", control["id"])
    if not outs:
        return None
    handle = page.locator(f'[data-bt-id="{control["id"]}"] .noUi-handle').first
    now, top = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
    key = "ArrowLeft" if now is not None and top is not None and float(now) + presses > float(top) else "ArrowRight"
    mark = traffic.mark()
    handle.focus()
    for i in range(presses):
        if i == presses - 1:  # only a redraw after the last press counts
            page.evaluate("ids => window.__bt.markStale(ids)", outs)
        handle.press(key)
        if i < presses - 1:
            time.sleep(gap_ms / 1000)
    traffic.wait_answered(page, mark, bk.seconds(120), what="burst")
    page.wait_for_function("ids => window.__bt.fresh(ids)", arg=outs, timeout=bk.seconds(60) * 1000,
                           polling="raf")
    page.wait_for_timeout(1000)  # a redraw the kernel still owes would land here
    return page.evaluate("() => window.__bt.latency(true)")  # until the last redraw


def measure(page_under_test, lab, notebook: Path, rounds: int) -> dict:
    from test_jupyterlab_widgets import run_all_in_lab, shut_down_kernel

    page, traffic = page_under_test.page, page_under_test.traffic
    allowed = bk.cells_with_stored_stderr(bk.read_notebook(notebook))
    widgets: dict = {}
    try:
        run_all_in_lab(page_under_test, lab, notebook)
        for _ in range(rounds):
            report = bk.drive_widgets(page, traffic, allowed, stop_at_first_failure=False)
            for m in report.moves:
                if not m.changed or not m.outputs or bk.FIGURE_MESSAGE in m.detail:
                    continue  # (moves while the pad is empty only show "draw a digit")
                entry = widgets.setdefault(tuple(m.outputs), {"name": m.control["label"], "times": [],
                                                              "kit": [], "slider": None})
                if m.latency is None:
                    continue  # (no input event reached the page: nothing a lecturer did)
                entry["times"].append(m.latency)
                entry["kit"].append(m.seconds)
                if entry["slider"] is None and m.control["kind"] == "slider":
                    entry["slider"] = m.control
        data_set = page.locator(".jp-NotebookPanel .widget-toggle-buttons button", has_text="data set")
        if data_set.count():  # the explorer back on a digit of the data set (not the empty pad)
            data_set.first.click()
            page.wait_for_timeout(1500)
        visible = {c["id"]: c for c in page.evaluate("() => window.__bt.scan()")
                   if c["visible"] and c["kind"] == "slider"}
        for key, entry in widgets.items():
            sliders = [c for c in visible.values()
                       if page.evaluate("id => window.__bt.outputsFor(id)", c["id"]) == list(key)]
            try:
                entry["burst"] = burst(page, traffic, sliders[0]) if sliders else None
            except Exception:  # a slider that sent nothing (hidden meanwhile): no burst figure
                entry["burst"] = None
    finally:
        shut_down_kernel(page_under_test)
    return widgets


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    notebooks = args.notebooks or bk.widget_notebooks()
    from playwright.sync_api import sync_playwright

    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as api:
        tmp = Path(tmp)
        (tmp / "root").mkdir()
        lab = bk.lab_server(tmp / "root", tmp / "home")
        lab.root = tmp / "root"
        lab.start()
        context = api.chromium.launch_persistent_context(
            str(tmp / "profile"), executable_path=bk.CHROMIUM, headless=True, args=bk.CHROMIUM_ARGS,
            viewport={"width": 1366, "height": 768}, service_workers="block")
        context.set_default_timeout(bk.seconds(60) * 1000)
        rows = []
        try:
            for notebook in notebooks:
                page = context.new_page()
                try:
                    for entry in measure(_Page(page), lab, notebook, args.rounds).values():
                        t = entry["times"]
                        if not t:
                            continue
                        rows.append((notebook.stem[:2], entry["name"], len(t), statistics.median(t), max(t),
                                     entry["burst"], statistics.median(entry["kit"])))
                        print(f"  {rows[-1][0]} {rows[-1][1][:40]}: {len(t)} moves, median {rows[-1][3]:.2f} s, "
                              f"max {rows[-1][4]:.2f} s, burst {entry['burst']}", flush=True)
                finally:
                    page.close()
        finally:
            context.close()
            lab.stop()
    print(f"load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"{'nb':<3} {'widget (first control)':<32} {'moves':>5} {'median s':>9} {'max s':>7} {'burst s':>8} "
          f"{'kit s':>6}")
    for nb, name, n, med, top, b, kit in rows:
        print(f"{nb:<3} {name[:32]:<32} {n:>5} {med:>9.2f} {top:>7.2f} {'-' if b is None else f'{b:.2f}':>8} "
              f"{kit:>6.2f}")


if __name__ == "__main__":
    main()
