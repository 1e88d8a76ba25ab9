"""无事不扰 — quiet days: days of the month on which no capped visit is made.

``quiet_days = [a, b]`` in a scenario bars capped visits (see ``caps``) on days a…b of every
month, inclusive; ``[26, 5]`` wraps the month's end. Complaint checks and re-inspections are
not routine and still go.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from planner.messages import msg, reason
from planner.rules.caps import capped_visit_ids
from planner.rules.explain import BLOCKED, Verdict, nearest, window_text
from planner.rules.windows import working_day_range


def is_quiet(day: dt.date, quiet_days: tuple[int, int] | None) -> bool:
    """Whether capped visits are barred on ``day`` by ``quiet_days`` (None: no quiet days)."""
    if quiet_days is None:
        return False
    first, last = quiet_days
    if first <= last:
        return first <= day.day <= last
    return day.day >= first or day.day <= last


def quiet_mask(quiet_days: tuple[int, int] | None, workdays: Sequence[dt.date]) -> np.ndarray:
    """Per working day, whether it is quiet (bool array)."""
    return np.array([is_quiet(d, quiet_days) for d in workdays], dtype=bool)


#: why a capped task whose window holds only quiet days cannot be placed
ALL_QUIET_REASON = reason("quiet_days", "reason.quiet_days")


def check_quiet_days(plan, inputs) -> list[str]:
    """Hard rule: no capped visit on a quiet day."""
    quiet_days = inputs.scenario.quiet_days
    if quiet_days is None:
        return []
    visits = plan.visits[plan.visits["visit_id"].isin(capped_visit_ids(plan.visit_tasks))]
    dates = pd.to_datetime(visits["date"]).dt.date
    broken = visits[[is_quiet(d, quiet_days) for d in dates]]
    return [
        msg("check.quiet_days", visit=v, date=pd.Timestamp(d).date())
        for v, d in zip(broken["visit_id"], broken["date"])
    ]


# --- explain: why a task cannot keep the rule (planner diagnose) -----------------------------


def explain_quiet_days(task: dict, county) -> Verdict | None:
    """Hard rule: no capped visit on a quiet day (无事不扰: quiet_days of the month)."""
    if not task["capped"] or county.scenario.quiet_days is None:
        return None
    first, last = working_day_range(task, county)
    if first > last or not county.instance.quiet[first : last + 1].all():
        return None
    a, b = county.scenario.quiet_days
    open_days = np.flatnonzero(~county.instance.quiet)
    before, after = open_days[open_days < first], open_days[open_days > last]
    days = [county.date(d) for d in (before[-1:].tolist() + after[:1].tolist())]
    return Verdict(
        "quiet_days",
        BLOCKED,
        ALL_QUIET_REASON.noted(msg("diagnose.quiet_days.window", window=window_text(task), first=a, last=b)),
        msg("fix.quiet_days", nearest=nearest(days), key="quiet_days", kind="triggered"),
    )
