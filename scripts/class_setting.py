"""Choose notebook 06's class setting on the validation split and store the results it prints.

    python scripts/class_setting.py          # writes helpers/checkpoints/class_setting.json

Zhang's network (:mod:`helpers.network`) is trained in float64 with the SGD of eqs. 65-70 on
3,200 of the 4,000 MNIST-5k training digits and scored on the other 800
(:func:`helpers.train.validation_split`, the split of ``scripts/train_recipes.py``). The 1,000
held-out digits take no part. Four things are stored, for notebook 06 to print instead of
training them live (it must run in under 30 s):

1. ``sweep`` -- batch size x learning rate for the class run (:data:`helpers.train.DEFAULTS`:
   its epochs, seed, constant alpha). The setting with the best validation accuracy after the
   last epoch is the class setting (the first listed on a tie); ``DEFAULTS`` must name it.
2. ``class_run`` -- the full history of that run (per-epoch losses and accuracies, the loss of
   every mini-batch): the curves notebook 06 draws when it loads the shipped checkpoint instead
   of training (``TRAIN_LIVE = False``). With ``TRAIN_LIVE = True`` the notebook repeats it.
3. ``variants`` -- max pooling, ReLU, softmax + cross-entropy: each trained for 2 epochs at every
   rate of :data:`VARIANT_RATES`; each variant's rate is its best validation accuracy after 2
   epochs.
4. ``plateau`` -- DeepLearnToolbox's setting (:data:`PLATEAU`: batch 50, alpha 1) for 3 epochs,
   with the loss of every mini-batch: notebook 06, section 8.

Everything is seeded and BLAS runs on one thread. ``tests/test_class_setting.py`` (slow) reruns
the class setting and one variant and checks the stored figures.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # the helpers of this checkout, even if not installed

from helpers import checkpoint, network, train  # noqa: E402

OUT = REPO_ROOT / "helpers" / "checkpoints" / "class_setting.json"

#: the grid of the class setting (batch 1 is left out: in numpy it costs about twice as long per
#: epoch, too slow for a live class run)
BATCH_SIZES = (5, 10, 50)
RATES = (0.5, 1.0, 2.5, 5.0)

#: the design variations of notebook 06, section 11, and the rates tried for each
VARIANTS = {"max pooling": {"pooling": "max"},
            "ReLU in C1 and C2": {"conv_activation": "relu"},
            "softmax + cross-entropy": {"output": "softmax"}}
VARIANT_RATES = (0.1, 0.3, 0.5, 1.0, 2.5)
VARIANT_EPOCHS = 2

#: DeepLearnToolbox's setting of Zhang's network (batch 50, alpha 1), for notebook 06's section 8
PLATEAU = {"epochs": 3, "batch_size": 50, "lr": 1.0}


def run(setting: dict, data, *, variant=None, keep_steps: bool = False) -> dict:
    """Train from ``network.init_params(seed, float64)`` with ``setting`` (epochs, batch_size, lr,
    lr_decay, seed) on ``data = (x_fit, y_fit, x_valid, y_valid)``; the validation curve.

    A run whose loss becomes NaN or infinite is recorded with ``final_val_acc`` None.
    """
    x_fit, y_fit, x_valid, y_valid = data
    t0 = time.perf_counter()
    out = {"setting": {key: setting[key] for key in ("epochs", "batch_size", "lr", "lr_decay", "seed")},
           "variant": dict(variant or {})}
    try:
        _, history = train.train(network.init_params(setting["seed"], dtype=np.float64), x_fit, y_fit,
                                 x_valid, y_valid, epochs=setting["epochs"], batch_size=setting["batch_size"],
                                 lr=setting["lr"], lr_decay=setting["lr_decay"], seed=setting["seed"],
                                 variant=variant, progress=False)
    except FloatingPointError as exc:
        out.update(val_acc=None, final_val_acc=None, diverged=str(exc))
    else:
        out.update(val_acc=[float(a) for a in history["val_acc"]], final_val_acc=float(history["val_acc"][-1]))
        if keep_steps:
            out["history"] = {key: [None if isinstance(v, float) and math.isnan(v) else v for v in history[key]]
                              for key in ("epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc")}
            out["history"]["step_loss"] = [round(v, 6) for v in history["step_loss"]]  # for the curves only
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def best(runs) -> int:
    """Index of the run with the best final validation accuracy (the first on a tie)."""
    scores = [-1.0 if r["final_val_acc"] is None else r["final_val_acc"] for r in runs]
    return max(range(len(runs)), key=lambda i: (scores[i], -i))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON file to write (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.out.suffix != ".json":
        parser.error(f"--out {args.out}: the file name must end with .json")

    from tqdm.auto import tqdm

    x, y, _, _ = train.load_dataset("mnist-5k", dtype=np.float64)
    data = train.validation_split(x, y)
    base = {key: train.DEFAULTS[key] for key in ("epochs", "lr_decay", "seed")}
    n_runs = len(BATCH_SIZES) * len(RATES) + len(VARIANTS) * len(VARIANT_RATES) + 1
    bar = tqdm(total=n_runs, desc="class-setting runs", unit="run", disable=args.no_progress)
    t_start = time.perf_counter()

    def log(name, r):
        bar.update(1)
        acc = "diverged" if r["final_val_acc"] is None else f"{100 * r['final_val_acc']:6.2f}%"
        bar.write(f"{name:<26} B {r['setting']['batch_size']:>2} lr {r['setting']['lr']:<4g} val {acc} ({r['seconds']} s)")

    sweep = []
    for batch_size in BATCH_SIZES:
        for lr in RATES:
            setting = dict(base, batch_size=batch_size, lr=lr)
            is_default = (batch_size, lr) == (train.DEFAULTS["batch_size"], train.DEFAULTS["lr"])
            sweep.append(run(setting, data, keep_steps=is_default))
            log("sweep", sweep[-1])
    chosen = best(sweep)
    class_run = next(r for r in sweep if "history" in r)
    history = class_run.pop("history")

    variants = {}
    for name, variant in VARIANTS.items():
        runs = []
        for lr in VARIANT_RATES:
            runs.append(run(dict(base, epochs=VARIANT_EPOCHS, batch_size=train.DEFAULTS["batch_size"], lr=lr),
                            data, variant=variant))
            log(name, runs[-1])
        variants[name] = {"variant": variant, "runs": runs, "chosen": best(runs)}
    plateau = run(dict(base, **PLATEAU), data, keep_steps=True)
    log("plateau", plateau)
    bar.close()

    picked = sweep[chosen]["setting"]
    result = {
        "about": "Notebook 06's class setting and variant rates, chosen on the validation split; written by "
                 "scripts/class_setting.py (read with helpers.pretrained.class_setting()).",
        "validation": {"train_images": len(data[1]), "val_images": len(data[3]),
                       "split": f"helpers.train.validation_split: helpers.data.stratified_split(y_train, "
                                f"{train.VAL_PER_CLASS}, seed={train.VAL_SEED}) of the 4,000 training digits"},
        "dtype": "float64",
        "sweep": {"batch_sizes": list(BATCH_SIZES), "rates": list(RATES), "runs": sweep, "chosen": chosen,
                  "rule": "best validation accuracy after the last epoch; the first listed on a tie"},
        "chosen_is_default": (picked["batch_size"], picked["lr"]) == (train.DEFAULTS["batch_size"], train.DEFAULTS["lr"]),
        "class_run": {"setting": class_run["setting"], "history": history},
        "variants": {"epochs": VARIANT_EPOCHS, "rates": list(VARIANT_RATES), "runs": variants,
                     "rule": "each variant's rate: best validation accuracy after its last epoch"},
        "plateau": {"setting": plateau["setting"], "history": plateau["history"],
                    "about": "DeepLearnToolbox's batch 50 and alpha 1 on the validation split"},
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "machine": platform.machine(), "cpus": os.cpu_count(),
                        "load_average": [round(v, 2) for v in os.getloadavg()],
                        "total_seconds": round(time.perf_counter() - t_start, 1)},
    }
    if not result["chosen_is_default"]:
        print(f"warning: the sweep chose batch {picked['batch_size']}, lr {picked['lr']:g}, not train.DEFAULTS: "
              "update helpers/train.py and notebook 06", file=sys.stderr)
    checkpoint.save_json(args.out, result, compact=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
