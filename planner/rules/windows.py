"""Windows and working days: a task is done on an official working day inside its window ∩ the
planning horizon (计划期).

- ``window``: each department states when its check is due (``window_start`` … ``window_end``);
  a plan covers its horizon only;
- ``working_day``: visits only on official working days (法定工作日: weekends and public holidays
  off, 调休 working weekends on, as the State Council's holiday notice and the calendar table say).

Days are indices into the horizon's working days, so a task's feasible days are a contiguous
range ``[first_day, last_day]`` with the quiet days (``quiet_days``) as holes for capped tasks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.messages import Reason, msg, reason
from planner.rules.explain import BLOCKED, Verdict, nearest, window_text
from planner.rules.observation import OBSERVED_KINDS


def feasible_days(first: int, last: int, capped: bool, quiet: np.ndarray) -> np.ndarray:
    """Working-day indices in [first, last], without quiet days for a capped task."""
    if first < 0 or first > last:
        return np.zeros(0, dtype=np.int64)
    days = np.arange(first, last + 1)
    return days[~quiet[days]] if capped else days


def day_ranges(
    start: pd.Series, end: pd.Series, horizon_start: pd.Timestamp, horizon_end: pd.Timestamp, workdays: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray]:
    """First and last working-day index of each [start, end] ∩ the horizon (first > last: none).
    ``start`` may already be later than the window's (the observation period)."""
    start = start.where(start > horizon_start, horizon_start)
    end = end.where(end < horizon_end, horizon_end)
    first = workdays.searchsorted(start.to_numpy(), side="left")
    last = workdays.searchsorted(end.to_numpy(), side="right") - 1
    return first, last


def no_day_reason(
    window_start: pd.Timestamp,
    window_end: pd.Timestamp,
    horizon_start: pd.Timestamp,
    horizon_end: pd.Timestamp,
    observation_until: pd.Timestamp,
) -> Reason:
    """Why a task's window holds no working day (``observation_until``: NaT unless the task
    waits for its enterprise's observation period)."""
    window = f"{window_start.date().isoformat()}…{window_end.date().isoformat()}"
    if window_end < horizon_start or window_start > horizon_end:
        return reason("window", "reason.window.outside_horizon", window=window)
    if pd.notna(observation_until) and observation_until >= min(window_end, horizon_end):
        return reason("observation_period", "reason.observation_period", until=observation_until.date(), window=window)
    return reason("working_day", "reason.working_day", window=window)


def check_working_day(plan, inputs) -> list[str]:
    """Hard rule: visits only on official working days."""
    dates = pd.to_datetime(plan.visits["date"]).dt.normalize()
    broken = plan.visits[~dates.dt.date.isin(inputs.workdays)]
    return [
        msg("check.working_day", visit=v, date=pd.Timestamp(d).date())
        for v, d in zip(broken["visit_id"], broken["date"])
    ]


def check_window(plan, inputs) -> list[str]:
    """Hard rule: each task is done inside its window ∩ the planning horizon."""
    joined = inputs.joined
    horizon = inputs.scenario.horizon
    start, end = pd.Timestamp(horizon.start), pd.Timestamp(horizon.end)
    day = pd.to_datetime(joined["date"]).dt.normalize()
    first = pd.to_datetime(joined["window_start"]).dt.normalize()
    last = pd.to_datetime(joined["window_end"]).dt.normalize()
    first, last = first.where(~(start > first), start), last.where(~(end < last), end)  # NaT stays, as max/min
    broken = joined[~((first <= day) & (day <= last))]
    return [msg("check.window", task=t, date=pd.Timestamp(d).date()) for t, d in zip(broken["task_id"], broken["date"])]


# --- explain: why a task cannot keep the rule (planner diagnose) -----------------------------


def explain_window(task: dict, county) -> Verdict | None:
    """Hard rule: a task is planned inside its window ∩ the horizon (计划期)."""
    horizon = county.scenario.horizon
    if task["window_end"].date() >= horizon.start and task["window_start"].date() <= horizon.end:
        return None
    return Verdict(
        "window",
        BLOCKED,
        reason("window", "reason.window.outside_horizon", window=window_text(task)),
        msg("fix.window", key="[horizon]", horizon=f"{horizon.start}…{horizon.end}"),
    )


def explain_working_day(task: dict, county) -> Verdict | None:
    """Hard rule: visits only on official working days (法定节假日不安排)."""
    first, last = working_day_range(task, county)
    if first <= last:
        return None
    before = county.date(first - 1) if first > 0 else None
    after = county.date(last + 1) if last + 1 < len(county.workdays) else None
    return Verdict(
        "working_day",
        BLOCKED,
        reason("working_day", "reason.working_day", window=window_text(task)),
        msg("fix.working_day", nearest=nearest((d for d in (before, after) if d), "fix.none_in_horizon")),
    )


def working_day_range(task: dict, county) -> tuple[int, int]:
    """Indices of the first and last working day of the clipped window (first > last: none)."""
    start, end = clipped(task, county)
    return county.dates.searchsorted(start, side="left"), county.dates.searchsorted(end, side="right") - 1


def clipped(task: dict, county) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ∩ the horizon, after the observation period for random and campaign tasks."""
    horizon = county.scenario.horizon
    start = max(task["window_start"], pd.Timestamp(horizon.start))
    until = county.observation.get(task["uscc"])
    if task["kind"] in OBSERVED_KINDS and until is not None and not pd.isna(until):
        start = max(start, until + pd.Timedelta(days=1))
    return start, min(task["window_end"], pd.Timestamp(horizon.end))
