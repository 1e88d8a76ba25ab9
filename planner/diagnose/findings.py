"""What ``planner diagnose`` finds: per task, per range of weeks, and the whole diagnosis."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from planner.rules.explain import BLOCKED


@dataclass(frozen=True)
class Finding:
    """One task that cannot be placed (``blocked``) or may not be (``at_risk``), and why."""

    task_id: str
    kind: str
    mandatory: bool
    dept_id: str
    dept_name: str
    uscc: str
    enterprise: str
    window: str  # "YYYY-MM-DD…YYYY-MM-DD" as the demand states it
    rule: str  # a code of the rulebook (DIAGNOSED)
    severity: str  # BLOCKED or AT_RISK
    why_zh: str
    why_en: str
    fix_zh: str
    fix_en: str
    also: tuple[str, ...] = ()  # further rules the task breaks (fix the first, these remain)


@dataclass(frozen=True)
class Shortfall:
    """A range of ISO weeks in which a department's mandatory demand exceeds its inspector time."""

    dept_id: str  # COUNTY for all departments together
    dept_name: str
    first_week: str  # "2026-W07"
    last_week: str
    start: dt.date  # first and last working day of the range
    end: dt.date
    tasks: int  # mandatory tasks whose feasible days lie wholly in the range
    demand_min: int  # person-minutes on site they need at the least
    supply_min: int  # person-minutes the inspectors can give at most (paced: as paced)
    paced: bool  # False: proven shortfall; True: only beyond the paced supply (pressure)
    supply_days: float = 0.0  # inspector-days those minutes are (paced: as paced)
    at_most: int = 0  # the most of the ``tasks`` any plan can place: the shortest that fit the supply

    @property
    def short_min(self) -> int:
        return self.demand_min - self.supply_min


@dataclass(frozen=True)
class Diagnosis:
    """What ``diagnose`` found: findings per task, capacity shortfalls and the weekly table."""

    scenario: str
    tasks: int  # tasks checked (mandatory; and optional ones if asked)
    mandatory: int
    findings: tuple[Finding, ...]
    shortfalls: tuple[Shortfall, ...]
    capacity: pd.DataFrame  # CAPACITY_COLUMNS: one row per department (and COUNTY) and ISO week
    timings: dict[str, float] = field(default_factory=dict)
    #: the most mandatory tasks any plan can place under the staff (``model.capacity.capacity_bound``)
    capacity_bound_mandatory: int | None = None

    @property
    def blocked(self) -> tuple[Finding, ...]:
        """Mandatory tasks no plan can place."""
        return tuple(f for f in self.findings if f.mandatory and f.severity == BLOCKED)

    @property
    def short_of_staff(self) -> int:
        """Mandatory tasks that no plan can place for want of staff, beyond those blocked by a
        rule: the capacity bound leaves out at least ``mandatory − bound`` (0 without a bound)."""
        if self.capacity_bound_mandatory is None:
            return 0
        return max(0, self.mandatory - self.capacity_bound_mandatory - len(self.blocked))

    @property
    def ok(self) -> bool:
        """No mandatory task is blocked and no department is proven short of time."""
        return not self.blocked and not self.short_of_staff and not any(not s.paced for s in self.shortfalls)
