from __future__ import annotations

import numpy as np
from sklearn.metrics import confusion_matrix

from cnnviz.evaluation import evaluate_predictions, pair_indices, predicted_labels


def test_confusion_matrix_matches_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 5, 300))
    evaluation = evaluate_predictions(y_true, y_pred, 5)
    np.testing.assert_array_equal(evaluation.confusion,
                                  confusion_matrix(y_true, y_pred, labels=range(5)))
    assert evaluation.accuracy == float(np.mean(y_true == y_pred))


def test_per_class_accuracy_and_misclassified_indices() -> None:
    evaluation = evaluate_predictions(np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0]), 3)
    assert evaluation.per_class_accuracy == (0.5, 2 / 3, None)
    assert evaluation.misclassified.tolist() == [1, 4]


def test_predicted_labels_argmax_and_single_output_threshold() -> None:
    assert predicted_labels(np.array([[0.1, 0.9], [0.8, 0.2]])).tolist() == [1, 0]
    assert predicted_labels(np.array([[0.7], [0.2]])).tolist() == [1, 0]
    assert predicted_labels(np.array([[0.3], [-0.2]]), threshold=0.0).tolist() == [1, 0]


def test_pair_indices_selects_one_cell_of_the_confusion_matrix() -> None:
    y_true, y_pred = np.array([3, 3, 8, 3, 8]), np.array([8, 3, 3, 8, 8])
    assert pair_indices(y_true, y_pred, 3, 8).tolist() == [0, 3]
    assert pair_indices(y_true, y_pred, 8, 3).tolist() == [2]
