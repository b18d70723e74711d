"""The book's static site, opened in headless Chromium with the network off.

The site is built from the stored outputs (``python scripts/build_site.py``, needs the ``site``
extra, node and npm) into a scratch folder, or taken from ``BOOK_SITE_HTML`` when that names a
built site (``.ci/run`` builds it once and points the test at it). A small HTTP server on
127.0.0.1 serves it; every request to any other address is aborted and recorded, and the test
fails if one was attempted.

For every page of the site: it loads with status 200 and every resource it asks for (scripts,
stylesheets, fonts, images) loads too; no JavaScript error or console error; the mathematics
is typeset (KaTeX's HTML, its fonts loaded, no KaTeX error and no raw TeX such as ``\\(``,
``$$`` or ``\\frac`` left in the visible text); every image is decoded (non-zero size) and
every table has rows; and every link that stays in the site leads to an existing page and, if it
has a fragment, to an element with that id on that page.

``BOOK_SITE_SCREENSHOT=docs/figures/site_page.png`` also saves a screenshot of one page (the
README shows it).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest

import browserkit as bk

pytestmark = pytest.mark.browser

SCREENSHOT_PAGE = "notebooks/05_conv_kernel_gradients.html"

#: Text that only appears when a formula was not typeset.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\(?:frac|sum|partial|mathbf|delta|Delta|begin)\b"
                     r"|\$[^$\s][^$]*\\[a-zA-Z]+[^$]*\$")


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory) -> Path:
    given = os.environ.get("BOOK_SITE_HTML")
    if given:
        folder = Path(given)
        if not (folder / "index.html").is_file():
            pytest.fail(f"BOOK_SITE_HTML={given} holds no built site (no index.html)")
        return folder
    out = tmp_path_factory.mktemp("site") / "html"
    result = subprocess.run([sys.executable, str(bk.REPO_ROOT / "scripts" / "build_site.py"),
                             "-q", "--out", str(out)], cwd=bk.REPO_ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail("python scripts/build_site.py failed (pip install -e '.[site]'; node and npm "
                    f"are needed):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return out


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_url(site_dir):
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.lru_cache(maxsize=None)
def _ids_of(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.ids)


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if "_static" not in p.parts and "_sources" not in p.parts)


def test_site_has_every_notebook(site_dir):
    pages = _pages(site_dir)
    notebooks = sorted(p.stem for p in (bk.REPO_ROOT / "notebooks").glob("*.ipynb"))
    assert [p for p in pages if p.startswith("notebooks/")] == [
        f"notebooks/{n}.html" for n in notebooks]
    assert "index.html" in pages


PAGE_FACTS = """() => {
    // the text a reader sees: visible text nodes outside typeset math and code
    const root = document.querySelector('main') || document.body;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const parts = [];
    while (walker.nextNode()) {
        const parent = walker.currentNode.parentElement;
        if (!parent || parent.closest('.katex, pre, code, script, style')) continue;
        if (!parent.checkVisibility()) continue;
        parts.push(walker.currentNode.textContent);
    }
    const imgs = Array.from(document.querySelectorAll('main img'));
    return {
        text: parts.join(''),
        katex: document.querySelectorAll('.katex').length,
        katexErrors: document.querySelectorAll('.katex-error').length,
        katexFont: document.fonts.check('16px KaTeX_Main'),
        images: imgs.length,
        brokenImages: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
        tables: Array.from(document.querySelectorAll('main table')).map(t => t.rows.length),
        links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    };
}"""


def test_every_page_offline(site_dir, site_url, book_page):
    page = book_page.page
    outside: list[str] = []
    failed: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(site_url) or url.startswith("data:"):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: failed.append(f"{r.url} (HTTP {r.status})")
            if r.status >= 400 else None)

    problems: list[str] = []
    checked_links = 0
    math_pages = 0
    for rel in _pages(site_dir):
        response = page.goto(site_url + rel, wait_until="load")
        if response is None or response.status != 200:
            problems.append(f"{rel}: status {response and response.status}")
            continue
        page.evaluate("document.fonts.ready.then(() => true)")
        facts = page.evaluate(PAGE_FACTS)
        where = rel
        raw = RAW_TEX.search(facts["text"])
        if raw:
            start = max(raw.start() - 40, 0)
            problems.append(f"{where}: raw TeX left: ...{facts['text'][start:raw.end() + 40]!r}")
        if facts["katexErrors"]:
            problems.append(f"{where}: {facts['katexErrors']} KaTeX errors")
        if facts["katex"]:
            math_pages += 1
            if not facts["katexFont"]:
                problems.append(f"{where}: KaTeX fonts did not load")
        problems += [f"{where}: image not shown: {src}" for src in facts["brokenImages"]]
        problems += [f"{where}: a table without rows" for rows in facts["tables"] if rows < 2]
        if rel.startswith("notebooks/"):
            if facts["katex"] == 0:
                problems.append(f"{where}: no typeset formula at all")
            if facts["images"] == 0:
                problems.append(f"{where}: no figure")
        for href in facts["links"]:
            if not href.startswith(site_url):
                continue
            parsed = urllib.parse.urlsplit(href)
            target_rel = urllib.parse.unquote(parsed.path[len(urllib.parse.urlsplit(site_url).path):])
            target = site_dir / (target_rel or "index.html")
            if target.is_dir():
                target = target / "index.html"
            checked_links += 1
            if not target.is_file():
                problems.append(f"{where}: link to a missing page: {href}")
                continue
            fragment = urllib.parse.unquote(parsed.fragment)
            if fragment and target.suffix == ".html" and fragment not in _ids_of(target):
                problems.append(f"{where}: link to a missing anchor: {href}")

    if os.environ.get("BOOK_SITE_SCREENSHOT"):
        page.goto(site_url + SCREENSHOT_PAGE + "#3.-The-gradient-of-a-C2-bias-(Zhang,-eqs.-41-45)",
                  wait_until="load")
        page.evaluate("document.fonts.ready.then(() => true)")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=os.environ["BOOK_SITE_SCREENSHOT"])

    problems += [f"request outside the site (blocked): {u}" for u in sorted(set(outside))]
    problems += [f"resource failed: {u}" for u in sorted(set(failed))]
    problems += book_page.browser_problems()
    assert not problems, "\n".join(problems)
    assert math_pages >= 9 and checked_links > 500, (math_pages, checked_links)
