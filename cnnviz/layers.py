"""One frozen dataclass per supported Keras layer.

Field names and defaults are exactly the Keras 3 constructor arguments; values are
normalised once, at construction (`3` → `(3, 3)`, `'linear'` → `None`), as Keras does.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cnnviz import backend_rules
from cnnviz import fields as f
from cnnviz.errors import SpecError

__all__ = [
    "IDENTITY_AT_INFERENCE",
    "INTERPOLATIONS",
    "LAYER_TYPES",
    "LAYER_ALIASES",
    "PASS_THROUGH",
    "LayerSpec",
    "Conv2DSpec",
    "SeparableConv2DSpec",
    "DepthwiseConv2DSpec",
    "Pooling2DSpec",
    "MaxPooling2DSpec",
    "AveragePooling2DSpec",
    "GlobalPooling2DSpec",
    "GlobalAveragePooling2DSpec",
    "GlobalMaxPooling2DSpec",
    "FlattenSpec",
    "DenseSpec",
    "DropoutSpec",
    "SpatialDropout2DSpec",
    "ActivationSpec",
    "BatchNormalizationSpec",
    "ZeroPadding2DSpec",
    "Conv2DTransposeSpec",
    "ReLUSpec",
    "LeakyReLUSpec",
    "ELUSpec",
    "PReLUSpec",
    "SoftmaxSpec",
    "ReshapeSpec",
    "UpSampling2DSpec",
    "auto_name",
]

Pair = tuple[int, int]

_PADDING = f.choice(("valid", "same"))
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")
_INTERPOLATION = f.choice(INTERPOLATIONS)


def _arg(coerce: f.Coercer, default: Any = dataclasses.MISSING, *, keras: bool = True) -> Any:
    """A field: coerced at construction; `keras=False` keeps it out of the Keras arguments."""
    return field(default=default, metadata={"coerce": coerce, "keras": keras})


def auto_name(class_name: str) -> str:
    """Keras's default layer name prefix: `SeparableConv2D` → `separable_conv2d`."""
    snake = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", class_name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", snake).lower()


@dataclass(frozen=True, kw_only=True)
class LayerSpec:
    """Common to every layer: Keras's `name` and `trainable` keyword arguments."""

    class_name: ClassVar[str] = "Layer"

    name: str | None = _arg(f.layer_name, None)
    trainable: bool = _arg(f.boolean, True)

    def __post_init__(self) -> None:
        for spec_field in dataclasses.fields(self):
            coerce = spec_field.metadata.get("coerce")
            if coerce is not None:
                value = getattr(self, spec_field.name)
                object.__setattr__(self, spec_field.name, coerce(value, spec_field.name))
        self.check()

    def check(self) -> None:
        """Rules that involve more than one field (Keras's constructor checks)."""

    def config(self, *, include_defaults: bool = False) -> dict[str, Any]:
        """The Keras constructor arguments, JSON-ready; only non-default ones unless asked."""
        config: dict[str, Any] = {}
        for spec_field in dataclasses.fields(self):
            if not spec_field.metadata.get("keras", True):
                continue
            value = getattr(self, spec_field.name)
            if not include_defaults and value == spec_field.default:
                continue
            config[spec_field.name] = _to_json(value)
        return config


def _to_json(value: Any) -> Any:
    if isinstance(value, f.Regularizer):
        return value.to_json()
    if isinstance(value, tuple):
        return [_to_json(item) for item in value]
    return value


def _check_strides_with_dilation(strides: Pair, dilation_rate: Pair) -> None:
    # keras/src/layers/convolutional/base_conv.py: "`strides > 1` not supported in
    # conjunction with `dilation_rate > 1`". Only Conv2D refuses it: Keras's separable and
    # depthwise bases accept the combination and compute it.
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise SpecError(
            "strides > 1 cannot be combined with dilation_rate > 1",
            field="strides",
            received=list(strides),
            fix="set strides to 1 or dilation_rate to 1",
            code="strides_with_dilation",
        )


def _check_equal_strides(strides: Pair, dilation_rate: Pair) -> None:
    # Where TensorFlow's depthwise kernel needs equal strides, Keras builds a depthwise or
    # separable layer with strides (1, 2) and fails on its first forward pass. With a
    # dilation > 1 Keras's TensorFlow backend runs the convolution at stride 1 and
    # subsamples it (keras/src/backend/tensorflow/nn.py,
    # `_depthwise_conv_stride_dilation_decomposition`), which takes any strides.
    if (strides[0] != strides[1] and max(dilation_rate) == 1
            and not backend_rules.depthwise_takes_unequal_strides()):
        raise SpecError(
            "this server's TensorFlow runs depthwise convolutions only with the same stride "
            "along height and width",
            field="strides",
            received=list(strides),
            fix=f"use one stride for both, e.g. {max(strides)} or [{max(strides)}, "
            f"{max(strides)}]",
        )


