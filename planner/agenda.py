"""月会商议程: what the monthly meeting has to decide, from a plan's tables (Chinese).

Three parts, each a table the workbook, the report and ``planner agenda`` show:

1. **冻结期内放开的检查** — visits of the freeze window a re-optimisation let go (a member newly
   on leave with nobody to replace them, a closed firm, a cancelled task …), where their tasks went
   and why (from ``changes.parquet``);
2. **下月有风险的法定任务** — mandatory tasks (重点、投诉举报、整改复查) the plan does not place
   whose window reaches into the coming month, each with the planner's reason: for want of staff
   that reason counts the inspector-days of the window, which is the proof that no crew could go;
3. **合并机会** — two visits the plan makes at one enterprise after the freeze window that would
   be one (综合查一次) if one side's windows moved by at most ``shift_days`` days: the windows of
   the two visits do not meet, the moving side holds no complaint, follow-up or appointment
   (their dates are not the departments' to move), and the two stays together fit one visit.
   Suggestions are grouped by the tasks that move (department, item, window, days) and ranked by
   the visits they save (减少扰企户次), so the departments can agree to shift and the next plan
   merges them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planner.dataset import Dataset, load_dataset
from planner.export import read_plan_folder, recorded_dataset
from planner.messages import DEFAULT_LANG, language_of, msg, text
from planner.problems import InputError, Problem
from planner.rules import OUTCOMES, reason_codes
from planner.rules.caps import is_capped
from planner.rules.quiet_days import quiet_mask
from planner.rules.stays import MAX_VISIT_ONSITE_MIN
from planner.scenario import Scenario
from planner.workdays import work_calendar

SHIFT_DAYS = 14  # how far a department may be asked to move a window, by default ([reoptimize] shift_days)
COMING_DAYS = 31  # "the coming month"
FIXED_KINDS = ("triggered", "followup", "appointment")  # their dates are not the departments' to move
MANDATORY_KINDS = ("key", "triggered", "followup")
CHANGED = ("moved", "dropped")
AGENDA_FILE = "agenda.md"  # in every re-optimised plan folder
#: the tables of a plan folder the agenda reads
TABLES = ("tasks", "visits", "visit_tasks", "unscheduled", "changes")

# the columns of the agenda's tables; their headers are the catalogue's ``agenda.col.<column>``
RELEASED_COLUMNS = ["visit_code", "enterprise", "uscc", "old_date", "old_crew", "tasks", "went", "reason"]
AT_RISK_COLUMNS = ["task_id", "department", "enterprise", "uscc", "kind", "window", "reason"]
MERGE_COLUMNS = [
    "rank",
    "move_depts",
    "items",
    "old_window",
    "new_window",
    "shift",
    "saved",
    "with_depts",
    "firms",
    "task_ids",
]
PAIR_COLUMNS = [
    "rank",
    "uscc",
    "enterprise",
    "mover_code",
    "mover_date",
    "other_code",
    "other_date",
    "days",
    "task_ids",
]


@dataclass(frozen=True)
class Agenda:
    """The meeting's three tables (module doc), the dates they cover and a headline."""

    from_date: dt.date
    freeze_end: dt.date
    shift_days: int
    released: pd.DataFrame  # RELEASED_COLUMNS
    at_risk: pd.DataFrame  # AT_RISK_COLUMNS
    merges: pd.DataFrame  # MERGE_COLUMNS, best first
    merge_pairs: pd.DataFrame  # PAIR_COLUMNS: one row per pair of visits a suggestion merges
    capacity_line: str  # the county's capacity bound, when the plan has it
    lang: str = DEFAULT_LANG  # the language of its words (names as they are)

    @property
    def disturbances_saved(self) -> int:
        """减少扰企户次 if every merge suggestion is taken."""
        return int(self.merges["saved"].sum()) if len(self.merges) else 0

    def headed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (one of the agenda's tables) with its headers in the agenda's language."""
        return frame.rename(columns={c: text(f"agenda.col.{c}", self.lang) for c in frame.columns})

    @property
    def sections(self) -> tuple[tuple[str, pd.DataFrame], ...]:
        """The three parts as (title, table), in the agenda's language."""
        saved, lang = self.disturbances_saved, self.lang
        return (
            (text("agenda.released.title", lang).format(n=len(self.released)), self.released),
            (text("agenda.at_risk.title", lang).format(n=len(self.at_risk)), self.at_risk),
            (text("agenda.merges.title", lang).format(days=self.shift_days, saved=saved), self.merges),
        )

    @property
    def dateline(self) -> str:
        """会商日期 and the end of the freeze window."""
        if self.freeze_end > self.from_date:
            last = self.freeze_end - dt.timedelta(days=1)
            return text("agenda.date_frozen", self.lang).format(date=self.from_date, end=last)
        return text("agenda.date", self.lang).format(date=self.from_date)


def make_agenda(
    tables: dict[str, pd.DataFrame],
    enterprises: pd.DataFrame,
    departments: pd.DataFrame,
    workdays: tuple[dt.date, ...],
    quiet_days: tuple[int, int] | None,
    from_date: dt.date,
    freeze_days: int = 0,
    shift_days: int = SHIFT_DAYS,
    kpis: dict | None = None,
    lang: str = DEFAULT_LANG,
) -> Agenda:
    """The agenda of a plan (``tables``: its parquet tables by name, ``changes`` among them for a
    re-optimised plan) for the meeting held on ``from_date``; visits inside the freeze window are
    announced and are not suggested for merging. Its words are in ``lang`` (the reasons are the
    plan's own sentences)."""
    freeze_end = from_date + dt.timedelta(days=freeze_days)
    name_of = dict(zip(enterprises["uscc"], enterprises["name"]))
    dept_name = dict(zip(departments["dept_id"], departments["name"]))
    released = _released(tables.get("changes"), from_date, freeze_end, name_of, lang)
    at_risk = _at_risk(tables, from_date, name_of, dept_name, lang)
    merges, pairs = _merges(tables, workdays, quiet_days, freeze_end, shift_days, name_of, dept_name, lang)
    kpis = kpis or {}
    bound, placed = kpis.get("capacity_bound_mandatory"), kpis.get("scheduled_mandatory")
    capacity_line = ""
    if bound is not None:
        capacity_line = text("agenda.capacity", lang).format(bound=f"{int(bound):,}") + (
            text("agenda.capacity_placed", lang).format(placed=f"{int(placed):,}") if placed is not None else ""
        )
    return Agenda(from_date, freeze_end, shift_days, released, at_risk, merges, pairs, capacity_line, lang)


def _window(start, end, lang: str) -> str:
    return text("agenda.window", lang).format(start=start, end=end)


def _released(changes: pd.DataFrame | None, start: dt.date, end: dt.date, name_of: dict, lang: str) -> pd.DataFrame:
    """Visits of the freeze window that changed, one row each: where their tasks went and why."""
    if changes is None or not len(changes):
        return pd.DataFrame(columns=RELEASED_COLUMNS)
    old = pd.to_datetime(changes["old_date"]).dt.date
    hit = changes[(old >= start) & (old < end) & changes["change"].isin(CHANGED)]
    rows = []
    for code, group in hit.groupby("old_visit_code", sort=True):
        first = group.iloc[0]
        went = sorted({str(pd.Timestamp(d).date()) for d in group["new_date"].dropna()})
        rows.append(
            (
                code,
                name_of.get(first["uscc"], ""),
                first["uscc"],
                str(pd.Timestamp(first["old_date"]).date()),
                first["old_crew_id"],
                len(group),
                text("sep.list", lang).join(went) if went else text("agenda.not_replanned", lang),
                first["reason"],
            )
        )
    return pd.DataFrame(rows, columns=RELEASED_COLUMNS)


def _at_risk(
    tables: dict[str, pd.DataFrame], start: dt.date, name_of: dict, dept_name: dict, lang: str
) -> pd.DataFrame:
    """Mandatory tasks left unplaced whose window reaches into the coming month, with the reason."""
    unscheduled, tasks = tables["unscheduled"], tables["tasks"]
    end = start + dt.timedelta(days=COMING_DAYS)
    merged = unscheduled[["task_id", "reason"]].assign(code=reason_codes(unscheduled)).merge(tasks, on="task_id")
    first = pd.to_datetime(merged["window_start"]).dt.date
    last = pd.to_datetime(merged["window_end"]).dt.date
    risky = merged[merged["kind"].isin(MANDATORY_KINDS) & (last >= start) & (first < end)]
    # a task that left the plan because it is finished (done, cancelled, its firm closed) is not at risk
    finished = {o.code for o in OUTCOMES if o.code != "expired"}
    risky = risky[~risky["code"].isin(finished)]
    rows = [
        (
            r.task_id,
            dept_name.get(r.dept_id, r.dept_id),
            name_of.get(r.uscc, ""),
            r.uscc,
            text(f"kind.{r.kind}", lang),
            _window(pd.Timestamp(r.window_start).date(), pd.Timestamp(r.window_end).date(), lang),
            r.reason,
        )
        for r in risky.sort_values(["window_end", "task_id"]).itertuples(index=False)
    ]
    return pd.DataFrame(rows, columns=AT_RISK_COLUMNS)


@dataclass(frozen=True)
class _Visit:
    visit_code: str
    uscc: str
    date: dt.date
    task_ids: tuple[str, ...]
    depts: tuple[str, ...]
    first: dt.date  # the latest window start of its tasks
    last: dt.date  # the earliest window end
    onsite_min: int
    capped: bool
    movable: bool  # no task whose date is not the departments' to move
    key: tuple  # what moves together: (dept, item, window start, window end) of each task


def _merges(
    tables: dict[str, pd.DataFrame],
    workdays: tuple[dt.date, ...],
    quiet_days: tuple[int, int] | None,
    after: dt.date,
    shift_days: int,
    name_of: dict,
    dept_name: dict,
    lang: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge suggestions (module doc, point 3) and the pairs of visits behind them."""
    visits = _visits(tables, after)
    quiet = dict(zip(workdays, quiet_mask(quiet_days, workdays).tolist()))
    suggestions: dict[tuple, list[tuple]] = defaultdict(list)
    for mine in visits.values():
        for i, a in enumerate(mine):
            for b in mine[i + 1 :]:
                option = _best_shift(a, b, quiet, shift_days)
                if option is not None:
                    mover, other, days = option
                    suggestions[(mover.key, days)].append((mover, other))
    rows, pairs = [], []
    ranked = sorted(suggestions.items(), key=lambda kv: (-len(kv[1]), abs(kv[0][1]), kv[0][0]))
    for rank, ((key, days), found) in enumerate(ranked, start=1):
        depts = sorted({d for d, *_ in key})
        items = sorted({item for _, item, *_ in key})
        first = max(ws for *_, ws, _ in key)
        last = min(we for *_, we in key)
        shift = dt.timedelta(days=days)
        with_depts = sorted({d for _, other in found for d in other.depts} - set(depts))
        firms = sorted({name_of.get(m.uscc, m.uscc) for m, _ in found})
        sep = text("sep.list", lang)
        shown = sep.join(firms[:3])
        rows.append(
            (
                rank,
                sep.join(dept_name.get(d, d) for d in depts),
                text("sep.items", lang).join(items),
                _window(first, last, lang),
                _window(first + shift, last + shift, lang),
                text("agenda.later" if days > 0 else "agenda.earlier", lang).format(days=abs(days)),
                len(found),
                sep.join(dept_name.get(d, d) for d in with_depts) or text("agenda.same_dept", lang),
                text("agenda.firms_more", lang).format(firms=shown, n=len(firms)) if len(firms) > 3 else shown,
                sep.join(sorted({t for m, _ in found for t in m.task_ids})),
            )
        )
        pairs += [
            (
                rank,
                m.uscc,
                name_of.get(m.uscc, ""),
                m.visit_code,
                m.date,
                o.visit_code,
                o.date,
                days,
                ";".join(m.task_ids),
            )
            for m, o in found
        ]
    merges = pd.DataFrame(rows, columns=MERGE_COLUMNS)
    return merges, pd.DataFrame(pairs, columns=PAIR_COLUMNS)


def _visits(tables: dict[str, pd.DataFrame], after: dt.date) -> dict[str, list[_Visit]]:
    """The plan's visits on or after ``after``, per enterprise with two or more of them."""
    visits = tables["visits"].assign(date=pd.to_datetime(tables["visits"]["date"]).dt.date)
    visits = visits[visits["date"] >= after]
    several = visits[visits["uscc"].duplicated(keep=False)].sort_values(["uscc", "date", "visit_id"])
    tasks = tables["tasks"].set_index("task_id")
    joined = tables["visit_tasks"][["task_id", "visit_id"]].join(tasks, on="task_id")
    joined = joined[joined["visit_id"].isin(several["visit_id"])]
    # one pass over plain values: a county has thousands of such visits
    rows: dict[str, list[tuple]] = defaultdict(list)
    for row in zip(
        joined["visit_id"],
        joined["task_id"],
        joined["dept_id"],
        joined["item"],
        pd.to_datetime(joined["window_start"]).dt.date,
        pd.to_datetime(joined["window_end"]).dt.date,
        joined["duration_min"].astype(int),
        is_capped(joined["kind"]),
        joined["kind"].isin(FIXED_KINDS),
    ):
        rows[row[0]].append(row[1:])
    out: dict[str, list[_Visit]] = defaultdict(list)
    for visit_id, code, uscc, date in several[["visit_id", "visit_code", "uscc", "date"]].itertuples(index=False):
        group = rows.get(visit_id)
        if not group:
            continue
        task_ids, depts, items, starts, ends, minutes, capped, fixed = zip(*group)
        out[uscc].append(
            _Visit(
                code,
                uscc,
                date,
                tuple(sorted(task_ids)),
                tuple(sorted(set(depts))),
                max(starts),
                min(ends),
                int(sum(minutes)),
                any(capped),
                not any(fixed),
                tuple(sorted(set(zip(depts, items, starts, ends)))),
            )
        )
    return out


def _best_shift(a: _Visit, b: _Visit, quiet: dict, shift_days: int) -> tuple[_Visit, _Visit, int] | None:
    """The smallest move (days; + later, − earlier) of one visit's windows that lets the two share
    a working day, within ``shift_days``: (the visit that moves, the other, days), or None."""
    if a.first <= b.last and b.first <= a.last:
        return None  # their windows meet: something else keeps them apart (caps, stays, staff)
    if a.onsite_min + b.onsite_min > MAX_VISIT_ONSITE_MIN:
        return None
    capped = a.capped or b.capped
    options = []
    for mover, other in ((a, b), (b, a)):
        if not mover.movable:
            continue
        direction = 1 if mover.last < other.first else -1
        for days in range(1, shift_days + 1):
            shift = dt.timedelta(days=direction * days)
            lo, hi = max(mover.first + shift, other.first), min(mover.last + shift, other.last)
            if lo <= hi and any(
                d in quiet and not (capped and quiet[d])
                for d in (lo + dt.timedelta(n) for n in range((hi - lo).days + 1))
            ):
                options.append(
                    (days, len(mover.task_ids), mover.depts, mover.visit_code, mover, other, direction * days)
                )
                break
    if not options:
        return None
    *_, mover, other, days = min(options, key=lambda o: o[:4])
    return mover, other, days


def agenda_markdown(agenda: Agenda) -> str:
    """The agenda as Markdown in its language, for the console and for agenda.md."""
    lines = [f"# {text('agenda.title', agenda.lang)}", "", agenda.dateline, ""]
    for n, (title, frame) in enumerate(agenda.sections):
        lines += [f"## {title}", ""]
        if n == 1 and agenda.capacity_line:
            lines += [agenda.capacity_line, ""]
        lines += _table(agenda.headed(frame), agenda.lang) if len(frame) else [text("agenda.none", agenda.lang), ""]
    return "\n".join(lines)


def _table(frame: pd.DataFrame, lang: str, limit: int = 50) -> list[str]:
    """A Markdown table of the first ``limit`` rows (cells with | or line breaks made safe)."""

    def cell(value) -> str:
        return str(value).replace("|", "／").replace("\n", " ")

    out = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.head(limit).itertuples(index=False)]
    if len(frame) > limit:
        more = text("agenda.more_rows", lang).format(n=len(frame) - limit)
        out.append(f"| {more} |" + " |" * (len(frame.columns) - 1))
    return [*out, ""]


def recorded_agenda(
    folder: Path,
    dataset: Dataset,
    scenario: Scenario,
    parent: Mapping[str, Any] | None,
    kpis: Mapping[str, Any] | None,
    lang: str = DEFAULT_LANG,
    shift_days: int | None = None,
) -> Agenda:
    """The agenda of the plan folder ``folder`` as its files hold it — what ``write_plan`` puts in
    plan.xlsx, report.html and agenda.md and ``planner verify`` makes again: the meeting is held on
    the re-optimisation's as-of date with its freeze window (``parent``, as in manifest.json; an
    annual plan: the horizon's first day), the merge distance is the scenario's ``[reoptimize]
    shift_days`` unless ``shift_days`` says otherwise, names from ``dataset``."""
    tables = {n: pd.read_parquet(folder / f"{n}.parquet") for n in TABLES if (folder / f"{n}.parquet").is_file()}
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    parent = parent or {}
    start = dt.date.fromisoformat(str(parent["as_of"])) if parent.get("as_of") else scenario.horizon.start
    return make_agenda(
        tables,
        dataset.enterprises,
        dataset.departments,
        calendar.workdays,
        scenario.quiet_days,
        start,
        int(parent.get("freeze_days", 0)),
        scenario.reoptimize.shift_days if shift_days is None else shift_days,
        dict(kpis or {}),
        lang,
    )


def plan_agenda(plan_dir: Path | str, dataset_dir: Path | str | None = None, shift_days: int | None = None) -> Agenda:
    """The agenda of a plan folder (``recorded_agenda``), in its language; names from its dataset
    (by default the recorded one); ``shift_days`` by default the recorded scenario's. Raises
    ``InputError`` when the folder or the dataset cannot be read."""
    plan = read_plan_folder(plan_dir)
    folder = Path(dataset_dir) if dataset_dir is not None else recorded_dataset(plan)
    if folder is None:
        raise InputError([Problem(str(plan_dir), None, None, None, msg("input.agenda.no_dataset", option="--dataset"))])
    dataset = load_dataset(folder)
    recorded = plan.manifest.get("scenario") or {}
    try:
        scenario = Scenario.model_validate({**recorded, "source": Path(plan_dir) / "manifest.json"}, strict=False)
    except Exception as error:  # whatever shape the manifest's scenario was edited into
        raise InputError(
            [
                Problem(
                    str(Path(plan_dir) / "manifest.json"),
                    None,
                    "scenario",
                    None,
                    msg("input.scenario.invalid", error=str(error)),
                )
            ]
        ) from None
    lang = language_of(plan.manifest.get("language"))
    return recorded_agenda(Path(plan_dir), dataset, scenario, plan.manifest.get("parent"), plan.kpis, lang, shift_days)
