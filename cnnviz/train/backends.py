"""Where trainings run: one interface, two backends.

- `local` (the default): the warm worker processes of this machine
  (`train_in_worker`), unchanged.
- `ray`: each training (a fine-tuning's two phases too) is a Ray task on the cluster
  named by `ray_address`, asking for `train_cpus`, `train_gpus` and any custom
  resources, so that Ray places it on a node with room. Progress, the weights of each
  finished epoch and the stop flag travel through one small Ray actor (a mailbox per
  training) on the driver's node; the result and the final weights come back as the
  task's return value. Built-in datasets are made on the worker from their name and
  seed; other datasets go once into Ray's object store and are reused by later trainings.

Ray is imported only by the `ray` backend.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from cnnviz._types import Weights
from cnnviz.data import BUILTIN_DATASETS, Dataset, DatasetError, load_dataset
from cnnviz.keras_build import build_model
from cnnviz.settings import Settings, get_settings
from cnnviz.spec import ModelSpec
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train.failure import failure_message
from cnnviz.train.finetune import FineTunePlan, FineTuneResult, PretrainedBase, fine_tune
from cnnviz.train.preparation import fit_dataset_to_input
from cnnviz.train.progress import (
    NO_HOOKS,
    EpochWeightsCallable,
    ProgressCallable,
    StopSignal,
    TrainingHooks,
)
from cnnviz.train.run import train
from cnnviz.train.settings import TrainingError, TrainingSettings
from cnnviz.train.worker import finetune_in_worker, train_in_worker

if TYPE_CHECKING:
    from cnnviz.train.run import TrainingResult

__all__ = [
    "BuiltinDataset",
    "DatasetSource",
    "LocalBackend",
    "RayBackend",
    "TrainingBackend",
    "UploadedDataset",
    "builtin_source",
    "parse_resources",
    "ray_init_arguments",
    "training_backend",
]

_POLL_SECONDS: Final = 0.1
_STOP_CHECK_SECONDS: Final = 0.05
_UPLOADS_KEPT: Final = 16  # uploaded datasets kept in Ray's object store, newest first


@dataclass(frozen=True)
class BuiltinDataset:
    """A built-in dataset, made on the worker from its name and seed."""

    name: str
    seed: int = 0


@dataclass(frozen=True)
class UploadedDataset:
    """Any other dataset, known by a key of its content (e.g. an upload's hash)."""

    content_key: str


DatasetSource = BuiltinDataset | UploadedDataset


def builtin_source(dataset: Dataset, seed: int = 0) -> BuiltinDataset | None:
    """`BuiltinDataset` when `dataset` is the cached built-in of that name and seed."""
    if dataset.name not in BUILTIN_DATASETS or dataset.x_train.flags.writeable:
        return None  # built-ins are cached read-only; this one was made elsewhere
    try:
        cached = load_dataset(dataset.name, seed=seed)
    except DatasetError:
        return None
    return BuiltinDataset(dataset.name, seed) if cached is dataset else None


class TrainingBackend(Protocol):
    """Trains `spec` on `dataset` somewhere; the result's `model` is built here.

    `dataset` is fitted to the spec's input already (`fit_dataset_to_input`). `hooks`
    follow the training from here (progress, Stop, each epoch's weights, its placement).
    `source` says where a backend that runs elsewhere can find the same data without
    copying it. `initial_weights` (the spec's `get_weights()`) replace the seeded start,
    e.g. to continue an interrupted run from its last kept epoch.
    """

    name: str

    def train(
        self,
        spec: ModelSpec,
        dataset: Dataset,
        settings: TrainingSettings,
        hooks: TrainingHooks = NO_HOOKS,
        *,
        source: DatasetSource | None = None,
        initial_weights: Weights | None = None,
    ) -> TrainingResult: ...

    def fine_tune(
        self,
        base: PretrainedBase,
        dataset: Dataset,
        plan: FineTunePlan,
        hooks: TrainingHooks = NO_HOOKS,
        *,
        source: DatasetSource | None = None,
    ) -> FineTuneResult:
        """`cnnviz.train.finetune.fine_tune`, both phases in one place; `dataset` is
        fitted to the base's input already."""
        ...


class LocalBackend:
    """The warm worker processes of this machine (`cnnviz.train.worker`)."""

    name = "local"

    def train(
        self,
        spec: ModelSpec,
        dataset: Dataset,
        settings: TrainingSettings,
        hooks: TrainingHooks = NO_HOOKS,
        *,
        source: DatasetSource | None = None,
        initial_weights: Weights | None = None,
    ) -> TrainingResult:
        return train_in_worker(spec, dataset, settings, hooks, initial_weights=initial_weights)

    def fine_tune(
        self,
        base: PretrainedBase,
        dataset: Dataset,
        plan: FineTunePlan,
        hooks: TrainingHooks = NO_HOOKS,
        *,
        source: DatasetSource | None = None,
    ) -> FineTuneResult:
        return finetune_in_worker(base, dataset, plan, hooks)


def parse_resources(items: tuple[str, ...] | list[str]) -> dict[str, float]:
    """`("gpu_box=1", "fast")` → `{"gpu_box": 1.0, "fast": 1.0}`."""
    resources: dict[str, float] = {}
    for item in items:
        name, _, amount = item.partition("=")
        name = name.strip()
        try:
            value = float(amount) if amount.strip() else 1.0
        except ValueError:
            value = -1.0
        if not name or value <= 0:
            raise TrainingError(
                "Expected each custom Ray resource as name=amount with an amount above 0, "
                f"e.g. gpu_box=1. Received: train_resources={item!r}"
            )
        resources[name] = value
    return resources


def ray_init_arguments(address: str) -> dict[str, Any]:
    """`ray.init` arguments for a driver of the cluster at `address` (host:port).

    On a loopback address the driver says it is that same address, so that its traffic
    stays on loopback (Ray would otherwise pick the machine's routable address).
    """
    address = address.strip()
    if not address:
        raise TrainingError(
            "The ray training backend needs the cluster's address. Set ray_address in "
            "cnnviz.toml or the CNNVIZ_RAY_ADDRESS environment variable, e.g. 10.0.0.5:6379."
        )
    arguments: dict[str, Any] = {
        "address": address, "namespace": "cnnviz", "log_to_driver": False,
        "logging_level": "WARNING", "configure_logging": False,
    }  # fmt: skip
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        arguments["_node_ip_address"] = host
    return arguments


_ray_lock = threading.Lock()


def _connect(address: str) -> Any:
    """Ray, connected to `address` (once per process)."""
    import ray

    with _ray_lock:
        if not ray.is_initialized():
            try:
                ray.init(**ray_init_arguments(address))
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise TrainingError(
                    f"Cannot reach the Ray cluster at {address} ({error}). Check that "
                    "`ray start --head` runs there and that ray_address names it."
                ) from None
    return ray


class _Mailbox:
    """The Ray actor between callers and their trainings: messages and stop flags."""

    def __init__(self) -> None:
        self.messages: dict[str, list[tuple[Any, ...]]] = {}
        self.stops: set[str] = set()

    def push(self, key: str, message: tuple[Any, ...]) -> None:
        self.messages.setdefault(key, []).append(message)

    def take(self, key: str) -> list[tuple[Any, ...]]:
        return self.messages.pop(key, [])

    def stop(self, key: str) -> None:
        self.stops.add(key)

    def stopped(self, key: str) -> bool:
        return key in self.stops

    def forget(self, key: str) -> None:
        self.messages.pop(key, None)
        self.stops.discard(key)


class _AskedToStop:
    """A `StopSignal` on the worker: asks the mailbox, never waiting for its answer.

    `is_set` runs after every batch; it sends one question at a time (at most every
    50 ms) and reads the answer when it is there, so a batch never waits for the network.
    """

    def __init__(self, mailbox: Any, key: str) -> None:
        self.mailbox, self.key = mailbox, key
        self.pending: Any = None
        self.asked_at = 0.0
        self.answer = False

    def is_set(self) -> bool:
        import ray

        if self.answer:
            return True
        if self.pending is not None:
            ready, _ = ray.wait([self.pending], timeout=0)
            if ready:
                self.answer = bool(ray.get(self.pending))
                self.pending = None
        now = time.monotonic()
        if self.pending is None and not self.answer and now - self.asked_at >= _STOP_CHECK_SECONDS:
            self.pending, self.asked_at = self.mailbox.stopped.remote(self.key), now
        return self.answer


WorkOnWorker = Callable[
    [Dataset, ProgressCallable, StopSignal, EpochWeightsCallable | None], tuple[Any, Weights]]


def _on_worker(
    data: Dataset | BuiltinDataset,
    input_shape: tuple[int, int, int],
    mailbox: Any,
    key: str,
    send_epoch_weights: bool,
    work: WorkOnWorker,
) -> tuple[str, Any, Any]:
    """What every Ray task does around its `work`: says where it runs, makes the data,
    streams progress and epoch weights, and returns ("done", payload, weights) or
    ("failed", message, None)."""
    import ray

    node = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]  # Ray's is untyped
    last: list[Any] = [mailbox.push.remote(key, ("placed", node))]

    def send(message: tuple[Any, ...]) -> None:
        last[0] = mailbox.push.remote(key, message)

    configure_tensorflow()
    import keras

    # A Ray worker runs one task at a time: clearing Keras's state touches no one else's.
    keras.backend.clear_session()
    try:
        if isinstance(data, BuiltinDataset):
            data = load_dataset(data.name, seed=data.seed)
        dataset = fit_dataset_to_input(data, input_shape)
        payload, weights = work(
            dataset, lambda progress: send(("progress", progress)), _AskedToStop(mailbox, key),
            (lambda done, weights: send(("weights", done, weights)))
            if send_epoch_weights else None,
        )  # fmt: skip
        outcome: tuple[str, Any, Any] = ("done", payload, weights)
    except Exception as error:  # the caller shows the message; the worker lives on
        outcome = ("failed", failure_message(error), None)
    finally:
        keras.backend.clear_session()
    ray.get(last[0])  # every message is in the mailbox before the result is
    return outcome


