"""What ``planner diagnose`` says when a task cannot keep a rule: the verdict, and its words.

Each rule module's ``explain_<rule>(task, county)`` returns a ``Verdict`` — or None when the
task can keep the rule — reading the facts ``planner.diagnose.facts.County`` prepared once.
Every verdict is a *necessary* condition: BLOCKED proves that no plan can place the task under
the rules; AT_RISK says it may not be placed.
"""

from __future__ import annotations

from dataclasses import dataclass

BLOCKED, AT_RISK = "blocked", "at_risk"


@dataclass(frozen=True)
class Verdict:
    """A rule broken by one task: its code, severity, reason and fix in both languages."""

    rule: str
    severity: str
    why_zh: str
    why_en: str
    fix_zh: str
    fix_en: str


def window_text(task: dict) -> str:
    """A task's window as the demand states it, "YYYY-MM-DD…YYYY-MM-DD"."""
    return f"{task['window_start']:%Y-%m-%d}…{task['window_end']:%Y-%m-%d}"
