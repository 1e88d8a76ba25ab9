"""Reading one table file (CSV, Parquet, XLSX) and turning its cells into typed columns.

Cells are first read as they are (text from CSV; text, numbers and dates from Excel; typed
arrays from Parquet), then each column is coerced by its ``schema.Column``: every cell that
breaks a rule becomes a ``Problem`` naming the spreadsheet row. Nothing here raises on bad
data; the caller decides when the problems are fatal.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.codes import normalise_industry, uscc_problem
from planner.messages import Message, listing, msg
from planner.problems import Problem
from planner.schema import Column, Kind, Table

SUFFIXES = (".csv", ".parquet", ".xlsx")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (its 1900 leap-year bug included)
_TRUE = frozenset({"true", "1", "yes", "y", "t", "是", "对", "√"})
_FALSE = frozenset({"false", "0", "no", "n", "f", "否", "错", "×"})
_SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+?[0-9]+", re.IGNORECASE)
#: Excel keeps 15 significant digits; a longer number in an identifier column has lost digits.
_EXCEL_DIGITS = 15

# Limits on one table file (docs/data-contract.md, "Limits"): hostile or broken input fails fast
# with a few named rows instead of exhausting memory or time.
#: errors collected per file; then the rest of the file is not read
MAX_ERRORS = 1_000
#: columns a table may have (the widest of the contract has 11)
MAX_COLUMNS = 200
#: characters on one CSV line
MAX_LINE_CHARS = 1 << 20
#: bytes an XLSX part may unpack to: shared strings, styles … are read whole by openpyxl
MAX_XLSX_PART_BYTES = 128 << 20
#: bytes a worksheet may unpack to (it is streamed, but a sheet of blank rows would take minutes)
MAX_XLSX_SHEET_BYTES = 1 << 30
EXCEL_ROWS = 1_048_576
#: rows of a file's first chunk: junk is found, and the file given up, after these
FIRST_CHUNK_ROWS = 1_000
_CHUNK_CELLS = 200_000  # cells read and coerced at a time after the first chunk: memory stays flat


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
    #: {(spreadsheet row, column position): rule} for cells whose value cannot be trusted (XLSX)
    cell_rules: dict[tuple[int, int], str] = field(default_factory=dict)


class _Unreadable(Exception):
    """The file, or the rest of it, cannot be read as a table: carries the one problem to report."""

    def __init__(self, problem: Problem):
        super().__init__(problem.rule)
        self.problem = problem


def read_raw(path: Path, file: str) -> RawTable | Problem:
    """Read ``path`` by its extension; ``file`` is the name used in messages.

    Returns a Problem instead when the file cannot be read as a table at all. The limits of
    ``iter_raw`` apply; a file that stops being readable part-way keeps the rows before, with the
    problem among its notes.
    """
    chunks: list[RawTable] = []
    try:
        for chunk in iter_raw(path, file):
            chunks.append(chunk)
    except _Unreadable as stop:
        if not chunks:
            return stop.problem
        chunks.append(_empty_chunk(chunks[0], (stop.problem,)))
    return _joined(chunks)


def iter_raw(path: Path, file: str) -> Iterator[RawTable]:
    """The file's rows in chunks (each a ``RawTable`` with the same headers; the first holds the
    header's notes), so a large or hostile file is checked as it is read, never held whole first.

    Raises ``_Unreadable`` when the file, or its rest, cannot be read as a table.
    """
    suffix = path.suffix.lower()
    readers = {".csv": _csv_chunks, ".xlsx": _xlsx_chunks, ".parquet": _parquet_chunks}
    if suffix not in readers:
        raise _Unreadable(
            Problem(
                file,
                None,
                None,
                None,
                msg("input.file.unknown_type", suffix=repr(suffix), suffixes=", ".join(SUFFIXES)),
            )
        )
    chunks = readers[suffix](path, file)
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        except _Unreadable:
            raise
        except MemoryError:  # a last resort: the limits below should make it unreachable
            raise _Unreadable(Problem(file, None, None, None, msg("input.file.too_large"))) from None
        except Exception as error:  # any reader failure is the file's fault, reported as such
            raise _Unreadable(
                Problem(
                    file, None, None, None, msg("input.file.unreadable_as", kind=suffix[1:].upper(), error=str(error))
                )
            ) from None
        yield chunk


def _chunk_rows(width: int, first: bool) -> int:
    """Rows per chunk: a small first one (junk is found at once), then about _CHUNK_CELLS cells."""
    return FIRST_CHUNK_ROWS if first else max(FIRST_CHUNK_ROWS, _CHUNK_CELLS // max(width, 1))


def _empty_chunk(like: RawTable, notes: tuple[Problem, ...] = ()) -> RawTable:
    frame = pd.DataFrame({c: pd.Series([], dtype=object) for c in like.frame.columns})
    return RawTable(like.file, frame, np.zeros(0, dtype=np.int64), like.headers, notes)


def _joined(chunks: list[RawTable]) -> RawTable:
    """One RawTable of consecutive chunks."""
    if len(chunks) == 1:
        return chunks[0]
    first = chunks[0]
    frames = [c.frame for c in chunks if len(c.frame)]
    frame = pd.concat(frames, ignore_index=True) if frames else first.frame
    rules = {key: rule for chunk in chunks for key, rule in chunk.cell_rules.items()}
    return RawTable(
        first.file,
        frame,
        np.concatenate([c.rows for c in chunks]),
        first.headers,
        tuple(n for c in chunks for n in c.notes),
        rules,
    )


# ---------------------------------------------------------------- CSV


def _csv_chunks(path: Path, file: str) -> Iterator[RawTable]:
    encoding, notes = _csv_encoding(path, file)
    with open(path, "rb") as binary, io.TextIOWrapper(binary, encoding=encoding, newline="") as text:
        records = _csv_records(text, file)
        header = next(records, (1, []))[1]
        if len(header) > MAX_COLUMNS:
            if any(cell.strip() for cell in header[MAX_COLUMNS:]):
                raise _Unreadable(
                    Problem(
                        file,
                        1,
                        None,
                        None,
                        msg("input.csv.header_too_wide", cells=f"{len(header):,}", limit=MAX_COLUMNS),
                    )
                )
            header = header[:MAX_COLUMNS]  # empty cells right of the table
        header_width, width, first = len(header), len(header), True
        while True:
            batch, stop = _take(records, _chunk_rows(width, first))
            if first:
                widths = sorted(len(r) for _, r in batch if any(cell.strip() for cell in r))
                # most rows wider than the header: row 1 is not the header (reported as such), so no
                # row is blamed for its width and the wider rows are kept for the header search
                short_header = bool(widths) and widths[(len(widths) - 1) // 2] > header_width
                if short_header:
                    width = min(MAX_COLUMNS, max(len(r) for _, r in batch))
                headers = tuple(header) + ("",) * (width - header_width)
            elif not batch:
                return
            chunk_notes = list(notes) if first else []
            rows, cells = [], []
            for number, record in batch:
                if not short_header and len(record) > header_width:
                    extra = [cell for cell in record[header_width:] if cell.strip()]
                    if extra:
                        chunk_notes.append(
                            Problem(
                                file,
                                number,
                                None,
                                ",".join(extra[:20])[:200],
                                msg("input.csv.row_too_wide", cells=len(record), header=header_width),
                            )
                        )
                if len(record) != width:
                    record = record[:width] + [""] * (width - len(record))
                if any(record):  # blank lines keep their numbers for the rows after them
                    rows.append(number)
                    cells.append(record)
            frame = (
                pd.DataFrame(cells, columns=range(width), dtype=object)
                if cells
                else pd.DataFrame({c: pd.Series([], dtype=object) for c in range(width)})
            )
            yield RawTable(file, frame, np.asarray(rows, dtype=np.int64), headers, tuple(chunk_notes))
            if stop is not None:
                raise stop
            first = False
            if not batch:
                return


def _take(records: Iterator, n: int) -> tuple[list, _Unreadable | None]:
    """Up to ``n`` items, and what stopped the reading early (the items before it still count)."""
    batch: list = []
    try:
        for item in records:
            batch.append(item)
            if len(batch) >= n:
                break
    except _Unreadable as stop:
        return batch, stop
    return batch, None


def _csv_records(text: io.TextIOBase, file: str) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row, cells) per CSV record; a line over MAX_LINE_CHARS or a cell over the csv
    module's limit stops the file (a missing quote, or not a table at all)."""
    reader = csv.reader(_bounded_lines(text, file))
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _Unreadable(
                Problem(
                    file,
                    number + 1,
                    None,
                    None,
                    msg("input.csv.broken", line=f"{reader.line_num:,}", error=str(error)),
                )
            ) from None
        number += 1
        yield number, record