def _no_trainable_argument(value: Any, field_name: str) -> bool:
    if f.boolean(value, field_name) is not True:
        raise SpecError(
            "Keras's SpatialDropout2D has no weights and takes no trainable argument",
            field=field_name,
            received=value,
            fix="remove trainable from this layer",
        )
    return True


@dataclass(frozen=True, kw_only=True)
class Conv2DSpec(LayerSpec):
    class_name: ClassVar[str] = "Conv2D"

    filters: int = _arg(f.positive_int)
    kernel_size: Pair = _arg(f.int_pair)
    strides: Pair = _arg(f.int_pair, (1, 1))
    padding: str = _arg(_PADDING, "valid")
    data_format: None = _arg(f.data_format, None)
    dilation_rate: Pair = _arg(f.int_pair, (1, 1))
    groups: int = _arg(f.positive_int, 1)
    activation: str | None = _arg(f.activation, None)
    use_bias: bool = _arg(f.boolean, True)
    kernel_initializer: str = _arg(f.initializer, "glorot_uniform")
    bias_initializer: str = _arg(f.bias_initializer, "zeros")
    kernel_regularizer: f.Regularizer | None = _arg(f.regularizer, None)
    bias_regularizer: f.Regularizer | None = _arg(f.regularizer, None)

    def check(self) -> None:
        _check_strides_with_dilation(self.strides, self.dilation_rate)
        if self.filters % self.groups:
            raise SpecError(
                f"filters ({self.filters}) must be divisible by groups",
                field="groups",
                received=self.groups,
                fix="choose groups that divides filters, e.g. 1",
            )


@dataclass(frozen=True, kw_only=True)
class SeparableConv2DSpec(LayerSpec):
    class_name: ClassVar[str] = "SeparableConv2D"

    filters: int = _arg(f.positive_int)
    kernel_size: Pair = _arg(f.int_pair)
    strides: Pair = _arg(f.int_pair, (1, 1))
    padding: str = _arg(_PADDING, "valid")
    data_format: None = _arg(f.data_format, None)
    dilation_rate: Pair = _arg(f.int_pair, (1, 1))
    depth_multiplier: int = _arg(f.positive_int, 1)
    activation: str | None = _arg(f.activation, None)
    use_bias: bool = _arg(f.boolean, True)
    depthwise_initializer: str = _arg(f.initializer, "glorot_uniform")
    pointwise_initializer: str = _arg(f.initializer, "glorot_uniform")
    bias_initializer: str = _arg(f.bias_initializer, "zeros")
    depthwise_regularizer: f.Regularizer | None = _arg(f.regularizer, None)
    pointwise_regularizer: f.Regularizer | None = _arg(f.regularizer, None)
    bias_regularizer: f.Regularizer | None = _arg(f.regularizer, None)

    def check(self) -> None:
        _check_equal_strides(self.strides, self.dilation_rate)


@dataclass(frozen=True, kw_only=True)
class DepthwiseConv2DSpec(LayerSpec):
    class_name: ClassVar[str] = "DepthwiseConv2D"

    kernel_size: Pair = _arg(f.int_pair)
    strides: Pair = _arg(f.int_pair, (1, 1))
    padding: str = _arg(_PADDING, "valid")
    depth_multiplier: int = _arg(f.positive_int, 1)
    data_format: None = _arg(f.data_format, None)
    dilation_rate: Pair = _arg(f.int_pair, (1, 1))
    activation: str | None = _arg(f.activation, None)
    use_bias: bool = _arg(f.boolean, True)
    depthwise_initializer: str = _arg(f.initializer, "glorot_uniform")
    bias_initializer: str = _arg(f.bias_initializer, "zeros")
    depthwise_regularizer: f.Regularizer | None = _arg(f.regularizer, None)
    bias_regularizer: f.Regularizer | None = _arg(f.regularizer, None)

    def check(self) -> None:
        _check_equal_strides(self.strides, self.dilation_rate)


