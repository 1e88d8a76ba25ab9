"""benchmarks/reference.py: the whole-county CP-SAT reference keeps the rules and bounds the planner."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.bench import write_generated
from planner.cli import app
from planner.demo import scenario_text
from planner.rules.caps import UNCAPPED_KINDS
from planner.rules.observation import OBSERVED_KINDS
from planner.rules.quiet_days import is_quiet
from planner.workdays import work_calendar
from tests.conftest import ACME, COOP, valid_tables, write_dataset

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "reference.py"
_SPEC = importlib.util.spec_from_file_location("benchmarks_reference", _PATH)
reference = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = reference
_SPEC.loader.exec_module(reference)

#: a short solve of the solver's deterministic clock, one worker: the same answer under any load
QUICK = dict(seconds=(2.0, 3.0, 2.0), workers=1, deterministic=True)
#: the tiny county's solve: the first two levels (mandatory tasks, tasks), briefly
BRIEF = dict(seconds=(0.5, 0.5), workers=1, deterministic=True)
#: staff short enough to bind on the tiny county (the planner leaves 17 optional tasks out),
#: and quiet days that bar capped visits a third of each month
SHORT = {"planned_share": 0.03, "quiet_days": [1, 10], "staff": {"scale": 0.6}}


def _scenario(folder: Path, keys: dict, dataset: str = "data") -> Path:
    path = folder / "s.toml"
    path.write_text(scenario_text("reference test", dataset, 2026, keys), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny_short(tmp_path_factory):
    """The tiny generated county at short staff with quiet days, planned by the planner, and the
    reference solved beside it: (county, model, levels, solution, plan folder)."""
    folder = tmp_path_factory.mktemp("reference")
    write_generated("tiny", folder / "data")
    scenario = _scenario(folder, SHORT)
    planned = CliRunner().invoke(app, ["plan", str(scenario), "--out", str(folder / "plan"), "--quiet"])
    assert planned.exit_code == 0, planned.output
    county = reference.prepare(scenario)
    model = reference.ReferenceModel(county)
    fits, hint = model.fit_plan(folder / "plan", 10.0, 2026)
    assert fits in ("OPTIMAL", "FEASIBLE"), fits
    levels, solution = model.solve(hint=hint, **BRIEF)
    return county, model, levels, solution, folder / "plan"


def _planner_figures(plan: Path) -> tuple[int, int]:
    """Mandatory tasks and tasks the planner's plan places (from its tables)."""
    tasks = pd.read_parquet(plan / "tasks.parquet")
    placed = set(pd.read_parquet(plan / "visit_tasks.parquet")["task_id"])
    mandatory = tasks["kind"].isin(["key", "triggered", "followup"])
    return int(tasks.loc[mandatory, "task_id"].isin(placed).sum()), len(placed)


def test_the_planners_plan_is_a_solution_of_the_model(tiny_short):
    """The model relaxes the planner's rules: every task of the plan has its day in the model."""
    _, model, _, _, plan = tiny_short
    assert model.outside_model(plan) == []
    assert len(model.x) > 0 and len(model.person_days) > 0


def test_the_reference_places_at_least_the_planners_mandatory_tasks_and_bounds_them(tiny_short):
    """Level by level, the reference's incumbent is at least the planner's, its bound at least that."""
    _, _, levels, solution, plan = tiny_short
    mandatory, tasks = _planner_figures(plan)
    first, second = levels[0], levels[1]
    assert first.level == "mandatory" and first.objective >= mandatory
    assert first.bound is None or first.bound >= first.objective
    assert solution.mandatory >= mandatory
    if solution.mandatory == mandatory:  # the planner's plan was a candidate of the tasks level
        assert second.objective >= tasks and solution.tasks >= tasks
    assert second.bound is None or second.bound >= second.objective


