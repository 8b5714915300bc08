"""The "Explain a value" tab: choose one value of any layer's output (number inputs, or a
click on the channel's map) and see how it was computed, with the real numbers."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cnnviz.featuremaps import (
    ExplainError,
    Explanation,
    explain_value,
    explanation_lines,
    fmt,
    position_text,
    receptive_field_picture,
    summarised,
    window_picture,
)
from ui.featuremaps.model import ImageResults, PageModel
from ui.featuremaps.state import kept_widget

__all__ = ["show_explain"]

_LAYER_KEY: Final = "fm_explain_layer"
_FULL_KEY: Final = "fm_explain_full"
_PICK_MAX_CELLS: Final = 96 * 96  # above this the map is drawn without click targets
_GRID_MAX_SIDE: Final = 7  # kernels up to 7×7 are drawn number by number
_GRID_MAX_CHANNELS: Final = 4  # ... for this many input channels (the rest in the sums)
_PICTURE_SIDE: Final = 260


def _position_keys(index: int) -> tuple[str, str, str]:
    return (f"fm_explain_row_{index}", f"fm_explain_col_{index}", f"fm_explain_ch_{index}")


def _picked(index: int) -> None:
    """A click on the map: its cell becomes the row and column chosen."""
    state = st.session_state.get(f"fm_explain_map_{index}")
    points = getattr(getattr(state, "selection", None), "points", None) or []
    if points:
        row_key, col_key, _ = _position_keys(index)
        st.session_state[row_key] = int(points[0]["y"])
        st.session_state[col_key] = int(points[0]["x"])


def _map_figure(values: np.ndarray, chosen: tuple[int, int], title: str) -> go.Figure:
    height, width = values.shape
    figure = go.Figure(go.Heatmap(z=values, colorscale="Viridis", colorbar=dict(title="value"),
                                  hoverinfo="skip"))
    if values.size <= _PICK_MAX_CELLS:
        rows, cols = np.mgrid[:height, :width]
        figure.add_trace(go.Scatter(
            x=cols.ravel(), y=rows.ravel(), mode="markers", customdata=values.ravel(),
            marker=dict(size=max(4, min(26, 360 // max(height, width))), symbol="square",
                        color="rgba(0,0,0,0)"),
            hovertemplate="row %{y}, column %{x}<br>value %{customdata:.4f}<extra></extra>",
            showlegend=False,
        ))  # fmt: skip
    figure.add_shape(type="rect", x0=chosen[1] - 0.5, x1=chosen[1] + 0.5, y0=chosen[0] - 0.5,
                     y1=chosen[0] + 0.5, line=dict(color="#ff2d55", width=3))
    side = min(420, max(240, 14 * max(height, width)))
    figure.update_layout(title=dict(text=title, font=dict(size=14)), height=side + 50,
                         margin=dict(l=10, r=10, t=40, b=10), clickmode="event+select",
                         dragmode=False)
    figure.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    figure.update_xaxes(constrain="domain")
    return figure


def _number(container: Any, key: str, default: int, label: str, top: int) -> int:
    """A whole number 0..top that keeps its last value while it still fits."""
    value = kept_widget(container.number_input, key, min(default, top), f"{label} (0–{top})",
                        min_value=0, max_value=top, step=1,
                        valid=lambda value: isinstance(value, int) and 0 <= value <= top)
    return int(value)


def _choose_position(index: int, shape: tuple[int, ...], title: str,
                     values: np.ndarray) -> tuple[int, ...]:
    row_key, col_key, channel_key = _position_keys(index)
    if len(shape) != 3:
        best = int(np.argmax(values)) if values.size else 0
        return (_number(st, row_key, best, "Index", shape[0] - 1),)
    height, width, channels = shape
    columns = st.columns(3)
    at = (_number(columns[0], row_key, height // 2, "Row", height - 1),
          _number(columns[1], col_key, width // 2, "Column", width - 1),
          _number(columns[2], channel_key, 0, "Channel", channels - 1))
    with st.expander("Or click a cell of the map", expanded=height * width <= _PICK_MAX_CELLS):
        st.plotly_chart(_map_figure(values[:, :, at[2]], at[:2], f"{title}, channel {at[2]}"),
                        key=f"fm_explain_map_{index}", on_select=lambda: _picked(index),
                        selection_mode="points", width="content")
    return at


def _grid_figure(explanation: Explanation, channels: list[int]) -> go.Figure | None:
    """Per input channel, one row: the window's inputs × the kernel's weights = the products.

    Three heatmaps on one pair of axes (a subplot each would take ten times as long)."""
    terms, window = explanation.terms, explanation.window
    if terms is None or terms.weights is None or window is None:
        return None
    rows = list(range(window.top, window.bottom + 1, window.row_step))
    cols = list(range(window.left, window.right + 1, window.col_step))
    height, width = len(rows), len(cols)
    shape = (len(channels) * (height + 1) - 1, 3 * width + 2)
    grids = [np.full(shape, np.nan) for _ in range(3)]
    row_of = {row: i for i, row in enumerate(rows)}
    col_of = {col: i for i, col in enumerate(cols)}
    for line, channel in enumerate(channels):
        for i in np.flatnonzero(terms.input_at[:, -1] == channel):
            r = line * (height + 1) + row_of[int(terms.input_at[i, 0])]
            c = col_of[int(terms.input_at[i, 1])]
            grids[0][r, c] = terms.inputs[i]
            grids[1][r, width + 1 + c] = terms.weights[i]
            grids[2][r, 2 * width + 2 + c] = terms.products[i]
    figure = go.Figure()
    for grid, scale in zip(grids, ("Viridis", "RdBu", "RdBu"), strict=True):
        peak = float(np.nanmax(np.abs(grid))) if np.isfinite(grid).any() else 1.0
        limits = {} if scale == "Viridis" else dict(zmin=-(peak or 1.0), zmax=peak or 1.0)
        cells = grid.astype(object)
        cells[~np.isfinite(grid)] = None  # no text, no colour
        figure.add_trace(go.Heatmap(
            z=cells, colorscale=scale, showscale=False,
            texttemplate="%{z:.3f}", textfont=dict(size=15), xgap=1, ygap=1,
            hovertemplate="%{z:.5f}<extra></extra>", reversescale=scale == "RdBu", **limits,
        ))  # fmt: skip
    centres = [line * (height + 1) + (height - 1) / 2 for line in range(len(channels))]
    figure.update_yaxes(autorange="reversed", tickmode="array", tickvals=centres,
                        ticktext=[f"channel {c}" for c in channels], tickfont=dict(size=15),
                        showgrid=False, zeroline=False)
    figure.update_xaxes(tickmode="array", side="top", tickfont=dict(size=15),
                        tickvals=[(width - 1) / 2 + k * (width + 1) for k in range(3)],
                        ticktext=["input", "× weight", "= product"], showgrid=False,
                        zeroline=False)
    cell = 50 if height <= 3 else 38
    figure.update_layout(height=shape[0] * cell + 60, margin=dict(l=5, r=5, t=40, b=5),
                         plot_bgcolor="rgba(0,0,0,0)")
    return figure


def _pool_figure(explanation: Explanation) -> go.Figure | None:
    """A pooling window's values; the largest outlined when it is a max."""
    terms, window = explanation.terms, explanation.window
    if (terms is None or window is None or explanation.operation not in ("max", "mean")
            or max(window.bottom - window.top, window.right - window.left) >= _GRID_MAX_SIDE):
        return None
    rows = list(range(window.top, window.bottom + 1))
    cols = list(range(window.left, window.right + 1))
    grid = np.full((len(rows), len(cols)), None, dtype=object)
    for (row, col, _), value in zip(terms.input_at, terms.inputs, strict=True):
        grid[rows.index(int(row)), cols.index(int(col))] = float(value)
    figure = go.Figure(go.Heatmap(
        z=grid, colorscale="Viridis", showscale=False, texttemplate="%{z:.3f}",
        textfont=dict(size=15), xgap=1, ygap=1, hovertemplate="%{z:.5f}<extra></extra>",
    ))  # fmt: skip
    if explanation.operation == "max" and len(terms):
        best = int(np.argmax(terms.inputs))
        r, c = rows.index(int(terms.input_at[best, 0])), cols.index(int(terms.input_at[best, 1]))
        figure.add_shape(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                         line=dict(color="#ff2d55", width=4))
    figure.update_yaxes(autorange="reversed", showticklabels=False, showgrid=False)
    figure.update_xaxes(showticklabels=False, showgrid=False)
    figure.update_layout(height=len(rows) * 50 + 20, width=len(cols) * 80 + 20,
                         margin=dict(l=5, r=5, t=5, b=5), plot_bgcolor="rgba(0,0,0,0)")
    return figure


