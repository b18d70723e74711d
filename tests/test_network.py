"""Tests for helpers.network (Zhang's seed network, seed 001) against an independent rebuild of
the network from shifted slices (tests/refimpl.py), Zhang's loops, and central differences of
the loss over all 3898 parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import refimpl as R
from helpers import gradcheck as gc
from helpers import engine, maxpool_net, softmax_net
from helpers import network as net

SHAPES = {"k1": (6, 5, 5), "b1": (6,), "k2": (6, 12, 5, 5), "b2": (12,), "W": (10, 192), "b": (10,)}
LAYER_SHAPES = {"C1_sigma": (6, 24, 24), "C1": (6, 24, 24), "S1": (6, 12, 12), "C2_sigma": (12, 8, 8),
                "C2": (12, 8, 8), "S2": (12, 4, 4), "f": (192,), "y_hat_sigma": (10,), "y_hat": (10,)}
VARIANTS = [{"pooling": "max"}, {"conv_activation": "relu"}, {"output": "softmax"},
            {"pooling": "max", "conv_activation": "relu", "output": "softmax"}]


images = R.blob_images


def one_hot(labels):
    return np.eye(10)[labels]


@pytest.fixture(scope="module")
def params():
    return net.init_params(seed=0)


@pytest.fixture(scope="module")
def batch():
    return images(3, seed=1), np.array([3, 7, 0])


# --------------------------------------------------------------------------------------------
# parameters (Zhang section 1.1, eqs. 1-3)
# --------------------------------------------------------------------------------------------
def test_parameter_count_is_3898(params):
    by_hand = (5 * 5 + 1) * 6 + (5 * 5 * 6 + 1) * 12 + 10 * 192 + 10
    assert by_hand == 3898
    assert net.count_params() == 3898
    assert net.count_params(params) == 3898
    assert sum(v.size for v in params.values()) == 3898


def test_init_shapes_dtypes_and_zero_biases(params):
    assert set(params) == set(SHAPES)
    for key, shape in SHAPES.items():
        assert params[key].shape == shape, key
        assert params[key].dtype == np.float64, key
    for key in ("b1", "b2", "b"):
        assert not params[key].any()


def test_init_bounds_of_eqs_1_to_3(params):
    bounds = {"k1": math.sqrt(6 / ((1 + 6) * 25)), "k2": math.sqrt(6 / ((6 + 12) * 25)), "W": math.sqrt(6 / (192 + 10))}
    assert net.glorot_bounds() == pytest.approx(bounds, rel=1e-15)
    for key, bound in bounds.items():
        values = params[key]
        assert np.abs(values).max() <= bound, key
        assert np.abs(values).max() > 0.9 * bound, key  # the whole interval is used
        # |U(-b, b)| has mean b/2; four standard errors of slack
        assert abs(np.abs(values).mean() - bound / 2) < 4 * bound * 0.289 / math.sqrt(values.size), key
        assert abs(values.mean()) < 4 * bound * 0.577 / math.sqrt(values.size), key


def test_init_follows_the_documented_draw_order():
    bounds = net.glorot_bounds()
    rng = np.random.default_rng(11)
    expected = {
        "k1": rng.uniform(-bounds["k1"], bounds["k1"], (6, 5, 5)),
        "k2": rng.uniform(-bounds["k2"], bounds["k2"], (6, 12, 5, 5)),
        "W": rng.uniform(-bounds["W"], bounds["W"], (10, 192)),
    }
    got = net.init_params(seed=11)
    for key in expected:
        assert_array_equal(got[key], expected[key])


def test_init_is_deterministic_and_seed_dependent():
    a, b, c = net.init_params(3), net.init_params(3), net.init_params(4)
    for key in SHAPES:
        assert_array_equal(a[key], b[key])
    for key in ("k1", "k2", "W"):
        assert not np.allclose(a[key], c[key]), key


def test_init_float32():
    p32, p64 = net.init_params(5, dtype=np.float32), net.init_params(5)
    for key in SHAPES:
        assert p32[key].dtype == np.float32
        assert_array_equal(p32[key], p64[key].astype(np.float32))
    with pytest.raises(TypeError, match="dtype must be a floating dtype"):
        net.init_params(0, dtype=np.int32)


# --------------------------------------------------------------------------------------------
# forward pass
# --------------------------------------------------------------------------------------------
def test_forward_shapes_single_and_batch(params, batch):
    x, _ = batch
    single = net.forward(params, x[0])
    many = net.forward(params, x)
    for key, shape in LAYER_SHAPES.items():
        assert single[key].shape == shape, key
        assert many[key].shape == (3,) + shape, key
    assert_array_equal(single["x"], x[0])
    assert np.all((many["y_hat"] > 0) & (many["y_hat"] < 1))


@pytest.mark.parametrize("variant", [{}] + VARIANTS)
def test_forward_matches_the_slice_rebuild(params, batch, variant):
    x, _ = batch
    p = dict(params, b1=np.linspace(-0.5, 0.5, 6), b2=np.linspace(0.3, -0.3, 12), b=np.linspace(-1, 1, 10))
    ref = R.network_forward_ref(p, x, **variant)
    many = net.forward(p, x, **variant)
    for key in LAYER_SHAPES:
        assert_allclose(many[key], ref[key], rtol=1e-12, atol=1e-14, err_msg=key)


def test_batch_forward_is_the_stack_of_single_forwards(params, batch):
    x, _ = batch
    many = net.forward(params, x)
    for key in LAYER_SHAPES:
        stacked = np.stack([net.forward(params, xi)[key] for xi in x])
        assert_allclose(many[key], stacked, rtol=1e-13, atol=1e-15, err_msg=key)


def test_forward_naive_equals_forward(params, batch):
    x, _ = batch
    p = dict(params, b1=np.linspace(-0.5, 0.5, 6), b2=np.linspace(0.3, -0.3, 12), b=np.linspace(-1, 1, 10))
    fast, naive = net.forward(p, x[1]), net.forward_naive(p, x[1])
    for key in LAYER_SHAPES:
        assert_allclose(naive[key], fast[key], rtol=1e-12, atol=1e-14, err_msg=key)


def test_f_is_the_column_scan_of_each_S2_map_in_order_q(params, batch):
    x, _ = batch
    cache = net.forward(params, x[0])
    S2, f = cache["S2"], cache["f"]
    assert len(np.unique(S2)) == 192  # distinct values, so any other order would be caught
    scanned = [S2[q, row, col] for q in range(12) for col in range(4) for row in range(4)]
    assert_array_equal(f, scanned)
    many = net.forward(params, x)
    for n in range(3):
        assert_array_equal(many["f"][n], [many["S2"][n, q, row, col] for q in range(12) for col in range(4) for row in range(4)])


def test_W_reads_f_in_column_scan_order(params, batch):
    """Row 0 of W picks entry 93 of f = 5 * 16 + 3 * 4 + 1: map q = 6 (1-based), column 4, row 2."""
    x, _ = batch
    W = np.zeros((10, 192))
    W[0, 93] = 1.0
    cache = net.forward(dict(params, W=W), x[2])
    assert cache["y_hat_sigma"][0] == cache["S2"][5, 1, 3]
    assert_array_equal(cache["y_hat_sigma"][1:], 0.0)


def test_forward_is_true_convolution():
    """A single bright pixel at (r, c) with k1 = an asymmetric ramp: C1_sigma then holds the
    kernel itself (not its rotation) with its top-left corner at (r - 4, c - 4)."""
    p = net.init_params(0)
    ramp = np.arange(25.0).reshape(5, 5) / 100
    p["k1"] = np.stack([ramp] * 6)
    x = np.zeros((28, 28))
    x[14, 10] = 1.0
    C1_sigma = net.forward(p, x)["C1_sigma"]
    assert_allclose(C1_sigma[0, 10:15, 6:11], ramp, rtol=0, atol=1e-15)
    assert_allclose(np.delete(np.delete(C1_sigma[0], range(10, 15), 0), range(6, 11), 1), 0, atol=1e-15)


# --------------------------------------------------------------------------------------------
# loss
# --------------------------------------------------------------------------------------------
def test_loss_is_half_the_squared_error_mean_over_the_batch(params, batch):
    x, labels = batch
    y_hat = R.network_forward_ref(params, x)["y_hat"]
    per_image = [0.5 * sum((y_hat[n, i] - (i == labels[n])) ** 2 for i in range(10)) for n in range(3)]
    assert net.loss(net.forward(params, x), one_hot(labels)) == pytest.approx(np.mean(per_image), rel=1e-13)
    assert net.loss(net.forward(params, x), labels) == pytest.approx(np.mean(per_image), rel=1e-13)
    assert net.loss(net.forward(params, x[1]), labels[1]) == pytest.approx(per_image[1], rel=1e-13)
    soft = net.forward(params, x, output="softmax")
    assert net.loss(soft, labels) == pytest.approx(-np.mean(np.log(soft["y_hat"][np.arange(3), labels])), rel=1e-13)


# --------------------------------------------------------------------------------------------
# backward pass
# --------------------------------------------------------------------------------------------
def _perturbed(params):
    """Non-zero biases so that their gradients are tested away from the initial point."""
    rng = np.random.default_rng(42)
    return dict(params, b1=rng.uniform(-0.3, 0.3, 6), b2=rng.uniform(-0.3, 0.3, 12), b=rng.uniform(-0.5, 0.5, 10))


def test_backward_naive_equals_backward(params, batch):
    x, labels = batch
    p = _perturbed(params)
    fast = net.backward(p, net.forward(p, x[0]), one_hot(labels[0]))
    naive = net.backward_naive(p, net.forward_naive(p, x[0]), one_hot(labels[0]))
    for key in SHAPES:
        assert naive[key].shape == SHAPES[key]
        assert_allclose(naive[key], fast[key], rtol=1e-10, atol=1e-15, err_msg=key)


@pytest.mark.parametrize("variant", [{}] + VARIANTS)
def test_batch_backward_is_the_mean_of_single_backwards(params, batch, variant):
    x, labels = batch
    p = _perturbed(params)
    many = net.backward(p, net.forward(p, x, **variant), one_hot(labels))
    singles = [net.backward(p, net.forward(p, x[n], **variant), one_hot(labels[n])) for n in range(3)]
    for key in SHAPES:
        assert many[key].shape == SHAPES[key]
        assert_allclose(many[key], np.mean([s[key] for s in singles], axis=0), rtol=1e-11, atol=1e-16, err_msg=key)


def test_integer_labels_equal_one_hot_targets(params, batch):
    x, labels = batch
    cache = net.forward(params, x)
    from_onehot = net.backward(params, cache, one_hot(labels))
    for y in (labels, list(labels), labels.astype(np.uint8), np.eye(10, dtype=int)[labels]):
        got = net.backward(params, cache, y)
        for key in SHAPES:
            assert_array_equal(got[key], from_onehot[key])
    single = net.forward(params, x[0])
    expected = net.backward(params, single, one_hot(labels[0]))
    for y in (int(labels[0]), np.int64(labels[0]), np.eye(10, dtype=np.int8)[labels[0]]):
        got = net.backward(params, single, y)
        for key in SHAPES:
            assert_array_equal(got[key], expected[key])


def _loss_closure(work, x, y, **variant):
    return lambda: net.loss(net.forward(work, x, **variant), y)


# Step h = 1e-4: in this loss rounding dominates the error of central differences, and on these
# inputs h = 1e-6 leaves up to 1e-5 relative error on the smallest gradient entries (about 2e-6)
# while h = 1e-4 keeps every tensor below 2e-7. A wrong index or a missing factor gives 1e-1 or more.
H_FULL = 1e-4
FULL_CHECK_TOL = 1e-5


def _full_check(params, x, y):
    """Relative error per tensor between backward() and central differences of the loss,
    for every one of the 3898 parameter entries."""
    work = _perturbed(params)
    analytic = net.backward(work, net.forward(work, x), y)
    loss = _loss_closure(work, x, y)
    numeric = {key: R.central_diff(loss, work[key], h=H_FULL) for key in work}
    assert sum(work[key].size for key in numeric) == 3898
    worst_entry = {key: gc.relative_error(analytic[key], numeric[key]) for key in work}
    whole_tensor = {key: gc.relative_error_norm(analytic[key], numeric[key]) for key in work}
    return worst_entry, whole_tensor


def test_full_gradient_check_one_image(params, batch):
    x, labels = batch
    worst_entry, whole_tensor = _full_check(params, x[0], one_hot(labels[0]))
    assert max(worst_entry.values()) < FULL_CHECK_TOL, worst_entry
    assert max(whole_tensor.values()) < 1e-8, whole_tensor


def test_full_gradient_check_small_batch(params, batch):
    x, labels = batch
    worst_entry, whole_tensor = _full_check(params, x[:2], labels[:2])  # integer labels, mean loss
    assert max(worst_entry.values()) < FULL_CHECK_TOL, worst_entry
    assert max(whole_tensor.values()) < 1e-8, whole_tensor


@pytest.mark.parametrize("variant", VARIANTS)
def test_gradient_check_variants_on_sampled_entries(params, batch, variant):
    """All bias entries and 30 sampled entries of each weight tensor, against central
    differences of the independent rebuild's loss."""
    x, labels = batch
    p = {key: np.array(val) for key, val in _perturbed(params).items()}
    Y = one_hot(labels[:2])
    analytic = net.backward(p, net.forward(p, x[:2], **variant), Y)
    rng = np.random.default_rng(7)
    for key in SHAPES:
        entries = range(p[key].size) if key.startswith("b") else rng.choice(p[key].size, 30, replace=False)
        numeric = R.central_diff(lambda: R.network_loss_ref(p, x[:2], Y, **variant), p[key], h=1e-6, entries=entries)
        picked = np.asarray(list(entries))
        err = gc.relative_error(analytic[key].reshape(-1)[picked], numeric.reshape(-1)[picked])
        assert err < 1e-5, (variant, key, err)


