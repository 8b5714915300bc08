"""An uploaded dataset is kept with the participant's workspace, and each run trained on it
records its content hash, so that the run's data can be found again (AppTest, Train page)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from app_session import finished_job
from streamlit.testing.v1 import AppTest

import ui.workspace
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.settings import get_settings
from cnnviz.spec import ModelSpec
from cnnviz.store import Store, open_store
from ui.state import SPEC_KEY, WORKSPACE_KEY
from ui.train.data import UPLOAD
from ui.train.job import TrainingJob

ROOT = Path(__file__).resolve().parents[2]
SMALL = ModelSpec((8, 8, 1), (Conv2DSpec(filters=4, kernel_size=3, activation="relu"),
                              FlattenSpec(), DenseSpec(units=10, activation="softmax")),
                  name="small-digits")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    made = open_store(f"sqlite:///{tmp_path / 'cnnviz.db'}", tmp_path / "uploads")
    monkeypatch.setattr(ui.workspace, "_process_store", lambda: made)
    monkeypatch.setattr(ui.workspace, "_browser_token", lambda: None)
    get_settings.cache_clear()
    yield made
    get_settings.cache_clear()


def _npz() -> bytes:
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    np.savez(buffer, x_train=rng.integers(0, 255, (60, 8, 8), dtype=np.uint8),
             y_train=np.arange(60) % 10, x_test=rng.integers(0, 255, (20, 8, 8), dtype=np.uint8),
             y_test=np.arange(20) % 10)
    return buffer.getvalue()


def _upload_and_train(data: bytes) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.session_state[SPEC_KEY] = SMALL
    at.run()
    at.switch_page("pages/2_Train.py").run()
    at.selectbox(key="train_dataset").set_value(UPLOAD).run()
    at.file_uploader(key="train_upload").set_value(
        ("my-digits.npz", data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    at.number_input(key="train_epochs").set_value(1).run()
    finished_job(at, "train_start", TrainingJob)
    return at


def test_a_run_on_an_uploaded_dataset_keeps_its_data_by_content_hash(store: Store) -> None:
    data = _npz()
    at = _upload_and_train(data)
    workspace = at.session_state[WORKSPACE_KEY]
    (run,) = store.runs(workspace.id)
    assert run.status == "finished" and run.dataset_name == "my-digits"
    assert run.upload_hash == hashlib.sha256(data).hexdigest()
    assert store.upload_data(workspace.id, run.upload_hash) == data  # found again
    assert store.usage_bytes(workspace.id) >= len(data) + run.weights_bytes


def test_an_upload_over_the_workspace_quota_is_used_but_not_kept(
    store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CNNVIZ_WORKSPACE_QUOTA_BYTES", "1000")
    get_settings.cache_clear()
    data = _npz()
    at = _upload_and_train(data)
    notes = " ".join(info.value for info in at.info)
    assert "my-digits.npz is used in this session but not kept in your workspace" in notes
    assert "workspace_quota_bytes" in notes
    workspace = at.session_state[WORKSPACE_KEY]
    assert store.upload_data(workspace.id, hashlib.sha256(data).hexdigest()) is None
    (run,) = store.runs(workspace.id)  # the workspace was empty: this run is still kept
    assert run.upload_hash is None
