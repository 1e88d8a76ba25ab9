"""The scheduler's day choice: one visit per enterprise a day, so a group leaves its siblings room."""

from __future__ import annotations

import numpy as np

from planner.model.groups import VisitGroup
from planner.model.schedule import _days_leaving_room


def group(days: list[int], group_id: int, uscc: str = "A") -> VisitGroup:
    return VisitGroup(None, uscc, np.zeros(0, dtype=np.int64), np.array(days), group_id)  # no tasks: only days matter


def test_a_group_leaves_the_one_day_its_sibling_can_use():
    wide, narrow = group([3, 4, 5], 0), group([4], 1)
    preferred = _days_leaving_room([[wide, narrow]])
    assert preferred[0].tolist() == [3, 5]
    assert 1 not in preferred  # its one day is all it has


def test_hall_condition_over_several_siblings():
    # two groups share days 1 and 2: a third group on either would leave them one day for two
    preferred = _days_leaving_room([[group([1, 2], 0), group([1, 2], 1), group([1, 2, 3], 2)]])
    assert list(preferred) == [2] and preferred[2].tolist() == [3]


def test_no_preference_when_every_day_leaves_room_or_none_does():
    # taking day 3 still leaves {1, 2} and {2, 3} a day each: every day is fine
    assert _days_leaving_room([[group([1, 2], 0), group([2, 3], 1), group([3, 4, 5], 2)]]) == {}
    # the siblings cannot all be placed anyway: the group is not held back for them
    assert 2 not in _days_leaving_room([[group([1], 0), group([1], 1), group([1, 2], 2)]])
    # groups of other enterprises never compete for a day
    assert _days_leaving_room([[group([3, 4], 0, "A")], [group([4], 1, "B")]]) == {}


def test_township_matrices_give_exactly_the_per_pair_minutes():
    """The vectorised matrix of a township equals the per-pair formula on every pair (the digests rest on it)."""
    from pathlib import Path

    from planner.dataset import load_dataset
    from planner.scenario import load_scenario
    from planner.travel import TravelTimes

    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios/baseline.toml")
    travel = TravelTimes(load_dataset(scenario.dataset), scenario)
    lat, lon = travel.lat, travel.lon
    for town in sorted(travel.members)[:3]:
        rows = travel.members[town]
        matrix = travel._township(town)
        expected = [[travel._minutes(lat[a], lon[a], lat[b], lon[b]) for b in rows] for a in rows]
        assert matrix.tolist() == expected
    names = list(travel.where)
    here, there = names[0], next(n for n in names if travel.where[n][0] != travel.where[names[0]][0])
    assert travel.minutes(here, there) == travel.minutes(there, here) > 0  # across townships: one at a time
    assert (here, there) in travel.cache
