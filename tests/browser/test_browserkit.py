"""Offline checks of the browser-test machinery (no browser, no server, no marker).

These run with the ordinary ``python -m pytest``: which notebooks count as widget notebooks,
how a kernel websocket frame is decoded, when a figure counts as changed, and which cells may
show stderr. The browser tests rely on each of these decisions.
"""

from __future__ import annotations

import base64
import json
import struct

import pytest

import browserkit as bk


def code(source, outputs=(), tags=()):
    return {"cell_type": "code", "source": source, "outputs": list(outputs),
            "metadata": {"tags": list(tags)}, "execution_count": None}


def markdown(source):
    return {"cell_type": "markdown", "source": source, "metadata": {}}


def notebook(*cells, widget_models=None):
    nb = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    if widget_models is not None:
        nb["metadata"]["widgets"] = {"application/vnd.jupyter.widget-state+json": {
            "state": {f"m{i}": {"model_name": name} for i, name in enumerate(widget_models)}}}
    return nb


VIEW = {"output_type": "display_data",
        "data": {bk.WIDGET_VIEW_MIME: {"model_id": "m0"}, "text/plain": "IntSlider()"}}


@pytest.mark.parametrize("source", [
    "interactive_figure(render, digit=(0, 9))",
    "widgets.interactive_figure(render, **widgets.digit_picker(labels))",
    "import ipywidgets as widgets\nwidgets.IntSlider(value=3)",
    "ipywidgets.Dropdown(options=['a', 'b'])",
    "interact(f, x=10)",
    "kernel=widgets.multi_size_kernel_editor(presets=presets)",
])
def test_sources_that_build_widgets_are_found(source):
    assert bk.notebook_uses_widgets(notebook(markdown("intro"), code(source)))


@pytest.mark.parametrize("source", [
    "from helpers import widgets",           # an import alone shows nothing
    "k = widgets.read_kernel(editor)",      # helpers that read a widget do not build one
    "presets = widgets.kernel_presets(3)",
    "print('interactive_figure is explained below')",
    "x = np.interp(t, tp, fp)",
])
def test_sources_without_widgets_are_not_found(source):
    assert not bk.notebook_uses_widgets(notebook(code(source)))


def test_markdown_mentioning_a_widget_call_does_not_count():
    assert not bk.notebook_uses_widgets(notebook(markdown("call `interactive_figure(render)`")))


def test_stored_widget_views_count_only_when_a_control_is_stored():
    # a view with no stored widget state: counted (nothing says it is passive)
    assert bk.notebook_uses_widgets(notebook(code("show()", [VIEW])))
    # a tqdm progress bar: boxes, labels and a progress model only
    bar = ["HBoxModel", "HTMLModel", "FloatProgressModel", "LayoutModel", "ProgressStyleModel"]
    assert not bk.notebook_uses_widgets(notebook(code("train()", [VIEW]), widget_models=bar))
    assert bk.notebook_uses_widgets(
        notebook(code("explore()", [VIEW]), widget_models=bar + ["IntSliderModel"]))


def test_widget_notebooks_reads_a_folder(tmp_path):
    for name, nb in {"01_a.ipynb": notebook(code("interactive_figure(r, d=(0, 3))")),
                     "02_b.ipynb": notebook(code("print(1)")),
                     "03_c.ipynb": notebook(code("w.Checkbox()"))}.items():
        (tmp_path / name).write_text(json.dumps(nb))
    (tmp_path / "04_being_written.ipynb").write_text('{"cells": [')
    found = [p.name for p in bk.widget_notebooks(tmp_path)]
    # a notebook that cannot be read yet is kept, so its test reports the real problem
    assert found == ["01_a.ipynb", "03_c.ipynb", "04_being_written.ipynb"]


def test_the_books_widget_notebooks_are_found():
    found = bk.widget_notebooks()
    assert found, "no widget notebook under notebooks/"
    for path in found:
        assert path.parent == bk.NOTEBOOK_DIR and path.suffix == ".ipynb"


