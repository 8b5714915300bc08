"""Convolution kernels as small images: the first layer's filters (RGB for RGB input),
any layer's kernels for one input channel, and SeparableConv2D's two parts apart.

Weights are signed, so zero is drawn mid-scale: grey for RGB filters, near-white on the
diverging "coolwarm" map otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from PIL import Image

from cnnviz.featuremaps.colormaps import apply_colormap
from cnnviz.featuremaps.mosaic import DEFAULT_MAX_PIXELS, encode_png, tile_mosaic

if TYPE_CHECKING:
    import keras

__all__ = [
    "KERNEL_LAYER_TYPES",
    "KERNEL_TILE",
    "FilterError",
    "LayerKernels",
    "depthwise_png",
    "first_layer_filters",
    "first_layer_filters_png",
    "input_channel_kernels_png",
    "kernel_layer_names",
    "layer_kernels",
    "pointwise_png",
    "signed_to_unit",
]

KERNEL_LAYER_TYPES: Final = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")
KERNEL_TILE: Final = 64  # a 3×3 kernel is drawn at least this wide


class FilterError(ValueError):
    """Kernels that cannot be drawn as asked; says what was expected."""


@dataclass(frozen=True, eq=False)
class LayerKernels:
    """The kernels of one convolution layer, as numpy arrays."""

    index: int
    name: str
    class_name: str
    kernel: np.ndarray | None = None  # Conv2D: (kh, kw, in, out)
    depthwise: np.ndarray | None = None  # (kh, kw, in, multiplier)
    pointwise: np.ndarray | None = None  # SeparableConv2D: (in · multiplier, out)

    @property
    def input_channels(self) -> int:
        weights = self.kernel if self.kernel is not None else self.depthwise
        assert weights is not None
        return int(weights.shape[2])


def _numpy(variable: Any) -> np.ndarray:
    import keras

    return np.asarray(keras.ops.convert_to_numpy(variable), dtype=np.float32)


def kernel_layer_names(model: keras.Model) -> list[str]:
    """Names of the Conv2D, SeparableConv2D and DepthwiseConv2D layers, in model order."""
    return [layer.name for layer in model.layers if type(layer).__name__ in KERNEL_LAYER_TYPES]


def layer_kernels(model: keras.Model, name: str) -> LayerKernels:
    """One convolution layer's kernels as numpy arrays (only that layer's are copied)."""
    names = [layer.name for layer in model.layers]
    if name not in names:
        raise FilterError(f"The model has no layer named {name!r}.")
    index = names.index(name)
    layer = model.layers[index]
    class_name = type(layer).__name__
    if class_name == "Conv2D":
        return LayerKernels(index, name, class_name, kernel=_numpy(layer.kernel))
    if class_name == "DepthwiseConv2D":
        return LayerKernels(index, name, class_name, depthwise=_numpy(layer.kernel))
    if class_name == "SeparableConv2D":
        pointwise = _numpy(layer.pointwise_kernel)
        return LayerKernels(
            index, name, class_name,
            depthwise=_numpy(layer.depthwise_kernel),
            pointwise=pointwise.reshape(pointwise.shape[2], pointwise.shape[3]),
        )  # fmt: skip
    raise FilterError(
        f"Layer {name!r} is a {class_name}, which has no convolution kernels — choose one of "
        + ", ".join(KERNEL_LAYER_TYPES)
    )


def signed_to_unit(values: np.ndarray, peak: float | None = None) -> np.ndarray:
    """Signed values → [0, 1] with 0 at 0.5; ±`peak` (default: the largest |value|) at 0 and 1."""
    array = np.asarray(values, dtype=np.float32)
    top = float(np.max(np.abs(array))) if peak is None and array.size else float(peak or 0.0)
    if top <= 0 or not math.isfinite(top):
        return np.full(array.shape, 0.5, dtype=np.float32)
    unit: np.ndarray = np.clip(0.5 + 0.5 * array / top, 0.0, 1.0).astype(np.float32)
    return unit


def _check_kernel(kernel: np.ndarray, what: str = "kernel") -> np.ndarray:
    array = np.asarray(kernel, dtype=np.float32)
    if array.ndim != 4:
        raise FilterError(
            f"Expected a {what} of shape (kernel height, kernel width, in, out). "
            f"Received: shape={array.shape}"
        )
    return array


def first_layer_filters(kernel: np.ndarray) -> np.ndarray:
    """A first layer's filters as images: (out, kh, kw, 3) when the input is RGB, else
    (out, kh, kw) per filter; each filter scaled on its own largest |weight|."""
    array = _check_kernel(kernel)
    filters = np.moveaxis(array, 3, 0)  # (out, kh, kw, in)
    peaks = np.max(np.abs(filters), axis=(1, 2, 3), keepdims=True)
    safe = np.where(peaks > 0, peaks, 1.0)
    unit = np.clip(0.5 + 0.5 * filters / safe, 0.0, 1.0).astype(np.float32)
    if array.shape[2] == 3:
        return unit
    if array.shape[2] == 1:
        return unit[..., 0]
    raise FilterError(
        "Expected a first layer with 1 or 3 input channels to draw whole filters. "
        f"Received: {array.shape[2]} input channels — view them one input channel at a time."
    )


def first_layer_filters_png(kernel: np.ndarray) -> bytes:
    """All filters of a first layer in one image, numbered; RGB for RGB input."""
    images = first_layer_filters(kernel)
    labels = [str(number) for number in range(images.shape[0])]
    image, _ = tile_mosaic(images, labels=labels, colormap="coolwarm", min_tile=KERNEL_TILE)
    return encode_png(image)


def input_channel_kernels_png(kernel: np.ndarray, input_channel: int) -> bytes:
    """Every output filter's kernel on one input channel, on the layer's common scale."""
    array = _check_kernel(kernel)
    if not 0 <= input_channel < array.shape[2]:
        raise FilterError(
            f"Expected an input channel from 0 to {array.shape[2] - 1}. "
            f"Received: input_channel={input_channel}"
        )
    tiles = np.moveaxis(signed_to_unit(array[:, :, input_channel, :], _peak(array)), 2, 0)
    labels = [str(number) for number in range(tiles.shape[0])]
    image, _ = tile_mosaic(tiles, labels=labels, colormap="coolwarm", min_tile=KERNEL_TILE)
    return encode_png(image)


def depthwise_png(depthwise: np.ndarray) -> bytes:
    """The depthwise part: one kh×kw kernel per input channel (× depth multiplier)."""
    array = _check_kernel(depthwise, "depthwise kernel")
    kh, kw, channels, multiplier = array.shape
    tiles = signed_to_unit(array, _peak(array)).reshape(kh, kw, channels * multiplier)
    labels = [
        str(channel) if multiplier == 1 else f"{channel}·{copy}"
        for channel in range(channels)
        for copy in range(multiplier)
    ]
    image, _ = tile_mosaic(np.moveaxis(tiles, 2, 0), labels=labels, colormap="coolwarm",
                           min_tile=KERNEL_TILE)
    return encode_png(image)


def pointwise_png(pointwise: np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> bytes:
    """The pointwise part, a (depthwise channels × filters) matrix: a row per depthwise
    channel, a column per output filter, each weight a square of colour."""
    array = np.asarray(pointwise, dtype=np.float32)
    if array.ndim != 2 or min(array.shape) < 1:
        raise FilterError(
            "Expected a pointwise matrix of shape (channels, filters). "
            f"Received: shape={array.shape}"
        )
    rows, cols = array.shape
    cell = max(1, min(16, math.isqrt(max_pixels // (rows * cols))))
    colours = apply_colormap(signed_to_unit(array), "coolwarm")
    image = Image.fromarray(colours).resize((cols * cell, rows * cell), Image.Resampling.NEAREST)
    return encode_png(image)


def _peak(array: np.ndarray) -> float:
    return float(np.max(np.abs(array))) if array.size else 0.0
