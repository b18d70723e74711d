"""Tests for notebook 03's helpers: the exercise self-checks accept a correct solution and reject
typical mistakes; show_fc_gradient draws the panels it promises."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from helpers import network, plots, selfcheck  # noqa: E402


def fc_backward(W, f, y_hat, y):
    dy_hat = (y_hat - y) * y_hat * (1 - y_hat)  # Zhang eq. 18
    return np.outer(dy_hat, f), dy_hat, W.T @ dy_hat  # eqs. 19, 24, 30


def fc_backward_batch(W, F, Y_hat, Y):
    D = (Y_hat - Y) * Y_hat * (1 - Y_hat) / F.shape[0]
    return D.T @ F, D.sum(axis=0), D @ W


def softmax_ce_delta(z, y):
    s = np.exp(z - z.max())
    return s / s.sum() - y


def fold_rows(M):
    return M.reshape(M.shape[0], 12, 4, 4).transpose(0, 1, 3, 2)


@pytest.mark.parametrize("check, solution", [
    (selfcheck.check_fc_backward, fc_backward),
    (selfcheck.check_fc_backward_batch, fc_backward_batch),
    (selfcheck.check_softmax_ce_delta, softmax_ce_delta),
    (selfcheck.check_fold_rows, fold_rows),
])
def test_checks_accept_a_correct_solution(check, solution, capsys):
    assert check(solution) is True
    out = capsys.readouterr().out
    assert "FAIL" not in out and "cases pass" in out


def _in_place(W, f, y_hat, y):
    y_hat -= y  # changes the caller's array
    dy_hat = y_hat * (y_hat + y) * (1 - y_hat - y)
    return np.outer(dy_hat, f), dy_hat, W.T @ dy_hat


@pytest.mark.parametrize("check, wrong", [
    # forgets sigma' (the softmax/cross-entropy delta used with a sigmoid output)
    (selfcheck.check_fc_backward, lambda W, f, yh, y: (np.outer(yh - y, f), yh - y, W.T @ (yh - y))),
    # df with W instead of W^T: wrong shape
    (selfcheck.check_fc_backward, lambda W, f, yh, y: fc_backward(W, f, yh, y)[:2] + (W @ f,)),
    # returns two arrays instead of three
    (selfcheck.check_fc_backward, lambda W, f, yh, y: fc_backward(W, f, yh, y)[:2]),
    # modifies its input
    (selfcheck.check_fc_backward, _in_place),
    # sum instead of mean over the batch
    (selfcheck.check_fc_backward_batch,
     lambda W, F, Yh, Y: tuple(a * F.shape[0] for a in fc_backward_batch(W, F, Yh, Y))),
    # softmax without the max shift overflows on huge logits
    (selfcheck.check_softmax_ce_delta, lambda z, y: np.exp(z) / np.exp(z).sum() - y),
    # sign error
    (selfcheck.check_softmax_ce_delta, lambda z, y: -softmax_ce_delta(z, y)),
    # row scan instead of Zhang's column scan
    (selfcheck.check_fold_rows, lambda M: M.reshape(M.shape[0], 12, 4, 4)),
])
def test_checks_reject_typical_mistakes(check, wrong, capsys):
    with np.errstate(all="ignore"):
        assert check(wrong) is False
    assert "FAIL" in capsys.readouterr().out


def test_show_fc_gradient_all_classes_and_one_class():
    rng = np.random.default_rng(0)
    params = network.init_params(0)
    cache = network.forward(params, rng.random((28, 28)))
    grads, errors = network.backward_with_errors(params, cache, 3)
    maps = fold_rows(grads["W"])
    fig = plots.show_fc_gradient(maps, errors["dy_hat"], cache["x"], 3)
    images = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    assert len(images) == 2  # the digit and one mosaic of the 10 x 12 maps
    mosaic = images[1].images[0]
    data = np.ma.getdata(mosaic.get_array())
    assert data.shape == (10 * 5 - 1, 12 * 5 - 1)
    assert np.array_equal(data[5 * 2:5 * 2 + 4, 5 * 7:5 * 7 + 4], maps[2, 7])  # class 2, map q=8
    assert np.isnan(data[4]).all() and np.isnan(data[:, 4]).all()  # white gaps between maps
    vmin, vmax = mosaic.get_clim()
    assert vmin == -vmax == -np.abs(maps).max()
    assert [t.get_text() for t in images[1].get_yticklabels()] == [f"i={i}" for i in range(10)]
    fig = plots.show_fc_gradient(maps, errors["dy_hat"], output_class=3)
    panel = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"][0]
    data = np.ma.getdata(panel.images[0].get_array())
    assert data.shape == (3 * 5 - 1, 4 * 5 - 1)  # 12 maps in 3 rows of 4
    assert np.array_equal(data[5:9, 0:4], maps[3, 4])  # map q=5 of row 3
    assert len(panel.texts) == 12 * 16 + 12  # every value plus the 12 map titles
    assert panel.images[0].get_clim()[1] == np.abs(maps[3]).max()


def test_show_fc_gradient_errors_name_the_argument():
    maps = np.zeros((10, 12, 4, 4))
    with pytest.raises(ValueError, match="dy_hat"):
        plots.show_fc_gradient(maps, np.zeros(9))
    with pytest.raises(ValueError, match="dW_maps"):
        plots.show_fc_gradient(np.zeros((10, 192)), np.zeros(10))
    with pytest.raises(ValueError, match="output_class"):
        plots.show_fc_gradient(maps, np.zeros(10), output_class=10)


def dense_head_backward(W1, b1, W2, b2, a0, y):
    a1 = 1.0 / (1.0 + np.exp(-(W1 @ a0 + b1)))
    delta = softmax_ce_delta(W2 @ a1 + b2, y)  # seed 003: s - y
    delta1 = (W2.T @ delta) * a1 * (1 - a1)  # W_2^T delta times f'
    return np.outer(delta1, a0), delta1, np.outer(delta, a1), delta


def test_dense_head_check_accepts_bp_and_rejects_a_missing_derivative(capsys):
    assert selfcheck.check_dense_head_backward(dense_head_backward) is True

    def no_sigma_prime(W1, b1, W2, b2, a0, y):
        dW1, db1, dW2, db2 = dense_head_backward(W1, b1, W2, b2, a0, y)
        a1 = 1.0 / (1.0 + np.exp(-(W1 @ a0 + b1)))
        return dW1 / (a1 * (1 - a1))[:, None], db1 / (a1 * (1 - a1)), dW2, db2

    assert selfcheck.check_dense_head_backward(no_sigma_prime) is False
    assert "FAIL" in capsys.readouterr().out
