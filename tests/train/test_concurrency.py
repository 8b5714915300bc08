from __future__ import annotations

import threading
import time

import pytest

from cnnviz.train import QueueCancelled, TrainingSlots, training_slots


def _wait_until(condition, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_second_training_waits_in_the_queue_until_the_first_ends() -> None:
    slots = TrainingSlots(1)
    positions: list[int] = []
    started = threading.Event()

    def second() -> None:
        with slots.slot(on_wait=positions.append):
            started.set()

    with slots.slot():
        thread = threading.Thread(target=second)
        thread.start()
        _wait_until(lambda: slots.queued == 1)
        assert not started.is_set() and positions == [1] and slots.running == 1
    thread.join(5)
    assert started.is_set() and slots.running == 0 and slots.queued == 0


def test_waiters_start_in_the_order_they_came() -> None:
    slots = TrainingSlots(1)
    order: list[int] = []
    threads = []
    with slots.slot():
        for number in range(3):
            thread = threading.Thread(target=lambda n=number: _enter(slots, order, n))
            thread.start()
            threads.append(thread)
            _wait_until(lambda n=number: slots.queued == n + 1)
    for thread in threads:
        thread.join(5)
    assert order == [0, 1, 2]


def _enter(slots: TrainingSlots, order: list[int], number: int) -> None:
    with slots.slot():
        order.append(number)


def test_cancelling_while_queued_leaves_the_queue() -> None:
    slots = TrainingSlots(1)
    cancel = threading.Event()
    outcome: list[str] = []

    def waiter() -> None:
        try:
            with slots.slot(cancel=cancel):
                outcome.append("ran")
        except QueueCancelled:
            outcome.append("cancelled")

    with slots.slot():
        thread = threading.Thread(target=waiter)
        thread.start()
        _wait_until(lambda: slots.queued == 1)
        cancel.set()
        thread.join(5)
    assert outcome == ["cancelled"] and slots.queued == 0


def test_limit_zero_means_no_limit() -> None:
    slots = TrainingSlots(0)
    with slots.slot(), slots.slot(), slots.slot():
        assert slots.running == 3


def test_a_failing_training_frees_its_slot() -> None:
    slots = TrainingSlots(1)
    with pytest.raises(RuntimeError), slots.slot():
        raise RuntimeError("boom")
    assert slots.running == 0


def test_process_wide_slots_follow_the_settings() -> None:
    from cnnviz.settings import get_settings

    assert training_slots() is training_slots()
    assert training_slots().limit == get_settings().max_concurrent_trainings
