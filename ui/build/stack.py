"""The palette and the stack: our drag-and-drop component, and the buttons that do the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import streamlit as st

from cnnviz.advice import Advice
from cnnviz.edits import delete_layer, duplicate_layer, insert_layer, move_layer
from cnnviz.layers import LAYER_TYPES
from cnnviz.shapes import ModelSummary
from cnnviz.spec import ModelSpec, SpecError
from ui.build.advice import shown_advice, shown_advice_is_current
from ui.build.layer_help import LAYER_HINTS
from ui.build.stack_ops import apply_action, card_fixes
from ui.build.stack_ops import new_layer as make_layer
from ui.lesson import allowed_layer_types
from ui.state import current_spec, selected_layer, set_selected_layer, set_spec, show_notice

__all__ = ["STACK_KEY", "layer_stack", "stack_buttons", "stack_rows"]

STACK_KEY = "build_layer_stack"
_NEW_TYPE_KEY = "build_new_type"
_PALETTE = [{"class_name": name, "hint": LAYER_HINTS.get(name, name)} for name in LAYER_TYPES]
_ASSETS = Path(__file__).resolve().parents[1] / "components"
_COMPONENT = st.components.v2.component(
    "cnnviz_layer_stack",
    html='<div class="cnnviz-stack"></div>',
    css=(_ASSETS / "layer_stack.css").read_text(encoding="utf-8"),
    js=(_ASSETS / "layer_stack.js").read_text(encoding="utf-8"),
)


def stack_rows(spec: ModelSpec, summary: ModelSummary, advice: tuple[Advice, ...],
               draft_error: tuple[int, str] | None = None,
               hide_numbers: bool = False) -> list[dict[str, Any]]:
    """One plain row per layer, for the component: shape, params, status and a note
    (`hide_numbers`: "?" for shapes and params, while the participant predicts them)."""
    notes: dict[int, tuple[str, str]] = {}
    for item in advice:
        if item.layer_index is not None and item.layer_index not in notes:
            notes[item.layer_index] = (item.level, item.message)
    if draft_error is not None:
        notes[draft_error[0]] = ("error", draft_error[1])
    rows = []
    for index, (layer, name) in enumerate(zip(spec.layers, spec.layer_names(), strict=True)):
        status, note = notes.get(index, ("ok", ""))
        if index < len(summary.layers):
            row = summary.layers[index]
            shape, params = "×".join(map(str, row.output_shape)), f"{row.params:,}"
            if hide_numbers:
                shape, params = "?", "?"
        else:
            shape, params = "—", "—"
            if status == "ok":
                status = "unreached"
        fixes = [] if draft_error is not None and draft_error[0] == index else card_fixes(
            advice, index)
        rows.append({"index": index, "class_name": layer.class_name, "name": name,
                     "shape": shape, "params": params, "status": status, "note": note,
                     "fixes": fixes})
    return rows


def _apply_stack_action() -> None:
    value = st.session_state.get(STACK_KEY)
    action = value.get("action") if isinstance(value, dict) else None
    if action is None:
        return
    if isinstance(action, dict) and action.get("op") == "fix" and not shown_advice_is_current():
        show_notice("The model changed before that fix was clicked; nothing was applied.")
        return
    try:
        spec, selected = apply_action(current_spec(), action, shown_advice())
    except SpecError as error:
        show_notice(f"That change to the stack could not be applied: {error.message}")
        return
    set_spec(spec)
    if selected is not None:
        set_selected_layer(selected)


def _palette() -> list[dict[str, str]]:
    """The palette, within the layer types the host's lesson allows (checked again when
    a layer is added)."""
    allowed = allowed_layer_types()
    return [entry for entry in _PALETTE if not allowed or entry["class_name"] in allowed]


def layer_stack(spec: ModelSpec, summary: ModelSummary, advice: tuple[Advice, ...],
                draft_error: tuple[int, str] | None = None, hide_numbers: bool = False) -> None:
    stack = {
        "palette": _palette(),
        "rows": stack_rows(spec, summary, advice, draft_error, hide_numbers),
        "selected": selected_layer(),
        "input": str((None, *spec.input_shape)),
    }
    # One JSON string: Streamlit inspects each nested list as a possible dataframe.
    _COMPONENT(key=STACK_KEY, data={"stack": json.dumps(stack)},
               on_action_change=_apply_stack_action)


def _edit(change: str, index: int) -> None:
    spec = current_spec()
    if change == "up" and index > 0:
        set_spec(move_layer(spec, index, index - 1))
        set_selected_layer(index - 1)
    elif change == "down" and index < len(spec.layers) - 1:
        set_spec(move_layer(spec, index, index + 1))
        set_selected_layer(index + 1)
    elif change == "duplicate":
        set_spec(duplicate_layer(spec, index))
        set_selected_layer(index + 1)
    elif change == "delete":
        set_spec(delete_layer(spec, index))
        set_selected_layer(max(index - 1, 0))


def _add(at: int) -> None:
    class_name = st.session_state.get(_NEW_TYPE_KEY, "Conv2D")
    set_spec(insert_layer(current_spec(), at, make_layer(class_name)))
    set_selected_layer(at)


def stack_buttons(spec: ModelSpec) -> None:
    """Keyboard-friendly controls: choose a layer, add after it, move, duplicate, delete."""
    names = spec.layer_names()
    index = selected_layer()
    if index is not None:
        key = f"build_select_{len(names)}_{index}"  # a new widget when the selection moves
        st.selectbox(
            "Selected layer", range(len(names)), index=index, key=key,
            format_func=lambda i: f"{i + 1}. {names[i]} ({spec.layers[i].class_name})",
            on_change=lambda: set_selected_layer(st.session_state[key]),
        )
    add_col, type_col = st.columns([1, 2], vertical_alignment="bottom")
    allowed = allowed_layer_types()
    types = [name for name in LAYER_TYPES if not allowed or name in allowed]
    if st.session_state.get(_NEW_TYPE_KEY) not in types:
        st.session_state.pop(_NEW_TYPE_KEY, None)
    type_col.selectbox("Layer type", types, key=_NEW_TYPE_KEY, label_visibility="collapsed",
                       help=":material/lock: The host's lesson allows only these layer types."
                       if allowed else None)
    at = len(spec.layers) if index is None else index + 1
    add_col.button("Add after", key="build_add", on_click=_add, args=(at,),
                   width="stretch", help="Insert this layer type after the selected "
                   "layer (at the end when the stack is empty)")
    if index is None:
        return
    moves = st.columns(4)
    for column, (change, label) in zip(moves, (("up", "↑ Up"), ("down", "↓ Down"),
                                                ("duplicate", "Duplicate"),
                                                ("delete", "Delete")), strict=True):
        column.button(label, key=f"build_{change}", on_click=_edit, args=(change, index),
                      width="stretch",
                      disabled=(change == "up" and index == 0)
                      or (change == "down" and index == len(names) - 1))
