"""The Train page in a real browser: one epoch on digits, live progress, curves, results."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from browser_session import set_number

from cnnviz.bundle import load_bundle
from cnnviz.presets import get_preset

TRAINING_TIMEOUT_MS = 240_000


def test_one_epoch_on_digits_shows_progress_curves_and_test_accuracy(
    page: Any, app_url: str, wait_for_app: Callable[..., None],
    screenshot: Callable[..., Path], download: Callable[..., bytes],
) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Train").click()
    page.get_by_role("heading", name=re.compile("Train · ")).wait_for()
    wait_for_app(page)
    page.get_by_text("Resize the data to 28×28×1").wait_for()
    set_number(page, "Epochs", 1)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text(re.compile(r"Epoch 1/1|Preparing the data|Evaluating")).first.wait_for(
        timeout=TRAINING_TIMEOUT_MS)
    # A one-epoch run on digits can end before the Stop button is looked for.
    stop_or_done = page.get_by_role("button", name="Stop").or_(
        page.get_by_text("Test accuracy", exact=True))
    stop_or_done.first.wait_for(timeout=TRAINING_TIMEOUT_MS)
    page.get_by_text("Test accuracy", exact=True).wait_for(timeout=TRAINING_TIMEOUT_MS)
    wait_for_app(page)
    accuracy = page.locator('[data-testid="stMetric"]').filter(has_text="Test accuracy")
    assert re.search(r"\d+\.\d%", accuracy.inner_text())
    assert page.locator(".js-plotly-plot").count() >= 1
    assert page.get_by_role("heading", name="Compare runs").count() == 1
    assert page.get_by_role("button", name="Stop").count() == 0
    page.get_by_role("tab", name="Confusion matrix").click()
    page.get_by_text(re.compile(r"test image\(s\) of")).wait_for()
    page.get_by_role("tab", name="Download").click()
    bundle_button = page.get_by_role("button", name=re.compile("Bundle: architecture"))
    loaded = load_bundle(download(page, bundle_button))
    assert loaded.spec == get_preset("chollet-mnist-convnet")
    assert loaded.dataset_name == "digits" and len(loaded.class_names) == 10
    screenshot(page, "train_1280x800", full_page=True)
    page.set_viewport_size({"width": 1920, "height": 1080})
    wait_for_app(page)
    screenshot(page, "train_1920x1080", full_page=True)


def _upload(page: Any, label_text: str, path: Path) -> None:
    """Drop `path` on the uploader whose label has `label_text` (once the page shows it)."""
    uploader = page.get_by_test_id("stFileUploader").filter(has_text=label_text)
    uploader.wait_for()
    uploader.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))


def test_bad_uploads_are_explained_where_they_were_dropped(
    page: Any, app_url: str, wait_for_app: Callable[..., None], tmp_path: Path,
) -> None:
    page.goto(app_url)
    wait_for_app(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Train").click()
    page.get_by_role("heading", name=re.compile("Train · ")).wait_for()
    wait_for_app(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Dataset").click()
    page.get_by_role("option", name="Upload (.npz or .zip)").click()
    wait_for_app(page)
    fake = tmp_path / "fake.npz"
    fake.write_bytes(b"this is not a numpy archive")
    _upload(page, "x_train, y_train", fake)
    page.get_by_text(re.compile(r"fake\.npz: ")).wait_for()
    assert page.get_by_role("button", name="Train", exact=True).is_disabled()
    page.get_by_text("Load a trained model").click()
    bundle = tmp_path / "model.zip"
    bundle.write_bytes(b"PK not really a zip")
    _upload(page, "A bundle .zip", bundle)
    page.get_by_text(re.compile(r"model\.zip: The file is not a zip bundle")).wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
