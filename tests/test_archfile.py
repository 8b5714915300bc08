from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from archgen import random_architecture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnviz.archfile import MAX_FILE_BYTES, dump_architecture, load_architecture
from cnnviz.presets import PRESETS
from cnnviz.shapes import ModelSummary, summarize
from cnnviz.spec import ModelSpec, SpecError

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


def _numbers(summary: ModelSummary) -> list[tuple[Any, ...]]:
    return [(row.name, row.class_name, row.output_shape, row.trainable_params,
             row.non_trainable_params) for row in summary.layers]  # fmt: skip


def _layer(class_name: str, **config: Any) -> dict[str, Any]:
    return {"class_name": class_name, "config": config}


VALID = {"format": "cnnviz/1", "name": "mnist-convnet", "input_shape": [28, 28, 1], "layers": [
    _layer("Conv2D", filters=32, kernel_size=[3, 3], activation="relu"),
    _layer("MaxPooling2D", pool_size=[2, 2]), _layer("Flatten"),
    _layer("Dense", units=10, activation="softmax")]}  # fmt: skip


def test_the_design_example_loads() -> None:
    spec = load_architecture(json.dumps(VALID))
    assert spec.name == "mnist-convnet" and summarize(spec).total_params == 54_410


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_round_trip_through_the_file(name: str) -> None:
    text = dump_architecture(PRESETS[name])
    assert load_architecture(text) == PRESETS[name]
    assert load_architecture(text.encode()) == PRESETS[name]
    assert load_architecture(json.loads(text)) == PRESETS[name]


def test_generated_architectures_round_trip_through_the_file() -> None:
    loaded = 0
    for seed in range(300):
        try:
            spec = load_architecture(random_architecture(random.Random(seed)))
        except SpecError:
            continue
        assert load_architecture(dump_architecture(spec, indent=None)) == spec
        loaded += 1
    assert loaded > 150


def test_dump_is_readable_json_with_the_format_tag() -> None:
    data = json.loads(dump_architecture(PRESETS["lenet-5"]))
    assert data["format"] == "cnnviz/1" and data["layers"][0]["class_name"] == "Conv2D"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_keras_json_of_every_preset_imports_to_the_same_summary(name: str) -> None:
    from cnnviz.keras_build import build_model

    imported = load_architecture(build_model(PRESETS[name]).to_json())
    assert _numbers(summarize(imported)) == _numbers(summarize(PRESETS[name]))


def test_keras_json_of_a_hand_written_model_imports() -> None:
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input(shape=(32, 32, 3)),
        layers.Conv2D(8, 3, padding="same", kernel_initializer="he_normal"),
        layers.BatchNormalization(center=False), layers.Activation("linear"),
        layers.SeparableConv2D(16, 3, depth_multiplier=2, use_bias=False),
        layers.MaxPool2D(), layers.ZeroPadding2D(((0, 1), (2, 0))),
        layers.SpatialDropout2D(0.1), layers.GlobalAveragePooling2D(keepdims=True),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax"),
    ], name="handmade")  # fmt: skip
    spec = load_architecture(model.to_json())
    assert spec.name == "handmade" and spec.input_shape == (32, 32, 3)
    summary = summarize(spec)
    assert summary.total_params == model.count_params()
    assert [row.keras_output_shape for row in summary.layers] == [
        tuple(layer.output.shape) for layer in model.layers
    ]


@pytest.mark.parametrize(
    "initializer", ["random_normal", "random_uniform", "truncated_normal", "orthogonal", "ones"]
)
def test_keras_json_with_a_default_initializer_imports_by_name(initializer: str) -> None:
    import keras

    model = keras.Sequential([keras.Input(shape=(4, 4, 1)),
                              keras.layers.Conv2D(2, 3, kernel_initializer=initializer)])
    assert load_architecture(model.to_json()).layers[0].kernel_initializer == initializer


def test_keras_json_with_a_tuned_initializer_is_refused() -> None:
    import keras

    tuned = keras.initializers.RandomNormal(stddev=1.0)
    model = keras.Sequential([keras.Input(shape=(4,)),
                              keras.layers.Dense(2, kernel_initializer=tuned)])  # fmt: skip
    with pytest.raises(SpecError, match="with Keras's default arguments") as caught:
        load_architecture(model.to_json())
    assert caught.value.field == "kernel_initializer"


