"""Tests for helpers.maxpool_net (seed 002's network) against independent computations: a forward
pass built from shifted slices and dense matrices (tests/refimpl.py), seed 002's loops, and
central differences of the cost over all 1476 parameters, for both costs."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import refimpl as R
from helpers import maxpool_net as M

SHAPES = {"w1": (5, 5), "b1": (), "w3": (10, 12, 12), "b3": (10,)}


def digits(n, seed=0, background=0.0):
    """Digit-like images: a bright stroke on a flat background, values in [0, 1].

    With ``background=0`` (as in MNIST) whole pooling windows see only zeros, so their four
    activations tie exactly at sigmoid(b1).
    """
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:28, 0:28]
    out = []
    for _ in range(n):
        cy, cx = rng.uniform(10, 18, 2)
        stroke = np.exp(-((r - cy) ** 2 / rng.uniform(8, 30) + (c - cx) ** 2 / rng.uniform(2, 8)))
        img = np.where(stroke > 0.05, stroke, 0.0) + background * rng.random((28, 28))
        out.append(np.clip(img, 0, 1))
    return np.array(out)


def reference_forward(params, x):
    """Seed 002's forward pass, written independently of helpers: the cross-correlation as a sum
    of 25 shifted copies of the image, max pooling as a max over the four shifted sub-grids."""
    w1, b1, w3, b3 = (np.asarray(params[k], dtype=np.float64) for k in SHAPES)
    z1 = b1 + sum(w1[l, m] * x[:, l:l + 24, m:m + 24] for l in range(5) for m in range(5))
    a1 = 1.0 / (1.0 + np.exp(-z1))
    a2 = np.maximum.reduce([a1[:, 0::2, 0::2], a1[:, 0::2, 1::2], a1[:, 1::2, 0::2], a1[:, 1::2, 1::2]])
    z3 = np.einsum("ljk,njk->nl", w3, a2) + b3
    return z1, a1, a2, z3, 1.0 / (1.0 + np.exp(-z3))


def reference_cost(params, x, labels, cost):
    *_, z3, a3 = reference_forward(params, x)
    Y = np.eye(10)[labels]
    if cost == "quadratic":
        return float(np.mean(0.5 * np.sum((a3 - Y) ** 2, axis=1)))
    return float(np.mean(-np.sum(Y * np.log(a3) + (1 - Y) * np.log(1 - a3), axis=1)))


@pytest.fixture(scope="module")
def params():
    p = M.init_params(seed=3)
    p["b1"] = np.array(-0.2)                  # a non-zero shared bias, so BP3's sum is visible
    p["b3"] = np.linspace(-0.3, 0.3, 10)
    return p


@pytest.fixture(scope="module")
def batch():
    return digits(3, seed=1), np.array([3, 7, 0])


# --------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------
def test_parameter_count_is_1476():
    assert 5 * 5 + 1 + 10 * 12 * 12 + 10 == 1476
    assert M.count_params() == 1476
    p = M.init_params()
    assert M.count_params(p) == 1476
    assert sum(v.size for v in p.values()) == 1476


def test_init_shapes_bounds_and_determinism():
    p = M.init_params(seed=5)
    assert {k: v.shape for k, v in p.items()} == SHAPES
    bounds = M.init_bounds()
    assert bounds["w1"] == pytest.approx(np.sqrt(6 / 50))
    assert bounds["w3"] == pytest.approx(np.sqrt(6 / 154))
    assert np.abs(p["w1"]).max() <= bounds["w1"]
    assert np.abs(p["w3"]).max() <= bounds["w3"]
    assert np.abs(p["w3"]).max() > 0.9 * bounds["w3"]       # the whole range is used
    assert p["b1"] == 0 and not p["b3"].any()
    q = M.init_params(seed=5)
    for k in SHAPES:
        assert_array_equal(p[k], q[k])
    assert not np.array_equal(p["w1"], M.init_params(seed=6)["w1"])


def test_init_dtype():
    p = M.init_params(dtype=np.float32)
    assert all(v.dtype == np.float32 for v in p.values())
    with pytest.raises(TypeError, match="dtype"):
        M.init_params(dtype=np.int32)


# --------------------------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------------------------
def test_forward_matches_independent_reference(params, batch):
    x, _ = batch
    cache = M.forward(params, x)
    dense = R.layer_forward_ref(x[:1, None], params["w1"][None, None], params["b1"].reshape(1))
    assert_allclose(cache["z1"][:1], dense[:, 0], rtol=0, atol=1e-12)   # a third construction of z1
    for name, ref in zip(("z1", "a1", "a2", "z3", "a3"), reference_forward(params, x)):
        assert cache[name].shape == ref.shape
        assert_allclose(cache[name], ref, rtol=0, atol=1e-12, err_msg=name)


def test_forward_single_image_shapes(params, batch):
    x, _ = batch
    cache = M.forward(params, x[0])
    shapes = {k: cache[k].shape for k in ("x", "z1", "a1", "a2", "z3", "a3")}
    assert shapes == {"x": (28, 28), "z1": (24, 24), "a1": (24, 24), "a2": (12, 12), "z3": (10,), "a3": (10,)}
    assert_allclose(cache["a3"], M.forward(params, x)["a3"][0], atol=1e-14)


def test_forward_naive_matches_fast(params, batch):
    x, _ = batch
    fast = M.forward(params, x[1])
    loops = M.forward_naive(params, x[1])
    for name in ("z1", "a1", "a2", "z3", "a3"):
        assert_allclose(loops[name], fast[name], rtol=0, atol=1e-12, err_msg=name)


def test_forward_keeps_float32(batch):
    p = M.init_params(dtype=np.float32)
    cache = M.forward(p, batch[0].astype(np.float32))
    assert cache["a3"].dtype == np.float32 and cache["a1"].dtype == np.float32
    grads = M.backward(p, cache, batch[1])
    assert all(g.dtype == np.float32 for g in grads.values())


# --------------------------------------------------------------------------------------------
# costs and gradients
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cost", M.COSTS)
def test_cost_matches_reference(params, batch, cost):
    x, labels = batch
    assert M.loss(M.forward(params, x), labels, cost) == pytest.approx(reference_cost(params, x, labels, cost), abs=1e-12)


def test_cross_entropy_is_finite_for_saturated_outputs():
    p = M.init_params()
    p["w3"] = np.zeros((10, 12, 12))
    p["b3"] = np.array([60.0] + [-60.0] * 9)               # z3 = b3: a3[0] = 1, a3[1] = 0 in floats
    cache = M.forward(p, np.zeros((28, 28)))
    assert np.isfinite(M.loss(cache, 1, "cross_entropy"))
    assert M.loss(cache, 1, "cross_entropy") == pytest.approx(120.0, rel=1e-6)


@pytest.mark.parametrize("cost", M.COSTS)
def test_gradients_match_central_differences(params, batch, cost):
    x, labels = batch
    grads = M.backward(params, M.forward(params, x), labels, cost)
    for name in SHAPES:
        work = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        numeric = R.central_diff(lambda: reference_cost(work, x, labels, cost), work[name])
        err = np.linalg.norm(grads[name] - numeric) / (np.linalg.norm(grads[name]) + np.linalg.norm(numeric))
        assert grads[name].shape == SHAPES[name]
        assert err < 1e-7, (name, err)


def test_batch_gradient_is_mean_of_single_gradients(params, batch):
    x, labels = batch
    g_batch = M.backward(params, M.forward(params, x), labels)
    singles = [M.backward(params, M.forward(params, x[i]), labels[i]) for i in range(3)]
    for name in SHAPES:
        assert_allclose(g_batch[name], np.mean([g[name] for g in singles], axis=0), atol=1e-15)


@pytest.mark.parametrize("cost", M.COSTS)
def test_backward_naive_matches_fast(params, batch, cost):
    x, labels = batch
    fast = M.backward(params, M.forward(params, x[2]), labels[2], cost)
    loops = M.backward_naive(params, M.forward_naive(params, x[2]), labels[2], cost)
    for name in SHAPES:
        assert_allclose(loops[name], fast[name], rtol=0, atol=1e-14, err_msg=name)


def test_bp1_for_each_cost(params, batch):
    x, labels = batch
    cache = M.forward(params, x[0])
    a3, y = cache["a3"], np.eye(10)[labels[0]]
    _, quad = M.backward_with_errors(params, cache, labels[0], "quadratic")
    _, xent = M.backward_with_errors(params, cache, labels[0], "cross_entropy")
    assert_allclose(quad["delta3"], (a3 - y) * a3 * (1 - a3), atol=1e-15)
    assert_allclose(xent["delta3"], a3 - y, atol=1e-15)


def test_delta1_is_zero_outside_window_maxima_and_bp3_bp4_are_sums(params, batch):
    x, labels = batch
    cache = M.forward(params, x[0])
    grads, err = M.backward_with_errors(params, cache, labels[0])
    delta1 = err["delta1"]
    windows = delta1.reshape(12, 2, 12, 2).transpose(0, 2, 1, 3).reshape(12, 12, 4)
    assert (np.count_nonzero(windows, axis=2) <= 1).all()           # one entry per window at most
    assert grads["b1"] == pytest.approx(delta1.sum(), abs=1e-15)     # BP3, shared bias
    dw1 = np.array([[np.sum(delta1 * x[0][l:l + 24, m:m + 24]) for m in range(5)] for l in range(5)])
    assert_allclose(grads["w1"], dw1, atol=1e-15)                     # BP4, shared weights
    assert_allclose(err["dC_da2"], np.einsum("l,ljk->jk", err["delta3"], params["w3"]), atol=1e-15)


def test_ties_on_a_zero_background(params):
    """MNIST-like zeros make four-way ties; the first-maximum rule still gives the exact gradient
    of the shared bias, the literal 'every maximum' reading of seed 002's BP2 does not."""
    x = digits(1, seed=4)[0]
    cache = M.forward(params, x)
    a1 = cache["a1"]
    windows = a1.reshape(12, 2, 12, 2).transpose(0, 2, 1, 3).reshape(12, 12, 4)
    tied = (windows == windows.max(axis=2, keepdims=True)).sum(axis=2) > 1
    assert tied.sum() > 20
    work = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    numeric_b1 = R.central_diff(lambda: reference_cost(work, x[None], np.array([5]), "quadratic"), work["b1"])
    first = M.backward_naive(params, cache, 5, ties="first")
    every = M.backward_naive(params, cache, 5, ties="all")
    assert first["b1"] == pytest.approx(float(numeric_b1), rel=1e-6)
    assert abs(every["b1"] - numeric_b1) > 1e-3 * abs(numeric_b1)
    assert_allclose(every["w1"], first["w1"], atol=1e-15)    # tied cells see only zero pixels
    assert_allclose(M.backward(params, cache, 5)["b1"], first["b1"], atol=1e-15)


