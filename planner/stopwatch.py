"""Wall seconds per stage and peak memory, for kpis.json, bench and the engine's part results."""

from __future__ import annotations

import bisect
import os
import resource
import sys
import threading
import time


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def current_rss_mb() -> float | None:
    """The process's resident set size now, in MB (Linux: /proc/self/statm); None elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


class MemoryWatch:
    """Resident memory over time: a thread reads it every ``interval`` seconds, and
    ``most(since, until)`` gives the most it was between two ``time.perf_counter()`` readings
    (None where the system does not say). The process's peak so far (``peak_rss_mb``) cannot
    tell which stage held the memory; this can."""

    def __init__(self, interval: float = 0.05) -> None:
        self._interval = interval
        self._times: list[float] = []
        self._mb: list[float] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-watch", daemon=True)

    def __enter__(self) -> MemoryWatch:
        self.read()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.read()

    def read(self) -> None:
        """Read the resident memory now (the thread does so every ``interval``)."""
        now, mb = time.perf_counter(), current_rss_mb()
        if mb is not None:
            with self._lock:
                self._times.append(now)
                self._mb.append(mb)

    def most(self, since: float, until: float) -> float | None:
        """The most resident memory (MB) from ``since`` to ``until``: the readings between them
        and the nearest reading on either side (a stage shorter than ``interval`` still has one)."""
        with self._lock:
            start = max(bisect.bisect_left(self._times, since) - 1, 0)
            end = bisect.bisect_right(self._times, until) + 1
            return max(self._mb[start:end], default=None)


class Stopwatch:
    """``lap(stage)`` ends a stage: its seconds since the previous lap (or the start) go in
    ``timings``, in the order the stages end."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._since = time.perf_counter()

    def lap(self, stage: str) -> float:
        now = time.perf_counter()
        self.timings[stage] = round(now - self._since, 3)
        self._since = now
        return self.timings[stage]

    def restart(self) -> None:
        """Start the next stage now (time spent in between belongs to no stage)."""
        self._since = time.perf_counter()
