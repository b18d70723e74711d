"""Data augmentation: small random shifts and rotations of handwritten digits.

A digit moved by a pixel or tilted by a few degrees is still the same digit. Showing the network
such copies of its 4,000 training images instead of the same images every epoch is the
cheapest way to more data: the network learns that position and slant do not decide the class,
and overfits less. The transform only touches the *inputs* x of a training batch; the labels,
the forward pass (Zhang eqs. 1-12) and the backward pass (eqs. 39-64) are unchanged.

Geometry (0-based pixel coordinates ``(row, col)``, row pointing down as in ``imshow``): every
output pixel ``p`` reads the input at

    q = R(-theta) (p - c - t) + c,        c = ((H - 1) / 2, (W - 1) / 2),

that is, the digit is rotated counter-clockwise (as displayed) by ``theta`` about the image
centre ``c`` and then moved by ``t = (t_row, t_col)`` pixels (down, right). The value at the
non-integer position ``q`` is interpolated bilinearly from its four neighbours; pixels that
come from outside the image are 0 (background). Every output is a convex combination of input
pixels and zeros, so images in [0, 1] stay in [0, 1].

* :func:`shift_rotate` -- the deterministic transform for given shifts and angles.
* :func:`random_shift_rotate` -- shifts and angles drawn uniformly from a seeded generator.
* :class:`RandomShiftRotate` -- the same as a callable ``transform(x_batch, rng) -> x_batch``
  for the training loop (``python -m helpers.train --augment``).

Everything is vectorised over the batch: four gathers of N * H * W values, no Python loop.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array

__all__ = ["shift_rotate", "random_shift_rotate", "RandomShiftRotate"]


def _check_images(x) -> np.ndarray:
    x = as_float_array(x, "x")
    if x.ndim != 3:
        raise ValueError(f"x must be a batch of images of shape (N, H, W), got shape {x.shape}")
    return x


def _check_bound(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value}")
    return value


def shift_rotate(x, shifts, degrees) -> np.ndarray:
    """Rotate each image about its centre and shift it, with bilinear interpolation.

    Inputs:
    - x: images of shape (N, H, W), floats (e.g. MNIST digits in [0, 1]).
    - shifts: array of shape (N, 2), the shift ``(t_row, t_col)`` of each image in pixels
      (positive = down, right); non-integer shifts are interpolated.
    - degrees: array of shape (N,), the rotation angle of each image in degrees, positive =
      counter-clockwise as displayed by ``imshow``.

    Returns a new array of shape (N, H, W) in the dtype of ``x``. Pixels that come from outside
    the image are 0. With zero shifts and angles the result equals ``x``; an integer shift is
    ``np.roll`` with zeros instead of wrap-around, and 90 degrees on a square image is
    ``np.rot90(x, axes=(1, 2))``.
    """
    x = _check_images(x)
    n, h, w = x.shape
    shifts = as_float_array(shifts, "shifts", allow_int=True)
    degrees = as_float_array(degrees, "degrees", allow_int=True)
    if shifts.shape != (n, 2):
        raise ValueError(f"shifts must have shape ({n}, 2) to match x {x.shape}, got {shifts.shape}")
    if degrees.shape != (n,):
        raise ValueError(f"degrees must have shape ({n},) to match x {x.shape}, got {degrees.shape}")
    theta = np.deg2rad(degrees.astype(np.float64))
    cos, sin = np.cos(theta)[:, None, None], np.sin(theta)[:, None, None]
    # output coordinates relative to the centre, minus the shift: p - c - t, each (N, H, 1) / (N, 1, W)
    rows = np.arange(h, dtype=np.float64)[None, :, None] - (h - 1) / 2 - shifts[:, 0, None, None]
    cols = np.arange(w, dtype=np.float64)[None, None, :] - (w - 1) / 2 - shifts[:, 1, None, None]
    # q = R(-theta) (p - c - t) + c, clipped to [-1, H] x [-1, W]: a source farther outside
    # lands on the zero border with weight 1 (the clipped coordinate is an integer)
    src_r = np.clip(cos * rows + sin * cols + (h - 1) / 2, -1, h)
    src_c = np.clip(cos * cols - sin * rows + (w - 1) / 2, -1, w)
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = (src_r - r0).astype(x.dtype), (src_c - c0).astype(x.dtype)
    # the image inside a zero border: one row/column before, two after (r0 + 1 <= H + 1)
    wp = w + 3
    padded = np.zeros((n, h + 3, wp), dtype=x.dtype)
    padded[:, 1:h + 1, 1:w + 1] = x
    flat = padded.reshape(-1)
    idx = ((r0 + 1) * wp + (c0 + 1)).astype(np.intp) + (np.arange(n) * (h + 3) * wp)[:, None, None]
    one = x.dtype.type(1)
    top = (one - fc) * flat[idx] + fc * flat[idx + 1]
    bottom = (one - fc) * flat[idx + wp] + fc * flat[idx + wp + 1]
    return ((one - fr) * top + fr * bottom).astype(x.dtype, copy=False)


def random_shift_rotate(x, rng, *, max_shift: float = 2.0, max_degrees: float = 10.0) -> np.ndarray:
    """Shift and rotate each image by its own random amount (:func:`shift_rotate`).

    Inputs:
    - x: images of shape (N, H, W).
    - rng: a ``numpy.random.Generator`` (``np.random.default_rng(seed)``); it draws one row
      ``u`` of three uniforms in [-1, 1) per image, in order: shift ``max_shift * u[:2]``
      pixels and angle ``max_degrees * u[2]`` degrees. Same generator state -> same result,
      and a batch transformed in consecutive pieces gets exactly the values it gets at once.
    - max_shift, max_degrees: the largest shift (pixels, per axis) and angle (degrees), >= 0.

    Returns a new array of shape (N, H, W) in the dtype of ``x``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    max_shift = _check_bound(max_shift, "max_shift")
    max_degrees = _check_bound(max_degrees, "max_degrees")
    x = _check_images(x)
    u = 2.0 * rng.random((len(x), 3)) - 1.0  # one row of three uniforms in [-1, 1) per image
    return shift_rotate(x, max_shift * u[:, :2], max_degrees * u[:, 2])


class RandomShiftRotate:
    """The transform ``f(x_batch, rng) -> x_batch`` of :func:`random_shift_rotate` for training.

    ``RandomShiftRotate(max_shift=2.0, max_degrees=10.0)`` is a callable that the training loop
    applies to every mini-batch of images (N, 28, 28) before the forward pass, with the loop's
    own seeded generator, so a training run stays reproducible bit for bit.
    """

    def __init__(self, max_shift: float = 2.0, max_degrees: float = 10.0):
        self.max_shift = _check_bound(max_shift, "max_shift")
        self.max_degrees = _check_bound(max_degrees, "max_degrees")

    def __call__(self, x, rng) -> np.ndarray:
        return random_shift_rotate(x, rng, max_shift=self.max_shift, max_degrees=self.max_degrees)

    def __repr__(self) -> str:
        return f"RandomShiftRotate(max_shift={self.max_shift:g}, max_degrees={self.max_degrees:g})"
