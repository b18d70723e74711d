"""Tests of the set-up itself: dependency lists, the strict-nbval harness, stored notebooks.

The harness tests build a throwaway copy of the repository's test configuration (pyproject.toml,
conftest.py, the sanitize file and the regeneration script) around a small notebook, regenerate
it with the script and run strict nbval on it in a separate pytest process, exactly as a
contributor would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
SANITIZE_FILE = REPO / "tests" / "sanitize.cfg"

# Packages a conda environment needs for itself; they have no counterpart in requirements.txt.
CONDA_ONLY = {"python", "pip"}


# ----------------------------------------------------------------------------------------
# dependency lists
# ----------------------------------------------------------------------------------------


def parse_requirements(text: str) -> tuple[dict[str, str], list[str]]:
    """Return ({canonical name: specifier}, [editable targets]) of a requirements file."""
    packages: dict[str, str] = {}
    editables: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-e ") or line.startswith("--editable "):
            editables.append(line.split(None, 1)[1].strip())
            continue
        if line.startswith("-"):
            raise ValueError(f"unexpected option line in requirements.txt: {raw!r}")
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if name in packages:
            raise ValueError(f"{name} listed twice in requirements.txt")
        packages[name] = str(req.specifier)
    return packages, editables


def parse_environment_yml(text: str) -> tuple[dict[str, str], list[str]]:
    """Return ({canonical name: specifier}, [pip lines]) of a conda environment file.

    Understands the flat layout this repository uses: a `dependencies:` list of
    "name spec" strings and one nested `- pip:` list.
    """
    packages: dict[str, str] = {}
    pip_lines: list[str] = []
    section = None
    dep_indent = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0:
            section = stripped.rstrip(":") if stripped.endswith(":") else None
            dep_indent = None
            continue
        if section != "dependencies" or not stripped.startswith("- "):
            continue
        item = stripped[2:].strip()
        if dep_indent is None:
            dep_indent = indent
        if indent > dep_indent:  # inside the pip: sub-list
            pip_lines.append(item)
            continue
        if item == "pip:":
            continue
        name, _, spec = item.partition(" ")
        name = canonicalize_name(name)
        if name in packages:
            raise ValueError(f"{name} listed twice in environment.yml")
        packages[name] = str(SpecifierSet(spec.replace(" ", "")))
    return packages, pip_lines


def test_requirements_and_environment_list_the_same_packages():
    req, editables = parse_requirements((REPO / "requirements.txt").read_text())
    env, pip_lines = parse_environment_yml((REPO / "environment.yml").read_text())
    conda_packages = {k: v for k, v in env.items() if k not in CONDA_ONLY}
    assert set(req) == set(conda_packages), (
        f"only in requirements.txt: {sorted(set(req) - set(conda_packages))}; "
        f"only in environment.yml: {sorted(set(conda_packages) - set(req))}"
    )
    for name, spec in req.items():
        assert conda_packages[name] == spec, f"{name}: {spec!r} vs {conda_packages[name]!r}"
    assert editables == ["."]
    assert pip_lines == ["-e ."]


def parse_constraints(text: str) -> dict[str, str]:
    """Return {canonical name: pinned version} of a constraints file of ``name==version`` lines."""
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise ValueError(f"constraints must be exact pins name==version, got {raw!r}")
        name = canonicalize_name(req.name)
        if name in pins:
            raise ValueError(f"{name} pinned twice")
        pins[name] = specs[0].version
    return pins


def floor_of(spec: str) -> str:
    """The version of the single ``>=`` clause of a range such as ``>=1.26,<3``."""
    lower = [s.version for s in SpecifierSet(spec) if s.operator == ">="]
    if len(lower) != 1:
        raise ValueError(f"range {spec!r} has no single >= lower bound")
    return lower[0]


def test_floor_constraints_pin_every_requirement_at_its_lower_bound():
    """constraints-floor.txt (installed by CI in a second venv) tests the declared floors."""
    req, _ = parse_requirements((REPO / "requirements.txt").read_text())
    pins = parse_constraints((REPO / "constraints-floor.txt").read_text())
    assert set(pins) == set(req), (
        f"not pinned at a floor: {sorted(set(req) - set(pins))}; "
        f"pinned but not in requirements.txt: {sorted(set(pins) - set(req))}"
    )
    for name, spec in req.items():
        assert Version(pins[name]) == Version(floor_of(spec)), f"{name}: pinned {pins[name]}, range {spec}"


def test_indirect_packages_that_change_outputs_have_a_floor():
    # matplotlib-inline draws every stored figure; with 0.2 and matplotlib 3.8 figures go missing
    req, _ = parse_requirements((REPO / "requirements.txt").read_text())
    assert "matplotlib-inline" in req
    assert SpecifierSet(req["matplotlib"]).contains("3.9.0")
    assert not SpecifierSet(req["matplotlib"]).contains("3.8.4")


def test_constraints_parser_rejects_ranges_and_duplicates():
    assert parse_constraints("# c\nNumPy==1.26.0  # why\n") == {"numpy": "1.26.0"}
    with pytest.raises(ValueError, match="exact pins"):
        parse_constraints("numpy>=1.26\n")
    with pytest.raises(ValueError, match="pinned twice"):
        parse_constraints("numpy==1.26.0\nnumpy==2.0.0\n")
    assert floor_of(">=1.26,<3") == "1.26"
    with pytest.raises(ValueError, match="lower bound"):
        floor_of("<3")


def test_requirements_use_ranges_not_pins():
    req, _ = parse_requirements((REPO / "requirements.txt").read_text())
    for name, spec in req.items():
        assert spec, f"{name} has no version range"
        assert "==" not in spec, f"{name} is pinned ({spec}); use a range"


def test_issue_dependencies_are_listed():
    req, _ = parse_requirements((REPO / "requirements.txt").read_text())
    required = {"numpy", "matplotlib", "jupyterlab", "nbval", "ipywidgets", "tqdm", "pooch",
                "mlxtend", "pytest", "hypothesis"}
    assert required <= set(req), sorted(required - set(req))


def test_helpers_runtime_dependencies_are_in_requirements():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    req, _ = parse_requirements((REPO / "requirements.txt").read_text())
    assert project["requires-python"] == ">=3.11"
    for line in project["dependencies"]:
        dep = Requirement(line)
        name = canonicalize_name(dep.name)
        assert name in req, f"pyproject dependency {name} missing from requirements.txt"
        assert str(dep.specifier) == req[name], f"{name}: pyproject and requirements differ"


def test_installed_versions_satisfy_requirements():
    from importlib.metadata import PackageNotFoundError, version

    req, _ = parse_requirements((REPO / "requirements.txt").read_text())
    for name, spec in req.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            pytest.fail(f"{name} from requirements.txt is not installed")
        assert Requirement(f"{name}{spec}").specifier.contains(installed, prereleases=True), (
            f"{name} {installed} is outside {spec}"
        )


def test_environment_parser_rejects_what_it_cannot_compare():
    text = "dependencies:\n  - numpy >=1\n  - numpy >=2\n"
    with pytest.raises(ValueError, match="numpy listed twice"):
        parse_environment_yml(text)
    env, pip_lines = parse_environment_yml(
        "name: x\ndependencies:\n  - NumPy >=1, <3\n  - pip\n  - pip:\n      - -e .\n"
    )
    assert env == {"numpy": str(SpecifierSet(">=1,<3")), "pip": ""}
    assert pip_lines == ["-e ."]


# ----------------------------------------------------------------------------------------
# the environment conftest.py sets up
# ----------------------------------------------------------------------------------------


def test_this_process_has_the_pinned_environment():
    threads = os.environ.get("BOOK_BLAS_THREADS", "1")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        assert os.environ.get(name) == threads, name
    assert "MPLBACKEND" not in os.environ
    assert os.environ.get("PYTHONHASHSEED") == "0"
    assert Path(os.environ["MATPLOTLIBRC"]).name == "matplotlibrc"


def _root_conftest():
    import importlib.util

    import warnings

    spec = importlib.util.spec_from_file_location("_root_conftest_for_test", REPO / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    with warnings.catch_warnings():  # numpy is imported by now; conftest would warn about that
        warnings.simplefilter("ignore", RuntimeWarning)
        spec.loader.exec_module(module)
    return module


def test_blas_thread_knob_accepts_positive_integers_only():
    blas_threads = _root_conftest().blas_threads
    assert blas_threads({}) == "1"
    assert blas_threads({"BOOK_BLAS_THREADS": " 2 "}) == "2"
    for bad in ("0", "-1", "two", "", "1.5"):
        with pytest.raises(ValueError, match="BOOK_BLAS_THREADS must be a positive integer"):
            blas_threads({"BOOK_BLAS_THREADS": bad})


def test_nbval_executes_with_store_history():
    from nbval.kernel import RunningKernel

    sent = {}

    class FakeClient:
        def execute(self, code, **kwargs):
            sent.update(kwargs, code=code)
            return "msg-id"

    kernel = RunningKernel.__new__(RunningKernel)  # no process: only the request is checked
    kernel.kc = FakeClient()
    assert kernel.execute_cell_input("1 + 1;", allow_stdin=False) == "msg-id"
    assert sent == {"code": "1 + 1;", "store_history": True, "allow_stdin": False,
                    "stop_on_error": False}


# ----------------------------------------------------------------------------------------
# sanitize rules
# ----------------------------------------------------------------------------------------


def sanitize(text: str) -> str:
    from nbval.plugin import get_sanitize_patterns

    rules = get_sanitize_patterns(SANITIZE_FILE.read_text())
    assert rules, "no rules parsed from the sanitize file"
    for regex, replace in rules:
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize(
    "first, second",
    [
        ("100%|##########| 50/50 [00:03<00:00, 14.62it/s]\n",
         "100%|##########| 50/50 [00:11<00:00,  4.40it/s]\n"),
        ("epoch 1:  40%|####      | 2/5 [00:04<00:06, 2.01s/it, loss=0.512]",
         "epoch 1:  40%|####      | 2/5 [01:02:03<1:00:00, 21.5s/it, loss=0.512]"),
        ("  0%|          | 0/10 [00:00<?, ?it/s]", "  0%|          | 0/10 [00:01<?, ?it/s]"),
        ("37it [00:02, 16.03it/s]", "37it [00:05,  7.1it/s]"),
        ("/tmp/ipykernel_4121/2796054351.py:5: UserWarning: careful\n",
         "/var/folders/x1/T/ipykernel_88/11.py:5: UserWarning: careful\n"),
        ("/work/main/helpers/data.py:40: RuntimeWarning: overflow",
         "/tmp/ciclone/main/helpers/data.py:40: RuntimeWarning: overflow"),
        ("/work/venv/lib/python3.11/site-packages/numpy/x.py:9: DeprecationWarning: d",
         "/repo/.venv-ci/lib/python3.12/site-packages/numpy/x.py:9: DeprecationWarning: d"),
        ("<Figure at 0x7f3a5c2d1e50>", "<Figure at 0x55d0c0ffee00>"),
    ],
)
def test_sanitize_rules_remove_run_to_run_noise(first, second):
    assert first != second
    assert sanitize(first) == sanitize(second)


@pytest.mark.parametrize(
    "first, second",
    [
        # a change in what the progress bar counts or in a postfix value must still be caught
        ("100%|##########| 50/50 [00:03<00:00, 14.62it/s, loss=0.512]",
         "100%|##########| 50/50 [00:03<00:00, 14.62it/s, loss=0.513]"),
        (" 80%|########  | 40/50 [00:03<00:00, 14.62it/s]",
         "100%|##########| 50/50 [00:03<00:00, 14.62it/s]"),
        # printed numbers, times of day and other file names are never sanitized
        ("held-out accuracy 0.9120", "held-out accuracy 0.9125"),
        ("lr 0.1 at 12:30", "lr 0.1 at 12:31"),
        ("/tmp/ipykernel_1/2.py:5: UserWarning: a", "/tmp/ipykernel_1/2.py:6: UserWarning: a"),
        ("/work/main/helpers/data.py:40: W", "/work/main/helpers/pooling.py:40: W"),
        ("stride 0x10", "stride 0x11"),
    ],
)
def test_sanitize_rules_keep_real_differences(first, second):
    assert sanitize(first) != sanitize(second)


# ----------------------------------------------------------------------------------------
# regenerate + strict nbval, end to end, in a scratch copy of the configuration
# ----------------------------------------------------------------------------------------

SCRATCH_CELLS = [
    new_markdown_cell("# Scratch notebook for the harness test"),
    new_code_cell(
        "import os, warnings\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "import matplotlib\n"
        "import matplotlib.pyplot as plt\n"
        "print('cwd', Path.cwd().name)\n"
        "print('threads', os.environ.get('OMP_NUM_THREADS'), os.environ.get('OPENBLAS_NUM_THREADS'),"
        " os.environ.get('MKL_NUM_THREADS'))\n"
        "print('backend', matplotlib.get_backend())"
    ),
    # a trailing semicolon must hide the list of lines, in Jupyter and under test alike
    new_code_cell("x = np.linspace(0, 1, 5)\nplt.plot(x, x ** 2);"),
    new_code_cell("warnings.warn('a warning from a cell')\nround(float(np.sum(x ** 2)), 4)"),
    new_code_cell(
        "import time\nfrom tqdm import tqdm\nfor _ in tqdm(range(4)):\n    time.sleep(0.02)"
    ),
    new_code_cell(
        "fig, ax = plt.subplots()\nax.imshow(np.eye(3), cmap='gray')\n"
        "ax.set_title('identity')\nplt.show()"
    ),
]


def _scratch_repo(tmp_path: Path, cells) -> Path:
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "scripts").mkdir()
    (root / "notebooks").mkdir()
    shutil.copy(REPO / "pyproject.toml", root)
    shutil.copy(REPO / "conftest.py", root)
    shutil.copy(SANITIZE_FILE, root / "tests")
    shutil.copy(REPO / "scripts" / "regenerate_notebooks.py", root / "scripts")
    (root / "helpers").mkdir()  # the script writes through helpers.files (atomic, modes kept)
    for name in ("__init__.py", "files.py"):
        shutil.copy(REPO / "helpers" / name, root / "helpers")
    nb = new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "no-such-kernel", "display_name": "-", "language": "python"}})
    nbformat.write(nb, str(root / "notebooks" / "scratch.ipynb"))
    return root


def _run(args, cwd, env_extra=None):
    env = dict(os.environ)
    env.pop("BOOK_BLAS_THREADS", None)  # the scratch repository runs with the default thread count
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_regenerated_notebook_passes_strict_nbval_and_a_changed_output_fails(tmp_path):
    root = _scratch_repo(tmp_path, SCRATCH_CELLS)
    nb_path = root / "notebooks" / "scratch.ipynb"
    # a hostile outer environment: regeneration and test must both override it
    hostile = {"MPLBACKEND": "Agg", "OMP_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "2"}

    regen = _run(["scripts/regenerate_notebooks.py", "notebooks/scratch.ipynb"], root, hostile)
    assert regen.returncode == 0, regen.stderr

    nb = nbformat.read(str(nb_path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    assert code[0].outputs[0].text == (
        "cwd notebooks\nthreads 1 1 1\n"
        "backend module://matplotlib_inline.backend_inline\n"
    )
    plot_outputs = code[1].outputs
    assert [o.output_type for o in plot_outputs] == ["display_data"]  # no Line2D list
    assert "image/png" in plot_outputs[0].data
    assert code[2].outputs[0].name == "stderr"
    assert "ipykernel_" in code[2].outputs[0].text  # raw path stored; sanitized when compared
    assert code[2].outputs[1].data["text/plain"] == "1.875"
    assert "\r" not in code[3].outputs[0].text  # tqdm's updates merged as nbval merges them
    assert nb.metadata.kernelspec.name == "python3"
    assert "version" not in nb.metadata.language_info
    assert all("execution" not in c.metadata for c in code)

    test = _run(["-m", "pytest", "-p", "no:cacheprovider", "notebooks/scratch.ipynb"],
                root, hostile)
    assert test.returncode == 0, test.stdout + test.stderr
    assert f"{len(code)} passed" in test.stdout

    # one stored number changed: strict nbval must fail on exactly that cell
    code[2].outputs[1].data["text/plain"] = "1.8751"
    nbformat.write(nb, str(nb_path))
    test = _run(["-m", "pytest", "-p", "no:cacheprovider", "notebooks/scratch.ipynb"], root)
    assert test.returncode == 1, test.stdout + test.stderr
    assert "1 failed" in test.stdout and "Cell 2" in test.stdout


@pytest.mark.slow
def test_regeneration_stops_on_an_error_and_leaves_the_file_alone(tmp_path):
    cells = [new_code_cell("print('before')"), new_code_cell("1 / 0"),
             new_code_cell("print('after')")]
    root = _scratch_repo(tmp_path, cells)
    nb_path = root / "notebooks" / "scratch.ipynb"
    before = nb_path.read_bytes()
    regen = _run(["scripts/regenerate_notebooks.py", "notebooks/scratch.ipynb"], root)
    assert regen.returncode == 1
    assert "ZeroDivisionError" in regen.stderr
    assert "FAILED" in regen.stderr
    assert nb_path.read_bytes() == before


# ----------------------------------------------------------------------------------------
# the book's notebooks as stored
# ----------------------------------------------------------------------------------------

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_there_is_a_start_notebook():
    assert (REPO / "notebooks" / "00_start_here.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_from_one_clean_run(path):
    """Strict nbval skips cells without an execution count, so every code cell must have one."""
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name), path.name
    expected = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if not cell.source.strip() or "skip-execution" in tags:
            assert cell.execution_count is None and not cell.outputs, f"cell {index}"
            continue
        expected += 1
        assert cell.execution_count == expected, (
            f"cell {index} has execution count {cell.execution_count}, expected {expected}: "
            f"regenerate with `python scripts/regenerate_notebooks.py {path.relative_to(REPO)}`"
        )
        assert "execution" not in cell.metadata, f"cell {index} carries timing metadata"
        for output in cell.outputs:
            assert output.output_type != "error" or "raises-exception" in tags, f"cell {index}"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"



def test_errata_summary_counts_the_rows_of_the_errata_tables():
    """09's prose sums up its tables ("58 places: 18 wrong, 27 ambiguous, 13 checked"): that
    sentence must count the verdict column of the tables as they are."""
    nb = nbformat.read(str(REPO / "notebooks" / "09_errata_and_notation.ipynb"), as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    rows = [line.split(" | ") for line in text.splitlines() if re.match(r"\| E\d+ \|", line)]
    verdicts = [row[3] for row in rows]
    assert set(verdicts) <= {"**wrong**", "*ambiguous*", "checked, not an erratum"}, set(verdicts)
    ids = [row[0] for row in rows]
    assert len(set(ids)) == len(ids), "an erratum id appears twice"
    summary = re.findall(r"(\d+) places: (\d+) wrong, (\d+) ambiguous, (\d+) checked", text)
    assert summary == [(str(len(rows)), str(verdicts.count("**wrong**")),
                        str(verdicts.count("*ambiguous*")), str(verdicts.count("checked, not an erratum")))]

def test_hypothesis_profile_has_no_deadline():
    from hypothesis import settings

    assert settings.default.deadline is None
    if os.environ.get("CI", "").lower() in ("1", "true", "yes") and \
            "HYPOTHESIS_PROFILE" not in os.environ:
        assert settings.default.derandomize
