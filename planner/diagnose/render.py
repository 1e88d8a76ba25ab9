"""``planner diagnose``'s output: JSON for scripts, tables for people."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING

from planner.rules import BY_CODE
from planner.rules.explain import AT_RISK, BLOCKED

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
    findings (mandatory first), each table cut at ``limit`` rows with a note of how many more."""
    from rich.table import Table

    mandatory = [f for f in diagnosis.findings if f.mandatory]
    optional = [f for f in diagnosis.findings if not f.mandatory]
    seconds = sum(diagnosis.timings.values())
    console.print(
        f"[bold]{diagnosis.scenario}[/]: {diagnosis.mandatory:,} mandatory tasks checked"
        f"{f' ({diagnosis.tasks - diagnosis.mandatory:,} optional too)' if diagnosis.tasks > diagnosis.mandatory else ''}"
        f" in {seconds:.1f}s; [bold {'red' if diagnosis.blocked else 'green'}]{len(diagnosis.blocked):,} cannot be "
        f"placed[/], {sum(f.severity == AT_RISK for f in mandatory):,} at risk"
    )
    if diagnosis.capacity_bound_mandatory is not None:
        console.print(
            f"人力容量上界 Capacity bound: under the staff no plan can place more than "
            f"{diagnosis.capacity_bound_mandatory:,} of the {diagnosis.mandatory:,} mandatory tasks"
            + (
                f"; [bold red]at least {diagnosis.short_of_staff:,} stay out for want of staff[/], beyond the "
                f"{len(diagnosis.blocked):,} blocked by a rule (任何方案至多安排 {diagnosis.capacity_bound_mandatory:,} 项"
                f"必查任务，除规则所限的 {len(diagnosis.blocked):,} 项外，至少还有 {diagnosis.short_of_staff:,} 项因人力不足无法安排)"
                if diagnosis.short_of_staff
                else f" (任何方案至多安排 {diagnosis.capacity_bound_mandatory:,} 项必查任务)"
            )
        )
    proven = sum(not s.paced for s in diagnosis.shortfalls)
    if proven:
        console.print(
            f"[bold red]{proven:,} range(s) of weeks short of inspector time[/]: in each, at least one "
            "mandatory task (listed as capacity, at risk) cannot be placed"
        )
    counts = Table(title="按规则统计 Findings per rule", title_justify="left")
    for column, justify in (
        ("规则", "left"),
        ("rule", "left"),
        ("blocked", "right"),
        ("at risk", "right"),
        ("optional", "right"),
    ):
        counts.add_column(column, justify=justify)
    for code in DIAGNOSED:
        zh = BY_CODE[code].label
        mine = [f for f in diagnosis.findings if f.rule == code]
        if mine:
            counts.add_row(
                zh,
                code,
                str(sum(f.mandatory and f.severity == BLOCKED for f in mine)),
                str(sum(f.mandatory and f.severity == AT_RISK for f in mine)),
                str(sum(not f.mandatory for f in mine)),
            )
    console.print(counts)
    short = Table(
        title="人力缺口 Capacity shortfalls (person-hours on site; paced = at risk only)", title_justify="left"
    )
    for column in ("部门 dept", "weeks", "dates", "tasks", "at most", "need h", "have h", "days", "short h", "kind"):
        short.add_column(column, justify="right" if column.endswith(("h", "tasks", "most", "days")) else "left")
    for s in diagnosis.shortfalls[:limit]:
        weeks = s.first_week if s.first_week == s.last_week else f"{s.first_week}–{s.last_week}"
        short.add_row(
            f"{s.dept_name} ({s.dept_id})",
            weeks,
            f"{s.start}…{s.end}",
            str(s.tasks),
            str(s.at_most),
            f"{s.demand_min / 60:,.1f}",
            f"{s.supply_min / 60:,.1f}",
            f"{s.supply_days:,.1f}",
            f"{s.short_min / 60:,.1f}",
            "paced (at risk)" if s.paced else "[red]proven[/]",
        )
    if diagnosis.shortfalls:
        console.print(short)
        _more(console, len(diagnosis.shortfalls), limit, "shortfalls")
    else:
        console.print("人力缺口 Capacity: no department is short of inspector time in any range of weeks")
    for title, rows in (("必查任务 Mandatory tasks", mandatory), ("其他任务 Optional tasks", optional)):
        if not rows:
            continue
        table = Table(title=title, title_justify="left", show_lines=True)
        for column in ("task", "部门", "企业", "window", "rule", "原因 why", "建议 fix"):
            table.add_column(column, overflow="fold")
        for f in rows[:limit]:
            rule = f.rule if f.severity == BLOCKED else f"{f.rule} (at risk)"
            if f.also:
                rule += f" + {', '.join(f.also)}"
            table.add_row(
                f"{f.task_id}\n{f.kind}",
                f"{f.dept_name}\n{f.dept_id}",
                f"{f.enterprise}\n{f.uscc}",
                f.window,
                rule,
                f.why_zh,
                f.fix_zh,
            )
        console.print(table)
        _more(console, len(rows), limit, "findings")


def _more(console, total: int, limit: int, what: str) -> None:
    if total > limit:
        console.print(f"… and {total - limit:,} more {what} (--limit, or --json for all)")
