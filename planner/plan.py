"""A plan as values: its tables (the plan folder's contract), and the result ``make_plan`` gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from planner.messages import DEFAULT_LANG, catalogue, text
from planner.model.horizon import TASKS, WHOLE_FIRST
from planner.model.matching import seat_frame
from planner.rules.offsite import empty_offsite

if TYPE_CHECKING:
    from planner.sampling import Draw


#: kpis.json ``method`` of a plan and of a re-optimisation (codes for machines; the workbook and
#: report say them with the catalogue's ``method.*`` sentences)
PLAN_METHOD = "exact merge per enterprise + horizon capacity LP + paced scheduler"
REOPTIMIZE_METHOD = "re-optimisation: kept visits + " + PLAN_METHOD
METHOD_MESSAGES = {PLAN_METHOD: "method.plan", REOPTIMIZE_METHOD: "method.reoptimize"}


def schedule_text(chosen: str, lang: str = DEFAULT_LANG) -> str:
    """How the kept schedule was found (``model.horizon``'s name: "capacity", "day-by-day", "exact",
    "split-N" or "<start> split-N", each perhaps followed by " whole-first", then perhaps by
    " tasks-N"), in the catalogue's words."""
    start, _, last = chosen.rpartition(" ")
    if start and last.startswith(f"{TASKS}-"):
        return text("schedule.tasks", lang).format(
            start=schedule_text(start, lang), round=last.removeprefix(f"{TASKS}-")
        )
    if chosen.endswith(f" {WHOLE_FIRST}"):
        start = schedule_text(chosen.removesuffix(f" {WHOLE_FIRST}"), lang)
        return text("schedule.whole_first", lang).format(start=start)
    start, _, split = chosen.rpartition(" ") if " " in chosen else ("capacity", "", chosen)
    if split.startswith("split-"):
        return text("schedule.split", lang).format(start=schedule_text(start, lang), round=split.removeprefix("split-"))
    message_id = f"schedule.{chosen.replace('-', '_')}"
    return text(message_id, lang) if message_id in catalogue(lang) else chosen


@dataclass(frozen=True)
class PlanTables:
    """The tables of a plan folder (contract names and columns)."""

    tasks: pd.DataFrame
    visits: pd.DataFrame
    visit_tasks: pd.DataFrame
    crews: pd.DataFrame
    routes: pd.DataFrame
    unscheduled: pd.DataFrame
    #: off-site checks (非现场检查, offsite.parquet): task_id, inspector_id, date, dept_id, uscc, kind,
    #: item; empty for plans without them (and for plans written before them)
    offsite: pd.DataFrame = field(default_factory=empty_offsite)
    #: the seat lottery's record (随机选派记录, seats.parquet; ``model.matching.SEAT_COLUMNS``): every
    #: round of seats this run filled, each request with its candidates and their planned days then;
    #: empty for plans written before it
    seats: pd.DataFrame = field(default_factory=lambda: seat_frame([]))


@dataclass
class Plan:
    """A finished plan, already checked: its tables, the draw, KPIs, stage timings (seconds) and
    ``broken``, every hard rule it breaks (``planner.checker.Violation``; empty for a valid plan —
    a non-empty list is the planner's own bug, and nothing should be written)."""

    tables: PlanTables
    draw: Draw
    kpis: dict
    timings: dict[str, float] = field(default_factory=dict)
    broken: list = field(default_factory=list)
    lang: str = DEFAULT_LANG  # the language of its sentences (reasons, changes): planner.messages

    @property
    def valid(self) -> bool:
        return not self.broken
