"""A fine-tuning survives a reload: the two-phase chart and the phases' table come back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from app_session import finished_job, open_app, trained_on_digits
from streamlit.testing.v1 import AppTest
from training_data import block_conv

import ui.workspace
from cnnviz.bundle import load_bundle
from cnnviz.spec import ModelSpec
from cnnviz.store import Store, open_store
from cnnviz.train import FineTuneRecord
from ui.state import JOB_KEY, RESULT_KEY, RUNS_KEY, WORKSPACE_KEY
from ui.train.finetune import FineTuneJob

DIGITS_NET = ModelSpec.from_dict({
    "name": "digits-net", "input_shape": [8, 8, 1],
    "layers": [block_conv("block1_conv1"),
               {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
               block_conv("block2_conv1"),
               {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
               {"class_name": "Flatten", "config": {}},
               {"class_name": "Dense", "config": {"units": 10, "activation": "softmax"}}],
})


def _open_train_page(monkeypatch: pytest.MonkeyPatch, store: Store, token: str | None,
                     trained: bool) -> AppTest:
    monkeypatch.setattr(ui.workspace, "_process_store", lambda: store)
    monkeypatch.setattr(ui.workspace, "_browser_token", lambda: token)
    if not trained:
        return open_app("pages/2_Train.py", timeout=120)
    return open_app("pages/2_Train.py", DIGITS_NET, timeout=120,
                    trained=trained_on_digits(DIGITS_NET, seed=4))


def _phase_table(at: AppTest) -> object:
    return next(frame.value for frame in at.dataframe if "Trains from" in frame.value)


def _boundary(at: AppTest) -> float:
    chart = next(chart for chart in at.get("plotly_chart")
                 if json.loads(chart.proto.spec).get("layout", {}).get("shapes"))
    shapes = json.loads(chart.proto.spec)["layout"]["shapes"]
    (boundary,) = {shape["x0"] for shape in shapes if shape.get("line", {}).get("dash") == "dash"}
    return float(boundary)


def test_a_reload_shows_the_fine_tuning_with_its_boundary_and_phases(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    store = open_store(f"sqlite:///{tmp_path / 'cnnviz.db'}", tmp_path / "uploads")
    at = _open_train_page(monkeypatch, store, None, trained=True)
    at.number_input(key="finetune_head_epochs").set_value(2)
    at.number_input(key="finetune_tune_epochs").set_value(1)
    at.selectbox(key="finetune_tune_optimizer").set_value("adam")
    at.text_input(key="finetune_dense").set_value("16")
    at.run()
    job = finished_job(at, "finetune_start", FineTuneJob)
    before = _phase_table(at)
    assert _boundary(at) == 2
    workspace = at.session_state[WORKSPACE_KEY]
    record = at.session_state[RESULT_KEY].finetune  # what the page's bundle download writes
    assert record is not None and record == job.finetune_record()
    kept = load_bundle(store.run_weights(workspace.id, at.session_state[RUNS_KEY][-1].run_id)
                       or b"")  # what the workspace's download holds
    assert FineTuneRecord.from_dict(kept.finetune) == record
    token = workspace.token

    reloaded = _open_train_page(monkeypatch, store, token, trained=False)
    assert JOB_KEY not in reloaded.session_state  # a new session: only the store remembers
    after = _phase_table(reloaded)
    assert after.to_dict("list") == before.to_dict("list")  # type: ignore[attr-defined]
    assert list(after["Optimizer"])[1] == "Adam"  # type: ignore[index]
    assert list(after["Trains from"]) == ["head_pool", "block2_conv1"]  # type: ignore[index]
    assert list(after["Epochs"]) == [2, 1]  # type: ignore[index]
    assert _boundary(reloaded) == 2
    markdown = " ".join(str(element.value) for element in reloaded.markdown)
    assert "digits-net trained on digits" in markdown and "unfrozen from block2_conv1" in markdown