def test_backward_with_errors_shapes(params, batch):
    x, labels = batch
    expected = {"dy_hat": (10,), "df": (192,), "dS2": (12, 4, 4), "dC2": (12, 8, 8), "dC2_sigma": (12, 8, 8),
                "dS1": (6, 12, 12), "dC1": (6, 24, 24), "dC1_sigma": (6, 24, 24)}
    grads, errors = net.backward_with_errors(params, net.forward(params, x[0]), labels[0])
    assert {k: v.shape for k, v in errors.items()} == expected
    _, errors_b = net.backward_with_errors(params, net.forward(params, x), labels)
    assert {k: v.shape for k, v in errors_b.items()} == {k: (3,) + s for k, s in expected.items()}
    assert_allclose(errors["dC1_sigma"].sum(axis=(1, 2)), grads["b1"], rtol=1e-12)


def test_loss_and_grads_and_predict(params, batch):
    x, labels = batch
    L, grads = net.loss_and_grads(params, x, labels, pooling="max")
    cache = net.forward(params, x, pooling="max")
    assert L == net.loss(cache, labels)
    for key, g in net.backward(params, cache, labels).items():
        assert_array_equal(grads[key], g)
    pred = net.predict(params, x, batch_size=2)
    assert_array_equal(pred, net.forward(params, x)["y_hat"].argmax(axis=1))
    assert_array_equal(net.predict(params, x, output="softmax"), pred)  # softmax keeps the argmax


