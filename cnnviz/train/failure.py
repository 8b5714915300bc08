"""What a failed training tells the person: the one place a failure becomes a message."""

from __future__ import annotations

from cnnviz.data import DatasetError
from cnnviz.errors import LimitError, SpecError
from cnnviz.train.settings import TrainingError

__all__ = ["EXPECTED_FAILURES", "failure_message"]

# Failures whose own message already says, in the person's words, what to change.
EXPECTED_FAILURES: tuple[type[Exception], ...] = (
    TrainingError, DatasetError, SpecError, LimitError)


def failure_message(error: BaseException) -> str:
    """The message a page shows for a training that failed with `error` (never a traceback)."""
    if isinstance(error, EXPECTED_FAILURES):
        return str(error)
    if isinstance(error, MemoryError):
        return "The training ran out of memory. A smaller batch size, model or dataset helps."
    return f"Training failed unexpectedly ({type(error).__name__}: {error})."
