"""Oracle: every value an explanation rebuilds equals the value Keras computed, for every
layer of many generated architectures, at corners, edges and random cells."""

from __future__ import annotations

import json
import random
from typing import Any

import numpy as np
import pytest
from archgen import random_architecture

from cnnviz.featuremaps import (
    ExplainError,
    explain_value,
    explanation_json,
    explanation_lines,
    extract_activations,
    receptive_field,
    receptive_field_picture,
    window_picture,
)
from cnnviz.keras_build import build_model
from cnnviz.spec import ModelSpec, SpecError

keras = pytest.importorskip("keras")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

GENERATED = 240
POSITIONS_PER_LAYER = 6


def _positions(shape: tuple[int, ...], rng: np.random.Generator) -> list[tuple[int, ...]]:
    corners = [tuple(0 for _ in shape), tuple(side - 1 for side in shape)]
    drawn = [tuple(int(rng.integers(side)) for side in shape)
             for _ in range(POSITIONS_PER_LAYER - 2)]
    return corners + drawn


def _unusual_batch_norm(model: Any, rng: np.random.Generator) -> None:
    """Statistics far from 0 and 1, so that a wrong mean or variance shows."""
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            layer.set_weights([rng.uniform(0.5, 2.0, w.shape).astype(np.float32) + (
                0.3 if i < 3 else 0.0) for i, w in enumerate(layer.get_weights())])


def _built(seed: int) -> Any:
    try:
        spec = ModelSpec.from_dict(random_architecture(random.Random(seed)))
        return spec, build_model(spec, seed=seed)
    except SpecError:
        return None


def _assert_presentable(explanation: Any, activations: Any, image: np.ndarray) -> None:
    """Text, JSON and pictures can be made for every kind of layer."""
    assert explanation_lines(explanation)[0].startswith(explanation.layer)
    json.dumps(explanation_json(explanation, full=True), allow_nan=False)
    window = explanation.window
    if window is not None:
        source = image if window.source_index < 0 else activations[window.source_index].output
        assert window_picture(source[:, :, 0], window, 64).size[0] >= 1
    assert receptive_field_picture(image, explanation.receptive_field, 64).size[0] >= 1


def _assert_explains(model: Any, image: np.ndarray, rng: np.random.Generator) -> int:
    activations = extract_activations(model, image)
    checked = 0
    for activation in activations:
        if activation.output.size == 0:
            continue
        for at in _positions(activation.shape, rng):
            explanation = explain_value(model, activations, image, activation.name, at)
            assert explanation.value == pytest.approx(float(activation.output[at]))
            _assert_presentable(explanation, activations, image)
            if explanation.operation == "not explained":
                continue
            scale = 1.0 + abs(explanation.value)
            if explanation.terms is not None and explanation.terms.weights is not None:
                products = explanation.terms.products
                scale += float(np.sum(np.abs(products)))
                assert explanation.pre_activation == pytest.approx(
                    float(np.sum(products)) + (explanation.bias or 0.0), abs=1e-12)
            assert explanation.computed is not None, explanation
            assert explanation.computed == pytest.approx(explanation.value, rel=1e-4,
                                                         abs=2e-5 * scale), (
                activation.name, activation.class_name, at, model.layers[activation.index]
                .get_config())
            checked += 1
    return checked


def test_every_explained_value_equals_keras_over_generated_models() -> None:
    checked, models = 0, 0
    for seed in range(GENERATED):
        built = _built(seed)
        if built is None:
            continue
        spec, model = built
        rng = np.random.default_rng(seed)
        _unusual_batch_norm(model, rng)
        image = rng.uniform(-1.0, 1.0, spec.input_shape).astype(np.float32)
        checked += _assert_explains(model, image, rng)
        models += 1
    assert models >= GENERATED // 3
    assert checked >= 1000


