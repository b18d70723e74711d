"""Self-checks for the exercises at the end of each notebook.

A student writes a function; ``check_<thing>(their_function)`` runs it on a few cases against an
independent computation from :mod:`helpers` and prints one line per case, ``pass`` or what went
wrong. Each check returns ``True`` when every case passes, so a notebook can also ``assert`` it.

All checks share :func:`run_cases`; a check only has to say what the cases are.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .gradcheck import numerical_gradient


def run_cases(title: str, cases: Iterable[tuple[str, Callable[[], object], object]], atol: float = 1e-8) -> bool:
    """Run ``(name, compute, expected)`` cases and print one line each.

    ``compute()`` calls the student's function; its result is compared with ``expected``
    (arrays by shape and ``max |difference| <= atol``, anything else by ``==``). An exception
    counts as a failure and its type and message are printed instead of a traceback.

    A function that still raises ``NotImplementedError`` (the stub of the student edition, made
    by ``scripts/make_student_edition.py``) is not graded case by case: the check prints the one
    line ``<title>: not implemented yet`` and returns False.
    """
    lines = [title]
    passed = total = 0
    for name, compute, expected in cases:
        total += 1
        try:
            got = compute()
        except NotImplementedError:
            print(f"{title.split(':')[0]}: not implemented yet")
            return False
        except Exception as exc:  # the student's code may raise anything
            lines.append(f"  FAIL  {name}: raised {type(exc).__name__}: {exc}")
            continue
        ok, why = _compare(got, expected, atol)
        passed += ok
        lines.append(f"  {'pass' if ok else 'FAIL'}  {name}" + ("" if ok else f": {why}"))
    lines.append(f"{passed} of {total} cases pass")
    print("\n".join(lines))
    return passed == total


def _compare(got, expected, atol):
    if isinstance(expected, (np.ndarray, list, tuple)) and not isinstance(expected, str):
        exp = np.asarray(expected)
        try:
            arr = np.asarray(got, dtype=np.float64) if exp.dtype.kind in "fiub" else np.asarray(got)
        except (TypeError, ValueError):
            return False, f"expected an array of shape {exp.shape}, got {type(got).__name__}"
        if arr.shape != exp.shape:
            return False, f"shape {arr.shape}, expected {exp.shape}"
        if exp.dtype.kind in "fiub":
            err = float(np.max(np.abs(arr - exp))) if exp.size else 0.0
            return (err <= atol), f"max |difference| = {err:.2e}"
        return bool(np.array_equal(arr, exp)), "values differ"
    if isinstance(expected, float):
        try:
            err = abs(float(got) - expected)
        except (TypeError, ValueError):
            return False, f"expected a number, got {type(got).__name__}"
        return err <= atol, f"|difference| = {err:.2e}"
    return got == expected, f"got {got!r}, expected {expected!r}"


# --------------------------------------------------------------------------------------------
# Notebook 03: gradients of the fully connected layer (Zhang eqs. 14-30, seed 003's softmax)
# --------------------------------------------------------------------------------------------


def _sigmoid64(z):
    return 1.0 / (1.0 + np.exp(-z))


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
        y = _sigmoid64(f @ W.T + b)

    def mean_loss():
        return float(np.mean(0.5 * np.sum((_sigmoid64(f @ W.T + b) - y) ** 2, axis=1)))

    y_hat = _sigmoid64(f @ W.T + b)
    expected = (numerical_gradient(mean_loss, W), numerical_gradient(mean_loss, b), numerical_gradient(mean_loss, f))
    if n_images is None:
        return (W, f[0], y_hat[0], y[0]), (expected[0], expected[1], expected[2][0])
    return (W, f, y_hat, y), expected


def _pick(result, k, names):
    """Entry ``k`` of a student's ``(dW, db, df)`` result, with a clear error if it is not a triple."""
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        raise TypeError(f"the function must return a tuple {tuple(names)}, got {type(result).__name__}"
                        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
    return result[k]


def _gradient_cases(fn, label, args, expected, names):
    """One case per returned array; the inputs are copied for every call."""
    cases = []
    for k, name in enumerate(names):
        def compute(k=k):
            return _pick(fn(*[np.array(a, copy=True) for a in args]), k, names)
        cases.append((f"{label}: {name}", compute, expected[k]))
    return cases


def _leaves_inputs_alone(fn, args):
    copies = [np.array(a, copy=True) for a in args]
    fn(*copies)
    return all(np.array_equal(c, a) for c, a in zip(copies, args))


def check_fc_backward(fn) -> bool:
    """Exercise 03.1: ``fn(W, f, y_hat, y) -> (dW, db, df)`` for one image.

    ``W`` (n_out, n_in), ``f`` (n_in,), ``y_hat = sigmoid(W f + b)`` (n_out,), ``y`` (n_out,);
    loss ``L = 1/2 sum (y_hat - y)^2`` (Zhang eq. 13). Expected: Zhang eqs. 19, 24 and 30,
    i.e. ``dW`` (n_out, n_in), ``db`` (n_out,), ``df`` (n_in,), compared with central finite
    differences of L (computed here, independently of :mod:`helpers.network`).
    """
    rng = np.random.default_rng(301)
    names = ("dW", "db", "df")
    cases = []
    for label, kwargs in [("Zhang's sizes 10 x 192", dict(n_out=10, n_in=192)),
                          ("a 3 x 5 layer", dict(n_out=3, n_in=5)),
                          ("saturated outputs (|b| large)", dict(n_out=4, n_in=6, saturate=True)),
                          ("y_hat equal to y: all zero", dict(n_out=4, n_in=6, exact_target=True))]:
        args, expected = _fc_layer_case(rng, **kwargs)
        cases += _gradient_cases(fn, label, args, expected, names)
    args, _ = _fc_layer_case(rng, 3, 5)
    cases.append(("does not change its inputs", lambda: _leaves_inputs_alone(fn, args), True))
    return run_cases("check_fc_backward: dW, db, df of a sigmoid layer with squared error", cases, atol=1e-7)


def check_fc_backward_batch(fn) -> bool:
    """Exercise 03.4: ``fn(W, F, Y_hat, Y) -> (dW, db, dF)`` for a batch of N images.

    ``F`` (N, n_in) holds one f per row, ``Y_hat`` and ``Y`` are (N, n_out). The loss is the MEAN
    over the batch of Zhang's eq. 13, as in :func:`helpers.network.backward`. Expected shapes:
    ``dW`` (n_out, n_in), ``db`` (n_out,), ``dF`` (N, n_in); values from finite differences.
    """
    rng = np.random.default_rng(304)
    names = ("dW", "db", "dF")
    cases = []
    for label, kwargs in [("N = 4 images, 10 x 192", dict(n_out=10, n_in=192, n_images=4)),
                          ("N = 1 (same as one image)", dict(n_out=10, n_in=192, n_images=1)),
                          ("N = 7, a 3 x 5 layer", dict(n_out=3, n_in=5, n_images=7))]:
        args, expected = _fc_layer_case(rng, **kwargs)
        cases += _gradient_cases(fn, label, args, expected, names)
    return run_cases("check_fc_backward_batch: gradients of the mean loss over a batch", cases, atol=1e-7)


def _log_softmax64(z):
    shifted = z - z.max()
    return shifted - np.log(np.exp(shifted).sum())


def check_softmax_ce_delta(fn) -> bool:
    """Exercise 03.2: ``fn(z, y) -> delta`` (K,), the gradient of ``L = -sum_i y_i log s_i``
    with ``s = softmax(z)`` with respect to the logits ``z`` (seed 003: ``delta = s - y``).

    ``y`` is a probability vector (one-hot or soft, entries summing to 1). Expected values come
    from finite differences of L, or, for logits too large to difference, from ``exp(log s) - y``
    with a log-sum-exp softmax. The large-logit case fails for a softmax that overflows.
    """
    rng = np.random.default_rng(302)
    cases = []
    for label, k, soft in [("10 classes, one-hot target", 10, False), ("3 classes, one-hot target", 3, False),
                           ("5 classes, soft target summing to 1", 5, True)]:
        z = rng.normal(0.0, 2.0, k)
        if soft:
            y = rng.random(k)
            y /= y.sum()
        else:
            y = np.zeros(k)
            y[rng.integers(k)] = 1.0
        work = z.copy()
        expected = numerical_gradient(lambda: float(-np.sum(y * _log_softmax64(work))), work)
        cases.append((label, lambda z=z, y=y: fn(z.copy(), y.copy()), expected))
    z_big = np.array([1000.0, 0.0, -1000.0, 999.0])
    y_big = np.array([0.0, 0.0, 1.0, 0.0])
    cases.append(("huge logits (1000, 0, -1000, 999): no overflow",
                  lambda: fn(z_big.copy(), y_big.copy()), np.exp(_log_softmax64(z_big)) - y_big))
    return run_cases("check_softmax_ce_delta: dL/dz of softmax + cross-entropy", cases, atol=1e-7)


def _fold_rows_loops(dW, n_maps=12, side=4):
    """F^{-1} of Zhang eq. 11 applied to every row, with loops over the column scan of eq. 10."""
    out = np.zeros((dW.shape[0], n_maps, side, side))
    for i in range(dW.shape[0]):
        j = 0
        for q in range(n_maps):
            for col in range(side):
                for row in range(side):
                    out[i, q, row, col] = dW[i, j]
                    j += 1
    return out


def check_fold_rows(fn) -> bool:
    """Exercise 03.3: ``fn(M) -> maps``, every row of ``M`` (n, 192) folded back by F^{-1}.

    F (Zhang eq. 10) scans each 4x4 map of S2 column by column and concatenates the 12 maps;
    so ``maps`` has shape (n, 12, 4, 4) with ``maps[i, q, r, c] = M[i, 16 q + 4 c + r]``
    (0-based). One case folds the ``f`` of a real forward pass and expects that pass's ``S2``.
    """
    from . import network  # the seed network, imported here to keep this module light

    rng = np.random.default_rng(303)
    ramp = np.arange(192.0)[None, :]
    random_rows = rng.normal(size=(10, 192))
    params = network.init_params(0)
    cache = network.forward(params, rng.random((28, 28)))
    cases = [
        ("the ramp 0..191: order of the column scan", lambda: fn(ramp.copy()), _fold_rows_loops(ramp)),
        ("a random 10 x 192 matrix (a Delta W)", lambda: fn(random_rows.copy()), _fold_rows_loops(random_rows)),
        ("f of a forward pass folds back into its S2", lambda: fn(cache["f"][None, :].copy()), cache["S2"][None]),
    ]
    return run_cases("check_fold_rows: F^-1 applied to every row", cases, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Notebook 04: back through F^{-1} and the pooling layers (Zhang eqs. 31-32, seed 002 BP2)
# --------------------------------------------------------------------------------------------


def _nb04_column_scan_loops(maps):
    """Zhang eq. 10 by loops: maps (K, s, s) -> vector (K*s*s,), each map read column by column."""
    k, side, _ = maps.shape
    f = np.zeros(k * side * side)
    n = 0
    for q in range(k):
        for j in range(side):
            for i in range(side):
                f[n] = maps[q, i, j]
                n += 1
    return f


def check_unflatten(fn) -> bool:
    """Exercise 4.1: ``fn(df)`` is Zhang's F^{-1} (eq. 31), Delta f (192,) -> Delta S2 (12, 4, 4).

    Each 16-entry block of ``df`` is one map (q = 1..12 in order), filled column by column.
    Cases: the index vector 0..191 (shows where every entry lands), a random vector, and the
    round trip F^{-1}(F(S2)) = S2 with F written independently by loops.
    """
    rng = np.random.default_rng(404)
    S2 = rng.normal(size=(12, 4, 4))
    df = rng.normal(size=192)
    index_maps = np.arange(192.0).reshape(12, 4, 4).transpose(0, 2, 1)
    expected_df = np.zeros((12, 4, 4))
    n = 0
    for q in range(12):
        for j in range(4):
            for i in range(4):
                expected_df[q, i, j] = df[n]
                n += 1
    cases = [
        ("index vector 0..191: entry n lands in map n // 16, column (n % 16) // 4, row n % 4",
         lambda: fn(np.arange(192.0)), index_maps),
        ("random Delta f", lambda: fn(df.copy()), expected_df),
        ("round trip: F^{-1}(F(S2)) == S2", lambda: fn(_nb04_column_scan_loops(S2)), S2),
    ]
    return run_cases("check_unflatten: Delta S2 = F^{-1}(Delta f), Zhang eq. 31", cases)


def _nb04_expected(dout, x, size, stride, mode):
    from helpers import pooling

    _, cache = pooling.pool_forward(x, size, stride, mode)
    return pooling.pool_backward(dout, cache)


def check_avgpool_backward(fn) -> bool:
    """Exercise 4.2: ``fn(dS)`` upsamples the error through 2x2 average pooling (Zhang eq. 32):
    ``(..., h, w) -> (..., 2h, 2w)``, every cell of a window gets a quarter of its error.

    Cases: one 4x4 map, Zhang's twelve maps of S2 (12, 4, 4), the six 12x12 maps of S1 (eq. 52),
    and a single non-zero error (only its own window may receive anything).
    """
    rng = np.random.default_rng(4042)
    one = rng.normal(size=(4, 4))
    s2 = rng.normal(size=(12, 4, 4))
    s1 = rng.normal(size=(6, 12, 12))
    spike = np.zeros((3, 3))
    spike[1, 2] = 8.0
    cases = [(name, (lambda d=d: fn(d.copy())),
              _nb04_expected(d, np.zeros(d.shape[:-2] + (2 * d.shape[-2], 2 * d.shape[-1])), 2, 2, "avg"))
             for name, d in [("one 4x4 map", one), ("Delta S2, shape (12, 4, 4)", s2),
                             ("Delta S1, shape (6, 12, 12) (eq. 52)", s1),
                             ("a single error of 8 spreads 2 to its own window only", spike)]]
    return run_cases("check_avgpool_backward: Delta C = 1/4 Delta S(ceil(i/2), ceil(j/2))", cases)


def check_maxpool_backward(fn) -> bool:
    """Exercise 4.3: ``fn(dS, C)`` routes the error through 2x2 max pooling with stride 2
    (seed 002 BP2): ``dS (..., h, w)``, ``C (..., 2h, 2w)`` -> ``dC`` shaped like ``C``. Each
    window's error goes to its maximum; at a tie, to the first maximum in row-major order.

    Cases: seed 004's worked example, windows with ties, windows whose values are all negative,
    and a random stack shaped like Zhang's C2 (12, 8, 8).
    """
    rng = np.random.default_rng(4043)
    c004 = np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]], dtype=float)
    d004 = np.array([[2, 8], [4, 6]], dtype=float)
    routed004 = np.array([[0, 0, 8, 0], [0, 2, 0, 0], [0, 0, 0, 6], [0, 4, 0, 0]], dtype=float)
    c_tie = np.array([[5, 5, 1, 0], [1, 2, 0, 1], [3, 1, 2, 2], [1, 3, 2, 2]], dtype=float)
    d_tie = np.array([[1, 2], [3, 4]], dtype=float)
    c_neg = -rng.uniform(1, 2, size=(4, 6))
    d_neg = rng.normal(size=(2, 3))
    c2 = rng.normal(size=(12, 8, 8))
    d2 = rng.normal(size=(12, 4, 4))
    cases = [
        ("seed 004's 4x4 example", lambda: fn(d004.copy(), c004.copy()), routed004),
        ("ties go to the first maximum in row-major order", lambda: fn(d_tie.copy(), c_tie.copy()),
         _nb04_expected(d_tie, c_tie, 2, 2, "max")),
        ("all values negative", lambda: fn(d_neg.copy(), c_neg.copy()),
         _nb04_expected(d_neg, c_neg, 2, 2, "max")),
        ("a stack shaped like C2, (12, 8, 8)", lambda: fn(d2.copy(), c2.copy()),
         _nb04_expected(d2, c2, 2, 2, "max")),
    ]
    return run_cases("check_maxpool_backward: each window's error goes to its maximum", cases)


