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

import numpy as np
import pandas as pd

from planner.caps import per_dept_used, positive_list_used
from planner.dataset import Dataset
from planner.instance import Instance, feasible_days, stabbing_counts
from planner.merge import MAX_VISIT_ONSITE_MIN, _representative_days, add_yearly_caps, long_stay_limits
from planner.scenario import Scenario


@dataclass(frozen=True)
class RuleBound:
    """``visits``: the bound; ``windows``: the contract's windows-only bound; ``enterprises``:
    those the plan visits more often than their windows need, with the plan's visits there, the
    windows-only and the rule-aware figures and whether the latter is proven optimal."""

    visits: int
    windows: int
    enterprises: pd.DataFrame  # uscc, plan, windows, rules, proven


def rule_bound(visits: pd.DataFrame, visit_tasks: pd.DataFrame, instance: Instance, dataset: Dataset,
               scenario: Scenario) -> RuleBound:  # fmt: skip
    """The rule-aware lower bound on visits for the tasks the plan scheduled (module doc)."""
    tasks = instance.tasks[instance.tasks["task_id"].isin(visit_tasks["task_id"])]
    windows = stabbing_counts(tasks, ["uscc"])
    planned = visits.groupby("uscc").size()
    # the planner's stay rule: 6 hours, longer only where that keeps a mandatory task (merge)
    long = visits[(visits["end_min"] - visits["start_min"] > MAX_VISIT_ONSITE_MIN) & (visits["n_tasks"] > 1)]
    long_at = set(long["uscc"])
    above = sorted(u for u, n in planned.items() if n > windows.get(u, 0))
    positive = set(dataset.enterprises.loc[dataset.enterprises["positive_list"], "uscc"])
    pl_used, dept_used = positive_list_used(dataset.history).to_dict(), per_dept_used(dataset.history).to_dict()
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
            least, exact = fewest_visits(instance, part, uscc in positive, scenario, pl_used, dept_used, limit)
            bound, proven = bound + least, proven and exact
        rows.append((uscc, int(planned[uscc]), int(windows.get(uscc, 0)), max(bound, int(windows.get(uscc, 0))), proven))
    frame = pd.DataFrame(rows, columns=["uscc", "plan", "windows", "rules", "proven"])
    total_windows = int(windows.sum())
    return RuleBound(total_windows + int((frame["rules"] - frame["windows"]).sum()), total_windows, frame)


def fewest_visits(instance: Instance, tasks: list[dict], positive: bool, scenario: Scenario, pl_used: dict,
                  dept_used: dict, stay_limit: int) -> tuple[int, bool]:  # fmt: skip
    """The fewest visits to one enterprise that check every task in ``tasks`` (module doc), and
    whether that is proven; if the solver stops first, its proven bound (never more than the optimum)."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    feasible = {t["task_id"]: feasible_days(t["first_day"], t["last_day"], t["capped"], instance.quiet) for t in tasks}
    years = instance.years
    days = _representative_days(feasible, years)
    feasible = {task_id: f[np.isin(f, days)] for task_id, f in feasible.items()}
    n = len(tasks)
    visits = {d: model.new_int_var(0, n, f"visits_{d}") for d in days}
    capped = {d: model.new_bool_var(f"capped_{d}") for d in days}
    depts = sorted({t["dept_id"] for t in tasks})
    checks = {(k, d): model.new_bool_var(f"checks_{k}_{d}") for k in depts for d in days}
    assign = {(t["task_id"], int(d)): model.new_bool_var(f"assign_{t['task_id']}_{d}") for t in tasks
              for d in feasible[t["task_id"]]}  # fmt: skip
    for t in tasks:
        model.add_exactly_one(assign[(t["task_id"], int(d))] for d in feasible[t["task_id"]])
        for d in feasible[t["task_id"]]:
            var = assign[(t["task_id"], int(d))]
            if t["capped"]:
                model.add_implication(var, capped[int(d)])
                model.add_implication(var, checks[(t["dept_id"], int(d))])
            else:  # an uncapped check in a capped visit uses its department's cap: else it is a visit of its own
                model.add(visits[int(d)] >= 1 + capped[int(d)] - checks[(t["dept_id"], int(d))]).only_enforce_if(var)
    for d in days:
        on_day = [(t, assign[(t["task_id"], d)]) for t in tasks if (t["task_id"], d) in assign]
        model.add(visits[d] >= 1).only_enforce_if(capped[d])
        for _, var in on_day:
            model.add(visits[d] >= 1).only_enforce_if(var)
        if scenario.onsite == "sum":
            longer = [var for t, var in on_day if int(t["duration_min"]) > MAX_VISIT_ONSITE_MIN]
            short = [(int(t["duration_min"]), var) for t, var in on_day if int(t["duration_min"]) <= MAX_VISIT_ONSITE_MIN]
            # each longer task is a stay of its own; the rest fit in the other stays of the day,
            # and no two tasks of more than half a stay share one
            model.add(sum(m * var for m, var in short) <= stay_limit * (visits[d] - sum(longer)))
            model.add(visits[d] >= sum(longer) + sum(var for m, var in short if 2 * m > stay_limit))
    add_yearly_caps(model, tasks[0]["uscc"], days, years, capped, checks, positive, scenario, pl_used, dept_used)
    model.minimize(sum(visits.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 5.0
    solver.parameters.catch_sigint_signal = False  # Ctrl-C is the planner's (cli.plan)
    status = solver.solve(model)
    if status == cp_model.OPTIMAL:
        return int(round(solver.objective_value)), True
    if status == cp_model.FEASIBLE:
        return int(np.ceil(solver.best_objective_bound - 1e-9)), False
    return 0, False  # no answer in time (or the plan's own tasks fail the relaxation): bound nothing
