"""Off-site checks (非现场监管, 书面·远程核查): no visit, an inspector's desk time against max_days."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.checker import check_plan
from planner.cli import app
from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.model.instance import build_instance
from planner.outputs import write_tables
from planner.pipeline import make_plan, write_plan
from planner.problems import InputError
from planner.rules.staff_days import leave_days, max_days
from planner.sampling import draw_sampling_plan
from planner.scenario import load_scenario
from planner.verify import verify_plan
from planner.workdays import work_calendar
from tests.conftest import valid_tables, write_dataset

SCENARIO = 'name = "off"\ndataset = "ds"\nseed = 3\n{extra}[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'
runner = CliRunner()


def _county(folder: Path, extra: str = "", every: int | None = 10, inspectors=None):
    """The tiny county with every ``every``-th demand off site (None: none): (plan, dataset, scenario, calendar)."""
    frames = generate_dataset("tiny", 3)
    demands = frames["demands"].copy()
    demands["mode"] = ["offsite" if every and n % every == 0 else "onsite" for n in range(len(demands))]
    frames["demands"] = demands
    if inspectors is not None:
        frames["inspectors"] = inspectors(frames["inspectors"].copy())
    (folder / "ds").mkdir(parents=True)
    write_tables(frames, folder / "ds", ".parquet")
    (folder / "s.toml").write_text(SCENARIO.format(extra=extra))
    scenario = load_scenario(folder / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    return make_plan(dataset, scenario, calendar), dataset, scenario, calendar


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """The tiny county, a tenth of its demands off site, planned and written once."""
    folder = tmp_path_factory.mktemp("offsite")
    plan, dataset, scenario, calendar = _county(folder)
    write_plan(plan, folder / "plan", dataset, scenario, dt.datetime(2026, 1, 1).astimezone())
    return folder, plan, dataset, scenario, calendar


def _offsite_ids(plan) -> set[str]:
    tasks = plan.tables.tasks
    return set(tasks.loc[tasks["mode"] == "offsite", "task_id"])


def test_offsite_tasks_are_in_no_visit_and_each_has_a_desk(county):
    """No off-site task is in a visit; each is in offsite.parquet with an inspector and a date, or unscheduled."""
    _, plan, *_ = county
    offsite, desk = _offsite_ids(plan), plan.tables.offsite
    assert len(offsite) >= 10 and plan.valid, plan.broken
    assert not offsite & set(plan.tables.visit_tasks["task_id"])
    assert set(desk["task_id"]) | (offsite & set(plan.tables.unscheduled["task_id"])) == offsite
    assert len(desk) == desk["task_id"].nunique() >= 10
    assert desk["inspector_id"].notna().all() and desk["date"].notna().all()
    tasks = plan.tables.tasks.set_index("task_id")
    assert (desk["dept_id"] == tasks.loc[desk["task_id"], "dept_id"].to_numpy()).all()


def test_desk_days_count_against_max_days_with_crew_days(county):
    """A desk day is a planned day: crew days and desk days together stay within max_days, never on one date."""
    _, plan, dataset, scenario, calendar = county
    crew_days = set(zip(plan.tables.crews["inspector_id"], plan.tables.crews["date"]))
    desk_days = set(zip(plan.tables.offsite["inspector_id"], plan.tables.offsite["date"]))
    assert desk_days and not crew_days & desk_days
    limits = max_days(dataset.inspectors, scenario.planned_share, len(calendar))
    used = pd.Series([who for who, _ in crew_days | desk_days]).value_counts()
    assert all(n <= limits[who] for who, n in used.items())
    # one planned day fewer for a desk inspector than crew and desk days together: the checker says max_days
    who = plan.tables.offsite["inspector_id"].iloc[0]
    inspectors = dataset.inspectors.assign(
        max_days=dataset.inspectors["max_days"].astype("Int64").where(dataset.inspectors["inspector_id"] != who, 0)
    )
    limited = dataclasses.replace(dataset, inspectors=inspectors)
    assert "max_days" in {v.rule for v in check_plan(plan.tables, limited, scenario, set(calendar.workdays))}
    without_desk = dataclasses.replace(
        plan.tables, offsite=plan.tables.offsite[plan.tables.offsite["inspector_id"] != who]
    )
    crew_only = {v.rule for v in check_plan(without_desk, limited, scenario, set(calendar.workdays))}
    assert ("max_days" in crew_only) == (who in set(plan.tables.crews["inspector_id"]))


def test_max_days_binds_with_desk_time(tmp_path):
    """One planned day each and one check a desk day: the desk work that does not fit is unscheduled
    (desk_time), mandatory off-site work first, and nobody works more than one day."""

    def one_day(inspectors: pd.DataFrame) -> pd.DataFrame:
        return inspectors.assign(max_days=1)

    plan, dataset, scenario, calendar = _county(tmp_path, "[offsite]\ndesk_share = 1\n", every=3, inspectors=one_day)
    assert plan.valid, plan.broken
    days = pd.concat([plan.tables.crews[["inspector_id", "date"]], plan.tables.offsite[["inspector_id", "date"]]])
    assert days.drop_duplicates().groupby("inspector_id").size().max() == 1
    assert plan.tables.offsite.groupby(["inspector_id", "date"]).size().max() == 1
    short = plan.tables.unscheduled[plan.tables.unscheduled["reason_code"] == "desk_time"]
    assert len(short) and short["task_id"].isin(_offsite_ids(plan)).all()
    assert short["reason"].str.contains("工作日").all()
    # legal duties first: an inspector who could have taken a mandatory check left out spends their one
    # day on another mandatory desk check (or is on leave all its window), never on a crew or optional work
    tasks = plan.tables.tasks.set_index("task_id")
    desk = plan.tables.offsite.assign(mandatory=plan.tables.offsite["kind"].isin(["key", "followup"]))
    assert desk["mandatory"].any()
    duty = set(desk.loc[desk["mandatory"], "inspector_id"])
    on_crew = set(plan.tables.crews["inspector_id"])
    leave = leave_days(dataset.leave)
    conflicts = set(zip(dataset.conflicts["inspector_id"], dataset.conflicts["uscc"]))
    staff = dataset.inspectors[dataset.inspectors["cert_no"].notna()]
    for task_id in short.loc[short["mandatory"], "task_id"]:
        task = tasks.loc[task_id]
        window = {d for d in calendar.workdays if task["window_start"] <= d <= task["window_end"]}
        for who in staff.loc[staff["dept_id"] == task["dept_id"], "inspector_id"]:
            if (who, task["uscc"]) in conflicts or window <= leave.get(who, set()):
                continue
            assert who in duty and who not in on_crew, (task_id, who)


def test_kpis_count_offsite_checks(county):
    """offsite_checks and 非现场检查占比 = off-site checks ÷ all checks done; scheduled counts both."""
    folder, plan, *_ = county
    kpis = json.loads((folder / "plan/kpis.json").read_text(encoding="utf-8"))
    done = plan.tables.visit_tasks["task_id"].nunique() + len(plan.tables.offsite)
    assert kpis["offsite_checks"] == len(plan.tables.offsite) > 0
    assert kpis["scheduled"] == done and kpis["scheduled"] + kpis["unscheduled"] == kpis["tasks"]
    assert kpis["offsite_share"] == round(len(plan.tables.offsite) / done, 6)


def test_plan_folder_has_offsite_file_and_sheet(county):
    """offsite.parquet is in the folder and the manifest; plan.xlsx has 非现场检查 with names, not codes."""
    folder, plan, dataset, *_ = county
    manifest = json.loads((folder / "plan/manifest.json").read_text(encoding="utf-8"))
    assert "offsite.parquet" in manifest["outputs"]
    disk = pd.read_parquet(folder / "plan/offsite.parquet")
    assert list(disk["task_id"]) == list(plan.tables.offsite["task_id"])
    assert set(pd.read_parquet(folder / "plan/tasks.parquet")["mode"]) == {"onsite", "offsite"}
    book = openpyxl.load_workbook(folder / "plan/plan.xlsx", read_only=True)
    sheet = book["非现场检查"]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) - 1 == len(plan.tables.offsite)
    headers = rows[0]
    people = set(dataset.inspectors["name"])
    departments = set(dataset.departments["name"])
    assert {r[headers.index("姓名")] for r in rows[1:]} <= people
    assert {r[headers.index("检查部门")] for r in rows[1:]} <= departments
    placement = {r[0]: r for r in book["任务明细"].iter_rows(values_only=True)}
    assert "非现场检查" in placement[plan.tables.offsite["task_id"].iloc[0]]


def test_an_offsite_task_in_a_visit_is_rejected(county):
    """能书面核查的不得入企: an off-site task moved from its desk into a visit breaks offsite_no_visit."""
    _, plan, dataset, scenario, calendar = county
    t = plan.tables
    moved = t.offsite.iloc[0]
    visit = t.visits[t.visits["uscc"] == moved["uscc"]]
    visit = visit.iloc[0] if len(visit) else t.visits.iloc[0]
    row = pd.DataFrame(
        {"task_id": [moved["task_id"]], "visit_id": [visit["visit_id"]], "dept_id": [moved["dept_id"]]}
        | {"kind": [moved["kind"]], "item": [moved["item"]]}
    )
    broken = dataclasses.replace(
        t, visit_tasks=pd.concat([t.visit_tasks, row], ignore_index=True), offsite=t.offsite.iloc[1:]
    )
    assert "offsite_no_visit" in {v.rule for v in check_plan(broken, dataset, scenario, set(calendar.workdays))}


def test_verify_passes(county):
    """planner verify re-checks the plan (hashes, rules, KPIs, workbook byte for byte, the re-plan)."""
    folder, *_ = county
    result = runner.invoke(app, ["verify", str(folder / "plan"), str(folder / "ds")])
    assert result.exit_code == 0, result.output


def test_older_plan_without_offsite_file_verifies(tmp_path):
    """A plan folder written before offsite.parquet (none in the folder or the manifest) still verifies."""
    write_dataset(tmp_path / "ds", valid_tables())
    (tmp_path / "s.toml").write_text(SCENARIO.format(extra=""))
    scenario = load_scenario(tmp_path / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    assert plan.valid and not len(plan.tables.offsite)
    write_plan(plan, tmp_path / "plan", dataset, scenario, dt.datetime(2026, 1, 1).astimezone())
    (tmp_path / "plan/offsite.parquet").unlink()
    manifest = json.loads((tmp_path / "plan/manifest.json").read_text(encoding="utf-8"))
    del manifest["outputs"]["offsite.parquet"]
    (tmp_path / "plan/manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    result = runner.invoke(app, ["verify", str(tmp_path / "plan"), str(tmp_path / "ds"), "--no-replan"])
    assert result.exit_code == 0, result.output


def test_scenario_makes_random_tasks_offsite_by_kind(county):
    """[offsite] kinds = ["random"]: every drawn random task is off site, the demands keep their mode."""
    _, plan, dataset, scenario, calendar = county
    ruled = scenario.model_copy(update={"offsite": scenario.offsite.model_copy(update={"kinds": ("random",)})})
    draw = draw_sampling_plan(dataset, ruled.seed, 1, 2)
    tasks = build_instance(dataset, draw.tasks, ruled, calendar).tasks
    random = tasks["kind"] == "random"
    assert random.any() and (tasks.loc[random, "mode"] == "offsite").all()
    assert set(tasks.loc[~random, "mode"]) == {"onsite", "offsite"}


def test_bad_mode_exits_2_naming_file_row_column_value(tmp_path):
    """A mode that is neither onsite nor offsite: exit 2 with file, row, column and value; nothing planned."""
    tables = valid_tables()
    tables["demands"][0].append("mode")
    for row, mode in zip(tables["demands"][1:], ("offsite", "sometimes", "")):
        row.append(mode)
    result = runner.invoke(app, ["validate", str(write_dataset(tmp_path / "bad", tables))])
    assert result.exit_code == 2
    said = " ".join(result.stderr.split())
    assert "demands.csv" in said and "mode" in said and "sometimes" in said and "3" in said
    assert "Traceback" not in result.output


def test_complaints_cannot_be_made_offsite_by_the_scenario(tmp_path):
    """[offsite] kinds = ["triggered"] is refused with the key named: a complaint is checked on site."""
    (tmp_path / "s.toml").write_text(SCENARIO.format(extra='[offsite]\nkinds = ["triggered"]\n'))
    with pytest.raises(InputError) as error:
        load_scenario(tmp_path / "s.toml")
    assert any(p.column == "offsite.kinds" for p in error.value.errors)
    (tmp_path / "t.toml").write_text(SCENARIO.format(extra="[offsite]\ndesk_share = 0\n"))
    with pytest.raises(InputError):
        load_scenario(tmp_path / "t.toml")


def test_reoptimize_keeps_past_desk_checks_and_places_the_rest(county, tmp_path):
    """月会商: desk checks before as-of stand, the other off-site tasks go to a desk from as-of, none
    in a visit; changes.parquet says so, and the re-optimised plan verifies."""
    folder, plan, *_ = county
    (tmp_path / "actuals").mkdir()
    (tmp_path / "actuals/outcomes.csv").write_text("task_id,status,date\n", encoding="utf-8")
    args = [
        "reoptimize",
        str(folder / "s.toml"),
        "--plan",
        str(folder / "plan"),
        "--actuals",
        str(tmp_path / "actuals"),
    ]
    result = runner.invoke(app, [*args, "--as-of", "2026-06-01", "--out", str(tmp_path / "re"), "--quiet"])
    assert result.exit_code == 0, result.output
    as_of, before = dt.date(2026, 6, 1), plan.tables.offsite
    desk = pd.read_parquet(tmp_path / "re/offsite.parquet")
    past = before[pd.to_datetime(before["date"]) < pd.Timestamp(as_of)]
    kept = desk[pd.to_datetime(desk["date"]) < pd.Timestamp(as_of)]
    assert len(past) and kept.reset_index(drop=True).equals(past.reset_index(drop=True))
    assert set(desk["task_id"]) == set(before["task_id"])  # nothing changed: every desk check is placed again
    assert not set(desk["task_id"]) & set(pd.read_parquet(tmp_path / "re/visit_tasks.parquet")["task_id"])
    changes = pd.read_parquet(tmp_path / "re/changes.parquet")
    assert set(changes.loc[changes["change"] == "offsite", "task_id"]) == set(desk["task_id"])
    verified = runner.invoke(app, ["verify", str(tmp_path / "re"), str(folder / "ds")])
    assert verified.exit_code == 0, verified.output


def test_unknown_offsite_item_exits_2_naming_the_key(county, tmp_path):
    """[offsite] items naming an item no task checks is refused (a typo would leave those checks on site)."""
    folder, *_ = county
    text = (
        (folder / "s.toml")
        .read_text(encoding="utf-8")
        .replace("[horizon]", '[offsite]\nitems = ["无此事项"]\n[horizon]')
    )
    (folder / "typo.toml").write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["validate", str(folder / "typo.toml")])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 2 and "offsite.items" in said and "无此事项" in said, result.output


def test_a_county_with_only_offsite_work_has_no_crews(tmp_path):
    """Every demand off site and nothing drawn: no visit, no crew, every task at a desk, a valid plan."""
    tables = valid_tables()
    del tables["sampling_plan"]
    tables["demands"][0].append("检查方式")  # the Chinese header
    for row in tables["demands"][1:]:
        row.append("书面核查")
    write_dataset(tmp_path / "ds", tables)
    (tmp_path / "s.toml").write_text(SCENARIO.format(extra=""))
    scenario = load_scenario(tmp_path / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    assert plan.valid, plan.broken
    assert plan.tables.visits.empty and plan.tables.crews.empty
    assert sorted(plan.tables.offsite["task_id"]) == ["SJ-1", "XF-1", "XF-2"]
    assert plan.kpis["offsite_share"] == 1.0


def test_a_listed_item_leaves_its_complaints_on_site():
    """[offsite] items moves an item's checks to a desk, but not a complaint of it (nor an
    appointment): a complaint is verified on site unless its own row says otherwise."""
    from planner.rules.offsite import task_modes

    tasks = pd.DataFrame(
        {
            "item": ["消防安全检查"] * 4 + ["食品经营检查"],
            "kind": ["campaign", "random", "triggered", "triggered", "triggered"],
            "mode": ["onsite", "onsite", "onsite", "offsite", "onsite"],
        }
    )
    modes = task_modes(tasks, ("消防安全检查",), ())
    assert modes.tolist() == ["offsite", "offsite", "onsite", "offsite", "onsite"]


def test_seat_lottery_record_with_desk_days_verifies(county):
    """The mandatory desk days were kept from the crews before any seat was filled: the lottery
    record, rebuilt by `planner verify` from those days and the rounds, holds (no re-plan)."""
    folder, plan, *_ = county
    tasks = plan.tables.tasks.set_index("task_id")["kind"]
    desk = plan.tables.offsite
    assert desk["task_id"].map(tasks).isin(["key", "triggered", "followup"]).any(), "mandatory desk work"
    assert len(plan.tables.seats)
    result = verify_plan(folder / "plan", replan=False)
    assert not result.of("seats"), result.summary()