def check_pool_backward(fn) -> bool:
    """Exercise 4.4: ``fn(dS, C, size, stride, mode)`` for any square window and stride,
    ``mode`` "avg" or "max"; ``C`` is one map (H, W) and ``dS`` the pooled error (Ho, Wo) with
    ``Ho = (H - size) // stride + 1``. Overlapping windows (``stride < size``) add up their
    contributions; rows or columns that no window covers get zero.
    """
    rng = np.random.default_rng(4044)
    c5 = rng.normal(size=(5, 5))
    c5[2, 2] = 10.0  # the centre is the maximum of all four overlapping 3x3 windows
    c4 = rng.normal(size=(4, 4))
    c7 = rng.normal(size=(7, 7))
    settings = [
        ("3x3 windows, stride 2, avg (overlap)", c5, 3, 2, "avg"),
        ("3x3 windows, stride 2, max (the centre collects four errors)", c5, 3, 2, "max"),
        ("2x2 windows, stride 1, avg", c4, 2, 1, "avg"),
        ("2x2 windows, stride 1, max", c4, 2, 1, "max"),
        ("3x3 windows, stride 3 on 7x7 (last row and column unused), max", c7, 3, 3, "max"),
    ]
    cases = []
    for name, c, size, stride, mode in settings:
        ho = (c.shape[0] - size) // stride + 1
        wo = (c.shape[1] - size) // stride + 1
        d = rng.normal(size=(ho, wo))
        cases.append((name, (lambda d=d, c=c, size=size, stride=stride, mode=mode:
                             fn(d.copy(), c.copy(), size, stride, mode)),
                      _nb04_expected(d, c, size, stride, mode)))
    return run_cases("check_pool_backward: any window and stride, overlapping windows add up", cases)


