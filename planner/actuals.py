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
from planner.messages import Message, Reason, console_lang, listing, msg, reason
from planner.model.instance import build_instance
from planner.problems import InputError, Problem
from planner.rules.offsite import ONSITE
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

    outcomes: pd.DataFrame  # task_id, status, date, and the result: result, rectify_by, findings, points
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
        raise InputError([Problem(str(folder), None, None, None, msg("input.folder.not_actuals"))])
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
        if table.name == "outcomes":
            problems += result_problems(frame, str(path))
        frames[table.name] = frame
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return Actuals(files=files, **frames)


#: the columns of an outcome that describe its result (结果), all optional
RESULT_COLUMNS = ("result", "rectify_by", "findings", "points")


def result_problems(outcomes: pd.DataFrame, where: str) -> list[Problem]:
    """The rules of an outcome's result, each broken one named by row and column: a result only
    for a task done; findings, points and a deadline only with a result; a rectify result
    (责令整改) with its deadline (整改期限), and a deadline only for it, after the date inspected
    (a blank date is checked against the planned date in ``_outcomes``)."""
    problems = []
    for row, record in zip(outcomes.index, outcomes.to_dict("records")):
        status, result = record.get("status"), record.get("result")
        has = {c: _given(record.get(c)) for c in RESULT_COLUMNS}
        if has["result"] and status != "done":
            problems.append(
                Problem(where, int(row), "result", str(result), msg("input.actuals.result_not_done", status=status))
            )
        for column in ("findings", "points"):
            if has[column] and not has["result"]:
                problems.append(
                    Problem(where, int(row), column, str(record[column]), msg("input.actuals.without_result"))
                )
        if result == "rectify" and not has["rectify_by"]:
            problems.append(Problem(where, int(row), "rectify_by", None, msg("input.actuals.rectify_needs_deadline")))
        if has["rectify_by"] and result != "rectify":
            problems.append(
                Problem(
                    where,
                    int(row),
                    "rectify_by",
                    _iso(record["rectify_by"]),
                    msg("input.actuals.deadline_only_rectify"),
                )
            )
        elif has["rectify_by"] and _given(record.get("date")) and record["rectify_by"] <= record["date"]:
            problems.append(
                Problem(
                    where,
                    int(row),
                    "rectify_by",
                    _iso(record["rectify_by"]),
                    msg("input.actuals.deadline_after_date", date=_iso(record["date"])),
                )
            )
    return problems


