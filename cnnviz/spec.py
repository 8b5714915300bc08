"""The architecture: `ModelSpec` and its JSON form (`cnnviz/1`), the one source of truth."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cnnviz import fields as f
from cnnviz.errors import LayerRef, SpecError
from cnnviz.layers import LAYER_ALIASES, LAYER_TYPES, LayerSpec, auto_name

__all__ = [
    "FORMAT",
    "INPUT_LAYER_NAME",
    "MAX_LAYERS",
    "MAX_INPUT_SIDE",
    "MAX_INPUT_CHANNELS",
    "ModelSpec",
    "SpecError",
    "LayerRef",
    "layer_from_dict",
    "layer_to_dict",
    "resolve_class_name",
]

FORMAT = "cnnviz/1"
INPUT_LAYER_NAME = "input_layer"  # what keras.Input() is named in a fresh session
MAX_LAYERS = 400
MAX_INPUT_SIDE = 4_096
MAX_INPUT_CHANNELS = 512

Shape3 = tuple[int, int, int]


def resolve_class_name(raw: Any, index: int = 0) -> str:
    if isinstance(raw, str) and raw in LAYER_ALIASES:
        return LAYER_ALIASES[raw]
    if isinstance(raw, str) and raw in LAYER_TYPES:
        return raw
    raise SpecError(
        "is not a layer type cnnviz supports",
        field="class_name",
        received=raw,
        fix="use one of " + ", ".join(LAYER_TYPES),
        layer=LayerRef(index, str(raw)),
    )


def layer_from_dict(entry: Any, index: int = 0) -> LayerSpec:
    """`{"class_name": ..., "config": {...}}` → a layer spec; errors name the layer."""
    if not isinstance(entry, Mapping):
        raise SpecError(
            "each layer must be an object with 'class_name' and 'config'",
            fix='write it as {"class_name": "Conv2D", "config": {"filters": 8, ...}}',
            layer=LayerRef(index, "?"),
        )
    class_name = resolve_class_name(entry.get("class_name"), index)
    config = entry.get("config", {})
    if config is None:
        config = {}
    ref = LayerRef(index, class_name)
    if not isinstance(config, Mapping):
        raise SpecError(
            "must be an object of the layer's arguments",
            field="config",
            received=config,
            fix='write config as {"argument": value, ...} or leave it out',
            layer=ref,
        )
    raw_name = config.get("name")
    if isinstance(raw_name, str):
        ref = LayerRef(index, class_name, raw_name)
    cls = LAYER_TYPES[class_name]
    known = {spec_field.name for spec_field in dataclasses.fields(cls)}
    for key in config:
        if key not in known:
            raise SpecError(
                f"is not an argument of {class_name} that cnnviz supports",
                field=str(key),
                received=config[key],
                fix="remove it; supported: " + ", ".join(sorted(known)),
                layer=ref,
            )
    missing = [
        spec_field.name
        for spec_field in dataclasses.fields(cls)
        if spec_field.default is dataclasses.MISSING and spec_field.name not in config
    ]
    if missing:
        raise SpecError(
            f"{class_name} needs a value for {missing[0]}",
            field=missing[0],
            received=None,
            fix=f"add {missing[0]} to the layer's config",
            layer=ref,
        )
    try:
        return cls(**config)
    except SpecError as error:
        raise error.at_layer(ref) from None


def layer_to_dict(layer: LayerSpec) -> dict[str, Any]:
    return {"class_name": layer.class_name, "config": layer.config()}


def _input_shape(value: Any) -> Shape3:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise SpecError(
            "must be [height, width, channels]",
            field="input_shape",
            received=value,
            fix="e.g. [28, 28, 1] or [32, 32, 3]",
        )
    if not all(_is_whole_and_positive(item) for item in value):
        raise SpecError(
            "must be three whole numbers of at least 1 (height, width, channels)",
            field="input_shape",
            received=value,
            fix="e.g. [28, 28, 1] or [32, 32, 3]",
        )
    side = [int(item) for item in value]
    if max(side[:2]) > MAX_INPUT_SIDE or side[2] > MAX_INPUT_CHANNELS:
        raise SpecError(
            f"is larger than cnnviz allows ({MAX_INPUT_SIDE:,} pixels a side, "
            f"{MAX_INPUT_CHANNELS} channels; one image's feature maps must fit in memory)",
            field="input_shape",
            received=value,
            fix="resize the images, e.g. to [224, 224, 3]",
        )
    return side[0], side[1], side[2]


def _is_whole_and_positive(item: Any) -> bool:
    if isinstance(item, bool) or not isinstance(item, (int, float)):
        return False
    return math.isfinite(item) and item == int(item) and item >= 1


def _free_name(name: str, names: Sequence[str]) -> str:
    suffix = 1
    while f"{name}_{suffix}" in names:
        suffix += 1
    return f"{name}_{suffix}"


def _check_unique_names(layers: Sequence[LayerSpec], names: Sequence[str]) -> None:
    """Keras's Sequential refuses two layers of one name (and one named as its input)."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name == INPUT_LAYER_NAME:
            raise SpecError(
                "is the name Keras gives the model's input layer",
                field="name",
                received=name,
                fix=f"choose another name, e.g. {_free_name(name, names)!r}",
                layer=LayerRef(index, layers[index].class_name, name),
            )
        if name not in seen:
            seen[name] = index
            continue
        first = seen[name]
        culprit, other = (index, first) if layers[index].name is not None else (first, index)
        how = "is named" if layers[other].name is not None else "gets the automatic name"
        raise SpecError(
            f"layer {other + 1} ({layers[other].class_name}) {how} {name!r} too; "
            "layer names must be unique",
            field="name",
            received=name,
            fix=f"rename this layer, e.g. {_free_name(name, names)!r}",
            layer=LayerRef(culprit, layers[culprit].class_name, name),
        )


