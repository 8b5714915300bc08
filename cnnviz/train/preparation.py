"""Before a training: the host's limits, data fitted to the model, the seeded split."""

from __future__ import annotations

import dataclasses

import numpy as np

from cnnviz.data import Dataset, fit_to_input
from cnnviz.limits import check_epochs, check_layers, check_params, train_samples_cap
from cnnviz.settings import Settings
from cnnviz.shapes import validate
from cnnviz.spec import ModelSpec
from cnnviz.train.settings import TrainingError, TrainingSettings

__all__ = ["check_training_limits", "fit_dataset_to_input", "split_training_data"]


def check_training_limits(
    spec: ModelSpec, dataset: Dataset, settings: TrainingSettings, host: Settings | None = None
) -> int:
    """The model's parameter count; `LimitError` names a host limit that was hit."""
    check_epochs(settings.epochs, host)
    check_layers(len(spec.layers), host)
    params = validate(spec).total_params
    check_params(params, host)
    if dataset.input_shape != spec.input_shape:
        raise TrainingError(
            f"The data is {_shape(dataset.input_shape)} but the model expects "
            f"{_shape(spec.input_shape)}. Resize/convert the data to the model's input, or set "
            "the model's input to the data's shape."
        )
    return params


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def fit_dataset_to_input(dataset: Dataset, input_shape: tuple[int, int, int]) -> Dataset:
    """The dataset with its images resized and converted to `input_shape`."""
    if dataset.input_shape == tuple(input_shape):
        return dataset

    return dataclasses.replace(
        dataset,
        x_train=fit_to_input(dataset.x_train, input_shape),
        x_test=fit_to_input(dataset.x_test, input_shape),
    )


def split_training_data(
    dataset: Dataset, settings: TrainingSettings, host: Settings | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, list[str]]:
    """Shuffled train/validation arrays (seeded), at most the host's training images."""
    notes: list[str] = []
    order = np.random.default_rng(settings.seed).permutation(len(dataset.x_train))
    used, note = train_samples_cap(len(order), host)
    if note is not None:
        notes.append(note)
        order = order[:used]
    n_val = int(round(len(order) * settings.validation_split))
    if settings.validation_split and n_val == 0:
        notes.append("Too few images to hold some out for validation; none were held out.")
    if len(order) - n_val < 1:
        raise TrainingError("No training images are left after the validation split.")
    fit, val = order[n_val:], order[:n_val]
    x, y = dataset.x_train, dataset.y_train
    if n_val == 0:
        return x[fit], y[fit], None, None, notes
    return x[fit], y[fit], x[val], y[val], notes