# --------------------------------------------------------------------------------------------
# Notebook 01: convolution, cross-correlation and the seeds' indices
# --------------------------------------------------------------------------------------------


def check_convolve2d(student_fn) -> bool:
    """Exercise 01.1: ``student_fn(x, k)`` is the valid TRUE convolution (Zhang eq. 5, with the
    +2 offset made explicit), shape ``(H - kh + 1, W - kw + 1)``.

    Compared with :func:`helpers.convolution.convolve2d` (sliding windows with ``rot180(k)``).
    """
    from helpers.convolution import convolve2d

    rng = np.random.default_rng(101)
    cases = []
    for name, xs, ks in [("28x28 input, 5x5 kernel (layer C1)", (28, 28), (5, 5)),
                         ("7x9 input, 3x3 kernel (not square)", (7, 9), (3, 3)),
                         ("6x6 input, 2x3 kernel (even, not square)", (6, 6), (2, 3)),
                         ("4x4 input, 1x1 kernel", (4, 4), (1, 1)),
                         ("5x5 input, 5x5 kernel (one output)", (5, 5), (5, 5))]:
        x, k = rng.standard_normal(xs), rng.standard_normal(ks)
        cases.append((name, lambda x=x, k=k: student_fn(x.copy(), k.copy()), convolve2d(x, k)))
    return run_cases("check_convolve2d: valid true convolution", cases)


def check_output_size(student_fn) -> bool:
    """Exercise 01.2: ``student_fn(n, f, p, s)`` is the output length of a convolution with an
    n-long input, an f-long kernel, padding p and stride s (seed 004, slide 2.1).

    The expected length is measured by running :func:`helpers.convolution.correlate2d` on an
    input of that size, not computed from the formula.
    """
    from helpers.convolution import correlate2d

    cases = []
    for n, f, p, s in [(28, 5, 0, 1), (12, 5, 0, 1), (2, 2, 1, 1), (8, 5, 4, 1), (7, 3, 1, 2),
                       (6, 3, 0, 2), (32, 3, 1, 1), (5, 5, 0, 3), (10, 4, 2, 3)]:
        measured = correlate2d(np.zeros((n, n)), np.ones((f, f)), stride=s, padding=p).shape[0]
        cases.append((f"n={n}, f={f}, p={p}, s={s}", lambda n=n, f=f, p=p, s=s: student_fn(n, f, p, s),
                      int(measured)))
    return run_cases("check_output_size: floor((n + 2p - f) / s) + 1", cases)


def _conv_layer_grads(a, w, delta):
    """Gradients of J = sum(delta * correlate(a, w)) for one map: (dJ/da, dJ/dw)."""
    from helpers.convolution import conv_backward, conv_forward

    _, cache = conv_forward(a[None, None], w[None, None], np.zeros(1))
    dx, dk, _ = conv_backward(delta[None, None], cache)
    return dx[0, 0], dk[0, 0]


def _conv_grad_cases(rng):
    out = []
    for name, a_shape, w_shape in [("seed 004's example: 3x3 input, 2x2 kernel", (3, 3), (2, 2)),
                                   ("28x28 input, 5x5 kernel", (28, 28), (5, 5)),
                                   ("5x6 input, 2x3 kernel (not square)", (5, 6), (2, 3)),
                                   ("3x3 input, 3x3 kernel (1x1 error)", (3, 3), (3, 3))]:
        a, w = rng.standard_normal(a_shape), rng.standard_normal(w_shape)
        delta = rng.standard_normal((a_shape[0] - w_shape[0] + 1, a_shape[1] - w_shape[1] + 1))
        out.append((name, a, w, delta))
    return out


def check_conv_input_gradient(student_fn) -> bool:
    """Exercise 01.3: ``student_fn(delta, w)`` returns dJ/da for ``z = a (cross-correlated
    with) w`` (valid), given ``delta = dJ/dz``: the zero-padded delta correlated with
    ``rot180(w)`` (seed 004, slide 2.2.1). Shape of ``a``: ``delta.shape + w.shape - 1``.

    Compared with :func:`helpers.convolution.conv_backward`.
    """
    cases = []
    for name, a, w, delta in _conv_grad_cases(np.random.default_rng(102)):
        da, _ = _conv_layer_grads(a, w, delta)
        cases.append((name, lambda w=w, d=delta: student_fn(d.copy(), w.copy()), da))
    return run_cases("check_conv_input_gradient: dJ/da = pad(delta) correlated with rot180(w)", cases)


def check_conv_kernel_gradient(student_fn) -> bool:
    """Exercise 01.4: ``student_fn(a, delta)`` returns dJ/dw for ``z = a (cross-correlated
    with) w`` (valid), given ``delta = dJ/dz``: ``a`` correlated with ``delta`` (seed 004,
    slide 2.3). Compared with :func:`helpers.convolution.conv_backward`.
    """
    cases = []
    for name, a, w, delta in _conv_grad_cases(np.random.default_rng(103)):
        _, dw = _conv_layer_grads(a, w, delta)
        cases.append((name, lambda a=a, d=delta: student_fn(a.copy(), d.copy()), dw))
    return run_cases("check_conv_kernel_gradient: dJ/dw = a correlated with delta", cases)


def check_zhang_index(student_fn) -> bool:
    """Exercise 01.5: ``student_fn(i, j, u, v)`` returns the 0-based ``(row, col)`` of the
    input pixel that Zhang's eq. 5 multiplies with ``k(u, v)`` for the 1-based output
    ``C(i, j)`` of a valid 5x5 convolution of a 28x28 image (u, v in -2..2).

    The expected pixel is found by experiment: a 28x28 image whose pixel (r, c) holds the
    number 28 r + c is convolved (:func:`helpers.convolution.convolve2d`) with a kernel that is
    1 at ``k(u, v)`` and 0 elsewhere; the output at (i, j) is the code of the pixel read.
    """
    from helpers.convolution import convolve2d

    coded = np.arange(28 * 28, dtype=np.float64).reshape(28, 28)
    cases = []
    for i, j, u, v in [(1, 1, 0, 0), (1, 1, 2, 2), (1, 1, -2, -2), (24, 24, -2, -2),
                       (24, 24, 2, 2), (10, 3, 1, -1), (5, 17, -2, 1)]:
        probe = np.zeros((5, 5))
        probe[u + 2, v + 2] = 1.0
        code = int(round(convolve2d(coded, probe)[i - 1, j - 1]))
        cases.append((f"C({i}, {j}), k({u}, {v})", lambda i=i, j=j, u=u, v=v: tuple(student_fn(i, j, u, v)),
                      tuple(divmod(code, 28))))
    return run_cases("check_zhang_index: Zhang's (i, j, u, v) -> numpy (row, col)", cases)


# --------------------------------------------------------------------------------------------
# Notebook 02: the forward pass of the seed network
# --------------------------------------------------------------------------------------------


def _seed_forward_cache(index: int = 1500):
    """Forward cache of MNIST-5k image ``index`` through the seed network with init seed 0."""
    from helpers.data import load_mnist_5k
    from helpers.network import forward, init_params

    images, _ = load_mnist_5k()
    params = init_params(seed=0)
    return params, forward(params, images[index] / 255.0)


def check_flatten_F(student_fn) -> bool:
    """Exercise 02.1a: ``student_fn(S2)`` maps twelve 4x4 maps ``(12, 4, 4)`` to ``f (192,)``:
    each map scanned column by column, maps in order q = 1..12 (Zhang eq. 10).

    Cases: a map of consecutive numbers (readable), a random one, and the S2 of a real digit
    compared with the ``f`` that :func:`helpers.network.forward` produced.
    """
    from helpers.network import _flatten_F

    rng = np.random.default_rng(104)
    counting = np.arange(192, dtype=np.float64).reshape(12, 4, 4)
    random_maps = rng.standard_normal((12, 4, 4))
    _, cache = _seed_forward_cache()
    cases = [("S2 = 0..191 in row-major order", lambda: student_fn(counting.copy()),
              _flatten_F(counting[None])[0]),
             ("random S2", lambda: student_fn(random_maps.copy()), _flatten_F(random_maps[None])[0]),
             ("S2 of digit 1500 vs forward()['f']", lambda: student_fn(cache["S2"].copy()), cache["f"])]
    return run_cases("check_flatten_F: column scan, maps concatenated (Zhang eq. 10)", cases)


