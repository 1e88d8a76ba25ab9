"""Off-site checks (非现场监管): 能书面核查的不得入企, and the desk time they take.

- ``offsite_no_visit`` (能书面核查的不得入企): a task done off site (``mode = offsite``: 书面·远程核查,
  set by its demand row or by the scenario's ``[offsite]`` items and kinds) is never in a visit;
  and only such a task is done at a desk;
- ``desk_time``: an off-site check takes ``[offsite] desk_share`` of one inspector's working day.
  That inspector is certified and of the task's department (or, for a delegable task, holds its
  delegation, 委托查), has no conflict (回避) with the enterprise, is not on leave and not on a
  crew that day; the day is an official working day inside the task's window ∩ the horizon; and
  one inspector's off-site checks of one day take at most the whole day. A day with desk work
  is a planned day: it counts against ``max_days`` with the crew days (``staff_days.check_max_days``).

Complaints (``triggered``, 投诉举报) are checked on site: the scenario refuses them in
``[offsite] kinds`` (a demand row may still say ``offsite`` for a complaint that was settled on
paper, which the department decides, not the planner).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd

from planner.messages import Person, msg
from planner.rules.staff_days import leave_days

ONSITE, OFFSITE = "onsite", "offsite"
#: offsite.parquet's columns
OFFSITE_COLUMNS = ["task_id", "inspector_id", "date", "dept_id", "uscc", "kind", "item"]


def empty_offsite() -> pd.DataFrame:
    """offsite.parquet of a plan without off-site checks (and of plans written before it existed)."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in OFFSITE_COLUMNS})


def task_modes(tasks: pd.DataFrame, items: tuple[str, ...], kinds: tuple[str, ...]) -> pd.Series:
    """Each task's mode: ``offsite`` when its row says so or the scenario's ``[offsite]`` lists its
    item or its kind, else ``onsite``. A complaint (``triggered``) of a listed item stays on site:
    a complaint is verified where it arose (only its own demand row may say otherwise)."""
    own = tasks["mode"].fillna(ONSITE) if "mode" in tasks else pd.Series(ONSITE, index=tasks.index)
    ruled = (tasks["item"].isin(items) & tasks["kind"].ne("triggered")) | tasks["kind"].isin(kinds)
    return own.where(~ruled, OFFSITE).astype(object)


def checks_per_day(desk_share: float) -> int:
    """How many off-site checks fill one inspector's day (at least one)."""
    return max(1, int(1 / desk_share + 1e-9))


def is_offsite(tasks: pd.DataFrame) -> pd.Series:
    """Whether each task of tasks.parquet is done off site (plans before ``mode``: none is)."""
    if "mode" not in tasks:
        return pd.Series(False, index=tasks.index)
    return tasks["mode"].eq(OFFSITE)


def offsite_of(plan) -> pd.DataFrame:
    """The plan's offsite table (empty for plans and tables without one)."""
    frame = getattr(plan, "offsite", None)
    return empty_offsite() if frame is None else frame


def check_offsite_no_visit(plan, inputs) -> list[str]:
    """Hard rule: 能书面核查的不得入企 — an off-site task is in no visit, and only an off-site task
    is done at a desk."""
    offsite = set(plan.tasks.loc[is_offsite(plan.tasks), "task_id"])
    in_visit = plan.visit_tasks[plan.visit_tasks["task_id"].isin(offsite)]
    out = [msg("check.offsite.in_visit", task=t, visit=v) for t, v in zip(in_visit["task_id"], in_visit["visit_id"])]
    desk = offsite_of(plan)
    known = set(plan.tasks["task_id"])
    out += [
        msg("check.offsite.not_offsite", task=t)
        for t in sorted(set(desk["task_id"]) - offsite)
        if t in known  # an unknown task: every_task_accounted says so
    ]
    return out


def check_desk_time(plan, inputs) -> list[str]:
    """Hard rule: each off-site check is done by a certified inspector of its department (or holding
    its delegation, 委托查), without a conflict (回避), not on leave and not on a crew that day, on
    a working day inside its window ∩ the horizon; one inspector's checks of a day fit in the day."""
    desk = offsite_of(plan)
    if not len(desk):
        return []
    staff = inputs.dataset.inspectors.set_index("inspector_id")
    holders = set(staff.index[staff["cert_no"].notna()])
    leave = leave_days(inputs.dataset.leave)
    conflicts = set(zip(inputs.dataset.conflicts["inspector_id"], inputs.dataset.conflicts["uscc"]))
    crew_days = {(who, pd.Timestamp(d).date()) for who, d in zip(plan.crews["inspector_id"], plan.crews["date"])}
    tasks = plan.tasks.drop_duplicates("task_id").set_index("task_id")
    horizon = inputs.scenario.horizon
    # in a re-optimised plan the roster (certificates, departments) judges the days from as_of on,
    # as for the crews (``CheckInputs.current``)
    current = set(inputs.current(desk.assign(date=pd.to_datetime(desk["date"])))["task_id"])
    out = []
    load: dict[tuple[str, dt.date], int] = defaultdict(int)
    for task_id, who, date in desk[["task_id", "inspector_id", "date"]].itertuples(index=False):
        day = pd.Timestamp(date).date()
        load[(who, day)] += 1
        if task_id not in tasks.index:
            continue  # every_task_accounted says so
        task = tasks.loc[task_id]
        where = msg("check.desk.where", task=task_id, person=Person(who), date=day)
        if task_id in current and who not in holders:
            out.append(msg("check.desk.not_certified", where=where))
        elif task_id in current:
            own, delegated = staff.at[who, "dept_id"], staff.at[who, "delegated_depts"]
            delegated = () if not isinstance(delegated, list | tuple | frozenset | set) else delegated
            if own != task["dept_id"] and not (bool(task["delegable"]) and task["dept_id"] in delegated):
                out.append(msg("check.desk.other_dept", where=where))
        if (who, task["uscc"]) in conflicts:
            out.append(msg("check.desk.conflict", where=where))
        if day in leave.get(who, ()):
            out.append(msg("check.desk.leave", where=where))
        if (who, day) in crew_days:
            out.append(msg("check.desk.on_crew", where=where))
        first = max(pd.Timestamp(task["window_start"]).date(), horizon.start)
        last = min(pd.Timestamp(task["window_end"]).date(), horizon.end)
        if not first <= day <= last:
            out.append(msg("check.desk.window", where=where))
        if day not in inputs.workdays:
            out.append(msg("check.desk.working_day", where=where))
    most = checks_per_day(inputs.scenario.offsite.desk_share)
    out += [
        msg("check.desk.full", person=Person(who), date=day, n=n, most=most)
        for (who, day), n in sorted(load.items())
        if n > most
    ]
    return out
