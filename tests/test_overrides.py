"""人工研判修正: the officials' overrides are honoured in full, refused with their row when they
contradict a rule, and explained when only capacity keeps a task out; the checker knows them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from planner.actuals import load_actuals
from planner.checker import check_plan
from planner.cli import app
from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.export import read_plan_folder
from planner.outputs import write_tables
from planner.pipeline import write_plan
from planner.problems import InputError
from planner.reoptimize import reoptimize
from planner.verify import verify_plan
from planner.workbook import sheet_name
from planner.workdays import work_calendar
from tests.conftest import ACME, COOP, SHOP, valid_tables, write_csv, write_dataset
from tests.test_plan import SCENARIO, planned

HEADER = ["override_id", "action", "task_id", "other_task_id", "uscc", "date", "dept_id", "note"]
DEMAND = ["SJ", ACME, "危险化学品经营检查", "triggered", "2026-01-01", "2026-03-31", "30", "", "false", ""]


def with_overrides(rows: list[list[str]], demands: list[list[str]] = (), **more) -> dict:
    """The tiny county's tables with extra demands and these overrides (and ``more`` tables)."""
    tables = valid_tables()
    tables["demands"] += demands
    tables["overrides"] = [HEADER, *rows]
    return tables | more


@pytest.fixture(scope="module")
def honoured(tmp_path_factory):
    """A plan of the tiny county under a satisfiable set of overrides."""
    folder = tmp_path_factory.mktemp("honoured")
    rows = [
        ["O1", "pin_date", "SJ-1", "", "", "2026-03-10", "", "会商：与消防检查同日进场"],
        ["O2", "together_with", "SJ-1", "XF-1", "", "", "", "会商：进一次门"],
        ["O3", "lead_dept", "XF-1", "", "", "", "XF", "会商：消防牵头"],
        ["O4", "forbid_together", "SJ-1", "SJ-2", "", "", "", "举报核查单独进行"],
        ["O5", "exclude_date", "", "", SHOP, "2026-05-12", "", "企业当天停产检修"],
    ]
    write_dataset(folder / "ds", with_overrides(rows, [["SJ-2", *DEMAND]]))
    return folder, *planned(folder)


def test_satisfiable_overrides_are_honoured_in_full(honoured):
    """Pinned date, one visit for a held pair, apart for a forbidden pair, the lead department,
    no visit on an excluded date; the plan is valid and the visits name their overrides."""
    _, plan, dataset, scenario, workdays = honoured
    assert plan.broken == []
    visits = plan.tables.visits.set_index("visit_id")
    where = dict(zip(plan.tables.visit_tasks["task_id"], plan.tables.visit_tasks["visit_id"]))
    assert {"SJ-1", "XF-1", "SJ-2", "XF-2"} <= set(where)
    assert visits.at[where["SJ-1"], "date"] == dt.date(2026, 3, 10)
    assert where["SJ-1"] == where["XF-1"] != where["SJ-2"]
    assert visits.at[where["SJ-1"], "lead_dept_id"] == "XF"
    assert list(visits.at[where["SJ-1"], "override_ids"]) == ["O1", "O2", "O3", "O4"]
    assert not ((visits["uscc"] == SHOP) & (visits["date"] == dt.date(2026, 5, 12))).any()
    assert all("O5" in ids for ids in visits.loc[visits["uscc"] == SHOP, "override_ids"])
    assert check_plan(plan.tables, dataset, scenario, workdays, plan.draw.draws) == []


def test_the_checker_rejects_a_plan_that_breaks_an_override(honoured):
    """A pinned task on another date, a forbidden pair in one visit, another lead: rule ``override``."""
    _, plan, dataset, scenario, workdays = honoured
    tables = plan.tables
    where = dict(zip(tables.visit_tasks["task_id"], tables.visit_tasks["visit_id"]))

    def codes(broken_tables) -> list[str]:
        return [v.rule for v in check_plan(broken_tables, dataset, scenario, workdays) if v.rule == "override"]

    moved = tables.visits.assign(
        date=tables.visits["date"].where(tables.visits["visit_id"] != where["SJ-1"], dt.date(2026, 3, 11))
    )
    assert codes(dataclasses.replace(tables, visits=moved)) == ["override"]
    joined = tables.visit_tasks.assign(visit_id=tables.visit_tasks["visit_id"].replace(where["SJ-2"], where["SJ-1"]))
    assert codes(dataclasses.replace(tables, visit_tasks=joined)) == ["override"]
    led = tables.visits.assign(lead_dept_id="SJ")
    assert codes(dataclasses.replace(tables, visits=led)) == ["override"]


@pytest.fixture(scope="module")
def honoured_folder(honoured) -> Path:
    """The honoured plan written as `planner plan` writes it."""
    folder, plan, dataset, scenario, _ = honoured
    write_plan(plan, folder / "plan", dataset, scenario, dt.datetime.now().astimezone())
    return folder / "plan"


