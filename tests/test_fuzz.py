"""Fuzzed input: corrupted tables in every format load, or fail with a clear InputError — never a traceback.

The examples are bounded for CI; ``FUZZ_EXAMPLES=10000 pytest tests/test_fuzz.py`` runs a long
local campaign (the figure is in docs/security.md).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from planner.dataset import load_dataset
from planner.problems import InputError, format_report
from planner.schema import REFERENCES, TABLES_BY_NAME, Kind
from tests.conftest import valid_tables, write_dataset

EXCEL_EPOCH = dt.date(1899, 12, 30)
TABLE_NAMES = tuple(valid_tables())
FORMATS = ("csv", "csv-bom", "csv-gbk", "xlsx", "parquet")


def budget(ci_examples: int) -> settings:
    """Hypothesis settings: ``ci_examples`` in CI, or FUZZ_EXAMPLES for a long local run."""
    examples = int(os.environ.get("FUZZ_EXAMPLES") or ci_examples)
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not os.environ.get("FUZZ_EXAMPLES"),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# ---------------------------------------------------------------- writing one table in one format


class Formula(str):
    """A cell written as an Excel formula with no cached value (as openpyxl and scripts save them)."""


def write_table_file(folder: Path, name: str, rows: list[list[object]], fmt: str, merged: tuple[str, ...] = ()) -> Path:
    """``rows`` (header first) as ``<name>.csv`` / ``.xlsx`` / ``.parquet``; cells may be any Python value."""
    if fmt.startswith("csv"):
        text = io.StringIO()
        csv.writer(text).writerows([["" if c is None else str(c) for c in row] for row in rows])
        encoding = {"csv": "utf-8", "csv-bom": "utf-8-sig", "csv-gbk": "gbk"}[fmt]
        try:
            data = text.getvalue().encode(encoding)
        except UnicodeEncodeError:
            data = text.getvalue().encode("gb18030" if fmt == "csv-gbk" else "utf-8", errors="surrogatepass")
        path = folder / f"{name}.csv"
        path.write_bytes(data)
        return path
    if fmt == "xlsx":
        path = folder / f"{name}.xlsx"
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        for r, row in enumerate(rows, start=1):
            for c, cell in enumerate(row, start=1):
                sheet.cell(r, c).value = _excel_value(cell)
        for cells in merged:
            sheet.merge_cells(cells)
        workbook.save(path)
        return path
    path = folder / f"{name}.parquet"
    header = [str(h) for h in rows[0]] if rows else []
    arrays = []
    for position in range(len(header)):
        values = [row[position] if position < len(row) else None for row in rows[1:]]
        try:
            arrays.append(pa.array(values))
        except (pa.ArrowException, OverflowError, TypeError, ValueError):
            arrays.append(pa.array([None if v is None else str(v) for v in values], type=pa.string()))
    pq.write_table(pa.Table.from_arrays(arrays, names=header), path)
    return path


def _excel_value(cell: object) -> object:
    """What openpyxl can store: text without control characters; a formula as '=…'; numbers Excel can hold."""
    if isinstance(cell, Formula):
        return "=" + cell
    if isinstance(cell, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", cell)
        return "'" + text if text.startswith("=") else text  # plain text, not a formula
    if isinstance(cell, int) and not isinstance(cell, bool) and abs(cell) >= 2**63:
        return str(cell)
    return cell


# ---------------------------------------------------------------- corrupting the valid tables

SPECIAL_TEXT = [
    "",
    " ",
    "nan",
    "NaN",
    "NULL",
    "None",
    "#N/A",
    "#DIV/0!",
    "1e400",
    "-1e400",
    "-0",
    "0x1F",
    "是",
    "否",
    "√",
    "2026-02-30",
    "2026/13/1",
    "2027/3/1",
    "2027.3.1",
    "2027年3月1日",
    "46082",
    "46082.0",
    "4608200",
    "1/3/2027",
    "20260301",
    "2026-03-01 08:00:00",
    "2026-03-01T08:00",
    "0001-01-01",
    "9999-12-31",
    "1900-01-01",
    "2026",
    "=1+1",
    "+SUM(A1)",
    "-2",
    "@cmd",
    '=HYPERLINK("x")',
    "\x00",
    "\t",
    "\r\n",
    '"',
    "'",
    ";",
    "；；",
    "*",
    "A;B;",
    "9" * 40,
    "1" * 400,
    "9.13305E+17",
    "1,200",
    "1.2.3",
    "∞",
    "٣",
    "０１２",
    "𠀀",
    "\ufeff",
    "a\u0000b",
]
wild_cell = st.one_of(
    st.text(max_size=24),
    st.sampled_from(SPECIAL_TEXT),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 1, 1)),
    st.none(),
)


def _cell(data, rows: list[list[object]]) -> tuple[int, int]:
    row = data.draw(st.integers(0, len(rows) - 1), label="row")
    return row, data.draw(st.integers(0, max(len(rows[row]) - 1, 0)), label="column")


def mutate(data, tables: dict[str, list[list[object]]], merged: dict[str, list[str]], raw: dict[str, bytes]) -> str:
    """Apply one drawn corruption in place; returns its name (for the failure report)."""
    name = data.draw(st.sampled_from(sorted(tables)), label="table")
    rows = tables[name]
    kind = data.draw(
        st.sampled_from(
            [
                "cell",
                "cell",
                "cell",
                "reference",
                "drop_column",
                "duplicate_row",
                "drop_table",
                "header",
                "title_rows",
                "ragged",
                "blank_rows",
                "header_only",
                "empty_file",
                "bytes",
                "truncate",
                "merge",
                "formula",
                "transpose",
            ]
        ),
        label="corruption",
    )
    if not rows or not rows[0]:
        tables[name] = [[]]
        return "empty"
    if kind == "cell":
        row, column = _cell(data, rows)
        if column < len(rows[row]):
            rows[row][column] = data.draw(wild_cell, label="value")
    elif kind == "reference":
        ref = data.draw(st.sampled_from([r for r in REFERENCES if r.table in tables]), label="reference")
        header = [str(h) for h in tables[ref.table][0]]
        if ref.column in header and len(tables[ref.table]) > 1:
            row = data.draw(st.integers(1, len(tables[ref.table]) - 1))
            cells = tables[ref.table][row]
            cells += [None] * (header.index(ref.column) + 1 - len(cells))  # a row shortened by another corruption
            cells[header.index(ref.column)] = data.draw(
                st.sampled_from(["NOPE", "", "SJ;NOPE", "91330481MA2B3C4D8X"]), label="dangling"
            )
    elif kind == "drop_column":
        column = data.draw(st.integers(0, len(rows[0]) - 1))
        tables[name] = [row[:column] + row[column + 1 :] for row in rows]
    elif kind == "duplicate_row" and len(rows) > 1:
        row = data.draw(st.integers(1, len(rows) - 1))
        rows.insert(data.draw(st.integers(1, len(rows))), list(rows[row]))
    elif kind == "drop_table":
        del tables[name]
    elif kind == "header":
        column = data.draw(st.integers(0, len(rows[0]) - 1))
        table = TABLES_BY_NAME[name]
        spellings = [s for c in table.columns for s in (c.name, *c.aliases)]
        rows[0][column] = data.draw(
            st.one_of(st.sampled_from(spellings), st.sampled_from(["", " ", "Unnamed: 3"]), st.text(max_size=10)),
            label="header",
        )
    elif kind == "title_rows":  # a report title, a blank line or a second header above the real one
        for _ in range(data.draw(st.integers(1, 3))):
            title = data.draw(
                st.sampled_from([["2026年度检查计划表"], [], list(rows[0]), ["单位：示范县", "", "制表日期"]])
            )
            rows.insert(0, list(title))
        if data.draw(st.booleans()) and len(rows[-1]) > 1:
            merged.setdefault(name, []).append(f"A1:{openpyxl.utils.get_column_letter(len(rows[-1]))}1")
    elif kind == "ragged" and len(rows) > 1:
        row = data.draw(st.integers(1, len(rows) - 1))
        rows[row] = rows[row][: data.draw(st.integers(0, len(rows[row])))] + data.draw(st.lists(wild_cell, max_size=3))
    elif kind == "blank_rows":
        rows.insert(data.draw(st.integers(1, len(rows))), [None] * data.draw(st.integers(0, len(rows[0]))))
    elif kind == "header_only":
        del rows[1:]
    elif kind == "empty_file":
        raw[name] = data.draw(st.sampled_from([b"", b" ", b"\n\n", b"\xef\xbb\xbf", b"\r\n", b","]))
    elif kind == "bytes":
        raw[name] = data.draw(st.binary(max_size=64), label="bytes")
    elif kind == "truncate":
        raw[name] = b"truncate:" + str(data.draw(st.integers(0, 4000))).encode()
    elif kind == "merge" and len(rows) > 2:
        row, column = _cell(data, rows[1:])
        letter = openpyxl.utils.get_column_letter(column + 1)
        span = data.draw(st.integers(1, 3))
        merged.setdefault(name, []).append(f"{letter}{row + 2}:{letter}{row + 2 + span}")
    elif kind == "formula":
        row, column = _cell(data, rows)
        if column < len(rows[row]):
            rows[row][column] = Formula(data.draw(st.sampled_from(["1+1", "A2", "TODAY()", '"SJ"', "1/0"])))
    elif kind == "transpose":
        width = max(len(r) for r in rows)
        tables[name] = [[r[c] if c < len(r) else None for r in rows] for c in range(width)]
    return kind


def write_corrupted(folder: Path, tables, formats, merged, raw) -> None:
    """Each table in its drawn format, merged ranges applied (XLSX), raw bytes or truncation last."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        fmt = formats[name]
        path = write_table_file(folder, name, rows, fmt, tuple(merged.get(name, ())) if fmt == "xlsx" else ())
        if name in raw:
            content = raw[name]
            if content.startswith(b"truncate:"):
                path.write_bytes(path.read_bytes()[: int(content.split(b":")[1])])
            else:
                path.write_bytes(content)


