"""The pictures: the stack as blocks, where the parameters are, Conv2D vs SeparableConv2D."""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st

from cnnviz.advice import with_other_convolution
from cnnviz.shapes import ModelSummary, summarize
from cnnviz.spec import ModelSpec, SpecError
from ui.build.cube_svg import cube_svg
from ui.state import current_spec, set_spec

__all__ = ["convolution_comparison", "parameter_share", "parameter_shares", "shape_blocks"]


def shape_blocks(summary: ModelSummary) -> None:
    st.image(cube_svg(summary), width="content")
    st.caption("Each block is one layer's output: height and depth follow the map's height "
               "and width, thickness its channels (compressed scales). Layers that keep the "
               "shape share the block before them.")


def parameter_shares(summary: ModelSummary) -> list[tuple[str, int, float]]:
    """(layer, params, share of the total) for every layer that has parameters."""
    total = summary.total_params
    return [(f"{row.index + 1}. {row.name}", row.params, row.params / total)
            for row in summary.layers if row.params and total]


@functools.lru_cache(maxsize=64)
def _share_figure(shares: tuple[tuple[str, int, float], ...]) -> Any:
    """The bar chart of `parameter_shares`, built once per distinct model and reused:
    building a Plotly figure costs more than the rest of the page."""
    import plotly.graph_objects as go

    largest = max(params for _, params, _ in shares)
    figure = go.Figure(go.Bar(
        x=[params for _, params, _ in shares], y=[name for name, _, _ in shares],
        orientation="h", text=[f"{share:.0%} · {params:,}" for _, params, share in shares],
        textposition="auto",
        marker_color=["#e45756" if params == largest else "#4c78a8" for _, params, _ in shares],
        hovertemplate="%{y}: %{x:,} parameters<extra></extra>",
    ))
    figure.update_layout(height=90 + 36 * len(shares), margin={"l": 10, "r": 10, "t": 10,
                         "b": 40}, yaxis={"autorange": "reversed", "tickfont": {"size": 16}},
                         xaxis={"title": "parameters", "tickfont": {"size": 14}},
                         font={"size": 16})
    figure.update_traces(textfont={"size": 16})
    return figure


def parameter_share(summary: ModelSummary) -> None:
    shares = parameter_shares(summary)
    if not shares:
        st.info("No layer has parameters yet: add a Conv2D or a Dense layer.")
        return
    st.plotly_chart(_share_figure(tuple(shares)), width="stretch",
                    config={"displayModeBar": False})


def _plain(text: str) -> str:
    """`text` shown as it is in Markdown: its Markdown and LaTeX characters escaped."""
    return "".join(f"\\{char}" if char in "\\`*_[]<>|$~#" else char for char in text)


def _use_other(index: int) -> None:
    set_spec(with_other_convolution(current_spec(), index))


def convolution_comparison(spec: ModelSpec, summary: ModelSummary, index: int) -> None:
    """The selected Conv2D beside the same layer as SeparableConv2D (or the reverse)."""
    layer = spec.layers[index]
    if layer.class_name not in ("Conv2D", "SeparableConv2D") or index >= len(summary.layers):
        return
    try:
        other = summarize(with_other_convolution(spec, index))
    except SpecError as error:
        st.caption(f"No SeparableConv2D/Conv2D comparison for these settings: {error.problem}.")
        return
    if index >= len(other.layers):
        return
    mine, theirs = summary.layers[index], other.layers[index]
    # A Markdown table, not st.table: one element kind fewer for the page's first paint.
    lines = [f"**{mine.class_name} vs {theirs.class_name}** for this layer", "",
             "| Layer | Parameters | MACs |", "| --- | --- | ---: |"]
    lines += [f"| {row.class_name} ({title}) | {_plain(row.param_formula)} | {row.macs:,} |"
              for row, title in ((mine, "now"), (theirs, "if swapped"))]
    st.markdown("\n".join(lines))
    ratio = mine.params / theirs.params if theirs.params else float("inf")
    verdict = "fewer" if ratio > 1 else "more"
    st.caption(f"{theirs.class_name} would have {max(ratio, 1 / ratio):.1f}× {verdict} "
               f"parameters ({theirs.params:,} instead of {mine.params:,}).")
    st.button(f"Use {theirs.class_name} here", key=f"build_swap_{index}", on_click=_use_other,
              args=(index,))
