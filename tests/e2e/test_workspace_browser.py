"""The workspace cookie and hostile names in a real browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from browser_session import type_until

COOKIE = "cnnviz_participant"
HOSTILE = "<img src=x onerror=window.pwned=1>**b**"


def _cookie(page: Any) -> str | None:
    for cookie in page.context.cookies():
        if cookie["name"] == COOKIE:
            return str(cookie["value"])
    return None


def test_a_tampered_cookie_gets_a_fresh_workspace_and_a_new_token(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
) -> None:
    page.context.add_cookies([{"name": COOKIE, "value": "tampered-" + "x" * 300,
                               "url": app_url}])
    page.goto(app_url)
    wait_for_app(page)
    page.wait_for_function(f"() => document.cookie.includes('{COOKIE}=') && "
                           f"!document.cookie.includes('{COOKIE}=tampered')")
    fresh = _cookie(page)
    assert fresh and not fresh.startswith("tampered") and len(fresh) >= 40
    page.reload()
    wait_for_app(page)
    assert _cookie(page) == fresh  # the new workspace is kept, not replaced again


def test_a_hostile_model_name_is_shown_as_text_not_html(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("tab", name="Name, file, link and Keras code").click()
    wait_for_app(page)
    field = page.get_by_role("textbox", name="Model name")
    type_until(page, field, HOSTILE, page.get_by_text("must be 1 to 64 letters"))
    assert page.locator('img[src="x"]').count() == 0
    assert page.evaluate("() => window.pwned") is None
    assert page.get_by_text("<img src=x", exact=False).count() >= 1  # shown, as text