def _source_values(results: ImageResults, x: np.ndarray, explanation: Explanation,
                   channel: int) -> np.ndarray:
    window = explanation.window
    assert window is not None
    if window.source_index < 0:
        return x if x.shape[2] == 3 else x[:, :, 0]
    return np.asarray(results.activations[window.source_index].output[:, :, channel])


def _pictures(results: ImageResults, x: np.ndarray, explanation: Explanation) -> None:
    left, right = st.columns(2)
    window = explanation.window
    if window is not None:
        channel = window.channels[0]
        if window.source_index >= 0 and explanation.terms is not None and len(window.channels) > 1:
            sums = explanation.terms.channel_sums()
            channel = max(sums, key=lambda item: abs(item[2]))[0] if sums else channel
        left.image(window_picture(_source_values(results, x, explanation, channel), window,
                                  _PICTURE_SIDE))
        where = "the input image" if window.source_index < 0 else (
            f"{window.source}, channel {channel}" + (" (the channel that adds most)" if
                                                     len(window.channels) > 1 else ""))
        left.caption(f"The window over {where}; grey cells are zero padding.")
    field = explanation.receptive_field
    if field is not None:
        right.image(receptive_field_picture(x, field, _PICTURE_SIDE))
        right.caption("Receptive field: every input pixel this value depends on"
                      + (" — the whole image." if field.whole else
                         f" — {field.height}×{field.width} pixels."))


