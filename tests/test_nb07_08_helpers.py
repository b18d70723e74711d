"""Tests for the figures and exercise self-checks of notebooks 07 and 08: each figure is built
headless and has the panels it promises; each self-check passes a correct solution and fails a
plausible wrong one (so the checks can fail)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers import maxpool_net, plots, pooling, selfcheck, softmax_net  # noqa: E402
from helpers.convolution import conv_backward, convolve2d, rot180  # noqa: E402


def _digit():
    x = np.zeros((28, 28))
    x[6:22, 12:16] = 1.0
    return x


# --------------------------------------------------------------------------------------------
# figures
# --------------------------------------------------------------------------------------------
def test_show_maxpool_backward_panels_and_errors():
    p = maxpool_net.init_params(0)
    cache = maxpool_net.forward(p, _digit())
    grads, err = maxpool_net.backward_with_errors(p, cache, 1)
    fig = plots.show_maxpool_backward(_digit(), cache["a1"], cache["a2"], err["delta1"], p["w1"], grads["w1"],
                                      label=1, title="t")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 12                         # six panels and six colourbars
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "max-pooled" in titles and "shared kernel" in titles
    with pytest.raises(ValueError, match=r"a1 must have shape \(24, 24\)"):
        plots.show_maxpool_backward(_digit(), cache["a2"], cache["a2"], err["delta1"], p["w1"], grads["w1"])


def test_window_winners_follow_the_first_maximum_rule():
    rng = np.random.default_rng(0)
    a1 = rng.random((24, 24))
    a1[0:2, 0:2] = 0.5                                 # a four-way tie: the winner is (0, 0)
    rows, cols = plots._window_winners(a1)
    routed = pooling.maxpool_backward(np.ones((12, 12)), pooling.maxpool_forward(a1, 2, 2)[1])
    marked = np.zeros((24, 24))
    marked[rows, cols] = 1
    assert np.array_equal(marked, routed)
    assert marked[0, 0] == 1


def test_show_layer_errors_maps_and_vectors():
    p = softmax_net.init_params(0)
    cache = softmax_net.forward(p, _digit())
    _, err = softmax_net.backward_with_errors(p, cache, 2)
    fig = plots.show_layer_errors(cache["C2"], err["dC2_sigma"], value_name="C^2_n", error_name=r"\delta C^2_n",
                                  prefix="n")
    assert len(fig.axes) == 2 * 6 + 2                  # two grids of six maps, a colourbar each
    fig = plots.show_layer_errors(cache["s"], err["delta"], label=2)
    assert len(fig.axes) == 2
    bars = fig.axes[0].patches
    assert bars[2].get_facecolor() != bars[0].get_facecolor()      # the label's bar is highlighted
    with pytest.raises(ValueError, match="shape of values"):
        plots.show_layer_errors(cache["C2"], err["dC1P"])
    with pytest.raises(ValueError, match=r"\(K, H, W\) maps or \(n,\)"):
        plots.show_layer_errors(np.zeros((4, 4)), np.zeros((4, 4)))


def test_show_gradient_sizes_and_show_runs():
    sizes = {"a": {"K1": 1e-3, "W": 1e-2}, "b": {"K1": 2e-2, "W": 1e-2}}
    fig = plots.show_gradient_sizes(sizes, title="t")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(ax.patches) == 4
    with pytest.raises(ValueError, match="positive"):
        plots.show_gradient_sizes({"a": {"K1": 0.0}})
    with pytest.raises(ValueError, match="in this order"):
        plots.show_gradient_sizes({"a": {"K1": 1.0, "W": 1.0}, "b": {"W": 1.0, "K1": 1.0}})
    with pytest.raises(TypeError, match="non-empty dict"):
        plots.show_gradient_sizes({})
    history = {"step_loss": list(np.linspace(1, 0.1, 50)), "epoch": [0, 1, 2], "val_acc": [0.1, 0.5, 0.8]}
    fig = plots.show_runs({"run": history}, smooth=10)
    ax_loss, ax_acc = fig.axes
    assert len(ax_loss.lines[0].get_xdata()) == 41       # 50 steps, moving average of 10
    assert list(ax_acc.lines[0].get_ydata()) == pytest.approx([10.0, 50.0, 80.0])
    assert "80.0%" in ax_acc.get_legend().get_texts()[0].get_text()
    with pytest.raises(KeyError, match="val_acc"):
        plots.show_runs({"run": {"step_loss": [1.0], "epoch": [0]}})
    with pytest.raises(ValueError, match="smooth"):
        plots.show_runs({"run": history}, smooth=0)


# --------------------------------------------------------------------------------------------
# self-checks: pass the right answer, fail a wrong one
# --------------------------------------------------------------------------------------------
def _bp2_first(d, a1):
    return pooling.maxpool_backward(d, pooling.maxpool_forward(a1, 2, 2)[1]) * a1 * (1 - a1)


def _bp2_every_maximum(d, a1):                          # seed 002's literal reading at ties
    w = a1.reshape(12, 2, 12, 2)
    return ((w == w.max(axis=(1, 3), keepdims=True)) * d[:, None, :, None]).reshape(24, 24) * a1 * (1 - a1)


@pytest.mark.parametrize("check, right, wrong", [
    (selfcheck.check_seed002_bp1,
     lambda a, y, cost: (a - y) * a * (1 - a) if cost == "quadratic" else a - y,
     lambda a, y, cost: (a - y) * a * (1 - a)),
    (selfcheck.check_seed002_output_grads,
     lambda d, a2: (d[:, None, None] * a2[None], d.copy()),
     lambda d, a2: (d[:, None, None] * a2.T[None], d.copy())),
    (selfcheck.check_seed002_bp2, _bp2_first, _bp2_every_maximum),
    (selfcheck.check_seed002_shared_grads,
     lambda d, a0: (np.array([[np.sum(d * a0[l:l + 24, m:m + 24]) for m in range(5)] for l in range(5)]), d.sum()),
     lambda d, a0: (rot180(np.array([[np.sum(d * a0[l:l + 24, m:m + 24]) for m in range(5)] for l in range(5)])),
                    d.sum())),
    (selfcheck.check_seed003_param_count,
     lambda m1, m2, h: 26 * m1 + 25 * m1 * m2 + m2 + 16 * m2 * h + h + 10 * h + 10,
     lambda m1, m2, h: 26 * m1 + 25 * m2 + m2 + 16 * m2 * h + h + 10 * h + 10),
    (selfcheck.check_seed003_upsample_error,
     lambda dP, C: np.kron(dP, np.ones((1, 2, 2))) / 4 * C * (1 - C),
     lambda dP, C: np.kron(dP, np.ones((1, 2, 2))) / 4),
    (selfcheck.check_seed003_conv2_grads,
     lambda P, d: (np.array([[convolve2d(rot180(P[m]), d[n]) for n in range(len(d))] for m in range(len(P))]),
                   d.sum(axis=(1, 2))),
     lambda P, d: (np.array([[convolve2d(P[m], d[n]) for n in range(len(d))] for m in range(len(P))]),
                   d.sum(axis=(1, 2)))),
])
def test_self_checks_pass_right_and_fail_wrong(check, right, wrong, capsys):
    assert check(right) is True
    assert check(wrong) is False
    out = capsys.readouterr().out
    assert "FAIL" in out and "pass" in out


def test_check_seed003_backward(capsys):
    def right(params, x, y):
        return softmax_net.backward(params, softmax_net.forward(params, x), y)

    def no_rotation(params, x, y):                       # conv_backward's dK2 left in correlation form
        c = softmax_net.forward(params, x)
        grads = softmax_net.backward(params, c, y)
        _, err = softmax_net.backward_with_errors(params, c, y)
        layer = dict(c["layer_caches"][2], convention="correlation")
        grads["K2"] = conv_backward(err["dC2_sigma"][None], layer)[1]
        return grads

    assert selfcheck.check_seed003_backward(right) is True
    assert selfcheck.check_seed003_backward(no_rotation) is False
    assert selfcheck.check_seed003_backward(lambda p, x, y: [1, 2]) is False
    assert "expected a dict" in capsys.readouterr().out
