"""``planner bench``: the full pipeline on a county, with wall time and peak memory per stage.

A benchmark, not a test: it reports, it asserts nothing. Stages are those of
``planner.pipeline.make_plan`` plus loading, the independent rule check and writing the plan
folder (to a temporary folder, removed afterwards). Peak memory is the process's maximum
resident set size (``getrusage``), read after each stage, so a stage's figure is the peak so far;
beside it, where the system says (Linux), the most resident memory while the stage ran (a thread
reads it every 50 ms: ``stopwatch.MemoryWatch``), which tells the stage that holds the memory.
Quality comes with speed: visits against the contract's lower bound and baseline, and the
mandatory tasks left out.

The scale suite (issue 6, ``benchmarks/``): generated counties of 1 k, 5 k (the sample county),
20 k and 100 k enterprises (``SUITE``), each with slack, normal or tight capacity
(``CAPACITY``), run in a fresh process each (``run_isolated``) so that a run's peak memory is
its own; ``growth_exponent`` fits time against enterprises on a log-log scale. A province is
N generated counties (different seeds) planned in parallel by ``planner.engine``
(``province_parts``, ``run_province``).

Issue 14's hard profiles (``HARD``: park, q4, tight, short, leave) carry their own scenario keys
(``planner.demo.ScenarioKeys``: quiet days, planned_share, a staff scale); a generated scenario
uses them, and a capacity variant's keys go on top.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import platform
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from planner.demo import PROFILES, generate_dataset, scenario_text
from planner.outputs import write_tables
from planner.pipeline import make_plan, write_plan
from planner.scenario import Scenario, load_scenario
from planner.stopwatch import MemoryWatch, peak_rss_mb
from planner.whatif import load_scenario_dataset
from planner.workdays import work_calendar

#: generated counties, by demo profile: (profile, seed)
GENERATED = {
    p: (p, 2026) for p in ("tiny", "county", "city", "1k", "20k", "100k", "park", "q4", "tight", "short", "leave")
}
#: issue 14's hard profiles: uneven work and short staff, each planned with its own scenario keys
HARD = ("park", "q4", "tight", "short", "leave")
#: the scale suite's sizes, smallest first: 1 k, 5 k (the sample county), 20 k, 100 k enterprises
SUITE = ("1k", "county", "20k", "100k")
#: capacity variants of a generated scenario, as scenario keys: ``normal`` is the scenario as
#: generated (planned_share 0.2: demands use at most about 45 % of the planned hours), ``slack``
#: plans 2.5 times as many days per inspector, ``tight`` keeps 60 % of the certified inspectors
CAPACITY: dict[str, dict] = {"normal": {}, "slack": {"planned_share": 0.5}, "tight": {"staff": {"scale": 0.6}}}


@dataclass
class StageFigure:
    """One stage: wall seconds, the process's peak resident memory after it (MB: the peak so
    far) and the most resident memory while the stage ran (``stage_peak_mb``: which stage holds
    the memory; None where the system does not say)."""

    stage: str
    seconds: float
    peak_mb: float
    stage_peak_mb: float | None = None


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
        return {
            "name": self.name,
            "enterprises": self.enterprises,
            "tasks": self.tasks,
            "total_seconds": self.total_seconds,
            "peak_mb": self.peak_mb,
            "stages": [vars(s) for s in self.stages],
            "quality": self.quality,
            "machine": self.machine,
        }


def machine() -> dict[str, str | int]:
    """What the figures were measured on."""
    import os

    from ortools import __version__ as ortools_version

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count() or 0,
        "processor": platform.processor() or platform.machine(),
        "ortools": ortools_version,
        "date": dt.date.today().isoformat(),
    }


def write_generated(profile: str, folder: Path, seed: int | None = None) -> Path:
    """A generated dataset written to ``folder`` (Parquet); returns the folder."""
    name, default_seed = GENERATED[profile]
    folder.mkdir(parents=True)
    write_tables(generate_dataset(name, default_seed if seed is None else seed), folder, ".parquet")
    return folder


def scenario_keys(profile: str | None, capacity: str = "normal") -> dict:
    """The scenario keys of a generated run: the profile's own (``DemoProfile.scenario``), then the
    ``CAPACITY`` variant's on top (a table such as ``[staff]`` merged key by key)."""
    keys = PROFILES[profile].scenario.as_keys() if profile is not None else {}
    for key, value in CAPACITY[capacity].items():
        keys[key] = {**keys.get(key, {}), **value} if isinstance(value, dict) else value
    return keys


