"""月会商: re-optimise a plan part-way through its horizon, keeping what is done and announced.

The rhythm is 年计划、季优化、月会商: an annual plan, then each month the actuals come back —
tasks done, cancelled, failed, enterprises closed, new complaint tasks, new leave — and what
is left is planned again. A plan that reshuffles everything is useless, because enterprises and
inspectors were told. So stability comes first (a lexicographic "change penalty"):

1. **Before ``as_of``** nothing changes: a visit keeps its date, crew and the tasks done there.
   A planned task dated before ``as_of`` with no outcome row counts as done on its planned date;
   a task done on another date becomes history (it counts against the yearly caps).
2. **Every planned visit on or after ``as_of``** keeps its date, crew and code while it stays
   possible: its tasks still open, every member available that day. A member newly on leave (or
   gone from the roster) is replaced by another inspector of the same department drawn by the
   seat lottery; only when nobody can replace them is the crew-day released and its tasks planned
   again — each such change explained. Visits inside the freeze window (default 14 days, the
   notice period) are never given new tasks either; later ones may be.
3. **Open work** — new demands, failed tasks, tasks released in step 2 and tasks the previous
   plan could not place — first joins a kept visit at the same enterprise when its window, the
   crew's departments, the caps and the day allow (综合查一次 even for late arrivals), then is
   merged and scheduled like a new plan from ``as_of`` on, around the kept crews (which it may
   join, never displace).

The previous draw is kept as it was: re-optimising never re-draws the random sample.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.actuals import Actuals, checked_facts, history_with, state_at
from planner.checker import check_plan
from planner.dataset import Dataset
from planner.model.bounds import rule_bound
from planner.model.groups import VisitGroup
from planner.model.horizon import plan_horizon
from planner.model.instance import Instance, TaskTable
from planner.model.matching import MEMBER_COLUMNS, Roster, lottery
from planner.model.merge import merge_tasks
from planner.model.schedule import PLANNED_DAY_MIN, Crew, members_cover, route_minutes
from planner.pipeline import compute_kpis, plan_tables
from planner.plan import Plan
from planner.rules.caps import leaves_caps_alone
from planner.rules.crews import min_crew
from planner.rules.staff_days import day_minutes
from planner.rules.stays import MAX_VISIT_ONSITE_MIN
from planner.rules.windows import feasible_days
from planner.sampling import Draw
from planner.scenario import Scenario
from planner.travel import TravelTimes
from planner.workdays import WorkCalendar

FREEZE_DAYS = 14  # the notice period: visits this close keep date and crew unless impossible
FIXED_GROUP_IDS = 10**7  # kept visits' group ids start here, far above the merge's
CHANGE_COLUMNS = [
    "task_id",
    "dept_id",
    "uscc",
    "kind",
    "change",
    "old_date",
    "old_crew_id",
    "old_visit_code",
    "new_date",
    "new_crew_id",
    "new_visit_code",
    "reason",
]


@dataclass(frozen=True)
class Reoptimized:
    """The new plan, the facts it was checked against, and what changed."""

    plan: Plan
    dataset: Dataset  # the dataset with the actuals applied and the staff scaled
    changes: pd.DataFrame  # CHANGE_COLUMNS, one row per task
    summary: pd.DataFrame  # per department: counts of each change
    broken: list[str]  # hard rules the new plan breaks (empty: valid)


def reoptimize(
    dataset: Dataset,
    scenario: Scenario,
    calendar: WorkCalendar,
    previous,
    actuals: Actuals,
    as_of: dt.date,
    freeze_days: int = FREEZE_DAYS,
    progress=None,
) -> Reoptimized:
    """Re-plan ``previous`` (a ``planner.export.PlanFolder``) from ``as_of`` with the actuals (module doc)."""
    say = progress or (lambda line: None)
    prev = previous.tables
    facts, instance, records, planned, (status, reasons, done_elsewhere) = state_at(
        dataset, scenario, calendar, prev, actuals, as_of
    )
    workdays = instance.workdays
    day_of = {d: i for i, d in enumerate(workdays)}
    start = int(np.searchsorted(np.array(workdays), as_of))  # first working day on or after as_of
    freeze_end = as_of + dt.timedelta(days=freeze_days)
    roster = Roster.from_dataset(facts, len(calendar), scenario.planned_share)
    kept, members, released = _kept_crews(
        prev, planned, status, reasons, roster, facts, scenario, day_of, as_of, records, instance.table
    )
    say(
        f"kept {sum(len(c.groups) for c in kept):,} visits on {len(kept):,} crew-days; "
        f"{len(released):,} crew-days released"
    )
    in_kept = {t for c in kept for g in c.groups for t in g.task_ids}
    open_ids = sorted(t for t in records if t not in in_kept and t not in reasons and status.get(t) != "done")
    travel = TravelTimes(facts, scenario)
    joined = _join_kept_visits(open_ids, records, kept, roster, instance, scenario, travel, start, freeze_end)
    open_ids = [t for t in open_ids if t not in joined]
    say(f"{len(joined):,} open tasks joined kept visits; {len(open_ids):,} to plan from {as_of}")

    history = history_with(facts.history, kept, done_elsewhere, workdays)
    open_tasks = instance.tasks[instance.tasks["task_id"].isin(open_ids)].copy()
    ended = open_tasks["last_day"] < max(start, 0)
    for task_id in open_tasks.loc[ended & (open_tasks["first_day"] >= 0), "task_id"]:
        reasons[task_id] = f"its window ended before the re-optimisation date {as_of.isoformat()} and it was not done"
    open_tasks["first_day"] = open_tasks["first_day"].where(
        open_tasks["first_day"] < 0, open_tasks["first_day"].clip(lower=start)
    )
    open_tasks.loc[open_tasks["first_day"] > open_tasks["last_day"], ["first_day", "last_day"]] = -1
    sub = Instance(workdays, instance.quiet, open_tasks.reset_index(drop=True), instance.unplaceable.iloc[0:0])
    groups, capped_out = merge_tasks(sub, dataclasses.replace(facts, history=history), scenario)
    schedule = plan_horizon(groups, sub, facts, scenario, calendar, fixed=kept, fixed_members=members).schedule
    placed_ids = {t for c in schedule.crews for g in c.groups for t in g.task_ids}
    reasons = {k: v for k, v in (reasons | capped_out).items() if k not in placed_ids}
    draw = Draw(scenario.seed, prev["draws"], prev["tasks"][prev["tasks"]["kind"] == "random"], pd.DataFrame(), ())
    tables = plan_tables(instance, schedule, reasons, draw, facts, scenario)
    tables = dataclasses.replace(
        tables, unscheduled=tables.unscheduled[~tables.unscheduled["task_id"].isin(placed_ids)]
    )
    checked = checked_facts(facts, done_elsewhere, workdays)
    broken = check_plan(tables, checked, scenario, set(calendar.workdays), prev["draws"])
    changes = _changes(prev, planned, tables, status, reasons, as_of)
    summary = _summary(changes)
    kpis = compute_kpis(tables, instance)
    bound = rule_bound(tables.visits, tables.visit_tasks, instance, checked, scenario)
    future = changes[pd.to_datetime(changes["old_date"]) >= pd.Timestamp(as_of)]
    frozen = future[pd.to_datetime(future["old_date"]) < pd.Timestamp(freeze_end)]
    moved = future["change"].isin(["moved", "dropped"])
    kpis |= {
        "status": "FEASIBLE" if not broken else "BROKEN",
        "method": "re-optimisation: kept visits + exact merge per enterprise + horizon capacity LP + paced scheduler",
        "objective": kpis["visits"],
        "best_bound": bound.visits,
        "rule_bound_visits": bound.visits,
        "timings": {},
        "reoptimisation": {
            "as_of": as_of.isoformat(),
            "freeze_days": freeze_days,
            "visits_changed": int(future.loc[moved, "old_visit_code"].nunique()),
            "frozen_visits_changed": int(
                frozen.loc[frozen["change"].isin(["moved", "dropped"]), "old_visit_code"].nunique()
            ),
            "tasks": {k: int(v) for k, v in changes["change"].value_counts().sort_index().items()},
        },
    }
    return Reoptimized(Plan(tables, draw, kpis, {}, broken), checked, changes, summary, broken)


def _kept_crews(
    prev,
    planned,
    status,
    reasons,
    roster: Roster,
    facts: Dataset,
    scenario: Scenario,
    day_of: dict,
    as_of: dt.date,
    records: dict,
    table: TaskTable,
):
    """The previous crew-days that stay: past ones with the tasks done there, later ones with
    their open tasks, members replaced where a member can no longer go. Returns the fixed crews,
    their member rows and the crew-days released (crew_id → why)."""
    travel = TravelTimes(facts, scenario)
    crews = prev["crews"].assign(date=pd.to_datetime(prev["crews"]["date"]).dt.date)
    visits = prev["visits"].assign(date=pd.to_datetime(prev["visits"]["date"]).dt.date)
    order = prev["routes"].sort_values(["crew_id", "seq"])["visit_id"].tolist()
    rank = {v: i for i, v in enumerate(order)}
    uscc_of = dict(zip(visits["visit_id"], visits["uscc"]))
    visits_of = visits.groupby("crew_id")["visit_id"].agg(list).to_dict()
    tasks_of = planned.reset_index().groupby("visit_id")["task_id"].agg(list).to_dict()
    busy: dict[dt.date, set[str]] = {}
    for date, person in crews[["date", "inspector_id"]].itertuples(index=False):
        busy.setdefault(date, set()).add(person)
    days_used = crews.drop_duplicates(["crew_id", "inspector_id"])["inspector_id"].value_counts().to_dict()
    kept: list[Crew] = []
    member_rows: list[tuple] = []
    released: dict[str, str] = {}
    next_id = FIXED_GROUP_IDS
    by_crew: dict[str, list[dict]] = {}
    for row in crews[[*MEMBER_COLUMNS, "township"]].to_dict("records"):
        by_crew.setdefault(row["crew_id"], []).append(row)
    for crew_id in sorted(by_crew):
        rows = by_crew[crew_id]
        date = rows[0]["date"]
        if date not in day_of:
            continue
        past = date < as_of
        groups = []
        for visit in sorted(visits_of.get(crew_id, []), key=rank.get):
            uscc = uscc_of[visit]
            # past: the tasks done there; later: the tasks still open (no outcome, still in the demands)
            stay = [
                t
                for t in tasks_of.get(visit, [])
                if t in records and t not in reasons and (status.get(t) == "done" if past else t not in status)
            ]
            if stay:
                at = np.array([records[t]["row"] for t in stay], dtype=np.int64)
                groups.append(VisitGroup(table, uscc, at, np.array([day_of[date]]), next_id))
                next_id += 1
        if not groups:
            continue
        members = [r["inspector_id"] for r in rows]
        member_rows_crew = [tuple(r[c] for c in MEMBER_COLUMNS) for r in rows]
        if not past:
            usccs = {g.uscc for g in groups}
            for n, person in enumerate(list(members)):
                why = _cannot_go(person, date, usccs, roster)
                if why is None:
                    continue
                dept = rows[n]["dept_id"]
                other = _replacement(dept, date, usccs, roster, busy, days_used, scenario.seed)
                if other is None:
                    released[crew_id] = f"{person} {why} on {date.isoformat()} and no other inspector of {dept} can go"
                    break
                busy[date].add(other)
                days_used[other] = days_used.get(other, 0) + 1
                members[n] = other
                member_rows_crew[n] = (crew_id, date, other, dept, 1, lottery(scenario.seed, date, other), False)
            if crew_id in released:
                continue
        township = rows[0]["township"]
        station = f"station:{township}"
        onsite = {g.group_id: g.onsite_min(scenario.onsite) for g in groups}
        length = route_minutes(station, groups, onsite, travel)
        seats: dict[str, int] = {}
        for person in members:
            seats[roster.dept_of.get(person, "?")] = seats.get(roster.dept_of.get(person, "?"), 0) + 1
        kept.append(
            Crew(crew_id, township, day_of[date], seats, groups, max(PLANNED_DAY_MIN, length), length, tuple(members))
        )
        member_rows += member_rows_crew
    frame = pd.DataFrame(member_rows, columns=MEMBER_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"])
    return kept, frame, released


def _cannot_go(person: str, date: dt.date, usccs: set[str], roster: Roster) -> str | None:
    """Why a kept crew's member can no longer go that day (None: they can)."""
    if person not in roster.dept_of:
        return "is no longer a certified inspector on the roster"
    if date in roster.leave.get(person, ()):
        return "is on leave"
    if roster.conflicts.get(person, frozenset()) & usccs:
        return "has a conflict of interest (回避) there"
    return None


