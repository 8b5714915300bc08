"""The workspace store, the same tests on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import threading
import time
import zipfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from run_rows import start_run

from cnnviz.errors import DisplayNameError, StoreError
from cnnviz.store import SCHEMA_VERSION, Store, migrate, open_store
from cnnviz.store import workspace as workspace_module
from cnnviz.store.schema import MIGRATIONS, current_version

HOSTILE = ["Robert'); DROP TABLE runs;--", "x\" OR 1=1 --", "%_\\", "<script>alert(1)</script>",
           "**bold** [link](javascript:alert(1))"]


def _start(store: Store, workspace_id: int, epochs: int = 3) -> int:
    return start_run(store, workspace_id, epochs, seed=0)


def _finish(store: Store, run_id: int, weights: bytes = b"weights") -> None:
    store.finish_run(run_id, status="finished", history={"loss": [1.0, 0.5]},
                     epochs_completed=2, test_accuracy=0.9, test_loss=0.3, test_images=360,
                     confusion=[[3, 1], [0, 4]], seconds_per_epoch=1.5, weights=weights)


def test_a_missing_token_opens_a_fresh_workspace_and_its_token_reopens_it(store: Store) -> None:
    first = store.open_workspace(None)
    assert first.fresh and len(first.token) >= 40
    store.save_architecture(first.id, '{"name": "mine"}')
    store.save_dataset(first.id, "shapes")
    again = store.open_workspace(first.token)
    assert not again.fresh and again.id == first.id
    assert again.architecture_json == '{"name": "mine"}' and again.dataset_name == "shapes"


@pytest.mark.parametrize("forged", ["", "0", "not-a-token", "A" * 43, "' OR '1'='1", "x" * 10_000])
def test_a_tampered_or_unknown_token_never_opens_someone_elses_workspace(
    store: Store, forged: str
) -> None:
    owner = store.open_workspace(None)
    store.save_architecture(owner.id, '{"name": "secret"}')
    opened = store.open_workspace(forged)
    assert opened.fresh and opened.id != owner.id and opened.architecture_json is None
    tampered = store.open_workspace(owner.token[:-1] + ("A" if owner.token[-1] != "A" else "B"))
    assert tampered.fresh and tampered.id != owner.id


def test_only_a_hash_of_the_token_is_stored(store: Store) -> None:
    workspace = store.open_workspace(None)
    with store.engine.connect() as db:
        stored = db.execute(sa.text("SELECT token_hash FROM tokens")).scalars().all()
    assert workspace.token not in stored and len(stored) == 1


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_display_names_are_stored_verbatim_as_data(store: Store, name: str) -> None:
    workspace = store.open_workspace(None)
    assert store.set_display_name(workspace.id, name) == name
    assert store.open_workspace(workspace.token).display_name == name
    store.save_architecture(workspace.id, json.dumps({"name": name}))
    assert json.loads(store.open_workspace(workspace.token).architecture_json or "")["name"] == name
    with store.engine.connect() as db:
        assert db.execute(sa.text("SELECT count(*) FROM runs")).scalar_one() == 0


def test_a_10_kb_display_name_is_refused_with_the_limit(store: Store) -> None:
    workspace = store.open_workspace(None)
    with pytest.raises(DisplayNameError, match="at most 40 characters"):
        store.set_display_name(workspace.id, "n" * 10_000)
    with pytest.raises(DisplayNameError, match="control characters"):
        store.set_display_name(workspace.id, "a\u202eb")
    assert store.set_display_name(workspace.id, "  Ada   Lovelace ") == "Ada Lovelace"


def test_a_run_keeps_everything_and_its_weights_byte_for_byte(store: Store) -> None:
    workspace = store.open_workspace(None)
    run_id = _start(store, workspace.id)
    blob = os.urandom(50_000)
    _finish(store, run_id, blob)
    (run,) = store.runs(workspace.id)
    assert (run.status, run.test_accuracy, run.test_images, run.confusion) == (
        "finished", 0.9, 360, [[3, 1], [0, 4]])
    assert run.history == {"loss": [1.0, 0.5]} and run.class_names[-1] == "9"
    assert run.settings == {"epochs": 3, "seed": 0} and run.weights_bytes == len(blob)
    assert store.run_weights(workspace.id, run_id) == blob


def test_weights_are_only_read_by_their_own_workspace(store: Store) -> None:
    owner, other = store.open_workspace(None), store.open_workspace(None)
    run_id = _start(store, owner.id)
    _finish(store, run_id)
    assert store.run_weights(other.id, run_id) is None
    assert store.runs(other.id) == []


def test_a_run_cut_short_is_kept_as_interrupted_with_its_last_epoch(store: Store) -> None:
    workspace = store.open_workspace(None)
    run_id, finished = _start(store, workspace.id, epochs=5), _start(store, workspace.id)
    store.record_epoch(run_id, history={"loss": [1.0, 0.8]}, epochs_completed=2,
                       weights=b"epoch-2")
    _finish(store, finished)
    store.interrupt_run(run_id)
    store.interrupt_run(finished)  # only a running run is cut short
    cut, done = store.runs(workspace.id)
    assert (cut.status, cut.status_text, cut.epochs_completed) == (
        "interrupted", "interrupted at epoch 3 of 5", 2)
    assert store.run_weights(workspace.id, run_id) == b"epoch-2" and done.status == "finished"


def test_a_run_whose_server_died_reads_as_interrupted_with_its_last_epoch(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = store.open_workspace(None)
    run_id = _start(store, workspace.id, epochs=5)
    store.record_epoch(run_id, history={"loss": [1.0, 0.8]}, epochs_completed=2,
                       weights=b"epoch-2")
    assert store.runs(workspace.id)[0].status == "running"
    later = time.time() + workspace_module.STALE_RUN_SECONDS + 1
    monkeypatch.setattr(workspace_module.time, "time", lambda: later)
    (run,) = store.runs(workspace.id)
    assert run.status == "interrupted" and run.status_text == "interrupted at epoch 3 of 5"
    assert store.run_weights(workspace.id, run_id) == b"epoch-2"


def test_transfer_code_moves_the_workspace_once(store: Store) -> None:
    workspace = store.open_workspace(None)
    code = store.issue_transfer_code(workspace.id)
    assert len(code) == 8 and code.isalnum()
    token = store.redeem_transfer_code(code.lower()[:4] + " " + code.lower()[4:])
    assert token and token != workspace.token
    assert store.open_workspace(token).id == workspace.id
    assert store.open_workspace(workspace.token).id == workspace.id  # the first device stays
    assert store.redeem_transfer_code(code) is None


def test_an_expired_transfer_code_is_refused(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    code = store.issue_transfer_code(store.open_workspace(None).id)
    later = time.time() + workspace_module.TRANSFER_CODE_SECONDS + 1
    monkeypatch.setattr(workspace_module.time, "time", lambda: later)
    assert store.redeem_transfer_code(code) is None


def test_delete_removes_everything_of_the_participant_only(store: Store) -> None:
    gone, kept = store.open_workspace(None), store.open_workspace(None)
    for workspace in (gone, kept):
        _finish(store, _start(store, workspace.id))
        store.keep_upload(workspace.id, "data.npz", b"shared bytes")
    store.delete_workspace(gone.id)
    assert store.open_workspace(gone.token).fresh
    assert len(store.runs(kept.id)) == 1
    assert store.upload_data(kept.id, store.keep_upload(kept.id, "data.npz", b"shared bytes"))


def test_idle_workspaces_are_purged_after_the_retention(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = store.open_workspace(None)
    later = time.time() + 31 * 86_400
    monkeypatch.setattr(workspace_module.time, "time", lambda: later)
    recent = store.open_workspace(None)
    assert store.purge_idle(keep_days=30) == 1
    assert store.open_workspace(old.token).fresh
    assert not store.open_workspace(recent.token).fresh
    assert store.purge_idle(keep_days=0) == 0


def test_usage_counts_weights_and_uploads(store: Store) -> None:
    workspace = store.open_workspace(None)
    _finish(store, _start(store, workspace.id), b"w" * 1000)
    content_hash = store.keep_upload(workspace.id, "x.npz", b"d" * 500)
    store.keep_upload(workspace.id, "again.npz", b"d" * 500)  # same content, counted once
    assert store.usage_bytes(workspace.id) == 1500
    assert store.upload_data(workspace.id, content_hash) == b"d" * 500
    assert store.upload_data(store.open_workspace(None).id, content_hash) is None


def test_a_run_on_an_uploaded_dataset_finds_its_data_again(store: Store) -> None:
    workspace = store.open_workspace(None)
    data = os.urandom(2_000)
    content_hash = store.keep_upload(workspace.id, "mine.npz", data)
    run_id = store.start_run(workspace.id, architecture_json="{}", settings={},
                             dataset_name="mine", class_names=["a", "b"], epochs_total=1,
                             params=1, upload_hash=content_hash)
    _finish(store, run_id)
    (run,) = store.runs(workspace.id)
    assert run.upload_hash == content_hash
    assert store.upload_data(workspace.id, run.upload_hash) == data
    assert store.kept_upload(workspace.id, run.upload_hash) == ("mine.npz", data)
    with zipfile.ZipFile(io.BytesIO(store.export_zip(workspace.id))) as archive:
        assert json.loads(archive.read("workspace.json"))["runs"][0]["upload_sha256"] \
            == content_hash
    builtin = _start(store, workspace.id)
    assert [run.upload_hash for run in store.runs(workspace.id)] == [content_hash, None]
    assert builtin > run_id


def test_export_holds_the_workspace_and_each_runs_bundle(store: Store) -> None:
    workspace = store.open_workspace(None)
    store.set_display_name(workspace.id, "Ada")
    store.save_architecture(workspace.id, '{"name": "mine"}')
    run_id = _start(store, workspace.id)
    _finish(store, run_id, b"bundle bytes")
    with zipfile.ZipFile(io.BytesIO(store.export_zip(workspace.id))) as archive:
        summary = json.loads(archive.read("workspace.json"))
        assert archive.read(f"run-{run_id}.zip") == b"bundle bytes"
    assert summary["display_name"] == "Ada" and summary["architecture"] == {"name": "mine"}
    assert summary["runs"][0]["test_accuracy"] == 0.9


def test_two_tabs_writing_at_once_never_corrupt_the_store(store: Store) -> None:
    workspace = store.open_workspace(None)
    errors: list[BaseException] = []

    def tab(number: int) -> None:
        try:
            for step in range(15):
                store.save_architecture(workspace.id, json.dumps({"tab": number, "step": step}))
                if step % 5 == 0:
                    _finish(store, _start(store, workspace.id))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=tab, args=(number,)) for number in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    last = json.loads(store.open_workspace(workspace.token).architecture_json or "")
    assert last["step"] == 14 and len(store.runs(workspace.id)) == 6


def test_an_older_database_opens_with_a_newer_cnnviz(store_url: str) -> None:
    engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    assert migrate(engine, target=1) == 0
    with engine.begin() as db:
        db.execute(sa.text("INSERT INTO participants (created_at, last_seen) VALUES (1, 1)"))
        assert current_version(db) == 1
    engine.dispose()
    store = open_store(store_url)
    with store.engine.connect() as db:
        assert current_version(db) == SCHEMA_VERSION == len(MIGRATIONS)
        assert db.execute(sa.text("SELECT count(*) FROM participants")).scalar_one() == 1
    store.issue_transfer_code(1)  # a table of version 2 exists


def test_a_version_2_database_gains_the_runs_upload_hash(store_url: str) -> None:
    engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://"))
    migrate(engine, target=2)
    with engine.begin() as db:  # as cnnviz of schema version 2 made it: no upload_hash
        db.execute(sa.text("ALTER TABLE runs DROP COLUMN upload_hash"))
        db.execute(sa.text("INSERT INTO participants (created_at, last_seen) VALUES (1, 1)"))
        db.execute(sa.text(
            "INSERT INTO runs (participant_id, status, architecture_json, settings_json, "
            "dataset_name, class_names_json, history_json, epochs_total, epochs_completed, "
            "params, weights_bytes, created_at, heartbeat_at) VALUES (1, 'finished', '{}', "
            "'{}', 'digits', '[]', '{}', 1, 1, 10, 0, 1, 1)"))
    engine.dispose()
    store = open_store(store_url)
    (old,) = store.runs(1)
    assert old.upload_hash is None and old.dataset_name == "digits"
    store.start_run(1, architecture_json="{}", settings={}, dataset_name="up",
                    class_names=[], epochs_total=1, params=1, upload_hash="ab" * 32)
    assert [run.upload_hash for run in store.runs(1)] == [None, "ab" * 32]
    with store.engine.connect() as db:
        assert current_version(db) == SCHEMA_VERSION


def test_a_read_only_database_says_work_is_not_saved(tmp_path: Path) -> None:
    path = tmp_path / "cnnviz.db"
    store = open_store(f"sqlite:///{path}")
    workspace = store.open_workspace(None)
    store.engine.dispose()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
    engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    store = Store(engine)
    assert not store.open_workspace(workspace.token).fresh  # reading still works
    with pytest.raises(StoreError, match="Could not save your model"):
        store.save_architecture(workspace.id, "{}")


def test_an_unreachable_database_is_a_store_error_naming_it_without_password() -> None:
    with pytest.raises(StoreError) as caught:
        open_store("postgresql://someone:hunter2@127.0.0.1:1/nothing")
    assert "hunter2" not in str(caught.value) and "127.0.0.1:1" in str(caught.value)


def test_the_workspace_quota_names_its_setting() -> None:
    from cnnviz.errors import LimitError
    from cnnviz.limits import check_workspace_bytes
    from cnnviz.settings import Settings

    check_workspace_bytes(999, Settings(workspace_quota_bytes=1000))
    check_workspace_bytes(10**12, Settings(workspace_quota_bytes=0))
    with pytest.raises(LimitError, match="workspace_quota_bytes") as caught:
        check_workspace_bytes(1000, Settings(workspace_quota_bytes=1000))
    assert caught.value.setting == "workspace_quota_bytes"
