"""The host's tools in class (AppTest). Predict, then reveal: alone on the Build page, and
with the room, where the host asks, sees the room's answers and reveals; participants see
the answer only then. On the projector: a participant's model and run, read only, brought
to the host's Build page. Host data never reaches a participant's session; names stay text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_session import open_app
from room_session import room_store, signed_in_host
from streamlit.testing.v1 import AppTest

from cnnviz.archfile import dump_architecture
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.spec import ModelSpec
from cnnviz.store import RoomStore, Store
from ui.host import HOST_KEY
from ui.host.projector import Projected
from ui.markdown import escape_markdown
from ui.state import QUIZ_MODE_KEY, SPEC_KEY, WORKSPACE_KEY

SECRET = "a quiz secret nobody guesses"
HOSTILE = "<img src=x onerror=alert(1)>**b**"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    with room_store(tmp_path, monkeypatch, SECRET) as opened:
        yield opened


def _host() -> AppTest:
    return signed_in_host(SECRET)


def _shown(at: AppTest) -> str:
    return "\n".join(str(element.value) for kind in ("markdown", "caption", "warning", "error",
                                                     "info", "success", "header", "text")
                     for element in getattr(at, kind))


def _blocks(at: AppTest) -> str:
    """The text blocks' HTML (the arithmetic)."""
    return "\n".join(str(block.proto.body) for block in at.get("html"))


def _guess(at: AppTest, text: str) -> None:
    at.text_input(key="build_room_guess").input(text)
    at.button(key="build_room_send").click().run()
    assert not at.exception, at.exception


def test_alone_the_numbers_wait_for_the_guess_then_show_with_their_arithmetic(
    store: Store
) -> None:
    at = open_app()  # the default model: 28×28×1 into Conv2D(32, 3×3)
    assert "(3·3·1 + 1)·32 = 320" in _blocks(at)  # the arithmetic, before
    at.toggle(key=QUIZ_MODE_KEY).set_value(True).run()
    assert not at.exception, at.exception
    assert "What is the output shape of layer 1" in _shown(at)
    assert "(3·3·1 + 1)·32 = 320" not in _blocks(at)
    assert not at.dataframe  # the summary table waits too
    at.text_input(key="build_quiz_guess").input("(26, 26, 32)")
    at.button(key="build_quiz_check").click().run()
    assert "Right: 26×26×32" in _shown(at)
    assert "⌊(28 − 3)/1⌋ + 1 = 26" in _blocks(at)
    at.button(key="build_quiz_again").click().run()
    at.segmented_control(key="build_quiz_kind").set_value("params").run()
    at.text_input(key="build_quiz_guess").input("288")
    at.button(key="build_quiz_check").click().run()
    assert "Not quite: you said 288, the answer is 320" in _shown(at)


def test_the_room_answers_the_host_sees_them_reveals_and_everyone_sees_the_answer(
    store: Store
) -> None:
    first, second = open_app(), open_app()
    store.set_display_name(first.session_state[WORKSPACE_KEY].id, HOSTILE)
    store.set_display_name(second.session_state[WORKSPACE_KEY].id, "Bob")
    host = _host()
    host.button(key="host_quiz_ask").click().run()  # layer 1 of the host's model
    assert not host.exception, host.exception
    for participant in (first, second):
        participant.run()
        assert "The host asks:" in _shown(participant)
    _guess(first, "13x13x32")
    _guess(second, "26 x 26 x 32")
    assert "26×26×32" not in _shown(first)  # neither the answer nor Bob's guess, before
    host.run()
    assert "2 answered:" in _shown(host)
    assert "1 said 13×13×32 · 1 said 26×26×32" in _shown(host).replace("\\", "")
    answers = next(frame.value for frame in host.dataframe if "Who" in frame.value.columns)
    assert set(answers["Who"]) == {HOSTILE, "Bob"}  # exact text, in a data grid
    assert "onerror" not in _shown(host) and "<img" not in _shown(host)
    host.button(key="host_reveal").click().run()
    assert not host.exception, host.exception
    first.run()
    second.run()
    assert "the answer is 26×26×32" in _shown(first)
    assert "Right: 26×26×32" in _shown(second)
    assert not any(box.key == "build_room_guess" for box in first.text_input)  # closed


