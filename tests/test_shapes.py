from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from cnnviz.presets import PRESETS
from cnnviz.shapes import BYTES_PER_VALUE, readable_size, summarize, validate
from cnnviz.spec import ModelSpec, SpecError


def _spec(input_shape: list[int], *layers: tuple[str, dict[str, Any]]) -> ModelSpec:
    return ModelSpec.from_dict({
        "input_shape": input_shape,
        "layers": [{"class_name": name, "config": config} for name, config in layers],
    })  # fmt: skip


def test_core_modules_import_neither_tensorflow_nor_keras() -> None:
    script = textwrap.dedent("""
        import sys
        import cnnviz.archfile, cnnviz.presets, cnnviz.shapes, cnnviz.spec
        from cnnviz.archfile import load_architecture
        from cnnviz.presets import PRESETS
        from cnnviz.shapes import summarize
        for spec in PRESETS.values():
            summarize(load_architecture(spec.to_dict()))
        heavy = sorted(name for name in sys.modules
                       if name.split(".")[0] in ("tensorflow", "keras"))
        print(heavy)
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "[]"


def test_summary_lists_every_layer_with_keras_shapes() -> None:
    summary = summarize(PRESETS["chollet-mnist-convnet"])
    assert summary.ok and summary.error is None
    assert [row.keras_output_shape for row in summary.layers] == [
        (None, 26, 26, 32), (None, 13, 13, 32), (None, 11, 11, 64), (None, 5, 5, 64),
        (None, 3, 3, 64), (None, 576), (None, 64), (None, 10),
    ]  # fmt: skip
    assert [row.index for row in summary.layers] == list(range(8))
    assert summary.layers[2].input_shape == (13, 13, 32)
    assert summary.output_shape == (10,)


def test_summary_of_an_empty_stack_is_its_input() -> None:
    summary = summarize(ModelSpec(input_shape=(8, 8, 3)))
    assert summary.ok and summary.layers == () and summary.output_shape == (8, 8, 3)
    assert summary.total_params == 0


def test_totals_split_trainable_and_non_trainable() -> None:
    summary = summarize(_spec([8, 8, 3], ("Conv2D", {"filters": 4, "kernel_size": 3}),
                              ("BatchNormalization", {}), ("Flatten", {}),
                              ("Dense", {"units": 2, "trainable": False})))  # fmt: skip
    assert summary.trainable_params == 112 + 8
    assert summary.non_trainable_params == 8 + (144 + 1) * 2
    assert summary.total_params == summary.trainable_params + summary.non_trainable_params


def test_frozen_batch_norm_is_all_non_trainable() -> None:
    row = summarize(_spec([4, 4, 6], ("BatchNormalization", {"trainable": False}))).layers[0]
    assert (row.trainable_params, row.non_trainable_params) == (0, 24)


def test_output_size_in_values_and_float32_bytes() -> None:
    summary = summarize(_spec([28, 28, 1], ("Conv2D", {"filters": 32, "kernel_size": 3})))
    row = summary.layers[0]
    assert row.output_values == 26 * 26 * 32
    assert row.output_bytes == 26 * 26 * 32 * BYTES_PER_VALUE
    assert summary.activation_bytes == (28 * 28 + 26 * 26 * 32) * 4


def test_summary_stops_at_the_first_invalid_layer_and_names_it() -> None:
    spec = _spec([8, 8, 1], ("Conv2D", {"filters": 2, "kernel_size": 3}),
                 ("MaxPooling2D", {"pool_size": 4, "name": "squash"}),
                 ("Conv2D", {"filters": 2, "kernel_size": 3}), ("Flatten", {}))  # fmt: skip
    summary = summarize(spec)
    assert [row.name for row in summary.layers] == ["conv2d", "squash"]
    error = summary.error
    assert error is not None and not summary.ok
    layer = error.layer
    assert (layer.index, layer.class_name, layer.name) == (2, "Conv2D", "conv2d_1")
    assert error.field == "kernel_size" and error.received == [3, 3]
    assert "Layer 3 (Conv2D 'conv2d_1')" in error.message
    assert "3×3 kernel is larger than its 1×1 input" in error.message
    assert "padding='same'" in error.fix


def test_validate_raises_the_first_error() -> None:
    spec = _spec([2, 2, 1], ("MaxPooling2D", {"pool_size": 3}))
    with pytest.raises(SpecError, match=r"Layer 1 \(MaxPooling2D 'max_pooling2d'\)"):
        validate(spec)


def test_validate_returns_the_summary_of_a_valid_spec() -> None:
    assert validate(PRESETS["lenet-5"]).total_params == summarize(PRESETS["lenet-5"]).total_params


def test_image_layer_after_flatten_says_where_to_move_it() -> None:
    error = summarize(_spec([4, 4, 2], ("Flatten", {}), ("MaxPooling2D", {}))).error
    assert error is not None and error.layer.index == 1
    assert "needs an image-shaped input" in error.message and "flat vector of 32" in error.message
    assert error.fix == "move this layer above the Flatten or global pooling layer"


def test_groups_must_divide_the_input_channels() -> None:
    error = summarize(_spec([4, 4, 3], ("Conv2D", {"filters": 4, "kernel_size": 1, "groups": 2}))
                      ).error  # fmt: skip
    assert error is not None and error.field == "groups" and "3 input channels" in error.problem


def test_batch_norm_axis_3_on_a_flat_input_is_refused() -> None:
    error = summarize(_spec([4, 4, 2], ("Flatten", {}), ("BatchNormalization", {"axis": 3}))).error
    assert error is not None and error.field == "axis"
    assert error.fix == "set axis to -1 (the last axis)"


def test_dense_on_an_image_is_applied_at_every_position() -> None:
    row = summarize(_spec([3, 4, 2], ("Dense", {"units": 5}))).layers[0]
    assert row.output_shape == (3, 4, 5) and row.params == (2 + 1) * 5
    assert row.shape_formula == "applied at each of the 3×4 positions → 3×4×5"


def test_global_pooling_keepdims_keeps_a_1x1_map() -> None:
    rows = summarize(_spec([5, 5, 4], ("GlobalMaxPooling2D", {"keepdims": True}),
                           ("GlobalAveragePooling2D", {}))).layers  # fmt: skip
    assert rows[0].output_shape == (1, 1, 4) and rows[0].shape_formula == "max over 5×5 → 1×1×4"
    assert rows[1].output_shape == (4,) and rows[1].shape_formula == "mean over 1×1 → 4"


def test_asymmetric_zero_padding() -> None:
    row = summarize(_spec([5, 5, 1], ("ZeroPadding2D", {"padding": [[1, 2], [0, 3]]}))).layers[0]
    assert row.output_shape == (8, 8, 1)


def test_pooling_strides_default_to_the_pool_size() -> None:
    rows = summarize(_spec([9, 9, 1], ("MaxPooling2D", {"pool_size": 3}),
                           ("AveragePooling2D", {"pool_size": 2, "strides": 1}))).layers
    assert [row.output_shape for row in rows] == [(3, 3, 1), (2, 2, 1)]


def test_separable_and_depthwise_accept_strides_with_dilation() -> None:
    rows = summarize(_spec([9, 9, 2],
                           ("SeparableConv2D", {"filters": 3, "kernel_size": 3, "strides": 2,
                                                "dilation_rate": 2}),
                           ("DepthwiseConv2D", {"kernel_size": 1, "strides": [1, 2],
                                                "dilation_rate": [2, 1]}))).layers  # fmt: skip
    assert [row.output_shape for row in rows] == [(3, 3, 3), (3, 2, 3)]


@pytest.mark.parametrize(
    ("num_bytes", "text"),
    [(0, "0.00 B"), (1023, "1023.00 B"), (1024, "1.00 KB"), (4_915_200, "4.69 MB"),
     (56_131_200, "53.53 MB"), (3 * 1024**3, "3.00 GB")],
)  # fmt: skip
def test_readable_size_matches_keras_summary(num_bytes: int, text: str) -> None:
    assert readable_size(num_bytes) == text


def test_readable_size_is_keras_own_function() -> None:
    from keras.src.utils.summary_utils import readable_memory_size

    for num_bytes in (0, 5, 1000, 1024, 5_000_000, 58_858_752, 2**40 + 12345):
        assert readable_size(num_bytes) == readable_memory_size(num_bytes)


def test_mobilenet_multiply_adds_are_the_569_million_of_its_paper() -> None:
    # Howard et al. 2017, Table 8: 1.0 MobileNet-224, 569 million mult-adds. cnnviz counts
    # a convolution's multiply-accumulates without the bias, as the paper does.
    summary = summarize(PRESETS["mobilenet-1.0-224"])
    assert round(summary.total_macs / 1_000_000) == 569
    assert summary.total_macs == 568_740_352


def test_conv_transpose_grows_the_map_and_counts_like_a_convolution() -> None:
    row = summarize(_spec([7, 7, 4], ("Conv2DTranspose", {
        "filters": 3, "kernel_size": 3, "strides": 2}))).layers[0]
    assert row.output_shape == (15, 15, 3) and row.params == (3 * 3 * 4 + 1) * 3
    assert row.macs == 7 * 7 * 3 * 3 * 4 * 3
    assert row.receptive_field is None


def test_prelu_has_one_slope_per_value_or_per_unshared_position() -> None:
    per_value = summarize(_spec([4, 5, 2], ("PReLU", {}))).layers[0]
    shared = summarize(_spec([4, 5, 2], ("PReLU", {"shared_axes": [1, 2]}))).layers[0]
    assert (per_value.params, shared.params) == (40, 2)


def test_reshape_resolves_minus_one_and_refuses_a_size_that_does_not_fit() -> None:
    summary = summarize(_spec([4, 4, 2], ("Reshape", {"target_shape": [2, -1, 4]})))
    assert summary.layers[0].output_shape == (2, 4, 4)
    assert "-1 = 32/8 = 4" in summary.layers[0].shape_formula
    error = summarize(_spec([4, 4, 2], ("Reshape", {"target_shape": [3, -1, 2]}))).error
    assert error is not None and error.field == "target_shape"


def test_upsampling_multiplies_height_and_width() -> None:
    row = summarize(_spec([3, 4, 2], ("UpSampling2D", {"size": [2, 3]}))).layers[0]
    assert row.output_shape == (6, 12, 2) and row.shape_formula.startswith("H: 3·2 = 6")
