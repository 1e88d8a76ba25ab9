"""The visit group: tasks of one enterprise to be checked in one stay, and the days they share."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from planner.model.instance import TaskTable
from planner.rules.appointments import APPOINTMENT
from planner.rules.crews import min_crew
from planner.rules.stays import onsite_minutes


@dataclass(eq=False)  # identity: two groups are never "equal" by content
class VisitGroup:
    """Tasks of one enterprise to be checked in one stay, and the days they can share.

    ``rows`` are row numbers into a ``TaskTable`` (the instance's tasks as columns), so a group
    is a few arrays and no Python object per task. A group's tasks do not change once it is
    made (a different set is a new group), so what is derived from them is computed once.
    """

    table: TaskTable = field(repr=False)
    uscc: str
    rows: np.ndarray  # int64 row numbers, in the order the tasks are listed in the plan
    days: np.ndarray  # working-day indices common to every task
    group_id: int = 0

    @cached_property
    def depts(self) -> tuple[str, ...]:
        names = self.table.dept_names
        return tuple(names[c] for c in np.unique(self.table.dept[self.rows]).tolist())

    @cached_property
    def capped(self) -> bool:
        return bool(self.table.capped[self.rows].any())

    @cached_property
    def mandatory(self) -> bool:
        return bool(self.table.mandatory[self.rows].any())

    @cached_property
    def appointment(self) -> bool:
        """Holds an appointment's tasks (预约, ``rules.appointments``): placed whole or not at all."""
        return bool((self.table.kind[self.rows] == APPOINTMENT).any())

    @cached_property
    def min_crew(self) -> int:
        return min_crew(self.table.min_inspectors[self.rows].max())

    @property
    def task_ids(self) -> list[str]:
        return self.table.task_id[self.rows].tolist()

    @property
    def n_tasks(self) -> int:
        return len(self.rows)

    def onsite_min(self, mode: str) -> int:
        """On-site minutes: the sum of the tasks, or (parallel) the largest per-department sum."""
        return onsite_minutes(self.table, self.rows, mode)

    def delegable(self, dept: str) -> bool:
        """All the group's tasks of ``dept`` may be checked by another department's delegated inspector."""
        return self._delegable.get(dept, True)  # no task of dept: nothing to carry

    @cached_property
    def _delegable(self) -> dict[str, bool]:
        table, rows = self.table, self.rows
        return {d: bool(table.delegable[rows][table.dept_id[rows] == d].all()) for d in self.depts}

    @cached_property
    def _value(self) -> tuple[int, int, int]:
        rows = self.rows
        return int(self.table.mandatory[rows].sum()), len(rows), int(self.table.priority[rows].sum())

    def value(self) -> tuple:
        """Which group keeps a scarce cap: mandatory tasks, then more tasks, then priority."""
        return self._value


def distinct_days(windows: list[np.ndarray]) -> bool:
    """Whether every window (the days of one enterprise's groups) can have a day of its own
    (bipartite matching by augmenting paths: a handful of groups, no solver needed)."""
    owner: dict[int, int] = {}

    def place(n: int, seen: set[int]) -> bool:
        for day in windows[n].tolist():
            if day not in seen:
                seen.add(day)
                if day not in owner or place(owner[day], seen):
                    owner[day] = n
                    return True
        return False

    return all(place(n, set()) for n in range(len(windows)))
