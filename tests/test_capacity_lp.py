"""The capacity LPs hold classes of alike work as minutes per week: the same optima as the
textbook models with a variable per group (or task) and week, per township.

Each oracle below is the model as the module doc states it, written the long way: every group
(task) gets a variable per week, and the week LP also every township its own staff days. The
planner's LPs are much smaller (``capacity._WeekLP``, ``capacity_bound_model``); on random small
counties — enterprises with more groups than days, short staff, leave, delegations, crews of
three — both must reach the oracle's optima.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ortools.linear_solver import pywraplp

from planner.model import capacity
from planner.model.capacity import DAY_HOLDS_MIN, Need, Staff, Weeks

WORKDAYS = [dt.date(2026, 3, 2) + dt.timedelta(days=n) for n in range(21) if n % 7 < 5]  # three weeks
WEEKS = Weeks.of(WORKDAYS)
DEPTS = ("SJ", "XF", "HB")
TOWNS = ("城关", "新港")


def town_of(uscc: str) -> str:
    """The township of a random county's enterprise ("E0" … "E5")."""
    return TOWNS[int(uscc[1:]) % 2]


class Group:
    """What the week LP reads of a visit group."""

    def __init__(self, group_id: int, uscc: str, days, value):
        self.group_id, self.uscc, self.days, self._value = group_id, uscc, np.array(days), value

    def value(self):
        return self._value


def lexicographic(solver, goals) -> list[float]:
    """Each goal's optimum, keeping the ones before (as ``_WeekLP.solve``)."""
    optima = []
    for terms, maximise in goals:
        objective = solver.Objective()
        objective.Clear()
        for var, c in terms:
            objective.SetCoefficient(var, c)
        objective.SetMaximization() if maximise else objective.SetMinimization()
        assert solver.Solve() == pywraplp.Solver.OPTIMAL
        best = objective.Value()
        optima.append(best)
        slack = 1e-7 * max(1.0, abs(best))  # the LP's own tolerance, as the planner keeps an optimum
        keep = solver.Constraint(best - slack, solver.infinity()) if maximise else solver.Constraint(0, best + slack)
        for var, c in terms:
            keep.SetCoefficient(var, c)
    return optima


