"""The trained parameters of Zhang's network that ship with the book.

Three states of the same network (seed 001, :mod:`helpers.network`), so that a reader can compare
what training changes without waiting for it:

* ``"untrained"`` -- the initial parameters, ``network.init_params(0, float32)``;
* ``"one_epoch"`` -- after the first of the book's training epochs;
* ``"trained"`` -- after the book's full recipe (:data:`helpers.train.RECIPE`: SGD with a
  geometric learning-rate schedule on randomly shifted and rotated training digits).

The two trained states are ``.npz`` files in ``helpers/checkpoints/`` (installed with the
package), described by ``helpers/checkpoints/manifest.json``: the exact ``python -m
helpers.train`` command that produced each file, the file's SHA-256, its accuracy on the 1,000
held-out MNIST-5k digits and, for the trained state, on the canonical 10,000-digit test set.
:func:`load` checks the SHA-256 before it reads a file, and reads it without pickle::

    from helpers import pretrained
    params = pretrained.load("trained")        # dict k1, b1, k2, b2, W, b (float32)
    pretrained.info("trained")["held_out_accuracy"]

:func:`recipe_results` returns the validation figures behind the recipe, one entry per change
(written by ``scripts/train_recipes.py``), and :func:`class_setting` how notebook 06's class
setting and its variants' rates were chosen (``scripts/class_setting.py``).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np

from . import network

__all__ = ["STATES", "CHECKPOINT_DIR", "load", "info", "checkpoint_path", "sha256", "recipe_results",
           "class_setting", "class_history"]

#: The states :func:`load` knows, from first to last.
STATES = ("untrained", "one_epoch", "trained")

#: The folder of the shipped files (inside the installed package).
CHECKPOINT_DIR = Path(__file__).resolve().parent / "checkpoints"
MANIFEST = CHECKPOINT_DIR / "manifest.json"
RESULTS = CHECKPOINT_DIR / "recipes.json"
CLASS_SETTING = CHECKPOINT_DIR / "class_setting.json"


def _check_state(state) -> str:
    if not isinstance(state, str) or state not in STATES:
        raise ValueError(f"state must be one of {STATES}, got {state!r}")
    return state


def _read_json(path: Path, what: str) -> dict:
    """The JSON object stored in ``path``; ValueError naming the file if it is not one."""
    if not path.is_file():
        raise FileNotFoundError(f"the {what} {str(path)!r} is missing: the package was installed "
                                "without its data files (reinstall it, or run scripts/train_recipes.py)")
    try:
        with open(path, encoding="utf-8") as fh:
            value = json.load(fh)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"{path}: the {what} is damaged: not valid JSON ({exc}); reinstall the "
                         "package") from None
    return _field(value, (), path, what, dict)


def _field(value, keys: tuple, path: Path, what: str, kind, check=None, expected: str = ""):
    """``value[keys[0]][keys[1]]...`` of the JSON read from ``path``, checked: every step a JSON
    object holding the key, the last a ``kind`` (a type or tuple of types) passing ``check``.

    The one validation of the package's JSON files: raises ValueError saying ``{path}: the
    {what} is damaged: <where> <what is wrong>``.
    """
    names = {dict: "a JSON object", list: "a list", str: "a string", int: "an integer"}
    for depth, key in enumerate(keys):
        if not isinstance(value, dict) or key not in value:
            where = "/".join(map(str, keys[:depth])) or "the top level"
            problem = (f"{where} has no entry {key!r}" if isinstance(value, dict)
                       else f"{where} is not a JSON object")
            raise ValueError(f"{path}: the {what} is damaged: {problem}; reinstall the package")
        value = value[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
    if not ok or (check is not None and not check(value)):
        where = "/".join(map(str, keys)) or "the file"
        expected = expected or " or ".join(names.get(k, k.__name__) for k in kinds)
        raise ValueError(f"{path}: the {what} is damaged: {where} must be {expected}, got "
                         f"{json.dumps(value)[:60]}; reinstall the package")
    return value


def _manifest() -> dict:
    return _read_json(MANIFEST, "checkpoint manifest")


def _entry(state: str) -> dict:
    """The manifest entry of ``state`` with the keys :func:`load` uses checked: ``seed`` (an
    integer) for ``"untrained"``; ``file`` (a plain file name) and ``sha256`` (64 hex digits)
    for the two shipped files."""
    manifest, what = _manifest(), "checkpoint manifest"
    entry = _field(manifest, ("states", state), MANIFEST, what, dict)
    if state == "untrained":
        _field(manifest, ("states", state, "seed"), MANIFEST, what, int, lambda v: v >= 0,
               "an integer >= 0")
    else:
        _field(manifest, ("states", state, "file"), MANIFEST, what, str,
               lambda v: v not in ("", ".", "..") and Path(v).name == v and "\\" not in v,
               "a file name in helpers/checkpoints (no folder)")
        _field(manifest, ("states", state, "sha256"), MANIFEST, what, str,
               lambda v: len(v) == 64 and all(c in "0123456789abcdef" for c in v),
               "64 hex digits (lower case)")
    return entry


def sha256(path) -> str:
    """The SHA-256 of the file at ``path``, as 64 lower-case hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def info(state: str = "trained") -> dict:
    """The manifest entry of ``state`` (one of :data:`STATES`), a dict.

    For the two shipped files: ``file`` (name in ``helpers/checkpoints``), ``command`` (the
    ``python -m helpers.train`` call that wrote it), ``sha256``, ``held_out_accuracy`` (fraction
    of the 1,000 held-out MNIST-5k digits read correctly) and, where it was measured,
    ``test_accuracy`` on the canonical 10,000 MNIST test digits with the command that measured
    it. For ``"untrained"``: how the parameters are made and their held-out accuracy.
    """
    return dict(_entry(_check_state(state)))


