"""Fixtures for the browser tests: headless Chromium, JupyterLab and Voila servers, one page
per test.

Only the fixtures import Playwright, so ``python -m pytest`` (which deselects the ``browser``
marker) collects these tests without a browser or Playwright installed. When the browser tests
do run, a missing piece fails them with the command that installs it, never skips them.

A failed test leaves ``tmp/artifacts/<test>.png`` (full-page screenshot) and ``<test>.log``
(console messages, JavaScript errors, kernel stderr, server log tail) in the repository.
"""

from __future__ import annotations

import os

import pytest

import browserkit as bk


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"_browser_rep_{report.when}", report)


def _failed(node) -> bool:
    return any(getattr(getattr(node, f"_browser_rep_{when}", None), "failed", False)
               for when in ("setup", "call"))


@pytest.fixture(scope="session")
def playwright_api():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: pip install -e '.[browser]' "
                    "(never `playwright install`: the tests use Debian's chromium)")
    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="session")
def browser_context(playwright_api, tmp_path_factory):
    if not os.access(bk.CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {bk.CHROMIUM}: apt-get install -y chromium "
                    "(or point BOOK_BROWSER_CHROMIUM at a Chromium binary)")
    context = playwright_api.chromium.launch_persistent_context(
        str(tmp_path_factory.mktemp("chromium-profile")),
        executable_path=bk.CHROMIUM, headless=True, args=bk.CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000}, service_workers="block",
    )
    context.set_default_timeout(bk.seconds(60) * 1000)
    yield context
    context.close()


class PageUnderTest:
    """A fresh browser tab with everything it reports collected: console messages, uncaught
    JavaScript errors and the kernel traffic of its websockets."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        self.js_errors: list[str] = []
        self.traffic = bk.KernelTraffic()
        self.traffic.attach(page)
        self.servers: list = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.js_errors.append(str(e)))

    def browser_problems(self) -> list[str]:
        """Uncaught JavaScript errors, and console errors other than resources that could not
        load (the Voila template links a CDN stylesheet that is blocked on purpose)."""
        found = [f"uncaught JavaScript error: {e}" for e in self.js_errors]
        found += [f"console {m}" for m in self.console if m.startswith("error:")
                  and "Failed to load resource" not in m]
        return found

    def log_text(self) -> str:
        parts = ["== console"] + self.console + ["== uncaught JavaScript errors"] + self.js_errors
        parts += ["== kernel problems"] + list(self.traffic.problems)
        parts += ["== kernel requests"] + [f"{s[1]} {s[2]}" for s in self.traffic.sent[-50:]]
        for server in self.servers:
            parts += [f"== {server.name} log (tail)", server.log_tail(20000)]
        return "\n".join(parts)


@pytest.fixture
def book_page(browser_context, request):
    page = browser_context.new_page()
    under_test = PageUnderTest(page)
    yield under_test
    if _failed(request.node):
        folder = bk.artifacts_dir()
        name = bk.safe_name(request.node.name)
        try:
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True, timeout=30000)
        except Exception as exc:  # the page may be gone; the log still helps
            under_test.console.append(f"(screenshot failed: {exc})")
        (folder / f"{name}.log").write_text(under_test.log_text())
    page.close()


def _lab_on_scratch(tmp_path_factory, name: str):
    root = tmp_path_factory.mktemp(f"{name}-root")
    server = bk.lab_server(root, tmp_path_factory.mktemp(f"{name}-home"))
    server.root = root
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """One JupyterLab server for the session, on a scratch folder: each test copies its
    notebook there, so nothing JupyterLab does can write to the repository's notebooks."""
    yield from _lab_on_scratch(tmp_path_factory, "lab")


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory):
    """The same kind of server, for Notebook 7's pages (``/notebooks/<name>``) alone: once a
    JupyterLab page has opened ``/lab/.../tree/<file>``, jupyterlab_server keeps that path in the
    server-wide page config, and every later Notebook 7 page of that server tries to open it in a
    file browser it does not have ("Command 'filebrowser:open-path' not registered")."""
    yield from _lab_on_scratch(tmp_path_factory, "notebook7")


@pytest.fixture(scope="session")
def voila(tmp_path_factory):
    """One Voila server for the session, rooted at the repository: notebooks are served at
    ``/voila/render/notebooks/<name>``; each page gets its own kernel, in the notebook's folder."""
    server = bk.voila_server(bk.REPO_ROOT, tmp_path_factory.mktemp("voila-home"))
    server.start()
    yield server
    server.stop()