def test_the_workbook_marks_visits_and_verify_knows_the_overrides(honoured, honoured_folder):
    """plan.xlsx's visits sheet has 牵头部门 and 人工修正; `planner verify` re-checks the plan."""
    sheet = openpyxl.load_workbook(honoured_folder / "plan.xlsx", read_only=True)[sheet_name("visits", "zh")]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(r for r in rows if r and "人工修正" in r)
    body = [dict(zip(header, r)) for r in rows[rows.index(header) + 1 :] if r and any(r)]
    marked = {r["人工修正"] for r in body if r["牵头部门"] == "示范县消防救援大队" and r["人工修正"]}
    assert any(m.startswith("O1") and "O4" in m for m in marked), body
    result = verify_plan(honoured_folder, honoured[0] / "ds")
    assert result.ok, result.summary()


def test_reoptimize_refuses_overrides_it_cannot_keep_yet(honoured, honoured_folder, tmp_path):
    """`planner reoptimize` does not apply overrides yet: it says so (exit 2) instead of breaking them."""
    _, _, dataset, scenario, _ = honoured
    (tmp_path / "actuals").mkdir()
    write_csv(tmp_path / "actuals", "outcomes", [["task_id", "status", "date"]])
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    previous = read_plan_folder(honoured_folder)
    with pytest.raises(InputError) as error:
        reoptimize(dataset, scenario, calendar, previous, load_actuals(tmp_path / "actuals"), dt.date(2026, 3, 2))
    (problem,) = error.value.errors
    assert problem.file.endswith("overrides.csv") and "does not apply overrides" in problem.rule


def test_each_contradicting_override_is_refused_with_its_row(tmp_path):
    """Exit 2 before planning, every bad row named with its column and rule; nothing written
    (`planner validate SCENARIO` says the same)."""
    rows = [
        ["B1", "pin_date", "SJ-1", "", "", "2026-05-11", "", "窗口外"],  # row 2: outside the window
        ["B2", "pin_date", "SJ-1", "", "", "2026-03-07", "", "周六"],  # row 3: a Saturday
        ["B3", "pin_date", "XF-1", "", "", "2026-04-01", "", "静默日"],  # row 4: quiet day, capped
        ["B4", "together_with", "SJ-1", "XF-2", "", "", "", "两家企业"],  # row 5
        ["B5", "together_with", "SJ-3", "XF-1", "", "", "", "无共同日"],  # row 6
        ["B6", "together_with", "SJ-2", "XF-1", "", "", "", "同次"],  # row 7
        ["B7", "forbid_together", "XF-1", "SJ-2", "", "", "", "又不得同次"],  # row 8
        ["B8", "pin_date", "SJ-4", "", "", "2026-03-04", "", "上限已用"],  # row 9: positive list used
        ["B9", "pin_date", "NOPE-1", "", "", "2026-03-03", "", "无此任务"],  # row 10
        ["B10", "lead_dept", "SJ-4", "", "", "", "XF", "不参加"],  # row 11
        ["B11", "pin_date", "XF-3", "", "", "2026-05-06", "", "观察期"],  # row 12
        ["B12", "exclude_date", "", "", ACME, "2026-03-10", "", "停产"],  # row 13
        ["B13", "pin_date", "SJ-2", "", "", "2026-03-10", "", "已排除"],  # row 14
        ["B14", "pin_date", "XF-2", "", "", "2026-05-13", "", "定于13日"],  # row 15
        ["B15", "pin_date", "XF-2", "", "", "2026-05-14", "", "又定于14日"],  # row 16
        ["B16", "pin_date", "YY-1:SJ", "", "", "2026-06-10", "", "预约改期"],  # row 17: an appointment's task
    ]
    demands = [
        ["SJ-2", *DEMAND],
        ["SJ-3", "SJ", ACME, "危险化学品经营检查", "triggered", "2026-05-01", "2026-06-30", "30", "", "", ""],
        ["SJ-4", "SJ", COOP, "食品经营检查", "campaign", "2026-02-01", "2026-04-30", "30", "", "", ""],
        ["XF-3", "XF", SHOP, "消防安全检查", "campaign", "2026-01-01", "2026-12-31", "30", "", "", ""],
    ]
    tables = with_overrides(rows, demands)
    tables["history"].append([COOP, "SJ", "2026-01-05", "", "key"])
    tables["appointments"] = [
        ["appointment_id", "uscc", "window_start", "window_end", "dept_ids", "topic", "direction", "fold_due"],
        ["YY-1", COOP, "2026-06-01", "2026-06-30", "SJ", "食品安全指导", "enterprise", "false"],
    ]
    write_dataset(tmp_path / "ds", tables)
    (tmp_path / "s.toml").write_text(SCENARIO.format(seed=1, extra="quiet_days = [1, 3]\n"))
    result = CliRunner().invoke(app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "plan")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not (tmp_path / "plan").exists()
    said = " ".join(result.output.split())
    expected = {
        2: "outside the task's window",
        3: "not an official working day",
        4: "quiet day",
        5: "two enterprises",
        6: "share no working day",
        8: "holds this pair together",
        9: "at most one check a year",
        10: "not a task of this plan",
        11: "lead department must check in the visit",
        12: "observation period",
        14: "excludes this date",
        16: "already pins this task to 2026-05-13",
        17: "the appointment's",
    }
    for row, rule in expected.items():
        assert f"row {row}," in said and rule in said, (row, rule, result.output)
    assert not any(f"row {n}," in said for n in (7, 13, 15))  # the consistent rows are not blamed
    checked = CliRunner().invoke(app, ["validate", str(tmp_path / "s.toml")])  # the same, without planning
    assert checked.exit_code == 2 and all(f"row {row}," in " ".join(checked.output.split()) for row in expected)


