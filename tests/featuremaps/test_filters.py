from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from cnnviz.featuremaps import (
    LEVELS,
    FilterError,
    colormap_table,
    depthwise_png,
    first_layer_filters,
    first_layer_filters_png,
    input_channel_kernels_png,
    kernel_layer_names,
    layer_kernels,
    pointwise_png,
    signed_to_unit,
)
from cnnviz.keras_build import build_model
from cnnviz.spec import ModelSpec

SPEC = ModelSpec.from_dict({
    "input_shape": [16, 16, 3],
    "layers": [
        {"class_name": "Conv2D", "config": {"filters": 6, "kernel_size": 5}},
        {"class_name": "SeparableConv2D",
         "config": {"filters": 7, "kernel_size": 3, "depth_multiplier": 2}},
        {"class_name": "DepthwiseConv2D", "config": {"kernel_size": 3}},
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 2}},
    ],
})  # fmt: skip


@pytest.fixture(scope="module")
def model() -> Any:
    return build_model(SPEC, seed=1)


def _size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


def test_signed_values_put_zero_in_the_middle() -> None:
    unit = signed_to_unit(np.array([-2.0, 0.0, 1.0, 2.0]))
    np.testing.assert_allclose(unit, [0.0, 0.5, 0.75, 1.0])
    np.testing.assert_allclose(signed_to_unit(np.array([1.0]), peak=4.0), [0.625])
    np.testing.assert_allclose(signed_to_unit(np.zeros(3)), [0.5, 0.5, 0.5])


def test_rgb_filters_are_colour_images_scaled_per_filter() -> None:
    kernel = np.zeros((3, 3, 3, 2), dtype=np.float32)
    kernel[0, 0, 0, 0] = 4.0  # filter 0 wants red at its corner
    kernel[1, 1, 2, 1] = -0.5  # filter 1 dislikes blue at its centre
    images = first_layer_filters(kernel)
    assert images.shape == (2, 3, 3, 3)
    np.testing.assert_allclose(images[0, 0, 0], [1.0, 0.5, 0.5])
    np.testing.assert_allclose(images[1, 1, 1], [0.5, 0.5, 0.0])
    assert np.all(images[0, 2, 2] == 0.5)


def test_greyscale_filters_have_no_colour_axis() -> None:
    assert first_layer_filters(np.ones((5, 5, 1, 4))).shape == (4, 5, 5)


def test_other_channel_counts_point_to_the_per_channel_view() -> None:
    with pytest.raises(FilterError, match="one input channel at a time"):
        first_layer_filters(np.ones((3, 3, 4, 2)))
    with pytest.raises(FilterError, match="kernel height"):
        first_layer_filters(np.ones((3, 3, 4)))


def test_first_layer_png_is_rgb_with_one_tile_per_filter(model: Any) -> None:
    kernels = layer_kernels(model, "conv2d")
    image = Image.open(io.BytesIO(first_layer_filters_png(kernels.kernel)))
    assert image.mode == "RGB"
    assert image.size[0] >= 64  # 5×5 kernels are enlarged, not drawn 5 pixels wide


def test_conv2d_kernels_are_the_keras_weights(model: Any) -> None:
    kernels = layer_kernels(model, "conv2d")
    np.testing.assert_array_equal(kernels.kernel, model.get_layer("conv2d").get_weights()[0])
    assert kernels.kernel.shape == (5, 5, 3, 6) and kernels.input_channels == 3


def test_separable_parts_are_apart(model: Any) -> None:
    kernels = layer_kernels(model, "separable_conv2d")
    depthwise, pointwise, _ = model.get_layer("separable_conv2d").get_weights()
    assert kernels.kernel is None
    np.testing.assert_array_equal(kernels.depthwise, depthwise)
    assert kernels.depthwise.shape == (3, 3, 6, 2)
    assert kernels.pointwise.shape == (12, 7)
    np.testing.assert_array_equal(kernels.pointwise, pointwise[0, 0])


def test_depthwise_layer_has_only_a_depthwise_part(model: Any) -> None:
    kernels = layer_kernels(model, "depthwise_conv2d")
    assert kernels.depthwise.shape == (3, 3, 7, 1) and kernels.pointwise is None


def test_kernel_layers_are_listed_in_order(model: Any) -> None:
    assert kernel_layer_names(model) == ["conv2d", "separable_conv2d", "depthwise_conv2d"]


def test_layers_without_kernels_are_refused_by_name(model: Any) -> None:
    with pytest.raises(FilterError, match="Flatten"):
        layer_kernels(model, "flatten")
    with pytest.raises(FilterError, match="no layer named 'nope'"):
        layer_kernels(model, "nope")


def test_input_channel_view_draws_each_filter_on_the_layer_scale() -> None:
    kernel = np.zeros((3, 3, 2, 4), dtype=np.float32)
    kernel[..., 1, 0] = 2.0  # strongest weight of the layer: filter 0 on channel 1
    kernel[..., 1, 3] = -1.0
    image = Image.open(io.BytesIO(input_channel_kernels_png(kernel, 1))).convert("RGB")
    pixels = np.asarray(image)
    table = colormap_table("coolwarm", LEVELS)
    expected = table[np.rint(np.array([1.0, 0.25, 0.5]) * (LEVELS - 1)).astype(int)]
    colours = {tuple(colour) for colour in pixels.reshape(-1, 3)}
    for colour in expected:
        assert tuple(colour) in colours


def test_input_channel_out_of_range_says_the_range() -> None:
    with pytest.raises(FilterError, match="from 0 to 1"):
        input_channel_kernels_png(np.zeros((3, 3, 2, 4)), 2)


def test_depthwise_png_labels_each_copy_of_each_channel(model: Any) -> None:
    kernels = layer_kernels(model, "separable_conv2d")
    assert _size(depthwise_png(kernels.depthwise))[0] > 0


def test_pointwise_png_is_a_cell_per_weight() -> None:
    width, height = _size(pointwise_png(np.ones((12, 7))))
    assert width / 7 == height / 12 and width % 7 == 0
    with pytest.raises(FilterError, match="channels, filters"):
        pointwise_png(np.ones((3, 3, 3)))
