"""Check (and with ``--fix`` repair) every link between and inside the book's notebooks.

Usage (from the repository root)::

    python scripts/check_links.py            # report broken links, exit status 1 if any
    python scripts/check_links.py --fix      # rewrite repairable links in place, then report

Which anchors work in both places. A link to a section is written with JupyterLab's own anchor
of the heading: the heading's text with every space turned into ``-``
(``[section 2](02_forward_pass.ipynb#2.-Counting-the-parameters)``, ``[§3](#3.-Seed-001,-Zhang's-paper)``).
JupyterLab gives every rendered heading that id, and a click on ``#<anchor>`` scrolls the
notebook to it; ``site/conf.py`` makes the static site give every heading the same anchor
(``myst_heading_slug_func``), so the same fragment resolves in both. A link to another notebook
opens it in JupyterLab, but JupyterLab 4.6.6 shows it from the top whatever the fragment names
(measured with a heading anchor and with ``#cell-id=<id>``: tests/browser/test_jupyterlab_links.py);
the site lands on the section. Other kinds of target would do no better in JupyterLab and worse
elsewhere: an HTML anchor ``<a id="x">`` is not a heading, which is all JupyterLab's fragment lookup
(``Notebook.setFragment``) searches, and a MyST label ``(x)=`` shows up as text in JupyterLab.

A link is accepted when
* it leaves the book (``http:``, ``https:``, ``mailto:``), or
* its path (relative to ``notebooks/``) names a notebook of the book, or is empty (same
  notebook), and its fragment, if any, is the anchor of a heading in that notebook whose anchor
  is the same in JupyterLab and in the site. It is not for a heading containing ``$...$``
  mathematics: JupyterLab's anchor keeps the TeX (``1.-$\\Delta-W$:-...``), the site's drops it.
  Link such a section through its notebook or a neighbouring heading.

``--fix`` rewrites a fragment that names a heading another way, when exactly one heading of the
target notebook matches: the site's or GitHub's lower-case slug of the heading
(``#counting-the-parameters``), a different letter case, or a cut-off anchor (a prefix of
exactly one heading's anchor, as links copied from a truncated address are). Nothing else is
changed, a file is written only if a link in it changed (atomically, keeping its JSON layout,
its mode, and a symbolic link as a link: ``helpers.files.replace_file``), and running it twice
changes nothing the second time. Links in code -- fenced, indented by four spaces, or a code
span -- are neither checked nor changed. A ``--notebooks`` folder that does not exist, is a
file or holds no notebook, and a notebook that is not valid JSON, end in one ``error:`` line
naming it (exit status 2). Lead engineers: run it after merging
branches that edit notebook Markdown, then ``python -m pytest tests/test_notebook_links.py``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import unicodedata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # the helpers of this checkout, even if not installed

from helpers import files  # noqa: E402

EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")   # http:, https:, mailto:, ...


def jupyter_heading_id(title: str) -> str:
    """JupyterLab's anchor of a heading with text ``title`` (``createHeaderId`` in
    @jupyterlab/rendermime: the text content with every space replaced by ``-``). The site uses
    this function as its heading-slug function too (``site/conf.py``)."""
    return title.replace(" ", "-")


# --------------------------------------------------------------------------------------------
# Markdown: headings and links
# --------------------------------------------------------------------------------------------

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HTML_TAG = re.compile(r"<[^>]+>")
HTML_ENTITY = re.compile(r"&(amp|lt|gt|quot|#39|nbsp);")
ENTITIES = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "#39": "'", "nbsp": "\u00a0"}


def _cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _inline_text(md: str, keep_math: bool) -> str:
    """Plain text of inline Markdown as a browser shows it: code spans keep their content,
    emphasis marks, link syntax and HTML tags disappear; ``$...$`` math is kept (JupyterLab,
    before typesetting) or dropped (the site's heading title)."""
    spans: list[str] = []

    def stash(text: str) -> str:
        spans.append(text)
        return f"\x00{len(spans) - 1}\x00"

    text = CODE_SPAN.sub(lambda m: stash(m.group(2).strip() if m.group(2).strip() else m.group(2)), md)
    text = MATH.sub(lambda m: stash(m.group(0)) if keep_math else "", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)            # links and images
    text = HTML_TAG.sub("", text)
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)                  # backslash escapes
    text = re.sub(r"(\*{1,3}|_{1,3})(?=\S)(.+?)(?<=\S)\1", r"\2", text)  # emphasis
    text = HTML_ENTITY.sub(lambda m: ENTITIES[m.group(1)], text)
    return re.sub(r"\x00(\d+)\x00", lambda m: spans[int(m.group(1))], text)


