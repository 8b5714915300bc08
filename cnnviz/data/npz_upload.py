"""Load a user's `.npz` file in Keras's layout (`x_train`, `y_train`, `x_test`, `y_test`).

The file is untrusted: it is read with `allow_pickle=False`, every array header is checked
inside the zip before any array is unpacked (so a tiny file cannot claim gigabytes), and
every problem becomes a `DatasetError` that says what to change.
"""

from __future__ import annotations

import io
import math
import os
import zipfile
from typing import Final

import numpy as np

from cnnviz.data.base import Dataset, DatasetError, read_source_bytes

__all__ = ["MAX_CLASSES", "MAX_NPZ_BYTES", "MAX_SAMPLES", "load_npz"]

MAX_NPZ_BYTES: Final = 500_000_000
MAX_SAMPLES: Final = 200_000
MAX_CLASSES: Final = 1000
_REQUIRED: Final = ("x_train", "y_train", "x_test", "y_test")
_OPTIONAL: Final = ("class_names",)
_HEADER_LIMIT: Final = 10_000
_NPZ_HOWTO: Final = "np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...)"


def _array_headers(
    archive: zipfile.ZipFile, max_bytes: int
) -> dict[str, tuple[str, tuple[int, ...], np.dtype]]:
    """Member name, shape and dtype of each array we use, read without unpacking the data."""
    members = {
        info.filename.removesuffix(".npy"): info
        for info in archive.infolist()
        if not info.is_dir() and info.filename.endswith(".npy")
    }
    missing = [key for key in _REQUIRED if key not in members]
    if missing:
        found = ", ".join(sorted(members)) or "no arrays"
        raise DatasetError(
            f"The .npz file has no {', '.join(missing)} (it holds {found}). "
            f"Save it with {_NPZ_HOWTO}."
        )
    headers = {}
    total = 0
    for key in (*_REQUIRED, *(k for k in _OPTIONAL if k in members)):
        info = members[key]
        with archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(member, max_header_size=_HEADER_LIMIT)
        if dtype.hasobject:
            raise DatasetError(
                f"{key} holds Python objects, which cnnviz never unpickles — "
                "save plain numeric arrays."
            )
        size = math.prod(shape) * dtype.itemsize
        if size > info.file_size:
            raise DatasetError(f"{key} is cut short: the .npz file is damaged — save it again.")
        total += size
        if total > max_bytes:
            raise DatasetError(
                f"The arrays in the .npz file unpack to more than {max_bytes:,} bytes — "
                "use fewer or smaller images."
            )
        headers[key] = (info.filename, shape, dtype)
    return headers


