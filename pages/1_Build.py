"""Build: stack layers by drag and drop; every shape, parameter and the arithmetic, live."""

from __future__ import annotations

import streamlit as st

from cnnviz.advice import advise
from cnnviz.settings import get_settings
from cnnviz.shapes import summarize
from ui.build.advice import advice_panel, known_num_classes
from ui.build.charts import convolution_comparison, parameter_share, shape_blocks
from ui.build.form import draft_error, layer_settings
from ui.build.io import architecture_files, history_buttons, input_and_presets
from ui.build.quiz import quiz_mode, room_question, solo_question
from ui.build.stack import layer_stack, stack_buttons
from ui.build.summary import budget_badges, layer_arithmetic, summary_table
from ui.entry import run_through_app
from ui.state import current_spec, selected_layer, session_runs, sync_url, take_notice

run_through_app()  # a reload of this page's URL on a fresh server

host = get_settings()
spec = current_spec()
summary = summarize(spec)
advice = advise(spec, summary=summary, num_classes=known_num_classes(), host=host)

title, history = st.columns([3, 1], vertical_alignment="bottom")
title.header(f"Build · {spec.name}", anchor=False)
with history:
    history_buttons()
if notice := take_notice():
    st.warning(notice, icon=":material/warning:")
room_question()  # the host's question for the room, when one is asked
predicting = quiz_mode()  # the numbers wait for a guess
budget_badges(summary, session_runs(), host.max_params)
input_and_presets(spec)

stack_column, layer_column = st.columns([1, 1], gap="large")
with stack_column:
    layer_stack(spec, summary, advice, draft_error(), hide_numbers=predicting)
    stack_buttons(spec)

with layer_column:
    index = selected_layer()
    if index is None:
        st.info("The stack is empty: drag a layer from the palette, or use **Add after**.",
                icon=":material/info:")
    else:
        name, layer = spec.layer_names()[index], spec.layers[index]
        st.subheader(f"{index + 1}. {name} · {layer.class_name}")
        layer_settings(spec, index)
        if predicting:
            solo_question(summary, index)
        else:
            layer_arithmetic(summary, index)
            convolution_comparison(spec, summary, index)
    advice_panel(advice)

st.subheader("Summary")
if predicting:
    st.caption("The table and the charts wait while you predict: turn off *Predict, then "
               "reveal* to see them.")
else:
    summary_table(spec, summary, advice)
    # Only the open tab is drawn: a room of participants editing shares one server.
    shapes_tab, params_tab, files_tab = st.tabs(
        ["Shapes", "Where the parameters are", "Name, file, link and Keras code"],
        key="build_tabs", on_change="rerun",
    )
    if shapes_tab.open:
        with shapes_tab:
            shape_blocks(summary)
    if params_tab.open:
        with params_tab:
            parameter_share(summary)
    if files_tab.open:
        with files_tab:
            architecture_files(spec)

sync_url()  # a reload or a shared link reopens this model
