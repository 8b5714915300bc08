"""Fine-tuning a trained convolutional base, in the lesson's five steps.

1. Put a classifier head on a trained convolutional base.
2. Freeze the base.
3. Train the head (phase 1, its own optimizer and learning rate).
4. Unfreeze the last block: every base layer from `unfreeze_from` on.
5. Train again with a very low learning rate (phase 2, RMSprop 1e-5 by default).

Both phases run in one call: phase 2 starts from phase 1's weights, recompiled with its
own optimizer. The model stays a flat stack (base layers, then the head), so it is an
ordinary `ModelSpec`: stored, bundled and shown like any other trained model.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from cnnviz._types import KerasModel, Weights
from cnnviz.data import Dataset
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from cnnviz.settings import Settings
from cnnviz.spec import ModelSpec, SpecError, layer_from_dict
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train.progress import (
    EpochWeightsCallable,
    ProgressCallable,
    StopSignal,
    TrainingProgress,
)
from cnnviz.train.run import TrainingResult, train
from cnnviz.train.settings import TrainingError, TrainingSettings

__all__ = [
    "IMAGENET_BASES",
    "FineTuneError",
    "FineTunePlan",
    "FineTuneResult",
    "HeadSpec",
    "PhaseReport",
    "PretrainedBase",
    "base_from_model",
    "convolutional_base",
    "default_unfreeze_from",
    "fine_tune",
    "finetune_spec",
    "imagenet_base",
    "imagenet_base_spec",
    "imagenet_weights_path",
    "keras_models_dir",
    "weight_counts",
]

HeadPooling = Literal["flatten", "global_average"]
ImagenetName = Literal["vgg16", "mobilenet"]

# The classes that end a convolutional base: the first of them starts the old classifier.
_TOP_CLASSES: Final = frozenset(
    {"Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dense", "Reshape"}
)
_POOLING_CLASSES: Final = frozenset({"MaxPooling2D", "AveragePooling2D"})
_ORIGIN: Final = "https://storage.googleapis.com/tensorflow/keras-applications/"
_MOBILENET_SIZES: Final = (128, 160, 192, 224)


class FineTuneError(TrainingError):
    """A fine-tuning that cannot start: the message names what to change."""


@dataclass(frozen=True)
class ImagenetBase:
    preset: str  # the cnnviz preset with the same layers and names
    last_layer: str  # the last layer of the base without its top
    unfreeze_from: str  # the lesson's "last block"
    keras_function: str  # keras.applications.<this>


IMAGENET_BASES: Final[Mapping[str, ImagenetBase]] = {
    "vgg16": ImagenetBase("vgg16-base", "block5_pool", "block5_conv1", "VGG16"),
    "mobilenet": ImagenetBase("mobilenet-1.0-224", "conv_pw_13_relu", "conv_dw_13", "MobileNet"),
}


@dataclass(frozen=True, eq=False)
class PretrainedBase:
    """A convolutional base and its trained weights (`build_model(spec).get_weights()`)."""

    spec: ModelSpec
    weights: Weights
    description: str


@dataclass(frozen=True)
class HeadSpec:
    """The classifier put on the base: pooling, Dense layers, then one output per class."""

    pooling: HeadPooling = "flatten"
    dense_units: tuple[int, ...] = (256,)
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.pooling not in ("flatten", "global_average"):
            raise FineTuneError(
                "Expected the head's pooling as flatten or global_average. "
                f"Received: pooling={self.pooling!r}"
            )
        units = tuple(self.dense_units)
        if any(isinstance(unit, bool) or not isinstance(unit, int) or unit < 1 for unit in units):
            raise FineTuneError(
                "Expected the head's Dense layers as whole numbers of units, at least 1. "
                f"Received: dense_units={self.dense_units!r}"
            )
        object.__setattr__(self, "dense_units", units)
        if not 0 <= self.dropout < 1:
            raise FineTuneError(
                f"Expected the head's dropout from 0 to below 1. Received: dropout={self.dropout!r}"
            )

    def layers(self, num_classes: int) -> list[dict[str, Any]]:
        pooling = "Flatten" if self.pooling == "flatten" else "GlobalAveragePooling2D"
        layers: list[dict[str, Any]] = [{"class_name": pooling, "config": {"name": "head_pool"}}]
        for number, units in enumerate(self.dense_units, 1):
            layers.append({"class_name": "Dense", "config": {
                "units": units, "activation": "relu", "name": f"head_dense_{number}"}})
            if self.dropout:
                layers.append({"class_name": "Dropout", "config": {
                    "rate": self.dropout, "name": f"head_dropout_{number}"}})
        layers.append({"class_name": "Dense", "config": {
            "units": num_classes, "activation": "softmax", "name": "head_output"}})
        return layers


def _phase_settings(optimizer: str, rate: float, epochs: int) -> TrainingSettings:
    return TrainingSettings(optimizer=optimizer, learning_rate=rate, epochs=epochs,
                            schedule="constant")


@dataclass(frozen=True)
class FineTunePlan:
    """The two phases: the head alone on the frozen base, then from `unfreeze_from` on."""

    unfreeze_from: str
    head: HeadSpec = HeadSpec()
    head_settings: TrainingSettings = _phase_settings("rmsprop", 1e-3, 3)
    finetune_settings: TrainingSettings = _phase_settings("rmsprop", 1e-5, 3)

    def __post_init__(self) -> None:
        for phase in (self.head_settings, self.finetune_settings):
            if phase.validation_split != self.head_settings.validation_split or (
                phase.seed != self.head_settings.seed
            ):
                raise FineTuneError(
                    "Expected both phases on the same validation split and seed. Received: "
                    f"validation_split={phase.validation_split!r}, seed={phase.seed!r}"
                )

    @property
    def total_epochs(self) -> int:
        return self.head_settings.epochs + self.finetune_settings.epochs

    @property
    def combined_settings(self) -> TrainingSettings:
        """What a stored run records: phase 2's optimizer and rate, both phases' epochs."""
        return dataclasses.replace(self.finetune_settings, epochs=self.total_epochs)


@dataclass(frozen=True)
class PhaseReport:
    """One phase, with its weight counts as Keras's `model.summary()` shows them."""

    name: str
    optimizer: str
    learning_rate: float
    epochs_completed: int
    trainable_params: int
    non_trainable_params: int
    test_accuracy: float
    first_trainable_layer: str


