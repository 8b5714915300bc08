"""The lesson's locks, checked in one place, and the leaderboard's Pareto front."""

from __future__ import annotations

import dataclasses

import pytest

from cnnviz.archfile import dump_architecture
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec, MaxPooling2DSpec
from cnnviz.room import Lesson, Locks, check_against_lesson, pareto_front, shown_names
from cnnviz.spec import ModelSpec

MODEL = ModelSpec((28, 28, 1), (Conv2DSpec(filters=8, kernel_size=3), FlattenSpec(),
                                DenseSpec(units=10, activation="softmax")))


def _lesson(**locks: object) -> Lesson:
    return Lesson(1, "Try it", dump_architecture(MODEL, indent=None), "shapes",
                  {"optimizer": "sgd", "learning_rate": 0.01, "epochs": 3}, Locks(**locks))


def test_no_lesson_or_no_locks_refuses_nothing() -> None:
    assert check_against_lesson(None, spec=MODEL, dataset_name="x", settings={"epochs": 99}) == []
    assert check_against_lesson(_lesson(), spec=MODEL, settings={"epochs": 99}) == []


def test_a_layer_type_outside_the_palette_is_refused_when_added_not_when_kept() -> None:
    lesson = _lesson(allowed_layers=("Conv2D", "Flatten", "Dense"))
    pooled = dataclasses.replace(MODEL, layers=(MODEL.layers[0], MaxPooling2DSpec(),
                                                *MODEL.layers[1:]))
    refused = check_against_lesson(lesson, spec=pooled, previous=MODEL)
    assert [v.lock for v in refused] == ["layers"] and "MaxPooling2D" in refused[0].message
    assert check_against_lesson(lesson, spec=MODEL, previous=pooled) == []  # removing it
    assert check_against_lesson(lesson, spec=pooled, previous=pooled) == []  # keeping it
    training = check_against_lesson(lesson, spec=pooled, dataset_name="shapes")
    assert [v.lock for v in training] == ["layers"]  # but it cannot be trained


def test_a_frozen_input_shape_refuses_another_shape() -> None:
    lesson = _lesson(freeze_input_shape=True)
    wider = dataclasses.replace(MODEL, input_shape=(32, 32, 3))
    refused = check_against_lesson(lesson, spec=wider, previous=MODEL)
    assert [v.lock for v in refused] == ["input_shape"] and "28×28×1" in refused[0].message


def test_training_locks_refuse_forged_settings() -> None:
    lesson = _lesson(fix_dataset=True, max_epochs=3, hide_optimizer=True)
    fine = {"optimizer": "sgd", "learning_rate": 0.01, "epochs": 3}
    assert check_against_lesson(lesson, spec=MODEL, dataset_name="shapes", settings=fine) == []
    forged = {"optimizer": "adam", "learning_rate": 0.01, "epochs": 50}
    refused = check_against_lesson(lesson, spec=MODEL, dataset_name="digits", settings=forged)
    assert sorted(v.lock for v in refused) == ["dataset", "epochs", "optimizer"]
    assert "Received: epochs=50" in " ".join(v.message for v in refused)
    rate = check_against_lesson(lesson, settings={**fine, "learning_rate": 0.5})
    assert [v.lock for v in rate] == ["optimizer"]


def test_the_lessons_own_model_always_passes() -> None:
    lesson = Lesson(1, "", dump_architecture(MODEL, indent=None), None, {},
                    Locks(allowed_layers=("Dense",), freeze_input_shape=True))
    other = dataclasses.replace(MODEL, input_shape=(8, 8, 1), layers=())
    assert check_against_lesson(lesson, spec=MODEL, previous=other) == []


def test_unknown_layer_types_cannot_be_allowed() -> None:
    with pytest.raises(ValueError, match="Received: allowed_layers=\\['Lambda'\\]"):
        Locks(allowed_layers=("Lambda",))


def test_locks_round_trip_and_describe_themselves() -> None:
    locks = Locks(fix_dataset=True, max_epochs=4, allowed_layers=("Dense",),
                  freeze_input_shape=True, hide_optimizer=True)
    assert Locks.from_dict(locks.to_dict()) == locks
    said = " ".join(_lesson(**locks.to_dict() | {"allowed_layers": ("Dense",)}).describe_locks())
    assert "shapes" in said and "4 epochs" in said and "28×28×1" in said and "sgd" in said


@pytest.mark.parametrize(("points", "front"), [
    ([(100, 0.5), (200, 0.7), (150, 0.4), (300, 0.7)], {0, 1}),
    ([(100, 0.9), (100, 0.8)], {0}),
    ([], set()),
])
def test_pareto_front(points: list[tuple[int, float]], front: set[int]) -> None:
    assert pareto_front(points) == front


def test_anonymised_names_are_numbers_in_join_order() -> None:
    assert shown_names([(7, "Bo"), (3, None)], "anonymous") == {3: "Participant 1",
                                                                 7: "Participant 2"}
    assert shown_names([(7, "Bo"), (3, None)], "names") == {3: "Participant 1", 7: "Bo"}
