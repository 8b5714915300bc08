"""The room's training queue in the store, shared by replicas (each its own engine)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from cnnviz.store import open_store
from cnnviz.store.queue import QUEUE_STALE_SECONDS, RoomQueue
from cnnviz.store.schema import training_queue
from cnnviz.train import QueueCancelled


class Participant:
    """One training waiting in (then holding) a place, in its own thread."""

    def __init__(self, queue: RoomQueue, name: str, events: list[str]) -> None:
        self.positions: list[int] = []
        self.running = threading.Event()
        self.finish = threading.Event()
        self.cancel = threading.Event()
        self.error: BaseException | None = None

        def run() -> None:
            try:
                with queue.slot(cancel=self.cancel, on_wait=self.positions.append):
                    events.append(name)
                    self.running.set()
                    self.finish.wait(30)
            except BaseException as error:
                self.error = error

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait_until(self, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 20
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert condition()


def test_two_replicas_share_one_queue_two_run_and_the_third_waits_its_turn(
    store_url: str, tmp_path: Path
) -> None:
    first = RoomQueue(open_store(store_url, tmp_path / "a"), limit=2)
    second = RoomQueue(open_store(store_url, tmp_path / "b"), limit=2)
    events: list[str] = []
    ada = Participant(first, "ada", events)
    ada.wait_until(ada.running.is_set)
    bo = Participant(second, "bo", events)
    bo.wait_until(bo.running.is_set)
    cy = Participant(first, "cy", events)
    cy.wait_until(lambda: cy.positions == [1])
    assert not cy.running.is_set() and first.running() == second.running() == 2
    bo.finish.set()
    cy.wait_until(cy.running.is_set)
    assert events == ["ada", "bo", "cy"]
    for person in (ada, cy):
        person.finish.set()
        person.thread.join(10)
    assert second.running() == 0 and not any(p.error for p in (ada, bo, cy))


def test_the_places_follow_the_order_of_arrival_across_replicas(
    store_url: str, tmp_path: Path
) -> None:
    first = RoomQueue(open_store(store_url, tmp_path / "a"), limit=1)
    second = RoomQueue(open_store(store_url, tmp_path / "b"), limit=1)
    events: list[str] = []
    ada = Participant(first, "ada", events)
    ada.wait_until(ada.running.is_set)
    bo = Participant(second, "bo", events)
    bo.wait_until(lambda: bo.positions == [1])
    cy = Participant(first, "cy", events)
    cy.wait_until(lambda: cy.positions == [2])
    ada.finish.set()
    bo.wait_until(bo.running.is_set)
    cy.wait_until(lambda: cy.positions == [2, 1])
    bo.finish.set()
    cy.wait_until(cy.running.is_set)
    cy.finish.set()
    assert events == ["ada", "bo", "cy"]


def test_a_cancelled_wait_leaves_the_line(store_url: str, tmp_path: Path) -> None:
    queue = RoomQueue(open_store(store_url, tmp_path / "a"), limit=1)
    events: list[str] = []
    ada = Participant(queue, "ada", events)
    ada.wait_until(ada.running.is_set)
    bo = Participant(queue, "bo", events)
    bo.wait_until(lambda: bo.positions == [1])
    bo.cancel.set()
    bo.thread.join(10)
    assert isinstance(bo.error, QueueCancelled)
    cy = Participant(queue, "cy", events)
    cy.wait_until(lambda: cy.positions == [1])  # bo's place is gone: cy is next
    ada.finish.set()
    cy.wait_until(cy.running.is_set)
    cy.finish.set()


def test_the_places_of_a_replica_that_died_go_stale(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url, tmp_path / "a")
    long_ago = time.time() - QUEUE_STALE_SECONDS - 1
    with store._transaction("plant a dead replica's training") as db:
        db.execute(
            training_queue.insert().values(running=True, enqueued_at=long_ago,
                                           heartbeat_at=long_ago)
        )  # fmt: skip
    events: list[str] = []
    ada = Participant(RoomQueue(store, limit=1), "ada", events)
    ada.wait_until(ada.running.is_set)
    assert ada.positions == []
    ada.finish.set()


def test_a_training_job_waits_in_the_room_queue_then_trains(tmp_path: Path) -> None:
    from training_data import stripes_dataset, tiny_spec

    from cnnviz.train import TrainingSettings
    from ui.train.job import TrainingJob

    store = open_store(f"sqlite:///{tmp_path / 'cnnviz.db'}", tmp_path / "a")
    other_replica = RoomQueue(open_store(f"sqlite:///{tmp_path / 'cnnviz.db'}"), limit=1)
    events: list[str] = []
    elsewhere = Participant(other_replica, "elsewhere", events)
    elsewhere.wait_until(elsewhere.running.is_set)
    job = TrainingJob(spec=tiny_spec(), dataset=stripes_dataset(),
                      settings=TrainingSettings(epochs=1))  # fmt: skip
    job.room_queue = RoomQueue(store, limit=1)
    thread = threading.Thread(target=job.run, daemon=True)
    thread.start()
    elsewhere.wait_until(lambda: job.state == "queued" and job.queue_position == 1)
    elsewhere.finish.set()
    thread.join(120)
    assert job.state == "finished" and job.result.epochs_completed == 1
    assert other_replica.running() == 0
