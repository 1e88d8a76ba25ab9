"""以多换少 (``schedule._trade_up``) on crew-days made by hand: what a staffed crew-day takes,
gives up and moves.

Every enterprise is at its township's station (no road), every check is an SJ check of a crew
of two, and the crews are an SJ and an XF inspector with 8-hour days, planned within 7 hours.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.model.groups import VisitGroup
from planner.model.schedule import Crew, _trade_up, _value_of, route_minutes

ROSTER = SimpleNamespace(
    dept_of={"SJ1": "SJ", "XF1": "XF", "SJ2": "SJ", "XF2": "XF"},
    delegations={},
    conflicts={},
    hours_per_day=dict.fromkeys(["SJ1", "XF1", "SJ2", "XF2"], 8.0),
)
TRAVEL = SimpleNamespace(minutes=lambda a, b: 0)


def checks(*specs: tuple[int, list[int]], mandatory=None, firms=None) -> list[VisitGroup]:
    """One check per spec (its minutes and its days), each a group, at a firm of its own unless
    ``firms`` names them; key checks unless ``mandatory`` says which."""
    n = len(specs)
    table = SimpleNamespace(
        task_id=np.array([f"T{i}" for i in range(n)], dtype=object),
        dept=np.zeros(n, dtype=np.int64),
        dept_names=["SJ"],
        dept_id=np.array(["SJ"] * n, dtype=object),
        mandatory=np.ones(n, dtype=bool) if mandatory is None else np.array(mandatory, dtype=bool),
        min_inspectors=np.full(n, 2),
        kind=np.array(["key"] * n, dtype=object),
        delegable=np.zeros(n, dtype=bool),
        priority=np.ones(n, dtype=np.int64),
        held=np.zeros(n, dtype=bool),
        capped=np.zeros(n, dtype=bool),
        minutes=[minutes for minutes, _ in specs],
    )
    return [
        VisitGroup(table, firms[i] if firms else f"firm{i}", np.array([i]), np.array(days, dtype=np.int64), i)
        for i, (_, days) in enumerate(specs)
    ]


def crew(day: int, groups: list[VisitGroup], members=("SJ1", "XF1")) -> Crew:
    onsite = sum(g.table.minutes[g.group_id] for g in groups)
    return Crew(f"d{day}-{members[0]}", "城关街道", day, {"SJ": 1, "XF": 1}, list(groups), 420, onsite, members)


def trade(crews: list[Crew], out: list[VisitGroup], pinned=frozenset(), roster=ROSTER, travel=TRAVEL):
    onsite = {g.group_id: g.table.minutes[g.group_id] for g in out + [g for c in crews for g in c.groups]}
    by_day: dict[int, list[Crew]] = {}
    for c in crews:
        by_day.setdefault(c.day, []).append(c)
    township = dict.fromkeys({g.uscc for g in out + [g for c in crews for g in c.groups]}, "城关街道")
    return _trade_up(out, by_day, roster, township, onsite, travel, set(pinned))


def ids(groups) -> list[int]:
    return sorted(g.group_id for g in groups)


def test_a_long_check_is_given_up_for_two_short_ones():
    """A crew-day holds one 360-minute check; two of 120 minutes are open: they take its day, and
    the long one is given up (for the caller to place elsewhere, if it can)."""
    long, a, b = checks((360, [0]), (120, [0, 1]), (120, [0, 1]))
    day = crew(0, [long])
    taken, released = trade([day], [a, b])
    assert taken == {1, 2} and ids(released) == [0]
    assert ids(day.groups) == [1, 2] and day.length_min == 240


def test_an_even_trade_is_not_made():
    """Giving up a check for one check of the same worth places nothing more: no trade."""
    long, other = checks((300, [0]), (360, [0]))
    day = crew(0, [long])
    assert trade([day], [other]) == (set(), [])
    assert ids(day.groups) == [0]


def test_a_visit_moves_to_another_crew_day_to_make_room():
    """The first day holds 300 + 120 minutes (T1 may go either day), the second 300; T3 (120
    minutes) may go only on the first. Giving T1 up for T3 would place no more, but T1 fits the
    second day: moved there, it makes room for T3, and nothing is given up."""
    t0, t1, t2, t3 = checks((300, [0]), (120, [0, 1]), (300, [1]), (120, [0]))
    first, second = crew(0, [t0, t1]), crew(1, [t2], ("SJ2", "XF2"))
    taken, released = trade([first, second], [t3])
    assert taken == {3} and released == []
    assert ids(first.groups) == [0, 3] and ids(second.groups) == [1, 2]
    assert first.length_min == 420 and second.length_min == 420


def test_kept_visits_are_never_given_up():
    """A re-optimisation's kept visit (pinned) stays, whatever it would trade for."""
    long, a, b = checks((360, [0]), (120, [0]), (120, [0]))
    day = crew(0, [long])
    assert trade([day], [a, b], pinned={0}) == (set(), [])
    assert ids(day.groups) == [0]


