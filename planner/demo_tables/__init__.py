"""The tables the synthetic sample county is drawn from (``planner demo-data``), read from the TOML
files beside this module: one file per table, each with a header that says what it is.

``load()`` reads them once and returns typed, frozen records; planner/demo.py keeps only the
generator's logic and its profiles' parameters. The loader checks every key and value type of each
row (an unknown or missing key is an error that names the file, the row and the key) and that the
tables refer to each other consistently (``check``). The order of every table is part of the data:
the generator draws by index, so reordering rows changes the generated datasets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import tomllib
import types
import typing
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = [
    "Campaign",
    "CatalogueEntry",
    "DemoTables",
    "Department",
    "Industry",
    "InspectionItem",
    "NameParts",
    "SamplingTemplate",
    "Section",
    "check",
    "load",
    "read",
]


@dataclasses.dataclass(frozen=True)
class Section:
    """A GB/T 4754-2017 section (门类) and the two-digit divisions it spans, both inclusive."""

    letter: str
    first_division: int
    last_division: int


@dataclasses.dataclass(frozen=True)
class Department:
    """A department; ``name`` holds {county}, {county_short} and {city} placeholders."""

    dept_id: str
    name: str
    delegations: tuple[str, ...] = ()  # ZF: whole ';'-joined delegations; others: one department each


@dataclasses.dataclass(frozen=True)
class InspectionItem:
    """One department's 检查事项 and the industries (GB/T 4754 digit prefixes) it applies to."""

    dept_id: str
    name: str
    industries: tuple[str, ...]
    duration_min: tuple[int, int]  # typical on-site minutes, multiples of 15
    simple: bool = False  # may be delegated (委托查)
    key_sectors: tuple[str, ...] = ()  # key_sector values that make it a key (重点监管) task
    key_per_year: int = 0  # key visits a year; 0 means two for tiers C/D and one for A/B
    complaint_weight: float = 1.0  # how often complaints (投诉举报) concern this item
    heavy: bool = False  # often needs a crew of three

    def applies_to(self, industry_code: str | None) -> bool:
        """Whether an enterprise of this industry code (digits) falls under the item."""
        return industry_code is not None and industry_code.startswith(self.industries)


@dataclasses.dataclass(frozen=True)
class CatalogueEntry:
    """An item's row of the items catalogue (检查事项清单): check points, legal basis, materials."""

    dept_id: str
    item: str
    check_points: tuple[str, ...]
    legal_basis: str
    materials: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Campaign:
    """A department's 专项整治 over a window, aimed at enterprises of some industries."""

    dept_id: str
    item: str
    window: tuple[dt.date, dt.date]
    industries: tuple[str, ...]
    intensity: float  # relative chance that an enterprise of the pool is included


@dataclasses.dataclass(frozen=True)
class SamplingTemplate:
    """A 双随机 plan row (or one row per credit tier) of one department."""

    dept_id: str
    item: str
    industries: str  # ';'-separated digit prefixes, or '*'
    window: tuple[dt.date, dt.date]
    duration_min: int
    per_tier: bool = False  # one row per tier A–D with the standard ratios, else one '*' row
    ratio_all_tiers: float = 0.0
    delegable: bool = False
    joint_group: str | None = None
    in_tiny: bool = False


@dataclasses.dataclass(frozen=True)
class Industry:
    """One GB/T 4754-2017 class as it appears in the register of a Zhejiang county."""

    code: str
    share_pct: float
    setting: str  # town | park | rural | site: where such businesses sit
    firm_words: tuple[str, ...]  # 字号 + word + 有限公司
    entity_mix: tuple[tuple[str, float], ...]  # USCC registrar+type → probability
    shop_words: tuple[str, ...] = ()  # 个体 / 民办 / 事业 names end with one of these
    key_sector: str | None = None
    key_share: float = 0.0  # share of these enterprises under 重点监管
    new_economy: bool = False  # 三新经济: often in an observation period


@dataclasses.dataclass(frozen=True)
class NameParts:
    """Character pools and name lists the generator draws names from (a str is a pool of characters)."""

    township_bases: tuple[str, ...]  # the first townships' names, in order; more are made of town_first + town_second
    town_first: str
    town_second: str
    village_first: str
    village_second: str
    brand_first: str  # 字号: two different characters, first + second
    brand_second: str
    surnames: str  # repeated characters are drawn more often
    surname_boost: str  # Zhejiang surnames, drawn more often than the national list suggests
    given_names: tuple[str, ...]
    nickname_chars: str  # 阿X shop names


@dataclasses.dataclass(frozen=True)
class DemoTables:
    """Every table of planner/demo_tables/, in file order."""

    sections: tuple[Section, ...]
    departments: tuple[Department, ...]
    items: tuple[InspectionItem, ...]
    catalogue: tuple[CatalogueEntry, ...]  # one entry per item, in the order of items
    campaigns: tuple[Campaign, ...]
    spring_summer_extra: tuple[Campaign, ...]
    sampling_templates: tuple[SamplingTemplate, ...]
    industries: tuple[Industry, ...]
    names: NameParts


@functools.cache
def load() -> DemoTables:
    """The tables shipped with the package, read, type-checked and cross-checked once per process."""
    return read(resources.files(__name__))


