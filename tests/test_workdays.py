"""Official working days: holidays, make-up days, and years the calendar library does not know."""

from __future__ import annotations

import datetime as dt

import pytest

from planner.problems import InputError
from planner.workdays import work_calendar

D = dt.date


def test_national_day_is_not_a_working_day():
    """2026-10-01 … 10-07 is the National Day holiday; 2026-09-30 is worked."""
    calendar = work_calendar(D(2026, 9, 28), D(2026, 10, 9), {})
    assert D(2026, 9, 30) in calendar.workdays
    assert not any(D(2026, 10, d) in calendar.workdays for d in range(1, 8))


def test_make_up_saturday_is_a_working_day():
    """调休: Saturday 2026-02-14 is worked before the Spring Festival; an ordinary Saturday is not."""
    calendar = work_calendar(D(2026, 2, 7), D(2026, 2, 14), {})
    assert D(2026, 2, 14) in calendar.workdays
    assert D(2026, 2, 7) not in calendar.workdays


def test_year_2026_has_a_plausible_number_of_working_days():
    """A Chinese working year has about 250 working days."""
    assert 245 <= len(work_calendar(D(2026, 1, 1), D(2026, 12, 31), {})) <= 252


def test_unknown_year_is_an_error_pointing_to_the_calendar_table():
    """A day the library does not cover is an error that names the dates and the calendar table."""
    with pytest.raises(InputError) as caught:
        work_calendar(D(2026, 12, 30), D(2027, 1, 5), {}, where="scenarios/2027.toml")
    (problem,) = caught.value.problems
    assert problem.file == "scenarios/2027.toml"
    assert problem.value == "2027-01-01…2027-01-05"
    assert "2027" in problem.rule and "calendar table" in problem.rule


def test_calendar_table_covers_an_unknown_year():
    """Rows of the calendar table supply the days the library lacks, and override it."""
    overrides = {D(2027, 1, 1) + dt.timedelta(n): n not in (0, 1, 2) for n in range(5)}
    overrides[D(2026, 12, 31)] = False  # an override of a known day wins
    calendar = work_calendar(D(2026, 12, 31), D(2027, 1, 5), overrides)
    assert calendar.workdays == (D(2027, 1, 4), D(2027, 1, 5))
    assert "calendar table (6 days)" in calendar.source


def test_partly_covered_year_names_the_remaining_days():
    """Only the days that neither source knows are reported."""
    with pytest.raises(InputError) as caught:
        work_calendar(D(2027, 1, 1), D(2027, 1, 10), {D(2027, 1, d): True for d in range(1, 6)})
    assert caught.value.problems[0].value == "2027-01-06…2027-01-10"
