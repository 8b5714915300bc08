"""`cnnviz featuremaps`: every layer's feature maps for one image, as PNG mosaics.

    cnnviz featuremaps (BUNDLE_DIR | FILE.json | --preset NAME) --image PATH --out DIR

writes `NN_<layer>.png` for each layer with a spatial output and `predictions.json`.
An architecture file or preset runs with seeded random weights; a bundle with its own.

With `--epochs all` (or e.g. `--epochs 0,5,10`), a bundle that carries epochs (`cnnviz
train --out`) writes the same per epoch into `epoch-NNNN/` (epoch 0: the starting weights),
plus `filters_epochs.gif` and `filters_epochs.png` (the first layer's filters, epoch by
epoch) and `epochs.json` (each epoch's top prediction).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnviz._types import KerasModel
from cnnviz.bundle import (
    ARCHITECTURE,
    EPOCHS_FOLDER,
    METADATA,
    WEIGHTS,
    BundleEpochs,
    BundleError,
    bundle_epochs,
    load_bundle,
    set_weights_from_npz,
)
from cnnviz.cli import CliError, add_architecture_arguments, read_spec
from cnnviz.data import ImageError, decode_upload, to_model_input
from cnnviz.featuremaps import (
    LAYER_MIN_TILE,
    ActivationError,
    FilterError,
    class_probabilities,
    extract_activations,
    filter_evolution_gif,
    filter_evolution_strip_png,
    kernel_layer_names,
    layer_kernels,
    model_scale,
    mosaic_png,
)
from cnnviz.keras_build import build_model
from cnnviz.limits import check_activation_bytes
from cnnviz.shapes import validate
from cnnviz.spec import ModelSpec
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train import final_activation

__all__ = ["LoadedModel", "load_model_for_cli", "register", "run", "mosaic_file_name"]


@dataclass(frozen=True, eq=False)
class LoadedModel:
    model: KerasModel
    spec: ModelSpec
    trained: bool
    class_names: tuple[str, ...] | None
    description: str
    bundle: bytes | None = None  # the bundle's zip, where the model came from one


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "featuremaps",
        help="write every layer's feature maps for an image as PNG mosaics",
        description="One PNG mosaic per layer with a spatial output, and predictions.json. "
        "FILE may be a trained-model bundle folder or an architecture JSON file.",
    )
    add_architecture_arguments(parser)
    parser.add_argument("--image", required=True, help="PNG, JPEG, WebP, BMP or GIF")
    parser.add_argument("--out", required=True, help="folder for the PNG files")
    parser.add_argument(
        "--normalization", choices=("channel", "layer"), default="channel",
        help="scale each channel on its own range (default) or all on the layer's",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the random weights of an untrained model"
    )
    parser.add_argument(
        "--epochs", metavar="all|N,N…", default=None,
        help="from a bundle that carries epochs: the same per epoch (all, or a list such as "
        "0,5,10; 0 is the starting weights) into epoch-NNNN folders, and the first layer's "
        "filters across them",
    )  # fmt: skip
    parser.set_defaults(func=run)


def mosaic_file_name(index: int, layer_name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", layer_name).strip("._") or "layer"
    return f"{index + 1:02d}_{safe}.png"


def load_model_for_cli(args: argparse.Namespace) -> LoadedModel:
    """The model named on the command line: a bundle (a folder or the .zip the Train page
    downloads, trained weights) or an architecture (JSON file or preset, random weights)."""
    path = Path(args.file) if args.file else None
    if path is not None and (path.is_dir() or _is_zip(path)):
        return _load_bundle(path)
    spec = read_spec(args)

    configure_tensorflow()
    model = build_model(spec, seed=args.seed)
    return LoadedModel(model, spec, False, None, f"untrained: random weights, seed {args.seed}")


def _is_zip(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"PK\x03\x04"
    except OSError:
        return False


def _bundle_bytes(path: Path) -> bytes:
    """A bundle's zip bytes; a folder of its unpacked files is zipped in memory."""
    if not path.is_dir():
        return path.read_bytes()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in (ARCHITECTURE, WEIGHTS, METADATA):
            member = path / name
            if not member.is_file():
                raise CliError(
                    f"{path} is a folder without {name}: a bundle folder holds "
                    f"{ARCHITECTURE}, {WEIGHTS} and {METADATA} (unzip the Train page's .zip)"
                )
            archive.write(member, name)
        for member in sorted((path / EPOCHS_FOLDER).glob("epoch-*.npz")):
            archive.write(member, f"{EPOCHS_FOLDER}/{member.name}")
    return buffer.getvalue()


