"""`ModelSpec` → `keras.Model`. Keras is imported inside the functions: it costs seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnnviz.shapes import validate
from cnnviz.spec import INPUT_LAYER_NAME, ModelSpec
from cnnviz.tf_runtime import configure_tensorflow

if TYPE_CHECKING:
    import keras

__all__ = ["build_model", "keras_layer_kwargs"]


def keras_layer_kwargs(spec: ModelSpec, index: int) -> dict[str, Any]:
    """The constructor arguments of layer `index`, with its resolved name."""
    layer = spec.layers[index]
    kwargs = layer.config(include_defaults=True)
    kwargs["name"] = spec.layer_names()[index]
    return {key: _to_python(value) for key, value in kwargs.items()}


def _to_python(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_to_python(item) for item in value)
    return value


def build_model(spec: ModelSpec, *, seed: int | None = None) -> keras.Sequential:
    """A built `keras.Sequential` with the spec's layers and names.

    The spec is validated first, so Keras never sees an architecture it would reject.
    `seed` makes the initial weights reproducible.
    """
    validate(spec)
    configure_tensorflow()
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    # "input", unless a layer has that name; INPUT_LAYER_NAME is kept free by the spec.
    input_name = "input" if "input" not in spec.layer_names() else INPUT_LAYER_NAME
    layers: list[Any] = [keras.Input(shape=spec.input_shape, name=input_name)]
    for index, layer in enumerate(spec.layers):
        layer_class = getattr(keras.layers, layer.class_name)
        layers.append(layer_class(**keras_layer_kwargs(spec, index)))
    return keras.Sequential(layers, name=spec.name)
