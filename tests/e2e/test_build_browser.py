"""The Build page in a real browser: drag from the palette, reorder by drag, edit, reload."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

STACK_CARDS = ".cnnviz-stack .card"


def _open(page: Any, app_url: str, wait_for_app: Callable[..., None]) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.locator(STACK_CARDS).first.wait_for()


def _settle(page: Any, wait_for_app: Callable[..., None]) -> None:
    page.wait_for_timeout(300)  # let the trigger reach the server before waiting on the run
    wait_for_app(page)


def _expect(locator: Any) -> Any:
    from playwright.sync_api import expect

    return expect(locator)


def _classes(page: Any) -> list[str]:
    return [text.strip() for text in page.locator(f"{STACK_CARDS} .title b").all_inner_texts()]


def _metric(page: Any, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text=label)
    return str(metric.locator('[data-testid="stMetricValue"]').inner_text()).strip()


def _parameters(page: Any) -> str:
    return _metric(page, "Parameters")


def test_drag_reorder_edit_and_reload(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    page.set_viewport_size({"width": 1280, "height": 1400})  # palette and stack both in view
    _open(page, app_url, wait_for_app)
    start = _classes(page)
    assert start == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten",
                     "Dense", "Dense"]
    assert _parameters(page) == "93,322"
    start_macs = _metric(page, "MACs per image")

    dense = page.locator(STACK_CARDS).nth(6)
    page.locator('.cnnviz-stack .chip[data-classname="Dropout"]').drag_to(
        dense, target_position={"x": 30, "y": 4})
    _settle(page, wait_for_app)
    _expect(page.locator(STACK_CARDS)).to_have_count(9)
    assert _classes(page) == start[:6] + ["Dropout"] + start[6:]

    second = page.locator(STACK_CARDS).nth(1)
    box = second.bounding_box()
    page.locator(STACK_CARDS).first.drag_to(second, target_position={"x": 30,
                                                                      "y": box["height"] - 4})
    _settle(page, wait_for_app)
    _expect(page.locator(f"{STACK_CARDS} .title b").first).to_have_text("MaxPooling2D")
    assert _classes(page)[:3] == ["MaxPooling2D", "Conv2D", "Conv2D"]
    assert page.locator(f"{STACK_CARDS} .params").nth(1).inner_text() == "320 params"
    assert _metric(page, "MACs per image") != start_macs  # the 3×3×32 conv now sees 14×14

    page.locator(STACK_CARDS).nth(1).click()
    _settle(page, wait_for_app)
    _expect(page.locator(f"{STACK_CARDS}.selected .position")).to_have_text("2")
    filters = page.get_by_label("filters", exact=True)
    filters.fill("8")
    filters.press("Enter")
    _settle(page, wait_for_app)
    _expect(page.locator(f"{STACK_CARDS} .params").nth(1)).to_have_text("80 params")
    edited_total = _parameters(page)
    assert edited_total != "93,322"
    screenshot(page, "build_after_drag_and_edit")

    page.reload()
    _open(page, page.url, wait_for_app)
    assert _classes(page)[:3] == ["MaxPooling2D", "Conv2D", "Conv2D"]
    assert _parameters(page) == edited_total


def test_an_invalid_setting_is_shown_on_its_card_and_fixed_in_one_click(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    _open(page, app_url, wait_for_app)
    kernel = page.get_by_label("kernel_size · height", exact=True)
    kernel.fill("29")
    kernel.press("Enter")
    _settle(page, wait_for_app)
    first = page.locator(STACK_CARDS).first
    _expect(first).to_have_class(re.compile(r"\berror\b"))
    _expect(first.locator(".note")).to_contain_text("larger than its 28×28 input")
    _expect(first.locator(".note code")).to_have_text("kernel_size")  # a code span,
    assert "`" not in first.locator(".note").inner_text()  # not raw backticks
    assert len(_classes(page)) == 8
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "build_error_on_row")
    page.get_by_role("button", name="Use padding='same' here").click()
    _settle(page, wait_for_app)
    _expect(page.locator(STACK_CARDS).first).to_have_class(re.compile(r"\bok\b"))


def test_the_page_at_classroom_and_projector_sizes(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    for width, height in ((1280, 800), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        _open(page, app_url, wait_for_app)
        _expect(page.get_by_text("Total params:")).to_be_attached()
        page.wait_for_timeout(1500)  # widgets finish drawing before the picture is taken
        assert page.locator('[data-testid="stException"]').count() == 0
        screenshot(page, f"build_{width}x{height}")
