"""Reading one table file (CSV, Parquet, XLSX) and turning its cells into typed columns.

Cells are first read as they are (text from CSV; text, numbers and dates from Excel; typed
arrays from Parquet), then each column is coerced by its ``schema.Column``: every cell that
breaks a rule becomes a ``Problem`` naming the spreadsheet row. Nothing here raises on bad
data; the caller decides when the problems are fatal.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.codes import normalise_industry, uscc_problem
from planner.problems import Problem
from planner.schema import Column, Kind, Table

SUFFIXES = (".csv", ".parquet", ".xlsx")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (its 1900 leap-year bug included)
_TRUE = frozenset({"true", "1", "yes", "y", "t", "是", "对", "√"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否", "错", "×"})
_SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+?[0-9]+", re.IGNORECASE)
#: Excel keeps 15 significant digits; a longer number in an identifier column has lost digits.
_EXCEL_DIGITS = 15


@dataclass(frozen=True)
class RawTable:
    """A table file's cells before typing.

    ``frame`` has positional columns 0…n-1 (so two identical headers stay two columns);
    ``headers`` holds the header text of each; ``rows`` each record's spreadsheet row.
    """

    file: str
    frame: pd.DataFrame
    rows: np.ndarray
    headers: tuple[str, ...]
    notes: tuple[Problem, ...] = ()


def read_raw(path: Path, file: str) -> RawTable | Problem:
    """Read ``path`` by its extension; ``file`` is the name used in messages.

    Returns a Problem instead when the file cannot be read as a table at all.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return _read_csv(path, file)
        if suffix == ".xlsx":
            return _read_xlsx(path, file)
        if suffix == ".parquet":
            return _read_parquet(path, file)
    except Exception as error:  # any reader failure is the file's fault, reported as such
        return Problem(file, None, None, None, f"cannot be read as a {suffix[1:].upper()} table: {error}")
    return Problem(file, None, None, None, f"unknown file type {suffix!r}; use one of {', '.join(SUFFIXES)}")


def _read_csv(path: Path, file: str) -> RawTable | Problem:
    notes: list[Problem] = []
    data = path.read_bytes()
    if not data.strip():
        return Problem(file, None, None, None, "the file is empty: expected a header row")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows exports from departmental systems are often GBK; GB18030 is its superset.
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            return Problem(file, None, None, None, "is neither UTF-8 nor GBK/GB18030 text; save it as CSV UTF-8")
        notes.append(Problem(file, None, None, None, "read as GBK/GB18030, not UTF-8", "warning"))
    cells = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None, skip_blank_lines=False)
    headers = tuple(cells.iloc[0].tolist()) if len(cells) else ()
    frame = cells.iloc[1:]
    frame = frame.loc[~(frame == "").all(axis=1)]  # blank lines keep their numbers for the rows after them
    return RawTable(file, frame.reset_index(drop=True), frame.index.to_numpy() + 1, headers, tuple(notes))


def _read_xlsx(path: Path, file: str) -> RawTable | Problem:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        records = sheet.iter_rows(values_only=True)
        header = next(records, None)
        if header is None or all(cell is None for cell in header):
            return Problem(file, None, None, None, "the first sheet is empty: expected a header row in row 1")
        width = len(header)
        rows, cells = [], []
        for number, record in enumerate(records, start=2):
            record = tuple(record[:width]) + (None,) * (width - len(record))
            if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in record):
                continue
            rows.append(number)
            cells.append(record)
    finally:
        workbook.close()
    names = tuple("" if h is None else str(h) for h in header)
    frame = pd.DataFrame.from_records(cells, columns=range(width)) if cells else pd.DataFrame(columns=range(width))
    return RawTable(file, frame.astype(object), np.asarray(rows, dtype=np.int64), names)


