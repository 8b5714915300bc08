"""Advice beside the stack: each message in words, with its one-click fixes as buttons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st

from cnnviz.advice import Advice
from cnnviz.spec import SpecError
from ui.state import RUNS_KEY, TRAINED_KEY, current_spec, set_spec, show_notice

__all__ = ["advice_panel", "known_num_classes"]

_SHOWN_KEY = "build_advice_shown"  # (the spec, its advice) as last drawn, for the fix buttons


def _classes_of(record: Any) -> int | None:
    """`num_classes` or `len(class_names)` of a record or of its `dataset`, if it has them."""
    for source in (record, _field(record, "dataset")):
        number = _field(source, "num_classes")
        if isinstance(number, int) and not isinstance(number, bool) and number >= 1:
            return number
        names = _field(source, "class_names")
        if isinstance(names, (list, tuple)) and names:
            return len(names)
    return None


def _field(record: Any, name: str) -> Any:
    if record is None:
        return None
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def known_num_classes() -> int | None:
    """The number of classes of the data this session trained on, when the Train page says."""
    found = _classes_of(st.session_state.get(TRAINED_KEY))
    runs = st.session_state.get(RUNS_KEY)
    if found is None and isinstance(runs, (list, tuple)):
        for run in reversed(runs):
            found = _classes_of(run)
            if found is not None:
                break
    return found


def _apply(advice_index: int, fix_index: int) -> None:
    shown_for, advice = st.session_state.get(_SHOWN_KEY, (None, ()))
    spec = current_spec()
    if shown_for != spec:
        show_notice("The model changed before that fix was clicked; nothing was applied.")
        return
    try:
        set_spec(advice[advice_index].fixes[fix_index].apply(spec))
    except (IndexError, SpecError) as error:
        show_notice(f"That fix no longer applies: {error}")


def shown_advice() -> tuple[Advice, ...]:
    """The advice as last drawn (the cards' fix buttons were drawn with it)."""
    return tuple(st.session_state.get(_SHOWN_KEY, (None, ()))[1])


def shown_advice_is_current() -> bool:
    return bool(st.session_state.get(_SHOWN_KEY, (None, ()))[0] == current_spec())


def advice_panel(advice: tuple[Advice, ...]) -> None:
    """One alert per piece of advice, its fixes as buttons right under it — except the
    advice a layer's card shows: its fixes are buttons on that card."""
    st.session_state[_SHOWN_KEY] = (current_spec(), advice)
    on_cards: dict[int, int] = {}  # layer → the advice its card shows (the first)
    for number, item in enumerate(advice):
        if item.layer_index is not None:
            on_cards.setdefault(item.layer_index, number)
    for number, item in enumerate(advice):
        where = f"**Layer {item.layer_index + 1}** · " if item.layer_index is not None else ""
        if item.level == "error":
            st.error(where + item.message, icon=":material/error:")
        else:
            st.warning(where + item.message, icon=":material/warning:")
        if item.layer_index is not None and on_cards[item.layer_index] == number and item.fixes:
            st.caption(f"One click on layer {item.layer_index + 1}'s card in the stack: "
                       + " · ".join(fix.label for fix in item.fixes))
            continue
        if not item.fixes:
            continue
        columns = st.columns(max(len(item.fixes), 2))
        for fix_number, fix in enumerate(item.fixes):
            columns[fix_number].button(
                fix.label, key=f"build_fix_{number}_{fix_number}", on_click=_apply,
                args=(number, fix_number), width="stretch",
                type="primary" if fix_number == 0 else "secondary")
