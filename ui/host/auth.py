"""The host's sign-in (a sidebar expander) and the guard of the Host page.

The Host page is registered in the navigation only for a session that signed in, so a
participant never sees it and no URL or query parameter reaches it; the page checks again.
"""

from __future__ import annotations

import streamlit as st

from cnnviz.host_auth import Attempts, check_host_secret
from cnnviz.settings import get_settings, setting_source

__all__ = ["HOST_KEY", "HOST_PAGE", "host_pages", "host_sign_in", "is_host", "require_host"]

HOST_KEY = "cnnviz_host"  # True once this session gave the host secret
HOST_PAGE = "pages/4_Host.py"
_ATTEMPTS_KEY = "cnnviz_host_attempts"


def is_host() -> bool:
    return st.session_state.get(HOST_KEY) is True and bool(get_settings().host_secret)


def host_pages() -> list[st.Page]:
    """The Host page, for a signed-in host only."""
    if not is_host():
        return []
    return [st.Page(HOST_PAGE, title="Host", icon=":material/co_present:")]


def require_host() -> None:
    """Stop the page for anyone who has not signed in as the host."""
    if not is_host():
        st.error("This page is for the session's host.", icon=":material/lock:")
        st.stop()


def _sign_out() -> None:
    st.session_state.pop(HOST_KEY, None)


def host_sign_in() -> None:
    """The sidebar's "Host sign-in": the secret, or how to set one."""
    secret = get_settings().host_secret
    with st.expander("Host sign-in", icon=":material/key:"):
        if not secret:
            st.caption("No host secret is set on this server. To run a session as host, "
                       f"set one: {setting_source('host_secret')}, then restart the server.")
            return
        if is_host():
            st.caption("You are signed in as the host.")
            st.page_link(HOST_PAGE, label="Open the Host page", icon=":material/co_present:")
            st.button("Sign out", key="host_sign_out", on_click=_sign_out)
            return
        attempts = st.session_state.setdefault(_ATTEMPTS_KEY, Attempts())
        with st.form("host_sign_in", border=False):
            typed = st.text_input("Host secret", type="password", key="host_secret_typed")
            pressed = st.form_submit_button("Sign in", key="host_sign_in_submit")
        if not pressed:
            return
        outcome = check_host_secret(typed or "", secret, attempts)
        if outcome.outcome == "host":
            st.session_state[HOST_KEY] = True
            st.rerun()  # the navigation now has the Host page
        elif outcome.outcome == "wait":
            st.error(f"Too many wrong tries. Wait {outcome.wait_seconds:.0f} s and try again.")
        else:
            st.error("That is not the host secret. "
                     f"The next try is possible in {outcome.wait_seconds:.0f} s.")
