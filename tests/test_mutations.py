"""The notebooks are the book's regression oracle: a broken backward pass must fail strict nbval.

Printed outputs are rounded so that they hold on any CPU (see README, "Tests"). Rounding must not
make the oracle blind, so each test here breaks one line of one backward pass in a copy of the
``helpers`` package (a dropped sigma', a missing pooling scale, a missing kernel flip), puts that
copy first on ``PYTHONPATH`` and runs strict nbval on the notebook that teaches that pass. The run
must fail, in a cell after the imports, because an output differs or a cell raises.

If one of the lines below no longer exists (the helper was rewritten), the test fails with a
message naming it: choose the new line that plays the same role, do not delete the case.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# (id, helper module, line as it is, line with the mistake, notebook that must catch it)
MUTATIONS = [
    ("sigma-prime-dropped-output-layer", "network.py",
     "    dy_hat = (y_hat - Y) * sigmoid_prime(y_hat) if config[\"output\"] == \"sigmoid\" else y_hat - Y  # eq. 17\n",
     "    dy_hat = y_hat - Y  # mutation: sigma' of the output dropped\n",
     "03_fc_gradients.ipynb"),
    ("avgpool-backward-scale-missing", "pooling.py",
     "    scaled = dout.astype(dtype, copy=False) / (size * size)\n",
     "    scaled = dout.astype(dtype, copy=False)  # mutation: 1/size^2 dropped\n",
     "04_pooling_upsampling.ipynb"),
    ("kernel-gradient-flip-missing", "convolution.py",
     "+= contrib\n    dx = dxp[:, :, padding:padding + h, padding:padding + w] if padding else dxp\n"
     "    dk = rot180(dK) if convention == \"convolution\" else dK\n",
     "+= contrib\n    dx = dxp[:, :, padding:padding + h, padding:padding + w] if padding else dxp\n"
     "    dk = dK  # mutation: the flip of the kernel gradient (Zhang eq. 40) is missing\n",
     "05_conv_kernel_gradients.ipynb"),
    ("sigma-prime-dropped-maxpool-net", "maxpool_net.py",
     "    delta1 = dC_da1 * c[\"a1\"] * (1 - c[\"a1\"])",
     "    delta1 = dC_da1",
     "07_maxpool_network.ipynb"),
    ("K2-gradient-flip-missing-softmax-net", "softmax_net.py",
     "    dK2 = rot180(corr2)", "    dK2 = corr2",
     "08_softmax_network.ipynb"),
]


def _mutated_helpers(root: Path, module: str, old: str, new: str) -> Path:
    """Copy helpers/ into ``root`` and replace the one occurrence of ``old`` in ``module``."""
    target = root / "helpers"
    shutil.copytree(REPO / "helpers", target, ignore=shutil.ignore_patterns("__pycache__"))
    path = target / module
    text = path.read_text()
    count = text.count(old)
    assert count == 1, (
        f"helpers/{module} contains {count} copies of the line this mutation breaks "
        f"({old.strip()!r}); update MUTATIONS in {Path(__file__).name} to the line that now "
        "plays its role"
    )
    path.write_text(text.replace(old, new))
    return root


@pytest.mark.slow
@pytest.mark.parametrize("case, module, old, new, notebook", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_strict_nbval_fails_on_a_broken_backward_pass(tmp_path, case, module, old, new, notebook):
    root = _mutated_helpers(tmp_path, module, old, new)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + [p for p in [env.get("PYTHONPATH")] if p])
    # -x: the first differing cell is enough, the rest of the notebook need not run
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-x", "-q", "-rf",
         f"notebooks/{notebook}"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 1, f"strict nbval did not fail on {case}:\n{out[-3000:]}"
    assert "ModuleNotFoundError" not in out and "ImportError" not in out, out[-3000:]
    failed = re.findall(rf"FAILED notebooks/{re.escape(notebook)}::Cell (\d+)", out)
    assert failed, out[-3000:]
    # Cell 0 holds the imports: a failure there would mean the copy was not importable.
    assert int(failed[0]) > 0, out[-3000:]
    # unmutated, the notebook passes (the main suite checks that), so this failure is the mutation's
    assert "Cell outputs differ" in out or "Notebook cell execution failed" in out, out[-3000:]