def week_oracle(needs: list[Need], staff: Staff) -> list[float]:
    """The week LP with ``x[g, w]`` and ``y[k, t, w]``: township by township."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    x, y = {}, {}
    firm = defaultdict(list)
    for need in needs:
        one = solver.Constraint(0, 1)
        for week in need.weeks:
            x[(need, week)] = solver.NumVar(0, 1, "")
            one.SetCoefficient(x[(need, week)], 1)
            firm[(need.group.uscc, week)].append(need)
    for (_uscc, week), mine in firm.items():
        days = {int(d) for n in mine for d in n.group.days if WEEKS.of_day[d] == week}
        row = solver.Constraint(0, len(days))
        for need in mine:
            row.SetCoefficient(x[(need, week)], 1)
    for town in TOWNS:
        for week in range(len(WEEKS)):
            here = [n for n in needs if town_of(n.group.uscc) == town and week in n.weeks]
            crew = solver.Constraint(-solver.infinity(), 0)
            for dept in DEPTS:
                y[(dept, town, week)] = solver.NumVar(0, float(staff.avail[dept][week]), "")
                crew.SetCoefficient(y[(dept, town, week)], -DAY_HOLDS_MIN)
                seat = solver.Constraint(-solver.infinity(), 0)
                seat.SetCoefficient(y[(dept, town, week)], -DAY_HOLDS_MIN)
                for need in here:
                    if dept in need.seats:
                        seat.SetCoefficient(x[(need, week)], need.time_min)
            for need in here:
                crew.SetCoefficient(x[(need, week)], need.crew * need.time_min)
    for dept in DEPTS:
        for week in range(len(WEEKS)):
            row = solver.Constraint(0, float(staff.avail[dept][week]))
            for town in TOWNS:
                row.SetCoefficient(y[(dept, town, week)], 1)
        year = solver.Constraint(0, float(staff.days_left[dept]))
        for (k, _, _), var in y.items():
            if k == dept:
                year.SetCoefficient(var, 1)
    top = max(n.group.value()[2] for n in needs) + 1
    goals = [
        ([(var, float(n.group.value()[0])) for (n, _), var in x.items()], True),
        ([(var, float(n.group.value()[1] * top + n.group.value()[2])) for (n, _), var in x.items()], True),
        ([(var, 1.0) for var in y.values()], False),
    ]
    return lexicographic(solver, goals)


@st.composite
def week_models(draw):
    """Random groups over two townships and three weeks, with busy enterprises, and the staff."""
    needs = []
    for g in range(draw(st.integers(1, 14))):
        first = draw(st.integers(0, 14))
        days = list(range(first, min(15, first + draw(st.integers(1, 8)))))
        seats = tuple(sorted(draw(st.sets(st.sampled_from(DEPTS), min_size=1, max_size=3))))
        mandatory = draw(st.integers(0, 2))
        tasks = mandatory + draw(st.integers(0 if mandatory else 1, 2))
        group = Group(g, f"E{draw(st.integers(0, 5))}", days, (mandatory, tasks, draw(st.integers(tasks, 3 * tasks))))
        weeks = tuple(np.unique(WEEKS.of_day[group.days]).tolist())
        time = draw(st.sampled_from([60, 120, 200, 300, 450]))
        needs.append(Need(group, time, seats, max(draw(st.integers(2, 3)), len(seats)), weeks))
    avail = {d: np.array(draw(st.lists(st.integers(0, 4), min_size=3, max_size=3))) for d in DEPTS}
    left = {d: draw(st.integers(0, 12)) for d in DEPTS}
    return needs, Staff(avail, left)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(week_models())
def test_week_lp_has_the_optima_of_the_model_per_group_and_township(model):
    needs, staff = model
    lp = capacity._WeekLP(needs, staff, WEEKS)
    status, optima = lp.solve()
    assert status == "OPTIMAL"
    oracle = week_oracle(needs, staff)
    assert np.allclose([optima[0], optima[2]], [oracle[0], oracle[2]], rtol=1e-6, atol=1e-5)
    top = max(n.group.value()[2] for n in needs) + 1
    second = sum(
        (n.group.value()[1] * top + n.group.value()[2]) * lp.done[n.group.group_id].solution_value() for n in needs
    )
    assert abs(second - oracle[1]) <= 1e-5 * max(1.0, abs(oracle[1]))


# --- the capacity bound ------------------------------------------------------------------------------


def bound_oracle(tasks, people, pools, limits) -> tuple[float, float]:
    """The bound's LP with a variable per task and week: (most mandatory, then most tasks)."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    week_cap = {
        p: np.bincount(WEEKS.of_day[[d for d in range(15) if d not in off]], minlength=3) * 420.0
        for p, (_, off, _) in people.items()
    }
    year_cap = {p: min(days, 15 - len(off)) * 420.0 for p, (_, off, days) in people.items()}
    z = {}
    crew_week = [solver.Constraint(-solver.infinity(), float(sum(c[w] for c in week_cap.values()))) for w in range(3)]
    crew_year = solver.Constraint(-solver.infinity(), float(sum(year_cap.values())))
    pool_week = {
        (pool, w): solver.Constraint(-solver.infinity(), float(sum(week_cap[p][w] for p in pool)))
        for pool in pools
        for w in range(3)
    }
    pool_year = {pool: solver.Constraint(-solver.infinity(), float(sum(year_cap[p] for p in pool))) for pool in pools}
    firm = {u: solver.Constraint(0, float(n)) for u, n in limits.items()}
    for n, task in enumerate(tasks):
        one = solver.Constraint(0, 1)
        for week in sorted(set(WEEKS.of_day[task["days"]].tolist())):
            var = z[(n, week)] = solver.NumVar(0, 1, "")
            one.SetCoefficient(var, 1)
            crew_week[week].SetCoefficient(var, task["crew"] * task["time"])
            crew_year.SetCoefficient(var, task["crew"] * task["time"])
            for pool in pools:
                if frozenset(task["who"]) <= pool:
                    pool_week[(pool, week)].SetCoefficient(var, task["time"])
                    pool_year[pool].SetCoefficient(var, task["time"])
            if task["uscc"] in firm and task["mandatory"]:
                firm[task["uscc"]].SetCoefficient(var, 1)
    mandatory = [(var, 1.0 if tasks[n]["mandatory"] else 0.0) for (n, _), var in z.items()]
    (best_mandatory,) = lexicographic(solver, [(mandatory, True)])
    # the tasks among plans placing the most mandatory tasks a plan can (a whole number): with the
    # fractional optimum kept instead, a bound could sit below a real plan's tasks
    solver.constraints()[-1].SetLb(np.floor(best_mandatory + 1e-6))
    (best_tasks,) = lexicographic(solver, [([(var, 1.0) for var in z.values()], True)])
    return best_mandatory, best_tasks


