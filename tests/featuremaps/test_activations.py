from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cnnviz.featuremaps import (
    ActivationError,
    activation_bytes,
    activation_model,
    class_probabilities,
    extract_activations,
    prepare_batch,
)
from cnnviz.keras_build import build_model
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec

keras = pytest.importorskip("keras")

SPEC = ModelSpec.from_dict({
    "name": "every-kind",
    "input_shape": [12, 12, 3],
    "layers": [
        {"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
        {"class_name": "BatchNormalization", "config": {}},
        {"class_name": "SeparableConv2D", "config": {"filters": 5, "kernel_size": 3}},
        {"class_name": "DepthwiseConv2D", "config": {"kernel_size": 3, "padding": "same"}},
        {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
        {"class_name": "SpatialDropout2D", "config": {"rate": 0.5}},
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dropout", "config": {"rate": 0.5}},
        {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}},
    ],
})  # fmt: skip


@pytest.fixture(scope="module")
def model() -> Any:
    built = build_model(SPEC, seed=3)
    # Non-trivial batch-norm statistics, so inference mode is visibly different.
    bn = built.get_layer("batch_normalization")
    gamma, beta, mean, variance = bn.get_weights()
    bn.set_weights([gamma * 2, beta + 0.5, mean + 0.1, variance * 3])
    return built


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return np.random.default_rng(0).random((12, 12, 3)).astype(np.float32)


def test_every_layer_output_equals_keras_computing_that_layer(
    model: Any, image: np.ndarray
) -> None:
    activations = extract_activations(model, image)
    assert [a.name for a in activations] == list(SPEC.layer_names())
    for activation, layer in zip(activations, model.layers, strict=True):
        oracle = keras.Model(model.inputs[0], layer.output)
        expected = np.asarray(oracle(image[np.newaxis], training=False))[0]
        np.testing.assert_allclose(activation.output, expected, rtol=1e-5, atol=1e-6)


def test_last_output_equals_model_predict(model: Any, image: np.ndarray) -> None:
    final = extract_activations(model, image)[-1].output
    np.testing.assert_allclose(final, model.predict(image[np.newaxis], verbose=0)[0], atol=1e-6)


def test_dropout_layers_pass_values_through(model: Any, image: np.ndarray) -> None:
    outputs = {a.name: a.output for a in extract_activations(model, image)}
    np.testing.assert_array_equal(outputs["spatial_dropout2d"], outputs["max_pooling2d"])
    np.testing.assert_array_equal(outputs["dropout"], outputs["flatten"])


def test_shapes_and_types_match_the_summary(model: Any, image: np.ndarray) -> None:
    summary = summarize(SPEC)
    for activation, layer in zip(extract_activations(model, image), summary.layers, strict=True):
        assert activation.shape == layer.output_shape
        assert activation.keras_output_shape == layer.keras_output_shape
        assert activation.class_name == layer.class_name
        assert activation.is_spatial == (len(layer.output_shape) == 3)


def test_activation_bytes_match_the_analytic_summary(model: Any) -> None:
    summary = summarize(SPEC)
    input_bytes = int(np.prod(SPEC.input_shape)) * 4
    assert activation_bytes(model) == summary.activation_bytes - input_bytes


def test_the_multi_output_model_is_built_once_per_model(model: Any) -> None:
    assert activation_model(model) is activation_model(model)


def test_a_batch_of_one_is_accepted_too(model: Any, image: np.ndarray) -> None:
    single = extract_activations(model, image)[0].output
    batched = extract_activations(model, image[np.newaxis])[0].output
    np.testing.assert_array_equal(single, batched)


def test_a_wrong_size_names_the_expected_shape() -> None:
    with pytest.raises(ActivationError, match=r"\(12, 12, 3\).*shape=\(1, 28, 28, 3\)"):
        prepare_batch(np.zeros((28, 28, 3)), (12, 12, 3))
    with pytest.raises(ActivationError, match="one image"):
        prepare_batch(np.zeros((2, 12, 12, 3)), (12, 12, 3))
    with pytest.raises(ActivationError, match="numbers"):
        prepare_batch(np.full((12, 12, 3), "a"), (12, 12, 3))


def test_softmax_output_is_already_probabilities() -> None:
    values = np.array([0.2, 0.5, 0.3])
    np.testing.assert_array_equal(class_probabilities(values, "softmax"), values)


def test_raw_scores_go_through_softmax() -> None:
    probabilities = class_probabilities(np.array([1.0, 3.0, -2.0]), None)
    assert np.isclose(probabilities.sum(), 1.0) and int(np.argmax(probabilities)) == 1
    np.testing.assert_allclose(probabilities, np.exp([1, 3, -2]) / np.exp([1, 3, -2]).sum())


def test_one_sigmoid_unit_is_two_classes() -> None:
    np.testing.assert_allclose(class_probabilities(np.array([0.8]), "sigmoid"), [0.2, 0.8])