def _given(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and not pd.isna(value)


def _iso(value) -> str:
    return pd.Timestamp(value).date().isoformat()


def apply_actuals(dataset: Dataset, actuals: Actuals, as_of: dt.date) -> Dataset:
    """The dataset as it stands at ``as_of``: changed and new enterprise and inspector rows, new
    leave (from ``as_of`` on: the past is history), new demands. References are checked again."""
    from planner.dataset import _check_references

    problems = []
    where = str(actuals.files.get("demands", "demands"))
    clash = actuals.demands[actuals.demands["task_id"].isin(dataset.demands["task_id"])]
    problems += [
        Problem(where, int(row), "task_id", task_id, msg("input.actuals.demand_exists"))
        for row, task_id in zip(clash.index, clash["task_id"])
    ]
    enterprises = _upsert(dataset.enterprises, actuals.enterprises, "uscc")
    inspectors = _upsert(dataset.inspectors, actuals.inspectors, "inspector_id")
    leave = actuals.leave[actuals.leave["end"] >= pd.Timestamp(as_of)]
    leave = leave.assign(start=leave["start"].where(leave["start"] >= pd.Timestamp(as_of), pd.Timestamp(as_of)))
    frames = {
        name: dataset.table(name)
        for name in ("townships", "departments", "sampling_plan", "conflicts", "history", "calendar", "items")
    }
    frames["appointments"] = dataset.appointments
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
    facts = _past_staff_kept(
        apply_staff_scaling(apply_actuals(dataset, actuals, as_of), scenario),
        dataset,
        prev,
        as_of,
        scenario.horizon.end,
    )
    followups = followup_tasks(actuals.outcomes, prev["tasks"], scenario.results.followup_days)
    carried = _carried_tasks(prev["tasks"], facts.demands)
    # a follow-up, and a task of a plan written before tasks had a mode, is done on site
    carried, followups = (p if "mode" in p else p.assign(mode=ONSITE) for p in (carried, followups))
    demands = pd.concat([facts.demands, carried[facts.demands.columns], followups[facts.demands.columns]])
    facts = dataclasses.replace(facts, demands=demands)
    random_tasks = prev["tasks"][prev["tasks"]["kind"] == "random"]
    instance = build_instance(facts, random_tasks, scenario, calendar)
    rows = instance.tasks.assign(row=np.arange(len(instance.tasks)))  # row: in instance.table
    records = {t["task_id"]: t for t in rows.to_dict("records")}
    planned = _previous_placement(prev)
    return facts, instance, records, planned, _outcomes(actuals, records, planned, as_of)


#: a follow-up's id: its origin's, then this suffix (so the link reads from the id as well)
FOLLOWUP_SUFFIX = ":整改复查"
FOLLOWUP_COLUMNS = ["task_id", "origin_task_id", "dept_id", "uscc", "item", "rectify_by", "window_start", "window_end"]


def followup_tasks(outcomes: pd.DataFrame, tasks: pd.DataFrame, days: int) -> pd.DataFrame:
    """整改复查: a follow-up task for every 责令整改 (rectify) result of the outcomes whose follow-up
    the previous plan does not hold yet — the same department, enterprise and item as the check that
    found the problem (``origin_task_id``), kind ``followup`` (a legal duty), its window from the
    deadline ``rectify_by`` to ``days`` days after. Demands' columns, plus ``origin_task_id`` and
    ``rectify_by``; sorted by task_id."""
    columns = [*FOLLOWUP_COLUMNS, "kind", "duration_min", "min_inspectors", "delegable", "priority"]
    if "result" not in outcomes or not len(outcomes):
        return pd.DataFrame(columns=columns)
    rectify = outcomes[(outcomes["result"] == "rectify") & outcomes["rectify_by"].notna()]
    origin = tasks.set_index("task_id")
    rectify = rectify[rectify["task_id"].isin(origin.index)]
    ids = rectify["task_id"] + FOLLOWUP_SUFFIX
    rectify = rectify[~ids.isin(origin.index)]
    if not len(rectify):
        return pd.DataFrame(columns=columns)
    found = origin.loc[rectify["task_id"]]
    deadline = pd.to_datetime(rectify["rectify_by"]).to_numpy()
    frame = pd.DataFrame(
        {
            "task_id": (rectify["task_id"] + FOLLOWUP_SUFFIX).to_numpy(),
            "origin_task_id": rectify["task_id"].to_numpy(),
            "dept_id": found["dept_id"].to_numpy(),
            "uscc": found["uscc"].to_numpy(),
            "item": found["item"].to_numpy(),
            "rectify_by": deadline,
            "window_start": deadline,
            "window_end": deadline + pd.Timedelta(days=days).to_timedelta64(),
            "kind": "followup",
            "duration_min": found["duration_min"].astype(int).to_numpy(),
            "min_inspectors": found["min_inspectors"].astype(int).to_numpy(),
            "delegable": found["delegable"].astype(bool).to_numpy(),
            "priority": found["priority"].astype(int).clip(lower=2).to_numpy(),
        }
    )
    return frame.sort_values("task_id", ignore_index=True)


def _carried_tasks(tasks: pd.DataFrame, demands: pd.DataFrame) -> pd.DataFrame:
    """Tasks of the previous plan that neither the dataset's demands, the draw nor its appointments
    give: the new demands and follow-ups of earlier re-optimisations. They stay tasks in every later plan."""
    given = tasks["kind"].isin(["random", "appointment"]) | tasks["task_id"].isin(demands["task_id"])
    carried = tasks[~given]
    return carried.astype({c: demands[c].dtype for c in demands.columns if c in carried.columns}, errors="ignore")


def _past_staff_kept(
    facts: Dataset, dataset: Dataset, prev: dict[str, pd.DataFrame], as_of: dt.date, end: dt.date
) -> Dataset:
    """An inspector who went on a crew before ``as_of`` and is gone now (retired, off the roster by
    ``[staff]``, no longer certified) keeps the row they had, on leave from ``as_of`` to the end:
    the past stays valid as it was, and nobody plans them from ``as_of`` on."""
    crews = prev["crews"]
    past = set(crews.loc[pd.to_datetime(crews["date"]) < pd.Timestamp(as_of), "inspector_id"])
    active = set(facts.inspectors.loc[facts.inspectors["cert_no"].notna(), "inspector_id"])
    original = dataset.inspectors[dataset.inspectors["cert_no"].notna()]
    gone = original[original["inspector_id"].isin(past - active)]
    if not len(gone):
        return facts
    leave = pd.DataFrame({"inspector_id": gone["inspector_id"], "start": pd.Timestamp(as_of), "end": pd.Timestamp(end)})
    others = facts.inspectors[~facts.inspectors["inspector_id"].isin(gone["inspector_id"])]
    return dataclasses.replace(
        facts,
        inspectors=pd.concat([others, gone]).sort_values("inspector_id", kind="stable"),
        leave=pd.concat(
            [facts.leave, leave.astype({"start": facts.leave["start"].dtype, "end": facts.leave["end"].dtype})]
        ),
    )


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
        Problem(where, int(row), "task_id", t, msg("input.actuals.unknown_task"))
        for row, t in zip(unknown.index, unknown["task_id"])
    ]
    undated = outcomes[
        (outcomes["status"] == "done") & outcomes["date"].isna() & ~outcomes["task_id"].isin(planned.index)
    ]
    problems += [Problem(where, int(row), "date", None, msg("input.actuals.undated")) for row in undated.index]
    twice = outcomes[outcomes["task_id"].duplicated()]
    problems += [
        Problem(where, int(row), "task_id", t, msg("input.actuals.twice"))
        for row, t in zip(twice.index, twice["task_id"])
    ]
    late = outcomes[outcomes["status"].isin(["done", "failed"]) & (outcomes["date"] >= pd.Timestamp(as_of))]
    problems += [
        Problem(
            where,
            int(row),
            "date",
            pd.Timestamp(day).date().isoformat(),
            msg(f"input.actuals.too_late.{state}", as_of=as_of.isoformat()),
        )
        for row, state, day in zip(late.index, late["status"], late["date"])
    ]
    if "rectify_by" in outcomes:
        undated_rectify = outcomes[outcomes["rectify_by"].notna() & outcomes["date"].isna()]
        for row, task_id, deadline in zip(
            undated_rectify.index, undated_rectify["task_id"], undated_rectify["rectify_by"]
        ):
            was = planned["date"].get(task_id) if task_id in planned.index else None
            if was is not None and not isinstance(was, dt.date):
                was = None  # a task placed twice cannot happen; leave the date check to the rows that say one
            if was is not None and pd.Timestamp(deadline).date() <= was:
                problems.append(
                    Problem(
                        where,
                        int(row),
                        "rectify_by",
                        _iso(deadline),
                        f"the deadline must come after the date inspected (the planned date {was.isoformat()})",
                    )
                )
    if problems:
        raise InputError(problems)
    status: dict[str, str] = {}
    reasons: dict[str, Reason] = {}
    done_elsewhere: list[tuple[str, str, dt.date, str]] = []
    closed = {
        records[t]["uscc"]: row
        for row, t in zip(outcomes.index, outcomes["task_id"])
        if outcomes.at[row, "status"] == "closed"
    }
    planned_on = dict(zip(planned.index, planned["date"]))
    said_of = {t: (s, d) for t, s, d in zip(outcomes["task_id"], outcomes["status"], outcomes["date"])}
    for task_id, task in records.items():
        was = planned_on.get(task_id)  # the planned date, None when the previous plan did not place it
        said, said_date = said_of.get(task_id, (None, None))
        if said == "done":
            when = said_date.date() if pd.notna(said_date) else was
            status[task_id] = "done"
            if was is None or when != was or when >= as_of:
                reasons[task_id] = reason("done_elsewhere", "reason.done_elsewhere", date=when)
                done_elsewhere.append((task["uscc"], task["dept_id"], when, task["kind"]))
        elif said == "cancelled":
            status[task_id] = "cancelled"
            reasons[task_id] = reason("cancelled", "reason.cancelled")
        elif task["uscc"] in closed and not (was is not None and was < as_of and said is None):
            status[task_id] = "closed"
            reasons[task_id] = reason("closed", "reason.closed")
        elif said == "failed":
            status[task_id] = "failed"
        elif was is not None and was < as_of:
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


