"""A county's dataset folder: every table loaded, typed and cross-checked, or every problem.

``load_dataset`` is the boundary of the planner: after it, the data obeys the contract
(../docs/data-contract.md) and later stages trust it. Frames are indexed by the spreadsheet
row of their file (index name ``row``) so that later messages can still point at the source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.messages import Dept, Message, listing, msg
from planner.problems import InputError, Problem
from planner.rules.appointments import task_id_clashes
from planner.schema import REFERENCES, TABLES, TABLES_BY_NAME, Kind, Reference, Table, split_list
from planner.tables import MAX_ERRORS, SUFFIXES, absent_column, load_table

#: the certificate an inspector needs (执法证号), named as the roster names it in either language
CERTIFICATE = "执法证号"


@dataclass(frozen=True)
class Dataset:
    """Every input table, typed; optional tables that were absent are empty frames."""

    root: Path
    townships: pd.DataFrame
    departments: pd.DataFrame
    enterprises: pd.DataFrame
    inspectors: pd.DataFrame
    leave: pd.DataFrame
    demands: pd.DataFrame
    sampling_plan: pd.DataFrame
    items: pd.DataFrame
    appointments: pd.DataFrame
    overrides: pd.DataFrame
    conflicts: pd.DataFrame
    history: pd.DataFrame
    calendar: pd.DataFrame
    credit_rules: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)  # table → the file it came from
    warnings: tuple[Problem, ...] = ()

    def table(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def calendar_overrides(self) -> dict[dt.date, bool]:
        """The optional calendar table as {date: is a working day}."""
        return {d.date(): bool(w) for d, w in zip(self.calendar["date"], self.calendar["workday"])}


def table_file(folder: Path, table: Table, files: list[Path] | None = None) -> tuple[Path | None, Problem | None]:
    """The one file of ``table`` in ``folder`` (any supported suffix, any letter case); ``files``:
    the folder's files, when already listed."""
    if files is None:
        files = [p for p in folder.iterdir() if p.is_file()]
    matches = sorted(p for p in files if p.stem.lower() == table.name and p.suffix.lower() in SUFFIXES)
    if len(matches) > 1:
        names = ", ".join(p.name for p in matches)
        return None, Problem(
            str(folder), None, None, None, msg("input.dataset.table_twice", table=table.name, files=names)
        )
    if not matches:
        if not table.required:
            return None, None
        return None, Problem(
            str(folder),
            None,
            None,
            None,
            msg(
                "input.dataset.table_missing",
                table=table.name,
                title=table.title_zh,
                files=listing(f"{table.name}{suffix}" for suffix in SUFFIXES),
            ),
        )
    return matches[0], None


def load_dataset(folder: Path | str) -> Dataset:
    """Load and check every table of a dataset folder.

    Raises ``InputError`` with every problem of every file when any rule is broken; warnings
    (a blank certificate number, history of a closed business …) ride along on the result.
    """
    folder = Path(folder)
    try:
        if not folder.is_dir():
            raise InputError([Problem(str(folder), None, None, None, msg("input.dataset.not_a_folder"))])
        folder_files = sorted(p for p in folder.iterdir() if p.is_file())
    except OSError as error:  # a folder that may not be read, a name too long …
        raise InputError(
            [
                Problem(
                    str(folder), None, None, None, msg("input.dataset.unreadable", error=error.strerror or str(error))
                )
            ]
        ) from None
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    present: dict[str, set[str]] = {}  # table → the columns its file has (none if unreadable)
    for table in TABLES:
        path, problem = table_file(folder, table, folder_files)
        if problem:
            problems.append(problem)
        if path is None:
            frames[table.name] = _empty(table)
            continue
        files[table.name] = path
        loaded = load_table(path, str(path), table)
        if isinstance(loaded, Problem):
            problems.append(loaded)
            frames[table.name] = _empty(table)
            present[table.name] = set()
            continue
        # a table read part-way has no say on references, from it or to it: its rows are not all there
        present[table.name] = set(loaded.found) if loaded.complete else set()
        problems += loaded.problems
        frames[table.name] = loaded.frame
    problems += _check_references(frames, files, present)
    if present.get("inspectors"):  # not for a roster read part-way: its rows are not all there
        problems += _roster_warnings(frames["inspectors"], files.get("inspectors"))
    problems += shared_certificates(frames["inspectors"], files.get("inspectors"))
    if present.get("items"):  # a catalogue read part-way would call every item missing
        problems += catalogue_problems(frames, {name: path for name, path in files.items() if present.get(name)})
    if present.get("appointments") and present.get("demands"):
        problems += task_id_clashes(frames["appointments"], frames["demands"], str(files["appointments"]))
    if present.get("overrides"):
        problems += override_shape_problems(frames["overrides"], files["overrides"])
    if present.get("credit_rules"):
        problems += credit_rule_ties(frames["credit_rules"], str(files["credit_rules"]))
    frames["history"] = _drop_unknown_enterprises(frames["history"], frames["enterprises"])
    if any(p.severity == "error" for p in problems):
        raise InputError(sorted(problems, key=lambda p: p.severity != "error"))
    return Dataset(root=folder, files=files, warnings=tuple(problems), **frames)


