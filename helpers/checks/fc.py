"""Checks for notebook 03: gradients of the fully connected layer (Zhang eqs. 14-30), seed 003's
softmax and dense head, and F^{-1} applied to every row of Delta W."""

from __future__ import annotations

import numpy as np

from helpers.checks.base import case_rng, gradient_cases, leaves_inputs_alone, log_softmax64, run_cases, sigmoid64
from helpers.flatten import column_unscan
from helpers.gradcheck import numerical_gradient

__all__ = ["check_fc_backward", "check_fc_backward_batch", "check_softmax_ce_delta", "check_fold_rows",
           "check_dense_head_backward"]


def _fc_layer_case(rng, n_out, n_in, n_images=None, saturate=False, exact_target=False):
    """A sigmoid layer ``y_hat = sigma(W f + b)`` with targets; gradients of the squared error
    ``1/2 sum (y_hat - y)^2`` (mean over images for a batch) by finite differences."""
    bound = np.sqrt(6.0 / (n_in + n_out))
    W = rng.uniform(-bound, bound, (n_out, n_in))
    b = rng.normal(0.0, 8.0 if saturate else 0.3, n_out)
    f = rng.random((n_images or 1, n_in))
    labels = rng.integers(0, n_out, n_images or 1)
    y = np.zeros((n_images or 1, n_out))
    y[np.arange(len(labels)), labels] = 1.0
    if exact_target:
        y = sigmoid64(f @ W.T + b)

    def mean_loss():
        return float(np.mean(0.5 * np.sum((sigmoid64(f @ W.T + b) - y) ** 2, axis=1)))

    y_hat = sigmoid64(f @ W.T + b)
    expected = (numerical_gradient(mean_loss, W), numerical_gradient(mean_loss, b), numerical_gradient(mean_loss, f))
    if n_images is None:
        return (W, f[0], y_hat[0], y[0]), (expected[0], expected[1], expected[2][0])
    return (W, f, y_hat, y), expected


def check_fc_backward(fn, hidden: bool = False) -> bool:
    """Exercise 03.1: ``fn(W, f, y_hat, y) -> (dW, db, df)`` for one image.

    ``W`` (n_out, n_in), ``f`` (n_in,), ``y_hat = sigmoid(W f + b)`` (n_out,), ``y`` (n_out,);
    loss ``L = 1/2 sum (y_hat - y)^2`` (Zhang eq. 13). Expected: Zhang eqs. 19, 24 and 30,
    i.e. ``dW`` (n_out, n_in), ``db`` (n_out,), ``df`` (n_in,), compared with central finite
    differences of L (computed here, independently of :mod:`helpers.network`).
    ``hidden=True``: other sizes and numbers.
    """
    rng = case_rng(301, hidden)
    names = ("dW", "db", "df")
    cases = []
    layers = [("a 2 x 9 layer", dict(n_out=2, n_in=9)), ("a 7 x 3 layer", dict(n_out=7, n_in=3))] if hidden else [
        ("Zhang's sizes 10 x 192", dict(n_out=10, n_in=192)), ("a 3 x 5 layer", dict(n_out=3, n_in=5)),
        ("saturated outputs (|b| large)", dict(n_out=4, n_in=6, saturate=True)),
        ("y_hat equal to y: all zero", dict(n_out=4, n_in=6, exact_target=True))]
    for label, kwargs in layers:
        args, expected = _fc_layer_case(rng, **kwargs)
        cases += gradient_cases(fn, label, args, expected, names)
    args, _ = _fc_layer_case(rng, 3, 5)
    cases.append(("does not change its inputs", lambda: leaves_inputs_alone(fn, args), True))
    return run_cases("check_fc_backward: dW, db, df of a sigmoid layer with squared error", cases, atol=1e-7,
                     hidden=hidden)


def check_fc_backward_batch(fn, hidden: bool = False) -> bool:
    """Exercise 03.4: ``fn(W, F, Y_hat, Y) -> (dW, db, dF)`` for a batch of N images.

    ``F`` (N, n_in) holds one f per row, ``Y_hat`` and ``Y`` are (N, n_out). The loss is the MEAN
    over the batch of Zhang's eq. 13, as in :func:`helpers.network.backward`. Expected shapes:
    ``dW`` (n_out, n_in), ``db`` (n_out,), ``dF`` (N, n_in); values from finite differences.
    ``hidden=True``: other sizes and numbers.
    """
    rng = case_rng(304, hidden)
    names = ("dW", "db", "dF")
    cases = []
    batches = [("N = 3, a 4 x 6 layer", dict(n_out=4, n_in=6, n_images=3)),
               ("N = 10, a 2 x 3 layer", dict(n_out=2, n_in=3, n_images=10))] if hidden else [
        ("N = 4 images, 10 x 192", dict(n_out=10, n_in=192, n_images=4)),
        ("N = 1 (same as one image)", dict(n_out=10, n_in=192, n_images=1)),
        ("N = 7, a 3 x 5 layer", dict(n_out=3, n_in=5, n_images=7))]
    for label, kwargs in batches:
        args, expected = _fc_layer_case(rng, **kwargs)
        cases += gradient_cases(fn, label, args, expected, names)
    return run_cases("check_fc_backward_batch: gradients of the mean loss over a batch", cases, atol=1e-7,
                     hidden=hidden)


