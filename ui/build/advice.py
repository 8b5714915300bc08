"""Advice beside the stack: each message in words, with its one-click fixes as buttons."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from cnnviz.advice import Advice
from cnnviz.spec import ModelSpec, SpecError
from ui.state import current_spec, session_runs, set_spec, show_notice, trained_model

__all__ = ["advice_panel", "known_num_classes"]

_SHOWN_KEY = "build_advice_shown"  # ShownAdvice: as last drawn, for the fix buttons


@dataclass(frozen=True, eq=False)
class ShownAdvice:
    """The advice as last drawn, and the spec it was drawn for."""

    spec: ModelSpec | None = None
    advice: tuple[Advice, ...] = ()


def _shown() -> ShownAdvice:
    shown = st.session_state.get(_SHOWN_KEY)
    return shown if isinstance(shown, ShownAdvice) else ShownAdvice()


def known_num_classes() -> int | None:
    """The number of classes of the data this session trained on, when the Train page says."""
    trained = trained_model()
    for record in (trained, *reversed(session_runs())):
        if record is not None and record.class_names:
            return len(record.class_names)
    return None


def _apply(advice_index: int, fix_index: int) -> None:
    shown, spec = _shown(), current_spec()
    advice = shown.advice
    if shown.spec != spec:
        show_notice("The model changed before that fix was clicked; nothing was applied.")
        return
    try:
        set_spec(advice[advice_index].fixes[fix_index].apply(spec))
    except (IndexError, SpecError) as error:
        show_notice(f"That fix no longer applies: {error}")


def shown_advice() -> tuple[Advice, ...]:
    """The advice as last drawn (the cards' fix buttons were drawn with it)."""
    return _shown().advice


def shown_advice_is_current() -> bool:
    return _shown().spec == current_spec()


def advice_panel(advice: tuple[Advice, ...]) -> None:
    """One alert per piece of advice, its fixes as buttons right under it — except the
    advice a layer's card shows: its fixes are buttons on that card."""
    st.session_state[_SHOWN_KEY] = ShownAdvice(current_spec(), advice)
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
