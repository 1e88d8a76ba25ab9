"""Scenario files: what to plan, over which horizon, with which rules and knobs.

A scenario is a TOML file (YAML would read a code like 010105 as an octal number). It is
validated into an immutable ``Scenario``; an unknown or mistyped key is an error that names
the key. ``extends = "base.toml"`` inherits another scenario and overrides it key by key.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from planner.acceptance import parse_rule
from planner.messages import Message, msg
from planner.problems import InputError, Problem, as_is


class RuleError(ValueError):
    """A validator's broken rule, said by a sentence of the catalogue (pydantic keeps the error in
    its context, where ``_key_problem`` finds it)."""

    def __init__(self, message: Message):
        super().__init__(message.render("en"))
        self.message = message


def _iso_date(value: Any) -> Any:
    """TOML has date literals; a quoted "2026-01-01" is accepted too."""
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value  # left for pydantic to reject with its own message
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
DayOfMonth = Annotated[int, Field(ge=1, le=31)]

# Limits (docs/data-contract.md, "Limits"): a hostile or mistyped scenario fails at once with the
# key named, instead of running for minutes or crashing in a solver.
#: days a horizon may span: three years (a 10,000-year horizon took minutes to fail)
MAX_HORIZON_DAYS = 3 * 365 + 1
#: files in an ``extends`` chain
MAX_EXTENDS = 20
#: tables and arrays nested in one another
MAX_NESTING = 20
#: bytes of one scenario file
MAX_SCENARIO_BYTES = 1 << 20
#: capped visits a year: more than one a day means no cap
MAX_YEARLY_CAP = 366


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Horizon(_Section):
    """The planning period, both ends inclusive."""

    start: Date
    end: Date

    @model_validator(mode="after")
    def _ordered(self) -> Horizon:
        if self.end < self.start:
            raise RuleError(msg("input.scenario.horizon_reversed", end=self.end, start=self.start))
        return self

    @field_validator("end")
    @classmethod
    def _not_too_long(cls, end: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("start")
        if start is not None and (end - start).days + 1 > MAX_HORIZON_DAYS:
            raise RuleError(
                msg(
                    "input.scenario.horizon_too_long",
                    days=f"{(end - start).days + 1:,}",
                    start=start,
                    most=f"{MAX_HORIZON_DAYS:,}",
                )
            )
        return end

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class Solver(_Section):
    """CP-SAT limits. One worker with a fixed seed gives the same plan on every machine."""

    time_limit_s: float = Field(60.0, gt=0, le=7 * 86_400)  # at most a week
    workers: int = Field(1, ge=1, le=64)


class Caps(_Section):
    """一年最多查一次: capped visits per calendar year, counting history."""

    per_dept_per_year: int = Field(2, ge=0, le=MAX_YEARLY_CAP)  # one department at one enterprise
    positive_list_per_year: int = Field(1, ge=0, le=MAX_YEARLY_CAP)  # any department at a positive-list enterprise


class Travel(_Section):
    """Travel-time model: great-circle distance × detour factor at a road speed (planner.travel)."""

    detour_factor: float = Field(1.3, ge=1, le=3)
    speed_kmh: float = Field(30.0, ge=1, le=120)  # slower than walking is a typing error


class Staff(_Section):
    """What-if staff: the share of each department's certified inspectors that stays, inspectors
    taken off the roster, and a file of inspectors added to it."""

    scale: float = Field(1.0, ge=0, le=1)
    departments: dict[str, Annotated[float, Field(ge=0, le=1)]] = {}
    remove: tuple[str, ...] = Field((), strict=False)
    extra_inspectors: Path | None = None


class Sampling(_Section):
    """What-if 双随机 ratios: scale the ratio of every sampling-plan row of a credit tier, or set
    one row's ratio (a ratio never exceeds 1)."""

    tier_scale: dict[Literal["A", "B", "C", "D"], Annotated[float, Field(ge=0)]] = {}
    plan_ratio: dict[str, Annotated[float, Field(gt=0, le=1)]] = {}