def _load_bundle(path: Path) -> LoadedModel:
    try:
        data = _bundle_bytes(path)
        loaded = load_bundle(data)
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None
    except BundleError as error:
        raise CliError(f"{path}: {error}") from None
    description = f"trained on {loaded.dataset_name}"
    if loaded.test_accuracy is not None:
        description += f", test accuracy {loaded.test_accuracy:.1%}"
    return LoadedModel(loaded.model, loaded.spec, True, loaded.class_names, description, data)


def _read_image(path: Path) -> Any:
    """The decoded image (a PIL image), checked before any model is loaded."""
    if not path.is_file():
        raise CliError(f"--image {path} does not exist or is not a file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        return decode_upload(data, filename=path.name)
    except ImageError as error:
        raise CliError(str(error)) from None


def _predictions(
    output: np.ndarray, spec: ModelSpec, class_names: tuple[str, ...] | None
) -> list[dict[str, Any]]:
    probabilities = class_probabilities(output, final_activation(spec))
    names = class_names if class_names and len(class_names) == probabilities.size else None
    order = np.argsort(-probabilities, kind="stable")
    return [
        {
            "class_index": int(index),
            "class_name": names[index] if names else f"class {index}",
            "probability": float(probabilities[index]),
        }
        for index in order
    ]


def _write_maps(model: KerasModel, loaded: LoadedModel, x: np.ndarray, out: Path,
                args: argparse.Namespace, weights: str) -> dict[str, Any]:
    """One mosaic per spatial layer and `predictions.json` in `out`; returns the report."""
    try:
        activations = extract_activations(model, x)
    except ActivationError as error:
        raise CliError(str(error)) from None
    out.mkdir(parents=True, exist_ok=True)
    scale = model_scale(loaded.spec.input_shape)
    layers = []
    for activation in activations:
        entry: dict[str, Any] = {
            "index": activation.index,
            "name": activation.name,
            "class_name": activation.class_name,
            "output_shape": list(activation.keras_output_shape),
            "file": None,
        }
        if activation.is_spatial:
            entry["file"] = mosaic_file_name(activation.index, activation.name)
            png = mosaic_png(activation.output, normalization=args.normalization,
                             scale=scale, min_tile=LAYER_MIN_TILE)
            (out / entry["file"]).write_bytes(png)
        layers.append(entry)
    final = activations[-1].output if activations else np.empty(0)
    report = {
        "model": loaded.spec.name,
        "weights": weights,
        "image": str(args.image),
        "input_shape": list(loaded.spec.input_shape),
        "normalization": args.normalization,
        "layers": layers,
        "predictions": (
            _predictions(final, loaded.spec, loaded.class_names) if final.ndim == 1 else None
        ),
    }
    (out / "predictions.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def _chosen_epochs(request: str, carried: BundleEpochs) -> list[int]:
    """The epochs `--epochs` asks for, each one the bundle can give."""
    available = ([0] if carried.initial_seed is not None else []) + list(carried.epochs)
    if not carried.epochs:
        raise CliError("this bundle carries no epochs: train it again with `cnnviz train "
                       "--out` (it keeps the epochs the epoch_checkpoint_bytes setting allows)")
    if request.strip().lower() == "all":
        return available
    try:
        asked = [int(part) for part in request.split(",") if part.strip()]
    except ValueError:
        raise CliError(f"Expected --epochs all or a list such as 0,5,10. Received: "
                       f"--epochs {request}") from None
    missing = [epoch for epoch in asked if epoch not in available]
    if missing or not asked:
        raise CliError(f"Expected epochs the bundle carries: {', '.join(map(str, available))}. "
                       f"Received: --epochs {request}")
    return sorted(set(asked))


def _load_epoch(model: KerasModel, loaded: LoadedModel, carried: BundleEpochs,
                epoch: int) -> None:
    try:
        if epoch == 0:
            model.set_weights(build_model(loaded.spec, seed=carried.initial_seed).get_weights())
        else:
            set_weights_from_npz(model, loaded.spec, carried.read(epoch), what=f"epoch {epoch}")
    except BundleError as error:
        raise CliError(str(error)) from None


def _write_epochs(loaded: LoadedModel, x: np.ndarray, out: Path,
                  args: argparse.Namespace) -> int:
    if loaded.bundle is None:
        raise CliError("--epochs needs a trained bundle (a folder or .zip written by "
                       "`cnnviz train --out` or downloaded from the Train page)")
    try:
        carried = bundle_epochs(loaded.bundle, loaded.spec)
    except BundleError as error:
        raise CliError(str(error)) from None
    chosen = _chosen_epochs(args.epochs, carried)
    model = build_model(loaded.spec)
    kernels: list[np.ndarray] = []
    labels: list[str] = []
    summary: list[dict[str, Any]] = []
    first = kernel_layer_names(model)[:1]
    for epoch in chosen:
        _load_epoch(model, loaded, carried, epoch)
        folder = out / f"epoch-{epoch:04d}"
        weights = (f"starting weights, seed {carried.initial_seed}" if epoch == 0
                   else f"after epoch {epoch} of {carried.epochs_total or '?'}")
        report = _write_maps(model, loaded, x, folder, args, weights)
        top = (report["predictions"] or [None])[0]
        summary.append({"epoch": epoch, "folder": folder.name, "top_prediction": top})
        kernel = (layer_kernels(model, first[0]).kernel
                  if first and first[0] == loaded.spec.layer_names()[0] else None)
        if kernel is not None and kernel.shape[2] in (1, 3):
            kernels.append(kernel)
            labels.append(f"epoch {epoch}")
    written = ["epochs.json"]
    if len(kernels) == len(chosen):
        try:
            (out / "filters_epochs.gif").write_bytes(filter_evolution_gif(kernels, labels))
            (out / "filters_epochs.png").write_bytes(filter_evolution_strip_png(kernels, labels))
            written += ["filters_epochs.gif", "filters_epochs.png"]
        except FilterError as error:
            raise CliError(str(error)) from None
    (out / "epochs.json").write_text(json.dumps(
        {"model": loaded.spec.name, "image": str(args.image), "epochs_total":
         carried.epochs_total, "epochs": summary}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote the maps of {len(chosen)} epochs ({', '.join(map(str, chosen))}) into "
          f"epoch-NNNN folders and {', '.join(written)} to {out}")
    return 0


def run(args: argparse.Namespace) -> int:
    image_path, out = Path(args.image), Path(args.out)
    if out.exists() and not out.is_dir():
        raise CliError(f"--out {out} is a file; give a folder (it is created if missing)")
    picture = _read_image(image_path)
    loaded = load_model_for_cli(args)
    check_activation_bytes(validate(loaded.spec).activation_bytes)
    try:
        x = to_model_input(picture, loaded.spec.input_shape)
    except ImageError as error:
        raise CliError(str(error)) from None
    if args.epochs is not None:
        return _write_epochs(loaded, x, out, args)
    report = _write_maps(loaded.model, loaded, x, out, args, loaded.description)
    written = sum(1 for entry in report["layers"] if entry["file"])
    print(f"wrote {written} mosaics and predictions.json to {out} ({loaded.description})")
    return 0
