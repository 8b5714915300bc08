"""Every page runs inside `app.py`, even on a fresh server reached at a page's own URL.

Streamlit runs a script from a `pages/` folder directly (its first, directory-based
multipage mode) until some run of the process has called `st.navigation`; a reload of
`/Train` right after a server restart would then skip `app.py`: no defaults, no sidebar,
no workspace. A page that finds itself run that way switches the mode off and reruns,
and the rerun goes through `app.py`, which opens the same page.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

__all__ = ["run_through_app"]


def run_through_app() -> None:
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False  # what st.navigation itself sets
        st.rerun()