def checkpoint_path(state: str = "trained") -> Path:
    """Path of the shipped ``.npz`` file of ``"one_epoch"`` or ``"trained"``."""
    state = _check_state(state)
    if state == "untrained":
        raise ValueError("the untrained state is not a file: it is network.init_params(0, float32)")
    return CHECKPOINT_DIR / info(state)["file"]


def load(state: str = "trained", dtype=None) -> dict:
    """The parameters of Zhang's network in ``state``: ``"untrained"``, ``"one_epoch"`` or
    ``"trained"``.

    Inputs:
    - state: one of :data:`STATES`.
    - dtype: optional numpy float dtype of the result (default: float32, as trained).

    Returns a dict of new arrays ``k1 (6, 5, 5)``, ``b1 (6,)``, ``k2 (6, 12, 5, 5)``,
    ``b2 (12,)``, ``W (10, 192)``, ``b (10,)`` (:data:`helpers.network.PARAM_SHAPES`).

    A shipped file is read only if its SHA-256 equals the one in the manifest (else
    ``ValueError``: the file was changed or damaged), and then with
    ``np.load(..., allow_pickle=False)``.
    """
    state = _check_state(state)
    if state == "untrained":
        params = network.init_params(info("untrained")["seed"], dtype=np.float32)
    else:
        from .train import load_params

        entry = info(state)
        path = CHECKPOINT_DIR / entry["file"]
        if not path.is_file():
            raise FileNotFoundError(f"the shipped checkpoint {str(path)!r} is missing; reinstall the package")
        actual = sha256(path)
        if actual != entry["sha256"]:
            raise ValueError(f"{str(path)!r} has SHA-256 {actual}, but the manifest records "
                             f"{entry['sha256']}: the file was changed or damaged")
        params = load_params(path)
    if dtype is not None:
        params = {key: val.astype(dtype) for key, val in params.items()}
        network.check_params(params)
    return params


def recipe_results() -> dict:
    """What each change of the training recipe bought, as written by ``scripts/train_recipes.py``.

    Returns the dict stored in ``helpers/checkpoints/recipes.json``: ``steps``, a list with one
    entry per setting tried on the validation split (``name``, ``change``, the ``setting``,
    ``val_acc`` per epoch, ``final_val_acc``, ``seconds``), and ``final``, the chosen recipe
    trained on all 4,000 training digits with its held-out (and, where measured, canonical
    test) accuracy.
    """
    return _read_json(RESULTS, "recipe-results file")


def class_setting() -> dict:
    """How notebook 06's class setting was chosen, as written by ``scripts/class_setting.py``.

    Returns the dict stored in ``helpers/checkpoints/class_setting.json``: ``sweep`` (batch size
    x learning rate, each run's validation accuracy per epoch, the ``chosen`` index), ``class_run``
    (the chosen run's full ``history``: the curves notebook 06 draws without training live) and
    ``variants`` (each design variation's runs over its learning rates, the ``chosen`` index).
    All on the validation split of the 4,000 training digits; the held-out digits take no part.
    """
    return _read_json(CLASS_SETTING, "class-setting file")


def class_history() -> dict:
    """The stored history of notebook 06's class run, as :func:`helpers.solver.train` returns it.

    ``class_setting()["class_run"]["history"]`` with NaN for the entries epoch 0 has not (training
    loss and accuracy, learning rate): lists ``epoch``, ``lr``, ``train_loss``, ``train_acc``,
    ``val_loss``, ``val_acc`` (0..epochs, on the validation split) and ``step_loss``.
    """
    setting, what = class_setting(), "class-setting file"
    stored = _field(setting, ("class_run", "history"), CLASS_SETTING, what, dict)
    for key in stored:
        _field(setting, ("class_run", "history", key), CLASS_SETTING, what, list, lambda v: all(
            x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)) for x in v),
            "a list of numbers (null where epoch 0 has none)")
    return {key: [math.nan if v is None else v for v in values] for key, values in stored.items()}
