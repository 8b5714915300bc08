from __future__ import annotations

import numpy as np

from ui.train.charts import confusion_figure, confusion_shading


def test_one_mistake_in_a_row_of_forty_is_shaded_and_counted() -> None:
    confusion = np.array([[39, 1, 0], [0, 40, 0], [2, 0, 38]])
    right, errors = confusion_shading(confusion)
    assert right[0, 0] == 39 / 40 and np.isnan(right[0, 1])
    assert errors[0, 1] >= 0.15  # sqrt(1/40): a clearly visible tint, not near-white
    assert np.isnan(errors[0, 2]) and np.isnan(errors[1, 1])  # no error, no colour


def test_every_cell_writes_its_count() -> None:
    confusion = np.array([[39, 1], [3, 37]])
    figure = confusion_figure(confusion, ["cat", "dog"])
    written = [trace for trace in figure.data if trace.type == "scatter"][0]
    assert list(written.text) == ["39", "1", "3", "37"]
    assert len([trace for trace in figure.data if trace.type == "heatmap"]) == 2


def test_an_empty_row_shades_nothing() -> None:
    right, errors = confusion_shading(np.array([[0, 0], [1, 1]]))
    assert right[0, 0] == 0 and np.isnan(errors[0, 1])
