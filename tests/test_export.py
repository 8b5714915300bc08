from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cnnviz.export import keras_code, layer_call
from cnnviz.layers import Conv2DSpec, DenseSpec, MaxPooling2DSpec, ZeroPadding2DSpec
from cnnviz.presets import PRESETS
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec

_REPORT = """
print("JSON:" + json.dumps({
    "shapes": [list(layer.output.shape) for layer in model.layers],
    "trainable": sum(int(w.numpy().size) for w in model.trainable_weights),
    "non_trainable": sum(int(w.numpy().size) for w in model.non_trainable_weights),
    "names": [layer.name for layer in model.layers],
}))
"""


def _run_exported(specs: list[ModelSpec]) -> list[dict[str, object]]:
    script = "import json\n"
    for spec in specs:
        code = keras_code(spec).replace("model.summary()\n", "")
        script += code + _REPORT
    completed = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [
        json.loads(line[5:]) for line in completed.stdout.splitlines() if line.startswith("JSON:")
    ]


def test_only_non_default_arguments_are_written() -> None:
    layer = Conv2DSpec(filters=32, kernel_size=3, activation="relu")
    assert layer_call(layer) == 'layers.Conv2D(32, (3, 3), activation="relu")'


def test_required_arguments_come_first_and_name_last() -> None:
    layer = DenseSpec(units=10, name="classifier", use_bias=False)
    assert layer_call(layer) == 'layers.Dense(10, use_bias=False, name="classifier")'


def test_nested_padding_is_written_as_tuples() -> None:
    layer = ZeroPadding2DSpec(padding=((1, 2), (3, 4)))
    assert layer_call(layer) == "layers.ZeroPadding2D(padding=((1, 2), (3, 4)))"


def test_pooling_with_defaults_has_no_arguments() -> None:
    assert layer_call(MaxPooling2DSpec()) == "layers.MaxPooling2D()"


def test_script_names_input_shape_and_model() -> None:
    code = keras_code(PRESETS["chollet-mnist-convnet"])
    assert "keras.Input(shape=(28, 28, 1))" in code
    assert 'name="chollet-mnist-convnet"' in code
    assert code.rstrip().endswith("model.summary()")


@pytest.mark.slow
def test_exported_code_rebuilds_every_preset_exactly() -> None:
    specs = list(PRESETS.values())
    reports = _run_exported(specs)
    assert len(reports) == len(specs)
    for spec, report in zip(specs, reports, strict=True):
        summary = summarize(spec)
        assert report["shapes"] == [list(layer.keras_output_shape) for layer in summary.layers]
        assert report["trainable"] == summary.trainable_params
        assert report["non_trainable"] == summary.non_trainable_params
