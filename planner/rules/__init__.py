"""The rulebook: every rule a plan keeps, once, by the name the law or the county gives it.

``RULEBOOK`` lists them in order — the plan's own integrity first, then the hard rules of the law
and of the county's policy, then the planner's own rules of practice, then the goals — each with
its code, its Chinese name, the official wording, where that wording comes from, whether it is
hard, and the function that re-checks it on a finished plan. One module per family of rules
holds the rule's facts, its CP-SAT form, the test the constructive scheduler and the draw use,
the sentence that explains a task it keeps out, and its check:

=====================  =========================================================================
module                 rules
=====================  =========================================================================
``tasks``              plan_integrity, visit_integrity, every_task_accounted, random_draw; which kinds are 必查
``windows``            window, working_day
``observation``        observation_period (观察期), sandbox (优信豁免沙盒)
``quiet_days``         quiet_days (无事不扰)
``caps``               cap_positive_list (一年最多查一次), cap_per_dept
``appointments``       appointment (预约式指导服务: in its window, its departments in one visit, no cap used)
``crews``              certified (持证), crew_size (不得少于两人), department_cover (委托查)
``conflicts``          conflict (回避)
``staff_days``         leave, one_crew_a_day, max_days, day_length's minutes
``offsite``            offsite_no_visit (能书面核查的不得入企), desk_time (非现场检查的案头工时)
``routes``             route_times, day_length
``stays``              stay, one_visit_a_day (the planner's rules of practice)
``overrides``          override (人工研判修正: the officials' corrections, from the input table ``overrides``)
=====================  =========================================================================

The checker (``planner.checker``) runs every rule's ``check`` on the plan tables and the inputs
alone; a broken rule is reported with its code. ``planner diagnose`` names the rule that keeps a
task out; the docs' rule table is generated from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from planner.messages import DEFAULT_LANG, catalogue, text
from planner.rules import (
    appointments,
    caps,
    conflicts,
    crews,
    observation,
    offsite,
    overrides,
    quiet_days,
    routes,
    staff_days,
    stays,
    tasks,
    windows,
)

#: how binding a rule is: ``hard`` (law or county policy: a plan that breaks it is invalid),
#: ``practice`` (the planner's own rule, kept by construction; the contract allows more),
#: ``goal`` (what the optimisation seeks, in this order)
HARD, PRACTICE, GOAL = "hard", "practice", "goal"

#: sources the wording is taken from
PENALTY_LAW = "《中华人民共和国行政处罚法》（2021年修订）"
HUZHOU = "湖州市《关于深化“大综合一体化”行政执法改革提升行政执法质效的实施意见》"
ZHEJIANG_2024 = "《浙江法制报》2024-08-21《创新“互动治理型”执法模式》"
TAIXING = "《泰兴市优信豁免沙盒监管试点工作方案》"
STATE_COUNCIL_2015 = "《国务院办公厅关于推广随机抽查规范事中事后监管的通知》（国办发〔2015〕58号）"
PLANNER = "本计划工具的规则（非法定）"


@dataclass(frozen=True)
class Rule:
    """One rule of the rulebook.

    ``code`` names it everywhere (checker, diagnose, tests, docs); ``title`` is its Chinese name;
    ``wording`` the official text it rests on and ``source`` where that text is; ``severity``
    HARD, PRACTICE or GOAL; ``check(plan, inputs)`` the checker's test (None where the rule is
    kept by construction or is a goal); ``message`` the id of its label in the message catalogue
    (planner.messages): what an official reads when the rule keeps a task out of the plan (the
    未排原因 category), ``label`` in Chinese and ``label_en`` in English."""

    code: str
    title: str
    wording: str
    source: str
    severity: str
    check: Callable | None = None

    @property
    def message(self) -> str:
        return f"rule.{self.code}"

    label = property(lambda self: reason_label(self.code))
    label_en = property(lambda self: reason_label(self.code, "en"))


def _rule(code, title, wording, source, severity, check=None) -> Rule:
    return Rule(code, title, wording, source, severity, check)


RULEBOOK: tuple[Rule, ...] = (
    # the plan's integrity: the rules below trust its keys
    _rule(
        "plan_integrity",
        "计划表与检查任务一致",
        "计划所列任务与各部门检查计划一致，检查户次、检查组、路线相互对应",
        PLANNER,
        HARD,
        tasks.check_plan_integrity,
    ),
    _rule(
        "visit_integrity",
        "检查户次与检查组对应",
        "每次检查在其任务所属企业进行，有检查组和检查任务，检查组成员不重复",
        PLANNER,
        HARD,
        tasks.check_visit_integrity,
    ),
    _rule(
        "random_draw",
        "双随机抽取结果全部列入计划",
        "随机抽取检查对象，随机选派执法检查人员，抽查情况及查处结果及时向社会公开",
        STATE_COUNCIL_2015,
        HARD,
        tasks.check_random_draw,
    ),
    _rule(
        "every_task_accounted",
        "任务不重不漏（每项任务或安排一次，或列明未安排原因）",
        "做到“非必要不计划、无计划不检查”",
        ZHEJIANG_2024,
        HARD,
        tasks.check_every_task_accounted,
    ),
    # when
    _rule(
        "window",
        "在任务时间窗和计划期内",
        "各部门年度检查计划确定的检查时段",
        PLANNER,
        HARD,
        windows.check_window,
    ),
    _rule(
        "working_day",
        "法定工作日",
        "法定节假日、休息日不安排检查（以国务院办公厅放假安排为准）",
        PLANNER,
        HARD,
        windows.check_working_day,
    ),
    _rule(
        "observation_period",
        "新业态观察期",
        "对“三新”经济活动设置“观察期”，避免执法“一刀切”",
        HUZHOU,
        HARD,
        observation.check_observation_period,
    ),
    _rule(
        "sandbox",
        "优信豁免沙盒",
        "探索优信豁免沙盒监管；对实施“红线”清单内列明违法行为的企业，依法严肃查处，并移出“优信豁免沙盒监管”范围",
        TAIXING,
        HARD,
        observation.check_sandbox,
    ),
    _rule(
        "quiet_days",
        "静默日（无事不扰）",
        "坚持“管住风险、无事不扰”",
        HUZHOU,
        HARD,
        quiet_days.check_quiet_days,
    ),
    _rule(
        "cap_positive_list",
        "合规正面清单一年最多查一次",
        "建立企业合规“正面清单”，落实“一年最多查一次”等监管措施",
        HUZHOU,
        HARD,
        caps.check_cap_positive_list,
    ),
    _rule(
        "cap_per_dept",
        "部门年度检查次数上限",
        "合理确定检查频次，减少重复和不必要检查",
        HUZHOU,
        HARD,
        caps.check_cap_per_dept,
    ),
    _rule(
        "appointment",
        "预约式指导服务按约安排",
        "创新预约式指导服务模式，实现“企业预约执法”和“执法预约企业”双向互动，为企业提供集成化、定制化、套餐式的跨部门联合指导服务",
        HUZHOU,
        HARD,
        appointments.check_appointment,
    ),
    _rule(
        "offsite_no_visit",
        "能书面核查的不得入企",
        "推行远程监管、移动监管、预警防控为特征的非现场监管方式，实现“无感检查”“精准监管”",
        HUZHOU,
        HARD,
        offsite.check_offsite_no_visit,
    ),
    # who
    _rule(
        "certified",
        "持证执法",
        "行政处罚应当由具有行政执法资格的执法人员实施（第四十二条）",
        PENALTY_LAW,
        HARD,
        crews.check_certified,
    ),
    _rule(
        "crew_size",
        "执法人员不得少于两人",
        "执法人员不得少于两人，法律另有规定的除外（第四十二条）",
        PENALTY_LAW,
        HARD,
        crews.check_crew_size,
    ),
    _rule(
        "department_cover",
        "本部门人员或受委托人员检查（委托查）",
        "探索简单事项采取委托检查方式，精简现场检查人员",
        HUZHOU,
        HARD,
        crews.check_department_cover,
    ),
    _rule(
        "conflict",
        "回避",
        "执法人员与案件有直接利害关系或者有其他关系可能影响公正执法的，应当回避（第四十三条）",
        PENALTY_LAW,
        HARD,
        conflicts.check_conflict,
    ),
    _rule(
        "leave",
        "休假人员不安排",
        "请休假期间不安排检查任务",
        PLANNER,
        HARD,
        staff_days.check_leave,
    ),
    _rule(
        "one_crew_a_day",
        "一人一天只在一个检查组",
        "同一执法人员同一天只参加一个检查组",
        PLANNER,
        HARD,
        staff_days.check_one_crew_a_day,
    ),
    _rule(
        "max_days",
        "计划检查天数上限",
        "每名执法人员纳入联合检查计划的天数不超过其可用天数（max_days，或计划期工作日 × planned_share）",
        PLANNER,
        HARD,
        staff_days.check_max_days,
    ),
    _rule(
        "desk_time",
        "非现场检查占用执法人员工时",
        "每项非现场检查（书面·远程核查）由本部门或受委托的持证执法人员在其可用工作日完成，占用该人员当日工时的"
        "desk_share，计入其计划检查天数（max_days）",
        PLANNER,
        HARD,
        offsite.check_desk_time,
    ),
    _rule(
        "staff_capacity",
        "执法力量（可用工时）",
        "各部门在岗持证人员的可用工时（扣除休假、计划天数上限）足以完成必查任务；由休假、计划天数和工作时长三条规则共同保证",
        PLANNER,
        HARD,
    ),
    _rule(
        "day_length",
        "工作时长",
        "检查组一天的路程和现场检查时间不超过每名成员的工作时长",
        PLANNER,
        HARD,
        routes.check_day_length,
    ),
    _rule(
        "route_times",
        "路线与时间一致",
        "检查组从乡镇（街道）驻点出发并返回，路程、到达和停留时间前后一致",
        PLANNER,
        HARD,
        routes.check_route_times,
    ),
    # the officials' hand
    _rule(
        "override",
        "人工研判修正",
        "合并方案“经人工研判修正”：会商确定的固定日期、同次检查、不得同次、牵头部门和排除日期逐条落实",
        PLANNER,
        HARD,
        overrides.check_override,
    ),
    # the planner's rules of practice
    _rule(
        "stay",
        "单次现场不超过6小时",
        "一次检查在企业停留不超过6小时；仅为保留必查任务可延长至工作时长减往返路程",
        PLANNER,
        PRACTICE,
        stays.check_stay,
    ),
    _rule(
        "one_visit_a_day",
        "同一企业一天只查一次",
        "同一企业同一天只安排一次检查（无事不扰）",
        PLANNER,
        PRACTICE,
        stays.check_one_visit_a_day,
    ),
    # the goals, in order
    _rule(
        "mandatory_first",
        "必查任务优先",
        "重点监管、投诉举报核查、整改复查为法定职责，不为其他任务让路",
        PLANNER,
        GOAL,
    ),
    _rule(
        "tasks_placed",
        "应查尽查",
        "在执法力量允许的范围内安排尽可能多的检查任务",
        PLANNER,
        GOAL,
    ),
    _rule(
        "fewest_visits",
        "综合查一次（进一次门、查多项事）",
        "更大力度落实“综合查一次”，减少重复或不必要的检查",
        ZHEJIANG_2024,
        GOAL,
    ),
    _rule("inspector_hours", "节约执法力量", "同等检查户次下，路程和人员工时最少", PLANNER, GOAL),
)

BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULEBOOK}


def rule(code: str) -> Rule:
    """The rule of ``code`` (KeyError names an unknown code)."""
    return BY_CODE[code]


@dataclass(frozen=True)
class Outcome:
    """Why a re-optimisation takes a task out of the plan that is not a rule: what happened to it
    (its label, like a rule's, is the catalogue's ``rule.<code>``)."""

    code: str
    label = Rule.label
    label_en = Rule.label_en


OUTCOMES: tuple[Outcome, ...] = tuple(Outcome(code) for code in ("cancelled", "closed", "done_elsewhere", "expired"))

#: the English reason sentences of plans written before reasons carried their code
#: (``reason_code``) → that code: the first fragment found in a reason names it (order matters:
#: a reason may quote another)
LEGACY_REASON_FRAGMENTS: tuple[tuple[str, str], ...] = (
    ("outside the horizon", "window"),
    ("观察期", "observation_period"),
    ("quiet day", "quiet_days"),
    ("no official working day", "working_day"),
    ("合规正面清单", "cap_positive_list"),
    ("capped visits a year", "cap_per_dept"),
    ("no certified inspector", "certified"),
    ("longer than any available inspector's day", "day_length"),
    ("was free on any working day", "staff_capacity"),
    ("could take it on any of the", "staff_capacity"),
    ("full stay", "stay"),
    ("left out of a joint visit", "mandatory_first"),
    ("cancelled by the department", "cancelled"),
    ("enterprise has closed", "closed"),
    ("outside a planned visit", "done_elsewhere"),
    ("window ended before the re-optimisation", "expired"),
)
OTHER = "other"  # the code of a reason no rule or outcome wrote


def reason_label(code: str | None, lang: str = DEFAULT_LANG) -> str:
    """The category an official reads for a reason's ``code`` (the catalogue's ``rule.<code>``;
    "其他" / "other" for a code no rule or outcome has)."""
    known = code is not None and f"rule.{code}" in catalogue(lang)
    return text(f"rule.{code if known else OTHER}", lang)


def legacy_reason_code(reason: str) -> str:
    """The code of a reason sentence of an older plan (``LEGACY_REASON_FRAGMENTS``; ``other``)."""
    for fragment, code in LEGACY_REASON_FRAGMENTS:
        if fragment in reason:
            return code
    return OTHER


def reason_codes(unscheduled: pd.DataFrame) -> pd.Series:
    """Each unscheduled task's reason code: its ``reason_code``, or, in a plan written before
    that column, the code its English sentence names."""
    if "reason_code" in unscheduled.columns:
        return unscheduled["reason_code"].fillna(OTHER).astype(str)
    return unscheduled["reason"].fillna("").astype(str).map(legacy_reason_code)


def rulebook_markdown() -> str:
    """The rulebook as a Markdown table, for docs/architecture.md (a test keeps them equal)."""
    kinds = {HARD: "hard", PRACTICE: "practice", GOAL: "goal"}
    lines = ["| code | 规则 | kind | wording (source) | checked by |", "|---|---|---|---|---|"]
    for r in RULEBOOK:
        check = f"`{r.check.__module__.removeprefix('planner.')}.{r.check.__name__}`" if r.check else "—"
        lines.append(f"| `{r.code}` | {r.title} | {kinds[r.severity]} | {r.wording}（{r.source}） | {check} |")
    return "\n".join(lines) + "\n"
