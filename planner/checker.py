"""The plan checker: every hard rule, re-checked from the plan tables alone.

This is the specification of a valid plan. It does not share code with the planner's model or
scheduler — only the input loaders, the calendar and the travel model, which define the facts
the rules speak of — so a bug in planning cannot hide itself here. Every plan a test produces
goes through ``check_plan``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.caps import capped_history
from planner.dataset import Dataset
from planner.scenario import Scenario
from planner.schema import UNCAPPED_KINDS
from planner.travel import great_circle_km

OBSERVED_KINDS = ("random", "campaign")


@dataclass(frozen=True)
class PlanTables:
    """The tables of a plan folder (contract names and columns)."""

    tasks: pd.DataFrame
    visits: pd.DataFrame
    visit_tasks: pd.DataFrame
    crews: pd.DataFrame
    routes: pd.DataFrame
    unscheduled: pd.DataFrame


def check_plan(plan: PlanTables, dataset: Dataset, scenario: Scenario, workdays: set,
               draws: pd.DataFrame | None = None) -> list[str]:  # fmt: skip
    """Every broken hard rule, one sentence each; [] for a valid plan.

    With ``draws`` (draws.parquet), every selected enterprise's random task must be in the plan.
    """
    problems = _faithful(plan, dataset)
    if draws is not None and len(draws):
        chosen = draws[draws["selected"].astype(bool)]
        expected = set(chosen["plan_id"] + ":" + chosen["uscc"])
        problems += [f"random task {t} was drawn but is missing from tasks.parquet"
                     for t in sorted(expected - set(plan.tasks["task_id"]))]  # fmt: skip
    if problems:  # the rules below trust these tables' keys
        return problems
    for rule in (_each_task_once, _visit_days, _caps, _crews, _routes):
        problems += rule(plan, dataset, scenario, workdays)
    return problems


def _faithful(plan: PlanTables, dataset: Dataset) -> list[str]:
    """The plan's task list says what the demands say, and its keys are unique."""
    out = []
    for name, key in (("tasks", "task_id"), ("visits", "visit_id")):
        table = getattr(plan, name)
        out += [f"{name}.parquet lists {key} {k} twice" for k in sorted(set(table[key][table[key].duplicated()]))]
    seqs = plan.routes[["crew_id", "date", "seq"]]
    out += [f"routes.parquet has crew {c} on {_day(d).date()} stop {q} twice"
            for c, d, q in seqs[seqs.duplicated()].itertuples(index=False)]  # fmt: skip
    out += [f"routes.parquet names visit {v}, which is not in visits.parquet"
            for v in sorted(set(plan.routes["visit_id"]) - set(plan.visits["visit_id"]))]  # fmt: skip
    out += [f"visit_tasks.parquet names visit {v}, which is not in visits.parquet"
            for v in sorted(set(plan.visit_tasks["visit_id"]) - set(plan.visits["visit_id"]))]  # fmt: skip
    columns = ["dept_id", "uscc", "kind", "window_start", "window_end", "duration_min", "min_inspectors", "delegable"]
    demands = dataset.demands.set_index("task_id")[columns]
    tasks = plan.tasks.drop_duplicates("task_id").set_index("task_id")
    both = demands.index.intersection(tasks.index)
    for column in columns:
        want, got = demands.loc[both, column], tasks.loc[both, column]
        if column.startswith("window"):
            want, got = pd.to_datetime(want).dt.normalize(), pd.to_datetime(got).dt.normalize()
        for task_id, w, g in zip(both, want.tolist(), got.tolist()):
            if w != g:
                out.append(f"task {task_id}: {column} is {g!r} in the plan but {w!r} in the demands")
    kinds = plan.visit_tasks.join(tasks["kind"].rename("task_kind"), on="task_id")
    out += [f"visit_tasks gives task {t} kind {k}, the task list {tk}"
            for t, k, tk in zip(kinds["task_id"], kinds["kind"], kinds["task_kind"]) if k != tk]  # fmt: skip
    return out


