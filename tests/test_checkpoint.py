"""Tests for helpers.checkpoint: parameters in ``.npz`` files, atomic saves, no pickle, every
header checked before any array is read, and the network variant recorded beside the weights."""

from __future__ import annotations

import gc
import io
import os
import stat
import subprocess
import sys
import time
import tracemalloc
import warnings
import zipfile

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


# --------------------------------------------------------------------------------------------
# issue 14, fault 1: every save is atomic and keeps ordinary permissions
# --------------------------------------------------------------------------------------------
def test_an_interrupted_first_save_leaves_nothing_under_the_final_name(tmp_path, monkeypatch):
    """Ctrl-C (or a full disk) half-way through np.savez: no broken file blocks the next save."""
    real_savez = np.savez

    def interrupted(fh, **arrays):
        fh.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    path = tmp_path / "w.npz"
    monkeypatch.setattr(np, "savez", interrupted)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_params(path, network.init_params(0))
    assert list(tmp_path.iterdir()) == []  # neither the final name nor a temporary file
    monkeypatch.setattr(np, "savez", real_savez)
    checkpoint.save_params(path, network.init_params(0))  # the next save is not blocked
    assert_array_equal(checkpoint.load_params(path)["W"], network.init_params(0)["W"])


def test_a_file_size_limit_during_a_save_leaves_nothing_behind(tmp_path):
    """A real operating-system failure (RLIMIT_FSIZE, errno EFBIG) in a child process."""
    pytest.importorskip("resource")  # POSIX only
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "from helpers import checkpoint, network\n"
        "try:\n"
        "    checkpoint.save_params(sys.argv[1], network.init_params(0))\n"
        "except OSError as exc:\n"
        "    print('OSError', exc.errno)\n"
    )
    path = tmp_path / "w.npz"
    run = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60)
    assert run.stdout.startswith("OSError"), run.stdout + run.stderr
    assert list(tmp_path.iterdir()) == []


def test_saves_keep_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        path = checkpoint.save_params(tmp_path / "w.npz", network.init_params(0))
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        checkpoint.save_params(path, network.init_params(1), overwrite=True)
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not 0600 after an overwrite
        path.chmod(0o640)
        checkpoint.save_params(path, network.init_params(2), overwrite=True)
        assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the replaced file's permissions
    finally:
        os.umask(old)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]


