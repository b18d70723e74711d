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

import threading

import numpy as np

from ._validate import as_float_array, check_images, check_param_dict, check_positive_int
from .activations import softmax
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
    """Validate a parameter dict (keys and shapes of :data:`PARAM_SHAPES`); return its dtype.

    Raises ``TypeError`` for a non-dict or non-float arrays, ``ValueError`` for a missing or
    extra key, a wrong shape, mixed dtypes, NaN or infinity
    (:func:`helpers._validate.check_param_dict`).
    """
    return check_param_dict(params, PARAM_SHAPES)


def _check_variant(variant: dict) -> dict:
    unknown = set(variant) - set(DEFAULT_VARIANT)
    if unknown:
        raise TypeError(f"unknown network option(s) {sorted(unknown)}; known: {list(DEFAULT_VARIANT)}")
    config = dict(DEFAULT_VARIANT, **variant)
    for key, value in config.items():
        if value not in _VARIANT_CHOICES[key]:
            raise ValueError(f"{key} must be one of {_VARIANT_CHOICES[key]}, got {value!r}")
    return config


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


# --------------------------------------------------------------------------------------------
# the engine behind forward() and backward()
#
# Layout: every stack of maps is stored channel-major, ``(channels, N * H * W)``, so that one
# matrix product per layer and per chunk of images does a whole convolution (im2col: the
# ``(25 channels_in, positions)`` matrix of 5x5 windows is one strided view and one copy).
# C2 lives on a 12-column grid (8 x 12 per map; columns 8..11 hold don't-care values), so that
# the windows of S1 are flat shifts ``m + 12 u + v`` of a contiguous buffer and both im2col
# and col2im copy runs of 96 numbers instead of 8. The batch is processed in chunks of about
# _CHUNK images so that the im2col matrices stay in the processor's cache; they are rebuilt in
# backward() from x and S1 instead of being stored. The cache's channel-first arrays are views
# of these buffers. Scratch arrays are reused across calls (see _buffer).
# --------------------------------------------------------------------------------------------
_PARAM_ITEMS = tuple(PARAM_SHAPES.items())
_EXP_LIMIT = {}
_POOL_EXPAND = {}


def _fast_dtype(params):
    """The compute dtype of a valid ``params`` dict, checked in a few numpy calls.

    Everything unusual (not a plain dict of C arrays of one float dtype with the right shapes, or
    a sum of squares that is not finite) is handed to :func:`check_params`, which raises the
    documented errors or accepts it (finite values whose squares overflow).
    """
    if type(params) is dict and len(params) == 6:
        dtype = None
        for key, shape in _PARAM_ITEMS:
            arr = params.get(key)
            if type(arr) is not np.ndarray or arr.shape != shape:
                break
            if dtype is None:
                dtype = arr.dtype
                if dtype.kind != "f":
                    break
            elif arr.dtype != dtype:
                break
            if not np.isfinite(np.vdot(arr, arr)):
                break
        else:
            return dtype
    return check_params(params)


def _fast_images(x, dtype):
    """``(X, batched)`` with X a C-contiguous ``(N, 28, 28)`` array of ``dtype``; falls back to
    ``check_images`` (and its errors) for anything but a finite float ndarray of the right shape."""
    if type(x) is np.ndarray and x.dtype.kind == "f" and x.shape[-2:] == (28, 28) and 2 <= x.ndim <= 3 \
            and x.size and np.isfinite(np.vdot(x, x)):
        batched = x.ndim == 3
        X = x if batched else x[None]
    else:
        X, batched = check_images(x, dtype)
    return np.ascontiguousarray(X, dtype=dtype), batched


def _fast_labels(y, n, batched, dtype):
    if type(y) is np.ndarray and y.dtype == dtype and y.shape == ((n, N_CLASSES) if batched else (N_CLASSES,)) \
            and np.isfinite(np.vdot(y, y)):
        return y.reshape(n, N_CLASSES)
    return check_labels(y, n, batched, dtype)


