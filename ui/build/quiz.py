"""Predict, then reveal, on the Build page: a layer's number is hidden, the participant
guesses, then sees the answer with its arithmetic and whether they were right.

Alone (the toggle, about the selected layer) or with the room: the host's question, whose
answer comes from the store only after the host reveals it. The room's part redraws itself
every few seconds while a lesson runs or a question waits for this participant, and looks
less often otherwise; the newest question's id is read at most every `_TTL` seconds per
process.
"""

from __future__ import annotations

import threading
import time
from typing import Final

import streamlit as st

from cnnviz.errors import StoreError
from cnnviz.quiz import (
    QUESTION_KINDS,
    LayerQuestion,
    QuestionKind,
    is_right,
    layer_question,
    normalize_guess,
    question_kinds_for,
)
from cnnviz.shapes import ModelSummary
from cnnviz.store import ParticipantQuestion, RoomStore
from ui.build.text_block import text_block
from ui.guard import guarded
from ui.lesson import current_lesson, room_store
from ui.markdown import escape_markdown
from ui.state import QUIZ_MODE_KEY
from ui.workspace import current_workspace

__all__ = ["IDLE_REFRESH_SECONDS", "ROOM_REFRESH_SECONDS", "forget_newest_question",
           "quiz_mode", "room_question", "solo_question"]

ROOM_REFRESH_SECONDS: Final = 3.0
IDLE_REFRESH_SECONDS: Final = 10.0  # no class on: how often to look whether one began
_KIND_KEY = "build_quiz_kind"
_CHECKED_KEY = "build_quiz_checked"  # {(prompt, answer): the guess checked}
_ROOM_GUESS_KEY = "build_room_guess"
_DISMISSED_KEY = "build_room_dismissed"  # the revealed question this session put away
_TTL: Final = 2.0
_newest: dict[int, tuple[float, int | None]] = {}  # per store: (read at, newest question id)
_newest_lock = threading.Lock()


def forget_newest_question() -> None:
    """After the host asks: this process's pages see the question at their next run."""
    with _newest_lock:
        _newest.clear()


def _newest_question_id(room: RoomStore) -> int | None:
    key, now = id(room.store), time.monotonic()
    with _newest_lock:
        cached = _newest.get(key)
    if cached is not None and now - cached[0] < _TTL:
        return cached[1]
    try:
        newest = room.newest_question_id()
    except StoreError:
        newest = cached[1] if cached is not None else None
    with _newest_lock:
        _newest[key] = (now, newest)
    return newest


def _kind_label(kind: QuestionKind) -> str:
    return QUESTION_KINDS[kind]


def quiz_mode() -> bool:
    """The page's toggle: while on, the selected layer's numbers wait for a guess."""
    return bool(st.toggle("Predict, then reveal", key=QUIZ_MODE_KEY,
                          help="Hide the numbers: guess a layer's output shape, parameters or "
                               "receptive field first, then see the answer and its arithmetic."))


def _verdict(guess: str, question: LayerQuestion | ParticipantQuestion) -> None:
    answer = question.answer or ""
    mine = escape_markdown(normalize_guess(guess, answer))
    if is_right(guess, answer):
        st.success(f"Right: {escape_markdown(answer)}.", icon=":material/check_circle:")
    else:
        st.error(f"Not quite: you said {mine}, the answer is {escape_markdown(answer)}.",
                 icon=":material/cancel:")
    text_block(question.explanation or "", wrap=True)


def solo_question(summary: ModelSummary, index: int) -> None:
    """A question about layer `index`, its number hidden until the guess is checked."""
    kinds = question_kinds_for(summary, index)
    if not kinds:
        st.info("This layer's numbers appear once the error above is fixed.",
                icon=":material/info:")
        return
    if st.session_state.get(_KIND_KEY) not in kinds:
        st.session_state[_KIND_KEY] = kinds[0]
    kind = st.segmented_control("Question", kinds, format_func=_kind_label,
                                key=_KIND_KEY) or kinds[0]
    question = layer_question(summary, index, kind)
    st.markdown(escape_markdown(question.prompt))
    checked: dict[tuple[str, str], str] = st.session_state.setdefault(_CHECKED_KEY, {})
    asked = (question.prompt, question.answer)
    if asked in checked:
        _verdict(checked[asked], question)
        if st.button("Ask again", key="build_quiz_again", icon=":material/replay:"):
            checked.pop(asked, None)
            st.rerun()
        return
    with st.form("build_quiz", border=False):
        guess = st.text_input("Your guess", placeholder="e.g. 26x26x32 or 1,234",
                              max_chars=80, key="build_quiz_guess")
        if st.form_submit_button("Check", type="primary", key="build_quiz_check") and guess:
            checked[asked] = guess
            st.rerun()


def _dismiss(question_id: int) -> None:
    st.session_state[_DISMISSED_KEY] = question_id


def _room_part(question: ParticipantQuestion, workspace_id: int) -> None:
    with st.container(border=True, key="room_question"):
        st.markdown(f"**:material/quiz: The host asks:** {escape_markdown(question.prompt)}")
        if question.revealed:
            if question.mine is None:
                st.info(f"The answer: {escape_markdown(question.answer or '')}.",
                        icon=":material/lightbulb:")
                text_block(question.explanation or "", wrap=True)
            else:
                _verdict(question.mine, question)
            st.button("Got it", key="build_room_dismiss", on_click=_dismiss,
                      args=(question.id,), icon=":material/done:")
            return
        if question.mine is not None:
            st.caption(f"Your guess: {escape_markdown(question.mine)}. The host reveals the "
                       "answer to everyone; you may change your guess until then.")
        with st.form("build_room_answer", border=False):
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            guess = left.text_input("Your guess", max_chars=80, key=_ROOM_GUESS_KEY,
                                    placeholder="e.g. 26x26x32 or 1,234")
            sent = right.form_submit_button("Send", type="primary", key="build_room_send")
        if sent and guess:
            room = room_store()
            try:
                if room is not None:
                    room.answer(question.id, workspace_id, guess)
            except StoreError as error:
                st.warning(str(error), icon=":material/cloud_off:")
                return
            st.rerun(scope="fragment")


def _class_on(room: RoomStore) -> bool:
    """A lesson runs, or a question waits for this participant."""
    newest = _newest_question_id(room)
    waiting = newest is not None and st.session_state.get(_DISMISSED_KEY) != newest
    return waiting or current_lesson() is not None


def room_question() -> None:
    """The host's question for the room, if one is asked, redrawn every few seconds while
    a class is on (a lesson runs or a question waits), so that the question and the reveal
    arrive by themselves. Otherwise it only looks every `IDLE_REFRESH_SECONDS` whether a
    class began, and then redraws the whole page (the lesson's notice, the question)."""
    room, workspace = room_store(), current_workspace()
    if room is None or workspace is None:
        return
    class_on = _class_on(room)

    @st.fragment(run_every=ROOM_REFRESH_SECONDS if class_on else IDLE_REFRESH_SECONDS)
    @guarded("the room's question")
    def draw() -> None:
        if not class_on:
            if _class_on(room):
                st.rerun(scope="app")
            return
        try:
            question = room.question_for(workspace.id)
        except StoreError:
            return  # the sidebar says the store is unreachable
        if question is not None and st.session_state.get(_DISMISSED_KEY) != question.id:
            _room_part(question, workspace.id)

    draw()