def test_the_solution_keeps_windows_working_days_quiet_days_and_observation(tiny_short):
    """Each task the reference places is on a working day of its window ∩ the horizon, after the
    observation period for random and campaign checks, and never on a quiet day if capped."""
    county, _, _, solution, plan = tiny_short
    tasks = pd.read_parquet(plan / "tasks.parquet").set_index("task_id")
    enterprises = pd.read_parquet(plan.parent / "data" / "enterprises.parquet").set_index("uscc")
    calendar = work_calendar(dt.date(2026, 1, 1), dt.date(2026, 12, 31), {})
    workdays = county.instance.workdays
    assert tuple(calendar.workdays) == workdays
    assert solution.day_of
    for task_id, day in solution.day_of.items():
        date, task = workdays[day], tasks.loc[task_id]
        assert pd.Timestamp(task["window_start"]).date() <= date <= pd.Timestamp(task["window_end"]).date()
        if task["kind"] not in UNCAPPED_KINDS:
            assert not is_quiet(date, (1, 10)), (task_id, date)
        until = enterprises.loc[task["uscc"], "observation_until"]
        if task["kind"] in OBSERVED_KINDS and pd.notna(until):
            assert date > pd.Timestamp(until).date(), (task_id, date)


def test_the_solution_keeps_the_yearly_caps_and_one_visit_a_day(tiny_short):
    """Capped visits per department and enterprise, and per positive-list enterprise, within the caps."""
    county, _, _, solution, plan = tiny_short
    tasks = pd.read_parquet(plan / "tasks.parquet").set_index("task_id")
    visits: dict[tuple[str, int], list[str]] = defaultdict(list)
    for task_id, day in solution.day_of.items():
        visits[(tasks.loc[task_id, "uscc"], day)].append(task_id)
    caps = county.caps
    capped_visits: dict[str, int] = defaultdict(int)
    dept_visits: dict[tuple[str, str], int] = defaultdict(int)
    for (uscc, _day), ids in visits.items():
        kinds = set(tasks.loc[ids, "kind"])
        if kinds <= UNCAPPED_KINDS:
            continue
        capped_visits[uscc] += 1
        for dept in set(tasks.loc[ids, "dept_id"]):
            dept_visits[(uscc, dept)] += 1
    for uscc, n in capped_visits.items():
        if uscc in caps.positive:
            assert n <= caps.positive_left(uscc, 2026)
    for (uscc, dept), n in dept_visits.items():
        assert n <= caps.dept_left(uscc, dept, 2026)
    assert solution.visits == len(visits)


def test_the_solution_keeps_each_departments_planned_days(tiny_short):
    """A department checks on no more days than its inspectors' max_days allow in all."""
    county, model, _, solution, plan = tiny_short
    tasks = pd.read_parquet(plan / "tasks.parquet").set_index("task_id")
    days_of: dict[str, set[int]] = defaultdict(set)
    for task_id, day in solution.day_of.items():
        days_of[tasks.loc[task_id, "dept_id"]].add(day)
    for dept, days in days_of.items():
        if not tasks.loc[tasks["dept_id"] == dept, "delegable"].any():
            assert len(days) <= model.staff.days_left[dept], dept
    assert solution.inspector_days <= sum(model.staff.days_left.values())


def _hand_county(tmp_path: Path, demands: list[list[str]], keys: dict | None = None, **inspectors):
    """The conftest's hand-written county with ``demands`` instead of its own and no sampling."""
    tables = valid_tables()
    tables["demands"] = tables["demands"][:1] + demands
    tables["sampling_plan"] = tables["sampling_plan"][:1]
    for row in tables["inspectors"][1:]:
        for column, value in inspectors.items():
            row[tables["inspectors"][0].index(column)] = value
    write_dataset(tmp_path / "data", tables)
    return reference.ReferenceModel(reference.prepare(_scenario(tmp_path, keys or {})))


def _demand(task_id: str, dept: str, uscc: str, kind: str, start: str, end: str, minutes: int = 60) -> list[str]:
    return [task_id, dept, uscc, "检查", kind, start, end, str(minutes), "2", "false", "1"]


def test_one_capped_visit_a_year_at_a_positive_list_firm(tmp_path):
    """一年最多查一次: two key checks at a positive-list firm in months apart — only one is placed."""
    model = _hand_county(
        tmp_path,
        [
            _demand("SJ-A", "SJ", COOP, "key", "2026-03-02", "2026-03-13"),
            _demand("XF-A", "XF", COOP, "key", "2026-09-07", "2026-09-18"),
        ],
    )
    levels, solution = model.solve(**QUICK)
    assert levels[0].objective == 1 and levels[0].bound == 1 and levels[0].status == "OPTIMAL"
    assert solution.mandatory == 1


