"""Predict, then reveal: a question about one layer, its answer and the arithmetic behind it.

The favourite misconceptions of a CNN lesson, asked of one layer: its output shape, its
parameters, the same layer as a SeparableConv2D, its receptive field. A guess is read
leniently (`26x26x32`, `26×26×32`, `(None, 26, 26, 32)`, `1,234`) into the answer's one
spelling, so that a room's guesses count together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from cnnviz import formulas as fx
from cnnviz.layers import Conv2DSpec
from cnnviz.shapes import ModelSummary

__all__ = [
    "QUESTION_KINDS",
    "LayerQuestion",
    "QuestionKind",
    "clean_answer",
    "is_right",
    "layer_question",
    "normalize_guess",
    "question_kinds_for",
]

QuestionKind = Literal["output_shape", "params", "separable_params", "receptive_field"]
QUESTION_KINDS: Final[dict[QuestionKind, str]] = {  # the kinds, in words
    "output_shape": "Output shape",
    "params": "Parameters",
    "separable_params": "Parameters as SeparableConv2D",
    "receptive_field": "Receptive field",
}
MAX_ANSWER: Final = 80
_SHAPE_TEXT = re.compile(r"[\d\s×xX*,;()\[\]]*")  # digits and what people put between them
_COUNT_TEXT = re.compile(r"\s*\d[\d\s,._']*\s*")  # 1,234 · 1 234 · 1.234 · 1_234


@dataclass(frozen=True)
class LayerQuestion:
    """One question about layer `layer_index`: what is asked, the answer in its one
    spelling, and the arithmetic that gives it."""

    kind: QuestionKind
    layer_index: int
    prompt: str
    answer: str
    explanation: str


def clean_answer(raw: str) -> str:
    """A free-text answer in one spelling: `26 x 26 x 32`, `(26, 26, 32)` and `26×26×32`
    are one answer, `3,200` and `3200` another."""
    text = "".join(str(raw).split()).strip("()[]")[:MAX_ANSWER]
    if re.fullmatch(r"\d{1,3}([,._']\d{3})+", text):  # a count with thousands separators
        return re.sub(r"[,._']", "", text)
    return re.sub(r"[xX*,]", "×", text)


def normalize_guess(raw: str, answer: str) -> str:
    """`raw` in the spelling of `answer`: a count (`1234`) or a shape (`26×26×32`, the
    batch axis `None` dropped); anything else as `clean_answer` spells it."""
    text = str(raw)[:4 * MAX_ANSWER]
    if answer.isdigit() and _COUNT_TEXT.fullmatch(text):
        return str(int(re.sub(r"\D", "", text)))
    shape_text = re.sub(r"none", "", text, flags=re.IGNORECASE)
    numbers = re.findall(r"\d+", shape_text)
    if numbers and _SHAPE_TEXT.fullmatch(shape_text):
        return "×".join(str(int(number)) for number in numbers)[:MAX_ANSWER]
    return clean_answer(text)


def is_right(raw: str, answer: str) -> bool:
    return normalize_guess(raw, answer) == answer


def question_kinds_for(summary: ModelSummary, index: int) -> list[QuestionKind]:
    """The questions that can be asked of layer `index` (it must be summarised)."""
    if not 0 <= index < len(summary.layers):
        return []
    kinds: list[QuestionKind] = ["output_shape", "params"]
    layer = summary.spec.layers[index]
    if isinstance(layer, Conv2DSpec) and layer.groups == 1:
        kinds.append("separable_params")
    if summary.layers[index].receptive_field is not None:
        kinds.append("receptive_field")
    return kinds


def layer_question(summary: ModelSummary, index: int, kind: QuestionKind) -> LayerQuestion:
    """The question `kind` about layer `index` of `summary`'s model.

    Raises ValueError where the question does not apply to that layer."""
    if kind not in question_kinds_for(summary, index):
        raise ValueError(f"Expected a question among {question_kinds_for(summary, index)} "
                         f"for layer {index + 1}. Received: kind={kind!r}")
    layer = summary.layers[index]
    where = (f"layer {index + 1}, {layer.name} ({layer.class_name}), input "
             f"{fx.by(layer.input_shape)}")
    if kind == "output_shape":
        return LayerQuestion(kind, index, f"What is the output shape of {where}?",
                             fx.by(layer.output_shape), layer.shape_formula)
    if kind == "params":
        return LayerQuestion(kind, index, f"How many parameters does {where} have?",
                             str(layer.params), layer.param_formula)
    if kind == "separable_params":
        conv = summary.spec.layers[index]
        assert isinstance(conv, Conv2DSpec)
        total, text = fx.separable_params(conv.kernel_size[0], conv.kernel_size[1],
                                          layer.input_shape[-1], 1, conv.filters, conv.use_bias)
        return LayerQuestion(
            kind, index, f"{where[0].upper()}{where[1:]} has {layer.params:,} parameters. "
            "How many would the same layer have as a SeparableConv2D (same filters, kernel "
            "and bias)?", str(total),
            f"depthwise k·k·C + pointwise C·filters + bias: {text} (Conv2D: "
            f"{layer.param_formula})")
    size = layer.receptive_field
    assert size is not None
    steps = " → ".join(f"{step.name} {fx.by(step.receptive_field)}"
                       for step in summary.layers[:index + 1] if step.receptive_field)
    return LayerQuestion(
        kind, index, f"How many input pixels (height × width) does one output value of "
        f"{where} see — its receptive field?", fx.by(size),
        "each window widens it by (kernel − 1) × the input pixels between two neighbouring "
        f"values before it: input 1×1 → {steps}")
