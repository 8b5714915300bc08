"""Analytic summary vs building the Keras model and calling count_params(), in one process.

Run: .venv/bin/python bench/bench_summary.py
Target: the 100-layer stack summarised in under 5 ms, at least 100× faster than Keras.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from timing import run_times

from cnnviz.presets import PRESETS
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec


def hundred_layer_stack() -> ModelSpec:
    layers = []
    for block in range(25):
        layers.append({"class_name": "Conv2D",
                       "config": {"filters": 16, "kernel_size": 3, "padding": "same"}})
        layers.append({"class_name": "BatchNormalization", "config": {}})
        layers.append({"class_name": "Activation", "config": {"activation": "relu"}})
        layers.append({"class_name": "SeparableConv2D" if block % 2 else "DepthwiseConv2D",
                       "config": {"kernel_size": 3, "padding": "same",
                                  **({"filters": 16} if block % 2 else {})}})
    return ModelSpec.from_dict({"name": "stack-100", "input_shape": [64, 64, 16],
                                "layers": layers})


def best_of(repeats: int, action: Callable[[], object]) -> float:
    return min(run_times(repeats, action))


def main() -> None:
    import keras

    from cnnviz.keras_build import build_model

    specs = {**PRESETS, "stack-100 (100 layers)": hundred_layer_stack()}
    print(f"{'architecture':<24} {'layers':>6} {'params':>12} {'cnnviz':>10} {'keras':>10} "
          f"{'ratio':>8}")
    ratios = []
    for name, spec in specs.items():
        ours = best_of(50, lambda spec=spec: summarize(spec).total_params)
        theirs = best_of(3, lambda spec=spec: build_model(spec).count_params())
        params = summarize(spec).total_params
        assert params == build_model(spec).count_params(), name
        ratios.append(theirs / ours)
        print(f"{name:<24} {len(spec.layers):>6} {params:>12,} {ours * 1e3:>8.3f}ms "
              f"{theirs * 1e3:>8.1f}ms {theirs / ours:>7.0f}×")
    print(f"median ratio: {statistics.median(ratios):,.0f}× (keras {keras.__version__})")


if __name__ == "__main__":
    main()
