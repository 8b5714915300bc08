"""Drawing what every layer computed: one mosaic per spatial layer, bars for vectors,
class probabilities for the last layer, one channel large, and the zip of all mosaics."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnnviz.cli.featuremaps import mosaic_file_name
from cnnviz.featuremaps import LAYER_MIN_TILE, Normalization, model_scale, mosaic_png
from cnnviz.shapes import LayerSummary, ModelSummary
from ui.featuremaps.model import ImageResults
from ui.featuremaps.state import kept_widget

__all__ = [
    "channel_figure",
    "choose_normalization",
    "class_labels",
    "layer_mosaic",
    "mosaics_zip_factory",
    "probability_figure",
    "show_closer_look",
    "show_layers",
    "show_png",
    "show_probabilities",
]

_MAX_BARS: Final = 1024
_BAR_HEIGHT: Final = 220
_MAX_CLASSES: Final = 15


def class_labels(names: Sequence[str], size: int) -> list[str]:
    """A name per output unit: the class names, then "output i" for units beyond them."""
    return [names[i] if i < len(names) else (f"output {i}" if names else f"class {i}")
            for i in range(size)]


def show_png(png: bytes, caption: str | None = None) -> None:
    """An image at its own size or the container's, whichever is smaller; the caption apart,
    so that a long one cannot stretch the image."""
    st.image(png)
    if caption:
        st.caption(caption)


def _dead_note(maps: np.ndarray) -> str:
    flat = np.asarray(maps).reshape(-1, maps.shape[-1])
    dead = int(np.count_nonzero(np.all(flat == 0, axis=0)))
    return f" · {dead} of them zero everywhere" if dead else ""


def choose_normalization(container: Any) -> Normalization:
    labels = {"channel": "Each channel on its own range", "layer": "One range for the whole layer"}
    choice = kept_widget(container.radio, "fm_norm", "channel", "Colour scale", list(labels),
                         horizontal=True, format_func=labels.__getitem__, valid=labels.__contains__)
    return "layer" if choice == "layer" else "channel"


def layer_title(layer: LayerSummary) -> str:
    return (f"**{layer.index + 1}. {layer.name}** · {layer.class_name} · "
            f"output `{layer.keras_output_shape}`")


def layer_mosaic(results: ImageResults, index: int, normalization: Normalization,
                 input_shape: Sequence[int]) -> bytes:
    """Layer `index`'s mosaic as PNG bytes, drawn once per image, layer and normalisation."""
    key = (index, normalization)
    if key not in results.mosaics:
        results.mosaics[key] = mosaic_png(
            results.activations[index].output, normalization=normalization,
            scale=model_scale(input_shape), min_tile=LAYER_MIN_TILE,
        )  # fmt: skip
    return results.mosaics[key]


