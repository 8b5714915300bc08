"""The workspace store: each participant's model and runs in a real database.

SQLite (one file, no setup) by default; PostgreSQL by URL for several replicas. The schema
is versioned (`schema.migrate`); the participant is known by a random token kept in the
browser, of which the database keeps only a hash.
"""

from __future__ import annotations

from cnnviz.store.queue import QUEUE_STALE_SECONDS, RoomQueue
from cnnviz.store.room import (
    AnswerGroup,
    BestRun,
    ParticipantDetail,
    ParticipantQuestion,
    ParticipantView,
    Question,
    RoomStore,
)
from cnnviz.store.schema import SCHEMA_VERSION, migrate
from cnnviz.store.workspace import (
    MAX_DISPLAY_NAME,
    RunStatus,
    Store,
    StoredRun,
    Workspace,
    clean_display_name,
    open_store,
)

__all__ = [
    "MAX_DISPLAY_NAME",
    "AnswerGroup",
    "BestRun",
    "ParticipantDetail",
    "ParticipantQuestion",
    "ParticipantView",
    "QUEUE_STALE_SECONDS",
    "Question",
    "RoomQueue",
    "RoomStore",
    "SCHEMA_VERSION",
    "RunStatus",
    "Store",
    "StoredRun",
    "Workspace",
    "clean_display_name",
    "migrate",
    "open_store",
]