def write_scenario(
    path: Path, dataset: Path, name: str, seed: int, capacity: str = "normal", profile: str | None = None
) -> Path:
    """A calendar-year-2026 scenario file for ``dataset`` with the profile's scenario keys and one
    of the ``CAPACITY`` variants (and an hour for the exact models, so that their wall-time
    limit never decides the plan)."""
    dataset_text = os.path.relpath(dataset, path.parent).replace(os.sep, "/")
    # the exact models' wall-time budget (60 s by default) must not bind: at 100 k enterprises the
    # merge takes about that long, and a plan that depends on the machine's load measures nothing
    text = scenario_text(
        name, dataset_text, seed, scenario_keys(profile, capacity), tables={"solver": {"time_limit_s": 3600}}
    )
    path.write_text(text, encoding="utf-8")
    return path


def generated_scenario(profile: str, folder: Path, capacity: str = "normal") -> Scenario:
    """A generated county written to ``folder/data`` and a calendar-year-2026 scenario file for it."""
    seed = GENERATED[profile][1]
    data = write_generated(profile, folder / "data")
    suffix = "" if capacity == "normal" else f", {capacity} capacity"
    return load_scenario(
        write_scenario(folder / "generated.toml", data, f"generated {profile} county{suffix}", seed, capacity, profile)
    )


def run_bench(
    scenario: Scenario | Path, name: str | None = None, progress: Callable[[str], None] | None = None
) -> BenchResult:
    """Load, plan, check and write the scenario once, timing every stage; ``progress`` hears a
    line after each stage (those of ``make_plan`` included)."""
    with MemoryWatch() as memory:
        return _run_bench(scenario, name, progress, memory)


def _run_bench(
    scenario: Scenario | Path, name: str | None, progress: Callable[[str], None] | None, memory: MemoryWatch
) -> BenchResult:
    figures: list[StageFigure] = []
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        memory.read()
        now = time.perf_counter()
        figures.append(StageFigure(stage, round(now - clock, 3), peak_rss_mb(), memory.most(clock, now)))
        clock = now
        if progress is not None:
            progress(stage)

    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    dataset = load_scenario_dataset(scenario)  # with the scenario's extra inputs and ratios
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    lap("load")
    plan = make_plan(dataset, scenario, calendar, progress)
    memory.read()
    # make_plan's stages follow one another from its start: each one's window of the memory read
    for stage, seconds in plan.timings.items():
        figures.append(StageFigure(stage, seconds, figures[-1].peak_mb, memory.most(clock, clock + seconds)))
        clock += seconds
    clock = time.perf_counter()
    figures[-1].peak_mb = peak_rss_mb()  # the planning stages share one reading: the peak after them
    broken = plan.broken  # make_plan checked every hard rule (its "check" stage)
    with tempfile.TemporaryDirectory() as folder:
        write_plan(plan, Path(folder) / "plan", dataset, scenario, dt.datetime.now().astimezone())
        lap("write")
    k = plan.kpis
    quality = {
        key: k[key]
        for key in (
            "visits",
            "lower_bound_visits",
            "rule_bound_visits",
            "baseline_visits",
            "scheduled",
            "unscheduled",
            "unscheduled_mandatory",
            "joint_inspection_rate",
            "joint_visit_rate",
            "joint_random_rate_strict",
            "inspector_hours",
            "capacity_bound_mandatory",
            "capacity_bound_tasks",
        )
    }
    quality["visits_over_lower_bound"] = (
        round(k["visits"] / k["lower_bound_visits"] - 1, 5) if k["lower_bound_visits"] else 0.0
    )
    quality["visits_over_rule_bound"] = (
        round(k["visits"] / k["rule_bound_visits"] - 1, 5) if k["rule_bound_visits"] else 0.0
    )
    quality["visits_under_baseline"] = round(1 - k["visits"] / k["baseline_visits"], 5) if k["baseline_visits"] else 0.0
    mandatory = int(plan.tables.tasks["kind"].isin(["key", "triggered", "followup"]).sum())
    quality["mandatory_under_capacity_bound"] = k["capacity_bound_mandatory"] - (mandatory - k["unscheduled_mandatory"])
    quality["tasks_of_capacity_bound"] = (
        round(k["scheduled"] / k["capacity_bound_tasks"], 5) if k["capacity_bound_tasks"] else 1.0
    )
    quality["rules_broken"] = len(broken)
    return BenchResult(name or scenario.name, len(dataset.enterprises), k["tasks"], figures, quality, machine())


