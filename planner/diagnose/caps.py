"""Yearly caps in ``planner diagnose``: which mandatory tasks of an enterprise compete for them.

A task the merge left out for a cap (or a full stay) is checked by CP-SAT with assumptions over
the enterprise's other mandatory tasks: a minimal set that no choice of visits keeps together
(the core), and the limits whose lifting alone would end the conflict.
"""

from __future__ import annotations

from dataclasses import dataclass

from ortools.sat.python import cp_model

from planner.diagnose.facts import County
from planner.messages import Reason
from planner.model.enterprise import EnterpriseTask, EnterpriseVars, solve
from planner.rules import reason_label
from planner.rules.caps import add_yearly_caps, link_capped, used_dates
from planner.rules.explain import AT_RISK, BLOCKED, Verdict, window_text
from planner.rules.stays import MAX_VISIT_ONSITE_MIN, add_one_stay
from planner.rules.windows import feasible_days


@dataclass(frozen=True)
class CapCore:
    """Mandatory tasks of one enterprise that cannot all be kept, and the limits that make it so."""

    task_ids: tuple[str, ...]  # a minimal set: keep any one fewer and the others fit
    binding: tuple[str, ...]  # "positive_list", "per_dept", "stay": lifting any one of them alone helps
    proven: bool


def cap_verdict(task: dict, why: Reason, county: County, blocked: set[str]) -> Verdict:
    """A task the merge left out for a yearly cap (or a full stay): which tasks compete, which cap."""
    rule = why.code if why.code in ("cap_positive_list", "cap_per_dept") else "stay"
    category = reason_label(rule)
    reason = why.render("en", county.dept_name)
    year = int(county.instance.years[task["first_day"]])
    if not task["mandatory"]:  # an optional task yields to mandatory ones: the merge's sentence says enough
        return Verdict(
            rule,
            BLOCKED,
            f"{category}：{_limit_words(rule, task, county, year)[0]}",
            reason,
            *_cap_fix(task, county, rule),
        )
    core = _task_core(task, county, blocked)
    if core is None or not core.task_ids:
        return Verdict(
            rule,
            AT_RISK,
            f"{category}：计划程序未能把它与本企业其他检查合并，但另有安排可以保留本企业全部必查任务",
            f"{reason}; yet a choice of visits keeping every mandatory task of this enterprise exists",
            *_cap_fix(task, county, rule),
        )
    rule = (
        {"positive_list": "cap_positive_list", "per_dept": "cap_per_dept", "stay": "stay"}.get(core.binding[0], rule)
        if core.binding
        else rule
    )
    listed = "；".join(_task_line(county, t) for t in core.task_ids)
    listed_en = "; ".join(_task_line(county, t, en=True) for t in core.task_ids)
    limit_zh, limit_en = _limit_words(rule, task, county, year)
    stay = "stay" in core.binding and rule != "stay"
    longest = county.long_stay(task["uscc"], {county.task_by_id[t]["dept_id"] for t in core.task_ids})
    fix_zh, fix_en = _cap_fix(task, county, rule, longest if stay else 0)
    if stay:  # the longest stay is the planner's rule (the inspectors' day less the road), not the contract's
        total = sum(int(county.task_by_id[t]["duration_min"]) for t in core.task_ids)
        limit_zh += (
            f"；这些任务合计现场 {total} 分钟，超过一次检查最长可停留的 {longest} 分钟"
            "（检查人员一天的工作时间减去往返路程），放不进同一次检查"
        )
        limit_en += (
            f"; together they need {total} min on site, more than the {longest} min one visit may stay "
            "(the inspectors' working day less the road there and back)"
        )
    severity = BLOCKED if core.proven else AT_RISK
    return Verdict(
        rule,
        severity,
        f"{limit_zh}；以下必查任务无法同时安排：{listed}。计划保留其他任务，本任务被排除",
        f"{limit_en}; these mandatory tasks cannot all be kept: {listed_en}. The plan keeps the others",
        fix_zh,
        fix_en,
    )


def _limit_words(rule: str, task: dict, county: County, year: int) -> tuple[str, str]:
    caps, uscc, dept = county.scenario.caps, task["uscc"], task["dept_id"]
    if rule == "cap_positive_list":
        dates = used_dates(county.dataset.history, uscc, year)
        used = f"（已用：{', '.join(dates)}）" if dates else ""
        return (
            f"该企业在合规正面清单上，{year} 年最多安排 {caps.positive_list_per_year} 次常规检查{used}",
            f"the enterprise is on the positive list: {caps.positive_list_per_year} capped visit(s) in {year}"
            + (f" (used: {', '.join(dates)})" if dates else ""),
        )
    if rule == "cap_per_dept":
        dates = used_dates(county.dataset.history, uscc, year, dept)
        used = f"（已用：{', '.join(dates)}）" if dates else ""
        return (
            f"{county.name(dept)} {year} 年对该企业最多安排 {caps.per_dept_per_year} 次常规检查{used}",
            f"{dept} may make {caps.per_dept_per_year} capped visit(s) to this enterprise in {year}"
            + (f" (used: {', '.join(dates)})" if dates else ""),
        )
    hours = MAX_VISIT_ONSITE_MIN // 60
    return (
        f"同一企业一天只安排一次检查，单次现场不超过 {hours} 小时",
        f"one visit a day at an enterprise, at most {hours} hours on site",
    )


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


def _cap_fix(task: dict, county: County, rule: str, stay: int = 0) -> tuple[str, str]:
    """What would let the task in: a window reaching a kept visit, a shorter stay (``stay``: the
    longest one visit may take, when the stay limit takes part), next year."""
    spans = [] if stay else _kept_visits(task, county, rule)
    zh, en = [], []
    if spans:
        zh.append(f"调整时间窗使其与已安排的检查（{'、'.join(spans)}）重叠，并入同一次检查")
        en.append(f"move its window to overlap a kept visit ({', '.join(spans)}) and join it")
    if stay:
        zh.append(
            f"压缩检查时长使这些任务合计现场不超过 {stay} 分钟，并入同一次检查"
            "（一次检查最长停留时间由检查人员的工作时间和路程决定，为本计划的规则，非法定）"
        )
        en.append(
            f"shorten the checks to {stay} min on site in all so they share one visit "
            "(the longest stay follows from the inspectors' hours and the road; the planner's rule, not the law's)"
        )
    if rule == "stay":
        zh.append("放宽时间窗，分到不同的日子")
        en.append("widen the windows so the checks can go on different days")
    else:
        zh += ["移至下一年度", "投诉举报核查应登记为 triggered（不占用年度次数）"]
        en += ["plan it next year", "a complaint check should be kind triggered (not capped)"]
    return "；或".join(zh), "; or ".join(en)


def _task_line(county: County, task_id: str, en: bool = False) -> str:
    task = county.task_by_id[task_id]
    if en:
        return f"{task_id} ({task['dept_id']}, {window_text(task)})"
    return f"{task_id}（{task['dept_id']}，{window_text(task)}）"


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
