"""Legal duties first, all year: the schedule that places the most, judged over the whole horizon.

The day-by-day scheduler (``schedule.schedule_groups``) alone paces each department's planned
days evenly over the horizon, and takes a crew's second inspector from whoever has most people
free that day; a county whose legal duties are due in Q4, or a department too small for its
share of joint visits, then loses mandatory tasks that a plan made for the whole year keeps.
``plan_horizon`` schedules with the horizon's capacity in view, and keeps the best schedule by
the objective's order — mandatory tasks placed, then tasks placed, then their priority, then
fewest visits:

1. the capacity LP (``capacity.plan_weeks``: weeks × departments) sets the pace: a
   department spends its planned days in proportion to when its work is due, and a crew's
   second inspector comes from the department with most planned days beyond its own work (if
   the LP has no answer, the even pace of before), and the mandatory groups the LP does are
   placed before the others (under binding staff it chooses the legal duties that cost fewest
   person-days); when that schedule leaves out legal duties the LP finds room for, the evenly
   paced schedule (with the same choice) is tried too; when the LP does not do every group,
   staff binds, and work that can wait for an ordinary day opens no crew on a quiet day;
2. a county small enough is also scheduled by one exact CP-SAT model of every crew-day
   (``exact.exact_schedule``), hinted with the schedule of 1;
3. when mandatory groups are still left out for want of a crew, and a department of theirs has
   spent its planned days: that department's checks leave the joint visits of other mandatory
   work (``split_out``), so its few inspectors spend their days on their own checks instead of
   waiting through the other departments' (综合查一次 yields to legal duties: each split makes a
   visit more, and is made only for a mandatory task); the splits go in rounds, the visits that
   free most of the short department's time first, as many as its shortfall needs, then twice
   as many, until nothing more is gained (a round is kept only if it places more, in the
   objective's order; each round's groups get their own LP, its pace and its choice) — from the
   paced schedule and, when it was tried, from the evenly paced
   one too (the better start does not always end better);
4. when the schedule kept leaves out a joint legal duty that is never taken apart (a
   positive-list enterprise's capped visit, an appointment, a visit an override shaped:
   ``schedule.kept_whole``), below the capacity bound, the same schedule with those visits
   placed in a pass of their own first (``whole-first``): most urgent first, their departments'
   days ran out before one day found them all free;
5. the schedule kept, when it still leaves legal duties out for want of a crew and below the
   capacity bound, is made again with the trade (以多换少, ``schedule._trade_up``): a staffed
   crew-day gives up a visit for open mandatory groups that place more in its minutes, or
   moves it to another crew-day it fits, and a visit given up takes any place left for it.
   Done on the kept schedule only: inside every try it would change what the split rounds
   start from (on ``park`` that cost 22 legal duties), while here the schedule can only gain;
6. tasks before visits: when the schedule kept leaves optional work out for want of a crew, and
   a department of it has spent its planned days, that department's checks leave joint
   *optional* visits (``split_out_for(..., mandatory=False)``; never a positive-list
   enterprise's capped visit, an appointment or a visit an override shaped): in a joint visit
   every member waits through the others' checks, so a short department's days go further on
   its own visits, with a second seat from a department with days to spare. Rounds free ½, 1
   and 2 times the time of the work left out, each from the schedule kept so far, made as it
   was (whole-first, trade); a round is kept only if it places more in the objective's order,
   so legal duties never fall and visits are added only where more tasks are placed (the
   objective puts tasks before fewest visits; at 60 % staff on 20k enterprises a round added
   1.46 visits per task).

A schedule that places as many mandatory tasks as the capacity bound allows (``legal_bound``)
ends the tries for legal duties: no plan places more. Every schedule is deterministic, so the
choice is too.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from planner.model.capacity import CapacityDecision, plan_weeks
from planner.model.exact import exact_schedule
from planner.model.groups import VisitGroup
from planner.model.matching import Roster
from planner.model.schedule import (
    Crew,
    Schedule,
    _why_unplaced,
    kept_whole,
    must_delegate_of,
    placed_value,
    route_minutes,
    schedule_groups,
)
from planner.rules.caps import positive_list
from planner.travel import TravelTimes

if TYPE_CHECKING:
    import pandas as pd

    from planner.dataset import Dataset
    from planner.model.instance import Instance
    from planner.scenario import Scenario
    from planner.workdays import WorkCalendar

#: a department is short when its inspectors have spent this share of their planned days
SHORT_USE = 0.9
#: rounds of splits at most (each frees twice the time of the one before)
SPLIT_ROUNDS = 3
WHOLE_FIRST = "whole-first"  # the name's suffix of a schedule made with ``whole_first``
#: rounds of optional splits (step 6 of the module doc): each frees this many times the time
#: of the optional work left out for want of a crew, from the schedule kept so far
TASK_SPLIT_FACTORS = (0.5, 1, 2)
TASKS = "tasks"  # the name's suffix of a schedule after optional splits: "<kept> tasks-N"


@dataclass(frozen=True)
class HorizonResult:
    """The schedule kept, and how it was found: ``chosen`` names it ("day-by-day", "capacity",
    "split-1" …), ``tried`` each candidate's value (mandatory, tasks, priority, −visits),
    ``split`` the departments whose checks left joint visits and how many visits that made, and
    ``capacity`` the LP's decision (its optima and pace)."""

    schedule: Schedule
    chosen: str
    tried: dict[str, tuple[int, int, int, int]]
    split: dict[str, int]
    capacity: CapacityDecision


