"""Trainings in worker processes, so that a training never slows the pages down.

Every participant's page runs in the server's one Python process. Tracing and fitting a
Keras model there holds the interpreter lock for seconds at a time and takes every core,
so each edit on the Build page would wait for it. A worker process (started once, then
reused) trains at a lower CPU priority, sends its progress back as it goes, and at the end
the evaluation and the weights; the server rebuilds the model from the spec and loads them.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any, Final

from cnnviz._types import KerasModel, Weights
from cnnviz.data import Dataset
from cnnviz.keras_build import build_model
from cnnviz.settings import Settings, get_settings
from cnnviz.spec import ModelSpec
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train.failure import failure_message
from cnnviz.train.finetune import FineTunePlan, FineTuneResult, PretrainedBase, fine_tune
from cnnviz.train.progress import (
    NO_HOOKS,
    EpochWeightsCallable,
    ProgressCallable,
    TrainingHooks,
    TrainingProgress,
)
from cnnviz.train.run import TrainingResult, train
from cnnviz.train.settings import TrainingError, TrainingSettings

__all__ = [
    "WORKER_NICENESS",
    "TrainingWorker",
    "WorkerPool",
    "finetune_in_worker",
    "serve",
    "train_in_worker",
    "worker_pool",
]

WORKER_NICENESS: Final = 10  # the pages' script runs come first when the CPU is short
_POLL_SECONDS: Final = 0.2
# Not `python -m cnnviz.train.worker`: the package imports this module first, and runpy
# then warns on every worker's start that it runs a module already imported.
_WORKER_COMMAND: Final = (
    "import sys; from multiprocessing.connection import Connection; "
    "from cnnviz.train.worker import serve; serve(Connection(int(sys.argv[1])))"
)


def serve(connection: Connection) -> None:
    """The worker process: train each job it receives, until the server goes away.

    A reader thread takes every message in order: a job goes to the queue, a stop sets
    the event that the running training checks after each batch.
    """
    try:
        os.nice(WORKER_NICENESS)
    except OSError:
        pass
    jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
    stop = threading.Event()

    def read() -> None:
        while True:
            try:
                message = connection.recv()
            except (EOFError, OSError):
                jobs.put(None)
                return
            if message[0] == "stop":
                stop.set()
            else:  # a new job starts unstopped; a stop sent after it still counts
                stop.clear()
                jobs.put(message)

    threading.Thread(target=read, name="cnnviz-worker-reader", daemon=True).start()

    configure_tensorflow()
    import keras

    connection.send(("ready",))
    while (job := jobs.get()) is not None:
        kind, *arguments = job
        # This process trains one model at a time and serves no page: clearing Keras's
        # global state here cannot touch anyone else's model.
        keras.backend.clear_session()
        try:
            if kind == "finetune":
                connection.send(("done", *_fine_tune_job(connection, stop, *arguments)))
            else:
                connection.send(("done", *_train_job(connection, stop, *arguments)))
        except Exception as error:  # the server shows the message; the worker lives on
            connection.send(("failed", failure_message(error)))
        finally:
            keras.backend.clear_session()


def _senders(
    connection: Connection, send_epoch_weights: bool
) -> tuple[ProgressCallable, EpochWeightsCallable | None]:
    def progress(progress: TrainingProgress) -> None:
        connection.send(("progress", progress))

    def weights(done: int, weights: Weights) -> None:
        connection.send(("weights", done, weights))

    return progress, weights if send_epoch_weights else None


def _train_job(
    connection: Connection, stop: threading.Event, spec_dict: dict[str, Any], dataset: Dataset,
    settings: TrainingSettings, report_every: int, send_epoch_weights: bool, host: Settings,
    initial_weights: Weights | None,
) -> tuple[TrainingResult, Weights]:
    progress, weights = _senders(connection, send_epoch_weights)
    result = train(ModelSpec.from_dict(spec_dict), dataset, settings, progress=progress,
                   stop_event=stop, report_every=report_every, host=host, epoch_weights=weights,
                   initial_weights=initial_weights)
    return dataclasses.replace(result, model=None), result.model.get_weights()


def _fine_tune_job(
    connection: Connection, stop: threading.Event, base_dict: dict[str, Any],
    base_weights: Weights, description: str, dataset: Dataset, plan: FineTunePlan,
    report_every: int, send_epoch_weights: bool, host: Settings,
) -> tuple[FineTuneResult, Weights]:
    progress, weights = _senders(connection, send_epoch_weights)
    base = PretrainedBase(ModelSpec.from_dict(base_dict), base_weights, description)
    outcome = fine_tune(base, dataset, plan, progress=progress, stop_event=stop,
                        report_every=report_every, host=host, epoch_weights=weights)
    trained = outcome.training.model.get_weights()
    return dataclasses.replace(
        outcome, training=dataclasses.replace(outcome.training, model=None)), trained


class TrainingWorker:
    """One worker process (`serve` over a socket pair) and the socket to it."""

    def __init__(self) -> None:
        mine, theirs = socket.socketpair()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_COMMAND, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
            )  # fmt: skip
        self.connection = Connection(mine.detach())

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.connection.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _crashed(self) -> TrainingError:
        try:
            code: int | None = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        return TrainingError(
            f"The training process ended unexpectedly (exit code {code}), most likely out "
            "of memory. A smaller batch size, model or dataset helps."
        )

    def train(
        self, spec: ModelSpec, dataset: Dataset, settings: TrainingSettings,
        hooks: TrainingHooks = NO_HOOKS, *, initial_weights: Weights | None = None,
    ) -> tuple[TrainingResult, Weights]:
        """The result (its `model` None) and the trained weights; raises `TrainingError`."""
        # The server's host settings travel with each job: a worker started earlier
        # never trains under limits the server no longer has.
        job = ("job", spec.to_dict(), dataset, settings, hooks.report_every,
               hooks.epoch_weights is not None, get_settings(), initial_weights)
        result, weights = self._run(job, hooks)
        assert isinstance(result, TrainingResult)
        return result, weights

    def fine_tune(
        self, base: PretrainedBase, dataset: Dataset, plan: FineTunePlan,
        hooks: TrainingHooks = NO_HOOKS,
    ) -> tuple[FineTuneResult, Weights]:
        """`fine_tune` in the worker: the outcome (its model None) and the final weights."""
        job = ("finetune", base.spec.to_dict(), base.weights, base.description, dataset, plan,
               hooks.report_every, hooks.epoch_weights is not None, get_settings())
        outcome, weights = self._run(job, hooks)
        assert isinstance(outcome, FineTuneResult)
        return outcome, weights

    def _run(
        self, job: tuple[Any, ...], hooks: TrainingHooks,
    ) -> tuple[TrainingResult | FineTuneResult, Weights]:
        progress, stop_event, epoch_weights = hooks.progress, hooks.stop_event, hooks.epoch_weights
        stop_sent = False
        try:
            self.connection.send(job)
            while True:
                if not stop_sent and stop_event is not None and stop_event.is_set():
                    self.connection.send(("stop",))
                    stop_sent = True
                if not self.connection.poll(_POLL_SECONDS):
                    if not self.alive:
                        raise self._crashed()
                    continue
                message = self.connection.recv()
                kind = message[0]
                if kind == "progress" and progress is not None:
                    progress(message[1])
                elif kind == "weights" and epoch_weights is not None:
                    epoch_weights(message[1], message[2])
                elif kind == "done":
                    return message[1], message[2]
                elif kind == "failed":
                    raise TrainingError(message[1])
        except (EOFError, OSError):
            raise self._crashed() from None


class WorkerPool:
    """Idle workers kept warm for the next training (at most `keep` of them)."""

    def __init__(self, keep: int) -> None:
        self.keep = max(1, keep)
        self._idle: list[TrainingWorker] = []
        self._busy = 0
        self._lock = threading.Lock()

    def _drop_dead_idle(self) -> None:
        """Close the idle workers whose process has ended. Callers hold `self._lock`."""
        live = []
        for worker in self._idle:
            if worker.alive:
                live.append(worker)
            else:
                worker.close()
        self._idle = live

    def warm(self) -> None:
        """Start workers now, up to `keep` in all, so that the next trainings do not wait
        for a worker to import TensorFlow (seconds)."""
        with self._lock:
            self._drop_dead_idle()
            while len(self._idle) + self._busy < self.keep:
                self._idle.append(TrainingWorker())

    @contextmanager
    def worker(self) -> Iterator[TrainingWorker]:
        """An idle worker (or a new one) for one training; a broken one is not reused."""
        with self._lock:
            self._drop_dead_idle()
            worker = self._idle.pop() if self._idle else None
            self._busy += 1
        worker = worker or TrainingWorker()
        healthy = False
        try:
            yield worker
            healthy = True
        except TrainingError:
            healthy = worker.alive
            raise
        finally:
            with self._lock:
                self._busy -= 1
                keep = healthy and worker.alive and len(self._idle) < self.keep
                if keep:
                    self._idle.append(worker)
            if not keep:
                worker.close()


_pool: WorkerPool | None = None
_pool_lock = threading.Lock()


def worker_pool() -> WorkerPool:
    """The pool shared by every session of this process."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = WorkerPool(get_settings().max_concurrent_trainings or 2)
        return _pool


