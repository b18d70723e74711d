"""Seed 003's network: 4 and 6 feature maps, average pooling, 50 hidden units, softmax output.

Architecture (seed 003)::

    I (28, 28) --conv K1 (1,4,5,5) + b1 (4,), f--> C1 (4, 24, 24)   C^1_m, m = 1..4
               --2x2 average pooling-----------> C1P (4, 12, 12) C^1_{P_m}
               --conv K2 (4,6,5,5) + b2 (6,), f-> C2 (6, 8, 8)    C^2_n, n = 1..6
               --2x2 average pooling-----------> C2P (6, 4, 4)   C^2_{P_n}
               --flatten (column scan, maps in order n)----> flat (96,)
               --W1 (50, 96), b_1 (50,), f-----> a1 (50,)        hidden layer
               --W2 (10, 50), b_2 (10,), softmax> s (10,)        output a_2 = s
    L = -sum_i y_i log s_i (cross-entropy), so the output error is delta = s - y.

Names: seed 003 writes the convolution biases with a superscript (``b^1_m``, ``b^2_n``) and the
dense biases with a subscript (``b_1``, ``b_2``); the keys are ``b1``, ``b2`` and ``b_1``, ``b_2``.
The kernels are stored ``[input map, output map, u, v]``, the layout of
:func:`helpers.convolution.conv_forward`: ``K1[0, m]`` is the seed's ``K^1_{l,m}`` (one input)
and ``K2[m, n]`` its ``K^2_{m,n}`` (24 kernels).

Conventions as in Zhang's paper (seed 001), which seed 003 follows: true convolution (the kernel
is flipped), valid output, average pooling, dense layers written with column vectors,
``z1 = W1 flat + b_1``. Seed 003 leaves the activation ``f`` and the scan order of the flattening
open; this module uses ``f = sigmoid`` (``activation="relu"`` is offered for comparison) and
Zhang's column scan (eq. 10).

For a batch ``(N, 28, 28)`` the loss is the mean over the images and the gradients are those of
the mean. Public: :data:`PARAM_SHAPES`, :func:`init_bounds`, :func:`init_params`,
:func:`count_params`, :func:`count_terms`, :func:`check_params`, :func:`flatten`,
:func:`unflatten`, :func:`forward`, :func:`loss`, :func:`backward_with_errors`,
:func:`backward`, :func:`loss_and_grads`, :func:`evaluate`, :func:`forward_naive`,
:func:`backward_naive`.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_choice, check_images, check_param_dict
from .activations import relu, sigmoid, softmax, softmax_cross_entropy
from .convolution import conv_forward, rot180
from .flatten import column_scan, column_unscan
from .network import check_labels, evaluate_with, uniform_init
from .pooling import avgpool_backward, avgpool_forward

N_CLASSES = 10
PARAM_SHAPES = {
    "K1": (1, 4, 5, 5),
    "b1": (4,),
    "K2": (4, 6, 5, 5),
    "b2": (6,),
    "W1": (50, 96),
    "b_1": (50,),
    "W2": (10, 50),
    "b_2": (10,),
}
INIT_RULES = ("seed003", "glorot")
ACTIVATIONS = ("sigmoid", "relu")
_CACHE_KEYS = ("x", "C1_sigma", "C1", "C1P", "C2_sigma", "C2", "C2P", "flat", "z1", "a1", "z2", "s")


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------
def init_bounds(rule: str = "seed003") -> dict:
    """Bounds ``a`` of the uniform distributions ``U(-a, a)`` of seed 003's initialisation.

    ``rule="seed003"``: as printed in the handout, ``K1: sqrt(4 / ((1 + 4) * 5^2))`` (numerator
    4), ``K2: sqrt(6 / ((4 + 6) * 5^2))``, ``W1: sqrt(6 / (96 + 50))``, ``W2: sqrt(6 / (10 + 50))``.
    ``rule="glorot"``: the rule of Zhang's eqs. 1-3, ``sqrt(6 / (n_in + n_out))`` everywhere; it
    differs only in K1, ``sqrt(6 / ((1 + 4) * 5^2))``.
    """
    rule = check_choice(rule, "rule", INIT_RULES)
    k1_numerator = 4.0 if rule == "seed003" else 6.0
    return {
        "K1": float(np.sqrt(k1_numerator / ((1 + 4) * 5 ** 2))),
        "K2": float(np.sqrt(6.0 / ((4 + 6) * 5 ** 2))),
        "W1": float(np.sqrt(6.0 / (96 + 50))),
        "W2": float(np.sqrt(6.0 / (10 + 50))),
    }


def init_params(seed: int = 0, dtype=np.float64, rule: str = "seed003") -> dict:
    """Kernels and weights uniform in ``+-init_bounds(rule)`` (drawn K1, K2, W1, W2 in this order
    from ``numpy.random.default_rng(seed)``), all biases zero ("All biases initialized to zeros").

    Returns a dict of ``dtype`` arrays with the shapes of :data:`PARAM_SHAPES` (6070 numbers).
    The same ``seed`` draws the same uniform numbers for both rules, so ``K1`` of the two rules
    differ exactly by the factor ``sqrt(4/6)``.
    """
    return uniform_init(PARAM_SHAPES, init_bounds(rule), seed, dtype, unit_scaled=True)


def count_terms() -> dict:
    """Trainable numbers per tensor, from :data:`PARAM_SHAPES`: K1 100, b1 4, K2 600, b2 6,
    W1 4800, b_1 50, W2 500, b_2 10."""
    return {key: int(np.prod(shape)) for key, shape in PARAM_SHAPES.items()}


def count_params(params=None) -> int:
    """Total trainable numbers, 6070 (seed 003 prints 6170; notebook 08, section 2)."""
    if params is not None:
        check_params(params)
    return sum(count_terms().values())


def check_params(params) -> np.dtype:
    """Validate a parameter dict (keys and shapes of :data:`PARAM_SHAPES`); return its dtype."""
    return check_param_dict(params, PARAM_SHAPES)


# --------------------------------------------------------------------------------------------
# flattening (seed 003 leaves the order open; Zhang's column scan, eq. 10)
# --------------------------------------------------------------------------------------------
def flatten(C2P):
    """Six 4x4 maps ``(N, 6, 4, 4)`` -> ``(N, 96)``: Zhang's column scan (eq. 10,
    :func:`helpers.flatten.column_scan`), so ``flat[16 n + 4 j + i] = C2P[n, i, j]`` (0-based)."""
    C2P = as_float_array(C2P, "C2P")
    if C2P.ndim != 4 or C2P.shape[1:] != (6, 4, 4):
        raise ValueError(f"C2P must have shape (N, 6, 4, 4), got {C2P.shape}")
    return column_scan(C2P)


def unflatten(flat):
    """The inverse of :func:`flatten` (Zhang eq. 11): ``(N, 96)`` -> ``(N, 6, 4, 4)``."""
    flat = as_float_array(flat, "flat")
    if flat.ndim != 2 or flat.shape[1] != 96:
        raise ValueError(f"flat must have shape (N, 96), got {flat.shape}")
    return column_unscan(flat, 6, 4)


def _f(z, activation):
    return sigmoid(z) if activation == "sigmoid" else relu(z)


def _f_prime(z, a, activation):
    """f'(z): ``a (1 - a)`` for the sigmoid (from its output), ``1[z > 0]`` for ReLU."""
    return a * (1 - a) if activation == "sigmoid" else (z > 0).astype(a.dtype)


