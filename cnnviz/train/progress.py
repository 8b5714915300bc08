"""Live progress of one training: what the progress bar and the growing curves draw.

`ProgressTracker` is fed by the Keras callback (batch ends, epoch ends) and hands out
immutable `TrainingProgress` snapshots every `report_every` batches. No TensorFlow here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from cnnviz._types import TrainingPhase, Weights

__all__ = [
    "NO_HOOKS",
    "CurvePoint",
    "EpochWeightsCallable",
    "PlacedCallable",
    "ProgressCallable",
    "ProgressTracker",
    "StopSignal",
    "TrainingHooks",
    "TrainingProgress",
]

CurvePoint = tuple[float, float, float | None]  # (epochs done, running loss, running accuracy)


@dataclass(frozen=True)
class TrainingProgress:
    """One moment of a training. `epoch` counts from 1; `batch` is done batches of it."""

    epoch: int
    epochs: int
    batch: int
    batches_per_epoch: int
    samples_seen: int
    elapsed: float
    phase: TrainingPhase = "training"
    batch_curve: tuple[CurvePoint, ...] = ()
    history: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def batches_done(self) -> int:
        return (self.epoch - 1) * self.batches_per_epoch + self.batch

    @property
    def fraction(self) -> float:
        total = self.epochs * self.batches_per_epoch
        return min(1.0, self.batches_done / total) if total else 1.0

    @property
    def seconds_left(self) -> float | None:
        """Linear estimate from the batches so far; None before the first report."""
        if self.batches_done == 0:
            return None
        total = self.epochs * self.batches_per_epoch
        return self.elapsed / self.batches_done * max(0, total - self.batches_done)

    @property
    def samples_per_second(self) -> float:
        return self.samples_seen / self.elapsed if self.elapsed > 0 else 0.0


ProgressCallable = Callable[[TrainingProgress], None]
# After each finished epoch: how many epochs are done, and the model's weights then
# (`model.get_weights()`), e.g. to keep a checkpoint that outlives the server.
EpochWeightsCallable = Callable[[int, Weights], None]


PlacedCallable = Callable[[str], None]  # where a training runs: "this machine" or a node's address


class StopSignal(Protocol):
    """Set to stop a training after the current batch (a thread's or a process's Event)."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class TrainingHooks:
    """How a caller follows a training that runs elsewhere (a worker process, a Ray node):
    a snapshot every `report_every` batches, each finished epoch's weights, where the
    training was placed, and the flag that stops it. Each is optional."""

    progress: ProgressCallable | None = None
    stop_event: StopSignal | None = None
    report_every: int = 10
    epoch_weights: EpochWeightsCallable | None = None
    on_placed: PlacedCallable | None = None


NO_HOOKS: Final = TrainingHooks()


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


class ProgressTracker:
    """Counts batches and epochs; reports a snapshot every `report_every` batches.

    Also decides when to stop: when `stop_event` is set, or when the loss stops being a
    finite number (`diverged_at` then says where).
    """

    def __init__(
        self,
        *,
        epochs: int,
        samples_per_epoch: int,
        batch_size: int,
        report_every: int = 10,
        progress: ProgressCallable | None = None,
        stop_event: StopSignal | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.epochs = epochs
        self.samples_per_epoch = samples_per_epoch
        self.batch_size = batch_size
        self.batches_per_epoch = max(1, math.ceil(samples_per_epoch / batch_size))
        self.report_every = max(1, report_every)
        self.progress = progress
        self.stop_event = stop_event
        self.clock = clock
        self.epoch = 0  # 0-based epoch in progress
        self.batch = 0  # batches done in it
        self.stopped = False
        self.diverged_at: tuple[int, int] | None = None
        self.history: dict[str, list[float]] = {}
        self._curve: list[CurvePoint] = []
        self._phase: TrainingPhase = "training"
        self._started = clock()

    def start(self) -> None:
        self._started = self.clock()
        self.report()

    @property
    def elapsed(self) -> float:
        return self.clock() - self._started

    @property
    def samples_seen(self) -> int:
        done_here = min(self.batch * self.batch_size, self.samples_per_epoch)
        return self.epoch * self.samples_per_epoch + done_here

    def epoch_begin(self, epoch: int) -> None:
        self.epoch, self.batch, self._phase = epoch, 0, "training"

    def batch_end(self, logs: Mapping[str, object] | None) -> bool:
        """Record one batch; True when training must stop after it."""
        self.batch += 1
        logs = logs or {}
        loss = _finite(logs.get("loss"))
        if "loss" in logs and loss is None and self.diverged_at is None:
            self.diverged_at = (self.epoch + 1, self.batch)
        if self.batch % self.report_every == 0 or self.batch == self.batches_per_epoch:
            if loss is not None:
                position = self.epoch + self.batch / self.batches_per_epoch
                self._curve.append((position, loss, _finite(logs.get("accuracy"))))
            self.report()
        if self.stop_event is not None and self.stop_event.is_set():
            self.stopped = True
        return self.stopped or self.diverged_at is not None

    def validation_begin(self) -> None:
        self._phase = "validating"
        self.report()

    def epoch_end(self, logs: Mapping[str, object] | None) -> None:
        for key, value in (logs or {}).items():
            number = _finite(value)
            self.history.setdefault(key, []).append(number if number is not None else math.nan)
        self._phase = "training"
        self.report()

    def finish(self) -> None:
        self._phase = "done"
        self.report()

    def snapshot(self) -> TrainingProgress:
        return TrainingProgress(
            epoch=self.epoch + 1,
            epochs=self.epochs,
            batch=self.batch,
            batches_per_epoch=self.batches_per_epoch,
            samples_seen=self.samples_seen,
            elapsed=self.elapsed,
            phase=self._phase,
            batch_curve=tuple(self._curve),
            history={key: tuple(values) for key, values in self.history.items()},
        )

    def report(self) -> None:
        if self.progress is not None:
            self.progress(self.snapshot())
