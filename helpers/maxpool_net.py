"""Seed 002's network: one shared 5x5 kernel, 2x2 max pooling, ten sigmoid outputs.

Architecture (seed 002; 0-based indices, as the seed writes them)::

    a0 (28, 28) --cross-correlation with w1 (5, 5), + b1 (one shared number), sigmoid--> a1 (24, 24)
                --2x2 max pooling, stride 2----------------------------------------> a2 (12, 12)
                --w3 (10, 12, 12) and b3 (10,), fully connected, sigmoid------------> a3 (10,)

with the seed's equations::

    z1[j, k] = b1 + sum_{l=0}^{4} sum_{m=0}^{4} w1[l, m] a0[j+l, k+m]      (z^1_{j,k})
    a1 = sigmoid(z1)
    a2[j, k] = max(a1[2j, 2k], a1[2j, 2k+1], a1[2j+1, 2k], a1[2j+1, 2k+1])
    z3[l] = b3[l] + sum_{0 <= j, k <= 11} w3[l, j, k] a2[j, k]          (z^3_l, l = 0..9)
    a3 = sigmoid(z3)

Seed 002 never writes the cost C. Two are offered (``cost=``):

* ``"quadratic"`` (default): ``C = 1/2 sum_l (a3_l - y_l)^2``, Nielsen's quadratic cost and
  Zhang's eq. 13; BP1 gives ``delta3 = (a3 - y) * sigma'(z3)``.
* ``"cross_entropy"``: ``C = -sum_l [y_l ln a3_l + (1 - y_l) ln(1 - a3_l)]``; then
  ``delta3 = a3 - y`` (the sigma' cancels).

For a batch ``(N, 28, 28)`` the cost is the mean over the N images and every gradient is the
gradient of that mean. Max-pool ties go to the first maximum of the window in row-major order
(:mod:`helpers.pooling`); on MNIST they are common, because a window of background pixels gives
four equal activations ``sigmoid(b1)``.

Public: :data:`PARAM_SHAPES`, :func:`init_bounds`, :func:`init_params`, :func:`count_params`,
:func:`check_params`, :func:`forward`, :func:`loss`, :func:`backward_with_errors`,
:func:`backward`, :func:`loss_and_grads`, :func:`evaluate`, :func:`forward_naive`,
:func:`backward_naive`.
"""

from __future__ import annotations

import numpy as np

from ._validate import check_choice, check_images, check_param_dict
from .activations import sigmoid
from .convolution import conv_forward
from .network import check_labels, evaluate_with, uniform_init
from .pooling import maxpool_backward, maxpool_forward

N_CLASSES = 10
PARAM_SHAPES = {"w1": (5, 5), "b1": (), "w3": (10, 12, 12), "b3": (10,)}
COSTS = ("quadratic", "cross_entropy")
_CACHE_KEYS = ("x", "z1", "a1", "a2", "z3", "a3")


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------
def init_bounds() -> dict:
    """Uniform bounds ``a`` of ``U(-a, a)``, Zhang's (Glorot's) rule applied to seed 002's layers.

    Seed 002 gives no initialisation. With ``sqrt(6 / (n_in + n_out))`` per connection (Zhang
    eqs. 1-3): ``w1``: one input map, one output map, 5x5 taps -> ``sqrt(6 / ((1 + 1) * 25))``;
    ``w3``: 144 inputs, 10 outputs -> ``sqrt(6 / (144 + 10))``.
    """
    return {"w1": float(np.sqrt(6.0 / ((1 + 1) * 5 ** 2))), "w3": float(np.sqrt(6.0 / (144 + 10)))}


def init_params(seed: int = 0, dtype=np.float64) -> dict:
    """Random weights from :func:`init_bounds` (w1 first, then w3), biases zero.

    Returns ``{"w1": (5, 5), "b1": () a 0-d array, "w3": (10, 12, 12), "b3": (10,)}`` in ``dtype``
    (1476 numbers). Same seed -> same numbers (``numpy.random.default_rng(seed)``).
    """
    return uniform_init(PARAM_SHAPES, init_bounds(), seed, dtype)


