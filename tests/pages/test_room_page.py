"""The room through the whole app (AppTest): a host and two participants on one store.

The host signs in with the secret and pushes a lesson; participants get it as a notice,
load it, and meet its locks, which hold even when the widgets' values are forged. A
participant never reaches the Host page; display names stay text on the host's view.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from app_session import open_app
from room_session import room_store
from streamlit.testing.v1 import AppTest

from cnnviz.archfile import dump_architecture
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.room import Locks
from cnnviz.settings import get_settings
from cnnviz.spec import ModelSpec
from cnnviz.store import RoomStore, Store
from ui.host import HOST_KEY
from ui.lesson import forget_cached_lesson
from ui.state import JOB_KEY, SPEC_KEY, WORKSPACE_KEY

SECRET = "correct horse battery staple"
PRESET_KEY = "build_preset"  # the Build page's preset menu
HOSTILE = "<img src=x onerror=alert(1)>**b**"
LESSON_MODEL = ModelSpec((8, 8, 1), (Conv2DSpec(filters=4, kernel_size=3, activation="relu"),
                                     FlattenSpec(), DenseSpec(units=10, activation="softmax")),
                         name="lesson-model")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    with room_store(tmp_path, monkeypatch, SECRET) as opened:
        yield opened


def _shown(at: AppTest) -> str:
    return "\n".join(str(element.value) for kind in ("markdown", "caption", "warning", "error",
                                                     "info", "success", "header", "text")
                     for element in getattr(at, kind))


def _sign_in(at: AppTest, secret: str) -> None:
    at.text_input(key="host_secret_typed").input(secret)
    next(button for button in at.button if button.label == "Sign in").click()
    at.run()


def _push(store: Store, **locks: object) -> None:
    RoomStore(store).push_lesson(
        instruction="Train the lesson's model on digits.",
        architecture_json=dump_architecture(LESSON_MODEL, indent=None), dataset_name="digits",
        settings={"optimizer": "sgd", "learning_rate": 0.01, "epochs": 2},
        locks=Locks(**locks))  # type: ignore[arg-type]
    forget_cached_lesson()


def test_only_a_signed_in_host_reaches_the_host_page(store: Store) -> None:
    participant = open_app()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        participant.switch_page("pages/4_Host.py")  # not in a participant's navigation
    _sign_in(participant, "guess")
    assert "not the host secret" in _shown(participant)
    assert HOST_KEY not in participant.session_state
    _sign_in(participant, SECRET)  # too soon after a wrong try: refused even when right
    assert "Wait" in _shown(participant) and HOST_KEY not in participant.session_state

    host = open_app()
    _sign_in(host, SECRET)
    assert host.session_state[HOST_KEY] is True
    host.switch_page("pages/4_Host.py").run()
    assert not host.exception, host.exception
    assert "Host · the room" in _shown(host)


def test_without_a_secret_the_sidebar_says_how_to_set_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CNNVIZ_HOST_SECRET")
    get_settings.cache_clear()
    at = open_app()
    assert "CNNVIZ_HOST_SECRET" in _shown(at)
    assert not any(box.key == "host_secret_typed" for box in at.text_input)


def test_the_host_sees_both_participants_with_names_as_text(store: Store) -> None:
    first, second = open_app(), open_app()
    workspaces = [at.session_state[WORKSPACE_KEY] for at in (first, second)]
    store.set_display_name(workspaces[0].id, HOSTILE)
    store.set_display_name(workspaces[1].id, "Ada")
    host = open_app()
    _sign_in(host, SECRET)
    host.switch_page("pages/4_Host.py").run()
    assert not host.exception, host.exception
    assert len(host.dataframe) == 1  # the room view
    table = host.dataframe[0].value
    names = list(table["Participant"])
    assert HOSTILE in names and "Ada" in names  # the exact text, in a data grid
    assert set(table["State"]) == {"editing"}
    assert "onerror" not in _shown(host)  # never in Markdown or HTML


def test_a_lesson_is_loaded_on_the_participants_click_with_their_model_one_undo_away(
    store: Store
) -> None:
    participant = open_app()
    own = participant.session_state[SPEC_KEY]
    _push(store)
    participant.run()
    assert "Train the lesson's model on digits." in _shown(participant)
    assert participant.session_state[SPEC_KEY] == own  # nothing overwritten without a click
    participant.button(key="lesson_load").click().run()
    assert not participant.exception, participant.exception
    assert participant.session_state[SPEC_KEY] == LESSON_MODEL
    assert not any(button.key == "lesson_load" for button in participant.button)
    assert "one Undo away" in _shown(participant)
    undo = next(button for button in participant.button if "Undo" in button.label
                or button.key == "build_undo")
    undo.click().run()
    assert participant.session_state[SPEC_KEY] == own


def test_a_forged_layer_type_outside_the_lessons_palette_is_refused(store: Store) -> None:
    participant = open_app()
    _push(store, allowed_layers=("Conv2D", "Flatten", "Dense"))
    participant.run()
    participant.button(key="lesson_load").click().run()
    before = participant.session_state[SPEC_KEY]
    assert "MaxPooling2D" not in participant.selectbox(key="build_new_type").options
    # Another way in: a preset with MaxPooling2D layers, picked from the preset menu.
    participant.selectbox(key=PRESET_KEY).set_value("chollet-mnist-convnet").run()
    assert not participant.exception, participant.exception
    assert participant.session_state[SPEC_KEY] == before
    assert "allows only Conv2D, Flatten, Dense" in _shown(participant)
    participant.selectbox(key="build_new_type").set_value("Conv2D")
    participant.button(key="build_add").click().run()
    assert len(participant.session_state[SPEC_KEY].layers) == len(before.layers) + 1


def test_a_frozen_input_shape_holds_when_its_fields_are_changed(store: Store) -> None:
    participant = open_app()
    _push(store, freeze_input_shape=True)
    participant.run()
    participant.button(key="lesson_load").click().run()
    height = next(box for box in participant.number_input if str(box.key).endswith("_h"))
    height.set_value(20).run()
    assert not participant.exception, participant.exception
    assert participant.session_state[SPEC_KEY].input_shape == (8, 8, 1)
    assert "froze the input shape at 8×8×1" in _shown(participant)


def test_a_training_with_settings_the_lesson_locks_is_never_started(store: Store) -> None:
    participant = open_app()
    participant.session_state[SPEC_KEY] = LESSON_MODEL
    participant.switch_page("pages/2_Train.py").run()
    participant.number_input(key="train_epochs").set_value(9).run()
    assert not participant.exception, participant.exception
    _push(store, fix_dataset=True, max_epochs=3, hide_optimizer=True)
    # The Train button was drawn with 9 epochs before the lock came: press it as it was.
    participant.button(key="train_start").click().run()
    assert not participant.exception, participant.exception
    assert JOB_KEY not in participant.session_state
    assert "at most 3 epochs" in _shown(participant)
    assert participant.number_input(key="train_epochs").max == 3
    assert not any(box.key == "train_optimizer" for box in participant.selectbox)
