from __future__ import annotations

import dataclasses
import inspect

import pytest

from cnnviz import backend_rules
from cnnviz.layers import (
    LAYER_ALIASES,
    LAYER_TYPES,
    ActivationSpec,
    AveragePooling2DSpec,
    BatchNormalizationSpec,
    Conv2DSpec,
    DenseSpec,
    DepthwiseConv2DSpec,
    GlobalAveragePooling2DSpec,
    GlobalMaxPooling2DSpec,
    GlobalPooling2DSpec,
    MaxPooling2DSpec,
    Pooling2DSpec,
    SeparableConv2DSpec,
    SpatialDropout2DSpec,
    ZeroPadding2DSpec,
    auto_name,
)
from cnnviz.spec import SpecError

ISSUE_LAYERS = {
    "Conv2D", "SeparableConv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Dense", "Dropout",
    "SpatialDropout2D", "Activation", "BatchNormalization", "ZeroPadding2D",
}  # fmt: skip
REAL_MODEL_LAYERS = {
    "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Reshape", "UpSampling2D", "Conv2DTranspose",
}  # fmt: skip


def test_every_layer_of_the_issue_is_supported() -> None:
    assert set(LAYER_TYPES) == ISSUE_LAYERS | REAL_MODEL_LAYERS
    assert LAYER_ALIASES["MaxPool2D"] == "MaxPooling2D"
    assert all(cls.class_name == name for name, cls in LAYER_TYPES.items())


def _keras_default(parameter: inspect.Parameter) -> object:
    default = parameter.default
    return dataclasses.MISSING if default is inspect.Parameter.empty else default


@pytest.mark.parametrize("class_name", sorted(LAYER_TYPES) + sorted(LAYER_ALIASES))
def test_fields_and_defaults_are_the_keras_constructor_arguments(class_name: str) -> None:
    import keras

    cls = LAYER_TYPES[LAYER_ALIASES.get(class_name, class_name)]
    keras_arguments = inspect.signature(getattr(keras.layers, class_name).__init__).parameters
    for spec_field in dataclasses.fields(cls):
        if spec_field.name in ("name", "trainable"):
            continue
        assert spec_field.name in keras_arguments, spec_field.name
        keras_default = _keras_default(keras_arguments[spec_field.name])
        if spec_field.default is dataclasses.MISSING or keras_default is dataclasses.MISSING:
            assert spec_field.default is keras_default, spec_field.name
            continue
        coerce = spec_field.metadata["coerce"]
        assert spec_field.default == coerce(keras_default, spec_field.name), spec_field.name


def test_values_are_normalised_at_construction() -> None:
    layer = Conv2DSpec(
        filters=8, kernel_size=3, strides=[2, 1], padding="SAME", activation="linear"
    )
    assert layer.kernel_size == (3, 3) and layer.strides == (2, 1)
    assert layer.padding == "same" and layer.activation is None


def test_specs_are_frozen_and_hashable() -> None:
    layer = DenseSpec(units=4)
    with pytest.raises(dataclasses.FrozenInstanceError):
        layer.units = 5  # type: ignore[misc]
    assert hash(layer) == hash(DenseSpec(units=4))


def test_config_holds_only_non_default_arguments() -> None:
    layer = Conv2DSpec(filters=8, kernel_size=[3, 3], padding="same", name="c1", trainable=False)
    assert layer.config() == {
        "name": "c1", "trainable": False, "filters": 8, "kernel_size": [3, 3], "padding": "same",
    }  # fmt: skip


def test_config_with_defaults_is_every_keras_argument() -> None:
    config = MaxPooling2DSpec().config(include_defaults=True)
    assert config == {"name": None, "trainable": True, "pool_size": [2, 2], "strides": None,
                      "padding": "valid", "data_format": None}  # fmt: skip


def test_spatial_dropout_passes_no_trainable_argument_to_keras() -> None:
    assert "trainable" not in SpatialDropout2DSpec(rate=0.2).config(include_defaults=True)
    with pytest.raises(SpecError) as caught:
        SpatialDropout2DSpec(rate=0.2, trainable=False)
    assert caught.value.field == "trainable"
    assert caught.value.fix == "remove trainable from this layer"


