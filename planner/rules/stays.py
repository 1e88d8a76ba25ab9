"""Stays: how long one visit keeps a crew at an enterprise, and one visit a day there.

The planner's own rules (not the law's; the contract allows more), so that a joint visit stays
a visit an enterprise can host:

- ``stay``: a stay lasts at most ``MAX_VISIT_ONSITE_MIN`` on site; a bigger set of checks is
  split into several visits, unless a longer stay — up to the longest working day every
  department can staff, less the road (``long_stay_limits``) — is what keeps a mandatory task;
  one task longer than that is a stay of its own;
- ``one_visit_a_day``: an enterprise gets at most one visit a day (无事不扰).

On-site minutes are the sum of the tasks' (``onsite = "sum"``), or with ``onsite = "parallel"``
(each department's inspectors check at once) the largest per-department sum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from planner.messages import Reason, reason
from planner.rules.crews import certified
from planner.travel import TravelTimes

if TYPE_CHECKING:
    from planner.dataset import Dataset
    from planner.model.instance import TaskTable
    from planner.scenario import Scenario

#: the longest stay planned at one enterprise; a bigger group is split into several visits,
#: unless a longer stay (up to ``long_stay_limits``) is what keeps a mandatory task in the plan
MAX_VISIT_ONSITE_MIN = 360


def onsite_minutes(table: TaskTable, rows: np.ndarray, mode: str) -> int:
    """On-site minutes of the tasks of ``rows``: their sum, or (parallel) the largest per-department sum."""
    minutes = table.duration_min[rows]
    if mode == "parallel":
        return int(np.bincount(table.dept[rows], weights=minutes).max())
    return int(minutes.sum())


def long_stay_limits(dataset: Dataset, scenario: Scenario) -> Callable[[str, Iterable[str]], int]:
    """``limit(uscc, depts)``: the longest stay a visit there may take when only that keeps a
    mandatory task (a positive-list firm's one capped visit a year, say): the longest working day
    every department can staff (of each department's longest ``hours_per_day``, the shortest),
    less the road from the township's station and back — never below MAX_VISIT_ONSITE_MIN.
    The scheduler still needs inspectors with such a day free; a stay of 6 hours stays the rule."""
    staff = certified(dataset.inspectors)  # as the roster
    longest = (
        staff.assign(minutes=(staff["hours_per_day"] * 60).astype(int)).groupby("dept_id")["minutes"].max().to_dict()
    )
    township = dict(zip(dataset.enterprises["uscc"], dataset.enterprises["township"]))
    travel = TravelTimes(dataset, scenario)

    def limit(uscc: str, depts: Iterable[str]) -> int:
        day = min((longest.get(d, 0) for d in depts), default=0)
        station = f"station:{township[uscc]}"
        return max(MAX_VISIT_ONSITE_MIN, day - travel.minutes(station, uscc) - travel.minutes(uscc, station))

    return limit


def add_one_stay(model, on_day: list[tuple[int, object]], limit_min: int, long_limit_min: int = 0, name: str = ""):
    """One stay a day in a CP-SAT model of one enterprise: the on-site minutes of the tasks
    checked that day (``on_day``: minutes and assignment variable) within ``limit_min``, a task
    longer than MAX_VISIT_ONSITE_MIN alone; with ``long_limit_min`` above ``limit_min``, a
    Boolean ``long`` (returned; None when not needed) lets the day's stay reach it instead.
    On-site minutes add up (``onsite = "sum"``); the caller skips this in "parallel"."""
    short = [(minutes, var) for minutes, var in on_day if minutes <= MAX_VISIT_ONSITE_MIN]
    onsite = sum(minutes * var for minutes, var in short)
    long = None
    if long_limit_min > limit_min and sum(minutes for minutes, _ in short) > limit_min:
        long = model.new_bool_var(f"long_{name}")
        model.add(onsite <= limit_min + (long_limit_min - limit_min) * long)
    else:
        model.add(onsite <= limit_min)
    for n, (minutes, var) in enumerate(on_day):  # a longer task is a stay of its own
        if minutes > MAX_VISIT_ONSITE_MIN:
            model.add(sum(other for m, (_, other) in enumerate(on_day) if m != n) == 0).only_enforce_if(var)
    return long


def add_stays_relaxed(model, on_day: list[tuple[int, object]], stays, stay_limit: int) -> None:
    """The bound's relaxation of the stay rule: the day's ``stays`` (a count) hold its tasks'
    minutes in total within ``stay_limit`` each, a task longer than MAX_VISIT_ONSITE_MIN is a
    stay of its own, and no two tasks of more than half a stay share one."""
    longer = [var for minutes, var in on_day if minutes > MAX_VISIT_ONSITE_MIN]
    short = [(minutes, var) for minutes, var in on_day if minutes <= MAX_VISIT_ONSITE_MIN]
    model.add(sum(m * var for m, var in short) <= stay_limit * (stays - sum(longer)))
    model.add(stays >= sum(longer) + sum(var for m, var in short if 2 * m > stay_limit))


def full_stay_reason(window: str) -> Reason:
    """Every day a task could go already holds a full visit to its enterprise."""
    return reason("stay", "reason.stay", window=window, hours=MAX_VISIT_ONSITE_MIN // 60)


def check_stay(plan, inputs) -> list[str]:
    """Practice: a visit stays at most MAX_VISIT_ONSITE_MIN on site (one longer task alone), or
    longer — up to the long-stay limit — only when it holds a mandatory task."""
    durations = plan.visit_tasks.join(
        plan.tasks.set_index("task_id")[["duration_min", "kind"]].rename(columns={"kind": "task_kind"}), on="task_id"
    )
    mode = inputs.scenario.onsite
    per_visit = durations.groupby(["visit_id", "dept_id"] if mode == "parallel" else ["visit_id"])["duration_min"].sum()
    onsite = per_visit.groupby("visit_id").max() if mode == "parallel" else per_visit
    over = onsite[onsite > MAX_VISIT_ONSITE_MIN]
    if not len(over):
        return []
    limit = long_stay_limits(inputs.dataset, inputs.scenario)
    tasks_of = durations[durations["visit_id"].isin(over.index)].groupby("visit_id")
    uscc_of = plan.visits.set_index("visit_id")["uscc"]
    out = []
    for visit_id, minutes in over.items():
        mine = tasks_of.get_group(visit_id)
        if len(mine) == 1:
            continue  # one longer task is a stay of its own
        longest = limit(uscc_of[visit_id], set(mine["dept_id"]))
        if not mine["task_kind"].isin(["key", "triggered", "followup"]).any() or minutes > longest:
            out.append(
                f"visit {visit_id} stays {minutes} min on site (at most {MAX_VISIT_ONSITE_MIN}, "
                f"or {longest} to keep a mandatory task)"
            )
    return out


def check_one_visit_a_day(plan, inputs) -> list[str]:
    """Practice: an enterprise gets at most one visit a day."""
    days = plan.visits.groupby(["uscc", "date"]).size()
    return [f"{uscc} has {n} visits on {date}" for (uscc, date), n in days[days > 1].items()]
