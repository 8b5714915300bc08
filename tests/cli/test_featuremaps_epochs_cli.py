"""`cnnviz train --out` keeps the epochs the bound allows in the bundle, and
`cnnviz featuremaps BUNDLE --epochs all` writes the maps of each, as Keras computes them."""

from __future__ import annotations

import io
import json
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

import cnnviz.cli.train
from cnnviz.archfile import dump_architecture
from cnnviz.bundle import weights_npz
from cnnviz.cli import main
from cnnviz.data import decode_upload, to_model_input
from cnnviz.keras_build import build_model
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.settings import Settings
from cnnviz.spec import ModelSpec

SPEC = ModelSpec((8, 8, 1), (Conv2DSpec(filters=3, kernel_size=3, activation="relu"),
                             FlattenSpec(), DenseSpec(units=10, activation="softmax")),
                 name="cli-epochs")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    architecture = folder / "model.json"
    architecture.write_text(dump_architecture(SPEC))
    assert main(["train", str(architecture), "--dataset", "digits", "--epochs", "4",
                 "--seed", "3", "--out", str(folder / "run1")]) == 0
    return folder / "run1"


@pytest.fixture
def picture(tmp_path: Path) -> Path:
    path = tmp_path / "ramp.png"
    Image.fromarray(np.tile(np.arange(0, 256, 32, dtype=np.uint8), (8, 1))).save(path)
    return path


def _keras_probabilities(weights_npz: bytes | None, picture: Path, seed: int = 3) -> np.ndarray:
    model = build_model(SPEC, seed=seed)
    if weights_npz is not None:
        arrays = np.load(io.BytesIO(weights_npz), allow_pickle=False)
        for layer in model.layers:
            layer.set_weights([arrays[f"{layer.name}/{index}"]
                               for index in range(len(layer.weights))])
    x = to_model_input(decode_upload(picture.read_bytes(), filename=picture.name),
                       SPEC.input_shape)
    return np.asarray(keras.ops.convert_to_numpy(model(x[np.newaxis])))[0]


def test_the_trained_bundle_carries_every_epoch_under_the_default_bound(bundle: Path) -> None:
    metadata = json.loads((bundle / "metadata.json").read_text())
    assert metadata["epochs"] == [1, 2, 3, 4]
    assert (metadata["epochs_total"], metadata["initial_seed"]) == (4, 3)
    assert sorted(path.name for path in (bundle / "epochs").iterdir()) == [
        f"epoch-000{epoch}.npz" for epoch in (1, 2, 3, 4)]
    final = (bundle / "weights.npz").read_bytes()
    last = np.load(io.BytesIO((bundle / "epochs" / "epoch-0004.npz").read_bytes()))
    with np.load(io.BytesIO(final)) as arrays:
        assert all(np.array_equal(arrays[key], last[key]) for key in arrays.files)


def test_a_small_bound_keeps_the_first_the_last_and_one_between(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    architecture = tmp_path / "model.json"
    architecture.write_text(dump_architecture(SPEC))
    one_epoch = len(weights_npz(build_model(SPEC), SPEC))
    size = 3 * one_epoch + one_epoch // 2  # three epochs of this model's weights, not four
    monkeypatch.setattr(cnnviz.cli.train, "get_settings",
                        lambda: Settings(epoch_checkpoint_bytes=size))
    assert main(["train", str(architecture), "--dataset", "digits", "--epochs", "5",
                 "--out", str(tmp_path / "run")]) == 0
    assert json.loads((tmp_path / "run" / "metadata.json").read_text())["epochs"] == [1, 3, 5]


def test_featuremaps_for_all_epochs_are_keras_s_for_each_epoch(
        bundle: Path, picture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "maps"
    assert main(["featuremaps", str(bundle), "--image", str(picture), "--out", str(out),
                 "--epochs", "all"]) == 0
    assert "wrote the maps of 5 epochs (0, 1, 2, 3, 4)" in capsys.readouterr().out
    summary = json.loads((out / "epochs.json").read_text())
    assert [entry["epoch"] for entry in summary["epochs"]] == [0, 1, 2, 3, 4]
    for epoch in range(5):
        folder = out / f"epoch-{epoch:04d}"
        assert (folder / "01_conv2d.png").is_file()
        report = json.loads((folder / "predictions.json").read_text())
        shown = np.zeros(10)
        for entry in report["predictions"]:
            shown[entry["class_index"]] = entry["probability"]
        raw = (bundle / "epochs" / f"epoch-{epoch:04d}.npz").read_bytes() if epoch else None
        np.testing.assert_allclose(shown, _keras_probabilities(raw, picture), rtol=1e-5,
                                   atol=1e-6)
    animation = Image.open(out / "filters_epochs.gif")
    assert animation.n_frames == 5
    assert Image.open(out / "filters_epochs.png").format == "PNG"


def test_a_list_of_epochs_and_its_errors(
        bundle: Path, picture: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "some"
    assert main(["featuremaps", str(bundle), "--image", str(picture), "--out", str(out),
                 "--epochs", "0,4"]) == 0
    assert sorted(path.name for path in out.glob("epoch-*")) == ["epoch-0000", "epoch-0004"]
    capsys.readouterr()
    assert main(["featuremaps", str(bundle), "--image", str(picture), "--out", str(out),
                 "--epochs", "9"]) == 2
    assert "Expected epochs the bundle carries: 0, 1, 2, 3, 4" in capsys.readouterr().err
    assert main(["featuremaps", "--preset", "lenet-5", "--image", str(picture), "--out",
                 str(out), "--epochs", "all"]) == 2
    assert "--epochs needs a trained bundle" in capsys.readouterr().err
