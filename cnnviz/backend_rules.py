"""What the installed TensorFlow accepts where that depends on its version or on this CPU.

Read without importing TensorFlow: the Build page validates models and never loads it.
"""

from __future__ import annotations

import functools
import os
import platform
from importlib import metadata
from pathlib import Path

__all__ = ["depthwise_takes_unequal_strides", "onednn_enabled", "tensorflow_version"]

# TensorFlow turns its oneDNN kernels on by default on x86-64 CPUs with these features
# (tensorflow/core/util/util.cc, IsMKLEnabled); TF_ENABLE_ONEDNN_OPTS overrides it.
_ONEDNN_DEFAULT_CPU_FLAGS = frozenset(
    {"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"})
# The oldest TensorFlow whose oneDNN depthwise kernel was checked to run unequal strides.
_UNEQUAL_DEPTHWISE_STRIDES_SINCE = (2, 19)


def tensorflow_version() -> tuple[int, int] | None:
    """(major, minor) of the installed TensorFlow, or None where it is not installed."""
    try:
        version = metadata.version("tensorflow")
    except metadata.PackageNotFoundError:
        return None
    major, minor, *_ = version.split(".")
    return int(major), int(minor)


def _cpu_flags() -> frozenset[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def onednn_enabled() -> bool:
    """Whether TensorFlow runs its oneDNN CPU kernels in a process started from here."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    switch = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "").strip().lower()
    if switch in ("0", "false"):
        return False
    if switch in ("1", "true"):
        return True
    return bool(_cpu_flags() & _ONEDNN_DEFAULT_CPU_FLAGS)


@functools.cache
def depthwise_takes_unequal_strides() -> bool:
    """TensorFlow's plain depthwise kernel "only supports equal length strides in the row
    and column dimensions"; its oneDNN kernel runs any strides."""
    version = tensorflow_version()
    return (version is not None and version >= _UNEQUAL_DEPTHWISE_STRIDES_SINCE
            and onednn_enabled())
