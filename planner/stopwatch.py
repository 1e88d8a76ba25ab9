"""Wall seconds per stage and peak memory, for kpis.json, bench and the engine's part results."""

from __future__ import annotations

import resource
import sys
import time


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


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