def _model_name(value: Any) -> str:
    name = f.layer_name(value, "name")
    return name if name is not None else "model"


@dataclass(frozen=True)
class ModelSpec:
    """A Sequential CNN: an input shape (H, W, C) and a stack of layers."""

    input_shape: Shape3
    layers: tuple[LayerSpec, ...] = ()
    name: str = "model"

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", _input_shape(self.input_shape))
        object.__setattr__(self, "name", _model_name(self.name))
        object.__setattr__(self, "layers", tuple(self.layers))
        if len(self.layers) > MAX_LAYERS:
            raise SpecError(
                f"has {len(self.layers)} layers; cnnviz allows up to {MAX_LAYERS}",
                field="layers",
                received=len(self.layers),
                fix=f"remove layers to keep {MAX_LAYERS} or fewer",
            )
        _check_unique_names(self.layers, self.layer_names())

    def layer_names(self) -> tuple[str, ...]:
        """Each layer's name: its own, or Keras's default in a fresh session (`conv2d_1`).

        As Keras does (`backend.get_uid`), a default name counts only the unnamed layers of
        its class, whatever names the others were given; a clash is a `SpecError`.
        """
        counters: dict[str, int] = {}
        names: list[str] = []
        for layer in self.layers:
            if layer.name is not None:
                names.append(layer.name)
                continue
            prefix = auto_name(layer.class_name)
            count = counters.get(prefix, 0)
            counters[prefix] = count + 1
            names.append(prefix if count == 0 else f"{prefix}_{count}")
        return tuple(names)

    def layer_ref(self, index: int) -> LayerRef:
        return LayerRef(index, self.layers[index].class_name, self.layer_names()[index])

    def replace_layers(self, layers: Sequence[LayerSpec]) -> ModelSpec:
        return dataclasses.replace(self, layers=tuple(layers))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "name": self.name,
            "input_shape": list(self.input_shape),
            "layers": [layer_to_dict(layer) for layer in self.layers],
        }

    @classmethod
    def from_dict(cls, data: Any) -> ModelSpec:
        if not isinstance(data, Mapping):
            raise SpecError(
                "an architecture must be a JSON object",
                received=type(data).__name__,
                fix='write it as {"input_shape": [28, 28, 1], "layers": [...]}',
            )
        unknown = [key for key in data if key not in ("format", "name", "input_shape", "layers")]
        if unknown:
            key = min(unknown, key=str)
            raise SpecError(
                "is not a key of a cnnviz architecture",
                field=str(key),
                received=data[key],
                fix="use only format, name, input_shape and layers",
            )
        if data.get("format", FORMAT) != FORMAT:
            raise SpecError(
                f"is not {FORMAT!r}",
                field="format",
                received=data.get("format"),
                fix=f"set format to {FORMAT!r} or leave it out",
            )
        raw_layers = data.get("layers", [])
        if not isinstance(raw_layers, list):
            raise SpecError(
                "must be a list of layers",
                field="layers",
                received=raw_layers,
                fix='write layers as [{"class_name": ..., "config": {...}}, ...]',
            )
        if len(raw_layers) > MAX_LAYERS:
            raise SpecError(
                f"has {len(raw_layers)} layers; cnnviz allows up to {MAX_LAYERS}",
                field="layers",
                received=len(raw_layers),
                fix=f"remove layers to keep {MAX_LAYERS} or fewer",
            )
        layers = tuple(layer_from_dict(entry, index) for index, entry in enumerate(raw_layers))
        return cls(
            input_shape=data.get("input_shape"),  # type: ignore[arg-type]
            layers=layers,
            name=data.get("name", "model"),
        )
