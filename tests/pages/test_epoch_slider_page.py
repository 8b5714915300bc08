"""The Feature maps page's epoch slider (AppTest): the maps, the filters and the prediction
of the epoch chosen are those of a Keras model holding that epoch's stored weights."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.data import array_to_image, load_dataset, to_model_input
from cnnviz.keras_build import build_model
from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec, MaxPooling2DSpec
from cnnviz.settings import get_settings
from cnnviz.spec import ModelSpec
from cnnviz.store import open_store
from cnnviz.train import TrainingSettings, fit_dataset_to_input, train
from ui.featuremaps.epochs import RunEpochs, next_epoch
from ui.state import (
    FEATURE_IMAGE_KEY,
    SPEC_KEY,
    STORED_RUNS_KEY,
    TRAINED_KEY,
    WORKSPACE_KEY,
    HandedImage,
)
from ui.train.job import RunRecorder

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "3_Feature_maps.py")
SPEC = ModelSpec((8, 8, 1), (Conv2DSpec(filters=3, kernel_size=3, activation="relu"),
                             MaxPooling2DSpec(pool_size=2), FlattenSpec(),
                             DenseSpec(units=10, activation="softmax")), name="epochs-digits")
EPOCHS = 3
SEED = 7
IMAGE = np.linspace(0.0, 1.0, 64, dtype=np.float32).reshape(8, 8, 1)


@pytest.fixture(scope="module")
def trained() -> dict[str, Any]:
    """A real training of 3 epochs kept in the store as the Train page keeps it, and the
    weights Keras had after each epoch."""
    store = open_store(get_settings().resolved_store_url)
    workspace = store.open_workspace(None)
    dataset = fit_dataset_to_input(load_dataset("digits"), SPEC.input_shape)
    settings = TrainingSettings(epochs=EPOCHS, batch_size=64, seed=SEED)
    recorder = RunRecorder.begin(store, workspace.id, SPEC, dataset, settings, params=0)
    seen: dict[int, list[np.ndarray]] = {}

    def keep(epoch: int, weights: list[np.ndarray]) -> None:
        seen[epoch] = [np.array(value) for value in weights]
        recorder.epoch(epoch, weights, {"loss": [1.0] * epoch})

    result = train(SPEC, dataset, settings, epoch_weights=keep)
    recorder.finish(result)
    assert recorder.problem is None
    return {"store": store, "workspace": workspace, "result": result, "weights": seen,
            "run_id": recorder.run_id, "dataset": dataset}


def _page(trained: dict[str, Any]) -> AppTest:
    app = AppTest.from_file(PAGE, default_timeout=240)
    dataset = trained["dataset"]
    app.session_state[SPEC_KEY] = SPEC
    app.session_state[WORKSPACE_KEY] = trained["workspace"]
    app.session_state[STORED_RUNS_KEY] = trained["store"].runs(trained["workspace"].id)
    app.session_state[TRAINED_KEY] = trained["result"].trained_model(
        dataset.name, dataset.class_names, trained["run_id"])
    app.session_state[FEATURE_IMAGE_KEY] = HandedImage(IMAGE, "a ramp", "test")
    return app.run()


def _keras_outputs(weights: list[np.ndarray]) -> list[np.ndarray]:
    """Every layer's output for the page's image, from a Keras model holding `weights`."""
    model = build_model(SPEC)
    model.set_weights(weights)
    probe = keras.Model(model.inputs, [layer.output for layer in model.layers])
    x = to_model_input(array_to_image(IMAGE), SPEC.input_shape)
    return [np.asarray(output)[0] for output in probe(x[np.newaxis])]


def _page_outputs(app: AppTest, epoch: int) -> list[np.ndarray]:
    cache = app.session_state["cnnviz_fm_results"]
    keys = [key for key in cache if key[0].endswith(f":epoch{epoch}")]
    assert len(keys) == 1, list(cache)
    return [layer.output for layer in cache[keys[0]].activations]


def _texts(app: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("caption", "markdown", "warning", "success")
                     for e in getattr(app, kind))


def test_the_slider_offers_the_start_every_kept_epoch_and_the_end(
        trained: dict[str, Any]) -> None:
    app = _page(trained)
    assert not app.exception
    slider = app.select_slider(key="fm_epoch")
    assert list(slider.options) == ["0 (start)", "1", "2", "3 (end)"]
    assert slider.value == EPOCHS
    assert "All 3 epochs are kept" in _texts(app)
    assert "Epoch 0 is the starting weights (seed 7)" in _texts(app)


@pytest.mark.parametrize("epoch", [1, 2])
def test_maps_at_an_epoch_are_those_of_keras_with_that_epoch_s_weights(
        trained: dict[str, Any], epoch: int) -> None:
    app = _page(trained)
    app.select_slider(key="fm_epoch").set_value(epoch).run()
    assert not app.exception
    expected = _keras_outputs(trained["weights"][epoch])
    shown = _page_outputs(app, epoch)
    for page_output, keras_output in zip(shown, expected, strict=True):
        np.testing.assert_allclose(page_output, keras_output, rtol=1e-5, atol=1e-6)
    other = _keras_outputs(trained["weights"][3 - epoch])  # a different epoch differs
    assert not np.allclose(shown[0], other[0])


def test_epoch_0_is_the_seeded_starting_model(trained: dict[str, Any]) -> None:
    app = _page(trained)
    app.select_slider(key="fm_epoch").set_value(0).run()
    assert not app.exception
    start = build_model(SPEC, seed=SEED).get_weights()
    for page_output, keras_output in zip(_page_outputs(app, 0), _keras_outputs(start),
                                         strict=True):
        np.testing.assert_allclose(page_output, keras_output, rtol=1e-5, atol=1e-6)


def test_the_filters_tab_draws_the_chosen_epoch_s_kernels(trained: dict[str, Any]) -> None:
    app = _page(trained)
    images_at_end = [str(image.proto) for image in app.get("image")]
    app.select_slider(key="fm_epoch").set_value(1).run()
    assert not app.exception
    cached = app.session_state["cnnviz_fm_epoch_model"]
    assert cached["epoch"] == 1
    kernel = np.asarray(cached["model"].layers[0].kernel)
    np.testing.assert_array_equal(kernel, trained["weights"][1][0])
    assert [str(image.proto) for image in app.get("image")] != images_at_end


def test_play_steps_from_the_start_through_every_epoch_to_the_end(
        trained: dict[str, Any]) -> None:
    app = _page(trained)
    app.button(key="fm_epoch_play").click().run()  # the page reruns itself once a second
    assert not app.exception
    assert app.select_slider(key="fm_epoch").value == EPOCHS
    assert app.button(key="fm_epoch_play").label == "Play"  # stopped at the end
    assert app.session_state["cnnviz_fm_epoch_model"]["epoch"] == 2  # it passed epoch 2
    assert next_epoch((0, 1, 2, 3), 0) == 1 and next_epoch((0, 1, 2, 3), 3) is None


def test_without_a_stored_run_there_is_no_slider() -> None:
    app = AppTest.from_file(PAGE, default_timeout=240)
    app.session_state[SPEC_KEY] = SPEC
    app.run()
    assert not app.exception
    assert "fm_epoch" not in [slider.key for slider in app.get("select_slider")]


def test_a_fine_tuning_s_slider_has_no_seeded_start() -> None:
    assert RunEpochs(1, 7, (1, 2), 3, 3, 0, "").options == (0, 1, 2, 3)
    assert RunEpochs(1, 7, (1, 2), 3, 3, 0, "", from_seed=False).options == (1, 2, 3)
