"""Argument checks shared by the helpers modules.

Every public function in :mod:`helpers` checks what it is given before numpy sees it, so that a
student's mistake surfaces as a ``ValueError`` or ``TypeError`` that names the argument and the
expected shape, never as an ``IndexError`` from deep inside numpy.
"""

from __future__ import annotations

import numpy as np


def as_float_array(value, name: str, *, allow_int: bool = False) -> np.ndarray:
    """Return ``value`` as a floating numpy array, or raise a clear error.

    Integer arrays are rejected unless ``allow_int`` (then they become float64), booleans,
    strings and objects always are. NaN and infinity raise ``ValueError``.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}") from exc
    if arr.dtype.kind == "f":
        pass
    elif arr.dtype.kind in "iu" and allow_int:
        arr = arr.astype(np.float64)
    elif arr.dtype.kind in "iu":
        raise TypeError(
            f"{name} must be a floating array, got dtype {arr.dtype}"
            + (" (images are floats in [0, 1]: divide uint8 pixels by 255)" if arr.dtype == np.uint8 else "")
        )
    else:
        raise TypeError(f"{name} must be a numeric floating array, got dtype {arr.dtype}")
    if arr.size and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return arr


def check_ndim(arr: np.ndarray, name: str, ndims, expected: str) -> None:
    """Raise ``ValueError`` unless ``arr.ndim`` is one of ``ndims``."""
    ndims = (ndims,) if isinstance(ndims, int) else tuple(ndims)
    if arr.ndim not in ndims:
        raise ValueError(f"{name} must have shape {expected}, got shape {arr.shape}")


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum`` or raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(value, name: str, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` naming them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_param_dict(params, shapes: dict, name: str = "params") -> np.dtype:
    """Validate a parameter dict against ``shapes`` (key -> shape); return its common float dtype.

    Used by every network (:mod:`helpers.network`, :mod:`helpers.maxpool_net`,
    :mod:`helpers.softmax_net`). ``TypeError`` for a non-dict, a non-array value, a non-float
    array or mixed dtypes; ``ValueError`` for a missing or extra key, a wrong shape, NaN or
    infinity.
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
            raise TypeError(f"{name}[{key!r}] must be a numpy array of shape {tuple(shape)}, got {type(arr).__name__}")
        if arr.shape != tuple(shape):
            raise ValueError(f"{name}[{key!r}] must have shape {tuple(shape)}, got {arr.shape}")
        as_float_array(arr, f"{name}[{key!r}]")
        dtypes.add(arr.dtype)
    if len(dtypes) != 1:
        raise TypeError(f"all parameters must share one float dtype; {name} has {sorted(map(str, dtypes))}")
    return dtypes.pop()


def check_images(x, dtype, name: str = "x") -> tuple[np.ndarray, bool]:
    """Return ``(X, batched)``: ``X`` of shape ``(N, 28, 28)`` in ``dtype``.

    ``x`` is one grey image ``(28, 28)`` (``batched`` False, N = 1) or a batch ``(N, 28, 28)``;
    a colour image (last axis 3 or 4) gets a hint in the error.
    """
    x = as_float_array(x, name)
    if x.ndim == 2:
        batched, X = False, x[None]
    elif x.ndim == 3:
        batched, X = True, x
    elif x.ndim == 4 and x.shape[-1] in (3, 4):
        raise ValueError(f"{name} has shape {x.shape}: a colour image; the network takes grey images "
                         "(28, 28) or (N, 28, 28)")
    else:
        raise ValueError(f"{name} must have shape (28, 28) or (N, 28, 28), got {x.shape}")
    if X.shape[1:] != (28, 28):
        hint = " (a colour image? use one grey channel)" if x.shape[-1] in (3, 4) else ""
        raise ValueError(f"{name} must have shape (28, 28) or (N, 28, 28), got {x.shape}{hint}")
    if X.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (N = 0)")
    return X.astype(dtype, copy=False), batched


def check_labelled_batch(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)`` as arrays: a batch ``x (N, 28, 28)``, N >= 1, and integer class labels ``y (N,)``.

    The images' dtype and values are left to the network's ``forward``.
    """
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"x must have shape (N, 28, 28), got {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("x is an empty batch (N = 0)")
    y = np.asarray(y)
    if y.shape != (x.shape[0],) or y.dtype.kind not in "iu":
        raise ValueError(f"y must hold integer labels of shape ({x.shape[0]},), got {y.dtype} {y.shape}")
    return x, y


def as_pixels(value, name: str) -> np.ndarray:
    """Return an image (any shape) as float64 ink in [0, 1], or raise one clear error.

    The one rule for every image the drawing and explorer functions take:

    - an integer array (uint8 as MNIST stores it, or any other integer dtype) with values in
      0..255 is read as pixels and divided by 255;
    - a floating array with values in [0, 1] is taken as it is.

    Everything else is refused rather than guessed: floats outside [0, 1] (``ValueError``; floats
    above 1 are most likely pixels 0..255, and the message says to divide them by 255), integers
    outside 0..255 (``ValueError``), NaN or infinity (``ValueError``), booleans, strings and
    objects (``TypeError``).
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array, got {type(value).__name__}") from exc
    if arr.dtype.kind in "iu":
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(f"{name} has integer values in {arr.min()}..{arr.max()}, dtype {arr.dtype}: "
                             "integer pixels must be in 0..255 (they are divided by 255)")
        return arr.astype(np.float64) / 255.0
    if arr.dtype.kind not in "f":
        raise TypeError(f"{name} must hold integer pixels 0..255 or floats in [0, 1], got dtype {arr.dtype}")
    arr = as_float_array(arr, name)
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        lo, hi = float(arr.min()), float(arr.max())
        hint = ": pixels 0..255 stored as floats? divide them by 255" if hi > 1 else ""
        raise ValueError(f"{name} must hold floats in [0, 1], got dtype {arr.dtype} with values in "
                         f"[{lo:.4g}, {hi:.4g}]{hint}")
    return arr.astype(np.float64)


def check_class_labels(labels, n: int, name: str = "labels", n_classes: int = 10) -> np.ndarray:
    """Return ``labels`` as an int64 array ``(n,)`` of classes ``0 .. n_classes - 1``, or raise.

    ``n`` is the number of images they label: a different length is refused (``ValueError``),
    as are a non-integer dtype (``TypeError``: float labels such as 3.0 included) and a class
    out of range (``ValueError``).
    """
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be integer classes 0..{n_classes - 1}, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one class per image, got shape {arr.shape}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name} must be classes 0..{n_classes - 1}, got values in {arr.min()}..{arr.max()}")
    return arr.astype(np.int64)


def check_unit_interval(value, name: str) -> float:
    """Return ``value`` as a float if it is a real number in [0, 1] (not a bool), else raise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1], got {type(value).__name__} {value!r}")
    if not 0.0 <= float(value) <= 1.0:  # NaN fails this too
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)
