"""预约式指导服务 in the merge: one visit group per appointment, and the due checks it takes in.

Each appointment's tasks (one per department, ``rules.appointments``) form one group of their
own, on the working days of its window; the merge of the enterprise's other tasks
(``merge.merge_tasks``) never mixes them in. When the enterprise agreed (``fold_due``), a visit
group of its due checks joins the appointment's when the two share a working day, the stay stays
within MAX_VISIT_ONSITE_MIN, and the caps allow it: a group holding a capped check makes the
appointment's visit a capped one, so every department of the appointment that does not already
check in that group must have a capped visit left in the year (``rules.caps``); the positive
list's count does not change (the group was one capped visit, and still is). A group joins whole,
so every fold saves the enterprise one visit (a disturbance) and loses no task; an appointment
of a department without a certified inspector takes in nothing (it cannot be kept, and the due
checks must not fall with it).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from planner.model.groups import VisitGroup
from planner.rules.appointments import APPOINTMENT
from planner.rules.caps import YearlyCaps
from planner.rules.stays import MAX_VISIT_ONSITE_MIN

if TYPE_CHECKING:
    from planner.dataset import Dataset
    from planner.model.instance import Instance
    from planner.scenario import Scenario


def appointment_rows(instance: Instance) -> np.ndarray:
    """Whether each row of the instance's task table is an appointment's task."""
    return instance.table.kind == APPOINTMENT


def appointment_groups(instance: Instance) -> list[VisitGroup]:
    """One group per appointment with a feasible day, its tasks in task_id order, on the days
    its window offers (every task of an appointment has the same window)."""
    table = instance.table
    ids = instance.tasks["appointment_id"].to_numpy() if "appointment_id" in instance.tasks else None
    rows = np.flatnonzero(appointment_rows(instance) & (table.first_day >= 0))
    if ids is None or not len(rows):
        return []
    by_appointment: dict[str, list[int]] = defaultdict(list)
    for r in rows.tolist():
        by_appointment[ids[r]].append(r)
    groups = []
    for appointment_id in sorted(by_appointment):
        members = by_appointment[appointment_id]
        days = instance.feasible_days(members[0])
        for r in members[1:]:
            days = np.intersect1d(days, instance.feasible_days(r), assume_unique=True)
        if len(days):
            groups.append(VisitGroup(table, table.uscc[members[0]], np.array(members, dtype=np.int64), days))
    return groups


def fold_due_checks(
    appointments: list[VisitGroup], groups: list[VisitGroup], instance: Instance, dataset: Dataset, scenario: Scenario
) -> list[VisitGroup]:
    """``groups`` (the merge's visit groups) and ``appointments``, with each group of due checks
    that may join an appointment of its enterprise agreeing to it (``fold_due``) folded into it."""
    folding = set(dataset.appointments.loc[dataset.appointments["fold_due"].astype(bool), "appointment_id"])
    inspectors = dataset.inspectors
    staffed = set(inspectors.loc[inspectors["cert_no"].notna(), "dept_id"])
    ids = instance.tasks["appointment_id"].to_numpy()
    caps = YearlyCaps.of_scenario(dataset, scenario)
    years = instance.years
    used: dict[tuple[str, str, int], int] = defaultdict(int)  # capped visits the merge planned
    for group in groups:
        if group.capped:
            for dept in group.depts:
                used[(group.uscc, dept, int(years[group.days[0]]))] += 1
    by_enterprise: dict[str, list[VisitGroup]] = defaultdict(list)
    for group in groups:
        by_enterprise[group.uscc].append(group)
    out: list[VisitGroup] = []
    for visit in appointments:
        # due checks never wait on a department that has nobody to send: the appointment may fail alone
        if ids[visit.rows[0]] in folding and set(visit.depts) <= staffed:
            for group in list(by_enterprise[visit.uscc]):
                made = _joined(visit, group, instance, scenario, caps, used)
                if made is not None:
                    by_enterprise[visit.uscc].remove(group)
                    visit, newly_capped = made
                    for dept in newly_capped:
                        used[(visit.uscc, dept, int(years[visit.days[0]]))] += 1
        out.append(visit)
    kept = {id(g) for gs in by_enterprise.values() for g in gs}
    return [g for g in groups if id(g) in kept] + out


def _joined(
    visit: VisitGroup,
    group: VisitGroup,
    instance: Instance,
    scenario: Scenario,
    caps: YearlyCaps,
    used: dict[tuple[str, str, int], int],
) -> tuple[VisitGroup, set[str]] | None:
    """The appointment's group with ``group`` in it, and the departments that now use a capped
    visit they did not use before; None where the two share no day, the stay would be too long,
    or such a department has no capped visit left that year."""
    days = np.intersect1d(visit.days, group.days, assume_unique=True)
    newly_capped: set[str] = set()
    if visit.capped or group.capped:
        year = int(instance.years[(group if group.capped else visit).days[0]])
        days = days[instance.years[days] == year]
        counted = set(visit.depts if visit.capped else ()) | set(group.depts if group.capped else ())
        newly_capped = (set(visit.depts) | set(group.depts)) - counted
        if any(caps.dept_full(visit.uscc, dept, year, used[(visit.uscc, dept, year)]) for dept in newly_capped):
            return None
    if not len(days):
        return None
    joined = VisitGroup(visit.table, visit.uscc, np.concatenate([visit.rows, group.rows]), days)
    if joined.onsite_min(scenario.onsite) > MAX_VISIT_ONSITE_MIN:
        return None
    return joined, newly_capped
