"""The solver-ready instance: every task to place, with the working days it may be done on.

A task may be done on an official working day inside its window ∩ the horizon; random and
campaign tasks only after the enterprise's observation period (观察期); capped tasks (every kind
but triggered and followup) never on quiet days. Days are indices into the horizon's working
days, so a window is a contiguous range ``[first_day, last_day]`` and quiet days are holes in it.
A task with no such day is unscheduled before any optimisation, with the reason in words.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.rules.appointments import appointment_tasks
from planner.rules.caps import is_capped
from planner.rules.observation import earliest_start, observation_until
from planner.rules.offsite import OFFSITE, ONSITE, task_modes
from planner.rules.overrides import OverrideFacts, excluded_days_reason
from planner.rules.quiet_days import ALL_QUIET_REASON, quiet_mask
from planner.rules.tasks import TASK_COLUMNS, is_mandatory
from planner.rules.windows import day_ranges, feasible_days, no_day_reason

if TYPE_CHECKING:
    from planner.dataset import Dataset
    from planner.scenario import Scenario
    from planner.workdays import WorkCalendar


@dataclass(frozen=True)
class TaskTable:
    """The instance's tasks as columns: one numpy array per field, departments as integer codes.

    Visit groups hold row numbers into it (``merge.VisitGroup.rows``), so the merge and the
    scheduler make no Python object per task; the string columns are the frame's own arrays."""

    task_id: np.ndarray
    uscc: np.ndarray
    dept_id: np.ndarray
    kind: np.ndarray
    item: np.ndarray
    dept: np.ndarray  # code into dept_names (sorted, so the codes sort as the names)
    dept_names: tuple[str, ...]
    first_day: np.ndarray  # −1: no feasible day
    last_day: np.ndarray
    duration_min: np.ndarray
    min_inspectors: np.ndarray
    priority: np.ndarray
    mandatory: np.ndarray
    capped: np.ndarray
    delegable: np.ndarray
    held: np.ndarray  # an override (人工研判修正) shapes the task's visit: never taken apart

    @classmethod
    def from_frame(cls, tasks: pd.DataFrame) -> TaskTable:
        codes, names = pd.factorize(tasks["dept_id"], sort=True)
        column = {c: tasks[c].to_numpy() for c in ("task_id", "uscc", "dept_id", "kind", "item")}
        number = {
            c: tasks[c].to_numpy(dtype=np.int64)
            for c in ("first_day", "last_day", "duration_min", "min_inspectors", "priority")
        }
        flag = {c: tasks[c].to_numpy(dtype=bool) for c in ("mandatory", "capped", "delegable")}
        flag["held"] = tasks["held"].to_numpy(dtype=bool) if "held" in tasks else np.zeros(len(tasks), dtype=bool)
        return cls(**column, **number, **flag, dept=codes.astype(np.int32), dept_names=tuple(names))


@dataclass(frozen=True)
class Instance:
    """Tasks with their feasible working days, ready for the model."""

    workdays: tuple[dt.date, ...]
    quiet: np.ndarray  # bool per working day: capped visits barred
    tasks: pd.DataFrame  # TASK_COLUMNS + mandatory, capped, first_day, last_day (−1 when none)
    unplaceable: pd.DataFrame  # task_id, reason: tasks with no feasible day at all
    overrides: OverrideFacts | None = None  # 人工研判修正, applied by ``with_overrides``

    @cached_property
    def years(self) -> np.ndarray:
        """Calendar year of each working day."""
        return np.array([d.year for d in self.workdays])

    @cached_property
    def table(self) -> TaskTable:
        """The tasks as columns; row n is ``tasks.iloc[n]``."""
        return TaskTable.from_frame(self.tasks)

    def onsite(self) -> Instance:
        """The instance of the tasks done on site (the merge and the crews see only these); the
        same instance when no task is off site."""
        offsite = self.tasks["mode"].eq(OFFSITE).to_numpy()
        if not offsite.any():
            return self
        keep = self.tasks.loc[~offsite, "task_id"]
        return dataclasses.replace(
            self,
            tasks=self.tasks[~offsite].reset_index(drop=True),
            unplaceable=self.unplaceable[self.unplaceable["task_id"].isin(keep)].reset_index(drop=True),
        )

    def feasible_days(self, row: int) -> np.ndarray:
        """Working-day indices on which the task of row ``row`` may be done: with overrides, not
        on a day excluded for its enterprise, and only on days common to the tasks held with it."""
        if self.overrides is not None and row in self._narrowed:
            return self._narrowed[row]
        return self._own_days(row)

    def _own_days(self, row: int) -> np.ndarray:
        table = self.table
        days = feasible_days(table.first_day[row], table.last_day[row], table.capped[row], self.quiet)
        if self.overrides is not None and table.uscc[row] in self.overrides.excluded:
            days = days[~np.isin(days, sorted(self.overrides.excluded[table.uscc[row]]))]
        return days

    @cached_property
    def _narrowed(self) -> dict[int, np.ndarray]:
        """The rows an override narrows (exclusions, held pairs), with their days."""
        facts, table = self.overrides, self.table
        row_of = {t: n for n, t in enumerate(table.task_id.tolist())}
        rows = {n for n, u in enumerate(table.uscc.tolist()) if u in facts.excluded}
        out = {r: self._own_days(r) for r in rows}
        for task_id, partners in facts.partners.items():
            if task_id not in row_of:
                continue
            common = self._own_days(row_of[task_id])
            for other in partners:
                if other in row_of:
                    common = np.intersect1d(common, self._own_days(row_of[other]), assume_unique=True)
            out[row_of[task_id]] = common
        return out

    def held_apart(self, rows: list[int]) -> bool:
        """Whether an override holds tasks of ``rows`` together (a visit not to be taken apart)."""
        return self.overrides is not None and bool(self.table.held[rows].any())


