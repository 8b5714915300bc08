from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_run import run_cli
from PIL import Image

import cnnviz.settings
from cnnviz.archfile import dump_architecture
from cnnviz.bundle import bundle_bytes
from cnnviz.cli.featuremaps import mosaic_file_name
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset

SPEC = get_preset("chollet-mnist-convnet")
SPATIAL = ["01_conv2d.png", "02_max_pooling2d.png", "03_conv2d_1.png",
           "04_max_pooling2d_1.png", "05_conv2d_2.png"]  # fmt: skip


@pytest.fixture
def circle(tmp_path: Path) -> Path:
    image = Image.new("RGB", (64, 48), (20, 30, 160))
    pixels = np.asarray(image).copy()
    yy, xx = np.mgrid[:48, :64]
    pixels[(yy - 24) ** 2 + (xx - 32) ** 2 < 15**2] = (240, 200, 20)
    path = tmp_path / "circle.png"
    Image.fromarray(pixels).save(path)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "featuremaps", *argv)


def test_preset_writes_a_mosaic_per_spatial_layer_and_predictions(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "maps"
    status, stdout, _ = _run(capsys, "--preset", SPEC.name, "--image", str(circle),
                             "--out", str(out))
    assert status == 0 and "wrote 5 mosaics" in stdout
    assert sorted(p.name for p in out.iterdir()) == sorted([*SPATIAL, "predictions.json"])
    for name in SPATIAL:
        assert Image.open(out / name).format == "PNG"
    report = json.loads((out / "predictions.json").read_text())
    assert report["weights"].startswith("untrained")
    assert [layer["name"] for layer in report["layers"]] == list(SPEC.layer_names())
    assert report["layers"][0]["output_shape"] == [None, 26, 26, 32]
    probabilities = [entry["probability"] for entry in report["predictions"]]
    assert len(probabilities) == 10 and np.isclose(sum(probabilities), 1.0)
    assert probabilities == sorted(probabilities, reverse=True)


def test_architecture_file_gives_the_same_maps_as_the_preset(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.json"
    path.write_text(dump_architecture(SPEC))
    assert _run(capsys, str(path), "--image", str(circle), "--out", str(tmp_path / "a"))[0] == 0
    assert _run(capsys, "--preset", SPEC.name, "--image", str(circle),
                "--out", str(tmp_path / "b"))[0] == 0
    for name in SPATIAL:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def _bundle(model: Any) -> bytes:
    names = [f"digit {i}" for i in range(10)]
    return bundle_bytes(model, SPEC, dataset_name="digits", class_names=names, test_accuracy=0.9)


@pytest.mark.parametrize("form", ["zip", "folder"])
def test_a_bundle_runs_with_its_weights_and_class_names(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    model = build_model(SPEC, seed=7)
    data = _bundle(model)
    source = tmp_path / "model.zip"
    source.write_bytes(data)
    if form == "folder":
        source = tmp_path / "bundle"
        zipfile.ZipFile(io.BytesIO(data)).extractall(source)
    status, _, _ = _run(capsys, str(source), "--image", str(circle), "--out", str(tmp_path / "o"))
    assert status == 0
    report = json.loads((tmp_path / "o" / "predictions.json").read_text())
    assert report["weights"] == "trained on digits, test accuracy 90.0%"
    from cnnviz.data import decode_image, to_model_input

    x = to_model_input(decode_image(circle.read_bytes()), SPEC.input_shape)
    expected = model.predict(x[np.newaxis], verbose=0)[0]
    best = report["predictions"][0]
    assert best["class_name"] == f"digit {int(np.argmax(expected))}"
    assert np.isclose(best["probability"], expected.max(), atol=1e-6)


def test_a_folder_that_is_not_a_bundle_says_what_it_needs(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _run(capsys, str(tmp_path), "--image", str(circle), "--out", str(tmp_path))
    assert status == 2 and "architecture.json" in err and "Traceback" not in err


def test_layer_names_become_safe_file_names() -> None:
    assert mosaic_file_name(0, "conv2d") == "01_conv2d.png"
    assert mosaic_file_name(11, "../a b") == "12_a_b.png"


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.png", "0 bytes"),
        (b"not an image at all", "notes.png", "not an image"),
        (None, "truncated.png", "truncated or damaged"),
        ("TIFF", "scan.tif", "not accepted"),
    ],
)
def test_bad_images_exit_2_with_one_clear_line(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str],
    content: bytes | str | None, name: str, message: str,
) -> None:
    path = tmp_path / name
    if content is None:
        path.write_bytes(circle.read_bytes()[:200])
    elif isinstance(content, str):
        Image.open(circle).save(path, format=content)
    else:
        path.write_bytes(content)
    status, _, err = _run(capsys, "--preset", SPEC.name, "--image", str(path),
                          "--out", str(tmp_path / "o"))
    assert status == 2 and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_a_png_with_a_jpeg_name_is_read_by_its_content(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    renamed = tmp_path / "photo.jpg"
    renamed.write_bytes(circle.read_bytes())
    assert _run(capsys, "--preset", SPEC.name, "--image", str(renamed),
                "--out", str(tmp_path / "o"))[0] == 0


def _limit(monkeypatch: pytest.MonkeyPatch, **limits: int) -> None:
    settings = dataclasses.replace(cnnviz.settings.Settings(), **limits)
    monkeypatch.setattr(cnnviz.settings, "get_settings", lambda: settings)


def test_too_many_pixels_is_refused_before_decoding(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _limit(monkeypatch, max_image_pixels=1000)
    status, _, err = _run(capsys, "--preset", SPEC.name, "--image", str(circle),
                          "--out", str(tmp_path / "o"))
    assert status == 2 and "3,072 pixels" in err and "limit" in err


def test_feature_maps_over_the_host_limit_are_refused(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _limit(monkeypatch, max_activation_bytes=10_000)
    status, _, err = _run(capsys, "--preset", SPEC.name, "--image", str(circle),
                          "--out", str(tmp_path / "o"))
    assert status == 2 and "CNNVIZ_MAX_ACTIVATION_BYTES" in err


def test_missing_image_and_file_as_out_are_refused(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = _run(capsys, "--preset", SPEC.name, "--image", str(tmp_path / "no.png"),
                          "--out", str(tmp_path / "o"))
    assert status == 2 and "does not exist" in err
    status, _, err = _run(capsys, "--preset", SPEC.name, "--image", str(circle),
                          "--out", str(circle))
    assert status == 2 and "is a file" in err


def test_an_input_of_four_channels_is_refused_clearly(
    tmp_path: Path, circle: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = dataclasses.replace(SPEC, input_shape=(28, 28, 4))
    path = tmp_path / "four.json"
    path.write_text(dump_architecture(spec))
    status, _, err = _run(capsys, str(path), "--image", str(circle), "--out", str(tmp_path / "o"))
    assert status == 2 and "1 or 3 channels" in err
