"""The book's section links work in JupyterLab: clicking one scrolls to the heading it names.

The links use JupyterLab's own heading anchors (``scripts/check_links.py`` explains the rule and
``tests/test_notebook_links.py`` checks every link without a browser). Here the appendix
(notebook 09) is opened in JupyterLab and two kinds of link are clicked, the way a reader does:

* a link to a section of the same notebook (``#3.-Seed-001,-Zhang's-paper``): the heading must
  come into view;
* a link to a section of another notebook (``01_convolution_and_notation.ipynb#2.-...``):
  JupyterLab must open that notebook; it should also bring the heading into view, which
  JupyterLab 4.6.6 does not do (an expected failure, see that test).

No kernel code is run; the notebooks are scratch copies.
"""

from __future__ import annotations

import json

import pytest

import browserkit as bk

pytestmark = pytest.mark.browser

SOURCE = "09_errata_and_notation.ipynb"


def _first_link(nb: dict, predicate) -> tuple[str, str]:
    """(target, heading text) of the first section link in ``nb`` accepted by ``predicate``."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("_book_check_links_lab",
                                                  bk.REPO_ROOT / "scripts" / "check_links.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    for link in module.links(nb):
        path, fragment = module._split(link.target)
        if fragment and predicate(path, fragment):
            target_nb = nb if not path else json.loads(
                (bk.NOTEBOOK_DIR / path).read_text(encoding="utf-8"))
            heading = next(h for h in module.headings(target_nb) if h.lab_id == fragment)
            plain = module._inline_text(heading.text, keep_math=True)
            return link.target, plain
    raise AssertionError(f"{SOURCE} has no such section link")


IN_VIEW = """([title]) => {
    const panels = Array.from(document.querySelectorAll('.jp-NotebookPanel'))
        .filter(p => !p.classList.contains('lm-mod-hidden') && p.offsetParent !== null);
    for (const panel of panels) {
        const scroller = panel.querySelector('.jp-WindowedPanel-outer') || panel;
        const box = scroller.getBoundingClientRect();
        for (const h of panel.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
            // JupyterLab appends a pilcrow link to each heading
            if (h.textContent.replace(/\u00b6/g, '').replace(/\\s+/g, ' ').trim() !== title) continue;
            const r = h.getBoundingClientRect();
            if (r.height > 0 && r.top >= box.top - 2 && r.bottom <= box.bottom + 2) return true;
        }
    }
    return false;
}"""


def _open(book_page, lab, name, workspace):
    page = book_page.page
    book_page.servers.append(lab)
    for notebook in bk.NOTEBOOK_DIR.glob("*.ipynb"):
        bk.copy_notebook(notebook, lab.root)
    page.goto(f"{lab.url}/lab/workspaces/{workspace}/tree/{name}",
              wait_until="domcontentloaded", timeout=bk.seconds(180) * 1000)
    page.wait_for_selector(".jp-NotebookPanel .jp-MarkdownOutput h1",
                           timeout=bk.seconds(180) * 1000)
    return page


def _link_locator(page, target: str):
    fragment = target.split("#", 1)[1]
    # not the pilcrow JupyterLab adds to each heading (an anchor to the heading itself)
    anchors = page.locator(".jp-NotebookPanel .jp-MarkdownOutput a:not(.jp-InternalAnchorLink)")
    for i in range(anchors.count()):
        a = anchors.nth(i)
        href = a.get_attribute("href") or ""
        if href == target or href.endswith("#" + fragment) and (
                target.startswith("#") == href.startswith("#")):
            return a
    raise AssertionError(f"no rendered link to {target}")


def test_section_link_in_the_same_notebook_scrolls_to_its_heading(lab, book_page):
    nb = bk.read_notebook(bk.NOTEBOOK_DIR / SOURCE)
    target, title = _first_link(nb, lambda path, frag: path == "")
    page = _open(book_page, lab, SOURCE, "links-same")
    link = _link_locator(page, target)
    link.scroll_into_view_if_needed()
    # the heading may sit near the top of the notebook (09's lab), in view when it opens: what
    # must bring it into view is the click, from the link's place further down
    assert not page.evaluate(IN_VIEW, [title]), f"'{title}' is in view beside its link, before the click"
    link.click()
    page.wait_for_function(IN_VIEW, arg=[title], timeout=bk.seconds(60) * 1000)
    assert not book_page.browser_problems(), book_page.browser_problems()


def test_section_link_to_another_notebook_opens_it(lab, book_page):
    """The link opens the other notebook. JupyterLab 4.6.6 then shows it from the top: measured
    here, it does not scroll to the fragment for any kind of target when a notebook is opened
    from a link (a heading anchor, a heading anchor of letters and hyphens only, and
    ``#cell-id=<id>`` alike), so the scroll is an expected failure until JupyterLab does it."""
    nb = bk.read_notebook(bk.NOTEBOOK_DIR / SOURCE)
    target, title = _first_link(nb, lambda path, frag: path not in ("", SOURCE))
    opened = target.split("#", 1)[0]
    page = _open(book_page, lab, SOURCE, "links-other")
    link = _link_locator(page, target)
    link.scroll_into_view_if_needed()
    link.click()
    page.wait_for_function(
        """name => Array.from(document.querySelectorAll('.lm-TabBar-tab.jp-mod-current'))
                 .some(t => t.textContent.includes(name))""",
        arg=opened, timeout=bk.seconds(60) * 1000)
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownOutput h1",
                           timeout=bk.seconds(60) * 1000)
    assert not book_page.browser_problems(), book_page.browser_problems()
    try:
        page.wait_for_function(IN_VIEW, arg=[title], timeout=bk.seconds(15) * 1000)
    except Exception:
        pytest.xfail(f"JupyterLab opened {opened} at its top, not at '{title}'")
