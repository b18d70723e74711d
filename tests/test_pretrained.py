"""The checkpoints that ship with the book (helpers.pretrained) and the recipe that made them.

The fast tests read the shipped files; the slow ones rerun ``python -m helpers.train`` with the
recorded command and ``scripts/train_recipes.py`` and compare with the stored figures (bit
equality holds only on one kind of CPU, so accuracies are compared within half a point).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from helpers import augment, network, pretrained
from helpers import train as T

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO_ROOT.parent / "shared" / "datasets" / "mnist"
HAVE_CANONICAL = (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file()
HALF_POINT = 0.005


@pytest.fixture(scope="module")
def held_out():
    return T.load_dataset("mnist-5k", split="test")


def _env():
    return dict(os.environ, PYTHONPATH=str(REPO_ROOT), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                MKL_NUM_THREADS="1")


# --------------------------------------------------------------------------------------------
# the shipped files and their loader
# --------------------------------------------------------------------------------------------
def test_three_states_load_and_improve_in_order(held_out):
    x, y = held_out
    accuracies, losses = [], []
    for state in pretrained.STATES:
        params = pretrained.load(state)
        assert network.check_params(params) == np.float32
        assert {k: v.shape for k, v in params.items()} == network.PARAM_SHAPES
        result = T.evaluate(params, x, y)
        # the recorded figure, up to a digit or two that another CPU's rounding may flip
        assert abs(result["accuracy"] - pretrained.info(state)["held_out_accuracy"]) <= 0.002
        accuracies.append(result["accuracy"])
        losses.append(result["loss"])
    # after one epoch the sigmoid outputs have been pushed down (the loss fell by more than half)
    # but the network still names almost one class for every digit: Zhang's network leaves its
    # plateau in the second and third epochs
    assert losses[0] > 2 * losses[1] > 2 * losses[2]
    assert accuracies[0] <= accuracies[1] < 0.2 and accuracies[2] >= 0.975
    assert_array_equal(pretrained.load("untrained")["k1"], network.init_params(0, np.float32)["k1"])
    assert pretrained.load("trained", dtype=np.float64)["W"].dtype == np.float64


def test_manifest_records_command_sha_and_accuracies():
    for state in ("one_epoch", "trained"):
        entry = pretrained.info(state)
        path = pretrained.checkpoint_path(state)
        assert path.parent == pretrained.CHECKPOINT_DIR and path.is_file()
        assert entry["sha256"] == pretrained.sha256(path) and len(entry["sha256"]) == 64
        assert entry["command"].startswith("python -m helpers.train ") and entry["held_out_images"] == 1000
    trained = pretrained.info("trained")
    if "test_accuracy" in trained:
        assert trained["test_images"] == 10000 and trained["test_accuracy"] >= 0.98
    with pytest.raises(ValueError, match="state must be one of"):
        pretrained.load("best")
    with pytest.raises(ValueError, match="not a file"):
        pretrained.checkpoint_path("untrained")


def _options(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", "helpers.train"]
    return words[3:]


def test_recorded_commands_are_the_cli_defaults():
    """``python -m helpers.train`` with no options reproduces the shipped checkpoint."""
    def parse(options):
        args = vars(T._parser().parse_args(options))
        return dict(args, augment=tuple(args["augment"]))

    defaults = parse(["--save", "x.npz"])
    trained = parse(_options(pretrained.info("trained")["command"]))
    assert dict(trained, save="x.npz") == defaults
    one = parse(_options(pretrained.info("one_epoch")["command"]))
    assert dict(one, save="x.npz", epochs=defaults["epochs"]) == defaults and one["epochs"] == 1
    assert (defaults["epochs"], defaults["lr_decay"], tuple(defaults["augment"])) == (
        T.RECIPE["epochs"], T.RECIPE["lr_decay"], T.RECIPE["augment"])


def test_one_epoch_run_is_the_first_epoch_of_the_full_run():
    """Why ``--epochs 1`` writes the state after epoch 1 of the recipe: same alpha, shuffle and
    augmentation draws in the first epoch."""
    x, y, xv, yv = T.load_dataset("mnist-5k")
    x, y = x[:60], y[:60]
    kwargs = dict(batch_size=5, lr=2.5, lr_decay=0.9, seed=0, progress=False)
    ckpts = []
    T.train(network.init_params(0, np.float32), x, y, xv[:20], yv[:20], epochs=3, checkpoints=ckpts,
            transform=augment.RandomShiftRotate(2, 10), **kwargs)
    one, _ = T.train(network.init_params(0, np.float32), x, y, xv[:20], yv[:20], epochs=1,
                     transform=augment.RandomShiftRotate(2, 10), **kwargs)
    for key in one:
        assert_array_equal(one[key], ckpts[1][key])


def _copy_checkpoints(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "checkpoints"
    shutil.copytree(pretrained.CHECKPOINT_DIR, folder)
    monkeypatch.setattr(pretrained, "CHECKPOINT_DIR", folder)
    monkeypatch.setattr(pretrained, "MANIFEST", folder / "manifest.json")
    monkeypatch.setattr(pretrained, "RESULTS", folder / "recipes.json", raising=False)
    monkeypatch.setattr(pretrained, "CLASS_SETTING", folder / "class_setting.json", raising=False)
    return folder


def test_a_changed_file_is_refused(tmp_path, monkeypatch):
    folder = _copy_checkpoints(tmp_path, monkeypatch)
    path = folder / pretrained.info("trained")["file"]
    params = pretrained.load("trained")
    params["W"][0, 0] += np.float32(0.5)
    path.unlink()
    T.save_params(path, params)
    with pytest.raises(ValueError, match="SHA-256"):
        pretrained.load("trained")
    path.unlink()
    with pytest.raises(FileNotFoundError, match="missing"):
        pretrained.load("trained")


def test_a_pickle_is_never_loaded(tmp_path, monkeypatch):
    """Even a file whose SHA-256 matches the manifest is read with allow_pickle=False."""
    folder = _copy_checkpoints(tmp_path, monkeypatch)
    path = folder / pretrained.info("one_epoch")["file"]
    arrays = dict(pretrained.load("one_epoch"))
    arrays["W"] = np.array([{"payload": 1}], dtype=object)
    path.unlink()
    np.savez(path, **arrays)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["states"]["one_epoch"]["sha256"] = pretrained.sha256(path)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="pickle"):
        pretrained.load("one_epoch")


def _edit_json(path: Path, edit) -> None:
    """Replace the JSON in ``path`` by ``edit(value)`` (a new value, or None if edited in place)."""
    value = json.loads(path.read_text())
    edited = edit(value)
    path.write_text(json.dumps(value if edited is None else edited))


def _damage(path: Path, edit) -> None:
    if isinstance(edit, bytes):
        path.write_bytes(edit)
    else:
        _edit_json(path, edit)


_STATES = lambda m: m["states"]  # noqa: E731


@pytest.mark.parametrize("name, damage, call, problem", [
    ("manifest.json", b'{"states": {', lambda: pretrained.info("trained"), "not valid JSON"),
    ("manifest.json", b"\xff\xfe{}", lambda: pretrained.info("trained"), "not valid JSON"),
    ("manifest.json", lambda m: [], lambda: pretrained.info("trained"), "a JSON object"),
    ("manifest.json", lambda m: {"about": m["about"]}, lambda: pretrained.info("trained"), "states"),
    ("manifest.json", lambda m: _STATES(m).pop("one_epoch") and None,
     lambda: pretrained.load("one_epoch"), "one_epoch"),
    ("manifest.json", lambda m: _STATES(m)["trained"].pop("sha256") and None,
     lambda: pretrained.load("trained"), "sha256"),
    ("manifest.json", lambda m: _STATES(m)["trained"].update(sha256="abc"),
     lambda: pretrained.load("trained"), "64 hex"),
    ("manifest.json", lambda m: _STATES(m)["trained"].update(file=None),
     lambda: pretrained.load("trained"), "file"),
    ("manifest.json", lambda m: _STATES(m)["trained"].update(file="../manifest.json"),
     lambda: pretrained.checkpoint_path("trained"), "file"),
    ("manifest.json", lambda m: _STATES(m)["untrained"].update(seed="zero"),
     lambda: pretrained.load("untrained"), "seed"),
    ("recipes.json", b"[1, 2", pretrained.recipe_results, "not valid JSON"),
    ("recipes.json", lambda r: [r], pretrained.recipe_results, "a JSON object"),
    ("class_setting.json", b"", pretrained.class_setting, "not valid JSON"),
    ("class_setting.json", lambda c: c["class_run"].pop("history") and None,
     pretrained.class_history, "history"),
    ("class_setting.json", lambda c: c["class_run"].update(history=[1, 2]),
     pretrained.class_history, "history"),
    ("class_setting.json", lambda c: c["class_run"]["history"].update(val_acc=0.9),
     pretrained.class_history, "val_acc"),
], ids=["manifest-not-json", "manifest-not-utf8", "manifest-list", "no-states", "no-state",
        "no-sha256", "bad-sha256", "file-null", "file-path", "seed-string", "recipes-not-json",
        "recipes-list", "class-empty", "no-history", "history-list", "history-value"])
def test_damaged_package_data_is_one_clear_error_naming_the_file(tmp_path, monkeypatch, name,
                                                                 damage, call, problem):
    """Issue 21.15: damaged package data gave bare JSONDecodeError, KeyError or TypeError."""
    folder = _copy_checkpoints(tmp_path, monkeypatch)
    _damage(folder / name, damage)
    with pytest.raises(ValueError) as info:
        call()
    message = str(info.value)
    assert str(folder / name) in message and problem in message, message
    assert "\n" not in message


def test_files_are_tracked_and_packaged():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["helpers"]
    shipped = sorted(p.relative_to(REPO_ROOT / "helpers").as_posix()
                     for p in pretrained.CHECKPOINT_DIR.iterdir() if p.suffix in (".npz", ".json"))
    assert {"checkpoints/manifest.json", "checkpoints/recipes.json", "checkpoints/zhang_one_epoch.npz",
            "checkpoints/zhang_trained.npz"} <= set(shipped)
    for name in shipped:
        assert any(Path(name).match(pattern) for pattern in patterns), name
    if shutil.which("git") and (REPO_ROOT / ".git").exists():
        listed = subprocess.run(["git", "ls-files", "helpers/checkpoints"], cwd=REPO_ROOT,
                                capture_output=True, text=True).stdout.split()
        ignored = subprocess.run(["git", "check-ignore", "--no-index", *(f"helpers/{n}" for n in shipped)],
                                 cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
        assert ignored == [], f"{ignored} are ignored by .gitignore"
        if listed:  # a git checkout with the files committed
            assert {f"helpers/{n}" for n in shipped} <= set(listed)


def test_recipe_results_agree_with_the_recipe_and_the_checkpoint():
    results = pretrained.recipe_results()
    assert results["recipe_is_cli_default"]
    assert {k: tuple(v) if isinstance(v, list) else v for k, v in results["recipe"].items()} == {
        k: T.RECIPE[k] for k in results["recipe"]}
    assert results["validation"] == {**results["validation"], "train_images": 3200, "val_images": 800}
    names = [step["name"] for step in results["steps"]]
    assert names == ["baseline", "more epochs", "augmentation", "schedule"]
    for step in results["steps"]:
        for run in step["runs"]:
            assert len(run["val_acc"]) == run["setting"]["epochs"] + 1
            assert run["final_val_acc"] == run["val_acc"][-1]
    # the final run of the script is the shipped checkpoint's run (same function, same seed, same
    # machine when both were stored): the same figures, so the checkpoint's rerun checks both
    final, shipped = results["final"], pretrained.info("trained")
    assert {k: tuple(v) if isinstance(v, list) else v for k, v in final["setting"].items()} == {
        k: T.RECIPE[k] for k in final["setting"]}
    assert final["held_out_acc"] == shipped["held_out_accuracy"]
    assert final["test_acc"] == shipped.get("test_accuracy")


def test_readme_reports_the_stored_figures():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    held = [100 * pretrained.info(state)["held_out_accuracy"] for state in pretrained.STATES]
    row = f"| trained | {held[2]:.1f}% |"
    if "test_accuracy" in pretrained.info("trained"):
        row += f" {100 * pretrained.info('trained')['test_accuracy']:.2f}% |"
    assert row in text
    assert f"| untrained | {held[0]:.1f}% |" in text and f"| one epoch | {held[1]:.1f}% |" in text
    for step in pretrained.recipe_results()["steps"]:
        for run in step["runs"]:
            assert f"| {100 * run['final_val_acc']:.2f}% |" in text, (step["name"], run["final_val_acc"])
    r = T.RECIPE
    assert (f"python -m helpers.train          # = --epochs {r['epochs']} --lr {r['lr']:g} --lr-decay "
            f"{r['lr_decay']:g} --augment {r['augment'][0]:g} {r['augment'][1]:g} --seed {r['seed']}") in text


# --------------------------------------------------------------------------------------------
# slow: rerun the recorded command and the results script
# --------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_recorded_command_reproduces_the_checkpoint(tmp_path, held_out):
    x, y = held_out
    for state in ("one_epoch", "trained"):
        entry = pretrained.info(state)
        options = _options(entry["command"])
        run = subprocess.run([sys.executable, "-m", "helpers.train", *options, "--no-progress"],
                             cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stderr
        params = T.load_params(tmp_path / entry["file"])
        acc = T.evaluate(params, x, y)["accuracy"]
        assert abs(acc - entry["held_out_accuracy"]) <= HALF_POINT, (state, acc)
        if state == "trained" and HAVE_CANONICAL and "test_accuracy" in entry:
            x_test, y_test = T.load_dataset("mnist", data_dir=SHARED_MNIST, download=False, split="test")
            test_acc = T.evaluate(params, x_test, y_test)["accuracy"]
            assert abs(test_acc - entry["test_accuracy"]) <= HALF_POINT


@pytest.mark.slow
def test_results_script_reproduces_the_stored_figures(tmp_path):
    """Re-run every validation run of scripts/train_recipes.py and compare with the stored figures.

    The script's last run (the chosen recipe on all 4,000 digits) is `python -m helpers.train`
    with no options: test_recorded_command_reproduces_the_checkpoint re-runs that command and
    compares it with the shipped checkpoint, whose figures
    test_recipe_results_agree_with_the_recipe_and_the_checkpoint ties to the stored "final" entry. So the script runs here with --skip-final, not twice.
    """
    stored = pretrained.recipe_results()
    out = tmp_path / "recipes.json"
    args = [sys.executable, str(REPO_ROOT / "scripts" / "train_recipes.py"), "--out", str(out),
            "--no-progress", "--skip-final"]
    # about 4 minutes on an idle 2-core machine; 20 minutes under a load average of 10
    run = subprocess.run(args, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=3600)
    assert run.returncode == 0, run.stderr
    again = json.loads(out.read_text())
    assert [s["name"] for s in again["steps"]] == [s["name"] for s in stored["steps"]]
    for new, old in zip(again["steps"], stored["steps"]):
        assert new["kept"] == old["kept"], new["name"]
        for new_run, old_run in zip(new["runs"], old["runs"], strict=True):
            assert new_run["setting"] == old_run["setting"]
            # 800 validation digits: within 6 digits of the stored figure
            assert abs(new_run["final_val_acc"] - old_run["final_val_acc"]) <= 0.0075, new["name"]
    assert again["recipe"] == stored["recipe"] and again["recipe_is_cli_default"]
    assert again["final"] is None


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_greedy_selection_keeps_only_what_helps():
    """The selection logic of scripts/train_recipes.py on a tiny problem (fast)."""
    tr = _script("train_recipes")
    x, y, _, _ = T.load_dataset("mnist-5k")
    steps = [("more epochs", "", [{"epochs": 2}]), ("augmentation", "", [{"augment": (1.0, 5.0)}, {"augment": (2.0, 10.0)}])]
    out, chosen = tr.choose(x[:200], y[:200], x[200:300], y[200:300], steps=steps,
                            baseline=dict(tr.BASELINE, epochs=1), progress=False, log=lambda line: None)
    assert [s["name"] for s in out] == ["baseline", "more epochs", "augmentation"]
    previous = out[0]["runs"][0]["final_val_acc"]
    for step in out[1:]:
        accs = [run["final_val_acc"] for run in step["runs"]]
        if max(accs) > previous:
            assert step["kept"] == accs.index(max(accs))
            previous = max(accs)
        else:
            assert step["kept"] is None
    assert out[-1]["runs"][0]["setting"]["augment"] == [1.0, 5.0]
    expected_epochs = 2 if out[1]["kept"] == 0 else 1
    assert chosen["epochs"] == expected_epochs


def test_results_script_never_writes_a_partial_file_over_the_books_own(capsys):
    recipes = _script("train_recipes")
    before = recipes.OUT.read_bytes()
    with pytest.raises(SystemExit) as exc:
        recipes.main(["--skip-final"])
    assert exc.value.code == 2
    assert "give --out another path" in capsys.readouterr().err
    assert recipes.OUT.read_bytes() == before
