"""Checks for notebooks 01 and 05: convolution, cross-correlation, the seeds' indices (01) and
the gradients of the convolution layers (05, Zhang eqs. 33-64)."""

from __future__ import annotations

import numpy as np

from helpers.checks.base import case_rng, gradient_cases, leaves_inputs_alone, run_cases, sigmoid64
from helpers.gradcheck import numerical_gradient

__all__ = ["check_convolve2d", "check_output_size", "check_conv_input_gradient", "check_conv_kernel_gradient",
           "check_zhang_index", "check_conv_kernel_grad", "check_full_conv_input_grad", "check_bias_grad",
           "check_layer1_grads"]


def check_convolve2d(student_fn, hidden: bool = False) -> bool:
    """Exercise 01.1: ``student_fn(x, k)`` is the valid TRUE convolution (Zhang eq. 5, with the
    +2 offset made explicit), shape ``(H - kh + 1, W - kw + 1)``.

    Compared with :func:`helpers.convolution.convolve2d` (sliding windows with ``rot180(k)``).
    ``hidden=True`` runs other sizes and numbers (the hidden cases of an nbgrader test cell).
    """
    from helpers.convolution import convolve2d, correlate2d

    rng = case_rng(101, hidden)
    sizes = [("9x7 input, 4x2 kernel", (9, 7), (4, 2)), ("6x6 input, 3x3 kernel", (6, 6), (3, 3)),
             ("3x8 input, 3x5 kernel", (3, 8), (3, 5))] if hidden else [
             ("28x28 input, 5x5 kernel (layer C1)", (28, 28), (5, 5)),
             ("7x9 input, 3x3 kernel (not square)", (7, 9), (3, 3)),
             ("6x6 input, 2x3 kernel (even, not square)", (6, 6), (2, 3)),
             ("4x4 input, 1x1 kernel", (4, 4), (1, 1)),
             ("5x5 input, 5x5 kernel (one output)", (5, 5), (5, 5))]
    cases = []
    for name, xs, ks in sizes:
        x, k = rng.standard_normal(xs), rng.standard_normal(ks)
        cases.append((name, lambda x=x, k=k: student_fn(x.copy(), k.copy()), convolve2d(x, k),
                      {"kernel not flipped: this is cross-correlation (rot180 forgotten)": correlate2d(x, k)}))
    return run_cases("check_convolve2d: valid true convolution", cases, hidden=hidden)


def check_output_size(student_fn, hidden: bool = False) -> bool:
    """Exercise 01.2: ``student_fn(n, f, p, s)`` is the output length of a convolution with an
    n-long input, an f-long kernel, padding p and stride s (seed 004, slide 2.1).

    The expected length is measured by running :func:`helpers.convolution.correlate2d` on an
    input of that size, not computed from the formula. ``hidden=True``: other sizes.
    """
    from helpers.convolution import correlate2d

    cases = []
    settings = [(20, 3, 1, 2), (9, 4, 0, 1), (15, 5, 2, 2), (11, 3, 0, 4)] if hidden else [
        (28, 5, 0, 1), (12, 5, 0, 1), (2, 2, 1, 1), (8, 5, 4, 1), (7, 3, 1, 2),
        (6, 3, 0, 2), (32, 3, 1, 1), (5, 5, 0, 3), (10, 4, 2, 3)]
    for n, f, p, s in settings:
        measured = correlate2d(np.zeros((n, n)), np.ones((f, f)), stride=s, padding=p).shape[0]
        cases.append((f"n={n}, f={f}, p={p}, s={s}", lambda n=n, f=f, p=p, s=s: student_fn(n, f, p, s),
                      int(measured)))
    return run_cases("check_output_size: floor((n + 2p - f) / s) + 1", cases, hidden=hidden)


def _conv_layer_grads(a, w, delta):
    """Gradients of J = sum(delta * correlate(a, w)) for one map: (dJ/da, dJ/dw)."""
    from helpers.convolution import conv_backward, conv_forward

    _, cache = conv_forward(a[None, None], w[None, None], np.zeros(1))
    dx, dk, _ = conv_backward(delta[None, None], cache)
    return dx[0, 0], dk[0, 0]


