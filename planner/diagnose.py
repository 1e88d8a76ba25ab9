"""Infeasibility explained: why mandatory tasks cannot be placed, without planning.

``diagnose`` runs the stages before the crew scheduler — the 双随机 draw, the instance and the
merge with its yearly caps — and checks every mandatory task (key, triggered, followup; random
and campaign tasks too on request) against each rule, in the order of ``RULES``. A task that
breaks a rule gets a ``Finding``: the rule's code, the reason in Chinese and English in an
official's terms (which department, which days, which cap, which certificate or delegation
is missing) and what would fix it. Then a capacity check per department and ISO week.

Every check is a *necessary* condition: a blocked finding proves that no plan can place the
task under the rules (or, for the caps, that no plan can keep all the listed tasks); a task
without a finding can still end unplaced, because the scheduler is constructive and travel,
routes and crews competing for the same people are not modelled here (docs/diagnose.md).

Capacity: for any range of weeks [a, b], the person-minutes on site that a department's
mandatory tasks whose feasible days lie wholly inside [a, b] need at the least — each visit
needs one inspector of the task's own department on site for the task's minutes, unless the
task is delegable and another department's inspector holds the delegation — cannot exceed
what its certified inspectors can give in [a, b]: Σ hours_per_day × min(days not on leave in
[a, b], max_days). In ``onsite = "sum"`` the whole county's demand, min_inspectors × minutes
per task, is checked the same way. A range where demand exceeds that is a *shortfall*: some
mandatory task there is certain to stay unplaced. The *paced* supply — each inspector's
max_days spread evenly over the horizon, as the scheduler paces it — gives *pressure* ranges:
at risk, not proven.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from planner.caps import per_dept_used, positive_list_used, used_dates
from planner.dataset import Dataset
from planner.instance import OBSERVED_KINDS, Instance, build_instance, feasible_days
from planner.matching import Roster
from planner.merge import MAX_VISIT_ONSITE_MIN, VisitGroup, add_yearly_caps, long_stay_limits, merge_tasks
from planner.reasons import reason_category
from planner.sampling import draw_sampling_plan
from planner.scenario import Scenario
from planner.schedule import TravelTimes
from planner.stopwatch import Stopwatch
from planner.whatif import apply_staff_scaling
from planner.workdays import WorkCalendar

#: every rule code, in the order a task is checked against them: code → (中文, English)
RULES: dict[str, tuple[str, str]] = {
    "outside_horizon": ("超出计划期", "window outside the planning horizon"),
    "observation_period": ("新业态观察期内", "observation period covers the window"),
    "no_workday_in_window": ("窗口内无工作日（节假日）", "no working day in the window (holidays)"),
    "quiet_days": ("窗口内均为静默日", "every working day of the window is a quiet day"),
    "no_certified_inspector": ("无持证执法人员", "no certified inspector (执法证)"),
    "longer_than_day": ("单日时间不足（路程加现场超过工作日）", "visit longer than any inspector's day"),
    "all_conflicted": ("持证人员均需回避", "every inspector who could go has a conflict (回避)"),
    "on_leave_whole_window": ("窗口内人员全部休假", "every inspector who could go is on leave all window"),
    "crew_too_small": ("凑不齐检查组人数", "not enough inspectors for the crew on any day"),
    "cap_positive_list": ("合规正面清单一年最多查一次", "positive-list cap (one visit a year)"),
    "cap_per_dept": ("部门年度检查次数上限", "department's yearly cap at this enterprise"),
    "enterprise_day_full": ("同一企业当日检查已满（单次现场不超过6小时）", "stays at this enterprise full"),
    "capacity": ("执法力量不足（周人力缺口）", "department short of inspector time in these weeks"),
}
BLOCKED, AT_RISK = "blocked", "at_risk"
#: the whole county in the capacity table (every department's inspectors together)
COUNTY = "*"
_MANDATORY = frozenset({"key", "triggered", "followup"})
_RANGES_PER_DEPT = 3  # worst disjoint week ranges reported per department


@dataclass(frozen=True)
class Finding:
    """One task that cannot be placed (``blocked``) or may not be (``at_risk``), and why."""

    task_id: str
    kind: str
    mandatory: bool
    dept_id: str
    dept_name: str
    uscc: str
    enterprise: str
    window: str  # "YYYY-MM-DD…YYYY-MM-DD" as the demand states it
    rule: str  # a code of RULES
    severity: str  # BLOCKED or AT_RISK
    why_zh: str
    why_en: str
    fix_zh: str
    fix_en: str
    also: tuple[str, ...] = ()  # further rules the task breaks (fix the first, these remain)


@dataclass(frozen=True)
class Shortfall:
    """A range of ISO weeks in which a department's mandatory demand exceeds its inspector time."""

    dept_id: str  # COUNTY for all departments together
    dept_name: str
    first_week: str  # "2026-W07"
    last_week: str
    start: dt.date  # first and last working day of the range
    end: dt.date
    tasks: int  # mandatory tasks whose feasible days lie wholly in the range
    demand_min: int  # person-minutes on site they need at the least
    supply_min: int  # person-minutes the inspectors can give at most (paced: as paced)
    paced: bool  # False: proven shortfall; True: only beyond the paced supply (pressure)

    @property
    def short_min(self) -> int:
        return self.demand_min - self.supply_min


@dataclass(frozen=True)
class Diagnosis:
    """What ``diagnose`` found: findings per task, capacity shortfalls and the weekly table."""

    scenario: str
    tasks: int  # tasks checked (mandatory; and optional ones if asked)
    mandatory: int
    findings: tuple[Finding, ...]
    shortfalls: tuple[Shortfall, ...]
    capacity: pd.DataFrame  # CAPACITY_COLUMNS: one row per department (and COUNTY) and ISO week
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def blocked(self) -> tuple[Finding, ...]:
        """Mandatory tasks no plan can place."""
        return tuple(f for f in self.findings if f.mandatory and f.severity == BLOCKED)

    @property
    def ok(self) -> bool:
        """No mandatory task is blocked and no department is proven short of time."""
        return not self.blocked and not any(not s.paced for s in self.shortfalls)


CAPACITY_COLUMNS = ["dept_id", "week", "week_start", "workdays", "inspectors", "due_min", "spread_min",
                    "supply_min", "paced_supply_min"]  # fmt: skip