def _train_on_worker(
    spec_dict: dict[str, Any],
    data: Dataset | BuiltinDataset,
    settings: TrainingSettings,
    host: Settings,
    mailbox: Any,
    key: str,
    report_every: int,
    send_epoch_weights: bool,
    initial_weights: Weights | None,
) -> tuple[str, Any, Any]:
    """The Ray task of a training: its result without the model, and the final weights."""
    spec = ModelSpec.from_dict(spec_dict)

    def work(dataset: Dataset, progress: ProgressCallable, stop: StopSignal,
             epoch_weights: EpochWeightsCallable | None) -> tuple[Any, Weights]:
        result = train(spec, dataset, settings, progress=progress, stop_event=stop,
                       report_every=report_every, host=host, epoch_weights=epoch_weights,
                       initial_weights=initial_weights)
        return dataclasses.replace(result, model=None), result.model.get_weights()

    return _on_worker(data, spec.input_shape, mailbox, key, send_epoch_weights, work)


def _fine_tune_on_worker(
    base_dict: dict[str, Any],
    base_weights: Weights,
    description: str,
    data: Dataset | BuiltinDataset,
    plan: FineTunePlan,
    host: Settings,
    mailbox: Any,
    key: str,
    report_every: int,
    send_epoch_weights: bool,
) -> tuple[str, Any, Any]:
    """The Ray task of a fine-tuning: both phases, the outcome without the model, and the
    final weights."""
    base = PretrainedBase(ModelSpec.from_dict(base_dict), base_weights, description)

    def work(dataset: Dataset, progress: ProgressCallable, stop: StopSignal,
             epoch_weights: EpochWeightsCallable | None) -> tuple[Any, Weights]:
        outcome = fine_tune(base, dataset, plan, progress=progress, stop_event=stop,
                            report_every=report_every, host=host, epoch_weights=epoch_weights)
        training = dataclasses.replace(outcome.training, model=None)
        return dataclasses.replace(outcome, training=training), outcome.training.model.get_weights()

    return _on_worker(data, base.spec.input_shape, mailbox, key, send_epoch_weights, work)


