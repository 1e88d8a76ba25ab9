"""The instance: feasible working days per task, and the exact stabbing bounds of the KPIs."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from planner.dataset import load_dataset
from planner.model.instance import baseline_visits, build_instance, lower_bound_visits, min_stabbing
from planner.sampling import draw_sampling_plan
from planner.scenario import load_scenario
from planner.travel import great_circle_km, travel_minutes
from planner.workdays import work_calendar
from tests.conftest import ACME, SHOP, valid_tables, write_dataset

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = 'name = "t"\ndataset = "ds"\nseed = 1\n{extra}[horizon]\nstart = {start}\nend = {end}\n'


def instance_of(tmp_path, tables=None, start="2026-01-01", end="2026-12-31", extra=""):
    write_dataset(tmp_path / "ds", tables or valid_tables())
    (tmp_path / "s.toml").write_text(SCENARIO.format(extra=extra, start=start, end=end))
    scenario = load_scenario(tmp_path / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    draw = draw_sampling_plan(dataset, scenario.seed)
    return build_instance(dataset, draw.tasks, scenario, calendar)


def day_of(instance, index) -> dt.date:
    return instance.workdays[index]


def test_windows_become_working_day_ranges(tmp_path):
    """SJ-1 (2026-01-01…03-31) starts on the first working day, Sunday 2026-01-04 (调休), ends on 03-31."""
    instance = instance_of(tmp_path)
    task = instance.tasks.set_index("task_id").loc["SJ-1"]
    assert day_of(instance, task["first_day"]) == dt.date(2026, 1, 4)
    assert day_of(instance, task["last_day"]) == dt.date(2026, 3, 31)
    assert task["mandatory"] and task["capped"]


def test_random_tasks_wait_for_the_observation_period(tmp_path):
    """SHOP is observed until 2026-06-30: its random task starts on 07-01; a key task would not wait."""
    tables = valid_tables()
    tables["sampling_plan"][2][6:8] = ["2026-06-01", "2026-09-30"]  # XF-R-01, tier C: SHOP's pool
    tables["demands"].append(["SJ-9", "SJ", SHOP, "食品检查", "key", "2026-06-01", "2026-08-31", "30", "", "", ""])
    instance = instance_of(tmp_path, tables)
    tasks = instance.tasks.set_index("task_id")
    assert day_of(instance, tasks.loc[f"XF-R-01:{SHOP}", "first_day"]) == dt.date(2026, 7, 1)
    assert day_of(instance, tasks.loc["SJ-9", "first_day"]) == dt.date(2026, 6, 1)


def test_unplaceable_tasks_have_reasons(tmp_path):
    """Outside the horizon, only holidays, observed through the window: each says why."""
    tables = valid_tables()
    base = ["SJ", ACME, "检查", "key", "", "", "30", "", "", ""]
    tables["demands"] += [
        ["T-out", *base[:4], "2025-03-01", "2025-03-31", *base[6:]],
        ["T-holiday", *base[:4], "2026-10-01", "2026-10-07", *base[6:]],
    ]
    tables["demands"].append(["T-obs", "SJ", SHOP, "检查", "campaign", "2026-05-01", "2026-06-30", "30", "", "", ""])
    said = instance_of(tmp_path, tables).unplaceable.set_index("task_id")["reason"]
    assert [said[t].code for t in ("T-out", "T-holiday", "T-obs")] == ["window", "working_day", "observation_period"]
    reasons = said.map(lambda r: r.render("en"))
    assert reasons["T-out"].startswith("outside the horizon")
    assert "no official working day" in reasons["T-holiday"]
    assert "observation period" in reasons["T-obs"] and "2026-06-30" in reasons["T-obs"]


def test_quiet_days_bar_capped_tasks_only(tmp_path):
    """quiet_days = [1, 25]: a key task may only be placed on the 26th or later; a complaint any day."""
    instance = instance_of(tmp_path, extra="quiet_days = [1, 25]\n")
    row = {task_id: n for n, task_id in enumerate(instance.table.task_id)}
    key_days = [day_of(instance, d).day for d in instance.feasible_days(row["SJ-1"])]
    assert key_days and min(key_days) >= 26
    complaint_days = [day_of(instance, d).day for d in instance.feasible_days(row["XF-2"])]
    assert min(complaint_days) < 26


def test_horizon_clips_windows(tmp_path):
    """A quarter's horizon clips a half-year window to the quarter's working days."""
    instance = instance_of(tmp_path, start="2026-03-01", end="2026-03-31")
    task = instance.tasks.set_index("task_id").loc["XF-1"]  # window 2026-03-01…04-30
    assert day_of(instance, task["last_day"]) == dt.date(2026, 3, 31)


def brute_force_stabbing(intervals) -> int:
    days = sorted({d for lo, hi in intervals for d in range(lo, hi + 1)})
    for k in range(len(intervals) + 1):
        for chosen in itertools.combinations(days, k):
            if all(any(lo <= d <= hi for d in chosen) for lo, hi in intervals):
                return k
    raise AssertionError("unreachable")


@given(
    st.lists(
        st.tuples(st.integers(0, 12), st.integers(0, 6)).map(lambda t: (t[0], t[0] + t[1])), min_size=1, max_size=7
    )
)
def test_greedy_stabbing_is_optimal(intervals):
    """Greedy by earliest window end equals the brute-force fewest days hitting every window."""
    first, last = np.array([i[0] for i in intervals]), np.array([i[1] for i in intervals])
    assert min_stabbing(first, last) == brute_force_stabbing(intervals)


def test_bounds_on_the_sample_county():
    """On the sample county: lower bound ≤ baseline ≤ tasks, and joint visits can save a lot."""
    scenario = load_scenario(ROOT / "scenarios/baseline.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    instance = build_instance(dataset, draw_sampling_plan(dataset, scenario.seed).tasks, scenario, calendar)
    placeable = instance.tasks[instance.tasks["first_day"] >= 0]
    lower, baseline = lower_bound_visits(placeable), baseline_visits(placeable)
    assert lower < baseline <= len(placeable)
    assert lower < 0.8 * baseline
    assert set(instance.unplaceable["task_id"]) <= set(instance.tasks["task_id"])


def test_travel_model():
    """Just under 10 km as the crow flies at detour 1.3 and 30 km/h is 26 minutes, rounded up."""
    lat = np.array([30.5, 30.5 + 9.999 / 111.195])
    lon = np.array([120.6, 120.6])
    assert abs(great_circle_km(lat[0], lon[0], lat[1], lon[1]) - 10) < 0.01
    minutes = travel_minutes(lat, lon, 1.3, 30)
    assert minutes[0, 1] == minutes[1, 0] == 26 and minutes[0, 0] == 0
