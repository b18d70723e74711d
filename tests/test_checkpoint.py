"""Tests for helpers.checkpoint: parameters in ``.npz`` files, atomic saves, no pickle, every
header checked before any array is read, and the network variant recorded beside the weights."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from helpers import checkpoint, network

KEYS = list(network.PARAM_SHAPES)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip_without_pickle(tmp_path, dtype):
    params = network.init_params(5, dtype)
    path = checkpoint.save_params(tmp_path / "sub" / "w.npz", params)
    assert path == tmp_path / "sub" / "w.npz"
    with np.load(path, allow_pickle=False) as archive:  # plain arrays only
        assert sorted(archive.files) == sorted(KEYS)
        assert all(archive[key].dtype == dtype for key in KEYS)
    loaded = checkpoint.load_params(path)
    for key in KEYS:
        assert_array_equal(loaded[key], params[key])
        assert loaded[key].dtype == dtype
    as64 = checkpoint.load_params(path, dtype=np.float64)
    assert all(as64[key].dtype == np.float64 for key in KEYS)


def test_save_refuses_to_overwrite(tmp_path):
    path = tmp_path / "w.npz"
    checkpoint.save_params(path, network.init_params(0))
    original = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        checkpoint.save_params(path, network.init_params(1))
    assert path.read_bytes() == original
    checkpoint.save_params(path, network.init_params(1), overwrite=True)
    assert_array_equal(checkpoint.load_params(path)["W"], network.init_params(1)["W"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]  # no temporary file left
    with pytest.raises(ValueError, match=".npz"):
        checkpoint.save_params(tmp_path / "w.npy", network.init_params(0))


def test_load_rejects_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        checkpoint.load_params(tmp_path / "missing.npz")
    pickled = tmp_path / "pickled.npz"
    params = network.init_params(0)
    np.savez(pickled, **params, note=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        checkpoint.load_params(pickled)
    short = tmp_path / "short.npz"
    np.savez(short, **{k: v for k, v in params.items() if k != "b2"})
    with pytest.raises(ValueError, match="b2"):
        checkpoint.load_params(short)
    shaped = tmp_path / "shaped.npz"
    np.savez(shaped, **dict(params, W=params["W"].T))
    with pytest.raises(ValueError, match="W"):
        checkpoint.load_params(shaped)
    text = tmp_path / "text.npz"
    text.write_text("not an archive")
    with pytest.raises(ValueError, match="npz"):
        checkpoint.load_params(text)