def check_unflatten_F(student_fn) -> bool:
    """Exercise 02.1b: ``student_fn(f)`` is F^{-1} (Zhang eq. 11): ``f (192,)`` back to
    ``(12, 4, 4)``. Checked against the S2 of a real digit and on a counting vector."""
    from helpers.network import _unflatten_F

    counting = np.arange(192, dtype=np.float64)
    _, cache = _seed_forward_cache()
    cases = [("f = 0..191", lambda: student_fn(counting.copy()), _unflatten_F(counting[None])[0]),
             ("f of digit 1500 vs forward()['S2']", lambda: student_fn(cache["f"].copy()), cache["S2"])]
    return run_cases("check_unflatten_F: F^{-1}, the inverse column scan (Zhang eq. 11)", cases)


def check_avgpool_zhang(student_fn) -> bool:
    """Exercise 02.2: ``student_fn(C)`` is 2x2 average pooling with stride 2 (Zhang eqs. 6 and
    9) of maps ``(K, 2H, 2W)`` -> ``(K, H, W)``. Compared with
    :func:`helpers.pooling.avgpool_forward` and with the S1, S2 of a real forward pass."""
    from helpers.pooling import avgpool_forward

    rng = np.random.default_rng(105)
    _, cache = _seed_forward_cache()
    odd = rng.standard_normal((3, 6, 4))
    tiny = rng.standard_normal((1, 2, 2))
    cases = [("C1 of digit 1500 -> S1 (6, 12, 12)", lambda: student_fn(cache["C1"].copy()), cache["S1"]),
             ("C2 of digit 1500 -> S2 (12, 4, 4)", lambda: student_fn(cache["C2"].copy()), cache["S2"]),
             ("(3, 6, 4) maps, not square", lambda: student_fn(odd.copy()), avgpool_forward(odd)[0]),
             ("(1, 2, 2): one window", lambda: student_fn(tiny.copy()), avgpool_forward(tiny)[0])]
    return run_cases("check_avgpool_zhang: S(i, j) = 1/4 sum of a 2x2 window (Zhang eq. 6)", cases)


def check_c2_forward(student_fn) -> bool:
    """Exercise 02.3: ``student_fn(S1, k2, b2)`` is layer C2 (Zhang eqs. 7-8): for each output
    map q, the sigmoid of ``b2[q]`` plus the sum over input maps p of the valid TRUE
    convolution of ``S1[p]`` with ``k2[p, q]``. Shapes ``(P, H, W), (P, Q, 5, 5), (Q,)`` ->
    ``(Q, H - 4, W - 4)``. Compared with :func:`helpers.network.forward` and
    :func:`helpers.convolution.conv_forward`."""
    from helpers.activations import sigmoid
    from helpers.convolution import conv_forward

    params, cache = _seed_forward_cache()
    rng = np.random.default_rng(106)
    S1_small = rng.random((3, 9, 10))
    k2_small = rng.standard_normal((3, 4, 5, 5)) * 0.3
    b2_small = rng.standard_normal(4) * 0.1
    expected_small = sigmoid(conv_forward(S1_small[None], k2_small, b2_small, convention="convolution")[0][0])
    cases = [("seed network, digit 1500: C2 (12, 8, 8)",
              lambda: student_fn(cache["S1"].copy(), params["k2"].copy(), params["b2"].copy()), cache["C2"]),
             ("3 input maps 9x10, 4 output maps, nonzero biases",
              lambda: student_fn(S1_small.copy(), k2_small.copy(), b2_small.copy()), expected_small)]
    return run_cases("check_c2_forward: C2 = sigmoid(sum_p S1_p * k2_pq + b2_q) (Zhang eq. 8)", cases)


def check_conv_layer_params(student_fn) -> bool:
    """Exercise 02.4: ``student_fn(c_in, c_out, f)`` is the number of trainable numbers of a
    convolution layer with ``c_in`` input maps, ``c_out`` output maps, f x f kernels and one
    bias per output map. Expected values are the sizes of arrays built with those shapes
    (Zhang's layers C1, C2 and those of seed 003)."""
    cases = []
    for name, c_in, c_out, f in [("Zhang C1", 1, 6, 5), ("Zhang C2", 6, 12, 5),
                                 ("seed 003 first layer", 1, 4, 5), ("seed 003 second layer", 4, 6, 5),
                                 ("a small layer", 3, 8, 3)]:
        expected = np.zeros((c_in, c_out, f, f)).size + np.zeros(c_out).size
        cases.append((f"{name}: {c_in} -> {c_out} maps, {f}x{f}",
                      lambda c_in=c_in, c_out=c_out, f=f: student_fn(c_in, c_out, f), int(expected)))
    return run_cases("check_conv_layer_params: kernels plus one bias per output map", cases)


def check_dense_head_backward(fn) -> bool:
    """Exercise 03.5: ``fn(W1, b1, W2, b2, a0, y) -> (dW1, db1, dW2, db2)`` for seed 003's head.

    Forward: ``a1 = sigmoid(W1 a0 + b1)``, ``s = softmax(W2 a1 + b2)``, loss
    ``L = -sum_i y_i log s_i``. Shapes: ``W1`` (H, D), ``b1`` (H,), ``W2`` (K, H), ``b2`` (K,),
    ``a0`` (D,), ``y`` (K,) one-hot; seed 003 has D = 96, H = 50, K = 10. Expected gradients
    (same shapes as the parameters) come from central finite differences of L.
    """
    rng = np.random.default_rng(305)
    names = ("dW1", "db1", "dW2", "db2")
    cases = []
    for label, (d, h, k) in [("seed 003's sizes 96 -> 50 -> 10", (96, 50, 10)), ("a 4 -> 3 -> 2 head", (4, 3, 2))]:
        W1 = rng.uniform(-1, 1, (h, d)) * np.sqrt(6.0 / (d + h))
        b1 = rng.normal(0.0, 0.1, h)
        W2 = rng.uniform(-1, 1, (k, h)) * np.sqrt(6.0 / (h + k))
        b2 = rng.normal(0.0, 0.1, k)
        a0 = rng.random(d)
        y = np.zeros(k)
        y[rng.integers(k)] = 1.0

        def loss():
            z2 = W2 @ _sigmoid64(W1 @ a0 + b1) + b2
            return float(-np.sum(y * _log_softmax64(z2)))

        expected = [numerical_gradient(loss, arr) for arr in (W1, b1, W2, b2)]
        cases += _gradient_cases(fn, label, (W1, b1, W2, b2, a0, y), expected, names)
    return run_cases("check_dense_head_backward: seed 003's hidden layer and softmax output", cases, atol=1e-7)


# --------------------------------------------------------------------------------------------
# Notebook 05: gradients of the convolution layers (Zhang eqs. 33-64)
# --------------------------------------------------------------------------------------------


def _nb05_case_arrays(rng, n_in, n_out, h, w, kh, kw):
    S = rng.random((n_in, h, w))
    k = rng.uniform(-0.3, 0.3, (n_in, n_out, kh, kw))
    dz = rng.standard_normal((n_out, h - kh + 1, w - kw + 1))
    return S, k, dz


_NB05_SIZES = [("Zhang's C2: 6 maps 12x12 -> 12 maps 8x8", (6, 12, 12, 12, 5, 5)),
               ("Zhang's C1: 1 map 28x28 -> 6 maps 24x24", (1, 6, 28, 28, 5, 5)),
               ("seed 004's sizes: 3x3 input, 2x2 kernel", (1, 1, 3, 3, 2, 2)),
               ("2 maps 7x9 -> 3 maps, 3x4 kernels (not square)", (2, 3, 7, 9, 3, 4))]
_NB05_INPUT_SIZES = [_NB05_SIZES[0],
                     ("3 maps 10x10 -> 2 maps 6x6, 5x5 kernels", (3, 2, 10, 10, 5, 5)),
                     _NB05_SIZES[2], _NB05_SIZES[3]]


