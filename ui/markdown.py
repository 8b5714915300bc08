"""Text typed by people (display names, guesses) shown in Markdown as the letters they are."""

from __future__ import annotations

__all__ = ["escape_markdown"]

_SPECIAL = frozenset("\\`*_{}[]()<>#+-.!|~$:&")


def escape_markdown(text: str) -> str:
    """`text` for st.markdown/st.caption with every Markdown and HTML sign made literal."""
    return "".join("\\" + char if char in _SPECIAL else char for char in str(text))
