"""Dates, crews and routes for the visit groups: a day-by-day constructive scheduler.

Each working day, the open visit groups are taken most urgent first (fewest days left in their
window, mandatory before the rest; with the capacity LP's choice, the mandatory groups it does
in a first pass over the year and the others after). A group joins a crew of its township
that already has inspectors of all its departments when its route stays within the day, or
opens a new crew when the departments still have people free. New crews for groups that are not yet urgent are
paced: a department opens no more crews a day than its remaining planned person-days spread
evenly over the remaining working days, so the staff is not used up in spring. A group passes a
day another group of its enterprise needs (one visit per enterprise a day) while a later day of
its window leaves every group a day of its own. When staff binds, a group that can wait for a
day that is not quiet opens no crew on a quiet day (the few checks such a day allows would
spend whole person-days); it may still join a crew out that day. The day's seats
are then filled by persons (``planner.model.matching``); a crew whose seats cannot all be filled —
conflicts, delegations — is dropped for the day and its groups try again later.

With ``trade`` (the horizon asks it of the schedule it keeps), staffed crew-days then give a
visit up where open legal duties placed in its minutes count for more (以多换少, ``_trade_up``):
taken most urgent first, a long check can fill the minutes two short ones would have shared.

Routes start and end at the township's station at ``DAY_START_MIN``; visits are ordered to
minimise travel by the route engine (``planner.routing``: exact up to 10 stops, PyVRP beyond).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.messages import Dept, Reason, listing, msg, reason
from planner.model.groups import VisitGroup, distinct_days
from planner.model.matching import REQUEST_COLUMNS, SEAT_COLUMNS, Roster, seat_frame, staff_crews
from planner.routing import order_stops
from planner.rules.caps import positive_list
from planner.rules.crews import covers
from planner.rules.quiet_days import quiet_mask
from planner.rules.staff_days import day_minutes
from planner.travel import TravelTimes

if TYPE_CHECKING:
    from planner.dataset import Dataset
    from planner.model.capacity import CapacityDecision
    from planner.scenario import Scenario

DAY_START_MIN = 510  # 08:30, leaving the station
PLANNED_DAY_MIN = 420  # a crew-day is planned within 7 hours unless one visit alone needs longer
URGENT_DAYS = 3  # a group with this many feasible days left ignores pacing
CHOSEN_SHARE = 0.5  # a group the capacity LP does at least this much of is one it chose
TRADE_ROUNDS = 3  # rounds of _trade_up: each places what the one before gave up, where it can


@dataclass
class Crew:
    """One crew-day: its seats per department, its visit groups and their order."""

    crew_id: str
    township: str
    day: int
    seats: dict[str, int]
    groups: list[VisitGroup] = field(default_factory=list)  # in visiting order (cheapest insertion)
    limit_min: int = PLANNED_DAY_MIN
    length_min: int = 0
    members: tuple[str, ...] = ()  # the persons, once staffed
    #: 委托查: department covered by a delegation → the department of the seat whose holder carries it
    delegated: dict[str, str] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(self.seats.values())

    def covers(self, group: VisitGroup) -> bool:
        """Every department of the group has a seat here, or a delegated seat for delegable tasks."""
        return covers(self.seats, self.delegated, group.depts, group.delegable)


def _may_take(crew: Crew, group: VisitGroup, roster: Roster) -> bool:
    """A staffed crew may add the group: large enough, its members cover the group's departments,
    and none is in conflict (回避) with its enterprise."""
    return (
        len(crew.members) >= group.min_crew
        and members_cover(crew.members, group, roster)
        and not any(group.uscc in roster.conflicts.get(m, ()) for m in crew.members)
    )


def _day_limit(crew: Crew, roster: Roster) -> int:
    """The longest a staffed crew's day may be: as planned, and within every member's hours."""
    return min([crew.limit_min] + [day_minutes(roster.hours_per_day[m]) for m in crew.members])


def members_cover(members, group: VisitGroup, roster: Roster) -> bool:
    """Persons on a crew cover the group: an own inspector per department, or a delegation for
    a department whose tasks there are all delegable (委托查)."""
    own = {roster.dept_of[m] for m in members}
    delegated = set().union(*(roster.delegations.get(m, frozenset()) for m in members))
    return covers(own, delegated, group.depts, group.delegable)


@dataclass
class Schedule:
    """Placed crews with ordered routes and person members, and the groups never placed."""

    crews: list[Crew]
    routes: dict[str, list[VisitGroup]]  # crew_id → groups in visiting order
    members: pd.DataFrame  # matching.MEMBER_COLUMNS
    unplaced: list[tuple[VisitGroup, Reason]]
    #: the lottery record of the rounds that filled ``members`` (matching.SEAT_COLUMNS); a fixed
    #: crew's members (kept by a re-optimisation) have none here, nor the exact model's own choice
    fills: pd.DataFrame = field(default_factory=lambda: seat_frame([]))


def route_minutes(station: str, order: list[VisitGroup], onsite: dict[int, int], travel: TravelTimes) -> int:
    """Length of a crew-day: station → visits in order → station, travel plus on-site minutes."""
    here, total = station, 0
    for group in order:
        total += travel.minutes(here, group.uscc) + onsite[group.group_id]
        here = group.uscc
    return total + travel.minutes(here, station)


def best_order(station: str, groups: list[VisitGroup], onsite, travel) -> list[VisitGroup]:
    """The visiting order with least travel, by the route engine (``planner.routing.order_stops``):
    exact up to 10 stops (ties by group ids), seeded PyVRP beyond, never longer than the order given."""
    by_id = {g.group_id: g for g in groups}
    place = {g.group_id: g.uscc for g in groups}

    def minutes(a, b) -> int:
        return travel.minutes(place.get(a, station), place.get(b, station))

    return [by_id[i] for i in order_stops(station, list(by_id), minutes)]


def schedule_groups(
    groups: list[VisitGroup],
    workdays: tuple,
    dataset: Dataset,
    scenario: Scenario,
    roster: Roster,
    seed: int,
    fixed: list[Crew] = (),
    fixed_members: pd.DataFrame | None = None,
    profile: CapacityDecision | None = None,
    fixed_fills: pd.DataFrame | None = None,
    chosen: dict[int, float] | None = None,
    hold_quiet: bool = False,
    trade: bool = False,
    whole_first: bool = False,
) -> Schedule:
    """Place every group it can, day by day (see the module doc).

    ``fixed`` crews (a re-optimisation keeps them: staffed, with their visits) are placed first
    and never lose a visit; new groups may join them. ``fixed_members`` are their members' rows,
    ``fixed_fills`` the lottery record of those of them filled by this run's earlier schedules.
    ``profile`` (``capacity.plan_weeks``): a department's planned days are paced by when its
    work is due over the horizon, not evenly, and a crew's second inspector comes from the
    department with most planned days beyond its own work. ``chosen`` (the capacity LP's share
    of each group done, ``CapacityDecision.done``): the mandatory groups it does at least
    ``CHOSEN_SHARE`` of are placed before the other mandatory groups. ``hold_quiet`` (staff
    binds): on a quiet day, a group that is not urgent and has an ordinary day later in its window
    joins crews out that day but opens none — a crew sent out for the few checks a quiet day
    allows would spend its members' whole days on a part of one. ``whole_first``: the joint
    mandatory groups that are never taken apart (``kept_whole``) are placed in a pass of their
    own before the other mandatory groups. ``trade``: 以多换少 at the end (``_trade_up``).
    """
    travel = TravelTimes(dataset, scenario)
    township_of = dict(zip(dataset.enterprises["uscc"], dataset.enterprises["township"]))
    onsite = {g.group_id: g.onsite_min(scenario.onsite) for g in [*groups, *(g for c in fixed for g in c.groups)]}
    by_day: dict[int, list[VisitGroup]] = defaultdict(list)
    for group in groups:
        for day in group.days:
            by_day[int(day)].append(group)
    longest, longest_delegate = _longest_day_by_dept(roster), _longest_day_by_delegation(roster)

    def reach(group: VisitGroup, dept: str) -> int:
        """The longest day of anyone who may check the group's tasks of ``dept``: its own
        inspectors, or (delegable tasks) other departments' holding its delegation."""
        return max(longest.get(dept, 0), longest_delegate.get(dept, 0) if group.delegable(dept) else 0)

    alone_min: dict[int, int] = {}

    def must_delegate(group: VisitGroup) -> tuple[str, ...]:
        """The group's departments none of whose own inspectors can take it (none certified, or
        no day long enough): only a delegate of another department can (委托查)."""
        if group.group_id not in alone_min:
            alone_min[group.group_id] = route_minutes(f"station:{township_of[group.uscc]}", [group], onsite, travel)
        return tuple(d for d in group.depts if longest.get(d, 0) < alone_min[group.group_id])

    placed: set[int] = set()
    unplaced: list[tuple[VisitGroup, Reason]] = []
    for group in groups:
        station = f"station:{township_of[group.uscc]}"
        alone = alone_min[group.group_id] = route_minutes(station, [group], onsite, travel)
        nobody = [d for d in group.depts if reach(group, d) == 0]
        if nobody:
            held = [Dept(d) for d in nobody if group.delegable(d)]
            delegation = msg("reason.certified.delegation", depts=listing(held)) if held else ""
            depts = listing(Dept(d) for d in nobody)
            unplaced.append((group, reason("certified", "reason.certified", depts=depts, delegation=delegation)))
            placed.add(group.group_id)
        elif alone > min(reach(group, d) for d in group.depts):
            why = reason("day_length", "reason.day_length", onsite=onsite[group.group_id], total=alone)
            unplaced.append((group, why))
            placed.add(group.group_id)  # never try it
    crews_by_day: dict[int, list[Crew]] = defaultdict(list)
    members: list[pd.DataFrame] = []
    split: set[int] = set()  # joint groups replaced by their per-department parts
    crews_formed: dict[int, int] = defaultdict(int)
    pinned = {g.group_id for crew in fixed for g in crew.groups}
    for crew in fixed:
        crews_by_day[crew.day].append(crew)
        crews_formed[crew.day] = max(crews_formed[crew.day], int(crew.crew_id.rsplit("-", 1)[1]))
        for person in crew.members:
            roster.days_used[person] += 1
            roster.assigned[workdays[crew.day]].add(person)
    if fixed_members is not None and len(fixed_members):
        members.append(fixed_members)
    if fixed_fills is not None and len(fixed_fills):  # new rounds are numbered on from them
        roster.fills = list(fixed_fills[SEAT_COLUMNS].itertuples(index=False, name=None))
        roster.rounds = int(fixed_fills["round"].max()) + 1
    n_days = len(workdays)
    positive = positive_list(dataset.enterprises)
    next_id = first_part_id = max((g.group_id for g in groups), default=-1) + 1
    quiet = quiet_mask(scenario.quiet_days, workdays)
    years = np.array([d.year for d in workdays])
    in_conflict = _in_conflict(roster)
    firms = defaultdict(list)
    for group in groups:
        firms[group.uscc].append(group)
    preferred = _days_leaving_room(firms.values())

    def waits(group: VisitGroup, day: int) -> bool:
        """The group passes today, which another group of its enterprise needs, for a later day
        that leaves every other group a day of its own (one visit per enterprise a day)."""
        days = preferred.get(group.group_id)
        return (
            days is not None
            and days[-1] > day
            and day not in days
            and any(g.group_id not in placed for g in firms[group.uscc] if g is not group)
        )

    carried: dict[str, float] = {}  # per department, the part of a seat its pace left unspent

    def run_batch(batch: list[VisitGroup]) -> None:
        """Day by day, place the batch's groups: join staffed crews, else form and staff new ones."""
        batch_ids = {g.group_id for g in batch}
        carried.clear()  # each pass over the year is paced afresh
        for day in range(n_days):
            candidates = [
                g
                for g in by_day.get(day, [])
                if g.group_id in batch_ids and g.group_id not in placed and not waits(g, day)
            ]
            if not candidates:
                continue
            urgency = {g.group_id: len(g.days) - int(np.searchsorted(g.days, day)) for g in candidates}
            candidates.sort(key=lambda g: (urgency[g.group_id], not g.mandatory, -g.value()[2], g.group_id))
            date = workdays[day]
            available = {p for p in roster.dept_of if roster.available(p, date)}  # no staffing before _form_crews
            free = _free_persons(roster, date, available)
            share = None if profile is None else profile.share_today(day)
            budget, quota = _paced_budget(roster, free, n_days - day, share, carried)
            slack = None if profile is None else profile.slack(day, _days_left(roster))
            clear = _free_without_conflict(roster, date, candidates, available, in_conflict)
            joined = _join_staffed(crews_by_day[day], candidates, roster, township_of, onsite, travel)
            placed.update(joined)
            candidates = [g for g in candidates if g.group_id not in joined]
            visited = {g.uscc for c in crews_by_day[day] for g in c.groups}
            join_only: frozenset[int] = frozenset()
            if hold_quiet and quiet[day]:  # work that can wait for an ordinary day opens no crew
                join_only = frozenset(
                    g.group_id
                    for g in candidates
                    if urgency[g.group_id] > URGENT_DAYS and (~quiet[g.days[g.days > day]]).any()
                )
            crews = _form_crews(
                day,
                date,
                candidates,
                urgency,
                free,
                budget,
                clear,
                township_of,
                onsite,
                travel,
                visited,
                crews_formed[day] + 1,
                _free_delegates(roster, date, available),
                must_delegate,
                slack,
                join_only,
            )
            crews_formed[day] += len(crews)  # numbers of crews dropped at staffing are never reused
            staffed, day_members = _staff(crews, date, roster, seed)
            for crew in staffed:
                placed.update(g.group_id for g in crew.groups)
            crews_by_day[day] += staffed
            members.append(day_members)
            if quota:  # what today's pace left of a seat goes on to the next day
                spent: dict[str, int] = defaultdict(int)
                for crew in staffed:
                    for dept, n in crew.seats.items():
                        spent[dept] += n
                carried.clear()
                carried.update(_carried_over(quota, spent))

    # lexicographic: mandatory groups get the staff first, then the parts of joint mandatory
    # visits no crew could take whole, then the rest what is left
    mandatory_groups = [g for g in groups if g.mandatory]
    optional = [g for g in groups if not g.mandatory]
    batches = [mandatory_groups, None, optional]
    if chosen:
        # the capacity LP's choice first: under binding staff it picks the groups that place the
        # most legal duties for the person-days they cost (taken most urgent first, a long check
        # due early would take the days of two short ones due later); the rest follow with what
        # is left
        first = [g for g in mandatory_groups if chosen.get(g.group_id, 1.0) >= CHOSEN_SHARE]
        later = [g for g in mandatory_groups if chosen.get(g.group_id, 1.0) < CHOSEN_SHARE]
        batches = [first, later, None, optional]
    if whole_first:
        # a visit that needs several departments on one day, and may not be taken apart, gets
        # its crew while their days are still there (a pass of its own, before the others)
        whole = [g for g in mandatory_groups if kept_whole(g, positive)]
        batches = [whole] + [b if b is None else [g for g in b if not kept_whole(g, positive)] for b in batches]
    for batch in batches:
        if batch is None:
            batch = []
            for group in [g for g in mandatory_groups if g.group_id not in placed]:
                if kept_whole(group, positive) or group.appointment or group.table.held[group.rows].any():
                    continue  # never taken apart (an appointment's or an override's tasks stay together)
                parts, left_out = _mandatory_parts(group, quiet, years)
                if len(parts) == 1 and not len(left_out) and np.array_equal(parts[0].days, group.days):
                    continue  # nothing to gain
                for part in parts:
                    part.group_id = next_id
                    next_id += 1
                    (batch if part.mandatory else optional).append(part)
                    onsite[part.group_id] = part.onsite_min(scenario.onsite)
                    for day in part.days:
                        by_day[int(day)].append(part)
                if len(left_out):
                    unplaced.append(
                        (
                            VisitGroup(group.table, group.uscc, left_out, group.days, next_id),
                            reason("mandatory_first", "reason.mandatory_first"),
                        )
                    )
                    next_id += 1
                placed.add(group.group_id)
                split.add(group.group_id)
            groups = groups + batch + [p for p in optional if p.group_id >= first_part_id]
        run_batch(batch)

    def make_room(group: VisitGroup) -> list[VisitGroup]:
        """补位 for one group (``_make_room``), the plan's records kept; returns the optional
        groups it displaced."""
        made = _make_room(
            group, workdays, crews_by_day, crews_formed, roster, township_of, onsite, travel, seed, pinned
        )
        if made is None:
            return []
        placed.add(group.group_id)
        members.append(made[1])
        placed.difference_update(g.group_id for g in made[0])
        return made[0]

    def left_out() -> list[VisitGroup]:
        return [g for g in groups if g.mandatory and g.group_id not in placed and g.group_id not in split]

    # 补位: a mandatory group still out takes the place of optional visits on a crew with its
    # departments, or a crew of free inspectors; what it displaces tries again on other days
    displaced = [g for group in left_out() for g in make_room(group)]
    if displaced:
        run_batch(displaced)
    # 以多换少: a crew-day that could carry more legal duties gives a visit up for them; the visit
    # given up then takes any place left for it (补位), so each round places more than before
    for _ in range(TRADE_ROUNDS if trade else 0):
        taken, released = _trade_up(left_out(), crews_by_day, roster, township_of, onsite, travel, pinned)
        if not taken:
            break
        placed.update(taken)
        placed.difference_update(g.group_id for g in released)
        for group in released:
            make_room(group)
    all_crews = [c for day in sorted(crews_by_day) for c in crews_by_day[day]]
    for group in groups:
        if group.group_id not in placed and group.group_id not in split:
            unplaced.append((group, _why_unplaced(group, workdays, dataset, roster, onsite, travel, township_of)))
    routes = {c.crew_id: best_order(f"station:{c.township}", c.groups, onsite, travel) for c in all_crews}
    member_frame = pd.concat(members, ignore_index=True) if members else pd.DataFrame()
    return Schedule(all_crews, routes, member_frame, unplaced, seat_frame(roster.fills))


