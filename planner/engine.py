"""Independent parts of a big plan — the counties of a province — solved in parallel.

Counties share no inspector, enterprise or capacity, so a province is as many separate plans
as it has counties. They run behind the standard ``concurrent.futures.Executor`` interface:

* ``local`` (default): a ``ProcessPoolExecutor`` on this machine, one county per core;
* ``dask``: Dask distributed's ``client.get_executor()`` — a cluster at ``address``
  (``tcp://scheduler:8786``), or a ``LocalCluster`` of single-threaded worker processes when no
  address is given. Needs the optional extra: ``pip install 'planner[dask]'``, and the project
  installed on every worker.

A task receives plain data (a ``Part``: the scenario file and the dataset folder, as paths the
worker can read) and builds everything — dataset, calendar, CP-SAT models — inside the worker,
because CP-SAT objects do not pickle; it returns plain values (``PartResult``: the plan tables
as pandas frames, the KPIs as a dict). CP-SAT runs one search worker per model
(``[solver] workers``, default 1, as ``merge.best_capped_visits`` sets it), so one part per core does not
oversubscribe the cores. A part is planned exactly as ``planner plan`` plans it — same seed, same
tables — on whichever executor, and ``PartResult.digest`` lets a caller check that cheaply.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

#: the plan's tables, in a fixed order (the digest depends on it)
TABLE_NAMES = ("tasks", "visits", "visit_tasks", "crews", "routes", "unscheduled", "draws")
ENGINES = ("local", "dask")


@dataclass(frozen=True)
class Part:
    """One independent part: a scenario file and, optionally, the dataset folder it plans
    (default: the scenario's own ``dataset``). Paths must be readable where the task runs."""

    name: str
    scenario: Path
    dataset: Path | None = None


@dataclass
class PartResult:
    """What planning one part gave, as plain values.

    ``timings`` are wall seconds per stage (load, the pipeline's stages, check and, when the
    plan folder was written, write); ``peak_mb`` is the worker process's peak resident memory
    so far (a reused worker reports the largest part it has planned); ``digest`` is the SHA-256
    of the tables and KPIs (no timings), equal whenever the plan is. ``error`` is set, and
    everything else empty, when the part could not be planned (bad input, a crashed worker).
    """

    name: str
    enterprises: int = 0
    kpis: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    rules_broken: list[str] = field(default_factory=list)
    digest: str = ""
    tables: dict[str, pd.DataFrame] | None = None
    peak_mb: float = 0.0
    worker: str = ""
    error: str | None = None

    @property
    def seconds(self) -> float:
        return round(sum(self.timings.values()), 3)

    def summary(self) -> dict:
        """The result without its tables, JSON-ready."""
        return {
            "name": self.name,
            "enterprises": self.enterprises,
            "error": self.error,
            "seconds": self.seconds,
            "timings": self.timings,
            "peak_mb": self.peak_mb,
            "worker": self.worker,
            "digest": self.digest,
            "rules_broken": len(self.rules_broken),
            "kpis": self.kpis,
        }


def plan_digest(tables: dict[str, pd.DataFrame], kpis: dict) -> str:
    """SHA-256 of the plan's tables (as CSV, in ``TABLE_NAMES`` order) and its KPIs without timings."""
    digest = hashlib.sha256()
    for name in TABLE_NAMES:
        digest.update(name.encode())
        digest.update(tables[name].to_csv(index=False, lineterminator="\n").encode())
    stable = {k: v for k, v in kpis.items() if k != "timings"}
    digest.update(json.dumps(stable, sort_keys=True, ensure_ascii=False, default=str).encode())
    return digest.hexdigest()


def solve_part(part: Part, keep_tables: bool = True, out_dir: str | None = None) -> PartResult:
    """Plan one part from its files (a checked plan), optionally write the plan folder
    (``out_dir``, which must not exist yet); runs inside a worker, so it imports there."""
    from planner.dataset import load_dataset
    from planner.pipeline import make_plan, write_plan
    from planner.problems import InputError
    from planner.scenario import load_scenario
    from planner.stopwatch import Stopwatch, peak_rss_mb
    from planner.whatif import apply_inputs
    from planner.workdays import work_calendar

    worker = f"{socket.gethostname()}:{os.getpid()}"
    watch = Stopwatch()
    try:
        scenario = load_scenario(part.scenario)
        if part.dataset is not None:
            scenario = scenario.model_copy(update={"dataset": Path(part.dataset)})
        dataset = apply_inputs(load_dataset(scenario.dataset), scenario)  # the scenario's extra inputs and ratios
        calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
        watch.lap("load")
        plan = make_plan(dataset, scenario, calendar)
    except InputError as error:  # bad input is this part's result, as `planner plan` would report it
        return PartResult(part.name, worker=worker, error="; ".join(str(p) for p in error.errors) or str(error))
    watch.timings |= plan.timings  # the check included: make_plan gives a checked plan
    watch.restart()
    broken = plan.broken
    if out_dir is not None:
        write_plan(plan, Path(out_dir), dataset, scenario, dt.datetime.now().astimezone())
        watch.lap("write")
    tables = {name: getattr(plan.tables, name) for name in TABLE_NAMES if name != "draws"} | {"draws": plan.draw.draws}
    kpis = {k: v for k, v in plan.kpis.items() if k != "timings"}
    return PartResult(
        part.name,
        len(dataset.enterprises),
        kpis,
        watch.timings,
        broken,
        plan_digest(tables, plan.kpis),
        tables if keep_tables else None,
        peak_rss_mb(),
        worker,
    )


def plan_province(
    parts: Sequence[Part],
    executor: Executor | None = None,
    *,
    keep_tables: bool = True,
    out_root: Path | None = None,
    progress: Callable[[PartResult], None] | None = None,
) -> list[PartResult]:
    """Plan every part, on ``executor`` (None: one by one in this process); results in the
    order of ``parts``. ``out_root/<part name>`` receives each part's plan folder when given
    (on a cluster it must be a shared file system). ``progress`` hears each result as it
    arrives. A part that fails is a result with ``error`` set; the others go on."""
    names = [p.name for p in parts]
    if len(set(names)) != len(names):
        raise ValueError("part names must be unique")

    def out_dir(part: Part) -> str | None:
        return None if out_root is None else str(Path(out_root) / part.name)

    results: list[PartResult | None] = [None] * len(parts)
    if executor is None:
        for index, part in enumerate(parts):
            results[index] = solve_part(part, keep_tables, out_dir(part))
            if progress is not None:
                progress(results[index])
        return results  # type: ignore[return-value]
    futures = {executor.submit(solve_part, part, keep_tables, out_dir(part)): index for index, part in enumerate(parts)}
    for future in as_completed(futures):
        index = futures[future]
        error = future.exception()  # a worker that died, or a bug: this part's result, not the province's end
        if error is None:
            result = future.result()
        else:
            result = PartResult(parts[index].name, error=f"{type(error).__name__}: {error}")
        results[index] = result
        if progress is not None:
            progress(result)
    return results  # type: ignore[return-value]


@contextlib.contextmanager
def open_executor(
    engine: str = "local", address: str | None = None, max_workers: int | None = None
) -> Iterator[Executor]:
    """An executor for ``plan_province``, closed on exit.

    ``local``: a process pool of ``max_workers`` processes (default: the machine's cores),
    started by ``spawn`` (no state inherited from this process). ``dask``: a client of the
    scheduler at ``address``; without one, a ``LocalCluster`` of ``max_workers`` single-threaded
    worker processes on this machine.
    """
    if engine == "local":
        if address is not None:
            raise ValueError("--address is for --engine dask")
        with ProcessPoolExecutor(max_workers or os.cpu_count(), mp_context=get_context("spawn")) as pool:
            yield pool
        return
    if engine != "dask":
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise RuntimeError("the dask engine needs Dask distributed: pip install 'planner[dask]'") from None
    with contextlib.ExitStack() as stack:
        if address is None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=max_workers or os.cpu_count(),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            client = stack.enter_context(Client(address))
        yield client.get_executor(pure=False)
