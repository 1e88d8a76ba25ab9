"""The official readings of 综合查一次 in kpis.json: a hand-built plan with known values, and a
generated county's plan recomputed from its tables by plain pandas (not the planner's functions)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.model.instance import Instance
from planner.outputs import write_tables
from planner.pipeline import compute_kpis, make_plan
from planner.plan import PlanTables
from planner.scenario import load_scenario
from planner.workdays import work_calendar

D1, D2, D3 = dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4)

# (task_id, dept_id, uscc, kind, plan_id, visit_id or None)
TASKS = [
    ("A-key", "A", "E1", "key", None, "v1"),
    ("A-camp", "A", "E1", "campaign", None, "v1"),
    ("RA:E1", "A", "E1", "random", "RA", "v1"),
    ("RB:E1", "B", "E1", "random", "RB", "v1"),
    ("C-camp", "C", "E1", "campaign", None, "v1"),
    ("RA:E2", "A", "E2", "random", "RA", "v2"),  # beside C's complaint check only: joint, not strictly
    ("C-trig", "C", "E2", "triggered", None, "v2"),
    ("RC:E3", "C", "E3", "random", "RC", "v3"),  # RC has no joint group
    ("RD:E3", "B", "E3", "random", "RD", "v3"),  # RD's group has no other department's task here
    ("B-key", "B", "E1", "key", None, "v4"),
    ("A-key2", "A", "E2", "key", None, "v5"),
    ("A-follow", "A", "E2", "followup", None, "v5"),
    ("RA:E3", "A", "E3", "random", "RA", None),  # not placed
]
# visit_id → (uscc, date)
VISITS = {"v1": ("E1", D1), "v2": ("E2", D1), "v3": ("E3", D2), "v4": ("E1", D2), "v5": ("E2", D3)}
GROUPS = {"RA": "g", "RB": "g", "RC": None, "RD": "h"}


def hand_built() -> tuple[PlanTables, Instance, pd.DataFrame]:
    """Five visits: v1 joint with three departments (a strict joint random pair), v2 and v3 joint
    with two (random tasks joint only loosely), v4 and v5 of one department; one task not placed."""
    tasks = pd.DataFrame(
        [(t, d, u, k, p) for t, d, u, k, p, _ in TASKS], columns=["task_id", "dept_id", "uscc", "kind", "plan_id"]
    )
    placed = [(t, v, d, k, "item") for t, d, _, k, _, v in TASKS if v]
    visit_tasks = pd.DataFrame(placed, columns=["task_id", "visit_id", "dept_id", "kind", "item"])
    depts = visit_tasks.groupby("visit_id")["dept_id"].agg(lambda s: sorted(set(s)))
    visits = pd.DataFrame(
        [
            (v, v.upper(), u, d, "c1", 540, 600, depts[v], int((visit_tasks["visit_id"] == v).sum()))
            for v, (u, d) in VISITS.items()
        ],
        columns=["visit_id", "visit_code", "uscc", "date", "crew_id", "start_min", "end_min", "dept_ids", "n_tasks"],
    )
    crews = pd.DataFrame(
        [("c1", D1, "T", 480, 960, "i1", "A")],
        columns=["crew_id", "date", "township", "day_start_min", "day_end_min", "inspector_id", "dept_id"],
    )
    routes = pd.DataFrame(
        [("c1", D1, 1, "v1", 540, 600, 60)],
        columns=["crew_id", "date", "seq", "visit_id", "arrive_min", "depart_min", "travel_min"],
    )
    unscheduled = pd.DataFrame({"task_id": ["RA:E3"], "reason": ["—"]})
    days = {D1: 0, D2: 1, D3: 2}
    day = [days[VISITS[v][1]] if v else 0 for *_, v in TASKS]
    instance = Instance(
        workdays=(D1, D2, D3),
        quiet=np.zeros(3, dtype=bool),
        tasks=tasks.assign(first_day=day, last_day=day),
        unplaceable=pd.DataFrame({"task_id": [], "reason": []}),
    )
    draws = pd.DataFrame({"plan_id": list(GROUPS), "joint_group": list(GROUPS.values())})
    return PlanTables(tasks, visits, visit_tasks, crews, routes, unscheduled), instance, draws


def test_hand_built_plan_gives_the_known_readings():
    """Nine department-inspections, seven joint; nine of twelve tasks joint; two of five random
    tasks joint in the strict reading (all five in the loose one); 2 + 1 + 1 entries saved."""
    kpis = compute_kpis(*hand_built())
    assert kpis["visits"] == 5 and kpis["scheduled"] == 12
    assert kpis["joint_visit_rate"] == 0.6
    assert kpis["joint_inspection_rate"] == round(7 / 9, 6)
    assert kpis["joint_task_rate"] == 0.75
    assert kpis["joint_random_rate"] == 1.0
    assert kpis["joint_random_rate_strict"] == 0.4
    assert kpis["disturbance_saved_joint"] == 4
    # departments alone: (B, E1) and (A, E2) on two days each, five other pairs on one: 9 visits for 5
    assert kpis["baseline_visits"] == 9 and kpis["disturbance_reduction"] == 4


def test_a_department_checking_twice_in_a_joint_visit_is_one_inspection():
    """A second item of department A in v1 adds a task but no department-inspection."""
    tables, instance, draws = hand_built()
    extra = pd.DataFrame([("A-more", "v1", "A", "campaign", "item")], columns=tables.visit_tasks.columns)
    tables = PlanTables(**{**tables.__dict__, "visit_tasks": pd.concat([tables.visit_tasks, extra])})
    kpis = compute_kpis(tables, instance, draws)
    assert kpis["joint_inspection_rate"] == round(7 / 9, 6)
    assert kpis["joint_task_rate"] == round(10 / 13, 6)


def test_no_visits_give_zero_rates():
    """An empty plan: every rate 0, nothing saved (no division by zero)."""
    tables, instance, draws = hand_built()
    empty = PlanTables(**{**tables.__dict__, "visits": tables.visits[:0], "visit_tasks": tables.visit_tasks[:0]})
    kpis = compute_kpis(empty, instance, draws)
    for key in ("joint_inspection_rate", "joint_task_rate", "joint_random_rate_strict", "disturbance_saved_joint"):
        assert kpis[key] == 0, key


@pytest.fixture(scope="module")
def tiny_plan(tmp_path_factory):
    """The generated tiny county planned for 2026 (its random tasks in joint groups)."""
    root = tmp_path_factory.mktemp("kpis")
    (root / "ds").mkdir()
    write_tables(generate_dataset("tiny", 5), root / "ds", ".parquet")
    (root / "s.toml").write_text(
        'name = "t"\ndataset = "ds"\nseed = 5\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'
    )
    scenario = load_scenario(root / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    return make_plan(dataset, scenario, calendar)


def test_a_plans_readings_recomputed_from_its_tables(tiny_plan):
    """Each new KPI of a real plan, recomputed with merges and counts from visits, visit_tasks,
    tasks and draws alone."""
    tables, kpis = tiny_plan.tables, tiny_plan.kpis
    rows = tables.visit_tasks.merge(tables.visits[["visit_id", "uscc", "date"]], on="visit_id", validate="m:1")
    n_depts = rows.drop_duplicates(["visit_id", "dept_id"]).groupby("visit_id").size().rename("n_depts")
    rows = rows.merge(n_depts, left_on="visit_id", right_index=True)

    inspections = rows.groupby(["dept_id", "uscc", "date"])["n_depts"].max()
    assert kpis["joint_inspection_rate"] == pytest.approx((inspections >= 2).sum() / len(inspections), abs=1e-6)
    assert kpis["joint_task_rate"] == pytest.approx((rows["n_depts"] >= 2).sum() / len(rows), abs=1e-6)
    assert kpis["disturbance_saved_joint"] == int(n_depts[n_depts >= 2].sum() - (n_depts >= 2).sum())

    groups = tiny_plan.draw.draws[["plan_id", "joint_group"]].drop_duplicates().dropna()
    random = rows[rows["kind"] == "random"].merge(tables.tasks[["task_id", "plan_id"]], on="task_id")
    random = random.merge(groups, on="plan_id", how="left")
    strict = 0
    for task in random.itertuples():
        others = random[(random["visit_id"] == task.visit_id) & (random["dept_id"] != task.dept_id)]
        strict += bool(pd.notna(task.joint_group) and (others["joint_group"] == task.joint_group).any())
    assert len(random) > 0 and strict > 0
    assert kpis["joint_random_rate_strict"] == pytest.approx(strict / len(random), abs=1e-6)
    # a joint visit holds two inspections or more, a visit of one department one: per visit ≤ per inspection
    assert kpis["joint_random_rate_strict"] <= kpis["joint_random_rate"]
    assert kpis["joint_visit_rate"] <= kpis["joint_inspection_rate"]


def test_new_keys_are_labelled_compared_and_accepted():
    """The workbook labels each new key, compare shows it, acceptance rules may name it."""
    from planner.acceptance import KPI_NAMES
    from planner.compare import COMPARED
    from planner.workbook import KPI_LABELS

    new = ("joint_inspection_rate", "joint_task_rate", "joint_random_rate_strict", "disturbance_saved_joint")
    for key in new:
        assert key in KPI_LABELS and key in COMPARED and key in KPI_NAMES, key
    assert KPI_LABELS["joint_inspection_rate"][0] == "综合查一次实施率"
    assert KPI_LABELS["joint_visit_rate"][0] == "联合检查户次占比"


def test_the_contract_defines_each_new_key():
    """docs/data-contract.md gives each new key a definition."""
    text = (Path(__file__).resolve().parents[1] / "docs/data-contract.md").read_text(encoding="utf-8")
    for key in ("joint_inspection_rate", "joint_task_rate", "joint_random_rate_strict", "disturbance_saved_joint"):
        assert f"- `{key}`" in text, key
