"""Yearly caps in ``planner diagnose``: which mandatory tasks of an enterprise compete for them.

A task the merge left out for a cap (or a full stay) is checked by CP-SAT with assumptions over
the enterprise's other mandatory tasks: a minimal set that no choice of visits keeps together
(the core), and the limits whose lifting alone would end the conflict.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from planner.diagnose.facts import County
from planner.messages import Dept, Message, Reason, listing, msg
from planner.model.enterprise import EnterpriseTask, EnterpriseVars, solve
from planner.rules.caps import add_yearly_caps, link_capped, per_dept_reason, positive_list_reason
from planner.rules.explain import AT_RISK, BLOCKED, Verdict, options, window_text
from planner.rules.stays import add_one_stay, full_stay_reason
from planner.rules.windows import feasible_days


@dataclass(frozen=True)
class CapCore:
    """Mandatory tasks of one enterprise that cannot all be kept, and the limits that make it so."""

    task_ids: tuple[str, ...]  # a minimal set: keep any one fewer and the others fit
    binding: tuple[str, ...]  # "positive_list", "per_dept", "stay": lifting any one of them alone helps
    proven: bool


def cap_verdict(task: dict, why: Reason, county: County, blocked: set[str]) -> Verdict:
    """A task the merge left out for a yearly cap (or a full stay): which tasks compete, which cap.
    ``why`` is the merge's reason, the plan's sentence for the task; the finding says it too."""
    rule = why.code if why.code in ("cap_positive_list", "cap_per_dept") else "stay"
    if not task["mandatory"]:  # an optional task yields to mandatory ones: the merge's sentence says enough
        return Verdict(rule, BLOCKED, why, _cap_fix(task, county, rule))
    core = _task_core(task, county, blocked)
    if core is None or not core.task_ids:
        return Verdict(rule, AT_RISK, why.noted(msg("diagnose.cap.other_choice")), _cap_fix(task, county, rule))
    rule = (
        {"positive_list": "cap_positive_list", "per_dept": "cap_per_dept", "stay": "stay"}.get(core.binding[0], rule)
        if core.binding
        else rule
    )
    said = why if why.code == rule else _limit_reason(rule, task, county)
    stay = "stay" in core.binding and rule != "stay"
    longest = county.long_stay(task["uscc"], {county.task_by_id[t]["dept_id"] for t in core.task_ids})
    if stay:  # the longest stay is the planner's rule (the inspectors' day less the road), not the contract's
        total = sum(int(county.task_by_id[t]["duration_min"]) for t in core.task_ids)
        said = said.noted(msg("diagnose.cap.stay", total=total, longest=longest))
    listed = listing((_task_line(county, t) for t in core.task_ids), "clauses")
    return Verdict(
        rule,
        BLOCKED if core.proven else AT_RISK,
        said.noted(msg("diagnose.cap.core", tasks=listed)),
        _cap_fix(task, county, rule, longest if stay else 0),
    )


def _limit_reason(rule: str, task: dict, county: County) -> Reason:
    """The plan's reason for the limit that binds, when it is not the one the merge named."""
    year = int(county.instance.years[task["first_day"]])
    if rule == "cap_positive_list":
        return positive_list_reason(county.caps, task["uscc"], year)
    if rule == "cap_per_dept":
        return per_dept_reason(county.caps, task["uscc"], task["dept_id"], year)
    return full_stay_reason(window_text(task))


def _kept_visits(task: dict, county: County, rule: str) -> list[str]:
    """Day ranges of the visits the merge kept at the task's enterprise in its year that use the
    binding cap and that the task's window does not reach yet (moving the window there helps)."""
    year = int(county.instance.years[task["first_day"]])
    window = set(range(int(task["first_day"]), int(task["last_day"]) + 1))
    spans = []
    for group in county.groups_of.get(task["uscc"], []):
        if not len(group.days) or int(county.instance.years[group.days[0]]) != year:
            continue
        if window & set(group.days.tolist()):
            continue  # the window reaches it already: moving it there would not help
        uses_cap = group.capped and (rule == "cap_positive_list" or task["dept_id"] in group.depts)
        if rule == "stay" or uses_cap:
            spans.append(f"{county.date(group.days[0])}…{county.date(group.days[-1])}")
    return sorted(set(spans))[:3]


