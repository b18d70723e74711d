"""Update rules of gradient descent (Zhang eqs. 65-70) and learning-rate schedules.

CS231n style: :func:`sgd` updates one array ``w`` with its gradient ``dw`` and a ``config``
dict, :func:`sgd_step` applies it to every tensor of a parameter dict. The loop that feeds them
mini-batches is :mod:`helpers.solver`; nothing here knows about a network or a data set.

* :func:`sgd` -- ``next_w = w - learning_rate * dw`` for one array (any shape).
* :func:`sgd_step` -- the same for a dict of arrays: the seed network's ``k1, b1, k2, b2, W,
  b`` or the tensors of the networks of seeds 002 and 003 (other names, same rule).
* :func:`lr_schedule` -- the learning rate of epoch e as a function, computed when asked
  (``lr * lr_decay ** (e - 1)``), so a long run never builds a list up front;
  :func:`learning_rates` lists the first ``epochs`` of them.
* :func:`check_lr` -- a learning rate that is a finite number > 0 and stays one in the
  training dtype (``1e39`` is finite as a Python float but infinite in float32).
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import as_float_array

__all__ = ["sgd", "sgd_step", "check_lr", "lr_schedule", "learning_rates"]


def check_number(value, name: str, *, positive: bool = True) -> float:
    """``value`` as a finite Python float (``> 0`` when ``positive``), or a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_int(value, name: str, minimum: int) -> int:
    """``value`` as a Python int ``>= minimum`` (bools refused), or a clear error."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_lr(lr, dtype=None, name: str = "lr") -> float:
    """A learning rate alpha: a finite number > 0 that stays finite and > 0 in ``dtype``.

    Inputs: ``lr`` a number; ``dtype`` the training dtype (the parameters' dtype), or None to
    check the number only. Returns ``lr`` as a Python float. Raises ``TypeError`` for a
    non-number, ``ValueError`` for NaN, infinity, ``lr <= 0``, or a rate that overflows to
    infinity or rounds to 0 in ``dtype`` (e.g. ``1e39`` in float32, largest 3.4e38).
    """
    lr = check_number(lr, name)
    if dtype is not None:
        dtype = np.dtype(dtype)
        with np.errstate(over="ignore", under="ignore"):
            cast = dtype.type(lr)
        if not np.isfinite(cast):
            raise ValueError(f"{name} = {lr:g} overflows {dtype}, the training dtype "
                             f"(largest {float(np.finfo(dtype).max):g}); choose a smaller {name} or the wider float64")
        if cast == 0:
            raise ValueError(f"{name} = {lr:g} rounds to 0 in {dtype}, the training dtype; "
                             f"choose a larger {name} or the wider float64")
    return lr


def sgd(w, dw, config=None):
    """One gradient-descent step for one array, Zhang eqs. 65-70: ``w - alpha * dw``.

    Inputs:
    - w: float array of any shape (a kernel, a bias, a weight matrix); not modified.
    - dw: gradient of the cost with respect to ``w``, the same shape (cast to ``w``'s dtype).
    - config: dict with ``learning_rate`` (alpha > 0, default 1e-2), as in CS231n.

    Returns ``(next_w, config)``: ``next_w`` a new array of ``w``'s shape and dtype.
    """
    config = {} if config is None else config
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict or None, got {type(config).__name__}")
    config.setdefault("learning_rate", 1e-2)
    w = as_float_array(w, "w")
    lr = check_lr(config["learning_rate"], w.dtype, "learning_rate")
    dw = as_float_array(dw, "dw")
    if dw.shape != w.shape:
        raise ValueError(f"dw must have shape {w.shape}, got {dw.shape}")
    return _update(w, dw, lr), config


def _update(w, dw, lr: float) -> np.ndarray:
    """``w - lr * dw`` in ``w``'s dtype, for checked arrays of one shape."""
    # np.asarray keeps a 0-d parameter an array (numpy arithmetic on it returns a scalar)
    return np.asarray(w - w.dtype.type(lr) * dw.astype(w.dtype, copy=False), dtype=w.dtype)


def sgd_step(params, grads, lr) -> dict:
    """One step of gradient descent, Zhang eqs. 65-70: ``theta <- theta - lr * Delta theta``.

    ``params`` is a dict of float arrays -- the six tensors ``k1 (6,5,5)``, ``b1 (6,)``,
    ``k2 (6,12,5,5)``, ``b2 (12,)``, ``W (10,192)``, ``b (10,)`` of the seed network, or the
    tensors of any other network (seeds 002 and 003: same rule, other names); ``grads`` has
    exactly its keys and shapes; ``lr`` is the learning rate alpha (> 0, finite in every
    parameter's dtype). Returns a **new** dict of new arrays, each in its parameter's dtype;
    neither input is modified, so a saved checkpoint can never change behind your back.
    """
    lr = check_number(lr, "lr")
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of float arrays, got {type(params).__name__}")
    params = {key: as_float_array(val, f"params[{key!r}]") for key, val in params.items()}
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict with keys {list(params)}, got {type(grads).__name__}")
    missing = [k for k in params if k not in grads]
    extra = [k for k in grads if k not in params]
    if missing or extra:
        raise ValueError(f"grads must have exactly the keys {list(params)}; "
                         f"missing {missing}, unexpected {extra}")
    for dtype in {value.dtype for value in params.values()}:
        check_lr(lr, dtype)
    new = {}
    for key, value in params.items():
        g = as_float_array(grads[key], f"grads[{key!r}]")
        if g.shape != value.shape:
            raise ValueError(f"grads[{key!r}] must have shape {value.shape}, got {g.shape}")
        new[key] = _update(value, g, lr)
    return new


def lr_schedule(lr, lr_decay: float = 1.0):
    """The learning rate of epoch e = 1, 2, ... as a function: ``lr * lr_decay ** (e - 1)``.

    ``lr_decay = 1`` keeps alpha constant, as Zhang's eqs. 65-70 do; a value in (0, 1) shrinks
    the steps geometrically, so late epochs fine-tune instead of jumping around the minimum.
    Nothing is computed before it is asked for, so any number of epochs costs no memory.
    """
    lr = check_number(lr, "lr")
    lr_decay = check_number(lr_decay, "lr_decay")
    if lr_decay > 1:
        raise ValueError(f"lr_decay must be in (0, 1], got {lr_decay}")

    def rate(epoch: int) -> float:
        return lr * lr_decay ** (epoch - 1)

    return rate


def learning_rates(lr, epochs: int, lr_decay: float = 1.0) -> list[float]:
    """The learning rate of each epoch: ``lr * lr_decay ** (e - 1)`` for e = 1..epochs.

    The list of :func:`lr_schedule`'s values (for plots and tables; the training loop asks the
    schedule one epoch at a time instead).
    """
    rate = lr_schedule(lr, lr_decay)
    epochs = check_int(epochs, "epochs", 1)
    return [rate(e) for e in range(1, epochs + 1)]
