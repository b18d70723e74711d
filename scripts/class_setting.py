"""Choose notebook 06's class setting on the validation split and store the results it prints.

    python scripts/class_setting.py          # writes helpers/checkpoints/class_setting.json

Zhang's network (:mod:`helpers.network`) is trained in float64 with the SGD of eqs. 65-70 on
3,200 of the 4,000 MNIST-5k training digits and scored on the other 800
(:func:`helpers.train.validation_split`, the split of ``scripts/train_recipes.py``). The 1,000
held-out digits take no part. Four things are stored, for notebook 06 to print instead of
training them live (it must run in under 30 s):

1. ``sweep`` -- batch size x learning rate for the class run (:data:`helpers.train.DEFAULTS`:
   its epochs, constant alpha), every cell trained with each seed of :data:`SEEDS`. The cell with
   the best mean validation accuracy after the last epoch replaces the class setting before it
   (``DEFAULTS``' cell, the "incumbent") only if it beats it *paired* (seed s against seed s) by
   more than twice the standard error of the differences (:func:`helpers.selection.paired_gain`);
   otherwise the incumbent stays. ``DEFAULTS`` must name the chosen cell.
2. ``class_run`` -- the full history of that cell's seed-0 run (per-epoch losses and accuracies, the loss of
   every mini-batch): the curves notebook 06 draws when it loads the shipped checkpoint instead
   of training (``TRAIN_LIVE = False``). With ``TRAIN_LIVE = True`` the notebook repeats it.
3. ``variants`` -- max pooling, ReLU, softmax + cross-entropy: each trained for 2 epochs at every
   rate of :data:`VARIANT_RATES` with every seed; each variant's rate is its best mean
   validation accuracy after 2 epochs, and whether it beats the runner-up by more than twice the
   standard error of the paired differences is stored beside it.
4. ``plateau`` -- DeepLearnToolbox's setting (:data:`PLATEAU`: batch 50, alpha 1) for 3 epochs,
   with the loss of every mini-batch: notebook 06, section 8.

Everything is seeded and BLAS runs on one thread. The spread over the seeds is stored beside every
figure: ``tests/test_class_setting.py`` (slow) reruns the class setting and one variant and allows
a re-run on another CPU to land within a tolerance derived from that spread and the 800 digits
(:func:`helpers.selection.rerun_tolerance`).
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

from helpers import checkpoint, network, selection, train  # noqa: E402

OUT = REPO_ROOT / "helpers" / "checkpoints" / "class_setting.json"

#: the grid of the class setting (batch 1 is left out: in numpy it costs about twice as long per
#: epoch, too slow for a live class run)
BATCH_SIZES = (5, 10, 50)
RATES = (0.5, 1.0, 2.5, 5.0)

#: the design variations of notebook 06, section 18, and the rates tried for each
VARIANTS = {"max pooling": {"pooling": "max"},
            "ReLU in C1 and C2": {"conv_activation": "relu"},
            "softmax + cross-entropy": {"output": "softmax"}}
VARIANT_RATES = (0.1, 0.3, 0.5, 1.0, 2.5, 5.0)   # each variant's choice must lie strictly inside
VARIANT_EPOCHS = 2

#: the seeds every setting is trained with; comparisons are paired (seed s against seed s)
SEEDS = (0, 1, 2)

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


#: a process pool (``--workers`` > 1) that trains the seeds of one setting side by side, or None
POOL = None


def _run_job(job) -> dict:
    setting, data, variant, keep_steps = job
    return run(setting, data, variant=variant, keep_steps=keep_steps)


def seeded(setting: dict, data, seeds, *, variant=None, keep_steps: bool = False) -> dict:
    """:func:`run` once per seed of ``seeds`` (``setting["seed"]`` is ignored): the stored entry.

    ``val_acc`` / ``final_val_acc`` are the means over the seeds (None if any seed diverged),
    ``val_acc_per_seed`` the curves, ``spread`` the standard deviation of the final accuracies and
    ``spread_per_epoch`` that of every epoch. With ``keep_steps`` the first seed's history is kept.
    """
    jobs = [(dict(setting, seed=seed), data, variant, keep_steps and k == 0) for k, seed in enumerate(seeds)]
    runs = list(POOL.map(_run_job, jobs)) if POOL is not None else [_run_job(job) for job in jobs]
    out = {"setting": {k: v for k, v in runs[0]["setting"].items() if k != "seed"}, "variant": dict(variant or {}),
           "seeds": list(seeds), "val_acc_per_seed": [r["val_acc"] for r in runs],
           "final_val_acc_per_seed": [r["final_val_acc"] for r in runs],
           "seconds": round(sum(r["seconds"] for r in runs), 1)}
    if any(r["final_val_acc"] is None for r in runs):
        out.update(val_acc=None, final_val_acc=None, spread=None, spread_per_epoch=None,
                   diverged=[r.get("diverged") for r in runs])
    else:
        curves = np.array(out["val_acc_per_seed"])
        out["val_acc"] = [float(v) for v in curves.mean(axis=0)]
        out["final_val_acc"] = out["val_acc"][-1]
        out["spread"] = selection.spread(curves[:, -1])
        out["spread_per_epoch"] = [selection.spread(col) for col in curves.T]
    if keep_steps and "history" in runs[0]:
        out["history"] = runs[0]["history"]
    return out


def best(runs) -> int:
    """Index of the run with the best (mean) final validation accuracy (the first on a tie)."""
    scores = [-1.0 if r["final_val_acc"] is None else r["final_val_acc"] for r in runs]
    return max(range(len(runs)), key=lambda i: (scores[i], -i))


def compare(new: dict, old: dict) -> dict:
    """The paired rule (:func:`helpers.selection.paired_gain`) of two stored entries with the same seeds."""
    if new["final_val_acc"] is None or old["final_val_acc"] is None:
        return {"mean_gain": None, "se": None, "keep": new["final_val_acc"] is not None}
    mean, se, keep = selection.paired_gain(new["final_val_acc_per_seed"], old["final_val_acc_per_seed"])
    return {"mean_gain": mean, "se": se, "keep": keep}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON file to write (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes that train the seeds of a setting side by side (default %(default)s)")
    args = parser.parse_args(argv)
    if args.out.suffix != ".json":
        parser.error(f"--out {args.out}: the file name must end with .json")

    from tqdm.auto import tqdm

    x, y, _, _ = train.load_dataset("mnist-5k", dtype=np.float64)
    data = train.validation_split(x, y)
    base = {key: train.DEFAULTS[key] for key in ("epochs", "lr_decay", "seed")}
    n_runs = len(BATCH_SIZES) * len(RATES) + len(VARIANTS) * len(VARIANT_RATES) + 1   # settings
    global POOL
    if args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor
        POOL = ProcessPoolExecutor(args.workers)
    bar = tqdm(total=n_runs, desc="class-setting runs", unit="run", disable=args.no_progress)
    t_start = time.perf_counter()

    def log(name, r):
        bar.update(1)
        acc = "diverged" if r["final_val_acc"] is None else f"{100 * r['final_val_acc']:6.2f}%"
        seeds = " ".join("--" if a is None else f"{100 * a:.2f}" for a in r.get("final_val_acc_per_seed", []))
        bar.write(f"{name:<26} B {r['setting']['batch_size']:>2} lr {r['setting']['lr']:<4g} val {acc} "
                  f"[{seeds}] ({r['seconds']} s)")

    sweep = []
    for batch_size in BATCH_SIZES:
        for lr in RATES:
            setting = dict(base, batch_size=batch_size, lr=lr)
            is_default = (batch_size, lr) == (train.DEFAULTS["batch_size"], train.DEFAULTS["lr"])
            sweep.append(seeded(setting, data, SEEDS, keep_steps=is_default))
            log("sweep", sweep[-1])
    incumbent = next(k for k, r in enumerate(sweep) if "history" in r)   # train.DEFAULTS' cell
    top = best(sweep)
    verdict = compare(sweep[top], sweep[incumbent])
    chosen = top if (top != incumbent and verdict["keep"]) else incumbent
    neighbours = {}
    for k, r in enumerate(sweep):   # the chosen cell against its grid neighbours, for the record
        i, j = BATCH_SIZES.index(r["setting"]["batch_size"]), RATES.index(r["setting"]["lr"])
        ci, cj = BATCH_SIZES.index(sweep[chosen]["setting"]["batch_size"]), RATES.index(sweep[chosen]["setting"]["lr"])
        if abs(i - ci) + abs(j - cj) == 1:
            neighbours[f"batch {r['setting']['batch_size']}, lr {r['setting']['lr']:g}"] = compare(sweep[chosen], r)
    class_run = sweep[incumbent]
    history = class_run.pop("history")
    bar.write(f"best mean: cell {top} ({sweep[top]['setting']['batch_size']}, {sweep[top]['setting']['lr']:g}); "
              f"against the class setting: {verdict}; chosen cell {chosen}")

    variants = {}
    for name, variant in VARIANTS.items():
        runs = []
        for lr in VARIANT_RATES:
            runs.append(seeded(dict(base, epochs=VARIANT_EPOCHS, batch_size=train.DEFAULTS["batch_size"], lr=lr),
                               data, SEEDS, variant=variant))
            log(name, runs[-1])
        pick = best(runs)
        order = sorted(range(len(runs)), key=lambda i: (-1.0 if runs[i]["final_val_acc"] is None
                                                        else -runs[i]["final_val_acc"], i))
        runner_up = order[1]
        variants[name] = {"variant": variant, "runs": runs, "chosen": pick,
                          "against_runner_up": dict(compare(runs[pick], runs[runner_up]), runner_up=runner_up)}
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
        "seeds": list(SEEDS),
        "sweep": {"batch_sizes": list(BATCH_SIZES), "rates": list(RATES), "runs": sweep, "chosen": chosen,
                  "best_mean": top, "incumbent": incumbent, "paired": verdict, "neighbours": neighbours,
                  "rule": f"every cell trained with the seeds {list(SEEDS)}; the cell with the best mean final "
                          "validation accuracy replaces the class setting before it (train.DEFAULTS: the "
                          "'incumbent' cell) only if its mean paired gain exceeds twice the standard error of "
                          "the paired differences (helpers.selection.paired_gain); otherwise the incumbent "
                          "stays. 'neighbours': the chosen cell against each grid neighbour, for the record"},
        "chosen_is_default": (picked["batch_size"], picked["lr"]) == (train.DEFAULTS["batch_size"], train.DEFAULTS["lr"]),
        "class_run": {"setting": dict(class_run["setting"], seed=train.DEFAULTS["seed"]), "history": history,
                      "about": "the first seed's run of the chosen cell (seed 0, what notebook 06 trains live); "
                               "the cell's other seeds are in sweep.runs"},
        "variants": {"epochs": VARIANT_EPOCHS, "rates": list(VARIANT_RATES), "runs": variants,
                     "rule": "each variant's rate: best mean validation accuracy over the seeds after its last "
                             "epoch; 'against_runner_up' says whether that rate beats the next best by more than "
                             "twice the standard error of the paired differences (if not, the two rates are "
                             "equally good within the noise)"},
        "plateau": {"setting": plateau["setting"], "history": plateau["history"],
                    "about": "DeepLearnToolbox's batch 50 and alpha 1 on the validation split (seed 0)"},
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "machine": platform.machine(), "cpus": os.cpu_count(),
                        "load_average": [round(v, 2) for v in os.getloadavg()],
                        "total_seconds": round(time.perf_counter() - t_start, 1)},
    }
    if not result["chosen_is_default"]:
        print(f"warning: the rule chose batch {picked['batch_size']}, lr {picked['lr']:g}, not train.DEFAULTS: "
              "update helpers/train.py and notebook 06", file=sys.stderr)
    checkpoint.save_json(args.out, result, compact=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
