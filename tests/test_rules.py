"""The rulebook as a specification: for every rule with a check, a plan that keeps it and a plan
broken for it that the checker rejects with that rule's code.

The plan that keeps every rule is the hand-written county's (tests/conftest.py: ACME with SJ-1
and XF-1 in one March visit, SHOP's three-inspector complaint check XF-2 in May, the drawn
random checks). Each break changes one thing — a table of the plan, or a fact of the inputs the
plan was made for — so that the plan no longer keeps the rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

import pandas as pd
import pytest

from planner.checker import check_plan, check_practice
from planner.dataset import load_dataset
from planner.pipeline import make_plan
from planner.rules import BY_CODE, HARD, PRACTICE, RULEBOOK
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import ACME, SHOP, valid_tables, write_dataset

SCENARIO = 'name = "rules"\ndataset = "ds"\nseed = 1\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'


@dataclasses.dataclass
class Case:
    """A plan with the inputs it is checked against."""

    tables: object
    dataset: object
    scenario: object
    workdays: set
    draws: pd.DataFrame

    def replace(self, **tables) -> Case:
        return dataclasses.replace(self, tables=dataclasses.replace(self.tables, **tables))

    def facts(self, **frames) -> Case:
        return dataclasses.replace(self, dataset=dataclasses.replace(self.dataset, **frames))

    def keys(self, **changes) -> Case:
        return dataclasses.replace(self, scenario=self.scenario.model_copy(update=changes))

    def codes(self, severity: str = HARD) -> set[str]:
        if severity == PRACTICE:
            return {v.rule for v in check_practice(self.tables, self.dataset, self.scenario, self.workdays)}
        return {v.rule for v in check_plan(self.tables, self.dataset, self.scenario, self.workdays, self.draws)}


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Case:
    folder = tmp_path_factory.mktemp("rules")
    write_dataset(folder / "ds", valid_tables())
    (folder / "s.toml").write_text(SCENARIO)
    scenario = load_scenario(folder / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    assert plan.kpis["unscheduled"] == 0
    return Case(plan.tables, dataset, scenario, set(calendar.workdays), plan.draw.draws)


def _visit_of(case: Case, task_id: str) -> pd.Series:
    visit_id = case.tables.visit_tasks.set_index("task_id").at[task_id, "visit_id"]
    return case.tables.visits.set_index("visit_id").loc[visit_id]


def _members(case: Case, task_id: str) -> pd.DataFrame:
    visit = _visit_of(case, task_id)
    crews = case.tables.crews
    return crews[(crews["crew_id"] == visit["crew_id"]) & (crews["date"] == visit["date"])]


def _move_visit(case: Case, task_id: str, date: dt.date) -> Case:
    """The visit of ``task_id``, its crew and its route moved to ``date`` together."""
    visit = _visit_of(case, task_id)
    t = case.tables
    same = (t.visits["crew_id"] == visit["crew_id"]) & (t.visits["date"] == visit["date"])
    crew = (t.crews["crew_id"] == visit["crew_id"]) & (t.crews["date"] == visit["date"])
    route = (t.routes["crew_id"] == visit["crew_id"]) & (t.routes["date"] == visit["date"])
    return case.replace(
        visits=t.visits.assign(date=t.visits["date"].where(~same, date)),
        crews=t.crews.assign(date=t.crews["date"].where(~crew, date)),
        routes=t.routes.assign(date=t.routes["date"].where(~route, date)),
    )


def _random_task(case: Case) -> pd.Series:
    tasks = case.tables.tasks
    placed = set(case.tables.visit_tasks["task_id"])
    return tasks[(tasks["kind"] == "random") & tasks["task_id"].isin(placed)].iloc[0]


def _break_plan_integrity(case: Case) -> Case:
    tasks = case.tables.tasks
    return case.replace(tasks=tasks.assign(kind=tasks["kind"].replace({"key": "triggered"})))


def _break_visit_integrity(case: Case) -> Case:
    visit = _visit_of(case, "XF-2")
    crews = case.tables.crews
    return case.replace(crews=crews[crews["crew_id"] != visit["crew_id"]])


def _break_random_draw(case: Case) -> Case:
    tasks = case.tables.tasks
    return case.replace(tasks=tasks[tasks["kind"] != "random"])


def _break_every_task_accounted(case: Case) -> Case:
    return case.replace(visit_tasks=case.tables.visit_tasks[case.tables.visit_tasks["task_id"] != "XF-2"])


def _break_window(case: Case) -> Case:
    return _move_visit(case, "XF-2", dt.date(2026, 6, 1))  # a Monday after XF-2's window 05-11…05-22


def _break_working_day(case: Case) -> Case:
    return _move_visit(case, "XF-2", dt.date(2026, 5, 17))  # a Sunday inside the window


def _break_observation_period(case: Case) -> Case:
    uscc = _random_task(case)["uscc"]
    enterprises = case.dataset.enterprises
    later = enterprises["observation_until"].where(enterprises["uscc"] != uscc, pd.Timestamp("2026-12-31"))
    return case.facts(enterprises=enterprises.assign(observation_until=later))


def _break_sandbox(case: Case) -> Case:
    uscc = _random_task(case)["uscc"]
    enterprises = case.dataset.enterprises
    return case.facts(enterprises=enterprises.assign(sandbox=enterprises["sandbox"] | (enterprises["uscc"] == uscc)))


def _break_quiet_days(case: Case) -> Case:
    return case.keys(quiet_days=(1, 31))


def _break_cap_positive_list(case: Case) -> Case:
    enterprises = case.dataset.enterprises
    case = case.facts(
        enterprises=enterprises.assign(positive_list=enterprises["positive_list"] | (enterprises["uscc"] == ACME))
    )
    return case.keys(caps=case.scenario.caps.model_copy(update={"positive_list_per_year": 0}))


def _break_cap_per_dept(case: Case) -> Case:
    return case.keys(caps=case.scenario.caps.model_copy(update={"per_dept_per_year": 0}))


def _break_appointment(case: Case) -> Case:
    """An appointment (预约) of ACME's SJ and XF in March, which the plan lacks: its departments are missing."""
    appointments = pd.DataFrame(
        {
            "appointment_id": ["A1"],
            "uscc": [ACME],
            "window_start": [pd.Timestamp("2026-03-02")],
            "window_end": [pd.Timestamp("2026-03-31")],
            "dept_ids": [("SJ", "XF")],
            "topic": ["合规指导"],
            "direction": ["enterprise"],
            "fold_due": [False],
            "duration_min": [60],
            "min_inspectors": [2],
        }
    )
    return case.facts(appointments=appointments)


