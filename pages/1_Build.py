"""Build: the architecture's summary (placeholder until the Build page lands)."""

from __future__ import annotations

import streamlit as st

from cnnviz.shapes import summarize
from ui.state import current_spec

spec = current_spec()
summary = summarize(spec)
st.title(spec.name)
st.dataframe(
    [
        {
            "Layer (type)": f"{layer.name} ({layer.class_name})",
            "Output shape": str(layer.keras_output_shape),
            "Param #": f"{layer.params:,}",
            "Parameters": layer.param_formula,
        }
        for layer in summary.layers
    ],
    hide_index=True,
)
st.write(f"Total params: {summary.total_params:,}")