def _bounded_lines(text: io.TextIOBase, file: str) -> Iterator[str]:
    for number, line in enumerate(text, start=1):
        if len(line) > MAX_LINE_CHARS:
            raise _Unreadable(
                Problem(
                    file,
                    None,
                    None,
                    None,
                    msg(
                        "input.csv.line_too_long",
                        line=f"{number:,}",
                        chars=f"{len(line):,}",
                        limit=f"{MAX_LINE_CHARS:,}",
                    ),
                )
            )
        yield line


def _csv_encoding(path: Path, file: str) -> tuple[str, list[Problem]]:
    """The file's text encoding (UTF-8, else GBK/GB18030 with a warning), checked in one pass over
    the bytes; a byte neither can read is named by its line and offset."""
    with open(path, "rb") as handle:
        start = handle.read(2)
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Unreadable(Problem(file, None, None, None, msg("input.csv.utf16")))
    utf8, blank = _undecodable(path, "utf-8", file)
    if blank:
        raise _Unreadable(Problem(file, None, None, None, msg("input.file.empty")))
    if utf8 is None:
        return "utf-8-sig", []
    # Windows exports from departmental systems are often GBK; GB18030 is its superset.
    gbk, _ = _undecodable(path, "gb18030", file)
    if gbk is None:
        return "gb18030", [Problem(file, None, None, None, msg("input.csv.gbk"), "warning")]
    line, offset, byte = max(
        utf8, gbk, key=lambda found: found[1]
    )  # the later one: the text's own encoding reads up to it
    raise _Unreadable(
        Problem(
            file,
            None,
            None,
            f"0x{byte:02X}",
            msg("input.csv.undecodable", line=f"{line:,}", offset=f"{offset:,}"),
        )
    )