def test_a_complaint_check_is_not_capped(tmp_path):
    """The same firm's second check placed when it is a complaint check (triggered)."""
    model = _hand_county(
        tmp_path,
        [
            _demand("SJ-A", "SJ", COOP, "key", "2026-03-02", "2026-03-13"),
            _demand("XF-A", "XF", COOP, "triggered", "2026-09-07", "2026-09-18"),
        ],
    )
    levels, _ = model.solve(**QUICK)
    assert levels[0].objective == 2 and levels[0].status == "OPTIMAL"


def test_a_departments_cap_per_firm(tmp_path):
    """A department makes at most 2 capped visits a year to one firm: 2 of 3 campaign checks."""
    model = _hand_county(
        tmp_path,
        [
            _demand("SJ-1", "SJ", ACME, "campaign", "2026-03-02", "2026-03-13"),
            _demand("SJ-2", "SJ", ACME, "campaign", "2026-06-01", "2026-06-12"),
            _demand("SJ-3", "SJ", ACME, "campaign", "2026-09-07", "2026-09-18"),
        ],
    )
    levels, solution = model.solve(**QUICK)
    assert levels[1].objective == 2 and levels[1].bound == 2 and solution.tasks == 2


def test_planned_days_bind(tmp_path):
    """With one planned day per inspector (4 in all, crews of 2), at most two crew-days of checks:
    four one-day windows at two firms — only two tasks are placed, and the bound proves it."""
    model = _hand_county(
        tmp_path,
        [
            _demand("SJ-1", "SJ", ACME, "key", "2026-03-02", "2026-03-02"),
            _demand("SJ-2", "SJ", ACME, "key", "2026-03-03", "2026-03-03"),
            _demand("XF-1", "XF", ACME, "key", "2026-03-04", "2026-03-04"),
            _demand("XF-2", "XF", ACME, "key", "2026-03-05", "2026-03-05"),
        ],
        max_days="1",
    )
    levels, solution = model.solve(**QUICK)
    assert levels[0].objective == 2 and levels[0].bound == 2 and solution.mandatory == 2
    assert solution.inspector_days <= 4


def test_person_day_fill_counts_both_sides(tiny_short):
    """--fill: the planner's person-days are its crews' (inspector, date) pairs; the reference's its own."""
    county, _, _, solution, plan = tiny_short
    dates = {t: county.instance.workdays[d].isoformat() for t, d in solution.day_of.items()}
    figures = reference.person_day_fill(county, plan, dates, solution.inspector_days)
    crews = pd.read_parquet(plan / "crews.parquet")
    assert figures["planner"]["person_days"] == len(crews[["date", "inspector_id"]].drop_duplicates())
    assert figures["reference"]["tasks_per_person_day"] == round(solution.tasks / solution.inspector_days, 2)
    assert 0 < figures["reference"]["asked_minutes_per_person_day"] <= max(county.roster.hours_per_day.values()) * 60


def test_pinned_copy_pins_every_placed_task(tiny_short):
    """--pins: a copy of the dataset whose overrides pin each task the reference placed to its day."""
    county, _, _, solution, plan = tiny_short
    dates = {t: county.instance.workdays[d].isoformat() for t, d in solution.day_of.items()}
    scenario = plan.parent / "s.toml"
    pinned = reference.write_pinned({"scenario": str(scenario), "name": "reference test", "reference_dates": dates})
    overrides = pd.read_csv(pinned.parent / "data" / "overrides.csv", dtype=str)
    assert set(overrides["action"]) == {"pin_date"}
    assert dict(zip(overrides["task_id"], overrides["date"])) == dates
    assert 'name = "reference test, pinned"' in pinned.read_text(encoding="utf-8")
    with pytest.raises(reference.Refused):  # it loads, with its overrides, which the reference does not model
        reference.prepare(pinned)
