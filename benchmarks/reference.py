"""A side-by-side reference (issue 14, item 5): one CP-SAT model of the whole problem beside the planner.

    python benchmarks/reference.py --work out/reference                 # 1k, normal and tight capacity
    python benchmarks/reference.py --work out/reference --capacities tight --seconds 60 240 60
    python benchmarks/reference.py --scenario my.toml --plan my-plan     # any scenario and its plan

The planner decomposes (per-enterprise merge models, a capacity LP, a constructive scheduler);
this script builds ONE CP-SAT model of a whole county at task level and day level, and solves it
time-boxed beside the planner's plan of the same scenario:

- ``x[t, d]``: task ``t`` is done on working day ``d`` (only its feasible days: window ∩ horizon,
  working days, after the observation period, no quiet day for a capped task — the instance's
  ``feasible_days``, i.e. ``rules.windows``, ``rules.observation``, ``rules.quiet_days``); each
  task at most once;
- ``visit[e, d]``: one visit per enterprise a day (``rules.stays``), holding every task done
  there that day: ``visit = max(x)``;
- stays (``rules.stays.add_one_stay``): a day's on-site minutes at an enterprise within 6 hours, a
  task longer than that alone, or a long stay up to ``long_stay_limits`` (the longest any of its
  departments can staff, less the road); a visit and its road to and from the station within the
  longest working day of any inspector; a task no eligible inspector's day can hold is left out;
- 一年最多查一次 and each department's yearly cap, counting history (``rules.caps.link_capped`` and
  ``add_yearly_caps``, where a cap can bind at all);
- staff, per department ``k``, township ``s`` and day ``d``: ``p[k, s, d]`` inspector-days (an
  integer: a person-day is spent whole, in one township — a crew keeps to its township's station,
  as crews.parquet records one township per crew-day), at most the department's certified
  inspectors not on leave that day over all townships, and over the horizon at most
  Σ min(max_days, days not on leave) of its inspectors (``rules.staff_days``, ``max_days``
  aggregated per department). Each person-day holds at most ``D[k]`` minutes, the longest
  working day of the department's inspectors (``hours_per_day``). In each township and day:

  - a department's own minutes: the on-site minutes of its tasks there (not delegable, or
    without any delegate) plus the *travel allowance* of each enterprise it checks, within
    ``D[k] · p[k, s, d]``; a delegable task's minutes (委托查) within its department's and its
    delegates' departments' minutes together;
  - the crews' minutes: Σ ``min_crew(t) · duration(t)`` over the tasks, plus 2 × the travel
    allowance of each visit, within Σ_k ``D[k] · p[k, s, d]`` (a crew of c ≥ ``min_inspectors``
    ≥ 2 members, ``rules.crews.min_crew``, spends c × its whole stay, ``onsite = "sum"``: at
    least this);
  - at least 2 (or ``min_inspectors``) inspector-days wherever a visit needs such a crew.

  The *travel allowance* of a visit is the shortest leg that can reach its enterprise: from its
  township's station or from any other enterprise of the township
  (``TravelTimes.shortest_inward``, as the capacity bound counts it) — a lower bound on the road
  of any route through it, so the allowance never overstates the road.

Objective, lexicographic, solved level after level; each level keeps the ones before with
``>=`` their best value and starts from the best solution found so far (the planner's plan
among them) as its hint: (1) mandatory tasks placed; (2) tasks placed, then priority, then
fewest visits, as one weighted objective ``W_v · (W · tasks + Σ priority) − visits`` with
``W = 1 + Σ priority`` and ``W_v = 1 + tasks`` (so one task outweighs all priority, and one
unit of priority all visits: lexicographic); optionally (3) fewest visits alone (a third
``--seconds``). Two levels by default: each level presolves the whole model again (80 s of the
first 1k run), and the second level already prefers fewer visits. Inspector hours, the
planner's fifth goal, are not a level (the model has inspector-days, not hours; reported).

**What the model relaxes, and so what its optimum is.** Individual inspectors are pooled per
department (no person's own ``max_days``, leave or ``hours_per_day``, no 回避 conflicts, no crew
composition: a department's minutes of a day are shared among its crews as if one person could
move between them; a delegate's department counts all its inspectors as delegates); a
department's inspector is counted for its own checks and the leg in, not for sitting through
the other departments' checks of a joint visit, and a crew for ``min_crew`` seats, not one per
department; routes are not sequenced (only the shortest leg in, no return to the station, no
waiting); a long stay is allowed for any task, not only for one that keeps a mandatory task. Every plan that keeps the
planner's rules is a solution of the model (the script checks it on the planner's own plan,
which it gives the model as its first hint: ``planner_plan_fits``). So the model's optimum,
and every best bound CP-SAT proves, is an **upper bound** on what any plan places, level by
level: on mandatory tasks, and on tasks among plans placing at least the level-1 incumbent's
mandatory tasks. Its solution is not a plan (no crews, no routes); where it places more than the
planner, the difference is the planner's or the relaxation's, which this model cannot tell
apart — only a gap between the planner and the model's proven bound that the relaxation
cannot explain would be the planner's.

Off-site checks, appointments and overrides are not modelled: the script refuses a scenario
that has them (exit 2). CP-SAT runs ``--workers`` search workers (2) with a fixed seed and a wall
time limit per level (``--seconds``, 150 + 450 by default): a run on a loaded machine may
find other incumbents; the bounds stay bounds. Prints one table row per scenario on stdout and
writes every figure, and the reference's date of each task it places, as JSON (``--json``, or
``reference.json`` in ``--work``). Two looks at a JSON it wrote: ``--fill`` (what a person-day
holds in the planner's plan and in the reference's solution) and ``--pins`` (a copy of each
dataset with the reference's days as ``pin_date`` overrides, for ``planner plan``: how much of
the reference's day choice the planner's crews realise).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from planner.bench import machine, write_generated, write_scenario
from planner.model.instance import Instance, build_instance
from planner.model.matching import Roster
from planner.rules.caps import YearlyCaps, add_yearly_caps, link_capped
from planner.rules.crews import min_crew
from planner.rules.offsite import OFFSITE
from planner.rules.staff_days import day_minutes
from planner.rules.stays import MAX_VISIT_ONSITE_MIN, add_one_stay, long_stay_limits
from planner.sampling import draw_sampling_plan
from planner.scenario import load_scenario
from planner.travel import TravelTimes, township_of
from planner.whatif import apply_staff_scaling, load_scenario_dataset
from planner.workdays import work_calendar

#: the levels of the lexicographic objective, in order
LEVELS = ("mandatory", "tasks", "visits")
#: wall seconds per level by default (600 in all): mandatory tasks, then tasks, priority and
#: visits in one weighted objective; a third entry adds a level of its own for visits
DEFAULT_SECONDS = (150.0, 450.0)


# --- prepared data -------------------------------------------------------------------------------


@dataclass(frozen=True)
class County:
    """What the model reads, prepared once by the planner's own loaders and rules."""

    name: str
    instance: Instance  # the tasks (the draw's random tasks included) with their feasible days
    roster: Roster  # certified inspectors after the scenario's staff scaling
    town_of: dict[str, str]  # uscc → township
    inward_min: dict[str, int]  # uscc → the shortest leg into it (the travel allowance)
    round_trip_min: dict[str, int]  # uscc → station → enterprise → station
    stay_limit_min: dict[str, int]  # uscc → the longest stay any visit there may take
    caps: YearlyCaps


