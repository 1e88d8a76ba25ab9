"""Legal duties first under binding staff: the horizon's capacity, its bound, and an exact optimum.

The brute force here knows nothing of the planner. Its tiny counties make staff the only thing
that binds: one township, every enterprise at the station (no road), each check of 300 minutes
(a crew-day, planned within 7 hours, holds one), each at an enterprise of its own (no merge, no
cap), two inspectors a crew — one of the check's department and one more of any — and every
inspector with a few planned days (``max_days``). It tries every way to give the checks days
and inspectors, and keeps the best by the objective's order: mandatory checks placed, then
checks placed. The plan must reach it; and the capacity bound, a relaxation, must never sit
below it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.checker import check_plan
from planner.codes import uscc_with_check_digit
from planner.dataset import load_dataset
from planner.model.capacity import Weeks
from planner.pipeline import make_plan
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import valid_tables, write_dataset

START = dt.date(2026, 3, 2)  # a Monday; ten working days follow
FIRMS = [uscc_with_check_digit(f"9133048100000{n:04d}") for n in range(6)]
PEOPLE = [("SJ001", "SJ"), ("SJ002", "SJ"), ("XF001", "XF"), ("XF002", "XF")]
SCENARIO = 'name = "cap"\ndataset = "ds"\nseed = 1\n[horizon]\nstart = 2026-03-02\nend = 2026-03-13\n'


def test_weeks_follow_the_calendar():
    """Working days fall into their ISO weeks, in order."""
    days = [dt.date(2026, 9, 28) + dt.timedelta(days=n) for n in range(14) if n % 7 < 5]
    weeks = Weeks.of(days)
    assert len(weeks) == 2 and weeks.of_day.tolist() == [0] * 5 + [1] * 5
    assert weeks.first.tolist() == [0, 5] and weeks.last.tolist() == [4, 9]


def county(checks, max_days, minutes=None) -> dict:
    """One township, the firms at its station, four inspectors with ``max_days`` each, and the
    checks (department, kind, first working day, last working day), one per firm, of 300
    minutes each or ``minutes``."""
    tables = valid_tables()
    tables["townships"] = tables["townships"][:2]
    lat, lon = tables["townships"][1][1:3]
    header = tables["enterprises"][0]
    tables["enterprises"] = [header] + [
        [u, f"企业{n}", "城关街道", lat, lon, "C2614", "B", "", "", "", ""] for n, u in enumerate(FIRMS)
    ]
    header = tables["inspectors"][0]
    tables["inspectors"] = [header] + [
        [who, f"人员{n}", dept, f"33048100{n:03d}", "", "8", str(days)]
        for n, ((who, dept), days) in enumerate(zip(PEOPLE, max_days))
    ]
    tables["leave"], tables["conflicts"], tables["history"] = (
        tables["leave"][:1],
        tables["conflicts"][:1],
        tables["history"][:1],
    )
    tables["sampling_plan"] = tables["sampling_plan"][:1]
    workdays = [START + dt.timedelta(days=n) for n in range(12) if (START + dt.timedelta(days=n)).weekday() < 5]
    rows = [tables["demands"][0]]
    for n, (dept, kind, first, last) in enumerate(checks):
        rows.append(
            [
                f"T{n}",
                dept,
                FIRMS[n],
                "检查",
                kind,
                workdays[first].isoformat(),
                workdays[last].isoformat(),
                str(minutes[n] if minutes else 300),
                "",
                "",
                "",
            ]
        )
    tables["demands"] = rows
    return tables


def plan_of(tables: dict, extra: str = ""):
    """The plan of these input tables under ``SCENARIO`` (``extra``: scenario lines)."""
    with tempfile.TemporaryDirectory() as folder:
        write_dataset(Path(folder) / "ds", tables)
        (Path(folder) / "s.toml").write_text(SCENARIO.replace("[horizon]", extra + "[horizon]"))
        scenario = load_scenario(Path(folder) / "s.toml")
        dataset = load_dataset(scenario.dataset)
        calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
        return make_plan(dataset, scenario, calendar)


def paced_plan(monkeypatch, checks, minutes, extra: str = ""):
    """The plan of ``county(checks)`` with one crew-day in all (an SJ and an XF inspector with
    one planned day each), made without the exact model: such a county is small enough for it,
    and it would find the optimum anyway, while on a county of any size the paced schedule must
    find it itself. ``extra``: scenario lines."""
    import planner.model.horizon as horizon

    monkeypatch.setattr(horizon, "exact_schedule", lambda *args, **kwargs: None)
    return plan_of(county(checks, [1, 0, 1, 0], minutes), extra)


def brute_force(checks, max_days) -> tuple[int, int]:
    """(mandatory checks, checks) of the best assignment of checks to a day and two inspectors."""
    best = (0, 0)
    n = len(checks)
    options = []
    for dept, _, first, last in checks:
        mine = [
            (day, a, b)
            for day in range(first, last + 1)
            for a in range(4)
            if PEOPLE[a][1] == dept
            for b in range(4)
            if b != a
        ]
        options.append(mine)

    def search(i: int, busy: set, used: list[int], mandatory: int, done: int) -> None:
        nonlocal best
        left_mandatory = sum(1 for c in checks[i:] if c[1] == "key")
        if (mandatory + left_mandatory, done + n - i) <= best:
            return  # cannot beat the best found
        if i == n:
            best = max(best, (mandatory, done))
            return
        for day, a, b in options[i]:
            if (day, a) in busy or (day, b) in busy or used[a] >= max_days[a] or used[b] >= max_days[b]:
                continue
            used[a] += 1
            used[b] += 1
            search(i + 1, busy | {(day, a), (day, b)}, used, mandatory + (checks[i][1] == "key"), done + 1)
            used[a] -= 1
            used[b] -= 1
        search(i + 1, busy, used, mandatory, done)

    search(0, set(), [0, 0, 0, 0], 0, 0)
    return best


check = st.tuples(
    st.sampled_from(["SJ", "XF"]), st.sampled_from(["key", "campaign"]), st.integers(0, 9), st.integers(0, 4)
).map(lambda c: (c[0], c[1], c[2], min(9, c[2] + c[3])))


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(check, min_size=1, max_size=6), st.lists(st.integers(0, 3), min_size=4, max_size=4))
def test_binding_staff_reaches_the_exact_optimum(checks, max_days):
    """Staff binds (a handful of planned days, optional and mandatory checks wanting them): the
    plan places the most mandatory checks, then the most checks, any plan could; the capacity
    bound is never below that; the plan keeps every hard rule."""
    with tempfile.TemporaryDirectory() as folder:
        write_dataset(Path(folder) / "ds", county(checks, max_days))
        (Path(folder) / "s.toml").write_text(SCENARIO)
        scenario = load_scenario(Path(folder) / "s.toml")
        dataset = load_dataset(scenario.dataset)
        calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
        plan = make_plan(dataset, scenario, calendar)
        assert check_plan(plan.tables, dataset, scenario, set(calendar.workdays)) == []
        kinds = plan.tables.tasks.set_index("task_id")["kind"]
        placed = set(plan.tables.visit_tasks["task_id"])
        got = (sum(kinds[t] == "key" for t in placed), len(placed))
        optimum = brute_force(checks, max_days)
        assert got == optimum
        assert plan.kpis["capacity_bound_mandatory"] >= optimum[0]
        assert plan.kpis["capacity_bound_tasks"] >= optimum[1]


def test_the_capacity_lp_chooses_which_legal_duties_the_staff_can_carry(monkeypatch):
    """One crew-day in all (an SJ and an XF inspector with one planned day each) and three SJ key
    checks: one of 360 minutes due on the first day, two of 120 minutes due any day. Taken most
    urgent first, the long check fills the day and one check is placed; the LP sees that the
    two short ones fit the day together, and the schedule places those first: two. The county is
    small enough for the exact model, which would find it anyway, so it is left out here: on a
    county of any size the paced schedule must make the choice itself."""
    checks = [("SJ", "key", 0, 0), ("SJ", "key", 0, 9), ("SJ", "key", 0, 9)]
    plan = paced_plan(monkeypatch, checks, [360, 120, 120])
    assert plan.broken == []
    assert sorted(plan.tables.visit_tasks["task_id"]) == ["T1", "T2"]
    assert plan.tables.unscheduled["task_id"].tolist() == ["T0"]


def test_brute_force_counts_staff():
    """The oracle itself: two mandatory checks on one day, and two inspectors with one day each,
    leave room for one; with two days each, for both."""
    checks = [("SJ", "key", 0, 0), ("XF", "key", 0, 0)]
    assert brute_force(checks, [1, 0, 1, 0]) == (1, 1)
    assert brute_force(checks, [1, 1, 1, 1]) == (2, 2)
    assert brute_force(checks, [3, 3, 0, 0]) == (1, 1)  # XF has nobody with a day: its check cannot go


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.floats(0.15, 1.0), st.sampled_from([0.05, 0.1, 0.2, 0.5]), st.integers(1, 9))
def test_any_staff_cut_plans_without_a_traceback(scale, share, seed):
    """A random staff cut and planned share on a generated tiny county: a complete, valid plan;
    every mandatory task it leaves out has its reason; the capacity bound holds."""
    from planner.demo import generate_dataset
    from planner.outputs import write_tables

    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "ds").mkdir()
        write_tables(generate_dataset("tiny", seed), Path(folder) / "ds", ".parquet")
        (Path(folder) / "s.toml").write_text(
            f'name = "cut"\ndataset = "ds"\nseed = {seed}\nplanned_share = {share}\n'
            f"[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n[staff]\nscale = {scale:.3f}\n"
        )
        scenario = load_scenario(Path(folder) / "s.toml")
        dataset = load_dataset(scenario.dataset)
        calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
        plan = make_plan(dataset, scenario, calendar)
        assert plan.broken == []
        k = plan.kpis
        mandatory = int(np.sum(plan.tables.tasks["kind"].isin(["key", "triggered", "followup"])))
        assert k["capacity_bound_mandatory"] >= mandatory - k["unscheduled_mandatory"]
        assert k["capacity_bound_tasks"] >= k["scheduled"]
        assert plan.tables.unscheduled["reason"].str.len().min() > 20 if len(plan.tables.unscheduled) else True
        # a legal duty left out for want of staff carries the capacity bound's statement
        out = plan.tables.unscheduled
        short = out[out["mandatory"] & out["reason_code"].eq("staff_capacity")]
        assert all(f"任何方案至多安排 {k['capacity_bound_mandatory']:,} 项必查任务" in r for r in short["reason"])


def test_capacity_statement_says_whether_the_bound_is_reached():
    """Only a mandatory task left out for want of staff gets the statement; it says the plan
    leaves out no more than it must when it places as many as the bound allows."""
    from planner.pipeline import with_capacity_statement

    staff = "没有一个检查组能同时派出消防救援大队的检查人员"
    out = pd.DataFrame(
        {
            "task_id": ["a", "b", "c"],
            "reason_code": ["staff_capacity", "staff_capacity", "window"],
            "reason": [staff, staff, "时间窗不在计划期内"],
            "mandatory": [True, False, True],
        }
    )
    reached = with_capacity_statement(out, 7, 7)["reason"].tolist()
    assert (
        reached[0].endswith("本方案已安排 7 项，任何方案都无法少遗漏）") and reached[1:] == out["reason"][1:].tolist()
    )
    assert with_capacity_statement(out, 9, 7)["reason"][0].endswith("或许还能再安排 2 项）")
    english = with_capacity_statement(out, 9, 7, "en")["reason"][0]
    assert english.endswith("this plan places 7, perhaps 2 more could be placed)")


def test_weeks_split_where_quiet_days_begin_and_end():
    """A week's quiet days and its other days are two weeks of the capacity LP: capped work may
    use only the staff of the other days."""
    days = [dt.date(2026, 9, 28) + dt.timedelta(days=n) for n in range(14) if n % 7 < 5]
    quiet = np.array([d.day <= 2 for d in days])  # quiet_days = [1, 2]: Thursday and Friday
    weeks = Weeks.of(days, quiet)
    assert weeks.of_day.tolist() == [0, 0, 0, 1, 1, 2, 2, 2, 2, 2]
    assert weeks.first.tolist() == [0, 3, 5] and weeks.last.tolist() == [2, 4, 9]


def test_a_quiet_day_does_not_spend_the_staff_an_ordinary_day_needs(monkeypatch):
    """One crew-day in all (an SJ and an XF inspector with one planned day each); the first day
    is quiet (no capped visit). A complaint check of 60 minutes may go any day; a key check of
    300 minutes only on the second. Sent out on the quiet day for the complaint alone, the crew
    would spend its one day on an hour's work and the key check would be left out; held for an
    ordinary day, the complaint joins the key check's crew, and both are placed."""
    checks = [("SJ", "triggered", 0, 9), ("SJ", "key", 1, 1)]
    plan = paced_plan(monkeypatch, checks, [60, 300], "quiet_days = [2, 2]\n")
    assert plan.broken == []
    assert sorted(plan.tables.visit_tasks["task_id"]) == ["T0", "T1"]
    assert set(plan.tables.visits["date"].astype(str)) == {"2026-03-03"}


