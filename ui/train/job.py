"""A training running in a background thread owned by one browser session.

The page starts a `TrainingJob`, keeps it in session state and polls it; the thread never
touches Streamlit. When the job is over, `collect_finished_training` moves its outcome
into `TRAINED_KEY`, `RUNS_KEY` and `RESULT_KEY` (once), in the session's own script run.

With a workspace store, the thread also keeps the run there as it goes (`RunRecorder`):
its curves and the weights of each finished epoch, then the test results and the final
weights, so that a closed tab, a reload or a server restart loses nothing. The epochs the
host's `epoch_checkpoint_bytes` allows (`cnnviz.train.epoch_plan`) are also kept for good,
for the Feature maps page's epoch slider.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import ClassVar, Final, Literal, TypeAlias

import numpy as np
import streamlit as st

from cnnviz._types import KerasModel, Weights
from cnnviz.archfile import dump_architecture
from cnnviz.bundle import bundle_bytes, weights_npz
from cnnviz.data import Dataset
from cnnviz.errors import LimitError, StoreError
from cnnviz.keras_build import build_model
from cnnviz.limits import check_workspace_bytes
from cnnviz.settings import get_settings
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec
from cnnviz.store import RoomQueue, Store
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train import (
    FINETUNE_KEY,
    DatasetSource,
    EpochPlan,
    FineTuneRecord,
    QueueCancelled,
    TrainingHooks,
    TrainingProgress,
    TrainingResult,
    TrainingSettings,
    UploadedDataset,
    builtin_source,
    epoch_plan,
    failure_message,
    fit_dataset_to_input,
    training_backend,
    training_slots,
)
from ui.lesson import lesson_refuses_training
from ui.state import JOB_KEY, RESULT_KEY, RUNS_KEY, TRAINED_KEY, session_runs, show_notice
from ui.train.data import upload_hash
from ui.workspace import current_workspace, refresh_stored_runs, report_store_problem, session_store

__all__ = [
    "CONTINUABLE_KEY",
    "CONTINUES_KEY",
    "ShownResult",
    "TrainingJob",
    "collect_finished_training",
    "current_job",
    "launch_job",
    "start_training",
    "training_in_progress",
]

JobState: TypeAlias = Literal[
    "starting", "queued", "running", "finished", "stopped", "failed", "cancelled"]
ACTIVE_STATES: Final[tuple[JobState, ...]] = ("starting", "queued", "running")
# In a stored run's settings: False for a run that cannot go on as a plain training (a
# fine-tuning's phases); absent for the others.
CONTINUABLE_KEY: Final = "continuable"
CONTINUES_KEY: Final = "continues_run"  # a continuation's settings: the run it goes on from


@dataclass(frozen=True, eq=False)
class ShownResult:
    """What the results section draws: the training's result and its test images."""

    result: TrainingResult
    dataset_name: str
    class_names: tuple[str, ...]
    x_test: np.ndarray  # as the model saw them
    y_test: np.ndarray
    run_id: int
    finetune: FineTuneRecord | None = None  # a fine-tuning's phases, for its bundle


