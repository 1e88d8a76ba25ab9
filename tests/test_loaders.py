"""Loaders: every contract rule, each with a test that the message names row and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from planner.dataset import load_dataset
from planner.problems import InputError, Problem
from planner.schema import REFERENCES
from tests.conftest import ACME, CLOSED, COOP, SHOP, valid_tables, write_csv, write_dataset


def set_cell(tables: dict, table: str, row: int, column: str, value: str) -> None:
    """Put ``value`` in spreadsheet ``row`` (header = 1) of ``column``."""
    header = tables[table][0]
    tables[table][row - 1][header.index(column)] = value


def load_errors(folder: Path) -> list[Problem]:
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    return list(caught.value.errors)


def the_error(tmp_path: Path, tables: dict, file: str) -> Problem:
    """The single error the corrupted tables produce, checked to be in ``file``."""
    errors = load_errors(write_dataset(tmp_path / "ds", tables))
    assert len(errors) == 1, errors
    assert errors[0].file.endswith(file)
    return errors[0]


def test_valid_dataset_loads(dataset_dir):
    """The hand-written dataset obeys every rule and loads with types coerced."""
    data = load_dataset(dataset_dir)
    assert list(data.enterprises["uscc"]) == [ACME, COOP, SHOP]
    assert data.enterprises.loc[3, "positive_list"] and not data.enterprises.loc[2, "positive_list"]
    assert data.enterprises.loc[2, "industry"] == "2614"  # section letter dropped: C2614 ≡ 2614
    assert data.enterprises.loc[3, "industry"] == "0111"  # leading zero kept: identifiers are text
    assert data.enterprises.loc[4, "observation_until"] == pd.Timestamp("2026-06-30")
    assert list(data.inspectors["hours_per_day"]) == [7.0, 7.0, 8.0, 7.0]  # blank takes the default
    assert data.inspectors.loc[3, "delegated_depts"] == ("XF",)
    assert list(data.demands["min_inspectors"]) == [2, 2, 3]
    assert list(data.demands["priority"]) == [2, 1, 3]
    assert list(data.demands["delegable"]) == [False, True, False]
    assert data.sampling_plan.loc[2, "industries"] == ("52", "62")
    assert data.sampling_plan.loc[3, "industries"] == ("*",)
    assert data.calendar.empty and data.warnings == ()


# ---------------------------------------------------------------- files and headers


def test_missing_required_table(tmp_path):
    """A required table with no file is an error naming the table and the accepted names."""
    tables = valid_tables()
    del tables["demands"]
    errors = load_errors(write_dataset(tmp_path / "ds", tables))
    assert any("required table demands" in e.rule and "demands.csv" in e.rule for e in errors)


def test_optional_tables_may_be_absent(tmp_path):
    """leave, sampling_plan, conflicts, history and calendar are optional."""
    tables = valid_tables()
    for name in ("leave", "sampling_plan", "conflicts", "history"):
        del tables[name]
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert data.history.empty and list(data.history.columns) == ["uscc", "dept_id", "date", "inspector_id", "kind"]


def test_table_given_twice(dataset_dir):
    """Two files for one table are an error: the loader will not guess which is current."""
    pd.DataFrame({"dept_id": ["SJ"], "name": ["x"]}).to_parquet(dataset_dir / "departments.parquet")
    errors = load_errors(dataset_dir)
    assert any("given twice" in e.rule and "departments.parquet" in e.rule for e in errors)


def test_empty_file(dataset_dir):
    """An empty file is an error, not a traceback."""
    (dataset_dir / "townships.csv").write_text("")
    errors = load_errors(dataset_dir)
    assert any(e.file.endswith("townships.csv") and "empty" in e.rule for e in errors)


def test_missing_required_column(tmp_path, tables):
    """A required column missing is reported on the header row, with its Chinese headers."""
    for row in tables["enterprises"]:
        del row[6]  # credit_tier
    error = the_error(tmp_path, tables, "enterprises.csv")
    assert (error.row, error.column) == (1, "credit_tier")
    assert "信用等级" in error.rule and "missing" in error.rule


def test_duplicate_header(tmp_path, tables):
    """The English name and a Chinese alias of one column in the same file is an error."""
    for i, row in enumerate(tables["departments"]):
        row.append("部门名称" if i == 0 else "另一个名称")
    error = the_error(tmp_path, tables, "departments.csv")
    assert (error.row, error.column) == (1, "部门名称") and "second header" in error.rule


def test_unknown_header_is_a_warning(tmp_path, tables):
    """A column the contract does not know is ignored with a warning (it may be a typo)."""
    for i, row in enumerate(tables["demands"]):
        row.append("widow_start" if i == 0 else "2026-01-01")
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    (warning,) = [w for w in data.warnings if w.column == "widow_start"]
    assert warning.row == 1 and "ignored" in warning.rule


def test_chinese_headers(tmp_path, tables):
    """Chinese header aliases load exactly like the English names."""
    tables["enterprises"][0] = [
        "统一社会信用代码",
        "名称",
        "乡镇街道",
        "纬度",
        "经度",
        "行业代码",
        "信用等级",
        "合规正面清单",
        "沙盒监管",
        "观察期截止",
        "重点领域",
    ]
    tables["townships"][0] = ["乡镇街道", "纬度", "经度"]
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert list(data.enterprises["credit_tier"]) == ["B", "A", "C"]


def test_utf8_bom_and_gbk(tmp_path, tables):
    """CSV with a UTF-8 BOM loads silently; a GBK export loads with a warning."""
    folder = write_dataset(tmp_path / "ds", tables)
    write_csv(folder, "townships", tables["townships"], encoding="utf-8-sig")
    write_csv(folder, "departments", tables["departments"], encoding="gbk")
    data = load_dataset(folder)
    assert data.departments.loc[2, "name"] == "示范县市场监督管理局"
    assert [w.file.endswith("departments.csv") and "GBK" in w.rule for w in data.warnings] == [True]


# ---------------------------------------------------------------- cell rules


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("91330481MA2B3C4D5", "18 characters"),
        ("91330481MA2B3C4DO0", "characters 1–2 and 9–18"),
        ("9133A481MA2B3C4D5X", "characters 3–8"),
        (ACME[:-1] + ("0" if ACME[-1] != "0" else "1"), "check digit should be"),
        ("9.13305E+17", "scientific notation"),
    ],
)
def test_uscc_rules(tmp_path, tables, value, rule):
    """A USCC must have the GB 32100-2015 shape and check digit."""
    set_cell(tables, "enterprises", 3, "uscc", value)
    tables["enterprises"][2][0] = value
    error = the_error(tmp_path, tables, "enterprises.csv")
    assert (error.row, error.column, error.value) == (3, "uscc", value)
    assert rule in error.rule


def test_uscc_trimmed_and_upper_cased(tmp_path, tables):
    """Spaces around a code and lower-case letters are harmless."""
    set_cell(tables, "enterprises", 2, "uscc", f"  {ACME.lower()} ")
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert data.enterprises.loc[2, "uscc"] == ACME


def test_duplicate_key(tmp_path, tables):
    """A repeated key names the row it repeats."""
    set_cell(tables, "demands", 3, "task_id", "SJ-1")
    error = the_error(tmp_path, tables, "demands.csv")
    assert (error.row, error.column, error.value) == (3, "task_id", "SJ-1")
    assert "already on row 2" in error.rule


@pytest.mark.parametrize(
    ("table", "column", "value", "rule"),
    [
        ("enterprises", "name", "", "a value is required"),
        ("enterprises", "lat", "95", "from 3.5 to 54"),
        ("enterprises", "lon", "12O.6", "must be a number"),
        ("enterprises", "credit_tier", "E", "one of A, B, C, D"),
        ("enterprises", "positive_list", "maybe", "是/否"),
        ("enterprises", "observation_until", "2026-02-30", "YYYY-MM-DD"),
        ("enterprises", "industry", "C6210", "section H, not C"),
        ("enterprises", "industry", "9901", "does not exist"),
        ("enterprises", "industry", "62-10", "GB/T 4754 code"),
        ("inspectors", "hours_per_day", "0", "above 0"),
        ("inspectors", "hours_per_day", "25", "to 24"),
        ("inspectors", "max_days", "12.5", "whole number"),
        ("inspectors", "max_days", "-1", "at least 0"),
        ("demands", "kind", "random", "one of campaign, followup, key, triggered"),
        ("demands", "duration_min", "0", "from 1 to 480"),
        ("demands", "duration_min", "481", "from 1 to 480"),
        ("demands", "min_inspectors", "1", "from 2 to 20"),
        ("demands", "min_inspectors", "50000000", "from 2 to 20"),
        ("demands", "window_start", "", "a value is required"),
        ("demands", "priority", "high", "whole number"),
        ("demands", "delegable", "2", "是/否"),
        ("sampling_plan", "ratio", "0", "above 0"),
        ("sampling_plan", "ratio", "1.5", "to 1"),
        ("sampling_plan", "tier", "AB", "one of *, A, B, C, D"),
        ("sampling_plan", "industries", "62;food", "'food'"),
        ("history", "date", "last year", "YYYY-MM-DD"),
        ("history", "date", "2026", "YYYY-MM-DD"),  # a bare year is not an Excel serial number
        ("history", "date", "1905-07-18", "between 1950 and 2100"),
        ("history", "kind", "routine", "one of"),
    ],
)
def test_cell_rules(tmp_path, tables, table, column, value, rule):
    """Each cell rule: the error names file, row, column, value and the rule."""
    set_cell(tables, table, 2, column, value)
    error = the_error(tmp_path, tables, f"{table}.csv")
    assert (error.row, error.column, error.value) == (2, column, value)
    assert rule in error.rule, error.rule


@pytest.mark.parametrize(
    ("table", "start", "end"),
    [
        ("demands", "window_start", "window_end"),
        ("sampling_plan", "window_start", "window_end"),
        ("leave", "start", "end"),
    ],
)
def test_dates_in_order(tmp_path, tables, table, start, end):
    """A window or leave that ends before it starts is an error on its end column."""
    set_cell(tables, table, 2, start, "2026-07-01")
    set_cell(tables, table, 2, end, "2026-06-30")
    error = the_error(tmp_path, tables, f"{table}.csv")
    assert (error.row, error.column, error.value) == (2, end, "2026-06-30")
    assert "before" in error.rule


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2026/3/1", "2026-03-01"),
        ("2026.3.1", "2026-03-01"),
        ("2026年3月1日", "2026-03-01"),
        ("46082", "2026-03-01"),
        ("46082.0", "2026-03-01"),
    ],
)
def test_harmless_date_variants(tmp_path, tables, written, expected):
    """Slashes, dots, Chinese dates and Excel serial numbers are read as the date they mean."""
    set_cell(tables, "leave", 2, "end", written)
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert data.leave.loc[2, "end"] == pd.Timestamp(expected)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("重点监管", "key"),
        ("投诉举报", "triggered"),
        ("专项整治", "campaign"),
        ("整改复查", "followup"),
        ("KEY", "key"),
    ],
)
def test_task_kind_spellings(tmp_path, tables, written, expected):
    """Task kinds accept the Chinese names departments use."""
    set_cell(tables, "demands", 2, "kind", written)
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert data.demands.loc[2, "kind"] == expected


# ---------------------------------------------------------------- references


REFERENCE_CASES = {
    ("enterprises", "township"): "不存在镇",
    ("inspectors", "dept_id"): "GA",
    ("inspectors", "delegated_depts"): "XF;GA",
    ("leave", "inspector_id"): "ZZ999",
    ("demands", "dept_id"): "GA",
    ("demands", "uscc"): CLOSED,
    ("sampling_plan", "dept_id"): "GA",
    ("conflicts", "inspector_id"): "ZZ999",
    ("conflicts", "uscc"): CLOSED,
    ("history", "dept_id"): "GA",
    ("items", "dept_id"): "GA",
    ("credit_rules", "dept_id"): "GA",
    ("appointments", "uscc"): CLOSED,
    ("appointments", "dept_ids"): "SJ;GA",
    ("overrides", "dept_id"): "GA",
    ("overrides", "uscc"): CLOSED,
}
#: tables of REFERENCE_CASES that the valid tables lack: one valid row each
EXTRA_TABLES = {
    "items": [
        ["dept_id", "item", "check_points", "legal_basis", "materials"],
        ["XF", "消防安全检查", "消防通道;安全出口", "《中华人民共和国消防法》", ""],
    ],
    "credit_rules": [["result", "kind", "dept_id", "points"], ["clear", "", "", "2"]],
    "appointments": [
        ["appointment_id", "uscc", "window_start", "window_end", "dept_ids", "topic", "direction", "fold_due"],
        ["A1", ACME, "2026-03-02", "2026-03-20", "SJ", "合规指导", "enterprise", "true"],
    ],
}
_OVERRIDE_HEADER = ["override_id", "action", "task_id", "other_task_id", "uscc", "date", "dept_id", "note"]
#: the overrides row whose cell each case corrupts (an action uses either a dept_id or a uscc)
OVERRIDE_ROWS = {
    "dept_id": ["O1", "lead_dept", "SJ-1", "", "", "", "SJ", "会商"],
    "uscc": ["O1", "exclude_date", "", "", ACME, "2026-03-10", "", "停产"],
}


@pytest.mark.parametrize(("table", "column"), sorted(REFERENCE_CASES))
def test_unknown_reference(tmp_path, tables, table, column):
    """A reference to a row that does not exist is an error naming the target table."""
    tables |= {name: [list(row) for row in rows] for name, rows in EXTRA_TABLES.items() if name == table}
    if table == "overrides":
        tables["overrides"] = [_OVERRIDE_HEADER, list(OVERRIDE_ROWS[column])]
    set_cell(tables, table, 2, column, REFERENCE_CASES[(table, column)])
    error = the_error(tmp_path, tables, f"{table}.csv")
    assert (error.row, error.column) == (2, column)
    assert "must name a row of" in error.rule


def test_every_reference_is_tested():
    """Each declared reference that fails hard has a case above."""
    hard = {(r.table, r.column) for r in REFERENCES if r.on_unknown == "error"}
    assert hard == set(REFERENCE_CASES)


def test_history_of_a_closed_business_is_skipped(tmp_path, tables):
    """History naming an unknown enterprise is skipped with a warning (businesses close)."""
    set_cell(tables, "history", 3, "uscc", CLOSED)
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert list(data.history["uscc"]) == [ACME]
    (warning,) = data.warnings
    assert (warning.row, warning.column, warning.severity) == (3, "uscc", "warning")


def test_history_of_a_retired_inspector_is_kept(tmp_path, tables):
    """History naming an unknown inspector keeps the row (it still counts against caps)."""
    set_cell(tables, "history", 2, "inspector_id", "RETIRED01")
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert len(data.history) == 2
    assert [(w.row, w.column) for w in data.warnings] == [(2, "inspector_id")]


def test_blank_certificate_is_a_warning(tmp_path, tables):
    """An inspector without 执法证号 loads with a warning."""
    set_cell(tables, "inspectors", 4, "cert_no", "")
    data = load_dataset(write_dataset(tmp_path / "ds", tables))
    assert [(w.row, w.column, w.severity) for w in data.warnings] == [(4, "cert_no", "warning")]


def test_all_problems_of_all_files_together(tmp_path, tables):
    """One run reports every problem, in several files, not just the first."""
    set_cell(tables, "enterprises", 2, "lat", "x")
    set_cell(tables, "enterprises", 4, "credit_tier", "Z")
    set_cell(tables, "demands", 3, "duration_min", "9999")
    errors = load_errors(write_dataset(tmp_path / "ds", tables))
    assert {(Path(e.file).name, e.row, e.column) for e in errors} == {
        ("enterprises.csv", 2, "lat"),
        ("enterprises.csv", 4, "credit_tier"),
        ("demands.csv", 3, "duration_min"),
    }


# ---------------------------------------------------------------- Excel and Parquet


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def test_excel_number_cells_in_identifier_columns(dataset_dir, tables):
    """An 18-digit code stored as an Excel number has lost digits: an error, on its sheet row."""
    (dataset_dir / "enterprises.csv").unlink()
    rows = [list(r) for r in tables["enterprises"]]
    rows[2][0] = 913304810000000000  # Excel shows 9.13304810000000E+17 and keeps 15 digits
    rows.insert(2, [None] * len(rows[0]))  # a blank row keeps its number: COOP moves to row 4
    for row in rows[1:]:
        if row[3] is not None:
            row[3], row[4] = float(row[3]), float(row[4])
    write_xlsx(dataset_dir / "enterprises.xlsx", rows)
    errors = load_errors(dataset_dir)
    (error,) = errors
    assert (error.row, error.column) == (4, "uscc") and "stored as a number" in error.rule


def test_excel_numbers_and_dates(dataset_dir, tables):
    """Excel number ids load as text with a warning; Excel date cells load as dates."""
    (dataset_dir / "leave.csv").unlink()
    write_xlsx(
        dataset_dir / "leave.xlsx",
        [["inspector_id", "start", "end"], ["SJ001", dt.datetime(2026, 2, 16), dt.date(2026, 2, 20)]],
    )
    (dataset_dir / "departments.csv").unlink()
    write_xlsx(
        dataset_dir / "departments.xlsx", [["dept_id", "name"], ["SJ", "市场监管"], ["XF", "消防"], [42, "数字"]]
    )
    data = load_dataset(dataset_dir)
    assert data.leave.loc[2, "end"] == pd.Timestamp("2026-02-20")
    assert data.departments.loc[4, "dept_id"] == "42"
    assert [(w.column, w.severity) for w in data.warnings] == [("dept_id", "warning")]


def test_parquet_tables(dataset_dir):
    """Parquet loads by extension; typed columns are checked like text ones."""
    (dataset_dir / "townships.csv").unlink()
    table = pa.table({"township": ["城关街道", "临江镇"], "lat": [30.5, 99.0], "lon": [120.6, 120.7]})
    pq.write_table(table, dataset_dir / "townships.parquet")
    (error,) = load_errors(dataset_dir)
    assert (Path(error.file).name, error.row, error.column) == ("townships.parquet", 3, "lat")


def test_duplicate_header_in_excel(dataset_dir, tables):
    """Two identical headers in a sheet are an error on the header row, not a crash."""
    (dataset_dir / "departments.csv").unlink()
    write_xlsx(
        dataset_dir / "departments.xlsx", [["dept_id", "name", "name"], ["SJ", "市场监管", "x"], ["XF", "消防", "y"]]
    )
    (error,) = load_errors(dataset_dir)
    assert (error.row, error.column) == (1, "name") and "second header" in error.rule


def test_row_numbers_after_blank_lines(dataset_dir, tables):
    """A blank line in a CSV keeps the numbering of the lines after it, as a spreadsheet shows them."""
    path = dataset_dir / "townships.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "")
    lines[3] = lines[3].replace("30.58", "95")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (error,) = load_errors(dataset_dir)
    assert (error.row, error.column) == (4, "lat")


def test_timezone_aware_parquet_dates(dataset_dir):
    """Parquet timestamps with a time zone are read as the date in China."""
    (dataset_dir / "leave.csv").unlink()
    start = pd.Timestamp("2026-02-15T16:30:00Z")  # 2026-02-16 00:30 in Beijing
    pd.DataFrame({"inspector_id": ["SJ001"], "start": [start], "end": [start + pd.Timedelta(days=4)]}).to_parquet(
        dataset_dir / "leave.parquet"
    )
    data = load_dataset(dataset_dir)
    assert data.leave.iloc[0]["start"] == pd.Timestamp("2026-02-16")


def rewrite_sheet(path: Path, change) -> None:
    """Apply ``change`` (bytes → bytes) to the first sheet's XML, as another program might have saved it."""
    import zipfile

    with zipfile.ZipFile(path) as source:
        members = {name: source.read(name) for name in source.namelist()}
    # openpyxl writes an empty value as <v /> with the standard library, <v></v> with lxml
    members["xl/worksheets/sheet1.xml"] = change(members["xl/worksheets/sheet1.xml"].replace(b"<v></v>", b"<v />"))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in members.items():
            target.writestr(name, data)


