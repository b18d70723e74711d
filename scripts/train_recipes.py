"""Choose the book's training recipe on a validation split and store what each change bought.

    python scripts/train_recipes.py                                  # writes helpers/checkpoints/recipes.json
    python scripts/train_recipes.py --data-dir ../shared/datasets/mnist   # + canonical test accuracy

Zhang's network (:mod:`helpers.network`, sigmoid, average pooling, squared error) is trained with
the SGD of eqs. 65-70. The 4,000 MNIST-5k training digits are split once more
(:func:`helpers.train.validation_split`): 3,200 to train on and 800 to *choose* with.
The 1,000 held-out digits play no part in any choice.

Starting from notebook 06's class run, the changes a practitioner would try are tried one after
the other, each on top of the setting chosen so far (greedy forward selection):

1. ``baseline``     -- 16 epochs, batch 5, constant alpha = 2.5 (notebook 06's class run when the
   recipe was chosen);
2. ``more epochs``  -- 60 epochs;
3. ``augmentation`` -- every epoch, every training digit randomly shifted by up to s pixels and
   rotated by up to d degrees (:class:`helpers.augment.RandomShiftRotate`), three strengths;
4. ``schedule``     -- alpha multiplied by 0.95 after every epoch (2.5 falls to 0.12), last,
   as the fine-tuning of the chosen run: small late steps settle into a minimum that the
   noisier augmented gradients would otherwise keep jumping around.

Every setting is trained with each of the seeds :data:`SEEDS` (initial weights, shuffles and
augmentation draws). In each step the candidate with the best mean final validation accuracy (the
first listed on a tie) is compared *paired*, seed by seed, with the setting chosen so far, and kept
only if the mean of the paired differences exceeds twice their standard error
(:func:`helpers.selection.paired_gain`); otherwise the simpler setting stays. A choice that rests
on a margin inside the noise -- one digit of 800 that another CPU's rounding reverses -- is thus
never made. The chosen setting is then trained on all 4,000 training digits -- with its own seed
exactly what ``python -m helpers.train`` does with no options -- and measured once on the 1,000
held-out digits and, with ``--data-dir``, on the canonical 10,000-digit MNIST test set; the other
seeds give the spread a re-run may show. Everything is seeded and BLAS runs on one thread: on one
kind of CPU a rerun gives the same figures bit for bit, on others the same verdicts and figures
within the tolerances of ``tests/test_pretrained.py`` (derived from the stored spreads).

The result, a small JSON file that notebook 06 reads with
:func:`helpers.pretrained.recipe_results`, holds every run's validation accuracy per epoch, the
chosen recipe, the final accuracies, the timings and the load average they were measured under.
"""

from __future__ import annotations

import argparse
import json
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

from helpers import augment, checkpoint, data, network, selection, train  # noqa: E402

OUT = REPO_ROOT / "helpers" / "checkpoints" / "recipes.json"

#: the starting point: notebook 06's class run as it was when the recipe was chosen (16 epochs; the
#: notebook now trains 5, train.DEFAULTS), in float32 like the recipe
BASELINE = {"epochs": 16, "batch_size": 5, "lr": 2.5, "lr_decay": 1.0, "seed": 0, "augment": (0.0, 0.0)}

#: (name, what changes, candidate changes of the setting), tried in this order
STEPS = [
    ("more epochs", "60 epochs instead of 16", [{"epochs": 60}]),
    ("augmentation", "random shifts (up to s pixels) and rotations (up to d degrees) of every training "
                     "digit, drawn anew every epoch",
     [{"augment": (1.0, 5.0)}, {"augment": (2.0, 10.0)}, {"augment": (3.0, 15.0)}]),
    ("schedule", "alpha x 0.95 after every epoch: 2.5 falls to 0.12 by epoch 60", [{"lr_decay": 0.95}]),
]