# --------------------------------------------------------------------------------------------
# the fast passes, built from helpers.convolution, helpers.pooling and helpers.activations
# --------------------------------------------------------------------------------------------
def forward(params, x, activation: str = "sigmoid") -> dict:
    """Forward pass of seed 003's network for one image ``(28, 28)`` or a batch ``(N, 28, 28)``.

    Returns a cache with ``x, C1_sigma, C1, C1P, C2_sigma, C2, C2P, flat, z1, a1, z2, s``
    (``*_sigma`` and ``z*`` are the values before the activation; batch axis only for a batch)
    plus ``batched``, ``activation`` and ``layer_caches``: the caches of the four layers
    ``(conv1, pool1, conv2, pool2)`` for :func:`helpers.convolution.conv_backward` and
    :func:`helpers.pooling.avgpool_backward` (always with the batch axis).
    """
    dtype = check_params(params)
    activation = check_choice(activation, "activation", ACTIVATIONS)
    X, batched = check_images(x, dtype)
    C1_sigma, conv1 = conv_forward(X[:, None], params["K1"], params["b1"], convention="convolution")
    C1 = _f(C1_sigma, activation)                                   # (N, 4, 24, 24)
    C1P, pool1 = avgpool_forward(C1, 2)                             # (N, 4, 12, 12)
    C2_sigma, conv2 = conv_forward(C1P, params["K2"], params["b2"], convention="convolution")
    C2 = _f(C2_sigma, activation)                                   # (N, 6, 8, 8)
    C2P, pool2 = avgpool_forward(C2, 2)                             # (N, 6, 4, 4)
    flat = flatten(C2P)                                             # (N, 96)
    z1 = flat @ params["W1"].T + params["b_1"]                      # (N, 50)
    a1 = _f(z1, activation)
    z2 = a1 @ params["W2"].T + params["b_2"]                        # (N, 10)
    s = softmax(z2, axis=1)
    cache = {"x": X, "C1_sigma": C1_sigma, "C1": C1, "C1P": C1P, "C2_sigma": C2_sigma, "C2": C2,
             "C2P": C2P, "flat": flat, "z1": z1, "a1": a1, "z2": z2, "s": s}
    if not batched:
        cache = {key: val[0] for key, val in cache.items()}
    cache.update(batched=batched, activation=activation, layer_caches=(conv1, pool1, conv2, pool2))
    return cache