def test_a_small_departments_pace_is_not_rounded_up_to_a_seat_a_day():
    """An inspector with 5 planned days of 25 left, paced at a fifth of a day a day: a seat every
    fifth day, not one every day (rounded up, a small department would spend its year on the
    first days it has work)."""
    from types import SimpleNamespace

    from planner.model.schedule import _carried_over, _paced_budget

    roster = SimpleNamespace(dept_of={"XF001": "XF"}, max_days={"XF001": 5}, days_used={"XF001": 0})
    seats, carried = [], {}
    for day in range(10):
        budget, quota = _paced_budget(roster, {"XF": 1}, 25 - day, {"XF": 1 / (25 - day)}, carried)
        seats.append(budget["XF"])
        spent = {"XF": budget["XF"]}  # the seat is taken whenever the pace allows it
        roster.days_used["XF001"] += budget["XF"]
        carried = _carried_over(quota, spent)
    assert seats == [0, 0, 0, 0, 1, 0, 0, 0, 0, 1]


def test_a_crew_day_gives_a_long_check_up_for_two_legal_duties(monkeypatch):
    """One crew-day in all, and three SJ key checks: one of 360 minutes due on the first day, two
    of 120 minutes due any day. Without the capacity LP's choice (no LP answer: the even pace,
    most urgent first) the long check fills the day. The trade on the schedule kept (以多换少)
    gives it up for the two short ones, which place one legal duty more; the long one is left
    out with its reason. With no round of the trade, the long check stays alone."""
    import planner.model.horizon as horizon
    import planner.model.schedule as schedule
    from planner.model.capacity import CapacityDecision

    monkeypatch.setattr(
        horizon, "plan_weeks", lambda groups, workdays, *a, **k: CapacityDecision(Weeks.of(workdays), "NOT_SOLVED")
    )
    checks = [("SJ", "key", 0, 0), ("SJ", "key", 0, 9), ("SJ", "key", 0, 9)]
    plan = paced_plan(monkeypatch, checks, [360, 120, 120])
    assert plan.broken == []
    assert plan.kpis["schedule_kept"] == "day-by-day"
    assert sorted(plan.tables.visit_tasks["task_id"]) == ["T1", "T2"]
    assert plan.tables.unscheduled["task_id"].tolist() == ["T0"]
    assert plan.tables.unscheduled["reason_code"].tolist() == ["staff_capacity"]
    monkeypatch.setattr(schedule, "TRADE_ROUNDS", 0)
    plan = paced_plan(monkeypatch, checks, [360, 120, 120])
    assert plan.tables.visit_tasks["task_id"].tolist() == ["T0"]


