"""Grad-CAM (Selvaraju et al., 2017): which parts of the image raise a class's score.

The gradient of the class score (the logit, before softmax, as in the paper) with respect
to the last convolution-like layer's output is averaged over space; the map is the ReLU of
that layer's channels weighted by those averages. TensorFlow is imported inside functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from PIL import Image

from cnnviz.featuremaps.activations import prepare_batch
from cnnviz.featuremaps.colormaps import apply_colormap

if TYPE_CHECKING:
    import keras

__all__ = [
    "CONV_LIKE_TYPES",
    "GradCam",
    "GradCamError",
    "compute_gradcam",
    "gradcam_layer_name",
    "gradcam_overlay",
]

CONV_LIKE_TYPES: Final = ("Conv2D", "SeparableConv2D", "DepthwiseConv2D")
# Layers right after the last convolution that keep its map, channel for channel.
_SAME_MAP_TYPES: Final = ("Activation", "BatchNormalization", "ReLU", "LeakyReLU",
                          "Dropout", "SpatialDropout2D")


class GradCamError(ValueError):
    """A model or class for which Grad-CAM cannot be computed; says what to change."""


@dataclass(frozen=True, eq=False)
class GradCam:
    heatmap: np.ndarray  # (h, w) in [0, 1], at the chosen layer's resolution
    layer_name: str
    class_index: int
    predicted_index: int
    probabilities: np.ndarray  # the model's output for the image

    @property
    def is_flat(self) -> bool:
        """No location raises the class score (all weighted activations ≤ 0)."""
        return not bool(np.any(self.heatmap > 0))


def _class_name(layer: Any) -> str:
    return type(layer).__name__


def gradcam_layer_name(model: keras.Model) -> str:
    """The last convolution-like layer with a spatial output, or the activation (batch
    norm, dropout) right after it, whose map is the same."""
    layers = list(model.layers)
    last = None
    for index, layer in enumerate(layers):
        if _class_name(layer) in CONV_LIKE_TYPES and len(layer.output.shape) == 4:
            last = index
    if last is None:
        raise GradCamError(
            "Grad-CAM needs a convolution layer (Conv2D, SeparableConv2D or DepthwiseConv2D); "
            "this model has none — add one before the Flatten or Dense layers."
        )
    while last + 1 < len(layers) and _class_name(layers[last + 1]) in _SAME_MAP_TYPES:
        last += 1
    return str(layers[last].name)


def _is_softmax(activation: Any) -> bool:
    return getattr(activation, "__name__", "") == "softmax"


def _logit_source(model: keras.Model) -> tuple[Any, Any]:
    """(tensor before the softmax, final Dense layer to apply to it or None)."""
    layers = list(model.layers)
    final = layers[-1]
    if len(final.output.shape) != 2:
        raise GradCamError(
            f"Grad-CAM needs a model that ends in class scores; this one ends in "
            f"{tuple(final.output.shape[1:])} — add Flatten (or GlobalAveragePooling2D) and "
            "a Dense layer with one unit per class."
        )
    before = layers[-2].output if len(layers) > 1 else model.inputs[0]
    if _class_name(final) == "Activation" and _is_softmax(final.activation):
        return before, None
    if _class_name(final) == "Dense" and _is_softmax(final.activation):
        return before, final
    return final.output, None


def compute_gradcam(
    model: keras.Model,
    image: np.ndarray,
    *,
    class_index: int | None = None,
    layer_name: str | None = None,
) -> GradCam:
    """Grad-CAM of `image` (H, W, C) for `class_index` (default: the predicted class)."""
    import keras
    import tensorflow as tf

    if keras.backend.backend() != "tensorflow":
        raise GradCamError("Grad-CAM here needs Keras on the TensorFlow backend.")
    name = layer_name or gradcam_layer_name(model)
    try:
        target = model.get_layer(name)
    except ValueError:
        raise GradCamError(f"The model has no layer named {name!r}.") from None
    if len(target.output.shape) != 4:
        raise GradCamError(
            f"Grad-CAM needs a layer with a spatial output; {name!r} outputs "
            f"{tuple(target.output.shape[1:])}."
        )
    source, dense = _logit_source(model)
    batch = prepare_batch(image, tuple(model.inputs[0].shape[1:]))
    grad_model = keras.Model(model.inputs[0], [target.output, source, model.layers[-1].output])
    with tf.GradientTape() as tape:
        maps, pre_logits, probabilities = grad_model(batch, training=False)
        if dense is None:
            logits = pre_logits
        else:
            logits = tf.matmul(pre_logits, dense.kernel)
            if dense.use_bias:
                logits = logits + dense.bias
        predicted = int(np.argmax(probabilities[0]))
        chosen = predicted if class_index is None else int(class_index)
        if not 0 <= chosen < int(logits.shape[-1]):
            raise GradCamError(
                f"Expected a class from 0 to {int(logits.shape[-1]) - 1}. "
                f"Received: class_index={class_index}"
            )
        score = logits[:, chosen]
    gradients = tape.gradient(score, maps)
    weights = tf.reduce_mean(gradients, axis=(0, 1, 2))
    cam = tf.nn.relu(tf.reduce_sum(maps[0] * weights, axis=-1)).numpy().astype(np.float32)
    peak = float(cam.max())
    heatmap = cam / peak if peak > 0 else np.zeros_like(cam)
    return GradCam(heatmap, name, chosen, predicted, np.asarray(probabilities[0]))


def gradcam_overlay(image: np.ndarray, heatmap: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """The heatmap, stretched to `image` (H, W, 1 or 3 in [0, 1]) and colour-mapped,
    blended over it: uint8 (H, W, 3)."""
    picture = np.asarray(image, dtype=np.float32)
    if picture.ndim == 2:
        picture = picture[:, :, np.newaxis]
    if picture.ndim != 3 or picture.shape[2] not in (1, 3):
        raise GradCamError(
            f"Expected an image of shape (height, width, 1 or 3). Received: shape={picture.shape}"
        )
    height, width = picture.shape[:2]
    heat = Image.fromarray(np.ascontiguousarray(heatmap, dtype=np.float32))
    stretched = np.asarray(heat.resize((width, height), Image.Resampling.BILINEAR))
    colours = apply_colormap(stretched).astype(np.float32) / 255.0
    base = np.repeat(picture, 3, axis=2) if picture.shape[2] == 1 else picture
    blended = (1.0 - alpha) * np.clip(base, 0.0, 1.0) + alpha * colours
    pixels: np.ndarray = np.rint(blended * 255).astype(np.uint8)
    return pixels
