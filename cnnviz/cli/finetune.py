"""`cnnviz finetune`: fine-tune a trained convolutional base on a dataset, in two phases.

    cnnviz finetune (BUNDLE | --base vgg16|mobilenet) --dataset SOURCE
        [--unfreeze-from LAYER] [--head-epochs N] [--finetune-epochs N]
        [--head flatten|global_average] [--dense UNITS,…] [--out DIR] [--json]

Phase 1 trains a new head on the frozen base; phase 2 unfreezes every base layer from
`--unfreeze-from` on and trains again with a very low learning rate. The output is a
bundle like `cnnviz train`'s. Progress goes to stderr; with `--json` the last line of
stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading
from typing import Any

from cnnviz.bundle import BundleError, load_bundle, write_bundle_folder
from cnnviz.cli.main import CliError
from cnnviz.cli.train import _finite, _StderrReporter, _stop_on_interrupt
from cnnviz.data import Dataset, DatasetError, load_any
from cnnviz.errors import LimitError
from cnnviz.train import (
    IMAGENET_BASES,
    OPTIMIZERS,
    FineTunePlan,
    FineTuneRecord,
    FineTuneResult,
    HeadSpec,
    PretrainedBase,
    TrainingError,
    TrainingSettings,
    base_from_model,
    default_unfreeze_from,
    fine_tune,
    fit_dataset_to_input,
    imagenet_base,
)

__all__ = ["register", "run"]

_DEFAULTS = FineTunePlan(unfreeze_from="block5_conv1")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="fine-tune a trained convolutional base: train a new head, then the last block",
        description="Put a classifier head on a trained convolutional base, freeze the base, "
        "train the head, unfreeze the base from --unfreeze-from on, and train again with a "
        "very low learning rate.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("bundle", nargs="?", help="a trained bundle (.zip or folder)")
    source.add_argument(
        "--base", choices=tuple(IMAGENET_BASES),
        help="keras.applications' base without its top, with ImageNet weights",
    )  # fmt: skip
    parser.add_argument(
        "--dataset", required=True, metavar="SOURCE",
        help="as for `cnnviz train`: a built-in name, a PATH.npz, a PATH.zip or a folder of "
        "one sub-folder of images per class",
    )  # fmt: skip
    parser.add_argument(
        "--unfreeze-from", metavar="LAYER", default=None,
        help="the first base layer trained in phase 2 (default: the first layer of the "
        "base's last block, block5_conv1 for VGG16)",
    )  # fmt: skip
    parser.add_argument("--head-epochs", type=int, default=_DEFAULTS.head_settings.epochs)
    parser.add_argument("--finetune-epochs", type=int,
                        default=_DEFAULTS.finetune_settings.epochs)
    parser.add_argument("--head", choices=("flatten", "global_average"),
                        default=_DEFAULTS.head.pooling)
    parser.add_argument(
        "--dense", default=",".join(map(str, _DEFAULTS.head.dense_units)), metavar="UNITS,…",
        help="the head's Dense layers before the output, e.g. 256 or 256,64; empty for none",
    )  # fmt: skip
    parser.add_argument("--head-optimizer", choices=tuple(OPTIMIZERS),
                        default=_DEFAULTS.head_settings.optimizer)
    parser.add_argument("--head-learning-rate", type=float,
                        default=_DEFAULTS.head_settings.resolved_learning_rate)
    parser.add_argument("--finetune-optimizer", choices=tuple(OPTIMIZERS),
                        default=_DEFAULTS.finetune_settings.optimizer)
    parser.add_argument("--finetune-learning-rate", type=float,
                        default=_DEFAULTS.finetune_settings.resolved_learning_rate)
    parser.add_argument("--batch-size", type=int, default=_DEFAULTS.head_settings.batch_size)
    parser.add_argument("--validation-split", type=float,
                        default=_DEFAULTS.head_settings.validation_split)
    parser.add_argument("--seed", type=int, default=_DEFAULTS.head_settings.seed)
    parser.add_argument(
        "--input-size", type=int, default=None, metavar="N",
        help="with --base: the images' side in pixels (default: the dataset's, at least 32)",
    )  # fmt: skip
    parser.add_argument(
        "--download-weights", action="store_true",
        help="with --base: let Keras download the ImageNet weights when they are not there",
    )  # fmt: skip
    parser.add_argument("--out", metavar="DIR", help="write the fine-tuned bundle there")
    parser.add_argument("--json", action="store_true", help="end stdout with one JSON line")
    parser.set_defaults(func=run)


def _dense_units(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise CliError(
            f"Expected --dense as whole numbers separated by commas, e.g. 256,64. "
            f"Received: --dense={text!r}"
        ) from None


def _plan(args: argparse.Namespace, unfreeze_from: str) -> FineTunePlan:
    def phase(optimizer: str, rate: float, epochs: int) -> TrainingSettings:
        return TrainingSettings(
            optimizer=optimizer, learning_rate=rate, epochs=epochs, schedule="constant",
            batch_size=args.batch_size, validation_split=args.validation_split, seed=args.seed,
        )  # fmt: skip

    return FineTunePlan(
        unfreeze_from=unfreeze_from,
        head=HeadSpec(pooling=args.head, dense_units=_dense_units(args.dense)),
        head_settings=phase(args.head_optimizer, args.head_learning_rate, args.head_epochs),
        finetune_settings=phase(args.finetune_optimizer, args.finetune_learning_rate,
                                args.finetune_epochs),
    )  # fmt: skip


def _base(args: argparse.Namespace, dataset: Dataset) -> PretrainedBase:
    if args.base:
        side = args.input_size or max(32, *dataset.input_shape[:2])
        return imagenet_base(args.base, (side, side, 3), download=args.download_weights)
    try:
        bundle = load_bundle(args.bundle)
    except BundleError as error:
        raise CliError(str(error)) from None
    return base_from_model(bundle.model, bundle.spec,
                           f"{bundle.spec.name} trained on {bundle.dataset_name}")


def _phases_json(outcome: FineTuneResult) -> list[dict[str, Any]]:
    return [dataclasses.asdict(phase) for phase in outcome.phases]


def run(args: argparse.Namespace) -> int:
    try:
        dataset = load_any(args.dataset)
        base = _base(args, dataset)
        fitted = fit_dataset_to_input(dataset, base.spec.input_shape)
        plan = _plan(args, args.unfreeze_from or default_unfreeze_from(base.spec))
    except (DatasetError, TrainingError) as error:
        raise CliError(str(error)) from None
    resized = "" if fitted is dataset else f" → resized/converted to {base.spec.input_shape}"
    print(f"{dataset.describe()}{resized}", file=sys.stderr)
    print(f"base: {base.description}; phase 2 trains from {plan.unfreeze_from} on",
          file=sys.stderr)
    stop = threading.Event()
    previous = _stop_on_interrupt(stop)
    try:
        outcome = fine_tune(base, fitted, plan, progress=_StderrReporter(), stop_event=stop)
    except (TrainingError, LimitError) as error:
        raise CliError(str(error)) from None
    finally:
        signal.signal(signal.SIGINT, previous)
    result = outcome.training
    for line in result.notes:
        print(f"warning: {line}", file=sys.stderr)
    if args.out:
        try:
            paths = write_bundle_folder(
                args.out, result.model, result.spec, dataset_name=dataset.name,
                class_names=dataset.class_names, test_accuracy=result.test_accuracy,
                finetune=FineTuneRecord.of(outcome, plan, base.description).to_dict(),
            )  # fmt: skip
        except OSError as error:
            raise CliError(f"cannot write to {args.out}: {error.strerror or error}") from None
        print("wrote " + ", ".join(str(path) for path in paths), file=sys.stderr)
    lines = [
        f"phase {number} ({phase.name}, {phase.optimizer} {phase.learning_rate:g}): "
        f"{phase.epochs_completed} epochs, trainable params {phase.trainable_params:,}, "
        f"non-trainable params {phase.non_trainable_params:,}, "
        f"test accuracy {phase.test_accuracy:.4f}"
        for number, phase in enumerate(outcome.phases, 1)
    ]
    lines.append(f"test accuracy {result.test_accuracy:.4f}  test loss {result.test_loss:.4f}"
                 f"{'  (stopped)' if result.stopped else ''}")
    if not args.json:
        print("\n".join(lines))
        return 0
    print("\n".join(lines), file=sys.stderr)
    report = {
        "test_accuracy": result.test_accuracy,
        "test_loss": _finite([result.test_loss])[0],
        "epochs": result.epochs_completed,
        "boundary_epoch": outcome.boundary_epoch,
        "unfreeze_from": plan.unfreeze_from,
        "phases": _phases_json(outcome),
        "history": {key: _finite(values) for key, values in result.history.items()},
    }
    print(json.dumps(report))
    return 0
