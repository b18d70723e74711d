"""Argument checks shared by the small networks of notebooks 07 and 08 (seeds 002 and 003).

:mod:`helpers.maxpool_net`, :mod:`helpers.softmax_net` and :mod:`helpers.sgd` take a parameter
dict, images and labels. These functions check them once, with errors that name the argument
and the expected shape, before any numpy routine sees them.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array


def check_param_dict(params, shapes: dict, name: str = "params") -> np.dtype:
    """Validate ``params`` against ``shapes`` (key -> shape); return the common float dtype.

    ``TypeError`` for a non-dict, a non-array value, a non-float array or mixed dtypes;
    ``ValueError`` for a missing or extra key, a wrong shape, NaN or infinity.
    """
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be a dict with keys {list(shapes)}, got {type(params).__name__}")
    missing = [k for k in shapes if k not in params]
    if missing:
        raise ValueError(f"{name} is missing {missing}; expected keys {list(shapes)}")
    extra = [k for k in params if k not in shapes]
    if extra:
        raise ValueError(f"{name} has unexpected keys {extra}; expected keys {list(shapes)}")
    dtypes = set()
    for key, shape in shapes.items():
        arr = params[key]
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"{name}[{key!r}] must be a numpy array of shape {shape}, got {type(arr).__name__}")
        if arr.shape != tuple(shape):
            raise ValueError(f"{name}[{key!r}] must have shape {tuple(shape)}, got {arr.shape}")
        as_float_array(arr, f"{name}[{key!r}]")
        dtypes.add(arr.dtype)
    if len(dtypes) != 1:
        raise TypeError(f"all of {name} must share one float dtype, got {sorted(map(str, dtypes))}")
    return dtypes.pop()


def check_images(x, dtype, name: str = "x") -> tuple[np.ndarray, bool]:
    """Return ``(X, batched)``: ``X`` of shape ``(N, 28, 28)`` in ``dtype``.

    ``x`` is one image ``(28, 28)`` (``batched`` False, N = 1) or a batch ``(N, 28, 28)``.
    """
    x = as_float_array(x, name)
    if x.ndim == 2:
        batched, X = False, x[None]
    elif x.ndim == 3:
        batched, X = True, x
    else:
        raise ValueError(f"{name} must have shape (28, 28) or (N, 28, 28), got {x.shape}")
    if X.shape[1:] != (28, 28):
        raise ValueError(f"{name} must have shape (28, 28) or (N, 28, 28), got {x.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (N = 0)")
    return X.astype(dtype, copy=False), batched


def check_choice(value, name: str, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` naming them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value
