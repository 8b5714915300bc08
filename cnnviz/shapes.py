"""Output shapes, parameter counts and the arithmetic behind them, as Keras computes them.

Pure integer arithmetic: this module imports neither TensorFlow nor Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnnviz import formulas as fx
from cnnviz.errors import SpecError
from cnnviz.layers import (
    ActivationSpec,
    AveragePooling2DSpec,
    BatchNormalizationSpec,
    Conv2DSpec,
    Conv2DTransposeSpec,
    DenseSpec,
    DepthwiseConv2DSpec,
    DropoutSpec,
    ELUSpec,
    FlattenSpec,
    GlobalAveragePooling2DSpec,
    GlobalMaxPooling2DSpec,
    GlobalPooling2DSpec,
    LayerSpec,
    LeakyReLUSpec,
    MaxPooling2DSpec,
    Pooling2DSpec,
    PReLUSpec,
    ReLUSpec,
    ReshapeSpec,
    SeparableConv2DSpec,
    SoftmaxSpec,
    SpatialDropout2DSpec,
    UpSampling2DSpec,
    ZeroPadding2DSpec,
)
from cnnviz.spec import ModelSpec

__all__ = [
    "BYTES_PER_VALUE",
    "LayerSummary",
    "ModelSummary",
    "summarize",
    "validate",
    "readable_size",
]

BYTES_PER_VALUE = 4  # float32
Shape = tuple[int, ...]  # without the batch axis: (H, W, C) or (N,)
Pair = tuple[int, int]


@dataclass(frozen=True)
class LayerSummary:
    index: int
    name: str
    class_name: str
    input_shape: Shape
    output_shape: Shape
    trainable_params: int
    non_trainable_params: int
    param_formula: str
    shape_formula: str
    macs: int
    receptive_field: Pair | None  # on the input, in pixels; None once the map is flattened

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def keras_output_shape(self) -> tuple[int | None, ...]:
        return (None, *self.output_shape)

    @property
    def output_values(self) -> int:
        return fx.product(self.output_shape)

    @property
    def output_bytes(self) -> int:
        return self.output_values * BYTES_PER_VALUE


@dataclass(frozen=True)
class ModelSummary:
    """Every layer up to the first invalid one; `error` says what stopped it, if anything."""

    spec: ModelSpec
    layers: tuple[LayerSummary, ...]
    error: SpecError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def trainable_params(self) -> int:
        return sum(layer.trainable_params for layer in self.layers)

    @property
    def non_trainable_params(self) -> int:
        return sum(layer.non_trainable_params for layer in self.layers)

    @property
    def total_params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    @property
    def total_macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def activation_bytes(self) -> int:
        """Float32 bytes of every layer's output for one image (input included)."""
        input_bytes = fx.product(self.spec.input_shape) * BYTES_PER_VALUE
        return input_bytes + sum(layer.output_bytes for layer in self.layers)

    @property
    def output_shape(self) -> Shape:
        return self.layers[-1].output_shape if self.layers else self.spec.input_shape


