"""Tests for the helpers added for notebooks 01 and 02: self-checks, figures, the size-switching
kernel editor. Each self-check must pass a correct solution and fail a plausible wrong one."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from helpers import plots, selfcheck, widgets
from helpers.activations import sigmoid
from helpers.convolution import convolve2d, correlate2d, rot180
from helpers.pooling import avgpool_forward


def _conv_loops(x, k):
    kh, kw = k.shape
    out = np.zeros((x.shape[0] - kh + 1, x.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(x[i:i + kh, j:j + kw] * k[::-1, ::-1])
    return out


def _c2(S1, k2, b2):
    maps = [sum(convolve2d(S1[p], k2[p, q]) for p in range(S1.shape[0])) + b2[q] for q in range(k2.shape[1])]
    return sigmoid(np.stack(maps))


GOOD_AND_BAD = [
    (selfcheck.check_convolve2d, _conv_loops, lambda x, k: correlate2d(x, k)),
    (selfcheck.check_output_size, lambda n, f, p, s: (n + 2 * p - f) // s + 1,
     lambda n, f, p, s: round((n + 2 * p - f) / s) + 1),
    (selfcheck.check_conv_input_gradient,
     lambda d, w: correlate2d(np.pad(d, ((w.shape[0] - 1,) * 2, (w.shape[1] - 1,) * 2)), rot180(w)),
     lambda d, w: correlate2d(np.pad(d, ((w.shape[0] - 1,) * 2, (w.shape[1] - 1,) * 2)), w)),
    (selfcheck.check_conv_kernel_gradient, lambda a, d: correlate2d(a, d), lambda a, d: convolve2d(a, d)),
    (selfcheck.check_zhang_index, lambda i, j, u, v: (i + 1 - u, j + 1 - v), lambda i, j, u, v: (i - 1 - u, j - 1 - v)),
    (selfcheck.check_flatten_F, lambda S2: np.concatenate([m.T.ravel() for m in S2]), lambda S2: S2.ravel()),
    (selfcheck.check_unflatten_F, lambda f: f.reshape(12, 4, 4).transpose(0, 2, 1), lambda f: f.reshape(12, 4, 4)),
    (selfcheck.check_avgpool_zhang, lambda C: avgpool_forward(C)[0], lambda C: C[:, ::2, ::2]),
    (selfcheck.check_c2_forward, _c2,
     lambda S1, k2, b2: _c2(S1, k2[:, :, ::-1, ::-1], b2)),  # correlation instead of convolution
    (selfcheck.check_conv_layer_params, lambda c_in, c_out, f: c_in * c_out * f * f + c_out,
     lambda c_in, c_out, f: c_out * f * f + c_out),  # forgets the input maps
]


@pytest.mark.parametrize("check, good, bad", GOOD_AND_BAD, ids=[c[0].__name__ for c in GOOD_AND_BAD])
def test_selfchecks_pass_right_and_fail_wrong(check, good, bad, capsys):
    assert check(good) is True
    assert check(bad) is False
    out = capsys.readouterr().out
    assert "FAIL" in out and "pass" in out


def test_selfcheck_reports_exceptions(capsys):
    def broken(*args):
        raise IndexError("oops")

    assert selfcheck.check_output_size(broken) is False
    assert "raised IndexError: oops" in capsys.readouterr().out


def test_show_conv_example_panels_and_flip():
    x = np.random.default_rng(0).random((10, 10))
    k = np.arange(9.0).reshape(3, 3)
    fig = plots.show_conv_example(x, k, convolve2d(x, k), "convolution", label=3)
    assert isinstance(fig, Figure)
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 4  # input, kernel, slid kernel, feature map
    np.testing.assert_array_equal(images[1].images[0].get_array(), k)
    np.testing.assert_array_equal(images[2].images[0].get_array(), rot180(k))
    fig2 = plots.show_conv_example(x, k, correlate2d(x, k), "cross-correlation")
    np.testing.assert_array_equal([ax for ax in fig2.axes if ax.images][2].images[0].get_array(), k)
    with pytest.raises(ValueError, match="operation"):
        plots.show_conv_example(x, k, correlate2d(x, k), "conv")
    with pytest.raises(ValueError, match="k must have shape"):
        plots.show_conv_example(x, k[0], correlate2d(x, k))


def test_show_kernel_placement_validates():
    place = np.stack(np.meshgrid(np.arange(3), np.arange(3), indexing="ij"), axis=-1)
    fig = plots.show_kernel_placement({"corr": place, "conv": place[::-1, ::-1]}, n=5, out_index=(0, 0))
    assert len([ax for ax in fig.axes if ax.images]) == 2
    with pytest.raises(ValueError, match="outside"):
        plots.show_kernel_placement({"corr": place + 4}, n=5)
    with pytest.raises(ValueError, match=r"\(f, f, 2\)"):
        plots.show_kernel_placement({"corr": place[..., 0]}, n=5)
    with pytest.raises(TypeError):
        plots.show_kernel_placement({}, n=5)


def test_show_init_histograms_density_matches_uniform():
    rng = np.random.default_rng(1)
    params = {"W": rng.uniform(-0.2, 0.2, 4000)}
    fig = plots.show_init_histograms(params, {"W": 0.2})
    ax = fig.axes[0]
    heights = np.array([patch.get_height() for patch in ax.patches])
    # two empty bins on each side of +-a; inside, a flat density near 1 / (2a) = 2.5
    assert np.all(heights[:2] == 0) and np.all(heights[-2:] == 0)
    assert abs(heights[2:-2].mean() - 2.5) < 0.05
    with pytest.raises(KeyError):
        plots.show_init_histograms(params, {"k1": 0.1})
    with pytest.raises(ValueError, match="> 0"):
        plots.show_init_histograms(params, {"W": 0.0})


def test_multi_size_kernel_editor_follows_size_and_edits():
    presets = {3: {"a": np.ones((3, 3))}, 5: {"b": np.full((5, 5), 2.0)}}
    editor = widgets.multi_size_kernel_editor(presets=presets)
    seen = []
    editor.observe(lambda change: seen.append(change["new"].shape), names="value")
    np.testing.assert_array_equal(editor.value, np.ones((3, 3)))
    assert editor.editors[5].layout.display == "none"
    editor.size_buttons.value = 5
    np.testing.assert_array_equal(editor.value, np.full((5, 5), 2.0))
    assert editor.editors[3].layout.display == "none" and editor.editors[5].layout.display is None
    editor.editors[5].cells[0].value = 7.0
    assert editor.value[0, 0] == 7.0
    editor.editors[3].cells[0].value = -1.0  # hidden editor: does not change the value
    assert editor.value.shape == (5, 5) and editor.value[0, 0] == 7.0
    assert seen[:2] == [(5, 5), (5, 5)]


def test_multi_size_kernel_editor_drives_interactive_figure():
    calls = []

    def render(kernel):
        calls.append(kernel.shape)
        return plots.new_figure(1, 1)

    editor = widgets.multi_size_kernel_editor()
    widgets.interactive_figure(render, kernel=editor)
    editor.size_buttons.value = 5
    assert calls == [(3, 3), (5, 5)]


def test_multi_size_kernel_editor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sizes"):
        widgets.multi_size_kernel_editor(sizes=(3, 3))
    with pytest.raises(ValueError, match="not in sizes"):
        widgets.multi_size_kernel_editor(presets={7: {"x": np.zeros((7, 7))}})
    with pytest.raises(ValueError, match="size must be one of"):
        widgets.multi_size_kernel_editor(size=4)