def _conv_grad_cases(rng, hidden):
    out = []
    shapes = [("4x5 input, 2x2 kernel", (4, 5), (2, 2)), ("8x8 input, 3x3 kernel", (8, 8), (3, 3)),
              ("6x4 input, 4x1 kernel", (6, 4), (4, 1))] if hidden else [
              ("seed 004's example: 3x3 input, 2x2 kernel", (3, 3), (2, 2)),
              ("28x28 input, 5x5 kernel", (28, 28), (5, 5)),
              ("5x6 input, 2x3 kernel (not square)", (5, 6), (2, 3)),
              ("3x3 input, 3x3 kernel (1x1 error)", (3, 3), (3, 3))]
    for name, a_shape, w_shape in shapes:
        a, w = rng.standard_normal(a_shape), rng.standard_normal(w_shape)
        delta = rng.standard_normal((a_shape[0] - w_shape[0] + 1, a_shape[1] - w_shape[1] + 1))
        out.append((name, a, w, delta))
    return out


def _conv_gradient_check(title, seed, which, call, hidden, mistake):
    """Run ``call(a, w, delta)`` on the cases of :func:`_conv_grad_cases` (drawn with ``seed``) against
    gradient ``which`` of :func:`_conv_layer_grads` (0: dJ/da, 1: dJ/dw); ``mistake`` is
    ``(description, f(a, w, delta))``, the wrong answer a hint names."""
    cases = []
    for name, a, w, delta in _conv_grad_cases(case_rng(seed, hidden), hidden):
        expected = _conv_layer_grads(a, w, delta)[which]
        cases.append((name, lambda a=a, w=w, d=delta: call(a, w, d), expected,
                      {mistake[0]: lambda a=a, w=w, d=delta: mistake[1](a, w, d)}))
    return run_cases(title, cases, hidden=hidden)


def check_conv_input_gradient(student_fn, hidden: bool = False) -> bool:
    """Exercise 01.3: ``student_fn(delta, w)`` returns dJ/da for ``z = a (cross-correlated
    with) w`` (valid), given ``delta = dJ/dz``: the zero-padded delta correlated with
    ``rot180(w)`` (seed 004, slide 2.2.1). Shape of ``a``: ``delta.shape + w.shape - 1``.

    Compared with :func:`helpers.convolution.conv_backward`. ``hidden=True``: other sizes.
    """
    from helpers.convolution import correlate2d

    def unflipped(a, w, d):
        return correlate2d(np.pad(d, ((w.shape[0] - 1,) * 2, (w.shape[1] - 1,) * 2)), w)

    return _conv_gradient_check("check_conv_input_gradient: dJ/da = pad(delta) correlated with rot180(w)", 102, 0,
                                lambda a, w, d: student_fn(d.copy(), w.copy()), hidden,
                                ("kernel not flipped: pad(delta) correlated with w (rot180 forgotten)", unflipped))


def check_conv_kernel_gradient(student_fn, hidden: bool = False) -> bool:
    """Exercise 01.4: ``student_fn(a, delta)`` returns dJ/dw for ``z = a (cross-correlated
    with) w`` (valid), given ``delta = dJ/dz``: ``a`` correlated with ``delta`` (seed 004,
    slide 2.3). Compared with :func:`helpers.convolution.conv_backward`. ``hidden=True``: other sizes.
    """
    from helpers.convolution import convolve2d

    return _conv_gradient_check("check_conv_kernel_gradient: dJ/dw = a correlated with delta", 103, 1,
                                lambda a, w, d: student_fn(a.copy(), d.copy()), hidden,
                                ("delta flipped: a convolved with delta where it is correlated",
                                 lambda a, w, d: convolve2d(a, d)))