def check_conv_kernel_grad(fn) -> bool:
    """Exercise 05.1: ``fn(S, dC_sigma) -> dk``, Zhang eq. 40 for every pair (p, q).

    The layer is ``C_sigma[q] = sum_p S[p] * k[p, q] + b[q]`` with ``*`` the valid TRUE
    convolution (Zhang eq. 8). ``S`` (P, H, W) is the layer's input, ``dC_sigma`` (Q, Ho, Wo)
    the error before the sigmoid; return ``dk`` (P, Q, H - Ho + 1, W - Wo + 1).

    Expected values use only the forward convolution: the loss ``sum(dC_sigma * C_sigma)`` is
    linear in ``k``, so ``dk[p, q, a, b]`` is that loss for the kernel that is 1 at
    ``[p, q, a, b]`` and 0 elsewhere.
    """
    from helpers.convolution import convolve2d

    rng = np.random.default_rng(501)
    cases = []
    for label, (n_in, n_out, h, w, kh, kw) in _NB05_SIZES:
        S, _, dz = _nb05_case_arrays(rng, n_in, n_out, h, w, kh, kw)
        expected = np.zeros((n_in, n_out, kh, kw))
        for a in range(kh):
            for b in range(kw):
                probe = np.zeros((kh, kw))
                probe[a, b] = 1.0
                response = convolve2d(S, probe)  # (P, Ho, Wo): each input map read by tap (a, b)
                expected[:, :, a, b] = np.einsum("pij,qij->pq", response, dz)
        cases.append((label, lambda S=S, dz=dz: fn(S.copy(), dz.copy()), expected))
    S, _, dz = _nb05_case_arrays(rng, 2, 3, 6, 6, 3, 3)
    cases.append(("does not change its inputs", lambda: _leaves_inputs_alone(fn, (S, dz)), True))
    return run_cases("check_conv_kernel_grad: dk[p, q] = rot180(S[p]) * dC_sigma[q] (Zhang eq. 40)",
                     cases, atol=1e-10)


def check_full_conv_input_grad(fn) -> bool:
    """Exercise 05.2: ``fn(dC_sigma, k) -> dS``, Zhang eq. 51: the error on the layer's input.

    Same layer as :func:`check_conv_kernel_grad`; ``dC_sigma`` (Q, Ho, Wo), ``k``
    (P, Q, kh, kw); return ``dS`` (P, Ho + kh - 1, Wo + kw - 1), the sum over q of the FULL
    convolution of ``dC_sigma[q]`` with ``rot180(k[p, q])``. Expected values: the loss
    ``sum(dC_sigma * C_sigma)`` is linear in ``S``, so ``dS[p, m, n]`` is that loss for the input
    that is 1 at ``[p, m, n]`` and 0 elsewhere (forward convolution only).
    """
    from helpers.convolution import convolve2d

    rng = np.random.default_rng(502)
    cases = []
    for label, (n_in, n_out, h, w, kh, kw) in _NB05_INPUT_SIZES:
        _, k, dz = _nb05_case_arrays(rng, n_in, n_out, h, w, kh, kw)
        probes = np.eye(h * w).reshape(h * w, h, w)  # probe m*w + n is 1 at pixel (m, n)
        expected = np.zeros((n_in, h, w))
        for p in range(n_in):
            for q in range(n_out):  # map p reaches output q through k[p, q] only
                response = convolve2d(probes, k[p, q])  # (h*w, Ho, Wo)
                expected[p] += np.einsum("mij,ij->m", response, dz[q]).reshape(h, w)
        cases.append((label, lambda k=k, dz=dz: fn(dz.copy(), k.copy()), expected))
    return run_cases("check_full_conv_input_grad: dS[p] = sum_q full(dC_sigma[q] * rot180(k[p, q])) "
                     "(Zhang eq. 51)", cases, atol=1e-10)


def check_bias_grad(fn) -> bool:
    """Exercise 05.3: ``fn(dC, C) -> db``, Zhang eqs. 37 and 41-45.

    ``C = sigmoid(C_sigma)`` (Q, H, W) is a layer's output and ``dC`` (Q, H, W) the error on it
    (after the sigmoid, as Zhang's eq. 32 delivers it). Return ``db`` (Q,), the gradient of
    ``L = sum(dC * C)`` with respect to the biases ``b[q]`` added inside the sigmoid. Expected
    values: central finite differences of L in ``b``.
    """
    rng = np.random.default_rng(503)
    cases = []
    for label, shape, scale in [("Zhang's C2: 12 maps 8x8", (12, 8, 8), 1.0),
                                ("Zhang's C1: 6 maps 24x24", (6, 24, 24), 1.0),
                                ("saturated sigmoids (|C_sigma| up to 12)", (3, 4, 5), 12.0)]:
        z = rng.uniform(-scale, scale, shape)
        C = _sigmoid64(z)
        dC = rng.standard_normal(shape)
        b = np.zeros(shape[0])
        expected = numerical_gradient(lambda: float(np.sum(dC * _sigmoid64(z + b[:, None, None]))), b, h=1e-5)
        cases.append((label, lambda dC=dC, C=C: fn(dC.copy(), C.copy()), expected))
    return run_cases("check_bias_grad: db[q] = sum_ij dC[q] C[q] (1 - C[q]) (Zhang eqs. 37, 45)",
                     cases, atol=1e-8)


def check_layer1_grads(fn) -> bool:
    """Exercise 05.4: ``fn(x, C1, dS1) -> (dk1, db1)``, Zhang eqs. 52-64 in one function.

    ``x`` (28, 28) is the image, ``C1`` (6, 24, 24) the output of layer C1
    (``sigmoid(x * k1[p] + b1[p])``, valid true convolution) and ``dS1`` (6, 12, 12) the error on
    the pooled maps S1 (2x2 average pooling). Return ``dk1`` (6, 5, 5) and ``db1`` (6,): upsample
    (eq. 52), multiply by the sigmoid's derivative (eq. 57), then eqs. 59 and 64. Expected
    values: central finite differences of ``L = sum(dS1 * S1)`` with respect to ``k1`` and
    ``b1``, recomputing S1 from x with the forward convolution and pooling.
    """
    from helpers.convolution import convolve2d
    from helpers.data import load_mnist_5k
    from helpers.pooling import avgpool_forward

    images, _ = load_mnist_5k()
    rng = np.random.default_rng(504)
    cases = []
    for label, index, scale in [("MNIST-5k image 1500 (a 3)", 1500, 0.3),
                                ("MNIST-5k image 0 with larger kernels", 0, 1.0)]:
        x = images[index] / 255.0
        k1 = rng.uniform(-scale, scale, (6, 5, 5))
        b1 = rng.uniform(-0.5, 0.5, 6)
        dS1 = rng.standard_normal((6, 12, 12))

        def loss(k1=k1, b1=b1, x=x, dS1=dS1):
            C1 = _sigmoid64(np.stack([convolve2d(x, k1[p]) for p in range(6)]) + b1[:, None, None])
            return float(np.sum(dS1 * avgpool_forward(C1)[0]))

        C1 = _sigmoid64(np.stack([convolve2d(x, k1[p]) for p in range(6)]) + b1[:, None, None])
        expected = (numerical_gradient(loss, k1), numerical_gradient(loss, b1))
        cases += _gradient_cases(fn, label, (x, C1, dS1), expected, ("dk1", "db1"))
    return run_cases("check_layer1_grads: dS1 -> dC1 -> dC1_sigma -> dk1, db1 (Zhang eqs. 52-64)",
                     cases, atol=1e-7)


# --------------------------------------------------------------------------------------------
# Notebook 09: errata appendix (find the offset, fix the parameter count, which '*' is it)
# --------------------------------------------------------------------------------------------


def _nb09_offset_ops():
    """``(label, op, f)`` cases for :func:`check_find_offset`: true convolutions with unknown padding."""
    from helpers.convolution import convolve2d, pad2d

    def padded(pad):
        return lambda x, k: convolve2d(pad2d(x, pad), k)

    return [("valid 5x5, Zhang's eq. 5", lambda x, k: convolve2d(x, k), 5),
            ("valid 3x3", lambda x, k: convolve2d(x, k), 3),
            ("valid 7x7", lambda x, k: convolve2d(x, k), 7),
            ("'same' 5x5 (padding 2)", padded(2), 5),
            ("5x5 with padding 1", padded(1), 5),
            ("full 5x5", lambda x, k: convolve2d(x, k, mode="full"), 5),
            ("full 3x3", lambda x, k: convolve2d(x, k, mode="full"), 3)]


