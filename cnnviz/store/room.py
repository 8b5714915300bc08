"""The room in the store: the host's lesson, challenge and questions, and what the host
sees of the room. Every read the host view makes per refresh is one query.

Parameterised SQLAlchemy Core only; failures come out as `StoreError` (via `Store`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from cnnviz.errors import StoreError
from cnnviz.quiz import clean_answer, normalize_guess
from cnnviz.room import (
    MAX_INSTRUCTION,
    NAME_MODES,
    Challenge,
    LeaderboardEntry,
    Lesson,
    Locks,
    NameMode,
    pareto_front,
    shown_names,
)
from cnnviz.store.schema import (
    participants,
    room_answers,
    room_challenges,
    room_lessons,
    room_questions,
    runs,
)
from cnnviz.store.workspace import STALE_RUN_SECONDS, Store, StoredRun
from cnnviz.train import wilson_interval

__all__ = ["AnswerGroup", "BestRun", "ParticipantDetail", "ParticipantQuestion",
           "ParticipantView", "Question", "RoomStore"]

ROOM_SEEN_SECONDS = 12 * 3600  # the room view lists participants seen this recently


@dataclass(frozen=True)
class BestRun:
    run_id: int
    test_accuracy: float
    test_images: int
    params: int
    seconds: float


@dataclass(frozen=True)
class ParticipantView:
    """One line of the host's room view."""

    participant_id: int
    display_name: str | None
    architecture_json: str | None
    state: str  # "editing", "queued (2nd in line)", "training (epoch 2 of 5)", "trained"
    best: BestRun | None
    last_seen: float


@dataclass(frozen=True)
class ParticipantDetail:
    """One participant's model and runs, for the host to show on the projector."""

    participant_id: int
    display_name: str | None
    architecture_json: str | None
    runs: tuple[StoredRun, ...]


@dataclass(frozen=True)
class Question:
    """A question as the host sees it, answer included."""

    id: int
    prompt: str
    answer: str
    explanation: str
    revealed: bool


@dataclass(frozen=True)
class ParticipantQuestion:
    """The room's question as one participant may see it: the answer and its arithmetic
    only once the host revealed them, and only their own guess."""

    id: int
    prompt: str
    revealed: bool
    answer: str | None  # None until the reveal
    explanation: str | None  # None until the reveal
    mine: str | None  # this participant's guess, if any


@dataclass(frozen=True)
class AnswerGroup:
    """One answer of the room's distribution: how many gave it, and who."""

    answer: str
    count: int
    names: tuple[str | None, ...]  # display names as typed (None: no name set)


def _wilson(accuracy: float, count: int) -> tuple[float, float]:
    return wilson_interval(accuracy, count)


