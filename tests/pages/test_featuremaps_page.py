from __future__ import annotations

import base64
import dataclasses
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import cnnviz.featuremaps.activations
import cnnviz.settings
import ui.featuremaps.image
import ui.featuremaps.model
from cnnviz.data import SHAPE_NAMES
from cnnviz.keras_build import build_model
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec
from cnnviz.train import TrainedModel
from ui.featuremaps.render import mosaics_zip_factory
from ui.state import FEATURE_IMAGE_KEY, SPEC_KEY, TRAINED_KEY, HandedImage

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "3_Feature_maps.py")
TIMEOUT = 240

SPEC = ModelSpec.from_dict({
    "name": "small",
    "input_shape": [16, 16, 3],
    "layers": [
        {"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
        {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
        {"class_name": "Conv2D", "config": {"filters": 6, "kernel_size": 3, "activation": "relu"}},
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 8, "activation": "softmax"}},
    ],
})  # fmt: skip


def _page(spec: ModelSpec = SPEC, **state: Any) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=TIMEOUT)
    app.session_state[SPEC_KEY] = spec
    for key, value in state.items():
        app.session_state[key] = value
    return app.run()


def _texts(app: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "warning", "error", "info", "success")
             for e in getattr(app, kind)]
    return "\n".join(str(part) for part in parts)


def _png(colour: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_untrained_model_draws_every_layer_from_a_dataset_sample() -> None:
    app = _page()
    assert not app.exception
    text = _texts(app)
    assert "Untrained model: random weights" in text
    for number, name in enumerate(SPEC.layer_names(), 1):
        assert f"**{number}. {name}**" in text
    assert "4 maps of 14×14" in text and "6 maps of 5×5" in text
    assert "What the model sees: 16×16×3" in text
    assert "Original: circle · shapes test image 1" in text
    assert len(app.get("image")) >= 5  # original, view, 3 mosaics (and filters, Grad-CAM)


def test_the_trained_model_is_used_with_its_accuracy_and_class_names() -> None:
    trained = TrainedModel(build_model(SPEC, seed=5), SPEC, "shapes", SHAPE_NAMES, 0.875)
    app = _page(**{TRAINED_KEY: trained})
    assert not app.exception
    text = _texts(app)
    assert "trained in this session on **shapes**" in text and "**87.5%**" in text
    prediction = next(m.value for m in app.markdown if m.value.startswith("Prediction"))
    assert any(f"**{name}**" in prediction for name in SHAPE_NAMES)


def test_a_model_trained_for_another_architecture_is_not_used() -> None:
    other = SPEC.replace_layers(SPEC.layers[:1] + SPEC.layers[3:])
    trained = TrainedModel(build_model(other, seed=5), other, "shapes", SHAPE_NAMES, 0.9)
    app = _page(**{TRAINED_KEY: trained})
    text = _texts(app)
    assert "Untrained model" in text and "different architecture" in text


def test_an_image_handed_over_by_the_train_page_is_shown_first() -> None:
    array = np.zeros((32, 32, 3), dtype=np.float32)
    array[8:24, 8:24, 0] = 1.0
    handed = HandedImage(array=array, label="a red square", source="Train page")
    app = _page(**{FEATURE_IMAGE_KEY: handed})
    assert not app.exception
    assert app.radio(key="fm_source").value == "From the Train page"
    assert "Original: a red square · Train page (32×32, colour)" in _texts(app)


def test_an_uploaded_image_is_decoded_and_run() -> None:
    app = _page()
    app.radio(key="fm_source").set_value("Upload").run()
    app.file_uploader(key="fm_upload").set_value(("red.png", _png(), "image/png")).run()
    assert not app.exception and not app.error
    assert "Original: red.png (40×30, colour)" in _texts(app)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "0 bytes"), (b"GIF89a broken", "not an image"), (_png()[:60], "truncated or damaged")],
)
def test_a_bad_upload_gets_a_clear_message_and_no_maps(content: bytes, message: str) -> None:
    app = _page()
    app.radio(key="fm_source").set_value("Upload").run()
    app.file_uploader(key="fm_upload").set_value(("bad.png", content, "image/png")).run()
    assert not app.exception
    assert any(message in error.value for error in app.error)
    assert "**1. conv2d**" not in _texts(app)


