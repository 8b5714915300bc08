"""The whole app under AppTest, opened on a page with a model: shared by the page tests."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz.layers import Conv2DSpec, DenseSpec, FlattenSpec
from cnnviz.spec import ModelSpec
from ui.state import SPEC_KEY

APP = Path(__file__).resolve().parents[2] / "app.py"
SMALL = ModelSpec((8, 8, 1), (Conv2DSpec(filters=4, kernel_size=3, activation="relu"),
                              FlattenSpec(), DenseSpec(units=10, activation="softmax")),
                  name="small-digits")


def open_app(page: str | None = None, spec: ModelSpec | None = None,
             timeout: float = 240) -> AppTest:
    """The app after its first run, switched to `page` if given, with `spec` open."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    if spec is not None:
        at.session_state[SPEC_KEY] = spec
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at
