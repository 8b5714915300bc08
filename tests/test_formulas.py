from __future__ import annotations

import random
import re

import pytest
from archgen import random_architecture

from cnnviz import formulas as fx
from cnnviz.presets import PRESETS
from cnnviz.shapes import LayerSummary, summarize
from cnnviz.spec import ModelSpec, SpecError

NUMBER = re.compile(r"\d[\d,]*")


def _last_number(text: str) -> int:
    return int(NUMBER.findall(text)[-1].replace(",", ""))


def test_valid_padding_formula_is_the_floor_expression() -> None:
    assert fx.window_formula((28, 28), (3, 3), (1, 1), (1, 1), "valid") == "⌊(28 − 3)/1⌋ + 1 = 26"


def test_same_padding_formula_is_the_ceiling_of_side_over_stride() -> None:
    assert fx.window_formula((28, 28), (3, 3), (1, 1), (2, 2), "same") == "⌈28/2⌉ = 14"


def test_window_formula_shows_both_axes_when_they_differ() -> None:
    text = fx.window_formula((28, 20), (3, 5), (1, 1), (1, 1), "valid")
    assert text == "H: ⌊(28 − 3)/1⌋ + 1 = 26; W: ⌊(20 − 5)/1⌋ + 1 = 16"


def test_dilated_window_formula_spells_out_the_dilation() -> None:
    text = fx.window_formula((9, 9), (3, 3), (2, 2), (1, 1), "valid")
    assert text == "⌊(9 − (3 − 1)·2 − 1)/1⌋ + 1 = 5"


def test_conv_parameter_formula() -> None:
    assert fx.conv_params(3, 3, 1, 32, True) == (320, "(3·3·1 + 1)·32 = 320")


def test_conv_parameter_formula_without_bias() -> None:
    assert fx.conv_params(3, 3, 3, 16, False) == (432, "3·3·3·16 = 432")


def test_separable_parameter_formula() -> None:
    assert fx.separable_params(3, 3, 32, 1, 64, True) == (2400, "3·3·32·1 + 32·1·64 + 64 = 2,400")


def test_depthwise_parameter_formula() -> None:
    assert fx.depthwise_params(3, 3, 16, 2, True) == (320, "3·3·16·2 + 16·2 = 320")


def test_dense_parameter_formula_groups_thousands() -> None:
    assert fx.dense_params(2304, 512, True) == (1180160, "(2,304 + 1)·512 = 1,180,160")


def test_batch_norm_formula_splits_learned_and_moving_statistics() -> None:
    trainable, non_trainable, text = fx.batch_norm_params(32, center=True, scale=True)
    assert (trainable, non_trainable) == (64, 64)
    assert text == (
        "γ, β: 2·32 = 64 trainable; moving mean, variance: 2·32 = 64 non-trainable; 64 + 64 = 128"
    )


def test_batch_norm_without_center_and_scale_has_only_moving_statistics() -> None:
    assert fx.batch_norm_params(8, center=False, scale=False) == (
        0, 16, "moving mean, variance: 2·8 = 16 non-trainable")  # fmt: skip


def test_padding_formula_adds_both_sides() -> None:
    assert fx.padding_formula((5, 5), ((1, 2), (0, 3))) == "H: 5 + 1 + 2 = 8; W: 5 + 0 + 3 = 8"


def test_summary_shows_the_textbook_formulas_of_the_mnist_convnet() -> None:
    first = summarize(PRESETS["chollet-mnist-convnet"]).layers[0]
    assert first.param_formula == "(3·3·1 + 1)·32 = 320"
    assert first.shape_formula == "⌊(28 − 3)/1⌋ + 1 = 26 → 26×26×32"


def test_summary_shows_the_separable_formula() -> None:
    second = summarize(PRESETS["separable-convnet"]).layers[1]
    assert second.param_formula == "3·3·32·1 + 32·1·64 + 64 = 2,400"
    assert second.params == 2400


def test_frozen_layer_formula_says_its_weights_are_not_trainable() -> None:
    spec = ModelSpec.from_dict({"input_shape": [28, 28, 1], "layers": [
        {"class_name": "Conv2D",
         "config": {"filters": 32, "kernel_size": 3, "trainable": False}}]})  # fmt: skip
    layer = summarize(spec).layers[0]
    assert layer.param_formula.startswith("(3·3·1 + 1)·32 = 320")
    assert "non-trainable" in layer.param_formula and layer.non_trainable_params == 320


def _summaries() -> list[LayerSummary]:
    layers = [row for spec in PRESETS.values() for row in summarize(spec).layers]
    for seed in range(150):
        try:
            spec = ModelSpec.from_dict(random_architecture(random.Random(seed)))
        except SpecError:
            continue
        layers += summarize(spec).layers
    return layers


ROWS = _summaries()


def test_every_parameter_formula_ends_with_the_count_shown() -> None:
    for row in ROWS:
        assert _last_number(row.param_formula) == row.params, (row.name, row.param_formula)


def test_every_shape_formula_ends_with_the_output_shape() -> None:
    for row in ROWS:
        if row.shape_formula == "same as input":
            assert row.output_shape == row.input_shape
            continue
        tail = re.split(r"→|=", row.shape_formula)[-1].strip().replace(",", "")
        assert tail == "×".join(map(str, row.output_shape)), (row.name, row.shape_formula)


