"""Convolution and cross-correlation, as loops that mirror the equations and as fast numpy.

Two operations appear in the seeds and they differ only by a 180-degree rotation of the kernel:

* cross-correlation (seed 002, seed 004's worked examples)::

      z[i, j] = sum_{a, b} x[i*s + a, j*s + b] * k[a, b]

* true convolution (Zhang eq. 5 and eq. 8, seed 003), written by Zhang with a centred kernel
  index u, v in -2..2 and 1-based i, j::

      C(i, j) = sum_{u=-2}^{2} sum_{v=-2}^{2} I(i - u, j - v) * k(u, v)

  With 0-based arrays ``k[a, b] = k(a - 2, b - 2)`` and the valid output ``out[i, j]`` reading the
  input block ``x[i:i+5, j:j+5]``, this is ``out[i, j] = sum_{a,b} x[i + 4 - a, j + 4 - b] * k[a, b]``,
  i.e. cross-correlation with ``rot180(k)``.

Array layout for layers: images ``(N, C_in, H, W)``, kernels ``(C_in, C_out, kh, kw)`` (Zhang's
``k2[p, q, u, v]``), biases ``(C_out,)``. Output size (seed 004): ``floor((n + 2p - f) / s) + 1``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import as_float_array, check_ndim, check_positive_int

CONVENTIONS = ("correlation", "convolution")


# --------------------------------------------------------------------------------------------
# small utilities
# --------------------------------------------------------------------------------------------
def rot180(k):
    """Rotate the last two axes of ``k`` by 180 degrees (flip rows and columns).

    Shapes: ``(..., kh, kw) -> (..., kh, kw)``. ``rot180(k)[a, b] = k[kh-1-a, kw-1-b]``; in Zhang's
    centred notation ``k_rot180(-u, -v) = k(u, v)`` (text before eq. 50).
    """
    k = np.asarray(k)
    if k.ndim < 2:
        raise ValueError(f"k must have at least 2 dimensions (..., kh, kw), got shape {k.shape}")
    return k[..., ::-1, ::-1]


def output_size(n: int, f: int, padding: int = 0, stride: int = 1) -> int:
    """Output length ``floor((n + 2p - f) / s) + 1`` of a convolution (seed 004, slide 2.1).

    Raises ``ValueError`` when the (padded) input is smaller than the kernel.
    """
    n = check_positive_int(n, "n")
    f = check_positive_int(f, "f")
    padding = check_positive_int(padding, "padding", minimum=0)
    stride = check_positive_int(stride, "stride")
    if n + 2 * padding < f:
        raise ValueError(f"kernel of size {f} does not fit an input of size {n} with padding {padding}")
    return (n + 2 * padding - f) // stride + 1


def pad2d(x, padding: int):
    """Zero-pad the last two axes of ``x`` by ``padding`` on every side."""
    padding = check_positive_int(padding, "padding", minimum=0)
    x = np.asarray(x)
    if padding == 0:
        return x
    width = [(0, 0)] * (x.ndim - 2) + [(padding, padding), (padding, padding)]
    return np.pad(x, width)


def _mode_padding(mode: str, kh: int, kw: int, padding: int) -> int:
    if mode == "valid":
        return padding
    if mode == "full":
        if kh != kw:
            raise ValueError("mode='full' needs a square kernel here; use padding= instead")
        if padding:
            raise ValueError("give either mode='full' or padding=, not both")
        return kh - 1
    raise ValueError(f"mode must be 'valid' or 'full', got {mode!r}")


def _check_2d_pair(x, k):
    x = as_float_array(x, "x", allow_int=True)
    k = as_float_array(k, "k", allow_int=True)
    check_ndim(k, "k", 2, "(kh, kw)")
    if x.ndim < 2:
        raise ValueError(f"x must have shape (..., H, W), got shape {x.shape}")
    return x, k


# --------------------------------------------------------------------------------------------
# single-map operations: (..., H, W) with a (kh, kw) kernel
# --------------------------------------------------------------------------------------------
def correlate2d_naive(x, k, stride: int = 1, padding: int = 0, mode: str = "valid"):
    """Cross-correlation by explicit loops: ``z[i, j] = sum_{a,b} xp[i*s + a, j*s + b] * k[a, b]``.

    This is seed 004's ``z(u, v) = sum_{i,j} x_{i+u, j+v} k_{i,j}`` with 0-based indices, and the
    forward equation of seed 002 (``z_{j,k} = sum_{l,m} w_{l,m} a_{j+l, k+m}``).
    Shapes: ``x (H, W)``, ``k (kh, kw)`` -> ``(Ho, Wo)``; ``xp`` is ``x`` zero-padded.
    """
    x, k = _check_2d_pair(x, k)
    check_ndim(x, "x", 2, "(H, W)")
    kh, kw = k.shape
    padding = _mode_padding(mode, kh, kw, padding)
    stride = check_positive_int(stride, "stride")
    ho = output_size(x.shape[0], kh, padding, stride)
    wo = output_size(x.shape[1], kw, padding, stride)
    xp = pad2d(x, padding)
    z = np.zeros((ho, wo), dtype=np.result_type(x, k))
    for i in range(ho):
        for j in range(wo):
            total = 0.0
            for a in range(kh):
                for b in range(kw):
                    total += xp[i * stride + a, j * stride + b] * k[a, b]
            z[i, j] = total
    return z


def convolve2d_naive(x, k, mode: str = "valid"):
    """True convolution by explicit loops, the index form of Zhang eq. 5.

    Zhang writes ``C(i, j) = sum_{u=-2}^{2} sum_{v=-2}^{2} I(i-u, j-v) k(u, v)`` with a centred,
    1-based kernel. Here the kernel index is 0-based, ``a = u + c`` with ``c = kh // 2``, and the
    valid output ``out[i, j]`` is centred on input pixel ``(i + c, j + c)``::

        out[i, j] = sum_{a, b} xp[i + c - (a - c), j + c - (b - c)] * k[a, b]

    For odd square kernels. Shapes: ``x (H, W)``, ``k (kh, kw)`` -> ``(Ho, Wo)``.
    """
    x, k = _check_2d_pair(x, k)
    check_ndim(x, "x", 2, "(H, W)")
    kh, kw = k.shape
    if kh % 2 == 0 or kw % 2 == 0:
        # Even kernels have no centre; fall back to the rotated-correlation identity.
        return correlate2d_naive(x, rot180(k), mode=mode)
    padding = _mode_padding(mode, kh, kw, 0)
    xp = pad2d(x, padding)
    ch, cw = kh // 2, kw // 2
    ho, wo = xp.shape[0] - kh + 1, xp.shape[1] - kw + 1
    out = np.zeros((ho, wo), dtype=np.result_type(x, k))
    for i in range(ho):
        for j in range(wo):
            total = 0.0
            for u in range(-ch, ch + 1):  # Zhang's u = -2..2
                for v in range(-cw, cw + 1):
                    total += xp[i + ch - u, j + cw - v] * k[u + ch, v + cw]
            out[i, j] = total
    return out


def _windows(xp, kh: int, kw: int, stride: int):
    """View of every (kh, kw) patch of ``xp (..., H, W)``: shape ``(..., Ho, Wo, kh, kw)``."""
    win = sliding_window_view(xp, (kh, kw), axis=(-2, -1))
    if stride > 1:
        win = win[..., ::stride, ::stride, :, :]
    return win


def correlate2d(x, k, stride: int = 1, padding: int = 0, mode: str = "valid"):
    """Vectorized cross-correlation of every map in ``x (..., H, W)`` with ``k (kh, kw)``.

    Same equation as :func:`correlate2d_naive` (seed 004), any stride and zero padding;
    ``mode='full'`` pads by ``kh - 1`` (the full correlation of seed 004 slide 2.2.1).
    Returns ``(..., Ho, Wo)`` with ``Ho = floor((H + 2p - kh) / s) + 1``.
    """
    x, k = _check_2d_pair(x, k)
    kh, kw = k.shape
    padding = _mode_padding(mode, kh, kw, padding)
    stride = check_positive_int(stride, "stride")
    output_size(x.shape[-2], kh, padding, stride)
    output_size(x.shape[-1], kw, padding, stride)
    dtype = np.result_type(x, k)
    win = _windows(pad2d(x.astype(dtype, copy=False), padding), kh, kw, stride)
    return np.tensordot(win, k.astype(dtype, copy=False), axes=([-2, -1], [0, 1]))


def convolve2d(x, k, mode: str = "valid"):
    """Vectorized true convolution (Zhang eq. 5): ``correlate2d(x, rot180(k))``.

    ``mode='full'`` is the full convolution of Zhang eq. 51 and seed 003 ("note that this is full
    convolution"). Shapes: ``x (..., H, W)``, ``k (kh, kw)`` -> ``(..., Ho, Wo)``.
    """
    x, k = _check_2d_pair(x, k)
    return correlate2d(x, rot180(k), mode=mode)


# --------------------------------------------------------------------------------------------
# multi-channel, batched layers (CS231n style: forward returns a cache, backward uses it)
# --------------------------------------------------------------------------------------------
def _check_layer_args(x, k, b, stride, padding, convention):
    x = as_float_array(x, "x")
    k = as_float_array(k, "k")
    check_ndim(x, "x", 4, "(N, C_in, H, W)")
    check_ndim(k, "k", 4, "(C_in, C_out, kh, kw)")
    b = np.zeros(k.shape[1], dtype=k.dtype) if b is None else as_float_array(b, "b")
    check_ndim(b, "b", 1, "(C_out,)")
    if k.shape[0] != x.shape[1]:
        raise ValueError(
            f"k has shape {k.shape} with C_in={k.shape[0]}, but x has shape {x.shape} with C_in={x.shape[1]}"
        )
    if b.shape[0] != k.shape[1]:
        raise ValueError(f"b must have shape ({k.shape[1]},) to match k's C_out, got {b.shape}")
    stride = check_positive_int(stride, "stride")
    padding = check_positive_int(padding, "padding", minimum=0)
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    output_size(x.shape[2], k.shape[2], padding, stride)
    output_size(x.shape[3], k.shape[3], padding, stride)
    return x, k, b, stride, padding


def _check_dz(dz, x, k, stride: int, padding: int):
    """``dz`` as a float array of the layer's output shape ``(N, C_out, Ho, Wo)``, or a ValueError."""
    dz = as_float_array(dz, "dz")
    n_img, _, h, w = x.shape
    _, c_out, kh, kw = k.shape
    want = (n_img, c_out, output_size(h, kh, padding, stride), output_size(w, kw, padding, stride))
    if dz.shape != want:
        raise ValueError(f"dz must have shape {want}, got {dz.shape}")
    return dz


def conv_forward_naive(x, k, b, stride: int = 1, padding: int = 0, convention: str = "correlation"):
    """Multi-channel layer by loops: ``z[n, q, i, j] = b[q] + sum_p sum_{a,b} xp[n, p, i*s+a, j*s+b] K[p, q, a, b]``.

    ``K = k`` for ``convention='correlation'`` and ``K = rot180(k)`` for ``'convolution'``
    (Zhang eq. 8: the sum over input maps p of each map convolved with ``k2[p, q]``).
    Shapes: ``x (N, C_in, H, W)``, ``k (C_in, C_out, kh, kw)``, ``b (C_out,)`` -> ``(N, C_out, Ho, Wo)``.
    """
    x, k, b, stride, padding = _check_layer_args(x, k, b, stride, padding, convention)
    kk = rot180(k) if convention == "convolution" else k
    n_img, c_in, h, w = x.shape
    _, c_out, kh, kw = k.shape
    ho, wo = output_size(h, kh, padding, stride), output_size(w, kw, padding, stride)
    xp = pad2d(x, padding)
    z = np.zeros((n_img, c_out, ho, wo), dtype=np.result_type(x, k, b))
    for n in range(n_img):
        for q in range(c_out):
            for i in range(ho):
                for j in range(wo):
                    total = b[q]
                    for p in range(c_in):
                        for a in range(kh):
                            for bb in range(kw):
                                total += xp[n, p, i * stride + a, j * stride + bb] * kk[p, q, a, bb]
                    z[n, q, i, j] = total
    return z


def conv_backward_naive(dz, x, k, stride: int = 1, padding: int = 0, convention: str = "correlation"):
    """Gradients of the layer above by loops, one term of the chain rule at a time.

    For every output position ``(n, q, i, j)`` and every tap ``(p, a, b)`` the forward sum has the
    term ``xp[n, p, i*s+a, j*s+b] * K[p, q, a, b]``, so (Zhang eqs. 36, 45, 49; seed 004 2.2-2.3)::

        dK[p, q, a, b]              += dz[n, q, i, j] * xp[n, p, i*s+a, j*s+b]
        dxp[n, p, i*s+a, j*s+b]     += dz[n, q, i, j] * K[p, q, a, b]
        db[q]                       += dz[n, q, i, j]

    and ``dk = rot180(dK)`` for the convolution convention. Returns ``(dx, dk, db)`` with the
    shapes of ``x``, ``k`` and ``(C_out,)``.
    """
    x, k, _, stride, padding = _check_layer_args(x, k, None, stride, padding, convention)
    dz = _check_dz(dz, x, k, stride, padding)
    kk = rot180(k) if convention == "convolution" else k
    n_img, c_in, h, w = x.shape
    _, c_out, kh, kw = k.shape
    ho, wo = dz.shape[2:]
    dtype = np.result_type(x, k, dz)
    xp = pad2d(x, padding)
    dxp = np.zeros(xp.shape, dtype=dtype)
    dK = np.zeros(k.shape, dtype=dtype)
    db = np.zeros(c_out, dtype=dtype)
    for n in range(n_img):
        for q in range(c_out):
            for i in range(ho):
                for j in range(wo):
                    g = dz[n, q, i, j]
                    db[q] += g
                    for p in range(c_in):
                        for a in range(kh):
                            for bb in range(kw):
                                dK[p, q, a, bb] += g * xp[n, p, i * stride + a, j * stride + bb]
                                dxp[n, p, i * stride + a, j * stride + bb] += g * kk[p, q, a, bb]
    dx = dxp[:, :, padding:padding + h, padding:padding + w] if padding else dxp
    dk = rot180(dK) if convention == "convolution" else dK
    return dx, np.ascontiguousarray(dk), db


def conv_forward(x, k, b, stride: int = 1, padding: int = 0, convention: str = "correlation"):
    """Vectorized multi-channel layer (im2col + one matrix product); same equation as
    :func:`conv_forward_naive`.

    Returns ``(z, cache)``: ``z (N, C_out, Ho, Wo)`` and what :func:`conv_backward` needs.
    """
    x, k, b, stride, padding = _check_layer_args(x, k, b, stride, padding, convention)
    dtype = np.result_type(x, k, b)
    kk = rot180(k) if convention == "convolution" else k
    xp = pad2d(x.astype(dtype, copy=False), padding)
    win = _windows(xp, k.shape[2], k.shape[3], stride)  # (N, C_in, Ho, Wo, kh, kw)
    z = np.einsum("nphwab,pqab->nqhw", win, kk.astype(dtype, copy=False), optimize=True)
    z += b.astype(dtype, copy=False)[None, :, None, None]
    cache = {"x": x, "k": k, "stride": stride, "padding": padding, "convention": convention}
    return z, cache


def conv_backward(dz, cache):
    """Vectorized gradients of :func:`conv_forward` (Zhang eqs. 40, 45, 51; seed 004 2.2-2.3).

    * ``dK = sum_n correlate(xp[n, p], dz[n, q])`` (no rotation in the correlation convention;
      Zhang's eq. 40 ``rot180(S1) * dC2_sigma`` is the same thing after the kernel flip),
    * ``dx``: every tap ``(a, b)`` adds ``dz`` weighted by ``K[:, :, a, b]`` into the strided
      slice of ``dxp`` it read from (col2im by strided accumulation; for stride 1 this equals
      the full convolution of Zhang eq. 51),
    * ``db[q] = sum dz[:, q]``.

    Returns ``(dx, dk, db)`` with the shapes of ``x``, ``k`` and ``(C_out,)``.
    """
    x, k = cache["x"], cache["k"]
    stride, padding, convention = cache["stride"], cache["padding"], cache["convention"]
    dz = _check_dz(dz, x, k, stride, padding)
    n_img, c_in, h, w = x.shape
    _, c_out, kh, kw = k.shape
    ho, wo = dz.shape[2:]
    dtype = np.result_type(x, k, dz)
    kk = (rot180(k) if convention == "convolution" else k).astype(dtype, copy=False)
    xp = pad2d(x.astype(dtype, copy=False), padding)
    win = _windows(xp, kh, kw, stride)
    dK = np.einsum("nphwab,nqhw->pqab", win, dz, optimize=True)
    db = dz.sum(axis=(0, 2, 3))
    dxp = np.zeros(xp.shape, dtype=dtype)
    for a in range(kh):
        for bb in range(kw):
            contrib = np.einsum("nqhw,pq->nphw", dz, kk[:, :, a, bb], optimize=True)
            dxp[:, :, a:a + stride * (ho - 1) + 1:stride, bb:bb + stride * (wo - 1) + 1:stride] += contrib
    dx = dxp[:, :, padding:padding + h, padding:padding + w] if padding else dxp
    dk = rot180(dK) if convention == "convolution" else dK
    return dx, np.ascontiguousarray(dk), db