#: the seeds every setting is trained with (initial weights, shuffles, augmentation draws); the
#: comparisons are paired: seed s of one setting against seed s of the other
SEEDS = (0, 1, 2)


def run(setting, x_train, y_train, x_val, y_val, *, desc: str, progress: bool) -> dict:
    """Train Zhang's network with ``setting`` (one seed) exactly as ``python -m helpers.train`` does."""
    shift, degrees = setting["augment"]
    transform = augment.RandomShiftRotate(shift, degrees) if (shift, degrees) != (0.0, 0.0) else None
    params = network.init_params(setting["seed"], dtype=np.float32)
    t0 = time.perf_counter()
    params, history = train.train(params, x_train, y_train, x_val, y_val, epochs=setting["epochs"],
                                  batch_size=setting["batch_size"], lr=setting["lr"],
                                  lr_decay=setting["lr_decay"], seed=setting["seed"],
                                  transform=transform, progress=progress, desc=desc)
    seconds = time.perf_counter() - t0
    return {"setting": _jsonable(setting), "val_acc": [float(a) for a in history["val_acc"]],
            "final_val_acc": float(history["val_acc"][-1]), "seconds": round(seconds, 1),
            "params": params}


def _jsonable(setting) -> dict:
    return {key: (list(val) if isinstance(val, tuple) else val) for key, val in setting.items()}


#: a process pool (``--workers`` > 1) that trains the seeds of one setting side by side, or None
POOL = None


def _run_job(job) -> dict:
    setting, data, progress = job
    result = run(setting, *data, desc=f"seed {setting['seed']}", progress=progress)
    result.pop("params")
    return result


def _seeded(setting, seeds, data, cache, horizon, *, progress) -> dict:
    """One setting trained once per seed; the stored entry (mean curve, per-seed curves, spread).

    The learning rate of epoch e, the shuffle and the augmentation draws of epoch e do not depend
    on the number of epochs, so a run of E epochs is the first E epochs of a longer run with the
    same setting and seed: every setting is trained for ``horizon`` epochs at most once per seed
    (``cache``) and shorter runs read its first epochs.
    """
    epochs = setting["epochs"]
    key = json.dumps(_jsonable({k: v for k, v in setting.items() if k not in ("epochs", "seed")}), sort_keys=True)
    todo = [seed for seed in seeds if (key, seed) not in cache or len(cache[key, seed]["val_acc"]) < epochs + 1]
    jobs = [(dict(setting, seed=seed, epochs=max(epochs, horizon)), data, progress) for seed in todo]
    done = list(POOL.map(_run_job, jobs)) if POOL is not None else [_run_job(job) for job in jobs]
    seconds = sum(result["seconds"] for result in done)
    cache.update({(key, seed): result for seed, result in zip(todo, done)})
    curves = [cache[key, seed]["val_acc"][:epochs + 1] for seed in seeds]
    curves_arr = np.array(curves)
    mean_curve = [float(v) for v in curves_arr.mean(axis=0)]
    finals = [c[-1] for c in curves]
    return {"setting": _jsonable({k: v for k, v in setting.items() if k != "seed"}), "seeds": list(seeds),
            "val_acc": mean_curve, "final_val_acc": mean_curve[-1],
            "final_val_acc_per_seed": finals, "spread": selection.spread(finals),
            "val_acc_per_seed": curves, "seconds": round(seconds, 1)}