# --------------------------------------------------------------------------------------------
# dtype
# --------------------------------------------------------------------------------------------
def test_float32_in_float32_out(batch):
    x, labels = batch
    p32 = net.init_params(0, dtype=np.float32)
    p64 = net.init_params(0)
    for x_in in (x.astype(np.float32), x):  # the parameters' dtype is the compute dtype
        cache = net.forward(p32, x_in)
        for key in LAYER_SHAPES:
            assert cache[key].dtype == np.float32, key
        grads = net.backward(p32, cache, labels)
        grads64 = net.backward(p64, net.forward(p64, x), labels)
        for key in SHAPES:
            assert grads[key].dtype == np.float32, key
            assert_allclose(grads[key], grads64[key], rtol=1e-3, atol=1e-4 * np.abs(grads64[key]).max(), err_msg=key)
    single = net.forward(p32, x[0].astype(np.float32))
    assert single["y_hat"].dtype == np.float32
    assert all(g.dtype == np.float32 for g in net.backward(p32, single, labels[0]).values())
    assert net.forward(p64, x.astype(np.float32))["y_hat"].dtype == np.float64


# --------------------------------------------------------------------------------------------
# every error path names the argument; never an IndexError
# --------------------------------------------------------------------------------------------
def _bad_params():
    p = net.init_params(0)
    cases = {
        "not a dict": ([p[k] for k in SHAPES], TypeError, "params must be a dict"),
        "missing W": ({k: v for k, v in p.items() if k != "W"}, ValueError, r"params is missing \['W'\]"),
        "extra key": (dict(p, k3=np.zeros(3)), ValueError, r"params has unexpected keys \['k3'\]"),
        "k2 as [q, p, u, v]": (dict(p, k2=p["k2"].transpose(1, 0, 2, 3)), ValueError,
                               r"params\['k2'\] must have shape \(6, 12, 5, 5\)"),
        "W transposed": (dict(p, W=p["W"].T), ValueError, r"params\['W'\] must have shape \(10, 192\)"),
        "b1 as column": (dict(p, b1=p["b1"][:, None]), ValueError, r"params\['b1'\] must have shape \(6,\)"),
        "list instead of array": (dict(p, b=[0.0] * 10), TypeError, r"params\['b'\] must be a numpy array"),
        "integer array": (dict(p, b2=np.zeros(12, dtype=int)), TypeError, r"params\['b2'\] must be a floating array"),
        "strings": (dict(p, b=np.array(["0"] * 10)), TypeError, r"params\['b'\] must be a numeric"),
        "object array": (dict(p, b=np.zeros(10, dtype=object)), TypeError, r"params\['b'\] must be a numeric"),
        "NaN": (dict(p, k1=np.where(np.arange(150).reshape(6, 5, 5) == 77, np.nan, p["k1"])), ValueError,
                r"params\['k1'\] contains NaN or infinity"),
        "inf": (dict(p, W=np.full((10, 192), np.inf)), ValueError, r"params\['W'\] contains NaN or infinity"),
        "mixed dtypes": (dict(p, W=p["W"].astype(np.float32)), TypeError, "parameters must share one float dtype"),
    }
    return cases


