"""The "Explain a value" tab under AppTest: choose a layer and a cell, see its computation
with the numbers Keras computed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.featuremaps import explain_value, extract_activations
from cnnviz.keras_build import build_model
from cnnviz.spec import ModelSpec
from ui.state import SPEC_KEY

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "3_Feature_maps.py")

SPEC = ModelSpec.from_dict({
    "name": "explained",
    "input_shape": [12, 12, 3],
    "layers": [
        {"class_name": "Conv2D", "config": {"filters": 4, "kernel_size": 3, "activation": "relu",
                                            "padding": "same", "strides": 2}},
        {"class_name": "MaxPooling2D", "config": {"pool_size": 2}},
        {"class_name": "Flatten", "config": {}},
        {"class_name": "Dense", "config": {"units": 3, "activation": "softmax"}},
    ],
})  # fmt: skip


@pytest.fixture(scope="module")
def app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240)
    at.session_state[SPEC_KEY] = SPEC
    at.run()
    assert not at.exception, at.exception
    return at


def _keras_value(app: AppTest, layer: int, at: tuple[int, ...]) -> float:
    """The value the page's one forward pass computed (Keras's own)."""
    results = app.session_state["cnnviz_fm_results"]
    latest = results[next(reversed(results))]
    return float(latest.activations[layer].output[at])


def test_the_first_layers_value_is_written_out_with_its_window(app: AppTest) -> None:
    app.selectbox(key="fm_explain_layer").set_value(0)
    app.number_input(key="fm_explain_row_0").set_value(2)
    app.number_input(key="fm_explain_col_0").set_value(5)
    app.number_input(key="fm_explain_ch_0").set_value(3)
    app.run()
    assert not app.exception
    value = _keras_value(app, 0, (2, 5, 3))
    headlines = [m.value for m in app.markdown if m.value.startswith("#### conv2d at")]
    assert headlines and "row 2, column 5, channel 3" in headlines[0]
    code = "\n".join(c.value for c in app.code)
    # 12 wide, kernel 3, stride 2, 'same': 6 outputs, pad 1 total, 0 before: rows 4–6.
    assert "Window: rows 4–6, columns 10–12 of input image (12, 12, 3)" in code
    assert "relu(" in code and "(bias)" in code
    assert f"Keras computed {value:.7g}".replace("-", "−") in code
    captions = "\n".join(c.value for c in app.caption)
    assert "The window over the input image" in captions
    assert "Receptive field" in captions


def test_a_dense_unit_lists_its_largest_products(app: AppTest) -> None:
    app.selectbox(key="fm_explain_layer").set_value(3).run()
    app.number_input(key="fm_explain_row_3").set_value(1).run()
    assert not app.exception
    code = "\n".join(c.value for c in app.code)
    assert "dense (Dense) at index 1" in code
    assert "softmax(" in code and "Receptive field: the whole input image" in code


def test_a_pooling_cell_shows_its_window_over_the_previous_layer(app: AppTest) -> None:
    app.selectbox(key="fm_explain_layer").set_value(1).run()
    for key, value in (("fm_explain_row_1", 1), ("fm_explain_col_1", 2), ("fm_explain_ch_1", 0)):
        app.number_input(key=key).set_value(value)
    app.run()
    assert not app.exception
    code = "\n".join(c.value for c in app.code)
    assert "max_pooling2d (MaxPooling2D) at row 1, column 2, channel 0" in code
    assert "Window: rows 2–3, columns 4–5 of conv2d" in code
    value = _keras_value(app, 1, (1, 2, 0))
    assert f"= {value:.4g}".replace("-", "−") in code or value == 0


def test_explanations_match_extract_activations_for_the_page_model() -> None:
    model = build_model(SPEC, seed=0)
    image = np.random.default_rng(0).random((12, 12, 3)).astype(np.float32)
    activations = extract_activations(model, image)
    explanation = explain_value(model, activations, image, 0, (5, 5, 1))
    assert explanation.computed == pytest.approx(float(activations[0].output[5, 5, 1]), abs=1e-6)


def test_a_max_pooling_window_is_drawn_and_a_kept_row_too_large_for_a_new_model_is_reset(
    app: AppTest,
) -> None:
    app.selectbox(key="fm_explain_layer").set_value(1).run()
    assert not app.exception
    assert app.get("plotly_chart"), "the window of the max pooling is drawn"
    app.selectbox(key="fm_explain_layer").set_value(0).run()
    app.number_input(key="fm_explain_row_0").set_value(5).run()
    smaller = ModelSpec.from_dict({**SPEC.to_dict(), "input_shape": [6, 6, 3]})
    app.session_state[SPEC_KEY] = smaller
    app.run()
    assert not app.exception
    assert app.number_input(key="fm_explain_row_0").value == 1  # 3 rows now: the middle
