"""cnnviz: build a CNN, see its shapes and parameters, train it, look inside it."""

from __future__ import annotations

import streamlit as st

from ui.state import current_spec, ensure_defaults

st.set_page_config(page_title="cnnviz", page_icon="🧱", layout="wide")
ensure_defaults()

pages = [
    st.Page("pages/1_Build.py", title="Build", icon="🧱", default=True),
    st.Page("pages/2_Train.py", title="Train", icon="📈"),
    st.Page("pages/3_Feature_maps.py", title="Feature maps", icon="🔍"),
]
navigation = st.navigation(pages)

with st.sidebar:
    spec = current_spec()
    st.caption(f"Model **{spec.name}** · input {spec.input_shape[0]}×{spec.input_shape[1]}"
               f"×{spec.input_shape[2]} · {len(spec.layers)} layers")

navigation.run()
