"""Mini-batch stochastic gradient descent for any network given as a ``loss_and_grads`` function.

:mod:`helpers.train` trains Zhang's seed network (its parameter dict, its options, progress bars,
checkpoints, files). The networks of seeds 002 and 003 (:mod:`helpers.maxpool_net`,
:mod:`helpers.softmax_net`) have other parameters, so notebooks 07 and 08 train them with this
short loop instead. The update is the same rule, Zhang eqs. 65-70 and seed 003's last page::

    theta <- theta - lr * dC/dtheta        for every tensor theta of the network

A network is described by one function ``loss_and_grads(params, x_batch, y_batch) ->
(C, grads)`` where ``grads`` has the keys and shapes of ``params`` and C is the mean cost over
the batch. Everything here is deterministic: the order of the images in each epoch is drawn
from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_float_array

__all__ = ["sgd_update", "train"]


def _check_lr(lr) -> float:
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, (int, float, np.integer, np.floating)):
        raise TypeError(f"lr must be a number, got {type(lr).__name__}")
    lr = float(lr)
    if not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr}")
    return lr


def _check_count(value, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    return int(value)


def sgd_update(params: dict, grads: dict, lr) -> dict:
    """Return new arrays ``params[k] - lr * grads[k]`` for every key; the inputs are not changed.

    ``grads`` must have exactly the keys of ``params`` and the same shapes; the result keeps each
    parameter's dtype.
    """
    lr = _check_lr(lr)
    if not isinstance(params, dict) or not isinstance(grads, dict):
        raise TypeError("params and grads must both be dicts of arrays")
    if set(params) != set(grads):
        raise ValueError(f"grads must have the keys of params {sorted(params)}, got {sorted(grads)}")
    new = {}
    for key, value in params.items():
        g = as_float_array(grads[key], f"grads[{key!r}]")
        if g.shape != np.shape(value):
            raise ValueError(f"grads[{key!r}] must have shape {np.shape(value)}, got {g.shape}")
        value = np.asarray(value)
        new[key] = np.asarray(value - value.dtype.type(lr) * g.astype(value.dtype, copy=False), dtype=value.dtype)
    return new


def train(loss_and_grads, params: dict, x, y, *, epochs: int, batch_size: int, lr, seed: int = 0,
          evaluate=None):
    """Mini-batch SGD: ``epochs`` passes over ``x`` in shuffled batches of ``batch_size``.

    Parameters
    ----------
    loss_and_grads : ``f(params, x_batch, y_batch) -> (C, grads)``, e.g.
        ``functools.partial(maxpool_net.loss_and_grads, cost="quadratic")``.
    params : dict of arrays; not modified (the trained parameters are new arrays).
    x, y : training images ``(N, ...)`` and their labels ``(N, ...)`` (any per-image shape that
        ``loss_and_grads`` accepts). The last batch of an epoch holds the remainder.
    lr : learning rate, constant (> 0).
    seed : seeds the shuffling; same inputs and seed -> the same result, bit for bit.
    evaluate : optional ``f(params) -> dict`` with at least ``"loss"`` and ``"accuracy"``,
        called before training and after every epoch (e.g. on held-out images).

    Returns
    -------
    ``(params, history)``; ``history`` has ``step_loss`` (the cost of every batch, in order),
    ``epoch`` (0..epochs) and, with ``evaluate``, ``val_loss`` and ``val_acc`` per epoch
    (index 0 = before training). Raises ``FloatingPointError`` if a cost becomes NaN or infinite.
    """
    if not callable(loss_and_grads):
        raise TypeError(f"loss_and_grads must be callable, got {type(loss_and_grads).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be callable or None, got {type(evaluate).__name__}")
    epochs = _check_count(epochs, "epochs")
    batch_size = _check_count(batch_size, "batch_size")
    lr = _check_lr(lr)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"x must be a non-empty batch (N, ...), got shape {x.shape}")
    if y.ndim == 0 or len(y) != len(x):
        raise ValueError(f"y must have one entry per image: {len(x)}, got shape {y.shape}")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")

    rng = np.random.default_rng(seed)
    params = {key: np.array(val, copy=True) for key, val in params.items()}
    history = {"epoch": [0], "step_loss": []}
    if evaluate is not None:
        first = evaluate(params)
        history["val_loss"], history["val_acc"] = [first["loss"]], [first["accuracy"]]
    n = len(x)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            cost, grads = loss_and_grads(params, x[idx], y[idx])
            if not math.isfinite(cost):
                raise FloatingPointError(f"the cost became {cost} in epoch {epoch}: lr = {lr:g} is too large")
            history["step_loss"].append(float(cost))
            params = sgd_update(params, grads, lr)
        history["epoch"].append(epoch)
        if evaluate is not None:
            result = evaluate(params)
            history["val_loss"].append(result["loss"])
            history["val_acc"].append(result["accuracy"])
    return params, history
