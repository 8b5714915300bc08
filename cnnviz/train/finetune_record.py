"""What a fine-tuning leaves behind: its phases, kept with the run and in its bundle.

A stored run and a bundle are ordinary trainings; this record (under the key `finetune`
of the run's settings and of the bundle's metadata) says where phase 2 began, each
phase's optimizer, rate, epochs and weight counts, the layer the unfreezing began at and
where the base came from, so that a reload shows the same two-phase chart and table.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

from cnnviz.train.finetune import FineTunePlan, FineTuneResult, PhaseReport

__all__ = ["FINETUNE_KEY", "FineTuneRecord"]

FINETUNE_KEY: Final = "finetune"
_PHASE_TYPES: Final = {field.name: field.type for field in dataclasses.fields(PhaseReport)}


@dataclass(frozen=True)
class FineTuneRecord:
    """A fine-tuning's phases as they ran (one phase where a stop came during phase 1)."""

    base: str  # where the base came from, e.g. "vgg16 with ImageNet weights"
    unfreeze_from: str
    planned_epochs: tuple[int, ...]  # each phase's epochs as asked for
    phases: tuple[PhaseReport, ...]

    @property
    def boundary_epoch(self) -> int:
        """Epochs done when phase 2 began (where the chart marks the boundary)."""
        return self.phases[0].epochs_completed if self.phases else 0

    @property
    def total_epochs(self) -> int:
        return sum(self.planned_epochs)

    @classmethod
    def of(cls, outcome: FineTuneResult, plan: FineTunePlan, base: str) -> FineTuneRecord:
        return cls(base=base, unfreeze_from=plan.unfreeze_from,
                   planned_epochs=(plan.head_settings.epochs, plan.finetune_settings.epochs),
                   phases=tuple(outcome.phases))

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base, "unfreeze_from": self.unfreeze_from,
                "planned_epochs": list(self.planned_epochs),
                "phases": [dataclasses.asdict(phase) for phase in self.phases]}

    @classmethod
    def from_dict(cls, data: object) -> FineTuneRecord | None:
        """The record written by `to_dict`; None for anything else (an ordinary run, or a
        record this cnnviz cannot read)."""
        if not isinstance(data, dict):
            return None
        base, unfreeze_from = data.get("base"), data.get("unfreeze_from")
        planned, phases = data.get("planned_epochs"), data.get("phases")
        if not (isinstance(base, str) and isinstance(unfreeze_from, str)
                and isinstance(planned, list) and isinstance(phases, list) and phases
                and all(_whole(epochs) for epochs in planned)):
            return None
        reports = [_phase(phase) for phase in phases]
        if any(report is None for report in reports):
            return None
        return cls(base, unfreeze_from, tuple(planned),
                   tuple(report for report in reports if report is not None))


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _phase(data: object) -> PhaseReport | None:
    if not isinstance(data, dict) or set(data) != set(_PHASE_TYPES):
        return None
    for name, kind in _PHASE_TYPES.items():
        value = data[name]
        if kind == "str" and not isinstance(value, str):
            return None
        if kind == "int" and not _whole(value):
            return None
        if kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return None
    return PhaseReport(**data)
