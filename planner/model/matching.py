"""随机选派: which persons fill the inspector seats of each crew-day, drawn at random.

The optimiser decides how many inspectors of which department each crew-day needs (its
*seats*); this module decides who. Each department fills its own seats, as in practice. For
every working day, the seats and the eligible inspectors form a bipartite graph — certified,
not on leave, not past ``max_days``, day long enough, no conflict (回避) with any enterprise of
the crew's route, holding the delegations (委托) the seat needs — and a min-cost max-flow fills
as many seats as possible at least cost, where the cost ranks candidates lexicographically:

1. rotation: not the inspector who last inspected one of the route's enterprises, when another
   can go;
2. fair spread: fewer planned days so far first;
3. lottery: a per-person, per-day number from a keyed hash of the seed, the date and the
   inspector id, so the choice among equally loaded candidates is uniform, reproducible and
   independent of file row order.

Every filled seat records how many candidates it had and the winner's lottery number.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from ortools.graph.python import min_cost_flow

from planner.rules.conflicts import by_inspector
from planner.rules.crews import certified
from planner.rules.staff_days import day_minutes, leave_days, max_days

if TYPE_CHECKING:
    from planner.dataset import Dataset

ALGORITHM = "planner-seat-lottery-v1"
_ROTATION_COST = 10**12
_DAY_COST = 10**7
_LOTTERY_RANGE = 10**6

REQUEST_COLUMNS = ["crew_id", "date", "dept_id", "seats", "needs_delegation", "day_minutes", "usccs"]
#: seats.parquet, the lottery record: per round of seats (one ``assign_seats`` call), per request, its
#: candidates and their planned days when the round was filled, so every seat's choice can be replayed
SEAT_COLUMNS = [
    "round",
    "date",
    "crew_id",
    "dept_id",
    "seats",
    "needs_delegation",
    "day_minutes",
    "usccs",
    "eligible",
    "days_before",
]
MEMBER_COLUMNS = ["crew_id", "date", "inspector_id", "dept_id", "candidates", "lottery", "repeat_visit"]


def seat_frame(rows: list[tuple]) -> pd.DataFrame:
    """seats.parquet's frame of lottery record rows (empty, typed, for a plan without new seats)."""
    frame = pd.DataFrame(rows, columns=SEAT_COLUMNS)
    for column in ("needs_delegation", "usccs", "eligible", "days_before"):
        frame[column] = [list(v) for v in frame[column]]
    return frame.astype({"round": "int64", "seats": "int64", "day_minutes": "int64"})


