"""综合查一次: merge the tasks of each enterprise into as few visits as their windows allow.

Per enterprise, greedy stabbing by earliest last feasible day is exact for intervals: it gives
the fewest visit groups, each with the working days common to all its tasks, so the scheduler
can still move the visit inside that range. The yearly caps (一年最多查一次, per department)
are then applied group by group: a group beyond a cap loses its capped tasks, mandatory ones
last, and each task that loses says why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from planner.caps import per_dept_used, positive_list_used, used_dates
from planner.dataset import Dataset
from planner.instance import Instance, TaskTable
from planner.scenario import Scenario

#: the longest stay planned at one enterprise; a bigger group is split into several visits,
#: unless a longer stay (up to ``long_stay_limits``) is what keeps a mandatory task in the plan
MAX_VISIT_ONSITE_MIN = 360


@dataclass(eq=False)  # identity: two groups are never "equal" by content
class VisitGroup:
    """Tasks of one enterprise to be checked in one stay, and the days they can share.

    ``rows`` are row numbers into a ``TaskTable`` (the instance's tasks as columns), so a group
    is a few arrays and no Python object per task. A group's tasks do not change once it is
    made (a different set is a new group), so what is derived from them is computed once.
    """

    table: TaskTable = field(repr=False)
    uscc: str
    rows: np.ndarray  # int64 row numbers, in the order the tasks are listed in the plan
    days: np.ndarray  # working-day indices common to every task
    group_id: int = 0

    @cached_property
    def depts(self) -> tuple[str, ...]:
        names = self.table.dept_names
        return tuple(names[c] for c in np.unique(self.table.dept[self.rows]).tolist())

    @cached_property
    def capped(self) -> bool:
        return bool(self.table.capped[self.rows].any())

    @cached_property
    def mandatory(self) -> bool:
        return bool(self.table.mandatory[self.rows].any())

    @cached_property
    def min_crew(self) -> int:
        return max(2, int(self.table.min_inspectors[self.rows].max()))

    @property
    def task_ids(self) -> list[str]:
        return self.table.task_id[self.rows].tolist()

    @property
    def n_tasks(self) -> int:
        return len(self.rows)

    def onsite_min(self, mode: str) -> int:
        """On-site minutes: the sum of the tasks, or (parallel) the largest per-department sum."""
        return onsite_minutes(self.table, self.rows, mode)

    def delegable(self, dept: str) -> bool:
        """All the group's tasks of ``dept`` may be checked by another department's delegated inspector."""
        of_dept = self.table.dept_id[self.rows] == dept
        return bool(self.table.delegable[self.rows][of_dept].all())

    @cached_property
    def _value(self) -> tuple[int, int, int]:
        rows = self.rows
        return int(self.table.mandatory[rows].sum()), len(rows), int(self.table.priority[rows].sum())

    def value(self) -> tuple:
        """Which group keeps a scarce cap: mandatory tasks, then more tasks, then priority."""
        return self._value


def onsite_minutes(table: TaskTable, rows: np.ndarray, mode: str) -> int:
    """On-site minutes of the tasks of ``rows``: their sum, or (parallel) the largest per-department sum."""
    minutes = table.duration_min[rows]
    if mode == "parallel":
        return int(np.bincount(table.dept[rows], weights=minutes).max())
    return int(minutes.sum())


@dataclass
class MergeStats:
    """What the exact per-enterprise models did, for kpis.json.

    ``stopped_by`` is ``"time_limit"`` when ``[solver] time_limit_s`` was spent, ``"interrupt"``
    when the run was asked to stop (Ctrl-C); the enterprises after that (``skipped``) keep their
    greedy visits within the caps: a valid plan, possibly with more visits or fewer tasks.
    """

    exact_models: int = 0
    proven: int = 0
    skipped: int = 0
    stopped_by: str | None = None


def long_stay_limits(dataset: Dataset, scenario: Scenario) -> Callable[[str, Iterable[str]], int]:
    """``limit(uscc, depts)``: the longest stay a visit there may take when only that keeps a
    mandatory task (a positive-list firm's one capped visit a year, say): the longest working day
    every department can staff (of each department's longest ``hours_per_day``, the shortest),
    less the road from the township's station and back — never below MAX_VISIT_ONSITE_MIN.
    The scheduler still needs inspectors with such a day free; a stay of 6 hours stays the rule."""
    from planner.schedule import TravelTimes  # the scheduler's travel model, so the day fits there

    staff = dataset.inspectors[dataset.inspectors["cert_no"].notna()]  # with a 执法证, as the roster (matching)
    longest = staff.assign(minutes=(staff["hours_per_day"] * 60).astype(int)).groupby("dept_id")["minutes"].max().to_dict()
    township = dict(zip(dataset.enterprises["uscc"], dataset.enterprises["township"]))
    travel = TravelTimes(dataset, scenario)

    def limit(uscc: str, depts: Iterable[str]) -> int:
        day = min((longest.get(d, 0) for d in depts), default=0)
        station = f"station:{township[uscc]}"
        return max(MAX_VISIT_ONSITE_MIN, day - travel.minutes(station, uscc) - travel.minutes(uscc, station))

    return limit


def stab_groups(instance: Instance, rows: list[int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fewest groups of one enterprise's tasks (``rows`` of ``instance.table``) sharing a day
    (exact for plain windows): each group's rows and the days common to them."""
    table = instance.table
    feasible = {r: instance.feasible_days(r) for r in rows}
    remaining = sorted(rows, key=lambda r: (int(feasible[r][-1]), table.task_id[r]))
    year_of = instance.years
    groups = []
    while remaining:
        stab = int(feasible[remaining[0]][-1])
        members = [r for r in remaining if stab in feasible[r]]
        common = feasible[members[0]]
        for r in members[1:]:
            common = np.intersect1d(common, feasible[r], assume_unique=True)
        common = common[year_of[common] == year_of[stab]]  # a group's caps belong to one year
        groups.append((np.array(members, dtype=np.int64), common))
        taken = set(members)
        remaining = [r for r in remaining if r not in taken]
    return groups


def merge_tasks(instance: Instance, dataset: Dataset, scenario: Scenario, stats: MergeStats | None = None,
                stop: Callable[[], bool] | None = None) -> tuple[list[VisitGroup], dict[str, str]]:  # fmt: skip
    """Visit groups of every enterprise within the caps, and the tasks the caps leave out (reasons).

    A department of ``[joint] solo_departments`` is merged on its own: its tasks at an enterprise
    form their own visits, after the joint ones, within what those left of the yearly caps.
    The exact models share ``[solver] time_limit_s`` of wall time; once it is spent, or ``stop()``
    says so, the enterprises left keep their greedy visits (``stats`` says how many).
    """
    stats = stats if stats is not None else MergeStats()
    deadline = time.monotonic() + scenario.solver.time_limit_s
    long_stay = long_stay_limits(dataset, scenario)
    table = instance.table
    positive = set(dataset.enterprises.loc[dataset.enterprises["positive_list"], "uscc"])
    pl_used, dept_used = positive_list_used(dataset.history).to_dict(), per_dept_used(dataset.history).to_dict()
    solo = set(scenario.joint.solo_departments)
    placeable = np.flatnonzero(table.first_day >= 0)
    dept = pd.Series(table.dept_id[placeable])
    keys = pd.DataFrame({"uscc": table.uscc[placeable], "part": dept.where(dept.isin(solo), "")})
    by_enterprise = {key: placeable[at].tolist() for key, at in keys.groupby(["uscc", "part"]).indices.items()}
    groups: list[VisitGroup] = []
    dropped: dict[str, str] = {}
    counted: set[int] = set()  # capped groups already added to pl_used
    for key in sorted(by_enterprise):
        uscc = key[0]
        if key[1]:  # a solo department after the visits before it: count what they took of the firm's cap
            for group in (g for g in groups if g.uscc == uscc and g.capped and id(g) not in counted):
                year = int(instance.years[group.days[0]])
                pl_used[(uscc, year)] = pl_used.get((uscc, year), 0) + 1
                counted.add(id(group))
        stabbed = stab_groups(instance, by_enterprise[key])
        enterprise_groups = [part for rows, days in stabbed for part in _split_long(VisitGroup(table, uscc, rows, days), scenario.onsite, instance)]
        lost: dict[str, str] = {}
        kept = _apply_caps(enterprise_groups, uscc in positive, scenario, pl_used, dept_used,
                           instance.years, dataset.history, lost)  # fmt: skip
        needs_exact = lost or len(enterprise_groups) > len(stabbed) or not distinct_days([g.days for g in kept])
        if needs_exact and stats.stopped_by is None:
            if stop is not None and stop():
                stats.stopped_by = "interrupt"
            elif time.monotonic() >= deadline:
                stats.stopped_by = "time_limit"
        if needs_exact and stats.stopped_by is not None:
            stats.skipped += 1
            why = ("the run was interrupted" if stats.stopped_by == "interrupt"
                   else f"the solver's time limit of {scenario.solver.time_limit_s:g} s was spent")  # fmt: skip
            lost = {task_id: f"{reason} (visits not chosen exactly: {why} before this enterprise)"
                    for task_id, reason in lost.items()}  # fmt: skip
        elif needs_exact:
            # a cap binds or a stay is split: the stabbing is no longer exact, so choose the visits
            # exactly (CP-SAT) and keep the better of the two
            longest = long_stay(uscc, set(table.dept_id[by_enterprise[key]].tolist()))
            exact, proven = best_capped_visits(instance, by_enterprise[key], uscc in positive, scenario, pl_used,
                                               dept_used, max(0.01, deadline - time.monotonic()), longest)  # fmt: skip
            stats.exact_models += 1
            stats.proven += bool(proven)
            if exact is not None:
                exact_lost: dict[str, str] = {}
                kept_long = longest if scenario.onsite == "sum" else MAX_VISIT_ONSITE_MIN  # the model's own stay rule
                candidate = _apply_caps([p for g in exact for p in _split_long(g, scenario.onsite, instance, kept_long)],
                                        uscc in positive,
                                        scenario, pl_used, dept_used, instance.years, dataset.history, exact_lost)  # fmt: skip
                if not distinct_days([g.days for g in kept]) or _score(candidate) > _score(kept):
                    kept, lost = candidate, exact_lost
                    kept_rows = {r for g in kept for r in g.rows.tolist()}
                    for r in by_enterprise[key]:
                        task_id = table.task_id[r]
                        if r not in kept_rows and task_id not in lost:
                            lost[task_id] = _exact_reason(r, kept, uscc in positive, scenario, instance, pl_used,
                                                          dept_used)  # fmt: skip
                if not proven:
                    lost = {task_id: f"{why} (best choice found within the solver's limit, not proven optimal)"
                            for task_id, why in lost.items()}  # fmt: skip
        dropped |= lost
        groups += kept
    for n, group in enumerate(groups):
        group.group_id = n
    return groups, dropped


def distinct_days(windows: list[np.ndarray]) -> bool:
    """Whether every window (the days of one enterprise's groups) can have a day of its own
    (bipartite matching by augmenting paths: a handful of groups, no solver needed)."""
    owner: dict[int, int] = {}

    def place(n: int, seen: set[int]) -> bool:
        for day in windows[n].tolist():
            if day not in seen:
                seen.add(day)
                if day not in owner or place(owner[day], seen):
                    owner[day] = n
                    return True
        return False

    return all(place(n, set()) for n in range(len(windows)))


def _score(groups: list[VisitGroup]) -> tuple[int, int, int, int]:
    """The goals in order: mandatory tasks kept, tasks kept, their priority, fewest visits."""
    mandatory, tasks, priority = (sum(part) for part in zip(*(g.value() for g in groups), (0, 0, 0)))
    return mandatory, tasks, priority, -len(groups)


def best_capped_visits(instance: Instance, rows: list[int], positive: bool, scenario: Scenario,
                       pl_used: dict, dept_used: dict, time_limit_s: float | None = None,
                       long_stay_min: int = MAX_VISIT_ONSITE_MIN) -> tuple[list[VisitGroup] | None, bool]:  # fmt: skip
    """The visits of one enterprise that keep the most valuable tasks within the yearly caps (CP-SAT).

    Variables: ``visit[d]`` (a visit on working day d), ``capped[d]`` (it is capped),
    ``assign[t, d]`` (task t checked at it), ``checks[k, d]`` (department k checks in a capped
    visit on d). Hard: each task at most once, on one of its feasible days; a capped task makes
    its visit capped; per year, Σ capped[d] ≤ positive-list cap left (positive-list firms) and
    Σ checks[k, d] ≤ department cap left; a day's stay within MAX_VISIT_ONSITE_MIN, or one longer
    task alone, or (``long[d]``) within ``long_stay_min``; ``rows``: the enterprise's tasks in
    ``instance.table``. Objective, lexicographic by weights:
    mandatory tasks, fewest long stays (so a long stay is taken only to keep a mandatory task),
    tasks, priority, fewest visits.
    Returns the visits (None if the solver found none) and whether they are proven optimal.
    """
    from ortools.sat.python import cp_model

    table = instance.table
    task_id, duration = table.task_id, table.duration_min
    model = cp_model.CpModel()
    feasible = {r: instance.feasible_days(r) for r in rows}
    years = instance.years
    days = _representative_days(feasible, years)
    feasible = {r: f[np.isin(f, days)] for r, f in feasible.items()}
    visit = {d: model.new_bool_var(f"visit_{d}") for d in days}
    capped = {d: model.new_bool_var(f"capped_{d}") for d in days}
    long: dict[int, cp_model.IntVar] = {}  # a stay beyond MAX_VISIT_ONSITE_MIN on day d
    assign = {(r, int(d)): model.new_bool_var(f"assign_{task_id[r]}_{d}") for r in rows for d in feasible[r]}
    depts = sorted(set(table.dept_id[rows].tolist()))
    checks = {(k, d): model.new_bool_var(f"checks_{k}_{d}") for k in depts for d in days}
    by_task: dict[int, list] = {}
    for (r, d), var in assign.items():
        by_task.setdefault(r, []).append(var)
        model.add_implication(var, visit[d])
    for r in rows:
        model.add_at_most_one(by_task[r])
        for d in feasible[r]:
            var = assign[(r, int(d))]
            if table.capped[r]:
                model.add_implication(var, capped[int(d)])
            # a department checking in a capped visit uses its cap, whatever the kind of its task
            model.add_bool_or([var.Not(), capped[int(d)].Not(), checks[(table.dept_id[r], int(d))]])
    for d in days:
        model.add_implication(capped[d], visit[d])
        on_day = [(r, assign[(r, d)]) for r in rows if (r, d) in assign]
        if scenario.onsite == "sum":  # one stay stays within MAX_VISIT_ONSITE_MIN, as the split would make it
            short = [(r, var) for r, var in on_day if int(duration[r]) <= MAX_VISIT_ONSITE_MIN]
            onsite = sum(int(duration[r]) * var for r, var in short)
            if long_stay_min > MAX_VISIT_ONSITE_MIN and sum(int(duration[r]) for r, _ in short) > MAX_VISIT_ONSITE_MIN:
                long[d] = model.new_bool_var(f"long_{d}")
                model.add(onsite <= MAX_VISIT_ONSITE_MIN + (long_stay_min - MAX_VISIT_ONSITE_MIN) * long[d])
            else:
                model.add(onsite <= MAX_VISIT_ONSITE_MIN)
            for r, var in on_day:  # a longer task is a stay of its own
                if int(duration[r]) > MAX_VISIT_ONSITE_MIN:
                    model.add(sum(other for u, other in on_day if u != r) == 0).only_enforce_if(var)
    uscc = table.uscc[rows[0]]
    add_yearly_caps(model, uscc, days, years, capped, checks, positive, scenario, pl_used, dept_used)
    # lexicographic weights: each goal outweighs every possible change in the goals after it
    n = len(rows)
    per_priority = n + 1  # visits: at most n
    per_task = per_priority * (n * int(table.priority[rows].max()) + 1)
    per_long = per_task * (n + 1)  # long stays: at most n
    per_mandatory = per_long * (n + 1)
    weight = {r: per_mandatory * int(table.mandatory[r]) + per_task + per_priority * int(table.priority[r]) for r in rows}
    model.maximize(sum(weight[r] * var for (r, _), var in assign.items())
                   - per_long * sum(long.values()) - sum(visit.values()))  # fmt: skip
    solver = cp_model.CpSolver()
    # one worker (the default) gives the same answer on every machine; more search in parallel
    # but may pick a different one of equally good choices from run to run
    solver.parameters.num_workers = scenario.solver.workers
    solver.parameters.max_deterministic_time = 5.0  # the same answer on a slow machine
    solver.parameters.catch_sigint_signal = False  # Ctrl-C is the planner's to handle (cli.plan), not one model's
    if time_limit_s is not None:  # what is left of the run's budget; binds only when nearly spent
        solver.parameters.max_time_in_seconds = time_limit_s
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    on_day: dict[int, list[int]] = {}
    for r in rows:
        for d in feasible[r]:
            if solver.boolean_value(assign[(r, int(d))]):
                on_day.setdefault(int(d), []).append(r)
    groups = []
    for d, members in sorted(on_day.items()):
        common = feasible[members[0]]
        for r in members[1:]:
            common = np.intersect1d(common, feasible[r], assume_unique=True)
        groups.append(VisitGroup(table, uscc, np.array(members, dtype=np.int64), common[years[common] == years[d]]))
    return groups, status == cp_model.OPTIMAL


def add_yearly_caps(model, uscc: str, days: list[int], years: np.ndarray, capped: dict, checks: dict, positive: bool,
                    scenario: Scenario, pl_used: dict, dept_used: dict, relax: tuple[str, ...] = ()) -> None:  # fmt: skip
    """一年最多查一次 in a CP-SAT model of one enterprise, per calendar year and counting history:
    Σ capped[d] within the positive-list cap left (``positive``), Σ checks[k, d] within each
    department's cap left. ``relax`` leaves out "positive_list" or "per_dept"."""
    depts = sorted({k for k, _ in checks})
    for year in sorted({int(years[d]) for d in days}):
        in_year = [d for d in days if years[d] == year]
        if positive and "positive_list" not in relax:
            left = max(0, scenario.caps.positive_list_per_year - pl_used.get((uscc, year), 0))
            model.add(sum(capped[d] for d in in_year) <= left)
        if "per_dept" not in relax:
            for k in depts:
                left = max(0, scenario.caps.per_dept_per_year - dept_used.get((uscc, k, year), 0))
                model.add(sum(checks[(k, d)] for d in in_year) <= left)


def _representative_days(feasible: dict[str, np.ndarray], years: np.ndarray) -> list[int]:
    """Enough days to keep the model exact, far fewer than all.

    Days on which the same tasks are feasible (in the same year) are interchangeable; of each
    such class a plan can use at most as many days as the class has tasks, so the first that
    many days suffice."""
    classes: dict[tuple, list[int]] = {}
    for day in sorted({int(d) for f in feasible.values() for d in f}):
        signature = (int(years[day]), *(task_id for task_id, f in feasible.items() if day in f))
        classes.setdefault(signature, []).append(day)
    return sorted(d for signature, members in classes.items() for d in members[: len(signature) - 1])


def _exact_reason(row: int, kept: list[VisitGroup], positive: bool, scenario: Scenario, instance: Instance,
                  pl_used: dict, dept_used: dict) -> str:  # fmt: skip
    """Why the exact model left a task (``row`` of ``instance.table``) out: the yearly cap that
    binds, or the days its window shares."""
    table = instance.table
    year = int(instance.years[table.first_day[row]])
    capped = [g for g in kept if g.capped and int(instance.years[g.days[0]]) == year]
    uscc, dept, is_capped = table.uscc[row], table.dept_id[row], bool(table.capped[row])
    if is_capped and positive and pl_used.get((uscc, year), 0) + len(capped) >= scenario.caps.positive_list_per_year:
        return (f"合规正面清单一年最多查一次: the positive-list cap ({scenario.caps.positive_list_per_year} capped "
                f"visit in {year}) goes to visits with more mandatory tasks, and this task's window cannot share them")  # fmt: skip
    with_dept = sum(dept in g.depts for g in capped)
    if is_capped and dept_used.get((uscc, dept, year), 0) + with_dept >= scenario.caps.per_dept_per_year:
        return (f"{dept} may make {scenario.caps.per_dept_per_year} capped visits a year to this enterprise; "
                "they go to visits with more mandatory tasks, and this task's window cannot share them")  # fmt: skip
    start, end = instance.tasks["window_start"].iat[row], instance.tasks["window_end"].iat[row]
    window = f"{start.date().isoformat()}…{end.date().isoformat()}"
    return (f"the working days of its window {window} each already hold a visit to this enterprise with a full "
            f"stay (at most {MAX_VISIT_ONSITE_MIN // 60} hours on site, one visit a day)")


def _split_long(group: VisitGroup, mode: str, instance: Instance, limit: int = MAX_VISIT_ONSITE_MIN) -> list[VisitGroup]:
    """Split a group whose stay would exceed MAX_VISIT_ONSITE_MIN: longest tasks first, first fit.
    (A group of the exact model may keep a stay up to ``limit``: the model took it to keep a
    mandatory task.)

    Each part may then use every day common to its own tasks (in the group's year), so the parts
    need not compete for the group's narrower days."""
    if group.onsite_min(mode) <= limit:
        return [group]
    table = group.table
    parts: list[list[int]] = []
    for row in sorted(group.rows.tolist(), key=lambda r: (-int(table.duration_min[r]), table.task_id[r])):
        for part in parts:
            if onsite_minutes(table, np.array(part + [row]), mode) <= MAX_VISIT_ONSITE_MIN:
                part.append(row)
                break
        else:
            parts.append([row])
    years, year = instance.years, instance.years[group.days[0]]
    split = []
    for part in parts:
        common = instance.feasible_days(part[0])
        for r in part[1:]:
            common = np.intersect1d(common, instance.feasible_days(r), assume_unique=True)
        split.append(VisitGroup(table, group.uscc, np.array(part, dtype=np.int64), common[years[common] == year]))
    return split


def _apply_caps(groups, positive, scenario, pl_used, dept_used, year_of, history, dropped) -> list[VisitGroup]:
    """Keep the most valuable capped groups within the caps; strip capped tasks from the rest."""
    caps = scenario.caps
    kept: list[VisitGroup] = []
    pl_count: dict[int, int] = {}
    dept_count: dict[tuple[str, int], int] = {}
    for group in sorted(groups, key=lambda g: g.value(), reverse=True):
        if not group.capped:
            kept.append(group)
            continue
        table, rows = group.table, group.rows.tolist()
        year = int(year_of[group.days[0]])
        losing: dict[int, str] = {}  # row → why its capped task leaves
        if positive and pl_used.get((group.uscc, year), 0) + pl_count.get(year, 0) >= caps.positive_list_per_year:
            dates = used_dates(history, group.uscc, year)
            earlier = f"already used on {', '.join(dates)}" if dates else "taken by another visit of this plan"
            why = (f"合规正面清单一年最多查一次: the positive-list cap ({caps.positive_list_per_year} capped visit in "
                   f"{year}) is {earlier}, and this task's window cannot share that visit")  # fmt: skip
            losing |= {r: why for r in rows if table.capped[r]}
        split_off: list[int] = []
        for dept in group.depts:
            mine = [r for r in rows if table.dept_id[r] == dept and r not in losing]
            if not mine or dept_used.get((group.uscc, dept, year), 0) + dept_count.get((dept, year), 0) < caps.per_dept_per_year:
                continue
            dates = used_dates(history, group.uscc, year, dept)
            earlier = f" (history: {', '.join(dates)})" if dates else ""
            why = (f"{dept} may make {caps.per_dept_per_year} capped visits a year to this enterprise{earlier}; "
                   "this task's window cannot share one of them")  # fmt: skip
            losing |= {r: why for r in mine if table.capped[r]}
            split_off += [r for r in mine if not table.capped[r]]  # its complaint checks go in a visit of their own
        dropped |= {table.task_id[r]: why for r, why in losing.items()}
        remaining = [r for r in rows if r not in losing and r not in split_off]
        if split_off:
            # exempt checks leave the capped visit: any day common to their own windows will do,
            # so they need not compete with that visit for its day
            first, last = table.first_day[split_off].max(), table.last_day[split_off].min()
            own = np.arange(first, last + 1)
            kept.append(VisitGroup(table, group.uscc, np.array(split_off, dtype=np.int64), own[year_of[own] == year]))
        if not remaining:
            continue
        group = VisitGroup(table, group.uscc, np.array(remaining, dtype=np.int64), group.days)
        if group.capped:
            pl_count[year] = pl_count.get(year, 0) + 1
            for dept in group.depts:  # every department checking in a capped visit uses its cap
                dept_count[(dept, year)] = dept_count.get((dept, year), 0) + 1
        kept.append(group)
    return kept
