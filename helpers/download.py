"""Downloads for :mod:`helpers.data`: pooch fetches and checks, this module sets the limits.

:func:`pooch.retrieve` downloads each file to a temporary name, checks its digest
(``known_hash``) and only then gives it its real name. This module adds what pooch lacks:

* :func:`fetch` tries several mirrors in turn and says, for each one, why it failed;
* :class:`LimitedDownloader`, the downloader it hands to pooch, stops a transfer as soon as more
  bytes arrive than the file has, after :data:`READ_TIMEOUT` seconds of silence, and after
  :data:`DEADLINE` seconds in total for one file from one mirror -- the whole exchange, from
  connecting through headers to the last byte;
* a file that already sits in the data folder is never replaced, except a damaged copy in the
  project's own cache (``replace=True``): pooch works inside a hidden scratch folder
  ``.<file name>.download-*`` and the checked file is then linked into place, which fails if
  a file of that name exists. Scratch folders left behind by a killed process are removed by
  the next download (:func:`remove_stale_scratch`): only folders this module made (an exact
  name pattern and a marker file inside), never anything when no download is made;
* every operating-system error on a data folder or file (read-only folder, unreadable file, a
  file where a folder should be, a full disk) becomes one exception, :class:`DataFolderError`,
  whose message names the path and the cause.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import logging
import os
import re
import shutil
import ssl
import stat
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["DataFolderError", "open_regular", "regular_or_absent", "READ_TIMEOUT", "DEADLINE", "LimitedDownloader", "fetch",
           "remove_stale_scratch", "SCRATCH_MARKER", "SCRATCH_MARKER_TEXT"]

#: Seconds a mirror may stay silent (connecting, or between two reads) before it is given up.
READ_TIMEOUT = 60.0
#: Seconds one file may take from one mirror, from connecting to the last byte (every wait on
#: the socket is bounded by the time left).
DEADLINE = 600.0


class DataFolderError(OSError):
    """An operating-system error on a data folder or file, with a message naming the path.

    Raised for a folder that cannot be created or written (read-only ``data_dir`` or cache), a
    file that cannot be read, a ``data_dir`` that is a file, or a full disk. It is an OSError,
    so ``except OSError`` catches it too.
    """


class MirrorError(Exception):
    """One mirror failed for one file; ``wrong_bytes`` if it served bytes that cannot be right."""

    def __init__(self, reason: str, *, wrong_bytes: bool = False):
        super().__init__(reason)
        self.wrong_bytes = wrong_bytes


def folder_error(path, action: str, exc: OSError, advice: str = "") -> DataFolderError:
    """A :class:`DataFolderError` saying ``{path}: cannot {action} ({cause})`` plus advice."""
    cause = exc.strerror or str(exc)
    message = f"{path}: cannot {action} ({cause})"
    return DataFolderError(f"{message}. {advice}" if advice else message)


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def not_regular_error(path, mode: int, advice: str = "") -> DataFolderError:
    """A :class:`DataFolderError`: ``path`` (whose ``st_mode`` is ``mode``) is not a regular file."""
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    link = " (through a symbolic link)" if os.path.islink(path) else ""
    message = (f"{path}: is not a regular file but {kind}{link}; only regular files are read as "
               "data files. It was left untouched: move it away")
    return DataFolderError(f"{message}. {advice}" if advice else message + ".")


def open_regular(path, advice: str = ""):
    """Open ``path`` for reading in binary mode if it is a regular file (symbolic links followed).

    The file is opened without blocking (a FIFO would wait for a writer) and checked on the open
    descriptor, so a FIFO, a device (``/dev/zero``), a socket or a folder is never read -- not even
    one swapped in after an earlier check. Returns a binary file object. Raises
    :class:`DataFolderError` for such a file (:func:`not_regular_error`), FileNotFoundError and the
    other OSErrors of ``os.open`` as they are.
    """
    nonblock = getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, os.O_RDONLY | nonblock | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise not_regular_error(path, mode, advice)
        if nonblock:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def regular_or_absent(path, advice: str = "") -> bool:
    """True if ``path`` is a regular file (symbolic links followed), False if nothing is there.

    Anything else in the way -- a FIFO, a device, a socket, a folder, a symbolic link to nothing
    -- raises DataFolderError naming it; it is left untouched and never opened.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            message = (f"{path}: is a symbolic link to {os.readlink(path)!r}, which does not "
                       "exist; it was left untouched.")
            raise DataFolderError(f"{message} {advice}".rstrip()) from None
        return False
    except OSError as exc:  # e.g. a folder the user may not enter
        raise folder_error(path, "be examined", exc, advice) from exc
    if not stat.S_ISREG(mode):
        raise not_regular_error(path, mode, advice)
    return True


