"""Reading and writing the architecture file: cnnviz's JSON, or Keras's `model.to_json()`.

Keras's JSON is read from a `Sequential` model, or from a functional `Model` whose layers
form one chain (each layer feeding the next, as `keras.applications.VGG16` or `MobileNet`).

User files are data: parsed with `json`, checked against the allow-list, never executed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cnnviz.layers import LAYER_ALIASES, LAYER_TYPES, auto_name
from cnnviz.shapes import validate
from cnnviz.spec import ModelSpec, SpecError

__all__ = ["MAX_FILE_BYTES", "dump_architecture", "load_architecture", "parse_architecture"]

MAX_FILE_BYTES = 2_000_000

# Keys of Keras's get_config() that carry no meaning for cnnviz when they hold these values.
_IGNORABLE = {
    "dtype": None,
    "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
    "depthwise_regularizer": None, "pointwise_regularizer": None,
    "beta_regularizer": None, "gamma_regularizer": None,
    "kernel_constraint": None, "bias_constraint": None, "depthwise_constraint": None,
    "pointwise_constraint": None, "beta_constraint": None, "gamma_constraint": None,
    "alpha_constraint": None,
    "noise_shape": None, "lora_rank": None, "lora_alpha": None, "quantization_config": None,
    "synchronized": False, "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99,
    "beta_initializer": "zeros", "gamma_initializer": "ones",
    "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
}  # fmt: skip
_ALWAYS_IGNORED = {"dtype", "renorm_momentum"}


# The arguments Keras writes for initializers cnnviz names, at their default values.
_INITIALIZER_DEFAULTS: dict[str, dict[str, float]] = {
    "RandomNormal": {"mean": 0.0, "stddev": 0.05},
    "TruncatedNormal": {"mean": 0.0, "stddev": 0.05},
    "RandomUniform": {"minval": -0.05, "maxval": 0.05},
    "Orthogonal": {"gain": 1.0},
}


def _keras_initializer(value: Any) -> Any:
    """`{"class_name": "GlorotUniform", "config": {"seed": null}}` → `"glorot_uniform"`.

    Only an initializer with Keras's default arguments has a name; any other stays as it
    is, and the layer refuses it with a message.
    """
    if not isinstance(value, Mapping) or not isinstance(value.get("class_name"), str):
        return value
    config = value.get("config") or {}
    defaults = _INITIALIZER_DEFAULTS.get(value["class_name"], {})
    if not isinstance(config, Mapping) or any(
        item is not None and (key not in defaults or defaults[key] != item)
        for key, item in config.items()
    ):
        return value
    return auto_name(value["class_name"])


def _keras_layer(entry: Any, index: int) -> dict[str, Any] | None:
    if not isinstance(entry, Mapping):
        raise SpecError(
            f"layer {index + 1} of the Keras model is not an object",
            fix="export the model again with model.to_json()",
        )
    class_name = entry.get("class_name")
    if class_name == "InputLayer":
        return None
    raw = entry.get("config")
    config = dict(raw) if isinstance(raw, Mapping) else {}
    known_class = LAYER_TYPES.get(LAYER_ALIASES.get(str(class_name), str(class_name)))
    supported = set(known_class.__dataclass_fields__) if known_class else set()
    cleaned: dict[str, Any] = {}
    for key, value in config.items():
        value = _keras_initializer(value)
        if key in _ALWAYS_IGNORED or (key not in supported and key in _IGNORABLE and
                                      value == _IGNORABLE[key]):
            continue
        if key == "data_format" and value == "channels_last":
            continue
        cleaned[key] = value
    return {"class_name": class_name, "config": cleaned}


def _keras_input_shape(config: Mapping[str, Any], layers: list[Any]) -> Any:
    for entry in layers:
        if isinstance(entry, Mapping):
            raw = entry.get("config")
            inner: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
            for key in ("batch_shape", "batch_input_shape"):
                if isinstance(inner.get(key), list):
                    return inner[key][1:]
            build = entry.get("build_config")
            if isinstance(build, Mapping) and isinstance(build.get("input_shape"), list):
                return build["input_shape"][1:]
    build = config.get("build_input_shape")
    return build[1:] if isinstance(build, list) else None


_FUNCTIONAL = ("Functional", "Model")


def _tensor_sources(node: Any) -> list[str]:
    """The layer names feeding one call of a layer in Keras's functional JSON."""
    sources: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, Mapping):
            history = value.get("config", {}).get("keras_history") if value.get(
                "class_name") == "__keras_tensor__" else None
            if isinstance(history, list) and history and isinstance(history[0], str):
                sources.append(history[0])
                return
            for item in value.values():
                visit(item)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(node.get("args", []) if isinstance(node, Mapping) else node)
    if isinstance(node, Mapping):
        visit(node.get("kwargs", {}))
    return sources


