"""helpers.augment: random shifts and rotations of digits, and their use in the training loop."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from helpers import augment as A
from helpers import engine, network
from helpers import train as T

from refimpl import blob_images, shift_rotate_ref


def test_zero_shift_and_angle_is_the_identity():
    x = blob_images(3, seed=1).astype(np.float32)
    out = A.shift_rotate(x, np.zeros((3, 2)), np.zeros(3))
    assert out.dtype == np.float32 and out is not x
    assert_array_equal(out, x)


def test_integer_shift_is_a_roll_with_zeros():
    x = blob_images(2, seed=2)
    out = A.shift_rotate(x, np.array([[2, -1], [-3, 4]]), np.zeros(2))
    expected = np.zeros_like(x)
    expected[0, 2:, :-1] = x[0, :-2, 1:]   # 2 down, 1 left
    expected[1, :-3, 4:] = x[1, 3:, :-4]   # 3 up, 4 right
    assert_array_equal(out, expected)


def test_quarter_turn_is_rot90_counter_clockwise():
    x = blob_images(2, seed=3)
    out = A.shift_rotate(x, np.zeros((2, 2)), np.array([90.0, -90.0]))
    assert_allclose(out[0], np.rot90(x[0]), atol=1e-12)
    assert_allclose(out[1], np.rot90(x[1], k=-1), atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_the_pixel_by_pixel_reference(dtype):
    x = blob_images(4, seed=4).astype(dtype)
    shifts = np.array([[0.3, -1.7], [2.0, 0.5], [-0.25, 0.0], [30.0, -40.0]])
    degrees = np.array([7.5, -12.0, 33.0, 5.0])
    out = A.shift_rotate(x, shifts, degrees)
    assert out.shape == x.shape and out.dtype == dtype
    for i in range(4):
        assert_allclose(out[i], shift_rotate_ref(x[i].astype(np.float64), shifts[i], degrees[i]),
                        atol=1e-5 if dtype == np.float32 else 1e-12)
    assert_array_equal(out[3], 0)  # moved out of the frame entirely


def test_images_stay_in_the_unit_interval_and_keep_their_ink():
    x = blob_images(50, seed=5)
    x[:, :4], x[:, -4:], x[:, :, :4], x[:, :, -4:] = 0, 0, 0, 0  # a digit-like empty margin
    out = A.random_shift_rotate(x, np.random.default_rng(0), max_shift=2, max_degrees=10)
    assert out.min() >= 0 and out.max() <= 1
    # a small move inside the frame keeps the total ink (bilinear weights sum to 1; a rotation
    # changes the area element by nothing, only the resampling blurs slightly)
    assert_allclose(out.sum(axis=(1, 2)), x.sum(axis=(1, 2)), rtol=0.02)


def test_random_draws_are_seeded_bounded_and_batch_independent():
    x = blob_images(10, seed=6).astype(np.float32)
    a = A.random_shift_rotate(x, np.random.default_rng(7))
    b = A.random_shift_rotate(x, np.random.default_rng(7))
    assert_array_equal(a, b)
    rng = np.random.default_rng(7)
    pieces = np.concatenate([A.random_shift_rotate(x[:3], rng), A.random_shift_rotate(x[3:], rng)])
    assert_array_equal(pieces, a)  # one row of draws per image, in order
    # the draws themselves: one row of three uniforms per image, scaled by the bounds
    u = 2.0 * np.random.default_rng(7).random((10, 3)) - 1.0
    assert_array_equal(a, A.shift_rotate(x, 2.0 * u[:, :2], 10.0 * u[:, 2]))
    assert_array_equal(A.random_shift_rotate(x, np.random.default_rng(1), max_shift=0, max_degrees=0), x)
    assert not np.array_equal(a, x)


def test_transform_object():
    tf = A.RandomShiftRotate(1.5, 12)
    assert repr(tf) == "RandomShiftRotate(max_shift=1.5, max_degrees=12)"
    x = blob_images(4, seed=8)
    assert_array_equal(tf(x, np.random.default_rng(3)),
                       A.random_shift_rotate(x, np.random.default_rng(3), max_shift=1.5, max_degrees=12))


def test_clear_errors():
    x = blob_images(2, seed=9)
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        A.shift_rotate(x[0], np.zeros((1, 2)), np.zeros(1))
    with pytest.raises(ValueError, match=r"shifts must have shape \(2, 2\)"):
        A.shift_rotate(x, np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"degrees must have shape \(2,\)"):
        A.shift_rotate(x, np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(TypeError, match="divide uint8 pixels by 255"):
        A.shift_rotate((x * 255).astype(np.uint8), np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        A.shift_rotate(x, np.full((2, 2), np.nan), np.zeros(2))
    with pytest.raises(TypeError, match="Generator"):
        A.random_shift_rotate(x, 0)
    with pytest.raises(ValueError, match="max_shift must be a finite number >= 0"):
        A.RandomShiftRotate(max_shift=-1)
    with pytest.raises(TypeError, match="max_degrees must be a number"):
        A.RandomShiftRotate(max_degrees="10")


# --------------------------------------------------------------------------------------------
# the transform inside the training loop (helpers.train.sgd_loop / train)
# --------------------------------------------------------------------------------------------
def _tiny_problem():
    x = blob_images(12, seed=10).astype(np.float32)
    y = np.arange(12) % 10
    return network.init_params(0, np.float32), x, y


def _loss_and_grads(p, xb, yb):  # the fast engine, as train() uses it (same arithmetic, bit for bit)
    return engine.loss_and_grads(p, xb, yb)


def test_identity_transform_changes_nothing():
    params, x, y = _tiny_problem()
    plain, _ = T.sgd_loop(_loss_and_grads, params, x, y, epochs=2, batch_size=5, lr=1.0, seed=3)
    same, _ = T.sgd_loop(_loss_and_grads, params, x, y, epochs=2, batch_size=5, lr=1.0, seed=3,
                         transform=lambda xb, rng: xb)
    for key in plain:
        assert_array_equal(same[key], plain[key])


def test_loop_transform_equals_a_per_batch_transform_with_the_loop_generator():
    """Applying RandomShiftRotate once per epoch (what sgd_loop does) gives the same training,
    bit for bit, as applying it to every batch with the same generator."""
    params, x, y = _tiny_problem()
    tf = A.RandomShiftRotate(2, 10)
    trained, _ = T.sgd_loop(_loss_and_grads, params, x, y, epochs=2, batch_size=5, lr=1.0, seed=3,
                            transform=tf)
    rng, p = np.random.default_rng(3), params
    for _ in range(2):
        order = rng.permutation(len(x))
        for start in range(0, len(x), 5):
            idx = order[start:start + 5]
            _, grads = _loss_and_grads(p, tf(x[idx], rng), y[idx])
            p = T.sgd_step(p, grads, 1.0)
    for key in trained:
        assert_array_equal(trained[key], p[key])
    plain, _ = T.sgd_loop(_loss_and_grads, params, x, y, epochs=2, batch_size=5, lr=1.0, seed=3)
    assert not np.array_equal(plain["W"], trained["W"])


def test_train_passes_the_transform_and_rejects_bad_ones():
    params, x, y = _tiny_problem()
    kwargs = dict(epochs=1, batch_size=4, lr=1.0, progress=False)
    with pytest.raises(ValueError, match=r"transform must return a batch of shape \(4, 28, 28\)"):
        T.train(params, x, y, x, y, transform=lambda xb, rng: xb[:1], **kwargs)
    with pytest.raises(TypeError, match="transform must be callable"):
        T.train(params, x, y, x, y, transform="shift", **kwargs)
    a, _ = T.train(params, x, y, x, y, transform=A.RandomShiftRotate(2, 10), seed=5, **kwargs)
    b, _ = T.sgd_loop(_loss_and_grads, params, x, y, epochs=1, batch_size=4, lr=1.0, seed=5,
                      transform=A.RandomShiftRotate(2, 10))
    for key in a:
        assert_array_equal(a[key], b[key])
