"""The host's live room view: every participant, their model, state and best run.

One query per refresh (`RoomStore.room_view`); each model's summary is computed once per
architecture and kept (`_model_line`), so a refresh of a quiet room costs little.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Sequence
from typing import Any, Final

import streamlit as st

from cnnviz.archfile import load_architecture
from cnnviz.errors import SpecError, StoreError
from cnnviz.shapes import summarize
from cnnviz.store import ParticipantView, RoomStore
from cnnviz.train import wilson_interval
from ui.guard import guarded
from ui.host.projector import project
from ui.host.quiz import question_results

__all__ = ["REFRESH_SECONDS", "live_room", "room_rows"]

REFRESH_SECONDS: Final = 3.0


@functools.lru_cache(maxsize=512)
def _model_line(architecture_json: str | None) -> tuple[str, int | None, int | None, str]:
    """(model name, layers, parameters, error) of a stored architecture."""
    if not architecture_json:
        return "(the default model)", None, None, ""

    try:
        spec = load_architecture(architecture_json)
    except SpecError as error:
        return "(unreadable)", None, None, error.message
    summary = summarize(spec)
    problem = summary.error.message if summary.error is not None else ""
    return spec.name, len(spec.layers), summary.total_params, problem


def _ago(seconds: float) -> str:
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.0f} h ago"


def room_rows(views: Sequence[ParticipantView], now: float | None = None) -> list[dict[str, Any]]:
    """One row per participant, as the table shows it (names stay plain text)."""
    now = time.time() if now is None else now
    rows = []
    for view in views:
        name, layers, params, error = _model_line(view.architecture_json)
        best = view.best
        low, high = wilson_interval(best.test_accuracy, best.test_images) if best else (0, 0)
        rows.append({
            "Participant": view.display_name or f"(no name) #{view.participant_id}",
            "Model": name, "Layers": layers, "Parameters": params,
            "Error": error, "State": view.state,
            "Best test accuracy": round(100 * best.test_accuracy, 1) if best else None,
            "95 % interval": f"{low:.1%} – {high:.1%}" if best else None,
            "Best run's parameters": best.params if best else None,
            "Seconds": round(best.seconds, 1) if best else None,
            "Seen": _ago(now - view.last_seen),
        })
    return rows


def live_room(room: RoomStore) -> None:
    """The room view, redrawn every few seconds by itself (the page does not rerun)."""

    @st.fragment(run_every=REFRESH_SECONDS)
    @guarded("room view")
    def draw() -> None:
        try:
            question_results(room)  # the room's answers to the host's question, if any
            views = room.room_view()
        except StoreError as error:
            st.warning(f"The room cannot be read right now. {error}", icon=":material/cloud_off:")
            return
        rows = room_rows(views)
        training = sum(1 for row in rows if str(row["State"]).startswith("training"))
        queued = sum(1 for row in rows if str(row["State"]).startswith("queued"))
        st.caption(f"{len(rows)} participants seen in the last 12 hours · {training} training "
                   f"now · {queued} queued · refreshed every {REFRESH_SECONDS:g} s")
        if not rows:
            st.info("Nobody has opened cnnviz on this server yet.", icon=":material/group:")
            return
        table = st.dataframe(
            rows, hide_index=True, width="stretch", key="host_room_table",
            on_select="rerun", selection_mode="single-row",
            height=min(38 + 35 * len(rows), 1400),  # every row, on the projector
            column_config={
                "Best test accuracy": st.column_config.ProgressColumn(
                    format="%.1f %%", min_value=0.0, max_value=100.0),
                "Parameters": st.column_config.NumberColumn(format="localized"),
                "Best run's parameters": st.column_config.NumberColumn(format="localized"),
            })
        picked = table.selection.rows
        if picked and picked[0] < len(views) and project(views[picked[0]].participant_id,
                                                         picked_in="room"):
            st.rerun(scope="app")  # the projector, outside this fragment, shows them

    draw()
