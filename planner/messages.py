"""The sentences officials read, from one message catalogue per language.

The catalogues are gettext ``.po`` files, ``planner/locale/<locale>/LC_MESSAGES/planner.po``,
read with Babel (the maintained library of the Python ecosystem for them): Chinese (``zh``) is the
default, English (``en``) the alternative behind ``--lang en``. A message id is a stable key
(``reason.window.outside_horizon``); its sentence is Python brace format with named fields.

Code never writes an official's sentence itself: it builds a ``Message`` (an id and its fields)
or a ``Reason`` (a rule's or an outcome's code and its message), and the sentence is rendered
once, where the output's language is known. A field's value is rendered by its type:

- ``Message``: rendered in the same language (a clause inside a sentence);
- ``Dept``, ``Person``: a department code or an inspector id, shown as the *name* ``names`` gives
  (one mapping of both: their ids never meet);
- ``Listing``: items joined by the language's separator (``、`` or ``, ``; ``；`` or ``; ``);
- a date: ISO 8601; anything else: ``str``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

#: the languages the planner writes, by their ``--lang`` name → gettext locale
LOCALES = {"zh": "zh_CN", "en": "en"}
DEFAULT_LANG = "zh"
#: the language tag manifest.json records for a plan's files (BCP 47)
LANGUAGE_TAGS = {"zh": "zh-CN", "en": "en"}
LOCALE_DIR = Path(__file__).with_name("locale")


def console_lang() -> str:
    """The language of the console (errors, warnings): ``en`` when the first of ``LC_ALL``,
    ``LC_MESSAGES`` and ``LANG`` that is set starts with ``en``, else Chinese (unset, ``C``,
    ``POSIX``, ``zh_CN`` …). Only the console: a plan's files take ``--lang``, never the locale."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "en" if value.lower().startswith("en") else DEFAULT_LANG
    return DEFAULT_LANG


def language_of(tag: object) -> str:
    """The ``--lang`` name of a manifest's language tag (a plan from before it was recorded: zh)."""
    by_tag = {t: lang for lang, t in LANGUAGE_TAGS.items()}
    return by_tag.get(str(tag), DEFAULT_LANG) if tag is not None else DEFAULT_LANG


class Dept(str):
    """A department code that reads as the department's name."""


class Person(str):
    """An inspector id that reads as the inspector's name."""


@dataclass(frozen=True)
class Listing:
    """Items read as one list: ``sep`` is ``list`` (、) or ``clauses`` (；)."""

    items: tuple[Any, ...]
    sep: str = "list"


@dataclass(frozen=True)
class Message:
    """A sentence of the catalogue: its id and its fields (name, value) in order."""

    id: str
    fields: tuple[tuple[str, Any], ...] = ()

    def render(self, lang: str = DEFAULT_LANG, names: Mapping[str, str] | None = None) -> str:
        """The sentence in ``lang``, department and inspector ids read through ``names`` (id → name)."""
        values = {key: _value(value, lang, names or {}) for key, value in self.fields}
        return text(self.id, lang).format(**values)


def msg(message_id: str, **fields: Any) -> Message:
    """The message ``message_id`` with its fields."""
    return Message(message_id, tuple(fields.items()))


@dataclass(frozen=True)
class Reason:
    """Why a task is not where it was meant to be: ``code`` (a rule's or an outcome's, the
    ``reason_code`` column machines read), the ``message`` people read, and ``notes`` after it."""

    code: str
    message: Message
    notes: tuple[Message, ...] = field(default=())

    def render(self, lang: str = DEFAULT_LANG, names: Mapping[str, str] | None = None) -> str:
        return "".join(m.render(lang, names) for m in (self.message, *self.notes))

    def noted(self, note: Message) -> Reason:
        """The same reason with ``note`` said after it."""
        return Reason(self.code, self.message, (*self.notes, note))


def reason(code: str, message_id: str, **fields: Any) -> Reason:
    """A reason of rule or outcome ``code``, said by message ``message_id``."""
    return Reason(code, msg(message_id, **fields))


def listing(items: Iterable[Any], sep: str = "list") -> Listing:
    return Listing(tuple(items), sep)


def _value(value: Any, lang: str, names: Mapping[str, str]) -> str:
    if isinstance(value, Message | Reason):
        return value.render(lang, names)
    if isinstance(value, Dept | Person):
        return names.get(value, str(value))
    if isinstance(value, Listing):
        return text(f"sep.{value.sep}", lang).join(_value(v, lang, names) for v in value.items)
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """Message id → sentence of ``lang``'s catalogue (``ValueError`` names an unknown language)."""
    if lang not in LOCALES:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LOCALES)}")
    path = LOCALE_DIR / LOCALES[lang] / "LC_MESSAGES" / "planner.po"
    with path.open("rb") as po:
        parsed = read_po(po, locale=LOCALES[lang])
    return {m.id: m.string for m in parsed if m.id and isinstance(m.id, str)}


def text(message_id: str, lang: str = DEFAULT_LANG) -> str:
    """The sentence (with its ``{field}`` places) of ``message_id`` in ``lang``; ``KeyError`` names
    an id the catalogue lacks (a test keeps the code's ids and the catalogues equal)."""
    sentences = catalogue(lang)
    if message_id not in sentences or not sentences[message_id]:
        raise KeyError(f"message {message_id!r} is not in the {lang} catalogue")
    return sentences[message_id]
