"""A trained model as a file: the architecture JSON plus the weights, and nothing to run.

The bundle is a zip (or a folder, from `cnnviz train --out`) of `architecture.json`
(cnnviz/1), `weights.npz` (one array per Keras weight, keyed `layer_name/index`, read
with `allow_pickle=False`) and `metadata.json` (dataset, class names, test accuracy).
Loading rebuilds the model from the validated JSON and sets only the weights — never
`keras.models.load_model`.

A bundle may also carry the weights of some epochs of its training: `epochs/epoch-NNNN.npz`
(each like `weights.npz`), listed in `metadata.json` as `epochs` with `epochs_total` and
`initial_seed` (the seed that rebuilds epoch 0). Readers that know nothing of them ignore
them, so such a bundle loads everywhere.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnviz._types import KerasModel
from cnnviz.archfile import MAX_FILE_BYTES, dump_architecture, load_architecture
from cnnviz.keras_build import build_model
from cnnviz.limits import check_layers, check_params, check_upload_bytes
from cnnviz.settings import Settings
from cnnviz.shapes import validate
from cnnviz.spec import ModelSpec, SpecError
from cnnviz.tf_runtime import configure_tensorflow

__all__ = [
    "BUNDLE_FORMAT",
    "BundleEpochs",
    "BundleError",
    "LoadedBundle",
    "add_epochs",
    "bundle_bytes",
    "bundle_epochs",
    "bundle_files",
    "epoch_member",
    "keras_file_bytes",
    "load_bundle",
    "set_weights_from_npz",
    "weights_npz",
    "write_bundle_folder",
]

BUNDLE_FORMAT = "cnnviz-bundle/1"
ARCHITECTURE = "architecture.json"
WEIGHTS = "weights.npz"
METADATA = "metadata.json"
KERAS_FILE = "model.keras"
EPOCHS_FOLDER = "epochs"
FINETUNE = "finetune"  # the metadata key of a fine-tuning's phases
_METADATA_BYTES = 1_000_000
_NPY_OVERHEAD = 4_096  # header and zip entry of one array, generously


class BundleError(ValueError):
    """A bundle that cannot be loaded: says which part is wrong and what to do."""


@dataclass(frozen=True, eq=False)
class LoadedBundle:
    model: KerasModel
    spec: ModelSpec
    dataset_name: str
    class_names: tuple[str, ...]
    test_accuracy: float | None
    finetune: dict[str, Any] | None = None  # a fine-tuning's phases (`FineTuneRecord`)


@dataclass(frozen=True, eq=False)
class BundleEpochs:
    """The epochs a bundle carries; `read(epoch)` gives that epoch's `weights.npz`."""

    epochs: tuple[int, ...]
    epochs_total: int | None
    initial_seed: int | None
    read: Callable[[int], bytes]


def epoch_member(epoch: int) -> str:
    return f"{EPOCHS_FOLDER}/epoch-{epoch:04d}.npz"


def weights_npz(model: KerasModel, spec: ModelSpec) -> bytes:
    """The model's weights as a bundle's `weights.npz`: one array per `layer_name/index`."""
    arrays: dict[str, np.ndarray] = {}
    for name in spec.layer_names():
        for index, value in enumerate(model.get_layer(name).get_weights()):
            arrays[f"{name}/{index}"] = np.asarray(value)
    weights = io.BytesIO()
    np.savez(weights, **arrays)  # type: ignore[arg-type]
    return weights.getvalue()


def _epoch_metadata(epochs: Mapping[int, bytes], epochs_total: int | None,
                    initial_seed: int | None) -> dict[str, Any]:
    return {"epochs": sorted(epochs), "epochs_total": epochs_total,
            "initial_seed": initial_seed}


def bundle_files(
    model: KerasModel,
    spec: ModelSpec,
    *,
    dataset_name: str,
    class_names: Sequence[str],
    test_accuracy: float | None = None,
    epochs: Mapping[int, bytes] | None = None,
    epochs_total: int | None = None,
    initial_seed: int | None = None,
    finetune: Mapping[str, Any] | None = None,
) -> dict[str, bytes]:
    """The bundle's files by name: architecture, weights and metadata, and the `epochs`
    given (epoch → its `weights.npz`); `finetune`: a fine-tuning's phases, in metadata."""
    metadata: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "dataset": dataset_name,
        "class_names": list(class_names),
        "test_accuracy": test_accuracy,
    }
    if finetune is not None:
        metadata[FINETUNE] = dict(finetune)
    if epochs:
        metadata.update(_epoch_metadata(epochs, epochs_total, initial_seed))
    files = {
        ARCHITECTURE: dump_architecture(spec).encode("utf-8"),
        WEIGHTS: weights_npz(model, spec),
        METADATA: json.dumps(metadata, indent=2, ensure_ascii=False).encode("utf-8"),
    }
    for epoch, raw in sorted((epochs or {}).items()):
        files[epoch_member(epoch)] = raw
    return files