def plan_horizon(
    groups: list[VisitGroup],
    instance: Instance,
    dataset: Dataset,
    scenario: Scenario,
    calendar: WorkCalendar,
    fixed: list[Crew] = (),
    fixed_members: pd.DataFrame | None = None,
    legal_bound: int | None = None,
    fixed_fills: pd.DataFrame | None = None,
) -> HorizonResult:
    """The best of the module doc's schedules for ``groups`` (``fixed`` crews kept in each; the
    lottery record of those filled by this run's earlier schedules is ``fixed_fills``).
    ``legal_bound``: the most mandatory tasks any plan can place (``capacity.capacity_bound_model``);
    a schedule that places as many needs no other try for legal duties."""
    travel = TravelTimes(dataset, scenario)
    township_of = dict(zip(dataset.enterprises["uscc"], dataset.enterprises["township"]))

    def roster() -> Roster:
        return Roster.from_dataset(dataset, len(calendar), scenario.planned_share)

    made_by: dict[str, tuple] = {}  # each schedule's arguments of run(), to make it again with the trade

    def run(
        these: list[VisitGroup],
        pace: CapacityDecision | None,
        lp: CapacityDecision,
        whole_first: bool = False,
        trade: bool = False,
    ) -> Schedule:
        """The schedule of ``these`` at ``pace`` (None: even), the groups ``lp`` does first
        (``whole_first``: after the joint legal duties never taken apart; ``trade``: and then
        以多换少, ``schedule._trade_up``)."""
        crews = [dataclasses.replace(c, groups=list(c.groups), seats=dict(c.seats)) for c in fixed]
        return schedule_groups(
            these,
            instance.workdays,
            dataset,
            scenario,
            roster(),
            scenario.seed,
            fixed=crews,
            fixed_members=fixed_members,
            profile=pace,
            fixed_fills=fixed_fills,
            chosen=lp.done,
            hold_quiet=decision.binds,
            trade=trade,
            whole_first=whole_first,
        )

    onsite = {g.group_id: g.onsite_min(scenario.onsite) for g in groups}
    fixed_days = [(person, crew.day) for crew in fixed for person in crew.members]
    shape = roster()

    def weeks_for(these: list[VisitGroup], minutes: dict[int, int] | None = None) -> CapacityDecision:
        """The capacity LP of ``these`` groups (``capacity.plan_weeks``), their on-site ``minutes``."""
        minutes = minutes or {g.group_id: g.onsite_min(scenario.onsite) for g in these}
        must_delegate = must_delegate_of(shape, travel, township_of, minutes)
        return plan_weeks(
            these, instance.workdays, shape, travel, township_of, minutes, must_delegate, fixed_days, instance.quiet
        )

    decision = weeks_for(groups, onsite)
    pace = decision if decision.pace else None  # no LP answer: the even pace of the day-by-day scheduler
    base = "capacity" if pace is not None else "day-by-day"
    made_by[base] = (groups, pace, decision)
    candidates = {base: run(*made_by[base])}
    tried = {base: placed_value(candidates[base])}
    chosen = base

    def reached(name: str) -> bool:
        return legal_bound is not None and tried[name][0] >= legal_bound

    if pace is not None and tried[base][0] < decision.lp[0] - 0.5 and not reached(base):
        # the paced schedule left out legal duties the LP finds room for: the even pace may place
        # them (a schedule, not the LP, decides; keep whichever places more, in the objective's order)
        made_by["day-by-day"] = (groups, None, decision)
        candidates["day-by-day"] = run(*made_by["day-by-day"])
        tried["day-by-day"] = placed_value(candidates["day-by-day"])
        if tried["day-by-day"] > tried[chosen]:
            chosen = "day-by-day"
    known = dict((g.group_id, reason) for g, reason in candidates[base].unplaced)

    def why(group: VisitGroup, left: Roster) -> str:
        return known.get(group.group_id) or _why_unplaced(
            group, instance.workdays, dataset, left, onsite, travel, township_of
        )

    # the exact model only where the schedule leaves out a group a crew could have taken
    wanting = any(reason.code == "staff_capacity" for _, reason in candidates[base].unplaced)
    exact = (
        exact_schedule(
            groups,
            instance.workdays,
            roster(),
            travel,
            township_of,
            scenario.onsite,
            scenario.seed,
            why,
            hint=candidates[base],
        )
        if wanting and not fixed
        else None
    )
    if exact is not None:
        candidates["exact"], tried["exact"] = exact, placed_value(exact)
        if tried["exact"] > tried[chosen]:
            chosen = "exact"
    # the split rounds from each paced schedule tried (the best start is not always the best end)
    first = "exact" if chosen == "exact" else base
    starts = [(first, pace)] + ([("day-by-day", None)] if "day-by-day" in candidates else [])
    best, split = chosen, {}
    for start, start_pace in starts:
        last, current, made_so_far = start, groups, {}
        for round_ in range(1, SPLIT_ROUNDS + 1):
            if reached(best) or reached(last):
                break  # splits serve legal duties only, and no plan places more of them
            short = short_departments(candidates[last], current, roster())
            if not short:
                break
            parts, made = split_out_for(
                current, candidates[last], short, instance, travel, township_of, scenario, 2**round_, dataset
            )
            if not made:
                break
            name = f"split-{round_}" if start == first else f"{start} split-{round_}"
            # the LP again, on the groups as split: its pace and its choice are theirs
            lp = weeks_for(parts)
            made_by[name] = (parts, (lp if lp.pace else None) if start_pace is not None else None, lp)
            candidates[name] = run(*made_by[name])
            tried[name] = placed_value(candidates[name])
            if tried[name] <= tried[last]:
                break
            last, current, made_so_far = name, parts, made
        if tried[last] > tried[best]:
            best, split = last, made_so_far
    chosen = best

    def split_for_tasks(kept: Schedule, chosen: str, traded: bool) -> tuple[Schedule, str]:
        """Step 6 of the module doc on the schedule ``kept`` (named ``chosen``, made by
        ``run(*made_by[chosen])``, ``traded`` if with the trade): the schedule kept and its name;
        ``tried`` and ``split`` (visits made per department) are added to."""
        these, pace, *rest = made_by[chosen]
        whole = bool(rest[1]) if len(rest) > 1 else False
        name, value, made_before = chosen, placed_value(kept), None
        for round_, factor in enumerate(TASK_SPLIT_FACTORS, start=1):
            short = short_departments(kept, these, roster(), mandatory=False)
            if not short:
                break
            parts, made = split_out_for(
                these, kept, short, instance, travel, township_of, scenario, factor, dataset, mandatory=False
            )
            if not made or made == made_before:
                continue  # nothing more to take apart at this factor
            made_before = made
            lp = weeks_for(parts)
            # paced as the schedule kept was: by the LP of the groups as split, or evenly
            candidate = run(parts, (lp if lp.pace else None) if pace is not None else None, lp, whole, trade=traded)
            tried[f"{chosen} {TASKS}-{round_}"] = candidate_value = placed_value(candidate)
            if candidate_value <= value:
                continue
            kept, these, value, name, made_before = (
                candidate,
                parts,
                candidate_value,
                f"{chosen} {TASKS}-{round_}",
                None,
            )
            for dept, n in made.items():
                split[dept] = split.get(dept, 0) + n
        return kept, name

    positive = positive_list(dataset.enterprises)
    unsplit = any(r.code == "staff_capacity" and kept_whole(g, positive) for g, r in candidates[chosen].unplaced)
    if chosen in made_by and unsplit and not reached(chosen):
        # joint legal duties never taken apart were left out: their departments' days ran out
        # before one day found them all free; placed first, they get them
        name = f"{chosen} {WHOLE_FIRST}"
        made_by[name] = (*made_by[chosen][:3], True)
        candidates[name] = run(*made_by[name])
        tried[name] = placed_value(candidates[name])
        if tried[name] > tried[chosen]:
            chosen = name
    kept = candidates[chosen]
    short_of_staff = any(g.mandatory and reason.code == "staff_capacity" for g, reason in kept.unplaced)
    if chosen in made_by and short_of_staff and not reached(chosen):
        # 以多换少 on the schedule kept, not inside every try: the split rounds start from the
        # schedules they measured, and the kept one can only gain
        traded = run(*made_by[chosen], trade=True)
        if placed_value(traded) > tried[chosen]:
            kept = traded
    if chosen in made_by:
        kept, chosen = split_for_tasks(kept, chosen, kept is not candidates[chosen])
    return HorizonResult(kept, chosen, tried, split, decision)