def _headline(explanation: Explanation) -> None:
    activation = (f" = {explanation.activation}({fmt(explanation.pre_activation)})"
                  if explanation.activation not in (None, "linear")
                  and explanation.pre_activation is not None else "")
    st.markdown(f"#### {explanation.layer} at {position_text(explanation.at)} = "
                f"{fmt(explanation.value)}{activation}")


def show_explain(page: PageModel, results: ImageResults, x: np.ndarray) -> None:
    """Choose one value of any layer and see its computation; `x` is the model's input."""
    activations = results.activations
    labels = [f"{a.index + 1}. {a.name} · {a.class_name} {a.shape}" for a in activations]
    choice = kept_widget(st.selectbox, _LAYER_KEY, 0, "Layer", range(len(activations)),
                         format_func=labels.__getitem__,
                         valid=lambda value: isinstance(value, int) and value < len(labels))
    index = int(choice or 0)
    chosen = activations[index]
    at = _choose_position(index, chosen.shape, chosen.name, chosen.output)
    try:
        explanation = explain_value(page.model, activations, x, index, at)
    except ExplainError as error:
        st.error(str(error))
        return
    _headline(explanation)
    _pictures(results, x, explanation)
    full = bool(st.toggle("Every product, even for large windows", key=_FULL_KEY)) if (
        explanation.terms is not None and summarised(explanation)) else False
    grid = _grid_channels(explanation, full)
    figure = _grid_figure(explanation, grid) if grid else _pool_figure(explanation)
    if figure is not None:
        st.plotly_chart(figure, key="fm_explain_grid", width="stretch" if grid else "content")
    st.code("\n".join(explanation_lines(explanation, full=full)), language=None,
            wrap_lines=True)
    if not page.trained:
        st.caption("Random weights (seed 0): the same numbers `cnnviz explain` prints for "
                   "this architecture without a bundle.")


def _grid_channels(explanation: Explanation, full: bool) -> list[int]:
    window, terms = explanation.window, explanation.terms
    if (window is None or terms is None or terms.weights is None or explanation.stages
            or explanation.operation != "weighted sum"):
        return []
    rows = len(range(window.top, window.bottom + 1, window.row_step))
    cols = len(range(window.left, window.right + 1, window.col_step))
    if max(rows, cols) > _GRID_MAX_SIDE:
        return []
    sums: list[Any] = terms.channel_sums()
    if len(sums) > _GRID_MAX_CHANNELS and not full:
        sums = sorted(sums, key=lambda item: -abs(item[2]))[:_GRID_MAX_CHANNELS]
    return sorted(channel for channel, _, _ in sums)
