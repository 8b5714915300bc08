"""The drag-and-drop actions on the layer stack, and what a freshly dropped layer holds.

Plain functions of `ModelSpec`, no Streamlit. The edits themselves are `cnnviz.edits`. An
action from the browser is untrusted data; anything malformed is a `SpecError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cnnviz.advice import Advice
from cnnviz.edits import delete_layer, duplicate_layer, insert_layer, layer_position, move_layer
from cnnviz.layers import LAYER_TYPES, LayerSpec
from cnnviz.spec import ModelSpec, SpecError, layer_from_dict

__all__ = [
    "NEW_LAYER_CONFIG",
    "apply_action",
    "card_fixes",
    "new_layer",
]

# What a freshly dropped layer starts with: Keras's defaults plus the required arguments.
NEW_LAYER_CONFIG: dict[str, dict[str, Any]] = {
    "Conv2D": {"filters": 32, "kernel_size": [3, 3], "activation": "relu"},
    "SeparableConv2D": {"filters": 32, "kernel_size": [3, 3], "activation": "relu"},
    "DepthwiseConv2D": {"kernel_size": [3, 3]},
    "MaxPooling2D": {"pool_size": [2, 2]},
    "AveragePooling2D": {"pool_size": [2, 2]},
    "GlobalAveragePooling2D": {},
    "GlobalMaxPooling2D": {},
    "Flatten": {},
    "Dense": {"units": 64, "activation": "relu"},
    "Dropout": {"rate": 0.25},
    "SpatialDropout2D": {"rate": 0.1},
    "Activation": {"activation": "relu"},
    "BatchNormalization": {},
    "ZeroPadding2D": {},
    "Conv2DTranspose": {"filters": 16, "kernel_size": [3, 3], "strides": [2, 2],
                        "padding": "same"},
    "UpSampling2D": {},
    "Reshape": {"target_shape": [-1]},
    "ReLU": {},
    "LeakyReLU": {},
    "ELU": {},
    "PReLU": {},
    "Softmax": {},
}


def new_layer(class_name: str) -> LayerSpec:
    config = NEW_LAYER_CONFIG.get(class_name, {})
    return layer_from_dict({"class_name": class_name, "config": config})


def _card_fix(spec: ModelSpec, action: Mapping[str, Any],
              advice: Sequence[Advice]) -> tuple[ModelSpec, int | None]:
    """A fix button on a card: fix number `fix` of the advice shown on layer `index`."""
    index = layer_position(spec, action.get("index"))
    shown = next((item for item in advice if item.layer_index == index), None)
    number = action.get("fix")
    if shown is None or not isinstance(number, int) or not 0 <= number < len(shown.fixes):
        raise SpecError("is not a fix offered on this layer's card", field="fix",
                        received=number)
    return shown.fixes[number].apply(spec), index


def card_fixes(advice: Sequence[Advice], index: int) -> list[str]:
    """The fix labels a card shows: those of the advice whose note it shows (the first)."""
    shown = next((item for item in advice if item.layer_index == index), None)
    return [fix.label for fix in shown.fixes] if shown is not None else []


def apply_action(spec: ModelSpec, action: Any,
                 advice: Sequence[Advice] = ()) -> tuple[ModelSpec, int | None]:
    """A drag-and-drop action → (the new spec, the layer to select, if any). A card's fix
    button ("fix") applies a fix of `advice`, the advice its card was drawn with."""
    if not isinstance(action, Mapping) or not isinstance(action.get("op"), str):
        raise SpecError("a stack action must be an object with an 'op'", received=action)
    op = action["op"]
    if op == "insert":
        class_name = action.get("class_name")
        if class_name not in LAYER_TYPES:
            raise SpecError("is not a layer type cnnviz supports", field="class_name",
                            received=class_name)
        index = layer_position(spec, action.get("index"), allow_end=True)
        return insert_layer(spec, index, new_layer(str(class_name))), index
    if op == "move":
        target = layer_position(spec, action.get("to"))
        return move_layer(spec, action.get("from"), target), target  # type: ignore[arg-type]
    if op == "delete":
        index = layer_position(spec, action.get("index"))
        remaining = len(spec.layers) - 1
        return delete_layer(spec, index), (min(index, remaining - 1) if remaining else None)
    if op == "duplicate":
        index = layer_position(spec, action.get("index"))
        return duplicate_layer(spec, index), index + 1
    if op == "select":
        return spec, layer_position(spec, action.get("index"))
    if op == "fix":
        return _card_fix(spec, action, advice)
    raise SpecError("is not a stack action", field="op", received=op,
                    fix="use insert, move, delete, duplicate, select or fix")
