"""A lower bound on visits that knows the rules: how far from the best possible is a plan?

The contract's ``lower_bound_visits`` counts, per enterprise, the fewest working days that hit
every scheduled task's window. It ignores the rules that force more visits: a stay has a
length (the on-site minutes must fit a crew's day), the yearly caps count capped visits
(一年最多查一次), and a department's complaint check may not make a capped visit count
against its cap. So a plan can sit above it with nothing left to gain.

``rule_bound`` closes that gap enterprise by enterprise. Where the plan visits an enterprise
more often than its windows need, a CP-SAT model of that enterprise's *scheduled* tasks finds
the fewest visits any plan could make for them under the planner's rules: every task on one of
its feasible working days, the caps counting history, an uncapped check beside a capped visit
either using its department's cap or making a visit of its own, and each day's on-site minutes
within that many stays of at most 6 hours — or, at an enterprise where the plan makes a long
stay to keep a mandatory task, of at most ``merge.long_stay_limits`` minutes (a task longer
than 6 hours is a stay of its own, and no two tasks of more than half a stay share one). Several
visits a day are allowed, and a stay's minutes are otherwise only bounded in total per day, so the model relaxes those rules and its optimum is a valid
lower bound for any plan that keeps them. Its proven optimum (or, if the solver stops first, its proven bound) replaces the
windows-only figure for that enterprise; elsewhere the windows-only figure stands.

What remains between the plan and this bound is the scheduler's doing (a joint visit split
per department for want of a crew that day), or the relaxation's: where several stays on one
day, or minutes bounded only in total, would need fewer visits than the planner's one visit
per enterprise a day with real stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from ortools.sat.python import cp_model

from planner.model.enterprise import EnterpriseTask, EnterpriseVars, solve
from planner.model.instance import Instance, stabbing_counts
from planner.rules.caps import YearlyCaps, add_yearly_caps, link_capped_stays
from planner.rules.stays import (
    MAX_VISIT_ONSITE_MIN,
    add_stays_relaxed,
    long_stay_limits,
)
from planner.rules.windows import feasible_days

if TYPE_CHECKING:
    from planner.dataset import Dataset
    from planner.scenario import Scenario


@dataclass(frozen=True)
class RuleBound:
    """``visits``: the bound; ``windows``: the contract's windows-only bound; ``enterprises``:
    those the plan visits more often than their windows need, with the plan's visits there, the
    windows-only and the rule-aware figures and whether the latter is proven optimal."""

    visits: int
    windows: int
    enterprises: pd.DataFrame  # uscc, plan, windows, rules, proven


def rule_bound(
    visits: pd.DataFrame, visit_tasks: pd.DataFrame, instance: Instance, dataset: Dataset, scenario: Scenario
) -> RuleBound:
    """The rule-aware lower bound on visits for the tasks the plan scheduled (module doc)."""
    tasks = instance.tasks[instance.tasks["task_id"].isin(visit_tasks["task_id"])]
    windows = stabbing_counts(tasks, ["uscc"])
    planned = visits.groupby("uscc").size()
    # the planner's stay rule: 6 hours, longer only where that keeps a mandatory task (merge)
    long = visits[(visits["end_min"] - visits["start_min"] > MAX_VISIT_ONSITE_MIN) & (visits["n_tasks"] > 1)]
    long_at = set(long["uscc"])
    above = sorted(u for u, n in planned.items() if n > windows.get(u, 0))
    caps = YearlyCaps.of_scenario(dataset, scenario)
    long_stay = long_stay_limits(dataset, scenario)
    solo = set(scenario.joint.solo_departments)
    by_uscc: dict[str, list[dict]] = {}
    for record in tasks[tasks["uscc"].isin(above)].to_dict("records"):
        by_uscc.setdefault(record["uscc"], []).append(record)
    rows = []
    for uscc in above:
        # a solo department's tasks never share a visit: its part is bounded on its own
        parts: dict[str, list[dict]] = {}
        for t in by_uscc[uscc]:
            parts.setdefault(t["dept_id"] if t["dept_id"] in solo else "", []).append(t)
        bound, proven = 0, True
        for part in parts.values():
            limit = long_stay(uscc, {t["dept_id"] for t in part}) if uscc in long_at else MAX_VISIT_ONSITE_MIN
            least, exact = fewest_visits(instance, part, caps, scenario, limit)
            bound, proven = bound + least, proven and exact
        rows.append(
            (uscc, int(planned[uscc]), int(windows.get(uscc, 0)), max(bound, int(windows.get(uscc, 0))), proven)
        )
    frame = pd.DataFrame(rows, columns=["uscc", "plan", "windows", "rules", "proven"])
    total_windows = int(windows.sum())
    return RuleBound(total_windows + int((frame["rules"] - frame["windows"]).sum()), total_windows, frame)


def fewest_visits(
    instance: Instance, tasks: list[dict], caps: YearlyCaps, scenario: Scenario, stay_limit: int
) -> tuple[int, bool]:
    """The fewest visits to one enterprise that check every task in ``tasks`` (module doc), and
    whether that is proven; if the solver stops first, its proven bound (never more than the optimum).
    Over ``EnterpriseVars`` with ``visit[d]`` counting the day's stays."""
    model = cp_model.CpModel()
    years = instance.years
    items = [
        EnterpriseTask(
            t["task_id"],
            t["task_id"],
            t["dept_id"],
            bool(t["capped"]),
            int(t["duration_min"]),
            feasible_days(t["first_day"], t["last_day"], t["capped"], instance.quiet),
        )
        for t in tasks
    ]
    v = EnterpriseVars(model, items, years, visits="count")
    for task in items:
        model.add_exactly_one(v.of_task(task))
        for d in v.feasible[task.key]:
            link_capped_stays(
                model,
                v.assign[(task.key, int(d))],
                v.capped[int(d)],
                v.checks[(task.dept_id, int(d))],
                v.visit[int(d)],
                task.capped,
            )
    for d in v.days:
        on_day = v.on_day(d)
        model.add(v.visit[d] >= 1).only_enforce_if(v.capped[d])
        for _, var in on_day:
            model.add(v.visit[d] >= 1).only_enforce_if(var)
        if scenario.onsite == "sum":
            add_stays_relaxed(model, [(t.duration_min, var) for t, var in on_day], v.visit[d], stay_limit)
    add_yearly_caps(model, tasks[0]["uscc"], v.days, years, v.capped, v.checks, caps)
    model.minimize(sum(v.visit.values()))
    status, solver = solve(model)
    if status == cp_model.OPTIMAL:
        return int(round(solver.objective_value)), True
    if status == cp_model.FEASIBLE:
        return int(np.ceil(solver.best_objective_bound - 1e-9)), False
    return 0, False  # no answer in time (or the plan's own tasks fail the relaxation): bound nothing