class RayBackend:
    """Each training a Ray task on the cluster at `address`, with declared resources."""

    name = "ray"

    def __init__(
        self,
        address: str,
        *,
        cpus: float = 1,
        gpus: float = 0,
        resources: Mapping[str, float] | None = None,
        host: Settings | None = None,
    ) -> None:
        self.address = address
        self.cpus, self.gpus = cpus, gpus
        self.resources = dict(resources or {})
        self.host = host
        self._lock = threading.Lock()
        self._mailbox: Any = None
        self._remote: Any = None
        self._remote_fine_tune: Any = None
        self._uploads: dict[tuple[str, tuple[int, ...]], Any] = {}
        self._unnamed: weakref.WeakKeyDictionary[Dataset, Any] = weakref.WeakKeyDictionary()

    @classmethod
    def from_settings(cls, host: Settings, address: str | None = None) -> RayBackend:
        """The backend as the host's settings describe it (`address` overrides theirs)."""
        return cls(
            address if address is not None else host.ray_address,
            cpus=host.train_cpus, gpus=host.train_gpus,
            resources=parse_resources(host.train_resources), host=host,
        )  # fmt: skip

    def _ray(self) -> Any:
        """Ray, the mailbox actor and the remote function, made once."""
        ray = _connect(self.address)
        with self._lock:
            if self._mailbox is None:
                from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

                # On this driver's own node: losing a training's node never loses its mail.
                here = ray.get_runtime_context().get_node_id()
                self._mailbox = (
                    ray.remote(_Mailbox)
                    .options(
                        num_cpus=0,
                        max_restarts=0,
                        scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False),
                    )  # fmt: skip
                    .remote()
                )
            if self._remote is None:
                self._remote = ray.remote(_train_on_worker)
                self._remote_fine_tune = ray.remote(_fine_tune_on_worker)
        return ray

    def _data(self, ray: Any, dataset: Dataset, source: DatasetSource | None) -> Any:
        """What the task gets: a built-in's name, or the dataset's object-store reference."""
        if isinstance(source, BuiltinDataset):
            return source
        with self._lock:
            if isinstance(source, UploadedDataset):
                key = (source.content_key, tuple(dataset.x_train.shape[1:]))
                if key not in self._uploads:
                    if len(self._uploads) >= _UPLOADS_KEPT:  # the oldest leaves the store
                        del self._uploads[next(iter(self._uploads))]
                    self._uploads[key] = ray.put(dataset)
                return self._uploads[key]
            if dataset not in self._unnamed:
                self._unnamed[dataset] = ray.put(dataset)
            return self._unnamed[dataset]

    def _options(self) -> dict[str, Any]:
        """The resources each task declares, so that Ray places it on a node with room."""
        return {"num_cpus": self.cpus, "num_gpus": self.gpus,
                "resources": self.resources or None, "max_retries": 0}

    def _run_task(
        self, submit: Callable[[Any, str], Any], hooks: TrainingHooks,
    ) -> tuple[Any, Weights]:
        """Start the task `submit(mailbox, key)` gives, relay its messages and the stop
        flag to `hooks` until it ends; its payload and final weights."""
        ray = self._ray()
        progress, stop_event, epoch_weights = hooks.progress, hooks.stop_event, hooks.epoch_weights
        from ray.exceptions import RayError, RayTaskError

        key = uuid.uuid4().hex
        mailbox = self._mailbox
        node: str | None = None
        try:
            task = submit(mailbox, key)
            stop_sent = False
            while True:
                if not stop_sent and stop_event is not None and stop_event.is_set():
                    mailbox.stop.remote(key)
                    stop_sent = True
                finished, _ = ray.wait([task], timeout=_POLL_SECONDS)
                for message in ray.get(mailbox.take.remote(key)):
                    if message[0] == "placed":
                        node = message[1]
                        if hooks.on_placed is not None:
                            hooks.on_placed(node)
                    elif message[0] == "progress" and progress is not None:
                        progress(message[1])
                    elif message[0] == "weights" and epoch_weights is not None:
                        epoch_weights(message[1], message[2])
                if finished:
                    kind, payload, weights = ray.get(task)
                    break
        except RayTaskError as error:  # the task itself broke (e.g. cnnviz missing there)
            raise TrainingError(
                f"Training failed unexpectedly on the Ray cluster ({error.cause!r})."
            ) from None
        except RayError as error:
            where = f"the Ray node at {node}" if node else "a Ray node"
            raise TrainingError(
                f"The training was lost: {where} stopped or lost contact mid-training "
                f"({type(error).__name__}). Nothing else is affected; start the training "
                "again and the cluster will place it on a node that is up."
            ) from None
        finally:
            try:
                mailbox.forget.remote(key)
            except RayError:
                pass
        if kind == "failed":
            raise TrainingError(payload)
        return payload, weights

    def train(
        self,
        spec: ModelSpec,
        dataset: Dataset,
        settings: TrainingSettings,
        hooks: TrainingHooks = NO_HOOKS,
        *,
        source: DatasetSource | None = None,
        initial_weights: Weights | None = None,
    ) -> TrainingResult:
        ray = self._ray()

        def submit(mailbox: Any, key: str) -> Any:
            return self._remote.options(**self._options()).remote(
                spec.to_dict(), self._data(ray, dataset, source), settings,
                self.host or get_settings(), mailbox, key, hooks.report_every,
                hooks.epoch_weights is not None, initial_weights)

        payload, weights = self._run_task(submit, hooks)
        configure_tensorflow()
        model = build_model(spec, seed=settings.seed)
        model.set_weights(weights)
        result: TrainingResult = dataclasses.replace(payload, model=model, spec=spec)
        return result

    def fine_tune(
        self,
        base: PretrainedBase,
        dataset: Dataset,
        plan: FineTunePlan,
        hooks: TrainingHooks = NO_HOOKS,
        *,
        source: DatasetSource | None = None,
    ) -> FineTuneResult:
        """`fine_tune` as one Ray task (both phases on one node); the model is built here."""
        ray = self._ray()

        def submit(mailbox: Any, key: str) -> Any:
            return self._remote_fine_tune.options(**self._options()).remote(
                base.spec.to_dict(), base.weights, base.description,
                self._data(ray, dataset, source), plan,
                self.host or get_settings(), mailbox, key, hooks.report_every,
                hooks.epoch_weights is not None)

        payload, weights = self._run_task(submit, hooks)
        return _with_model(payload, weights, plan)