def assert_loads_or_explains(folder: Path) -> str:
    """load_dataset either succeeds or raises InputError whose every problem names a file and a rule;
    returns which (for the statistics of a long run)."""
    try:
        data = load_dataset(folder)
    except InputError as error:
        assert error.errors, "InputError without an error"
        for problem in error.problems:
            assert isinstance(problem.file, str) and problem.file
            assert isinstance(problem.rule, str) and problem.rule.strip()
            assert problem.row is None or isinstance(problem.row, int)
            assert problem.severity in ("error", "warning")
            str(problem)
        assert format_report(error.problems)
        return "InputError"
    assert all(w.severity == "warning" for w in data.warnings)
    for name in TABLES_BY_NAME:
        assert data.table(name).index.name == "row"
    return "loaded"


@budget(50)
@given(st.data())
def test_corrupted_datasets_never_crash(data):
    """Wrong types, missing columns, duplicate keys, dangling references, empty or broken files,
    merged cells, formulas, title rows, any format: a load or an InputError, never a traceback."""
    tables: dict[str, list[list[object]]] = {n: [list(r) for r in rows] for n, rows in valid_tables().items()}
    merged: dict[str, list[str]] = {}
    raw: dict[str, bytes] = {}
    formats = {n: data.draw(st.sampled_from(FORMATS), label=f"format {n}") for n in TABLE_NAMES}
    for _ in range(data.draw(st.integers(1, 4), label="corruptions")):
        if tables:
            event(mutate(data, tables, merged, raw))
    with tempfile.TemporaryDirectory() as folder:
        write_corrupted(Path(folder) / "ds", tables, formats, merged, raw)
        event(assert_loads_or_explains(Path(folder) / "ds"))