def _day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _each_task_once(plan, dataset, scenario, workdays) -> list[str]:
    """Each task is done at most once, or listed as unscheduled with a reason — never both, never lost."""
    out = []
    placed = plan.visit_tasks["task_id"]
    unscheduled = plan.unscheduled["task_id"]
    for task_id in placed[placed.duplicated()].unique():
        out.append(f"task {task_id} is in more than one visit")
    for task_id in sorted(set(placed) & set(unscheduled)):
        out.append(f"task {task_id} is both placed and unscheduled")
    missing = set(plan.tasks["task_id"]) - set(placed) - set(unscheduled)
    out += [f"task {t} is neither placed nor unscheduled (dropped silently)" for t in sorted(missing)]
    unknown = (set(placed) | set(unscheduled)) - set(plan.tasks["task_id"])
    out += [f"task {t} is not in tasks.parquet" for t in sorted(unknown)]
    out += [f"unscheduled task {t} has no reason" for t, reason in zip(plan.unscheduled["task_id"], plan.unscheduled["reason"])
            if not isinstance(reason, str) or not reason.strip()]  # fmt: skip
    demands = set(dataset.demands["task_id"])
    out += [f"demand {t} is missing from tasks.parquet" for t in sorted(demands - set(plan.tasks["task_id"]))]
    return out


def _joined(plan) -> pd.DataFrame:
    """visit_tasks with their visit (date, uscc, crew) and task (window, kind …)."""
    visits = plan.visits.set_index("visit_id")
    tasks = plan.tasks.set_index("task_id")
    joined = plan.visit_tasks[["task_id", "visit_id"]].join(visits[["uscc", "date", "crew_id"]], on="visit_id")
    return joined.join(tasks.drop(columns=["uscc"]), on="task_id")


def _visit_days(plan, dataset, scenario, workdays) -> list[str]:
    """Working day inside each task's window ∩ horizon, after observation, quiet days kept free."""
    out = []
    joined = _joined(plan)
    tasks = plan.tasks.set_index("task_id")
    mismatch = joined[joined["uscc"] != joined["task_id"].map(tasks["uscc"])]
    out += [f"task {r.task_id} is at another enterprise than its visit {r.visit_id}" for r in mismatch.itertuples()]
    observation = dataset.enterprises.set_index("uscc")["observation_until"]
    capped_visits = set(_capped_visit_ids(plan))
    start, end = pd.Timestamp(scenario.horizon.start), pd.Timestamp(scenario.horizon.end)
    # column-wise, every row that may break a rule; the messages come from the row loop below,
    # which now sees only those rows (a Timestamp per row and rule was most of the check)
    day = pd.to_datetime(joined["date"]).dt.normalize()
    dates = day.dt.date
    first = pd.to_datetime(joined["window_start"]).dt.normalize()
    last = pd.to_datetime(joined["window_end"]).dt.normalize()
    first, last = first.where(~(start > first), start), last.where(~(end < last), end)  # NaT stays, as max/min
    until = joined["uscc"].map(observation)
    quiet_dates = {d for d in dates.dropna().unique() if scenario.quiet(d)}
    suspect = (~dates.isin(workdays) | ~((first <= day) & (day <= last))
               | (joined["kind"].isin(OBSERVED_KINDS) & until.notna() & (day <= until))
               | (joined["visit_id"].isin(capped_visits) & dates.isin(quiet_dates)))  # fmt: skip
    for r in joined[suspect].itertuples():
        day = _day(r.date)
        if day.date() not in workdays:
            out.append(f"visit {r.visit_id} on {day.date()} is not an official working day")
        if not (max(_day(r.window_start), start) <= day <= min(_day(r.window_end), end)):
            out.append(f"task {r.task_id} on {day.date()} is outside its window ∩ horizon")
        until = observation.get(r.uscc)
        if r.kind in OBSERVED_KINDS and pd.notna(until) and day <= until:
            out.append(f"{r.kind} task {r.task_id} on {day.date()} is inside the observation period (until {until.date()})")
        if r.visit_id in capped_visits and scenario.quiet(day.date()):
            out.append(f"capped visit {r.visit_id} on {day.date()} falls on a quiet day")
    return out


def _capped_visit_ids(plan) -> list[str]:
    """A visit is capped unless every task in it is triggered or followup."""
    uncapped = plan.visit_tasks["kind"].isin(UNCAPPED_KINDS).groupby(plan.visit_tasks["visit_id"]).all()
    return list(uncapped.index[~uncapped])


