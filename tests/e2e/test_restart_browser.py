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

from conftest import free_port, start_app, stop_app

TRAINING_TIMEOUT_MS = 240_000


def _open(page: Any, name: str, wait_for_app: Callable[..., None]) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    wait_for_app(page)


def _prediction(page: Any, wait_for_app: Callable[..., None]) -> str:
    _open(page, "Feature maps", wait_for_app)
    page.get_by_text("Model trained in this session").wait_for(timeout=TRAINING_TIMEOUT_MS)
    line = page.get_by_text(re.compile(r"^Prediction: ")).first
    line.wait_for(timeout=TRAINING_TIMEOUT_MS)
    return str(line.inner_text())


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

        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
        server = start_app(port, log, env)
        page.reload()
        wait_for_app(page)

        _open(page, "Train", wait_for_app)
        page.get_by_role("heading", name="Compare runs").wait_for()
        page.get_by_test_id("stDataFrame").first.wait_for()
        page.get_by_text(re.compile(rf"test accuracy {re.escape(accuracy.group(0))}")).first \
            .wait_for()  # the run's label, among the runs to overlay
        screenshot(page, "restart_train_1280x800", full_page=True)
        after = _prediction(page, wait_for_app)
        screenshot(page, "restart_featuremaps_1280x800", full_page=True)
        assert after == before
    finally:
        stop_app(server)
