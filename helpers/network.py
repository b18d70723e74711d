"""Zhang's seed network (seed 001): forward pass, backward pass and initialisation.

Architecture (Zhang section 1)::

    x (28, 28) --conv k1 (6,5,5) + b1, sigmoid--> C1 (6, 24, 24)
               --2x2 average pooling-----------> S1 (6, 12, 12)
               --conv k2 (6,12,5,5) + b2, sigm.> C2 (12, 8, 8)
               --2x2 average pooling-----------> S2 (12, 4, 4)
               --F: column scan, concatenate---> f (192,)
               --W (10,192), b (10,), sigmoid--> y_hat (10,)
    L = 1/2 sum (y_hat - y)^2                                  (eq. 13)

Public contract (used by notebooks, tests, benchmarks and training):

* ``init_params(seed=0, dtype=float64) -> dict`` with ``k1 (6,5,5)``, ``b1 (6,)``,
  ``k2 (6,12,5,5)`` indexed ``[p, q, u, v]``, ``b2 (12,)``, ``W (10,192)``, ``b (10,)``.
* ``forward(params, x) -> cache`` for one image ``(28,28)`` or a batch ``(N,28,28)``; the cache
  holds ``x, C1_sigma, C1, S1, C2_sigma, C2, S2, f, y_hat_sigma, y_hat`` (``*_sigma`` is the value
  before the activation, Zhang's ``C^2_{q,sigma}`` of eq. 38), with a leading batch axis for a batch.
* ``backward(params, cache, y) -> grads`` with the keys of ``params``: the gradient of L for one
  image (``y`` one-hot ``(10,)``), or of the mean of L over a batch (``y (N,10)``).

Conventions exactly as Zhang: true convolution (the kernel is flipped), average pooling, ``f``
is the column scan of each 4x4 map of S2 with the maps in order q = 1..12. Images are floats in
[0, 1]. The parameters' dtype is the compute dtype (float32 stays float32).

Optional keyword ``variant`` settings (for notebook 06's comparisons; Zhang's choice is the
default): ``pooling="avg"|"max"``, ``conv_activation="sigmoid"|"relu"``,
``output="sigmoid"|"softmax"`` (softmax is trained with cross-entropy, ``delta = s - y``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import as_float_array, check_positive_int
from .activations import sigmoid, softmax
from .convolution import rot180
from .pooling import maxpool_backward, maxpool_forward

N_CLASSES = 10
PARAM_SHAPES = {
    "k1": (6, 5, 5),
    "b1": (6,),
    "k2": (6, 12, 5, 5),
    "b2": (12,),
    "W": (10, 192),
    "b": (10,),
}
DEFAULT_VARIANT = {"pooling": "avg", "conv_activation": "sigmoid", "output": "sigmoid"}
_VARIANT_CHOICES = {"pooling": ("avg", "max"), "conv_activation": ("sigmoid", "relu"),
                    "output": ("sigmoid", "softmax")}


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------
def glorot_bounds():
    """The uniform bounds of Zhang eqs. (1)-(3): ``sqrt(6 / ((n_in + n_out) * 5^2))`` for the
    kernels and ``sqrt(6 / (192 + 10))`` for W."""
    return {
        "k1": float(np.sqrt(6.0 / ((1 + 6) * 5 ** 2))),
        "k2": float(np.sqrt(6.0 / ((6 + 12) * 5 ** 2))),
        "W": float(np.sqrt(6.0 / (192 + 10))),
    }


def init_params(seed: int = 0, dtype=np.float64) -> dict:
    """Zhang eqs. (1)-(3): kernels and W uniform in ``+-bound``, all biases zero.

    Draws k1, then k2, then W from ``numpy.random.default_rng(seed)``. Returns a dict of
    ``dtype`` arrays with the shapes of :data:`PARAM_SHAPES` (3898 numbers in all).
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")
    rng = np.random.default_rng(seed)
    bounds = glorot_bounds()
    params = {
        "k1": rng.uniform(-bounds["k1"], bounds["k1"], PARAM_SHAPES["k1"]),
        "b1": np.zeros(PARAM_SHAPES["b1"]),
        "k2": rng.uniform(-bounds["k2"], bounds["k2"], PARAM_SHAPES["k2"]),
        "b2": np.zeros(PARAM_SHAPES["b2"]),
        "W": rng.uniform(-bounds["W"], bounds["W"], PARAM_SHAPES["W"]),
        "b": np.zeros(PARAM_SHAPES["b"]),
    }
    return {key: val.astype(dtype) for key, val in params.items()}