def add_epochs(bundle: bytes, epochs: Mapping[int, bytes], *, epochs_total: int | None,
               initial_seed: int | None = None) -> bytes:
    """A bundle zip with `epochs` (epoch → its `weights.npz`) added to what it holds."""
    try:
        source = zipfile.ZipFile(io.BytesIO(bundle))
        metadata = json.loads(source.read(METADATA).decode("utf-8"))
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise BundleError(f"The bundle cannot take epochs: {error}.") from None
    metadata.update(_epoch_metadata(epochs, epochs_total, initial_seed))
    buffer = io.BytesIO()
    with source, zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            if info.filename != METADATA and not info.filename.startswith(EPOCHS_FOLDER + "/"):
                archive.writestr(info.filename, source.read(info))
        archive.writestr(METADATA, json.dumps(metadata, indent=2, ensure_ascii=False))
        for epoch, raw in sorted(epochs.items()):
            archive.writestr(epoch_member(epoch), raw)
    return buffer.getvalue()


def bundle_bytes(model: KerasModel, spec: ModelSpec, **metadata: Any) -> bytes:
    """The bundle as one zip (what the Train page downloads); see `bundle_files`."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in bundle_files(model, spec, **metadata).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def write_bundle_folder(
    folder: str | os.PathLike[str], model: KerasModel, spec: ModelSpec, **metadata: Any
) -> list[Path]:
    """The bundle's files, plus `model.keras`, written into `folder` (created if needed)."""
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in bundle_files(model, spec, **metadata).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        written.append(root / name)
    model.save(root / KERAS_FILE)
    return [*written, root / KERAS_FILE]


