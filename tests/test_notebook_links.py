"""Every link between and inside the notebooks resolves, in JupyterLab and in the static site.

The rule and the tools are in ``scripts/check_links.py``: a section is linked by JupyterLab's
own heading anchor (the heading text with spaces turned into ``-``), which the site
(``site/conf.py``) gives every heading too. ``python scripts/check_links.py --fix`` repairs
links that name a heading another way. The widget staging of ``scripts/build_site.py`` is
checked here as well (it needs no Sphinx).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"


def _load(name: str):
    path = REPO_ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_book_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check_links = _load("check_links")
build_site = _load("build_site")


def _md_cell(source: str, cell_id: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {},
            "source": source.splitlines(keepends=True)}


def _notebook(*cells: dict) -> dict:
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


# ------------------------------------------------------------------------------------------
# The book's own notebooks
# ------------------------------------------------------------------------------------------


def test_every_link_in_every_notebook_resolves():
    books = check_links.load_notebooks(NOTEBOOK_DIR)
    assert len(books) >= 10
    problems = check_links.check(books)
    assert not problems, ("broken links (python scripts/check_links.py --fix repairs those "
                          "marked --fix):\n" + "\n".join(map(str, problems)))


def test_the_book_links_its_sections():
    """The check is not vacuous: the notebooks do link sections of each other and of
    themselves, and each such link lands on a heading."""
    books = check_links.load_notebooks(NOTEBOOK_DIR)
    cross, local = 0, 0
    for name, nb in books.items():
        for link in check_links.links(nb):
            path, fragment = check_links._split(link.target)
            if fragment and not check_links.EXTERNAL.match(link.target):
                target = path or name
                assert fragment in {h.lab_id for h in check_links.headings(books[target])}
                cross += bool(path)
                local += not path
    assert cross >= 50 and local >= 20, (cross, local)


# ------------------------------------------------------------------------------------------
# The rule: JupyterLab's heading anchors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("heading, lab_id, site_id", [
    ("## 2. Counting the parameters", "2.-Counting-the-parameters", None),
    ("### 4.1 C1: six valid convolutions (Zhang eqs. 4-5)",
     "4.1-C1:-six-valid-convolutions-(Zhang-eqs.-4-5)", None),
    ("# 05 Convolution kernel gradients: where `rot180` comes from",
     "05-Convolution-kernel-gradients:-where-rot180-comes-from", None),
    ("## A **bold** and *italic* [link](x.ipynb) title", "A-bold-and-italic-link-title", None),
    ("## 1. $\\Delta W$: the chain rule", "1.-$\\Delta-W$:-the-chain-rule", "1.-:-the-chain-rule"),
])
def test_heading_anchor_is_jupyterlabs(heading, lab_id, site_id):
    (h,) = check_links.headings(_notebook(_md_cell(heading, "a")))
    assert h.lab_id == lab_id
    assert h.site_id == (site_id or lab_id)
    assert h.linkable == (site_id is None)


def test_headings_and_links_inside_code_are_ignored():
    nb = _notebook(_md_cell("```\n# not a heading\n[x](#nowhere)\n```\nand `[y](#nowhere)`\n", "a"))
    assert check_links.headings(nb) == []
    assert check_links.links(nb) == []


def test_link_destinations_with_parentheses_and_titles():
    nb = _notebook(_md_cell('See [a](b.ipynb#x-(y)-z) and [c](#d "title") and '
                            '<a href="#e">e</a> and [f](<g.ipynb#h-(i>).\n', "a"))
    assert [link.target for link in check_links.links(nb)] == [
        "b.ipynb#x-(y)-z", "#d", "#e", "<g.ipynb#h-(i>"]


def _problems(tmp_path: Path, books: dict[str, dict]):
    for name, nb in books.items():
        (tmp_path / name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    return check_links.check(check_links.load_notebooks(tmp_path))


def test_broken_links_are_reported(tmp_path):
    a = _notebook(_md_cell("# A\n## 1. First part\n", "a1"),
                  _md_cell("[ok](#1.-First-part) [ok](b.ipynb#2.-Second) [bad](#1.-First)"
                           " [bad](b.ipynb#Nope) [bad](c.ipynb) [bad](b.ipynb#3.-$x$-math)"
                           " [ok](https://example.org/#x)\n", "a2"))
    b = _notebook(_md_cell("# B\n## 2. Second\n## 3. $x$ math\n", "b1"))
    problems = _problems(tmp_path, {"a.ipynb": a, "b.ipynb": b})
    assert [p.target for p in problems] == ["#1.-First", "b.ipynb#Nope", "c.ipynb",
                                            "b.ipynb#3.-$x$-math"]
    assert "mathematics" in problems[3].message
    assert problems[0].fix == "#1.-First-part"          # a cut-off anchor, unique prefix
    assert problems[1].fix is None


def test_fix_rewrites_other_anchor_styles_and_is_idempotent(tmp_path):
    a = _notebook(_md_cell("# A\n## 1. First part (eqs. 1-2)\n## 2. Other\n", "a1"),
                  _md_cell("Read [this](#first-part-eqs-1-2), [that](b.ipynb#seed-001-zhang-s-paper),\n"
                           "[case](b.ipynb#3.-seed-001,-zhang's-paper) and [fine](#2.-Other).\n"
                           "[ambiguous](b.ipynb#Seed) stays.\n", "a2"))
    b = _notebook(_md_cell("# B\n## 3. Seed 001, Zhang's paper\n## 4. Seed 002\n", "b1"))
    _problems(tmp_path, {"a.ipynb": a, "b.ipynb": b})
    changes = check_links.fix(tmp_path)
    assert len(changes) == 3
    text = json.loads((tmp_path / "a.ipynb").read_text())["cells"][1]["source"]
    assert "".join(text) == (
        "Read [this](#1.-First-part-(eqs.-1-2)), [that](b.ipynb#3.-Seed-001,-Zhang's-paper),\n"
        "[case](b.ipynb#3.-Seed-001,-Zhang's-paper) and [fine](#2.-Other).\n"
        "[ambiguous](b.ipynb#Seed) stays.\n")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert check_links.fix(tmp_path) == []
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    remaining = check_links.check(check_links.load_notebooks(tmp_path))
    assert [p.target for p in remaining] == ["b.ipynb#Seed"]


def test_fix_leaves_the_books_notebooks_unchanged(tmp_path):
    """Run on a copy of the book: every link is already in the common form."""
    for path in NOTEBOOK_DIR.glob("*.ipynb"):
        shutil.copyfile(path, tmp_path / path.name)
    assert check_links.fix(tmp_path) == []
    for path in NOTEBOOK_DIR.glob("*.ipynb"):
        assert (tmp_path / path.name).read_bytes() == path.read_bytes()


# ------------------------------------------------------------------------------------------
# The site's widget staging (scripts/build_site.py)
# ------------------------------------------------------------------------------------------


def _widget_notebook() -> dict:
    png = {"output_type": "display_data", "metadata": {},
           "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}}
    state = {
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_s", "IPY_MODEL_o"],
                                                     "layout": "IPY_MODEL_l"}},
        "s": {"model_name": "IntSliderModel", "state": {"description": "digit", "value": 7}},
        "o": {"model_name": "OutputModel", "state": {"outputs": [png]}},
        "l": {"model_name": "LayoutModel", "state": {}},
        "bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_h", "IPY_MODEL_p"]}},
        "h": {"model_name": "HTMLModel", "state": {"value": "training: 100%"}},
        "p": {"model_name": "FloatProgressModel", "state": {"value": 5.0, "max": 5.0}},
    }
    view = "application/vnd.jupyter.widget-view+json"
    cells = [
        {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": 1, "source": "w",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {view: {"model_id": "box"}, "text/plain": "VBox()"}}]},
        {"cell_type": "code", "id": "c2", "metadata": {}, "execution_count": 2, "source": "t",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "done\n"},
                     {"output_type": "display_data", "metadata": {},
                      "data": {view: {"model_id": "bar"}, "text/plain": "HBox()"}}]},
    ]
    meta = {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": state}}}
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def test_staging_replaces_widgets_by_their_stored_figures():
    nb = _widget_notebook()
    original = copy.deepcopy(nb)
    staged = build_site.stage_notebook(nb, "06_training.ipynb")
    assert nb == original                                   # the input is not modified
    assert "widgets" not in staged["metadata"]              # nothing for a widget manager
    text = json.dumps(staged)
    assert "widget-view" not in text

    figure, note = staged["cells"][0]["outputs"]
    assert figure["data"]["image/png"] == "iVBORw0KGgo="
    line = note["data"]["text/markdown"]
    assert "JupyterLab" in line and "notebooks/06_training.ipynb" in line and "digit = 7" in line
    assert "\n" not in line

    stream, bar = staged["cells"][1]["outputs"]            # a progress bar: no "live" line
    assert stream["text"] == "done\n"
    assert '<progress value="5.0" max="5.0"></progress>' in bar["data"]["text/html"]
    assert "training: 100%" in bar["data"]["text/html"]


def test_the_books_widget_cells_all_get_a_figure_and_a_live_line():
    for path in sorted(NOTEBOOK_DIR.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        staged = build_site.stage_notebook(nb, path.name)
        assert "widgets" not in staged["metadata"]
        for before, after in zip(nb["cells"], staged["cells"]):
            views = [o for o in before.get("outputs", [])
                     if build_site.WIDGET_VIEW in o.get("data", {})]
            if not views:
                assert before == after
                continue
            outs = after["outputs"]
            assert all(build_site.WIDGET_VIEW not in o.get("data", {}) for o in outs)
            lines = [o for o in outs if "text/markdown" in o.get("data", {})]
            if lines:                                       # a widget with controls
                assert len(lines) == 1
                state = nb["metadata"]["widgets"][build_site.WIDGET_STATE]["state"]
                draws = any(m.get("model_name") == "OutputModel"
                            for v in views for m in build_site._widget_tree(state, v["data"][build_site.WIDGET_VIEW]["model_id"]))
                if draws:                                   # it shows a figure: the site shows it too
                    assert any("image/png" in o.get("data", {}) for o in outs), path.name
                else:                                       # the drawing pad: nothing stored to show
                    assert "no picture" in lines[0]["data"]["text/markdown"], path.name


# ------------------------------------------------------------------------------------------
# issue 21, faults 9 and 15: a wrong folder, code blocks, an invalid notebook
# ------------------------------------------------------------------------------------------


def _main(capsys, *argv):
    code = check_links.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _one_error_line(code, out, err):
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "0 notebooks" not in out


@pytest.mark.parametrize("fix", [False, True])
def test_a_missing_folder_or_a_file_is_an_error_not_zero_notebooks(tmp_path, capsys, fix):
    (tmp_path / "a.ipynb").write_text(json.dumps(_notebook(_md_cell("# A\n", "a"))))
    extra = ["--fix"] if fix else []
    code, out, err = _main(capsys, "--notebooks", tmp_path / "typo", *extra)
    _one_error_line(code, out, err)
    assert "typo" in err and "no such folder" in err
    code, out, err = _main(capsys, "--notebooks", tmp_path / "a.ipynb", *extra)
    _one_error_line(code, out, err)
    assert "a.ipynb" in err and "not a folder" in err
    (tmp_path / "empty").mkdir()
    code, out, err = _main(capsys, "--notebooks", tmp_path / "empty", *extra)
    _one_error_line(code, out, err)
    assert "no notebooks" in err


def test_fix_leaves_links_in_indented_and_fenced_code_alone(tmp_path):
    source = ("# A\n## 1. First part\n\nA paragraph with [a link](#first-part).\n\n"
              "    [in indented code](#first-part)\n\n"
              "```\n[in fenced code](#first-part)\n```\n\n"
              "- a list item\n\n    [in the item's second paragraph](#first-part)\n")
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(_notebook(_md_cell(source, "a")), indent=1) + "\n")
    assert [link.target for link in check_links.links(json.loads(path.read_text()))] == [
        "#first-part", "#first-part"]  # the paragraph's and the list item's, not the code's
    changes = check_links.fix(tmp_path)
    assert len(changes) == 2
    text = "".join(json.loads(path.read_text())["cells"][0]["source"])
    assert text == source.replace("[a link](#first-part)", "[a link](#1.-First-part)").replace(
        "paragraph](#first-part)", "paragraph](#1.-First-part)")


def test_an_invalid_notebook_is_named_in_one_error_line(tmp_path, capsys):
    (tmp_path / "a.ipynb").write_text(json.dumps(_notebook(_md_cell("# A\n", "a"))))
    (tmp_path / "b.ipynb").write_text('{"cells": [')
    for extra in ([], ["--fix"]):
        code, out, err = _main(capsys, "--notebooks", tmp_path, *extra)
        _one_error_line(code, out, err)
        assert "b.ipynb" in err and "not valid JSON" in err


def test_the_site_build_names_an_invalid_notebook(tmp_path, monkeypatch, capsys):
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "a.ipynb").write_text(json.dumps(_notebook(_md_cell("# A\n", "a"))))
    (tmp_path / "nb" / "b.ipynb").write_bytes(b'{"cells": [}')
    monkeypatch.setattr(build_site, "NOTEBOOK_DIR", tmp_path / "nb")
    monkeypatch.setattr(build_site, "STAGE_DIR", tmp_path / "stage")
    code = build_site.main(["--out", str(tmp_path / "html")])
    out, err = capsys.readouterr()
    assert code == 2 and "b.ipynb" in err and "not valid JSON" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "html").exists()
