"""Fine-tuning a base trained on `shapes` against the same model trained from scratch.

The base: tiny-vgg-32's convolutional layers, trained on five of the eight shapes. The
task: the three other shapes, with only `--train-images` training images. Both runs put
the same head on the same base architecture and train it the lesson's way on the same
seed, data and budget (phase 1: the head on the frozen base, RMSprop 1e-3; phase 2: from
the last block on, RMSprop 1e-5); the only difference is the base's starting weights
(trained on shapes, or Keras's random initial weights). A third line trains the whole
model from scratch, every layer trainable, for the same number of epochs.

    .venv/bin/python bench/bench_finetune.py [--train-images 60] [--head-epochs 20]
        [--finetune-epochs 10] [--batch-size 8] [--base-epochs 6] [--seeds 0,1,2]

Prints each seed's test accuracies, the means and the ratio fine-tuned / from scratch.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics

import numpy as np

from cnnviz.data import Dataset, load_dataset
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from cnnviz.spec import ModelSpec
from cnnviz.train import (
    FineTunePlan,
    HeadSpec,
    PretrainedBase,
    TrainingSettings,
    base_from_model,
    convolutional_base,
    default_unfreeze_from,
    fine_tune,
    finetune_spec,
    train,
)

TASK_CLASSES = (0, 1, 2)  # circle, square, triangle


def subset(dataset: Dataset, classes: tuple[int, ...], train_images: int | None,
           seed: int) -> Dataset:
    """Only `classes` (relabelled 0..k-1), at most `train_images` training images."""
    def pick(x: np.ndarray, y: np.ndarray, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        keep = np.flatnonzero(np.isin(y, classes))
        if limit is not None:
            keep = np.random.default_rng(seed).permutation(keep)[:limit]
        relabel = {old: new for new, old in enumerate(classes)}
        return x[keep], np.array([relabel[int(label)] for label in y[keep]], dtype=np.int64)

    x_train, y_train = pick(dataset.x_train, dataset.y_train, train_images)
    x_test, y_test = pick(dataset.x_test, dataset.y_test, None)
    names = tuple(dataset.class_names[index] for index in classes)
    return Dataset(f"{dataset.name}-{len(classes)}", x_train, y_train, x_test, y_test, names)


def trained_base(shapes: Dataset, epochs: int, seed: int) -> PretrainedBase:
    others = tuple(index for index in range(shapes.num_classes) if index not in TASK_CLASSES)
    pretraining = subset(shapes, others, None, seed)
    preset = get_preset("tiny-vgg-32")
    layers = [*preset.layers[:-1], dataclasses.replace(preset.layers[-1], units=len(others))]
    spec = preset.replace_layers(layers)
    result = train(spec, pretraining, TrainingSettings(epochs=epochs, seed=seed))
    print(f"  base trained on {', '.join(pretraining.class_names)}: test accuracy "
          f"{result.test_accuracy:.3f}")
    return base_from_model(result.model, spec, "tiny-vgg-32 on five shapes")


def random_base(spec: ModelSpec, seed: int) -> PretrainedBase:
    return PretrainedBase(spec, build_model(spec, seed=seed + 1000).get_weights(), "random")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-images", type=int, default=60)
    parser.add_argument("--head-epochs", type=int, default=20)
    parser.add_argument("--finetune-epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--base-epochs", type=int, default=6)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    shapes = load_dataset("shapes")
    rows: list[tuple[float, float, float]] = []
    for seed in (int(text) for text in args.seeds.split(",")):
        print(f"seed {seed}")
        task = subset(shapes, TASK_CLASSES, args.train_images, seed)
        base = trained_base(shapes, args.base_epochs, seed)
        head = HeadSpec(pooling="flatten", dense_units=(32,))

        def phase(rate: float, epochs: int, current_seed: int = seed) -> TrainingSettings:
            return TrainingSettings(optimizer="rmsprop", learning_rate=rate, epochs=epochs,
                                    schedule="constant", seed=current_seed,
                                    batch_size=args.batch_size)

        plan = FineTunePlan(unfreeze_from=default_unfreeze_from(base.spec), head=head,
                            head_settings=phase(1e-3, args.head_epochs),
                            finetune_settings=phase(1e-5, args.finetune_epochs))
        tuned = fine_tune(base, task, plan).training.test_accuracy
        scratch = fine_tune(random_base(convolutional_base(base.spec), seed), task,
                            plan).training.test_accuracy
        everything = train(finetune_spec(base.spec, head, task.num_classes, 0), task,
                           phase(1e-3, args.head_epochs + args.finetune_epochs)).test_accuracy
        rows.append((tuned, scratch, everything))
        print(f"  fine-tuned {tuned:.3f}   same head, random base {scratch:.3f}   "
              f"all layers from scratch {everything:.3f}   ({len(task.x_train)} training "
              f"images, {len(task.x_test)} test images, {task.num_classes} classes)")
    tuned_mean, scratch_mean, everything_mean = (statistics.fmean(column)
                                                 for column in zip(*rows, strict=True))
    print(f"mean test accuracy: fine-tuned {tuned_mean:.3f}, same head on a random base "
          f"{scratch_mean:.3f}, all layers from scratch {everything_mean:.3f}")
    print(f"ratio fine-tuned / random base: {tuned_mean / scratch_mean:.2f}; "
          f"fine-tuned / all from scratch: {tuned_mean / everything_mean:.2f}")


if __name__ == "__main__":
    main()
