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
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.dataset import load_dataset
from planner.export import read_plan_folder, recorded_dataset
from planner.messages import msg
from planner.problems import InputError, Problem
from planner.rules import OUTCOMES, reason_codes
from planner.rules.caps import is_capped
from planner.rules.quiet_days import quiet_mask
from planner.rules.stays import MAX_VISIT_ONSITE_MIN
from planner.scenario import Scenario
from planner.workdays import work_calendar

SHIFT_DAYS = 14  # how far a department may be asked to move a window, by default
COMING_DAYS = 31  # "the coming month"
FIXED_KINDS = ("triggered", "followup", "appointment")  # their dates are not the departments' to move
MANDATORY_KINDS = ("key", "triggered", "followup")
CHANGED = ("moved", "dropped")

RELEASED_COLUMNS = ["检查码", "企业", "统一社会信用代码", "原日期", "原检查组", "任务数", "去向", "原因"]
AT_RISK_COLUMNS = ["任务编号", "部门", "企业", "统一社会信用代码", "类型", "时间窗", "原因"]
MERGE_COLUMNS = [
    "排名",
    "调整部门",
    "检查事项",
    "原时间窗",
    "建议时间窗",
    "调整天数",
    "减少扰企户次",
    "合并对象部门",
    "涉及企业",
    "任务编号",
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
    merge_pairs: pd.DataFrame  # one row per pair of visits a suggestion merges
    capacity_line: str  # the county's capacity bound, when the plan has it

    @property
    def disturbances_saved(self) -> int:
        """减少扰企户次 if every merge suggestion is taken."""
        return int(self.merges["减少扰企户次"].sum()) if len(self.merges) else 0


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
) -> Agenda:
    """The agenda of a plan (``tables``: its parquet tables by name, ``changes`` among them for a
    re-optimised plan) for the meeting held on ``from_date``; visits inside the freeze window are
    announced and are not suggested for merging."""
    freeze_end = from_date + dt.timedelta(days=freeze_days)
    name_of = dict(zip(enterprises["uscc"], enterprises["name"]))
    dept_name = dict(zip(departments["dept_id"], departments["name"]))
    released = _released(tables.get("changes"), from_date, freeze_end, name_of)
    at_risk = _at_risk(tables, from_date, name_of, dept_name)
    merges, pairs = _merges(tables, workdays, quiet_days, freeze_end, shift_days, name_of, dept_name)
    kpis = kpis or {}
    bound, placed = kpis.get("capacity_bound_mandatory"), kpis.get("scheduled_mandatory")
    capacity_line = ""
    if bound is not None:
        capacity_line = f"人力容量证明：现有人员下任何计划至多安排法定任务 {int(bound):,} 项" + (
            f"，本计划已安排 {int(placed):,} 项" if placed is not None else ""
        )
    return Agenda(from_date, freeze_end, shift_days, released, at_risk, merges, pairs, capacity_line)


def _released(changes: pd.DataFrame | None, start: dt.date, end: dt.date, name_of: dict) -> pd.DataFrame:
    """Visits of the freeze window that changed, one row each: where their tasks went and why."""
    if changes is None or not len(changes):
        return pd.DataFrame(columns=RELEASED_COLUMNS)
    old = pd.to_datetime(changes["old_date"]).dt.date
    hit = changes[(old >= start) & (old < end) & changes["change"].isin(CHANGED)]
    rows = []
    for code, group in hit.groupby("old_visit_code", sort=True):
        first = group.iloc[0]
        went = sorted({str(d) for d in group["new_date"].dropna()})
        rows.append(
            (
                code,
                name_of.get(first["uscc"], ""),
                first["uscc"],
                str(first["old_date"]),
                first["old_crew_id"],
                len(group),
                "、".join(went) if went else "未能重新安排",
                first["reason"],
            )
        )
    return pd.DataFrame(rows, columns=RELEASED_COLUMNS)


