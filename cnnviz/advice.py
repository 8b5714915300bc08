"""What to tell the person building an architecture, and the one-click fixes that apply.

`advise(spec)` returns the errors that stop the model (from `summarize`) and the legal but
costly or suspicious choices, each attached to a layer where it can be. Every fix is a
function `ModelSpec -> ModelSpec`; a fix is offered only if it really moves the error past
its layer (it is tried, and the result summarised, before it is offered).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from cnnviz import formulas as fx
from cnnviz.edits import delete_layer, insert_layer, replace_layer, with_layer_field
from cnnviz.errors import LimitError, SpecError
from cnnviz.layers import (
    IDENTITY_AT_INFERENCE,
    PASS_THROUGH,
    ActivationSpec,
    Conv2DSpec,
    DenseSpec,
    FlattenSpec,
    GlobalAveragePooling2DSpec,
    GlobalPooling2DSpec,
    LayerSpec,
    MaxPooling2DSpec,
    Pooling2DSpec,
    SeparableConv2DSpec,
)
from cnnviz.limits import check_activation_bytes, model_limit_errors
from cnnviz.settings import Settings
from cnnviz.shapes import ModelSummary, readable_size, summarize
from cnnviz.spec import ModelSpec

__all__ = [
    "HEAVY_DENSE_SHARE",
    "Advice",
    "Fix",
    "advise",
    "config_fixes",
    "fix_output_layer",
    "output_layer_fix",
    "output_layer_index",
    "with_flatten_before",
    "with_global_pooling_before",
    "with_global_pooling_for_flatten",
    "with_last_dense_units",
    "with_other_convolution",
    "with_padding_same",
    "with_pooling_after",
]

Level = Literal["error", "warning"]
HEAVY_DENSE_SHARE = 0.5  # a Dense after Flatten holding more than this share is flagged
HEAVY_DENSE_MIN_PARAMS = 10_000

# (label, the fix, where the layer the error was about stands once the fix is applied)
_Candidate = tuple[str, Callable[[ModelSpec], ModelSpec], int]


@dataclass(frozen=True)
class Fix:
    label: str
    apply: Callable[[ModelSpec], ModelSpec]


@dataclass(frozen=True)
class Advice:
    level: Level
    layer_index: int | None  # 0-based position in the stack; None for the whole model
    message: str
    fixes: tuple[Fix, ...] = ()


def with_padding_same(spec: ModelSpec, index: int) -> ModelSpec:
    return with_layer_field(spec, index, padding="same")


def with_flatten_before(spec: ModelSpec, index: int) -> ModelSpec:
    return insert_layer(spec, index, FlattenSpec())


def with_global_pooling_before(spec: ModelSpec, index: int) -> ModelSpec:
    return insert_layer(spec, index, GlobalAveragePooling2DSpec())


def with_global_pooling_for_flatten(spec: ModelSpec, index: int) -> ModelSpec:
    return replace_layer(spec, index, GlobalAveragePooling2DSpec(name=spec.layers[index].name))


def with_pooling_after(spec: ModelSpec, index: int) -> ModelSpec:
    return insert_layer(spec, index + 1, MaxPooling2DSpec(pool_size=(2, 2)))


def with_last_dense_units(spec: ModelSpec, units: int) -> ModelSpec:
    index = _last_dense(spec)
    if index is None:
        raise SpecError("the model has no Dense layer to set to the number of classes")
    return with_layer_field(spec, index, units=units)


_SHARED_CONV_FIELDS = ("filters", "kernel_size", "strides", "padding", "dilation_rate",
                      "activation", "use_bias", "bias_initializer", "name", "trainable")


def with_other_convolution(spec: ModelSpec, index: int) -> ModelSpec:
    """Conv2D ↔ SeparableConv2D at `index`, keeping every argument both layers share."""
    layer = spec.layers[index]
    if not isinstance(layer, (Conv2DSpec, SeparableConv2DSpec)):
        raise SpecError("only a Conv2D or a SeparableConv2D can be swapped",
                        received=layer.class_name, layer=spec.layer_ref(index))
    shared = {name: getattr(layer, name) for name in _SHARED_CONV_FIELDS}
    replacement: LayerSpec
    if isinstance(layer, Conv2DSpec):
        replacement = SeparableConv2DSpec(**shared, depthwise_initializer=layer.kernel_initializer,
                                          pointwise_initializer=layer.kernel_initializer)
    else:
        replacement = Conv2DSpec(**shared, kernel_initializer=layer.pointwise_initializer)
    return replace_layer(spec, index, replacement)


def config_fixes(
    config: Mapping[str, Any], error: SpecError
) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Edits of one layer's config that clear a constructor error, as (label, new config)."""
    def changed(**changes: Any) -> dict[str, Any]:
        return {**config, **changes}

    if error.code == "strides_with_dilation":
        return (("Set strides to 1", changed(strides=[1, 1])),
                ("Set dilation_rate to 1", changed(dilation_rate=[1, 1])))
    if error.field == "groups":
        return (("Set groups to 1", changed(groups=1)),)
    return ()


