"""Continue an interrupted run: its training ended early (the server restarted, or the
machine training it was lost) and the workspace kept the weights of its last finished
epoch. The continuation is a new run that starts from those weights and trains the
epochs that were left. Its optimizer and learning-rate schedule start afresh: their
state was not kept, so it is close to, not the same as, a training never interrupted."""

from __future__ import annotations

import dataclasses

import streamlit as st

from cnnviz.archfile import load_architecture
from cnnviz.bundle import BundleError, load_bundle
from cnnviz.data import DatasetError
from cnnviz.errors import LimitError, SpecError, StoreError
from cnnviz.store import StoredRun
from cnnviz.store.runs import run_settings
from ui.lesson import lesson_refuses_training
from ui.state import show_notice
from ui.train.job import (
    CONTINUABLE_KEY,
    CONTINUES_KEY,
    TrainingJob,
    launch_job,
    training_in_progress,
)
from ui.workspace import current_workspace, session_store, stored_run_dataset, stored_runs

__all__ = ["continue_interrupted"]


def _epochs_left(run: StoredRun) -> int:
    return run.epochs_total - run.epochs_completed


def _continue(run: StoredRun) -> None:
    store, workspace = session_store(), current_workspace()
    if store is None or workspace is None:
        return
    try:
        spec = load_architecture(run.architecture_json)
        dataset = stored_run_dataset(store, workspace.id, run)
        start = load_bundle(store.run_weights(workspace.id, run.id) or b"").model.get_weights()
    except (SpecError, DatasetError, BundleError, LimitError, StoreError) as error:
        show_notice(f"Run {run.id} could not be continued: {error}")
        return
    settings = dataclasses.replace(run_settings(run.settings), epochs=_epochs_left(run))
    refusal = lesson_refuses_training(spec, dataset.name, settings.to_dict())
    if refusal:
        show_notice(f"Run {run.id} was not continued: {refusal}")
        return
    launch_job(TrainingJob(spec=spec, dataset=dataset, settings=settings,
                           initial_weights=start, continues=run.id,
                           upload_hash=run.upload_hash))


def continue_interrupted(run: StoredRun) -> None:
    """Under an interrupted run's notice: the button that trains its remaining epochs
    from its last kept epoch (a notice says why, where that cannot be done)."""
    left = _epochs_left(run)
    if not run.has_weights or left <= 0 or run.settings.get(CONTINUABLE_KEY) is False:
        return
    continuation = next((later.id for later in stored_runs()
                         if later.settings.get(CONTINUES_KEY) == run.id), None)
    if continuation is not None:
        st.caption(f"Run {continuation} continued it from epoch {run.epochs_completed}.")
        return
    st.button(f"Continue run {run.id}: {left} more epoch{'' if left == 1 else 's'} from "
              f"epoch {run.epochs_completed}", key=f"train_continue_{run.id}",
              icon=":material/play_arrow:", on_click=_continue, args=(run,),
              disabled=training_in_progress(),
              help="A new run starts from the weights this run had after its last finished "
                   "epoch and trains the epochs that were left. The optimizer and the "
                   "learning-rate schedule start afresh (their state was not kept).")
