"""月会商: re-optimisation keeps the past and the freeze window, places new work, and says what changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.actuals import lineage_findings, load_actuals
from planner.agenda import make_agenda
from planner.checker import check_plan
from planner.cli import app
from planner.demo import generate_actuals
from planner.export import read_plan_folder
from planner.outputs import sha256_file, write_tables
from planner.pipeline import make_plan, write_plan
from planner.problems import InputError
from planner.reoptimize import MAX_FREEZE_DAYS, reoptimize
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import ACME, valid_tables, write_csv, write_dataset
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


@pytest.fixture(scope="module", params=["2026-04-01", "2026-07-01"])
def county_later(request, county_month, county_baseline):
    """The sample county re-optimised at the dates issue 17 found broken (a replacement's own
    hours_per_day was ignored), with generated actuals: failed and cancelled tasks, a closed firm,
    50 complaints, 5 inspectors on leave inside the freeze window."""
    previous, _, folder, calendar, scenario = county_month
    as_of = dt.date.fromisoformat(request.param)
    t = previous.tables
    actuals = folder / f"actuals-{as_of}"
    actuals.mkdir()
    write_tables(generate_actuals(t["tasks"], t["visits"], t["visit_tasks"], t["crews"], as_of, 2026), actuals, ".csv")
    dataset = county_baseline[1]
    result = reoptimize(dataset, scenario, calendar, previous, load_actuals(actuals), as_of, check=False)
    return previous, result, as_of


def _child(result) -> dict[str, pd.DataFrame]:
    return {name: getattr(result.plan.tables, name) for name in ("visits", "visit_tasks", "crews", "tasks")}


def test_reoptimisation_succeeds_at_later_months(county_later):
    """At 2026-04-01 and 2026-07-01 the re-optimised plan breaks no hard rule (replacements keep
    their own hours_per_day), nothing before as-of changes (codes included), the freeze window
    gains no work, and every change has a reason."""
    previous, result, as_of = county_later
    assert result.broken == []
    assert lineage_findings(previous.tables, _child(result), as_of, 14, result.changes) == []
    assert result.plan.kpis["reoptimisation"]["members_replaced"] > 0


def test_lineage_findings_catch_a_changed_past(county_later):
    """The stability check can fail: a past visit whose code was recomputed, a task moved into
    the freeze window and a change without a reason are each found."""
    previous, result, as_of = county_later
    child = _child(result)
    visits = child["visits"].copy()
    past = pd.to_datetime(visits["date"]).dt.date < as_of
    visits.loc[visits.index[past][0], "visit_code"] = "RECOMPUTED"
    frozen = (pd.to_datetime(visits["date"]).dt.date >= as_of + dt.timedelta(days=3)) & (
        pd.to_datetime(visits["date"]).dt.date < as_of + dt.timedelta(days=14)
    )
    kept = previous.tables["visits"]  # a visit the parent announced, not a new complaint's
    announced = set(zip(kept["crew_id"], pd.to_datetime(kept["date"]).dt.date, kept["uscc"]))
    dates = pd.to_datetime(visits["date"]).dt.date
    was_announced = pd.Series(
        [(c, d, u) in announced for c, d, u in zip(visits["crew_id"], dates, visits["uscc"])], index=visits.index
    )
    target = visits.loc[frozen & was_announced, "visit_id"].iloc[0]
    later = child["visit_tasks"]["visit_id"].map(dict(zip(visits["visit_id"], pd.to_datetime(visits["date"]).dt.date)))
    moved_task = child["visit_tasks"].loc[later > as_of + dt.timedelta(days=30), "task_id"].iloc[0]
    visit_tasks = child["visit_tasks"].copy()
    visit_tasks.loc[visit_tasks["task_id"] == moved_task, "visit_id"] = target
    changes = result.changes.copy()
    changes.loc[changes.index[0], "reason"] = ""
    found = lineage_findings(
        previous.tables, child | {"visits": visits, "visit_tasks": visit_tasks}, as_of, 14, changes
    )
    assert any("code changed" in line for line in found)
    assert any("gained tasks" in line and moved_task in line for line in found)
    assert any("has no reason" in line for line in found)


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
    """All 50 new complaint tasks are placed, most urgently inside the freeze window; members on
    leave were replaced, never kept."""
    _, result, folder, *_ = county_month
    changes = result.changes
    new = changes[changes["task_id"].str.contains("-202602-")]
    assert len(new) == 50 and set(new["change"]) <= {"added", "urgent"}
    assert (new["change"] == "urgent").sum() > 25
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
    # the 月会商 agenda: written beside the plan, and again by planner agenda, with the merges it suggests
    assert "agenda.md" in manifest["outputs"] and "## 三、合并机会" in (tmp_path / "feb/agenda.md").read_text()
    agenda = runner.invoke(app, ["agenda", str(tmp_path / "feb"), "--dataset", "data/sample-county"])
    assert agenda.exit_code == 0, agenda.output
    saved = int(agenda.stdout.split("全部采纳可减少扰企 ")[1].split(" ")[0])
    assert saved > 0 and "推后" in agenda.stdout
    assert agenda.stdout.strip() == (tmp_path / "feb/agenda.md").read_text().strip()
    # … and in the workbook (three sheets) and the report (a section), which verify makes again
    from openpyxl import load_workbook

    sheets = load_workbook(tmp_path / "feb/plan.xlsx", read_only=True).sheetnames
    assert sheets[-3:] == ["会商-放开的检查", "会商-有风险的法定任务", "会商-合并机会"]
    merges = load_workbook(tmp_path / "feb/plan.xlsx", read_only=True)["会商-合并机会"]
    assert sum(row[6] for row in merges.iter_rows(min_row=2, values_only=True)) == saved
    assert '<section id="agenda">' in (tmp_path / "feb/report.html").read_text()
    # a wider merge distance in the scenario ([reoptimize] shift_days) is the default of planner agenda
    wide = runner.invoke(
        app, ["agenda", str(tmp_path / "feb"), "--dataset", "data/sample-county", "--shift-days", "30"]
    )
    assert int(wide.stdout.split("全部采纳可减少扰企 ")[1].split(" ")[0]) >= saved and "不超过 30 天" in wide.stdout


def test_verify_rechecks_a_reoptimised_plan_against_its_actuals(county_month, tmp_path, monkeypatch):
    """verify re-checks every hard rule of a re-optimised plan over its parent and the actuals it
    keeps; a visit moved by hand onto a day its inspector is on leave is caught."""
    import planner.verify
    from planner.dataset import load_dataset
    from planner.ledger import plan_ledger
    from planner.verify import verify_plan
    from tests.test_verify import rehash

    previous, result, folder, _, scenario = county_month
    parent = {
        "plan": str((folder / "plan").resolve()),
        "as_of": AS_OF.isoformat(),
        "freeze_days": 14,
        "manifest_sha256": sha256_file(folder / "plan/manifest.json"),
    }
    actuals = load_actuals(folder / "actuals")
    tables = {name: getattr(result.plan.tables, name) for name in ("tasks", "visits", "visit_tasks")}
    ledger = plan_ledger(
        tables,
        load_dataset(scenario.dataset).history,
        result.dataset.enterprises,
        (scenario.horizon.start, scenario.horizon.end),
        as_of=AS_OF,
        outcomes=actuals.outcomes,
        parent_dir=folder / "plan",
    )
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
        ledger=ledger,
    )
    verified = verify_plan(tmp_path / "feb", "data/sample-county")
    assert verified.ok and "rules" in verified.checked and "lineage" in verified.checked, verified.summary()
    # the forgeries below are each caught by another check: the workbook, rebuilt byte for byte
    # (a quarter of a minute each time), is checked once above (tests/test_forged.py edits it)
    monkeypatch.setattr(planner.verify, "_check_workbook", lambda context: [])

    # a member swapped by hand for another inspector of the department, free that day: every rule
    # holds, but verify's re-plan makes the re-optimisation again and finds who should have gone
    swapped = tmp_path / "swapped"
    shutil.copytree(tmp_path / "feb", swapped)
    crews = pd.read_parquet(swapped / "crews.parquet")
    dataset = load_dataset(scenario.dataset)
    away = {(r.inspector_id, d) for r in actuals.leave.itertuples() for d in pd.date_range(r.start, r.end).date}
    away |= {(r.inspector_id, d) for r in dataset.leave.itertuples() for d in pd.date_range(r.start, r.end).date}
    visits = result.plan.tables.visits
    for at, row in crews[pd.to_datetime(crews["date"]).dt.date > AS_OF + dt.timedelta(days=30)].iterrows():
        day = pd.Timestamp(row["date"]).date()
        busy = set(crews.loc[pd.to_datetime(crews["date"]).dt.date == day, "inspector_id"])
        firms = set(visits.loc[visits["crew_id"] == row["crew_id"], "uscc"])
        shy = set(dataset.conflicts.loc[dataset.conflicts["uscc"].isin(firms), "inspector_id"])
        same = dataset.inspectors[dataset.inspectors["dept_id"] == row["dept_id"]]["inspector_id"]
        free = sorted(i for i in same if i not in busy and (i, day) not in away and i not in shy)
        if free:
            crews.loc[at, "inspector_id"] = free[0]
            break
    crews.to_parquet(swapped / "crews.parquet", index=False)
    rehash(swapped, "crews.parquet")
    found = verify_plan(swapped, "data/sample-county", replan=True)
    assert "replan" in found.checked, found.summary()
    assert not [f for f in found.findings if f.check == "replan"], found.summary()  # the rest is made again alike
    assert any(f.check == "seats" for f in found.findings), found.summary()

    # the agenda edited by hand and rehashed: verify makes it again from the tables and sees it
    edited = tmp_path / "edited"
    shutil.copytree(tmp_path / "feb", edited)
    text = (edited / "agenda.md").read_text()
    (edited / "agenda.md").write_text(text.replace("## 三、合并机会", "## 三、合并机会（已删减）"))
    rehash(edited, "agenda.md")
    found = verify_plan(edited, "data/sample-county", replan=False)
    assert [f.subject for f in found.findings if f.check == "report"] == ["agenda.md"], found.summary()

    # a visit code before as-of reissued by hand: the parent holds the code, the lineage check sees it
    recoded = tmp_path / "recoded"
    shutil.copytree(tmp_path / "feb", recoded)
    visits = pd.read_parquet(recoded / "visits.parquet")
    before = pd.to_datetime(visits["date"]).dt.date < AS_OF
    visits.loc[visits.index[before][0], "visit_code"] = "FORGED01"
    visits.to_parquet(recoded / "visits.parquet", index=False)
    found = verify_plan(recoded, "data/sample-county")
    assert any(f.check == "lineage" for f in found.findings), found.summary()

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
    # nobody of SJ can go that day: not back on its date, and never elsewhere inside the freeze window
    assert row["change"] == "moved" and row["new_date"] >= as_of + dt.timedelta(days=14)
    assert "不在岗" in row["reason"] and "无同部门人员可替补" in row["reason"]
    assert result.plan.kpis["reoptimisation"]["frozen_visits_changed"] == 1
    assert list(result.released["visit_code"]) == [row["old_visit_code"]]


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


# --- the small hand-written county: replacements, the freeze window, refusals, a quarter, the agenda


def _small_county(folder: Path, tables: dict | None = None):
    """The hand-written county planned and written to folder/plan: (dataset, scenario, calendar, plan folder)."""
    write_dataset(folder / "ds", tables or valid_tables())
    plan, dataset, scenario, _ = planned(folder)
    write_plan(plan, folder / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    return dataset, scenario, calendar, read_plan_folder(folder / "plan")


def _actuals(folder: Path, outcomes=(), leave=(), inspectors=(), demands=()) -> Path:
    """An actuals folder with these rows (header rows added)."""
    folder.mkdir()
    write_csv(folder, "outcomes", [["task_id", "status", "date"], *outcomes])
    if leave:
        write_csv(folder, "leave", [["inspector_id", "start", "end"], *leave])
    if inspectors:
        write_csv(folder, "inspectors", [valid_tables()["inspectors"][0], *inspectors])
    if demands:
        write_csv(folder, "demands", [valid_tables()["demands"][0], *demands])
    return folder


@pytest.mark.parametrize("hours, replaced", [("8", True), ("1", False)])
def test_a_replacement_needs_a_day_long_enough(tmp_path, hours, replaced):
    """A member newly on leave is replaced by an inspector of their department only when the
    replacement's own hours_per_day hold the crew-day; else the visit is released, with the reason."""
    tables = valid_tables()
    tables["demands"] = tables["demands"][:2]  # SJ-1 at ACME, in Q1
    dataset, scenario, calendar, previous = _small_county(tmp_path, tables)
    visit = previous.tables["visits"].iloc[0]
    day = pd.Timestamp(visit["date"]).date()
    crew = previous.tables["crews"][previous.tables["crews"]["crew_id"] == visit["crew_id"]]
    sj = sorted(crew.loc[crew["dept_id"] == "SJ", "inspector_id"])
    away = [sj[0], *({"SJ001", "SJ002"} - set(sj))]  # the crew's SJ member, and any other SJ who could step in
    newcomer = ["SJ003", "赵六", "SJ", "33048100103", "", hours, ""]
    actuals = _actuals(
        tmp_path / "actuals", leave=[[p, day.isoformat(), day.isoformat()] for p in away], inspectors=[newcomer]
    )
    as_of = day - dt.timedelta(days=3)
    result = reoptimize(dataset, scenario, calendar, previous, load_actuals(actuals), as_of)
    assert result.broken == []
    row = result.changes.set_index("task_id").loc["SJ-1"]
    crews = result.plan.tables.crews
    if replaced:
        assert row["change"] == "kept" and "由同部门 赵六 替补" in row["reason"]
        assert "SJ003" in set(crews.loc[crews["crew_id"] == visit["crew_id"], "inspector_id"])
    else:
        assert row["change"] == "moved" and "无同部门人员可替补" in row["reason"]
        assert "SJ003" not in set(crews["inspector_id"])


