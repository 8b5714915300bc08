"""Train page: compare this session's runs — a table and overlaid curves."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

import streamlit as st

from cnnviz.spec import layer_to_dict
from cnnviz.train import TrainingRun
from ui.state import RUNS_KEY
from ui.table_widths import fitted_widths
from ui.train.charts import runs_figure
from ui.train.resume import continue_interrupted
from ui.workspace import stored_runs

__all__ = ["describe_changes", "runs_section"]

_METRICS = {"val_accuracy": "validation accuracy", "val_loss": "validation loss",
            "accuracy": "training accuracy", "loss": "training loss"}


def _layer_text(layer: Any) -> str:
    config = layer_to_dict(layer)["config"]
    shown = {key: value for key, value in config.items() if key not in ("name", "trainable")}
    inside = ", ".join(f"{key}={value}" for key, value in shown.items())
    return f"{layer.class_name}({inside})"


def describe_changes(before: TrainingRun, after: TrainingRun) -> str:
    """What differs from the previous run, in a few words: layers, input, settings."""
    changes: list[str] = []
    old = [_layer_text(layer) for layer in before.architecture.layers]
    new = [_layer_text(layer) for layer in after.architecture.layers]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if tag in ("delete", "replace"):
            changes += [f"− {text}" for text in old[i1:i2]]
        if tag in ("insert", "replace"):
            changes += [f"+ {text}" for text in new[j1:j2]]
    if before.architecture.input_shape != after.architecture.input_shape:
        changes.append(f"input {before.architecture.input_shape} → "
                       f"{after.architecture.input_shape}")
    old_settings, new_settings = before.settings.to_dict(), after.settings.to_dict()
    changes += [f"{key} {old_settings[key]} → {value}" for key, value in new_settings.items()
                if old_settings[key] != value]
    if before.dataset_name != after.dataset_name:
        changes.append(f"data {before.dataset_name} → {after.dataset_name}")
    return "; ".join(changes) or "nothing (same model, settings and data)"


def _last(values: Sequence[float]) -> float | None:
    return values[-1] if values else None


def _interval(run: TrainingRun) -> str:
    low, high = run.test_accuracy_interval
    return f"{low:.1%} – {high:.1%}"


def _rows(runs: list[TrainingRun]) -> list[dict[str, Any]]:
    rows = []
    for position, run in enumerate(runs):
        training = run.settings
        rows.append({
            "run": run.run_id, "model": run.architecture.name,
            "layers": len(run.architecture.layers), "params": run.params,
            "data": run.dataset_name, "optimizer": training.optimizer,
            "learning rate": training.resolved_learning_rate, "batch": training.batch_size,
            "epochs": run.epochs_completed,
            "val accuracy": _last(run.history.get("val_accuracy", [])),
            "test accuracy": run.test_accuracy, "95% interval": _interval(run),
            "s/epoch": round(run.seconds_per_epoch, 2),
            "changes from the run before": describe_changes(runs[position - 1], run)
            if position else "—",
        })  # fmt: skip
    return rows


def runs_section() -> None:
    """Every training of this session: the table, and chosen runs' curves overlaid."""
    runs = [run for run in st.session_state.get(RUNS_KEY) or [] if isinstance(run, TrainingRun)]
    interrupted = [run for run in stored_runs() if run.status == "interrupted"]
    if not runs and not interrupted:
        return
    st.subheader("Compare runs")
    for run in interrupted:
        kept = (f"the weights of epoch {run.epochs_completed} are kept and Feature maps uses "
                "them" if run.has_weights else "no epoch had finished, so no weights were kept")
        st.info(f"Run {run.id} ({run.dataset_name}) was {run.status_text}: the training ended "
                f"early (the server restarted, or the machine training it was lost); {kept}.",
                icon=":material/history:")
        continue_interrupted(run)
    if not runs:
        return
    rows = _rows(runs)
    widths = fitted_widths(rows)
    st.dataframe(rows, hide_index=True, column_config={
        name: st.column_config.Column(width=width, pinned=name == "run")
        for name, width in widths.items()
    } | {
        "test accuracy": st.column_config.NumberColumn(format="percent",
                                                       width=widths["test accuracy"]),
        "val accuracy": st.column_config.NumberColumn(format="percent",
                                                      width=widths["val accuracy"]),
        "params": st.column_config.NumberColumn(format="localized", width=widths["params"]),
    })  # fmt: skip
    labels = {run.run_id: run.label for run in runs}
    left, right = st.columns([3, 1])
    chosen = left.multiselect("Runs to overlay", list(labels), default=list(labels)[-2:],
                              format_func=labels.__getitem__, key=f"train_runs_chosen_{len(runs)}")
    metric = right.selectbox("Curve", list(_METRICS), format_func=_METRICS.__getitem__,
                             key="train_runs_metric") or "val_accuracy"
    picked = [(f"Run {run.run_id}", run.history) for run in runs if run.run_id in chosen]
    if picked:
        st.plotly_chart(runs_figure(picked, metric, _METRICS[metric]), key="train_runs_figure")