class Joint(_Section):
    """Who takes part in 综合查一次: a department listed here plans alone — its tasks never share
    a visit with another department's."""

    solo_departments: tuple[str, ...] = Field((), strict=False)


class Alerts(_Section):
    """预警 in the ledger (planner.ledger): two visits of one enterprise within ``repeat_days``
    (重复检查) or ``frequent_days`` (高频检查), and more departments in a year than ``max_departments``."""

    repeat_days: int = Field(7, ge=0, le=366)
    frequent_days: int = Field(30, ge=0, le=366)
    max_departments: int = Field(3, ge=1, le=1000)

    @model_validator(mode="after")
    def _ordered(self) -> Alerts:
        if self.frequent_days < self.repeat_days:
            raise RuleError(
                msg(
                    "input.scenario.frequent_below_repeat",
                    frequent_key="frequent_days",
                    frequent=self.frequent_days,
                    repeat_key="repeat_days",
                    repeat=self.repeat_days,
                )
            )
        return self


class Results(_Section):
    """What a check's result sets in motion: a 责令整改 (rectify) result gets its 整改复查 (a
    follow-up task) from its ``rectify_by`` to ``followup_days`` days after (planner.actuals)."""

    followup_days: int = Field(30, ge=0, le=366)


class Reoptimize(_Section):
    """The 月会商: its agenda suggests moving a department's window by at most ``shift_days`` days
    where that makes two visits of one enterprise one (planner.agenda)."""

    shift_days: int = Field(14, ge=0, le=90)


class Credit(_Section):
    """信用积分 (``planner credit``): the score an enterprise starts the year with when its
    ``credit_score`` is blank, the lowest score of each suggested tier (below ``C``: D), and the
    scoring table used when the dataset has no ``credit_rules`` (none: the planner's template)."""

    start: int = Field(100, ge=-100_000, le=100_000)
    A: int = Field(90, ge=-100_000, le=100_000)
    B: int = Field(75, ge=-100_000, le=100_000)
    C: int = Field(60, ge=-100_000, le=100_000)
    rules: Path | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Credit:
        if not self.A >= self.B >= self.C:
            raise RuleError(msg("input.credit.tiers_unordered", a=self.A, b=self.B, c=self.C))
        return self


