"""人工研判修正: the officials' hand on the plan.

The month's consultation (月会商) corrects the algorithm's proposals — Haining's merges are
"经人工研判修正" — and the optional input table ``overrides`` records each correction with its
reason (``note``):

- ``pin_date``: the task is done on that date;
- ``together_with``: the two tasks are done in one visit (进一次门、查多项事 by decision);
- ``forbid_together``: the two tasks are never in one visit;
- ``lead_dept``: the visit holding the task has that 牵头部门 (``visits.lead_dept_id``);
- ``exclude_date``: no visit to the enterprise on that date.

An override that contradicts a rule by itself (a pinned date outside the task's window, on a
holiday, a quiet day, in the observation period, beyond a yearly cap history has used; a pair
at two enterprises, or whose days never meet; a pair both held together and kept apart; a lead
department that does not check in the visit) is bad input: ``override_problems`` names its row
and the plan is not made. One that only capacity prevents leaves its tasks unscheduled, with
the override named in the reason (``override_reason``).

The model keeps them by construction (``OverrideFacts``: a pinned task's one day, an
enterprise's excluded days and a held pair's common days narrow ``Instance.feasible_days``; the
merge keeps a held pair in one group and a forbidden pair apart, ``add_overrides`` in the
per-enterprise CP-SAT models); ``check_override`` re-checks every one on the finished plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.messages import Dept, Message, Reason, listing, msg
from planner.problems import Problem
from planner.rules.caps import YearlyCaps, used_dates
from planner.rules.observation import OBSERVED_KINDS, observation_until
from planner.rules.quiet_days import is_quiet

#: the actions that narrow where or with whom a task may be done (a task they leave out says so)
RESTRICTING = ("pin_date", "together_with", "forbid_together", "exclude_date")


@dataclass(frozen=True)
class Override:
    """One row of ``overrides`` (``row``: as the spreadsheet shows it)."""

    override_id: str
    action: str
    row: int
    note: str
    task_id: str | None = None
    other_task_id: str | None = None
    uscc: str | None = None
    date: dt.date | None = None
    dept_id: str | None = None


def read_overrides(frame: pd.DataFrame) -> list[Override]:
    """The rows of a loaded ``overrides`` table, in file order."""

    def cell(value):
        return None if pd.isna(value) else value

    out = []
    for row, r in frame.iterrows():
        day = cell(r["date"])
        out.append(
            Override(
                str(r["override_id"]),
                str(r["action"]),
                int(row),
                str(cell(r["note"]) or ""),
                cell(r["task_id"]),
                cell(r["other_task_id"]),
                cell(r["uscc"]),
                pd.Timestamp(day).date() if day is not None else None,
                cell(r["dept_id"]),
            )
        )
    return out


@dataclass
class OverrideFacts:
    """The overrides prepared for the model (day indices into the horizon's working days)."""

    pinned: dict[str, int] = field(default_factory=dict)  # task_id → its one day
    excluded: dict[str, frozenset[int]] = field(default_factory=dict)  # uscc → days without a visit
    partners: dict[str, tuple[str, ...]] = field(default_factory=dict)  # task_id → the others held with it
    #: pairs never in one visit: forbidden together, or led by two departments
    forbidden: set[frozenset[str]] = field(default_factory=set)
    lead: dict[str, str] = field(default_factory=dict)  # task_id → the lead department of its visit
    ids_of_task: dict[str, tuple[str, ...]] = field(default_factory=dict)  # task_id → override ids naming it
    ids_of_firm: dict[str, tuple[str, ...]] = field(default_factory=dict)  # uscc → exclude_date ids
    restricting: dict[str, tuple[str, ...]] = field(default_factory=dict)  # task_id → ids narrowing it

    @property
    def held(self) -> set[str]:
        """Tasks held with another: the scheduler does not take their visits apart (nor, see
        ``model.instance.with_overrides``, those at an enterprise with an excluded day, whose own
        days only the instance knows). A pinned task's own days are its one day already, and
        taking a visit apart never puts a forbidden pair together."""
        return set(self.partners)

    def ids_of_visit(self, uscc: str, task_ids: Iterable[str]) -> tuple[str, ...]:
        """The overrides that shaped a visit at ``uscc`` holding ``task_ids``, in id order."""
        ids = set(self.ids_of_firm.get(uscc, ()))
        for task_id in task_ids:
            ids.update(self.ids_of_task.get(task_id, ()))
        return tuple(sorted(ids))


def prepare(overrides: list[Override], workdays: tuple[dt.date, ...]) -> OverrideFacts:
    """The facts of overrides already found consistent (``override_problems`` is empty)."""
    index = {day: n for n, day in enumerate(workdays)}
    facts = OverrideFacts()
    ids_of_task: dict[str, set[str]] = {}
    ids_of_firm: dict[str, set[str]] = {}
    restricting: dict[str, set[str]] = {}
    excluded: dict[str, set[int]] = {}
    links: list[tuple[str, str]] = []
    for o in overrides:
        named = [t for t in (o.task_id, o.other_task_id) if t is not None]
        for task_id in named:
            ids_of_task.setdefault(task_id, set()).add(o.override_id)
            if o.action in RESTRICTING:
                restricting.setdefault(task_id, set()).add(o.override_id)
        if o.action == "pin_date":
            facts.pinned[o.task_id] = index[o.date]
        elif o.action == "together_with":
            links.append((o.task_id, o.other_task_id))
        elif o.action == "forbid_together":
            facts.forbidden.add(frozenset((o.task_id, o.other_task_id)))
        elif o.action == "lead_dept":
            facts.lead[o.task_id] = o.dept_id
        elif o.action == "exclude_date":
            ids_of_firm.setdefault(o.uscc, set()).add(o.override_id)
            if o.date in index:
                excluded.setdefault(o.uscc, set()).add(index[o.date])
    for members in components(links):
        for task_id in members:
            facts.partners[task_id] = tuple(sorted(members - {task_id}))
    for task_id, partners in facts.partners.items():  # a lead department holds for the whole held visit
        for other in partners:
            if other in facts.lead and task_id not in facts.lead:
                facts.lead[task_id] = facts.lead[other]
    led = sorted(facts.lead.items())  # two visits with two lead departments: their tasks never share one
    facts.forbidden |= {frozenset((a, b)) for n, (a, da) in enumerate(led) for b, db in led[n + 1 :] if da != db}
    facts.excluded = {u: frozenset(days) for u, days in excluded.items()}
    facts.ids_of_task = {t: tuple(sorted(ids)) for t, ids in ids_of_task.items()}
    facts.ids_of_firm = {u: tuple(sorted(ids)) for u, ids in ids_of_firm.items()}
    facts.restricting = {t: tuple(sorted(ids)) for t, ids in restricting.items()}
    return facts


def components(links: Iterable[tuple[str, str]]) -> list[set[str]]:
    """The tasks held together, transitively (A with B and B with C: one visit of all three)."""
    parent: dict[str, str] = {}

    def root(a: str) -> str:
        while parent.setdefault(a, a) != a:
            a = parent[a]
        return a

    for a, b in links:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, set[str]] = {}
    for a in parent:
        groups.setdefault(root(a), set()).add(a)
    return [groups[k] for k in sorted(groups)]