def short_departments(schedule: Schedule, groups: list[VisitGroup], roster: Roster, mandatory: bool = True) -> set[str]:
    """Departments of the mandatory groups (``mandatory=False``: of any group) left out for want
    of a crew whose certified inspectors have spent at least ``SHORT_USE`` of their planned days
    in ``schedule``."""
    used: dict[str, int] = defaultdict(int)
    planned: dict[str, int] = defaultdict(int)
    days: dict[str, set] = defaultdict(set)
    for crew in schedule.crews:
        for person in crew.members:
            days[person].add(crew.day)
    for person, dept in roster.dept_of.items():
        used[dept] += len(days.get(person, ()))
        planned[dept] += roster.max_days[person]
    wanting = {
        d
        for group, reason in schedule.unplaced
        if (group.mandatory or not mandatory) and reason.code == "staff_capacity"
        for d in group.depts
    }
    return {d for d in wanting if planned[d] and used[d] >= SHORT_USE * planned[d]}


def split_out_for(
    groups: list[VisitGroup],
    schedule: Schedule,
    short: set[str],
    instance: Instance,
    travel: TravelTimes,
    township_of: dict[str, str],
    scenario: Scenario,
    factor: float,
    dataset: Dataset,
    mandatory: bool = True,
) -> tuple[list[VisitGroup], dict[str, int]]:
    """``groups`` with the checks of the ``short`` departments taken out of enough joint
    mandatory visits to free ``factor`` times the time their left-out mandatory groups need (a
    day's trip and stay each), the visits that free most first; returns the groups and the
    visits made per department. Never at a positive-list enterprise's capped visit: a second
    capped visit would break 一年最多查一次. ``mandatory=False``: joint optional visits instead,
    for any group left out (step 6 of the module doc)."""
    positive = positive_list(dataset.enterprises)
    onsite = {g.group_id: g.onsite_min(scenario.onsite) for g in groups}
    for group, _ in schedule.unplaced:
        onsite.setdefault(group.group_id, group.onsite_min(scenario.onsite))

    def trip(group: VisitGroup) -> int:
        return route_minutes(f"station:{township_of[group.uscc]}", [group], onsite, travel)

    wanted: dict[str, int] = defaultdict(int)
    for group, reason in schedule.unplaced:
        if (group.mandatory or not mandatory) and reason.code == "staff_capacity":
            for dept in set(group.depts) & short:
                wanted[dept] += trip(group)
    table = instance.table
    options = []  # (time freed, group, department)
    for group in groups:
        if (
            group.mandatory != mandatory
            or len(group.depts) < 2
            or (group.capped and group.uscc in positive)
            or group.appointment
        ):
            continue
        if instance.held_apart(group.rows):
            continue  # 人工研判修正 shaped this visit: it is not taken apart
        for dept in sorted(set(group.depts) & short):
            own = int(table.duration_min[group.rows][table.dept_id[group.rows] == dept].sum())
            options.append((onsite[group.group_id] - own, group, dept))
    options.sort(key=lambda o: (-o[0], o[1].group_id, o[2]))
    freed: dict[str, int] = defaultdict(int)
    leave: dict[int, set[str]] = defaultdict(set)
    for saving, group, dept in options:
        if saving > 0 and freed[dept] < factor * wanted[dept]:
            leave[group.group_id].add(dept)
            freed[dept] += saving
    if not leave:
        return groups, {}
    next_id = max(g.group_id for g in groups) + 1
    out, made = [], defaultdict(int)
    for group in groups:
        if group.group_id not in leave:
            out.append(group)
            continue
        for part in split_out(group, leave[group.group_id], instance):
            part.group_id = next_id
            next_id += 1
            out.append(part)
        for dept in leave[group.group_id]:
            made[dept] += 1
    return out, dict(made)


def split_out(group: VisitGroup, depts: set[str], instance: Instance) -> list[VisitGroup]:
    """The group with the checks of ``depts`` taken out: a visit for each of those departments
    and one for the rest, each on every day its own tasks share in the group's year."""
    table, rows = group.table, group.rows
    years = instance.years
    year = years[group.days[0]]
    parts = [rows[table.dept_id[rows] == d] for d in sorted(depts)]
    rest = rows[~np.isin(table.dept_id[rows], sorted(depts))]
    out = []
    for mine in [*parts, rest]:
        if not len(mine):
            continue
        common = instance.feasible_days(int(mine[0]))
        for r in mine[1:].tolist():
            common = np.intersect1d(common, instance.feasible_days(r), assume_unique=True)
        out.append(VisitGroup(table, group.uscc, mine.copy(), common[years[common] == year]))
    return out
