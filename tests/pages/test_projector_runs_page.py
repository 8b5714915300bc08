"""A participant's trained run on the host's projector (AppTest): its first feature maps
there, "Bring it to my Build page" with its trained weights, and the Feature maps page
naming whose run it shows; a click on a leaderboard point opens that run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from app_session import open_app
from room_session import room_store, signed_in_host
from streamlit.testing.v1 import AppTest
from training_data import save_stripes_npz, tiny_spec

from cnnviz.archfile import dump_architecture
from cnnviz.bundle import bundle_bytes, weights_npz
from cnnviz.data import array_to_image, load_dataset, load_upload, to_model_input
from cnnviz.keras_build import build_model
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec, MaxPooling2DSpec
from cnnviz.spec import ModelSpec
from cnnviz.store import Store
from ui.host.preview import run_preview
from ui.host.projector import Projected
from ui.markdown import escape_markdown
from ui.state import BROUGHT_KEY, SPEC_KEY, TRAINED_KEY, WORKSPACE_KEY

SECRET = "a projector secret nobody guesses"
NAME = "Ada_<b>*Lovelace*</b>"
WEIGHTS_SEED = 3  # the participant's "trained" weights; the page's random ones are seed 0
THEIRS = ModelSpec((8, 8, 1), (Conv2DSpec(filters=5, kernel_size=3, activation="relu"),
                               MaxPooling2DSpec(pool_size=2), FlattenSpec(),
                               DenseSpec(units=10, activation="softmax")), name="ada-digits")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    with room_store(tmp_path, monkeypatch, SECRET) as opened:
        yield opened


def _host() -> AppTest:
    return signed_in_host(SECRET)


def _shown(at: AppTest) -> str:
    return "\n".join(str(element.value) for kind in ("markdown", "caption", "warning", "error",
                                                     "info", "success")
                     for element in getattr(at, kind))


EPOCH_1_SEED = 5  # the weights the participant's run kept after its first epoch


def _participant_with_trained_run(store: Store) -> tuple[int, int]:
    """A participant (named `NAME`) whose finished run on digits kept seed-3 weights, and
    seed-5 ones as its epoch 1."""
    participant = open_app()
    workspace = participant.session_state[WORKSPACE_KEY]
    store.set_display_name(workspace.id, NAME)
    architecture = dump_architecture(THEIRS, indent=None)
    classes = [str(digit) for digit in range(10)]
    run_id = store.start_run(workspace.id, architecture_json=architecture,
                             settings={"epochs": 2}, dataset_name="digits",
                             class_names=classes, epochs_total=2, params=510)
    store.record_epoch(run_id, history={"loss": [1.2]}, epochs_completed=1,
                       checkpoint=weights_npz(build_model(THEIRS, seed=EPOCH_1_SEED), THEIRS))
    weights = bundle_bytes(build_model(THEIRS, seed=WEIGHTS_SEED), THEIRS,
                           dataset_name="digits", class_names=classes, test_accuracy=0.9)
    store.finish_run(run_id, status="finished",
                     history={"loss": [1.2, 0.6], "accuracy": [0.6, 0.8]}, epochs_completed=2,
                     test_accuracy=0.9, test_loss=0.4, test_images=360, confusion=[[1]],
                     seconds_per_epoch=1.5, weights=weights)
    return workspace.id, run_id


def _keras_outputs(x: np.ndarray, seed: int) -> list[np.ndarray]:
    """Every layer's output for `x`, by Keras's own layers with `seed`'s weights."""
    model = build_model(THEIRS, seed=seed)
    outputs, hidden = [], x[None]
    for layer in model.layers:
        hidden = layer(hidden)
        outputs.append(np.asarray(hidden)[0])
    return outputs


