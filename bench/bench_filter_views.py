"""What a filter wants, and occlusion: cnnviz's way against the plain way, in one process.

- Activation maximisation of one channel (the deepest layer with maps, default settings):
  cnnviz compiles one ascent step per model and layer; the plain way runs the same steps
  eagerly (a `tf.GradientTape` per step, no `tf.function`).
- Occlusion at an 8-pixel stride with an 8×8 patch: cnnviz puts every patch position in
  one batch; the plain way calls `model.predict` once per position.
- Top images over the shapes test set: cnnviz keeps only each channel's peak inside
  TensorFlow; the plain way `predict`s the full maps and reduces them in numpy.

    .venv/bin/python bench/bench_filter_views.py [--repeat 3]

Targets: activation maximisation under 5 s per channel, occlusion under 3 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import run_times  # noqa: E402

from cnnviz.data import load_dataset  # noqa: E402
from cnnviz.featuremaps import (  # noqa: E402
    ActMaxSettings,
    channel_peaks,
    maximize_activation,
    occluded_images,
    occlusion_sensitivity,
    spatial_layer_names,
    top_images,
)
from cnnviz.keras_build import build_model  # noqa: E402
from cnnviz.presets import get_preset  # noqa: E402
from cnnviz.tf_runtime import configure_tensorflow  # noqa: E402

PRESETS = ("tiny-vgg-32", "cifar10-cnn-2filters")


def _median(repeat: int, action: Callable[[], object]) -> float:
    return statistics.median(run_times(repeat, action))


def _eager_ascent(model: Any, layer: str, channel: int, settings: ActMaxSettings) -> np.ndarray:
    """The same ascent as `maximize_activation`, step by step in eager mode."""
    import keras
    import tensorflow as tf

    feature = keras.Model(model.inputs[0], model.get_layer(layer).output)
    rng = np.random.default_rng(settings.seed)
    shape = (1, *(int(side) for side in model.inputs[0].shape[1:]))
    images = tf.constant(np.clip(0.5 + 0.1 * rng.standard_normal(shape), 0, 1), tf.float32)
    shifts = rng.integers(-settings.jitter, settings.jitter + 1, size=(settings.steps, 2))
    for number in range(settings.steps):
        moved = tf.roll(images, shift=shifts[number], axis=[1, 2])
        with tf.GradientTape() as tape:
            tape.watch(moved)
            objective = tf.reduce_mean(feature(moved, training=False)[..., channel])
        gradient = tape.gradient(objective, moved)
        gradient /= tf.sqrt(tf.reduce_mean(tf.square(gradient))) + 1e-8
        images = tf.clip_by_value(tf.roll(moved + settings.learning_rate * gradient,
                                          shift=-shifts[number], axis=[1, 2]), 0.0, 1.0)
    return np.asarray(images)


def _unbatched_occlusion(model: Any, image: np.ndarray, class_index: int) -> np.ndarray:
    whole = model.predict(image[np.newaxis], verbose=0)[0, class_index]
    return np.array([whole - model.predict(covered[np.newaxis], verbose=0)[0, class_index]
                     for covered in occluded_images(image, 8, 8)])


def _plain_peaks(model: Any, layer: str, images: np.ndarray) -> np.ndarray:
    import keras

    probe = keras.Model(model.inputs[0], model.get_layer(layer).output)
    maps = probe.predict(images, verbose=0)
    return np.asarray(maps.max(axis=(1, 2)))


def _row(what: str, ours: float, plain: float, target: float | None = None) -> None:
    goal = ""
    if target is not None:
        goal = f"  (target < {target:g} s: {'met' if ours < target else 'MISSED'})"
    print(f"  {what:<44} {ours:8.3f} s   plain {plain:8.3f} s   ×{plain / ours:6.1f}{goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    configure_tensorflow()
    shapes = load_dataset("shapes")
    circle = shapes.x_test[int(np.flatnonzero(shapes.y_test == 0)[0])]
    settings = ActMaxSettings()
    for name in PRESETS:
        model = build_model(get_preset(name), seed=0)
        layer = spatial_layer_names(model)[-1]
        print(f"{name}: layer {layer}, {settings.steps} ascent steps, "
              f"{len(shapes.x_test):,} test images")
        forward = _median(repeat, lambda m=model: m(circle[np.newaxis], training=False))
        print(f"  {'one forward pass of one image':<44} {forward:8.4f} s")
        first = run_times(1, lambda m=model, lay=layer: maximize_activation(m, lay, 0, settings))
        _row("activation maximisation, first channel", first[0],
             _median(1, lambda m=model, lay=layer: _eager_ascent(m, lay, 0, settings)), 5.0)
        ours = _median(repeat, lambda m=model, lay=layer: maximize_activation(m, lay, 1, settings))
        plain = _median(1, lambda m=model, lay=layer: _eager_ascent(m, lay, 1, settings))
        _row("activation maximisation, next channel", ours, plain, 5.0)
        ours = _median(repeat, lambda m=model: occlusion_sensitivity(m, circle, 0))
        plain = _median(1, lambda m=model: _unbatched_occlusion(m, circle, 0))
        _row("occlusion, 8×8 patch, stride 8 (16 places)", ours, plain, 3.0)

        def scan(m: Any = model, lay: str = layer) -> object:
            return top_images(m, channel_peaks(m, lay, shapes.x_test), 0, 8)

        plain = _median(repeat, lambda m=model, lay=layer: _plain_peaks(m, lay, shapes.x_test))
        _row("top images, first scan of the layer", run_times(1, scan)[0], plain)
        _row("top images, another scan (compiled)", _median(repeat, scan), plain)


if __name__ == "__main__":
    main()