def _rebuilt(spec: ModelSpec, seed: int, weights: Weights) -> KerasModel:
    """The worker's trained model again in this process, from its weights."""
    configure_tensorflow()  # this process's thread limit and Keras guard, before the build
    model = build_model(spec, seed=seed)
    model.set_weights(weights)
    return model


def train_in_worker(
    spec: ModelSpec, dataset: Dataset, settings: TrainingSettings,
    hooks: TrainingHooks = NO_HOOKS, *, initial_weights: Weights | None = None,
) -> TrainingResult:
    """`cnnviz.train.run.train` run in a worker process; the model is rebuilt here."""
    if hooks.on_placed is not None:
        hooks.on_placed("this machine")
    with worker_pool().worker() as worker:
        result, weights = worker.train(spec, dataset, settings, hooks,
                                       initial_weights=initial_weights)

    return dataclasses.replace(result, model=_rebuilt(spec, settings.seed, weights), spec=spec)


def finetune_in_worker(
    base: PretrainedBase, dataset: Dataset, plan: FineTunePlan,
    hooks: TrainingHooks = NO_HOOKS,
) -> FineTuneResult:
    """`cnnviz.train.finetune.fine_tune` run in a worker process; the model is rebuilt here."""
    if hooks.on_placed is not None:
        hooks.on_placed("this machine")
    with worker_pool().worker() as worker:
        outcome, weights = worker.fine_tune(base, dataset, plan, hooks)

    # the last phase's spec: which layers were trainable then
    model = _rebuilt(outcome.training.spec, plan.head_settings.seed, weights)
    training = dataclasses.replace(outcome.training, model=model)
    return dataclasses.replace(outcome, training=training)
