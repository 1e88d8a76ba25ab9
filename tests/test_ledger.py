"""planner.ledger (一企一档): the ledger counts history + plan visits, carries results down the
lineage, raises each alert on its case and not on the case just short of it; outcome results are
validated by row and column; verify recomputes ledger.parquet and catches an edited one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.actuals import load_actuals
from planner.cli import app
from planner.dataset import load_dataset
from planner.export import read_plan_folder
from planner.ledger import (
    ALERT_LABELS,
    LEDGER_COLUMNS,
    build_ledger,
    display_width,
    ledger_alerts,
    ledger_lines,
    ledger_summary,
    new_alerts,
)
from planner.pipeline import make_plan, write_plan
from planner.problems import InputError
from planner.scenario import load_scenario
from planner.verify import verify_plan
from planner.workdays import work_calendar
from tests.conftest import ACME, COOP, SHOP, valid_tables, write_csv, write_dataset

SCENARIO = 'name = "台账"\ndataset = "ds"\nseed = 7\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'
AS_OF = dt.date(2026, 3, 16)
runner = CliRunner()


def small_county(root: Path) -> Path:
    """The conftest county with history in the plan's year (before its visits) and a scenario."""
    tables = valid_tables()
    tables["history"] += [[ACME, "XF", "2026-01-05", "XF001", "campaign"], [SHOP, "SJ", "2026-01-06", "", "key"]]
    write_dataset(root / "ds", tables)
    (root / "s.toml").write_text(SCENARIO, encoding="utf-8")
    return root / "s.toml"


