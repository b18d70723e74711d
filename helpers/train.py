"""Training with stochastic gradient descent (Zhang eqs. 65-70; seeds 001-003).

The pieces, each usable on its own:

* :func:`sgd_step` -- the update of eqs. 65-70, ``theta <- theta - alpha * Delta theta`` for
  every tensor of a parameter dict: the seed network's ``k1, b1, k2, b2, W, b`` or the tensors
  of the networks of seeds 002 and 003 (:mod:`helpers.maxpool_net`, :mod:`helpers.softmax_net`).
* :func:`sgd_loop` -- epochs of shuffled mini-batches (``numpy.random.default_rng(seed)``) for
  any network given as a function ``loss_and_grads(params, xb, yb) -> (C, grads)``, with an
  optional evaluation after every epoch (notebooks 07 and 08).
* :func:`train` -- that loop for Zhang's seed network (:mod:`helpers.network`), with a tqdm
  progress bar, the training and held-out loss and accuracy after every epoch and optional
  in-memory checkpoints (notebook 06).
* :func:`evaluate` and :func:`confusion_matrix` -- how well a set of parameters reads digits.
* :func:`save_params` / :func:`load_params` -- the six arrays in an ``.npz`` file, written and
  read without pickle.
* ``python -m helpers.train`` -- the same from a terminal (``--help`` lists the options). Its
  defaults are the main setting of notebook 06::

      python -m helpers.train --save weights/seed.npz
      python -m helpers.train --evaluate weights/seed.npz --dataset mnist

Images are floats in [0, 1] (uint8 pixels / 255), shape ``(N, 28, 28)``; labels are integers
0..9, shape ``(N,)``. The parameters' dtype is the compute dtype (float32 is faster than float64
and, for this network, reaches the same accuracy).
"""

from __future__ import annotations

import argparse
import math
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
from ._validate import as_float_array
from .augment import RandomShiftRotate

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
    "main",
]

#: The main setting of notebook 06, the short run it trains live in class
#: (``python -m helpers.train --preset class``).
DEFAULTS = {
    "dataset": "mnist-5k",
    "epochs": 16,
    "batch_size": 5,
    "lr": 2.5,
    "lr_decay": 1.0,
    "seed": 0,
    "dtype": "float32",
}

#: The book's recipe, the defaults of ``python -m helpers.train``, which wrote the shipped
#: checkpoint (:mod:`helpers.pretrained`; chosen by ``scripts/train_recipes.py``): ``augment`` =
#: (max shift in pixels, max rotation in degrees), :class:`helpers.augment.RandomShiftRotate`.
RECIPE = dict(DEFAULTS, epochs=60, lr_decay=0.95, augment=(2.0, 10.0))

#: Named settings of ``python -m helpers.train --preset NAME``.
PRESETS = {"recipe": RECIPE, "class": dict(DEFAULTS, augment=(0.0, 0.0))}

DATASETS = ("mnist-5k", "mnist", "fashion-mnist")


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------
def _check_number(value, name: str, *, positive: bool = True) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_data(x, y, x_name: str, y_name: str, dtype) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 28, 28)`` in the parameters' dtype and integer labels ``(N,)``."""
    x = as_float_array(x, x_name)
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise ValueError(f"{x_name} must have shape (N, 28, 28), got {x.shape}")
    if x.shape[0] == 0:
        raise ValueError(f"{x_name} is empty (N = 0)")
    y = np.asarray(y)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{y_name} must hold integer class labels 0..9, got dtype {y.dtype}")
    if y.shape != (x.shape[0],):
        raise ValueError(f"{y_name} must have shape ({x.shape[0]},) to match {x_name}, got {y.shape}")
    if y.min() < 0 or y.max() > 9:
        raise ValueError(f"{y_name} must hold labels 0..9, got range {y.min()}..{y.max()}")
    return x.astype(dtype, copy=False), y.astype(np.int64, copy=False)


def _float_arrays(params, name: str = "params") -> dict:
    """``params`` as a dict of finite float arrays (any keys, any shapes), or a clear error."""
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be a dict of float arrays, got {type(params).__name__}")
    return {key: as_float_array(val, f"{name}[{key!r}]") for key, val in params.items()}


def _copy_params(params) -> dict:
    return {key: params[key].copy() for key in network.PARAM_SHAPES}