def _empty(table: Table) -> pd.DataFrame:
    index = pd.Index([], name="row", dtype="int64")
    return pd.DataFrame({c.name: absent_column(c, 0, index) for c in table.columns}, index=index)


def _values(frame: pd.DataFrame, column: str, kind: Kind) -> pd.Series:
    """The column's identifiers, one per row (lists exploded), blanks dropped."""
    values = frame[column]
    if kind is Kind.ID_LIST:
        values = values.explode()
    return values.dropna()


def _check_references(
    frames: dict[str, pd.DataFrame], files: dict[str, Path], present: dict[str, set[str]] | None = None
) -> list[Problem]:
    """Values naming rows of another table; with ``present`` (table → its file's columns), skipped
    when either column is not in its file (that is already an error)."""
    problems = []
    for ref in REFERENCES:
        if ref.table not in files or ref.target not in files or ref.table not in frames or ref.target not in frames:
            continue  # a table not given, or not among those checked (actuals: credit_rules)
        if present is not None and (
            ref.column not in present.get(ref.table, ()) or ref.target_column not in present.get(ref.target, ())
        ):
            continue
        source = next(t for t in TABLES if t.name == ref.table)
        known = set(frames[ref.target][ref.target_column].dropna())
        values = _values(frames[ref.table], ref.column, source.column(ref.column).kind)
        unknown = values[~values.isin(known)]
        problems += [_unknown_reference(ref, files[ref.table], int(row), str(v)) for row, v in unknown.items()]
    return problems


def _unknown_reference(ref: Reference, path: Path, row: int, value: str) -> Problem:
    target = f"{ref.target}.{ref.target_column}"
    if ref.on_unknown == "skip_row":
        return Problem(str(path), row, ref.column, value, msg("input.ref.skip_row", target=target), "warning")
    if ref.on_unknown == "warn":
        return Problem(str(path), row, ref.column, value, msg("input.ref.warn", target=target), "warning")
    return Problem(str(path), row, ref.column, value, msg("input.ref.error", target=target))


def _roster_warnings(inspectors: pd.DataFrame, path: Path | None) -> Iterable[Problem]:
    """执法证: an inspector without a certificate number may not inspect, so is never assigned."""
    if path is None:
        return []
    blank = inspectors.index[inspectors["cert_no"].isna()]
    return [
        Problem(str(path), int(row), "cert_no", "", msg("input.roster.no_certificate", term=CERTIFICATE), "warning")
        for row in blank
    ]


def shared_certificates(
    inspectors: pd.DataFrame, path: Path | None, others: pd.DataFrame | None = None, others_path: Path | None = None
) -> list[Problem]:
    """执法证号: one certificate is one person. Two inspector ids with one certificate would be
    booked as two people, so one officer could be sent to two places on one day; each later row
    is an error naming the row (of ``inspectors``, or of ``others`` in ``others_path``) it repeats."""
    if path is None:
        return []
    first: dict[str, tuple[Message, str]] = {}  # certificate → (the row that has it first, its inspector_id)
    if others is not None:
        for row, cert, person in zip(others.index, others["cert_no"], others["inspector_id"]):
            if isinstance(cert, str):
                first.setdefault(cert, (msg("input.place.row_of", row=int(row), file=str(others_path)), person))
    problems = []
    for row, cert, person in zip(inspectors.index, inspectors["cert_no"], inspectors["inspector_id"]):
        if not isinstance(cert, str):
            continue
        where, holder = first.setdefault(cert, (msg("input.place.row", row=int(row)), person))
        if holder == person:  # its own row, or the same id twice: a duplicate key, reported as such
            continue
        problems.append(
            Problem(
                str(path),
                int(row),
                "cert_no",
                cert,
                msg("input.roster.shared_certificate", term=CERTIFICATE, holder=holder, where=where),
            )
        )
        if len(problems) >= MAX_ERRORS:
            break
    return problems


def catalogue_problems(frames: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Problem]:
    """检查事项清单: each row lists at least one check point (an error if not); an item that demands
    or the sampling plan name but the catalogue lacks is a warning, once per (department, item) at
    its first row: its visits' notices and checklists show the item without check points, legal
    basis or materials. ``files``: the tables read whole (only they are compared)."""
    items, path = frames["items"], files["items"]
    problems = [
        Problem(str(path), int(row), "check_points", str(text), msg("input.items.no_check_point"))
        for row, text in items["check_points"].items()
        if not split_list(text)
    ]
    listed = set(zip(items["dept_id"], items["item"]))
    for table in ("demands", "sampling_plan"):
        if table not in files:
            continue
        frame = frames[table]
        missing = [
            (row, key) for row, key in zip(frame.index, zip(frame["dept_id"], frame["item"])) if key not in listed
        ]
        first: dict[tuple[str, str], tuple[int, int]] = {}
        for row, key in missing:
            at, count = first.get(key, (int(row), 0))
            first[key] = (at, count + 1)
        problems += [
            Problem(
                str(files[table]),
                at,
                "item",
                item,
                msg("input.items.not_catalogued", dept=Dept(dept), file=path.name, count=count),
                "warning",
            )
            for (dept, item), (at, count) in first.items()
        ]
    return problems


