"""cnnviz: build a CNN, see its shapes and parameters, train it, look inside it."""

from __future__ import annotations

import streamlit as st

from cnnviz.shapes import summarize
from ui.guard import page_guard
from ui.host import host_pages, host_sign_in
from ui.lesson import lesson_notice
from ui.page_style import apply_page_style
from ui.state import TRAINED_KEY, current_spec, ensure_defaults, sync_url, take_notice
from ui.train.job import collect_finished_training
from ui.workspace import open_session_workspace, save_workspace, workspace_panel

st.set_page_config(page_title="cnnviz", page_icon="🧱", layout="wide")
apply_page_style()
ensure_defaults()
open_session_workspace()  # the participant's stored model and runs, at the first run
collect_finished_training()  # a training that ended while this session was on another page

pages = [
    st.Page("pages/1_Build.py", title="Build", icon=":material/view_in_ar:", default=True),
    st.Page("pages/2_Train.py", title="Train", icon=":material/monitoring:"),
    st.Page("pages/3_Feature_maps.py", title="Feature maps", icon=":material/grid_view:"),
    *host_pages(),  # only for a session that signed in as the host
]
navigation = st.navigation(pages)

with st.sidebar:
    spec = current_spec()
    summary = summarize(spec)
    st.caption(f"Model **{spec.name}** · input {spec.input_shape[0]}×{spec.input_shape[1]}"
               f"×{spec.input_shape[2]} · {len(spec.layers)} layers · "
               f"{summary.total_params:,} params"
               + ("" if summary.ok else " · :red[has an error]"))
    if st.session_state.get(TRAINED_KEY) is not None:
        st.caption(":material/check_circle: A model has been trained in this session.")
    workspace_panel()
    host_sign_in()

with page_guard(navigation.title):  # a message and a logged traceback, never code on a page
    lesson_notice(navigation.title)  # the host's lesson, locks and challenge, above the page
    navigation.run()
notice = take_notice()  # one the page did not show itself
if notice:
    st.sidebar.warning(notice, icon=":material/warning:")
sync_url()
save_workspace()