def test_cells_allowed_to_show_stderr():
    nb = notebook(
        code("import warnings", [{"output_type": "stream", "name": "stderr", "text": "w"}]),
        markdown("text"),
        code("print(1)", [{"output_type": "stream", "name": "stdout", "text": "1"}]),
        code("1 / 0", [{"output_type": "error", "ename": "ZeroDivisionError"}]),
        code("raise ValueError", tags=["raises-exception"]),
    )
    assert bk.cells_with_stored_stderr(nb) == {0, 3, 4}
    assert bk.code_cell_indices(nb) == [0, 2, 3, 4]
    assert bk.code_cell_indices(notebook(code("  \n"), markdown("m"), code("x = 1"))) == [2]
    hidden = code("def solution(): ...")
    hidden["metadata"]["jupyter"] = {"source_hidden": True}
    nb = notebook(code("x = 1"), markdown("m"), hidden, code(" "), code("y = 2"))
    assert bk.code_cell_indices(nb) == [0, 2, 4]
    assert bk.code_cells_with_shown_input(nb) == [0, 4]


def _binary_frame(channel, header, parent, content):
    parts = [channel.encode(), json.dumps(header).encode(), json.dumps(parent).encode(),
             b"{}", json.dumps(content).encode()]
    n = len(parts)
    offsets, at = [], 8 * (n + 1)
    for part in parts:
        offsets.append(at)
        at += len(part)
    return struct.pack(f"<Q{n}Q", n, *offsets) + b"".join(parts)


def test_decode_binary_and_json_kernel_frames():
    header = {"msg_type": "status", "msg_id": "b"}
    parent = {"msg_type": "comm_msg", "msg_id": "a"}
    content = {"execution_state": "idle"}
    msg = bk.decode_kernel_frame(_binary_frame("iopub", header, parent, content))
    assert msg == {"channel": "iopub", "header": header, "parent_header": parent,
                   "content": content}
    text = json.dumps({"channel": "iopub", "header": header, "parent_header": parent,
                       "content": content, "metadata": {}})
    assert bk.decode_kernel_frame(text) == msg
    assert bk.decode_kernel_frame(b"\x01\x00") is None
    assert bk.decode_kernel_frame("not json") is None


class FakeWebSocket:
    def __init__(self):
        self.url = "ws://127.0.0.1:1/api/kernels/k/channels"
        self.handlers = {}

    def on(self, event, handler):
        self.handlers[event] = handler


def test_kernel_traffic_tracks_requests_and_errors():
    traffic = bk.KernelTraffic()
    ws = FakeWebSocket()
    traffic._on_websocket(ws)
    sent, received = ws.handlers["framesent"], ws.handlers["framereceived"]
    sent(_binary_frame("shell", {"msg_type": "comm_msg", "msg_id": "a"}, {}, {}))
    assert [s[1] for s in traffic.pending_since(0)] == ["comm_msg"]
    received(_binary_frame("iopub", {"msg_type": "status"}, {"msg_id": "a", "msg_type": "comm_msg"},
                           {"execution_state": "idle"}))
    assert traffic.pending_since(0) == []
    received(_binary_frame("iopub", {"msg_type": "stream"}, {"msg_type": "comm_msg"},
                           {"name": "stderr", "text": "No such comm: 1f2e-3d\n"}))
    assert traffic.problems == [] and len(traffic.notes) == 1
    received(_binary_frame("iopub", {"msg_type": "error"}, {"msg_type": "comm_msg"},
                           {"ename": "ValueError", "evalue": "digit", "traceback": ["\x1b[31mTB"]}))
    received(_binary_frame("iopub", {"msg_type": "stream"}, {"msg_type": "execute_request"},
                           {"name": "stderr", "text": "RuntimeWarning: overflow"}))
    assert len(traffic.problems) == 2
    assert "ValueError: digit" in traffic.problems[0] and "\x1b" not in traffic.problems[0]


