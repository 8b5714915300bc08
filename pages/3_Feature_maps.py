"""Feature maps: what every layer of the model sees, for an image of your choice."""

from __future__ import annotations

import streamlit as st

from cnnviz.data import ImageError
from cnnviz.errors import LimitError
from cnnviz.featuremaps import class_probabilities
from cnnviz.limits import check_activation_bytes
from cnnviz.shapes import summarize
from cnnviz.train import final_activation
from ui.entry import run_through_app
from ui.featuremaps.banner import show_model_banner
from ui.featuremaps.epochs import choose_epoch, keep_playing
from ui.featuremaps.explain import show_explain
from ui.featuremaps.filter_wants import show_filter_wants
from ui.featuremaps.filters import show_filters
from ui.featuremaps.gradcam import show_gradcam
from ui.featuremaps.image import choose_image, model_view, show_input, shown_picture
from ui.featuremaps.model import image_results, page_model
from ui.featuremaps.render import (
    choose_normalization,
    class_labels,
    mosaics_zip_factory,
    show_closer_look,
    show_layers,
    show_probabilities,
)
from ui.state import current_spec

run_through_app()  # a reload of this page's URL on a fresh server

st.title("Feature maps")
st.caption("Run one image through the model and look at what every layer computes: maps "
           "shrink in height and width and grow in number as the image goes deeper.")

spec = current_spec()
summary = summarize(spec)
if summary.error is not None:
    st.error(f"This architecture cannot run yet. {summary.error.message} "
             "Fix it on the Build page.")
    st.stop()
if not spec.layers:
    st.info("The model has no layers yet. Add some on the Build page.")
    st.stop()
try:
    check_activation_bytes(summary.activation_bytes)
except LimitError as error:
    st.error(error.message)
    st.stop()

try:
    with st.spinner("Loading TensorFlow and building the model…"):
        page = page_model(spec)
except Exception as error:  # Keras refusing the model must not end the page
    st.error(f"Keras could not build this model: {error}")
    st.stop()

show_model_banner(page, spec)  # whose weights: this session's, a brought run's, random
page = choose_epoch(page)  # every tab below shows the weights of the chosen epoch

chosen = choose_image(spec, page.dataset_name)
if chosen is None:
    st.stop()
try:
    x = model_view(chosen, spec)
except ImageError as error:
    st.error(f"{error} Feature maps need an input of 1 or 3 channels.")
    st.stop()
input_columns = st.columns([1, 1, 1.3])
show_input(chosen, x, spec, input_columns)

try:
    with st.spinner("Running the image through every layer…"):
        results = image_results(page, x)
except Exception as error:  # e.g. out of memory inside TensorFlow
    st.error(f"Keras could not run this image through the model: {error}")
    st.stop()

final = results.activations[-1].output
probabilities = None
class_names: list[str] = []
if final.ndim == 1 and final.size >= 2:
    activation = final_activation(spec)
    probabilities = class_probabilities(final, activation)
    class_names = class_labels(page.class_names, probabilities.size)
    note = "" if activation in ("softmax", "sigmoid") else " (softmax of the raw scores)"
    with input_columns[2]:
        show_probabilities(probabilities, class_names, note)

maps_tab, channel_tab, explain_tab, filters_tab, wants_tab, gradcam_tab = st.tabs(
    ["Every layer", "One channel, large", "Explain a value", "Filters", "What a filter wants",
     "Where the model looks"]
)
with maps_tab:
    left, right = st.columns([3, 1])
    normalization = choose_normalization(left)
    right.download_button(
        "Download all mosaics (.zip)", key="fm_zip", on_click="ignore",
        data=mosaics_zip_factory(results, summary, normalization, {"image": chosen.label}),
        file_name=f"{spec.name}_feature_maps.zip", mime="application/zip",
    )  # fmt: skip
    show_layers(results, summary, normalization,
                len(spec.layers) - 1 if probabilities is not None else None)
with channel_tab:
    show_closer_look(results, summary)
with explain_tab:
    show_explain(page, results, x)
with filters_tab:
    show_filters(page.model, page.trained)
with wants_tab:
    show_filter_wants(page)
with gradcam_tab:
    if probabilities is None:
        st.info("Grad-CAM needs a model that ends in class scores: add Flatten (or global "
                "pooling) and a Dense layer with one unit per class on the Build page.")
    else:
        show_gradcam(page, results, x, shown_picture(chosen), probabilities, class_names)
keep_playing()  # while Play is on: the next epoch in a second