def kept_whole(group: VisitGroup, positive: set[str]) -> bool:
    """A joint mandatory visit that is never taken apart for want of a crew: a positive-list
    enterprise's capped visit (two would break 一年最多查一次), an appointment (its departments
    come together, as promised) or a visit 人工研判修正 shaped."""
    return (
        group.mandatory
        and len(group.depts) > 1
        and ((group.capped and group.uscc in positive) or group.appointment or bool(group.table.held[group.rows].any()))
    )


def _days_leaving_room(firms) -> dict[int, np.ndarray]:
    """Per group, the days of its window that leave every other group of its enterprise a day of
    its own, when that is not all of them (and not none: then any day will do).

    Removing one day can break that only when some group has fewer days than the enterprise has
    groups (Hall's condition), so most enterprises are skipped at once."""
    preferred: dict[int, np.ndarray] = {}
    for mine in firms:
        if len(mine) < 2 or all(len(g.days) >= len(mine) for g in mine):
            continue
        for group in mine:
            others = [g.days for g in mine if g is not group]
            if not distinct_days(others):
                continue  # they cannot all be placed whatever this group does
            needed = set().union(*(map(int, days) for days in others))
            keep = np.array(
                [d for d in group.days if d not in needed or distinct_days([days[days != d] for days in others])],
                dtype=int,
            )
            if 0 < len(keep) < len(group.days):
                preferred[group.group_id] = keep
    return preferred


