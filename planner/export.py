"""Exporting a plan folder: the whole plan, or one slice per department or township.

``export_plan`` reads a plan folder (its Parquet tables, kpis.json, draw.json, manifest.json)
and writes a new folder, atomically and never over an existing one, in one format:

- ``xlsx``: the workbook officials read (see ``planner.workbook``): ``plan.xlsx``, or with
  ``by`` one workbook per department (``<dept_id>-<name>.xlsx``) or township (``<乡镇>.xlsx``);
- ``csv``: the workbook's sheets as CSV files with the same Chinese headers and names
  (``检查计划.csv`` …; UTF-8 with BOM so Excel reads the Chinese), in one subfolder per slice
  with ``by``. Dates are ``YYYY-MM-DD``, times ``HH:MM``. A text cell beginning with ``=``,
  ``+``, ``-``, ``@``, tab or carriage return is prefixed with a single quote ``'`` (the OWASP
  advice against CSV injection), so a spreadsheet shows it as text instead of running it;
  numbers are not touched (−3 stays a number);
- ``parquet``: the plan's own tables (contract columns) restricted to the slice, for other
  systems; kpis.json and draw.json are copied beside them.

Every export also writes ``export.json``: the source plan folder and the SHA-256 of its
manifest, the format, the slicing, the dataset names were read from, and per slice its file
and row counts.

A slice keeps whole rows of the plan tables:

- department ``D``: the visits containing a task of D (with every department's items of those
  visits), D's tasks, the days of D's own inspectors, the routes of crews with a D inspector,
  D's unscheduled tasks and the draws of D's sampling plans;
- township ``T``: the visits to enterprises in T, the tasks and unscheduled tasks of those
  enterprises, the days and routes of the crews making those visits, and the draws of T's
  enterprises.

Names (enterprise names and townships, department and inspector names) are not in the plan
folder: they come from the dataset. By default that is the dataset recorded in draw.json
(an absolute path), else the one in manifest.json's scenario; pass ``dataset`` when the
dataset has moved. If its files differ from those the plan read, the export says so in its
warnings. Without a dataset the export stops with an error: a workbook without enterprise
names would not serve the officials who read it. ``redact`` replaces inspectors' names with
their ids for publication.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from planner.dataset import Dataset, load_dataset
from planner.messages import DEFAULT_LANG, console_lang, language_of, msg, text
from planner.model.matching import seat_frame
from planner.outputs import sha256_file, write_folder, write_table
from planner.problems import InputError, Problem
from planner.rules.offsite import empty_offsite
from planner.workbook import Names, overview_sheet, plan_seed, sheet_name, table_sheets
from planner.xlsx import DATE, HOURS, INT, TEXT, TIME, Sheet, cell_numbers, write_sheets

Format = Literal["xlsx", "parquet", "csv"]
SliceBy = Literal["dept", "township"]
FORMATS = ("xlsx", "parquet", "csv")
SLICES = ("dept", "township")
#: the plan folder's tables, as pipeline.TABLES writes them
PLAN_TABLES = ("tasks", "visits", "visit_tasks", "crews", "routes", "unscheduled", "draws")
#: plan tables a plan folder may lack (written before they existed): read as empty
OPTIONAL_PLAN_TABLES = {"offsite": empty_offsite, "seats": lambda: seat_frame([])}
NAME_TABLES = ("enterprises", "departments", "inspectors")
#: text that a spreadsheet would run as a formula or DDE command (OWASP, "CSV Injection")
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class PlanFolder:
    """A plan folder as read back: its tables, kpis.json, manifest.json and draw.json (or None)."""

    root: Path
    tables: dict[str, pd.DataFrame]
    kpis: dict[str, Any]
    manifest: dict[str, Any]
    draw_record: dict[str, Any] | None


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote: the folder, its files (relative paths) and warnings for the user."""

    out: Path
    files: tuple[str, ...]
    warnings: tuple[str, ...]


