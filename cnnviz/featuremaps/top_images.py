"""The images of a set that excite a channel most, and the input patch each peak comes from.

One pass over the set gives every channel's peak (value and position) per image, so that
choosing another channel of the same layer needs no new pass. The patch is the receptive
field of the peak's position. TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from cnnviz.featuremaps.activations import activation_bytes
from cnnviz.featuremaps.receptive_field import ReceptiveField, receptive_field

if TYPE_CHECKING:
    import keras

__all__ = [
    "ChannelPeaks",
    "TopImage",
    "TopImagesError",
    "channel_peaks",
    "receptive_box",
    "top_images",
]

_BATCH_BYTES: Final = 64 * 1024 * 1024  # activations held at once while scanning a set


class TopImagesError(ValueError):
    """A layer, channel or image set that cannot be scanned; says what to change."""


def receptive_box(model: keras.Model, layer_name: str, row: int, col: int) -> ReceptiveField:
    """The input pixels that position (`row`, `col`) of `layer_name`'s output depends on."""
    layers = list(model.layers)
    names = [str(layer.name) for layer in layers]
    if layer_name not in names:
        raise TopImagesError(f"The model has no layer named {layer_name!r}.")
    shapes = [tuple(int(side) for side in model.inputs[0].shape[1:])]
    shapes += [tuple(int(side) for side in layer.output.shape[1:]) for layer in layers]
    return receptive_field(layers, shapes, names.index(layer_name), (row, col))


@dataclass(frozen=True, eq=False)
class ChannelPeaks:
    """Per image of a set and per channel of one layer: the largest value and where it is."""

    layer_name: str
    values: np.ndarray  # (n, channels) float32
    rows: np.ndarray  # (n, channels) int
    cols: np.ndarray  # (n, channels) int


@dataclass(frozen=True)
class TopImage:
    index: int  # in the set
    value: float
    row: int  # the peak's position in the layer's output
    col: int
    box: ReceptiveField  # the input patch that position sees


def _batch_size(model: keras.Model) -> int:
    return max(1, min(1024, _BATCH_BYTES // max(1, activation_bytes(model))))


_COMPILED: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _peaks_function(model: keras.Model, layer_name: str) -> Any:
    """Compiled once per model and layer: a batch → each channel's max and its flat index."""
    per_model = _COMPILED.setdefault(model, {})
    if layer_name in per_model:
        return per_model[layer_name]
    import keras
    import tensorflow as tf

    feature = keras.Model(model.inputs[0], model.get_layer(layer_name).output)

    def peaks(batch: Any) -> Any:
        maps = feature(batch, training=False)
        flat = tf.reshape(maps, [tf.shape(maps)[0], -1, tf.shape(maps)[3]])
        return tf.reduce_max(flat, axis=1), tf.argmax(flat, axis=1, output_type=tf.int32)

    shape = [None, *(int(side) for side in model.inputs[0].shape[1:])]
    per_model[layer_name] = tf.function(peaks, input_signature=[tf.TensorSpec(shape, tf.float32)])
    return per_model[layer_name]


def channel_peaks(model: keras.Model, layer_name: str, images: np.ndarray) -> ChannelPeaks:
    """Every channel's peak over space for each of `images` (n, H, W, C), in batches sized
    to the model's activations; only the peaks leave TensorFlow."""
    import tensorflow as tf

    try:
        layer = model.get_layer(layer_name)
    except ValueError:
        raise TopImagesError(f"The model has no layer named {layer_name!r}.") from None
    if len(layer.output.shape) != 4:
        raise TopImagesError(
            f"Expected a layer that outputs maps (height, width, channels). Received: "
            f"{layer_name} outputs {tuple(layer.output.shape[1:])}"
        )
    expected = tuple(int(side) for side in model.inputs[0].shape[1:])
    array = np.asarray(images)
    if array.ndim != 4 or tuple(array.shape[1:]) != expected or len(array) == 0:
        raise TopImagesError(
            f"Expected images of shape (n, {', '.join(map(str, expected))}) with n ≥ 1. "
            f"Received: shape={array.shape}"
        )
    compiled = _peaks_function(model, layer_name)
    width = int(layer.output.shape[2])
    values, where = [], []
    size = _batch_size(model)
    for start in range(0, len(array), size):
        chunk = np.ascontiguousarray(array[start : start + size], dtype=np.float32)
        value, position = compiled(tf.constant(chunk))
        values.append(value.numpy())
        where.append(position.numpy())
    position = np.concatenate(where)
    return ChannelPeaks(layer_name, np.concatenate(values), position // width, position % width)


def top_images(model: keras.Model, peaks: ChannelPeaks, channel: int,
               count: int = 9) -> list[TopImage]:
    """The `count` images whose peak in `channel` is highest (the first image wins a tie),
    each with its peak's receptive field."""
    channels = peaks.values.shape[1]
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or not (
        0 <= channel < channels
    ):
        raise TopImagesError(
            f"Expected a channel from 0 to {channels - 1}. Received: channel={channel!r}"
        )
    column = peaks.values[:, channel]
    order = np.argsort(-column, kind="stable")[: max(0, int(count))]
    return [
        TopImage(
            index=int(index), value=float(column[index]),
            row=int(peaks.rows[index, channel]), col=int(peaks.cols[index, channel]),
            box=receptive_box(model, peaks.layer_name, int(peaks.rows[index, channel]),
                              int(peaks.cols[index, channel])),
        )  # fmt: skip
        for index in order
    ]
