"""Tests for helpers.softmax_net (seed 003's network) against independent computations: a forward
pass built from shifted slices and scatter convolutions (tests/refimpl.py), the handout's loops,
and central differences of the cross-entropy for every tensor, with f = sigmoid and f = ReLU."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import refimpl as R
from helpers import softmax_net as S

SHAPES = {"K1": (1, 4, 5, 5), "b1": (4,), "K2": (4, 6, 5, 5), "b2": (6,), "W1": (50, 96),
          "b_1": (50,), "W2": (10, 50), "b_2": (10,)}
LAYERS = {"C1_sigma": (4, 24, 24), "C1": (4, 24, 24), "C1P": (4, 12, 12), "C2_sigma": (6, 8, 8),
          "C2": (6, 8, 8), "C2P": (6, 4, 4), "flat": (96,), "z1": (50,), "a1": (50,), "z2": (10,), "s": (10,)}


images = R.blob_images


def _shifted(x):
    """The 25 shifted views a 5x5 true convolution reads: ``out[u+2, v+2][..., i, j] =
    x[..., i+2-u, j+2-v]`` for u, v = -2..2 (0-based output i, j), stacked on a new first axis."""
    ho, wo = x.shape[-2] - 4, x.shape[-1] - 4
    return np.stack([np.stack([x[..., 2 - u:2 - u + ho, 2 - v:2 - v + wo] for v in range(-2, 3)])
                     for u in range(-2, 3)])                         # (5, 5, ..., ho, wo)


def _act(z, activation):
    return 1.0 / (1.0 + np.exp(-z)) if activation == "sigmoid" else np.maximum(z, 0.0)


_COLUMN_SCAN = np.array([16 * q + 4 * i + j for q in range(6) for j in range(4) for i in range(4)])
# flat[t] = C2P.reshape(96)[_COLUMN_SCAN[t]]: map q, then column j, then row i


def reference_forward(p, x, activation="sigmoid"):
    """Seed 003's forward pass without helpers: shifted slices for the convolutions (the sum over
    u, v of I(i - u, j - v) K(u, v), with the +2 offset), reshapes for the pooling, an explicit
    index list for the column scan."""
    n = x.shape[0]
    C1 = _act(np.einsum("uvnij,muv->nmij", _shifted(x), p["K1"][0]) + p["b1"][None, :, None, None], activation)
    C1P = C1.reshape(n, 4, 12, 2, 12, 2).mean(axis=(3, 5))
    C2 = _act(np.einsum("uvnmij,mquv->nqij", _shifted(C1P), p["K2"]) + p["b2"][None, :, None, None], activation)
    C2P = C2.reshape(n, 6, 4, 2, 4, 2).mean(axis=(3, 5))
    flat = C2P.reshape(n, 96)[:, _COLUMN_SCAN]
    a1 = _act(flat @ p["W1"].T + p["b_1"], activation)
    z2 = a1 @ p["W2"].T + p["b_2"]
    e = np.exp(z2 - z2.max(axis=1, keepdims=True))
    return {"C1": C1, "C1P": C1P, "C2": C2, "C2P": C2P, "flat": flat, "a1": a1, "z2": z2,
            "s": e / e.sum(axis=1, keepdims=True)}


def reference_loss(p, x, labels, activation="sigmoid"):
    s = reference_forward(p, x, activation)["s"]
    return float(-np.mean(np.log(s[np.arange(len(labels)), labels])))


@pytest.fixture(scope="module")
def params():
    p = S.init_params(seed=2)
    rng = np.random.default_rng(9)
    for key in ("b1", "b2", "b_1", "b_2"):        # non-zero biases: every bias gradient is visible
        p[key] = rng.uniform(-0.2, 0.2, p[key].shape)
    return p


@pytest.fixture(scope="module")
def batch():
    return images(2, seed=1), np.array([3, 8])


# --------------------------------------------------------------------------------------------
# parameters: the count and the initialisation
# --------------------------------------------------------------------------------------------
def test_parameter_count_is_6070_not_6170():
    terms = S.count_terms()
    assert terms == {"K1": 4 * 5 * 5, "b1": 4, "K2": 24 * 5 * 5, "b2": 6, "W1": 50 * 96, "b_1": 50,
                     "W2": 10 * 50, "b_2": 10}
    assert 4 * 25 + 4 + 24 * 25 + 6 + 50 * 96 + 50 + 10 * 50 + 10 == 6070
    assert S.count_params() == 6070 != 6170
    assert S.count_params(S.init_params()) == 6070
    assert sum(v.size for v in S.init_params().values()) == 6070


def test_init_bounds_as_printed_and_glorot():
    seed003, glorot = S.init_bounds("seed003"), S.init_bounds("glorot")
    assert seed003["K1"] == pytest.approx(np.sqrt(4 / 125))
    assert glorot["K1"] == pytest.approx(np.sqrt(6 / 125))
    for key in ("K2", "W1", "W2"):
        assert seed003[key] == glorot[key]
    assert seed003["K2"] == pytest.approx(np.sqrt(6 / 250))
    assert seed003["W1"] == pytest.approx(np.sqrt(6 / 146))
    assert seed003["W2"] == pytest.approx(np.sqrt(6 / 60))


def test_init_draws(params):
    a, b = S.init_params(seed=4), S.init_params(seed=4, rule="glorot")
    assert {k: v.shape for k, v in a.items()} == SHAPES
    assert_allclose(a["K1"], b["K1"] * np.sqrt(4 / 6), atol=1e-15)       # same draws, smaller bound
    for key in ("K2", "W1", "W2"):
        assert_array_equal(a[key], b[key])
    bounds = S.init_bounds()
    for key, bound in bounds.items():
        assert np.abs(a[key]).max() <= bound
        assert np.abs(a[key]).max() > 0.8 * bound
    for key in ("b1", "b2", "b_1", "b_2"):
        assert not a[key].any()
    assert_array_equal(a["W1"], S.init_params(seed=4)["W1"])
    assert S.init_params(dtype=np.float32)["K2"].dtype == np.float32
    with pytest.raises(ValueError, match="rule must be one of"):
        S.init_params(rule="he")
    with pytest.raises(TypeError, match="dtype"):
        S.init_params(dtype=int)


# --------------------------------------------------------------------------------------------
# forward
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", S.ACTIVATIONS)
def test_forward_matches_independent_reference(params, batch, activation):
    x, _ = batch
    cache = S.forward(params, x, activation)
    ref = reference_forward(params, x, activation)
    for name, value in ref.items():
        assert_allclose(cache[name], value, rtol=0, atol=1e-12, err_msg=name)


def test_first_layer_against_scatter_convolution(params, batch):
    x, _ = batch
    cache = S.forward(params, x[0])
    for m in range(4):
        z = R.valid_convolution_scatter(x[0], params["K1"][0, m]) + params["b1"][m]
        assert_allclose(cache["C1_sigma"][m], z, atol=1e-12)


def test_single_image_shapes_and_probabilities(params, batch):
    cache = S.forward(params, batch[0][0])
    assert {k: cache[k].shape for k in LAYERS} == LAYERS
    assert cache["s"].sum() == pytest.approx(1.0)
    assert (cache["s"] > 0).all()


def test_flatten_is_a_column_scan_and_unflatten_inverts_it():
    C2P = np.arange(2 * 96, dtype=float).reshape(2, 6, 4, 4)
    flat = S.flatten(C2P)
    for q in range(6):
        for i in range(4):
            for j in range(4):
                assert flat[1, 16 * q + 4 * j + i] == C2P[1, q, i, j]
    assert_array_equal(S.unflatten(flat), C2P)
    with pytest.raises(ValueError, match=r"\(N, 6, 4, 4\)"):
        S.flatten(np.zeros((6, 4, 4)))
    with pytest.raises(ValueError, match=r"\(N, 96\)"):
        S.unflatten(np.zeros((2, 95)))


def test_forward_naive_matches_fast(params, batch):
    x, _ = batch
    fast, loops = S.forward(params, x[1]), S.forward_naive(params, x[1])
    for name in LAYERS:
        assert_allclose(loops[name], fast[name], rtol=0, atol=1e-12, err_msg=name)


# --------------------------------------------------------------------------------------------
# loss and gradients
# --------------------------------------------------------------------------------------------
def test_loss_matches_reference(params, batch):
    x, labels = batch
    assert S.loss(S.forward(params, x), labels) == pytest.approx(reference_loss(params, x, labels), abs=1e-12)
    assert S.loss(S.forward(params, x), np.eye(10)[labels]) == pytest.approx(reference_loss(params, x, labels), abs=1e-12)


def test_output_error_is_s_minus_y(params, batch):
    x, labels = batch
    cache = S.forward(params, x[0])
    _, err = S.backward_with_errors(params, cache, labels[0])
    assert_allclose(err["delta"], cache["s"] - np.eye(10)[labels[0]], atol=1e-15)
    assert {k: v.shape for k, v in err.items()} == {
        "delta": (10,), "delta1": (50,), "d_flat": (96,), "dC2P": (6, 4, 4), "dC2_sigma": (6, 8, 8),
        "dC1P": (4, 12, 12), "dC1_sigma": (4, 24, 24)}


@pytest.mark.parametrize("activation", S.ACTIVATIONS)
def test_gradients_match_central_differences(params, batch, activation):
    """Every entry of the conv tensors and biases; 200 random entries of W1 and W2 each."""
    x, labels = batch
    grads = S.backward(params, S.forward(params, x, activation), labels)
    rng = np.random.default_rng(0)
    for name, shape in SHAPES.items():
        work = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        size = int(np.prod(shape))
        entries = None if size <= 600 else rng.choice(size, 200, replace=False)
        numeric = R.central_diff(lambda: reference_loss(work, x, labels, activation), work[name], entries=entries)
        analytic = grads[name].reshape(-1)
        numeric = numeric.reshape(-1)
        keep = np.arange(size) if entries is None else entries
        a, n = analytic[keep], numeric[keep]
        err = np.linalg.norm(a - n) / (np.linalg.norm(a) + np.linalg.norm(n))
        assert grads[name].shape == shape
        assert err < 1e-7, (name, activation, err)


def test_batch_gradient_is_mean_of_single_gradients(params, batch):
    x, labels = batch
    g_batch = S.backward(params, S.forward(params, x), labels)
    singles = [S.backward(params, S.forward(params, x[i]), labels[i]) for i in range(2)]
    for name in SHAPES:
        assert_allclose(g_batch[name], np.mean([g[name] for g in singles], axis=0), atol=1e-15)


def test_backward_naive_matches_fast(params, batch):
    x, labels = batch
    fast = S.backward(params, S.forward(params, x[0]), labels[0])
    loops = S.backward_naive(params, S.forward_naive(params, x[0]), labels[0])
    for name in SHAPES:
        assert_allclose(loops[name], fast[name], rtol=0, atol=1e-14, err_msg=name)


def test_hidden_layer_error(params, batch):
    """delta1 = (W2^T delta) * f'(z1): checked against central differences of L in z1."""
    x, labels = batch
    cache = S.forward(params, x[0])
    _, err = S.backward_with_errors(params, cache, labels[0])
    z1 = cache["z1"].copy()

    def loss_of_z1():
        z2 = (1 / (1 + np.exp(-z1))) @ params["W2"].T + params["b_2"]
        return float(np.log(np.exp(z2).sum()) - z2[labels[0]])

    assert_allclose(err["delta1"], R.central_diff(loss_of_z1, z1), atol=1e-9)


