"""Which model the Feature maps page runs, and this session's caches of what it computed.

The trained model of the session is used when it was trained on the current architecture;
otherwise the architecture runs with seeded random weights, built once per session and spec.
Everything here lives in `st.session_state` (one session each), never in a shared cache.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import streamlit as st

from cnnviz._types import KerasModel
from cnnviz.archfile import dump_architecture
from cnnviz.featuremaps import extract_activations
from cnnviz.keras_build import build_model
from cnnviz.spec import ModelSpec
from cnnviz.tf_runtime import configure_tensorflow
from cnnviz.train import TrainedModel
from ui.state import trained_model
from ui.workspace import restore_trained_model

__all__ = [
    "RANDOM_SEED",
    "ImageResults",
    "PageModel",
    "image_digest",
    "image_results",
    "page_model",
    "seeded_model",
    "spec_digest",
    "stale_trained_model",
]

RANDOM_SEED: Final = 0
_RANDOM_MODEL_KEY: Final = "cnnviz_fm_random_model"
_RESULTS_KEY: Final = "cnnviz_fm_results"
_MAX_RESULTS: Final = 2  # the current image and the previous one: switching back is instant
_BUILD_LOCK = threading.Lock()  # build_model seeds Keras's global generator


@dataclass(frozen=True, eq=False)
class PageModel:
    model: KerasModel
    spec: ModelSpec
    trained: bool
    key: str  # the weights version: a new one for every training
    dataset_name: str | None = None
    class_names: tuple[str, ...] = ()
    test_accuracy: float | None = None
    run_id: int | None = None  # the trained model's run in the workspace store
    epoch: int | None = None  # set by the epoch slider: the weights are this epoch's


@dataclass(eq=False)
class ImageResults:
    """What one model computed for one image; mosaics and Grad-CAMs are filled on demand."""

    activations: list[Any]  # list[LayerActivation]
    mosaics: dict[tuple[int, str], bytes] = field(default_factory=dict)
    gradcams: dict[int, Any] = field(default_factory=dict)


def spec_digest(spec: ModelSpec) -> str:
    return hashlib.sha1(dump_architecture(spec, indent=None).encode("utf-8")).hexdigest()[:16]


def image_digest(x: np.ndarray) -> str:
    array = np.ascontiguousarray(x, dtype=np.float32)
    digest = hashlib.sha1(array.tobytes())
    digest.update(str(array.shape).encode("ascii"))
    return digest.hexdigest()[:16]


def seeded_model(spec: ModelSpec, seed: int) -> KerasModel:
    """`spec` built with the initial weights of `seed` (one build at a time: the seed is
    Keras's global one)."""
    configure_tensorflow()
    with _BUILD_LOCK:
        return build_model(spec, seed=seed)


def _same_architecture(first: ModelSpec, second: ModelSpec) -> bool:
    return first.input_shape == second.input_shape and first.layers == second.layers


def _trained_record(spec: ModelSpec) -> TrainedModel | None:
    record = trained_model()
    if record is None or record.model is None:
        return None
    return record if _same_architecture(record.spec, spec) else None


def stale_trained_model(spec: ModelSpec) -> bool:
    """A model was trained in this session, but for another architecture than this one."""
    record = trained_model()
    return record is not None and record.model is not None and _trained_record(spec) is None


def page_model(spec: ModelSpec) -> PageModel:
    """The session's trained model for `spec` (brought back from the workspace store after
    a reload or a restart), or `spec` with random weights (seed 0)."""
    record = _trained_record(spec)
    if record is None:
        problem = restore_trained_model(lambda saved: _same_architecture(saved, spec))
        if problem:
            st.warning(problem, icon=":material/error:")
        record = _trained_record(spec)
    if record is not None:
        return PageModel(
            model=record.model,
            spec=spec,
            trained=True,
            key=f"trained:{record.weights_version}",
            dataset_name=record.dataset_name,
            class_names=tuple(record.class_names),
            test_accuracy=record.test_accuracy,
            run_id=record.run_id,
        )
    digest = spec_digest(spec)
    cached = st.session_state.get(_RANDOM_MODEL_KEY)
    if not isinstance(cached, dict) or cached.get("digest") != digest:
        st.session_state.pop(_RANDOM_MODEL_KEY, None)  # free the old model first
        cached = {"digest": digest, "model": seeded_model(spec, RANDOM_SEED)}
        st.session_state[_RANDOM_MODEL_KEY] = cached
    return PageModel(model=cached["model"], spec=spec, trained=False, key=f"random:{digest}")


def image_results(page: PageModel, x: np.ndarray) -> ImageResults:
    """Every layer's output for image `x`, computed once per (weights version, image)."""
    store = st.session_state.get(_RESULTS_KEY)
    if not isinstance(store, OrderedDict):
        store = OrderedDict()
        st.session_state[_RESULTS_KEY] = store
    key = (page.key, image_digest(x))
    if key in store:
        store.move_to_end(key)
        return store[key]  # type: ignore[no-any-return]
    while len(store) >= _MAX_RESULTS:
        store.popitem(last=False)
    results = ImageResults(extract_activations(page.model, x))
    store[key] = results
    return results
