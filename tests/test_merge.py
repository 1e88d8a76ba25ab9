"""综合查一次 merging: fewest groups per enterprise, long stays split, yearly caps kept exactly."""

from __future__ import annotations

from pathlib import Path

from planner.dataset import load_dataset
from planner.model.instance import build_instance, lower_bound_visits
from planner.model.merge import merge_tasks
from planner.rules.stays import MAX_VISIT_ONSITE_MIN
from planner.sampling import draw_sampling_plan
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import COOP, SHOP, valid_tables, write_dataset

SCENARIO = 'name = "t"\ndataset = "ds"\nseed = 1\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'


def merged(tmp_path: Path, tables):
    write_dataset(tmp_path / "ds", tables)
    (tmp_path / "s.toml").write_text(SCENARIO)
    scenario = load_scenario(tmp_path / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    instance = build_instance(dataset, draw_sampling_plan(dataset, 1).tasks, scenario, calendar)
    groups, dropped = merge_tasks(instance, dataset, scenario)
    return instance, groups, dropped


def demand(task_id, dept, uscc, kind, start, end, minutes="60"):
    return [task_id, dept, uscc, "检查", kind, start, end, minutes, "", "", ""]


def test_groups_match_the_lower_bound_without_caps(tmp_path):
    """Without binding caps, the groups are exactly the fewest visits the windows allow."""
    instance, groups, dropped = merged(tmp_path, valid_tables())
    assert not dropped
    assert len(groups) == lower_bound_visits(instance.tasks)


def test_positive_list_keeps_the_best_day(tmp_path):
    """一年最多查一次: with A (campaign, Jan–Mar), B and C (key, Mar–Jun and Apr–Jun), B and C share the one visit."""
    tables = valid_tables()
    tables["demands"] += [
        demand("A", "SJ", COOP, "campaign", "2026-01-05", "2026-03-31"),
        demand("B", "XF", COOP, "key", "2026-03-02", "2026-06-30"),
        demand("C", "SJ", COOP, "key", "2026-04-01", "2026-06-30"),
    ]
    instance, groups, dropped = merged(tmp_path, tables)
    coop = [g for g in groups if g.uscc == COOP]
    assert [sorted(g.task_ids) for g in coop] == [["B", "C"]]
    assert (
        set(dropped) == {"A"} and "一年最多查一次" in dropped["A"].render() and dropped["A"].code == "cap_positive_list"
    )


def test_department_cap_moves_complaints_out(tmp_path):
    """XF at SHOP with two capped visits in history: XF's key task is dropped, its complaint check kept apart."""
    tables = valid_tables()
    tables["history"] += [[SHOP, "XF", "2026-01-05", "", "key"], [SHOP, "XF", "2026-01-20", "", "campaign"]]
    tables["demands"] += [
        demand("K", "XF", SHOP, "key", "2026-05-11", "2026-05-29"),
        demand("S", "SJ", SHOP, "key", "2026-05-11", "2026-05-29"),
    ]
    instance, groups, dropped = merged(tmp_path, tables)
    assert (
        "K" in dropped
        and "XF may make 2 capped visits" in dropped["K"].render("en")
        and dropped["K"].code == "cap_per_dept"
    )
    complaint = next(g for g in groups if "XF-2" in g.task_ids)
    assert set(complaint.task_ids) == {"XF-2"} and not complaint.capped


def test_long_stays_are_split(tmp_path):
    """Tasks adding up to more than 6 hours on site become more than one visit."""
    tables = valid_tables()
    tables["demands"] += [demand(f"L{i}", "SJ", SHOP, "triggered", "2026-09-01", "2026-09-30", "150") for i in range(3)]
    instance, groups, dropped = merged(tmp_path, tables)
    long = [g for g in groups if any(t.startswith("L") for t in g.task_ids)]
    assert len(long) == 2 and all(g.onsite_min("sum") <= MAX_VISIT_ONSITE_MIN for g in long)


def test_exact_cap_choice_respects_the_stay_limit(tmp_path):
    """Three 200-minute key tasks cannot share one stay: the cap goes to the two June tasks that can."""
    tables = valid_tables()
    tables["demands"] += [demand(f"M{i}", "SJ", COOP, "key", "2026-05-11", "2026-05-29", "200") for i in range(3)]
    tables["demands"] += [demand(f"J{i}", "XF", COOP, "key", "2026-06-08", "2026-06-26", "30") for i in range(2)]
    instance, groups, dropped = merged(tmp_path, tables)
    kept = {t for g in groups if g.uscc == COOP for t in g.task_ids}
    assert kept == {"J0", "J1"} and {"M0", "M1", "M2"} <= set(dropped)
