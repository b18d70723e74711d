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

A change is kept only if its final validation accuracy beats the setting before it; among the
candidates of one step the best wins (the first listed on a tie). The chosen setting is then
trained on all 4,000 training digits -- exactly what ``python -m helpers.train`` does with no
options -- and measured once on the 1,000 held-out digits and, with ``--data-dir``, on the
canonical 10,000-digit MNIST test set. Everything is seeded and BLAS runs on one thread: on one
kind of CPU a rerun gives the same figures bit for bit, on others within a few tenths of a point
(``tests/test_pretrained.py`` reruns this script and checks that).

The result, a small JSON file that notebook 06 reads with
:func:`helpers.pretrained.recipe_results`, holds every run's validation accuracy per epoch, the
chosen recipe, the final accuracies, the timings and the load average they were measured under.
"""

from __future__ import annotations

import argparse
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

from helpers import augment, checkpoint, data, network, train  # noqa: E402

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


def run(setting, x_train, y_train, x_val, y_val, *, desc: str, progress: bool) -> dict:
    """Train Zhang's network with ``setting`` exactly as ``python -m helpers.train`` does."""
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


def choose(x_train, y_train, x_val, y_val, *, steps=STEPS, baseline=BASELINE, progress=True, log=print):
    """Greedy forward selection on the validation split; returns ``(steps_out, chosen_setting)``."""
    first = run(baseline, x_train, y_train, x_val, y_val, desc="baseline", progress=progress)
    first.pop("params")
    log(f"{'baseline':<14} {_describe(baseline):<44} val {100 * first['final_val_acc']:6.2f}%  ({first['seconds']} s)")
    out = [{"name": "baseline", "change": "16 epochs of batch 5 at a constant alpha 2.5 (notebook 06's class run then)",
            "runs": [first], "kept": 0}]
    current, current_acc = dict(baseline), first["final_val_acc"]
    for name, change, candidates in steps:
        runs = []
        for i, cand in enumerate(candidates):
            setting = dict(current, **cand)
            result = run(setting, x_train, y_train, x_val, y_val, desc=f"{name} {i + 1}/{len(candidates)}",
                         progress=progress)
            result.pop("params")
            runs.append(result)
            log(f"{name:<14} {_describe(setting):<44} val {100 * result['final_val_acc']:6.2f}%  ({result['seconds']} s)")
        best = max(range(len(runs)), key=lambda i: (runs[i]["final_val_acc"], -i))
        kept = best if runs[best]["final_val_acc"] > current_acc else None
        if kept is not None:
            current, current_acc = dict(current, **candidates[kept]), runs[kept]["final_val_acc"]
        out.append({"name": name, "change": change, "runs": runs, "kept": kept})
    return out, current


def _describe(setting) -> str:
    s, d = setting["augment"]
    aug = f", augment {s:g} px {d:g} deg" if (s, d) != (0, 0) else ""
    return f"{setting['epochs']} epochs, lr {setting['lr']:g} x {setting['lr_decay']:g}{aug}"


def final_run(recipe, x, y, x_held, y_held, x_test, y_test, log) -> dict:
    """The chosen ``recipe`` trained on all training digits, measured once on the held-out digits
    (and on the canonical test set when ``x_test`` is given)."""
    final = run(recipe, x, y, x_held, y_held, desc="final", progress=False)
    params = final.pop("params")
    log(f"{'final':<14} {_describe(recipe):<44} held-out {100 * final['final_val_acc']:6.2f}%  ({final['seconds']} s)")
    out = {"setting": _jsonable(recipe), "train_images": len(y), "held_out_images": len(y_held),
           "held_out_acc": final["final_val_acc"], "held_out_acc_per_epoch": final["val_acc"],
           "seconds": final["seconds"], "test_images": None, "test_acc": None}
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

    n_runs = 1 + sum(len(c) for _, _, c in STEPS) + (0 if args.skip_final else 1)
    bar = tqdm(total=n_runs, desc="recipe runs", unit="run", disable=args.no_progress)

    def log(line):
        bar.update(1)
        bar.write(line)

    t_start = time.perf_counter()
    steps, recipe = choose(x_fit, y_fit, x_val, y_val, progress=False, log=log)
    final_out = None
    if not args.skip_final:
        final_out = final_run(recipe, x, y, x_held, y_held, x_test, y_test, log)
    bar.close()
    cli_default = {key: train.RECIPE[key] for key in recipe}
    result = {
        "about": "What each change of the training recipe of Zhang's network bought on a validation "
                 "split, written by scripts/train_recipes.py (read with helpers.pretrained.recipe_results()).",
        "validation": {"train_images": len(y_fit), "val_images": len(y_val),
                       "split": f"helpers.data.stratified_split(y_train, {train.VAL_PER_CLASS}, "
                                f"seed={train.VAL_SEED}) of "
                                "the 4,000 training digits of helpers.data.load_mnist_5k_split(seed=0)"},
        "selection": "greedy: a change is kept only if its final validation accuracy beats the setting "
                     "before it; the best candidate of a step wins",
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
