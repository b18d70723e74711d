"""Tests for helpers.train, the command line ``python -m helpers.train``: training, saving and
evaluating from a terminal, every check made before training, and one clear ``error:`` line
(exit status 2) instead of a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from helpers import checkpoint, data, network, solver
from helpers import train as T

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO_ROOT.parent / "shared" / "datasets" / "mnist"


def run_cli(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "helpers.train", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_trains_saves_and_evaluates(tmp_path):
    weights = tmp_path / "weights" / "tiny.npz"
    args = ("--epochs", "2", "--limit", "100", "--batch-size", "10", "--lr", "1", "--no-progress")
    run = run_cli(*args, "--save", str(weights), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = re.findall(r"epoch (\d)/2 .*held-out loss (\d\.\d{4})\s+acc\s+(\d+\.\d)%", run.stdout)
    assert [line[0] for line in lines] == ["1", "2"]
    assert "100 training and 1000 held-out images" in run.stdout

    params = checkpoint.load_params(weights)
    assert params["W"].dtype == np.float32
    _, _, xv, yv = data.load_mnist_5k_split(dtype=np.float32)
    result = solver.evaluate(params, xv, yv)
    assert float(lines[-1][2]) == pytest.approx(100 * result["accuracy"], abs=0.051)
    assert float(lines[-1][1]) == pytest.approx(result["loss"], abs=6e-5)

    again = run_cli(*args, "--save", str(weights), cwd=tmp_path)  # same seed, same numbers
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert_array_equal(checkpoint.load_params(weights)["W"], params["W"])  # the refused run left it alone
    again = run_cli(*args, "--save", str(weights), "--overwrite", cwd=tmp_path)
    assert again.returncode == 0
    assert re.findall(r"epoch.*", again.stdout)[:2] == re.findall(r"epoch.*", run.stdout)[:2]

    evaluated = run_cli("--evaluate", str(weights), cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"accuracy {100 * result['accuracy']:.2f}%" in evaluated.stdout
    assert "1000 images" in evaluated.stdout


def test_cli_reports_errors(tmp_path):
    run = run_cli("--evaluate", str(tmp_path / "nothing.npz"), cwd=tmp_path)
    assert run.returncode == 2 and "no parameter file" in run.stderr
    run = run_cli("--save", "w.txt", "--epochs", "1", cwd=tmp_path)
    assert run.returncode == 2 and ".npz" in run.stderr
    run = run_cli("--dataset", "cifar", cwd=tmp_path)
    assert run.returncode == 2 and "invalid choice" in run.stderr


def test_cli_defaults_are_the_documented_setting():
    args = T._parser().parse_args([])
    assert (args.dataset, args.epochs, args.batch_size, args.lr, args.lr_decay, args.seed, args.dtype) == (
        T.DEFAULTS["dataset"], T.DEFAULTS["epochs"], T.DEFAULTS["batch_size"], T.DEFAULTS["lr"],
        T.DEFAULTS["lr_decay"], T.DEFAULTS["seed"], T.DEFAULTS["dtype"])


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="canonical MNIST test set not found beside the repository")
def test_canonical_test_set_evaluation(tmp_path):
    """The evaluation entry point reads the 10,000 canonical test images (t10k files only)."""
    x_test, y_test = T.load_dataset("mnist", data_dir=SHARED_MNIST, download=False, split="test")
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.float32
    assert x_test.max() == np.float32(1.0) and np.bincount(y_test).sum() == 10000
    raw, _ = data.load_mnist("test", data_dir=SHARED_MNIST, download=False)
    assert_array_equal(x_test, raw.astype(np.float32) / np.float32(255))  # uint8 / 255 exactly
    weights = checkpoint.save_params(tmp_path / "w.npz", network.init_params(2, np.float32))
    run = run_cli("--evaluate", str(weights), "--dataset", "mnist", "--data-dir", str(SHARED_MNIST),
                  "--no-download", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    expected = solver.evaluate(network.init_params(2, np.float32), x_test, y_test)
    assert f"mnist test set: 10000 images, loss {expected['loss']:.4f}, accuracy {100 * expected['accuracy']:.2f}%" in run.stdout
