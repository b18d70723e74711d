"""Test-session set-up shared by `python -m pytest` and scripts/regenerate_notebooks.py.

Strict nbval compares every stored text output of a notebook with a fresh run, character by
character. Outputs therefore have to be produced under one fixed environment, both when they are
regenerated and when they are tested. That environment is defined here, once:

* BLAS libraries use one thread (``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``,
  ``MKL_NUM_THREADS``). A different thread count changes the summation order inside dot
  products and hence the last digits of intermediate numbers. What the notebooks print must not
  depend on those digits, and CI checks that by running them with two threads as well:
  ``BOOK_BLAS_THREADS=2 python -m pytest notebooks/`` (default 1).
* ``MPLBACKEND`` is removed, so kernels use the inline backend and figures appear as outputs.
* Matplotlib reads only its own default ``matplotlibrc`` (``MATPLOTLIBRC``), so a reader's
  personal style file cannot change figure sizes in ``<Figure size 640x480 with 1 Axes>``.
* ``PYTHONHASHSEED=0`` makes the iteration order of sets of strings repeatable.
* Cells run with ``store_history=True``, as JupyterLab runs them. nbval sends
  ``store_history=False`` (nbval issue #194), and IPython then ignores a trailing ``;``, so a
  cell such as ``plt.plot(x, y);`` would print ``[<matplotlib.lines.Line2D at 0x...>]`` under
  test but not in JupyterLab. :func:`patch_nbval_store_history` fixes that.
* Kernels run in the notebook's own folder (nbval's choice; the regeneration script uses the
  same folder) with the Python interpreter running pytest (``--nbval-current-env``).

Hypothesis runs without its per-example deadline (a loaded two-core machine is slow, not wrong),
and with ``CI`` set in the environment it runs derandomized, so a CI run can be repeated exactly.
``HYPOTHESIS_PROFILE=book|ci`` chooses a profile explicitly.

The environment variables are set when this file is imported, before any kernel starts and
before numpy is imported by a test module; kernels inherit them from this process.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import warnings
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent



def blas_threads(environ=None) -> str:
    """The BLAS thread count for tests: ``BOOK_BLAS_THREADS`` (a positive integer), default 1."""
    value = (os.environ if environ is None else environ).get("BOOK_BLAS_THREADS", "1").strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"BOOK_BLAS_THREADS must be a positive integer, got {value!r}")
    return str(int(value))


#: Variables every notebook kernel (and this process) gets.
PINNED_ENV = {
    "OMP_NUM_THREADS": blas_threads(),
    "OPENBLAS_NUM_THREADS": blas_threads(),
    "MKL_NUM_THREADS": blas_threads(),
    "PYTHONHASHSEED": "0",
    # Silences debugpy's "frozen modules" warning that ipykernel prints to its own stderr.
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}

#: Variables removed for every notebook kernel (and this process).
REMOVED_ENV = ("MPLBACKEND",)


def _matplotlib_default_rc() -> str | None:
    """Path of the matplotlibrc that ships inside matplotlib, found without importing it."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "mpl-data" / "matplotlibrc"
    return str(path) if path.is_file() else None


def apply_notebook_environment(environ=None) -> dict:
    """Set the variables above in ``environ`` (default ``os.environ``) and return it."""
    if environ is None:
        environ = os.environ
    environ.update(PINNED_ENV)
    for name in REMOVED_ENV:
        environ.pop(name, None)
    rc = _matplotlib_default_rc()
    if rc is not None:
        environ["MATPLOTLIBRC"] = rc
    return environ


def _execute_cell_input_with_history(self, cell_input, allow_stdin=None):
    """Replacement for ``nbval.kernel.RunningKernel.execute_cell_input``.

    Identical to nbval 0.11's method except that the cell is stored in the kernel's history,
    which is what JupyterLab and nbclient do.
    """
    return self.kc.execute(
        cell_input,
        store_history=True,
        allow_stdin=allow_stdin,
        stop_on_error=False,
    )


def patch_nbval_store_history() -> None:
    """Make nbval execute cells with ``store_history=True``.

    Fails loudly if nbval's internals moved, rather than silently testing with different
    semantics from the regeneration script.
    """
    from nbval.kernel import RunningKernel

    original = RunningKernel.__dict__.get("execute_cell_input")
    if original is None:
        raise RuntimeError(
            "nbval.kernel.RunningKernel.execute_cell_input no longer exists; update "
            "patch_nbval_store_history() in conftest.py for this nbval version"
        )
    if original is not _execute_cell_input_with_history:
        RunningKernel.execute_cell_input = _execute_cell_input_with_history


apply_notebook_environment()
if "numpy" in sys.modules:  # pragma: no cover - depends on plugins installed by the user
    warnings.warn(
        "numpy was imported before conftest.py pinned the BLAS thread count; unit tests in "
        "this process may use several BLAS threads",
        RuntimeWarning,
        stacklevel=1,
    )


def _load_hypothesis_profile() -> None:
    from hypothesis import settings

    settings.register_profile("book", deadline=None)
    settings.register_profile("ci", deadline=None, derandomize=True, database=None,
                              print_blob=True)
    default = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "book"
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", default))


_load_hypothesis_profile()


def pytest_configure(config):
    patch_nbval_store_history()
    # nbval opens the sanitize file relative to the current directory; resolve it against the
    # repository so `pytest` also works when started from a subfolder.
    sanitize = getattr(config.option, "nbval_sanitize_with", None)
    if sanitize and not os.path.isabs(sanitize) and not os.path.exists(sanitize):
        candidate = REPO_ROOT / sanitize
        if candidate.exists():
            config.option.nbval_sanitize_with = str(candidate)
