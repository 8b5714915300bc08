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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_session import (
    APP_IDLE_TIMEOUT_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOT_DIR,
    browser_missing_reason,
    download_file,
    free_port,
    start_app,
    stop_app,
    wait_for_app,
)


def _browser_required() -> bool:
    return os.environ.get("CNNVIZ_REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    reason = browser_missing_reason()
    for item in items:
        if here not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.e2e)
        if reason is not None and not _browser_required():
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = browser_missing_reason()
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
    reason = browser_missing_reason()
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


@pytest.fixture
def shapes_app(tmp_path: Path) -> Iterator[str]:
    """An app of its own offering only the shapes dataset, with a store of its own."""
    port = free_port()
    server = start_app(
        port,
        tmp_path / "server.log",
        env={"CNNVIZ_DATASETS": "shapes", "CNNVIZ_STORE_PATH": str(tmp_path / "store.db")},
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_app(server)


@pytest.fixture(name="wait_for_app")
def wait_for_app_fixture() -> Callable[..., None]:
    return wait_for_app


@pytest.fixture
def download() -> Callable[..., bytes]:
    return download_file


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    def save(page: Any, name: str, *, full_page: bool = False) -> Path:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save