@dataclass(frozen=True, eq=False)
class FineTuneResult:
    """The whole fine-tuning as one training (curves of both phases), and each phase."""

    training: TrainingResult
    phases: tuple[PhaseReport, ...]

    @property
    def boundary_epoch(self) -> int:
        """Epochs done when phase 2 began (where the chart marks the boundary)."""
        return self.phases[0].epochs_completed


def keras_models_dir() -> Path:
    """Where Keras keeps downloaded model weights (`$KERAS_HOME/models`)."""
    home = os.environ.get("KERAS_HOME")
    if home is None:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(os.path.expanduser(home)) / "models"


def _weights_file(name: ImagenetName, input_shape: tuple[int, int, int]) -> tuple[str, str]:
    """The file name keras.applications looks for, and where it downloads it from."""
    if name == "vgg16":
        file = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
        return file, f"{_ORIGIN}vgg16/{file}"
    rows = input_shape[0] if input_shape[0] in _MOBILENET_SIZES else 224
    file = f"mobilenet_1_0_{rows}_tf_no_top.h5"
    return file, f"{_ORIGIN}mobilenet/{file}"


def imagenet_weights_path(name: ImagenetName, input_shape: tuple[int, int, int]) -> Path:
    return keras_models_dir() / _weights_file(name, input_shape)[0]


def imagenet_base_spec(name: str, input_shape: tuple[int, int, int]) -> ModelSpec:
    """The layers of keras.applications' base without its top, on `input_shape`."""
    known = IMAGENET_BASES[name]
    preset = get_preset(known.preset)
    names = preset.layer_names()
    layers = preset.layers[: names.index(known.last_layer) + 1]
    return ModelSpec(input_shape=input_shape, layers=layers, name=f"{name}-base")


def imagenet_base(
    name: str, input_shape: tuple[int, int, int], *, download: bool = False
) -> PretrainedBase:
    """VGG16 or MobileNet without its top, with the ImageNet weights of keras.applications.

    The weights file is read from Keras's cache folder; with `download`, Keras fetches it
    there first. Without it, a `FineTuneError` names the file and the folder.
    """
    key = str(name).strip().lower()
    if key not in IMAGENET_BASES:
        raise FineTuneError(
            f"Expected an ImageNet base among {', '.join(IMAGENET_BASES)}. Received: base={name!r}"
        )
    if input_shape[2] != 3 or min(input_shape[:2]) < 32:
        raise FineTuneError(
            "Expected colour images of at least 32×32 for an ImageNet base. Received: "
            f"input_shape={tuple(input_shape)!r}"
        )
    spec = imagenet_base_spec(key, input_shape)
    file, origin = _weights_file(key, input_shape)  # type: ignore[arg-type]
    path = keras_models_dir() / file
    configure_tensorflow()
    import keras

    if not path.is_file():
        if not download:
            raise FineTuneError(
                f"The ImageNet weights of {key} are not here: put {file} in {path.parent} "
                f"(from {origin})."
            )
        try:
            keras.utils.get_file(file, origin, cache_subdir="models")
        except Exception as error:  # offline, refused, interrupted: all say the same
            raise FineTuneError(
                f"The ImageNet weights of {key} could not be downloaded ({error}). Put {file} "
                f"in {path.parent} (from {origin})."
            ) from None
    application = getattr(keras.applications, IMAGENET_BASES[key].keras_function)(
        weights=None, include_top=False, input_shape=tuple(input_shape))
    try:
        application.load_weights(str(path))
    except (OSError, ValueError, KeyError) as error:
        raise FineTuneError(
            f"{path} could not be read as {key}'s weights ({error}). Delete it and put the "
            f"file from {origin} there."
        ) from None
    model = build_model(spec)
    for layer_name in spec.layer_names():
        model.get_layer(layer_name).set_weights(application.get_layer(layer_name).get_weights())
    return PretrainedBase(spec, model.get_weights(), f"{key} with ImageNet weights")