@st.composite
def bound_models(draw):
    """Random tasks of three departments (some delegable) at four enterprises, and five inspectors
    with leave, planned days and a delegation."""
    people = {}
    for n, dept in enumerate(("SJ", "SJ", "XF", "HB", "HB")):
        off = draw(st.sets(st.integers(0, 14), max_size=6))
        people[f"P{n}"] = (dept, off, draw(st.integers(0, 4)))
    holder = draw(st.sampled_from(sorted(people)))
    tasks = []
    for _ in range(draw(st.integers(1, 16))):
        first = draw(st.integers(0, 14))
        tasks.append(
            {
                "dept": draw(st.sampled_from(DEPTS)),
                "uscc": f"E{draw(st.integers(0, 3))}",
                "minutes": draw(st.sampled_from([30, 90, 180, 300, 400])),
                "delegable": draw(st.booleans()),
                "crew": draw(st.integers(2, 3)),
                "mandatory": draw(st.booleans()),
                "days": list(range(first, min(15, first + draw(st.integers(1, 9))))),
            }
        )
    limits = {u: draw(st.integers(0, 3)) for u in draw(st.sets(st.sampled_from(["E0", "E1", "E2", "E3"])))}
    return people, holder, tasks, limits


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(bound_models())
def test_capacity_bound_has_the_optima_of_the_model_per_task_and_week(model):
    people, holder, tasks, limits = model
    trip = {"E0": 10, "E1": 20, "E2": 30, "E3": 40}
    table = SimpleNamespace(
        task_id=np.array([f"T{n}" for n in range(len(tasks))]),
        dept_id=np.array([t["dept"] for t in tasks]),
        uscc=np.array([t["uscc"] for t in tasks]),
        duration_min=np.array([t["minutes"] for t in tasks]),
        delegable=np.array([t["delegable"] for t in tasks]),
        min_inspectors=np.array([t["crew"] for t in tasks]),
        mandatory=np.array([t["mandatory"] for t in tasks]),
    )
    instance = SimpleNamespace(
        table=table,
        workdays=WORKDAYS,
        quiet=np.zeros(len(WORKDAYS), dtype=bool),
        feasible_days=lambda row: np.array(tasks[row]["days"]),
    )
    roster = SimpleNamespace(
        dept_of={p: dept for p, (dept, _, _) in people.items()},
        leave={p: {WORKDAYS[d] for d in off} for p, (_, off, _) in people.items()},
        hours_per_day=dict.fromkeys(people, 8),
        max_days={p: days for p, (_, _, days) in people.items()},
        delegations={holder: frozenset(DEPTS)},
    )
    travel = SimpleNamespace(
        minutes=lambda a, b: trip[b] if b in trip else trip[a],
        shortest_inward=lambda usccs, towns: {u: trip[u] for u in usccs},
    )
    town = {u: "城关" for u in trip}
    mandatory, tasks_bound = capacity.capacity_bound_model(instance, roster, travel, town, "sum", limits)
    bound = tasks_bound(mandatory)
    # the oracle's tasks: who may check each, its time (on site and its share of the way in)
    at = defaultdict(int)
    for t in tasks:
        at[t["uscc"]] += 1

    def who(dept: str, delegable: bool) -> frozenset[str]:
        own = {p for p, (mine, _, _) in people.items() if mine == dept}
        return frozenset(own | ({holder} if delegable and people[holder][0] != dept else set()))

    kept = []
    for t in tasks:
        mine = who(t["dept"], t["delegable"])
        if mine and t["minutes"] + 2 * trip[t["uscc"]] <= 480:
            kept.append({**t, "who": mine, "time": t["minutes"] + trip[t["uscc"]] / at[t["uscc"]]})
    pools = {who(t["dept"], flag) for t in tasks for flag in (False, True)} - {frozenset()}
    if not kept:
        assert (mandatory, bound.tasks) == (0, 0)
        return
    best_mandatory, best_tasks = bound_oracle(kept, people, pools, limits)
    assert mandatory == int(np.floor(best_mandatory + 1e-6))
    assert bound.tasks == int(np.floor(best_tasks + 1e-6))
