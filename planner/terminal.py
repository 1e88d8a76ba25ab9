"""Text for a terminal of a given width: lines wrapped where Chinese and English both allow a
break, never inside a value (a USCC, a date, a code), and records laid out one per block.

Rich wraps at spaces only, so a Chinese sentence with a date in it is one "word" that it folds
anywhere, splitting the date; these helpers break between Chinese characters and at spaces, and
keep every run of Latin letters, digits and their punctuation whole. They return plain lines;
the caller prints them (with ``soft_wrap=True``, so nothing wraps them again).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rich.cells import cell_len

#: a run that must stay on one line: letters, digits and the punctuation inside values
#: (2026-01-13…2026-01-26, 92330524MAK69D9CLW, SJ-R-04:9233…, 12.5%, (SJ))
_UNBREAKABLE = re.compile(r"[\x21-\x7e…–—·×’‘“”%°]+")
#: punctuation that must not begin a line (it is kept with what precedes it)
_NO_LINE_START = set("，。、；：！？）》」』】〉,.;:!?)]}%…")
#: punctuation that must not end a line (it is kept with what follows it)
_NO_LINE_END = set("（《「『【〈([{")


def _tokens(text: str) -> list[str]:
    """Pieces between which a line may break: spaces, single CJK characters, unbreakable runs."""
    pieces: list[str] = []
    position = 0
    for match in _UNBREAKABLE.finditer(text):
        pieces += list(text[position : match.start()])
        pieces.append(match.group())
        position = match.end()
    pieces += list(text[position:])
    tokens: list[str] = []
    for piece in pieces:
        if tokens and not piece.isspace() and not tokens[-1].isspace():
            if piece[0] in _NO_LINE_START or tokens[-1][-1] in _NO_LINE_END:
                tokens[-1] += piece
                continue
        tokens.append(piece)
    return tokens


def wrap(text: str, width: int, indent: str = "", first: str = "") -> list[str]:
    """``text`` in lines of at most ``width`` cells: the first line starts with ``first``, the
    others with ``indent``; breaks only between tokens (a value longer than a line stays whole)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, prefix = first if not lines else indent, first if not lines else indent
        for token in _tokens(paragraph):
            if token.isspace():
                if line != prefix:
                    line += " "
                continue
            if line != prefix and cell_len(line) + cell_len(token) > width:
                lines.append(line.rstrip())
                line = indent
            line += token
        lines.append(line.rstrip())
    return lines


def record(title: str, fields: Iterable[tuple[str, str]], width: int, indent: int = 2) -> list[str]:
    """One record as a block: its title, then ``label  value`` per field, values wrapped under
    themselves (labels padded to the widest)."""
    fields = [(label, value) for label, value in fields if value not in (None, "")]
    lines = wrap(title, width)
    if not fields:
        return lines
    label_cells = max(cell_len(label) for label, _ in fields)
    for label, value in fields:
        head = " " * indent + label + " " * (label_cells - cell_len(label) + 2)
        lines += wrap(str(value), width, indent=" " * cell_len(head), first=head)
    return lines


def columns(rows: Sequence[Sequence[str]], right: Sequence[bool], gap: int = 2) -> list[str]:
    """Rows as aligned columns (cells measured in terminal cells: a Chinese character is two)."""
    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            " " * (w - cell_len(c)) + c if r else c + " " * (w - cell_len(c)) for c, w, r in zip(row, widths, right)
        ]
        lines.append((" " * gap).join(cells).rstrip())
    return lines


def width_of(rows: Sequence[Sequence[str]], gap: int = 2) -> int:
    """The width ``columns`` would need."""
    widths = [max(cell_len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return sum(widths) + gap * (len(widths) - 1)