def test_formula_without_a_value_is_an_error(dataset_dir, tables):
    """A formula cell with no saved value (a script wrote it, Excel never saved it) is an error, not a blank."""
    (dataset_dir / "inspectors.csv").unlink()
    rows = [list(r) for r in tables["inspectors"]]
    rows[2][5] = "=7+1"  # hours_per_day of SJ002, an optional column: a blank would silently be 7
    write_xlsx(dataset_dir / "inspectors.xlsx", rows)
    (error,) = load_errors(dataset_dir)
    assert (error.row, error.column) == (3, "hours_per_day")
    assert error.rule == "formula without a value; save the file in Excel or paste values"


def test_formula_with_a_saved_value_reads_that_value(dataset_dir, tables):
    """A formula Excel saved carries its value: that value is read; the formula is never evaluated."""
    (dataset_dir / "inspectors.csv").unlink()
    rows = [list(r) for r in tables["inspectors"]]
    rows[2][5] = "=7+1"
    write_xlsx(dataset_dir / "inspectors.xlsx", rows)
    rewrite_sheet(dataset_dir / "inspectors.xlsx", lambda xml: xml.replace(b"<f>7+1</f><v />", b"<f>7+1</f><v>6.5</v>"))
    assert load_dataset(dataset_dir).inspectors.loc[3, "hours_per_day"] == 6.5


