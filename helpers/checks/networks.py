"""Checks for notebooks 07 and 08: seed 002's network (shared kernel, max pooling, BP1-BP4) and
seed 003's (4/6 maps, hidden layer, softmax + cross-entropy)."""

from __future__ import annotations

import numpy as np

from helpers.checks.base import case_rng, gradient_cases, pick_key, run_cases, sigmoid64
from helpers.gradcheck import numerical_gradient

__all__ = ["check_seed002_bp1", "check_seed002_output_grads", "check_seed002_bp2", "check_seed002_shared_grads",
           "check_seed003_param_count", "check_seed003_upsample_error", "check_seed003_conv2_grads",
           "check_seed003_backward"]


def _seed002_cost(z, y, cost):
    a = sigmoid64(z)
    if cost == "quadratic":
        return float(0.5 * np.sum((a - y) ** 2))
    return float(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)))


def check_seed002_bp1(fn, hidden: bool = False) -> bool:
    """Exercise 07.1: ``fn(a3, y, cost) -> delta3``, seed 002's BP1 for ten sigmoid outputs.

    ``a3 = sigmoid(z3)`` (10,), ``y`` one-hot (10,), ``cost`` "quadratic"
    (``C = 1/2 sum (a3 - y)^2``) or "cross_entropy" (``C = -sum [y ln a3 + (1-y) ln(1-a3)]``).
    Expected: central differences of C with respect to ``z3``. ``hidden=True``: other numbers.
    """
    rng = case_rng(701, hidden)
    cases = []
    for label, scale in ([("outputs with |z3| up to 3", 3.0)] if hidden else
                         [("moderate outputs", 1.0), ("saturated outputs (|z3| up to 6)", 6.0)]):
        z = rng.uniform(-scale, scale, 10)
        y = np.zeros(10)
        y[rng.integers(10)] = 1.0
        for cost in ("quadratic", "cross_entropy"):
            zw = z.copy()
            expected = numerical_gradient(lambda zw=zw, y=y, cost=cost: _seed002_cost(zw, y, cost), zw)
            a = sigmoid64(z)
            cases.append((f"{cost}, {label}", lambda a=a, y=y, cost=cost: fn(a.copy(), y.copy(), cost), expected))
    return run_cases("check_seed002_bp1: delta3 = dC/dz3 for either cost", cases, atol=1e-7, hidden=hidden)


def check_seed002_output_grads(fn, hidden: bool = False) -> bool:
    """Exercise 07.2: ``fn(delta3, a2) -> (dw3, db3)``, seed 002's BP4 and BP3 for the output layer.

    ``delta3`` (10,), ``a2`` the pooled map (12, 12); ``dw3`` (10, 12, 12) with
    ``dw3[l, j, k] = a2[j, k] delta3[l]`` and ``db3 = delta3``. Expected: central differences of
    ``sum_l delta3[l] z3[l]`` (whose gradient is exactly that), ``z3 = b3 + sum w3 a2``.
    ``hidden=True``: other numbers.
    """
    rng = case_rng(702, hidden)
    cases = []
    maps = [("a random pooled map", rng.random((12, 12)))] + ([] if hidden else [
        ("a map with one bright cell", np.eye(12)[3:4].T @ np.eye(12)[7:8])])
    for label, a2 in maps:
        delta3 = rng.normal(0, 0.1, 10)
        w3, b3 = rng.normal(size=(10, 12, 12)), rng.normal(size=10)

        def lin(w3=w3, b3=b3, a2=a2, delta3=delta3):
            return float(delta3 @ (b3 + np.einsum("ljk,jk->l", w3, a2)))

        expected = (numerical_gradient(lin, w3), numerical_gradient(lin, b3))
        cases += gradient_cases(fn, label, (delta3, a2), expected, ("dw3", "db3"))
    return run_cases("check_seed002_output_grads: dC/dw3[l,j,k] = a2[j,k] delta3[l], dC/db3 = delta3", cases,
                     atol=1e-7, hidden=hidden)