def _exp_limit(dtype):
    limit = _EXP_LIMIT.get(dtype)
    if limit is None:
        limit = _EXP_LIMIT[dtype] = dtype.type(np.floor(np.log(np.finfo(dtype).max)) - 1)
    return limit


def _sigmoid_(z, out):
    """Zhang eq. 4, ``out = 1 / (1 + exp(-z))`` in five in-place passes. ``-z`` is capped so that
    ``exp`` never overflows (the capped value is below the dtype's smallest normal number)."""
    np.negative(z, out=out)
    np.minimum(out, _exp_limit(out.dtype), out=out)
    np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def _pool_expand(dtype, w, width):
    """``(w, width)`` matrix with ``E[j, 2j] = E[j, 2j + 1] = 1/4`` and zeros elsewhere: ``rows @ E``
    repeats every entry twice along a row and divides it by 4 (the column half of the upsampling
    of eqs. 32 and 52) in one exact matrix product; columns past ``2 w`` stay zero."""
    key = (dtype, w, width)
    E = _POOL_EXPAND.get(key)
    if E is None:
        E = np.zeros((w, width), dtype)
        E[np.arange(w), 2 * np.arange(w)] = 0.25
        E[np.arange(w), 2 * np.arange(w) + 1] = 0.25
        E.flags.writeable = False
        _POOL_EXPAND[key] = E
    return E


_CHUNK = 10
_WORK = threading.local()


def _buffer(name, shape, dtype):
    """A scratch array reused across calls (one per name, thread and dtype; replaced when the
    shape changes). Every caller overwrites what it reads, so results never depend on it; reuse
    only spares the kernel's page faults on fresh memory, which cost as much as the arithmetic."""
    store = getattr(_WORK, "buffers", None)
    if store is None:
        store = _WORK.buffers = {}
    key = (name, dtype)
    arr = store.get(key)
    if arr is None or arr.shape != shape:
        arr = store[key] = np.empty(shape, dtype)
    return arr


