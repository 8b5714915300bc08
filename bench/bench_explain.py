"""Explain a value: the time from a click to the computation view, once the maps are there.

For each layer of each preset, the middle cell of its output: the explanation rebuilt in
numpy from the activations already computed (`explain_value`), its text, the window and
receptive-field pictures and the Plotly figures the tab sends (the map to click and the
inputs × weights = products grids). Compared with one plain forward pass of the model
(`model(batch, training=False)`), measured in the same run.

    .venv/bin/python bench/bench_explain.py [--repeat 5]

Target: under 0.3 s per click for tiny-vgg-32 and cifar10-cnn-2filters.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from timing import run_times  # noqa: E402

from cnnviz.data import array_to_image, load_dataset, to_model_input  # noqa: E402
from cnnviz.featuremaps import (  # noqa: E402
    explain_value,
    explanation_lines,
    extract_activations,
    receptive_field_picture,
    window_picture,
)
from cnnviz.keras_build import build_model  # noqa: E402
from cnnviz.presets import get_preset  # noqa: E402
from cnnviz.tf_runtime import configure_tensorflow  # noqa: E402
from ui.featuremaps.explain import _grid_channels, _grid_figure, _map_figure  # noqa: E402

PRESETS = ("tiny-vgg-32", "cifar10-cnn-2filters")
TARGET_S = 0.3


def _view(model: Any, activations: list[Any], image: np.ndarray, index: int) -> None:
    output = activations[index].output
    at = tuple(side // 2 for side in output.shape)
    explanation = explain_value(model, activations, image, index, at)
    explanation_lines(explanation)
    if output.ndim == 3:
        _map_figure(output[:, :, at[2]], at[:2], "map").to_json()
    window = explanation.window
    if window is not None:
        source = image if window.source_index < 0 else (
            activations[window.source_index].output[:, :, window.channels[0]])
        window_picture(source, window, 260)
    if explanation.receptive_field is not None:
        receptive_field_picture(image, explanation.receptive_field, 260)
    channels = _grid_channels(explanation, False)
    if channels:
        figure = _grid_figure(explanation, channels)
        if figure is not None:
            figure.to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    configure_tensorflow()
    shapes = load_dataset("shapes")
    circle = array_to_image(shapes.x_test[int(np.flatnonzero(shapes.y_test == 0)[0])])
    print(f"{os.cpu_count()} CPUs; median of {args.repeat} runs; the middle cell of each layer")
    for name in PRESETS:
        spec = get_preset(name)
        model = build_model(spec, seed=0)
        image = to_model_input(circle, spec.input_shape)
        batch = image[np.newaxis]
        model(batch, training=False)  # warm
        forward = statistics.median(run_times(args.repeat, partial(model, batch, training=False)))
        activations = extract_activations(model, image)
        print(f"\n{name} (input {spec.input_shape}): plain forward pass {forward * 1000:.1f} ms")
        worst = 0.0
        for index, activation in enumerate(activations):
            _view(model, activations, image, index)  # warm
            seconds = statistics.median(
                run_times(args.repeat, partial(_view, model, activations, image, index)))
            worst = max(worst, seconds)
            print(f"  {activation.name:<18} {activation.class_name:<14} {seconds * 1000:7.1f} ms"
                  f"  ({seconds / forward:5.2f}× the forward pass)")
        verdict = "meets" if worst < TARGET_S else "MISSES"
        print(f"  slowest click {worst * 1000:.1f} ms: {verdict} the {TARGET_S} s target; "
              f"{worst / forward:.2f}× the plain forward pass")


if __name__ == "__main__":
    main()
