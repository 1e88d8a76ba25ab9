"""Routes: a crew-day leaves its township's station, visits in order and comes back, and its
times add up under the scenario's travel model.

- ``route_times``: each leg takes the travel model's minutes, a crew arrives no earlier than it
  can, stays as long as its tasks need, and is back at the station when its day ends;
- ``day_length`` (a staff-day rule, checked here where the day's length is known): the day
  fits every member's ``hours_per_day``.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd

from planner.messages import Dept, msg, reason
from planner.rules.explain import BLOCKED, Verdict
from planner.rules.staff_days import day_minutes
from planner.travel import great_circle_km


def _onsite(plan, onsite_mode: str) -> dict[str, int]:
    """visit → on-site minutes its tasks need (the sum, or in parallel the largest department's)."""
    durations = plan.visit_tasks.join(plan.tasks.set_index("task_id")["duration_min"], on="task_id")
    if onsite_mode == "parallel":
        return durations.groupby(["visit_id", "dept_id"])["duration_min"].sum().groupby("visit_id").max().to_dict()
    return durations.groupby("visit_id")["duration_min"].sum().to_dict()


def check_route_times(plan, inputs) -> list[str]:
    """Hard rule: routes from and back to the station; travel, arrival, stay and visit times add up."""
    out = []
    dataset, scenario = inputs.dataset, inputs.scenario
    routes = plan.routes.sort_values(["crew_id", "date", "seq"])
    visits = plan.visits.set_index("visit_id")[["uscc", "crew_id", "date", "start_min", "end_min"]].to_dict("index")
    where_is = {u: (la, lo) for u, la, lo in dataset.enterprises[["uscc", "lat", "lon"]].itertuples(index=False)}
    stations = {t: (la, lo) for t, la, lo in dataset.townships[["township", "lat", "lon"]].itertuples(index=False)}
    onsite = _onsite(plan, scenario.onsite)
    crews = plan.crews.drop_duplicates(["crew_id", "date"]).set_index(["crew_id", "date"])
    crews = crews[["township", "day_start_min", "day_end_min"]].to_dict("index")
    out += [msg("check.route.no_route", visit=v) for v in sorted(set(visits) - set(routes["visit_id"]))]
    factor = scenario.travel.detour_factor / scenario.travel.speed_kmh * 60

    def minutes(a, b) -> int:
        return int(np.ceil(round(float(great_circle_km(a[0], a[1], b[0], b[1])) * factor, 9)))

    legs_of: dict[tuple, list] = defaultdict(list)
    for leg in routes.itertuples(index=False):
        legs_of[(leg.crew_id, leg.date)].append(leg)
    for (crew_id, date), legs in legs_of.items():
        where = msg("check.route.where", crew=crew_id, date=pd.Timestamp(date).date())
        crew = crews.get((crew_id, date))
        if crew is None:
            out.append(msg("check.route.no_crew", where=where))
            continue
        station = stations[crew["township"]]
        if [leg.seq for leg in legs] != list(range(1, len(legs) + 1)):
            out.append(msg("check.route.seq", where=where, n=len(legs)))
        here, clock = station, int(crew["day_start_min"])
        for leg in legs:
            visit = visits[leg.visit_id]
            there = where_is[visit["uscc"]]
            travel = minutes(here, there)
            if leg.travel_min != travel:
                out.append(
                    msg("check.route.leg", where=where, visit=leg.visit_id, travel=travel, recorded=leg.travel_min)
                )
            if leg.arrive_min < clock + travel:
                out.append(msg("check.route.too_early", where=where, visit=leg.visit_id))
            if leg.depart_min - leg.arrive_min < onsite.get(leg.visit_id, 0):
                stay, need = leg.depart_min - leg.arrive_min, onsite.get(leg.visit_id, 0)
                out.append(msg("check.route.stay", where=where, minutes=stay, visit=leg.visit_id, need=need))
            if (visit["start_min"], visit["end_min"]) != (leg.arrive_min, leg.depart_min):
                out.append(msg("check.route.times", where=where, visit=leg.visit_id))
            if visit["crew_id"] != crew_id or pd.Timestamp(visit["date"]).normalize() != pd.Timestamp(date).normalize():
                out.append(msg("check.route.other_crew", where=where, visit=leg.visit_id))
            here, clock = there, int(leg.depart_min)
        back = clock + minutes(here, station)
        if int(crew["day_end_min"]) < back:
            out.append(msg("check.route.day_end", where=where, end=crew["day_end_min"], back=back))
    return out


def check_day_length(plan, inputs) -> list[str]:
    """Hard rule: a crew-day fits every member's hours_per_day."""
    hours_of = inputs.dataset.inspectors.set_index("inspector_id")["hours_per_day"].to_dict()
    current = inputs.current(plan.crews)
    crews = current.assign(limit=current["inspector_id"].map(hours_of).map(day_minutes, na_action="ignore"))
    days = crews.groupby(["crew_id", "date"]).agg(
        start=("day_start_min", "first"), end=("day_end_min", "first"), limit=("limit", "min")
    )
    length = days["end"] - days["start"]
    broken = days[length > days["limit"]]
    return [
        msg("check.day_length", crew=c, date=pd.Timestamp(d).date(), minutes=int(n))
        for (c, d), n in zip(broken.index, (broken["end"] - broken["start"]).tolist())
    ]


# --- explain: why a task cannot keep the rule (planner diagnose) -----------------------------


def explain_day_length(task: dict, county) -> Verdict | None:
    """Hard rule: a crew-day fits every member's hours_per_day; this task alone needs its
    on-site minutes plus the trip from the township station and back."""
    facts = county.facts(task)
    candidates = facts.candidates
    if not len(candidates):
        return None
    longest = int(county.day_min[candidates].max())
    crew = int(facts.long_enough.sum())
    split = max(longest - facts.travel_min, 0)  # the longest part one inspector's day can take
    hours = math.ceil(facts.length_min / 60)
    onsite = int(task["duration_min"])
    if not facts.long_enough[candidates].any():
        return Verdict(
            "day_length",
            BLOCKED,
            reason("day_length", "reason.day_length", onsite=onsite, total=facts.length_min).noted(
                msg("diagnose.day_length.longest", hours=f"{longest / 60:g}")
            ),
            msg("fix.day_length", minutes=split, dept=Dept(task["dept_id"]), hours=hours, column="hours_per_day"),
        )
    if crew < facts.min_crew:
        return Verdict(
            "day_length",
            BLOCKED,
            msg("diagnose.day_length.crew", onsite=onsite, total=facts.length_min, crew=crew, min_crew=facts.min_crew),
            msg("fix.day_length.crew", minutes=split, hours=hours),
        )
    return None
