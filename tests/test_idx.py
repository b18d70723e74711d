"""Tests of helpers.idx: the strict IDX reader, on the canonical files and on broken ones."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from datakit import (README_TEST_COUNTS, README_TRAIN_COUNTS, TEST_FILES,  # noqa: F401
                     TRAIN_FILES, idx_bytes, shared)
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.idx import read_idx


def test_read_idx_on_the_canonical_test_set(shared):
    images = read_idx(shared / TEST_FILES[0])
    labels = read_idx(shared / TEST_FILES[1])
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,)
    assert np.bincount(labels, minlength=10).tolist() == README_TEST_COUNTS
    # The same bytes, handed over gzip'd or decompressed, give the same arrays.
    raw = gzip.decompress((shared / TEST_FILES[1]).read_bytes())
    assert np.array_equal(read_idx(raw), labels)


def test_read_idx_on_the_canonical_training_labels(shared):
    labels = read_idx(shared / TRAIN_FILES[1], ndim=1)
    assert np.bincount(labels, minlength=10).tolist() == README_TRAIN_COUNTS


@settings(max_examples=30, deadline=None)
@given(
    shape=st.one_of(
        st.tuples(st.integers(0, 20)),
        st.tuples(st.integers(0, 5), st.integers(1, 6), st.integers(1, 6)),
    ),
    compress=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_read_idx_round_trip(shape, compress, seed):
    arr = np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)
    raw = idx_bytes(arr)
    got = read_idx(gzip.compress(raw) if compress else raw)
    assert got.shape == arr.shape and got.dtype == np.uint8 and np.array_equal(got, arr)


GOOD_IMAGES = idx_bytes(np.arange(2 * 3 * 4).reshape(2, 3, 4))


@pytest.mark.parametrize(
    "content, message",
    [
        (idx_bytes(np.zeros((2, 3, 4)), magic=0x01000803), "bad IDX magic number 0x01000803"),
        (idx_bytes(np.zeros((2, 3)), magic=0x00000802), "bad IDX magic number 0x00000802"),
        (b"\x00\x00\x0d\x03" + GOOD_IMAGES[4:], r"data type code 0x0D"),
        (GOOD_IMAGES[:-1], "truncated"),
        (GOOD_IMAGES + b"\x00", "trailing bytes"),
        (GOOD_IMAGES[:10], "truncated header"),
        (b"\x00\x00", "too short"),
        (gzip.compress(GOOD_IMAGES)[:-12], "gzip"),
    ],
    ids=["nonzero-lead", "2-d", "dtype-code", "truncated", "trailing", "short-header",
         "tiny", "broken-gzip"],
)
def test_read_idx_rejects_malformed_files_naming_the_file(tmp_path, content, message):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_checks_the_expected_number_of_dimensions(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.arange(5)))
    assert read_idx(path, ndim=1).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="0x00000803"):
        read_idx(path, ndim=3)
    with pytest.raises(TypeError, match="path or bytes"):
        read_idx(12)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent")


def test_read_idx_sizes_cannot_overflow_past_the_header_check(tmp_path):
    """2**31 * 2**31 * 4 = 2**64 wraps to 0 in int64; the file holds 0 bytes of data."""
    path = tmp_path / "huge-idx3-ubyte"
    path.write_bytes(bytes.fromhex("00000803") + b"".join(
        n.to_bytes(4, "big") for n in (2**31, 2**31, 4)))
    with pytest.raises(ValueError, match="truncated") as info:
        read_idx(path)
    assert str(path) in str(info.value) and str(2**64) in str(info.value)