@dataclass(eq=False)
class RunRecorder:
    """Keeps one training's run in the workspace store, from the job's thread."""

    store: Store
    workspace_id: int
    run_id: int
    spec: ModelSpec
    dataset: Dataset
    epochs_total: int = 0
    bound_bytes: int = 0  # the host's epoch_checkpoint_bytes
    problem: str | None = None  # the store's last failure, shown by the page
    plan: EpochPlan | None = None  # made at the first epoch, from its weights' size
    _checkpoint: KerasModel | None = None  # built once, carries each epoch's weights
    settings: TrainingSettings = field(default_factory=TrainingSettings)  # as started
    epochs_kept: int = 0  # finished epochs whose weights the store has
    continuable: bool = True  # an interrupted run may go on from its last kept epoch

    @classmethod
    def begin(cls, store: Store, workspace_id: int, spec: ModelSpec, dataset: Dataset,
              settings: TrainingSettings, params: int, upload_hash: str | None = None,
              *, continuable: bool = True, continues: int | None = None) -> RunRecorder:
        stored = (settings.to_dict() | ({} if continuable else {CONTINUABLE_KEY: False})
                  | ({} if continues is None else {CONTINUES_KEY: continues}))
        run_id = store.start_run(
            workspace_id, architecture_json=dump_architecture(spec, indent=None),
            settings=stored, dataset_name=dataset.name,
            class_names=dataset.class_names, epochs_total=settings.epochs, params=params,
            upload_hash=upload_hash)
        return cls(store, workspace_id, run_id, spec, dataset, settings.epochs,
                   get_settings().epoch_checkpoint_bytes, settings=settings,
                   continuable=continuable)

    def _bundle(self, model: KerasModel, accuracy: float | None,
                finetune: FineTuneRecord | None = None) -> bytes:
        return bundle_bytes(model, self.spec, dataset_name=self.dataset.name,
                            class_names=self.dataset.class_names, test_accuracy=accuracy,
                            finetune=finetune.to_dict() if finetune is not None else None)

    def epoch(self, epochs_done: int, weights: Weights,
              history: dict[str, list[float]]) -> None:
        try:
            if self._checkpoint is None:
                configure_tensorflow()
                self._checkpoint = build_model(self.spec)
            self._checkpoint.set_weights(weights)
            npz = weights_npz(self._checkpoint, self.spec)
            if self.plan is None:
                self.plan = epoch_plan(self.epochs_total, len(npz), self.bound_bytes)
            self.store.record_epoch(self.run_id, history=history,
                                    epochs_completed=epochs_done,
                                    weights=self._bundle(self._checkpoint, None),
                                    checkpoint=npz if self.plan.keeps(epochs_done) else None)
            self.epochs_kept = epochs_done
        except StoreError as error:
            self.problem = str(error)

    def finish(self, result: TrainingResult, finetune: FineTuneRecord | None = None) -> None:
        """The run's results; a fine-tuning's phases go into its settings and bundle."""
        settings = None if finetune is None else (
            self.settings.to_dict() | {FINETUNE_KEY: finetune.to_dict()})
        try:
            self.store.finish_run(
                self.run_id, status="stopped" if result.stopped else "finished",
                history=result.history, epochs_completed=result.epochs_completed,
                test_accuracy=result.test_accuracy, test_loss=result.test_loss,
                test_images=result.evaluation.test_images,
                confusion=result.evaluation.confusion.tolist(),
                seconds_per_epoch=result.seconds_per_epoch, settings=settings,
                weights=self._bundle(result.model, result.test_accuracy, finetune))
        except StoreError as error:
            self.problem = str(error)

    def queued(self, place: int | None) -> None:
        """The run's place in the room's line (None: it runs now), for the host's view."""
        try:
            self.store.note_queue_place(self.run_id, place)
        except StoreError as error:
            self.problem = str(error)

    def end_early(self) -> None:
        """A run that failed or was cancelled: kept as interrupted if an epoch finished
        (so that it can be continued), otherwise removed."""
        try:
            if self.epochs_kept and self.continuable:
                self.store.interrupt_run(self.run_id)
            else:
                self.store.discard_run(self.run_id)
        except StoreError as error:
            self.problem = str(error)


@dataclass(eq=False)
class TrainingJob:
    spec: ModelSpec  # frozen at the start: editing the Build page does not touch it
    dataset: Dataset
    settings: TrainingSettings
    stop_event: threading.Event = field(default_factory=threading.Event)
    state: JobState = "starting"
    queue_position: int | None = None
    progress: TrainingProgress | None = None
    result: TrainingResult | None = None
    x_test: np.ndarray | None = None
    error: str | None = None
    collected: bool = False
    thread: threading.Thread | None = None
    recorder: RunRecorder | None = None
    source: DatasetSource | None = None  # where the ray backend finds the same data
    room_queue: RoomQueue | None = None  # the room's line when replicas share the store
    phase_boundary: int | None = None  # a fine-tuning's epoch where its phase 2 starts
    initial_weights: Weights | None = None  # a continued run's start: its last kept epoch
    continues: int | None = None  # the interrupted run this one goes on from
    upload_hash: str | None = None  # the kept upload it trains on, when not this session's
    continuable: ClassVar[bool] = True  # cut short, its run can go on as a plain training

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def stop(self) -> None:
        self.stop_event.set()

    def _queued(self, position: int) -> None:
        self.queue_position, self.state = position, "queued"
        if self.recorder is not None:
            self.recorder.queued(position)

    def _progress(self, progress: TrainingProgress) -> None:
        self.progress = progress

    def _epoch_weights(self, epochs_done: int, weights: Weights) -> None:
        if self.recorder is not None:
            history = ({key: list(values) for key, values in self.progress.history.items()}
                       if self.progress is not None else {})
            self.recorder.epoch(epochs_done, weights, history)

    def hooks(self) -> TrainingHooks:
        """This page's view of the training: its progress, its Stop button, and each
        epoch's weights for the workspace when the run is kept."""
        return TrainingHooks(
            progress=self._progress, stop_event=self.stop_event,
            epoch_weights=self._epoch_weights if self.recorder is not None else None)

    def finetune_record(self) -> FineTuneRecord | None:
        """A fine-tuning's phases once it is over; None for an ordinary training."""
        return None

    def _train(self, fitted: Dataset) -> TrainingResult:
        """The training itself, on the dataset fitted to the model's input."""
        return training_backend().train(self.spec, fitted, self.settings, self.hooks(),
                                        source=self.source, initial_weights=self.initial_weights)

    def run(self) -> None:
        try:
            line = self.room_queue or training_slots()
            with line.slot(cancel=self.stop_event, on_wait=self._queued):
                if self.state == "queued" and self.recorder is not None:
                    self.recorder.queued(None)
                self.state = "running"
                fitted = fit_dataset_to_input(self.dataset, self.spec.input_shape)
                self.x_test = fitted.x_test
                self.result = self._train(fitted)
            if self.recorder is not None:
                self.recorder.finish(self.result, self.finetune_record())
            self.state = "stopped" if self.result.stopped else "finished"
        except QueueCancelled:
            self.state = "cancelled"
        except Exception as error:  # the page must show a message, never a traceback
            self.error, self.state = failure_message(error), "failed"
        if self.state in ("cancelled", "failed") and self.recorder is not None:
            self.recorder.end_early()


