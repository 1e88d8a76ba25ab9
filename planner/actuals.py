"""The actuals of a 月会商: what happened since a plan was made, and the facts they make at a date.

An actuals folder (the contract's) holds ``outcomes`` — each task done, failed, cancelled, or its
enterprise closed — and optional new demands, leave, enterprises and inspectors. ``state_at``
applies them to the dataset as of a date: the facts a re-optimisation plans with and the
checker checks against (``planner reoptimize`` and ``planner verify`` both read them here).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.dataset import Dataset, table_file
from planner.dataset import _empty as empty_table
from planner.model.instance import build_instance
from planner.problems import InputError, Problem
from planner.scenario import Scenario
from planner.schema import ACTUALS_TABLES
from planner.tables import coerce_table, read_raw
from planner.whatif import apply_staff_scaling
from planner.workdays import WorkCalendar

if TYPE_CHECKING:
    from planner.model.schedule import Crew

ACTUALS_FOLDER = "actuals"  # in a re-optimised plan folder: the actuals it applied, as they were read


@dataclass(frozen=True)
class Actuals:
    """What happened since the plan was made (the contract's actuals folder)."""

    outcomes: pd.DataFrame  # task_id, status, date
    demands: pd.DataFrame
    leave: pd.DataFrame
    enterprises: pd.DataFrame
    inspectors: pd.DataFrame
    files: dict[str, Path]


def load_actuals(folder: Path | str) -> Actuals:
    """Read the actuals folder: ``outcomes`` (required) and optional demands, leave, enterprises
    and inspectors with the dataset's columns. Raises ``InputError`` with every problem."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(str(folder), None, None, None, "is not an actuals folder")])
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    problems: list[Problem] = []
    for table in ACTUALS_TABLES:
        path, problem = table_file(folder, table)
        problems += [problem] if problem else []
        raw = read_raw(path, str(path)) if path else None
        if isinstance(raw, Problem):
            problems.append(raw)
            raw = None
        if raw is None:
            frames[table.name] = empty_table(table)
            continue
        files[table.name] = path
        frame, found = coerce_table(raw, table)
        problems += found
        frames[table.name] = frame
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return Actuals(files=files, **frames)


def apply_actuals(dataset: Dataset, actuals: Actuals, as_of: dt.date) -> Dataset:
    """The dataset as it stands at ``as_of``: changed and new enterprise and inspector rows, new
    leave (from ``as_of`` on: the past is history), new demands. References are checked again."""
    from planner.dataset import _check_references

    problems = []
    where = str(actuals.files.get("demands", "demands"))
    clash = actuals.demands[actuals.demands["task_id"].isin(dataset.demands["task_id"])]
    problems += [
        Problem(where, int(row), "task_id", task_id, "already a demand of the dataset; give new tasks new ids")
        for row, task_id in zip(clash.index, clash["task_id"])
    ]
    enterprises = _upsert(dataset.enterprises, actuals.enterprises, "uscc")
    inspectors = _upsert(dataset.inspectors, actuals.inspectors, "inspector_id")
    leave = actuals.leave[actuals.leave["end"] >= pd.Timestamp(as_of)]
    leave = leave.assign(start=leave["start"].where(leave["start"] >= pd.Timestamp(as_of), pd.Timestamp(as_of)))
    frames = {
        name: dataset.table(name)
        for name in ("townships", "departments", "sampling_plan", "conflicts", "history", "calendar")
    }
    frames |= {
        "enterprises": enterprises,
        "inspectors": inspectors,
        "leave": pd.concat([dataset.leave, leave]),
        "demands": pd.concat([dataset.demands, actuals.demands]),
    }
    files = dataset.files | {name: path for name, path in actuals.files.items() if name != "outcomes"}
    problems += [p for p in _check_references(frames, files) if p.severity == "error"]
    if problems:
        raise InputError(problems)
    return dataclasses.replace(dataset, **frames)


def _upsert(base: pd.DataFrame, changed: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows of ``changed`` replace the rows of ``base`` with the same key; new keys are added."""
    if not len(changed):
        return base
    kept = base[~base[key].isin(changed[key])]
    return pd.concat([kept, changed]).sort_values(key, kind="stable")


def state_at(
    dataset: Dataset,
    scenario: Scenario,
    calendar: WorkCalendar,
    prev: dict[str, pd.DataFrame],
    actuals: Actuals,
    as_of: dt.date,
):
    """The facts at ``as_of`` (actuals applied, staff scaled), the instance of every task, its
    records, the previous placement and each task's outcome."""
    facts = apply_staff_scaling(apply_actuals(dataset, actuals, as_of), scenario)
    random_tasks = prev["tasks"][prev["tasks"]["kind"] == "random"]
    instance = build_instance(facts, random_tasks, scenario, calendar)
    rows = instance.tasks.assign(row=np.arange(len(instance.tasks)))  # row: in instance.table
    records = {t["task_id"]: t for t in rows.to_dict("records")}
    planned = _previous_placement(prev)
    return facts, instance, records, planned, _outcomes(actuals, records, planned, as_of)


def checked_facts(facts: Dataset, done_elsewhere, workdays) -> Dataset:
    """The facts a re-optimised plan is checked against: tasks done outside the plan count in the history."""
    return dataclasses.replace(facts, history=history_with(facts.history, [], done_elsewhere, workdays))


def reoptimised_facts(
    dataset: Dataset,
    scenario: Scenario,
    calendar: WorkCalendar,
    previous_tables: dict[str, pd.DataFrame],
    actuals: Actuals,
    as_of: dt.date,
) -> Dataset:
    """What ``planner verify`` re-checks a re-optimised plan against: the same facts ``reoptimize``
    checked it with, rebuilt from the original dataset, the parent plan and the recorded actuals."""
    facts, instance, _, _, (_, _, done_elsewhere) = state_at(
        dataset, scenario, calendar, previous_tables, actuals, as_of
    )
    return checked_facts(facts, done_elsewhere, instance.workdays)


def _previous_placement(prev: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """task_id → the previous plan's visit: visit_id, visit_code, date, crew_id, uscc."""
    visits = prev["visits"][["visit_id", "visit_code", "date", "crew_id", "uscc"]]
    placed = prev["visit_tasks"][["task_id", "visit_id"]].merge(visits, on="visit_id")
    placed["date"] = pd.to_datetime(placed["date"]).dt.date
    return placed.set_index("task_id")


def _outcomes(actuals: Actuals, records: dict, planned: pd.DataFrame, as_of: dt.date):
    """Each task's state at ``as_of``: status (done / failed / cancelled / closed), reasons for tasks that leave the
    plan (cancelled, closed, done outside a planned visit), and history rows for those done elsewhere."""
    outcomes = actuals.outcomes
    where = str(actuals.files.get("outcomes", "outcomes"))
    unknown = outcomes[~outcomes["task_id"].isin(records)]
    problems = [
        Problem(where, int(row), "task_id", t, "not a task of the previous plan or of the new demands")
        for row, t in zip(unknown.index, unknown["task_id"])
    ]
    undated = outcomes[
        (outcomes["status"] == "done") & outcomes["date"].isna() & ~outcomes["task_id"].isin(planned.index)
    ]
    problems += [
        Problem(where, int(row), "date", None, "a task done outside the plan needs the date it was done")
        for row in undated.index
    ]
    if problems:
        raise InputError(problems)
    status: dict[str, str] = {}
    reasons: dict[str, str] = {}
    done_elsewhere: list[tuple[str, str, dt.date, str]] = []
    closed = {
        records[t]["uscc"]: row
        for row, t in zip(outcomes.index, outcomes["task_id"])
        if outcomes.at[row, "status"] == "closed"
    }
    by_task = outcomes.set_index("task_id")
    for task_id, task in records.items():
        was = planned.loc[task_id] if task_id in planned.index else None
        said = by_task.loc[task_id] if task_id in by_task.index else None
        if said is not None and said["status"] == "done":
            when = said["date"].date() if pd.notna(said["date"]) else was["date"]
            status[task_id] = "done"
            if was is None or when != was["date"] or when >= as_of:
                reasons[task_id] = f"done on {when.isoformat()} outside a planned visit (actuals)"
                done_elsewhere.append((task["uscc"], task["dept_id"], when, task["kind"]))
        elif said is not None and said["status"] == "cancelled":
            status[task_id] = "cancelled"
            reasons[task_id] = "cancelled by the department (actuals)"
        elif task["uscc"] in closed and not (was is not None and was["date"] < as_of and said is None):
            status[task_id] = "closed"
            reasons[task_id] = "the enterprise has closed (actuals: 注销/歇业); its open tasks are dropped"
        elif said is not None and said["status"] == "failed":
            status[task_id] = "failed"
        elif was is not None and was["date"] < as_of:
            status[task_id] = "done"  # no outcome row: done on its planned date
    return status, reasons, done_elsewhere


def history_with(history: pd.DataFrame, kept: list[Crew], done_elsewhere, workdays) -> pd.DataFrame:
    """History plus the kept visits and the tasks done outside the plan, so the yearly caps count them."""
    rows = [(u, d, pd.Timestamp(day), None, kind) for u, d, day, kind in done_elsewhere]
    for crew in kept:
        date = pd.Timestamp(workdays[crew.day])
        for group in crew.groups:
            kind = "key" if group.capped else "triggered"  # a capped visit counts for every department in it
            rows += [(group.uscc, dept, date, None, kind) for dept in group.depts]
    if not rows:
        return history
    extra = pd.DataFrame(rows, columns=["uscc", "dept_id", "date", "inspector_id", "kind"])
    return pd.concat([history, extra.astype({"date": "datetime64[ns]"})], ignore_index=True)
