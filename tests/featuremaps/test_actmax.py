from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cnnviz.featuremaps import ActMaxError, ActMaxSettings, maximize_activation, spatial_layer_names
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from cnnviz.spec import ModelSpec

keras = pytest.importorskip("keras")

SPEC = ModelSpec.from_dict({"input_shape": [12, 12, 3], "layers": [
    {"class_name": "Conv2D", "config": {"filters": 3, "kernel_size": 3, "activation": "relu"}},
    {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
    {"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
    {"class_name": "Flatten", "config": {}},
    {"class_name": "Dense", "config": {"units": 2, "activation": "softmax"}},
]})  # fmt: skip
FAST = ActMaxSettings(steps=24)


@pytest.fixture(scope="module")
def model() -> Any:
    return build_model(SPEC, seed=3)


def _channel_mean(model: Any, layer: str, channel: int, image: np.ndarray) -> float:
    probe = keras.Model(model.inputs[0], model.get_layer(layer).output)
    return float(probe.predict(image[np.newaxis], verbose=0)[0, :, :, channel].mean())


def test_the_same_seed_gives_the_same_image(model: Any) -> None:
    first = maximize_activation(model, "conv2d_1", 2, FAST)
    again = maximize_activation(model, "conv2d_1", 2, FAST)
    assert np.array_equal(first.image, again.image)
    assert np.array_equal(first.activations, again.activations)


def test_another_seed_gives_another_image(model: Any) -> None:
    first = maximize_activation(model, "conv2d_1", 2, FAST)
    other = maximize_activation(model, "conv2d_1", 2, ActMaxSettings(steps=24, seed=1))
    assert not np.array_equal(first.image, other.image)


def test_the_channel_rises_and_the_trace_is_keras_own_activation(model: Any) -> None:
    result = maximize_activation(model, "conv2d", 1, FAST)
    assert result.image.shape == (12, 12, 3) and result.image.dtype == np.float32
    assert 0.0 <= result.image.min() and result.image.max() <= 1.0
    assert result.activations.shape == (FAST.steps + 1,)
    assert result.gain > 0
    assert result.activations[-1] == pytest.approx(
        _channel_mean(model, "conv2d", 1, result.image), rel=1e-4, abs=1e-6)


def test_regularisation_changes_the_image(model: Any) -> None:
    plain = ActMaxSettings(steps=24, jitter=0, blur_sigma=0.0, decay=0.0)
    assert not np.array_equal(maximize_activation(model, "conv2d", 0, FAST).image,
                              maximize_activation(model, "conv2d", 0, plain).image)


def test_the_trained_channel_beats_the_starting_noise_on_a_preset() -> None:
    preset = build_model(get_preset("tiny-vgg-32"), seed=0)
    result = maximize_activation(preset, "conv2d_3", 4, ActMaxSettings(steps=32))
    noise = np.clip(0.5 + 0.1 * np.random.default_rng(0).standard_normal((32, 32, 3)), 0, 1)
    assert result.activations[-1] > _channel_mean(preset, "conv2d_3", 4, noise.astype("float32"))


def test_only_layers_with_maps_are_offered(model: Any) -> None:
    assert spatial_layer_names(model) == ["conv2d", "max_pooling2d", "conv2d_1"]
    with pytest.raises(ActMaxError, match="Received: layer_name='dense'"):
        maximize_activation(model, "dense", 0, FAST)


@pytest.mark.parametrize("channel", [-1, 4, True])
def test_a_channel_outside_the_layer_is_refused(model: Any, channel: Any) -> None:
    with pytest.raises(ActMaxError, match="channel from 0 to 3 of conv2d_1"):
        maximize_activation(model, "conv2d_1", channel, FAST)


@pytest.mark.parametrize(("field", "value"), [("steps", 0), ("learning_rate", float("nan")),
                                              ("jitter", 2.5), ("decay", 1.5), ("seed", -1)])
def test_bad_settings_are_refused_by_name(field: str, value: Any) -> None:
    with pytest.raises(ActMaxError, match=f"Received: {field}="):
        ActMaxSettings(**{field: value})
