"""``planner bench``: the full pipeline on a county, with wall time and peak memory per stage.

A benchmark, not a test: it reports, it asserts nothing. Stages are those of
``planner.pipeline.make_plan`` plus loading, the independent rule check and writing the plan
folder (to a temporary folder, removed afterwards). Peak memory is the process's maximum
resident set size (``getrusage``), read after each stage, so a stage's figure is the peak so far.
Quality comes with speed: visits against the contract's lower bound and baseline, and the
mandatory tasks left out.
"""

from __future__ import annotations

import datetime as dt
import platform
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from planner.checker import check_plan
from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.outputs import write_tables
from planner.pipeline import make_plan, write_plan
from planner.scenario import Scenario, load_scenario
from planner.whatif import apply_staff_scaling
from planner.workdays import work_calendar

#: generated counties, by demo profile: (profile, seed)
GENERATED = {"tiny": ("tiny", 2026), "county": ("county", 2026), "city": ("city", 2026)}


@dataclass
class StageFigure:
    """One stage: wall seconds and the process's peak resident memory after it (MB)."""

    stage: str
    seconds: float
    peak_mb: float


@dataclass
class BenchResult:
    """What one benchmark run measured."""

    name: str
    enterprises: int
    tasks: int
    stages: list[StageFigure] = field(default_factory=list)
    quality: dict[str, float | int] = field(default_factory=dict)
    machine: dict[str, str | int] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return round(sum(s.seconds for s in self.stages), 3)

    @property
    def peak_mb(self) -> float:
        return max((s.peak_mb for s in self.stages), default=0.0)

    def as_dict(self) -> dict:
        return {"name": self.name, "enterprises": self.enterprises, "tasks": self.tasks,
                "total_seconds": self.total_seconds, "peak_mb": self.peak_mb,
                "stages": [vars(s) for s in self.stages], "quality": self.quality, "machine": self.machine}  # fmt: skip


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


def machine() -> dict[str, str | int]:
    """What the figures were measured on."""
    import os

    from ortools import __version__ as ortools_version

    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count() or 0,
            "processor": platform.processor() or platform.machine(), "ortools": ortools_version,
            "date": dt.date.today().isoformat()}  # fmt: skip


def generated_scenario(profile: str, folder: Path) -> Scenario:
    """A generated county written to ``folder/data`` and a calendar-year-2026 scenario file for it."""
    name, seed = GENERATED[profile]
    (folder / "data").mkdir(parents=True)
    write_tables(generate_dataset(name, seed), folder / "data", ".parquet")
    path = folder / "generated.toml"
    path.write_text(f'name = "generated {profile} county"\ndataset = "data"\nseed = {seed}\n'
                    "[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n", encoding="utf-8")  # fmt: skip
    return load_scenario(path)


def run_bench(scenario: Scenario | Path, name: str | None = None) -> BenchResult:
    """Load, plan, check and write the scenario once, timing every stage."""
    figures: list[StageFigure] = []
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        figures.append(StageFigure(stage, round(now - clock, 3), peak_rss_mb()))
        clock = now

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    lap("load")
    plan = make_plan(dataset, scenario, calendar)
    clock = time.perf_counter()
    figures += [StageFigure(stage, seconds, figures[-1].peak_mb) for stage, seconds in plan.timings.items()]
    figures[-1].peak_mb = peak_rss_mb()  # the planning stages share one reading: the peak after them
    broken = check_plan(plan.tables, apply_staff_scaling(dataset, scenario), scenario, set(calendar.workdays),
                        plan.draw.draws)  # fmt: skip
    lap("check")
    with tempfile.TemporaryDirectory() as folder:
        write_plan(plan, Path(folder) / "plan", dataset, scenario, dt.datetime.now().astimezone())
        lap("write")
    k = plan.kpis
    quality = {key: k[key] for key in ("visits", "lower_bound_visits", "baseline_visits", "scheduled", "unscheduled",
                                       "unscheduled_mandatory", "joint_visit_rate", "inspector_hours")}  # fmt: skip
    quality["visits_over_lower_bound"] = round(k["visits"] / k["lower_bound_visits"] - 1, 5) if k["lower_bound_visits"] else 0.0
    quality["rules_broken"] = len(broken)
    return BenchResult(name or scenario.name, len(dataset.enterprises), k["tasks"], figures, quality, machine())
