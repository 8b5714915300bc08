"""TensorFlow, configured once per process with the host's thread limit."""

from __future__ import annotations

import logging
import os
import threading
from types import ModuleType

from cnnviz.keras_guard import keep_keras_state_across_reruns
from cnnviz.settings import get_settings

__all__ = ["configure_tensorflow", "warm_up_in_background"]

_lock = threading.Lock()
_configured = False
_warming: threading.Thread | None = None


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


def _warm_up() -> None:
    from cnnviz.training_worker import worker_pool

    try:
        worker_pool().warm()
        configure_tensorflow()
        import keras  # noqa: F401  (the import is the warm-up)
    except Exception as error:  # the first training or feature map then says what is wrong
        logging.getLogger(__name__).warning("cnnviz warm-up failed: %s", error)


def warm_up_in_background() -> None:
    """Once per process: start the training workers and import TensorFlow on a thread.

    A workshop server is started before the room arrives; this way the first training and
    the first feature maps do not wait for TensorFlow to load while everyone is editing.
    """
    global _warming
    with _lock:
        if _warming is not None:
            return
        _warming = threading.Thread(target=_warm_up, name="cnnviz-warm-up", daemon=True)
    _warming.start()
