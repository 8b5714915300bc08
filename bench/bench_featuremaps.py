"""Feature maps: cnnviz's way against the naive way, in one process.

cnnviz: one forward pass of a multi-output `keras.Model` gives every layer's output, and each
layer with maps becomes one palette PNG mosaic (what `st.image` sends).
Naive: one `keras.Model(input, layer.output).predict` per layer, and one Plotly figure per
layer with a subplot per channel (what `st.plotly_chart` sends: the figure's JSON).

    .venv/bin/python bench/bench_featuremaps.py [--repeat 5]

Targets: cifar10-cnn-2filters on 32×32 end to end under 0.5 s; vgg16-base on 150×150 under
3 s on 2 cores; under 300 KB sent per layer.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cnnviz.data import array_to_image, load_dataset, to_model_input
from cnnviz.featuremaps import LAYER_MIN_TILE, extract_activations, model_scale, mosaic_png
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from cnnviz.tf_runtime import configure_tensorflow

CASES = (("cifar10-cnn-2filters", 0.5), ("vgg16-base", 3.0))
KB = 1024


@dataclass
class Timing:
    seconds: float
    result: Any


def _median(function: Callable[[], Any], repeat: int) -> Timing:
    result = function()  # warm-up: graph tracing, caches
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return Timing(statistics.median(times), result)


def _naive_activations(model: Any, x: np.ndarray) -> list[np.ndarray]:
    import keras

    outputs = []
    for layer in model.layers:
        probe = keras.Model(model.inputs[0], layer.output)
        outputs.append(probe.predict(x[np.newaxis], verbose=0)[0])
    return outputs


def _naive_figure_json(maps: np.ndarray) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    channels = maps.shape[2]
    cols = math.ceil(math.sqrt(channels))
    rows = math.ceil(channels / cols)
    figure = make_subplots(rows=rows, cols=cols)
    for channel in range(channels):
        figure.add_trace(go.Heatmap(z=maps[:, :, channel], showscale=False),
                         row=channel // cols + 1, col=channel % cols + 1)
    return str(figure.to_json())


def _image(size: int) -> np.ndarray:
    circle = load_dataset("shapes").x_test[0]  # the first test image, a circle
    return to_model_input(array_to_image(circle), (size, size, 3))


def _bench(name: str, target: float, repeat: int) -> None:
    spec = get_preset(name)
    model = build_model(spec, seed=0)
    x = _image(spec.input_shape[0])
    scale = model_scale(spec.input_shape)

    ours = _median(lambda: extract_activations(model, x), repeat)
    spatial = [a for a in ours.result if a.is_spatial]

    def draw() -> list[bytes]:
        return [mosaic_png(a.output, scale=scale, min_tile=LAYER_MIN_TILE) for a in spatial]

    mosaics = _median(draw, repeat)
    sizes = [len(png) for png in mosaics.result]
    total = ours.seconds + mosaics.seconds

    naive = _median(lambda: _naive_activations(model, x), 1)
    for mine, theirs in zip(ours.result, naive.result, strict=True):
        np.testing.assert_allclose(mine.output, theirs, rtol=1e-4, atol=1e-5)
    started = time.perf_counter()
    naive_json = [_naive_figure_json(a.output) for a in spatial]
    naive_figures = time.perf_counter() - started
    naive_sizes = [len(text.encode("utf-8")) for text in naive_json]
    naive_total = naive.seconds + naive_figures

    channels = sum(a.shape[2] for a in spatial)
    print(f"\n{name}: input {spec.input_shape}, {len(spec.layers)} layers, "
          f"{len(spatial)} with maps ({channels:,} channels)")
    print(f"{'':28}{'cnnviz':>12}{'naive':>12}{'ratio':>9}")
    rows = [
        ("all activations (s)", ours.seconds, naive.seconds),
        ("all figures (s)", mosaics.seconds, naive_figures),
        ("end to end (s)", total, naive_total),
        ("bytes sent, all (KB)", sum(sizes) / KB, sum(naive_sizes) / KB),
        ("bytes sent, largest layer (KB)", max(sizes) / KB, max(naive_sizes) / KB),
    ]
    for label, mine_value, naive_value in rows:
        print(f"{label:28}{mine_value:12.3f}{naive_value:12.3f}"
              f"{naive_value / mine_value:8.1f}×")
    verdict = "meets" if total < target and max(sizes) < 300 * KB else "MISSES"
    print(f"target: end to end < {target} s and < 300 KB per layer — {verdict} "
          f"({total:.3f} s, largest layer {max(sizes) / KB:.0f} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (median)")
    args = parser.parse_args()
    configure_tensorflow()
    import tensorflow as tf

    threads = tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()
    print(f"CPU cores: {os.cpu_count()}, TensorFlow intra-op threads: {threads}; "
          f"medians of {args.repeat} runs after a warm-up (naive: one run after a warm-up)")
    for name, target in CASES:
        _bench(name, target, args.repeat)


if __name__ == "__main__":
    main()