def choose(x_train, y_train, x_val, y_val, *, steps=STEPS, baseline=BASELINE, seeds=SEEDS, progress=True,
           log=print):
    """Greedy forward selection on the validation split with the paired rule of
    :func:`helpers.selection.paired_gain`; returns ``(steps_out, chosen_setting)``.

    Every setting is trained with every seed of ``seeds``. In each step the candidate with the best
    mean final validation accuracy is compared, seed by seed, with the setting chosen so far: it is
    kept only if the mean of the paired differences exceeds twice their standard error; otherwise
    the setting before it (the simpler one) stays. The chosen setting's ``seed`` is the baseline's.
    """
    data = (x_train, y_train, x_val, y_val)
    horizon = max([baseline["epochs"]] + [c.get("epochs", 0) for _, _, cands in steps for c in cands])
    cache: dict = {}
    first = _seeded(baseline, seeds, data, cache, horizon, progress=progress)
    log(f"{'baseline':<14} {_describe(baseline):<44} val {_accs(first)}")
    out = [{"name": "baseline", "change": "16 epochs of batch 5 at a constant alpha 2.5 (notebook 06's class run then)",
            "runs": [first], "best": 0, "paired": None, "kept": 0}]
    current, current_run = dict(baseline), first
    for name, change, candidates in steps:
        runs = []
        for cand in candidates:
            setting = dict(current, **cand)
            runs.append(_seeded(setting, seeds, data, cache, horizon, progress=progress))
            log(f"{name:<14} {_describe(setting):<44} val {_accs(runs[-1])}")
        best = max(range(len(runs)), key=lambda i: (runs[i]["final_val_acc"], -i))
        mean, se, keep = selection.paired_gain(runs[best]["final_val_acc_per_seed"],
                                               current_run["final_val_acc_per_seed"])
        paired = {"candidate": best, "mean_gain": mean, "se": se, "threshold": selection.KEEP_FACTOR * se,
                  "differences": [a - b for a, b in zip(runs[best]["final_val_acc_per_seed"],
                                                        current_run["final_val_acc_per_seed"])],
                  "verdict": "kept" if keep else "not kept: the gain is within twice its standard error"}
        log(f"{'':<14} best candidate {best + 1}: gain {100 * mean:+.2f} +- {100 * se:.2f} points -> "
            f"{'kept' if keep else 'not kept'}")
        if keep:
            current, current_run = dict(current, **candidates[best]), runs[best]
        out.append({"name": name, "change": change, "runs": runs, "best": best, "paired": paired,
                    "kept": best if keep else None})
    return out, current


def _accs(entry) -> str:
    per_seed = " ".join(f"{100 * a:.2f}" for a in entry["final_val_acc_per_seed"])
    return f"mean {100 * entry['final_val_acc']:6.2f}% +- {100 * entry['spread']:.2f} (seeds: {per_seed})"


def _describe(setting) -> str:
    s, d = setting["augment"]
    aug = f", augment {s:g} px {d:g} deg" if (s, d) != (0, 0) else ""
    return f"{setting['epochs']} epochs, lr {setting['lr']:g} x {setting['lr_decay']:g}{aug}"


