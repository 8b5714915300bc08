"""How one value of one layer's output was computed, from the numbers the page already has.

`explain_value` takes the model, every layer's output for one image (one forward pass,
`extract_activations`) and the image, and rebuilds the chosen value in numpy from the
layer's input and its weights: the window it saw, the products and their sum, the bias,
the pre-activation and the activation. Keras is not run again. Products are computed in
float64 from Keras's float32 numbers, so they sum exactly to the pre-activation shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import numpy as np

from cnnviz.featuremaps.activations import LayerActivation
from cnnviz.featuremaps.receptive_field import (
    ReceptiveField,
    pad_before,
    receptive_field,
    transpose_pad_before,
)

__all__ = [
    "ExplainError",
    "Explanation",
    "Stage",
    "Terms",
    "Window",
    "apply_activation",
    "explain_value",
]

INPUT_NAME: Final = "input image"
_POOLING = ("MaxPooling2D", "MaxPool2D", "AveragePooling2D")
_PASS_THROUGH = ("Dropout", "SpatialDropout2D")


class ExplainError(ValueError):
    """A layer or position that cannot be explained; says what to choose instead."""


@dataclass(frozen=True, eq=False)
class Terms:
    """The numbers that make one sum: `inputs[i]·weights[i]` for each i, in float64.

    `input_at[i]` is where input i sits in the layer's input (row, column, channel or one
    index). For max pooling `weights` is None: the value is the largest input.
    """

    input_at: np.ndarray  # (n, rank) ints
    inputs: np.ndarray  # (n,)
    weights: np.ndarray | None  # (n,)

    @property
    def products(self) -> np.ndarray:
        if self.weights is None:
            return self.inputs
        return np.asarray(self.inputs * self.weights)

    @property
    def total(self) -> float:
        return float(np.sum(self.products))

    def __len__(self) -> int:
        return int(self.inputs.size)

    def channel_sums(self) -> list[tuple[int, int, float]]:
        """(input channel, number of products, their sum) per channel, channel order."""
        if self.input_at.shape[1] < 3 or not len(self):
            return []
        channels = self.input_at[:, -1]
        products = self.products
        return [(int(channel), int(np.count_nonzero(channels == channel)),
                 float(np.sum(products[channels == channel])))
                for channel in np.unique(channels)]

    def largest(self, count: int) -> np.ndarray:
        """Indices of the `count` products largest in size, largest first."""
        order = np.argsort(-np.abs(self.products), kind="stable")
        return order[:count]


@dataclass(frozen=True)
class Window:
    """The cells of the layer's input that the value saw: rows `top..bottom`, columns
    `left..right` (inclusive, before clipping to the input: outside it is zero padding),
    every `step` cells."""

    source: str  # the layer whose output is the input here, or "input image"
    source_index: int  # -1 for the input image
    top: int
    bottom: int
    left: int
    right: int
    row_step: int
    col_step: int
    channels: tuple[int, ...]
    source_shape: tuple[int, ...]

    @property
    def padded_cells(self) -> int:
        """Positions of the window (per channel) that fall on zero padding."""
        height, width = self.source_shape[0], self.source_shape[1]
        rows = range(self.top, self.bottom + 1, self.row_step)
        cols = range(self.left, self.right + 1, self.col_step)
        inside = sum(0 <= r < height for r in rows) * sum(0 <= c < width for c in cols)
        return len(rows) * len(cols) - inside


@dataclass(frozen=True, eq=False)
class Stage:
    """An intermediate sum, e.g. one depthwise channel of SeparableConv2D."""

    label: str
    terms: Terms

    @property
    def value(self) -> float:
        return self.terms.total


@dataclass(frozen=True, eq=False)
class Explanation:
    layer: str
    class_name: str
    index: int
    at: tuple[int, ...]
    value: float  # Keras's output at `at`
    operation: str  # weighted sum, max, mean, normalization, activation, copy, not explained
    pre_activation: float | None = None
    activation: str | None = None
    activated: float | None = None  # the activation of the pre-activation
    bias: float | None = None
    terms: Terms | None = None
    window: Window | None = None
    stages: tuple[Stage, ...] = ()
    source_at: tuple[int, ...] | None = None  # where a copied or element-wise value came from
    source_value: float | None = None
    parameters: dict[str, float] = field(default_factory=dict)  # BatchNormalization, PReLU...
    receptive_field: ReceptiveField | None = None
    note: str = ""

    @property
    def computed(self) -> float | None:
        """The value as rebuilt here (equal to `value` within float32 rounding)."""
        if self.pre_activation is not None and self.activation is not None:
            return self.activated
        return self.pre_activation


# ---- activations, in numpy ---------------------------------------------------------------

def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return np.asarray(shifted / np.sum(shifted, axis=-1, keepdims=True))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.logaddexp(0.0, x))


def _hard_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


_ERF = np.vectorize(math.erf, otypes=[np.float64])
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772, 1.0507009873554805
_ACTIVATIONS: Final[dict[str, Callable[[np.ndarray], np.ndarray]]] = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": _softmax,
    "log_softmax": lambda x: np.log(_softmax(x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "softplus": _softplus,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "swish": lambda x: x * _sigmoid(x),
    "silu": lambda x: x * _sigmoid(x),
    "gelu": lambda x: 0.5 * x * (1.0 + _ERF(x / math.sqrt(2.0))),
    "hard_sigmoid": _hard_sigmoid,
    "hard_silu": lambda x: x * _hard_sigmoid(x),
    "exponential": np.exp,
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "mish": lambda x: x * np.tanh(_softplus(x)),
}
_ACROSS_CHANNELS = ("softmax", "log_softmax")


def apply_activation(name: str, values: np.ndarray) -> np.ndarray:
    """Keras's activation `name` on float64 `values` (softmax over the last axis)."""
    try:
        function = _ACTIVATIONS[name]
    except KeyError:
        raise ExplainError(
            f"Expected an activation cnnviz can explain ({', '.join(sorted(_ACTIVATIONS))}). "
            f"Received: activation={name!r}"
        ) from None
    return np.asarray(function(np.asarray(values, dtype=np.float64)), dtype=np.float64)


