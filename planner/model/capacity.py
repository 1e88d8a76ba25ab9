"""The whole horizon's staff capacity: which week each visit group is done in, legal duties first.

The constructive scheduler (``schedule``) decides day by day; on its own it cannot see that the
inspector-days it spends on optional work in spring are the ones a department's year-end legal
duties will need. This model sees the whole horizon at once, at the grain of a calendar week,
and decides for every visit group the week it is done in — or that it is not done — under:

- each department's inspector-days per week: its certified inspectors' working days not on
  leave (``rules.staff_days``), and over the horizon at most their ``max_days``;
- a department's inspector-days of a week hold the week's visits needing it — each visit needs
  one inspector of each of its departments (``rules.crews``; a department whose own inspectors
  cannot go is carried by its delegates' department) for its *time* (below) — and the days of
  all departments together hold every visit's whole crew (``rules.crews.min_crew``: at least
  two) for its time;
- one visit per enterprise a day (``rules.stays``): an enterprise's groups in a week need as many
  distinct feasible days there;
- each group's feasible days (its window, working days, quiet days, observation: the instance's);
  days already spent by fixed crews (a re-optimisation's kept visits) come off first.

A visit's *time* is its on-site minutes plus a travel allowance, ``ceil(TRAVEL_SHARE × r)``,
where ``r`` is the round trip between its township's station and the enterprise: a crew-day
drives out to its first visit and back from its last, and between visits in the township. On
the sample county's plan the road took 0.65 of the visits' round trips (2,490 crew-days, three
visits each on average; a day with one visit pays the whole trip, a day with twelve about
0.4). A person-day holds ``PLANNED_DAY_MIN`` minutes, as the scheduler plans a crew-day.

**Townships.** Crews stay in their township, but the model needs no township: its days are
fractional, and a department's days of a week can be shared out over the townships whenever the
week's totals hold (every visit's crew is at least its seats, so the days each township needs
beyond its seats can come from any department's days left). A model with a row per township
and week where this one has one per week has the same optimum, and took two minutes on a
20k-enterprise county where this one takes seconds (BENCHMARKS.md).

**Why a linear programme.** The decision is a relaxation the scheduler realises day by day, so
it need not be integral: what matters is that the year's capacity is seen whole and legal
duties get it first. The LP (GLOP, single-threaded and deterministic) gives the same answer on
any machine and at any ``[solver] workers``; the same model as a CP-SAT integer programme found
no solution in a minute with one search worker, and more workers make CP-SAT's answer depend
on the run. The goals are solved lexicographically, one LP after the other, each keeping the
optimum of the one before: mandatory tasks, then tasks (priority as a tie-break), then fewest
inspector-days, then each department's busiest week as light as the windows allow
(``_WeekLP._peaks``). The schedule takes from the answer each department's days per week (the
pace, ``share_today``, and ``slack``) and which groups are done (``done``: the mandatory ones
the LP does are scheduled first).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from ortools.linear_solver import pywraplp

from planner.model.groups import VisitGroup
from planner.rules.staff_days import day_minutes

if TYPE_CHECKING:
    from planner.model.matching import Roster
    from planner.travel import TravelTimes

#: share of a visit's round trip from the station that its crew-day's road takes (module doc)
TRAVEL_SHARE = 0.65
#: minutes a person-day holds: a crew-day is planned within 7 hours (schedule.PLANNED_DAY_MIN)
PLANNED_DAY_MIN = 420
#: what a person-day holds of its visits' time in the model: a crew-day is planned within 7
#: hours, and its visits fill ``DAY_FILL`` of it on average (crews keep to their township, wait
#: through each other's checks in a joint visit, and a day is spent whole though its last visit
#: ends early: on the hard profiles a short department's person-day held 250–330 minutes of its
#: visits' time)
DAY_FILL = 0.75
DAY_HOLDS_MIN = round(PLANNED_DAY_MIN * DAY_FILL)
#: how much of a goal's LP optimum the next LP must keep (the LP's own tolerance, not a trade)
_KEEP = 1 - 1e-7


@dataclass(frozen=True)
class Weeks:
    """The horizon's working days in calendar weeks: ``first[w]``…``last[w]`` (day indices).
    With ``quiet`` days (``rules.quiet_days``), a week is cut where they begin and where they
    end, each part a week here: capped work may use only the staff of the days that are not
    quiet, and a week taken whole would let it count the quiet days' staff too."""

    first: np.ndarray
    last: np.ndarray
    of_day: np.ndarray  # week of each working day

    @classmethod
    def of(cls, workdays, quiet: np.ndarray | None = None) -> Weeks:
        quiet = np.zeros(len(workdays), dtype=bool) if quiet is None else quiet
        keys = [(*d.isocalendar()[:2], bool(q)) for d, q in zip(workdays, quiet)]
        of_day = np.zeros(len(keys), dtype=np.int64)
        first, last = [], []
        for day, key in enumerate(keys):
            if day == 0 or key != keys[day - 1]:
                first.append(day)
                last.append(day)
            of_day[day] = len(first) - 1
            last[-1] = day
        return cls(np.array(first, dtype=np.int64), np.array(last, dtype=np.int64), of_day)

    def __len__(self) -> int:
        return len(self.first)


