"""`cnnviz` on the command line: presets, summary, code, and the commands of other modules."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cnnviz.archfile import load_architecture
from cnnviz.errors import LimitError
from cnnviz.export import keras_code
from cnnviz.presets import PRESETS, get_preset
from cnnviz.shapes import ModelSummary, readable_size, validate
from cnnviz.spec import ModelSpec, SpecError

__all__ = ["COMMAND_MODULES", "CliError", "main", "add_architecture_arguments", "read_spec"]

COMMAND_MODULES: tuple[str, ...] = (
    "cnnviz.cli.explain",
    "cnnviz.cli.featuremaps",
    "cnnviz.cli.finetune",
    "cnnviz.cli.train",
)


class CliError(Exception):
    """A user mistake on the command line: printed as one line, exit status 2."""


def add_architecture_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", help="an architecture JSON file (cnnviz or Keras)")
    source.add_argument("--preset", help="a preset name (see `cnnviz presets`)")


def read_spec(args: argparse.Namespace) -> ModelSpec:
    """The architecture named on the command line, validated."""
    if args.preset:
        return get_preset(args.preset)
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None
    return load_architecture(data)


def _summary_json(summary: ModelSummary) -> dict[str, Any]:
    return {
        "name": summary.spec.name,
        "input_shape": list(summary.spec.input_shape),
        "layers": [
            {
                "name": layer.name,
                "class_name": layer.class_name,
                "output_shape": list(layer.keras_output_shape),
                "params": layer.params,
                "trainable_params": layer.trainable_params,
                "non_trainable_params": layer.non_trainable_params,
            }
            for layer in summary.layers
        ],
        "total_params": summary.total_params,
        "trainable_params": summary.trainable_params,
        "non_trainable_params": summary.non_trainable_params,
    }


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    rule = "  ".join("─" * width for width in widths)
    return [line(rows[0]).rstrip(), rule] + [line(row).rstrip() for row in rows[1:]]


def format_summary(summary: ModelSummary) -> str:
    """A table like Keras's `model.summary()`, with the arithmetic behind each number."""
    spec = summary.spec
    rows = [["Layer (type)", "Output Shape", "Param #", "Parameters", "Output size"]]
    rows += [
        [
            f"{layer.name} ({layer.class_name})",
            str(layer.keras_output_shape),
            f"{layer.params:,}",
            layer.param_formula,
            layer.shape_formula,
        ]
        for layer in summary.layers
    ]
    lines = [f'Model: "{spec.name}"   input: {(None, *spec.input_shape)}', ""]
    lines += _table(rows)
    lines += [
        "",
        f"Total params: {summary.total_params:,} ({readable_size(summary.total_params * 4)})",
        f"Trainable params: {summary.trainable_params:,} "
        f"({readable_size(summary.trainable_params * 4)})",
        f"Non-trainable params: {summary.non_trainable_params:,} "
        f"({readable_size(summary.non_trainable_params * 4)})",
        f"Multiply-accumulates per image: {summary.total_macs:,}",
        f"Activations per image: {readable_size(summary.activation_bytes)}",
    ]
    return "\n".join(lines)


def _run_presets(args: argparse.Namespace) -> int:
    width = max(len(name) for name in PRESETS)
    for name, spec in PRESETS.items():
        print(f"{name.ljust(width)}  {validate(spec).total_params:>12,}")
    return 0


def _run_summary(args: argparse.Namespace) -> int:
    summary = validate(read_spec(args))
    if args.json:
        print(json.dumps(_summary_json(summary)))
    else:
        print(format_summary(summary))
    return 0


def _run_code(args: argparse.Namespace) -> int:
    print(keras_code(read_spec(args)), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cnnviz", description="Exact shapes and parameters of CNNs, as Keras computes them."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    presets = commands.add_parser("presets", help="list the presets with their total parameters")
    presets.set_defaults(func=_run_presets)
    summary = commands.add_parser("summary", help="a Keras-style summary with the formulas")
    add_architecture_arguments(summary)
    summary.add_argument("--json", action="store_true", help="print one JSON object")
    summary.set_defaults(func=_run_summary)
    code = commands.add_parser("code", help="the Keras Python code that builds the model")
    add_architecture_arguments(code)
    code.set_defaults(func=_run_code)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except (CliError, SpecError, LimitError) as error:
        print(f"cnnviz {args.command}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"cnnviz {args.command}: interrupted", file=sys.stderr)
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())