def read_plan_folder(plan_dir: Path | str) -> PlanFolder:
    """Read a plan folder; every missing or unreadable file is one problem of an ``InputError``."""
    root = Path(plan_dir)
    problems: list[Problem] = []
    tables: dict[str, pd.DataFrame] = {}
    if not root.is_dir():
        raise InputError([Problem(str(root), None, None, None, msg("input.folder.not_a_plan"))])
    for name in PLAN_TABLES:
        path = root / f"{name}.parquet"
        if not path.is_file():
            problems.append(Problem(str(path), None, None, None, msg("input.folder.not_plan")))
            continue
        try:
            tables[name] = pd.read_parquet(path)
        except Exception as error:  # any reader failure means the file is damaged
            problems.append(Problem(str(path), None, None, None, msg("input.file.unreadable", error=str(error))))
    for name, empty in OPTIONAL_PLAN_TABLES.items():
        path = root / f"{name}.parquet"
        try:
            tables[name] = pd.read_parquet(path) if path.is_file() else empty()
        except Exception as error:  # any reader failure means the file is damaged
            problems.append(Problem(str(path), None, None, None, msg("input.file.unreadable", error=str(error))))
    documents: dict[str, Any] = {}
    for name, required in (("kpis.json", True), ("manifest.json", True), ("draw.json", False)):
        path = root / name
        if not path.is_file():
            if required:
                problems.append(Problem(str(path), None, None, None, msg("input.folder.not_plan")))
            continue
        try:
            documents[name] = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            problems.append(
                Problem(str(path), None, None, None, msg("input.file.bad_json", format="JSON", error=str(error)))
            )
    if problems:
        raise InputError(problems)
    return PlanFolder(root, tables, documents["kpis.json"], documents["manifest.json"], documents.get("draw.json"))


def recorded_dataset(plan: PlanFolder) -> Path | None:
    """The dataset folder the plan was made from: draw.json's (absolute), else the manifest's scenario's.

    The manifest's path is as the planner saw it (relative to where it ran), so it is tried as
    it stands and relative to the plan folder's parent. None when no recorded folder exists.
    """
    candidates = []
    if plan.draw_record and plan.draw_record.get("dataset"):
        candidates.append(Path(plan.draw_record["dataset"]))
    recorded = (plan.manifest.get("scenario") or {}).get("dataset")
    if recorded:
        candidates += [Path(recorded), plan.root.parent / recorded]
    return next((c for c in candidates if c.is_dir()), None)


def plan_names(plan: PlanFolder, dataset: Dataset | Names | Path | str | None = None) -> tuple[Names, list[str], str]:
    """The names for ``plan``'s workbook: (names, warnings, where they came from).

    ``dataset`` may be a loaded dataset, ready ``Names``, a dataset folder, or None for the
    recorded one. Raises ``InputError`` when no dataset can be found.
    """
    if isinstance(dataset, Names):
        return dataset, [], "names given by the caller"
    if dataset is None:
        folder = recorded_dataset(plan)
        if folder is None:
            recorded = (plan.draw_record or {}).get("dataset") or (plan.manifest.get("scenario") or {}).get("dataset")
            raise InputError(
                [
                    Problem(
                        str(plan.root / "manifest.json"),
                        None,
                        "dataset",
                        str(recorded),
                        msg("input.plan.dataset_gone"),
                    )
                ]
            )
        dataset = folder
    if not isinstance(dataset, Dataset):
        dataset = load_dataset(Path(dataset))
    return Names.from_dataset(dataset), _changed_name_files(plan, dataset), str(dataset.root)


def _changed_name_files(plan: PlanFolder, dataset: Dataset) -> list[str]:
    """Name tables whose bytes differ from the files the plan read (matched by file name)."""
    recorded: dict[str, str] = {}
    for path, digest in (plan.manifest.get("inputs") or {}).items():
        recorded[Path(path).name] = digest
    warnings = []
    for table in NAME_TABLES:
        path = dataset.files.get(table)
        if path is None:
            continue
        digest = recorded.get(path.name)
        if digest is None:
            warnings.append(text("export.not_recorded", console_lang()).format(path=path))
        elif digest != sha256_file(path):
            warnings.append(text("export.changed", console_lang()).format(path=path))
    return warnings


