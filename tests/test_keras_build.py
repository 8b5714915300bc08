from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cnnviz.keras_build import build_model, keras_layer_kwargs
from cnnviz.presets import PRESETS
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec, SpecError


def _spec(*layers: tuple[str, dict[str, Any]], input_shape: list[int] | None = None) -> ModelSpec:
    return ModelSpec.from_dict({
        "name": "tiny",
        "input_shape": input_shape or [8, 8, 2],
        "layers": [{"class_name": name, "config": config} for name, config in layers],
    })  # fmt: skip


EVERY_LAYER = _spec(
    ("ZeroPadding2D", {"padding": [[0, 1], 2]}),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2, "use_bias": False}),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "padding": "same"}),
    ("DepthwiseConv2D", {"kernel_size": 2, "strides": 2, "trainable": False}),
    ("BatchNormalization", {"center": False}),
    ("SpatialDropout2D", {"rate": 0.2}),
    ("MaxPool2D", {"pool_size": 1}),
    ("AveragePooling2D", {"pool_size": 1, "padding": "same"}),
    ("Activation", {"activation": "relu"}),
    ("Dense", {"units": 3}),
    ("GlobalMaxPooling2D", {"keepdims": True}),
    ("GlobalAveragePooling2D", {}),
    ("Dropout", {"rate": 0.1}),
    ("Flatten", {}),
    ("Dense", {"units": 2, "activation": "softmax", "name": "head"}),
)


def test_built_model_has_the_spec_names_shapes_and_counts() -> None:
    model = build_model(EVERY_LAYER)
    summary = summarize(EVERY_LAYER)
    assert model.name == "tiny"
    assert [layer.name for layer in model.layers] == list(EVERY_LAYER.layer_names())
    assert [tuple(layer.output.shape) for layer in model.layers] == [
        row.keras_output_shape for row in summary.layers
    ]
    assert model.count_params() == summary.total_params
    trainable = sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)
    assert trainable == summary.trainable_params


def test_built_model_runs_a_forward_pass() -> None:
    model = build_model(EVERY_LAYER)
    output = model(np.random.rand(2, 8, 8, 2).astype("float32"), training=True)
    assert tuple(output.shape) == (2, 2)


def test_frozen_layers_are_built_frozen() -> None:
    model = build_model(EVERY_LAYER)
    assert not model.get_layer("depthwise_conv2d").trainable
    assert model.get_layer("conv2d").trainable


def test_layer_names_do_not_depend_on_earlier_models() -> None:
    spec = PRESETS["chollet-mnist-convnet"]
    build_model(spec)
    again = build_model(spec)
    assert [layer.name for layer in again.layers] == list(spec.layer_names())


def test_input_keeps_clear_of_a_layer_named_input() -> None:
    model = build_model(_spec(("Flatten", {"name": "input"}), ("Dense", {"units": 2})))
    assert [layer.name for layer in model.layers] == ["input", "dense"]
    assert model.inputs[0].name == "input_layer" and model.inputs[0].shape[1:] == (8, 8, 2)
    assert build_model(PRESETS["lenet-5"]).inputs[0].name == "input"


def test_invalid_spec_is_refused_before_keras_sees_it() -> None:
    with pytest.raises(SpecError, match="Layer 2"):
        build_model(_spec(("Flatten", {}), ("Conv2D", {"filters": 2, "kernel_size": 1})))


def test_seed_makes_the_initial_weights_reproducible() -> None:
    spec = PRESETS["tiny-vgg-32"]
    first, second = build_model(spec, seed=7), build_model(spec, seed=7)
    for left, right in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(left, right)
    third = build_model(spec, seed=8)
    assert not np.array_equal(first.get_weights()[0], third.get_weights()[0])


def test_layer_kwargs_are_the_full_keras_arguments_with_the_resolved_name() -> None:
    kwargs = keras_layer_kwargs(EVERY_LAYER, 1)
    assert kwargs["name"] == "conv2d" and kwargs["kernel_size"] == (3, 3)
    assert kwargs["groups"] == 2 and kwargs["use_bias"] is False and kwargs["trainable"] is True
    assert "trainable" not in keras_layer_kwargs(EVERY_LAYER, 5)
    assert keras_layer_kwargs(EVERY_LAYER, 0)["padding"] == ((0, 1), (2, 2))
