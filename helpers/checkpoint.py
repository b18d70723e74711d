"""Saving and loading the seed network's parameters: ``.npz`` files, atomic, never pickle.

* :func:`save_params` -- the six arrays ``k1, b1, k2, b2, W, b`` (and, when given, the network
  variant: ``pooling``, ``conv_activation``, ``output`` as plain strings) in an ``.npz`` file.
  Every save goes through :func:`helpers.files.replace_file`: written to a temporary file
  beside the target and then renamed to its final name, so a full disk, a file-size limit or
  Ctrl-C never leaves half a file under that name; a new file gets ``0666`` less the umask, a
  replaced one keeps its mode; a symbolic link stays a link (its target is replaced); a device
  or FIFO is refused.
* :func:`load_params` / :func:`load_checkpoint` -- read such a file back. Every ``.npy``
  header in the archive is read and checked (names, shapes, dtypes) before any array is, so a
  file that declares a 40000 x 40000 array is refused at once; ``allow_pickle=False`` always.
  A file that is not such an archive -- empty, truncated, a renamed ``.npy``, text, a broken
  header, a zip member that is encrypted, compressed by a method zipfile lacks or damaged --
  raises one ``ValueError`` that names the file and what is wrong with it.
* :func:`check_save_path` -- everything :func:`save_params` needs of a path, checked before a
  long training run rather than after it.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from . import files, network

__all__ = ["save_params", "load_params", "load_checkpoint", "check_save_path", "save_json", "VARIANT_KEYS"]

#: The network options recorded beside the parameters (:data:`helpers.network.DEFAULT_VARIANT`).
VARIANT_KEYS = tuple(network.DEFAULT_VARIANT)
_MAX_STRING = 64  # characters of a recorded option; the real ones have at most 7


# --------------------------------------------------------------------------------------------
# saving
# --------------------------------------------------------------------------------------------
def check_save_path(path, *, overwrite: bool = False) -> Path:
    """Check that :func:`save_params` can write ``path``, without writing it; return it as a Path.

    Raises ``ValueError`` unless the name ends with ``.npz``; ``IsADirectoryError`` if it is a
    folder; ``FileExistsError`` if it exists and not ``overwrite``; ``OSError`` for a name
    longer than the file system allows or a target (or a link's target) that is not a regular
    file (``/dev/full``, a FIFO); ``NotADirectoryError`` if a parent is a file;
    ``PermissionError`` (or the operating system's error) if the nearest existing parent folder
    does not accept a new file (read-only, no permission) -- found by creating and removing a
    temporary file there, under the temporary name the save will use. Missing parent folders
    are fine (:func:`save_params` creates them).
    """
    path = _check_name(path, overwrite)
    target = files.check_target(path, overwrite=overwrite)
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(f"cannot save to {str(path)!r}: {str(folder)!r} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=files.temporary_prefix(target), suffix=".part", dir=folder)
    except OSError as exc:
        raise type(exc)(f"cannot save to {str(path)!r}: the folder {str(folder)!r} does not accept "
                        f"new files ({exc.strerror or exc})") from exc
    os.close(fd)
    os.unlink(probe)  # our own probe, created a moment ago
    return path


def _exists(path: Path) -> FileExistsError:
    return FileExistsError(f"{str(path)!r} exists; pass overwrite=True (CLI: --overwrite) "
                           "to replace it, or choose another name")


def _check_name(path, overwrite: bool) -> Path:
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"path must end with .npz, got {str(path)!r}")
    try:
        files.check_target(path, overwrite=overwrite)  # the name's length; a folder, a device, a FIFO
    except IsADirectoryError:
        raise IsADirectoryError(f"{str(path)!r} is a folder; give a file name ending with .npz") from None
    except FileExistsError:
        raise _exists(path) from None
    return path


def save_params(path, params, *, overwrite: bool = False, variant: dict | None = None) -> Path:
    """Write the six parameter arrays to the ``.npz`` file ``path`` (no pickle inside).

    Inputs: ``params`` the seed network's six tensors (:func:`helpers.network.check_params`);
    ``variant`` optionally the options the network was trained with (``pooling``,
    ``conv_activation``, ``output``; missing ones are Zhang's), stored as plain strings so that
    an evaluation can use them (:func:`load_checkpoint`).

    The file is written by :func:`helpers.files.replace_file` (a temporary name beside it,
    renamed when complete; the umask's mode or the replaced file's; a symbolic link stays a
    link; a device is refused), so an interrupted save never leaves half a file. Refuses
    (``FileExistsError``) to replace an existing file unless ``overwrite=True``; without it the
    final name is claimed with a hard link, so even a file that appears meanwhile is not
    clobbered. Missing parent folders are created. Returns the path written.
    """
    network.check_params(params)
    arrays = {key: np.ascontiguousarray(params[key]) for key in network.PARAM_SHAPES}
    if variant is not None:
        if not isinstance(variant, dict):
            raise TypeError(f"variant must be a dict or None, got {type(variant).__name__}")
        config = network.check_variant(dict(variant))
        arrays.update({key: np.array(str(config[key])) for key in VARIANT_KEYS})
    path = _check_name(path, overwrite)
    try:
        files.replace_file(path, lambda fh: np.savez(fh, **arrays), overwrite=overwrite)
    except FileExistsError:
        raise _exists(path) from None
    return path


def save_json(path, data, *, compact: bool = False) -> Path:
    """Write ``data`` as JSON to ``path`` atomically: the book's stored results (recipes.json,
    class_setting.json, manifest.json), which their scripts replace on purpose.

    Written by :func:`helpers.files.write_text`: a temporary file beside ``path``, renamed
    over it when complete, so an interrupted run leaves the old file whole; a replaced file
    keeps its mode (the shipped files are 0644), a new one gets 0666 less the umask.
    ``compact=True`` writes no spaces or line breaks (for long per-step histories), else one
    key per line. Returns the path written.
    """
    import json

    text = json.dumps(data, separators=(",", ":")) if compact else json.dumps(data, indent=1)
    return files.write_text(path, text + "\n")


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------
class _FileError(ValueError):
    """A ``ValueError`` that already names the file and says what is wrong with it."""


def _header(member, where: str):
    """``(shape, dtype)`` from an open ``.npy`` member, reading nothing past its header."""
    try:
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except Exception as exc:  # ValueError, SyntaxError, tokenize.TokenError, EOFError, ...
        raise _FileError(f"{where} has a broken .npy header ({type(exc).__name__}: {exc})") from None
    return shape, dtype


def _expected(key: str, shape, dtype, where: str) -> None:
    """Refuse a member whose header does not declare what the seed network stores."""
    if dtype.hasobject:
        raise _FileError(f"{where} holds pickled objects (dtype {dtype}); only plain arrays are accepted")
    if key in network.PARAM_SHAPES:
        if dtype.kind != "f":
            raise _FileError(f"{where} must hold floats, its header declares dtype {dtype}")
        if tuple(shape) != network.PARAM_SHAPES[key]:
            raise _FileError(f"{where} must have shape {network.PARAM_SHAPES[key]}, "
                             f"its header declares {tuple(shape)}")
    elif key in VARIANT_KEYS:
        if dtype.kind != "U" or tuple(shape) != () or dtype.itemsize > 4 * _MAX_STRING:
            raise _FileError(f"{where} must be one short string, its header declares {dtype} {tuple(shape)}")
    else:
        raise _FileError(f"{where}: unexpected array {key!r}; a parameter file holds "
                         f"{list(network.PARAM_SHAPES)} and optionally {list(VARIANT_KEYS)}")


def _read_archive(path: Path) -> dict:
    """Every array of the ``.npz`` file ``path``, each header checked before any data is read."""
    name = repr(str(path))
    if not path.exists():
        raise FileNotFoundError(f"no parameter file at {name}; train one with "
                                "python -m helpers.train --save PATH")
    if path.is_dir():
        raise IsADirectoryError(f"{name} is a folder, not an .npz parameter file")
    if path.stat().st_size == 0:
        raise _FileError(f"{name} is empty (0 bytes), not an .npz parameter file; an interrupted save?")
    with open(path, "rb") as fh:
        start = fh.read(6)
        if start.startswith(b"\x93NUMPY"):
            raise _FileError(f"{name} is a single .npy array (saved with np.save?), not an .npz "
                             "archive of the six parameters")
        if not start.startswith(b"PK"):
            raise _FileError(f"{name} is not an .npz archive (a zip file of .npy arrays): "
                             f"it starts with {start!r}")
        fh.seek(0)
        try:
            with zipfile.ZipFile(fh) as archive:
                headers = {}
                for info in archive.infolist():
                    where = f"{name}, array {info.filename!r},"
                    if not info.filename.endswith(".npy"):
                        raise _FileError(f"{where} is not a .npy array")
                    key = info.filename[:-4]
                    with archive.open(info) as member:
                        shape, dtype = _header(member, where)
                    _expected(key, shape, dtype, where)
                    headers[key] = info
                missing = [key for key in network.PARAM_SHAPES if key not in headers]
                if missing:
                    raise _FileError(f"{name} lacks the parameter(s) {missing}; "
                                     f"a parameter file holds {list(network.PARAM_SHAPES)}")
                arrays = {}
                for key, info in headers.items():
                    with archive.open(info) as member:
                        try:
                            arrays[key] = np.lib.format.read_array(member, allow_pickle=False)
                        except ValueError as exc:  # fewer bytes than the header declares
                            raise _FileError(f"{name}, array {info.filename!r}, is truncated: {exc}") from None
        except (_FileError, MemoryError):
            raise
        except Exception as exc:  # noqa: BLE001 -- zipfile's and the decompressors' own errors:
            # BadZipFile, EOFError, OSError, zlib.error, lzma.LZMAError, RuntimeError (encrypted),
            # NotImplementedError (a compression method zipfile lacks), ...
            raise ValueError(f"{name} is damaged or truncated, not a complete .npz archive that numpy can "
                             f"read ({type(exc).__name__}: {exc})") from None
    return arrays


def load_checkpoint(path, dtype=None) -> tuple[dict, dict | None]:
    """Read a file written by :func:`save_params`: ``(params, variant)``.

    ``params`` holds exactly the six arrays ``k1, b1, k2, b2, W, b`` with the shapes of
    :data:`helpers.network.PARAM_SHAPES`, finite floats of one dtype
    (:func:`helpers.network.check_params`); ``dtype`` converts them (default: keep the stored
    dtype). ``variant`` is the dict of recorded network options (``pooling``,
    ``conv_activation``, ``output``), or None for a file that records none. Raises
    ``FileNotFoundError`` for a missing file, ``ValueError`` naming the file for anything else
    wrong with it.
    """
    path = Path(path)
    arrays = _read_archive(path)
    recorded = [key for key in VARIANT_KEYS if key in arrays]
    variant = None
    if recorded:
        try:
            variant = network.check_variant({key: str(arrays.pop(key)) for key in recorded})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{str(path)!r} records an unknown network variant: {exc}") from None
    try:
        network.check_params(arrays)
        if dtype is not None:
            arrays = {key: val.astype(dtype) for key, val in arrays.items()}
            network.check_params(arrays)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{str(path)!r}: {exc}") from None
    return {key: arrays[key] for key in network.PARAM_SHAPES}, variant


def load_params(path, dtype=None) -> dict:
    """The six parameter arrays of a file written by :func:`save_params` (see
    :func:`load_checkpoint`, which also returns the recorded network variant)."""
    return load_checkpoint(path, dtype)[0]
