"""The planner end to end: every plan passes the checker, and the checker catches broken rules."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.checker import check_plan, check_practice
from planner.cli import app
from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.outputs import write_tables
from planner.pipeline import make_plan
from planner.plan import PlanTables
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import valid_tables, write_dataset

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = 'name = "t"\ndataset = "ds"\nseed = {seed}\n{extra}[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'


def planned(folder: Path, seed: int = 1, extra: str = ""):
    """(plan, dataset, scenario, workdays) for the dataset in folder/ds."""
    (folder / "s.toml").write_text(SCENARIO.format(seed=seed, extra=extra))
    scenario = load_scenario(folder / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    return make_plan(dataset, scenario, calendar), dataset, scenario, set(calendar.workdays)


@pytest.fixture(scope="module")
def small_plan(tmp_path_factory):
    folder = tmp_path_factory.mktemp("small")
    write_dataset(folder / "ds", valid_tables())
    return planned(folder)


def test_small_plan_is_valid_and_complete(small_plan):
    """The hand-written county: every task placed, every hard rule kept."""
    plan, dataset, scenario, workdays = small_plan
    assert check_plan(plan.tables, dataset, scenario, workdays) == []
    assert plan.kpis["unscheduled"] == 0 and plan.kpis["scheduled"] == plan.kpis["tasks"]


def test_complaint_check_gets_three_inspectors(small_plan):
    """XF-2 needs three inspectors (min_inspectors = 3): its crew has three."""
    plan, *_ = small_plan
    visit_id = plan.tables.visit_tasks.set_index("task_id").at["XF-2", "visit_id"]
    crew_id = plan.tables.visits.set_index("visit_id").at[visit_id, "crew_id"]
    assert (plan.tables.crews["crew_id"] == crew_id).sum() >= 3


def test_tasks_at_one_enterprise_share_a_visit(small_plan):
    """综合查一次: SJ-1 (Jan–Mar) and XF-1 (Mar–Apr) at ACME are checked in one March visit."""
    plan, *_ = small_plan
    visit_of = plan.tables.visit_tasks.set_index("task_id")["visit_id"]
    assert visit_of["SJ-1"] == visit_of["XF-1"]
    date = plan.tables.visits.set_index("visit_id").at[visit_of["SJ-1"], "date"]
    assert date.month == 3 and plan.kpis["lower_bound_visits"] == plan.kpis["visits"]


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_generated_tiny_counties_give_valid_plans(tmp_path, seed):
    """Random tiny counties: each plan passes the checker; KPIs add up; visits ≥ the lower bound."""
    (tmp_path / "ds").mkdir()
    write_tables(generate_dataset("tiny", seed), tmp_path / "ds", ".parquet")
    plan, dataset, scenario, workdays = planned(tmp_path, seed=seed)
    assert check_plan(plan.tables, dataset, scenario, workdays) == []
    k = plan.kpis
    assert k["scheduled"] + k["unscheduled"] == k["tasks"]
    assert k["lower_bound_visits"] <= k["rule_bound_visits"] == k["best_bound"] <= k["visits"] <= k["scheduled"]
    assert k["lower_bound_visits"] <= k["baseline_visits"]


def test_same_inputs_same_plan(tmp_path):
    """Same inputs and seed ⇒ identical plan tables."""
    (tmp_path / "ds").mkdir()
    write_tables(generate_dataset("tiny", 4), tmp_path / "ds", ".parquet")
    first, *_ = planned(tmp_path, seed=9)
    second, *_ = planned(tmp_path, seed=9)
    for field in dataclasses.fields(PlanTables):
        pd.testing.assert_frame_equal(getattr(first.tables, field.name), getattr(second.tables, field.name))


def test_same_plan_at_any_worker_count(tmp_path):
    """[solver] workers = 2 (the natural choice on 2 cores) gives the plan of workers = 1: the
    exact models search alone and stop on the solver's deterministic clock."""
    (tmp_path / "ds").mkdir()
    write_tables(generate_dataset("tiny", 6), tmp_path / "ds", ".parquet")
    one, *_ = planned(tmp_path, seed=6, extra="")
    for workers in (2, 8):
        more, *_ = planned(tmp_path, seed=6, extra=f"[solver]\nworkers = {workers}\n")
        for field in dataclasses.fields(PlanTables):
            pd.testing.assert_frame_equal(getattr(one.tables, field.name), getattr(more.tables, field.name))
        assert {k: v for k, v in one.kpis.items() if k != "timings"} == {
            k: v for k, v in more.kpis.items() if k != "timings"
        }


def broken(plan, **changes) -> PlanTables:
    return dataclasses.replace(plan.tables, **changes)


