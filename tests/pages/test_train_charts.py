"""The Train page's Plotly figures: what each trace and axis holds."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.train import TrainingSettings
from ui.train.charts import (
    RUNNING_NOTE,
    WAITING_NOTE,
    confusion_figure,
    curves_figure,
    per_class_figure,
    runs_figure,
    schedule_figure,
)


@pytest.mark.parametrize(("epochs", "tick_step"), [(1, 1), (2, 1), (10, 1), (11, 2), (40, 4)])
def test_epoch_axes_tick_whole_epochs(epochs: int, tick_step: int) -> None:
    history = {"loss": [1.0] * epochs, "accuracy": [0.5] * epochs}
    curves = curves_figure(history, epochs=epochs)
    runs = runs_figure([("Run 1", history)], "accuracy", "accuracy")
    for axis in (curves.layout.xaxis, curves.layout.xaxis2, runs.layout.xaxis):
        assert axis.tickmode == "linear" and axis.dtick == tick_step and axis.tick0 == 0


def test_curves_show_running_train_values_and_epoch_ends() -> None:
    history = {"loss": [0.9, 0.5], "accuracy": [0.6, 0.8], "val_loss": [0.7], "val_accuracy": [0.7]}
    batch_curve = [(0.5, 1.2, 0.4), (1.0, 0.9, 0.6), (1.5, 0.6, 0.75)]
    figure = curves_figure(history, batch_curve, epochs=3)
    by_name = {(trace.name, trace.yaxis): trace for trace in figure.data}
    running = "train (mean so far this epoch)"
    # Keras restarts its running mean each epoch: a gap, not a drop, between epochs.
    assert list(by_name[(running, "y")].x) == [0.5, 1.0, None, 1.5]
    assert list(by_name[(running, "y2")].y) == [0.4, 0.6, None, 0.75]
    assert RUNNING_NOTE in [note.text for note in figure.layout.annotations]
    assert list(by_name[("train (epoch end)", "y")].y) == [0.9, 0.5]
    assert list(by_name[("validation", "y2")].x) == [1]
    assert list(figure.layout.xaxis.range) == [0, 3.1]


def test_runs_are_one_line_each_and_skip_a_metric_a_run_lacks() -> None:
    runs = [("Run 1", {"val_accuracy": [0.5, 0.7]}), ("Run 2", {"accuracy": [0.9]})]
    figure = runs_figure(runs, "val_accuracy", "validation accuracy")
    assert [trace.name for trace in figure.data] == ["Run 1", "Run 2"]
    assert list(figure.data[0].y) == [0.5, 0.7] and len(figure.data[1].y) == 0


def test_confusion_cells_carry_their_counts_for_clicks() -> None:
    confusion = np.array([[5, 1], [2, 7]])
    figure = confusion_figure(confusion, ("cat", "dog"))
    *shading, cells = figure.data
    assert [trace.type for trace in shading] == ["heatmap", "heatmap"]  # right, wrong
    assert list(zip(cells.y, cells.x, cells.customdata[:, 0], strict=True)) == [
        ("cat", "cat", 5), ("cat", "dog", 1), ("dog", "cat", 2), ("dog", "dog", 7)
    ]


def test_per_class_bars_say_when_a_class_has_no_test_image() -> None:
    figure = per_class_figure((1.0, None, 0.25), ("a", "b", "c"))
    assert list(figure.data[0].y) == [1.0, 0.0, 0.25]
    assert list(figure.data[0].text) == ["100%", "no test image", "25%"]


def test_before_the_first_batch_the_axes_span_the_training_with_a_note() -> None:
    figure = curves_figure({}, (), epochs=8)
    assert list(figure.layout.xaxis.range) == [0, 8.1]
    assert [note.text for note in figure.layout.annotations
            if note.text not in ("Loss", "Accuracy")] == [WAITING_NOTE]


@pytest.mark.parametrize(("schedule", "last"), [("cosine", 0.0), ("constant", 0.01)])
def test_the_schedule_chart_shows_the_rate_the_optimizer_gets(schedule: str, last: float) -> None:
    figure = schedule_figure(TrainingSettings(learning_rate=0.01, epochs=5, schedule=schedule))
    rates = list(figure.data[0].y)
    assert rates[0] == pytest.approx(0.01) and rates[-1] == pytest.approx(last, abs=1e-12)
    assert list(figure.data[0].x)[-1] == 5
