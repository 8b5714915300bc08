"""An interrupted run goes on from its last kept epoch: the Train page offers it, the new
run starts from exactly those weights and trains the epochs that were left; a training
cut short after an epoch is kept as interrupted, one cut short before is removed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from app_session import finished_job, open_app
from training_data import save_stripes_npz, tiny_spec

import ui.train.job
import ui.workspace
from cnnviz.archfile import dump_architecture
from cnnviz.bundle import bundle_bytes
from cnnviz.data import load_dataset, load_upload
from cnnviz.keras_build import build_model
from cnnviz.spec import ModelSpec
from cnnviz.store import Store, open_store
from cnnviz.train import TrainingError, TrainingHooks, TrainingSettings
from ui.state import JOB_KEY
from ui.train.job import CONTINUES_KEY, RunRecorder, TrainingJob

SPEC = ModelSpec.from_dict({
    "name": "digits-small", "input_shape": [8, 8, 1],
    "layers": [{"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3,
                                                   "activation": "relu"}},
               {"class_name": "Flatten", "config": {}},
               {"class_name": "Dense", "config": {"units": 10, "activation": "softmax"}}],
})  # fmt: skip
# A learning rate so small that the trained weights stay where the training started.
SETTINGS = TrainingSettings(epochs=3, batch_size=32, learning_rate=1e-7, seed=5)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'cnnviz.db'}", tmp_path / "uploads")


def _interrupted_run(store: Store, workspace_id: int, weights: list[np.ndarray]) -> int:
    """A 3-epoch run on digits whose server went away after epoch 2, as the store keeps it."""
    digits = load_dataset("digits")
    run_id = store.start_run(
        workspace_id, architecture_json=dump_architecture(SPEC, indent=None),
        settings=SETTINGS.to_dict(), dataset_name="digits", class_names=digits.class_names,
        epochs_total=3, params=1234)
    model = build_model(SPEC, seed=0)
    model.set_weights(weights)
    store.record_epoch(run_id, history={"loss": [2.0, 1.5]}, epochs_completed=2,
                       weights=bundle_bytes(model, SPEC, dataset_name="digits",
                                            class_names=digits.class_names))
    store.interrupt_run(run_id)
    return run_id


def test_an_interrupted_run_continues_from_its_last_kept_epoch(
    monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    workspace = store.open_workspace(None)
    kept = build_model(SPEC, seed=9).get_weights()  # not the seeded start of SETTINGS
    run_id = _interrupted_run(store, workspace.id, kept)
    monkeypatch.setattr(ui.workspace, "_process_store", lambda: store)
    monkeypatch.setattr(ui.workspace, "_browser_token", lambda: workspace.token)
    at = open_app("pages/2_Train.py", SPEC, timeout=120)
    assert f"Run {run_id} (digits) was interrupted at epoch 3 of 3" in "".join(
        info.value for info in at.info)

    job = finished_job(at, f"train_continue_{run_id}", TrainingJob)
    assert job.settings.epochs == 1 and job.settings.seed == SETTINGS.seed
    assert job.initial_weights is not None
    for given, stored in zip(job.initial_weights, kept, strict=True):
        np.testing.assert_array_equal(given, stored)
    assert job.result is not None and job.result.epochs_completed == 1
    trained = job.result.model.get_weights()
    for ended, stored in zip(trained, kept, strict=True):
        np.testing.assert_allclose(ended, stored, atol=1e-4)  # it trained from them
    seeded = build_model(SPEC, seed=SETTINGS.seed).get_weights()
    assert any(not np.allclose(a, b, atol=1e-2) for a, b in zip(trained, seeded, strict=True))
    newest = store.runs(workspace.id)[-1]
    assert (newest.id, newest.status, newest.epochs_completed) == (
        job.recorder.run_id if job.recorder else None, "finished", 1)
    assert newest.settings[CONTINUES_KEY] == run_id
    assert f"Run {newest.id} continued it from epoch 2." in [c.value for c in at.caption]
    assert f"train_continue_{run_id}" not in [button.key for button in at.button]


def test_a_run_cut_short_after_an_epoch_is_kept_and_one_before_is_removed(
    store: Store,
) -> None:
    workspace = store.open_workspace(None)
    digits = load_dataset("digits")
    weights = build_model(SPEC, seed=0).get_weights()

    def recorder(continuable: bool = True) -> RunRecorder:
        return RunRecorder.begin(store, workspace.id, SPEC, digits, SETTINGS, 1234,
                                 continuable=continuable)

    after_an_epoch, before, fine_tuning = recorder(), recorder(), recorder(continuable=False)
    after_an_epoch.epoch(1, weights, {"loss": [2.0]})
    fine_tuning.epoch(1, weights, {"loss": [2.0]})
    for cut in (after_an_epoch, before, fine_tuning):
        cut.end_early()
    (kept,) = store.runs(workspace.id)
    assert (kept.id, kept.status, kept.epochs_completed) == (
        after_an_epoch.run_id, "interrupted", 1)


class _LostAfterOneEpoch:
    """A backend whose machine goes away after the first epoch, as a lost Ray node does."""

    name = "ray"

    def train(self, spec: ModelSpec, dataset: object, settings: TrainingSettings,
              hooks: TrainingHooks, **_: object) -> None:
        assert hooks.epoch_weights is not None
        hooks.epoch_weights(1, build_model(spec, seed=3).get_weights())
        raise TrainingError("The training was lost: the Ray node at 127.0.0.3 stopped.")


def test_a_training_lost_after_an_epoch_says_it_can_be_continued(
    monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    workspace = store.open_workspace(None)
    monkeypatch.setattr(ui.workspace, "_process_store", lambda: store)
    monkeypatch.setattr(ui.workspace, "_browser_token", lambda: workspace.token)
    monkeypatch.setattr(ui.train.job, "training_backend", _LostAfterOneEpoch)
    at = open_app("pages/2_Train.py", SPEC, timeout=120)
    at.button(key="train_start").click().run()
    job = at.session_state[JOB_KEY]
    job.thread.join(120)
    at.run()
    (run,) = store.runs(workspace.id)
    assert (job.state, run.status, run.epochs_completed) == ("failed", "interrupted", 1)
    message = " ".join(error.value for error in at.error)
    assert "127.0.0.3" in message and f"*Continue run {run.id}* under Compare runs" in message
    assert at.button(key=f"train_continue_{run.id}").label.startswith(f"Continue run {run.id}")


def test_an_interrupted_run_on_a_kept_upload_continues_on_that_upload(
    monkeypatch: pytest.MonkeyPatch, store: Store, tmp_path: Path
) -> None:
    workspace = store.open_workspace(None)
    data = save_stripes_npz(tmp_path).read_bytes()
    content_hash = store.keep_upload(workspace.id, "stripes.npz", data)
    spec, classes = tiny_spec(), ["left", "right"]
    run_id = store.start_run(
        workspace.id, architecture_json=dump_architecture(spec, indent=None),
        settings=TrainingSettings(epochs=2, batch_size=16).to_dict(), dataset_name="stripes",
        class_names=classes, epochs_total=2, params=1234, upload_hash=content_hash)
    store.record_epoch(run_id, history={"loss": [0.7]}, epochs_completed=1,
                       weights=bundle_bytes(build_model(spec, seed=9), spec,
                                            dataset_name="stripes", class_names=classes))
    store.interrupt_run(run_id)
    monkeypatch.setattr(ui.workspace, "_process_store", lambda: store)
    monkeypatch.setattr(ui.workspace, "_browser_token", lambda: workspace.token)
    at = open_app("pages/2_Train.py", spec, timeout=120)
    job = finished_job(at, f"train_continue_{run_id}", TrainingJob)
    uploaded = load_upload("stripes.npz", data, max_bytes=len(data))
    assert job.dataset.name == "stripes" and job.settings.epochs == 1
    np.testing.assert_array_equal(job.dataset.x_train, uploaded.x_train)
    assert store.runs(workspace.id)[-1].upload_hash == content_hash  # it can go on again