def _with_model(outcome: FineTuneResult, weights: Weights, plan: FineTunePlan) -> FineTuneResult:
    """The outcome of a fine-tuning run elsewhere, with its model rebuilt here."""
    configure_tensorflow()
    spec = outcome.training.spec  # the last phase's: which layers were trainable then
    model = build_model(spec, seed=plan.head_settings.seed)
    model.set_weights(weights)
    return dataclasses.replace(outcome, training=dataclasses.replace(outcome.training,
                                                                     model=model))


_backends: dict[tuple[str, str], TrainingBackend] = {}
_backends_lock = threading.Lock()


def training_backend(name: str | None = None, *, ray_address: str | None = None) -> TrainingBackend:
    """The backend named (default: the `training_backend` setting), shared by the process."""
    host = get_settings()
    chosen = (name or host.training_backend).strip().lower()
    address = ray_address if ray_address is not None else host.ray_address
    with _backends_lock:
        if (chosen, address) not in _backends:
            if chosen == "local":
                _backends[(chosen, address)] = LocalBackend()
            elif chosen == "ray":
                _backends[(chosen, address)] = RayBackend.from_settings(host, address)
            else:
                raise TrainingError(
                    f"Expected a training backend among local, ray. Received: {name!r}"
                )
        return _backends[(chosen, address)]