def convolutional_base(spec: ModelSpec) -> ModelSpec:
    """The layers before the first Flatten, global pooling, Dense or Reshape."""
    cut = next((index for index, layer in enumerate(spec.layers)
                if layer.class_name in _TOP_CLASSES), len(spec.layers))
    if cut == 0:
        raise FineTuneError(
            f"Expected a model that starts with convolutional layers. Received: {spec.name} "
            f"starts with {spec.layers[0].class_name}" if spec.layers else
            f"Expected a model with layers. Received: {spec.name} has none"
        )
    return spec.replace_layers(spec.layers[:cut])


def base_from_model(model: KerasModel, spec: ModelSpec, description: str) -> PretrainedBase:
    """The convolutional base of a trained model, with its trained weights."""
    base = convolutional_base(spec)
    configure_tensorflow()
    base_model = build_model(base)
    for layer_name in base.layer_names():
        base_model.get_layer(layer_name).set_weights(model.get_layer(layer_name).get_weights())
    return PretrainedBase(base, base_model.get_weights(), description)


def default_unfreeze_from(base: ModelSpec) -> str:
    """The first layer of the base's last block: after its second-to-last pooling layer
    (`block5_conv1` for VGG16); else its last layer."""
    names = base.layer_names()
    for known in IMAGENET_BASES.values():
        if known.unfreeze_from in names:
            return known.unfreeze_from
    pools = [index for index, layer in enumerate(base.layers)
             if layer.class_name in _POOLING_CLASSES]
    start = pools[-2] + 1 if len(pools) >= 2 else len(names) - 1
    return names[start]


def _with_trainable(spec: ModelSpec, frozen: int) -> ModelSpec:
    """`spec` with its first `frozen` layers not trainable and the others trainable."""
    layers = []
    for index, layer in enumerate(spec.layers):
        try:
            layers.append(dataclasses.replace(layer, trainable=index >= frozen))
        except SpecError:  # a layer that takes no trainable argument (no weights either)
            layers.append(layer)
    return spec.replace_layers(layers)


def finetune_spec(base: ModelSpec, head: HeadSpec, num_classes: int,
                  frozen_layers: int | None = None) -> ModelSpec:
    """Base, then head, as one stack; the first `frozen_layers` (default: the base) frozen."""
    head_layers = [layer_from_dict(entry, len(base.layers) + index)
                   for index, entry in enumerate(head.layers(num_classes))]
    clash = set(base.layer_names()) & {layer.name for layer in head_layers}
    if clash:
        raise FineTuneError(
            "Expected base layer names that the head does not use. Received: "
            f"name={sorted(clash)[0]!r}"
        )
    spec = ModelSpec(input_shape=base.input_shape, layers=(*base.layers, *head_layers),
                     name=f"{base.name}-finetuned")
    return _with_trainable(spec, len(base.layers) if frozen_layers is None else frozen_layers)


def weight_counts(model: KerasModel) -> tuple[int, int]:
    """(trainable, non-trainable) weights, as `model.summary()` counts them."""
    def count(variables: Any) -> int:
        return int(sum(int(np.prod(variable.shape)) for variable in variables))

    return count(model.trainable_weights), count(model.non_trainable_weights)


