"""plan.xlsx, the workbook officials read: the plan's tables with names, in Chinese.

Every word of it — sheet names, headers, KPI labels and definitions, yes/no, kinds — comes from
the message catalogue (``sheet.*``, ``col.*``, ``kpi.*`` …) in the plan's language: Chinese by
default, English with ``lang="en"`` (a plan made with ``--lang en``); names stay as they are.
The sheets are named below by their Chinese names.

The writer takes plain DataFrames — the plan tables (contract names and columns) and the
enterprise, department and inspector tables for names — and reads no files, so ``planner
plan`` can write the workbook from the plan in memory and ``planner export`` from a plan folder.

Sheets, one row per thing:

- 总览: every KPI of kpis.json with its Chinese label and definition, the scenario and the seed;
- 检查计划: one row per visit (日期, 企业, 检查部门, every item of every department: 一表通查);
- 任务明细: one row per task, and where it went (visit and date, or the reason it was not placed);
- 人员安排: one row per inspector-day (crew, hours, enterprises in route order);
- 路线: one row per stop of each crew-day's route, in order;
- 未排任务: one row per unscheduled task, with its reason;
- 抽查记录: one row per enterprise of each sampling plan's pool (双随机 draw), with the seed;
- 企业检查台账, 检查预警: with the plan's ``ledger`` (一企一档, ``planner.ledger``): one row per
  enterprise, year and department, and one per alert (预警).

Every cell is text or a number, never a formula: the sheets are written by ``planner.xlsx``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.messages import DEFAULT_LANG, catalogue, text
from planner.plan import METHOD_MESSAGES, schedule_text
from planner.rules import reason_codes, reason_label
from planner.rules.tasks import MANDATORY_KINDS
from planner.xlsx import DATE, FLOAT, HOURS, INT, PERCENT, PRN, TEXT, TIME, Sheet, is_blank, write_sheets

if TYPE_CHECKING:
    from planner.agenda import Agenda
    from planner.dataset import Dataset

#: the sheets of plan.xlsx, in order, by their catalogue ids (``sheet.<id>``)
SHEET_IDS = ("overview", "visits", "tasks", "inspector_days", "routes", "unscheduled", "draws")
#: the plan table each sheet lists, one row per row of it (总览 lists kpis.json)
SHEET_TABLES = {
    "visits": "visits",
    "tasks": "tasks",
    "inspector_days": "crews",
    "routes": "routes",
    "unscheduled": "unscheduled",
    "draws": "draws",
}


def sheet_name(sheet_id: str, lang: str = DEFAULT_LANG) -> str:
    """The name of sheet ``sheet_id`` in ``lang`` (the catalogue's ``sheet.<id>``)."""
    return text(f"sheet.{sheet_id}", lang)


#: the sheets of plan.xlsx by their Chinese names, and the plan table each one lists
SHEETS = tuple(sheet_name(s) for s in SHEET_IDS)
SHEET_SOURCES = {sheet_name(s): table for s, table in SHEET_TABLES.items()}
#: sheets only a plan with such rows has (after 人员安排): off-site checks (非现场检查)
OPTIONAL_SHEET_TABLES = {"offsite": "offsite"}

#: kpis.json key → the kind of its value's cell; its label and definition (as in the data
#: contract) are the catalogue's ``kpi.<key>`` and ``kpi.<key>.def``
KPI_KINDS: dict[str, str] = {
    "tasks": INT,
    "scheduled": INT,
    "unscheduled": INT,
    "unscheduled_mandatory": INT,
    "visits": INT,
    "baseline_visits": INT,
    "lower_bound_visits": INT,
    "disturbance_reduction": INT,
    "disturbance_saved_joint": INT,
    "joint_inspection_rate": PERCENT,
    "joint_task_rate": PERCENT,
    "joint_visit_rate": PERCENT,
    "joint_random_rate": PERCENT,
    "joint_random_rate_strict": PERCENT,
    "offsite_checks": INT,
    "offsite_share": PERCENT,
    "inspector_hours": HOURS,
    "travel_hours": HOURS,
    "max_crew_day_hours": HOURS,
    "appointments_total": INT,
    "appointments_kept": INT,
    "checks_folded_into_appointments": INT,
    "status": TEXT,
    "method": TEXT,
    "objective": INT,
    "best_bound": INT,
    "rule_bound_visits": INT,
    "exact_models": INT,
    "exact_models_proven": INT,
    "exact_models_skipped": INT,
    "capacity_bound_mandatory": INT,
    "capacity_bound_tasks": INT,
    "schedule_kept": TEXT,
    "split_visits": INT,
}


def kpi_label(key: str, lang: str = DEFAULT_LANG) -> tuple[str, str, str]:
    """(label, definition, cell kind) of KPI ``key`` in ``lang``."""
    return text(f"kpi.{key}", lang), text(f"kpi.{key}.def", lang), KPI_KINDS[key]


#: kpis.json key → (Chinese label, definition, cell kind)
KPI_LABELS: dict[str, tuple[str, str, str]] = {key: kpi_label(key) for key in KPI_KINDS}
#: the stages of kpis.json's ``timings`` the catalogue names (``timing.<stage>``)
TIMING_STAGES = ("sample", "instance", "merge", "schedule", "tables", "bound", "capacity", "check")


@dataclass(frozen=True)
class Names:
    """Display names for the plan's identifiers.

    ``enterprises``: uscc, name, township; ``departments``: dept_id, name; ``inspectors``:
    inspector_id, name. An identifier missing here is shown without a name (or as itself).
    """

    enterprises: pd.DataFrame
    departments: pd.DataFrame
    inspectors: pd.DataFrame

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> Names:
        """The names of a loaded dataset."""
        return cls(
            dataset.enterprises[["uscc", "name", "township"]],
            dataset.departments[["dept_id", "name"]],
            dataset.inspectors[["inspector_id", "name"]],
        )

    def enterprise_name(self) -> pd.Series:
        return _lookup(self.enterprises, "uscc", "name")

    def township(self) -> pd.Series:
        return _lookup(self.enterprises, "uscc", "township")

    def department_name(self) -> pd.Series:
        return _lookup(self.departments, "dept_id", "name")

    def inspector_name(self) -> pd.Series:
        return _lookup(self.inspectors, "inspector_id", "name")


def _lookup(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    frame = frame.drop_duplicates(key)
    return pd.Series(frame[value].to_numpy(dtype=object), index=frame[key].astype(str).to_numpy(), dtype=object)


def write_workbook(
    path: Path,
    tables: Mapping[str, pd.DataFrame],
    kpis: Mapping[str, Any],
    names: Names,
    *,
    scenario: Mapping[str, Any] | None = None,
    draw_record: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
    created: dt.datetime | None = None,
    lang: str = DEFAULT_LANG,
    agenda: Agenda | None = None,
) -> None:
    """Write plan.xlsx: 总览 and one sheet per plan table, headers in ``lang``, names joined in.

    ``tables`` maps the plan folder's table names (tasks, visits, visit_tasks, crews, routes,
    unscheduled, draws) to their frames; ``kpis`` is kpis.json; ``scenario`` (the scenario's
    keys, as in manifest.json), ``draw_record`` (draw.json) and ``manifest`` (manifest.json),
    when given, add the plan's name, horizon, seed and times to 总览. ``created`` is the
    workbook's creation time; by default a fixed date, so the same plan gives the same bytes.
    ``lang``: the language of the sheet names, headers and words (Chinese by default; names as
    they are). ``agenda``: a re-optimised plan's 月会商 agenda, three sheets at the end.
    """
    seed = plan_seed(scenario, draw_record, manifest)
    overview = overview_sheet(kpis, scenario=scenario, draw_record=draw_record, manifest=manifest, lang=lang)
    # one sheet made at a time, written, then let go: a county-sized plan never holds them all
    sheets = itertools.chain(
        [overview],
        iter_table_sheets(tables, names, seed=seed, lang=lang),
        _ledger_sheets(tables, names, scenario, lang),
        _agenda_sheets(agenda),
    )
    write_sheets(path, sheets, created=created, title=text("workbook.title", lang))


def _agenda_sheets(agenda: Agenda | None) -> list[Sheet]:
    """月会商议程's three sheets (``planner.agenda``: 会商-放开的检查, 会商-有风险的法定任务,
    会商-合并机会), for a re-optimised plan."""
    if agenda is None:
        return []
    kinds = {"tasks": INT, "rank": INT, "saved": INT}
    out = []
    for name, frame in zip(("released", "at_risk", "merges"), (agenda.released, agenda.at_risk, agenda.merges)):
        headed = agenda.headed(frame.reset_index(drop=True))
        out.append(
            Sheet(
                text(f"sheet.agenda_{name}", agenda.lang),
                headed,
                {h: kinds.get(c, TEXT) for c, h in zip(frame.columns, headed.columns)},
            )
        )
    return out


def _ledger_sheets(
    tables: Mapping[str, pd.DataFrame], names: Names, scenario: Mapping | None, lang: str
) -> Iterator[Sheet]:
    """企业检查台账 and 检查预警 (``planner.ledger``), when ``tables`` holds the plan's ``ledger``."""
    if tables.get("ledger") is None:
        return
    from planner.ledger import ledger_sheets

    yield from ledger_sheets(
        tables["ledger"],
        scenario or {},
        names.enterprise_name().to_dict(),
        names.department_name().to_dict(),
        lang,
    )


def plan_seed(scenario: Mapping | None, draw_record: Mapping | None, manifest: Mapping | None) -> int | None:
    """The draw's seed: draw.json's, else the manifest's, else the scenario's."""
    for source in (draw_record, manifest, scenario):
        if source and source.get("seed") is not None:
            return int(source["seed"])
    return None


# ---------------------------------------------------------------------------------------------
# sheets as data


def overview_sheet(
    kpis: Mapping[str, Any],
    *,
    scenario: Mapping[str, Any] | None = None,
    draw_record: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
    scope: Sequence[tuple[str, Any, str]] = (),
    lang: str = DEFAULT_LANG,
) -> Sheet:
    """总览: the plan (name, horizon, seed), ``scope`` rows (label, value, note), then every KPI.

    Every key of ``kpis`` gets a row: known keys with their label and definition in ``lang``,
    unknown ones under their own name, ``timings`` one row per stage (seconds).
    """
    rows: list[tuple[str, Any, str, str, str]] = []  # label, value, definition, key, kind

    def say(message_id: str) -> str:
        return text(message_id, lang)

    def add(
        label: str, value: Any, note: str = "", key: str = "", kind: str | None = None, always: bool = False
    ) -> None:
        if value is None and not always:  # plan facts that are absent are left out; a KPI keeps its row
            return
        if kind is None:
            kind = TEXT if isinstance(value, (str, bool)) else INT if isinstance(value, (int, np.integer)) else FLOAT
        if isinstance(value, bool):
            value = say("word.yes") if value else say("word.no")
        rows.append((label, value, note, key, kind))

    scenario, draw_record, manifest = scenario or {}, draw_record or {}, manifest or {}
    add(say("overview.name"), scenario.get("name"), say("overview.name.note"), "scenario.name")
    horizon = scenario.get("horizon") or {}
    if horizon.get("start") and horizon.get("end"):
        add(
            say("overview.horizon"),
            say("overview.horizon.value").format(start=horizon["start"], end=horizon["end"]),
            say("overview.horizon.note"),
            "scenario.horizon",
        )
    add(say("overview.seed"), plan_seed(scenario, draw_record, manifest), say("overview.seed.note"), "seed", INT)
    add(say("overview.commitment"), draw_record.get("commitment"), say("overview.commitment.note"), "draw.commitment")
    add(say("overview.algorithm"), draw_record.get("algorithm"), "", "draw.algorithm")
    add(
        say("overview.redraw_reason"),
        draw_record.get("redraw_reason"),
        say("overview.redraw_reason.note"),
        "draw.redraw_reason",
    )
    add(
        say("overview.dataset"),
        draw_record.get("dataset") or scenario.get("dataset"),
        say("overview.dataset.note"),
        "dataset",
    )
    add(say("overview.started"), manifest.get("started"), "", "manifest.started")
    add(say("overview.finished"), manifest.get("finished"), "", "manifest.finished")
    for label, value, note in scope:
        add(label, value, note, "scope")
    for key, value in kpis.items():
        if key == "timings" and isinstance(value, Mapping):
            for stage, seconds in value.items():
                add(
                    say("overview.timing").format(stage=_said(f"timing.{stage}", stage, lang)),
                    seconds,
                    say("overview.timing.note"),
                    f"timings.{stage}",
                    FLOAT,
                )
            continue
        if key == "reoptimisation" and isinstance(value, Mapping):
            for part, figure in value.items():
                if isinstance(figure, Mapping):  # tasks by change
                    figure = say("sep.comma").join(
                        f"{_said(f'change_kind.{k}', k, lang)} {n:,}" for k, n in figure.items()
                    )
                add(_said(f"reopt.{part}", part, lang), figure, say("overview.reopt.note"), f"reoptimisation.{part}")
            continue
        label, definition, kind = kpi_label(key, lang) if key in KPI_KINDS else (key, "", None)
        if isinstance(value, (Mapping, list, tuple)):
            value = str(value)
        value = shown_value(key, value, lang)
        add(
            label,
            value,
            definition,
            key,
            None if kind is None or value is None or isinstance(value, str) else kind,
            always=True,
        )
    header = [say(f"col.{c}") for c in ("label", "value", "note", "key")]
    frame = pd.DataFrame([r[:4] for r in rows], columns=header)
    value_kinds = pd.Series([r[4] for r in rows], index=frame.index, dtype=object)
    return Sheet(
        sheet_name("overview", lang), frame, {header[0]: TEXT, header[1]: value_kinds, header[2]: TEXT, header[3]: TEXT}
    )


def shown_value(key: str, value: Any, lang: str = DEFAULT_LANG) -> Any:
    """A KPI's value as an official reads it: ``status`` and ``method`` say what their codes mean."""
    if key == "status":
        return _said(f"status.{value}", value, lang)
    if key == "method":
        return _said(METHOD_MESSAGES.get(str(value), ""), value, lang)
    if key == "schedule_kept" and isinstance(value, str):
        return schedule_text(value, lang)
    return value


def _said(message_id: str, otherwise: Any, lang: str = DEFAULT_LANG) -> Any:
    """The catalogue's sentence of ``message_id`` in ``lang``, or ``otherwise`` where it has none."""
    return text(message_id, lang) if message_id in catalogue(lang) else otherwise


def table_sheets(
    tables: Mapping[str, pd.DataFrame], names: Names, seed: int | None = None, lang: str = DEFAULT_LANG
) -> list[Sheet]:
    """The sheets listing the plan tables (all but 总览), in workbook order."""
    return list(iter_table_sheets(tables, names, seed, lang))


def iter_table_sheets(
    tables: Mapping[str, pd.DataFrame], names: Names, seed: int | None = None, lang: str = DEFAULT_LANG
) -> Iterator[Sheet]:
    """``table_sheets`` one at a time, each made only when the one before has been used."""
    plan = _Joined(tables, names, lang)
    yield plan.visits_sheet()
    yield plan.tasks_sheet()
    yield plan.inspector_days_sheet()
    if len(plan.offsite):
        yield plan.offsite_sheet()
    yield plan.routes_sheet()
    yield plan.unscheduled_sheet()
    yield plan.draws_sheet(seed)


class _Joined:
    """The plan tables with the lookups every sheet shares (names, who is in which crew, …)."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], names: Names, lang: str = DEFAULT_LANG):
        self.lang = lang
        self.list_sep = text("sep.list", lang)

        def table(name: str) -> pd.DataFrame:  # rows numbered by position: a sheet row points at its source row
            frame = tables.get(name)
            return pd.DataFrame() if frame is None else frame.reset_index(drop=True)

        self.tasks, self.visits, self.visit_tasks = table("tasks"), table("visits"), table("visit_tasks")
        self.crews, self.routes = table("crews"), table("routes")
        self.unscheduled, self.draws = table("unscheduled"), table("draws")
        self.offsite = table("offsite")
        self.enterprise_name, self.township = names.enterprise_name(), names.township()
        # plain dicts: looked up once per row, where a Series' .get would cost microseconds
        self.dept_name = names.department_name().to_dict()
        self.inspector_name = names.inspector_name().to_dict()
        self.enterprise_dict = self.enterprise_name.to_dict()
        # who is in each crew, in the order crews.parquet lists them
        self.members: dict[str, list[str]] = {}
        for crew_id, inspector_id in zip(_col(self.crews, "crew_id"), _col(self.crews, "inspector_id")):
            self.members.setdefault(crew_id, []).append(inspector_id)
        self.station = dict(zip(_col(self.crews, "crew_id"), _col(self.crews, "township")))
        # each visit's departments and items, in the order visit_tasks lists them (一表通查)
        self.items: dict[str, dict[str, dict[str, None]]] = {}
        for visit_id, dept_id, item in zip(
            _col(self.visit_tasks, "visit_id"), _col(self.visit_tasks, "dept_id"), _col(self.visit_tasks, "item")
        ):
            self.items.setdefault(visit_id, {}).setdefault(dept_id, {})[item] = None
        self.task_visit = pd.Series(
            _col(self.visit_tasks, "visit_id"), index=_col(self.visit_tasks, "task_id"), dtype=object
        )
        self.task_visit = self.task_visit[~self.task_visit.index.duplicated()]
        self.visit_by_id = self.visits.set_index("visit_id") if "visit_id" in self.visits else pd.DataFrame()

    def dept_label(self, dept_id: Any) -> Any:
        if is_blank(dept_id):
            return None
        name = self.dept_name.get(str(dept_id))
        return dept_id if is_blank(name) else name

    def person(self, inspector_id: str) -> str:
        name = self.inspector_name.get(str(inspector_id))
        return inspector_id if is_blank(name) else name

    def enterprise_columns(self, uscc: pd.Series) -> dict[str, pd.Series]:
        keys = uscc.astype(object).where(uscc.notna(), None).astype(str)
        return {"enterprise": keys.map(self.enterprise_name), "uscc": uscc, "township": keys.map(self.township)}

    def visits_sheet(self) -> Sheet:
        v = self.visits
        depts = [
            list(self.items.get(visit_id, {})) or list(_listlike(ids))
            for visit_id, ids in zip(_col(v, "visit_id"), _col(v, "dept_ids"))
        ]
        dept_items = text("workbook.dept_items", self.lang)
        items = [
            text("sep.clauses", self.lang).join(
                dept_items.format(
                    dept=self.dept_label(d), items=self.list_sep.join(str(i) for i in its if not is_blank(i))
                )
                for d, its in self.items.get(visit_id, {}).items()
            )
            for visit_id in _col(v, "visit_id")
        ]
        frame = _frame(
            v.index,
            {
                "date": _col(v, "date"),
                **self.enterprise_columns(pd.Series(_col(v, "uscc"), index=v.index)),
                "dept": [self.list_sep.join(str(self.dept_label(d)) for d in ds) for ds in depts],
                "items": items,
                "n_tasks": _col(v, "n_tasks"),
                "lead_dept": [None if is_blank(d) else self.dept_label(d) for d in _col(v, "lead_dept_id")],
                "overrides": [
                    self.list_sep.join(str(i) for i in _listlike(ids)) or None for ids in _col(v, "override_ids")
                ],
                "crew": _col(v, "crew_id"),
                "inspectors": [
                    self.list_sep.join(self.person(i) for i in self.members.get(c, [])) for c in _col(v, "crew_id")
                ],
                "start": _col(v, "start_min"),
                "end": _col(v, "end_min"),
                "visit_code": _col(v, "visit_code"),
                "visit_id": _col(v, "visit_id"),
            },
        )
        order = _order(v, ["date", "crew_id", "start_min", "visit_id"])
        return self.sheet("visits", frame.loc[order], {"date": DATE, "n_tasks": INT, "start": TIME, "end": TIME})

    def tasks_sheet(self) -> Sheet:
        t = self.tasks
        visit_id = pd.Series(_col(t, "task_id"), index=t.index, dtype=object).map(self.task_visit)
        visit = self.visit_by_id.reindex(visit_id.to_numpy()) if len(self.visit_by_id) else pd.DataFrame(index=visit_id)
        reasons = pd.Series(_col(self.unscheduled, "reason"), index=_col(self.unscheduled, "task_id"), dtype=object)
        reasons = reasons[~reasons.index.duplicated()]
        placed = visit_id.notna().to_numpy()
        reason = pd.Series(_col(t, "task_id"), index=t.index, dtype=object).map(reasons)
        placed_word, unplaced_word = text("word.placed", self.lang), text("word.unplaced", self.lang)
        # an off-site check (非现场检查) is done at a desk, not in a visit
        at_desk = pd.Series(_col(t, "task_id")).isin(set(_col(self.offsite, "task_id"))).to_numpy()
        desk_word = text("word.offsite", self.lang) if at_desk.any() else None
        frame = _frame(
            t.index,
            {
                "task_id": _col(t, "task_id"),
                "dept": [self.dept_label(d) for d in _col(t, "dept_id")],
                **self.enterprise_columns(pd.Series(_col(t, "uscc"), index=t.index)),
                "items": _col(t, "item"),
                "kind": self.kind_labels(_col(t, "kind")),
                "mandatory": self.yes_no(pd.Series(_col(t, "kind")).isin(MANDATORY_KINDS)),
                "window_start": _col(t, "window_start"),
                "window_end": _col(t, "window_end"),
                "duration": _col(t, "duration_min"),
                "min_inspectors": _col(t, "min_inspectors"),
                "delegable": self.yes_no(_col(t, "delegable")),
                "priority": _col(t, "priority"),
                "plan_id": _col(t, "plan_id"),
                "placement": [
                    (desk_word if d else placed_word if p else unplaced_word if has_reason else None)
                    for p, d, has_reason in zip(placed, at_desk, reason.notna().to_numpy())
                ],
                "visit_date": _col(visit, "date"),
                "start": _col(visit, "start_min"),
                "crew": _col(visit, "crew_id"),
                "visit_code": _col(visit, "visit_code"),
                "visit_id": visit_id.to_numpy(),
                "unscheduled_reason": reason.to_numpy(),
            },
        )
        kinds = {
            "window_start": DATE,
            "window_end": DATE,
            "duration": INT,
            "min_inspectors": INT,
            "priority": INT,
            "visit_date": DATE,
            "start": TIME,
        }
        return self.sheet("tasks", frame, kinds)

    def inspector_days_sheet(self) -> Sheet:
        c = self.crews
        v = (
            self.visits.loc[_order(self.visits, ["crew_id", "start_min", "visit_id"])]
            if len(self.visits)
            else self.visits
        )
        stops: dict[str, list[str]] = {}
        for crew_id, uscc in zip(_col(v, "crew_id"), _col(v, "uscc")):
            name = self.enterprise_dict.get(str(uscc))
            stops.setdefault(crew_id, []).append(uscc if is_blank(name) else name)
        crew_ids, inspector_ids = _col(c, "crew_id"), _col(c, "inspector_id")
        start, end = _col(c, "day_start_min"), _col(c, "day_end_min")
        frame = _frame(
            c.index,
            {
                "date": _col(c, "date"),
                "inspector_id": inspector_ids,
                "name": [self.person(i) for i in inspector_ids],
                "own_dept": [self.dept_label(d) for d in _col(c, "dept_id")],
                "crew": crew_ids,
                "station": _col(c, "township"),
                "leave": start,
                "return": end,
                "day_hours": (
                    pd.to_numeric(pd.Series(end), errors="coerce") - pd.to_numeric(pd.Series(start), errors="coerce")
                ).to_numpy()
                / 60,
                "n_visits": [len(stops.get(k, [])) for k in crew_ids],
                "enterprises": [self.list_sep.join(stops.get(k, [])) for k in crew_ids],
                "crewmates": [
                    self.list_sep.join(self.person(m) for m in self.members.get(k, []) if m != i)
                    for k, i in zip(crew_ids, inspector_ids)
                ],
                "candidates": _col(c, "candidates"),
                "lottery": _col(c, "lottery"),
                "repeat_visit": self.yes_no(_col(c, "repeat_visit")),
            },
        )
        kinds = {
            "date": DATE,
            "leave": TIME,
            "return": TIME,
            "day_hours": HOURS,
            "n_visits": INT,
            "candidates": INT,
            "lottery": INT,
        }
        return self.sheet("inspector_days", frame.loc[_order(c, ["inspector_id", "date", "crew_id"])], kinds)

    def offsite_sheet(self) -> Sheet:
        """非现场检查: one row per off-site check (书面·远程核查), by date and inspector."""
        o = self.offsite
        inspector_ids = _col(o, "inspector_id")
        frame = _frame(
            o.index,
            {
                "date": _col(o, "date"),
                "inspector_id": inspector_ids,
                "name": [self.person(i) for i in inspector_ids],
                "dept": [self.dept_label(d) for d in _col(o, "dept_id")],
                **self.enterprise_columns(pd.Series(_col(o, "uscc"), index=o.index)),
                "items": _col(o, "item"),
                "kind": self.kind_labels(_col(o, "kind")),
                "task_id": _col(o, "task_id"),
            },
        )
        return self.sheet("offsite", frame.loc[_order(o, ["date", "inspector_id", "task_id"])], {"date": DATE})

    def routes_sheet(self) -> Sheet:
        r = self.routes
        visit = self.visit_by_id.reindex(_col(r, "visit_id")) if len(self.visit_by_id) else pd.DataFrame(index=r.index)
        frame = _frame(
            r.index,
            {
                "date": _col(r, "date"),
                "crew": _col(r, "crew_id"),
                "station": [self.station.get(k) for k in _col(r, "crew_id")],
                "seq": _col(r, "seq"),
                **self.enterprise_columns(pd.Series(_col(visit, "uscc"), index=r.index)),
                "arrive": _col(r, "arrive_min"),
                "depart": _col(r, "depart_min"),
                "travel": _col(r, "travel_min"),
                "visit_code": _col(visit, "visit_code"),
                "visit_id": _col(r, "visit_id"),
            },
        )
        kinds = {"date": DATE, "seq": INT, "arrive": TIME, "depart": TIME, "travel": INT}
        return self.sheet("routes", frame.loc[_order(r, ["date", "crew_id", "seq"])], kinds)

    def unscheduled_sheet(self) -> Sheet:
        u = self.unscheduled
        task = self.tasks.drop_duplicates("task_id").set_index("task_id") if "task_id" in self.tasks else pd.DataFrame()
        task = task.reindex(_col(u, "task_id")) if len(task) else pd.DataFrame(index=u.index)

        def either(column: str) -> np.ndarray:  # the unscheduled table's own column, else the task's
            own, from_task = _col(u, column), _col(task, column)
            return np.where(pd.isna(own), from_task, own) if column in u else from_task

        kind = either("kind")
        frame = _frame(
            u.index,
            {
                "task_id": _col(u, "task_id"),
                "dept": [self.dept_label(d) for d in either("dept_id")],
                **self.enterprise_columns(pd.Series(either("uscc"), index=u.index)),
                "items": _col(task, "item"),
                "kind": self.kind_labels(kind),
                "mandatory": self.yes_no(pd.Series(kind).isin(MANDATORY_KINDS)),
                "window_start": _col(task, "window_start"),
                "window_end": _col(task, "window_end"),
                "reason_category": reason_codes(u).map(lambda c: reason_label(c, self.lang)).to_numpy()
                if len(u)
                else [],
                "reason": _col(u, "reason"),
            },
        )
        return self.sheet("unscheduled", frame, {"window_start": DATE, "window_end": DATE})

    def draws_sheet(self, seed: int | None) -> Sheet:
        d = self.draws
        dept = _col(d, "dept_id") if "dept_id" in d else pd.Series(_col(d, "plan_id")).map(self.plan_dept()).to_numpy()
        substitute = pd.Series(_col(d, "substitute_for"), index=d.index, dtype=object)
        frame = _frame(
            d.index,
            {
                "plan_id": _col(d, "plan_id"),
                "dept": [self.dept_label(x) for x in dept],
                "joint_group": _col(d, "joint_group"),
                "stratum": _col(d, "stratum"),
                **self.enterprise_columns(pd.Series(_col(d, "uscc"), index=d.index)),
                "prn": _col(d, "prn"),
                "rank": _col(d, "rank"),
                "drawn": self.yes_no(_col(d, "drawn")),
                "selected": self.yes_no(_col(d, "selected")),
                "substitute_for": substitute.to_numpy(),
                "substitute_name": substitute.map(
                    lambda u: None if is_blank(u) else self.enterprise_dict.get(str(u))
                ).to_numpy(),
                "replace_reason": _col(d, "reason"),
                "year": _col(d, "year"),
                "seed": np.full(len(d), np.nan if seed is None else seed, dtype=float),
            },
        )
        kinds = {"prn": PRN, "rank": INT, "year": INT, "seed": INT}
        return self.sheet("draws", frame, kinds)

    def sheet(self, sheet_id: str, frame: pd.DataFrame, kinds: dict[str, str]) -> Sheet:
        """Sheet ``sheet_id`` of ``frame``, whose columns are header ids (``col.<id>``), in the plan's language."""
        headers = {h: text(f"col.{h}", self.lang) for h in frame.columns}
        return Sheet(
            sheet_name(sheet_id, self.lang),
            frame.rename(columns=headers),
            {headers[h]: kinds.get(h, TEXT) for h in frame.columns},
            (SHEET_TABLES | OPTIONAL_SHEET_TABLES)[sheet_id],
        )

    def kind_labels(self, kinds: Any) -> np.ndarray:
        return np.array([None if is_blank(k) else _said(f"kind.{k}", str(k), self.lang) for k in kinds], dtype=object)

    def yes_no(self, values: Any) -> np.ndarray:
        yes, no = text("word.yes", self.lang), text("word.no", self.lang)
        return np.array([None if is_blank(v) else (yes if bool(v) else no) for v in values], dtype=object)

    def plan_dept(self) -> dict[str, str]:
        """plan_id → dept_id, from the drawn random tasks (draws tables without a dept_id column)."""
        return dict(zip(_col(self.tasks, "plan_id"), _col(self.tasks, "dept_id")))


def _frame(index: pd.Index, columns: Mapping[str, Any]) -> pd.DataFrame:
    """A sheet frame on ``index``: arrays taken as they are, Series by position (not by label)."""
    data = {h: (v.to_numpy() if isinstance(v, pd.Series) else v) for h, v in columns.items()}
    return pd.DataFrame(data, index=index)


def _col(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array (missing values None); all None when the table lacks it."""
    if column not in frame:
        return np.full(len(frame), None, dtype=object)
    values = frame[column].to_numpy(dtype=object)
    return np.where(pd.isna(values), None, values) if values.dtype == object and len(values) else values


def _order(frame: pd.DataFrame, columns: list[str]) -> pd.Index:
    """``frame``'s index sorted by those of ``columns`` it has (stable, so ties keep table order)."""
    present = [c for c in columns if c in frame]
    if not present or not len(frame):
        return frame.index
    keys = frame[present].copy()
    for c in present:  # object columns (dates, ids) as text: ISO dates sort like dates, and None sorts first
        if keys[c].dtype == object:
            keys[c] = keys[c].map(lambda x: "" if is_blank(x) else str(x))
    return keys.sort_values(present, kind="stable").index


def _listlike(value: Any) -> list:
    if is_blank(value):
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


# ---------------------------------------------------------------------------------------------
# rendering: xlsxwriter in constant_memory mode, row by row
#
# Each column is made ready once (text as str, numbers, dates and times as Excel serials, blanks
# as None), then the rows are written in order, as constant_memory requires: only the cells
# that are not blank, text by write_string, numbers by write_number. constant_memory writes
# text as inline strings in the sheet, never through write(): no cell is ever a formula.


__all__ = [
    "SHEETS",
    "SHEET_SOURCES",
    "SHEET_IDS",
    "SHEET_TABLES",
    "KPI_LABELS",
    "KPI_KINDS",
    "kpi_label",
    "sheet_name",
    "Names",
    "write_workbook",
    "overview_sheet",
    "table_sheets",
    "plan_seed",
]
