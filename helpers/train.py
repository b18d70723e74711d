"""The command line ``python -m helpers.train``: train Zhang's seed network or evaluate saved weights.

The pieces live in their own modules; this one reads options, checks them, loads the data and
calls them:

* :mod:`helpers.optim` -- the update rule (:func:`~helpers.optim.sgd_step`, Zhang eqs. 65-70)
  and the learning-rate schedule;
* :mod:`helpers.solver` -- the mini-batch loop (:func:`~helpers.solver.sgd_loop`), the seed
  network's :func:`~helpers.solver.train` and the evaluation helpers;
* :mod:`helpers.checkpoint` -- parameters in ``.npz`` files, atomic saves, no pickle.

Those names are importable from here as well (``train.sgd_step``, ``train.train``,
``train.save_params``, ...), as the notebooks use them. ``--help`` lists the options. With no
options it runs the book's recipe (:data:`RECIPE`), which wrote the shipped checkpoint
(:mod:`helpers.pretrained`); ``--preset class`` gives the short run that notebook 06 trains live
(:data:`DEFAULTS`)::

    python -m helpers.train --save weights/seed.npz
    python -m helpers.train --preset class --save weights/class.npz
    python -m helpers.train --evaluate weights/seed.npz --dataset mnist

Everything that can be checked before training is: the options, the learning rate in the
training dtype, and that ``--save`` names a file that can be written. A saved file records the
network variant (``--pooling``, ``--conv-activation``, ``--output``) and ``--evaluate`` uses it.
Bad input ends in one line ``error: ...`` and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__":
    # ``python -m helpers.train``: one BLAS thread unless the caller chose otherwise. The
    # network's matrices are small, so a second thread only adds overhead, and one thread gives
    # the same summation order -- hence the same digits -- as the notebooks and their tests.
    for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")

import numpy as np

from . import network
from .augment import RandomShiftRotate
from .checkpoint import VARIANT_KEYS, check_save_path, load_checkpoint, load_params, save_params
from .optim import check_int, check_lr, learning_rates, lr_schedule, sgd_step
from .solver import (confident_mistakes, confusion_matrix, digit_trace, evaluate, format_epoch, sgd_loop,
                     train)

__all__ = [
    "DEFAULTS",
    "RECIPE",
    "PRESETS",
    "sgd_step",
    "sgd_loop",
    "train",
    "evaluate",
    "confusion_matrix",
    "confident_mistakes",
    "digit_trace",
    "format_epoch",
    "learning_rates",
    "save_params",
    "load_params",
    "load_dataset",
    "validation_split",
    "main",
]

#: The validation split of the 4,000 MNIST-5k training digits (:func:`validation_split`): 80 per
#: class (800 digits) to choose settings with, drawn by ``helpers.data.stratified_split(y, 80, seed=1)``.
VAL_PER_CLASS, VAL_SEED = 80, 1

#: The setting of notebook 06, the short run it trains live in class (``python -m helpers.train
#: --preset class``): 3,200 training digits, the 800 validation digits scored after every epoch,
#: the 1,000 held-out digits once at the end; float64, so its printed trajectory holds on any CPU.
#: Batch size and alpha were chosen on the validation split by ``scripts/class_setting.py``.
DEFAULTS = {
    "dataset": "mnist-5k",
    "epochs": 5,
    "batch_size": 5,
    "lr": 2.5,
    "lr_decay": 1.0,
    "seed": 0,
    "dtype": "float64",
    "validation": True,
}

#: The book's recipe, the defaults of ``python -m helpers.train``, which wrote the shipped
#: checkpoint (:mod:`helpers.pretrained`; chosen by ``scripts/train_recipes.py``): all 4,000
#: training digits, float32; ``augment`` = (max shift in pixels, max rotation in degrees),
#: :class:`helpers.augment.RandomShiftRotate`.
RECIPE = {"dataset": "mnist-5k", "epochs": 60, "batch_size": 5, "lr": 2.5, "lr_decay": 1.0, "seed": 0,
          "dtype": "float32", "augment": (0.0, 0.0)}

#: Named settings of ``python -m helpers.train --preset NAME``.
PRESETS = {"recipe": RECIPE, "class": dict(DEFAULTS, augment=(0.0, 0.0))}

DATASETS = ("mnist-5k", "mnist", "fashion-mnist")


def load_dataset(name: str, *, dtype=np.float32, data_dir=None, download: bool = True,
                 split: str = "both"):
    """Images (floats = uint8 / 255) and labels for training and held-out evaluation.

    ``"mnist-5k"``: :func:`helpers.data.load_mnist_5k_split` (split seed 0): 4,000 training and
    1,000 held-out digits, offline. ``"mnist"`` / ``"fashion-mnist"``: the canonical 60,000
    training and 10,000 test images (found in ``data_dir`` or downloaded with a progress bar).
    ``split="both"`` returns ``(x_train, y_train, x_test, y_test)``; ``split="test"`` returns
    only ``(x_test, y_test)`` and for the canonical sets needs only the two ``t10k`` files.
    """
    from . import data

    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    if split not in ("both", "test"):
        raise ValueError(f"split must be 'both' or 'test', got {split!r}")
    dt = np.dtype(dtype)
    if name == "mnist-5k":
        x_train, y_train, x_test, y_test = data.load_mnist_5k_split(seed=0, dtype=dt)
        return (x_test, y_test) if split == "test" else (x_train, y_train, x_test, y_test)
    loader = data.load_mnist if name == "mnist" else data.load_fashion_mnist
    x_test, y_test = loader("test", data_dir=data_dir, download=download)
    x_test = x_test.astype(dt) / dt.type(255)
    if split == "test":
        return x_test, y_test
    x_train, y_train = loader("train", data_dir=data_dir, download=download)
    return x_train.astype(dt) / dt.type(255), y_train, x_test, y_test


def validation_split(x_train, y_train):
    """Split the training digits into a part to train on and a validation part to choose with.

    Inputs: ``x_train (N, 28, 28)`` and ``y_train (N,)``, e.g. the 4,000 MNIST-5k training digits.
    Returns ``(x_fit, y_fit, x_valid, y_valid)``: :data:`VAL_PER_CLASS` digits of every class go
    to the validation part (800 of 4,000), drawn by ``helpers.data.stratified_split(y_train,
    VAL_PER_CLASS, seed=VAL_SEED)`` -- the split of ``scripts/train_recipes.py`` and
    ``scripts/class_setting.py``. The held-out digits take no part.
    """
    from . import data

    fit, valid = data.stratified_split(y_train, VAL_PER_CLASS, seed=VAL_SEED)
    return x_train[fit], y_train[fit], x_train[valid], y_train[valid]


def _parser(preset: str = "recipe") -> argparse.ArgumentParser:
    d = PRESETS[preset]
    parser = argparse.ArgumentParser(
        prog="python -m helpers.train",
        description="Train Zhang's seed network (seed 001) with SGD, eqs. 65-70, or evaluate saved "
                    "weights. The defaults are the book's recipe, which wrote the shipped checkpoint "
                    "(helpers.pretrained); --preset class is the short run of notebooks/06_training.ipynb.",
        epilog="examples:\n"
               "  python -m helpers.train --save weights/seed.npz\n"
               "  python -m helpers.train --preset class --save weights/class.npz\n"
               "  python -m helpers.train --evaluate weights/seed.npz --dataset mnist "
               "--data-dir ../shared/datasets/mnist\n"
               "  python -m helpers.train --dataset mnist --epochs 3 --save weights/mnist.npz",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=tuple(PRESETS), default=preset,
                        help="defaults of the options below: recipe = the shipped checkpoint's, class = "
                             "the short run notebook 06 trains live (default %(default)s)")
    parser.add_argument("--dataset", choices=DATASETS, default=d["dataset"],
                        help="mnist-5k: 4,000 train / 1,000 held out, offline (default); mnist, "
                             "fashion-mnist: canonical 60,000 / 10,000 (downloaded if missing)")
    parser.add_argument("--epochs", type=int, default=d["epochs"], help="passes over the training set (default %(default)s)")
    parser.add_argument("--batch-size", type=int, default=d["batch_size"], help="images per SGD step (default %(default)s)")
    parser.add_argument("--lr", type=float, default=d["lr"], help="learning rate alpha of the first epoch (default %(default)s)")
    parser.add_argument("--lr-decay", type=float, default=d["lr_decay"],
                        help="alpha is multiplied by this after every epoch; 1 = constant (default %(default)s)")
    parser.add_argument("--augment", type=float, nargs=2, metavar=("PIXELS", "DEGREES"), default=d["augment"],
                        help="shift every training digit by up to PIXELS and rotate it by up to DEGREES, "
                             "drawn anew in every epoch; 0 0 = off (default %(default)s)")
    parser.add_argument("--validation", action=argparse.BooleanOptionalAction, default=d.get("validation", False),
                        help="mnist-5k: train on 3,200 of the 4,000 training digits, score the other 800 "
                             "after every epoch and the 1,000 held-out digits once at the end (default %(default)s)")
    parser.add_argument("--seed", type=int, default=d["seed"], help="seed of the initialisation and the shuffling (default %(default)s)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=d["dtype"], help="compute dtype (default %(default)s)")
    parser.add_argument("--pooling", choices=("avg", "max"), default=None,
                        help="pooling layers (default: Zhang's avg)")
    parser.add_argument("--conv-activation", choices=("sigmoid", "relu"), default=None,
                        help="activation of C1 and C2 (default: Zhang's sigmoid)")
    parser.add_argument("--output", choices=("sigmoid", "softmax"), default=None,
                        help="sigmoid + squared error (Zhang) or softmax + cross-entropy")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images (quick tries, tests)")
    parser.add_argument("--data-dir", default=None, help="folder with the canonical MNIST / Fashion-MNIST .gz files")
    parser.add_argument("--no-download", action="store_true", help="never download; fail if a file is missing")
    parser.add_argument("--save", metavar="PATH", default=None, help="write the trained parameters to this .npz file")
    parser.add_argument("--overwrite", action="store_true", help="allow --save to replace an existing file")
    parser.add_argument("--evaluate", metavar="PATH", default=None,
                        help="do not train: load parameters from this .npz and report the held-out/test accuracy")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _evaluation_variant(path, recorded, flags: dict) -> dict:
    """The variant to evaluate with: the one the file records; flags that contradict it are refused."""
    if recorded is None:  # a file from an older version: the flags, or Zhang's defaults
        return {key: flags[key] or network.DEFAULT_VARIANT[key] for key in VARIANT_KEYS}
    clash = [f"{_flag(key)} {flags[key]}" for key in VARIANT_KEYS if flags[key] not in (None, recorded[key])]
    if clash:
        trained = ", ".join(f"{_flag(key)} {recorded[key]}" for key in VARIANT_KEYS)
        raise ValueError(f"{path} was trained with {trained}; it cannot be evaluated with "
                         f"{', '.join(clash)} (leave these options out to use the recorded ones)")
    return dict(recorded)


def _check_before_training(parser, args, dtype) -> None:
    """Every option of a training run, checked before any data is loaded or any step taken."""
    if args.save is not None and Path(args.save).suffix != ".npz":
        parser.error(f"--save {args.save}: the file name must end with .npz")
    if args.limit is not None and args.limit < 1:
        parser.error(f"--limit must be >= 1, got {args.limit}")
    epochs = check_int(args.epochs, "--epochs", 1)
    check_int(args.batch_size, "--batch-size", 1)
    check_int(args.seed, "--seed", 0)
    rate = lr_schedule(args.lr, args.lr_decay)
    check_lr(rate(1), dtype, "--lr")
    if epochs > 1:  # the smallest rate, that of the last epoch, must not round to 0
        check_lr(rate(epochs), dtype, f"the learning rate of epoch {epochs} (--lr x --lr-decay^{epochs - 1})")
    if args.save is not None:  # exists, a folder, a device, read-only, a file as parent, a name too long
        check_save_path(args.save, overwrite=args.overwrite)


def _data(args, dtype, split: str = "both"):
    """:func:`load_dataset` for the options; an operating-system error says which folder failed."""
    try:
        return load_dataset(args.dataset, dtype=dtype, data_dir=args.data_dir, download=not args.no_download,
                            split=split)
    except OSError as exc:
        if exc.errno is None or not exc.strerror:  # already a sentence of its own
            raise
        folder = args.data_dir if args.data_dir is not None else "the default data folder"
        raise type(exc)(f"cannot use {folder} for {args.dataset}: {_message(exc)}") from exc


def _message(exc: BaseException) -> str:
    """One line for the user: an operating-system error names its file and what went wrong."""
    if isinstance(exc, OSError) and exc.errno is not None and exc.strerror:
        where = f"{exc.filename}: " if exc.filename is not None else ""
        return f"{where}{exc.strerror} ({type(exc).__name__})"
    return str(exc)


def _save_or_rescue(args, params, variant) -> Path:
    """Save the trained parameters to ``--save``; if that fails now (a file appeared meanwhile, the
    disk filled up), save them to a new file ``unsaved-XXXXXXXX.npz`` in the temporary folder (a
    short name, whatever the length of ``--save``'s) and say where."""
    try:
        return save_params(args.save, params, overwrite=args.overwrite, variant=variant)
    except OSError as exc:
        fd, rescue = tempfile.mkstemp(prefix="unsaved-", suffix=".npz")
        os.close(fd)
        try:
            save_params(rescue, params, overwrite=True, variant=variant)
        except OSError:
            Path(rescue).unlink(missing_ok=True)  # our own empty file
            raise exc from None
        raise type(exc)(f"{_message(exc)}; the trained parameters were saved to {rescue} instead") from exc


def main(argv=None) -> int:
    """Entry point of ``python -m helpers.train``; returns the exit status (0, or 2 on an error)."""
    first = argparse.ArgumentParser(prog="python -m helpers.train", add_help=False)
    first.add_argument("--preset", choices=tuple(PRESETS), default="recipe")
    parser = _parser(first.parse_known_args(argv)[0].preset)  # the preset's defaults, then the options
    args = parser.parse_args(argv)
    args.augment = tuple(args.augment)
    dtype = np.dtype(args.dtype)
    flags = {key: getattr(args, key) for key in VARIANT_KEYS}  # None: not given
    variant = {key: flags[key] or network.DEFAULT_VARIANT[key] for key in VARIANT_KEYS}
    held_out = "held-out" if args.dataset == "mnist-5k" else "test"
    try:
        if args.evaluate is not None:
            if args.save is not None:
                raise ValueError(f"--evaluate {args.evaluate} trains nothing, so there is nothing for "
                                 f"--save {args.save} to save; leave out --save (or --evaluate to train)")
            params, recorded = load_checkpoint(args.evaluate, dtype=dtype)
            variant = _evaluation_variant(args.evaluate, recorded, flags)
            x_test, y_test = _data(args, dtype, split="test")
            result = evaluate(params, x_test, y_test, **variant)
            correct = int(round(result["accuracy"] * len(y_test)))
            print(f"{args.dataset} {held_out} set: {len(y_test)} images, loss {result['loss']:.4f}, "
                  f"accuracy {100 * result['accuracy']:.2f}% ({correct} correct)")
            return 0
        _check_before_training(parser, args, dtype)
        x_train, y_train, x_held, y_held = _data(args, dtype)
        x_val, y_val, monitored = x_held, y_held, held_out
        if args.validation:  # score the validation digits every epoch, the held-out ones once at the end
            x_train, y_train, x_val, y_val = validation_split(x_train, y_train)
            monitored = "validation"
        if args.limit is not None:
            x_train, y_train = x_train[:args.limit], y_train[:args.limit]
        transform = RandomShiftRotate(*args.augment) if args.augment != (0.0, 0.0) else None
        print(f"{args.dataset}: {len(x_train)} training and {len(x_val)} {monitored} images; "
              f"epochs {args.epochs}, batch size {args.batch_size}, lr {args.lr:g}, lr decay {args.lr_decay:g}, "
              f"augment {args.augment[0]:g} px {args.augment[1]:g} deg, seed {args.seed}, {args.dtype}")
        params = network.init_params(args.seed, dtype=dtype)
        t0 = time.perf_counter()
        # a diverging run is reported in one line (FloatingPointError below), not after numpy's warnings
        with np.errstate(over="ignore", invalid="ignore"):
            params, history = train(params, x_train, y_train, x_val, y_val, epochs=args.epochs,
                                    batch_size=args.batch_size, lr=args.lr, lr_decay=args.lr_decay,
                                    seed=args.seed, variant=variant, progress=not args.no_progress,
                                    verbose=True, val_name=monitored, transform=transform)
        seconds = time.perf_counter() - t0
        best = int(np.argmax(history["val_acc"]))
        print(f"final {monitored} accuracy {100 * history['val_acc'][-1]:.1f}% "
              f"(best {100 * history['val_acc'][best]:.1f}% after epoch {history['epoch'][best]}); "
              f"trained in {seconds:.1f} s")
        if args.validation:
            once = evaluate(params, x_held, y_held, **variant)
            print(f"{held_out} accuracy, measured once: {100 * once['accuracy']:.1f}% of {len(y_held)} images")
        if args.save is not None:
            path = _save_or_rescue(args, params, variant)
            print(f"saved the six parameters to {path}")
    except (OSError, ValueError, TypeError) as exc:  # FileNotFoundError, ConnectionError, ... are OSErrors
        print(f"error: {_message(exc)}", file=sys.stderr)
        return 2
    except FloatingPointError as exc:  # the loss became NaN or infinite (helpers.solver.sgd_loop)
        print(f"error: {exc}; lower --lr", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