class _TwoPhaseProgress:
    """Phase 2's progress continued after phase 1's: one training on one epoch axis."""

    def __init__(self, forward: ProgressCallable | None, total_epochs: int) -> None:
        self.forward, self.total_epochs = forward, total_epochs
        self.offset = 0
        self.earlier_history: dict[str, tuple[float, ...]] = {}
        self.earlier_curve: tuple[tuple[float, float, float | None], ...] = ()
        self.last: TrainingProgress | None = None

    def next_phase(self) -> None:
        if self.last is not None:
            self.earlier_history = self._history(self.last)
            self.earlier_curve = self._curve(self.last)
            self.offset += len(self.last.history.get("loss", ()))
        self.last = None

    def _history(self, progress: TrainingProgress) -> dict[str, tuple[float, ...]]:
        keys = set(self.earlier_history) | set(progress.history)
        return {key: self.earlier_history.get(key, ()) + tuple(progress.history.get(key, ()))
                for key in keys}

    def _curve(self, progress: TrainingProgress) -> tuple[tuple[float, float, float | None], ...]:
        shifted = tuple((x + self.offset, loss, accuracy)
                        for x, loss, accuracy in progress.batch_curve)
        return self.earlier_curve + shifted

    def __call__(self, progress: TrainingProgress) -> None:
        self.last = progress
        if self.forward is None:
            return
        phase = progress.phase
        if phase == "done" and self.offset == 0:
            phase = "training"  # phase 2 follows; the test set waits for the end
        self.forward(dataclasses.replace(
            progress, epoch=progress.epoch + self.offset, epochs=self.total_epochs,
            phase=phase, batch_curve=self._curve(progress), history=self._history(progress)))


def _merged(
    first: dict[str, list[float]], second: dict[str, list[float]]
) -> dict[str, list[float]]:
    return {key: list(first.get(key, [])) + list(second.get(key, []))
            for key in dict.fromkeys([*first, *second])}


def _report(name: str, result: TrainingResult, spec: ModelSpec, frozen: int) -> PhaseReport:
    trainable, non_trainable = weight_counts(result.model)
    names = spec.layer_names()
    return PhaseReport(
        name=name, optimizer=result.settings.optimizer,
        learning_rate=result.settings.resolved_learning_rate,
        epochs_completed=result.epochs_completed, trainable_params=trainable,
        non_trainable_params=non_trainable, test_accuracy=result.test_accuracy,
        first_trainable_layer=names[frozen] if frozen < len(names) else "")


def fine_tune(
    base: PretrainedBase,
    dataset: Dataset,
    plan: FineTunePlan,
    *,
    progress: ProgressCallable | None = None,
    stop_event: StopSignal | None = None,
    report_every: int = 10,
    host: Settings | None = None,
    epoch_weights: EpochWeightsCallable | None = None,
) -> FineTuneResult:
    """Train the head on the frozen base, then go on from `plan.unfreeze_from` on.

    A stop during phase 1 ends the fine-tuning there (phase 2 does not start).
    """
    base_names = base.spec.layer_names()
    if plan.unfreeze_from not in base_names:
        raise FineTuneError(
            f"Expected unfreeze_from as a layer of the base, e.g. "
            f"{default_unfreeze_from(base.spec)}. Received: unfreeze_from={plan.unfreeze_from!r}"
        )
    frozen_in_phase_2 = base_names.index(plan.unfreeze_from)
    head_spec = finetune_spec(base.spec, plan.head, dataset.num_classes)
    tune_spec = finetune_spec(base.spec, plan.head, dataset.num_classes, frozen_in_phase_2)

    configure_tensorflow()
    start = build_model(head_spec, seed=plan.head_settings.seed)
    base_model = build_model(base.spec)
    base_model.set_weights(base.weights)
    for layer_name in base_names:
        start.get_layer(layer_name).set_weights(base_model.get_layer(layer_name).get_weights())

    two_phase = _TwoPhaseProgress(progress, plan.total_epochs)

    def phase_weights(offset: int) -> EpochWeightsCallable | None:
        if epoch_weights is None:
            return None
        return lambda done, weights: epoch_weights(done + offset, weights)

    first = train(head_spec, dataset, plan.head_settings, progress=two_phase,
                  stop_event=stop_event, report_every=report_every, host=host,
                  epoch_weights=phase_weights(0), initial_weights=start.get_weights())
    phases = [_report("head", first, head_spec, len(base_names))]
    if first.stopped or (stop_event is not None and stop_event.is_set()):
        return FineTuneResult(first, tuple(phases))
    two_phase.next_phase()
    second = train(tune_spec, dataset, plan.finetune_settings, progress=two_phase,
                   stop_event=stop_event, report_every=report_every, host=host,
                   epoch_weights=phase_weights(first.epochs_completed),
                   initial_weights=first.model.get_weights())
    phases.append(_report("fine-tune", second, tune_spec, frozen_in_phase_2))
    combined = dataclasses.replace(
        second, settings=plan.combined_settings,
        history=_merged(first.history, second.history),
        seconds=first.seconds + second.seconds,
        samples_per_second=(first.samples_per_second * first.seconds
                            + second.samples_per_second * second.seconds)
        / max(first.seconds + second.seconds, 1e-9),
        epochs_completed=first.epochs_completed + second.epochs_completed,
        notes=first.notes + tuple(note for note in second.notes if note not in first.notes))
    return FineTuneResult(combined, tuple(phases))
