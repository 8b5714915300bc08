"""The Train page through Streamlit's AppTest: data/model fit, loss, training, stop, queue."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.spec import ModelSpec
from cnnviz.train import TrainedModel, TrainingRun, concurrency
from ui.state import FEATURE_IMAGE_KEY, JOB_KEY, RUNS_KEY, SPEC_KEY, TRAINED_KEY
from ui.train.job import TrainingJob

ROOT = Path(__file__).resolve().parents[2]
SMALL = ModelSpec((8, 8, 1), (Conv2DSpec(filters=8, kernel_size=3, activation="relu"),
                              FlattenSpec(), DenseSpec(units=10, activation="softmax")),
                  name="small-digits")


def _train_page(spec: ModelSpec | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if spec is not None:
        at.session_state[SPEC_KEY] = spec
    at.run()
    at.switch_page("pages/2_Train.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _job(at: AppTest) -> TrainingJob:
    job = at.session_state[JOB_KEY]
    assert isinstance(job, TrainingJob)
    return job


def _texts(elements) -> str:  # type: ignore[no-untyped-def]
    return " ".join(str(element.value) for element in elements)


def _start(at: AppTest, epochs: int) -> TrainingJob:
    at.number_input(key="train_epochs").set_value(epochs)
    at.number_input(key="train_lr_adam").set_value(0.01)
    at.run()
    at.button(key="train_start").click()
    at.run()
    return _job(at)


def test_shape_mismatch_offers_resize_with_preview_or_a_new_input() -> None:
    at = _train_page()
    assert "8×8×1" in _texts(at.info) and "28×28×1" in _texts(at.info)
    assert not at.warning  # a calm note, not a warning: the default pair trains as it is
    assert at.radio(key="train_fit_choice").value == "resize"
    assert len(at.get("image")) >= 3  # samples, then the preview before and after
    assert not at.button(key="train_start").disabled
    at.radio(key="train_fit_choice").set_value("set_input").run()
    assert "With a 8×8×1 input this model does not work" in _texts(at.error)
    assert at.button(key="train_start").disabled


def test_setting_the_model_input_to_the_data_shape_changes_the_model() -> None:
    at = _train_page(ModelSpec((28, 28, 1), SMALL.layers, name="wide-input"))
    at.radio(key="train_fit_choice").set_value("set_input").run()
    set_button = next(b for b in at.button if b.label.startswith("Set the input to 8×8×1"))
    set_button.click().run()
    assert at.session_state[SPEC_KEY].input_shape == (8, 8, 1)
    assert "expects" not in _texts(at.info)


def test_loss_is_explained_and_an_output_that_cannot_fit_offers_the_fix() -> None:
    five = SMALL.replace_layers([*SMALL.layers[:-1], DenseSpec(units=5, activation="softmax")])
    at = _train_page(five)
    assert "5 outputs but the data has 10 classes" in _texts(at.error)
    assert at.button(key="train_start").disabled
    at.button(key="train_fix_output").click().run()
    assert at.session_state[SPEC_KEY].layers[-1] == DenseSpec(units=10, activation="softmax")
    assert "sparse_categorical_crossentropy" in _texts(at.info)
    assert not at.button(key="train_start").disabled


def test_training_end_to_end_shows_results_and_keeps_the_model_in_the_session() -> None:
    at = _train_page(SMALL)
    job = _start(at, epochs=2)
    assert at.number_input(key="train_epochs").disabled
    job.thread.join(300)  # type: ignore[union-attr]
    assert job.state == "finished", job.error
    at.run()
    assert not at.exception, at.exception
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Epochs"] == "2" and metrics["Test accuracy"].endswith("%")
    trained = at.session_state[TRAINED_KEY]
    assert isinstance(trained, TrainedModel) and trained.spec == SMALL
    assert trained.class_names == tuple(str(i) for i in range(10))
    runs = at.session_state[RUNS_KEY]
    assert len(runs) == 1 and isinstance(runs[0], TrainingRun)
    assert runs[0].seconds_per_epoch > 0 and runs[0].params == 8 * 10 + 288 * 10 + 10
    assert "Compare runs" in _texts(at.subheader)
    assert "Measured on 360 test images: with 95% confidence" in _texts(at.caption)
    runs_table = next(table.value for table in at.dataframe if "95% interval" in table.value)
    low, high = runs[0].test_accuracy_interval
    assert list(runs_table["95% interval"]) == [f"{low:.1%} – {high:.1%}"]
    true_box = at.selectbox(key="train_pair_true")
    assert true_box.value in trained.class_names
    open_buttons = [b for b in at.button if b.label == "Inspect"]
    assert open_buttons
    index = int(open_buttons[0].key.rsplit("_", 1)[1])
    open_buttons[0].click().run()
    handed = at.session_state[FEATURE_IMAGE_KEY]
    assert handed.array.shape == (8, 8, 1) and handed.array.dtype == np.float32
    assert handed.source == f"test set #{index}" and handed.label in trained.class_names


def test_stop_ends_training_after_the_current_batch_and_keeps_the_model() -> None:
    at = _train_page(SMALL)
    job = _start(at, epochs=40)
    deadline = time.monotonic() + 120
    while job.progress is None or job.progress.batches_done == 0:
        assert time.monotonic() < deadline and job.active
        time.sleep(0.05)
    at.run()
    at.button(key="train_stop").click().run()
    job.thread.join(300)  # type: ignore[union-attr]
    assert job.state == "stopped"
    at.run()
    run = at.session_state[RUNS_KEY][-1]
    assert run.stopped and run.epochs_completed < 40
    assert at.session_state[TRAINED_KEY].spec == SMALL
    epochs = next(metric for metric in at.metric if metric.label == "Epochs")
    assert epochs.delta == "stopped" and int(epochs.value) == run.epochs_completed


def test_a_queued_training_says_so_and_can_be_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    slots = concurrency.TrainingSlots(1)
    monkeypatch.setattr(concurrency, "_slots", slots)
    at = _train_page(SMALL)
    with slots.slot():
        job = _start(at, epochs=1)
        deadline = time.monotonic() + 30
        while job.queue_position is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        at.run()
        assert "Queued" in _texts(at.info) and "number 1 in line" in _texts(at.info)
        at.button(key="train_cancel").click().run()
        job.thread.join(30)  # type: ignore[union-attr]
    assert job.state == "cancelled"
    at.run()
    assert "cancelled" in _texts(at.info)
    assert not at.session_state[RUNS_KEY] if RUNS_KEY in at.session_state else True



def test_a_fresh_session_starts_on_a_dataset_that_fits_the_model() -> None:
    from cnnviz.presets import get_preset

    at = _train_page(get_preset("tiny-vgg-32"))
    assert at.selectbox(key="train_dataset").value == "shapes"
    assert not at.radio  # nothing to resize: no fit choice at all
    assert not at.warning and not at.error
    assert not at.button(key="train_start").disabled


def test_a_keras_dataset_not_downloaded_is_named_calmly_with_the_file_and_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    at = _train_page()
    box = at.selectbox(key="train_dataset")
    assert "mnist (not downloaded yet)" in box.options
    box.set_value("mnist").run()
    assert not at.exception and not at.error
    note = _texts(at.info)
    assert "mnist is not downloaded yet: put mnist.npz in " + str(tmp_path / "datasets") in note
    assert any(b.label == "Try to download mnist now" for b in at.button)
    assert at.button(key="train_start").disabled