class Offsite(_Section):
    """非现场监管 (能书面核查的不得入企): tasks of these ``items`` (检查事项) or ``kinds`` are done
    off site (书面·远程核查), whatever their demand row's ``mode``; each takes ``desk_share`` of an
    inspector's day. ``triggered`` (投诉举报) cannot be listed: a complaint is checked on site."""

    items: tuple[str, ...] = Field((), strict=False)
    kinds: tuple[Literal["key", "triggered", "campaign", "followup", "random"], ...] = Field((), strict=False)
    desk_share: float = Field(0.25, gt=0, le=1)

    @field_validator("kinds")
    @classmethod
    def _no_complaints(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        if "triggered" in kinds:
            raise RuleError(msg("input.scenario.offsite_triggered", kind="triggered"))
        return kinds


class Scenario(_Section):
    """A validated scenario; ``dataset`` is resolved against the file that states it."""

    name: str = Field(min_length=1)
    description: str = ""
    dataset: Path
    horizon: Horizon
    seed: int = Field(ge=0, lt=2**63)  # TOML's own integer range
    solver: Solver = Solver()
    caps: Caps = Caps()
    travel: Travel = Travel()
    staff: Staff = Staff()
    sampling: Sampling = Sampling()
    joint: Joint = Joint()
    alerts: Alerts = Alerts()
    results: Results = Results()
    reoptimize: Reoptimize = Reoptimize()
    credit: Credit = Credit()
    offsite: Offsite = Offsite()
    #: an enterprises update file (``planner credit``'s, applied by the official), relative to the
    #: file that states it: its rows replace the dataset's enterprises of the same uscc
    enterprises_update: Path | None = None
    #: demand files added to the dataset's (a special campaign), relative to the file that states them
    extra_demands: tuple[Path, ...] = Field((), strict=False)
    #: pass/fail rules on the KPIs, e.g. "unscheduled_mandatory == 0", "joint_visit_rate >= 0.6"
    acceptance: tuple[str, ...] = Field((), strict=False)

    @field_validator("acceptance")
    @classmethod
    def _rules(cls, rules: tuple[str, ...]) -> tuple[str, ...]:
        for rule in rules:
            parse_rule(rule)  # a ValueError names the bad rule
        return rules

    planned_share: float = Field(0.2, gt=0, le=1)
    #: days of the month (inclusive; [26, 5] wraps the month end) with no capped visits
    quiet_days: Annotated[tuple[DayOfMonth, DayOfMonth], Field(strict=False)] | None = None
    onsite: Literal["sum", "parallel"] = "sum"
    source: Path = Field(exclude=True)  # the file this scenario was read from


def load_scenario(path: Path | str) -> Scenario:
    """Read, merge (``extends``) and validate a scenario file; ``InputError`` names bad keys."""
    path = Path(path)
    merged = _read_chain(path, seen=())
    merged["source"] = path
    try:
        return Scenario.model_validate(merged)
    except ValidationError as error:
        raise InputError([_key_problem(path, e) for e in error.errors()]) from None


def _read_chain(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The file's keys over those of the file it extends, with paths made relative to cwd."""
    where = str(path)
    try:
        found, size = path.is_file(), path.stat().st_size if path.is_file() else 0
    except OSError as error:  # a name too long, a folder that may not be read …
        raise InputError(
            [Problem(where, None, None, None, msg("input.file.unreadable", error=error.strerror or str(error)))]
        ) from None
    if not found:
        raise InputError([Problem(where, None, None, None, msg("input.scenario.not_found"))])
    if path.resolve() in seen:
        chain = " → ".join(str(p) for p in (*seen, path.resolve()))
        raise InputError(
            [Problem(where, None, "extends", None, msg("input.scenario.extends_loop", chain=chain), label="key")]
        )
    if len(seen) >= MAX_EXTENDS:
        raise InputError(
            [
                Problem(
                    where, None, "extends", None, msg("input.scenario.extends_too_long", most=MAX_EXTENDS), label="key"
                )
            ]
        )
    if size > MAX_SCENARIO_BYTES:
        raise InputError(
            [
                Problem(
                    where,
                    None,
                    None,
                    None,
                    msg("input.scenario.too_large", size=f"{size:,}", most=f"{MAX_SCENARIO_BYTES:,}"),
                )
            ]
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise InputError(
            [Problem(where, None, None, None, msg("input.scenario.bad_toml", format="TOML", error=str(error)))]
        ) from None
    except RecursionError:
        data = None
    except OSError as error:
        raise InputError(
            [Problem(where, None, None, None, msg("input.file.unreadable", error=error.strerror or str(error)))]
        ) from None
    if data is None or _depth(data) > MAX_NESTING:
        raise InputError([Problem(where, None, None, None, msg("input.scenario.too_deep", most=MAX_NESTING))])
    if "dataset" in data and isinstance(data["dataset"], str):
        data["dataset"] = Path(os.path.normpath(path.parent / data["dataset"]))
    if isinstance(data.get("extra_demands"), list):  # paths are relative to the file that states them
        data["extra_demands"] = [
            Path(os.path.normpath(path.parent / p)) if isinstance(p, str) else p for p in data["extra_demands"]
        ]
    staff = data.get("staff")
    if isinstance(staff, dict) and isinstance(staff.get("extra_inspectors"), str):
        staff["extra_inspectors"] = Path(os.path.normpath(path.parent / staff["extra_inspectors"]))
    if isinstance(data.get("enterprises_update"), str):
        data["enterprises_update"] = Path(os.path.normpath(path.parent / data["enterprises_update"]))
    credit = data.get("credit")
    if isinstance(credit, dict) and isinstance(credit.get("rules"), str):
        credit["rules"] = Path(os.path.normpath(path.parent / credit["rules"]))
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise InputError(
            [Problem(where, None, "extends", repr(parent), msg("input.scenario.extends_not_file"), label="key")]
        )
    base = _read_chain(Path(os.path.normpath(path.parent / parent)), (*seen, path.resolve()))
    return _merge(base, data)


def _depth(value: Any) -> int:
    """How deep tables and arrays nest in ``value`` (without recursion: the value may be hostile)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_NESTING:
            stack += [(child, depth + 1) for child in item]
    return deepest


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value replaces the inherited one."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


_SECTIONS = {
    "": Scenario,
    "horizon": Horizon,
    "solver": Solver,
    "caps": Caps,
    "travel": Travel,
    "staff": Staff,
    "sampling": Sampling,
    "joint": Joint,
    "offsite": Offsite,
}


def _key_problem(path: Path, error: dict[str, Any]) -> Problem:
    """One pydantic error as a Problem naming the dotted key, the value and the rule."""
    loc = [str(part) for part in error["loc"]]
    key = ".".join(loc) if loc else None
    kind = error["type"]
    value = None if kind in ("missing", "extra_forbidden") else str(error.get("input"))
    context = error.get("ctx") or {}
    cause = context.get("error")
    if kind == "extra_forbidden":
        section = _SECTIONS.get(".".join(loc[:-1]))
        known = [k for k in section.model_fields if k != "source"] if section else []
        rule = (
            msg("input.scenario.unknown_key_known", known=", ".join(known))
            if known
            else msg("input.scenario.unknown_key")
        )
    elif isinstance(cause, RuleError):
        rule = cause.message
    elif kind in _PYDANTIC:
        message_id, fields = _PYDANTIC[kind]
        rule = msg(message_id, **{name: _shown_limit(context.get(name, _CONTEXT.get(name))) for name in fields})
    else:  # a rare type (or an acceptance rule's own sentence): pydantic's English words
        rule = as_is(error["msg"].removeprefix("Value error, "))
    return Problem(str(path), None, key, value, rule, label="key")


#: pydantic's error types a scenario commonly meets → (message id, the fields of its ``ctx``)
_PYDANTIC: dict[str, tuple[str, tuple[str, ...]]] = {
    "missing": ("input.scenario.missing", ()),
    "int_type": ("input.scenario.int", ()),
    "int_parsing": ("input.scenario.int", ()),
    "int_from_float": ("input.scenario.int_from_float", ()),
    "float_type": ("input.scenario.number", ()),
    "float_parsing": ("input.scenario.number", ()),
    "string_type": ("input.scenario.string", ()),
    "bool_type": ("input.scenario.bool", ("values",)),
    "bool_parsing": ("input.scenario.bool", ("values",)),
    "date_type": ("input.scenario.date", ()),
    "date_parsing": ("input.scenario.date", ()),
    "date_from_datetime_parsing": ("input.scenario.date", ()),
    "date_from_datetime_inexact": ("input.scenario.date", ()),
    "path_type": ("input.scenario.path", ()),
    "dict_type": ("input.scenario.table", ()),
    "model_type": ("input.scenario.table", ()),
    "model_attributes_type": ("input.scenario.table", ()),
    "tuple_type": ("input.scenario.array", ()),
    "list_type": ("input.scenario.array", ()),
    "greater_than": ("input.scenario.gt", ("gt",)),
    "greater_than_equal": ("input.scenario.ge", ("ge",)),
    "less_than": ("input.scenario.lt", ("lt",)),
    "less_than_equal": ("input.scenario.le", ("le",)),
    "string_too_short": ("input.scenario.string_too_short", ("min_length",)),
    "too_short": ("input.scenario.too_short", ("min_length",)),
    "too_long": ("input.scenario.too_long", ("max_length",)),
    "literal_error": ("input.scenario.literal", ("expected",)),
}

#: what a message says where pydantic gives no context
_CONTEXT = {"values": "true/false"}


def _shown_limit(value: Any) -> str:
    """A limit of pydantic's context as the scenario writes it (7 * 86_400 → 604800, 1.0 → 1)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