def test_every_formula_result_in_a_window_formula_is_an_output_side() -> None:
    for row in ROWS:
        if "⌋" not in row.shape_formula and "⌉" not in row.shape_formula:
            continue
        arithmetic = row.shape_formula.split("→")[0]
        results = {int(value) for value in re.findall(r"= (\d+)", arithmetic)}
        assert results <= set(row.output_shape[:2]), (row.name, row.shape_formula)


MNIST_MACS = [
    26 * 26 * 3 * 3 * 1 * 32, 0, 11 * 11 * 3 * 3 * 32 * 64, 0, 3 * 3 * 3 * 3 * 64 * 64, 0,
    576 * 64, 64 * 10,
]  # fmt: skip


def test_macs_of_the_mnist_convnet_by_hand() -> None:
    summary = summarize(PRESETS["chollet-mnist-convnet"])
    assert [row.macs for row in summary.layers] == MNIST_MACS
    assert summary.total_macs == 2_794_240


def test_separable_macs_are_depthwise_plus_pointwise() -> None:
    first = summarize(PRESETS["separable-convnet"]).layers[0]
    assert first.macs == 62 * 62 * 3 * 3 * 3 + 62 * 62 * 3 * 32


def test_depthwise_macs_count_each_output_channel_once() -> None:
    spec = ModelSpec.from_dict({"input_shape": [8, 8, 4], "layers": [
        {"class_name": "DepthwiseConv2D", "config": {"kernel_size": 3, "depth_multiplier": 2}}]})
    assert summarize(spec).layers[0].macs == 6 * 6 * 3 * 3 * 8


def test_grouped_conv_macs_use_channels_per_group() -> None:
    spec = ModelSpec.from_dict({"input_shape": [8, 8, 4], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 6, "kernel_size": 3, "groups": 2}}]})
    row = summarize(spec).layers[0]
    assert row.macs == 6 * 6 * 3 * 3 * 2 * 6 and row.params == (3 * 3 * 2 + 1) * 6


def test_dense_on_an_image_counts_every_position() -> None:
    spec = ModelSpec.from_dict({"input_shape": [3, 4, 2], "layers": [
        {"class_name": "Dense", "config": {"units": 5}}]})
    assert summarize(spec).layers[0].macs == 3 * 4 * 2 * 5


def test_vgg16_convolutions_on_224_pixels_cost_the_published_15_3_gmacs() -> None:
    spec = ModelSpec(input_shape=(224, 224, 3), layers=PRESETS["vgg16-base"].layers)
    assert summarize(spec).total_macs == 15_346_630_656


VGG16_FIELDS = {
    "block1_conv1": 3, "block1_conv2": 5, "block1_pool": 6, "block2_conv2": 14,
    "block2_pool": 16, "block3_conv3": 40, "block3_pool": 44, "block4_conv3": 92,
    "block4_pool": 100, "block5_conv1": 132, "block5_conv3": 196, "block5_pool": 212,
}  # fmt: skip


@pytest.mark.parametrize(("name", "size"), VGG16_FIELDS.items())
def test_vgg16_receptive_fields(name: str, size: int) -> None:
    rows = {row.name: row for row in summarize(PRESETS["vgg16-base"]).layers}
    assert rows[name].receptive_field == (size, size)


def test_mnist_convnet_receptive_fields_end_when_flattened() -> None:
    rows = summarize(PRESETS["chollet-mnist-convnet"]).layers
    fields = [row.receptive_field for row in rows]
    assert fields == [(3, 3), (4, 4), (8, 8), (10, 10), (18, 18), None, None, None]


def test_dilated_and_strided_receptive_fields() -> None:
    spec = ModelSpec.from_dict({"input_shape": [32, 32, 1], "layers": [
        {"class_name": "Conv2D", "config": {"filters": 1, "kernel_size": 3, "dilation_rate": 2}},
        {"class_name": "Conv2D", "config": {"filters": 1, "kernel_size": [3, 1], "strides": 2}},
        {"class_name": "Conv2D", "config": {"filters": 1, "kernel_size": 3}}]})  # fmt: skip
    fields = [row.receptive_field for row in summarize(spec).layers]
    assert fields == [(5, 5), (7, 5), (11, 9)]


def test_transpose_formula_valid_is_in_minus_one_times_stride_plus_kernel() -> None:
    from cnnviz.formulas import transpose_formula

    assert transpose_formula((7, 7), (3, 3), (2, 2), (1, 1), "valid", None) == (
        "(7 − 1)·2 + 3 = 15")
    assert transpose_formula((3, 3), (1, 1), (3, 3), (1, 1), "valid", None) == (
        "(3 − 1)·3 + 1 + 2 = 9")  # stride above kernel: max(kernel, stride)


def test_transpose_formula_same_and_output_padding() -> None:
    from cnnviz.formulas import transpose_formula

    assert transpose_formula((7, 7), (3, 3), (2, 2), (1, 1), "same", None) == "7·2 = 14"
    assert transpose_formula((7, 7), (4, 4), (2, 2), (1, 1), "same", (1, 1)) == (
        "(7 − 1)·2 + (4 mod 2) + 1 = 13")
    assert transpose_formula((4, 4), (3, 3), (1, 1), (2, 2), "valid", (0, 0)) == (
        "(4 − 1)·1 + ((3 − 1)·2 + 1) + 0 = 8")
