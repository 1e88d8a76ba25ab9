"""Tasks: the plan does what the departments asked, each task once, and loses none.

- ``plan_integrity``: the plan's task list says what the demands say; keys are unique and every
  reference resolves;
- ``visit_integrity``: a task is checked at its own enterprise; every visit has a crew and tasks;
- ``every_task_accounted`` (无计划不检查, and never dropped silently): each task is in at most
  one visit or done once off site (``offsite``), or listed as unscheduled with its reason — never both, never neither;
- ``random_draw`` (双随机): every enterprise the draw selected has its random task in the plan.

Mandatory tasks (必查: ``key`` 重点监管, ``triggered`` 投诉举报, ``followup`` 整改复查) are legal
duties; the rest (``campaign`` 专项, ``random`` 双随机) are planned as capacity allows.
"""

from __future__ import annotations

import pandas as pd

from planner.messages import msg

#: a task's columns as tasks.parquet holds them: a demand's, a drawn random task's or an
#: appointment's; ``mode`` (onsite / offsite, ``rules.offsite``) is decided last, by the scenario
TASK_COLUMNS = [
    "task_id",
    "dept_id",
    "uscc",
    "item",
    "kind",
    "window_start",
    "window_end",
    "duration_min",
    "min_inspectors",
    "delegable",
    "priority",
    "plan_id",
    "mode",
]
#: the columns of a task as the draw and the appointments make it, before its mode is decided
SOURCE_COLUMNS = TASK_COLUMNS[:-1]

#: kinds that are legal duties: never traded for optional work
MANDATORY_KINDS = frozenset({"key", "triggered", "followup"})


def is_mandatory(kind: pd.Series) -> pd.Series:
    """Whether each task of ``kind`` is a legal duty."""
    return kind.isin(MANDATORY_KINDS)


def check_plan_integrity(plan, inputs) -> list[str]:
    """The plan's tables are consistent with the demands and with each other (checked first:
    the other rules trust their keys)."""
    out = []
    for name, key in (("tasks", "task_id"), ("visits", "visit_id")):
        table = getattr(plan, name)
        twice = sorted(set(table[key][table[key].duplicated()]))
        out += [msg("check.integrity.twice", file=f"{name}.parquet", key=key, value=k) for k in twice]
    seqs = plan.routes[["crew_id", "date", "seq"]]
    out += [
        msg("check.integrity.stop_twice", crew=c, date=pd.Timestamp(d).date(), seq=q)
        for c, d, q in seqs[seqs.duplicated()].itertuples(index=False)
    ]
    out += [
        msg("check.integrity.unknown_visit", file="routes.parquet", visit=v)
        for v in sorted(set(plan.routes["visit_id"]) - set(plan.visits["visit_id"]))
    ]
    out += [
        msg("check.integrity.unknown_visit", file="visit_tasks.parquet", visit=v)
        for v in sorted(set(plan.visit_tasks["visit_id"]) - set(plan.visits["visit_id"]))
    ]
    columns = ["dept_id", "uscc", "kind", "window_start", "window_end", "duration_min", "min_inspectors", "delegable"]
    demands = inputs.dataset.demands.set_index("task_id")[columns]
    tasks = plan.tasks.drop_duplicates("task_id").set_index("task_id")
    both = demands.index.intersection(tasks.index)
    for column in columns:
        want, got = demands.loc[both, column], tasks.loc[both, column]
        if column.startswith("window"):
            want, got = pd.to_datetime(want).dt.normalize(), pd.to_datetime(got).dt.normalize()
        for task_id, w, g in zip(both, want.tolist(), got.tolist()):
            if w != g:
                out.append(msg("check.integrity.task_differs", task=task_id, column=column, got=repr(g), want=repr(w)))
    kinds = plan.visit_tasks.join(tasks["kind"].rename("task_kind"), on="task_id")
    out += [
        msg("check.integrity.kind_differs", task=t, kind=k, task_kind=tk)
        for t, k, tk in zip(kinds["task_id"], kinds["kind"], kinds["task_kind"])
        if k != tk
    ]
    return out


def check_visit_integrity(plan, inputs) -> list[str]:
    """Every visit is at its tasks' enterprise and has a crew and tasks; no crew lists a person twice."""
    out = []
    joined = inputs.joined
    mismatch = joined[joined["uscc"] != joined["task_uscc"]]
    out += [msg("check.visit.other_enterprise", task=r.task_id, visit=r.visit_id) for r in mismatch.itertuples()]
    listed = plan.crews.groupby(["crew_id", "date"])["inspector_id"].agg(list).to_dict()
    for (crew_id, date), people in listed.items():
        if len(set(people)) < len(people):
            out.append(msg("check.visit.person_twice", crew=crew_id, date=pd.Timestamp(date).date()))
    has_tasks = set(plan.visit_tasks["visit_id"])
    for visit_id, crew_id, date in plan.visits[["visit_id", "crew_id", "date"]].itertuples(index=False):
        people = listed.get((crew_id, date))
        if people is None or visit_id not in has_tasks:
            what = "check.visit.no_crew" if people is None else "check.visit.no_tasks"
            out.append(msg(what, visit=visit_id, crew=crew_id, date=pd.Timestamp(date).date()))
    return out


def check_every_task_accounted(plan, inputs) -> list[str]:
    """Hard rule: each task is done at most once, or listed as unscheduled with a reason — never
    both, never lost; every demand is in the task list."""
    out = []
    placed = plan.visit_tasks["task_id"]
    desk = getattr(plan, "offsite", None)
    if desk is not None and len(desk):  # an off-site check (rules.offsite) is done once too: at a desk
        placed = pd.concat([placed, desk["task_id"]], ignore_index=True)
    unscheduled = plan.unscheduled["task_id"]
    for task_id in placed[placed.duplicated()].unique():
        out.append(msg("check.task.in_two_visits", task=task_id))
    for task_id in sorted(set(placed) & set(unscheduled)):
        out.append(msg("check.task.placed_and_unscheduled", task=task_id))
    missing = set(plan.tasks["task_id"]) - set(placed) - set(unscheduled)
    out += [msg("check.task.dropped", task=t) for t in sorted(missing)]
    unknown = (set(placed) | set(unscheduled)) - set(plan.tasks["task_id"])
    out += [msg("check.task.unknown", task=t) for t in sorted(unknown)]
    out += [
        msg("check.task.no_reason", task=t)
        for t, reason in zip(plan.unscheduled["task_id"], plan.unscheduled["reason"])
        if not isinstance(reason, str) or not reason.strip()
    ]
    demands = set(inputs.dataset.demands["task_id"])
    out += [msg("check.task.demand_missing", task=t) for t in sorted(demands - set(plan.tasks["task_id"]))]
    return out


def check_random_draw(plan, inputs) -> list[str]:
    """Hard rule: every enterprise the 双随机 draw selected has its random task in the plan."""
    draws = inputs.draws
    if draws is None or not len(draws):
        return []
    chosen = draws[draws["selected"].astype(bool)]
    expected = set(chosen["plan_id"] + ":" + chosen["uscc"])
    return [msg("check.draw.missing", task=t) for t in sorted(expected - set(plan.tasks["task_id"]))]