class RoomStore:
    """The room of one store (one room per server or per shared database)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _tx(self, doing: str) -> Any:
        return self.store._transaction(doing)

    # --- lessons ----------------------------------------------------------------------

    def push_lesson(self, *, instruction: str, architecture_json: str | None,
                    dataset_name: str | None, settings: Mapping[str, Any],
                    locks: Locks) -> Lesson:
        text = instruction.strip()[:MAX_INSTRUCTION]
        with self._tx("push the lesson") as db:
            result = db.execute(room_lessons.insert().values(
                active=True, instruction=text, architecture_json=architecture_json,
                dataset_name=dataset_name, settings_json=json.dumps(dict(settings)),
                locks_json=json.dumps(locks.to_dict()), created_at=time.time()))
        key = result.inserted_primary_key
        assert key is not None
        return Lesson(int(key[0]), text, architecture_json, dataset_name, dict(settings), locks)

    def end_lesson(self) -> None:
        """No lesson, no locks: participants are free again."""
        with self._tx("end the lesson") as db:
            db.execute(room_lessons.insert().values(
                active=False, instruction="", settings_json="{}", locks_json="{}",
                created_at=time.time()))

    def current_lesson(self) -> Lesson | None:
        with self._tx("read the lesson") as db:
            row = db.execute(sa.select(room_lessons).order_by(room_lessons.c.version.desc())
                             .limit(1)).first()
        if row is None or not row.active:
            return None
        try:
            locks = Locks.from_dict(json.loads(row.locks_json))
        except (ValueError, TypeError):
            locks = Locks()
        return Lesson(row.version, row.instruction, row.architecture_json, row.dataset_name,
                      json.loads(row.settings_json), locks)

    # --- the room view ----------------------------------------------------------------

    def room_view(self, seen_within: float = ROOM_SEEN_SECONDS) -> list[ParticipantView]:
        """Every participant seen lately, with their state and best run: one query."""
        now = time.time()
        stale = now - STALE_RUN_SECONDS
        query = (sa.select(participants.c.id, participants.c.display_name,
                           participants.c.architecture_json.label("current_json"),
                           participants.c.last_seen,
                           runs.c.id.label("run_id"), runs.c.status,
                           runs.c.architecture_json.label("run_json"), runs.c.epochs_total,
                           runs.c.epochs_completed, runs.c.params, runs.c.test_accuracy,
                           runs.c.test_images, runs.c.seconds_per_epoch, runs.c.heartbeat_at,
                           runs.c.queue_place)
                 .select_from(participants.outerjoin(runs,
                                                     runs.c.participant_id == participants.c.id))
                 .where(participants.c.last_seen >= now - seen_within)
                 .order_by(participants.c.id, runs.c.id))
        with self._tx("read the room") as db:
            rows = db.execute(query).all()
        grouped: dict[int, list[Any]] = {}
        for row in rows:
            grouped.setdefault(row.id, []).append(row)
        return [_participant_view(group, stale) for group in grouped.values()]

    def participant_detail(self, participant_id: int) -> ParticipantDetail | None:
        """A participant's current model and every run (without weights), read only."""
        with self._tx("read the participant") as db:
            row = db.execute(sa.select(participants.c.display_name,
                                       participants.c.architecture_json)
                             .where(participants.c.id == participant_id)).first()
        if row is None:
            return None
        return ParticipantDetail(participant_id, row.display_name, row.architecture_json,
                                 tuple(self.store.runs(participant_id)))

    def run_owner(self, run_id: int) -> int | None:
        """Whose run `run_id` is (a leaderboard point names only the run)."""
        with self._tx("read the run") as db:
            owner = db.execute(sa.select(runs.c.participant_id)
                               .where(runs.c.id == run_id)).scalar()
        return int(owner) if owner is not None else None

    # --- challenge and leaderboard ------------------------------------------------------

    def set_challenge(self, *, title: str, dataset_name: str, max_params: int, epochs: int,
                      name_mode: NameMode = "names") -> Challenge:
        if name_mode not in NAME_MODES:
            raise StoreError(f"Expected a name mode among {', '.join(NAME_MODES)}. "
                             f"Received: name_mode={name_mode!r}")
        with self._tx("set the challenge") as db:
            db.execute(room_challenges.update().values(active=False))
            result = db.execute(room_challenges.insert().values(
                active=True, title=title.strip()[:200], dataset_name=dataset_name,
                max_params=int(max_params), epochs=int(epochs), name_mode=name_mode,
                created_at=time.time()))
        key = result.inserted_primary_key
        assert key is not None
        return Challenge(int(key[0]), title.strip()[:200], dataset_name, int(max_params),
                         int(epochs), name_mode)

    def end_challenge(self) -> None:
        with self._tx("end the challenge") as db:
            db.execute(room_challenges.update().values(active=False))

    def current_challenge(self) -> Challenge | None:
        with self._tx("read the challenge") as db:
            row = db.execute(sa.select(room_challenges).where(room_challenges.c.active)
                             .order_by(room_challenges.c.id.desc()).limit(1)).first()
        if row is None:
            return None
        mode: NameMode = "anonymous" if row.name_mode == "anonymous" else "names"
        return Challenge(row.id, row.title, row.dataset_name, row.max_params, row.epochs, mode)

    def leaderboard(self, challenge: Challenge) -> list[LeaderboardEntry]:
        """Every qualifying run (finished or stopped with test results), best first, with
        its 95 % interval and whether it is on the Pareto front: one query."""
        query = (sa.select(runs.c.id, runs.c.participant_id, runs.c.test_accuracy,
                           runs.c.test_images, runs.c.params, runs.c.seconds_per_epoch,
                           runs.c.epochs_completed, participants.c.display_name)
                 .join(participants, participants.c.id == runs.c.participant_id)
                 .where(runs.c.status.in_(("finished", "stopped")),
                        runs.c.test_accuracy.is_not(None),
                        runs.c.dataset_name == challenge.dataset_name,
                        runs.c.params <= challenge.max_params,
                        runs.c.epochs_total <= challenge.epochs)
                 .order_by(runs.c.test_accuracy.desc(), runs.c.params, runs.c.id))
        with self._tx("read the leaderboard") as db:
            rows = db.execute(query).all()
        names = shown_names(sorted({(row.participant_id, row.display_name) for row in rows}),
                            challenge.name_mode)
        front = pareto_front((row.params, row.test_accuracy) for row in rows)
        return [LeaderboardEntry(
            participant_id=row.participant_id, shown_name=names[row.participant_id],
            run_id=row.id, test_accuracy=row.test_accuracy,
            interval=_wilson(row.test_accuracy, row.test_images or 0), params=row.params,
            seconds=(row.seconds_per_epoch or 0.0) * row.epochs_completed,
            on_front=index in front) for index, row in enumerate(rows)]

    # --- predict, then reveal ----------------------------------------------------------

    def ask_question(self, *, prompt: str, answer: str, explanation: str) -> int:
        with self._tx("ask the question") as db:
            result = db.execute(room_questions.insert().values(
                prompt=prompt, answer=clean_answer(answer), explanation=explanation,
                revealed=False, created_at=time.time()))
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def current_question(self) -> Question | None:
        with self._tx("read the question") as db:
            row = db.execute(sa.select(room_questions).order_by(room_questions.c.id.desc())
                             .limit(1)).first()
        return (Question(row.id, row.prompt, row.answer, row.explanation, row.revealed)
                if row is not None else None)

    def reveal(self, question_id: int) -> None:
        with self._tx("reveal the answer") as db:
            db.execute(room_questions.update().where(room_questions.c.id == question_id)
                       .values(revealed=True))

    def answer(self, question_id: int, participant_id: int, raw: str) -> str:
        """The participant's guess, in the answer's spelling: one per participant and
        question (a later guess replaces theirs until the reveal, never after)."""
        with self._tx("send your answer") as db:
            expected = db.execute(sa.select(room_questions.c.answer).where(
                room_questions.c.id == question_id, room_questions.c.revealed.is_(False))
            ).scalar()
            if expected is None:
                raise StoreError("Could not send your answer: the answer was revealed.")
            text = normalize_guess(raw, str(expected))
            db.execute(room_answers.delete().where(
                room_answers.c.question_id == question_id,
                room_answers.c.participant_id == participant_id))
            db.execute(room_answers.insert().values(
                question_id=question_id, participant_id=participant_id, answer=text,
                created_at=time.time()))
        return text

    def newest_question_id(self) -> int | None:
        """The newest question's id (nothing else), or None where none was asked."""
        with self._tx("read the question") as db:
            newest = db.execute(sa.select(sa.func.max(room_questions.c.id))).scalar()
        return int(newest) if newest is not None else None

    def question_for(self, participant_id: int) -> ParticipantQuestion | None:
        """The newest question as this participant may see it: one query, and the answer
        is not even read from the database before the reveal."""
        mine = room_answers.alias("mine")
        hidden = sa.null()
        query = (sa.select(
            room_questions.c.id, room_questions.c.prompt, room_questions.c.revealed,
            sa.case((room_questions.c.revealed, room_questions.c.answer), else_=hidden)
            .label("answer"),
            sa.case((room_questions.c.revealed, room_questions.c.explanation), else_=hidden)
            .label("explanation"),
            mine.c.answer.label("mine"))
            .select_from(room_questions.outerjoin(mine, sa.and_(
                mine.c.question_id == room_questions.c.id,
                mine.c.participant_id == participant_id)))
            .order_by(room_questions.c.id.desc()).limit(1))
        with self._tx("read the question") as db:
            row = db.execute(query).first()
        if row is None:
            return None
        return ParticipantQuestion(row.id, row.prompt, bool(row.revealed), row.answer,
                                   row.explanation, row.mine)

    def my_answer(self, question_id: int, participant_id: int) -> str | None:
        with self._tx("read your answer") as db:
            answer = db.execute(sa.select(room_answers.c.answer).where(
                room_answers.c.question_id == question_id,
                room_answers.c.participant_id == participant_id)).scalar()
        return str(answer) if answer is not None else None

    def answer_counts(self, question_id: int) -> list[tuple[str, int]]:
        """How many gave each answer, most given first."""
        count = sa.func.count().label("count")
        with self._tx("count the answers") as db:
            rows = db.execute(sa.select(room_answers.c.answer, count)
                              .where(room_answers.c.question_id == question_id)
                              .group_by(room_answers.c.answer)
                              .order_by(count.desc(), room_answers.c.answer)).all()
        return [(row.answer, int(row.count)) for row in rows]

    def answer_distribution(self, question_id: int) -> list[AnswerGroup]:
        """Each answer given, most given first, with who gave it: one query."""
        query = (sa.select(room_answers.c.answer, participants.c.display_name)
                 .join(participants, participants.c.id == room_answers.c.participant_id)
                 .where(room_answers.c.question_id == question_id)
                 .order_by(room_answers.c.created_at, participants.c.id))
        with self._tx("count the answers") as db:
            rows = db.execute(query).all()
        grouped: dict[str, list[str | None]] = {}
        for row in rows:
            grouped.setdefault(row.answer, []).append(row.display_name)
        return sorted((AnswerGroup(answer, len(names), tuple(names))
                       for answer, names in grouped.items()),
                      key=lambda group: (-group.count, group.answer))


def _ordinal(place: int) -> str:
    suffix = "th" if 10 <= place % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(place % 10, "th")
    return f"{place}{suffix}"


def _participant_view(group: list[Any], stale_before: float) -> ParticipantView:
    first = group[0]
    done = [row for row in group if row.run_id is not None and row.test_accuracy is not None
            and row.status in ("finished", "stopped")]
    running = [row for row in group if row.status == "running"
               and row.heartbeat_at >= stale_before]
    if running and running[-1].queue_place is not None:
        state = f"queued ({_ordinal(running[-1].queue_place)} in line)"
    elif running:
        run = running[-1]
        state = f"training (epoch {min(run.epochs_completed + 1, run.epochs_total)} of " \
                f"{run.epochs_total})"
    elif done and done[-1].run_json == first.current_json:
        state = "trained"
    else:
        state = "editing"
    best = max(done, key=lambda row: (row.test_accuracy, -row.params), default=None)
    return ParticipantView(
        participant_id=first.id, display_name=first.display_name,
        architecture_json=first.current_json, state=state, last_seen=first.last_seen,
        best=None if best is None else BestRun(
            best.run_id, best.test_accuracy, best.test_images or 0, best.params,
            (best.seconds_per_epoch or 0.0) * best.epochs_completed))