def count_params(params=None) -> int:
    """Trainable numbers: ``5*5 + 1 + 10*12*12 + 10 = 1476`` (from the shapes, or from ``params``)."""
    if params is not None:
        check_params(params)
    return int(sum(int(np.prod(s)) for s in PARAM_SHAPES.values()))


def check_params(params) -> np.dtype:
    """Validate a parameter dict (keys and shapes of :data:`PARAM_SHAPES`); return its dtype."""
    return check_param_dict(params, PARAM_SHAPES)


# --------------------------------------------------------------------------------------------
# the fast (vectorized) passes, built from helpers.convolution and helpers.pooling
# --------------------------------------------------------------------------------------------
def forward(params, x) -> dict:
    """Forward pass of seed 002's network for one image ``(28, 28)`` or a batch ``(N, 28, 28)``.

    Returns a cache with ``x`` (a0), ``z1``, ``a1`` (24, 24), ``a2`` (12, 12), ``z3``, ``a3``
    (10,), each with a leading batch axis for a batch, and ``batched``. The backward pass reads
    only these arrays (the max's positions are found again in ``a1``).
    """
    dtype = check_params(params)
    X, batched = check_images(x, dtype)
    n = X.shape[0]
    # z^1: cross-correlation (seed 002), one input map and one output map
    z1, _ = conv_forward(X[:, None], params["w1"][None, None], params["b1"].reshape(1),
                                  convention="correlation")
    z1 = z1[:, 0]                                     # (N, 24, 24)
    a1 = sigmoid(z1)
    a2, _ = maxpool_forward(a1, 2, 2)                # (N, 12, 12)
    z3 = a2.reshape(n, 144) @ params["w3"].reshape(10, 144).T + params["b3"]
    a3 = sigmoid(z3)
    cache = {"x": X, "z1": z1, "a1": a1, "a2": a2, "z3": z3, "a3": a3}
    if not batched:
        cache = {key: val[0] for key, val in cache.items()}
    cache["batched"] = batched
    return cache


def _batched(cache) -> dict:
    if not isinstance(cache, dict):
        raise TypeError(f"cache must be the dict returned by forward(), got {type(cache).__name__}")
    missing = [k for k in _CACHE_KEYS + ("batched",) if k not in cache]
    if missing:
        raise ValueError(f"cache is missing {missing}: pass the dict returned by forward()")
    if cache["batched"]:
        return {k: cache[k] for k in _CACHE_KEYS}
    return {k: cache[k][None] for k in _CACHE_KEYS}


def _per_image_cost(z3, a3, Y, cost):
    if cost == "quadratic":
        return 0.5 * np.sum((a3 - Y) ** 2, axis=1)
    # ln a = -softplus(-z), ln(1 - a) = -softplus(z): exact and finite for any z
    return np.sum(Y * np.logaddexp(0, -z3) + (1 - Y) * np.logaddexp(0, z3), axis=1)


def loss(cache, y, cost: str = "quadratic") -> float:
    """The cost C of the cached forward pass (mean over a batch); see the module docstring.

    ``y``: a label 0..9 or one-hot ``(10,)`` for one image; ``(N,)`` labels or ``(N, 10)``
    one-hot for a batch.
    """
    cost = check_choice(cost, "cost", COSTS)
    c = _batched(cache)
    Y = check_labels(y, c["a3"].shape[0], cache["batched"], c["a3"].dtype)
    return float(np.mean(_per_image_cost(c["z3"], c["a3"], Y, cost)))