def _nb09_offset_by_search(op, f, rng):
    """The offset c of ``op`` found by trying every candidate on a random image and kernel:
    the one for which ``out(i, j) = sum_uv x(i + c - u, j + c - v) k(u, v)`` (1-based, x = 0
    outside) reproduces ``op`` exactly."""
    r = (f - 1) // 2
    x = rng.standard_normal((f + 6, f + 8))
    k = rng.standard_normal((f, f))
    out = op(x, k)
    big = np.pad(x, 4 * f)  # zeros around: 1-based pixel (a, b) of x sits at big[a - 1 + 4f, b - 1 + 4f]
    found = []
    for c in range(-f, f + 1):
        guess = np.zeros(out.shape)
        for u in range(-r, r + 1):
            for v in range(-r, r + 1):
                rows = np.arange(1, out.shape[0] + 1) + c - u - 1 + 4 * f
                cols = np.arange(1, out.shape[1] + 1) + c - v - 1 + 4 * f
                guess += k[u + r, v + r] * big[np.ix_(rows, cols)]
        if np.allclose(guess, out, rtol=0, atol=1e-10):
            found.append(c)
    if len(found) != 1:
        raise RuntimeError(f"offset search found {found} for a case of check_find_offset")
    return found[0]


def check_find_offset(fn) -> bool:
    """Exercise 09.1: ``fn(op, f)`` returns the offset ``c`` of a convolution routine ``op(x, k)``
    (2-D image, f x f kernel, f odd): the integer for which
    ``op(x, k)[i-1, j-1] = sum_{u,v=-r..r} x(i + c - u, j + c - v) k(u, v)`` with 1-based i, j,
    centred kernel indices (r = (f - 1) / 2) and x = 0 outside the image.

    Zhang's eq. 5 is the valid case, c = 2 for a 5x5 kernel (the unstated "+2"). Expected values
    are found by trying every candidate c on a random image and kernel.
    """
    rng = np.random.default_rng(901)
    cases = []
    for label, op, f in _nb09_offset_ops():
        expected = _nb09_offset_by_search(op, f, rng)
        cases.append((label, lambda op=op, f=f: int(fn(op, f)), expected))
    return run_cases("check_find_offset: op(x, k)(i, j) = sum_uv x(i + c - u, j + c - v) k(u, v)", cases)


def check_param_total(fn) -> bool:
    """Exercise 09.2: ``fn(conv, dense)`` counts the trainable numbers of a network.

    ``conv`` is a list of ``(maps_in, maps_out, f)``: one f x f kernel per pair of maps and one
    bias per output map; ``dense`` a list of ``(n_in, n_out)``: an ``(n_out, n_in)`` matrix and a
    bias vector. Expected values are the sizes of zero arrays of those shapes. Cases: Zhang's
    network (seed 001), seed 003's (printed total 6170), seed 002's, and two edge cases.
    """
    cases = []
    for label, conv, dense in [("Zhang's network (seed 001)", [(1, 6, 5), (6, 12, 5)], [(192, 10)]),
                               ("seed 003's network", [(1, 4, 5), (4, 6, 5)], [(96, 50), (50, 10)]),
                               ("seed 002's network", [(1, 1, 5)], [(144, 10)]),
                               ("convolution layers only", [(3, 8, 3), (8, 8, 3)], []),
                               ("a dense network (no convolution)", [], [(784, 30), (30, 10)])]:
        arrays = [np.zeros((m_in, m_out, f, f)) for m_in, m_out, f in conv] + [np.zeros(m_out) for _, m_out, _ in conv]
        arrays += [np.zeros((n_out, n_in)) for n_in, n_out in dense] + [np.zeros(n_out) for _, n_out in dense]
        expected = int(sum(a.size for a in arrays))
        cases.append((label, lambda conv=conv, dense=dense: int(fn(list(conv), list(dense))), expected))
    return run_cases("check_param_total: kernels + biases + weight matrices + bias vectors", cases)


def check_which_convention(fn) -> bool:
    """Exercise 09.3: ``fn(op)`` returns ``"convolution"`` when the routine ``op(x, k)`` (2-D
    image, 2-D kernel, valid output) flips the kernel and ``"correlation"`` when it does not
    (seed 004's '*' means both).

    The hidden routines are the helpers' fast and loop versions of both operations, the layer
    function ``conv_forward`` with either convention, and a dot-product-per-window routine. The
    expected answer is found by comparing each routine with ``correlate2d`` on random data.
    """
    from helpers.convolution import conv_forward, convolve2d, convolve2d_naive, correlate2d, correlate2d_naive

    def layer(convention):
        return lambda x, k: conv_forward(np.asarray(x, dtype=float)[None, None], np.asarray(k, dtype=float)[None, None],
                                         np.zeros(1), convention=convention)[0][0, 0]

    def windows_flipped(x, k):
        kh, kw = k.shape
        return np.array([[np.sum(x[i:i + kh, j:j + kw] * k[::-1, ::-1]) for j in range(x.shape[1] - kw + 1)]
                         for i in range(x.shape[0] - kh + 1)])

    rng = np.random.default_rng(903)
    x = rng.standard_normal((7, 6))
    k = rng.standard_normal((3, 2))
    reference = correlate2d(x, k)
    cases = []
    for label, op in [("helpers.convolution.convolve2d", convolve2d), ("helpers.convolution.correlate2d", correlate2d),
                      ("convolve2d_naive (loops)", convolve2d_naive), ("correlate2d_naive (loops)", correlate2d_naive),
                      ("conv_forward, convention='convolution'", layer("convolution")),
                      ("conv_forward, convention='correlation'", layer("correlation")),
                      ("a window-by-window routine", windows_flipped)]:
        expected = "correlation" if np.allclose(op(x, k), reference) else "convolution"
        cases.append((label, lambda op=op: fn(op), expected))
    return run_cases("check_which_convention: does op flip the kernel?", cases)


# --------------------------------------------------------------------------------------------
# Notebook 06: training (Zhang eqs. 65-70)
# --------------------------------------------------------------------------------------------

_NB06_SHAPES = {"k1": (6, 5, 5), "b1": (6,), "k2": (6, 12, 5, 5), "b2": (12,), "W": (10, 192), "b": (10,)}


def _nb06_dicts(rng, dtype=np.float64):
    params = {k: rng.uniform(-1, 1, s).astype(dtype) for k, s in _NB06_SHAPES.items()}
    grads = {k: rng.standard_normal(s).astype(dtype) for k, s in _NB06_SHAPES.items()}
    return params, grads


def _nb06_copy(value):
    if isinstance(value, dict):
        return {k: np.array(v, copy=True) for k, v in value.items()}
    return np.array(value, copy=True) if isinstance(value, np.ndarray) else value


def _nb06_leaves_alone(fn, args):
    """Call ``fn`` on copies of ``args`` (dicts of arrays, arrays, numbers); True if the copies
    are unchanged afterwards."""
    copies = [_nb06_copy(a) for a in args]
    fn(*copies)
    for copy, original in zip(copies, args):
        if isinstance(original, dict):
            if set(copy) != set(original) or not all(np.array_equal(copy[k], original[k]) for k in original):
                return False
        elif isinstance(original, np.ndarray) and not np.array_equal(copy, original):
            return False
    return True


def _nb06_entry(result, key):
    if not isinstance(result, dict):
        raise TypeError(f"expected a dict of arrays, got {type(result).__name__}")
    return result[key]


def check_sgd_step(fn) -> bool:
    """Exercise 06.1: ``fn(params, grads, lr) -> new_params``, Zhang eqs. 65-70.

    ``params`` and ``grads`` are dicts with the six keys ``k1, b1, k2, b2, W, b`` of the seed
    network. Return a new dict with ``theta - lr * Delta theta`` for every tensor, leave both
    inputs unchanged and keep the dtype (float32 stays float32). Expected values are written
    out entry by entry with Python floats.
    """
    rng = np.random.default_rng(601)
    cases = []
    params, grads = _nb06_dicts(rng)
    for key in _NB06_SHAPES:  # eqs. 65-70, one tensor each
        expected = np.array([float(t) - 0.3 * float(g) for t, g in zip(params[key].flat, grads[key].flat)])
        cases.append((f"{key} after one step, lr 0.3",
                      lambda key=key: np.asarray(_nb06_entry(fn({k: v.copy() for k, v in params.items()},
                                                                  {k: v.copy() for k, v in grads.items()}, 0.3), key)).ravel(),
                      expected))
    cases.append(("a zero gradient changes nothing",
                  lambda: _nb06_entry(fn(params, {k: np.zeros(s) for k, s in _NB06_SHAPES.items()}, 5.0), "W"),
                  params["W"]))
    cases.append(("params and grads are left unchanged", lambda: _nb06_leaves_alone(fn, (params, grads, 0.3)), True))
    p32, g32 = _nb06_dicts(rng, np.float32)
    cases.append(("float32 in, float32 out", lambda: str(np.asarray(_nb06_entry(fn(p32, g32, 0.5), "k2")).dtype), "float32"))
    return run_cases("check_sgd_step: theta <- theta - lr * Delta theta (Zhang eqs. 65-70)", cases, atol=1e-12)


