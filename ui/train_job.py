"""A training running in a background thread owned by one browser session.

The page starts a `TrainingJob`, keeps it in session state and polls it; the thread never
touches Streamlit. When the job is over, `collect_finished_training` moves its outcome
into `TRAINED_KEY`, `RUNS_KEY` and `RESULT_KEY` (once), in the session's own script run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import streamlit as st

from cnnviz.concurrency import QueueCancelled, training_slots
from cnnviz.dataset_base import Dataset, DatasetError
from cnnviz.errors import LimitError
from cnnviz.progress import TrainingProgress
from cnnviz.spec import ModelSpec, SpecError
from cnnviz.training_settings import TrainingError, TrainingSettings
from ui.state import RUNS_KEY, TRAINED_KEY

__all__ = [
    "JOB_KEY",
    "RESULT_KEY",
    "ShownResult",
    "TrainingJob",
    "collect_finished_training",
    "current_job",
    "start_training",
    "training_in_progress",
]

JOB_KEY: Final = "cnnviz_training_job"
RESULT_KEY: Final = "cnnviz_training_result"  # the last finished training, for the results
ACTIVE_STATES: Final = ("starting", "queued", "running")


@dataclass(frozen=True, eq=False)
class ShownResult:
    """What the results section draws: the training's result and its test images."""

    result: Any  # cnnviz.training.TrainingResult
    dataset_name: str
    class_names: tuple[str, ...]
    x_test: np.ndarray  # as the model saw them
    y_test: np.ndarray
    run_id: int


@dataclass(eq=False)
class TrainingJob:
    spec: ModelSpec  # frozen at the start: editing the Build page does not touch it
    dataset: Dataset
    settings: TrainingSettings
    stop_event: threading.Event = field(default_factory=threading.Event)
    state: str = "starting"  # starting | queued | running | finished | stopped | failed | cancelled
    queue_position: int | None = None
    progress: TrainingProgress | None = None
    result: Any = None
    x_test: np.ndarray | None = None
    error: str | None = None
    collected: bool = False
    thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def stop(self) -> None:
        self.stop_event.set()

    def _queued(self, position: int) -> None:
        self.queue_position, self.state = position, "queued"

    def _progress(self, progress: TrainingProgress) -> None:
        self.progress = progress

    def run(self) -> None:
        from cnnviz.training import fit_dataset_to_input
        from cnnviz.training_worker import train_in_worker

        try:
            with training_slots().slot(cancel=self.stop_event, on_wait=self._queued):
                self.state = "running"
                fitted = fit_dataset_to_input(self.dataset, self.spec.input_shape)
                self.x_test = fitted.x_test
                self.result = train_in_worker(
                    self.spec, fitted, self.settings,
                    progress=self._progress, stop_event=self.stop_event,
                )  # fmt: skip
            self.state = "stopped" if self.result.stopped else "finished"
        except QueueCancelled:
            self.state = "cancelled"
        except (TrainingError, DatasetError, SpecError, LimitError) as error:
            self.error, self.state = str(error), "failed"
        except Exception as error:  # the page must show a message, never a traceback
            self.error = f"Training failed unexpectedly ({type(error).__name__}: {error})."
            self.state = "failed"


def current_job() -> TrainingJob | None:
    job = st.session_state.get(JOB_KEY)
    return job if isinstance(job, TrainingJob) else None


def training_in_progress() -> bool:
    job = current_job()
    return job is not None and job.active


def start_training(spec: ModelSpec, dataset: Dataset, settings: TrainingSettings) -> TrainingJob:
    """Start a job in its own thread (it waits for a free slot first)."""
    job = TrainingJob(spec=spec, dataset=dataset, settings=settings)
    job.thread = threading.Thread(target=job.run, name="cnnviz-training", daemon=True)
    st.session_state[JOB_KEY] = job
    job.thread.start()
    return job


def collect_finished_training() -> bool:
    """Move a finished job's model, run and results into session state; True if it did."""
    job = current_job()
    if job is None or job.active or job.collected:
        return False
    job.collected = True
    if job.result is None or job.x_test is None:
        return True
    result = job.result
    runs = list(st.session_state.get(RUNS_KEY) or [])
    run_id = max((getattr(run, "run_id", 0) for run in runs), default=0) + 1
    dataset = job.dataset
    runs.append(result.run(run_id, dataset.name, dataset.class_names))
    st.session_state[RUNS_KEY] = runs
    st.session_state[TRAINED_KEY] = result.trained_model(dataset.name, dataset.class_names)
    st.session_state[RESULT_KEY] = ShownResult(
        result, dataset.name, dataset.class_names, job.x_test, dataset.y_test, run_id
    )
    return True
