"""The process-wide limit on trainings running at once, with a visible queue.

A workshop server is shared: each training takes every core it can get, so only
`max_concurrent_trainings` run together (0: no limit) and the others wait in order,
knowing their place in the queue.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cnnviz.settings import get_settings

__all__ = ["QueueCancelled", "TrainingSlots", "training_slots"]

_POLL_SECONDS = 0.2


class QueueCancelled(Exception):
    """The wait for a training slot was cancelled before the training started."""


class TrainingSlots:
    """A fair (first come, first served) counting semaphore that says who is waiting."""

    def __init__(self, limit: int) -> None:
        if limit < 0:
            raise ValueError(f"Expected a limit of 0 (none) or more. Received: limit={limit}")
        self.limit = limit
        self._condition = threading.Condition()
        self._running = 0
        self._waiting: deque[object] = deque()

    @property
    def running(self) -> int:
        with self._condition:
            return self._running

    @property
    def queued(self) -> int:
        with self._condition:
            return len(self._waiting)

    def _free(self, ticket: object) -> bool:
        first = self._waiting[0] is ticket
        return first and (self.limit == 0 or self._running < self.limit)

    @contextmanager
    def slot(
        self,
        *,
        cancel: threading.Event | None = None,
        on_wait: Callable[[int], None] | None = None,
    ) -> Iterator[None]:
        """Hold a slot for the duration of the block; wait in line for one first.

        `on_wait(position)` is called (outside the lock) when the place in the queue
        changes, 1 being next. Setting `cancel` while waiting raises `QueueCancelled`.
        """
        ticket = object()
        reported = 0
        with self._condition:
            self._waiting.append(ticket)
        try:
            while True:
                with self._condition:
                    if self._free(ticket):
                        self._waiting.popleft()
                        self._running += 1
                        self._condition.notify_all()
                        break
                    position = self._waiting.index(ticket) + 1
                if cancel is not None and cancel.is_set():
                    raise QueueCancelled("The training was cancelled while it waited its turn.")
                if on_wait is not None and position != reported:
                    on_wait(position)
                    reported = position
                with self._condition:
                    if not self._free(ticket):
                        self._condition.wait(_POLL_SECONDS)
        except BaseException:
            with self._condition:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                    self._condition.notify_all()
            raise
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify_all()


_slots: TrainingSlots | None = None
_slots_lock = threading.Lock()


def training_slots() -> TrainingSlots:
    """The slots shared by every session of this process (`max_concurrent_trainings`)."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = TrainingSlots(get_settings().max_concurrent_trainings)
        return _slots
