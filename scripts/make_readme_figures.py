"""Draw the README's figures with the code the notebooks use.

    python scripts/make_readme_figures.py              # writes docs/figures/*.png

Three pictures of the running example of notebooks 01, 02 and 05 (image 1500 of MNIST-5k,
the first "3"), each made by the functions a notebook calls:

* ``digit_flow.png``: the digit flowing through the seed network after training
  (``helpers.figures.show_network_flow`` on ``helpers.network.forward``; notebook 02 draws the
  same picture for the untrained network).
* ``error_maps.png``: the error before the sigmoid on every map of C2 and C1, for the
  untrained network (``helpers.network.backward_with_errors``, Zhang eqs. 37 and 57; notebook
  05), drawn with ``helpers.figures.show_maps``.
* ``learned_kernels.png``: the six C1 kernels at initialisation (Zhang eqs. 1-2) and after
  training, then the 72 C2 kernels after training (``helpers.figures.show_kernels``).

Training is :data:`FIGURE_RUN`, notebook 06's class run when the figures were drawn:
``helpers.train.train``, 16 epochs of batch 5 at alpha 2.5 (MNIST-5k, float32, seed 0; about 15 s
on two cores). Everything is seeded and BLAS runs on
one thread, so running the script twice writes the same pixels. Options: ``--out`` (folder),
``--epochs`` (a shorter run for a quick look).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# one BLAS thread, as in the notebooks and their tests: the same summation order gives the same
# trained weights, hence the same figures, on every run
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
os.environ.pop("MPLBACKEND", None)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
matplotlib.rcParams.update(matplotlib.rcParamsDefault)
matplotlib.use("Agg")

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))  # the helpers of this checkout, even if not installed

from helpers import figures, network, train  # noqa: E402
from helpers.data import load_mnist_5k  # noqa: E402

RUNNING = 1500  # the running example of notebooks 01, 02 and 05: the first "3" of MNIST-5k
DPI = 100


def save(fig, path: Path) -> None:
    # no "Software" text chunk: the file depends on the pixels only, not on matplotlib's version
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    print(f"wrote {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")


#: the run the README's figures show: 16 epochs of batch 5, alpha 2.5, float32 on all 4,000 digits
#: (notebook 06's class run when the figures were drawn; the notebook now trains train.DEFAULTS)
FIGURE_RUN = {"dataset": "mnist-5k", "epochs": 16, "batch_size": 5, "lr": 2.5, "lr_decay": 1.0, "seed": 0,
              "dtype": "float32"}


def trained_params(epochs: int):
    """The README figures' run (:data:`FIGURE_RUN`), possibly with fewer epochs."""
    setting = {key: FIGURE_RUN[key] for key in ("batch_size", "lr", "lr_decay", "seed")}
    x_train, y_train, x_val, y_val = train.load_dataset(FIGURE_RUN["dataset"], dtype=np.dtype(FIGURE_RUN["dtype"]))
    start = network.init_params(setting["seed"], dtype=np.dtype(FIGURE_RUN["dtype"]))
    params, history = train.train(start, x_train, y_train, x_val, y_val, epochs=epochs,
                                  progress=False, **setting)
    return start, params, history


def digit_flow(params, x, label, accuracy: float, epochs: int):
    cache = network.forward(params, x.astype(params["k1"].dtype))
    return figures.show_network_flow(
        cache, label=label,
        title=(f"A handwritten {label} through the seed network after {epochs} epochs of SGD\n"
               f"on MNIST-5k (held-out accuracy {100 * accuracy:.1f}%)"))


def error_maps(x, label):
    params = network.init_params(seed=0)  # float64, as in notebook 05
    cache = network.forward(params, x)
    _, errors = network.backward_with_errors(params, cache, label)
    loss = network.loss(cache, label)
    fig = figures.new_figure(13.0, 5.9)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.55, 2.6])
    figures.show_maps(errors["dC2_sigma"], signed=True, ncols=12, prefix="q", panel_size=0.95,
                    title=r"$\Delta C^2_{q,\sigma}$ on the 12 maps of C2 (8x8), Zhang eq. 37",
                    cbar_label="error", fig=top)
    figures.show_maps(errors["dC1_sigma"], signed=True, ncols=6, prefix="p", panel_size=1.9,
                    title=r"$\Delta C^1_{p,\sigma}$ on the 6 maps of C1 (24x24), Zhang eq. 57",
                    cbar_label="error", fig=bottom)
    fig.suptitle(f"The error of one digit (label {label}, loss L = {loss:.3f}) carried back to the\n"
                 "convolution layers of the untrained network. Red: the loss grows with that\n"
                 "pre-activation, blue: it shrinks. Average pooling spreads each error over 2x2.",
                 fontsize=11)
    return fig


def learned_kernels(start, params, epochs: int):
    fig = figures.new_figure(13.0, 8.6)
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.0, 2.2])
    left, right = top.subfigures(1, 2)
    figures.show_kernels(start["k1"], title="C1 kernels $k^1_p$ at initialisation (Zhang eqs. 1-2)",
                       fig=left, panel_size=1.1)
    figures.show_kernels(params["k1"], title=f"C1 kernels after {epochs} epochs", fig=right,
                       panel_size=1.1)
    figures.show_kernels(params["k2"], title=f"C2 kernels $k^2_{{p,q}}$ after {epochs} epochs "
                       "(row p: S1 map read, column q: C2 map written)", fig=bottom,
                       panel_size=0.8)
    fig.suptitle("What training learns: 5x5 kernels, blue below zero, red above", fontsize=12)
    return fig


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "figures",
                        help="folder for the PNG files (default: docs/figures)")
    parser.add_argument("--epochs", type=int, default=FIGURE_RUN["epochs"],
                        help="epochs of the training run (default %(default)s)")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)

    images, labels = load_mnist_5k()
    x, label = images[RUNNING] / 255.0, int(labels[RUNNING])

    began = time.monotonic()
    start, params, history = trained_params(args.epochs)
    accuracy = history["val_acc"][-1]
    print(f"trained {args.epochs} epochs in {time.monotonic() - began:.0f} s: held-out accuracy "
          f"{100 * accuracy:.1f}%")

    save(digit_flow(params, x, label, accuracy, args.epochs), args.out / "digit_flow.png")
    save(error_maps(x, label), args.out / "error_maps.png")
    save(learned_kernels(start, params, args.epochs), args.out / "learned_kernels.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