def test_evaluate_and_float32(params, batch):
    x, labels = batch
    result = S.evaluate(params, x, labels, batch_size=1)
    cache = S.forward(params, x)
    assert_array_equal(result["y_pred"], cache["s"].argmax(axis=1))
    assert result["loss"] == pytest.approx(S.loss(cache, labels), abs=1e-12)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    grads = S.backward(p32, S.forward(p32, x.astype(np.float32)), labels)
    assert all(g.dtype == np.float32 for g in grads.values())


# --------------------------------------------------------------------------------------------
# error paths
# --------------------------------------------------------------------------------------------
def test_bad_arguments_are_reported(params):
    x = np.zeros((28, 28))
    with pytest.raises(ValueError, match=r"params\['K1'\] must have shape \(1, 4, 5, 5\)"):
        S.forward(dict(params, K1=np.zeros((4, 5, 5))), x)
    with pytest.raises(ValueError, match="missing"):
        S.forward({k: v for k, v in params.items() if k != "b_1"}, x)
    with pytest.raises(ValueError, match="unexpected"):
        S.forward(dict(params, W=np.zeros(1)), x)
    with pytest.raises(ValueError, match="NaN"):
        S.forward(dict(params, W2=np.full((10, 50), np.inf)), x)
    with pytest.raises(TypeError, match="one float dtype"):
        S.forward(dict(params, K2=params["K2"].astype(np.float32)), x)
    with pytest.raises(ValueError, match="activation must be one of"):
        S.forward(params, x, activation="tanh")
    with pytest.raises(ValueError, match=r"\(28, 28\) or \(N, 28, 28\)"):
        S.forward(params, np.zeros((3, 28, 27)))
    with pytest.raises(TypeError, match="floating"):
        S.forward(params, np.zeros((28, 28), dtype=np.int64))
    cache = S.forward(params, np.zeros((2, 28, 28)))
    with pytest.raises(ValueError, match="y"):
        S.loss(cache, np.zeros((2, 9)))
    with pytest.raises(ValueError, match="0..9"):
        S.backward(params, cache, np.array([0, 10]))
    with pytest.raises(ValueError, match="missing"):
        S.backward(params, {"s": 1}, [1, 2])
    with pytest.raises(TypeError, match="dict"):
        S.loss(None, [1, 2])
    with pytest.raises(ValueError, match="one image"):
        S.backward_naive(params, cache, [1, 2])
    with pytest.raises(ValueError, match="one image"):
        S.forward_naive(params, np.zeros((1, 28, 28)))
    relu_cache = S.forward(params, x, activation="relu")
    with pytest.raises(ValueError, match="sigmoid"):
        S.backward_naive(params, relu_cache, 1)


def test_second_layer_gradients_match_conv_backward(params, batch):
    """The conv_forward identities used in backward give conv_backward's numbers."""
    from helpers.convolution import conv_backward

    x, labels = batch
    cache = S.forward(params, x)
    grads, err = S.backward_with_errors(params, cache, labels)
    _, _, conv2, _ = cache["layer_caches"]
    dC1P, dK2, db2 = conv_backward(err["dC2_sigma"], conv2)
    assert_allclose(err["dC1P"], dC1P, atol=1e-15)
    assert_allclose(grads["K2"], dK2, atol=1e-15)
    assert_allclose(grads["b2"], db2, atol=1e-15)


# --------------------------------------------------------------------------------------------
# evaluate: the book's one evaluation loop (network.evaluate_with, whose argument checks are
# tested once for every network in tests/test_network.py) on this network's outputs
# --------------------------------------------------------------------------------------------
def test_evaluate_returns_the_common_keys_and_this_networks_outputs(params, batch):
    x, labels = batch
    result = S.evaluate(params, x, labels)
    assert set(result) == {"loss", "accuracy", "y_pred", "y_hat"}
    assert_array_equal(result["y_hat"], S.forward(params, x)["s"])
