"""Advice on an architecture: errors on their layer, costly choices, and fixes that work."""

from __future__ import annotations

from typing import Any

import pytest

from cnnviz.advice import (
    Advice,
    advise,
    config_fixes,
    with_last_dense_units,
    with_other_convolution,
)
from cnnviz.layers import Conv2DSpec
from cnnviz.presets import PRESETS
from cnnviz.settings import Settings
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec, SpecError, layer_from_dict


def _spec(input_shape: list[int], *layers: tuple[str, dict[str, Any]]) -> ModelSpec:
    return ModelSpec.from_dict({"input_shape": input_shape, "layers": [
        {"class_name": name, "config": config} for name, config in layers]})


def _only(advice: tuple[Advice, ...], level: str) -> Advice:
    found = [item for item in advice if item.level == level]
    assert len(found) == 1, advice
    return found[0]


def _fix(item: Advice, label_part: str):  # type: ignore[no-untyped-def]
    return next(fix for fix in item.fixes if label_part in fix.label)


CONV = ("Conv2D", {"filters": 4, "kernel_size": 3})
POOL = ("MaxPooling2D", {"pool_size": 2})
FLAT = ("Flatten", {})
DENSE = ("Dense", {"units": 10, "activation": "softmax"})


@pytest.mark.parametrize("name", list(PRESETS))
def test_no_preset_has_an_error(name: str) -> None:
    assert all(item.level == "warning" for item in advise(PRESETS[name], num_classes=10))


def test_a_kernel_larger_than_its_input_is_fixed_by_same_padding() -> None:
    spec = _spec([28, 28, 1], ("Conv2D", {"filters": 2, "kernel_size": 29}), FLAT, DENSE)
    error = _only(advise(spec), "error")
    assert error.layer_index == 0 and "larger than its 28×28 input" in error.message
    fixed = _fix(error, "padding='same'").apply(spec)
    assert fixed.layers[0].padding == "same"  # type: ignore[attr-defined]
    assert summarize(fixed).ok
    assert summarize(spec).error is not None  # the fix returned a new spec


