"""Datasets for training: built-in ones, user uploads, and fitting images to a model's input.

Built-in datasets are cached per seed and their arrays are read-only, because the cache
is shared by everyone using the process: copy an array before changing it in place.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import threading
from typing import Final

import numpy as np

from cnnviz.data.base import Dataset, DatasetError, stratified_split
from cnnviz.data.image_folder import load_image_folder
from cnnviz.data.images import check_input_shape
from cnnviz.data.npz_upload import load_npz
from cnnviz.data.synthetic_shapes import SHAPE_NAMES, generate_shapes

__all__ = [
    "BUILTIN_DATASETS",
    "fit_to_input",
    "keras_datasets_dir",
    "load_any",
    "load_dataset",
    "load_upload",
    "missing_download",
]

BUILTIN_DATASETS: Final = ("digits", "shapes", "mnist", "fashion_mnist", "cifar10")
SHAPES_TRAIN_SIZE: Final = 5000
SHAPES_TEST_SIZE: Final = 1000
_FASHION_MNIST_CLASSES: Final = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
_CIFAR10_CLASSES: Final = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
_KERAS_ORIGIN: Final = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# What keras.datasets.<name>.load_data() looks for: (sub-folder, files, where to get them).
_KERAS_FILES: Final = {
    "mnist": ("datasets", ("mnist.npz",), _KERAS_ORIGIN + "mnist.npz"),
    "fashion_mnist": (
        "datasets/fashion-mnist",
        (
            "train-labels-idx1-ubyte.gz",
            "train-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
        ),
        _KERAS_ORIGIN,
    ),
    "cifar10": (
        "datasets",
        ("cifar-10-batches-py-target_archive",),
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz (cifar-10-python.tar.gz, "
        "saved under the name cifar-10-batches-py-target_archive)",
    ),
}
# One lock per name: two sessions asking for the same uncached dataset load it once.
_LOAD_LOCKS: Final = {name: threading.Lock() for name in BUILTIN_DATASETS}
_LUMINANCE: Final = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_RESIZE_CHUNK: Final = 1024


def keras_datasets_dir() -> str:
    """The folder where Keras keeps downloaded datasets (`$KERAS_HOME/datasets`)."""
    home = os.environ.get("KERAS_HOME")
    if home is None:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return os.path.join(os.path.expanduser(home), "datasets")


def _read_only(dataset: Dataset) -> Dataset:
    for array in (dataset.x_train, dataset.y_train, dataset.x_test, dataset.y_test):
        array.flags.writeable = False
    return dataset


def _digits_table() -> np.ndarray:
    """scikit-learn's bundled digits as rows of 64 pixels (0..16) and the label.

    Read straight from the package's data file: importing scikit-learn takes seconds.
    """
    spec = importlib.util.find_spec("sklearn")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            return np.loadtxt(path, delimiter=",")
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return np.column_stack([bunch.data, bunch.target])


def _digits(seed: int) -> Dataset:
    table = _digits_table()
    x = (table[:, :64].astype(np.float32) / 16.0).reshape(-1, 8, 8, 1)
    y = table[:, 64].astype(np.int64)
    train, test = stratified_split(y, seed)
    names = tuple(str(i) for i in range(10))
    return Dataset("digits", x[train], y[train], x[test], y[test], names)


def _shapes(seed: int) -> Dataset:
    x_train, y_train = generate_shapes(seed, SHAPES_TRAIN_SIZE, stream=0)
    x_test, y_test = generate_shapes(seed, SHAPES_TEST_SIZE, stream=1)
    return Dataset("shapes", x_train, y_train, x_test, y_test, SHAPE_NAMES)


def _keras_files(name: str) -> tuple[str, list[str], str]:
    """(the folder Keras reads `name` from, the files missing there, where to get them)."""
    subfolder, files, origin = _KERAS_FILES[name]
    folder = os.path.join(keras_datasets_dir(), *subfolder.split("/")[1:])
    return folder, [f for f in files if not os.path.exists(os.path.join(folder, f))], origin


def missing_download(name: str) -> str | None:
    """None when `name` loads without a download; else a calm note naming the file(s) and
    the folder to put them in (a built-in name that needs no download gives None too)."""
    key = str(name).strip().lower().replace("-", "_")
    if key not in _KERAS_FILES:
        return None
    folder, missing, origin = _keras_files(key)
    if not missing:
        return None
    return (f"{key} is not downloaded yet: put {', '.join(missing)} in {folder} "
            f"(from {origin}).")


def _keras_download_error(name: str, exc: Exception) -> DatasetError:
    folder, missing, origin = _keras_files(name)
    reason = f"{type(exc).__name__}: {exc}"
    if not missing:
        return DatasetError(
            f"The {name} files in {folder} could not be read ({reason}) — they may be damaged: "
            "delete them so that Keras downloads them again, or replace them."
        )
    return DatasetError(
        f"The {name} dataset is not on this computer and could not be downloaded "
        f"(no internet? {reason}). Keras looks for {', '.join(missing)} in {folder}: download "
        f"from {origin} on a computer with internet and copy the file(s) there, or use the "
        "built-in 'digits' or 'shapes' dataset, which need no download."
    )


def _keras_dataset(name: str) -> Dataset:
    try:
        import keras
    except ImportError as exc:
        raise DatasetError(
            f"The {name} dataset needs Keras, which is not installed ({exc}) — install "
            "cnnviz with its dependencies, or use the built-in 'digits' or 'shapes' dataset."
        ) from None
    try:
        loader = getattr(keras.datasets, name)
        (x_train, y_train), (x_test, y_test) = loader.load_data()
    except Exception as exc:  # offline, blocked, or a damaged cached file
        raise _keras_download_error(name, exc) from None

    def images(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32) / 255.0
        return x[..., np.newaxis] if x.ndim == 3 else x

    def labels(y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.int64).reshape(-1)

    names = {
        "mnist": tuple(str(i) for i in range(10)),
        "fashion_mnist": _FASHION_MNIST_CLASSES,
        "cifar10": _CIFAR10_CLASSES,
    }[name]
    return Dataset(name, images(x_train), labels(y_train), images(x_test), labels(y_test), names)


@functools.lru_cache(maxsize=8)
def _cached_builtin(name: str, seed: int) -> Dataset:
    if name == "digits":
        return _read_only(_digits(seed))
    if name == "shapes":
        return _read_only(_shapes(seed))
    return _read_only(_keras_dataset(name))


def load_dataset(name: str, *, seed: int = 0) -> Dataset:
    """A built-in dataset by name (see BUILTIN_DATASETS), cached and read-only.

    `seed` picks the train/test split of "digits" and the images of "shapes"; the Keras
    datasets come with a fixed split. Raises `DatasetError` for an unknown name or when a
    Keras dataset is neither cached nor downloadable.
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in BUILTIN_DATASETS:
        raise DatasetError(
            f"Unknown dataset {name!r} — choose one of {', '.join(BUILTIN_DATASETS)}."
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DatasetError(f"Expected seed as a whole number >= 0. Received: seed={seed!r}")
    with _LOAD_LOCKS[key]:
        return _cached_builtin(key, int(seed) if key in ("digits", "shapes") else 0)


def load_upload(filename: str, data: bytes, *, max_bytes: int) -> Dataset:
    """An uploaded file's dataset, named after the file: a .npz (x_train, y_train, x_test,
    y_test) or a .zip with one folder of images per class."""
    stem = filename.rsplit(".", 1)[0] or "upload"
    if filename.lower().endswith(".npz"):
        return load_npz(data, name=stem, max_bytes=max_bytes)
    if filename.lower().endswith(".zip"):
        return load_image_folder(data, name=stem, max_bytes=max_bytes)
    raise DatasetError(f"Expected a .npz file or a .zip of class folders. Received: {filename!r}")


def load_any(source: str) -> Dataset:
    """A built-in name, a PATH.npz, a PATH.zip of class folders, or a directory of them."""
    key = source.strip().lower().replace("-", "_")
    if key in BUILTIN_DATASETS:
        return load_dataset(key)
    path = os.path.expanduser(source)
    stem = os.path.splitext(os.path.basename(os.path.normpath(path)))[0] or "upload"
    if os.path.isdir(path):
        return load_image_folder(path, name=stem)
    if not os.path.exists(path):
        raise DatasetError(
            f"{source!r} is neither a built-in dataset ({', '.join(BUILTIN_DATASETS)}) "
            "nor an existing .npz file, .zip file or folder."
        )
    if path.lower().endswith(".npz"):
        return load_npz(path, name=stem)
    if path.lower().endswith(".zip"):
        return load_image_folder(path, name=stem)
    raise DatasetError(f"{source!r} is not a .npz file, a .zip file or a folder of class folders.")


def _resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """(size_out, size_in) weights of Pillow's BILINEAR resampling (antialiased when shrinking).

    Mirrors `precompute_coeffs` in Pillow's libImaging/Resample.c: a triangle filter whose
    support widens by the shrink factor, each row normalised to sum to 1.
    """
    scale = size_in / size_out
    filter_scale = max(scale, 1.0)
    centers = (np.arange(size_out) + 0.5) * scale
    offsets = (np.arange(size_in)[None, :] + 0.5 - centers[:, None]) / filter_scale
    weights = np.clip(1.0 - np.abs(offsets), 0.0, None)
    normalised: np.ndarray = (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)
    return normalised


def _check_batch(
    x: np.ndarray, input_shape: tuple[int, int, int]
) -> tuple[np.ndarray, int, int, int]:
    height, width, channels = check_input_shape(input_shape, DatasetError)
    x = np.asarray(x)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4 or x.shape[3] not in (1, 3) or x.shape[1] < 1 or x.shape[2] < 1:
        raise DatasetError(
            f"Expected images of shape (n, height, width, 1 or 3). Received: shape={x.shape}"
        )
    return x, height, width, channels


def fit_to_input(x: np.ndarray, input_shape: tuple[int, int, int]) -> np.ndarray:
    """A batch resized (bilinear, as Pillow) and converted to `input_shape`, float32 in [0, 1].

    Grey becomes colour by repeating the channel; colour becomes grey by ITU-R 601-2
    luminance (Pillow's "L"). uint8 input is read as 0..255. A float32 batch that already
    fits is returned as it is, not copied.
    """
    x, height, width, channels = _check_batch(x, input_shape)
    fits = x.dtype == np.float32 and x.shape[1:] == (height, width, channels)
    if fits:
        return x
    x = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32, copy=False)
    if x.shape[3] == 3 and channels == 1:
        x = (x @ _LUMINANCE)[..., np.newaxis]
    if x.shape[1:3] != (height, width):
        rows = _resize_matrix(x.shape[1], height)
        cols = _resize_matrix(x.shape[2], width)
        resized = np.empty((len(x), height, width, x.shape[3]), dtype=np.float32)
        for start in range(0, len(x), _RESIZE_CHUNK):
            chunk = x[start : start + _RESIZE_CHUNK]
            tall = np.einsum("oh,nhwc->nowc", rows, chunk, optimize=True)
            resized[start : start + len(chunk)] = np.einsum(
                "pw,nowc->nopc", cols, tall, optimize=True
            )
        x = resized
    if x.shape[3] == 1 and channels == 3:
        x = np.repeat(x, 3, axis=3)
    return np.clip(x, 0.0, 1.0, out=x)
