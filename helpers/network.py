"""Zhang's seed network (seed 001): the readable forward and backward passes and the loops.

Architecture (Zhang section 1)::

    x (28, 28) --conv k1 (6,5,5) + b1, sigmoid--> C1 (6, 24, 24)
               --2x2 average pooling-----------> S1 (6, 12, 12)
               --conv k2 (6,12,5,5) + b2, sigm.> C2 (12, 8, 8)
               --2x2 average pooling-----------> S2 (12, 4, 4)
               --F: column scan, concatenate---> f (192,)
               --W (10,192), b (10,), sigmoid--> y_hat (10,)
    L = 1/2 sum (y_hat - y)^2                                  (eq. 13)

Public contract (used by notebooks, tests and figures):

* ``init_params(seed=0, dtype=float64) -> dict`` with ``k1 (6,5,5)``, ``b1 (6,)``,
  ``k2 (6,12,5,5)`` indexed ``[p, q, u, v]``, ``b2 (12,)``, ``W (10,192)``, ``b (10,)``.
* ``forward(params, x) -> cache`` for one image ``(28,28)`` or a batch ``(N,28,28)``; the cache
  holds the arrays ``x, C1_sigma, C1, S1, C2_sigma, C2, S2, f, y_hat_sigma, y_hat`` (``*_sigma``
  is the value before the activation, Zhang's ``C^2_{q,sigma}`` of eq. 38; a leading batch axis
  for a batch), ``batched`` (bool) and ``config`` (the variant). Nothing else: the cache is the
  contract, and ``backward`` computes from exactly these arrays (edit one and the gradients follow).
* ``backward(params, cache, y) -> grads`` with the keys of ``params``: the gradient of L for one
  image (``y`` one-hot ``(10,)`` or a label), or of the mean of L over a batch (``y (N,10)`` or ``(N,)``).

``forward`` and ``backward`` are composed from the layer functions of :mod:`helpers.convolution`,
:mod:`helpers.pooling` and :mod:`helpers.activations`; ``forward_naive`` and ``backward_naive``
are the same equations as loops. Training, evaluation and the benchmarks use the fast engine
:mod:`helpers.engine`, tested equal to :func:`backward`.

Conventions exactly as Zhang: true convolution (the kernel is flipped), average pooling, ``f``
is the column scan of each 4x4 map of S2 with the maps in order q = 1..12. Images are floats in
[0, 1]. The parameters' dtype is the compute dtype (float32 stays float32).

Optional keyword ``variant`` settings (for notebook 06's comparisons; Zhang's choice is the
default; :func:`check_variant`): ``pooling="avg"|"max"``, ``conv_activation="sigmoid"|"relu"``,
``output="sigmoid"|"softmax"`` (softmax is trained with cross-entropy, ``delta = s - y``).
"""

from __future__ import annotations

import numpy as np

from ._validate import (as_float_array, check_images, check_labelled_batch, check_param_dict,
                        check_positive_int)
from .activations import relu, relu_prime, sigmoid, sigmoid_prime, softmax
from .convolution import conv_backward, conv_forward
from .flatten import column_scan, column_unscan
from .pooling import pool_backward, pool_forward

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
VARIANT_CHOICES = {"pooling": ("avg", "max"), "conv_activation": ("sigmoid", "relu"),
                   "output": ("sigmoid", "softmax")}
CACHE_SHAPES = {"x": (28, 28), "C1_sigma": (6, 24, 24), "C1": (6, 24, 24), "S1": (6, 12, 12),
                "C2_sigma": (12, 8, 8), "C2": (12, 8, 8), "S2": (12, 4, 4), "f": (192,),
                "y_hat_sigma": (10,), "y_hat": (10,)}


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


