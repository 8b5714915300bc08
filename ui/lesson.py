"""The room as a participant meets it: the host's lesson as a notice, and its locks.

Every change to the model (`ui.state.set_spec`) and every training start asks
`cnnviz.room.check_against_lesson`; the widgets only show what is locked and why.
The lesson is read from the store at most every `_TTL` seconds per process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import streamlit as st

from cnnviz.errors import StoreError
from cnnviz.room import Challenge, Lesson, check_against_lesson
from cnnviz.spec import ModelSpec
from cnnviz.store import RoomStore
from ui.host.leaderboard import leaderboard_panel
from ui.state import (
    DATASET_KEY,
    TRAIN_SETTING_WIDGET_KEYS,
    learning_rate_widget_key,
    set_spec,
    show_notice,
)
from ui.workspace import session_store

__all__ = [
    "allowed_layer_types",
    "current_lesson",
    "epoch_cap",
    "forget_cached_lesson",
    "lesson_notice",
    "lesson_refuses_change",
    "lesson_refuses_training",
    "locked_dataset",
    "locked_optimizer",
    "room_store",
]

_TTL = 2.0
_LOADED_KEY = "cnnviz_lesson_loaded"  # the lesson version this session loaded or set aside
_cache: dict[int, tuple[float, Lesson | None, Challenge | None]] = {}
_cache_lock = threading.Lock()


def room_store() -> RoomStore | None:
    store = session_store()
    return RoomStore(store) if store is not None else None


def forget_cached_lesson() -> None:
    with _cache_lock:
        _cache.clear()


def _room_now() -> tuple[Lesson | None, Challenge | None]:
    """The room's lesson and challenge (None without one, or without a store)."""
    room = room_store()
    if room is None:
        return None, None
    key, now = id(room.store), time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and now - cached[0] < _TTL:
        return cached[1], cached[2]
    try:
        lesson, challenge = room.current_lesson(), room.current_challenge()
    except StoreError:
        lesson, challenge = (cached[1], cached[2]) if cached is not None else (None, None)
    with _cache_lock:
        _cache[key] = (now, lesson, challenge)
    return lesson, challenge


def current_lesson() -> Lesson | None:
    return _room_now()[0]


def lesson_refuses_change(previous: ModelSpec | None, spec: ModelSpec) -> str | None:
    """Why the lesson's locks refuse this change to the model, or None."""
    found = check_against_lesson(current_lesson(), spec=spec, previous=previous)
    return " ".join(violation.message for violation in found) or None


def lesson_refuses_training(spec: ModelSpec, dataset_name: str,
                            settings: Mapping[str, Any]) -> str | None:
    """Why the lesson's locks refuse this training, or None."""
    found = check_against_lesson(current_lesson(), spec=spec, dataset_name=dataset_name,
                                 settings=settings)
    return " ".join(violation.message for violation in found) or None


def allowed_layer_types() -> tuple[str, ...]:
    """The palette the lesson allows (empty: every layer type)."""
    lesson = current_lesson()
    return lesson.locks.allowed_layers if lesson is not None else ()


def epoch_cap() -> int:
    lesson = current_lesson()
    return lesson.locks.max_epochs if lesson is not None else 0


def locked_dataset() -> str | None:
    lesson = current_lesson()
    if lesson is None or not lesson.locks.fix_dataset:
        return None
    return lesson.dataset_name


def locked_optimizer() -> tuple[str, float | None] | None:
    """The optimizer and learning rate the lesson fixes (the widgets are hidden), or None."""
    lesson = current_lesson()
    if lesson is None or not lesson.locks.hide_optimizer:
        return None
    rate = lesson.settings.get("learning_rate")
    return str(lesson.settings.get("optimizer", "adam")), float(rate) if rate else None


def _load(lesson: Lesson) -> None:
    spec = lesson.spec()
    if spec is not None:
        set_spec(spec)  # the participant's own model goes to the undo history
    if lesson.dataset_name:
        st.session_state[DATASET_KEY] = lesson.dataset_name
    training = lesson.settings
    for name, widget in TRAIN_SETTING_WIDGET_KEYS.items():
        if name in training:
            st.session_state[widget] = training[name]
    if training.get("learning_rate") and training.get("optimizer"):
        key = learning_rate_widget_key(training["optimizer"])
        st.session_state[key] = float(training["learning_rate"])
    st.session_state[_LOADED_KEY] = lesson.version
    if spec is not None:
        show_notice("The lesson is loaded. Your own model is one Undo away on the Build page.")


def _set_aside(version: int) -> None:
    st.session_state[_LOADED_KEY] = version


def lesson_notice(page_title: str) -> None:
    """The lesson as a notice: its instruction, Load the lesson (until loaded or set
    aside), and what is locked, with why; the challenge, with its leaderboard on demand.
    Not on the Host page, which shows all of it."""
    lesson, challenge = _room_now()
    if (lesson is None and challenge is None) or page_title == "Host":
        return
    with st.container(border=True, key="lesson_notice"):
        if lesson is not None:
            _lesson_part(lesson)
        if challenge is not None:
            st.markdown(f"**:material/emoji_events: Challenge:** {_escape(challenge.title)} · "
                        f"{_escape(challenge.describe())}")
            if st.toggle("Show the leaderboard", key="lesson_show_board"):
                room = room_store()
                if room is not None:
                    leaderboard_panel(room, key="room_board")


def _lesson_part(lesson: Lesson) -> None:
    fresh = st.session_state.get(_LOADED_KEY) != lesson.version
    locks = lesson.describe_locks()
    st.markdown(f"**:material/school: Lesson {lesson.version}**")
    if lesson.instruction:
        st.text(lesson.instruction)  # the host's words, shown as text
    if locks:
        st.caption(":material/lock: Locked by the host for this lesson: "
                   + "; ".join(_escape(text) for text in locks) + ".")
    if fresh:
        left, right, _rest = st.columns([1, 1, 3])
        left.button("Load the lesson", type="primary", key="lesson_load",
                    on_click=_load, args=(lesson,), icon=":material/download:")
        right.button("Not now", key="lesson_later", on_click=_set_aside,
                     args=(lesson.version,))


def _escape(text: str) -> str:
    """Text for st.markdown/st.caption with Markdown and HTML made literal."""
    out = []
    for char in text:
        if char in "\\`*_{}[]()<>#+-.!|~$:":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
