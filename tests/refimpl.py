"""Independent reference computations for the unit tests of ``helpers``.

Nothing here imports ``helpers``. Every routine is written differently from the helper it checks,
so that an agreement between the two is evidence rather than a tautology:

* convolution and correlation are built as explicit dense matrices, seen from the input pixel's
  side ("which kernel tap multiplies pixel (r, c) in output (i, j)?"), or as a scatter in which
  every input pixel stamps a scaled copy of the kernel (the textbook definition of convolution);
* window positions are counted with ``range`` instead of the size formula;
* max pooling walks Python lists and uses ``list.index`` for the first maximum;
* derivatives are plain central differences, one entry at a time;
* the seed network is rebuilt from shifted slices of the image (one slice per kernel tap).
"""

from __future__ import annotations

import numpy as np


def blob_images(n, seed=0):
    """Digit-like test images in [0, 1]: a bright Gaussian blob plus a little noise everywhere
    (no exact zeros, so no ReLU kinks at z = 0). Shape ``(n, 28, 28)``."""
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:28, 0:28]
    out = []
    for _ in range(n):
        cy, cx = rng.uniform(9, 19, 2)
        blob = np.exp(-((r - cy) ** 2 + (c - cx) ** 2) / rng.uniform(10, 30))
        out.append(np.clip(blob + 0.1 * rng.random((28, 28)), 0, 1))
    return np.array(out)


# --------------------------------------------------------------------------------------------
# finite differences
# --------------------------------------------------------------------------------------------
def central_diff(fun, arr: np.ndarray, h: float = 1e-6, entries=None) -> np.ndarray:
    """Central differences of the scalar ``fun()`` with respect to the float64 array ``arr``.

    ``arr`` is changed in place one entry at a time and restored. ``entries`` (flat indices)
    restricts the work; other entries of the result are NaN so that they cannot be mistaken for
    checked zeros.
    """
    assert arr.dtype == np.float64 and arr.flags.c_contiguous
    flat = arr.reshape(-1)
    grad = np.full(arr.size, np.nan)
    for t in range(arr.size) if entries is None else entries:
        keep = flat[t]
        flat[t] = keep + h
        up = fun()
        flat[t] = keep - h
        down = fun()
        flat[t] = keep
        grad[t] = (up - down) / (2.0 * h)
    return grad.reshape(arr.shape)


# --------------------------------------------------------------------------------------------
# single maps
# --------------------------------------------------------------------------------------------
def positions(n: int, f: int, padding: int = 0, stride: int = 1) -> list[int]:
    """Start offsets (in the padded map) of every window of size ``f``: counted, not computed."""
    return list(range(0, n + 2 * padding - f + 1, stride))


def correlation_matrix(k, H, W, stride=1, padding=0, flip=False):
    """Dense ``M`` with ``vec(z) = M @ vec(x)`` for an ``(H, W)`` map ``x`` and kernel ``k``.

    Filled from the input side: pixel ``(r, c)`` sits at offset ``(r + p - i*s, c + p - j*s)``
    inside the window of output ``(i, j)``, and meets the kernel tap at that offset (or, with
    ``flip=True``, the tap mirrored through the kernel's centre: true convolution).
    """
    k = np.asarray(k, dtype=np.float64)
    kh, kw = k.shape
    rows, cols = positions(H, kh, padding, stride), positions(W, kw, padding, stride)
    M = np.zeros((len(rows) * len(cols), H * W))
    for oi, top in enumerate(rows):
        for oj, left in enumerate(cols):
            for r in range(H):
                for c in range(W):
                    a, b = r + padding - top, c + padding - left
                    if 0 <= a < kh and 0 <= b < kw:
                        tap = k[kh - 1 - a, kw - 1 - b] if flip else k[a, b]
                        M[oi * len(cols) + oj, r * W + c] = tap
    return M, (len(rows), len(cols))


def patch_matrix(x, kh, kw, stride=1, padding=0):
    """Dense ``A`` with ``vec(z) = A @ vec(k)`` for cross-correlation (row = one output's patch)."""
    x = np.asarray(x, dtype=np.float64)
    H, W = x.shape
    xp = np.zeros((H + 2 * padding, W + 2 * padding))
    xp[padding:padding + H, padding:padding + W] = x
    rows, cols = positions(H, kh, padding, stride), positions(W, kw, padding, stride)
    A = np.zeros((len(rows) * len(cols), kh * kw))
    for oi, top in enumerate(rows):
        for oj, left in enumerate(cols):
            A[oi * len(cols) + oj] = [xp[top + a, left + b] for a in range(kh) for b in range(kw)]
    return A


def correlate_ref(x, k, stride=1, padding=0):
    """Cross-correlation of one map by the dense matrix."""
    x = np.asarray(x, dtype=np.float64)
    M, shape = correlation_matrix(k, *x.shape, stride=stride, padding=padding)
    return (M @ x.reshape(-1)).reshape(shape)


