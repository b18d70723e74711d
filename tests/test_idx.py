"""Tests of helpers.idx: the strict IDX reader, on the canonical files and on broken ones."""

from __future__ import annotations

import gzip
import os
import threading
import tracemalloc

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


def _bomb(path, declared: np.ndarray, zeros: int) -> int:
    """Write a gzip'd IDX file of ``declared`` followed by ``zeros`` zero bytes, streamed (the
    test never holds the decompressed bytes); returns the file's size."""
    block = bytes(1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as fh:
        fh.write(idx_bytes(declared))
        for _ in range(zeros // len(block)):
            fh.write(block)
    return path.stat().st_size


def _peak_bytes(call):
    """(result or exception, peak bytes traced by tracemalloc while ``call()`` ran)."""
    tracemalloc.start()
    try:
        try:
            outcome = call()
        except Exception as exc:  # noqa: BLE001 - returned for the caller to check
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_read_idx_stops_decompressing_at_the_declared_size(tmp_path):
    """Issue 21.12: a small gzip declaring one image followed by many zeros (a decompression
    bomb) was decompressed whole before the trailing bytes were refused (1 GiB: peak 2.1 GB)."""
    path = tmp_path / "bomb-idx3-ubyte.gz"
    size = _bomb(path, np.zeros((1, 28, 28)), 96 << 20)
    assert size < 1 << 20  # ~96 MiB of zeros in ~100 KB
    for source in (path, path.read_bytes()):
        outcome, peak = _peak_bytes(lambda: read_idx(source))
        assert isinstance(outcome, ValueError) and "trailing bytes" in str(outcome)
        assert peak < 4 << 20, peak  # the file's bytes (for ``bytes``) and a few buffers


def test_read_idx_refuses_a_size_no_gzip_of_that_length_can_hold(tmp_path):
    """Deflate packs at most 1032 bytes into one: a larger announced size is refused at once."""
    path = tmp_path / "liar-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros((3, 28, 28)))[:16]
                                   .replace(b"\x00\x00\x00\x03", (10**6).to_bytes(4, "big"), 1)))
    outcome, peak = _peak_bytes(lambda: read_idx(path))
    assert isinstance(outcome, ValueError) and "truncated" in str(outcome)
    assert str(10**6 * 784) in str(outcome) and peak < 1 << 20


def test_read_idx_reads_only_regular_files(tmp_path):
    """A FIFO is never opened for reading (it would block until a writer comes)."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("FIFOs are POSIX")
    fifo = tmp_path / "fifo-idx1-ubyte"
    os.mkfifo(fifo)
    done = []
    reader = threading.Thread(target=lambda: done.append(_peak_bytes(lambda: read_idx(fifo))[0]),
                              daemon=True)
    reader.start()
    reader.join(timeout=10)
    if reader.is_alive():  # unblock the reader so the test ends
        with open(fifo, "wb"):
            pass
        pytest.fail("read_idx blocked on a FIFO")
    assert isinstance(done[0], OSError) and "not a regular file" in str(done[0])
    assert str(fifo) in str(done[0])
