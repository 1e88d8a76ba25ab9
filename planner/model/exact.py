"""The whole schedule as one CP-SAT model: exact for small counties, a reference for larger ones.

For a county small enough, ``exact_schedule`` decides every crew-day at once: which visit
groups go on which day in which crew, and which inspectors form each crew, under

- each group at most once, on one of its feasible days; one visit per enterprise a day;
- a crew-day in one township, at least two inspectors (``rules.crews.min_crew`` of each of its
  groups), an inspector of each of its groups' departments or (委托查) a delegate for a
  delegable one, nobody in conflict (回避) with an enterprise of its route;
- an inspector on one crew a day, never on leave, at most ``max_days`` days (less those fixed
  crews already spend);
- a crew-day within the 7 planned hours — a group longer than that alone — and every member's
  ``hours_per_day``, its road counted as every group's own round trip from the station (no
  route is longer: a route between them is never longer than going back to the station in
  between), so any order the route engine then picks fits;

and maximises, in order, mandatory tasks, tasks, their priority, then fewest inspector-days.
Who fills each seat is then drawn by the seat lottery (``matching``, 随机选派) among those the
optimum allows; should the lottery's choice not fit the rest of the model's days, the model's
own choice is kept, with its lottery numbers recorded. One search worker, a deterministic
limit: the same answer on any machine.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import TYPE_CHECKING

import pandas as pd
from ortools.sat.python import cp_model

from planner.model.matching import MEMBER_COLUMNS, lottery, seat_frame
from planner.model.schedule import PLANNED_DAY_MIN, Crew, Schedule, _staff, best_order, route_minutes
from planner.rules.staff_days import day_minutes

if TYPE_CHECKING:
    from planner.model.groups import VisitGroup
    from planner.model.matching import Roster
    from planner.travel import TravelTimes

#: the exact model is built for counties of at most this many visit groups, whose (group, day)
#: pairs times crew slots stay under ``EXACT_SIZE``: a handful of enterprises, where it proves
#: its optimum in moments (larger ones are the capacity LP's and the constructive scheduler's)
EXACT_GROUPS = 40
EXACT_SIZE = 5_000
#: its search, in seconds of the solver's deterministic clock
EXACT_SECONDS = 10.0


def exact_schedule(
    groups: list[VisitGroup],
    workdays,
    roster: Roster,
    travel: TravelTimes,
    township_of: dict[str, str],
    onsite_mode: str,
    seed: int,
    why,
    hint: Schedule | None = None,
    seconds: float = EXACT_SECONDS,
    size: int = EXACT_SIZE,
) -> Schedule | None:
    """The optimal schedule of ``groups`` (module doc), or None when the county is too large for
    the model (``size``) or the solver finds nothing in time. ``why(group, roster)``: the reason
    a group the schedule leaves out is given (``roster``: as the schedule leaves it)."""
    if len(groups) > EXACT_GROUPS:
        return None
    people = sorted(roster.dept_of)
    onsite = {g.group_id: g.onsite_min(onsite_mode) for g in groups}
    alone = {g.group_id: route_minutes(f"station:{township_of[g.uscc]}", [g], onsite, travel) for g in groups}
    by_day_town: dict[tuple[int, str], list[VisitGroup]] = defaultdict(list)
    for g in groups:
        for day in g.days.tolist():
            by_day_town[(day, township_of[g.uscc])].append(g)
    free = {
        (p, d): workdays[d] not in roster.leave.get(p, ()) and p not in roster.assigned[workdays[d]]
        for p in people
        for d in {d for d, _ in by_day_town}
    }
    slots = {}
    for (day, town), mine in by_day_town.items():
        people_free = sum(free[(p, day)] for p in people)
        slots[(day, town)] = min(len(mine), people_free // 2)
    if sum(len(m) * k for (key, m), k in zip(by_day_town.items(), (slots[key] for key in by_day_town))) > size:
        return None
    model = cp_model.CpModel()
    x: dict[tuple[int, int, int], cp_model.IntVar] = {}  # group, day, crew slot
    y: dict[tuple[str, int, str, int], cp_model.IntVar] = {}  # person, day, township, crew slot
    used: dict[tuple[int, str, int], cp_model.IntVar] = {}
    for (day, town), mine in sorted(by_day_town.items()):
        for c in range(slots[(day, town)]):
            used[(day, town, c)] = model.new_bool_var("")
            for g in mine:
                x[(g.group_id, day, c)] = model.new_bool_var("")
            for p in people:
                if free[(p, day)]:
                    y[(p, day, town, c)] = model.new_bool_var("")
    of_group = defaultdict(list)
    of_firm_day = defaultdict(list)
    for (g, _day, _slot), var in x.items():
        of_group[g].append(var)
    group_of = {g.group_id: g for g in groups}
    for (g, day, _slot), var in x.items():
        of_firm_day[(group_of[g].uscc, day)].append(var)
    for items in of_group.values():
        model.add_at_most_one(items)
    for items in of_firm_day.values():
        model.add_at_most_one(items)
    per_person_day = defaultdict(list)
    per_person = defaultdict(list)
    for (p, day, _town, _slot), var in y.items():
        per_person_day[(p, day)].append(var)
        per_person[p].append(var)
    for items in per_person_day.values():
        model.add_at_most_one(items)
    for p, items in per_person.items():
        model.add(sum(items) <= max(0, roster.max_days[p] - roster.days_used[p]))
    holders = defaultdict(set)
    for p in people:
        for k in roster.delegations.get(p, ()):
            if k != roster.dept_of[p]:
                holders[k].add(p)
    for (day, town, c), on in used.items():
        crew = [(p, y[(p, day, town, c)]) for p in people if (p, day, town, c) in y]
        mine = [(g, x[(g.group_id, day, c)]) for g in by_day_town[(day, town)]]
        members = sum(var for _, var in crew)
        model.add(members >= 2 * on)
        model.add(members <= len(crew) * on)
        length = sum(
            (onsite[g.group_id] + travel.minutes(f"station:{town}", g.uscc) + travel.minutes(g.uscc, f"station:{town}"))
            * var
            for g, var in mine
        )
        for g, var in mine:
            model.add_implication(var, on)
            model.add(members >= g.min_crew).only_enforce_if(var)
            for k in g.depts:
                able = [v for p, v in crew if roster.dept_of[p] == k or (p in holders[k] and g.delegable(k))]
                model.add(sum(able) >= 1).only_enforce_if(var)
            if alone[g.group_id] > PLANNED_DAY_MIN:  # a longer visit is the crew's whole day
                model.add(sum(v for h, v in mine if h is not g) == 0).only_enforce_if(var)
            for p, v in crew:
                if g.uscc in roster.conflicts.get(p, ()) or day_minutes(roster.hours_per_day[p]) < alone[g.group_id]:
                    model.add_bool_or([v.Not(), var.Not()])
        long_day = max([PLANNED_DAY_MIN] + [alone[g.group_id] for g, _ in mine])
        model.add(
            length
            <= PLANNED_DAY_MIN
            + (long_day - PLANNED_DAY_MIN) * sum(var for g, var in mine if alone[g.group_id] > PLANNED_DAY_MIN)
        )
        for p, v in crew:
            hours = day_minutes(roster.hours_per_day[p])
            if hours < long_day:
                model.add(length <= hours).only_enforce_if(v)
    value = {g.group_id: g.value() for g in groups}
    n_tasks = sum(v[1] for v in value.values())
    person_days = len(y) + 1
    per_priority = person_days
    per_task = per_priority * (sum(v[2] for v in value.values()) + 1)
    per_mandatory = per_task * (n_tasks + 1)
    model.maximize(
        sum(
            (per_mandatory * value[g][0] + per_task * value[g][1] + per_priority * value[g][2]) * var
            for (g, _, _), var in x.items()
        )
        - sum(y.values())
    )
    if hint is not None:
        _hint(model, hint, x, y, township_of)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = seconds
    solver.parameters.catch_sigint_signal = False
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    schedule, placed = _realise(solver, x, y, used, by_day_town, workdays, roster, onsite, travel, seed, holders)
    schedule.unplaced.extend((g, why(g, roster)) for g in groups if g.group_id not in placed)
    return schedule


def _hint(model, schedule: Schedule, x, y, township_of) -> None:
    """The constructive schedule as the search's first answer: its crew-days in slot order."""
    slot: dict[tuple[int, str], int] = defaultdict(int)
    for crew in sorted(schedule.crews, key=lambda c: (c.day, c.township, c.crew_id)):
        c = slot[(crew.day, crew.township)]
        slot[(crew.day, crew.township)] += 1
        for g in crew.groups:
            if (g.group_id, crew.day, c) in x:
                model.add_hint(x[(g.group_id, crew.day, c)], 1)
        for p in crew.members:
            if (p, crew.day, crew.township, c) in y:
                model.add_hint(y[(p, crew.day, crew.township, c)], 1)


