"""Timing and page-writing helpers shared by the benchmark modules."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

__all__ = ["median_time", "write_generated"]


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


def write_generated(page: Path, name: str, text: str) -> None:
    """Put ``text`` between the page's ``<!-- begin NAME -->`` and ``<!-- end NAME -->`` lines.

    Text outside the markers (analysis written by hand from earlier runs)
    is kept. A page without the markers gets them, with ``text``, at its
    end; a missing page is created. The page is replaced atomically.
    """
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{text.strip()}\n{end}"
    old = page.read_text(encoding="utf-8") if page.is_file() else ""
    if begin in old and end in old and old.index(begin) < old.index(end):
        new = old[: old.index(begin)] + block + old[old.index(end) + len(end):]
    else:
        new = (old.rstrip() + "\n\n" if old.strip() else "") + block + "\n"
    page.parent.mkdir(parents=True, exist_ok=True)
    partial = page.with_name(page.name + ".partial")
    partial.write_text(new, encoding="utf-8")
    partial.replace(page)
