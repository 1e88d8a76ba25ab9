"""The plan checker: every hard rule of the rulebook, re-checked from the plan tables alone.

This is the specification of a valid plan. It shares no code with the planner's model or
scheduler — only the input loaders, the calendar, the travel model and each rule's own
``check`` in ``planner.rules``, which recomputes its facts from the tables and the inputs — so a
bug in planning cannot hide itself here. Every plan a test produces goes through ``check_plan``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from planner.dataset import Dataset
from planner.messages import Message, console_lang
from planner.plan import PlanTables
from planner.rules import HARD, PRACTICE, RULEBOOK
from planner.scenario import Scenario


class Violation(str):
    """A broken rule: the sentence that says where, with the rule's ``code`` (planner.rules)."""

    rule: str

    def __new__(cls, rule: str, message: str) -> Violation:
        violation = super().__new__(cls, message)
        violation.rule = rule
        return violation


@dataclass
class CheckInputs:
    """What the rules are checked against: the inputs as read, the horizon's working days and
    the recorded draw (None: not checked). ``joined`` is prepared once for the rules that look
    at each task in its visit."""

    plan: PlanTables
    dataset: Dataset
    scenario: Scenario
    workdays: set[dt.date]
    draws: pd.DataFrame | None = None
    as_of: dt.date | None = None  # a re-optimised plan's date: the days before it are history
    _shared: dict = field(default_factory=dict, repr=False)

    def current(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` (crews or visits, with ``date``) that today's roster judges: all of
        them, or in a re-optimised plan those on or after ``as_of``. The days before are history,
        checked against the roster of their time when they were planned (lineage proves them
        unchanged since): an inspector's hours, certificate or delegation changed in the actuals
        applies from ``as_of``, not to the past."""
        if self.as_of is None:
            return frame
        return frame[pd.to_datetime(frame["date"]) >= pd.Timestamp(self.as_of)]

    def shared(self, key: str, make):
        """A fact several rules' checks read, made once (``make()``) on first use."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    @cached_property
    def joined(self) -> pd.DataFrame:
        """visit_tasks with their visit (date, uscc, crew) and task (window, kind …; its own
        enterprise as ``task_uscc``)."""
        plan = self.plan
        visits = plan.visits.set_index("visit_id")
        tasks = plan.tasks.set_index("task_id").rename(columns={"uscc": "task_uscc"})
        joined = plan.visit_tasks[["task_id", "visit_id"]].join(visits[["uscc", "date", "crew_id"]], on="visit_id")
        return joined.join(tasks, on="task_id")


#: rules whose failure makes the others meaningless (the others trust the tables' keys)
_FIRST = ("plan_integrity", "random_draw")


def check_plan(
    plan: PlanTables,
    dataset: Dataset,
    scenario: Scenario,
    workdays: set,
    draws: pd.DataFrame | None = None,
    as_of: dt.date | None = None,
) -> list[Violation]:
    """Every broken hard rule, one sentence each with its rule's code; [] for a valid plan.

    With ``draws`` (draws.parquet), every selected enterprise's random task must be in the plan;
    with ``as_of`` (a re-optimised plan), the staff rules judge the days from ``as_of`` by
    ``dataset``'s roster (``CheckInputs.current``).
    """
    return _check(HARD, CheckInputs(plan, dataset, scenario, workdays, draws, as_of))


def check_practice(plan: PlanTables, dataset: Dataset, scenario: Scenario, workdays: set) -> list[Violation]:
    """Every departure from the planner's own rules of practice (stays, one visit a day): a plan
    that departs from them is still valid, but the planner never makes one."""
    return _check(PRACTICE, CheckInputs(plan, dataset, scenario, workdays))


def _check(severity: str, inputs: CheckInputs) -> list[Violation]:
    checks = [rule for rule in RULEBOOK if rule.check is not None and rule.severity == severity]
    plan = inputs.plan
    staff, departments = inputs.dataset.inspectors, inputs.dataset.departments
    names = dict(zip(staff["inspector_id"], staff["name"])) | dict(zip(departments["dept_id"], departments["name"]))
    lang = console_lang()  # a broken rule is said on the console (the planner's own error, or verify's finding)

    def said(line) -> str:
        return line.render(lang, names) if isinstance(line, Message) else line

    problems = [Violation(r.code, said(line)) for r in checks if r.code in _FIRST for line in r.check(plan, inputs)]
    if problems:
        return problems
    return [Violation(r.code, said(line)) for r in checks if r.code not in _FIRST for line in r.check(plan, inputs)]
