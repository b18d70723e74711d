"""The fast engine of Zhang's seed network: training steps and predictions, no cache.

:mod:`helpers.network` holds the readable passes (``forward`` / ``backward``, composed from the
layer functions, and the loops ``forward_naive`` / ``backward_naive``); this module computes the
same numbers (equal to ``network.backward`` to 1e-12 in float64, see ``tests/test_engine.py``)
several times faster, for training, evaluation and ``benchmarks/``. It owns its scratch buffers
and hands out only results:

* :func:`loss_and_grads` ``(params, x, y, **variant) -> (L, grads)``: the loss (Zhang eq. 13, mean
  over a batch) and its gradients with the keys of ``params`` (Zhang eqs. 14-64);
* :func:`step` ``(params, x, y, **variant) -> (L, grads, y_hat)``: the same plus the outputs;
* :func:`outputs` ``(params, x, **variant) -> y_hat (N, 10)`` and :func:`predict` (the classes);
* :func:`evaluate` ``(params, x, y, batch_size=500, **variant)``: loss, accuracy, predictions.

``x`` is one image ``(28, 28)`` or a batch ``(N, 28, 28)``, ``y`` one-hot rows or class labels,
``variant`` the options of :func:`helpers.network.check_variant`. The parameters' dtype is the
compute dtype (float32 stays float32).
"""

from __future__ import annotations

import threading

import numpy as np

from ._validate import check_images, check_positive_int
from .activations import softmax
from .flatten import column_scan, column_unscan
from .network import PARAM_SHAPES, check_labels, check_params, check_variant, evaluate_with, output_loss
from .pooling import maxpool_backward, maxpool_forward

__all__ = ["loss_and_grads", "step", "outputs", "predict", "evaluate", "clear_buffers"]

# --------------------------------------------------------------------------------------------
# the engine: layout, scratch buffers and the two passes
#
# Layout: every stack of maps is stored channel-major, ``(channels, N * H * W)``, so that one
# matrix product per layer and per chunk of images does a whole convolution (im2col: the
# ``(25 channels_in, positions)`` matrix of 5x5 windows is one strided view and one copy).
# C2 lives on a 12-column grid (8 x 12 per map; columns 8..11 hold don't-care values), so that
# the windows of S1 are flat shifts ``m + 12 u + v`` of a contiguous buffer and both im2col
# and col2im copy runs of 96 numbers instead of 8. The batch is processed in chunks of about
# _CHUNK images so that the im2col matrices stay in the processor's cache; they are rebuilt in
# the backward pass from x and S1 instead of being stored. Scratch arrays are reused across
# calls (see _buffer); nothing computed here is handed out except the results.
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


def clear_buffers():
    """Forget this thread's scratch buffers (they are rebuilt on the next call): a cold start, as
    the memory figure of ``benchmarks/bench_network.py`` needs. Results never depend on it."""
    _WORK.__dict__.clear()


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


