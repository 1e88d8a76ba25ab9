"""Crews: 执法人员不得少于两人, 持证执法 and 委托查.

- ``certified``: only inspectors holding an enforcement certificate (执法证, ``cert_no``) are
  sent (《行政处罚法》第四十二条: 由具有行政执法资格的执法人员实施);
- ``crew_size``: a crew has at least two inspectors (同条: 执法人员不得少于两人), and at least
  the ``min_inspectors`` a task asks for;
- ``department_cover``: each task is checked by an inspector of its own department, or — for a
  task marked ``delegable`` (简单事项委托查) — by another department's inspector holding that
  department's delegation (``delegated_depts``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Container, Iterable

import numpy as np
import pandas as pd

from planner.messages import Dept, Person, listing, msg, reason
from planner.rules.explain import BLOCKED, Verdict

#: 执法人员不得少于两人
MIN_CREW = 2


def min_crew(min_inspectors: int) -> int:
    """Inspectors a crew needs for a task asking ``min_inspectors``: never fewer than two."""
    return max(MIN_CREW, int(min_inspectors))


def certified(inspectors: pd.DataFrame) -> pd.DataFrame:
    """The inspectors who may be sent: those with a 执法证."""
    return inspectors[inspectors["cert_no"].notna()]


def covers(
    own: Container[str], delegated: Container[str], depts: Iterable[str], delegable: Callable[[str], bool]
) -> bool:
    """Inspectors of departments ``own`` holding delegations ``delegated`` may check tasks of
    ``depts``: an own inspector per department, or a delegation where ``delegable(dept)``."""
    return all(d in own or (d in delegated and delegable(d)) for d in depts)


def check_certified(plan, inputs) -> list[str]:
    """Hard rule: every member of a crew holds a 执法证."""
    staff = inputs.dataset.inspectors
    holders = set(certified(staff)["inspector_id"])
    members = inputs.current(plan.crews).drop_duplicates(["crew_id", "date", "inspector_id"])
    broken = members[~members["inspector_id"].isin(holders)]
    return [
        msg("check.certified", crew=c, date=pd.Timestamp(d).date(), person=Person(who))
        for c, d, who in broken[["crew_id", "date", "inspector_id"]].itertuples(index=False)
    ]


def check_crew_size(plan, inputs) -> list[str]:
    """Hard rule: 执法人员不得少于两人 — and no fewer than a task's min_inspectors."""
    out = []
    size = plan.crews.groupby(["crew_id", "date"])["inspector_id"].nunique().to_dict()
    need = plan.visit_tasks[["visit_id", "task_id"]].join(
        plan.tasks.set_index("task_id")["min_inspectors"], on="task_id"
    )
    need = need.groupby("visit_id")["min_inspectors"].max().to_dict()
    for visit_id, crew_id, date in plan.visits[["visit_id", "crew_id", "date"]].itertuples(index=False):
        people = size.get((crew_id, date))
        if people is None or visit_id not in need:
            continue  # a visit without crew or tasks: the plan's integrity says so
        wanted = min_crew(need[visit_id])
        if people < wanted:
            out.append(msg("check.crew_size", visit=visit_id, people=people, wanted=wanted))
    return out


def check_department_cover(plan, inputs) -> list[str]:
    """Hard rule: each task has an inspector of its department on the crew, or (委托查, a delegable
    task) one of another department holding its delegation."""
    staff = inputs.dataset.inspectors.set_index("inspector_id")
    dept_of, delegations = staff["dept_id"].to_dict(), staff["delegated_depts"].to_dict()
    members = plan.crews.groupby(["crew_id", "date"])["inspector_id"].agg(set).to_dict()
    tasks = plan.visit_tasks[["visit_id", "task_id", "dept_id"]].join(
        plan.tasks.set_index("task_id")["delegable"], on="task_id"
    )
    tasks_of: dict[str, list] = defaultdict(list)
    for record in tasks.itertuples(index=False):
        tasks_of[record.visit_id].append(record)
    out = []
    for visit_id, crew_id, date in inputs.current(plan.visits)[["visit_id", "crew_id", "date"]].itertuples(index=False):
        people = members.get((crew_id, date))
        if people is None:
            continue
        own = {dept_of.get(p) for p in people}
        delegated = set().union(*(set(delegations.get(p, ())) for p in people))
        for t in tasks_of.get(visit_id, ()):
            if not covers(own, delegated, [t.dept_id], lambda _, t=t: bool(t.delegable)):
                out.append(msg("check.department_cover", visit=visit_id, dept=Dept(t.dept_id), task=t.task_id))
    return out


# --- explain: why a task cannot keep the rule (planner diagnose) -----------------------------


def explain_certified(task: dict, county) -> Verdict | None:
    """Hard rule: every inspector holds a 执法证; a department's item needs one of its own, or a
    delegated inspector of another department for a delegable item (委托查)."""
    facts = county.facts(task)
    if len(facts.own) or len(facts.delegates):
        return None  # its own inspectors, or a delegate of another department (the scheduler sends one)
    dept = Dept(task["dept_id"])
    delegation = msg("reason.certified.delegation", depts=listing([dept])) if task["delegable"] else ""
    if task["delegable"]:
        fix = msg("fix.certified.delegable", dept=dept, column="delegated_depts")
    else:
        fix = msg("fix.certified", dept=dept, column="delegable")
    return Verdict(
        "certified",
        BLOCKED,
        reason("certified", "reason.certified", depts=listing([dept]), delegation=delegation),
        fix,
    )


def explain_crew_size(task: dict, county) -> Verdict | None:
    """Hard rule: 执法人员不得少于两人 — min_inspectors certified inspectors on the crew, one able to
    check the task, all free that day, with a long enough day and no conflict."""
    facts = county.facts(task)
    able = facts.able
    if not len(able) or not len(facts.days):
        return None
    own_free = county.avail[np.ix_(able, facts.days)].any(axis=0)
    crew_pool = np.flatnonzero(facts.long_enough & facts.clear)
    free = county.avail[np.ix_(crew_pool, facts.days)].sum(axis=0)
    if not own_free.any() or (own_free & (free >= facts.min_crew)).any():
        return None
    best = int(free[own_free].max())
    return Verdict(
        "crew_size",
        BLOCKED,
        msg("diagnose.crew_size", min_crew=facts.min_crew, best=best),
        msg("fix.crew_size", column="min_inspectors"),
    )
