"""Predict, then reveal: each question's answer is what Keras builds, and guesses are read
leniently into the answer's spelling."""

from __future__ import annotations

import keras
import pytest

from cnnviz.keras_build import build_model
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec, MaxPooling2DSpec
from cnnviz.presets import get_preset
from cnnviz.quiz import is_right, layer_question, normalize_guess, question_kinds_for
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec

MODEL = ModelSpec((28, 28, 3), (
    Conv2DSpec(filters=32, kernel_size=3, activation="relu"),
    MaxPooling2DSpec(pool_size=2),
    Conv2DSpec(filters=16, kernel_size=5, strides=2, padding="same", use_bias=False),
    FlattenSpec(), DenseSpec(units=10)), name="quiz")


def test_shape_and_parameter_answers_are_what_keras_builds() -> None:
    summary = summarize(MODEL)
    model = build_model(MODEL)
    for index, layer in enumerate(model.layers):
        shape = layer_question(summary, index, "output_shape")
        assert shape.answer == "×".join(map(str, layer.output.shape[1:]))
        params = layer_question(summary, index, "params")
        assert params.answer == str(layer.count_params())
        assert params.explanation.endswith(f"{layer.count_params():,}") or not \
            layer.count_params()


@pytest.mark.parametrize("index", [0, 2])
def test_the_separable_answer_is_keras_s_separable_layer(index: int) -> None:
    summary = summarize(MODEL)
    conv = MODEL.layers[index]
    assert isinstance(conv, Conv2DSpec)
    separable = keras.layers.SeparableConv2D(conv.filters, conv.kernel_size,
                                             use_bias=conv.use_bias)
    separable.build((None, *summary.layers[index].input_shape))
    question = layer_question(summary, index, "separable_params")
    assert question.answer == str(separable.count_params())


def test_the_receptive_field_grows_by_each_window_and_stops_at_flatten() -> None:
    summary = summarize(get_preset("chollet-mnist-convnet"))
    fields = [layer_question(summary, index, "receptive_field").answer for index in range(5)]
    assert fields == ["3×3", "4×4", "8×8", "10×10", "18×18"]
    assert "receptive_field" not in question_kinds_for(summary, 5)  # Flatten
    assert "separable_params" not in question_kinds_for(summary, 1)  # pooling
    with pytest.raises(ValueError, match="Received: kind='separable_params'"):
        layer_question(summary, 1, "separable_params")


@pytest.mark.parametrize("typed", ["26x26x32", "26×26×32", "(26, 26, 32)", "26 X 26 X 32",
                                   "(None, 26, 26, 32)", "[26,26,32]"])
def test_a_shape_guess_is_read_in_any_usual_spelling(typed: str) -> None:
    assert is_right(typed, "26×26×32")


@pytest.mark.parametrize(("typed", "kept"), [("1,234", "1234"), ("1 234", "1234"),
                                             ("1234", "1234"), ("(None, 1234)", "1234"),
                                             ("about 1200", "about1200")])
def test_a_count_guess_drops_its_thousands_separators(typed: str, kept: str) -> None:
    assert normalize_guess(typed, "1234") == kept


def test_a_wrong_or_hostile_guess_is_wrong_and_kept_short() -> None:
    assert not is_right("13x13x32", "26×26×32")
    assert len(normalize_guess("<img src=x>" * 100, "26×26×32")) <= 80