def _endpoint_names(value: Any) -> list[str]:
    """`["input_layer", 0, 0]` or `[["input_layer", 0, 0], …]` → the layer names."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [value[0]]
    if isinstance(value, list):
        return [item[0] for item in value if isinstance(item, list) and item]
    return []


def _check_chain(config: Mapping[str, Any], layers: list[Any]) -> None:
    """A functional model imports only when it is a chain: each layer feeds the next."""
    inputs, outputs = (_endpoint_names(config.get(key)) for key in ("input_layers",
                                                                     "output_layers"))
    names = [entry.get("name") if isinstance(entry, Mapping) else None for entry in layers]
    if len(inputs) != 1 or len(outputs) != 1 or not names or names[-1] != outputs[0]:
        raise SpecError(
            "cnnviz imports models with one input and one output, the last layer",
            fix="import a model whose layers form one chain, input to output",
        )
    for index, entry in enumerate(layers):
        if index == 0 or not isinstance(entry, Mapping):
            continue
        nodes = entry.get("inbound_nodes")
        sources = [_tensor_sources(node) for node in nodes] if isinstance(nodes, list) else []
        if sources != [[names[index - 1]]]:
            received = sorted({name for node in sources for name in node})
            raise SpecError(
                f"layer {index} ({entry.get('class_name')} {names[index]!r}) takes its input "
                f"from {', '.join(map(repr, received)) or 'nowhere'}, not only from the layer "
                f"before it ({names[index - 1]!r}): the model branches or merges, and cnnviz "
                "builds models whose layers form one chain",
                field="inbound_nodes",
                received=received,
                fix="import a Sequential-style model (no skip connections, no Add or "
                "Concatenate)",
            )


def _from_keras_json(data: Mapping[str, Any]) -> dict[str, Any]:
    class_name = data.get("class_name")
    if class_name != "Sequential" and class_name not in _FUNCTIONAL:
        raise SpecError(
            "only Keras Sequential models, or functional models whose layers form one "
            "chain, can be imported",
            field="class_name",
            received=class_name,
            fix="export a keras.Sequential model with model.to_json()",
        )
    config = data.get("config")
    if not isinstance(config, Mapping) or not isinstance(config.get("layers"), list):
        raise SpecError(
            "the Keras model JSON has no list of layers under config.layers",
            fix="export the model again with model.to_json()",
        )
    keras_layers = config["layers"]
    if class_name in _FUNCTIONAL:
        _check_chain(config, keras_layers)
    input_shape = _keras_input_shape(config, keras_layers)
    if input_shape is None:
        raise SpecError(
            "the Keras model JSON does not say its input shape",
            fix="build the model with keras.Input(shape=...) before calling to_json()",
        )
    layers = [_keras_layer(entry, index) for index, entry in enumerate(keras_layers)]
    name = config.get("name")
    return {
        "name": name if isinstance(name, str) else "model",
        "input_shape": input_shape,
        "layers": [layer for layer in layers if layer is not None],
    }


def parse_architecture(data: Any) -> ModelSpec:
    """A decoded JSON value (cnnviz/1 or Keras's model JSON) → a `ModelSpec`."""
    if isinstance(data, Mapping) and "module" in data and "class_name" in data:
        data = _from_keras_json(data)
    return ModelSpec.from_dict(data)


def load_architecture(source: str | bytes | Mapping[str, Any]) -> ModelSpec:
    """Text, bytes or a dict → a validated `ModelSpec` (shapes checked too), or `SpecError`."""
    if isinstance(source, Mapping):
        spec = parse_architecture(source)
    elif not isinstance(source, (str, bytes)):
        raise SpecError(
            "an architecture must be JSON text or a JSON object",
            received=type(source).__name__,
            fix="pass the file's text, its bytes, or the decoded JSON object",
        )
    else:
        if len(source) > MAX_FILE_BYTES:
            raise SpecError(
                f"the architecture file is {len(source):,} bytes; cnnviz reads up to "
                f"{MAX_FILE_BYTES:,}",
                fix="check that this is an architecture JSON file",
            )
        try:
            text = source.decode("utf-8") if isinstance(source, bytes) else source
            data = json.loads(text)
        except UnicodeDecodeError:
            raise SpecError("the file is not UTF-8 text", fix="choose a .json file") from None
        except json.JSONDecodeError as error:
            raise SpecError(
                f"the file is not valid JSON (line {error.lineno}, column {error.colno}: "
                f"{error.msg})",
                fix="fix the JSON or download the architecture again",
            ) from None
        except RecursionError:
            raise SpecError(
                "the JSON is nested too deeply to be an architecture",
                fix="check that this is an architecture JSON file",
            ) from None
        except ValueError:  # an integer of more digits than Python converts (4,300)
            raise SpecError(
                "the file holds a number with thousands of digits, too long to read",
                fix="fix the JSON or download the architecture again",
            ) from None
        spec = parse_architecture(data)
    validate(spec)
    return spec


def dump_architecture(spec: ModelSpec, *, indent: int | None = 2) -> str:
    return json.dumps(spec.to_dict(), indent=indent, ensure_ascii=False)
