"""The "What a filter wants" tab and occlusion beside Grad-CAM, under AppTest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import ui.featuremaps.filter_wants
import ui.featuremaps.occlusion
from cnnviz.data import SHAPE_NAMES, array_to_image, load_dataset, to_model_input
from cnnviz.featuremaps import occlusion_sensitivity
from cnnviz.keras_build import build_model
from cnnviz.spec import ModelSpec
from cnnviz.train import TrainedModel
from ui.state import SPEC_KEY, TRAINED_KEY

keras = pytest.importorskip("keras")

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "3_Feature_maps.py")
SPEC = ModelSpec.from_dict({"name": "wants", "input_shape": [32, 32, 3], "layers": [
    {"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
    {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
    {"class_name": "Conv2D", "config": {"filters": 6, "kernel_size": 3, "activation": "relu"}},
    {"class_name": "Flatten", "config": {}},
    {"class_name": "Dense", "config": {"units": 8, "activation": "softmax"}},
]})  # fmt: skip


def _page(model: Any) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=240)
    app.session_state[SPEC_KEY] = SPEC
    app.session_state[TRAINED_KEY] = TrainedModel(model, SPEC, "shapes", SHAPE_NAMES, 0.5)
    return app.run()


def _texts(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("markdown", "caption", "info", "warning", "error")
                     for e in getattr(app, kind))


def _counted(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(module, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


@pytest.fixture(scope="module")
def model() -> Any:
    return build_model(SPEC, seed=1)


def test_the_image_is_made_on_the_button_and_kept_for_reruns(
    model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counted(monkeypatch, ui.featuremaps.filter_wants, "maximize_activation")
    app = _page(model)
    assert not app.exception
    assert app.selectbox(key="fm_wants_layer").value == "conv2d_1"  # the deepest by default
    assert "Press the button to make the image" in _texts(app) and not calls
    app.number_input(key="fm_wants_channel_conv2d_1").set_value(5).run()
    app.button(key="fm_wants_make").click().run()
    assert not app.exception and len(calls) == 1
    text = _texts(app)
    assert "Channel 5 of conv2d_1: its mean rose from" in text
    assert "96 steps, learning rate 0.05, jitter 2 px, blur σ 0.6 px every 4 steps" in text
    (trace,) = [c for c in app.get("plotly_chart") if "fm_wants_trace" in c.proto.id]
    assert json.loads(trace.proto.spec)["data"][0]["type"] == "scatter"
    app.radio(key="fm_norm").set_value("layer").run()  # another rerun: shown, not recomputed
    assert len(calls) == 1 and "Channel 5 of conv2d_1" in _texts(app)


def test_the_top_images_are_the_keras_argmax_over_the_test_set(model: Any) -> None:
    app = _page(model)
    app.selectbox(key="fm_wants_layer").set_value("conv2d").run()
    app.number_input(key="fm_wants_channel_conv2d").set_value(2).run()
    app.button(key="fm_wants_top").click().run()
    assert not app.exception
    shown = [int(e.value.split()[0][1:]) for e in app.caption if e.value.startswith("#")]
    x_test = load_dataset("shapes").x_test
    probe = keras.Model(model.inputs[0], model.get_layer("conv2d").output)
    strongest = probe.predict(x_test, verbose=0)[..., 2].max(axis=(1, 2))
    assert shown == list(np.argsort(-strongest, kind="stable")[:8])
    app.number_input(key="fm_wants_channel_conv2d").set_value(3).run()  # same scan
    shown = [int(e.value.split()[0][1:]) for e in app.caption if e.value.startswith("#")]
    assert shown[0] == int(np.argmax(probe.predict(x_test, verbose=0)[..., 3].max(axis=(1, 2))))


def test_occlusion_is_drawn_beside_gradcam_on_the_button(
    model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counted(monkeypatch, ui.featuremaps.occlusion, "occlusion_sensitivity")
    app = _page(model)
    assert "press the button below to cover the image" in _texts(app) and not calls
    app.button(key="fm_occlusion_run").click().run()
    assert not app.exception and len(calls) == 1
    predicted = int(app.selectbox(key="fm_gradcam_class").value)
    shapes = load_dataset("shapes")
    first_circle = shapes.x_test[np.flatnonzero(shapes.y_test == 0)[0]]  # the page's image
    circle = to_model_input(array_to_image(first_circle), SPEC.input_shape)
    expected = occlusion_sensitivity(model, circle, predicted, patch=8, stride=8)
    name = SHAPE_NAMES[predicted]
    assert (f"Occlusion for {name}: how much p = {expected.probability:.1%} drops when a grey "
            f"8×8 patch covers each place (4×4 places, stride 8); the largest drop is "
            f"{expected.largest_drop:.1%}.") in _texts(app)
    app.radio(key="fm_norm").set_value("layer").run()
    assert len(calls) == 1 and f"Occlusion for {name}" in _texts(app)


def test_a_model_without_maps_says_why() -> None:
    dense = ModelSpec.from_dict({"input_shape": [32, 32, 3], "layers": [
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 8, "activation": "softmax"}}]})
    app = AppTest.from_file(PAGE, default_timeout=240)
    app.session_state[SPEC_KEY] = dense
    app.run()
    assert not app.exception
    assert "No layer of this model outputs maps, so no channel can be chosen" in _texts(app)
