"""The arithmetic of shapes and parameters, each with the text that explains it.

`(3·3·1 + 1)·32 = 320`, `⌊(28 − 3)/1⌋ + 1 = 26`, `⌈28/2⌉ = 14`: the numbers Keras computes,
written the way a lesson writes them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "FieldOfView",
    "batch_norm_params",
    "by",
    "conv_params",
    "dense_params",
    "depthwise_params",
    "dilated_extent",
    "dot",
    "padding_formula",
    "prelu_params",
    "product",
    "reshape_formula",
    "separable_params",
    "transpose_formula",
    "transpose_output",
    "window_formula",
    "window_output",
]

Pair = tuple[int, int]


def product(values: Iterable[int]) -> int:
    return math.prod(values)


def dot(values: Iterable[int]) -> str:
    return "·".join(f"{value:,}" for value in values)


def by(values: Iterable[int]) -> str:
    return "×".join(str(value) for value in values)


def dilated_extent(kernel_size: Pair, dilation_rate: Pair) -> Pair:
    """The span a dilated kernel covers: (k − 1)·d + 1."""
    return (
        (kernel_size[0] - 1) * dilation_rate[0] + 1,
        (kernel_size[1] - 1) * dilation_rate[1] + 1,
    )


def window_output(sides: Pair, extent: Pair, strides: Pair, padding: str) -> Pair:
    # keras/src/ops/operation_utils.py compute_conv_output_shape / compute_pooling_output_shape
    if padding == "same":
        return (
            (sides[0] - 1) // strides[0] + 1,
            (sides[1] - 1) // strides[1] + 1,
        )
    return (
        (sides[0] - extent[0]) // strides[0] + 1,
        (sides[1] - extent[1]) // strides[1] + 1,
    )


def _axis_formula(side: int, kernel: int, dilation: int, stride: int, padding: str) -> str:
    if padding == "same":
        return f"⌈{side}/{stride}⌉ = {(side - 1) // stride + 1}"
    extent = (kernel - 1) * dilation + 1
    out = (side - extent) // stride + 1
    if dilation > 1:
        return f"⌊({side} − ({kernel} − 1)·{dilation} − 1)/{stride}⌋ + 1 = {out}"
    return f"⌊({side} − {kernel})/{stride}⌋ + 1 = {out}"


def window_formula(
    sides: Pair, kernel_size: Pair, dilation_rate: Pair, strides: Pair, padding: str
) -> str:
    """Output-size arithmetic of a sliding window, one formula if both axes agree."""
    height = _axis_formula(sides[0], kernel_size[0], dilation_rate[0], strides[0], padding)
    width = _axis_formula(sides[1], kernel_size[1], dilation_rate[1], strides[1], padding)
    return height if height == width else f"H: {height}; W: {width}"


def _transpose_axis(side: int, kernel: int, stride: int, dilation: int, padding: str,
                    output_padding: int | None) -> tuple[int, str]:
    # keras/src/backend/common/backend_utils.py _get_output_shape_given_tf_padding
    extent = (kernel - 1) * dilation + 1
    kernel_text = f"{kernel}" if dilation == 1 else f"(({kernel} − 1)·{dilation} + 1)"
    if padding == "same":
        if output_padding is None:
            return side * stride, f"{side}·{stride} = {side * stride}"
        out = (side - 1) * stride + extent % 2 + output_padding
        return out, f"({side} − 1)·{stride} + ({kernel_text} mod 2) + {output_padding} = {out}"
    pad = max(extent, stride) - extent if output_padding is None else output_padding
    out = (side - 1) * stride + extent + pad
    text = f"({side} − 1)·{stride} + {kernel_text}"
    return out, text + (f" + {pad}" if pad or output_padding is not None else "") + f" = {out}"


def transpose_output(sides: Pair, kernel_size: Pair, strides: Pair, dilation_rate: Pair,
                     padding: str, output_padding: Pair | None) -> Pair:
    """Conv2DTranspose's output height and width, as Keras computes them."""
    pads = output_padding or (None, None)
    return (
        _transpose_axis(sides[0], kernel_size[0], strides[0], dilation_rate[0], padding,
                        pads[0])[0],
        _transpose_axis(sides[1], kernel_size[1], strides[1], dilation_rate[1], padding,
                        pads[1])[0],
    )


def transpose_formula(sides: Pair, kernel_size: Pair, strides: Pair, dilation_rate: Pair,
                      padding: str, output_padding: Pair | None) -> str:
    """`(in − 1)·stride + kernel` (valid), `in·stride` (same), one formula if both axes agree."""
    pads = output_padding or (None, None)
    height = _transpose_axis(sides[0], kernel_size[0], strides[0], dilation_rate[0], padding,
                             pads[0])[1]
    width = _transpose_axis(sides[1], kernel_size[1], strides[1], dilation_rate[1], padding,
                            pads[1])[1]
    return height if height == width else f"H: {height}; W: {width}"


