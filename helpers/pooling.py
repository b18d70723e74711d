"""Average and max pooling, forward and backward, any window and stride.

Maps are the last two axes of an array ``(..., H, W)``; the output is ``(..., Ho, Wo)`` with
``Ho = floor((H - size) / stride) + 1`` (rows or columns that no window covers are ignored and
receive zero gradient). Windows may overlap (``stride < size``): then an input pixel collects
the gradient of every window it belongs to.

Zhang eq. 6 (1-based): ``S(i, j) = 1/4 sum_{u=0}^{1} sum_{v=0}^{1} C(2i - u, 2j - v)``; with 0-based
arrays the window of output ``(i, j)`` is ``C[2i:2i+2, 2j:2j+2]``.

Max-pool ties: when several entries of a window share the maximum, the whole gradient goes to the
FIRST one in row-major order (the order ``np.argmax`` uses on the flattened window). This is one
valid choice of subgradient; seed 002 leaves it unstated.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validate import as_float_array, check_positive_int

MODES = ("avg", "max")


def _check(x, size, stride, name="x"):
    x = as_float_array(x, name)
    if x.ndim < 2:
        raise ValueError(f"{name} must have shape (..., H, W), got shape {x.shape}")
    size = check_positive_int(size, "size")
    stride = size if stride is None else check_positive_int(stride, "stride")
    if x.shape[-2] < size or x.shape[-1] < size:
        raise ValueError(f"pooling window {size}x{size} does not fit maps of shape {x.shape[-2:]}")
    return x, size, stride


def pool_output_shape(h: int, w: int, size: int = 2, stride: int | None = None):
    """``(Ho, Wo) = (floor((h - size)/stride) + 1, floor((w - size)/stride) + 1)``."""
    stride = size if stride is None else stride
    return (h - size) // stride + 1, (w - size) // stride + 1


# --------------------------------------------------------------------------------------------
# loops that mirror the equations
# --------------------------------------------------------------------------------------------
def pool_forward_naive(x, size: int = 2, stride: int | None = None, mode: str = "avg"):
    """Pooling by loops over every map and output position.

    ``avg``: ``S[i, j] = 1/size^2 sum_{u,v} C[i*s + u, j*s + v]`` (Zhang eq. 6 and 9, 0-based).
    ``max``: ``S[i, j] = max_{u,v} C[i*s + u, j*s + v]`` (seed 002).
    Shapes: ``(..., H, W) -> (..., Ho, Wo)``.
    """
    x, size, stride = _check(x, size, stride)
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    ho, wo = pool_output_shape(x.shape[-2], x.shape[-1], size, stride)
    flat = x.reshape(-1, x.shape[-2], x.shape[-1])
    out = np.zeros((flat.shape[0], ho, wo), dtype=x.dtype)
    for m in range(flat.shape[0]):
        for i in range(ho):
            for j in range(wo):
                if mode == "avg":
                    total = 0.0
                    for u in range(size):
                        for v in range(size):
                            total += flat[m, i * stride + u, j * stride + v]
                    out[m, i, j] = total / (size * size)
                else:
                    best = flat[m, i * stride, j * stride]
                    for u in range(size):
                        for v in range(size):
                            best = max(best, flat[m, i * stride + u, j * stride + v])
                    out[m, i, j] = best
    return out.reshape(x.shape[:-2] + (ho, wo))


def pool_backward_naive(dout, x, size: int = 2, stride: int | None = None, mode: str = "avg"):
    """Route the error ``dout (..., Ho, Wo)`` back to the input ``x (..., H, W)`` by loops.

    ``avg``: every pixel of window ``(i, j)`` receives ``dout[i, j] / size^2`` (Zhang eq. 32:
    ``dC(i, j) = 1/4 dS(ceil(i/2), ceil(j/2))``, 1-based).
    ``max``: only the first maximal pixel of the window (row-major) receives ``dout[i, j]``
    (seed 002's modified BP2; seed 004 slide 2.1).
    Contributions of overlapping windows add up.
    """
    x, size, stride = _check(x, size, stride)
    dout = as_float_array(dout, "dout")
    ho, wo = pool_output_shape(x.shape[-2], x.shape[-1], size, stride)
    if dout.shape != x.shape[:-2] + (ho, wo):
        raise ValueError(f"dout must have shape {x.shape[:-2] + (ho, wo)}, got {dout.shape}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    flat_x = x.reshape(-1, x.shape[-2], x.shape[-1])
    flat_d = dout.reshape(-1, ho, wo)
    dx = np.zeros(flat_x.shape, dtype=np.result_type(x, dout))
    for m in range(flat_x.shape[0]):
        for i in range(ho):
            for j in range(wo):
                if mode == "avg":
                    for u in range(size):
                        for v in range(size):
                            dx[m, i * stride + u, j * stride + v] += flat_d[m, i, j] / (size * size)
                else:
                    bu, bv = 0, 0
                    for u in range(size):
                        for v in range(size):
                            if flat_x[m, i * stride + u, j * stride + v] > flat_x[m, i * stride + bu, j * stride + bv]:
                                bu, bv = u, v
                    dx[m, i * stride + bu, j * stride + bv] += flat_d[m, i, j]
    return dx.reshape(x.shape)


# --------------------------------------------------------------------------------------------
# vectorized versions
# --------------------------------------------------------------------------------------------
def _windows(x, size, stride):
    win = sliding_window_view(x, (size, size), axis=(-2, -1))
    return win[..., ::stride, ::stride, :, :]


def avgpool_forward(x, size: int = 2, stride: int | None = None):
    """Average pooling (Zhang eqs. 6, 9), vectorized. Returns ``(S, cache)``, ``S (..., Ho, Wo)``."""
    x, size, stride = _check(x, size, stride)
    if stride == size and x.shape[-2] % size == 0 and x.shape[-1] % size == 0:
        h, w = x.shape[-2:]
        s = x.reshape(x.shape[:-2] + (h // size, size, w // size, size)).mean(axis=(-3, -1))
    else:
        s = _windows(x, size, stride).mean(axis=(-2, -1))
    return s, {"shape": x.shape, "dtype": x.dtype, "size": size, "stride": stride, "mode": "avg"}


def avgpool_backward(dout, cache):
    """Upsampling of the error through average pooling (Zhang eqs. 32 and 52), vectorized.

    Non-overlapping windows: ``dC = kron(dS, ones((size, size)) / size^2)``. General stride:
    each of the ``size^2`` offsets adds ``dS / size^2`` to a strided slice of ``dC``.
    Returns ``dC`` with the input's shape.
    """
    shape, size, stride = cache["shape"], cache["size"], cache["stride"]
    dout = as_float_array(dout, "dout")
    ho, wo = pool_output_shape(shape[-2], shape[-1], size, stride)
    if dout.shape != tuple(shape[:-2]) + (ho, wo):
        raise ValueError(f"dout must have shape {tuple(shape[:-2]) + (ho, wo)}, got {dout.shape}")
    dtype = np.result_type(cache["dtype"], dout)
    scaled = dout.astype(dtype, copy=False) / (size * size)
    if stride == size and shape[-2] == ho * size and shape[-1] == wo * size:
        return np.repeat(np.repeat(scaled, size, axis=-2), size, axis=-1)
    dx = np.zeros(shape, dtype=dtype)
    for u in range(size):
        for v in range(size):
            dx[..., u:u + stride * (ho - 1) + 1:stride, v:v + stride * (wo - 1) + 1:stride] += scaled
    return dx


def maxpool_forward(x, size: int = 2, stride: int | None = None):
    """Max pooling (seed 002), vectorized. Returns ``(S, cache)``; the cache holds, for every
    window, the row-major position of its first maximum (the tie rule of this module)."""
    x, size, stride = _check(x, size, stride)
    win = _windows(x, size, stride)
    flat = win.reshape(win.shape[:-2] + (size * size,))
    arg = flat.argmax(axis=-1)
    s = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
    return s, {"shape": x.shape, "dtype": x.dtype, "size": size, "stride": stride, "argmax": arg, "mode": "max"}


def maxpool_backward(dout, cache):
    """Route the error to the first maximum of each window (seed 002 BP2, seed 004 slide 2.1).

    For each of the ``size^2`` window offsets ``(u, v)``, the windows whose maximum sits at that
    offset add their ``dout`` to the strided slice of ``dC`` at that offset.
    Returns ``dC`` with the input's shape.
    """
    shape, size, stride, arg = cache["shape"], cache["size"], cache["stride"], cache["argmax"]
    dout = as_float_array(dout, "dout")
    if dout.shape != arg.shape:
        raise ValueError(f"dout must have shape {arg.shape}, got {dout.shape}")
    ho, wo = arg.shape[-2:]
    dx = np.zeros(shape, dtype=np.result_type(cache["dtype"], dout))
    for u in range(size):
        for v in range(size):
            routed = np.where(arg == u * size + v, dout, 0)
            dx[..., u:u + stride * (ho - 1) + 1:stride, v:v + stride * (wo - 1) + 1:stride] += routed
    return dx


def pool_forward(x, size: int = 2, stride: int | None = None, mode: str = "avg"):
    """Dispatch to :func:`avgpool_forward` or :func:`maxpool_forward`; returns ``(S, cache)``."""
    if mode == "avg":
        s, cache = avgpool_forward(x, size, stride)
    elif mode == "max":
        s, cache = maxpool_forward(x, size, stride)
    else:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    cache["mode"] = mode
    return s, cache


def pool_backward(dout, cache):
    """Dispatch to the backward pass matching the cache's mode."""
    return avgpool_backward(dout, cache) if cache["mode"] == "avg" else maxpool_backward(dout, cache)