def check_seed002_bp2(fn, hidden: bool = False) -> bool:
    """Exercise 07.3: ``fn(dC_da2, a1) -> delta1``, seed 002's modified BP2.

    ``dC_da2`` (12, 12) is ``sum_l delta3[l] w3[l, j, k]``; ``a1 = sigmoid(z1)`` (24, 24). Each
    2x2 window passes its error to its maximum (at a tie: the first maximum in row-major order),
    which multiplies it by ``sigma'(z1) = a1 (1 - a1)``; the other three entries get 0.
    Expected values from :func:`helpers.pooling.maxpool_backward`. ``hidden=True``: other numbers.
    """
    from helpers.pooling import maxpool_backward, maxpool_forward

    rng = case_rng(703, hidden)
    smooth = sigmoid64(rng.normal(size=(24, 24)))
    background = np.full((24, 24), sigmoid64(np.array(-0.3)))       # MNIST-like: most windows tie
    background[6:18, 9:14] = sigmoid64(rng.normal(size=(12, 5)))
    flat = np.full((24, 24), 0.5)
    cases = []
    for label, a1 in ([("no ties", smooth), ("a zero background: most windows tie", background)] if hidden else
                      [("no ties", smooth), ("a zero background: most windows tie", background),
                       ("a constant map: every window ties", flat)]):
        d = rng.normal(size=(12, 12))
        expected = maxpool_backward(d, maxpool_forward(a1, 2, 2)[1]) * a1 * (1 - a1)
        cases.append((label, lambda d=d, a1=a1: fn(d.copy(), a1.copy()), expected))
    return run_cases("check_seed002_bp2: delta1 = routed error times sigma'(z1)", cases, atol=1e-12, hidden=hidden)


def check_seed002_shared_grads(fn, hidden: bool = False) -> bool:
    """Exercise 07.4: ``fn(delta1, a0) -> (dw1, db1)``, seed 002's BP4 and BP3 for the shared
    kernel and bias: ``dw1[l, m] = sum_{j,k} delta1[j, k] a0[j+l, k+m]`` (5, 5) and
    ``db1 = sum_{j,k} delta1[j, k]`` (a number). ``delta1`` (24, 24), ``a0`` (28, 28).
    Expected: central differences of ``sum delta1 * z1`` with ``z1 = b1 + a0 (corr) w1``.
    ``hidden=True``: other numbers.
    """
    rng = case_rng(704, hidden)
    a0 = rng.random((28, 28))
    one = np.zeros((24, 24))
    one[(20, 2) if hidden else (5, 17)] = 1.0
    cases = []
    for label, delta1 in [("a random error map", rng.normal(size=(24, 24))),
                          ("one non-zero error: dw1 is the input patch it saw", one)] + ([] if hidden else [
                          ("an error of 1 everywhere", np.ones((24, 24)))]):
        w1, b1 = rng.normal(size=(5, 5)), np.array([0.1])

        def lin(w1=w1, b1=b1, delta1=delta1):
            z1 = b1[0] + sum(w1[l, m] * a0[l:l + 24, m:m + 24] for l in range(5) for m in range(5))
            return float(np.sum(delta1 * z1))

        expected = (numerical_gradient(lin, w1), float(numerical_gradient(lin, b1)[0]))
        cases += gradient_cases(fn, label, (delta1, a0), expected, ("dw1", "db1"))
    return run_cases("check_seed002_shared_grads: sums over all 24x24 positions", cases, atol=1e-6, hidden=hidden)


def check_seed003_param_count(fn, hidden: bool = False) -> bool:
    """Exercise 08.1: ``fn(maps1, maps2, hidden) -> int``, the trainable numbers of seed 003's
    architecture with other sizes: 28x28 input, ``maps1`` maps of 5x5, 2x2 pooling, ``maps2``
    maps of 5x5 (one kernel per pair of maps), 2x2 pooling, flatten, ``hidden`` units, 10
    outputs, one bias per map or unit. Expected: the sizes of zero arrays of those shapes.
    ``hidden=True``: other sizes.
    """
    cases = []
    for m1, m2, h in ([(2, 3, 20), (5, 7, 64)] if hidden else [(4, 6, 50), (6, 12, 50), (1, 1, 10), (8, 16, 100)]):
        shapes = [(1, m1, 5, 5), (m1,), (m1, m2, 5, 5), (m2,), (h, m2 * 16), (h,), (10, h), (10,)]
        expected = int(sum(np.zeros(s).size for s in shapes))
        cases.append((f"{m1} and {m2} maps, {h} hidden units", lambda m1=m1, m2=m2, h=h: fn(m1, m2, h), expected))
    return run_cases("check_seed003_param_count: kernels, biases and two dense layers", cases, hidden=hidden)


