"""The room's training queue in the store: one fair order for every replica.

Each training takes a row (its id is its place in line), waits until no row ahead of it
is waiting and fewer than `limit` rows run, then runs. Rows carry a heartbeat: the rows
of a replica that died go stale and leave the line. Deciding to start is serialised (an
advisory lock on PostgreSQL; SQLite lets one writer at a time), so two replicas never
both take the last free place.

Same interface as `cnnviz.train.TrainingSlots.slot`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

import sqlalchemy as sa

from cnnviz.store.schema import training_queue
from cnnviz.store.workspace import Store

__all__ = ["QUEUE_STALE_SECONDS", "RoomQueue"]

QUEUE_STALE_SECONDS: Final = 30.0  # a row without a heartbeat this long leaves the line
_HEARTBEAT_SECONDS: Final = 5.0
_POLL_SECONDS: Final = 0.3
_LOCK_KEY: Final = 7206514  # PostgreSQL advisory lock: one start decision at a time


class RoomQueue:
    """`slot()` holds a place among the room's `limit` running trainings (0: no limit)."""

    def __init__(self, store: Store, limit: int) -> None:
        self.store = store
        self.limit = limit

    def _enqueue(self) -> int:
        now = time.time()
        with self.store._transaction("join the training queue") as db:
            key = db.execute(
                training_queue.insert().values(running=False, enqueued_at=now, heartbeat_at=now)
            ).inserted_primary_key
        assert key is not None
        return int(key[0])

    def _try_start(self, ticket: int) -> int:
        """0 when this ticket now runs; otherwise its place in line (1: next)."""
        now = time.time()
        with self.store._transaction("check the training queue") as db:
            # A write first: on SQLite it takes the one writer's lock before the reads.
            db.execute(
                training_queue.update()
                .where(training_queue.c.id == ticket)
                .values(heartbeat_at=now)
            )
            if db.dialect.name == "postgresql":
                db.execute(sa.text(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})"))
            db.execute(
                training_queue.delete().where(
                    training_queue.c.heartbeat_at < now - QUEUE_STALE_SECONDS
                )
            )
            running = db.execute(
                sa.select(sa.func.count()).where(training_queue.c.running.is_(True))
            ).scalar_one()
            ahead = db.execute(
                sa.select(sa.func.count()).where(
                    training_queue.c.running.is_(False), training_queue.c.id < ticket
                )
            ).scalar_one()
            if ahead == 0 and (self.limit == 0 or running < self.limit):
                db.execute(
                    training_queue.update()
                    .where(training_queue.c.id == ticket)
                    .values(running=True)
                )
                return 0
            return int(ahead) + 1

    def _leave(self, ticket: int) -> None:
        with self.store._transaction("leave the training queue") as db:
            db.execute(training_queue.delete().where(training_queue.c.id == ticket))

    def _beat(self, ticket: int, done: threading.Event) -> None:
        while not done.wait(_HEARTBEAT_SECONDS):
            try:
                with self.store._transaction("keep a place in the training queue") as db:
                    db.execute(
                        training_queue.update()
                        .where(training_queue.c.id == ticket)
                        .values(heartbeat_at=time.time())
                    )
            except Exception:  # the next beat tries again; a long outage makes it stale
                continue

    def running(self) -> int:
        with self.store._transaction("read the training queue") as db:
            return int(
                db.execute(
                    sa.select(sa.func.count()).where(training_queue.c.running.is_(True))
                ).scalar_one()
            )

    @contextmanager
    def slot(
        self,
        *,
        cancel: threading.Event | None = None,
        on_wait: Callable[[int], None] | None = None,
    ) -> Iterator[None]:
        """Hold a place among the running for the block; wait in the room's line first.

        `on_wait(position)` is called when the place in line changes, 1 being next.
        Setting `cancel` while waiting raises `cnnviz.train.QueueCancelled`.
        """
        from cnnviz.train.concurrency import QueueCancelled

        ticket = self._enqueue()
        done = threading.Event()
        try:
            reported = 0
            while (position := self._try_start(ticket)) != 0:
                if cancel is not None and cancel.is_set():
                    raise QueueCancelled("The training was cancelled while it waited its turn.")
                if on_wait is not None and position != reported:
                    on_wait(position)
                    reported = position
                time.sleep(_POLL_SECONDS)
            beat = threading.Thread(
                target=self._beat, args=(ticket, done), name="cnnviz-queue-beat", daemon=True
            )
            beat.start()
            yield
        finally:
            done.set()
            self._leave(ticket)
