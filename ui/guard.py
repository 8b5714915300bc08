"""The one guard around every page body: a calm message on the page, the traceback in the log.

A page (or a fragment that reruns alone) runs inside `page_guard()`. Streamlit's own
control flow (`st.stop()`, `st.rerun()`) passes through untouched; any other exception is
logged with its traceback on the server and shown as one short message, so a participant
never sees code.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final, ParamSpec

import streamlit as st
from streamlit.errors import FragmentHandledException

__all__ = ["MESSAGE", "guarded", "page_guard"]

P = ParamSpec("P")

LOG: Final = logging.getLogger("cnnviz.pages")
MESSAGE: Final = (
    "Something went wrong while drawing this part of the page ({kind}). Your model and your "
    "trainings are kept: go back to the Build page, undo the last change, or reload. The "
    "details are in the server's log for the host."
)


@contextmanager
def page_guard(where: str = "page") -> Iterator[None]:
    """Run a page body; an unexpected exception becomes a logged traceback and one message."""
    try:
        yield
    except FragmentHandledException:
        raise  # Streamlit's own signal from inside a fragment
    except Exception as error:
        LOG.exception("Unexpected error while drawing the %s", where)
        st.error(MESSAGE.format(kind=type(error).__name__), icon=":material/error:")


def guarded(where: str) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """`page_guard` as a decorator, for a fragment or a callback."""
    def decorate(body: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(body)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            with page_guard(where):
                body(*args, **kwargs)

        return run

    return decorate