def test_the_host_brings_a_run_with_its_weights_and_feature_maps_name_whose_it_is(
    store: Store,
) -> None:
    owner, run_id = _participant_with_trained_run(store)
    host = _host()
    own = host.session_state[SPEC_KEY]
    host.session_state["host_projected"] = Projected(owner, run_id)
    host.run()
    assert "Its trained weights come too" in _shown(host)
    host.button(key="host_projector_bring").click().run()
    assert not host.exception, host.exception
    assert host.session_state[SPEC_KEY] == THEIRS
    assert host.session_state[BROUGHT_KEY].owner == NAME

    host.switch_page("pages/3_Feature_maps.py").run()
    assert not host.exception, host.exception
    banner = "\n".join(str(element.value) for element in host.success)
    assert f"**{escape_markdown(NAME)}**'s run {run_id}" in banner and "**90.0%**" in banner
    assert "<b>" not in banner and "Untrained" not in _shown(host)
    (results,) = host.session_state["cnnviz_fm_results"].values()
    digits = load_dataset("digits")
    first_zero = digits.x_test[np.flatnonzero(digits.y_test == 0)[0]]  # the page's sample
    x = to_model_input(array_to_image(first_zero), THEIRS.input_shape)
    expected = _keras_outputs(x, WEIGHTS_SEED)
    for activation, keras_output in zip(results.activations, expected, strict=True):
        np.testing.assert_allclose(activation.output, keras_output, rtol=1e-5, atol=1e-6)
    random_conv = _keras_outputs(x, 0)[0]
    assert not np.allclose(results.activations[0].output, random_conv)  # not seed 0's

    host.switch_page("pages/1_Build.py").run()
    next(button for button in host.button if button.key == "build_undo").click().run()
    assert host.session_state[SPEC_KEY] == own  # the host's own model, one Undo away
    host.switch_page("pages/3_Feature_maps.py").run()
    assert "brought from the Host page" not in _shown(host)  # not their weights any more


def test_a_brought_run_steps_through_the_epochs_its_owner_kept(store: Store) -> None:
    owner, run_id = _participant_with_trained_run(store)
    host = _host()
    host.session_state["host_projected"] = Projected(owner, run_id)
    host.run()
    host.button(key="host_projector_bring").click().run()
    host.switch_page("pages/3_Feature_maps.py").run()
    assert host.select_slider(key="fm_epoch").options == ["0 (start)", "1", "2 (end)"]
    host.select_slider(key="fm_epoch").set_value(1).run()
    assert not host.exception, host.exception
    digits = load_dataset("digits")
    first_zero = digits.x_test[np.flatnonzero(digits.y_test == 0)[0]]
    x = to_model_input(array_to_image(first_zero), THEIRS.input_shape)
    at_epoch_1 = next(results for key, results in host.session_state["cnnviz_fm_results"].items()
                      if "epoch1" in str(key))
    np.testing.assert_allclose(at_epoch_1.activations[0].output,
                               _keras_outputs(x, EPOCH_1_SEED)[0], rtol=1e-5, atol=1e-6)


def test_the_projector_shows_the_runs_first_feature_maps_on_request(store: Store) -> None:
    owner, run_id = _participant_with_trained_run(store)
    host = _host()
    host.session_state["host_projected"] = Projected(owner, run_id)
    host.run()
    assert TRAINED_KEY not in host.session_state  # nothing built before the button
    assert "host_projector_previews" not in host.session_state
    host.button(key=f"host_projector_maps_{run_id}").click().run()
    assert not host.exception, host.exception
    preview = host.session_state["host_projector_previews"][run_id]
    digits = load_dataset("digits")
    x = to_model_input(array_to_image(digits.x_test[0]), THEIRS.input_shape)
    np.testing.assert_allclose(preview.maps, _keras_outputs(x, WEIGHTS_SEED)[0], rtol=1e-5,
                               atol=1e-6)
    assert "5 maps of 6×6" in _shown(host)
    assert f"Feature maps of run {run_id}" in _shown(host)
    host.run()  # kept: the next refresh draws it again without building the model again
    assert host.session_state["host_projector_previews"][run_id] is preview
    assert "5 maps of 6×6" in _shown(host)


