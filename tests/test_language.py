"""Officials read Chinese: no English prose in what a plan shows them; ``--lang en`` for English.

A generated county with staff cut to a third (so that every family of reason appears) is planned
in each language and re-optimised; the words a person reads are scanned: plan.xlsx's cells,
report.html's text (the inlined chart library aside), unscheduled.parquet's and changes.parquet's
reasons. Codes (USCCs, ids, visit codes, file names, the key column of 总览) are not prose.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planner.actuals import load_actuals
from planner.demo import generate_actuals, generate_dataset
from planner.export import export_plan, read_plan_folder
from planner.outputs import write_tables
from planner.pipeline import make_plan, write_plan
from planner.reoptimize import reoptimize
from planner.rules import reason_codes
from planner.workdays import work_calendar
from tests.test_plan import planned

#: an English word: 4+ letters with a lower-case one, not part of an id, a path, a file name
#: (plan.xlsx) or a scenario section ([alerts])
WORD = re.compile(r"(?<![\w.:/\\\[-])[A-Za-z]*[a-z][A-Za-z]*(?![\w.:/\\\]-])")
CJK = re.compile(r"[\u4e00-\u9fff]+")
#: columns of ids the inputs give (the KPIs' keys, the sampling plan's joint groups)
ID_COLUMNS = ("键", "代码", "联合抽查组")
STARTED = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
AS_OF = dt.date(2026, 6, 1)


def with_hard_demands(demands: pd.DataFrame) -> pd.DataFrame:
    """Three more demands that no plan can place: a window in the Spring Festival holidays, one
    before the horizon, and a check longer than any inspector's day."""
    first = demands.iloc[0]
    rows = [
        ("LANG-1", date(2026, 2, 16), date(2026, 2, 20), 60),
        ("LANG-2", date(2025, 11, 3), date(2025, 11, 28), 60),
        ("LANG-3", date(2026, 4, 1), date(2026, 4, 30), 480),
    ]
    extra = pd.DataFrame(
        [
            first.to_dict() | {"task_id": t, "window_start": a, "window_end": b, "duration_min": m, "kind": "key"}
            for t, a, b, m in rows
        ]
    )
    return pd.concat([demands, extra.astype(demands.dtypes.to_dict())], ignore_index=True)


def english_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if len(w) >= 4]


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """A generated county (demo-data tiny) with a third of its inspectors, planned in Chinese and
    in English, and the Chinese plan re-optimised at AS_OF: (folder, zh plan, en plan, changes)."""
    folder = tmp_path_factory.mktemp("language")
    (folder / "ds").mkdir()
    tables = generate_dataset("tiny", 5)
    tables["demands"] = with_hard_demands(tables["demands"])
    write_tables(tables, folder / "ds", ".parquet")
    plan, dataset, scenario, _ = planned(folder, seed=5, extra="quiet_days = [1, 10]\n[staff]\nscale = 0.2\n")
    write_plan(plan, folder / "zh", dataset, scenario, STARTED)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    english = make_plan(dataset, scenario, calendar, lang="en")
    write_plan(english, folder / "en", dataset, scenario, STARTED)
    t = plan.tables
    (folder / "actuals").mkdir()
    actuals = generate_actuals(t.tasks, t.visits, t.visit_tasks, t.crews, AS_OF, 5, 6, 2)
    write_tables(actuals, folder / "actuals", ".csv")
    result = reoptimize(
        dataset, scenario, calendar, read_plan_folder(folder / "zh"), load_actuals(folder / "actuals"), AS_OF
    )
    return folder, plan, english, result, dataset


def workbook_prose(path: Path) -> list[tuple[str, str]]:
    """(sheet, word) of every English word in plan.xlsx's cells but 总览's key column."""
    found = []
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, ())
        skip = {i for i, h in enumerate(header) if h in ID_COLUMNS}
        for row in rows:
            for i, cell in enumerate(row):
                if isinstance(cell, str) and i not in skip:
                    found += [(sheet.title, w) for w in english_words(cell)]
    return found


