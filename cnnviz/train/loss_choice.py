"""Which loss trains a classifier: read from the labels and the model's last layer.

Labels are class numbers 0..k-1, so the loss is a *sparse* cross-entropy. Whether it
receives probabilities or raw scores (`from_logits`) depends on the last activation.
When the output does not fit the classes, the choice says so and offers the fixed spec
of `cnnviz.advice.output_layer_fix`, the same fix the Build page offers.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from cnnviz._types import KerasLoss, KerasMetric
from cnnviz.advice import output_layer_fix, output_layer_index
from cnnviz.layers import SoftmaxSpec
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec

__all__ = ["LossChoice", "choose_loss", "final_activation"]

_SPARSE = "sparse_categorical_crossentropy"
_BINARY = "binary_crossentropy"


@dataclass(frozen=True)
class LossChoice:
    """The loss and metric to compile with, why, and what to fix first (if anything)."""

    loss: str
    from_logits: bool
    reason: str
    warnings: tuple[str, ...] = ()
    problem: str | None = None  # set: the model cannot be trained on these labels as it is
    fixed_spec: ModelSpec | None = None
    fix_label: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def binary(self) -> bool:
        return self.loss == _BINARY

    def keras_loss(self) -> KerasLoss:
        import keras  # Keras costs seconds: only when a training compiles

        if self.binary:
            return keras.losses.BinaryCrossentropy(from_logits=self.from_logits)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=self.from_logits)

    def keras_metric(self) -> KerasMetric:
        import keras  # Keras costs seconds: only when a training compiles

        if self.binary:
            threshold = 0.0 if self.from_logits else 0.5
            return keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold)
        return keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def describe(self) -> str:
        logits = ", from_logits=True" if self.from_logits else ""
        return f"{self.loss}{logits}"


def final_activation(spec: ModelSpec) -> str | None:
    """The activation the model's output goes through last (None: raw scores)."""
    index = output_layer_index(spec)
    if index is None:
        return None
    layer = spec.layers[index]
    if isinstance(layer, SoftmaxSpec):  # a Softmax layer over the last axis is softmax
        return "softmax" if layer.axis == -1 else None
    activation = getattr(layer, "activation", None)
    return activation if isinstance(activation, str) else None


def _with_fix(choice: LossChoice, spec: ModelSpec, num_classes: int) -> LossChoice:
    fix = output_layer_fix(spec, num_classes)
    if fix is None:
        return choice
    return dataclasses.replace(choice, fixed_spec=fix.apply(spec), fix_label=fix.label)


def choose_loss(spec: ModelSpec, num_classes: int) -> LossChoice:
    """The loss for integer labels 0..num_classes-1 and this model's output, with the reason."""
    summary = summarize(spec)
    if summary.error is not None:
        return LossChoice(_SPARSE, False, "", problem=summary.error.message)
    output = summary.output_shape
    activation = final_activation(spec)
    shown = activation or "none (raw scores)"
    labels = f"The labels are class numbers 0–{num_classes - 1}"
    if len(output) != 1:
        size = "×".join(map(str, output))
        problem = (
            f"The model's output is a {size} map, but a classifier needs one score per class "
            f"({num_classes} numbers). Add Flatten (or GlobalAveragePooling2D) and "
            f"Dense({num_classes}, activation='softmax') at the end."
        )
        return _with_fix(LossChoice(_SPARSE, False, "", problem=problem), spec, num_classes)
    units = output[0]
    if num_classes == 2 and units == 1:
        logits = activation != "sigmoid"
        reason = (
            f"{labels} and the last layer gives one number with activation {shown}, so the "
            f"loss is binary cross-entropy{' on raw scores (from_logits=True)' if logits else ''}."
        )
        odd: tuple[str, ...] = () if activation in ("sigmoid", None) else (
            f"The last activation is {activation}, not sigmoid: its output is not a "
            "probability. Training treats it as a raw score.",
        )  # fmt: skip
        return LossChoice(_BINARY, logits, reason, odd)
    if units < num_classes:
        problem = (
            f"The last layer has {units} output{'s' if units != 1 else ''} but the data has "
            f"{num_classes} classes: labels up to {num_classes - 1} have no output to score them. "
            f"Set the last Dense layer's units to {num_classes}."
        )
        return _with_fix(LossChoice(_SPARSE, False, "", problem=problem), spec, num_classes)
    warnings: list[str] = []
    if units > num_classes:
        warnings.append(
            f"The last layer has {units} outputs but the data has {num_classes} classes; "
            f"outputs {num_classes}–{units - 1} are never a right answer. "
            f"Set the last Dense layer's units to {num_classes}."
        )
    probabilities = activation in ("softmax", "sigmoid")
    if activation == "softmax":
        reason = (
            f"{labels} (not one-hot vectors) and the last layer's softmax gives {units} "
            "probabilities, so the loss is sparse categorical cross-entropy."
        )
    else:
        how = "treats the outputs as raw scores (from_logits=True)"
        if activation == "sigmoid":
            how = "rescales the sigmoid outputs to sum to 1"
        reason = (
            f"{labels} (not one-hot vectors) and the last layer's activation is {shown}, so "
            f"the loss is sparse categorical cross-entropy, which {how}."
        )
        warnings.append(
            f"The last layer has no softmax (activation: {shown}), so its outputs are not "
            "probabilities that sum to 1 — the loss expects probabilities by default, and "
            "predictions shown as confidences would be misleading. Set the last activation "
            "to softmax."
        )
    choice = LossChoice(_SPARSE, not probabilities, reason, tuple(warnings))
    return _with_fix(choice, spec, num_classes) if warnings else choice
