"""Staff days: who can go on which day, and for how long.

- ``leave``: nobody is planned on a day of leave (the ``leave`` table);
- ``one_crew_a_day``: an inspector is on one crew a day;
- ``max_days``: an inspector is planned on at most ``max_days`` working days of the horizon —
  their own figure in the roster, else ``planned_share`` of the horizon's working days (the
  county's rule for how much of an inspector's time the joint plan may take; the rest is
  casework, complaints and their department's own duties);
- ``day_length``: a crew-day, from the township station and back, fits every member's
  ``hours_per_day``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
import pandas as pd

from planner.messages import Dept, Person, msg
from planner.rules.explain import BLOCKED, Verdict, nearest


def default_max_days(planned_share: float, working_days: int) -> int:
    """Planned days of an inspector without a ``max_days`` of their own."""
    return int(planned_share * working_days)


def max_days(inspectors: pd.DataFrame, planned_share: float, working_days: int) -> dict[str, int]:
    """inspector → the working days they may be planned on in the horizon."""
    default = default_max_days(planned_share, working_days)
    return {i: default if pd.isna(m) else int(m) for i, m in zip(inspectors["inspector_id"], inspectors["max_days"])}


def leave_days(leave: pd.DataFrame) -> dict[str, set[dt.date]]:
    """inspector → the calendar days they are on leave."""
    days: dict[str, set[dt.date]] = defaultdict(set)
    for who, start, end in leave[["inspector_id", "start", "end"]].itertuples(index=False):
        days[who].update(d.date() for d in pd.date_range(start, end))
    return days


def day_minutes(hours_per_day: float) -> int:
    """The longest crew-day an inspector may work, in minutes."""
    return int(hours_per_day * 60)


def check_leave(plan, inputs) -> list[str]:
    """Hard rule: nobody is on a crew on a day of leave."""
    leave = leave_days(inputs.dataset.leave)
    members = plan.crews.drop_duplicates(["crew_id", "date", "inspector_id"])
    return [
        msg("check.leave", crew=c, date=pd.Timestamp(d).date(), person=Person(who))
        for c, d, who in members[["crew_id", "date", "inspector_id"]].itertuples(index=False)
        if pd.Timestamp(d).date() in leave.get(who, ())
    ]


def check_one_crew_a_day(plan, inputs) -> list[str]:
    """Hard rule: an inspector is on one crew a day."""
    twice = plan.crews.groupby(["inspector_id", "date"])["crew_id"].nunique()
    return [
        msg("check.one_crew_a_day", person=Person(who), n=n, date=pd.Timestamp(d).date())
        for (who, d), n in twice[twice > 1].items()
    ]


def check_max_days(plan, inputs) -> list[str]:
    """Hard rule: nobody works more planned days than ``max_days`` (or ``planned_share`` of the
    horizon), crew days and days of off-site checks (desk time) together. In a re-optimised plan the days before ``as_of`` are worked: a ``max_days`` lowered
    below them forbids any day more, and does not undo the past."""
    limits = max_days(inputs.dataset.inspectors, inputs.scenario.planned_share, len(inputs.workdays))
    # a day of off-site checks (desk time, rules.offsite) is a planned day like a crew day
    desk = getattr(plan, "offsite", None)
    days_worked = plan.crews[["inspector_id", "date"]]
    if desk is not None and len(desk):
        days_worked = pd.concat([days_worked, desk[["inspector_id", "date"]]], ignore_index=True)
    worked = days_worked.assign(date=pd.to_datetime(days_worked["date"])).drop_duplicates(["inspector_id", "date"])
    days = worked.groupby("inspector_id").size()
    past = days.sub(inputs.current(worked).groupby("inspector_id").size(), fill_value=0).astype(int)
    default = default_max_days(inputs.scenario.planned_share, len(inputs.workdays))
    return [
        msg("check.max_days", person=Person(who), n=n, limit=limits.get(who, default))
        for who, n in days.items()
        if n > max(limits.get(who, default), past.get(who, 0))
    ]


# --- explain: why a task cannot keep the rule (planner diagnose) -----------------------------


def explain_leave(task: dict, county) -> Verdict | None:
    """Hard rule: nobody inspects on a day of leave (or with no planned days, max_days 0)."""
    facts = county.facts(task)
    able = facts.able
    if not len(able) or not len(facts.days) or county.avail[np.ix_(able, facts.days)].any():
        return None
    on_leave = int(county.on_leave[np.ix_(able, facts.days)].all(axis=1).sum())
    no_days = int((county.max_days[able] <= 0).sum())
    around = np.flatnonzero(county.avail[able].any(axis=0))
    before, after = around[around < facts.days[0]], around[around > facts.days[-1]]
    days = [county.date(d) for d in (before[-1:].tolist() + after[:1].tolist())]
    return Verdict(
        "leave",
        BLOCKED,
        msg(
            "diagnose.leave",
            dept=Dept(task["dept_id"]),
            n=len(able),
            days=len(facts.days),
            on_leave=on_leave,
            no_days=msg("diagnose.leave.no_days", n=no_days) if no_days else "",
        ),
        msg("fix.leave", nearest=nearest(days), delegation=msg("fix.leave.delegation") if task["delegable"] else ""),
    )
