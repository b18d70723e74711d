"""Activation functions and losses, numerically safe and dtype-preserving.

* ``sigmoid`` (Zhang eq. 4) never overflows: for ``z < 0`` it uses ``e^z / (1 + e^z)``.
* ``softmax`` subtracts the row maximum before exponentiating (stable for large logits).
* ``squared_error`` is Zhang eq. 13, ``L = 1/2 sum_i (y_hat_i - y_i)^2`` (mean over a batch).
* ``cross_entropy`` is ``L = -sum_i y_i log s_i`` (seed 003), mean over a batch; together with
  softmax its error at the logits is ``delta = s - y``.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array


def _as_real(z, name: str) -> np.ndarray:
    """``z`` as a real floating array of any shape (integers become float64; NaN and infinity
    pass, they have a limit); ``TypeError`` for None, strings, booleans, complex or objects."""
    try:
        arr = np.asarray(z)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a real numeric array, got {type(z).__name__}") from exc
    if arr.dtype.kind in "iu":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must be a real numeric array, got dtype {arr.dtype}"
                        + (f" ({type(z).__name__})" if arr.dtype.kind == "O" else ""))
    return arr


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))`` (Zhang eq. 4), elementwise, any shape.

    Computed as ``1/(1+e^{-|z|})`` or ``e^{-|z|}/(1+e^{-|z|})`` so that no exponent is positive:
    no overflow, no warning. The constants carry ``z``'s dtype, so float32 stays float32 on
    numpy 1.x as on 2.x (also for 0-d arrays and scalars).
    """
    z = _as_real(z, "z")
    one = z.dtype.type(1)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, one, e) / (one + e)


def sigmoid_prime(a):
    """Derivative of the sigmoid written with its output ``a = sigmoid(z)``: ``a (1 - a)``."""
    a = _as_real(a, "a")
    return a * (a.dtype.type(1) - a)


def relu(z):
    """``max(z, 0)``, elementwise."""
    z = _as_real(z, "z")
    return np.maximum(z, z.dtype.type(0))


def relu_prime(z):
    """Derivative of ReLU at the pre-activation ``z``: 1 where ``z > 0`` else 0 (0 at the kink)."""
    z = _as_real(z, "z")
    return (z > 0).astype(z.dtype)


def softmax(z, axis: int = -1):
    """``s_i = exp(z_i) / sum_j exp(z_j)`` along ``axis``, stable for any finite logits.

    ``z`` needs at least one entry along ``axis`` (a ``ValueError`` otherwise).
    """
    z = _as_real(z, "z")
    if not isinstance(axis, (int, np.integer)) or not -z.ndim <= axis < z.ndim or z.shape[axis] == 0:
        raise ValueError(f"softmax needs at least one logit along axis {axis}, got shape {z.shape}")
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def _check_pair(y_hat, y):
    y_hat = as_float_array(y_hat, "y_hat")
    y = as_float_array(y, "y", allow_int=True)
    if y_hat.shape != y.shape:
        raise ValueError(f"y must have the shape of y_hat {y_hat.shape}, got {y.shape}")
    if y_hat.ndim not in (1, 2):
        raise ValueError(f"y_hat must have shape (K,) or (N, K), got {y_hat.shape}")
    return y_hat, y


def squared_error(y_hat, y):
    """Zhang eq. 13: ``L = 1/2 sum_i (y_hat_i - y_i)^2``; for ``(N, K)`` arrays, the mean of L over N."""
    y_hat, y = _check_pair(y_hat, y)
    per_image = 0.5 * np.sum((y_hat - y) ** 2, axis=-1)
    return float(np.mean(per_image))


def cross_entropy(s, y, eps: float = 1e-12):
    """``L = -sum_i y_i log s_i`` for probabilities ``s`` (seed 003); mean over a batch.

    ``s`` is clipped below at ``eps`` so that a zero probability gives a large finite loss.
    """
    s, y = _check_pair(s, y)
    per_image = -np.sum(y * np.log(np.clip(s, eps, None)), axis=-1)
    return float(np.mean(per_image))


def softmax_cross_entropy(z, y):
    """Softmax followed by cross-entropy, computed from the logits with log-sum-exp.

    Returns ``(L, delta)`` where ``delta = dL/dz = (s - y)`` (divided by N for a batch), the
    result seed 003 quotes ("delta_i = s_i - y_i").
    """
    z, y = _check_pair(z, y)
    shifted = z - z.max(axis=-1, keepdims=True)
    log_s = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    loss = float(np.mean(-np.sum(y * log_s, axis=-1)))
    delta = np.exp(log_s) - y
    if z.ndim == 2:
        delta = delta / z.shape[0]
    return loss, delta