def _read_parquet(path: Path, file: str) -> RawTable:
    import pyarrow.parquet as pq

    frame = pq.read_table(path).to_pandas().reset_index(drop=True)
    headers = tuple(str(c) for c in frame.columns)
    frame.columns = range(len(headers))
    return RawTable(file, frame, frame.index.to_numpy() + 2, headers)


# ---------------------------------------------------------------- header matching


def _header_key(name: object) -> str:
    return str(name).replace("\ufeff", "").strip().lower()


def match_headers(raw: RawTable, table: Table) -> tuple[dict[str, int], list[Problem]]:
    """Map contract column → position in the file; problems for missing, doubled and unknown headers."""
    accepted = {}
    for column in table.columns:
        for spelling in (column.name, *column.aliases):
            accepted[_header_key(spelling)] = column.name
    found: dict[str, int] = {}
    problems: list[Problem] = []
    for position, header in enumerate(raw.headers):
        name = accepted.get(_header_key(header))
        if name is None:
            if _header_key(header) and not _header_key(header).startswith("unnamed:"):
                problems.append(Problem(raw.file, 1, str(header), None,
                                        "not a column of this table; it is ignored", "warning"))
        elif name in found:
            problems.append(Problem(raw.file, 1, str(header), None,
                                    f"a second header for column {name} (first: {raw.headers[found[name]]!r})"))
        else:
            found[name] = position
    for column in table.columns:
        if column.required and column.name not in found:
            also = f" (or {' / '.join(column.aliases)})" if column.aliases else ""
            problems.append(Problem(raw.file, 1, column.name, None, f"required column{also} is missing"))
    return found, problems


# ---------------------------------------------------------------- cells → text


def _cell_text(cell: object) -> str | None:
    """A cell as trimmed text (None when blank); numbers print without a spurious '.0'."""
    if cell is None or cell is pd.NA or cell is pd.NaT:
        return None
    if isinstance(cell, float):
        if math.isnan(cell):
            return None
        return str(int(cell)) if cell.is_integer() and abs(cell) < 1e15 else repr(cell)
    if isinstance(cell, (bool, np.bool_)):
        return "true" if cell else "false"
    if isinstance(cell, (dt.datetime, pd.Timestamp)):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat()
    if isinstance(cell, dt.date):
        return cell.isoformat()
    text = str(cell).strip()
    return text or None


def _is_number(cell: object) -> bool:
    return isinstance(cell, (int, float, np.integer, np.floating)) and not isinstance(cell, (bool, np.bool_))


def cells_as_text(cells: pd.Series) -> pd.Series:
    """Trimmed text per cell, None for blanks, in an object Series on the same index."""
    if pd.api.types.is_string_dtype(cells.dtype) and cells.dtype != object:
        text = cells.str.strip().astype(object)
        return text.where(text.notna() & (text != ""), None)
    return pd.Series([_cell_text(c) for c in cells.tolist()], index=cells.index, dtype=object)


# ---------------------------------------------------------------- coercion


@dataclass
class _Checked:
    """A coerced column and, per bad row, the rule it broke."""

    values: pd.Series
    broken: dict[int, str]  # position → rule


