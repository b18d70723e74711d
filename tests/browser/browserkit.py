"""Drive the book's widgets in a real browser: servers, kernel traffic, controls, figures.

Used by the browser tests (``pytest -m browser tests/browser``) and importable without
Playwright, so the offline test run can check the parts that need no browser (notebook
discovery, the kernel-message decoder, the report logic).

How one notebook is checked (``drive_widgets``):

1. Every widget control on the page is found in document order (sliders, dropdowns, toggle
   buttons, checkboxes, radio buttons, text and number boxes, buttons). In a grid of boxes (the
   kernel editor) only the first box is typed into: one box is enough to prove the grid works.
2. Each control is moved once, the way a person would: arrow key on a slider handle, another
   option in a dropdown, a click on another toggle button, a new number typed into a box.
3. The test then waits for a definite state rather than for a fixed time: every message the
   page sent to the kernel because of the move has been answered with an ``idle`` status (read
   from the page's kernel websocket), and the widget's Output area holds new content (its old
   children were marked before the move and must all be gone).
4. The figure the control drives (the images in the nearest Output area of the widget that
   contains the control) must differ byte for byte from the figure before the move.
5. Controls that only appear after another control changes (the 5x5 editor behind the "size"
   buttons) are reached by trying the other options of controls already moved. A control with
   the CSS class ``book-no-redraw`` (the explorer's "perturb", "kernel" and "compact" toggles, the
   pad's pen/eraser) only shows or hides controls or changes how later input is read: it is moved
   like any control, but no redraw is expected of it.
6. Throughout, anything that looks like an error counts as a failure: stderr or traceback
   outputs on the page (in widget Output areas always; in ordinary cells unless the notebook
   stores stderr for that cell), ``stream``/``error`` messages from the kernel after start-up,
   uncaught JavaScript exceptions, and widget-manager error messages.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"

#: Debian's Chromium (``apt-get install chromium``); Playwright's own browser download is never used.
CHROMIUM = os.environ.get("BOOK_BROWSER_CHROMIUM", "/usr/bin/chromium")

#: Where screenshots and logs of failed browser tests go (a self-ignoring folder, see below).
ARTIFACTS_DIR = Path(os.environ.get("BOOK_BROWSER_ARTIFACTS", REPO_ROOT / "tmp" / "artifacts"))

#: Multiplies every timeout below; raise it on a very slow machine (the waits end as soon as
#: the awaited state is reached, so a large value costs nothing when all goes well).
TIMEOUT_SCALE = float(os.environ.get("BOOK_BROWSER_TIMEOUT_SCALE", "1"))


def seconds(base: float) -> float:
    """A timeout of ``base`` seconds scaled by ``BOOK_BROWSER_TIMEOUT_SCALE``."""
    return base * TIMEOUT_SCALE


#: Chromium flags: headless-friendly, no background traffic, and no name resolution for any
#: host but 127.0.0.1 (pages that reference a CDN get a fast local failure, never the network).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"

# --------------------------------------------------------------------------------------------
# Which notebooks have widgets
# --------------------------------------------------------------------------------------------

#: Functions of ``helpers.widgets`` that do not build a widget (everything else it exports does).
NOT_WIDGET_BUILDERS = {"make_control", "kernel_presets", "read_kernel", "set_kernel"}


def _helper_widget_builders() -> list[str]:
    """Lower-case names that ``helpers.widgets`` exports to build widgets (read from its
    ``__all__``, so a new builder such as a checkpoint explorer is recognised at once)."""
    known = {"interactive_figure", "digit_picker", "layer_dropdown", "kernel_editor",
             "multi_size_kernel_editor"}
    try:
        from helpers import widgets
    except ImportError:  # the suite then fails elsewhere with the real import error
        return sorted(known)
    exported = {n for n in getattr(widgets, "__all__", []) if n[:1].islower()
                and callable(getattr(widgets, n, None))}
    return sorted((known | exported) - NOT_WIDGET_BUILDERS)


#: Source patterns that create a widget: a builder from ``helpers.widgets``, ipywidgets'
#: interact family, or any ipywidgets class called through a module name (``widgets.IntSlider(``).
WIDGET_CALL = re.compile(
    r"\b(?:" + "|".join(map(re.escape, _helper_widget_builders())) + r")\s*\("
    r"|\binteract(?:ive|_manual)?\s*\("
    r"|\b(?:ipywidgets|widgets|w)\.[A-Z]\w*\s*\("
)


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


#: Widget models that show something but take no input (boxes, text, progress bars, styles).
#: A notebook whose stored widgets are all of these kinds (a tqdm progress bar) has no control
#: to move, so it is not a widget notebook for these tests.
PASSIVE_MODELS = {
    "LayoutModel", "BoxModel", "HBoxModel", "VBoxModel", "GridBoxModel", "HTMLModel",
    "HTMLMathModel", "LabelModel", "FloatProgressModel", "IntProgressModel", "OutputModel",
    "ImageModel", "ValidModel",
}


def _stored_control_models(nb: dict) -> bool | None:
    """True/False: the notebook's saved widget state has/has no model of an input control;
    None when no widget state is stored."""
    state = (nb.get("metadata", {}).get("widgets", {})
             .get("application/vnd.jupyter.widget-state+json", {}).get("state"))
    if not isinstance(state, dict) or not state:
        return None
    names = {m.get("model_name", "") for m in state.values() if isinstance(m, dict)}
    return any(n not in PASSIVE_MODELS and not n.endswith("StyleModel") for n in names)


def notebook_uses_widgets(nb: dict) -> bool:
    """True if a code cell calls a widget constructor, or if a stored output is a widget view
    and the saved widget state (when there is one) includes an input control."""
    stored_view = False
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        if WIDGET_CALL.search(_cell_source(cell)):
            return True
        stored_view = stored_view or any(WIDGET_VIEW_MIME in o.get("data", {})
                                         for o in cell.get("outputs", []))
    return stored_view and _stored_control_models(nb) is not False


def read_notebook(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def widget_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """Every ``*.ipynb`` directly in ``folder`` whose cells create widgets, sorted by name."""
    found = []
    for path in sorted(Path(folder).glob("*.ipynb")):
        try:
            nb = read_notebook(path)
        except (OSError, ValueError):
            # a notebook being written by someone else right now; the test for it would fail
            # on the same error, so include it and let that test say what is wrong
            found.append(path)
            continue
        if notebook_uses_widgets(nb):
            found.append(path)
    return found


def cells_with_stored_stderr(nb: dict) -> set[int]:
    """Indices (0-based, over all cells) of code cells whose stored outputs include stderr or
    an error, or that are tagged ``raises-exception``: the author meant that output."""
    allowed = set()
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if "raises-exception" in cell.get("metadata", {}).get("tags", []):
            allowed.add(i)
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error" or (
                output.get("output_type") == "stream" and output.get("name") == "stderr"
            ):
                allowed.add(i)
    return allowed


def code_cell_indices(nb: dict) -> list[int]:
    """Indices (over all cells) of the code cells with non-blank source, in order: the cells
    JupyterLab sends to the kernel on "Run All Cells" (it sends nothing for blank ones)."""
    return [i for i, c in enumerate(nb.get("cells", [])) if c.get("cell_type") == "code"
            and _cell_source(c).strip()]


def code_cells_with_shown_input(nb: dict) -> list[int]:
    """Those of :func:`code_cell_indices` whose input is shown (not ``metadata.jupyter.
    source_hidden``): JupyterLab replaces a hidden input, prompt included, by a placeholder,
    so only these cells show an execution count in an input prompt."""
    return [i for i in code_cell_indices(nb)
            if not nb["cells"][i].get("metadata", {}).get("jupyter", {}).get("source_hidden")]


# --------------------------------------------------------------------------------------------
# Servers (Voila, JupyterLab) on 127.0.0.1 with isolated Jupyter folders
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(home: Path) -> dict:
    """The current environment with every Jupyter/IPython/matplotlib folder moved under ``home``.

    Nothing from the user's own configuration is read and nothing is written outside ``home``;
    the kernels inherit the pinned variables that the root ``conftest.py`` set (one BLAS
    thread, no MPLBACKEND).
    """
    env = dict(os.environ)
    folders = {
        "HOME": home / "home",
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "IPYTHONDIR": home / "ipython",
        "MPLCONFIGDIR": home / "matplotlib",
        "XDG_CACHE_HOME": home / "cache",
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        env[name] = str(folder)
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("MPLBACKEND", None)
    env.pop("JUPYTER_PATH", None)
    env.pop("JUPYTER_CONFIG_PATH", None)
    return env


class ServerProcess:
    """A Jupyter-family server (voila or jupyter lab) started on 127.0.0.1 and a free port."""

    def __init__(self, name: str, argv_for_port, home: Path, cwd: Path, ready_path: str):
        self.name = name
        self._argv_for_port = argv_for_port
        self.home = Path(home)
        self.cwd = Path(cwd)
        self.ready_path = ready_path
        self.proc = None
        self.port = None
        self.log_path = self.home / f"{name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float | None = None) -> "ServerProcess":
        timeout = seconds(120) if timeout is None else timeout
        env = isolated_env(self.home)
        last_error = None
        for _attempt in range(3):  # a port taken between free_port() and bind: try another
            self.port = free_port()
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                self._argv_for_port(self.port), cwd=self.cwd, env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
            log.close()
            try:
                self._wait_ready(timeout)
                return self
            except RuntimeError as exc:
                last_error = exc
                self.stop()
                if "address already in use" not in self.log_tail().lower():
                    break
        raise last_error

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with status {self.proc.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + self.ready_path, timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.2)  # polling a local port for readiness, not waiting for a page state
        raise RuntimeError(f"{self.name} did not answer on {self.url}{self.ready_path} within "
                           f"{timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # the server runs in its own session: signal only that process group (server + kernels)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def voila_server(root_dir: Path, home: Path) -> ServerProcess:
    """Voila serving every notebook under ``root_dir`` at ``/voila/render/<relative path>``.

    Voila's settings are left as a reader gets them. (Turning its XSRF check off made the
    page's widget manager stall the kernel in the middle of running notebook 03.)
    """
    def argv(port):
        return [sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
                "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
                f"--Voila.root_dir={root_dir}", "--show_tracebacks=True"]
    return ServerProcess("voila", argv, home, root_dir, "/")


LAB_USER_SETTINGS = {
    # never write the notebook back to disk (the test opens a copy anyway)
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # keep every cell in the DOM so prompts and outputs can be read directly
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news or update checks (they would reach for the internet)
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def lab_server(root_dir: Path, home: Path) -> ServerProcess:
    """JupyterLab with an empty token, isolated settings and workspaces, serving ``root_dir``."""
    settings = Path(home) / "lab-user-settings"
    for name, values in LAB_USER_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    labconfig = Path(home) / "config" / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))

    def argv(port):
        return [sys.executable, "-m", "jupyterlab", "--no-browser",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0", "--IdentityProvider.token=",
                "--ServerApp.password=", f"--ServerApp.root_dir={root_dir}",
                "--ServerApp.terminals_enabled=False", "--allow-root",
                "--LabApp.extension_manager=readonly",
                f"--LabApp.user_settings_dir={settings}",
                f"--LabApp.workspaces_dir={Path(home) / 'lab-workspaces'}",
                "--LabApp.news_url=", "--LanguageServerManager.autodetect=False"]
    return ServerProcess("jupyterlab", argv, home, root_dir, "/api")


# --------------------------------------------------------------------------------------------
# Kernel traffic, read from the page's own websocket
# --------------------------------------------------------------------------------------------


def decode_kernel_frame(payload) -> dict | None:
    """Decode one kernel websocket frame into ``{channel, header, parent_header, content}``.

    Jupyter Server speaks two formats: JSON text (the legacy protocol) and the binary
    ``v1.kernel.websocket.jupyter.org`` protocol: a little-endian uint64 ``n``, ``n`` uint64
    offsets, then the parts (channel, header, parent header, metadata, content, buffers...).
    Returns None for frames that are not kernel messages.
    """
    try:
        if isinstance(payload, str):
            msg = json.loads(payload)
            return {"channel": msg.get("channel"), "header": msg.get("header") or {},
                    "parent_header": msg.get("parent_header") or {},
                    "content": msg.get("content") or {}}
        data = bytes(payload)
        (n,) = struct.unpack_from("<Q", data, 0)
        if n < 5 or 8 * (n + 1) > len(data):
            return None
        offsets = list(struct.unpack_from(f"<{n}Q", data, 8)) + [len(data)]
        parts = [data[offsets[i]:offsets[i + 1]] for i in range(n)]
        return {"channel": parts[0].decode(), "header": json.loads(parts[1]),
                "parent_header": json.loads(parts[2]), "content": json.loads(parts[4])}
    except (ValueError, struct.error, UnicodeDecodeError, TypeError):
        return None


@dataclasses.dataclass
class KernelTraffic:
    """Requests the page sent to its kernel and what the kernel answered.

    ``sent``: (sequence number, msg_type, msg_id) of shell requests. ``idle``: msg_ids of
    requests whose ``idle`` status has arrived. ``problems``: stderr streams and errors from
    the kernel (with the parent request type), and execute replies with status error.
    """

    sent: list = dataclasses.field(default_factory=list)
    idle: set = dataclasses.field(default_factory=set)
    replied: set = dataclasses.field(default_factory=set)
    problems: list = dataclasses.field(default_factory=list)
    problem_parents: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)
    sockets: list = dataclasses.field(default_factory=list)
    #: (smallest text in points, PNG dpi) of every figure a widget's Output received
    #: (``helpers.widgets.figure_output`` writes them into the output's metadata)
    figure_text: list = dataclasses.field(default_factory=list)

    def attach(self, page) -> None:
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        if "/api/kernels/" not in ws.url:
            return
        self.sockets.append(ws.url)
        ws.on("framesent", self._on_sent)
        ws.on("framereceived", self._on_received)

    def _on_sent(self, payload) -> None:
        msg = decode_kernel_frame(payload)
        if msg and msg["channel"] == "shell":
            self.sent.append((len(self.sent), msg["header"].get("msg_type"),
                              msg["header"].get("msg_id")))

    def _on_received(self, payload) -> None:
        msg = decode_kernel_frame(payload)
        if not msg:
            return
        kind = msg["header"].get("msg_type")
        parent = msg["parent_header"]
        content = msg["content"]
        if kind in ("comm_open", "comm_msg"):
            state = (content.get("data") or {}).get("state") or {}
            for out in state.get("outputs") or []:
                book = (out.get("metadata") or {}).get("book/figure") if isinstance(out, dict) else None
                if book and book.get("smallest_text_pt") is not None:
                    self.figure_text.append((float(book["smallest_text_pt"]), float(book["dpi"])))
        if kind == "status" and content.get("execution_state") == "idle":
            self.idle.add(parent.get("msg_id"))
        elif msg["channel"] == "shell" and kind and kind.endswith("_reply"):
            self.replied.add(parent.get("msg_id"))
            if kind == "execute_reply" and content.get("status") == "error":
                self._problem(parent, f"execute_reply error: {content.get('ename')}: "
                                      f"{content.get('evalue')}")
        elif kind == "stream" and content.get("name") == "stderr":
            text = content.get("text", "")
            if parent.get("msg_type") in (None, "comm_open", "comm_msg", "comm_close") \
                    and BENIGN_KERNEL_LOG.fullmatch(text.strip()):
                self.notes.append(f"kernel comm log (during {parent.get('msg_type')}): "
                                  f"{text.strip()}")
            else:
                self._problem(parent, f"kernel stderr (during {parent.get('msg_type')}): {text}")
        elif kind == "error":
            self._problem(parent, f"kernel error (during {parent.get('msg_type')}): "
                                  f"{content.get('ename')}: {content.get('evalue')}\n"
                                  + strip_ansi("\n".join(content.get("traceback", []))))

    def _problem(self, parent: dict, text: str) -> None:
        self.problems.append(text)
        self.problem_parents.append(parent.get("msg_id"))

    def clear_problems(self) -> None:
        self.problems.clear()
        self.problem_parents.clear()

    def accept_problems_from(self, msg_ids: set, why: str) -> None:
        """Move the problems caused by the requests ``msg_ids`` to the notes (stderr that the
        notebook stores for those cells on purpose)."""
        keep = [(p, m) for p, m in zip(self.problems, self.problem_parents) if m not in msg_ids]
        self.notes += [f"{why}: {p.strip()}" for p, m in zip(self.problems, self.problem_parents)
                       if m in msg_ids]
        self.problems[:] = [p for p, _ in keep]
        self.problem_parents[:] = [m for _, m in keep]

    def wait_kernel_ready(self, page, timeout: float) -> None:
        """Wait until the page's kernel has answered a ``kernel_info_request`` (the page is
        connected to a running kernel)."""
        deadline = time.monotonic() + timeout
        while not any(s[1] == "kernel_info_request" and s[2] in self.replied for s in self.sent):
            if time.monotonic() > deadline:
                raise AssertionError(f"no kernel answered the page within {timeout:.0f} s "
                                     f"(sent {[s[1] for s in self.sent]})")
            page.wait_for_timeout(50)

    def mark(self) -> int:
        return len(self.sent)

    def pending_since(self, mark: int) -> list:
        return [s for s in self.sent[mark:] if s[2] not in self.idle]

    def wait_answered(self, page, mark: int, timeout: float, *, minimum: int = 1,
                      what: str = "the move", stop_on_problem: bool = False) -> list:
        """Wait until at least ``minimum`` requests were sent after ``mark`` and each of them has
        its ``idle`` status. Returns those requests; raises AssertionError on timeout.

        With ``stop_on_problem``, return as soon as the kernel reported an error and has
        answered everything sent so far (JupyterLab stops "run all" at the first error, so
        fewer than ``minimum`` requests may ever be sent)."""
        deadline = time.monotonic() + timeout
        while True:
            since = self.sent[mark:]
            if (len(since) >= minimum or (stop_on_problem and self.problems)) \
                    and not self.pending_since(mark):
                return since
            if time.monotonic() > deadline:
                break
            page.wait_for_timeout(50)  # lets Playwright deliver websocket events
        raise AssertionError(
            f"kernel did not finish handling {what} within {timeout:.0f} s: sent "
            f"{[s[1] for s in self.sent[mark:]]}, still busy with "
            f"{[s[1] for s in self.pending_since(mark)]}")


#: What ipykernel's comm manager logs (to stderr, not from a cell or a widget callback) when a
#: page's widget manager reaches for a comm the kernel does not have: JupyterLab opens the
#: ``jupyter.widget.control`` comm as soon as a notebook opens, before any cell has imported
#: ipywidgets, and Voila messages that short-lived comm after the kernel dropped it. Neither
#: changes anything on the page; they are kept as notes of the report.
BENIGN_KERNEL_LOG = re.compile(r"No such comm(?: target registered)?: [\w.-]+")


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


# --------------------------------------------------------------------------------------------
# The page side: find controls, their figures, and errors (one script, installed on demand)
# --------------------------------------------------------------------------------------------

PAGE_SCRIPT = r"""
() => {
  if (window.__bt) return;
  const CONTROLS = ['.widget-slider', '.widget-dropdown', '.widget-toggle-buttons',
    '.widget-checkbox', '.widget-radio', '.widget-textarea', '.widget-text', '.widget-select',
    'button.widget-toggle-button', 'button.widget-button'].join(',');
  const OUTPUT_ERRORS = ['Traceback (most recent call last)', 'Error displaying widget'];
  const PAGE_ERRORS = ['Error displaying widget', 'There was an error when executing cell',
    'Failed to display model', 'Could not create a view'];
  let nextId = 0, nextOut = 0;

  function kindOf(el) {
    const c = el.classList;
    if (c.contains('widget-slider')) return 'slider';
    if (c.contains('widget-dropdown')) return 'dropdown';
    if (c.contains('widget-toggle-buttons')) return 'toggle-buttons';
    if (c.contains('widget-checkbox')) return 'checkbox';
    if (c.contains('widget-radio')) return 'radio';
    if (c.contains('widget-textarea')) return 'textarea';
    if (c.contains('widget-text')) return 'text';
    if (c.contains('widget-select')) return 'select';
    if (c.contains('widget-toggle-button')) return 'toggle-button';
    return 'button';
  }
  function visible(el) {
    if (!el.isConnected || el.getClientRects().length === 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none';
  }
  function label(el) {
    const l = el.querySelector(':scope > .widget-label, :scope > label');
    const t = (l && l.textContent.trim()) || el.getAttribute('title') || el.textContent.trim();
    return t.slice(0, 60);
  }
  function options(el, kind) {
    if (kind === 'dropdown' || kind === 'select')
      return Array.from(el.querySelectorAll('option')).map(o => o.textContent.trim());
    if (kind === 'toggle-buttons')
      return Array.from(el.querySelectorAll('button')).map(b => b.textContent.trim());
    if (kind === 'radio')
      return Array.from(el.querySelectorAll('label')).map(b => b.textContent.trim());
    if (kind === 'checkbox' || kind === 'toggle-button') return ['off', 'on'];
    return null;
  }
  function current(el, kind) {
    if (kind === 'dropdown' || kind === 'select') return el.querySelector('select').selectedIndex;
    if (kind === 'toggle-buttons')
      return Array.from(el.querySelectorAll('button')).findIndex(b => b.classList.contains('mod-active'));
    if (kind === 'radio')
      return Array.from(el.querySelectorAll('input')).findIndex(i => i.checked);
    if (kind === 'checkbox') return el.querySelector('input').checked ? 1 : 0;
    if (kind === 'toggle-button') return el.classList.contains('mod-active') ? 1 : 0;
    return null;
  }
  function value(el, kind) {
    if (kind === 'slider') {
      const handles = Array.from(el.querySelectorAll('.noUi-handle'));
      const readout = el.querySelector('.widget-readout');
      return handles.map(h => h.getAttribute('aria-valuenow')).join(',') + ' | ' +
             (readout ? readout.textContent.trim() : '');
    }
    if (kind === 'text') return el.querySelector('input').value;
    if (kind === 'textarea') return el.querySelector('textarea').value;
    if (kind === 'button') return null;
    const o = options(el, kind), i = current(el, kind);
    return (o && i !== null && i >= 0) ? o[i] : String(i);
  }
  function disabled(el, kind) {
    const input = el.matches('button') ? el : el.querySelector('input, select, textarea, button');
    if (kind === 'slider') return el.querySelector('.noUi-target[disabled]') !== null;
    return input ? input.disabled : false;
  }
  function candidates() {
    return Array.from(document.querySelectorAll(CONTROLS)).filter(el =>
      !(el.matches('.widget-toggle-button') && el.closest('.widget-toggle-buttons')) &&
      !el.closest('.widget-play') && !el.closest('.widget-upload') &&
      // a control's own sub-parts (a select inside a dropdown...) are not separate controls
      !(el.parentElement && el.parentElement.closest(CONTROLS)));
  }
  function scan() {
    const out = [];
    for (const el of candidates()) {
      if (!el.dataset.btId) el.dataset.btId = String(nextId++);
      const kind = kindOf(el);
      const grid = el.closest('.widget-gridbox');
      if (grid && !grid.dataset.btGrid) grid.dataset.btGrid = el.dataset.btId;
      out.push({id: el.dataset.btId, kind: kind, label: label(el), visible: visible(el),
                disabled: disabled(el, kind), value: value(el, kind), options: options(el, kind),
                current: current(el, kind), fold: el.classList.contains('book-no-redraw'),
                group: grid ? 'grid' + grid.dataset.btGrid + ':' + kind : 'c' + el.dataset.btId});
    }
    return out;
  }
  function byId(id) { return document.querySelector('[data-bt-id="' + id + '"]'); }
  function describe(id) {
    const el = byId(id);
    if (!el) return null;
    const kind = kindOf(el);
    return {id: id, kind: kind, label: label(el), visible: visible(el), value: value(el, kind),
            options: options(el, kind), current: current(el, kind)};
  }
  // The Output areas a control drives: those inside the nearest widget box around it that
  // has any (an interactive figure is a box of controls beside an Output).
  function outputsFor(id) {
    let el = byId(id);
    while (el && (el = el.parentElement)) {
      if (!el.classList.contains('jupyter-widgets')) {
        if (el.classList.contains('jp-OutputArea-output') || el.classList.contains('jp-Cell')) break;
        continue;
      }
      const outs = Array.from(el.querySelectorAll('.widget-output'));
      if (outs.length) {
        return outs.map(o => { if (!o.dataset.btOut) o.dataset.btOut = String(nextOut++);
                               return o.dataset.btOut; });
      }
    }
    return [];
  }
  function outEl(id) { return document.querySelector('[data-bt-out="' + id + '"]'); }
  function children(o) {
    const area = o.querySelector('.jp-OutputArea');
    return area ? Array.from(area.children).filter(c => c.classList.contains('jp-OutputArea-child')) : [];
  }
  function snapshot(ids) {
    return ids.map(id => {
      const o = outEl(id);
      if (!o) return null;
      return children(o).map(c => {
        const out = c.querySelector('.jp-OutputArea-output') || c;
        const img = out.querySelector('img');
        return {mime: out.getAttribute('data-mime-type'), src: img ? img.getAttribute('src') : null,
                text: img ? null : out.innerText.slice(0, 4000)};
      });
    });
  }
  // Latency as the page sees it: from the first input event after markStale (key, pointer,
  // change) to the moment every Output it drives holds a new, loaded figure (a MutationObserver
  // and the images' load events, so no polling interval of the test adds to it).
  const timing = {inputAt: null, freshAt: null, lastFreshAt: null, ids: [], observers: []};
  for (const type of ['keydown', 'pointerdown', 'mousedown', 'input', 'change']) {
    document.addEventListener(type, () => { if (timing.inputAt === null) timing.inputAt = performance.now(); },
                              true);
  }
  function checkFresh() {
    if (timing.inputAt === null || !fresh(timing.ids)) return;
    timing.lastFreshAt = performance.now();  // a burst settles with its last redraw
    if (timing.freshAt === null) timing.freshAt = timing.lastFreshAt;
  }
  function watch(ids) {
    timing.observers.forEach(o => o.disconnect());
    timing.inputAt = null; timing.freshAt = null; timing.lastFreshAt = null; timing.ids = ids; timing.observers = [];
    for (const id of ids) {
      const o = outEl(id);
      if (!o) continue;
      const obs = new MutationObserver(records => {
        for (const r of records) for (const n of r.addedNodes) {
          if (n.querySelectorAll) n.querySelectorAll('img').forEach(img => img.addEventListener('load', checkFresh));
        }
        checkFresh();
      });
      obs.observe(o, {childList: true, subtree: true});
      timing.observers.push(obs);
    }
  }
  function latency(last) {
    if (timing.freshAt === null) checkFresh();
    timing.observers.forEach(o => o.disconnect());
    timing.observers = [];
    const end = last ? timing.lastFreshAt : timing.freshAt;
    return timing.inputAt !== null && end !== null ? (end - timing.inputAt) / 1000 : null;
  }
  function markStale(ids) {
    for (const id of ids) { const o = outEl(id); if (o) children(o).forEach(c => c.dataset.btStale = '1'); }
    watch(ids);
  }
  function fresh(ids) {
    return ids.every(id => {
      const o = outEl(id);
      if (!o) return true;
      const cs = children(o);
      return cs.length > 0 && cs.every(c => !c.dataset.btStale) &&
             cs.every(c => !c.querySelector('img') || c.querySelector('img').complete);
    });
  }
  function cellIndex(el) {
    const v = el.closest('[cell-index]');
    if (v) return parseInt(v.getAttribute('cell-index'), 10) - 1;  // Voila: 1-based over all cells
    const cell = el.closest('.jp-Notebook .jp-Cell');
    if (cell) return Array.from(cell.closest('.jp-Notebook').querySelectorAll('.jp-Cell')).indexOf(cell);
    return null;
  }
  function problems() {
    // Error output anywhere (stderr and tracebacks are rendered as stderr), or error text in
    // any output area; widget-manager and Voila error messages anywhere on the page.
    const found = [];
    for (const e of document.querySelectorAll('.jp-OutputArea-output')) {
      const mime = e.getAttribute('data-mime-type') || '';
      const text = e.innerText || '';
      const marker = OUTPUT_ERRORS.find(t => text.includes(t));
      if (mime === 'application/vnd.jupyter.stderr' || mime === 'application/vnd.jupyter.error' || marker) {
        found.push({cell: cellIndex(e), inWidget: !!e.closest('.jupyter-widgets'),
                    what: marker || mime, text: text.slice(0, 3000)});
      }
    }
    const text = document.body ? document.body.innerText : '';
    for (const t of PAGE_ERRORS) {
      const at = text.indexOf(t);
      if (at >= 0) found.push({cell: null, inWidget: null, what: t, page: true,
                               text: text.slice(Math.max(0, at - 200), at + 1500)});
    }
    return found;
  }
  function widgetViews() {
    // top-level widget views rendered in output areas (nested views are part of them)
    return Array.from(document.querySelectorAll('.jp-OutputArea-output > .jupyter-widgets'))
      .filter(e => !e.parentElement.closest('.jupyter-widgets')).length;
  }
  window.__bt = {scan, describe, outputsFor, snapshot, markStale, fresh, latency, problems, widgetViews};
}
"""


def install_page_script(page) -> None:
    page.evaluate(PAGE_SCRIPT)


# --------------------------------------------------------------------------------------------
# Moving one control
# --------------------------------------------------------------------------------------------


def _image_bytes(snapshot) -> list:
    images = []
    for output in snapshot or []:
        for child in output or []:
            src = child.get("src")
            if src and src.startswith("data:") and "," in src:
                header, data = src.split(",", 1)
                images.append(base64.b64decode(data) if ";base64" in header else data.encode())
            elif src:
                images.append(src.encode())
    return images


def _texts(snapshot) -> list:
    return [child.get("text") for output in snapshot or [] for child in output or []
            if child.get("text") is not None]


#: a message a widget may show in its figure's place (the explorer while the drawing pad is empty)
FIGURE_MESSAGE = "draw a digit"


def figure_changed(before, after) -> tuple[bool, str]:
    """Compare two snapshots of a control's Output areas: (changed?, explanation)."""
    imgs_before, imgs_after = _image_bytes(before), _image_bytes(after)
    if imgs_before or imgs_after:
        if not imgs_after:
            if any(FIGURE_MESSAGE in t for t in _texts(after)):  # an empty drawing pad, say so
                return True, f"the figure's place says {FIGURE_MESSAGE!r}"
            return False, "the figure disappeared (no image after the move)"
        changed = imgs_before != imgs_after
        sizes = f"{[len(b) for b in imgs_before]} -> {[len(b) for b in imgs_after]} bytes"
        return changed, ("image bytes differ: " if changed else "image bytes identical: ") + sizes
    if any(FIGURE_MESSAGE in t for t in _texts(after)):  # redrawn, and the pad is (still) empty
        return True, f"the figure's place says {FIGURE_MESSAGE!r}"
    changed = _texts(before) != _texts(after)
    return changed, "output text " + ("changed" if changed else "unchanged (no image either)")


@dataclasses.dataclass
class Move:
    control: dict
    action: str
    value_before: str | None
    value_after: str | None
    outputs: list
    changed: bool | None
    detail: str
    seconds: float
    #: seconds from the control's input event to the redrawn figure, timed in the page (None
    #: when nothing was redrawn); ``seconds`` also holds the test's own round trips
    latency: float | None = None

    def line(self) -> str:
        c = self.control
        return (f"{c['kind']} {c['label']!r}: {self.action}; value {self.value_before!r} -> "
                f"{self.value_after!r}; {self.detail} ({self.seconds:.1f} s)")


@dataclasses.dataclass
class Report:
    """What ``drive_widgets`` did and what went wrong (empty ``failures`` = all good)."""

    moves: list = dataclasses.field(default_factory=list)
    failures: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def text(self) -> str:
        lines = [f"{len(self.moves)} moves:"] + ["  " + m.line() for m in self.moves]
        lines += ["notes:"] + ["  " + n for n in self.notes] if self.notes else []
        lines += ["FAILURES:"] + ["  " + f for f in self.failures] if self.failures else []
        return "\n".join(lines)


def perform(page, control: dict, option: int | None = None) -> str:
    """Move ``control`` once like a person would; ``option`` picks a given option. Returns a
    description of the action."""
    loc = page.locator(f'[data-bt-id="{control["id"]}"]')
    kind = control["kind"]
    options = control.get("options") or []
    cur = control.get("current")
    if option is None and options:
        option = (cur + 1) % len(options) if cur is not None and cur >= 0 else 0
    if kind == "slider":
        handle = loc.locator(".noUi-handle").first
        now = handle.get_attribute("aria-valuenow")
        top = handle.get_attribute("aria-valuemax")
        key = "ArrowLeft" if now is not None and top is not None and float(now) >= float(top) \
            else "ArrowRight"
        handle.focus()
        handle.press(key)
        return f"pressed {key} on the handle"
    if kind in ("dropdown", "select"):
        loc.locator("select").select_option(index=option)
        return f"selected {options[option]!r}"
    if kind == "toggle-buttons":
        loc.locator("button").nth(option).click()
        return f"clicked {options[option]!r}"
    if kind == "radio":
        loc.locator("input").nth(option).check()
        return f"checked {options[option]!r}"
    if kind == "checkbox":
        loc.locator("input").click()
        return "clicked the checkbox"
    if kind in ("toggle-button", "button"):
        loc.click()
        return "clicked"
    if kind == "text":
        box = loc.locator("input")
        old = box.input_value()
        if box.get_attribute("type") == "number":
            step = box.get_attribute("step")
            try:
                step = float(step) if step not in (None, "", "any") else 1.0
            except ValueError:
                step = 1.0
            step = step if step > 0 else 1.0
            x = float(old) if old not in ("", None) else 0.0
            top = box.get_attribute("max")
            new = x + step if top in (None, "") or x + step <= float(top) else x - step
            text = f"{new:.6g}"
        else:
            text = old + "x"
        box.fill(text)
        box.press("Enter")
        box.evaluate("el => el.blur()")
        return f"typed {text!r} (was {old!r})"
    if kind == "textarea":
        box = loc.locator("textarea")
        box.fill(box.input_value() + " x")
        box.evaluate("el => el.blur()")
        return "typed ' x'"
    raise ValueError(f"unknown control kind {kind!r}")


def page_problems(page, allowed_cells: set) -> list[str]:
    """Errors shown on the page, minus stderr the notebook stores for that cell on purpose."""
    found = []
    for p in page.evaluate("() => window.__bt.problems()"):
        if not p.get("page") and not p.get("inWidget") and p.get("cell") in allowed_cells:
            continue
        where = ("a widget's output" if p.get("inWidget") else
                 f"cell {p['cell']}" if p.get("cell") is not None else "the page")
        found.append(f"{p['what']} in {where}: {p['text'].strip()[:1500]}")
    return found


def move_and_check(page, traffic: KernelTraffic, control: dict, option: int | None = None,
                   *, timeout: float | None = None) -> Move:
    """Move one control, wait for the kernel and the redraw, compare the figure it drives."""
    timeout = seconds(120) if timeout is None else timeout
    start = time.monotonic()
    outs = page.evaluate("id => window.__bt.outputsFor(id)", control["id"])
    before = page.evaluate("ids => window.__bt.snapshot(ids)", outs)
    page.evaluate("ids => window.__bt.markStale(ids)", outs)
    mark = traffic.mark()
    action = perform(page, control, option)
    traffic.wait_answered(page, mark, timeout, what=f"{control['kind']} {control['label']!r}")
    now = page.evaluate("id => window.__bt.describe(id)", control["id"])
    value_after = now["value"] if now else None
    if control.get("fold"):  # shows or hides other controls (or the presentation), draws nothing
        changed, detail = None, "marked book-no-redraw: no redraw expected"
    elif outs:
        try:
            waited = 2 if any(FIGURE_MESSAGE in t for t in _texts(before)) else 30
            page.wait_for_function("ids => window.__bt.fresh(ids)", arg=outs,
                                   timeout=seconds(waited) * 1000, polling="raf")
        except Exception:  # playwright TimeoutError: reported as an unchanged figure below
            pass
        after = page.evaluate("ids => window.__bt.snapshot(ids)", outs)
        changed, detail = figure_changed(before, after)
        waiting = all(any(FIGURE_MESSAGE in t for t in _texts(s)) for s in (before, after))
        if not page.evaluate("ids => window.__bt.fresh(ids)", outs) and not waiting:
            # (a widget that waits for a drawing shows the same message whatever the control says)
            changed, detail = False, "the Output area was not redrawn after the kernel went idle"
    else:
        changed, detail = None, "drives no Output area on the page"
    latency = page.evaluate("() => window.__bt.latency()") if outs and changed else None
    return Move(control, action, control.get("value"), value_after, outs, changed, detail,
                time.monotonic() - start, latency)


def drive_widgets(page, traffic: KernelTraffic, allowed_cells: set = frozenset(),
                  *, max_moves: int = 200, stop_at_first_failure: bool = True) -> Report:
    """Move every reachable control on ``page`` once and check what it drives (module doc).

    By default the first failure ends the run (later moves would only repeat it); with
    ``stop_at_first_failure=False`` every control is still moved and every failure listed."""
    install_page_script(page)
    report = Report()
    done_groups: set = set()
    tried_options: set = set()
    moves = 0

    def check_move(m: Move, revealing: bool = False) -> None:
        report.moves.append(m)
        c = m.control
        if c["kind"] not in ("button",) and m.value_after == m.value_before:
            report.failures.append(f"{c['kind']} {c['label']!r} did not move ({m.action}); "
                                   f"value stayed {m.value_before!r}")
        if m.changed is False:
            report.failures.append(f"{c['kind']} {c['label']!r}: figure did not change after "
                                   f"{m.action}: {m.detail}")
        elif m.changed is None and not revealing and not c.get("fold"):
            report.notes.append(f"{c['kind']} {c['label']!r} drives no Output area (moved, "
                                "checked for errors only)")
        problems = page_problems(page, allowed_cells) + traffic.problems
        traffic.clear_problems()
        for p in problems:
            report.failures.append(f"after moving {c['kind']} {c['label']!r}: {p}")

    def stop() -> bool:
        return stop_at_first_failure and bool(report.failures)

    while moves < max_moves and not stop():
        controls = page.evaluate("() => window.__bt.scan()")
        todo = [c for c in controls if c["group"] not in done_groups and c["visible"]
                and not c["disabled"]]
        if todo:
            control = todo[0]
            done_groups.add(control["group"])
            check_move(move_and_check(page, traffic, control))
            moves += 1
            continue
        hidden = [c for c in controls if c["group"] not in done_groups and not c["disabled"]]
        if not hidden:
            break
        # Some controls are hidden until another control changes (a size switch). Try the
        # other options of option-type controls already moved until one of them shows up.
        revealed = False
        for c in controls:
            if not c["visible"] or c["disabled"] or not c.get("options") or \
                    c["group"] not in done_groups:
                continue
            for k in range(len(c["options"])):
                if k == c["current"] or (c["id"], k) in tried_options:
                    continue
                now = page.evaluate("id => window.__bt.describe(id)", c["id"])
                if not now or not now["visible"]:  # an option tried before hid this control
                    break
                tried_options.add((c["id"], k))
                check_move(move_and_check(page, traffic, c, option=k), revealing=True)
                moves += 1
                states = {x["id"]: x["visible"] for x in page.evaluate("() => window.__bt.scan()")}
                if any(states.get(h["id"]) for h in hidden) or stop():
                    revealed = True
                    break
            if revealed:
                break
        if not revealed:
            report.failures.append(
                "controls that never became visible: "
                + ", ".join(f"{h['kind']} {h['label']!r}" for h in hidden))
            break
    if not report.moves and not report.failures:
        report.failures.append("no widget control found on the page")
    return report


# --------------------------------------------------------------------------------------------
# Artifacts (screenshots and logs of failures)
# --------------------------------------------------------------------------------------------


#: every widget figure on the page: its rendered width (CSS px) and the PNG's natural width
FIGURE_WIDTHS = """() => Array.from(document.querySelectorAll('.jp-NotebookPanel .widget-output img'))
    .map(img => ({rendered: img.getBoundingClientRect().width, natural: img.naturalWidth}))
    .filter(f => f.rendered > 0 && f.natural > 0)"""


def smallest_figure_text_px(page, traffic: KernelTraffic) -> tuple[float, list]:
    """The smallest text of any widget figure on screen, in CSS px, by issue 23's rule: points x
    dpi / 72 x (rendered width / natural width). Points and dpi come from every figure the kernel
    sent (``traffic.figure_text``), the widths from every widget image on the page: the smallest
    text combined with the most shrunk image, a bound for every figure. Returns it and the widths."""
    widths = page.evaluate(FIGURE_WIDTHS)
    assert widths, "no widget figure on the page"
    assert traffic.figure_text, "the kernel sent no widget figure with its text size"
    shrink = min(f["rendered"] / f["natural"] for f in widths)
    return min(pt * dpi / 72 for pt, dpi in traffic.figure_text) * shrink, widths


def check_page_and_drive(book_page, name: str, allowed_cells: set, stage: str) -> Report:
    """Once a notebook has run on ``book_page``: assert that no error is on the page (``stage``
    says when, for the message), then move every control once (:func:`drive_widgets`) and add
    the browser's and the kernel channel's problems and notes to the report."""
    page = book_page.page
    install_page_script(page)
    startup = page_problems(page, allowed_cells) + book_page.traffic.problems
    assert not startup, f"{name} shows errors {stage}:\n" + "\n".join(startup)
    report = drive_widgets(page, book_page.traffic, allowed_cells)
    report.failures += book_page.browser_problems()
    report.notes += book_page.traffic.notes
    return report


def artifacts_dir() -> Path:
    """``tmp/artifacts`` under the repository, created with a ``.gitignore`` that ignores the
    whole ``tmp`` folder (so nothing from a test run can be committed by accident)."""
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    tmp = ARTIFACTS_DIR.parent
    if tmp.name == "tmp" and tmp.parent == REPO_ROOT and not (tmp / ".gitignore").exists():
        (tmp / ".gitignore").write_text("# scratch output of the browser tests\n*\n")
    return ARTIFACTS_DIR


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:120]


def copy_notebook(src: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / src.name
    shutil.copyfile(src, dst)
    return dst


def scratch_notebook(folder: Path, name: str, cells: list[str]) -> Path:
    """Write a notebook ``<folder>/<name>.ipynb`` of unexecuted code ``cells`` (for the tests'
    own notebooks: the canary widgets, the drawing pad) and return its path."""
    nb = {"cells": [{"cell_type": "code", "source": src, "metadata": {}, "outputs": [],
                     "execution_count": None, "id": f"{name}-{i}"} for i, src in enumerate(cells)],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps(nb))
    return path
