"""Infeasibility explained: why mandatory tasks cannot be placed, without planning.

``diagnose`` runs the stages before the crew scheduler — the 双随机 draw, the instance and the
merge with its yearly caps — and checks every mandatory task (key, triggered, followup; random
and campaign tasks too on request) against each rule of the rulebook (``planner.rules``) that can keep it out, in the rulebook's order (``DIAGNOSED``). A task that
breaks a rule gets a ``Finding``: the rule's code, the reason in an official's terms (which
department, which days, which cap, which certificate or delegation is missing) and what would
fix it, in Chinese and English from the message catalogue — the plan's own sentence where the
plan says the same of an unscheduled task (``planner.rules.explain``). Then a capacity check
per department and ISO week.

Every check is a *necessary* condition: a blocked finding proves that no plan can place the
task under the rules (or, for the caps, that no plan can keep all the listed tasks); a task
without a finding can still end unplaced, because the scheduler is constructive and travel,
routes and crews competing for the same people are not modelled here (docs/diagnose.md).

Capacity: for any range of weeks [a, b], the person-minutes on site that a department's
mandatory tasks whose feasible days lie wholly inside [a, b] need at the least — each visit
needs one inspector of the task's own department on site for the task's minutes, unless the
task is delegable and another department's inspector holds the delegation — cannot exceed
what its certified inspectors can give in [a, b]: Σ hours_per_day × min(days not on leave in
[a, b], max_days). In ``onsite = "sum"`` the whole county's demand, min_inspectors × minutes
per task, is checked the same way. A range where demand exceeds that is a *shortfall*: some
mandatory task there is certain to stay unplaced. The *paced* supply — each inspector's
max_days spread evenly over the horizon, as the scheduler paces it — gives *pressure* ranges:
at risk, not proven.
"""

from __future__ import annotations

from collections.abc import Callable

from planner.dataset import Dataset
from planner.diagnose.capacity import CAPACITY_COLUMNS, COUNTY, capacity_check
from planner.diagnose.caps import cap_verdict
from planner.diagnose.facts import County
from planner.diagnose.findings import Diagnosis, Finding, Shortfall
from planner.diagnose.render import DIAGNOSED, render, to_json
from planner.model.capacity import capacity_bound
from planner.model.instance import build_instance
from planner.model.matching import Roster
from planner.model.merge import MergeStats, merge_tasks
from planner.rules import conflicts, crews, observation, quiet_days, routes, staff_days, windows
from planner.rules.explain import AT_RISK, BLOCKED
from planner.sampling import draw_sampling_plan
from planner.scenario import Scenario
from planner.stopwatch import Stopwatch
from planner.travel import TravelTimes, township_of
from planner.whatif import apply_staff_scaling
from planner.workdays import WorkCalendar

__all__ = [
    "AT_RISK",
    "BLOCKED",
    "CAPACITY_COLUMNS",
    "COUNTY",
    "DIAGNOSED",
    "Diagnosis",
    "Finding",
    "Shortfall",
    "diagnose",
    "render",
    "to_json",
]

#: the per-task rules, each with its explanation, in the order a task is checked against them;
#: the yearly caps, the stay and the staff's capacity follow (they need the other tasks too)
TASK_RULES = (
    windows.explain_window,
    observation.explain_observation_period,
    windows.explain_working_day,
    quiet_days.explain_quiet_days,
    crews.explain_certified,
    routes.explain_day_length,
    conflicts.explain_conflict,
    staff_days.explain_leave,
    crews.explain_crew_size,
)


#: the stages of a diagnosis, in order (``progress`` hears each one's name when it is done)
STAGES = ("sample", "instance", "merge", "tasks", "caps", "capacity", "capacity_bound")


def diagnose(
    dataset: Dataset,
    scenario: Scenario,
    calendar: WorkCalendar,
    *,
    optional: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Diagnosis:
    """Check every mandatory task (and, with ``optional``, random and campaign tasks) against each
    rule, and each department's time week by week; writes nothing, schedules no crew."""
    watch = Stopwatch()

    def lap(stage: str) -> None:
        watch.lap(stage)
        if progress is not None:
            progress(stage)

    draw = draw_sampling_plan(
        dataset, scenario.seed, scenario.caps.positive_list_per_year, scenario.caps.per_dept_per_year
    )
    lap("sample")
    dataset = apply_staff_scaling(dataset, scenario)  # as make_plan: after the draw
    instance = build_instance(dataset, draw.tasks, scenario, calendar)
    lap("instance")
    stats = MergeStats()
    groups, capped_out = merge_tasks(instance, dataset, scenario, stats)
    lap("merge")
    facts = County(dataset, scenario, instance, groups)
    records = [t for t in instance.tasks.to_dict("records") if optional or t["mandatory"]]
    findings: dict[str, Finding] = {}
    for task in records:
        verdicts = [v for rule in TASK_RULES if (v := rule(task, facts)) is not None]
        if verdicts:
            findings[task["task_id"]] = facts.finding(task, verdicts[0], tuple(v.rule for v in verdicts[1:]))
    lap("tasks")
    blocked_ids = {t for t, f in findings.items() if f.severity == BLOCKED}
    for task in records:
        if task["task_id"] in capped_out and task["task_id"] not in findings:
            verdict = cap_verdict(task, capped_out[task["task_id"]], facts, blocked_ids)
            findings[task["task_id"]] = facts.finding(task, verdict)
    lap("caps")
    # tasks at risk still want their time; tasks left out for a cap do not (the merge's choice)
    needing = [
        t
        for t in records
        if t["mandatory"]
        and t["first_day"] >= 0
        and t["task_id"] not in blocked_ids
        and (t["task_id"] not in findings or findings[t["task_id"]].severity == AT_RISK)
    ]
    capacity, shortfalls, at_risk = capacity_check(needing, facts)
    for task in needing:
        if task["task_id"] in at_risk and task["task_id"] not in findings:
            findings[task["task_id"]] = facts.finding(task, at_risk[task["task_id"]])
    lap("capacity")
    # the whole county's staff at once (the planner's own bound): how many legal duties any plan
    # can place, so an omission for want of staff is proven, not only suspected
    bound = capacity_bound(
        instance,
        Roster.from_dataset(dataset, len(calendar), scenario.planned_share),
        TravelTimes(dataset, scenario),
        township_of(dataset),
        scenario.onsite,
        stats.mandatory_limits,
        0,
    )
    lap("capacity_bound")
    order = {code: n for n, code in enumerate(DIAGNOSED)}
    ranked = sorted(findings.values(), key=lambda f: (not f.mandatory, f.severity != BLOCKED, order[f.rule], f.task_id))
    return Diagnosis(
        scenario.name,
        len(records),
        sum(t["mandatory"] for t in records),
        tuple(ranked),
        tuple(shortfalls),
        capacity,
        watch.timings,
        bound.mandatory,
    )
