"""Plotly figures of the Train page: live curves, confusion matrix, per-class bars, runs."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from cnnviz.train import CurvePoint, TrainingSettings

__all__ = ["LIVE_CHART_CONFIG", "RUNNING_NOTE", "WAITING_NOTE", "confusion_figure",
           "confusion_shading", "curves_figure", "per_class_figure", "runs_figure",
           "schedule_figure"]

# Plotly's toolbar would sit over the right-hand subplot's title; these charts need no zoom.
LIVE_CHART_CONFIG: Final = {"displayModeBar": False}
WAITING_NOTE: Final = "Waiting for the first batch…"
RUNNING_NOTE: Final = ("Thin line: the mean over the epoch so far, as Keras reports it; "
                       "it starts afresh at each epoch.")

_TRAIN, _VAL = "#1f77b4", "#ff7f0e"
_HEIGHT = 320


def _layout(figure: go.Figure, height: int = _HEIGHT) -> go.Figure:
    figure.update_layout(height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.2})
    return figure


def _epoch_axis(epochs: int) -> dict[str, object]:
    """Whole-epoch ticks, at most about ten of them."""
    return {"title_text": "epoch", "tickmode": "linear", "tick0": 0,
            "dtick": max(1, math.ceil(epochs / 10))}


def _by_epoch(
    batch_curve: Sequence[CurvePoint], index: int,
) -> tuple[list[float | None], list[float | None]]:
    """x and y of the running values, with a gap between epochs (each restarts its mean)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    previous = None
    for point in batch_curve:
        epoch = math.ceil(point[0]) - 1
        if previous is not None and epoch != previous:
            xs.append(None)
            ys.append(None)
        xs.append(point[0])
        ys.append(point[index])
        previous = epoch
    return xs, ys