def test_an_upload_is_read_by_its_content_not_its_extension() -> None:
    app = _page()
    app.radio(key="fm_source").set_value("Upload").run()
    app.file_uploader(key="fm_upload").set_value(("photo.jpg", _png(), "image/jpeg")).run()
    assert not app.exception and not app.error
    assert "Original: photo.jpg (40×30, colour)" in _texts(app)


def _limit(monkeypatch: pytest.MonkeyPatch, **limits: int) -> None:
    settings = dataclasses.replace(cnnviz.settings.Settings(), **limits)
    monkeypatch.setattr(cnnviz.settings, "get_settings", lambda: settings)
    monkeypatch.setattr(ui.featuremaps.image, "get_settings", lambda: settings)


def test_an_upload_over_the_pixel_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _limit(monkeypatch, max_image_pixels=1_000)
    app = _page()
    app.radio(key="fm_source").set_value("Upload").run()
    app.file_uploader(key="fm_upload").set_value(("big.png", _png(), "image/png")).run()
    assert not app.exception
    assert any("1,200 pixels" in error.value for error in app.error)


def test_a_camera_photo_is_used() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(buffer, format="JPEG")
    app = _page()
    app.radio(key="fm_source").set_value("Camera").run()
    app.camera_input(key="fm_camera").set_value(("shot.jpg", buffer.getvalue(), "image/jpeg"))
    app.run()
    assert not app.exception and "Original: camera photo (64×48, colour)" in _texts(app)


def test_the_drawing_canvas_waits_for_a_drawing() -> None:
    app = _page()
    app.radio(key="fm_source").set_value("Draw a digit").run()
    assert not app.exception
    assert "Draw something on the black square" in _texts(app)


def test_switching_layers_and_scales_reuses_one_forward_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    original = ui.featuremaps.model.extract_activations

    def counting(model: Any, image: np.ndarray) -> Any:
        calls.append(1)
        return original(model, image)

    monkeypatch.setattr(ui.featuremaps.model, "extract_activations", counting)
    app = _page()
    app.selectbox(key="fm_closer_layer").set_value(1).run()
    app.radio(key="fm_norm").set_value("layer").run()
    assert not app.exception and len(calls) == 1
    (results,) = app.session_state["cnnviz_fm_results"].values()
    assert {key for key in results.mosaics} >= {(0, "channel"), (0, "layer"), (2, "layer")}


def test_the_zip_holds_every_mosaic_and_an_index() -> None:
    app = _page()
    (results,) = app.session_state["cnnviz_fm_results"].values()
    data = mosaics_zip_factory(results, summarize(SPEC), "channel", {"image": "x"})()
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == ["01_conv2d.png", "02_max_pooling2d.png", "03_conv2d_1.png",
                                  "layers.json"]
    assert Image.open(io.BytesIO(archive.read("03_conv2d_1.png"))).format == "PNG"
    assert json.loads(archive.read("layers.json"))["layers"][2]["output_shape"] == [
        None, 5, 5, 6]  # fmt: skip


def test_a_broken_architecture_is_explained_not_run() -> None:
    broken = dataclasses.replace(SPEC, input_shape=(2, 2, 3))
    app = _page(broken)
    assert not app.exception
    assert "cannot run yet" in app.error[0].value and "Build page" in app.error[0].value


def test_maps_over_the_host_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _limit(monkeypatch, max_activation_bytes=1_000)
    app = _page()
    assert not app.exception
    assert "CNNVIZ_MAX_ACTIVATION_BYTES" in app.error[0].value


def test_an_input_of_two_channels_is_explained() -> None:
    app = _page(dataclasses.replace(SPEC, input_shape=(16, 16, 2)))
    assert not app.exception
    assert any("1 or 3 channels" in error.value for error in app.error)


