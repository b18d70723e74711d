"""Self-checks for the exercises at the end of each notebook.

A student writes a function; ``check_<thing>(their_function)`` runs it on a few cases against an
independent computation from :mod:`helpers` and prints one line per case, ``pass`` or what went
wrong. Each check returns ``True`` when every case passes, so a notebook can also ``assert`` it.

All checks share :func:`run_cases`; a check only has to say what the cases are.
"""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np


def run_cases(title: str, cases: Iterable[tuple[str, Callable[[], object], object]], atol: float = 1e-8) -> bool:
    """Run ``(name, compute, expected)`` cases and print one line each.

    ``compute()`` calls the student's function; its result is compared with ``expected``
    (arrays by shape and ``max |difference| <= atol``, anything else by ``==``). An exception
    counts as a failure and its type and message are printed instead of a traceback.
    """
    print(title)
    passed = total = 0
    for name, compute, expected in cases:
        total += 1
        try:
            got = compute()
        except Exception as exc:  # the student's code may raise anything
            print(f"  FAIL  {name}: raised {type(exc).__name__}: {exc}")
            continue
        ok, why = _compare(got, expected, atol)
        passed += ok
        print(f"  {'pass' if ok else 'FAIL'}  {name}" + ("" if ok else f": {why}"))
    print(f"{passed} of {total} cases pass")
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


def _fd_gradient(loss, arr, h=1e-6):
    """Central differences of the scalar ``loss()`` with respect to the float64 array ``arr``."""
    grad = np.zeros_like(arr)
    for idx in np.ndindex(*arr.shape):
        old = arr[idx]
        arr[idx] = old + h
        plus = loss()
        arr[idx] = old - h
        minus = loss()
        arr[idx] = old
        grad[idx] = (plus - minus) / (2 * h)
    return grad


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
    expected = (_fd_gradient(mean_loss, W), _fd_gradient(mean_loss, b), _fd_gradient(mean_loss, f))
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
        expected = _fd_gradient(lambda: float(-np.sum(y * _log_softmax64(work))), work)
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