# --- before planning: an override that contradicts a rule by itself ------------------------------


def override_problems(overrides: list[Override], instance, dataset, scenario, path: str) -> list[Problem]:
    """Every override that no plan can keep, whatever the staff: one problem per row, naming
    the rule it contradicts (``instance``: the tasks before the overrides, with their feasible
    working days by ``rules.windows``, ``rules.observation`` and ``rules.quiet_days``)."""
    tasks = instance.tasks
    row_of = {t: n for n, t in enumerate(tasks["task_id"])}
    workdays = instance.workdays
    day_index = {day: n for n, day in enumerate(workdays)}
    horizon = scenario.horizon
    until = observation_until(tasks, dataset.enterprises)
    caps = YearlyCaps.of_scenario(dataset, scenario)
    name = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))  # an input problem names them itself
    solo = set(scenario.joint.solo_departments)
    problems: list[Problem] = []

    def problem(o: Override, column: str, value: object, message: Message) -> None:
        problems.append(Problem(path, o.row, column, str(value), message))

    def known(o: Override, column: str) -> bool:
        task_id = getattr(o, column)
        if task_id not in row_of:
            problem(o, column, task_id, msg("input.override.unknown_task"))
            return False
        if tasks["kind"].iat[row_of[task_id]] == "appointment":
            # its date and its company are the appointment's (rules.appointments): change the appointment
            problem(o, column, task_id, msg("input.override.appointment"))
            return False
        if "mode" in tasks and tasks["mode"].iat[row_of[task_id]] == "offsite":
            problem(o, column, task_id, msg("input.override.offsite"))  # no visit to shape (rules.offsite)
            return False
        return True

    excluded = {(o.uscc, o.date) for o in overrides if o.action == "exclude_date"}
    pins: dict[str, Override] = {}
    pinned_capped: dict[tuple, set[dt.date]] = {}  # (uscc, year) or (uscc, dept, year) → capped pinned dates
    links, forbids, leads = [], [], []
    for o in overrides:
        if o.action == "pin_date":
            if not known(o, "task_id"):
                continue
            task = tasks.iloc[row_of[o.task_id]]
            why = _pin_breaks(task, o.date, until.iat[row_of[o.task_id]], horizon, day_index, scenario, caps, name)
            if why is None and (task["uscc"], o.date) in excluded:
                why = msg("input.override.pin_excluded", date=o.date)
            if why is None and o.task_id in pins and pins[o.task_id].date != o.date:
                why = msg("input.override.pinned_twice", id=pins[o.task_id].override_id, date=pins[o.task_id].date)
            if why is None and task["capped"]:
                year = o.date.year
                for key, left in (
                    (
                        (task["uscc"], year),
                        caps.positive_left(task["uscc"], year) if task["uscc"] in caps.positive else None,
                    ),
                    ((task["uscc"], task["dept_id"], year), caps.dept_left(task["uscc"], task["dept_id"], year)),
                ):
                    dates = pinned_capped.setdefault(key, set())
                    if left is not None and o.date not in dates and len(dates) >= left:
                        why = msg("input.override.pins_over_cap", dates=listing(sorted(dates)), year=year)
                        break
                if why is None:
                    for key in ((task["uscc"], year), (task["uscc"], task["dept_id"], year)):
                        pinned_capped[key].add(o.date)
            if why is not None:
                problem(o, "date", o.date, why)
            else:
                pins[o.task_id] = o
        elif o.action in ("together_with", "forbid_together"):
            if not (known(o, "task_id") & known(o, "other_task_id")):
                continue
            a, b = (tasks.iloc[row_of[t]] for t in (o.task_id, o.other_task_id))
            if o.action == "together_with" and a["uscc"] != b["uscc"]:
                problem(o, "other_task_id", o.other_task_id, msg("input.override.two_enterprises"))
                continue
            alone = sorted({a["dept_id"], b["dept_id"]} & solo) if a["dept_id"] != b["dept_id"] else []
            if o.action == "together_with" and alone:
                problem(o, "other_task_id", o.other_task_id, msg("input.override.solo", dept=name.get(alone[0])))
                continue
            (links if o.action == "together_with" else forbids).append(o)
        elif o.action == "lead_dept":
            if known(o, "task_id"):
                leads.append(o)
    held = components((o.task_id, o.other_task_id) for o in links)
    component_of = {t: n for n, members in enumerate(held) for t in members}
    days_of = _common_days(held, instance, row_of, pins, day_index, excluded)
    told: set[int] = set()
    for o in links:
        n = component_of[o.task_id]
        if not len(days_of[n]) and n not in told:
            told.add(n)
            problem(
                o, "other_task_id", o.other_task_id, msg("input.override.no_common_day", tasks=listing(sorted(held[n])))
            )
    for o in forbids:
        a, b = o.task_id, o.other_task_id
        if a in component_of and component_of[a] == component_of.get(b):
            problem(o, "other_task_id", b, msg("input.override.held_and_forbidden"))
        elif a in pins and b in pins and pins[a].date == pins[b].date:
            same_firm = tasks.iloc[row_of[a]]["uscc"] == tasks.iloc[row_of[b]]["uscc"]
            if same_firm:
                problem(o, "other_task_id", b, msg("input.override.forbidden_same_day", date=pins[a].date))
    lead_of: dict[int | str, str] = {}
    for o in leads:
        members = held[component_of[o.task_id]] if o.task_id in component_of else {o.task_id}
        depts = sorted({tasks.iloc[row_of[t]]["dept_id"] for t in members})
        if o.dept_id not in depts:
            problem(
                o,
                "dept_id",
                o.dept_id,
                msg("input.override.lead_not_in_visit", depts=listing(name.get(d, d) for d in depts)),
            )
            continue
        key = component_of.get(o.task_id, o.task_id)
        if lead_of.setdefault(key, o.dept_id) != o.dept_id:
            problem(o, "dept_id", o.dept_id, msg("input.override.two_leads", dept=name.get(lead_of[key], lead_of[key])))
    return problems


