from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix

from cnnviz.train import evaluate_predictions, pair_indices, predicted_labels, wilson_interval


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


def test_wilson_interval_matches_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857, Wilson score method: 81/263 and 15/148.
    assert wilson_interval(81 / 263, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson_interval(15 / 148, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    assert wilson_interval(0.0, 10) == pytest.approx((0.0, 0.2775), abs=5e-5)
    assert wilson_interval(1.0, 10) == pytest.approx((0.7225, 1.0), abs=5e-5)


@given(st.integers(1, 5000), st.data())
def test_wilson_interval_holds_the_accuracy_and_narrows_with_more_images(
    count: int, data: st.DataObject
) -> None:
    correct = data.draw(st.integers(0, count))
    accuracy = correct / count
    low, high = wilson_interval(accuracy, count)
    assert 0.0 <= low <= accuracy <= high <= 1.0
    wider_low, wider_high = wilson_interval(accuracy, count * 4)
    assert high - low > wider_high - wider_low


def test_evaluation_gives_the_interval_of_its_own_accuracy() -> None:
    evaluation = evaluate_predictions(np.array([0, 1, 1, 0]), np.array([0, 1, 0, 0]), 2)
    assert evaluation.test_images == 4
    assert evaluation.accuracy_interval == wilson_interval(0.75, 4)
    assert wilson_interval(0.5, 0) == (0.0, 1.0)
