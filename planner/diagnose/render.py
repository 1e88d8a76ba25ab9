"""``planner diagnose``'s output: JSON for scripts, tables for people."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from planner.diagnose.capacity import COUNTY
from planner.messages import catalogue, console_lang, listing, msg, text
from planner.rules import BY_CODE, reason_label
from planner.rules.explain import AT_RISK, BLOCKED
from planner.terminal import columns, record, width_of, wrap

if TYPE_CHECKING:
    from planner.diagnose.findings import Diagnosis, Finding, Shortfall

#: every rule code a finding may name, in the rulebook's order
DIAGNOSED = (
    "window",
    "working_day",
    "observation_period",
    "quiet_days",
    "cap_positive_list",
    "cap_per_dept",
    "certified",
    "crew_size",
    "conflict",
    "leave",
    "staff_capacity",
    "day_length",
    "stay",
)


def to_json(diagnosis: Diagnosis) -> dict:
    """The diagnosis as plain JSON-ready values (dates as ISO text)."""
    capacity = diagnosis.capacity.assign(week_start=diagnosis.capacity["week_start"].map(lambda d: d.isoformat()))
    counts: dict[str, dict[str, int]] = {}
    for f in diagnosis.findings:
        counts.setdefault(f.rule, {BLOCKED: 0, AT_RISK: 0, "optional": 0})
        counts[f.rule]["optional" if not f.mandatory else f.severity] += 1
    return {
        "scenario": diagnosis.scenario,
        "ok": diagnosis.ok,
        "tasks": diagnosis.tasks,
        "mandatory": diagnosis.mandatory,
        "blocked": len(diagnosis.blocked),
        "capacity_bound_mandatory": diagnosis.capacity_bound_mandatory,
        "short_of_staff": diagnosis.short_of_staff,
        "rules": {
            code: {
                "zh": BY_CODE[code].label,
                "en": BY_CODE[code].label_en,
                "title": BY_CODE[code].title,
                "source": BY_CODE[code].source,
            }
            for code in DIAGNOSED
        },
        "counts": counts,
        "findings": [asdict(f) | {"also": list(f.also)} for f in diagnosis.findings],
        "shortfalls": [
            asdict(s) | {"start": s.start.isoformat(), "end": s.end.isoformat(), "short_min": s.short_min}
            for s in diagnosis.shortfalls
        ],
        "capacity": capacity.to_dict("records"),
        "timings": diagnosis.timings,
    }


def render(diagnosis: Diagnosis, console, limit: int = 20, lang: str | None = None) -> None:
    """Print the diagnosis on a rich ``console``: counts per rule, capacity shortfalls, then the
    findings (mandatory first), each list cut at ``limit`` with a note of how many more.

    In ``lang`` (default: the console's language, ``messages.console_lang``), every sentence from the
    message catalogue. Laid out for the console's width (80 columns when piped): the counts as
    aligned columns, a shortfall or a finding as one block of lines, wrapped between words and
    Chinese characters but never inside a value (``planner.terminal``)."""
    lang = lang or console_lang()
    width = console.width
    mandatory = [f for f in diagnosis.findings if f.mandatory]
    optional = [f for f in diagnosis.findings if not f.mandatory]
    blocked = len(diagnosis.blocked)
    others = diagnosis.tasks - diagnosis.mandatory
    headline = msg(
        "diagnose.headline",
        scenario=diagnosis.scenario,
        mandatory=f"{diagnosis.mandatory:,}",
        optional=msg("diagnose.headline.optional", n=f"{others:,}") if others > 0 else "",
        seconds=f"{sum(diagnosis.timings.values()):.1f}",
        blocked=f"{blocked:,}",
        at_risk=f"{sum(f.severity == AT_RISK for f in mandatory):,}",
    )
    _say(console, wrap(headline.render(lang), width), "bold red" if blocked else "bold")
    if diagnosis.capacity_bound_mandatory is not None:
        short = diagnosis.short_of_staff
        bound = msg(
            "diagnose.bound",
            bound=f"{diagnosis.capacity_bound_mandatory:,}",
            mandatory=f"{diagnosis.mandatory:,}",
            short=msg("diagnose.bound.short", blocked=f"{blocked:,}", short=f"{short:,}") if short else "",
        )
        _say(console, wrap(bound.render(lang), width, indent="  ", first="  "), "red" if short else None)
    proven = sum(not s.paced for s in diagnosis.shortfalls)
    if proven:
        line = msg("diagnose.proven", n=f"{proven:,}").render(lang)
        _say(console, wrap(line, width, indent="  ", first="  "), "bold red")
    _counts(diagnosis, console, lang)
    _say(console, ["", text("diagnose.shortfalls", lang)], "bold")
    for s in diagnosis.shortfalls[:limit]:
        _shortfall(s, console, lang)
    if diagnosis.shortfalls:
        _more(console, len(diagnosis.shortfalls), limit, "diagnose.more.shortfalls", lang)
    else:
        _say(console, wrap(text("diagnose.no_shortfall", lang), width, indent="  ", first="  "))
    for title, found in (("diagnose.mandatory", mandatory), ("diagnose.optional", optional)):
        if not found:
            continue
        _say(console, ["", text(title, lang)], "bold")
        for f in found[:limit]:
            _say(console, [""] + _finding(f, width, lang))
        _more(console, len(found), limit, "diagnose.more.findings", lang)


def _counts(diagnosis: Diagnosis, console, lang: str) -> None:
    """按规则统计: per rule, mandatory tasks blocked and at risk, and optional tasks."""
    width = console.width
    heads = ("diagnose.col.rule", "diagnose.col.code", "diagnose.col.blocked", "diagnose.col.at_risk")
    rows = [[text(h, lang) for h in (*heads, "diagnose.col.optional")]]
    for code in DIAGNOSED:
        mine = [f for f in diagnosis.findings if f.rule == code]
        if mine:
            rows.append(
                [
                    reason_label(code, lang),
                    code,
                    str(sum(f.mandatory and f.severity == BLOCKED for f in mine)),
                    str(sum(f.mandatory and f.severity == AT_RISK for f in mine)),
                    str(sum(not f.mandatory for f in mine)),
                ]
            )
    _say(console, ["", text("diagnose.per_rule", lang)], "bold")
    if len(rows) > 1:
        right = [False, False, True, True, True]
        if width_of(rows) + 2 <= width:
            _say(console, ["  " + line for line in columns(rows, right)])
        else:  # the rule's name above its code and figures
            for label, code, *figures in rows[1:]:
                _say(console, wrap(label, width, indent="  ", first="  ") + [f"    {code}: " + " / ".join(figures)])
            _say(console, ["    " + text("diagnose.legend", lang)])
    else:
        _say(console, ["  " + text("diagnose.none", lang)])


def _shortfall(s: Shortfall, console, lang: str) -> None:
    """One range of weeks short of inspector time, as a block."""
    name = text("diagnose.county", lang) if s.dept_id == COUNTY else s.dept_name
    kind = text("diagnose.shortfall.paced" if s.paced else "diagnose.shortfall.proven", lang)
    if s.first_week == s.last_week:
        when = msg("diagnose.shortfall.week", week=s.first_week, start=s.start, end=s.end)
    else:
        when = msg("diagnose.shortfall.weeks", first=s.first_week, last=s.last_week, start=s.start, end=s.end)
    hours = msg(
        "diagnose.shortfall.hours",
        need=f"{s.demand_min / 60:,.1f}",
        have=f"{s.supply_min / 60:,.1f}",
        days=f"{s.supply_days:,.1f}",
        short=f"{s.short_min / 60:,.1f}",
    )
    tasks = msg("diagnose.shortfall.tasks", tasks=f"{s.tasks:,}", at_most=f"{s.at_most:,}")
    _say(
        console,
        record(
            msg("diagnose.shortfall.title", dept=name, kind=kind).render(lang),
            [
                (text("diagnose.field.when", lang), when.render(lang)),
                (text("diagnose.field.tasks", lang), tasks.render(lang)),
                (text("diagnose.field.hours", lang), hours.render(lang)),
            ],
            console.width,
        ),
    )


def _finding(f: Finding, width: int, lang: str) -> list[str]:
    """One task's finding as a block: task, department, enterprise, window, rule, why, fix."""
    kind = text(f"kind.{f.kind}", lang) if f"kind.{f.kind}" in catalogue(lang) else f.kind
    rule = msg(
        "diagnose.code_label",
        label=reason_label(f.rule, lang),
        code=f.rule,
    ).render(lang)
    if f.severity != BLOCKED:
        rule += text("diagnose.finding.at_risk", lang)
    if f.also:
        rule += msg("diagnose.finding.also", codes=listing(f.also)).render(lang)
    dept = msg("diagnose.name_code", label=f.dept_name, code=f.dept_id).render(lang)
    return record(
        msg("diagnose.finding.title", task=f.task_id, kind=kind).render(lang),
        [
            (text("diagnose.finding.dept", lang), dept),
            (text("diagnose.finding.enterprise", lang), f"{f.enterprise} {f.uscc}"),
            (text("diagnose.finding.window", lang), f.window),
            (text("diagnose.finding.rule", lang), rule),
            (text("diagnose.finding.why", lang), f.why_zh if lang == "zh" else f.why_en),
            (text("diagnose.finding.fix", lang), f.fix_zh if lang == "zh" else f.fix_en),
        ],
        width,
    )


def _say(console, lines: list[str], style: str | None = None) -> None:
    """Lines already fitted to the width: printed as they are (no markup, no re-wrapping)."""
    for line in lines:
        console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def _more(console, total: int, limit: int, message_id: str, lang: str) -> None:
    """ "… and N more" (``message_id``) when a list was cut at ``limit``."""
    if total > limit:
        more = msg(message_id, n=f"{total - limit:,}", limit="--limit", json="--json")
        _say(console, wrap(more.render(lang), console.width))