def _pin_breaks(task, date: dt.date, until, horizon, day_index, scenario, caps: YearlyCaps, name) -> Message | None:
    """The rule a task done on ``date`` would break, in the rulebook's order; None if none."""
    window = f"{task['window_start'].date().isoformat()}…{task['window_end'].date().isoformat()}"
    day = pd.Timestamp(date)
    if not (task["window_start"] <= day <= task["window_end"]) or not (horizon.start <= date <= horizon.end):
        return msg("input.override.outside_window", window=window, start=horizon.start, end=horizon.end)
    if date not in day_index:
        return msg("input.override.not_working_day")
    if task["kind"] in OBSERVED_KINDS and pd.notna(until) and day <= until:
        return msg("input.override.observation", until=pd.Timestamp(until).date())
    if task["capped"] and is_quiet(date, scenario.quiet_days):
        return msg("input.override.quiet_day")
    if task["capped"] and caps.positive_full(task["uscc"], date.year):
        used = listing(used_dates(caps.history, task["uscc"], date.year))
        return msg("input.override.cap_positive_list", year=date.year, dates=used)
    if task["capped"] and caps.dept_full(task["uscc"], task["dept_id"], date.year):
        used = listing(used_dates(caps.history, task["uscc"], date.year, task["dept_id"]))
        return msg("input.override.cap_per_dept", year=date.year, dept=name.get(task["dept_id"]), dates=used)
    return None