class Refused(Exception):
    """A scenario the reference does not model (off-site checks, appointments, overrides)."""


def prepare(scenario_path: Path) -> County:
    """The county of a scenario file, as ``planner plan`` sees it before the merge: the same
    draw, staff scaling, instance, roster, travel times and caps."""
    scenario = load_scenario(scenario_path)
    dataset = load_scenario_dataset(scenario)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    draw = draw_sampling_plan(
        dataset, scenario.seed, scenario.caps.positive_list_per_year, scenario.caps.per_dept_per_year
    )
    dataset = apply_staff_scaling(dataset, scenario)
    instance = build_instance(dataset, draw.tasks, scenario, calendar)
    if instance.tasks["mode"].eq(OFFSITE).any() or len(dataset.appointments) or len(dataset.overrides):
        raise Refused(f"{scenario_path}: off-site checks, appointments and overrides are not modelled")
    if scenario.onsite != "sum":
        raise Refused(f'{scenario_path}: only onsite = "sum" is modelled')
    travel = TravelTimes(dataset, scenario)
    town_of = township_of(dataset)
    firms = sorted(set(instance.tasks["uscc"]))
    inward = travel.shortest_inward(firms, [town_of[u] for u in firms])
    round_trip = {
        u: travel.minutes(f"station:{town_of[u]}", u) + travel.minutes(u, f"station:{town_of[u]}") for u in firms
    }
    limit = long_stay_limits(dataset, scenario)
    depts_at = instance.tasks.groupby("uscc")["dept_id"].agg(lambda s: sorted(set(s))).to_dict()
    # a visit's stay is at most the long-stay limit of its departments, which is at most the
    # largest one-department limit: the relaxation takes that for every visit there
    stay_limit = {u: max(limit(u, [k]) for k in depts_at[u]) for u in firms}
    return County(
        scenario.name,
        instance,
        Roster.from_dataset(dataset, len(calendar), scenario.planned_share),
        town_of,
        {u: int(m) for u, m in inward.items()},
        round_trip,
        stay_limit,
        YearlyCaps.of_scenario(dataset, scenario),
    )


# --- the model ---------------------------------------------------------------------------------