def uniform_init(shapes: dict, bounds: dict, seed: int = 0, dtype=np.float64, unit_scaled: bool = False) -> dict:
    """The uniform initialisation of every network of the book (Zhang eqs. 1-3).

    Inputs: ``shapes`` (key -> shape, in drawing order), ``bounds`` (key -> ``a`` for the tensors
    drawn from ``U(-a, a)``; every other tensor, the biases, is zero), ``seed`` for
    ``numpy.random.default_rng``, a floating ``dtype``. ``unit_scaled`` draws ``a * U(-1, 1)``
    (seed 003's handout) instead of ``U(-a, a)``: the same distribution, last bits differ.
    Returns a dict of ``dtype`` arrays with the given shapes.
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")
    rng = np.random.default_rng(seed)
    params = {}
    for key, shape in shapes.items():
        if key not in bounds:
            params[key] = np.zeros(shape)
        elif unit_scaled:
            params[key] = bounds[key] * rng.uniform(-1.0, 1.0, shape)
        else:
            params[key] = rng.uniform(-bounds[key], bounds[key], shape)
    return {key: val.astype(dtype) for key, val in params.items()}


def init_params(seed: int = 0, dtype=np.float64) -> dict:
    """Zhang eqs. (1)-(3): kernels and W uniform in ``+-bound``, all biases zero.

    Draws k1, then k2, then W from ``numpy.random.default_rng(seed)``. Returns a dict of
    ``dtype`` arrays with the shapes of :data:`PARAM_SHAPES` (3898 numbers in all).
    """
    return uniform_init(PARAM_SHAPES, glorot_bounds(), seed, dtype)


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


def check_variant(variant: dict) -> dict:
    """The full variant ``dict(DEFAULT_VARIANT, **variant)``; ``TypeError`` for an unknown option,
    ``ValueError`` for a value outside :data:`VARIANT_CHOICES`."""
    unknown = set(variant) - set(DEFAULT_VARIANT)
    if unknown:
        raise TypeError(f"unknown network option(s) {sorted(unknown)}; known: {list(DEFAULT_VARIANT)}")
    config = dict(DEFAULT_VARIANT, **variant)
    for key, value in config.items():
        if not isinstance(value, str) or value not in VARIANT_CHOICES[key]:
            raise ValueError(f"{key} must be one of {VARIANT_CHOICES[key]}, got {value!r}")
    return config


# --------------------------------------------------------------------------------------------
# targets, losses and evaluation (shared by the three networks of the book)
# --------------------------------------------------------------------------------------------
def check_labels(y, n: int, batched: bool, dtype=np.float64) -> np.ndarray:
    """Return one-hot targets of shape ``(n, 10)``.

    Accepts one-hot rows (zeros and a single 1: ``(10,)`` for one image, ``(N, 10)`` for a batch)
    or integer class labels 0..9 (a scalar for one image, ``(N,)`` for a batch). Anything else,
    e.g. ``np.arange(10)`` for one image, is a ``ValueError``.
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
    Y = y.reshape(n, N_CLASSES)
    if not (((Y == 0) | (Y == 1)).all() and (Y.sum(axis=1) == 1).all()):
        raise ValueError(f"y of shape {y.shape} must be one-hot (zeros and a single 1 per row) "
                         "or integer class labels 0..9")
    return Y.astype(dtype, copy=False)


def output_loss(y_hat, Y, output: str = "sigmoid") -> float:
    """The loss of outputs ``y_hat (N, 10)`` against one-hot ``Y (N, 10)``, mean over N: Zhang
    eq. 13 ``1/2 sum (y_hat - y)^2`` for ``output="sigmoid"``, cross-entropy ``-sum y log y_hat``
    (clipped at 1e-12) for ``"softmax"``. Shared by :func:`loss` and :mod:`helpers.engine`."""
    if output == "softmax":
        return float(np.mean(-np.sum(Y * np.log(np.clip(y_hat, 1e-12, None)), axis=1)))
    return float(np.mean(0.5 * np.sum((y_hat - Y) ** 2, axis=1)))