@pytest.mark.parametrize("case", list(_bad_params()))
def test_bad_params_raise(case, batch):
    bad, exc, match = _bad_params()[case]
    x, labels = batch
    good = net.init_params(0)
    cache = net.forward(good, x)
    for call in (lambda: net.forward(bad, x), lambda: net.forward(bad, x[0], pooling="max"),
                 lambda: net.backward(bad, cache, labels), lambda: net.forward_naive(bad, x[0]),
                 lambda: net.check_params(bad)):
        with pytest.raises(exc, match=match):
            call()


BAD_IMAGES = {
    "one row": (np.zeros(28), ValueError, r"x must have shape \(28, 28\) or \(N, 28, 28\), got \(28,\)"),
    "27x28": (np.zeros((27, 28)), ValueError, r"x must have shape \(28, 28\) or \(N, 28, 28\), got \(27, 28\)"),
    "batch of 28x27": (np.zeros((2, 28, 27)), ValueError, r"x must have shape \(28, 28\) or \(N, 28, 28\)"),
    "flattened batch": (np.zeros((2, 784)), ValueError, r"x must have shape \(28, 28\) or \(N, 28, 28\)"),
    "scalar": (np.float64(0.5), ValueError, r"x must have shape \(28, 28\)"),
    "channel axis first": (np.zeros((1, 1, 28, 28)), ValueError, r"x must have shape \(28, 28\) or \(N, 28, 28\)"),
    "colour image": (np.zeros((28, 28, 3)), ValueError, r"x must have shape \(28, 28\) or \(N, 28, 28\).*colour"),
    "colour batch": (np.zeros((4, 28, 28, 3)), ValueError, r"x has shape \(4, 28, 28, 3\): a colour image"),
    "RGBA batch": (np.zeros((2, 28, 28, 4)), ValueError, "x has shape .*colour"),
    "empty batch": (np.zeros((0, 28, 28)), ValueError, r"x is an empty batch"),
    "uint8 pixels": (np.zeros((28, 28), dtype=np.uint8), TypeError, "x must be a floating array.*divide uint8 pixels by 255"),
    "uint8 batch": (np.full((2, 28, 28), 255, dtype=np.uint8), TypeError, "divide uint8 pixels by 255"),
    "int64": (np.zeros((28, 28), dtype=np.int64), TypeError, "x must be a floating array, got dtype int64"),
    "bool": (np.zeros((28, 28), dtype=bool), TypeError, "x must be a numeric floating array, got dtype bool"),
    "strings": (np.full((28, 28), "0.5"), TypeError, "x must be a numeric floating array"),
    "object": (np.zeros((28, 28), dtype=object), TypeError, "x must be a numeric floating array, got dtype object"),
    "None": (None, TypeError, "x must be a numeric"),
    "ragged list": ([[0.0] * 28] * 27 + [[0.0] * 27], TypeError, "x must be a numeric array"),
    "complex": (np.zeros((28, 28), dtype=complex), TypeError, "x must be a numeric floating array"),
    "NaN": (np.where(np.eye(28) > 0, np.nan, 0.0), ValueError, "x contains NaN or infinity"),
    "inf in batch": (np.concatenate([np.zeros((1, 28, 28)), np.full((1, 28, 28), -np.inf)]), ValueError,
                     "x contains NaN or infinity"),
}


