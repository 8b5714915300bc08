"""How much a test accuracy moves with the train/test split and the initial weights.

Trains one preset on a built-in dataset whose split depends on a seed (digits, shapes)
with cnnviz's training path, once per split seed and initial-weights seed, and prints
each test accuracy with its 95% Wilson interval, then the spread. The app and the CLI
always use split 0; this shows how typical that split is.

    .venv/bin/python bench/accuracy_spread.py [--preset chollet-mnist-convnet]
        [--dataset digits] [--epochs 10] [--splits 10] [--inits 1] [--target 0.97]
"""

from __future__ import annotations

import argparse
import statistics

from cnnviz.data import load_dataset
from cnnviz.presets import get_preset
from cnnviz.train import TrainingSettings, fit_dataset_to_input, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="chollet-mnist-convnet")
    parser.add_argument("--dataset", default="digits", choices=("digits", "shapes"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--splits", type=int, default=10, help="split seeds 0..N-1")
    parser.add_argument("--inits", type=int, default=1, help="initial-weights seeds 0..N-1")
    parser.add_argument("--target", type=float, default=0.97)
    args = parser.parse_args()

    spec = get_preset(args.preset)
    print(f"{args.preset} on {args.dataset}, {args.epochs} epochs, default settings otherwise")
    print(f"{'split':>5} {'init':>4} {'accuracy':>8} {'95% interval':>15} {'fit s':>6}")
    accuracies = []
    for split in range(args.splits):
        dataset = fit_dataset_to_input(load_dataset(args.dataset, seed=split), spec.input_shape)
        for init in range(args.inits):
            result = train(spec, dataset, TrainingSettings(epochs=args.epochs, seed=init))
            low, high = result.evaluation.accuracy_interval
            accuracies.append(result.test_accuracy)
            print(f"{split:>5} {init:>4} {result.test_accuracy:>8.4f} "
                  f"{low:>7.4f}-{high:.4f} {result.seconds:>6.1f}", flush=True)
    reached = sum(accuracy >= args.target for accuracy in accuracies)
    print(f"mean {statistics.fmean(accuracies):.4f}  median {statistics.median(accuracies):.4f}  "
          f"min {min(accuracies):.4f}  max {max(accuracies):.4f}  "
          f"≥ {args.target}: {reached} of {len(accuracies)}")


if __name__ == "__main__":
    main()
