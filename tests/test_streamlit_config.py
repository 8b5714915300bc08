"""The Streamlit config a workshop runs with: a readable log."""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def test_the_file_watcher_is_off_so_the_log_is_not_flooded_by_inotify() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] == "none"


def test_the_readme_says_how_to_reload_sources_while_developing() -> None:
    assert "STREAMLIT_SERVER_FILE_WATCHER_TYPE=poll make run" in (ROOT / "README.md").read_text()
