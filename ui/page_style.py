"""The few style rules every page shares, in one place: no blank band above the title,
badge values that fit a 1280-pixel projector."""

from __future__ import annotations

from typing import Final

import streamlit as st

__all__ = ["PAGE_CSS", "apply_page_style"]

PAGE_CSS: Final = """
[data-testid="stHeader"] { height: 2.25rem; background: transparent; }
[data-testid="stMainBlockContainer"] { padding-top: 2.25rem; }
[data-testid="stSidebarHeader"] { height: 2.25rem; margin-bottom: 0; padding-top: 0.5rem; }
[data-testid="stMetricValue"] > div { font-size: 1.6rem; }
"""


def apply_page_style() -> None:
    st.html(f"<style>{PAGE_CSS}</style>")