def _undecodable(path: Path, encoding: str, file: str) -> tuple[tuple[int, int, int] | None, bool]:
    """((line, byte offset, byte) of the first byte ``encoding`` cannot read, or None; whether the
    file is blank). Pieces end at a line break, which both encodings keep whole."""
    line, offset, carry, blank = 1, 0, b"", True
    limit = 4 * MAX_LINE_CHARS  # bytes: a line longer than that is longer than MAX_LINE_CHARS characters
    with open(path, "rb") as handle:
        while True:
            data = handle.read(1 << 20)
            piece, carry = carry + data, b""
            if data:
                cut = max(piece.rfind(b"\n"), piece.rfind(b"\r", 0, len(piece) - 1)) + 1  # never inside \r\n
                if cut == 0:
                    if len(piece) > limit:
                        raise _Unreadable(
                            Problem(
                                file,
                                None,
                                None,
                                None,
                                msg("input.csv.line_too_long_bytes", line=f"{line:,}", limit=f"{limit:,}"),
                            )
                        )
                    carry = piece
                    continue
                piece, carry = piece[:cut], piece[cut:]
            blank = blank and not piece.strip()
            try:
                piece.decode(encoding)
            except UnicodeDecodeError as error:
                before = piece[: error.start]
                at = line + before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n")
                return (at, offset + error.start, piece[error.start]), False
            line += piece.count(b"\n") + piece.count(b"\r") - piece.count(b"\r\n")
            offset += len(piece)
            if not data:
                return None, blank


# ---------------------------------------------------------------- XLSX


def _xlsx_chunks(path: Path, file: str) -> Iterator[RawTable]:
    import openpyxl

    _check_xlsx_parts(path, file)
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        flagged = _untrusted_cells(path, getattr(sheet, "_worksheet_path", None), file)
        sheet.reset_dimensions()  # a stale <dimension> record would cut rows or columns off silently
        records = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        header = next(records, None)
        header_flags = {c: rule for (r, c), rule in flagged.items() if r == 1}
        if header is None or (all(cell is None for cell in header) and not header_flags):
            raise _Unreadable(Problem(file, None, None, None, msg("input.xlsx.empty")))
        header = _without_trailing_blanks(header, max(header_flags, default=-1) + 1)
        if len(header) > MAX_COLUMNS:
            raise _Unreadable(
                Problem(
                    file,
                    1,
                    _column_letter(len(header) - 1),
                    None,
                    msg(
                        "input.xlsx.header_too_wide",
                        letter=_column_letter(len(header) - 1),
                        columns=f"{len(header):,}",
                        limit=MAX_COLUMNS,
                    ),
                )
            )
        rows_of = _xlsx_records(records, {r for r, _ in flagged}, file)
        width, first = len(header), True
        names: tuple[str, ...] = ()
        while True:
            batch, stop = _take(rows_of, _chunk_rows(width, first))
            if first:  # cells right of the header: unnamed, ignored
                width = max([width, *(min(len(record), MAX_COLUMNS) for _, record in batch)])
                names = tuple("" if h is None else str(h) for h in header) + ("",) * (width - len(header))
            elif not batch:
                return
            rows = [number for number, _ in batch]
            cells = [tuple(record[:width]) + (None,) * (width - len(record)) for _, record in batch]
            frame = (
                pd.DataFrame.from_records(cells, columns=range(width)) if cells else pd.DataFrame(columns=range(width))
            )
            row_set = set(rows)
            cell_rules = {(r, c): rule for (r, c), rule in flagged.items() if r in row_set and c < width}
            notes: tuple[Problem, ...] = ()
            if first:
                by_rule: dict[Message, list[str]] = {}  # one problem per rule: a merged title row is one range
                for column, rule in sorted(header_flags.items()):
                    by_rule.setdefault(rule, []).append(_column_letter(column))
                notes = tuple(
                    Problem(
                        file,
                        1,
                        ", ".join(letters) if len(letters) <= 3 else f"{letters[0]}…{letters[-1]}",
                        None,
                        msg("input.xlsx.header_cell", rule=rule),
                    )
                    for rule, letters in by_rule.items()
                )
            yield RawTable(file, frame.astype(object), np.asarray(rows, dtype=np.int64), names, notes, cell_rules)
            if stop is not None:
                raise stop
            if not batch:
                return
            first = False
    finally:
        workbook.close()


