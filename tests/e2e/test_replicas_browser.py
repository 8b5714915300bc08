"""Two replicas, one PostgreSQL: a participant who trained on replica 1 opens replica 2
(same browser, as a proxy would move them) and finds their run and their trained model.

The participant's cookie is per host, not per port, so 127.0.0.1:A and 127.0.0.1:B share
it, as two replicas behind one proxy address do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from conftest import free_port, start_app, stop_app

TRAINING_TIMEOUT_MS = 240_000
COOKIE = "cnnviz_participant"


def _open(page: Any, name: str, wait_for_app: Callable[..., None]) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    wait_for_app(page)


def _prediction(page: Any, wait_for_app: Callable[..., None]) -> str:
    _open(page, "Feature maps", wait_for_app)
    page.get_by_text("Model trained in this session").wait_for(timeout=TRAINING_TIMEOUT_MS)
    line = page.get_by_text(re.compile(r"^Prediction: ")).first
    line.wait_for(timeout=TRAINING_TIMEOUT_MS)
    return str(line.inner_text())


def test_a_run_trained_on_one_replica_is_found_on_the_other(
    page: Any, wait_for_app: Callable[..., None], screenshot: Callable[..., Path],
    tmp_path: Path, fresh_postgres_database: Callable[[], str],
) -> None:
    env = {"CNNVIZ_STORE_URL": fresh_postgres_database(),
           "CNNVIZ_UPLOAD_CACHE": str(tmp_path / "uploads")}
    first_port, second_port = free_port(), free_port()
    first = start_app(first_port, tmp_path / "replica1.log", env)
    second = None
    try:
        second = start_app(second_port, tmp_path / "replica2.log", env)
        page.goto(f"http://127.0.0.1:{first_port}")
        wait_for_app(page)
        _open(page, "Train", wait_for_app)
        epochs = page.get_by_role("spinbutton", name="Epochs")
        epochs.fill("1")
        epochs.press("Enter")
        wait_for_app(page)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("Test accuracy", exact=True).wait_for(timeout=TRAINING_TIMEOUT_MS)
        wait_for_app(page)
        metric = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
        accuracy = re.search(r"\d+\.\d%", metric.inner_text())
        assert accuracy is not None
        before = _prediction(page, wait_for_app)
        cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
        assert cookies[COOKIE]["domain"] == "127.0.0.1"  # a host's cookie, for every port
        assert cookies[COOKIE]["value"] not in page.url  # never in the link

        page.goto(f"http://127.0.0.1:{second_port}")
        wait_for_app(page)
        after = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
        assert after[COOKIE] == cookies[COOKIE]["value"]
        _open(page, "Train", wait_for_app)
        page.get_by_role("heading", name="Compare runs").wait_for()
        page.get_by_text(re.compile(rf"test accuracy {re.escape(accuracy.group(0))}")).first \
            .wait_for()
        screenshot(page, "replica2_train_1280x800", full_page=True)
        assert _prediction(page, wait_for_app) == before
        screenshot(page, "replica2_featuremaps_1280x800", full_page=True)
    finally:
        stop_app(first)
        if second is not None:
            stop_app(second)