def _realise(
    solver, x, y, used, by_day_town, workdays, roster: Roster, onsite, travel, seed: int, holders
) -> tuple[Schedule, set[int]]:
    """Crews from the model's answer; persons by the seat lottery where it fits, else the model's."""
    crews_by_day: dict[int, list[Crew]] = defaultdict(list)
    chosen: dict[str, tuple[str, ...]] = {}
    placed = set()
    for (day, town, c), on in sorted(used.items()):
        if not solver.boolean_value(on):
            continue
        groups = [g for g in by_day_town[(day, town)] if solver.boolean_value(x[(g.group_id, day, c)])]
        members = tuple(
            p for p in sorted(roster.dept_of) if (p, day, town, c) in y and solver.boolean_value(y[(p, day, town, c)])
        )
        if not groups:
            continue
        station = f"station:{town}"
        order = best_order(station, groups, onsite, travel)
        seats: dict[str, int] = defaultdict(int)
        for p in members:
            seats[roster.dept_of[p]] += 1
        delegated = {}
        own = set(seats)
        for g in groups:
            for k in g.depts:
                if k not in own and k not in delegated:
                    via = next(roster.dept_of[p] for p in members if p in holders[k])
                    delegated[k] = via
        length = route_minutes(station, order, onsite, travel)
        crew = Crew(
            f"{workdays[day]:%Y%m%d}-{len(crews_by_day[day]) + 1:03d}",
            town,
            day,
            dict(seats),
            order,
            max(PLANNED_DAY_MIN, length),
            length,
            members,
            delegated,
        )
        crews_by_day[day].append(crew)
        chosen[crew.crew_id] = members
        placed.update(g.group_id for g in groups)
    all_crews = [c for day in sorted(crews_by_day) for c in crews_by_day[day]]
    trial = copy.deepcopy(roster)
    frames = []
    for day in sorted(crews_by_day):  # the seat lottery, day by day, on a copy of the roster
        crews = crews_by_day[day]
        staffed, members = _staff([_copy(c) for c in crews], workdays[day], trial, seed)
        if len(staffed) < len(crews):
            break
        frames.append((crews, staffed, members))
    if len(frames) == len(crews_by_day):
        for crews, staffed, _ in frames:
            for crew, drawn in zip(crews, staffed):
                crew.members = drawn.members
        roster.days_used, roster.assigned = trial.days_used, trial.assigned
        roster.fills, roster.rounds = trial.fills, trial.rounds
        members = [m for _, _, m in frames]
    else:  # the lottery's choice does not fit every day: the model's own, with its lottery numbers
        rows = []
        for crew in all_crews:
            date = workdays[crew.day]
            for p in crew.members:
                roster.days_used[p] += 1
                roster.assigned[date].add(p)
                rows.append((crew.crew_id, pd.Timestamp(date), p, roster.dept_of[p], 1, lottery(seed, date, p), False))
        members = [pd.DataFrame(rows, columns=MEMBER_COLUMNS)]
    frame = pd.concat(members, ignore_index=True) if members else pd.DataFrame(columns=MEMBER_COLUMNS)
    schedule = Schedule(all_crews, {c.crew_id: c.groups for c in all_crews}, frame, [], seat_frame(roster.fills))
    return schedule, placed


def _copy(crew: Crew) -> Crew:
    return Crew(
        crew.crew_id,
        crew.township,
        crew.day,
        dict(crew.seats),
        list(crew.groups),
        crew.limit_min,
        crew.length_min,
        (),
        dict(crew.delegated),
    )