def check_zhang_index(student_fn, hidden: bool = False) -> bool:
    """Exercise 01.5: ``student_fn(i, j, u, v)`` returns the 0-based ``(row, col)`` of the
    input pixel that Zhang's eq. 5 multiplies with ``k(u, v)`` for the 1-based output
    ``C(i, j)`` of a valid 5x5 convolution of a 28x28 image (u, v in -2..2).

    The expected pixel is found by experiment: a 28x28 image whose pixel (r, c) holds the
    number 28 r + c is convolved (:func:`helpers.convolution.convolve2d`) with a kernel that is
    1 at ``k(u, v)`` and 0 elsewhere; the output at (i, j) is the code of the pixel read.
    ``hidden=True``: other positions.
    """
    from helpers.convolution import convolve2d

    coded = np.arange(28 * 28, dtype=np.float64).reshape(28, 28)
    cases = []
    positions = [(3, 7, 0, 1), (20, 2, 2, -1), (12, 12, -1, -1)] if hidden else [
        (1, 1, 0, 0), (1, 1, 2, 2), (1, 1, -2, -2), (24, 24, -2, -2), (24, 24, 2, 2), (10, 3, 1, -1), (5, 17, -2, 1)]
    for i, j, u, v in positions:
        probe = np.zeros((5, 5))
        probe[u + 2, v + 2] = 1.0
        code = int(round(convolve2d(coded, probe)[i - 1, j - 1]))
        cases.append((f"C({i}, {j}), k({u}, {v})", lambda i=i, j=j, u=u, v=v: tuple(student_fn(i, j, u, v)),
                      tuple(divmod(code, 28))))
    return run_cases("check_zhang_index: Zhang's (i, j, u, v) -> numpy (row, col)", cases, hidden=hidden)


def _case_arrays(rng, n_in, n_out, h, w, kh, kw):
    S = rng.random((n_in, h, w))
    k = rng.uniform(-0.3, 0.3, (n_in, n_out, kh, kw))
    dz = rng.standard_normal((n_out, h - kh + 1, w - kw + 1))
    return S, k, dz


_SIZES = [("Zhang's C2: 6 maps 12x12 -> 12 maps 8x8", (6, 12, 12, 12, 5, 5)),
               ("Zhang's C1: 1 map 28x28 -> 6 maps 24x24", (1, 6, 28, 28, 5, 5)),
               ("seed 004's sizes: 3x3 input, 2x2 kernel", (1, 1, 3, 3, 2, 2)),
               ("2 maps 7x9 -> 3 maps, 3x4 kernels (not square)", (2, 3, 7, 9, 3, 4))]
_INPUT_SIZES = [_SIZES[0],
                     ("3 maps 10x10 -> 2 maps 6x6, 5x5 kernels", (3, 2, 10, 10, 5, 5)),
                     _SIZES[2], _SIZES[3]]
_HIDDEN_SIZES = [("3 maps 9x9 -> 2 maps 6x6, 4x4 kernels", (3, 2, 9, 9, 4, 4)),
                 ("1 map 6x8 -> 2 maps, 3x3 kernels", (1, 2, 6, 8, 3, 3)),
                 ("2 maps 8x7 -> 3 maps, 3x2 kernels", (2, 3, 8, 7, 3, 2))]


