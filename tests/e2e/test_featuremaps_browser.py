"""The Feature maps page in a real browser: upload an image, see every layer's mosaic."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from browser_session import decoded_widths
from PIL import Image

from cnnviz.presets import get_preset
from cnnviz.shapes import summarize

DEFAULT = get_preset("chollet-mnist-convnet")  # a fresh session's model
SPATIAL_LAYERS = sum(len(layer.output_shape) == 3 for layer in summarize(DEFAULT).layers)


def _circle(path: Path) -> Path:
    yy, xx = np.mgrid[:96, :96]
    pixels = np.zeros((96, 96, 3), dtype=np.uint8)
    pixels[...] = (30, 40, 150)
    pixels[(yy - 48) ** 2 + (xx - 48) ** 2 < 30**2] = (250, 220, 40)
    Image.fromarray(pixels).save(path)
    return path


def _open_page(page: Any, app_url: str, wait_for_app: Callable[..., None]) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_role("link", name="Feature maps").click()
    wait_for_app(page)
    page.get_by_text("Untrained model: random weights").wait_for()


def _choose_source(page: Any, label: str, wait_for_app: Callable[..., None]) -> None:
    page.locator('[data-testid="stRadio"]').first.get_by_text(label, exact=True).click()
    wait_for_app(page)


def _mosaics(page: Any) -> Any:
    return page.locator('[data-testid="stImage"] img')


def test_uploading_an_image_shows_every_layers_mosaic(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path], download: Callable[..., bytes], tmp_path: Path,
) -> None:
    _open_page(page, app_url, wait_for_app)
    _choose_source(page, "Upload", wait_for_app)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        str(_circle(tmp_path / "circle.png"))
    )
    page.get_by_text("Original: circle.png (96×96, colour)").wait_for()
    last = len(DEFAULT.layers)
    page.get_by_text(f"{last}. {DEFAULT.layer_names()[-1]}", exact=True).wait_for()
    wait_for_app(page)
    for number, name in enumerate(DEFAULT.layer_names(), 1):
        assert page.get_by_text(f"{number}. {name}", exact=True).count() >= 1
    # original + model view + one mosaic per spatial layer, all decoded by the browser
    images = _mosaics(page)
    assert images.count() >= 2 + SPATIAL_LAYERS
    assert all(width > 0 for width in decoded_widths(images))
    assert page.locator('[data-testid="stException"]').count() == 0
    mosaics = download(page, page.get_by_role("button", name="Download all mosaics (.zip)"))
    names = zipfile.ZipFile(io.BytesIO(mosaics)).namelist()
    assert len([name for name in names if name.endswith(".png")]) == SPATIAL_LAYERS
    screenshot(page, "featuremaps_upload_1280")
    page.set_viewport_size({"width": 1920, "height": 1080})
    wait_for_app(page)
    screenshot(page, "featuremaps_upload_1920")


def test_a_file_that_is_not_an_image_gets_a_clear_message(
    page: Any, app_url: str, wait_for_app: Callable[..., None], tmp_path: Path
) -> None:
    _open_page(page, app_url, wait_for_app)
    _choose_source(page, "Upload", wait_for_app)
    fake = tmp_path / "notes.png"
    fake.write_bytes(b"these are notes, not pixels")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(fake))
    wait_for_app(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="notes.png")
    alert.wait_for()
    assert "not an image" in alert.inner_text()
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_digit_drawn_with_the_mouse_is_run_through_the_model(
    page: Any, app_url: str, wait_for_app: Callable[..., None], screenshot: Callable[..., Path]
) -> None:
    _open_page(page, app_url, wait_for_app)
    _choose_source(page, "Draw a digit", wait_for_app)
    page.get_by_text("Draw something on the black square").wait_for()
    canvas = page.locator("canvas").last
    box = canvas.bounding_box()
    assert box is not None
    left, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(left, top)
    page.mouse.down()
    page.mouse.move(left, top + box["height"] * 0.6, steps=20)
    page.mouse.up()
    page.get_by_text("Original: your drawing").wait_for()
    page.get_by_text(f"{len(DEFAULT.layers)}. {DEFAULT.layer_names()[-1]}", exact=True).wait_for()
    wait_for_app(page)
    assert _mosaics(page).count() >= 2 + SPATIAL_LAYERS
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "featuremaps_drawing")


def _overlap(first: dict[str, float], second: dict[str, float]) -> bool:
    return (first["x"] < second["x"] + second["width"] and second["x"] < first["x"] + first["width"]
            and first["y"] < second["y"] + second["height"]
            and second["y"] < first["y"] + first["height"])


def test_the_canvas_toolbar_leaves_the_image_choice_readable(
    page: Any, app_url: str, wait_for_app: Callable[..., None], screenshot: Callable[..., Path]
) -> None:
    _open_page(page, app_url, wait_for_app)
    _choose_source(page, "Draw a digit", wait_for_app)
    page.get_by_text("Draw something on the black square").wait_for()
    canvas = page.locator("canvas").last
    canvas.hover()
    toolbar = page.locator(".dc-toolbar-card").first
    page.wait_for_timeout(500)  # it fades in
    toolbar_box, radio_box = toolbar.bounding_box(), page.locator(
        '[data-testid="stRadio"]').first.bounding_box()
    assert toolbar_box is not None and radio_box is not None
    assert toolbar.is_visible()
    assert not _overlap(toolbar_box, radio_box), (toolbar_box, radio_box)
    screenshot(page, "featuremaps_canvas_toolbar")