def current_job() -> TrainingJob | None:
    job = st.session_state.get(JOB_KEY)
    return job if isinstance(job, TrainingJob) else None


def training_in_progress() -> bool:
    job = current_job()
    return job is not None and job.active


def start_training(spec: ModelSpec, dataset: Dataset,
                   settings: TrainingSettings) -> TrainingJob | None:
    """Start a job in its own thread (it waits for a free slot first); None, with a notice,
    where the host's lesson locks what it would train, whatever the widgets sent."""
    refusal = lesson_refuses_training(spec, dataset.name, settings.to_dict())
    if refusal:
        show_notice(f"The training was not started: {refusal}")
        return None
    return launch_job(TrainingJob(spec=spec, dataset=dataset, settings=settings))


def launch_job(job: TrainingJob) -> TrainingJob:
    """Keep `job`'s run in the workspace, put it in the line and start its thread."""
    job.upload_hash = job.upload_hash or upload_hash(job.dataset)
    job.recorder = _recorder(job)
    job.source = _dataset_source(job.dataset, job.upload_hash)
    job.room_queue = _room_queue()
    job.thread = threading.Thread(target=job.run, name="cnnviz-training", daemon=True)
    st.session_state[JOB_KEY] = job
    job.thread.start()
    return job


def _room_queue() -> RoomQueue | None:
    """The store's queue, one order for every replica, when the store is a shared database
    (`store_url`); None: this process's own queue."""
    store = session_store()
    host = get_settings()
    return RoomQueue(store, host.max_concurrent_trainings) if (
        store is not None and host.store_url) else None


def _dataset_source(dataset: Dataset, kept: str | None) -> DatasetSource | None:
    """For the ray backend: a built-in's name and seed, or a kept upload's content hash."""
    if get_settings().training_backend != "ray":
        return None
    return builtin_source(dataset) or (UploadedDataset(kept) if kept else None)


def _recorder(job: TrainingJob) -> RunRecorder | None:
    workspace, store = current_workspace(), session_store()
    if workspace is None or store is None:
        return None

    try:
        check_workspace_bytes(store.usage_bytes(workspace.id))
        return RunRecorder.begin(store, workspace.id, job.spec, job.dataset, job.settings,
                                 summarize(job.spec).total_params, job.upload_hash,
                                 continuable=job.continuable, continues=job.continues)
    except LimitError as error:
        show_notice(error.message)
        return None
    except StoreError as error:
        report_store_problem(error)
        return None


def _runs_from_store(job: TrainingJob) -> None:
    """The session's runs as the workspace now has them, once `job` has written its own."""
    workspace, store = current_workspace(), session_store()
    if job.recorder is not None and workspace is not None and store is not None:
        try:
            refresh_stored_runs(store, workspace)
        except StoreError as error:
            report_store_problem(error)


def collect_finished_training() -> bool:
    """Move a finished job's model, run and results into session state; True if it did."""
    job = current_job()
    if job is None or job.active or job.collected:
        return False
    job.collected = True
    if job.recorder is not None and job.recorder.problem:
        report_store_problem(StoreError(job.recorder.problem))
    if job.result is None or job.x_test is None:
        _runs_from_store(job)  # a run cut short may be kept, to be continued
        return True
    result = job.result
    runs = session_runs()
    run_id = (job.recorder.run_id if job.recorder is not None
              else max((run.run_id for run in runs), default=0) + 1)
    dataset = job.dataset
    runs.append(result.run(run_id, dataset.name, dataset.class_names))
    st.session_state[RUNS_KEY] = runs
    _runs_from_store(job)
    st.session_state[TRAINED_KEY] = result.trained_model(
        dataset.name, dataset.class_names,
        job.recorder.run_id if job.recorder is not None else None)
    st.session_state[RESULT_KEY] = ShownResult(
        result, dataset.name, dataset.class_names, job.x_test, dataset.y_test, run_id,
        job.finetune_record())
    return True
