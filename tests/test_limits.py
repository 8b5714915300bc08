from __future__ import annotations

import pickle
from collections.abc import Callable

import pytest

from cnnviz.errors import LimitError
from cnnviz.limits import (
    check_activation_bytes,
    check_epochs,
    check_image_pixels,
    check_layers,
    check_params,
    check_upload_bytes,
    model_limit_errors,
    train_samples_cap,
)
from cnnviz.settings import Settings

CHECKS: list[tuple[str, Callable[[int, Settings], None]]] = [
    ("max_params", check_params),
    ("max_layers", check_layers),
    ("max_epochs", check_epochs),
    ("max_activation_bytes", check_activation_bytes),
    ("max_upload_bytes", lambda value, host: check_upload_bytes(value, "The file", host)),
    ("max_image_pixels", lambda value, host: check_image_pixels(value, 1, "The image", host)),
]


@pytest.mark.parametrize(("setting", "check"), CHECKS, ids=[name for name, _ in CHECKS])
def test_over_the_limit_names_the_setting_and_at_the_limit_passes(
    setting: str, check: Callable[[int, Settings], None]
) -> None:
    host = Settings(**{setting: 10})
    check(10, host)
    with pytest.raises(LimitError) as raised:
        check(11, host)
    error = raised.value
    assert (error.setting, error.limit, error.received) == (setting, 10, 11)
    assert f"CNNVIZ_{setting.upper()}" in error.message and "limit of 10" in error.message


@pytest.mark.parametrize(("setting", "check"), CHECKS, ids=[name for name, _ in CHECKS])
def test_zero_means_no_limit(setting: str, check: Callable[[int, Settings], None]) -> None:
    check(10**12, Settings(**{setting: 0}))


def test_model_limit_errors_lists_every_limit_hit() -> None:
    errors = model_limit_errors(5, 500, Settings(max_layers=4, max_params=400))
    assert [error.setting for error in errors] == ["max_layers", "max_params"]
    assert model_limit_errors(4, 400, Settings(max_layers=4, max_params=400)) == []


def test_training_samples_are_capped_with_a_note() -> None:
    assert train_samples_cap(100, Settings(max_train_samples=100)) == (100, None)
    used, note = train_samples_cap(101, Settings(max_train_samples=100))
    assert used == 100 and note is not None and "CNNVIZ_MAX_TRAIN_SAMPLES" in note


def test_a_limit_error_survives_pickling() -> None:
    with pytest.raises(LimitError) as raised:
        check_params(11, Settings(max_params=10))
    copy = pickle.loads(pickle.dumps(raised.value))
    assert (copy.message, copy.setting, copy.limit) == (raised.value.message, "max_params", 10)
