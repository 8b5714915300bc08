"""The "What a filter wants" tab: the image a channel responds to most (activation
maximisation, with how it was made) and the test images that excite it most, each with the
patch its peak sees. Both run on a button press and are kept per session, weights and
choice, so a rerun shows them at once."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Final

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from PIL import Image, ImageDraw

from cnnviz.data import DatasetError, array_to_image, fit_to_input, load_dataset
from cnnviz.featuremaps import (
    ActMaxError,
    ActMaxResult,
    ActMaxSettings,
    ChannelPeaks,
    TopImage,
    TopImagesError,
    channel_peaks,
    maximize_activation,
    spatial_layer_names,
    top_images,
)
from cnnviz.settings import get_settings
from ui.featuremaps.model import PageModel
from ui.featuremaps.state import kept_widget
from ui.state import DATASET_KEY

__all__ = ["show_filter_wants", "top_images_dataset"]

_CACHE_KEY: Final = "cnnviz_fm_wants"  # kind → {(weights, layer, ...) → what was computed}
_MAX_CACHED: Final = {"actmax": 24, "peaks": 4}  # a set's peaks are n × channels each
_TOP_COUNT: Final = 8
_SCAN_SLICE: Final = 500
_VIEW_SIDE: Final = 224
_TILE_SIDE: Final = 96
_DATASETS: Final = ("shapes", "digits", "mnist", "fashion_mnist", "cifar10")
_DEFAULTS: Final = ActMaxSettings()


def _cache(kind: str) -> OrderedDict[tuple[Any, ...], Any]:
    caches: dict[str, OrderedDict[tuple[Any, ...], Any]] = st.session_state.setdefault(
        _CACHE_KEY, {})
    return caches.setdefault(kind, OrderedDict())


def _remember(kind: str, key: tuple[Any, ...], value: Any) -> None:
    store = _cache(kind)
    store[key] = value
    store.move_to_end(key)
    while len(store) > _MAX_CACHED[kind]:
        store.popitem(last=False)


def _enlarged(array: np.ndarray, side: int) -> Image.Image:
    picture = array_to_image(array)
    factor = max(1, side // max(picture.size))
    return picture.resize((picture.width * factor, picture.height * factor),
                          Image.Resampling.NEAREST)


def top_images_dataset(trained_dataset: str | None) -> str:
    """The set the model was trained on when it is a built-in one, else the page's."""
    for name in (trained_dataset, st.session_state.get("fm_dataset"),
                 st.session_state.get(DATASET_KEY)):
        if isinstance(name, str) and name in _DATASETS:
            return name
    return "shapes"


def _settings() -> ActMaxSettings:
    with st.expander("How the image is made", expanded=False):
        st.caption("Gradient ascent on the image, from grey noise drawn with the seed: each "
                   "step moves every pixel along the gradient of the channel's mean (scaled "
                   "to unit size). Jitter shifts the image a few random pixels before each "
                   "step; every few steps a blur and a decay towards grey remove the "
                   "high-frequency noise that small CNNs otherwise produce.")
        top = st.columns(3)
        steps = top[0].slider("Steps", 8, 256, _DEFAULTS.steps, step=8, key="fm_wants_steps")
        rate = top[1].select_slider("Learning rate", (0.01, 0.02, 0.05, 0.1, 0.2),
                                    _DEFAULTS.learning_rate, key="fm_wants_rate")
        seed = top[2].number_input("Seed", 0, 2**31 - 1, _DEFAULTS.seed, key="fm_wants_seed")
        bottom = st.columns(3)
        jitter = bottom[0].slider("Jitter (pixels)", 0, 4, _DEFAULTS.jitter, key="fm_wants_jitter")
        blur = bottom[1].slider("Blur σ (pixels)", 0.0, 1.5, _DEFAULTS.blur_sigma, step=0.1,
                                key="fm_wants_blur")
        decay = bottom[2].slider("Decay towards grey", 0.0, 0.2, _DEFAULTS.decay, step=0.01,
                                 key="fm_wants_decay")
    return ActMaxSettings(steps=int(steps), learning_rate=float(rate), jitter=int(jitter),
                          blur_sigma=float(blur), decay=float(decay), seed=int(seed))


