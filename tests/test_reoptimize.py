"""月会商: re-optimisation keeps the past and the freeze window, places new work, and says what changed."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.actuals import load_actuals
from planner.checker import check_plan
from planner.cli import app
from planner.demo import generate_actuals
from planner.export import read_plan_folder
from planner.outputs import sha256_file, write_tables
from planner.pipeline import write_plan
from planner.problems import InputError
from planner.reoptimize import reoptimize
from planner.workdays import work_calendar
from tests.conftest import valid_tables, write_csv, write_dataset
from tests.test_plan import planned

AS_OF = dt.date(2026, 2, 2)


@pytest.fixture(scope="module")
def county_month(county_baseline, tmp_path_factory):
    """The sample county's plan, its actuals a month in (50 new complaints, 5 inspectors on leave)
    and the re-optimisation."""
    plan, dataset, scenario, _ = county_baseline
    folder = tmp_path_factory.mktemp("month")
    write_plan(plan, folder / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    t = plan.tables
    (folder / "actuals").mkdir()
    write_tables(generate_actuals(t.tasks, t.visits, t.visit_tasks, t.crews, AS_OF, 2026), folder / "actuals", ".csv")
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    previous = read_plan_folder(folder / "plan")
    result = reoptimize(dataset, scenario, calendar, previous, load_actuals(folder / "actuals"), AS_OF)
    return previous, result, folder, calendar, scenario


def _visits(tables) -> pd.DataFrame:
    visits = tables["visits"] if isinstance(tables, dict) else tables.visits
    return visits.assign(date=pd.to_datetime(visits["date"]))


def test_new_plan_passes_the_checker(county_month):
    """The re-optimised plan breaks no hard rule, counting what was done outside it as history."""
    previous, result, _, calendar, scenario = county_month
    assert result.broken == []
    assert (
        check_plan(result.plan.tables, result.dataset, scenario, set(calendar.workdays), previous.tables["draws"]) == []
    )


def test_nothing_before_as_of_changes(county_month):
    """Every visit before as-of that still stands has the same enterprise, date and crew, and the
    same code unless one of its checks failed or was cancelled; no visit is added to the past."""
    previous, result, *_ = county_month
    old, new = _visits(previous.tables), _visits(result.plan.tables)
    past = pd.Timestamp(AS_OF)
    key = ["uscc", "date", "crew_id"]
    old_past = old[old["date"] < past].set_index(key)
    new_past = new[new["date"] < past].set_index(key)
    assert set(new_past.index) <= set(old_past.index)
    fate = result.changes.set_index("task_id")["change"]
    old_tasks = previous.tables["visit_tasks"].groupby("visit_id")["task_id"].agg(list)
    for where, visit in old_past.iterrows():
        fates = {fate[t] for t in old_tasks[visit["visit_id"]]}
        if fates == {"done"}:
            assert new_past.loc[where, "visit_code"] == visit["visit_code"]
        elif "done" not in fates:
            assert where not in new_past.index  # every check failed, was cancelled or done elsewhere


def test_freeze_window_is_kept(county_month):
    """Visits in the 14 days after as-of keep enterprise, date and crew (members may be replaced)."""
    previous, result, *_ = county_month
    old, new = _visits(previous.tables), _visits(result.plan.tables)
    start, end = pd.Timestamp(AS_OF), pd.Timestamp(AS_OF + dt.timedelta(days=14))
    window = ["uscc", "date", "crew_id"]
    frozen = old[(old["date"] >= start) & (old["date"] < end)]
    kept = set(map(tuple, new[window].to_numpy()))
    assert len(frozen) > 20
    assert all(tuple(v) in kept for v in frozen[window].to_numpy())
    assert result.plan.kpis["reoptimisation"]["frozen_visits_changed"] == 0


def test_new_complaints_are_placed_and_leave_is_respected(county_month):
    """All 50 new complaint tasks are placed; members on leave were replaced, never kept."""
    _, result, folder, *_ = county_month
    changes = result.changes
    new = changes[changes["task_id"].str.contains("-202602-")]
    assert len(new) == 50 and set(new["change"]) == {"added"}
    leave = pd.read_csv(folder / "actuals/leave.csv")
    crews = result.plan.tables.crews.assign(date=pd.to_datetime(result.plan.tables.crews["date"]))
    for person, first, last in leave.itertuples(index=False):
        days = crews.loc[crews["inspector_id"] == person, "date"]
        assert not ((days >= pd.Timestamp(first)) & (days <= pd.Timestamp(last))).any(), person


def test_changes_are_few_and_reported(county_month):
    """Few planned visits after as-of change, and kpis.json and the per-department summary say how many."""
    previous, result, *_ = county_month
    info = result.plan.kpis["reoptimisation"]
    later = _visits(previous.tables)
    later = later[later["date"] >= pd.Timestamp(AS_OF)]
    assert info["visits_changed"] <= 0.01 * len(later)
    assert info["tasks"]["kept"] > 0.85 * len(result.changes)
    assert set(result.summary.columns) >= {"dept_id", "kept", "added"}
    assert result.summary.drop(columns="dept_id").to_numpy().sum() == len(result.changes)


def test_reoptimize_command_writes_a_child_plan(county_month, tmp_path):
    """planner reoptimize writes a new folder with changes.parquet and its parent; history lists both."""
    _, _, folder, *_ = county_month
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "reoptimize",
            "scenarios/baseline.toml",
            "--plan",
            str(folder / "plan"),
            "--actuals",
            str(folder / "actuals"),
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(tmp_path / "feb"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "feb/manifest.json").read_text())
    assert manifest["parent"]["as_of"] == AS_OF.isoformat() and "changes.parquet" in manifest["outputs"]
    assert Path(manifest["parent"]["plan"]) == (folder / "plan").resolve()
    lineage = runner.invoke(app, ["history", str(tmp_path / "feb")])
    assert lineage.exit_code == 0 and "2026-02-02" in lineage.stdout and str(folder / "plan") in lineage.stdout
    assert sorted(p.name for p in (tmp_path / "feb/actuals").iterdir()) == sorted(
        p.name for p in (folder / "actuals").iterdir()
    )


def test_verify_rechecks_a_reoptimised_plan_against_its_actuals(county_month, tmp_path):
    """verify re-checks every hard rule of a re-optimised plan over its parent and the actuals it
    keeps; a visit moved by hand onto a day its inspector is on leave is caught."""
    from planner.verify import verify_plan

    previous, result, folder, _, scenario = county_month
    parent = {
        "plan": str((folder / "plan").resolve()),
        "as_of": AS_OF.isoformat(),
        "freeze_days": 14,
        "manifest_sha256": sha256_file(folder / "plan/manifest.json"),
    }
    actuals = load_actuals(folder / "actuals")
    write_plan(
        result.plan,
        tmp_path / "feb",
        result.dataset,
        scenario,
        dt.datetime(2026, 2, 2, tzinfo=dt.UTC),
        parent=parent,
        extra_tables={"changes": result.changes},
        record=previous.draw_record,
        attachments={f"actuals/{p.name}": p for p in actuals.files.values()},
    )
    verified = verify_plan(tmp_path / "feb", "data/sample-county")
    assert verified.ok and "rules" in verified.checked, verified.summary()

    # a crew-day put on a day one of its members is newly on leave (the leave comes from the actuals)
    leave = actuals.leave.iloc[0]
    day = leave["start"].date()
    crews = result.plan.tables.crews
    member = crews[crews["inspector_id"] == leave["inspector_id"]]
    assert member.empty or not (pd.to_datetime(member["date"]).dt.date == day).any()
    tampered = tmp_path / "tampered"
    shutil.copytree(tmp_path / "feb", tampered)
    frame = pd.read_parquet(tampered / "crews.parquet")
    some_crew = frame["crew_id"].iloc[0]
    frame.loc[frame["crew_id"] == some_crew, "inspector_id"] = [leave["inspector_id"]] + list(
        frame.loc[frame["crew_id"] == some_crew, "inspector_id"].iloc[1:]
    )
    frame.loc[frame["crew_id"] == some_crew, "date"] = day
    frame.to_parquet(tampered / "crews.parquet", index=False)
    found = verify_plan(tampered, "data/sample-county")
    assert not found.ok
    assert any(f.check == "rules" and f.subject == "hard rule" for f in found.findings), found.summary()

    # without the parent plan the rules cannot be re-checked, and verify says so
    moved = tmp_path / "moved"
    shutil.copytree(tmp_path / "feb", moved)
    manifest = json.loads((moved / "manifest.json").read_text())
    manifest["parent"]["plan"] = str(tmp_path / "nowhere")
    (moved / "manifest.json").write_text(json.dumps(manifest))
    gone = verify_plan(moved, "data/sample-county")
    assert any(f.subject == "cannot re-check" and "not there" in f.message for f in gone.findings)


def test_a_frozen_visit_moves_only_when_impossible_and_says_why(tmp_path):
    """When every SJ inspector is away on a frozen visit's day, the visit is re-planned and the change explained."""
    tables = valid_tables()
    tables["demands"] = tables["demands"][:2]  # SJ-1 at ACME, in Q1
    write_dataset(tmp_path / "ds", tables)
    plan, dataset, scenario, _ = planned(tmp_path)
    write_plan(plan, tmp_path / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    day = pd.Timestamp(plan.tables.visits["date"].iloc[0]).date()
    as_of = day - dt.timedelta(days=3)
    (tmp_path / "actuals").mkdir()
    write_csv(tmp_path / "actuals", "outcomes", [["task_id", "status", "date"]])
    write_csv(
        tmp_path / "actuals",
        "leave",
        [
            ["inspector_id", "start", "end"],
            ["SJ001", day.isoformat(), day.isoformat()],
            ["SJ002", day.isoformat(), day.isoformat()],
        ],
    )
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    result = reoptimize(
        dataset, scenario, calendar, read_plan_folder(tmp_path / "plan"), load_actuals(tmp_path / "actuals"), as_of
    )
    assert result.broken == []
    row = result.changes.set_index("task_id").loc["SJ-1"]
    assert row["change"] == "moved" and row["new_date"] != day
    assert result.plan.kpis["reoptimisation"]["frozen_visits_changed"] == 1


def test_unknown_outcome_is_a_clear_error(tmp_path):
    """An outcome naming no task of the plan is an input error with its row."""
    tables = valid_tables()
    write_dataset(tmp_path / "ds", tables)
    plan, dataset, scenario, _ = planned(tmp_path)
    write_plan(plan, tmp_path / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    (tmp_path / "actuals").mkdir()
    write_csv(tmp_path / "actuals", "outcomes", [["task_id", "status", "date"], ["NOPE-1", "已完成", "2026-01-05"]])
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    with pytest.raises(InputError) as error:
        reoptimize(
            dataset,
            scenario,
            calendar,
            read_plan_folder(tmp_path / "plan"),
            load_actuals(tmp_path / "actuals"),
            dt.date(2026, 3, 1),
        )
    problem = error.value.problems[0]
    assert problem.row == 2 and problem.column == "task_id" and problem.value == "NOPE-1"