def _activation_name(layer: Any) -> str:
    try:
        name = layer.get_config().get("activation", "linear")
    except (AttributeError, NotImplementedError):
        name = "linear"
    if not isinstance(name, str):
        name = getattr(layer.activation, "__name__", "unknown")
    return "linear" if name in (None, "None") else str(name)


# ---- the numbers of each kind of layer ---------------------------------------------------

def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def _numpy(variable: Any) -> np.ndarray:
    values: np.ndarray = np.asarray(variable.numpy() if hasattr(variable, "numpy") else variable)
    return values


@dataclass(frozen=True)
class _Slide:
    """Where a sliding window of one output cell lies in the input."""

    rows: np.ndarray  # the input row of each kernel row (may be outside the input)
    cols: np.ndarray
    window: Window


def _slide(layer: Any, source: LayerActivation | None, x_in: np.ndarray, out_shape: tuple[int, ...],
           row: int, col: int, kernel: tuple[int, int], strides: tuple[int, int],
           dilation: tuple[int, int], channels: Sequence[int]) -> _Slide:
    starts = []
    for axis, position in enumerate((row, col)):
        before = pad_before(layer.padding, x_in.shape[axis], out_shape[axis], kernel[axis],
                            strides[axis], dilation[axis])
        starts.append(position * strides[axis] - before)
    rows = starts[0] + dilation[0] * np.arange(kernel[0])
    cols = starts[1] + dilation[1] * np.arange(kernel[1])
    window = Window(
        source=source.name if source is not None else INPUT_NAME,
        source_index=source.index if source is not None else -1,
        top=int(rows[0]), bottom=int(rows[-1]), left=int(cols[0]), right=int(cols[-1]),
        row_step=dilation[0], col_step=dilation[1], channels=tuple(int(c) for c in channels),
        source_shape=tuple(int(side) for side in x_in.shape),
    )  # fmt: skip
    return _Slide(rows, cols, window)