@dataclasses.dataclass(frozen=True)
class Heading:
    cell: int
    text: str          # the Markdown source of the heading's title
    lab_id: str        # JupyterLab's anchor
    site_id: str       # the site's anchor (the same unless the title has math)

    @property
    def linkable(self) -> bool:
        return self.lab_id == self.site_id


LIST_ITEM = re.compile(r"^ {0,3}([-+*]|\d{1,9}[.)])([ \t]|$)")
INDENTED = re.compile(r"^( {4}|[ ]{0,3}\t)")


def markdown_lines(source: str):
    """(line, in_code) for each line of a Markdown cell; fenced code and indented code blocks
    (CommonMark: four spaces or a tab, after a blank line, outside a list item) are in_code."""
    fence, blank_before, in_list, in_indented = None, True, False, False
    for line in source.split("\n"):
        m = FENCE.match(line)
        if fence is None and m:  # at most three spaces: never a line of indented code
            fence, in_indented = m.group(1)[0] * len(m.group(1)), False
            yield line, True
        elif fence is not None:
            if line.strip().startswith(fence):
                fence = None
            yield line, True
        elif not line.strip():
            yield line, in_indented
        elif INDENTED.match(line) and (in_indented or (blank_before and not in_list)):
            in_indented = True
            yield line, True
        else:
            in_indented = False
            if LIST_ITEM.match(line):
                in_list = True
            elif not line.startswith((" ", "\t")) and blank_before:
                in_list = False  # a paragraph after a blank line, not indented: the list has ended
            yield line, False
        blank_before = not line.strip()


def headings(nb: dict) -> list[Heading]:
    found = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "markdown":
            continue
        for line, in_code in markdown_lines(_cell_source(cell)):
            m = None if in_code else ATX.match(line)
            if m and m.group(2):
                title = m.group(2).strip()
                found.append(Heading(i, title,
                                     jupyter_heading_id(_inline_text(title, keep_math=True)),
                                     jupyter_heading_id(_inline_text(title, keep_math=False))))
    return found


@dataclasses.dataclass(frozen=True)
class Link:
    cell: int
    start: int         # offset of the destination in the cell's source
    end: int
    target: str


def _destination_end(text: str, start: int) -> int:
    """End of an inline link destination starting at ``start`` (balanced parentheses, stops at
    whitespace or the closing parenthesis), or of a ``<...>`` destination."""
    if text.startswith("<", start):
        close = text.find(">", start)
        return close + 1 if close != -1 else start
    depth, i = 0, start
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            i += 2
            continue
        if ch.isspace():
            break
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        i += 1
    return i


HTML_HREF = re.compile(r"""<a\s[^>]*?href\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:[ \t]*(\S+)", re.MULTILINE)


def links(nb: dict) -> list[Link]:
    """Every link destination in the notebook's Markdown cells, outside code."""
    found = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "markdown":
            continue
        source = _cell_source(cell)
        # blank out fenced code and code spans (same length, so offsets stay valid)
        masked_lines = []
        for line, in_code in markdown_lines(source):
            masked_lines.append(" " * len(line) if in_code else line)
        masked = "\n".join(masked_lines)
        masked = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), masked)
        for m in re.finditer(r"\]\(", masked):
            start = m.end()
            while start < len(masked) and masked[start] in " \t":
                start += 1
            end = _destination_end(masked, start)
            if end > start:
                found.append(Link(i, start, end, source[start:end]))
        for m in HTML_HREF.finditer(masked):
            found.append(Link(i, m.start(2), m.end(2), source[m.start(2):m.end(2)]))
        for m in REF_DEF.finditer(masked):
            found.append(Link(i, m.start(1), m.end(1), source[m.start(1):m.end(1)]))
    return sorted(found, key=lambda link: (link.cell, link.start))


# --------------------------------------------------------------------------------------------
# Checking and repairing
# --------------------------------------------------------------------------------------------


def _split(target: str) -> tuple[str, str | None]:
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1]
    path, sep, fragment = target.partition("#")
    return path, (fragment if sep else None)