def _longest_day_by_dept(roster: Roster) -> dict[str, int]:
    longest: dict[str, int] = {}
    for person, dept in roster.dept_of.items():
        longest[dept] = max(longest.get(dept, 0), day_minutes(roster.hours_per_day[person]))
    return longest


def _longest_day_by_delegation(roster: Roster) -> dict[str, int]:
    """Per department, the longest day of another department's inspector holding its delegation."""
    longest: dict[str, int] = {}
    for person, dept in roster.dept_of.items():
        for other in roster.delegations.get(person, ()):
            if other != dept:
                longest[other] = max(longest.get(other, 0), day_minutes(roster.hours_per_day[person]))
    return longest


def _free_persons(roster: Roster, date, available: set[str] | None = None) -> dict[str, int]:
    """Certified inspectors per department not on leave and with planned days left
    (``available``: those persons, when the caller has them already)."""
    free: dict[str, int] = defaultdict(int)
    for person, dept in roster.dept_of.items():
        if person in available if available is not None else roster.available(person, date):
            free[dept] += 1
    return free


def _days_left(roster: Roster) -> dict[str, int]:
    """Per department, its inspectors' planned days not yet used."""
    left: dict[str, int] = defaultdict(int)
    for person, dept in roster.dept_of.items():
        left[dept] += max(0, roster.max_days[person] - roster.days_used[person])
    return left


