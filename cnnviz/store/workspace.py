"""Participants' workspaces in a real database: SQLite by default, PostgreSQL by URL.

Every statement is SQLAlchemy Core with bound parameters. Every database failure comes
out as `StoreError`, so a page can say "not saved" and go on.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import secrets
import time
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from cnnviz.errors import DisplayNameError, StoreError
from cnnviz.store.schema import (
    migrate,
    participants,
    run_epochs,
    runs,
    tokens,
    transfer_codes,
    uploads,
)

__all__ = ["MAX_DISPLAY_NAME", "RunStatus", "Store", "StoredRun", "Workspace", "open_store"]

RunStatus = Literal["running", "finished", "stopped", "interrupted"]
MAX_DISPLAY_NAME = 40
TRANSFER_CODE_SECONDS = 15 * 60
# A running run whose server has not written for this long died with its server.
STALE_RUN_SECONDS = 120.0
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_CODE_LENGTH = 8
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Workspace:
    """One participant's workspace as a session opens it."""

    id: int
    token: str  # kept in the browser; the database holds only its hash
    display_name: str | None
    architecture_json: str | None
    dataset_name: str | None
    fresh: bool  # created now: the token given was missing, unknown or tampered with


@dataclass(frozen=True)
class StoredRun:
    """A run as stored, without its weights (`Store.run_weights` reads those)."""

    id: int
    status: RunStatus
    architecture_json: str
    settings: dict[str, Any]
    dataset_name: str
    class_names: tuple[str, ...]
    history: dict[str, list[float]]
    epochs_total: int
    epochs_completed: int
    params: int
    test_accuracy: float | None
    test_loss: float | None
    test_images: int | None
    confusion: list[list[int]] | None
    seconds_per_epoch: float | None
    weights_bytes: int
    created_at: float = field(compare=False)
    upload_hash: str | None = None  # the uploaded dataset's content hash (`Store.upload_data`)

    @property
    def has_weights(self) -> bool:
        return self.weights_bytes > 0

    @property
    def status_text(self) -> str:
        if self.status == "interrupted":
            return (f"interrupted at epoch {self.epochs_completed + 1} of {self.epochs_total}"
                    if self.epochs_completed < self.epochs_total else "interrupted")
        return self.status


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def clean_display_name(raw: str) -> str:
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise DisplayNameError("A display name needs at least one letter or digit.")
    if len(name) > MAX_DISPLAY_NAME:
        raise DisplayNameError(
            f"A display name has at most {MAX_DISPLAY_NAME} characters. Received: "
            f"{len(name)} characters.")
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in name):
        raise DisplayNameError("A display name cannot hold control characters.")
    return name


def _run_values(row: sa.Row[Any], stale_before: float) -> StoredRun:
    died = row.status == "running" and row.heartbeat_at < stale_before
    return StoredRun(
        id=row.id, status="interrupted" if died else row.status,
        architecture_json=row.architecture_json,
        settings=json.loads(row.settings_json), dataset_name=row.dataset_name,
        class_names=tuple(json.loads(row.class_names_json)),
        history=json.loads(row.history_json), epochs_total=row.epochs_total,
        epochs_completed=row.epochs_completed, params=row.params,
        test_accuracy=row.test_accuracy, test_loss=row.test_loss, test_images=row.test_images,
        confusion=json.loads(row.confusion_json) if row.confusion_json else None,
        seconds_per_epoch=row.seconds_per_epoch, weights_bytes=row.weights_bytes,
        created_at=row.created_at, upload_hash=row.upload_hash,
    )


def _replace_checkpoint(db: sa.Connection, run_id: int, epoch: int, weights: bytes) -> None:
    db.execute(run_epochs.delete().where(run_epochs.c.run_id == run_id,
                                         run_epochs.c.epoch == epoch))
    db.execute(run_epochs.insert().values(run_id=run_id, epoch=epoch, weights=weights,
                                          weights_bytes=len(weights)))


def _new_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


_RUN_COLUMNS = [column for column in runs.c if column.name != "weights"]


