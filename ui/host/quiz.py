"""Predict, then reveal, for the room: the host asks a question about one layer of the
lesson's model (or their own), watches the room's answers arrive, and reveals the answer.

Every function here is for the host: a participant's session calling one is refused
(`require_host`), so neither the answer before the reveal nor the others' guesses reach it.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, Final

import streamlit as st

from cnnviz.errors import StoreError
from cnnviz.quiz import QUESTION_KINDS, QuestionKind, layer_question, question_kinds_for
from cnnviz.shapes import summarize
from cnnviz.store import AnswerGroup, RoomStore
from ui.build.quiz import forget_newest_question
from ui.host.auth import require_host
from ui.markdown import escape_markdown
from ui.state import current_spec

__all__ = ["answer_rows", "answers_figure", "answers_sentence", "question_launcher",
           "question_results"]

_NEXT_LAYER_KEY = "host_quiz_next_layer"  # the layer after the one asked last
_SHOWN_NAMES: Final = 12  # names listed per answer; the count says the rest


def _kind_label(kind: QuestionKind) -> str:
    return QUESTION_KINDS[kind]


def _named(name: str | None) -> str:
    return name or "(no name)"


def answers_sentence(groups: Sequence[AnswerGroup]) -> str:
    """"14 said 26×26×32 · 9 said 13×13×32", as plain text (escape it for Markdown)."""
    return " · ".join(f"{group.count} said {group.answer}" for group in groups)


def answer_rows(groups: Sequence[AnswerGroup], answer: str) -> list[dict[str, Any]]:
    rows = []
    for group in groups:
        names = ", ".join(_named(name) for name in group.names[:_SHOWN_NAMES])
        more = len(group.names) - _SHOWN_NAMES
        rows.append({"Answer": group.answer, "Right": "✓" if group.answer == answer else "",
                     "Participants": group.count,
                     "Who": names + (f" and {more} more" if more > 0 else "")})
    return rows


def answers_figure(groups: Sequence[AnswerGroup], answer: str, revealed: bool) -> Any:
    """One bar per answer; the right one coloured once revealed. Plotly reads some HTML in
    its labels, so every text typed by a participant is escaped."""
    import plotly.graph_objects as go

    shown = list(reversed(groups))  # most given on top
    colours = ["#2a9d8f" if revealed and group.answer == answer else "#8d99ae"
               for group in shown]
    figure = go.Figure(go.Bar(
        x=[group.count for group in shown], y=[html.escape(group.answer) for group in shown],
        orientation="h", marker={"color": colours}, text=[group.count for group in shown],
        textposition="auto",
        hovertext=["<br>".join(html.escape(_named(name)) for name in group.names[:_SHOWN_NAMES])
                   for group in shown],
        hovertemplate="%{y}: %{x}<br>%{hovertext}<extra></extra>"))
    figure.update_layout(height=max(160, 60 + 34 * len(shown)),
                         margin={"l": 10, "r": 10, "t": 10, "b": 10},
                         xaxis={"title": "participants", "dtick": 1}, yaxis={"type": "category"})
    return figure


def question_launcher(room: RoomStore) -> None:
    """Ask the room about a layer of the lesson's model (the next one by default), or of
    the host's own model when the lesson brings none."""
    require_host()
    try:
        lesson = room.current_lesson()
    except StoreError as error:
        st.warning(str(error), icon=":material/cloud_off:")
        return
    spec = lesson.spec() if lesson is not None else None
    source = "the lesson's model"
    if spec is None:
        spec, source = current_spec(), "your model (from your Build page)"
    summary = summarize(spec)
    if not summary.layers:
        st.caption(f"Predict, then reveal: {source} has no layer to ask about.")
        return
    count = len(summary.layers)
    next_layer = min(int(st.session_state.get(_NEXT_LAYER_KEY, 0)), count - 1)
    st.markdown(f"**Predict, then reveal** · a question about {escape_markdown(source)}")
    left, middle, right = st.columns([2, 2, 1], vertical_alignment="bottom")
    names = [f"{row.index + 1}. {row.name} ({row.class_name})" for row in summary.layers]
    index = left.selectbox("Layer", range(count), index=next_layer,
                           format_func=lambda at: names[at], key="host_quiz_layer") or 0
    kinds = question_kinds_for(summary, index)
    kind = middle.selectbox("Question", kinds, format_func=_kind_label,
                            key="host_quiz_kind") or kinds[0]
    if right.button("Ask the room", type="primary", key="host_quiz_ask",
                    icon=":material/quiz:"):
        question = layer_question(summary, index, kind)
        try:
            room.ask_question(prompt=question.prompt, answer=question.answer,
                              explanation=question.explanation)
        except StoreError as error:
            st.error(str(error))
            return
        forget_newest_question()
        st.session_state[_NEXT_LAYER_KEY] = index + 1


def _reveal(room: RoomStore, question_id: int) -> None:
    try:
        room.reveal(question_id)
    except StoreError as error:
        st.toast(str(error), icon=":material/cloud_off:")


def question_results(room: RoomStore) -> None:
    """The room's answers to the current question, live, and the reveal. Drawn inside the
    room view's fragment, so it refreshes with it."""
    require_host()
    question = room.current_question()
    if question is None:
        return
    groups = room.answer_distribution(question.id)
    with st.container(border=True, key="host_question"):
        st.markdown(f"**Question {question.id}:** {escape_markdown(question.prompt)}")
        st.caption(f"Answer: {escape_markdown(question.answer)} · "
                   f"{escape_markdown(question.explanation)}")
        total = sum(group.count for group in groups)
        if not groups:
            st.caption("No answer yet.")
        else:
            st.markdown(f"**{total} answered:** {escape_markdown(answers_sentence(groups))}")
            chart, table = st.columns([1, 1])
            chart.plotly_chart(answers_figure(groups, question.answer, question.revealed),
                               width="stretch", key="host_answers_chart",
                               config={"displayModeBar": False})
            table.dataframe(answer_rows(groups, question.answer), hide_index=True,
                            width="stretch", key="host_answers_table")
        if question.revealed:
            st.caption(":material/visibility: Revealed: participants see the answer and "
                       "its arithmetic.")
        else:
            st.button("Reveal the answer to everyone", type="primary", key="host_reveal",
                      on_click=_reveal, args=(room, question.id), icon=":material/visibility:")
