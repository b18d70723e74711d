"""Sphinx configuration of the book's static site: ``python scripts/build_site.py`` uses it.

The build runs on the notebooks' stored outputs (myst-nb, nothing is executed) and produces a
site that needs no internet connection: formulas are rendered to HTML by KaTeX at build time,
KaTeX's stylesheet and fonts are copied into the site, and no widget manager is loaded (the
build script replaces widgets by the figures they stored).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(SITE_DIR.parent / "scripts"))   # check_links.jupyter_heading_id

project = "Backpropagation in convolutional networks, executed"
author = "the authors of the book"
copyright = "the authors of the book"

extensions = ["myst_nb", "sphinxcontrib.katex"]

root_doc = "index"
exclude_patterns = ["**.ipynb_checkpoints"]

# -- notebooks: stored outputs only ------------------------------------------------------------
nb_execution_mode = "off"
nb_ipywidgets_js = {}                 # never load require.js or a widget manager from a CDN
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]


myst_heading_anchors = 6
# Headings get JupyterLab's own anchors (the text with spaces turned into "-"), so a link such as
# 02_forward_pass.ipynb#2.-Counting-the-parameters works in JupyterLab and here alike;
# scripts/check_links.py checks every link against the same rule.
myst_heading_slug_func = "check_links.jupyter_heading_id"

# -- mathematics: KaTeX, prerendered with node, shipped with the site ---------------------------
_katex_dist = Path(os.environ.get("BOOK_SITE_KATEX_DIST",
                                  SITE_DIR / "node_modules" / "katex" / "dist"))
katex_prerender = True
katex_js_path = str(_katex_dist / "katex.min.js")   # the node renderer loads this file
katex_css_path = "katex.min.css"                     # served from _static (next to fonts/)
# build_site.py copies just the stylesheet and its fonts there (not KaTeX's whole dist/)
_katex_static = Path(os.environ.get("BOOK_SITE_KATEX_STATIC", _katex_dist))

# -- HTML ---------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = "Backpropagation in CNNs, executed"
html_static_path = [str(SITE_DIR / "_static"), str(_katex_static)]
html_css_files = ["book.css"]
html_copy_source = False
html_show_sourcelink = False
html_last_updated_fmt = None
html_context = {"default_mode": "light"}   # a fresh browser otherwise logs a theme-mode error
html_theme_options = {
    "show_navbar_depth": 1,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": False,
}


# -- sphinxcontrib-katex's node renderer on a busy machine --------------------------------------
# Its start-up connects as soon as the socket file exists, which can be before node listens on
# it (ConnectionRefusedError, seen here with a load average of 10), and it allows 5 s for start-up
# and for each formula. Connect again until the server answers, and allow more time.
def _patch_katex_server() -> None:
    import socket
    import subprocess
    import time

    from sphinxcontrib import katex

    katex.STARTUP_TIMEOUT = max(katex.STARTUP_TIMEOUT, 60.0)
    katex.RENDER_TIMEOUT = max(katex.RENDER_TIMEOUT, 60.0)

    def start_server_process(cls, rundir, timeout):
        socket_path = rundir / "katex.sock"
        process = subprocess.Popen(cls.build_command(socket=socket_path),
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=rundir)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"KaTeX's node renderer exited with status {process.returncode}")
            if socket_path.is_socket():
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(str(socket_path))
                    return process, sock
                except (ConnectionRefusedError, FileNotFoundError):
                    sock.close()
            if time.monotonic() > deadline:
                process.kill()
                raise cls.timeout_error(timeout)
            time.sleep(0.01)

    katex.KaTeXServer.start_server_process = classmethod(start_server_process)


_patch_katex_server()