def test_checker_catches_broken_rules(small_plan):
    """Each hard rule, broken on purpose in a valid plan, is reported."""
    plan, dataset, scenario, workdays = small_plan
    t = plan.tables

    def problems(tables) -> str:
        return "\n".join(check_plan(tables, dataset, scenario, workdays))

    sunday = t.visits.assign(date=t.visits["date"].map(lambda d: d - dt.timedelta(days=d.weekday() + 1)))
    assert "not an official working day" in problems(broken(plan, visits=sunday))
    assert "neither placed nor unscheduled" in problems(broken(plan, visit_tasks=t.visit_tasks.iloc[1:]))
    assert "more than one visit" in problems(
        broken(plan, visit_tasks=pd.concat([t.visit_tasks, t.visit_tasks.iloc[:1]]))
    )
    one_short = t.crews.drop(index=t.crews.index[0])
    assert "inspectors needed" in problems(broken(plan, crews=one_short)) or "no inspector of" in problems(
        broken(plan, crews=one_short)
    )
    on_leave = t.crews.assign(inspector_id="SJ001", date=pd.Timestamp("2026-02-18").date())
    assert "on leave" in problems(broken(plan, crews=on_leave))
    slow = t.routes.assign(travel_min=t.routes["travel_min"] + 1)
    assert "takes" in problems(broken(plan, routes=slow))
    long_day = t.crews.assign(day_end_min=t.crews["day_start_min"] + 9 * 60)
    assert "exceeds a member's hours_per_day" in problems(broken(plan, crews=long_day))
    quiet = scenario.model_copy(update={"quiet_days": (1, 31)})
    assert "quiet day" in "\n".join(check_plan(t, dataset, quiet, workdays))
    no_caps = scenario.model_copy(update={"caps": scenario.caps.model_copy(update={"per_dept_per_year": 0})})
    assert "capped visits" in "\n".join(check_plan(t, dataset, no_caps, workdays))


def test_sample_county_plan_quality(county_baseline):
    """The sample county with its own staff: valid, near the lower bound, mandatory tasks explained."""
    plan, dataset, scenario, workdays = county_baseline
    assert check_plan(plan.tables, dataset, scenario, workdays) == []
    assert check_practice(plan.tables, dataset, scenario, workdays) == []
    k = plan.kpis
    assert k["visits"] <= 1.02 * k["lower_bound_visits"]
    assert k["lower_bound_visits"] < k["rule_bound_visits"] <= k["visits"] <= 1.01 * k["rule_bound_visits"]
    assert k["disturbance_reduction"] > 0.2 * k["baseline_visits"]
    assert k["unscheduled_mandatory"] <= 0.005 * k["tasks"]
    assert plan.tables.unscheduled["reason"].str.len().min() > 20


def test_plan_command_writes_the_folder(tmp_path):
    """planner plan writes every contract file once, and refuses to overwrite it."""
    (tmp_path / "ds").mkdir()
    write_tables(generate_dataset("tiny", 5), tmp_path / "ds", ".parquet")
    (tmp_path / "s.toml").write_text(SCENARIO.format(seed=5, extra=""))
    runner = CliRunner()
    result = runner.invoke(app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "plan")])
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "plan").iterdir()}
    assert {
        "tasks.parquet",
        "visits.parquet",
        "visit_tasks.parquet",
        "crews.parquet",
        "routes.parquet",
        "unscheduled.parquet",
        "draws.parquet",
        "kpis.json",
        "manifest.json",
        "draw.json",
        "plan.xlsx",
        "report.html",
    } <= names
    manifest = json.loads((tmp_path / "plan/manifest.json").read_text())
    assert manifest["seed"] == 5 and {"visits.parquet", "plan.xlsx", "report.html"} <= set(manifest["outputs"])
    assert "lower_bound_visits" in result.stderr and result.stdout == ""  # the summary is for people: stderr
    again = runner.invoke(app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "plan")])
    assert again.exit_code == 2 and "already exists" in again.stderr
    scripted = runner.invoke(
        app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "p2"), "--quiet", "--json"]
    )
    assert scripted.exit_code == 0 and "检查户次" not in scripted.stderr  # warnings stay, the summary goes
    assert json.loads(scripted.stdout) == json.loads((tmp_path / "p2/kpis.json").read_text())
    exported = runner.invoke(app, ["export", str(tmp_path / "plan"), "--by", "dept", "--out", str(tmp_path / "x")])
    assert exported.exit_code == 0, exported.output
    listed = [Path(line).name for line in exported.stdout.splitlines()]
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(listed) and any(
        n.endswith(".xlsx") for n in listed
    )


