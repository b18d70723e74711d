"""Checks for notebook 02: the forward pass of the seed network (Zhang eqs. 5-12)."""

from __future__ import annotations

import numpy as np

from helpers.checks.base import case_rng, run_cases
from helpers.flatten import column_scan, column_unscan

__all__ = ["check_flatten_F", "check_unflatten_F", "check_avgpool_zhang", "check_c2_forward",
           "check_conv_layer_params"]


def _seed_forward_cache(index: int = 1500):
    """Forward cache of MNIST-5k image ``index`` through the seed network with init seed 0."""
    from helpers.data import load_mnist_5k
    from helpers.network import forward, init_params

    images, _ = load_mnist_5k()
    params = init_params(seed=0)
    return params, forward(params, images[index] / 255.0)


def check_flatten_F(student_fn, hidden: bool = False) -> bool:
    """Exercise 02.1a: ``student_fn(S2)`` maps twelve 4x4 maps ``(12, 4, 4)`` to ``f (192,)``:
    each map scanned column by column, maps in order q = 1..12 (Zhang eq. 10).

    Cases: a map of consecutive numbers (readable), a random one, and the S2 of a real digit
    compared with the ``f`` that :func:`helpers.network.forward` produced. ``hidden=True``:
    another random S2 and another digit.
    """
    rng = case_rng(104, hidden)
    counting = np.arange(192, dtype=np.float64).reshape(12, 4, 4)
    random_maps = rng.standard_normal((12, 4, 4))
    digit = 2700 if hidden else 1500
    _, cache = _seed_forward_cache(digit)
    cases = [("random S2", lambda: student_fn(random_maps.copy()), column_scan(random_maps)),
             (f"S2 of digit {digit} vs forward()['f']", lambda: student_fn(cache["S2"].copy()), cache["f"])]
    if not hidden:
        cases.insert(0, ("S2 = 0..191 in row-major order", lambda: student_fn(counting.copy()),
                         column_scan(counting)))
    return run_cases("check_flatten_F: column scan, maps concatenated (Zhang eq. 10)", cases, hidden=hidden)


def check_unflatten_F(student_fn, hidden: bool = False) -> bool:
    """Exercise 02.1b: ``student_fn(f)`` is F^{-1} (Zhang eq. 11): ``f (192,)`` back to
    ``(12, 4, 4)``. Checked against the S2 of a real digit and on a counting vector.
    ``hidden=True``: a random vector and another digit."""
    counting = np.arange(192, dtype=np.float64)
    if hidden:
        counting = case_rng(107, hidden).standard_normal(192)
    digit = 2700 if hidden else 1500
    _, cache = _seed_forward_cache(digit)
    cases = [("a random f" if hidden else "f = 0..191", lambda: student_fn(counting.copy()),
              column_unscan(counting, 12, 4)),
             (f"f of digit {digit} vs forward()['S2']", lambda: student_fn(cache["f"].copy()), cache["S2"])]
    return run_cases("check_unflatten_F: F^{-1}, the inverse column scan (Zhang eq. 11)", cases, hidden=hidden)


def check_avgpool_zhang(student_fn, hidden: bool = False) -> bool:
    """Exercise 02.2: ``student_fn(C)`` is 2x2 average pooling with stride 2 (Zhang eqs. 6 and
    9) of maps ``(K, 2H, 2W)`` -> ``(K, H, W)``. Compared with
    :func:`helpers.pooling.avgpool_forward` and with the S1, S2 of a real forward pass.
    ``hidden=True``: another digit and other shapes."""
    from helpers.pooling import avgpool_forward

    rng = case_rng(105, hidden)
    digit = 2700 if hidden else 1500
    _, cache = _seed_forward_cache(digit)
    odd = rng.standard_normal((2, 4, 8) if hidden else (3, 6, 4))
    tiny = rng.standard_normal((1, 2, 2))
    cases = [(f"C1 of digit {digit} -> S1 (6, 12, 12)", lambda: student_fn(cache["C1"].copy()), cache["S1"]),
             (f"{odd.shape} maps, not square", lambda: student_fn(odd.copy()), avgpool_forward(odd)[0])]
    if not hidden:
        cases[1:1] = [(f"C2 of digit {digit} -> S2 (12, 4, 4)", lambda: student_fn(cache["C2"].copy()), cache["S2"])]
        cases.append(("(1, 2, 2): one window", lambda: student_fn(tiny.copy()), avgpool_forward(tiny)[0]))
    return run_cases("check_avgpool_zhang: S(i, j) = 1/4 sum of a 2x2 window (Zhang eq. 6)", cases, hidden=hidden)


