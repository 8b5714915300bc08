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
from cnnviz.train.checkpoints import EpochPlan, epoch_plan, kept_epochs
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
from cnnviz.train.finetune import (
    IMAGENET_BASES,
    FineTuneError,
    FineTunePlan,
    FineTuneResult,
    HeadSpec,
    PhaseReport,
    PretrainedBase,
    base_from_model,
    convolutional_base,
    default_unfreeze_from,
    fine_tune,
    finetune_spec,
    imagenet_base,
    imagenet_base_spec,
    imagenet_weights_path,
    keras_models_dir,
    weight_counts,
)
from cnnviz.train.finetune_record import FINETUNE_KEY, FineTuneRecord
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
    finetune_in_worker,
    train_in_worker,
    worker_pool,
)

__all__ = [
    "BuiltinDataset",
    "CurvePoint",
    "DatasetSource",
    "EXPECTED_FAILURES",
    "EpochPlan",
    "EpochWeightsCallable",
    "Evaluation",
    "FINETUNE_KEY",
    "FineTuneError",
    "FineTunePlan",
    "FineTuneRecord",
    "FineTuneResult",
    "HeadSpec",
    "IMAGENET_BASES",
    "LocalBackend",
    "LossChoice",
    "MAX_BATCH_SIZE",
    "MAX_VALIDATION_SPLIT",
    "OPTIMIZERS",
    "OptimizerInfo",
    "PhaseReport",
    "PretrainedBase",
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
    "base_from_model",
    "build_compiled_model",
    "builtin_source",
    "check_training_limits",
    "choose_loss",
    "convolutional_base",
    "default_unfreeze_from",
    "epoch_plan",
    "evaluate_predictions",
    "failure_message",
    "final_activation",
    "fine_tune",
    "finetune_in_worker",
    "finetune_spec",
    "fit_dataset_to_input",
    "imagenet_base",
    "imagenet_base_spec",
    "imagenet_weights_path",
    "kept_epochs",
    "keras_models_dir",
    "pair_indices",
    "predicted_labels",
    "split_training_data",
    "train",
    "train_in_worker",
    "training_backend",
    "training_slots",
    "weight_counts",
    "wilson_interval",
    "worker_pool",
]
