"""Train page: the Train button, then a fragment that polls the job and redraws itself.

Only the fragment reruns while a training runs (every `POLL_SECONDS`), so the rest of
the page stays usable; when the job ends it reruns the whole page to show the results.
"""

from __future__ import annotations

from typing import Final

import streamlit as st

from cnnviz.data import Dataset
from cnnviz.errors import StoreError
from cnnviz.limits import model_limit_errors
from cnnviz.shapes import ModelSummary
from cnnviz.spec import ModelSpec
from cnnviz.train import LossChoice, TrainingProgress, TrainingSettings, training_slots
from ui.guard import guarded
from ui.lesson import lesson_refuses_training
from ui.train.charts import LIVE_CHART_CONFIG, curves_figure
from ui.train.job import TrainingJob, collect_finished_training, current_job, start_training

__all__ = ["POLL_SECONDS", "live_panel", "train_button", "training_blocker"]

POLL_SECONDS: Final = 1.0


def training_blocker(
    summary: ModelSummary, dataset: Dataset | None, shapes_match: bool,
    loss: LossChoice | None, settings: TrainingSettings | None,
) -> str | None:
    """Why the Train button is disabled, in words; None when training can start."""
    if summary.error is not None:
        return f"The model has an error; fix it on the Build page. {summary.error.message}"
    over = model_limit_errors(len(summary.layers), summary.total_params)
    if over:
        return over[0].message
    if dataset is None:
        return "Choose a dataset first."
    if not shapes_match:
        return "Make the data and the model's input match first (above)."
    if loss is not None and not loss.ok:
        return "Fix the model's output first (see the loss above)."
    if settings is None:
        return "Fix the training settings first."

    return lesson_refuses_training(summary.spec, dataset.name, settings.to_dict())


def _start(spec: ModelSpec, dataset: Dataset, settings: TrainingSettings) -> None:
    start_training(spec, dataset, settings)


def train_button(
    spec: ModelSpec, dataset: Dataset | None, settings: TrainingSettings | None,
    blocker: str | None,
) -> None:
    """The Train button; disabled with the reason when something must be fixed first."""
    job = current_job()
    running = job is not None and job.active
    ready = dataset is not None and settings is not None and blocker is None and not running
    # A callback starts the job before the page reruns, so the whole page shows it frozen.
    st.button("Train", type="primary", icon=":material/play_arrow:", disabled=not ready,
              key="train_start", on_click=_start, args=(spec, dataset, settings),
              help=blocker or "Train a fresh model of this architecture; the Build page can "
              "keep changing meanwhile.")
    if blocker and not running:
        st.caption(f":material/block: {blocker}")


def _progress_text(progress: TrainingProgress, stopping: bool) -> str:
    if stopping:
        return "Stopping after the current batch…"
    if progress.phase == "done":
        return "Evaluating on the test set…"
    left = progress.seconds_left
    eta = f" · about {left:.0f} s left" if left is not None else ""
    step = "validating" if progress.phase == "validating" else (
        f"batch {progress.batch}/{progress.batches_per_epoch}")
    return f"Epoch {progress.epoch}/{progress.epochs} · {step}{eta}"


def _queued(job: TrainingJob) -> None:
    running: int | None
    if job.room_queue is not None:  # replicas share the store: the line is the room's
        where, limit = "in the room, which", job.room_queue.limit
        try:
            running = job.room_queue.running()
        except StoreError:
            running = None
    else:
        slots = training_slots()
        where, limit, running = "on this server, which", slots.limit, slots.running
    now = f"{running} training(s) are running" if running is not None else "Trainings run"
    st.info(f"**Queued** — {now} {where} runs {limit or 'any number'} at once. You are "
            f"number {job.queue_position or 1} in line; yours starts by itself.",
            icon=":material/hourglass_top:")
    st.button("Cancel", on_click=job.stop, key="train_cancel", icon=":material/close:")


def _running(job: TrainingJob) -> None:
    progress = job.progress
    stopping = job.stop_event.is_set()
    if progress is None:
        st.progress(0.0, text="Preparing the data and building the model…")
    else:
        st.progress(progress.fraction, text=_progress_text(progress, stopping))
    st.button("Stop", on_click=job.stop, disabled=stopping, key="train_stop",
              icon=":material/stop:", help="Stops after the current batch and keeps the weights.")
    if progress is None:  # the axes span the training from the start, with a note
        figure = curves_figure({}, (), job.settings.epochs)
    else:
        figure = curves_figure(progress.history, progress.batch_curve, progress.epochs,
                               job.phase_boundary)
    st.plotly_chart(figure, key="train_live_curves", width="stretch", config=LIVE_CHART_CONFIG)
    st.caption(f"Training **{job.spec.name}** as it was when you pressed Train; changes on the "
               "Build page apply to the next training.")


def _ended(job: TrainingJob) -> None:
    if job.state == "failed":
        recorder = job.recorder if job.continuable else None
        kept = (f" Its weights after epoch {recorder.epochs_kept} are kept: *Continue run "
                f"{recorder.run_id}* under Compare runs goes on from there."
                if recorder is not None and recorder.epochs_kept else "")
        st.error((job.error or "The training failed.") + kept, icon=":material/error:")
    elif job.state == "cancelled":
        st.info("The queued training was cancelled.", icon=":material/close:")


@guarded("live training panel")  # it reruns alone, outside the page's guard
def _live_body() -> None:
    job = current_job()
    if job is None:
        return
    if not job.active:
        if collect_finished_training() and job.result is not None:
            st.rerun()
        _ended(job)
    elif job.state == "queued":
        _queued(job)
    else:
        _running(job)


def live_panel() -> None:
    """The job's live view; it polls only while a job is queued or running."""
    job = current_job()
    interval = POLL_SECONDS if job is not None and job.active else None
    st.fragment(_live_body, run_every=interval)()
