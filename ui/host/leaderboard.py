"""The challenge and its leaderboard: a table, and test accuracy against parameters with
the Pareto front and each run's 95 % interval (two entries whose bars overlap are a tie)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import streamlit as st

from cnnviz.data import BUILTIN_DATASETS
from cnnviz.errors import StoreError
from cnnviz.room import NAME_MODES, Challenge, LeaderboardEntry
from cnnviz.store import RoomStore
from ui.guard import guarded
from ui.host.projector import project_run

__all__ = ["challenge_form", "leaderboard_figure", "leaderboard_panel", "leaderboard_rows",
           "picked_run"]

_NAME_LABELS = {"names": "Show display names", "anonymous": "Anonymise (Participant 1, 2, …)"}


def leaderboard_rows(entries: Sequence[LeaderboardEntry]) -> list[dict[str, Any]]:
    return [{"#": rank, "Participant": entry.shown_name, "Run": entry.run_id,
             "Test accuracy": f"{entry.test_accuracy:.1%}",
             "95 % interval": f"{entry.interval[0]:.1%} – {entry.interval[1]:.1%}",
             "Parameters": entry.params, "Seconds": round(entry.seconds, 1),
             "Pareto front": "✓" if entry.on_front else ""}
            for rank, entry in enumerate(entries, start=1)]


def leaderboard_figure(entries: Sequence[LeaderboardEntry], challenge: Challenge) -> Any:
    import plotly.graph_objects as go

    def trace(chosen: list[LeaderboardEntry], name: str, color: str) -> Any:
        return go.Scatter(
            x=[e.params for e in chosen], y=[e.test_accuracy for e in chosen], mode="markers",
            name=name, marker={"size": 11, "color": color},
            error_y={"type": "data", "symmetric": False,
                     "array": [e.interval[1] - e.test_accuracy for e in chosen],
                     "arrayminus": [e.test_accuracy - e.interval[0] for e in chosen]},
            text=[html.escape(e.shown_name) for e in chosen],  # Plotly reads HTML in hovers
            customdata=[e.run_id for e in chosen],
            hovertemplate="%{text}<br>run %{customdata}<br>%{y:.1%} with %{x:,} "
                          "parameters<extra></extra>")

    front = sorted((e for e in entries if e.on_front), key=lambda e: e.params)
    figure = go.Figure([
        trace([e for e in entries if not e.on_front], "other runs", "#9aa5b1"),
        trace(front, "Pareto front", "#d1495b"),
        go.Scatter(x=[e.params for e in front], y=[e.test_accuracy for e in front],
                   mode="lines", line={"shape": "hv", "color": "#d1495b", "dash": "dot"},
                   showlegend=False, hoverinfo="skip"),
    ])
    figure.update_layout(
        height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
        xaxis={"title": "parameters", "range": [0, challenge.max_params * 1.05],
               "tickformat": ","},
        yaxis={"title": "test accuracy (95 % interval)", "tickformat": ".0%"},
        legend={"orientation": "h", "y": 1.12})
    return figure


def picked_run(table: Any, chart: Any, entries: Sequence[LeaderboardEntry]) -> int | None:
    """The run of the row or point the host clicked, if any: `table` and `chart` are the
    selection events Streamlit returns, {"selection": {"rows": […]}} and
    {"selection": {"points": [{"customdata": run id, …}]}}."""
    rows = (table or {}).get("selection", {}).get("rows", [])
    if rows and rows[0] < len(entries):
        return entries[rows[0]].run_id
    points = (chart or {}).get("selection", {}).get("points", [])
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, (int, float)):
            return int(custom)
        if isinstance(custom, list) and custom:
            return int(custom[0])
    return None


def leaderboard_panel(room: RoomStore, *, key: str, pickable: bool = False) -> None:
    """The challenge's board, refreshed every few seconds. `pickable` (the host's board):
    a click on a row or a point puts that run on the projector."""

    @st.fragment(run_every=5.0)
    @guarded("leaderboard")
    def draw() -> None:
        try:
            challenge = room.current_challenge()
            entries = room.leaderboard(challenge) if challenge is not None else []
        except StoreError as error:
            st.warning(str(error), icon=":material/cloud_off:")
            return
        if challenge is None:
            st.caption("No challenge is running.")
            return
        st.markdown(f"**{challenge.title or 'Challenge'}** · {challenge.describe()}")
        if not entries:
            st.caption("No qualifying run yet.")
            return
        left, right = st.columns([1, 1])
        rows, figure = leaderboard_rows(entries), leaderboard_figure(entries, challenge)
        config = {"Parameters": st.column_config.NumberColumn(format="localized")}
        if not pickable:
            left.dataframe(rows, hide_index=True, width="stretch", key=f"{key}_table",
                           column_config=config)
            right.plotly_chart(figure, width="stretch", key=f"{key}_chart",
                               config={"displayModeBar": False})
            return
        table = left.dataframe(rows, hide_index=True, width="stretch", key=f"{key}_table",
                               column_config=config, on_select="rerun",
                               selection_mode="single-row")
        chart = right.plotly_chart(figure, width="stretch", key=f"{key}_chart",
                                   config={"displayModeBar": False}, on_select="rerun",
                                   selection_mode="points")
        picked = picked_run(table, chart, entries)
        if picked is not None:
            project_run(room, picked)

    draw()


def challenge_form(room: RoomStore) -> None:
    with st.form("host_challenge"):
        title = st.text_input("Title", value="Smallest, most accurate", max_chars=200)
        left, middle, right = st.columns(3)
        dataset = left.selectbox("Dataset", BUILTIN_DATASETS, index=1)
        max_params = middle.number_input("At most this many parameters", min_value=1,
                                         value=20_000, step=1000)
        epochs = right.number_input("At most this many epochs", min_value=1, value=5)
        mode = st.radio("Participants see", NAME_MODES, format_func=_NAME_LABELS.get,
                        horizontal=True)
        set_it = st.form_submit_button("Set the challenge", type="primary",
                                       icon=":material/emoji_events:")
    if set_it:
        try:
            room.set_challenge(title=title, dataset_name=dataset or "shapes",
                               max_params=int(max_params), epochs=int(epochs),
                               name_mode="anonymous" if mode == "anonymous" else "names")
        except StoreError as error:
            st.error(str(error))
    if st.button("End the challenge", key="host_end_challenge"):
        room.end_challenge()
