"""Trainings in a worker process: same results, progress, stop, failures, crashes."""

from __future__ import annotations

import dataclasses
import os
import threading

import numpy as np
import pytest

from cnnviz.train import (
    WORKER_NICENESS,
    TrainingError,
    TrainingHooks,
    TrainingProgress,
    TrainingSettings,
    WorkerPool,
    predicted_labels,
    train_in_worker,
    worker_pool,
)
from tests.training_data import stripes_dataset, tiny_spec


def test_the_weights_come_back_the_model_the_worker_evaluated() -> None:
    dataset = stripes_dataset()
    reports: list[TrainingProgress] = []
    result = train_in_worker(tiny_spec(), dataset, TrainingSettings(epochs=3, batch_size=16),
                             TrainingHooks(progress=reports.append, report_every=2))
    assert result.spec == tiny_spec() and result.epochs_completed == 3
    assert reports and reports[-1].epoch == 3
    outputs = result.model.predict(dataset.x_test, verbose=0)
    predicted = predicted_labels(outputs, 0.5)
    assert result.evaluation.accuracy == pytest.approx(float(np.mean(predicted == dataset.y_test)))


def test_a_stop_set_before_the_start_stops_after_the_first_batch() -> None:
    stop = threading.Event()
    stop.set()
    result = train_in_worker(tiny_spec(), stripes_dataset(), TrainingSettings(epochs=5),
                             TrainingHooks(stop_event=stop))
    assert result.stopped and result.epochs_completed == 1


def test_a_training_error_in_the_worker_is_ours_and_the_worker_lives_on() -> None:
    three_classes = dataclasses.replace(stripes_dataset(), class_names=("a", "b", "c"))
    with pytest.raises(TrainingError, match="1 output but the data has 3 classes"):
        train_in_worker(tiny_spec(units=1), three_classes, TrainingSettings(epochs=1))
    result = train_in_worker(tiny_spec(), stripes_dataset(), TrainingSettings(epochs=1))
    assert result.epochs_completed == 1


def test_a_worker_that_dies_mid_training_is_reported_and_replaced() -> None:
    pool = WorkerPool(keep=1)
    dataset = stripes_dataset(train=2000)

    def kill_at_first_report(progress: TrainingProgress) -> None:
        os.kill(worker.process.pid or 0, 9)

    with pytest.raises(TrainingError, match="ended unexpectedly"):
        with pool.worker() as worker:
            worker.train(tiny_spec(), dataset, TrainingSettings(epochs=50),
                         TrainingHooks(progress=kill_at_first_report, report_every=1))
    with pool.worker() as fresh:
        assert fresh is not worker and fresh.alive
    fresh.close()


def test_workers_run_at_a_lower_priority_than_the_pages() -> None:
    with worker_pool().worker() as worker:
        worker.train(tiny_spec(), stripes_dataset(), TrainingSettings(epochs=1))
        assert worker.process.pid is not None
        niceness = os.getpriority(os.PRIO_PROCESS, worker.process.pid)
    assert niceness >= min(19, os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS)


def test_each_job_carries_the_servers_host_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    from cnnviz.settings import Settings
    from cnnviz.train import worker as training_worker

    worker_pool().warm()  # started under the default limits
    monkeypatch.setattr(training_worker, "get_settings", lambda: Settings(max_params=1))
    with pytest.raises(TrainingError, match="max_params"):
        train_in_worker(tiny_spec(), stripes_dataset(), TrainingSettings(epochs=1))


def test_epoch_weights_arrive_after_each_full_epoch() -> None:
    seen: list[tuple[int, int]] = []
    result = train_in_worker(tiny_spec(), stripes_dataset(), TrainingSettings(epochs=2),
                             TrainingHooks(epoch_weights=lambda done, weights: seen.append(
                                 (done, len(weights)))))
    assert [done for done, _ in seen] == [1, 2]
    assert all(count == len(result.model.get_weights()) for _, count in seen)


def test_a_worker_training_from_given_weights_is_the_one_made_here() -> None:
    from cnnviz.keras_build import build_model
    from cnnviz.train import train

    start = build_model(tiny_spec(), seed=7).get_weights()
    settings = TrainingSettings(epochs=2, batch_size=16)
    here = train(tiny_spec(), stripes_dataset(), settings, initial_weights=start)
    there = train_in_worker(tiny_spec(), stripes_dataset(), settings, initial_weights=start)
    seeded = train_in_worker(tiny_spec(), stripes_dataset(), settings)
    for mine, theirs in zip(here.model.get_weights(), there.model.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(
        there.model.get_weights(), seeded.model.get_weights(), strict=True))