# --------------------------------------------------------------------------------------------
# the update rule and the training loop
# --------------------------------------------------------------------------------------------
def sgd_step(params, grads, lr) -> dict:
    """One step of gradient descent, Zhang eqs. 65-70: ``theta <- theta - lr * Delta theta``.

    ``params`` is a dict of float arrays -- the six tensors ``k1 (6,5,5)``, ``b1 (6,)``,
    ``k2 (6,12,5,5)``, ``b2 (12,)``, ``W (10,192)``, ``b (10,)`` of the seed network, or the
    tensors of any other network (seeds 002 and 003: same rule, other names); ``grads`` has
    exactly its keys and shapes; ``lr`` is the learning rate alpha (> 0). Returns a **new** dict
    of new arrays, each in its parameter's dtype; neither input is modified, so a saved
    checkpoint can never change behind your back.
    """
    lr = _check_number(lr, "lr")
    params = _float_arrays(params)
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict with keys {list(params)}, got {type(grads).__name__}")
    missing = [k for k in params if k not in grads]
    extra = [k for k in grads if k not in params]
    if missing or extra:
        raise ValueError(f"grads must have exactly the keys {list(params)}; "
                         f"missing {missing}, unexpected {extra}")
    new = {}
    for key, value in params.items():
        g = as_float_array(grads[key], f"grads[{key!r}]")
        if g.shape != value.shape:
            raise ValueError(f"grads[{key!r}] must have shape {value.shape}, got {g.shape}")
        # np.asarray keeps a 0-d parameter an array (numpy arithmetic on it returns a scalar)
        new[key] = np.asarray(value - value.dtype.type(lr) * g.astype(value.dtype, copy=False), dtype=value.dtype)
    return new


