"""月会商: re-optimise a plan part-way through its horizon, keeping what is done and announced.

The rhythm is 年计划、季优化、月会商: an annual plan, then each month the actuals come back —
tasks done, cancelled, failed, enterprises closed, new complaint tasks, new leave — and what
is left is planned again. A plan that reshuffles everything is useless, because enterprises and
inspectors were told. So stability comes first (docs/reoptimize.md has the rules in full):

1. **Before ``as_of``** nothing changes: a visit keeps its date, crew, members, visit id and
   code (亮码: a code, once issued, belongs to its visit for ever); only the tasks that did not
   happen leave it (a visit none of whose tasks happened disappears).
2. **Every planned visit on or after ``as_of``** keeps its date, crew and code while it stays
   possible. A member who can no longer go — new leave, off the roster, a conflict (回避), a day
   too long for their ``hours_per_day``, their ``max_days`` spent — is replaced by an inspector
   of the same department who can (the seat lottery decides among them, and the crew must still
   cover every visit, 委托查 included); with nobody, the member leaves the crew, and only the
   visits the smaller crew cannot carry are released, each with its reason.
3. **The freeze window** (``freeze_days`` from ``as_of``, the notice period) gets no new work:
   no kept visit gains a task, a released visit may go back to its original date with another
   crew or else after the window, and every other open task goes after the window — except a
   new complaint or follow-up task (投诉举报、整改复查), which may be placed urgently from the
   day after ``as_of`` (``change = urgent``).
4. **Open work** — new demands, failed tasks, released tasks and the tasks the previous plan
   could not place — first joins a kept visit at the same enterprise after the freeze window
   when its window, the crew's departments, the caps and the day allow (综合查一次 even for late
   arrivals), then is merged and scheduled like a new plan around the kept crews (which it may
   join, never displace).

Every task gets one row in ``changes`` with a reason in Chinese; ``lineage_findings``
(``planner.actuals``) checks the rules above from the two plans' tables alone.
The previous draw is kept as it was: re-optimising never re-draws the random sample.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.actuals import (
    ACTUALS_FOLDER,
    FOLLOWUP_COLUMNS,
    Actuals,
    checked_facts,
    followup_tasks,
    history_with,
    load_actuals,
    reoptimised_facts,
    state_at,
)
from planner.checker import check_plan
from planner.dataset import Dataset
from planner.export import PLAN_TABLES, read_plan_folder
from planner.messages import DEFAULT_LANG, Dept, Message, Person, Reason, listing, msg, reason
from planner.model.bounds import rule_bound
from planner.model.desk import DeskBook, desk_frame, offsite_tasks, place_desk_work
from planner.model.groups import VisitGroup
from planner.model.horizon import plan_horizon
from planner.model.instance import Instance, TaskTable
from planner.model.matching import MEMBER_COLUMNS, Roster, lottery
from planner.model.merge import merge_tasks
from planner.model.schedule import PLANNED_DAY_MIN, Crew, Schedule, members_cover, route_minutes
from planner.outputs import sha256_file
from planner.pipeline import compute_kpis, message_names, plan_tables, visit_code
from planner.plan import REOPTIMIZE_METHOD, Plan, PlanTables
from planner.problems import COMMAND_LINE, InputError, Problem
from planner.rules import reason_label
from planner.rules.caps import leaves_caps_alone
from planner.rules.crews import min_crew
from planner.rules.offsite import OFFSITE, checks_per_day
from planner.rules.staff_days import day_minutes
from planner.rules.stays import MAX_VISIT_ONSITE_MIN
from planner.rules.windows import feasible_days
from planner.sampling import Draw
from planner.scenario import Scenario
from planner.stopwatch import Stopwatch
from planner.travel import TravelTimes
from planner.whatif import apply_staff_scaling, load_scenario_dataset
from planner.workdays import WorkCalendar, work_calendar

FREEZE_DAYS = 14  # the notice period: visits this close keep date and crew unless impossible
MAX_FREEZE_DAYS = 90  # a quarter: a longer notice period would freeze the re-optimisation itself
FIXED_GROUP_IDS = 10**7  # kept visits' group ids start here, far above the merge's
RELEASED_GROUP_IDS = 2 * 10**7  # released visits tried on their original date
URGENT_KINDS = ("triggered", "followup")  # new tasks of these kinds may enter the freeze window
CAPACITY, EXPIRED = "staff_capacity", "expired"  # the codes of "no crew could take it" and "window over"
CHANGE_COLUMNS = [
    "task_id",
    "dept_id",
    "uscc",
    "kind",
    "change",
    "old_date",
    "old_crew_id",
    "old_visit_code",
    "new_date",
    "new_crew_id",
    "new_visit_code",
    "reason_code",
    "reason",
]
RELEASE_COLUMNS = ["visit_id", "visit_code", "uscc", "date", "crew_id", "frozen", "n_tasks", "reason"]


@dataclass(frozen=True)
class Reoptimized:
    """The new plan, the facts it was checked against, and what changed."""

    plan: Plan
    dataset: Dataset  # the dataset with the actuals applied and the staff scaled
    changes: pd.DataFrame  # CHANGE_COLUMNS, one row per task
    summary: pd.DataFrame  # per department: counts of each change
    broken: list[str]  # hard rules the new plan breaks (empty: valid)
    released: pd.DataFrame  # RELEASE_COLUMNS: the previous plan's visits on or after as_of let go, and why
    followups: pd.DataFrame  # actuals.FOLLOWUP_COLUMNS + scheduled: the 整改复查 this re-optimisation added


@dataclass
class _Release:
    """A planned visit on or after ``as_of`` that its crew can no longer make."""

    visit_id: str
    visit_code: str
    crew_id: str
    uscc: str
    day: int
    date: dt.date
    task_ids: list[str]
    reason: Message  # why it was let go
    frozen: bool


@dataclass
class _Kept:
    """The crew-days that stay, their member rows, what was let go, and what happened to crews."""

    crews: list[Crew]
    members: pd.DataFrame
    releases: list[_Release]
    notes: dict[str, tuple[Message, ...]]  # crew_id → members replaced or gone
    visits: dict[int, tuple[str, str]]  # kept group id → the previous visit_id and visit_code


def check_request(scenario: Scenario, as_of: dt.date, freeze_days: int) -> None:
    """Refuse a re-optimisation date outside the horizon and a freeze window that is negative
    or longer than ``MAX_FREEZE_DAYS`` (``InputError``, exit 2)."""
    problems = []
    start, end = scenario.horizon.start, scenario.horizon.end
    if not start <= as_of <= end:
        problems.append(
            Problem(
                COMMAND_LINE,
                None,
                "--as-of",
                as_of.isoformat(),
                msg("input.option.as_of", start=start, end=end),
                label="option",
            )
        )
    if not 0 <= freeze_days <= MAX_FREEZE_DAYS:
        problems.append(
            Problem(
                COMMAND_LINE,
                None,
                "--freeze-days",
                str(freeze_days),
                msg("input.option.freeze_days", most=MAX_FREEZE_DAYS),
                label="option",
            )
        )
    if problems:
        raise InputError(problems)


def check_previous(previous, dataset: Dataset, scenario: Scenario, calendar: WorkCalendar) -> None:
    """Refuse (``InputError``, exit 2) a previous plan (``planner.export.PlanFolder``) whose files
    are not those its manifest hashes, or whose tables break a hard rule: a re-optimisation keeps
    its past as it is, so it must be the plan that was made.

    The rules are checked as the plan was made: under the scenario its manifest records (the
    current one's dataset and inputs when they are the same), and for a re-optimised plan over its
    own parent and the actuals it keeps; when that parent is not there any more, only the hashes."""
    root = Path(previous.root)
    wrong = [
        Problem(str(root / name), None, None, None, why)
        for name, why in _files_not_as_hashed(root, previous.manifest.get("outputs") or {})
    ]
    if wrong:
        raise InputError(wrong)
    recorded = previous.manifest.get("scenario")
    where = str(root / "manifest.json")
    if recorded == scenario.model_dump(mode="json"):
        made_with, inputs, days = scenario, dataset, calendar
    else:  # a quarter's new scenario: the previous plan's own one
        try:
            made_with = Scenario.model_validate({**recorded, "source": root / "manifest.json"}, strict=False)
        except Exception as error:  # whatever shape the manifest's scenario was edited into
            raise InputError(
                [Problem(where, None, "scenario", None, msg("input.scenario.invalid", error=str(error)))]
            ) from None
        inputs = load_scenario_dataset(made_with)
        days = work_calendar(made_with.horizon.start, made_with.horizon.end, inputs.calendar_overrides(), where=where)
    parent = previous.manifest.get("parent")
    if parent:
        grandparent = Path(str(parent.get("plan", "")))
        if not (grandparent / "manifest.json").is_file() or not (root / ACTUALS_FOLDER).is_dir():
            return
        as_of = dt.date.fromisoformat(str(parent["as_of"]))
        facts = reoptimised_facts(
            inputs, made_with, days, read_plan_folder(grandparent).tables, load_actuals(root / ACTUALS_FOLDER), as_of
        )
    else:
        facts = apply_staff_scaling(inputs, made_with)
    tables = PlanTables(
        **{name: previous.tables[name] for name in PLAN_TABLES if name != "draws"}, offsite=previous.tables["offsite"]
    )
    broken = check_plan(tables, facts, made_with, set(days.workdays), previous.tables["draws"])
    if broken:
        raise InputError(
            [Problem(where, None, None, None, msg("input.previous.breaks_rule", rule=line)) for line in broken[:20]]
        )


def _files_not_as_hashed(root: Path, outputs: dict) -> list[tuple[str, Message]]:
    """(file, why) for each output the manifest hashes that is missing or has other bytes."""
    out = []
    for name, digest in sorted(outputs.items()):
        path = root / str(name)
        if ".." in Path(str(name)).parts or Path(str(name)).is_absolute():
            out.append((str(name), msg("input.previous.outside")))
        elif not path.is_file():
            out.append((str(name), msg("input.previous.missing")))
        elif sha256_file(path) != digest:
            out.append((str(name), msg("input.previous.edited")))
    return out


def reoptimize(
    dataset: Dataset,
    scenario: Scenario,
    calendar: WorkCalendar,
    previous,
    actuals: Actuals,
    as_of: dt.date,
    freeze_days: int = FREEZE_DAYS,
    progress=None,
    check: bool = True,
    lang: str = DEFAULT_LANG,
) -> Reoptimized:
    """Re-plan ``previous`` (a ``planner.export.PlanFolder``) from ``as_of`` with the actuals (module
    doc); ``check``: first refuse a previous plan that is not as it was made (``check_previous``);
    reasons and changes are said in ``lang``."""
    check_request(scenario, as_of, freeze_days)
    if len(dataset.overrides):  # 人工研判修正 are kept by `planner plan` only, not yet here: say so, never break one
        raise InputError([Problem(str(dataset.files["overrides"]), None, None, None, msg("input.override.reoptimize"))])
    watch = Stopwatch()
    if check:
        check_previous(previous, dataset, scenario, calendar)
    watch.lap("previous")
    say = progress or (lambda line: None)
    prev = previous.tables
    facts, instance, records, planned, (status, reasons, done_elsewhere) = state_at(
        dataset, scenario, calendar, prev, actuals, as_of
    )
    # off-site checks (rules.offsite) never join a visit: placed at a desk after the crews (_desk_work)
    offsite_ids = set(instance.tasks.loc[instance.tasks["mode"].eq(OFFSITE), "task_id"])
    followups = followup_tasks(actuals.outcomes, prev["tasks"], scenario.results.followup_days)
    workdays = instance.workdays
    day_of = {d: i for i, d in enumerate(workdays)}
    days = np.array(workdays)
    freeze_end = as_of + dt.timedelta(days=freeze_days)
    start = int(np.searchsorted(days, as_of))  # first working day on or after as_of
    urgent_start = int(np.searchsorted(days, as_of, side="right"))  # never on the as-of day itself
    # first working day after the freeze window, and never the as-of day itself
    after_start = max(int(np.searchsorted(days, freeze_end)), urgent_start)
    roster = Roster.from_dataset(facts, len(calendar), scenario.planned_share)
    travel = TravelTimes(facts, scenario)
    before_ids = frozenset(prev["tasks"]["task_id"])
    kept = _kept_crews(
        prev, planned, status, reasons, roster, scenario, travel, day_of, as_of, freeze_end, records, instance.table
    )
    watch.lap("keep")
    say(
        f"kept {sum(len(c.groups) for c in kept.crews):,} visits on {len(kept.crews):,} crew-days; "
        f"{len(kept.releases):,} visits released"
    )

    # a released visit of the freeze window goes back to its original date with another crew if it can
    frozen = [r for r in kept.releases if r.frozen]
    fixed, fixed_members, fixed_fills = kept.crews, kept.members, None
    back_on_date: set[str] = set()
    if frozen:
        fixed, fixed_members, fixed_fills, back_on_date = _back_on_date(
            frozen, kept, instance, facts, scenario, calendar, roster, done_elsewhere
        )
        say(f"{len(back_on_date):,} tasks of released visits stay on their date with another crew")
    watch.lap("released")

    in_plan = {t for c in fixed for g in c.groups for t in g.task_ids}
    open_ids = sorted(
        t for t in records if t not in in_plan and t not in reasons and status.get(t) != "done" and t not in offsite_ids
    )
    joined = _join_kept_visits(open_ids, records, fixed, roster, instance, scenario, travel, after_start)
    open_ids = [t for t in open_ids if t not in joined]
    say(f"{len(joined):,} open tasks joined kept visits; {len(open_ids):,} to plan from {as_of}")

    # a new complaint or follow-up task may enter the freeze window; all other open work waits for its end
    earliest = {
        t: urgent_start if records[t]["kind"] in URGENT_KINDS and t not in before_ids else after_start for t in open_ids
    }
    sub, late = _open_instance(instance, open_ids, earliest, start)
    for task_id, (window_end, within_freeze) in late.items():
        reasons[task_id] = (
            reason(EXPIRED, "reason.expired.in_freeze", window_end=window_end, freeze_days=freeze_days, as_of=as_of)
            if within_freeze
            else reason(EXPIRED, "reason.expired", window_end=window_end, as_of=as_of)
        )
    history = history_with(facts.history, fixed, done_elsewhere, workdays)
    groups, capped_out = merge_tasks(sub, dataclasses.replace(facts, history=history), scenario)
    result = plan_horizon(
        groups, sub, facts, scenario, calendar, fixed=fixed, fixed_members=fixed_members, fixed_fills=fixed_fills
    )
    schedule = result.schedule
    watch.lap("schedule")
    gave_way, again = _give_way(schedule, kept, roster, facts, scenario, travel, instance.workdays, after_start)
    if gave_way:
        say(f"{len(gave_way):,} kept optional visits give way to mandatory tasks no crew could take")
        ids = {t for r in gave_way for t in r.task_ids} | again
        third, late = _open_instance(instance, sorted(ids), dict.fromkeys(ids, after_start), start)
        for task_id, (window_end, _) in late.items():
            reasons[task_id] = reason(EXPIRED, "reason.expired.gave_way", window_end=window_end)
        history = history_with(facts.history, schedule.crews, done_elsewhere, workdays)
        groups, more_out = merge_tasks(third, dataclasses.replace(facts, history=history), scenario)
        capped_out |= more_out
        next_id = max((g.group_id for c in schedule.crews for g in c.groups if g.group_id < FIXED_GROUP_IDS), default=0)
        for n, group in enumerate(groups):  # ids apart from those the schedule holds
            group.group_id = next_id + 1 + n
        placed_before = {g.group_id for c in schedule.crews for g in c.groups}
        left = [(g, why) for g, why in schedule.unplaced if g.group_id not in placed_before]
        result = plan_horizon(
            groups,
            third,
            facts,
            scenario,
            calendar,
            fixed=schedule.crews,
            fixed_members=schedule.members,
            fixed_fills=schedule.fills,
        )
        schedule = dataclasses.replace(result.schedule, unplaced=left + result.schedule.unplaced)
        kept.releases.extend(gave_way)
        watch.lap("give way")
    _keep_routes(schedule, kept.visits)
    desk, desk_reasons = _desk_work(offsite_ids, prev, instance, facts, scenario, schedule, status, reasons, as_of)
    placed_ids = {t for c in schedule.crews for g in c.groups for t in g.task_ids}
    reasons = {k: v for k, v in (reasons | capped_out | desk_reasons).items() if k not in placed_ids}
    draw = Draw(scenario.seed, prev["draws"], prev["tasks"][prev["tasks"]["kind"] == "random"], pd.DataFrame(), ())
    tables = plan_tables(instance, schedule, reasons, draw, facts, scenario, lang, offsite=desk)
    done = placed_ids | set(desk["task_id"])
    tables = dataclasses.replace(
        tables, unscheduled=tables.unscheduled[~tables.unscheduled["task_id"].isin(done)].reset_index(drop=True)
    )
    tables = _carry_identities(tables, prev, schedule, kept.visits, {c.crew_id for c in kept.crews}, as_of)
    watch.lap("tables")
    checked = checked_facts(facts, done_elsewhere, workdays)
    broken = check_plan(tables, checked, scenario, set(calendar.workdays), prev["draws"], as_of)
    watch.lap("check")
    names = message_names(facts)
    released = _released_frame(kept.releases, lang, names)
    urgent = {t for t in placed_ids if t in earliest and earliest[t] < after_start}
    origins = {t: (o, d) for t, o, d in zip(followups["task_id"], followups["origin_task_id"], followups["rectify_by"])}
    changes = _changes(
        planned, tables, status, reasons, as_of, freeze_end, kept, joined, urgent, back_on_date, prev, origins
    )
    changes = changes.assign(reason=changes["reason"].map(lambda m: m.render(lang, names)).astype(object))
    summary = _summary(changes)
    kpis = compute_kpis(tables, instance, prev["draws"])
    bound = rule_bound(tables.visits, tables.visit_tasks, instance, checked, scenario)
    watch.lap("kpis")
    future = changes[pd.to_datetime(changes["old_date"]) >= pd.Timestamp(as_of)]
    in_window = future[pd.to_datetime(future["old_date"]) < pd.Timestamp(freeze_end)]
    moved = future["change"].isin(["moved", "dropped"])
    kpis |= {
        "status": "FEASIBLE" if not broken else "BROKEN",
        "method": REOPTIMIZE_METHOD,
        "objective": kpis["visits"],
        "best_bound": bound.visits,
        "rule_bound_visits": bound.visits,
        "timings": watch.timings,
        "reoptimisation": {
            "as_of": as_of.isoformat(),
            "freeze_days": freeze_days,
            "visits_changed": int(future.loc[moved, "old_visit_code"].nunique()),
            "frozen_visits_changed": int(
                in_window.loc[in_window["change"].isin(["moved", "dropped"]), "old_visit_code"].nunique()
            ),
            "visits_released": len(released),
            "frozen_visits_released": int(released["frozen"].sum()),
            "members_replaced": sum(n.id == "release.stand_in" for notes in kept.notes.values() for n in notes),
            "urgent_tasks": int((changes["change"] == "urgent").sum()),
            "tasks": {k: int(v) for k, v in changes["change"].value_counts().sort_index().items()},
        },
    }
    plan = Plan(tables, draw, kpis, watch.timings, broken, lang)
    followups = followups[FOLLOWUP_COLUMNS].assign(scheduled=followups["task_id"].isin(placed_ids))
    return Reoptimized(plan, checked, changes, summary, broken, released, followups)


def _open_instance(
    instance: Instance, open_ids: list[str], earliest: dict[str, int], start: int
) -> tuple[Instance, dict[str, tuple[str, bool]]]:
    """The open tasks with their windows cut to their earliest day (after the freeze window, or
    the day after as_of for urgent ones); and the tasks whose window ends before it (task → the
    window's end and whether it ends inside the freeze window rather than before as_of)."""
    tasks = instance.tasks[instance.tasks["task_id"].isin(open_ids)].copy()
    first = tasks["first_day"].to_numpy().copy()
    last = tasks["last_day"].to_numpy()
    cut = tasks["task_id"].map(earliest).to_numpy(dtype=np.int64)
    placeable = first >= 0
    first[placeable] = np.maximum(first[placeable], cut[placeable])
    ended = placeable & (first > last)
    late = {
        t: (pd.Timestamp(w).date().isoformat(), bool(e >= start))
        for t, w, e in zip(tasks["task_id"][ended], tasks["window_end"][ended], last[ended])
    }
    first[ended] = -1
    tasks["first_day"] = first
    tasks.loc[ended, "last_day"] = -1
    return Instance(
        instance.workdays, instance.quiet, tasks.reset_index(drop=True), instance.unplaceable.iloc[0:0]
    ), late


def _back_on_date(
    frozen: list[_Release],
    kept: _Kept,
    instance: Instance,
    facts: Dataset,
    scenario: Scenario,
    calendar: WorkCalendar,
    roster: Roster,
    done_elsewhere,
) -> tuple[list[Crew], pd.DataFrame, pd.DataFrame, set[str]]:
    """The released visits of the freeze window planned on their original dates only (joining a
    kept crew of that day, or a new crew of inspectors free then); returns the fixed crews,
    members and lottery record for the open work, and the tasks placed.

    Only the crew-days of those dates are handed to the scheduler, so it does not route the
    whole year again; each inspector's ``max_days`` is lowered by their kept days on other dates,
    so the day budget is the same as with every crew-day in view."""
    dates = {r.day for r in frozen}
    near = [c for c in kept.crews if c.day in dates]
    elsewhere: dict[str, int] = defaultdict(int)
    for crew in kept.crews:
        if crew.day not in dates:
            for person in crew.members:
                elsewhere[person] += 1
    inspectors = facts.inspectors.assign(
        max_days=[
            max(0, roster.max_days[p] - elsewhere[p]) if p in roster.max_days else m
            for p, m in zip(facts.inspectors["inspector_id"], facts.inspectors["max_days"])
        ]
    )
    near_facts = dataclasses.replace(
        facts, inspectors=inspectors, history=history_with(facts.history, kept.crews, done_elsewhere, instance.workdays)
    )
    first = _on_original_date(frozen, instance)
    groups, _ = merge_tasks(first, near_facts, scenario)
    for n, group in enumerate(groups):  # ids apart from the kept visits' and the open work's
        group.group_id = RELEASED_GROUP_IDS + n
    near_ids = {c.crew_id for c in near}
    members = kept.members[kept.members["crew_id"].isin(near_ids)]
    result = plan_horizon(groups, first, near_facts, scenario, calendar, fixed=near, fixed_members=members)
    crews = sorted(
        [c for c in kept.crews if c.crew_id not in near_ids] + result.schedule.crews, key=lambda c: (c.day, c.crew_id)
    )
    members = pd.concat([kept.members[~kept.members["crew_id"].isin(near_ids)], result.schedule.members])
    placed = {
        t for c in result.schedule.crews for g in c.groups if g.group_id >= RELEASED_GROUP_IDS for t in g.task_ids
    }
    return crews, members.reset_index(drop=True), result.schedule.fills, placed


def _on_original_date(frozen: list[_Release], instance: Instance) -> Instance:
    """The open tasks of released freeze-window visits, each allowed only its visit's original day."""
    day_of_task = {t: r.day for r in frozen for t in r.task_ids}
    tasks = instance.tasks[instance.tasks["task_id"].isin(day_of_task)].copy()
    day = tasks["task_id"].map(day_of_task).to_numpy(dtype=np.int64)
    tasks["first_day"], tasks["last_day"] = day, day
    return Instance(instance.workdays, instance.quiet, tasks.reset_index(drop=True), instance.unplaceable.iloc[0:0])


def _kept_crews(
    prev: dict[str, pd.DataFrame],
    planned: pd.DataFrame,
    status: dict,
    reasons: dict,
    roster: Roster,
    scenario: Scenario,
    travel: TravelTimes,
    day_of: dict,
    as_of: dt.date,
    freeze_end: dt.date,
    records: dict,
    table: TaskTable,
) -> _Kept:
    """The previous crew-days that stay: past ones with the tasks done there, later ones with
    their open tasks and members who can go (replaced, or left out, where one cannot: module doc)."""
    crews = prev["crews"].assign(date=pd.to_datetime(prev["crews"]["date"]).dt.date)
    visits = prev["visits"].assign(date=pd.to_datetime(prev["visits"]["date"]).dt.date)
    order = prev["routes"].sort_values(["crew_id", "date", "seq"])["visit_id"].tolist()
    rank = {v: i for i, v in enumerate(order)}
    visit_rows = visits.set_index("visit_id")[["visit_code", "uscc"]].to_dict("index")
    visits_of = visits.groupby("crew_id")["visit_id"].agg(list).to_dict()
    tasks_of = planned.reset_index().groupby("visit_id")["task_id"].agg(list).to_dict()
    busy: dict[dt.date, set[str]] = defaultdict(set)
    for date, person in crews[["date", "inspector_id"]].itertuples(index=False):
        busy[date].add(person)
    # a candidate's planned days: every day the previous plan gives them, plus replacements made
    planned_days = crews.drop_duplicates(["date", "inspector_id"])["inspector_id"].value_counts().to_dict()
    worked: dict[str, int] = defaultdict(int)  # days on kept crews so far, in date order
    out = _Kept([], pd.DataFrame(columns=MEMBER_COLUMNS), [], {}, {})
    member_rows: list[tuple] = []
    next_id = FIXED_GROUP_IDS
    by_crew: dict[str, list[dict]] = defaultdict(list)
    for row in crews[[*MEMBER_COLUMNS, "township"]].to_dict("records"):
        by_crew[row["crew_id"]].append(row)
    for crew_id in sorted(by_crew, key=lambda c: (by_crew[c][0]["date"], c)):
        rows = by_crew[crew_id]
        date = rows[0]["date"]
        if date not in day_of:
            continue
        past = date < as_of
        groups: list[VisitGroup] = []
        codes: dict[int, tuple[str, str]] = {}
        for visit in sorted(visits_of.get(crew_id, []), key=rank.get):
            # past: the tasks done there; later: the tasks still open (no outcome, still in the demands)
            stay = [
                t
                for t in tasks_of.get(visit, [])
                if t in records and t not in reasons and (status.get(t) == "done" if past else t not in status)
            ]
            if stay:
                at = np.array([records[t]["row"] for t in stay], dtype=np.int64)
                groups.append(VisitGroup(table, visit_rows[visit]["uscc"], at, np.array([day_of[date]]), next_id))
                codes[next_id] = (visit, visit_rows[visit]["visit_code"])
                next_id += 1
        if not groups:
            continue
        members = [r["inspector_id"] for r in rows]
        member_rows_crew = [tuple(r[c] for c in MEMBER_COLUMNS) for r in rows]
        station = f"station:{rows[0]['township']}"
        onsite = {g.group_id: g.onsite_min(scenario.onsite) for g in groups}
        length = route_minutes(station, groups, onsite, travel)
        if not past:
            usccs = {g.uscc for g in groups}
            notes, gone = [], []
            for n, person in enumerate(list(members)):
                why = _cannot_go(person, date, usccs, length, roster, worked)
                if why is None:
                    continue
                dept = rows[n]["dept_id"]
                others = [m for i, m in enumerate(members) if i != n and m not in gone]
                other = _replacement(
                    dept, date, usccs, length, others, groups, roster, busy, planned_days, scenario.seed
                )
                if other is None:
                    notes.append(msg("release.no_stand_in", person=Person(person), dept=Dept(dept), why=why))
                    gone.append(person)
                    continue
                notes.append(
                    msg("release.stand_in", person=Person(person), dept=Dept(dept), why=why, other=Person(other))
                )
                busy[date].add(other)
                planned_days[other] = planned_days.get(other, 0) + 1
                members[n] = other
                member_rows_crew[n] = (crew_id, date, other, dept, 1, lottery(scenario.seed, date, other), False)
            if gone:
                member_rows_crew = [r for r, m in zip(member_rows_crew, members) if m not in gone]
                members = [m for m in members if m not in gone]
            lost = [g for g in groups if len(members) < g.min_crew or not members_cover(members, g, roster)]
            for group in lost:
                visit, code = codes[group.group_id]
                why = listing(notes, "clauses") if notes else msg("release.cover_lost")
                cover = "release.crew_too_small" if len(members) < group.min_crew else "release.crew_uncovered"
                out.releases.append(
                    _Release(
                        visit,
                        code,
                        crew_id,
                        group.uscc,
                        day_of[date],
                        date,
                        group.task_ids,
                        msg(cover, why=why),
                        date < freeze_end,
                    )
                )
            groups = [g for g in groups if g not in lost]
            if notes:
                out.notes[crew_id] = tuple(notes)
            if not groups:
                continue
            onsite = {g.group_id: onsite[g.group_id] for g in groups}
            length = route_minutes(station, groups, onsite, travel)
        for person in members:
            worked[person] += 1
        seats: dict[str, int] = defaultdict(int)
        for person in members:
            seats[roster.dept_of.get(person, "?")] += 1
        out.crews.append(
            Crew(
                crew_id,
                rows[0]["township"],
                day_of[date],
                dict(seats),
                groups,
                max(PLANNED_DAY_MIN, length),
                length,
                tuple(members),
            )
        )
        out.visits |= {g.group_id: codes[g.group_id] for g in groups}
        member_rows += member_rows_crew
    frame = pd.DataFrame(member_rows, columns=MEMBER_COLUMNS)
    frame["date"] = pd.to_datetime(frame["date"])
    out.members = frame
    return out


def _cannot_go(
    person: str, date: dt.date, usccs: set[str], length: int, roster: Roster, worked: dict
) -> Message | None:
    """Why a kept crew's member can no longer go that day (None: they can)."""
    if person not in roster.dept_of:
        return msg("release.not_on_roster")
    if date in roster.leave.get(person, ()):
        return msg("release.on_leave", date=date)
    if roster.conflicts.get(person, frozenset()) & usccs:
        return msg("release.conflict")
    if day_minutes(roster.hours_per_day[person]) < length:
        return msg("release.short_day", hours=f"{roster.hours_per_day[person]:g}", minutes=length)
    if worked.get(person, 0) >= roster.max_days[person]:
        return msg("release.max_days", days=roster.max_days[person])
    return None


def _replacement(
    dept: str,
    date: dt.date,
    usccs: set[str],
    length: int,
    others: list[str],
    groups: list[VisitGroup],
    roster: Roster,
    busy: dict,
    planned_days: dict,
    seed: int,
) -> str | None:
    """An inspector of ``dept`` who can take the seat: free that day, not on leave, no conflict,
    a day long enough, planned days left, and with whom the crew still covers every visit
    (委托查 included); the lowest seat-lottery number among them."""
    candidates = sorted(
        (
            p
            for p, d in roster.dept_of.items()
            if d == dept
            and p not in busy.get(date, set())
            and date not in roster.leave.get(p, ())
            and not roster.conflicts.get(p, frozenset()) & usccs
            and day_minutes(roster.hours_per_day[p]) >= length
            and planned_days.get(p, 0) < roster.max_days[p]
        ),
        key=lambda p: (lottery(seed, date, p), p),
    )
    return next((p for p in candidates if all(members_cover([*others, p], g, roster) for g in groups)), None)


def _join_kept_visits(
    open_ids,
    records,
    kept: list[Crew],
    roster: Roster,
    instance: Instance,
    scenario: Scenario,
    travel: TravelTimes,
    after_start: int,
) -> set[str]:
    """Open tasks that join a kept visit at their enterprise after the freeze window: a day of
    their window, the crew covers their department, the stay and the day still fit, and the
    caps are untouched (an exempt task, or a capped visit the department already checks in)."""
    by_uscc: dict[str, list[tuple[Crew, int]]] = {}  # the crew and the group's place on its route
    for crew in kept:
        if crew.day < after_start:
            continue
        for at, group in enumerate(crew.groups):
            by_uscc.setdefault(group.uscc, []).append((crew, at))
    joined: set[str] = set()
    for task_id in open_ids:
        task = records[task_id]
        if task["first_day"] < 0 or task["uscc"] not in by_uscc:
            continue
        feasible = set(feasible_days(task["first_day"], task["last_day"], task["capped"], instance.quiet).tolist())
        for crew, at in sorted(by_uscc[task["uscc"]], key=lambda ca: ca[0].day):
            group = crew.groups[at]
            if crew.day not in feasible or len(crew.members) < min_crew(task["min_inspectors"]):
                continue
            if group.appointment:  # a stay the enterprise agreed to, with what it agreed to
                continue
            trial = VisitGroup(group.table, group.uscc, np.append(group.rows, task["row"]), group.days, group.group_id)
            if not leaves_caps_alone(task["capped"], task["dept_id"], group.capped, group.depts):
                continue
            if not members_cover(crew.members, trial, roster):
                continue
            if trial.onsite_min(scenario.onsite) > MAX_VISIT_ONSITE_MIN:
                continue
            onsite = {g.group_id: (trial if g is group else g).onsite_min(scenario.onsite) for g in crew.groups}
            length = route_minutes(f"station:{crew.township}", crew.groups, onsite, travel)
            if length > min([crew.limit_min] + [day_minutes(roster.hours_per_day[m]) for m in crew.members]):
                continue
            crew.groups[at] = trial  # a group's tasks are fixed once made: the larger one replaces it
            crew.length_min = length
            joined.add(task_id)
            break
    return joined


def _give_way(
    schedule: Schedule,
    kept: _Kept,
    roster: Roster,
    facts: Dataset,
    scenario: Scenario,
    travel: TravelTimes,
    workdays: tuple,
    after_start: int,
) -> tuple[list[_Release], set[str]]:
    """Kept optional visits after the freeze window that give way to a mandatory group the
    scheduler (paced by the capacity model) found no crew for, and the mandatory groups to plan
    again with them.

    First, on a day of its window, a kept crew of its township whose members cover it takes it,
    dropping as few of its kept optional visits (fewest tasks first) as the day needs. Where no
    one crew can (its departments' inspectors are on several crews that day), the kept crew-days
    of that day that hold only optional visits are let go whole, fewest tasks first, until their
    members cover the group (its departments, its crew size, no 回避, a day long enough for it
    alone); the group's tasks are then planned again with the released work, mandatory first.
    Returns the visits let go and the task ids of the groups to plan again; the schedule's and
    ``kept``'s crews are changed in place and the groups leave the unplaced list."""
    township_of = dict(zip(facts.enterprises["uscc"], facts.enterprises["township"]))
    wanting = [
        (g, why)
        for g, why in schedule.unplaced
        if g.mandatory and why.code == CAPACITY and len(g.days) and g.days[-1] >= after_start
    ]
    if not wanting:
        return [], set()
    by_day: dict[int, list[Crew]] = defaultdict(list)
    for crew in schedule.crews:
        by_day[crew.day].append(crew)
    onsite = {g.group_id: g.onsite_min(scenario.onsite) for c in schedule.crews for g in c.groups}
    gave: list[_Release] = []
    taken: set[int] = set()
    again: set[str] = set()
    for group, _ in sorted(wanting, key=lambda gw: (len(gw[0].days), gw[0].group_id)):
        onsite[group.group_id] = group.onsite_min(scenario.onsite)
        station = f"station:{township_of[group.uscc]}"
        done = False
        for day in (int(d) for d in group.days if d >= after_start):
            for crew in by_day[day]:
                optional = [g for g in crew.groups if g.group_id in kept.visits and not g.mandatory]
                if (
                    crew.township != township_of[group.uscc]
                    or not optional
                    or len(crew.members) < group.min_crew
                    or not members_cover(crew.members, group, roster)
                    or any(group.uscc in roster.conflicts.get(m, frozenset()) for m in crew.members)
                ):
                    continue
                limit = min([crew.limit_min] + [day_minutes(roster.hours_per_day[m]) for m in crew.members])
                drop: list[VisitGroup] = []
                for candidate in [None, *sorted(optional, key=lambda g: (g.n_tasks, g.group_id))]:
                    if candidate is not None:
                        drop.append(candidate)
                    stays = [g for g in crew.groups if g not in drop]
                    visited = {g.uscc for c in by_day[day] for g in c.groups if g not in drop}
                    if group.uscc in visited:
                        continue
                    # the crew's order must be the one its length is of: later insertions add to both
                    length, at = min(
                        (route_minutes(station, stays[:at] + [group] + stays[at:], onsite, travel), at)
                        for at in range(len(stays) + 1)
                    )
                    if length <= limit:
                        break
                else:
                    continue
                if not drop:
                    continue  # it would fit without giving way: the scheduler's own business
                crew.groups = stays[:at] + [group] + stays[at:]
                crew.length_min = length
                gave += [_gave_way(kept, g, crew.crew_id, day, workdays, group) for g in drop]
                taken.add(group.group_id)
                done = True
                break
            if done:
                break
        if not done and _let_crews_go(
            group, station, by_day, after_start, schedule, kept, roster, onsite, travel, workdays, gave
        ):
            # the enterprise's other legal duties left out go with it: planned again together,
            # they may make one joint visit with the members let go
            for other, _ in wanting:
                if other.uscc == group.uscc and other.group_id not in taken:
                    taken.add(other.group_id)
                    again.update(other.task_ids)
            taken.add(group.group_id)
            again.update(group.task_ids)
    schedule.unplaced[:] = [(g, why) for g, why in schedule.unplaced if g.group_id not in taken]
    return gave, again


def _gave_way(kept: _Kept, given: VisitGroup, crew_id: str, day: int, workdays: tuple, duty: VisitGroup) -> _Release:
    """Kept visit ``given`` of crew ``crew_id`` let go for the mandatory group ``duty``."""
    visit_id, code = kept.visits.pop(given.group_id)
    why = msg("release.gave_way", tasks=listing(duty.task_ids))
    return _Release(visit_id, code, crew_id, given.uscc, day, workdays[day], given.task_ids, why, False)


def _let_crews_go(
    group: VisitGroup,
    station: str,
    by_day: dict[int, list[Crew]],
    after_start: int,
    schedule: Schedule,
    kept: _Kept,
    roster: Roster,
    onsite: dict[int, int],
    travel: TravelTimes,
    workdays: tuple,
    gave: list[_Release],
) -> bool:
    """Let go whole kept crew-days of optional visits on the first day of ``group``'s window after
    the freeze window (``after_start``) whose members together can take it (``_give_way``); True
    when some were let go."""
    alone = route_minutes(station, [group], onsite, travel)
    for day in (int(d) for d in group.days if int(d) >= after_start and int(d) in by_day):
        whole = sorted(
            (
                c
                for c in by_day[day]
                if c.groups and all(g.group_id in kept.visits and not g.mandatory for g in c.groups)
            ),
            key=lambda c: (sum(g.n_tasks for g in c.groups), c.crew_id),
        )
        chosen: list[Crew] = []
        members: list[str] = []
        for crew in whole:
            able = [
                m
                for m in crew.members
                if group.uscc not in roster.conflicts.get(m, frozenset())
                and day_minutes(roster.hours_per_day[m]) >= alone
            ]
            if not able:
                continue
            chosen.append(crew)
            members += able
            if len(members) >= group.min_crew and members_cover(members, group, roster):
                break
        else:
            continue
        gone = {c.crew_id for c in chosen}
        for crew in chosen:
            gave += [_gave_way(kept, g, crew.crew_id, day, workdays, group) for g in crew.groups]
            schedule.routes.pop(crew.crew_id, None)
        by_day[day] = [c for c in by_day[day] if c.crew_id not in gone]
        schedule.crews[:] = [c for c in schedule.crews if c.crew_id not in gone]
        kept.crews[:] = [c for c in kept.crews if c.crew_id not in gone]
        schedule.members = schedule.members[~schedule.members["crew_id"].isin(gone)].reset_index(drop=True)
        kept.members = kept.members[~kept.members["crew_id"].isin(gone)].reset_index(drop=True)
        return True
    return False


def _keep_routes(schedule: Schedule, kept: dict[int, tuple[str, str]]) -> None:
    """A kept crew-day that gained no visit keeps the previous plan's order (so its times too:
    the scheduler leaves a fixed crew's groups in their order and only inserts new ones); one
    that gained a visit takes the route engine's order."""
    for crew in schedule.crews:
        if crew.groups and all(g.group_id in kept for g in crew.groups):
            schedule.routes[crew.crew_id] = list(crew.groups)


def _desk_work(
    offsite_ids: set[str],
    prev: dict[str, pd.DataFrame],
    instance,
    facts: Dataset,
    scenario: Scenario,
    schedule: Schedule,
    status: dict,
    reasons: dict,
    as_of: dt.date,
) -> tuple[pd.DataFrame, dict[str, Reason]]:
    """Off-site checks (``model.desk``) around the re-planned crews: a desk check of the previous plan
    dated before ``as_of`` stands (done on its date unless an outcome says otherwise); the other open
    off-site tasks are placed from ``as_of`` on the days the inspectors have left, mandatory first.
    Returns offsite.parquet's rows and the reasons of those no inspector can take."""
    workdays = instance.workdays
    book = DeskBook(
        Roster.from_dataset(facts, len(workdays), scenario.planned_share),
        checks_per_day(scenario.offsite.desk_share),
        scenario.seed,
    )
    crew_day = {crew.crew_id: workdays[crew.day] for crew in schedule.crews}
    members = schedule.members if len(schedule.members) else pd.DataFrame(columns=["crew_id", "inspector_id"])
    for crew_id, who in zip(members["crew_id"], members["inspector_id"]):
        if crew_id in crew_day:
            book.busy[who].add(crew_day[crew_id])
    records = instance.tasks.set_index("task_id", drop=False)
    stands = set()
    previous = prev["offsite"]
    for task_id, who, date in previous[["task_id", "inspector_id", "date"]].itertuples(index=False):
        day = pd.Timestamp(date).date()
        if day < as_of and task_id in offsite_ids and task_id not in reasons and status.get(task_id) != "failed":
            book.take(records.loc[task_id].to_dict(), who, day)
            stands.add(task_id)
    pending = sorted(t for t in offsite_ids - stands if t not in reasons and status.get(t) != "done")
    start = int(np.searchsorted(np.array(workdays), as_of))  # first working day on or after as_of
    tasks = records.loc[pending].reset_index(drop=True)
    tasks = tasks.assign(
        first_day=tasks["first_day"].where(tasks["first_day"] < 0, tasks["first_day"].clip(lower=start))
    )
    why: dict[str, Reason] = {
        t: reason(EXPIRED, "reason.expired", window_end=pd.Timestamp(end).date(), as_of=as_of)
        for t, first, last, end in zip(tasks["task_id"], tasks["first_day"], tasks["last_day"], tasks["window_end"])
        if 0 <= last < first
    }
    ready = offsite_tasks(tasks[~tasks["task_id"].isin(why)])
    why |= place_desk_work(ready[ready["mandatory"]], workdays, book)
    why |= place_desk_work(ready[~ready["mandatory"]], workdays, book)
    return desk_frame(book), why


def _carry_identities(
    tables: PlanTables,
    prev: dict[str, pd.DataFrame],
    schedule: Schedule,
    kept: dict[int, tuple[str, str]],
    kept_crews: set[str],
    as_of: dt.date,
) -> PlanTables:
    """Visit ids and codes carried from the previous plan (a code is issued once, never recomputed):

    - a kept visit keeps its visit_id and visit_code;
    - a visit of the same crew at the same enterprise on the same date as a previous visit keeps
      its visit_id and code whatever its tasks (a kept optional visit that gave way to a legal
      duty there: for the enterprise it is the same visit);
    - a visit at the same enterprise on the same date as a previous visit whose code no kept
      visit carries, holding one of its tasks (a released visit back on its date with another
      crew), keeps that code;
    - every other visit gets a new code, never one the previous plan issued; a new crew never
      takes the id of a previous crew-day it is not, nor a visit the id of a previous visit.
    """
    visits, routes, crews = tables.visits.copy(), tables.routes.copy(), tables.crews.copy()
    visit_tasks = tables.visit_tasks.copy()
    dates = pd.to_datetime(visits["date"]).dt.date
    # the schedule's groups → their visit rows: plan_tables numbers a crew's visits by route order
    visit_of_group: dict[int, str] = {}
    for crew in schedule.crews:
        for seq, group in enumerate(schedule.routes[crew.crew_id], start=1):
            visit_of_group[group.group_id] = f"{crew.crew_id}-{seq}"
    old_ids = set(prev["visits"]["visit_id"])
    old_codes = set(prev["visits"]["visit_code"])
    old_crews = set(prev["crews"]["crew_id"])
    new_id: dict[str, str] = {}
    new_code: dict[str, str] = {}
    for group_id, (visit_id, code) in kept.items():
        if group_id in visit_of_group:
            new_id[visit_of_group[group_id]], new_code[visit_of_group[group_id]] = visit_id, code
    # a new crew-day numbered like a previous crew-day that is gone: the next free number that day
    crew_rename: dict[str, str] = {}
    numbers: dict[str, int] = defaultdict(int)
    for crew_id in [*old_crews, *crews["crew_id"]]:
        day, number = crew_id.rsplit("-", 1)
        numbers[day] = max(numbers[day], int(number))
    for crew_id in sorted(set(crews["crew_id"]) - kept_crews):
        if crew_id in old_crews:
            day, number = crew_id.rsplit("-", 1)
            numbers[day] += 1
            crew_rename[crew_id] = f"{day}-{numbers[day]:0{len(number)}d}"
    # new visits on kept crews: numbers after the crew's previous ones
    last_seq: dict[str, int] = defaultdict(int)
    for visit_id in old_ids:
        crew_id, seq = visit_id.rsplit("-", 1)
        last_seq[crew_id] = max(last_seq[crew_id], int(seq))
    for visit_id, crew_id in zip(visits["visit_id"], visits["crew_id"]):
        if visit_id in new_id:
            continue
        crew = crew_rename.get(crew_id, crew_id)
        if crew in kept_crews or f"{crew}-1" in old_ids:
            last_seq[crew] += 1
            new_id[visit_id] = f"{crew}-{last_seq[crew]}"
        else:
            new_id[visit_id] = f"{crew}-{visit_id.rsplit('-', 1)[1]}"
    # codes of released visits back on their date; then fresh codes
    tasks_of = visit_tasks.groupby("visit_id")["task_id"].agg(list).to_dict()
    old = prev["visits"].assign(date=pd.to_datetime(prev["visits"]["date"]).dt.date)
    old_tasks = prev["visit_tasks"].groupby("visit_id")["task_id"].agg(set).to_dict()
    at_place = {
        (u, d): (c, old_tasks.get(v, set()))
        for v, c, u, d in old[["visit_id", "visit_code", "uscc", "date"]].itertuples(index=False)
    }
    used = set(new_code.values())
    same_crew = {
        (c, u, d): (v, code)
        for v, code, c, u, d in old[["visit_id", "visit_code", "crew_id", "uscc", "date"]].itertuples(index=False)
    }
    ids_taken = set(new_id.values())
    for visit_id, crew_id, uscc, date in zip(visits["visit_id"], visits["crew_id"], visits["uscc"], dates):
        was = same_crew.get((crew_rename.get(crew_id, crew_id), uscc, date))
        if visit_id in new_code or was is None or was[1] in used:
            continue
        new_code[visit_id] = was[1]
        used.add(was[1])
        if was[0] not in ids_taken:  # never taken: only kept visits carry previous ids
            ids_taken.discard(new_id[visit_id])
            new_id[visit_id] = was[0]
            ids_taken.add(was[0])
    for visit_id, uscc, date in zip(visits["visit_id"], visits["uscc"], dates):
        if visit_id in new_code:
            continue
        code, had = at_place.get((uscc, date), (None, set()))
        if code is not None and code not in used and had & set(tasks_of.get(visit_id, [])):
            new_code[visit_id] = code
            used.add(code)
    for visit_id, uscc, date in zip(visits["visit_id"], visits["uscc"], dates):
        if visit_id in new_code:
            continue
        tasks = tasks_of.get(visit_id, [])
        code, salt = visit_code(uscc, date, tasks), 0
        while code in old_codes or code in used:
            salt += 1
            code = _salted_code(uscc, date, tasks, as_of, salt)
        new_code[visit_id] = code
        used.add(code)
    visits["visit_code"] = visits["visit_id"].map(new_code)
    seats = tables.seats.copy()
    for frame in (visits, routes, crews, seats):
        frame["crew_id"] = frame["crew_id"].map(lambda c: crew_rename.get(c, c))
    for frame in (visits, routes, visit_tasks):
        frame["visit_id"] = frame["visit_id"].map(new_id)
    return dataclasses.replace(tables, visits=visits, routes=routes, crews=crews, visit_tasks=visit_tasks, seats=seats)


def _salted_code(uscc: str, date: dt.date, task_ids: list[str], as_of: dt.date, salt: int) -> str:
    """A new visit's code when its content's code was issued before: the re-optimisation date and a counter added."""
    text = f"{uscc}|{date.isoformat()}|{','.join(sorted(task_ids))}|{as_of.isoformat()}|{salt}"
    return base64.b32encode(hashlib.sha256(text.encode()).digest()[:5]).decode()


def _released_frame(releases: list[_Release], lang: str, names: dict[str, str]) -> pd.DataFrame:
    rows = [
        (r.visit_id, r.visit_code, r.uscc, r.date, r.crew_id, r.frozen, len(r.task_ids), r.reason.render(lang, names))
        for r in releases
    ]
    return pd.DataFrame(rows, columns=RELEASE_COLUMNS)


def _changes(
    planned: pd.DataFrame,
    tables: PlanTables,
    status: dict,
    reasons: dict,
    as_of: dt.date,
    freeze_end: dt.date,
    kept: _Kept,
    joined: set[str],
    urgent: set[str],
    back_on_date: set[str],
    prev: dict[str, pd.DataFrame],
    origins: dict[str, tuple[str, object]],
) -> pd.DataFrame:
    """One row per task: what the re-optimisation did to it, and why: the code of its reason (the
    rule or outcome behind it, else the change itself) and its message, rendered by the caller.
    ``origins``: a new follow-up task → the task whose rectify result made it, and the deadline."""
    now = (
        tables.visit_tasks[["task_id", "visit_id"]]
        .merge(tables.visits[["visit_id", "visit_code", "date", "crew_id"]], on="visit_id")
        .set_index("task_id")
    )
    why = dict(zip(tables.unscheduled["task_id"], zip(tables.unscheduled["reason_code"], tables.unscheduled["reason"])))
    let_go = {t: r for r in kept.releases for t in r.task_ids}
    before, after = planned.to_dict("index"), now.to_dict("index")
    # off-site checks: at a desk, before and now (rules.offsite)
    desk_before = dict(zip(prev["offsite"]["task_id"], prev["offsite"]["date"]))
    desk_now = dict(zip(tables.offsite["task_id"], zip(tables.offsite["date"], tables.offsite["inspector_id"])))
    before_ids = set(prev["tasks"]["task_id"])
    was_unscheduled = set(prev["unscheduled"]["task_id"])
    rows = []
    for task in tables.tasks.itertuples(index=False):
        t = task.task_id
        was, new = before.get(t), after.get(t)
        old_date = was["date"] if was is not None else None
        new_date = pd.Timestamp(new["date"]).date() if new is not None else None
        state = status.get(t)
        code = None
        if state in ("done", "cancelled", "closed") and t not in desk_now:
            change = state
            code, said = _closed_reason(state, t, reasons, old_date, as_of)
        elif t in desk_now:
            (day, who), change, code = desk_now[t], "offsite", "offsite_no_visit"
            old_date, new_date = desk_before.get(t), pd.Timestamp(day).date()
            said = msg("change.offsite", date=new_date, person=Person(who))
        elif was is None and new is None:
            change = "unscheduled"
            code, said = _unplaced("change.still_unplaced", why.get(t))
            if t in origins and t in why:
                origin, deadline = origins[t]
                category, sentence = reason_label(why[t][0]), why[t][1]
                said = msg(
                    "change.followup_unplaced", origin=origin, deadline=deadline, category=category, reason=sentence
                )
        elif was is None:
            change = "urgent" if t in urgent and new_date < freeze_end else "added"
            if t in origins:
                code, (origin, deadline) = "followup", origins[t]
                said = msg("change.followup", origin=origin, deadline=deadline, date=new_date)
            elif t not in before_ids:
                said = msg("change.added_urgent" if change == "urgent" else "change.added_new", date=new_date)
            elif t in was_unscheduled:
                said = msg("change.added_was_unplaced", date=new_date)
            else:
                said = msg("change.added", date=new_date)
            said = _joined(said) if t in joined else said
        elif new is None:
            change = "dropped"
            code, lost = _unplaced("change.not_replaced", why.get(t))
            said = msg("change.left", why=_left(t, state, let_go, was), where=lost)
        elif old_date == new_date and was["crew_id"] == new["crew_id"]:
            change = "kept"
            notes = kept.notes.get(was["crew_id"]) if old_date >= as_of else None
            said = msg("change.kept_crew", note=listing(notes, "clauses")) if notes else msg("change.kept")
        else:
            change = "moved"
            where = msg("change.same_day_other_crew") if t in back_on_date else msg("change.moved_to", date=new_date)
            said = msg("change.left", why=_left(t, state, let_go, was), where=where)
            said = _joined(said) if t in joined else said
        rows.append(
            (
                t,
                task.dept_id,
                task.uscc,
                task.kind,
                change,
                old_date,
                was["crew_id"] if was is not None else None,
                was["visit_code"] if was is not None else None,
                new_date,
                new["crew_id"] if new is not None else None,
                new["visit_code"] if new is not None else None,
                code or change,
                said,
            )
        )
    return pd.DataFrame(rows, columns=CHANGE_COLUMNS)


def _closed_reason(state: str, task_id: str, reasons: dict, old_date, as_of: dt.date) -> tuple[str, Message]:
    """Why a task left the plan for good: done, cancelled or its enterprise closed (code, message)."""
    if state in ("cancelled", "closed"):
        return state, msg(f"change.{state}")
    said = reasons.get(task_id)
    if isinstance(said, Reason) and said.code == "done_elsewhere":  # planner.actuals
        return said.code, msg("change.done_elsewhere", **dict(said.message.fields))
    if old_date is not None and old_date < as_of:
        return "done", msg("change.done", date=old_date)
    return "done", msg("change.done_reported")


def _left(task_id: str, state: str | None, let_go: dict, was: dict) -> Message:
    """Why a planned task left its visit."""
    day = was["date"]
    if state == "failed":
        return msg("change.failed", date=day)
    if task_id in let_go:
        return msg("change.released", date=day, why=let_go[task_id].reason)
    return msg("change.replanned", date=day)


def _joined(said: Message) -> Reason:
    """``said``, then that the task joins a visit already planned that day."""
    return Reason("", said, (msg("change.joined"),))


def _unplaced(lead: str, why: tuple[str, str] | None) -> tuple[str | None, Message]:
    """The code of an unscheduled task's reason, and a lead with the reason's category and sentence."""
    if why is None:
        return None, msg(lead)
    code, sentence = why
    return code, msg("change.with_reason", lead=msg(lead), category=reason_label(code), reason=sentence)


def _summary(changes: pd.DataFrame) -> pd.DataFrame:
    """Per department: how many tasks were kept, moved, added, dropped, done, cancelled, closed."""
    table = changes.pivot_table(index="dept_id", columns="change", values="task_id", aggfunc="count", fill_value=0)
    return table.reset_index()