def lineage_findings(
    parent: dict[str, pd.DataFrame],
    child: dict[str, pd.DataFrame],
    as_of: dt.date,
    freeze_days: int,
    changes: pd.DataFrame | None = None,
) -> list[str]:
    """``lineage_messages``' sentences in the console's language (``messages.console_lang``)."""
    lang = console_lang()
    return [m.render(lang) for m in lineage_messages(parent, child, as_of, freeze_days, changes)]


def lineage_messages(
    parent: dict[str, pd.DataFrame],
    child: dict[str, pd.DataFrame],
    as_of: dt.date,
    freeze_days: int,
    changes: pd.DataFrame | None = None,
) -> list[Message]:
    """What a re-optimised plan (``child``) must keep of its ``parent``, checked from the two
    plans' tables alone (docs/reoptimize.md); one message per breach, [] when it keeps them all.

    1. Before ``as_of`` nothing changes: every visit there is a parent visit with the same
       visit_id, code, enterprise, date and crew, its tasks among the parent visit's, its crew's
       members the same.
    2. A visit code is issued once: codes are unique; a visit the parent had (same crew, date and
       enterprise) keeps its code; a parent's code appears only at the parent visit's enterprise
       and date.
    3. The freeze window gains no work: a visit there is a parent visit with no task it did not
       have, or a new visit holding only new complaint or follow-up tasks (not on the as-of day)
       and tasks of a parent visit at the same enterprise on the same date (a released visit
       back on its date).
    4. With ``changes``: every task has one row, and every row a reason.
    5. No task is lost: every task of the parent is a task of the child (done, cancelled or not,
       it stays on the record; a legal duty never leaves silently).
    """
    out: list[Message] = []
    freeze_end = as_of + dt.timedelta(days=freeze_days)
    lost = sorted(set(parent["tasks"]["task_id"]) - set(child["tasks"]["task_id"]))
    out += [msg("lineage.lost", task=t) for t in lost[:20]]

    def visits_of(plan):
        visits = plan["visits"].assign(date=pd.to_datetime(plan["visits"]["date"]).dt.date)
        tasks = plan["visit_tasks"].groupby("visit_id")["task_id"].agg(frozenset)
        return visits.assign(tasks=visits["visit_id"].map(tasks).map(lambda t: t if isinstance(t, frozenset) else ()))

    old, new = visits_of(parent), visits_of(child)
    by_place = {
        (c, d, u): row for row, c, d, u in zip(old.itertuples(index=False), old["crew_id"], old["date"], old["uscc"])
    }
    at_place = {(d, u): row for row, d, u in zip(old.itertuples(index=False), old["date"], old["uscc"])}
    members = {
        key: frozenset(group["inspector_id"])
        for key, group in parent["crews"]
        .assign(date=pd.to_datetime(parent["crews"]["date"]).dt.date)
        .groupby(["crew_id", "date"])
    }
    new_members = {
        key: frozenset(group["inspector_id"])
        for key, group in child["crews"]
        .assign(date=pd.to_datetime(child["crews"]["date"]).dt.date)
        .groupby(["crew_id", "date"])
    }
    old_tasks = set(parent["tasks"]["task_id"])
    kind = dict(zip(child["tasks"]["task_id"], child["tasks"]["kind"]))
    twice = new["visit_code"][new["visit_code"].duplicated()]
    out += [msg("lineage.code_twice", code=c) for c in sorted(set(twice))]
    old_code_place = {c: (d, u) for c, d, u in zip(old["visit_code"], old["date"], old["uscc"])}
    for visit in new.itertuples(index=False):
        where = msg("lineage.where", visit=visit.visit_id, uscc=visit.uscc, date=visit.date, crew=visit.crew_id)
        was = by_place.get((visit.crew_id, visit.date, visit.uscc))
        if was is not None and was.visit_code != visit.visit_code:
            out.append(msg("lineage.code_changed", where=where, was=was.visit_code, now=visit.visit_code))
        if visit.visit_code in old_code_place and old_code_place[visit.visit_code] != (visit.date, visit.uscc):
            out.append(msg("lineage.code_reused", where=where, code=visit.visit_code))
        if visit.date < as_of:
            if was is None:
                out.append(msg("lineage.new_before", where=where, as_of=as_of))
                continue
            if was.visit_id != visit.visit_id:
                out.append(msg("lineage.id_changed", where=where, column="visit_id", was=was.visit_id))
            if not set(visit.tasks) <= set(was.tasks):
                gained = listing(sorted(set(visit.tasks) - set(was.tasks)))
                out.append(msg("lineage.gained_before", where=where, tasks=gained))
            if new_members.get((visit.crew_id, visit.date)) != members.get((visit.crew_id, visit.date)):
                out.append(msg("lineage.members", where=where))
        elif visit.date < freeze_end:
            if was is not None:
                gained = set(visit.tasks) - set(was.tasks)
                if gained:
                    out.append(msg("lineage.gained_frozen", where=where, tasks=listing(sorted(gained))))
                continue
            same_day = at_place.get((visit.date, visit.uscc))
            allowed = set(same_day.tasks) if same_day is not None else set()
            urgent = {t for t in visit.tasks if t not in old_tasks and kind.get(t) in ("triggered", "followup")}
            moved_in = set(visit.tasks) - allowed - urgent
            if moved_in:
                out.append(msg("lineage.moved_in", where=where, tasks=listing(sorted(moved_in))))
            if urgent and visit.date == as_of:
                out.append(msg("lineage.urgent_as_of", where=where))
    if changes is not None:
        missing = set(child["tasks"]["task_id"]) - set(changes["task_id"])
        out += [msg("lineage.no_change_row", task=t) for t in sorted(missing)]
        blank = changes[~changes["reason"].map(lambda r: isinstance(r, str) and bool(r.strip()))]
        out += [msg("lineage.no_reason", task=t, change=c) for t, c in zip(blank["task_id"], blank["change"])]
    return out