def test_evaluate(params, batch):
    x, labels = batch
    result = M.evaluate(params, x, labels)
    cache = M.forward(params, x)
    assert_array_equal(result["y_pred"], cache["a3"].argmax(axis=1))
    assert result["accuracy"] == pytest.approx(np.mean(cache["a3"].argmax(axis=1) == labels))
    assert result["loss"] == pytest.approx(M.loss(cache, labels), abs=1e-12)


# --------------------------------------------------------------------------------------------
# error paths
# --------------------------------------------------------------------------------------------
def test_bad_params_are_reported(params):
    x = np.zeros((28, 28))
    with pytest.raises(TypeError, match="dict"):
        M.forward([1, 2], x)
    with pytest.raises(ValueError, match="missing"):
        M.forward({k: v for k, v in params.items() if k != "w3"}, x)
    with pytest.raises(ValueError, match="unexpected"):
        M.forward(dict(params, k2=np.zeros(3)), x)
    with pytest.raises(ValueError, match=r"params\['w1'\] must have shape \(5, 5\)"):
        M.forward(dict(params, w1=np.zeros((3, 3))), x)
    with pytest.raises(ValueError, match=r"params\['b1'\] must have shape \(\)"):
        M.forward(dict(params, b1=np.zeros(1)), x)
    with pytest.raises(TypeError, match="floating"):
        M.forward(dict(params, w1=np.zeros((5, 5), dtype=int)), x)
    with pytest.raises(ValueError, match="NaN"):
        M.forward(dict(params, w3=np.full((10, 12, 12), np.nan)), x)
    with pytest.raises(TypeError, match="one float dtype"):
        M.forward(dict(params, b3=np.zeros(10, dtype=np.float32)), x)
    with pytest.raises(TypeError, match="numpy array"):
        M.forward(dict(params, b1=0.0), x)


