"""Column widths for `st.dataframe` that show every cell whole: the grid scrolls sideways
on a narrow screen instead of cutting a number or a formula short."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

__all__ = ["fitted_widths"]

_CHAR_PX: Final = 7.8  # the grid's 14 px font, a digit's width with some room
_PAD_PX: Final = 30  # cell padding, and the header's sort mark
_MAX_PX: Final = 720  # a long note wraps in its tooltip rather than stretching the grid


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def fitted_widths(rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Pixels per column: wide enough for its header and its longest cell."""
    longest: dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            longest[key] = max(longest.get(key, len(key)), len(_shown(value)))
    return {key: min(_MAX_PX, round(chars * _CHAR_PX + _PAD_PX))
            for key, chars in longest.items()}
