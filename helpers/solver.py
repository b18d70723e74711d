"""The training loop: mini-batch SGD over epochs (Zhang eqs. 65-70; seeds 001-003), evaluation.

The update rule itself is :mod:`helpers.optim`; this module feeds it mini-batches.

* :func:`sgd_loop` -- epochs of shuffled mini-batches (``numpy.random.default_rng(seed)``) for
  any network given as a function ``loss_and_grads(params, xb, yb) -> (C, grads)``, with a
  learning-rate schedule asked one epoch at a time, an optional per-batch input transform
  (data augmentation) and an optional evaluation after every epoch (notebooks 07 and 08).
* :func:`train` -- that loop for Zhang's seed network (:mod:`helpers.network`), with a tqdm
  progress bar, the training and held-out loss and accuracy after every epoch and optional
  in-memory checkpoints (notebook 06).
* :func:`evaluate`, :func:`confusion_matrix`, :func:`confident_mistakes` and
  :func:`digit_trace` -- how well a set of parameters reads digits; :func:`format_epoch` -- one
  printed line of a training history.

Images are floats in [0, 1] (uint8 pixels / 255), shape ``(N, 28, 28)``; labels are integers
0..9, shape ``(N,)``. The parameters' dtype is the compute dtype.
"""

from __future__ import annotations

import math

import numpy as np

from . import engine, network
from ._validate import as_float_array
from .optim import check_int, check_lr, lr_schedule, sgd_step

__all__ = ["sgd_loop", "train", "evaluate", "confusion_matrix", "confident_mistakes", "digit_trace",
           "format_epoch"]


# --------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------
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


def _schedule(lr, lr_decay, epochs: int, dtypes):
    """The learning rate of epoch e as a function, checked for epochs 1 and ``epochs`` now.

    ``lr`` is a number (then epoch e gets ``lr * lr_decay ** (e - 1)``, :func:`helpers.optim.
    lr_schedule`) or a callable ``epoch -> rate`` (then ``lr_decay`` must stay 1). Every rate
    must be finite and > 0 in each of ``dtypes`` (:func:`helpers.optim.check_lr`); a callable's
    rates are checked again as each epoch asks for them.
    """
    if callable(lr):
        if lr_decay != 1:
            raise ValueError("lr_decay must be 1 when lr is a schedule (a callable epoch -> rate)")
        rate = lr
    else:
        rate = lr_schedule(lr, lr_decay)

    def checked(epoch: int) -> float:
        alpha = rate(epoch)
        name = "lr" if not callable(lr) and epoch == 1 else f"the learning rate of epoch {epoch}"
        for dtype in dtypes:
            alpha = check_lr(alpha, dtype, name)
        return alpha

    for epoch in sorted({1, epochs}):  # before any work: the first and the smallest rate
        checked(epoch)
    return checked


def _check_transform(transform):
    if transform is not None and not callable(transform):
        raise TypeError(f"transform must be callable(x_batch, rng) -> x_batch or None, got {type(transform).__name__}")


# --------------------------------------------------------------------------------------------
# the training loop
# --------------------------------------------------------------------------------------------
def sgd_loop(loss_and_grads, params, x, y, *, epochs: int, batch_size: int, lr, lr_decay: float = 1.0,
             seed: int = 0, evaluate=None, callback=None, transform=None):
    """Mini-batch SGD for any network given as ``loss_and_grads(params, xb, yb) -> (C, grads)``.

    Every epoch draws a permutation of the N training examples from
    ``numpy.random.default_rng(seed)``, cuts it into batches of ``batch_size`` (the last batch
    holds the remainder) and applies :func:`helpers.optim.sgd_step` with the gradient of each
    batch's mean cost C. Same inputs and seed -> the same result, bit for bit.

    Parameters
    ----------
    loss_and_grads : ``f(params, x_batch, y_batch) -> (C, grads)``, e.g.
        ``functools.partial(maxpool_net.loss_and_grads, cost="quadratic")``; ``grads`` has the
        keys and shapes of ``params``.
    params : dict of float arrays; not modified (the trained parameters are new arrays).
    x, y : training examples ``(N, ...)`` and their labels ``(N, ...)`` (any per-example shape
        that ``loss_and_grads`` accepts).
    epochs, batch_size : passes over the data and examples per step (integers >= 1).
    lr, lr_decay : a number: the learning rate of epoch e is ``lr * lr_decay ** (e - 1)``
        (:func:`helpers.optim.lr_schedule`); the default ``lr_decay=1`` keeps it constant. Or a
        callable ``epoch -> rate`` (e = 1..epochs), asked once at the start of each epoch (and
        for epochs 1 and ``epochs`` before training); then ``lr_decay`` must be 1. No list of
        rates is built, so ``epochs`` costs no memory. Every rate must stay finite and > 0 in
        the parameters' dtype (:func:`helpers.optim.check_lr`).
    seed : seeds the shuffling (integer >= 0).
    evaluate : optional ``f(params) -> dict`` with at least ``"loss"`` and ``"accuracy"``,
        called before training and after every epoch (e.g. on held-out examples).
    callback : optional ``f(epoch, params, history)``, called after every epoch (after
        ``evaluate``); it may add its own entries to ``history``.
    transform : optional ``f(x_batch, rng) -> x_batch`` applied to every mini-batch of inputs
        before ``loss_and_grads`` (data augmentation); it must return the same shape. ``rng``
        is the loop's own generator, which drew the epoch's permutation: a transform that
        draws its random numbers image by image in order (as
        :class:`helpers.augment.RandomShiftRotate` does) gives the same result as transforming
        the whole shuffled epoch at once, which is how the shipped checkpoint was trained.
        Its draws change the following epochs' permutations. Default: none.

    Returns
    -------
    ``(params, history)``; ``history`` has ``epoch`` (0..epochs), ``lr`` (per epoch, NaN at
    epoch 0), ``step_loss`` (the cost of every batch, in order) and, with ``evaluate``,
    ``val_loss`` and ``val_acc`` per epoch (index 0 = before training). Raises
    ``FloatingPointError`` ("training diverged at epoch E step S: ...", S counted from 1 in each
    epoch) as soon as a cost is NaN or infinite.
    """
    if not callable(loss_and_grads):
        raise TypeError(f"loss_and_grads must be callable, got {type(loss_and_grads).__name__}")
    for name, fn in (("evaluate", evaluate), ("callback", callback)):
        if fn is not None and not callable(fn):
            raise TypeError(f"{name} must be callable or None, got {type(fn).__name__}")
    _check_transform(transform)
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    seed = check_int(seed, "seed", 0)
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch (N, ...), got shape {x.shape}")
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(f"y must have one entry per example: {len(x)}, got shape {y.shape}")
    params = _float_arrays(params)
    rate = _schedule(lr, lr_decay, epochs, {val.dtype for val in params.values()})

    rng = np.random.default_rng(seed)  # the permutations, and the transform's draws
    params = {key: np.array(val, copy=True) for key, val in params.items()}
    history = {"epoch": [0], "lr": [math.nan], "step_loss": []}
    if evaluate is not None:
        first = evaluate(params)
        history["val_loss"], history["val_acc"] = [first["loss"]], [first["accuracy"]]
    n = len(x)
    for epoch in range(1, epochs + 1):
        alpha = rate(epoch)
        order = rng.permutation(n)
        for step, start in enumerate(range(0, n, batch_size), 1):
            idx = order[start:start + batch_size]
            xb = x[idx] if transform is None else _transformed(transform, x[idx], rng)
            cost, grads = loss_and_grads(params, xb, y[idx])
            if not math.isfinite(cost):
                raise FloatingPointError(f"training diverged at epoch {epoch} step {step}: the loss is {cost}, "
                                         f"not finite; lr = {alpha:g} is too large")
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


