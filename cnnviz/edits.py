"""Edits of a model's layer stack — insert, delete, move, duplicate, replace, change a field.

The one home of stack edits: the Build page's buttons and drag-and-drop, the advice's
one-click fixes and the Train page's output-layer fix all go through these. Each returns a
new `ModelSpec`; a position outside the stack is a `SpecError`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from cnnviz.errors import SpecError
from cnnviz.layers import LayerSpec
from cnnviz.spec import ModelSpec

__all__ = [
    "delete_layer",
    "duplicate_layer",
    "insert_layer",
    "layer_position",
    "move_layer",
    "replace_layer",
    "with_layer_field",
]


def layer_position(spec: ModelSpec, index: Any, *, allow_end: bool = False) -> int:
    """`index` checked as a position in the stack (`allow_end`: one past the last too)."""
    last = len(spec.layers) if allow_end else len(spec.layers) - 1
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= last:
        raise SpecError(
            f"must be a layer position from 0 to {last}", field="index", received=index
        )
    return index


def insert_layer(spec: ModelSpec, index: int, layer: LayerSpec) -> ModelSpec:
    at = layer_position(spec, index, allow_end=True)
    return spec.replace_layers((*spec.layers[:at], layer, *spec.layers[at:]))


def delete_layer(spec: ModelSpec, index: int) -> ModelSpec:
    at = layer_position(spec, index)
    return spec.replace_layers(spec.layers[:at] + spec.layers[at + 1 :])


def move_layer(spec: ModelSpec, source: int, target: int) -> ModelSpec:
    """The layer at `source` taken out and put back at `target` (a position after removal)."""
    start = layer_position(spec, source)
    end = layer_position(spec, target)
    layers = list(spec.layers)
    layers.insert(end, layers.pop(start))
    return spec.replace_layers(layers)


def duplicate_layer(spec: ModelSpec, index: int) -> ModelSpec:
    """A copy right after the layer; a copy takes Keras's automatic name (names are unique)."""
    at = layer_position(spec, index)
    copy = dataclasses.replace(spec.layers[at], name=None)
    return insert_layer(spec, at + 1, copy)


def replace_layer(spec: ModelSpec, index: int, layer: LayerSpec) -> ModelSpec:
    at = layer_position(spec, index)
    return spec.replace_layers((*spec.layers[:at], layer, *spec.layers[at + 1 :]))


def with_layer_field(spec: ModelSpec, index: int, **changes: Any) -> ModelSpec:
    """The layer at `index` with some of its arguments changed."""
    at = layer_position(spec, index)
    return replace_layer(spec, at, dataclasses.replace(spec.layers[at], **changes))