def test_keras_json_of_a_functional_chain_imports() -> None:
    import keras

    inputs = keras.Input(shape=(8, 8, 1))
    hidden = keras.layers.Conv2D(4, 3, name="c")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(hidden)))
    summary = summarize(load_architecture(model.to_json()))
    assert summary.total_params == model.count_params()
    assert [row.name for row in summary.layers] == [layer.name for layer in model.layers[1:]]


def test_keras_json_of_a_branching_model_is_refused_naming_the_merge() -> None:
    import keras

    inputs = keras.Input(shape=(8, 8, 2))
    conv = keras.layers.Conv2D(2, 3, padding="same", name="c")(inputs)
    model = keras.Model(inputs, keras.layers.Add(name="skip")([inputs, conv]))
    with pytest.raises(SpecError) as caught:
        load_architecture(model.to_json())
    assert "'skip'" in caught.value.problem and "one chain" in caught.value.problem


def test_keras_json_of_a_model_with_two_inputs_is_refused() -> None:
    import keras

    first, second = keras.Input(shape=(4, 4, 1)), keras.Input(shape=(4, 4, 1))
    model = keras.Model([first, second], keras.layers.Add()([first, second]))
    with pytest.raises(SpecError, match="one input and one output"):
        load_architecture(model.to_json())


@pytest.mark.parametrize(("application", "preset"), [
    ("MobileNet", "mobilenet-1.0-224"), ("VGG16", "vgg16"), ("VGG19", "vgg19")])
def test_keras_applications_import_with_their_tops_and_keras_counts(
    application: str, preset: str
) -> None:
    import keras

    keras.backend.clear_session(free_memory=False)
    model = getattr(keras.applications, application)(weights=None)
    spec = load_architecture(model.to_json())
    summary = summarize(spec)
    assert summary.total_params == model.count_params()
    assert summary.trainable_params == sum(int(w.numpy().size) for w in model.trainable_weights)
    assert [row.name for row in summary.layers] == [layer.name for layer in model.layers[1:]]
    assert [row.keras_output_shape for row in summary.layers] == [
        tuple(layer.output.shape) for layer in model.layers[1:]]
    assert spec.layers == PRESETS[preset].layers


def test_mobilenet_count_is_the_one_keras_prints() -> None:
    assert summarize(PRESETS["mobilenet-1.0-224"]).total_params == 4_253_864


def test_keras_json_with_an_unsupported_layer_names_it() -> None:
    import keras

    model = keras.Sequential([keras.Input(shape=(8, 8, 1)), keras.layers.Flatten(),
                              keras.layers.UnitNormalization()])  # fmt: skip
    with pytest.raises(SpecError) as caught:
        load_architecture(model.to_json())
    assert caught.value.field == "class_name" and caught.value.layer.index == 1