def full_convolution_scatter(x, k):
    """True full convolution: every pixel ``x[r, c]`` adds ``x[r, c] * k`` at offset ``(r, c)``.

    ``(x * k)[m, n] = sum_{r, c} x[r, c] k[m - r, n - c]``; shape ``(H + kh - 1, W + kw - 1)``.
    """
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    (H, W), (kh, kw) = x.shape, k.shape
    out = np.zeros((H + kh - 1, W + kw - 1))
    for r in range(H):
        for c in range(W):
            out[r:r + kh, c:c + kw] += x[r, c] * k
    return out


def valid_convolution_scatter(x, k):
    """The part of the full convolution that never touches the zero border."""
    (H, W), (kh, kw) = np.shape(x), np.shape(k)
    return full_convolution_scatter(x, k)[kh - 1:H, kw - 1:W]


# --------------------------------------------------------------------------------------------
# multi-channel layer (N, C_in, H, W) with kernels (C_in, C_out, kh, kw)
# --------------------------------------------------------------------------------------------
def layer_forward_ref(x, k, b, stride=1, padding=0, convention="correlation"):
    x, k, b = (np.asarray(t, dtype=np.float64) for t in (x, k, b))
    N, C_in, H, W = x.shape
    _, C_out, kh, kw = k.shape
    flip = convention == "convolution"
    mats = {(p, q): correlation_matrix(k[p, q], H, W, stride, padding, flip) for p in range(C_in) for q in range(C_out)}
    Ho, Wo = mats[0, 0][1]
    z = np.zeros((N, C_out, Ho, Wo))
    for n in range(N):
        for q in range(C_out):
            acc = np.full(Ho * Wo, b[q])
            for p in range(C_in):
                acc = acc + mats[p, q][0] @ x[n, p].reshape(-1)
            z[n, q] = acc.reshape(Ho, Wo)
    return z


def layer_backward_ref(dz, x, k, stride=1, padding=0, convention="correlation"):
    """Transposes of the dense matrices: ``dx = M^T dz``, ``dK = A^T dz``, ``db = sum dz``."""
    dz, x, k = (np.asarray(t, dtype=np.float64) for t in (dz, x, k))
    N, C_in, H, W = x.shape
    _, C_out, kh, kw = k.shape
    flip = convention == "convolution"
    dx = np.zeros(x.shape)
    dk = np.zeros(k.shape)
    for p in range(C_in):
        for q in range(C_out):
            M, _ = correlation_matrix(k[p, q], H, W, stride, padding, flip)
            for n in range(N):
                g = dz[n, q].reshape(-1)
                dx[n, p] += (M.T @ g).reshape(H, W)
                tap_grad = (patch_matrix(x[n, p], kh, kw, stride, padding).T @ g).reshape(kh, kw)
                # with flip, output (i, j) multiplies patch tap (a, b) by k[kh-1-a, kw-1-b]
                dk[p, q] += tap_grad[::-1, ::-1] if flip else tap_grad
    db = np.array([dz[:, q].sum() for q in range(C_out)])
    return dx, dk, db


# --------------------------------------------------------------------------------------------
# pooling of one map
# --------------------------------------------------------------------------------------------
def pool_ref(x, dout, size, stride, mode):
    """Forward value and routed gradient of one ``(H, W)`` map, by lists and ``list.index``."""
    x = np.asarray(x, dtype=np.float64)
    H, W = x.shape
    rows, cols = positions(H, size, 0, stride), positions(W, size, 0, stride)
    out = np.zeros((len(rows), len(cols)))
    dx = np.zeros((H, W))
    for oi, top in enumerate(rows):
        for oj, left in enumerate(cols):
            cells = [(top + u, left + v) for u in range(size) for v in range(size)]  # row-major
            values = [x[c] for c in cells]
            if mode == "avg":
                out[oi, oj] = sum(values) / len(values)
                for c in cells:
                    dx[c] += dout[oi, oj] / len(values)
            else:
                best = max(values)
                out[oi, oj] = best
                dx[cells[values.index(best)]] += dout[oi, oj]
    return out, dx


def pool_ref_nd(x, dout, size, stride, mode):
    """:func:`pool_ref` applied to every map of ``x (..., H, W)``; ``dout=None`` routes zeros."""
    x = np.asarray(x, dtype=np.float64)
    Ho, Wo = len(positions(x.shape[-2], size, 0, stride)), len(positions(x.shape[-1], size, 0, stride))
    dout = np.zeros(x.shape[:-2] + (Ho, Wo)) if dout is None else np.asarray(dout, dtype=np.float64)
    out = np.zeros(x.shape[:-2] + (Ho, Wo))
    dx = np.zeros(x.shape)
    for idx in np.ndindex(*x.shape[:-2]):
        out[idx], dx[idx] = pool_ref(x[idx], dout[idx], size, stride, mode)
    return out, dx


