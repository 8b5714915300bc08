from __future__ import annotations

import pickle
import random
from typing import Any

import pytest
from archgen import architectures, random_architecture
from hypothesis import given, settings

from cnnviz.errors import LayerRef, short_repr
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.presets import PRESETS
from cnnviz.shapes import summarize
from cnnviz.spec import MAX_LAYERS, ModelSpec, SpecError, layer_from_dict, layer_to_dict


def _error(data: Any) -> SpecError:
    with pytest.raises(SpecError) as caught:
        ModelSpec.from_dict(data)
    return caught.value


def _arch(*layers: dict[str, Any], input_shape: Any = (28, 28, 1)) -> dict[str, Any]:
    return {"input_shape": list(input_shape), "layers": list(layers)}


def _layer(class_name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": config}


def test_error_message_names_layer_field_value_and_fix() -> None:
    error = _error(_arch(_layer("Conv2D", filters=8, kernel_size=3),
                         _layer("Conv2D", filters=0, kernel_size=3, name="second")))  # fmt: skip
    assert error.layer == LayerRef(1, "Conv2D", "second")
    assert (error.field, error.received, error.fix) == ("filters", 0, "set filters to 1 or more")
    assert error.message == (
        "Layer 2 (Conv2D 'second'): `filters`: must be a whole number of at least 1. "
        "Received: filters=0. Fix: set filters to 1 or more."
    )
    assert str(error) == error.message


def test_error_of_an_unnamed_layer_names_its_class() -> None:
    error = _error(_arch(_layer("Dense", units=-3)))
    assert error.message.startswith("Layer 1 (Dense): `units`:")


def test_spec_error_survives_pickling() -> None:
    error = _error(_arch(_layer("Dense", units=0)))
    copy = pickle.loads(pickle.dumps(error))
    assert copy.message == error.message and copy.layer == error.layer


def test_received_values_are_shown_short() -> None:
    error = _error(_arch(_layer("Dense", units=list(range(10_000)))))
    assert len(error.message) < 400 and "..." in error.message
    assert short_repr(10**5000) == "<int>"


def test_channels_first_is_refused_with_a_clear_message() -> None:
    error = _error(_arch(_layer("Conv2D", filters=2, kernel_size=3, data_format="channels_first")))
    assert error.field == "data_format" and "channels_last data only" in error.message


@pytest.mark.parametrize("class_name", ["Conv1D", "Lambda", "conv2d", None, 3, ["Dense"]])
def test_unknown_layer_class_is_refused(class_name: object) -> None:
    error = _error(_arch({"class_name": class_name, "config": {}}))
    assert error.field == "class_name" and "Conv2D" in (error.fix or "")


def test_unknown_argument_lists_the_supported_ones() -> None:
    error = _error(_arch(_layer("Dense", units=3, kernel_constraint="non_neg")))
    assert error.field == "kernel_constraint" and error.layer == LayerRef(0, "Dense")
    assert "units" in (error.fix or "")


def test_missing_argument_is_named() -> None:
    error = _error(_arch(_layer("Conv2D", filters=2)))
    assert error.field == "kernel_size" and error.fix == "add kernel_size to the layer's config"


@pytest.mark.parametrize(
    ("config", "field"),
    [({"units": True}, "units"), ({"units": "10"}, "units"), ({"units": 2.5}, "units"),
     ({"units": 2, "use_bias": 1}, "use_bias"), ({"units": 2, "activation": 3}, "activation"),
     ({"units": 2, "name": 7}, "name")],
)  # fmt: skip
def test_wrong_types_are_refused(config: dict[str, Any], field: str) -> None:
    assert _error(_arch(_layer("Dense", **config))).field == field


@pytest.mark.parametrize("entry", [5, "Dense", None, ["Dense", {}]])
def test_a_layer_must_be_an_object(entry: object) -> None:
    error = _error(_arch(entry))  # type: ignore[arg-type]
    assert error.layer == LayerRef(0, "?")


def test_config_must_be_an_object() -> None:
    assert _error(_arch({"class_name": "Flatten", "config": [1]})).field == "config"


def test_missing_config_means_defaults() -> None:
    spec = ModelSpec.from_dict(_arch({"class_name": "Flatten"}, {"class_name": "Dropout",
                                                                 "config": {"rate": 0.1}}))
    assert isinstance(spec.layers[0], FlattenSpec)


@pytest.mark.parametrize(
    "input_shape", [[28, 28], [28, 28, 1, 1], [0, 28, 1], [-1, 28, 1], [28, 28, True],
                    [28.5, 28, 1], "28x28", None, [5000, 5000, 3], [28, 28, 1000]],
)  # fmt: skip
def test_bad_input_shapes_are_refused(input_shape: object) -> None:
    error = _error({"input_shape": input_shape, "layers": []})
    assert error.field == "input_shape" and error.layer is None


def test_top_level_must_be_a_cnnviz_architecture() -> None:
    assert _error([1, 2]).received == "list"
    assert _error({"input_shape": [8, 8, 1], "optimizer": "adam"}).field == "optimizer"
    assert _error({"input_shape": [8, 8, 1], 7: 1}).field == "7"
    assert _error({"format": "cnnviz/2", "input_shape": [8, 8, 1]}).field == "format"
    assert _error({"input_shape": [8, 8, 1], "layers": {"a": 1}}).field == "layers"


def test_too_many_layers_are_refused() -> None:
    error = _error(_arch(*[_layer("Flatten")] * (MAX_LAYERS + 1)))
    assert error.field == "layers" and error.received == MAX_LAYERS + 1


def test_layer_names_are_keras_defaults_in_a_fresh_session() -> None:
    spec = ModelSpec(input_shape=(8, 8, 1), layers=(
        Conv2DSpec(filters=2, kernel_size=3), Conv2DSpec(filters=2, kernel_size=3, name="mine"),
        Conv2DSpec(filters=2, kernel_size=3), FlattenSpec(), DenseSpec(units=2),
        DenseSpec(units=2)))  # fmt: skip
    assert spec.layer_names() == ("conv2d", "mine", "conv2d_1", "flatten", "dense", "dense_1")
    assert spec.layer_ref(2) == LayerRef(2, "Conv2D", "conv2d_1")


def test_duplicate_names_are_refused_at_the_second_layer() -> None:
    error = _error(_arch(_layer("Dense", units=2, name="head"), _layer("Flatten"),
                         _layer("Dense", units=2, name="head")))  # fmt: skip
    assert error.layer == LayerRef(2, "Dense", "head") and error.field == "name"
    assert "layer 1 (Dense) is named 'head' too" in error.message
    assert error.fix == "rename this layer, e.g. 'head_1'"


def test_a_name_taken_by_a_default_name_is_refused_as_keras_does() -> None:
    error = _error(_arch(_layer("Flatten", name="dense"), _layer("Dense", units=2)))
    assert error.layer == LayerRef(0, "Flatten", "dense")
    assert "layer 2 (Dense) gets the automatic name 'dense' too" in error.message


def test_the_input_layer_name_is_reserved() -> None:
    error = _error(_arch(_layer("Flatten", name="input_layer")))
    assert error.field == "name" and "model's input layer" in error.message


def test_replace_layers_keeps_input_and_name() -> None:
    spec = PRESETS["chollet-mnist-convnet"]
    shorter = spec.replace_layers(spec.layers[:2])
    assert shorter.input_shape == spec.input_shape and shorter.name == spec.name
    assert len(shorter.layers) == 2


def test_replace_layers_checks_names_again() -> None:
    spec = ModelSpec(input_shape=(8, 8, 1), layers=(DenseSpec(units=2, name="a"),))
    with pytest.raises(SpecError, match="names must be unique"):
        spec.replace_layers([*spec.layers, DenseSpec(units=3, name="a")])


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip_through_dicts(name: str) -> None:
    spec = PRESETS[name]
    assert ModelSpec.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["format"] == "cnnviz/1"


def test_generated_architectures_round_trip_through_dicts() -> None:
    checked = 0
    for seed in range(300):
        try:
            spec = ModelSpec.from_dict(random_architecture(random.Random(seed)))
        except SpecError:
            continue
        assert ModelSpec.from_dict(spec.to_dict()) == spec
        assert [layer_from_dict(layer_to_dict(layer)) for layer in spec.layers] == list(spec.layers)
        checked += 1
    assert checked > 150


def test_to_dict_writes_only_non_default_arguments() -> None:
    data = ModelSpec.from_dict(_arch(_layer("MaxPool2D", pool_size=[2, 2], padding="valid")))
    assert data.to_dict()["layers"] == [{"class_name": "MaxPooling2D", "config": {}}]


def test_every_refusal_names_the_layer_field_value_and_a_fix() -> None:
    refused = 0
    for seed in range(400):
        arch = random_architecture(random.Random(seed))
        try:
            error = summarize(ModelSpec.from_dict(arch)).error
        except SpecError as raised:
            error = raised
        if error is None:
            continue
        refused += 1
        assert error.fix, error.message
        if error.layer is not None:
            ref = error.layer
            assert 0 <= ref.index < len(arch["layers"])
            assert error.message.startswith(f"Layer {ref.index + 1} ({ref.class_name}")
        if error.field is not None:
            assert f"`{error.field}`" in error.message and "Received:" in error.message
    assert refused > 100


@settings(max_examples=100, deadline=None, database=None)
@given(architectures())
def test_generated_specs_round_trip_or_refuse_with_a_spec_error(arch: dict[str, Any]) -> None:
    try:
        spec = ModelSpec.from_dict(arch)
    except SpecError as error:
        assert error.fix
        return
    assert ModelSpec.from_dict(spec.to_dict()) == spec
