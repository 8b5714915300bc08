"""Hostile cases for the workspace store, through the whole app (AppTest).

A corrupt weights blob, a read-only database, a full disk, tampered cookies and hostile
strings as names: each page says what happened in words and the session goes on.
"""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from app_session import SMALL, open_app
from streamlit.testing.v1 import AppTest

import ui.workspace
from cnnviz.archfile import dump_architecture
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.spec import ModelSpec
from cnnviz.store import Store, open_store
from ui.state import RUNS_KEY, SPEC_KEY, STORE_PROBLEM_KEY, WORKSPACE_KEY

NOT_SAVED = "Your work is not being saved right now."


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'cnnviz.db'}", tmp_path / "uploads")


def _use(monkeypatch: pytest.MonkeyPatch, store: Store, token: str | None) -> None:
    """The app runs on `store`, in a browser whose cookie holds `token`."""
    monkeypatch.setattr(ui.workspace, "_process_store", lambda: store)
    monkeypatch.setattr(ui.workspace, "_browser_token", lambda: token)



def _texts(at: AppTest) -> str:
    return "\n".join(str(element.value) for kind in ("markdown", "caption", "warning", "error",
                                                     "info", "success", "header")
                     for element in getattr(at, kind))


def _bundle(spec: ModelSpec) -> bytes:
    from cnnviz.bundle import bundle_bytes
    from cnnviz.keras_build import build_model

    return bundle_bytes(build_model(spec, seed=1), spec, dataset_name="digits",
                        class_names=[str(n) for n in range(10)], test_accuracy=0.5)


