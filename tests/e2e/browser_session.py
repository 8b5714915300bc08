"""What the browser tests share besides fixtures: the app server, the browser's settings
and the steps many tests take (open a page, type a number, train, download). Imported as
`browser_session` by the tests and by `conftest.py`."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = Path(__file__).resolve().parent / "screenshots"
SERVER_START_TIMEOUT_S = 90.0
APP_IDLE_TIMEOUT_MS = 60_000
TRAINING_TIMEOUT_MS = 240_000


def browser_missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"chromium is not installed at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_app(port: int, log_path: Path, env: dict[str, str] | None = None) -> Any:
    """`streamlit run app.py` on 127.0.0.1:`port`, once it answers; fails the test if not."""
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not _healthy(url):
        if server.poll() is not None:
            pytest.fail(
                f"streamlit exited with {server.returncode}:\n"
                + log_path.read_text(errors="replace")
            )
        if time.monotonic() > deadline:
            stop_app(server)
            pytest.fail(
                f"streamlit did not answer on {url} within "
                f"{SERVER_START_TIMEOUT_S:.0f} s:\n" + log_path.read_text(errors="replace")
            )
        time.sleep(0.25)
    return server


def stop_app(server: Any) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def wait_for_app(page: Any, timeout_ms: int = APP_IDLE_TIMEOUT_MS) -> None:
    """Until the app is connected and its script is not running (nor about to run)."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout_ms
    )
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            if (!app) return false;
            const state = app.getAttribute('data-test-script-state');
            return state === 'notRunning';
        }""",
        timeout=timeout_ms,
    )


def open_page(page: Any, name: str) -> None:
    """Click `name` in the sidebar's navigation and wait for the page."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    wait_for_app(page)


def set_number(page: Any, field: Any, value: float) -> None:
    """Type `value` into the number input `field` (its label, or a locator) and wait until
    the app has it. A rerun that lands while the browser types (a warm-up, a timed
    fragment) can redraw the input with its old value, so a value that did not stick is
    typed again."""
    if isinstance(field, str):
        field = page.get_by_role("spinbutton", name=field)
    text = str(value)
    for _ in range(3):
        field.fill(text)
        field.press("Enter")
        wait_for_app(page)
        if float(field.input_value() or "nan") == float(value):
            return
    raise AssertionError(f"the input did not keep {text}: it shows {field.input_value()!r}")


def type_until(page: Any, field: Any, text: str, shown: Any, timeout_ms: int = 10_000) -> None:
    """Type `text` and Enter into `field` until the locator `shown` appears: for an input
    the app refuses or puts back, whose value cannot tell whether the typing arrived."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    for _ in range(2):
        field.fill(text)
        field.press("Enter")
        wait_for_app(page)
        try:
            shown.first.wait_for(timeout=timeout_ms)
            return
        except PlaywrightTimeoutError:
            continue
    field.fill(text)
    field.press("Enter")
    wait_for_app(page)
    shown.first.wait_for(timeout=timeout_ms)


def train_one_epoch(page: Any) -> str:
    """On the Train page: one epoch with the defaults; returns the test accuracy shown."""
    return train_epochs(page, 1)


def train_epochs(page: Any, epochs: int, timeout_ms: int = TRAINING_TIMEOUT_MS) -> str:
    """On the Train page: `epochs` epochs, other settings at their defaults; returns the
    test accuracy shown."""
    open_page(page, "Train")
    set_number(page, "Epochs", epochs)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Test accuracy", exact=True).wait_for(timeout=timeout_ms)
    wait_for_app(page)
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
    accuracy = re.search(r"\d+\.\d%", metric.inner_text())
    assert accuracy is not None, metric.inner_text()
    return accuracy.group(0)


def trained_prediction(page: Any) -> str:
    """On the Feature maps page, with the session's trained model: its prediction line."""
    open_trained_feature_maps(page)
    line = page.get_by_text(re.compile(r"^Prediction: ")).first
    line.wait_for(timeout=TRAINING_TIMEOUT_MS)
    return str(line.inner_text())


def open_trained_feature_maps(page: Any) -> None:
    """Open Feature maps and wait until it shows the model trained in this session."""
    open_page(page, "Feature maps")
    page.get_by_text("Model trained in this session").wait_for(timeout=TRAINING_TIMEOUT_MS)


def download_file(page: Any, button: Any) -> bytes:
    """The file a download button gives. Its data is made on the server when it is clicked,
    and the button stays disabled meanwhile; on a busy machine that takes a while. A click
    that brings nothing in 90 s is screenshotted and, once the button is enabled again,
    tried once more."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        with page.expect_download(timeout=90_000) as first:
            button.click()
        return Path(first.value.path()).read_bytes()
    except PlaywrightTimeoutError:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOT_DIR / "download_first_click_got_nothing.png"), full_page=True
        )
    with page.expect_download(timeout=90_000) as second:
        button.click(timeout=120_000)
    return Path(second.value.path()).read_bytes()


def decoded_widths(images: Any) -> list[int]:
    """Each image's decoded width (0: broken), once the browser has finished loading it:
    right after a rerun, the newest images may still be on their way."""
    for index in range(images.count()):
        images.nth(index).evaluate(
            "img => img.complete || new Promise(done => {"
            " img.addEventListener('load', done); img.addEventListener('error', done); })")
    widths: list[int] = images.evaluate_all("els => els.map(e => e.naturalWidth)")
    return widths
