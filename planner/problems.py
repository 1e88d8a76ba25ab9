"""Problems found in input files, reported the way an official can act on them.

Every problem names the file, the row as a spreadsheet shows it (header = row 1), the column,
the bad value and the rule it breaks. Loaders collect all problems of all files before they
give up, so one run shows everything that needs fixing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

#: Problems shown per file before "… and N more" (a wall of 10,000 lines helps nobody).
SHOWN_PER_FILE = 20


@dataclass(frozen=True, order=True)
class Problem:
    """One broken rule at one place of one input file."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    severity: Severity = "error"
    label: str = "column"  # what ``column`` names: a table column, or a scenario "key"

    def where(self) -> str:
        """'row 7, column uscc' (or 'key solver.workers') — the place inside the file."""
        parts = []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"{self.label} {self.column}")
        return ", ".join(parts)

    def describe(self) -> str:
        """The problem without its file name: place, value and rule."""
        text = self.where()
        if self.value is not None:
            text += f"{', ' if text else ''}value {shown_value(self.value)}"
        return f"{text}: {self.rule}" if text else self.rule

    def __str__(self) -> str:
        return f"{self.file}: {self.describe()}"


#: characters that must not reach a terminal raw: C0 controls but tab and line feed, DEL, C1
#: controls (ESC and CSI start escape sequences), and the bidirectional overrides that reorder text
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_OR_NEWLINE = re.compile(f"[\n{_CONTROL.pattern[1:]}")


def printable(text: str, keep_newlines: bool = False) -> str:
    """``text`` with every control character written as its escape (``\\x1b``): a header or a
    value holding an escape sequence cannot recolour, retitle or rewrite the user's terminal, nor
    a line break split one message into two. Tabs stay, and line breaks with ``keep_newlines``."""
    pattern = _CONTROL if keep_newlines else _CONTROL_OR_NEWLINE
    return pattern.sub(lambda m: repr(m.group())[1:-1], text)


def shown_value(value: str, limit: int = 40) -> str:
    """The value quoted, cut to ``limit`` characters so one long cell does not flood the report."""
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text)


class InputError(Exception):
    """Input that breaks the data contract; carries every problem found, errors first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(f"{len(self.errors)} problem(s) in the input")

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")


def by_file(problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    """Problems grouped per file in file order, each group sorted by row."""
    groups: dict[str, list[Problem]] = {}
    for problem in problems:
        groups.setdefault(problem.file, []).append(problem)
    return {file: sorted(group, key=lambda p: (p.row or 0, p.column or "", p.rule)) for file, group in groups.items()}


def format_report(problems: Iterable[Problem], shown_per_file: int = SHOWN_PER_FILE) -> list[str]:
    """Plain-text lines: a heading per file, its first problems, and a count of the rest."""
    lines: list[str] = []
    for file, group in by_file(problems).items():
        n_errors = sum(p.severity == "error" for p in group)
        n_warnings = len(group) - n_errors
        counts = [f"{n} error{'s' * (n != 1)}" for n in [n_errors] if n]
        counts += [f"{n} warning{'s' * (n != 1)}" for n in [n_warnings] if n]
        lines.append(printable(f"{file}: {', '.join(counts)}"))
        for problem in group[:shown_per_file]:
            marker = "error" if problem.severity == "error" else "warning"
            lines.append(printable(f"  {marker}: {problem.describe()}"))
        if len(group) > shown_per_file:
            lines.append(f"  … and {len(group) - shown_per_file} more in this file")
    return lines
