"""Between the store's rows and the training's records."""

from __future__ import annotations

import dataclasses
from typing import Any

from cnnviz.archfile import load_architecture
from cnnviz.errors import SpecError
from cnnviz.store.workspace import StoredRun
from cnnviz.train import FINETUNE_KEY, FineTuneRecord, TrainingError, TrainingRun, TrainingSettings

__all__ = ["run_settings", "training_run"]

_SETTING_NAMES = frozenset(field.name for field in dataclasses.fields(TrainingSettings))


def run_settings(values: dict[str, Any]) -> TrainingSettings:
    """A stored run's training settings (the defaults where they no longer read)."""
    known = {name: value for name, value in values.items() if name in _SETTING_NAMES}
    try:
        return TrainingSettings(**known)
    except (TrainingError, TypeError):
        return TrainingSettings()


def training_run(stored: StoredRun) -> TrainingRun | None:
    """The run as the pages show it; None for a run without test metrics (interrupted,
    or still running) or whose architecture this cnnviz no longer reads."""
    if stored.test_accuracy is None or stored.test_loss is None or not stored.test_images:
        return None
    try:
        spec = load_architecture(stored.architecture_json)
    except SpecError:
        return None
    return TrainingRun(
        run_id=stored.id,
        architecture=spec,
        settings=run_settings(stored.settings),
        dataset_name=stored.dataset_name,
        history=stored.history,
        test_accuracy=stored.test_accuracy,
        test_loss=stored.test_loss,
        params=stored.params,
        seconds_per_epoch=stored.seconds_per_epoch or 0.0,
        epochs_completed=stored.epochs_completed,
        stopped=stored.status == "stopped",
        test_images=stored.test_images,
        class_names=stored.class_names,
        finetune=FineTuneRecord.from_dict(stored.settings.get(FINETUNE_KEY)),
    )