def test_a_model_without_convolutions_explains_the_missing_tabs() -> None:
    dense_only = ModelSpec.from_dict({"input_shape": [16, 16, 3], "layers": [
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 8, "activation": "softmax"}}]})
    app = _page(dense_only)
    assert not app.exception
    text = _texts(app)
    assert "no convolution layer" in text and "Grad-CAM needs a convolution layer" in text
    assert "No layer of this model outputs maps" in text


def test_the_image_and_choices_survive_a_visit_to_another_page() -> None:
    app = AppTest.from_file(str(Path(PAGE).parents[1] / "app.py"), default_timeout=TIMEOUT)
    app.session_state[SPEC_KEY] = SPEC
    app.run()
    app.switch_page("pages/3_Feature_maps.py").run()
    app.radio(key="fm_norm").set_value("layer").run()
    app.radio(key="fm_source").set_value("Upload").run()
    app.file_uploader(key="fm_upload").set_value(("red.png", _png(), "image/png")).run()
    assert "Original: red.png" in _texts(app)
    app.switch_page("pages/1_Build.py").run()
    app.switch_page("pages/3_Feature_maps.py").run()
    assert not app.exception
    assert app.radio(key="fm_source").value == "Upload"
    assert app.radio(key="fm_norm").value == "layer"
    text = _texts(app)
    assert "Original: red.png (40×30, colour)" in text and "Showing your last image" in text


def _prediction(app: AppTest) -> str:
    (line,) = [e.value for e in app.markdown if e.value.startswith("Prediction: **")]
    return line.split("**")[1]


def test_gradcam_follows_the_prediction_when_the_image_changes() -> None:
    # Seed 1 predicts crescent for the first circle and square for the first square.
    trained = TrainedModel(build_model(SPEC, seed=1), SPEC, "shapes", SHAPE_NAMES, 0.5)
    app = _page(**{TRAINED_KEY: trained})
    first = _prediction(app)
    assert app.selectbox(key="fm_gradcam_class").value == SHAPE_NAMES.index(first)
    for name in SHAPE_NAMES[1:]:  # a sample whose prediction differs from the first one's
        app.selectbox(key="fm_class_shapes").set_value(name).run()
        if _prediction(app) != first:
            break
    predicted = _prediction(app)
    assert predicted != first, "every sample gets the same prediction: choose another model"
    chooser = app.selectbox(key="fm_gradcam_class")
    assert chooser.value == SHAPE_NAMES.index(predicted)
    assert str(chooser.format_func(chooser.value)).endswith("— predicted")
    assert f"Grad-CAM for {predicted} over the original" in _texts(app)
    chooser.set_value(3).run()
    app.radio(key="fm_norm").set_value("layer").run()  # same image: the choice holds
    assert app.selectbox(key="fm_gradcam_class").value == 3
    assert f"Grad-CAM for {SHAPE_NAMES[3]} over the original" in _texts(app)


def test_the_first_layer_kernels_are_drawn_once() -> None:
    app = _page()
    assert not app.exception
    assert app.selectbox(key="fm_filter_layer").options == ["conv2d_1"]
    text = _texts(app)
    assert text.count("4 filters of 3×3×3") == 1
    assert "filters applies to input channel 0" in text  # conv2d_1's, for its 4 inputs


def test_digit_class_names_are_categories_sorted_by_probability() -> None:
    digits = tuple(str(i) for i in range(8))
    trained = TrainedModel(build_model(SPEC, seed=1), SPEC, "digits", digits, 0.5)
    app = _page(**{TRAINED_KEY: trained})
    (chart,) = [c for c in app.get("plotly_chart") if "fm_probabilities" in c.proto.id]
    figure = json.loads(chart.proto.spec)
    (bars,) = figure["data"]
    axis = figure["layout"]["yaxis"]
    assert axis["type"] == "category" and list(axis["tickvals"]) == list(bars["y"])
    assert sorted(bars["y"]) == list(digits)  # every class, each labelled
    values = bars["x"]  # Plotly sends arrays as base64
    values = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
    assert list(values) == sorted(values)  # the most likely on top
    assert bars["y"][-1] == _prediction(app)