def final_run(recipe, x, y, x_held, y_held, x_test, y_test, log, *, spread: float) -> dict:
    """The chosen ``recipe`` trained on all training digits with its own seed (the shipped
    checkpoint's run), measured once on the held-out digits (and on the canonical test set when
    ``x_test`` is given). ``spread``: the chosen setting's spread over the seeds on the validation
    split, stored beside the figures as the spread a re-run may show (the final run is not repeated
    with every seed: that would double the script's time; 800 digits spread at least as much as
    1,000 or 10,000 do)."""
    final = run(recipe, x, y, x_held, y_held, desc="final", progress=False)
    params = final.pop("params")
    log(f"{'final':<14} {_describe(recipe):<44} held-out {100 * final['final_val_acc']:6.2f}%  ({final['seconds']} s)")
    out = {"setting": _jsonable(recipe), "train_images": len(y), "held_out_images": len(y_held),
           "held_out_acc": final["final_val_acc"], "held_out_acc_per_epoch": final["val_acc"],
           "seconds": final["seconds"], "test_images": None, "test_acc": None, "spread": spread,
           "spread_about": "standard deviation over the seeds of the chosen setting's final validation "
                           "accuracy (800 digits): the spread a re-run on another CPU may show"}
    if x_test is not None:
        out["test_images"] = len(y_test)
        out["test_acc"] = float(train.evaluate(params, x_test, y_test)["accuracy"])
        print(f"canonical MNIST test set: {100 * out['test_acc']:.2f}% of {len(y_test)} digits")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT, help="the JSON file to write (default: %(default)s)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder with the canonical MNIST t10k files: also measure the final recipe on them")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes that train the seeds of a setting side by side (default %(default)s)")
    parser.add_argument("--skip-final", action="store_true",
                        help="stop after the choice on the validation split: no final run on all 4,000 "
                             "digits (that run is `python -m helpers.train`, which tests/test_pretrained.py "
                             "re-runs on its own); the file's 'final' entry is then null")
    args = parser.parse_args(argv)
    if args.out.suffix != ".json":
        parser.error(f"--out {args.out}: the file name must end with .json")
    if args.skip_final and args.out.resolve() == OUT.resolve():
        parser.error("--skip-final writes a file without the final run: give --out another path "
                     "than the book's own recipes.json")

    x, y, x_held, y_held = data.load_mnist_5k_split(seed=0, dtype=np.float32)
    x_fit, y_fit, x_val, y_val = train.validation_split(x, y)
    x_test = y_test = None
    if args.data_dir is not None:
        x_test, y_test = train.load_dataset("mnist", data_dir=args.data_dir, download=False, split="test")

    from tqdm.auto import tqdm

    n_runs = 1 + sum(len(c) + 1 for _, _, c in STEPS) + (0 if args.skip_final else 1)
    bar = tqdm(total=n_runs, desc="recipe runs", unit="run", disable=args.no_progress)

    def log(line):
        bar.update(1)
        bar.write(line)

    global POOL
    if args.workers > 1:
        from concurrent.futures import ProcessPoolExecutor
        POOL = ProcessPoolExecutor(args.workers)
    t_start = time.perf_counter()
    steps, recipe = choose(x_fit, y_fit, x_val, y_val, progress=False, log=log)
    chosen_run = next(s["runs"][s["kept"]] for s in reversed(steps) if s["kept"] is not None)
    final_out = None
    if not args.skip_final:
        final_out = final_run(recipe, x, y, x_held, y_held, x_test, y_test, log, spread=chosen_run["spread"])
    bar.close()
    cli_default = {key: train.RECIPE[key] for key in recipe}
    result = {
        "about": "What each change of the training recipe of Zhang's network bought on a validation "
                 "split, written by scripts/train_recipes.py (read with helpers.pretrained.recipe_results()).",
        "validation": {"train_images": len(y_fit), "val_images": len(y_val),
                       "split": f"helpers.data.stratified_split(y_train, {train.VAL_PER_CLASS}, "
                                f"seed={train.VAL_SEED}) of "
                                "the 4,000 training digits of helpers.data.load_mnist_5k_split(seed=0)"},
        "selection": "greedy, paired over seeds (helpers.selection.paired_gain): every setting is trained "
                     f"with the seeds {list(SEEDS)}; in each step the candidate with the best mean final "
                     "validation accuracy is compared seed by seed with the setting chosen so far and kept "
                     "only if the mean of the paired differences exceeds twice their standard error; "
                     "otherwise the simpler setting stays",
        "seeds": list(SEEDS),
        "steps": steps,
        "recipe": _jsonable(recipe),
        "recipe_is_cli_default": _jsonable(cli_default) == _jsonable(recipe),
        "final": final_out,
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "machine": platform.machine(), "cpus": os.cpu_count(),
                        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                        "load_average": [round(v, 2) for v in os.getloadavg()],
                        "total_seconds": round(time.perf_counter() - t_start, 1)},
    }
    if not result["recipe_is_cli_default"]:
        print(f"warning: the chosen recipe {_describe(recipe)} is not train.RECIPE "
              f"({_describe(cli_default)}): update helpers/train.py and the shipped checkpoints", file=sys.stderr)
    checkpoint.save_json(args.out, result)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
