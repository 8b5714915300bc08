"""Which epochs' weights a training keeps, under the host's bound (`epoch_checkpoint_bytes`).

The choice is deterministic: the same number of epochs, checkpoint size and bound always
keep the same epochs — all of them when they fit, otherwise the first and the last with
the others spread evenly between. Epoch 0 (the starting weights) is never stored: it is
rebuilt from the architecture and the training's seed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EpochPlan", "epoch_plan", "kept_epochs"]


def kept_epochs(epochs: int, capacity: int) -> tuple[int, ...]:
    """`capacity` of the epochs 1…`epochs`, in order: every one when they fit; one: the
    last; otherwise the first, the last and evenly spaced ones between (rounded half up)."""
    if epochs < 1 or capacity < 1:
        return ()
    if capacity >= epochs:
        return tuple(range(1, epochs + 1))
    if capacity == 1:
        return (epochs,)
    gaps = capacity - 1
    # The spacing (epochs - 1) / gaps is above 1, so no two picks round to the same epoch.
    return tuple(1 + (2 * step * (epochs - 1) + gaps) // (2 * gaps) for step in range(capacity))


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


@dataclass(frozen=True)
class EpochPlan:
    """The epochs a training of `epochs_total` epochs keeps, `bytes_per_epoch` each."""

    epochs_total: int
    bytes_per_epoch: int
    bound_bytes: int  # 0: no bound, every epoch is kept

    @property
    def capacity(self) -> int:
        if self.bound_bytes == 0:
            return self.epochs_total
        return self.bound_bytes // self.bytes_per_epoch if self.bytes_per_epoch > 0 else 0

    @property
    def kept(self) -> tuple[int, ...]:
        return kept_epochs(self.epochs_total, self.capacity)

    @property
    def total_bytes(self) -> int:
        return len(self.kept) * self.bytes_per_epoch

    @property
    def keeps_all(self) -> bool:
        return len(self.kept) == self.epochs_total

    def keeps(self, epoch: int) -> bool:
        return epoch in self.kept

    def describe(self) -> str:
        """One sentence for the page: which epochs are kept, and why not all."""
        size = _megabytes(self.bytes_per_epoch)
        if self.keeps_all:
            return (f"All {self.epochs_total} epochs are kept ({size} each).")
        bound = (f"this server keeps at most {_megabytes(self.bound_bytes)} of epoch weights "
                 f"per training (epoch_checkpoint_bytes)")
        if not self.kept:
            return f"No epoch is kept: one epoch's weights take {size}, and {bound}."
        listed = ", ".join(str(epoch) for epoch in self.kept)
        return (f"Epochs {listed} of {self.epochs_total} are kept: each takes {size}, and "
                f"{bound}.")


def epoch_plan(epochs_total: int, bytes_per_epoch: int, bound_bytes: int) -> EpochPlan:
    """The plan for a training; `bytes_per_epoch` is one epoch's stored weights."""
    return EpochPlan(max(0, epochs_total), max(0, bytes_per_epoch), max(0, bound_bytes))