def test_a_joint_visit_never_taken_apart_gets_its_crew_first(monkeypatch):
    """SJ001 has two planned days and XF001 one. A key check of 400 minutes (T0) may go only on
    the first day; a positive-list enterprise has two key checks, SJ and XF (T1, T2), capped:
    one visit, never taken apart (一年最多查一次). Most urgent first, T0's crew takes XF001's
    only day as its second seat, and the joint visit never finds both departments free. The
    joint visits placed first (``whole-first``) take XF001's day, which places two legal duties
    against one: that schedule is kept."""
    import planner.model.horizon as horizon
    from planner.model.capacity import CapacityDecision

    monkeypatch.setattr(horizon, "exact_schedule", lambda *args, **kwargs: None)
    monkeypatch.setattr(
        horizon, "plan_weeks", lambda groups, workdays, *a, **k: CapacityDecision(Weeks.of(workdays), "NOT_SOLVED")
    )
    tables = county([("SJ", "key", 0, 0), ("SJ", "key", 0, 9), ("XF", "key", 0, 9)], [2, 0, 1, 0], [400, 60, 60])
    tables["demands"][3][2] = FIRMS[1]  # T2 at T1's enterprise
    tables["enterprises"][2][7] = "是"  # on the positive list
    plan = plan_of(tables)
    assert plan.broken == []
    assert plan.kpis["schedule_kept"] == "day-by-day whole-first"
    assert sorted(plan.tables.visit_tasks["task_id"]) == ["T1", "T2"]
    assert plan.tables.unscheduled["task_id"].tolist() == ["T0"]