def test_the_pooling_that_collapses_the_map_can_be_dropped() -> None:
    spec = _spec([8, 8, 1], CONV, POOL, POOL, CONV, FLAT, DENSE)  # 6 → 3 → 1, then 3×3 on 1×1
    error = _only(advise(spec), "error")
    assert error.layer_index == 3
    dropped = _fix(error, "Remove the pooling that shrinks the map").apply(spec)
    assert [layer.class_name for layer in dropped.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense"]
    assert summarize(dropped).ok


def test_a_pooling_window_larger_than_its_input_can_be_removed() -> None:
    spec = _spec([3, 3, 1], ("MaxPooling2D", {"pool_size": 4}), FLAT, DENSE)
    error = _only(advise(spec), "error")
    assert {fix.label for fix in error.fixes} >= {"Remove this pooling layer",
                                                  "Use padding='same' here"}
    assert summarize(_fix(error, "Remove this pooling").apply(spec)).ok


def test_a_fix_that_would_not_clear_the_error_is_not_offered() -> None:
    spec = _spec([2, 2, 1], ("Conv2D", {"filters": 1, "kernel_size": 3, "padding": "same"}),
                 ("Conv2D", {"filters": 1, "kernel_size": 5}))
    error = _only(advise(spec), "error")
    assert error.layer_index == 1
    for fix in error.fixes:
        assert summarize(fix.apply(spec)).error is None or summarize(
            fix.apply(spec)).error.layer.index > 1  # type: ignore[union-attr]


def test_a_convolution_after_flatten_offers_to_remove_the_flatten() -> None:
    spec = _spec([8, 8, 1], CONV, FLAT, CONV, DENSE)
    error = _only(advise(spec), "error")
    assert error.layer_index == 2 and "flat vector" in error.message
    assert summarize(_fix(error, "Remove the Flatten").apply(spec)).layers[1].output_shape == (
        4, 4, 4)


def test_fixes_follow_the_error_code_whatever_the_words_of_the_message() -> None:
    error = summarize(_spec([8, 8, 1], CONV, FLAT, CONV, DENSE)).error
    assert error is not None and error.code == "flat_input"
    reworded = SpecError("the wording changed", field="strides", received=[2, 2],
                         code="strides_with_dilation")
    fixes = config_fixes({"strides": [2, 2], "dilation_rate": [2, 2]}, reworded)
    assert [label for label, _ in fixes] == ["Set strides to 1", "Set dilation_rate to 1"]
    unmarked = SpecError("strides > 1 cannot be combined with dilation_rate > 1")
    assert config_fixes({}, unmarked) == ()


def test_dense_on_an_image_map_is_a_warning_with_two_fixes() -> None:
    spec = _spec([8, 8, 1], CONV, DENSE)
    warning = _only(advise(spec), "warning")
    assert warning.layer_index == 1 and "each of the 6×6 positions" in warning.message
    flattened = _fix(warning, "Flatten").apply(spec)
    pooled = _fix(warning, "GlobalAveragePooling2D").apply(spec)
    assert summarize(flattened).output_shape == (10,)
    assert summarize(pooled).output_shape == (10,)


def test_the_last_dense_is_set_to_the_number_of_classes() -> None:
    spec = _spec([8, 8, 1], CONV, FLAT, ("Dense", {"units": 32}), DENSE)
    assert not advise(spec, num_classes=10)
    warning = _only(advise(spec, num_classes=3), "warning")
    assert warning.layer_index == 3 and "3 classes" in warning.message
    assert summarize(warning.fixes[0].apply(spec)).output_shape == (3,)
    assert with_last_dense_units(spec, 7).layers[2] == spec.layers[2]


def test_a_dense_after_flatten_holding_most_parameters_is_flagged() -> None:
    spec = PRESETS["keras-cifar10-cnn"]
    warning = next(item for item in advise(spec) if "Dense layer holds" in item.message)
    assert warning.layer_index == 13 and "94%" in warning.message
    assert "6·6·64 = 2,304 flattened values" in warning.message
    pooled = _fix(warning, "GlobalAveragePooling2D").apply(spec)
    assert summarize(pooled).ok
    assert summarize(pooled).total_params < summarize(spec).total_params / 10


def test_activation_memory_above_the_limit_points_at_the_largest_map() -> None:
    spec = PRESETS["vgg16-base"]
    summary = summarize(spec)
    host = Settings(max_activation_bytes=summary.activation_bytes - 1)
    warning = _only(advise(spec, host=host), "warning")
    largest = max(summary.layers, key=lambda row: row.output_bytes)
    assert warning.layer_index == largest.index
    smaller = warning.fixes[0].apply(spec)
    assert summarize(smaller).activation_bytes < summary.activation_bytes
    assert "CNNVIZ_MAX_ACTIVATION_BYTES" in warning.message
    assert not advise(spec, host=Settings(max_activation_bytes=summary.activation_bytes))


def test_too_many_parameters_for_the_server_is_a_model_wide_warning() -> None:
    spec = PRESETS["keras-mnist-cnn"]
    total = summarize(spec).total_params
    limit_warnings = [item for item in advise(spec, host=Settings(max_params=total - 1))
                      if item.layer_index is None]
    assert len(limit_warnings) == 1 and f"{total:,}" in limit_warnings[0].message
    assert "CNNVIZ_MAX_PARAMS" in limit_warnings[0].message


def test_too_many_layers_for_the_server_is_a_model_wide_warning() -> None:
    spec = PRESETS["keras-mnist-cnn"]
    host = Settings(max_layers=len(spec.layers) - 1)
    limit_warnings = [item for item in advise(spec, host=host) if item.layer_index is None]
    assert len(limit_warnings) == 1 and "CNNVIZ_MAX_LAYERS" in limit_warnings[0].message


def test_strides_with_dilation_get_two_config_fixes_that_both_construct() -> None:
    config = {"filters": 8, "kernel_size": [3, 3], "strides": [2, 2], "dilation_rate": [2, 2]}
    with pytest.raises(SpecError) as raised:
        layer_from_dict({"class_name": "Conv2D", "config": config})
    fixes = config_fixes(config, raised.value)
    assert [label for label, _ in fixes] == ["Set strides to 1", "Set dilation_rate to 1"]
    for _, fixed in fixes:
        layer_from_dict({"class_name": "Conv2D", "config": fixed})


def test_conv2d_and_separable_conv2d_swap_back_and_forth() -> None:
    spec = PRESETS["chollet-mnist-convnet"]
    swapped = with_other_convolution(spec, 2)
    assert swapped.layers[2].class_name == "SeparableConv2D"
    assert summarize(swapped).layers[2].params == 3 * 3 * 32 + 32 * 64 + 64
    assert with_other_convolution(swapped, 2) == spec
    assert isinstance(with_other_convolution(PRESETS["separable-convnet"], 0).layers[0],
                      Conv2DSpec)
    with pytest.raises(SpecError):
        with_other_convolution(spec, 1)
