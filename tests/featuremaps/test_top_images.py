from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cnnviz.data import load_dataset
from cnnviz.featuremaps import TopImagesError, channel_peaks, receptive_box, top_images
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from cnnviz.spec import ModelSpec

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")


def _conv(filters: int = 2, **config: Any) -> dict[str, Any]:
    return {"class_name": "Conv2D", "config": {"filters": filters, "kernel_size": 3, **config}}


GEOMETRIES = {
    "valid": [_conv(), _conv()],
    "same_strided": [_conv(padding="same", strides=2), _conv(kernel_size=5, padding="same")],
    "dilated_and_pooled": [_conv(dilation_rate=2), {"class_name": "AveragePooling2D",
                           "config": {"pool_size": 2}}, _conv(padding="same")],
    "padded_pool_same": [{"class_name": "ZeroPadding2D", "config": {"padding": [1, 2]}},
                         {"class_name": "AveragePooling2D",
                          "config": {"pool_size": 3, "strides": 2, "padding": "same"}},
                         {"class_name": "SeparableConv2D",
                          "config": {"filters": 2, "kernel_size": 3, "strides": 2}}],
    "upsampled": [_conv(), {"class_name": "UpSampling2D", "config": {"size": 2}}, _conv()],
}  # fmt: skip


def _gradient_support(model: Any, row: int, col: int) -> tuple[int, int, int, int]:
    """The input pixels with a nonzero gradient for one output value, with every weight 1
    and no activation: exactly the pixels that value reads."""
    model.set_weights([np.ones_like(w) for w in model.get_weights()])
    image = tf.ones((1, *model.inputs[0].shape[1:]))
    with tf.GradientTape() as tape:
        tape.watch(image)
        value = tf.reduce_sum(model(image)[0, row, col, :])
    support = np.abs(tape.gradient(value, image).numpy()[0]).sum(axis=-1) > 0
    rows, cols = np.flatnonzero(support.any(axis=1)), np.flatnonzero(support.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]), int(cols[-1])


@pytest.mark.parametrize("name", GEOMETRIES)
def test_the_receptive_box_is_what_keras_gradients_reach(name: str) -> None:
    spec = ModelSpec.from_dict({"input_shape": [17, 15, 1], "layers": GEOMETRIES[name]})
    model = build_model(spec)
    last = model.layers[-1]
    height, width = (int(side) for side in last.output.shape[1:3])
    for row, col in {(0, 0), (height // 2, width // 3), (height - 1, width - 1)}:
        box = receptive_box(model, last.name, row, col)
        assert not box.whole
        assert (box.top, box.left, box.bottom, box.right) == _gradient_support(model, row, col)


def test_max_pooling_reads_the_same_window_as_average_pooling() -> None:
    def box(kind: str) -> Any:
        spec = ModelSpec.from_dict({"input_shape": [16, 16, 1], "layers": [
            _conv(), {"class_name": kind, "config": {"pool_size": 2}}]})
        return receptive_box(build_model(spec), build_model(spec).layers[-1].name, 3, 5)
    assert box("MaxPooling2D") == box("AveragePooling2D")


@pytest.fixture(scope="module")
def shapes_model() -> Any:
    return build_model(get_preset("tiny-vgg-32"), seed=2)


@pytest.fixture(scope="module")
def shapes_test() -> np.ndarray:
    return load_dataset("shapes").x_test[:300]


def test_peaks_are_keras_layer_outputs_reduced_over_space(shapes_model: Any,
                                                          shapes_test: np.ndarray) -> None:
    peaks = channel_peaks(shapes_model, "conv2d_3", shapes_test)
    probe = keras.Model(shapes_model.inputs[0], shapes_model.get_layer("conv2d_3").output)
    maps = probe.predict(shapes_test, verbose=0)
    np.testing.assert_allclose(peaks.values, maps.max(axis=(1, 2)), rtol=1e-5, atol=1e-6)
    picked = maps[np.arange(len(maps))[:, None], peaks.rows, peaks.cols,
                  np.arange(maps.shape[3])[None, :]]
    np.testing.assert_allclose(picked, maps.max(axis=(1, 2)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("channel", [0, 7])
def test_top_images_are_the_argmax_of_the_channel_over_the_set(
    shapes_model: Any, shapes_test: np.ndarray, channel: int
) -> None:
    peaks = channel_peaks(shapes_model, "max_pooling2d", shapes_test)
    top = top_images(shapes_model, peaks, channel, count=5)
    probe = keras.Model(shapes_model.inputs[0], shapes_model.get_layer("max_pooling2d").output)
    strongest = probe.predict(shapes_test, verbose=0)[..., channel].max(axis=(1, 2))
    expected = np.argsort(-strongest, kind="stable")[:5]
    assert [image.index for image in top] == list(expected)
    np.testing.assert_allclose([image.value for image in top], strongest[expected], rtol=1e-5)
    assert all(image.box.height == 6 and image.box.width == 6 for image in top
               if 0 < image.row < 15 and 0 < image.col < 15)  # two 3×3 convs and a 2×2 pool


def test_a_flat_layer_or_a_wrong_channel_is_refused(shapes_model: Any,
                                                    shapes_test: np.ndarray) -> None:
    with pytest.raises(TopImagesError, match="outputs maps"):
        channel_peaks(shapes_model, "dense", shapes_test)
    with pytest.raises(TopImagesError, match=r"Received: shape=\(4, 8, 8, 1\)"):
        channel_peaks(shapes_model, "conv2d", np.zeros((4, 8, 8, 1), np.float32))
    peaks = channel_peaks(shapes_model, "conv2d", shapes_test[:4])
    with pytest.raises(TopImagesError, match="channel from 0 to 9. Received: channel=10"):
        top_images(shapes_model, peaks, 10)