def backward_with_errors(params, cache, y, cost: str = "quadratic"):
    """Seed 002's BP1-BP4, vectorized; returns ``(grads, errors)``.

    * BP1: ``delta3 = dC/da3 * sigma'(z3)``: ``(a3 - y) a3 (1 - a3)`` (quadratic) or ``a3 - y``.
    * BP3, BP4 of the output layer: ``dC/db3 = delta3``, ``dC/dw3[l, j, k] = a2[j, k] delta3[l]``.
    * modified BP2: ``dC/da2[j, k] = sum_l delta3[l] w3[l, j, k]`` is routed to the window's
      (first) maximum by :func:`helpers.pooling.maxpool_backward` and multiplied by
      ``sigma'(z1) = a1 (1 - a1)``: ``delta1`` (24, 24), zero except at one entry per window.
    * BP3 shared: ``dC/db1 = sum_{j,k} delta1[j, k]``; BP4 shared:
      ``dC/dw1[l, m] = sum_{j,k} delta1[j, k] a0[j+l, k+m]``, the cross-correlation of the
      input with the error map, computed by :func:`helpers.convolution.conv_forward` with
      ``delta1`` as the (24, 24) kernel (summed over the images of a batch).

    ``grads`` has the keys of ``params``; ``errors`` holds ``delta3`` (10,), ``dC_da2``
    (12, 12) and ``delta1`` (24, 24) (batch axis only for a batch; for a batch each carries the
    factor 1/N of the mean).
    """
    dtype = check_params(params)
    cost = check_choice(cost, "cost", COSTS)
    c = _batched(cache)
    n = c["x"].shape[0]
    Y = check_labels(y, n, cache["batched"], dtype)
    a3 = c["a3"]
    delta3 = (a3 - Y) * a3 * (1 - a3) if cost == "quadratic" else a3 - Y    # BP1
    delta3 = delta3 / n
    db3 = delta3.sum(axis=0)                                                 # BP3 (output layer)
    dw3 = np.einsum("nl,njk->ljk", delta3, c["a2"])                          # BP4 (output layer)
    dC_da2 = np.einsum("nl,ljk->njk", delta3, params["w3"])                  # BP2, the sum over l
    dC_da1 = maxpool_backward(dC_da2, maxpool_forward(c["a1"], 2, 2)[1])      # BP2, the max's 0/1 factor
    delta1 = dC_da1 * c["a1"] * (1 - c["a1"])                                # BP2, sigma'(z1)
    db1 = delta1.sum()                                                       # BP3, shared bias
    # BP4, shared weights: dC/dw1[l, m] = sum_n sum_{j,k} delta1[n, j, k] a0[n, j+l, k+m], i.e. the
    # cross-correlation of the input with the error map (the N images as input channels).
    dw1, _ = conv_forward(c["x"][None], delta1[:, None], None, convention="correlation")
    grads = {"w1": dw1[0, 0], "b1": db1, "w3": dw3, "b3": db3}
    grads = {k: np.array(v, dtype=dtype, order="C") for k, v in grads.items()}  # a copy; keeps b1 0-d
    errors = {"delta3": delta3, "dC_da2": dC_da2, "delta1": delta1}
    if not cache["batched"]:
        errors = {k: v[0] for k, v in errors.items()}
    return grads, errors


def backward(params, cache, y, cost: str = "quadratic") -> dict:
    """Gradients of C with the keys of ``params`` (see :func:`backward_with_errors`)."""
    return backward_with_errors(params, cache, y, cost)[0]


def loss_and_grads(params, x, y, cost: str = "quadratic"):
    """``(C, grads)`` for images ``x`` and targets ``y`` in one call (the training step's need)."""
    cache = forward(params, x)
    return loss(cache, y, cost), backward(params, cache, y, cost)


def evaluate(params, x, y, cost: str = "quadratic", batch_size: int = 1000) -> dict:
    """Mean cost, accuracy (fraction), predicted classes ``y_pred`` and outputs ``y_hat`` (a3) on
    images ``x (N, 28, 28)`` with integer labels ``y (N,)``, in chunks of ``batch_size``
    (:func:`helpers.network.evaluate_with`, the same keys for every network)."""
    check_params(params)
    cost = check_choice(cost, "cost", COSTS)

    def batch(xb, yb):
        cache = forward(params, xb)
        return loss(cache, yb, cost), cache["a3"]

    return evaluate_with(batch, x, y, batch_size)