def coerce_table(raw: RawTable, table: Table) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed frame (index = spreadsheet row, named 'row') and every problem found.

    Columns that are absent and optional take their default; rows are kept even when a cell
    is bad, so that key and reference checks can still report what else is wrong.
    """
    found, problems = match_headers(raw, table)
    problems = list(raw.notes) + problems
    index = pd.Index(raw.rows, name="row")
    out = {}
    for column in table.columns:
        if column.name not in found:
            out[column.name] = absent_column(column, len(index), index)
            continue
        cells = raw.frame[found[column.name]].reset_index(drop=True)
        cells.index = index
        checked = _coerce_column(cells, column, raw.file, problems)
        out[column.name] = checked.values
        for position, rule in checked.broken.items():
            problems.append(Problem(raw.file, int(raw.rows[position]), column.name,
                                    _cell_text(cells.iloc[position]) or "", rule))
    frame = pd.DataFrame(out, index=index)
    problems += _check_keys(frame, table, raw.file, found)
    problems += _check_ordered_dates(frame, table, raw.file, found)
    return frame, problems


def absent_column(column: Column, n: int, index: pd.Index) -> pd.Series:
    default = column.default
    if column.kind is Kind.BOOL:
        return pd.Series(bool(default), index=index, dtype=bool)
    if column.kind is Kind.FLOAT:
        return pd.Series(np.nan if default is None else float(default), index=index, dtype=float)
    if column.kind is Kind.INT:
        return pd.Series(default, index=index, dtype="Int64")
    if column.kind is Kind.DATE:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[s]")
    if column.kind in (Kind.ID_LIST, Kind.PREFIX_LIST):
        return pd.Series([()] * n, index=index, dtype=object)
    return pd.Series(default, index=index, dtype=object)


def _coerce_column(cells: pd.Series, column: Column, file: str, problems: list[Problem]) -> _Checked:
    text = cells_as_text(cells)
    blank = text.isna().to_numpy()
    broken: dict[int, str] = {}
    if not column.optional_value:
        for position in np.flatnonzero(blank):
            broken[int(position)] = "a value is required"
    coerce = _COERCERS[column.kind]
    values = coerce(cells, text, blank, column, broken, file, problems)
    return _Checked(values, broken)


def _coerce_id(cells, text, blank, column, broken, file, problems):
    """Identifiers stay text. A number cell (Excel, typed Parquet) may have lost digits."""
    numeric = np.fromiter((_is_number(c) for c in cells.tolist()), dtype=bool, count=len(cells)) & ~blank
    for position in np.flatnonzero(numeric):
        digits = len(text.iloc[position].lstrip("-").replace(".", "").split("e")[0])
        if column.kind is Kind.USCC or digits > _EXCEL_DIGITS or "." in text.iloc[position]:
            broken[int(position)] = ("stored as a number, so digits are lost (Excel keeps 15); "
                                     "format the column as text and enter the codes again")
    if numeric.any() and column.kind is not Kind.USCC:
        problems.append(Problem(file, None, column.name, None,
                                "holds numbers, not text: leading zeros, if any, are already lost; "
                                "format identifier columns as text", "warning"))
    for position in np.flatnonzero(~blank & ~numeric):
        if _SCIENTIFIC.fullmatch(text.iloc[position]):
            broken[int(position)] = ("looks like a number in scientific notation: a spreadsheet turned "
                                     "the code into a number and lost digits; format it as text")
    return text


def _coerce_uscc(cells, text, blank, column, broken, file, problems):
    """GB 32100-2015: trimmed, upper-cased, check digit valid."""
    _coerce_id(cells, text, blank, column, broken, file, problems)
    codes = text.where(text.isna(), text.str.upper().str.replace(" ", "", regex=False))
    for position in np.flatnonzero(~blank):
        if position in broken:
            continue
        reason = uscc_problem(codes.iloc[position])
        if reason:
            broken[int(position)] = reason
    return codes


def _coerce_industry(cells, text, blank, column, broken, file, problems):
    """GB/T 4754: the digits are kept; 'C3011' and '3011' are the same class."""
    _coerce_id(cells, text, blank, column, broken, file, problems)
    digits = []
    for position, code in enumerate(text.tolist()):
        if code is None or position in broken:
            digits.append(None)
            continue
        value, reason = normalise_industry(code)
        if reason:
            broken[position] = reason
        digits.append(value)
    return pd.Series(digits, index=text.index, dtype=object)


def _coerce_text(cells, text, blank, column, broken, file, problems):
    return text


def _numbers(text: pd.Series) -> pd.Series:
    """Numbers from text; thousands separators (1,200) tolerated."""
    cleaned = text.str.replace(",", "", regex=False) if text.notna().any() else text
    return pd.to_numeric(cleaned, errors="coerce")


def _coerce_float(cells, text, blank, column, broken, file, problems):
    numbers = _numbers(text).astype(float)
    bad = ~blank & (numbers.isna().to_numpy() | ~np.isfinite(numbers.fillna(0).to_numpy()))
    for position in np.flatnonzero(bad):
        broken[int(position)] = "must be a number"
    _check_range(numbers, column, broken)
    if column.default is not None:
        numbers = numbers.where(~pd.Series(blank, index=numbers.index), float(column.default))
    return numbers


def _coerce_int(cells, text, blank, column, broken, file, problems):
    numbers = _numbers(text).astype(float)
    integral = numbers.isna() | ((numbers % 1 == 0) & (numbers.abs() < 2**53))
    bad = ~blank & (numbers.isna() | ~integral).to_numpy()
    for position in np.flatnonzero(bad):
        broken[int(position)] = "must be a whole number"
    _check_range(numbers, column, broken)
    numbers = numbers.where(integral.to_numpy() & ~bad, np.nan)
    if column.default is not None:
        numbers = numbers.where(~pd.Series(blank, index=numbers.index), float(column.default))
    return numbers.round().astype("Int64")


def _check_range(numbers: pd.Series, column: Column, broken: dict[int, str]) -> None:
    low, high = column.minimum, column.maximum
    if low is None and high is None:
        return
    values = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        outside = np.zeros(len(values), dtype=bool)
        if low is not None:
            outside |= (values <= low) if column.exclusive_minimum else (values < low)
        if high is not None:
            outside |= values > high
    if low is not None and high is not None:
        opening = "above" if column.exclusive_minimum else "from"
        rule = f"must be {opening} {low:g} to {high:g}"
    elif low is not None:
        rule = f"must be {'above' if column.exclusive_minimum else 'at least'} {low:g}"
    else:
        rule = f"must be at most {high:g}"
    for position in np.flatnonzero(outside):
        broken.setdefault(int(position), rule)


def _coerce_date(cells, text, blank, column, broken, file, problems):
    """ISO dates; also 2027/3/1, 2027.3.1, 2027年3月1日, Excel date cells and Excel serial day numbers."""
    values = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[s]")
    native = [isinstance(c, (dt.date, pd.Timestamp, np.datetime64)) for c in cells.tolist()]
    native = np.asarray(native, dtype=bool) if len(cells) else np.zeros(0, dtype=bool)
    if native.any():
        stamps = pd.to_datetime(cells[native], utc=True).dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
        values[native] = stamps.dt.normalize().astype("datetime64[s]")
    remaining = ~blank & ~native
    if remaining.any():
        original = text[remaining]
        texts = original.str.replace(r"[/.年月]", "-", regex=True).str.rstrip("日")
        parsed = pd.to_datetime(texts, format="%Y-%m-%d", errors="coerce")
        # Excel serial day numbers: five digits (10000 = 1927-05-18), as text or from a number cell
        serial = original.str.fullmatch(r"[0-9]{5}(\.0+)?") & parsed.isna()
        if serial.any():
            days = original[serial].astype(float).astype(int)
            parsed[serial] = _EXCEL_EPOCH + pd.to_timedelta(days, unit="D")
        values[remaining] = parsed.astype("datetime64[s]")
        for position in np.flatnonzero(remaining & values.isna().to_numpy()):
            broken[int(position)] = "must be a date written YYYY-MM-DD"
    years = values.dt.year.to_numpy()
    with np.errstate(invalid="ignore"):
        odd = ~np.isnan(years.astype(float)) & ((years < 1950) | (years > 2100))
    for position in np.flatnonzero(odd):
        broken.setdefault(int(position), "must be a date between 1950 and 2100")
    return values


def _coerce_bool(cells, text, blank, column, broken, file, problems):
    lowered = text.str.lower()
    truthy = lowered.isin(_TRUE).to_numpy()
    falsy = lowered.isin(_FALSE).to_numpy()
    for position in np.flatnonzero(~blank & ~truthy & ~falsy):
        broken[int(position)] = "must be true/false, 1/0, yes/no or 是/否"
    default = bool(column.default) if column.default is not None else False
    return pd.Series(np.where(blank, default, truthy), index=cells.index, dtype=bool)


def _coerce_choice(cells, text, blank, column, broken, file, problems):
    choices = column.choices
    canonical = text.map(lambda v: None if v is None else choices.get(v, choices.get(v.lower())))
    allowed = ", ".join(sorted(set(choices.values())))
    for position in np.flatnonzero(~blank & canonical.isna().to_numpy()):
        broken[int(position)] = f"must be one of {allowed}"
    return canonical.astype(object)


def _split(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return tuple(part.strip() for part in re.split(r"[;；,，]", text) if part.strip())


def _coerce_id_list(cells, text, blank, column, broken, file, problems):
    return pd.Series([_split(t) for t in text.tolist()], index=cells.index, dtype=object)


def _coerce_prefix_list(cells, text, blank, column, broken, file, problems):
    """'*' or ';'-separated GB/T 4754 prefixes, kept as digit prefixes."""
    out = []
    for position, value in enumerate(text.tolist()):
        parts = _split(value)
        if parts == ("*",) or not parts:
            out.append(("*",) if parts else ())
            continue
        prefixes = []
        for part in parts:
            digits, reason = normalise_industry(part)
            if reason:
                broken[position] = f"{part!r}: {reason}; or '*' for every industry"
                break
            prefixes.append(digits)
        out.append(tuple(prefixes))
    return pd.Series(out, index=cells.index, dtype=object)


_COERCERS = {
    Kind.ID: _coerce_id,
    Kind.TEXT: _coerce_text,
    Kind.USCC: _coerce_uscc,
    Kind.INDUSTRY: _coerce_industry,
    Kind.FLOAT: _coerce_float,
    Kind.INT: _coerce_int,
    Kind.DATE: _coerce_date,
    Kind.BOOL: _coerce_bool,
    Kind.CHOICE: _coerce_choice,
    Kind.ID_LIST: _coerce_id_list,
    Kind.PREFIX_LIST: _coerce_prefix_list,
}


# ---------------------------------------------------------------- rules across columns


def _check_keys(frame: pd.DataFrame, table: Table, file: str, found: dict[str, str]) -> list[Problem]:
    """Key columns unique together: each later duplicate names the row it repeats."""
    if not table.key or any(k not in found for k in table.key):
        return []
    keys = frame[list(table.key)]
    complete = keys.notna().all(axis=1)
    keys = keys[complete]
    duplicated = keys.duplicated(keep=False)
    if not duplicated.any():
        return []
    problems = []
    first_row: dict[tuple, int] = {}
    for row, key in zip(keys.index[duplicated], keys[duplicated].itertuples(index=False, name=None)):
        if key in first_row:
            shown = key[0] if len(key) == 1 else " + ".join(map(str, key))
            problems.append(Problem(file, int(row), "+".join(table.key), str(shown),
                                    f"duplicate: the same {' + '.join(table.key)} is already on row {first_row[key]}"))
        else:
            first_row[key] = int(row)
    return problems


def _check_ordered_dates(frame: pd.DataFrame, table: Table, file: str, found: dict[str, str]) -> list[Problem]:
    problems = []
    for start, end in table.ordered_dates:
        if start not in found or end not in found:
            continue
        reversed_rows = frame.index[(frame[start] > frame[end]).fillna(False).to_numpy()]
        for row in reversed_rows:
            problems.append(Problem(file, int(row), end, frame.at[row, end].date().isoformat(),
                                    f"{end} is before {start} ({frame.at[row, start].date().isoformat()})"))
    return problems
