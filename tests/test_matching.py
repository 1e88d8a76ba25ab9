"""随机选派: seats filled at random among eligible inspectors, with rotation and fair spread."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from planner.dataset import load_dataset
from planner.model.matching import REQUEST_COLUMNS, Roster, staff_crews
from tests.conftest import ACME, SHOP, valid_tables, write_dataset

ROOT = Path(__file__).resolve().parents[1]
D = dt.date


def request(crew, day, dept, seats=1, usccs=(ACME,), needs=(), minutes=420):
    return (crew, pd.Timestamp(day), dept, seats, tuple(needs), minutes, tuple(usccs))


def requests(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=REQUEST_COLUMNS)


@pytest.fixture
def small(tmp_path):
    return load_dataset(write_dataset(tmp_path / "ds", valid_tables()))


def roster_of(dataset) -> Roster:
    return Roster.from_dataset(dataset, working_days=250, planned_share=0.2)


def test_each_department_fills_its_own_seats(small):
    """An SJ seat gets an SJ inspector, an XF seat an XF inspector."""
    staffing = staff_crews(
        requests(request("c1", D(2026, 3, 2), "SJ"), request("c1", D(2026, 3, 2), "XF")), roster_of(small), seed=1
    )
    got = dict(zip(staffing.members["dept_id"], staffing.members["inspector_id"]))
    assert got["SJ"].startswith("SJ") and got["XF"].startswith("XF") and staffing.unfilled.empty


def test_leave_and_conflicts_are_respected(small):
    """SJ001 is on leave on 2026-02-18 and SJ002 has a conflict with SHOP: nobody can go there."""
    staffing = staff_crews(requests(request("c1", D(2026, 2, 18), "SJ", usccs=(SHOP,))), roster_of(small), seed=1)
    assert staffing.members.empty
    (reason,) = staffing.unfilled["reason"]
    assert "1 on leave" in reason and "1 conflict (回避)" in reason


def test_one_crew_a_day(small):
    """Two crews needing two XF inspectors each on one day: only two seats can be filled."""
    staffing = staff_crews(
        requests(request("c1", D(2026, 3, 2), "XF", 2), request("c2", D(2026, 3, 2), "XF", 2)), roster_of(small), seed=4
    )
    assert len(staffing.members) == 2 and staffing.members["inspector_id"].is_unique
    assert staffing.unfilled["missing"].sum() == 2
    assert "already on another crew" in staffing.unfilled["reason"].iloc[0]


def test_delegated_seat_needs_the_delegation(small):
    """A seat that needs an XF delegation (委托查) goes only to SJ002, who holds one."""
    staffing = staff_crews(requests(request("c1", D(2026, 3, 3), "SJ", needs=("XF",))), roster_of(small), seed=2)
    assert list(staffing.members["inspector_id"]) == ["SJ002"]


def test_max_days_and_hours_per_day(small):
    """Nobody works past max_days, nor a day longer than their hours_per_day."""
    roster = roster_of(small)
    roster.max_days["XF001"] = 1
    days = [request(f"c{d}", D(2026, 3, 2) + dt.timedelta(d), "XF") for d in range(3)]
    staffing = staff_crews(requests(*days), roster, seed=3)
    assert Counter(staffing.members["inspector_id"])["XF001"] <= 1
    long_day = staff_crews(requests(request("c9", D(2026, 4, 1), "XF", minutes=450)), roster_of(small), seed=3)
    assert list(long_day.members["inspector_id"]) == ["XF001"]  # 8 h a day; XF002 has the default 7 h


def test_rotation_avoids_last_inspector(small):
    """SJ001 inspected ACME last (history): SJ002 goes this time, whatever the seed."""
    for seed in range(20):
        staffing = staff_crews(requests(request("c1", D(2026, 3, 2), "SJ")), roster_of(small), seed=seed)
        assert list(staffing.members["inspector_id"]) == ["SJ002"]
        assert not staffing.members["repeat_visit"].any()


def test_fair_and_random_over_the_sample_county():
    """Over a year of daily SJ seats, days spread evenly; different seeds pick different persons."""
    county = load_dataset(ROOT / "data/sample-county")
    days = pd.bdate_range("2026-03-02", periods=40)
    rows = [request(f"c{i}", d.date(), "SJ", seats=4, usccs=()) for i, d in enumerate(days)]
    first = staff_crews(requests(*rows), roster_of(county), seed=1)
    second = staff_crews(requests(*rows), roster_of(county), seed=2)
    load = first.members["inspector_id"].value_counts()
    assert first.unfilled.empty and load.max() - load.min() <= 1
    assert (first.members["inspector_id"] != second.members["inspector_id"]).mean() > 0.5
    again = staff_crews(requests(*rows), roster_of(county), seed=1)
    pd.testing.assert_frame_equal(first.members, again.members)
