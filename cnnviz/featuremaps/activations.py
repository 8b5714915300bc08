"""Every layer's output for one image, from one forward pass of a multi-output model.

Keras is imported inside the functions: it costs seconds.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

__all__ = [
    "ActivationError",
    "LayerActivation",
    "activation_bytes",
    "activation_model",
    "class_probabilities",
    "extract_activations",
    "prepare_batch",
]


class ActivationError(ValueError):
    """An image or model that cannot be run for feature maps; says what to change."""


@dataclass(frozen=True, eq=False)
class LayerActivation:
    """One layer's output for one image, without the batch axis."""

    index: int
    name: str
    class_name: str
    output: np.ndarray  # (H, W, C) for spatial layers, (N,) after Flatten or Dense

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(side) for side in self.output.shape)

    @property
    def is_spatial(self) -> bool:
        return self.output.ndim == 3

    @property
    def keras_output_shape(self) -> tuple[int | None, ...]:
        return (None, *self.shape)


_MODELS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def activation_model(model: keras.Model) -> keras.Model:
    """A `keras.Model` with the same input whose outputs are every layer's output, in order.

    Built once per model (it shares the model's weights, so training changes both).
    """
    cached = _MODELS.get(model)
    if cached is not None:
        return cached
    import keras

    try:
        inputs = model.inputs
        outputs = [layer.output for layer in model.layers]
    except (AttributeError, ValueError) as error:
        raise ActivationError(
            f"Expected a built model with a known input. Received: {type(model).__name__} "
            f"({error})"
        ) from None
    if len(inputs) != 1:
        raise ActivationError(f"Expected a model with one input. Received: {len(inputs)} inputs")
    multi = keras.Model(inputs=inputs[0], outputs=outputs, name=f"{model.name}_activations")
    _MODELS[model] = multi
    return multi


def prepare_batch(image: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    """An (H, W, C) or (1, H, W, C) float image → a float32 batch of one, checked against
    the model's input shape (without the batch axis)."""
    array = np.asarray(image)
    if array.ndim == 3:
        array = array[np.newaxis]
    expected = tuple(int(side) for side in input_shape)
    if array.ndim != 4 or array.shape[0] != 1 or tuple(array.shape[1:]) != expected:
        raise ActivationError(
            f"Expected one image of shape {expected} (height, width, channels). "
            f"Received: shape={tuple(array.shape)}. "
            "Resize it with cnnviz.data.images.to_model_input."
        )
    if not np.issubdtype(array.dtype, np.number):
        raise ActivationError(f"Expected numbers in the image. Received: dtype={array.dtype}")
    return np.ascontiguousarray(array, dtype=np.float32)


def activation_bytes(model: keras.Model) -> int:
    """Float32 bytes of every layer's output for one image."""
    total = 0
    for layer in model.layers:
        shape = layer.output.shape[1:]
        total += int(np.prod([int(side) for side in shape])) * 4
    return total


def extract_activations(model: keras.Model, image: np.ndarray) -> list[LayerActivation]:
    """Run `image` (H, W, C) through `model` once; every layer's output, input excluded.

    Inference mode: Dropout passes values through, BatchNormalization uses its moving
    statistics — exactly what `model.predict` computes.
    """
    multi = activation_model(model)
    batch = prepare_batch(image, tuple(model.inputs[0].shape[1:]))
    outputs = multi(batch, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    return [
        LayerActivation(
            index=index,
            name=layer.name,
            class_name=type(layer).__name__,
            output=np.asarray(output)[0],
        )
        for index, (layer, output) in enumerate(zip(model.layers, outputs, strict=True))
    ]


def class_probabilities(output: np.ndarray, final_activation: str | None) -> np.ndarray:
    """A classifier's output vector as probabilities over its classes.

    After softmax it already is; one sigmoid unit is p(class 1), so [1 - p, p]; raw scores
    (no final activation, a model trained `from_logits`) go through a softmax here.
    """
    values = np.asarray(output, dtype=np.float64).ravel()
    if values.size == 0:
        raise ActivationError("Expected a non-empty output vector. Received: 0 values")
    if final_activation == "softmax":
        return values
    if final_activation == "sigmoid":
        return np.array([1.0 - values[0], values[0]]) if values.size == 1 else values
    shifted = np.exp(values - values.max())
    return np.asarray(shifted / shifted.sum())
