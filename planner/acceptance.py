"""Acceptance rules: pass/fail thresholds on a plan's KPIs, stated in the scenario.

A rule is ``"<kpi> <op> <number>"``, e.g. ``"unscheduled_mandatory == 0"``,
``"joint_inspection_rate >= 0.557"`` (Zhejiang's 2024 综合查一次实施率), ``"joint_random_rate_strict >= 0.4"``
(Huzhou's target) or, for a re-optimisation, ``"reoptimisation.frozen_visits_changed == 0"``.
``planner plan``, ``reoptimize`` and ``compare`` exit with ``EXIT_REJECTED`` when one fails, so
a coordinator can sign a plan off with a command.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any

EXIT_REJECTED = 4
KPI_NAMES = frozenset(
    {
        "tasks",
        "scheduled",
        "unscheduled",
        "unscheduled_mandatory",
        "visits",
        "baseline_visits",
        "lower_bound_visits",
        "rule_bound_visits",
        "disturbance_reduction",
        "disturbance_saved_joint",
        "joint_inspection_rate",
        "joint_task_rate",
        "joint_visit_rate",
        "joint_random_rate",
        "joint_random_rate_strict",
        "inspector_hours",
        "travel_hours",
        "max_crew_day_hours",
        "appointments_total",
        "appointments_kept",
        "checks_folded_into_appointments",
        "reoptimisation.visits_changed",
        "reoptimisation.frozen_visits_changed",
    }
)
OPERATORS = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_RULE = re.compile(r"^\s*([a-z_][a-z_.]*)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


@dataclass(frozen=True)
class Verdict:
    """One rule against one plan: the KPI's value and whether the rule holds."""

    rule: str
    value: Any
    passed: bool


def parse_rule(text: str) -> tuple[str, str, float]:
    """(kpi, operator, threshold) of a rule; ValueError naming what is wrong."""
    match = _RULE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not '<kpi> <op> <number>' with op one of {', '.join(OPERATORS)}")
    kpi, op, number = match.groups()
    if kpi not in KPI_NAMES:
        raise ValueError(f"{kpi!r} is not a KPI; known: {', '.join(sorted(KPI_NAMES))}")
    return kpi, op, float(number)


def judge(rules: tuple[str, ...] | list[str], kpis: dict[str, Any]) -> list[Verdict]:
    """Every rule against the KPIs; a KPI the plan lacks (a re-optimisation figure of a first plan) fails."""
    verdicts = []
    for rule in rules:
        kpi, op, threshold = parse_rule(rule)
        value: Any = kpis
        for part in kpi.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        verdicts.append(Verdict(rule, value, value is not None and OPERATORS[op](float(value), threshold)))
    return verdicts
