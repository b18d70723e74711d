"""Train the checkpoints that ship with the book and write their manifest.

    python scripts/ship_checkpoints.py --data-dir ../shared/datasets/mnist

Runs the two ``python -m helpers.train`` commands of :data:`COMMANDS` (the book's recipe,
:data:`helpers.train.RECIPE`, spelled out option by option; the one-epoch state is the same run
stopped after its first epoch: epoch 1 has the same learning rate, the same shuffle and the same
random shifts and rotations in both), moves the files into ``helpers/checkpoints/`` and writes
``helpers/checkpoints/manifest.json``: for each state the command, the file's SHA-256, the
network variant the file records (``pooling``, ``conv_activation``, ``output``, as every file
``--save`` writes: ``--evaluate`` refuses a flag that contradicts it), the
accuracy on the 1,000 held-out MNIST-5k digits and, with ``--data-dir``, on the canonical
10,000-digit MNIST test set, plus the training time and the load average it was measured under.
:mod:`helpers.pretrained` reads the files through that manifest; ``tests/test_pretrained.py`` reruns
the commands.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from helpers import checkpoint, network, pretrained, train  # noqa: E402


def recipe_options(epochs=None) -> list[str]:
    """The options of ``python -m helpers.train`` that spell out :data:`helpers.train.RECIPE`."""
    r = train.RECIPE
    return ["--dataset", r["dataset"], "--epochs", str(r["epochs"] if epochs is None else epochs),
            "--batch-size", str(r["batch_size"]), "--lr", f"{r['lr']:g}", "--lr-decay", f"{r['lr_decay']:g}",
            "--augment", f"{r['augment'][0]:g}", f"{r['augment'][1]:g}", "--seed", str(r["seed"]),
            "--dtype", r["dtype"]]


#: state -> (file name, options of python -m helpers.train before --save)
COMMANDS = {
    "one_epoch": ("zhang_one_epoch.npz", recipe_options(epochs=1)),
    "trained": ("zhang_trained.npz", recipe_options()),
}


def command_line(file_name: str, options) -> str:
    return shlex.join(["python", "-m", "helpers.train", *options, "--save", file_name])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder with the canonical MNIST t10k files (test accuracy of the trained state)")
    args = parser.parse_args(argv)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    x_held, y_held = train.load_dataset("mnist-5k", split="test")
    x_test = y_test = None
    if args.data_dir is not None:
        x_test, y_test = train.load_dataset("mnist", data_dir=args.data_dir, download=False, split="test")
    untrained = network.init_params(0, dtype=np.float32)
    states = {"untrained": {
        "made_by": "helpers.network.init_params(0, dtype=numpy.float32) (Zhang eqs. 1-2, seed 0 of the recipe)",
        "seed": 0, "held_out_accuracy": train.evaluate(untrained, x_held, y_held)["accuracy"]}}
    pretrained.CHECKPOINT_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=pretrained.CHECKPOINT_DIR) as tmp:
        for state, (file_name, options) in COMMANDS.items():
            load = [round(v, 2) for v in os.getloadavg()]
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            cmd = command_line(file_name, options)
            print(f"$ {cmd}", flush=True)
            done = subprocess.run([sys.executable, "-m", "helpers.train", *options, "--save", file_name,
                                   "--no-progress"], cwd=tmp, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
                return done.returncode
            seconds = float(re.search(r"trained in ([\d.]+) s", done.stdout).group(1))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            params, variant = checkpoint.load_checkpoint(Path(tmp) / file_name)
            if variant is None:  # --save records it; a file without it could be evaluated as max pooling
                print(f"error: {file_name} records no network variant", file=sys.stderr)
                return 1
            entry = {"file": file_name, "command": cmd, "variant": variant,
                     "held_out_accuracy": train.evaluate(params, x_held, y_held)["accuracy"],
                     "held_out_images": len(y_held),
                     "held_out_command": f"python -m helpers.train --evaluate helpers/checkpoints/{file_name}",
                     "train_seconds": seconds, "process_cpu_seconds": round(cpu, 1),
                     "load_average_before": load}
            if x_test is not None and state == "trained":
                entry["test_accuracy"] = train.evaluate(params, x_test, y_test)["accuracy"]
                entry["test_images"] = len(y_test)
                entry["test_command"] = (f"python -m helpers.train --evaluate helpers/checkpoints/{file_name} "
                                         "--dataset mnist --data-dir DIR_WITH_t10k_FILES")
            os.replace(Path(tmp) / file_name, pretrained.CHECKPOINT_DIR / file_name)
            entry["sha256"] = pretrained.sha256(pretrained.CHECKPOINT_DIR / file_name)
            states[state] = entry
            print(f"  held-out {100 * entry['held_out_accuracy']:.1f}%"
                  + (f", canonical test {100 * entry['test_accuracy']:.2f}%" if "test_accuracy" in entry else "")
                  + f", trained in {seconds:.1f} s (whole command: {cpu:.1f} s of CPU), load average {load}",
                  flush=True)
    manifest = {
        "about": "Checkpoints of Zhang's network shipped with the book; written by scripts/ship_checkpoints.py, "
                 "read by helpers.pretrained.load(state). 'one_epoch' is the state after the first epoch of "
                 "the 'trained' run (same learning rate, shuffle and augmentation in epoch 1).",
        "recipe": {key: (list(v) if isinstance(v, tuple) else v) for key, v in train.RECIPE.items()},
        "states": states,
        "environment": {"python": platform.python_version(), "numpy": np.__version__,
                        "machine": platform.machine(), "cpus": os.cpu_count(), "blas_threads": 1},
    }
    checkpoint.save_json(pretrained.MANIFEST, manifest)
    print(f"wrote {pretrained.MANIFEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
