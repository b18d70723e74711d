"""The IDX file format of MNIST and Fashion-MNIST, read strictly.

An IDX file is a header -- two zero bytes, a data type code (0x08 = unsigned byte), the number
of dimensions D -- then D big-endian 32-bit sizes, then the data in row-major order. Only
unsigned bytes with D = 1 (labels) or D = 3 (images) occur in MNIST.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib

import numpy as np

from .download import open_regular

__all__ = ["read_idx"]

# IDX magic numbers: two zero bytes, a data type code, the number of dimensions.
_IDX_UBYTE = 0x08
_IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}


def read_idx(source, *, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (the MNIST format), gzip'd or raw, strictly.

    Parameters
    ----------
    source : path (str or os.PathLike) of a regular file, or bytes; gzip data is recognised by
        its magic bytes.
    ndim : None, 1 or 3; if given, the file must have that many dimensions.

    Returns
    -------
    uint8 array: shape (N,) for a label file (magic 0x00000801), (N, rows, cols) for an image
    file (magic 0x00000803).

    The header is four bytes ``00 00 08 D`` (D = number of dimensions, data type 0x08 = unsigned
    byte) followed by D big-endian 32-bit sizes. The data are read (and decompressed) as a
    stream that stops at the size the header announces, plus one byte to detect trailing data,
    so a small gzip of a huge run of bytes is never decompressed whole; an announced size that
    no file of this length can hold (deflate packs at most 1032 bytes into one) is refused
    before anything is allocated. Raises ValueError naming the file and the problem for a bad
    magic number, another data type, or a size that does not match the number of bytes
    (truncated or trailing data); FileNotFoundError if the path does not exist;
    :class:`helpers.download.DataFolderError` if it is not a regular file (a FIFO or a device
    is never opened for reading).
    """
    if ndim is not None and ndim not in _IDX_MAGIC:
        raise ValueError(f"ndim must be None, 1 (labels) or 3 (images), got {ndim!r}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        name, fh = "<bytes>", io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        fh = open_regular(name)
    else:
        raise TypeError(f"source must be a path or bytes, got {type(source).__name__}")
    with fh:
        stored = fh.seek(0, io.SEEK_END)
        fh.seek(0)
        gzipped = fh.read(2) == b"\x1f\x8b"
        fh.seek(0)
        if not gzipped:
            return _parse(fh, name, ndim, stored)
        try:
            with gzip.GzipFile(fileobj=fh, mode="rb") as stream:
                return _parse(stream, name, ndim, _DEFLATE_MAX_RATIO * stored)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise ValueError(f"{name}: corrupt or truncated gzip data ({exc})") from exc


#: Deflate (gzip) expands one byte into at most 1032 (zlib's documented limit).
_DEFLATE_MAX_RATIO = 1032


def _read_into(stream, out: memoryview) -> int:
    """Fill ``out`` from ``stream`` in chunks of at most 1 MiB; return the bytes read (fewer at
    the end of the stream)."""
    got = 0
    while got < len(out):
        chunk = stream.read(min(1 << 20, len(out) - got))
        if not chunk:
            break
        out[got:got + len(chunk)] = chunk
        got += len(chunk)
    return got


def _parse(stream, name: str, ndim: int | None, most: int) -> np.ndarray:
    """The array of the IDX ``stream`` (raw bytes), which can hold at most ``most`` bytes."""
    raw = stream.read(4)
    if len(raw) < 4:
        raise ValueError(f"{name}: only {len(raw)} bytes, too short for an IDX header")
    magic = int.from_bytes(raw[:4], "big")
    zero, dtype_code, dims = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or dims not in _IDX_MAGIC:
        raise ValueError(
            f"{name}: bad IDX magic number 0x{magic:08X}; expected 0x00000801 (labels) or "
            "0x00000803 (images)"
        )
    if dtype_code != _IDX_UBYTE:
        raise ValueError(
            f"{name}: IDX data type code 0x{dtype_code:02X} is not supported; "
            "MNIST files use 0x08 (unsigned byte)"
        )
    if ndim is not None and dims != ndim:
        raise ValueError(
            f"{name}: has magic 0x{magic:08X} ({dims} dimensions) but 0x{_IDX_MAGIC[ndim]:08X} "
            f"({ndim} dimensions) was expected"
        )
    header = 4 + 4 * dims
    raw += stream.read(header - 4)
    if len(raw) < header:
        raise ValueError(f"{name}: truncated header: {len(raw)} bytes, need {header}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    expected = math.prod(shape)  # Python integers: no overflow for sizes up to (2**32 - 1)**3
    announced = f"the header announces shape {shape} = {expected} bytes of data"
    if expected > most - header:
        raise ValueError(f"{name}: truncated: {announced}, but this file can hold at most "
                         f"{max(most - header, 0)}")
    data = np.empty(expected, dtype=np.uint8)
    actual = _read_into(stream, memoryview(data))
    if actual < expected:
        raise ValueError(f"{name}: truncated: {announced}, but the file holds {actual}")
    if stream.read(1):
        raise ValueError(f"{name}: has trailing bytes: {announced}, but the file holds more")
    return data.reshape(shape)