def test_kernel_traffic_reads_the_text_size_of_every_figure_a_widget_receives():
    from helpers import figures, widgets

    traffic = bk.KernelTraffic()
    ws = FakeWebSocket()
    traffic._on_websocket(ws)
    received = ws.handlers["framereceived"]
    fig = figures.show_maps([[0.0, 1.0], [1.0, 0.0]])
    out = widgets.figure_output(fig)
    # the first draw arrives with the Output's model, later ones as state updates
    received(_binary_frame("iopub", {"msg_type": "comm_open"}, {},
                           {"data": {"state": {"outputs": [out]}}}))
    received(_binary_frame("iopub", {"msg_type": "comm_msg"}, {},
                           {"data": {"method": "update", "state": {"outputs": [widgets.figure_output("draw a digit")]}}}))
    assert traffic.figure_text == [(figures.smallest_text(fig), 200.0)]


def test_stderr_of_a_cell_that_stores_it_is_accepted():
    traffic = bk.KernelTraffic()
    ws = FakeWebSocket()
    traffic._on_websocket(ws)
    received = ws.handlers["framereceived"]
    for cell in ("run-1", "run-2"):
        received(_binary_frame("iopub", {"msg_type": "stream"},
                               {"msg_type": "execute_request", "msg_id": cell},
                               {"name": "stderr", "text": f"warning from {cell}"}))
    traffic.accept_problems_from({"run-1"}, "stored")
    assert traffic.problems == ["kernel stderr (during execute_request): warning from run-2"]
    assert traffic.notes == ["stored: kernel stderr (during execute_request): warning from run-1"]


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_figure_changed_compares_image_bytes():
    before = [[{"mime": "image/png", "src": _png(b"one"), "text": None}]]
    same = [[{"mime": "image/png", "src": _png(b"one"), "text": None}]]
    other = [[{"mime": "image/png", "src": _png(b"two"), "text": None}]]
    error = [[{"mime": "application/vnd.jupyter.stderr", "src": None, "text": "Traceback"}]]
    assert bk.figure_changed(before, other)[0]
    changed, detail = bk.figure_changed(before, same)
    assert not changed and "identical" in detail
    changed, detail = bk.figure_changed(before, error)
    assert not changed and "disappeared" in detail
    text_before = [[{"mime": "text/plain", "src": None, "text": "a = 1"}]]
    text_after = [[{"mime": "text/plain", "src": None, "text": "a = 2"}]]
    assert bk.figure_changed(text_before, text_after)[0]
    assert not bk.figure_changed(text_before, text_before)[0]


def test_report_text_lists_moves_and_failures():
    report = bk.Report()
    assert report.ok
    report.failures.append("slider 'digit': figure did not change")
    assert not report.ok and "FAILURES" in report.text()


def test_artifacts_folder_ignores_itself(tmp_path, monkeypatch):
    monkeypatch.setattr(bk, "REPO_ROOT", tmp_path)
    monkeypatch.setattr(bk, "ARTIFACTS_DIR", tmp_path / "tmp" / "artifacts")
    folder = bk.artifacts_dir()
    assert folder.is_dir()
    assert (tmp_path / "tmp" / ".gitignore").read_text().strip().endswith("*")
    assert bk.safe_name("test_x[01_a b/c]") == "test_x_01_a_b_c"


def test_a_draw_a_digit_message_counts_as_the_figures_state():
    before = [[{"mime": "image/png", "src": _png(b"one"), "text": None}]]
    message = [[{"mime": "text/html", "src": None, "text": "draw a digit"}]]
    other_text = [[{"mime": "text/html", "src": None, "text": "something else"}]]
    changed, detail = bk.figure_changed(before, message)
    assert changed and "draw a digit" in detail
    assert not bk.figure_changed(before, other_text)[0]
    assert bk.figure_changed(message, message)[0]  # redrawn (the kit saw a fresh Output), still empty
