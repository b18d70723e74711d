"""Tests of helpers.download, the download path of helpers.data: mirrors, limits, safety.

Nothing here reaches beyond 127.0.0.1: every mirror is a small HTTP server that a fixture starts
on a free local port, some of them misbehaving on purpose (too slow, endless, lying about the
size). Every test is bounded in time.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import http.server
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from datakit import (README_TEST_COUNTS, TEST_FILES, TRAIN_FILES, QuietHandler,  # noqa: F401
                     copy_test_set, fashion_digests, free_port, idx_bytes, isolated, listing, serve, sha256,
                     shared, write_small_set)

from helpers import data, download


# ------------------------------------------------------------------------------------------
# Downloads from a local server
# ------------------------------------------------------------------------------------------


def test_download_skips_dead_mirrors_verifies_and_caches(shared, tmp_path, serve, capsys):
    good = serve(copy_test_set(shared, tmp_path / "server"))
    closed = f"http://127.0.0.1:{free_port()}/"
    folder = tmp_path / "data"
    mirrors = [closed, good + "not-here/", good]  # refused connection, then a 404, then good
    images, labels = data.load_mnist("test", data_dir=folder, mirrors=mirrors, progressbar=True)
    assert np.bincount(labels, minlength=10).tolist() == README_TEST_COUNTS
    assert listing(folder) == sorted(TEST_FILES)  # no temporary files left behind
    for name in TEST_FILES:
        assert sha256((folder / name).read_bytes()) == data.MNIST_SHA256[name]
    assert "B" in capsys.readouterr().err  # pooch's tqdm bar counts bytes on stderr
    # Cached: the next call works with no mirror at all.
    again, _ = data.load_mnist("test", data_dir=folder, mirrors=[closed], download=True)
    assert np.array_equal(again, images)


def test_download_of_a_corrupted_copy_fails_and_leaves_nothing(shared, tmp_path, serve):
    server_dir = copy_test_set(shared, tmp_path / "server")
    damaged = bytearray((server_dir / TEST_FILES[0]).read_bytes())
    damaged[-100] ^= 0x01
    (server_dir / TEST_FILES[0]).write_bytes(bytes(damaged))
    bad = serve(server_dir)
    folder = tmp_path / "data"
    with pytest.raises(ValueError) as info:
        data.load_mnist("test", data_dir=folder, mirrors=[bad], progressbar=False)
    message = str(info.value)
    assert TEST_FILES[0] in message and data.MNIST_SHA256[TEST_FILES[0]] in message
    assert sha256(bytes(damaged)) in message
    assert listing(folder) == []


def test_download_moves_on_from_a_corrupting_mirror(shared, tmp_path, serve):
    server_dir = copy_test_set(shared, tmp_path / "bad-server")
    (server_dir / TEST_FILES[1]).write_bytes(b"not the labels")
    bad = serve(server_dir)
    good = serve(copy_test_set(shared, tmp_path / "good-server"))
    folder = tmp_path / "data"
    _, labels = data.load_mnist("test", data_dir=folder, mirrors=[bad, good], progressbar=False)
    assert labels.shape == (10000,)
    assert sha256((folder / TEST_FILES[1]).read_bytes()) == data.MNIST_SHA256[TEST_FILES[1]]


def test_download_with_every_mirror_dead_is_a_connection_error(tmp_path, serve):
    empty = serve(tmp_path / "nothing-served")  # directory does not exist: every path is a 404
    closed = f"http://127.0.0.1:{free_port()}/"
    folder = tmp_path / "data"
    with pytest.raises(ConnectionError) as info:
        data.load_mnist("train", data_dir=folder, mirrors=[closed, empty], progressbar=False)
    message = str(info.value)
    assert closed + TRAIN_FILES[0] in message and empty + TRAIN_FILES[0] in message
    assert str(folder) in message
    assert listing(folder) == []


def test_train_split_download_with_small_files_and_the_mirror_variable(tmp_path, serve,
                                                                         monkeypatch):
    images, labels, _, gz = write_small_set(tmp_path / "server")
    digests = dict(data.MNIST_SHA256, **{name: sha256(raw) for name, raw in gz.items()})
    monkeypatch.setattr(data, "MNIST_SHA256", digests)
    url = serve(tmp_path / "server")
    dead = f"http://127.0.0.1:{free_port()}/"
    monkeypatch.setenv("MNIST_MIRRORS", f"{dead}, {url}")
    folder = tmp_path / "data"
    got_images, got_labels = data.load_mnist("train", data_dir=folder, progressbar=False)
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)
    assert got_labels.dtype == np.int64
    assert listing(folder) == sorted(TRAIN_FILES)


def test_default_cache_is_used_and_a_damaged_cached_copy_is_replaced(tmp_path, serve,
                                                                      monkeypatch, isolated):
    _, labels, _, gz = write_small_set(tmp_path / "server")
    monkeypatch.setattr(data, "MNIST_SHA256", {name: sha256(raw) for name, raw in gz.items()})
    url = serve(tmp_path / "server")
    cache = isolated / "mnist"
    cache.mkdir(parents=True)
    (cache / TRAIN_FILES[0]).write_bytes(b"half a download")
    # Offline, the damaged copy is reported, not touched.
    with pytest.raises(ValueError, match="left untouched"):
        data.load_mnist("train", download=False)
    assert (cache / TRAIN_FILES[0]).read_bytes() == b"half a download"
    # Online, the project's own cache is repaired.
    _, got = data.load_mnist("train", mirrors=[url], progressbar=False)
    assert np.array_equal(got, labels)
    assert listing(cache) == sorted(TRAIN_FILES)
    assert (cache / TRAIN_FILES[0]).read_bytes() == gz[TRAIN_FILES[0]]


def test_install_never_replaces_an_existing_file(tmp_path):
    final = tmp_path / "file.gz"
    final.write_bytes(b"user's own")
    tmp = tmp_path / "download"
    tmp.write_bytes(b"downloaded")
    with pytest.raises(FileExistsError):
        download.install(tmp, final, replace=False)
    assert final.read_bytes() == b"user's own"


def test_fashion_download_checks_decompressed_digests(tmp_path, serve, monkeypatch):
    images, labels, raw, _ = write_small_set(tmp_path / "server", seed=9)
    fashion_digests(monkeypatch, raw)
    url = serve(tmp_path / "server")
    dead = f"http://127.0.0.1:{free_port()}/"
    monkeypatch.setenv("FASHION_MNIST_MIRRORS", f"{dead} {url}")
    folder = tmp_path / "data"
    got_images, got_labels = data.load_fashion_mnist("train", data_dir=folder, progressbar=False)
    assert np.array_equal(got_images, images) and np.array_equal(got_labels, labels)
    assert listing(folder) == sorted(TRAIN_FILES)
    # The server now serves different content under the same name: refused, nothing kept.
    (tmp_path / "server" / TRAIN_FILES[1]).write_bytes(gzip.compress(idx_bytes(np.ones(7))))
    other = tmp_path / "data2"
    with pytest.raises(ValueError, match="decompressed IDX bytes"):
        data.load_fashion_mnist("train", data_dir=other, mirrors=[url], progressbar=False)
    assert listing(other) == [TRAIN_FILES[0]]


# ------------------------------------------------------------------------------------------
# Limits: misbehaving mirrors are stopped, and the message says which and why
# ------------------------------------------------------------------------------------------


def misbehaving(body: bytes, *, length: int | None, pause: float, max_seconds: float, sent: list):
    """A handler that sends ``body`` again and again in ``len(body)``-byte writes, ``pause``
    seconds apart, announcing ``length`` (None: no Content-Length), for at most ``max_seconds``
    -- the bound that keeps a test short even if the client never stops. ``sent`` collects the
    number of bytes each connection delivered before the client hung up."""

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/gzip")
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()
            total, stop = 0, time.monotonic() + max_seconds
            try:
                while time.monotonic() < stop:
                    self.wfile.write(body)
                    self.wfile.flush()
                    total += len(body)
                    time.sleep(pause)
            except OSError:
                pass
            sent.append(total)

    return Handler


def small_mnist(tmp_path, monkeypatch):
    """A small train set served from a good local mirror; its digests and sizes patched in."""
    images, labels, _, gz = write_small_set(tmp_path / "server")
    monkeypatch.setattr(data, "MNIST_SHA256", {name: sha256(raw) for name, raw in gz.items()})
    monkeypatch.setattr(data, "MNIST_SIZES", {name: len(raw) for name, raw in gz.items()},
                        raising=False)  # raising=False: the reproduction also runs on old code
    return labels, gz


def test_a_trickling_mirror_meets_the_total_deadline(tmp_path, serve, monkeypatch):
    """One byte every 0.2 s never trips the read timeout; the deadline (here 1 s) stops it."""
    labels, gz = small_mnist(tmp_path, monkeypatch)
    monkeypatch.setattr(download, "DEADLINE", 1.0)
    size = len(gz[TRAIN_FILES[0]])
    sent = []
    slow = serve(handler=misbehaving(b"\x1f", length=size, pause=0.2, max_seconds=8, sent=sent))
    good = serve(tmp_path / "server")
    folder = tmp_path / "data"
    start = time.monotonic()
    with pytest.raises(ConnectionError) as info:
        data.load_mnist("train", data_dir=folder, mirrors=[slow], progressbar=False)
    assert time.monotonic() - start < 4
    assert f"{slow}{TRAIN_FILES[0]}: too slow" in str(info.value)
    assert "deadline of 1 s" in str(info.value)
    # The next mirror still gets its full chance.
    _, got = data.load_mnist("train", data_dir=folder, mirrors=[slow, good], progressbar=False)
    assert np.array_equal(got, labels) and listing(folder) == sorted(TRAIN_FILES)


def test_an_endless_mirror_is_stopped_after_the_size_of_the_file(tmp_path, serve, monkeypatch):
    """A mirror that never stops sending: stopped once it sent more bytes than the file has."""
    labels, gz = small_mnist(tmp_path, monkeypatch)
    sent = []
    endless = serve(handler=misbehaving(bytes(1 << 16), length=None, pause=0, max_seconds=8,
                                        sent=sent))
    good = serve(tmp_path / "server")
    folder = tmp_path / "data"
    start = time.monotonic()
    with pytest.raises(ValueError) as info:
        data.load_mnist("train", data_dir=folder, mirrors=[endless], progressbar=False)
    assert time.monotonic() - start < 4
    size = len(gz[TRAIN_FILES[0]])
    assert f"{endless}{TRAIN_FILES[0]}: sent more than {size} bytes" in str(info.value)
    assert listing(folder) == []
    _, got = data.load_mnist("train", data_dir=folder, mirrors=[endless, good],
                             progressbar=False)
    assert np.array_equal(got, labels)
    deadline = time.monotonic() + 10
    while len(sent) < 3 and time.monotonic() < deadline:  # images, images, labels
        time.sleep(0.05)
    # The client hung up: the server could only fill the socket buffers, nowhere near 8 s of
    # loopback traffic (gigabytes).
    assert len(sent) == 3 and max(sent) < 64 << 20


def test_a_mirror_announcing_too_many_bytes_is_refused_at_once(tmp_path, serve, monkeypatch):
    small_mnist(tmp_path, monkeypatch)
    sent = []
    liar = serve(handler=misbehaving(b"x", length=10**10, pause=0.5, max_seconds=5, sent=sent))
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"announces 10000000000 bytes, but the file has at most"):
        data.load_mnist("train", data_dir=tmp_path / "data", mirrors=[liar], progressbar=False)
    assert time.monotonic() - start < 2


# ------------------------------------------------------------------------------------------
# Leftovers of a killed process
# ------------------------------------------------------------------------------------------


#: The marker file a scratch folder holds (getattr: the reproduction also runs on old code).
_MARKER = (getattr(download, "SCRATCH_MARKER", "marker"), getattr(download, "SCRATCH_MARKER_TEXT", ""))


def _old(*paths):
    old = time.time() - 24 * 3600
    for path in paths:
        os.utime(path, (old, old))


def _stale_scratch(folder: Path, name: str) -> Path:
    """A scratch folder exactly as :func:`download._scratch` makes it, left a day ago."""
    with download._scratch(folder, name, "") as scratch:
        (scratch / "tmpa8b9c0").write_bytes(b"half a download")
        kept = scratch.with_name(scratch.name + "x")
        scratch.rename(kept)  # keep it from the clean-up, as a SIGKILL would
    made = kept.rename(scratch)
    _old(*made.iterdir(), made)
    return made


def test_stale_scratch_folders_of_a_killed_download_are_removed(tmp_path, monkeypatch, serve):
    labels, gz = small_mnist(tmp_path, monkeypatch)
    folder = tmp_path / "data"
    folder.mkdir()
    stale = _stale_scratch(folder, TRAIN_FILES[0])
    with download._scratch(folder, TRAIN_FILES[0], "") as running:  # another process, right now
        _, got = data.load_mnist("train", data_dir=folder, mirrors=[serve(tmp_path / "server")],
                                 progressbar=False)
        assert np.array_equal(got, labels)
        assert not stale.exists() and running.is_dir()


def test_folders_this_code_did_not_make_are_never_removed(tmp_path, monkeypatch, serve):
    """Issue 21.4: a user's old folder ``.<file>.download-my-notes`` was deleted."""
    labels, gz = small_mnist(tmp_path, monkeypatch)
    folder = tmp_path / "data"
    folder.mkdir()
    prefix = f".{TRAIN_FILES[0]}.download-"
    mine = []
    for suffix in ("my-notes", "k1ll3d", "abcd1234x", "abcd123"):  # names mkdtemp never makes
        mine.append(folder / (prefix + suffix))
        mine[-1].mkdir()
        (mine[-1] / "notes.txt").write_text("mine")
        (mine[-1] / _MARKER[0]).write_text(_MARKER[1])
        _old(*mine[-1].iterdir(), mine[-1])
    unmarked = folder / (prefix + "abcd1234")  # the exact pattern, but no marker inside
    unmarked.mkdir()
    (unmarked / "notes.txt").write_text("mine")
    _old(unmarked / "notes.txt", unmarked)
    wrong_marker = _stale_scratch(folder, TRAIN_FILES[1])
    (wrong_marker / _MARKER[0]).write_text("my own file of that name")
    _old(*wrong_marker.iterdir(), wrong_marker)
    _, got = data.load_mnist("train", data_dir=folder, mirrors=[serve(tmp_path / "server")],
                             progressbar=False)
    assert np.array_equal(got, labels)
    for path in (*mine, unmarked, wrong_marker):
        assert (path / "notes.txt" if path != wrong_marker else path).exists(), path


