"""The `Dataset` record, its error type, and helpers shared by the dataset loaders."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Final

import numpy as np

__all__ = ["Dataset", "DatasetError", "TEST_FRACTION", "read_source_bytes", "stratified_split"]

TEST_FRACTION: Final = 0.2


class DatasetError(ValueError):
    """A dataset could not be loaded or used; the message says why and how to fix it."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images as float32 (n, H, W, C) in [0, 1] with C in {1, 3}; labels int64 in 0..k-1."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]

    def __post_init__(self) -> None:
        for split, x, y in (
            ("train", self.x_train, self.y_train),
            ("test", self.x_test, self.y_test),
        ):
            if x.dtype != np.float32 or x.ndim != 4 or x.shape[3] not in (1, 3):
                raise DatasetError(
                    f"Expected x_{split} as float32 (n, height, width, 1 or 3). "
                    f"Received: dtype={x.dtype}, shape={x.shape}"
                )
            if y.dtype != np.int64 or y.shape != (x.shape[0],):
                raise DatasetError(
                    f"Expected y_{split} as int64 of shape ({x.shape[0]},). "
                    f"Received: dtype={y.dtype}, shape={y.shape}"
                )
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise DatasetError(
                "Expected train and test images of the same shape. Received: "
                f"train={self.x_train.shape[1:]}, test={self.x_test.shape[1:]}"
            )
        if len(self.class_names) < 2:
            raise DatasetError(
                f"Expected at least 2 classes. Received: class_names={self.class_names}"
            )
        for split, y in (("train", self.y_train), ("test", self.y_test)):
            if y.size and (y.min() < 0 or y.max() >= len(self.class_names)):
                raise DatasetError(
                    f"Expected y_{split} labels in 0..{len(self.class_names) - 1}. "
                    f"Received: min={y.min()}, max={y.max()}"
                )

    @property
    def input_shape(self) -> tuple[int, int, int]:
        _, height, width, channels = self.x_train.shape
        return int(height), int(width), int(channels)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def describe(self) -> str:
        """One line, e.g. "digits: 1,437 train / 360 test, 8×8×1, 10 classes"."""
        height, width, channels = self.input_shape
        return (
            f"{self.name}: {len(self.x_train):,} train / {len(self.x_test):,} test, "
            f"{height}×{width}×{channels}, {self.num_classes} classes"
        )


def stratified_split(
    labels: np.ndarray, seed: int, test_fraction: float = TEST_FRACTION
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices, each in shuffled order, the same for the same labels and seed.

    The test set gets `ceil(n * test_fraction)` items, as scikit-learn's split, shared
    among classes in proportion (largest remainders first); a class with two or more items
    always keeps at least one on each side, and a class with a single item keeps it for
    training.
    """
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    quota = counts * test_fraction
    per_class = np.floor(quota).astype(np.int64)
    leftover = math.ceil(len(labels) * test_fraction) - int(per_class.sum())
    order = np.argsort(-np.round(quota - per_class, 9), kind="stable")
    per_class[order[: max(leftover, 0)]] += 1
    per_class = np.where(counts >= 2, np.clip(per_class, 1, counts - 1), 0)
    test_parts = []
    for cls, take in zip(classes.tolist(), per_class.tolist(), strict=True):
        members = np.flatnonzero(labels == cls)
        test_parts.append(rng.permutation(members)[:take])
    test = np.concatenate(test_parts) if test_parts else np.empty(0, np.int64)
    train = np.setdiff1d(np.arange(len(labels)), test)
    return rng.permutation(train), rng.permutation(test)


def read_source_bytes(source: bytes | str | os.PathLike[str], max_bytes: int, what: str) -> bytes:
    """The bytes of an upload or of a file on disk, refusing anything over `max_bytes`."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise DatasetError(f"{what} {path!r} does not exist or is not a file.")
        if os.path.getsize(path) > max_bytes:
            raise DatasetError(
                f"{what} {path!r} is {os.path.getsize(path):,} bytes, more than the limit of "
                f"{max_bytes:,} — use a smaller file."
            )
        try:
            with open(path, "rb") as file:
                data = file.read(max_bytes + 1)
        except OSError as exc:
            raise DatasetError(f"{what} {path!r} cannot be read: {exc.strerror}.") from None
    else:
        raise DatasetError(f"Expected bytes or a file path. Received: type={type(source).__name__}")
    if not data:
        raise DatasetError(f"{what} is empty (0 bytes) — choose another file.")
    if len(data) > max_bytes:
        raise DatasetError(
            f"{what} is {len(data):,} bytes, more than the limit of {max_bytes:,} — "
            "use a smaller file."
        )
    return data