@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_images_raise(params, case):
    x, exc, match = BAD_IMAGES[case]
    with pytest.raises(exc, match=match):
        net.forward(params, x)
    with pytest.raises(exc, match=match):
        net.forward(params, x, pooling="max", conv_activation="relu")
    with pytest.raises(exc, match=match):
        net.forward_naive(params, x)


def test_list_images_are_accepted(params):
    x = images(1, seed=9)[0]
    assert_array_equal(net.forward(params, x.tolist())["y_hat"], net.forward(params, x)["y_hat"])


BAD_LABELS_BATCH = {  # for a batch of N = 2
    "one-hot rows for 3 images": (np.eye(10)[[1, 2, 3]], ValueError, r"y must have shape \(2, 10\) \(one-hot\) to match x"),
    "one-hot for one image": (np.eye(10)[1], ValueError, r"y must have shape \(2, 10\)"),
    "9 classes": (np.eye(9)[[1, 2]], ValueError, r"y must have shape \(2, 10\)"),
    "3 integer labels": (np.array([1, 2, 3]), ValueError, r"y must be \(2,\) integer labels or \(2, 10\) one-hot, got shape \(3,\)"),
    "column of labels": (np.array([[1], [2]]), ValueError, r"y must be \(2,\) integer labels"),
    "scalar label": (3, ValueError, r"y must be \(2,\) integer labels"),
    "label 10": (np.array([1, 10]), ValueError, r"y: integer labels must be in 0\.\.9"),
    "label -1": (np.array([-1, 2]), ValueError, r"y: integer labels must be in 0\.\.9"),
    "float class numbers": (np.array([1.0, 2.0]), ValueError, r"y must have shape \(2, 10\)"),
    "NaN": (np.full((2, 10), np.nan), ValueError, "y contains NaN or infinity"),
    "strings": (np.array(["1", "2"]), TypeError, "y must be a numeric"),
    "bool one-hot": (np.eye(10, dtype=bool)[[1, 2]], TypeError, "y must be a numeric floating array, got dtype bool"),
    "None": (None, TypeError, "y must be a numeric"),
}


