"""Train: choose data, train in the background with live curves, inspect and compare runs."""

from __future__ import annotations

import streamlit as st

from cnnviz.settings import get_settings
from cnnviz.shapes import summarize
from cnnviz.tf_runtime import import_tensorflow_in_background
from cnnviz.train import worker_pool
from ui.entry import run_through_app
from ui.state import current_spec
from ui.train.bundle import bundle_loader
from ui.train.data import choose_dataset, fit_choice, limits_caption
from ui.train.finetune import finetune_panel
from ui.train.job import collect_finished_training, training_in_progress
from ui.train.live import live_panel, train_button, training_blocker
from ui.train.results import results_section
from ui.train.runs import runs_section
from ui.train.settings import loss_panel, settings_form

run_through_app()  # a reload of this page's URL on a fresh server

collect_finished_training()
spec = current_spec()
summary = summarize(spec)
frozen = training_in_progress()
if get_settings().warm_up:
    # Here, not at the first visit: loading TensorFlow takes both cores of a small server for
    # seconds, which a participant's first Build page would wait for.
    if get_settings().training_backend == "local":  # Ray's workers are the cluster's
        worker_pool().warm()  # worker processes load TensorFlow before the first Train press
    import_tensorflow_in_background()  # a finished training is rebuilt in this process

st.header(f"Train · {spec.name}", anchor=False)
data_column, settings_column = st.columns(2, gap="large")
with data_column:
    st.subheader("Data")
    dataset = choose_dataset(spec)
    shapes_match = dataset is not None and fit_choice(spec, dataset, frozen=frozen)
with settings_column:
    st.subheader("Settings")
    training = settings_form(disabled=frozen)
    button_slot = st.container()  # the Train button, above the fold on a 1280×800 projector
    loss = loss_panel(spec, dataset.num_classes, frozen=frozen) if dataset is not None else None
    st.caption(limits_caption())
with button_slot:
    train_button(spec, dataset, training,
                 training_blocker(summary, dataset, shapes_match, loss, training))
live_panel()

results_section()
runs_section()

with st.expander("Fine-tune a trained base", icon=":material/tune:"):
    finetune_panel(dataset, training)

with st.expander("Load a trained model", icon=":material/upload_file:"):
    bundle_loader(frozen=frozen)