def _caps(plan, dataset, scenario, workdays) -> list[str]:
    """一年最多查一次 and the per-department yearly cap, counting history."""
    out = []
    capped = plan.visits[plan.visits["visit_id"].isin(_capped_visit_ids(plan))]
    capped_tasks = plan.visit_tasks[plan.visit_tasks["visit_id"].isin(capped["visit_id"])]
    per_dept = capped_tasks.join(capped.set_index("visit_id")[["uscc", "date"]], on="visit_id")
    per_dept = per_dept[["uscc", "dept_id", "date"]].assign(date=lambda f: pd.to_datetime(f["date"]))
    history = capped_history(dataset.history)[["uscc", "dept_id", "date"]]
    visits = pd.concat([per_dept, history]).drop_duplicates()
    visits["year"] = visits["date"].dt.year
    # only what the plan adds to: history alone is the past, not this plan's doing
    planned_dept = set(zip(per_dept["uscc"], per_dept["dept_id"], per_dept["date"].dt.year))
    planned_firm = {(u, y) for u, _, y in planned_dept}
    mine = np.array([key in planned_dept for key in zip(visits["uscc"], visits["dept_id"], visits["year"])], dtype=bool)
    counts = visits.loc[mine].groupby(["uscc", "dept_id", "year"]).size()
    for (uscc, dept, year), n in counts[counts > scenario.caps.per_dept_per_year].items():
        out.append(f"{dept} has {n} capped visits at {uscc} in {year} (cap {scenario.caps.per_dept_per_year})")
    positive = set(dataset.enterprises.loc[dataset.enterprises["positive_list"], "uscc"])
    firm = np.array([key in planned_firm for key in zip(visits["uscc"], visits["year"])], dtype=bool)
    visits = visits.loc[firm]
    dates = visits[visits["uscc"].isin(positive)].drop_duplicates(["uscc", "date"]).groupby(["uscc", "year"]).size()
    for (uscc, year), n in dates[dates > scenario.caps.positive_list_per_year].items():
        out.append(f"positive-list {uscc} has {n} capped visits in {year} (cap {scenario.caps.positive_list_per_year})")
    return out


def _crews(plan, dataset, scenario, workdays) -> list[str]:
    """Certified, available, conflict-free crews of the right size and departments, one a day each."""
    out = []
    crews, visits = plan.crews, plan.visits
    staff = dataset.inspectors.set_index("inspector_id")
    certified = set(staff.index[staff["cert_no"].notna()])
    dept_of, delegations = staff["dept_id"].to_dict(), staff["delegated_depts"].to_dict()
    members = crews.groupby(["crew_id", "date"])["inspector_id"].agg(list).to_dict()
    for (crew_id, date), people in members.items():
        if len(set(people)) < len(people):
            out.append(f"crew {crew_id} on {_day(date).date()} lists an inspector twice")
    members = {key: sorted(set(people)) for key, people in members.items()}
    leave = defaultdict(set)
    for who, a, b in dataset.leave[["inspector_id", "start", "end"]].itertuples(index=False):
        leave[who].update(d.date() for d in pd.date_range(a, b))
    conflicts = set(zip(dataset.conflicts["inspector_id"], dataset.conflicts["uscc"]))
    for (crew_id, date), people in members.items():
        day = _day(date).date()
        for who in people:
            if who not in certified:
                out.append(f"crew {crew_id} on {day}: {who} is not a certified inspector")
            elif day in leave[who]:
                out.append(f"crew {crew_id} on {day}: {who} is on leave")
    twice = crews.groupby(["inspector_id", "date"])["crew_id"].nunique()
    out += [f"{who} is on {n} crews on {_day(d).date()}" for (who, d), n in twice[twice > 1].items()]
    default_days = int(scenario.planned_share * len(workdays))
    days = crews.drop_duplicates(["inspector_id", "date"]).groupby("inspector_id").size()
    max_days = staff["max_days"].to_dict()
    for who, n in days.items():
        limit = max_days.get(who)
        limit = default_days if limit is None or pd.isna(limit) else int(limit)
        if n > limit:
            out.append(f"{who} works {n} planned days, more than max_days {limit}")
    tasks = plan.visit_tasks[["visit_id", "task_id", "dept_id"]].join(
        plan.tasks.set_index("task_id")[["min_inspectors", "delegable"]], on="task_id")
    tasks_of: dict[str, list] = defaultdict(list)
    for record in tasks.itertuples(index=False):
        tasks_of[record.visit_id].append(record)
    route_of = visits.groupby(["crew_id", "date"])["uscc"].agg(set).to_dict()
    for visit_id, crew_id, date in visits[["visit_id", "crew_id", "date"]].itertuples(index=False):
        day = _day(date).date()
        people = members.get((crew_id, date))
        own = tasks_of.get(visit_id)
        if people is None or not own:
            out.append(f"visit {visit_id} has no {'crew' if people is None else 'tasks'} ({crew_id} on {day})")
            continue
        need = max([int(t.min_inspectors) for t in own] + [2])
        if len(people) < need:
            out.append(f"visit {visit_id}: crew of {len(people)} but {need} inspectors needed")
        depts = {dept_of.get(p) for p in people}
        delegated = set().union(*(set(delegations.get(p, ())) for p in people))
        for t in own:
            if t.dept_id not in depts and not (t.delegable and t.dept_id in delegated):
                out.append(f"visit {visit_id}: no inspector of {t.dept_id} (or delegated for it) for task {t.task_id}")
        for p in people:
            for u in route_of[(crew_id, date)]:
                if (p, u) in conflicts:
                    out.append(f"crew {crew_id} on {day}: {p} has a conflict (回避) with {u}")
    return sorted(set(out))