def curves_figure(
    history: Mapping[str, Sequence[float]], batch_curve: Sequence[CurvePoint] = (),
    epochs: int | None = None, phase_boundary: int | None = None,
) -> go.Figure:
    """Loss and accuracy against epochs: running values within epochs, then epoch ends.

    Before the first report the axes already span the training, with a note saying so.
    `phase_boundary`: the epoch where a fine-tuning's second phase starts, marked.
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=("Loss", "Accuracy"))
    for column, (key, index) in enumerate((("loss", 1), ("accuracy", 2)), start=1):
        if batch_curve:
            xs, ys = _by_epoch(batch_curve, index)
            figure.add_scatter(x=xs, y=ys, mode="lines", name="train (mean so far this epoch)",
                               line={"color": _TRAIN, "width": 1}, opacity=0.5,
                               legendgroup="running", showlegend=column == 1, row=1, col=column)
        for name, colour in ((key, _TRAIN), (f"val_{key}", _VAL)):
            values = list(history.get(name, ()))
            if not values:
                continue
            label = "validation" if name.startswith("val_") else "train (epoch end)"
            figure.add_scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers",
                               name=label, line={"color": colour}, legendgroup=label,
                               showlegend=column == 1, row=1, col=column)
    shown_epochs = max(1, epochs or 1)
    figure.update_xaxes(range=[0, shown_epochs + 0.1], **_epoch_axis(shown_epochs))
    figure.update_yaxes(range=[0, 1.02], row=1, col=2)
    if not batch_curve and not history.get("loss"):
        figure.update_yaxes(range=[0, 1], row=1, col=1)
        figure.add_annotation(text=WAITING_NOTE, xref="paper", yref="paper", x=0.5, y=0.5,
                              showarrow=False, font={"size": 15, "color": "#666"})
    elif batch_curve:
        figure.add_annotation(text=RUNNING_NOTE, xref="paper", yref="paper", x=0, y=-0.32,
                              xanchor="left", showarrow=False, font={"size": 12, "color": "#666"})
    if phase_boundary is not None:
        _mark_phases(figure, phase_boundary)
    _layout(figure)
    if batch_curve:
        figure.update_layout(margin={"l": 10, "r": 10, "t": 40, "b": 40})
    return figure


def _mark_phases(figure: go.Figure, boundary: int) -> None:
    """A dashed line where phase 2 starts, with each phase named on either side of it."""
    figure.add_vline(x=boundary, line_dash="dash", line_color="#555", row="all", col="all")
    for column in (1, 2):
        axis = "x" if column == 1 else f"x{column}"
        for text, anchor in (("head ", "right"), (" fine-tune", "left")):
            figure.add_annotation(text=text, x=boundary, xref=axis, y=1.0,
                                  yref=f"{axis.replace('x', 'y')} domain", xanchor=anchor,
                                  yanchor="top", showarrow=False,
                                  font={"size": 11, "color": "#555"})


def schedule_figure(settings: TrainingSettings, points: int = 41) -> go.Figure:
    """The learning rate over the training, as the optimizer will apply it."""
    xs = [settings.epochs * step / (points - 1) for step in range(points)]
    figure = go.Figure(go.Scatter(x=xs, y=[settings.learning_rate_at(x) for x in xs],
                                  mode="lines", line={"color": _TRAIN}, name="learning rate",
                                  hovertemplate="epoch %{x:.1f}: %{y:.3g}<extra></extra>"))
    figure.update_xaxes(range=[0, settings.epochs], **_epoch_axis(settings.epochs))
    figure.update_xaxes(title_text=None)
    figure.update_yaxes(rangemode="tozero", tickformat=".2g", nticks=3)
    figure.update_layout(height=96, margin={"l": 4, "r": 4, "t": 4, "b": 4}, showlegend=False,
                         font={"size": 12})
    return figure


def confusion_shading(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's share of its true class (row), split in two: right answers on the diagonal
    and errors off it (NaN where the other part, or an empty error cell, leaves it blank).
    Errors are shaded by the square root of their share, so one mistake in forty still shows.
    """
    counts = np.asarray(confusion, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    diagonal = np.eye(len(counts), dtype=bool)
    right = np.where(diagonal, shares, np.nan)
    errors = np.where(~diagonal & (counts > 0), np.sqrt(shares), np.nan)
    return right, errors


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str]) -> go.Figure:
    """Rows: true class; columns: predicted class; each cell its count, shaded by its share
    of the row (blue: right, orange to red: wrong); click a cell to see its images.

    Heatmaps cannot be selected in Plotly, so an invisible square marker sits on each
    cell: clicking it selects that (true, predicted) point.
    """
    names = [str(name) for name in class_names]
    count = len(names)
    counts = np.asarray(confusion)
    right, errors = confusion_shading(counts)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    hover = "true %{y} → predicted %{x}: %{customdata[0]} (%{customdata[1]:.0%} of %{y})"
    figure = go.Figure()
    for z, scale in ((right, [[0, "#dbe9f6"], [1, "#2166ac"]]),
                     (errors, [[0, "#fdd9b5"], [1, "#b2182b"]])):
        figure.add_heatmap(z=z, x=names, y=names, colorscale=scale, zmin=0, zmax=1,
                           hoverinfo="skip", showscale=False)
    side = min(640, 160 + 36 * count)
    figure.add_scatter(
        x=[name for _ in names for name in names], y=[name for name in names for _ in names],
        customdata=np.stack([counts.reshape(-1), shares.reshape(-1)], axis=1),
        mode="markers+text", text=[str(value) for value in counts.reshape(-1)],
        textfont={"size": 13, "color": [
            "white" if (row == col and share > 0.5) or (row != col and share > 0.3) else "#222"
            for row in range(count) for col, share in enumerate(shares[row])]},
        hovertemplate=hover + "<extra></extra>",
        marker={"symbol": "square", "size": max(8, (side - 120) // count - 4),
                "color": "rgba(0, 0, 0, 0)"},
        showlegend=False,
    )  # fmt: skip
    figure.update_xaxes(title_text="predicted", type="category", side="top", showgrid=False,
                        range=[-0.5, count - 0.5])
    figure.update_yaxes(title_text="true", type="category", showgrid=False,
                        range=[count - 0.5, -0.5])
    figure.update_layout(clickmode="event+select", dragmode=False,
                         plot_bgcolor="white")
    return _layout(figure, height=side)


def per_class_figure(per_class: Sequence[float | None], class_names: Sequence[str]) -> go.Figure:
    values = [value if value is not None else 0.0 for value in per_class]
    figure = go.Figure(go.Bar(x=[str(name) for name in class_names], y=values,
                              text=[f"{value:.0%}" if value is not None else "no test image"
                                    for value in per_class], textposition="outside",
                              marker_color=_TRAIN))
    figure.update_yaxes(range=[0, 1.1], tickformat=".0%", title_text="test accuracy")
    figure.update_xaxes(type="category")
    return _layout(figure)


History = Mapping[str, Sequence[float]]


def runs_figure(runs: Sequence[tuple[str, History]], metric: str, title: str) -> go.Figure:
    """One line per run (label, history) for `metric`, e.g. "val_accuracy"."""
    figure = go.Figure()
    longest = max((len(history.get(metric, ())) for _, history in runs), default=1)
    for label, history in runs:
        values = list(history.get(metric, ()))
        figure.add_scatter(x=list(range(1, len(values) + 1)), y=values, mode="lines+markers",
                           name=label)
    figure.update_xaxes(**_epoch_axis(longest))
    figure.update_yaxes(title_text=title)
    figure.update_layout(legend={"orientation": "v", "y": -0.25})
    return _layout(figure, height=360 + 22 * len(runs))