def _transformed(transform, xb, rng):
    out = np.asarray(transform(xb, rng))
    if out.shape != xb.shape:
        raise ValueError(f"transform must return a batch of shape {xb.shape}, got {out.shape}")
    return out


def evaluate(params, x, y, *, batch_size: int = 500, **variant) -> dict:
    """Loss and accuracy of ``params`` on images ``x (N, 28, 28)`` with labels ``y (N,)``.

    Returns a dict: ``loss`` (mean over the N images of Zhang's eq. 13, or cross-entropy for
    ``output="softmax"``), ``accuracy`` (fraction in [0, 1]), ``y_pred`` (N,) the predicted
    classes (argmax of y_hat) and ``y_hat`` (N, 10) the network's outputs. ``variant`` is passed
    to :func:`helpers.network.forward` (``pooling``, ``conv_activation``, ``output``).
    """
    dtype = network.check_params(params)
    x, y = _check_data(x, y, "x", "y", dtype)
    batch_size = check_int(batch_size, "batch_size", 1)
    return engine.evaluate(params, x, y, batch_size, **variant)


def confusion_matrix(y_true, y_pred, n_classes: int = 10) -> np.ndarray:
    """Counts ``cm[i, j]`` of images of true class i predicted as class j; int64 ``(n, n)``.

    The diagonal holds the correct answers, so ``trace(cm) / cm.sum()`` is the accuracy.
    """
    n_classes = check_int(n_classes, "n_classes", 1)
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
    n = check_int(n, "n", 0)
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
    label = check_int(label, "label", 0)
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


def train(params, x_train, y_train, x_val, y_val, *, epochs: int, batch_size: int, lr,
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
    params : dict of the six tensors (see :func:`helpers.optim.sgd_step`); not modified. Its
        dtype is the compute dtype (``x_*`` are cast to it).
    x_train, y_train : images (N, 28, 28) in [0, 1] and integer labels (N,).
    x_val, y_val : held-out images (M, 28, 28) and labels (M,), evaluated after every epoch.
    epochs, batch_size : the number of passes over the data and the images per step. The last
        batch of an epoch holds the remainder (N is not rounded down).
    lr, lr_decay : the learning rate alpha of epoch e is ``lr * lr_decay ** (e - 1)``
        (:func:`helpers.optim.lr_schedule`); ``lr_decay=1`` is Zhang's constant alpha. ``lr``
        may also be a callable ``epoch -> rate`` (see :func:`sgd_loop`). Every rate must stay
        finite and > 0 in the parameters' dtype, checked before training. The gradient of a
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
    transform : optional ``f(x_batch, rng) -> x_batch`` for every training batch (data
        augmentation; see :func:`sgd_loop`). Default: none, the images as they are.

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
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    seed = check_int(seed, "seed", 0)
    _schedule(lr, lr_decay, epochs, {dtype})  # check lr and lr_decay before any work
    _check_transform(transform)
    variant = dict(variant or {})
    network.check_variant(variant)
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
        batch_loss, grads, y_hat = engine.step(p, xb, yb, **variant)
        running["loss"] += batch_loss * len(yb)
        running["correct"] += int(np.sum(y_hat.argmax(axis=1) == yb))
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


