""""Explain a value" in a real browser: a model trained on shapes, the circle test image,
one value of the first layer chosen by its numbers and by a click on the map."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from browser_session import open_trained_feature_maps, set_number, train_one_epoch

from cnnviz.spec import ModelSpec
from cnnviz.urlcodec import encode_spec

SPEC = ModelSpec.from_dict({
    "name": "shapes-explained",
    "input_shape": [32, 32, 3],
    "layers": [
        {"class_name": "Conv2D", "config": {"filters": 8, "kernel_size": 3, "activation": "relu"}},
        {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 8, "activation": "softmax"}},
    ],
})  # fmt: skip


def _heading(page: Any) -> Any:
    return page.locator("h4").filter(has_text=re.compile(r"^conv2d at "))


def _wait_for_heading(page: Any, position: str) -> None:
    page.wait_for_function(
        "text => [...document.querySelectorAll('h4')].some(h => h.innerText.includes(text))",
        arg=f"conv2d at {position} = ")


def _set_number(page: Any, label: str, value: int) -> None:
    set_number(page, page.get_by_role("spinbutton", name=re.compile(rf"^{label} \(")), value)


def test_first_layer_value_of_a_trained_model_on_a_circle(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path],
) -> None:
    page.goto(f"{app_url}/?arch={encode_spec(SPEC)}")
    wait_for_app(page)
    train_one_epoch(page)
    open_trained_feature_maps(page)
    page.get_by_text("Original: circle · shapes test image 1").wait_for()
    page.get_by_role("tab", name="Explain a value").click()
    wait_for_app(page)
    _heading(page).wait_for()

    _set_number(page, "Row", 12)
    _set_number(page, "Column", 9)
    _set_number(page, "Channel", 2)
    _wait_for_heading(page, "row 12, column 9, channel 2")
    code = page.locator('[data-testid="stCode"]').first.inner_text()
    assert "Window: rows 12–14, columns 9–11 of input image (32, 32, 3)" in code
    assert "input channel 2:" in code and "(bias)" in code and "Keras computed" in code

    # A click on a cell of the map chooses it: row 20, column 5 of the 30×30 map.
    points = page.locator('[data-testid="stPlotlyChart"] .scatterlayer path.point')
    points.nth(20 * 30 + 5).click(force=True)
    wait_for_app(page)
    _wait_for_heading(page, "row 20, column 5, channel 2")

    heading_box = _heading(page).bounding_box()
    page.mouse.wheel(0, heading_box["y"] - 80)
    wait_for_app(page)
    for width, height in ((1280, 800), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        wait_for_app(page)
        _heading(page).scroll_into_view_if_needed()
        page.evaluate("window.scrollBy(0, -60)")
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"sideways scrolling of {overflow}px at {width}×{height}"
        screenshot(page, f"explain_first_layer_{width}x{height}")
        page.locator('[data-testid="stCode"]').first.scroll_into_view_if_needed()
        screenshot(page, f"explain_first_layer_{width}x{height}_arithmetic")
