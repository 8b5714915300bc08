from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from training_data import save_stripes_npz, tiny_spec

from cnnviz.archfile import dump_architecture
from cnnviz.bundle import load_bundle
from cnnviz.cli import main
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.settings import get_settings
from cnnviz.spec import ModelSpec

DIGITS_SPEC = ModelSpec((8, 8, 1), (Conv2DSpec(filters=4, kernel_size=3, activation="relu"),
                                    FlattenSpec(), DenseSpec(units=10, activation="softmax")),
                        name="small-digits")


@pytest.fixture
def digits_json(tmp_path: Path) -> Path:
    path = tmp_path / "small.json"
    path.write_text(dump_architecture(DIGITS_SPEC))
    return path


@pytest.fixture
def stripes_npz(tmp_path: Path) -> Path:
    return save_stripes_npz(tmp_path)


def test_json_report_is_the_last_stdout_line(
    digits_json: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["train", str(digits_json), "--dataset", "digits", "--epochs", "2", "--json",
                   "--learning-rate", "0.01"])
    captured = capsys.readouterr()
    assert status == 0
    report = json.loads(captured.out.strip().splitlines()[-1])
    assert set(report) == {"test_accuracy", "test_accuracy_interval", "test_images",
                           "test_loss", "epochs", "seconds", "samples_per_second", "history"}
    low, high = report["test_accuracy_interval"]
    assert low <= report["test_accuracy"] <= high and report["test_images"] == 360
    assert report["epochs"] == 2 and len(report["history"]["val_accuracy"]) == 2
    assert report["test_accuracy"] > 0.5 and report["samples_per_second"] > 0
    assert "epoch 1/2" in captured.err and "epoch 2/2" in captured.err
    assert "sparse_categorical_crossentropy" in captured.err


def test_data_is_resized_to_the_model_and_the_bundle_is_written(
    stripes_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wide = tiny_spec().__class__((12, 12, 3), tiny_spec().layers, name="wide")
    arch = tmp_path / "wide.json"
    arch.write_text(dump_architecture(wide))
    out = tmp_path / "bundle"
    status = main(["train", str(arch), "--dataset", str(stripes_npz), "--epochs", "1",
                   "--optimizer", "sgd", "--seed", "3", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    assert "8×8×1" in captured.err and "resized/converted to (12, 12, 3)" in captured.err
    assert captured.out.startswith("test accuracy ")
    loaded = load_bundle(out)
    assert loaded.spec == wide and loaded.class_names == ("0", "1")
    assert (out / "model.keras").is_file()


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["--dataset", "imagenet"], "neither a built-in dataset"),
        (["--dataset", "digits", "--validation-split", "0.8"], "validation split from 0 to 0.5"),
        (["--dataset", "digits", "--batch-size", "0"], "batch_size"),
        (["--dataset", "digits", "--learning-rate", "-1"], "learning rate above 0"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    digits_json: Path, arguments: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", str(digits_json), *arguments]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and err.startswith("cnnviz train: error:") and "Traceback" not in err


def test_output_that_does_not_fit_the_classes_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "five.json"
    path.write_text(dump_architecture(DIGITS_SPEC.replace_layers(
        [*DIGITS_SPEC.layers[:-1], DenseSpec(units=5, activation="softmax")])))
    assert main(["train", str(path), "--dataset", "digits", "--epochs", "1"]) == 2
    assert "Set the last Dense layer's units to 10" in capsys.readouterr().err


def test_epochs_over_the_host_limit_name_the_setting(
    digits_json: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CNNVIZ_MAX_EPOCHS", "3")
    get_settings.cache_clear()
    try:
        assert main(["train", str(digits_json), "--dataset", "digits", "--epochs", "4"]) == 2
    finally:
        get_settings.cache_clear()
    assert "CNNVIZ_MAX_EPOCHS" in capsys.readouterr().err


def test_keras_dataset_offline_is_a_clear_message(
    digits_json: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import keras

    def offline() -> None:
        raise OSError("network is unreachable")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    from cnnviz.data import datasets

    datasets._cached_builtin.cache_clear()
    assert main(["train", str(digits_json), "--dataset", "fashion_mnist"]) == 2
    err = capsys.readouterr().err
    assert "could not be downloaded" in err and "Traceback" not in err


def test_the_installed_command_runs_without_a_traceback_on_bad_input(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "cnnviz", "train", "--preset", "no-such", "--dataset", "digits"],
        capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr and "no-such" in completed.stderr
