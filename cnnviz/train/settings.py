"""Training settings: optimizer, learning rate, batch size, epochs, validation split, seed."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_VALIDATION_SPLIT",
    "OPTIMIZERS",
    "SCHEDULES",
    "SGD_MOMENTUM",
    "OptimizerInfo",
    "TrainingError",
    "TrainingSettings",
]


class TrainingError(ValueError):
    """Training cannot start or went wrong; the message says why and how to fix it."""


@dataclass(frozen=True)
class OptimizerInfo:
    keras_class: str
    label: str
    learning_rate: float  # a good starting rate for small CNNs


OPTIMIZERS: dict[str, OptimizerInfo] = {
    "sgd": OptimizerInfo("SGD", "SGD with momentum 0.9", 0.01),
    "rmsprop": OptimizerInfo("RMSprop", "RMSprop", 0.001),
    "adam": OptimizerInfo("Adam", "Adam", 0.001),
    "adamw": OptimizerInfo("AdamW", "AdamW", 0.001),
    "adadelta": OptimizerInfo("Adadelta", "Adadelta", 1.0),
    "adagrad": OptimizerInfo("Adagrad", "Adagrad", 0.01),
}
SGD_MOMENTUM = 0.9
SCHEDULES = ("constant", "cosine")
MAX_BATCH_SIZE = 4096
MAX_VALIDATION_SPLIT = 0.5


@dataclass(frozen=True)
class TrainingSettings:
    """How to train. `learning_rate=None` takes the optimizer's suggested rate."""

    optimizer: str = "adam"
    learning_rate: float | None = None
    batch_size: int = 32
    epochs: int = 5
    validation_split: float = 0.1
    seed: int = 0
    schedule: str = "cosine"  # "constant", or "cosine": decays to 0 over the training

    def __post_init__(self) -> None:
        name = str(self.optimizer).lower()
        if name not in OPTIMIZERS:
            raise TrainingError(
                f"Expected an optimizer among {', '.join(OPTIMIZERS)}. "
                f"Received: optimizer={self.optimizer!r}"
            )
        object.__setattr__(self, "optimizer", name)
        rate = self.learning_rate
        if rate is not None and not (isinstance(rate, (int, float)) and 0 < rate <= 10):
            raise TrainingError(
                f"Expected a learning rate above 0 and at most 10, e.g. 0.001. "
                f"Received: learning_rate={rate!r}"
            )
        if self.schedule not in SCHEDULES:
            raise TrainingError(
                f"Expected a learning-rate schedule among {', '.join(SCHEDULES)}. "
                f"Received: schedule={self.schedule!r}"
            )
        _check_int("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        _check_int("epochs", self.epochs, 1, None)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        split = self.validation_split
        if not isinstance(split, (int, float)) or not 0 <= split <= MAX_VALIDATION_SPLIT:
            raise TrainingError(
                f"Expected a validation split from 0 to {MAX_VALIDATION_SPLIT} (a fraction of "
                f"the training images). Received: validation_split={split!r}"
            )

    @property
    def resolved_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return float(self.learning_rate)
        return OPTIMIZERS[self.optimizer].learning_rate

    def learning_rate_at(self, epochs_done: float) -> float:
        """The rate the optimizer uses after `epochs_done` epochs: constant, or Keras's
        `CosineDecay` from the starting rate to 0 at the end of the last epoch."""
        rate = self.resolved_learning_rate
        if self.schedule == "constant":
            return rate
        progress = min(max(epochs_done / self.epochs, 0.0), 1.0)
        return rate * 0.5 * (1.0 + math.cos(math.pi * progress))

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        values["learning_rate"] = self.resolved_learning_rate
        return values


def _check_int(name: str, value: Any, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (
        high is not None and value > high
    ):
        upper = f" and at most {high:,}" if high is not None else ""
        raise TrainingError(
            f"Expected {name} as a whole number of at least {low}{upper}. Received: "
            f"{name}={value!r}"
        )