@pytest.fixture(scope="module")
def lineage(tmp_path_factory) -> dict:
    """A first plan of the small county and its re-optimisation at AS_OF with results, by the CLI."""
    root = tmp_path_factory.mktemp("ledger")
    scenario_file = small_county(root)
    scenario = load_scenario(scenario_file)
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    write_plan(plan, root / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    placed = plan.tables.visit_tasks.merge(plan.tables.visits[["visit_id", "date"]], on="visit_id")
    before = placed[pd.to_datetime(placed["date"]).dt.date < AS_OF].sort_values("task_id")
    assert len(before), "the small county's plan has a visit before AS_OF"
    task, day = before["task_id"].iloc[0], pd.Timestamp(before["date"].iloc[0]).date()
    deadline = (day + dt.timedelta(days=30)).isoformat()
    (root / "actuals").mkdir()
    write_csv(
        root / "actuals",
        "outcomes",
        [
            ["task_id", "status", "date", "result", "rectify_by", "findings"],
            [task, "done", day.isoformat(), "rectify", deadline, "灭火器过期"],
        ],
    )
    done = runner.invoke(
        app,
        [
            "reoptimize",
            str(scenario_file),
            "--plan",
            str(root / "plan"),
            "--actuals",
            str(root / "actuals"),
            "--as-of",
            AS_OF.isoformat(),
            "--out",
            str(root / "plan-03"),
            "-q",
        ],
    )
    assert done.exit_code == 0, done.output
    return {"root": root, "plan": plan, "dataset": dataset, "task": task, "day": day, "deadline": deadline}


def test_ledger_counts_the_history_and_plan_visits(lineage):
    """Per enterprise, year and department, the ledger's visits are history's (dates of the year)
    plus the plan's visits, each a distinct date; a first plan has nothing done."""
    ledger = pd.read_parquet(lineage["root"] / "plan/ledger.parquet")
    assert list(ledger.columns) == LEDGER_COLUMNS
    t = lineage["plan"].tables
    placed = t.visit_tasks.merge(t.visits[["visit_id", "uscc", "date"]], on="visit_id")
    history = lineage["dataset"].history
    history = history[history["date"].dt.year == 2026]
    want = {
        (u, d): set()
        for u, d in list(zip(placed["uscc"], placed["dept_id"])) + list(zip(history["uscc"], history["dept_id"]))
    }
    for u, d, day in zip(placed["uscc"], placed["dept_id"], pd.to_datetime(placed["date"]).dt.date):
        want[(u, d)].add(("planned", day))
    for u, d, day in zip(history["uscc"], history["dept_id"], history["date"].dt.date):
        want[(u, d)].add(("history", day))
    summary = ledger_summary(ledger, {})
    assert len(summary) == len(want)
    for row in summary.to_dict("records"):
        days = want[(row["uscc"], row["dept_id"])]
        assert row["history"] == len({d for s, d in days if s == "history"})
        assert row["planned"] == len({d for s, d in days if s == "planned"})
        assert row["done"] == 0
    assert set(ledger["source"]) == {"history", "planned"}
    assert (ledger.loc[ledger["source"] == "planned", "visit_code"].notna()).all()


def test_a_reoptimised_ledger_has_the_done_checks_and_their_results(lineage):
    """After a re-optimisation the visits before as-of are done, and the task reported with a
    result carries it (结果, 整改期限, findings); the planned visits after as-of stay planned."""
    ledger = pd.read_parquet(lineage["root"] / "plan-03/ledger.parquet")
    dates = pd.to_datetime(ledger["date"]).dt.date
    plan_rows = ledger["source"] != "history"
    assert ((ledger.loc[plan_rows, "source"] == "done") == (dates[plan_rows] < AS_OF)).all()
    row = ledger[ledger["task_id"] == lineage["task"]].iloc[0]
    assert (row["source"], row["result"], row["findings"]) == ("done", "rectify", "灭火器过期")
    assert row["rectify_by"].isoformat() == lineage["deadline"]
    assert ledger.loc[ledger["task_id"] != lineage["task"], "result"].isna().all()


def test_the_ledger_command_fits_80_columns_and_names_the_result(lineage):
    """planner ledger PLAN --uscc: the enterprise's lines, none wider than 80 columns, with its result."""
    ledger = pd.read_parquet(lineage["root"] / "plan-03/ledger.parquet")
    uscc = ledger.loc[ledger["task_id"] == lineage["task"], "uscc"].iloc[0]
    shown = runner.invoke(app, ["ledger", str(lineage["root"] / "plan-03"), "--uscc", uscc])
    assert shown.exit_code == 0, shown.output
    assert "责令整改（整改期限 " + lineage["deadline"] in shown.output
    assert all(display_width(line) <= 80 for line in shown.output.splitlines())
    everyone = runner.invoke(app, ["ledger", str(lineage["root"] / "plan-03")])
    assert everyone.exit_code == 0 and all(display_width(line) <= 80 for line in everyone.output.splitlines())


def test_verify_passes_a_fresh_plan_and_catches_an_edited_ledger(lineage, tmp_path):
    """verify recomputes ledger.parquet: a fresh first plan and its re-optimisation verify; a
    ledger edited with the manifest's hash of it rewritten is caught by the ledger check."""
    result = verify_plan(lineage["root"] / "plan", replan=False)
    assert result.ok and "ledger" in result.checked, result.summary()
    forged = tmp_path / "forged"
    shutil.copytree(lineage["root"] / "plan-03", forged)
    ledger = pd.read_parquet(forged / "ledger.parquet")
    ledger.loc[ledger["task_id"] == lineage["task"], "result"] = "clear"
    ledger.to_parquet(forged / "ledger.parquet", index=False)
    manifest = json.loads((forged / "manifest.json").read_text(encoding="utf-8"))
    manifest["outputs"]["ledger.parquet"] = hashlib.sha256((forged / "ledger.parquet").read_bytes()).hexdigest()
    (forged / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    result = verify_plan(forged, replan=False)
    assert {f.check for f in result.errors} == {"ledger"}, result.summary()  # the rest of the plan verifies
    assert "should be" in result.of("ledger")[0].message


def test_a_second_reoptimisation_keeps_the_earlier_results(lineage, tmp_path):
    """The results of an earlier month travel down the lineage: a re-optimisation of the
    re-optimised plan, with no outcome for that task, still shows its result."""
    root = lineage["root"]
    actuals = tmp_path / "actuals"
    actuals.mkdir()
    write_csv(actuals, "outcomes", [["task_id", "status", "date"]])
    args = ["reoptimize", str(root / "s.toml"), "--plan", str(root / "plan-03"), "--actuals", str(actuals)]
    done = runner.invoke(app, [*args, "--as-of", "2026-06-01", "--out", str(tmp_path / "plan-06"), "-q"])
    assert done.exit_code == 0, done.output
    ledger = pd.read_parquet(tmp_path / "plan-06/ledger.parquet")
    row = ledger[ledger["task_id"] == lineage["task"]].iloc[0]
    assert (row["source"], row["result"]) == ("done", "rectify")
    assert verify_plan(tmp_path / "plan-06", replan=False).ok


# ------------------------------------------------------------------ alerts on constructed ledgers


def rows(*checks: tuple) -> pd.DataFrame:
    """A ledger of (uscc, date, dept_id, capped, positive_list) checks, all planned."""
    tasks = pd.DataFrame(
        {
            "task_id": [f"T{i}" for i in range(len(checks))],
            "uscc": [c[0] for c in checks],
            "dept_id": [c[2] for c in checks],
            "kind": ["key" if c[3] else "triggered" for c in checks],
            "item": "检查",
        }
    )
    visits = pd.DataFrame(
        {
            "visit_id": tasks["task_id"],
            "visit_code": tasks["task_id"],
            "uscc": tasks["uscc"],
            "date": [dt.date.fromisoformat(c[1]) for c in checks],
        }
    )
    visit_tasks = tasks[["task_id", "dept_id", "kind", "item"]].assign(visit_id=tasks["task_id"])
    enterprises = pd.DataFrame({"uscc": [ACME, COOP, SHOP], "positive_list": [False, True, False]})
    history = pd.DataFrame({"uscc": [], "dept_id": [], "date": pd.to_datetime([]), "kind": []})
    tables = {"tasks": tasks, "visits": visits, "visit_tasks": visit_tasks}
    return build_ledger(tables, history, enterprises, range(2026, 2027))


SCENARIO_KEYS = {
    "caps": {"per_dept_per_year": 2, "positive_list_per_year": 1},
    "alerts": {"repeat_days": 7, "frequent_days": 30, "max_departments": 3},
}


def alerts(ledger: pd.DataFrame) -> list[tuple[str, str]]:
    found = ledger_alerts(ledger, SCENARIO_KEYS)
    return list(zip(found["uscc"], found["alert"]))


def test_two_visits_within_7_days_is_a_repeat_and_8_to_30_days_frequent():
    """重复检查 at 7 days, 高频检查 from 8 to 30 days, nothing at 31 (different departments, uncapped)."""
    assert alerts(rows((ACME, "2026-03-02", "SJ", False, 0), (ACME, "2026-03-09", "XF", False, 0))) == [
        (ACME, "repeat")
    ]
    assert alerts(rows((ACME, "2026-03-02", "SJ", False, 0), (ACME, "2026-03-10", "XF", False, 0))) == [
        (ACME, "frequent")
    ]
    assert alerts(rows((ACME, "2026-03-02", "SJ", False, 0), (ACME, "2026-04-01", "XF", False, 0))) == [
        (ACME, "frequent")
    ]
    assert alerts(rows((ACME, "2026-03-02", "SJ", False, 0), (ACME, "2026-04-02", "XF", False, 0))) == []
    found = ledger_alerts(rows((ACME, "2026-03-02", "SJ", False, 0), (ACME, "2026-03-05", "XF", False, 0)), {})
    assert found["alert"].tolist() == ["repeat"] and "2026-03-02、2026-03-05" in found["message"].iloc[0]


def test_an_appointment_visit_raises_no_alert():
    """A visit the enterprise asked for (预约指导) is service, not an inspection: two visits three
    days apart warn of a repeat, but not when one of them is the appointment."""
    ledger = rows((ACME, "2026-03-02", "SJ", False, 0), (ACME, "2026-03-05", "XF", False, 0))
    assert alerts(ledger) == [(ACME, "repeat")]
    ledger.loc[ledger["task_id"] == "T1", "kind"] = "appointment"
    assert alerts(ledger) == []


def test_new_alerts_are_only_those_the_new_plan_makes():
    """Before a re-optimisation's new tasks go ahead: the alerts its plan makes and its parent's had
    not — a new close pair, a cap newly reached — and not the parent's own (still there)."""
    parent = rows((ACME, "2026-03-02", "SJ", False, 0), (ACME, "2026-03-05", "XF", False, 0))
    child = rows(
        (ACME, "2026-03-02", "SJ", False, 0),
        (ACME, "2026-03-05", "XF", False, 0),  # the parent's repeat pair: not new
        (SHOP, "2026-05-04", "SJ", True, 0),
        (SHOP, "2026-05-20", "SJ", True, 0),  # a new frequent pair, and SJ's cap of 2 reached
    )
    fresh = new_alerts(parent, child, SCENARIO_KEYS)
    assert sorted(zip(fresh["uscc"], fresh["alert"])) == [(SHOP, "dept_at_cap"), (SHOP, "frequent")]
    assert new_alerts(child, child, SCENARIO_KEYS).empty
    assert len(new_alerts(None, child, SCENARIO_KEYS)) == len(ledger_alerts(child, SCENARIO_KEYS))


def test_a_positive_list_firm_visited_twice_of_any_kind():
    """正面清单企业多次检查: a second visit, even a complaint check, flags it; one visit does not."""
    assert alerts(rows((COOP, "2026-03-02", "SJ", True, 0))) == []
    assert alerts(rows((COOP, "2026-03-02", "SJ", True, 0), (COOP, "2026-09-01", "XF", False, 0))) == [
        (COOP, "positive_list_repeat")
    ]
    assert alerts(rows((ACME, "2026-03-02", "SJ", True, 0), (ACME, "2026-09-01", "XF", False, 0))) == []


def test_a_department_at_its_cap():
    """部门已达年度检查上限: two capped visits of one department (cap 2); exempt visits do not count."""
    at_cap = rows((ACME, "2026-03-02", "SJ", True, 0), (ACME, "2026-09-01", "SJ", True, 0))
    assert alerts(at_cap) == [(ACME, "dept_at_cap")]
    assert ledger_alerts(at_cap, SCENARIO_KEYS)["dept_id"].tolist() == ["SJ"]
    assert alerts(rows((ACME, "2026-03-02", "SJ", True, 0), (ACME, "2026-09-01", "SJ", False, 0))) == []
    summary = ledger_summary(at_cap, SCENARIO_KEYS)
    assert summary[["capped", "dept_cap", "planned"]].values.tolist() == [[2, 2, 2]]


def test_more_departments_than_the_threshold():
    """多部门检查: four departments in a year against a threshold of 3; three do not."""
    three = [(ACME, f"2026-0{m}-02", d, False, 0) for m, d in zip((2, 5, 8), ("SJ", "XF", "YJ"))]
    assert alerts(rows(*three)) == []
    assert alerts(rows(*three, (ACME, "2026-11-02", "HB", False, 0))) == [(ACME, "many_departments")]
    loose = SCENARIO_KEYS | {"alerts": {"repeat_days": 7, "frequent_days": 30, "max_departments": 4}}
    assert ledger_alerts(rows(*three, (ACME, "2026-11-02", "HB", False, 0)), loose).empty


def test_the_ledger_lines_show_each_alert_by_name():
    """The console names every alert of an enterprise under it."""
    ledger = rows((COOP, "2026-03-02", "SJ", True, 0), (COOP, "2026-03-04", "SJ", True, 0))
    lines = ledger_lines(ledger, SCENARIO_KEYS, {COOP: "乙合作社"}, {"SJ": "市场监管局"})
    text = "\n".join(lines)
    for code in ("repeat", "positive_list_repeat", "dept_at_cap"):
        assert f"预警·{ALERT_LABELS[code]}" in text
    assert lines[0].startswith("乙合作社") and "市场监管局" in text


# ------------------------------------------------------------------ results in the actuals


def test_results_are_validated_by_row_and_column(tmp_path):
    """A result without a task done, findings without a result, a rectify result without its
    deadline, a deadline not after the date, a deadline with another result, an unknown result:
    each an error naming its row and column, all at once."""
    rows_ = [
        ["task_id", "status", "date", "result", "rectify_by", "findings", "points"],
        ["A", "done", "2026-03-02", "责令整改", "2026-04-01", "灭火器过期", ""],  # row 2: fine
        ["B", "failed", "", "clear", "", "", ""],  # row 3
        ["C", "done", "2026-03-02", "", "", "消防通道堵塞", ""],  # row 4
        ["D", "done", "2026-03-02", "rectify", "", "", ""],  # row 5
        ["E", "done", "2026-03-02", "rectify", "2026-03-02", "", ""],  # row 6
        ["F", "done", "2026-03-02", "case", "2026-05-01", "", "-5"],  # row 7
        ["G", "done", "2026-03-02", "maybe", "", "", ""],  # row 8
        ["H", "done", "2026-03-02", "", "", "", "3"],  # row 9
    ]
    write_csv(tmp_path, "outcomes", rows_)
    with pytest.raises(InputError) as raised:
        load_actuals(tmp_path)
    found = {(p.row, p.column) for p in raised.value.errors}
    assert found == {
        (3, "result"),
        (4, "findings"),
        (5, "rectify_by"),
        (6, "rectify_by"),
        (7, "rectify_by"),
        (8, "result"),
        (9, "points"),
    }, raised.value.errors
    assert all(p.file.endswith("outcomes.csv") for p in raised.value.errors)


def test_an_outcome_with_results_loads_with_chinese_headers(tmp_path):
    """结果/整改期限/检查发现/记分 headers and Chinese result names load to the canonical values."""
    write_csv(
        tmp_path,
        "outcomes",
        [
            ["任务编号", "状态", "日期", "结果", "整改期限", "检查发现", "记分"],
            ["A", "已完成", "2026-03-02", "责令整改", "2026-04-01", "灭火器过期", "-2"],
            ["B", "已完成", "2026-03-03", "未发现问题", "", "", ""],
        ],
    )
    outcomes = load_actuals(tmp_path).outcomes
    assert outcomes["result"].tolist() == ["rectify", "clear"]
    assert outcomes["points"].iloc[0] == -2


def test_a_blank_date_is_checked_against_the_planned_date(lineage, tmp_path):
    """A deadline with a blank outcome date must come after the planned date (reoptimize exits 2)."""
    root = lineage["root"]
    actuals = tmp_path / "actuals"
    actuals.mkdir()
    early = (lineage["day"] - dt.timedelta(days=1)).isoformat()
    write_csv(
        actuals,
        "outcomes",
        [["task_id", "status", "result", "rectify_by"], [lineage["task"], "done", "rectify", early]],
    )
    args = ["reoptimize", str(root / "s.toml"), "--plan", str(root / "plan"), "--actuals", str(actuals)]
    done = runner.invoke(app, [*args, "--as-of", AS_OF.isoformat(), "--out", str(tmp_path / "out"), "-q"])
    assert done.exit_code == 2, done.output
    assert "row 2, column rectify_by" in done.output and "planned date" in done.output
    assert not (tmp_path / "out").exists()


def test_the_workbook_has_the_ledger_sheets(lineage):
    """plan.xlsx ends with 企业检查台账 and 检查预警 (a re-optimised plan: then the 月会商 agenda's sheets)."""
    import openpyxl

    book = openpyxl.load_workbook(lineage["root"] / "plan-03/plan.xlsx", read_only=True)
    assert book.sheetnames[-5:] == [
        "企业检查台账",
        "检查预警",
        "会商-放开的检查",
        "会商-有风险的法定任务",
        "会商-合并机会",
    ]
    headers = next(book["企业检查台账"].iter_rows(max_row=1, values_only=True))
    assert {"企业名称", "统一社会信用代码", "已检查", "计划检查", "下次计划日期", "检查结果", "预警"} <= set(headers)
    assert read_plan_folder(lineage["root"] / "plan-03").kpis  # the folder still reads as a plan