def all_tasks(dataset: Dataset, random_tasks: pd.DataFrame) -> pd.DataFrame:
    """The demands, the drawn random tasks and the appointments' tasks (``rules.appointments``)
    in one frame, sorted by task_id; ``appointment_id`` names an appointment task's appointment
    (None for the others; not a column of tasks.parquet)."""
    demands = dataset.demands.reset_index(drop=True).assign(plan_id=None)
    if "mode" not in demands:
        demands = demands.assign(mode=ONSITE)
    random_tasks = random_tasks.assign(mode=ONSITE)  # made off site by the scenario's [offsite] kinds/items only
    # an appointment is a visit the enterprise asked for: on site, whatever [offsite] lists
    appointments = appointment_tasks(dataset.appointments).assign(mode=ONSITE)
    parts = [
        frame[[*TASK_COLUMNS, "appointment_id"]] if "appointment_id" in frame else frame[TASK_COLUMNS]
        for frame in (demands, random_tasks, appointments)
        if len(frame)
    ]
    tasks = pd.concat(parts, ignore_index=True) if parts else demands[TASK_COLUMNS]
    tasks["appointment_id"] = tasks["appointment_id"] if "appointment_id" in tasks else None
    tasks["appointment_id"] = tasks["appointment_id"].astype(object).where(tasks["appointment_id"].notna(), None)
    for column in ("window_start", "window_end"):  # an empty part must not turn dates into objects
        tasks[column] = pd.to_datetime(tasks[column])
    return tasks.sort_values("task_id", kind="stable").reset_index(drop=True)


def build_instance(
    dataset: Dataset, random_tasks: pd.DataFrame, scenario: Scenario, calendar: WorkCalendar
) -> Instance:
    """Every task's feasible working days under the window, working-day, observation and
    quiet-day rules (``planner.rules``); a task with none is unplaceable, with the reason."""
    tasks = all_tasks(dataset, random_tasks)
    tasks["mode"] = task_modes(tasks, scenario.offsite.items, scenario.offsite.kinds)
    tasks.loc[tasks["kind"] == "appointment", "mode"] = ONSITE  # asked for on site
    workdays = pd.DatetimeIndex(pd.to_datetime(list(calendar.workdays)))
    quiet = quiet_mask(scenario.quiet_days, calendar.workdays)
    until = observation_until(tasks, dataset.enterprises)
    horizon_start, horizon_end = pd.Timestamp(scenario.horizon.start), pd.Timestamp(scenario.horizon.end)
    start = earliest_start(tasks["window_start"].where(tasks["window_start"] > horizon_start, horizon_start), until)
    first, last = day_ranges(start, tasks["window_end"], horizon_start, horizon_end, workdays)
    tasks = tasks.assign(
        mandatory=is_mandatory(tasks["kind"]), capped=is_capped(tasks["kind"]), first_day=first, last_day=last
    )
    reasons = {}
    for row in tasks[first > last].itertuples():
        reasons[row.task_id] = no_day_reason(
            row.window_start, row.window_end, horizon_start, horizon_end, until[row.Index]
        )
    for row in tasks[(first <= last) & tasks["capped"]].itertuples():
        if not len(feasible_days(row.first_day, row.last_day, True, quiet)):
            reasons[row.task_id] = ALL_QUIET_REASON
    tasks.loc[tasks["task_id"].isin(reasons), ["first_day", "last_day"]] = -1
    unplaceable = pd.DataFrame({"task_id": list(reasons), "reason": list(reasons.values())})
    return Instance(tuple(calendar.workdays), quiet, tasks, unplaceable.sort_values("task_id", ignore_index=True))


