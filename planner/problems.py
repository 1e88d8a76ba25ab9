"""Problems found in input files, reported the way an official can act on them.

Every problem names the file, the row as a spreadsheet shows it (header = row 1), the column,
the bad value and the rule it breaks. Loaders collect all problems of all files before they
give up, so one run shows everything that needs fixing.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from planner.messages import Message, console_lang, msg, text

Severity = Literal["error", "warning"]

#: Problems shown per file before "… and N more" (a wall of 10,000 lines helps nobody).
SHOWN_PER_FILE = 20
#: the "file" of a problem with a command-line option (shown in the console's language)
COMMAND_LINE = "command line"


def as_is(sentence: str) -> Message:
    """A sentence that is not the planner's own (a library's or a check's message), shown as it is."""
    return msg("input.as_is", text=sentence)


@functools.total_ordering
@dataclass(frozen=True)
class Problem:
    """One broken rule at one place of one input file.

    ``message`` is the rule broken, a sentence of the catalogue (planner/messages.py) rendered in
    the console's language (``console_lang``); a plain ``str`` is taken as it is (``as_is``)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    message: Message
    severity: Severity = "error"
    label: str = "column"  # what ``column`` names: a table "column", a scenario "key", an "option"

    def __post_init__(self) -> None:
        if isinstance(self.message, str):
            object.__setattr__(self, "message", as_is(self.message))

    @property
    def rule(self) -> str:
        """The rule broken, in the console's language."""
        return self.message.render(console_lang())

    def where(self, lang: str | None = None) -> str:
        """'row 7, column uscc' (or 'key solver.workers'; '第 7 行，列 uscc') — the place inside the file."""
        lang = lang or console_lang()
        parts = []
        if self.row is not None:
            parts.append(text("input.place.row", lang).format(row=self.row))
        if self.column is not None:
            parts.append(text(f"input.place.{self.label}", lang).format(name=self.column))
        return text("input.place.sep", lang).join(parts)

    def describe(self, lang: str | None = None) -> str:
        """The problem without its file name: place, value and rule, in ``lang`` (the console's)."""
        lang = lang or console_lang()
        where = self.where(lang)
        if self.value is not None:
            shown = text("input.place.value", lang).format(value=shown_value(self.value))
            where = text("input.place.sep", lang).join([where, shown]) if where else shown
        rule = self.message.render(lang)
        return text("input.place.rule", lang).format(where=where, rule=rule) if where else rule

    def file_name(self, lang: str | None = None) -> str:
        """The file, or the command line in ``lang``."""
        return text("input.command_line", lang or console_lang()) if self.file == COMMAND_LINE else self.file

    def sort_key(self) -> tuple:
        return (self.file, self.row or 0, self.column or "", self.message.render("en"), self.severity)

    def __lt__(self, other: Problem) -> bool:
        return self.sort_key() < other.sort_key()

    def __str__(self) -> str:
        lang = console_lang()
        return text("input.place.rule", lang).format(where=self.file_name(lang), rule=self.describe(lang))


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


def report_lines(
    problems: Iterable[Problem], shown_per_file: int = SHOWN_PER_FILE, lang: str | None = None
) -> list[tuple[str, str]]:
    """(kind, line) in ``lang`` (the console's): kind ``file`` for a file's heading with its counts,
    ``error`` or ``warning`` for a problem, ``more`` for the count of those not shown."""
    lang = lang or console_lang()
    lines: list[tuple[str, str]] = []
    for group in by_file(problems).values():
        n_errors = sum(p.severity == "error" for p in group)
        n_warnings = len(group) - n_errors
        counts = [text(f"input.count.errors.{'one' if n == 1 else 'many'}", lang).format(n=n) for n in [n_errors] if n]
        counts += [
            text(f"input.count.warnings.{'one' if n == 1 else 'many'}", lang).format(n=n) for n in [n_warnings] if n
        ]
        heading = text("input.place.rule", lang).format(
            where=group[0].file_name(lang), rule=text("input.place.sep", lang).join(counts)
        )
        lines.append(("file", printable(heading)))
        for problem in group[:shown_per_file]:
            marker = text(f"input.severity.{problem.severity}", lang)
            line = text("input.place.rule", lang).format(where=marker, rule=problem.describe(lang))
            lines.append((problem.severity, printable(f"  {line}")))
        if len(group) > shown_per_file:
            more = text("input.more_in_file", lang).format(n=len(group) - shown_per_file)
            lines.append(("more", f"  {more}"))
    return lines


def format_report(
    problems: Iterable[Problem], shown_per_file: int = SHOWN_PER_FILE, lang: str | None = None
) -> list[str]:
    """Plain-text lines: a heading per file, its first problems, and a count of the rest."""
    return [line for _, line in report_lines(problems, shown_per_file, lang)]
