"""The variables of a CP-SAT model of one enterprise's tasks, shared by its three uses.

Three models look at one enterprise at a time, over the same variables:

- the merge (``merge.best_capped_visits``): which visits keep the most valuable tasks within
  the yearly caps and the stay rule — maximise, lexicographically;
- the rule-aware bound (``bounds.fewest_visits``): the fewest visits any plan could make for
  the tasks a plan scheduled — minimise, over a relaxation;
- diagnose (``diagnose._solve_core``): can these mandatory tasks all be kept — feasibility
  under assumptions, whose core names the tasks that compete.

``EnterpriseVars`` holds, for the days that matter (``representative_days``):
``visit[d]`` (a visit on working day d: a Boolean, or for the bound a count of stays),
``capped[d]`` (that visit is capped), ``assign[t, d]`` (task t checked on d) for each feasible
pair only, and ``checks[k, d]`` (department k checks in the capped visit of d). The rules' CP-SAT
parts (``planner.rules.caps``, ``planner.rules.stays``) add their constraints over them.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

#: a model's search is deterministic in this many seconds of the solver's own deterministic
#: clock, on any machine; the exact per-enterprise models are small and finish far sooner
DETERMINISTIC_SECONDS = 5.0


@dataclass(frozen=True)
class EnterpriseTask:
    """One task in a model of its enterprise: its key in the caller (a row of the instance's
    task table, or a task id), department, kind's cap, on-site minutes and feasible days."""

    key: Hashable
    name: str  # for the variables' names
    dept_id: str
    capped: bool
    duration_min: int
    days: np.ndarray


class EnterpriseVars:
    """The variables of one enterprise's model (module doc), created in one fixed order."""

    def __init__(
        self, model: cp_model.CpModel, tasks: list[EnterpriseTask], years: np.ndarray, visits: str | None = "bool"
    ):
        """``visits``: "bool" (one visit a day), "count" (stays a day, 0…len(tasks)) or None."""
        self.model = model
        self.tasks = tasks
        self.days = representative_days({t.key: t.days for t in tasks}, years)
        self.feasible = {t.key: t.days[np.isin(t.days, self.days)] for t in tasks}
        n = len(tasks)
        if visits == "bool":
            self.visit = {d: model.new_bool_var(f"visit_{d}") for d in self.days}
        elif visits == "count":
            self.visit = {d: model.new_int_var(0, n, f"visits_{d}") for d in self.days}
        else:
            self.visit = {}
        self.capped = {d: model.new_bool_var(f"capped_{d}") for d in self.days}
        self.assign = {
            (t.key, int(d)): model.new_bool_var(f"assign_{t.name}_{d}") for t in tasks for d in self.feasible[t.key]
        }
        self.depts = sorted({t.dept_id for t in tasks})
        self.checks = {(k, d): model.new_bool_var(f"checks_{k}_{d}") for k in self.depts for d in self.days}

    def of_task(self, task: EnterpriseTask) -> list[cp_model.IntVar]:
        """The task's assignment variables, one per feasible day."""
        return [self.assign[(task.key, int(d))] for d in self.feasible[task.key]]

    def on_day(self, day: int) -> list[tuple[EnterpriseTask, cp_model.IntVar]]:
        """The tasks that may be checked on ``day``, each with its assignment variable."""
        return [(t, self.assign[(t.key, day)]) for t in self.tasks if (t.key, day) in self.assign]


def representative_days(feasible: dict[Hashable, np.ndarray], years: np.ndarray) -> list[int]:
    """Enough days to keep a model of one enterprise exact, far fewer than all.

    Days on which the same tasks are feasible (in the same year) are interchangeable; of each
    such class a plan can use at most as many days as the class has tasks, so the first that
    many days suffice."""
    classes: dict[tuple, list[int]] = {}
    for day in sorted({int(d) for f in feasible.values() for d in f}):
        signature = (int(years[day]), *(key for key, f in feasible.items() if day in f))
        classes.setdefault(signature, []).append(day)
    return sorted(d for signature, members in classes.items() for d in members[: len(signature) - 1])


def solve(model: cp_model.CpModel, time_limit_s: float | None = None) -> tuple[int, cp_model.CpSolver]:
    """Solve a per-enterprise model the one way every plan does: one search worker and a
    deterministic time limit, so that the same inputs give the same answer on any machine and
    at any ``[solver] workers``; ``time_limit_s`` (wall seconds) only when a run's budget is
    nearly spent. Ctrl-C is left to the planner (``cli.plan``), not caught by one model.
    Returns the status and the solver (its values)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = DETERMINISTIC_SECONDS
    solver.parameters.catch_sigint_signal = False
    if time_limit_s is not None:
        solver.parameters.max_time_in_seconds = time_limit_s
    return solver.solve(model), solver
