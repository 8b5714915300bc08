"""Every page through odd states under AppTest: no exception element, no guard message.

Every preset × every offline dataset, odd input shapes, an empty stack, a stack with an
error, a model trained (one tiny training) then edited. The page guard turns a crash into
a calm message, so the guard's message counts as a failure here too.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.layers import (
    Conv2DSpec,
    DenseSpec,
    FlattenSpec,
    GlobalAveragePooling2DSpec,
)
from cnnviz.presets import PRESETS, get_preset
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec
from ui.guard import MESSAGE
from ui.state import JOB_KEY, SPEC_KEY, TRAINED_KEY
from ui.train.job import TrainingJob

ROOT = Path(__file__).resolve().parents[2]
PAGES = ("pages/1_Build.py", "pages/2_Train.py", "pages/3_Feature_maps.py")
OFFLINE_DATASETS = ("digits", "shapes")
GUARD_TEXT = MESSAGE.split("(")[0]
ODD_SHAPES = ((1, 1, 1), (8, 8, 2), (32, 32, 4), (224, 224, 3))
POINTWISE = ModelSpec((8, 8, 1), (Conv2DSpec(filters=4, kernel_size=1, activation="relu"),
                                  GlobalAveragePooling2DSpec(),
                                  DenseSpec(units=10, activation="softmax")), name="pointwise")
SMALL = ModelSpec((8, 8, 1), (Conv2DSpec(filters=4, kernel_size=3, activation="relu"),
                              FlattenSpec(), DenseSpec(units=10, activation="softmax")),
                  name="small-digits")


def _calm(at: AppTest, where: str) -> None:
    assert not at.exception, (where, [item.message for item in at.exception])
    guarded = [error.value for error in at.error if GUARD_TEXT in error.value]
    assert not guarded, (where, guarded)


def _session(spec: ModelSpec) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state[SPEC_KEY] = spec
    at.run()
    _calm(at, "Build")
    return at


def _visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    _calm(at, page)
    return at


def _every_page(spec: ModelSpec) -> AppTest:
    at = _session(spec)
    for page in PAGES[1:]:
        _visit(at, page)
    return at


def _try_both_fits(at: AppTest, where: str) -> None:
    """Where data and model differ, look at both ways of making them meet."""
    for radio in at.radio:
        if radio.key and radio.key.startswith("train_fit_choice"):
            for option in radio.options:
                at.radio(key=radio.key).set_value(option).run()
                _calm(at, f"{where} · {option}")
            return


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_with_every_offline_dataset(name: str) -> None:
    at = _session(get_preset(name))
    _visit(at, "pages/2_Train.py")
    for dataset in OFFLINE_DATASETS:
        at.selectbox(key="train_dataset").set_value(dataset).run()
        _calm(at, f"{name} on {dataset}")
        _try_both_fits(at, f"{name} on {dataset}")
    _visit(at, "pages/3_Feature_maps.py")


@pytest.mark.parametrize("shape", ODD_SHAPES, ids=lambda shape: "x".join(map(str, shape)))
@pytest.mark.parametrize("base", [POINTWISE, get_preset("chollet-mnist-convnet")],
                         ids=["pointwise", "chollet"])
def test_odd_input_shapes(base: ModelSpec, shape: tuple[int, int, int]) -> None:
    at = _every_page(dataclasses.replace(base, input_shape=shape))
    at.switch_page("pages/2_Train.py").run()
    _try_both_fits(at, f"{base.name} {shape}")


def test_two_channels_on_the_train_page_are_explained_with_what_is_possible() -> None:
    """Images have 1 or 3 channels: no resize is offered, the model's input can be set."""
    at = _session(dataclasses.replace(SMALL, input_shape=(8, 8, 2)))
    _visit(at, "pages/2_Train.py")
    assert any("cannot be converted to 2 channels" in info.value
               for info in at.info)
    fit = next(radio for radio in at.radio if radio.key.startswith("train_fit_choice"))
    assert fit.options == ["set_input"] or len(fit.options) == 1
    set_input = next(b for b in at.button if b.label.startswith("Set the input to 8×8×1"))
    set_input.click().run()
    _calm(at, "after setting the input")
    assert at.session_state[SPEC_KEY].input_shape == (8, 8, 1)


def test_an_empty_stack_and_a_stack_with_an_error() -> None:
    _every_page(ModelSpec((28, 28, 1), (), name="empty"))
    broken = dataclasses.replace(get_preset("chollet-mnist-convnet"), input_shape=(4, 4, 1))
    assert summarize(broken).error is not None
    _every_page(broken)


def test_a_model_trained_then_edited() -> None:
    at = _session(SMALL)
    _visit(at, "pages/2_Train.py")
    at.selectbox(key="train_dataset").set_value("digits").run()
    at.number_input(key="train_epochs").set_value(1)
    at.button(key="train_start").click().run()
    job = at.session_state[JOB_KEY]
    assert isinstance(job, TrainingJob)
    job.thread.join(300)  # type: ignore[union-attr]
    assert job.state == "finished", job.error
    at.run()
    _calm(at, "Train after training")
    assert at.session_state[TRAINED_KEY] is not None
    _visit(at, "pages/3_Feature_maps.py")
    edited = SMALL.replace_layers([Conv2DSpec(filters=6, kernel_size=3, activation="relu"),
                                   *SMALL.layers[1:]])
    at.session_state[SPEC_KEY] = edited
    for page in PAGES:
        _visit(at, page)
    at.session_state[SPEC_KEY] = ModelSpec((8, 8, 1), (), name="emptied")
    for page in PAGES:
        _visit(at, page)


def test_the_guard_shows_a_message_and_logs_the_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import ui.build.summary

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(ui.build.summary, "summary_table", broken)
    with caplog.at_level(logging.ERROR, logger="cnnviz.pages"):
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert any(GUARD_TEXT in error.value and "ZeroDivisionError" in error.value
               for error in at.error)
    assert "a bug" not in " ".join(error.value for error in at.error)  # no code on the page
    record = next(item for item in caplog.records if item.name == "cnnviz.pages")
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError
