"""What a filter wants, and occlusion beside Grad-CAM, in a real browser: a model trained on
shapes, the first circle of the test set; screenshots at 1280×800 and 1920×1080."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from browser_session import (
    TRAINING_TIMEOUT_MS,
    decoded_widths,
    open_trained_feature_maps,
    train_epochs,
)

from cnnviz.presets import get_preset
from cnnviz.urlcodec import encode_spec

EPOCHS = 4
SPEC = get_preset("tiny-vgg-32")
COMPUTE_TIMEOUT_MS = 120_000


def _decoded_images(scope: Any) -> list[int]:
    return decoded_widths(scope.locator('[data-testid="stImage"] img'))


def _fits_the_width(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _filter_wants_screenshots(page: Any, screenshot: Callable[..., Path], size: str) -> None:
    """The ascent, then the top images, each scrolled to the top of the window."""
    for part, heading in (("ascent", "What it wants to see"),
                          ("top_images", "Which test images excite it most")):
        page.get_by_text(heading).first.evaluate("element => element.scrollIntoView()")
        screenshot(page, f"filter_wants_{part}_{size}")
        assert _fits_the_width(page)


def test_a_trained_shapes_model_shows_what_a_filter_wants_and_occlusion(
    page: Any, shapes_app: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    page.goto(f"{shapes_app}/?arch={encode_spec(SPEC)}")
    wait_for_app(page)
    train_epochs(page, EPOCHS, timeout_ms=TRAINING_TIMEOUT_MS * 2)
    open_trained_feature_maps(page)
    page.get_by_text(re.compile(r"^Original: circle · shapes test image 1")).wait_for()

    page.get_by_role("tab", name="What a filter wants").click()
    wait_for_app(page)
    page.get_by_role("button", name="Make the image").click()
    page.get_by_text(re.compile(r"^Channel 0 of max_pooling2d_1: its mean rose from")).wait_for(
        timeout=COMPUTE_TIMEOUT_MS)
    page.get_by_role("button", name="Find the top images").click()
    page.get_by_text(re.compile(r"^#\d+ \w+ · ")).first.wait_for(timeout=COMPUTE_TIMEOUT_MS)
    wait_for_app(page)
    panel = page.get_by_role("tabpanel", name="What a filter wants")
    assert page.get_by_text(re.compile(r"^#\d+ \w+ · ")).count() == 8
    widths = _decoded_images(panel)
    assert len(widths) >= 1 + 2 * 8 and all(width > 0 for width in widths)
    assert panel.locator(".js-plotly-plot").count() == 1  # the activation, step by step
    assert page.locator('[data-testid="stException"]').count() == 0
    _filter_wants_screenshots(page, screenshot, "1280x800")

    page.get_by_role("tab", name="Where the model looks").click()
    wait_for_app(page)
    page.get_by_role("button", name="Occlusion map").click()
    page.get_by_text(re.compile(r"^Occlusion for \w+: how much p = ")).wait_for(
        timeout=COMPUTE_TIMEOUT_MS)
    wait_for_app(page)
    looks = page.get_by_role("tabpanel", name="Where the model looks")
    assert [width > 0 for width in _decoded_images(looks)] == [True, True, True]
    screenshot(page, "occlusion_1280x800")
    assert _fits_the_width(page)

    page.set_viewport_size({"width": 1920, "height": 1080})
    wait_for_app(page)
    screenshot(page, "occlusion_1920x1080")
    page.get_by_role("tab", name="What a filter wants").click()
    wait_for_app(page)
    page.get_by_text(re.compile(r"^Channel 0 of max_pooling2d_1")).wait_for()  # kept
    _filter_wants_screenshots(page, screenshot, "1920x1080")
    assert page.locator('[data-testid="stException"]').count() == 0
