"""What-if staff cuts: who stays is reproducible, and a cut county still gets a valid plan."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from planner.checker import check_plan
from planner.dataset import load_dataset
from planner.pipeline import make_plan
from planner.problems import InputError
from planner.scenario import load_scenario
from planner.whatif import apply_staff_scaling
from planner.workdays import work_calendar

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def county():
    return load_dataset(ROOT / "data/sample-county")


def test_staff_cut_keeps_the_share_per_department(county):
    """scale = 0.6 keeps round(0.6 n) certified inspectors per department, the same ones each run."""
    scenario = load_scenario(ROOT / "scenarios/staff-cut-40.toml")
    cut = apply_staff_scaling(county, scenario)
    before = county.inspectors[county.inspectors["cert_no"].notna()].groupby("dept_id").size()
    after = cut.inspectors[cut.inspectors["cert_no"].notna()].groupby("dept_id").size()
    assert ((before * 0.6).round().astype(int) == after).all()
    again = apply_staff_scaling(county, scenario)
    assert list(again.inspectors["inspector_id"]) == list(cut.inspectors["inspector_id"])
    assert set(cut.leave["inspector_id"]) <= set(cut.inspectors["inspector_id"])


def test_unknown_department_in_staff_is_an_error(county, tmp_path):
    """[staff.departments] naming a department the dataset lacks is an error naming the key."""
    path = tmp_path / "s.toml"
    path.write_text(f'extends = "{ROOT / "scenarios/baseline.toml"}"\n[staff.departments]\nGA = 0.5\n')
    with pytest.raises(InputError) as caught:
        apply_staff_scaling(county, load_scenario(path))
    assert caught.value.problems[0].column == "staff.departments.GA"


def test_staff_cut_plan_is_valid_and_keeps_mandatory_tasks(county, county_baseline):
    """At 60 % staff the plan still keeps every hard rule and places almost every mandatory task."""
    scenario = load_scenario(ROOT / "scenarios/staff-cut-40.toml")
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, county.calendar_overrides())
    plan = make_plan(county, scenario, calendar)
    assert check_plan(plan.tables, apply_staff_scaling(county, scenario), scenario, set(calendar.workdays)) == []
    full = county_baseline[0]
    assert plan.kpis["unscheduled_mandatory"] <= full.kpis["unscheduled_mandatory"] + 5
    assert plan.kpis["scheduled"] < full.kpis["scheduled"]  # the cut costs campaign and random tasks
    pd.testing.assert_frame_equal(plan.draw.draws, full.draw.draws)  # a staff cut never changes the 双随机 draw