@pytest.fixture(scope="module")
def small_month(tmp_path_factory):
    """The hand-written county re-optimised at 2026-03-02 with three new tasks: a complaint and a
    campaign check due inside the freeze window, and a key check due after it."""
    folder = tmp_path_factory.mktemp("small-month")
    dataset, scenario, calendar, previous = _small_county(folder)
    coop = valid_tables()["enterprises"][2][0]
    demands = [
        ["XF-9", "XF", ACME, "投诉核查", "triggered", "2026-03-04", "2026-03-10", "60", "2", "false", "3"],
        ["SJ-9", "SJ", coop, "专项检查", "campaign", "2026-03-04", "2026-03-10", "60", "2", "false", "1"],
        ["SJ-8", "SJ", coop, "重点检查", "key", "2026-03-04", "2026-04-10", "60", "2", "false", "1"],
    ]
    actuals = _actuals(folder / "actuals", demands=demands)
    as_of = dt.date(2026, 3, 2)
    result = reoptimize(dataset, scenario, calendar, previous, load_actuals(actuals), as_of)
    return result, as_of


def test_a_new_complaint_may_enter_the_freeze_window(small_month):
    """A new complaint task (投诉举报) is placed urgently inside the freeze window, after the as-of day."""
    result, as_of = small_month
    assert result.broken == []
    row = result.changes.set_index("task_id").loc["XF-9"]
    assert row["change"] == "urgent" and as_of < row["new_date"] < as_of + dt.timedelta(days=14)
    assert "急办" in row["reason"]


