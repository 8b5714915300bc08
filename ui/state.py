"""Session-state keys and accessors shared by the pages. Plain data only, one session each.

Every key that more than one module reads or writes is here, with the typed record it
holds; a key only one module uses stays private to that module.

The architecture lives under `SPEC_KEY` (no widget owns it, so page switches keep it),
with an undo/redo history, and is mirrored into the page URL (`?arch=…`) so that a reload
or a shared link opens the same model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import streamlit as st

from cnnviz.errors import LimitError
from cnnviz.limits import check_layers
from cnnviz.presets import get_preset
from cnnviz.spec import ModelSpec, SpecError
from cnnviz.train import TrainedModel, TrainingRun
from cnnviz.urlcodec import decode_spec, encode_spec

__all__ = [
    "BROUGHT_KEY",
    "DATASET_KEY",
    "DEFAULT_PRESET",
    "FEATURE_IMAGE_KEY",
    "JOB_KEY",
    "MAX_HISTORY",
    "QUIZ_MODE_KEY",
    "RESULT_KEY",
    "RUNS_KEY",
    "SELECTED_KEY",
    "SPEC_KEY",
    "STORED_RUNS_KEY",
    "STORE_PROBLEM_KEY",
    "TRAINED_KEY",
    "TRAIN_SETTING_WIDGET_KEYS",
    "URL_PARAM",
    "WORKSPACE_KEY",
    "BroughtRun",
    "HandedImage",
    "adopt_saved_spec",
    "brought_run",
    "can_redo",
    "can_undo",
    "current_spec",
    "ensure_defaults",
    "hand_image",
    "handed_image",
    "learning_rate_widget_key",
    "redo",
    "refresh_widgets",
    "selected_layer",
    "session_runs",
    "set_selected_layer",
    "set_spec",
    "show_notice",
    "sync_url",
    "take_notice",
    "trained_model",
    "undo",
    "widget_epoch",
]

SPEC_KEY = "cnnviz_spec"  # the session's ModelSpec; no widget owns this key
TRAINED_KEY = "cnnviz_trained"  # TrainedModel: this session's model, with what it learned on
RUNS_KEY = "cnnviz_runs"  # list[TrainingRun]: every training run of this session
JOB_KEY = "cnnviz_training_job"  # ui.train.job.TrainingJob: the session's training
RESULT_KEY = "cnnviz_training_result"  # ui.train.job.ShownResult: the last finished training
DATASET_KEY = "cnnviz_dataset_name"
WORKSPACE_KEY = "cnnviz_workspace"  # the participant's stored workspace (cnnviz.store)
STORED_RUNS_KEY = "cnnviz_stored_runs"  # every stored run, interrupted ones too
STORE_PROBLEM_KEY = "cnnviz_store_problem"  # why work is not being saved, if it is not
SELECTED_KEY = "cnnviz_selected_layer"  # index of the layer whose settings are open
FEATURE_IMAGE_KEY = "cnnviz_feature_image"  # HandedImage: from the Train page to Feature maps
BROUGHT_KEY = "cnnviz_brought_run"  # BroughtRun: the host brought a participant's run
QUIZ_MODE_KEY = "build_quiz_mode"  # the Build page's "Predict, then reveal" toggle
DEFAULT_PRESET = "chollet-mnist-convnet"
URL_PARAM = "arch"
MAX_HISTORY = 100
# The Train page's settings widgets, by TrainingSettings field (a lesson sets them too).
TRAIN_SETTING_WIDGET_KEYS: Final = {
    "optimizer": "train_optimizer", "batch_size": "train_batch_size",
    "epochs": "train_epochs", "validation_split": "train_validation_split",
    "seed": "train_seed", "schedule": "train_schedule",
}

_PAST_KEY = "cnnviz_history_past"
_FUTURE_KEY = "cnnviz_history_future"
_EPOCH_KEY = "cnnviz_widget_epoch"  # bumped when the spec changes from outside its widgets
_NOTICE_KEY = "cnnviz_notice"


def learning_rate_widget_key(optimizer: str) -> str:
    """The learning-rate widget's key: one per optimizer, each keeping its own rate."""
    return f"train_lr_{optimizer}"


@dataclass(frozen=True, eq=False)
class HandedImage:
    """An image the Train page hands to the Feature maps page (under `FEATURE_IMAGE_KEY`)."""

    array: np.ndarray  # height × width × channels, as the model saw it
    label: str  # its true class
    source: str  # where it came from, e.g. "test set #12"


def hand_image(image: HandedImage) -> None:
    st.session_state[FEATURE_IMAGE_KEY] = image


def handed_image() -> HandedImage | None:
    image = st.session_state.get(FEATURE_IMAGE_KEY)
    return image if isinstance(image, HandedImage) else None


@dataclass(frozen=True)
class BroughtRun:
    """Whose run the session's trained model is, when the host brought it from the
    projector (under `BROUGHT_KEY`)."""

    owner: str  # their display name, as they typed it
    run_id: int
    weights_version: str  # the TrainedModel it describes
    owner_id: int  # their workspace, where the run and its epochs are kept


def trained_model() -> TrainedModel | None:
    """The model trained (or loaded from a bundle or the store) in this session, if any."""
    record = st.session_state.get(TRAINED_KEY)
    return record if isinstance(record, TrainedModel) else None


