"""TensorFlow, configured once per process with the host's thread limit."""

from __future__ import annotations

import logging
import os
import threading
from types import ModuleType

from cnnviz.keras_guard import keep_keras_state_across_reruns
from cnnviz.settings import get_settings

__all__ = ["configure_tensorflow", "import_tensorflow_in_background"]

_lock = threading.Lock()
_configured = False
_importing: threading.Thread | None = None


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
    module: ModuleType = tf
    return module


def _import_keras() -> None:
    try:
        configure_tensorflow()
        import keras  # noqa: F401  (the import is the point)
    except Exception as error:  # the page that needs TensorFlow then says what is wrong
        logging.getLogger(__name__).warning("loading TensorFlow in the background failed: %s",
                                            error)


def import_tensorflow_in_background() -> None:
    """Once per process: import TensorFlow on a thread, ahead of a page that will need it
    (a finished training is rebuilt here; feature maps run here)."""
    global _importing
    with _lock:
        if _importing is not None or _configured:
            return
        _importing = threading.Thread(target=_import_keras, name="cnnviz-import-tf",
                                      daemon=True)
    _importing.start()