def check_confusion_matrix(fn) -> bool:
    """Exercise 06.2: ``fn(y_true, y_pred) -> cm`` (10, 10), ``cm[i, j]`` = images of class i
    answered as j. Expected values are counted with a plain Python dictionary."""
    rng = np.random.default_rng(602)

    def counted(y_true, y_pred):
        counts = {}
        for t, p in zip(y_true.tolist(), y_pred.tolist()):
            counts[(t, p)] = counts.get((t, p), 0) + 1
        return np.array([[counts.get((i, j), 0) for j in range(10)] for i in range(10)])

    hand_true, hand_pred = np.array([3, 3, 5, 5, 5, 9]), np.array([3, 5, 5, 3, 5, 4])
    many_true = rng.integers(0, 10, 500)
    many_pred = np.where(rng.random(500) < 0.8, many_true, rng.integers(0, 10, 500))
    perfect = np.arange(10).repeat(3)
    cases = [
        ("six hand-made answers", lambda: fn(hand_true.copy(), hand_pred.copy()), counted(hand_true, hand_pred)),
        ("500 answers, 80% right", lambda: fn(many_true.copy(), many_pred.copy()), counted(many_true, many_pred)),
        ("all right: only the diagonal", lambda: fn(perfect.copy(), perfect.copy()), 3 * np.eye(10)),
        ("a class that never occurs keeps a zero row", lambda: fn(np.array([0, 0]), np.array([0, 9]))[5],
         np.zeros(10)),
    ]
    return run_cases("check_confusion_matrix: rows = true class, columns = answer", cases, atol=0)


def check_minibatches(fn) -> bool:
    """Exercise 06.3: ``fn(n, batch_size, rng) -> list of index arrays`` for one epoch.

    Every index 0..n-1 appears exactly once, the batches hold ``batch_size`` indices except
    possibly a smaller last one, the order is shuffled by ``rng`` (a
    ``numpy.random.Generator``), and the same seed gives the same batches.
    """

    def batches(n, size, seed):
        return [np.asarray(b) for b in fn(n, size, np.random.default_rng(seed))]

    def sizes(n, size):
        return [len(b) for b in batches(n, size, 0)]

    def covered(n, size):
        return np.sort(np.concatenate(batches(n, size, 1))).tolist()

    def same_twice(n, size):
        a, b = batches(n, size, 7), batches(n, size, 7)
        return len(a) == len(b) and all(np.array_equal(u, v) for u, v in zip(a, b))

    def shuffled(n, size):
        return not np.array_equal(np.concatenate(batches(n, size, 3)), np.arange(n))

    cases = [
        ("4000 images in batches of 5: 800 batches of 5", lambda: sizes(4000, 5), [5] * 800),
        ("45 images in batches of 10: 10, 10, 10, 10, 5", lambda: sizes(45, 10), [10, 10, 10, 10, 5]),
        ("every index exactly once", lambda: covered(103, 10), list(range(103))),
        ("same seed, same batches", lambda: same_twice(50, 8), True),
        ("the order is shuffled", lambda: shuffled(100, 10), True),
    ]
    return run_cases("check_minibatches: one epoch of shuffled mini-batches", cases)


def check_momentum_step(fn) -> bool:
    """Exercise 06.4: ``fn(params, grads, velocity, lr, mu) -> (new_params, new_velocity)``.

    SGD with momentum, one tensor at a time: ``v <- mu * v - lr * Delta theta`` and then
    ``theta <- theta + v``. With ``mu = 0`` it is Zhang's eqs. 65-70. Inputs stay unchanged.
    Expected values are written out entry by entry with Python floats.
    """
    rng = np.random.default_rng(604)
    params, grads = _nb06_dicts(rng)
    velocity = {k: rng.standard_normal(s) * 0.1 for k, s in _NB06_SHAPES.items()}

    def call(mu, which, key):
        out = fn({k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in grads.items()},
                 {k: v.copy() for k, v in velocity.items()}, 0.2, mu)
        if not isinstance(out, tuple) or len(out) != 2:
            raise TypeError("expected a tuple (new_params, new_velocity)")
        return np.asarray(_nb06_entry(out[which], key)).ravel()

    cases = []
    for key in ("k1", "W"):
        v_new = np.array([0.9 * float(v) - 0.2 * float(g) for v, g in zip(velocity[key].flat, grads[key].flat)])
        theta_new = np.array([float(t) for t in params[key].flat]) + v_new
        cases.append((f"velocity of {key}, mu 0.9", lambda key=key: call(0.9, 1, key), v_new))
        cases.append((f"{key} after the step, mu 0.9", lambda key=key: call(0.9, 0, key), theta_new))
    plain = np.array([float(t) - 0.2 * float(g) for t, g in zip(params["b2"].flat, grads["b2"].flat)])
    cases.append(("mu = 0 is plain SGD (eq. 68 for b2)", lambda: call(0.0, 0, "b2"), plain))
    cases.append(("inputs are left unchanged",
                  lambda: _nb06_leaves_alone(fn, (params, grads, velocity, 0.2, 0.9)), True))
    return run_cases("check_momentum_step: v <- mu v - lr Delta theta, theta <- theta + v", cases, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Notebook 07: seed 002's network (shared kernel, max pooling, BP1-BP4)
# --------------------------------------------------------------------------------------------


def _nb07_cost(z, y, cost):
    a = _sigmoid64(z)
    if cost == "quadratic":
        return float(0.5 * np.sum((a - y) ** 2))
    return float(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a)))


def check_seed002_bp1(fn) -> bool:
    """Exercise 07.1: ``fn(a3, y, cost) -> delta3``, seed 002's BP1 for ten sigmoid outputs.

    ``a3 = sigmoid(z3)`` (10,), ``y`` one-hot (10,), ``cost`` "quadratic"
    (``C = 1/2 sum (a3 - y)^2``) or "cross_entropy" (``C = -sum [y ln a3 + (1-y) ln(1-a3)]``).
    Expected: central differences of C with respect to ``z3``.
    """
    rng = np.random.default_rng(701)
    cases = []
    for label, scale in [("moderate outputs", 1.0), ("saturated outputs (|z3| up to 6)", 6.0)]:
        z = rng.uniform(-scale, scale, 10)
        y = np.zeros(10)
        y[rng.integers(10)] = 1.0
        for cost in ("quadratic", "cross_entropy"):
            zw = z.copy()
            expected = numerical_gradient(lambda zw=zw, y=y, cost=cost: _nb07_cost(zw, y, cost), zw)
            a = _sigmoid64(z)
            cases.append((f"{cost}, {label}", lambda a=a, y=y, cost=cost: fn(a.copy(), y.copy(), cost), expected))
    return run_cases("check_seed002_bp1: delta3 = dC/dz3 for either cost", cases, atol=1e-7)


def check_seed002_output_grads(fn) -> bool:
    """Exercise 07.2: ``fn(delta3, a2) -> (dw3, db3)``, seed 002's BP4 and BP3 for the output layer.

    ``delta3`` (10,), ``a2`` the pooled map (12, 12); ``dw3`` (10, 12, 12) with
    ``dw3[l, j, k] = a2[j, k] delta3[l]`` and ``db3 = delta3``. Expected: central differences of
    ``sum_l delta3[l] z3[l]`` (whose gradient is exactly that), ``z3 = b3 + sum w3 a2``.
    """
    rng = np.random.default_rng(702)
    cases = []
    for label, a2 in [("a random pooled map", rng.random((12, 12))),
                      ("a map with one bright cell", np.eye(12)[3:4].T @ np.eye(12)[7:8])]:
        delta3 = rng.normal(0, 0.1, 10)
        w3, b3 = rng.normal(size=(10, 12, 12)), rng.normal(size=10)

        def lin(w3=w3, b3=b3, a2=a2, delta3=delta3):
            return float(delta3 @ (b3 + np.einsum("ljk,jk->l", w3, a2)))

        expected = (numerical_gradient(lin, w3), numerical_gradient(lin, b3))
        cases += _gradient_cases(fn, label, (delta3, a2), expected, ("dw3", "db3"))
    return run_cases("check_seed002_output_grads: dC/dw3[l,j,k] = a2[j,k] delta3[l], dC/db3 = delta3", cases, atol=1e-7)


