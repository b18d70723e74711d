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
