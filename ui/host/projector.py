"""Show one on the projector: any participant's model or run, read only — its summary, its
curves, its test figures and its first feature maps — and "Bring it to my Build page" for
the host's own copy (a run's trained weights with it).

A participant is chosen by a row of the room table, a point or row of the leaderboard, or
the menu here; the choice is kept in the host's session (`project`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from cnnviz.archfile import load_architecture
from cnnviz.bundle import BundleError
from cnnviz.errors import LimitError, SpecError, StoreError
from cnnviz.shapes import summarize
from cnnviz.spec import ModelSpec
from cnnviz.store import ParticipantDetail, RoomStore, Store, StoredRun
from cnnviz.train import wilson_interval
from ui.host.auth import require_host
from ui.host.preview import feature_maps_preview
from ui.markdown import escape_markdown
from ui.state import BROUGHT_KEY, BroughtRun, current_spec, set_spec, show_notice
from ui.train.charts import LIVE_CHART_CONFIG, curves_figure
from ui.workspace import adopt_stored_run

__all__ = ["Projected", "project", "project_run", "projected", "projector_view",
           "summary_rows"]

_PROJECTED_KEY = "host_projected"


@dataclass(frozen=True)
class Projected:
    participant_id: int
    run_id: int | None = None  # None: their best run, or their model as it is now


def project(participant_id: int, run_id: int | None = None, *, picked_in: str = "") -> bool:
    """Put this participant (and run) on the projector; True when that changed it.

    `picked_in` names the table or chart whose selection asked for it: a selection stays
    selected across refreshes, so it puts its pick on the projector once (Close holds)."""
    chosen = Projected(participant_id, run_id)
    if picked_in:
        last_key = f"host_projector_last_pick_{picked_in}"
        if st.session_state.get(last_key) == chosen:
            return False
        st.session_state[last_key] = chosen
    if st.session_state.get(_PROJECTED_KEY) == chosen:
        return False
    st.session_state[_PROJECTED_KEY] = chosen
    return True


def project_run(room: RoomStore, run_id: int) -> None:
    """Put run `run_id` on the projector (a leaderboard's pick), and redraw the page."""
    require_host()
    try:
        owner = room.run_owner(run_id)
    except StoreError as error:
        st.warning(str(error), icon=":material/cloud_off:")
        return
    if owner is not None and project(owner, run_id, picked_in="leaderboard"):
        st.rerun(scope="app")  # the pick comes from inside a fragment


def projected() -> Projected | None:
    chosen = st.session_state.get(_PROJECTED_KEY)
    return chosen if isinstance(chosen, Projected) else None


def _close() -> None:
    st.session_state.pop(_PROJECTED_KEY, None)


def summary_rows(spec: ModelSpec) -> list[dict[str, Any]]:
    summary = summarize(spec)
    return [{"Layer": f"{row.index + 1}. {row.name}", "Type": row.class_name,
             "Output shape": "×".join(map(str, row.output_shape)), "Parameters": row.params,
             "Arithmetic": row.param_formula} for row in summary.layers]


def _spec(architecture_json: str | None) -> ModelSpec | None:
    if not architecture_json:
        return None
    try:
        return load_architecture(architecture_json)
    except SpecError:
        return None


def _run_label(run: StoredRun) -> str:
    accuracy = f"{run.test_accuracy:.1%}" if run.test_accuracy is not None else "no test yet"
    return (f"Run {run.id} · {run.dataset_name} · {accuracy} · {run.params:,} parameters · "
            f"{run.status_text}")


def _chosen_run(detail: ParticipantDetail, run_id: int | None) -> StoredRun | None:
    finished = [run for run in detail.runs if run.test_accuracy is not None]
    default = max(finished, key=lambda run: run.test_accuracy or 0.0, default=None)
    if run_id is not None:
        default = next((run for run in detail.runs if run.id == run_id), default)
    by_id = {run.id: run for run in detail.runs}
    options: list[int | None] = [None, *by_id]
    shown = st.selectbox(
        "Show", options, index=options.index(default.id if default is not None else None),
        key=f"host_projector_run_{detail.participant_id}_{run_id}",
        format_func=lambda at: "Their model as it is now" if at is None
        else _run_label(by_id[at]))
    return by_id.get(shown) if shown is not None else None


def _bring(spec: ModelSpec, name: str, store: Store, owner_id: int,
           run: StoredRun | None) -> None:
    """Their model becomes the host's; a run's trained weights become the host's trained
    model, loaded as a reload loads a participant's own run."""
    set_spec(spec)  # the host's own model stays one Undo away
    if current_spec() != spec:
        return  # refused (e.g. over the layer limit), with a notice saying why
    shown = escape_markdown(name)
    if run is None or not run.has_weights:
        show_notice(f"{shown}'s model is on your Build page; yours is one Undo away.")
        return
    try:
        record = adopt_stored_run(store, owner_id, run)
    except (BundleError, LimitError, StoreError) as error:
        show_notice(f"{shown}'s model is on your Build page (yours is one Undo away), but "
                    f"the weights of run {run.id} could not be loaded: {error}")
        return
    st.session_state[BROUGHT_KEY] = BroughtRun(name, run.id, record.weights_version, owner_id)
    show_notice(f"{shown}'s run {run.id} is on your Build page with its trained weights: "
                "Feature maps shows what it learned. Yours is one Undo away.")


def _run_part(run: StoredRun) -> None:
    if run.test_accuracy is not None and run.test_images:
        low, high = wilson_interval(run.test_accuracy, run.test_images)
        left, middle, right = st.columns(3)
        left.metric("Test accuracy", f"{run.test_accuracy:.1%}",
                    help=f"95 % interval {low:.1%} – {high:.1%}")
        middle.metric("Parameters", f"{run.params:,}")
        right.metric("Epochs", f"{run.epochs_completed} of {run.epochs_total}")
        st.caption(f"95 % interval {low:.1%} – {high:.1%} on {run.test_images:,} test images "
                   f"of {run.dataset_name}.")
    if run.history.get("loss"):
        st.plotly_chart(curves_figure(run.history, epochs=run.epochs_total), width="stretch",
                        key="host_projector_curves", config=LIVE_CHART_CONFIG)


def projector_view(room: RoomStore) -> None:
    """The chosen participant's model or run, big enough for a projector."""
    require_host()
    chosen = projected()
    if chosen is None:
        st.caption("Choose a participant — a row of the room table or a point of the "
                   "leaderboard — to show their model and runs here.")
        return
    try:
        detail = room.participant_detail(chosen.participant_id)
    except StoreError as error:
        st.warning(str(error), icon=":material/cloud_off:")
        return
    if detail is None:
        st.caption("That participant's workspace is gone.")
        return
    name = detail.display_name or f"Participant #{detail.participant_id}"
    with st.container(border=True, key="host_projector"):
        title, close = st.columns([5, 1], vertical_alignment="center")
        title.markdown(f"#### :material/cast: On the projector: {escape_markdown(name)}")
        close.button("Close", key="host_projector_close", on_click=_close,
                     icon=":material/close:")
        run = _chosen_run(detail, chosen.run_id)
        spec = _spec(run.architecture_json if run is not None else detail.architecture_json)
        if spec is None:
            st.info("They are on the default model (or one that cannot be read).",
                    icon=":material/info:")
            return
        st.dataframe(summary_rows(spec), hide_index=True, width="stretch",
                     key="host_projector_summary",
                     column_config={"Parameters": st.column_config.NumberColumn(
                         format="localized")})
        if run is not None:
            _run_part(run)
            feature_maps_preview(room.store, detail.participant_id, run)
        left, right = st.columns([1, 2], vertical_alignment="center")
        left.button("Bring it to my Build page", key="host_projector_bring", type="primary",
                    on_click=_bring, args=(spec, name, room.store, detail.participant_id, run),
                    icon=":material/input:")
        right.caption("Its trained weights come too: Feature maps shows what it learned."
                      if run is not None and run.has_weights else
                      "Then its feature maps are one click away on Feature maps (with random "
                      "weights until you train it).")