def test_a_short_departments_optional_checks_leave_a_joint_visit_for_more_tasks(monkeypatch):
    """SJ has one planned day in all (SJ001), XF two inspectors with two days each. Three
    optional checks of 150 minutes: SJ and XF at one enterprise (T0, T1: merged, one joint
    visit of 300 minutes, which SJ001 sits through) and SJ at another (T2). Joint, SJ001's day
    holds one SJ check and T1's, and T2 no longer fits; taken apart (tasks before visits), it
    holds both SJ checks with an XF second seat, and the XF check gets an XF crew of its own:
    three tasks for three visits, against two. With no round of optional splits the joint
    visit stays."""
    import planner.model.horizon as horizon

    monkeypatch.setattr(horizon, "exact_schedule", lambda *args, **kwargs: None)
    checks = [("SJ", "campaign", 0, 9), ("XF", "campaign", 0, 9), ("SJ", "campaign", 0, 9)]

    def plan():
        tables = county(checks, [1, 0, 2, 2], [150, 150, 150])
        tables["demands"][2][2] = FIRMS[0]  # T1 at T0's enterprise
        return plan_of(tables)

    split = plan()
    assert split.broken == []
    assert split.kpis["schedule_kept"].endswith("tasks-1"), split.kpis["schedule_kept"]
    assert sorted(split.tables.visit_tasks["task_id"]) == ["T0", "T1", "T2"]
    assert split.kpis["visits"] == 3
    monkeypatch.setattr(horizon, "TASK_SPLIT_FACTORS", ())
    joint = plan()
    assert joint.broken == []
    assert joint.kpis["scheduled"] == 2 and joint.kpis["visits"] <= 2