def diagnose(dataset: Dataset, scenario: Scenario, calendar: WorkCalendar, *, optional: bool = False) -> Diagnosis:
    """Check every mandatory task (and, with ``optional``, random and campaign tasks) against each
    rule, and each department's time week by week; writes nothing, schedules no crew."""
    watch = Stopwatch()
    lap = watch.lap

    draw = draw_sampling_plan(dataset, scenario.seed, scenario.caps.positive_list_per_year,
                              scenario.caps.per_dept_per_year)  # fmt: skip
    lap("sample")
    dataset = apply_staff_scaling(dataset, scenario)  # as make_plan: after the draw
    instance = build_instance(dataset, draw.tasks, scenario, calendar)
    lap("instance")
    groups, capped_out = merge_tasks(instance, dataset, scenario)
    lap("merge")
    facts = _County(dataset, scenario, instance, groups)
    records = [t for t in instance.tasks.to_dict("records") if optional or t["mandatory"]]
    findings: dict[str, Finding] = {}
    for task in records:
        verdicts = [v for rule in TASK_RULES if (v := rule(task, facts)) is not None]
        if verdicts:
            findings[task["task_id"]] = facts.finding(task, verdicts[0], tuple(v.rule for v in verdicts[1:]))
    lap("tasks")
    blocked_ids = {t for t, f in findings.items() if f.severity == BLOCKED}
    for task in records:
        if task["task_id"] in capped_out and task["task_id"] not in findings:
            verdict = _cap_verdict(task, capped_out[task["task_id"]], facts, blocked_ids)
            findings[task["task_id"]] = facts.finding(task, verdict)
    lap("caps")
    # tasks at risk still want their time; tasks left out for a cap do not (the merge's choice)
    needing = [t for t in records if t["mandatory"] and t["first_day"] >= 0 and t["task_id"] not in blocked_ids
               and (t["task_id"] not in findings or findings[t["task_id"]].severity == AT_RISK)]  # fmt: skip
    capacity, shortfalls, at_risk = _capacity(needing, facts)
    for task in needing:
        if task["task_id"] in at_risk and task["task_id"] not in findings:
            findings[task["task_id"]] = facts.finding(task, at_risk[task["task_id"]])
    lap("capacity")
    order = {code: n for n, code in enumerate(RULES)}
    ranked = sorted(findings.values(), key=lambda f: (not f.mandatory, f.severity != BLOCKED, order[f.rule], f.task_id))
    return Diagnosis(scenario.name, len(records), sum(t["mandatory"] for t in records), tuple(ranked),
                     tuple(shortfalls), capacity, watch.timings)  # fmt: skip


# --- prepared facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """A rule broken by one task: its code, severity, reason and fix in both languages."""

    rule: str
    severity: str
    why_zh: str
    why_en: str
    fix_zh: str
    fix_en: str


class _County:
    """What the rules look at, prepared once: calendar, roster as arrays, travel, names, merge."""

    def __init__(self, dataset: Dataset, scenario: Scenario, instance: Instance, groups: list[VisitGroup]):
        self.scenario, self.instance, self.dataset = scenario, instance, dataset
        self.long_stay = long_stay_limits(dataset, scenario)
        self.workdays = instance.workdays
        self.dates = pd.DatetimeIndex(pd.to_datetime(list(self.workdays)))
        roster = Roster.from_dataset(dataset, len(self.workdays), scenario.planned_share)
        self.people = sorted(roster.dept_of)
        self.dept = np.array([roster.dept_of[p] for p in self.people], dtype=object)
        self.day_min = np.array([int(roster.hours_per_day[p] * 60) for p in self.people], dtype=np.int64)
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
                dtype=np.int64)  # fmt: skip
        self.conflicted: dict[str, np.ndarray] = {}
        for person, usccs in roster.conflicts.items():
            if person in index:
                for uscc in usccs:
                    self.conflicted[uscc] = np.append(self.conflicted.get(uscc, np.zeros(0, np.int64)), index[person])
        self.dept_name = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
        enterprises = dataset.enterprises.set_index("uscc")
        self.enterprise_name = enterprises["name"].to_dict()
        self.township = enterprises["township"].to_dict()
        self.positive = set(dataset.enterprises.loc[dataset.enterprises["positive_list"], "uscc"])
        self.observation = enterprises["observation_until"].to_dict()
        self.travel = TravelTimes(dataset, scenario)
        self.groups_of: dict[str, list[VisitGroup]] = {}
        for group in groups:
            self.groups_of.setdefault(group.uscc, []).append(group)
        self.pl_used = positive_list_used(dataset.history).to_dict()
        self.dept_used = per_dept_used(dataset.history).to_dict()
        self._task_facts: dict[str, _TaskFacts] = {}
        self.tasks_of: dict[str, list[dict]] = {}
        self.task_by_id: dict[str, dict] = {}
        for task in instance.tasks.to_dict("records"):
            self.tasks_of.setdefault(task["uscc"], []).append(task)
            self.task_by_id[task["task_id"]] = task
        self.cores: dict[str, _CapCore | None] = {}  # task → the cap conflict it is in (_task_core)

    def facts(self, task: dict) -> _TaskFacts:
        """The per-task facts the roster rules share (computed once)."""
        if task["task_id"] not in self._task_facts:
            self._task_facts[task["task_id"]] = _TaskFacts.of(task, self)
        return self._task_facts[task["task_id"]]

    def date(self, day: int) -> str:
        return self.workdays[int(day)].isoformat()

    def name(self, dept_id: str) -> str:
        return f"{self.dept_name.get(dept_id, dept_id)}（{dept_id}）"

    def finding(self, task: dict, verdict: Verdict, also: tuple[str, ...] = ()) -> Finding:
        return Finding(
            task_id=task["task_id"], kind=task["kind"], mandatory=bool(task["mandatory"]), dept_id=task["dept_id"],
            dept_name=self.dept_name.get(task["dept_id"], task["dept_id"]), uscc=task["uscc"],
            enterprise=self.enterprise_name.get(task["uscc"], ""), window=_window(task), rule=verdict.rule,
            severity=verdict.severity, why_zh=verdict.why_zh, why_en=verdict.why_en, fix_zh=verdict.fix_zh,
            fix_en=verdict.fix_en, also=also,
        )  # fmt: skip


