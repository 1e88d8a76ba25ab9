"""Writing sheets to .xlsx the one safe way: text stays text, numbers are numbers, same bytes.

``Sheet`` is a table with Chinese headers and the kind of each column; ``write_sheets`` writes
sheets to a workbook with xlsxwriter (constant_memory mode, row by row). Every cell is text or a
number, never a formula: text only through write_string, so an enterprise called
``=HYPERLINK(…)`` stays that text, and text beginning with ``= + - @``, tab or CR also carries
Excel's quote prefix, so editing the cell does not turn it into a formula either. Dates are real
Excel dates (yyyy-mm-dd), times of day real Excel times (hh:mm). Each sheet freezes its header
row, has an autofilter, columns as wide as their text (CJK characters count double) and prints
landscape, one page wide, the header row on every page. ``planner.workbook`` makes plan.xlsx's
sheets; ``planner export`` and ``planner compare`` write theirs with the same writer.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

# cell kinds: how a column's values are written
TEXT, INT, FLOAT, HOURS, PERCENT, PRN, DATE, TIME = "text", "int", "float", "hours", "percent", "prn", "date", "time"


#: Excel's day 0 for the 1900 date system (the serial of 1900-03-01 onwards is days since this)
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: the workbook's creation date when none is given: fixed, so the same plan gives the same bytes
FIXED_CREATED = dt.datetime(1980, 1, 1)
#: text starting with these would be a formula (or DDE) if typed into a cell (OWASP CSV injection)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
MAX_COLUMN_WIDTH = 60  # characters; longer text (items, reasons) runs on and shows whole in the formula bar


@dataclass(frozen=True)
class Sheet:
    """One sheet: Chinese headers, the kind of each column, and the plan table it lists.

    ``frame``'s index is the position (0, 1, …) of each row's source row in its plan table, so a
    slice of the plan (one department's rows) selects a slice of the sheet. A kind may be a
    Series of per-row kinds (总览's values are counts, rates and text).
    """

    name: str
    frame: pd.DataFrame
    kinds: dict[str, Any]
    source: str | None = None

    def rows(self, keep: np.ndarray | None) -> Sheet:
        """The sheet with only the rows whose source rows ``keep`` marks (booleans by position)."""
        if keep is None:
            return self
        mask = np.asarray(keep, dtype=bool)[self.frame.index.to_numpy()]
        kinds = {h: k[mask] if isinstance(k, pd.Series) else k for h, k in self.kinds.items()}
        return Sheet(self.name, self.frame[mask], kinds, self.source)


def write_sheets(
    path: Path, sheets: Iterable[Sheet], created: dt.datetime | None = None, title: str | None = None
) -> None:
    """Write the sheets to an .xlsx file: header row frozen, autofilter, widths to fit.

    Each column is written by its kind: text as text (never a formula; formula-like text also
    quote-prefixed), numbers as numbers, dates as real Excel dates (yyyy-mm-dd) and minutes
    since midnight as Excel times (hh:mm). ``created`` goes into the document properties; by
    default a fixed date, so that the same sheets give the same bytes; ``title`` too (by default
    ``WORKBOOK_TITLE``).
    """
    created = created or FIXED_CREATED
    if created.tzinfo is not None:  # xlsxwriter writes the time as UTC ("…Z") as it is given
        created = created.astimezone(dt.UTC).replace(tzinfo=None)
    # xlsxwriter's scratch files (one per sheet) in a folder of our own, so that a failure
    # before close() leaves none behind; nothing is written to ``path`` until close()
    with tempfile.TemporaryDirectory(prefix="planner-xlsx-", ignore_cleanup_errors=True) as scratch:
        workbook = xlsxwriter.Workbook(
            str(path),
            {
                "constant_memory": True,
                "tmpdir": scratch,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        # the creation time is the only clock xlsxwriter reads (docProps/core.xml); it stamps every
        # zip entry 1980-01-31 00:00 (workbook._store_workbook): the same sheets, the same bytes
        workbook.set_properties({"title": WORKBOOK_TITLE if title is None else title, "created": created})
        formats = {kind: workbook.add_format(spec) for kind, spec in CELL_FORMATS.items()}
        for sheet in sheets:
            _write_sheet(workbook.add_worksheet(sheet.name), sheet, formats)
            del sheet  # before the next one is made (``sheets`` may make them one at a time)
        workbook.close()


WORKBOOK_TITLE = "综合查一次检查计划"
EXCEL_MAX_TEXT = 32767  # UTF-16 code units in one cell; xlsxwriter cuts longer text there
EXCEL_MAX_ROWS = 1_048_576  # rows in a sheet, the header row included
#: xlsxwriter cell formats by cell kind; "quoted" is Excel's quote prefix (formula-like text)
CELL_FORMATS: dict[str, dict[str, Any]] = {
    "header": {"bold": True, "bg_color": "#DDEBF7", "bottom": 1},
    "quoted": {"quote_prefix": True},
    DATE: {"num_format": "yyyy-mm-dd"},
    TIME: {"num_format": "hh:mm"},
    INT: {"num_format": "0"},
    FLOAT: {"num_format": "0.00"},
    HOURS: {"num_format": "0.0"},
    PERCENT: {"num_format": "0.0%"},
    PRN: {"num_format": "0.000000"},
}
#: characters XML 1.0 cannot hold at all (xlsxwriter escapes only the C0 controls): shown as U+FFFD
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _write_sheet(worksheet: Any, sheet: Sheet, formats: Mapping[str, Any]) -> None:
    """One sheet: header row, then the rows in order; frozen header, autofilter, widths, print setup."""
    frame = sheet.frame
    n_rows, n_cols = len(frame), len(frame.columns)
    if n_rows >= EXCEL_MAX_ROWS:  # xlsxwriter would leave the rest out without a word
        raise ValueError(
            f"sheet {sheet.name}: {n_rows} rows do not fit in an Excel sheet ({EXCEL_MAX_ROWS - 1} at most)"
        )
    columns: list[list] = []
    writers: list[tuple[int, Any, Any]] = []  # per column: (index, write method, cell format)
    for c, title in enumerate(frame.columns):
        kind = sheet.kinds.get(title, TEXT)
        values = frame[title].to_numpy(dtype=object)
        if isinstance(kind, pd.Series):
            cells, write, cell_format, width = _mixed_column(worksheet, values, kind.to_numpy(), formats)
        elif kind == TEXT:
            cells, write, cell_format, width = _text_column(worksheet, values, formats)
        else:
            cells, width = _number_column(values, kind)
            write, cell_format = worksheet.write_number, formats[kind]
        header_width = float(_display_width(pd.Series([str(title)]))[0]) + 3  # room for the filter button
        worksheet.set_column(c, c, min(max(width, header_width) + 1, MAX_COLUMN_WIDTH))
        worksheet.write_string(0, c, str(title), formats["header"])
        columns.append(cells)
        writers.append((c, write, cell_format))
    for r, row in enumerate(zip(*columns), start=1):  # constant_memory: strictly row after row
        for (c, write, cell_format), value in zip(writers, row):
            if value is not None:
                write(r, c, value, cell_format)
    last_col = max(n_cols, 1) - 1
    worksheet.freeze_panes(1, 0)
    worksheet.autofilter(0, 0, n_rows, last_col)
    # printed: landscape A4, all columns on the page width, the header row on every page
    worksheet.set_landscape()
    worksheet.set_paper(9)
    worksheet.fit_to_pages(1, 0)
    worksheet.repeat_rows(0)
    worksheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)


def _text_column(worksheet: Any, values: np.ndarray, formats: Mapping[str, Any]) -> tuple[list, Any, Any, float]:
    """A text column's cells (str, None where blank), how to write them, and its display width."""
    present = ~pd.isna(values)
    texts = np.array([v if v.__class__ is str else str(v) for v in values[present]], dtype=object)
    codes, uniques = pd.factorize(texts)
    uniques = np.asarray(uniques, dtype=object)
    # checked once per distinct text: a column of 100,000 rows holds a few thousand
    clean = [_NOT_XML.sub("\ufffd", u) if _NOT_XML.search(u) else u for u in uniques.tolist()]
    if clean != uniques.tolist():
        uniques = np.array(clean, dtype=object)
        texts = uniques[codes] if len(codes) else texts
    cells = np.full(len(values), None, dtype=object)
    cells[present] = texts
    width = float(_display_width(pd.Series(uniques, dtype=object)).max(initial=0)) if len(uniques) else 0.0
    if any(_special_text(u) for u in clean):
        return cells.tolist(), _text_writer(worksheet, formats), None, width
    return cells.tolist(), worksheet.write_string, None, width


def _special_text(text: str) -> bool:
    """Text that write_string alone would not keep as the same plain text in constant_memory mode."""
    return text.startswith(FORMULA_PREFIXES) or text.startswith("<r>") or len(text) > EXCEL_MAX_TEXT // 2


def _text_writer(worksheet: Any, formats: Mapping[str, Any]):
    """write_string for a column holding formula-like, ``<r>…</r>``-shaped or very long text."""
    quoted = formats["quoted"]

    def write(row: int, col: int, text: str, cell_format: Any) -> None:
        if len(text) > EXCEL_MAX_TEXT // 2:  # Excel's limit counts UTF-16 code units
            text = text.encode("utf-16-le")[: 2 * EXCEL_MAX_TEXT].decode("utf-16-le", errors="ignore")
        if text.startswith(FORMULA_PREFIXES):
            worksheet.write_string(row, col, text, quoted)
        elif text.startswith("<r>") and text.endswith("</r>"):
            # in constant_memory mode xlsxwriter takes such a string for its own rich-string XML
            # and writes it unescaped (a cell could then carry a formula element): written as a
            # rich string of plain fragments instead, so every character is escaped
            fragments = ("<", "r>", text[3:]) if cell_format is None else ("<", "r>", text[3:], cell_format)
            worksheet.write_rich_string(row, col, *fragments)
        else:
            worksheet.write_string(row, col, text, cell_format)

    return write


def _number_column(values: np.ndarray, kind: str) -> tuple[list, float]:
    """A numeric column's cells (Excel's numbers, None where blank) and its display width."""
    numbers = cell_numbers(pd.Series(values, dtype=object), kind)
    present = np.isfinite(numbers)
    cells = numbers.astype(object)
    cells[~present] = None
    if kind == DATE:
        return cells.tolist(), 10.0
    if kind == TIME:
        return cells.tolist(), 5.0
    if not present.any():
        return cells.tolist(), 4.0
    shown = {INT: "{:.0f}", FLOAT: "{:.2f}", HOURS: "{:.1f}", PERCENT: "{:.1%}", PRN: "{:.6f}"}[kind]
    return cells.tolist(), float(max(len(shown.format(x)) for x in (numbers[present].min(), numbers[present].max())))


def _mixed_column(
    worksheet: Any, values: np.ndarray, kinds: np.ndarray, formats: Mapping[str, Any]
) -> tuple[list, Any, Any, float]:
    """A column whose rows have kinds of their own (总览's values): each cell by its row's kind."""
    cells: list = [None] * len(values)
    width = 10.0
    for position, (value, kind) in enumerate(zip(values, kinds)):
        if is_blank(value):
            continue
        one = np.array([value], dtype=object)
        if kind == TEXT:
            (cell,), _, _, w = _text_column(worksheet, one, formats)
        else:
            (cell,), w = _number_column(one, kind)
        if cell is not None:
            cells[position], width = (kind, cell), max(width, w)
    write_text = _text_writer(worksheet, formats)

    def write(row: int, col: int, cell: tuple[str, Any], _: Any) -> None:
        kind, value = cell
        if kind == TEXT:
            write_text(row, col, value, None)
        else:
            worksheet.write_number(row, col, value, formats[kind])

    return cells, write, None, width


def cell_numbers(values: pd.Series | np.ndarray, kind: str) -> np.ndarray:
    """The numbers Excel stores for a column of ``kind``: float64, NaN where blank.

    DATE: days since 1899-12-30 (Excel's serial date); TIME: minutes since midnight / 1440.
    """
    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    if kind == DATE:
        stamps = pd.to_datetime(series.astype(object).where(series.notna(), None), errors="coerce")
        days = (stamps - EXCEL_EPOCH) / pd.Timedelta(days=1)
        return days.to_numpy(dtype=float, na_value=np.nan)
    numbers = pd.to_numeric(series.astype(object).where(series.notna(), None), errors="coerce")
    numbers = numbers.to_numpy(dtype=float, na_value=np.nan)
    return numbers / 1440 if kind == TIME else numbers


def _display_width(texts: pd.Series) -> np.ndarray:
    """Display width in Excel's character units: CJK (three UTF-8 bytes) counts double."""
    if not len(texts):
        return np.zeros(0)
    chars = texts.str.len().to_numpy(dtype=float)
    utf8 = texts.str.encode("utf-8").str.len().to_numpy(dtype=float)
    return chars + (utf8 - chars) / 2


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are not blank
        return False