def keras_file_bytes(model: KerasModel) -> bytes:
    """The model saved as a `.keras` file, for people who use Keras directly."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


_MISSING_HINT = (
    f"Choose a bundle downloaded from cnnviz's Train page or written by `cnnviz train --out` "
    f"(it holds {ARCHITECTURE}, {WEIGHTS} and {METADATA})."
)


def _zip_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise BundleError(f"The bundle has no {name}. {_MISSING_HINT}") from None
    _check_size(name, info.file_size, limit)
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, zlib.error) as error:
        raise BundleError(f"{name} in the bundle cannot be read: {error}.") from None


def _folder_member(folder: Path, name: str, limit: int) -> bytes:
    path = folder / name
    if not path.is_file():
        raise BundleError(f"The bundle folder {folder} has no {name}. {_MISSING_HINT}")
    _check_size(name, path.stat().st_size, limit)
    try:
        return path.read_bytes()
    except OSError as error:
        raise BundleError(f"{path} cannot be read: {error.strerror or error}.") from None


def _check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise BundleError(
            f"{name} in the bundle is {size:,} bytes, more than the {limit:,} this "
            "architecture can need — the bundle is damaged or not from cnnviz."
        )


def _metadata(raw: bytes) -> tuple[str, tuple[str, ...], float | None, dict[str, Any] | None]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BundleError(f"{METADATA} in the bundle is not valid JSON.") from None
    if not isinstance(data, dict) or data.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{METADATA} does not say format {BUNDLE_FORMAT!r}.")
    names = data.get("class_names")
    if (
        not isinstance(names, list)
        or len(names) < 2
        or not all(isinstance(name, str) for name in names)
    ):
        raise BundleError(f"{METADATA}: class_names must be a list of at least 2 names.")
    accuracy = data.get("test_accuracy")
    if not isinstance(accuracy, (int, float)) or isinstance(accuracy, bool):
        accuracy = None
    dataset = data.get("dataset")
    finetune = data.get(FINETUNE)
    return ((dataset if isinstance(dataset, str) else "unknown"), tuple(names), accuracy,
            finetune if isinstance(finetune, dict) else None)


def _weights_for(layer: Any, arrays: Any, name: str) -> list[np.ndarray]:
    expected = [tuple(weight.shape) for weight in layer.weights]
    keys = [f"{name}/{index}" for index in range(len(expected))]
    values: list[np.ndarray] = []
    for index, (key, shape) in enumerate(zip(keys, expected, strict=True)):
        if key not in arrays:
            raise BundleError(
                f"{WEIGHTS} has no weight {index} of layer '{name}' (needs shape {shape}). "
                f"The weights do not belong to this {ARCHITECTURE}."
            )
        try:
            value = arrays[key]
        except ValueError:
            raise BundleError(f"{WEIGHTS}: '{key}' is not a plain number array.") from None
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
            raise BundleError(f"{WEIGHTS}: '{key}' is damaged and cannot be read ({error}). "
                              "The file was changed or cut short after cnnviz wrote it.") \
                from None
        if value.dtype.kind != "f":
            raise BundleError(f"{WEIGHTS}: '{key}' holds {value.dtype}, not floating point.")
        if tuple(value.shape) != shape:
            raise BundleError(
                f"Layer '{name}': weight {index} ({layer.weights[index].name}) has shape "
                f"{tuple(value.shape)} in {WEIGHTS}, but {ARCHITECTURE} needs {shape}. "
                "The architecture and the weights do not belong together."
            )
        values.append(value)
    return values


def _reader(
    source: bytes | str | os.PathLike[str], host: Settings | None
) -> Callable[[str, int], bytes]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            return lambda name, limit: _folder_member(path, name, limit)
        if not path.is_file():
            raise BundleError(f"{path} is neither a bundle .zip file nor a bundle folder.")
        check_upload_bytes(path.stat().st_size, "The bundle", host)
        try:
            source = path.read_bytes()
        except OSError as error:
            raise BundleError(f"{path} cannot be read: {error.strerror or error}.") from None
    data = bytes(source)
    check_upload_bytes(len(data), "The bundle", host)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise BundleError(
            "The file is not a zip bundle. Choose the .zip downloaded from the Train page."
        ) from None
    return lambda name, limit: _zip_member(archive, name, limit)


def load_bundle(
    source: bytes | str | os.PathLike[str], *, host: Settings | None = None
) -> LoadedBundle:
    """A bundle (zip bytes, a .zip path or a bundle folder) → the rebuilt, trained model.

    Raises `BundleError` naming the part that is wrong, `LimitError` over a host limit.
    """
    read = _reader(source, host)
    try:
        spec = load_architecture(read(ARCHITECTURE, MAX_FILE_BYTES))
    except SpecError as error:
        raise BundleError(f"{ARCHITECTURE} in the bundle: {error.message}") from None
    summary = validate(spec)
    check_layers(len(spec.layers), host)
    check_params(summary.total_params, host)
    dataset, class_names, accuracy, finetune = _metadata(read(METADATA, _METADATA_BYTES))
    raw_weights = read(WEIGHTS, _weights_limit(spec))
    configure_tensorflow()
    model = build_model(spec)
    set_weights_from_npz(model, spec, raw_weights)
    return LoadedBundle(model, spec, dataset, class_names, accuracy, finetune)


def _weights_limit(spec: ModelSpec) -> int:
    return validate(spec).total_params * 8 + _NPY_OVERHEAD * (4 * len(spec.layers) + 1)


def set_weights_from_npz(model: KerasModel, spec: ModelSpec, raw_weights: bytes,
                         what: str = WEIGHTS) -> None:
    """Load a `weights.npz` (every array checked against the model's) into `model`, a
    model built from `spec`. Raises `BundleError` naming what does not fit."""
    weights_limit = _weights_limit(spec)
    _check_size(what, len(raw_weights), weights_limit)
    try:
        arrays = np.load(io.BytesIO(raw_weights), allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError):
        raise BundleError(f"{what} in the bundle is not a readable .npz file.") from None
    if not isinstance(arrays, np.lib.npyio.NpzFile):
        raise BundleError(f"{what} in the bundle is a single array, not an .npz of weights.")
    members = arrays.zip.infolist() if arrays.zip is not None else []
    if sum(int(info.file_size) for info in members) > weights_limit:
        arrays.close()
        raise BundleError(
            f"{what} unpacks to more bytes than this architecture's weights can need — "
            "the bundle is damaged or not from cnnviz."
        )
    with arrays:
        names = spec.layer_names()
        expected_keys: set[str] = set()
        for name in names:
            layer = model.get_layer(name)
            values = _weights_for(layer, arrays, name)
            expected_keys.update(f"{name}/{index}" for index in range(len(values)))
            layer.set_weights(values)
        extra = sorted(set(arrays.files) - expected_keys)
    if extra:
        raise BundleError(
            f"{WEIGHTS} holds weights that {ARCHITECTURE} has no place for (e.g. '{extra[0]}'). "
            "The architecture and the weights do not belong together."
        )


def bundle_epochs(
    source: bytes | str | os.PathLike[str], spec: ModelSpec, *, host: Settings | None = None
) -> BundleEpochs:
    """The epochs a bundle carries (none for a bundle without them); `spec` is the
    bundle's architecture (from `load_bundle`), which bounds each epoch's size."""
    read = _reader(source, host)
    try:
        data = json.loads(read(METADATA, _METADATA_BYTES).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise BundleError(f"{METADATA} in the bundle is not valid JSON.") from None
    listed = data.get("epochs") if isinstance(data, dict) else None
    if not isinstance(listed, list) or not all(
            isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 1
            for epoch in listed):
        listed = []
    total, seed = data.get("epochs_total"), data.get("initial_seed")
    limit = _weights_limit(spec)
    return BundleEpochs(
        epochs=tuple(sorted(set(listed))),
        epochs_total=total if isinstance(total, int) and not isinstance(total, bool) else None,
        initial_seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        read=lambda epoch: read(epoch_member(epoch), limit),
    )