def output_layer_index(spec: ModelSpec) -> int | None:
    """The last layer that is not the identity at inference (dropout): the one whose
    output is the model's output; None when there is none."""
    for index in range(len(spec.layers) - 1, -1, -1):
        if not isinstance(spec.layers[index], IDENTITY_AT_INFERENCE):
            return index
    return None


def fix_output_layer(spec: ModelSpec, num_classes: int) -> ModelSpec:
    """The spec ending in `num_classes` softmax outputs, changing as little as possible."""
    summary = summarize(spec)
    producer = output_layer_index(spec)
    if len(summary.output_shape) != 1 or producer is None:
        ending: list[LayerSpec] = [] if len(summary.output_shape) == 1 else [FlattenSpec()]
        ending.append(DenseSpec(units=num_classes, activation="softmax"))
        return spec.replace_layers((*spec.layers, *ending))
    last = spec.layers[producer]
    if isinstance(last, DenseSpec):
        return with_layer_field(spec, producer, units=num_classes, activation="softmax")
    if isinstance(last, ActivationSpec):
        fixed = with_layer_field(spec, producer, activation="softmax")
        dense = output_layer_index(spec.replace_layers(spec.layers[:producer]))
        if dense is not None and isinstance(spec.layers[dense], DenseSpec):
            return with_layer_field(fixed, dense, units=num_classes)
        if summary.output_shape[0] == num_classes:
            return fixed
        spec = with_layer_field(spec, producer, activation=None)
    return insert_layer(spec, len(spec.layers), DenseSpec(units=num_classes,
                                                          activation="softmax"))


def output_layer_fix(spec: ModelSpec, num_classes: int) -> Fix | None:
    """The one fix for an output that does not give one probability per class, offered by
    the Build page's advice and the Train page alike; None when it would not help."""
    fixed = fix_output_layer(spec, num_classes)
    if fixed == spec or not summarize(fixed).ok:
        return None
    return Fix(f"End the model with {num_classes} softmax outputs, one per class",
               partial(fix_output_layer, num_classes=num_classes))


def _last_dense(spec: ModelSpec) -> int | None:
    for index in range(len(spec.layers) - 1, -1, -1):
        if isinstance(spec.layers[index], DenseSpec):
            return index
    return None


def _label(spec: ModelSpec, index: int) -> str:
    return f"layer {index + 1} ({spec.layer_names()[index]})"


def _passes(spec: ModelSpec, position: int) -> bool:
    """Whether the layer now at `position` and everything before it are valid."""
    error = summarize(spec).error
    return error is None or (error.layer is not None and error.layer.index > position)


def _checked(spec: ModelSpec, candidates: Sequence[_Candidate]) -> tuple[Fix, ...]:
    fixes = []
    for label, apply, position in candidates:
        try:
            if _passes(apply(spec), position):
                fixes.append(Fix(label, apply))
        except SpecError:
            continue
    return tuple(fixes)


def _error_advice(spec: ModelSpec, error: SpecError) -> Advice:
    index = error.layer.index if error.layer is not None else None
    if index is None:
        return Advice("error", None, error.message)
    message = SpecError(error.problem, field=error.field, received=error.received,
                        fix=error.fix).message  # the layer is said by `layer_index`
    layer = spec.layers[index]
    candidates: list[_Candidate] = []
    if getattr(layer, "padding", None) == "valid":
        candidates.append(("Use padding='same' here", partial(with_padding_same, index=index),
                           index))
    if isinstance(layer, Pooling2DSpec):
        candidates.append(("Remove this pooling layer", partial(delete_layer, index=index),
                           index - 1))
    for earlier in range(index - 1, -1, -1):
        before = spec.layers[earlier]
        if isinstance(before, Pooling2DSpec) and max(before.effective_strides) > 1:
            candidates.append((f"Remove the pooling that shrinks the map ({_label(spec, earlier)})",
                               partial(delete_layer, index=earlier), index - 1))
            break
    if error.field == "groups":
        candidates.append(("Set groups to 1", partial(with_layer_field, index=index, groups=1),
                           index))
    if error.code == "flat_input":
        candidates += _flat_input_fixes(spec, index)
    return Advice("error", index, message, _checked(spec, candidates))


def _flat_input_fixes(spec: ModelSpec, index: int) -> list[_Candidate]:
    for earlier in range(index - 1, -1, -1):
        before = spec.layers[earlier]
        if isinstance(before, FlattenSpec) or (
            isinstance(before, GlobalPooling2DSpec) and not before.keepdims
        ):
            return [(f"Remove the {before.class_name} ({_label(spec, earlier)})",
                     partial(delete_layer, index=earlier), index - 1)]
    return []


