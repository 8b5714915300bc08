"""Each host limit set low, the way a host sets it (an environment variable), and its message
naming the setting seen wherever the limit bites: Build, Train, Feature maps and the CLI."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from app_session import SMALL, open_app
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz.archfile import dump_architecture
from cnnviz.cli import main
from cnnviz.presets import PRESETS
from cnnviz.settings import get_settings
from ui.state import SPEC_KEY
from ui.train.data import UPLOAD


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set `CNNVIZ_<NAME>` variables with `host.setenv`; settings are read afresh."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _limit(host: pytest.MonkeyPatch, name: str, value: int) -> str:
    host.setenv(f"CNNVIZ_{name.upper()}", str(value))
    get_settings.cache_clear()
    return f"CNNVIZ_{name.upper()}"



def _shown(at: AppTest) -> str:
    parts = [*at.error, *at.warning, *at.info, *at.caption, *at.markdown]
    return " ".join(str(part.value) for part in parts)


def _png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- Build ---------------------------------------------------------------------------------

def test_build_refuses_a_preset_with_more_layers_than_max_layers(host: pytest.MonkeyPatch) -> None:
    variable = _limit(host, "max_layers", 3)
    at = open_app(spec=SMALL)
    assert len(PRESETS["lenet-5"].layers) > 3
    at.selectbox(key="build_preset").set_value("lenet-5").run()  # picking loads
    assert not at.exception, at.exception
    assert at.session_state[SPEC_KEY] == SMALL  # the 8-layer preset was not loaded
    assert variable in _shown(at) and "over this server's limit of 3" in _shown(at)


def test_build_refuses_adding_a_layer_past_max_layers(host: pytest.MonkeyPatch) -> None:
    variable = _limit(host, "max_layers", len(SMALL.layers))
    at = open_app(spec=SMALL)
    at.button(key="build_add").click().run()
    assert not at.exception, at.exception
    assert at.session_state[SPEC_KEY] == SMALL
    assert variable in _shown(at)


@pytest.mark.parametrize("name", ["max_params", "max_activation_bytes", "max_layers"])
def test_build_warns_about_a_model_over_a_limit(host: pytest.MonkeyPatch, name: str) -> None:
    variable = _limit(host, name, 1)
    at = open_app(spec=SMALL)
    assert any(variable in warning.value for warning in at.warning)


# --- Train ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["max_params", "max_layers"])
def test_train_is_blocked_by_a_model_limit(host: pytest.MonkeyPatch, name: str) -> None:
    variable = _limit(host, name, 1)
    at = open_app("pages/2_Train.py", SMALL)
    assert at.button(key="train_start").disabled
    assert variable in _shown(at)


def test_train_caps_epochs_and_says_which_setting(host: pytest.MonkeyPatch) -> None:
    _limit(host, "max_epochs", 2)
    at = open_app("pages/2_Train.py", SMALL)
    epochs = at.number_input(key="train_epochs")
    assert epochs.max == 2 and "CNNVIZ_MAX_EPOCHS" in str(epochs.help)


def test_train_refuses_an_upload_over_max_upload_bytes(host: pytest.MonkeyPatch) -> None:
    variable = _limit(host, "max_upload_bytes", 100)
    at = open_app("pages/2_Train.py", SMALL)
    at.selectbox(key="train_dataset").set_value(UPLOAD).run()
    buffer = io.BytesIO()
    np.savez(buffer, x_train=np.zeros((20, 8, 8)), y_train=np.zeros(20, dtype=int),
             x_test=np.zeros((4, 8, 8)), y_test=np.zeros(4, dtype=int))
    at.file_uploader(key="train_upload").set_value(
        ("data.npz", buffer.getvalue(), "application/octet-stream")).run()
    assert not at.exception, at.exception
    assert any(variable in error.value for error in at.error)


# --- Feature maps --------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "value"), [("max_upload_bytes", 100),
                                             ("max_image_pixels", 1_000)])
def test_feature_maps_refuse_an_upload_over_a_limit(
    host: pytest.MonkeyPatch, name: str, value: int
) -> None:
    variable = _limit(host, name, value)
    at = open_app("pages/3_Feature_maps.py", SMALL)
    at.radio(key="fm_source").set_value("Upload").run()
    at.file_uploader(key="fm_upload").set_value(("big.png", _png(), "image/png")).run()
    assert not at.exception, at.exception
    assert any(variable in error.value for error in at.error)


def test_feature_maps_refuse_maps_over_max_activation_bytes(host: pytest.MonkeyPatch) -> None:
    variable = _limit(host, "max_activation_bytes", 100)
    at = open_app("pages/3_Feature_maps.py", SMALL)
    assert any(variable in error.value for error in at.error)


# --- CLI -----------------------------------------------------------------------------------

@pytest.fixture
def small_json(tmp_path: Path) -> Path:
    path = tmp_path / "small.json"
    path.write_text(dump_architecture(SMALL))
    return path


@pytest.mark.parametrize(("name", "value"), [("max_params", 10), ("max_layers", 2),
                                             ("max_epochs", 1)])
def test_cli_train_names_the_setting(
    host: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], small_json: Path,
    name: str, value: int,
) -> None:
    variable = _limit(host, name, value)
    status = main(["train", str(small_json), "--dataset", "digits", "--epochs", "2"])
    assert status == 2 and variable in capsys.readouterr().err


@pytest.mark.parametrize(("name", "value"), [("max_activation_bytes", 100),
                                             ("max_image_pixels", 1_000),
                                             ("max_upload_bytes", 100)])
def test_cli_featuremaps_names_the_setting(
    host: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], small_json: Path,
    tmp_path: Path, name: str, value: int,
) -> None:
    image = tmp_path / "big.png"
    image.write_bytes(_png())
    variable = _limit(host, name, value)
    status = main(["featuremaps", str(small_json), "--image", str(image),
                   "--out", str(tmp_path / "maps")])
    assert status == 2 and variable in capsys.readouterr().err


# --- cnnviz's own bounds in the layer form -----------------------------------------------

def test_a_filter_count_over_the_bound_is_explained_not_silently_dropped() -> None:
    at = open_app(spec=SMALL)
    filters = next(item for item in at.number_input if item.label == "filters")
    assert "65,536" in str(filters.help)
    filters.set_value(100_000).run()
    assert not at.exception, at.exception
    shown = " ".join(error.value for error in at.error)
    assert "filters=100000" in shown and "65,536" in shown and "memory" in shown


def test_an_input_height_over_the_bound_is_explained() -> None:
    at = open_app(spec=SMALL)
    height = next(item for item in at.number_input if item.label == "height")
    height.set_value(100_000).run()
    assert not at.exception, at.exception
    assert at.session_state[SPEC_KEY] == SMALL
    assert any("4,096 pixels a side" in warning.value for warning in at.warning)
    assert next(item for item in at.number_input if item.label == "height").value == 8
