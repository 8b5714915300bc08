"""Shared real-browser fixtures: one `streamlit run app.py` per session, headless chromium.

Fixtures:
- `app_url`: base URL of the app, started once per test session on a free local port.
- `browser`: a Playwright chromium (Debian's `/usr/bin/chromium`), once per session.
- `page`: a fresh 1280×800 page per test (its own browser context, so its own session).
- `wait_for_app`: `wait_for_app(page)` blocks until Streamlit has finished the current run.
- `screenshot`: `screenshot(page, "name")` saves `tests/e2e/screenshots/name.png`, returns it.
- `shapes_app`: base URL of an app of the test's own that offers only the shapes dataset.

Every test here is skipped with a reason when chromium or Playwright is missing, unless
`CNNVIZ_REQUIRE_BROWSER=1` (CI), where the same condition fails the tests instead.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
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


def _browser_missing_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"chromium is not installed at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright)"
    return None


def _browser_required() -> bool:
    return os.environ.get("CNNVIZ_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    reason = _browser_missing_reason()
    for item in items:
        if here not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if reason is not None and not _browser_required():
            item.add_marker(pytest.mark.skip(reason=reason))


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
        server = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                  env={**os.environ, **(env or {})})
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not _healthy(url):
        if server.poll() is not None:
            pytest.fail(f"streamlit exited with {server.returncode}:\n"
                        + log_path.read_text(errors="replace"))
        if time.monotonic() > deadline:
            stop_app(server)
            pytest.fail(f"streamlit did not answer on {url} within "
                        f"{SERVER_START_TIMEOUT_S:.0f} s:\n" + log_path.read_text(errors="replace"))
        time.sleep(0.25)
    return server


def stop_app(server: Any) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = _browser_missing_reason()
    if reason is not None:
        pytest.fail(f"CNNVIZ_REQUIRE_BROWSER=1 but {reason}")
    port = free_port()
    server = start_app(port, tmp_path_factory.mktemp("streamlit") / "server.log")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_app(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _browser_missing_reason()
    if reason is not None:
        pytest.fail(f"CNNVIZ_REQUIRE_BROWSER=1 but {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(APP_IDLE_TIMEOUT_MS)
    new_page = context.new_page()
    try:
        yield new_page
    finally:
        context.close()


def _wait_for_app(page: Any, timeout_ms: int = APP_IDLE_TIMEOUT_MS) -> None:
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


TRAINING_TIMEOUT_MS = 240_000


def open_page(page: Any, name: str) -> None:
    """Click `name` in the sidebar's navigation and wait for the page."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    _wait_for_app(page)


def set_number(page: Any, label: str, value: float) -> None:
    """Type `value` into the number input `label` and wait until the app has it. A rerun
    that lands while the browser types (a warm-up, a timed fragment) can redraw the input
    with its old value, so a value that did not stick is typed again."""
    field = page.get_by_role("spinbutton", name=label)
    text = str(value)
    for _ in range(3):
        field.fill(text)
        field.press("Enter")
        _wait_for_app(page)
        if float(field.input_value() or "nan") == float(value):
            return
    raise AssertionError(f"{label} did not keep {text}: it shows {field.input_value()!r}")


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
    _wait_for_app(page)
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


@pytest.fixture
def shapes_app(tmp_path: Path) -> Iterator[str]:
    """An app of its own offering only the shapes dataset, with a store of its own."""
    port = free_port()
    server = start_app(port, tmp_path / "server.log", env={
        "CNNVIZ_DATASETS": "shapes", "CNNVIZ_STORE_PATH": str(tmp_path / "store.db")})
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_app(server)


@pytest.fixture
def wait_for_app() -> Callable[..., None]:
    return _wait_for_app


def _download(page: Any, button: Any) -> bytes:
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
        page.screenshot(path=str(SCREENSHOT_DIR / "download_first_click_got_nothing.png"),
                        full_page=True)
    with page.expect_download(timeout=90_000) as second:
        button.click(timeout=120_000)
    return Path(second.value.path()).read_bytes()


@pytest.fixture
def download() -> Callable[..., bytes]:
    return _download


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    def save(page: Any, name: str, *, full_page: bool = False) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
