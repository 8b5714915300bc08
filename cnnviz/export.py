"""The Keras Python code that builds the same model, with only the non-default arguments."""

from __future__ import annotations

import dataclasses
from typing import Any

from cnnviz.layers import LayerSpec
from cnnviz.spec import ModelSpec

__all__ = ["keras_code", "layer_call"]


def _literal(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        items = [_literal(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _required_fields(layer: LayerSpec) -> list[str]:
    return [
        spec_field.name
        for spec_field in dataclasses.fields(layer)
        if spec_field.default is dataclasses.MISSING
    ]


def layer_call(layer: LayerSpec) -> str:
    """`layers.Conv2D(32, (3, 3), activation="relu")`: required arguments by position."""
    config = layer.config()
    required = _required_fields(layer)
    arguments = [_literal(getattr(layer, name)) for name in required]
    optional = [name for name in config if name not in required]
    optional.sort(key=lambda name: name in ("name", "trainable"))
    arguments += [f"{name}={_literal(config[name])}" for name in optional]
    return f"layers.{layer.class_name}({', '.join(arguments)})"


def keras_code(spec: ModelSpec) -> str:
    """A runnable script: `keras.Sequential([...])` and `model.summary()`."""
    lines = [
        "import keras",
        "from keras import layers",
        "",
        "model = keras.Sequential(",
        "    [",
        f"        keras.Input(shape={_literal(spec.input_shape)}),",
    ]
    lines += [f"        {layer_call(layer)}," for layer in spec.layers]
    lines += [
        "    ],",
        f"    name={_literal(spec.name)},",
        ")",
        "model.summary()",
        "",
    ]
    return "\n".join(lines)