def check_softmax_ce_delta(fn, hidden: bool = False) -> bool:
    """Exercise 03.2: ``fn(z, y) -> delta`` (K,), the gradient of ``L = -sum_i y_i log s_i``
    with ``s = softmax(z)`` with respect to the logits ``z`` (seed 003: ``delta = s - y``).

    ``y`` is a probability vector (one-hot or soft, entries summing to 1). Expected values come
    from finite differences of L, or, for logits too large to difference, from ``exp(log s) - y``
    with a log-sum-exp softmax. The large-logit case fails for a softmax that overflows.
    ``hidden=True``: other sizes and numbers.
    """
    rng = case_rng(302, hidden)
    cases = []
    settings = [("4 classes, one-hot target", 4, False), ("7 classes, soft target summing to 1", 7, True)] if hidden \
        else [("10 classes, one-hot target", 10, False), ("3 classes, one-hot target", 3, False),
              ("5 classes, soft target summing to 1", 5, True)]
    for label, k, soft in settings:
        z = rng.normal(0.0, 2.0, k)
        if soft:
            y = rng.random(k)
            y /= y.sum()
        else:
            y = np.zeros(k)
            y[rng.integers(k)] = 1.0
        work = z.copy()
        expected = numerical_gradient(lambda: float(-np.sum(y * log_softmax64(work))), work)
        cases.append((label, lambda z=z, y=y: fn(z.copy(), y.copy()), expected))
    z_big = np.array([-800.0, 0.0, 750.0, 749.5]) if hidden else np.array([1000.0, 0.0, -1000.0, 999.0])
    y_big = np.array([0.0, 1.0, 0.0, 0.0]) if hidden else np.array([0.0, 0.0, 1.0, 0.0])
    shown = ", ".join(f"{v:g}" for v in z_big)
    cases.append((f"huge logits ({shown}): no overflow",
                  lambda: fn(z_big.copy(), y_big.copy()), np.exp(log_softmax64(z_big)) - y_big))
    return run_cases("check_softmax_ce_delta: dL/dz of softmax + cross-entropy", cases, atol=1e-7, hidden=hidden)


def check_fold_rows(fn, hidden: bool = False) -> bool:
    """Exercise 03.3: ``fn(M) -> maps``, every row of ``M`` (n, 192) folded back by F^{-1}.

    F (Zhang eq. 10) scans each 4x4 map of S2 column by column and concatenates the 12 maps;
    so ``maps`` has shape (n, 12, 4, 4) with ``maps[i, q, r, c] = M[i, 16 q + 4 c + r]``
    (0-based). One case folds the ``f`` of a real forward pass and expects that pass's ``S2``.
    ``hidden=True``: other numbers and another number of rows.
    """
    from helpers import network  # the seed network, imported here to keep this module light

    rng = case_rng(303, hidden)
    ramp = np.arange(192.0)[None, :]
    random_rows = rng.normal(size=(3 if hidden else 10, 192))
    params = network.init_params(0)
    cache = network.forward(params, rng.random((28, 28)))
    cases = [
        (f"a random {len(random_rows)} x 192 matrix (a Delta W)", lambda: fn(random_rows.copy()),
         column_unscan(random_rows, 12, 4)),
        ("f of a forward pass folds back into its S2", lambda: fn(cache["f"][None, :].copy()), cache["S2"][None]),
    ]
    if not hidden:
        cases.insert(0, ("the ramp 0..191: order of the column scan", lambda: fn(ramp.copy()),
                         column_unscan(ramp, 12, 4)))
    return run_cases("check_fold_rows: F^-1 applied to every row", cases, atol=1e-12, hidden=hidden)


def check_dense_head_backward(fn, hidden: bool = False) -> bool:
    """Exercise 03.5: ``fn(W1, b1, W2, b2, a0, y) -> (dW1, db1, dW2, db2)`` for seed 003's head.

    Forward: ``a1 = sigmoid(W1 a0 + b1)``, ``s = softmax(W2 a1 + b2)``, loss
    ``L = -sum_i y_i log s_i``. Shapes: ``W1`` (H, D), ``b1`` (H,), ``W2`` (K, H), ``b2`` (K,),
    ``a0`` (D,), ``y`` (K,) one-hot; seed 003 has D = 96, H = 50, K = 10. Expected gradients
    (same shapes as the parameters) come from central finite differences of L.
    ``hidden=True``: other sizes and numbers.
    """
    rng = case_rng(305, hidden)
    names = ("dW1", "db1", "dW2", "db2")
    cases = []
    heads = [("a 6 -> 5 -> 4 head", (6, 5, 4))] if hidden else [
        ("seed 003's sizes 96 -> 50 -> 10", (96, 50, 10)), ("a 4 -> 3 -> 2 head", (4, 3, 2))]
    for label, (d, h, k) in heads:
        W1 = rng.uniform(-1, 1, (h, d)) * np.sqrt(6.0 / (d + h))
        b1 = rng.normal(0.0, 0.1, h)
        W2 = rng.uniform(-1, 1, (k, h)) * np.sqrt(6.0 / (h + k))
        b2 = rng.normal(0.0, 0.1, k)
        a0 = rng.random(d)
        y = np.zeros(k)
        y[rng.integers(k)] = 1.0

        def loss():
            z2 = W2 @ sigmoid64(W1 @ a0 + b1) + b2
            return float(-np.sum(y * log_softmax64(z2)))

        expected = [numerical_gradient(loss, arr) for arr in (W1, b1, W2, b2)]
        cases += gradient_cases(fn, label, (W1, b1, W2, b2, a0, y), expected, names)
    return run_cases("check_dense_head_backward: seed 003's hidden layer and softmax output", cases, atol=1e-7,
                     hidden=hidden)