#: the cells each override action needs (人工研判修正); every other cell but ``note`` stays blank
OVERRIDE_FIELDS: dict[str, tuple[str, ...]] = {
    "pin_date": ("task_id", "date"),
    "together_with": ("task_id", "other_task_id"),
    "forbid_together": ("task_id", "other_task_id"),
    "lead_dept": ("task_id", "dept_id"),
    "exclude_date": ("uscc", "date"),
}
_OVERRIDE_CELLS = ("task_id", "other_task_id", "uscc", "date", "dept_id")


def override_shape_problems(overrides: pd.DataFrame, path: Path) -> list[Problem]:
    """人工研判修正: each row fills the cells its action needs and no other (a cell filled in
    vain would look honoured when it is not); a note says why; a pair names two tasks."""
    problems = []
    for row, fields in overrides.iterrows():
        action = fields["action"]
        if not isinstance(action, str) or action not in OVERRIDE_FIELDS:
            continue  # already an error of its column
        needed = OVERRIDE_FIELDS[action]
        for column in _OVERRIDE_CELLS:
            blank = pd.isna(fields[column])
            if column in needed and blank:
                problems.append(
                    Problem(str(path), int(row), column, "", msg("input.override.needs", action=action, column=column))
                )
            elif column not in needed and not blank:
                problems.append(
                    Problem(
                        str(path),
                        int(row),
                        column,
                        str(fields[column].date() if column == "date" else fields[column]),
                        msg("input.override.unused", action=action, needed=listing(needed)),
                    )
                )
        if pd.isna(fields["note"]) or not str(fields["note"]).strip():
            problems.append(Problem(str(path), int(row), "note", "", msg("input.override.no_note")))
        if "other_task_id" in needed and fields["task_id"] == fields["other_task_id"]:
            problems.append(
                Problem(
                    str(path), int(row), "other_task_id", str(fields["other_task_id"]), msg("input.override.same_task")
                )
            )
    return problems


def _drop_unknown_enterprises(history: pd.DataFrame, enterprises: pd.DataFrame) -> pd.DataFrame:
    return history[history["uscc"].isin(set(enterprises["uscc"]))]


def enterprises_update(enterprises: pd.DataFrame, path: Path, township_names: Iterable[str]) -> pd.DataFrame:
    """``enterprises`` with the rows of an update file (``planner credit``'s, or any file with the
    enterprises table's columns) upserted by uscc: a row replaces the enterprise's row, a new uscc is
    added. The file is checked like the dataset's enterprises (a township it names must exist);
    raises ``InputError`` with every problem."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            [Problem(str(path), None, None, None, msg("input.credit.update_missing", key="enterprises_update"))]
        )
    loaded = load_table(path, str(path), TABLES_BY_NAME["enterprises"])
    if isinstance(loaded, Problem):
        raise InputError([loaded])
    problems = [p for p in loaded.problems if p.severity == "error"]
    known = set(township_names)
    ref = next(r for r in REFERENCES if r.table == "enterprises" and r.column == "township")
    problems += [
        _unknown_reference(ref, path, int(row), str(value))
        for row, value in loaded.frame["township"].dropna().items()
        if value not in known
    ]
    if problems:
        raise InputError(problems)
    changed = loaded.frame
    if not len(changed):
        return enterprises
    kept = enterprises[~enterprises["uscc"].isin(changed["uscc"])]
    return pd.concat([kept, changed]).sort_values("uscc", kind="stable")


def credit_rule_ties(frame: pd.DataFrame, file: str) -> list[Problem]:
    """信用记分规则: rows with the same result, kind and department (blank: any) are equally
    specific, so neither wins (``planner credit``); each later one names the row it repeats."""
    first: dict[tuple, int] = {}
    problems = []
    for row, result, kind, dept in zip(frame.index, frame["result"], frame["kind"], frame["dept_id"]):
        key = (result, kind if isinstance(kind, str) else None, dept if isinstance(dept, str) else None)
        if key in first:
            shown = " + ".join(v or "—" for v in key)
            problems.append(
                Problem(file, int(row), "result+kind+dept_id", shown, msg("input.credit.rule_tie", row=first[key]))
            )
        else:
            first[key] = int(row)
    return problems


def horizon_warnings(dataset: Dataset, start: dt.date, end: dt.date) -> list[Problem]:
    """History is what happened before the plan; a history row inside the horizon is suspect."""
    path = dataset.files.get("history")
    if path is None:
        return []
    dates = dataset.history["date"]
    inside = dates[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
    return [
        Problem(
            str(path),
            int(row),
            "date",
            d.date().isoformat(),
            msg("input.history.in_horizon"),
            "warning",
        )
        for row, d in inside.items()
    ]


__all__ = [
    "Dataset",
    "load_dataset",
    "horizon_warnings",
    "shared_certificates",
    "catalogue_problems",
    "override_shape_problems",
    "enterprises_update",
    "credit_rule_ties",
]
