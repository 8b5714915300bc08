from __future__ import annotations

import dataclasses

from training_data import tiny_spec

from cnnviz.advice import fix_output_layer
from cnnviz.layers import ActivationSpec, Conv2DSpec, DenseSpec, DropoutSpec, FlattenSpec
from cnnviz.presets import get_preset
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec
from cnnviz.train import choose_loss, final_activation


def _with_last(spec: ModelSpec, *layers: object) -> ModelSpec:
    return spec.replace_layers([*spec.layers[:-1], *layers])


def test_softmax_with_one_unit_per_class_uses_sparse_crossentropy_on_probabilities() -> None:
    choice = choose_loss(tiny_spec(units=2), 2)
    assert (choice.loss, choice.from_logits, choice.ok) == (
        "sparse_categorical_crossentropy", False, True)
    assert "softmax" in choice.reason and "not one-hot" in choice.reason
    assert choice.warnings == () and choice.fixed_spec is None


def test_activation_layer_softmax_after_a_linear_dense_counts_as_softmax() -> None:
    spec = _with_last(tiny_spec(), DenseSpec(units=2), DropoutSpec(rate=0.5),
                      ActivationSpec(activation="softmax"))
    assert final_activation(spec) == "softmax"
    assert choose_loss(spec, 2).from_logits is False


def test_a_softmax_layer_over_the_last_axis_counts_as_softmax() -> None:
    from cnnviz.layers import SoftmaxSpec

    spec = _with_last(tiny_spec(), DenseSpec(units=2), SoftmaxSpec())
    assert final_activation(spec) == "softmax"
    assert choose_loss(spec, 2).from_logits is False


def test_no_softmax_trains_on_logits_warns_and_offers_softmax() -> None:
    choice = choose_loss(tiny_spec(units=2, activation=None), 2)
    assert choice.from_logits is True and choice.ok
    assert any("no softmax" in warning for warning in choice.warnings)
    assert choice.fixed_spec is not None
    assert choice.fixed_spec.layers[-1] == DenseSpec(units=2, activation="softmax")


def test_fewer_units_than_classes_blocks_training_and_fix_sets_the_units() -> None:
    choice = choose_loss(tiny_spec(units=2), 10)
    assert not choice.ok
    assert "2 outputs but the data has 10 classes" in (choice.problem or "")
    assert choice.fixed_spec is not None
    assert summarize(choice.fixed_spec).output_shape == (10,)


def test_more_units_than_classes_warns_but_trains() -> None:
    choice = choose_loss(get_preset("chollet-mnist-convnet"), 3)
    assert choice.ok
    assert any("10 outputs but the data has 3 classes" in w for w in choice.warnings)
    assert choice.fixed_spec is not None and summarize(choice.fixed_spec).output_shape == (3,)


def test_model_ending_in_a_feature_map_gets_flatten_and_dense_as_fix() -> None:
    spec = get_preset("vgg16-base")
    choice = choose_loss(spec, 5)
    assert not choice.ok and "map" in (choice.problem or "")
    fixed = choice.fixed_spec
    assert fixed is not None
    assert fixed.layers[-2:] == (FlattenSpec(), DenseSpec(units=5, activation="softmax"))
    assert summarize(fixed).ok


def test_fix_on_activation_layer_changes_the_dense_before_it() -> None:
    spec = _with_last(tiny_spec(), DenseSpec(units=7), ActivationSpec(activation="relu"))
    fixed = fix_output_layer(spec, 3)
    assert fixed.layers[-2:] == (DenseSpec(units=3), ActivationSpec(activation="softmax"))


def test_binary_output_with_sigmoid_uses_binary_crossentropy() -> None:
    choice = choose_loss(tiny_spec(units=1, activation="sigmoid"), 2)
    assert (choice.loss, choice.from_logits, choice.warnings) == ("binary_crossentropy", False, ())


def test_binary_output_without_activation_uses_logits() -> None:
    choice = choose_loss(tiny_spec(units=1, activation=None), 2)
    assert (choice.loss, choice.from_logits) == ("binary_crossentropy", True)


def test_invalid_architecture_is_a_problem_with_its_message() -> None:
    spec = ModelSpec((4, 4, 1), (Conv2DSpec(filters=2, kernel_size=5), FlattenSpec()))
    choice = choose_loss(spec, 2)
    assert not choice.ok and "Layer 1 (Conv2D" in (choice.problem or "")


def test_sigmoid_over_several_classes_warns() -> None:
    spec = dataclasses.replace(tiny_spec(units=3, activation="sigmoid"))
    choice = choose_loss(spec, 3)
    assert choice.from_logits is False
    assert choice.warnings and choice.fixed_spec is not None
