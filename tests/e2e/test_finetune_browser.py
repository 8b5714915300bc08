"""Fine-tuning in a real browser: the session's trained model as the base, one epoch a phase."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from browser_session import (
    SCREENSHOT_DIR,
    TRAINING_TIMEOUT_MS,
    open_page,
    set_number,
    train_one_epoch,
)


def test_a_trained_model_is_fine_tuned_and_both_phases_are_on_one_chart(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    page.goto(app_url)
    wait_for_app(page)
    train_one_epoch(page)
    open_page(page, "Train")
    expander = page.get_by_test_id("stExpander").filter(has_text="Fine-tune a trained base")
    expander.get_by_text("Fine-tune a trained base").click()
    section = expander.get_by_test_id("stExpanderDetails")
    section.get_by_text("Phase 1: train the head").wait_for()
    set_number(page, section.get_by_role("spinbutton", name="Epochs").nth(0), 1)
    set_number(page, section.get_by_role("spinbutton", name="Epochs").nth(1), 1)
    section.get_by_role("button", name="Fine-tune").click()
    section.get_by_text("Fine-tuned chollet-mnist-convnet-finetuned").wait_for(
        timeout=TRAINING_TIMEOUT_MS)
    wait_for_app(page)
    chart = section.locator(".js-plotly-plot")
    chart.wait_for()
    assert "fine-tune" in chart.inner_text() and "head" in chart.inner_text()
    table = section.get_by_test_id("stDataFrame")
    assert table.count() == 1
    assert "Fine-tuned chollet-mnist-convnet-finetuned on digits" in section.inner_text()
    expander.scroll_into_view_if_needed()
    screenshot(page, "finetune_1280x800")
    expander.screenshot(path=str(SCREENSHOT_DIR / "finetune_panel_1280x800.png"))
    page.set_viewport_size({"width": 1920, "height": 1080})
    wait_for_app(page)
    expander.scroll_into_view_if_needed()
    screenshot(page, "finetune_1920x1080")
    expander.screenshot(path=str(SCREENSHOT_DIR / "finetune_panel_1920x1080.png"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