def test_keras_json_with_regularizers_imports_and_builds_them() -> None:
    import keras

    from cnnviz.keras_build import build_model

    model = keras.Sequential([
        keras.Input(shape=(4, 4, 1)), keras.layers.Flatten(),
        keras.layers.Dense(2, kernel_regularizer=keras.regularizers.L1L2(l1=0.1, l2=0.2),
                           bias_regularizer="l2")])  # fmt: skip
    spec = load_architecture(model.to_json())
    assert spec.layers[1].config()["kernel_regularizer"] == {
        "class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}}
    assert spec.layers[1].config()["bias_regularizer"] == "l2"
    dense = build_model(spec).layers[-1]
    assert dense.kernel_regularizer.get_config() == {"l1": 0.1, "l2": 0.2}
    assert dense.bias_regularizer.get_config() == {"l2": 0.01}


def test_keras_json_without_an_input_shape_says_how_to_fix_it() -> None:
    data = {"module": "keras", "class_name": "Sequential",
            "config": {"name": "s", "layers": [_layer("Flatten")]}}  # fmt: skip
    with pytest.raises(SpecError, match="does not say its input shape") as caught:
        load_architecture(data)
    assert "keras.Input" in (caught.value.fix or "")


def test_malformed_json_says_where() -> None:
    with pytest.raises(SpecError, match=r"not valid JSON \(line 2, column 1"):
        load_architecture('{"input_shape": [28, 28, 1],\n}')


def _mutated(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        data["layers"][0]["config"][key] = value
    return data


HOSTILE: dict[str, Any] = {
    "empty": "",
    "null": "null",
    "a list": "[1, 2, 3]",
    "a string": '"hello"',
    "not utf-8": b"\xff\xfe\x00{",
    "deeply nested": "[" * 100_000 + "]" * 100_000,
    "deeply nested value": json.dumps(_mutated(filters="x")).replace(
        '"x"', "[" * 900 + "1" + "]" * 900),
    "too big": " " * (MAX_FILE_BYTES + 1),
    "huge integer": '{"input_shape": [' + "9" * 5000 + ", 2, 1]}",
    "NaN": json.dumps(_mutated(filters=float("nan"))),
    "Infinity": '{"input_shape": [Infinity, 28, 1]}',
    "boolean for int": json.dumps(_mutated(filters=True)),
    "string for int": json.dumps(_mutated(filters="32")),
    "list for string": json.dumps(_mutated(padding=["same"])),
    "object for activation": json.dumps(_mutated(activation={"relu": 1})),
    "negative size": json.dumps(_mutated(kernel_size=[-3, 3])),
    "enormous size": json.dumps(_mutated(filters=10**30)),
    "enormous kernel": json.dumps(_mutated(kernel_size=10**6)),
    "enormous rate": '{"input_shape": [4, 4, 1], "layers": [{"class_name": "Dropout", '
                     '"config": {"rate": ' + "9" * 400 + "}}]}",
    "unknown layer": json.dumps({"input_shape": [4, 4, 1], "layers": [_layer("Lambda")]}),
    "unknown key": json.dumps(_mutated(function="import os")),
    "layers as object": '{"input_shape": [4, 4, 1], "layers": {"0": {}}}',
    "too many layers": json.dumps({"input_shape": [4, 4, 1],
                                   "layers": [_layer("Flatten")] * 5000}),
    "collapsing shape": json.dumps({"input_shape": [4, 4, 1], "layers": [
        _layer("MaxPooling2D")] * 3}),
    "keras-like junk": json.dumps({"module": "keras", "class_name": "Sequential", "config": {
        "layers": [{"class_name": "InputLayer", "config": {"batch_shape": "x"}},
                   {"class_name": "Dense", "config": {"units": 2, "kernel_initializer": {
                       "class_name": "GlorotUniform", "config": [1]}}}]}}),
    "keras functional": json.dumps({"module": "keras", "class_name": "Functional", "config": {}}),
    "python object": object(),
}  # fmt: skip


@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_input_gives_only_a_spec_error(label: str) -> None:
    with pytest.raises(SpecError) as caught:
        load_architecture(HOSTILE[label])
    assert 0 < len(caught.value.message) < 600 and caught.value.fix


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)
KEYS = st.sampled_from(["format", "name", "input_shape", "layers", "class_name", "config",
                        "filters", "kernel_size", "strides", "padding", "units", "rate",
                        "pool_size", "module", "activation", "trainable", "axis"])  # fmt: skip


def _loads_or_spec_error(source: Any) -> None:
    try:
        spec = load_architecture(source)
    except SpecError as error:
        assert error.message and error.fix, error.message
    else:
        assert isinstance(spec, ModelSpec) and summarize(spec).ok


@FUZZ
@given(JSON_VALUES)
def test_fuzz_random_json_values(value: Any) -> None:
    _loads_or_spec_error(json.dumps(value))
    if isinstance(value, dict):
        _loads_or_spec_error(value)


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_fuzz_random_text(source: bytes | str) -> None:
    _loads_or_spec_error(source)


def _sources() -> list[dict[str, Any]]:
    from cnnviz.keras_build import build_model

    generated = [random_architecture(random.Random(seed)) for seed in range(40)]
    keras_json = [json.loads(build_model(PRESETS[name]).to_json())
                  for name in ("mini-mobilenet", "separable-convnet", "lenet-5")]  # fmt: skip
    return [VALID, *generated, *(spec.to_dict() for spec in PRESETS.values()), *keras_json]


SOURCES = _sources()


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*path, index))
    return found


@FUZZ
@given(st.sampled_from(SOURCES), st.data())
def test_fuzz_mutations_of_valid_files(source: dict[str, Any], data: st.DataObject) -> None:
    document = copy.deepcopy(source)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(document)[1:] or [()]))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        if not path:
            break
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = data.draw(JSON_VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[data.draw(KEYS)] = data.draw(JSON_VALUES)
        else:
            parent.insert(path[-1], data.draw(JSON_VALUES))
    _loads_or_spec_error(json.dumps(document))
    _loads_or_spec_error(document)
