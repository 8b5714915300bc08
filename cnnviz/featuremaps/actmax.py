"""Activation maximisation: the input image that one channel of a layer responds to most.

Gradient ascent on the image, starting from seeded noise, on the channel's mean over space.
Small CNNs give high-frequency noise without regularisation, so every step shifts the image
by a random few pixels (jitter), and every few steps blurs it and pulls it towards grey
(decay). The shifts come from the seed, so the same seed gives the same image.
TensorFlow is imported inside the functions.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

if TYPE_CHECKING:
    import keras

__all__ = [
    "ActMaxError",
    "ActMaxResult",
    "ActMaxSettings",
    "maximize_activation",
    "spatial_layer_names",
]

_GREY: Final = 0.5
_NOISE: Final = 0.1  # spread of the starting noise around grey
_BLUR_RADIUS: Final = 2  # the Gaussian kernel is 2·radius + 1 wide


class ActMaxError(ValueError):
    """A layer, channel or setting for which activation maximisation cannot run."""


def _check(name: str, value: float, low: float, high: float) -> None:
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and low <= value <= high):
        raise ActMaxError(f"Expected {name} from {low:g} to {high:g}. Received: {name}={value!r}")


@dataclass(frozen=True)
class ActMaxSettings:
    """How the image is made. `learning_rate` is in pixel units (the image is in [0, 1]) per
    step of the gradient scaled to unit RMS; `blur_sigma` in pixels, applied every
    `blur_every` steps together with `decay` (the fraction of the distance to grey removed)."""

    steps: int = 96
    learning_rate: float = 0.05
    jitter: int = 2
    blur_sigma: float = 0.6
    blur_every: int = 4
    decay: float = 0.02
    seed: int = 0

    def __post_init__(self) -> None:
        for name, low, high in (("steps", 1, 2000), ("jitter", 0, 16), ("blur_every", 1, 1000),
                                ("seed", 0, 2**31 - 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ActMaxError(f"Expected {name} as a whole number. Received: {name}={value!r}")
            _check(name, int(value), low, high)
        _check("learning_rate", self.learning_rate, 1e-6, 10.0)
        _check("blur_sigma", self.blur_sigma, 0.0, 5.0)
        _check("decay", self.decay, 0.0, 1.0)


@dataclass(frozen=True, eq=False)
class ActMaxResult:
    image: np.ndarray  # (H, W, C) float32 in [0, 1]
    activations: np.ndarray  # (steps + 1,): the channel's mean before each step and after the last
    layer_name: str
    channel: int
    settings: ActMaxSettings

    @property
    def gain(self) -> float:
        return float(self.activations[-1] - self.activations[0])


def spatial_layer_names(model: keras.Model) -> list[str]:
    """Layers whose output is a stack of maps (height, width, channels), in order."""
    return [str(layer.name) for layer in model.layers if len(layer.output.shape) == 4]


def _gaussian_kernel(sigma: float, channels: int) -> np.ndarray:
    offsets = np.arange(-_BLUR_RADIUS, _BLUR_RADIUS + 1, dtype=np.float64)
    line = np.exp(-(offsets**2) / (2.0 * sigma**2))
    square = np.outer(line, line)
    square /= square.sum()
    return np.repeat(square[:, :, np.newaxis, np.newaxis], channels, axis=2).astype(np.float32)


_Compiled = tuple[Callable[..., Any], Callable[..., Any]]
_COMPILED: weakref.WeakKeyDictionary[Any, dict[str, _Compiled]] = weakref.WeakKeyDictionary()


def _compiled(model: keras.Model, layer_name: str) -> _Compiled:
    """Two compiled functions, built once per model and layer (the channel is an argument):
    step (image batch, shift, channel, rate) → (the moved batch, its activation before the
    move), and measure (image batch, channel) → the activation."""
    per_model = _COMPILED.setdefault(model, {})
    if layer_name in per_model:
        return per_model[layer_name]
    import keras
    import tensorflow as tf

    feature = keras.Model(model.inputs[0], model.get_layer(layer_name).output)

    def step(images: Any, shift: Any, channel: Any, rate: Any) -> Any:
        moved = tf.roll(images, shift=shift, axis=[1, 2])
        with tf.GradientTape() as tape:
            tape.watch(moved)
            maps = feature(moved, training=False)
            objective = tf.reduce_mean(tf.gather(maps, channel, axis=3))
        gradient = tape.gradient(objective, moved)
        gradient = gradient / (tf.sqrt(tf.reduce_mean(tf.square(gradient))) + 1e-8)
        stepped = tf.roll(moved + rate * gradient, shift=-shift, axis=[1, 2])
        return tf.clip_by_value(stepped, 0.0, 1.0), objective

    def measure(images: Any, channel: Any) -> Any:
        return tf.reduce_mean(tf.gather(feature(images, training=False), channel, axis=3))

    per_model[layer_name] = (tf.function(step, reduce_retracing=True),
                             tf.function(measure, reduce_retracing=True))
    return per_model[layer_name]


def _blur(images: Any, kernel: Any) -> Any:
    import tensorflow as tf

    padded = tf.pad(images, [[0, 0], [_BLUR_RADIUS] * 2, [_BLUR_RADIUS] * 2, [0, 0]],
                    mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, strides=[1, 1, 1, 1], padding="VALID")


def maximize_activation(
    model: keras.Model,
    layer_name: str,
    channel: int,
    settings: ActMaxSettings | None = None,
) -> ActMaxResult:
    """The image that raises `channel` of `layer_name` (its mean over space) the most, found
    by regularised gradient ascent from noise seeded by `settings.seed`."""
    import tensorflow as tf

    settings = settings or ActMaxSettings()
    names = spatial_layer_names(model)
    if layer_name not in names:
        raise ActMaxError(
            f"Expected a layer that outputs maps ({', '.join(names) or 'none in this model'}). "
            f"Received: layer_name={layer_name!r}"
        )
    channels = int(model.get_layer(layer_name).output.shape[-1])
    if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) or not (
        0 <= channel < channels
    ):
        raise ActMaxError(
            f"Expected a channel from 0 to {channels - 1} of {layer_name}. Received: "
            f"channel={channel!r}"
        )
    step, measure = _compiled(model, layer_name)
    height, width, depth = (int(side) for side in model.inputs[0].shape[1:])
    rng = np.random.default_rng(settings.seed)
    start = _GREY + _NOISE * rng.standard_normal((1, height, width, depth))
    shifts = rng.integers(-settings.jitter, settings.jitter + 1, size=(settings.steps, 2))
    images = tf.constant(np.clip(start, 0.0, 1.0).astype(np.float32))
    kernel = None
    if settings.blur_sigma > 0:
        kernel = tf.constant(_gaussian_kernel(settings.blur_sigma, depth))
    target = tf.constant(int(channel), dtype=tf.int32)
    rate = tf.constant(settings.learning_rate, dtype=tf.float32)
    trace = []
    for number in range(settings.steps):
        images, value = step(images, tf.constant(shifts[number], dtype=tf.int32), target, rate)
        trace.append(float(value))
        if (number + 1) % settings.blur_every == 0:
            if kernel is not None:
                images = _blur(images, kernel)
            images = _GREY + (images - _GREY) * (1.0 - settings.decay)
    trace.append(float(measure(images, target)))
    return ActMaxResult(
        image=np.asarray(images[0], dtype=np.float32),
        activations=np.asarray(trace, dtype=np.float64),
        layer_name=layer_name,
        channel=int(channel),
        settings=settings,
    )