def _common_days(held, instance, row_of, pins, day_index, excluded) -> list[np.ndarray]:
    """Each held component's working days common to all its tasks, after pins and exclusions."""
    out = []
    for members in held:
        common = None
        for task_id in sorted(members):
            row = row_of[task_id]
            days = instance.feasible_days(row)
            if task_id in pins:
                days = days[days == day_index.get(pins[task_id].date, -1)]
            uscc = instance.tasks["uscc"].iat[row]
            days = np.array([d for d in days.tolist() if (uscc, instance.workdays[d]) not in excluded], dtype=np.int64)
            common = days if common is None else np.intersect1d(common, days, assume_unique=True)
        year_of = instance.years
        out.append(common if not len(common) else common[year_of[common] == year_of[common[0]]])
    return out


# --- in the model --------------------------------------------------------------------------------


def add_overrides(model, assign: dict, rows: list[int], task_ids: list[str], days: dict, facts: OverrideFacts) -> None:
    """Hard constraint (人工研判修正) in an enterprise's CP-SAT model: tasks held together are
    placed on the same day or not at all (assign[a, d] = assign[b, d]); a forbidden pair never on
    one day (assign[a, d] + assign[b, d] ≤ 1). ``assign[(row, day)]``; ``days[row]``: its days."""
    row_of = dict(zip(task_ids, rows))
    for task_id, partners in facts.partners.items():
        a = row_of.get(task_id)
        for other in partners:
            b = row_of.get(other)
            if a is None or b is None or other < task_id:
                continue
            for d in set(days[a].tolist()) | set(days[b].tolist()):
                x, y = assign.get((a, d)), assign.get((b, d))
                if x is not None and y is not None:
                    model.add(x == y)
                else:
                    for var in (x, y):
                        if var is not None:
                            model.add(var == 0)
    for pair in facts.forbidden:
        a, b = (row_of.get(t) for t in sorted(pair))
        if a is None or b is None:
            continue
        for d in set(days[a].tolist()) & set(days[b].tolist()):
            model.add_at_most_one([assign[(a, d)], assign[(b, d)]])