def test_nothing_is_removed_without_download(tmp_path, monkeypatch):
    """Issue 21.4: ``download=False`` must not touch the data folder at all."""
    folder = tmp_path / "data"
    images, labels, _, gz = write_small_set(folder)
    monkeypatch.setattr(data, "MNIST_SHA256", {name: sha256(raw) for name, raw in gz.items()})
    stale = _stale_scratch(folder, TRAIN_FILES[0])
    before = listing(folder)
    _, got = data.load_mnist("train", data_dir=folder, download=False)
    assert np.array_equal(got, labels)
    assert stale.is_dir() and listing(folder) == before


def test_the_readme_states_the_limits_the_code_has():
    readme = (Path(download.__file__).resolve().parents[1] / "README.md").read_text()
    assert download.READ_TIMEOUT == 60 and "stays silent for 60 s" in readme
    assert download.DEADLINE == 10 * 60 and "more than 10 minutes for\n  one file" in readme


def test_a_killed_download_leaves_a_scratch_folder_the_next_run_removes(tmp_path, serve,
                                                                       monkeypatch):
    """A real process, killed in the middle of a download (SIGKILL: no clean-up runs)."""
    labels, gz = small_mnist(tmp_path, monkeypatch)
    sent = []
    slow = serve(handler=misbehaving(b"\x1f", length=len(gz[TRAIN_FILES[0]]), pause=0.1,
                                     max_seconds=20, sent=sent))
    folder = tmp_path / "data"
    code = ("import sys; from helpers import data; "
            "data.load_mnist('train', data_dir=sys.argv[1], mirrors=[sys.argv[2]], "
            "progressbar=False)")
    env = dict(os.environ, PYTHONPATH=str(Path(data.__file__).resolve().parents[1]))
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder), slow], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        stop = time.monotonic() + 15
        while not list(folder.glob(".*.download-*/*")) and time.monotonic() < stop:
            time.sleep(0.05)
        time.sleep(0.3)  # a few bytes written
    finally:
        proc.kill()
        proc.wait(timeout=10)
    leftovers = list(folder.glob(f".{TRAIN_FILES[0]}.download-*"))
    assert len(leftovers) == 1 and any(leftovers[0].iterdir())
    # Old enough to be certainly abandoned: here after 0.5 s, by default after 12 minutes.
    monkeypatch.setattr(download, "DEADLINE", 0.3)
    monkeypatch.setattr(download, "READ_TIMEOUT", 0.1)
    time.sleep(0.6)
    good = serve(tmp_path / "server")
    _, got = data.load_mnist("train", data_dir=folder, mirrors=[good], progressbar=False)
    assert np.array_equal(got, labels)
    assert listing(folder) == sorted(TRAIN_FILES)


