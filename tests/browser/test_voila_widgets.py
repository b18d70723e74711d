"""The same widget checks through Voila (opt-in: ``BOOK_BROWSER_VOILA=1``).

Voila runs the whole notebook on the server (with nbclient), then the page must show every
widget view the kernel displayed, and ``browserkit.drive_widgets`` moves every control and
checks each figure, as the JupyterLab tests do.

Why opt-in: on this stack (voila 0.5, nbclient 0.11, ipykernel 7) Voila sometimes stops for
good at a cell that builds an interactive figure ("Executing 32 of 46" forever; reproduced
without a browser, with curl, about one page load in six). The kernel is idle and so is the
server: nbclient's stand-in for the Output widget sends a ``comm_msg`` on the shell channel
while the same client waits on that channel for the cell's reply, and the reply is lost
(nbclient issue #312). JupyterLab does not run cells through nbclient, so the default suite
uses it; run this file to check the notebooks as a Voila dashboard.
"""

from __future__ import annotations

import os
import time

import pytest

import browserkit as bk

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(os.environ.get("BOOK_BROWSER_VOILA") != "1",
                       reason="Voila can hang on widget cells (nbclient #312); "
                              "set BOOK_BROWSER_VOILA=1 to run"),
]

NOTEBOOKS = bk.widget_notebooks()


def open_in_voila(book_page, voila, path) -> int:
    """Open ``path`` (under the repository) in Voila and wait until the kernel has run every
    cell and every widget view is rendered. Returns the number of widget views."""
    page = book_page.page
    book_page.servers.append(voila)
    relative = path.resolve().relative_to(bk.REPO_ROOT).as_posix()
    response = page.goto(f"{voila.url}/voila/render/{relative}", wait_until="domcontentloaded",
                         timeout=bk.seconds(300) * 1000)
    assert response is not None and response.ok, f"Voila answered {response and response.status}"
    # Voila streams the page while it runs the cells; the complete page holds each cell's
    # outputs as JSON, so the widget views the kernel displayed can be counted in it.
    expected = response.text().count(bk.WIDGET_VIEW_MIME)
    page.wait_for_function(
        "() => !document.getElementById('loading') && document.getElementById('rendered_cells')"
        " && document.getElementById('rendered_cells').style.display !== 'none'",
        timeout=bk.seconds(120) * 1000)
    bk.install_page_script(page)
    assert expected > 0, f"{path.name} builds widgets in its code, but Voila displayed none"
    page.wait_for_function("n => window.__bt.widgetViews() >= n", arg=expected,
                           timeout=bk.seconds(120) * 1000)
    return expected


def shut_down_kernel(page) -> None:
    """Stop the page's kernel through Voila's shutdown endpoint, as Voila's page does on
    unload (a headless tab that is closed never fires ``beforeunload``, so the kernel would
    otherwise live until the server stops). Voila sets no ``_xsrf`` cookie, so the request
    brings a cookie and the matching form field of its own, which is what the XSRF check
    compares."""
    try:
        page.evaluate(r"""async () => {
            const config = document.getElementById('jupyter-config-data');
            if (!config) return;
            const id = JSON.parse(config.textContent).kernelId;
            document.cookie = '_xsrf=book-browser-tests; path=/; SameSite=Strict';
            const form = new FormData();
            form.append('_xsrf', 'book-browser-tests');
            await fetch(document.body.dataset.baseUrl + 'api/shutdown/' + id,
                        {method: 'POST', body: form});
        }""")
    except Exception:  # best effort: the server stops all kernels at the end of the session
        pass


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_widget_redraws_its_figure_in_voila(notebook, voila, book_page):
    start = time.monotonic()
    nb = bk.read_notebook(notebook)
    allowed = bk.cells_with_stored_stderr(nb)
    page = book_page.page
    try:
        views = open_in_voila(book_page, voila, notebook)
        loaded = time.monotonic() - start
        report = bk.check_page_and_drive(book_page, notebook.name, allowed, "before any control moved")
        print(f"{notebook.name}: {views} widget view(s), page ready in {loaded:.1f} s, "
              f"total {time.monotonic() - start:.1f} s\n{report.text()}")
        assert report.ok, f"{notebook.name}:\n{report.text()}"
    finally:
        shut_down_kernel(page)
