"""Official working days: public holidays and make-up working days (调休).

The State Council publishes each year's holidays late in the year before; the
``chinesecalendar`` package carries those notices. For a year it does not know yet, the
dataset's optional ``calendar`` table must say which days are worked. A day that neither
knows is an error, never silently a working day: a plan on a holiday is a plan nobody keeps.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import version

import chinese_calendar

from planner.messages import listing, msg
from planner.problems import InputError, Problem


@dataclass(frozen=True)
class WorkCalendar:
    """The working days of a horizon, in order, and where the facts came from."""

    start: dt.date
    end: dt.date
    workdays: tuple[dt.date, ...]
    source: str

    def __len__(self) -> int:
        return len(self.workdays)


def official_workday(day: dt.date) -> bool | None:
    """True/False per the official calendar, None when the library has no data for its year."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        return None


def work_calendar(
    start: dt.date, end: dt.date, overrides: Mapping[dt.date, bool], where: str = "horizon"
) -> WorkCalendar:
    """Working days from ``start`` to ``end`` inclusive; ``overrides`` (the calendar table) win.

    Raises ``InputError`` naming the uncovered dates, with ``where`` as the place to report.
    """
    days = [start + dt.timedelta(n) for n in range((end - start).days + 1)]
    workdays, unknown = [], []
    for day in days:
        is_workday = overrides[day] if day in overrides else official_workday(day)
        if is_workday is None:
            unknown.append(day)
        elif is_workday:
            workdays.append(day)
    if unknown:
        raise InputError([_uncovered(unknown, where)])
    library = f"chinesecalendar {version('chinesecalendar')}"
    used = sum(day in overrides for day in days)
    source = library + (f" + calendar table ({used} days)" if used else "")
    return WorkCalendar(start, end, tuple(workdays), source)


def _uncovered(days: list[dt.date], where: str) -> Problem:
    spans = ", ".join(f"{a.isoformat()}…{b.isoformat()}" if a != b else a.isoformat() for a, b in _runs(days))
    years = sorted({d.year for d in days})
    return Problem(
        where,
        None,
        None,
        spans,
        msg(
            "input.calendar.no_holidays",
            library=f"chinesecalendar {version('chinesecalendar')}",
            years=listing(years),
            table="calendar",
            columns=listing(["date", "workday"]),
            doc="docs/data-contract.md",
        ),
    )


def _runs(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days folded into (first, last) spans."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if runs and (day - runs[-1][1]).days == 1:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
