"""Every page runs inside `app.py`, even on a fresh server reached at a page's own URL.

Streamlit runs a script from a `pages/` folder directly (its first, directory-based
multipage mode) until some run of the process has called `st.navigation`; a reload of
`/Train` right after a server restart would then skip `app.py`: no defaults, no sidebar,
no workspace. A page that finds itself run that way runs `app.py` in its place, in the
same script run (so a button press that started the run still counts); `app.py` then
runs this page as usual.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

__all__ = ["run_through_app"]

_APP = Path(__file__).resolve().parents[1] / "app.py"


def run_through_app() -> None:
    if not PagesManager.uses_pages_directory:
        return
    PagesManager.uses_pages_directory = False  # what st.navigation itself sets
    runpy.run_path(str(_APP), run_name="__main__")
    st.stop()