def _break_certified(case: Case) -> Case:
    who = _members(case, "XF-2")["inspector_id"].iloc[0]
    inspectors = case.dataset.inspectors
    return case.facts(
        inspectors=inspectors.assign(cert_no=inspectors["cert_no"].where(inspectors["inspector_id"] != who))
    )


def _break_crew_size(case: Case) -> Case:
    dropped = _members(case, "XF-2").index[0]  # XF-2 needs three
    return case.replace(crews=case.tables.crews.drop(index=dropped))


def _break_department_cover(case: Case) -> Case:
    members = _members(case, "XF-2")  # SHOP's complaint check is XF's, not delegable
    inspectors = case.dataset.inspectors
    moved = inspectors["inspector_id"].isin(members["inspector_id"])
    return case.facts(
        inspectors=inspectors.assign(
            dept_id=inspectors["dept_id"].where(~moved, "SJ"), delegated_depts=[() for _ in range(len(inspectors))]
        )
    )


def _break_conflict(case: Case) -> Case:
    who = _members(case, "XF-2")["inspector_id"].iloc[0]
    conflicts = pd.concat(
        [case.dataset.conflicts, pd.DataFrame({"inspector_id": [who], "uscc": [SHOP]})], ignore_index=True
    )
    return case.facts(conflicts=conflicts)


def _break_leave(case: Case) -> Case:
    visit = _visit_of(case, "XF-2")
    who = _members(case, "XF-2")["inspector_id"].iloc[0]
    day = pd.Timestamp(visit["date"])
    leave = pd.concat(
        [case.dataset.leave, pd.DataFrame({"inspector_id": [who], "start": [day], "end": [day]})], ignore_index=True
    )
    return case.facts(leave=leave)