def _damaged_weights(bundle: bytes) -> bytes:
    """The bundle with bytes of its weights member overwritten, the zip itself intact."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    weights = next(name for name in members if name.endswith(".npz"))
    raw = bytearray(members[weights])
    raw[len(raw) // 3: len(raw) // 3 + 64] = b"\xff" * 64
    members[weights] = bytes(raw)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _workspace_with_run(store: Store, weights: bytes) -> str:
    workspace = store.open_workspace(None)
    architecture = dump_architecture(SMALL, indent=None)
    store.save_architecture(workspace.id, architecture)
    run_id = store.start_run(workspace.id, architecture_json=architecture,
                             settings={"epochs": 1}, dataset_name="digits",
                             class_names=[str(n) for n in range(10)], epochs_total=1, params=1)
    store.finish_run(run_id, status="finished", history={"loss": [1.0]}, epochs_completed=1,
                     test_accuracy=0.5, test_loss=1.0, test_images=360,
                     confusion=[[1]], seconds_per_epoch=1.0, weights=weights)
    return workspace.token


@pytest.mark.parametrize("damage", ["not a zip", "truncated", "weights overwritten"])
def test_a_corrupt_weights_blob_is_explained_on_feature_maps_without_a_crash(
    store: Store, monkeypatch: pytest.MonkeyPatch, damage: str,
) -> None:
    good = _bundle(SMALL)
    blob = {"not a zip": b"\x00garbage" * 100, "truncated": good[: len(good) // 2],
            "weights overwritten": _damaged_weights(good)}[damage]
    _use(monkeypatch, store, _workspace_with_run(store, blob))
    at = open_app("pages/3_Feature_maps.py")
    text = _texts(at)
    assert "stored weights of run 1 could not be loaded" in text
    assert "Train the model again" in text
    assert "Untrained model: random weights" in text  # the page goes on with its drawing
    at.run()  # a rerun does not try (nor warn) again, and does not crash
    assert not at.exception, at.exception


def test_an_intact_stored_run_is_the_feature_maps_model(
    store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(monkeypatch, store, _workspace_with_run(store, _bundle(SMALL)))
    text = _texts(open_app("pages/3_Feature_maps.py"))
    assert "Model trained in this session on **digits**" in text
    assert "could not be loaded" not in text


def _read_only(store: Store, path: Path) -> Store:
    store.engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
    return Store(sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))


def test_a_read_only_database_says_work_is_not_saved_and_the_session_goes_on(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(monkeypatch, _read_only(store, tmp_path / "cnnviz.db"), None)  # a new participant
    at = open_app()
    assert NOT_SAVED in _texts(at) and "open a new workspace" in _texts(at)
    assert WORKSPACE_KEY not in at.session_state
    layers = len(at.session_state[SPEC_KEY].layers)
    at.button(key="build_add").click().run()  # building goes on
    assert not at.exception, at.exception
    assert len(at.session_state[SPEC_KEY].layers) == layers + 1


def test_a_known_workspace_on_a_read_only_database_opens_and_says_edits_are_not_saved(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = _workspace_with_run(store, _bundle(SMALL))
    _use(monkeypatch, _read_only(store, tmp_path / "cnnviz.db"), token)
    at = open_app(spec=SMALL)
    assert NOT_SAVED not in _texts(at)  # reading works: the model and the run are back
    assert at.session_state[SPEC_KEY].name == "small-digits"
    at.button(key="build_add").click().run()
    at.run()
    assert not at.exception, at.exception
    assert NOT_SAVED in _texts(at) and "Could not save your model" in _texts(at)


def test_a_full_disk_says_work_is_not_saved_and_the_session_goes_on(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = store.open_workspace(None).token
    store.engine.dispose()
    connection = sqlite3.connect(tmp_path / "cnnviz.db", isolation_level=None)
    pages = connection.execute("PRAGMA page_count").fetchone()[0]
    connection.execute("CREATE TABLE filler (data BLOB)")
    connection.execute(f"PRAGMA max_page_count = {pages + 8}")
    with pytest.raises(sqlite3.OperationalError, match="full"):  # fill the file to its cap
        while True:
            connection.execute("INSERT INTO filler VALUES (randomblob(1000))")
    connection.close()
    capped = Store(sa.create_engine(f"sqlite:///{tmp_path / 'cnnviz.db'}"))
    sa.event.listen(capped.engine, "connect", lambda dbapi, _record: dbapi.execute(
        f"PRAGMA max_page_count = {pages + 8}"))
    _use(monkeypatch, capped, token)
    big = ModelSpec((8, 8, 1), tuple(Conv2DSpec(filters=4, kernel_size=1, padding="same")
                                     for _ in range(90)) + (FlattenSpec(), DenseSpec(units=10)),
                    name="long")
    at = open_app(spec=big)  # its first run saves this long architecture: no room left
    at.run()
    assert not at.exception, at.exception
    assert NOT_SAVED in _texts(at) and "full" in at.session_state[STORE_PROBLEM_KEY]
    at.button(key="build_add").click().run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("cookie", ["", "x" * 10_000, "' OR 1=1 --", "<script>alert(1)</script>",
                                    "\x00\n\r;=", "ä" * 300])
def test_a_tampered_cookie_opens_a_fresh_empty_workspace(
    store: Store, monkeypatch: pytest.MonkeyPatch, cookie: str,
) -> None:
    someone = _workspace_with_run(store, b"weights")
    _use(monkeypatch, store, cookie)
    at = open_app()
    workspace = at.session_state[WORKSPACE_KEY]
    assert workspace.fresh and workspace.token not in (cookie, someone)
    assert store.runs(workspace.id) == [] and not at.session_state[RUNS_KEY]
    assert NOT_SAVED not in _texts(at)


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", "**bold** [x](javascript:1)",
                                  "Robert'); DROP TABLE runs;--", "<img src=x onerror=alert(1)>"])
def test_hostile_display_names_are_kept_as_text(
    store: Store, monkeypatch: pytest.MonkeyPatch, name: str,
) -> None:
    _use(monkeypatch, store, None)
    at = open_app()
    at.text_input(key="workspace_display_name").set_value(name).run()
    assert not at.exception, at.exception
    workspace = at.session_state[WORKSPACE_KEY]
    assert store.open_workspace(workspace.token).display_name == name
    assert not any(name in str(element.value) for element in at.markdown)  # never as markdown
    assert at.text_input(key="workspace_display_name").value == name


def test_a_10_kb_display_name_is_cut_to_the_fields_40_characters(
    store: Store, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use(monkeypatch, store, None)
    at = open_app()
    at.text_input(key="workspace_display_name").set_value("<b>" * 3_400).run()
    assert not at.exception, at.exception
    kept = store.open_workspace(at.session_state[WORKSPACE_KEY].token).display_name
    assert kept == ("<b>" * 14)[:40]
    assert not any("<b>" in str(element.value) for element in at.markdown)


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "**x** [y](javascript:1)",
                                  "m" * 10_000])
def test_a_stored_architecture_with_a_hostile_name_is_not_adopted(
    store: Store, monkeypatch: pytest.MonkeyPatch, name: str,
) -> None:
    workspace = store.open_workspace(None)
    hostile = dump_architecture(SMALL, indent=None).replace('"small-digits"', f'"{name}"')
    assert name in hostile
    store.save_architecture(workspace.id, hostile)
    _use(monkeypatch, store, workspace.token)
    at = open_app()
    assert at.session_state[SPEC_KEY].name != name
    assert name not in _texts(at)