@dataclass(frozen=True)
class _TaskFacts:
    """Who could go on one task: its days, the length of its visit alone, its candidate inspectors."""

    days: np.ndarray  # feasible working-day indices
    travel_min: int  # station → enterprise → station
    length_min: int  # travel + on-site minutes: the shortest crew-day that does this task
    min_crew: int
    own: np.ndarray  # certified inspectors of the task's department (indices into _County.people)
    delegates: np.ndarray  # other departments' inspectors holding its delegation (delegable tasks only)
    long_enough: np.ndarray  # bool per person: hours_per_day covers length_min
    clear: np.ndarray  # bool per person: no conflict (回避) with the enterprise

    @classmethod
    def of(cls, task: dict, county: _County) -> _TaskFacts:
        days = feasible_days(task["first_day"], task["last_day"], task["capped"], county.instance.quiet)  # none if −1
        station = f"station:{county.township[task['uscc']]}"
        travel = county.travel.minutes(station, task["uscc"]) + county.travel.minutes(task["uscc"], station)
        none = np.zeros(0, np.int64)
        delegates = county.delegates.get(task["dept_id"], none) if task["delegable"] else none
        clear = np.ones(len(county.people), dtype=bool)
        clear[county.conflicted.get(task["uscc"], np.zeros(0, np.int64))] = False
        length = travel + int(task["duration_min"])
        return cls(days, travel, length, max(2, int(task["min_inspectors"])),
                   county.own.get(task["dept_id"], none), delegates, county.day_min >= length, clear)  # fmt: skip

    @property
    def candidates(self) -> np.ndarray:
        """Who may check the task: its department's certified inspectors, then its delegates."""
        return np.concatenate([self.own, self.delegates]).astype(np.int64)

    @property
    def able(self) -> np.ndarray:
        """Candidates with a long enough day and no conflict."""
        c = self.candidates
        return c[self.long_enough[c] & self.clear[c]]


def _window(task: dict) -> str:
    return f"{task['window_start']:%Y-%m-%d}…{task['window_end']:%Y-%m-%d}"


# --- the rules, one function each, in the order of RULES ---------------------------------------


def outside_horizon(task: dict, county: _County) -> Verdict | None:
    """Hard rule: a task is planned inside its window ∩ the horizon (计划期)."""
    horizon = county.scenario.horizon
    if task["window_end"].date() >= horizon.start and task["window_start"].date() <= horizon.end:
        return None
    span = f"{horizon.start}…{horizon.end}"
    return Verdict("outside_horizon", BLOCKED,
                   f"时间窗 {_window(task)} 不在计划期 {span} 内",
                   f"its window {_window(task)} does not meet the planning horizon {span}",
                   "列入其所属年度的计划，或调整情景的计划期 [horizon]",
                   "plan it in the horizon it belongs to, or change the scenario's [horizon]")  # fmt: skip


def observation_period(task: dict, county: _County) -> Verdict | None:
    """Hard rule: random and campaign tasks only after the enterprise's observation period (观察期)."""
    until = county.observation.get(task["uscc"])
    if task["kind"] not in OBSERVED_KINDS or until is None or pd.isna(until):
        return None
    end = min(task["window_end"], pd.Timestamp(county.scenario.horizon.end))
    if until < end:
        return None
    after = (until + pd.Timedelta(days=1)).date().isoformat()
    return Verdict("observation_period", BLOCKED,
                   f"企业处于新业态观察期（至 {until:%Y-%m-%d}），覆盖整个时间窗 {_window(task)}",
                   f"the enterprise is in its observation period until {until:%Y-%m-%d}, through the whole window",
                   f"观察期结束后再安排：时间窗延至 {after} 之后",
                   f"plan it after the observation period: extend the window past {after}")  # fmt: skip


def no_workday_in_window(task: dict, county: _County) -> Verdict | None:
    """Hard rule: visits only on official working days (法定节假日不安排)."""
    first, last = _working_day_range(task, county)
    if first <= last:
        return None
    before = county.date(first - 1) if first > 0 else None
    after = county.date(last + 1) if last + 1 < len(county.workdays) else None
    nearest = " 或 ".join(d for d in (before, after) if d) or "（计划期内没有）"
    nearest_en = " or ".join(d for d in (before, after) if d) or "(none in the horizon)"
    return Verdict("no_workday_in_window", BLOCKED,
                   f"时间窗 {_window(task)} 内全是法定节假日或休息日，没有一个工作日",
                   f"no official working day in its window {_window(task)} (holidays)",
                   f"把时间窗延伸到最近的工作日 {nearest}",
                   f"extend the window to the nearest working day, {nearest_en}")  # fmt: skip


def quiet_days(task: dict, county: _County) -> Verdict | None:
    """Hard rule: no capped visit on a quiet day (无事不扰: quiet_days of the month)."""
    if not task["capped"] or county.scenario.quiet_days is None:
        return None
    first, last = _working_day_range(task, county)
    if first > last or not county.instance.quiet[first : last + 1].all():
        return None
    a, b = county.scenario.quiet_days
    open_days = np.flatnonzero(~county.instance.quiet)
    before, after = open_days[open_days < first], open_days[open_days > last]
    nearest = [county.date(d) for d in (before[-1:].tolist() + after[:1].tolist())]
    return Verdict("quiet_days", BLOCKED,
                   f"时间窗 {_window(task)} 内的工作日均为静默日（每月 {a}–{b} 日不安排常规检查）",
                   f"every working day of its window {_window(task)} is a quiet day (days {a}–{b} of the month)",
                   f"把时间窗延伸到最近的非静默工作日 {' 或 '.join(nearest) or '（无）'}，或调整情景的 quiet_days；"
                   "投诉举报核查应登记为 triggered（不受静默日限制）",
                   f"extend the window to the nearest working day outside the quiet days ({' or '.join(nearest) or 'none'}), "
                   "or change quiet_days; a complaint check should be kind triggered (exempt)")  # fmt: skip


def no_certified_inspector(task: dict, county: _County) -> Verdict | None:
    """Hard rule: every inspector holds a 执法证; a department's item needs one of its own, or a
    delegated inspector of another department for a delegable item (委托查)."""
    facts = county.facts(task)
    if len(facts.own) or len(facts.delegates):
        return None  # its own inspectors, or a delegate of another department (the scheduler sends one)
    dept = county.name(task["dept_id"])
    if task["delegable"]:
        fix_zh = f"为 {dept} 的检查人员登记执法证号，或为其他部门的持证人员增加对 {task['dept_id']} 的委托（delegated_depts）"
        fix_en = (f"register a certificate for an inspector of {task['dept_id']}, or give another department's "
                  f"certified inspector a delegation for {task['dept_id']} (delegated_depts)")
    else:
        fix_zh = f"为 {dept} 的检查人员登记执法证号；若该事项可委托，标为 delegable 并安排其他部门人员持委托检查"
        fix_en = (f"register a certificate for an inspector of {task['dept_id']}; if the item is simple, mark it "
                  "delegable and give another department's inspector the delegation")
    return Verdict("no_certified_inspector", BLOCKED,
                   f"{dept} 名下没有持执法证的检查人员" + ("，也没有其他部门人员持有其委托" if task["delegable"] else ""),
                   f"{task['dept_id']} has no certified inspector (执法证)"
                   + (" and nobody holds its delegation" if task["delegable"] else ""), fix_zh, fix_en)  # fmt: skip


