"""The IDX file format of MNIST and Fashion-MNIST, read strictly.

An IDX file is a header -- two zero bytes, a data type code (0x08 = unsigned byte), the number
of dimensions D -- then D big-endian 32-bit sizes, then the data in row-major order. Only
unsigned bytes with D = 1 (labels) or D = 3 (images) occur in MNIST.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib

import numpy as np

__all__ = ["read_idx"]

# IDX magic numbers: two zero bytes, a data type code, the number of dimensions.
_IDX_UBYTE = 0x08
_IDX_MAGIC = {1: 0x00000801, 3: 0x00000803}


def read_idx(source, *, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file of unsigned bytes (the MNIST format), gzip'd or raw, strictly.

    Parameters
    ----------
    source : path (str or os.PathLike) or bytes; gzip data is recognised by its magic bytes.
    ndim : None, 1 or 3; if given, the file must have that many dimensions.

    Returns
    -------
    uint8 array: shape (N,) for a label file (magic 0x00000801), (N, rows, cols) for an image
    file (magic 0x00000803).

    The header is four bytes ``00 00 08 D`` (D = number of dimensions, data type 0x08 = unsigned
    byte) followed by D big-endian 32-bit sizes. Raises ValueError naming the file and the
    problem for a bad magic number, another data type, or a size that does not match the
    number of bytes (truncated or trailing data); FileNotFoundError if the path does not exist.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        name = "<bytes>"
        raw = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(name, "rb") as fh:
            raw = fh.read()
    else:
        raise TypeError(f"source must be a path or bytes, got {type(source).__name__}")
    if ndim is not None and ndim not in _IDX_MAGIC:
        raise ValueError(f"ndim must be None, 1 (labels) or 3 (images), got {ndim!r}")

    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{name}: corrupt or truncated gzip data ({exc})") from exc
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
    if len(raw) < header:
        raise ValueError(f"{name}: truncated header: {len(raw)} bytes, need {header}")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    expected = math.prod(shape)  # Python integers: no overflow for sizes up to (2**32 - 1)**3
    actual = len(raw) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise ValueError(
            f"{name}: {what}: the header announces shape {shape} = {expected} bytes of data, "
            f"but the file holds {actual}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()
