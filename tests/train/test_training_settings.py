"""Training settings: the learning-rate schedule, as shown and as Keras applies it."""

from __future__ import annotations

import argparse

import pytest

from cnnviz.cli.train import _training_settings, register
from cnnviz.train import TrainingError, TrainingSettings


def test_a_constant_schedule_keeps_the_rate() -> None:
    settings = TrainingSettings(learning_rate=0.01, epochs=4, schedule="constant")
    assert [settings.learning_rate_at(epoch) for epoch in (0, 2, 4)] == [0.01, 0.01, 0.01]


def test_the_cosine_schedule_halves_the_rate_midway_and_ends_at_zero() -> None:
    settings = TrainingSettings(learning_rate=0.01, epochs=4)
    assert settings.learning_rate_at(0) == pytest.approx(0.01)
    assert settings.learning_rate_at(2) == pytest.approx(0.005)
    assert settings.learning_rate_at(4) == pytest.approx(0.0, abs=1e-12)


def test_the_cosine_schedule_is_the_one_keras_applies() -> None:
    keras = pytest.importorskip("keras")
    settings = TrainingSettings(learning_rate=0.003, epochs=3)
    steps_per_epoch = 7
    schedule = keras.optimizers.schedules.CosineDecay(0.003, decay_steps=3 * steps_per_epoch)
    for step in (0, 5, 10, 15, 21):
        assert settings.learning_rate_at(step / steps_per_epoch) == pytest.approx(
            float(schedule(step)), rel=1e-5, abs=1e-9)


def test_an_unknown_schedule_is_refused_in_words() -> None:
    with pytest.raises(TrainingError, match="Received: schedule='step'"):
        TrainingSettings(schedule="step")


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_the_cli_takes_a_schedule(schedule: str) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["train", "model.json", "--dataset", "digits", "--schedule", schedule])
    assert _training_settings(args).schedule == schedule
