from __future__ import annotations

import math
import threading

from cnnviz.train import ProgressTracker, TrainingProgress


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _tracker(**kwargs: object) -> tuple[ProgressTracker, list[TrainingProgress], FakeClock]:
    reports: list[TrainingProgress] = []
    clock = FakeClock()
    options = {"epochs": 2, "samples_per_epoch": 100, "batch_size": 10, "report_every": 4}
    options.update(kwargs)
    tracker = ProgressTracker(progress=reports.append, clock=clock, **options)  # type: ignore[arg-type]
    tracker.start()
    return tracker, reports, clock


def test_reports_every_n_batches_and_at_the_last_batch_of_an_epoch() -> None:
    tracker, reports, _ = _tracker()
    tracker.epoch_begin(0)
    for _ in range(10):
        tracker.batch_end({"loss": 1.0, "accuracy": 0.5})
    assert [report.batch for report in reports[1:]] == [4, 8, 10]
    assert [point[0] for point in reports[-1].batch_curve] == [0.4, 0.8, 1.0]


def test_fraction_samples_and_time_left_follow_the_batches() -> None:
    tracker, reports, clock = _tracker()
    tracker.epoch_begin(0)
    for _ in range(5):
        clock.now += 1.0
        tracker.batch_end({"loss": 1.0})
    snapshot = tracker.snapshot()
    assert snapshot.fraction == 5 / 20
    assert snapshot.samples_seen == 50
    assert snapshot.seconds_left == 15.0
    assert snapshot.samples_per_second == 10.0


def test_epoch_end_extends_history_and_keeps_snapshots_immutable() -> None:
    tracker, reports, _ = _tracker()
    tracker.epoch_begin(0)
    tracker.epoch_end({"loss": 0.5, "val_loss": 0.6})
    first = reports[-1]
    tracker.epoch_begin(1)
    tracker.epoch_end({"loss": 0.4, "val_loss": 0.5})
    assert first.history == {"loss": (0.5,), "val_loss": (0.6,)}
    assert reports[-1].history["loss"] == (0.5, 0.4)


def test_stop_event_asks_to_stop_after_the_current_batch() -> None:
    stop = threading.Event()
    tracker, _, _ = _tracker(stop_event=stop)
    tracker.epoch_begin(0)
    assert tracker.batch_end({"loss": 1.0}) is False
    stop.set()
    assert tracker.batch_end({"loss": 1.0}) is True
    assert tracker.stopped and tracker.batch == 2


def test_nan_loss_stops_and_says_where() -> None:
    tracker, _, _ = _tracker()
    tracker.epoch_begin(1)
    tracker.batch_end({"loss": 1.0})
    assert tracker.batch_end({"loss": math.nan}) is True
    assert tracker.diverged_at == (2, 2)