def _read_arrays(data: bytes, max_bytes: int) -> dict[str, np.ndarray]:
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data.startswith(b"\x93NUMPY"):
            raise DatasetError(
                f"This is a single .npy array, not an .npz file — save all four with {_NPZ_HOWTO}."
            )
        raise DatasetError(f"This is not an .npz file — create one with {_NPZ_HOWTO}.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            headers = _array_headers(archive, max_bytes)
        with np.load(io.BytesIO(data), allow_pickle=False, max_header_size=_HEADER_LIMIT) as npz:
            return {key: np.asarray(npz[member]) for key, (member, _, _) in headers.items()}
    except DatasetError:
        raise
    except Exception as exc:  # any failure parsing the untrusted zip or arrays
        raise DatasetError(
            f"The .npz file is damaged and cannot be read ({type(exc).__name__}: {exc}) — "
            f"save it again with {_NPZ_HOWTO}."
        ) from None


def _as_nhwc(x: np.ndarray, key: str) -> np.ndarray:
    if x.dtype.kind not in "biuf":
        raise DatasetError(f"{key} must hold numbers (pixel values). Received: dtype={x.dtype}")
    if x.ndim not in (2, 3, 4):
        raise DatasetError(
            f"{key} has shape {x.shape}; expected (n, height, width) for grey images or "
            "(n, height, width, channels) with 1 or 3 channels."
        )
    if len(x) == 0:
        raise DatasetError(f"{key} is empty — it needs at least one image.")
    if x.ndim == 2:
        side = math.isqrt(x.shape[1])
        if side * side != x.shape[1]:
            raise DatasetError(
                f"{key} has shape {x.shape}: rows of {x.shape[1]} pixels are not square images — "
                "save images as (n, height, width) or (n, height, width, channels)."
            )
        x = x.reshape(len(x), side, side)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.shape[3] == 4:
        x = x[..., :3]
    if x.shape[3] not in (1, 3) or x.shape[1] == 0 or x.shape[2] == 0:
        raise DatasetError(
            f"{key} has shape {x.shape}; images need height and width of at least 1 and "
            "1 (grey) or 3 (colour) channels."
        )
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        raise DatasetError(f"{key} contains NaN or infinite values — replace them with numbers.")
    return x


def _to_unit_range(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One scale for both splits: uint8 /255; [0,1] kept; [0,255] /255; otherwise min-max."""
    if x_train.dtype == np.uint8 and x_test.dtype == np.uint8:
        return x_train.astype(np.float32) / 255.0, x_test.astype(np.float32) / 255.0
    low = float(min(x_train.min(), x_test.min()))
    high = float(max(x_train.max(), x_test.max()))
    if low >= 0 and high <= 255:
        scale = 1.0 if high <= 1 else 255.0
        return (x_train / scale).astype(np.float32), (x_test / scale).astype(np.float32)
    # Divide by the peak first so that the span of float64 extremes cannot overflow.
    peak = max(abs(low), abs(high))
    low, span = low / peak, (high / peak - low / peak) or 1.0

    def rescale(x: np.ndarray) -> np.ndarray:
        unit = (x.astype(np.float64) / peak - low) / span
        return np.clip(unit, 0.0, 1.0).astype(np.float32)

    return rescale(x_train), rescale(x_test)


def _as_labels(y: np.ndarray, key: str, count: int) -> np.ndarray:
    if y.dtype.kind not in "biuf":
        raise DatasetError(f"{key} must hold class numbers 0, 1, 2, …. Received: dtype={y.dtype}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    elif y.ndim == 2:
        is_one_hot = bool(np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all())
        if not is_one_hot:
            raise DatasetError(
                f"{key} has shape {y.shape} but is not one-hot (one 1 per row, the rest 0) — "
                "save labels as class numbers of shape (n,)."
            )
        y = y.argmax(axis=1)
    if y.ndim != 1:
        raise DatasetError(f"{key} has shape {y.shape}; expected class numbers of shape (n,).")
    if len(y) != count:
        raise DatasetError(
            f"{key} has {len(y):,} labels but there are {count:,} images — "
            "give exactly one label per image."
        )
    if y.dtype.kind == "f" and not (np.isfinite(y).all() and (y == np.round(y)).all()):
        raise DatasetError(f"{key} must hold whole class numbers 0, 1, 2, …, not fractions.")
    if len(y) and y.min() < 0:
        raise DatasetError(f"{key} contains the negative label {y.min()}; use 0, 1, 2, ….")
    if len(y) and y.max() >= MAX_CLASSES:
        raise DatasetError(
            f"{key} contains the label {y.max()}; cnnviz handles up to {MAX_CLASSES} classes — "
            "number the classes 0, 1, 2, …."
        )
    return y.astype(np.int64)


def _class_names(names: np.ndarray | None, num_classes: int) -> tuple[str, ...]:
    if names is None:
        return tuple(str(i) for i in range(num_classes))
    if names.dtype.kind not in "US" or names.ndim != 1 or len(names) < num_classes:
        raise DatasetError(
            f"class_names must be {num_classes} or more strings, one per class. "
            f"Received: dtype={names.dtype}, shape={names.shape}"
        )
    if names.dtype.kind == "S":
        return tuple(n.decode("utf-8", "replace") for n in names.tolist())
    return tuple(str(n) for n in names.tolist())


def load_npz(
    source: bytes | str | os.PathLike[str],
    *,
    name: str = "upload",
    max_bytes: int = MAX_NPZ_BYTES,
    max_samples: int = MAX_SAMPLES,
) -> Dataset:
    """A `Dataset` from `.npz` bytes or path holding x_train, y_train, x_test, y_test.

    Images may be (n, H, W), (n, H, W, C) with C in {1, 3, 4} (alpha dropped) or square
    rows (n, H·W); labels class numbers (n,) or (n, 1), or one-hot (n, k). Pixel values
    are scaled to [0, 1]. An optional `class_names` string array names the classes.
    """
    arrays = _read_arrays(read_source_bytes(source, max_bytes, "The .npz file"), max_bytes)
    x_train = _as_nhwc(arrays["x_train"], "x_train")
    x_test = _as_nhwc(arrays["x_test"], "x_test")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(
            f"x_train images are {x_train.shape[1:]} but x_test images are {x_test.shape[1:]} — "
            "both must have the same height, width and channels."
        )
    if len(x_train) + len(x_test) > max_samples:
        raise DatasetError(
            f"The file holds {len(x_train) + len(x_test):,} images, more than the limit of "
            f"{max_samples:,} — use a subset."
        )
    y_train = _as_labels(arrays["y_train"], "y_train", len(x_train))
    y_test = _as_labels(arrays["y_test"], "y_test", len(x_test))
    if len(np.unique(y_train)) < 2:
        raise DatasetError(
            f"y_train has only one class ({y_train[0]}); a classifier needs at least 2 classes."
        )
    class_names = _class_names(arrays.get("class_names"), int(max(y_train.max(), y_test.max())) + 1)
    x_train, x_test = _to_unit_range(x_train, x_test)
    return Dataset(name, x_train, y_train, x_test, y_test, class_names)
