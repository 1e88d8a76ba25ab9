"""A plan as values: its tables (the plan folder's contract), and the result ``make_plan`` gives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from planner.sampling import Draw


@dataclass(frozen=True)
class PlanTables:
    """The tables of a plan folder (contract names and columns)."""

    tasks: pd.DataFrame
    visits: pd.DataFrame
    visit_tasks: pd.DataFrame
    crews: pd.DataFrame
    routes: pd.DataFrame
    unscheduled: pd.DataFrame


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

    @property
    def valid(self) -> bool:
        return not self.broken
