"""The whole app under AppTest, opened on a page with a model: shared by the page tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from streamlit.testing.v1 import AppTest

from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.spec import ModelSpec
from cnnviz.train import TrainedModel
from ui.state import JOB_KEY, SPEC_KEY, TRAINED_KEY

APP = Path(__file__).resolve().parents[2] / "app.py"
Job = TypeVar("Job")
SMALL = ModelSpec((8, 8, 1), (Conv2DSpec(filters=4, kernel_size=3, activation="relu"),
                              FlattenSpec(), DenseSpec(units=10, activation="softmax")),
                  name="small-digits")


def open_app(page: str | None = None, spec: ModelSpec | None = None,
             timeout: float = 240, trained: TrainedModel | None = None) -> AppTest:
    """The app after its first run, switched to `page` if given, with `spec` open and
    `trained` as the session's trained model."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if spec is not None:
        at.session_state[SPEC_KEY] = spec
    if trained is not None:
        at.session_state[TRAINED_KEY] = trained
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


def trained_on_digits(spec: ModelSpec, seed: int) -> TrainedModel:
    """`spec` with its random weights from `seed`, kept as if trained on digits."""
    from cnnviz.keras_build import build_model

    return TrainedModel(build_model(spec, seed=seed), spec, "digits", tuple("0123456789"), 0.5)


def finished_job(at: AppTest, start_key: str, job_type: type[Job]) -> Job:
    """Click the `start_key` button, wait up to 300 s for the job it started to finish,
    then rerun the page once it has."""
    at.button(key=start_key).click().run()
    job: Any = at.session_state[JOB_KEY]
    assert isinstance(job, job_type)
    job.thread.join(300)
    assert job.state == "finished", job.error
    at.run()
    assert not at.exception, at.exception
    return job
