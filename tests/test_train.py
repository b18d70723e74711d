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


@pytest.mark.parametrize("preset, setting", [("recipe", dict(T.RECIPE, validation=False)),
                                             ("class", dict(T.DEFAULTS, augment=(0.0, 0.0)))])
def test_cli_defaults_are_the_documented_setting(preset, setting):
    args = T._parser(preset).parse_args([])
    assert (args.dataset, args.epochs, args.batch_size, args.lr, args.lr_decay, args.seed, args.dtype,
            tuple(args.augment), args.validation) == (
        setting["dataset"], setting["epochs"], setting["batch_size"], setting["lr"],
        setting["lr_decay"], setting["seed"], setting["dtype"], tuple(setting["augment"]), setting["validation"])


def test_recipe_is_the_shipped_command():
    """The recipe that wrote the shipped checkpoint: all 4,000 digits, float32, no validation split,
    the setting scripts/train_recipes.py chose (stored in helpers/checkpoints/recipes.json)."""
    from helpers import pretrained

    chosen = {k: tuple(v) if isinstance(v, list) else v for k, v in pretrained.recipe_results()["recipe"].items()}
    assert T.RECIPE == {"dataset": "mnist-5k", "dtype": "float32", **chosen}
    assert pretrained.info("trained")["command"].startswith("python -m helpers.train --dataset mnist-5k --epochs 60 ")


def test_validation_split_is_disjoint_and_stratified():
    x, y, _, _ = T.load_dataset("mnist-5k")
    x_fit, y_fit, x_valid, y_valid = T.validation_split(x, y)
    assert x_fit.shape == (3200, 28, 28) and x_valid.shape == (800, 28, 28)
    assert np.bincount(y_valid).tolist() == [T.VAL_PER_CLASS] * 10
    rows = {row.tobytes() for row in x_fit.reshape(3200, -1)}
    assert not any(row.tobytes() in rows for row in x_valid.reshape(800, -1)[:200])  # different digits


def test_class_preset_scores_validation_every_epoch_and_held_out_once(capsys):
    code, out, err = run_main(capsys, "--preset", "class", "--epochs", "1", "--limit", "30", "--no-progress")
    assert code == 0, err
    assert "30 training and 800 validation images" in out and "float64" in out
    assert re.search(r"epoch 1/1 .*\|  validation loss", out)
    assert len(re.findall(r"held-out accuracy, measured once: \d+\.\d% of 1000 images", out)) == 1


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


# --------------------------------------------------------------------------------------------
# issue 14, faults 3, 4, 7 and 8: checked before training, clear errors, the recorded variant
# --------------------------------------------------------------------------------------------
TINY = ("--preset", "class", "--dtype", "float32", "--no-validation", "--epochs", "1", "--limit", "20",
        "--batch-size", "10", "--no-progress")


def run_main(capsys, *argv):
    """``main(argv)`` in this process: ``(exit status, stdout, stderr)``; parser errors included."""
    try:
        code = T.main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def _refused_before_training(code, out, err):
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "epoch" not in out and "training and" not in out  # no data loaded, no step taken


def test_save_is_checked_before_training(tmp_path, capsys):
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "afile").write_text("not a folder")
    code, out, err = run_main(capsys, *TINY, "--save", str(tmp_path / "folder.npz"), "--overwrite")
    _refused_before_training(code, out, err)
    assert "folder.npz" in err and "is a folder" in err
    code, out, err = run_main(capsys, *TINY, "--save", str(tmp_path / "afile" / "w.npz"))
    _refused_before_training(code, out, err)
    assert "'afile' is a file" in err.replace(str(tmp_path) + os.sep, "")
    code, out, err = run_main(capsys, *TINY, "--save", str(tmp_path / "afile" / "deeper" / "w.npz"))
    _refused_before_training(code, out, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "folder.npz"]  # nothing created


@pytest.mark.skipif(not Path("/proc/self").is_dir(),
                    reason="needs Linux's /proc, which nobody can write, root included")
def test_save_to_a_folder_that_takes_no_new_files_is_refused_before_training(capsys):
    code, out, err = run_main(capsys, *TINY, "--save", "/proc/helpers-train-test.npz")
    _refused_before_training(code, out, err)
    assert "/proc" in err and "does not accept new files" in err


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes into read-only folders; the /proc test covers root")
def test_save_to_a_read_only_folder_is_refused_before_training(tmp_path, capsys):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, out, err = run_main(capsys, *TINY, "--save", str(folder / "w.npz"))
    finally:
        folder.chmod(0o755)
    _refused_before_training(code, out, err)
    assert "does not accept new files" in err


