"""Staff capacity in ``planner diagnose``: person-minutes per department and ISO week.

For any range of weeks [a, b], the person-minutes on site that a department's mandatory tasks
whose feasible days lie wholly inside [a, b] need at the least cannot exceed what its certified
inspectors can give in [a, b] (module doc of ``planner.diagnose``); a range where they do is a
shortfall.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from planner.diagnose.facts import County
from planner.diagnose.findings import Shortfall
from planner.messages import Dept, msg, text
from planner.rules.explain import AT_RISK, Verdict

#: the whole county in the capacity table (every department's inspectors together)
COUNTY = "*"
_RANGES_PER_DEPT = 3  # worst disjoint week ranges reported per department
CAPACITY_COLUMNS = [
    "dept_id",
    "week",
    "week_start",
    "workdays",
    "inspectors",
    "due_min",
    "spread_min",
    "supply_min",
    "paced_supply_min",
]


def capacity_check(tasks: list[dict], county: County) -> tuple[pd.DataFrame, list[Shortfall], dict[str, Verdict]]:
    """The weekly table, the worst disjoint week ranges short of time per department, and an
    at-risk verdict for each task inside a proven shortfall."""
    week_of, labels, week_days = _weeks(county.workdays)
    n_weeks = len(labels)
    demand: dict[str, list[tuple[dict, int]]] = {}  # department → (task, person-minutes)
    for task in tasks:
        facts = county.facts(task)
        if not (task["delegable"] and len(facts.delegates)):  # a delegate could carry it instead
            demand.setdefault(task["dept_id"], []).append((task, int(task["duration_min"])))
        if county.scenario.onsite == "sum":
            demand.setdefault(COUNTY, []).append((task, facts.min_crew * int(task["duration_min"])))
    rows, shortfalls, at_risk = [], [], {}
    depts = sorted(county.own) + ([COUNTY] if county.scenario.onsite == "sum" else [])
    for dept_id in depts:
        people = np.arange(len(county.people)) if dept_id == COUNTY else county.own[dept_id]
        # days each person can work per week; the minutes of such a day; max_days over any range
        free = np.zeros((len(people), n_weeks), dtype=np.int64)
        for w in range(n_weeks):
            free[:, w] = county.avail[np.ix_(people, np.flatnonzero(week_of == w))].sum(axis=1)
        day_min, max_days = county.day_min[people], county.max_days[people]
        share = np.minimum(1.0, max_days / max(len(county.workdays), 1))
        cum = np.concatenate([np.zeros((len(people), 1), np.int64), free.cumsum(axis=1)], axis=1)
        in_range = cum[:, None, 1:] - cum[:, :-1, None]  # [person, a, b]: free days in weeks a..b
        days = np.minimum(in_range, max_days[:, None, None])
        supply = (days * day_min[:, None, None]).sum(axis=0)
        paced = (in_range * (day_min * share)[:, None, None]).sum(axis=0)
        supply_days, paced_days = days.sum(axis=0), (in_range * share[:, None, None]).sum(axis=0)
        due = np.zeros((n_weeks, n_weeks), dtype=np.int64)
        count = np.zeros((n_weeks, n_weeks), dtype=np.int64)
        spread = np.zeros(n_weeks)
        spans = []
        for task, minutes in demand.get(dept_id, []):
            days = county.facts(task).days
            a, b = int(week_of[days[0]]), int(week_of[days[-1]])
            due[a, b] += minutes
            count[a, b] += 1
            spread += np.bincount(week_of[days], minlength=n_weeks) * (minutes / len(days))
            spans.append((task, a, b, minutes))
        inside = np.flip(np.flip(due, 0).cumsum(0), 0).cumsum(1)  # [a, b]: tasks with a ≤ wa, wb ≤ b
        n_inside = np.flip(np.flip(count, 0).cumsum(0), 0).cumsum(1)
        name = text("diagnose.county") if dept_id == COUNTY else county.dept_name.get(dept_id, dept_id)
        for is_paced, limit, limit_days in ((False, supply, supply_days), (True, paced, paced_days)):
            for a, b in _worst_ranges(inside - limit):
                within = [m for _, wa, wb, m in spans if a <= wa and wb <= b]
                at_most = _most_that_fit(within, int(limit[a, b]))
                shortfalls.append(
                    Shortfall(
                        dept_id,
                        name,
                        labels[a],
                        labels[b],
                        week_days[a][0],
                        week_days[b][-1],
                        int(n_inside[a, b]),
                        int(inside[a, b]),
                        int(limit[a, b]),
                        is_paced,
                        round(float(limit_days[a, b]), 1),
                        at_most,
                    )
                )
                if not is_paced:
                    for task, wa, wb, _ in spans:
                        if a <= wa and wb <= b and task["task_id"] not in at_risk:
                            at_risk[task["task_id"]] = _capacity_verdict(
                                dept_id,
                                county,
                                labels[a],
                                labels[b],
                                (int(n_inside[a, b]), at_most),
                                (int(inside[a, b]), int(limit[a, b]), float(limit_days[a, b])),
                            )
        for w in range(n_weeks):
            rows.append(
                (
                    dept_id,
                    labels[w],
                    week_days[w][0],
                    len(week_days[w]),
                    int((free[:, w] > 0).sum()),
                    int(due[w, w]),
                    int(round(spread[w])),
                    int(supply[w, w]),
                    int(round(paced[w, w])),
                )
            )
    shortfalls.sort(key=lambda s: (s.paced, -s.short_min, s.dept_id, s.first_week))
    return pd.DataFrame(rows, columns=CAPACITY_COLUMNS), shortfalls, at_risk


def _weeks(workdays: tuple[dt.date, ...]) -> tuple[np.ndarray, list[str], list[list[dt.date]]]:
    """Each working day's ISO-week number (0, 1, …), the week labels and each week's working days."""
    labels: list[str] = []
    week_days: list[list[dt.date]] = []
    week_of = np.zeros(len(workdays), dtype=np.int64)
    for n, day in enumerate(workdays):
        year, week, _ = day.isocalendar()
        label = f"{year}-W{week:02d}"
        if not labels or labels[-1] != label:
            labels.append(label)
            week_days.append([])
        week_days[-1].append(day)
        week_of[n] = len(labels) - 1
    return week_of, labels, week_days


def _worst_ranges(excess: np.ndarray) -> list[tuple[int, int]]:
    """Up to _RANGES_PER_DEPT disjoint week ranges [a, b] with the largest positive excess."""
    a_idx, b_idx = np.nonzero(np.triu(excess > 0))
    order = sorted(zip(a_idx.tolist(), b_idx.tolist()), key=lambda ab: (-excess[ab], ab[1] - ab[0], ab))
    chosen: list[tuple[int, int]] = []
    for a, b in order:
        if all(b < c or a > d for c, d in chosen):
            chosen.append((a, b))
            if len(chosen) == _RANGES_PER_DEPT:
                break
    return sorted(chosen)


def _most_that_fit(minutes: list[int], supply: int) -> int:
    """The most tasks of ``minutes`` whose minutes together fit ``supply``: the shortest first (no
    other choice of as many fits when these do not)."""
    return int(np.searchsorted(np.cumsum(np.sort(np.asarray(minutes, dtype=np.int64))), supply, side="right"))


def _capacity_verdict(
    dept_id: str, county: County, first: str, last: str, count: tuple[int, int], time: tuple[int, int, float]
) -> Verdict:
    """``count``: the range's tasks and the most of them any plan can place; ``time``: their
    person-minutes, the inspectors' minutes and the inspector-days those are."""
    (tasks, at_most), (demand, supply, days) = count, time
    weeks = first if first == last else f"{first}–{last}"
    who = msg("diagnose.who.county") if dept_id == COUNTY else msg("diagnose.who.dept", dept=Dept(dept_id))
    return Verdict(
        "staff_capacity",
        AT_RISK,
        msg(
            "diagnose.staff_capacity",
            weeks=weeks,
            tasks=tasks,
            need=f"{demand / 60:,.1f}",
            who=who,
            days=f"{days:,.1f}",
            have=f"{supply / 60:,.1f}",
            at_most=at_most,
        ),
        msg("fix.staff_capacity", hours=f"{(demand - supply) / 60:,.1f}"),
    )
