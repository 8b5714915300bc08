"""The host's sign-in: the secret compared in constant time, wrong tries slowed down.

Two brakes on guessing: each session waits twice as long after each wrong secret
(1 s, 2 s, 4 s … up to 5 minutes), and the whole process refuses every try for a minute
once `PROCESS_LIMIT` wrong secrets came within a minute (sessions are cheap to open).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["PROCESS_LIMIT", "Attempts", "SignIn", "check_host_secret", "reset_process_brake"]

FIRST_DELAY = 1.0
MAX_DELAY = 300.0
PROCESS_LIMIT = 20
PROCESS_WINDOW = 60.0


@dataclass
class Attempts:
    """One session's wrong tries (kept in its session state)."""

    failures: int = 0
    next_try_at: float = 0.0


@dataclass(frozen=True)
class SignIn:
    outcome: Literal["host", "wrong", "wait", "no_secret"]
    wait_seconds: float = 0.0


@dataclass
class _ProcessBrake:
    failures: deque[float] = field(default_factory=deque)
    closed_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def closed(self, now: float) -> float:
        with self.lock:
            return max(0.0, self.closed_until - now)

    def failed(self, now: float) -> None:
        with self.lock:
            self.failures.append(now)
            while self.failures and self.failures[0] < now - PROCESS_WINDOW:
                self.failures.popleft()
            if len(self.failures) >= PROCESS_LIMIT:
                self.closed_until = now + PROCESS_WINDOW
                self.failures.clear()


_BRAKE = _ProcessBrake()


def reset_process_brake() -> None:
    """For tests: forget the process's wrong tries."""
    global _BRAKE
    _BRAKE = _ProcessBrake()


def check_host_secret(given: str, expected: str, attempts: Attempts,
                      now: float | None = None) -> SignIn:
    """Whether `given` is the host secret; a try while the brakes are on is not even
    compared (it says how long to wait)."""
    now = time.monotonic() if now is None else now
    if not expected:
        return SignIn("no_secret")
    wait = max(attempts.next_try_at - now, _BRAKE.closed(now))
    if wait > 0:
        return SignIn("wait", wait)
    if hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        attempts.failures, attempts.next_try_at = 0, 0.0
        return SignIn("host")
    attempts.failures += 1
    delay = min(MAX_DELAY, FIRST_DELAY * 2 ** (attempts.failures - 1))
    attempts.next_try_at = now + delay
    _BRAKE.failed(now)
    return SignIn("wrong", delay)