def test_excel_error_value_is_an_error(dataset_dir, tables):
    """A cell holding an Excel error (#N/A: a lookup that failed) is reported, not read as the text '#N/A'."""
    (dataset_dir / "departments.csv").unlink()
    write_xlsx(dataset_dir / "departments.xlsx", [["dept_id", "name"], ["SJ", "=VLOOKUP(1,A1:A2,2)"], ["XF", "消防"]])
    rewrite_sheet(
        dataset_dir / "departments.xlsx",
        lambda xml: xml.replace(
            b'<c r="B2"><f>VLOOKUP(1,A1:A2,2)</f><v /></c>', b'<c r="B2" t="e"><f>VLOOKUP(1,A1:A2,2)</f><v>#N/A</v></c>'
        ),
    )
    (error,) = load_errors(dataset_dir)
    assert (error.row, error.column, error.value) == (2, "name", "#N/A") and "Excel error value" in error.rule


def test_merged_cells_are_an_error(dataset_dir, tables):
    """Merged cells show one value over several rows but hold it once: the covered cells are reported."""
    (dataset_dir / "enterprises.csv").unlink()
    rows = [list(r) for r in tables["enterprises"]]
    for row in rows[1:]:
        row[3], row[4] = float(row[3]), float(row[4])
    rows[1][7], rows[2][7], rows[3][7] = "是", None, None  # positive_list "是" merged over three rows
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.active.merge_cells("H2:H4")
    workbook.save(dataset_dir / "enterprises.xlsx")
    errors = load_errors(dataset_dir)
    assert [(e.row, e.column) for e in errors] == [(3, "positive_list"), (4, "positive_list")]
    assert all("merged cells H2:H4" in e.rule for e in errors)


