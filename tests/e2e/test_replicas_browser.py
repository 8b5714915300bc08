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

from browser_session import (
    free_port,
    open_page,
    start_app,
    stop_app,
    train_one_epoch,
    trained_prediction,
)

COOKIE = "cnnviz_participant"


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
        accuracy = train_one_epoch(page)
        before = trained_prediction(page)
        cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
        assert cookies[COOKIE]["domain"] == "127.0.0.1"  # a host's cookie, for every port
        assert cookies[COOKIE]["value"] not in page.url  # never in the link

        page.goto(f"http://127.0.0.1:{second_port}")
        wait_for_app(page)
        after = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
        assert after[COOKIE] == cookies[COOKIE]["value"]
        open_page(page, "Train")
        page.get_by_role("heading", name="Compare runs").wait_for()
        page.get_by_text(re.compile(rf"test accuracy {re.escape(accuracy)}")).first.wait_for()
        screenshot(page, "replica2_train_1280x800", full_page=True)
        assert trained_prediction(page) == before
        screenshot(page, "replica2_featuremaps_1280x800", full_page=True)
    finally:
        stop_app(first)
        if second is not None:
            stop_app(second)
