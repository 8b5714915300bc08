"""The host secret: right, wrong, slowed down per session and per process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cnnviz.host_auth import PROCESS_LIMIT, Attempts, check_host_secret, reset_process_brake


@pytest.fixture(autouse=True)
def fresh_brake() -> Iterator[None]:
    reset_process_brake()
    yield
    reset_process_brake()


def test_the_right_secret_signs_in_and_no_secret_set_never_does() -> None:
    assert check_host_secret("s3cret", "s3cret", Attempts(), now=0).outcome == "host"
    assert check_host_secret("", "", Attempts(), now=0).outcome == "no_secret"
    assert check_host_secret("anything", "", Attempts(), now=0).outcome == "no_secret"


def test_each_wrong_secret_doubles_the_sessions_wait() -> None:
    attempts = Attempts()
    first = check_host_secret("guess", "s3cret", attempts, now=100.0)
    assert first.outcome == "wrong" and first.wait_seconds == 1.0
    early = check_host_secret("s3cret", "s3cret", attempts, now=100.5)
    assert early.outcome == "wait"  # even the right secret waits its turn
    assert check_host_secret("guess", "s3cret", attempts, now=101.0).wait_seconds == 2.0
    assert check_host_secret("guess", "s3cret", attempts, now=103.0).wait_seconds == 4.0
    assert check_host_secret("s3cret", "s3cret", attempts, now=107.0).outcome == "host"
    assert attempts.failures == 0


def test_many_sessions_guessing_close_the_process_for_everyone() -> None:
    for index in range(PROCESS_LIMIT):
        check_host_secret(f"guess{index}", "s3cret", Attempts(), now=10.0 + index * 0.01)
    closed = check_host_secret("s3cret", "s3cret", Attempts(), now=11.0)
    assert closed.outcome == "wait" and closed.wait_seconds > 50
    assert check_host_secret("s3cret", "s3cret", Attempts(), now=80.0).outcome == "host"


def test_a_secret_with_any_characters_compares() -> None:
    secret = "pässwörd ✓ <b>"
    assert check_host_secret(secret, secret, Attempts(), now=0).outcome == "host"
    assert check_host_secret(secret[:-1], secret, Attempts(), now=0).outcome == "wrong"