# --------------------------------------------------------------------------------------------
# loops that mirror seed 002's index equations (one image)
# --------------------------------------------------------------------------------------------
def forward_naive(params, x) -> dict:
    """Seed 002's forward equations for one image ``(28, 28)``, entry by entry.

    The indices are the seed's own (0-based): ``z1[j, k] = b1 + sum_{l,m} w1[l, m] a0[j+l, k+m]``,
    ``a2[j, k] = max`` of the window starting at ``(2j, 2k)``, ``z3[l] = b3[l] + sum_{j,k}
    w3[l, j, k] a2[j, k]``. Returns the keys of :func:`forward` for one image.
    """
    dtype = check_params(params)
    X, batched = check_images(x, dtype)
    if batched:
        raise ValueError(f"forward_naive takes one image of shape (28, 28), got {X.shape}")
    a0 = X[0]
    w1, b1, w3, b3 = (params[k] for k in PARAM_SHAPES)
    z1 = np.zeros((24, 24), dtype)
    for j in range(24):
        for k in range(24):
            total = b1[()]
            for l in range(5):
                for m in range(5):
                    total += w1[l, m] * a0[j + l, k + m]
            z1[j, k] = total
    a1 = 1.0 / (1.0 + np.exp(-z1))
    a2 = np.zeros((12, 12), dtype)
    for j in range(12):
        for k in range(12):
            a2[j, k] = max(a1[2 * j, 2 * k], a1[2 * j, 2 * k + 1], a1[2 * j + 1, 2 * k], a1[2 * j + 1, 2 * k + 1])
    z3 = np.zeros(10, dtype)
    for l in range(10):
        z3[l] = b3[l] + sum(w3[l, j, k] * a2[j, k] for j in range(12) for k in range(12))
    a3 = 1.0 / (1.0 + np.exp(-z3))
    return {"x": a0, "z1": z1, "a1": a1, "a2": a2, "z3": z3, "a3": a3, "batched": False}


def backward_naive(params, cache, y, cost: str = "quadratic", ties: str = "first") -> dict:
    """Seed 002's BP1-BP4 for one image, entry by entry; returns the gradient dict.

    ``ties`` says which entries of a pooling window count as "the" maximum in the modified BP2:
    ``"first"`` (default, as :mod:`helpers.pooling`): only the first maximal entry in row-major
    order; ``"all"``: every entry equal to the maximum, the seed's literal condition
    ``a1[j, k] == max(...)``. They differ only at ties, and there ``"all"`` is wrong (notebook 04,
    section 6; notebook 07 shows the effect on ``dC/db1``).
    """
    dtype = check_params(params)
    cost = check_choice(cost, "cost", COSTS)
    check_choice(ties, "ties", ("first", "all"))
    if cache.get("batched", False):
        raise ValueError("backward_naive takes the cache of one image (forward of a (28, 28) array)")
    Y = check_labels(y, 1, False, dtype)[0]
    w3 = params["w3"]
    a0, a1, a2, a3 = cache["x"], cache["a1"], cache["a2"], cache["a3"]

    delta3 = np.zeros(10, dtype)
    for l in range(10):                                           # BP1
        dC_da3 = a3[l] - Y[l] if cost == "quadratic" else (a3[l] - Y[l]) / (a3[l] * (1 - a3[l]))
        delta3[l] = dC_da3 * a3[l] * (1 - a3[l])
    db3 = delta3.copy()                                           # BP3, output layer
    dw3 = np.zeros((10, 12, 12), dtype)
    for l in range(10):
        for j in range(12):
            for k in range(12):
                dw3[l, j, k] = a2[j, k] * delta3[l]               # BP4, output layer
    delta1 = np.zeros((24, 24), dtype)
    for j in range(24):                                           # modified BP2
        for k in range(24):
            jp, kp = j // 2, k // 2                               # j' = floor(j/2), k' = floor(k/2)
            window = [(2 * jp, 2 * kp), (2 * jp, 2 * kp + 1), (2 * jp + 1, 2 * kp), (2 * jp + 1, 2 * kp + 1)]
            if ties == "all":
                is_max = a1[j, k] == a2[jp, kp]
            else:
                values = [a1[r, c] for r, c in window]
                is_max = window[values.index(max(values))] == (j, k)
            if is_max:
                delta1[j, k] = sum(delta3[l] * w3[l, jp, kp] for l in range(10)) * a1[j, k] * (1 - a1[j, k])
    db1 = 0.0
    for j in range(24):                                           # BP3, shared bias
        for k in range(24):
            db1 += delta1[j, k]
    dw1 = np.zeros((5, 5), dtype)
    for l in range(5):                                            # BP4, shared weights
        for m in range(5):
            dw1[l, m] = sum(delta1[j, k] * a0[j + l, k + m] for j in range(24) for k in range(24))
    return {"w1": dw1, "b1": np.array(db1, dtype=dtype), "w3": dw3, "b3": db3}