@dataclass(frozen=True)
class Need:
    """What one group asks of the staff: its time (on site and the road's share), the departments
    whose seats it needs, its whole crew, and the weeks it may be done in."""

    group: VisitGroup
    time_min: int
    seats: tuple[str, ...]
    crew: int
    weeks: tuple[int, ...]


@dataclass
class Staff:
    """Inspector-days: per department and week not on leave (``avail``), and over the horizon
    what ``max_days`` leaves (``days_left``)."""

    avail: dict[str, np.ndarray]
    days_left: dict[str, int]


@dataclass(frozen=True)
class CapacityDecision:
    """What the horizon's capacity LP decided: its status, its lexicographic optima (mandatory
    tasks, tasks, inspector-days — what any schedule of these groups could place under the
    model's capacity, at most) and the pace it sets (``share_today``)."""

    weeks: Weeks
    status: str
    lp: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pace: list[dict[str, float]] = field(default_factory=list, repr=False)
    ahead: list[dict[str, float]] = field(default_factory=list, repr=False)  # LP days from each day on
    done: dict[int, float] = field(default_factory=dict, repr=False)  # per group: the LP's share of it done

    def slack(self, day: int, left: dict[str, int]) -> dict[str, float]:
        """Per department, its inspectors' planned days left (``left``) beyond what the LP needs of
        it from ``day`` on: who can best give a crew its second inspector."""
        ahead = self.ahead[day]
        return {k: n - ahead.get(k, 0.0) for k, n in left.items()}

    @property
    def binds(self) -> bool:
        """Whether staff binds: the LP does not do every group it holds in full (or some group
        has no staff at all)."""
        return any(share < 1 - 1e-6 for share in self.done.values())

    def share_today(self, day: int) -> dict[str, float]:
        """Per department, today's part of its remaining planned inspector-days: the LP's days of
        today's week spread over the week, against all its LP days from today on."""
        return self.pace[day]


def staff_days(roster: Roster, workdays, weeks: Weeks, fixed_person_days=()) -> Staff:
    """Inspector-days per department and week, and what ``max_days`` leaves of each department's
    year, after the (person, day index) pairs fixed crews already spend."""
    spent: dict[str, set[int]] = defaultdict(set)
    for person, day in fixed_person_days:
        spent[person].add(day)
    depts = sorted(set(roster.dept_of.values()))
    avail = {k: np.zeros(len(weeks), dtype=np.int64) for k in depts}
    days_left = dict.fromkeys(depts, 0)
    for person, dept in roster.dept_of.items():
        off = roster.leave.get(person, ())
        free = np.array([d not in off and day not in spent[person] for day, d in enumerate(workdays)], dtype=bool)
        avail[dept] += np.bincount(weeks.of_day[free], minlength=len(weeks))
        days_left[dept] += max(0, roster.max_days[person] - len(spent[person]))
    return Staff(avail, days_left)


