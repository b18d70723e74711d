"""Checks for notebook 06: training (Zhang eqs. 65-70)."""

from __future__ import annotations

import numpy as np

from helpers.checks.base import case_rng, leaves_inputs_alone, pick_key, run_cases

__all__ = ["check_sgd_step", "check_confusion_matrix", "check_minibatches", "check_momentum_step"]


_SHAPES = {"k1": (6, 5, 5), "b1": (6,), "k2": (6, 12, 5, 5), "b2": (12,), "W": (10, 192), "b": (10,)}


def _random_dicts(rng, dtype=np.float64):
    params = {k: rng.uniform(-1, 1, s).astype(dtype) for k, s in _SHAPES.items()}
    grads = {k: rng.standard_normal(s).astype(dtype) for k, s in _SHAPES.items()}
    return params, grads


def check_sgd_step(fn, hidden: bool = False) -> bool:
    """Exercise 06.1: ``fn(params, grads, lr) -> new_params``, Zhang eqs. 65-70.

    ``params`` and ``grads`` are dicts with the six keys ``k1, b1, k2, b2, W, b`` of the seed
    network. Return a new dict with ``theta - lr * Delta theta`` for every tensor, leave both
    inputs unchanged and keep the dtype (float32 stays float32). Expected values are written
    out entry by entry with Python floats. ``hidden=True``: other numbers and learning rate.
    """
    rng = case_rng(601, hidden)
    lr = 0.05 if hidden else 0.3
    cases = []
    params, grads = _random_dicts(rng)
    for key in _SHAPES:  # eqs. 65-70, one tensor each
        expected = np.array([float(t) - lr * float(g) for t, g in zip(params[key].flat, grads[key].flat)])
        cases.append((f"{key} after one step, lr {lr}",
                      lambda key=key: np.asarray(pick_key(fn({k: v.copy() for k, v in params.items()},
                                                                  {k: v.copy() for k, v in grads.items()}, lr), key)).ravel(),
                      expected))
    cases.append(("a zero gradient changes nothing",
                  lambda: pick_key(fn(params, {k: np.zeros(s) for k, s in _SHAPES.items()}, 5.0), "W"),
                  params["W"]))
    cases.append(("params and grads are left unchanged", lambda: leaves_inputs_alone(fn, (params, grads, 0.3)), True))
    p32, g32 = _random_dicts(rng, np.float32)
    cases.append(("float32 in, float32 out", lambda: str(np.asarray(pick_key(fn(p32, g32, 0.5), "k2")).dtype), "float32"))
    return run_cases("check_sgd_step: theta <- theta - lr * Delta theta (Zhang eqs. 65-70)", cases, atol=1e-12,
                     hidden=hidden)


def check_confusion_matrix(fn, hidden: bool = False) -> bool:
    """Exercise 06.2: ``fn(y_true, y_pred) -> cm`` (10, 10), ``cm[i, j]`` = images of class i
    answered as j. Expected values are counted with a plain Python dictionary.
    ``hidden=True``: other answers."""
    rng = case_rng(602, hidden)

    def counted(y_true, y_pred):
        counts = {}
        for t, p in zip(y_true.tolist(), y_pred.tolist()):
            counts[(t, p)] = counts.get((t, p), 0) + 1
        return np.array([[counts.get((i, j), 0) for j in range(10)] for i in range(10)])

    hand_true, hand_pred = (np.array([0, 7, 7, 2, 2]), np.array([7, 7, 0, 2, 9])) if hidden else (
        np.array([3, 3, 5, 5, 5, 9]), np.array([3, 5, 5, 3, 5, 4]))
    many_true = rng.integers(0, 10, 500)
    many_pred = np.where(rng.random(500) < 0.8, many_true, rng.integers(0, 10, 500))
    perfect = np.arange(10).repeat(3)
    cases = [
        (f"{'five' if hidden else 'six'} hand-made answers", lambda: fn(hand_true.copy(), hand_pred.copy()),
         counted(hand_true, hand_pred)),
        ("500 answers, 80% right", lambda: fn(many_true.copy(), many_pred.copy()), counted(many_true, many_pred)),
        ("all right: only the diagonal", lambda: fn(perfect.copy(), perfect.copy()), 3 * np.eye(10)),
        ("a class that never occurs keeps a zero row", lambda: fn(np.array([0, 0]), np.array([0, 9]))[5],
         np.zeros(10)),
    ]
    return run_cases("check_confusion_matrix: rows = true class, columns = answer", cases[:2] if hidden else cases,
                     atol=0, hidden=hidden)


