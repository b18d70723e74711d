"""helpers.files: the one way the book writes a file (issue 21, faults 1-3) -- a temporary file
beside the target, renamed over it when complete -- and the writers that use it: the checkpoint
saver, ``save_json``, ``check_links.py --fix``, ``make_student_edition.py`` and
``regenerate_notebooks.py``.

What holds for every writer: a new file gets ``0666`` less the umask; a replaced file keeps its
own mode; a symbolic link stays a link and the file it points to is replaced; a target that is
not a regular file (a device such as ``/dev/full``, a FIFO) is refused before anything is
written; a file name up to the file system's limit (255 bytes) works, temporary name included.
"""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import checkpoint, files, network

REPO = Path(__file__).resolve().parents[1]


def _script(name: str):
    spec = importlib.util.spec_from_file_location(f"_files_{name}", REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield 0o640
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# --------------------------------------------------------------------------------------------
# the writers, each as "replace or create this file"
# --------------------------------------------------------------------------------------------
def _notebook_with_a_repairable_link() -> dict:
    cell = {"cell_type": "markdown", "id": "a", "metadata": {},
            "source": ["# A\n", "## 1. First part\n", "see [there](#first-part)\n"]}
    return {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _params(path):
    checkpoint.save_params(path, network.init_params(0), overwrite=True)


def _json(path):
    checkpoint.save_json(path, {"a": 1})


def _text(path):
    files.write_text(path, "new text\n")


def _fix_links(path):
    assert _script("check_links").fix(Path(path).parent)


def _fill_for_fix(path):
    path.write_text(json.dumps(_notebook_with_a_repairable_link(), indent=1) + "\n")


REPLACING = {"save_params": ("w.npz", _params), "save_json": ("r.json", _json), "write_text": ("t.txt", _text),
             "check_links --fix": ("a.ipynb", _fix_links)}


def _original(path):
    if path.suffix == ".ipynb":
        _fill_for_fix(path)
    else:
        path.write_bytes(b"the old content")


@pytest.mark.parametrize("writer", ["save_params", "save_json", "write_text"])
def test_a_new_file_gets_the_umasks_mode(tmp_path, umask_027, writer):
    name, write = REPLACING[writer]
    write(tmp_path / name)
    assert _mode(tmp_path / name) == 0o640  # 0666 less the umask 027, not 0600
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary file left


@pytest.mark.parametrize("writer", list(REPLACING))
def test_a_replaced_file_keeps_its_own_mode(tmp_path, writer):
    name, write = REPLACING[writer]
    path = tmp_path / name
    _original(path)
    path.chmod(0o604)  # neither the umask's mode nor mkstemp's 0600
    write(path)
    assert path.read_bytes() != b"the old content"
    assert _mode(path) == 0o604
    assert [p.name for p in tmp_path.iterdir()] == [name]


@pytest.mark.parametrize("writer", list(REPLACING))
def test_a_symlink_stays_a_link_and_its_target_is_replaced(tmp_path, writer):
    name, write = REPLACING[writer]
    (tmp_path / "real").mkdir()
    (tmp_path / "links").mkdir()
    target = tmp_path / "real" / name
    _original(target)
    target.chmod(0o640)
    link = tmp_path / "links" / name
    link.symlink_to(target)
    if writer == "check_links --fix":
        _fix_links(link)
    else:
        write(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"the old content" and _mode(target) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == [name]  # replaced beside the target
    assert sorted(p.name for p in link.parent.iterdir()) == [name]


def test_a_fifo_is_refused_and_left_as_it_was(tmp_path):
    fifo = tmp_path / "w.npz"
    os.mkfifo(fifo)
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        checkpoint.save_params(fifo, network.init_params(0), overwrite=True)
    with pytest.raises(OSError, match="FIFO"):
        checkpoint.save_json(link, {"a": 1})
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "w.npz"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_link_to_dev_full_is_refused_without_writing(tmp_path):
    link = tmp_path / "link.npz"
    link.symlink_to("/dev/full")
    with pytest.raises(OSError, match="/dev/full.*character device"):
        files.check_target(link)
    with pytest.raises(OSError, match="not a regular file"):
        checkpoint.check_save_path(link, overwrite=True)
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError):
        files.write_text(tmp_path, "x")


def test_overwrite_false_never_replaces_anything(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("mine")
    with pytest.raises(FileExistsError):
        files.write_text(path, "new", overwrite=False)
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "nowhere.txt")
    with pytest.raises(FileExistsError):  # the name is taken, even by a link to nothing
        files.write_text(dangling, "new", overwrite=False)
    assert path.read_text() == "mine" and not (tmp_path / "nowhere.txt").exists()
    assert files.write_text(tmp_path / "new.txt", "fresh", overwrite=False).read_text() == "fresh"


def test_a_name_of_up_to_255_bytes_is_written_and_a_longer_one_refused_before_writing(tmp_path):
    long_name = "w" * 246 + ".npz"  # 250 bytes: "." + name + "." + 8 + ".part" would be 265
    path = checkpoint.save_params(tmp_path / long_name, network.init_params(0))
    assert path.name == long_name and checkpoint.load_params(path)["W"].shape == (10, 192)
    checkpoint.save_params(path, network.init_params(1), overwrite=True)
    umlauts = "ü" * 125 + ".txt"  # 254 bytes in UTF-8: the name is cut by bytes, not characters
    files.write_text(tmp_path / umlauts, "x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([long_name, umlauts])
    too_long = "w" * 252 + ".npz"
    with pytest.raises(OSError, match="256 bytes"):
        checkpoint.check_save_path(tmp_path / too_long)
    with pytest.raises(OSError, match="256 bytes"):
        files.write_text(tmp_path / too_long, "x")
    with pytest.raises(OSError, match="folder name .* 256 bytes"):  # refused before any folder is made
        checkpoint.check_save_path(tmp_path / "new" / ("d" * 256) / "w.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([long_name, umlauts])


def test_a_write_that_fails_half_way_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("old")

    def half(fh):
        fh.write(b"half of the new")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        files.replace_file(path, half)
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["t.txt"]


def test_read_json_names_the_file(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [}')
    with pytest.raises(ValueError, match=r"bad\.ipynb.*not valid JSON.*line 1"):
        files.read_json(bad)
    (tmp_path / "latin.ipynb").write_bytes(b'{"a": "\xe9"}')
    with pytest.raises(ValueError, match=r"latin\.ipynb.*UTF-8"):
        files.read_json(tmp_path / "latin.ipynb")
    assert files.read_json(_write(tmp_path / "ok.json", {"a": 1})) == {"a": 1}


def _write(path, data):
    path.write_text(json.dumps(data))
    return path


# --------------------------------------------------------------------------------------------
# regenerate_notebooks.py (fault 1): written beside the notebook and renamed
# --------------------------------------------------------------------------------------------
def test_regeneration_on_a_full_disk_leaves_the_notebook_whole(tmp_path):
    """A real operating-system failure: the file-size limit (RLIMIT_FSIZE, EFBIG) stands in for
    the 16 KiB tmpfs of the report. The notebook is larger than the limit, so writing it fails
    half-way; the old notebook must stay as it was, and no temporary file may be left."""
    pytest.importorskip("resource")
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[new_markdown_cell("x" * 40_000), new_code_cell("print(1 + 1)")])
    path = tmp_path / "big.ipynb"
    nbformat.write(nb, str(path))
    before = path.read_bytes()
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))\n"
        f"sys.argv = ['regenerate_notebooks.py', {str(path)!r}]\n"
        f"import runpy; runpy.run_path({str(REPO / 'scripts' / 'regenerate_notebooks.py')!r}, run_name='__main__')\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), IPYTHONDIR=str(tmp_path / "ipython"))
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path, env=env)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "big.ipynb" in run.stderr and "was not changed" in run.stderr
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.ipynb", "ipython"]


def test_regeneration_keeps_nbgraders_cell_metadata():
    """Issue 20 marks solution cells with nbgrader's own metadata; regenerating must keep it."""
    from nbformat.v4 import new_code_cell, new_notebook

    regen = _script("regenerate_notebooks")
    grade = {"grade": False, "solution": True, "locked": False, "grade_id": "ex-3-1", "schema_version": 3}
    cell = new_code_cell("x = 1", metadata={"nbgrader": grade, "tags": ["hide-input"],
                                            "execution": {"iopub.status.busy": "2026"}, "scrolled": True})
    tidy = regen._tidy(new_notebook(cells=[cell]))
    assert tidy.cells[0].metadata == {"nbgrader": grade, "tags": ["hide-input"]}