def _trace_figure(result: ActMaxResult) -> go.Figure:
    figure = go.Figure(go.Scatter(
        x=np.arange(result.activations.size), y=result.activations, mode="lines",
        hovertemplate="step %{x}<br>mean activation %{y:.4g}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(height=220, margin=dict(l=10, r=10, t=30, b=10),
                         title=dict(text="The channel's mean, step by step", font_size=13),
                         xaxis_title="step", yaxis_title="mean activation")
    return figure


def _show_actmax(page: PageModel, layer: str, channel: int) -> None:
    settings = _settings()
    key = (page.key, layer, channel, settings)
    if st.button("Make the image", key="fm_wants_make", type="primary"):
        try:
            with st.spinner(f"Gradient ascent on channel {channel} of {layer}…"):
                _remember("actmax", key, maximize_activation(page.model, layer, channel,
                                                             settings))
        except ActMaxError as error:
            st.error(str(error))
            return
    result = _cache("actmax").get(key)
    if not isinstance(result, ActMaxResult):
        st.caption("Press the button to make the image this channel responds to most.")
        return
    left, right = st.columns([1, 1.4])
    left.image(_enlarged(result.image, _VIEW_SIDE))
    used = result.settings
    left.caption(f"Channel {channel} of {layer}: its mean rose from "
                 f"{result.activations[0]:.3g} to {result.activations[-1]:.3g}. "
                 f"{used.steps} steps, learning rate {used.learning_rate:g}, jitter "
                 f"{used.jitter} px, blur σ {used.blur_sigma:g} px every {used.blur_every} "
                 f"steps, decay {used.decay:g}, seed {used.seed}.")
    right.plotly_chart(_trace_figure(result), key="fm_wants_trace")
    if result.gain <= 0:
        st.info("The channel did not rise from the noise: it may be zero for every input "
                "near grey (a dead ReLU). Try another seed or a larger learning rate.")


def _tile(picture: np.ndarray, top: TopImage) -> tuple[Image.Image, Image.Image]:
    """The image with its peak's receptive field outlined, and that patch alone."""
    view = _enlarged(picture, _TILE_SIDE).convert("RGB")
    factor = view.width // picture.shape[1]
    box = top.box
    ImageDraw.Draw(view).rectangle(
        (box.left * factor, box.top * factor, (box.right + 1) * factor - 1,
         (box.bottom + 1) * factor - 1), outline=(255, 40, 40), width=2)  # fmt: skip
    patch = picture[box.top : box.bottom + 1, box.left : box.right + 1]
    return view, _enlarged(patch, _TILE_SIDE).convert("RGB")


def _scan(page: PageModel, layer: str, x_test: np.ndarray) -> ChannelPeaks:
    """`channel_peaks` over the set, resized to the model's input a slice at a time (a large
    input would not hold the whole set at once)."""
    parts = [channel_peaks(page.model, layer,
                           fit_to_input(x_test[start : start + _SCAN_SLICE], page.spec.input_shape))
             for start in range(0, len(x_test), _SCAN_SLICE)]
    return ChannelPeaks(layer, *(np.concatenate([getattr(part, field) for part in parts])
                                 for field in ("values", "rows", "cols")))


def _show_top_images(page: PageModel, layer: str, channel: int) -> None:
    allowed = get_settings().datasets
    names = [name for name in _DATASETS if not allowed or name in allowed]
    default = top_images_dataset(page.dataset_name)
    names = names if default in names else [default, *names]
    columns = st.columns([2, 1], vertical_alignment="bottom")
    name = kept_widget(columns[0].selectbox, "fm_wants_dataset", default, "Test set", names,
                       valid=names.__contains__) or default
    key = (page.key, layer, name)
    try:
        dataset = load_dataset(name)
    except DatasetError as error:
        st.warning(str(error))
        return
    if columns[1].button("Find the top images", key="fm_wants_top"):
        try:
            with st.spinner(f"Running the {name} test set through {layer}…"):
                _remember("peaks", key, _scan(page, layer, dataset.x_test))
        except TopImagesError as error:
            st.error(str(error))
            return
    peaks = _cache("peaks").get(key)
    if not isinstance(peaks, ChannelPeaks):
        st.caption(f"Press the button to scan the {name} test set: every channel of {layer} "
                   "at once, so another channel of this layer shows at once afterwards.")
        return
    best = top_images(page.model, peaks, channel, _TOP_COUNT)
    images = fit_to_input(dataset.x_test[[top.index for top in best]], page.spec.input_shape)
    st.caption(f"The {len(best)} of {len(dataset.x_test):,} {name} test images whose largest "
               f"value in channel {channel} is highest. Red: the input patch that value sees (its "
               "receptive field), shown alone on the right of each.")
    per_row = 4
    for start in range(0, len(best), per_row):
        cells = st.columns(per_row)
        for offset, (cell, top) in enumerate(zip(cells, best[start : start + per_row],
                                                 strict=False)):
            view, patch = _tile(images[start + offset], top)
            pair = cell.columns(2)
            pair[0].image(view)
            pair[1].image(patch)
            label = dataset.class_names[int(dataset.y_test[top.index])]
            cell.caption(f"#{top.index} {label} · {top.value:.3g} at ({top.row}, {top.col})")


def show_filter_wants(page: PageModel) -> None:
    names = spatial_layer_names(page.model)
    if not names:
        st.info("No layer of this model outputs maps, so no channel can be chosen. Add a "
                "Conv2D layer on the Build page.")
        return
    if not page.trained:
        st.warning("Random weights: a random channel wants noise-like patterns. Train the "
                   "model on the Train page to see what learned filters look for.")
    columns = st.columns([2, 1])
    layer = kept_widget(columns[0].selectbox, "fm_wants_layer", names[-1], "Layer", names,
                        valid=names.__contains__) or names[-1]
    channels = int(page.model.get_layer(layer).output.shape[-1])
    channel = int(columns[1].number_input(f"Channel (0–{channels - 1})", 0, channels - 1, 0,
                                          key=f"fm_wants_channel_{layer}"))
    st.markdown("**What it wants to see** — activation maximisation")
    _show_actmax(page, layer, channel)
    st.divider()
    st.markdown("**Which test images excite it most**")
    _show_top_images(page, layer, channel)