def _chunks(n, size):
    """Boundaries of ``ceil(n / size)`` nearly equal chunks of ``range(n)``."""
    k = -(-n // size)
    return [(n * i // k, n * (i + 1) // k) for i in range(k)]


def _cols1(X, n0, n1):
    """im2col of the images ``n0:n1``: rows 0..24 ``cols[(u, v), (n, i, j)] = X[n, i + u, j + v]``
    and a row of ones (for the bias), shape ``(26, b 576)``, in a reused buffer."""
    nb = n1 - n0
    s = X.itemsize
    cols = _buffer("cols1", (26, nb * 576), X.dtype)
    win = np.ndarray((5, 5, nb, 24, 24), X.dtype, X, n0 * 784 * s, (28 * s, s, 784 * s, 28 * s, s))
    np.copyto(cols[:25].reshape(5, 5, nb, 24, 24), win)
    cols[25] = 1
    return cols


def _cols2(S1b, N, n0, n1):
    """im2col of S1 for the images ``n0:n1`` on the 12-wide grid: ``cols[(p, u, v), (n, m)] =
    S1[p, n].flat[m + 12 u + v]`` for m = 12 i + j, i < 8, j < 12 (columns j >= 8 are
    don't-care outputs that read past the window), plus a row of ones. Shape ``(151, b 96)``."""
    nb = n1 - n0
    s = S1b.itemsize
    cols = _buffer("cols2", (151, nb * 96), S1b.dtype)
    win = np.ndarray((6, 5, 5, nb, 96), S1b.dtype, S1b, n0 * 144 * s, (N * 144 * s, 12 * s, s, 144 * s, s))
    np.copyto(cols[:150].reshape(6, 5, 5, nb, 96), win)
    cols[150] = 1
    return cols


def _kernels(params):
    """Flipped kernels as matrices with the bias as last column: ``K1 (6, 26)``, ``K2 (12, 151)``."""
    k1, b1, k2, b2 = params["k1"], params["b1"], params["k2"], params["b2"]
    K1 = np.empty((6, 26), k1.dtype)
    K1[:, :25] = k1[:, ::-1, ::-1].reshape(6, 25)
    K1[:, 25] = b1
    K2 = np.empty((12, 151), k2.dtype)
    K2[:, :150].reshape(12, 6, 25)[...] = k2[:, :, ::-1, ::-1].reshape(6, 12, 25).transpose(1, 0, 2)
    K2[:, 150] = b2
    return K1, K2


def _engine_forward(params, X, config):
    dtype = X.dtype
    N = X.shape[0]
    sig = config["conv_activation"] == "sigmoid"
    avg = config["pooling"] == "avg"
    K1, K2 = _kernels(params)
    C1s = np.empty((6, N * 576), dtype)
    C1 = np.empty_like(C1s)
    # Zeroed, not np.empty: the flat-shift im2col of C2 also reads (and then discards) columns
    # past the end of a chunk, i.e. S1 rows of the next chunk that are not computed yet; garbage
    # there made matmul warn about overflow at random (a stderr line strict nbval compares).
    S1b = np.zeros(6 * N * 144 + 8, dtype)
    S1 = S1b[:6 * N * 144].reshape(6, N * 12, 12)
    C2s = np.empty((12, N * 96), dtype)
    C2 = np.empty_like(C2s)
    S2 = np.empty((12, N * 4, 4), dtype)
    pools = [[], []]
    for n0, n1 in _chunks(N, _CHUNK if avg else N):
        nb = n1 - n0
        c1s = C1s[:, n0 * 576:n1 * 576]
        np.matmul(K1, _cols1(X, n0, n1), out=c1s)  # eqs. 4-5, bias included
        c1 = C1[:, n0 * 576:n1 * 576]
        _sigmoid_(c1s, c1) if sig else np.maximum(c1s, 0, out=c1)
        s1 = S1[:, n0 * 12:n1 * 12]
        if avg:  # eq. 6
            rows = c1.reshape(6, nb * 12, 2, 24)
            t = np.add(rows[:, :, 0], rows[:, :, 1], out=_buffer("pool1", (6, nb * 12, 24), dtype))
            np.add(t[:, :, 0::2], t[:, :, 1::2], out=s1)
            s1 *= 0.25
        else:
            S, pc = maxpool_forward(c1.reshape(6, nb, 24, 24).transpose(1, 0, 2, 3), 2, 2)
            s1[...] = S.transpose(1, 0, 2, 3).reshape(6, -1, 12)
            pools[0].append(pc)
        c2s = C2s[:, n0 * 96:n1 * 96]
        np.matmul(K2, _cols2(S1b, N, n0, n1), out=c2s)  # eqs. 7-8, bias included
        c2 = C2[:, n0 * 96:n1 * 96]
        _sigmoid_(c2s, c2) if sig else np.maximum(c2s, 0, out=c2)
        s2 = S2[:, n0 * 4:n1 * 4]
        if avg:  # eq. 9
            rows = c2.reshape(12, nb * 4, 2, 12)
            t = np.add(rows[:, :, 0], rows[:, :, 1], out=_buffer("pool2", (12, nb * 4, 12), dtype))
            np.add(t[:, :, 0:8:2], t[:, :, 1:8:2], out=s2)
            s2 *= 0.25
        else:
            S, pc = maxpool_forward(c2.reshape(12, nb, 8, 12)[..., :8].transpose(1, 0, 2, 3), 2, 2)
            s2[...] = S.transpose(1, 0, 2, 3).reshape(12, -1, 4)
            pools[1].append(pc)
    f = S2.reshape(12, N, 4, 4).transpose(1, 0, 3, 2).reshape(N, 192)  # eq. 10 (a copy)
    y_hat_sigma = f @ params["W"].T
    y_hat_sigma += params["b"]
    if config["output"] == "sigmoid":
        y_hat = _sigmoid_(y_hat_sigma, np.empty_like(y_hat_sigma))  # eq. 12
    else:
        y_hat = softmax(y_hat_sigma)
    engine = {"x": X, "C1_sigma": C1s, "C1": C1, "S1b": S1b, "C2_sigma": C2s, "C2": C2, "f": f, "y_hat": y_hat,
              "pools": (pools[0][0], pools[1][0]) if pools[0] else (None, None)}
    return engine, S2, y_hat_sigma


def _public(engine, S2, y_hat_sigma):
    """The cache's channel-first views ``(N, channels, H, W)`` of the internal arrays."""
    N = engine["x"].shape[0]
    t = (1, 0, 2, 3)
    return {"x": engine["x"],
            "C1_sigma": engine["C1_sigma"].reshape(6, N, 24, 24).transpose(t),
            "C1": engine["C1"].reshape(6, N, 24, 24).transpose(t),
            "S1": engine["S1b"][:6 * N * 144].reshape(6, N, 12, 12).transpose(t),
            "C2_sigma": engine["C2_sigma"].reshape(12, N, 8, 12)[..., :8].transpose(t),
            "C2": engine["C2"].reshape(12, N, 8, 12)[..., :8].transpose(t),
            "S2": S2.reshape(12, N, 4, 4).transpose(t),
            "f": engine["f"], "y_hat_sigma": y_hat_sigma, "y_hat": engine["y_hat"]}


def forward(params, x, **variant) -> dict:
    """Forward pass of the seed network (Zhang eqs. 4-12), vectorized with im2col.

    ``x``: one image ``(28, 28)`` or a batch ``(N, 28, 28)`` of floats in [0, 1].
    Returns the cache dict described in the module docstring (batch axis only for a batch).
    """
    dtype = _fast_dtype(params)
    config = _check_variant(variant)
    X, batched = _fast_images(x, dtype)
    engine, S2, y_hat_sigma = _engine_forward(params, X, config)
    cache = _public(engine, S2, y_hat_sigma)
    if not batched:
        cache = {key: val[0] for key, val in cache.items()}
    cache["batched"] = batched
    cache["config"] = config
    cache["_pool"] = engine.pop("pools")
    cache["_engine"] = engine
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


_CACHE_SHAPES = {"x": (28, 28), "C1_sigma": (6, 24, 24), "C1": (6, 24, 24), "S1": (6, 12, 12),
                 "C2_sigma": (12, 8, 8), "C2": (12, 8, 8), "f": (192,), "y_hat": (10,)}


def _engine_from_cache(c, dtype):
    """The internal layout rebuilt (copied) from a cache's channel-first arrays ``c`` (with a
    batch axis), for caches that forward() did not make, e.g. forward_naive's."""
    N = np.shape(c["x"])[0]
    arrays = {}
    for key, shape in _CACHE_SHAPES.items():
        arr = as_float_array(c[key], f"cache[{key!r}]")
        if arr.shape != (N,) + shape:
            raise ValueError(f"cache[{key!r}] must have shape {(N,) + shape}, got {arr.shape}")
        arrays[key] = arr.astype(dtype, copy=False)
    cm = lambda key, ch: np.ascontiguousarray(arrays[key].transpose(1, 0, 2, 3)).reshape(ch, -1)
    S1b = np.zeros(6 * N * 144 + 8, dtype)
    S1b[:6 * N * 144] = cm("S1", 6).ravel()
    C2s = np.zeros((12, N, 8, 12), dtype)
    C2 = np.zeros((12, N, 8, 12), dtype)
    C2s[..., :8] = arrays["C2_sigma"].transpose(1, 0, 2, 3)
    C2[..., :8] = arrays["C2"].transpose(1, 0, 2, 3)
    return {"x": np.ascontiguousarray(arrays["x"]), "C1_sigma": cm("C1_sigma", 6), "C1": cm("C1", 6),
            "S1b": S1b, "C2_sigma": C2s.reshape(12, -1), "C2": C2.reshape(12, -1),
            "f": np.ascontiguousarray(arrays["f"]), "y_hat": np.ascontiguousarray(arrays["y_hat"])}


def _engine_backward(params, engine, Y, config, pools, want_errors):
    """Zhang eqs. 14-64 on the internal layout; returns ``(grads, errors)`` (errors only if
    ``want_errors``, as channel-first views with a batch axis)."""
    y_hat = engine["y_hat"]
    dtype = y_hat.dtype
    N = y_hat.shape[0]
    s = dtype.itemsize
    sig = config["conv_activation"] == "sigmoid"
    avg = config["pooling"] == "avg"
    X, C1, C2, S1b, f = (engine[k] for k in ("x", "C1", "C2", "S1b", "f"))
    # Ku[(p, u), (q, v)] = k2[p, q, 4 - u, 4 - v]: the flipped kernel with rows (p, u), columns (q, v)
    Ku = params["k2"][:, :, ::-1, ::-1].transpose(0, 2, 1, 3).reshape(30, 60)

    # eqs. 17-18 (softmax + cross-entropy: s - y), divided by N for the mean loss.
    dy_hat = y_hat - Y
    if config["output"] == "sigmoid":
        dy_hat *= y_hat
        dy_hat *= 1 - y_hat
    if N != 1:
        dy_hat /= N
    dW = dy_hat.T @ f  # eq. 19
    db = np.add.reduce(dy_hat, 0)  # eq. 24
    df = dy_hat @ params["W"]  # eq. 30
    dS2 = df.reshape(N, 12, 4, 4).transpose(1, 0, 3, 2)  # eq. 31, channel-major (12, N, 4, 4)
    if avg:  # eq. 32: each error of S2 spread over its 2x2 window, divided by 4
        up2 = (np.ascontiguousarray(dS2).reshape(12 * N * 4, 4) @ _pool_expand(dtype, 4, 12)).reshape(12, N * 4, 1, 12)
    else:
        dC2 = np.zeros((12, N, 8, 12), dtype)
        dC2[..., :8] = maxpool_backward(dS2.transpose(1, 0, 2, 3), pools[1]).transpose(1, 0, 2, 3)
        dC2 = dC2.reshape(12, N * 96)
    if want_errors:
        dC2s_all = np.empty((12, N * 96), dtype)
        dS1_all = np.empty((6, N * 144), dtype)
        dC1s_all = np.empty((6, N * 576), dtype)
        if avg:
            dC1_all = np.empty((6, N * 576), dtype)
    chunks = _chunks(N, _CHUNK if avg else N)
    G2 = _buffer("G2", (len(chunks), 12, 151), dtype)
    G1 = _buffer("G1", (len(chunks), 6, 26), dtype)
    E1 = _pool_expand(dtype, 12, 24)
    for ci, (n0, n1) in enumerate(chunks):
        nb = n1 - n0
        d2b = _buffer("dC2s", (4 + 12 * nb * 96,), dtype)  # 4 leading zeros for the shifts below
        d2b[:4] = 0
        d2 = d2b[4:].reshape(12, nb * 96)
        if sig:  # eq. 37: times sigma'(C2_sigma) = C2 (1 - C2)
            c2 = C2[:, n0 * 96:n1 * 96]
            np.subtract(1, c2, out=d2)
            d2 *= c2
        else:
            np.greater(engine["C2_sigma"][:, n0 * 96:n1 * 96], 0, out=d2)
        if avg:
            d2r = d2.reshape(12, nb * 4, 2, 12)
            d2r *= up2[:, n0 * 4:n1 * 4]
        else:
            d2 *= dC2[:, n0 * 96:n1 * 96]
        # eqs. 40 and 45 (before the flip): the row of ones in cols2 yields db2 as the last column
        np.matmul(d2, _cols2(S1b, N, n0, n1).T, out=G2[ci])
        # eq. 51, the full convolution of dC2_sigma with the kernels, in two steps. (1) Along the
        # rows: Z[(p, u), (n, i, j)] = sum_{q, v} Ku[(p, u), (q, v)] dC2_sigma[q, n, i, j - v], one
        # matrix product over the 5 column shifts v of the 12-wide grid (j - v < 0 lands on the
        # zero don't-care columns of the row above). (2) The 5 row shifts u add Z into dS1.
        shifts = np.ndarray((12, 5, nb * 96), dtype, d2b, 4 * s, (nb * 96 * s, -s, s))
        D5 = _buffer("D5", (60, nb * 96), dtype)
        np.copyto(D5.reshape(12, 5, nb * 96), shifts)
        Z = np.matmul(Ku, D5, out=_buffer("Z", (30, nb * 96), dtype)).reshape(6, 5, nb, 96)
        dS1b = _buffer("dS1", (6 * nb * 144,), dtype)
        dS1b.fill(0)
        for u in range(5):
            target = np.ndarray((6, nb, 96), dtype, dS1b, 12 * u * s, (nb * 144 * s, 144 * s, s))
            target += Z[:, u]
        ds1 = dS1b.reshape(6, nb * 12, 12)
        d1 = _buffer("dC1s", (6, nb * 576), dtype)
        if sig:  # eq. 57
            c1 = C1[:, n0 * 576:n1 * 576]
            np.subtract(1, c1, out=d1)
            d1 *= c1
        else:
            np.greater(engine["C1_sigma"][:, n0 * 576:n1 * 576], 0, out=d1)
        if avg:  # eq. 52
            up1 = np.matmul(ds1, E1, out=_buffer("up1", (6, nb * 12, 24), dtype))
            d1r = d1.reshape(6, nb * 12, 2, 24)
            d1r *= up1[:, :, None, :]
        else:
            dC1 = maxpool_backward(ds1.reshape(6, nb, 12, 12).transpose(1, 0, 2, 3), pools[0])
            d1 *= dC1.transpose(1, 0, 2, 3).reshape(6, nb * 576)
        np.matmul(d1, _cols1(X, n0, n1).T, out=G1[ci])  # eqs. 59 and 64 (before the flip)
        if want_errors:
            dC2s_all[:, n0 * 96:n1 * 96] = d2
            dS1_all[:, n0 * 144:n1 * 144] = ds1.reshape(6, nb * 144)
            dC1s_all[:, n0 * 576:n1 * 576] = d1
            if avg:
                dC1_all[:, n0 * 576:n1 * 576].reshape(6, nb * 12, 2, 24)[...] = up1[:, :, None, :]
    G2 = np.add.reduce(G2, 0) if len(chunks) > 1 else G2[0]
    G1 = np.add.reduce(G1, 0) if len(chunks) > 1 else G1[0]
    dk2 = np.ascontiguousarray(G2[:, :150].reshape(12, 6, 5, 5)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # eq. 40
    dk1 = np.ascontiguousarray(G1[:, :25].reshape(6, 5, 5)[:, ::-1, ::-1])  # eq. 59
    grads = {"k1": dk1, "b1": G1[:, 25].copy(), "k2": dk2, "b2": G2[:, 150].copy(), "W": dW, "b": db}
    errors = {}
    if want_errors:
        t = (1, 0, 2, 3)
        if avg:
            dC2 = np.broadcast_to(up2, (12, N * 4, 2, 12)).reshape(12, N * 96)
            dC1 = dC1_all
        else:
            dC1 = np.ascontiguousarray(maxpool_backward(dS1_all.reshape(6, N, 12, 12).transpose(t), pools[0]).transpose(t))
        errors = {"dy_hat": dy_hat, "df": df, "dS2": dS2.transpose(t),
                  "dC2": dC2.reshape(12, N, 8, 12)[..., :8].transpose(t),
                  "dC2_sigma": dC2s_all.reshape(12, N, 8, 12)[..., :8].transpose(t),
                  "dS1": dS1_all.reshape(6, N, 12, 12).transpose(t), "dC1": dC1.reshape(6, N, 24, 24).transpose(t),
                  "dC1_sigma": dC1s_all.reshape(6, N, 24, 24).transpose(t)}
    return grads, errors


def _backward(params, cache, y, want_errors):
    """Shared body of backward() and backward_with_errors(): validation, then the engine."""
    dtype = _fast_dtype(params)
    engine = cache.get("_engine") if type(cache) is dict else None
    if engine is None or engine["y_hat"].dtype != dtype:
        engine = _engine_from_cache(_batched(cache), dtype)
    else:
        _batched(cache)
    n = engine["y_hat"].shape[0]
    Y = _fast_labels(y, n, cache["batched"], dtype)
    grads, errors = _engine_backward(params, engine, Y, cache["config"], cache.get("_pool", (None, None)), want_errors)
    if want_errors and not cache["batched"]:
        errors = {k: v[0] for k, v in errors.items()}
    return grads, errors


def backward_with_errors(params, cache, y):
    """Backward pass returning ``(grads, errors)``.

    ``errors`` holds the intermediate error maps named as in Zhang: ``dy_hat`` (eq. 18's
    Delta y_hat), ``df`` (30), ``dS2`` (31), ``dC2`` (32), ``dC2_sigma`` (37), ``dS1`` (51),
    ``dC1`` (52), ``dC1_sigma`` (57); batch axis only for a batch. For a batch, everything is
    the gradient of the MEAN loss, so each error carries a factor 1/N.
    """
    return _backward(params, cache, y, True)


def backward(params, cache, y) -> dict:
    """Gradients of L (Zhang eqs. 14-64) with the keys of ``params``.

    ``cache`` is what :func:`forward` returned; ``y`` is one-hot ``(10,)`` for one image or
    ``(N, 10)`` for a batch (integer labels are accepted too). For a batch the result is the
    gradient of the mean loss.
    """
    return _backward(params, cache, y, False)[0]


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


def timing_comparison(n_images: int = 3, repeats: int = 3, seed: int = 0) -> dict:
    """Seconds per image of one training step (forward + backward), loops against vectorized.

    Runs :func:`forward_naive` + :func:`backward_naive` and :func:`forward` + :func:`backward`
    on the same ``n_images`` random images (float64, parameters ``init_params(seed)``), the
    vectorized pair once image by image and once on the whole batch. Each figure is the best of
    ``repeats`` runs. Returns ``{"naive": s, "vectorized": s, "vectorized_batch": s,
    "speedup": naive / vectorized, "speedup_batch": naive / vectorized_batch}``. The timings
    depend on the machine and its load: show them, never test them for exact values.
    """
    import time

    n_images = check_positive_int(n_images, "n_images")
    repeats = check_positive_int(repeats, "repeats")
    rng = np.random.default_rng(seed)
    params = init_params(seed)
    x = rng.random((n_images, 28, 28))
    labels = rng.integers(0, N_CLASSES, n_images)

    def best(step):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            step()
            times.append((time.perf_counter() - start) / n_images)
        return min(times)

    naive = best(lambda: [backward_naive(params, forward_naive(params, xi), int(li)) for xi, li in zip(x, labels)])
    one_by_one = best(lambda: [backward(params, forward(params, xi), int(li)) for xi, li in zip(x, labels)])
    batch = best(lambda: backward(params, forward(params, x), labels))
    return {"naive": naive, "vectorized": one_by_one, "vectorized_batch": batch,
            "speedup": naive / one_by_one, "speedup_batch": naive / batch}


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
    X, batched = check_images(x, dtype)
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
