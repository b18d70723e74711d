"""Zhang's column scan ``F`` and its inverse ``F^{-1}`` (Zhang eqs. 10-11), written once.

Every place in the book that turns a stack of pooled maps into the feature vector ``f`` (or an
error vector back into maps) calls these two functions: Zhang's network (12 maps of 4x4 -> 192),
seed 003's network (6 maps of 4x4 -> 96), the figures and the exercise checks.

Index convention (0-based, as numpy): map ``q`` of shape ``(H, W)`` is read column by column,
so ``f[q * H * W + j * H + i] = maps[q, i, j]``. Zhang writes the same thing 1-based.
"""

from __future__ import annotations

import numpy as np

__all__ = ["column_scan", "column_unscan"]


def column_scan(maps) -> np.ndarray:
    """Zhang eq. 10: scan each map column by column and concatenate the maps in order.

    Inputs:
    - maps: array of shape (C, H, W) for one image or (N, C, H, W) for a batch.

    Returns f of shape (C * H * W,) or (N, C * H * W), a view where numpy can make one.
    """
    maps = np.asarray(maps)
    if maps.ndim not in (3, 4):
        raise ValueError(f"maps must have shape (C, H, W) or (N, C, H, W), got {maps.shape}")
    lead = maps.shape[:-3]
    return np.swapaxes(maps, -1, -2).reshape(*lead, -1)


def column_unscan(f, n_maps: int, side: int) -> np.ndarray:
    """Zhang eq. 11 (``F^{-1}``): the inverse of :func:`column_scan` for square maps.

    Inputs:
    - f: array of shape (n_maps * side**2,) or (N, n_maps * side**2).
    - n_maps, side: the number of maps and their side (12 and 4 in Zhang's network).

    Returns maps of shape (n_maps, side, side) or (N, n_maps, side, side).
    """
    f = np.asarray(f)
    size = n_maps * side * side
    if f.ndim not in (1, 2) or f.shape[-1] != size:
        raise ValueError(f"f must have shape ({size},) or (N, {size}), got {f.shape}")
    lead = f.shape[:-1]
    return np.swapaxes(f.reshape(*lead, n_maps, side, side), -1, -2)