def evaluate_with(batch_fn, x, y, batch_size: int = 500) -> dict:
    """Evaluation in chunks, the same for every network of the book.

    Inputs: ``batch_fn(xb, yb) -> (mean loss, outputs (n, 10))`` for a chunk; images
    ``x (N, 28, 28)`` with integer labels ``y (N,)``, N >= 1; ``batch_size`` a positive integer.
    Returns ``{"loss": mean over the N images, "accuracy": fraction in [0, 1], "y_pred": (N,)
    argmax of the outputs, "y_hat": (N, 10) the outputs}``.
    """
    x, y = check_labelled_batch(x, y)
    batch_size = check_positive_int(batch_size, "batch_size")
    total, outs = 0.0, []
    for start in range(0, len(x), batch_size):
        yb = y[start:start + batch_size]
        batch_loss, out = batch_fn(x[start:start + batch_size], yb)
        total += batch_loss * len(yb)
        outs.append(out)
    y_hat = np.concatenate(outs)
    y_pred = y_hat.argmax(axis=1)
    return {"loss": total / len(x), "accuracy": float(np.mean(y_pred == y)), "y_pred": y_pred, "y_hat": y_hat}


# --------------------------------------------------------------------------------------------
# the readable vectorized passes, composed from the layer functions
# --------------------------------------------------------------------------------------------
def _activation(name):
    """``(f, f')`` with ``f'`` written with ``(z, a = f(z))``: ``a (1 - a)`` or ``1[z > 0]``."""
    if name == "sigmoid":
        return sigmoid, lambda z, a: sigmoid_prime(a)
    return relu, lambda z, a: relu_prime(z)


def forward(params, x, **variant) -> dict:
    """Forward pass of the seed network (Zhang eqs. 4-12), layer by layer.

    ``x``: one image ``(28, 28)`` or a batch ``(N, 28, 28)`` of floats in [0, 1].
    Returns the cache dict described in the module docstring (batch axis only for a batch).
    """
    dtype = check_params(params)
    config = check_variant(variant)
    X, batched = check_images(x, dtype)
    act, _ = _activation(config["conv_activation"])
    k1, b1, k2, b2, W, b = (params[k] for k in PARAM_SHAPES)
    C1_sigma, _ = conv_forward(X[:, None], k1[None], b1, convention="convolution")  # eqs. 4-5
    C1 = act(C1_sigma)
    S1, _ = pool_forward(C1, 2, 2, config["pooling"])                                # eq. 6
    C2_sigma, _ = conv_forward(S1, k2, b2, convention="convolution")                 # eqs. 7-8
    C2 = act(C2_sigma)
    S2, _ = pool_forward(C2, 2, 2, config["pooling"])                                # eq. 9
    f = column_scan(S2)                                                              # eq. 10
    y_hat_sigma = f @ W.T + b                                                        # eq. 12
    y_hat = sigmoid(y_hat_sigma) if config["output"] == "sigmoid" else softmax(y_hat_sigma, axis=1)
    cache = {"x": X, "C1_sigma": C1_sigma, "C1": C1, "S1": S1, "C2_sigma": C2_sigma, "C2": C2,
             "S2": S2, "f": f, "y_hat_sigma": y_hat_sigma, "y_hat": y_hat}
    if not batched:
        cache = {key: val[0] for key, val in cache.items()}
    cache.update(batched=batched, config=config)
    return cache


def _batched(cache, dtype=None):
    """The cache's arrays, checked (float, finite, the shapes of :data:`CACHE_SHAPES`), with a
    leading batch axis, in ``dtype`` if given."""
    if not isinstance(cache, dict):
        raise TypeError(f"cache must be the dict returned by forward(), got {type(cache).__name__}")
    missing = [k for k in tuple(CACHE_SHAPES) + ("batched", "config") if k not in cache]
    if missing:
        raise ValueError(f"cache is missing {missing}: pass the dict returned by forward()")
    batched, c = cache["batched"], {}
    for key, shape in CACHE_SHAPES.items():
        arr = as_float_array(cache[key], f"cache[{key!r}]")
        n = len(c["x"]) if c else len(arr) if batched and arr.ndim else 1
        if arr.shape != ((n,) + shape if batched else shape):
            raise ValueError(f"cache[{key!r}] must have shape {(n,) + shape if batched else shape}, got {arr.shape}")
        c[key] = (arr if batched else arr[None]).astype(dtype or arr.dtype, copy=False)
    return c


def loss(cache, y) -> float:
    """Zhang eq. 13 (mean over a batch), or cross-entropy for the softmax output variant."""
    c = _batched(cache)
    Y = check_labels(y, c["y_hat"].shape[0], cache["batched"], c["y_hat"].dtype)
    return output_loss(c["y_hat"], Y, check_variant(cache["config"])["output"])


