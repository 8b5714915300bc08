"""The live summary: budget badges, the Keras-style table with its arithmetic, the totals."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import streamlit as st

from cnnviz.advice import Advice
from cnnviz.shapes import BYTES_PER_VALUE, ModelSummary, readable_size
from cnnviz.spec import ModelSpec
from cnnviz.train import TrainingRun
from ui.build.text_block import text_block
from ui.table_widths import fitted_widths

__all__ = [
    "budget_badges",
    "counted_through",
    "human_count",
    "keras_totals",
    "layer_arithmetic",
    "measured_epoch_seconds",
    "summary_rows",
    "summary_table",
]


def human_count(number: int) -> str:
    """`12_345_678` → `12.3 M`: for MACs, where the order of magnitude is the point."""
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if number >= size:
            return f"{number / size:.3g} {unit}"
    return f"{number:,}"


def measured_epoch_seconds(runs: Sequence[TrainingRun],
                           spec: ModelSpec) -> tuple[float, bool] | None:
    """The latest run's seconds per epoch, and whether it was this architecture."""
    for run in reversed(runs):
        seconds = run.seconds_per_epoch
        if not math.isfinite(seconds) or seconds <= 0:
            continue
        return float(seconds), run.spec == spec
    return None


def counted_through(summary: ModelSummary) -> str | None:
    """How far the totals go when a layer has an error ("up to layer 3"); None when all do."""
    if summary.error is None:
        return None
    return f"up to layer {len(summary.layers)}" if summary.layers else None


def _stopped(summary: ModelSummary) -> str:
    return (f"Layer {len(summary.layers) + 1} has an error: it and the layers after it "
            "are not counted until it is fixed.")


def budget_badges(summary: ModelSummary, runs: Sequence[TrainingRun], max_params: int) -> None:
    params, macs, memory, timing = st.columns(4)
    through = counted_through(summary)
    if summary.error is not None and through is None:  # the first layer: nothing to count
        reason = _stopped(summary)
        for column, label in ((params, "Parameters"), (macs, "MACs per image"),
                              (memory, "Activations per image")):
            column.metric(label, "—", delta="layer 1 has an error", delta_color="off",
                          delta_arrow="off", border=True, help=reason)
    else:
        partial: dict[str, Any] = {} if through is None else {
            "delta": through, "delta_color": "off", "delta_arrow": "off"}
        stopped = "" if through is None else " " + _stopped(summary)
        params.metric("Parameters", f"{summary.total_params:,}", border=True, **partial,
                      help=f"Trainable {summary.trainable_params:,} · non-trainable "
                      f"{summary.non_trainable_params:,}. This server trains up to "
                      f"{max_params:,}.{stopped}")
        macs.metric("MACs per image", human_count(summary.total_macs), border=True, **partial,
                    help=f"{summary.total_macs:,} multiply-accumulates for one image's forward "
                    f"pass.{stopped}")
        memory.metric("Activations per image", readable_size(summary.activation_bytes),
                      border=True, **partial, help="float32 outputs of every layer (and the "
                      f"input) for one image; training keeps them for the backward pass.{stopped}")
    measured = measured_epoch_seconds(runs, summary.spec)
    # height="stretch": as tall as the other badges when they carry "up to layer N"
    if measured is None:
        timing.metric("Time per epoch", "—", border=True, height="stretch",
                      help="Measured once a model has been trained on the Train page")
    else:
        seconds, same = measured
        note = "this architecture" if same else "an earlier architecture"
        timing.metric("Time per epoch", f"{seconds:.3g} s", border=True, height="stretch",
                      help=f"Measured during training, for {note}")


def keras_totals(summary: ModelSummary) -> list[str]:
    """The three total lines as `model.summary()` prints them."""
    through = counted_through(summary)

    def line(label: str, count: int) -> str:
        if summary.error is not None and through is None:
            return f"{label}: —"
        counted = f"{label}: {count:,} ({readable_size(count * BYTES_PER_VALUE)})"
        return counted if through is None else f"{counted}, {through}"

    lines = [line("Total params", summary.total_params),
             line("Trainable params", summary.trainable_params),
             line("Non-trainable params", summary.non_trainable_params)]
    return lines if summary.error is None else [*lines, _stopped(summary)]


def summary_rows(spec: ModelSpec, summary: ModelSummary,
                 advice: tuple[Advice, ...]) -> list[dict[str, str]]:
    notes: dict[int, str] = {}
    for item in advice:
        if item.layer_index is not None:
            mark = "⛔ " if item.level == "error" else "⚠️ "
            message = item.message.replace("`", "")  # a table cell shows no markdown
            notes[item.layer_index] = notes.get(item.layer_index, "") + mark + message + " "
    rows = []
    for index, (layer, name) in enumerate(zip(spec.layers, spec.layer_names(), strict=True)):
        row = {"#": str(index + 1), "Layer (type)": f"{name} ({layer.class_name})"}
        if index < len(summary.layers):
            done = summary.layers[index]
            row |= {"Output shape": str(done.keras_output_shape), "Param #": f"{done.params:,}",
                    "Output size": done.shape_formula, "Parameters": done.param_formula,
                    "MACs": f"{done.macs:,}", "Activation": readable_size(done.output_bytes)}
        else:
            unreached = "—" if index > len(summary.layers) else "error"
            row |= {"Output shape": unreached, "Param #": "—", "Output size": "—",
                    "Parameters": "—", "MACs": "—", "Activation": "—"}
        row["Note"] = notes.get(index, "").strip()
        rows.append(row)
    return rows


def summary_table(spec: ModelSpec, summary: ModelSummary, advice: tuple[Advice, ...]) -> None:
    rows = summary_rows(spec, summary, advice)
    if not any(row["Note"] for row in rows):
        rows = [{key: value for key, value in row.items() if key != "Note"} for row in rows]
    input_row = dict.fromkeys(rows[0] if rows else ("#",), "")
    input_row |= {"#": "0", "Layer (type)": "input (InputLayer)",
                  "Output shape": str((None, *spec.input_shape)), "Param #": "0"}
    # An Arrow table goes to the page as it is; a list of rows would go through pandas.
    table = pa.Table.from_pylist([input_row, *rows])
    st.dataframe(table, hide_index=True, width="stretch", row_height=34,
                 height=min(40 + 34 * (len(rows) + 1), 640),
                 column_config={name: st.column_config.TextColumn(
                     width=width, pinned=name in ("#", "Layer (type)"))
                     for name, width in fitted_widths([input_row, *rows]).items()})
    text_block("\n".join(keras_totals(summary)))


def layer_arithmetic(summary: ModelSummary, index: int) -> None:
    """The selected layer's numbers and the arithmetic behind each of them."""
    if index >= len(summary.layers):
        st.info("This layer's shape and parameters appear once the error above is fixed.",
                icon=":material/info:")
        return
    row = summary.layers[index]
    field = "—" if row.receptive_field is None else "×".join(map(str, row.receptive_field))
    text_block(
        f"input        {row.input_shape}\n"
        f"output size  {row.shape_formula}\n"
        f"parameters   {row.param_formula}\n"
        f"MACs         {row.macs:,}\n"
        f"activation   {readable_size(row.output_bytes)} per image\n"
        f"receptive    {field} input pixels",
        wrap=True,
    )