@pytest.mark.parametrize("case", list(BAD_LABELS_BATCH))
def test_bad_labels_for_a_batch(params, case):
    y, exc, match = BAD_LABELS_BATCH[case]
    cache = net.forward(params, images(2))
    with pytest.raises(exc, match=match):
        net.backward(params, cache, y)
    with pytest.raises(exc, match=match):
        net.loss(cache, y)
    with pytest.raises(exc, match=match):
        net.loss_and_grads(params, images(2), y)


BAD_LABELS_SINGLE = {
    "batch of one": (np.eye(10)[[1]], ValueError, r"y must have shape \(10,\) \(one-hot\) to match x, got \(1, 10\)"),
    "label list": (np.array([1]), ValueError, r"y must be a scalar label or \(10,\) one-hot, got shape \(1,\)"),
    "label 10": (10, ValueError, r"y: integer labels must be in 0\.\.9"),
    "label -3": (np.int64(-3), ValueError, r"y: integer labels must be in 0\.\.9"),
    "11 entries": (np.zeros(11), ValueError, r"y must have shape \(10,\)"),
    "inf": (np.array([np.inf] + [0.0] * 9), ValueError, "y contains NaN or infinity"),
}


@pytest.mark.parametrize("case", list(BAD_LABELS_SINGLE))
def test_bad_labels_for_one_image(params, case):
    y, exc, match = BAD_LABELS_SINGLE[case]
    x = images(1)[0]
    for call in (lambda: net.backward(params, net.forward(params, x), y), lambda: net.loss(net.forward(params, x), y),
                 lambda: net.backward_naive(params, net.forward_naive(params, x), y)):
        with pytest.raises(exc, match=match):
            call()