def _replacement(
    dept: str, date: dt.date, usccs: set[str], roster: Roster, busy: dict, days_used: dict, seed: int
) -> str | None:
    """Another inspector of ``dept`` free that day, no conflict, days left: the lowest lottery number."""
    candidates = [
        p
        for p, d in roster.dept_of.items()
        if d == dept
        and p not in busy.get(date, set())
        and _cannot_go(p, date, usccs, roster) is None
        and days_used.get(p, 0) < roster.max_days[p]
    ]
    return min(candidates, key=lambda p: (lottery(seed, date, p), p), default=None)


def _join_kept_visits(
    open_ids,
    records,
    kept: list[Crew],
    roster: Roster,
    instance: Instance,
    scenario: Scenario,
    travel: TravelTimes,
    start: int,
    freeze_end: dt.date,
) -> set[str]:
    """Open tasks that join a kept visit at their enterprise after the freeze window: a day of
    their window, the crew covers their department, the stay and the day still fit, and the
    caps are untouched (an exempt task, or a capped visit the department already checks in)."""
    by_uscc: dict[str, list[tuple[Crew, int]]] = {}  # the crew and the group's place on its route
    for crew in kept:
        if crew.day < start or instance.workdays[crew.day] < freeze_end:
            continue
        for at, group in enumerate(crew.groups):
            by_uscc.setdefault(group.uscc, []).append((crew, at))
    joined: set[str] = set()
    for task_id in open_ids:
        task = records[task_id]
        if task["first_day"] < 0 or task["uscc"] not in by_uscc:
            continue
        feasible = set(feasible_days(task["first_day"], task["last_day"], task["capped"], instance.quiet).tolist())
        for crew, at in sorted(by_uscc[task["uscc"]], key=lambda ca: ca[0].day):
            group = crew.groups[at]
            if crew.day not in feasible or len(crew.members) < min_crew(task["min_inspectors"]):
                continue
            trial = VisitGroup(group.table, group.uscc, np.append(group.rows, task["row"]), group.days, group.group_id)
            if not leaves_caps_alone(task["capped"], task["dept_id"], group.capped, group.depts):
                continue
            if not members_cover(crew.members, trial, roster):
                continue
            if trial.onsite_min(scenario.onsite) > MAX_VISIT_ONSITE_MIN:
                continue
            onsite = {g.group_id: (trial if g is group else g).onsite_min(scenario.onsite) for g in crew.groups}
            length = route_minutes(f"station:{crew.township}", crew.groups, onsite, travel)
            if length > min([crew.limit_min] + [day_minutes(roster.hours_per_day[m]) for m in crew.members]):
                continue
            crew.groups[at] = trial  # a group's tasks are fixed once made: the larger one replaces it
            crew.length_min = length
            joined.add(task_id)
            break
    return joined


