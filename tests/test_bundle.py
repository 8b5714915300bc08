from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from training_data import stripes_dataset, tiny_spec

from cnnviz.archfile import dump_architecture
from cnnviz.bundle import (
    BundleError,
    bundle_bytes,
    keras_file_bytes,
    load_bundle,
    write_bundle_folder,
)
from cnnviz.errors import LimitError
from cnnviz.layers import Conv2DSpec
from cnnviz.settings import Settings
from cnnviz.train import TrainingSettings, train

CLASSES = ("left", "right")


@pytest.fixture(scope="module")
def trained():  # type: ignore[no-untyped-def]
    return train(tiny_spec(), stripes_dataset(), TrainingSettings(epochs=1, batch_size=16))


@pytest.fixture(scope="module")
def bundle(trained) -> bytes:  # type: ignore[no-untyped-def]
    return bundle_bytes(trained.model, trained.spec, dataset_name="stripes", class_names=CLASSES,
                        test_accuracy=trained.test_accuracy)


def _files(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_round_trip_gives_the_same_predictions(trained, bundle) -> None:  # type: ignore[no-untyped-def]
    loaded = load_bundle(bundle)
    x = stripes_dataset().x_test
    np.testing.assert_array_equal(loaded.model.predict(x, verbose=0),
                                  trained.model.predict(x, verbose=0))
    assert loaded.spec == trained.spec
    assert (loaded.dataset_name, loaded.class_names) == ("stripes", CLASSES)
    assert loaded.test_accuracy == pytest.approx(trained.test_accuracy)


def test_bundle_folder_round_trip_with_a_keras_file(trained, tmp_path) -> None:  # type: ignore[no-untyped-def]
    paths = write_bundle_folder(tmp_path / "out", trained.model, trained.spec,
                                dataset_name="stripes", class_names=CLASSES)
    assert sorted(path.name for path in paths) == [
        "architecture.json", "metadata.json", "model.keras", "weights.npz"]
    loaded = load_bundle(tmp_path / "out")
    x = stripes_dataset().x_test
    np.testing.assert_array_equal(loaded.model.predict(x, verbose=0),
                                  trained.model.predict(x, verbose=0))


def test_keras_file_is_a_keras_archive(trained) -> None:  # type: ignore[no-untyped-def]
    data = keras_file_bytes(trained.model)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {"config.json", "model.weights.h5"} <= set(archive.namelist())


def test_architecture_that_does_not_fit_the_weights_is_refused(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    wider = tiny_spec().replace_layers([Conv2DSpec(filters=8, kernel_size=3, activation="relu"),
                                        *tiny_spec().layers[1:]])
    files["architecture.json"] = dump_architecture(wider).encode()
    with pytest.raises(BundleError, match=r"Layer 'conv2d': weight 0 .*\(3, 3, 1, 4\).*"
                                          r"needs \(3, 3, 1, 8\)"):
        load_bundle(_zip(files))


def test_tampered_architecture_json_is_a_clear_error(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    data = json.loads(files["architecture.json"])
    data["layers"][0]["class_name"] = "Lambda"
    files["architecture.json"] = json.dumps(data).encode()
    with pytest.raises(BundleError, match="architecture.json in the bundle: Layer 1 .*Lambda"):
        load_bundle(_zip(files))


def test_broken_json_is_a_clear_error(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    files["architecture.json"] = b'{"layers": ['
    with pytest.raises(BundleError, match="not valid JSON"):
        load_bundle(_zip(files))


@pytest.mark.parametrize("missing", ["architecture.json", "weights.npz", "metadata.json"])
def test_a_missing_part_is_named(bundle, missing: str) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    del files[missing]
    with pytest.raises(BundleError, match=f"has no {missing}"):
        load_bundle(_zip(files))


def _weights(files: dict[str, bytes]) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(files["weights.npz"])) as arrays:
        return {key: arrays[key] for key in arrays.files}


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def test_extra_weights_are_refused(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    files["weights.npz"] = _npz({**_weights(files), "ghost/0": np.zeros(3, np.float32)})
    with pytest.raises(BundleError, match="no place for .*ghost/0"):
        load_bundle(_zip(files))


def test_missing_weights_of_a_layer_are_named(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    arrays = _weights(files)
    del arrays["dense/1"]
    files["weights.npz"] = _npz(arrays)
    with pytest.raises(BundleError, match="no weight 1 of layer 'dense'"):
        load_bundle(_zip(files))


def test_pickled_objects_in_the_weights_are_never_loaded(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    arrays: dict[str, np.ndarray] = dict(_weights(files))
    arrays["conv2d/0"] = np.array([{"evil": 1}], dtype=object)
    files["weights.npz"] = _npz(arrays)
    with pytest.raises(BundleError, match="conv2d/0"):
        load_bundle(_zip(files))


def test_integer_weights_are_refused(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    arrays = _weights(files)
    arrays["dense/1"] = np.zeros(2, np.int64)
    files["weights.npz"] = _npz(arrays)
    with pytest.raises(BundleError, match="not floating point"):
        load_bundle(_zip(files))


def test_weights_that_unpack_to_far_too_much_are_refused(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    files["weights.npz"] = bytes(5_000_000)  # compresses to almost nothing in the zip
    with pytest.raises(BundleError, match="more than the .* this architecture can need"):
        load_bundle(_zip(files))


def test_not_a_zip_and_too_large_are_clear() -> None:
    with pytest.raises(BundleError, match="not a zip bundle"):
        load_bundle(b"hello")
    with pytest.raises(LimitError, match="CNNVIZ_MAX_UPLOAD_BYTES"):
        load_bundle(b"x" * 100, host=Settings(max_upload_bytes=10))


def test_a_bundle_over_the_host_model_limits_names_the_setting(bundle) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LimitError, match="CNNVIZ_MAX_PARAMS"):
        load_bundle(bundle, host=Settings(max_params=10))
    with pytest.raises(LimitError, match="CNNVIZ_MAX_LAYERS"):
        load_bundle(bundle, host=Settings(max_layers=1))


def test_metadata_needs_class_names(bundle) -> None:  # type: ignore[no-untyped-def]
    files = _files(bundle)
    files["metadata.json"] = json.dumps({"format": "cnnviz-bundle/1"}).encode()
    with pytest.raises(BundleError, match="class_names"):
        load_bundle(_zip(files))


def test_a_path_that_is_neither_file_nor_folder_is_clear(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BundleError, match="neither a bundle .zip file nor a bundle folder"):
        load_bundle(tmp_path / "nothing")
