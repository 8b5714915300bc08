"""Host settings: a TOML file, then CNNVIZ_* variables, each checked with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from cnnviz.settings import Settings, SettingsError, load_settings


def test_defaults_without_a_file_or_variables(tmp_path: Path) -> None:
    assert load_settings(tmp_path / "none.toml", environ={}) == Settings()


def test_variables_win_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "cnnviz.toml"
    path.write_text("[cnnviz]\nmax_epochs = 5\nwarm_up = false\ndatasets = ['digits']\n")
    settings = load_settings(path, environ={"CNNVIZ_MAX_EPOCHS": "7"})
    assert (settings.max_epochs, settings.warm_up, settings.datasets) == (7, False, ("digits",))


@pytest.mark.parametrize(("raw", "expected"), [
    ("true", True), ("1", True), ("Yes", True), ("on", True),
    ("false", False), ("0", False), ("no", False), (" OFF ", False),
])
def test_switches_read_the_usual_words(tmp_path: Path, raw: str, expected: bool) -> None:
    settings = load_settings(tmp_path / "none.toml", environ={"CNNVIZ_WARM_UP": raw})
    assert settings.warm_up is expected


@pytest.mark.parametrize(("variable", "raw", "words"), [
    ("CNNVIZ_WARM_UP", "maybe", "warm_up must be true or false"),
    ("CNNVIZ_MAX_EPOCHS", "ten", "max_epochs must be a whole number"),
    ("CNNVIZ_MAX_PARAMS", "-1", "max_params must be 0 or more"),
])
def test_a_bad_variable_names_itself_and_what_it_takes(
    tmp_path: Path, variable: str, raw: str, words: str
) -> None:
    with pytest.raises(SettingsError, match=f"{variable}: {words}"):
        load_settings(tmp_path / "none.toml", environ={variable: raw})


def test_an_unknown_key_in_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cnnviz.toml"
    path.write_text("max_epoch = 5\n")
    with pytest.raises(SettingsError, match="unknown setting 'max_epoch'"):
        load_settings(path, environ={})


def test_the_training_backend_is_local_or_ray(tmp_path: Path) -> None:
    ray = load_settings(tmp_path / "none.toml", {"CNNVIZ_TRAINING_BACKEND": "ray",
                                                  "CNNVIZ_RAY_ADDRESS": "10.0.0.5:6379",
                                                  "CNNVIZ_TRAIN_RESOURCES": "gpu_box=1"})
    assert (ray.training_backend, ray.ray_address, ray.train_resources) == (
        "ray", "10.0.0.5:6379", ("gpu_box=1",))
    assert Settings().training_backend == "local" and Settings().train_cpus == 1
    with pytest.raises(SettingsError, match="training_backend among local, ray"):
        load_settings(tmp_path / "none.toml", {"CNNVIZ_TRAINING_BACKEND": "spark"})
