"""Tests for helpers.engine: the fast engine computes what the readable passes of
helpers.network compute (float64 to 1e-12), hands out no cache, and checks its inputs."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import refimpl as R
from helpers import engine
from helpers import network as net

VARIANTS = [{}, {"pooling": "max"}, {"conv_activation": "relu"}, {"output": "softmax"},
            {"pooling": "max", "conv_activation": "relu", "output": "softmax"}]


@pytest.fixture(scope="module")
def params():
    p = net.init_params(seed=0)
    rng = np.random.default_rng(42)
    return dict(p, b1=rng.uniform(-0.3, 0.3, 6), b2=rng.uniform(-0.3, 0.3, 12), b=rng.uniform(-0.5, 0.5, 10))


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("n", [None, 1, 3, 23])  # None: one image; 23: several chunks of the engine
def test_step_equals_the_readable_passes(params, variant, n):
    x = R.blob_images(n or 1, seed=n or 5)
    labels = np.arange(n or 1) % 10
    x, y = (x[0], int(labels[0])) if n is None else (x, labels)
    cache = net.forward(params, x, **variant)
    expected = net.backward(params, cache, y)
    L, grads, y_hat = engine.step(params, x, y, **variant)
    assert L == pytest.approx(net.loss(cache, y), rel=1e-12, abs=0)
    assert_allclose(y_hat, cache["y_hat"], rtol=1e-12, atol=1e-15)
    assert set(grads) == set(net.PARAM_SHAPES)
    for key, g in grads.items():
        assert g.shape == net.PARAM_SHAPES[key] and g.dtype == np.float64
        assert_allclose(g, expected[key], rtol=1e-12, atol=1e-13 * np.abs(expected[key]).max(), err_msg=key)
    L2, grads2 = engine.loss_and_grads(params, x, y, **variant)
    assert L2 == L
    for key in grads:
        assert_array_equal(grads2[key], grads[key])


def test_results_do_not_depend_on_reused_buffers(params):
    x = R.blob_images(12, seed=3)
    first = engine.loss_and_grads(params, x, np.arange(12) % 10)[1]
    engine.loss_and_grads(params, R.blob_images(5, seed=4), np.arange(5))  # other shapes, other values
    again = engine.loss_and_grads(params, x, np.arange(12) % 10)[1]
    engine.clear_buffers()
    cold = engine.loss_and_grads(params, x, np.arange(12) % 10)[1]
    for key in first:
        assert_array_equal(first[key], again[key])
        assert_array_equal(first[key], cold[key])


def test_float32_stays_float32_and_is_close_to_float64(params):
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    x = R.blob_images(4, seed=2)
    L, grads, y_hat = engine.step(p32, x, np.arange(4))
    expected = net.backward(params, net.forward(params, x), np.arange(4))
    assert isinstance(L, float) and y_hat.dtype == np.float32
    for key, g in grads.items():
        assert g.dtype == np.float32
        assert_allclose(g, expected[key], rtol=1e-3, atol=1e-6 * np.abs(expected[key]).max(), err_msg=key)


def test_outputs_predict_and_evaluate(params):
    x = R.blob_images(7, seed=6)
    labels = np.array([1, 2, 3, 4, 5, 6, 7])
    y_hat = net.forward(params, x)["y_hat"]
    assert_allclose(engine.outputs(params, x, batch_size=3), y_hat, rtol=1e-12)
    assert_allclose(engine.outputs(params, x[0]), y_hat[0], rtol=1e-12)
    assert_array_equal(engine.predict(params, x, batch_size=2), y_hat.argmax(axis=1))
    assert engine.predict(params, x[0]) == int(y_hat[0].argmax())
    result = engine.evaluate(params, x, labels, batch_size=3)
    assert set(result) == {"loss", "accuracy", "y_pred", "y_hat"}
    assert result["loss"] == pytest.approx(net.loss(net.forward(params, x), labels), rel=1e-12)
    assert result["accuracy"] == np.mean(y_hat.argmax(axis=1) == labels)
    assert_array_equal(result["y_pred"], y_hat.argmax(axis=1))


@pytest.mark.parametrize("call, exc, match", [
    (lambda p: engine.predict(p, np.zeros((0, 28, 28))), ValueError, r"x is an empty batch \(N = 0\)"),
    (lambda p: engine.evaluate(p, np.zeros((0, 28, 28)), np.zeros(0, int)), ValueError, r"x is an empty batch"),
    (lambda p: engine.predict(p, np.zeros((3, 28, 28)), batch_size=0), ValueError, "batch_size must be >= 1"),
    (lambda p: engine.evaluate(p, np.zeros((3, 28, 28)), np.zeros(3, int), batch_size=2.5), TypeError, "batch_size"),
    (lambda p: engine.step(p, np.zeros((2, 28, 28)), np.arange(10)), ValueError, r"y must be \(2,\) integer labels"),
    (lambda p: engine.step(p, np.zeros((28, 28)), np.arange(10)), ValueError, "must be one-hot"),
    (lambda p: engine.step(p, np.zeros((2, 28, 28)), np.full((2, 10), 0.1)), ValueError, "must be one-hot"),
    (lambda p: engine.step(p, np.zeros((28, 28)), 3, pooling="median"), ValueError, "pooling must be one of"),
    (lambda p: engine.step({**p, "W": p["W"][:5]}, np.zeros((28, 28)), 3), ValueError, r"params\['W'\] must have shape"),
    (lambda p: engine.step(p, np.full((28, 28), np.nan), 3), ValueError, "x contains NaN or infinity"),
])
def test_bad_inputs_raise_clear_errors(params, call, exc, match):
    with pytest.raises(exc, match=match):
        call(params)


def test_the_engine_hands_out_no_cache(params):
    assert not hasattr(engine, "forward") and not hasattr(engine, "backward")
    out = engine.step(params, R.blob_images(2, seed=1), [1, 2])
    assert isinstance(out, tuple) and len(out) == 3 and not any(isinstance(v, dict) and "C1" in v for v in out)
