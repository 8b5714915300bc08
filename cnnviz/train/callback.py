"""The Keras callback that feeds a `ProgressTracker` and stops after the current batch.

Imports Keras at module level: import this module only where training happens.
"""

from __future__ import annotations

from typing import Any

import keras

from cnnviz.train.progress import EpochWeightsCallable, ProgressTracker

__all__ = ["ProgressCallback"]


class ProgressCallback(keras.callbacks.Callback):  # type: ignore[misc]  # Keras is untyped
    """Reports progress every N batches (via the tracker) and honours the stop event.

    Setting `model.stop_training` in `on_train_batch_end` makes Keras leave the epoch
    right after this batch (keras/src/backend/tensorflow/trainer.py, `fit`), so Stop keeps
    the weights of every batch trained so far.
    """

    def __init__(self, tracker: ProgressTracker,
                 epoch_weights: EpochWeightsCallable | None = None) -> None:
        super().__init__()
        self.tracker = tracker
        self.epoch_weights = epoch_weights
        self.epochs_done = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.tracker.start()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.tracker.epoch_begin(epoch)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.tracker.batch_end(logs):
            self.model.stop_training = True

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.tracker.validation_begin()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.tracker.epoch_end(logs)
        self.epochs_done = epoch + 1
        if self.epoch_weights is not None and not self.model.stop_training:
            self.epoch_weights(self.epochs_done, self.model.get_weights())

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self.tracker.finish()