def _lower_slug(text: str) -> str:
    """A lower-case slug of heading text (GitHub's and docutils' kind, roughly)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _lower_slugs(text: str) -> set[str]:
    """GitHub's kind of slug and docutils' (Sphinx section ids start with a letter)."""
    slug = _lower_slug(text)
    return {slug, re.sub(r"^[^a-z]+", "", slug)}


def _repair(fragment: str, heads: list[Heading]) -> Heading | None:
    """The one linkable heading that ``fragment`` names in another way, if exactly one."""
    candidates = [h for h in heads if h.linkable]
    for rule in (lambda h: h.lab_id.lower() == fragment.lower(),
                 lambda h: _lower_slug(fragment) in _lower_slugs(h.site_id) - {""},
                 lambda h: len(fragment) >= 8 and h.lab_id.startswith(fragment)):
        hits = {h.lab_id: h for h in candidates if rule(h)}
        if len(hits) == 1:
            return next(iter(hits.values()))
        if hits:
            return None
    return None


def _format_target(path: str, anchor: str) -> str:
    dest = f"{path}#{anchor}"
    depth = 0
    for ch in dest:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            break
    return dest if depth == 0 else f"<{dest}>"


@dataclasses.dataclass
class Problem:
    notebook: str
    cell: int
    target: str
    message: str
    fix: str | None = None

    def __str__(self) -> str:
        text = f"{self.notebook} cell {self.cell}: link '{self.target}': {self.message}"
        return text + (f" (--fix writes '{self.fix}')" if self.fix else "")


def load_notebooks(folder: Path = NOTEBOOK_DIR) -> dict[str, dict]:
    """Every ``*.ipynb`` of ``folder`` by file name. Raises ``NotADirectoryError`` or
    ``FileNotFoundError`` for a folder that is a file or does not exist, ``ValueError`` naming
    the file for a notebook that is not valid JSON."""
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"--notebooks {folder}: no such folder")
    if not folder.is_dir():
        raise NotADirectoryError(f"--notebooks {folder}: not a folder (give the folder that holds the notebooks)")
    return {path.name: files.read_json(path) for path in sorted(folder.glob("*.ipynb"))}


def check(books: dict[str, dict]) -> list[Problem]:
    """Every link of every notebook that does not resolve in JupyterLab and in the site."""
    heads = {name: headings(nb) for name, nb in books.items()}
    problems = []
    for name, nb in books.items():
        for link in links(nb):
            if EXTERNAL.match(link.target):
                continue
            path, fragment = _split(link.target)
            target_nb = path or name
            if target_nb not in books:
                problems.append(Problem(name, link.cell, link.target,
                                        "not a notebook of the book (the site carries only "
                                        "notebooks/*.ipynb; link other files by their https address)"))
                continue
            if fragment is None:
                continue
            if fragment == "":
                problems.append(Problem(name, link.cell, link.target, "empty fragment"))
                continue
            exact = [h for h in heads[target_nb] if h.lab_id == fragment]
            if exact and exact[0].linkable:
                continue
            if exact:
                msg = (f"the heading '{exact[0].text}' contains $...$ mathematics, so its "
                       "anchor differs between JupyterLab and the site")
            else:
                msg = f"no heading of {target_nb} has this anchor"
            fixed = _repair(fragment, heads[target_nb])
            fix = _format_target(path, fixed.lab_id) if fixed else None
            problems.append(Problem(name, link.cell, link.target, msg, fix))
    return problems


def _set_source(cell: dict, text: str) -> None:
    """Store ``text`` as the cell source in the form the file already uses (list of lines or
    one string)."""
    if isinstance(cell.get("source"), list):
        cell["source"] = text.splitlines(keepends=True)
    else:
        cell["source"] = text


def fix(folder: Path = NOTEBOOK_DIR) -> list[str]:
    """Rewrite the repairable links in place; returns one line per rewritten link."""
    books = load_notebooks(folder)
    changes = []
    fixes: dict[str, dict[int, dict[str, str]]] = {}
    for p in check(books):
        if p.fix:
            fixes.setdefault(p.notebook, {}).setdefault(p.cell, {})[p.target] = p.fix
    for name, by_cell in fixes.items():
        nb = books[name]
        for link in reversed(links(nb)):     # from the end, so offsets stay valid
            new = by_cell.get(link.cell, {}).get(link.target)
            if new is None:
                continue
            cell = nb["cells"][link.cell]
            source = _cell_source(cell)
            _set_source(cell, source[:link.start] + new + source[link.end:])
            changes.append(f"{name} cell {link.cell}: '{link.target}' -> '{new}'")
        path = Path(folder) / name
        original = path.read_text(encoding="utf-8")
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        if text != original:
            files.write_text(path, text)
    return sorted(changes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--fix", action="store_true",
                        help="rewrite fragments that name a heading another way")
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOK_DIR,
                        help="folder of the notebooks (default: notebooks/)")
    args = parser.parse_args(argv)
    try:
        books = load_notebooks(args.notebooks)  # before --fix writes anything
        if not books:
            raise FileNotFoundError(f"--notebooks {args.notebooks}: no notebooks (*.ipynb) in this folder")
        if args.fix:
            for line in fix(args.notebooks):
                print("fixed:", line)
            books = load_notebooks(args.notebooks)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problems = check(books)
    n_links = sum(len(links(nb)) for nb in books.values())
    for p in problems:
        print(p)
    print(f"{len(books)} notebooks, {n_links} links, {len(problems)} broken")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