# ---------------------------------------------------------------- harmless variants load the same

TRUE_SPELLINGS = ["true", "TRUE", "True", "1", "yes", "Y", "是", "√"]
FALSE_SPELLINGS = ["false", "FALSE", "0", "no", "N", "否", "×"]


@functools.cache
def plain_dataset():
    """The valid tables as plain UTF-8 CSV, loaded once: what every harmless variant must equal."""
    with tempfile.TemporaryDirectory() as folder:
        return load_dataset(write_dataset(Path(folder) / "plain", valid_tables()))


def _date_spellings(day: dt.date, fmt: str) -> st.SearchStrategy:
    serial = (day - EXCEL_EPOCH).days
    texts = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day.year}/{day.month:02d}/{day.day:02d}",
        str(serial),
        f" {day.isoformat()} ",
    ]
    if fmt == "xlsx":
        return st.sampled_from([*texts, day, dt.datetime.combine(day, dt.time()), serial, float(serial)])
    return st.sampled_from(texts)


def _spelled(data, column, value: str, fmt: str) -> object:
    """The same value as another harmless spelling that ``column`` accepts."""
    if value == "":
        return data.draw(st.sampled_from(["", " "] + ([None] if fmt == "xlsx" else [])))
    kind = column.kind
    if kind is Kind.DATE:
        return data.draw(_date_spellings(dt.date.fromisoformat(value), fmt))
    if kind is Kind.BOOL:
        truthy = value.lower() in ("true", "1", "yes", "是")
        options = TRUE_SPELLINGS if truthy else FALSE_SPELLINGS
        return data.draw(st.sampled_from(options + ([truthy] if fmt == "xlsx" else [])))
    if kind is Kind.CHOICE:
        canonical = column.choices[value]
        return data.draw(st.sampled_from(sorted(s for s, c in column.choices.items() if c == canonical)))
    if kind in (Kind.FLOAT, Kind.INT):
        number = float(value) if kind is Kind.FLOAT else int(value)
        texts = [value, f" {value} ", f"{float(value):.1f}" if kind is Kind.INT else f"{float(value)}"]
        return data.draw(st.sampled_from(texts + ([number] if fmt == "xlsx" else [])))
    if kind is Kind.USCC:
        return data.draw(st.sampled_from([value, value.lower(), f" {value} "]))
    if kind in (Kind.ID, Kind.TEXT, Kind.INDUSTRY):
        return data.draw(st.sampled_from([value, f" {value} ", f"{value}\t"]))
    return value


