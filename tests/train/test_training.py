from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from training_data import stripes_dataset, tiny_spec

from cnnviz.settings import Settings
from cnnviz.train import (
    TrainingError,
    TrainingProgress,
    TrainingSettings,
    train,
)

FAST = TrainingSettings(epochs=2, batch_size=16, learning_rate=0.01)


@pytest.fixture(scope="module")
def trained():  # type: ignore[no-untyped-def]
    reports: list[TrainingProgress] = []
    result = train(tiny_spec(), stripes_dataset(), FAST, progress=reports.append, report_every=3)
    return result, reports


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("optimizer", "adamax", "Expected an optimizer among sgd"),
        ("batch_size", 0, "batch_size as a whole number of at least 1"),
        ("epochs", 2.5, "epochs as a whole number"),
        ("validation_split", 0.9, "validation split from 0 to 0.5"),
        ("learning_rate", 0.0, "learning rate above 0"),
        ("schedule", "step", "learning-rate schedule among constant, cosine"),
    ],
)
def test_bad_settings_say_what_is_expected(field: str, value: object, words: str) -> None:
    with pytest.raises(TrainingError, match=words):
        TrainingSettings(**{field: value})  # type: ignore[arg-type]


def test_learning_rate_defaults_to_the_optimizers_usual_rate() -> None:
    assert TrainingSettings(optimizer="SGD").resolved_learning_rate == 0.01
    assert TrainingSettings(optimizer="adam", learning_rate=0.1).resolved_learning_rate == 0.1


def test_a_model_whose_output_does_not_fit_the_classes_is_refused() -> None:
    with pytest.raises(TrainingError, match="1 output but the data has 3 classes"):
        data = stripes_dataset()
        three = dataclasses.replace(data, class_names=("a", "b", "c"))
        train(tiny_spec(units=1), three, FAST)


def test_training_learns_and_reports_the_test_results(trained) -> None:  # type: ignore[no-untyped-def]
    result, _ = trained
    data = stripes_dataset()
    assert result.test_accuracy >= 0.9
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(result.history["loss"]) == result.epochs_completed == 2
    assert result.evaluation.confusion.sum() == len(data.y_test)
    predictions = np.argmax(result.model.predict(data.x_test, verbose=0), axis=1)
    np.testing.assert_array_equal(result.evaluation.predictions, predictions)
    assert result.test_accuracy == pytest.approx(float(np.mean(predictions == data.y_test)))
    assert not result.stopped and result.samples_per_second > 0 and result.params == 114


def test_test_loss_is_what_keras_evaluate_says(trained) -> None:  # type: ignore[no-untyped-def]
    result, _ = trained
    data = stripes_dataset()
    loss, accuracy = result.model.evaluate(data.x_test, data.y_test, verbose=0)
    assert result.test_loss == pytest.approx(loss, rel=1e-5)
    assert result.test_accuracy == pytest.approx(accuracy)


def test_progress_grows_batch_by_batch_to_the_end(trained) -> None:  # type: ignore[no-untyped-def]
    _, reports = trained
    done = [report.batches_done for report in reports]
    assert done == sorted(done) and reports[-1].fraction == 1.0
    assert reports[-1].phase == "done" and len(reports[-1].history["val_loss"]) == 2
    assert len(reports[-1].batch_curve) >= 4


def test_stop_event_stops_after_the_current_batch_and_keeps_the_weights() -> None:
    stop = threading.Event()

    def progress(report: TrainingProgress) -> None:
        if report.batches_done >= 3:
            stop.set()

    result = train(tiny_spec(), stripes_dataset(), dataclasses.replace(FAST, epochs=5),
                   progress=progress, stop_event=stop, report_every=1)
    assert result.stopped and result.epochs_completed == 1
    assert int(result.model.optimizer.iterations.numpy()) == 3
    assert result.evaluation.confusion.sum() == 40


def test_same_seed_same_history() -> None:
    first = train(tiny_spec(), stripes_dataset(), dataclasses.replace(FAST, epochs=1))
    second = train(tiny_spec(), stripes_dataset(), dataclasses.replace(FAST, epochs=1))
    assert first.history == second.history


def test_max_train_samples_trains_on_a_subset_and_says_so() -> None:
    host = Settings(max_train_samples=50)
    result = train(tiny_spec(), stripes_dataset(), dataclasses.replace(FAST, epochs=1), host=host)
    assert result.samples_per_second > 0
    assert any("50 of the 160" in note and "max_train_samples" in note for note in result.notes)


def test_every_optimizer_trains(trained) -> None:  # type: ignore[no-untyped-def]
    from cnnviz.train import OPTIMIZERS

    for name in OPTIMIZERS:
        settings = TrainingSettings(optimizer=name, epochs=1, batch_size=32, schedule="constant")
        result = train(tiny_spec(), stripes_dataset(train=64, test=8), settings)
        assert np.isfinite(result.test_loss), name


def test_runs_and_trained_models_carry_what_other_pages_read(trained) -> None:  # type: ignore[no-untyped-def]
    result, _ = trained
    run = result.run(3, "stripes", ("left", "right"))
    assert run.spec == run.architecture == tiny_spec()
    assert run.seconds_per_epoch == pytest.approx(result.seconds / 2)
    assert "Run 3: tiny on stripes" in run.label
    assert run.test_images == len(result.evaluation.predictions)
    assert run.test_accuracy_interval == result.evaluation.accuracy_interval
    first = result.trained_model("stripes", ("left", "right"))
    second = result.trained_model("stripes", ("left", "right"))
    assert first.weights_version != second.weights_version
    assert first.outputs_probabilities