def test_history_over_a_cap_does_not_block_other_departments(tmp_path):
    """History already over SJ's cap at ACME: an XF visit there is still a valid plan."""
    tables = valid_tables()
    tables["history"] += [[tables["enterprises"][1][0], "SJ", f"2026-01-{d:02d}", "", "key"] for d in (5, 6, 7)]
    tables["demands"] = [tables["demands"][0], tables["demands"][2]]  # only XF-1 at ACME
    write_dataset(tmp_path / "ds", tables)
    plan, dataset, scenario, workdays = planned(tmp_path)
    assert check_plan(plan.tables, dataset, scenario, workdays) == []
    assert "XF-1" in set(plan.tables.visit_tasks["task_id"])


def test_plan_without_a_sampling_plan(tmp_path):
    """The sampling plan is optional: without it the plan holds the demands only."""
    tables = valid_tables()
    del tables["sampling_plan"]
    write_dataset(tmp_path / "ds", tables)
    plan, dataset, scenario, workdays = planned(tmp_path)
    assert check_plan(plan.tables, dataset, scenario, workdays) == []
    assert plan.kpis["tasks"] == 3 and plan.draw.draws.empty


def test_checker_catches_tampered_tables(small_plan):
    """Relabelled kinds, a changed window, a doubled inspector and doubled ids are reported."""
    plan, dataset, scenario, workdays = small_plan
    t = plan.tables

    def problems(tables) -> str:
        return "\n".join(check_plan(tables, dataset, scenario, workdays))

    relabelled = t.tasks.assign(kind=t.tasks["kind"].replace({"key": "triggered"}))
    assert "in the demands" in problems(broken(plan, tasks=relabelled))
    first = t.crews.iloc[0]
    doubled = pd.concat([t.crews, t.crews.iloc[[0]]], ignore_index=True)
    assert f"crew {first['crew_id']}" in problems(broken(plan, crews=doubled)) and "twice" in problems(
        broken(plan, crews=doubled)
    )
    assert "twice" in problems(broken(plan, visits=pd.concat([t.visits, t.visits.iloc[[0]]], ignore_index=True)))
    random_ids = t.tasks["task_id"].str.contains(":")
    assert random_ids.any()
    lost = check_plan(broken(plan, tasks=t.tasks[~random_ids]), dataset, scenario, workdays, plan.draw.draws)
    assert any("was drawn but is missing" in line for line in lost)


@pytest.mark.parametrize("delegable", ["true", "false"])
def test_delegation_covers_a_department_with_nobody_free(tmp_path, delegable):
    """委托查: with every XF inspector on leave, SJ002 (delegated for XF) checks ACME's delegable XF task
    in the SJ visit; a task that is not delegable is left out instead, with the reason."""
    tables = valid_tables()
    tables["leave"] += [["XF001", "2026-01-01", "2026-12-31"], ["XF002", "2026-01-01", "2026-12-31"]]
    tables["demands"] = tables["demands"][:2] + [tables["demands"][2][:9] + [delegable, ""]]
    tables["demands"][2][5:7] = ["2026-03-01", "2026-03-31"]  # XF-1 shares SJ-1's window
    write_dataset(tmp_path / "ds", tables)
    plan, dataset, scenario, workdays = planned(tmp_path)
    assert check_plan(plan.tables, dataset, scenario, workdays) == []
    placed = plan.tables.visit_tasks.set_index("task_id")["visit_id"]
    assert "SJ-1" in placed
    if delegable == "true":
        assert placed.get("XF-1") == placed["SJ-1"]
        crew = plan.tables.visits.set_index("visit_id").loc[placed["XF-1"], "crew_id"]
        members = set(plan.tables.crews.loc[plan.tables.crews["crew_id"] == crew, "inspector_id"])
        assert "SJ002" in members and not members & {"XF001", "XF002"}
    else:
        assert "XF-1" not in placed
        row = plan.tables.unscheduled.set_index("task_id").loc["XF-1"]
        assert row["reason_code"] == "staff_capacity"
        assert "示范县消防救援大队" in row["reason"] and "请假" in row["reason"] and "XF" not in row["reason"]


