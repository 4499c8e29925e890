"""Timing helper shared by the benchmark modules."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["median_time"]


def median_time(function: Callable[[], object], repeats: int = 5) -> float:
    """Return the median wall time in seconds of ``repeats`` calls, after one warm-up call."""
    if repeats < 1:
        raise ValueError(f"`repeats` must be >= 1, got {repeats}")
    function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
