"""What a trained classifier gets right and wrong on the test set: plain numpy."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Evaluation", "evaluate_predictions", "pair_indices", "predicted_labels"]


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Test-set results. `confusion[t, p]` counts images of class t predicted as p."""

    accuracy: float
    predictions: np.ndarray  # (n,) int64 predicted class per test image
    confusion: np.ndarray  # (k, k) int64
    per_class_accuracy: tuple[float | None, ...]  # None: the class has no test image
    misclassified: np.ndarray  # (m,) int64 indices into the test set


def predicted_labels(outputs: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Class numbers from model outputs: argmax over k scores, or one output > threshold.

    For a single output the threshold is 0.5 on a sigmoid probability, 0 on a raw score.
    """
    outputs = np.asarray(outputs)
    if outputs.ndim == 2 and outputs.shape[1] == 1:
        return (outputs[:, 0] > threshold).astype(np.int64)
    return np.argmax(outputs, axis=1).astype(np.int64)


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