def longer_than_day(task: dict, county: _County) -> Verdict | None:
    """Hard rule: a crew-day fits every member's hours_per_day; this task alone needs its
    on-site minutes plus the trip from the township station and back."""
    facts = county.facts(task)
    candidates = facts.candidates
    if not len(candidates):
        return None
    longest = int(county.day_min[candidates].max())
    crew = int(facts.long_enough.sum())
    split = f"拆分为现场不超过 {max(longest - facts.travel_min, 0)} 分钟的几项"
    split_en = f"split the item into parts of at most {max(longest - facts.travel_min, 0)} on-site minutes"
    hours = math.ceil(facts.length_min / 60)
    need = f"现场 {task['duration_min']} 分钟加往返路程 {facts.travel_min} 分钟，共 {facts.length_min} 分钟"
    need_en = f"{task['duration_min']} min on site plus {facts.travel_min} min travel there and back, {facts.length_min} min"
    if not facts.long_enough[candidates].any():
        return Verdict("longer_than_day", BLOCKED,
                       f"{need}，超过 {county.name(task['dept_id'])} 所有可派人员的单日工作时长（最长 {longest / 60:g} 小时）",
                       f"{need_en}: longer than the day of any inspector who may check it (longest {longest / 60:g} h)",
                       f"{split}，或安排单日工作时长不少于 {hours} 小时（hours_per_day）的持证人员",
                       f"{split_en}, or give an inspector of {task['dept_id']} a day of {hours} h (hours_per_day)")  # fmt: skip
    if crew < facts.min_crew:
        return Verdict("longer_than_day", BLOCKED,
                       f"{need}；全县单日工作时长足够的持证人员只有 {crew} 人，不足检查组所需 {facts.min_crew} 人",
                       f"{need_en}: only {crew} certified inspectors in the county have that long a day, "
                       f"the crew needs {facts.min_crew}",
                       f"{split}，或增加单日工作时长不少于 {hours} 小时的人员",
                       f"{split_en}, or give more inspectors a day of {hours} h")  # fmt: skip
    return None


def all_conflicted(task: dict, county: _County) -> Verdict | None:
    """Hard rule: an inspector never inspects an enterprise they have a conflict with (回避)."""
    facts = county.facts(task)
    candidates = facts.candidates
    fit = candidates[facts.long_enough[candidates]]
    if not len(fit):
        return None
    dept = county.name(task["dept_id"])
    if not facts.clear[fit].any():
        others = sorted({county.dept[i] for i in np.flatnonzero(facts.clear) if county.dept[i] != task["dept_id"]})
        delegation = (f"，或（该事项可委托）由 {'、'.join(others[:4])} 等部门无回避关系的人员持委托检查"
                      if task["delegable"] and others else "")  # fmt: skip
        return Verdict("all_conflicted", BLOCKED,
                       f"{dept} 可派的 {len(fit)} 名持证人员均与该企业存在回避关系",
                       f"all {len(fit)} inspectors who could check it have a conflict (回避) with the enterprise",
                       f"增派与该企业无回避关系的 {dept} 持证人员{delegation}",
                       f"add a certified inspector of {task['dept_id']} without a conflict there"
                       + (", or a delegation to one of another department" if delegation else ""))  # fmt: skip
    county_clear = int((facts.long_enough & facts.clear).sum())
    if county_clear < facts.min_crew:
        return Verdict("all_conflicted", BLOCKED,
                       f"全县无回避关系且工作时长足够的持证人员只有 {county_clear} 人，不足检查组所需 {facts.min_crew} 人",
                       f"only {county_clear} certified inspectors without a conflict there have a long enough day; "
                       f"the crew needs {facts.min_crew}",
                       "增派无回避关系的持证人员",
                       "add certified inspectors without a conflict at this enterprise")  # fmt: skip
    return None


def on_leave_whole_window(task: dict, county: _County) -> Verdict | None:
    """Hard rule: nobody inspects on a day of leave (or with no planned days, max_days 0)."""
    facts = county.facts(task)
    able = facts.able
    if not len(able) or not len(facts.days) or county.avail[np.ix_(able, facts.days)].any():
        return None
    on_leave = int(county.on_leave[np.ix_(able, facts.days)].all(axis=1).sum())
    no_days = int((county.max_days[able] <= 0).sum())
    around = np.flatnonzero(county.avail[able].any(axis=0))
    before, after = around[around < facts.days[0]], around[around > facts.days[-1]]
    nearest = [county.date(d) for d in (before[-1:].tolist() + after[:1].tolist())]
    dept = county.name(task["dept_id"])
    detail = f"（{no_days} 人计划天数为 0）" if no_days else ""
    return Verdict("on_leave_whole_window", BLOCKED,
                   f"{dept} 可派的 {len(able)} 名持证人员在时间窗内全部 {len(facts.days)} 个工作日均不在岗"
                   f"（{on_leave} 人全程休假）{detail}",
                   f"all {len(able)} inspectors who could check it are away on every one of the {len(facts.days)} "
                   f"working days of the window ({on_leave} on leave throughout, {no_days} with max_days 0)",
                   f"调整休假安排，或把时间窗延伸到有人在岗的最近工作日 {' 或 '.join(nearest) or '（无）'}"
                   + ("，或由其他部门人员持委托检查" if task["delegable"] else ""),
                   f"move the leave, or extend the window to the nearest working day someone is in "
                   f"({' or '.join(nearest) or 'none'})" + (", or delegate it" if task["delegable"] else ""))  # fmt: skip


def crew_too_small(task: dict, county: _County) -> Verdict | None:
    """Hard rule: 执法人员不得少于两人 — min_inspectors certified inspectors on the crew, one able to
    check the task, all free that day, with a long enough day and no conflict."""
    facts = county.facts(task)
    able = facts.able
    if not len(able) or not len(facts.days):
        return None
    own_free = county.avail[np.ix_(able, facts.days)].any(axis=0)
    crew_pool = np.flatnonzero(facts.long_enough & facts.clear)
    free = county.avail[np.ix_(crew_pool, facts.days)].sum(axis=0)
    if not own_free.any() or (own_free & (free >= facts.min_crew)).any():
        return None
    best = int(free[own_free].max())
    return Verdict("crew_too_small", BLOCKED,
                   f"时间窗内没有一天能凑齐 {facts.min_crew} 名可出勤的持证人员（最多 {best} 人）",
                   f"on no day of the window are {facts.min_crew} certified inspectors free for it (at most {best})",
                   "增派人员或调整休假；min_inspectors 可降至法定最少 2 人时可降低",
                   "add inspectors or move leave; or lower min_inspectors (at least 2 by law)")  # fmt: skip