def _changes(prev, planned: pd.DataFrame, tables, status: dict, reasons: dict, as_of: dt.date) -> pd.DataFrame:
    """One row per task: what the re-optimisation did to it, with the reason where it left the plan."""
    now = (
        tables.visit_tasks[["task_id", "visit_id"]]
        .merge(tables.visits[["visit_id", "visit_code", "date", "crew_id"]], on="visit_id")
        .set_index("task_id")
    )
    why = dict(zip(tables.unscheduled["task_id"], tables.unscheduled["reason"]))
    before, after = planned.to_dict("index"), now.to_dict("index")
    rows = []
    for task in tables.tasks.itertuples(index=False):
        was, new = before.get(task.task_id), after.get(task.task_id)
        old_date = was["date"] if was is not None else None
        new_date = pd.Timestamp(new["date"]).date() if new is not None else None
        reason = why.get(task.task_id, "")
        if status.get(task.task_id) in ("done", "cancelled", "closed"):
            change = status[task.task_id]
        elif was is None and new is None:
            change = "unscheduled"
        elif was is None:
            change = "added"
        elif new is None:
            change = "dropped"
        elif old_date == new_date and was["crew_id"] == new["crew_id"]:
            change = "kept"
        else:
            change = "moved"
        rows.append(
            (
                task.task_id,
                task.dept_id,
                task.uscc,
                task.kind,
                change,
                old_date,
                was["crew_id"] if was is not None else None,
                was["visit_code"] if was is not None else None,
                new_date,
                new["crew_id"] if new is not None else None,
                new["visit_code"] if new is not None else None,
                reason,
            )
        )
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def _summary(changes: pd.DataFrame) -> pd.DataFrame:
    """Per department: how many tasks were kept, moved, added, dropped, done, cancelled, closed."""
    table = changes.pivot_table(index="dept_id", columns="change", values="task_id", aggfunc="count", fill_value=0)
    return table.reset_index()
