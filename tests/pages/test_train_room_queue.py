"""Train page with replicas sharing the store: the queue shown is the room's."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_train_page import SMALL, _start, _texts, _train_page

import ui.train.job
from cnnviz.store import RoomQueue, open_store
from cnnviz.store.schema import training_queue


def test_a_training_queued_behind_another_replica_says_it_waits_in_the_room(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'room.db'}")
    now = time.time()
    with store._transaction("plant another replica's training") as db:
        db.execute(
            training_queue.insert().values(running=True, enqueued_at=now, heartbeat_at=now)
        )
    monkeypatch.setattr(ui.train.job, "_room_queue", lambda: RoomQueue(store, limit=1))
    at = _train_page(SMALL)
    job = _start(at, epochs=1)
    deadline = time.monotonic() + 30
    while job.queue_position is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    at.run()
    shown = _texts(at.info)
    assert "1 training(s) are running in the room, which runs 1 at once" in shown
    assert "number 1 in line" in shown
    at.button(key="train_cancel").click().run()
    job.thread.join(30)  # type: ignore[union-attr]
    assert job.state == "cancelled"
