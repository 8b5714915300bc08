"""Keep Keras's process-wide state while trainings run in background threads.

After every script run — a fragment polling every second included — Streamlit calls
`keras.backend.clear_session()` (`_clean_problem_modules` in
streamlit/runtime/scriptrunner/script_runner.py). That resets Keras's global state for
every thread, clears TensorFlow's kernel cache and runs a full garbage collection: it
slows down and can disturb a training running in another thread. This guard skips that
one automatic call; every other caller of `clear_session` is served as before.
"""

from __future__ import annotations

import functools
import sys
import threading
from typing import Any

__all__ = ["keep_keras_state_across_reruns"]

_lock = threading.Lock()


def _called_by_streamlit_cleanup(frame: Any) -> bool:
    return bool(
        frame is not None
        and frame.f_code.co_name == "_clean_problem_modules"
        and str(frame.f_globals.get("__name__", "")).startswith("streamlit.")
    )


def keep_keras_state_across_reruns() -> None:
    """Wrap `keras.backend.clear_session` once per process (imports Keras)."""
    import keras

    with _lock:
        original = keras.backend.clear_session
        if getattr(original, "_cnnviz_guarded", False):
            return

        @functools.wraps(original)
        def clear_session(*args: Any, **kwargs: Any) -> Any:
            if _called_by_streamlit_cleanup(sys._getframe(1)):
                return None
            return original(*args, **kwargs)

        clear_session._cnnviz_guarded = True  # type: ignore[attr-defined]
        keras.backend.clear_session = clear_session