def _batched(cache) -> dict:
    if not isinstance(cache, dict):
        raise TypeError(f"cache must be the dict returned by forward(), got {type(cache).__name__}")
    missing = [k for k in _CACHE_KEYS + ("batched", "activation") if k not in cache]
    if missing:
        raise ValueError(f"cache is missing {missing}: pass the dict returned by forward()")
    if cache["batched"]:
        return {k: cache[k] for k in _CACHE_KEYS}
    return {k: cache[k][None] for k in _CACHE_KEYS}


def loss(cache, y) -> float:
    """Cross-entropy ``L = -sum_i y_i log s_i`` of the cached pass (mean over a batch), computed
    from the logits ``z2`` with log-sum-exp. ``y``: label(s) or one-hot row(s)."""
    c = _batched(cache)
    Y = check_labels(y, c["z2"].shape[0], cache["batched"], c["z2"].dtype)
    return softmax_cross_entropy(c["z2"], Y)[0]


def backward_with_errors(params, cache, y):
    """The full backward pass of seed 003 (its pages 4-5), vectorized; returns ``(grads, errors)``.

    Output and hidden layer (BP1-BP4 with one hidden layer)::

        delta = s - y                        dW2 = delta a1^T,        db_2 = delta
        delta1 = (W2^T delta) * f'(z1)       dW1 = delta1 flat^T,     db_1 = delta1
        d_flat = W1^T delta1

    Convolutional part (Zhang eqs. 31-64 with 4 and 6 maps)::

        dC2P = flatten^{-1}(d_flat)                    (6, 4, 4)
        dC2_sigma = upsample(dC2P) / 4 * f'            (6, 8, 8)   seed 003's delta C^2_n
        dK2 = C1P_rot180 * dC2_sigma,  db2 = sum of dC2_sigma
        dC1P = sum_n dC2_sigma full-convolved with K2_rot180        (4, 12, 12)
        dC1_sigma = upsample(dC1P) / 4 * f'            (4, 24, 24) seed 003's delta C^1_m
        dK1 = I_rot180 * dC1_sigma,  db1 = sum of dC1_sigma

    Each convolution above is one :func:`helpers.convolution.conv_forward` call (cross-correlation
    with the error maps as kernels, or with the kernels on the zero-padded error), which gives the
    same numbers as :func:`~helpers.convolution.conv_backward` with fewer array operations.

    ``errors``: ``delta (10,), delta1 (50,), d_flat (96,), dC2P (6,4,4), dC2_sigma (6,8,8),
    dC1P (4,12,12), dC1_sigma (4,24,24)`` (batch axis only for a batch; each carries the factor
    1/N of the mean loss).
    """
    dtype = check_params(params)
    c = _batched(cache)
    activation = cache["activation"]
    conv1, pool1, conv2, pool2 = cache["layer_caches"]
    n = c["x"].shape[0]
    Y = check_labels(y, n, cache["batched"], dtype)
    delta = (c["s"] - Y) / n                                                 # delta = s - y
    dW2 = delta.T @ c["a1"]                                                  # delta a1^T
    db_2 = delta.sum(axis=0)
    delta1 = (delta @ params["W2"]) * _f_prime(c["z1"], c["a1"], activation)  # W2^T delta * f'
    dW1 = delta1.T @ c["flat"]                                               # delta1 flat^T
    db_1 = delta1.sum(axis=0)
    d_flat = delta1 @ params["W1"]                                           # W1^T delta1
    dC2P = unflatten(d_flat)
    dC2_sigma = avgpool_backward(dC2P, pool2) * _f_prime(c["C2_sigma"], c["C2"], activation)
    # Second layer. Each gradient is itself a correlation, so conv_forward computes it in one call:
    # the kernel gradient correlates the layer's input with its error (images as input channels)
    # and is rotated back for the convolution convention (Zhang eq. 40); the input's error is the
    # error zero-padded by 4 and correlated with the kernels, inputs and outputs swapped
    # (the full convolution with the rotated kernels of Zhang eq. 51).
    corr2, _ = conv_forward(c["C1P"].transpose(1, 0, 2, 3), dC2_sigma, None, convention="correlation")
    dK2 = rot180(corr2)                                                      # (4, 6, 5, 5)
    db2 = dC2_sigma.sum(axis=(0, 2, 3))
    dC1P, _ = conv_forward(dC2_sigma, params["K2"].transpose(1, 0, 2, 3), None, padding=4,
                           convention="correlation")                         # (N, 4, 12, 12)
    dC1_sigma = avgpool_backward(dC1P, pool1) * _f_prime(c["C1_sigma"], c["C1"], activation)
    corr1, _ = conv_forward(c["x"][None], dC1_sigma, None, convention="correlation")
    dK1 = rot180(corr1)                                                      # (1, 4, 5, 5)
    db1 = dC1_sigma.sum(axis=(0, 2, 3))
    grads = {"K1": dK1, "b1": db1, "K2": dK2, "b2": db2, "W1": dW1, "b_1": db_1, "W2": dW2, "b_2": db_2}
    grads = {k: np.array(v, dtype=dtype, order="C") for k, v in grads.items()}
    errors = {"delta": delta, "delta1": delta1, "d_flat": d_flat, "dC2P": dC2P, "dC2_sigma": dC2_sigma,
              "dC1P": dC1P, "dC1_sigma": dC1_sigma}
    if not cache["batched"]:
        errors = {k: v[0] for k, v in errors.items()}
    return grads, errors