def brought_run() -> BroughtRun | None:
    """The participant's run the session's trained model is, while it still is that one."""
    brought, record = st.session_state.get(BROUGHT_KEY), trained_model()
    if (isinstance(brought, BroughtRun) and record is not None
            and record.weights_version == brought.weights_version):
        return brought
    return None


def session_runs() -> list[TrainingRun]:
    """This session's training runs, oldest first."""
    runs = st.session_state.get(RUNS_KEY)
    if not isinstance(runs, (list, tuple)):
        return []
    return [run for run in runs if isinstance(run, TrainingRun)]


def _spec_from_url() -> ModelSpec | None:
    raw = st.query_params.get(URL_PARAM)
    if raw is None:
        return None
    try:
        spec = decode_spec(raw)
        check_layers(len(spec.layers))
    except (SpecError, LimitError) as error:
        show_notice(f"The architecture in this link could not be opened. {error.message} "
                    "The default model is shown instead.")
        return None
    return spec


def ensure_defaults() -> None:
    if SPEC_KEY not in st.session_state:
        st.session_state[SPEC_KEY] = _spec_from_url() or get_preset(DEFAULT_PRESET)


def adopt_saved_spec(saved: ModelSpec) -> None:
    """The participant's stored model, at a session's start: it becomes the open model,
    unless the link names one; then the stored one waits in the undo history."""
    if st.query_params.get(URL_PARAM) is None:
        st.session_state[SPEC_KEY] = saved
        refresh_widgets()
    elif saved != current_spec():
        st.session_state[_PAST_KEY] = [*st.session_state.get(_PAST_KEY, []), saved]


def current_spec() -> ModelSpec:
    ensure_defaults()
    spec: ModelSpec = st.session_state[SPEC_KEY]
    return spec


def widget_epoch() -> int:
    """Part of every settings widget's key: new keys (fresh values) after undo, load, fix…"""
    return int(st.session_state.get(_EPOCH_KEY, 0))


def refresh_widgets() -> None:
    st.session_state[_EPOCH_KEY] = widget_epoch() + 1


def _over_layer_limit(spec: ModelSpec, previous: ModelSpec | None) -> bool:
    """True (with a notice naming the setting) when `spec` grows past the host's layer limit."""
    if previous is not None and len(spec.layers) <= len(previous.layers):
        return False  # removing layers is always allowed, even over the limit
    try:
        check_layers(len(spec.layers))
    except LimitError as error:
        show_notice(f"That change was not made: {error.message}")
        return True
    return False


def _refused_by_lesson(spec: ModelSpec, previous: ModelSpec | None) -> bool:
    """True (with a notice saying why) when the host's lesson locks what this change does."""
    from ui.lesson import lesson_refuses_change  # here, not above: ui.lesson imports ui.state

    refusal = lesson_refuses_change(previous, spec)
    if refusal:
        show_notice(f"That change was not made: {refusal}")
        refresh_widgets()  # the form shows the model as it stays
    return refusal is not None


def set_spec(spec: ModelSpec, *, record: bool = True, from_widgets: bool = False) -> None:
    """Make `spec` the session's architecture; `record` keeps the old one for undo.

    A model with more layers than the host allows, or one the lesson's locks refuse, is
    refused with a notice."""
    previous = st.session_state.get(SPEC_KEY)
    if (previous == spec or _over_layer_limit(spec, previous)
            or _refused_by_lesson(spec, previous)):
        return
    if record and previous is not None:
        past = [*st.session_state.get(_PAST_KEY, []), previous][-MAX_HISTORY:]
        st.session_state[_PAST_KEY] = past
        st.session_state[_FUTURE_KEY] = []
    st.session_state[SPEC_KEY] = spec
    if not from_widgets:
        refresh_widgets()


def can_undo() -> bool:
    return bool(st.session_state.get(_PAST_KEY))


def can_redo() -> bool:
    return bool(st.session_state.get(_FUTURE_KEY))


def undo() -> None:
    past = list(st.session_state.get(_PAST_KEY, []))
    if not past:
        return
    st.session_state[_FUTURE_KEY] = [current_spec(), *st.session_state.get(_FUTURE_KEY, [])]
    st.session_state[_PAST_KEY] = past[:-1]
    set_spec(past[-1], record=False)


def redo() -> None:
    future = list(st.session_state.get(_FUTURE_KEY, []))
    if not future:
        return
    st.session_state[_PAST_KEY] = [*st.session_state.get(_PAST_KEY, []), current_spec()]
    st.session_state[_FUTURE_KEY] = future[1:]
    set_spec(future[0], record=False)


def selected_layer() -> int | None:
    """The selected layer's index, kept inside the stack (None when the stack is empty)."""
    count = len(current_spec().layers)
    if count == 0:
        return None
    index = st.session_state.get(SELECTED_KEY, 0)
    return min(max(int(index) if isinstance(index, int) else 0, 0), count - 1)


def set_selected_layer(index: int | None) -> None:
    st.session_state[SELECTED_KEY] = index if index is not None else 0


def sync_url() -> None:
    """Write the current architecture into the page URL, if it is not there already."""
    encoded = encode_spec(current_spec())
    if st.query_params.get(URL_PARAM) != encoded:
        st.query_params[URL_PARAM] = encoded


def show_notice(text: str) -> None:
    st.session_state[_NOTICE_KEY] = text


def take_notice() -> str | None:
    """A one-time message for the person (e.g. a link that could not be read), then gone."""
    notice = st.session_state.pop(_NOTICE_KEY, None)
    return notice if isinstance(notice, str) else None