def read(folder: Path | Traversable) -> DemoTables:
    """Read, type-check and cross-check every table of ``folder`` (the package's own: ``load()``)."""

    def document(name: str, *keys: str) -> dict:
        """The top-level keys of one TOML file, which must be exactly ``keys``."""
        data = tomllib.loads(folder.joinpath(name).read_text(encoding="utf-8"))
        if set(data) != set(keys):
            extra, missing = sorted(set(data) - set(keys)), sorted(set(keys) - set(data))
            raise ValueError(f"{name}: unknown keys {extra}, missing keys {missing}")
        return data

    industries = document("industries.toml", "entity_mixes", "industry")
    mixes = industries["entity_mixes"]
    industry_rows = []
    for n, row in enumerate(industries["industry"], start=1):
        if row.get("entity_mix") not in mixes:
            raise ValueError(
                f"industries.toml, industry {n}: entity_mix {row.get('entity_mix')!r} is not in [entity_mixes]"
            )
        industry_rows.append(row | {"entity_mix": mixes[row["entity_mix"]]})
    campaigns = document("campaigns.toml", "campaign", "spring_summer_extra")
    tables = DemoTables(
        sections=_records(Section, document("sections.toml", "section")["section"], "sections.toml, section"),
        departments=_records(
            Department, document("departments.toml", "department")["department"], "departments.toml, department"
        ),
        items=_records(InspectionItem, document("items.toml", "item")["item"], "items.toml, item"),
        catalogue=_records(
            CatalogueEntry, document("item_catalogue.toml", "entry")["entry"], "item_catalogue.toml, entry"
        ),
        campaigns=_records(Campaign, campaigns["campaign"], "campaigns.toml, campaign"),
        spring_summer_extra=_records(Campaign, campaigns["spring_summer_extra"], "campaigns.toml, spring_summer_extra"),
        sampling_templates=_records(
            SamplingTemplate,
            document("sampling_templates.toml", "template")["template"],
            "sampling_templates.toml, template",
        ),
        industries=_records(Industry, industry_rows, "industries.toml, industry"),
        names=_record(NameParts, document("names.toml", *_field_names(NameParts)), "names.toml"),
    )
    check(tables)
    return tables


def check(tables: DemoTables) -> None:
    """Raise ValueError at the first row that names a department or item the other tables lack, whose window
    ends before it starts, or that repeats another row's key."""
    _unique([d.dept_id for d in tables.departments], "departments.toml: dept_id")
    _unique([(i.dept_id, i.name) for i in tables.items], "items.toml: (dept_id, name)")
    _unique([i.code for i in tables.industries], "industries.toml: code")
    dept_ids = {d.dept_id for d in tables.departments}
    for department in tables.departments:
        for delegation in department.delegations:
            for dept_id in delegation.split(";"):
                _known(dept_id, dept_ids, f"departments.toml, {department.dept_id}: delegation")
    for item in tables.items:
        _known(item.dept_id, dept_ids, f"items.toml, {item.name}: dept_id")
    items = {(i.dept_id, i.name) for i in tables.items}
    listed = [(entry.dept_id, entry.item) for entry in tables.catalogue]
    _unique(listed, "item_catalogue.toml: (dept_id, item)")
    for n, key in enumerate(listed, start=1):
        _known(key, items, f"item_catalogue.toml, entry {n}: (dept_id, item)")
    for key in sorted(items - set(listed)):
        raise ValueError(f"item_catalogue.toml: item {key!r} of items.toml has no entry")
    for where, rows in (
        ("campaigns.toml, campaign", tables.campaigns),
        ("campaigns.toml, spring_summer_extra", tables.spring_summer_extra),
        ("sampling_templates.toml, template", tables.sampling_templates),
    ):
        for n, row in enumerate(rows, start=1):
            _known((row.dept_id, row.item), items, f"{where} {n}: (dept_id, item)")
            if row.window[0] > row.window[1]:
                raise ValueError(f"{where} {n}: window ends before it starts")


def _unique(keys: list, where: str) -> None:
    seen = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"{where} {key!r} is repeated")
        seen.add(key)


def _known(key, known: set, where: str) -> None:
    if key not in known:
        raise ValueError(f"{where} {key!r} is unknown")


def _field_names(cls) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def _records(cls, rows: list[dict], where: str) -> tuple:
    return tuple(_record(cls, row, f"{where} {n}") for n, row in enumerate(rows, start=1))


def _record(cls, row: dict, where: str):
    """``cls(**row)`` with every key known, every required key present and every value of its field's type."""
    hints = typing.get_type_hints(cls)
    for key in row:
        if key not in hints:
            raise ValueError(f"{where}: unknown key {key!r} (known: {', '.join(hints)})")
    for field in dataclasses.fields(cls):
        if field.default is dataclasses.MISSING and field.name not in row:
            raise ValueError(f"{where}: missing key {field.name!r}")
    return cls(**{key: _typed(value, hints[key], f"{where}, {key}") for key, value in row.items()})


def _typed(value, hint, where: str):
    """``value`` as TOML gives it (lists, ints for whole floats) converted to ``hint``, or ValueError."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is types.UnionType:  # X | None: TOML has no null, so a present value is an X
        return _typed(value, next(arg for arg in args if arg is not type(None)), where)
    if origin is tuple:
        if not isinstance(value, list) or (args[-1] is not Ellipsis and len(value) != len(args)):
            raise ValueError(f"{where}: expected a list of {len(args) if args[-1] is not Ellipsis else 'any'} values")
        inner = [args[0]] * len(value) if args[-1] is Ellipsis else args
        return tuple(_typed(v, arg, where) for v, arg in zip(value, inner))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if (
        not isinstance(value, hint)
        or (hint in (int, float) and isinstance(value, bool))
        or (hint is dt.date and isinstance(value, dt.datetime))
    ):
        raise ValueError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value
