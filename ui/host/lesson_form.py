"""The host pushes a lesson: a model (theirs, an empty stack, or none), a dataset,
training settings, an instruction, and the locks."""

from __future__ import annotations

import dataclasses

import streamlit as st

from cnnviz.archfile import dump_architecture
from cnnviz.data import BUILTIN_DATASETS
from cnnviz.errors import StoreError
from cnnviz.layers import LAYER_TYPES
from cnnviz.room import Lesson, Locks
from cnnviz.store import RoomStore
from cnnviz.train import OPTIMIZERS, TrainingSettings
from ui.lesson import forget_cached_lesson
from ui.state import current_spec

__all__ = ["lesson_form"]

_MODEL_CHOICES = {"mine": "My model (from my Build page)",
                  "empty": "An empty stack (my model's input shape)",
                  "none": "No model: participants keep theirs"}


def _current(lesson: Lesson | None) -> None:
    if lesson is None:
        st.caption("No lesson is running: participants build freely.")
        return
    spec = lesson.spec()
    st.markdown(f"**Lesson {lesson.version} is running.** "
                + (f"Model: {len(spec.layers)} layers. " if spec is not None else "No model. ")
                + (f"Dataset: {lesson.dataset_name}." if lesson.dataset_name else ""))
    locks = lesson.describe_locks()
    st.caption("Locked: " + ("; ".join(locks) if locks else "nothing") + ".")


def lesson_form(room: RoomStore) -> None:
    try:
        lesson = room.current_lesson()
    except StoreError as error:
        st.warning(str(error), icon=":material/cloud_off:")
        return
    _current(lesson)
    if lesson is not None and st.button("End the lesson (unlock everything)",
                                        key="host_end_lesson", icon=":material/lock_open:"):
        room.end_lesson()
        forget_cached_lesson()
        st.rerun()
    with st.form("host_lesson"):
        instruction = st.text_area("Instruction for the room", max_chars=2000,
                                   placeholder="Add one Conv2D layer and beat 90 % on shapes.")
        left, right = st.columns(2)
        model = left.radio("Model", tuple(_MODEL_CHOICES), format_func=_MODEL_CHOICES.get)
        dataset = right.selectbox("Dataset", ("(none)", *BUILTIN_DATASETS), index=2)
        optimizer = left.selectbox("Optimizer", tuple(OPTIMIZERS),
                                   format_func=lambda name: OPTIMIZERS[name].label, index=2)
        epochs = right.number_input("Epochs", min_value=1, max_value=1000, value=5)
        st.markdown("**Locks** (checked by the server, shown to participants with the reason)")
        lock_left, lock_right = st.columns(2)
        fix_dataset = lock_left.checkbox("Fix the dataset")
        hide_optimizer = lock_left.checkbox("Hide the optimizer (use the one above)")
        freeze_input = lock_left.checkbox("Freeze the input shape")
        cap = lock_right.number_input("Cap the epochs at (0: no cap)", min_value=0,
                                      max_value=1000, value=0)
        allowed = lock_right.multiselect("Allow only these layer types (none: all)",
                                         tuple(LAYER_TYPES))
        pushed = st.form_submit_button("Push the lesson to the room", type="primary",
                                       icon=":material/send:")
    if not pushed:
        return
    spec = current_spec()
    if model == "empty":
        spec = dataclasses.replace(spec, layers=(), name="lesson")
    training = TrainingSettings(optimizer=optimizer or "adam", epochs=int(epochs))
    try:
        pushed_lesson = room.push_lesson(
            instruction=instruction or "",
            architecture_json=None if model == "none" else dump_architecture(spec, indent=None),
            dataset_name=None if dataset == "(none)" else dataset,
            settings=training.to_dict(),
            locks=Locks(fix_dataset=fix_dataset and dataset != "(none)", max_epochs=int(cap),
                        allowed_layers=tuple(allowed), freeze_input_shape=freeze_input,
                        hide_optimizer=hide_optimizer))
    except StoreError as error:
        st.error(str(error))
        return
    forget_cached_lesson()
    st.success(f"Lesson {pushed_lesson.version} pushed: participants see it now.",
               icon=":material/check:")
