"""The room in the store: lessons, the room view, the leaderboard and questions, on SQLite
and on a real PostgreSQL server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from cnnviz.errors import StoreError
from cnnviz.quiz import clean_answer
from cnnviz.room import Locks
from cnnviz.store import RoomStore, Store, migrate
from cnnviz.store.schema import MIGRATIONS, current_version

HOSTILE_NAME = "<img src=x onerror=alert(1)> **bold** [x](javascript:alert(1))"


def _run(store: Store, workspace_id: int, *, accuracy: float | None, params: int = 1000,
         epochs: int = 3, dataset: str = "shapes", architecture: str = '{"layers": []}') -> int:
    run_id = store.start_run(workspace_id, architecture_json=architecture,
                             settings={"epochs": epochs}, dataset_name=dataset,
                             class_names=["a", "b"], epochs_total=epochs, params=params)
    if accuracy is not None:
        store.finish_run(run_id, status="finished", history={}, epochs_completed=epochs,
                         test_accuracy=accuracy, test_loss=0.5, test_images=400,
                         confusion=[[1]], seconds_per_epoch=2.0, weights=b"w")
    return run_id


def test_a_version_3_database_gains_the_room_tables(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, target=3)
    assert not sa.inspect(engine).has_table("room_lessons")
    assert migrate(engine) == 3
    with engine.connect() as db:
        assert current_version(db) == len(MIGRATIONS)
    assert {"room_lessons", "room_challenges", "room_questions", "room_answers"} <= set(
        sa.inspect(engine).get_table_names())


def test_the_newest_pushed_lesson_is_current_until_it_is_ended(store: Store) -> None:
    room = RoomStore(store)
    assert room.current_lesson() is None
    room.push_lesson(instruction="first", architecture_json=None, dataset_name="digits",
                     settings={}, locks=Locks())
    second = room.push_lesson(instruction="Only convolutions; Robert'); DROP TABLE runs;--",
                              architecture_json='{"format": "cnnviz/1"}', dataset_name="shapes",
                              settings={"epochs": 3, "optimizer": "sgd"},
                              locks=Locks(fix_dataset=True, max_epochs=3,
                                          allowed_layers=("Conv2D", "Dense")))
    current = room.current_lesson()
    assert current == second and current.version > 1
    assert current.locks.allowed_layers == ("Conv2D", "Dense") and current.settings["epochs"] == 3
    room.end_lesson()
    assert room.current_lesson() is None


def test_the_room_view_gives_each_participant_state_and_best_run(store: Store) -> None:
    room = RoomStore(store)
    idle, trainer, finished = (store.open_workspace(None) for _ in range(3))
    store.set_display_name(finished.id, HOSTILE_NAME[:40])
    _run(store, trainer.id, accuracy=None, epochs=5)
    store.save_architecture(finished.id, '{"mine": 1}')
    _run(store, finished.id, accuracy=0.6, params=500, architecture='{"old": 1}')
    _run(store, finished.id, accuracy=0.8, params=900, architecture='{"mine": 1}')
    view = {row.participant_id: row for row in room.room_view()}
    assert view[idle.id].state == "editing" and view[idle.id].best is None
    assert view[trainer.id].state == "training (epoch 1 of 5)"
    assert view[finished.id].state == "trained"
    assert view[finished.id].display_name == HOSTILE_NAME[:40]
    best = view[finished.id].best
    assert best is not None and best.test_accuracy == 0.8 and best.params == 900
    assert best.seconds == pytest.approx(6.0) and best.test_images == 400
    store.save_architecture(finished.id, '{"changed": 1}')
    assert {row.participant_id: row for row in room.room_view()}[finished.id].state == "editing"


def test_the_room_view_is_one_query_whatever_the_room_size(store: Store) -> None:
    room = RoomStore(store)
    for _ in range(12):
        workspace = store.open_workspace(None)
        _run(store, workspace.id, accuracy=0.5)
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    assert len(room.room_view()) == 12
    assert len([sql for sql in statements if sql.lstrip().upper().startswith("SELECT")]) == 1


def test_the_leaderboard_takes_qualifying_runs_with_intervals_and_the_front(
    store: Store
) -> None:
    room = RoomStore(store)
    alice, bob = store.open_workspace(None), store.open_workspace(None)
    store.set_display_name(alice.id, "Alice")
    store.set_display_name(bob.id, HOSTILE_NAME[:40])
    small = _run(store, alice.id, accuracy=0.70, params=1_000)
    big = _run(store, bob.id, accuracy=0.90, params=10_000)
    dominated = _run(store, bob.id, accuracy=0.65, params=5_000)
    _run(store, alice.id, accuracy=0.99, params=50_000)  # over the parameters
    _run(store, alice.id, accuracy=0.99, params=100, dataset="digits")  # another dataset
    _run(store, alice.id, accuracy=0.99, params=100, epochs=9)  # too many epochs
    _run(store, alice.id, accuracy=None)  # still running
    challenge = room.set_challenge(title="Shapes", dataset_name="shapes", max_params=20_000,
                                   epochs=5)
    board = room.leaderboard(challenge)
    assert [entry.run_id for entry in board] == [big, small, dominated]
    assert {entry.run_id for entry in board if entry.on_front} == {big, small}
    low, high = board[0].interval
    assert low < 0.90 < high and high - low < 0.07  # 400 test images
    assert board[0].shown_name == HOSTILE_NAME[:40] and board[1].shown_name == "Alice"
    anonymous = room.set_challenge(title="Shapes", dataset_name="shapes", max_params=20_000,
                                   epochs=5, name_mode="anonymous")
    assert room.current_challenge() == anonymous
    shown = {entry.shown_name for entry in room.leaderboard(anonymous)}
    assert shown == {"Participant 1", "Participant 2"}
    room.end_challenge()
    assert room.current_challenge() is None


def test_answers_are_counted_one_per_participant_until_the_reveal(store: Store) -> None:
    room = RoomStore(store)
    people = [store.open_workspace(None) for _ in range(3)]
    question = room.ask_question(prompt="Output shape of conv2d?", answer="26×26×32",
                                 explanation="28 − 3 + 1 = 26")
    room.answer(question, people[0].id, "13x13x32")
    room.answer(question, people[0].id, "26 x 26 x 32")  # changed their mind
    room.answer(question, people[1].id, "26×26×32")
    room.answer(question, people[2].id, "'; DROP TABLE room_answers;--")
    assert room.answer_counts(question) == [("26×26×32", 2), ("';DROPTABLEroom_answers;--", 1)]
    assert room.my_answer(question, people[1].id) == "26×26×32"
    room.reveal(question)
    current = room.current_question()
    assert current is not None and current.revealed and current.answer == "26×26×32"
    with pytest.raises(StoreError, match="revealed"):
        room.answer(question, people[2].id, "late")


def test_a_participant_sees_only_their_guess_and_the_answer_only_after_the_reveal(
    store: Store
) -> None:
    room = RoomStore(store)
    ada, bob = store.open_workspace(None), store.open_workspace(None)
    store.set_display_name(ada.id, "<b>Ada</b>")
    question = room.ask_question(prompt="Parameters of conv2d?", answer="320",
                                 explanation="(3·3·1 + 1)·32 = 320")
    assert room.answer(question, ada.id, "1,320") == "1320"
    assert room.answer(question, bob.id, " 320 ") == "320"
    assert room.newest_question_id() == question
    seen = room.question_for(ada.id)
    assert seen is not None and not seen.revealed and seen.mine == "1320"
    assert seen.answer is None and seen.explanation is None
    assert "320" not in repr(seen).replace("1320", "")  # not the answer, not Bob's guess
    distribution = room.answer_distribution(question)
    assert [(group.answer, group.count, group.names) for group in distribution] == [
        ("1320", 1, ("<b>Ada</b>",)), ("320", 1, (None,))]
    room.reveal(question)
    seen = room.question_for(bob.id)
    assert seen is not None and seen.revealed and seen.answer == "320" and seen.mine == "320"
    assert seen.explanation == "(3·3·1 + 1)·32 = 320"
    assert room.question_for(store.open_workspace(None).id).mine is None  # type: ignore[union-attr]


@pytest.mark.parametrize(("typed", "kept"), [
    ("26 x 26 x 32", "26×26×32"), ("(26, 26, 32)", "26×26×32"), ("26X26X32", "26×26×32"),
    ("3,200", "3200"), (" 3 200 ", "3200"), ("x" * 500, "×" * 80)])
def test_answers_are_kept_in_one_spelling(typed: str, kept: str) -> None:
    assert clean_answer(typed) == kept


def test_locks_are_stored_as_json_not_code(store: Store) -> None:
    room = RoomStore(store)
    room.push_lesson(instruction="x", architecture_json=None, dataset_name=None, settings={},
                     locks=Locks(hide_optimizer=True))
    with store.engine.connect() as db:
        raw = db.execute(sa.text("SELECT locks_json FROM room_lessons")).scalar_one()
    assert json.loads(raw)["hide_optimizer"] is True


def test_the_room_view_says_who_waits_in_line_and_their_place(store: Store) -> None:
    room = RoomStore(store)
    waiting, editing = store.open_workspace(None), store.open_workspace(None)
    run_id = _run(store, waiting.id, accuracy=None, epochs=3)
    store.note_queue_place(run_id, 2)
    states = {view.participant_id: view.state for view in room.room_view()}
    assert states == {waiting.id: "queued (2nd in line)", editing.id: "editing"}
    store.note_queue_place(run_id, None)  # its turn came
    assert room.room_view()[0].state == "training (epoch 1 of 3)"


def test_a_waiting_jobs_place_reaches_the_room_view(store: Store) -> None:
    from cnnviz.data import load_dataset
    from cnnviz.presets import get_preset
    from cnnviz.train import TrainingSettings
    from ui.train.job import RunRecorder, TrainingJob

    workspace = store.open_workspace(None)
    spec, dataset = get_preset("lenet-5"), load_dataset("digits")
    settings = TrainingSettings(epochs=2)
    job = TrainingJob(spec=spec, dataset=dataset, settings=settings)
    job.recorder = RunRecorder.begin(store, workspace.id, spec, dataset, settings, params=1)
    job._queued(11)  # as the room's queue reports it
    assert RoomStore(store).room_view()[0].state == "queued (11th in line)"