def _window_terms(x_in: np.ndarray, slide: _Slide, channels: Sequence[int],
                  weights: np.ndarray | None) -> Terms:
    """Inputs inside the input (padding adds nothing), channel by channel, then row, column.

    `weights`: (kernel rows, kernel cols, len(channels)) or None (max pooling)."""
    height, width = x_in.shape[0], x_in.shape[1]
    ki = np.flatnonzero((slide.rows >= 0) & (slide.rows < height))
    kj = np.flatnonzero((slide.cols >= 0) & (slide.cols < width))
    kc = np.arange(len(channels))
    grid_c, grid_i, grid_j = (axis.ravel() for axis in np.meshgrid(kc, ki, kj, indexing="ij"))
    rows, cols = slide.rows[grid_i], slide.cols[grid_j]
    chans = np.asarray(channels, dtype=np.int64)[grid_c]
    inputs = x_in[rows, cols, chans].astype(np.float64)
    chosen = None if weights is None else weights[grid_i, grid_j, grid_c].astype(np.float64)
    return Terms(np.stack([rows, cols, chans], axis=1), inputs, chosen)


def _conv_terms(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
                out_shape: tuple[int, ...], row: int, col: int,
                filter_: int) -> tuple[Terms, Window]:
    kernel = _numpy(layer.kernel)
    groups = int(getattr(layer, "groups", 1) or 1)
    per_group = kernel.shape[2]
    group = filter_ // (kernel.shape[3] // groups)
    channels = range(group * per_group, (group + 1) * per_group)
    slide = _slide(layer, source, x_in, out_shape, row, col, _pair(layer.kernel_size),
                   _pair(layer.strides), _pair(layer.dilation_rate), channels)
    return _window_terms(x_in, slide, channels, kernel[:, :, :, filter_]), slide.window


def _bias(layer: Any, index: int) -> float | None:
    bias = getattr(layer, "bias", None)
    return None if bias is None else float(_numpy(bias)[index])


def _activate(layer: Any, pre: float, all_pre: Callable[[], np.ndarray],
              channel: int) -> tuple[str, float]:
    name = _activation_name(layer)
    if name in _ACROSS_CHANNELS:
        return name, float(apply_activation(name, all_pre())[channel])
    return name, float(apply_activation(name, np.array([pre]))[0])


