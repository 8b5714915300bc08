"""Which pixels of the input image one value of a layer depends on, and where a sliding
window of a layer sits in that layer's input.

Keras/TensorFlow's `padding="same"` pads `total = max((out − 1)·s + (k − 1)·d + 1 − in, 0)`
cells, `total // 2` before and the rest after (one more after when `total` is odd).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ReceptiveField",
    "pad_before",
    "receptive_field",
    "transpose_pad_before",
]

WHOLE_INPUT_LAYERS = frozenset({
    "Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Reshape",
})  # fmt: skip
SLIDING_LAYERS = frozenset({
    "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "MaxPool2D",
    "AveragePooling2D",
})  # fmt: skip


@dataclass(frozen=True)
class ReceptiveField:
    """Rows `top..bottom` and columns `left..right` (inclusive) of the input image."""

    top: int
    bottom: int
    left: int
    right: int
    whole: bool = False  # the value depends on every pixel (after Flatten, Dense, ...)

    @property
    def empty(self) -> bool:
        return self.top > self.bottom or self.left > self.right

    @property
    def height(self) -> int:
        return max(0, self.bottom - self.top + 1)

    @property
    def width(self) -> int:
        return max(0, self.right - self.left + 1)


def pad_before(padding: str, in_size: int, out_size: int, kernel: int, stride: int,
               dilation: int = 1) -> int:
    """Cells of zero padding before the first row (or column), as TensorFlow pads."""
    if padding != "same":
        return 0
    total = max((out_size - 1) * stride + (kernel - 1) * dilation + 1 - in_size, 0)
    return total // 2


def transpose_pad_before(padding: str, in_size: int, out_size: int, kernel: int, stride: int,
                         dilation: int = 1) -> int:
    """Conv2DTranspose is the gradient of a convolution from its output back to its input;
    this is that convolution's padding before the first row."""
    if padding != "same":
        return 0
    return max((in_size - 1) * stride + (kernel - 1) * dilation + 1 - out_size, 0) // 2


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def _sliding_span(first: int, last: int, stride: int, kernel: int, dilation: int,
                  before: int) -> tuple[int, int]:
    return first * stride - before, last * stride - before + (kernel - 1) * dilation


def _transpose_span(first: int, last: int, stride: int, kernel: int, dilation: int,
                    before: int) -> tuple[int, int]:
    low = first + before - (kernel - 1) * dilation
    return -(-low // stride), (last + before) // stride


def _upsampling_span(first: int, last: int, size: int, interpolation: str) -> tuple[int, int]:
    if interpolation in ("nearest", "area"):
        return first // size, last // size
    reach = 2 if interpolation == "bicubic" else 1
    return int((first + 0.5) / size - 0.5) - reach, int((last + 0.5) / size - 0.5) + reach


def _layer_window(layer: Any, class_name: str) -> tuple[tuple[int, int], tuple[int, int],
                                                        tuple[int, int]]:
    """(kernel, strides, dilation) of a sliding layer, each (rows, columns)."""
    if class_name in ("MaxPooling2D", "MaxPool2D", "AveragePooling2D"):
        return _pair(layer.pool_size), _pair(layer.strides), (1, 1)
    return _pair(layer.kernel_size), _pair(layer.strides), _pair(layer.dilation_rate)


def _step_back(layer: Any, in_shape: Sequence[int], out_shape: Sequence[int],
               rows: tuple[int, int], cols: tuple[int, int]) -> tuple[tuple[int, int],
                                                                     tuple[int, int]] | None:
    """The input rows and columns that output `rows` × `cols` of `layer` depend on;
    None when they depend on the whole input."""
    class_name = type(layer).__name__
    if len(in_shape) != 3 or len(out_shape) != 3 or class_name in WHOLE_INPUT_LAYERS:
        return None
    if class_name == "Softmax" and layer.axis not in (-1, 3):
        return None
    spans: list[tuple[int, int]] = []
    if class_name in SLIDING_LAYERS:
        kernel, strides, dilation = _layer_window(layer, class_name)
        for axis, (first, last) in enumerate((rows, cols)):
            before = pad_before(layer.padding, in_shape[axis], out_shape[axis], kernel[axis],
                                strides[axis], dilation[axis])
            spans.append(_sliding_span(first, last, strides[axis], kernel[axis],
                                       dilation[axis], before))
    elif class_name == "Conv2DTranspose":
        kernel, strides, dilation = _layer_window(layer, class_name)
        for axis, (first, last) in enumerate((rows, cols)):
            before = transpose_pad_before(layer.padding, in_shape[axis], out_shape[axis],
                                          kernel[axis], strides[axis], dilation[axis])
            spans.append(_transpose_span(first, last, strides[axis], kernel[axis],
                                         dilation[axis], before))
    elif class_name == "ZeroPadding2D":
        (top, _), (left, _) = layer.padding
        spans = [(rows[0] - top, rows[1] - top), (cols[0] - left, cols[1] - left)]
    elif class_name == "UpSampling2D":
        size = _pair(layer.size)
        spans = [_upsampling_span(first, last, size[axis], layer.interpolation)
                 for axis, (first, last) in enumerate((rows, cols))]
    else:  # one value in, one value out at the same place (activations, Dense per pixel, ...)
        spans = [rows, cols]
    clipped = [(max(first, 0), min(last, in_shape[axis] - 1))
               for axis, (first, last) in enumerate(spans)]
    return clipped[0], clipped[1]


def receptive_field(layers: Sequence[Any], shapes: Sequence[Sequence[int]], index: int,
                    at: Sequence[int]) -> ReceptiveField:
    """The input pixels that output `at` of `layers[index]` depends on.

    `shapes[0]` is the input image's (H, W, C), `shapes[i + 1]` the output shape of
    `layers[i]`, without the batch axis.
    """
    height, width = int(shapes[0][0]), int(shapes[0][1])
    whole = ReceptiveField(0, height - 1, 0, width - 1, whole=True)
    if len(shapes[index + 1]) != 3:
        return whole
    rows, cols = (int(at[0]), int(at[0])), (int(at[1]), int(at[1]))
    for position in range(index, -1, -1):
        step = _step_back(layers[position], shapes[position], shapes[position + 1], rows, cols)
        if step is None:
            return whole
        rows, cols = step
        if rows[0] > rows[1] or cols[0] > cols[1]:
            break
    return ReceptiveField(rows[0], rows[1], cols[0], cols[1])