@dataclass
class Staffing:
    """Per department: its inspectors, those of other departments holding its delegation, the
    inspectors free each day, the longest day's minutes and the planned days over the horizon."""

    own: dict[str, list[str]]
    delegates: dict[str, set[str]]  # department → departments whose inspectors hold its delegation
    free: dict[str, np.ndarray]  # department → inspectors not on leave, per working day
    day_min: dict[str, int]
    days_left: dict[str, int]

    @classmethod
    def of(cls, roster: Roster, workdays) -> Staffing:
        own: dict[str, list[str]] = defaultdict(list)
        delegates: dict[str, set[str]] = defaultdict(set)
        free: dict[str, np.ndarray] = {}
        days_left: dict[str, int] = defaultdict(int)
        for person in sorted(roster.dept_of):
            dept = roster.dept_of[person]
            own[dept].append(person)
            for other in roster.delegations.get(person, ()):
                if other != dept:
                    delegates[other].add(dept)
            off = roster.leave.get(person, ())
            here = np.array([d not in off for d in workdays], dtype=np.int64)
            free[dept] = free.get(dept, np.zeros(len(workdays), dtype=np.int64)) + here
            days_left[dept] += min(roster.max_days[person], int(here.sum()))
        day_min = {k: max(day_minutes(roster.hours_per_day[p]) for p in people) for k, people in own.items()}
        return cls(dict(own), dict(delegates), free, day_min, dict(days_left))

    def longest_day(self, dept: str, delegable: bool) -> int:
        """The longest working day of anyone who may check a task of ``dept`` (0: nobody)."""
        depts = [dept] + (sorted(self.delegates.get(dept, ())) if delegable else [])
        return max((self.day_min[k] for k in depts if k in self.day_min), default=0)