def _typed_parquet_column(column, values: list[object]) -> list[object]:
    """A Parquet column as another system would type it: dates, numbers and booleans as such."""

    def typed(v):
        if v in ("", None):
            return None
        if column.kind is Kind.DATE:
            return dt.date.fromisoformat(v)
        if column.kind is Kind.FLOAT:
            return float(v)
        if column.kind is Kind.INT:
            return int(v)
        if column.kind is Kind.BOOL:
            return v.lower() in ("true", "1", "yes", "是")
        return v

    return [typed(v) for v in values]


@budget(25)
@given(st.data())
def test_harmless_variants_load_the_same_values(data):
    """GBK or BOM CSV, XLSX, typed Parquet, Chinese headers, 2027/3/1-style and serial dates, other
    spellings of booleans and kinds, stray spaces: the same typed tables as the plain CSV."""
    canonical_tables = valid_tables()
    variant: dict[str, list[list[object]]] = {}
    formats: dict[str, str] = {}
    for name, rows in canonical_tables.items():
        table = TABLES_BY_NAME[name]
        fmt = data.draw(st.sampled_from(FORMATS), label=f"format {name}")
        formats[name] = fmt
        columns = [table.column(h) for h in rows[0]]
        header = [
            data.draw(st.sampled_from([c.name, c.name.upper(), f" {c.name} ", *c.aliases]), label="header")
            for c in columns
        ]
        if fmt == "parquet":
            by_column = [
                _typed_parquet_column(c, [r[i] for r in rows[1:]])
                if data.draw(st.booleans(), label="typed")
                else [r[i] for r in rows[1:]]
                for i, c in enumerate(columns)
            ]
            body = [list(r) for r in zip(*by_column)]
        else:
            body = [[_spelled(data, c, v, fmt) for c, v in zip(columns, r)] for r in rows[1:]]
        variant[name] = [header, *body]
    with tempfile.TemporaryDirectory() as folder:
        write_corrupted(Path(folder) / "variant", variant, formats, {}, {})
        loaded = load_dataset(Path(folder) / "variant")
    expected = plain_dataset()
    for name in TABLE_NAMES:
        pd.testing.assert_frame_equal(loaded.table(name), expected.table(name), obj=f"{name} ({formats[name]})")
    assert all(w.severity == "warning" for w in loaded.warnings)


@pytest.mark.parametrize("fmt", ["csv", "csv-gbk", "xlsx"])
def test_serial_and_slashed_dates(tmp_path, fmt):
    """2026/2/16, 2026年2月16日, 2026.2.16 and the serial 46069 (text or an Excel number) are all 2026-02-16."""
    spellings = ["2026/2/16", "2026年2月16日", "2026.2.16", "46069", "46069.0"]
    spellings += [46069, dt.date(2026, 2, 16), dt.datetime(2026, 2, 16)] if fmt == "xlsx" else []
    folder = write_dataset(tmp_path / "ds", valid_tables())
    (folder / "leave.csv").unlink()
    write_table_file(folder, "leave", [["inspector_id", "start", "end"], *[["SJ001", s, s] for s in spellings]], fmt)
    data = load_dataset(folder)
    assert set(data.leave["start"]) == set(data.leave["end"]) == {pd.Timestamp("2026-02-16")}
    assert len(data.leave) == len(spellings)


@budget(8)
@given(st.data())
def test_formula_without_a_value_is_always_reported(data):
    """Whichever XLSX cell holds a formula Excel never computed, the load names that cell; never a blank."""
    tables = valid_tables()
    name = data.draw(st.sampled_from(TABLE_NAMES), label="table")
    rows = tables[name]
    row = data.draw(st.integers(0, len(rows) - 1), label="row")
    column = data.draw(st.integers(0, len(rows[0]) - 1), label="column")
    header = rows[0][column]
    rows[row][column] = Formula("1+1")
    with tempfile.TemporaryDirectory() as folder:
        ds = write_dataset(Path(folder) / "ds", {n: r for n, r in tables.items() if n != name})
        write_table_file(ds, name, rows, "xlsx")
        with pytest.raises(InputError) as caught:
            load_dataset(ds)
    where = (1, openpyxl.utils.get_column_letter(column + 1)) if row == 0 else (row + 1, header)
    assert [(p.row, p.column) for p in caught.value.errors if "formula without a value" in p.rule] == [where]