# --------------------------------------------------------------------------------------------
# issue 14, fault 2: one clear error for every kind of broken file
# --------------------------------------------------------------------------------------------
def _broken_header_archive(path):
    """A zip whose W.npy header is cut inside its dict (numpy's parser meets end of input)."""
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (10, 192"
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("W.npy", member)


def _make(kind, path):
    params = network.init_params(0)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        checkpoint.save_params(path.with_name("full.npz"), params)
        whole = path.with_name("full.npz").read_bytes()
        path.write_bytes(whole[:len(whole) // 2])
    elif kind == "npy":
        np.save(path.with_suffix(".npy"), params["W"])
        path.with_suffix(".npy").rename(path)
    elif kind == "header":
        _broken_header_archive(path)
    elif kind == "short":
        _claiming(path, "W", (10, 192))  # the right header, 64 bytes of its 7,680
    else:
        path.write_text("k1 = 0.1, 0.2, 0.3\n")


@pytest.mark.parametrize("kind, says", [
    ("empty", "is empty"),
    ("truncated", "damaged or truncated"),
    ("npy", "single .npy array"),
    ("header", "broken .npy header"),
    ("short", "is truncated"),
    ("text", "not an .npz archive"),
])
def test_broken_files_get_one_clear_error_naming_the_file(tmp_path, kind, says):
    path = tmp_path / f"{kind}.npz"
    _make(kind, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError) as info:
            checkpoint.load_params(path)
        info.value.__traceback__ = None  # drop the frames, so an unclosed file would be collected now
        message = str(info.value)
        del info
        gc.collect()
    assert says in message and str(path) in message
    assert "pickle" not in message  # not the false "holds pickled objects"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]  # no file left open


# --------------------------------------------------------------------------------------------
# issue 14, fault 5: shapes and dtypes are checked from the headers before any array is read
# --------------------------------------------------------------------------------------------
def _claiming(path, key, shape, dtype="<f4"):
    """A valid parameter file except that ``key``'s header declares ``shape`` (data: 64 bytes)."""
    params = network.init_params(0, np.float32)
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {shape}, }}".encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in params.items():
            if name == key:
                archive.writestr(f"{name}.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                                 + header + bytes(64))
            else:
                buffer = io.BytesIO()
                np.save(buffer, value)
                archive.writestr(f"{name}.npy", buffer.getvalue())
    return path


def test_a_header_declaring_a_huge_array_is_refused_before_reading(tmp_path):
    path = _claiming(tmp_path / "huge.npz", "W", (4000, 4000))  # 64 MB declared, 64 bytes stored
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(ValueError) as info:
            checkpoint.load_params(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 5
    assert peak < 8_000_000, f"{peak} bytes allocated for a file that declares 64 MB"
    assert "(4000, 4000)" in str(info.value) and "(10, 192)" in str(info.value) and "W" in str(info.value)


def test_a_header_declaring_another_dtype_is_refused(tmp_path):
    with pytest.raises(ValueError, match="must hold floats"):
        checkpoint.load_params(_claiming(tmp_path / "ints.npz", "b", (10,), dtype="<i8"))


# --------------------------------------------------------------------------------------------
# issue 14, fault 8: the network variant is recorded beside the weights, as plain strings
# --------------------------------------------------------------------------------------------
def test_the_variant_is_recorded_and_read_back_without_pickle(tmp_path):
    params = network.init_params(3, np.float32)
    variant = {"pooling": "max", "conv_activation": "relu", "output": "softmax"}
    path = checkpoint.save_params(tmp_path / "v.npz", params, variant=variant)
    with np.load(path, allow_pickle=False) as archive:  # plain strings, readable without pickle
        assert str(archive["pooling"]) == "max" and archive["output"].dtype.kind == "U"
    loaded, recorded = checkpoint.load_checkpoint(path)
    assert recorded == variant
    for key in KEYS:
        assert_array_equal(loaded[key], params[key])
    assert sorted(checkpoint.load_params(path)) == sorted(KEYS)  # the six arrays only
    partial = checkpoint.save_params(tmp_path / "p.npz", params, variant={"pooling": "max"})
    assert checkpoint.load_checkpoint(partial)[1] == dict(network.DEFAULT_VARIANT, pooling="max")
    plain = checkpoint.save_params(tmp_path / "plain.npz", params)
    assert checkpoint.load_checkpoint(plain)[1] is None  # nothing recorded, nothing invented
    with pytest.raises(ValueError, match="pooling"):
        checkpoint.save_params(tmp_path / "bad.npz", params, variant={"pooling": "median"})
    np.savez(tmp_path / "odd.npz", **params, pooling=np.array("median"))
    with pytest.raises(ValueError, match="unknown network variant"):
        checkpoint.load_checkpoint(tmp_path / "odd.npz")


def test_check_save_path_refuses_what_a_save_would_fail_on(tmp_path):
    (tmp_path / "folder.npz").mkdir()
    (tmp_path / "afile").write_text("x")
    (tmp_path / "taken.npz").write_bytes(b"mine")
    with pytest.raises(IsADirectoryError, match="folder"):
        checkpoint.check_save_path(tmp_path / "folder.npz", overwrite=True)
    with pytest.raises(NotADirectoryError, match="afile"):
        checkpoint.check_save_path(tmp_path / "afile" / "sub" / "w.npz")
    with pytest.raises(FileExistsError, match="overwrite"):
        checkpoint.check_save_path(tmp_path / "taken.npz")
    with pytest.raises(ValueError, match=".npz"):
        checkpoint.check_save_path(tmp_path / "w.txt")
    assert checkpoint.check_save_path(tmp_path / "new" / "deeper" / "w.npz") == tmp_path / "new" / "deeper" / "w.npz"
    assert checkpoint.check_save_path(tmp_path / "taken.npz", overwrite=True).read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "folder.npz", "taken.npz"]  # nothing made


# --------------------------------------------------------------------------------------------
# save_json: the scripts' stored results, replaced atomically
# --------------------------------------------------------------------------------------------
def test_save_json_replaces_the_file_whole_and_world_readable(tmp_path, monkeypatch):
    import json
    import stat

    path = tmp_path / "sub" / "results.json"
    old_mask = os.umask(0o022)  # a new file gets 0666 less the umask (helpers.files)
    try:
        assert checkpoint.save_json(path, {"a": [1, 2]}) == path
    finally:
        os.umask(old_mask)
    assert json.loads(path.read_text()) == {"a": [1, 2]} and path.read_text().endswith("\n")
    checkpoint.save_json(path, {"b": 1.5}, compact=True)
    assert path.read_text() == '{"b":1.5}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    # data that cannot be written leaves the old file whole and no temporary file behind
    with pytest.raises(TypeError):
        checkpoint.save_json(path, {"c": object()})
    assert path.read_text() == '{"b":1.5}\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]
    # a rename that fails (a full disk, Ctrl-C) leaves the old file and removes the temporary one

    def fail(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(checkpoint.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save_json(path, {"d": 2})
    assert path.read_text() == '{"b":1.5}\n'
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]


# --------------------------------------------------------------------------------------------
# issue 21, fault 14: zip-level failures (encryption, unknown compression, broken LZMA) are one
# ValueError naming the file. The hostile files are made by editing the bytes of a real archive.
# --------------------------------------------------------------------------------------------
def _patch_member(data: bytearray, *, local: int, central: int, value: int, size: int = 2) -> None:
    """Set a field of the first member's local header and of its central directory entry."""
    start = data.index(b"PK\x03\x04")
    data[start + local:start + local + size] = value.to_bytes(size, "little")
    entry = data.index(b"PK\x01\x02")
    data[entry + central:entry + central + size] = value.to_bytes(size, "little")


def hostile_npz(path, kind):
    """A parameter file that zipfile itself cannot read: ``kind`` is ``encrypted`` (flag bit 0
    set), ``method9`` / ``method99`` (Deflate64, AES: compression methods zipfile lacks) or
    ``lzma`` (an LZMA member whose compressed data is damaged after its .npy header)."""
    params = network.init_params(0, np.float32)
    buffer = io.BytesIO()
    compression = zipfile.ZIP_LZMA if kind == "lzma" else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name in ["W"] + [key for key in params if key != "W"]:  # W first: the member edited
            member = io.BytesIO()
            np.save(member, params[name])
            archive.writestr(f"{name}.npy", member.getvalue())
    data = bytearray(buffer.getvalue())
    if kind == "encrypted":
        _patch_member(data, local=6, central=8, value=1)
    elif kind.startswith("method"):
        _patch_member(data, local=8, central=10, value=int(kind[len("method"):]))
    else:
        start = data.index(b"PK\x03\x04")
        name_len, extra_len = (int.from_bytes(data[start + o:start + o + 2], "little") for o in (26, 28))
        size = int.from_bytes(data[start + 18:start + 22], "little")
        body = start + 30 + name_len + extra_len
        for i in range(body + size - 1500, body + size - 8):  # past the first read: the header decodes
            data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("kind", ["encrypted", "method9", "method99", "lzma"])
def test_zip_level_failures_are_one_value_error_naming_the_file(tmp_path, kind):
    path = hostile_npz(tmp_path / f"{kind}.npz", kind)
    with pytest.raises(ValueError) as info:
        checkpoint.load_params(path)
    assert str(path) in str(info.value)
