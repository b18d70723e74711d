"""The package layout survives a normal install: every subpackage of helpers (figures, checks, ...)
is found by setuptools and lands in a built wheel, not only in the editable install."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _source_modules():
    """Every .py file of the helpers package in the working tree, as paths relative to ROOT."""
    return sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "helpers").rglob("*.py")
                  if "__pycache__" not in p.parts)


def test_the_source_tree_has_the_subpackages():
    modules = _source_modules()
    assert "helpers/figures/__init__.py" in modules
    assert "helpers/checks/__init__.py" in modules


@pytest.mark.slow
def test_a_built_wheel_holds_every_module_of_helpers(tmp_path):
    # build from a copy: setuptools writes build/ and *.egg-info/ next to pyproject.toml
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "helpers", src / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    # --no-build-isolation: build with the setuptools already installed, nothing is downloaded
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                            "--no-index", "--wheel-dir", str(tmp_path / "dist"), str(src)],
                           capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert build.returncode == 0, build.stdout + build.stderr
    wheels = list((tmp_path / "dist").glob("*.whl"))
    assert len(wheels) == 1, wheels
    names = set(zipfile.ZipFile(wheels[0]).namelist())
    missing = [m for m in _source_modules() if m not in names]
    assert not missing, f"modules missing from the wheel: {missing}"
    assert not any(name.startswith(("tests/", "notebooks/", "scripts/")) for name in names)