def _conv2d(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
            out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    row, col, filter_ = at
    terms, window = _conv_terms(layer, source, x_in, out_shape, row, col, filter_)
    bias = _bias(layer, filter_)
    pre = terms.total + (bias or 0.0)

    def every_filter() -> np.ndarray:
        return np.array([_conv_terms(layer, source, x_in, out_shape, row, col, f)[0].total
                         + (_bias(layer, f) or 0.0) for f in range(out_shape[2])])

    name, activated = _activate(layer, pre, every_filter, filter_)
    return dict(operation="weighted sum", terms=terms, window=window, bias=bias,
                pre_activation=pre, activation=name, activated=activated)


def _depthwise_terms(layer: Any, kernel: np.ndarray, source: LayerActivation | None,
                     x_in: np.ndarray, out_shape: tuple[int, ...], row: int, col: int,
                     depth_channel: int) -> tuple[Terms, Window]:
    multiplier = kernel.shape[3]
    channel, copy = divmod(depth_channel, multiplier)
    slide = _slide(layer, source, x_in, out_shape, row, col, _pair(layer.kernel_size),
                   _pair(layer.strides), _pair(layer.dilation_rate), [channel])
    weights = kernel[:, :, channel:channel + 1, copy]
    return _window_terms(x_in, slide, [channel], weights), slide.window


def _depthwise(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
               out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    row, col, channel = at
    kernel = _numpy(layer.kernel)
    terms, window = _depthwise_terms(layer, kernel, source, x_in, out_shape, row, col, channel)
    bias = _bias(layer, channel)
    pre = terms.total + (bias or 0.0)

    def every_channel() -> np.ndarray:
        return np.array([_depthwise_terms(layer, kernel, source, x_in, out_shape, row, col, c)[0]
                         .total + (_bias(layer, c) or 0.0) for c in range(out_shape[2])])

    name, activated = _activate(layer, pre, every_channel, channel)
    return dict(operation="weighted sum", terms=terms, window=window, bias=bias,
                pre_activation=pre, activation=name, activated=activated)


def _separable(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
               out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    row, col, filter_ = at
    depthwise = _numpy(layer.depthwise_kernel)
    pointwise = _numpy(layer.pointwise_kernel)[0, 0]  # (C_in·multiplier, filters)
    stages = []
    window = None
    multiplier = depthwise.shape[3]
    for depth_channel in range(pointwise.shape[0]):
        terms, window = _depthwise_terms(layer, depthwise, source, x_in, out_shape, row, col,
                                         depth_channel)
        channel, copy = divmod(depth_channel, multiplier)
        label = f"depthwise {depth_channel}" + (f" (input channel {channel}, copy {copy})"
                                                if multiplier > 1 else "")
        stages.append(Stage(label, terms))
    assert window is not None
    depth_values = np.array([stage.value for stage in stages])
    full_window = replace(window, channels=tuple(range(x_in.shape[2])))
    positions = np.array([[row, col, j] for j in range(depth_values.size)], dtype=np.int64)
    terms = Terms(positions, depth_values, pointwise[:, filter_].astype(np.float64))
    bias = _bias(layer, filter_)
    pre = terms.total + (bias or 0.0)

    def every_filter() -> np.ndarray:
        biases = np.zeros(out_shape[2]) if layer.bias is None else _numpy(layer.bias)
        return np.asarray(depth_values @ pointwise.astype(np.float64) + biases)

    name, activated = _activate(layer, pre, every_filter, filter_)
    return dict(operation="weighted sum", terms=terms, window=full_window, bias=bias,
                stages=tuple(stages), pre_activation=pre, activation=name, activated=activated)


def _transpose_terms(layer: Any, x_in: np.ndarray, out_shape: tuple[int, ...], row: int,
                     col: int, filter_: int) -> Terms:
    kernel = _numpy(layer.kernel)  # (kh, kw, filters, C_in)
    sizes, strides, dilation = (_pair(layer.kernel_size), _pair(layer.strides),
                                _pair(layer.dilation_rate))
    hits: list[list[tuple[int, int]]] = []  # per axis: (input cell, kernel cell)
    for axis, position in enumerate((row, col)):
        before = transpose_pad_before(layer.padding, x_in.shape[axis], out_shape[axis],
                                      sizes[axis], strides[axis], dilation[axis])
        found = []
        for k in range(sizes[axis]):
            offset = position + before - k * dilation[axis]
            if offset % strides[axis] == 0 and 0 <= offset // strides[axis] < x_in.shape[axis]:
                found.append((offset // strides[axis], k))
        hits.append(found)
    at, inputs, weights = [], [], []
    for channel in range(x_in.shape[2]):
        for (i, ki) in hits[0]:
            for (j, kj) in hits[1]:
                at.append((i, j, channel))
                inputs.append(float(x_in[i, j, channel]))
                weights.append(float(kernel[ki, kj, filter_, channel]))
    return Terms(np.array(at, dtype=np.int64).reshape(-1, 3), np.array(inputs, dtype=np.float64),
                 np.array(weights, dtype=np.float64))


def _transpose(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
               out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    row, col, filter_ = at
    terms = _transpose_terms(layer, x_in, out_shape, row, col, filter_)
    bias = _bias(layer, filter_)
    pre = terms.total + (bias or 0.0)

    def every_filter() -> np.ndarray:
        return np.array([_transpose_terms(layer, x_in, out_shape, row, col, f).total
                         + (_bias(layer, f) or 0.0) for f in range(out_shape[2])])

    name, activated = _activate(layer, pre, every_filter, filter_)
    return dict(operation="weighted sum", terms=terms, bias=bias, pre_activation=pre,
                activation=name, activated=activated,
                note="Each input cell spreads its kernel over the output; these are the "
                     "input cells whose spread reaches this one.")


def _dense(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
           out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    unit = at[-1]
    column = _numpy(layer.kernel[:, unit]).astype(np.float64)  # not the whole kernel: VGG's
    vector = x_in[tuple(at[:-1])].astype(np.float64)           # first Dense is 400 MB
    prefix = np.tile(np.asarray(at[:-1], dtype=np.int64), (vector.size, 1))
    positions = np.concatenate([prefix, np.arange(vector.size)[:, None]], axis=1)
    terms = Terms(positions, vector, column)
    bias = _bias(layer, unit)
    pre = terms.total + (bias or 0.0)

    def every_unit() -> np.ndarray:
        kernel = _numpy(layer.kernel)
        biases = np.zeros(kernel.shape[1]) if layer.bias is None else _numpy(layer.bias)
        values = np.asarray(vector.astype(np.float32) @ kernel, dtype=np.float64) + biases
        values[unit] = pre
        return values

    name, activated = _activate(layer, pre, every_unit, unit)
    return dict(operation="weighted sum", terms=terms, bias=bias, pre_activation=pre,
                activation=name, activated=activated)


def _pooling(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
             out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    row, col, channel = at
    slide = _slide(layer, source, x_in, out_shape, row, col, _pair(layer.pool_size),
                   _pair(layer.strides), (1, 1), [channel])
    raw = _window_terms(x_in, slide, [channel], None)
    if type(layer).__name__ == "AveragePooling2D":
        weights = np.full(len(raw), 1.0 / max(1, len(raw)))
        terms = Terms(raw.input_at, raw.inputs, weights)
        return dict(operation="mean", terms=terms, window=slide.window,
                    pre_activation=terms.total)
    return dict(operation="max", terms=raw, window=slide.window,
                pre_activation=float(np.max(raw.inputs)))


def _global_pooling(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
                    out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    channel = at[-1]
    height, width = x_in.shape[0], x_in.shape[1]
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    positions = np.stack([rows.ravel(), cols.ravel(), np.full(rows.size, channel)], axis=1)
    inputs = x_in[:, :, channel].astype(np.float64).ravel()
    window = Window(source.name if source is not None else INPUT_NAME,
                    source.index if source is not None else -1, 0, height - 1, 0, width - 1,
                    1, 1, (channel,), tuple(int(side) for side in x_in.shape))
    if "Average" in type(layer).__name__:
        terms = Terms(positions, inputs, np.full(inputs.size, 1.0 / inputs.size))
        return dict(operation="mean", terms=terms, window=window, pre_activation=terms.total)
    terms = Terms(positions, inputs, None)
    return dict(operation="max", terms=terms, window=window,
                pre_activation=float(np.max(inputs)))


def _batch_norm(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
                out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    axis = int(layer.axis if not isinstance(layer.axis, (list, tuple)) else layer.axis[0])
    axis = axis - 1 if axis > 0 else len(out_shape) + axis
    channel = at[axis]
    x = float(x_in[at])
    mean = float(_numpy(layer.moving_mean)[channel])
    variance = float(_numpy(layer.moving_variance)[channel])
    gamma = 1.0 if layer.gamma is None else float(_numpy(layer.gamma)[channel])
    beta = 0.0 if layer.beta is None else float(_numpy(layer.beta)[channel])
    epsilon = float(layer.epsilon)
    result = (x - mean) / math.sqrt(variance + epsilon) * gamma + beta
    return dict(operation="normalization", source_at=at, source_value=x, pre_activation=result,
                parameters={"mean": mean, "variance": variance, "epsilon": epsilon,
                            "gamma": gamma, "beta": beta})


def _relu_layer(x: float, layer: Any) -> tuple[float, dict[str, float]]:
    slope = float(layer.negative_slope)
    threshold = float(layer.threshold)
    cap = None if layer.max_value is None else float(layer.max_value)
    result = x if x > threshold else 0.0
    if threshold == 0.0:
        result = max(x, 0.0)
    if cap is not None:
        result = min(max(result, 0.0), cap)
    if slope != 0.0:
        result -= slope * max(threshold - x, 0.0)
    parameters = {"negative_slope": slope, "threshold": threshold}
    if cap is not None:
        parameters["max_value"] = cap
    return result, parameters


def _elementwise(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
                 out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    class_name = type(layer).__name__
    x = float(x_in[at])
    parameters: dict[str, float] = {}
    name: str | None = None
    if class_name == "ReLU":
        result, parameters = _relu_layer(x, layer)
        name = "relu"
    elif class_name == "LeakyReLU":
        slope = float(layer.negative_slope)
        result, parameters, name = (x if x >= 0 else slope * x), {"negative_slope": slope}, \
            "leaky_relu"
    elif class_name == "ELU":
        alpha = float(layer.alpha)
        result, parameters, name = (x if x > 0 else alpha * math.expm1(x)), {"alpha": alpha}, \
            "elu"
    elif class_name == "PReLU":
        alphas = _numpy(layer.alpha)
        alpha = float(alphas[tuple(0 if alphas.shape[i] == 1 else at[i] for i in range(len(at)))])
        result, parameters, name = (x if x >= 0 else alpha * x), {"alpha": alpha}, "prelu"
    elif class_name == "Activation":
        name = _activation_name(layer)
        if name in _ACROSS_CHANNELS:
            result = float(apply_activation(name, x_in[tuple(at[:-1])])[at[-1]])
        else:
            result = float(apply_activation(name, np.array([x]))[0])
    else:
        raise AssertionError(class_name)
    return dict(operation="activation", source_at=at, source_value=x, pre_activation=x,
                activation=name, activated=result, parameters=parameters)


def _softmax_layer(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
                   out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    axis = layer.axis
    if not isinstance(axis, int):
        return _not_explained(layer, "a Softmax over several axes")
    if axis == 0:  # the batch axis: a batch of one gives 1 everywhere
        return dict(operation="activation", source_at=at, source_value=float(x_in[at]),
                    pre_activation=float(x_in[at]), activation="softmax", activated=1.0,
                    note="Softmax over the batch axis: one image, so every value is 1.")
    axis = axis - 1 if axis > 0 else len(at) + axis
    line = list(at)
    line[axis] = slice(None)  # type: ignore[call-overload]
    values = x_in[tuple(line)].astype(np.float64)
    result = float(_softmax(values)[at[axis]])
    return dict(operation="activation", source_at=at, source_value=float(x_in[at]),
                pre_activation=float(x_in[at]), activation="softmax", activated=result,
                note=f"exp of this value over the sum of exp of the {values.size} values along "
                     f"axis {layer.axis} (the largest subtracted first).")


def _moved(layer: Any, source: LayerActivation | None, x_in: np.ndarray,
           out_shape: tuple[int, ...], at: tuple[int, ...]) -> dict[str, Any]:
    class_name = type(layer).__name__
    if class_name in ("Flatten", "Reshape"):
        flat = int(np.ravel_multi_index(at, out_shape))
        where = tuple(int(i) for i in np.unravel_index(flat, x_in.shape))
        note = f"Value {flat} in row-major order, at the same place in the input."
    elif class_name == "ZeroPadding2D":
        (top, _), (left, _) = layer.padding
        where = (at[0] - top, at[1] - left, at[2])
        note = f"The input moved down {top} and right {left}."
        if not (0 <= where[0] < x_in.shape[0] and 0 <= where[1] < x_in.shape[1]):
            return dict(operation="copy", pre_activation=0.0,
                        note="A cell of the zero border this layer adds: 0.")
    elif class_name == "UpSampling2D":
        size = _pair(layer.size)
        if layer.interpolation != "nearest":
            return _not_explained(layer, f"{layer.interpolation} interpolation")
        where = (at[0] // size[0], at[1] // size[1], at[2])
        note = f"Each input cell repeated {size[0]}×{size[1]} times."
    else:  # Dropout in inference: nothing dropped, nothing scaled
        where = at
        note = "Dropout is off when predicting: the value passes through unchanged."
    return dict(operation="copy", source_at=where, source_value=float(x_in[where]),
                pre_activation=float(x_in[where]), note=note)


def _not_explained(layer: Any, what: str) -> dict[str, Any]:
    return dict(operation="not explained",
                note=f"{type(layer).__name__} with {what} is not explained value by value.")


_EXPLAINERS: Final[dict[str, Callable[..., dict[str, Any]]]] = {
    "Conv2D": _conv2d,
    "DepthwiseConv2D": _depthwise,
    "SeparableConv2D": _separable,
    "Conv2DTranspose": _transpose,
    "Dense": _dense,
    "MaxPooling2D": _pooling,
    "MaxPool2D": _pooling,
    "AveragePooling2D": _pooling,
    "GlobalAveragePooling2D": _global_pooling,
    "GlobalMaxPooling2D": _global_pooling,
    "BatchNormalization": _batch_norm,
    "ReLU": _elementwise,
    "LeakyReLU": _elementwise,
    "ELU": _elementwise,
    "PReLU": _elementwise,
    "Activation": _elementwise,
    "Softmax": _softmax_layer,
    "Flatten": _moved,
    "Reshape": _moved,
    "ZeroPadding2D": _moved,
    "UpSampling2D": _moved,
    "Dropout": _moved,
    "SpatialDropout2D": _moved,
}


def _layer_index(activations: Sequence[LayerActivation], layer: str | int) -> int:
    names = [activation.name for activation in activations]
    if isinstance(layer, int) and not isinstance(layer, bool):
        if 0 <= layer < len(names):
            return layer
    elif layer in names:
        return names.index(layer)
    raise ExplainError(f"Expected a layer of this model ({', '.join(names)}). "
                       f"Received: layer={layer!r}")


def _position(at: Sequence[int], shape: tuple[int, ...], name: str) -> tuple[int, ...]:
    position = tuple(int(i) for i in at)
    if len(shape) == 3 and len(position) == 2:
        position = (*position, 0)
    axes = ("row", "column", "channel") if len(shape) == 3 else ("index",) * len(shape)
    if len(position) != len(shape) or any(not 0 <= i < side for i, side in
                                          zip(position, shape, strict=True)):
        limits = ", ".join(f"{axis} 0–{side - 1}" for axis, side in zip(axes, shape, strict=True))
        raise ExplainError(f"Expected a position inside {name}'s output of shape {shape} "
                           f"({limits}). Received: at={position}")
    return position


def explain_value(model: Any, activations: Sequence[LayerActivation], image: np.ndarray,
                  layer: str | int, at: Sequence[int]) -> Explanation:
    """How `model`'s layer `layer` computed its output at `at` for `image`.

    `activations`: `extract_activations(model, image)`; `image`: the (H, W, C) model input.
    `at`: (row, column, channel) for maps ((row, column) means channel 0), (index,) for
    vectors.
    """
    index = _layer_index(activations, layer)
    current = activations[index]
    keras_layer = model.layers[index]
    at_tuple = _position(at, current.shape, current.name)
    source = activations[index - 1] if index > 0 else None
    x_in = np.asarray(source.output if source is not None else image, dtype=np.float32)
    if x_in.ndim == 4:
        x_in = x_in[0]
    explainer = _EXPLAINERS.get(current.class_name)
    if explainer is None:
        found: dict[str, Any] = _not_explained(keras_layer, "these settings")
    else:
        found = explainer(keras_layer, source, x_in, current.shape, at_tuple)
    shapes = [tuple(np.shape(image)[-3:]), *(activation.shape for activation in activations)]
    field_ = receptive_field(model.layers, shapes, index, at_tuple)
    if found.get("activation") == "linear":
        found["activated"] = found["pre_activation"]
    return Explanation(layer=current.name, class_name=current.class_name, index=index,
                       at=at_tuple, value=float(current.output[at_tuple]),
                       receptive_field=field_, **found)