def readable_size(num_bytes: float) -> str:
    """Keras's `readable_memory_size` (keras/src/utils/summary_utils.py): 1024-based, 2 dp."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes / 1024 < 1:
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"


@dataclass
class _Outcome:
    output_shape: Shape
    shape_formula: str
    trainable: int = 0
    non_trainable: int = 0
    param_formula: str = "0 (no weights)"
    macs: int = 0
    window: tuple[Pair, Pair] | None = None  # (kernel extent, strides) for the receptive field
    flattens: bool = False
    ends_field_of_view: bool = False  # positions move or spread: no whole-pixel field any more


def _require_image(shape: Shape, layer: LayerSpec) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise SpecError(
            f"{layer.class_name} needs an image-shaped input (height, width, channels), "
            f"but it receives a flat vector of {shape[0]:,} values",
            fix="move this layer above the Flatten or global pooling layer",
            code="flat_input",
        )
    return shape[0], shape[1], shape[2]


def _conv_outcome(layer: Conv2DSpec | SeparableConv2DSpec | DepthwiseConv2DSpec,
                  shape: Shape) -> tuple[tuple[int, int, int], Pair, str]:
    height, width, channels = _require_image(shape, layer)
    extent = fx.dilated_extent(layer.kernel_size, layer.dilation_rate)
    sides = fx.window_output((height, width), extent, layer.strides, layer.padding)
    if min(sides) <= 0:
        raise SpecError(
            f"the {fx.by(extent)} kernel"
            + ("" if extent == layer.kernel_size else " (after dilation)")
            + f" is larger than its {height}×{width} input, so the output would be empty",
            field="kernel_size",
            received=list(layer.kernel_size),
            fix="use padding='same', a smaller kernel_size, or fewer pooling layers before it",
        )
    formula = fx.window_formula((height, width), layer.kernel_size, layer.dilation_rate,
                                layer.strides, layer.padding)
    return (height, width, channels), (sides[0], sides[1]), formula


def _conv2d(layer: Conv2DSpec, shape: Shape) -> _Outcome:
    (_, _, channels), (out_h, out_w), formula = _conv_outcome(layer, shape)
    if channels % layer.groups:
        raise SpecError(
            f"the {channels} input channels must be divisible by groups",
            field="groups",
            received=layer.groups,
            fix="choose groups that divides both the input channels and filters, e.g. 1",
        )
    kh, kw = layer.kernel_size
    per_group = channels // layer.groups
    params, text = fx.conv_params(kh, kw, per_group, layer.filters, layer.use_bias)
    return _Outcome(
        (out_h, out_w, layer.filters),
        f"{formula} → {fx.by((out_h, out_w, layer.filters))}",
        params, 0, text,
        macs=out_h * out_w * kh * kw * per_group * layer.filters,
        window=(fx.dilated_extent(layer.kernel_size, layer.dilation_rate), layer.strides),
    )


def _separable(layer: SeparableConv2DSpec, shape: Shape) -> _Outcome:
    (_, _, channels), (out_h, out_w), formula = _conv_outcome(layer, shape)
    kh, kw = layer.kernel_size
    params, text = fx.separable_params(
        kh, kw, channels, layer.depth_multiplier, layer.filters, layer.use_bias
    )
    depthwise_macs = out_h * out_w * kh * kw * channels * layer.depth_multiplier
    pointwise_macs = out_h * out_w * channels * layer.depth_multiplier * layer.filters
    return _Outcome(
        (out_h, out_w, layer.filters),
        f"{formula} → {fx.by((out_h, out_w, layer.filters))}",
        params, 0, text,
        macs=depthwise_macs + pointwise_macs,
        window=(fx.dilated_extent(layer.kernel_size, layer.dilation_rate), layer.strides),
    )


def _depthwise(layer: DepthwiseConv2DSpec, shape: Shape) -> _Outcome:
    (_, _, channels), (out_h, out_w), formula = _conv_outcome(layer, shape)
    kh, kw = layer.kernel_size
    out_channels = channels * layer.depth_multiplier
    params, text = fx.depthwise_params(kh, kw, channels, layer.depth_multiplier, layer.use_bias)
    return _Outcome(
        (out_h, out_w, out_channels),
        f"{formula} → {fx.by((out_h, out_w, out_channels))}",
        params, 0, text,
        macs=out_h * out_w * kh * kw * out_channels,
        window=(fx.dilated_extent(layer.kernel_size, layer.dilation_rate), layer.strides),
    )


def _pooling(layer: Pooling2DSpec, shape: Shape) -> _Outcome:
    height, width, channels = _require_image(shape, layer)
    strides = layer.effective_strides
    sides = fx.window_output((height, width), layer.pool_size, strides, layer.padding)
    if min(sides) <= 0:
        raise SpecError(
            f"the {fx.by(layer.pool_size)} pooling window is larger than its "
            f"{height}×{width} input, so the output would be empty",
            field="pool_size",
            received=list(layer.pool_size),
            fix="remove this pooling layer, use a smaller pool_size, or padding='same'",
        )
    formula = fx.window_formula((height, width), layer.pool_size, (1, 1), strides, layer.padding)
    out = (sides[0], sides[1], channels)
    return _Outcome(out, f"{formula} → {fx.by(out)}", window=(layer.pool_size, strides))


def _global_pooling(layer: GlobalPooling2DSpec, shape: Shape) -> _Outcome:
    height, width, channels = _require_image(shape, layer)
    how = "max" if isinstance(layer, GlobalMaxPooling2DSpec) else "mean"
    if layer.keepdims:
        return _Outcome((1, 1, channels), f"{how} over {height}×{width} → 1×1×{channels}",
                        window=((height, width), (height, width)))
    return _Outcome((channels,), f"{how} over {height}×{width} → {channels}", flattens=True)


def _flatten(layer: FlattenSpec, shape: Shape) -> _Outcome:
    size = fx.product(shape)
    if len(shape) == 1:
        return _Outcome(shape, "already flat → " + f"{size:,}", flattens=True)
    return _Outcome((size,), f"{fx.dot(shape)} = {size:,}", flattens=True)


def _dense(layer: DenseSpec, shape: Shape) -> _Outcome:
    inputs = shape[-1]
    params, text = fx.dense_params(inputs, layer.units, layer.use_bias)
    positions = fx.product(shape[:-1])
    out = (*shape[:-1], layer.units)
    if len(shape) == 1:
        formula = f"units = {layer.units:,}"
    else:
        formula = (f"applied at each of the {fx.by(shape[:-1])} positions → {fx.by(out)}")
    return _Outcome(out, formula, params, 0, text, macs=positions * inputs * layer.units)


def _batch_norm(layer: BatchNormalizationSpec, shape: Shape) -> _Outcome:
    if layer.axis >= len(shape) + 1:
        raise SpecError(
            f"axis {layer.axis} does not exist in a flat input of {shape[0]:,} values",
            field="axis",
            received=layer.axis,
            fix="set axis to -1 (the last axis)",
        )
    channels = shape[-1]
    trainable, non_trainable, text = fx.batch_norm_params(channels, layer.center, layer.scale)
    return _Outcome(shape, "same as input", trainable, non_trainable, text)


def _zero_padding(layer: ZeroPadding2DSpec, shape: Shape) -> _Outcome:
    height, width, channels = _require_image(shape, layer)
    (top, bottom), (left, right) = layer.padding
    out = (height + top + bottom, width + left + right, channels)
    formula = fx.padding_formula((height, width), layer.padding)
    return _Outcome(out, f"{formula} → {fx.by(out)}")


def _check_transpose_same_padding(layer: Conv2DTransposeSpec, sides: Pair,
                                  out: Pair) -> None:
    # With padding='same' and an output_padding, Keras asks for (in − 1)·stride + k mod 2 +
    # output_padding; TensorFlow's 'same' transposed convolution runs only when that output
    # comes back to `in` pixels (⌈out/stride⌉ = in): never with an even (dilated) kernel and
    # output_padding 0, where Keras builds the layer and the first forward pass fails.
    if layer.padding != "same" or layer.output_padding is None:
        return
    extent = fx.dilated_extent(layer.kernel_size, layer.dilation_rate)
    for axis, name in enumerate(("height", "width")):
        if extent[axis] % 2 == 0 and layer.output_padding[axis] == 0:
            empty = " (an empty output)" if out[axis] <= 0 else ""
            raise SpecError(
                f"with padding='same' and output_padding, an even kernel along the {name} "
                f"({extent[axis]}) and output_padding 0 give {sides[axis]} → {out[axis]} "
                f"pixels{empty}, which TensorFlow's transposed convolution cannot produce",
                field="output_padding",
                received=list(layer.output_padding),
                fix="remove output_padding (the output is then in·stride), use an odd "
                "kernel_size, or output_padding 1 with strides 2 or more",
            )


def _conv_transpose(layer: Conv2DTransposeSpec, shape: Shape) -> _Outcome:
    height, width, channels = _require_image(shape, layer)
    sides = fx.transpose_output((height, width), layer.kernel_size, layer.strides,
                                layer.dilation_rate, layer.padding, layer.output_padding)
    formula = fx.transpose_formula((height, width), layer.kernel_size, layer.strides,
                                   layer.dilation_rate, layer.padding, layer.output_padding)
    _check_transpose_same_padding(layer, (height, width), sides)
    kh, kw = layer.kernel_size
    params, text = fx.conv_params(kh, kw, channels, layer.filters, layer.use_bias)
    out = (sides[0], sides[1], layer.filters)
    return _Outcome(out, f"{formula} → {fx.by(out)}", params, 0, text,
                    macs=height * width * kh * kw * channels * layer.filters,
                    ends_field_of_view=True)


def _prelu(layer: PReLUSpec, shape: Shape) -> _Outcome:
    alpha_shape = list(shape)
    for axis in layer.shared_axes or ():
        if axis > len(shape):
            where = "an image has axes 1, 2 and 3" if len(shape) == 3 else (
                "a flat vector has only axis 1")
            raise SpecError(
                f"axis {axis} does not exist here: {where}",
                field="shared_axes",
                received=list(layer.shared_axes or ()),
                fix="use axes up to " + str(len(shape)) + ", or remove shared_axes",
                code="flat_input" if len(shape) == 1 else None,
            )
        alpha_shape[axis - 1] = 1
    if layer.alpha_initializer == "orthogonal" and len(alpha_shape) < 2:
        raise SpecError(
            "'orthogonal' needs a matrix, but on a flat input the slopes are a vector",
            field="alpha_initializer",
            received=layer.alpha_initializer,
            fix="remove alpha_initializer (Keras's default is 'zeros')",
        )
    params, text = fx.prelu_params(tuple(alpha_shape), shape)
    return _Outcome(shape, "same as input", params, 0, text)


def _softmax(layer: SoftmaxSpec, shape: Shape) -> _Outcome:
    rank = len(shape) + 1  # the batch axis counts, as in Keras
    if not -rank <= layer.axis < rank:
        raise SpecError(
            f"axis {layer.axis} does not exist in an input of {rank} axes (batch, "
            + ", ".join(map(str, shape)) + ")",
            field="axis",
            received=layer.axis,
            fix="set axis to -1 (the last axis)",
        )
    return _Outcome(shape, "same as input")


def _reshape(layer: ReshapeSpec, shape: Shape) -> _Outcome:
    size = fx.product(shape)
    known = fx.product(side for side in layer.target_shape if side != -1)
    target = tuple(size // known if side == -1 and known else side
                   for side in layer.target_shape)
    if known == 0 or fx.product(target) != size:
        raise SpecError(
            f"{fx.dot(shape)} = {size:,} values cannot be laid out as "
            f"{fx.by(layer.target_shape)}" + ("" if -1 not in layer.target_shape else
                                                " (-1 stands for whatever is left)"),
            field="target_shape",
            received=list(layer.target_shape),
            fix="choose sizes whose product is " + f"{size:,}" + ", or put -1 in one place",
        )
    formula = fx.reshape_formula(shape, layer.target_shape, target)
    return _Outcome(target, formula, flattens=len(target) == 1,
                    ends_field_of_view=target != shape)


def _upsampling(layer: UpSampling2DSpec, shape: Shape) -> _Outcome:
    height, width, channels = _require_image(shape, layer)
    (sy, sx) = layer.size
    out = (height * sy, width * sx, channels)
    formula = f"{height}·{sy} = {out[0]}" if (height, sy) == (width, sx) else (
        f"H: {height}·{sy} = {out[0]}; W: {width}·{sx} = {out[1]}")
    return _Outcome(out, f"{formula} → {fx.by(out)}", ends_field_of_view=True)


def _passthrough(layer: LayerSpec, shape: Shape) -> _Outcome:
    if isinstance(layer, SpatialDropout2DSpec):
        _require_image(shape, layer)
    return _Outcome(shape, "same as input")


_RULES: dict[type[LayerSpec], Callable[..., _Outcome]] = {
    Conv2DSpec: _conv2d,
    SeparableConv2DSpec: _separable,
    DepthwiseConv2DSpec: _depthwise,
    MaxPooling2DSpec: _pooling,
    AveragePooling2DSpec: _pooling,
    GlobalAveragePooling2DSpec: _global_pooling,
    GlobalMaxPooling2DSpec: _global_pooling,
    FlattenSpec: _flatten,
    DenseSpec: _dense,
    DropoutSpec: _passthrough,
    SpatialDropout2DSpec: _passthrough,
    ActivationSpec: _passthrough,
    BatchNormalizationSpec: _batch_norm,
    ZeroPadding2DSpec: _zero_padding,
    Conv2DTransposeSpec: _conv_transpose,
    ReLUSpec: _passthrough,
    LeakyReLUSpec: _passthrough,
    ELUSpec: _passthrough,
    PReLUSpec: _prelu,
    SoftmaxSpec: _softmax,
    ReshapeSpec: _reshape,
    UpSampling2DSpec: _upsampling,
}


def summarize(spec: ModelSpec) -> ModelSummary:
    """Summarise every layer in order; stop at the first one Keras would reject."""
    names = spec.layer_names()
    shape: Shape = spec.input_shape
    field_of_view: fx.FieldOfView | None = fx.FieldOfView.at_input()
    summaries: list[LayerSummary] = []
    for index, layer in enumerate(spec.layers):
        try:
            outcome = _RULES[type(layer)](layer, shape)
        except SpecError as error:
            return ModelSummary(spec, tuple(summaries), error.at_layer(spec.layer_ref(index)))
        trainable, non_trainable = outcome.trainable, outcome.non_trainable
        formula = outcome.param_formula
        if not layer.trainable and trainable:
            trainable, non_trainable = 0, trainable + non_trainable
            formula += " — all non-trainable (trainable=False)"
        if outcome.flattens or outcome.ends_field_of_view:
            field_of_view = None
        elif field_of_view is not None and outcome.window is not None:
            field_of_view = field_of_view.through(*outcome.window)
        summaries.append(LayerSummary(
            index=index,
            name=names[index],
            class_name=layer.class_name,
            input_shape=shape,
            output_shape=outcome.output_shape,
            trainable_params=trainable,
            non_trainable_params=non_trainable,
            param_formula=formula,
            shape_formula=outcome.shape_formula,
            macs=outcome.macs,
            receptive_field=field_of_view.size if field_of_view is not None else None,
        ))
        shape = outcome.output_shape
    return ModelSummary(spec, tuple(summaries))


def validate(spec: ModelSpec) -> ModelSummary:
    """`summarize`, raising the first `SpecError` instead of returning it."""
    summary = summarize(spec)
    if summary.error is not None:
        raise summary.error
    return summary