def test_no_crew_day_takes_what_its_members_may_not_check():
    """An open check at a firm one member is in conflict with (回避), or of a department no
    member belongs to, stays open though the day has room."""
    placed, barred = checks((120, [0]), (120, [0]))
    roster = SimpleNamespace(**{**vars(ROSTER), "conflicts": {"XF1": {"firm1"}}})
    day = crew(0, [placed])
    assert trade([day], [barred], roster=roster) == (set(), [])
    other = crew(0, [placed], ("XF1", "XF2"))
    other.seats = {"XF": 2}
    assert trade([other], [barred]) == (set(), [])


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(2, 20), st.integers(0, 4), st.integers(0, 4), st.booleans(), st.integers(0, 9)),
        min_size=6,
        max_size=16,
    ),
    st.lists(st.sampled_from([0, 1, 1, 2]), min_size=5, max_size=5),
    st.sets(st.integers(0, 15), max_size=3),
)
def test_the_trade_only_ever_places_more(specs, crews_a_day, pinned):
    """Random crew-days filled greedily, longest check first (checks at one place are groups
    of one enterprise), and the trade on them: every crew-day still fits its day and holds
    groups only on days of their window, each group once and each enterprise once a day; kept
    visits stay where they were; and what is placed is worth strictly more, in the
    objective's order, after each trade made (the groups given up counted as left out)."""
    groups = checks(
        *[(15 * m, list(range(first, min(4, first + width) + 1))) for m, first, width, _, _ in specs],
        mandatory=[key for *_, key, _ in specs],
        firms=[f"firm{place}" for *_, place in specs],  # checks at one place are one enterprise's
    )
    where = {f"firm{place}": place for *_, place in specs}
    travel = SimpleNamespace(minutes=lambda a, b: abs(where.get(a, 0) - where.get(b, 0)) * 3)
    station = "station:城关街道"
    onsite = {g.group_id: g.table.minutes[g.group_id] for g in groups}
    crews, placed = [], set()
    for day, n in enumerate(crews_a_day):
        for k in range(n):
            members = ("SJ1", "XF1") if k == 0 else ("SJ2", "XF2")
            day_crew = crew(day, [], members)
            day_crew.crew_id = f"d{day}-{k}"
            visited = {g.uscc for c in crews if c.day == day for g in c.groups}
            for g in sorted(groups, key=lambda g: -onsite[g.group_id]):  # the worst order for a count
                trial = day_crew.groups + [g]
                if g.group_id in placed or day not in g.days or g.uscc in visited:
                    continue
                if route_minutes(station, trial, onsite, travel) <= 420:
                    day_crew.groups = trial
                    placed.add(g.group_id)
                    visited.add(g.uscc)
            day_crew.length_min = route_minutes(station, day_crew.groups, onsite, travel)
            crews.append(day_crew)
    pinned = {g for g in pinned if g in placed}
    kept_at = {g.group_id: c.crew_id for c in crews for g in c.groups if g.group_id in pinned}
    before = _value_of([g for c in crews for g in c.groups])
    out = [g for g in groups if g.group_id not in placed and g.mandatory]
    taken, released = trade(crews, out, pinned, travel=travel)
    after = [g for c in crews for g in c.groups]
    assert len({g.group_id for g in after}) == len(after)  # each group once
    assert taken <= {g.group_id for g in out} and not {g.group_id for g in released} & {g.group_id for g in after}
    for c in crews:
        assert c.length_min == route_minutes(station, c.groups, onsite, travel) <= 420
        assert all(c.day in g.days for g in c.groups)
    for day in range(5):
        firms = [g.uscc for c in crews if c.day == day for g in c.groups]
        assert len(firms) == len(set(firms))  # one visit per enterprise a day
    assert {g.group_id: c.crew_id for c in crews for g in c.groups if g.group_id in pinned} == kept_at
    if taken:
        assert _value_of(after) > before
    else:
        assert _value_of(after) == before and released == []