def reshape_formula(shape: tuple[int, ...], target_shape: tuple[int, ...],
                    resolved: tuple[int, ...]) -> str:
    size = product(shape)
    if -1 not in target_shape:
        return f"{dot(shape)} = {size:,} values → {by(resolved)}"
    known = [side for side in target_shape if side != -1]
    missing = resolved[target_shape.index(-1)]
    return (f"{dot(shape)} = {size:,} values; -1 = {size:,}/{product(known):,} = "
            f"{missing:,} → {by(resolved)}")


def prelu_params(alpha_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, str]:
    """One learned slope per value, or one per position along the axes not shared."""
    total = product(alpha_shape)
    if alpha_shape == shape:
        return total, f"one slope per value: {dot(alpha_shape)} = {total:,}"
    return total, f"one slope per unshared position: {dot(alpha_shape)} = {total:,}"


def padding_formula(sides: Pair, padding: tuple[Pair, Pair]) -> str:
    (top, bottom), (left, right) = padding
    height = f"{sides[0]} + {top} + {bottom} = {sides[0] + top + bottom}"
    width = f"{sides[1]} + {left} + {right} = {sides[1] + left + right}"
    return height if height == width else f"H: {height}; W: {width}"


def conv_params(kh: int, kw: int, in_channels: int, filters: int, use_bias: bool) -> tuple[
    int, str
]:
    if use_bias:
        total = (kh * kw * in_channels + 1) * filters
        return total, f"({kh}·{kw}·{in_channels:,} + 1)·{filters:,} = {total:,}"
    total = kh * kw * in_channels * filters
    return total, f"{kh}·{kw}·{in_channels:,}·{filters:,} = {total:,}"


def separable_params(
    kh: int, kw: int, in_channels: int, depth_multiplier: int, filters: int, use_bias: bool
) -> tuple[int, str]:
    depthwise = kh * kw * in_channels * depth_multiplier
    pointwise = in_channels * depth_multiplier * filters
    bias = filters if use_bias else 0
    total = depthwise + pointwise + bias
    text = f"{kh}·{kw}·{in_channels:,}·{depth_multiplier} + {in_channels:,}·{depth_multiplier}·" \
        f"{filters:,}"
    if use_bias:
        text += f" + {filters:,}"
    return total, f"{text} = {total:,}"


def depthwise_params(
    kh: int, kw: int, in_channels: int, depth_multiplier: int, use_bias: bool
) -> tuple[int, str]:
    kernel = kh * kw * in_channels * depth_multiplier
    bias = in_channels * depth_multiplier if use_bias else 0
    text = f"{kh}·{kw}·{in_channels:,}·{depth_multiplier}"
    if use_bias:
        text += f" + {in_channels:,}·{depth_multiplier}"
    return kernel + bias, f"{text} = {kernel + bias:,}"


def dense_params(inputs: int, units: int, use_bias: bool) -> tuple[int, str]:
    if use_bias:
        total = (inputs + 1) * units
        return total, f"({inputs:,} + 1)·{units:,} = {total:,}"
    total = inputs * units
    return total, f"{inputs:,}·{units:,} = {total:,}"


def batch_norm_params(channels: int, center: bool, scale: bool) -> tuple[int, int, str]:
    """γ (scale) and β (center) learn; the moving mean and variance do not."""
    learned = [name for name, present in (("γ", scale), ("β", center)) if present]
    trainable = len(learned) * channels
    non_trainable = 2 * channels
    parts = []
    if learned:
        parts.append(f"{', '.join(learned)}: {len(learned)}·{channels:,} = {trainable:,} trainable")
    parts.append(f"moving mean, variance: 2·{channels:,} = {non_trainable:,} non-trainable")
    if learned:
        parts.append(f"{trainable:,} + {non_trainable:,} = {trainable + non_trainable:,}")
    return trainable, non_trainable, "; ".join(parts)


@dataclass(frozen=True)
class FieldOfView:
    """Receptive field on the input: `size` pixels, output steps of `jump` input pixels."""

    size: Pair
    jump: Pair

    @classmethod
    def at_input(cls) -> FieldOfView:
        return cls((1, 1), (1, 1))

    def through(self, extent: Pair, strides: Pair) -> FieldOfView:
        return FieldOfView(
            (
                self.size[0] + (extent[0] - 1) * self.jump[0],
                self.size[1] + (extent[1] - 1) * self.jump[1],
            ),
            (self.jump[0] * strides[0], self.jump[1] * strides[1]),
        )