class Store:
    """The workspace store of one server process (thread-safe: one engine, pooled)."""

    def __init__(self, engine: sa.Engine, upload_folder: Path | None = None) -> None:
        self.engine = engine
        self.upload_folder = upload_folder

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as error:
            reason = getattr(error, "orig", None) or error
            raise StoreError(f"Could not {doing}: {reason}".rstrip(".") + ".") from error
        except OSError as error:
            raise StoreError(f"Could not {doing}: {error.strerror or error}.") from error

    # --- workspaces -------------------------------------------------------------------

    def open_workspace(self, token: str | None) -> Workspace:
        """The workspace `token` belongs to, or a new, empty one with a new token."""
        now = time.time()
        if isinstance(token, str) and token:
            with self._transaction("open your workspace") as db:
                row = db.execute(
                    sa.select(participants).join(
                        tokens, tokens.c.participant_id == participants.c.id)
                    .where(tokens.c.token_hash == _hash(token))).first()
            if row is not None:
                try:
                    self._update_participant(row.id, "note your visit")
                except StoreError as error:  # a read-only store still shows the workspace
                    _log.warning("%s", error)
                return Workspace(row.id, token, row.display_name, row.architecture_json,
                                 row.dataset_name, fresh=False)
        with self._transaction("open a new workspace") as db:
            new_token = secrets.token_urlsafe(32)
            participant_id = _new_id(db.execute(participants.insert().values(
                created_at=now, last_seen=now)))
            db.execute(tokens.insert().values(token_hash=_hash(new_token),
                                              participant_id=participant_id, created_at=now))
        return Workspace(int(participant_id), new_token, None, None, None, fresh=True)

    def save_architecture(self, workspace_id: int, architecture_json: str) -> None:
        self._update_participant(workspace_id, "save your model",
                                 architecture_json=architecture_json)

    def save_dataset(self, workspace_id: int, dataset_name: str) -> None:
        self._update_participant(workspace_id, "save your dataset choice",
                                 dataset_name=dataset_name)

    def set_display_name(self, workspace_id: int, raw: str | None) -> str | None:
        name = clean_display_name(raw) if raw and raw.strip() else None
        self._update_participant(workspace_id, "save your display name", display_name=name)
        return name

    def _update_participant(self, workspace_id: int, doing: str, **values: Any) -> None:
        with self._transaction(doing) as db:
            db.execute(participants.update().where(participants.c.id == workspace_id)
                       .values(last_seen=time.time(), **values))

    def delete_workspace(self, workspace_id: int) -> None:
        """Everything of the participant: runs, weights, tokens, uploads."""
        hashes = [upload.content_hash for upload in self._uploads(workspace_id)]
        with self._transaction("delete your workspace") as db:
            db.execute(run_epochs.delete().where(run_epochs.c.run_id.in_(
                sa.select(runs.c.id).where(runs.c.participant_id == workspace_id))))
            for table in (runs, tokens, transfer_codes, uploads):
                db.execute(table.delete().where(table.c.participant_id == workspace_id))
            db.execute(participants.delete().where(participants.c.id == workspace_id))
        self._drop_unused_upload_files(hashes)

    def purge_idle(self, keep_days: float) -> int:
        """Delete workspaces unseen for `keep_days` days (0 keeps them forever)."""
        if keep_days <= 0:
            return 0
        cutoff = time.time() - keep_days * 86_400
        with self._transaction("remove old workspaces") as db:
            idle = db.execute(sa.select(participants.c.id)
                              .where(participants.c.last_seen < cutoff)).scalars().all()
        for workspace_id in idle:
            self.delete_workspace(workspace_id)
        return len(idle)

    # --- another device ---------------------------------------------------------------

    def issue_transfer_code(self, workspace_id: int) -> str:
        """A short code that opens this workspace on another device, for 15 minutes."""
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        with self._transaction("make a code") as db:
            db.execute(transfer_codes.delete().where(transfer_codes.c.expires_at < time.time()))
            db.execute(transfer_codes.insert().values(
                code=code, participant_id=workspace_id,
                expires_at=time.time() + TRANSFER_CODE_SECONDS))
        return code

    def redeem_transfer_code(self, code: str) -> str | None:
        """A new token for the code's workspace (the code is used up), or None."""
        cleaned = "".join(code.split()).upper()[:_CODE_LENGTH * 2]
        with self._transaction("use the code") as db:
            row = db.execute(sa.select(transfer_codes).where(
                transfer_codes.c.code == cleaned,
                transfer_codes.c.expires_at >= time.time())).first()
            if row is None:
                return None
            db.execute(transfer_codes.delete().where(transfer_codes.c.code == cleaned))
            token = secrets.token_urlsafe(32)
            db.execute(tokens.insert().values(token_hash=_hash(token),
                                              participant_id=row.participant_id,
                                              created_at=time.time()))
        return token

    # --- runs -------------------------------------------------------------------------

    def start_run(self, workspace_id: int, *, architecture_json: str,
                  settings: dict[str, Any], dataset_name: str, class_names: Sequence[str],
                  epochs_total: int, params: int, upload_hash: str | None = None) -> int:
        """A new running run; `upload_hash` names the uploaded dataset it trains on (one
        kept with `keep_upload`), so that its data can be found again."""
        now = time.time()
        with self._transaction("save the new run") as db:
            return _new_id(db.execute(runs.insert().values(
                participant_id=workspace_id, status="running",
                architecture_json=architecture_json, settings_json=json.dumps(settings),
                dataset_name=dataset_name, class_names_json=json.dumps(list(class_names)),
                history_json="{}", epochs_total=epochs_total, epochs_completed=0,
                params=params, weights_bytes=0, created_at=now, heartbeat_at=now,
                upload_hash=upload_hash,
            )))

    def record_epoch(self, run_id: int, *, history: dict[str, list[float]],
                     epochs_completed: int, weights: bytes | None = None,
                     checkpoint: bytes | None = None) -> None:
        """After an epoch: its curves and, if given, the weights it ended with (a bundle)
        and the checkpoint of this epoch to keep (a bundle's `weights.npz`)."""
        values: dict[str, Any] = {"history_json": json.dumps(history),
                                  "epochs_completed": epochs_completed,
                                  "heartbeat_at": time.time()}
        if weights is not None:
            values.update(weights=weights, weights_bytes=len(weights))
        with self._transaction("save the training's progress") as db:
            db.execute(runs.update().where(runs.c.id == run_id, runs.c.status == "running")
                       .values(**values))
            if checkpoint is not None:
                _replace_checkpoint(db, run_id, epochs_completed, checkpoint)

    def finish_run(self, run_id: int, *, status: RunStatus, history: dict[str, list[float]],
                   epochs_completed: int, test_accuracy: float, test_loss: float,
                   test_images: int, confusion: list[list[int]], seconds_per_epoch: float,
                   weights: bytes, settings: dict[str, Any] | None = None) -> None:
        """The run's results; `settings`, if given, replace those it started with (a
        fine-tuning adds its phases)."""
        more: dict[str, Any] = {} if settings is None else {"settings_json": json.dumps(settings)}
        with self._transaction("save the finished run") as db:
            db.execute(runs.update().where(runs.c.id == run_id).values(**more,
                status=status, history_json=json.dumps(history),
                epochs_completed=epochs_completed, test_accuracy=test_accuracy,
                test_loss=test_loss, test_images=test_images,
                confusion_json=json.dumps(confusion), seconds_per_epoch=seconds_per_epoch,
                weights=weights, weights_bytes=len(weights), heartbeat_at=time.time()))

    def note_queue_place(self, run_id: int, place: int | None) -> None:
        """A waiting run's place in the room's line (1: next), or None once it runs; the
        host's room view shows it."""
        with self._transaction("save the place in the queue") as db:
            db.execute(runs.update().where(runs.c.id == run_id, runs.c.status == "running")
                       .values(queue_place=place, heartbeat_at=time.time()))

    def interrupt_run(self, run_id: int) -> None:
        """A running run that ended early but keeps its finished epochs (its machine was
        lost): shown as interrupted, to be continued from its last kept epoch."""
        with self._transaction("mark the run interrupted") as db:
            db.execute(runs.update().where(runs.c.id == run_id, runs.c.status == "running")
                       .values(status="interrupted", queue_place=None))

    def discard_run(self, run_id: int) -> None:
        """A run that failed before it learned anything."""
        with self._transaction("remove the failed run") as db:
            db.execute(run_epochs.delete().where(run_epochs.c.run_id == run_id))
            db.execute(runs.delete().where(runs.c.id == run_id))

    def runs(self, workspace_id: int) -> list[StoredRun]:
        """The workspace's runs, oldest first; a running run whose server died is
        returned (and stored) as interrupted."""
        stale = time.time() - STALE_RUN_SECONDS
        try:  # a read-only store still shows the runs, read as interrupted below
            with self._transaction("note interrupted runs") as db:
                db.execute(runs.update().where(
                    runs.c.participant_id == workspace_id, runs.c.status == "running",
                    runs.c.heartbeat_at < stale).values(status="interrupted"))
        except StoreError as error:
            _log.warning("%s", error)
        with self._transaction("read your runs") as db:
            rows = db.execute(sa.select(*_RUN_COLUMNS)
                              .where(runs.c.participant_id == workspace_id)
                              .order_by(runs.c.id)).all()
        return [_run_values(row, stale) for row in rows]

    def run_weights(self, workspace_id: int, run_id: int) -> bytes | None:
        """The run's weights (a cnnviz bundle), only for its own workspace."""
        with self._transaction("read the run's weights") as db:
            blob = db.execute(sa.select(runs.c.weights).where(
                runs.c.id == run_id, runs.c.participant_id == workspace_id)).scalar()
        return bytes(blob) if blob else None

    def keep_epoch_weights(self, run_id: int, epoch: int, weights: bytes) -> None:
        """Keep the weights (a bundle's `weights.npz`) a run had after `epoch`."""
        with self._transaction("save the epoch's weights") as db:
            _replace_checkpoint(db, run_id, epoch, weights)

    def epoch_checkpoints(self, workspace_id: int, run_id: int) -> dict[int, int]:
        """The run's kept epochs and the bytes of each, only for its own workspace."""
        with self._transaction("list the run's epochs") as db:
            rows = db.execute(
                sa.select(run_epochs.c.epoch, run_epochs.c.weights_bytes)
                .join(runs, runs.c.id == run_epochs.c.run_id)
                .where(run_epochs.c.run_id == run_id, runs.c.participant_id == workspace_id)
                .order_by(run_epochs.c.epoch)).all()
        return {int(row.epoch): int(row.weights_bytes) for row in rows}

    def epoch_weights(self, workspace_id: int, run_id: int, epoch: int) -> bytes | None:
        """The weights (`weights.npz`) the run had after `epoch`, or None where not kept."""
        with self._transaction("read the epoch's weights") as db:
            blob = db.execute(
                sa.select(run_epochs.c.weights)
                .join(runs, runs.c.id == run_epochs.c.run_id)
                .where(run_epochs.c.run_id == run_id, run_epochs.c.epoch == epoch,
                       runs.c.participant_id == workspace_id)).scalar()
        return bytes(blob) if blob else None

    def usage_bytes(self, workspace_id: int) -> int:
        with self._transaction("measure your workspace") as db:
            weights = db.execute(sa.select(sa.func.coalesce(sa.func.sum(runs.c.weights_bytes), 0))
                                 .where(runs.c.participant_id == workspace_id)).scalar_one()
            data = db.execute(sa.select(sa.func.coalesce(sa.func.sum(uploads.c.size_bytes), 0))
                              .where(uploads.c.participant_id == workspace_id)).scalar_one()
            epochs = db.execute(
                sa.select(sa.func.coalesce(sa.func.sum(run_epochs.c.weights_bytes), 0))
                .join(runs, runs.c.id == run_epochs.c.run_id)
                .where(runs.c.participant_id == workspace_id)).scalar_one()
        return int(weights) + int(data) + int(epochs)

    def export_zip(self, workspace_id: int) -> bytes:
        """Everything of the participant: `workspace.json` and each run's bundle."""
        with self._transaction("read your workspace") as db:
            person = db.execute(sa.select(participants)
                                .where(participants.c.id == workspace_id)).one()
        stored = self.runs(workspace_id)
        summary = {
            "display_name": person.display_name,
            "architecture": json.loads(person.architecture_json)
            if person.architecture_json else None,
            "dataset": person.dataset_name,
            "runs": [{"run": run.id, "status": run.status, "dataset": run.dataset_name,
                      "settings": run.settings, "test_accuracy": run.test_accuracy,
                      "test_loss": run.test_loss, "test_images": run.test_images,
                      "epochs_completed": run.epochs_completed, "history": run.history,
                      "confusion_matrix": run.confusion, "upload_sha256": run.upload_hash,
                      "bundle": f"run-{run.id}.zip" if run.has_weights else None}
                     for run in stored],
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("workspace.json", json.dumps(summary, indent=2, ensure_ascii=False))
            for run in stored:
                weights = self.run_weights(workspace_id, run.id) if run.has_weights else None
                if weights:
                    archive.writestr(f"run-{run.id}.zip", self._with_epochs(
                        workspace_id, run, weights))
        return buffer.getvalue()

    def _with_epochs(self, workspace_id: int, run: StoredRun, bundle: bytes) -> bytes:
        """The run's bundle with its kept epochs added (`cnnviz.bundle.add_epochs`)."""
        kept = self.epoch_checkpoints(workspace_id, run.id)
        if not kept:
            return bundle
        from cnnviz.bundle import BundleError, add_epochs

        epochs = {epoch: self.epoch_weights(workspace_id, run.id, epoch) or b""
                  for epoch in kept}
        seed = run.settings.get("seed")
        try:
            return add_epochs(bundle, epochs, epochs_total=run.epochs_total,
                              initial_seed=seed if isinstance(seed, int) else None)
        except BundleError as error:  # a damaged bundle is exported as it is
            _log.warning("run %d: %s", run.id, error)
            return bundle

    # --- uploaded datasets --------------------------------------------------------------

    def keep_upload(self, workspace_id: int, filename: str, data: bytes) -> str:
        """Keep an uploaded dataset in the cache folder; returns its content hash."""
        if self.upload_folder is None:
            raise StoreError("Could not keep the upload: this server has no upload folder.")
        content_hash = hashlib.sha256(data).hexdigest()
        path = self.upload_folder / content_hash
        try:
            self.upload_folder.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                partial = path.with_suffix(".partial")
                partial.write_bytes(data)
                partial.replace(path)
        except OSError as error:
            raise StoreError(f"Could not keep the upload: {error.strerror or error}.") from error
        with self._transaction("remember the upload") as db:
            known = db.execute(sa.select(uploads.c.content_hash).where(
                uploads.c.participant_id == workspace_id,
                uploads.c.content_hash == content_hash)).first()
            if known is None:
                db.execute(uploads.insert().values(
                    participant_id=workspace_id, content_hash=content_hash,
                    filename=filename[:255], size_bytes=len(data), created_at=time.time()))
        return content_hash

    def kept_upload(self, workspace_id: int, content_hash: str) -> tuple[str, bytes] | None:
        """An upload of this workspace's by its hash: its file name and bytes, or None
        where it is gone."""
        with self._transaction("find the upload") as db:
            known = db.execute(sa.select(uploads.c.filename).where(
                uploads.c.participant_id == workspace_id,
                uploads.c.content_hash == content_hash)).first()
        if known is None or self.upload_folder is None:
            return None
        try:
            return known.filename, (self.upload_folder / content_hash).read_bytes()
        except OSError:
            return None

    def upload_data(self, workspace_id: int, content_hash: str) -> bytes | None:
        """An upload of this workspace's by its hash, or None where it is gone."""
        kept = self.kept_upload(workspace_id, content_hash)
        return kept[1] if kept is not None else None

    def _uploads(self, workspace_id: int) -> list[sa.Row[Any]]:
        with self._transaction("list your uploads") as db:
            return list(db.execute(sa.select(uploads)
                                   .where(uploads.c.participant_id == workspace_id)).all())

    def _drop_unused_upload_files(self, hashes: Sequence[str]) -> None:
        if self.upload_folder is None:
            return
        for content_hash in hashes:
            with self._transaction("tidy the uploads") as db:
                still_used = db.execute(sa.select(uploads.c.content_hash)
                                        .where(uploads.c.content_hash == content_hash)).first()
            if still_used is None:
                (self.upload_folder / content_hash).unlink(missing_ok=True)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def open_store(url: str, upload_folder: Path | None = None) -> Store:
    """Connect, create or migrate the schema, and return the store. Raises `StoreError`."""
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # the driver cnnviz installs
    try:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(
                parents=True, exist_ok=True)
        engine = sa.create_engine(url, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        migrate(engine)
    except (SQLAlchemyError, OSError) as error:
        reason = getattr(error, "orig", None) or error
        raise StoreError(f"Could not open the workspace store at {_safe(url)}: {reason}.") \
            from error
    return Store(engine, upload_folder)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return "the configured URL"
