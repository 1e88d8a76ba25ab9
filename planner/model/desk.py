"""Off-site checks (非现场监管): who does each at their desk, on which day.

An off-site task (``mode = offsite``, ``rules.offsite``) needs no visit: it takes
``[offsite] desk_share`` of one inspector's working day. The placement is constructive and
deterministic, in two passes around the crews' schedule:

1. the mandatory off-site tasks (key, followup; 必查) *before* the crews are scheduled: the days
   they take are kept from the crews (``reserve``: a day of leave, and one planned day fewer of
   ``max_days``), so a legal duty is never crowded out by optional on-site work;
2. the other off-site tasks *after* it, on the days the inspectors have left.

Each task, in order of its last possible day, then priority (higher first), then task id, goes
to an eligible inspector (certified, of its department or holding its delegation when it is
delegable, no conflict with the enterprise, not on leave): first onto a day that already holds
desk work with room left (the earliest such day, lowest lottery number among the inspectors),
else onto a new day — the earliest working day of its window on which an inspector with planned
days left is neither on a crew nor at a desk, the one with most days left first, then the
lottery (``matching.lottery``: 随机选派, reproducible from the seed). A task no inspector can take
is unscheduled with the reason (``desk_time``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from planner.messages import Dept, Reason, reason
from planner.model.matching import Roster, lottery
from planner.rules.offsite import OFFSITE, OFFSITE_COLUMNS, empty_offsite


@dataclass
class DeskBook:
    """The desk days given so far: how many checks each (inspector, date) holds, and each
    inspector's planned days (crew days and desk days)."""

    roster: Roster
    per_day: int  # checks that fill a day
    seed: int
    busy: dict[str, set[dt.date]] = field(default_factory=lambda: defaultdict(set))  # crew or desk days
    load: dict[tuple[str, dt.date], int] = field(default_factory=dict)
    rows: list[tuple] = field(default_factory=list)

    def days_left(self, who: str) -> int:
        return self.roster.max_days[who] - len(self.busy[who])

    def take(self, task: dict, who: str, day: dt.date) -> None:
        self.load[(who, day)] = self.load.get((who, day), 0) + 1
        self.busy[who].add(day)
        self.rows.append((task["task_id"], who, day, task["dept_id"], task["uscc"], task["kind"], task["item"]))


def offsite_tasks(tasks: pd.DataFrame) -> pd.DataFrame:
    """The off-site tasks with a possible day, in placing order (last day, priority, task id)."""
    chosen = tasks[tasks["mode"].eq(OFFSITE) & (tasks["first_day"] >= 0)]
    return chosen.assign(_priority=-chosen["priority"]).sort_values(["last_day", "_priority", "task_id"], kind="stable")


def place_desk_work(tasks: pd.DataFrame, workdays: tuple[dt.date, ...], book: DeskBook) -> dict[str, Reason]:
    """Place each task of ``tasks`` (``offsite_tasks``' rows) in ``book``; the reasons of those
    no inspector can take."""
    roster = book.roster
    reasons: dict[str, Reason] = {}
    for task in tasks.to_dict("records"):
        eligible = [
            who
            for who, dept in sorted(roster.dept_of.items())
            if (dept == task["dept_id"] or (task["delegable"] and task["dept_id"] in roster.delegations[who]))
            and task["uscc"] not in roster.conflicts.get(who, frozenset())
        ]
        days = workdays[task["first_day"] : task["last_day"] + 1]
        if not eligible:
            reasons[task["task_id"]] = reason("desk_time", "reason.desk_time.nobody", dept=Dept(task["dept_id"]))
            continue
        chosen = _open_day(task, eligible, days, book) or _new_day(eligible, days, book)
        if chosen is None:
            reasons[task["task_id"]] = reason(
                "desk_time",
                "reason.desk_time.full",
                dept=Dept(task["dept_id"]),
                days=len(days),
                window=f"{days[0]}…{days[-1]}",
            )
            continue
        book.take(task, *chosen)
    return reasons


def _open_day(task: dict, eligible: list[str], days, book: DeskBook) -> tuple[str, dt.date] | None:
    """The earliest day of ``days`` on which an eligible inspector has desk work with room left."""
    within = set(days)
    open_days = [
        (day, lottery(book.seed, day, who), who)
        for (who, day), n in book.load.items()
        if n < book.per_day and day in within and who in eligible
    ]
    if not open_days:
        return None
    day, _, who = min(open_days)
    return who, day


def _new_day(eligible: list[str], days, book: DeskBook) -> tuple[str, dt.date] | None:
    """The earliest day of ``days`` on which an eligible inspector with planned days left is free."""
    roster = book.roster
    able = [who for who in eligible if book.days_left(who) > 0]
    for day in days:
        free = [who for who in able if day not in book.busy[who] and day not in roster.leave.get(who, ())]
        if free:
            who = min(free, key=lambda w: (-book.days_left(w), lottery(book.seed, day, w), w))
            return who, day
    return None


def desk_frame(book: DeskBook) -> pd.DataFrame:
    """offsite.parquet: one row per off-site check, by date, inspector and task."""
    if not book.rows:
        return empty_offsite()
    frame = pd.DataFrame(book.rows, columns=OFFSITE_COLUMNS)
    return frame.sort_values(["date", "inspector_id", "task_id"], kind="stable").reset_index(drop=True)


def reserve(dataset, book: DeskBook, working_days: int, planned_share: float):
    """The dataset the crews are scheduled with: every desk day of ``book`` a day of leave of its
    inspector, and one planned day fewer of that inspector's ``max_days``."""
    if not book.rows:
        return dataset
    from planner.rules.staff_days import max_days

    limits = max_days(dataset.inspectors, planned_share, working_days)
    desk = {who: len(days) for who, days in book.busy.items() if days}
    inspectors = dataset.inspectors.copy()
    inspectors["max_days"] = pd.array(
        [limits[w] - desk[w] if w in desk else m for w, m in zip(inspectors["inspector_id"], inspectors["max_days"])],
        dtype="Int64",
    )
    leave = pd.DataFrame(
        [(who, pd.Timestamp(day), pd.Timestamp(day)) for (who, day) in sorted(book.load)],
        columns=["inspector_id", "start", "end"],
    )
    leave = pd.concat([dataset.leave, leave], ignore_index=True)
    return dataclasses.replace(dataset, inspectors=inspectors, leave=leave)
