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


def _scenario(tmp_path: Path, body: str) -> Path:
    """A scenario extending the baseline, written beside a copy-free reference to the sample county."""
    path = tmp_path / "s.toml"
    path.write_text(
        f'extends = "{(ROOT / "scenarios/baseline.toml").as_posix()}"\nname = "w"\n{body}', encoding="utf-8"
    )
    return path


def test_every_shipped_scenario_loads(county):
    """Each scenario in scenarios/ validates and its inputs apply to the sample county."""
    from planner.whatif import apply_inputs

    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        scenario = load_scenario(path)
        apply_staff_scaling(apply_inputs(county, scenario), scenario)


def test_extra_demands_join_the_dataset(county):
    """The Q2 food campaign adds its 300 SJ campaign tasks to the demands, every one in April–June."""
    from planner.whatif import apply_inputs

    scenario = load_scenario(ROOT / "scenarios/campaign-food-q2.toml")
    extended = apply_inputs(county, scenario)
    extra = extended.demands[extended.demands["task_id"].str.startswith("SJ-FS-2026Q2-")]
    assert len(extended.demands) == len(county.demands) + 300 == len(county.demands) + len(extra)
    assert set(extra["kind"]) == {"campaign"} and (extra["window_start"] == pd.Timestamp("2026-04-01")).all()


def test_extra_demand_clash_is_an_error(county, tmp_path):
    """An extra demand reusing a dataset task id is an error naming its file, row and value."""
    from planner.whatif import apply_inputs

    (tmp_path / "x.csv").write_text(
        "task_id,dept_id,uscc,item,kind,window_start,window_end,duration_min\n"
        f"{county.demands['task_id'].iloc[0]},SJ,{county.demands['uscc'].iloc[0]},检查,key,"
        "2026-03-01,2026-03-31,60\n",
        encoding="utf-8",
    )
    scenario = load_scenario(_scenario(tmp_path, f'extra_demands = ["{(tmp_path / "x.csv").as_posix()}"]\n'))
    with pytest.raises(InputError) as error:
        apply_inputs(county, scenario)
    problem = error.value.problems[0]
    assert problem.row == 2 and problem.column == "task_id" and "already a demand" in problem.rule


def test_tier_ratios_scale_and_cap_at_one(county):
    """tier_scale multiplies the C and D rows' ratios (never above 1) and leaves A, B and * alone."""
    from planner.whatif import apply_inputs

    scenario = load_scenario(ROOT / "scenarios/ratios-cd-up.toml")
    before = county.sampling_plan.set_index("plan_id")
    after = apply_inputs(county, scenario).sampling_plan.set_index("plan_id")
    factor = before["tier"].map({"C": 1.5, "D": 2.0}).fillna(1.0)
    assert (after["ratio"] - (before["ratio"] * factor).clip(upper=1.0)).abs().max() < 1e-12
    assert (
        after.loc[before["tier"].isin(["A", "B", "*"]), "ratio"]
        == before.loc[before["tier"].isin(["A", "B", "*"]), "ratio"]
    ).all()


def test_removed_inspectors_leave_the_roster(county, tmp_path):
    """[staff] remove takes named inspectors off; an unknown id is an error naming the key."""
    first = county.inspectors["inspector_id"].iloc[0]
    scenario = load_scenario(_scenario(tmp_path, f'[staff]\nremove = ["{first}"]\n'))
    assert first not in set(apply_staff_scaling(county, scenario).inspectors["inspector_id"])
    bad = load_scenario(_scenario(tmp_path, '[staff]\nremove = ["NOBODY"]\n'))
    with pytest.raises(InputError) as error:
        apply_staff_scaling(county, bad)
    assert error.value.problems[0].column == "staff.remove" and error.value.problems[0].value == "NOBODY"


def test_solo_department_never_shares_a_visit(tmp_path):
    """With XF outside the joint scheme, no visit holds an XF task with another department's; the plan is valid."""
    from tests.conftest import valid_tables, write_dataset
    from tests.test_plan import planned

    tables = valid_tables()
    tables["demands"][2][5:7] = ["2026-03-01", "2026-03-31"]  # XF-1 could share SJ-1's visit at ACME
    write_dataset(tmp_path / "ds", tables)
    joint, *_ = planned(tmp_path)
    shared = joint.tables.visit_tasks.groupby("visit_id")["dept_id"].nunique()
    assert shared.max() == 2  # merged when XF is in the scheme
    (tmp_path / "solo").mkdir()
    write_dataset(tmp_path / "solo" / "ds", tables)
    plan, dataset, scenario, workdays = planned(tmp_path / "solo", extra='[joint]\nsolo_departments = ["XF"]\n')
    assert check_plan(plan.tables, dataset, scenario, workdays) == []
    depts = plan.tables.visit_tasks.groupby("visit_id")["dept_id"].agg(set)
    assert all(d == {"XF"} or "XF" not in d for d in depts)
    assert {"SJ-1", "XF-1"} <= set(plan.tables.visit_tasks["task_id"])


def test_acceptance_rules_judge_the_kpis(tmp_path):
    """Rules pass and fail as written; a malformed rule or unknown KPI is a scenario error naming the key."""
    from planner.acceptance import judge

    kpis = {"unscheduled_mandatory": 0, "joint_visit_rate": 0.5, "reoptimisation": {"frozen_visits_changed": 0}}
    verdicts = judge(
        [
            "unscheduled_mandatory == 0",
            "joint_visit_rate >= 0.6",
            "reoptimisation.frozen_visits_changed == 0",
            "visits <= 10",
        ],
        kpis,
    )
    assert [v.passed for v in verdicts] == [True, False, True, False]
    for rule in ("visits < many", "happiness >= 1"):
        with pytest.raises(InputError) as error:
            load_scenario(_scenario(tmp_path, f'acceptance = ["{rule}"]\n'))
        assert error.value.problems[0].column.startswith("acceptance")
