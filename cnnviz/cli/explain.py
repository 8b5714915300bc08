"""`cnnviz explain`: how one value of one layer was computed, with its real numbers.

    cnnviz explain (BUNDLE_DIR | FILE.json | --preset NAME) --image PATH --layer NAME
                   --at ROW,COL[,CHANNEL] [--json] [--full]

An architecture file or preset runs with the seeded random weights of the Feature maps
page (seed 0); a bundle with its trained weights.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from cnnviz.cli import CliError, add_architecture_arguments
from cnnviz.cli.featuremaps import _read_image, load_model_for_cli
from cnnviz.data import ImageError, to_model_input
from cnnviz.featuremaps import (
    ActivationError,
    ExplainError,
    explain_value,
    explanation_json,
    explanation_lines,
    extract_activations,
)
from cnnviz.limits import check_activation_bytes
from cnnviz.shapes import validate

__all__ = ["parse_position", "register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="show how one value of a layer's output was computed",
        description="The window, weights, products, bias and activation behind one value "
        "of a layer's output for an image. FILE may be a trained-model bundle folder or an "
        "architecture JSON file (random weights, seed 0, as on the Feature maps page).",
    )
    add_architecture_arguments(parser)
    parser.add_argument("--image", required=True, help="PNG, JPEG, WebP, BMP or GIF")
    parser.add_argument("--layer", required=True, help="the layer's name (see `cnnviz summary`)")
    parser.add_argument(
        "--at", required=True, metavar="ROW,COL[,CHANNEL]",
        help="the value's position: row,column[,channel] in a map, or an index in a vector",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--full", action="store_true",
                        help="every product, even for large windows (summarised otherwise)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random weights of an untrained model")
    parser.set_defaults(func=run)


def parse_position(text: str) -> tuple[int, ...]:
    try:
        position = tuple(int(part) for part in text.replace(" ", "").split(","))
    except ValueError:
        raise CliError(f"--at expects whole numbers separated by commas, e.g. 3,4,0. "
                       f"Received: --at={text!r}") from None
    if not 1 <= len(position) <= 3:
        raise CliError(f"--at expects 1 to 3 numbers (ROW,COL[,CHANNEL] or INDEX). "
                       f"Received: --at={text!r}")
    return position


def run(args: argparse.Namespace) -> int:
    position = parse_position(args.at)
    picture = _read_image(Path(args.image))
    loaded = load_model_for_cli(args)
    check_activation_bytes(validate(loaded.spec).activation_bytes)
    try:
        x = to_model_input(picture, loaded.spec.input_shape)
        activations = extract_activations(loaded.model, x)
        explanation = explain_value(loaded.model, activations, x, args.layer, position)
    except (ActivationError, ExplainError, ImageError) as error:
        raise CliError(str(error)) from None
    if args.json:
        print(json.dumps({**explanation_json(explanation, full=args.full),
                          "weights": loaded.description}))
    else:
        print(f"Model {loaded.spec.name} ({loaded.description})")
        print("\n".join(explanation_lines(explanation, full=args.full)))
    return 0