@dataclass(frozen=True, kw_only=True)
class Conv2DTransposeSpec(LayerSpec):
    """The "deconvolution": each input pixel stamps a kernel into a larger output."""

    class_name: ClassVar[str] = "Conv2DTranspose"

    filters: int = _arg(f.positive_int)
    kernel_size: Pair = _arg(f.int_pair)
    strides: Pair = _arg(f.int_pair, (1, 1))
    padding: str = _arg(_PADDING, "valid")
    output_padding: Pair | None = _arg(f.optional_non_negative_pair, None)
    data_format: None = _arg(f.data_format, None)
    dilation_rate: Pair = _arg(f.int_pair, (1, 1))
    activation: str | None = _arg(f.activation, None)
    use_bias: bool = _arg(f.boolean, True)
    kernel_initializer: str = _arg(f.initializer, "glorot_uniform")
    bias_initializer: str = _arg(f.bias_initializer, "zeros")
    kernel_regularizer: f.Regularizer | None = _arg(f.regularizer, None)
    bias_regularizer: f.Regularizer | None = _arg(f.regularizer, None)

    def check(self) -> None:
        # keras/src/layers/convolutional/base_conv_transpose.py: output_padding < strides.
        if self.output_padding is not None and any(
            pad >= stride for pad, stride in zip(self.output_padding, self.strides, strict=True)
        ):
            raise SpecError(
                "each output_padding must be smaller than the stride along that axis "
                f"(strides={list(self.strides)})",
                field="output_padding",
                received=list(self.output_padding),
                fix="remove output_padding or make it smaller than strides, e.g. 0",
            )
        _check_strides_with_dilation(self.strides, self.dilation_rate)


@dataclass(frozen=True, kw_only=True)
class Pooling2DSpec(LayerSpec):
    """A window slid over each channel (Keras's `BasePooling`); the siblings differ only
    in what they keep of it: the largest value or the mean. Not a layer type itself."""

    pool_size: Pair = _arg(f.int_pair, (2, 2))
    strides: Pair | None = _arg(f.optional_int_pair, None)
    padding: str = _arg(_PADDING, "valid")
    data_format: None = _arg(f.data_format, None)

    @property
    def effective_strides(self) -> Pair:
        return self.strides if self.strides is not None else self.pool_size


@dataclass(frozen=True, kw_only=True)
class MaxPooling2DSpec(Pooling2DSpec):
    class_name: ClassVar[str] = "MaxPooling2D"


@dataclass(frozen=True, kw_only=True)
class AveragePooling2DSpec(Pooling2DSpec):
    class_name: ClassVar[str] = "AveragePooling2D"

    pool_size: Pair = _arg(f.int_pair)  # required in Keras 3, unlike MaxPooling2D's


@dataclass(frozen=True, kw_only=True)
class GlobalPooling2DSpec(LayerSpec):
    """One value per channel over the whole map (Keras's `BaseGlobalPooling`): the largest
    or the mean. Not a layer type itself."""

    data_format: None = _arg(f.data_format, None)
    keepdims: bool = _arg(f.boolean, False)


@dataclass(frozen=True, kw_only=True)
class GlobalAveragePooling2DSpec(GlobalPooling2DSpec):
    class_name: ClassVar[str] = "GlobalAveragePooling2D"


@dataclass(frozen=True, kw_only=True)
class GlobalMaxPooling2DSpec(GlobalPooling2DSpec):
    class_name: ClassVar[str] = "GlobalMaxPooling2D"


@dataclass(frozen=True, kw_only=True)
class FlattenSpec(LayerSpec):
    class_name: ClassVar[str] = "Flatten"

    data_format: None = _arg(f.data_format, None)


@dataclass(frozen=True, kw_only=True)
class DenseSpec(LayerSpec):
    class_name: ClassVar[str] = "Dense"

    units: int = _arg(f.positive_int)
    activation: str | None = _arg(f.activation, None)
    use_bias: bool = _arg(f.boolean, True)
    kernel_initializer: str = _arg(f.initializer, "glorot_uniform")
    bias_initializer: str = _arg(f.bias_initializer, "zeros")
    kernel_regularizer: f.Regularizer | None = _arg(f.regularizer, None)
    bias_regularizer: f.Regularizer | None = _arg(f.regularizer, None)


@dataclass(frozen=True, kw_only=True)
class DropoutSpec(LayerSpec):
    class_name: ClassVar[str] = "Dropout"

    rate: float = _arg(f.probability)
    seed: int | None = _arg(f.optional_int, None)


@dataclass(frozen=True, kw_only=True)
class SpatialDropout2DSpec(LayerSpec):
    class_name: ClassVar[str] = "SpatialDropout2D"

    trainable: bool = _arg(_no_trainable_argument, True, keras=False)
    rate: float = _arg(f.probability)
    data_format: None = _arg(f.data_format, None)
    seed: int | None = _arg(f.optional_int, None)


@dataclass(frozen=True, kw_only=True)
class ActivationSpec(LayerSpec):
    class_name: ClassVar[str] = "Activation"

    activation: str | None = _arg(f.activation)


def _last_axis(value: Any, field_name: str) -> int:
    """-1, or 3 (the channels axis of an image; shapes.py refuses it on a flat input)."""
    if isinstance(value, bool) or value not in (-1, 3):
        raise SpecError(
            "cnnviz normalises the channels axis only (axis=-1)",
            field=field_name,
            received=value,
            fix="remove axis or set it to -1",
        )
    return int(value)


