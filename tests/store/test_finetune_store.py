"""A fine-tuning's phases kept with its run, on SQLite and on PostgreSQL."""

from __future__ import annotations

import io
import json
import zipfile

from cnnviz.archfile import dump_architecture
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.spec import ModelSpec
from cnnviz.store import Store
from cnnviz.store.runs import training_run
from cnnviz.train import FINETUNE_KEY, FineTuneRecord, PhaseReport

RECORD = FineTuneRecord(
    base="digits-net trained on digits", unfreeze_from="block2_conv1", planned_epochs=(2, 3),
    phases=(PhaseReport("head", "rmsprop", 1e-3, 2, 1290, 296, 0.75, "head_pool"),
            PhaseReport("fine-tune", "adam", 1e-5, 3, 1438, 40, 0.8125, "block2_conv1")))

TUNED = ModelSpec((8, 8, 1), (Conv2DSpec(filters=4, kernel_size=3, name="block2_conv1"),
                              FlattenSpec(name="head_pool"),
                              DenseSpec(units=2, activation="softmax", name="head_output")),
                  name="digits-net-finetuned")


def start_run(store: Store, workspace_id: int, epochs: int, *, seed: int) -> int:
    return store.start_run(workspace_id, architecture_json=dump_architecture(TUNED),
                           settings={"epochs": epochs, "seed": seed}, dataset_name="digits",
                           class_names=["0", "1"], epochs_total=epochs, params=1234)


def _finish(store: Store, run_id: int, settings: dict[str, object] | None) -> None:
    store.finish_run(run_id, status="finished", history={"loss": [1.0, 0.8, 0.6, 0.5, 0.4]},
                     epochs_completed=5, test_accuracy=0.8125, test_loss=0.4, test_images=16,
                     confusion=[[8, 0], [3, 5]], seconds_per_epoch=1.0, weights=b"bundle",
                     settings=settings)


def test_the_phases_come_back_with_the_run_after_a_reopen(store: Store) -> None:
    workspace = store.open_workspace(None)
    run_id = start_run(store, workspace.id, 5, seed=3)
    _finish(store, run_id, {"epochs": 5, "seed": 3, FINETUNE_KEY: RECORD.to_dict()})
    (stored,) = store.runs(workspace.id)
    run = training_run(stored)
    assert run is not None and run.finetune == RECORD
    assert run.finetune.boundary_epoch == 2 and run.finetune.total_epochs == 5
    assert run.settings.seed == 3 and run.settings.epochs == 5  # the training's own settings
    exported = zipfile.ZipFile(io.BytesIO(store.export_zip(workspace.id)))
    summary = json.loads(exported.read("workspace.json"))
    assert summary["runs"][0]["settings"][FINETUNE_KEY]["unfreeze_from"] == "block2_conv1"


def test_an_ordinary_run_and_a_damaged_record_read_as_no_fine_tuning(store: Store) -> None:
    workspace = store.open_workspace(None)
    ordinary = start_run(store, workspace.id, 5, seed=0)
    _finish(store, ordinary, None)
    damaged = start_run(store, workspace.id, 5, seed=0)
    broken = RECORD.to_dict()
    broken["phases"][1]["trainable_params"] = "many"
    _finish(store, damaged, {"epochs": 5, "seed": 0, FINETUNE_KEY: broken})
    runs = [training_run(stored) for stored in store.runs(workspace.id)]
    assert [run.finetune if run else "missing" for run in runs] == [None, None]
    assert runs[0] is not None and runs[0].settings.epochs == 5  # settings kept as started
