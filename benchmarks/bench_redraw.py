"""Widget redraw time in the kernel: from a changed control to the PNG ready to send.

The browser benchmark (``bench_widgets.py``) times what a lecturer waits for; most of that is
the kernel drawing the figure. This one times that part alone, without a browser, so a figure
function can be made faster and checked in a minute: each notebook named (default: every
notebook under ``notebooks/`` that builds a widget) runs in a fresh kernel (nbclient), then a
probe cell finds every :class:`helpers.widgets.InteractiveFigure` and, for every control, sets
up to two other values and the first one back, timing each redraw (``render`` with the text
raised for projection, then :func:`helpers.widgets.figure_output`, the PNG at twice its
pixels). A new digit traced through the checkpoints (notebook 06) is part of the time, as in
class.

Prints, per widget (its notebook and its first control), the number of redraws, the median and
the maximum in seconds, and how much of the median is ``figure_output`` (layout, drawing, PNG);
and the machine's load average (state it with the figures).

Usage (from the repository root)::

    python benchmarks/bench_redraw.py                                  # every widget notebook
    python benchmarks/bench_redraw.py notebooks/04_pooling_upsampling.ipynb
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r'''
import gc as _gc, json as _json, statistics as _st, time as _time
from helpers import widgets as _widgets


def _other_values(control):
    old = control.value
    if getattr(control, "options", None):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
    elif hasattr(control, "min") and hasattr(control, "max"):
        values = [control.min, control.max]
    elif isinstance(old, bool):
        values = [not old]
    else:
        return []
    return [v for v in values if v != old][:2] + [old]


_rows = []
for _box in [o for o in _gc.get_objects() if isinstance(o, _widgets.InteractiveFigure)]:
    _box._schedule = lambda callback: None  # this probe redraws by hand, timed
    _total, _output = [], []
    for _control in _box.controls.values():
        if getattr(getattr(_control, "layout", None), "display", None) == "none":
            continue  # a control hidden in this mode: a student cannot move it
        for _value in _other_values(_control):
            try:
                _control.value = _value
            except Exception:  # noqa: BLE001 - a value the control refuses
                continue
            _box._pending = False
            _t0 = _time.perf_counter()
            _figure = _box._render()
            _t1 = _time.perf_counter()
            if not isinstance(_figure, str):
                _widgets.figure_output(_figure)
            _t2 = _time.perf_counter()
            _total.append(_t2 - _t0)
            _output.append(_t2 - _t1)
    if _total:
        _first = next(iter(_box.controls.values()))
        _rows.append({"widget": getattr(_first, "description", "") or next(iter(_box.controls)),
                      "n": len(_total), "median": _st.median(_total), "max": max(_total),
                      "output": _st.median(_output)})
print("BENCH " + _json.dumps(_rows))
'''


def measure(notebook: Path) -> list[dict]:
    """Run ``notebook`` and the probe in a fresh kernel; the probe's rows."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    for out in nb.cells[-1].outputs:
        if out.get("name") == "stdout" and out["text"].startswith("BENCH "):
            return json.loads(out["text"][len("BENCH "):])
    raise RuntimeError(f"{notebook.name}: the probe printed nothing")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import browserkit as bk

    notebooks = args.notebooks or bk.widget_notebooks()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())} on {os.cpu_count()} CPUs",
          flush=True)
    print(f"{'nb':<3} {'widget (first control)':<32} {'redraws':>7} {'median s':>9} {'max s':>7} {'PNG part':>9}")
    for notebook in notebooks:
        for row in measure(notebook):
            print(f"{notebook.stem[:2]:<3} {row['widget'][:32]:<32} {row['n']:>7} {row['median']:>9.3f} "
                  f"{row['max']:>7.3f} {row['output'] / row['median']:>9.0%}", flush=True)
    print(f"load average after:  {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