def _dense_on_image(spec: ModelSpec, summary: ModelSummary) -> list[Advice]:
    for row in summary.layers:
        if row.class_name == "Dense" and len(row.input_shape) == 3:
            index = row.index
            positions = fx.by(row.input_shape[:2])
            message = (
                f"Dense receives a {fx.by(row.input_shape)} map, so it is applied to each of "
                f"the {positions} positions separately and outputs {fx.by(row.output_shape)}. "
                "To classify the whole image, flatten the map first."
            )
            candidates: list[_Candidate] = [
                ("Insert a Flatten before it", partial(with_flatten_before, index=index),
                 index + 1),
                ("Insert a GlobalAveragePooling2D before it",
                 partial(with_global_pooling_before, index=index), index + 1),
            ]
            return [Advice("warning", index, message, _checked(spec, candidates))]
    return []


def _classes(spec: ModelSpec, summary: ModelSummary, num_classes: int | None) -> list[Advice]:
    index = _last_dense(spec)
    if num_classes is None or index is None or index >= len(summary.layers):
        return []
    units = summary.layers[index].output_shape[-1]
    if units == num_classes:
        return []
    message = (f"The last Dense layer has {units:,} units but the dataset has "
               f"{num_classes} classes: the model needs one output per class.")
    fix = output_layer_fix(spec, num_classes)
    return [Advice("warning", index, message, (fix,) if fix is not None else ())]


def _heavy_dense(spec: ModelSpec, summary: ModelSummary) -> list[Advice]:
    total = summary.total_params
    advice = []
    for row in summary.layers:
        if row.class_name != "Dense" or total < HEAVY_DENSE_MIN_PARAMS:
            continue
        flatten = row.index - 1
        while flatten >= 0 and isinstance(spec.layers[flatten], PASS_THROUGH):
            flatten -= 1
        if flatten < 0 or not isinstance(spec.layers[flatten], FlattenSpec):
            continue
        share = row.params / total
        if share <= HEAVY_DENSE_SHARE:
            continue
        flat_in = summary.layers[flatten].input_shape
        message = (
            f"This Dense layer holds {share:.0%} of the model's parameters "
            f"({row.params:,} of {total:,}): each of the {fx.dot(flat_in)} = "
            f"{fx.product(flat_in):,} flattened values connects to each of its "
            f"{row.output_shape[-1]:,} units."
        )
        candidates: list[_Candidate] = [
            ("Replace the Flatten with GlobalAveragePooling2D",
             partial(with_global_pooling_for_flatten, index=flatten), row.index),
            ("Insert a MaxPooling2D before the Flatten",
             partial(with_pooling_after, index=flatten - 1), row.index + 1),
        ]
        advice.append(Advice("warning", row.index, message, _checked(spec, candidates)))
    return advice


def _activation_memory(
    spec: ModelSpec, summary: ModelSummary, host: Settings | None
) -> list[Advice]:
    if host is None or not summary.layers:
        return []
    try:
        check_activation_bytes(summary.activation_bytes, host)
    except LimitError as error:
        problem = error.message
    else:
        return []
    largest = max(summary.layers, key=lambda row: row.output_bytes)
    message = (
        f"{problem} The largest map is this layer's "
        f"{fx.by(largest.output_shape)} ({readable_size(largest.output_bytes)})."
    )
    fixes: tuple[Fix, ...] = ()
    if len(largest.output_shape) == 3 and min(largest.output_shape[:2]) >= 2:
        fixes = (Fix("Insert a MaxPooling2D after it",
                     partial(with_pooling_after, index=largest.index)),)
    return [Advice("warning", largest.index, message, fixes)]


def _model_limits(spec: ModelSpec, summary: ModelSummary, host: Settings | None) -> list[Advice]:
    if host is None:
        return []
    return [Advice("warning", None, error.message)
            for error in model_limit_errors(len(spec.layers), summary.total_params, host)]


def advise(
    spec: ModelSpec,
    *,
    summary: ModelSummary | None = None,
    num_classes: int | None = None,
    host: Settings | None = None,
) -> tuple[Advice, ...]:
    """The error that stops the model (if any) first, then warnings in stack order.

    With `host`, the host's limits on the model (layers, parameters, feature-map memory)
    are warnings too."""
    summary = summary if summary is not None else summarize(spec)
    advice: list[Advice] = []
    if summary.error is not None:
        advice.append(_error_advice(spec, summary.error))
    warnings = [
        *_dense_on_image(spec, summary),
        *_classes(spec, summary, num_classes),
        *_heavy_dense(spec, summary),
        *_activation_memory(spec, summary, host),
        *_model_limits(spec, summary, host),
    ]
    warnings.sort(key=lambda item: -1 if item.layer_index is None else item.layer_index)
    return (*advice, *warnings)
