"""A room on one store for the page tests: every AppTest a new browser, the host signed in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from app_session import open_app
from streamlit.testing.v1 import AppTest

import ui.workspace
from cnnviz.host_auth import reset_process_brake
from cnnviz.settings import get_settings
from cnnviz.store import Store, open_store
from ui.lesson import forget_cached_lesson


def _forget_process_state() -> None:
    get_settings.cache_clear()
    forget_cached_lesson()
    reset_process_brake()


@contextmanager
def room_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str) -> Iterator[Store]:
    """A SQLite store that every app of the test uses, each AppTest a new browser, with
    `secret` as the host secret."""
    opened = open_store(f"sqlite:///{tmp_path / 'cnnviz.db'}", tmp_path / "uploads")
    monkeypatch.setattr(ui.workspace, "_process_store", lambda: opened)
    monkeypatch.setattr(ui.workspace, "_browser_token", lambda: None)
    monkeypatch.setenv("CNNVIZ_HOST_SECRET", secret)
    monkeypatch.setenv("CNNVIZ_WARM_UP", "0")
    _forget_process_state()
    yield opened
    _forget_process_state()


def signed_in_host(secret: str) -> AppTest:
    """A new browser that signed in with `secret` and opened the Host page."""
    host = open_app()
    host.text_input(key="host_secret_typed").input(secret)
    next(button for button in host.button if button.label == "Sign in").click()
    host.run()
    host.switch_page("pages/4_Host.py").run()
    assert not host.exception, host.exception
    return host