def group_needs(
    groups: list[VisitGroup],
    weeks: Weeks,
    roster: Roster,
    travel: TravelTimes,
    township_of: dict[str, str],
    onsite: dict[int, int],
    must_delegate,
) -> list[Need]:
    """Each placeable group's ask (``Need``); ``must_delegate(group)``: the departments only a
    delegate can carry, whose seat goes to the department most of its delegates belong to."""
    carrier = _delegate_carriers(roster)
    needs = []
    for group in groups:
        if not len(group.days):
            continue
        station = f"station:{township_of[group.uscc]}"
        trip = travel.minutes(station, group.uscc) + travel.minutes(group.uscc, station)
        delegated = set(must_delegate(group))
        seats = tuple(sorted({carrier.get(d, d) if d in delegated else d for d in group.depts}))
        needs.append(
            Need(
                group,
                onsite[group.group_id] + math.ceil(TRAVEL_SHARE * trip),
                seats,
                max(group.min_crew, len(seats)),
                tuple(np.unique(weeks.of_day[group.days]).tolist()),
            )
        )
    return needs


def plan_weeks(
    groups: list[VisitGroup],
    workdays,
    roster: Roster,
    travel: TravelTimes,
    township_of: dict[str, str],
    onsite: dict[int, int],
    must_delegate,
    fixed_person_days=(),
    quiet: np.ndarray | None = None,
) -> CapacityDecision:
    """The horizon's capacity LP for ``groups`` (module doc), and the pace it sets; ``quiet``:
    the working days with no capped visit (``Instance.quiet``)."""
    weeks = Weeks.of(workdays, quiet)
    staff = staff_days(roster, workdays, weeks, fixed_person_days)
    needs = group_needs(groups, weeks, roster, travel, township_of, onsite, must_delegate)
    lp = _WeekLP(needs, staff, weeks)
    status, optima = lp.solve()
    if status != "OPTIMAL":
        return CapacityDecision(weeks, status)
    pace, ahead = _pace(lp.days, weeks)
    return CapacityDecision(weeks, status, optima, pace, ahead, lp.done_share)