#: the per-task rules in order; the caps and capacity follow (they need the other tasks too)
TASK_RULES = (outside_horizon, observation_period, no_workday_in_window, quiet_days, no_certified_inspector,
              longer_than_day, all_conflicted, on_leave_whole_window, crew_too_small)  # fmt: skip


def _working_day_range(task: dict, county: _County) -> tuple[int, int]:
    """Indices of the first and last working day of the clipped window (first > last: none)."""
    start, end = _clipped(task, county)
    return county.dates.searchsorted(start, side="left"), county.dates.searchsorted(end, side="right") - 1


def _clipped(task: dict, county: _County) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The window ∩ the horizon, after the observation period for random and campaign tasks."""
    horizon = county.scenario.horizon
    start = max(task["window_start"], pd.Timestamp(horizon.start))
    until = county.observation.get(task["uscc"])
    if task["kind"] in OBSERVED_KINDS and until is not None and not pd.isna(until):
        start = max(start, until + pd.Timedelta(days=1))
    return start, min(task["window_end"], pd.Timestamp(horizon.end))


# --- yearly caps: which tasks compete for them (CP-SAT with assumptions) ----------------------


@dataclass(frozen=True)
class _CapCore:
    """Mandatory tasks of one enterprise that cannot all be kept, and the limits that make it so."""

    task_ids: tuple[str, ...]  # a minimal set: keep any one fewer and the others fit
    binding: tuple[str, ...]  # "positive_list", "per_dept", "stay": lifting any one of them alone helps
    proven: bool


def _cap_verdict(task: dict, reason: str, county: _County, blocked: set[str]) -> Verdict:
    """A task the merge left out for a yearly cap (or a full stay): which tasks compete, which cap."""
    category = reason_category(reason)
    by_category = {"合规正面清单一年最多查一次": "cap_positive_list", "部门年度检查次数上限": "cap_per_dept"}
    rule = by_category.get(category, "enterprise_day_full")
    year = int(county.instance.years[task["first_day"]])
    if not task["mandatory"]:  # an optional task yields to mandatory ones: the merge's sentence says enough
        return Verdict(rule, BLOCKED, f"{category}：{_limit_words(rule, task, county, year)[0]}", reason,
                       *_cap_fix(task, county, rule))  # fmt: skip
    core = _task_core(task, county, blocked)
    if core is None or not core.task_ids:
        return Verdict(rule, AT_RISK,
                       f"{category}：计划程序未能把它与本企业其他检查合并，但另有安排可以保留本企业全部必查任务",
                       f"{reason}; yet a choice of visits keeping every mandatory task of this enterprise exists",
                       *_cap_fix(task, county, rule))  # fmt: skip
    rule = {"positive_list": "cap_positive_list", "per_dept": "cap_per_dept", "stay": "enterprise_day_full"}.get(
        core.binding[0], rule) if core.binding else rule  # fmt: skip
    listed = "；".join(_task_line(county, t) for t in core.task_ids)
    listed_en = "; ".join(_task_line(county, t, en=True) for t in core.task_ids)
    limit_zh, limit_en = _limit_words(rule, task, county, year)
    stay = "stay" in core.binding and rule != "enterprise_day_full"
    longest = county.long_stay(task["uscc"], {county.task_by_id[t]["dept_id"] for t in core.task_ids})
    fix_zh, fix_en = _cap_fix(task, county, rule, longest if stay else 0)
    if stay:  # the longest stay is the planner's rule (the inspectors' day less the road), not the contract's
        total = sum(int(county.task_by_id[t]["duration_min"]) for t in core.task_ids)
        limit_zh += (f"；这些任务合计现场 {total} 分钟，超过一次检查最长可停留的 {longest} 分钟"
                     "（检查人员一天的工作时间减去往返路程），放不进同一次检查")
        limit_en += (f"; together they need {total} min on site, more than the {longest} min one visit may stay "
                     "(the inspectors' working day less the road there and back)")
    severity = BLOCKED if core.proven else AT_RISK
    return Verdict(rule, severity,
                   f"{limit_zh}；以下必查任务无法同时安排：{listed}。计划保留其他任务，本任务被排除",
                   f"{limit_en}; these mandatory tasks cannot all be kept: {listed_en}. The plan keeps the others",
                   fix_zh, fix_en)  # fmt: skip


def _limit_words(rule: str, task: dict, county: _County, year: int) -> tuple[str, str]:
    caps, uscc, dept = county.scenario.caps, task["uscc"], task["dept_id"]
    if rule == "cap_positive_list":
        dates = used_dates(county.dataset.history, uscc, year)
        used = f"（已用：{', '.join(dates)}）" if dates else ""
        return (f"该企业在合规正面清单上，{year} 年最多安排 {caps.positive_list_per_year} 次常规检查{used}",
                f"the enterprise is on the positive list: {caps.positive_list_per_year} capped visit(s) in {year}"
                + (f" (used: {', '.join(dates)})" if dates else ""))  # fmt: skip
    if rule == "cap_per_dept":
        dates = used_dates(county.dataset.history, uscc, year, dept)
        used = f"（已用：{', '.join(dates)}）" if dates else ""
        return (f"{county.name(dept)} {year} 年对该企业最多安排 {caps.per_dept_per_year} 次常规检查{used}",
                f"{dept} may make {caps.per_dept_per_year} capped visit(s) to this enterprise in {year}"
                + (f" (used: {', '.join(dates)})" if dates else ""))  # fmt: skip
    hours = MAX_VISIT_ONSITE_MIN // 60
    return (f"同一企业一天只安排一次检查，单次现场不超过 {hours} 小时",
            f"one visit a day at an enterprise, at most {hours} hours on site")


def _kept_visits(task: dict, county: _County, rule: str) -> list[str]:
    """Day ranges of the visits the merge kept at the task's enterprise in its year that use the
    binding cap and that the task's window does not reach yet (moving the window there helps)."""
    year = int(county.instance.years[task["first_day"]])
    window = set(range(int(task["first_day"]), int(task["last_day"]) + 1))
    spans = []
    for group in county.groups_of.get(task["uscc"], []):
        if not len(group.days) or int(county.instance.years[group.days[0]]) != year:
            continue
        if window & set(group.days.tolist()):
            continue  # the window reaches it already: moving it there would not help
        uses_cap = group.capped and (rule == "cap_positive_list" or task["dept_id"] in group.depts)
        if rule == "enterprise_day_full" or uses_cap:
            spans.append(f"{county.date(group.days[0])}…{county.date(group.days[-1])}")
    return sorted(set(spans))[:3]


