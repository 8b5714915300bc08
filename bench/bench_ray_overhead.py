"""The cost of a Ray training against a local one, for the same job.

Both backends train the same spec, data, seed and settings, warm (one training each is
run first and not counted: the local pool's worker and Ray's worker have imported
TensorFlow), alternating so that load on the machine hits both. Printed per backend:
the median turnaround (the call, from the caller's side: sending the job, training,
evaluating, the weights back and the model rebuilt) and model.fit's own seconds; then
the overhead, turnaround minus fit, and the ratio of the turnarounds.

Without --ray-address it starts a one-node Ray cluster on loopback (127.0.0.2) with
--cpus CPUs and stops it afterwards.

    .venv/bin/python bench/bench_ray_overhead.py [--preset NAME] [--dataset digits]
        [--epochs 1] [--repeat 5] [--cpus 2] [--ray-address HOST:PORT]
"""

from __future__ import annotations

import argparse
import statistics
import time

from ray_cluster import loopback_cluster

from cnnviz.data import load_dataset
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec, MaxPooling2DSpec
from cnnviz.presets import get_preset
from cnnviz.spec import ModelSpec
from cnnviz.train import (
    LocalBackend,
    RayBackend,
    TrainingBackend,
    TrainingSettings,
    builtin_source,
    fit_dataset_to_input,
)

SMALL = ModelSpec(
    (8, 8, 1),
    (
        Conv2DSpec(filters=16, kernel_size=(3, 3), activation="relu"),
        MaxPooling2DSpec(pool_size=(2, 2)),
        FlattenSpec(),
        DenseSpec(units=10, activation="softmax"),
    ),
    name="small-digits",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=None, help="default: a small digits model")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs each Ray training asks for")
    parser.add_argument("--ray-address", default=None)
    args = parser.parse_args()
    spec = get_preset(args.preset) if args.preset else SMALL
    dataset = load_dataset(args.dataset)
    fitted = fit_dataset_to_input(dataset, spec.input_shape)
    settings = TrainingSettings(epochs=args.epochs, batch_size=32)
    source = builtin_source(dataset)
    print(f"{spec.name} on {fitted.describe()}, {args.epochs} epoch(s), {args.repeat} runs each")

    def measure(address: str) -> None:
        backends: dict[str, TrainingBackend] = {
            "local": LocalBackend(), "ray": RayBackend(address, cpus=args.cpus),
        }  # fmt: skip
        turnaround: dict[str, list[float]] = {name: [] for name in backends}
        fit: dict[str, list[float]] = {name: [] for name in backends}
        accuracy: dict[str, float] = {}
        for round_ in range(args.repeat + 1):
            for name, backend in backends.items():
                started = time.perf_counter()
                result = backend.train(spec, fitted, settings, source=source)
                if round_:  # the first round warms both up
                    turnaround[name].append(time.perf_counter() - started)
                    fit[name].append(result.seconds)
                accuracy[name] = result.test_accuracy
        for name in backends:
            whole, fitting = statistics.median(turnaround[name]), statistics.median(fit[name])
            print(
                f"{name:>5}: turnaround {whole:6.2f} s  model.fit {fitting:6.2f} s  "
                f"overhead {whole - fitting:5.2f} s  test accuracy {accuracy[name]:.4f}"
            )
        ratio = statistics.median(turnaround["ray"]) / statistics.median(turnaround["local"])
        extra = statistics.median(turnaround["ray"]) - statistics.median(turnaround["local"])
        print(f"ray / local turnaround: {ratio:.2f}×  (ray adds {extra:+.2f} s per training)")

    if args.ray_address:
        measure(args.ray_address)
    else:
        with loopback_cluster(nodes=1, cpus=args.cpus) as address:
            measure(address)


if __name__ == "__main__":
    main()