def _xlsx_records(records: Iterator[tuple], flagged_rows: set[int], file: str) -> Iterator[tuple[int, tuple]]:
    """(sheet row, cells) of every row after the header that is not blank (or holds a flagged cell)."""
    for number, record in enumerate(records, start=2):
        if number > EXCEL_ROWS:  # a hostile <row r="…"> far down would have us count blank rows for minutes
            raise _Unreadable(
                Problem(
                    file,
                    None,
                    None,
                    None,
                    msg("input.xlsx.too_many_rows", limit=f"{EXCEL_ROWS:,}"),
                )
            )
        blank = all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in record)
        if not blank or number in flagged_rows:
            yield number, record


def _without_trailing_blanks(cells: tuple, keep: int = 0) -> tuple:
    """``cells`` without the blank cells at its end (at least ``keep`` of them stay)."""
    end = len(cells)
    while end > keep and (cells[end - 1] is None or (isinstance(cells[end - 1], str) and not cells[end - 1].strip())):
        end -= 1
    return tuple(cells[:end])


def _check_xlsx_parts(path: Path, file: str) -> None:
    """Refuse a workbook whose parts unpack to more than the limits, before any is unpacked:
    a few MB of XLSX can hold gigabytes of shared strings. zipfile never unpacks more than a
    part's recorded size, so the recorded sizes are the bound."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            sheet = info.filename.startswith("xl/worksheets/")
            limit = MAX_XLSX_SHEET_BYTES if sheet else MAX_XLSX_PART_BYTES
            if info.file_size > limit:
                raise _Unreadable(
                    Problem(
                        file,
                        None,
                        None,
                        None,
                        msg(
                            f"input.xlsx.{'sheet' if sheet else 'part'}_too_large",
                            part=info.filename,
                            size=f"{info.file_size / 2**20:,.0f}",
                            limit=f"{limit >> 20:,}",
                        ),
                    )
                )


#: a formula cell with no saved result: openpyxl (and the planner) never evaluates formulas
FORMULA_WITHOUT_VALUE = msg("input.xlsx.formula_without_value")
_CELL_REF = re.compile(r"([A-Z]+)([0-9]+)")
_SHEET_HINT = re.compile(rb"<(?:\w+:)?(?:f[\s>/]|mergeCell[\s>/])|\st=\"e\"")
#: merged ranges are expanded only this far: no table of the contract is wider, and a sheet with
#: more merged cells than that is reported by its first ones (a hostile range must not exhaust memory)
_MERGE_COLUMNS = 256
_MERGE_CELLS = 100_000


def _untrusted_cells(path: Path, member: str | None, file: str = "") -> dict[tuple[int, int], Message]:
    """{(sheet row, 0-based column): rule} for cells whose value a reader cannot take as shown.

    - A formula cell carries the value Excel computed when it last saved the file; one written by
      a script, or never opened in Excel, has none and would read as a blank.
    - An error value (#DIV/0!, #N/A …) is a formula that failed.
    - Merged cells show one value over the whole range, but only the first cell holds it; the
      others would read as blanks (and a blank optional cell takes its default).
    Formulas are never evaluated: each of these is reported instead of guessed.
    """
    if not member:
        return {}
    with zipfile.ZipFile(path) as archive:
        name = member.lstrip("/")
        if name not in archive.namelist():
            return {}
        with archive.open(name) as source:  # most sheets have neither: one fast pass to skip the parse
            tail, hinted = b"", False
            for chunk in iter(lambda: source.read(1 << 20), b""):
                if _SHEET_HINT.search(tail + chunk):
                    hinted = True
                    break
                tail = chunk[-16:]
        if not hinted:
            return {}
        flagged: dict[tuple[int, int], Message] = {}
        merges: list[str] = []
        row_number, column, sheet_data = 0, 0, None
        with archive.open(name) as source:
            for event, element in ET.iterparse(source, events=("start", "end")):
                tag = element.tag.rsplit("}", 1)[-1]
                if event == "start":
                    if tag == "sheetData":
                        sheet_data = element
                    elif tag == "row":
                        row_number = int(element.get("r") or row_number + 1)
                        column = 0
                    continue
                if tag == "c":
                    reference = _CELL_REF.fullmatch(element.get("r") or "")
                    column = _column_index(reference.group(1)) if reference else column + 1
                    children = {child.tag.rsplit("}", 1)[-1]: child for child in element}
                    saved = children.get("v")
                    has_value = saved is not None and (bool((saved.text or "").strip()) or element.get("t") == "str")
                    rule = None
                    if column > MAX_COLUMNS:  # right of any table: never read
                        pass
                    elif element.get("t") == "e":
                        shown = (saved.text or "").strip() if saved is not None else ""
                        rule = msg("input.xlsx.error_value", shown=shown)
                    elif "f" in children and not has_value:
                        rule = FORMULA_WITHOUT_VALUE
                    if rule is not None:
                        if len(flagged) >= _MERGE_CELLS:
                            raise _Unreadable(
                                Problem(
                                    file,
                                    row_number,
                                    None,
                                    None,
                                    msg("input.xlsx.too_many_flagged", limit=f"{_MERGE_CELLS:,}"),
                                )
                            )
                        flagged[(row_number, column - 1)] = rule
                    element.clear()
                elif tag == "row" and sheet_data is not None:
                    sheet_data.clear()  # rows already read: keep memory flat on a large sheet
                elif tag == "mergeCell" and element.get("ref") and len(merges) < _MERGE_CELLS:
                    merges.append(element.get("ref"))
    for ref in merges:
        _flag_merged(ref, row_number, flagged)
    return flagged


def _flag_merged(ref: str, last_row: int, flagged: dict[tuple[int, int], Message]) -> None:
    """Every cell of merged range ``ref`` but its first, up to the sheet's last row."""
    corners = [_CELL_REF.fullmatch(part.strip().upper()) for part in ref.split(":")]
    if len(corners) != 2 or not all(corners):
        return
    (c1, r1), (c2, r2) = ((_column_index(m.group(1)), int(m.group(2))) for m in corners)
    rule = msg("input.xlsx.merged", ref=ref)
    for row in range(min(r1, r2), min(max(r1, r2), last_row) + 1):
        for column in range(min(c1, c2), min(max(c1, c2), _MERGE_COLUMNS) + 1):
            if len(flagged) >= _MERGE_CELLS:
                return
            if (row, column) != (min(r1, r2), min(c1, c2)):
                flagged.setdefault((row, column - 1), rule)


def _column_index(letters: str) -> int:
    """'A' → 1, 'AB' → 28."""
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index


def _column_letter(position: int) -> str:
    """0 → 'A', 27 → 'AB' (0-based column position)."""
    letters, number = "", position + 1
    while number:
        number, remainder = divmod(number - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def _parquet_chunks(path: Path, file: str) -> Iterator[RawTable]:
    import pyarrow.parquet as pq

    columns = len(pq.read_schema(path).names)
    if columns > MAX_COLUMNS:
        raise _Unreadable(
            Problem(file, None, None, None, msg("input.parquet.too_wide", columns=f"{columns:,}", limit=MAX_COLUMNS))
        )
    frame = pq.read_table(path).to_pandas().reset_index(drop=True)
    headers = tuple(str(c) for c in frame.columns)
    frame.columns = range(len(headers))
    rows = frame.index.to_numpy() + 2
    start, first = 0, True
    while True:  # read whole (typed columns as one), coerced in chunks
        stop = start + _chunk_rows(len(headers), first)
        yield RawTable(file, frame.iloc[start:stop], rows[start:stop], headers)
        if stop >= len(frame):
            return
        start, first = stop, False


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
                problems.append(Problem(raw.file, 1, str(header), None, msg("input.header.unknown"), "warning"))
        elif name in found:
            problems.append(
                Problem(
                    raw.file,
                    1,
                    str(header),
                    None,
                    msg("input.header.twice", column=name, first=repr(raw.headers[found[name]])),
                )
            )
        else:
            found[name] = position
    missing = [c for c in table.columns if c.required and c.name not in found]
    for column in missing:
        missing_rule = (
            msg("input.header.missing_aliases", aliases=" / ".join(column.aliases))
            if column.aliases
            else msg("input.header.missing")
        )
        problems.append(Problem(raw.file, 1, column.name, None, missing_rule))
    if missing:
        problems += _header_further_down(raw, accepted, missing)
    return found, problems


def _header_further_down(raw: RawTable, accepted: dict[str, str], missing: list[Column]) -> list[Problem]:
    """A title or a blank line above the header (common in exported reports): name the real header row."""
    wanted = {c.name for c in missing}
    for position in range(min(len(raw.frame), 10)):
        named = {accepted.get(_header_key(cell)) for cell in raw.frame.iloc[position].tolist() if cell is not None}
        if wanted <= named:
            row = int(raw.rows[position])
            return [
                Problem(
                    raw.file,
                    row,
                    None,
                    None,
                    msg("input.header.further_down", above=row - 1),
                )
            ]
    return []


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
    broken: dict[int, Message]  # position → rule


def coerce_table(raw: RawTable, table: Table) -> tuple[pd.DataFrame, list[Problem]]:
    """Typed frame (index = spreadsheet row, named 'row') and every problem found.

    Columns that are absent and optional take their default; rows are kept even when a cell
    is bad, so that key and reference checks can still report what else is wrong. After
    MAX_ERRORS errors the remaining rows are left out and a last problem says so.
    """
    typed = _Typed(table, raw.file)
    start, first = 0, True
    while True:
        stop = start + _chunk_rows(len(raw.headers), first)
        chunk = RawTable(
            raw.file,
            raw.frame.iloc[start:stop],
            raw.rows[start:stop],
            raw.headers,
            raw.notes if first else (),
            raw.cell_rules,
        )
        if not typed.add(chunk) or stop >= len(raw.frame):
            break
        start, first = stop, False
    return typed.result()


@dataclass(frozen=True)
class LoadedTable:
    """A table file read and typed: the frame, the contract columns its file has, every problem."""

    frame: pd.DataFrame
    found: frozenset[str]
    problems: list[Problem]
    complete: bool = True  # False: reading stopped part-way (the error cap, or the file broke off)


def load_table(path: Path, file: str, table: Table) -> LoadedTable | Problem:
    """Read ``path`` as ``table`` chunk by chunk, typing each as it is read: memory stays flat and
    a file of junk is given up after MAX_ERRORS errors. A Problem when it cannot be read at all."""
    typed = _Typed(table, file)
    chunks = iter_raw(path, file)
    try:
        for chunk in chunks:
            if not typed.add(chunk):
                break
    except _Unreadable as stop:
        if typed.found is None:
            return stop.problem
        typed.problems.append(stop.problem)
        typed.stopped = True
    finally:
        chunks.close()
    if typed.found is None:  # no chunk at all: cannot happen for a readable file, kept for safety
        return Problem(file, None, None, None, msg("input.file.not_a_table"))
    frame, problems = typed.result()
    return LoadedTable(frame, frozenset(typed.found), problems, not typed.stopped)


class _Typed:
    """Chunks of one file typed one after the other, with the errors counted against MAX_ERRORS."""

    def __init__(self, table: Table, file: str):
        self.table, self.file = table, file
        self.found: dict[str, int] | None = None
        self.problems: list[Problem] = []
        self.parts: list[pd.DataFrame] = []
        self.errors = 0
        self.overflow = False  # an error was left out: the file is given up
        self.stopped = False  # the rest of the file was not read
        self._seen: set[Problem] = set()  # column-wide warnings, said once for the whole file

    def add(self, raw: RawTable) -> bool:
        """Type one chunk; False once MAX_ERRORS errors are found (the rest is not to be read)."""
        if self.found is None:
            self.found, header_problems = match_headers(raw, self.table)
            self._note([*raw.notes, *header_problems])
        else:
            self._note(list(raw.notes))
        frame, cell_problems, left_out = _coerce_chunk(raw, self.table, self.found, MAX_ERRORS - self.errors)
        self.parts.append(frame)
        self._note(cell_problems)
        if left_out or self.overflow or self.errors >= MAX_ERRORS:
            stopped = (
                msg("input.stopped_at", limit=f"{MAX_ERRORS:,}", row=f"{int(raw.rows[-1]):,}")
                if len(raw.rows)
                else msg("input.stopped", limit=f"{MAX_ERRORS:,}")
            )
            self.problems.append(
                Problem(
                    self.file,
                    None,
                    None,
                    None,
                    stopped,
                )
            )
            self.stopped = True
            return False
        return True

    def _note(self, problems: list[Problem]) -> None:
        for problem in problems:
            if problem.row is None and problem.severity == "warning":
                if problem in self._seen:
                    continue
                self._seen.add(problem)
            if problem.severity == "error":
                if self.errors >= MAX_ERRORS:
                    self.overflow = True
                    continue
                self.errors += 1
            self.problems.append(problem)

    def result(self) -> tuple[pd.DataFrame, list[Problem]]:
        frame = self.parts[0] if len(self.parts) == 1 else pd.concat(self.parts)
        room = max(MAX_ERRORS - self.errors, 0)
        found = self.found or {}
        problems = self.problems + _check_keys(frame, self.table, self.file, found, room)
        problems += _check_ordered_dates(frame, self.table, self.file, found, room)
        return frame, problems


def _coerce_chunk(
    raw: RawTable, table: Table, found: dict[str, int], room: int
) -> tuple[pd.DataFrame, list[Problem], int]:
    """One chunk typed: its frame, its problems (at most ``room`` cell errors, the first by row) and
    how many broken cells were left out of them."""
    index = pd.Index(raw.rows, name="row")
    row_position = {int(row): position for position, row in enumerate(raw.rows)} if raw.cell_rules else {}
    out: dict[str, pd.Series] = {}
    said: list[Problem | tuple] = []  # column warnings and broken cells (position, order, name, rule, cells), in order
    for order, column in enumerate(table.columns):
        if column.name not in found:
            out[column.name] = absent_column(column, len(index), index)
            continue
        cells = raw.frame[found[column.name]].reset_index(drop=True)
        cells.index = index
        column_problems: list[Problem] = []
        checked = _coerce_column(cells, column, raw.file, column_problems)
        for (row, position), rule in raw.cell_rules.items():
            if position == found[column.name] and row in row_position:
                checked.broken[row_position[row]] = rule
        out[column.name] = checked.values
        said += column_problems
        said += [(position, order, column.name, rule, cells) for position, rule in checked.broken.items()]
    broken = [(item[0], item[1]) for item in said if isinstance(item, tuple)]
    left_out = max(len(broken) - max(room, 0), 0)
    keep = set(sorted(broken)[: max(room, 0)]) if left_out else None  # the first by row: junk breaks every cell
    problems = []
    for item in said:
        if isinstance(item, Problem):
            problems.append(item)
        elif keep is None or (item[0], item[1]) in keep:
            position, _, name, rule, cells = item
            problems.append(
                Problem(raw.file, int(raw.rows[position]), name, _cell_text(cells.iloc[position]) or "", rule)
            )
    return pd.DataFrame(out, index=index), problems, left_out


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
    shapes = _not_one_value(cells)
    if shapes:  # typed as blanks, reported as what they are
        cells = cells.copy()
        cells.iloc[list(shapes)] = None
    text = cells_as_text(cells)
    blank = text.isna().to_numpy()
    broken: dict[int, str] = {}
    if not column.optional_value:
        for position in np.flatnonzero(blank):
            broken[int(position)] = msg("input.cell.required")
    coerce = _COERCERS[column.kind]
    values = coerce(cells, text, blank, column, broken, file, problems)
    broken.update(shapes)
    return _Checked(values, broken)


_BINARY = (bytes, bytearray, memoryview)
_CONTAINERS = (list, tuple, set, frozenset, dict, np.ndarray)


def _not_one_value(cells: pd.Series) -> dict[int, Message]:
    """{position: rule} for cells that are not one scalar value (Parquet lists, structs, binary):
    their text would be Python's spelling of the object (``['a' 'b']``, ``b'\\xe9'``), not data."""
    if cells.dtype != object:
        return {}
    rules = {}
    for position, cell in enumerate(cells.tolist()):
        if isinstance(cell, _BINARY):
            rules[position] = msg("input.cell.binary")
        elif isinstance(cell, _CONTAINERS):
            rules[position] = msg("input.cell.container")
    return rules


def _coerce_id(cells, text, blank, column, broken, file, problems):
    """Identifiers stay text. A number cell (Excel, typed Parquet) may have lost digits."""
    numeric = np.fromiter((_is_number(c) for c in cells.tolist()), dtype=bool, count=len(cells)) & ~blank
    for position in np.flatnonzero(numeric):
        digits = len(text.iloc[position].lstrip("-").replace(".", "").split("e")[0])
        if column.kind is Kind.USCC or digits > _EXCEL_DIGITS or "." in text.iloc[position]:
            broken[int(position)] = msg("input.cell.number_digits")
    if numeric.any() and column.kind is not Kind.USCC:
        problems.append(
            Problem(
                file,
                None,
                column.name,
                None,
                msg("input.column.numbers"),
                "warning",
            )
        )
    for position in np.flatnonzero(~blank & ~numeric):
        if _SCIENTIFIC.fullmatch(text.iloc[position]):
            broken[int(position)] = msg("input.cell.scientific")
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
        broken[int(position)] = msg("input.cell.number")
    _check_range(numbers, column, broken)
    if column.default is not None:
        numbers = numbers.where(~pd.Series(blank, index=numbers.index), float(column.default))
    return numbers


def _coerce_int(cells, text, blank, column, broken, file, problems):
    numbers = _numbers(text).astype(float)
    integral = numbers.isna() | ((numbers % 1 == 0) & (numbers.abs() < 2**53))
    bad = ~blank & (numbers.isna() | ~integral).to_numpy()
    for position in np.flatnonzero(bad):
        broken[int(position)] = msg("input.cell.whole_number")
    _check_range(numbers, column, broken)
    numbers = numbers.where(integral.to_numpy() & ~bad, np.nan)
    if column.default is not None:
        numbers = numbers.where(~pd.Series(blank, index=numbers.index), float(column.default))
    return numbers.round().astype("Int64")


def _check_range(numbers: pd.Series, column: Column, broken: dict[int, Message]) -> None:
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
    above = "above" if column.exclusive_minimum else "from"
    if low is not None and high is not None:
        rule = msg(f"input.cell.range.{above}_to", low=f"{low:g}", high=f"{high:g}")
    elif low is not None:
        rule = msg(f"input.cell.range.{'above' if column.exclusive_minimum else 'at_least'}", low=f"{low:g}")
    else:
        rule = msg("input.cell.range.at_most", high=f"{high:g}")
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
            broken[int(position)] = msg("input.cell.date")
    years = values.dt.year.to_numpy()
    with np.errstate(invalid="ignore"):
        odd = ~np.isnan(years.astype(float)) & ((years < 1950) | (years > 2100))
    for position in np.flatnonzero(odd):
        broken.setdefault(int(position), msg("input.cell.date_years", first=1950, last=2100))
    return values


def _coerce_bool(cells, text, blank, column, broken, file, problems):
    lowered = text.str.lower()
    truthy = lowered.isin(_TRUE).to_numpy()
    falsy = lowered.isin(_FALSE).to_numpy()
    for position in np.flatnonzero(~blank & ~truthy & ~falsy):
        broken[int(position)] = msg("input.cell.bool", values=listing(["true/false", "1/0", "yes/no", "是/否"]))
    default = bool(column.default) if column.default is not None else False
    return pd.Series(np.where(blank, default, truthy), index=cells.index, dtype=bool)


def _coerce_choice(cells, text, blank, column, broken, file, problems):
    choices = column.choices
    canonical = text.map(lambda v: None if v is None else choices.get(v, choices.get(v.lower())))
    allowed = ", ".join(sorted(set(choices.values())))
    for position in np.flatnonzero(~blank & canonical.isna().to_numpy()):
        broken[int(position)] = msg("input.cell.choice", allowed=allowed)
    return canonical.astype(object)


def _split(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    return tuple(part.strip() for part in re.split(r"[;；,，]", text) if part.strip())


def _coerce_id_list(cells, text, blank, column, broken, file, problems):
    return pd.Series([_split(t) for t in text.tolist()], index=cells.index, dtype=object)


_ONE_DIGIT = re.compile(r"[0-9]")


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
            if _ONE_DIGIT.fullmatch(part):  # a GB/T 4754 digit prefix: '3' is divisions 30–39
                prefixes.append(part)
                continue
            digits, reason = normalise_industry(part)
            if reason:
                if reason.id == "input.industry.shape":  # a prefix may be one digit
                    reason = msg("input.industry.prefix_shape")
                broken[position] = msg("input.cell.prefix", part=repr(part), reason=reason)
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


def _check_keys(
    frame: pd.DataFrame, table: Table, file: str, found: dict[str, int], limit: int = MAX_ERRORS
) -> list[Problem]:
    """Key columns unique together: each later duplicate names the row it repeats (the first ``limit``)."""
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
        if len(problems) >= limit:
            break
        if key in first_row:
            shown = key[0] if len(key) == 1 else " + ".join(map(str, key))
            problems.append(
                Problem(
                    file,
                    int(row),
                    "+".join(table.key),
                    str(shown),
                    msg("input.duplicate", key=" + ".join(table.key), row=first_row[key]),
                )
            )
        else:
            first_row[key] = int(row)
    return problems


def _check_ordered_dates(
    frame: pd.DataFrame, table: Table, file: str, found: dict[str, int], limit: int = MAX_ERRORS
) -> list[Problem]:
    problems: list[Problem] = []
    for start, end in table.ordered_dates:
        if start not in found or end not in found:
            continue
        reversed_rows = frame.index[(frame[start] > frame[end]).fillna(False).to_numpy()]
        for row in reversed_rows[: max(limit - len(problems), 0)]:
            problems.append(
                Problem(
                    file,
                    int(row),
                    end,
                    frame.at[row, end].date().isoformat(),
                    msg("input.dates_reversed", end=end, start=start, date=frame.at[row, start].date().isoformat()),
                )
            )
    return problems
