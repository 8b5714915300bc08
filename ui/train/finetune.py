"""Train page: fine-tune a trained convolutional base, the lesson's two phases in one job.

The base is this session's trained model (a loaded bundle included), a run stored in the
workspace, or VGG16 / MobileNet with ImageNet weights. The job runs on the configured
training backend (a local worker, or a Ray task) like any training and is stored in the
workspace as it goes; its curves show both phases on one axis with the boundary marked,
and each phase's weight counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar, Final

import streamlit as st

from cnnviz.archfile import load_architecture
from cnnviz.bundle import load_bundle
from cnnviz.data import Dataset
from cnnviz.errors import SpecError
from cnnviz.spec import ModelSpec
from cnnviz.train import (
    IMAGENET_BASES,
    OPTIMIZERS,
    FineTuneError,
    FineTunePlan,
    FineTuneRecord,
    FineTuneResult,
    HeadSpec,
    PretrainedBase,
    TrainingResult,
    TrainingSettings,
    base_from_model,
    convolutional_base,
    default_unfreeze_from,
    finetune_spec,
    imagenet_base,
    imagenet_base_spec,
    imagenet_weights_path,
    training_backend,
)
from ui.lesson import lesson_refuses_training
from ui.state import session_runs, trained_model
from ui.train.charts import LIVE_CHART_CONFIG, curves_figure
from ui.train.job import TrainingJob, current_job, launch_job, training_in_progress
from ui.workspace import current_workspace, session_store, stored_runs

__all__ = ["FineTuneJob", "finetune_panel"]

BaseLoader = Callable[[], PretrainedBase]

_LESSON: Final = FineTunePlan(unfreeze_from="block5_conv1")
_POOLING: Final = {"flatten": "Flatten", "global_average": "GlobalAveragePooling2D"}
_IMAGENET_LABELS: Final = {"vgg16": "VGG16", "mobilenet": "MobileNet"}
_LABELS_KEY: Final = "cnnviz_finetune_base_labels"  # the bases offered at the last run


@dataclass(eq=False)
class FineTuneJob(TrainingJob):
    """A training job whose training is `fine_tune`: phase 1 then phase 2, one curve."""

    continuable: ClassVar[bool] = False

    base_loader: BaseLoader | None = None  # runs in the job's thread: loads TensorFlow
    plan: FineTunePlan = field(default=_LESSON)
    outcome: FineTuneResult | None = None
    base_description: str = ""

    def finetune_record(self) -> FineTuneRecord | None:
        if self.outcome is None:
            return None
        return FineTuneRecord.of(self.outcome, self.plan, self.base_description)

    def _train(self, fitted: Dataset) -> TrainingResult:
        assert self.base_loader is not None
        base = self.base_loader()
        self.base_description = base.description
        self.outcome = training_backend().fine_tune(
            base, fitted, self.plan, self.hooks(), source=self.source)
        return self.outcome.training


@dataclass(frozen=True)
class _BaseChoice:
    label: str
    spec: ModelSpec  # the convolutional base: no TensorFlow needed to know it
    load: BaseLoader
    note: str | None = None  # shown under the choice (e.g. where the weights go)


def _imagenet_choice(name: str, dataset: Dataset) -> _BaseChoice:
    side = max(32, *dataset.input_shape[:2])
    shape = (side, side, 3)
    path = imagenet_weights_path(name, shape)  # type: ignore[arg-type]
    note = None if path.is_file() else (
        f"The ImageNet weights are not on this server yet: put **{path.name}** in "
        f"`{path.parent}`. Until then this base cannot be fine-tuned here.")
    return _BaseChoice(f"{_IMAGENET_LABELS[name]} with ImageNet weights ({side}×{side}×3)",
                       imagenet_base_spec(name, shape), lambda: imagenet_base(name, shape), note)


def _stored_loader(run_id: int, spec: ModelSpec) -> BaseLoader | None:
    store, workspace = session_store(), current_workspace()
    if store is None or workspace is None:
        return None

    def load() -> PretrainedBase:
        blob = store.run_weights(workspace.id, run_id)
        bundle = load_bundle(blob or b"")
        return base_from_model(bundle.model, bundle.spec, f"stored run {run_id}")

    return load


def _base_choices(dataset: Dataset) -> list[_BaseChoice]:
    choices: list[_BaseChoice] = []
    trained = trained_model()
    if trained is not None:
        try:
            choices.append(_BaseChoice(
                f"This session's trained model: {trained.spec.name} on {trained.dataset_name}",
                convolutional_base(trained.spec),
                lambda: base_from_model(trained.model, trained.spec,
                                        f"{trained.spec.name} trained on {trained.dataset_name}")))
        except FineTuneError:
            pass
    for run in reversed(stored_runs()):
        if not run.has_weights or run.status not in ("finished", "stopped"):
            continue
        try:
            spec = load_architecture(run.architecture_json)
            base = convolutional_base(spec)
        except (SpecError, FineTuneError):
            continue
        loader = _stored_loader(run.id, spec)
        if loader is not None:
            choices.append(_BaseChoice(
                f"Stored run {run.id}: {spec.name} on {run.dataset_name}", base, loader))
    return choices + [_imagenet_choice(name, dataset) for name in IMAGENET_BASES]


def _phase(title: str, key: str, defaults: TrainingSettings, page: TrainingSettings,
           disabled: bool) -> TrainingSettings:
    st.markdown(f"**{title}**")
    names = list(OPTIMIZERS)
    optimizer = st.selectbox("Optimizer", names, index=names.index(defaults.optimizer),
                             format_func=lambda name: OPTIMIZERS[name].label,
                             key=f"finetune_{key}_optimizer", disabled=disabled)
    rate = st.number_input("Learning rate", min_value=1e-7, max_value=10.0,
                           value=defaults.resolved_learning_rate, format="%.0e",
                           key=f"finetune_{key}_rate", disabled=disabled)
    epochs = st.number_input("Epochs", min_value=1, max_value=1000, value=defaults.epochs,
                             key=f"finetune_{key}_epochs", disabled=disabled)
    return TrainingSettings(optimizer=optimizer or defaults.optimizer, learning_rate=rate,
                            epochs=int(epochs), schedule="constant", batch_size=page.batch_size,
                            validation_split=page.validation_split, seed=page.seed)


def _dense_units(text: str) -> tuple[int, ...] | None:
    try:
        return HeadSpec(dense_units=tuple(int(part) for part in text.split(",")
                                          if part.strip())).dense_units
    except (ValueError, FineTuneError):
        return None


def _newest_finetuning() -> tuple[str, FineTuneRecord, dict[str, list[float]]] | None:
    """The fine-tuning to sum up: this session's job, else the newest one kept as a run
    (after a reload or a restart). Its title, phases and curves."""
    job = current_job()
    if isinstance(job, FineTuneJob) and not job.active:
        record = job.finetune_record()
        if record is not None and job.result is not None:
            return f"{job.spec.name} on {job.dataset.name}", record, job.result.history
    for run in reversed(session_runs()):
        if run.finetune is not None:
            return (f"{run.architecture.name} (run {run.run_id}) on {run.dataset_name}",
                    run.finetune, run.history)
    return None


def _summary() -> None:
    newest = _newest_finetuning()
    if newest is None:
        return
    title, record, history = newest
    rows = [{"Phase": f"{number}. {'train the head' if phase.name == 'head' else 'fine-tune'}",
             "Optimizer": OPTIMIZERS[phase.optimizer].label if phase.optimizer in OPTIMIZERS
             else phase.optimizer,
             "Learning rate": f"{phase.learning_rate:g}",
             "Trains from": phase.first_trainable_layer,
             "Epochs": phase.epochs_completed,
             "Trainable params": f"{phase.trainable_params:,}",
             "Non-trainable params": f"{phase.non_trainable_params:,}",
             "Test accuracy": f"{phase.test_accuracy:.1%}"}
            for number, phase in enumerate(record.phases, 1)]
    st.markdown(f"**Fine-tuned {title}** · base: {record.base}, unfrozen from "
                f"{record.unfreeze_from}")
    st.dataframe(rows, hide_index=True, width="stretch")
    st.plotly_chart(curves_figure(history, epochs=record.total_epochs,
                                  phase_boundary=record.boundary_epoch),
                    key="finetune_curves", width="stretch", config=LIVE_CHART_CONFIG)


def finetune_panel(dataset: Dataset | None, page_settings: TrainingSettings | None) -> None:
    """Choose a base, a head, where the freeze ends and each phase; start the job."""
    if not training_in_progress():
        _summary()
    if dataset is None or page_settings is None:
        st.caption("Choose a dataset and valid settings above first: the fine-tuning trains "
                   "on that dataset, with that batch size, validation split and seed.")
        return
    busy = training_in_progress()
    choices = _base_choices(dataset)
    labels = [choice.label for choice in choices]
    if st.session_state.get(_LABELS_KEY) != labels:  # a new base: it comes first, picked
        st.session_state[_LABELS_KEY] = labels
        st.session_state["finetune_base"] = 0
    picked = st.selectbox("Base", range(len(choices)), format_func=lambda i: choices[i].label,
                          key="finetune_base", disabled=busy,
                          help="Its convolutional layers, up to its old classifier, with "
                          "their trained weights.") or 0
    choice = choices[picked]
    if choice.note:
        st.info(choice.note, icon=":material/download:")
    head_column, freeze_column = st.columns(2)
    with head_column:
        pooling = st.selectbox("Head starts with", list(_POOLING), format_func=_POOLING.__getitem__,
                               key="finetune_pooling", disabled=busy)
        units_text = st.text_input("Dense layers (units, comma-separated)", value="256",
                                   key="finetune_dense", disabled=busy)
        units = _dense_units(units_text)
        st.caption(f"…then Dense({dataset.num_classes}, softmax): one output per class.")
    with freeze_column:
        names = list(choice.spec.layer_names())
        default = default_unfreeze_from(choice.spec)
        unfreeze_from = st.selectbox("Unfreeze from", names, index=names.index(default),
                                     key=f"finetune_unfreeze_{choice.spec.name}", disabled=busy,
                                     help="Phase 2 trains every base layer from this one on; "
                                     "the layers before it stay frozen.") or default
    phase_1, phase_2 = st.columns(2)
    with phase_1:
        head_settings = _phase("Phase 1: train the head (base frozen)", "head",
                               _LESSON.head_settings, page_settings, busy)
    with phase_2:
        tune_settings = _phase(f"Phase 2: fine-tune from {unfreeze_from} on", "tune",
                               _LESSON.finetune_settings, page_settings, busy)
    blocker = None
    if units is None:
        blocker = "Write the Dense layers as whole numbers separated by commas, e.g. 256,64."
    elif choice.note:
        blocker = "The ImageNet weights of this base are not here yet (see above)."
    plan = FineTunePlan(unfreeze_from, HeadSpec(pooling, units or ()),  # type: ignore[arg-type]
                        head_settings, tune_settings)
    spec = finetune_spec(choice.spec, plan.head, dataset.num_classes,
                         names.index(unfreeze_from))
    blocker = blocker or lesson_refuses_training(spec, dataset.name,
                                                 plan.combined_settings.to_dict())
    if st.button("Fine-tune", key="finetune_start", icon=":material/tune:",
                 disabled=busy or blocker is not None, help=blocker):
        launch_job(FineTuneJob(spec=spec, dataset=dataset, settings=plan.combined_settings,
                               phase_boundary=head_settings.epochs, base_loader=choice.load,
                               plan=plan))
        st.rerun()
    if blocker:
        st.caption(f":material/block: {blocker}")
