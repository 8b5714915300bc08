"""`cnnviz train`: train an architecture on a dataset from the command line.

    cnnviz train (FILE.json | --preset NAME) --dataset SOURCE [--epochs N] [--batch-size N]
        [--optimizer NAME] [--learning-rate X] [--validation-split X] [--seed N]
        [--out DIR] [--json] [--backend local|ray] [--ray-address ADDR]

Progress goes to stderr; with `--json` the last line of stdout is one JSON object.
With `--out`, the bundle also carries the weights of the epochs the `epoch_checkpoint_bytes`
setting allows (`cnnviz featuremaps DIR --epochs all` draws them).
The data is resized/converted to the model's input. Ctrl-C stops after the current
batch and still evaluates; a second Ctrl-C interrupts.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from typing import Any

from cnnviz._types import KerasModel, Weights
from cnnviz.bundle import weights_npz, write_bundle_folder
from cnnviz.cli import CliError, add_architecture_arguments, read_spec
from cnnviz.data import DatasetError, load_any
from cnnviz.errors import LimitError
from cnnviz.keras_build import build_model
from cnnviz.settings import TRAINING_BACKENDS, get_settings
from cnnviz.spec import ModelSpec
from cnnviz.train import (
    OPTIMIZERS,
    SCHEDULES,
    EpochPlan,
    TrainingError,
    TrainingHooks,
    TrainingProgress,
    TrainingSettings,
    builtin_source,
    choose_loss,
    epoch_plan,
    fit_dataset_to_input,
    train,
    training_backend,
)

__all__ = ["register", "run"]

_DEFAULTS = TrainingSettings()


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an architecture on a dataset and report test accuracy",
        description="Train a model on a dataset (resized/converted to the model's input), "
        "evaluate it on the test split, and optionally save the trained bundle.",
    )
    add_architecture_arguments(parser)
    parser.add_argument(
        "--dataset", required=True, metavar="SOURCE",
        help="digits, shapes, mnist, fashion_mnist, cifar10, a PATH.npz (x_train, y_train, "
        "x_test, y_test), a PATH.zip or a folder of one sub-folder of images per class",
    )  # fmt: skip
    parser.add_argument("--epochs", type=int, default=_DEFAULTS.epochs)
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS.batch_size)
    parser.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=_DEFAULTS.optimizer)
    parser.add_argument(
        "--learning-rate", type=float, default=None,
        help="default: the optimizer's usual starting rate (Adam 0.001, SGD 0.01, …)",
    )  # fmt: skip
    parser.add_argument(
        "--schedule", choices=SCHEDULES, default=_DEFAULTS.schedule,
        help="learning rate over the training: cosine decays it to 0 by the last batch; "
        "constant keeps it",
    )  # fmt: skip
    parser.add_argument(
        "--validation-split", type=float, default=_DEFAULTS.validation_split,
        help="fraction of the training images held out to validate each epoch",
    )  # fmt: skip
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed)
    parser.add_argument(
        "--out", metavar="DIR",
        help="write the trained bundle there: architecture.json, weights.npz, "
        "metadata.json and model.keras",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="end stdout with one JSON line")
    parser.add_argument(
        "--backend", choices=TRAINING_BACKENDS, default=None,
        help="where to train: local (this process) or ray (a task on the Ray cluster at "
        "--ray-address); default: the training_backend setting",
    )  # fmt: skip
    parser.add_argument(
        "--ray-address", metavar="ADDR", default=None,
        help="the Ray cluster's head, host:port; default: the ray_address setting",
    )  # fmt: skip
    parser.set_defaults(func=run)


def _training_settings(args: argparse.Namespace) -> TrainingSettings:
    try:
        return TrainingSettings(
            optimizer=args.optimizer,
            learning_rate=args.learning_rate,
            schedule=args.schedule,
            batch_size=args.batch_size,
            epochs=args.epochs,
            validation_split=args.validation_split,
            seed=args.seed,
        )
    except TrainingError as error:
        raise CliError(str(error)) from None


def _epoch_line(progress: TrainingProgress) -> str:
    last = {key: values[-1] for key, values in progress.history.items() if values}
    metrics = "  ".join(f"{key} {value:.4f}" for key, value in sorted(last.items()))
    return f"epoch {len(progress.history.get('loss', ()))}/{progress.epochs}  {metrics}"


class _StderrReporter:
    """Epoch lines on stderr; on a terminal, also a line redrawn every report."""

    def __init__(self) -> None:
        self.epochs_shown = 0
        self.live = sys.stderr.isatty()

    def __call__(self, progress: TrainingProgress) -> None:
        done = len(progress.history.get("loss", ()))
        if done > self.epochs_shown:
            self.epochs_shown = done
            clear = "\r\033[K" if self.live else ""
            print(f"{clear}{_epoch_line(progress)}  ({progress.elapsed:.1f} s)", file=sys.stderr)
        elif self.live and progress.phase == "training":
            left = progress.seconds_left
            eta = f", about {left:.0f} s left" if left is not None else ""
            print(
                f"\r\033[Kepoch {progress.epoch}/{progress.epochs}  batch "
                f"{progress.batch}/{progress.batches_per_epoch}{eta}",
                end="", file=sys.stderr, flush=True,
            )  # fmt: skip


def _stop_on_interrupt(stop: threading.Event) -> Any:
    def handler(signum: int, frame: Any) -> None:
        stop.set()
        print("\nstopping after the current batch (Ctrl-C again to quit)", file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    return signal.signal(signal.SIGINT, handler)


class _EpochKeeper:
    """The weights (`weights.npz`) of the epochs the host's bound allows, for the bundle."""

    def __init__(self, spec: ModelSpec, epochs_total: int) -> None:
        self.spec, self.epochs_total = spec, epochs_total
        self.kept: dict[int, bytes] = {}
        self._model: KerasModel | None = None
        self._plan: EpochPlan | None = None

    def __call__(self, epoch: int, weights: Weights) -> None:
        if self._model is None:
            self._model = build_model(self.spec)
        self._model.set_weights(weights)
        raw = weights_npz(self._model, self.spec)
        if self._plan is None:
            self._plan = epoch_plan(self.epochs_total, len(raw),
                                    get_settings().epoch_checkpoint_bytes)
        if self._plan.keeps(epoch):
            self.kept[epoch] = raw