def sgd_loop(loss_and_grads, params, x, y, *, epochs: int, batch_size: int, lr, lr_decay: float = 1.0,
             seed: int = 0, evaluate=None, callback=None, transform=None):
    """Mini-batch SGD for any network given as ``loss_and_grads(params, xb, yb) -> (C, grads)``.

    Every epoch draws a permutation of the N training examples from
    ``numpy.random.default_rng(seed)``, cuts it into batches of ``batch_size`` (the last batch
    holds the remainder) and applies :func:`sgd_step` with the gradient of each batch's mean cost
    C. Same inputs and seed -> the same result, bit for bit.

    Parameters
    ----------
    loss_and_grads : ``f(params, x_batch, y_batch) -> (C, grads)``, e.g.
        ``functools.partial(maxpool_net.loss_and_grads, cost="quadratic")``; ``grads`` has the
        keys and shapes of ``params``.
    params : dict of float arrays; not modified (the trained parameters are new arrays).
    x, y : training examples ``(N, ...)`` and their labels ``(N, ...)`` (any per-example shape
        that ``loss_and_grads`` accepts).
    epochs, batch_size : passes over the data and examples per step (integers >= 1).
    lr, lr_decay : the learning rate of epoch e is ``lr * lr_decay ** (e - 1)``
        (:func:`learning_rates`); the default ``lr_decay=1`` keeps it constant.
    seed : seeds the shuffling (integer >= 0).
    evaluate : optional ``f(params) -> dict`` with at least ``"loss"`` and ``"accuracy"``,
        called before training and after every epoch (e.g. on held-out examples).
    callback : optional ``f(epoch, params, history)``, called after every epoch (after
        ``evaluate``); it may add its own entries to ``history``.
    transform : optional augmentation ``f(x, rng) -> x`` (e.g. ``augment.RandomShiftRotate``),
        applied every epoch to the shuffled inputs with the loop's generator right after the
        permutation; per-example draws in order make that equal to a batch-by-batch transform.

    Returns
    -------
    ``(params, history)``; ``history`` has ``epoch`` (0..epochs), ``lr`` (per epoch, NaN at
    epoch 0), ``step_loss`` (the cost of every batch, in order) and, with ``evaluate``,
    ``val_loss`` and ``val_acc`` per epoch (index 0 = before training). Raises
    ``FloatingPointError`` as soon as a cost is NaN or infinite.
    """
    if not callable(loss_and_grads):
        raise TypeError(f"loss_and_grads must be callable, got {type(loss_and_grads).__name__}")
    for name, fn in (("evaluate", evaluate), ("callback", callback), ("transform", transform)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
    epochs = _check_int(epochs, "epochs", 1)
    batch_size = _check_int(batch_size, "batch_size", 1)
    seed = _check_int(seed, "seed", 0)
    rates = learning_rates(lr, epochs, lr_decay)
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch (N, ...), got shape {x.shape}")
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(f"y must have one entry per example: {len(x)}, got shape {y.shape}")
    params = _float_arrays(params)

    rng = np.random.default_rng(seed)
    params = {key: np.array(val, copy=True) for key, val in params.items()}
    history = {"epoch": [0], "lr": [math.nan], "step_loss": []}
    if evaluate is not None:
        first = evaluate(params)
        history["val_loss"], history["val_acc"] = [first["loss"]], [first["accuracy"]]
    n = len(x)
    for epoch, alpha in enumerate(rates, start=1):
        order = rng.permutation(n)
        x_epoch = None  # the shuffled, transformed inputs of this epoch (only with a transform)
        if transform is not None:
            x_epoch = transform(x[order], rng)
            if getattr(x_epoch, "shape", None) != x.shape:
                raise ValueError(f"transform must return an array of shape {x.shape}, "
                                 f"got {getattr(x_epoch, 'shape', type(x_epoch).__name__)}")
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            xb = x[idx] if x_epoch is None else x_epoch[start:start + batch_size]
            cost, grads = loss_and_grads(params, xb, y[idx])
            if not math.isfinite(cost):
                raise FloatingPointError(f"the loss became {cost} in epoch {epoch}: lr = {alpha:g} is too large")
            history["step_loss"].append(float(cost))
            params = sgd_step(params, grads, alpha)  # eqs. 65-70
        history["epoch"].append(epoch)
        history["lr"].append(alpha)
        if evaluate is not None:
            result = evaluate(params)
            history["val_loss"].append(result["loss"])
            history["val_acc"].append(result["accuracy"])
        if callback is not None:
            callback(epoch, params, history)
    return params, history


def learning_rates(lr, epochs: int, lr_decay: float = 1.0) -> list[float]:
    """The learning rate of each epoch: ``lr * lr_decay ** (e - 1)`` for e = 1..epochs.

    ``lr_decay = 1`` keeps alpha constant, as Zhang's eqs. 65-70 do; a value below 1 shrinks
    the steps geometrically, so late epochs fine-tune instead of jumping around the minimum.
    """
    lr = _check_number(lr, "lr")
    epochs = _check_int(epochs, "epochs", 1)
    lr_decay = _check_number(lr_decay, "lr_decay")
    if lr_decay > 1:
        raise ValueError(f"lr_decay must be in (0, 1], got {lr_decay}")
    return [lr * lr_decay ** e for e in range(epochs)]


def evaluate(params, x, y, *, batch_size: int = 500, **variant) -> dict:
    """Loss and accuracy of ``params`` on images ``x (N, 28, 28)`` with labels ``y (N,)``.

    Returns a dict: ``loss`` (mean over the N images of Zhang's eq. 13, or cross-entropy for
    ``output="softmax"``), ``accuracy`` (fraction in [0, 1]), ``y_pred`` (N,) the predicted
    classes (argmax of y_hat) and ``y_hat`` (N, 10) the network's outputs. ``variant`` is passed
    to :func:`helpers.network.forward` (``pooling``, ``conv_activation``, ``output``).
    """
    dtype = network.check_params(params)
    x, y = _check_data(x, y, "x", "y", dtype)
    batch_size = _check_int(batch_size, "batch_size", 1)
    outputs, total = [], 0.0
    for start in range(0, len(x), batch_size):
        cache = network.forward(params, x[start:start + batch_size], **variant)
        yb = y[start:start + batch_size]
        total += network.loss(cache, yb) * len(yb)
        outputs.append(cache["y_hat"])
    y_hat = np.concatenate(outputs)
    y_pred = y_hat.argmax(axis=1)
    return {"loss": total / len(x), "accuracy": float(np.mean(y_pred == y)), "y_pred": y_pred,
            "y_hat": y_hat}


def confusion_matrix(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """Counts ``cm[i, j]`` of images of true class i predicted as class j; int64 ``(n, n)``.

    The diagonal holds the correct answers, so ``trace(cm) / cm.sum()`` is the accuracy.
    """
    n_classes = _check_int(n_classes, "n_classes", 1)
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    for name, arr in (("y_true", y_true), ("y_pred", y_pred)):
        if arr.dtype.kind not in "iu":
            raise TypeError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
        if arr.ndim != 1:
            raise ValueError(f"{name} must have shape (N,), got {arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
            raise ValueError(f"{name} must hold labels 0..{n_classes - 1}, got range {arr.min()}..{arr.max()}")
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the same shape")
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def confident_mistakes(y_hat, y_true, n: int = 12) -> np.ndarray:
    """Indices of the ``n`` wrong answers given with the highest output, most confident first.

    ``y_hat`` (N, 10) are the network's outputs, ``y_true`` (N,) the labels. An image counts as
    a mistake when ``argmax y_hat != y_true``; its confidence is the winning output
    ``max y_hat`` (a sigmoid output in (0, 1), not a probability: the ten need not sum to 1).
    Ties keep the lower index first. Returns int64 indices, at most ``n`` of them.
    """
    y_hat = as_float_array(y_hat, "y_hat")
    if y_hat.ndim != 2 or y_hat.shape[1] != 10:
        raise ValueError(f"y_hat must have shape (N, 10), got {y_hat.shape}")
    y_true = np.asarray(y_true)
    if y_true.dtype.kind not in "iu" or y_true.shape != (y_hat.shape[0],):
        raise ValueError(f"y_true must be integer labels of shape ({y_hat.shape[0]},), got {y_true.dtype} {y_true.shape}")
    n = _check_int(n, "n", 0)
    wrong = np.flatnonzero(y_hat.argmax(axis=1) != y_true)
    order = np.argsort(-y_hat[wrong].max(axis=1), kind="stable")
    return wrong[order][:n].astype(np.int64)


def digit_trace(checkpoints, x, label, **variant) -> dict:
    """Follow one digit through a list of checkpoints (e.g. one per epoch from :func:`train`).

    For every checkpoint c: a forward and a backward pass of the single image ``x`` (28, 28)
    with class ``label``. Returns a dict of arrays stacked over the C checkpoints: ``loss``
    (C,) (eq. 13), ``y_hat`` (C, 10), ``predicted`` (C,), ``k1`` (C, 6, 5, 5), ``dC1_sigma``
    (C, 6, 24, 24) and ``dC2_sigma`` (C, 12, 8, 8), the error maps before the sigmoid
    (Zhang eqs. 57 and 37).
    """
    if not isinstance(checkpoints, (list, tuple)) or not checkpoints:
        raise TypeError("checkpoints must be a non-empty list of parameter dicts")
    label = _check_int(label, "label", 0)
    if label > 9:
        raise ValueError(f"label must be in 0..9, got {label}")
    rows = {key: [] for key in ("loss", "y_hat", "k1", "dC1_sigma", "dC2_sigma")}
    for i, params in enumerate(checkpoints):
        dtype = network.check_params(params)
        image = as_float_array(x, "x")
        if image.shape != (28, 28):
            raise ValueError(f"x must be one image of shape (28, 28), got {image.shape}")
        cache = network.forward(params, image.astype(dtype, copy=False), **variant)
        _, errors = network.backward_with_errors(params, cache, label)
        rows["loss"].append(network.loss(cache, label))
        rows["y_hat"].append(cache["y_hat"])
        rows["k1"].append(params["k1"])
        rows["dC1_sigma"].append(errors["dC1_sigma"])
        rows["dC2_sigma"].append(errors["dC2_sigma"])
    trace = {key: np.array(val) for key, val in rows.items()}
    trace["predicted"] = trace["y_hat"].argmax(axis=1)
    return trace


def train(params, x_train, y_train, x_val, y_val, *, epochs: int, batch_size: int, lr: float,
          seed: int = 0, lr_decay: float = 1.0, variant: dict | None = None,
          checkpoints: list | None = None, callback=None, progress: bool = True,
          verbose: bool = False, desc: str = "training", val_name: str = "held-out",
          transform=None):
    """Train the seed network with mini-batch SGD (Zhang eqs. 65-70); return ``(params, history)``.

    The specialised entry point for :mod:`helpers.network`: :func:`sgd_loop` with the seed
    network's ``loss_and_grads``, plus the training-set loss and accuracy of every epoch, a
    progress bar, optional printing, checkpoints and a callback.

    Parameters
    ----------
    params : dict of the six tensors (see :func:`sgd_step`); not modified. Its dtype is the
        compute dtype (``x_*`` are cast to it).
    x_train, y_train : images (N, 28, 28) in [0, 1] and integer labels (N,).
    x_val, y_val : held-out images (M, 28, 28) and labels (M,), evaluated after every epoch.
    epochs, batch_size : the number of passes over the data and the images per step. The last
        batch of an epoch holds the remainder (N is not rounded down).
    lr, lr_decay : the learning rate alpha of epoch e is ``lr * lr_decay ** (e - 1)``
        (:func:`learning_rates`); ``lr_decay=1`` is Zhang's constant alpha. The gradient of a
        batch is that of the mean loss over its images (:func:`helpers.network.backward`).
    seed : seeds ``numpy.random.default_rng``, which draws the order of the training images in
        every epoch. Same inputs and seed -> bit-identical results.
    variant : keyword options for :func:`helpers.network.forward`, e.g. ``{"pooling": "max"}``.
    checkpoints : a list to collect copies of the parameters in memory: ``checkpoints[0]`` is
        the initial state and ``checkpoints[e]`` the state after epoch e.
    callback : called as ``callback(epoch, params, history)`` after every epoch.
    progress : show a tqdm progress bar (``tqdm.auto``: a widget in Jupyter, text elsewhere).
    verbose : print one line per epoch (loss and accuracy on both sets); ``val_name`` names the
        second set in that line ("held-out", or "test" for the canonical test set).
    desc : the progress bar's label.
    transform : optional augmentation ``f(x_batch, rng) -> x_batch`` of the training images
        (:func:`sgd_loop`), e.g. ``helpers.augment.RandomShiftRotate(2, 10)``.

    Returns
    -------
    params : the trained parameters (new arrays).
    history : dict of lists, one entry per epoch e = 0..epochs (0 = before training):
        ``epoch``, ``train_loss`` and ``train_acc`` (over the training set's batches while the
        epoch ran, so they lag the parameters slightly; NaN at epoch 0), ``val_loss`` and
        ``val_acc`` (of the parameters at the end of the epoch), ``lr`` (NaN at epoch 0); plus
        ``step_loss``, the loss of every mini-batch in order (``epochs * ceil(N / batch_size)``
        values).
    """
    dtype = network.check_params(params)
    x_train, y_train = _check_data(x_train, y_train, "x_train", "y_train", dtype)
    x_val, y_val = _check_data(x_val, y_val, "x_val", "y_val", dtype)
    epochs = _check_int(epochs, "epochs", 1)
    batch_size = _check_int(batch_size, "batch_size", 1)
    seed = _check_int(seed, "seed", 0)
    learning_rates(lr, epochs, lr_decay)  # check lr and lr_decay before any work
    variant = dict(variant or {})
    network._check_variant(variant)
    if checkpoints is not None and not isinstance(checkpoints, list):
        raise TypeError(f"checkpoints must be a list (or None), got {type(checkpoints).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")

    n = len(x_train)
    steps = math.ceil(n / batch_size)
    params = _copy_params(params)
    if checkpoints is not None:
        checkpoints.append(_copy_params(params))
    running = {"loss": 0.0, "correct": 0}  # the current epoch's training loss and hits
    bar = None

    def loss_and_grads(p, xb, yb):  # the seed network's cost and gradients (Zhang eqs. 13, 39-64)
        cache = network.forward(p, xb, **variant)
        batch_loss = network.loss(cache, yb)
        grads = network.backward(p, cache, yb)
        running["loss"] += batch_loss * len(yb)
        running["correct"] += int(np.sum(cache["y_hat"].argmax(axis=1) == yb))
        if bar is not None:
            bar.update(1)
        return batch_loss, grads

    def end_of_epoch(epoch, p, hist):
        hist.setdefault("train_loss", [math.nan]).append(running["loss"] / n)
        hist.setdefault("train_acc", [math.nan]).append(running["correct"] / n)
        running.update(loss=0.0, correct=0)
        if bar is not None:
            bar.set_postfix(val_acc=f"{100 * hist['val_acc'][-1]:.1f}%", refresh=False)
        if verbose:
            line = format_epoch(hist, -1, epochs=epochs, held_out=val_name)
            if bar is not None:
                bar.write(line)
            else:
                print(line)
        if checkpoints is not None:
            checkpoints.append(_copy_params(p))
        if callback is not None:
            callback(epoch, p, hist)

    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * steps, desc=desc, unit="batch", leave=True)
    try:
        params, hist = sgd_loop(loss_and_grads, params, x_train, y_train, epochs=epochs,
                                batch_size=batch_size, lr=lr, lr_decay=lr_decay, seed=seed,
                                evaluate=lambda p: evaluate(p, x_val, y_val, **variant),
                                callback=end_of_epoch, transform=transform)
    finally:
        if bar is not None:
            bar.close()
    history = {key: hist[key] for key in ("epoch", "train_loss", "train_acc", "val_loss", "val_acc",
                                          "lr", "step_loss")}
    return params, history


def format_epoch(history, index: int = -1, *, epochs: int | None = None, held_out: str = "held-out") -> str:
    """One line of ``history`` (default: the last epoch), rounded for stable printing.

    ``epochs`` is the planned number of epochs shown after the slash (default: the last epoch
    in ``history``).
    """
    e = history["epoch"][index]
    epochs = history["epoch"][-1] if epochs is None else epochs
    width = len(str(epochs))
    return (f"epoch {e:>{width}}/{epochs}  lr {history['lr'][index]:.3f}  "
            f"train loss {history['train_loss'][index]:.4f}  acc {100 * history['train_acc'][index]:5.1f}%  |  "
            f"{held_out} loss {history['val_loss'][index]:.4f}  acc {100 * history['val_acc'][index]:5.1f}%")


# --------------------------------------------------------------------------------------------
# saving and loading
# --------------------------------------------------------------------------------------------
def save_params(path, params, *, overwrite: bool = False) -> Path:
    """Write the six parameter arrays to the ``.npz`` file ``path`` (no pickle inside).

    Refuses (``FileExistsError``) to replace an existing file unless ``overwrite=True``; the
    file is created exclusively, so even a file that appears meanwhile is not clobbered. With
    ``overwrite`` the new file is written beside the old one and then moved over it, so an
    interrupted save never leaves half a file. Missing parent folders are created. Returns the
    path written.
    """
    network.check_params(params)
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path must end with .npz, got {str(path)!r}")
    if path.is_dir():
        raise IsADirectoryError(f"path {str(path)!r} is a folder; give a file name ending with .npz")
    arrays = {key: np.ascontiguousarray(params[key]) for key in network.PARAM_SHAPES}
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite:
        try:
            with open(path, "xb") as fh:
                np.savez(fh, **arrays)
        except FileExistsError:
            raise FileExistsError(f"{str(path)!r} exists; pass overwrite=True (CLI: --overwrite) "
                                  "to replace it, or choose another name") from None
        return path
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # our own temporary file only
        raise
    return path


def load_params(path, dtype=None) -> dict:
    """Read parameters written by :func:`save_params` (``np.load(..., allow_pickle=False)``).

    The file must hold exactly the six arrays ``k1, b1, k2, b2, W, b`` with the shapes of
    :data:`helpers.network.PARAM_SHAPES`, finite floats of one dtype
    (:func:`helpers.network.check_params`); otherwise ``ValueError``/``TypeError``. ``dtype``
    converts the result (default: keep the stored dtype).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no parameter file at {str(path)!r}; train one with "
                                "python -m helpers.train --save PATH")
    try:
        with np.load(path, allow_pickle=False) as archive:
            if not hasattr(archive, "files"):
                raise ValueError(f"{str(path)!r} is a single .npy array, not an .npz archive of six parameters")
            params = {key: archive[key] for key in archive.files}
    except (ValueError, OSError) as exc:
        if "pickle" in str(exc).lower():
            raise ValueError(f"{str(path)!r} holds pickled objects; only plain arrays are accepted") from exc
        raise ValueError(f"{str(path)!r} is not a readable .npz parameter file: {exc}") from exc
    network.check_params(params)
    if dtype is not None:
        params = {key: val.astype(dtype) for key, val in params.items()}
        network.check_params(params)
    return {key: params[key] for key in network.PARAM_SHAPES}


# --------------------------------------------------------------------------------------------
# data sets and the command line
# --------------------------------------------------------------------------------------------
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
    parser.add_argument("--seed", type=int, default=d["seed"], help="seed of the initialisation and the shuffling (default %(default)s)")
    parser.add_argument("--dtype", choices=("float32", "float64"), default=d["dtype"], help="compute dtype (default %(default)s)")
    parser.add_argument("--pooling", choices=("avg", "max"), default="avg", help="pooling layers (default: Zhang's avg)")
    parser.add_argument("--conv-activation", choices=("sigmoid", "relu"), default="sigmoid",
                        help="activation of C1 and C2 (default: Zhang's sigmoid)")
    parser.add_argument("--output", choices=("sigmoid", "softmax"), default="sigmoid",
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


def main(argv=None) -> int:
    """Entry point of ``python -m helpers.train``; returns the exit status."""
    first = argparse.ArgumentParser(prog="python -m helpers.train", add_help=False)
    first.add_argument("--preset", choices=tuple(PRESETS), default="recipe")
    parser = _parser(first.parse_known_args(argv)[0].preset)  # the preset's defaults, then the options
    args = parser.parse_args(argv)
    args.augment = tuple(args.augment)
    dtype = np.dtype(args.dtype)
    variant = {"pooling": args.pooling, "conv_activation": args.conv_activation, "output": args.output}
    held_out = "held-out" if args.dataset == "mnist-5k" else "test"
    try:
        if args.evaluate is not None:
            params = load_params(args.evaluate, dtype=dtype)
            x_test, y_test = load_dataset(args.dataset, dtype=dtype, data_dir=args.data_dir,
                                          download=not args.no_download, split="test")
            result = evaluate(params, x_test, y_test, **variant)
            correct = int(round(result["accuracy"] * len(y_test)))
            print(f"{args.dataset} {held_out} set: {len(y_test)} images, loss {result['loss']:.4f}, "
                  f"accuracy {100 * result['accuracy']:.2f}% ({correct} correct)")
            return 0
        if args.save is not None:  # fail before training, not after
            save_path = Path(args.save)
            if save_path.suffix != ".npz":
                parser.error(f"--save {args.save}: the file name must end with .npz")
            if save_path.exists() and not args.overwrite:
                parser.error(f"--save {args.save}: the file exists; add --overwrite to replace it")
        x_train, y_train, x_val, y_val = load_dataset(args.dataset, dtype=dtype, data_dir=args.data_dir,
                                                      download=not args.no_download)
        if args.limit is not None:
            if args.limit < 1:
                parser.error(f"--limit must be >= 1, got {args.limit}")
            x_train, y_train = x_train[:args.limit], y_train[:args.limit]
        transform = RandomShiftRotate(*args.augment) if args.augment != (0.0, 0.0) else None
        print(f"{args.dataset}: {len(x_train)} training and {len(x_val)} {held_out} images; "
              f"epochs {args.epochs}, batch size {args.batch_size}, lr {args.lr:g}, lr decay {args.lr_decay:g}, "
              f"augment {args.augment[0]:g} px {args.augment[1]:g} deg, seed {args.seed}, {args.dtype}")
        params = network.init_params(args.seed, dtype=dtype)
        t0 = time.perf_counter()
        params, history = train(params, x_train, y_train, x_val, y_val, epochs=args.epochs,
                                batch_size=args.batch_size, lr=args.lr, lr_decay=args.lr_decay,
                                seed=args.seed, variant=variant, progress=not args.no_progress,
                                verbose=True, val_name=held_out, transform=transform)
        seconds = time.perf_counter() - t0
        best = int(np.argmax(history["val_acc"]))
        print(f"final {held_out} accuracy {100 * history['val_acc'][-1]:.1f}% "
              f"(best {100 * history['val_acc'][best]:.1f}% after epoch {history['epoch'][best]}); "
              f"trained in {seconds:.1f} s")
        if args.save is not None:
            path = save_params(args.save, params, overwrite=args.overwrite)
            print(f"saved the six parameters to {path}")
    except (FileNotFoundError, FileExistsError, ValueError, TypeError, ConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
