"""Shared helpers of the benchmarks: timing, peak memory, machine and results table."""

from __future__ import annotations

import os
import platform
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (GiB), from getrusage."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def machine() -> str:
    """Cores and memory of this machine."""
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    py = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{os.cpu_count()} cores, {mem:.0f} GiB, {py}"


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """Measure wall time into ``result["seconds"]``."""
    result: dict[str, float] = {}
    start = time.perf_counter()
    yield result
    result["seconds"] = time.perf_counter() - start


def append_section(path: Path, title: str, body: str) -> None:
    """Replace (or add) the section ``## title`` of ``path``, leaving other sections as they are."""
    text = path.read_text("utf-8") if path.exists() else "# Benchmark results\n"
    head = f"## {title}\n"
    if head in text:
        start = text.index(head)
        nxt = text.find("\n## ", start + len(head))
        text = text[:start] + text[nxt + 1 :] if nxt != -1 else text[:start]
    path.write_text(text.rstrip() + "\n\n" + head + body.rstrip() + "\n", encoding="utf-8")