CONV_CASES = [
    {"filters": 3, "kernel_size": 3, "padding": "same", "strides": 2},
    {"filters": 2, "kernel_size": [2, 3], "padding": "same", "strides": [2, 3]},
    {"filters": 2, "kernel_size": 3, "padding": "same", "dilation_rate": 2},
    {"filters": 4, "kernel_size": 4, "padding": "same", "strides": 3},
    {"filters": 4, "kernel_size": 3, "groups": 2, "activation": "softmax"},
]


@pytest.mark.parametrize("config", CONV_CASES)
def test_conv2d_same_padding_strides_dilation_and_groups(config: dict[str, Any]) -> None:
    spec = ModelSpec.from_dict({"input_shape": [9, 8, 4], "layers": [
        {"class_name": "Conv2D", "config": config}]})
    model = build_model(spec, seed=1)
    image = np.random.default_rng(1).uniform(-1, 1, (9, 8, 4)).astype(np.float32)
    activations = extract_activations(model, image)
    out = activations[0].output
    for at in np.ndindex(out.shape):
        explanation = explain_value(model, activations, image, 0, at)
        assert explanation.computed == pytest.approx(float(out[at]), abs=1e-5)


def test_window_of_same_padding_is_tensorflows_asymmetric_one() -> None:
    # 8 wide, kernel 4, stride 2 → 4 outputs; pad total (4−1)·2 + 4 − 8 = 2: 1 before.
    spec = ModelSpec.from_dict({"input_shape": [8, 8, 1], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 1, "kernel_size": 4, "strides": 2,
                                            "padding": "same"}}]})
    model = build_model(spec, seed=0)
    image = np.ones((8, 8, 1), np.float32)
    activations = extract_activations(model, image)
    window = explain_value(model, activations, image, 0, (0, 3, 0)).window
    assert window is not None
    assert (window.top, window.bottom, window.left, window.right) == (-1, 2, 5, 8)
    assert window.padded_cells == 4 + 4 - 1


def test_receptive_field_grows_through_the_layers() -> None:
    spec = ModelSpec.from_dict({"input_shape": [28, 28, 1], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3}},
        {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
        {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3}},
        {"class_name": "Flatten", "config": {}}]})
    model = build_model(spec, seed=0)
    shapes = [(28, 28, 1), (26, 26, 2), (13, 13, 2), (11, 11, 2), (242,)]
    field = receptive_field(model.layers, shapes, 2, (0, 0, 0))
    assert (field.top, field.bottom, field.left, field.right) == (0, 7, 0, 7)
    assert receptive_field(model.layers, shapes, 2, (10, 10, 1)).bottom == 27
    assert receptive_field(model.layers, shapes, 3, (5,)).whole


def test_separable_conv_shows_depthwise_then_pointwise() -> None:
    spec = ModelSpec.from_dict({"input_shape": [6, 6, 3], "layers": [
        {"class_name": "SeparableConv2D", "config": {"filters": 2, "kernel_size": 3,
                                                     "depth_multiplier": 2}}]})
    model = build_model(spec, seed=0)
    image = np.random.default_rng(0).random((6, 6, 3)).astype(np.float32)
    activations = extract_activations(model, image)
    explanation = explain_value(model, activations, image, 0, (1, 2, 1))
    assert len(explanation.stages) == 6
    assert explanation.terms is not None
    assert list(explanation.terms.inputs) == [stage.value for stage in explanation.stages]
    assert explanation.computed == pytest.approx(float(activations[0].output[1, 2, 1]), abs=1e-5)


def test_dense_terms_are_one_per_input() -> None:
    spec = ModelSpec.from_dict({"input_shape": [4, 4, 2], "layers": [
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}}]})
    model = build_model(spec, seed=0)
    image = np.random.default_rng(0).random((4, 4, 2)).astype(np.float32)
    activations = extract_activations(model, image)
    explanation = explain_value(model, activations, image, "dense", (2,))
    assert explanation.terms is not None and len(explanation.terms) == 32
    assert explanation.activation == "softmax"
    flatten = explain_value(model, activations, image, "flatten", (5,))
    assert flatten.source_at == (0, 2, 1)


