from __future__ import annotations

import pytest

from cnnviz.presets import PRESET_DESCRIPTIONS, PRESETS, get_preset, preset_names
from cnnviz.shapes import summarize
from cnnviz.spec import SpecError

# Totals as Keras's model.summary() prints them (checked against Keras in test_shapes_oracle).
TOTALS = {
    "keras-cifar10-cnn": 1_250_858,
    "cifar10-cnn-2filters": 1_241_474,
    "chollet-mnist-convnet": 93_322,
    "keras-mnist-cnn": 1_199_882,
    "separable-convnet": 38_949,
    "vgg16-base": 14_714_688,
}
VGG16_NAMES = [
    f"block{block}_{kind}"
    for block, convs in enumerate((2, 2, 3, 3, 3), 1)
    for kind in [*(f"conv{conv}" for conv in range(1, convs + 1)), "pool"]
]


@pytest.mark.parametrize(("name", "total"), TOTALS.items())
def test_preset_total_is_the_one_keras_reports(name: str, total: int) -> None:
    summary = summarize(get_preset(name))
    assert summary.ok and summary.total_params == total
    assert summary.non_trainable_params == 0


def test_two_filter_cifar_net_layer_counts() -> None:
    summary = summarize(PRESETS["cifar10-cnn-2filters"])
    with_weights = [row.params for row in summary.layers if row.params]
    assert with_weights == [152, 608, 18_496, 36_928, 1_180_160, 5_130]
    assert summary.layers[0].param_formula == "(5·5·3 + 1)·2 = 152"


def test_cifar_example_layer_order() -> None:
    classes = [layer.class_name for layer in PRESETS["keras-cifar10-cnn"].layers]
    assert classes == [
        "Conv2D", "Activation", "Conv2D", "Activation", "MaxPooling2D", "Dropout",
        "Conv2D", "Activation", "Conv2D", "Activation", "MaxPooling2D", "Dropout",
        "Flatten", "Dense", "Activation", "Dropout", "Dense", "Activation",
    ]  # fmt: skip


def test_vgg16_base_has_keras_layer_names_and_shape() -> None:
    summary = summarize(PRESETS["vgg16-base"])
    assert [row.name for row in summary.layers] == VGG16_NAMES
    assert summary.layers[-1].keras_output_shape == (None, 4, 4, 512)


def test_separable_convnet_ends_in_ten_classes() -> None:
    summary = summarize(PRESETS["separable-convnet"])
    assert summary.output_shape == (10,) and PRESETS["separable-convnet"].input_shape == (64, 64, 3)


def test_teacher_presets_are_there_and_valid() -> None:
    for name in ("lenet-5", "tiny-vgg", "mini-mobilenet"):
        assert summarize(PRESETS[name]).ok
    assert summarize(PRESETS["mini-mobilenet"]).non_trainable_params > 0


def test_every_preset_is_valid_and_described() -> None:
    assert preset_names() == tuple(PRESETS) and set(PRESET_DESCRIPTIONS) == set(PRESETS)
    for name, spec in PRESETS.items():
        assert spec.name == name and summarize(spec).ok and PRESET_DESCRIPTIONS[name]


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(SpecError) as caught:
        get_preset("resnet-50")
    assert caught.value.field == "preset" and "vgg16-base" in (caught.value.fix or "")


def test_tiny_vgg_32_has_one_output_per_class_of_the_shapes_dataset() -> None:
    from cnnviz.data import load_dataset
    from cnnviz.train import choose_loss

    spec, shapes = get_preset("tiny-vgg-32"), load_dataset("shapes")
    assert summarize(spec).output_shape == (shapes.num_classes,)
    assert choose_loss(spec, shapes.num_classes).warnings == ()  # no phantom outputs
