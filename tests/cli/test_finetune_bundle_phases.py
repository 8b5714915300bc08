"""A fine-tuned bundle carries its phases: written by `cnnviz finetune --out`, read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from training_data import block_conv

from cnnviz.bundle import bundle_bytes, load_bundle, write_bundle_folder
from cnnviz.cli import main
from cnnviz.keras_build import build_model
from cnnviz.spec import ModelSpec
from cnnviz.train import FineTuneRecord

BASE_NET = ModelSpec.from_dict({
    "name": "bars-net", "input_shape": [8, 8, 1],
    "layers": [block_conv("block1_conv1", filters=3),
               {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
               block_conv("block2_conv1", filters=3), {"class_name": "Flatten", "config": {}},
               {"class_name": "Dense", "config": {"units": 2, "activation": "softmax"}}],
})


@pytest.fixture
def bars(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    labels = np.arange(48) % 2
    images = rng.integers(0, 60, size=(48, 8, 8), dtype=np.uint8)
    images[labels == 0, :, :4] += 150
    images[labels == 1, :, 4:] += 150
    path = tmp_path / "bars.npz"
    np.savez(path, x_train=images[:32], y_train=labels[:32], x_test=images[32:],
             y_test=labels[32:])
    return path


def test_cnnviz_finetune_out_writes_the_phases_into_the_bundle(
    bars: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trained = tmp_path / "trained"
    write_bundle_folder(trained, build_model(BASE_NET, seed=2), BASE_NET, dataset_name="bars",
                        class_names=("left", "right"))
    out = tmp_path / "tuned"
    status = main(["finetune", str(trained), "--dataset", str(bars), "--unfreeze-from",
                   "block2_conv1", "--head-epochs", "1", "--finetune-epochs", "1", "--dense", "4",
                   "--finetune-optimizer", "adam", "--out", str(out), "--json"])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out.strip().splitlines()[-1])
    loaded = load_bundle(out)
    record = FineTuneRecord.from_dict(loaded.finetune)
    assert record is not None
    assert record.unfreeze_from == "block2_conv1" and record.planned_epochs == (1, 1)
    assert record.boundary_epoch == report["boundary_epoch"] == 1
    assert [vars(phase) for phase in record.phases] == report["phases"]
    assert record.phases[1].optimizer == "adam"
    assert record.base == "bars-net trained on bars"
    # Keras's own count of the fine-tuned model is phase 2's split.
    tune = record.phases[1]
    assert tune.trainable_params == sum(int(np.prod(w.shape))
                                        for w in loaded.model.trainable_weights)
    assert tune.non_trainable_params == sum(int(np.prod(w.shape))
                                            for w in loaded.model.non_trainable_weights)


def test_an_ordinary_bundle_has_no_phases_and_a_zip_keeps_them() -> None:
    model = build_model(BASE_NET, seed=1)
    plain = load_bundle(bundle_bytes(model, BASE_NET, dataset_name="bars",
                                     class_names=("left", "right")))
    assert plain.finetune is None and FineTuneRecord.from_dict(plain.finetune) is None
    phases = {"base": "x", "unfreeze_from": "block2_conv1", "planned_epochs": [1, 2],
              "phases": []}
    kept = load_bundle(bundle_bytes(model, BASE_NET, dataset_name="bars",
                                    class_names=("left", "right"), finetune=phases))
    assert kept.finetune == phases
