"""Training: cnnviz's path (progress callback, stop check) against bare `model.fit`.

Both train the same compiled model (same spec, seed, optimizer, schedule, data and
validation split) in one process; runs alternate so that load on the machine hits both.
Bare: `model.fit(..., verbose=0)` with no callback. Ours: `cnnviz.train.run.train` with a
progress sink that keeps the latest snapshot (what the Train page does) and a stop event.
Samples per second count training images only; the time is model.fit's wall time.
The app trains in a worker process (`cnnviz.train.worker`): that path is measured too,
both its model.fit and its whole turnaround (sending the data, rebuilding the model here).

    .venv/bin/python bench/bench_training.py [--preset chollet-mnist-convnet]
        [--dataset digits] [--epochs 3] [--repeat 3]

Target: ours ≥ 0.95 × bare samples per second.
"""

from __future__ import annotations

import argparse
import math
import statistics
import threading
import time

from cnnviz.data import load_dataset
from cnnviz.presets import get_preset
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train import (
    TrainingHooks,
    TrainingProgress,
    TrainingSettings,
    build_compiled_model,
    choose_loss,
    fit_dataset_to_input,
    split_training_data,
    train,
    train_in_worker,
)

TARGET_RATIO = 0.95


def bare_samples_per_second(spec, dataset, settings) -> float:  # type: ignore[no-untyped-def]
    x_fit, y_fit, x_val, y_val, _ = split_training_data(dataset, settings)
    loss = choose_loss(spec, dataset.num_classes)
    model = build_compiled_model(spec, settings, loss, math.ceil(len(x_fit) / settings.batch_size))
    started = time.perf_counter()
    model.fit(x_fit, y_fit, batch_size=settings.batch_size, epochs=settings.epochs,
              validation_data=(x_val, y_val) if x_val is not None else None, shuffle=True,
              verbose=0)
    return len(x_fit) * settings.epochs / (time.perf_counter() - started)


def ours_samples_per_second(spec, dataset, settings) -> float:  # type: ignore[no-untyped-def]
    latest: list[TrainingProgress] = []

    def sink(progress: TrainingProgress) -> None:
        latest[:] = [progress]

    result = train(spec, dataset, settings, progress=sink, stop_event=threading.Event())
    return float(result.samples_per_second)


def worker_samples_per_second(  # type: ignore[no-untyped-def]
    spec, dataset, settings
) -> tuple[float, float]:
    """(samples/s of model.fit in the worker, samples/s from the call to the rebuilt model)."""
    started = time.perf_counter()
    result = train_in_worker(spec, dataset, settings, TrainingHooks(
        progress=lambda progress: None, stop_event=threading.Event()))
    turnaround = time.perf_counter() - started
    fit = float(result.samples_per_second)
    return fit, fit * result.seconds / turnaround


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="chollet-mnist-convnet")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    configure_tensorflow()
    spec = get_preset(args.preset)
    dataset = fit_dataset_to_input(load_dataset(args.dataset), spec.input_shape)
    settings = TrainingSettings(epochs=args.epochs)
    warm = TrainingSettings(epochs=1)
    bare_samples_per_second(spec, dataset, warm)
    ours_samples_per_second(spec, dataset, warm)
    worker_samples_per_second(spec, dataset, warm)
    bare, ours, worker, turnaround = [], [], [], []
    for _ in range(args.repeat):
        bare.append(bare_samples_per_second(spec, dataset, settings))
        ours.append(ours_samples_per_second(spec, dataset, settings))
        fit, whole = worker_samples_per_second(spec, dataset, settings)
        worker.append(fit)
        turnaround.append(whole)
    bare_median, ours_median = statistics.median(bare), statistics.median(ours)
    ratio = ours_median / bare_median
    print(f"{args.preset} on {args.dataset} ({dataset.describe()}), {args.epochs} epochs, "
          f"batch {settings.batch_size}, median of {args.repeat} alternated runs")
    print(f"  bare model.fit      {bare_median:9,.0f} samples/s   runs: "
          + ", ".join(f"{value:,.0f}" for value in bare))
    print(f"  cnnviz train        {ours_median:9,.0f} samples/s   runs: "
          + ", ".join(f"{value:,.0f}" for value in ours))
    verdict = "meets" if ratio >= TARGET_RATIO else "misses"
    print(f"  ratio ours/bare     {ratio:9.3f}   ({verdict} the target {TARGET_RATIO})")
    worker_median = statistics.median(worker)
    print(f"  app's worker: fit   {worker_median:9,.0f} samples/s   ratio to bare "
          f"{worker_median / bare_median:.3f}")
    print(f"  app's worker: whole {statistics.median(turnaround):9,.0f} samples/s   (data sent, "
          "model rebuilt and loaded here)")


if __name__ == "__main__":
    main()
