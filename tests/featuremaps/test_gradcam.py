from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cnnviz.featuremaps import GradCamError, compute_gradcam, gradcam_layer_name, gradcam_overlay
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from cnnviz.spec import ModelSpec

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def _spec(final: str | None, *, separate_softmax: bool = False) -> ModelSpec:
    layers: list[dict[str, Any]] = [
        {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 1, "activation": "relu"}},
        {"class_name": "GlobalAveragePooling2D", "config": {}},
        {"class_name": "Dense", "config": {"units": 2, "activation": final}},
    ]
    if separate_softmax:
        layers.append({"class_name": "Activation", "config": {"activation": "softmax"}})
    return ModelSpec.from_dict({"input_shape": [8, 8, 3], "layers": layers})


def _colour_detector(spec: ModelSpec) -> Any:
    """Channel 0 = redness, channel 1 = greenness; class 0 = mean red, class 1 = mean green."""
    model = build_model(spec)
    model.get_layer("conv2d").set_weights(
        [np.array([[[[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]], np.float32), np.zeros(2, np.float32)]
    )
    model.get_layer("dense").set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    return model


def _red_left_green_right() -> np.ndarray:
    image = np.zeros((8, 8, 3), dtype=np.float32)
    image[2:6, 0:3, 0] = 1.0  # red on the left
    image[2:6, 5:8, 1] = 0.6  # dimmer green on the right
    return image


@pytest.mark.parametrize(
    "spec", [_spec("softmax"), _spec(None), _spec(None, separate_softmax=True)]
)
def test_each_class_lights_up_where_its_evidence_is(spec: ModelSpec) -> None:
    model, image = _colour_detector(spec), _red_left_green_right()
    red = compute_gradcam(model, image, class_index=0)
    green = compute_gradcam(model, image, class_index=1)
    assert red.heatmap.shape == (8, 8) and red.heatmap.max() == 1.0
    assert red.heatmap[2:6, 0:3].min() == 1.0 and red.heatmap[:, 4:].max() == 0.0
    assert green.heatmap[2:6, 5:8].min() == 1.0 and green.heatmap[:, :4].max() == 0.0


def test_the_predicted_class_is_the_default() -> None:
    model = _colour_detector(_spec("softmax"))
    cam = compute_gradcam(model, _red_left_green_right())
    assert cam.predicted_index == 0 and cam.class_index == 0
    assert cam.probabilities.shape == (2,) and np.isclose(cam.probabilities.sum(), 1.0)


def test_a_class_with_no_evidence_is_flat() -> None:
    model = _colour_detector(_spec("softmax"))
    image = np.zeros((8, 8, 3), dtype=np.float32)
    image[..., 0] = 1.0
    assert compute_gradcam(model, image, class_index=1).is_flat


def test_softmax_models_use_the_score_before_softmax() -> None:
    """The oracle: the Keras example's Grad-CAM on a copy of the model without softmax."""
    spec = get_preset("chollet-mnist-convnet")
    model = build_model(spec, seed=4)
    logits_spec = spec.replace_layers(
        [*spec.layers[:-1], type(spec.layers[-1])(units=10, activation=None)]
    )
    logits_model = build_model(logits_spec)
    logits_model.set_weights(model.get_weights())
    image = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    grad_model = keras.Model(
        logits_model.inputs[0],
        [logits_model.get_layer("conv2d_2").output, logits_model.layers[-1].output],
    )
    with tf.GradientTape() as tape:
        maps, logits = grad_model(image[np.newaxis])
        score = logits[:, 3]
    weights = tf.reduce_mean(tape.gradient(score, maps), axis=(0, 1, 2))
    expected = tf.nn.relu(tf.reduce_sum(maps[0] * weights, axis=-1)).numpy()
    expected = expected / expected.max()
    cam = compute_gradcam(model, image, class_index=3)
    assert cam.layer_name == "conv2d_2"
    np.testing.assert_allclose(cam.heatmap, expected, atol=1e-5)


def test_the_layer_is_the_activation_after_the_last_convolution() -> None:
    model = build_model(get_preset("cifar10-cnn-2filters"), seed=0)
    assert gradcam_layer_name(model) == "activation_3"


def test_a_model_without_convolutions_is_refused() -> None:
    spec = ModelSpec.from_dict({"input_shape": [4, 4, 1], "layers": [
        {"class_name": "Flatten", "config": {}}, {"class_name": "Dense", "config": {"units": 2}}]})
    with pytest.raises(GradCamError, match="needs a convolution layer"):
        gradcam_layer_name(build_model(spec))


def test_a_model_without_class_scores_is_refused() -> None:
    spec = ModelSpec.from_dict({"input_shape": [8, 8, 3], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3}}]})
    with pytest.raises(GradCamError, match="Dense layer with one unit per class"):
        compute_gradcam(build_model(spec), np.zeros((8, 8, 3), np.float32))


def test_a_class_out_of_range_says_the_range() -> None:
    model = _colour_detector(_spec("softmax"))
    with pytest.raises(GradCamError, match="from 0 to 1"):
        compute_gradcam(model, _red_left_green_right(), class_index=2)


def test_overlay_stretches_the_map_over_the_image() -> None:
    image = np.full((40, 60, 1), 0.5, dtype=np.float32)
    heatmap = np.zeros((4, 6), dtype=np.float32)
    blended = gradcam_overlay(image, heatmap, alpha=0.0)
    assert blended.shape == (40, 60, 3) and blended.dtype == np.uint8
    assert np.all(blended == 128)
    hot = gradcam_overlay(image, np.ones((4, 6), np.float32), alpha=1.0)
    assert tuple(hot[20, 30]) == (0xFD, 0xE7, 0x25)