def _at_risk(tables: dict[str, pd.DataFrame], start: dt.date, name_of: dict, dept_name: dict) -> pd.DataFrame:
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
            r.kind,
            f"{pd.Timestamp(r.window_start).date()}至{pd.Timestamp(r.window_end).date()}",
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
        rows.append(
            (
                rank,
                "、".join(dept_name.get(d, d) for d in depts),
                "；".join(items),
                f"{first}至{last}",
                f"{first + shift}至{last + shift}",
                f"{'推后' if days > 0 else '提前'} {abs(days)} 天",
                len(found),
                "、".join(dept_name.get(d, d) for d in with_depts) or "同部门",
                "、".join(firms[:3]) + (f" 等 {len(firms)} 家" if len(firms) > 3 else ""),
                "、".join(sorted({t for m, _ in found for t in m.task_ids})),
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
    pair_frame = pd.DataFrame(
        pairs,
        columns=[
            "排名",
            "统一社会信用代码",
            "企业",
            "调整方检查码",
            "调整方日期",
            "合并对象检查码",
            "合并对象日期",
            "调整天数",
            "任务编号",
        ],
    )
    return merges, pair_frame


def _visits(tables: dict[str, pd.DataFrame], after: dt.date) -> dict[str, list[_Visit]]:
    """The plan's visits on or after ``after``, per enterprise with two or more of them."""
    visits = tables["visits"].assign(date=pd.to_datetime(tables["visits"]["date"]).dt.date)
    visits = visits[visits["date"] >= after]
    tasks = tables["tasks"].set_index("task_id")
    joined = tables["visit_tasks"][["task_id", "visit_id"]].join(tasks, on="task_id")
    joined = joined[joined["visit_id"].isin(visits["visit_id"])]
    by_visit = {v: g for v, g in joined.groupby("visit_id", sort=False)}
    out: dict[str, list[_Visit]] = defaultdict(list)
    several = visits[visits["uscc"].duplicated(keep=False)].sort_values(["uscc", "date", "visit_id"])
    for visit_id, code, uscc, date in several[["visit_id", "visit_code", "uscc", "date"]].itertuples(index=False):
        group = by_visit.get(visit_id)
        if group is None:
            continue
        starts = pd.to_datetime(group["window_start"]).dt.date
        ends = pd.to_datetime(group["window_end"]).dt.date
        key = tuple(sorted(set(zip(group["dept_id"], group["item"], starts, ends))))
        out[uscc].append(
            _Visit(
                code,
                uscc,
                date,
                tuple(sorted(group["task_id"])),
                tuple(sorted(set(group["dept_id"]))),
                max(starts),
                min(ends),
                int(group["duration_min"].sum()),
                bool(is_capped(group["kind"]).any()),
                not group["kind"].isin(FIXED_KINDS).any(),
                key,
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


def agenda_markdown(agenda: Agenda, title: str = "月会商议程") -> str:
    """The agenda as Markdown (Chinese), for the console and for agenda.md."""
    lines = [
        f"# {title}",
        "",
        f"会商日期：{agenda.from_date}；冻结期至 {agenda.freeze_end - dt.timedelta(days=1)}"
        if agenda.freeze_end > agenda.from_date
        else f"会商日期：{agenda.from_date}",
        "",
        f"## 一、冻结期内放开的检查（{len(agenda.released)} 次）",
        "",
    ]
    lines += _table(agenda.released) if len(agenda.released) else ["无。", ""]
    lines += [f"## 二、下月有风险的法定任务（{len(agenda.at_risk)} 项）", ""]
    if agenda.capacity_line:
        lines += [agenda.capacity_line, ""]
    lines += _table(agenda.at_risk) if len(agenda.at_risk) else ["无。", ""]
    lines += [
        f"## 三、合并机会（时间窗调整不超过 {agenda.shift_days} 天；全部采纳可减少扰企 {agenda.disturbances_saved} 户次）",
        "",
    ]
    lines += _table(agenda.merges) if len(agenda.merges) else ["无。", ""]
    return "\n".join(lines)


def _table(frame: pd.DataFrame, limit: int = 50) -> list[str]:
    """A Markdown table of the first ``limit`` rows (cells with | or line breaks made safe)."""

    def cell(value) -> str:
        return str(value).replace("|", "／").replace("\n", " ")

    out = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    out += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.head(limit).itertuples(index=False)]
    if len(frame) > limit:
        out.append(f"| … 另有 {len(frame) - limit} 行 |" + " |" * (len(frame.columns) - 1))
    return [*out, ""]


def plan_agenda(plan_dir: Path | str, dataset_dir: Path | str | None = None, shift_days: int = SHIFT_DAYS) -> Agenda:
    """The agenda of a plan folder: the meeting is held on its re-optimisation date (for an annual
    plan, the horizon's first day), with its freeze window; names from its dataset (by default the
    recorded one). Raises ``InputError`` when the folder or the dataset cannot be read."""
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
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    parent = plan.manifest.get("parent") or {}
    start = dt.date.fromisoformat(str(parent["as_of"])) if parent.get("as_of") else scenario.horizon.start
    tables = dict(plan.tables)
    changes = Path(plan_dir) / "changes.parquet"
    if changes.is_file():
        tables["changes"] = pd.read_parquet(changes)
    return make_agenda(
        tables,
        dataset.enterprises,
        dataset.departments,
        calendar.workdays,
        scenario.quiet_days,
        start,
        int(parent.get("freeze_days", 0)),
        shift_days,
        plan.kpis,
    )
