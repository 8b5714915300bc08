"""The timing loop the bench scripts share."""

from __future__ import annotations

import time
from collections.abc import Callable


def run_times(repeats: int, action: Callable[[], object]) -> list[float]:
    """Seconds taken by each of `repeats` calls of `action`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times