def backward(params, cache, y) -> dict:
    """Gradients of the cross-entropy with the keys of ``params`` (see :func:`backward_with_errors`)."""
    return backward_with_errors(params, cache, y)[0]


def loss_and_grads(params, x, y, activation: str = "sigmoid"):
    """``(L, grads)`` for images ``x`` and targets ``y`` in one call (the training step's need)."""
    cache = forward(params, x, activation)
    return loss(cache, y), backward(params, cache, y)


def evaluate(params, x, y, activation: str = "sigmoid", batch_size: int = 1000) -> dict:
    """Mean cross-entropy, accuracy (fraction), predicted classes ``y_pred`` and outputs ``y_hat``
    (s) on images ``x (N, 28, 28)`` with integer labels ``y (N,)``, in chunks of ``batch_size``
    (:func:`helpers.network.evaluate_with`, the same keys for every network)."""
    check_params(params)
    activation = check_choice(activation, "activation", ACTIVATIONS)

    def batch(xb, yb):
        cache = forward(params, xb, activation)
        return loss(cache, yb), cache["s"]

    return evaluate_with(batch, x, y, batch_size)


# --------------------------------------------------------------------------------------------
# loops in seed 003's indices (one image, sigmoid)
# --------------------------------------------------------------------------------------------
def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward_naive(params, x) -> dict:
    """Seed 003's forward equations for one image, entry by entry (f = sigmoid).

    Index map (as for Zhang, notebook 01): the seed's 1-based ``i, j`` and centred ``u, v = -2..2``
    become 0-based ``i, j`` and ``K[u + 2, v + 2]``; its ``I(i - u, j - v)`` needs the unstated
    offset +2, so it reads ``x[i + 2 - u, j + 2 - v]``. The pooling ``C(2i - u, 2j - v)``
    (1-based, u, v in 0..1) reads ``C[2i + 1 - u, 2j + 1 - v]`` (0-based).
    """
    dtype = check_params(params)
    X, batched = check_images(x, dtype)
    if batched:
        raise ValueError(f"forward_naive takes one image of shape (28, 28), got {X.shape}")
    I = X[0]
    K1, b1, K2, b2 = params["K1"][0], params["b1"], params["K2"], params["b2"]
    W1, b_1, W2, b_2 = params["W1"], params["b_1"], params["W2"], params["b_2"]
    C1_sigma = np.zeros((4, 24, 24), dtype)
    for m in range(4):
        for i in range(24):
            for j in range(24):
                total = b1[m]
                for u in range(-2, 3):
                    for v in range(-2, 3):
                        total += I[i + 2 - u, j + 2 - v] * K1[m, u + 2, v + 2]
                C1_sigma[m, i, j] = total
    C1 = _sig(C1_sigma)
    C1P = np.zeros((4, 12, 12), dtype)
    for m in range(4):
        for i in range(12):
            for j in range(12):
                C1P[m, i, j] = 0.25 * sum(C1[m, 2 * i + 1 - u, 2 * j + 1 - v] for u in range(2) for v in range(2))
    C2_sigma = np.zeros((6, 8, 8), dtype)
    for n in range(6):
        for i in range(8):
            for j in range(8):
                total = b2[n]
                for m in range(4):
                    for u in range(-2, 3):
                        for v in range(-2, 3):
                            total += C1P[m, i + 2 - u, j + 2 - v] * K2[m, n, u + 2, v + 2]
                C2_sigma[n, i, j] = total
    C2 = _sig(C2_sigma)
    C2P = np.zeros((6, 4, 4), dtype)
    for n in range(6):
        for i in range(4):
            for j in range(4):
                C2P[n, i, j] = 0.25 * sum(C2[n, 2 * i + 1 - u, 2 * j + 1 - v] for u in range(2) for v in range(2))
    flat = np.zeros(96, dtype)
    for n in range(6):                      # column scan of each map, maps in order n
        for j in range(4):
            for i in range(4):
                flat[16 * n + 4 * j + i] = C2P[n, i, j]
    z1 = np.array([b_1[h] + sum(W1[h, k] * flat[k] for k in range(96)) for h in range(50)])
    a1 = _sig(z1)
    z2 = np.array([b_2[o] + sum(W2[o, h] * a1[h] for h in range(50)) for o in range(10)])
    e = np.exp(z2 - z2.max())
    s = e / e.sum()
    return {"x": I, "C1_sigma": C1_sigma, "C1": C1, "C1P": C1P, "C2_sigma": C2_sigma, "C2": C2,
            "C2P": C2P, "flat": flat, "z1": z1, "a1": a1, "z2": z2, "s": s, "batched": False,
            "activation": "sigmoid"}