def _cap_fix(task: dict, county: County, rule: str, stay: int = 0) -> Message | Reason:
    """What would let the task in: a window reaching a kept visit, a shorter stay (``stay``: the
    longest one visit may take, when the stay limit takes part), next year."""
    spans = [] if stay else _kept_visits(task, county, rule)
    fixes = []
    if spans:
        fixes.append(msg("fix.cap.join_visit", visits=listing(spans)))
    if stay:
        fixes.append(msg("fix.cap.shorten", minutes=stay))
    if rule == "stay":
        fixes.append(msg("fix.cap.widen"))
    else:
        fixes += [msg("fix.cap.next_year"), msg("fix.cap.triggered", kind="triggered")]
    return options(*fixes)


def _task_line(county: County, task_id: str) -> Message:
    task = county.task_by_id[task_id]
    return msg("diagnose.cap.task", task=task_id, dept=Dept(task["dept_id"]), window=window_text(task))


def _core_scope(uscc: str, county: County, blocked: set[str]) -> list[dict]:
    """The enterprise's mandatory tasks that some day and some crew could take."""
    return [
        t
        for t in county.tasks_of.get(uscc, [])
        if t["mandatory"] and t["first_day"] >= 0 and t["task_id"] not in blocked
    ]


def _task_core(task: dict, county: County, blocked: set[str]) -> CapCore | None:
    """The tasks ``task`` competes with: a set of its enterprise's mandatory tasks, ``task`` among
    them, that no choice of visits keeps together within the yearly caps and the stay limit,
    and from which no other task can be taken without that conflict going (CP-SAT with
    assumptions, then deletion); and which limits, lifted alone, would end it. An empty core
    when every mandatory task of the enterprise fits; None when the solver could not tell."""
    if task["task_id"] in county.cores:
        return county.cores[task["task_id"]]
    uscc = task["uscc"]
    tasks = _core_scope(uscc, county, blocked)
    status, core = _solve_core(tasks, uscc, county, relax=())
    if status is None or not status:
        county.cores[task["task_id"]] = None if status is None else CapCore((), (), True)
        return county.cores[task["task_id"]]
    core |= {task["task_id"]}
    proven = True
    for task_id in sorted(core - {task["task_id"]}):  # deletion: keep only what the conflict needs
        if task_id not in core:
            continue
        trial = [t for t in tasks if t["task_id"] in core and t["task_id"] != task_id]
        infeasible, smaller = _solve_core(trial, uscc, county, relax=())
        if infeasible is None:
            proven = False
        elif infeasible:
            core = (core - {task_id}) & (smaller | {task["task_id"]})
    members = [t for t in tasks if t["task_id"] in core]
    binding = tuple(
        limit
        for limit in ("positive_list", "per_dept", "stay")
        if _solve_core(members, uscc, county, relax=(limit,))[0] is False
    )
    county.cores[task["task_id"]] = CapCore(tuple(sorted(core)), binding, proven)
    return county.cores[task["task_id"]]


def _solve_core(tasks: list[dict], uscc: str, county: County, relax: tuple[str, ...]) -> tuple[bool | None, set[str]]:
    """Can every task be kept? (False: yes; True: no, with a core of task ids; None: unknown).
    Over ``EnterpriseVars``, each task kept under an assumption ``keep[t]``."""
    if not tasks:
        return False, set()
    instance, years = county.instance, county.instance.years
    model = cp_model.CpModel()
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
    v = EnterpriseVars(model, items, years, visits=None)
    keep = {t.key: model.new_bool_var(f"keep_{t.key}") for t in items}
    for task in items:
        mine = v.of_task(task)
        model.add(sum(mine) == 1).only_enforce_if(keep[task.key])
        model.add(sum(mine) <= 1)
        for d in v.feasible[task.key]:
            link_capped(
                model, v.assign[(task.key, int(d))], v.capped[int(d)], v.checks[(task.dept_id, int(d))], task.capped
            )
    if "stay" not in relax and county.scenario.onsite == "sum":
        # every task here is mandatory, so the merge would take a stay up to its long-stay limit
        stay = county.long_stay(uscc, v.depts)
        for d in v.days:
            add_one_stay(model, [(t.duration_min, var) for t, var in v.on_day(d)], stay)
    add_yearly_caps(model, uscc, v.days, years, v.capped, v.checks, county.caps, relax)
    model.add_assumptions(list(keep.values()))
    status, solver = solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False, set()
    if status != cp_model.INFEASIBLE:
        return None, set()
    by_index = {var.index: task_id for task_id, var in keep.items()}
    return True, {by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index}
