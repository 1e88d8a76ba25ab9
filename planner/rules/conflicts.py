"""回避: an inspector never inspects an enterprise they have a conflict of interest with.

《行政处罚法》第四十三条: 执法人员与案件有直接利害关系或者有其他关系可能影响公正执法的, 应当回避.
The ``conflicts`` table lists (inspector, enterprise) pairs; a crew-day whose route visits an
enterprise has no member in conflict with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.messages import Dept, Message, Person, listing, msg
from planner.rules.explain import BLOCKED, Verdict


def by_inspector(conflicts: pd.DataFrame) -> dict[str, frozenset[str]]:
    """inspector → the enterprises they must not inspect."""
    return conflicts.groupby("inspector_id")["uscc"].agg(frozenset).to_dict()


def by_enterprise(conflicts: pd.DataFrame) -> dict[str, frozenset[str]]:
    """enterprise → the inspectors who must not inspect it."""
    return conflicts.groupby("uscc")["inspector_id"].agg(frozenset).to_dict()


def all_conflicted_reason(dept: str) -> Message:
    """A drawn enterprise every inspector of the department must stay away from (the draw takes
    a substitute)."""
    return msg("sampling.all_conflicted", dept=Dept(dept))


def check_conflict(plan, inputs) -> list[str]:
    """Hard rule: no member of a crew-day has a conflict (回避) with an enterprise of its route."""
    conflicts = set(zip(inputs.dataset.conflicts["inspector_id"], inputs.dataset.conflicts["uscc"]))
    if not conflicts:
        return []
    members = plan.crews.groupby(["crew_id", "date"])["inspector_id"].agg(lambda s: sorted(set(s))).to_dict()
    route_of = plan.visits.groupby(["crew_id", "date"])["uscc"].agg(set).to_dict()
    out = set()
    for (crew_id, date), people in members.items():
        for p in people:
            for u in route_of.get((crew_id, date), ()):
                if (p, u) in conflicts:
                    out.add((crew_id, pd.Timestamp(date).date(), p, u))
    return [msg("check.conflict", crew=c, date=d, person=Person(p), uscc=u) for c, d, p, u in sorted(out)]


# --- explain: why a task cannot keep the rule (planner diagnose) -----------------------------


def explain_conflict(task: dict, county) -> Verdict | None:
    """Hard rule: an inspector never inspects an enterprise they have a conflict with (回避)."""
    facts = county.facts(task)
    candidates = facts.candidates
    fit = candidates[facts.long_enough[candidates]]
    if not len(fit):
        return None
    dept = Dept(task["dept_id"])
    if not facts.clear[fit].any():
        others = sorted({county.dept[i] for i in np.flatnonzero(facts.clear) if county.dept[i] != task["dept_id"]})
        delegation = (
            msg("fix.conflict.delegation", depts=listing(Dept(d) for d in others[:4]))
            if task["delegable"] and others
            else ""
        )
        return Verdict(
            "conflict",
            BLOCKED,
            msg("diagnose.conflict.all", dept=dept, n=len(fit)),
            msg("fix.conflict", dept=dept, delegation=delegation),
        )
    county_clear = int((facts.long_enough & facts.clear).sum())
    if county_clear < facts.min_crew:
        return Verdict(
            "conflict",
            BLOCKED,
            msg("diagnose.conflict.crew", n=county_clear, min_crew=facts.min_crew),
            msg("fix.conflict.crew"),
        )
    return None
