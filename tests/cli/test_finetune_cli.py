"""`cnnviz finetune`: a bundle or an ImageNet base, two phases, a bundle out, one JSON line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from training_data import save_stripes_npz, two_block_classifier

from cnnviz.bundle import load_bundle, write_bundle_folder
from cnnviz.cli import main
from cnnviz.keras_build import build_model

_TRAINED = two_block_classifier("stripes-net", classes=2)


@pytest.fixture
def stripes_npz(tmp_path: Path) -> Path:
    return save_stripes_npz(tmp_path)


@pytest.fixture
def trained_bundle(tmp_path: Path) -> Path:
    model = build_model(_TRAINED, seed=5)
    folder = tmp_path / "trained"
    write_bundle_folder(folder, model, _TRAINED, dataset_name="stripes",
                        class_names=("left", "right"))
    return folder


def test_a_bundle_is_fine_tuned_into_a_bundle_with_both_phases_reported(
    trained_bundle: Path, stripes_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "tuned"
    status = main(["finetune", str(trained_bundle), "--dataset", str(stripes_npz),
                   "--unfreeze-from", "block2_conv1", "--head-epochs", "2",
                   "--finetune-epochs", "1", "--dense", "8", "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out.strip().splitlines()[-1])
    assert report["epochs"] == 3 and report["boundary_epoch"] == 2
    assert [phase["name"] for phase in report["phases"]] == ["head", "fine-tune"]
    head, tune = report["phases"]
    assert (head["optimizer"], head["learning_rate"]) == ("rmsprop", pytest.approx(1e-3))
    assert (tune["optimizer"], tune["learning_rate"]) == ("rmsprop", pytest.approx(1e-5))
    assert len(report["history"]["loss"]) == 3
    loaded = load_bundle(out)
    assert loaded.spec.layer_names()[:4] == _TRAINED.layer_names()[:4]
    assert loaded.spec.layer_names()[-1] == "head_output"
    trainable = [layer.trainable for layer in loaded.spec.layers]
    assert trainable[:2] == [False, False] and all(trainable[2:])
    conv1 = build_model(_TRAINED, seed=5).get_layer("block1_conv1").get_weights()[0]
    assert loaded.model.get_layer("block1_conv1").get_weights()[0].tobytes() == conv1.tobytes()
    assert tune["trainable_params"] + tune["non_trainable_params"] == sum(
        int(np.prod(weight.shape)) for weight in loaded.model.weights)


def test_the_default_unfreeze_point_is_the_bases_last_block(
    trained_bundle: Path, stripes_npz: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["finetune", str(trained_bundle), "--dataset", str(stripes_npz),
                   "--head-epochs", "1", "--finetune-epochs", "1", "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert json.loads(captured.out.strip().splitlines()[-1])["unfreeze_from"] == "block2_conv1"


def test_missing_imagenet_weights_name_the_file_in_one_line(
    stripes_npz: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    status = main(["finetune", "--base", "vgg16", "--dataset", str(stripes_npz)])
    captured = capsys.readouterr()
    assert status == 2
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in captured.err
    assert str(tmp_path / "keras" / "models") in captured.err
    assert "Traceback" not in captured.err


def test_an_unknown_unfreeze_layer_is_one_line_and_status_2(
    trained_bundle: Path, stripes_npz: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["finetune", str(trained_bundle), "--dataset", str(stripes_npz),
                   "--unfreeze-from", "block7_conv1", "--head-epochs", "1"])
    assert status == 2
    assert "unfreeze_from='block7_conv1'" in capsys.readouterr().err


def test_an_imagenet_base_from_the_keras_folder_is_fine_tuned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    (tmp_path / "keras" / "models").mkdir(parents=True)
    keras.applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3)).save(
        tmp_path / "keras" / "models" / "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(24, 32, 32, 3), dtype=np.uint8)
    labels = np.arange(24) % 2
    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=images[:16], y_train=labels[:16], x_test=images[16:],
             y_test=labels[16:])
    status = main(["finetune", "--base", "vgg16", "--dataset", str(data), "--head-epochs", "1",
                   "--finetune-epochs", "1", "--batch-size", "8", "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out.strip().splitlines()[-1])
    assert report["unfreeze_from"] == "block5_conv1"
    head, tune = report["phases"]
    assert head["non_trainable_params"] == 14_714_688  # VGG16 without its top, all frozen
    assert tune["trainable_params"] - head["trainable_params"] == 7_079_424  # block 5's convs


def test_a_folder_of_images_of_another_size_is_fitted_to_the_base(
    trained_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    rng = np.random.default_rng(1)
    for name, bright in (("dark", 40), ("light", 200)):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for index in range(12):
            pixels = np.clip(rng.normal(bright, 20, size=(20, 20, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(tmp_path / "photos" / name / f"{index}.png")
    status = main(["finetune", str(trained_bundle), "--dataset", str(tmp_path / "photos"),
                   "--head-epochs", "1", "--finetune-epochs", "1", "--batch-size", "4",
                   "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "resized/converted to (8, 8, 1)" in captured.err
    report = json.loads(captured.out.strip().splitlines()[-1])
    assert report["epochs"] == 2 and len(report["phases"]) == 2
