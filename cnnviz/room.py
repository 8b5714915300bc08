"""The room a host runs: its lesson and locks, its challenge and leaderboard. Plain data.

`check_against_lesson` is the one place a lock is enforced: the pages call it when they
apply a change to the model and when they start a training, whatever their widgets sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cnnviz.archfile import load_architecture
from cnnviz.errors import SpecError
from cnnviz.layers import LAYER_TYPES
from cnnviz.spec import ModelSpec

__all__ = [
    "NAME_MODES",
    "Challenge",
    "LeaderboardEntry",
    "Lesson",
    "LockViolation",
    "Locks",
    "check_against_lesson",
    "pareto_front",
    "shown_names",
]

NameMode = Literal["names", "anonymous"]
NAME_MODES: tuple[NameMode, ...] = ("names", "anonymous")
MAX_INSTRUCTION = 2_000


@dataclass(frozen=True)
class Locks:
    """What a lesson holds still. Empty/zero/False: not locked."""

    fix_dataset: bool = False
    max_epochs: int = 0
    allowed_layers: tuple[str, ...] = ()
    freeze_input_shape: bool = False
    hide_optimizer: bool = False

    def __post_init__(self) -> None:
        unknown = [name for name in self.allowed_layers if name not in LAYER_TYPES]
        if unknown:
            raise ValueError(f"Expected layer types among {', '.join(LAYER_TYPES)}. "
                             f"Received: allowed_layers={unknown!r}")
        if self.max_epochs < 0:
            raise ValueError(f"Expected max_epochs of 0 (no cap) or more. "
                             f"Received: max_epochs={self.max_epochs}")

    @property
    def any(self) -> bool:
        return self != Locks()

    def to_dict(self) -> dict[str, Any]:
        return {"fix_dataset": self.fix_dataset, "max_epochs": self.max_epochs,
                "allowed_layers": list(self.allowed_layers),
                "freeze_input_shape": self.freeze_input_shape,
                "hide_optimizer": self.hide_optimizer}

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Locks:
        return cls(fix_dataset=bool(values.get("fix_dataset", False)),
                   max_epochs=int(values.get("max_epochs", 0) or 0),
                   allowed_layers=tuple(str(name) for name in values.get("allowed_layers", ())),
                   freeze_input_shape=bool(values.get("freeze_input_shape", False)),
                   hide_optimizer=bool(values.get("hide_optimizer", False)))


@dataclass(frozen=True)
class Lesson:
    """What the host pushed to the room. `version` grows with each push."""

    version: int
    instruction: str
    architecture_json: str | None = None  # None: the lesson brings no model
    dataset_name: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)  # TrainingSettings.to_dict()
    locks: Locks = Locks()

    def spec(self) -> ModelSpec | None:
        """The lesson's model, or None where it brings none (or it cannot be read)."""
        if not self.architecture_json:
            return None

        try:
            return load_architecture(self.architecture_json)
        except SpecError:
            return None

    def describe_locks(self) -> list[str]:
        """Each lock in words, for the participant who meets it."""
        locks, said = self.locks, []
        if locks.fix_dataset and self.dataset_name:
            said.append(f"the dataset is {self.dataset_name}")
        if locks.max_epochs:
            said.append(f"at most {locks.max_epochs} epochs")
        if locks.allowed_layers:
            said.append(f"only these layers: {', '.join(locks.allowed_layers)}")
        if locks.freeze_input_shape:
            shape = self._input_shape()
            said.append("the input shape stays "
                        + ("×".join(map(str, shape)) if shape else "as it is"))
        if locks.hide_optimizer:
            said.append(f"the optimizer is {self.settings.get('optimizer', 'adam')}"
                        " with the lesson's learning rate")
        return said

    def _input_shape(self) -> tuple[int, ...] | None:
        spec = self.spec()
        return tuple(spec.input_shape) if spec is not None else None


@dataclass(frozen=True)
class LockViolation:
    """A change or a training a lock refuses: which lock, and why in words."""

    lock: Literal["dataset", "epochs", "layers", "input_shape", "optimizer"]
    message: str


def _layer_counts(spec: ModelSpec) -> dict[str, int]:
    counts: dict[str, int] = {}
    for layer in spec.layers:
        counts[layer.class_name] = counts.get(layer.class_name, 0) + 1
    return counts