def test_a_run_on_a_kept_upload_previews_a_test_image_of_that_upload(
    store: Store, tmp_path: Path,
) -> None:
    owner = store.open_workspace(None).id
    data = save_stripes_npz(tmp_path).read_bytes()
    spec, classes = tiny_spec(), ["left", "right"]
    run_id = store.start_run(owner, architecture_json=dump_architecture(spec, indent=None),
                             settings={}, dataset_name="stripes", class_names=classes,
                             epochs_total=1, params=1,
                             upload_hash=store.keep_upload(owner, "stripes.npz", data))
    store.finish_run(run_id, status="finished", history={"loss": [1.0]}, epochs_completed=1,
                     test_accuracy=0.5, test_loss=1.0, test_images=40, confusion=[[1]],
                     seconds_per_epoch=1.0, weights=bundle_bytes(
                         build_model(spec, seed=WEIGHTS_SEED), spec, dataset_name="stripes",
                         class_names=classes))
    (run,) = store.runs(owner)
    preview = run_preview(store, owner, run)
    stripes = load_upload("stripes.npz", data, max_bytes=len(data))
    first_label = stripes.class_names[int(stripes.y_test[0])]
    assert preview.image_label == f"{first_label} · stripes test image 1"
    x = to_model_input(array_to_image(stripes.x_test[0]), spec.input_shape)
    conv = build_model(spec, seed=WEIGHTS_SEED).layers[0]
    np.testing.assert_allclose(preview.maps, np.asarray(conv(x[None]))[0], rtol=1e-5,
                               atol=1e-6)


def test_damaged_weights_give_a_message_and_the_architecture_still_comes(
    store: Store,
) -> None:
    participant = open_app()
    owner = participant.session_state[WORKSPACE_KEY].id
    architecture = dump_architecture(THEIRS, indent=None)
    run_id = store.start_run(owner, architecture_json=architecture, settings={},
                             dataset_name="digits", class_names=[], epochs_total=1, params=1)
    store.finish_run(run_id, status="finished", history={"loss": [1.0]}, epochs_completed=1,
                     test_accuracy=0.5, test_loss=1.0, test_images=360, confusion=[[1]],
                     seconds_per_epoch=1.0, weights=b"not a bundle")
    host = _host()
    host.session_state["host_projected"] = Projected(owner, run_id)
    host.run()
    host.button(key=f"host_projector_maps_{run_id}").click().run()
    assert not host.exception, host.exception
    assert "Its feature maps cannot be shown" in "\n".join(w.value for w in host.warning)
    host.button(key="host_projector_bring").click().run()
    assert not host.exception, host.exception
    assert host.session_state[SPEC_KEY] == THEIRS
    assert BROUGHT_KEY not in host.session_state
    assert f"the weights of run {run_id} could not be loaded" in _shown(host)


def _leaderboard_click_script() -> None:
    import streamlit as st

    from ui.host import HOST_KEY
    from ui.host.leaderboard import picked_run
    from ui.host.projector import project_run, projector_view
    from ui.lesson import room_store

    st.session_state[HOST_KEY] = True
    room = room_store()
    assert room is not None
    event = st.session_state["test_chart_event"]  # what plotly_chart(on_select=…) returns
    picked = picked_run(None, event, [])
    if picked is not None:
        project_run(room, picked)
    projector_view(room)


@pytest.mark.parametrize("customdata", ["number", "list"])
def test_a_click_on_a_leaderboard_point_opens_that_run(store: Store, customdata: str) -> None:
    owner, run_id = _participant_with_trained_run(store)
    other_run = store.start_run(owner, architecture_json=dump_architecture(THEIRS),
                                settings={}, dataset_name="digits", class_names=[],
                                epochs_total=1, params=1)
    point: dict[str, Any] = {"curve_number": 0, "point_index": 0, "x": 510, "y": 0.9,
                             "customdata": run_id if customdata == "number" else [run_id]}
    at = AppTest.from_function(_leaderboard_click_script, default_timeout=60)
    at.session_state["test_chart_event"] = {"selection": {"points": [point], "box": [],
                                                          "lasso": []}}
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["host_projected"] == Projected(owner, run_id)
    shown = at.selectbox(key=f"host_projector_run_{owner}_{run_id}")
    assert shown.value == run_id and shown.value != other_run
    assert f"On the projector: {escape_markdown(NAME)}" in _shown(at)
