"""The Feature maps page's first line: which weights the maps come from — this session's
training, a participant's run the host brought, or random ones."""

from __future__ import annotations

import streamlit as st

from cnnviz.spec import ModelSpec
from ui.featuremaps.model import PageModel, stale_trained_model
from ui.markdown import escape_markdown
from ui.state import brought_run

__all__ = ["show_model_banner"]


def show_model_banner(page: PageModel, spec: ModelSpec) -> None:
    if not page.trained:
        stale = (" The model trained in this session had a different architecture."
                 if stale_trained_model(spec) else "")
        st.warning(f"**Untrained model: random weights** (seed 0).{stale} The maps show what "
                   "random filters do; train on the Train page to see learned features.")
        return
    accuracy = f"{page.test_accuracy:.1%}" if page.test_accuracy is not None else "not measured"
    data = escape_markdown(page.dataset_name or "your data")
    brought = brought_run()
    if brought is not None:
        st.success(f"**{escape_markdown(brought.owner)}**'s run {brought.run_id}, brought from "
                   f"the Host page: trained on **{data}** — test accuracy **{accuracy}**.",
                   icon=":material/cast:")
        return
    st.success(f"Model trained in this session on **{data}** — test accuracy **{accuracy}**.")