def _break_one_crew_a_day(case: Case) -> Case:
    members = _members(case, "XF-2")
    twin = members.assign(crew_id=members["crew_id"] + "-twin")
    return case.replace(crews=pd.concat([case.tables.crews, twin], ignore_index=True))


def _break_max_days(case: Case) -> Case:
    who = _members(case, "XF-2")["inspector_id"].iloc[0]
    inspectors = case.dataset.inspectors
    max_days = inspectors["max_days"].astype("Int64").where(inspectors["inspector_id"] != who, 0)
    return case.facts(inspectors=inspectors.assign(max_days=max_days))


def _break_offsite_no_visit(case: Case) -> Case:
    tasks = case.tables.tasks
    return case.replace(tasks=tasks.assign(mode=tasks["mode"].where(tasks["task_id"] != "XF-1", "offsite")))


def _break_desk_time(case: Case) -> Case:
    """XF-2 done at a desk by SJ001, of another department and on leave that day."""
    tasks, visit = case.tables.tasks, _visit_of(case, "XF-2")
    desk = pd.DataFrame(
        {"task_id": ["XF-2"], "inspector_id": ["SJ001"], "date": [dt.date(2026, 2, 16)], "dept_id": ["XF"]}
        | {"uscc": [visit["uscc"]], "kind": ["triggered"], "item": ["消防安全检查"]}
    )
    t = case.tables
    return case.replace(
        tasks=tasks.assign(mode=tasks["mode"].where(tasks["task_id"] != "XF-2", "offsite")),
        visit_tasks=t.visit_tasks[t.visit_tasks["task_id"] != "XF-2"],
        offsite=desk,
    )


def _break_day_length(case: Case) -> Case:
    crews = case.tables.crews
    return case.replace(crews=crews.assign(day_end_min=crews["day_start_min"] + 9 * 60))


def _break_route_times(case: Case) -> Case:
    routes = case.tables.routes
    return case.replace(routes=routes.assign(travel_min=routes["travel_min"] + 1))


def _break_stay(case: Case) -> Case:
    tasks = case.tables.tasks
    return case.replace(tasks=tasks.assign(duration_min=tasks["duration_min"].where(tasks["task_id"] != "XF-1", 470)))


def _break_one_visit_a_day(case: Case) -> Case:
    visits = case.tables.visits
    acme = visits["uscc"] == ACME
    twin = visits[acme].assign(visit_id=visits.loc[acme, "visit_id"] + "-twin")
    return case.replace(visits=pd.concat([visits, twin], ignore_index=True))


def _break_override(case: Case) -> Case:
    """人工研判修正: XF-2 pinned to a day it is not planned on."""
    overrides = pd.DataFrame(
        {
            "override_id": ["O1"],
            "action": ["pin_date"],
            "task_id": ["XF-2"],
            "other_task_id": [None],
            "uscc": [None],
            "date": [pd.Timestamp(_visit_of(case, "XF-2")["date"]) + pd.Timedelta(days=1)],
            "dept_id": [None],
            "note": ["会商"],
        },
        index=pd.Index([2], name="row"),
    )
    return case.facts(overrides=overrides)


#: rule code → how to break it in the valid plan
BREAKS: dict[str, Callable[[Case], Case]] = {
    name.removeprefix("_break_"): function for name, function in globals().items() if name.startswith("_break_")
}
CHECKED = [r.code for r in RULEBOOK if r.check is not None]


def test_every_checked_rule_has_a_test_pair():
    """The rulebook and this file list the same rules: a new rule comes with its pair."""
    assert sorted(BREAKS) == sorted(CHECKED)


@pytest.mark.parametrize("code", CHECKED)
def test_kept(valid, code):
    """The hand-written county's plan keeps the rule."""
    assert code not in valid.codes(BY_CODE[code].severity)


@pytest.mark.parametrize("code", CHECKED)
def test_broken(valid, code):
    """Broken on purpose, the rule is reported under its own code."""
    assert code in BREAKS[code](valid).codes(BY_CODE[code].severity)
