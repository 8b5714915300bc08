"""Training a `ModelSpec` on a `Dataset`: settings, host limits, the run and what it yields.

The shapes other pages read from session state are dataclasses here: `TrainedModel`
(the session's trained model) and `TrainingRun` (one entry of the runs to compare).
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cnnviz._types import KerasModel, Weights
from cnnviz.data import Dataset
from cnnviz.keras_build import build_model
from cnnviz.settings import Settings, get_settings
from cnnviz.spec import ModelSpec
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train.evaluation import (
    Evaluation,
    evaluate_predictions,
    predicted_labels,
    wilson_interval,
)
from cnnviz.train.loss_choice import LossChoice, choose_loss
from cnnviz.train.preparation import (
    check_training_limits,
    split_training_data,
)
from cnnviz.train.progress import (
    EpochWeightsCallable,
    ProgressCallable,
    ProgressTracker,
    StopSignal,
)
from cnnviz.train.settings import (
    OPTIMIZERS,
    SGD_MOMENTUM,
    TrainingError,
    TrainingSettings,
)

if TYPE_CHECKING:
    from cnnviz.train.finetune_record import FineTuneRecord

__all__ = ["TrainedModel", "TrainingResult", "TrainingRun", "build_compiled_model", "train"]


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """Everything one call of `train` produced; `model` is the trained Keras model."""

    model: KerasModel
    spec: ModelSpec
    settings: TrainingSettings
    loss: LossChoice
    history: dict[str, list[float]]
    test_loss: float
    evaluation: Evaluation
    seconds: float  # wall time of model.fit (validation included)
    samples_per_second: float
    epochs_completed: int  # epochs with an entry in history (a stopped one counts)
    stopped: bool
    params: int
    notes: tuple[str, ...] = ()

    @property
    def test_accuracy(self) -> float:
        return self.evaluation.accuracy

    @property
    def seconds_per_epoch(self) -> float:
        return self.seconds / max(1, self.epochs_completed)

    def trained_model(self, dataset_name: str, class_names: tuple[str, ...],
                      run_id: int | None = None) -> TrainedModel:
        return TrainedModel(self.model, self.spec, dataset_name, class_names, self.test_accuracy,
                            run_id=run_id)

    def run(
        self, run_id: int, dataset_name: str, class_names: tuple[str, ...] = ()
    ) -> TrainingRun:
        return TrainingRun(
            run_id=run_id,
            architecture=self.spec,
            settings=self.settings,
            dataset_name=dataset_name,
            class_names=class_names,
            history=self.history,
            test_accuracy=self.test_accuracy,
            test_loss=self.test_loss,
            params=self.params,
            seconds_per_epoch=self.seconds_per_epoch,
            epochs_completed=self.epochs_completed,
            stopped=self.stopped,
            test_images=self.evaluation.test_images,
        )


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """`st.session_state[TRAINED_KEY]`: this session's trained model and what it learned on.

    `weights_version` is new at every training (cache activations per version and image);
    `run_id` is its run in the workspace store, where its epoch checkpoints are kept.
    """

    model: KerasModel
    spec: ModelSpec
    dataset_name: str
    class_names: tuple[str, ...]
    test_accuracy: float | None
    weights_version: str = field(default_factory=lambda: uuid.uuid4().hex)
    run_id: int | None = None

    @property
    def outputs_probabilities(self) -> bool:
        return not choose_loss(self.spec, len(self.class_names)).from_logits


@dataclass(frozen=True, eq=False)
class TrainingRun:
    """One entry of `st.session_state[RUNS_KEY]` (a list, oldest first)."""

    run_id: int
    architecture: ModelSpec
    settings: TrainingSettings
    dataset_name: str
    history: dict[str, list[float]]
    test_accuracy: float
    test_loss: float
    params: int
    seconds_per_epoch: float
    epochs_completed: int
    stopped: bool
    test_images: int
    class_names: tuple[str, ...] = ()
    finetune: FineTuneRecord | None = None  # a fine-tuning's phases

    @property
    def test_accuracy_interval(self) -> tuple[float, float]:
        """The 95 % interval of the test accuracy over `test_images` images."""
        return wilson_interval(self.test_accuracy, self.test_images)

    @property
    def spec(self) -> ModelSpec:
        """The architecture (the name other pages use for a spec)."""
        return self.architecture

    @property
    def label(self) -> str:
        stopped = ", stopped" if self.stopped else ""
        return (
            f"Run {self.run_id}: {self.architecture.name} on {self.dataset_name}, "
            f"{self.epochs_completed} epoch{'' if self.epochs_completed == 1 else 's'}"
            f"{stopped}, test accuracy {self.test_accuracy:.1%}"
        )


def build_compiled_model(
    spec: ModelSpec, settings: TrainingSettings, loss: LossChoice, steps_per_epoch: int
) -> KerasModel:
    """The spec built with its seeded initial weights, compiled with settings and loss."""
    configure_tensorflow()
    import keras

    model = build_model(spec, seed=settings.seed)
    info = OPTIMIZERS[settings.optimizer]
    rate: Any = settings.resolved_learning_rate
    if settings.schedule == "cosine":
        total = max(1, settings.epochs * steps_per_epoch)
        rate = keras.optimizers.schedules.CosineDecay(rate, decay_steps=total)
    options: dict[str, Any] = {"learning_rate": rate}
    if settings.optimizer == "sgd":
        options["momentum"] = SGD_MOMENTUM
    optimizer = getattr(keras.optimizers, info.keras_class)(**options)
    model.compile(optimizer=optimizer, loss=loss.keras_loss(), metrics=[loss.keras_metric()])
    return model


def train(
    spec: ModelSpec,
    dataset: Dataset,
    settings: TrainingSettings,
    *,
    progress: ProgressCallable | None = None,
    stop_event: StopSignal | None = None,
    report_every: int = 10,
    host: Settings | None = None,
    epoch_weights: EpochWeightsCallable | None = None,
    initial_weights: Weights | None = None,
) -> TrainingResult:
    """Train a fresh model of `spec` on `dataset` and evaluate it on the test split.

    `initial_weights` (`model.get_weights()` of the same spec) replace the seeded initial
    weights, e.g. to go on from an earlier training with another optimizer.

    `progress` receives a `TrainingProgress` every `report_every` batches and at each
    epoch end; setting `stop_event` stops after the current batch, keeping the weights;
    `epoch_weights` receives the weights after each full epoch.
    """
    host = host or get_settings()
    params = check_training_limits(spec, dataset, settings, host)
    loss = choose_loss(spec, dataset.num_classes)
    if loss.problem is not None:
        raise TrainingError(loss.problem)
    if dataset.y_train.max(initial=0) >= dataset.num_classes:
        raise TrainingError("Some training labels are not below the number of classes.")
    x_fit, y_fit, x_val, y_val, notes = split_training_data(dataset, settings, host)
    steps = math.ceil(len(x_fit) / settings.batch_size)
    model = build_compiled_model(spec, settings, loss, steps)
    if initial_weights is not None:
        try:
            model.set_weights(initial_weights)
        except ValueError as error:
            raise TrainingError(
                f"The starting weights do not fit the model {spec.name}: {error}"
            ) from None
    from cnnviz.train.callback import ProgressCallback  # imports Keras: seconds, so only here

    tracker = ProgressTracker(
        epochs=settings.epochs,
        samples_per_epoch=len(x_fit),
        batch_size=settings.batch_size,
        report_every=report_every,
        progress=progress,
        stop_event=stop_event,
    )
    validation = (x_val, y_val) if x_val is not None else None
    started = time.perf_counter()
    try:
        model.fit(
            x_fit, y_fit, batch_size=settings.batch_size, epochs=settings.epochs,
            validation_data=validation, shuffle=True, verbose=0,
            callbacks=[ProgressCallback(tracker, epoch_weights)],
        )  # fmt: skip
    except (MemoryError, RuntimeError, ValueError) as error:
        raise TrainingError(
            f"Keras stopped with an error: {error}. A smaller batch size or model may help."
        ) from None
    seconds = time.perf_counter() - started
    if tracker.diverged_at is not None:
        epoch, batch = tracker.diverged_at
        notes.append(
            f"The loss stopped being a number (NaN) at epoch {epoch}, batch {batch}, so "
            "training stopped there. Try a learning rate 10× smaller."
        )
    outputs = model.predict(dataset.x_test, batch_size=max(256, settings.batch_size), verbose=0)
    threshold = 0.0 if loss.from_logits else 0.5
    evaluation = evaluate_predictions(
        dataset.y_test, predicted_labels(outputs, threshold), dataset.num_classes
    )
    y_test = dataset.y_test.reshape(-1, 1) if loss.binary else dataset.y_test
    test_loss = float(loss.keras_loss()(y_test, outputs))
    history = {key: list(values) for key, values in tracker.history.items()}
    return TrainingResult(
        model=model,
        spec=spec,
        settings=settings,
        loss=loss,
        history=history,
        test_loss=test_loss,
        evaluation=evaluation,
        seconds=seconds,
        samples_per_second=tracker.samples_seen / seconds if seconds > 0 else 0.0,
        epochs_completed=len(history.get("loss", [])),
        stopped=tracker.stopped,
        params=params,
        notes=tuple(notes),
    )