@pytest.mark.parametrize("at", [(9, 0, 0), (0, 0), (0, 0, 0, 0), (-1, 0, 0)])
def test_a_position_outside_the_output_says_which_are_inside(at: tuple[int, ...]) -> None:
    spec = ModelSpec.from_dict({"input_shape": [5, 5, 1], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3}}]})
    model = build_model(spec, seed=0)
    image = np.zeros((5, 5, 1), np.float32)
    activations = extract_activations(model, image)
    if len(at) == 2:
        assert explain_value(model, activations, image, 0, at).at == (0, 0, 0)
        return
    with pytest.raises(ExplainError, match=r"row 0–2, column 0–2, channel 0–1"):
        explain_value(model, activations, image, 0, at)


def test_an_unknown_layer_names_the_layers_there_are() -> None:
    spec = ModelSpec.from_dict({"input_shape": [5, 5, 1], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3}}]})
    model = build_model(spec, seed=0)
    image = np.zeros((5, 5, 1), np.float32)
    with pytest.raises(ExplainError, match=r"conv2d.*Received: layer='nope'"):
        explain_value(model, extract_activations(model, image), image, "nope", (0, 0, 0))


LINEAR_STACKS = [
    [{"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3, "strides": 2,
                                         "padding": "same"}},
     {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 2, "dilation_rate": 2}}],
    [{"class_name": "ZeroPadding2D", "config": {"padding": [[2, 0], [1, 3]]}},
     {"class_name": "AveragePooling2D", "config": {"pool_size": 3, "strides": 2,
                                                   "padding": "same"}},
     {"class_name": "DepthwiseConv2D", "config": {"kernel_size": [1, 3], "padding": "same"}}],
    [{"class_name": "SeparableConv2D", "config": {"filters": 2, "kernel_size": 3,
                                                  "strides": [1, 2], "padding": "same"}},
     {"class_name": "UpSampling2D", "config": {"size": 2}},
     {"class_name": "Conv2D", "config": {"filters": 1, "kernel_size": 4, "strides": 3}}],
    [{"class_name": "Conv2DTranspose", "config": {"filters": 2, "kernel_size": 3,
                                                  "strides": 2, "padding": "same"}},
     {"class_name": "Conv2D", "config": {"filters": 1, "kernel_size": 3, "strides": 2}}],
]


@pytest.mark.parametrize("layers", LINEAR_STACKS)
def test_receptive_field_is_exactly_where_the_gradient_reaches(layers: list[Any]) -> None:
    """Without activations every pixel in the field moves the value, and no other does."""
    import tensorflow as tf

    spec = ModelSpec.from_dict({"input_shape": [11, 10, 2], "layers": layers})
    model = build_model(spec, seed=4)
    for layer in model.layers:  # weights far from zero, so no product vanishes by chance
        layer.set_weights([np.random.default_rng(0).uniform(0.5, 1.5, w.shape)
                           .astype(np.float32) for w in layer.get_weights()])
    image = np.random.default_rng(1).random((11, 10, 2)).astype(np.float32)
    activations = extract_activations(model, image)
    index = len(layers) - 1
    shapes = [(11, 10, 2), *(a.shape for a in activations)]
    for at in np.ndindex(activations[index].shape):
        batch = tf.constant(image[np.newaxis])
        with tf.GradientTape() as tape:
            tape.watch(batch)
            value = model(batch, training=False)[(0, *at)]
        moved = np.abs(tape.gradient(value, batch).numpy()[0]).sum(axis=-1) > 0
        field = receptive_field(model.layers, shapes, index, at)
        rows, cols = np.flatnonzero(moved.any(axis=1)), np.flatnonzero(moved.any(axis=0))
        if rows.size == 0:
            assert field.empty, (at, field)
            continue
        assert (field.top, field.bottom, field.left, field.right) == (
            rows[0], rows[-1], cols[0], cols[-1]), at
