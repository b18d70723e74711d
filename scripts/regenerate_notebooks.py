"""Re-run notebooks top to bottom and store their outputs, exactly as the tests will run them.

Usage (from the repository root, in the environment from requirements.txt)::

    python scripts/regenerate_notebooks.py                                  # every notebook
    python scripts/regenerate_notebooks.py notebooks/03_fc_gradients.ipynb  # only these

Then check the result with strict nbval::

    python -m pytest notebooks/03_fc_gradients.ipynb

Why a script: `python -m pytest` runs every notebook with strict ``--nbval``, which compares each
stored text output character by character with a fresh run. nbval cannot write outputs, so they
are produced here, under the very conditions the test uses:

* the environment variables of ``conftest.py`` (one BLAS thread, no ``MPLBACKEND``,
  matplotlib's default rc file, ``PYTHONHASHSEED=0``), imported from that file so the two can
  never disagree;
* a kernel running this Python interpreter (nbval's ``--nbval-current-env`` kernel spec), not
  whatever kernel the notebook's metadata names;
* the notebook's own folder as the working directory (where nbval starts its kernel);
* ``store_history=True`` for every cell (nbclient's default; conftest.py makes nbval match), so a
  trailing ``;`` hides a value in both;
* streams merged and carriage returns resolved the way nbval does before comparing.

Each notebook is executed and then replaced. Code cells are numbered 1..N, per-run metadata
(timings, the Python patch version, collapsed/scrolled flags) is removed -- the cell metadata
kept is :data:`KEPT_CELL_METADATA`, nbgrader's included -- and the file is written only if every
cell ran, whole or not at all: a temporary file beside the notebook, renamed over it when
complete (``helpers.files.replace_file``; the notebook keeps its mode, a symbolic link stays a
link), so a full disk leaves the old notebook as it was. A cell that raises, or a write that
fails, stops the run: the error is printed, the file is left as it was, and the script exits
with status 1. A cell tagged ``raises-exception`` may raise (nbval and
nbclient both honour that tag); a cell tagged ``skip-execution`` is not run and keeps no outputs
(tag such cells ``nbval-skip`` too).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))  # the helpers of this checkout, even if not installed

from helpers import files  # noqa: E402

# Cell metadata worth keeping; everything else (execution timings, scrolled, collapsed, ...)
# is per-session noise.
KEPT_CELL_METADATA = ("tags", "jupyter", "editable", "deletable", "slideshow", "nbgrader")

DEFAULT_TIMEOUT = 1800  # seconds per cell; training cells can be long on two cores


def _load_test_conftest():
    """Import the repository's conftest.py (it sets the test environment when imported)."""
    path = REPO_ROOT / "conftest.py"
    spec = importlib.util.spec_from_file_location("_book_conftest", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.apply_notebook_environment()
    return module


def _tidy(nb):
    """Number code cells 1..N, merge streams like nbval, and drop per-run metadata."""
    from nbval.plugin import coalesce_streams

    count = 0
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in KEPT_CELL_METADATA}
        if cell.cell_type != "code":
            continue
        if cell.get("execution_count") is None:
            # not executed (empty or skip-execution): store no outputs, so nbval compares none
            cell.outputs = []
            continue
        count += 1
        cell.execution_count = count
        cell.outputs = coalesce_streams(cell.outputs)
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    nb.metadata.pop("papermill", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    # language_info.version changes with every Python patch release; keep only the stable parts.
    info = nb.metadata.get("language_info", {})
    nb.metadata["language_info"] = {
        k: info[k] for k in ("name", "file_extension", "mimetype") if k in info
    }
    return nb


def regenerate(path: Path, timeout: int = DEFAULT_TIMEOUT) -> float:
    """Execute one notebook in place; return the seconds it took. Raises on a failing cell."""
    import nbformat
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    path = Path(path).resolve()
    nb = nbformat.read(str(path), as_version=4)
    km = AsyncKernelManager(
        kernel_name=CURRENT_ENV_KERNEL_NAME,
        kernel_spec_manager=NbvalKernelspecManager(),
    )
    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        allow_errors=False,
        record_timing=False,
        store_widget_state=True,
        skip_cells_with_tag="skip-execution",
        resources={"metadata": {"path": str(path.parent)}},
    )
    # Outputs of cells that will not run must not survive from an earlier version.
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    start = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - start
    nbformat.validate(nb)
    text = nbformat.writes(_tidy(nb))  # what nbformat.write(nb, path) writes, but atomically
    files.write_text(path, text if text.endswith("\n") else text + "\n")
    return elapsed


def _notebooks_from_args(names: list[str]) -> list[Path]:
    if not names:
        found = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
        if not found:
            raise SystemExit(f"no notebooks found in {NOTEBOOK_DIR}")
        return found
    paths = [Path(n) for n in names]
    for p in paths:
        if p.suffix != ".ipynb" or not p.is_file():
            raise SystemExit(f"not a notebook file: {p}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Execute notebooks in place under the strict-nbval test environment."
    )
    parser.add_argument(
        "notebooks", nargs="*", help="notebook files (default: every notebooks/*.ipynb)"
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=DEFAULT_TIMEOUT,
        help=f"seconds allowed per cell (default {DEFAULT_TIMEOUT})",
    )
    args = parser.parse_args(argv)
    paths = _notebooks_from_args(args.notebooks)

    _load_test_conftest()
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    for path in paths:
        print(f"executing {path} ...", flush=True)
        try:
            seconds = regenerate(path, timeout=args.timeout)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            print(f"\nFAILED: {path} was not changed.\n{err}", file=sys.stderr)
            return 1
        except OSError as err:  # writing the notebook failed (a full disk, ...): the old one is whole
            print(f"error: cannot write {path}: {err.strerror or err}; it was not changed", file=sys.stderr)
            return 1
        print(f"  wrote {path} ({seconds:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