def with_overrides(instance: Instance, facts: OverrideFacts) -> Instance:
    """The instance with the officials' overrides (人工研判修正, already found consistent): a
    pinned task's window narrowed to its day, an enterprise's excluded days and a held pair's
    common days taken into ``feasible_days``. A task the exclusions leave no day is
    unplaceable, its reason naming the overrides. Tasks held with another, and those at an
    enterprise with an excluded day, are ``held``: the scheduler, which sees the task table and
    not the instance, does not take their visits apart."""
    tasks = instance.tasks.copy()
    pinned = tasks["task_id"].map(facts.pinned)
    has_pin = pinned.notna() & (tasks["first_day"] >= 0)
    tasks.loc[has_pin, "first_day"] = pinned[has_pin].astype(np.int64)
    tasks.loc[has_pin, "last_day"] = pinned[has_pin].astype(np.int64)
    excluded_firm = tasks["uscc"].isin(facts.excluded)
    tasks["held"] = tasks["task_id"].isin(facts.held) | excluded_firm
    narrowed = Instance(instance.workdays, instance.quiet, tasks, instance.unplaceable, facts)
    reasons = dict(zip(instance.unplaceable["task_id"], instance.unplaceable["reason"]))
    lost = [
        row
        for row in np.flatnonzero(((tasks["first_day"] >= 0) & tasks["held"]).to_numpy()).tolist()
        if not len(narrowed.feasible_days(row))
    ]
    if not lost:
        return narrowed
    for row in lost:
        task_id = tasks["task_id"].iat[row]
        ids = facts.restricting.get(task_id) or facts.ids_of_firm.get(tasks["uscc"].iat[row], ())
        reasons[task_id] = excluded_days_reason(ids)
    tasks.loc[tasks.index[lost], ["first_day", "last_day"]] = -1
    unplaceable = pd.DataFrame({"task_id": list(reasons), "reason": list(reasons.values())})
    return Instance(
        instance.workdays, instance.quiet, tasks, unplaceable.sort_values("task_id", ignore_index=True), facts
    )


def min_stabbing(first: np.ndarray, last: np.ndarray) -> int:
    """Fewest days that hit every interval [first, last] (inclusive day indices).

    Greedy by earliest end is exact for intervals: take the first interval's last day, skip
    every interval it hits, repeat.
    """
    order = np.argsort(last, kind="stable")
    count, stab = 0, -1
    for i in order:
        if first[i] > stab:
            stab = last[i]
            count += 1
    return count


def stabbing_bound(tasks: pd.DataFrame, by: list[str]) -> int:
    """Σ over groups of ``by`` of the fewest days hitting every task's [first_day, last_day]."""
    return int(stabbing_counts(tasks, by).sum())


def stabbing_counts(tasks: pd.DataFrame, by: list[str]) -> pd.Series:
    """Per group of ``by`` (a Series indexed by the key), the fewest days hitting every task's
    [first_day, last_day].

    ``min_stabbing`` per group in one pass over arrays sorted by (group, last day, row), not a
    DataFrame per group (a tenth of the city's run); rows with a missing key count in no group.
    """
    placeable = tasks[tasks["first_day"] >= 0]
    group, keep = np.zeros(len(placeable), dtype=np.int64), np.ones(len(placeable), dtype=bool)
    for column in by:
        codes, uniques = pd.factorize(placeable[column])  # −1: missing, no group (as groupby)
        group, keep = group * max(len(uniques), 1) + codes, keep & (codes >= 0)
    first, last = placeable["first_day"].to_numpy()[keep], placeable["last_day"].to_numpy()[keep]
    group, rows = group[keep], np.flatnonzero(keep)
    order = np.lexsort((np.arange(len(group)), last, group))  # ties by row, as min_stabbing's stable sort
    counts: dict[int, int] = {}
    first_row: dict[int, int] = {}
    current, stab = None, -1
    for g, f, t, r in zip(group[order].tolist(), first[order].tolist(), last[order].tolist(), rows[order].tolist()):
        if g != current:
            current, stab = g, -1
            counts[g], first_row[g] = 0, r
        if f > stab:
            stab = t
            counts[g] += 1
    keys = placeable.iloc[[first_row[g] for g in counts]][by]
    index = pd.MultiIndex.from_frame(keys) if len(by) > 1 else pd.Index(keys[by[0]])
    return pd.Series(list(counts.values()), index=index, dtype=np.int64)


def lower_bound_visits(scheduled: pd.DataFrame) -> int:
    """Contract KPI: per enterprise, the fewest working days hitting every scheduled task's window."""
    return stabbing_bound(scheduled, ["uscc"])


def baseline_visits(scheduled: pd.DataFrame) -> int:
    """Contract KPI: the same per (department, enterprise) — every department planning alone."""
    return stabbing_bound(scheduled, ["dept_id", "uscc"])