def _spec_violations(lesson: Lesson, spec: ModelSpec,
                     previous: ModelSpec | None) -> list[LockViolation]:
    locks, found = lesson.locks, []
    if locks.allowed_layers:
        before = _layer_counts(previous) if previous is not None else {}
        added = sorted(name for name, count in _layer_counts(spec).items()
                       if name not in locks.allowed_layers and count > before.get(name, 0))
        if added:
            found.append(LockViolation("layers", (
                f"The host allows only {', '.join(locks.allowed_layers)} in this lesson. "
                f"Received: {', '.join(added)}")))
    if locks.freeze_input_shape:
        frozen = lesson._input_shape() or (tuple(previous.input_shape)
                                           if previous is not None else None)
        if frozen is not None and tuple(spec.input_shape) != frozen:
            found.append(LockViolation("input_shape", (
                f"The host froze the input shape at {'×'.join(map(str, frozen))} for this "
                f"lesson. Received: input_shape={'×'.join(map(str, spec.input_shape))}")))
    return found


def _training_violations(lesson: Lesson, dataset_name: str | None,
                         settings: Mapping[str, Any] | None) -> list[LockViolation]:
    locks, found = lesson.locks, []
    if locks.fix_dataset and lesson.dataset_name and dataset_name is not None \
            and dataset_name != lesson.dataset_name:
        found.append(LockViolation("dataset", (
            f"The host fixed the dataset to {lesson.dataset_name} for this lesson. "
            f"Received: dataset={dataset_name}")))
    if settings is None:
        return found
    epochs = int(settings.get("epochs", 0) or 0)
    if locks.max_epochs and epochs > locks.max_epochs:
        found.append(LockViolation("epochs", (
            f"The host allows at most {locks.max_epochs} epochs in this lesson. "
            f"Received: epochs={epochs}")))
    if locks.hide_optimizer:
        wanted = (lesson.settings.get("optimizer", "adam"), lesson.settings.get("learning_rate"))
        given = (settings.get("optimizer"), settings.get("learning_rate"))
        if given[0] != wanted[0] or (wanted[1] is not None and given[1] is not None
                                     and abs(float(given[1]) - float(wanted[1])) > 1e-12):
            found.append(LockViolation("optimizer", (
                f"The host set the optimizer for this lesson ({wanted[0]}, learning rate "
                f"{wanted[1]}). Received: optimizer={given[0]}, learning_rate={given[1]}")))
    return found


def check_against_lesson(lesson: Lesson | None, *, spec: ModelSpec | None = None,
                         previous: ModelSpec | None = None, dataset_name: str | None = None,
                         settings: Mapping[str, Any] | None = None) -> list[LockViolation]:
    """What the lesson's locks refuse in a change to `spec` (from `previous`) or in a
    training of `spec` on `dataset_name` with `settings` (`TrainingSettings.to_dict()`).

    A change is refused only for what it adds (a participant can always remove a
    forbidden layer); a training is refused for anything locked. The lesson's own model
    always passes."""
    if lesson is None or not lesson.locks.any:
        return []
    found: list[LockViolation] = []
    if spec is not None and spec != lesson.spec():
        found += _spec_violations(lesson, spec, previous)
    return found + _training_violations(lesson, dataset_name, settings)


@dataclass(frozen=True)
class Challenge:
    """The host's challenge: the best test accuracy on `dataset_name` within the limits."""

    id: int
    title: str
    dataset_name: str
    max_params: int
    epochs: int
    name_mode: NameMode = "names"

    def describe(self) -> str:
        return (f"Best test accuracy on {self.dataset_name} with at most "
                f"{self.max_params:,} parameters and {self.epochs} epochs")

    def qualifies(self, *, dataset_name: str, params: int, epochs_total: int,
                  test_accuracy: float | None) -> bool:
        return (test_accuracy is not None and dataset_name == self.dataset_name
                and params <= self.max_params and epochs_total <= self.epochs)


@dataclass(frozen=True)
class LeaderboardEntry:
    participant_id: int
    shown_name: str  # the display name, or "Participant N" where the host anonymises
    run_id: int
    test_accuracy: float
    interval: tuple[float, float]
    params: int
    seconds: float
    on_front: bool = False


def pareto_front(points: Iterable[tuple[int, float]]) -> set[int]:
    """Indexes of the points (params, accuracy) no other point beats: none has fewer or
    equal parameters with a higher accuracy, or fewer parameters with the same."""
    ordered = sorted(enumerate(points), key=lambda item: (item[1][0], -item[1][1]))
    front, best = set(), float("-inf")
    for index, (_params, accuracy) in ordered:
        if accuracy > best:
            front.add(index)
            best = accuracy
    return front


def shown_names(participants: Sequence[tuple[int, str | None]],
                mode: NameMode) -> dict[int, str]:
    """What the board calls each participant: their name, or a number where anonymised
    (numbered in the order they joined, so a number does not move between refreshes)."""
    named: dict[int, str] = {}
    for number, (participant_id, name) in enumerate(sorted(participants), start=1):
        named[participant_id] = (name if mode == "names" and name
                                 else f"Participant {number}")
    return named
