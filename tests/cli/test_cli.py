from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnviz.archfile import dump_architecture
from cnnviz.cli import main
from cnnviz.presets import PRESETS


def test_presets_lists_every_name_with_its_total(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(PRESETS)
    assert "keras-cifar10-cnn" in lines[2] and lines[2].endswith("1,250,858")


def test_summary_json_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--preset", "chollet-mnist-convnet", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {
        "name", "input_shape", "layers", "total_params", "trainable_params",
        "non_trainable_params",
    }  # fmt: skip
    assert report["total_params"] == 93_322
    assert report["layers"][0] == {
        "name": "conv2d",
        "class_name": "Conv2D",
        "output_shape": [None, 26, 26, 32],
        "params": 320,
        "trainable_params": 320,
        "non_trainable_params": 0,
    }


def test_summary_table_shows_formulas_and_keras_totals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["summary", "--preset", "cifar10-cnn-2filters"]) == 0
    out = capsys.readouterr().out
    assert "(5·5·3 + 1)·2 = 152" in out
    assert "Total params: 1,241,474 (4.74 MB)" in out


def test_summary_reads_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "model.json"
    path.write_text(dump_architecture(PRESETS["lenet-5"]))
    assert main(["summary", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_params"] == 61_706


def test_code_prints_keras_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["code", "--preset", "tiny-vgg"]) == 0
    assert "layers.Conv2D(10, (3, 3), activation=\"relu\")" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('{"input_shape": [4, 4, 1], "layers": [{"class_name": "Conv2D", '
         '"config": {"filters": 3, "kernel_size": 5, "name": "c1"}}]}', "Layer 1 (Conv2D 'c1')"),
        ('{"input_shape": [28, 28, 1], "layers": [{"class_name": "Lambda"}]}', "Lambda"),
    ],
)
def test_bad_files_exit_2_with_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["summary", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err
    assert "Traceback" not in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "no/such/file.json"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_unknown_preset_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["code", "--preset", "nope"]) == 2
    assert "is not a preset" in capsys.readouterr().err


def test_python_dash_m_runs_the_cli() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "cnnviz", "summary", "--preset", "lenet-5", "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert json.loads(completed.stdout)["total_params"] == 61_706