@pytest.mark.parametrize(
    "variant, exc, match",
    [
        ({"pooling": "median"}, ValueError, r"pooling must be one of \('avg', 'max'\)"),
        ({"conv_activation": "tanh"}, ValueError, "conv_activation must be one of"),
        ({"output": "linear"}, ValueError, "output must be one of"),
        ({"dropout": 0.5}, TypeError, r"unknown network option\(s\) \['dropout'\]"),
    ],
)
def test_bad_variants(params, variant, exc, match):
    with pytest.raises(exc, match=match):
        net.forward(params, images(1)[0], **variant)


def test_bad_caches_and_naive_batch_errors(params):
    x = images(2)
    cache = net.forward(params, x)
    partial = {k: v for k, v in cache.items() if k != "S1"}
    with pytest.raises(ValueError, match=r"cache is missing \['S1'\]: pass the dict returned by forward\(\)"):
        net.backward(params, partial, [1, 2])
    with pytest.raises(ValueError, match="cache is missing"):
        net.backward(params, {"y_hat": cache["y_hat"]}, [1, 2])
    with pytest.raises(ValueError, match=r"forward_naive takes one image of shape \(28, 28\)"):
        net.forward_naive(params, x)
    with pytest.raises(ValueError, match="backward_naive takes the cache of one image"):
        net.backward_naive(params, cache, [1, 2])
    with pytest.raises(ValueError, match=r"x must have shape \(N, 28, 28\), got \(28, 28\)"):
        net.predict(params, x[0])


def test_cache_that_is_not_a_dict_is_named(params):
    try:
        net.backward(params, None, 1)
    except (TypeError, ValueError) as exc:
        assert "cache" in str(exc)
    else:
        pytest.fail("backward accepted cache=None")