def test_other_new_work_waits_for_the_freeze_window(small_month):
    """New routine work goes after the freeze window; a campaign check due inside it is left out, saying why."""
    result, as_of = small_month
    changes = result.changes.set_index("task_id")
    assert changes.loc["SJ-8", "change"] == "added" and changes.loc["SJ-8", "new_date"] >= as_of + dt.timedelta(14)
    assert changes.loc["SJ-9", "change"] == "unscheduled" and "冻结期" in changes.loc["SJ-9", "reason"]


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory):
    """The hand-written county's plan folder and its scenario file, for the command line."""
    folder = tmp_path_factory.mktemp("small-cli")
    _small_county(folder)
    return folder


def _reoptimize_cli(folder: Path, actuals: Path, as_of: str, out: Path, *extra: str, plan: Path | None = None):
    return CliRunner().invoke(
        app,
        [
            "reoptimize",
            str(folder / "s.toml"),
            "--plan",
            str(plan or folder / "plan"),
            "--actuals",
            str(actuals),
            "--as-of",
            as_of,
            "--out",
            str(out),
            "--quiet",
            *extra,
        ],
    )


REFUSED = {
    "done after as-of": ([["SJ-1", "done", "2026-03-20"]], "2026-03-02", (), ["row 2", "column date", "not happened"]),
    "failed on as-of": ([["SJ-1", "failed", "2026-03-02"]], "2026-03-02", (), ["row 2", "column date", "not happened"]),
    "two outcomes": ([["SJ-1", "cancelled", ""], ["SJ-1", "failed", "2026-02-02"]], "2026-03-02", (), ["row 3"]),
    "as-of before the horizon": ([], "2025-12-01", (), ["--as-of", "horizon"]),
    "as-of after the horizon": ([], "2027-01-04", (), ["--as-of", "horizon"]),
    "freeze too long": ([], "2026-03-02", ("--freeze-days", "99999999999"), ["--freeze-days"]),
    "freeze negative": ([], "2026-03-02", ("--freeze-days", "-1"), ["--freeze-days"]),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_impossible_is_refused(small_folder, tmp_path, case):
    """Outcomes after as-of, an as-of outside the horizon, a freeze beyond 0-90 days: exit 2 with
    the row or option, no traceback, nothing written."""
    outcomes, as_of, extra, said = REFUSED[case]
    actuals = _actuals(tmp_path / "actuals", outcomes=outcomes)
    result = _reoptimize_cli(small_folder, actuals, as_of, tmp_path / "out", *extra)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
    assert all(word in result.output for word in said), result.output


def test_the_library_refuses_a_freeze_beyond_a_quarter(small_folder):
    """reoptimize itself refuses a freeze window longer than MAX_FREEZE_DAYS, naming the option."""
    scenario = load_scenario(small_folder / "s.toml")
    from planner.dataset import load_dataset

    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    previous = read_plan_folder(small_folder / "plan")
    actuals = load_actuals(_actuals(small_folder / "actuals-freeze"))
    with pytest.raises(InputError) as error:
        reoptimize(dataset, scenario, calendar, previous, actuals, dt.date(2026, 3, 2), MAX_FREEZE_DAYS + 1)
    assert error.value.problems[0].column == "--freeze-days"


@pytest.mark.parametrize("tamper", ["edited file", "broken rule"])
def test_a_parent_plan_not_as_made_is_refused(small_folder, tmp_path, tamper):
    """A parent plan with a file edited after it was written, or with a table that breaks a hard
    rule and a manifest re-hashed to match, is refused with exit 2 naming it."""
    parent = tmp_path / "plan"
    shutil.copytree(small_folder / "plan", parent)
    crews = pd.read_parquet(parent / "crews.parquet")
    crews.loc[0, "inspector_id"] = "NOBODY"
    crews.to_parquet(parent / "crews.parquet", index=False)
    if tamper == "broken rule":
        manifest = json.loads((parent / "manifest.json").read_text())
        manifest["outputs"]["crews.parquet"] = sha256_file(parent / "crews.parquet")
        (parent / "manifest.json").write_text(json.dumps(manifest))
    actuals = _actuals(tmp_path / "actuals")
    result = _reoptimize_cli(small_folder, actuals, "2026-03-02", tmp_path / "out", plan=parent)
    assert result.exit_code == 2, result.output
    assert "crews.parquet" in result.output if tamper == "edited file" else "breaks a hard rule" in result.output
    assert not (tmp_path / "out").exists()


def test_codes_are_carried_from_plan_to_plan(small_folder, tmp_path):
    """Re-optimising a re-optimised plan: its parent is checked over its own parent, and every visit
    the grandchild keeps has the code the annual plan issued."""
    first = _reoptimize_cli(small_folder, _actuals(tmp_path / "a1"), "2026-02-02", tmp_path / "feb")
    assert first.exit_code == 0, first.output
    second = _reoptimize_cli(
        small_folder, _actuals(tmp_path / "a2"), "2026-04-01", tmp_path / "apr", plan=tmp_path / "feb"
    )
    assert second.exit_code == 0, second.output
    annual, grandchild = read_plan_folder(small_folder / "plan").tables, read_plan_folder(tmp_path / "apr").tables
    old = annual["visits"].set_index(["crew_id", "uscc"])["visit_code"]
    new = grandchild["visits"].set_index(["crew_id", "uscc"])["visit_code"]
    both = old.index.intersection(new.index)
    assert len(both) == len(old) and (old[both] == new[both]).all()
    changes = pd.read_parquet(tmp_path / "apr/changes.parquet")
    assert (
        lineage_findings(read_plan_folder(tmp_path / "feb").tables, grandchild, dt.date(2026, 4, 1), 14, changes) == []
    )


def test_a_quarter_with_new_demands_and_changed_staff(small_folder, tmp_path):
    """季优化, one command line: a scenario that extends the annual one with a demands file for the
    next quarter and an inspector taken off the roster; the past keeps them, the future does not."""
    previous = read_plan_folder(small_folder / "plan").tables
    crews = previous["crews"].assign(date=pd.to_datetime(previous["crews"]["date"]).dt.date)
    as_of = dt.date(2026, 4, 1)
    retired = sorted(crews.loc[crews["date"] < as_of, "inspector_id"])[0]
    write_csv(
        small_folder,
        "q2-demands",
        [
            valid_tables()["demands"][0],
            ["SJ-Q2", "SJ", ACME, "第二季度重点检查", "key", "2026-04-20", "2026-06-30", "60", "2", "false", "2"],
        ],
    )
    (small_folder / "q2.toml").write_text(
        f'extends = "s.toml"\nname = "q2"\nextra_demands = ["q2-demands.csv"]\n[staff]\nremove = ["{retired}"]\n'
    )
    result = CliRunner().invoke(
        app,
        [
            "reoptimize",
            str(small_folder / "q2.toml"),
            "--plan",
            str(small_folder / "plan"),
            "--actuals",
            str(_actuals(tmp_path / "actuals")),
            "--as-of",
            as_of.isoformat(),
            "--out",
            str(tmp_path / "q2"),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    quarter = read_plan_folder(tmp_path / "q2").tables
    changes = pd.read_parquet(tmp_path / "q2/changes.parquet").set_index("task_id")
    assert changes.loc["SJ-Q2", "change"] == "added"
    new_crews = quarter["crews"].assign(date=pd.to_datetime(quarter["crews"]["date"]).dt.date)
    assert retired not in set(new_crews.loc[new_crews["date"] >= as_of, "inspector_id"])
    assert retired in set(new_crews.loc[new_crews["date"] < as_of, "inspector_id"])
    assert lineage_findings(previous, quarter, as_of, 14, changes.reset_index()) == []
    from planner.verify import verify_plan

    verified = verify_plan(tmp_path / "q2", small_folder / "ds", replan=False)
    assert verified.ok and "lineage" in verified.checked, verified.summary()


def test_a_roster_change_applies_from_as_of_not_to_the_past(tmp_path):
    """An inspector's hours cut below a day they already worked, their delegation withdrawn and
    their max_days lowered below the days worked: the re-optimisation stands (the past is history,
    judged by the roster of its time), the inspector works no day from as-of that the new roster
    forbids, and verify agrees."""
    dataset, scenario, calendar, previous = _small_county(tmp_path)
    crews = previous.tables["crews"].assign(date=lambda f: pd.to_datetime(f["date"]).dt.date)
    as_of = dt.date(2026, 4, 1)
    worked = crews[(crews["inspector_id"] == "SJ002") & (crews["date"] < as_of)]
    longest = int((worked["day_end_min"] - worked["day_start_min"]).max())
    assert longest > 120  # the cut to 2 hours is below a day already worked
    cut = ["SJ002", "王芳", "SJ", "33048100102", "", "2", str(worked["date"].nunique() - 1 or 1)]
    actuals = _actuals(tmp_path / "actuals", inspectors=[cut])
    result = reoptimize(dataset, scenario, calendar, previous, load_actuals(actuals), as_of)
    assert result.broken == []
    later = result.plan.tables.crews
    assert "SJ002" not in set(later.loc[pd.to_datetime(later["date"]).dt.date >= as_of, "inspector_id"])
    made = _reoptimize_cli(tmp_path, actuals, as_of.isoformat(), tmp_path / "april")
    assert made.exit_code == 0, made.output
    from planner.verify import verify_plan

    verified = verify_plan(tmp_path / "april", tmp_path / "ds", replan=False)
    assert verified.ok and "rules" in verified.checked, verified.summary()


def test_a_rectify_result_gets_its_follow_up(tmp_path):
    """整改复查: a check done with 责令整改 and a deadline gets a follow-up task of its department at its
    enterprise, a legal duty from the deadline to followup_days after, linked to its origin; it is
    planned, said in changes, listed in followups.parquet, and the child plan verifies."""
    _small_county(tmp_path)
    previous = read_plan_folder(tmp_path / "plan").tables
    visits = previous["visits"].assign(date=lambda f: pd.to_datetime(f["date"]).dt.date)
    as_of = dt.date(2026, 4, 1)
    first = visits[visits["date"] < as_of].iloc[0]
    origin = previous["visit_tasks"].loc[previous["visit_tasks"]["visit_id"] == first["visit_id"], "task_id"].iloc[0]
    folder = tmp_path / "actuals"
    folder.mkdir()
    write_csv(
        folder,
        "outcomes",
        [
            ["task_id", "status", "date", "result", "rectify_by"],
            [origin, "done", first["date"].isoformat(), "rectify", "2026-04-20"],
        ],
    )
    made = _reoptimize_cli(tmp_path, folder, as_of.isoformat(), tmp_path / "april")
    assert made.exit_code == 0, made.output
    follow_id = f"{origin}:整改复查"
    tasks = pd.read_parquet(tmp_path / "april/tasks.parquet").set_index("task_id")
    task, source = tasks.loc[follow_id], tasks.loc[origin]
    assert task["kind"] == "followup" and (task["dept_id"], task["uscc"]) == (source["dept_id"], source["uscc"])
    assert (str(task["window_start"])[:10], str(task["window_end"])[:10]) == ("2026-04-20", "2026-05-20")
    followups = pd.read_parquet(tmp_path / "april/followups.parquet")
    assert followups[["task_id", "origin_task_id"]].values.tolist() == [[follow_id, origin]]
    assert bool(followups["scheduled"].iloc[0]) and follow_id in set(
        pd.read_parquet(tmp_path / "april/visit_tasks.parquet")["task_id"]
    )
    change = pd.read_parquet(tmp_path / "april/changes.parquet").set_index("task_id").loc[follow_id]
    assert change["reason_code"] == "followup" and origin in change["reason"] and "整改复查" in change["reason"]
    from planner.verify import verify_plan

    verified = verify_plan(tmp_path / "april", tmp_path / "ds", replan=False)
    assert verified.ok, verified.summary()


def _gap_county() -> dict:
    """ACME's key check due 5-16 January and its fire check due 26 January-6 February: ten days apart."""
    tables = valid_tables()
    tables["demands"] = [
        tables["demands"][0],
        ["SJ-1", "SJ", ACME, "危险化学品经营检查", "key", "2026-01-05", "2026-01-16", "90", "2", "false", "2"],
        ["XF-1", "XF", ACME, "消防安全检查", "campaign", "2026-01-26", "2026-02-06", "60", "2", "false", "1"],
    ]
    return tables


def _agenda_of(plan, dataset, scenario):
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    tables = {name: getattr(plan.tables, name) for name in ("tasks", "visits", "visit_tasks", "unscheduled")}
    return make_agenda(
        tables, dataset.enterprises, dataset.departments, calendar.workdays, None, scenario.horizon.start
    )


def test_a_merge_suggestion_taken_saves_a_visit(tmp_path):
    """The agenda suggests moving one window by ten days; the plan made with it moved has one visit fewer."""
    write_dataset(tmp_path / "ds", _gap_county())
    plan, dataset, scenario, workdays = planned(tmp_path)
    agenda = _agenda_of(plan, dataset, scenario)
    assert len(agenda.merges) == 1 and agenda.disturbances_saved == 1
    pair = agenda.merge_pairs.iloc[0]
    moved, days = pair["task_ids"].split(";"), int(pair["days"])
    assert abs(days) == 10
    demands = dataset.demands.copy()
    at = demands["task_id"].isin(moved)
    for column in ("window_start", "window_end"):
        demands.loc[at, column] = demands.loc[at, column] + pd.Timedelta(days=days)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    again = make_plan(dataclasses.replace(dataset, demands=demands), scenario, calendar)
    assert again.broken == []
    assert again.kpis["visits"] == plan.kpis["visits"] - 1


def test_complaint_windows_are_not_suggested_to_move(tmp_path):
    """Two visits ten days apart whose tasks are complaint checks: no suggestion (their dates are not the departments' to move)."""
    tables = _gap_county()
    for row in tables["demands"][1:]:
        row[4] = "triggered"
    write_dataset(tmp_path / "ds", tables)
    plan, dataset, scenario, _ = planned(tmp_path)
    assert plan.kpis["visits"] >= 2
    assert len(_agenda_of(plan, dataset, scenario).merges) == 0


def _give_way_county(folder: Path, pressed: bool, same_firm: bool = False):
    """A fire check (campaign, optional) planned on a day D after the freeze window, and a new key
    fire check at a neighbour due on D only; ``pressed``: the fire inspectors not on D's crew are on
    leave then; ``same_firm``: the key check is at the campaign visit's enterprise, too long to join it."""
    tables = valid_tables()
    header = tables["demands"][0]
    tables["demands"] = [
        header,
        ["XF-1", "XF", ACME, "消防安全检查", "campaign", "2026-05-06", "2026-05-29", "300", "2", "false", "1"],
    ]
    tables["sampling_plan"] = tables["sampling_plan"][:1]
    tables["inspectors"].append(["XF003", "陈静", "XF", "33048100203", "", "", ""])
    dataset, scenario, calendar, previous = _small_county(folder, tables)
    visit = previous.tables["visits"].iloc[0]
    day = pd.Timestamp(visit["date"]).date()
    crew = previous.tables["crews"][previous.tables["crews"]["crew_id"] == visit["crew_id"]]
    others = sorted({"XF001", "XF002", "XF003"} - set(crew["inspector_id"]))
    shop = valid_tables()["enterprises"][3][0]
    firm, minutes = (ACME, "300") if same_firm else (shop, "120")
    new = [["XF-K", "XF", firm, "重点消防检查", "key", day.isoformat(), day.isoformat(), minutes, "2", "false", "3"]]
    leave = [[p, day.isoformat(), day.isoformat()] for p in others] if pressed else []
    actuals = _actuals(folder / "actuals", leave=leave, demands=new)
    as_of = day - dt.timedelta(days=20)
    result = reoptimize(dataset, scenario, calendar, previous, load_actuals(actuals), as_of)
    return result, day


def test_a_kept_optional_visit_gives_way_to_a_legal_duty(tmp_path):
    """No fire inspector is free on D: the kept campaign visit of that day gives way to the new key
    check, which takes its crew; the campaign check is planned again, saying why."""
    result, day = _give_way_county(tmp_path, pressed=True)
    assert result.broken == []
    changes = result.changes.set_index("task_id")
    assert changes.loc["XF-K", "change"] == "added" and changes.loc["XF-K", "new_date"] == day
    assert (
        changes.loc["XF-1", "change"] in ("moved", "dropped") and "让位于法定任务 XF-K" in changes.loc["XF-1", "reason"]
    )


def test_a_visit_that_gives_way_at_its_own_enterprise_keeps_its_code(tmp_path):
    """The legal duty is at the kept visit's enterprise and cannot join it (the day would be too
    long): the crew does the duty there instead. For the enterprise it is the same visit of the
    same crew that day, so it keeps its code and id (亮码: a code is issued once), and the lineage
    holds."""
    result, day = _give_way_county(tmp_path, pressed=True, same_firm=True)
    assert result.broken == []
    changes = result.changes.set_index("task_id")
    assert changes.loc["XF-K", "change"] == "added" and changes.loc["XF-K", "new_date"] == day
    assert "让位于法定任务 XF-K" in changes.loc["XF-1", "reason"]
    old = changes.loc["XF-1"]
    assert changes.loc["XF-K", "new_crew_id"] == old["old_crew_id"]  # the crew did the duty there
    assert changes.loc["XF-K", "new_visit_code"] == old["old_visit_code"]
    parent = read_plan_folder(tmp_path / "plan").tables
    visit_tasks = result.plan.tables.visit_tasks.set_index("task_id")
    old_id = parent["visit_tasks"].set_index("task_id").loc["XF-1", "visit_id"]
    assert visit_tasks.loc["XF-K", "visit_id"] == old_id
    assert lineage_findings(parent, _child(result), day - dt.timedelta(days=20), 14, result.changes) == []


def test_a_kept_visit_stays_when_a_free_crew_can_take_the_duty(tmp_path):
    """With the other fire inspector free on D, the new key check gets a crew of its own and the campaign visit stays."""
    result, day = _give_way_county(tmp_path, pressed=False)
    assert result.broken == []
    changes = result.changes.set_index("task_id")
    assert changes.loc["XF-K", "change"] == "added" and changes.loc["XF-K", "new_date"] == day
    assert changes.loc["XF-1", "change"] == "kept"


def test_two_kept_crews_give_way_to_a_joint_legal_duty(tmp_path):
    """A new key check of two departments (SJ and XF, one joint visit) due on D only, when every
    inspector is on one of two kept crews doing optional campaign visits that day (an SJ crew and
    an XF crew whose day is full, in two townships): no one crew can take it, so both crew-days are
    let go and the duty is planned on D with their members; the campaign checks say why they
    moved or dropped."""
    tables = valid_tables()
    header = tables["demands"][0]
    coop, shop = tables["enterprises"][2][0], tables["enterprises"][3][0]
    day = dt.date(2026, 7, 8)
    tables["demands"] = [
        header,
        ["SJ-C", "SJ", coop, "专项检查", "campaign", day.isoformat(), day.isoformat(), "120", "2", "false", "1"],
        ["XF-C", "XF", ACME, "消防专项检查", "campaign", day.isoformat(), day.isoformat(), "400", "2", "false", "1"],
    ]
    tables["sampling_plan"] = tables["sampling_plan"][:1]
    dataset, scenario, calendar, previous = _small_county(tmp_path, tables)
    crews = previous.tables["crews"]
    assert sorted(crews["inspector_id"]) == ["SJ001", "SJ002", "XF001", "XF002"]
    assert crews["crew_id"].nunique() == 2 and set(pd.to_datetime(crews["date"]).dt.date) == {day}
    new = [
        ["SJ-K", "SJ", shop, "重点检查", "key", day.isoformat(), day.isoformat(), "60", "2", "false", "3"],
        ["XF-K", "XF", shop, "重点消防检查", "key", day.isoformat(), day.isoformat(), "90", "2", "false", "3"],
    ]
    actuals = _actuals(tmp_path / "actuals", demands=new)
    result = reoptimize(dataset, scenario, calendar, previous, load_actuals(actuals), day - dt.timedelta(days=20))
    assert result.broken == []
    changes = result.changes.set_index("task_id")
    for task_id in ("SJ-K", "XF-K"):
        assert changes.loc[task_id, "change"] == "added" and changes.loc[task_id, "new_date"] == day
    visit_tasks = result.plan.tables.visit_tasks.set_index("task_id")
    assert visit_tasks.loc["SJ-K", "visit_id"] == visit_tasks.loc["XF-K", "visit_id"]  # one joint visit
    for task_id in ("SJ-C", "XF-C"):
        if changes.loc[task_id, "change"] != "kept":
            assert "让位于法定任务" in changes.loc[task_id, "reason"], changes.loc[task_id, "reason"]
    assert (changes.loc[["SJ-C", "XF-C"], "change"] != "kept").any()


@pytest.mark.parametrize("as_of", ["2026-03-02", "2026-09-01"])
def test_a_generated_county_at_two_dates(tmp_path, as_of):
    """A county of another generator (demo-data tiny) with generated actuals: the re-optimisation
    breaks no rule, keeps what must stand, and is the same plan when run again (same inputs, same seed)."""
    from planner.demo import generate_dataset

    (tmp_path / "ds").mkdir()
    write_tables(generate_dataset("tiny", 7), tmp_path / "ds", ".parquet")
    plan, dataset, scenario, _ = planned(tmp_path, seed=7)
    write_plan(plan, tmp_path / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    day, new_tasks = dt.date.fromisoformat(as_of), 10
    t = plan.tables
    (tmp_path / "actuals").mkdir()
    actuals = generate_actuals(t.tasks, t.visits, t.visit_tasks, t.crews, day, 7, new_tasks, 3)
    write_tables(actuals, tmp_path / "actuals", ".csv")
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    previous = read_plan_folder(tmp_path / "plan")
    runs = [
        reoptimize(dataset, scenario, calendar, previous, load_actuals(tmp_path / "actuals"), day) for _ in range(2)
    ]
    result = runs[0]
    assert result.broken == []
    assert lineage_findings(previous.tables, _child(result), day, 14, result.changes) == []
    assert (result.changes["task_id"].str.contains(f"-{day:%Y%m}-")).sum() == new_tasks
    for name in ("visits", "visit_tasks", "crews", "routes"):
        pd.testing.assert_frame_equal(getattr(result.plan.tables, name), getattr(runs[1].plan.tables, name))
    pd.testing.assert_frame_equal(result.changes, runs[1].changes)


def test_a_crew_that_gives_way_keeps_the_order_its_length_is_of():
    """A kept crew-day (A, B: kept legal duties; O: a kept optional visit) gives O up for a legal
    duty G that is cheap to reach between A and B and far from the station. The crew's groups
    must be in the order its length was reckoned for (A, G, B: 362 minutes), not G appended
    (A, B, G: 408): later insertions add their minutes to that length, and a length of another
    order let a crew-day of 421 minutes through on short (2 March)."""
    from types import SimpleNamespace

    import numpy as np

    from planner.model.schedule import Crew, route_minutes
    from planner.reoptimize import CAPACITY, _give_way

    near = {("S", "A"): 5, ("A", "G"): 1, ("G", "B"): 1, ("A", "B"): 2, ("B", "S"): 5, ("B", "O"): 5, ("O", "S"): 5}

    class Road:
        def minutes(self, a, b):
            a, b = ("S" if a.startswith("station:") else a), ("S" if b.startswith("station:") else b)
            return 0 if a == b else near.get((a, b), near.get((b, a), 50))

    def group(gid, uscc, minutes, mandatory):
        return SimpleNamespace(
            group_id=gid,
            uscc=uscc,
            mandatory=mandatory,
            days=np.array([3]),
            min_crew=2,
            n_tasks=1,
            depts=("XF",),
            delegable=lambda dept: False,
            task_ids=[f"T-{uscc}"],
            onsite_min=lambda mode, minutes=minutes: minutes,
        )

    a, b, o = group(1, "A", 100, True), group(2, "B", 100, True), group(3, "O", 150, False)
    duty = group(4, "G", 150, True)
    travel = Road()
    onsite = {1: 100, 2: 100, 3: 150, 4: 150}
    crew = Crew("20260305-001", "T", 3, {"XF": 2}, [a, b, o], members=("XF001", "XF002"))
    crew.length_min = route_minutes("station:T", crew.groups, onsite, travel)
    assert crew.length_min == 367
    schedule = SimpleNamespace(crews=[crew], unplaced=[(duty, SimpleNamespace(code=CAPACITY))])
    kept = SimpleNamespace(visits={1: ("v1", "C1"), 2: ("v2", "C2"), 3: ("v3", "C3")})
    roster = SimpleNamespace(
        conflicts={}, hours_per_day={"XF001": 8, "XF002": 8}, dept_of={"XF001": "XF", "XF002": "XF"}, delegations={}
    )
    facts = SimpleNamespace(enterprises=pd.DataFrame({"uscc": list("ABOG"), "township": ["T"] * 4}))
    workdays = tuple(dt.date(2026, 3, 2) + dt.timedelta(days=n) for n in range(5))
    gave, _ = _give_way(schedule, kept, roster, facts, SimpleNamespace(onsite="sum"), travel, workdays, 0)
    assert [r.uscc for r in gave] == ["O"] and schedule.unplaced == []
    assert [g.uscc for g in crew.groups] == ["A", "G", "B"]
    assert crew.length_min == route_minutes("station:T", crew.groups, onsite, travel) == 362