def check_minibatches(fn, hidden: bool = False) -> bool:
    """Exercise 06.3: ``fn(n, batch_size, rng) -> list of index arrays`` for one epoch.

    Every index 0..n-1 appears exactly once, the batches hold ``batch_size`` indices except
    possibly a smaller last one, the order is shuffled by ``rng`` (a
    ``numpy.random.Generator``), and the same seed gives the same batches. ``hidden=True``:
    other sizes and seeds.
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

    if hidden:
        return run_cases("check_minibatches: one epoch of shuffled mini-batches", [
            ("1000 images in batches of 7: 142 of 7, then 6", lambda: sizes(1000, 7), [7] * 142 + [6]),
            ("every index exactly once", lambda: covered(57, 4), list(range(57))),
            ("same seed, same batches", lambda: same_twice(33, 5), True),
            ("the order is shuffled", lambda: shuffled(64, 8), True)], hidden=True)
    cases = [
        ("4000 images in batches of 5: 800 batches of 5", lambda: sizes(4000, 5), [5] * 800),
        ("45 images in batches of 10: 10, 10, 10, 10, 5", lambda: sizes(45, 10), [10, 10, 10, 10, 5]),
        ("every index exactly once", lambda: covered(103, 10), list(range(103))),
        ("same seed, same batches", lambda: same_twice(50, 8), True),
        ("the order is shuffled", lambda: shuffled(100, 10), True),
    ]
    return run_cases("check_minibatches: one epoch of shuffled mini-batches", cases)


def check_momentum_step(fn, hidden: bool = False) -> bool:
    """Exercise 06.4: ``fn(params, grads, velocity, lr, mu) -> (new_params, new_velocity)``.

    SGD with momentum, one tensor at a time: ``v <- mu * v - lr * Delta theta`` and then
    ``theta <- theta + v``. With ``mu = 0`` it is Zhang's eqs. 65-70. Inputs stay unchanged.
    Expected values are written out entry by entry with Python floats. ``hidden=True``: other
    numbers, rates and tensors.
    """
    rng = case_rng(604, hidden)
    lr, mu = (0.1, 0.5) if hidden else (0.2, 0.9)
    params, grads = _random_dicts(rng)
    velocity = {k: rng.standard_normal(s) * 0.1 for k, s in _SHAPES.items()}

    def call(mu, which, key):
        out = fn({k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in grads.items()},
                 {k: v.copy() for k, v in velocity.items()}, lr, mu)
        if not isinstance(out, tuple) or len(out) != 2:
            raise TypeError("expected a tuple (new_params, new_velocity)")
        return np.asarray(pick_key(out[which], key)).ravel()

    cases = []
    for key in (("b1", "k2") if hidden else ("k1", "W")):
        v_new = np.array([mu * float(v) - lr * float(g) for v, g in zip(velocity[key].flat, grads[key].flat)])
        theta_new = np.array([float(t) for t in params[key].flat]) + v_new
        cases.append((f"velocity of {key}, mu {mu}", lambda key=key: call(mu, 1, key), v_new))
        cases.append((f"{key} after the step, mu {mu}", lambda key=key: call(mu, 0, key), theta_new))
    if not hidden:
        plain = np.array([float(t) - lr * float(g) for t, g in zip(params["b2"].flat, grads["b2"].flat)])
        cases.append(("mu = 0 is plain SGD (eq. 68 for b2)", lambda: call(0.0, 0, "b2"), plain))
        cases.append(("inputs are left unchanged",
                      lambda: leaves_inputs_alone(fn, (params, grads, velocity, lr, mu)), True))
    return run_cases("check_momentum_step: v <- mu v - lr Delta theta, theta <- theta + v", cases, atol=1e-12,
                     hidden=hidden)