def _routes(plan, dataset, scenario, workdays) -> list[str]:
    """Routes from and back to the station; times add up; the day fits every member's hours."""
    out = []
    routes = plan.routes.sort_values(["crew_id", "date", "seq"])
    visits = plan.visits.set_index("visit_id")[["uscc", "crew_id", "date", "start_min", "end_min"]].to_dict("index")
    where_is = {u: (la, lo) for u, la, lo in dataset.enterprises[["uscc", "lat", "lon"]].itertuples(index=False)}
    stations = {t: (la, lo) for t, la, lo in dataset.townships[["township", "lat", "lon"]].itertuples(index=False)}
    hours_of = dataset.inspectors.set_index("inspector_id")["hours_per_day"].to_dict()
    durations = plan.visit_tasks.join(plan.tasks.set_index("task_id")["duration_min"], on="task_id")
    if scenario.onsite == "parallel":
        onsite = durations.groupby(["visit_id", "dept_id"])["duration_min"].sum().groupby("visit_id").max().to_dict()
    else:
        onsite = durations.groupby("visit_id")["duration_min"].sum().to_dict()
    crews = plan.crews.drop_duplicates(["crew_id", "date"]).set_index(["crew_id", "date"])
    crews = crews[["township", "day_start_min", "day_end_min"]].to_dict("index")
    hours = plan.crews.assign(h=plan.crews["inspector_id"].map(hours_of)).groupby(["crew_id", "date"])["h"].min()
    hours = hours.to_dict()
    out += [f"visit {v} is on no route" for v in sorted(set(visits) - set(routes["visit_id"]))]
    factor = scenario.travel.detour_factor / scenario.travel.speed_kmh * 60

    def minutes(a, b) -> int:
        return int(np.ceil(round(float(great_circle_km(a[0], a[1], b[0], b[1])) * factor, 9)))

    legs_of: dict[tuple, list] = defaultdict(list)
    for leg in routes.itertuples(index=False):
        legs_of[(leg.crew_id, leg.date)].append(leg)
    for (crew_id, date), legs in legs_of.items():
        where = f"crew {crew_id} on {_day(date).date()}"
        crew = crews.get((crew_id, date))
        if crew is None:
            out.append(f"{where}: route without crew rows")
            continue
        station = stations[crew["township"]]
        if [leg.seq for leg in legs] != list(range(1, len(legs) + 1)):
            out.append(f"{where}: seq is not 1…{len(legs)}")
        here, clock = station, int(crew["day_start_min"])
        for leg in legs:
            visit = visits[leg.visit_id]
            there = where_is[visit["uscc"]]
            travel = minutes(here, there)
            if leg.travel_min != travel:
                out.append(f"{where}: leg into {leg.visit_id} takes {travel} min, not {leg.travel_min}")
            if leg.arrive_min < clock + travel:
                out.append(f"{where}: arrives at {leg.visit_id} before it can get there")
            if leg.depart_min - leg.arrive_min < onsite.get(leg.visit_id, 0):
                out.append(f"{where}: stays {leg.depart_min - leg.arrive_min} min at {leg.visit_id}, "
                           f"its tasks need {onsite.get(leg.visit_id, 0)}")  # fmt: skip
            if (visit["start_min"], visit["end_min"]) != (leg.arrive_min, leg.depart_min):
                out.append(f"{where}: visit {leg.visit_id} times differ from its route")
            if visit["crew_id"] != crew_id or _day(visit["date"]) != _day(date):
                out.append(f"{where}: visit {leg.visit_id} belongs to another crew or day")
            here, clock = there, int(leg.depart_min)
        back = clock + minutes(here, station)
        if int(crew["day_end_min"]) < back:
            out.append(f"{where}: day ends at {crew['day_end_min']} before the crew is back ({back})")
        length = int(crew["day_end_min"]) - int(crew["day_start_min"])
        if length > hours[(crew_id, date)] * 60:
            out.append(f"{where}: a {length}-minute day exceeds a member's hours_per_day")
    return out