def test_stale_sheet_dimension_reads_every_row(dataset_dir, tables):
    """A sheet whose <dimension> record is wrong (some exporters write 'A1') is read in full."""
    (dataset_dir / "departments.csv").unlink()
    write_xlsx(dataset_dir / "departments.xlsx", tables["departments"])
    rewrite_sheet(
        dataset_dir / "departments.xlsx", lambda xml: xml.replace(b'<dimension ref="A1:B3"', b'<dimension ref="A1"')
    )
    assert list(load_dataset(dataset_dir).departments["name"]) == ["示范县市场监督管理局", "示范县消防救援大队"]


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_title_rows_above_the_header(dataset_dir, tables, suffix):
    """A report title above the header is an error that names the row the header is really on."""
    (dataset_dir / "departments.csv").unlink()
    rows = [["2026年执法部门名录"], [], *tables["departments"]]
    if suffix == "csv":
        write_csv(dataset_dir, "departments", rows)
    else:
        write_xlsx(dataset_dir / "departments.xlsx", rows)
    errors = load_errors(dataset_dir)
    hint = [e for e in errors if "looks like the header" in e.rule]
    assert len(hint) == 1 and hint[0].row == 3 and "delete the 2 row(s) above it" in hint[0].rule


def test_csv_row_with_an_unquoted_comma(dataset_dir, tables):
    """A row with more cells than the header (a value with an unquoted comma) is an error on that row."""
    path = dataset_dir / "departments.csv"
    path.write_text("dept_id,name\nSJ,示范县市场监督管理局\nXF,消防,救援大队\n", encoding="utf-8")
    (error,) = load_errors(dataset_dir)
    assert error.row == 3 and "3 cells but the header has 2" in error.rule and error.value == "救援大队"


def test_utf16_csv_is_a_clear_error(dataset_dir, tables):
    """A UTF-16 file (Excel's "Unicode Text") is named as such, with what to do."""
    write_csv(dataset_dir, "departments", tables["departments"], encoding="utf-16")
    (error,) = load_errors(dataset_dir)  # and no dangling references to a table that could not be read
    assert "UTF-16" in error.rule and "CSV UTF-8" in error.rule