def test_an_override_row_fills_the_cells_its_action_needs(tmp_path):
    """A pin without a date, a cell its action does not use, no note: load errors with their rows."""
    rows = [
        ["C1", "pin_date", "SJ-1", "", "", "", "", "缺日期"],
        ["C2", "exclude_date", "SJ-1", "", ACME, "2026-03-10", "", "多填任务"],
        ["C3", "固定日期", "SJ-1", "", "", "2026-03-10", "", ""],
    ]
    write_dataset(tmp_path / "ds", with_overrides(rows))
    with pytest.raises(InputError) as error:
        load_dataset(tmp_path / "ds")
    found = {(p.row, p.column) for p in error.value.errors}
    assert found == {(2, "date"), (3, "task_id"), (4, "note")}


def test_an_override_only_capacity_prevents_leaves_its_task_unscheduled_with_the_reason(tmp_path):
    """SJ-1 pinned to a working day both SJ inspectors are on leave: unscheduled, reason code ``override``
    and a sentence naming the override; the plan stays valid."""
    rows = [["P1", "pin_date", "SJ-1", "", "", "2026-03-17", "", "会商定于3月17日"]]
    tables = with_overrides(rows)
    tables["leave"] += [["SJ001", "2026-03-17", "2026-03-17"], ["SJ002", "2026-03-17", "2026-03-17"]]
    write_dataset(tmp_path / "ds", tables)
    plan, *_ = planned(tmp_path)
    assert plan.broken == []
    out = plan.tables.unscheduled.set_index("task_id")
    assert out.at["SJ-1", "reason_code"] == "override"
    assert "P1" in out.at["SJ-1", "reason"] and "人工研判修正" in out.at["SJ-1", "reason"]


def test_without_overrides_visits_name_their_lead_department(tmp_path: Path):
    """No overrides: the lead department is the one with most minutes on site, and no visit is marked."""
    write_dataset(tmp_path / "ds", valid_tables())
    plan, *_ = planned(tmp_path)
    visits = plan.tables.visits
    assert visits["lead_dept_id"].notna().all()
    assert all(len(ids) == 0 for ids in visits["override_ids"])


