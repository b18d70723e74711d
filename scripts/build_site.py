"""Build the book as a static website from the notebooks' stored outputs (nothing is re-executed).

Usage (from the repository root, after ``pip install -e ".[site]"``)::

    python scripts/build_site.py            # writes the site to _build/html/ (open index.html)

What it does, in order:

1. KaTeX. Every formula is rendered to HTML at build time by KaTeX running in node
   (sphinxcontrib-katex's ``katex_prerender``), and KaTeX's stylesheet and fonts are copied into
   the site, so a page needs no script and nothing from the internet to show its mathematics.
   KaTeX comes from npm at the exact version locked in ``site/package-lock.json``: the first
   build runs ``npm ci`` in ``site/`` (into ``site/node_modules/``, git-ignored); later builds
   reuse it. Needs ``node`` and ``npm`` on the PATH.
2. Staging. The notebooks are copied to ``_build/site-src/notebooks/`` next to ``site/index.md``.
   In the copies only, every widget output is replaced by what it showed when the notebook was
   last run (the figures inside its Output widgets, a progress bar's final state), followed by
   one line saying how to make it live (open the notebook in JupyterLab); the saved widget state
   is then dropped, so no page loads require.js or a widget manager from a CDN. The notebooks in
   ``notebooks/`` are never modified.
3. Sphinx (myst-nb, sphinx-book-theme) with warnings as errors (``-W``): a broken link between
   or inside notebooks, a formula KaTeX cannot render or a missing file fails the build. Heading
   links use JupyterLab's own anchors (the heading text with spaces turned into ``-``), which
   ``site/conf.py`` gives every heading in the site too, so one link works in both places
   (``python scripts/check_links.py`` checks every link without building).

The notebooks are read (and staged) before anything else; one that is not valid JSON ends the
build at once with one line naming it and exit status 2. Exit status 0 when the site was built;
otherwise the failing step's message and status 1.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the helpers of this checkout

from helpers import files  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SITE_DIR = REPO_ROOT / "site"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
BUILD_DIR = REPO_ROOT / "_build"
STAGE_DIR = BUILD_DIR / "site-src"
HTML_DIR = BUILD_DIR / "html"
KATEX_DIST = SITE_DIR / "node_modules" / "katex" / "dist"
KATEX_STATIC = BUILD_DIR / "site-katex"    # the stylesheet and fonts the pages load

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

#: Widget models that take no input: a widget tree made only of these (a tqdm progress bar)
#: gets no "make it live" line.
PASSIVE_MODELS = {
    "LayoutModel", "BoxModel", "HBoxModel", "VBoxModel", "GridBoxModel", "HTMLModel",
    "HTMLMathModel", "LabelModel", "FloatProgressModel", "IntProgressModel", "OutputModel",
    "ImageModel", "ValidModel",
}


class BuildError(RuntimeError):
    """A step of the build failed; the message says which and what to do."""


# --------------------------------------------------------------------------------------------
# 1. KaTeX from npm
# --------------------------------------------------------------------------------------------


def _katex_installed_version() -> str | None:
    try:
        with open(KATEX_DIST.parent / "package.json", encoding="utf-8") as fh:
            return json.load(fh).get("version")
    except (OSError, ValueError):
        return None


def _katex_locked_version() -> str:
    with open(SITE_DIR / "package-lock.json", encoding="utf-8") as fh:
        return json.load(fh)["packages"]["node_modules/katex"]["version"]


def ensure_katex() -> Path:
    """``site/node_modules/katex`` at the locked version (``npm ci`` when missing or stale)."""
    locked = _katex_locked_version()
    if _katex_installed_version() == locked and (KATEX_DIST / "katex.min.css").is_file():
        return KATEX_DIST
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        raise BuildError("node and npm are needed to render the formulas with KaTeX "
                         "(Debian: apt-get install nodejs npm)")
    print(f"== npm ci in {SITE_DIR.relative_to(REPO_ROOT)}/ (KaTeX {locked})", flush=True)
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"],
                            cwd=SITE_DIR)
    if result.returncode != 0 or _katex_installed_version() != locked:
        raise BuildError(f"npm ci in {SITE_DIR} failed (exit status {result.returncode}): "
                         "KaTeX could not be installed")
    return KATEX_DIST


# --------------------------------------------------------------------------------------------
# 2. Staged notebooks: widgets become their stored figures
# --------------------------------------------------------------------------------------------


def _model_ids(value) -> list[str]:
    """Model ids referenced (``IPY_MODEL_<id>``) anywhere in a widget state value."""
    if isinstance(value, str):
        return [value[len("IPY_MODEL_"):]] if value.startswith("IPY_MODEL_") else []
    if isinstance(value, list):
        return [m for v in value for m in _model_ids(v)]
    if isinstance(value, dict):
        return [m for v in value.values() for m in _model_ids(v)]
    return []


def _widget_tree(state: dict, model_id: str) -> list[dict]:
    """The model ``model_id`` and every model below it (children, outputs), depth first, in
    display order; layout and style models are left out."""
    found, seen = [], set()

    def walk(mid):
        if mid in seen or mid not in state:
            return
        seen.add(mid)
        model = state[mid]
        name = model.get("model_name", "")
        if name == "LayoutModel" or name.endswith("StyleModel"):
            return
        found.append(model)
        for key in ("children", "value"):
            for child in _model_ids(model.get("state", {}).get(key)):
                walk(child)

    walk(model_id)
    return found


def _control_summary(model: dict) -> str | None:
    """``description: value`` of an input control, for the "make it live" line."""
    if model.get("model_name", "") in PASSIVE_MODELS:
        return None
    s = model.get("state", {})
    label = str(s.get("description", "")).strip().rstrip(":")
    value = s.get("value")
    if "options" in s and isinstance(value, int) is False and "index" in s:
        labels = s.get("_options_labels") or s.get("options")
        index = s.get("index")
        if isinstance(labels, list) and isinstance(index, int) and 0 <= index < len(labels):
            value = labels[index]
    if value is None or isinstance(value, (list, dict)):
        return label or None
    return f"{label} = {value}" if label else None


def static_outputs(state: dict, model_id: str, notebook_name: str) -> list[dict]:
    """What a widget output showed when the notebook was stored, as ordinary outputs."""
    tree = _widget_tree(state, model_id)
    outputs: list[dict] = []
    progress = []
    for model in tree:
        name = model.get("model_name", "")
        s = model.get("state", {})
        if name == "OutputModel":
            outputs.extend(copy.deepcopy(o) for o in s.get("outputs", []))
        elif name in ("FloatProgressModel", "IntProgressModel"):
            progress.append(s)
    controls = [c for c in (_control_summary(m) for m in tree) if c]
    is_control = any(m.get("model_name", "") not in PASSIVE_MODELS for m in tree)
    if progress and not is_control:
        texts = [str(m.get("state", {}).get("value", "")) for m in tree
                 if m.get("model_name") in ("HTMLModel", "LabelModel")]
        bars = "".join(
            f'<progress value="{html.escape(str(p.get("value", 0)))}" '
            f'max="{html.escape(str(p.get("max", 100)))}"></progress>' for p in progress)
        body = " ".join(t for t in texts if t.strip())
        # the labels are tqdm's own HTML (already escaped), kept as they were stored
        outputs.append({"output_type": "display_data", "metadata": {},
                        "data": {"text/html": f'<div class="book-static-progress">{bars} '
                                              f'{body}</div>'}})
    if is_control:
        shown = f" (stored with {', '.join(controls)})" if controls else ""
        what = (f"the site shows the figure as stored{shown}" if any(m.get("model_name") == "OutputModel" for m in tree)
                else "the site has no picture of it (draw on it in JupyterLab)")
        line = (f"*This widget is live in JupyterLab: open `notebooks/{notebook_name}` and run "
                f"its cells to move the controls; {what}.*")
        outputs.append({"output_type": "display_data", "metadata": {},
                        "data": {"text/markdown": line}})
    return outputs


def stage_notebook(nb: dict, notebook_name: str) -> dict:
    """A copy of ``nb`` in which widget outputs are static and no widget state is saved."""
    nb = copy.deepcopy(nb)
    state = (nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state") or {})
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        new_outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                new_outputs.append(output)
            else:
                new_outputs.extend(static_outputs(state, view.get("model_id", ""),
                                                  notebook_name))
        cell["outputs"] = new_outputs
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def stage_sources() -> list[Path]:
    """Fill ``_build/site-src`` with ``site/index.md`` and the staged notebooks."""
    if STAGE_DIR.exists():
        shutil.rmtree(STAGE_DIR)
    (STAGE_DIR / "notebooks").mkdir(parents=True)
    shutil.copyfile(SITE_DIR / "index.md", STAGE_DIR / "index.md")
    staged = []
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        nb = files.read_json(path)  # ValueError naming the file if it is not valid JSON
        target = STAGE_DIR / "notebooks" / path.name
        with open(target, "w", encoding="utf-8") as fh:
            json.dump(stage_notebook(nb, path.name), fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        staged.append(target)
    if not staged:
        raise BuildError(f"no notebooks found in {NOTEBOOK_DIR}")
    return staged


# --------------------------------------------------------------------------------------------
# 3. Sphinx
# --------------------------------------------------------------------------------------------


def stage_katex(katex_dist: Path) -> Path:
    """Copy KaTeX's stylesheet and fonts (all the pages need of it) to ``_build/site-katex``."""
    if KATEX_STATIC.exists():
        shutil.rmtree(KATEX_STATIC)
    KATEX_STATIC.mkdir(parents=True)
    shutil.copyfile(katex_dist / "katex.min.css", KATEX_STATIC / "katex.min.css")
    shutil.copytree(katex_dist / "fonts", KATEX_STATIC / "fonts")
    return KATEX_STATIC