def test_predict_rejects_a_bad_batch_size(params):
    x = np.zeros((3, 28, 28))
    with pytest.raises(ValueError, match="batch_size"):
        net.predict(params, x, batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        net.predict(params, x, batch_size=2.5)


# --------------------------------------------------------------------------------------------
# the cache is the contract (issue 11): backward computes from the public arrays it shows
# --------------------------------------------------------------------------------------------
def test_cache_holds_only_public_documented_entries(params, batch):
    x, _ = batch
    for cache in (net.forward(params, x), net.forward(params, x[0]), net.forward_naive(params, x[0])):
        assert set(cache) == set(net.CACHE_SHAPES) | {"batched", "config"}


@pytest.mark.parametrize("key", list(LAYER_SHAPES) + ["x"])
def test_backward_follows_every_edited_cache_entry(params, batch, key):
    """Edit one public entry of a forward cache; backward on the edited cache must equal the
    loops of backward_naive on the same edited cache (and differ from the unedited result
    wherever the loops read that entry)."""
    x, labels = batch
    p = _perturbed(params)
    cache = net.forward(p, x[0])
    before = net.backward(p, cache, labels[0])
    rng = np.random.default_rng(sum(map(ord, key)))
    cache[key] = rng.uniform(0.05, 0.95, cache[key].shape)  # a new array in place of the old one
    naive_cache = {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in cache.items()}
    expected = net.backward_naive(p, naive_cache, labels[0])
    got = net.backward(p, cache, labels[0])
    for k in SHAPES:
        assert_allclose(got[k], expected[k], rtol=1e-10, atol=1e-15, err_msg=(key, k))
    reads = {"x": "k1", "C1": "k1", "S1": "k2", "C2": "k2", "f": "W", "y_hat": "b"}
    if key in reads:
        assert np.abs(got[reads[key]] - before[reads[key]]).max() > 1e-6, key


def test_zeroed_C2_changes_dk2_and_a_hand_built_cache_works(params, batch):
    x, labels = batch
    cache = net.forward(params, x)
    dk2 = net.backward(params, cache, labels)["k2"]
    cache["C2"][:] = 0  # sigma'(C2) = C2 (1 - C2) = 0: no error reaches k2 (Zhang eq. 37)
    assert not net.backward(params, cache, labels)["k2"].any()
    cache["C2"] = np.zeros_like(cache["C2"])  # the same, by replacing the entry
    assert not net.backward(params, cache, labels)["k2"].any()
    assert np.abs(dk2).max() > 0
    by_hand = {k: np.array(v) for k, v in net.forward(params, x[0]).items() if k in net.CACHE_SHAPES}
    by_hand.update(batched=False, config=dict(net.DEFAULT_VARIANT))
    expected = net.backward_naive(params, by_hand, labels[0])
    for k, g in net.backward(params, by_hand, labels[0]).items():
        assert_allclose(g, expected[k], rtol=1e-10, atol=1e-15)


def test_edited_cache_with_a_wrong_shape_is_named(params, batch):
    x, labels = batch
    cache = net.forward(params, x)
    cache["S1"] = cache["S1"][:, :3]
    with pytest.raises(ValueError, match=r"cache\['S1'\] must have shape \(3, 6, 12, 12\), got \(3, 3, 12, 12\)"):
        net.backward(params, cache, labels)


# --------------------------------------------------------------------------------------------
# issue 14: targets are one-hot or class labels, nothing else; predict on an empty batch
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("y", [np.arange(10), np.full(10, 0.1), np.eye(10)[3] * 2, np.eye(10)[3] + np.eye(10)[4]])
def test_a_target_that_is_not_one_hot_is_an_error(params, batch, y):
    x, _ = batch
    with pytest.raises(ValueError, match="must be one-hot"):
        net.loss(net.forward(params, x[0]), y)
    with pytest.raises(ValueError, match="must be one-hot"):
        net.backward(params, net.forward(params, x[:1]), y[None])


def test_predict_on_an_empty_batch_says_so(params):
    with pytest.raises(ValueError, match=r"x is an empty batch \(N = 0\)"):
        net.predict(params, np.zeros((0, 28, 28)))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        net.predict(params, np.zeros((3, 28, 28)), batch_size=-1)


def test_check_variant_is_public_and_fills_the_defaults():
    assert net.check_variant({}) == net.DEFAULT_VARIANT
    assert net.check_variant({"pooling": "max"}) == dict(net.DEFAULT_VARIANT, pooling="max")
    with pytest.raises(ValueError, match="output must be one of"):
        net.check_variant({"output": ["softmax"]})


# --------------------------------------------------------------------------------------------
# evaluate_with: the one evaluation loop of every network of the book checks its arguments once
# --------------------------------------------------------------------------------------------
EVALUATES = {
    "seed network (engine)": lambda x, y, **kw: engine.evaluate(net.init_params(seed=0), x, y, **kw),
    "maxpool_net": lambda x, y, **kw: maxpool_net.evaluate(maxpool_net.init_params(seed=0), x, y, **kw),
    "softmax_net": lambda x, y, **kw: softmax_net.evaluate(softmax_net.init_params(seed=0), x, y, **kw),
}


@pytest.mark.parametrize("model", list(EVALUATES))
@pytest.mark.parametrize("batch_size, exc, match", [(0, ValueError, "batch_size must be >= 1"),
                                                    (-1, ValueError, "batch_size must be >= 1"),
                                                    (2.5, TypeError, "batch_size must be an integer")])
def test_every_evaluate_rejects_a_bad_batch_size(model, batch_size, exc, match):
    x, labels = np.zeros((3, 28, 28)), np.array([3, 7, 0])
    with pytest.raises(exc, match=match):
        EVALUATES[model](x, labels, batch_size=batch_size)


@pytest.mark.parametrize("model", list(EVALUATES))
def test_every_evaluate_says_an_empty_batch_is_empty(model):
    with pytest.raises(ValueError, match=r"x is an empty batch \(N = 0\)"):
        EVALUATES[model](np.zeros((0, 28, 28)), np.zeros(0, dtype=int))


def test_evaluate_with_chunks_and_weights_the_mean_loss_by_chunk_size():
    x, y = np.zeros((5, 28, 28)), np.array([0, 1, 2, 3, 4])
    chunks = []

    def batch_fn(xb, yb):                       # loss = the first label of the chunk
        chunks.append(len(yb))
        return float(yb[0]), np.eye(10)[yb]
    result = net.evaluate_with(batch_fn, x, y, batch_size=2)
    assert chunks == [2, 2, 1]
    assert result["loss"] == pytest.approx((0 * 2 + 2 * 2 + 4 * 1) / 5)
    assert result["accuracy"] == 1.0
    assert_array_equal(result["y_pred"], y)