def _cap_fix(task: dict, county: _County, rule: str, stay: int = 0) -> tuple[str, str]:
    """What would let the task in: a window reaching a kept visit, a shorter stay (``stay``: the
    longest one visit may take, when the stay limit takes part), next year."""
    spans = [] if stay else _kept_visits(task, county, rule)
    zh, en = [], []
    if spans:
        zh.append(f"调整时间窗使其与已安排的检查（{'、'.join(spans)}）重叠，并入同一次检查")
        en.append(f"move its window to overlap a kept visit ({', '.join(spans)}) and join it")
    if stay:
        zh.append(f"压缩检查时长使这些任务合计现场不超过 {stay} 分钟，并入同一次检查"
                  "（一次检查最长停留时间由检查人员的工作时间和路程决定，为本计划的规则，非法定）")
        en.append(f"shorten the checks to {stay} min on site in all so they share one visit "
                  "(the longest stay follows from the inspectors' hours and the road; the planner's rule, not the law's)")
    if rule == "enterprise_day_full":
        zh.append("放宽时间窗，分到不同的日子")
        en.append("widen the windows so the checks can go on different days")
    else:
        zh += ["移至下一年度", "投诉举报核查应登记为 triggered（不占用年度次数）"]
        en += ["plan it next year", "a complaint check should be kind triggered (not capped)"]
    return "；或".join(zh), "; or ".join(en)


def _task_line(county: _County, task_id: str, en: bool = False) -> str:
    task = county.task_by_id[task_id]
    if en:
        return f"{task_id} ({task['dept_id']}, {_window(task)})"
    return f"{task_id}（{task['dept_id']}，{_window(task)}）"


def _core_scope(uscc: str, county: _County, blocked: set[str]) -> list[dict]:
    """The enterprise's mandatory tasks that some day and some crew could take."""
    return [t for t in county.tasks_of.get(uscc, [])
            if t["mandatory"] and t["first_day"] >= 0 and t["task_id"] not in blocked]  # fmt: skip


def _task_core(task: dict, county: _County, blocked: set[str]) -> _CapCore | None:
    """The tasks ``task`` competes with: a set of its enterprise's mandatory tasks, ``task`` among
    them, that no choice of visits keeps together within the yearly caps and the stay limit,
    and from which no other task can be taken without that conflict going (CP-SAT with
    assumptions, then deletion); and which limits, lifted alone, would end it. An empty core
    when every mandatory task of the enterprise fits; None when the solver could not tell."""
    if task["task_id"] in county.cores:
        return county.cores[task["task_id"]]
    uscc = task["uscc"]
    tasks = _core_scope(uscc, county, blocked)
    status, core = _solve_core(tasks, uscc, county, relax=())
    if status is None or not status:
        county.cores[task["task_id"]] = None if status is None else _CapCore((), (), True)
        return county.cores[task["task_id"]]
    core |= {task["task_id"]}
    proven = True
    for task_id in sorted(core - {task["task_id"]}):  # deletion: keep only what the conflict needs
        if task_id not in core:
            continue
        trial = [t for t in tasks if t["task_id"] in core and t["task_id"] != task_id]
        infeasible, smaller = _solve_core(trial, uscc, county, relax=())
        if infeasible is None:
            proven = False
        elif infeasible:
            core = (core - {task_id}) & (smaller | {task["task_id"]})
    members = [t for t in tasks if t["task_id"] in core]
    binding = tuple(limit for limit in ("positive_list", "per_dept", "stay")
                    if _solve_core(members, uscc, county, relax=(limit,))[0] is False)  # fmt: skip
    county.cores[task["task_id"]] = _CapCore(tuple(sorted(core)), binding, proven)
    return county.cores[task["task_id"]]