def _finite(values: list[float]) -> list[float | None]:
    return [value if math.isfinite(value) else None for value in values]


def run(args: argparse.Namespace) -> int:
    spec = read_spec(args)
    training = _training_settings(args)
    try:
        dataset = load_any(args.dataset)
        fitted = fit_dataset_to_input(dataset, spec.input_shape)
    except DatasetError as error:
        raise CliError(str(error)) from None
    resized = "" if fitted is dataset else f" → resized/converted to {spec.input_shape}"
    print(f"{dataset.describe()}{resized}", file=sys.stderr)
    loss = choose_loss(spec, dataset.num_classes)
    if loss.ok:
        print(f"loss: {loss.describe()} — {loss.reason}", file=sys.stderr)
        for line in loss.warnings:
            print(f"warning: {line}", file=sys.stderr)
    stop = threading.Event()
    keeper = _EpochKeeper(spec, training.epochs) if args.out else None
    previous = _stop_on_interrupt(stop)
    try:
        if (args.backend or get_settings().training_backend) == "ray":
            hooks = TrainingHooks(
                progress=_StderrReporter(), stop_event=stop, epoch_weights=keeper,
                on_placed=lambda node: print(f"training on the Ray node at {node}",
                                             file=sys.stderr))
            result = training_backend("ray", ray_address=args.ray_address).train(
                spec, fitted, training, hooks, source=builtin_source(dataset))
        else:  # here, in this process: no pages to keep responsive
            result = train(spec, fitted, training, progress=_StderrReporter(), stop_event=stop,
                           epoch_weights=keeper)
    except (TrainingError, LimitError) as error:
        raise CliError(str(error)) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    for line in result.notes:
        print(f"warning: {line}", file=sys.stderr)
    if args.out:
        try:
            paths = write_bundle_folder(
                args.out, result.model, spec, dataset_name=dataset.name,
                class_names=dataset.class_names, test_accuracy=result.test_accuracy,
                epochs=keeper.kept if keeper else None, epochs_total=training.epochs,
                initial_seed=training.seed,
            )  # fmt: skip
        except OSError as error:
            raise CliError(f"cannot write to {args.out}: {error.strerror or error}") from None
        files = [path for path in paths if path.parent.name != "epochs"]
        extra = len(paths) - len(files)
        epochs = f" and {extra} epoch checkpoints" if extra else ""
        print("wrote " + ", ".join(str(path) for path in files) + epochs, file=sys.stderr)
    evaluation = result.evaluation
    low, high = evaluation.accuracy_interval
    summary = (
        f"test accuracy {result.test_accuracy:.4f} (95% interval {low:.3f}-{high:.3f} over "
        f"{evaluation.test_images:,} images)  test loss {result.test_loss:.4f}  "
        f"{result.epochs_completed} epochs in {result.seconds:.1f} s "
        f"({result.samples_per_second:,.0f} samples/s){'  (stopped)' if result.stopped else ''}"
    )
    if not args.json:
        print(summary)
        return 0
    print(summary, file=sys.stderr)
    report = {
        "test_accuracy": result.test_accuracy,
        "test_accuracy_interval": [round(low, 4), round(high, 4)],
        "test_images": evaluation.test_images,
        "test_loss": _finite([result.test_loss])[0],
        "epochs": result.epochs_completed,
        "seconds": round(result.seconds, 3),
        "samples_per_second": round(result.samples_per_second, 1),
        "history": {key: _finite(values) for key, values in result.history.items()},
    }
    print(json.dumps(report))
    return 0
