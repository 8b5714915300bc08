"""Training: settings, data preparation, the run, progress, evaluation and the workers.

`callback` imports Keras at module level and is not part of this front: it is
imported where a training runs.
"""

from __future__ import annotations

from cnnviz.train.backends import (
    BuiltinDataset,
    DatasetSource,
    LocalBackend,
    RayBackend,
    TrainingBackend,
    UploadedDataset,
    builtin_source,
    training_backend,
)
from cnnviz.train.concurrency import (
    QueueCancelled,
    TrainingSlots,
    training_slots,
)
from cnnviz.train.evaluation import (
    Evaluation,
    evaluate_predictions,
    pair_indices,
    predicted_labels,
    wilson_interval,
)
from cnnviz.train.failure import EXPECTED_FAILURES, failure_message
from cnnviz.train.loss_choice import (
    LossChoice,
    choose_loss,
    final_activation,
)
from cnnviz.train.preparation import (
    check_training_limits,
    fit_dataset_to_input,
    split_training_data,
)
from cnnviz.train.progress import (
    CurvePoint,
    EpochWeightsCallable,
    ProgressCallable,
    ProgressTracker,
    StopSignal,
    TrainingProgress,
)
from cnnviz.train.run import (
    TrainedModel,
    TrainingResult,
    TrainingRun,
    build_compiled_model,
    train,
)
from cnnviz.train.settings import (
    MAX_BATCH_SIZE,
    MAX_VALIDATION_SPLIT,
    OPTIMIZERS,
    SCHEDULES,
    SGD_MOMENTUM,
    OptimizerInfo,
    TrainingError,
    TrainingSettings,
)
from cnnviz.train.worker import (
    WORKER_NICENESS,
    TrainingWorker,
    WorkerPool,
    train_in_worker,
    worker_pool,
)

__all__ = [
    "BuiltinDataset",
    "CurvePoint",
    "DatasetSource",
    "EXPECTED_FAILURES",
    "EpochWeightsCallable",
    "Evaluation",
    "LocalBackend",
    "LossChoice",
    "MAX_BATCH_SIZE",
    "MAX_VALIDATION_SPLIT",
    "OPTIMIZERS",
    "OptimizerInfo",
    "ProgressCallable",
    "ProgressTracker",
    "QueueCancelled",
    "RayBackend",
    "SCHEDULES",
    "SGD_MOMENTUM",
    "StopSignal",
    "TrainedModel",
    "TrainingBackend",
    "TrainingError",
    "TrainingProgress",
    "TrainingResult",
    "TrainingRun",
    "TrainingSettings",
    "TrainingSlots",
    "TrainingWorker",
    "UploadedDataset",
    "WORKER_NICENESS",
    "WorkerPool",
    "build_compiled_model",
    "builtin_source",
    "check_training_limits",
    "choose_loss",
    "evaluate_predictions",
    "failure_message",
    "final_activation",
    "fit_dataset_to_input",
    "pair_indices",
    "predicted_labels",
    "split_training_data",
    "train",
    "train_in_worker",
    "training_backend",
    "training_slots",
    "wilson_interval",
    "worker_pool",
]