def slice_keys(tables: Mapping[str, pd.DataFrame], by: SliceBy, names: Names) -> list[tuple[str, str]]:
    """Every (value, label) the plan can be sliced by: departments or townships with any rows.

    A department's label is ``<dept_id>-<name>``, a township's its name.
    """
    if by == "dept":
        depts: set[str] = set()
        for name in ("tasks", "crews", "unscheduled"):
            depts |= _present(tables.get(name), "dept_id")
        depts |= set(_draw_depts(tables).dropna())
        dept_name = names.department_name().to_dict()
        return [(d, f"{d}-{dept_name[d]}" if dept_name.get(d) else d) for d in sorted(depts)]
    if by == "township":
        town = names.township().to_dict()
        usccs = _present(tables.get("tasks"), "uscc") | _present(tables.get("draws"), "uscc")
        townships = {town.get(u) for u in usccs} - {None}
        return [(t, t) for t in sorted(str(t) for t in townships if not pd.isna(t))]
    raise ValueError(f"unknown slicing {by!r}: choose one of {', '.join(SLICES)}")


def slice_rows(tables: Mapping[str, pd.DataFrame], by: SliceBy, value: str, names: Names) -> dict[str, np.ndarray]:
    """For each plan table, which rows (booleans by position) belong to the slice ``by`` = ``value``."""
    t = {name: frame.reset_index(drop=True) for name, frame in tables.items()}
    empty = pd.DataFrame()
    tasks, visits, visit_tasks = t.get("tasks", empty), t.get("visits", empty), t.get("visit_tasks", empty)
    crews, routes, unscheduled = t.get("crews", empty), t.get("routes", empty), t.get("unscheduled", empty)
    draws, offsite, seats = t.get("draws", empty), t.get("offsite", empty), t.get("seats", empty)
    task_column = {c: dict(zip(_values(tasks, "task_id"), _values(tasks, c))) for c in ("dept_id", "uscc")}

    def own_or_task(column: str) -> pd.Series:  # unscheduled's own dept_id/uscc, else its task's
        from_task = _values(unscheduled, "task_id").map(task_column[column])
        return _values(unscheduled, column).fillna(from_task) if column in unscheduled else from_task

    if by == "dept":
        keep_tasks = (_values(tasks, "dept_id") == value).to_numpy()
        visit_ids = (
            set(visit_tasks.loc[(_values(visit_tasks, "dept_id") == value).to_numpy(), "visit_id"])
            if len(visit_tasks)
            else set()
        )
        keep_visits = _values(visits, "visit_id").isin(visit_ids).to_numpy()
        keep_crews = (_values(crews, "dept_id") == value).to_numpy()
        crew_ids = set(_values(crews, "crew_id")[keep_crews])
        keep_unscheduled = (own_or_task("dept_id") == value).to_numpy()
        keep_draws = (_draw_depts(t) == value).to_numpy()
        keep_offsite = (_values(offsite, "dept_id") == value).to_numpy()
        keep_seats = (_values(seats, "dept_id") == value).to_numpy()
    elif by == "township":
        town = names.township().to_dict()
        keep_tasks = (_values(tasks, "uscc").map(town) == value).to_numpy()
        keep_visits = (_values(visits, "uscc").map(town) == value).to_numpy()
        visit_ids = set(_values(visits, "visit_id")[keep_visits])
        crew_ids = set(_values(visits, "crew_id")[keep_visits])
        keep_crews = _values(crews, "crew_id").isin(crew_ids).to_numpy()
        keep_unscheduled = (own_or_task("uscc").map(town) == value).to_numpy()
        keep_draws = (_values(draws, "uscc").map(town) == value).to_numpy()
        keep_offsite = (_values(offsite, "uscc").map(town) == value).to_numpy()
        keep_seats = _values(seats, "crew_id").isin(crew_ids).to_numpy()
    else:
        raise ValueError(f"unknown slicing {by!r}: choose one of {', '.join(SLICES)}")
    return {
        "tasks": keep_tasks,
        "visits": keep_visits,
        "visit_tasks": _values(visit_tasks, "visit_id").isin(visit_ids).to_numpy(),
        "crews": keep_crews,
        "routes": _values(routes, "crew_id").isin(crew_ids).to_numpy(),
        "unscheduled": keep_unscheduled,
        "draws": keep_draws,
        "offsite": keep_offsite,
        "seats": keep_seats,
    }