# --------------------------------------------------------------------------------------------
# Zhang's network, rebuilt from shifted slices (batch axis always present)
# --------------------------------------------------------------------------------------------
def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # an identity, not the helper's formula


def network_forward_ref(params, x, pooling="avg", conv_activation="sigmoid", output="sigmoid"):
    """Zhang eqs. 4-12 for images ``x (N, 28, 28)``; returns a dict of the layers (float64)."""
    P = {key: np.asarray(val, dtype=np.float64) for key, val in params.items()}
    x = np.asarray(x, dtype=np.float64)
    N = x.shape[0]
    act = _sigmoid if conv_activation == "sigmoid" else (lambda z: np.where(z > 0, z, 0.0))

    def pool(C):
        corners = [C[:, :, u::2, v::2] for u in (0, 1) for v in (0, 1)]
        if pooling == "avg":
            return (corners[0] + corners[1] + corners[2] + corners[3]) / 4.0
        return np.maximum(np.maximum(corners[0], corners[1]), np.maximum(corners[2], corners[3]))

    # C1: true convolution; output (i, j) meets kernel tap (a, b) at pixel (i + 4 - a, j + 4 - b).
    C1s = np.zeros((N, 6, 24, 24)) + P["b1"][None, :, None, None]
    for a in range(5):
        for b in range(5):
            C1s += P["k1"][None, :, a, b, None, None] * x[:, None, 4 - a:28 - a, 4 - b:28 - b]
    C1 = act(C1s)
    S1 = pool(C1)
    C2s = np.zeros((N, 12, 8, 8)) + P["b2"][None, :, None, None]
    for a in range(5):
        for b in range(5):
            C2s += np.einsum("pq,npij->nqij", P["k2"][:, :, a, b], S1[:, :, 4 - a:12 - a, 4 - b:12 - b])
    C2 = act(C2s)
    S2 = pool(C2)
    f = np.stack([np.concatenate([S2[n, q].ravel(order="F") for q in range(12)]) for n in range(N)])
    logits = f @ P["W"].T + P["b"]
    if output == "sigmoid":
        y_hat = _sigmoid(logits)
    else:
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        y_hat = e / e.sum(axis=1, keepdims=True)
    return {"C1_sigma": C1s, "C1": C1, "S1": S1, "C2_sigma": C2s, "C2": C2, "S2": S2, "f": f,
            "y_hat_sigma": logits, "y_hat": y_hat}


def network_loss_ref(params, x, Y, **variant):
    """Mean over the batch of ``1/2 sum (y_hat - y)^2`` (eq. 13), or of cross-entropy for softmax."""
    y_hat = network_forward_ref(params, x, **variant)["y_hat"]
    if variant.get("output", "sigmoid") == "softmax":
        per_image = -np.sum(Y * np.log(y_hat), axis=1)
    else:
        per_image = 0.5 * np.sum((y_hat - Y) ** 2, axis=1)
    return float(per_image.mean())


def sigmoid(z):
    """The logistic sigmoid, through tanh (an identity, not the helpers' formula)."""
    return _sigmoid(z)


# --------------------------------------------------------------------------------------------
# data augmentation
# --------------------------------------------------------------------------------------------
def shift_rotate_ref(image, shift, degrees):
    """One image (H, W) turned counter-clockwise (as displayed) by ``degrees`` about its centre,
    then moved by ``shift = (down, right)`` pixels; bilinear interpolation, 0 outside.

    Written pixel by pixel with complex numbers (x = column, y = row pointing *up*): the output
    pixel p reads the input at ``(p - t - c) * exp(-i theta) + c``, whose four neighbours are
    read one by one through a bounds check."""
    import math

    h, w = image.shape
    out = np.zeros((h, w))
    undo = complex(math.cos(math.radians(degrees)), -math.sin(math.radians(degrees)))
    centre = complex((w - 1) / 2, -(h - 1) / 2)

    def pixel(r, c):
        return float(image[r, c]) if 0 <= r < h and 0 <= c < w else 0.0

    for i in range(h):
        for j in range(w):
            p = complex(j - shift[1], -(i - shift[0]))
            q = (p - centre) * undo + centre
            row, col = -q.imag, q.real
            r0, c0 = math.floor(row), math.floor(col)
            a, b = row - r0, col - c0
            out[i, j] = ((1 - a) * (1 - b) * pixel(r0, c0) + (1 - a) * b * pixel(r0, c0 + 1)
                         + a * (1 - b) * pixel(r0 + 1, c0) + a * b * pixel(r0 + 1, c0 + 1))
    return out
