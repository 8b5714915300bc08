from __future__ import annotations

import dataclasses

import pytest
from training_data import stripes_dataset, tiny_spec

from cnnviz.errors import LimitError
from cnnviz.settings import Settings
from cnnviz.train import (
    TrainingError,
    TrainingSettings,
    check_training_limits,
    fit_dataset_to_input,
    split_training_data,
)

FAST = TrainingSettings(epochs=2, batch_size=16, learning_rate=0.01)
NO_LIMITS = Settings(max_train_samples=0)


def test_too_many_epochs_names_the_setting_that_raises_the_limit() -> None:
    with pytest.raises(LimitError, match="CNNVIZ_MAX_EPOCHS") as error:
        check_training_limits(tiny_spec(), stripes_dataset(), TrainingSettings(epochs=9),
                              Settings(max_epochs=8))
    assert "max_epochs" in str(error.value)


def test_too_many_parameters_names_max_params() -> None:
    with pytest.raises(LimitError, match="max_params"):
        check_training_limits(tiny_spec(), stripes_dataset(), FAST, Settings(max_params=10))


def test_too_many_layers_names_max_layers() -> None:
    spec = tiny_spec()
    with pytest.raises(LimitError, match="CNNVIZ_MAX_LAYERS") as error:
        check_training_limits(spec, stripes_dataset(), FAST,
                              Settings(max_layers=len(spec.layers) - 1))
    assert error.value.setting == "max_layers" and error.value.received == len(spec.layers)


def test_the_training_sample_cap_names_its_setting() -> None:
    x_fit, _, x_val, _, notes = split_training_data(
        stripes_dataset(), TrainingSettings(validation_split=0.0), Settings(max_train_samples=50))
    assert len(x_fit) == 50 and x_val is None
    assert len(notes) == 1 and "CNNVIZ_MAX_TRAIN_SAMPLES" in notes[0]


def test_data_and_model_shapes_must_match() -> None:
    spec = dataclasses.replace(tiny_spec(), input_shape=(16, 16, 1))
    with pytest.raises(TrainingError, match="data is 8×8×1 but the model expects 16×16×1"):
        check_training_limits(spec, stripes_dataset(), FAST)


def test_fit_dataset_to_input_resizes_both_splits() -> None:
    fitted = fit_dataset_to_input(stripes_dataset(), (16, 16, 3))
    assert fitted.x_train.shape[1:] == fitted.x_test.shape[1:] == (16, 16, 3)
    assert fitted.y_train is stripes_dataset().y_train or len(fitted.y_train) == 160


def test_split_is_seeded_and_holds_out_the_validation_fraction() -> None:
    data = stripes_dataset()
    first = split_training_data(data, TrainingSettings(validation_split=0.25, seed=4), NO_LIMITS)
    again = split_training_data(data, TrainingSettings(validation_split=0.25, seed=4), NO_LIMITS)
    other = split_training_data(data, TrainingSettings(validation_split=0.25, seed=5), NO_LIMITS)
    x_fit, y_fit, x_val, y_val, notes = first
    assert (len(x_fit), len(x_val)) == (120, 40) and notes == []
    assert (again[1] == y_fit).all() and not (other[1] == y_fit).all()


def test_split_without_validation_returns_none() -> None:
    _, _, x_val, y_val, _ = split_training_data(
        stripes_dataset(), TrainingSettings(validation_split=0.0), NO_LIMITS)
    assert x_val is None and y_val is None
