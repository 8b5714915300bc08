"""Epoch checkpoints in the workspace store, on SQLite and on a real PostgreSQL server:
kept with their run, read back byte for byte, gone with it, and chosen within the bound."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from run_rows import start_run

from cnnviz.bundle import (
    bundle_bytes,
    bundle_epochs,
    load_bundle,
    set_weights_from_npz,
    weights_npz,
)
from cnnviz.data import load_dataset
from cnnviz.keras_build import build_model
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.spec import ModelSpec
from cnnviz.store import SCHEMA_VERSION, Store, migrate, open_store
from cnnviz.store.schema import current_version
from cnnviz.train import epoch_plan
from ui.train.job import RunRecorder

SPEC = ModelSpec((8, 8, 1), (Conv2DSpec(filters=2, kernel_size=3), FlattenSpec(),
                             DenseSpec(units=10, activation="softmax")), name="tiny")


def _start(store: Store, workspace_id: int, epochs: int = 3) -> int:
    return start_run(store, workspace_id, epochs, seed=4)


def test_epoch_checkpoints_round_trip_and_survive_a_new_server(
        store: Store, store_url: str, tmp_path: Path) -> None:
    owner = store.open_workspace(None).id
    run = _start(store, owner)
    first, third = bytes(range(256)) * 4, b"\x00third\xff" * 100
    store.record_epoch(run, history={"loss": [1.0]}, epochs_completed=1, checkpoint=first)
    store.record_epoch(run, history={"loss": [1.0, 0.8]}, epochs_completed=2)
    store.keep_epoch_weights(run, 3, third)
    again = open_store(store_url, tmp_path / "uploads")  # another process, after a restart
    assert again.epoch_checkpoints(owner, run) == {1: len(first), 3: len(third)}
    assert again.epoch_weights(owner, run, 1) == first
    assert again.epoch_weights(owner, run, 3) == third
    assert again.epoch_weights(owner, run, 2) is None


def test_a_run_s_epochs_belong_to_its_workspace_only(store: Store) -> None:
    owner, other = store.open_workspace(None).id, store.open_workspace(None).id
    run = _start(store, owner)
    store.keep_epoch_weights(run, 1, b"secret")
    assert store.epoch_checkpoints(other, run) == {}
    assert store.epoch_weights(other, run, 1) is None


def test_epochs_count_in_the_quota_and_go_with_their_run(store: Store) -> None:
    owner = store.open_workspace(None).id
    kept, dropped = _start(store, owner), _start(store, owner)
    store.keep_epoch_weights(kept, 1, b"x" * 500)
    store.keep_epoch_weights(dropped, 1, b"y" * 300)
    assert store.usage_bytes(owner) == 800
    store.discard_run(dropped)
    assert store.usage_bytes(owner) == 500
    store.delete_workspace(owner)
    with store.engine.connect() as db:
        assert db.execute(sa.text("SELECT COUNT(*) FROM run_epochs")).scalar_one() == 0


def test_the_exported_bundle_carries_the_epochs(store: Store) -> None:
    owner = store.open_workspace(None).id
    run = _start(store, owner, epochs=2)
    model = build_model(SPEC, seed=1)
    epoch_one = weights_npz(build_model(SPEC, seed=2), SPEC)
    store.keep_epoch_weights(run, 1, epoch_one)
    store.finish_run(run, status="finished", history={"loss": [1.0, 0.5]}, epochs_completed=2,
                     test_accuracy=0.5, test_loss=1.0, test_images=10, confusion=[[1]],
                     seconds_per_epoch=0.1,
                     weights=bundle_bytes(model, SPEC, dataset_name="digits",
                                          class_names=[str(n) for n in range(10)]))
    with zipfile.ZipFile(io.BytesIO(store.export_zip(owner))) as archive:
        bundle = archive.read(f"run-{run}.zip")
    loaded = load_bundle(bundle)  # still an ordinary bundle
    assert all(np.array_equal(a, b) for a, b in zip(loaded.model.get_weights(),
                                                    model.get_weights(), strict=True))
    epochs = bundle_epochs(bundle, loaded.spec)
    assert (epochs.epochs, epochs.epochs_total, epochs.initial_seed) == ((1,), 2, 4)
    assert epochs.read(1) == epoch_one


def test_a_version_5_database_gains_the_epoch_table(store_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(store_url)
    migrate(engine, target=5)
    assert "run_epochs" not in sa.inspect(engine).get_table_names()
    store = open_store(store_url, tmp_path / "uploads")
    with store.engine.connect() as db:
        assert current_version(db) == SCHEMA_VERSION >= 6
    assert "run_epochs" in sa.inspect(store.engine).get_table_names()
    owner = store.open_workspace(None).id
    store.keep_epoch_weights(_start(store, owner), 1, b"w")


def test_the_recorder_keeps_the_planned_epochs_within_the_bound(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'cnnviz.db'}")
    owner = store.open_workspace(None).id
    dataset = load_dataset("digits")
    one_epoch = len(weights_npz(build_model(SPEC, seed=0), SPEC))
    bound = 3 * one_epoch + one_epoch // 2  # room for three epochs and a half
    recorder = RunRecorder(store, owner, _start(store, owner, epochs=10), SPEC, dataset,
                           epochs_total=10, bound_bytes=bound)
    sent = {}
    for epoch in range(1, 11):
        weights = build_model(SPEC, seed=epoch).get_weights()
        sent[epoch] = weights
        recorder.epoch(epoch, weights, {"loss": [1.0] * epoch})
    assert recorder.problem is None
    kept = store.epoch_checkpoints(owner, recorder.run_id)
    assert tuple(kept) == (1, 6, 10) == epoch_plan(10, one_epoch, bound).kept
    assert sum(kept.values()) <= bound
    model = build_model(SPEC)
    for epoch in kept:
        set_weights_from_npz(model, SPEC, store.epoch_weights(owner, recorder.run_id, epoch)
                             or b"")
        assert all(np.array_equal(loaded, given) for loaded, given
                   in zip(model.get_weights(), sent[epoch], strict=True))
    assert json.loads(json.dumps(store.runs(owner)[0].history))["loss"][-1] == 1.0