@dataclass
class ReferenceModel:
    """The CP-SAT model of the module doc, its variables in containers."""

    county: County
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    x: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)  # (task row, day)
    visit: dict[tuple[str, int], cp_model.IntVar] = field(default_factory=dict)  # (uscc, day)
    person_days: dict[tuple[str, str, int], cp_model.IntVar] = field(default_factory=dict)  # (dept, town, day)
    rows_on: dict[tuple[str, int], list[int]] = field(default_factory=lambda: defaultdict(list))  # (uscc, day)
    left_out: list[str] = field(default_factory=list)  # tasks no eligible inspector's day can hold

    def __post_init__(self):
        self.table = self.county.instance.table
        self.staff = Staffing.of(self.county.roster, self.county.instance.workdays)
        # the rules, hard, one function each (the model's table of contents)
        self.add_tasks()
        self.add_one_visit_a_day()
        self.add_stays()
        self.add_yearly_caps()
        self.add_staff()
        rows = [row for row, _ in self.x]
        self.mandatory = _sum([v for (row, _), v in self.x.items() if self.table.mandatory[row]])
        self.tasks = _sum(list(self.x.values()))
        self.priority = cp_model.LinearExpr.weighted_sum(
            list(self.x.values()), [int(self.table.priority[row]) for row in rows]
        )
        self.priority_weight = 1 + sum(int(self.table.priority[row]) for row in set(rows))
        self.visit_weight = 1 + len(set(rows))  # more than any count of visits
        self.visits = _sum(list(self.visit.values()))
        self.inspector_days = _sum(list(self.person_days.values()))

    def add_tasks(self) -> None:
        """Hard: a task is done at most once, on one of its feasible days (its window ∩ the
        horizon, a working day, after the observation period, no quiet day if capped); a task
        that no eligible inspector's day can hold with the road there and back is left out."""
        instance, table, county = self.county.instance, self.table, self.county
        for row in range(len(table.task_id)):
            days = instance.feasible_days(row)
            if not len(days):
                continue
            dept, uscc = table.dept_id[row], table.uscc[row]
            longest = self.staff.longest_day(dept, bool(table.delegable[row]))
            if int(table.duration_min[row]) + county.round_trip_min[uscc] > longest:
                self.left_out.append(table.task_id[row])
                continue
            mine = []
            for day in days.tolist():
                var = self.x[(row, day)] = self.model.new_bool_var(f"x_{row}_{day}")
                mine.append(var)
                self.rows_on[(uscc, day)].append(row)
            self.model.add_at_most_one(mine)

    def add_one_visit_a_day(self) -> None:
        """Hard (无事不扰): one visit per enterprise a day, holding every task done there that day."""
        for (uscc, day), rows in self.rows_on.items():
            xs = [self.x[(row, day)] for row in rows]
            if len(xs) == 1:
                self.visit[(uscc, day)] = xs[0]
            else:
                var = self.visit[(uscc, day)] = self.model.new_bool_var(f"visit_{uscc}_{day}")
                self.model.add_max_equality(var, xs)

    def add_stays(self) -> None:
        """Hard: a stay within 6 hours on site, a longer task alone, or a long stay up to the
        enterprise's limit (``rules.stays.add_one_stay``); the stay and the road to and from the
        station within the longest working day of any inspector."""
        longest_day = max(self.staff.day_min.values(), default=0)
        for (uscc, day), rows in self.rows_on.items():
            if len(rows) < 2:
                continue
            on_day = [(int(self.table.duration_min[row]), self.x[(row, day)]) for row in rows]
            total = sum(m for m, _ in on_day)
            if total > MAX_VISIT_ONSITE_MIN or max(m for m, _ in on_day) > MAX_VISIT_ONSITE_MIN:
                add_one_stay(
                    self.model, on_day, MAX_VISIT_ONSITE_MIN, self.county.stay_limit_min[uscc], f"{uscc}_{day}"
                )
            room = longest_day - self.county.round_trip_min[uscc]
            if total > room:
                self.model.add(sum(m * v for m, v in on_day) <= room)

    def add_yearly_caps(self) -> None:
        """Hard (一年最多查一次, and each department's yearly cap), counting history: a capped task
        makes its day's visit capped, a department checking in a capped visit uses its cap
        (``rules.caps.link_capped``), per calendar year (``rules.caps.add_yearly_caps``). Only
        where a cap can bind: more capped tasks at a positive-list firm than the cap leaves, or
        more tasks of one department at a firm than its cap leaves."""
        table, caps, years = self.table, self.county.caps, self.county.instance.years
        rows_of: dict[str, list[int]] = defaultdict(list)
        days_of: dict[str, set[int]] = defaultdict(set)
        for row, day in self.x:
            uscc = table.uscc[row]
            if not rows_of[uscc] or rows_of[uscc][-1] != row:
                rows_of[uscc].append(row)
            days_of[uscc].add(day)
        for uscc, rows in rows_of.items():
            days = sorted(days_of[uscc])
            in_years = sorted({int(years[d]) for d in days})
            n_capped = sum(bool(table.capped[r]) for r in rows)
            positive = uscc in caps.positive and n_capped > min(caps.positive_left(uscc, y) for y in in_years)
            per_dept: dict[str, int] = defaultdict(int)
            for r in rows:
                per_dept[table.dept_id[r]] += 1
            tracked = sorted(k for k, n in per_dept.items() if n > min(caps.dept_left(uscc, k, y) for y in in_years))
            if not positive and not tracked:
                continue
            capped = {d: self.model.new_bool_var(f"capped_{uscc}_{d}") for d in days}
            checks = {(k, d): self.model.new_bool_var(f"checks_{uscc}_{k}_{d}") for k in tracked for d in days}
            for row in rows:
                dept = table.dept_id[row]
                for day in self.county.instance.feasible_days(row).tolist():
                    assign = self.x[(row, day)]
                    if dept in tracked:
                        link_capped(self.model, assign, capped[day], checks[(dept, day)], bool(table.capped[row]))
                    elif table.capped[row]:
                        self.model.add_implication(assign, capped[day])
            add_yearly_caps(
                self.model, uscc, days, years, capped, checks, caps, relax=() if positive else ("positive_list",)
            )

    def add_staff(self) -> None:
        """Hard: staff per department, township and day (module doc): inspector-days whole and in
        one township, within those not on leave and, over the horizon, within ``max_days``; each
        department's own minutes, its delegates' for delegable tasks, the crews' minutes of all
        departments together, and crews of at least ``min_inspectors`` (≥ 2)."""
        table, county, staff, model = self.table, self.county, self.staff, self.model
        depts = sorted(staff.own)
        town_days = sorted({(county.town_of[u], d) for u, d in self.rows_on})
        for town, day in town_days:
            for k in depts:
                if staff.free[k][day]:
                    self.person_days[(k, town, day)] = model.new_int_var(
                        0, int(staff.free[k][day]), f"p_{k}_{town}_{day}"
                    )
        per_dept_day: dict[tuple[str, int], list] = defaultdict(list)
        per_dept: dict[str, list] = defaultdict(list)
        for (k, _town, day), var in self.person_days.items():
            per_dept_day[(k, day)].append(var)
            per_dept[k].append(var)
        for (k, day), items in per_dept_day.items():
            if len(items) > 1:
                model.add(_sum(items) <= int(staff.free[k][day]))
        for k, items in per_dept.items():
            model.add(_sum(items) <= staff.days_left[k])

        def minutes_of(k: str, town: str, day: int):
            var = self.person_days.get((k, town, day))
            return staff.day_min[k] * var if var is not None else 0

        by_town_day: dict[tuple[str, int], list[str]] = defaultdict(list)
        for uscc, day in self.rows_on:
            by_town_day[(county.town_of[uscc], day)].append(uscc)
        sizes = sorted({min_crew(int(m)) for m in table.min_inspectors})
        for (town, day), firms in sorted(by_town_day.items()):
            own_terms: dict[str, list] = defaultdict(list)  # department → its own minutes
            pool_terms: dict[str, list] = defaultdict(list)  # delegable department → minutes with delegates
            crew_terms = []
            needs = {m: [] for m in sizes}
            for uscc in sorted(firms):
                rows = self.rows_on[(uscc, day)]
                inward = county.inward_min[uscc]
                visit = self.visit[(uscc, day)]
                crew_terms.append(2 * inward * visit)
                needs[sizes[0]].append(visit)
                own_rows: dict[str, list[int]] = defaultdict(list)
                pool_rows: dict[str, list[int]] = defaultdict(list)
                for row in rows:
                    k, var = table.dept_id[row], self.x[(row, day)]
                    minutes = int(table.duration_min[row])
                    crew = min_crew(int(table.min_inspectors[row]))
                    crew_terms.append(crew * minutes * var)
                    if crew > sizes[0]:
                        needs[crew].append(var)
                    if table.delegable[row] and staff.delegates.get(k):
                        pool_rows[k].append(row)
                    else:
                        own_rows[k].append(row)
                        pool_rows[k].append(row)
                for k, mine in own_rows.items():
                    own_terms[k].append(self._presence(mine, day, f"{uscc}_{k}_{day}") * inward)
                    own_terms[k].extend(int(table.duration_min[r]) * self.x[(r, day)] for r in mine)
                for k, mine in pool_rows.items():
                    if staff.delegates.get(k):
                        pool_terms[k].append(self._presence(mine, day, f"{uscc}_{k}_{day}_pool") * inward)
                        pool_terms[k].extend(int(table.duration_min[r]) * self.x[(r, day)] for r in mine)
            for k, terms in own_terms.items():
                model.add(_sum(terms) <= minutes_of(k, town, day))
            for k, terms in pool_terms.items():
                holders = [k, *sorted(staff.delegates[k])]
                model.add(_sum(terms) <= _sum([minutes_of(j, town, day) for j in holders]))
            everyone = [self.person_days[(k, town, day)] for k in depts if (k, town, day) in self.person_days]
            model.add(_sum(crew_terms) <= _sum([minutes_of(k, town, day) for k in depts]))
            for size, wanting in needs.items():
                if not wanting:
                    continue
                active = model.new_bool_var(f"crew{size}_{town}_{day}")
                for var in wanting:
                    model.add_implication(var, active)
                model.add(_sum(everyone) >= size * active)

    def _presence(self, rows: list[int], day: int, name: str):
        """A Boolean: some task of ``rows`` is done on ``day`` (the task's own variable for one)."""
        xs = [self.x[(row, day)] for row in rows]
        if len(xs) == 1:
            return xs[0]
        var = self.model.new_bool_var(f"present_{name}")
        self.model.add_max_equality(var, xs)
        return var

    # --- the planner's plan as a solution ---------------------------------------------------------

    def plan_days(self, plan: Path) -> tuple[dict[int, int], dict[tuple[str, str, int], int]]:
        """The planner's plan in the model's terms: task row → day index, and inspector-days per
        (department, township, day) from its crews."""
        workdays = {pd.Timestamp(d): n for n, d in enumerate(self.county.instance.workdays)}
        visits = pd.read_parquet(plan / "visits.parquet", columns=["visit_id", "date"])
        done = pd.read_parquet(plan / "visit_tasks.parquet", columns=["task_id", "visit_id"]).merge(visits)
        row_of = {t: n for n, t in enumerate(self.table.task_id.tolist())}
        day_of = {row_of[t]: workdays[pd.Timestamp(d)] for t, d in zip(done["task_id"], done["date"])}
        crews = pd.read_parquet(plan / "crews.parquet", columns=["date", "township", "inspector_id", "dept_id"])
        crews = crews.drop_duplicates(["date", "inspector_id"])
        people = crews.groupby(["dept_id", "township", "date"]).size()
        person_days = {(k, town, workdays[pd.Timestamp(d)]): int(n) for (k, town, d), n in people.items()}
        return day_of, person_days

    def outside_model(self, plan: Path) -> list[str]:
        """The tasks the planner's plan places on a day the model has no variable for (none, when
        the model relaxes the planner's rules)."""
        day_of, _ = self.plan_days(plan)
        return sorted(self.table.task_id[row] for row, day in day_of.items() if (row, day) not in self.x)

    def fit_plan(self, plan: Path, seconds: float, seed: int) -> tuple[str, dict[int, int] | None]:
        """Solve with the planner's decisions fixed (its tasks' days, its inspector-days): the
        model's status on the planner's plan (FEASIBLE or OPTIMAL: the plan is a solution, so
        the model relaxes it) and, when it fits, every variable's value (the complete hint)."""
        day_of, person_days = self.plan_days(plan)
        self.model.clear_hints()
        for (row, day), var in self.x.items():
            self.model.add_hint(var, int(day_of.get(row) == day))
        for key, var in self.person_days.items():
            self.model.add_hint(var, person_days.get(key, 0))
        self.model.maximize(self.mandatory)
        solver = _solver(seconds, seed, 1)
        solver.parameters.fix_variables_to_their_hinted_value = True
        status = solver.solve(self.model)
        self.model.clear_hints()
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return solver.status_name(status), None
        return solver.status_name(status), _values(self.model, solver)

    # --- the lexicographic solve -------------------------------------------------------------------

    def solve(
        self,
        seconds=DEFAULT_SECONDS,
        seed: int = 2026,
        workers: int = 2,
        hint=None,
        log: bool = False,
        deterministic: bool = False,
    ):
        """The levels in order (module doc), one per entry of ``seconds`` (two or three); returns
        the levels' results and the solution kept at the last one (None when a level found none:
        the levels stop there).

        Every solution found so far (the planner's plan, ``hint``, among them) is kept; each level
        is hinted by the best of those that keep the levels before it, and keeps (``>=``) the
        best value any of them reaches — so the planner's plan is never lost between levels."""
        results, pool = [], [hint] if hint is not None else []
        value = self.priority_weight * self.tasks + self.priority  # tasks, then priority
        goals = [
            (self.mandatory, True),
            (self.visit_weight * value - self.visits, True),  # tasks, priority, then fewest visits
            (self.visits, False),
        ]
        keep = [self.mandatory, value]
        kept: list[int] = []
        for level, ((expr, maximise), limit) in enumerate(zip(goals, seconds)):
            start = self._best(pool, kept, level)
            if start is not None:
                _hint(self.model, start)
            self.model.maximize(expr) if maximise else self.model.minimize(expr)
            solver = _solver(limit, seed, workers, log, deterministic)
            clock = time.perf_counter()
            status = solver.solve(self.model)
            wall = round(time.perf_counter() - clock, 1)
            if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                pool.append(_values(self.model, solver))
            best = self._best(pool, kept, level)
            if best is None:
                results.append(LevelResult(LEVELS[level], solver.status_name(status), None, None, wall))
                return results, None
            figures = self.figures(best)
            # no bound without a search (UNKNOWN: the limit came first; a hint may still stand)
            bound = int(round(solver.best_objective_bound)) if status != cp_model.UNKNOWN else None
            if level == 1 and bound is not None:  # in tasks: W_v (W · tasks + priority) − visits ≤ bound
                bound = ((bound + self.visit_weight - 1) // self.visit_weight) // self.priority_weight
            objective = (figures.mandatory, figures.tasks, figures.visits)[level]
            results.append(
                LevelResult(
                    LEVELS[level], solver.status_name(status), objective, bound, wall, figures.priority, figures.visits
                )
            )
            if level < len(keep):  # keep this level's best in the next ones
                kept.append(self.score(best)[level])
                self.model.add(keep[level] >= kept[-1])
        return results, self.figures(self._best(pool, kept, len(goals)))

    def score(self, values: list[int]) -> tuple[int, int, int]:
        """A solution's levels, each to be maximised: mandatory, W · tasks + priority, − visits."""
        figures = self.figures(values)
        return (figures.mandatory, self.priority_weight * figures.tasks + figures.priority, -figures.visits)

    def _best(self, pool: list[list[int]], kept: list[int], level: int) -> list[int] | None:
        """Of ``pool``, the best solution from ``level`` on among those keeping the levels before."""
        fit = [values for values in pool if all(s >= k for s, k in zip(self.score(values), kept))]
        return max(fit, key=lambda values: self.score(values)[level:], default=None)

    def figures(self, values: list[int]) -> Solution:
        """A solution (every variable's value, by proto index) as a plan-like answer."""
        day_of = {row: day for (row, day), var in self.x.items() if values[var.index]}
        table = self.table
        return Solution(
            {table.task_id[row]: day for row, day in sorted(day_of.items())},
            sum(bool(table.mandatory[row]) for row in day_of),
            len(day_of),
            sum(int(table.priority[row]) for row in day_of),
            sum(values[var.index] for var in self.visit.values()),
            sum(values[var.index] for var in self.person_days.values()),
        )


@dataclass(frozen=True)
class LevelResult:
    """One level of the lexicographic solve: CP-SAT's status, the level's figure in the best
    solution it leaves (mandatory tasks, tasks, visits), its best bound in the same unit (for the
    tasks level: the tasks any solution keeping the mandatory level can place at most), wall
    seconds, and that solution's priority and visits."""

    level: str
    status: str
    objective: int | None
    bound: int | None
    wall_s: float
    priority: int | None = None
    visits: int | None = None


@dataclass(frozen=True)
class Solution:
    """The model's answer: task_id → working-day index, and its figures."""

    day_of: dict[str, int]
    mandatory: int
    tasks: int
    priority: int
    visits: int
    inspector_days: int


def _sum(terms: list):
    """Σ terms as one linear expression (``LinearExpr.sum``: no nested sums on long lists)."""
    return cp_model.LinearExpr.sum(terms)


def _solver(
    seconds: float, seed: int, workers: int, log: bool = False, deterministic: bool = False
) -> cp_model.CpSolver:
    """CP-SAT with a limit in wall seconds (or in the solver's deterministic seconds, the same
    answer under any load with one worker), a fixed seed, and its log on stderr if asked."""
    solver = cp_model.CpSolver()
    if deterministic:
        solver.parameters.max_deterministic_time = seconds
    else:
        solver.parameters.max_time_in_seconds = seconds
    solver.parameters.random_seed = seed
    solver.parameters.num_workers = workers
    solver.parameters.catch_sigint_signal = False
    if log:
        solver.parameters.log_search_progress = True
        solver.log_callback = lambda line: print(line, file=sys.stderr, flush=True)
    return solver


def _values(model: cp_model.CpModel, solver: cp_model.CpSolver) -> list[int]:
    """Every variable's value in the solver's solution, by proto index."""
    variables = [model.get_int_var_from_proto_index(i) for i in range(len(model.proto.variables))]
    return [int(v) for v in solver.values(variables).tolist()]


def _hint(model: cp_model.CpModel, values: list[int]) -> None:
    model.clear_hints()
    for index, value in enumerate(values):
        model.add_hint(model.get_int_var_from_proto_index(index), value)


# --- one county side by side -------------------------------------------------------------------------


def reference_run(scenario: Path, plan: Path, seconds=DEFAULT_SECONDS, seed: int = 2026, workers: int = 2, log=False):
    """Build and solve the reference for ``scenario``, hinted by the planner's ``plan`` folder;
    the figures of both, side by side (a dict)."""
    clock = time.perf_counter()
    county = prepare(scenario)
    reference = ReferenceModel(county)
    built = time.perf_counter() - clock
    stats = reference.model.proto
    fits, hint = reference.fit_plan(plan, 60.0, seed)
    outside = reference.outside_model(plan)
    levels, solution = reference.solve(seconds, seed, workers, hint, log)
    kpis = json.loads((plan / "kpis.json").read_text(encoding="utf-8"))
    mandatory_tasks = int(county.instance.tasks["mandatory"].sum())
    return {
        "scenario": str(scenario),
        "name": county.name,
        "tasks": len(county.instance.tasks),
        "mandatory_tasks": mandatory_tasks,
        "model": {
            "variables": len(stats.variables),
            "constraints": len(stats.constraints),
            "task_days": len(reference.x),
            "visit_days": len(reference.visit),
            "left_out": len(reference.left_out),
            "build_s": round(built, 1),
        },
        "plan": str(plan),
        "planner_plan_fits": fits,
        "planner_tasks_outside_model": outside,
        "levels": [asdict(r) for r in levels],
        "reference": None if solution is None else {k: v for k, v in asdict(solution).items() if k != "day_of"},
        # the reference's solution itself: each placed task's date (for a look at what it does)
        "reference_dates": None
        if solution is None
        else {t: county.instance.workdays[d].isoformat() for t, d in solution.day_of.items()},
        "planner": {
            "mandatory": mandatory_tasks - int(kpis["unscheduled_mandatory"]),
            "tasks": int(kpis["scheduled"]),
            "visits": int(kpis["visits"]),
            "inspector_hours": kpis.get("inspector_hours"),
            "capacity_bound_mandatory": kpis.get("capacity_bound_mandatory"),
            "capacity_bound_tasks": kpis.get("capacity_bound_tasks"),
            "rule_bound_visits": kpis.get("rule_bound_visits"),
            "total_s": round(sum(kpis.get("timings", {}).values()), 1),
        },
    }


def person_day_fill(county: County, plan: Path, dates: dict[str, str], person_days: int) -> dict:
    """What a person-day holds, in the planner's plan and in the reference's solution: tasks,
    and the crews' minutes per person-day — the planner's measured (each member's whole crew-day,
    station to station, and the part of it on site), the reference's as the model counts them
    (each task's on-site minutes times its ``min_crew``, and twice each visit's shortest leg in).
    A reference that asks much less of a person-day than the planner's crews spend is one whose
    gain may be its relaxation rather than the planner's loss. ``dates``: the reference's
    task → ISO date; ``person_days``: its inspector-days."""
    table = county.instance.table
    row_of = {t: n for n, t in enumerate(table.task_id.tolist())}
    crews = pd.read_parquet(plan / "crews.parquet", columns=["crew_id", "date", "day_start_min", "day_end_min"])
    visits = pd.read_parquet(plan / "visits.parquet", columns=["crew_id", "start_min", "end_min"])
    members = crews.groupby("crew_id").size()
    onsite = (visits["end_min"] - visits["start_min"]).groupby(visits["crew_id"]).sum()
    planner_days = len(pd.read_parquet(plan / "crews.parquet", columns=["date", "inspector_id"]).drop_duplicates())
    crew_day = (crews["day_end_min"] - crews["day_start_min"]).sum()
    crew_onsite = float((members * onsite.reindex(members.index, fill_value=0)).sum())
    placed = len(pd.read_parquet(plan / "visit_tasks.parquet", columns=["task_id"]))
    asked, firms_days = 0, set()
    for task_id, date in dates.items():
        row = row_of[task_id]
        asked += min_crew(int(table.min_inspectors[row])) * int(table.duration_min[row])
        firms_days.add((table.uscc[row], date))
    asked += sum(2 * county.inward_min[uscc] for uscc, _ in firms_days)
    return {
        "planner": {
            "person_days": planner_days,
            "tasks_per_person_day": round(placed / planner_days, 2),
            "crew_minutes_per_person_day": round(float(crew_day) / planner_days),
            "onsite_minutes_per_person_day": round(crew_onsite / planner_days),
        },
        "reference": {
            "person_days": person_days,
            "tasks_per_person_day": round(len(dates) / person_days, 2),
            "asked_minutes_per_person_day": round(asked / person_days),
        },
    }


def write_pinned(run: dict) -> Path:
    """A copy of the run's scenario and dataset with an ``overrides`` table pinning every task
    the reference placed to its day (``pin_date``): planned by ``planner plan``, it says how much
    of the reference's day choice the planner's crews and routes realise. Returns the scenario
    file (``pinned-<scenario>/s.toml`` beside the scenario)."""
    scenario = Path(run["scenario"])
    dataset = load_scenario(scenario).dataset
    folder = scenario.with_name(f"pinned-{scenario.stem}")
    shutil.copytree(dataset, folder / "data")
    dates = sorted(run["reference_dates"].items())
    pd.DataFrame(
        {
            "override_id": [f"P{n:05d}" for n in range(1, len(dates) + 1)],
            "action": "pin_date",
            "task_id": [t for t, _ in dates],
            "date": [d for _, d in dates],
            "note": "the reference's day",
        }
    ).to_csv(folder / "data" / "overrides.csv", index=False)
    text = scenario.read_text(encoding="utf-8").replace(f'name = "{run["name"]}"', f'name = "{run["name"]}, pinned"')
    text = re.sub(r"(?m)^dataset = .*$", 'dataset = "data"', text)  # the copy (a scenario's extras are not copied)
    (folder / "s.toml").write_text(text, encoding="utf-8")
    return folder / "s.toml"


def table_row(run: dict) -> str:
    """One markdown row: the planner, the reference's best solution and bound per level, and
    the planner's capacity bound."""
    level = {r["level"]: r for r in run["levels"]}
    planner, found = run["planner"], run["reference"] or {}

    def cell(name: str) -> str:
        r = level.get(name)
        if r is None or r["objective"] is None:
            return "–"
        bound = "no bound" if r["bound"] is None else f"bound {r['bound']:,}"
        return f"{r['objective']:,} ({bound}, {r['status']}, {r['wall_s']:.0f} s)"

    visits = f"{found['visits']:,}" if found else "–"
    return (
        f"| {run['name']} | {planner['mandatory']:,} / {cell('mandatory')} / {planner['capacity_bound_mandatory']:,} "
        f"| {planner['tasks']:,} / {cell('tasks')} / {planner['capacity_bound_tasks']:,} "
        f"| {planner['visits']:,} / {visits} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=Path, help="a scenario file (with --plan: its planner's plan folder)")
    parser.add_argument("--plan", type=Path, help="the planner's plan folder of --scenario")
    parser.add_argument("--work", type=Path, help="generate the 1k county here (seed 2026) and plan it")
    parser.add_argument("--capacities", nargs="+", default=["normal", "tight"], choices=["normal", "slack", "tight"])
    parser.add_argument(
        "--seconds", nargs="+", type=float, default=list(DEFAULT_SECONDS), help="wall seconds per level (2 or 3 levels)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--log", action="store_true", help="CP-SAT's search log on stderr")
    parser.add_argument("--fill", type=Path, help="a JSON this script wrote: print what a person-day holds in each")
    parser.add_argument(
        "--pins", type=Path, help="a JSON this script wrote: write each run's dataset pinned to its days"
    )
    args = parser.parse_args()
    if args.pins is not None:
        for run in json.loads(args.pins.read_text(encoding="utf-8"))["runs"]:
            pinned = write_pinned(run)
            print(f"planner plan {pinned} --out {pinned.parent / 'plan'}")
        return
    if args.fill is not None:
        for run in json.loads(args.fill.read_text(encoding="utf-8"))["runs"]:
            scenario = Path(run["scenario"])
            plan = Path(run.get("plan") or scenario.with_name(f"plan-{scenario.stem}"))
            figures = person_day_fill(
                prepare(scenario), plan, run["reference_dates"], run["reference"]["inspector_days"]
            )
            print(json.dumps({"name": run["name"], **figures}, ensure_ascii=False))
        return
    if (args.scenario is None) == (args.work is None) or (args.scenario is not None and args.plan is None):
        parser.error("give --scenario with --plan, or --work")
    pairs = []
    if args.scenario is not None:
        pairs.append((args.scenario, args.plan))
    else:
        data = args.work / "1k" / "data"
        if not data.exists():
            write_generated("1k", data)  # as `planner demo-data --profile 1k --seed 2026`
        for capacity in args.capacities:
            scenario = args.work / "1k" / f"{capacity}.toml"
            if not scenario.exists():
                write_scenario(scenario, data, f"1k {capacity}", 2026, capacity, "1k")
            plan = args.work / "1k" / f"plan-{capacity}"
            if not plan.exists():
                command = [sys.executable, "-m", "planner.cli", "plan", str(scenario), "--out", str(plan)]
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            pairs.append((scenario, plan))
    runs = []
    for scenario, plan in pairs:
        try:
            run = reference_run(scenario, plan, tuple(args.seconds), args.seed, args.workers, args.log)
        except Refused as refused:
            print(refused, file=sys.stderr)
            sys.exit(2)
        shown = {k: v for k, v in run.items() if k != "reference_dates"}
        print(json.dumps(shown, ensure_ascii=False), file=sys.stderr, flush=True)
        runs.append(run)
    print(
        "| scenario | mandatory: planner / reference / capacity bound | tasks: planner / reference / capacity bound "
        "| visits: planner / reference |"
    )
    print("|---|---|---|---|")
    for run in runs:
        print(table_row(run))
    out = args.json or (args.work / "reference.json" if args.work else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"machine": machine(), "runs": runs}, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