def _ssl_context():
    """Certificates from certifi (installed with requests) when present, else the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with requests
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class _DeadlinePassed(TimeoutError):
    """The deadline of one file passed while the exchange with its mirror was not finished."""


class _Clock:
    """The limits of one file from one mirror: :data:`DEADLINE` from now, :data:`READ_TIMEOUT`."""

    def __init__(self):
        self.deadline, self.read_timeout = float(DEADLINE), float(READ_TIMEOUT)
        self.stop_at = time.monotonic() + self.deadline

    def passed(self) -> bool:
        return time.monotonic() >= self.stop_at

    def timeout(self) -> float:
        """The socket timeout for the next wait: the read timeout, or less if the deadline is
        nearer; raises :class:`_DeadlinePassed` once it has passed."""
        left = self.stop_at - time.monotonic()
        if left <= 0:
            raise _DeadlinePassed(f"the deadline of {self.deadline:g} s passed")
        return min(self.read_timeout, left)


class _DeadlineReader(io.RawIOBase):
    """The reading side of a :class:`_DeadlineSocket`: the socket's timeout is set to
    :meth:`_Clock.timeout` before every ``recv``, so no read waits past the deadline, however
    the bytes trickle in."""

    def __init__(self, owner: "_DeadlineSocket"):
        super().__init__()
        self._owner = owner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        sock = self._owner.sock
        sock.settimeout(self._owner.clock.timeout())
        return sock.recv_into(buffer)

    def close(self):
        if not self.closed:
            self._owner.reader_closed()
        super().close()


class _DeadlineSocket:
    """A connected socket (plain or TLS) for http.client whose every wait obeys the clock.

    Like :meth:`socket.socket.makefile`, the socket is closed only when it and every reader
    made from it are closed (urllib closes the connection's socket while the response is read).
    """

    def __init__(self, sock, clock: _Clock):
        self.sock, self.clock = sock, clock
        self._readers, self._closing = 0, False

    def makefile(self, mode="rb", *args, **kwargs):  # http.client reads the response through it
        self._readers += 1
        return io.BufferedReader(_DeadlineReader(self))

    def reader_closed(self) -> None:
        self._readers -= 1
        if self._closing and not self._readers:
            self.sock.close()

    def close(self) -> None:
        self._closing = True
        if not self._readers:
            self.sock.close()

    def sendall(self, data, *args):
        self.sock.settimeout(self.clock.timeout())
        return self.sock.sendall(data, *args)

    def __getattr__(self, name):  # fileno, setsockopt, ... as they are
        return getattr(self.sock, name)


class _HTTPConnection(http.client.HTTPConnection):
    clock: _Clock  # set by the handler

    def connect(self):
        self.timeout = self.clock.timeout()  # connecting; a proxy's CONNECT answer: per wait
        super().connect()
        self.sock = _DeadlineSocket(self.sock, self.clock)


class _HTTPSConnection(http.client.HTTPSConnection):
    clock: _Clock

    def connect(self):  # HTTPSConnection.connect, with the clock's timeouts
        self.timeout = self.clock.timeout()
        http.client.HTTPConnection.connect(self)
        self.sock.settimeout(self.clock.timeout())  # CPython bounds a whole TLS handshake by it
        sock = self._context.wrap_socket(self.sock, server_hostname=self._tunnel_host or self.host)
        self.sock = _DeadlineSocket(sock, self.clock)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, clock: _Clock):
        super().__init__()
        self.connection = type("Connection", (_HTTPConnection,), {"clock": clock})

    def http_open(self, req):
        return self.do_open(self.connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, clock: _Clock, context):
        super().__init__(context=context)
        self.connection = type("Connection", (_HTTPSConnection,), {"clock": clock})

    def https_open(self, req):
        return self.do_open(self.connection, req, context=self._context)


class LimitedDownloader:
    """A pooch downloader (``downloader(url, output_file, pooch)``) with hard limits.

    Inputs: max_bytes, the most bytes a good copy of the file can have; progressbar, show a
    tqdm bar (bytes, on stderr). The limits :data:`READ_TIMEOUT` and :data:`DEADLINE` are read
    when the download starts. Every failure of the transfer raises :class:`MirrorError` with a
    one-line reason; errors writing ``output_file`` propagate as OSError.

    The deadline covers the whole exchange -- connecting, the TLS handshake, the request, the
    status line and headers, chunk-size lines, the body, redirects --: before every wait on the
    socket its timeout is set to the time left (at most :data:`READ_TIMEOUT`), so a mirror that
    drips one byte every few seconds is stopped at the deadline, wherever it drips. (Resolving
    the mirror's host name is left to the system's resolver and its own timeouts; an https proxy's
    answer to CONNECT has the time left at connecting for each wait, not in total.)
    """

    def __init__(self, max_bytes: int, progressbar: bool = False):
        self.max_bytes = int(max_bytes)
        self.progressbar = bool(progressbar)

    def __call__(self, url, output_file, pooch=None):
        clock = _Clock()
        request = urllib.request.Request(
            url, headers={"Accept-Encoding": "identity", "User-Agent": "cnn-backprop-book"})
        opener = urllib.request.build_opener(_HTTPHandler(clock),
                                             _HTTPSHandler(clock, _ssl_context()))
        try:
            response = opener.open(request, timeout=clock.timeout())
        except urllib.error.HTTPError as exc:
            raise MirrorError(f"HTTP error {exc.code} {exc.reason}") from exc
        except (OSError, http.client.HTTPException) as exc:
            if clock.passed():
                raise MirrorError(f"too slow: no complete answer (status line and headers) "
                                  f"within the deadline of {clock.deadline:g} s for one file") from exc
            reason = getattr(exc, "reason", exc)
            raise MirrorError(f"cannot connect ({reason})") from exc
        with response, open(output_file, "wb") as out:
            announced = response.headers.get("Content-Length")
            announced = int(announced) if announced and announced.isdigit() else None
            if announced is not None and announced > self.max_bytes:
                raise MirrorError(f"announces {announced} bytes, but the file has at most "
                                  f"{self.max_bytes}", wrong_bytes=True)
            received = self._copy(response, out, announced, clock)
        if announced is not None and received < announced:
            raise MirrorError(f"connection closed after {received} of {announced} bytes")

    def _copy(self, response, out, announced, clock: _Clock) -> int:
        from tqdm.auto import tqdm

        received = 0
        with tqdm(total=announced, unit="B", unit_scale=True, ascii=True, ncols=79,
                  file=sys.stderr, disable=not self.progressbar, leave=True) as bar:
            while True:
                try:
                    chunk = response.read1(1 << 16)
                except (OSError, http.client.HTTPException) as exc:
                    if clock.passed():
                        raise MirrorError(f"too slow: {received} bytes after the deadline of "
                                          f"{clock.deadline:g} s for one file") from exc
                    raise MirrorError(f"transfer broken after {received} bytes ({exc!r})") from exc
                if not chunk:
                    return received
                received += len(chunk)
                if received > self.max_bytes:
                    raise MirrorError(f"sent more than {self.max_bytes} bytes, the most the file "
                                      "can have; stopped", wrong_bytes=True)
                out.write(chunk)
                bar.update(len(chunk))


# --------------------------------------------------------------------------------------------
# Scratch folders and installing without replacing
# --------------------------------------------------------------------------------------------


#: The file every scratch folder of this module holds, with this exact content: a folder without
#: it, or with other content in it, was not made here and is never removed.
SCRATCH_MARKER = ".cnn-backprop-book-download"
SCRATCH_MARKER_TEXT = "a download of helpers.download in progress; removed when it ends\n"
#: What :func:`tempfile.mkdtemp` appends to the prefix (8 of its 37 characters).
_SCRATCH_SUFFIX = re.compile(r"[a-z0-9_]{8}")


def _scratch_prefix(name: str) -> str:
    return f".{name}.download-"


def _made_here(entry: os.DirEntry, name: str) -> bool:
    """Whether ``entry`` is a scratch folder this module made for ``name`` (see :func:`_scratch`):
    a real folder (not a link) named ``.<name>.download-`` + 8 characters of mkdtemp's alphabet,
    holding a regular file :data:`SCRATCH_MARKER` with exactly :data:`SCRATCH_MARKER_TEXT`."""
    prefix = _scratch_prefix(name)
    if not (entry.name.startswith(prefix) and _SCRATCH_SUFFIX.fullmatch(entry.name[len(prefix):])):
        return False
    marker = os.path.join(entry.path, SCRATCH_MARKER)
    try:
        if not entry.is_dir(follow_symlinks=False) or not stat.S_ISREG(os.lstat(marker).st_mode):
            return False
        with open(marker, "rb") as fh:
            return fh.read(len(SCRATCH_MARKER_TEXT) + 1) == SCRATCH_MARKER_TEXT.encode()
    except OSError:
        return False


def remove_stale_scratch(folder: Path, name: str) -> None:
    """Remove the scratch folders of ``name`` in ``folder`` that no download still uses.

    Only folders this module made are candidates (:func:`_made_here`: exact name pattern and
    marker file); anything else, whatever its name or age, is never touched. A scratch folder is
    in use for at most one download from one mirror, that is at most :data:`DEADLINE` seconds
    (the deadline covers the whole exchange); one untouched for :data:`DEADLINE` plus twice
    :data:`READ_TIMEOUT` was left by a killed process. Called only when a download is about to
    start; failures (a read-only folder) are ignored.
    """
    stale_after = float(DEADLINE) + 2 * float(READ_TIMEOUT)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not _made_here(entry, name):
            continue
        try:
            inside = [e.stat(follow_symlinks=False).st_mtime for e in os.scandir(entry.path)]
            newest = max([entry.stat(follow_symlinks=False).st_mtime, *inside])
        except OSError:
            continue
        if time.time() - newest > stale_after:
            shutil.rmtree(entry.path, ignore_errors=True)


def install(tmp: Path, final: Path, replace: bool) -> None:
    """Give the checked file ``tmp`` its final name; keep an existing ``final`` unless ``replace``.

    Raises FileExistsError if ``final`` exists (and ``replace`` is False).
    """
    if replace:
        os.replace(tmp, final)
        return
    try:
        os.link(tmp, final)  # atomic, and fails if ``final`` exists
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links
        if os.path.lexists(final):
            raise FileExistsError(final) from None
        os.rename(tmp, final)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def _quiet_pooch():
    """pooch logs every download at INFO level on stderr; our progress bar says enough."""
    import pooch

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# --------------------------------------------------------------------------------------------
# The loop over mirrors
# --------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _scratch(folder: Path, name: str, advice: str):
    """A fresh hidden scratch folder ``.<name>.download-XXXXXXXX`` in ``folder``, holding the
    marker :data:`SCRATCH_MARKER`; removed afterwards."""
    try:
        scratch = Path(tempfile.mkdtemp(prefix=_scratch_prefix(name), dir=folder))
    except OSError as exc:
        raise folder_error(folder, "write into this folder", exc, advice) from exc
    try:
        try:
            (scratch / SCRATCH_MARKER).write_text(SCRATCH_MARKER_TEXT, encoding="utf-8")
        except OSError as exc:
            raise folder_error(folder, "write into this folder", exc, advice) from exc
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _retrieve(url, name, scratch, known_hash, check, downloader) -> Path:
    """pooch downloads ``url`` into ``scratch / name``, checks ``known_hash``, then ``check``."""
    import pooch

    def processor(fname, action, pup):
        check(Path(fname))
        return fname

    with _quiet_pooch():
        path = pooch.retrieve(url, known_hash=known_hash, fname=name, path=scratch,
                              processor=processor,
                              downloader=downloader)
    return Path(path)


def _install_checked(got: Path, final: Path, replace: bool, check) -> None:
    """Install ``got`` as ``final``; if another process was faster, keep its file if it is good."""
    try:
        install(got, final, replace)
    except FileExistsError:
        try:
            check(final)
        except ValueError as exc:
            raise ValueError(f"{final} appeared during the download and is not a good copy "
                             f"({exc}); it was left untouched") from None


def fetch(name: str, folder, mirrors, *, known_hash: str | None, max_bytes: int, check,
          replace: bool = False, progressbar: bool = False, advice: str = "",
          folder_advice: str = "") -> Path:
    """Download ``name`` from the first mirror that serves a good copy into ``folder``.

    Inputs:
    - name: file name, appended to each mirror's base URL;
    - folder: the data folder (created if missing);
    - mirrors: base URLs, tried in order;
    - known_hash: ``"sha256:<hex>"`` that pooch checks as the bytes arrive, or None;
    - max_bytes: the most bytes a good copy can have (:class:`LimitedDownloader`);
    - check: ``check(path)`` raising ValueError if the file at ``path`` is wrong (run on every
      download, and on a file another process put in place meanwhile);
    - replace: replace an existing ``folder / name`` (only for the project's own cache);
    - advice, folder_advice: sentences added to the errors raised when every mirror failed,
      and when the folder cannot be written.

    Returns the path ``folder / name``. Raises ValueError if some mirror served wrong bytes and
    none served good ones, ConnectionError if every mirror failed otherwise -- both list every
    URL with its reason --, and :class:`DataFolderError` if the folder cannot be written.
    If another process put a good ``folder / name`` there meanwhile, that file is kept; a bad
    one raises ValueError and is left untouched.
    """
    folder, failures, wrong_bytes = Path(folder), [], False
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise folder_error(folder, "create this data folder", exc, folder_advice) from exc
    remove_stale_scratch(folder, name)
    downloader = LimitedDownloader(max_bytes, progressbar)
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + name
        with _scratch(folder, name, folder_advice) as scratch:
            try:
                got = _retrieve(url, name, scratch, known_hash, check, downloader)
            except (MirrorError, ValueError) as exc:  # ValueError: pooch's digest, or ``check``
                failures.append(f"{url}: {exc}")
                wrong_bytes = wrong_bytes or getattr(exc, "wrong_bytes", True)
                continue
            except DataFolderError:
                raise
            except OSError as exc:  # writing the scratch file
                raise folder_error(folder, f"write {name} into this folder", exc,
                                   folder_advice) from exc
            try:
                _install_checked(got, folder / name, replace, check)
            except DataFolderError:
                raise
            except OSError as exc:
                raise folder_error(folder / name, "be created", exc, folder_advice) from exc
            return folder / name
    listing = "\n  ".join(failures) if failures else "(no mirror given)"
    message = f"could not download {name} into {folder}; tried:\n  {listing}\n{advice}"
    raise (ValueError if wrong_bytes else ConnectionError)(message.rstrip())