@pytest.mark.parametrize("why", ["uncertified", "short_days"])
def test_a_delegate_goes_alone_for_a_department_that_cannot(tmp_path, why):
    """委托查 when the department cannot go at all: no XF inspector holds a 执法证 (or each has a
    3-hour day and XF-1 takes 4 hours), so XF's delegable task, alone in its visit, goes to a crew
    of SJ with SJ002, who holds XF's delegation. XF's task that is not delegable is left out,
    saying that XF has nobody certified (or, with short days, its own inspectors check it)."""
    tables = valid_tables()
    for row in tables["inspectors"][1:]:
        if row[2] == "XF" and why == "uncertified":
            row[3] = ""  # no 执法证: not on the roster
        elif row[2] == "XF":
            row[5] = "3"
    tables["demands"][2][5] = "2026-04-01"  # after SJ-1's window: XF-1 is a visit of its own
    tables["demands"][2][7] = "240"
    write_dataset(tmp_path / "ds", tables)
    plan, dataset, scenario, workdays = planned(tmp_path)
    assert check_plan(plan.tables, dataset, scenario, workdays) == []
    placed = plan.tables.visit_tasks.set_index("task_id")["visit_id"]
    assert "XF-1" in placed and placed["XF-1"] != placed["SJ-1"]
    assert ("XF-2" in placed) == (why == "short_days")
    visit = plan.tables.visits.set_index("visit_id").loc[placed["XF-1"]]
    assert list(visit["dept_ids"]) == ["XF"]
    members = plan.tables.crews.loc[plan.tables.crews["crew_id"] == visit["crew_id"]]
    assert "SJ002" in set(members["inspector_id"]) and set(members["dept_id"]) == {"SJ"}
    if why == "uncertified":
        row = plan.tables.unscheduled.set_index("task_id").loc["XF-2"]
        assert row["reason_code"] == "certified" and "示范县消防救援大队在名册中没有持执法证的检查人员" in row["reason"]


@pytest.mark.parametrize("how", ["time_limit", "stop"])
def test_a_stopped_search_still_gives_a_complete_valid_plan(tmp_path, how):
    """A spent time limit, or a stop request (Ctrl-C), ends the exact models; the plan is still complete and valid,
    its status says why, and the tasks the greedy caps left out say the search was cut short."""
    (tmp_path / "ds").mkdir()
    write_tables(generate_dataset("tiny", 5), tmp_path / "ds", ".parquet")
    full, dataset, scenario, workdays = planned(tmp_path, seed=5)
    assert (
        full.kpis["status"] == "FEASIBLE" and full.kpis["exact_models"] > 0 and full.kpis["exact_models_skipped"] == 0
    )
    if how == "time_limit":
        scenario = scenario.model_copy(update={"solver": scenario.solver.model_copy(update={"time_limit_s": 1e-9})})
        stop = None
    else:
        stop = lambda: True  # noqa: E731
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    cut = make_plan(dataset, scenario, calendar, stop=stop)
    assert cut.kpis["status"] == ("TIME_LIMIT" if how == "time_limit" else "INTERRUPTED")
    assert cut.kpis["exact_models"] == 0 and cut.kpis["exact_models_skipped"] == full.kpis["exact_models"]
    assert cut.kpis["scheduled"] + cut.kpis["unscheduled"] == cut.kpis["tasks"]
    assert not check_plan(cut.tables, dataset, scenario, set(calendar.workdays), cut.draw.draws)
    assert cut.tables.unscheduled["reason"].str.contains("未逐户精确选择检查").any()


def test_rule_bound_counts_what_the_windows_cannot():
    """planner.model.bounds.fewest_visits on one enterprise: two checks sharing one day whose stays
    together exceed the longest stay need two visits; the positive-list cap, used once already,
    leaves capped checks nowhere to go and an uncapped check beside a capped one its own visit."""
    import numpy as np

    from planner.model.bounds import fewest_visits
    from planner.model.instance import Instance
    from planner.rules.caps import YearlyCaps

    days = tuple(dt.date(2026, 3, 2) + dt.timedelta(days=n) for n in range(5))
    instance = Instance(days, np.zeros(5, dtype=bool), pd.DataFrame(), pd.DataFrame())
    from planner.scenario import Scenario

    scenario = Scenario.model_validate(
        {
            "name": "t",
            "dataset": "ds",
            "seed": 1,
            "source": "s.toml",
            "horizon": {"start": "2026-01-01", "end": "2026-12-31"},
        },
        strict=False,
    )

    def task(task_id, dept, minutes, capped=True, first=0, last=0):
        return {
            "task_id": task_id,
            "uscc": "U",
            "dept_id": dept,
            "duration_min": minutes,
            "capped": capped,
            "first_day": first,
            "last_day": last,
            "mandatory": True,
            "priority": 1,
        }

    def caps(dept_used: dict) -> YearlyCaps:
        return YearlyCaps(1, 2, set(), {}, dept_used, pd.DataFrame())

    same_day = [task("a", "SJ", 300), task("b", "XF", 200)]
    assert fewest_visits(instance, same_day, caps({}), scenario, 400) == (2, True)
    assert fewest_visits(instance, same_day, caps({}), scenario, 500) == (1, True)
    # SJ has used its 2 capped visits this year: its complaint check cannot join XF's capped visit
    beside = [task("c", "SJ", 60, capped=False), task("d", "XF", 60)]
    assert fewest_visits(instance, beside, caps({("U", "SJ", 2026): 2}), scenario, 400) == (2, True)
    assert fewest_visits(instance, beside, caps({}), scenario, 400) == (1, True)
