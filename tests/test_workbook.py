"""plan.xlsx and `export_plan`: Chinese sheets, safe cells, real dates, slices, atomic output."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planner.codes import uscc_with_check_digit
from planner.dataset import load_dataset
from planner.export import export_plan, neutralise_csv_text, read_plan_folder, slice_rows
from planner.outputs import OutputExistsError
from planner.pipeline import TABLES, make_plan, write_plan
from planner.problems import InputError
from planner.scenario import load_scenario
from planner.workbook import SHEET_SOURCES, SHEETS, Names, overview_sheet, shown_value, write_workbook
from planner.workdays import work_calendar
from planner.xlsx import INT, TEXT, Sheet, write_sheets
from tests.conftest import ACME, COOP, SHOP, valid_tables, write_dataset

DASH = uscc_with_check_digit("91330481MA2B3C4D9")
#: enterprise names a spreadsheet would run as formulas, were they not written as text
HOSTILE = {ACME: '=HYPERLINK("http://x","y")', COOP: "@SUM(1)", SHOP: "+1", DASH: "-1+2"}
HOSTILE_ITEM = "=SUM(A1:A9)"
SCENARIO = 'name = "t"\ndataset = "ds"\nseed = 7\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'
HEADERS = {
    "总览": ["项目", "数值", "说明", "键"],
    "检查计划": [
        "日期",
        "企业名称",
        "统一社会信用代码",
        "乡镇",
        "检查部门",
        "检查事项",
        "任务数",
        "牵头部门",
        "人工修正",
        "检查组",
        "检查人员",
        "开始",
        "结束",
        "检查码",
        "检查编号",
    ],
    "任务明细": [
        "任务编号",
        "检查部门",
        "企业名称",
        "统一社会信用代码",
        "乡镇",
        "检查事项",
        "任务类型",
        "必查",
        "时间窗开始",
        "时间窗结束",
        "现场时长（分钟）",
        "最少人数",
        "可委托",
        "优先级",
        "抽查计划",
        "安排情况",
        "检查日期",
        "开始",
        "检查组",
        "检查码",
        "检查编号",
        "未安排原因",
    ],
    "人员安排": [
        "日期",
        "执法人员编号",
        "姓名",
        "所属部门",
        "检查组",
        "驻地",
        "出发",
        "返回",
        "工作时长（小时）",
        "检查户数",
        "检查企业",
        "同组人员",
        "候选人数",
        "摇号数",
        "重复检查",
    ],
    "路线": [
        "日期",
        "检查组",
        "驻地",
        "顺序",
        "企业名称",
        "统一社会信用代码",
        "乡镇",
        "到达",
        "离开",
        "路途（分钟）",
        "检查码",
        "检查编号",
    ],
    "未排任务": [
        "任务编号",
        "检查部门",
        "企业名称",
        "统一社会信用代码",
        "乡镇",
        "检查事项",
        "任务类型",
        "必查",
        "时间窗开始",
        "时间窗结束",
        "原因类别",
        "原因",
    ],
    "抽查记录": [
        "抽查计划",
        "检查部门",
        "联合抽查组",
        "分层",
        "企业名称",
        "统一社会信用代码",
        "乡镇",
        "随机数",
        "排序",
        "初选",
        "入选",
        "替补对象",
        "替补对象名称",
        "替换原因",
        "年度",
        "随机种子",
    ],
}


def hostile_tables() -> dict[str, list[list[str]]]:
    """The hand-written county with formula-like enterprise names and item, and a task that cannot be placed."""
    tables = valid_tables()
    tables["enterprises"].append([DASH, "", "临江镇", "30.59", "120.73", "", "B", "", "", "", ""])
    for row in tables["enterprises"][1:]:
        row[1] = HOSTILE[row[0]]
    tables["demands"] += [
        ["SJ-2", "SJ", COOP, "食品经营检查", "key", "2026-04-01", "2026-06-30", "60", "2", "false", "1"],
        ["XF-3", "XF", DASH, HOSTILE_ITEM, "followup", "2026-06-01", "2026-07-31", "45", "2", "", ""],
        ["XF-4", "XF", SHOP, "消防安全检查", "key", "2026-02-15", "2026-02-23", "45", "2", "", ""],  # holidays only
    ]
    return tables


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    """A plan folder of the hostile county, written by the pipeline (plan.xlsx not yet among its files)."""
    root = tmp_path_factory.mktemp("county")
    write_dataset(root / "ds", hostile_tables())
    (root / "s.toml").write_text(SCENARIO)
    scenario = load_scenario(root / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    write_plan(plan, root / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return root / "plan"


@pytest.fixture(scope="module")
def workbook(plan_dir, tmp_path_factory) -> tuple[Path, dict[str, pd.DataFrame]]:
    """(plan.xlsx written by write_workbook from the plan folder's tables, those tables)."""
    plan = read_plan_folder(plan_dir)
    path = tmp_path_factory.mktemp("xlsx") / "plan.xlsx"
    names = Names.from_dataset(load_dataset(plan_dir.parent / "ds"))
    write_workbook(
        path,
        plan.tables,
        plan.kpis,
        names,
        scenario=plan.manifest["scenario"],
        draw_record=plan.draw_record,
        manifest=plan.manifest,
    )
    return path, plan.tables


def excel_text(text: str) -> str:
    """Cell text as Excel shows it: each _xHHHH_ escape decoded (one pass, left to right)."""
    return re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def column(sheet, header: str) -> list:
    """The values under ``header`` (row 2 on)."""
    headers = [c.value for c in sheet[1]]
    return [row[headers.index(header)] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_sheets_have_chinese_names_and_headers(workbook):
    """Every sheet is there, in order, with its Chinese header row."""
    book = openpyxl.load_workbook(workbook[0])
    assert book.sheetnames == list(SHEETS)
    for name, headers in HEADERS.items():
        assert [c.value for c in book[name][1]] == headers, name


def test_header_row_frozen_and_filtered(workbook):
    """Each sheet freezes its header row and has an autofilter over all its rows and columns."""
    book = openpyxl.load_workbook(workbook[0])
    for sheet in book:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(sheet.max_column)}{sheet.max_row}"
        widths = [
            sheet.column_dimensions[openpyxl.utils.get_column_letter(i)].width for i in range(1, sheet.max_column + 1)
        ]
        assert all(w >= 6 for w in widths), sheet.title


def test_rows_match_plan_tables(workbook):
    """One row per thing: each sheet has exactly as many rows as the plan table it lists."""
    path, tables = workbook
    book = openpyxl.load_workbook(path, read_only=True)
    for name, source in SHEET_SOURCES.items():
        assert book[name].max_row - 1 == len(tables[source]), name
    assert len(tables["unscheduled"]) >= 1 and len(tables["draws"]) >= 1


def test_every_kpi_is_in_the_overview(workbook, plan_dir):
    """总览 lists every key of kpis.json, with a Chinese label and definition for the contract's KPIs."""
    kpis = json.loads((plan_dir / "kpis.json").read_text())
    sheet = openpyxl.load_workbook(workbook[0])["总览"]
    rows = {key: (label, value, note) for label, value, note, key in sheet.iter_rows(min_row=2, values_only=True)}
    for key, value in kpis.items():
        if key == "timings":
            assert all(f"timings.{stage}" in rows for stage in value)
            continue
        assert rows[key][1] == shown_value(key, value), key
    assert rows["visits"][0] == "检查户次（扰企户次）" and rows["joint_visit_rate"][0] == "联合检查户次占比"
    assert rows["joint_inspection_rate"][0] == "综合查一次实施率"
    assert all(rows[k][2] for k in ("baseline_visits", "lower_bound_visits", "disturbance_reduction"))
    assert rows["seed"][1] == 7 and rows["status"][1].startswith("可行")


def test_dates_and_times_are_real(workbook):
    """Dates are Excel dates shown yyyy-mm-dd and equal to the plan's; times are Excel times (hh:mm)."""
    path, tables = workbook
    sheet = openpyxl.load_workbook(path)["检查计划"]
    headers = [c.value for c in sheet[1]]
    dates = [row[headers.index("日期")] for row in sheet.iter_rows(min_row=2)]
    assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in dates)
    assert sorted(c.value.date() for c in dates) == sorted(tables["visits"]["date"])
    starts = [row[headers.index("开始")] for row in sheet.iter_rows(min_row=2)]
    assert all(isinstance(c.value, dt.time) and c.number_format == "hh:mm" for c in starts)
    first = tables["visits"].sort_values(["date", "crew_id", "start_min"]).iloc[0]
    assert starts[0].value == dt.time(first["start_min"] // 60, first["start_min"] % 60)


def test_formula_like_text_stays_text_in_xlsx(workbook):
    """Hostile names and items are text cells with the exact string (quote-prefixed), never formulas."""
    book = openpyxl.load_workbook(workbook[0])
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    for text in [*HOSTILE.values(), HOSTILE_ITEM]:
        found = [c for c in cells if c.value == text]
        assert found, text
        assert all(c.data_type == "s" and c.quotePrefix for c in found), text


def test_awkward_text_and_numbers_round_trip(plan_dir, tmp_path):
    """Control characters, XML specials, escape look-alikes and spaces come back exact; so do the draw's numbers."""
    plan = read_plan_folder(plan_dir)
    names = Names.from_dataset(load_dataset(plan_dir.parent / "ds"))
    awkward = {ACME: "A\x01B\rC", COOP: "_x0041_ <a & b>", SHOP: "  行\n首 ", DASH: '"quoted"'}
    enterprises = names.enterprises.assign(name=names.enterprises["uscc"].map(awkward))
    write_workbook(tmp_path / "a.xlsx", plan.tables, plan.kpis, Names(enterprises, names.departments, names.inspectors))
    book = openpyxl.load_workbook(tmp_path / "a.xlsx")
    shown = dict(zip(column(book["任务明细"], "统一社会信用代码"), column(book["任务明细"], "企业名称")))
    # XML cannot hold \x01 (nor keep a bare CR): stored as Excel's _xHHHH_ escapes, and an escape
    # look-alike with its underscore escaped (_x005F_), which Excel and LibreOffice decode;
    # openpyxl leaves inline strings undecoded, so they are decoded here as Excel does
    assert {u: excel_text(shown[u]) for u in awkward} == awkward
    assert shown[ACME] == "A_x0001_B_x000D_C" and shown[COOP] == "_x005F_x0041_ <a & b>"
    draws = plan.tables["draws"]
    # numbers as xlsxwriter writes them: 16 significant digits (Excel itself keeps 15)
    assert column(book["抽查记录"], "随机数") == pytest.approx(list(draws["prn"]), rel=1e-15, abs=0)
    assert column(book["抽查记录"], "统一社会信用代码") == list(draws["uscc"])


#: text shaped like xlsxwriter's own rich-string XML, which constant_memory mode would write unescaped
RICH_LOOKALIKE = (
    '<r><t>a</t></r></is></c><c r="Z1"><f>HYPERLINK("http://x","y")</f></c><c r="Z2" t="inlineStr"><is><r><t>b</t></r>'
)


def test_text_shaped_like_xml_stays_text(tmp_path):
    """Text shaped like rich-string XML, characters XML cannot hold and over-long text: exact text, no formula."""
    long_text = "长" * 40_000
    texts = [RICH_LOOKALIKE, "<r></r>", "<r>x", "=1+1", "\t@x", "\uffff\ufffe", long_text, None]
    frame = pd.DataFrame({"文本": texts, "数": range(len(texts))})
    overview = overview_sheet({"status": RICH_LOOKALIKE, "visits": 3}, scenario={"name": "=cmd|' /C calc'!A0"})
    write_sheets(tmp_path / "x.xlsx", [overview, Sheet("表", frame, {"文本": TEXT, "数": INT})])
    with zipfile.ZipFile(tmp_path / "x.xlsx") as package:
        xml = "".join(package.read(n).decode() for n in package.namelist() if n.startswith("xl/worksheets/"))
    assert "<f>" not in xml and "<f " not in xml and '<c r="Z1"' not in xml
    book = openpyxl.load_workbook(tmp_path / "x.xlsx")
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    shown = column(book["表"], "文本")
    assert shown[:6] == [RICH_LOOKALIKE, "<r></r>", "<r>x", "=1+1", "\t@x", "\ufffd\ufffd"]
    assert shown[6] == long_text[:32_767] and shown[7] is None
    assert [c.quotePrefix for c in book["表"]["A"][1:6]] == [False, False, False, True, True]
    values = {
        key: (value, c)
        for (_, value, _, key), c in zip(book["总览"].iter_rows(min_row=2, values_only=True), book["总览"]["B"][1:])
    }
    assert values["status"][0] == RICH_LOOKALIKE and values["visits"][0] == 3
    assert values["scenario.name"][0] == "=cmd|' /C calc'!A0" and values["scenario.name"][1].quotePrefix


def test_same_sheets_same_bytes(plan_dir, tmp_path):
    """write_workbook twice gives identical bytes; every zip entry has a fixed time stamp; created is recorded."""
    plan = read_plan_folder(plan_dir)
    names = Names.from_dataset(load_dataset(plan_dir.parent / "ds"))
    for name in ("a.xlsx", "b.xlsx"):
        write_workbook(tmp_path / name, plan.tables, plan.kpis, names, manifest=plan.manifest)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as package:
        assert {info.date_time for info in package.infolist()} == {(1980, 1, 31, 0, 0, 0)}
        core = package.read("docProps/core.xml").decode()
        assert '<dcterms:created xsi:type="dcterms:W3CDTF">1980-01-01T00:00:00Z</dcterms:created>' in core
    when = dt.datetime(2026, 5, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    write_workbook(tmp_path / "c.xlsx", plan.tables, plan.kpis, names, created=when)
    with zipfile.ZipFile(tmp_path / "c.xlsx") as package:
        assert "2026-05-01T02:30:00Z" in package.read("docProps/core.xml").decode()


def test_formula_like_text_is_quoted_in_csv(plan_dir, tmp_path):
    """CSV export prefixes formula-like text with ' (OWASP) and leaves numbers alone."""
    export_plan(plan_dir, tmp_path / "csv", "csv")
    with open(tmp_path / "csv" / "检查计划.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = {row["企业名称"] for row in rows}
    assert {"'" + HOSTILE[u] for u in (ACME, COOP, DASH)} <= names
    assert all(not n.startswith(("=", "+", "-", "@")) for n in names)
    assert all(row["任务数"].isdigit() and len(row["日期"]) == 10 and row["开始"][2] == ":" for row in rows)
    assert neutralise_csv_text("-1+2") == "'-1+2" and neutralise_csv_text("青溪县") == "青溪县"
    assert neutralise_csv_text("\t=1") == "'\t=1"


def test_department_export_holds_only_that_department(plan_dir, tmp_path):
    """by='dept': one workbook per department, each with only that department's rows."""
    result = export_plan(plan_dir, tmp_path / "by-dept", "xlsx", by="dept")
    assert sorted(f for f in result.files if f.endswith(".xlsx")) == [
        "SJ-示范县市场监督管理局.xlsx",
        "XF-示范县消防救援大队.xlsx",
    ]
    plan = read_plan_folder(plan_dir)
    names = Names.from_dataset(load_dataset(plan_dir.parent / "ds"))
    for dept, name in (("SJ", "示范县市场监督管理局"), ("XF", "示范县消防救援大队")):
        book = openpyxl.load_workbook(tmp_path / "by-dept" / f"{dept}-{name}.xlsx")
        assert set(column(book["任务明细"], "检查部门")) == {name}
        assert set(column(book["人员安排"], "所属部门")) == {name}
        assert set(column(book["未排任务"], "检查部门")) <= {name}
        assert set(column(book["抽查记录"], "检查部门")) == ({name} if dept == "XF" else set())  # SJ's pool is empty
        assert all(name in depts.split("、") for depts in column(book["检查计划"], "检查部门"))
        keep = slice_rows(plan.tables, "dept", dept, names)
        for sheet, source in SHEET_SOURCES.items():
            assert book[sheet].max_row - 1 == keep[source].sum(), (dept, sheet)
        assert dict((r[0], r[1]) for r in book["总览"].iter_rows(values_only=True))["范围"] == f"部门：{dept}-{name}"


def test_township_parquet_export_slices_by_enterprise(plan_dir, tmp_path):
    """by='township' (parquet): each township's tasks are its enterprises' and all tasks are covered once."""
    export_plan(plan_dir, tmp_path / "by-town", "parquet", by="township")
    towns = {u: t for u, t in zip(*[load_dataset(plan_dir.parent / "ds").enterprises[c] for c in ("uscc", "township")])}
    seen = []
    for folder in sorted(p for p in (tmp_path / "by-town").iterdir() if p.is_dir()):
        tasks = pd.read_parquet(folder / "tasks.parquet")
        assert {towns[u] for u in tasks["uscc"]} == {folder.name}
        seen += list(tasks["task_id"])
    assert sorted(seen) == sorted(pd.read_parquet(plan_dir / "tasks.parquet")["task_id"])
    assert (tmp_path / "by-town" / "kpis.json").is_file() and (tmp_path / "by-town" / "export.json").is_file()


def test_export_is_atomic_and_never_overwrites(plan_dir, tmp_path):
    """An existing destination is refused; a missing dataset stops the export before anything appears."""
    out = tmp_path / "x"
    export_plan(plan_dir, out, "xlsx")
    with pytest.raises(OutputExistsError):
        export_plan(plan_dir, out, "csv")
    assert sorted(p.name for p in out.iterdir()) == ["export.json", "plan.xlsx"]
    moved = tmp_path / "moved-plan"
    shutil.copytree(plan_dir, moved)
    for name in ("draw.json", "manifest.json"):  # point both records at a dataset that is gone
        record = json.loads((moved / name).read_text())
        (record.get("scenario") if name == "manifest.json" else record)["dataset"] = str(tmp_path / "gone")
        (moved / name).write_text(json.dumps(record))
    with pytest.raises(InputError, match="problem"):
        export_plan(moved, tmp_path / "y", "xlsx")
    assert not (tmp_path / "y").exists() and not list(tmp_path.glob(".y.*"))
    result = export_plan(moved, tmp_path / "y", "xlsx", dataset=plan_dir.parent / "ds")
    assert "plan.xlsx" in result.files and result.warnings == ()


def test_same_plan_same_bytes(plan_dir, tmp_path):
    """The same plan folder exports to byte-identical workbooks."""
    first = export_plan(plan_dir, tmp_path / "a", "xlsx", by="dept")
    export_plan(plan_dir, tmp_path / "b", "xlsx", by="dept")
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_county_workbook_rows(county_baseline, tmp_path):
    """The sample county's plan (from the shared baseline) gives a workbook with one row per table row."""
    plan, dataset, scenario, _ = county_baseline
    tables = {name: getattr(plan.tables, name) for name in TABLES if name != "draws"} | {"draws": plan.draw.draws}
    write_workbook(
        tmp_path / "plan.xlsx",
        tables,
        plan.kpis,
        Names.from_dataset(dataset),
        scenario=scenario.model_dump(mode="json"),
    )
    book = openpyxl.load_workbook(tmp_path / "plan.xlsx", read_only=True)
    for name, source in SHEET_SOURCES.items():
        assert book[name].max_row - 1 == len(tables[source]), name


def _all_cells(folder: Path) -> set[str]:
    """Every cell of every workbook and CSV file under ``folder``, as text."""
    cells: set[str] = set()
    for path in folder.rglob("*.xlsx"):
        for sheet in openpyxl.load_workbook(path, read_only=True):
            cells |= {str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None}
    for path in folder.rglob("*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as handle:
            cells |= {v for row in csv.reader(handle) for v in row}
    return cells


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_redacted_export_names_no_inspector(plan_dir, tmp_path, fmt):
    """export --redact: no inspector's name anywhere, their ids instead; enterprise names stay (they are results)."""
    from typer.testing import CliRunner

    from planner.cli import app

    inspectors = load_dataset(plan_dir.parent / "ds").inspectors
    on_duty = set(pd.read_parquet(plan_dir / "crews.parquet")["inspector_id"])
    names = set(inspectors.loc[inspectors["inspector_id"].isin(on_duty), "name"])
    assert names
    plain = export_plan(plan_dir, tmp_path / "plain", fmt).out
    assert names <= _all_cells(plain)  # so the check below can fail
    result = CliRunner().invoke(
        app, ["export", str(plan_dir), "--out", str(tmp_path / "public"), "--format", fmt, "--redact"]
    )
    assert result.exit_code == 0, result.output
    cells = _all_cells(tmp_path / "public")
    assert not names & cells and on_duty <= cells
    assert HOSTILE[ACME] in cells or "'" + HOSTILE[ACME] in cells
    assert json.loads((tmp_path / "public/export.json").read_text())["redacted"]


def test_an_english_workbook_has_the_same_cells_in_english(workbook, plan_dir, tmp_path):
    """lang="en": the same sheets, rows and columns, sheet names and headers in English (no
    Chinese), the same numbers; the names in the cells are the inputs' own."""
    from planner.workbook import SHEET_IDS, sheet_name

    plan = read_plan_folder(plan_dir)
    names = Names.from_dataset(load_dataset(plan_dir.parent / "ds"))
    path = tmp_path / "en.xlsx"
    write_workbook(
        path,
        plan.tables,
        plan.kpis,
        names,
        scenario=plan.manifest["scenario"],
        draw_record=plan.draw_record,
        manifest=plan.manifest,
        lang="en",
    )
    english = openpyxl.load_workbook(path, read_only=True)
    chinese = openpyxl.load_workbook(workbook[0], read_only=True)
    assert english.sheetnames == [sheet_name(s, "en") for s in SHEET_IDS] and english.sheetnames[0] == "Overview"
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for en, zh in zip(english.worksheets, chinese.worksheets):
        en_rows, zh_rows = list(en.iter_rows(values_only=True)), list(zh.iter_rows(values_only=True))
        assert len(en_rows) == len(zh_rows) and len(en_rows[0]) == len(zh_rows[0]), en.title
        assert not any(cjk.search(h) for h in en_rows[0]), en.title
        numbers = [[c for c in row if isinstance(c, (int, float))] for row in en_rows]
        assert numbers == [[c for c in row if isinstance(c, (int, float))] for row in zh_rows], en.title
    tasks = list(english["Tasks"].iter_rows(values_only=True))
    mandatory = tasks[0].index("Mandatory")
    assert {row[mandatory] for row in tasks[1:]} == {"yes", "no"}
