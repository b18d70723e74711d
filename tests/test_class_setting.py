"""Notebook 06's class setting: the stored choices of ``scripts/class_setting.py`` and the switch.

The fast tests check that ``helpers/checkpoints/class_setting.json`` agrees with itself and with
``helpers.train.DEFAULTS``; the slow ones rerun one representative setting of the script (the
class run, and one variant at its chosen rate) and compare with the stored figures, and run
notebook 06 with ``TRAIN_LIVE = False`` (the shipped checkpoint instead of the live training).
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

from helpers import pretrained
from helpers import train as T

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO_ROOT / "notebooks" / "06_training.ipynb"


def _script():
    spec = importlib.util.spec_from_file_location("class_setting", REPO_ROOT / "scripts" / "class_setting.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _best(runs):
    scores = [-1.0 if r["final_val_acc"] is None else r["final_val_acc"] for r in runs]
    return scores.index(max(scores))


def test_stored_choice_is_the_class_preset():
    stored = pretrained.class_setting()
    assert stored["validation"]["train_images"] == 3200 and stored["validation"]["val_images"] == 800
    sweep = stored["sweep"]
    assert len(sweep["runs"]) == len(sweep["batch_sizes"]) * len(sweep["rates"])
    assert sweep["chosen"] == _best(sweep["runs"])
    chosen = sweep["runs"][sweep["chosen"]]["setting"]
    assert stored["chosen_is_default"]
    assert {k: chosen[k] for k in ("epochs", "batch_size", "lr", "lr_decay", "seed")} == {
        k: T.DEFAULTS[k] for k in ("epochs", "batch_size", "lr", "lr_decay", "seed")}
    assert T.DEFAULTS["dtype"] == stored["dtype"] == "float64" and T.DEFAULTS["validation"]
    for run in sweep["runs"]:
        if run["final_val_acc"] is not None:
            assert len(run["val_acc"]) == run["setting"]["epochs"] + 1 and run["final_val_acc"] == run["val_acc"][-1]
    # the stored history is the chosen run's
    history = pretrained.class_history()
    assert history["val_acc"] == sweep["runs"][sweep["chosen"]]["val_acc"]
    assert history["epoch"] == list(range(T.DEFAULTS["epochs"] + 1)) and math.isnan(history["train_loss"][0])
    assert len(history["step_loss"]) == T.DEFAULTS["epochs"] * math.ceil(3200 / T.DEFAULTS["batch_size"])


def test_plateau_run_is_deeplearntoolbox_setting():
    plateau = pretrained.class_setting()["plateau"]
    assert {k: plateau["setting"][k] for k in ("epochs", "batch_size", "lr", "lr_decay")} == {
        "epochs": 3, "batch_size": 50, "lr": 1.0, "lr_decay": 1.0}
    assert len(plateau["history"]["step_loss"]) == 3 * 3200 // 50 and len(plateau["history"]["val_acc"]) == 4


def test_each_variant_keeps_its_best_rate():
    variants = pretrained.class_setting()["variants"]
    assert set(variants["runs"]) == {"max pooling", "ReLU in C1 and C2", "softmax + cross-entropy"}
    for name, v in variants["runs"].items():
        assert [r["setting"]["lr"] for r in v["runs"]] == variants["rates"]
        assert v["chosen"] == _best(v["runs"]), name


@pytest.mark.slow
def test_script_reproduces_the_class_run_and_a_variant():
    """Rerun the class setting (5 epochs, about 10 s on an idle 2-core machine) and the ReLU variant
    at its chosen rate (2 epochs); 800 validation digits: within 6 digits of the stored figures."""
    cs = _script()
    stored = pretrained.class_setting()
    x, y, _, _ = T.load_dataset("mnist-5k", dtype=np.float64)
    data = T.validation_split(x, y)
    setting = stored["sweep"]["runs"][stored["sweep"]["chosen"]]["setting"]
    again = cs.run(setting, data, keep_steps=True)
    assert np.max(np.abs(np.array(again["val_acc"]) - stored["class_run"]["history"]["val_acc"])) <= 0.0075
    assert np.allclose(again["history"]["step_loss"], stored["class_run"]["history"]["step_loss"], atol=1e-3)
    relu = stored["variants"]["runs"]["ReLU in C1 and C2"]
    old = relu["runs"][relu["chosen"]]
    new = cs.run(old["setting"], data, variant=relu["variant"])
    assert np.max(np.abs(np.array(new["val_acc"]) - old["val_acc"])) <= 0.0075


@pytest.mark.slow
def test_notebook_runs_with_the_shipped_checkpoint(tmp_path):
    """TRAIN_LIVE = False: no training, and every cell below the switch still runs."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    switch = [c for c in nb.cells if c.cell_type == "code" and "TRAIN_LIVE = True" in c.source]
    assert len(switch) == 1
    switch[0].source = switch[0].source.replace("TRAIN_LIVE = True", "TRAIN_LIVE = False", 1)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError if any cell fails
    text = "\n".join(out.get("text", "") for c in nb.cells if c.cell_type == "code" for out in c.outputs)
    assert "loaded the shipped checkpoint" in text and "training: 100%" not in text
    shipped = 100 * pretrained.info("trained")["held_out_accuracy"]
    assert f"held-out accuracy {shipped:.1f}%" in text
    json.dumps(nb)  # outputs are plain data
