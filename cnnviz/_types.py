"""Type aliases shared across the package, in one place (as httpx's `_types.py`).

Keras is imported only while type checking: at run time these names are strings, so
importing them loads neither Keras nor TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import keras

__all__ = ["KerasLoss", "KerasMetric", "KerasModel", "TrainingPhase", "Weights"]

KerasModel: TypeAlias = "keras.Model"
KerasLoss: TypeAlias = "keras.losses.Loss"
KerasMetric: TypeAlias = "keras.metrics.Metric"
Weights: TypeAlias = list[npt.NDArray[np.float32]]  # model.get_weights(), in layer order
TrainingPhase: TypeAlias = Literal["training", "validating", "done"]
