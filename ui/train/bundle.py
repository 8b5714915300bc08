"""Train page: load a trained-model bundle back into this session."""

from __future__ import annotations

from typing import Final

import streamlit as st

from cnnviz.bundle import BundleError, load_bundle
from cnnviz.errors import LimitError
from cnnviz.train import TrainedModel
from ui.state import TRAINED_KEY, set_spec

__all__ = ["bundle_loader"]

_LOADED_KEY: Final = "cnnviz_train_bundle_loaded"  # file id of the bundle already loaded


def bundle_loader(*, frozen: bool) -> None:
    """Upload a bundle zip: its architecture becomes the model, its weights the trained one."""
    upload = st.file_uploader("A bundle .zip downloaded from this page", type=["zip"],
                              key="train_bundle_upload", disabled=frozen)
    if upload is None or st.session_state.get(_LOADED_KEY) == upload.file_id:
        return
    try:
        with st.spinner("Rebuilding the model and loading its weights…"):
            loaded = load_bundle(upload.getvalue())
    except (BundleError, LimitError) as error:
        st.error(f"{upload.name}: {error}", icon=":material/error:")
        return
    st.session_state[_LOADED_KEY] = upload.file_id
    set_spec(loaded.spec)
    st.session_state[TRAINED_KEY] = TrainedModel(
        loaded.model, loaded.spec, loaded.dataset_name, loaded.class_names, loaded.test_accuracy
    )
    accuracy = (f", test accuracy {loaded.test_accuracy:.1%}"
                if loaded.test_accuracy is not None else "")
    st.success(f"Loaded **{loaded.spec.name}** trained on {loaded.dataset_name}{accuracy}. It is "
               "now the model on the Build page and the trained model of the Feature maps page.",
               icon=":material/check_circle:")