def check_conv_kernel_grad(fn, hidden: bool = False) -> bool:
    """Exercise 05.1: ``fn(S, dC_sigma) -> dk``, Zhang eq. 40 for every pair (p, q).

    The layer is ``C_sigma[q] = sum_p S[p] * k[p, q] + b[q]`` with ``*`` the valid TRUE
    convolution (Zhang eq. 8). ``S`` (P, H, W) is the layer's input, ``dC_sigma`` (Q, Ho, Wo)
    the error before the sigmoid; return ``dk`` (P, Q, H - Ho + 1, W - Wo + 1).

    Expected values use only the forward convolution: the loss ``sum(dC_sigma * C_sigma)`` is
    linear in ``k``, so ``dk[p, q, a, b]`` is that loss for the kernel that is 1 at
    ``[p, q, a, b]`` and 0 elsewhere. ``hidden=True``: other sizes and numbers.
    """
    from helpers.convolution import convolve2d

    rng = case_rng(501, hidden)
    cases = []
    for label, (n_in, n_out, h, w, kh, kw) in (_HIDDEN_SIZES if hidden else _SIZES):
        S, _, dz = _case_arrays(rng, n_in, n_out, h, w, kh, kw)
        expected = np.zeros((n_in, n_out, kh, kw))
        for a in range(kh):
            for b in range(kw):
                probe = np.zeros((kh, kw))
                probe[a, b] = 1.0
                response = convolve2d(S, probe)  # (P, Ho, Wo): each input map read by tap (a, b)
                expected[:, :, a, b] = np.einsum("pij,qij->pq", response, dz)
        cases.append((label, lambda S=S, dz=dz: fn(S.copy(), dz.copy()), expected))
    S, _, dz = _case_arrays(rng, 2, 3, 6, 6, 3, 3)
    cases.append(("does not change its inputs", lambda: leaves_inputs_alone(fn, (S, dz)), True))
    return run_cases("check_conv_kernel_grad: dk[p, q] = rot180(S[p]) * dC_sigma[q] (Zhang eq. 40)",
                     cases, atol=1e-10, hidden=hidden)


def check_full_conv_input_grad(fn, hidden: bool = False) -> bool:
    """Exercise 05.2: ``fn(dC_sigma, k) -> dS``, Zhang eq. 51: the error on the layer's input.

    Same layer as :func:`check_conv_kernel_grad`; ``dC_sigma`` (Q, Ho, Wo), ``k``
    (P, Q, kh, kw); return ``dS`` (P, Ho + kh - 1, Wo + kw - 1), the sum over q of the FULL
    convolution of ``dC_sigma[q]`` with ``rot180(k[p, q])``. Expected values: the loss
    ``sum(dC_sigma * C_sigma)`` is linear in ``S``, so ``dS[p, m, n]`` is that loss for the input
    that is 1 at ``[p, m, n]`` and 0 elsewhere (forward convolution only). The hint for a
    forgotten rot180 compares with the same computation for the rotated kernels.
    ``hidden=True``: other sizes and numbers.
    """
    from helpers.convolution import convolve2d

    def by_probes(k, dz, h, w):
        probes = np.eye(h * w).reshape(h * w, h, w)  # probe m*w + n is 1 at pixel (m, n)
        out = np.zeros((k.shape[0], h, w))
        for p in range(k.shape[0]):
            for q in range(k.shape[1]):  # map p reaches output q through k[p, q] only
                response = convolve2d(probes, k[p, q])  # (h*w, Ho, Wo)
                out[p] += np.einsum("mij,ij->m", response, dz[q]).reshape(h, w)
        return out

    rng = case_rng(502, hidden)
    cases = []
    for label, (n_in, n_out, h, w, kh, kw) in (_HIDDEN_SIZES if hidden else _INPUT_SIZES):
        _, k, dz = _case_arrays(rng, n_in, n_out, h, w, kh, kw)
        cases.append((label, lambda k=k, dz=dz: fn(dz.copy(), k.copy()), by_probes(k, dz, h, w),
                      {"kernel not flipped (rot180 forgotten)":
                       lambda k=k, dz=dz, h=h, w=w: by_probes(k[..., ::-1, ::-1], dz, h, w)}))
    return run_cases("check_full_conv_input_grad: dS[p] = sum_q full(dC_sigma[q] * rot180(k[p, q])) "
                     "(Zhang eq. 51)", cases, atol=1e-10, hidden=hidden)


