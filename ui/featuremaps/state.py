"""Widget values of the Feature maps page that outlive a visit to another page.

Streamlit forgets a widget's value when a run does not draw it (another page was open).
`kept_widget` restores the value before the widget is drawn and saves it after; the widget
takes its default from session state only, so Streamlit never sees two defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar

import streamlit as st

__all__ = ["kept_widget"]

_KEPT_KEY: Final = "cnnviz_fm_kept"

T = TypeVar("T")


def kept_widget(widget: Callable[..., T], key: str, default: Any, *args: Any,
                valid: Callable[[Any], bool] = lambda value: True, **kwargs: Any) -> T:
    """Draw `widget(*args, key=key, **kwargs)` starting from its last value on this page
    (or `default`), e.g. `kept_widget(st.selectbox, "fm_dataset", "shapes", "Dataset", names)`."""
    kept: dict[str, Any] = st.session_state.setdefault(_KEPT_KEY, {})
    if key not in st.session_state or not valid(st.session_state[key]):
        remembered = kept.get(key, default)
        st.session_state[key] = remembered if valid(remembered) else default
    value = widget(*args, key=key, **kwargs)
    kept[key] = value
    return value
