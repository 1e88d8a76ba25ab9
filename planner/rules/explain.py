"""What ``planner diagnose`` says when a task cannot keep a rule: the verdict, and its words.

Each rule module's ``explain_<rule>(task, county)`` returns a ``Verdict`` — or None when the
task can keep the rule — reading the facts ``planner.diagnose.facts.County`` prepared once.
Every verdict is a *necessary* condition: BLOCKED proves that no plan can place the task under
the rules; AT_RISK says it may not be placed.

A verdict's words come from the message catalogue (``planner.messages``): ``why`` says what
keeps the task out — where the planner says the same of an unscheduled task, with the same
message (``reason.working_day``…), so that ``diagnose`` and the plan speak one vocabulary — and
``fix`` what would let it in (``fix.<rule>``). Both are rendered where the language is known.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from planner.messages import Message, Reason, listing, msg

BLOCKED, AT_RISK = "blocked", "at_risk"


@dataclass(frozen=True)
class Verdict:
    """A rule broken by one task: its code, severity, and the catalogue's reason and fix."""

    rule: str
    severity: str
    why: Message | Reason
    fix: Message | Reason

    def why_in(self, lang: str, names: Mapping[str, str] | None = None) -> str:
        """The reason in ``lang``, department ids read as names through ``names``."""
        return self.why.render(lang, names)

    def fix_in(self, lang: str, names: Mapping[str, str] | None = None) -> str:
        return self.fix.render(lang, names)


def window_text(task: dict) -> str:
    """A task's window as the demand states it, "YYYY-MM-DD…YYYY-MM-DD" (as the plan's reasons)."""
    return f"{task['window_start']:%Y-%m-%d}…{task['window_end']:%Y-%m-%d}"


def nearest(days: Iterable[str], none: str = "fix.none") -> object:
    """Working days to name in a fix, "A 或 B" / "A or B"; the message ``none`` when there is none."""
    days = list(days)
    return listing(days, "or") if days else msg(none)


def options(first: Message, *others: Message) -> Message | Reason:
    """Several fixes, "A；或B" / "A; or B" (a Reason's notes say the others after the first)."""
    if not others:
        return first
    return Reason("fix", first, tuple(msg("fix.or", option=o) for o in others))