def test_overrides_drawn_from_a_generated_plan_are_kept_or_refused(tmp_path):
    """A generated tiny county: pins, held and forbidden pairs, lead departments and excluded dates
    taken from its plan. Those that contradict a rule are refused with their rows; under the rest
    the plan is valid (the checker's rule ``override`` included) and every one is honoured."""
    (tmp_path / "ds").mkdir()
    write_tables(generate_dataset("tiny", 3), tmp_path / "ds", ".parquet")
    plan, *_ = planned(tmp_path, seed=3)
    t = plan.tables
    placed = t.visit_tasks.merge(t.visits[["visit_id", "date", "uscc"]], on="visit_id")
    windows = t.tasks.set_index("task_id")[["window_start", "window_end"]]
    rows = []
    for n, (task_id, date) in enumerate(placed[["task_id", "date"]].iloc[::9].head(6).itertuples(index=False)):
        later = min(date + dt.timedelta(days=7), windows.at[task_id, "window_end"])
        rows.append([f"P{n}", "pin_date", task_id, "", "", later.isoformat(), "", "改期"])
    tasks_of = placed.groupby("visit_id")["task_id"].apply(list)
    for n, ids in enumerate(tasks_of[tasks_of.map(len) >= 2].head(4)):
        rows.append([f"F{n}", "forbid_together", ids[0], ids[1], "", "", "", "分开检查"])
    for n, (_, firm) in enumerate(placed.groupby("uscc")):  # two visits' tasks whose windows meet
        pairs = [
            (a.task_id, b.task_id)
            for a in firm.itertuples()
            for b in firm.itertuples()
            if a.visit_id < b.visit_id
            and max(windows.at[a.task_id, "window_start"], windows.at[b.task_id, "window_start"])
            <= min(windows.at[a.task_id, "window_end"], windows.at[b.task_id, "window_end"])
        ]
        if pairs and sum(r[1] == "together_with" for r in rows) < 4:
            rows.append([f"T{n}", "together_with", *pairs[0], "", "", "", "同次"])
    for n, (uscc, date) in enumerate(t.visits[["uscc", "date"]].iloc[1::11].head(4).itertuples(index=False)):
        rows.append([f"X{n}", "exclude_date", "", "", uscc, date.isoformat(), "", "停产"])
    for n, ids in enumerate(tasks_of[tasks_of.map(len) >= 2].tail(2)):
        dept = t.visit_tasks.set_index("task_id").at[ids[-1], "dept_id"]
        rows.append([f"L{n}", "lead_dept", ids[-1], "", "", "", dept, "牵头"])
    write_csv(tmp_path / "ds", "overrides", [HEADER, *rows])
    try:
        planned(tmp_path, seed=3)
        refused = set()
    except InputError as error:
        refused = {p.row for p in error.errors}
        assert all(p.file.endswith("overrides.csv") and p.row for p in error.errors)
    kept = [r for n, r in enumerate(rows, start=2) if n not in refused]
    assert len(kept) >= 10
    write_csv(tmp_path / "ds", "overrides", [HEADER, *kept])
    plan, dataset, scenario, workdays = planned(tmp_path, seed=3)
    assert plan.broken == []
    assert check_plan(plan.tables, dataset, scenario, workdays, plan.draw.draws) == []
    marked = {i for ids in plan.tables.visits["override_ids"] for i in ids}
    placed_ids = set(plan.tables.visit_tasks["task_id"])
    for override_id, _, task_id, *_ in kept:
        assert override_id in marked or task_id not in placed_ids


def test_the_exact_model_keeps_a_forbidden_pair_apart_within_the_cap(tmp_path):
    """At a positive-list enterprise (一年最多查一次) two capped checks that would share its one
    visit are forbidden together: the per-enterprise CP-SAT model keeps one, and the other says
    the cap and the override; a held pair there shares the one visit."""
    campaign = ["campaign", "2026-03-02", "2026-04-30", "30", "", "", ""]
    demands = [
        ["SJ-5", "SJ", COOP, "食品经营检查", *campaign],
        ["XF-5", "XF", COOP, "消防安全检查", *campaign],
        ["XF-6", "XF", COOP, "投诉核查", "triggered", "2026-03-02", "2026-04-30", "30", "", "", ""],
    ]
    rows = [
        ["K1", "forbid_together", "SJ-5", "XF-5", "", "", "", "分开检查"],
        ["K2", "together_with", "SJ-5", "XF-6", "", "", "", "投诉一并核查"],
    ]
    write_dataset(tmp_path / "ds", with_overrides(rows, demands))
    plan, *_ = planned(tmp_path)
    assert plan.broken == [] and plan.kpis["exact_models"] >= 1
    where = dict(zip(plan.tables.visit_tasks["task_id"], plan.tables.visit_tasks["visit_id"]))
    out = plan.tables.unscheduled.set_index("task_id")
    assert where["SJ-5"] == where["XF-6"] and "XF-5" not in where
    assert out.at["XF-5", "reason_code"] == "override" and "K1" in out.at["XF-5", "reason"]


def test_a_held_pair_with_a_department_that_plans_alone_is_refused(tmp_path):
    """[joint] solo_departments: such a department shares no visit, so no override may hold it in one."""
    write_dataset(tmp_path / "ds", with_overrides([["S1", "together_with", "SJ-1", "XF-1", "", "", "", "同次"]]))
    with pytest.raises(InputError) as error:
        planned(tmp_path, extra='[joint]\nsolo_departments = ["XF"]\n')
    (problem,) = error.value.errors
    assert (problem.row, problem.column) == (2, "other_task_id") and "on its own" in problem.rule


def test_an_override_of_an_off_site_task_is_refused(tmp_path):
    """An off-site check makes no visit to shape (rules.offsite); its override is refused with its row."""
    tables = with_overrides([["B1", "pin_date", "SJ-1", "", "", "2026-03-10", "", "会商"]])
    tables["demands"] = [
        [*row, "mode" if n == 0 else ("offsite" if row[0] == "SJ-1" else "onsite")]
        for n, row in enumerate(tables["demands"])
    ]
    write_dataset(tmp_path / "ds", tables)
    (tmp_path / "s.toml").write_text(SCENARIO.format(seed=1, extra=""))
    result = CliRunner().invoke(app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "plan")])
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "row 2," in said and "off-site check" in said, result.output
    assert not (tmp_path / "plan").exists()
