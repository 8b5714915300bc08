"""Epoch checkpoints: what they take in the store, and what keeping them costs a training.

For each preset: the bytes of one epoch's weights (the `weights.npz` a run keeps per
epoch), which epochs the default bound (`epoch_checkpoint_bytes`) keeps for 10 and for the
most epochs a host allows (`max_epochs`), and their total. Then the same training (shapes,
same seed) with and without the run recorder keeping each epoch in a SQLite store,
alternating: seconds per epoch both ways, their difference and ratio, and the recorder's
own time per epoch (the epoch checkpoint alone, and with the latest-weights bundle the
store has kept since before epoch checkpoints).

    .venv/bin/python bench/bench_epoch_checkpoints.py [--presets tiny-vgg-32 ...]
        [--epochs 3] [--repeat 2]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from cnnviz.bundle import weights_npz
from cnnviz.data import load_dataset
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from cnnviz.settings import get_settings
from cnnviz.shapes import summarize
from cnnviz.store import open_store
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train import TrainingSettings, epoch_plan, fit_dataset_to_input, train
from ui.train.job import RunRecorder


def _size(size: float) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def memory(name: str) -> int:
    spec = get_preset(name)
    per_epoch = len(weights_npz(build_model(spec, seed=0), spec))
    host = get_settings()
    print(f"\n{name}: {summarize(spec).total_params:,} parameters, {_size(per_epoch)} per epoch, "
          f"default bound {_size(host.epoch_checkpoint_bytes)}")
    for epochs in sorted({10, host.max_epochs}):
        plan = epoch_plan(epochs, per_epoch, host.epoch_checkpoint_bytes)
        kept = ("all" if plan.keeps_all else "none" if not plan.kept
                else "epochs " + ", ".join(map(str, plan.kept)))
        print(f"  {epochs:>2} epochs: {len(plan.kept)} kept ({kept}), total "
              f"{_size(plan.total_bytes)}")
    return per_epoch


def timing(name: str, epochs: int, repeat: int, folder: Path) -> None:
    spec = get_preset(name)
    dataset = fit_dataset_to_input(load_dataset("shapes"), spec.input_shape)
    settings = TrainingSettings(epochs=epochs, batch_size=64, seed=0)
    store = open_store(f"sqlite:///{folder / f'{name}.db'}")
    workspace = store.open_workspace(None).id
    plain, kept, recorder_seconds, checkpoint_seconds = [], [], [], []
    train(spec, dataset, TrainingSettings(epochs=1, batch_size=64, seed=0))  # warm up
    for _ in range(repeat):
        result = train(spec, dataset, settings)
        plain.append(result.seconds / result.epochs_completed)
        recorder = RunRecorder.begin(store, workspace, spec, dataset, settings, params=0)

        def record(epoch: int, weights: list, _recorder: RunRecorder = recorder) -> None:  # type: ignore[type-arg]
            started = time.perf_counter()
            _recorder.epoch(epoch, weights, {})
            recorder_seconds.append(time.perf_counter() - started)

        result = train(spec, dataset, settings, epoch_weights=record)
        kept.append(result.seconds / result.epochs_completed)
        assert recorder.problem is None, recorder.problem
        model = build_model(spec)
        model.set_weights(result.model.get_weights())
        started = time.perf_counter()
        store.keep_epoch_weights(recorder.run_id, epochs + 1, weights_npz(model, spec))
        checkpoint_seconds.append(time.perf_counter() - started)
    without, with_ = statistics.median(plain), statistics.median(kept)
    print(f"  training, {epochs} epochs × {repeat}: {without:.3f} s per epoch without the "
          f"recorder, {with_:.3f} s with it: +{with_ - without:.3f} s per epoch "
          f"(ratio {with_ / without:.3f})")
    print(f"  the recorder's own time per epoch: {statistics.median(recorder_seconds):.4f} s "
          f"(latest bundle + epoch checkpoint); the epoch checkpoint alone: "
          f"{statistics.median(checkpoint_seconds):.4f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=["tiny-vgg-32", "cifar10-cnn-2filters"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    configure_tensorflow()
    with tempfile.TemporaryDirectory() as folder:
        for name in args.presets:
            memory(name)
            timing(name, args.epochs, args.repeat, Path(folder))


if __name__ == "__main__":
    main()
