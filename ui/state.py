"""Session-state keys and accessors shared by the pages. Plain data only, one session each."""

from __future__ import annotations

import streamlit as st

from cnnviz.presets import get_preset
from cnnviz.spec import ModelSpec

__all__ = [
    "DATASET_KEY",
    "DEFAULT_PRESET",
    "RUNS_KEY",
    "SPEC_KEY",
    "TRAINED_KEY",
    "current_spec",
    "ensure_defaults",
    "set_spec",
]

SPEC_KEY = "cnnviz_spec"  # the session's ModelSpec; no widget owns this key
TRAINED_KEY = "cnnviz_trained"  # the model trained in this session, with what it was trained on
RUNS_KEY = "cnnviz_runs"  # every training run of this session
DATASET_KEY = "cnnviz_dataset_name"
DEFAULT_PRESET = "chollet-mnist-convnet"


def ensure_defaults() -> None:
    if SPEC_KEY not in st.session_state:
        st.session_state[SPEC_KEY] = get_preset(DEFAULT_PRESET)


def current_spec() -> ModelSpec:
    ensure_defaults()
    spec: ModelSpec = st.session_state[SPEC_KEY]
    return spec


def set_spec(spec: ModelSpec) -> None:
    st.session_state[SPEC_KEY] = spec
