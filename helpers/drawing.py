"""Digits a class can draw and disturb: MNIST's preprocessing and simple perturbations.

MNIST's digits were not fed to networks as drawn: each was scaled, keeping its aspect ratio, to
fit a 20x20 box (with anti-aliasing, so edges become grey), and then placed in a 28x28 field so
that its centre of mass sits at the centre of the field (LeCun, Cortes and Burges, "The MNIST
database"). :func:`mnist_preprocess` does the same to a drawing of any size, so that a digit
drawn with the mouse looks to the network like the digits it was trained on.

The perturbations (:func:`shift`, :func:`rotate`, :func:`thicken`, :func:`erase`,
:func:`add_noise`, and :func:`perturb`, which chains them) act on one 28x28 image with values
in [0, 1] and return a new float64 image in [0, 1]; they never change their input.

Accepted images (every function here, one rule, :func:`helpers._validate.as_pixels`): integer
pixels 0..255 of any integer dtype (divided by 255), or floats in [0, 1]. Floats above 1 are
refused with a message to divide them by 255, not clipped: clipping a 0..255 drawing to 1
would silently turn its grey edges black.

Index convention: row ``i`` grows downwards, column ``j`` to the right (numpy's), 0-based. The
geometric centre of a 28x28 field is the point (13.5, 13.5); MNIST's digits have their centre of
mass at about pixel (14, 14), and :func:`mnist_preprocess` follows MNIST.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._validate import as_pixels, check_unit_interval
from .augment import shift_rotate

__all__ = ["mnist_preprocess", "shift", "rotate", "thicken", "erase", "add_noise", "perturb"]

SIDE = 28  # the field of an MNIST digit
BOX = 20  # the box the digit is scaled into
CENTRE = 14.0  # where MNIST's centres of mass sit (0-based; the mean over MNIST-5k is (14.0, 14.1))
#: the widest stroke :func:`mnist_preprocess` lets through, in pixels of the 28x28 field (a pen
#: 22 px wide on a digit 200 px tall, as drawn on the 280 px pad, lands at 2.2 px)
MNIST_STROKE = 2.5


def _check_image(x, name: str = "x", shape=None) -> np.ndarray:
    """One image (H, W) as float64 in [0, 1] (:func:`helpers._validate.as_pixels`), or raise."""
    x = as_pixels(x, name)
    if x.ndim != 2 or (shape is not None and x.shape != shape):
        want = shape if shape is not None else "(H, W)"
        raise ValueError(f"{name} must be one image of shape {want}, got shape {x.shape}")
    return x


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` matrix averaging the input cells each output cell covers (area resampling)."""
    edges_in = np.arange(n_in + 1, dtype=np.float64)
    edges_out = np.linspace(0.0, n_in, n_out + 1)
    lo = np.maximum(edges_out[:-1, None], edges_in[None, :-1])
    hi = np.minimum(edges_out[1:, None], edges_in[None, 1:])
    overlap = np.clip(hi - lo, 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def _erode(img: np.ndarray, steps: int) -> np.ndarray:
    """Grey erosion by ``steps`` moves, alternating the 4- and the 8-neighbourhood (an octagon,
    close to a disc): each ink stroke becomes about ``2 * steps`` pixels thinner."""
    out = img
    for k in range(steps):
        padded = np.pad(out, 1)
        shifts = [padded[1:-1, :-2], padded[1:-1, 2:], padded[:-2, 1:-1], padded[2:, 1:-1]]
        if k % 2:
            shifts += [padded[:-2, :-2], padded[:-2, 2:], padded[2:, :-2], padded[2:, 2:]]
        out = np.minimum.reduce([out] + shifts)
    return out


def mnist_preprocess(drawing, threshold: float = 0.05, stroke=None) -> np.ndarray:
    """MNIST's preprocessing of one drawn digit.

    Inputs:
    - drawing: array of shape (H, W), any size (for example a 280x280 canvas): integer pixels
      0..255 of any integer dtype (divided by 255) or floats in [0, 1]; floats above 1 are
      refused (divide 0..255 pixels by 255), as are NaN and infinity.
    - threshold: a number in [0, 1]; pixels below ``threshold * max`` count as background when
      the digit's box is found.
    - stroke: optional, the pen width the drawing was made with, in its own pixels. A small
      drawing made with a wide pen would come out of the scaling with strokes far wider than
      MNIST's (a tiny "1" becomes a blob); with ``stroke`` given, the strokes are first thinned
      (grey erosion) so that they come out at most :data:`MNIST_STROKE` pixels wide.

    Returns an array of shape (28, 28), float64 in [0, 1]: the inked box scaled (aspect ratio
    kept, area averaging) so that its longer side is 20 pixels, then placed so that its centre
    of mass is within half a pixel of pixel (14, 14), where MNIST's digits have theirs. An
    empty drawing gives zeros.
    """
    img = _check_image(drawing, "drawing")
    threshold = check_unit_interval(threshold, "threshold")
    out = np.zeros((SIDE, SIDE))
    peak = img.max() if img.size else 0.0
    if peak <= 0:
        return out
    rows = np.flatnonzero((img >= threshold * peak).any(axis=1))
    cols = np.flatnonzero((img >= threshold * peak).any(axis=0))
    box = img[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = box.shape
    if stroke is not None:
        if isinstance(stroke, bool) or not isinstance(stroke, numbers.Real) or not stroke > 0:
            raise ValueError(f"stroke must be a positive number of pixels, got {stroke!r}")
        # thinning by 2k pixels shrinks the box by 2k too: solve (stroke - 2k) * BOX / (L - 2k)
        # = MNIST_STROKE for k, with L the box's longer side
        longer = max(h, w)
        k = int(np.ceil((stroke - MNIST_STROKE * longer / BOX) / (2 * (1 - MNIST_STROKE / BOX))))
        k = min(k, int(stroke // 2) - 1)  # never rub a stroke out entirely
        if k > 0:
            thin = _erode(img, k)
            if thin.max() > 0:
                return mnist_preprocess(thin, threshold)
    factor = BOX / max(h, w)
    nh, nw = max(1, round(h * factor)), max(1, round(w * factor))
    small = _area_matrix(h, nh) @ box @ _area_matrix(w, nw).T
    small = small / small.max()
    mass = small.sum()
    ci = (small.sum(axis=1) @ np.arange(nh)) / mass
    cj = (small.sum(axis=0) @ np.arange(nw)) / mass
    top = int(np.clip(round(CENTRE - ci), 0, SIDE - nh))
    left = int(np.clip(round(CENTRE - cj), 0, SIDE - nw))
    out[top:top + nh, left:left + nw] = small
    return out


def shift(x, rows: int = 0, cols: int = 0) -> np.ndarray:
    """Move the image ``rows`` pixels down and ``cols`` pixels right (zeros come in)."""
    x = _check_image(x)
    for name, v in (("rows", rows), ("cols", cols)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {v!r}")
    return shift_rotate(x[None], [[rows, cols]], [0.0])[0]


def rotate(x, degrees: float) -> np.ndarray:
    """Rotate the image counter-clockwise (as displayed) by ``degrees`` about its centre
    (bilinear, zeros outside; :func:`helpers.augment.shift_rotate`)."""
    x = _check_image(x)
    if isinstance(degrees, bool) or not isinstance(degrees, numbers.Real) or not np.isfinite(degrees):
        raise ValueError(f"degrees must be a finite number, got {degrees!r}")
    return np.clip(shift_rotate(x[None], [[0.0, 0.0]], [float(degrees)])[0], 0.0, 1.0)


def thicken(x, steps: int = 1) -> np.ndarray:
    """Make the strokes thicker (``steps > 0``, grey dilation) or thinner (``steps < 0``, erosion).

    Each step replaces a pixel by the maximum (or minimum) of itself and its four neighbours, so
    after k steps a pixel holds the maximum (minimum) over the pixels within k moves up, down,
    left or right. Past ``H + W - 2`` steps (54 on a 28x28 image: corner to opposite corner)
    that covers the whole image and nothing changes any more, so at most that many are taken,
    however large ``steps`` is; the result is the same.
    """
    x = _check_image(x)
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral):
        raise TypeError(f"steps must be an integer, got {steps!r}")
    grow = steps > 0
    out = x.copy()
    for _ in range(min(abs(int(steps)), x.shape[0] + x.shape[1] - 2)):
        out = _thicken_once(out, grow)
    return out


def _thicken_once(x: np.ndarray, grow: bool) -> np.ndarray:
    """One step of :func:`thicken`: the maximum (``grow``) or minimum of a pixel and its four
    neighbours; outside the image counts as 0 (1 when thinning), so the edge changes nothing."""
    p = np.pad(x, 1, constant_values=0.0 if grow else 1.0)
    pick = np.maximum if grow else np.minimum
    return pick.reduce([p[1:-1, 1:-1], p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]])


def erase(x, row: int, col: int, size: int) -> np.ndarray:
    """Set the ``size`` x ``size`` patch whose top-left pixel is ``(row, col)`` to zero (clipped at the edges)."""
    x = _check_image(x)
    for name, v in (("row", row), ("col", col), ("size", size)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name} must be an integer, got {v!r}")
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    out = x.copy()
    out[max(row, 0):max(row + size, 0), max(col, 0):max(col + size, 0)] = 0.0
    return out


def add_noise(x, std: float, seed: int = 0) -> np.ndarray:
    """Add Gaussian noise of standard deviation ``std`` (seeded) and clip to [0, 1]."""
    x = _check_image(x)
    if not isinstance(std, numbers.Real) or not np.isfinite(std) or std < 0:
        raise ValueError(f"std must be a finite number >= 0, got {std!r}")
    if std == 0:
        return x.copy()
    noise = np.random.default_rng(seed).normal(0.0, float(std), size=x.shape)
    return np.clip(x + noise, 0.0, 1.0)


def perturb(x, *, rows: int = 0, cols: int = 0, degrees: float = 0.0, thickness: int = 0,
            erase_size: int = 0, erase_at=(10, 10), noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """All perturbations in one call, in a fixed order: rotate, shift, thicken, erase, noise.

    Inputs: ``x`` one image (28, 28) (integer pixels 0..255 or floats in [0, 1]); ``degrees``
    counter-clockwise; ``rows``/``cols`` the shift down/right in pixels; ``thickness`` the steps of :func:`thicken`; an
    ``erase_size`` x ``erase_size`` patch at ``erase_at = (row, col)`` set to zero; Gaussian
    ``noise`` of that standard deviation (``seed``). Returns a new (28, 28) float64 image.
    With every setting at its default the result equals ``x``.
    """
    out = _check_image(x, shape=(SIDE, SIDE))
    if isinstance(erase_at, (str, bytes)) or not hasattr(erase_at, "__len__") or len(erase_at) != 2:
        raise ValueError(f"erase_at must be a pair (row, col) of integers, got {erase_at!r}")
    if degrees:
        out = rotate(out, degrees)
    if rows or cols:
        out = shift(out, rows, cols)
    if thickness:
        out = thicken(out, thickness)
    if erase_size:
        out = erase(out, erase_at[0], erase_at[1], erase_size)
    if noise:
        out = add_noise(out, noise, seed)
    return out