def run_sphinx(katex_dist: Path, katex_static: Path, out_dir: Path, quiet: bool) -> None:
    env = dict(os.environ, BOOK_SITE_KATEX_DIST=str(katex_dist),
               BOOK_SITE_KATEX_STATIC=str(katex_static))
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
           "-c", str(SITE_DIR), "-d", str(BUILD_DIR / "doctrees"), str(STAGE_DIR), str(out_dir)]
    if quiet:
        cmd.insert(3, "-q")
    print("== " + " ".join(cmd[1:]), flush=True)
    # Sphinx runs in a process group of its own: sphinxcontrib-katex's node renderer is stopped
    # at Sphinx's exit, but not when Sphinx crashes; whatever is left of the group is ended here.
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, start_new_session=True)
    try:
        returncode = proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    if returncode != 0:
        raise BuildError(f"sphinx-build failed (exit status {returncode}); its warnings "
                         "are errors here, see the messages above")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=HTML_DIR,
                        help="output folder (default: _build/html)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        stage_sources()  # first: a broken notebook is named before npm or Sphinx run
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BuildError as exc:  # no notebooks at all
        print(f"build_site: {exc}", file=sys.stderr)
        return 1
    try:
        try:
            import myst_nb  # noqa: F401
            import sphinx_book_theme  # noqa: F401
            import sphinxcontrib.katex  # noqa: F401
        except ImportError as exc:
            raise BuildError(f"{exc.name} is missing: pip install -e \".[site]\"") from None
        katex_dist = ensure_katex()
        katex_static = stage_katex(katex_dist)
        run_sphinx(katex_dist, katex_static, args.out.resolve(), args.quiet)
    except BuildError as exc:
        print(f"build_site: {exc}", file=sys.stderr)
        return 1
    print(f"== site written to {args.out} in {time.perf_counter() - start:.1f} s "
          f"(open {args.out / 'index.html'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