def test_bad_inputs_are_reported(params):
    with pytest.raises(ValueError, match=r"\(28, 28\) or \(N, 28, 28\)"):
        M.forward(params, np.zeros((32, 32)))
    with pytest.raises(ValueError, match=r"\(28, 28\) or \(N, 28, 28\)"):
        M.forward(params, np.zeros((2, 1, 28, 28)))
    with pytest.raises(TypeError, match="255"):
        M.forward(params, np.zeros((28, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match="empty"):
        M.forward(params, np.zeros((0, 28, 28)))
    cache = M.forward(params, np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="cost must be one of"):
        M.loss(cache, [1, 2], cost="hinge")
    with pytest.raises(ValueError, match="cost must be one of"):
        M.backward(params, cache, [1, 2], cost="log")
    with pytest.raises(ValueError, match="y"):
        M.loss(cache, [1, 2, 3])
    with pytest.raises(ValueError, match="0..9"):
        M.backward(params, cache, np.array([1, 12]))
    with pytest.raises(ValueError, match="missing"):
        M.backward(params, {"x": 1}, [1, 2])
    with pytest.raises(ValueError, match="one image"):
        M.backward_naive(params, cache, [1, 2])
    with pytest.raises(ValueError, match="one image"):
        M.forward_naive(params, np.zeros((2, 28, 28)))
    single = M.forward(params, np.zeros((28, 28)))
    with pytest.raises(ValueError, match="ties must be one of"):
        M.backward_naive(params, single, 1, ties="random")
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        M.evaluate(params, np.zeros((28, 28)), np.array([1]))
    with pytest.raises(ValueError, match="integer labels"):
        M.evaluate(params, np.zeros((2, 28, 28)), np.array([1.0, 2.0]))


# --------------------------------------------------------------------------------------------
# evaluate: the book's one evaluation loop (network.evaluate_with, whose argument checks are
# tested once for every network in tests/test_network.py) on this network's outputs
# --------------------------------------------------------------------------------------------
def test_evaluate_returns_the_common_keys_and_this_networks_outputs(params, batch):
    x, labels = batch
    result = M.evaluate(params, x, labels)
    assert set(result) == {"loss", "accuracy", "y_pred", "y_hat"}
    assert_array_equal(result["y_hat"], M.forward(params, x)["a3"])


def test_cache_is_only_public_arrays_and_backward_reads_a1(params, batch):
    x, labels = batch
    cache = M.forward(params, x)
    assert set(cache) == {"x", "z1", "a1", "a2", "z3", "a3", "batched"}
    edited = dict(cache, a1=cache["a1"][:, :, ::-1].copy())  # moves every window's maximum
    got = M.backward(params, edited, labels)
    single = {k: (v[0] if isinstance(v, np.ndarray) else False) for k, v in edited.items()}
    naive = M.backward_naive(params, single, labels[0])
    one = M.backward(params, single, labels[0])
    for key in got:
        assert_allclose(one[key], naive[key], rtol=1e-10, atol=1e-15, err_msg=key)
