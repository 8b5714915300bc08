"""Which epochs a training keeps under the host's bound: deterministic, first and last."""

from __future__ import annotations

import pytest

from cnnviz.settings import Settings, load_settings
from cnnviz.train import epoch_plan, kept_epochs


def test_every_epoch_is_kept_when_they_fit() -> None:
    assert kept_epochs(5, 5) == (1, 2, 3, 4, 5)
    assert kept_epochs(5, 50) == (1, 2, 3, 4, 5)
    assert epoch_plan(5, 1_000, 5_000).keeps_all


@pytest.mark.parametrize(("epochs", "capacity", "expected"), [
    (10, 2, (1, 10)),
    (10, 3, (1, 6, 10)),
    (10, 4, (1, 4, 7, 10)),
    (50, 5, (1, 13, 26, 38, 50)),
    (7, 1, (7,)),
    (7, 0, ()),
])  # fmt: skip
def test_a_subset_is_the_first_the_last_and_evenly_spaced(
        epochs: int, capacity: int, expected: tuple[int, ...]) -> None:
    assert kept_epochs(epochs, capacity) == expected


@pytest.mark.parametrize("epochs", range(1, 60))
def test_the_bound_is_respected_and_the_choice_never_changes(epochs: int) -> None:
    for bound in (0, 999, 1_000, 2_500, 7_000, 60_000):
        plan = epoch_plan(epochs, 1_000, bound)
        assert plan.kept == epoch_plan(epochs, 1_000, bound).kept  # deterministic
        assert list(plan.kept) == sorted(set(plan.kept))
        assert all(1 <= epoch <= epochs for epoch in plan.kept)
        if bound:
            assert plan.total_bytes <= bound
        assert len(plan.kept) == min(epochs, bound // 1_000 if bound else epochs)
        if len(plan.kept) >= 2:
            assert plan.kept[0] == 1 and plan.kept[-1] == epochs


def test_the_page_says_which_epochs_are_kept_and_why() -> None:
    assert epoch_plan(4, 2_000_000, 20_000_000).describe() == (
        "All 4 epochs are kept (2.0 MB each).")
    text = epoch_plan(10, 8_000_000, 20_000_000).describe()
    assert text.startswith("Epochs 1, 10 of 10 are kept: each takes 8.0 MB")
    assert "epoch_checkpoint_bytes" in text
    assert epoch_plan(3, 30_000_000, 20_000_000).describe().startswith("No epoch is kept")


def test_the_bound_is_a_host_setting_with_its_variable() -> None:
    assert Settings().epoch_checkpoint_bytes == 20_000_000
    assert load_settings(environ={"CNNVIZ_EPOCH_CHECKPOINT_BYTES": "1234"},
                         path="no-such-file.toml").epoch_checkpoint_bytes == 1234
