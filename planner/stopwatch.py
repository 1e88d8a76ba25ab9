"""Wall seconds per stage, for kpis.json, bench and the engine's part results."""

from __future__ import annotations

import time


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
