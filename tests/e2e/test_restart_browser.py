"""Nothing lost: train, kill the server with SIGKILL, start it again, reload the same browser.

The run, its test accuracy and the trained model come back from the workspace store; the
Feature maps page predicts exactly what it predicted before the restart.
"""

from __future__ import annotations

import re
import signal
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


def test_a_trained_run_survives_sigkill_and_a_restart(
    page: Any, wait_for_app: Callable[..., None], screenshot: Callable[..., Path],
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {"CNNVIZ_STORE_PATH": str(tmp_path / "cnnviz.db"),
           "CNNVIZ_UPLOAD_CACHE": str(tmp_path / "uploads")}
    log = tmp_path / "server.log"
    server = start_app(port, log, env)
    try:
        page.goto(f"http://127.0.0.1:{port}")
        wait_for_app(page)
        accuracy = train_one_epoch(page)
        before = trained_prediction(page)

        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        server = start_app(port, log, env)
        page.reload()
        wait_for_app(page)

        open_page(page, "Train")
        page.get_by_role("heading", name="Compare runs").wait_for()
        page.get_by_test_id("stDataFrame").first.wait_for()
        page.get_by_text(re.compile(rf"test accuracy {re.escape(accuracy)}")).first \
            .wait_for()  # the run's label, among the runs to overlay
        screenshot(page, "restart_train_1280x800", full_page=True)
        after = trained_prediction(page)
        screenshot(page, "restart_featuremaps_1280x800", full_page=True)
        assert after == before
    finally:
        stop_app(server)
