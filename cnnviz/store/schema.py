"""The store's tables and their versioned migrations.

Each migration is one step from version N-1 to N, applied in order inside one transaction
and recorded in `schema_version`; an older database opens with a newer cnnviz. Steps are
never edited once released, only appended.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "metadata", "migrate", "participants",
           "room_answers", "room_challenges", "room_lessons", "room_questions", "run_epochs",
           "runs", "schema_version", "tokens", "training_queue", "transfer_codes", "uploads"]

metadata = sa.MetaData()

schema_version = sa.Table(
    "cnnviz_schema_version", metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

participants = sa.Table(
    "participants", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("display_name", sa.Text, nullable=True),
    sa.Column("architecture_json", sa.Text, nullable=True),
    sa.Column("dataset_name", sa.Text, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
)

tokens = sa.Table(  # a participant's browsers: only each token's SHA-256 is kept
    "tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("participant_id", sa.Integer,
              sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", sa.Float, nullable=False),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("participant_id", sa.Integer,
              sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("architecture_json", sa.Text, nullable=False),
    sa.Column("settings_json", sa.Text, nullable=False),
    sa.Column("dataset_name", sa.Text, nullable=False),
    sa.Column("class_names_json", sa.Text, nullable=False),
    sa.Column("history_json", sa.Text, nullable=False),
    sa.Column("epochs_total", sa.Integer, nullable=False),
    sa.Column("epochs_completed", sa.Integer, nullable=False),
    sa.Column("params", sa.BigInteger, nullable=False),
    sa.Column("test_accuracy", sa.Float, nullable=True),
    sa.Column("test_loss", sa.Float, nullable=True),
    sa.Column("test_images", sa.Integer, nullable=True),
    sa.Column("confusion_json", sa.Text, nullable=True),
    sa.Column("seconds_per_epoch", sa.Float, nullable=True),
    sa.Column("weights", sa.LargeBinary, nullable=True),
    sa.Column("weights_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
    # Added by step 3: the content hash of the uploaded dataset the run trained on.
    sa.Column("upload_hash", sa.String(64), nullable=True),
    # Added by step 7: the run's place in the room's line while it waits (None: not waiting).
    sa.Column("queue_place", sa.Integer, nullable=True),
)

transfer_codes = sa.Table(
    "transfer_codes", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("participant_id", sa.Integer,
              sa.ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

uploads = sa.Table(
    "uploads", metadata,
    sa.Column("participant_id", sa.Integer,
              sa.ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("content_hash", sa.String(64), primary_key=True),
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

# The room a host runs (step 4): each push is a new row; the newest row is the current one.
room_lessons = sa.Table(
    "room_lessons", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("active", sa.Boolean, nullable=False),  # False: the host ended the lesson
    sa.Column("instruction", sa.Text, nullable=False),
    sa.Column("architecture_json", sa.Text, nullable=True),
    sa.Column("dataset_name", sa.Text, nullable=True),
    sa.Column("settings_json", sa.Text, nullable=False),
    sa.Column("locks_json", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

room_challenges = sa.Table(
    "room_challenges", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("dataset_name", sa.Text, nullable=False),
    sa.Column("max_params", sa.BigInteger, nullable=False),
    sa.Column("epochs", sa.Integer, nullable=False),
    sa.Column("name_mode", sa.String(16), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

room_questions = sa.Table(
    "room_questions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("prompt", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("revealed", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

room_answers = sa.Table(
    "room_answers", metadata,
    sa.Column("question_id", sa.Integer,
              sa.ForeignKey("room_questions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("participant_id", sa.Integer,
              sa.ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

training_queue = sa.Table(  # the room's trainings, waiting or running, whatever the replica
    "training_queue", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # the order
    sa.Column("running", sa.Boolean, nullable=False),
    sa.Column("enqueued_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),  # a dead replica's rows go stale
)

run_epochs = sa.Table(  # step 6: the weights a run had at the end of some of its epochs
    "run_epochs", metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("epoch", sa.Integer, primary_key=True),
    sa.Column("weights", sa.LargeBinary, nullable=False),  # a bundle's weights.npz
    sa.Column("weights_bytes", sa.BigInteger, nullable=False),
)

Migration = Callable[[sa.Connection], None]


def _create(*tables: sa.Table) -> Migration:
    def step(connection: sa.Connection) -> None:
        for table in tables:
            table.create(connection)
    return step


def _add_column(table: sa.Table, name: str) -> Migration:
    """Add a column that was appended to `table`'s definition after its table was created
    (a database made by step 1 of a newer cnnviz has it already)."""
    def step(connection: sa.Connection) -> None:
        present = {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
        if name in present:
            return
        column = table.c[name]
        kind = column.type.compile(dialect=connection.dialect)
        preparer = connection.dialect.identifier_preparer
        connection.execute(sa.text(f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN "
                                   f"{preparer.format_column(column)} {kind}"))
    return step


MIGRATIONS: tuple[Migration, ...] = (
    _create(participants, tokens, runs),  # 1: workspaces, their browsers and their runs
    _create(transfer_codes, uploads),  # 2: "continue on another device", uploaded data
    _add_column(runs, "upload_hash"),  # 3: the uploaded dataset a run trained on
    _create(room_lessons, room_challenges, room_questions, room_answers),  # 4: the room
    _create(training_queue),  # 5: the room's training queue, shared by every replica
    _create(run_epochs),  # 6: epoch checkpoints of each run, within the host's bound
    _add_column(runs, "queue_place"),  # 7: a waiting run's place in line, for the host
)
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(connection: sa.Connection) -> int:
    if not sa.inspect(connection).has_table(schema_version.name):
        return 0
    version = connection.execute(sa.select(schema_version.c.version)).scalar_one_or_none()
    return int(version or 0)


def migrate(engine: sa.Engine, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to `target` (the newest by default); returns the version it had."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # one replica migrates, the others wait
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7206513)"))
        found = current_version(connection)
        if found == 0 and not sa.inspect(connection).has_table(schema_version.name):
            schema_version.create(connection)
            connection.execute(schema_version.insert().values(version=0))
        for version in range(found + 1, target + 1):
            MIGRATIONS[version - 1](connection)
        if target > found:
            connection.execute(schema_version.update().values(version=target))
    return found