def check_seed002_bp2(fn) -> bool:
    """Exercise 07.3: ``fn(dC_da2, a1) -> delta1``, seed 002's modified BP2.

    ``dC_da2`` (12, 12) is ``sum_l delta3[l] w3[l, j, k]``; ``a1 = sigmoid(z1)`` (24, 24). Each
    2x2 window passes its error to its maximum (at a tie: the first maximum in row-major order),
    which multiplies it by ``sigma'(z1) = a1 (1 - a1)``; the other three entries get 0.
    Expected values from :func:`helpers.pooling.maxpool_backward`.
    """
    from .pooling import maxpool_backward, maxpool_forward

    rng = np.random.default_rng(703)
    smooth = _sigmoid64(rng.normal(size=(24, 24)))
    background = np.full((24, 24), _sigmoid64(np.array(-0.3)))       # MNIST-like: most windows tie
    background[6:18, 9:14] = _sigmoid64(rng.normal(size=(12, 5)))
    flat = np.full((24, 24), 0.5)
    cases = []
    for label, a1 in [("no ties", smooth), ("a zero background: most windows tie", background),
                      ("a constant map: every window ties", flat)]:
        d = rng.normal(size=(12, 12))
        expected = maxpool_backward(d, maxpool_forward(a1, 2, 2)[1]) * a1 * (1 - a1)
        cases.append((label, lambda d=d, a1=a1: fn(d.copy(), a1.copy()), expected))
    return run_cases("check_seed002_bp2: delta1 = routed error times sigma'(z1)", cases, atol=1e-12)


def check_seed002_shared_grads(fn) -> bool:
    """Exercise 07.4: ``fn(delta1, a0) -> (dw1, db1)``, seed 002's BP4 and BP3 for the shared
    kernel and bias: ``dw1[l, m] = sum_{j,k} delta1[j, k] a0[j+l, k+m]`` (5, 5) and
    ``db1 = sum_{j,k} delta1[j, k]`` (a number). ``delta1`` (24, 24), ``a0`` (28, 28).
    Expected: central differences of ``sum delta1 * z1`` with ``z1 = b1 + a0 (corr) w1``.
    """
    rng = np.random.default_rng(704)
    a0 = rng.random((28, 28))
    one = np.zeros((24, 24))
    one[5, 17] = 1.0
    cases = []
    for label, delta1 in [("a random error map", rng.normal(size=(24, 24))),
                          ("one non-zero error: dw1 is the input patch it saw", one),
                          ("an error of 1 everywhere", np.ones((24, 24)))]:
        w1, b1 = rng.normal(size=(5, 5)), np.array([0.1])

        def lin(w1=w1, b1=b1, delta1=delta1):
            z1 = b1[0] + sum(w1[l, m] * a0[l:l + 24, m:m + 24] for l in range(5) for m in range(5))
            return float(np.sum(delta1 * z1))

        expected = (numerical_gradient(lin, w1), float(numerical_gradient(lin, b1)[0]))
        cases += _gradient_cases(fn, label, (delta1, a0), expected, ("dw1", "db1"))
    return run_cases("check_seed002_shared_grads: sums over all 24x24 positions", cases, atol=1e-6)


# --------------------------------------------------------------------------------------------
# Notebook 08: seed 003's network (4/6 maps, hidden layer, softmax + cross-entropy)
# --------------------------------------------------------------------------------------------


def check_seed003_param_count(fn) -> bool:
    """Exercise 08.1: ``fn(maps1, maps2, hidden) -> int``, the trainable numbers of seed 003's
    architecture with other sizes: 28x28 input, ``maps1`` maps of 5x5, 2x2 pooling, ``maps2``
    maps of 5x5 (one kernel per pair of maps), 2x2 pooling, flatten, ``hidden`` units, 10
    outputs, one bias per map or unit. Expected: the sizes of zero arrays of those shapes.
    """
    cases = []
    for m1, m2, h in [(4, 6, 50), (6, 12, 50), (1, 1, 10), (8, 16, 100)]:
        shapes = [(1, m1, 5, 5), (m1,), (m1, m2, 5, 5), (m2,), (h, m2 * 16), (h,), (10, h), (10,)]
        expected = int(sum(np.zeros(s).size for s in shapes))
        cases.append((f"{m1} and {m2} maps, {h} hidden units", lambda m1=m1, m2=m2, h=h: fn(m1, m2, h), expected))
    return run_cases("check_seed003_param_count: kernels, biases and two dense layers", cases)


def check_seed003_upsample_error(fn) -> bool:
    """Exercise 08.2: ``fn(dP, C) -> dC_sigma``: the error on a pooled layer ``dP`` (K, h, w)
    back through 2x2 average pooling and the sigmoid, ``C`` (K, 2h, 2w) the sigmoid's output:
    ``dC_sigma(i, j) = 1/4 dP(ceil(i/2), ceil(j/2)) * C(i, j) (1 - C(i, j))`` (seed 003's
    delta C^2_n and delta C^1_m). Expected from :func:`helpers.pooling.avgpool_backward`.
    """
    from .pooling import avgpool_backward, avgpool_forward

    rng = np.random.default_rng(802)
    cases = []
    for label, k, h in [("delta C^2: 6 maps, 4x4 -> 8x8", 6, 4), ("delta C^1: 4 maps, 12x12 -> 24x24", 4, 12)]:
        C = _sigmoid64(rng.normal(size=(k, 2 * h, 2 * h)))
        dP = rng.normal(size=(k, h, h))
        expected = avgpool_backward(dP, avgpool_forward(C, 2)[1]) * C * (1 - C)
        cases.append((label, lambda dP=dP, C=C: fn(dP.copy(), C.copy()), expected))
    return run_cases("check_seed003_upsample_error: 1/4 upsampling times f'", cases, atol=1e-12)


def check_seed003_conv2_grads(fn) -> bool:
    """Exercise 08.3: ``fn(C1P, dC2_sigma) -> (dK2, db2)`` for seed 003's second layer.

    ``C1P`` (4, 12, 12) pooled maps, ``dC2_sigma`` (6, 8, 8) the error before the activation;
    the layer is ``C2_sigma[n] = sum_m C1P[m] * K2[m, n] + b2[n]`` with ``*`` the valid TRUE
    convolution (seed 003, Zhang eq. 8). Expected: central differences of
    ``sum dC2_sigma * C2_sigma``: ``dK2`` (4, 6, 5, 5) and ``db2`` (6,).
    """
    from .convolution import conv_forward

    rng = np.random.default_rng(803)
    cases = []
    for label, (m, n, size) in [("seed 003's sizes: 4 maps 12x12 -> 6 maps 8x8", (4, 6, 12)),
                                ("2 maps 7x7 -> 3 maps 3x3", (2, 3, 7))]:
        C1P = rng.random((m, size, size))
        dz = rng.normal(size=(n, size - 4, size - 4))
        K2, b2 = rng.normal(0, 0.2, (m, n, 5, 5)), rng.normal(size=n)

        def lin(C1P=C1P, dz=dz, K2=K2, b2=b2):
            z, _ = conv_forward(C1P[None], K2, b2, convention="convolution")
            return float(np.sum(dz * z[0]))

        expected = (numerical_gradient(lin, K2), numerical_gradient(lin, b2))
        cases += _gradient_cases(fn, label, (C1P, dz), expected, ("dK2", "db2"))
    return run_cases("check_seed003_conv2_grads: dK2 = rot180(C1P) * dC2_sigma, db2 = sum", cases, atol=1e-6)


def check_seed003_backward(fn) -> bool:
    """Exercise 08.4: ``fn(params, x, y) -> grads``, the whole backward pass of seed 003's
    network (f = sigmoid) for one image ``x`` (28, 28) with label ``y`` (an int): a dict with the
    eight keys of :data:`helpers.softmax_net.PARAM_SHAPES`. Expected values from
    :func:`helpers.softmax_net.backward` (itself tested against finite differences).
    """
    from . import softmax_net

    rng = np.random.default_rng(804)
    cases = []
    for label, seed, biases in [("the initialisation as printed (biases zero)", 0, False),
                                ("random biases", 1, True)]:
        params = softmax_net.init_params(seed)
        if biases:
            for key in ("b1", "b2", "b_1", "b_2"):
                params[key] = rng.uniform(-0.3, 0.3, params[key].shape)
        x = rng.random((28, 28)) * (rng.random((28, 28)) < 0.3)
        y = int(rng.integers(10))
        expected = softmax_net.backward(params, softmax_net.forward(params, x), y)
        for key in softmax_net.PARAM_SHAPES:
            cases.append((f"{label}: {key}",
                          lambda params=params, x=x, y=y, key=key: _pick_key(fn(dict(params), x.copy(), y), key),
                          expected[key]))
    return run_cases("check_seed003_backward: all eight gradients", cases, atol=1e-10)


def _pick_key(result, key):
    if not isinstance(result, dict):
        raise TypeError(f"expected a dict of gradients, got {type(result).__name__}")
    if key not in result:
        raise KeyError(f"the result has no key {key!r}")
    return result[key]
