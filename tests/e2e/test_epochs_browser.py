"""The epoch slider in a real browser: a model trained on shapes for enough epochs that its
first-layer filters turn from noise into edge and colour detectors; the slider, Play and
the filters across the epochs (screenshots at 1280×800 and 1920×1080)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from browser_session import (
    SCREENSHOT_DIR,
    TRAINING_TIMEOUT_MS,
    open_page,
    set_number,
)

from cnnviz.spec import ModelSpec
from cnnviz.urlcodec import encode_spec

EPOCHS = 12
# 7×7 filters with a little L2 decay: in 12 epochs on shapes some turn into colour edge
# detectors, and the ones the model does not use fade to grey.
SPEC = ModelSpec.from_dict({"name": "shapes-7x7", "input_shape": [32, 32, 3], "layers": [
    {"class_name": "Conv2D", "config": {
        "filters": 12, "kernel_size": 7, "padding": "same", "activation": "relu",
        "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.0005}}}},
    {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
    {"class_name": "Conv2D", "config": {"filters": 24, "kernel_size": 3, "activation": "relu"}},
    {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
    {"class_name": "Conv2D", "config": {"filters": 32, "kernel_size": 3, "activation": "relu"}},
    {"class_name": "GlobalAveragePooling2D", "config": {}},
    {"class_name": "Dense", "config": {"units": 8, "activation": "softmax"}},
]})


def _slider_text(page: Any) -> str:
    slider = page.get_by_test_id("stSlider").filter(has_text="Epoch").get_by_role("slider")
    return str(slider.get_attribute("aria-valuetext"))


def _save_image(page: Any, image: Any, name: str) -> Path:
    address = page.evaluate("source => new URL(source, location.href).href",
                            image.get_attribute("src"))
    response = page.request.get(address)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / name
    path.write_bytes(response.body())
    return path


def test_the_epoch_slider_shows_the_filters_turning_from_noise_into_detectors(
    page: Any, shapes_app: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    page.goto(f"{shapes_app}/?arch={encode_spec(SPEC)}")
    wait_for_app(page)
    open_page(page, "Train")
    set_number(page, "Epochs", EPOCHS)
    set_number(page, "Learning rate", 0.003)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Test accuracy", exact=True).wait_for(timeout=TRAINING_TIMEOUT_MS * 2)
    wait_for_app(page)

    open_page(page, "Feature maps")
    page.get_by_text("Model trained in this session").wait_for(timeout=TRAINING_TIMEOUT_MS)
    page.get_by_text(f"All {EPOCHS} epochs are kept").wait_for(timeout=TRAINING_TIMEOUT_MS)
    assert _slider_text(page) == f"{EPOCHS} (end)"
    prediction_at_end = page.get_by_text(re.compile(r"^Prediction: ")).first.inner_text()

    page.get_by_test_id("stSlider").filter(has_text="Epoch").get_by_role("slider").press("Home")
    wait_for_app(page)
    assert _slider_text(page) == "0 (start)"
    page.get_by_text(re.compile(r"^Prediction: ")).first.wait_for()

    page.get_by_text("The first layer's filters, epoch by epoch").click()
    wait_for_app(page)
    pictures = page.get_by_test_id("stExpander").filter(
        has_text="epoch by epoch").locator('[data-testid="stImage"] img')
    pictures.nth(1).wait_for()
    _save_image(page, pictures.nth(0), "epochs_filters_animation.gif")
    _save_image(page, pictures.nth(1), "epochs_filters_strip.png")
    screenshot(page, "epochs_1280x800", full_page=True)
    page.set_viewport_size({"width": 1920, "height": 1080})
    wait_for_app(page)
    screenshot(page, "epochs_1920x1080", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("button", name=re.compile("Pause")).wait_for()
    seen = set()
    deadline = time.monotonic() + 600
    while f"{EPOCHS} (end)" not in seen and time.monotonic() < deadline:
        seen.add(_slider_text(page))  # Play shows the epochs in turn, a second each
        page.wait_for_timeout(200)
    screenshot(page, "epochs_played_1920x1080")
    assert {"1", "2", f"{EPOCHS} (end)"} <= seen, seen
    page.get_by_role("button", name=re.compile("Play")).wait_for(timeout=TRAINING_TIMEOUT_MS)
    assert prediction_at_end  # the page drew a prediction at the end, and at each epoch
