"""Two participants at once: what one does to the architecture never reaches the other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

STACK_CARDS = ".cnnviz-stack .card"


def _parameters(page: Any) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text="Parameters")
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text()).strip()


def _open(page: Any, url: str, wait_for_app: Callable[..., None]) -> None:
    page.goto(url)
    wait_for_app(page)
    page.locator(STACK_CARDS).first.wait_for()


def _click(page: Any, label: str, wait_for_app: Callable[..., None]) -> None:
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_timeout(300)
    wait_for_app(page)


def test_two_sessions_keep_their_own_architecture(
    browser: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    contexts = [browser.new_context(viewport={"width": 1280, "height": 1000}) for _ in range(2)]
    try:
        alice, bob = (context.new_page() for context in contexts)
        for page in (alice, bob):
            _open(page, app_url, wait_for_app)
            assert _parameters(page) == "93,322"

        for _ in range(3):
            _click(alice, "Delete", wait_for_app)
        assert alice.locator(STACK_CARDS).count() == 5
        alice_parameters = _parameters(alice)
        assert alice_parameters != "93,322"

        bob.reload()
        wait_for_app(bob)
        bob.locator(STACK_CARDS).first.wait_for()
        assert bob.locator(STACK_CARDS).count() == 8
        assert _parameters(bob) == "93,322"

        _click(bob, "Duplicate", wait_for_app)
        assert bob.locator(STACK_CARDS).count() == 9
        alice.reload()
        wait_for_app(alice)
        alice.locator(STACK_CARDS).first.wait_for()
        assert alice.locator(STACK_CARDS).count() == 5
        assert _parameters(alice) == alice_parameters
        screenshot(alice, "isolation_alice")
        screenshot(bob, "isolation_bob")
    finally:
        for context in contexts:
            context.close()