def _values(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as an object Series (None where blank); all None when the table lacks it."""
    if column not in frame:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    return frame[column].astype(object).where(frame[column].notna(), None)


def _present(frame: pd.DataFrame | None, column: str) -> set[str]:
    if frame is None or column not in frame:
        return set()
    return {str(v) for v in frame[column].dropna().unique()}


def _draw_depts(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """The department of each draws row: its own dept_id, else its plan's (from the random tasks)."""
    draws, tasks = tables.get("draws", pd.DataFrame()).reset_index(drop=True), tables.get("tasks", pd.DataFrame())
    if "dept_id" in draws:
        return _values(draws, "dept_id")
    plan_dept = dict(zip(_values(tasks, "plan_id"), _values(tasks, "dept_id")))
    return _values(draws, "plan_id").map(plan_dept)


def export_plan(
    plan_dir: Path | str,
    out: Path | str,
    fmt: Format = "xlsx",
    by: SliceBy | None = None,
    dataset: Dataset | Names | Path | str | None = None,
    redact: bool = False,
) -> ExportResult:
    """Export the plan folder ``plan_dir`` to the new folder ``out`` as xlsx, csv or parquet.

    With ``by`` = "dept" or "township", one workbook (xlsx) or subfolder (csv, parquet) per
    department or township, holding only its slice. ``out`` is written atomically and must
    not exist (``planner.outputs.OutputExistsError``). ``dataset`` gives the names (see the
    module docstring). ``redact`` replaces every inspector's name by their ``inspector_id``
    (for publication: 一公开 publishes results, not staff rosters). Returns the files written
    and warnings (names from changed files).
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if by is not None and by not in SLICES:
        raise ValueError(f"unknown slicing {by!r}: choose one of {', '.join(SLICES)}")
    plan = read_plan_folder(plan_dir)
    names, warnings, names_source = plan_names(plan, dataset)
    if redact:
        names = redacted(names)
    out = Path(out)
    info = dict(scenario=plan.manifest.get("scenario"), draw_record=plan.draw_record, manifest=plan.manifest)
    lang = language_of(plan.manifest.get("language"))  # the plan's own language, as plan.xlsx speaks it
    source_row = (text("export.source", lang), str(plan.root.resolve()), text("export.source.note", lang))
    if redact:
        source_row = (*source_row[:2], source_row[2] + text("export.source.redacted", lang))
    sheets = table_sheets(plan.tables, names, seed=plan_seed(**info), lang=lang) if fmt != "parquet" else []
    if by is None:
        parts = [(None, None, {name: None for name in plan.tables})]
    else:
        parts = [
            (value, label, slice_rows(plan.tables, by, value, names))
            for value, label in slice_keys(plan.tables, by, names)
        ]
    written: list[str] = []
    record_slices: list[dict[str, Any]] = []
    stems = ["plan"] if by is None else slice_file_names([label for _, label, _ in parts])

    def fill(folder: Path) -> None:
        for (value, label, keep), stem in zip(parts, stems):
            rows = {name: int(len(plan.tables[name]) if mask is None else mask.sum()) for name, mask in keep.items()}
            scope = [source_row] if value is None else [source_row, *_scope_rows(by, value, label, rows, lang)]
            if fmt == "xlsx":
                path = folder / f"{stem}.xlsx"
                overview = overview_sheet(plan.kpis, scope=scope, lang=lang, **info)
                sliced = [overview, *(s.rows(keep.get(s.source)) for s in sheets)]
                write_sheets(path, sliced, title=text("workbook.title", lang))
                files = [path]
            else:
                target = folder if value is None else folder / stem
                target.mkdir(exist_ok=True)
                if fmt == "csv":
                    overview = overview_sheet(plan.kpis, scope=scope, lang=lang, **info)
                    files = write_sheets_csv([overview, *(s.rows(keep.get(s.source)) for s in sheets)], target)
                else:
                    files = []
                    for name, frame in plan.tables.items():
                        mask = keep[name]
                        part = frame.reset_index(drop=True) if mask is None else frame.reset_index(drop=True)[mask]
                        write_table(part.reset_index(drop=True), target / f"{name}.parquet")
                        files.append(target / f"{name}.parquet")
            written.extend(str(p.relative_to(folder)) for p in files)
            record_slices.append(
                {"value": value, "label": label, "files": [str(p.relative_to(folder)) for p in files], "rows": rows}
            )
        if fmt == "parquet":
            for name in ("kpis.json", "draw.json"):
                if (plan.root / name).is_file():
                    (folder / name).write_bytes((plan.root / name).read_bytes())
                    written.append(name)
        record = {
            "source": str(plan.root.resolve()),
            "source_manifest_sha256": sha256_file(plan.root / "manifest.json"),
            "format": fmt,
            "by": by,
            "names_from": names_source,
            "redacted": "inspector names replaced by inspector_id" if redact else None,
            "note": "KPIs (总览, kpis.json) are the whole plan's, also in a slice",
            "csv_formula_guard": "text cells beginning with = + - @ tab or CR are prefixed with '"
            if fmt == "csv"
            else None,
            "slices": record_slices,
            "warnings": warnings,
        }
        (folder / "export.json").write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")
        written.append("export.json")

    write_folder(out, fill)
    return ExportResult(out, tuple(written), tuple(warnings))


def redacted(names: Names) -> Names:
    """``names`` with each inspector's name replaced by their id (enterprises and departments keep theirs)."""
    inspectors = names.inspectors.assign(name=names.inspectors["inspector_id"].astype(str))
    return dataclasses.replace(names, inspectors=inspectors)


def _scope_rows(
    by: SliceBy | None, value: str, label: str, rows: Mapping[str, int], lang: str = DEFAULT_LANG
) -> list[tuple[str, Any, str]]:
    """总览's rows saying what a slice holds (its KPIs stay the whole plan's), in ``lang``."""
    what = text("export.scope.dept" if by == "dept" else "export.scope.township", lang).format(label=label)
    counted = (
        ("tasks", "export.rows.tasks", "tasks"),
        ("unscheduled", "export.rows.unscheduled", "unscheduled"),
        ("visits", "export.rows.visits", "visits"),
        ("crews", "export.rows.crews", "inspector_days"),
    )
    return [
        (text("export.scope", lang), what, text("export.scope.note", lang)),
        *(
            (
                text(message_id, lang),
                rows.get(table, 0),
                text("export.rows.note", lang).format(sheet=sheet_name(sheet, lang)),
            )
            for table, message_id, sheet in counted
        ),
    ]


def safe_file_name(label: str) -> str:
    """``label`` as a file name on every system: no path separators, reserved or control characters."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]', "_", label).strip(" .")
    if re.fullmatch(r"(?i)(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?", name):  # reserved device names on Windows
        name = "_" + name
    return name or "_"


#: bytes of a slice's file name before its suffix: far below the 255 a file system allows, with
#: room for the suffix and for the export folder's temporary name around it
MAX_STEM_BYTES = 120


def slice_file_names(labels: list[str]) -> list[str]:
    """A file name (without suffix) per slice label: safe on every system (``safe_file_name``), at
    most MAX_STEM_BYTES bytes, and distinct even where letter case is ignored. A name that had to
    be changed and then meets another, or had to be cut, gets ``-`` and 8 hex digits of its label's
    SHA-256: 城关/街道, 城关?街道 and 城关_街道 are three files, never one file written three times."""
    stems = [safe_file_name(label) for label in labels]
    tagged = [_cut(stem) != stem for stem in stems]
    groups: dict[str, list[int]] = {}
    for i, stem in enumerate(stems):
        groups.setdefault(stem.casefold(), []).append(i)
    for members in groups.values():
        if len(members) > 1:  # the one label that is its own name (if any) keeps it, the others are tagged
            plain = sorted((labels[i], i) for i in members if labels[i] == stems[i])[:1]
            for i in members:
                tagged[i] = tagged[i] or (labels[i], i) not in plain
    names = [
        _cut(stem, room=9) + "-" + _label_hash(label) if tag else stem
        for stem, label, tag in zip(stems, labels, tagged)
    ]
    if len({name.casefold() for name in names}) < len(names):  # a label that looks like a tagged name: tag every one
        names = [_cut(stem, room=9) + "-" + _label_hash(label) for stem, label in zip(stems, labels)]
    return names


def _cut(stem: str, room: int = 0) -> str:
    """``stem`` shortened to MAX_STEM_BYTES - ``room`` bytes of UTF-8, never inside a character."""
    data = stem.encode("utf-8")
    if len(data) <= MAX_STEM_BYTES - room:
        return stem
    return data[: MAX_STEM_BYTES - room].decode("utf-8", errors="ignore").rstrip(" .") or "_"


def _label_hash(label: str) -> str:
    return hashlib.sha256(label.encode("utf-8")).hexdigest()[:8]


def neutralise_csv_text(text: str) -> str:
    """OWASP: text a spreadsheet would run as a formula gets a leading ``'`` and stays text."""
    return "'" + text if text.startswith(CSV_FORMULA_PREFIXES) else text


def write_sheets_csv(sheets: list[Sheet], folder: Path) -> list[Path]:
    """Each sheet as ``<sheet name>.csv`` (UTF-8 with BOM), formula-like text neutralised."""
    paths = []
    for sheet in sheets:
        frame = pd.DataFrame(
            {header: csv_column(sheet.frame[header], sheet.kinds[header]) for header in sheet.frame.columns}
        )
        path = folder / f"{sheet.name}.csv"
        frame.to_csv(path, index=False, encoding="utf-8-sig")
        paths.append(path)
    return paths


def csv_column(values: pd.Series, kind: Any) -> list[str | None]:
    """A sheet column as CSV text by its kind: ISO dates, HH:MM times, numbers as numbers, safe text."""
    if isinstance(kind, pd.Series):  # one kind per row
        return [csv_column(pd.Series([v], dtype=object), k)[0] for v, k in zip(values.to_numpy(dtype=object), kind)]
    if kind == TEXT:
        return [
            None if v is None or (not isinstance(v, str) and pd.isna(v)) else neutralise_csv_text(str(v))
            for v in values.to_numpy(dtype=object)
        ]
    numbers = cell_numbers(values, kind)
    if kind == DATE:
        stamps = pd.to_datetime(values.astype(object).where(values.notna(), None), errors="coerce")
        return [None if pd.isna(s) else s.strftime("%Y-%m-%d") for s in stamps]
    if kind == TIME:
        minutes = np.round(numbers * 1440)
        return [None if np.isnan(m) else f"{int(m) // 60:02d}:{int(m) % 60:02d}" for m in minutes]
    if kind == INT:
        return [None if np.isnan(x) else str(int(x)) for x in numbers]
    if kind == HOURS:
        return [None if np.isnan(x) else repr(round(float(x), 3)) for x in numbers]
    return [None if np.isnan(x) else repr(float(x)) for x in numbers]


__all__ = [
    "FORMATS",
    "SLICES",
    "PlanFolder",
    "ExportResult",
    "read_plan_folder",
    "recorded_dataset",
    "plan_names",
    "slice_keys",
    "slice_rows",
    "export_plan",
    "safe_file_name",
    "slice_file_names",
    "neutralise_csv_text",
    "write_sheets_csv",
    "csv_column",
]