@dataclass(frozen=True, kw_only=True)
class BatchNormalizationSpec(LayerSpec):
    class_name: ClassVar[str] = "BatchNormalization"

    axis: int = _arg(_last_axis, -1)
    momentum: float = _arg(f.real_in_range(0.0, 1.0), 0.99)
    epsilon: float = _arg(f.real_in_range(0.0, 1.0, include_low=False), 0.001)
    center: bool = _arg(f.boolean, True)
    scale: bool = _arg(f.boolean, True)


@dataclass(frozen=True, kw_only=True)
class ZeroPadding2DSpec(LayerSpec):
    class_name: ClassVar[str] = "ZeroPadding2D"

    padding: tuple[Pair, Pair] = _arg(f.padding_pairs, ((1, 1), (1, 1)))
    data_format: None = _arg(f.data_format, None)


@dataclass(frozen=True, kw_only=True)
class ReLUSpec(LayerSpec):
    """max(x, 0), optionally capped (max_value=6: relu6), leaky below threshold."""

    class_name: ClassVar[str] = "ReLU"

    max_value: float | None = _arg(f.optional_non_negative_real, None)
    negative_slope: float = _arg(f.non_negative_real, 0.0)
    threshold: float = _arg(f.non_negative_real, 0.0)


@dataclass(frozen=True, kw_only=True)
class LeakyReLUSpec(LayerSpec):
    class_name: ClassVar[str] = "LeakyReLU"

    negative_slope: float = _arg(f.non_negative_real, 0.3)


@dataclass(frozen=True, kw_only=True)
class ELUSpec(LayerSpec):
    class_name: ClassVar[str] = "ELU"

    alpha: float = _arg(f.real_number, 1.0)


@dataclass(frozen=True, kw_only=True)
class PReLUSpec(LayerSpec):
    """A leaky ReLU whose slopes are learned: one per value, or shared along shared_axes."""

    class_name: ClassVar[str] = "PReLU"

    alpha_initializer: str = _arg(f.initializer, "zeros")
    alpha_regularizer: f.Regularizer | None = _arg(f.regularizer, None)
    shared_axes: tuple[int, ...] | None = _arg(f.axis_list, None)


@dataclass(frozen=True, kw_only=True)
class SoftmaxSpec(LayerSpec):
    class_name: ClassVar[str] = "Softmax"

    axis: int = _arg(f.integer, -1)


@dataclass(frozen=True, kw_only=True)
class ReshapeSpec(LayerSpec):
    class_name: ClassVar[str] = "Reshape"

    target_shape: tuple[int, ...] = _arg(f.target_shape)


@dataclass(frozen=True, kw_only=True)
class UpSampling2DSpec(LayerSpec):
    class_name: ClassVar[str] = "UpSampling2D"

    size: Pair = _arg(f.int_pair, (2, 2))
    data_format: None = _arg(f.data_format, None)
    interpolation: str = _arg(_INTERPOLATION, "nearest")


LAYER_TYPES: dict[str, type[LayerSpec]] = {
    cls.class_name: cls
    for cls in (
        Conv2DSpec,
        SeparableConv2DSpec,
        DepthwiseConv2DSpec,
        MaxPooling2DSpec,
        AveragePooling2DSpec,
        GlobalAveragePooling2DSpec,
        GlobalMaxPooling2DSpec,
        FlattenSpec,
        DenseSpec,
        DropoutSpec,
        SpatialDropout2DSpec,
        ActivationSpec,
        BatchNormalizationSpec,
        ZeroPadding2DSpec,
        Conv2DTransposeSpec,
        ReLUSpec,
        LeakyReLUSpec,
        ELUSpec,
        PReLUSpec,
        SoftmaxSpec,
        ReshapeSpec,
        UpSampling2DSpec,
    )
}

LAYER_ALIASES: dict[str, str] = {
    "MaxPool2D": "MaxPooling2D",
    "AvgPool2D": "AveragePooling2D",
    "GlobalAvgPool2D": "GlobalAveragePooling2D",
    "GlobalMaxPool2D": "GlobalMaxPooling2D",
    "Convolution2DTranspose": "Conv2DTranspose",
}

# The identity at inference: what comes out is what went in (they act only in training).
IDENTITY_AT_INFERENCE: tuple[type[LayerSpec], ...] = (DropoutSpec, SpatialDropout2DSpec)
# Pass-through layers: the output has the input's shape and each value comes from the same
# position's input alone, so no position is mixed with another.
PASS_THROUGH: tuple[type[LayerSpec], ...] = (
    *IDENTITY_AT_INFERENCE, ActivationSpec, BatchNormalizationSpec,
    ReLUSpec, LeakyReLUSpec, ELUSpec, PReLUSpec,
)