def run_isolated(scenario_path: Path, name: str | None = None) -> BenchResult:
    """``run_bench`` in a fresh process, so that the peak memory it reports is that run's alone."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(run_bench, Path(scenario_path), name).result()


def growth_exponent(points: Sequence[tuple[float, float]]) -> float:
    """The exponent b of seconds ≈ a · size^b, least squares on log-log over (size, seconds) pairs."""
    if len(points) < 2:
        raise ValueError("a growth exponent needs two sizes or more")
    xs = [math.log(size) for size, _ in points]
    ys = [math.log(seconds) for _, seconds in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return round(sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread, 3)


# --------------------------------------------------------------------------------------------
# A province: independent counties planned in parallel (planner.engine)
# --------------------------------------------------------------------------------------------


def province_parts(
    n_counties: int,
    folder: Path,
    *,
    profile: str = "county",
    first_seed: int = 2026,
    capacity: str = "normal",
    executor: Executor | None = None,
) -> list:
    """N generated counties (seeds first_seed, first_seed + 1, …; the first is the sample county
    when first_seed is 2026), each in ``folder/county-NN`` with its scenario; generated on
    ``executor`` when given, and a county whose data folder exists is reused as it is. Returns
    the ``planner.engine.Part`` of each, in order."""
    from planner.engine import Part

    seeds = [first_seed + i for i in range(n_counties)]
    folders = [folder / f"county-{i + 1:02d}" for i in range(n_counties)]
    missing = [(sub, seed) for sub, seed in zip(folders, seeds) if not (sub / "data").exists()]
    if executor is None:
        for sub, seed in missing:
            write_generated(profile, sub / "data", seed)
    else:
        for future in [executor.submit(write_generated, profile, sub / "data", seed) for sub, seed in missing]:
            future.result()
    return [
        Part(
            sub.name,
            write_scenario(
                sub / "scenario.toml", sub / "data", f"generated {profile} {sub.name}", seed, capacity, profile
            ),
            (sub / "data").resolve(),
        )
        for sub, seed in zip(folders, seeds)
    ]


@dataclass
class ProvinceResult:
    """What one province run measured: the wall time of the whole, the sum of the parts' own
    seconds (what one process would need), the province's totals and every part's summary."""

    engine: str
    workers: int
    counties: int
    wall_seconds: float  # planning only; generate_seconds is the generation (or reuse) before it
    part_seconds: float
    totals: dict[str, int]
    worker_peak_mb: float
    driver_peak_mb: float
    parts: list[dict]
    machine: dict[str, str | int] = field(default_factory=dict)
    generate_seconds: float = 0.0

    def as_dict(self) -> dict:
        return vars(self) | {"speedup": round(self.part_seconds / self.wall_seconds, 2) if self.wall_seconds else 0.0}


def run_province(
    parts: Sequence, executor: Executor | None, engine: str, workers: int, progress: Callable | None = None
) -> tuple[ProvinceResult, list]:
    """Plan every part on ``executor`` (None: one by one here), without keeping the tables;
    returns the figures and the ``planner.engine.PartResult`` list (digests included)."""
    from planner.engine import plan_province

    clock = time.perf_counter()
    results = plan_province(parts, executor, keep_tables=False, progress=progress)
    wall = round(time.perf_counter() - clock, 3)
    totals = {
        key: sum(int(r.kpis.get(key, 0)) for r in results)
        for key in (
            "tasks",
            "scheduled",
            "unscheduled",
            "unscheduled_mandatory",
            "visits",
            "lower_bound_visits",
            "rule_bound_visits",
            "baseline_visits",
        )
    }
    totals["enterprises"] = sum(r.enterprises for r in results)
    totals["rules_broken"] = sum(len(r.rules_broken) for r in results)
    totals["failed_parts"] = sum(r.error is not None for r in results)
    return ProvinceResult(
        engine,
        workers,
        len(parts),
        wall,
        round(sum(r.seconds for r in results), 3),
        totals,
        max((r.peak_mb for r in results), default=0.0),
        peak_rss_mb(),
        [r.summary() for r in results],
        machine(),
    ), results


def bench_province(
    n_counties: int,
    *,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    work: Path | None = None,
    profile: str = "county",
    capacity: str = "normal",
    progress: Callable | None = None,
) -> tuple[ProvinceResult, list]:
    """Generate (or reuse, in ``work``) N counties and plan them on ``engine``: ``local`` (a
    process pool of ``workers``, default the cores), ``dask`` (the scheduler at ``address``, or
    a LocalCluster of ``workers``) or ``serial`` (one by one in this process). ``progress``
    hears each county's ``PartResult``. Returns the figures and the results (no tables)."""
    from planner.engine import ENGINES, open_executor

    if engine not in (*ENGINES, "serial"):
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join((*ENGINES, 'serial'))}")
    with contextlib.ExitStack() as stack:
        folder = work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="planner-province-")))
        executor = None if engine == "serial" else stack.enter_context(open_executor(engine, address, workers))
        clock = time.perf_counter()
        parts = province_parts(n_counties, folder, profile=profile, capacity=capacity, executor=executor)
        generated = round(time.perf_counter() - clock, 3)
        n_workers = 1 if executor is None else workers or os.cpu_count() or 1
        figures, results = run_province(parts, executor, engine, n_workers, progress)
    figures.generate_seconds = generated
    return figures, results