def override_reason(ids: Iterable[str], why: Reason) -> Reason:
    """A task an override narrowed that the plan could not place: the override named, then why."""
    return Reason("override", msg("reason.override", ids=listing(ids), why=why))


def excluded_days_reason(ids: Iterable[str]) -> Reason:
    """A task whose every feasible day the overrides exclude for its enterprise."""
    return Reason("override", msg("reason.override.no_day", ids=listing(ids)))


def apart_reason(ids: Iterable[str]) -> Reason:
    """A task left out so that an override holds: its partner went to another visit (a cap or a
    stay took it apart), or a forbidden partner shares its only visit."""
    return Reason("override", msg("reason.override.apart", ids=listing(ids)))


def default_lead_dept(dept_ids: list[str], minutes: dict[str, int]) -> str:
    """牵头部门 of a visit no override names: the department with the most on-site minutes
    (ties: the first of ``dept_ids``), as the notices name it."""
    return max(dept_ids, key=lambda d: (minutes.get(d, 0), -dept_ids.index(d))) if dept_ids else ""


# --- check --------------------------------------------------------------------------------------


def check_override(plan, inputs) -> list[Message]:
    """Hard rule (经人工研判修正): every override of the input holds in the plan — a pinned task
    placed is placed on its date, a held pair placed is in one visit, a forbidden pair never is,
    the visit of a task with a lead department has it as ``lead_dept_id`` (while that department
    checks in the visit: a cap may have taken its tasks out), and an enterprise has no visit on a
    date excluded for it."""
    overrides = inputs.dataset.overrides
    if overrides.empty:
        return []
    visits = plan.visits.set_index("visit_id")
    where = dict(zip(plan.visit_tasks["task_id"], plan.visit_tasks["visit_id"]))
    date_of = {v: pd.Timestamp(d).date() for v, d in visits["date"].items()}
    lead = visits["lead_dept_id"].to_dict() if "lead_dept_id" in visits else {}
    checking = set(zip(plan.visit_tasks["visit_id"], plan.visit_tasks["dept_id"]))
    firm_days = {(u, pd.Timestamp(d).date()) for u, d in zip(visits["uscc"], visits["date"])}
    out = []
    for o in read_overrides(overrides):
        a, b = where.get(o.task_id), where.get(o.other_task_id)
        if o.action == "pin_date" and a is not None and date_of[a] != o.date:
            out.append(msg("check.override.pin", id=o.override_id, task=o.task_id, date=o.date, planned=date_of[a]))
        elif o.action == "together_with" and a is not None and b is not None and a != b:
            out.append(msg("check.override.together", id=o.override_id, task=o.task_id, other=o.other_task_id))
        elif o.action == "forbid_together" and a is not None and a == b:
            out.append(msg("check.override.forbid", id=o.override_id, task=o.task_id, other=o.other_task_id, visit=a))
        elif o.action == "lead_dept" and (a, o.dept_id) in checking and lead.get(a) != o.dept_id:
            out.append(msg("check.override.lead", id=o.override_id, visit=a, dept=Dept(o.dept_id)))
        elif o.action == "exclude_date" and (o.uscc, o.date) in firm_days:
            out.append(msg("check.override.exclude", id=o.override_id, uscc=o.uscc, date=o.date))
    return out
