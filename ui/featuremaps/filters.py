"""The Filters tab: the first layer's kernels, any layer's kernels per input channel,
and SeparableConv2D's depthwise and pointwise parts apart."""

from __future__ import annotations

from typing import Final

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnnviz._types import KerasModel
from cnnviz.featuremaps import (
    LayerKernels,
    depthwise_png,
    first_layer_filters_png,
    input_channel_kernels_png,
    kernel_layer_names,
    layer_kernels,
)
from ui.featuremaps.render import show_png

__all__ = ["show_filters"]

_SIGNED: Final = ("Blue is negative, white is zero, red is positive; the scale runs to "
                  "±{peak:.3g}, the largest |weight| shown.")
_POINTWISE_MAX_CELLS: Final = 64 * 1024


def _peak(values: np.ndarray) -> float:
    return float(np.max(np.abs(values))) if values.size else 0.0


def _first_layer(kernels: LayerKernels) -> bool:
    """Draw the first layer's filters whole, if they can be; say whether they were."""
    st.markdown(f"**First layer: {kernels.name}** · {kernels.class_name}")
    if kernels.kernel is None:
        st.caption("It has no full kernels: see its depthwise and pointwise parts below.")
        return False
    kh, kw, channels, filters = kernels.kernel.shape
    if channels not in (1, 3):
        st.caption(f"Its input has {channels} channels: choose an input channel below.")
        return False
    if channels == 3:
        how = ("RGB: each filter's three input channels drawn as one colour image, scaled to "
               "its own largest |weight|; grey is zero, a colour is what the filter looks for.")
    else:
        how = _SIGNED.format(peak=_peak(kernels.kernel)) + " Each filter on its own scale."
    show_png(first_layer_filters_png(kernels.kernel),
             f"{filters} filters of {kh}×{kw}×{channels}. {how}")
    return True


def _pointwise_figure(pointwise: np.ndarray) -> go.Figure:
    peak = _peak(pointwise) or 1.0
    figure = go.Figure(go.Heatmap(
        z=pointwise, colorscale="RdBu", reversescale=True, zmin=-peak, zmax=peak,
        colorbar=dict(title="weight"),
        hovertemplate="depthwise channel %{y} → filter %{x}<br>weight %{z:.4f}<extra></extra>",
    ))  # fmt: skip
    figure.update_layout(height=max(240, min(520, 120 + 6 * pointwise.shape[0])),
                         margin=dict(l=10, r=10, t=10, b=10),
                         xaxis_title="output filter", yaxis_title="depthwise channel")
    figure.update_yaxes(autorange="reversed")
    return figure


def _depthwise(kernels: LayerKernels) -> None:
    assert kernels.depthwise is not None
    kh, kw, channels, multiplier = kernels.depthwise.shape
    st.markdown("**Depthwise part** — one spatial kernel per input channel"
                + (f", × depth multiplier {multiplier}" if multiplier > 1 else ""))
    show_png(depthwise_png(kernels.depthwise),
             f"{channels * multiplier} kernels of {kh}×{kw}. "
             + _SIGNED.format(peak=_peak(kernels.depthwise)))


def _chosen_layer(kernels: LayerKernels) -> None:
    if kernels.kernel is not None:
        kh, kw, channels, filters = kernels.kernel.shape
        channel = 0
        if channels > 1:
            channel = st.slider("Input channel", 0, channels - 1, 0,
                                key=f"fm_filter_channel_{kernels.name}")
        show_png(input_channel_kernels_png(kernels.kernel, channel),
                 f"The {kh}×{kw} weights that each of the {filters} filters applies to "
                 f"input channel {channel}, on one scale for the layer. "
                 + _SIGNED.format(peak=_peak(kernels.kernel)))
        return
    _depthwise(kernels)
    if kernels.pointwise is not None:
        rows, cols = kernels.pointwise.shape
        st.markdown(f"**Pointwise part** — a 1×1 convolution mixing the {rows} depthwise "
                    f"channels into {cols} filters")
        if rows * cols <= _POINTWISE_MAX_CELLS:
            st.plotly_chart(_pointwise_figure(kernels.pointwise), key="fm_pointwise")
        else:
            st.caption(f"{rows}×{cols} weights: too many to draw one by one.")


def show_filters(model: KerasModel, trained: bool) -> None:
    names = kernel_layer_names(model)
    if not names:
        st.info("This model has no convolution layer, so it has no kernels to show. "
                "Add a Conv2D or SeparableConv2D layer on the Build page.")
        return
    if not trained:
        st.caption("Random weights: the kernels are noise until the model is trained.")
    if _first_layer(layer_kernels(model, names[0])):
        names = names[1:]  # drawn whole above: not again below
    st.divider()
    if not names:
        st.caption("The first layer is the model's only convolution layer.")
        return
    name = st.selectbox("Kernels of layer", names, key="fm_filter_layer")
    _chosen_layer(layer_kernels(model, name or names[0]))