@pytest.mark.parametrize("mode", [("--evaluate", "WEIGHTS"), TINY])
def test_data_folder_errors_are_one_line_not_a_traceback(tmp_path, capsys, mode):
    (tmp_path / "afile").write_text("not a folder")
    weights = checkpoint.save_params(tmp_path / "w.npz", network.init_params(0, np.float32))
    argv = [str(weights) if arg == "WEIGHTS" else arg for arg in mode]
    code, out, err = run_main(capsys, *argv, "--dataset", "mnist", "--data-dir", str(tmp_path / "afile" / "sub"))
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "afile" in err and "Not a directory" in err


def test_a_data_folder_error_from_the_terminal_is_not_a_traceback(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    run = run_cli("--dataset", "mnist", "--data-dir", str(tmp_path / "afile" / "sub"), *TINY, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.startswith("error: ")


def test_a_rate_that_overflows_the_dtype_is_refused_before_training(capsys):
    code, out, err = run_main(capsys, *TINY, "--lr", "1e39")
    _refused_before_training(code, out, err)
    assert "--lr = 1e+39 overflows float32" in err and "k1" not in err
    code, out, err = run_main(capsys, *TINY, "--lr", "1e-50")
    _refused_before_training(code, out, err)
    assert "rounds to 0 in float32" in err
    code, out, err = run_main(capsys, "--epochs", "2000", "--lr-decay", "0.5", "--no-progress")
    _refused_before_training(code, out, err)  # the last epoch's rate, 2.5 * 0.5 ** 1999, is 0
    assert "epoch 2000" in err
    code, out, err = run_main(capsys, *TINY, "--epochs", "0")
    _refused_before_training(code, out, err)
    assert "--epochs must be >= 1" in err


def test_evaluate_uses_the_variant_the_checkpoint_records(tmp_path, capsys):
    """Trained with max pooling, ReLU and softmax, evaluated without flags: the same network."""
    variant = {"pooling": "max", "conv_activation": "relu", "output": "softmax"}
    weights = tmp_path / "variant.npz"
    flags = ("--pooling", "max", "--conv-activation", "relu", "--output", "softmax")
    code, out, err = run_main(capsys, *TINY, "--lr", "0.1", *flags, "--save", str(weights))
    assert code == 0, err
    params, recorded = checkpoint.load_checkpoint(weights)
    assert recorded == variant
    _, _, xv, yv = data.load_mnist_5k_split(dtype=np.float32)
    right = solver.evaluate(params, xv, yv, **variant)
    wrong = solver.evaluate(params, xv, yv)
    assert f"loss {right['loss']:.4f}" != f"loss {wrong['loss']:.4f}"
    code, out, err = run_main(capsys, "--evaluate", str(weights))
    assert code == 0, err
    assert f"loss {right['loss']:.4f}, accuracy {100 * right['accuracy']:.2f}%" in out
    code, out, err = run_main(capsys, "--evaluate", str(weights), *flags)  # the same flags: fine
    assert f"loss {right['loss']:.4f}" in out
    code, out, err = run_main(capsys, "--evaluate", str(weights), "--pooling", "avg")
    assert code == 2 and "--pooling max" in err and "--pooling avg" in err and out == ""


def _someone_saves_during_training(monkeypatch, target):
    """Make the command's training write someone else's file at ``target`` before the final save;
    returns the real ``train``."""
    real_train = T.train

    def train_while_someone_saves(*args, **kwargs):
        result = real_train(*args, **kwargs)
        target.write_bytes(b"someone else's file")
        return result

    monkeypatch.setattr(T, "train", train_while_someone_saves)
    return real_train


def test_weights_are_not_lost_when_the_final_save_fails(tmp_path, capsys, monkeypatch):
    """A file that appears under the --save name during training: the weights go elsewhere, said so."""
    target = tmp_path / "w.npz"
    real_train = _someone_saves_during_training(monkeypatch, target)
    code, out, err = run_main(capsys, *TINY, "--save", str(target))
    assert code == 2 and "epoch 1/1" in out and target.read_bytes() == b"someone else's file"
    rescue = Path(re.search(r"saved to (\S+\.npz) instead", err).group(1))
    try:
        params, recorded = checkpoint.load_checkpoint(rescue)
        assert recorded == network.DEFAULT_VARIANT
        x, y, xv, yv = data.load_mnist_5k_split(dtype=np.float32)
        expected, _ = real_train(network.init_params(0, np.float32), x[:20], y[:20], xv, yv, epochs=1, batch_size=10,
                                 lr=T.DEFAULTS["lr"], progress=False)
        assert_array_equal(params["W"], expected["W"])
    finally:
        rescue.unlink()


# --------------------------------------------------------------------------------------------
# issue 21, faults 2, 3, 7 and 14: long names, links to devices, --evaluate with --save,
# unreadable archives and a diverging training are one error line
# --------------------------------------------------------------------------------------------
def test_a_250_byte_save_name_is_saved_and_its_rescue_name_is_short(tmp_path, capsys, monkeypatch):
    name = "w" * 246 + ".npz"  # 250 bytes; the old temporary name was 265, the rescue name 263
    code, out, err = run_main(capsys, *TINY, "--save", str(tmp_path / name))
    assert code == 0, err
    assert checkpoint.load_params(tmp_path / name)["W"].dtype == np.float32
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]
    # the final save fails (someone's file appears meanwhile): the rescue file has a short name
    target = tmp_path / ("v" * 246 + ".npz")
    _someone_saves_during_training(monkeypatch, target)
    code, out, err = run_main(capsys, *TINY, "--save", str(target))
    assert code == 2 and target.read_bytes() == b"someone else's file", err
    rescue = Path(re.search(r"saved to (\S+\.npz) instead", err).group(1))
    try:
        assert rescue.name.startswith("unsaved-") and len(rescue.name) <= 24
        assert checkpoint.load_params(rescue)["W"].shape == (10, 192)
    finally:
        rescue.unlink()


def test_a_save_name_longer_than_the_file_system_allows_is_refused_before_training(tmp_path, capsys):
    code, out, err = run_main(capsys, *TINY, "--save", str(tmp_path / ("w" * 252 + ".npz")))
    _refused_before_training(code, out, err)
    assert "256 bytes" in err and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_save_through_a_link_to_a_device_is_refused_before_training(tmp_path, capsys):
    link = tmp_path / "link.npz"
    link.symlink_to("/dev/full")
    code, out, err = run_main(capsys, *TINY, "--save", str(link), "--overwrite")
    _refused_before_training(code, out, err)
    assert "/dev/full" in err and "not a regular file" in err
    assert link.is_symlink() and os.readlink(link) == "/dev/full"


def test_save_through_a_link_replaces_its_target_and_keeps_the_link(tmp_path, capsys):
    target = checkpoint.save_params(tmp_path / "real.npz", network.init_params(5, np.float32))
    target.chmod(0o640)
    link = tmp_path / "link.npz"
    link.symlink_to(target.name)
    code, out, err = run_main(capsys, *TINY, "--save", str(link), "--overwrite")
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == "real.npz"
    assert (target.stat().st_mode & 0o777) == 0o640
    assert not np.array_equal(checkpoint.load_params(target)["W"], network.init_params(5, np.float32)["W"])


def test_evaluate_with_save_is_refused(tmp_path, capsys):
    weights = checkpoint.save_params(tmp_path / "w.npz", network.init_params(0, np.float32))
    code, out, err = run_main(capsys, "--evaluate", str(weights), "--save", str(tmp_path / "y.npz"))
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert "--evaluate" in err and "--save" in err and out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]


@pytest.mark.parametrize("kind", ["encrypted", "method9", "method99", "lzma"])
def test_evaluate_on_an_archive_zipfile_cannot_read_is_one_error_line(tmp_path, capsys, kind):
    from test_checkpoint import hostile_npz

    path = hostile_npz(tmp_path / f"{kind}.npz", kind)
    code, out, err = run_main(capsys, "--evaluate", str(path))
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert str(path) in err and out == ""


@pytest.mark.parametrize("flags", [("--conv-activation", "relu", "--lr", "1e20"),
                                   ("--output", "softmax", "--conv-activation", "relu", "--lr", "1e300",
                                    "--dtype", "float64")])
def test_a_diverging_training_stops_with_one_error_line(tmp_path, flags):
    """From a terminal: numpy's overflow warnings must not come before the error line either."""
    run = run_cli(*TINY, *flags, "--save", str(tmp_path / "w.npz"), cwd=tmp_path)
    code, err = run.returncode, run.stderr
    assert code == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert re.search(r"training diverged at epoch 1 step \d+: the loss is (nan|inf)", err), err
    assert "lower --lr" in err
    assert list(tmp_path.iterdir()) == []  # nothing saved