def _paced_budget(
    roster: Roster,
    free: dict[str, int],
    days_left: int,
    share: dict[str, float] | None = None,
    carried: dict[str, float] | None = None,
) -> tuple[dict[str, int], dict[str, float]]:
    """Persons a department may send today so its planned days last to the end of the horizon,
    and (with ``share``) its pace today in days: spread evenly over the days left, rounded up, or
    (``share``: today's part of the department's remaining need, from the capacity model) in
    proportion to when its work is due — then the whole part of today's pace and what earlier
    days left unspent (``carried``). Rounded up, a small department with a fifth of a day's pace
    would get a seat every day it has work, and spend its year on crews sent out for one check."""
    left = _days_left(roster)
    if share is None:
        return {dept: min(free.get(dept, 0), -(-left[dept] // max(days_left, 1))) for dept in left}, {}
    carried = carried or {}
    quota = {dept: left[dept] * share.get(dept, 1 / max(days_left, 1)) + carried.get(dept, 0.0) for dept in left}
    return {dept: min(free.get(dept, 0), math.floor(q + 1e-9)) for dept, q in quota.items()}, quota


def _carried_over(quota: dict[str, float], spent: dict[str, int]) -> dict[str, float]:
    """Per department, the part of a seat today's pace (``quota``, in days) leaves for tomorrow
    after the seats ``spent``: never a debt (urgent work may go beyond the pace), never a whole
    seat (a seat not taken today is still in the department's days left)."""
    return {d: max(0.0, q - max(spent.get(d, 0), math.floor(q + 1e-9))) for d, q in quota.items()}


def _join_staffed(
    crews: list[Crew], candidates: list[VisitGroup], roster: Roster, township_of, onsite, travel
) -> set[int]:
    """Add groups to crews already staffed that day: departments covered, no member in conflict,
    the longer day still within every member's hours. Returns the groups placed."""
    joined: set[int] = set()
    visited = {g.uscc for c in crews for g in c.groups}
    # a group only joins a crew of its township; members (so cover, conflicts, hours) stay fixed here
    by_township: dict[str, list[Crew]] = defaultdict(list)
    for crew in crews:
        by_township[crew.township].append(crew)
    own = {id(c): {roster.dept_of[m] for m in c.members} for c in crews}  # as members_cover
    delegated = {id(c): set().union(*(roster.delegations.get(m, frozenset()) for m in c.members)) for c in crews}
    conflicts = {id(c): set().union(*(roster.conflicts.get(m, ()) for m in c.members)) for c in crews}
    limits = {id(c): _day_limit(c, roster) for c in crews}
    for group in candidates:
        if group.uscc in visited:
            continue
        township = township_of[group.uscc]
        station = f"station:{township}"
        best, best_at, best_added = None, 0, None
        for crew in by_township.get(township, ()):
            mine, via = own[id(crew)], delegated[id(crew)]
            if not covers(mine, via, group.depts, group.delegable):
                continue
            if len(crew.members) < group.min_crew or group.uscc in conflicts[id(crew)]:
                continue
            at, added = _cheapest_insertion(station, crew.groups, group, onsite, travel)
            limit = limits[id(crew)]
            if crew.length_min + added <= limit and (best_added is None or added < best_added):
                best, best_at, best_added = crew, at, added
        if best is not None:
            best.groups.insert(best_at, group)
            best.length_min += best_added
            visited.add(group.uscc)
            joined.add(group.group_id)
    return joined


def _in_conflict(roster: Roster) -> dict[str, list[str]]:
    """Enterprise → the persons in conflict (回避) with it."""
    in_conflict: dict[str, list[str]] = defaultdict(list)
    for person, usccs in roster.conflicts.items():
        for uscc in usccs:
            in_conflict[uscc].append(person)
    return in_conflict


def _free_without_conflict(
    roster: Roster,
    date,
    candidates: list[VisitGroup],
    available: set[str] | None = None,
    in_conflict: dict[str, list[str]] | None = None,
) -> dict[tuple[str, str], int]:
    """Per (department, enterprise) of today's candidates: free inspectors with no conflict there
    (``available`` and ``in_conflict``: the day's free persons and ``_in_conflict``, when at hand)."""
    in_conflict = _in_conflict(roster) if in_conflict is None else in_conflict
    free_people = {p for p in roster.dept_of if roster.available(p, date)} if available is None else available
    per_dept: dict[str, int] = defaultdict(int)
    for person in sorted(free_people):
        per_dept[roster.dept_of[person]] += 1
    clear: dict[tuple[str, str], int] = {}
    for group in candidates:
        blocked: dict[str, int] = defaultdict(int)
        for person in in_conflict.get(group.uscc, ()):
            if person in roster.dept_of and person in free_people:
                blocked[roster.dept_of[person]] += 1
        for dept, n in per_dept.items():
            clear[(dept, group.uscc)] = n - blocked[dept]
    return clear


def _form_crews(
    day,
    date,
    candidates,
    urgency,
    free,
    budget,
    clear,
    township_of,
    onsite,
    travel,
    visited,
    first_number,
    delegates,
    must_delegate=lambda group: (),
    slack: dict[str, float] | None = None,
    join_only: frozenset[int] = frozenset(),
) -> list[Crew]:
    crews: dict[str, list[Crew]] = defaultdict(list)
    used: dict[str, int] = defaultdict(int)
    delegates_used: dict[tuple[str, str], int] = defaultdict(int)
    visited_today: set[str] = set(visited)
    budget_depts = sorted(budget)
    for group in candidates:
        if group.uscc in visited_today:
            continue  # one visit per enterprise a day; a later day may take this group
        township = township_of[group.uscc]
        station = f"station:{township}"
        best, best_at, best_added = None, 0, None
        for crew in crews[township]:
            if not crew.covers(group) or crew.size < group.min_crew:
                continue
            at, added = _cheapest_insertion(station, crew.groups, group, onsite, travel)
            if crew.length_min + added <= crew.limit_min and (best_added is None or added < best_added):
                best, best_at, best_added = crew, at, added
        if best is not None:
            best.groups.insert(best_at, group)
            best.length_min += best_added
            visited_today.add(group.uscc)
            continue
        if group.group_id in join_only:
            continue  # it may wait for a day with more to do (``hold_quiet``)
        allowance = free if urgency[group.group_id] <= URGENT_DAYS else budget
        must = must_delegate(group)
        seats, delegated = _delegate(group, allowance, used, delegates, delegates_used, must)
        if any(d not in delegated for d in must):
            continue  # no delegate free today for a department that cannot go itself
        while sum(seats.values()) < group.min_crew:
            # the second (third) inspector comes from whichever department has most people to spare
            # who may go there (回避), so a small department sends one person, not two; never one
            # whose own inspectors cannot take this visit (``must``). With the horizon's capacity
            # model: from the department with most planned days beyond its own work (``slack``),
            # among those with someone free, so a short department's days go to its own checks
            spare_of = [
                clear.get((d, group.uscc), 0) - used[d] - seats.get(d, 0) if d not in must else -math.inf
                for d in budget_depts
            ]
            if slack is not None and any(n > 0 for n in spare_of):
                spare_of = [
                    slack.get(d, 0.0) if n > 0 and used[d] + seats.get(d, 0) < allowance.get(d, 0) else -math.inf
                    for d, n in zip(budget_depts, spare_of)
                ]
            spare = budget_depts[spare_of.index(max(spare_of))]  # the first best, as max(key=...)
            seats[spare] = seats.get(spare, 0) + 1
        if any(used[d] + n > allowance.get(d, 0) for d, n in seats.items()):
            continue
        length = route_minutes(station, [group], onsite, travel)
        number = sum(len(c) for c in crews.values()) + first_number
        crew = Crew(
            f"{date:%Y%m%d}-{number:03d}",
            township,
            day,
            seats,
            [group],
            max(PLANNED_DAY_MIN, length),
            length,
            delegated=delegated,
        )
        crews[township].append(crew)
        for d, n in seats.items():
            used[d] += n
        for d, via in delegated.items():
            delegates_used[(via, d)] += 1
        visited_today.add(group.uscc)
    return [c for township in sorted(crews) for c in crews[township]]


def _delegate(
    group: VisitGroup,
    allowance: dict[str, int],
    used: dict[str, int],
    delegates: dict[tuple[str, str], int],
    delegates_used: dict[tuple[str, str], int],
    must: tuple[str, ...] = (),
):
    """Seats for a new crew: one per department, except that a department whose tasks here are
    all delegable is covered by another department's inspector holding its delegation (委托查)
    when it has nobody to send today or the crew would otherwise be larger than it must be.
    A department in ``must`` cannot go itself at all (no certified inspector, or none with a day
    long enough): its delegate may then come from a department the group does not have, which
    gets a seat of its own. Returns the seats and the delegated departments (department → seat
    department)."""
    seats = {d: 1 for d in group.depts}
    delegated: dict[str, str] = {}
    for dept in group.depts:
        short = dept in must or used[dept] + 1 > allowance.get(dept, 0)
        if not group.delegable(dept) or not (short or len(seats) > group.min_crew) or dept in delegated.values():
            continue  # (a seat that carries a delegation stays)
        vias = sorted(seats)
        if dept in must:
            vias += sorted({via for via, d in delegates if d == dept} - set(seats))
        for via in vias:
            if (
                via != dept
                and via not in delegated
                and delegates.get((via, dept), 0) > delegates_used[(via, dept)]
                and via not in delegated.values()
            ):
                delegated[dept] = via
                del seats[dept]
                seats.setdefault(via, 1)
                break
    return seats, delegated


def _free_delegates(roster: Roster, date, available: set[str] | None = None) -> dict[tuple[str, str], int]:
    """Free inspectors per (own department, department they hold a delegation for)."""
    count: dict[tuple[str, str], int] = defaultdict(int)
    for person, dept in roster.dept_of.items():
        if roster.delegations.get(person) and (
            person in available if available is not None else roster.available(person, date)
        ):
            for other in roster.delegations[person]:
                count[(dept, other)] += 1
    return count


def _cheapest_insertion(station: str, order: list[VisitGroup], group: VisitGroup, onsite, travel) -> tuple[int, int]:
    """Where in ``order`` the group adds the fewest minutes, and how many."""
    stops = [station] + [g.uscc for g in order] + [station]
    best_at, best_added = 0, None
    for at in range(len(stops) - 1):
        added = (
            travel.minutes(stops[at], group.uscc)
            + travel.minutes(group.uscc, stops[at + 1])
            - travel.minutes(stops[at], stops[at + 1])
            + onsite[group.group_id]
        )
        if best_added is None or added < best_added:
            best_at, best_added = at, added
    return best_at, best_added


def _requests(crews: list[Crew], date) -> pd.DataFrame:
    rows = []
    for crew in crews:
        length = crew.length_min
        usccs = tuple(sorted({g.uscc for g in crew.groups}))
        for dept, n in sorted(crew.seats.items()):
            needs = tuple(sorted(d for d, via in crew.delegated.items() if via == dept))
            if needs:  # one seat of this department carries the delegations
                rows.append((crew.crew_id, pd.Timestamp(date), dept, 1, needs, length, usccs))
            if n - bool(needs):
                rows.append((crew.crew_id, pd.Timestamp(date), dept, n - bool(needs), (), length, usccs))
    return pd.DataFrame(rows, columns=REQUEST_COLUMNS)


def _staff(crews: list[Crew], date, roster: Roster, seed: int) -> tuple[list[Crew], pd.DataFrame]:
    """Fill the day's seats; drop crews that cannot be fully staffed and fill the rest again."""
    days_used, assigned = dict(roster.days_used), set(roster.assigned[date])
    rounds, recorded = roster.rounds, len(roster.fills)
    while crews:
        staffing = staff_crews(_requests(crews, date), roster, seed)
        short = set(staffing.unfilled["crew_id"])
        if not short:
            people = staffing.members.groupby("crew_id")["inspector_id"].agg(tuple).to_dict()
            for crew in crews:
                crew.members = people.get(crew.crew_id, ())
            return crews, staffing.members
        roster.days_used.clear()
        roster.days_used.update(days_used)
        roster.assigned[date] = set(assigned)
        del roster.fills[recorded:]  # a try that left a crew short is no round of the plan
        roster.rounds = rounds
        crews = [c for c in crews if c.crew_id not in short]
    return [], pd.DataFrame()


def _mandatory_parts(group: VisitGroup, quiet: np.ndarray, years: np.ndarray) -> tuple[list[VisitGroup], np.ndarray]:
    """A joint visit whose mandatory checks found no crew, taken apart: one part per department.

    A department's part holds its mandatory tasks, on every day common to their own windows, and
    those of its optional tasks whose windows do not narrow that; its other optional tasks are
    left out (a visit of their own would spend another yearly cap). A department with only
    optional tasks keeps them as one part. Returns the parts and the rows left out."""
    table = group.table

    def own_days(rows: list[int]) -> np.ndarray:
        common = None
        for r in rows:
            days = np.arange(table.first_day[r], table.last_day[r] + 1)
            days = days[~quiet[days]] if table.capped[r] else days
            common = days if common is None else np.intersect1d(common, days, assume_unique=True)
        return common[years[common] == years[group.days[0]]]

    parts, left_out = [], []
    for dept in group.depts:
        mine = [r for r in group.rows.tolist() if table.dept_id[r] == dept]
        mandatory = [r for r in mine if table.mandatory[r]]
        if not mandatory:
            parts.append(VisitGroup(table, group.uscc, np.array(mine, dtype=np.int64), own_days(mine)))
            continue
        days = own_days(mandatory)
        joining = [r for r in mine if not table.mandatory[r] and np.isin(days, own_days([r])).all()]
        left_out += [r for r in mine if not table.mandatory[r] and r not in joining]
        parts.append(VisitGroup(table, group.uscc, np.array(mandatory + joining, dtype=np.int64), days))
    return parts, np.array(left_out, dtype=np.int64)


def _make_room(
    group: VisitGroup,
    workdays: tuple,
    crews_by_day: dict[int, list[Crew]],
    crews_formed: dict[int, int],
    roster: Roster,
    township_of,
    onsite,
    travel,
    seed: int,
    pinned: set[int] = frozenset(),
) -> tuple[list[VisitGroup], pd.DataFrame] | None:
    """Place a mandatory group that found no crew, at the least cost to optional work.

    On each day of its window, in order of preference: a new crew of inspectors still free that
    day; else a staffed crew of its township that has its departments and no conflict there,
    dropping as few optional visits from that crew's day as it takes to fit (the most valuable
    stay). Returns the optional groups dropped and any new members, or None if no day works.
    """
    township = township_of[group.uscc]
    station = f"station:{township}"
    best: tuple | None = None
    for day in (int(d) for d in group.days):
        crews = crews_by_day[day]
        if any(g.uscc == group.uscc for c in crews for g in c.groups):
            continue  # one visit per enterprise a day
        date = workdays[day]
        seats = {d: 1 for d in group.depts}
        free = _free_persons(roster, date)
        while free and sum(seats.values()) < group.min_crew:  # nobody free at all: no new crew today
            spare = max(sorted(free), key=lambda d: free[d] - seats.get(d, 0))
            seats[spare] = seats.get(spare, 0) + 1
        if sum(seats.values()) >= group.min_crew and all(free.get(d, 0) >= n for d, n in seats.items()):
            length = route_minutes(station, [group], onsite, travel)
            crew = Crew(
                f"{date:%Y%m%d}-{crews_formed[day] + 1:03d}",
                township,
                day,
                seats,
                [group],
                max(PLANNED_DAY_MIN, length),
                length,
            )
            crews_formed[day] += 1
            staffed, day_members = _staff([crew], date, roster, seed)
            if staffed:
                crews_by_day[day] += staffed
                return [], day_members
        for crew in crews:
            if crew.township != township or not _may_take(crew, group, roster):
                continue
            limit = _day_limit(crew, roster)
            keep = [g for g in crew.groups if g.mandatory or g.group_id in pinned] + [group]
            if route_minutes(station, best_order(station, keep, onsite, travel), onsite, travel) > limit:
                continue
            optional = sorted(
                (g for g in crew.groups if not g.mandatory and g.group_id not in pinned),
                key=lambda g: (g.value(), -g.group_id),
                reverse=True,
            )
            for g in optional:  # the most valuable optional visits stay while the day allows
                trial = best_order(station, keep + [g], onsite, travel)
                if route_minutes(station, trial, onsite, travel) <= limit:
                    keep.append(g)
            dropped = [g for g in optional if g not in keep]
            cost = (sum(g.n_tasks for g in dropped), day, crew.crew_id)
            if best is None or cost < best[0]:
                best = (cost, crew, keep, dropped)
    if best is None:
        return None
    _, crew, keep, dropped = best
    crew.groups = best_order(station, keep, onsite, travel)
    crew.length_min = route_minutes(station, crew.groups, onsite, travel)
    return dropped, pd.DataFrame()


def _trade_up(
    out: list[VisitGroup],
    crews_by_day: dict[int, list[Crew]],
    roster: Roster,
    township_of,
    onsite,
    travel,
    pinned: set[int] = frozenset(),
) -> tuple[set[int], list[VisitGroup]]:
    """Staffed crew-days that could carry more legal duties than they do (以多换少).

    For each crew-day, the open mandatory groups ``out`` it may take — of its township, on a day
    of their window, their enterprise not visited that day, covered by its members (委托查
    included), no member in conflict there, the crew large enough — are added where the day
    allows, most legal duties per on-site minute first. Then each of its visits that is not
    kept (a re-optimisation's, an appointment, one shaped by 人工研判修正) is tried out: the
    day without it, filled again the same way, replaces it when that places more (mandatory
    tasks, then tasks, then priority) — or, when the visit fits another crew-day of its
    township as that day stands (a day of its window, its enterprise not visited then), when
    the day without it places anything more: the visit moves there and is not lost. Under
    binding staff the constructive pass fills a day in order of urgency, and a long check can
    hold the minutes two short legal duties need. Returns the groups placed and the groups
    given up (not yet placed elsewhere)."""
    by_place: dict[tuple[str, int], list[VisitGroup]] = defaultdict(list)
    for group in sorted(out, key=lambda g: (-g.value()[0] / max(1, onsite[g.group_id]), -g.n_tasks, g.group_id)):
        for day in group.days.tolist():
            by_place[(township_of[group.uscc], day)].append(group)
    waiting = {g.group_id for g in out}
    taken: set[int] = set()
    released: list[VisitGroup] = []
    visited_on: dict[int, set[str]] = defaultdict(set)
    crews_at: dict[tuple[str, int], list[Crew]] = defaultdict(list)
    for day, crews in crews_by_day.items():
        for crew in crews:
            crews_at[(crew.township, day)].append(crew)
            visited_on[day].update(g.uscc for g in crew.groups)
    limits = {crew.crew_id: _day_limit(crew, roster) for crews in crews_by_day.values() for crew in crews}

    def host(group: VisitGroup, away: Crew):
        """Another staffed crew-day the group fits on as that day stands (its first, in day and
        crew order), with the place in its route and the minutes it adds; None if there is none."""
        station = f"station:{away.township}"
        for day in group.days.tolist():
            if day != away.day and group.uscc in visited_on[day]:
                continue
            for crew in crews_at.get((away.township, day), ()):
                if crew is away or not _may_take(crew, group, roster):
                    continue
                at, extra = _cheapest_insertion(station, crew.groups, group, onsite, travel)
                if crew.length_min + extra <= limits[crew.crew_id]:
                    return crew, at, extra
        return None

    for day in sorted(crews_by_day):
        visited = visited_on[day]
        for crew in crews_by_day[day]:
            here = [
                g
                for g in by_place.get((crew.township, day), ())
                if g.group_id in waiting and g.uscc not in visited and _may_take(crew, g, roster)
            ]
            if not here:
                continue
            station = f"station:{crew.township}"
            limit = limits[crew.crew_id]
            order, added = _fill(station, list(crew.groups), here, limit, onsite, travel)
            best = (_value_of(added), order, added, None, None)
            for given in crew.groups:
                if given.group_id in pinned or given.appointment or given.table.held[given.rows].any():
                    continue
                rest = [g for g in crew.groups if g is not given]
                order, added = _fill(station, rest, here, limit, onsite, travel)
                if not added:
                    continue
                value = _value_of(added)
                gain, moved = tuple(a - b for a, b in zip(value, given.value())), None
                if value > best[0]:  # moved to another crew-day, the visit given up is not lost
                    moved = host(given, crew)
                    if moved is not None:
                        gain = value
                if gain > best[0]:
                    best = (gain, order, added, given, moved)
            gain, order, added, given, moved = best
            if gain <= (0, 0, 0):
                continue
            crew.groups = order
            crew.length_min = route_minutes(station, order, onsite, travel)
            for group in added:
                waiting.discard(group.group_id)
                taken.add(group.group_id)
                visited.add(group.uscc)
            if given is None:
                continue
            visited.discard(given.uscc)
            if moved is None:
                released.append(given)
                continue
            other, at, extra = moved
            other.groups.insert(at, given)
            other.length_min += extra
            visited_on[other.day].add(given.uscc)
    return taken, released


def _fill(station: str, order: list[VisitGroup], candidates: list[VisitGroup], limit: int, onsite, travel):
    """``order`` with as many of ``candidates`` (taken in their order) as its day holds, each at
    its cheapest place, one visit per enterprise; returns the new order and the groups added."""
    length = route_minutes(station, order, onsite, travel)
    here = {g.uscc for g in order}
    added = []
    for group in candidates:
        if group.uscc in here:
            continue
        at, extra = _cheapest_insertion(station, order, group, onsite, travel)
        if length + extra <= limit:
            order.insert(at, group)
            length += extra
            here.add(group.uscc)
            added.append(group)
    return order, added


def _value_of(groups: list[VisitGroup]) -> tuple[int, int, int]:
    """Mandatory tasks, tasks and priority of ``groups`` together (``VisitGroup.value``)."""
    return tuple(sum(part) for part in zip(*(g.value() for g in groups), (0, 0, 0)))


def _why_unplaced(
    group: VisitGroup, workdays: tuple, dataset: Dataset, roster: Roster, onsite, travel, township_of
) -> Reason:
    """Why no crew took the group: per department, what kept its inspectors over the window's days."""
    dates = [workdays[int(d)] for d in group.days]
    window = f"{dates[0].isoformat()}…{dates[-1].isoformat()}"
    length = route_minutes(f"station:{township_of[group.uscc]}", [group], onsite, travel)
    details = []
    for dept in group.depts:
        people = [p for p, d in roster.dept_of.items() if d == dept]
        obstacles: dict[str, int] = defaultdict(int)
        for date in dates:
            for person in people:
                if date in roster.leave.get(person, ()):
                    obstacles["leave"] += 1
                elif group.uscc in roster.conflicts.get(person, ()):
                    obstacles["conflict"] += 1
                elif day_minutes(roster.hours_per_day[person]) < length:
                    obstacles["short_day"] += 1
                elif person in roster.assigned[date]:
                    obstacles["busy"] += 1
                elif roster.days_used[person] >= roster.max_days[person]:
                    obstacles["max_days"] += 1
                else:
                    obstacles["free"] += 1
        spread = [msg(f"obstacle.{why}", n=n) for why, n in sorted(obstacles.items(), key=lambda kv: (-kv[1], kv[0]))]
        details.append(
            msg(
                "reason.staff_capacity.dept",
                dept=Dept(dept),
                people=len(people),
                days=len(dates),
                obstacles=listing(spread),
            )
        )
    return reason(
        "staff_capacity",
        "reason.staff_capacity",
        depts=listing(Dept(d) for d in group.depts),
        days=len(dates),
        window=window,
        details=listing(details, "clauses"),
    )


def placed_value(schedule: Schedule) -> tuple[int, int, int, int]:
    """A schedule's goals in order: mandatory tasks placed, tasks placed, their priority, fewest visits."""
    groups = [g for crew in schedule.crews for g in crew.groups]
    return (*_value_of(groups), -len(groups))


def must_delegate_of(roster: Roster, travel: TravelTimes, township_of: dict[str, str], onsite: dict[int, int]):
    """``must_delegate(group)``: the group's departments none of whose own inspectors can take it
    alone (none certified, or no day long enough for its trip and stay): only a delegate can."""
    longest = _longest_day_by_dept(roster)

    def must_delegate(group: VisitGroup) -> tuple[str, ...]:
        alone = route_minutes(f"station:{township_of[group.uscc]}", [group], onsite, travel)
        return tuple(d for d in group.depts if longest.get(d, 0) < alone)

    return must_delegate
