"""What the rules look at when ``planner diagnose`` explains a task, prepared once per county."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.dataset import Dataset
from planner.diagnose.findings import Finding
from planner.model.groups import VisitGroup
from planner.model.instance import Instance
from planner.model.matching import Roster
from planner.rules.caps import YearlyCaps
from planner.rules.crews import min_crew
from planner.rules.explain import Verdict, window_text
from planner.rules.staff_days import day_minutes
from planner.rules.stays import long_stay_limits
from planner.rules.windows import feasible_days
from planner.scenario import Scenario
from planner.travel import TravelTimes


class County:
    """What the rules look at, prepared once: calendar, roster as arrays, travel, names, merge."""

    def __init__(self, dataset: Dataset, scenario: Scenario, instance: Instance, groups: list[VisitGroup]):
        self.scenario, self.instance, self.dataset = scenario, instance, dataset
        self.long_stay = long_stay_limits(dataset, scenario)
        self.workdays = instance.workdays
        self.dates = pd.DatetimeIndex(pd.to_datetime(list(self.workdays)))
        roster = Roster.from_dataset(dataset, len(self.workdays), scenario.planned_share)
        self.people = sorted(roster.dept_of)
        self.dept = np.array([roster.dept_of[p] for p in self.people], dtype=object)
        self.day_min = np.array([day_minutes(roster.hours_per_day[p]) for p in self.people], dtype=np.int64)
        self.max_days = np.array([roster.max_days[p] for p in self.people], dtype=np.int64)
        index = {p: i for i, p in enumerate(self.people)}
        self.on_leave = np.zeros((len(self.people), len(self.workdays)), dtype=bool)
        for i, person in enumerate(self.people):
            off = roster.leave.get(person, ())
            self.on_leave[i] = [d in off for d in self.workdays]
        self.avail = ~self.on_leave  # and some planned days at all: max_days 0 never goes
        self.avail[self.max_days <= 0] = False
        self.own: dict[str, np.ndarray] = {}
        self.delegates: dict[str, np.ndarray] = {}
        for dept_id in dataset.departments["dept_id"]:
            self.own[dept_id] = np.flatnonzero(self.dept == dept_id)
            self.delegates[dept_id] = np.array(
                [i for i, p in enumerate(self.people) if dept_id in roster.delegations[p] and self.dept[i] != dept_id],
                dtype=np.int64,
            )
        self.conflicted: dict[str, np.ndarray] = {}
        for person, usccs in roster.conflicts.items():
            if person in index:
                for uscc in usccs:
                    self.conflicted[uscc] = np.append(self.conflicted.get(uscc, np.zeros(0, np.int64)), index[person])
        self.dept_name = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
        enterprises = dataset.enterprises.set_index("uscc")
        self.enterprise_name = enterprises["name"].to_dict()
        self.township = enterprises["township"].to_dict()
        self.caps = YearlyCaps.of_scenario(dataset, scenario)
        self.observation = enterprises["observation_until"].to_dict()
        self.travel = TravelTimes(dataset, scenario)
        self.groups_of: dict[str, list[VisitGroup]] = {}
        for group in groups:
            self.groups_of.setdefault(group.uscc, []).append(group)
        self._task_facts: dict[str, TaskFacts] = {}
        self.tasks_of: dict[str, list[dict]] = {}
        self.task_by_id: dict[str, dict] = {}
        for task in instance.tasks.to_dict("records"):
            self.tasks_of.setdefault(task["uscc"], []).append(task)
            self.task_by_id[task["task_id"]] = task
        self.cores: dict = {}  # task → the cap conflict it is in (_task_core)

    def facts(self, task: dict) -> TaskFacts:
        """The per-task facts the roster rules share (computed once)."""
        if task["task_id"] not in self._task_facts:
            self._task_facts[task["task_id"]] = TaskFacts.of(task, self)
        return self._task_facts[task["task_id"]]

    def date(self, day: int) -> str:
        return self.workdays[int(day)].isoformat()

    def finding(self, task: dict, verdict: Verdict, also: tuple[str, ...] = ()) -> Finding:
        return Finding(
            task_id=task["task_id"],
            kind=task["kind"],
            mandatory=bool(task["mandatory"]),
            dept_id=task["dept_id"],
            dept_name=self.dept_name.get(task["dept_id"], task["dept_id"]),
            uscc=task["uscc"],
            enterprise=self.enterprise_name.get(task["uscc"], ""),
            window=window_text(task),
            rule=verdict.rule,
            severity=verdict.severity,
            why_zh=verdict.why_in("zh", self.dept_name),
            why_en=verdict.why_in("en", self.dept_name),
            fix_zh=verdict.fix_in("zh", self.dept_name),
            fix_en=verdict.fix_in("en", self.dept_name),
            also=also,
        )


@dataclass(frozen=True)
class TaskFacts:
    """Who could go on one task: its days, the length of its visit alone, its candidate inspectors."""

    days: np.ndarray  # feasible working-day indices
    travel_min: int  # station → enterprise → station
    length_min: int  # travel + on-site minutes: the shortest crew-day that does this task
    min_crew: int
    own: np.ndarray  # certified inspectors of the task's department (indices into County.people)
    delegates: np.ndarray  # other departments' inspectors holding its delegation (delegable tasks only)
    long_enough: np.ndarray  # bool per person: hours_per_day covers length_min
    clear: np.ndarray  # bool per person: no conflict (回避) with the enterprise

    @classmethod
    def of(cls, task: dict, county: County) -> TaskFacts:
        days = feasible_days(task["first_day"], task["last_day"], task["capped"], county.instance.quiet)  # none if −1
        station = f"station:{county.township[task['uscc']]}"
        travel = county.travel.minutes(station, task["uscc"]) + county.travel.minutes(task["uscc"], station)
        none = np.zeros(0, np.int64)
        delegates = county.delegates.get(task["dept_id"], none) if task["delegable"] else none
        clear = np.ones(len(county.people), dtype=bool)
        clear[county.conflicted.get(task["uscc"], np.zeros(0, np.int64))] = False
        length = travel + int(task["duration_min"])
        return cls(
            days,
            travel,
            length,
            min_crew(task["min_inspectors"]),
            county.own.get(task["dept_id"], none),
            delegates,
            county.day_min >= length,
            clear,
        )

    @property
    def candidates(self) -> np.ndarray:
        """Who may check the task: its department's certified inspectors, then its delegates."""
        return np.concatenate([self.own, self.delegates]).astype(np.int64)

    @property
    def able(self) -> np.ndarray:
        """Candidates with a long enough day and no conflict."""
        c = self.candidates
        return c[self.long_enough[c] & self.clear[c]]