def check_seed003_upsample_error(fn, hidden: bool = False) -> bool:
    """Exercise 08.2: ``fn(dP, C) -> dC_sigma``: the error on a pooled layer ``dP`` (K, h, w)
    back through 2x2 average pooling and the sigmoid, ``C`` (K, 2h, 2w) the sigmoid's output:
    ``dC_sigma(i, j) = 1/4 dP(ceil(i/2), ceil(j/2)) * C(i, j) (1 - C(i, j))`` (seed 003's
    delta C^2_n and delta C^1_m). Expected from :func:`helpers.pooling.avgpool_backward`.
    ``hidden=True``: other sizes.
    """
    from helpers.pooling import avgpool_backward, avgpool_forward

    rng = case_rng(802, hidden)
    cases = []
    for label, k, h in ([("3 maps, 2x2 -> 4x4", 3, 2), ("2 maps, 6x6 -> 12x12", 2, 6)] if hidden else
                        [("delta C^2: 6 maps, 4x4 -> 8x8", 6, 4), ("delta C^1: 4 maps, 12x12 -> 24x24", 4, 12)]):
        C = sigmoid64(rng.normal(size=(k, 2 * h, 2 * h)))
        dP = rng.normal(size=(k, h, h))
        expected = avgpool_backward(dP, avgpool_forward(C, 2)[1]) * C * (1 - C)
        cases.append((label, lambda dP=dP, C=C: fn(dP.copy(), C.copy()), expected))
    return run_cases("check_seed003_upsample_error: 1/4 upsampling times f'", cases, atol=1e-12, hidden=hidden)


def check_seed003_conv2_grads(fn, hidden: bool = False) -> bool:
    """Exercise 08.3: ``fn(C1P, dC2_sigma) -> (dK2, db2)`` for seed 003's second layer.

    ``C1P`` (4, 12, 12) pooled maps, ``dC2_sigma`` (6, 8, 8) the error before the activation;
    the layer is ``C2_sigma[n] = sum_m C1P[m] * K2[m, n] + b2[n]`` with ``*`` the valid TRUE
    convolution (seed 003, Zhang eq. 8). Expected: central differences of
    ``sum dC2_sigma * C2_sigma``: ``dK2`` (4, 6, 5, 5) and ``db2`` (6,). ``hidden=True``: other sizes.
    """
    from helpers.convolution import conv_forward

    rng = case_rng(803, hidden)
    cases = []
    for label, (m, n, size) in ([("3 maps 9x9 -> 2 maps 5x5", (3, 2, 9))] if hidden else
                                [("seed 003's sizes: 4 maps 12x12 -> 6 maps 8x8", (4, 6, 12)),
                                 ("2 maps 7x7 -> 3 maps 3x3", (2, 3, 7))]):
        C1P = rng.random((m, size, size))
        dz = rng.normal(size=(n, size - 4, size - 4))
        K2, b2 = rng.normal(0, 0.2, (m, n, 5, 5)), rng.normal(size=n)

        def lin(C1P=C1P, dz=dz, K2=K2, b2=b2):
            z, _ = conv_forward(C1P[None], K2, b2, convention="convolution")
            return float(np.sum(dz * z[0]))

        expected = (numerical_gradient(lin, K2), numerical_gradient(lin, b2))
        cases += gradient_cases(fn, label, (C1P, dz), expected, ("dK2", "db2"))
    return run_cases("check_seed003_conv2_grads: dK2 = rot180(C1P) * dC2_sigma, db2 = sum", cases, atol=1e-6,
                     hidden=hidden)


def check_seed003_backward(fn, hidden: bool = False) -> bool:
    """Exercise 08.4: ``fn(params, x, y) -> grads``, the whole backward pass of seed 003's
    network (f = sigmoid) for one image ``x`` (28, 28) with label ``y`` (an int): a dict with the
    eight keys of :data:`helpers.softmax_net.PARAM_SHAPES`. Expected values from
    :func:`helpers.softmax_net.backward` (itself tested against finite differences).
    ``hidden=True``: another initialisation, image and label.
    """
    from helpers import softmax_net

    rng = case_rng(804, hidden)
    cases = []
    for label, seed, biases in ([("another initialisation, random biases", 2, True)] if hidden else
                                [("the initialisation as printed (biases zero)", 0, False), ("random biases", 1, True)]):
        params = softmax_net.init_params(seed)
        if biases:
            for key in ("b1", "b2", "b_1", "b_2"):
                params[key] = rng.uniform(-0.3, 0.3, params[key].shape)
        x = rng.random((28, 28)) * (rng.random((28, 28)) < 0.3)
        y = int(rng.integers(10))
        expected = softmax_net.backward(params, softmax_net.forward(params, x), y)
        for key in softmax_net.PARAM_SHAPES:
            cases.append((f"{label}: {key}",
                          lambda params=params, x=x, y=y, key=key: pick_key(fn(dict(params), x.copy(), y), key),
                          expected[key]))
    return run_cases("check_seed003_backward: all eight gradients", cases, atol=1e-10, hidden=hidden)