def _pace(days: dict[tuple[str, int], float], weeks: Weeks) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Per working day and department, the day's part of the department's LP inspector-days from
    that day to the end of the horizon (a week's days spread evenly over its working days), and
    those days themselves."""
    n_days = len(weeks.of_day)
    width = (weeks.last - weeks.first + 1).astype(float)
    depts = sorted({k for k, _ in days})
    per_day = {k: np.zeros(n_days) for k in depts}
    for (k, week), value in days.items():
        per_day[k][weeks.first[week] : weeks.last[week] + 1] += value / width[week]
    pace = [dict() for _ in range(n_days)]
    ahead = [dict() for _ in range(n_days)]
    for k, daily in per_day.items():
        remaining = np.cumsum(daily[::-1])[::-1]
        for day in range(n_days):
            pace[day][k] = daily[day] / remaining[day] if remaining[day] > 1e-9 else 0.0
            ahead[day][k] = float(remaining[day])
    return pace, ahead


def _minutes_by_week(solver, parts: list[tuple[pywraplp.Variable, float]], weeks) -> dict[int, pywraplp.Variable]:
    """A class of alike work in the LP: its minutes in each of ``weeks``, which together are the
    minutes of its parts done (``parts``: how much of each is done, and its minutes).

    Work that needs the same seats (inspectors), the same crew and the same weeks differs only in
    its minutes: any answer with a variable per part and week gives such minutes, and any such
    minutes split back over the parts in proportion. So the optimum is the same as with a
    variable per part and week, with a column per class and week instead."""
    link = solver.Constraint(0, 0)
    for done, minutes in parts:
        link.SetCoefficient(done, minutes)
    by_week = {}
    for week in weeks:
        by_week[week] = solver.NumVar(0, solver.infinity(), "")
        link.SetCoefficient(by_week[week], -1)
    return by_week


class _WeekLP:
    """The model of the module doc as a linear programme: how much of each group is done
    (``done[g]``), the minutes ``m[c, w]`` each class of groups takes in each week, and the
    inspector-days ``y[k, w]`` of each department and week.

    Groups that need the same seats, the same crew and the same weeks form one class
    (``_minutes_by_week``). A group of an enterprise that has more groups in a week than days
    there keeps its own ``x[g, w]``: one visit per enterprise a day counts them per week."""

    def __init__(self, needs: list[Need], staff: Staff, weeks: Weeks):
        solver = pywraplp.Solver.CreateSolver("GLOP")
        self.solver, self.needs = solver, needs
        firm_week: dict[tuple[str, int], list[Need]] = defaultdict(list)
        firm_days: dict[tuple[str, int], set[int]] = defaultdict(set)
        for need in needs:
            for week in need.weeks:
                firm_week[(need.group.uscc, week)].append(need)
                firm_days[(need.group.uscc, week)].update(
                    need.group.days[weeks.of_day[need.group.days] == week].tolist()
                )
        crowded = {key for key, members in firm_week.items() if len(members) > len(firm_days[key])}
        self.done: dict[int, pywraplp.Variable] = {}  # per group: how much of it is done, over the weeks
        x: dict[tuple[int, int], pywraplp.Variable] = {}
        classes: dict[tuple, list[Need]] = defaultdict(list)
        by_week: dict[int, list[tuple]] = defaultdict(list)  # (variable, minutes per unit, crew, seats)
        for need in needs:
            g = need.group.group_id
            self.done[g] = solver.NumVar(0, 1, "")
            if any((need.group.uscc, week) in crowded for week in need.weeks):
                link = solver.Constraint(0, 0)
                link.SetCoefficient(self.done[g], 1)
                for week in need.weeks:
                    var = x[(g, week)] = solver.NumVar(0, 1, "")
                    link.SetCoefficient(var, -1)
                    by_week[week].append((var, need.time_min, need.crew, need.seats))
            else:
                classes[(need.seats, need.crew, need.weeks)].append(need)
        for (seats, crew, class_weeks), members in classes.items():
            parts = [(self.done[need.group.group_id], need.time_min) for need in members]
            for week, var in _minutes_by_week(solver, parts, class_weeks).items():
                by_week[week].append((var, 1, crew, seats))
        for key in sorted(crowded):  # one visit per enterprise a day
            row = solver.Constraint(0, len(firm_days[key]))
            for need in firm_week[key]:
                row.SetCoefficient(x[(need.group.group_id, key[1])], 1)
        self.y: dict[tuple[str, int], pywraplp.Variable] = {}
        for week, members in sorted(by_week.items()):
            crew_row = solver.Constraint(-solver.infinity(), 0)
            seat_rows: dict[str, pywraplp.Constraint] = {}
            for var, minutes, crew, seats in members:
                crew_row.SetCoefficient(var, crew * minutes)
                for dept in seats:
                    if dept not in seat_rows:
                        seat_rows[dept] = solver.Constraint(-solver.infinity(), 0)
                    seat_rows[dept].SetCoefficient(var, minutes)
            for dept, days in staff.avail.items():
                if days[week]:  # nobody of the department this week: its seat row keeps its visits at 0
                    var = self.y[(dept, week)] = solver.NumVar(0, float(days[week]), "")
                    crew_row.SetCoefficient(var, -DAY_HOLDS_MIN)
                    if dept in seat_rows:
                        seat_rows[dept].SetCoefficient(var, -DAY_HOLDS_MIN)
        for dept, left in staff.days_left.items():
            row = solver.Constraint(0, float(left))
            for (k, _), var in self.y.items():
                if k == dept:
                    row.SetCoefficient(var, 1)

    def _peaks(self) -> dict[str, pywraplp.Variable]:
        """Per department, a variable at least the share of its inspectors' days it spends in any
        week. The fewest days can be spent in many ways (work with a wide window may sit in any
        week of it), and the pace would follow whichever the solver met first; the last goal
        makes each department's busiest week as light as the windows allow, so the pace spreads
        the work evenly and keeps room in every week for what comes up."""
        peak: dict[str, pywraplp.Variable] = {}
        for dept in sorted({k for k, _ in self.y}):
            peak[dept] = self.solver.NumVar(0, self.solver.infinity(), "")
            for (k, _), var in self.y.items():
                if k == dept:
                    row = self.solver.Constraint(0, self.solver.infinity())
                    row.SetCoefficient(peak[dept], 1.0)
                    row.SetCoefficient(var, -1.0 / var.ub())  # y ≤ the week's days, never 0 here
        return peak

    def solve(self) -> tuple[str, tuple[float, float, float]]:
        """The goals in order, each LP keeping the optimum of the one before: mandatory tasks,
        tasks (then priority), fewest inspector-days, and last the evenest days (``_peaks``)."""
        solver, optima = self.solver, []
        value = {need.group.group_id: need.group.value() for need in self.needs}
        top_priority = max((v[2] for v in value.values()), default=0) + 1
        peak = self._peaks()
        goals = [
            (self.done, {g: v[0] for g, v in value.items()}, True),
            (self.done, {g: v[1] * top_priority + v[2] for g, v in value.items()}, True),  # tasks, then priority
            (self.y, {k: 1.0 for k in self.y}, False),  # fewest inspector-days
            (peak, {k: 1.0 for k in peak}, False),
        ]
        for variables, coefficients, maximise in goals:
            objective = solver.Objective()
            objective.Clear()
            for key, c in coefficients.items():
                if c:
                    objective.SetCoefficient(variables[key], float(c))
            objective.SetMaximization() if maximise else objective.SetMinimization()
            status = solver.Solve()
            if status != pywraplp.Solver.OPTIMAL:
                return {pywraplp.Solver.INFEASIBLE: "INFEASIBLE", pywraplp.Solver.FEASIBLE: "FEASIBLE"}.get(
                    status, "NOT_SOLVED"
                ), (0.0, 0.0, 0.0)
            best = objective.Value()
            optima.append(best)
            if len(optima) == len(goals):
                break  # the last goal's solution is the answer (read before the model changes again)
            keep = (
                solver.Constraint(best * _KEEP, solver.infinity())
                if maximise
                else solver.Constraint(-solver.infinity(), best / _KEEP)
            )
            for key, c in coefficients.items():
                if c:
                    keep.SetCoefficient(variables[key], float(c))
        tasks = sum(value[g][1] * var.solution_value() for g, var in self.done.items())
        self.days = {key: var.solution_value() for key, var in self.y.items()}  # per department and week
        self.done_share = {g: var.solution_value() for g, var in self.done.items()}
        return "OPTIMAL", (optima[0], tasks, optima[2])


def _delegate_carriers(roster: Roster) -> dict[str, str]:
    """For each department, the department whose inspectors most often hold its delegation
    (who carries its seat when its own inspectors cannot go)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for person, dept in roster.dept_of.items():
        for other in roster.delegations.get(person, ()):
            if other != dept:
                counts[other][dept] += 1
    return {k: max(sorted(v), key=lambda d: v[d]) for k, v in counts.items()}


# --- the capacity bound: what no plan can exceed under the staff ------------------------------------


@dataclass(frozen=True)
class CapacityBound:
    """The most mandatory tasks (``mandatory``), and the most tasks among plans placing at least
    ``floor_mandatory`` mandatory ones (``tasks``), that any plan could place under the staff —
    an LP relaxation's optima, rounded down; ``impossible`` the tasks no inspector can take at
    all (no certified inspector or delegate, or a day too short for the trip and the stay)."""

    mandatory: int
    tasks: int
    floor_mandatory: int
    impossible: tuple[str, ...]
    per_dept_minutes: dict[str, float] = field(default_factory=dict, repr=False)


def capacity_bound_model(
    instance,
    roster: Roster,
    travel: TravelTimes,
    township_of: dict[str, str],
    onsite_mode: str,
    mandatory_limits: dict[str, int],
) -> tuple[int, Callable[[int], CapacityBound]]:
    """The mandatory capacity bound at once, and the function that gives the tasks bound for a
    mandatory floor (``CapacityBound``) — one model solved twice, so a schedule can use the first
    before the plan exists. A valid relaxation of every plan under the rules:

    - each task is done at most once, in a week holding one of its feasible days;
    - the inspectors who may check a task (its department's certified inspectors, and for a
      delegable task those of other departments holding its delegation, 委托查) give at most, in
      a week, the minutes of their days there not on leave (each a crew-day planned within 7
      hours, as the planner plans one), and over the horizon at most their ``max_days`` such
      days; so does every such group of inspectors for all the tasks only it may check;
      a task takes its on-site minutes and a share of the shortest trip into its enterprise
      (from the station or any other enterprise of its township: every visit is reached by one
      leg), split over the enterprise's tasks;
    - all departments together give the minutes of every crew (``onsite = "sum"``: every member
      is on site for the whole stay): at least two inspectors (``min_inspectors`` if more) for
      every task, and on the road to it;
    - at an enterprise, at most the mandatory tasks the yearly caps and the stays let a plan keep
      (``mandatory_limits``: the merge's proven per-enterprise optimum, where it left one out).
    Everything else of the rules (one day of a week, crews per township, routes, conflicts) is
    left out, so the bound may sit above what any plan can reach; never below."""
    table = instance.table
    weeks = Weeks.of(instance.workdays, instance.quiet)
    n_weeks = len(weeks)
    people = sorted(roster.dept_of)
    week_minutes: dict[str, np.ndarray] = {}  # per person
    year_minutes: dict[str, float] = {}
    for person in people:
        off = roster.leave.get(person, ())
        free = np.array([d not in off for d in instance.workdays], dtype=bool)
        day = min(PLANNED_DAY_MIN, day_minutes(roster.hours_per_day[person]))  # a crew-day is planned within 7 hours
        week_minutes[person] = np.bincount(weeks.of_day[free], minlength=n_weeks) * day
        year_minutes[person] = min(roster.max_days[person], int(free.sum())) * day
    own: dict[str, set[str]] = defaultdict(set)
    holders: dict[str, set[str]] = defaultdict(set)  # department → other departments' inspectors with its delegation
    for person, dept in roster.dept_of.items():
        own[dept].add(person)
        for other in roster.delegations.get(person, ()):
            if other != dept:
                holders[other].add(person)
    longest = {p: day_minutes(roster.hours_per_day[p]) for p in people}

    def who(dept: str, delegable: bool) -> frozenset[str]:
        """The inspectors who may check a task of ``dept``."""
        return frozenset(own[dept] | (holders[dept] if delegable else set()))

    pools = sorted({who(d, flag) for d in set(table.dept_id.tolist()) for flag in (False, True)}, key=sorted)
    pools = [pool for pool in pools if pool]
    within = {}  # a task's own pool → every pool holding it: each is a valid limit
    firms = sorted(set(table.uscc.tolist()))
    inward = travel.shortest_inward(firms, [township_of[u] for u in firms])
    tasks_at = defaultdict(int)
    for row in range(len(table.task_id)):
        tasks_at[table.uscc[row]] += 1
    solver = pywraplp.Solver.CreateSolver("GLOP")
    crew_rows_week = {
        w: solver.Constraint(-solver.infinity(), float(sum(m[w] for m in week_minutes.values())))
        for w in range(n_weeks)
    }
    crew_row_year = solver.Constraint(-solver.infinity(), float(sum(year_minutes.values())))
    pool_rows_week: dict[tuple[int, int], pywraplp.Constraint] = {}
    pool_rows_year: dict[int, pywraplp.Constraint] = {}
    firm_rows: dict[str, pywraplp.Constraint | None] = {}
    impossible = []
    done: dict[int, pywraplp.Variable] = {}  # per task row: how much of it is done
    mandatory_of: dict[int, bool] = {}
    classes: dict[tuple, list[tuple[int, float]]] = defaultdict(list)  # (pool, crew, weeks) → (row, time)
    for row in range(len(table.task_id)):
        days = instance.feasible_days(row)
        if not len(days):
            continue
        dept, uscc = table.dept_id[row], table.uscc[row]
        station = f"station:{township_of[uscc]}"
        trip = travel.minutes(station, uscc) + travel.minutes(uscc, station)
        minutes = int(table.duration_min[row])
        mine = who(dept, bool(table.delegable[row]))
        if max((longest[p] for p in mine), default=0) < minutes + trip:
            impossible.append(table.task_id[row])
            continue
        time = minutes + inward[uscc] / tasks_at[uscc]
        crew = max(2, int(table.min_inspectors[row]))
        done[row] = solver.NumVar(0, 1, "")
        mandatory_of[row] = bool(table.mandatory[row])
        if uscc not in firm_rows:
            limit = mandatory_limits.get(uscc)
            firm_rows[uscc] = solver.Constraint(0, float(limit)) if limit is not None else None
        if firm_rows[uscc] is not None and mandatory_of[row]:
            firm_rows[uscc].SetCoefficient(done[row], 1)
        classes[(mine, crew, tuple(np.unique(weeks.of_day[days]).tolist()))].append((row, time))
    for (mine, crew, class_weeks), members in classes.items():  # alike tasks: _minutes_by_week
        if mine not in within:
            within[mine] = [n for n, pool in enumerate(pools) if mine <= pool]
        for week, var in _minutes_by_week(solver, [(done[row], time) for row, time in members], class_weeks).items():
            if onsite_mode == "sum":
                crew_rows_week[week].SetCoefficient(var, crew)
                crew_row_year.SetCoefficient(var, crew)
            for n in within[mine]:
                if (n, week) not in pool_rows_week:
                    pool_rows_week[(n, week)] = solver.Constraint(
                        -solver.infinity(), float(sum(week_minutes[p][week] for p in pools[n]))
                    )
                pool_rows_week[(n, week)].SetCoefficient(var, 1)
                if n not in pool_rows_year:
                    pool_rows_year[n] = solver.Constraint(
                        -solver.infinity(), float(sum(year_minutes[p] for p in pools[n]))
                    )
                pool_rows_year[n].SetCoefficient(var, 1)
    objective = solver.Objective()
    for row, var in done.items():
        objective.SetCoefficient(var, 1.0 if mandatory_of[row] else 0.0)
    objective.SetMaximization()
    best_mandatory = solver.Objective().Value() if solver.Solve() == pywraplp.Solver.OPTIMAL else float("inf")
    mandatory = int(math.floor(best_mandatory + 1e-6)) if math.isfinite(best_mandatory) else sum(mandatory_of.values())

    def tasks_bound(floor_mandatory: int) -> CapacityBound:
        """The tasks bound among plans placing at least ``floor_mandatory`` mandatory tasks."""
        floor_row = solver.Constraint(float(floor_mandatory), solver.infinity())
        for row, var in done.items():
            if mandatory_of[row]:
                floor_row.SetCoefficient(var, 1)
            objective.SetCoefficient(var, 1.0)
        best_tasks = solver.Objective().Value() if solver.Solve() == pywraplp.Solver.OPTIMAL else float("inf")
        tasks = int(math.floor(best_tasks + 1e-6)) if math.isfinite(best_tasks) else len(mandatory_of)
        return CapacityBound(mandatory, tasks, floor_mandatory, tuple(sorted(impossible)))

    return mandatory, tasks_bound


def capacity_bound(
    instance,
    roster: Roster,
    travel: TravelTimes,
    township_of: dict[str, str],
    onsite_mode: str,
    mandatory_limits: dict[str, int],
    floor_mandatory: int,
) -> CapacityBound:
    """Both bounds of ``capacity_bound_model``, the tasks bound among plans placing at least
    ``floor_mandatory`` mandatory tasks."""
    _, tasks_bound = capacity_bound_model(instance, roster, travel, township_of, onsite_mode, mandatory_limits)
    return tasks_bound(floor_mandatory)