def backward_naive(params, cache, y) -> dict:
    """Seed 003's backward equations (pages 4-5) for one image, entry by entry (f = sigmoid).

    Same index map as :func:`forward_naive`. With ``C2(i, j)`` reading ``C1P[i + 2 - u, j + 2 - v]``:
    ``dK2[m, n](u, v) = sum_{i,j} dC2_sigma[n](i, j) C1P[m](i + 2 - u, j + 2 - v)``, and
    ``dC1P[m](i, j) = sum_n sum_{u,v} dC2_sigma[n](i - 2 + u, j - 2 + v) K2[m, n](u, v)`` over the
    positions that exist (the zero padding of the full convolution). Returns the gradient dict.
    """
    dtype = check_params(params)
    if cache.get("batched", False) or cache.get("activation", "sigmoid") != "sigmoid":
        raise ValueError("backward_naive takes the cache of one image with f = sigmoid (forward_naive)")
    Y = check_labels(y, 1, False, dtype)[0]
    K2, W1, W2 = params["K2"], params["W1"], params["W2"]
    I, C1, C1P, C2, flat, a1, s = (cache[k] for k in ("x", "C1", "C1P", "C2", "flat", "a1", "s"))

    delta = np.array([s[o] - Y[o] for o in range(10)])                        # delta_i = s_i - y_i
    dW2 = np.array([[delta[o] * a1[h] for h in range(50)] for o in range(10)])
    db_2 = delta.copy()
    delta1 = np.array([sum(W2[o, h] * delta[o] for o in range(10)) * a1[h] * (1 - a1[h]) for h in range(50)])
    dW1 = np.array([[delta1[h] * flat[k] for k in range(96)] for h in range(50)])
    db_1 = delta1.copy()
    d_flat = np.array([sum(W1[h, k] * delta1[h] for h in range(50)) for k in range(96)])
    dC2P = np.zeros((6, 4, 4), dtype)
    for n in range(6):                                                        # undo the column scan
        for j in range(4):
            for i in range(4):
                dC2P[n, i, j] = d_flat[16 * n + 4 * j + i]
    dC2_sigma = np.zeros((6, 8, 8), dtype)
    for n in range(6):
        for i in range(8):
            for j in range(8):                                                # ceil(i/2) 1-based = i // 2 0-based
                dC2_sigma[n, i, j] = 0.25 * dC2P[n, i // 2, j // 2] * C2[n, i, j] * (1 - C2[n, i, j])
    dK2 = np.zeros((4, 6, 5, 5), dtype)
    for m in range(4):
        for n in range(6):
            for u in range(-2, 3):
                for v in range(-2, 3):
                    dK2[m, n, u + 2, v + 2] = sum(dC2_sigma[n, i, j] * C1P[m, i + 2 - u, j + 2 - v]
                                                  for i in range(8) for j in range(8))
    db2 = np.array([dC2_sigma[n].sum() for n in range(6)])
    dC1P = np.zeros((4, 12, 12), dtype)
    for m in range(4):
        for i in range(12):
            for j in range(12):
                total = 0.0
                for n in range(6):
                    for u in range(-2, 3):
                        for v in range(-2, 3):
                            ii, jj = i - 2 + u, j - 2 + v
                            if 0 <= ii < 8 and 0 <= jj < 8:
                                total += dC2_sigma[n, ii, jj] * K2[m, n, u + 2, v + 2]
                dC1P[m, i, j] = total
    dC1_sigma = np.zeros((4, 24, 24), dtype)
    for m in range(4):
        for i in range(24):
            for j in range(24):
                dC1_sigma[m, i, j] = 0.25 * dC1P[m, i // 2, j // 2] * C1[m, i, j] * (1 - C1[m, i, j])
    dK1 = np.zeros((1, 4, 5, 5), dtype)
    for m in range(4):
        for u in range(-2, 3):
            for v in range(-2, 3):
                dK1[0, m, u + 2, v + 2] = sum(dC1_sigma[m, i, j] * I[i + 2 - u, j + 2 - v]
                                              for i in range(24) for j in range(24))
    db1 = np.array([dC1_sigma[m].sum() for m in range(4)])
    grads = {"K1": dK1, "b1": db1, "K2": dK2, "b2": db2, "W1": dW1, "b_1": db_1, "W2": dW2, "b_2": db_2}
    return {k: np.asarray(v, dtype=dtype) for k, v in grads.items()}