def test_a_participants_session_asking_for_the_hosts_answers_is_refused(
    store: Store
) -> None:
    room = RoomStore(store)
    room.ask_question(prompt="Parameters of conv2d?", answer="320", explanation="secret math")

    def participant_script() -> None:
        from ui.host.quiz import question_results
        from ui.lesson import room_store

        store = room_store()
        assert store is not None
        question_results(store)

    at = AppTest.from_function(participant_script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert HOST_KEY not in at.session_state
    assert "for the session's host" in _shown(at)
    assert "320" not in _shown(at) and "secret math" not in _shown(at)


THEIR_MODEL = ModelSpec((8, 8, 1), (Conv2DSpec(filters=6, kernel_size=3), FlattenSpec(),
                                    DenseSpec(units=10, activation="softmax")), name="theirs")


def _finished_run(store: Store, workspace_id: int) -> int:
    run_id = store.start_run(workspace_id, architecture_json=dump_architecture(THEIR_MODEL),
                             settings={"epochs": 2}, dataset_name="digits",
                             class_names=[str(digit) for digit in range(10)], epochs_total=2,
                             params=2_230)
    store.finish_run(run_id, status="finished",
                     history={"loss": [1.2, 0.6], "accuracy": [0.6, 0.8]}, epochs_completed=2,
                     test_accuracy=0.875, test_loss=0.5, test_images=360, confusion=[[1]],
                     seconds_per_epoch=1.5, weights=b"w")
    return run_id


def test_the_host_shows_a_run_on_the_projector_and_brings_it_to_their_build_page(
    store: Store
) -> None:
    participant = open_app()
    workspace = participant.session_state[WORKSPACE_KEY]
    store.set_display_name(workspace.id, HOSTILE)
    run_id = _finished_run(store, workspace.id)
    host = _host()
    own = host.session_state[SPEC_KEY]
    host.session_state["host_projected"] = Projected(workspace.id, run_id)
    host.run()
    assert not host.exception, host.exception
    assert f"On the projector: {escape_markdown(HOSTILE)}" in _shown(host)  # as text
    summary = next(frame.value for frame in host.dataframe if "Arithmetic" in frame.value.columns)
    assert list(summary["Parameters"]) == [60, 0, 2_170]
    assert [metric.value for metric in host.metric][:1] == ["87.5%"]
    host.button(key="host_projector_bring").click().run()
    assert host.session_state[SPEC_KEY] == THEIR_MODEL
    assert store.runs(workspace.id)[0].architecture_json == dump_architecture(THEIR_MODEL)
    host.switch_page("pages/1_Build.py").run()
    next(button for button in host.button if button.key == "build_undo").click().run()
    assert host.session_state[SPEC_KEY] == own  # the host's model, one Undo away


def test_a_participants_session_asking_for_the_projector_is_refused(store: Store) -> None:
    owner = store.open_workspace(None)
    _finished_run(store, owner.id)

    def participant_script() -> None:
        import streamlit as st

        from ui.host.projector import Projected, projector_view
        from ui.lesson import room_store

        st.session_state["host_projected"] = Projected(1)
        room = room_store()
        assert room is not None
        projector_view(room)

    at = AppTest.from_function(participant_script, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert "for the session's host" in _shown(at)
    assert not at.dataframe and "87.5" not in _shown(at)


def test_names_and_answers_in_the_hosts_charts_are_escaped_for_plotly() -> None:
    from cnnviz.room import Challenge, LeaderboardEntry
    from cnnviz.store import AnswerGroup
    from ui.host.leaderboard import leaderboard_figure
    from ui.host.quiz import answers_figure

    entry = LeaderboardEntry(1, HOSTILE, 7, 0.9, (0.85, 0.93), 1000, 3.0, on_front=True)
    board = leaderboard_figure([entry], Challenge(1, "t", "shapes", 20_000, 5))
    answers = answers_figure([AnswerGroup("<b>26</b>", 2, (HOSTILE, None))], "26×26×32",
                             revealed=True)
    shown = [*board.data[1].text, *answers.data[0].y, *answers.data[0].hovertext]
    assert not any("<img" in text or "<b>" in text for text in shown)
    assert "&lt;img src=x onerror=alert(1)&gt;**b**" in shown
