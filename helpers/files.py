"""The one way the book writes a file, and reads a JSON file, so that nothing a user owns is lost.

Every writer of the project -- the checkpoint saver (:func:`helpers.checkpoint.save_params`),
:func:`helpers.checkpoint.save_json`, ``scripts/check_links.py --fix``,
``scripts/make_student_edition.py`` and ``scripts/regenerate_notebooks.py`` -- goes through
:func:`replace_file`, which promises:

* **Whole or not at all.** The content goes to a temporary file beside the target
  (``.NAME.XXXXXXXX.part``, in the same folder, so the rename cannot cross file systems), is
  flushed to the disk and then renamed over the target. A full disk, a file-size limit, Ctrl-C or
  SIGKILL leave either the old file or the new one, never half of one; the temporary file is
  removed when the write fails.
* **Modes.** A new file gets ``0666`` less the umask, as ``open()`` would give it (not the
  ``0600`` of :func:`tempfile.mkstemp`); a replaced file keeps its own mode bits (and its owner
  and group where the operating system allows).
* **Links.** A symbolic link stays a link: the file it points to is replaced, atomically, by a
  temporary file beside *that* file. A hard link is not kept: the replaced name gets a new file,
  other names of the old file keep the old content.
* **Only regular files.** A target that is a folder, a device (``/dev/full``), a FIFO or a
  socket -- itself or at the end of a link -- is refused before anything is written.
* **Names.** The file name may be as long as the file system allows (255 bytes on Linux); the
  temporary name is cut to fit. A longer name is refused with its length.

:func:`read_json` reads a JSON file (a notebook, a manifest) and says which file is broken and
where, instead of a bare ``JSONDecodeError``.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

__all__ = ["replace_file", "write_text", "check_target", "temporary_prefix", "read_json"]

_SUFFIX = ".part"
_RANDOM = 8  # characters tempfile adds to a name


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (/proc/self/status)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore
    os.umask(mask)
    return mask


def _existing_folder(path: Path) -> Path:
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a file"


def check_target(path, *, overwrite: bool = True) -> Path:
    """Check that :func:`replace_file` may write ``path``, writing nothing; return the file it
    would write: ``path`` itself, or the file a symbolic link ``path`` points to.

    Raises ``OSError`` (``ENAMETOOLONG``) for a name (of the file or of a folder on its way)
    longer than the file system allows; ``IsADirectoryError`` for a folder; ``OSError`` saying
    what it is for a target that is not a regular file (a device, a FIFO, a socket);
    ``FileExistsError`` if the name exists (a link too, even one to nothing) and not ``overwrite``.
    """
    path = Path(path)
    limit = _name_max(_existing_folder(path))
    for part in reversed(path.parts):  # the file's name, and those of folders still to be made
        size = len(os.fsencode(part))
        if size > limit:
            what = "file name" if part == path.name else f"folder name {part[:20]!r}..."
            raise OSError(errno.ENAMETOOLONG, f"the {what} is {size} bytes; this file system allows at most "
                          f"{limit} bytes", str(path))
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # a new file (a parent that is a file: see mkdir)
        mode = None
    shown = repr(str(path)) if target == path else f"{str(path)!r} (a link to {str(target)!r})"
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{shown} is a folder, not a file")
    if mode is not None and not stat.S_ISREG(mode):
        raise OSError(f"{shown} is {_kind(mode)}, not a regular file; only a regular file is replaced")
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(errno.EEXIST, "the file exists; it is never overwritten", str(path))
    return target


def temporary_prefix(target: Path) -> str:
    """``"." + name + "."`` for the temporary file beside ``target``, the name cut (at a byte
    boundary of the file system's encoding) so that the whole temporary name fits the limit."""
    room = _name_max(_existing_folder(target)) - 2 - _RANDOM - len(_SUFFIX)
    name = os.fsencode(target.name)[:room].decode(sys.getfilesystemencoding(), "ignore")
    return "." + name + "."


def replace_file(path, write, *, overwrite: bool = True) -> Path:
    """Write a file through a temporary file beside it, renamed over it when complete.

    Inputs: ``path`` the file to write (missing parent folders are created); ``write`` a
    function ``write(fh)`` that writes the whole content to the binary file ``fh``;
    ``overwrite=False`` refuses (``FileExistsError``) to replace anything -- the name is then
    claimed with a hard link, so even a file that appears meanwhile is not clobbered.
    Returns ``Path(path)``. See the module docstring for modes, links and what is refused.
    """
    target = check_target(path, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(target), suffix=_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        if old is not None and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(tmp, old.st_uid, old.st_gid)
            except OSError:  # only root may give a file away
                pass
        os.chmod(tmp, stat.S_IMODE(old.st_mode) if old is not None else 0o666 & ~_umask())
        if overwrite:
            os.replace(tmp, target)
        else:
            _claim(tmp, target)
    finally:
        try:
            os.unlink(tmp)  # our own temporary file, if the rename did not happen
        except FileNotFoundError:
            pass
    return Path(path)


def _claim(tmp: str, path: Path) -> None:
    """Give the complete file ``tmp`` the name ``path`` unless that name exists."""
    try:
        os.link(tmp, path)  # atomic, and fails if the name is taken
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "the file exists; it is never overwritten", str(path)) from None
    except OSError:  # a file system without hard links
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "the file exists; it is never overwritten", str(path)) from None
        os.replace(tmp, path)


def write_text(path, text: str, *, overwrite: bool = True, encoding: str = "utf-8") -> Path:
    """:func:`replace_file` for a text: ``text`` encoded with ``encoding``, written whole."""
    data = text.encode(encoding)
    return replace_file(path, lambda fh: fh.write(data), overwrite=overwrite)


def read_json(path):
    """The JSON document in the file ``path``. Raises ``ValueError`` naming the file (and the
    line and column) for a file that is not UTF-8 JSON; ``OSError`` as the operating system does."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text (byte {exc.start}: {exc.reason})") from None