@pytest.mark.parametrize("level", [0, 1, 9])
def test_the_fashion_byte_cap_admits_any_honest_gzip(monkeypatch, level):
    """Fashion-MNIST is checked after decompression: every gzip of the right data must fit."""
    raw = np.random.default_rng(level).integers(0, 256, size=3 << 20, dtype=np.uint8).tobytes()
    monkeypatch.setattr(data, "FASHION_MNIST_SIZES_DECOMPRESSED", {TRAIN_FILES[0]: len(raw)})
    assert len(gzip.compress(raw, compresslevel=level)) <= data._max_bytes(data._FASHION,
                                                                          TRAIN_FILES[0])


# ------------------------------------------------------------------------------------------
# Only regular files are data files
# ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _bounded(seconds: int):
    """Turn a hang into a failure: SIGALRM interrupts a blocking open or read after ``seconds``."""
    def hung(signum, frame):
        raise TimeoutError(f"still blocked after {seconds} s")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                    reason="FIFOs and /dev/zero are POSIX")
@pytest.mark.parametrize("make", [_fifo, _dev_zero], ids=["fifo", "dev-zero"])
@pytest.mark.parametrize("fashion", [False, True], ids=["mnist", "fashion"])
@pytest.mark.parametrize("download_", [True, False], ids=["download", "offline"])
def test_a_fifo_or_device_in_the_way_is_one_clear_error(tmp_path, monkeypatch, serve, make,
                                                        fashion, download_):
    """Issue 21.11: a FIFO blocked forever, /dev/zero was hashed forever."""
    _, _, raw, gz = write_small_set(tmp_path / "server")
    if fashion:
        fashion_digests(monkeypatch, raw)
    else:
        monkeypatch.setattr(data, "MNIST_SHA256", {name: sha256(b) for name, b in gz.items()})
    load = data.load_fashion_mnist if fashion else data.load_mnist
    folder = tmp_path / "data"
    folder.mkdir()
    make(folder / TRAIN_FILES[0])
    before = listing(folder)
    with _bounded(10), pytest.raises(download.DataFolderError) as info:
        load("train", data_dir=folder, mirrors=[serve(tmp_path / "server")], progressbar=False,
             download=download_)
    message = str(info.value)
    assert str(folder / TRAIN_FILES[0]) in message and "not a regular file" in message
    assert listing(folder) == before