def backward_with_errors(params, cache, y):
    """Backward pass (Zhang eqs. 14-64) returning ``(grads, errors)``, computed from the cache.

    ``errors`` holds the intermediate error maps named as in Zhang: ``dy_hat`` (eq. 18's
    Delta y_hat), ``df`` (30), ``dS2`` (31), ``dC2`` (32), ``dC2_sigma`` (37), ``dS1`` (51),
    ``dC1`` (52), ``dC1_sigma`` (57); batch axis only for a batch. For a batch, everything is
    the gradient of the MEAN loss, so each error carries a factor 1/N.
    """
    dtype = check_params(params)
    c = _batched(cache, dtype)
    config = check_variant(cache["config"])
    n = c["x"].shape[0]
    Y = check_labels(y, n, cache["batched"], dtype)
    _, act_prime = _activation(config["conv_activation"])
    mode = config["pooling"]
    # the layer caches of helpers.convolution and helpers.pooling, rebuilt from the cache's arrays
    conv = lambda x, k: {"x": x, "k": k, "stride": 1, "padding": 0, "convention": "convolution"}  # noqa: E731
    y_hat = c["y_hat"]
    dy_hat = (y_hat - Y) * sigmoid_prime(y_hat) if config["output"] == "sigmoid" else y_hat - Y  # eq. 17
    dy_hat = dy_hat / n                                                                # mean loss
    dW = dy_hat.T @ c["f"]                                                             # eq. 19
    db = dy_hat.sum(axis=0)                                                            # eq. 24
    df = dy_hat @ params["W"]                                                          # eq. 30
    dS2 = column_unscan(df, 12, 4)                                                     # eq. 31
    dC2 = pool_backward(dS2, pool_forward(c["C2"], 2, 2, mode)[1])                     # eq. 32
    dC2_sigma = dC2 * act_prime(c["C2_sigma"], c["C2"])                                # eq. 37
    dS1, dk2, db2 = conv_backward(dC2_sigma, conv(c["S1"], params["k2"]))              # eqs. 40, 45, 51
    dC1 = pool_backward(dS1, pool_forward(c["C1"], 2, 2, mode)[1])                     # eq. 52
    dC1_sigma = dC1 * act_prime(c["C1_sigma"], c["C1"])                                # eq. 57
    _, dk1, db1 = conv_backward(dC1_sigma, conv(c["x"][:, None], params["k1"][None]))  # eqs. 59, 64
    grads = {"k1": dk1[0], "b1": db1, "k2": dk2, "b2": db2, "W": dW, "b": db}
    errors = {"dy_hat": dy_hat, "df": df, "dS2": dS2, "dC2": dC2, "dC2_sigma": dC2_sigma, "dS1": dS1,
              "dC1": dC1, "dC1_sigma": dC1_sigma}
    if not cache["batched"]:
        errors = {k: v[0] for k, v in errors.items()}
    return grads, errors


def backward(params, cache, y) -> dict:
    """Gradients of L (Zhang eqs. 14-64) with the keys of ``params``.

    ``cache`` is what :func:`forward` returned (or a dict with the same public arrays); ``y`` is
    one-hot ``(10,)`` for one image or ``(N, 10)`` for a batch (integer labels are accepted too).
    For a batch the result is the gradient of the mean loss.
    """
    return backward_with_errors(params, cache, y)[0]


def loss_and_grads(params, x, y, **variant):
    """Convenience: ``(L, grads)`` for images ``x`` and targets ``y`` (readable passes)."""
    cache = forward(params, x, **variant)
    return loss(cache, y), backward(params, cache, y)


def predict(params, x, batch_size: int = 500, **variant) -> np.ndarray:
    """Class predictions ``argmax y_hat`` for a batch ``(N, 28, 28)``, N >= 1, in chunks."""
    batch_size = check_positive_int(batch_size, "batch_size")
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, 28, 28), got {x.shape}")
    if len(x) == 0:
        raise ValueError("x is an empty batch (N = 0)")
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
            "config": dict(DEFAULT_VARIANT)}


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
