"""helpers.drawing: MNIST's preprocessing of drawn digits and the perturbations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import data
from helpers.drawing import add_noise, erase, mnist_preprocess, perturb, rotate, shift, thicken


@pytest.fixture(scope="module")
def digits():
    x, y = data.load_mnist_5k()
    return x[:40].astype(np.float64) / 255.0, y[:40]


def _centre_of_mass(img):
    i, j = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    return (img * i).sum() / img.sum(), (img * j).sum() / img.sum()


def test_preprocess_puts_a_drawing_in_a_20px_box_centred_by_mass():
    canvas = np.zeros((280, 280))
    canvas[30:250, 100:160] = 1.0  # a tall bar, drawn off-centre to the left
    out = mnist_preprocess(canvas)
    assert out.shape == (28, 28) and out.dtype == np.float64
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    assert rows[-1] - rows[0] + 1 == 20  # the longer side is scaled to 20
    assert cols[-1] - cols[0] + 1 == round(60 * 20 / 220)  # aspect ratio kept
    ci, cj = _centre_of_mass(out)
    assert abs(ci - 14) <= 0.5 and abs(cj - 14) <= 0.5
    assert 0.0 <= out.min() and out.max() == pytest.approx(1.0)


def test_preprocess_of_an_upscaled_mnist_digit_gives_back_a_digit_like_it(digits):
    x, _ = digits
    corr = []
    for img in x:
        big = np.kron(img, np.ones((10, 10)))  # as if drawn on a 280x280 pad
        out = mnist_preprocess((big * 255).astype(np.uint8))
        corr.append(np.corrcoef(out.ravel(), img.ravel())[0, 1])
    # MNIST digits are already preprocessed, so most come back almost unchanged
    assert np.median(corr) > 0.95 and min(corr) > 0.6


def test_preprocess_of_an_empty_drawing_is_blank_and_bad_input_is_refused():
    assert not mnist_preprocess(np.zeros((50, 50))).any()
    with pytest.raises(ValueError, match="NaN"):
        mnist_preprocess(np.full((5, 5), np.nan))
    with pytest.raises(ValueError, match="one image"):
        mnist_preprocess(np.zeros((2, 5, 5)))


def test_shift_moves_pixels_and_fills_zeros():
    x = np.zeros((28, 28))
    x[10, 12] = 1.0
    y = shift(x, 3, -2)
    assert y[13, 10] == 1.0 and y.sum() == 1.0
    assert not shift(x, 28, 0).any()
    with pytest.raises(TypeError):
        shift(x, 1.5, 0)


def test_rotate_by_90_degrees_is_exact_and_by_0_is_identity(digits):
    x = digits[0][0]
    np.testing.assert_allclose(rotate(x, 0), x, atol=1e-12)
    np.testing.assert_allclose(rotate(x, 90), np.rot90(x), atol=1e-9)  # counter-clockwise
    assert rotate(x, 15).sum() == pytest.approx(x.sum(), rel=0.05)  # ink is kept, roughly


def test_thicken_and_thin_change_the_ink_monotonically(digits):
    x = digits[0][1]
    assert thicken(x, 1).sum() > x.sum() > thicken(x, -1).sum()
    assert (thicken(x, 1) >= x).all() and (thicken(x, -1) <= x).all()


def test_erase_noise_and_perturb(digits):
    x = digits[0][2]
    e = erase(x, 10, 10, 5)
    assert not e[10:15, 10:15].any() and (e[:10] == x[:10]).all()
    n1, n2 = add_noise(x, 0.2, seed=1), add_noise(x, 0.2, seed=1)
    np.testing.assert_array_equal(n1, n2)
    assert n1.min() >= 0 and n1.max() <= 1 and not np.array_equal(n1, x)
    np.testing.assert_array_equal(perturb(x), x)
    p = perturb(x, rows=1, degrees=10, thickness=1, erase_size=3, noise=0.1)
    assert p.shape == (28, 28) and not np.array_equal(p, x)
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        perturb(np.zeros((5, 5)))


# --- issue 21: accepted inputs (item 8), bounded steps (item 13), clear errors (item 16) -------
def _drawing_uint8():
    canvas = np.zeros((60, 50), dtype=np.uint8)
    canvas[10:50, 20:28] = 255
    canvas[10:50, 28:30] = 128  # grey edge: clipping 0..255 to 1 would turn it black
    return canvas


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.int16, np.uint16])
def test_preprocess_reads_every_integer_dtype_as_pixels_0_to_255(dtype):
    canvas = _drawing_uint8()
    as_floats = mnist_preprocess(canvas.astype(np.float64) / 255.0)
    np.testing.assert_array_equal(mnist_preprocess(canvas.astype(dtype)), as_floats)


@pytest.mark.parametrize("bad, match", [
    (_drawing_uint8().astype(np.float64), r"drawing .*\[0, 1\].*divide .* by 255"),  # floats 0..255
    (-_drawing_uint8().astype(np.float64) / 255.0, r"drawing .*\[0, 1\]"),
    (_drawing_uint8().astype(np.int64) * 2, r"drawing .*0\.\.255"),
    (_drawing_uint8().astype(np.int64) - 1, r"drawing .*0\.\.255"),
])
def test_preprocess_refuses_pixels_out_of_range_with_the_argument_named(bad, match):
    with pytest.raises(ValueError, match=match):
        mnist_preprocess(bad)


def test_preprocess_refuses_booleans_and_text():
    with pytest.raises(TypeError, match="drawing"):
        mnist_preprocess(np.ones((5, 5), dtype=bool))
    with pytest.raises(TypeError, match="drawing"):
        mnist_preprocess(np.full((5, 5), "a"))


@pytest.mark.parametrize("threshold", [2.0, 1.0001, -0.1, float("nan"), float("inf"), True, "0.1", None])
def test_preprocess_refuses_a_threshold_outside_0_to_1(threshold):
    with pytest.raises((TypeError, ValueError), match="threshold"):
        mnist_preprocess(_drawing_uint8(), threshold=threshold)


@pytest.mark.parametrize("threshold", [0, 0.0, 0.5, 1, 1.0])
def test_preprocess_accepts_every_threshold_in_0_to_1(threshold):
    out = mnist_preprocess(_drawing_uint8(), threshold=threshold)
    assert out.shape == (28, 28) and out.max() == pytest.approx(1.0)


@pytest.mark.parametrize("fn, args", [(shift, (1, 2)), (rotate, (10,)), (thicken, (1,)), (erase, (3, 3, 4)),
                                      (add_noise, (0.1,))])
def test_perturbations_read_integer_pixels_as_0_to_255_and_refuse_floats_above_1(digits, fn, args):
    x = digits[0][3]
    pixels = np.round(x * 255).astype(np.uint8)
    np.testing.assert_array_equal(fn(pixels, *args), fn(pixels / 255.0, *args))
    with pytest.raises(ValueError, match=r"x .*divide .* by 255"):
        fn(pixels.astype(np.float64), *args)


def test_thicken_of_a_huge_step_count_stops_at_the_fixed_point(monkeypatch):
    from helpers import drawing

    x = np.zeros((28, 28))
    x[0, 0] = 1.0  # one inked corner: the farthest pixel is 27 + 27 = 54 steps away
    bound = 28 + 28 - 2
    assert thicken(x, bound).all() and not thicken(x, bound - 1).all()  # the bound is tight
    calls = []
    step = drawing._thicken_once
    monkeypatch.setattr(drawing, "_thicken_once", lambda *a: calls.append(1) or step(*a))
    np.testing.assert_array_equal(thicken(x, 10**7), thicken(x, bound))
    np.testing.assert_array_equal(thicken(1.0 - x, -10**7), thicken(1.0 - x, -bound))
    assert len(calls) == 4 * bound  # no more steps than the bound, whatever was asked


@pytest.mark.parametrize("erase_at", [(1,), (1, 2, 3), 5, None])
def test_perturb_refuses_an_erase_position_that_is_not_a_pair(erase_at):
    with pytest.raises((TypeError, ValueError), match="erase_at"):
        perturb(np.zeros((28, 28)), erase_size=3, erase_at=erase_at)


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 9), w=st.integers(1, 9), seed=st.integers(0, 2**16), extra=st.integers(1, 10**9))
def test_thicken_reaches_its_fixed_point_after_h_plus_w_minus_2_steps(h, w, seed, extra):
    x = np.random.default_rng(seed).uniform(size=(h, w)) * (np.random.default_rng(seed + 1).uniform(size=(h, w)) > 0.8)
    bound = h + w - 2
    for sign in (1, -1):
        at_bound = thicken(x, sign * bound)
        np.testing.assert_array_equal(thicken(at_bound, sign), at_bound)  # one more step changes nothing
        np.testing.assert_array_equal(thicken(x, sign * (bound + extra)), at_bound)


@pytest.mark.parametrize("stroke", [0, -3, True, "wide", float("nan")])
def test_preprocess_refuses_a_stroke_width_that_is_not_a_positive_number(stroke):
    c = np.zeros((50, 50))
    c[10:40, 20:30] = 1.0
    with pytest.raises(ValueError, match="stroke"):
        mnist_preprocess(c, stroke=stroke)


def test_preprocess_leaves_a_drawing_alone_when_its_strokes_come_out_thin_anyway():
    c = np.zeros((280, 280))
    c[40:240, 135:146] = 1.0  # a tall bar 11 px wide: 1.1 px after the scaling
    np.testing.assert_array_equal(mnist_preprocess(c, stroke=11), mnist_preprocess(c))