# ------------------------------------------------------------------------------------------
# The deadline covers the whole exchange
# ------------------------------------------------------------------------------------------


def dripping(head: bytes, tail: bytes, *, pause: float, max_seconds: float):
    """A handler that writes ``head`` at once, then ``tail`` one byte every ``pause`` seconds,
    for at most ``max_seconds`` (the bound that keeps the test short if the client never stops)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            stop = time.monotonic() + max_seconds
            try:
                self.wfile.write(head)
                self.wfile.flush()
                for byte in tail:
                    if time.monotonic() > stop:
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(pause)
            except OSError:
                pass
            self.close_connection = True

    return Handler


_HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\n" + b"X-Padding: abc\r\n" * 20


def _assert_cut_at_the_deadline(mirror, data_dir, deadline):
    """Loading from ``mirror`` (download.DEADLINE set to ``deadline``) fails within the deadline
    plus 1.5 s of slack, with an error naming the file, "too slow" and the deadline."""
    start = time.monotonic()
    with pytest.raises(ConnectionError) as info:
        data.load_mnist("train", data_dir=data_dir, mirrors=[mirror], progressbar=False)
    assert time.monotonic() - start < deadline + 1.5
    assert f"{mirror}{TRAIN_FILES[0]}: too slow" in str(info.value)
    assert f"deadline of {deadline:g} s" in str(info.value)


@pytest.mark.parametrize("head, tail", [
    (b"", _HEADERS + b"\r\n"),  # the status line and headers, one byte at a time
    (_HEADERS + b"Transfer-Encoding: chunked\r\n\r\n", b"0000000000000000000001\r\n"),  # a chunk size
], ids=["headers", "chunk-size"])
def test_a_mirror_dripping_headers_meets_the_deadline(tmp_path, serve, monkeypatch, head, tail):
    """Issue 21.10: the deadline was checked only between reads of the body, so a mirror that
    drips its headers or a chunk-size line (one byte every 0.5 s) was dropped after 20 s against
    a 5 s deadline, and with the defaults a byte every 59 s was never cut."""
    small_mnist(tmp_path, monkeypatch)
    monkeypatch.setattr(download, "DEADLINE", 1.5)
    drip = serve(handler=dripping(head, tail, pause=0.3, max_seconds=12))
    _assert_cut_at_the_deadline(drip, tmp_path / "data", 1.5)
    assert listing(tmp_path / "data") == []


def test_every_default_mirror_is_https(monkeypatch):
    """Issue 21.10: the first Fashion-MNIST mirror was plain http (the digests still apply)."""
    monkeypatch.undo()  # the real mirrors, not the dead port of the ``isolated`` fixture
    mirrors = (*data.MNIST_MIRRORS, *data.FASHION_MNIST_MIRRORS)
    assert len(mirrors) >= 4 and all(m.startswith("https://") for m in mirrors), mirrors


@pytest.fixture
def tls(tmp_path, monkeypatch):
    """tls(folder) -> base https URL of a server on 127.0.0.1 with a fresh self-signed
    certificate, which the downloader is made to trust (and only it)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True, timeout=30)
    monkeypatch.setattr(download, "_ssl_context", lambda: ssl.create_default_context(cafile=cert))
    servers = []

    def start(folder: Path) -> str:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        handler = functools.partial(QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                                  daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"https://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _dripping_relay(target_port: int, pause: float, max_seconds: float) -> int:
    """A TCP relay on 127.0.0.1 passing the client's bytes on at once and the server's back one
    byte every ``pause`` seconds (for at most ``max_seconds``); returns its port."""
    listener = socket.create_server(("127.0.0.1", 0))

    def relay():
        client, _ = listener.accept()
        listener.close()
        upstream = socket.create_connection(("127.0.0.1", target_port))

        def forward():
            with contextlib.suppress(OSError):
                while chunk := client.recv(1 << 16):
                    upstream.sendall(chunk)

        threading.Thread(target=forward, daemon=True).start()
        stop = time.monotonic() + max_seconds
        with contextlib.suppress(OSError), client, upstream:
            while time.monotonic() < stop and (byte := upstream.recv(1)):
                client.sendall(byte)
                time.sleep(pause)

    threading.Thread(target=relay, daemon=True).start()
    return listener.getsockname()[1]


def test_https_downloads_work_and_a_dripping_handshake_meets_the_deadline(tmp_path, tls,
                                                                        monkeypatch):
    """The real mirrors are https: a download through TLS, then a TLS handshake dripped one
    byte every 0.3 s (before: bounded by the 60 s read timeout, not by the deadline)."""
    labels, _ = small_mnist(tmp_path, monkeypatch)
    good = tls(tmp_path / "server")
    _, got = data.load_mnist("train", data_dir=tmp_path / "data", mirrors=[good],
                             progressbar=False)
    assert np.array_equal(got, labels)
    monkeypatch.setattr(download, "DEADLINE", 1.5)
    slow = f"https://127.0.0.1:{_dripping_relay(int(good.split(':')[2][:-1]), 0.3, 12)}/"
    _assert_cut_at_the_deadline(slow, tmp_path / "other", 1.5)
