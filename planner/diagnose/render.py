"""``planner diagnose``'s output: JSON for scripts, tables for people."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from planner.rules import BY_CODE
from planner.rules.explain import AT_RISK, BLOCKED
from planner.terminal import columns, record, width_of, wrap

if TYPE_CHECKING:
    from planner.diagnose.findings import Diagnosis

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


def render(diagnosis: Diagnosis, console, limit: int = 20) -> None:
    """Print the diagnosis on a rich ``console``: counts per rule, capacity shortfalls, then the
    findings (mandatory first), each list cut at ``limit`` with a note of how many more.

    Laid out for the console's width (80 columns when piped): the counts as aligned columns, a
    shortfall or a finding as one block of lines, wrapped between words and Chinese characters but
    never inside a value (``planner.terminal``)."""
    width = console.width
    mandatory = [f for f in diagnosis.findings if f.mandatory]
    optional = [f for f in diagnosis.findings if not f.mandatory]
    seconds = sum(diagnosis.timings.values())
    blocked = len(diagnosis.blocked)
    _say(
        console,
        wrap(
            f"{diagnosis.scenario}: {diagnosis.mandatory:,} mandatory tasks checked"
            f"{f' ({diagnosis.tasks - diagnosis.mandatory:,} optional too)' if diagnosis.tasks > diagnosis.mandatory else ''}"
            f" in {seconds:.1f}s; {blocked:,} cannot be placed, {sum(f.severity == AT_RISK for f in mandatory):,} at risk",
            width,
        ),
        "bold red" if blocked else "bold",
    )
    if diagnosis.capacity_bound_mandatory is not None:
        bound = diagnosis.capacity_bound_mandatory
        _say(
            console,
            wrap(
                f"人力容量上界 Capacity bound: under the staff no plan can place more than {bound:,} of the "
                f"{diagnosis.mandatory:,} mandatory tasks"
                + (
                    f"; at least {diagnosis.short_of_staff:,} stay out for want of staff, beyond the {blocked:,} "
                    f"blocked by a rule (任何方案至多安排 {bound:,} 项必查任务，除规则所限的 {blocked:,} 项外，"
                    f"至少还有 {diagnosis.short_of_staff:,} 项因人力不足无法安排)"
                    if diagnosis.short_of_staff
                    else f" (任何方案至多安排 {bound:,} 项必查任务)"
                ),
                width,
                indent="  ",
            ),
            "red" if diagnosis.short_of_staff else None,
        )
    proven = sum(not s.paced for s in diagnosis.shortfalls)
    if proven:
        _say(
            console,
            wrap(
                f"{proven:,} range(s) of weeks short of inspector time: in each, at least one mandatory task "
                "(listed as capacity, at risk) cannot be placed",
                width,
                indent="  ",
            ),
            "bold red",
        )
    rows = [["规则", "rule", "blocked", "at risk", "optional"]]
    for code in DIAGNOSED:
        mine = [f for f in diagnosis.findings if f.rule == code]
        if mine:
            rows.append(
                [
                    BY_CODE[code].label,
                    code,
                    str(sum(f.mandatory and f.severity == BLOCKED for f in mine)),
                    str(sum(f.mandatory and f.severity == AT_RISK for f in mine)),
                    str(sum(not f.mandatory for f in mine)),
                ]
            )
    _say(console, ["", "按规则统计 Findings per rule"], "bold")
    if len(rows) > 1:
        right = [False, False, True, True, True]
        if width_of(rows) + 2 <= width:
            _say(console, ["  " + line for line in columns(rows, right)])
        else:  # the Chinese name above its code and figures
            for label, code, *figures in rows[1:]:
                _say(console, wrap(label, width, indent="  ", first="  ") + [f"    {code}: " + " / ".join(figures)])
            _say(console, ["    (blocked / at risk / optional)"])
    else:
        _say(console, ["  none"])
    _say(console, ["", "人力缺口 Capacity shortfalls (person-hours on site; paced = at risk only)"], "bold")
    for s in diagnosis.shortfalls[:limit]:
        weeks = f"week {s.first_week}" if s.first_week == s.last_week else f"weeks {s.first_week}–{s.last_week}"
        kind = "paced (at risk)" if s.paced else "proven"
        _say(
            console,
            record(
                f"{s.dept_name} ({s.dept_id}): {kind}",
                [
                    ("when", f"{weeks}, {s.start}…{s.end}"),
                    ("tasks", f"{s.tasks:,}, at most {s.at_most:,} placeable"),
                    (
                        "hours",
                        f"need {s.demand_min / 60:,.1f} h, have {s.supply_min / 60:,.1f} h on {s.supply_days:,.1f} "
                        f"days: short {s.short_min / 60:,.1f} h",
                    ),
                ],
                width,
            ),
        )
    if diagnosis.shortfalls:
        _more(console, len(diagnosis.shortfalls), limit, "shortfalls")
    else:
        _say(console, ["  no department is short of inspector time in any range of weeks"])
    for title, found in (("必查任务 Mandatory tasks", mandatory), ("其他任务 Optional tasks", optional)):
        if not found:
            continue
        _say(console, ["", title], "bold")
        for f in found[:limit]:
            rule = f.rule if f.severity == BLOCKED else f"{f.rule} (at risk)"
            if f.also:
                rule += f" + {', '.join(f.also)}"
            _say(
                console,
                [""]
                + record(
                    f"{f.task_id} ({f.kind})",
                    [
                        ("部门", f"{f.dept_name} ({f.dept_id})"),
                        ("企业", f"{f.enterprise} {f.uscc}"),
                        ("时间窗", f.window),
                        ("规则", rule),
                        ("原因", f.why_zh),
                        ("建议", f.fix_zh),
                    ],
                    width,
                ),
            )
        _more(console, len(found), limit, "findings")


def _say(console, lines: list[str], style: str | None = None) -> None:
    """Lines already fitted to the width: printed as they are (no markup, no re-wrapping)."""
    for line in lines:
        console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def _more(console, total: int, limit: int, what: str) -> None:
    if total > limit:
        _say(console, wrap(f"… and {total - limit:,} more {what} (--limit, or --json for all)", console.width))
