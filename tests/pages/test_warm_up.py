"""Where the training warm-up starts: the Train page, never a participant's first Build page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz import tf_runtime
from cnnviz.settings import get_settings
from cnnviz.train import WorkerPool

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def warm_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    calls: list[str] = []
    monkeypatch.setenv("CNNVIZ_WARM_UP", "true")
    monkeypatch.setattr(WorkerPool, "warm", lambda self: calls.append("workers"))
    monkeypatch.setattr(tf_runtime, "import_tensorflow_in_background",
                        lambda: calls.append("tensorflow"))
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_the_build_page_starts_no_worker_and_no_tensorflow(warm_calls: list[str]) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert warm_calls == []


def test_the_train_page_warms_the_workers_and_tensorflow(warm_calls: list[str]) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/2_Train.py").run()
    assert not at.exception, at.exception
    assert sorted(set(warm_calls)) == ["tensorflow", "workers"]
