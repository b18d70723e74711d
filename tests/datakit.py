"""Test-side tools for helpers.data and helpers.download (not a test module itself).

IDX files written independently of the package, small HTTP servers on 127.0.0.1, the test-only
folder ../shared/datasets/mnist (known here, never to the package), and the fixtures
``isolated`` (autouse in the modules that import it), ``shared``, ``serve`` and ``open_tmp``.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import shutil
import socket
import struct
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest

from helpers import data

#: The canonical MNIST test set (and training labels) beside the repository, for offline tests.
SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "mnist"
README_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
README_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_FILES = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")


def sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def idx_bytes(arr: np.ndarray, *, magic: int | None = None) -> bytes:
    """Encode a uint8 array as IDX, written here independently of helpers.data."""
    arr = np.asarray(arr, dtype=np.uint8)
    if magic is None:
        magic = 0x00000800 | arr.ndim
    return struct.pack(">I", magic) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listing(folder: Path) -> list[str]:
    """Every entry under ``folder`` (hidden temporary folders included), as sorted names."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def write_small_set(folder: Path, n: int = 7, seed: int = 0, compresslevel: int = 9):
    """Write a small train-images / train-labels pair; return images, labels and file bytes."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    raw = {TRAIN_FILES[0]: idx_bytes(images), TRAIN_FILES[1]: idx_bytes(labels)}
    folder.mkdir(parents=True, exist_ok=True)
    gz = {}
    for name, content in raw.items():
        gz[name] = gzip.compress(content, compresslevel=compresslevel, mtime=0)
        (folder / name).write_bytes(gz[name])
    return images, labels, raw, gz


def fashion_digests(monkeypatch, raw: dict) -> None:
    """Patch the digests and sizes of the decompressed Fashion-MNIST files to those of ``raw``."""
    table = dict(data.FASHION_MNIST_SHA256_DECOMPRESSED, **{n: sha256(r) for n, r in raw.items()})
    monkeypatch.setattr(data, "FASHION_MNIST_SHA256_DECOMPRESSED", table)
    sizes = dict(data.FASHION_MNIST_SIZES_DECOMPRESSED, **{n: len(r) for n, r in raw.items()})
    monkeypatch.setattr(data, "FASHION_MNIST_SIZES_DECOMPRESSED", sizes)


def copy_test_set(shared: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in TEST_FILES:
        shutil.copyfile(shared / name, folder / name)
    return folder


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """Keep every test away from the real cache, the real mirrors and the user's environment."""
    for var in ("MNIST_DATA_DIR", "MNIST_MIRRORS", "FASHION_MNIST_DATA_DIR",
                "FASHION_MNIST_MIRRORS"):
        monkeypatch.delenv(var, raising=False)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    cache = tmp_path / "os-cache"
    monkeypatch.setattr(data, "default_cache_dir", lambda: cache)
    # A download a test did not ask for fails at once on a closed local port.
    dead = (f"http://127.0.0.1:{free_port()}/",)
    monkeypatch.setattr(data, "MNIST_MIRRORS", dead)
    monkeypatch.setattr(data, "FASHION_MNIST_MIRRORS", dead)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian-here")
    return cache


@pytest.fixture
def shared():
    if not all((SHARED_MNIST / f).is_file() for f in TEST_FILES):
        pytest.skip("../shared/datasets/mnist with the MNIST test set is not available")
    return SHARED_MNIST


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve():
    """serve(folder) or serve(handler=cls) -> base URL of a server on 127.0.0.1."""
    servers = []

    def start(folder: Path | None = None, handler=None) -> str:
        if handler is None:
            handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                  daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def open_tmp():
    """A temporary folder every user may enter (pytest's tmp_path is private to its owner)."""
    folder = Path(tempfile.mkdtemp(prefix="data-test-"))
    folder.chmod(0o755)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        with contextlib.suppress(OSError):
            path.chmod(0o700 if path.is_dir() else 0o600)
    shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def unprivileged():
    """Run the body with file permissions enforced: as root, drop the effective user to nobody.

    Root ignores read-only modes, so a read-only folder would not be read-only to it. The
    effective uid is restored afterwards (root keeps its real and saved uid).
    """
    if os.name != "posix":
        pytest.skip("file modes as used here are POSIX")
    if os.geteuid() != 0:
        yield
        return
    import pwd

    try:
        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.skip("no user 'nobody' to drop root's privileges to")
    os.seteuid(nobody)
    try:
        yield
    finally:
        os.seteuid(0)
