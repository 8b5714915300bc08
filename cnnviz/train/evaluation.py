"""What a trained classifier gets right and wrong on the test set: plain numpy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

__all__ = [
    "Evaluation",
    "evaluate_predictions",
    "pair_indices",
    "predicted_labels",
    "wilson_interval",
]

Z_95: Final = 1.959963984540054  # the standard normal's 97.5th percentile


def wilson_interval(accuracy: float, count: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of an accuracy measured on `count` images.

    Unlike the textbook ±z·√(p(1−p)/n), it stays within [0, 1] and is not zero-wide at
    100 % on a small test set.
    """
    if count <= 0:
        return 0.0, 1.0
    p = min(1.0, max(0.0, accuracy))
    z2 = z * z
    centre = (p + z2 / (2 * count)) / (1 + z2 / count)
    half = z / (1 + z2 / count) * math.sqrt(p * (1 - p) / count + z2 / (4 * count * count))
    low = 0.0 if p == 0.0 else max(0.0, centre - half)
    high = 1.0 if p == 1.0 else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Test-set results. `confusion[t, p]` counts images of class t predicted as p."""

    accuracy: float
    predictions: np.ndarray  # (n,) int64 predicted class per test image
    confusion: np.ndarray  # (k, k) int64
    per_class_accuracy: tuple[float | None, ...]  # None: the class has no test image
    misclassified: np.ndarray  # (m,) int64 indices into the test set

    @property
    def test_images(self) -> int:
        return len(self.predictions)

    @property
    def accuracy_interval(self) -> tuple[float, float]:
        return wilson_interval(self.accuracy, self.test_images)


def predicted_labels(outputs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class numbers from model outputs: argmax over k scores, or one output > threshold.

    For a single output the threshold is 0.5 on a sigmoid probability, 0 on a raw score.
    """
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return (outputs[:, 0] > threshold).astype(np.int64)
    labels: np.ndarray = np.argmax(outputs, axis=1).astype(np.int64)
    return labels


def evaluate_predictions(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> Evaluation:
    """Accuracy, confusion matrix, per-class accuracy and the misclassified indices."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Expected as many predictions as labels. Received: {y_pred.shape} vs {y_true.shape}"
        )
    flat = y_true * num_classes + np.clip(y_pred, 0, num_classes - 1)
    confusion = np.bincount(flat, minlength=num_classes * num_classes).reshape(
        num_classes, num_classes
    )
    totals = confusion.sum(axis=1)
    per_class = tuple(
        float(confusion[c, c] / totals[c]) if totals[c] else None for c in range(num_classes)
    )
    correct = y_true == y_pred
    accuracy = float(correct.mean()) if len(y_true) else 0.0
    return Evaluation(
        accuracy=accuracy,
        predictions=y_pred,
        confusion=confusion.astype(np.int64),
        per_class_accuracy=per_class,
        misclassified=np.flatnonzero(~correct).astype(np.int64),
    )


def pair_indices(
    y_true: np.ndarray, y_pred: np.ndarray, true_class: int, predicted_class: int
) -> np.ndarray:
    """Indices of the test images of class `true_class` predicted as `predicted_class`."""
    mask = (np.asarray(y_true) == true_class) & (np.asarray(y_pred) == predicted_class)
    return np.flatnonzero(mask).astype(np.int64)
