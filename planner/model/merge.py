"""综合查一次: merge the tasks of each enterprise into as few visits as their windows allow.

Per enterprise, greedy stabbing by earliest last feasible day is exact for intervals: it gives
the fewest visit groups, each with the working days common to all its tasks, so the scheduler
can still move the visit inside that range (an appointment's tasks are a group of their own, which
may take in due checks: ``model.appointments``). The yearly caps (一年最多查一次, per department)
are then applied group by group: a group beyond a cap loses its capped tasks, mandatory ones
last, and each task that loses says why.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from planner.messages import Reason, msg
from planner.model.appointments import appointment_groups, appointment_rows, fold_due_checks
from planner.model.enterprise import EnterpriseTask, EnterpriseVars, solve
from planner.model.groups import VisitGroup, distinct_days
from planner.model.instance import Instance
from planner.rules.caps import (
    YearlyCaps,
    add_yearly_caps,
    link_capped,
    per_dept_reason,
    per_dept_yields_reason,
    positive_list_reason,
    positive_list_yields_reason,
)
from planner.rules.overrides import add_overrides, apart_reason
from planner.rules.stays import (
    MAX_VISIT_ONSITE_MIN,
    add_one_stay,
    full_stay_reason,
    long_stay_limits,
    onsite_minutes,
)

if TYPE_CHECKING:
    from planner.dataset import Dataset
    from planner.scenario import Scenario


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
    #: enterprise → the most mandatory tasks the yearly caps and the stays let any plan keep
    #: there, where a mandatory task was left out and the exact model proved its choice
    mandatory_limits: dict[str, int] = field(default_factory=dict)


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
        if instance.overrides is not None:
            members = _keeping_overrides(members, instance)
        common = feasible[members[0]]
        for r in members[1:]:
            common = np.intersect1d(common, feasible[r], assume_unique=True)
        common = common[year_of[common] == year_of[stab]]  # a group's caps belong to one year
        groups.append((np.array(members, dtype=np.int64), common))
        taken = set(members)
        remaining = [r for r in remaining if r not in taken]
    return groups


def _keeping_overrides(members: list[int], instance: Instance) -> list[int]:
    """The members a stab may take under the overrides (人工研判修正): tasks held together join
    or stay out as one, and none joins a task it is forbidden to share a visit with. The first
    member always joins (the stab is its last day), so every stab takes a task."""
    facts, task_id = instance.overrides, instance.table.task_id
    candidates = {task_id[r]: r for r in members}
    taken: list[int] = []
    names: set[str] = set()
    for r in members:
        name = task_id[r]
        if name in names:
            continue
        unit = [name, *(p for p in facts.partners.get(name, ()) if p in candidates)]
        if any(frozenset((u, t)) in facts.forbidden for u in unit for t in names):
            continue
        taken += [candidates[u] for u in unit]
        names.update(unit)
    return sorted(taken, key=members.index)


def merge_tasks(
    instance: Instance,
    dataset: Dataset,
    scenario: Scenario,
    stats: MergeStats | None = None,
    stop: Callable[[], bool] | None = None,
) -> tuple[list[VisitGroup], dict[str, Reason]]:
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
    caps = YearlyCaps.of_scenario(dataset, scenario)
    solo = set(scenario.joint.solo_departments)
    placeable = np.flatnonzero((table.first_day >= 0) & ~appointment_rows(instance))  # appointments: their own groups
    dept = pd.Series(table.dept_id[placeable])
    keys = pd.DataFrame({"uscc": table.uscc[placeable], "part": dept.where(dept.isin(solo), "")})
    by_enterprise = {key: placeable[at].tolist() for key, at in keys.groupby(["uscc", "part"]).indices.items()}
    groups: list[VisitGroup] = []
    dropped: dict[str, Reason] = {}
    counted: set[int] = set()  # capped groups already counted against the positive list
    kept_mandatory: dict[str, int] = defaultdict(int)
    limited: set[str] = set()  # enterprises where a mandatory task is left out, proven necessary
    unproven: set[str] = set()  # … not proven necessary (the solver stopped first)
    for key in sorted(by_enterprise):
        uscc = key[0]
        if key[1]:  # a solo department after the visits before it: count what they took of the firm's cap
            for group in (g for g in groups if g.uscc == uscc and g.capped and id(g) not in counted):
                year = int(instance.years[group.days[0]])
                caps.count_visit(uscc, year)
                counted.add(id(group))
        stabbed = stab_groups(instance, by_enterprise[key])
        enterprise_groups = [
            part
            for rows, days in stabbed
            for part in _split_long(VisitGroup(table, uscc, rows, days), scenario.onsite, instance)
        ]
        lost: dict[str, Reason] = {}
        exact_proven = False
        kept = _apply_caps(enterprise_groups, caps, instance.years, lost, instance)
        needs_exact = lost or len(enterprise_groups) > len(stabbed) or not distinct_days([g.days for g in kept])
        if needs_exact and stats.stopped_by is None:
            if stop is not None and stop():
                stats.stopped_by = "interrupt"
            elif time.monotonic() >= deadline:
                stats.stopped_by = "time_limit"
        if needs_exact and stats.stopped_by is not None:
            stats.skipped += 1
            why = (
                msg("reason.note.interrupted")
                if stats.stopped_by == "interrupt"
                else msg("reason.note.time_limit", seconds=f"{scenario.solver.time_limit_s:g}")
            )
            lost = {task_id: reason.noted(why) for task_id, reason in lost.items()}
        elif needs_exact:
            # a cap binds or a stay is split: the stabbing is no longer exact, so choose the visits
            # exactly (CP-SAT) and keep the better of the two
            longest = long_stay(uscc, set(table.dept_id[by_enterprise[key]].tolist()))
            exact, proven = best_capped_visits(
                instance, by_enterprise[key], caps, scenario, max(0.01, deadline - time.monotonic()), longest
            )
            exact_proven = exact is not None and proven
            stats.exact_models += 1
            stats.proven += bool(proven)
            if exact is not None:
                exact_lost: dict[str, Reason] = {}
                kept_long = longest if scenario.onsite == "sum" else MAX_VISIT_ONSITE_MIN  # the model's own stay rule
                candidate = _apply_caps(
                    [p for g in exact for p in _split_long(g, scenario.onsite, instance, kept_long)],
                    caps,
                    instance.years,
                    exact_lost,
                    instance,
                )
                if not distinct_days([g.days for g in kept]) or _score(candidate) > _score(kept):
                    kept, lost = candidate, exact_lost
                    kept_rows = {r for g in kept for r in g.rows.tolist()}
                    for r in by_enterprise[key]:
                        task_id = table.task_id[r]
                        if r not in kept_rows and task_id not in lost:
                            lost[task_id] = _exact_reason(r, kept, caps, instance)
                if not proven:
                    lost = {task_id: why.noted(msg("reason.note.not_proven")) for task_id, why in lost.items()}
        if instance.overrides is not None:
            kept = _held_apart_out(kept, instance, lost)
        dropped |= lost
        groups += kept
        kept_mandatory[uscc] += sum(g.value()[0] for g in kept)
        if any(table.mandatory[r] for r in by_enterprise[key] if table.task_id[r] in lost):
            (limited if exact_proven else unproven).add(uscc)
    stats.mandatory_limits = {u: kept_mandatory[u] for u in sorted(limited - unproven)}
    groups = fold_due_checks(appointment_groups(instance), groups, instance, dataset, scenario)
    for n, group in enumerate(groups):
        group.group_id = n
    return groups, dropped


def _held_apart_out(kept: list[VisitGroup], instance: Instance, lost: dict[str, Reason]) -> list[VisitGroup]:
    """The groups with every override kept (人工研判修正): where a cap or a stay took tasks held
    together into two visits, those outside the visit holding most of them leave the plan; where
    a forbidden pair shares a visit, the less valuable task leaves (mandatory, priority, id). The
    stabbing and the exact model keep both already; this is the guarantee for the cuts after."""
    facts, table = instance.overrides, instance.table
    out: dict[int, set[int]] = {}  # group index → rows leaving it
    group_of = {table.task_id[r]: (n, r) for n, g in enumerate(kept) for r in g.rows.tolist()}
    for task_id, partners in sorted(facts.partners.items()):
        placed = [t for t in (task_id, *partners) if t in group_of]
        counts: dict[int, int] = {}
        for t in placed:
            counts[group_of[t][0]] = counts.get(group_of[t][0], 0) + 1
        if len(counts) > 1:
            home = max(sorted(counts), key=lambda n: counts[n])
            for t in placed:
                n, r = group_of[t]
                if n != home:
                    out.setdefault(n, set()).add(r)
                    lost[t] = apart_reason(facts.restricting.get(t) or facts.ids_of_task.get(t, ()))
    for pair in sorted(facts.forbidden, key=sorted):
        a, b = sorted(pair)
        if a in group_of and b in group_of and group_of[a][0] == group_of[b][0]:
            n = group_of[a][0]
            value = {t: (bool(table.mandatory[group_of[t][1]]), int(table.priority[group_of[t][1]])) for t in (a, b)}
            leaving = b if value[a] >= value[b] else a
            out.setdefault(n, set()).add(group_of[leaving][1])
            lost[leaving] = apart_reason(facts.restricting.get(leaving) or facts.ids_of_task.get(leaving, ()))
    if not out:
        return kept
    result = []
    for n, group in enumerate(kept):
        if n not in out:
            result.append(group)
            continue
        rows = np.array([r for r in group.rows.tolist() if r not in out[n]], dtype=np.int64)
        if len(rows):
            result.append(VisitGroup(group.table, group.uscc, rows, group.days))
    return result


def _score(groups: list[VisitGroup]) -> tuple[int, int, int, int]:
    """The goals in order: mandatory tasks kept, tasks kept, their priority, fewest visits."""
    mandatory, tasks, priority = (sum(part) for part in zip(*(g.value() for g in groups), (0, 0, 0)))
    return mandatory, tasks, priority, -len(groups)


def best_capped_visits(
    instance: Instance,
    rows: list[int],
    caps: YearlyCaps,
    scenario: Scenario,
    time_limit_s: float | None = None,
    long_stay_min: int = MAX_VISIT_ONSITE_MIN,
) -> tuple[list[VisitGroup] | None, bool]:
    """The visits of one enterprise that keep the most valuable tasks within the yearly caps (CP-SAT).

    Over ``EnterpriseVars`` (``rows``: the enterprise's tasks in ``instance.table``). Hard: each
    task at most once, on one of its feasible days, in that day's one visit; the caps
    (``rules.caps``); one stay a day within MAX_VISIT_ONSITE_MIN, or one longer task alone, or
    (``long[d]``) within ``long_stay_min`` (``rules.stays``). Objective, lexicographic by
    weights: mandatory tasks, fewest long stays (so a long stay is taken only to keep a
    mandatory task), tasks, priority, fewest visits.
    Returns the visits (None if the solver found none) and whether they are proven optimal.
    """
    table = instance.table
    model = cp_model.CpModel()
    years = instance.years
    tasks = [
        EnterpriseTask(
            r,
            table.task_id[r],
            table.dept_id[r],
            bool(table.capped[r]),
            int(table.duration_min[r]),
            instance.feasible_days(r),
        )
        for r in rows
    ]
    v = EnterpriseVars(model, tasks, years)
    for (_row, d), var in v.assign.items():
        model.add_implication(var, v.visit[d])
    for task in tasks:
        model.add_at_most_one(v.of_task(task))
        for d in v.feasible[task.key]:
            link_capped(
                model, v.assign[(task.key, int(d))], v.capped[int(d)], v.checks[(task.dept_id, int(d))], task.capped
            )
    long = {}  # a stay beyond MAX_VISIT_ONSITE_MIN on day d
    for d in v.days:
        model.add_implication(v.capped[d], v.visit[d])
        if scenario.onsite == "sum":  # one stay stays within MAX_VISIT_ONSITE_MIN, as the split would make it
            on_day = [(t.duration_min, var) for t, var in v.on_day(d)]
            made = add_one_stay(model, on_day, MAX_VISIT_ONSITE_MIN, long_stay_min, str(d))
            if made is not None:
                long[d] = made
    uscc = table.uscc[rows[0]]
    add_yearly_caps(model, uscc, v.days, years, v.capped, v.checks, caps)
    if instance.overrides is not None:
        add_overrides(model, v.assign, rows, table.task_id[rows].tolist(), v.feasible, instance.overrides)
    # lexicographic weights: each goal outweighs every possible change in the goals after it
    n = len(rows)
    per_priority = n + 1  # visits: at most n
    per_task = per_priority * (n * int(table.priority[rows].max()) + 1)
    per_long = per_task * (n + 1)  # long stays: at most n
    per_mandatory = per_long * (n + 1)
    weight = {
        r: per_mandatory * int(table.mandatory[r]) + per_task + per_priority * int(table.priority[r]) for r in rows
    }
    model.maximize(
        sum(weight[r] * var for (r, _), var in v.assign.items()) - per_long * sum(long.values()) - sum(v.visit.values())
    )
    status, solver = solve(model, time_limit_s)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    on_day: dict[int, list[int]] = {}
    for r in rows:
        for d in v.feasible[r]:
            if solver.boolean_value(v.assign[(r, int(d))]):
                on_day.setdefault(int(d), []).append(r)
    groups = []
    for d, members in sorted(on_day.items()):
        common = v.feasible[members[0]]
        for r in members[1:]:
            common = np.intersect1d(common, v.feasible[r], assume_unique=True)
        groups.append(VisitGroup(table, uscc, np.array(members, dtype=np.int64), common[years[common] == years[d]]))
    return groups, status == cp_model.OPTIMAL


def _exact_reason(row: int, kept: list[VisitGroup], caps: YearlyCaps, instance: Instance) -> Reason:
    """Why the exact model left a task (``row`` of ``instance.table``) out: the yearly cap that
    binds, or the days its window shares."""
    table = instance.table
    year = int(instance.years[table.first_day[row]])
    capped = [g for g in kept if g.capped and int(instance.years[g.days[0]]) == year]
    uscc, dept, is_capped = table.uscc[row], table.dept_id[row], bool(table.capped[row])
    if is_capped and caps.positive_full(uscc, year, len(capped)):
        return positive_list_yields_reason(caps, year)
    if is_capped and caps.dept_full(uscc, dept, year, sum(dept in g.depts for g in capped)):
        return per_dept_yields_reason(caps, dept)
    start, end = instance.tasks["window_start"].iat[row], instance.tasks["window_end"].iat[row]
    return full_stay_reason(f"{start.date().isoformat()}…{end.date().isoformat()}")


def _split_long(
    group: VisitGroup, mode: str, instance: Instance, limit: int = MAX_VISIT_ONSITE_MIN
) -> list[VisitGroup]:
    """Split a group whose stay would exceed MAX_VISIT_ONSITE_MIN: longest tasks first, first fit.
    (A group of the exact model may keep a stay up to ``limit``: the model took it to keep a
    mandatory task.)

    Each part may then use every day common to its own tasks (in the group's year), so the parts
    need not compete for the group's narrower days."""
    if group.onsite_min(mode) <= limit:
        return [group]
    table = group.table
    parts: list[list[int]] = []
    units = _held_units(group.rows.tolist(), instance)
    for unit in sorted(units, key=lambda u: (-int(table.duration_min[u].sum()), table.task_id[u[0]])):
        for part in parts:
            if onsite_minutes(table, np.array(part + unit), mode) <= MAX_VISIT_ONSITE_MIN:
                part += unit
                break
        else:
            parts.append(list(unit))
    years, year = instance.years, instance.years[group.days[0]]
    split = []
    for part in parts:
        common = instance.feasible_days(part[0])
        for r in part[1:]:
            common = np.intersect1d(common, instance.feasible_days(r), assume_unique=True)
        split.append(VisitGroup(table, group.uscc, np.array(part, dtype=np.int64), common[years[common] == year]))
    return split


def _held_units(rows: list[int], instance: Instance) -> list[list[int]]:
    """``rows`` as units a split keeps whole: each task alone, or the tasks an override holds
    together (人工研判修正) as one unit."""
    if instance.overrides is None:
        return [[r] for r in rows]
    partners, task_id = instance.overrides.partners, instance.table.task_id
    of = {task_id[r]: r for r in rows}
    units, seen = [], set()
    for r in rows:
        if r in seen:
            continue
        unit = [r, *(of[p] for p in partners.get(task_id[r], ()) if p in of and of[p] not in seen)]
        seen.update(unit)
        units.append(unit)
    return units


def _apply_caps(groups, caps: YearlyCaps, year_of, dropped, instance: Instance | None = None) -> list[VisitGroup]:
    """Keep the most valuable capped groups within the caps; strip capped tasks from the rest.
    (``instance``, with overrides: a split-off visit keeps off the days they exclude.)"""
    kept: list[VisitGroup] = []
    pl_count: dict[int, int] = {}
    dept_count: dict[tuple[str, int], int] = {}
    for group in sorted(groups, key=lambda g: g.value(), reverse=True):
        if not group.capped:
            kept.append(group)
            continue
        table, rows = group.table, group.rows.tolist()
        year = int(year_of[group.days[0]])
        losing: dict[int, Reason] = {}  # row → why its capped task leaves
        if caps.positive_full(group.uscc, year, pl_count.get(year, 0)):
            why = positive_list_reason(caps, group.uscc, year)
            losing |= {r: why for r in rows if table.capped[r]}
        split_off: list[int] = []
        for dept in group.depts:
            mine = [r for r in rows if table.dept_id[r] == dept and r not in losing]
            if not mine or not caps.dept_full(group.uscc, dept, year, dept_count.get((dept, year), 0)):
                continue
            why = per_dept_reason(caps, group.uscc, dept, year)
            losing |= {r: why for r in mine if table.capped[r]}
            split_off += [r for r in mine if not table.capped[r]]  # its complaint checks go in a visit of their own
        dropped |= {table.task_id[r]: why for r, why in losing.items()}
        remaining = [r for r in rows if r not in losing and r not in split_off]
        if split_off:
            # exempt checks leave the capped visit: any day common to their own windows will do,
            # so they need not compete with that visit for its day
            first, last = table.first_day[split_off].max(), table.last_day[split_off].min()
            own = np.arange(first, last + 1)
            if instance is not None and instance.overrides is not None:
                for r in split_off:
                    own = np.intersect1d(own, instance.feasible_days(r), assume_unique=True)
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
