"""The store's tests run twice: on SQLite, and on a real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cnnviz.store import Store, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cnnviz.db'}"
    make: Callable[[], str] = request.getfixturevalue("fresh_postgres_database")
    return make()


@pytest.fixture()
def store(store_url: str, tmp_path: Path) -> Store:
    return open_store(store_url, tmp_path / "uploads")