def _conv_act_pool(K, cols, zs, z, s, sig, avg, grid, name):
    """One layer on a chunk of images: ``zs = K @ cols`` (the convolution, bias included),
    ``z = f(zs)`` (sigmoid or ReLU) and ``s`` = 2x2 pooling of ``z``, all in place.

    ``grid = (channels, rows of s per image, width of z's grid, valid width)``: ``(6, 12, 24, 24)``
    for C1 -> S1, ``(12, 4, 12, 8)`` for C2 -> S2 (C2 on its 12-wide grid). Returns the max-pooling
    cache (None for average pooling).
    """
    np.matmul(K, cols, out=zs)
    _sigmoid_(zs, z) if sig else np.maximum(zs, 0, out=z)
    ch, r, w, v = grid
    nb = z.shape[1] // (2 * r * w)
    if avg:  # eqs. 6 and 9: add the two rows of each window, then its two columns, divide by 4
        rows = z.reshape(ch, nb * r, 2, w)
        t = np.add(rows[:, :, 0], rows[:, :, 1], out=_buffer(name, (ch, nb * r, w), z.dtype))
        np.add(t[:, :, 0:v:2], t[:, :, 1:v:2], out=s)
        s *= 0.25
        return None
    S, pool = maxpool_forward(z.reshape(ch, nb, 2 * r, w)[..., :v].transpose(1, 0, 2, 3), 2, 2)
    s[...] = S.transpose(1, 0, 2, 3).reshape(ch, -1, v // 2)
    return pool


def _engine_forward(params, X, config):
    """Zhang eqs. 4-12 for the images ``X (N, 28, 28)`` on the internal layout; returns the
    arrays the backward pass reads (channel-major, C2 on its 12-wide grid) and ``y_hat (N, 10)``."""
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
        pools[0].append(_conv_act_pool(K1, _cols1(X, n0, n1), C1s[:, n0 * 576:n1 * 576], C1[:, n0 * 576:n1 * 576],
                                       S1[:, n0 * 12:n1 * 12], sig, avg, (6, 12, 24, 24), "pool1"))  # eqs. 4-6
        pools[1].append(_conv_act_pool(K2, _cols2(S1b, N, n0, n1), C2s[:, n0 * 96:n1 * 96], C2[:, n0 * 96:n1 * 96],
                                       S2[:, n0 * 4:n1 * 4], sig, avg, (12, 4, 12, 8), "pool2"))  # eqs. 7-9
    f = column_scan(S2.reshape(12, N, 4, 4).transpose(1, 0, 2, 3))  # eq. 10 (a copy)
    y_hat_sigma = f @ params["W"].T
    y_hat_sigma += params["b"]
    if config["output"] == "sigmoid":
        y_hat = _sigmoid_(y_hat_sigma, np.empty_like(y_hat_sigma))  # eq. 12
    else:
        y_hat = softmax(y_hat_sigma)
    return {"x": X, "C1_sigma": C1s, "C1": C1, "S1b": S1b, "C2_sigma": C2s, "C2": C2, "f": f, "y_hat": y_hat,
            "pools": (pools[0][0], pools[1][0])}




def _engine_backward(params, engine, Y, config):
    """Zhang eqs. 14-64 on the internal layout of :func:`_engine_forward`; returns the gradients
    of the mean loss with the keys of ``params``."""
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
    dS2 = column_unscan(df, 12, 4).transpose(1, 0, 2, 3)  # eq. 31, channel-major (12, N, 4, 4)
    if avg:  # eq. 32: each error of S2 spread over its 2x2 window, divided by 4
        up2 = (np.ascontiguousarray(dS2).reshape(12 * N * 4, 4) @ _pool_expand(dtype, 4, 12)).reshape(12, N * 4, 1, 12)
    else:
        dC2 = np.zeros((12, N, 8, 12), dtype)
        dC2[..., :8] = maxpool_backward(dS2.transpose(1, 0, 2, 3), engine["pools"][1]).transpose(1, 0, 2, 3)
        dC2 = dC2.reshape(12, N * 96)
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
            dC1 = maxpool_backward(ds1.reshape(6, nb, 12, 12).transpose(1, 0, 2, 3), engine["pools"][0])
            d1 *= dC1.transpose(1, 0, 2, 3).reshape(6, nb * 576)
        np.matmul(d1, _cols1(X, n0, n1).T, out=G1[ci])  # eqs. 59 and 64 (before the flip)
    G2 = np.add.reduce(G2, 0) if len(chunks) > 1 else G2[0]
    G1 = np.add.reduce(G1, 0) if len(chunks) > 1 else G1[0]
    dk2 = np.ascontiguousarray(G2[:, :150].reshape(12, 6, 5, 5)[:, :, ::-1, ::-1].transpose(1, 0, 2, 3))  # eq. 40
    dk1 = np.ascontiguousarray(G1[:, :25].reshape(6, 5, 5)[:, ::-1, ::-1])  # eq. 59
    grads = {"k1": dk1, "b1": G1[:, 25].copy(), "k2": dk2, "b2": G2[:, 150].copy(), "W": dW, "b": db}
    return grads



# --------------------------------------------------------------------------------------------
# entry points
# --------------------------------------------------------------------------------------------
def _prepare(params, x, variant):
    dtype = _fast_dtype(params)
    config = check_variant(variant)
    X, batched = _fast_images(x, dtype)
    return X, batched, config


def step(params, x, y, **variant):
    """One training step's numbers: ``(L, grads, y_hat)``.

    Inputs: ``params`` (:data:`helpers.network.PARAM_SHAPES`), images ``x (28, 28)`` or
    ``(N, 28, 28)``, targets ``y`` (one-hot ``(10,)`` / ``(N, 10)`` or class labels), ``variant``
    options. Returns the loss (Zhang eq. 13, or cross-entropy for ``output="softmax"``; mean over
    a batch), its gradients with the keys of ``params`` (Zhang eqs. 14-64, as
    :func:`helpers.network.backward`) and the outputs ``y_hat`` (``(10,)`` or ``(N, 10)``).
    """
    X, batched, config = _prepare(params, x, variant)
    engine = _engine_forward(params, X, config)
    Y = check_labels(y, X.shape[0], batched, X.dtype)
    L = output_loss(engine["y_hat"], Y, config["output"])
    grads = _engine_backward(params, engine, Y, config)
    return L, grads, engine["y_hat"] if batched else engine["y_hat"][0]


def loss_and_grads(params, x, y, **variant):
    """``(L, grads)`` of :func:`step`: the signature :func:`helpers.train.sgd_loop` expects."""
    return step(params, x, y, **variant)[:2]


def outputs(params, x, batch_size: int = 500, **variant) -> np.ndarray:
    """The network's outputs ``y_hat`` (Zhang eq. 12) for ``x (28, 28)`` -> ``(10,)`` or
    ``(N, 28, 28)`` -> ``(N, 10)``, computed ``batch_size`` images at a time."""
    batch_size = check_positive_int(batch_size, "batch_size")
    X, batched, config = _prepare(params, x, variant)
    y_hat = np.concatenate([_engine_forward(params, X[i:i + batch_size], config)["y_hat"]
                            for i in range(0, len(X), batch_size)])
    return y_hat if batched else y_hat[0]


def predict(params, x, batch_size: int = 500, **variant) -> np.ndarray:
    """Class predictions ``argmax y_hat``: an int for one image, ``(N,)`` for a batch."""
    y_hat = outputs(params, x, batch_size, **variant)
    return y_hat.argmax(axis=-1) if y_hat.ndim == 2 else int(y_hat.argmax())


def evaluate(params, x, y, batch_size: int = 500, **variant) -> dict:
    """Loss, accuracy and predictions on images ``x (N, 28, 28)`` with labels ``y (N,)``.

    Returns ``{"loss", "accuracy", "y_pred", "y_hat"}`` (:func:`helpers.network.evaluate_with`,
    the same keys for every network of the book).
    """
    check_params(params)
    config = check_variant(variant)

    def batch(xb, yb):
        y_hat = outputs(params, xb, len(xb), **config)
        return output_loss(y_hat, check_labels(yb, len(yb), True, y_hat.dtype), config["output"]), y_hat

    return evaluate_with(batch, x, y, batch_size)