def report_text(path: Path) -> str:
    """report.html's text, scripts and styles aside."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def report_prose(path: Path) -> list[str]:
    return english_words(report_text(path))


def test_the_county_shows_many_kinds_of_reason(county):
    """The case is hard enough to try the sentences: reasons of several rules, changes of several kinds."""
    _, plan, _, result, _ = county
    codes = set(reason_codes(plan.tables.unscheduled))
    assert {"working_day", "window", "day_length", "staff_capacity", "cap_per_dept"} <= codes
    assert result.changes["change"].nunique() >= 4


def test_no_english_prose_in_a_chinese_plan(county):
    """plan.xlsx, report.html, unscheduled.parquet and changes.parquet hold no English word."""
    folder, plan, _, result, _ = county
    assert workbook_prose(folder / "zh/plan.xlsx") == []
    assert report_prose(folder / "zh/report.html") == []
    for reason in pd.read_parquet(folder / "zh/unscheduled.parquet")["reason"]:
        assert english_words(reason) == [], reason
    for reason in result.changes["reason"]:
        assert english_words(reason) == [], reason


def test_an_english_plan_says_its_reasons_in_english(county):
    """--lang en: the same reasons, codes equal, sentences with no Chinese but names."""
    folder, plan, english, _, dataset = county
    names = set(dataset.departments["name"]) | set(dataset.inspectors["name"])
    zh, en = plan.tables.unscheduled, english.tables.unscheduled
    assert zh["task_id"].tolist() == en["task_id"].tolist()
    assert zh["reason_code"].tolist() == en["reason_code"].tolist()
    for reason in en["reason"]:
        assert set(CJK.findall(reason)) <= names, reason
    # the language is recorded, and the plan is the same plan
    assert '"language": "en"' in (folder / "en/manifest.json").read_text()
    pd.testing.assert_frame_equal(plan.tables.visits, english.tables.visits)


def input_names(folder: Path) -> list[str]:
    """Every text value of the dataset's tables that holds Chinese: names of enterprises,
    departments, inspectors, townships and items (names, not prose), longest first."""
    found: set[str] = set()
    for path in (folder / "ds").glob("*.parquet"):
        for column in (table := pd.read_parquet(path)).columns:
            found |= {v for v in table[column].dropna().astype(str) if CJK.search(v)}
    return sorted(found, key=len, reverse=True)


def chinese_but_names(text: str, names: list[str]) -> list[str]:
    for name in names:
        text = text.replace(name, " ")
    return CJK.findall(text)


def test_an_english_plan_shows_english_in_its_workbook_and_report(county, tmp_path):
    """--lang en: plan.xlsx (sheet names, headers, every cell) and report.html (its text and its
    charts' words, the inlined chart library aside) hold no Chinese but the inputs' names;
    ``planner verify`` rebuilds both, byte for byte, in the manifest's language; ``planner export``
    writes in it."""
    from planner.verify import verify_plan

    folder = county[0]
    names = input_names(folder)
    book = openpyxl.load_workbook(folder / "en/plan.xlsx", read_only=True)
    assert book.sheetnames[0] == "Overview" and "Inspection alerts" in book.sheetnames
    found = []
    for sheet in book.worksheets:
        found += chinese_but_names(sheet.title, names)
        for row in sheet.iter_rows(values_only=True):
            found += [(sheet.title, w) for c in row if isinstance(c, str) for w in chinese_but_names(c, names)]
    assert found == []
    assert book["Inspection alerts"].max_row > 1  # the ledger's alerts are there, in English
    page = (folder / "en/report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page
    charts = page[page.index("</head>") :]  # plotly.js is inlined in the head
    assert chinese_but_names(html.unescape(charts), names) == []
    assert "Key figures" in report_text(folder / "en/report.html")
    result = verify_plan(folder / "en", folder / "ds")
    assert result.ok and {"workbook", "report"} <= set(result.checked), result.summary()
    # planner export writes in the plan's recorded language, a slice's scope rows too
    out = tmp_path / "by-dept"
    export_plan(folder / "en", out, "xlsx", by="dept", dataset=folder / "ds")
    paths = sorted(out.glob("*.xlsx"))
    assert len(paths) >= 2
    for path in paths:
        sliced = openpyxl.load_workbook(path, read_only=True)
        assert sliced.sheetnames[0] == "Overview"
        cells = [c for s in sliced.worksheets for row in s.iter_rows(values_only=True) for c in row]
        assert [w for c in cells if isinstance(c, str) for w in chinese_but_names(c, names)] == [], path
    assert openpyxl.load_workbook(folder / "zh/plan.xlsx", read_only=True).sheetnames[0] == "总览"


def test_the_console_speaks_chinese_by_default(county, tmp_path):
    """planner plan and validate, with no English locale: every line the coordinator reads is Chinese
    (KPI keys, stage keys, paths and codes aside); with LANG=en_US the same lines are English."""
    from typer.testing import CliRunner

    from planner.cli import app

    folder = county[0]
    runner = CliRunner()
    chinese = runner.invoke(
        app,
        ["plan", str(folder / "s.toml"), "--out", str(tmp_path / "p")],
        env={"LANG": "zh_CN.UTF-8", "COLUMNS": "200"},
    )
    assert chinese.exit_code == 0, chinese.output
    from planner.schema import TABLES

    columns = {c.name for t in TABLES for c in t.columns}  # a warning names its column by its contract name
    keys = set(pd.read_json(tmp_path / "p/kpis.json", typ="series").index) | columns
    words = [w for line in chinese.stderr.splitlines() for w in english_words(line.replace(str(tmp_path), ""))]
    assert [w for w in words if w not in keys] == [], chinese.stderr
    english = runner.invoke(app, ["validate", str(folder / "s.toml")], env={"LANG": "en_US.UTF-8", "COLUMNS": "200"})
    assert english.exit_code == 0 and "valid" in english.stderr and not CJK.search(english.stderr.split("\n")[-2])


def test_a_reoptimised_plans_agenda_speaks_the_plans_language(county, tmp_path):
    """The 月会商 agenda in plan.xlsx (three sheets), report.html and agenda.md: Chinese words only
    in a Chinese plan; in an English one (--lang en) no Chinese but the inputs' names."""
    folder, _, _, result, dataset = county
    scenario_file = folder / "s.toml"
    from planner.scenario import load_scenario

    scenario = load_scenario(scenario_file)
    parent = {"plan": str(folder / "zh"), "as_of": AS_OF.isoformat(), "freeze_days": 14}
    write_plan(
        result.plan,
        tmp_path / "zh",
        result.dataset,
        scenario,
        STARTED,
        parent=parent,
        extra_tables={"changes": result.changes},
    )
    book = openpyxl.load_workbook(tmp_path / "zh/plan.xlsx", read_only=True)
    assert book.sheetnames[-3:] == ["会商-放开的检查", "会商-有风险的法定任务", "会商-合并机会"]
    rows = {s.title: len(list(s.iter_rows())) - 1 for s in book.worksheets[-3:]}
    assert min(rows.values()) >= 0 and sum(rows.values()) >= 2, rows  # something to read in them
    assert workbook_prose(tmp_path / "zh/plan.xlsx") == []
    assert report_prose(tmp_path / "zh/report.html") == []
    assert english_words((tmp_path / "zh/agenda.md").read_text(encoding="utf-8")) == []

    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    english = reoptimize(
        dataset,
        scenario,
        calendar,
        read_plan_folder(folder / "zh"),
        load_actuals(folder / "actuals"),
        AS_OF,
        lang="en",
    )
    write_plan(
        english.plan,
        tmp_path / "en",
        english.dataset,
        scenario,
        STARTED,
        parent=parent,
        extra_tables={"changes": english.changes},
    )
    names = input_names(folder)
    book = openpyxl.load_workbook(tmp_path / "en/plan.xlsx", read_only=True)
    assert book.sheetnames[-3:] == ["Agenda - released", "Agenda - at risk", "Agenda - merges"]
    found = [
        (sheet.title, w)
        for sheet in book.worksheets[-3:]
        for row in sheet.iter_rows(values_only=True)
        for c in row
        if isinstance(c, str)
        for w in chinese_but_names(c, names)
    ]
    assert found == []
    assert chinese_but_names((tmp_path / "en/agenda.md").read_text(encoding="utf-8"), names) == []
    page = report_text(tmp_path / "en/report.html")
    assert "Monthly review agenda" in page