def check_bias_grad(fn, hidden: bool = False) -> bool:
    """Exercise 05.3: ``fn(dC, C) -> db``, Zhang eqs. 37 and 41-45.

    ``C = sigmoid(C_sigma)`` (Q, H, W) is a layer's output and ``dC`` (Q, H, W) the error on it
    (after the sigmoid, as Zhang's eq. 32 delivers it). Return ``db`` (Q,), the gradient of
    ``L = sum(dC * C)`` with respect to the biases ``b[q]`` added inside the sigmoid. Expected
    values: central finite differences of L in ``b``. ``hidden=True``: other sizes and numbers.
    """
    rng = case_rng(503, hidden)
    cases = []
    settings = [("4 maps 6x6", (4, 6, 6), 1.0), ("2 maps 3x7, |C_sigma| up to 6", (2, 3, 7), 6.0)] if hidden else [
        ("Zhang's C2: 12 maps 8x8", (12, 8, 8), 1.0), ("Zhang's C1: 6 maps 24x24", (6, 24, 24), 1.0),
        ("saturated sigmoids (|C_sigma| up to 12)", (3, 4, 5), 12.0)]
    for label, shape, scale in settings:
        z = rng.uniform(-scale, scale, shape)
        C = sigmoid64(z)
        dC = rng.standard_normal(shape)
        b = np.zeros(shape[0])
        expected = numerical_gradient(lambda: float(np.sum(dC * sigmoid64(z + b[:, None, None]))), b, h=1e-5)
        cases.append((label, lambda dC=dC, C=C: fn(dC.copy(), C.copy()), expected))
    return run_cases("check_bias_grad: db[q] = sum_ij dC[q] C[q] (1 - C[q]) (Zhang eqs. 37, 45)",
                     cases, atol=1e-8, hidden=hidden)


def check_layer1_grads(fn, hidden: bool = False) -> bool:
    """Exercise 05.4: ``fn(x, C1, dS1) -> (dk1, db1)``, Zhang eqs. 52-64 in one function.

    ``x`` (28, 28) is the image, ``C1`` (6, 24, 24) the output of layer C1
    (``sigmoid(x * k1[p] + b1[p])``, valid true convolution) and ``dS1`` (6, 12, 12) the error on
    the pooled maps S1 (2x2 average pooling). Return ``dk1`` (6, 5, 5) and ``db1`` (6,): upsample
    (eq. 52), multiply by the sigmoid's derivative (eq. 57), then eqs. 59 and 64. Expected
    values: central finite differences of ``L = sum(dS1 * S1)`` with respect to ``k1`` and
    ``b1``, recomputing S1 from x with the forward convolution and pooling.
    ``hidden=True``: another image and other numbers.
    """
    from helpers.convolution import convolve2d
    from helpers.data import load_mnist_5k
    from helpers.pooling import avgpool_forward

    images, _ = load_mnist_5k()
    rng = case_rng(504, hidden)
    cases = []
    images_used = [("MNIST-5k image 3000", 3000, 0.5)] if hidden else [
        ("MNIST-5k image 1500 (a 3)", 1500, 0.3), ("MNIST-5k image 0 with larger kernels", 0, 1.0)]
    for label, index, scale in images_used:
        x = images[index] / 255.0
        k1 = rng.uniform(-scale, scale, (6, 5, 5))
        b1 = rng.uniform(-0.5, 0.5, 6)
        dS1 = rng.standard_normal((6, 12, 12))

        def loss(k1=k1, b1=b1, x=x, dS1=dS1):
            C1 = sigmoid64(np.stack([convolve2d(x, k1[p]) for p in range(6)]) + b1[:, None, None])
            return float(np.sum(dS1 * avgpool_forward(C1)[0]))

        C1 = sigmoid64(np.stack([convolve2d(x, k1[p]) for p in range(6)]) + b1[:, None, None])
        expected = (numerical_gradient(loss, k1), numerical_gradient(loss, b1))
        cases += gradient_cases(fn, label, (x, C1, dS1), expected, ("dk1", "db1"))
    return run_cases("check_layer1_grads: dS1 -> dC1 -> dC1_sigma -> dk1, db1 (Zhang eqs. 52-64)",
                     cases, atol=1e-7, hidden=hidden)
