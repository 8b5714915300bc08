"""TensorFlow, configured once per process with the host's thread limit."""

from __future__ import annotations

import os
import threading
from types import ModuleType

from cnnviz.keras_guard import keep_keras_state_across_reruns
from cnnviz.settings import get_settings

__all__ = ["configure_tensorflow"]

_lock = threading.Lock()
_configured = False


def configure_tensorflow() -> ModuleType:
    """Import TensorFlow (seconds, the first time) and apply `tf_threads` before first use."""
    global _configured
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    with _lock:
        if not _configured:
            threads = get_settings().tf_threads
            if threads:
                try:
                    tf.config.threading.set_intra_op_parallelism_threads(threads)
                    tf.config.threading.set_inter_op_parallelism_threads(threads)
                except RuntimeError:
                    pass  # TensorFlow already ran an op in this process; its pools are fixed
            keep_keras_state_across_reruns()
            _configured = True
    return tf
