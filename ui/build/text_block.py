"""Monospaced blocks of text (arithmetic, totals) drawn as plain HTML.

`st.code` loads a syntax highlighter that costs a first visit about half a second of the
browser's time even for plain text; the Build page shows its numbers without it.
"""

from __future__ import annotations

import html
from typing import Final

import streamlit as st

__all__ = ["TEXT_BLOCK_CLASS", "text_block", "text_block_html"]

TEXT_BLOCK_CLASS: Final = "cnnviz-text-block"
_STYLE: Final = (
    f"<style>.{TEXT_BLOCK_CLASS} {{ font-family: 'Source Code Pro', monospace; "
    "font-size: 0.875rem; line-height: 1.6; margin: 0; padding: 0.75rem 1rem; "
    "border-radius: 0.5rem; background: rgba(151, 166, 195, 0.15); overflow-x: auto; }"
    f" .{TEXT_BLOCK_CLASS}.wrap {{ white-space: pre-wrap; }}</style>"
)


def text_block_html(text: str, *, wrap: bool = False) -> str:
    """The HTML of one block: `text` escaped, its lines kept."""
    classes = TEXT_BLOCK_CLASS + (" wrap" if wrap else "")
    return f'{_STYLE}<pre class="{classes}">{html.escape(text)}</pre>'


def text_block(text: str, *, wrap: bool = False) -> None:
    """`text` in the code font, its lines kept; `wrap` folds lines wider than the column."""
    st.html(text_block_html(text, wrap=wrap))