def _solve_core(tasks: list[dict], uscc: str, county: _County, relax: tuple[str, ...]) -> tuple[bool | None, set[str]]:
    """Can every task be kept? (False: yes; True: no, with a core of task ids; None: unknown)."""
    from ortools.sat.python import cp_model

    if not tasks:
        return False, set()
    instance, years = county.instance, county.instance.years
    feasible = {t["task_id"]: feasible_days(t["first_day"], t["last_day"], t["capped"], instance.quiet) for t in tasks}
    days = _distinct_days(feasible, years)
    feasible = {k: f[np.isin(f, days)] for k, f in feasible.items()}
    model = cp_model.CpModel()
    assign = {(t["task_id"], int(d)): model.new_bool_var(f"a_{t['task_id']}_{d}")
              for t in tasks for d in feasible[t["task_id"]]}  # fmt: skip
    keep = {t["task_id"]: model.new_bool_var(f"keep_{t['task_id']}") for t in tasks}
    capped = {d: model.new_bool_var(f"capped_{d}") for d in days}
    depts = sorted({t["dept_id"] for t in tasks})
    checks = {(k, d): model.new_bool_var(f"checks_{k}_{d}") for k in depts for d in days}
    for t in tasks:
        mine = [assign[(t["task_id"], int(d))] for d in feasible[t["task_id"]]]
        model.add(sum(mine) == 1).only_enforce_if(keep[t["task_id"]])
        model.add(sum(mine) <= 1)
        for d in feasible[t["task_id"]]:
            var = assign[(t["task_id"], int(d))]
            if t["capped"]:
                model.add_implication(var, capped[int(d)])
            model.add_bool_or([var.Not(), capped[int(d)].Not(), checks[(t["dept_id"], int(d))]])
    if "stay" not in relax and county.scenario.onsite == "sum":
        # every task here is mandatory, so the merge would take a stay up to its long-stay limit
        stay = county.long_stay(uscc, depts)
        for d in days:
            on_day = [(t, assign[(t["task_id"], d)]) for t in tasks if (t["task_id"], d) in assign]
            short = [(int(t["duration_min"]), v) for t, v in on_day if int(t["duration_min"]) <= MAX_VISIT_ONSITE_MIN]
            model.add(sum(minutes * v for minutes, v in short) <= stay)
            for t, v in on_day:
                if int(t["duration_min"]) > MAX_VISIT_ONSITE_MIN:
                    model.add(sum(o for u, o in on_day if u is not t) == 0).only_enforce_if(v)
    add_yearly_caps(model, uscc, days, years, capped, checks, uscc in county.positive, county.scenario, county.pl_used,
                    county.dept_used, relax)
    model.add_assumptions(list(keep.values()))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = 5.0
    status = solver.solve(model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return False, set()
    if status != cp_model.INFEASIBLE:
        return None, set()
    by_index = {var.index: task_id for task_id, var in keep.items()}
    return True, {by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index}


def _distinct_days(feasible: dict[str, np.ndarray], years: np.ndarray) -> list[int]:
    """Days on which the same tasks are feasible are interchangeable: keep as many of each class
    as it has tasks (a plan uses no more)."""
    classes: dict[tuple, list[int]] = {}
    for day in sorted({int(d) for f in feasible.values() for d in f}):
        signature = (int(years[day]), *(k for k, f in feasible.items() if day in f))
        classes.setdefault(signature, []).append(day)
    return sorted(d for signature, members in classes.items() for d in members[: len(signature) - 1])


# --- capacity: person-minutes per department and ISO week -------------------------------------


def _capacity(tasks: list[dict], county: _County) -> tuple[pd.DataFrame, list[Shortfall], dict[str, Verdict]]:
    """The weekly table, the worst disjoint week ranges short of time per department, and an
    at-risk verdict for each task inside a proven shortfall."""
    week_of, labels, week_days = _weeks(county.workdays)
    n_weeks = len(labels)
    demand: dict[str, list[tuple[dict, int]]] = {}  # department → (task, person-minutes)
    for task in tasks:
        facts = county.facts(task)
        if not (task["delegable"] and len(facts.delegates)):  # a delegate could carry it instead
            demand.setdefault(task["dept_id"], []).append((task, int(task["duration_min"])))
        if county.scenario.onsite == "sum":
            demand.setdefault(COUNTY, []).append((task, facts.min_crew * int(task["duration_min"])))
    rows, shortfalls, at_risk = [], [], {}
    depts = sorted(county.own) + ([COUNTY] if county.scenario.onsite == "sum" else [])
    for dept_id in depts:
        people = np.arange(len(county.people)) if dept_id == COUNTY else county.own[dept_id]
        # days each person can work per week; the minutes of such a day; max_days over any range
        free = np.zeros((len(people), n_weeks), dtype=np.int64)
        for w in range(n_weeks):
            free[:, w] = county.avail[np.ix_(people, np.flatnonzero(week_of == w))].sum(axis=1)
        day_min, max_days = county.day_min[people], county.max_days[people]
        share = np.minimum(1.0, max_days / max(len(county.workdays), 1))
        cum = np.concatenate([np.zeros((len(people), 1), np.int64), free.cumsum(axis=1)], axis=1)
        in_range = cum[:, None, 1:] - cum[:, :-1, None]  # [person, a, b]: free days in weeks a..b
        supply = (np.minimum(in_range, max_days[:, None, None]) * day_min[:, None, None]).sum(axis=0)
        paced = (in_range * (day_min * share)[:, None, None]).sum(axis=0)
        due = np.zeros((n_weeks, n_weeks), dtype=np.int64)
        count = np.zeros((n_weeks, n_weeks), dtype=np.int64)
        spread = np.zeros(n_weeks)
        spans = []
        for task, minutes in demand.get(dept_id, []):
            days = county.facts(task).days
            a, b = int(week_of[days[0]]), int(week_of[days[-1]])
            due[a, b] += minutes
            count[a, b] += 1
            spread += np.bincount(week_of[days], minlength=n_weeks) * (minutes / len(days))
            spans.append((task, a, b))
        inside = np.flip(np.flip(due, 0).cumsum(0), 0).cumsum(1)  # [a, b]: tasks with a ≤ wa, wb ≤ b
        n_inside = np.flip(np.flip(count, 0).cumsum(0), 0).cumsum(1)
        name = "全县（所有部门）" if dept_id == COUNTY else county.dept_name.get(dept_id, dept_id)
        for is_paced, limit in ((False, supply), (True, paced)):
            for a, b in _worst_ranges(inside - limit):
                shortfalls.append(Shortfall(dept_id, name, labels[a], labels[b], week_days[a][0], week_days[b][-1],
                                            int(n_inside[a, b]), int(inside[a, b]), int(limit[a, b]), is_paced))  # fmt: skip
                if not is_paced:
                    for task, wa, wb in spans:
                        if a <= wa and wb <= b and task["task_id"] not in at_risk:
                            at_risk[task["task_id"]] = _capacity_verdict(dept_id, county, labels[a], labels[b],
                                                                         inside[a, b], limit[a, b])  # fmt: skip
        for w in range(n_weeks):
            rows.append((dept_id, labels[w], week_days[w][0], len(week_days[w]), int((free[:, w] > 0).sum()),
                         int(due[w, w]), int(round(spread[w])), int(supply[w, w]), int(round(paced[w, w]))))  # fmt: skip
    shortfalls.sort(key=lambda s: (s.paced, -s.short_min, s.dept_id, s.first_week))
    return pd.DataFrame(rows, columns=CAPACITY_COLUMNS), shortfalls, at_risk


def _weeks(workdays: tuple[dt.date, ...]) -> tuple[np.ndarray, list[str], list[list[dt.date]]]:
    """Each working day's ISO-week number (0, 1, …), the week labels and each week's working days."""
    labels: list[str] = []
    week_days: list[list[dt.date]] = []
    week_of = np.zeros(len(workdays), dtype=np.int64)
    for n, day in enumerate(workdays):
        year, week, _ = day.isocalendar()
        label = f"{year}-W{week:02d}"
        if not labels or labels[-1] != label:
            labels.append(label)
            week_days.append([])
        week_days[-1].append(day)
        week_of[n] = len(labels) - 1
    return week_of, labels, week_days


def _worst_ranges(excess: np.ndarray) -> list[tuple[int, int]]:
    """Up to _RANGES_PER_DEPT disjoint week ranges [a, b] with the largest positive excess."""
    a_idx, b_idx = np.nonzero(np.triu(excess > 0))
    order = sorted(zip(a_idx.tolist(), b_idx.tolist()), key=lambda ab: (-excess[ab], ab[1] - ab[0], ab))
    chosen: list[tuple[int, int]] = []
    for a, b in order:
        if all(b < c or a > d for c, d in chosen):
            chosen.append((a, b))
            if len(chosen) == _RANGES_PER_DEPT:
                break
    return sorted(chosen)


def _capacity_verdict(dept_id: str, county: _County, first: str, last: str, demand: int, supply: int) -> Verdict:
    weeks = first if first == last else f"{first}–{last}"
    who = "全县持证人员" if dept_id == COUNTY else f"{county.name(dept_id)} 的持证人员"
    who_en = "the county's inspectors" if dept_id == COUNTY else f"{dept_id}'s inspectors"
    return Verdict("capacity", AT_RISK,
                   f"{weeks} 周内必查任务至少需现场 {demand / 60:,.1f} 人·小时，{who}最多只能提供 {supply / 60:,.1f} 人·小时，"
                   "其中至少有一项无法安排",
                   f"in {weeks} the mandatory tasks need at least {demand / 60:,.1f} inspector-hours on site and "
                   f"{who_en} have at most {supply / 60:,.1f}: at least one of them cannot be placed",
                   "增派持证人员或为其他部门人员增加委托、调整休假、放宽时间窗",
                   "add certified inspectors or delegations from other departments, move leave, or widen windows")  # fmt: skip


# --- output -----------------------------------------------------------------------------------


def to_json(diagnosis: Diagnosis) -> dict:
    """The diagnosis as plain JSON-ready values (dates as ISO text)."""
    capacity = diagnosis.capacity.assign(week_start=diagnosis.capacity["week_start"].map(lambda d: d.isoformat()))
    counts: dict[str, dict[str, int]] = {}
    for f in diagnosis.findings:
        counts.setdefault(f.rule, {BLOCKED: 0, AT_RISK: 0, "optional": 0})
        counts[f.rule]["optional" if not f.mandatory else f.severity] += 1
    return {
        "scenario": diagnosis.scenario,
        "ok": diagnosis.ok,
        "tasks": diagnosis.tasks,
        "mandatory": diagnosis.mandatory,
        "blocked": len(diagnosis.blocked),
        "rules": {code: {"zh": zh, "en": en} for code, (zh, en) in RULES.items()},
        "counts": counts,
        "findings": [asdict(f) | {"also": list(f.also)} for f in diagnosis.findings],
        "shortfalls": [asdict(s) | {"start": s.start.isoformat(), "end": s.end.isoformat(), "short_min": s.short_min}
                       for s in diagnosis.shortfalls],  # fmt: skip
        "capacity": capacity.to_dict("records"),
        "timings": diagnosis.timings,
    }


def render(diagnosis: Diagnosis, console, limit: int = 20) -> None:
    """Print the diagnosis on a rich ``console``: counts per rule, capacity shortfalls, then the
    findings (mandatory first), each table cut at ``limit`` rows with a note of how many more."""
    from rich.table import Table

    mandatory = [f for f in diagnosis.findings if f.mandatory]
    optional = [f for f in diagnosis.findings if not f.mandatory]
    seconds = sum(diagnosis.timings.values())
    console.print(f"[bold]{diagnosis.scenario}[/]: {diagnosis.mandatory:,} mandatory tasks checked"
                  f"{f' ({diagnosis.tasks - diagnosis.mandatory:,} optional too)' if diagnosis.tasks > diagnosis.mandatory else ''}"
                  f" in {seconds:.1f}s; [bold {'red' if diagnosis.blocked else 'green'}]{len(diagnosis.blocked):,} cannot be "
                  f"placed[/], {sum(f.severity == AT_RISK for f in mandatory):,} at risk")  # fmt: skip
    proven = sum(not s.paced for s in diagnosis.shortfalls)
    if proven:
        console.print(f"[bold red]{proven:,} range(s) of weeks short of inspector time[/]: in each, at least one "
                      "mandatory task (listed as capacity, at risk) cannot be placed")  # fmt: skip
    counts = Table(title="按规则统计 Findings per rule", title_justify="left")
    for column, justify in (("规则", "left"), ("rule", "left"), ("blocked", "right"), ("at risk", "right"),
                            ("optional", "right")):  # fmt: skip
        counts.add_column(column, justify=justify)
    for code, (zh, _) in RULES.items():
        mine = [f for f in diagnosis.findings if f.rule == code]
        if mine:
            counts.add_row(zh, code, str(sum(f.mandatory and f.severity == BLOCKED for f in mine)),
                           str(sum(f.mandatory and f.severity == AT_RISK for f in mine)),
                           str(sum(not f.mandatory for f in mine)))  # fmt: skip
    console.print(counts)
    short = Table(title="人力缺口 Capacity shortfalls (person-hours on site; paced = at risk only)", title_justify="left")
    for column in ("部门 dept", "weeks", "dates", "tasks", "need h", "have h", "short h", "kind"):
        short.add_column(column, justify="right" if column.endswith(("h", "tasks")) else "left")
    for s in diagnosis.shortfalls[:limit]:
        weeks = s.first_week if s.first_week == s.last_week else f"{s.first_week}–{s.last_week}"
        short.add_row(f"{s.dept_name} ({s.dept_id})", weeks, f"{s.start}…{s.end}", str(s.tasks),
                      f"{s.demand_min / 60:,.1f}", f"{s.supply_min / 60:,.1f}", f"{s.short_min / 60:,.1f}",
                      "paced (at risk)" if s.paced else "[red]proven[/]")  # fmt: skip
    if diagnosis.shortfalls:
        console.print(short)
        _more(console, len(diagnosis.shortfalls), limit, "shortfalls")
    else:
        console.print("人力缺口 Capacity: no department is short of inspector time in any range of weeks")
    for title, rows in (("必查任务 Mandatory tasks", mandatory), ("其他任务 Optional tasks", optional)):
        if not rows:
            continue
        table = Table(title=title, title_justify="left", show_lines=True)
        for column in ("task", "部门", "企业", "window", "rule", "原因 why", "建议 fix"):
            table.add_column(column, overflow="fold")
        for f in rows[:limit]:
            rule = f.rule if f.severity == BLOCKED else f"{f.rule} (at risk)"
            if f.also:
                rule += f" + {', '.join(f.also)}"
            table.add_row(f"{f.task_id}\n{f.kind}", f"{f.dept_name}\n{f.dept_id}", f"{f.enterprise}\n{f.uscc}",
                          f.window, rule, f.why_zh, f.fix_zh)  # fmt: skip
        console.print(table)
        _more(console, len(rows), limit, "findings")


def _more(console, total: int, limit: int, what: str) -> None:
    if total > limit:
        console.print(f"… and {total - limit:,} more {what} (--limit, or --json for all)")