def count_params(params=None) -> int:
    """Number of trainable numbers; 3898 for the seed network (Zhang, end of section 1.1)."""
    shapes = PARAM_SHAPES if params is None else {k: np.shape(v) for k, v in params.items()}
    return int(sum(np.prod(s) for s in shapes.values()))


def check_params(params) -> np.dtype:
    """Validate a parameter dict; return its (common) floating dtype.

    Raises ``TypeError`` for a non-dict or non-float arrays, ``ValueError`` for a missing or
    extra key, a wrong shape, mixed dtypes, NaN or infinity.
    """
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict with keys {list(PARAM_SHAPES)}, got {type(params).__name__}")
    missing = [k for k in PARAM_SHAPES if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; expected keys {list(PARAM_SHAPES)}")
    extra = [k for k in params if k not in PARAM_SHAPES]
    if extra:
        raise ValueError(f"params has unexpected keys {extra}; expected keys {list(PARAM_SHAPES)}")
    dtypes = set()
    for key, shape in PARAM_SHAPES.items():
        arr = params[key]
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"params[{key!r}] must be a numpy array of shape {shape}, got {type(arr).__name__}")
        if arr.shape != shape:
            raise ValueError(f"params[{key!r}] must have shape {shape}, got {arr.shape}")
        as_float_array(arr, f"params[{key!r}]")
        dtypes.add(arr.dtype)
    if len(dtypes) != 1:
        raise TypeError(f"all parameters must share one float dtype, got {sorted(map(str, dtypes))}")
    return dtypes.pop()


def _check_variant(variant: dict) -> dict:
    unknown = set(variant) - set(DEFAULT_VARIANT)
    if unknown:
        raise TypeError(f"unknown network option(s) {sorted(unknown)}; known: {list(DEFAULT_VARIANT)}")
    config = dict(DEFAULT_VARIANT, **variant)
    for key, value in config.items():
        if value not in _VARIANT_CHOICES[key]:
            raise ValueError(f"{key} must be one of {_VARIANT_CHOICES[key]}, got {value!r}")
    return config


def _check_images(x, dtype) -> tuple[np.ndarray, bool]:
    x = as_float_array(x, "x")
    if x.ndim == 2:
        batched = False
        x = x[None]
    elif x.ndim == 3:
        batched = True
    elif x.ndim == 4 and x.shape[-1] in (3, 4):
        raise ValueError(f"x has shape {x.shape}: a colour image; the network takes grey images (28, 28) or (N, 28, 28)")
    else:
        raise ValueError(f"x must have shape (28, 28) or (N, 28, 28), got {x.shape}")
    if x.shape[1:] != (28, 28):
        shape = x.shape if batched else x.shape[1:]  # report the shape the caller passed
        hint = " (a colour image? use one grey channel)" if x.shape[-1] in (3, 4) else ""
        raise ValueError(f"x must have shape (28, 28) or (N, 28, 28), got {shape}{hint}")
    if x.shape[0] == 0:
        raise ValueError("x is an empty batch (N = 0)")
    return x.astype(dtype, copy=False), batched


def check_labels(y, n: int, batched: bool, dtype=np.float64) -> np.ndarray:
    """Return one-hot targets of shape ``(n, 10)``.

    Accepts one-hot rows (``(10,)`` for one image, ``(N, 10)`` for a batch) or integer class
    labels (a scalar for one image, ``(N,)`` for a batch).
    """
    y = np.asarray(y)
    want = (n, N_CLASSES) if batched else (N_CLASSES,)
    if y.dtype.kind in "iu" and y.shape != want:  # integer class labels (integer one-hot rows fall through)
        labels = y.reshape(-1) if batched else y.reshape(-1)[:1] if y.ndim == 0 else None
        if labels is None or (batched and y.ndim != 1) or labels.shape[0] != n:
            accepted = f"({n},) integer labels or ({n}, 10) one-hot" if batched else "a scalar label or (10,) one-hot"
            raise ValueError(f"y must be {accepted}, got shape {y.shape}")
        if labels.min() < 0 or labels.max() >= N_CLASSES:
            raise ValueError(f"y: integer labels must be in 0..9, got range {labels.min()}..{labels.max()}")
        onehot = np.zeros((n, N_CLASSES), dtype=dtype)
        onehot[np.arange(n), labels] = 1
        return onehot
    y = as_float_array(y, "y", allow_int=True)
    if y.shape != want:
        raise ValueError(f"y must have shape {want} (one-hot) to match x, got {y.shape}")
    return y.reshape(n, N_CLASSES).astype(dtype, copy=False)