def _bars(values: np.ndarray, names: Sequence[str] | None, title: str) -> go.Figure:
    labels = list(names) if names is not None else [str(i) for i in range(values.size)]
    figure = go.Figure(go.Bar(
        x=labels, y=values, marker_color="#3b528b",
        hovertemplate="%{x}: %{y:.4f}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(height=_BAR_HEIGHT, margin=dict(l=10, r=10, t=30, b=10),
                         title=dict(text=title, font=dict(size=13)), bargap=0.1)
    figure.update_xaxes(type="category", showticklabels=values.size <= 64)
    return figure


def probability_figure(probabilities: np.ndarray, class_names: Sequence[str],
                       order: np.ndarray) -> go.Figure:
    """Horizontal bars, most likely class on top; names are categories even when they are
    digits ("0"–"9"), every one of them labelled."""
    names = [str(class_names[i]) for i in order][::-1]  # Plotly draws the first at the bottom
    best = int(order[0])
    figure = go.Figure(go.Bar(
        x=probabilities[order][::-1], y=names, orientation="h",
        marker_color=["#fde725" if i == best else "#3b528b" for i in order][::-1],
        hovertemplate="%{y}: %{x:.2%}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(height=max(160, 22 * len(order) + 50),
                         margin=dict(l=10, r=10, t=10, b=10))
    figure.update_xaxes(range=[0, 1], tickformat=".0%")
    figure.update_yaxes(type="category", categoryorder="array", categoryarray=names,
                        tickmode="array", tickvals=names, ticktext=names)
    return figure


def show_probabilities(probabilities: np.ndarray, class_names: Sequence[str],
                       note: str = "") -> None:
    order = np.argsort(-probabilities, kind="stable")
    best = int(order[0])
    st.markdown(f"Prediction: **{class_names[best]}** with probability "
                f"**{probabilities[best]:.1%}**{note}")
    if order.size > _MAX_CLASSES:
        st.caption(f"The {_MAX_CLASSES} most likely of {order.size} classes.")
        order = order[:_MAX_CLASSES]
    st.plotly_chart(probability_figure(probabilities, class_names, order), key="fm_probabilities")


def _show_vector(layer: LayerSummary, values: np.ndarray) -> None:
    if values.size > _MAX_BARS:
        st.caption(f"{values.size:,} values (min {values.min():.3g}, mean {values.mean():.3g}, "
                   f"max {values.max():.3g}) — the maps above, laid end to end; too many to "
                   "draw as bars.")
        return
    title = f"{values.size} values"
    st.plotly_chart(_bars(values, None, title), key=f"fm_bars_{layer.index}")


def show_layers(results: ImageResults, summary: ModelSummary, normalization: Normalization,
                probabilities_from: int | None) -> None:
    """Every layer top to bottom: mosaics for maps, bars for vectors. The layer at
    `probabilities_from` and after is the classifier's output, shown above instead."""
    for activation, layer in zip(results.activations, summary.layers, strict=True):
        st.markdown(layer_title(layer))
        if activation.is_spatial:
            height, width, channels = activation.shape
            show_png(layer_mosaic(results, layer.index, normalization, summary.spec.input_shape),
                     f"{channels} maps of {height}×{width}{_dead_note(activation.output)}")
        elif probabilities_from is not None and layer.index >= probabilities_from:
            st.caption("The class probabilities, shown at the top of the page.")
        else:
            _show_vector(layer, activation.output)


def channel_figure(maps: np.ndarray, channel: int, title: str) -> go.Figure:
    """One channel large: a heatmap with a colour bar and the value of each cell on hover."""
    values = np.asarray(maps)[:, :, channel]
    figure = go.Figure(go.Heatmap(
        z=values, colorscale="Viridis", colorbar=dict(title="value"),
        hovertemplate="row %{y}, column %{x}<br>value %{z:.4f}<extra></extra>",
    ))  # fmt: skip
    side = min(520, max(260, 12 * max(values.shape)))
    figure.update_layout(title=dict(text=title, font=dict(size=13)), height=side + 60,
                         width=side + 140, margin=dict(l=10, r=10, t=40, b=10))
    figure.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    figure.update_xaxes(constrain="domain")
    return figure


def show_closer_look(results: ImageResults, summary: ModelSummary) -> None:
    spatial = [layer for layer, activation in zip(summary.layers, results.activations,
                                                  strict=True) if activation.is_spatial]
    if not spatial:
        st.info("No layer of this model outputs maps (height × width × channels).")
        return
    left, right = st.columns([2, 3])
    names = [f"{layer.index + 1}. {layer.name} {layer.output_shape}" for layer in spatial]
    choice = kept_widget(left.selectbox, "fm_closer_layer", 0, "Layer", range(len(spatial)),
                         format_func=names.__getitem__,
                         valid=lambda value: isinstance(value, int) and value < len(spatial))
    layer = spatial[choice if choice is not None else 0]
    maps = results.activations[layer.index].output
    channels = int(maps.shape[2])
    channel = 0
    if channels > 1:
        channel = right.slider("Channel", 0, channels - 1, 0, key=f"fm_channel_{layer.index}")
    st.plotly_chart(channel_figure(maps, channel, f"{layer.name}, channel {channel}"),
                    width="content", key="fm_channel_figure")


def mosaics_zip_factory(results: ImageResults, summary: ModelSummary,
                        normalization: Normalization, extra: dict[str, Any]) -> Callable[[], bytes]:
    """A function that zips every layer's mosaic (drawn already) and a JSON index."""
    spec = summary.spec

    def build() -> bytes:
        buffer = io.BytesIO()
        index = []
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for activation in results.activations:
                if not activation.is_spatial:
                    continue
                name = mosaic_file_name(activation.index, activation.name)
                archive.writestr(name, layer_mosaic(results, activation.index, normalization,
                                                    spec.input_shape))
                index.append({"file": name, "layer": activation.name,
                              "class_name": activation.class_name,
                              "output_shape": list(activation.keras_output_shape)})
            archive.writestr("layers.json", json.dumps(
                {"model": spec.name, "normalization": normalization, **extra, "layers": index},
                indent=2))
        return buffer.getvalue()

    return build