def check_c2_forward(student_fn, hidden: bool = False) -> bool:
    """Exercise 02.3: ``student_fn(S1, k2, b2)`` is layer C2 (Zhang eqs. 7-8): for each output
    map q, the sigmoid of ``b2[q]`` plus the sum over input maps p of the valid TRUE
    convolution of ``S1[p]`` with ``k2[p, q]``. Shapes ``(P, H, W), (P, Q, 5, 5), (Q,)`` ->
    ``(Q, H - 4, W - 4)``. Compared with :func:`helpers.network.forward` and
    :func:`helpers.convolution.conv_forward`. ``hidden=True``: another digit and other sizes."""
    from helpers.activations import sigmoid
    from helpers.convolution import conv_forward

    digit = 2700 if hidden else 1500
    params, cache = _seed_forward_cache(digit)
    rng = case_rng(106, hidden)
    p, q, h, w = (2, 3, 8, 7) if hidden else (3, 4, 9, 10)
    S1_small = rng.random((p, h, w))
    k2_small = rng.standard_normal((p, q, 5, 5)) * 0.3
    b2_small = rng.standard_normal(q) * 0.1
    expected_small = sigmoid(conv_forward(S1_small[None], k2_small, b2_small, convention="convolution")[0][0])
    flipped = sigmoid(conv_forward(S1_small[None], k2_small, b2_small, convention="correlation")[0][0])
    cases = [(f"seed network, digit {digit}: C2 (12, 8, 8)",
              lambda: student_fn(cache["S1"].copy(), params["k2"].copy(), params["b2"].copy()), cache["C2"]),
             (f"{p} input maps {h}x{w}, {q} output maps, nonzero biases",
              lambda: student_fn(S1_small.copy(), k2_small.copy(), b2_small.copy()), expected_small,
              {"kernel not flipped: a correlation where Zhang convolves (rot180 forgotten)": flipped})]
    return run_cases("check_c2_forward: C2 = sigmoid(sum_p S1_p * k2_pq + b2_q) (Zhang eq. 8)", cases, hidden=hidden)


def check_conv_layer_params(student_fn, hidden: bool = False) -> bool:
    """Exercise 02.4: ``student_fn(c_in, c_out, f)`` is the number of trainable numbers of a
    convolution layer with ``c_in`` input maps, ``c_out`` output maps, f x f kernels and one
    bias per output map. Expected values are the sizes of arrays built with those shapes
    (Zhang's layers C1, C2 and those of seed 003). ``hidden=True``: other layers."""
    cases = []
    layers = [("a 7x7 layer", 2, 5, 7), ("a wide 3x3 layer", 16, 32, 3), ("a 1x1 layer", 1, 1, 1)] if hidden else [
        ("Zhang C1", 1, 6, 5), ("Zhang C2", 6, 12, 5), ("seed 003 first layer", 1, 4, 5),
        ("seed 003 second layer", 4, 6, 5), ("a small layer", 3, 8, 3)]
    for name, c_in, c_out, f in layers:
        expected = np.zeros((c_in, c_out, f, f)).size + np.zeros(c_out).size
        cases.append((f"{name}: {c_in} -> {c_out} maps, {f}x{f}",
                      lambda c_in=c_in, c_out=c_out, f=f: student_fn(c_in, c_out, f), int(expected)))
    return run_cases("check_conv_layer_params: kernels plus one bias per output map", cases, hidden=hidden)
