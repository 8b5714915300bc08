from __future__ import annotations

import math

import pytest

from cnnviz import fields as f
from cnnviz.spec import SpecError


def test_positive_int_accepts_whole_floats_from_json() -> None:
    assert f.positive_int(3, "filters") == 3 and f.positive_int(3.0, "filters") == 3


@pytest.mark.parametrize("value", [0, -1, True, False, 2.5, "3", None, [3], math.nan, math.inf])
def test_positive_int_refuses(value: object) -> None:
    with pytest.raises(SpecError) as caught:
        f.positive_int(value, "filters")
    assert caught.value.field == "filters" and caught.value.received is value


def test_positive_int_has_a_ceiling() -> None:
    with pytest.raises(SpecError, match="larger than cnnviz allows"):
        f.positive_int(f.MAX_SIZE + 1, "units")


def test_int_pair_expands_one_number() -> None:
    assert f.int_pair(3, "kernel_size") == (3, 3)
    assert f.int_pair([3, 5], "kernel_size") == (3, 5)


@pytest.mark.parametrize("value", [[3], [3, 3, 3], [0, 3], [3, -1], [True, 3], "33", {}])
def test_int_pair_refuses(value: object) -> None:
    with pytest.raises(SpecError):
        f.int_pair(value, "kernel_size")


def test_int_pair_has_a_ceiling() -> None:
    with pytest.raises(SpecError, match="larger than cnnviz allows"):
        f.int_pair(f.MAX_WINDOW + 1, "kernel_size")


@pytest.mark.parametrize(
    ("value", "pairs"),
    [(0, ((0, 0), (0, 0))), (2, ((2, 2), (2, 2))), ([1, 2], ((1, 1), (2, 2))),
     ([[1, 2], [3, 4]], ((1, 2), (3, 4))), ([[1, 2], 3], ((1, 2), (3, 3))),
     ([3, [1, 2]], ((3, 3), (1, 2)))],
)  # fmt: skip
def test_padding_pairs_reads_every_keras_form(value: object, pairs: object) -> None:
    assert f.padding_pairs(value, "padding") == pairs


@pytest.mark.parametrize("value", [-1, [1, -1], [[0, -1], [1, 1]], [1, 2, 3], [[1, 2, 3], 1], "1"])
def test_padding_pairs_refuses(value: object) -> None:
    with pytest.raises(SpecError) as caught:
        f.padding_pairs(value, "padding")
    assert caught.value.field == "padding"


def test_choice_is_case_insensitive_like_keras_padding() -> None:
    assert f.choice(("valid", "same"))("SAME", "padding") == "same"
    with pytest.raises(SpecError, match="must be 'valid' or 'same'"):
        f.choice(("valid", "same"))("causal", "padding")


def test_channels_first_gets_a_clear_message() -> None:
    with pytest.raises(SpecError) as caught:
        f.data_format("channels_first", "data_format")
    assert "channels_last data only" in caught.value.message
    assert caught.value.fix == "remove data_format or set it to 'channels_last'"
    assert f.data_format("channels_last", "data_format") is None


def test_activation_linear_is_none_as_in_keras_config() -> None:
    assert f.activation("linear", "activation") is None and f.activation(None, "activation") is None
    assert f.activation("ReLU", "activation") == "relu"
    with pytest.raises(SpecError, match="not an activation cnnviz knows"):
        f.activation("lambda x: x", "activation")


def test_initializer_must_be_named() -> None:
    assert f.initializer("He_Normal", "kernel_initializer") == "he_normal"
    with pytest.raises(SpecError):
        f.initializer({"class_name": "GlorotUniform", "config": {"seed": 1}}, "kernel_initializer")


def test_bias_initializer_refuses_orthogonal_which_needs_a_matrix() -> None:
    assert f.bias_initializer("ones", "bias_initializer") == "ones"
    with pytest.raises(SpecError, match="a bias is a vector") as caught:
        f.bias_initializer("Orthogonal", "bias_initializer")
    assert caught.value.fix == "remove bias_initializer (Keras's default is 'zeros')"


@pytest.mark.parametrize("value", [0, 1, "true", None])
def test_boolean_refuses_non_booleans(value: object) -> None:
    with pytest.raises(SpecError, match="true or false"):
        f.boolean(value, "use_bias")


@pytest.mark.parametrize("value", [-0.1, 1.1, math.nan, math.inf, True, "0.5", 10**400])
def test_probability_refuses(value: object) -> None:
    with pytest.raises(SpecError, match=r"must be a number"):
        f.probability(value, "rate")


def test_probability_includes_both_ends() -> None:
    assert f.probability(0, "rate") == 0.0 and f.probability(1, "rate") == 1.0


def test_real_in_range_can_exclude_its_low_end() -> None:
    epsilon = f.real_in_range(0.0, 1.0, include_low=False)
    with pytest.raises(SpecError, match=r"\(0, 1\]"):
        epsilon(0.0, "epsilon")


def test_optional_int_is_a_seed() -> None:
    assert f.optional_int(None, "seed") is None and f.optional_int(42, "seed") == 42
    with pytest.raises(SpecError):
        f.optional_int(-1, "seed")


@pytest.mark.parametrize("value", ["", "has space", "a/b", "x" * 65, 5, "ünï"])
def test_layer_name_refuses(value: object) -> None:
    with pytest.raises(SpecError, match="letters, digits"):
        f.layer_name(value, "name")


def test_layer_name_accepts_keras_style_names() -> None:
    assert f.layer_name("block1_conv1", "name") == "block1_conv1"
    assert f.layer_name(None, "name") is None


def test_regularizer_names_and_keras_form_normalise_to_one_value() -> None:
    from cnnviz.fields import Regularizer, regularizer

    assert regularizer("l2", "r") == regularizer({"class_name": "L2", "config": {"l2": 0.01}}, "r")
    assert regularizer("L1L2", "r") == Regularizer("L1L2", (("l1", 0.0), ("l2", 0.0)))
    keras_form = {"module": "keras.regularizers", "class_name": "L1", "config": {"l1": 0.5},
                  "registered_name": None}
    assert regularizer(keras_form, "r").to_json() == {"class_name": "L1", "config": {"l1": 0.5}}
    assert regularizer("l1", "r").to_json() == "l1" and regularizer(None, "r") is None


@pytest.mark.parametrize("value", ["l1_l2", "l3", 2, {"class_name": "L1", "config": {"l2": 1}},
                                   {"class_name": "L2", "config": {"l2": -0.1}}])
def test_regularizer_keras_refuses_is_refused(value: object) -> None:
    from cnnviz.fields import regularizer

    with pytest.raises(SpecError) as caught:
        regularizer(value, "kernel_regularizer")
    assert caught.value.field.startswith("kernel_regularizer")
