"""The Train page's fine-tuning through AppTest: base, head, freeze point, both phases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from app_session import finished_job, open_app, trained_on_digits
from streamlit.testing.v1 import AppTest
from training_data import two_block_classifier

from cnnviz.keras_build import build_model
from ui.state import RUNS_KEY, TRAINED_KEY
from ui.train.finetune import FineTuneJob

DIGITS_NET = two_block_classifier("digits-net", classes=10)


def _train_page(monkeypatch: pytest.MonkeyPatch, keras_home: Path) -> AppTest:
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    return open_app("pages/2_Train.py", DIGITS_NET, timeout=120,
                    trained=trained_on_digits(DIGITS_NET, seed=4))


def _texts(elements) -> str:  # type: ignore[no-untyped-def]
    return " ".join(str(element.value) for element in elements)


def test_the_trained_model_is_fine_tuned_in_two_phases_and_kept_as_a_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _train_page(monkeypatch, tmp_path)
    base = at.selectbox(key="finetune_base")
    assert base.options[0].startswith("This session's trained model: digits-net")
    assert at.selectbox(key="finetune_unfreeze_digits-net").value == "block2_conv1"
    assert at.selectbox(key="finetune_tune_optimizer").value == "rmsprop"
    assert at.number_input(key="finetune_tune_rate").value == pytest.approx(1e-5)
    at.number_input(key="finetune_head_epochs").set_value(1)
    at.number_input(key="finetune_tune_epochs").set_value(1)
    at.text_input(key="finetune_dense").set_value("16")
    at.run()
    job = finished_job(at, "finetune_start", FineTuneJob)
    run = at.session_state[RUNS_KEY][-1]
    assert run.epochs_completed == 2 and run.architecture.layer_names()[-1] == "head_output"
    trained = at.session_state[TRAINED_KEY]
    assert trained.spec == job.spec
    original = build_model(DIGITS_NET, seed=4).get_layer("block1_conv1").get_weights()[0]
    kept = trained.model.get_layer("block1_conv1").get_weights()[0]
    assert np.array_equal(original, kept)  # frozen in both phases
    table = next(frame.value for frame in at.dataframe if "Trains from" in frame.value)
    assert list(table["Trains from"]) == ["head_pool", "block2_conv1"]
    outcome = job.outcome
    assert outcome is not None
    assert list(table["Trainable params"]) == [
        f"{phase.trainable_params:,}" for phase in outcome.phases]
    labels = at.selectbox(key="finetune_base").options
    assert labels[0].startswith("This session's trained model: digits-net-finetuned")
    stored = f"Stored run {run.run_id}: digits-net-finetuned on digits"
    assert stored in labels  # kept in the workspace: a reload offers it as a base again


def test_an_imagenet_base_without_its_file_says_where_to_put_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    at = _train_page(monkeypatch, tmp_path)
    base = at.selectbox(key="finetune_base")
    vgg = next(index for index, label in enumerate(base.options) if "VGG16" in label)
    base.select_index(vgg).run()
    assert not at.exception, at.exception
    assert "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5" in _texts(at.info)
    assert str(tmp_path / "models") in _texts(at.info)
    assert at.button(key="finetune_start").disabled
    assert at.selectbox(key="finetune_unfreeze_vgg16-base").value == "block5_conv1"