# --------------------------------------------------------------------------------------------
# the fast (vectorized) forward and backward passes
# --------------------------------------------------------------------------------------------
def _flatten_F(S2):
    """Zhang eq. 10: column scan of each 4x4 map, maps concatenated in order q. ``(N,12,4,4) -> (N,192)``."""
    return S2.transpose(0, 1, 3, 2).reshape(S2.shape[0], -1)


def _unflatten_F(f):
    """Zhang eq. 11 (F^{-1}): ``(N,192) -> (N,12,4,4)``."""
    return f.reshape(f.shape[0], 12, 4, 4).transpose(0, 1, 3, 2)


def _pool(C, mode):
    if mode == "avg":
        n, c, h, w = C.shape
        return C.reshape(n, c, h // 2, 2, w // 2, 2).mean(axis=(3, 5)), None
    S, cache = maxpool_forward(C, 2, 2)
    return S, cache


def _unpool(dS, mode, pool_cache):
    if mode == "avg":
        return np.repeat(np.repeat(dS * 0.25, 2, axis=2), 2, axis=3)  # eqs. 32 and 52
    return maxpool_backward(dS, pool_cache)


def forward(params, x, **variant) -> dict:
    """Forward pass of the seed network (Zhang eqs. 4-12), vectorized with im2col.

    ``x``: one image ``(28, 28)`` or a batch ``(N, 28, 28)`` of floats in [0, 1].
    Returns the cache dict described in the module docstring (batch axis only for a batch).
    """
    dtype = check_params(params)
    config = _check_variant(variant)
    X, batched = _check_images(x, dtype)
    act = sigmoid if config["conv_activation"] == "sigmoid" else (lambda z: np.maximum(z, 0))

    # C1, eqs. 4-5: true convolution = correlation with rot180(k1).
    win1 = sliding_window_view(X, (5, 5), axis=(1, 2))  # (N, 24, 24, 5, 5)
    C1_sigma = np.tensordot(win1, rot180(params["k1"]), axes=([3, 4], [1, 2]))  # (N, 24, 24, 6)
    C1_sigma = C1_sigma.transpose(0, 3, 1, 2) + params["b1"][None, :, None, None]
    C1 = act(C1_sigma)
    S1, pool1 = _pool(C1, config["pooling"])  # eq. 6

    # C2, eqs. 7-8: sum over input maps p of S1_p convolved with k2[p, q].
    win2 = sliding_window_view(S1, (5, 5), axis=(2, 3))  # (N, 6, 8, 8, 5, 5)
    C2_sigma = np.tensordot(win2, rot180(params["k2"]), axes=([1, 4, 5], [0, 2, 3]))  # (N, 8, 8, 12)
    C2_sigma = C2_sigma.transpose(0, 3, 1, 2) + params["b2"][None, :, None, None]
    C2 = act(C2_sigma)
    S2, pool2 = _pool(C2, config["pooling"])  # eq. 9

    f = _flatten_F(S2)  # eq. 10
    y_hat_sigma = f @ params["W"].T + params["b"]
    y_hat = sigmoid(y_hat_sigma) if config["output"] == "sigmoid" else softmax(y_hat_sigma)  # eq. 12

    cache = {"x": X, "C1_sigma": C1_sigma, "C1": C1, "S1": S1, "C2_sigma": C2_sigma, "C2": C2,
             "S2": S2, "f": f, "y_hat_sigma": y_hat_sigma, "y_hat": y_hat}
    if not batched:
        cache = {key: val[0] for key, val in cache.items()}
    cache["batched"] = batched
    cache["config"] = config
    cache["_pool"] = (pool1, pool2)
    return cache


def _batched(cache):
    """The cache's arrays with a leading batch axis (a view for a single image)."""
    keys = ("x", "C1_sigma", "C1", "S1", "C2_sigma", "C2", "S2", "f", "y_hat_sigma", "y_hat")
    if not isinstance(cache, dict):
        raise TypeError(f"cache must be the dict returned by forward(), got {type(cache).__name__}")
    missing = [k for k in keys + ("batched", "config") if k not in cache]
    if missing:
        raise ValueError(f"cache is missing {missing}: pass the dict returned by forward()")
    if cache["batched"]:
        return {k: cache[k] for k in keys}
    return {k: cache[k][None] for k in keys}


def loss(cache, y) -> float:
    """Zhang eq. 13 (mean over a batch), or cross-entropy for the softmax output variant."""
    c = _batched(cache)
    Y = check_labels(y, c["y_hat"].shape[0], cache["batched"], c["y_hat"].dtype)
    if cache["config"]["output"] == "softmax":
        return float(np.mean(-np.sum(Y * np.log(np.clip(c["y_hat"], 1e-12, None)), axis=1)))
    return float(np.mean(0.5 * np.sum((c["y_hat"] - Y) ** 2, axis=1)))


def backward_with_errors(params, cache, y):
    """Backward pass returning ``(grads, errors)``.

    ``errors`` holds the intermediate error maps named as in Zhang: ``dy_hat`` (eq. 18's
    Delta y_hat), ``df`` (30), ``dS2`` (31), ``dC2`` (32), ``dC2_sigma`` (37), ``dS1`` (51),
    ``dC1`` (52), ``dC1_sigma`` (57); batch axis only for a batch. For a batch, everything is
    the gradient of the MEAN loss, so each error carries a factor 1/N.
    """
    dtype = check_params(params)
    c = _batched(cache)
    config = cache["config"]
    n = c["x"].shape[0]
    Y = check_labels(y, n, cache["batched"], dtype)
    pool1, pool2 = cache.get("_pool", (None, None))
    y_hat = c["y_hat"]

    # eqs. 17-18: Delta y_hat = (y_hat - y) y_hat (1 - y_hat); softmax + cross-entropy: s - y.
    if config["output"] == "sigmoid":
        dy_hat = (y_hat - Y) * y_hat * (1 - y_hat)
    else:
        dy_hat = y_hat - Y
    dy_hat = dy_hat / n  # the gradient of the mean loss over the batch
    dW = dy_hat.T @ c["f"]  # eq. 19
    db = dy_hat.sum(axis=0)  # eq. 24
    df = dy_hat @ params["W"]  # eq. 30
    dS2 = _unflatten_F(df)  # eq. 31
    dC2 = _unpool(dS2, config["pooling"], pool2)  # eq. 32
    dact2 = c["C2"] * (1 - c["C2"]) if config["conv_activation"] == "sigmoid" else (c["C2_sigma"] > 0)
    dC2_sigma = dC2 * dact2  # eq. 37
    db2 = dC2_sigma.sum(axis=(0, 2, 3))  # eq. 45
    win2 = sliding_window_view(c["S1"], (5, 5), axis=(2, 3))  # (N, 6, 8, 8, 5, 5)
    dK2 = np.tensordot(win2, dC2_sigma, axes=([0, 2, 3], [0, 2, 3]))  # (6, 5, 5, 12): gradient w.r.t. rot180(k2)
    dk2 = rot180(dK2.transpose(0, 3, 1, 2))  # eq. 40
    dpad = np.pad(dC2_sigma, ((0, 0), (0, 0), (4, 4), (4, 4)))
    wind = sliding_window_view(dpad, (5, 5), axis=(2, 3))  # (N, 12, 12, 12, 5, 5)
    dS1 = np.tensordot(wind, params["k2"], axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)  # eq. 51
    dC1 = _unpool(dS1, config["pooling"], pool1)  # eq. 52
    dact1 = c["C1"] * (1 - c["C1"]) if config["conv_activation"] == "sigmoid" else (c["C1_sigma"] > 0)
    dC1_sigma = dC1 * dact1  # eq. 57
    db1 = dC1_sigma.sum(axis=(0, 2, 3))  # eq. 64
    win1 = sliding_window_view(c["x"], (5, 5), axis=(1, 2))  # (N, 24, 24, 5, 5)
    dK1 = np.tensordot(dC1_sigma, win1, axes=([0, 2, 3], [0, 1, 2]))  # (6, 5, 5)
    dk1 = rot180(dK1)  # eq. 59

    grads = {"k1": dk1, "b1": db1, "k2": dk2, "b2": db2, "W": dW, "b": db}
    grads = {k: np.ascontiguousarray(v, dtype=dtype) for k, v in grads.items()}
    errors = {"dy_hat": dy_hat, "df": df, "dS2": dS2, "dC2": dC2, "dC2_sigma": dC2_sigma,
              "dS1": dS1, "dC1": dC1, "dC1_sigma": dC1_sigma}
    if not cache["batched"]:
        errors = {k: v[0] for k, v in errors.items()}
    return grads, errors


def backward(params, cache, y) -> dict:
    """Gradients of L (Zhang eqs. 14-64) with the keys of ``params``.

    ``cache`` is what :func:`forward` returned; ``y`` is one-hot ``(10,)`` for one image or
    ``(N, 10)`` for a batch (integer labels are accepted too). For a batch the result is the
    gradient of the mean loss.
    """
    return backward_with_errors(params, cache, y)[0]


def loss_and_grads(params, x, y, **variant):
    """Convenience: ``(L, grads)`` for images ``x`` and targets ``y``."""
    cache = forward(params, x, **variant)
    return loss(cache, y), backward(params, cache, y)


def predict(params, x, batch_size: int = 500, **variant) -> np.ndarray:
    """Class predictions ``argmax y_hat`` for a batch ``(N, 28, 28)``, in chunks."""
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, 28, 28), got {x.shape}")
    batch_size = check_positive_int(batch_size, "batch_size")
    out = [forward(params, x[i:i + batch_size], **variant)["y_hat"].argmax(axis=1) for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


# --------------------------------------------------------------------------------------------
# loops that mirror Zhang's index equations (one image, default variant)
# --------------------------------------------------------------------------------------------
def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward_naive(params, x) -> dict:
    """Zhang eqs. 4-13 for one image, entry by entry, with plain Python loops.

    Index map: Zhang's 1-based output index ``i`` and centred kernel index ``u = -2..2`` become
    the 0-based ``i`` and ``k[u + 2]``; his ``I(i - u, j - v)`` needs an unstated offset of +2 to
    stay inside the image, so it reads ``x[i + 2 - u, j + 2 - v]`` here. Pooling eq. 6's
    ``C(2i - u, 2j - v)`` (1-based, u, v in 0..1) is ``C[2i + 1 - u, 2j + 1 - v]`` (0-based).
    Returns the same keys as :func:`forward` for one image.
    """
    dtype = check_params(params)
    X, batched = _check_images(x, dtype)
    if batched:
        raise ValueError("forward_naive takes one image of shape (28, 28)")
    X = X[0]
    k1, b1, k2, b2, W, b = (params[k] for k in PARAM_SHAPES)
    C1_sigma = np.zeros((6, 24, 24), dtype)
    for p in range(6):
        for i in range(24):
            for j in range(24):
                total = b1[p]
                for u in range(-2, 3):
                    for v in range(-2, 3):
                        total += X[i + 2 - u, j + 2 - v] * k1[p, u + 2, v + 2]
                C1_sigma[p, i, j] = total
    C1 = _sig(C1_sigma)
    S1 = np.zeros((6, 12, 12), dtype)
    for p in range(6):
        for i in range(12):
            for j in range(12):
                S1[p, i, j] = 0.25 * sum(C1[p, 2 * i + 1 - u, 2 * j + 1 - v] for u in range(2) for v in range(2))
    C2_sigma = np.zeros((12, 8, 8), dtype)
    for q in range(12):
        for i in range(8):
            for j in range(8):
                total = b2[q]
                for p in range(6):
                    for u in range(-2, 3):
                        for v in range(-2, 3):
                            total += S1[p, i + 2 - u, j + 2 - v] * k2[p, q, u + 2, v + 2]
                C2_sigma[q, i, j] = total
    C2 = _sig(C2_sigma)
    S2 = np.zeros((12, 4, 4), dtype)
    for q in range(12):
        for i in range(4):
            for j in range(4):
                S2[q, i, j] = 0.25 * sum(C2[q, 2 * i + 1 - u, 2 * j + 1 - v] for u in range(2) for v in range(2))
    f = np.zeros(192, dtype)
    idx = 0
    for q in range(12):  # eq. 10: maps in order q, each scanned column by column
        for j in range(4):
            for i in range(4):
                f[idx] = S2[q, i, j]
                idx += 1
    y_hat_sigma = np.zeros(10, dtype)
    for i in range(10):
        y_hat_sigma[i] = b[i] + sum(W[i, j] * f[j] for j in range(192))
    y_hat = _sig(y_hat_sigma)
    return {"x": X, "C1_sigma": C1_sigma, "C1": C1, "S1": S1, "C2_sigma": C2_sigma, "C2": C2,
            "S2": S2, "f": f, "y_hat_sigma": y_hat_sigma, "y_hat": y_hat, "batched": False,
            "config": dict(DEFAULT_VARIANT), "_pool": (None, None)}


def backward_naive(params, cache, y) -> dict:
    """Zhang eqs. 14-64 for one image, entry by entry, with plain Python loops.

    Same index map as :func:`forward_naive`: ``C2(i, j)`` (0-based) reads ``S1[i + 2 - u, j + 2 - v]``,
    so in eq. 36 ``dk2(u, v) = sum_{i,j} dC2_sigma(i, j) S1[i + 2 - u, j + 2 - v]`` and in eq. 49
    ``dS1(i, j) = sum_q sum_{u,v} dC2_sigma[i - 2 + u, j - 2 + v] k2(u, v)`` over the (i, j) that
    exist (the zero padding of the full convolution). Returns the gradient dict.
    """
    dtype = check_params(params)
    if cache.get("batched", False):
        raise ValueError("backward_naive takes the cache of one image")
    Y = check_labels(y, 1, False, dtype)[0]
    k1, b1, k2, b2, W, b = (params[k] for k in PARAM_SHAPES)
    X, C1, S1, C2, f, y_hat = (cache[k] for k in ("x", "C1", "S1", "C2", "f", "y_hat"))

    dy_hat = np.array([(y_hat[i] - Y[i]) * y_hat[i] * (1 - y_hat[i]) for i in range(10)])  # eq. 17
    dW = np.zeros((10, 192), dtype)
    for i in range(10):
        for j in range(192):
            dW[i, j] = dy_hat[i] * f[j]  # eq. 18
    db = dy_hat.copy()  # eq. 24
    df = np.zeros(192, dtype)
    for j in range(192):
        df[j] = sum(dy_hat[i] * W[i, j] for i in range(10))  # eq. 29
    dS2 = np.zeros((12, 4, 4), dtype)
    idx = 0
    for q in range(12):  # eq. 31: undo the column scan
        for j in range(4):
            for i in range(4):
                dS2[q, i, j] = df[idx]
                idx += 1
    dC2_sigma = np.zeros((12, 8, 8), dtype)
    for q in range(12):
        for i in range(8):
            for j in range(8):
                dC2 = 0.25 * dS2[q, i // 2, j // 2]  # eq. 32, ceil(i/2) 1-based = i // 2 0-based
                dC2_sigma[q, i, j] = dC2 * C2[q, i, j] * (1 - C2[q, i, j])  # eq. 37
    dk2 = np.zeros((6, 12, 5, 5), dtype)
    for p in range(6):
        for q in range(12):
            for u in range(-2, 3):
                for v in range(-2, 3):
                    dk2[p, q, u + 2, v + 2] = sum(dC2_sigma[q, i, j] * S1[p, i + 2 - u, j + 2 - v]
                                                  for i in range(8) for j in range(8))  # eq. 36/39
    db2 = np.array([dC2_sigma[q].sum() for q in range(12)])  # eq. 45
    dS1 = np.zeros((6, 12, 12), dtype)
    for p in range(6):
        for i in range(12):
            for j in range(12):
                total = 0.0
                for q in range(12):
                    for u in range(-2, 3):
                        for v in range(-2, 3):
                            ii, jj = i - 2 + u, j - 2 + v
                            if 0 <= ii < 8 and 0 <= jj < 8:
                                total += dC2_sigma[q, ii, jj] * k2[p, q, u + 2, v + 2]  # eq. 49
                dS1[p, i, j] = total
    dC1_sigma = np.zeros((6, 24, 24), dtype)
    for p in range(6):
        for i in range(24):
            for j in range(24):
                dC1 = 0.25 * dS1[p, i // 2, j // 2]  # eq. 52
                dC1_sigma[p, i, j] = dC1 * C1[p, i, j] * (1 - C1[p, i, j])  # eq. 57
    dk1 = np.zeros((6, 5, 5), dtype)
    for p in range(6):
        for u in range(-2, 3):
            for v in range(-2, 3):
                dk1[p, u + 2, v + 2] = sum(dC1_sigma[p, i, j] * X[i + 2 - u, j + 2 - v]
                                           for i in range(24) for j in range(24))  # eq. 56/58
    db1 = np.array([dC1_sigma[p].sum() for p in range(6)])  # eq. 64
    return {"k1": dk1, "b1": db1.astype(dtype), "k2": dk2, "b2": db2.astype(dtype), "W": dW, "b": db.astype(dtype)}
