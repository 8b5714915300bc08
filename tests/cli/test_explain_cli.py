from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_run import run_cli
from PIL import Image

from cnnviz.bundle import write_bundle_folder
from cnnviz.data import to_model_input
from cnnviz.featuremaps import extract_activations
from cnnviz.keras_build import build_model
from cnnviz.presets import get_preset
from ui.featuremaps.model import RANDOM_SEED

SPEC = get_preset("chollet-mnist-convnet")


@pytest.fixture
def disc(tmp_path: Path) -> Path:
    yy, xx = np.mgrid[:40, :40]
    pixels = np.where((yy - 20) ** 2 + (xx - 20) ** 2 < 12**2, 230, 10).astype(np.uint8)
    path = tmp_path / "disc.png"
    Image.fromarray(pixels).save(path)
    return path


def _explain(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return run_cli(capsys, "explain", *argv)


def _keras_output(model: object, image: Path, layer: int) -> np.ndarray:
    x = to_model_input(Image.open(image), SPEC.input_shape)
    return extract_activations(model, x)[layer].output


def test_json_holds_kerass_value_and_products_that_sum_to_it(
    disc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = _explain(capsys, "--preset", SPEC.name, "--image", str(disc),
                              "--layer", "conv2d", "--at", "10,12,5", "--json")
    assert status == 0
    report = json.loads(out)
    # The Feature maps page's random weights: the same model, the same numbers.
    expected = _keras_output(build_model(SPEC, seed=RANDOM_SEED), disc, 0)[10, 12, 5]
    assert report["value"] == pytest.approx(float(expected))
    assert report["layer"] == "conv2d" and report["class_name"] == "Conv2D"
    assert report["at"] == [10, 12, 5] and report["activation"] == "relu"
    assert len(report["terms"]) == 9 and not report["summarised"]
    assert sum(t["product"] for t in report["terms"]) + report["bias"] == pytest.approx(
        report["pre_activation"], abs=1e-12)
    assert report["window"]["rows"] == [10, 12] and report["window"]["cols"] == [12, 14]
    assert report["activated"] == pytest.approx(report["value"], abs=1e-6)


def test_large_windows_are_summarised_unless_full(
    disc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--preset", SPEC.name, "--image", str(disc), "--layer", "conv2d_1", "--at",
            "3,4,7", "--json"]
    _, out, _ = _explain(capsys, *argv)
    summary = json.loads(out)
    assert summary["summarised"] and summary["terms_count"] == 3 * 3 * 32
    assert len(summary["terms"]) < summary["terms_count"]
    shown = sum(t["product"] for t in summary["terms"]) + summary["rest"]["sum"]
    assert shown + summary["bias"] == pytest.approx(summary["pre_activation"], abs=1e-9)
    assert sum(c["sum"] for c in summary["channels"]) == pytest.approx(shown, abs=1e-9)
    _, out, _ = _explain(capsys, *argv, "--full")
    assert len(json.loads(out)["terms"]) == 3 * 3 * 32


def test_text_writes_the_arithmetic_out(disc: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _explain(capsys, "--preset", SPEC.name, "--image", str(disc),
                              "--layer", "max_pooling2d", "--at", "4,4,0")
    assert status == 0
    assert "untrained: random weights, seed 0" in out
    assert "max(" in out and "Window: rows 8–9, columns 8–9 of conv2d" in out
    assert "Receptive field: rows 8–11, columns 8–11 of the input image (4×4" in out


def test_a_bundle_explains_with_its_trained_weights(
    tmp_path: Path, disc: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = build_model(SPEC, seed=7)
    folder = tmp_path / "bundle"
    write_bundle_folder(folder, model, SPEC, dataset_name="digits",
                        class_names=[str(i) for i in range(10)], test_accuracy=0.5)
    status, out, _ = _explain(capsys, str(folder), "--image", str(disc), "--layer", "dense_1",
                              "--at", "3", "--json")
    assert status == 0
    report = json.loads(out)
    assert report["value"] == pytest.approx(float(_keras_output(model, disc, -1)[3]))
    assert report["weights"].startswith("trained on digits")


@pytest.mark.parametrize(("argv", "message"), [
    (["--layer", "nope", "--at", "0,0"], "Received: layer='nope'"),
    (["--layer", "conv2d", "--at", "99,0,0"], "row 0–25, column 0–25, channel 0–31"),
    (["--layer", "conv2d", "--at", "a,b"], "--at expects whole numbers"),
    (["--layer", "conv2d", "--at", "1,2,3,4"], "--at expects 1 to 3 numbers"),
])  # fmt: skip
def test_bad_layer_or_position_exits_2_with_one_line(
    disc: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = _explain(capsys, "--preset", SPEC.name, "--image", str(disc), *argv)
    assert status == 2 and out == ""
    assert err.startswith("cnnviz explain: error:") and message in err
    assert len(err.strip().splitlines()) == 1