def test_conv2d_refuses_strides_with_dilation() -> None:
    with pytest.raises(SpecError) as caught:
        Conv2DSpec(filters=2, kernel_size=3, strides=2, dilation_rate=2)
    assert caught.value.field == "strides" and caught.value.received == [2, 2]
    assert caught.value.fix == "set strides to 1 or dilation_rate to 1"


def test_separable_and_depthwise_accept_strides_with_dilation() -> None:
    SeparableConv2DSpec(filters=2, kernel_size=3, strides=2, dilation_rate=2)
    DepthwiseConv2DSpec(kernel_size=3, strides=[1, 2], dilation_rate=2)


@pytest.mark.parametrize("cls", [SeparableConv2DSpec, DepthwiseConv2DSpec])
def test_unequal_depthwise_strides_are_refused_where_tensorflow_refuses_them(
    cls: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend_rules, "depthwise_takes_unequal_strides", lambda: False)
    extra = {"filters": 2} if cls is SeparableConv2DSpec else {}
    with pytest.raises(SpecError, match="same stride along height and width") as caught:
        cls(kernel_size=3, strides=[1, 2], **extra)
    assert caught.value.fix == "use one stride for both, e.g. 2 or [2, 2]"


@pytest.mark.parametrize("cls", [SeparableConv2DSpec, DepthwiseConv2DSpec])
def test_unequal_depthwise_strides_are_accepted_where_tensorflow_runs_them(
    cls: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend_rules, "depthwise_takes_unequal_strides", lambda: True)
    extra = {"filters": 2} if cls is SeparableConv2DSpec else {}
    assert cls(kernel_size=3, strides=[1, 2], **extra).strides == (1, 2)


def test_filters_must_be_divisible_by_groups() -> None:
    with pytest.raises(SpecError, match=r"filters \(6\) must be divisible by groups"):
        Conv2DSpec(filters=6, kernel_size=1, groups=4)


def test_average_pooling_needs_a_pool_size_as_in_keras_3() -> None:
    with pytest.raises(TypeError):
        AveragePooling2DSpec()  # type: ignore[call-arg]
    assert MaxPooling2DSpec().pool_size == (2, 2)


def test_activation_layer_needs_an_activation() -> None:
    assert ActivationSpec(activation="relu").activation == "relu"
    assert ActivationSpec(activation="linear").config() == {"activation": None}


def test_batch_norm_axis_is_the_channels_axis_only() -> None:
    assert BatchNormalizationSpec(axis=3).axis == 3
    assert BatchNormalizationSpec().axis == -1
    with pytest.raises(SpecError, match="channels axis only"):
        BatchNormalizationSpec(axis=1)


def test_zero_padding_default_is_one_pixel_all_round() -> None:
    assert ZeroPadding2DSpec().padding == ((1, 1), (1, 1))
    assert ZeroPadding2DSpec(padding=[1, 1]).config() == {}


@pytest.mark.parametrize(
    ("class_name", "name"),
    [("Conv2D", "conv2d"), ("SeparableConv2D", "separable_conv2d"),
     ("DepthwiseConv2D", "depthwise_conv2d"), ("MaxPooling2D", "max_pooling2d"),
     ("GlobalAveragePooling2D", "global_average_pooling2d"), ("ZeroPadding2D", "zero_padding2d"),
     ("BatchNormalization", "batch_normalization"), ("SpatialDropout2D", "spatial_dropout2d")],
)  # fmt: skip
def test_auto_name_is_keras_default_prefix(class_name: str, name: str) -> None:
    assert auto_name(class_name) == name


def test_every_activation_and_initializer_name_is_one_keras_knows() -> None:
    import keras

    from cnnviz.fields import ACTIVATIONS, INITIALIZERS

    for name in ACTIVATIONS:
        assert callable(keras.activations.get(name)), name
    for name in INITIALIZERS:
        assert keras.initializers.get(name) is not None, name


def test_pooling_siblings_share_a_base_and_are_not_each_other() -> None:
    average = AveragePooling2DSpec(pool_size=(2, 2))
    assert isinstance(average, Pooling2DSpec) and not isinstance(average, MaxPooling2DSpec)
    assert not isinstance(MaxPooling2DSpec(), AveragePooling2DSpec)
    global_max = GlobalMaxPooling2DSpec()
    assert isinstance(global_max, GlobalPooling2DSpec)
    assert not isinstance(global_max, GlobalAveragePooling2DSpec)
