"""Tests for helpers.train: the SGD update (Zhang eqs. 65-70), the training loop, evaluation,
saving without pickle and the command line ``python -m helpers.train``."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from helpers import data, network
from helpers import train as T

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO_ROOT.parent / "shared" / "datasets" / "mnist"
KEYS = list(network.PARAM_SHAPES)


@pytest.fixture(scope="module")
def mnist5k():
    """A small real subset: 200 training and 100 held-out MNIST-5k digits, float64."""
    x_train, y_train, x_val, y_val = data.load_mnist_5k_split(dtype=np.float64)
    return x_train[:200], y_train[:200], x_val[:100], y_val[:100]


def hand_params(dtype=np.float64):
    """Parameters whose entries are 0, 1, 2, ... scaled, so every entry is distinct."""
    params, start = {}, 0
    for key, shape in network.PARAM_SHAPES.items():
        size = int(np.prod(shape))
        params[key] = (np.arange(start, start + size, dtype=np.float64).reshape(shape) / 100).astype(dtype)
        start += size
    return params


# --------------------------------------------------------------------------------------------
# sgd_step
# --------------------------------------------------------------------------------------------
def test_sgd_step_hand_numbers():
    params = hand_params()
    grads = {key: np.full(shape, 0.5) for key, shape in network.PARAM_SHAPES.items()}
    grads["b1"] = np.array([1.0, -2.0, 0.0, 4.0, 0.25, -0.5])
    before = {key: val.copy() for key, val in params.items()}
    new = T.sgd_step(params, grads, lr=0.1)
    # eq. 66 entry by entry: b1 = [1.50, 1.51, ...] (k1 holds the first 150 numbers) minus 0.1 * grads
    assert_allclose(new["b1"], [1.50 - 0.1, 1.51 + 0.2, 1.52, 1.53 - 0.4, 1.54 - 0.025, 1.55 + 0.05])
    assert new["k1"][0, 0, 0] == pytest.approx(0.0 - 0.05)  # eq. 65, first entry
    assert new["b"][-1] == pytest.approx(3897 / 100 - 0.05)  # eq. 70, the 3898th number
    for key in ("k2", "b2", "W"):  # eqs. 67-69
        assert_allclose(new[key], before[key] - 0.05)
    for key in KEYS:  # inputs untouched, new arrays returned
        assert_array_equal(params[key], before[key])
        assert new[key] is not params[key]


def test_sgd_step_keeps_float32():
    params = hand_params(np.float32)
    grads = {key: np.ones(shape, np.float32) for key, shape in network.PARAM_SHAPES.items()}
    new = T.sgd_step(params, grads, 0.3)
    assert all(new[key].dtype == np.float32 for key in KEYS)
    assert_allclose(new["W"], params["W"] - np.float32(0.3), rtol=0, atol=1e-6)


@pytest.mark.parametrize("change, error", [
    (lambda g: g.pop("W"), ValueError),
    (lambda g: g.update(extra=np.zeros(1)), ValueError),
    (lambda g: g.update(k2=np.zeros((12, 6, 5, 5))), ValueError),
    (lambda g: g.update(b=np.full(10, np.nan)), ValueError),
    (lambda g: g.update(b=np.arange(10)), TypeError),
])
def test_sgd_step_rejects_bad_grads(change, error):
    params = network.init_params(0)
    grads = {key: np.zeros(shape) for key, shape in network.PARAM_SHAPES.items()}
    change(grads)
    with pytest.raises(error):
        T.sgd_step(params, grads, 0.1)


@pytest.mark.parametrize("lr, error", [(0, ValueError), (-1, ValueError), (math.inf, ValueError),
                                       ("1", TypeError), (True, TypeError)])
def test_sgd_step_rejects_bad_lr(lr, error):
    params = network.init_params(0)
    grads = {key: np.zeros(shape) for key, shape in network.PARAM_SHAPES.items()}
    with pytest.raises(error, match="lr"):
        T.sgd_step(params, grads, lr)


def test_learning_rates():
    assert T.learning_rates(2.0, 3) == [2.0, 2.0, 2.0]
    assert_allclose(T.learning_rates(2.0, 4, 0.5), [2.0, 1.0, 0.5, 0.25])
    with pytest.raises(ValueError, match="lr_decay"):
        T.learning_rates(1.0, 3, 1.5)
    with pytest.raises(ValueError, match="epochs"):
        T.learning_rates(1.0, 0)


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------
def test_train_is_the_sgd_loop_it_documents(mnist5k):
    """Rebuild two epochs by hand: default_rng(seed) permutations, mean-loss gradients, eqs. 65-70."""
    x, y, xv, yv = mnist5k
    x, y = x[:45], y[:45]  # 45 = 4 full batches of 10 and a last batch of 5
    start = network.init_params(3)
    trained, history = T.train(start, x, y, xv, yv, epochs=2, batch_size=10, lr=0.8, lr_decay=0.5,
                               seed=7, progress=False)
    rng = np.random.default_rng(7)
    params = {key: val.copy() for key, val in start.items()}
    step_losses = []
    for alpha in (0.8, 0.4):
        order = rng.permutation(45)
        for s in range(0, 45, 10):
            idx = order[s:s + 10]
            cache = network.forward(params, x[idx])
            step_losses.append(network.loss(cache, y[idx]))
            grads = network.backward(params, cache, y[idx])
            params = {key: params[key] - alpha * grads[key] for key in KEYS}
    for key in KEYS:
        assert_allclose(trained[key], params[key], rtol=0, atol=1e-12)
    assert_allclose(history["step_loss"], step_losses, rtol=1e-12)
    assert history["lr"][1:] == [0.8, 0.4]
    final = T.evaluate(params, xv, yv)
    assert history["val_acc"][-1] == final["accuracy"]
    assert history["val_loss"][-1] == pytest.approx(final["loss"], rel=1e-12)


def test_loss_decreases_on_real_digits(mnist5k):
    x, y, xv, yv = mnist5k
    params = network.init_params(0)
    before = T.evaluate(params, x, y)["loss"]
    trained, history = T.train(params, x, y, xv, yv, epochs=2, batch_size=10, lr=1.0, progress=False)
    after = T.evaluate(trained, x, y)["loss"]
    assert after < 0.6 * before  # 1.25 (all outputs 0.5) falls towards 0.45 (outputs ~ 0.1) and below
    assert history["step_loss"][-1] < history["step_loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]


def test_train_is_deterministic_and_seeded(mnist5k):
    x, y, xv, yv = mnist5k
    kwargs = dict(epochs=1, batch_size=20, lr=1.0, progress=False)
    p0 = network.init_params(0, np.float32)
    a, ha = T.train(p0, x, y, xv, yv, seed=1, **kwargs)
    b, hb = T.train(p0, x, y, xv, yv, seed=1, **kwargs)
    c, _ = T.train(p0, x, y, xv, yv, seed=2, **kwargs)
    for key in KEYS:
        assert_array_equal(a[key], b[key])
        assert a[key].dtype == np.float32
    assert ha == hb or all(np.array_equal(ha[k], hb[k], equal_nan=True) for k in ha)
    assert not np.array_equal(a["W"], c["W"])  # another seed shuffles differently


def test_train_history_checkpoints_and_callback(mnist5k):
    x, y, xv, yv = mnist5k
    x, y = x[:30], y[:30]
    start = network.init_params(0)
    checkpoints, seen = [], []
    trained, history = T.train(start, x, y, xv, yv, epochs=3, batch_size=8, lr=0.5, progress=False,
                               checkpoints=checkpoints, callback=lambda e, p, h: seen.append(e))
    assert history["epoch"] == [0, 1, 2, 3]
    for key in ("train_loss", "train_acc", "val_loss", "val_acc", "lr"):
        assert len(history[key]) == 4
    assert math.isnan(history["train_loss"][0]) and math.isnan(history["lr"][0])
    assert len(history["step_loss"]) == 3 * 4  # ceil(30 / 8) = 4 steps per epoch
    assert history["val_acc"][0] == T.evaluate(start, xv, yv)["accuracy"]
    assert seen == [1, 2, 3]
    assert len(checkpoints) == 4
    for key in KEYS:
        assert_array_equal(checkpoints[0][key], start[key])
        assert_array_equal(checkpoints[-1][key], trained[key])
        assert checkpoints[-1][key] is not trained[key]
    assert not np.array_equal(checkpoints[1]["W"], checkpoints[2]["W"])


def test_train_variants_run(mnist5k):
    x, y, xv, yv = mnist5k
    for variant in ({"pooling": "max"}, {"conv_activation": "relu"}, {"output": "softmax"}):
        _, history = T.train(network.init_params(0), x[:20], y[:20], xv, yv, epochs=1, batch_size=10,
                             lr=0.1, variant=variant, progress=False)
        assert np.isfinite(history["val_loss"]).all()
    with pytest.raises(ValueError, match="pooling"):
        T.train(network.init_params(0), x, y, xv, yv, epochs=1, batch_size=10, lr=0.1,
                variant={"pooling": "median"}, progress=False)


def test_train_rejects_bad_arguments(mnist5k):
    x, y, xv, yv = mnist5k
    p = network.init_params(0)
    with pytest.raises(ValueError, match="x_train"):
        T.train(p, x[:, :27], y, xv, yv, epochs=1, batch_size=10, lr=1.0, progress=False)
    with pytest.raises(ValueError, match="y_train"):
        T.train(p, x, y[:-1], xv, yv, epochs=1, batch_size=10, lr=1.0, progress=False)
    with pytest.raises(TypeError, match="y_val"):
        T.train(p, x, y, xv, yv.astype(float), epochs=1, batch_size=10, lr=1.0, progress=False)
    with pytest.raises(ValueError, match="batch_size"):
        T.train(p, x, y, xv, yv, epochs=1, batch_size=0, lr=1.0, progress=False)
    with pytest.raises(TypeError, match="checkpoints"):
        T.train(p, x, y, xv, yv, epochs=1, batch_size=10, lr=1.0, progress=False, checkpoints={})


def test_train_reports_divergence(mnist5k):
    x, y, xv, yv = mnist5k
    p = network.init_params(0, np.float32)
    with np.errstate(all="ignore"), pytest.raises((FloatingPointError, ValueError)):
        T.train(p, x[:20], y[:20], xv, yv, epochs=1, batch_size=10, lr=1e38, variant={"output": "softmax"},
                progress=False)


# --------------------------------------------------------------------------------------------
# evaluate, confusion_matrix
# --------------------------------------------------------------------------------------------
def test_evaluate_matches_network(mnist5k):
    _, _, xv, yv = mnist5k
    params = network.init_params(4)
    result = T.evaluate(params, xv, yv, batch_size=32)
    cache = network.forward(params, xv)
    assert result["loss"] == pytest.approx(network.loss(cache, yv), rel=1e-12)
    assert_array_equal(result["y_pred"], network.predict(params, xv))
    assert result["accuracy"] == np.mean(network.predict(params, xv) == yv)
    assert result["y_hat"].shape == (100, 10)


def test_confusion_matrix_counts():
    y_true = np.array([0, 1, 1, 2, 2, 2, 9])
    y_pred = np.array([0, 2, 1, 2, 0, 2, 9])
    cm = T.confusion_matrix(y_true, y_pred)
    expected = np.zeros((10, 10), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    assert_array_equal(cm, expected)
    assert cm.dtype == np.int64 and np.trace(cm) == 5
    with pytest.raises(ValueError, match="y_pred"):
        T.confusion_matrix(y_true, np.array([0, 1, 2, 3, 4, 5, 10]))
    with pytest.raises(ValueError, match="shape"):
        T.confusion_matrix(y_true, y_pred[:-1])
    with pytest.raises(TypeError, match="y_true"):
        T.confusion_matrix(y_true.astype(float), y_pred)


# --------------------------------------------------------------------------------------------
# save_params / load_params
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip_without_pickle(tmp_path, dtype):
    params = network.init_params(5, dtype)
    path = T.save_params(tmp_path / "sub" / "w.npz", params)
    assert path == tmp_path / "sub" / "w.npz"
    with np.load(path, allow_pickle=False) as archive:  # plain arrays only
        assert sorted(archive.files) == sorted(KEYS)
        assert all(archive[key].dtype == dtype for key in KEYS)
    loaded = T.load_params(path)
    for key in KEYS:
        assert_array_equal(loaded[key], params[key])
        assert loaded[key].dtype == dtype
    as64 = T.load_params(path, dtype=np.float64)
    assert all(as64[key].dtype == np.float64 for key in KEYS)


def test_save_refuses_to_overwrite(tmp_path):
    path = tmp_path / "w.npz"
    T.save_params(path, network.init_params(0))
    original = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        T.save_params(path, network.init_params(1))
    assert path.read_bytes() == original
    T.save_params(path, network.init_params(1), overwrite=True)
    assert_array_equal(T.load_params(path)["W"], network.init_params(1)["W"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]  # no temporary file left
    with pytest.raises(ValueError, match=".npz"):
        T.save_params(tmp_path / "w.npy", network.init_params(0))


def test_load_rejects_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        T.load_params(tmp_path / "missing.npz")
    pickled = tmp_path / "pickled.npz"
    params = network.init_params(0)
    np.savez(pickled, **params, note=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        T.load_params(pickled)
    short = tmp_path / "short.npz"
    np.savez(short, **{k: v for k, v in params.items() if k != "b2"})
    with pytest.raises(ValueError, match="b2"):
        T.load_params(short)
    shaped = tmp_path / "shaped.npz"
    np.savez(shaped, **dict(params, W=params["W"].T))
    with pytest.raises(ValueError, match="W"):
        T.load_params(shaped)
    text = tmp_path / "text.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match="npz"):
        T.load_params(text)


# --------------------------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------------------------
def run_cli(*args, cwd):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "helpers.train", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_trains_saves_and_evaluates(tmp_path):
    weights = tmp_path / "weights" / "tiny.npz"
    args = ("--epochs", "2", "--limit", "100", "--batch-size", "10", "--lr", "1", "--no-progress")
    run = run_cli(*args, "--save", str(weights), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = re.findall(r"epoch (\d)/2 .*held-out loss (\d\.\d{4})\s+acc\s+(\d+\.\d)%", run.stdout)
    assert [line[0] for line in lines] == ["1", "2"]
    assert "100 training and 1000 held-out images" in run.stdout

    params = T.load_params(weights)
    assert params["W"].dtype == np.float32
    _, _, xv, yv = data.load_mnist_5k_split(dtype=np.float32)
    result = T.evaluate(params, xv, yv)
    assert float(lines[-1][2]) == pytest.approx(100 * result["accuracy"], abs=0.051)
    assert float(lines[-1][1]) == pytest.approx(result["loss"], abs=6e-5)

    again = run_cli(*args, "--save", str(weights), cwd=tmp_path)  # same seed, same numbers
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert_array_equal(T.load_params(weights)["W"], params["W"])  # the refused run left it alone
    again = run_cli(*args, "--save", str(weights), "--overwrite", cwd=tmp_path)
    assert again.returncode == 0
    assert re.findall(r"epoch.*", again.stdout)[:2] == re.findall(r"epoch.*", run.stdout)[:2]

    evaluated = run_cli("--evaluate", str(weights), cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"accuracy {100 * result['accuracy']:.2f}%" in evaluated.stdout
    assert "1000 images" in evaluated.stdout


def test_cli_reports_errors(tmp_path):
    run = run_cli("--evaluate", str(tmp_path / "nothing.npz"), cwd=tmp_path)
    assert run.returncode == 2 and "no parameter file" in run.stderr
    run = run_cli("--save", "w.txt", "--epochs", "1", cwd=tmp_path)
    assert run.returncode == 2 and ".npz" in run.stderr
    run = run_cli("--dataset", "cifar", cwd=tmp_path)
    assert run.returncode == 2 and "invalid choice" in run.stderr


@pytest.mark.parametrize("preset, setting", [("recipe", T.RECIPE), ("class", dict(T.DEFAULTS, augment=(0.0, 0.0)))])
def test_cli_defaults_are_the_documented_setting(preset, setting):
    args = T._parser(preset).parse_args([])
    assert (args.dataset, args.epochs, args.batch_size, args.lr, args.lr_decay, args.seed, args.dtype,
            tuple(args.augment)) == (
        setting["dataset"], setting["epochs"], setting["batch_size"], setting["lr"],
        setting["lr_decay"], setting["seed"], setting["dtype"], tuple(setting["augment"]))


@pytest.mark.skipif(not (SHARED_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="canonical MNIST test set not found beside the repository")
def test_canonical_test_set_evaluation(tmp_path):
    """The evaluation entry point reads the 10,000 canonical test images (t10k files only)."""
    x_test, y_test = T.load_dataset("mnist", data_dir=SHARED_MNIST, download=False, split="test")
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.float32
    assert x_test.max() == np.float32(1.0) and np.bincount(y_test).sum() == 10000
    raw, _ = data.load_mnist("test", data_dir=SHARED_MNIST, download=False)
    assert_array_equal(x_test, raw.astype(np.float32) / np.float32(255))  # uint8 / 255 exactly
    weights = T.save_params(tmp_path / "w.npz", network.init_params(2, np.float32))
    run = run_cli("--evaluate", str(weights), "--dataset", "mnist", "--data-dir", str(SHARED_MNIST),
                  "--no-download", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    expected = T.evaluate(network.init_params(2, np.float32), x_test, y_test)
    assert f"mnist test set: 10000 images, loss {expected['loss']:.4f}, accuracy {100 * expected['accuracy']:.2f}%" in run.stdout


# --------------------------------------------------------------------------------------------
# confident_mistakes, digit_trace and notebook 06's figures, widget and self-checks
# --------------------------------------------------------------------------------------------
def test_confident_mistakes_orders_wrong_answers_by_their_winning_output():
    y_hat = np.full((6, 10), 0.1)
    y_hat[0, 3] = 0.9   # right (label 3)
    y_hat[1, 5] = 0.6   # wrong: label 2
    y_hat[2, 7] = 0.95  # wrong: label 1
    y_hat[3, 0] = 0.6   # wrong: label 4, ties with image 1
    y_hat[4, 9] = 0.99  # right
    y_hat[5, 8] = 0.3   # wrong: label 6
    y_true = np.array([3, 2, 1, 4, 9, 6])
    assert_array_equal(T.confident_mistakes(y_hat, y_true, n=10), [2, 1, 3, 5])
    assert_array_equal(T.confident_mistakes(y_hat, y_true, n=2), [2, 1])
    with pytest.raises(ValueError, match="y_hat"):
        T.confident_mistakes(y_hat[:, :9], y_true)


@pytest.fixture(scope="module")
def short_run(mnist5k):
    x, y, xv, yv = mnist5k
    checkpoints = []
    params, history = T.train(network.init_params(0), x, y, xv, yv, epochs=3, batch_size=5, lr=1.0,
                              progress=False, checkpoints=checkpoints)
    return params, history, checkpoints


def test_digit_trace_matches_the_network(short_run, mnist5k):
    _, _, checkpoints = short_run
    x, y = mnist5k[0][7], int(mnist5k[1][7])
    trace = T.digit_trace(checkpoints, x, y)
    assert trace["loss"].shape == (4,) and trace["dC1_sigma"].shape == (4, 6, 24, 24)
    assert trace["dC2_sigma"].shape == (4, 12, 8, 8) and trace["k1"].shape == (4, 6, 5, 5)
    cache = network.forward(checkpoints[2], x)
    _, errors = network.backward_with_errors(checkpoints[2], cache, y)
    assert_allclose(trace["dC1_sigma"][2], errors["dC1_sigma"], rtol=0, atol=1e-15)
    assert trace["loss"][2] == pytest.approx(network.loss(cache, y))
    assert_array_equal(trace["predicted"], trace["y_hat"].argmax(axis=1))
    with pytest.raises(ValueError, match="label"):
        T.digit_trace(checkpoints, x, 10)


def _draw(fig):
    import io
    fig.savefig(io.BytesIO(), format="png")
    return fig


def test_training_figures_show_the_history(short_run, mnist5k):
    from helpers import plots

    _, history, _ = short_run
    fig = _draw(plots.show_training_history(history))
    ax_loss, ax_acc = fig.axes
    held_out = [line for line in ax_acc.get_lines() if line.get_label() == "held-out"][0]
    assert_allclose(held_out.get_ydata(), 100 * np.array(history["val_acc"]))
    step_line = ax_loss.get_lines()[0]
    assert len(step_line.get_xdata()) == len(history["step_loss"]) and step_line.get_xdata()[-1] == 3.0
    fig = _draw(plots.show_step_losses({"a": history, "b": history}, reference={"0.45": 0.45}, xmax=2))
    assert len(fig.axes[0].get_lines()) == 3 and fig.axes[0].get_xlim() == (0, 2)
    with pytest.raises(ValueError, match="equal epochs"):
        plots.show_step_losses({"bad": dict(history, step_loss=history["step_loss"][:-1])})


def test_mistakes_kernels_and_feature_maps_figures(short_run, mnist5k):
    from helpers import plots

    params, _, checkpoints = short_run
    _, _, xv, yv = mnist5k
    fig = _draw(plots.show_mistakes(xv[:5], yv[:5], (yv[:5] + 1) % 10, np.linspace(0.9, 0.5, 5)))
    assert sum(1 for ax in fig.axes if ax.images) == 5
    assert fig.axes[0].get_title().startswith(f"true {yv[0]} -> {(yv[0] + 1) % 10}")
    fig = _draw(plots.show_trained_kernels(params["k1"], params["k2"]))
    mosaic = fig.axes[1].images[0].get_array()
    assert mosaic.shape == (6 * 6 - 1, 12 * 6 - 1)  # 6 x 12 kernels of 5x5 with one-pixel gaps
    assert_allclose(mosaic[6:11, 12:17], params["k2"][1, 2])  # row p=2, column q=3
    caches = {"before": network.forward(checkpoints[0], xv[0]), "after": network.forward(params, xv[0])}
    fig = _draw(plots.show_feature_maps(caches, label=int(yv[0])))
    assert fig.axes[0].get_title() == "before" and fig.axes[3].get_title() == "after"
    with pytest.raises(ValueError, match="k2"):
        plots.show_trained_kernels(params["k1"], params["k2"][:3])


def test_snapshot_uses_one_scale_for_all_epochs_and_the_widget_redraws(short_run, mnist5k):
    from helpers import plots, widgets

    _, _, checkpoints = short_run
    x, y = mnist5k[0][3], int(mnist5k[1][3])
    trace = T.digit_trace(checkpoints, x, y)
    limit = np.abs(trace["dC2_sigma"]).max()
    for epoch in (0, 3):
        fig = _draw(plots.show_training_snapshot(trace, epoch, x, y))
        limits = sorted(round(im.norm.vmax, 12) for ax in fig.axes for im in ax.images if im.norm.vmin < 0)
        assert round(limit, 12) in limits
    with pytest.raises(ValueError, match="epoch"):
        plots.show_training_snapshot(trace, 4, x, y)
    box = widgets.checkpoint_explorer(trace, x, y, value=0)
    assert box.controls["epoch"].max == 3 and box.controls["epoch"].value == 0
    first = box.figure
    box.controls["epoch"].value = 2
    assert box.figure is not first and "epoch 2" in box.figure.get_suptitle()


def test_notebook06_selfchecks_pass_right_and_fail_wrong_solutions(capsys):
    from helpers import selfcheck

    def in_place(params, grads, lr):
        for k in params:
            params[k] -= lr * grads[k]
        return params

    assert selfcheck.check_sgd_step(T.sgd_step)
    assert not selfcheck.check_sgd_step(in_place)
    assert not selfcheck.check_sgd_step(lambda p, g, lr: {k: p[k] + lr * g[k] for k in p})
    assert selfcheck.check_confusion_matrix(T.confusion_matrix)
    assert not selfcheck.check_confusion_matrix(lambda t, p: T.confusion_matrix(p, t))  # transposed

    def batches(n, size, rng):
        order = rng.permutation(n)
        return [order[i:i + size] for i in range(0, n, size)]

    assert selfcheck.check_minibatches(batches)
    assert not selfcheck.check_minibatches(lambda n, size, rng: [np.arange(n)[i:i + size] for i in range(0, n, size)])
    assert not selfcheck.check_minibatches(lambda n, size, rng: batches(n - 1, size, rng))

    def momentum(params, grads, velocity, lr, mu):
        v = {k: mu * velocity[k] - lr * grads[k] for k in params}
        return {k: params[k] + v[k] for k in params}, v

    assert selfcheck.check_momentum_step(momentum)
    assert not selfcheck.check_momentum_step(lambda p, g, v, lr, mu: momentum(p, g, v, lr, 0.0))
    assert "FAIL" in capsys.readouterr().out