def lottery(seed: int, day: dt.date, inspector_id: str) -> int:
    """The inspector's lottery number for one day, in [0, 10**6)."""
    digest = hashlib.blake2b(f"{ALGORITHM}|{seed}|{day.isoformat()}|{inspector_id}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "little") % _LOTTERY_RANGE


@dataclass
class Roster:
    """Who may inspect when: certification, leave, conflicts, delegations and day budgets."""

    dept_of: dict[str, str]
    hours_per_day: dict[str, float]
    max_days: dict[str, int]
    delegations: dict[str, frozenset[str]]
    leave: dict[str, set[dt.date]]
    conflicts: dict[str, frozenset[str]]  # inspector → enterprises
    last_inspectors: dict[str, frozenset[str]]  # enterprise → who inspected it last
    days_used: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    assigned: dict[dt.date, set[str]] = field(default_factory=lambda: defaultdict(set))  # on a crew that day
    #: the lottery record: one SEAT_COLUMNS row per request of every round filled so far
    fills: list[tuple] = field(default_factory=list)
    rounds: int = 0  # the number the next round of seats gets

    def available(self, inspector: str, day: dt.date) -> bool:
        """Not on leave, planned days left, not yet on a crew that day."""
        return (
            day not in self.leave.get(inspector, ())
            and self.days_used[inspector] < self.max_days[inspector]
            and inspector not in self.assigned[day]
        )

    @classmethod
    def from_dataset(cls, dataset: Dataset, working_days: int, planned_share: float) -> Roster:
        """Certified inspectors only: without 执法证 nobody is sent."""
        staff = certified(dataset.inspectors).sort_values("inspector_id")
        history = dataset.history.dropna(subset=["inspector_id"])
        latest = history[history["date"] == history.groupby("uscc")["date"].transform("max")]
        return cls(
            dept_of=dict(zip(staff["inspector_id"], staff["dept_id"])),
            hours_per_day=dict(zip(staff["inspector_id"], staff["hours_per_day"])),
            max_days=max_days(staff, planned_share, working_days),
            delegations={i: frozenset(d) for i, d in zip(staff["inspector_id"], staff["delegated_depts"])},
            leave=leave_days(dataset.leave),
            conflicts=by_inspector(dataset.conflicts),
            last_inspectors=latest.groupby("uscc")["inspector_id"].agg(frozenset).to_dict(),
        )

    def why_not(self, inspector: str, day: dt.date, request: Mapping, busy: set[str]) -> str | None:
        """Why ``inspector`` cannot take a seat of ``request`` on ``day``: a ``WHY_NOT`` code
        (None: eligible)."""
        if self.dept_of[inspector] != request["dept_id"]:
            return "dept"
        if day in self.leave.get(inspector, ()):
            return "leave"
        if inspector in busy or inspector in self.assigned[day]:
            return "busy"
        if self.days_used[inspector] >= self.max_days[inspector]:
            return "max_days"
        if day_minutes(self.hours_per_day[inspector]) < request["day_minutes"]:
            return "hours"
        if not set(request["needs_delegation"]) <= self.delegations[inspector]:
            return "delegation"
        if self.conflicts.get(inspector, frozenset()) & set(request["usccs"]):
            return "conflict"
        return None


#: ``Roster.why_not``'s codes, in the words of an unfilled seat's reason (``planner verify``
#: says them from the catalogue, ``verify.seats.why.<code>``)
WHY_NOT = {
    "dept": "other department",
    "leave": "on leave",
    "busy": "already on another crew",
    "max_days": "max_days used",
    "hours": "day too long for their hours_per_day",
    "delegation": "no delegation",
    "conflict": "conflict (回避)",
}


@dataclass(frozen=True)
class Staffing:
    """Members of each crew-day and the seats nobody could fill, with the reasons."""

    members: pd.DataFrame  # MEMBER_COLUMNS
    unfilled: pd.DataFrame  # crew_id, date, dept_id, missing, reason


def staff_crews(requests: pd.DataFrame, roster: Roster, seed: int) -> Staffing:
    """Fill the seats of ``requests`` (REQUEST_COLUMNS) day by day; updates ``roster.days_used``."""
    members, unfilled = [], []
    for day, todays in requests.sort_values(["date", "crew_id", "dept_id"]).groupby("date", sort=True):
        day = pd.Timestamp(day).date()
        filled, missing = _fill_day(day, todays.reset_index(drop=True), roster, seed)
        members += filled
        unfilled += missing
    return Staffing(
        pd.DataFrame(members, columns=MEMBER_COLUMNS),
        pd.DataFrame(unfilled, columns=["crew_id", "date", "dept_id", "missing", "reason"]),
    )


def _fill_day(day: dt.date, requests: pd.DataFrame, roster: Roster, seed: int) -> tuple[list, list]:
    """One day's seats (see ``assign_seats``); records the round in ``roster.fills``."""
    people = sorted(roster.dept_of)
    by_dept: dict[str, list[str]] = defaultdict(list)
    for person in people:
        by_dept[roster.dept_of[person]].append(person)
    rows = requests.to_dict("records")  # plain dicts: Series access dominated the city's run
    # the person-day checks of Roster.why_not (leave, on a crew, max_days) hold for the whole day
    assigned = roster.assigned[day]
    free = {
        p
        for p in people
        if day not in roster.leave.get(p, ()) and p not in assigned and roster.days_used[p] < roster.max_days[p]
    }
    eligible = []
    for request in rows:
        minutes, needs, usccs = request["day_minutes"], set(request["needs_delegation"]), set(request["usccs"])
        eligible.append(
            [
                p
                for p in by_dept[request["dept_id"]]
                if p in free
                and not day_minutes(roster.hours_per_day[p]) < minutes
                and needs <= roster.delegations[p]
                and not roster.conflicts.get(p, frozenset()) & usccs
            ]
        )
    days_before = [[roster.days_used[p] for p in these] for these in eligible]
    filled, taken = assign_seats(day, rows, eligible, days_before, people, roster.last_inspectors, seed)
    busy = {row[2] for row in filled}
    for person in busy:
        roster.days_used[person] += 1
    roster.assigned[day] |= busy
    for request, these, days in zip(rows, eligible, days_before):
        roster.fills.append(
            (
                roster.rounds,
                day,
                request["crew_id"],
                request["dept_id"],
                int(request["seats"]),
                tuple(request["needs_delegation"]),
                int(request["day_minutes"]),
                tuple(request["usccs"]),
                tuple(these),
                tuple(days),
            )
        )
    roster.rounds += 1
    missing = []
    for r, request in enumerate(rows):
        short = int(request["seats"]) - taken[r]
        if short:
            missing.append((request["crew_id"], day, request["dept_id"], short, _explain(day, request, roster, busy)))
    return filled, missing


def assign_seats(
    day: dt.date,
    rows: list[Mapping],
    eligible: list[list[str]],
    days_before: list[list[int]],
    people: list[str],
    last_inspectors: Mapping[str, frozenset[str]],
    seed: int,
) -> tuple[list, dict[int, int]]:
    """One round of 随机选派 as a min-cost max-flow: source → seat → inspector → sink, capacity 1.

    ``rows`` are the round's requests (REQUEST_COLUMNS), ``eligible[r]`` request r's candidates
    and ``days_before[r]`` their planned days so far; ``people`` (every certified inspector,
    sorted) numbers the nodes. The scheduler fills its seats with it, and ``planner verify``
    replays a plan's lottery record (seats.parquet) through it: the same graph, the same flow.
    Returns the filled seats (MEMBER_COLUMNS rows) and the seats taken per request."""
    person_node = {p: i for i, p in enumerate(people)}
    n_slots = int(sum(int(row["seats"]) for row in rows))
    source, sink = len(people) + n_slots, len(people) + n_slots + 1
    slot_node = len(people) - 1
    tickets: dict[str, int] = {}
    # arcs in the order they were once added one by one, added in one call (same graph, same flow)
    tails, heads, costs = [], [], []
    seat_arcs, arcs = [], []  # position of each seat → person arc, and (request, person, ticket, repeat, candidates)
    for r, request in enumerate(rows):
        these = eligible[r]
        last = set().union(*(last_inspectors.get(u, frozenset()) for u in request["usccs"]))  # rotation
        options = []
        for person, days in zip(these, days_before[r]):  # the same for every seat of the request
            repeat = person in last
            if person not in tickets:
                tickets[person] = lottery(seed, day, person)
            ticket = tickets[person]
            cost = _ROTATION_COST * repeat + _DAY_COST * int(days) + ticket
            options.append((person_node[person], cost, (r, person, ticket, repeat, len(these))))
        for _ in range(int(request["seats"])):
            slot_node += 1
            tails.append(source)
            heads.append(slot_node)
            costs.append(0)
            for node, cost, arc in options:
                seat_arcs.append(len(tails))
                arcs.append(arc)
                tails.append(slot_node)
                heads.append(node)
                costs.append(cost)
    for person in people:
        tails.append(person_node[person])
        heads.append(sink)
        costs.append(0)
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.array(tails, dtype=np.int32),
        np.array(heads, dtype=np.int32),
        np.ones(len(tails), dtype=np.int64),
        np.array(costs, dtype=np.int64),
    )
    flow.set_node_supply(source, n_slots)
    flow.set_node_supply(sink, -n_slots)
    if n_slots and flow.solve_max_flow_with_min_cost() != flow.OPTIMAL:
        raise RuntimeError(f"seat assignment on {day} failed")  # cannot happen: the graph is valid
    filled, taken = [], defaultdict(int)
    used = flow.flows(np.array(seat_arcs, dtype=np.int32)).tolist() if seat_arcs else []  # no seat: never solved
    for (r, person, ticket, repeat, n_candidates), used_arc in zip(arcs, used):
        if used_arc:
            request = rows[r]
            filled.append((request["crew_id"], day, person, request["dept_id"], n_candidates, ticket, repeat))
            taken[r] += 1
    return filled, taken


def _explain(day: dt.date, request: Mapping, roster: Roster, busy: set[str]) -> str:
    """Why a department's seat stayed empty: the count of its inspectors per obstacle."""
    reasons: dict[str, int] = defaultdict(int)
    for person in sorted(roster.dept_of):
        if roster.dept_of[person] == request["dept_id"]:
            why = roster.why_not(person, day, request, busy)
            reasons[WHY_NOT[why] if why else "eligible but not assigned"] += 1
    if not reasons:
        return f"{request['dept_id']} has no certified inspector"
    detail = ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
    return f"no inspector of {request['dept_id']} is free on {day.isoformat()} ({detail})"
