"""The input tables of the data contract, declared once.

The loader, the docs test and ``planner validate`` all read these declarations, so a column
added here is parsed, checked and documented the same way everywhere. Names are the contract's
English names; ``aliases`` are the Chinese headers that departmental systems export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Kind(StrEnum):
    """How a column's cells are read and checked."""

    ID = "id"  # identifier: text, never a number (leading zeros survive)
    TEXT = "text"
    USCC = "uscc"  # GB 32100-2015 code: trimmed, upper-cased, check digit
    INDUSTRY = "industry"  # GB/T 4754 code, stored as its digits
    FLOAT = "float"
    INT = "int"
    DATE = "date"
    BOOL = "bool"
    CHOICE = "choice"  # one of a closed set; Chinese spellings accepted
    ID_LIST = "id_list"  # ';'-separated identifiers
    PREFIX_LIST = "prefix_list"  # ';'-separated GB/T 4754 digit prefixes, or '*'


@dataclass(frozen=True)
class Column:
    """One column: its name, accepted headers, type and rule."""

    name: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = True  # the column must be present in the file
    nullable: bool = False  # a blank cell is allowed (and takes ``default``)
    default: object = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    choices: dict[str, str] = field(default_factory=dict)  # accepted spelling → canonical
    doc: str = ""

    @property
    def optional_value(self) -> bool:
        """A blank cell is fine: either nullable or defaulted."""
        return self.nullable or self.default is not None


@dataclass(frozen=True)
class Table:
    """One input table of a dataset folder."""

    name: str
    title_zh: str
    columns: tuple[Column, ...]
    required: bool
    key: tuple[str, ...] = ()  # unique together
    ordered_dates: tuple[tuple[str, str], ...] = ()  # (start, end) pairs with start ≤ end
    doc: str = ""

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


TIERS = {t: t for t in "ABCD"} | {t.lower(): t for t in "ABCD"}
TASK_KINDS = {
    "key": "key",
    "重点": "key",
    "重点监管": "key",
    "triggered": "triggered",
    "投诉举报": "triggered",
    "举报": "triggered",
    "线索": "triggered",
    "campaign": "campaign",
    "专项": "campaign",
    "专项整治": "campaign",
    "followup": "followup",
    "复查": "followup",
    "整改复查": "followup",
}
HISTORY_KINDS = TASK_KINDS | {"random": "random", "双随机": "random", "随机抽查": "random"}
#: how a task is done (检查方式): on site (入企) or off site (书面·远程核查, no visit)
TASK_MODES = {
    "onsite": "onsite",
    "现场": "onsite",
    "现场检查": "onsite",
    "offsite": "offsite",
    "非现场": "offsite",
    "非现场检查": "offsite",
    "书面核查": "offsite",
    "远程核查": "offsite",
}

#: the result of a check done (结果), read from ``outcomes.result``
OUTCOME_RESULTS = {
    "clear": "clear",
    "未发现问题": "clear",
    "合格": "clear",
    "无问题": "clear",
    "rectify": "rectify",
    "责令整改": "rectify",
    "限期整改": "rectify",
    "整改": "rectify",
    "case": "case",
    "立案查处": "case",
    "立案": "case",
    "redline": "redline",
    "触及红线": "redline",
    "红线": "redline",
}

#: who asked for an appointment (预约方向), read from ``appointments.direction``
APPOINTMENT_DIRECTIONS = {
    "enterprise": "enterprise",
    "企业预约": "enterprise",
    "企业预约执法": "enterprise",
    "企业邀约": "enterprise",
    "department": "department",
    "执法预约": "department",
    "执法预约企业": "department",
}

#: what an override (人工研判修正) does, as ``overrides.action`` says it
OVERRIDE_ACTIONS = {
    "pin_date": "pin_date",
    "固定日期": "pin_date",
    "together_with": "together_with",
    "同次检查": "together_with",
    "forbid_together": "forbid_together",
    "不得同次": "forbid_together",
    "lead_dept": "lead_dept",
    "牵头部门": "lead_dept",
    "exclude_date": "exclude_date",
    "排除日期": "exclude_date",
}

_DATE_WINDOW = (
    Column("window_start", Kind.DATE, ("开始日期", "检查开始日期", "时间窗开始"), doc="first day, inclusive"),
    Column("window_end", Kind.DATE, ("结束日期", "检查截止日期", "时间窗结束"), doc="last day, inclusive"),
)
_DURATION = Column(
    "duration_min",
    Kind.INT,
    ("现场时长", "检查时长（分钟）", "检查时长"),
    minimum=1,
    maximum=480,
    doc="on-site minutes",
)
_DELEGABLE = Column(
    "delegable",
    Kind.BOOL,
    ("可委托", "委托查"),
    required=False,
    default=False,
    doc="another department's delegated inspector may check it (委托查)",
)
_LAT = Column("lat", Kind.FLOAT, ("纬度",), minimum=3.5, maximum=54, doc="WGS-84 latitude")
_LON = Column("lon", Kind.FLOAT, ("经度",), minimum=73, maximum=135.5, doc="WGS-84 longitude")

TABLES: tuple[Table, ...] = (
    Table(
        "townships",
        "乡镇街道",
        required=True,
        key=("township",),
        doc="the enforcement station where a crew starts and ends its day",
        columns=(
            Column("township", Kind.ID, ("乡镇街道", "乡镇", "街道")),
            _LAT,
            _LON,
        ),
    ),
    Table(
        "departments",
        "执法部门",
        required=True,
        key=("dept_id",),
        columns=(
            Column("dept_id", Kind.ID, ("部门编号", "部门代码")),
            Column("name", Kind.TEXT, ("部门名称", "名称")),
        ),
    ),
    Table(
        "enterprises",
        "检查对象名录库",
        required=True,
        key=("uscc",),
        columns=(
            Column(
                "uscc",
                Kind.USCC,
                ("统一社会信用代码", "信用代码"),
                doc="trimmed and upper-cased; GB 32100-2015 shape and check digit",
            ),
            Column("name", Kind.TEXT, ("名称", "企业名称", "检查对象名称")),
            Column("township", Kind.ID, ("乡镇街道", "所属乡镇"), doc="must exist in townships"),
            _LAT,
            _LON,
            Column(
                "industry",
                Kind.INDUSTRY,
                ("行业代码", "国民经济行业代码"),
                required=False,
                nullable=True,
                doc="GB/T 4754 code; the section letter is optional (C3011 ≡ 3011)",
            ),
            Column(
                "credit_tier",
                Kind.CHOICE,
                ("信用等级", "信用风险等级"),
                choices=TIERS,
                doc="A = best credit / lowest risk … D = worst",
            ),
            Column("positive_list", Kind.BOOL, ("合规正面清单", "正面清单"), required=False, default=False),
            Column(
                "sandbox",
                Kind.BOOL,
                ("沙盒监管", "优信豁免"),
                required=False,
                default=False,
                doc="优信豁免: never in a random-sampling pool",
            ),
            Column(
                "observation_until",
                Kind.DATE,
                ("观察期截止", "观察期截止日期"),
                required=False,
                nullable=True,
                doc="新业态观察期, inclusive: random and campaign tasks only after it",
            ),
            Column("key_sector", Kind.TEXT, ("重点领域",), required=False, nullable=True),
            Column(
                "address",
                Kind.TEXT,
                ("地址", "住所", "经营场所"),
                required=False,
                nullable=True,
                doc="shown on the visit's notice (检查通知书); blank: the township",
            ),
            Column(
                "credit_score",
                Kind.INT,
                ("信用积分", "信用分"),
                required=False,
                nullable=True,
                minimum=-100_000,
                maximum=100_000,
                doc="信用积分 at the start of the year (`planner credit`); blank: the scenario's `[credit] start`",
            ),
        ),
    ),
    Table(
        "inspectors",
        "执法检查人员名录库",
        required=True,
        key=("inspector_id",),
        columns=(
            Column("inspector_id", Kind.ID, ("人员编号", "执法人员编号")),
            Column("name", Kind.TEXT, ("姓名",)),
            Column("dept_id", Kind.ID, ("部门编号", "所属部门")),
            Column(
                "cert_no",
                Kind.ID,
                ("执法证号", "执法证件号"),
                required=False,
                nullable=True,
                doc="blank: loads with a warning and the inspector is never assigned; one 执法证号 is one "
                "person: two rows with the same one are an error naming both",
            ),
            Column(
                "delegated_depts",
                Kind.ID_LIST,
                ("委托部门",),
                required=False,
                nullable=True,
                doc="';'-separated dept_ids whose delegable tasks this inspector may check",
            ),
            Column(
                "hours_per_day",
                Kind.FLOAT,
                ("每日工时", "每日可用小时"),
                required=False,
                default=7.0,
                minimum=0,
                maximum=24,
                exclusive_minimum=True,
                doc="crew-day length available, hours",
            ),
            Column(
                "max_days",
                Kind.INT,
                ("最多天数", "计划检查天数"),
                required=False,
                nullable=True,
                minimum=0,
                doc="days on planned inspections in the horizon; blank: planned_share × working days",
            ),
        ),
    ),
    Table(
        "leave",
        "请假",
        required=False,
        ordered_dates=(("start", "end"),),
        columns=(
            Column("inspector_id", Kind.ID, ("人员编号", "执法人员编号")),
            Column("start", Kind.DATE, ("开始日期", "请假开始")),
            Column("end", Kind.DATE, ("结束日期", "请假结束")),
        ),
    ),
    Table(
        "demands",
        "检查任务",
        required=True,
        key=("task_id",),
        ordered_dates=(("window_start", "window_end"),),
        columns=(
            Column("task_id", Kind.ID, ("任务编号",)),
            Column("dept_id", Kind.ID, ("部门编号", "检查部门")),
            Column("uscc", Kind.USCC, ("统一社会信用代码", "信用代码")),
            Column("item", Kind.TEXT, ("检查事项",)),
            Column(
                "kind",
                Kind.CHOICE,
                ("任务类型", "类型"),
                choices=TASK_KINDS,
                doc="key 重点监管 / triggered 投诉举报 / campaign 专项整治 / followup 整改复查",
            ),
            *_DATE_WINDOW,
            _DURATION,
            Column(
                "min_inspectors",
                Kind.INT,
                ("最少人数",),
                required=False,
                default=2,
                minimum=2,
                maximum=20,
                doc="at least 2: the law requires two certified inspectors",
            ),
            _DELEGABLE,
            Column("priority", Kind.INT, ("优先级",), required=False, default=1, doc="higher is more urgent"),
            Column(
                "mode",
                Kind.CHOICE,
                ("检查方式",),
                required=False,
                default="onsite",
                choices=TASK_MODES,
                doc="onsite 现场检查 / offsite 书面·远程核查: no visit, no cap, an inspector's desk time",
            ),
        ),
    ),
    Table(
        "sampling_plan",
        "双随机抽查计划",
        required=False,
        key=("plan_id",),
        ordered_dates=(("window_start", "window_end"),),
        columns=(
            Column("plan_id", Kind.ID, ("计划编号", "抽查计划编号")),
            Column("dept_id", Kind.ID, ("部门编号", "检查部门")),
            Column("item", Kind.TEXT, ("检查事项",)),
            Column(
                "industries",
                Kind.PREFIX_LIST,
                ("行业范围", "行业"),
                doc="';'-separated GB/T 4754 digit prefixes, or '*'",
            ),
            Column("tier", Kind.CHOICE, ("信用等级", "抽查层级"), choices=TIERS | {"*": "*"}),
            Column(
                "ratio",
                Kind.FLOAT,
                ("抽查比例",),
                minimum=0,
                maximum=1,
                exclusive_minimum=True,
                doc="sample size = ceil(ratio × eligible pool)",
            ),
            *_DATE_WINDOW,
            _DURATION,
            _DELEGABLE,
            Column(
                "joint_group",
                Kind.ID,
                ("联合抽查组", "联合组"),
                required=False,
                nullable=True,
                doc="plans sharing a group are drawn with the same random numbers (跨部门联合双随机)",
            ),
        ),
    ),
    Table(
        "items",
        "检查事项清单",
        required=False,
        key=("dept_id", "item"),
        doc="what each item of a department checks, on what legal basis, and what the enterprise prepares: "
        "the checklist (一表通查) and the notice (检查通知书) of every visit are built from it",
        columns=(
            Column("dept_id", Kind.ID, ("部门编号", "检查部门")),
            Column("item", Kind.TEXT, ("检查事项", "事项名称"), doc="as demands and sampling_plan name it"),
            Column(
                "check_points",
                Kind.TEXT,
                ("检查要点", "检查内容"),
                doc="';'-separated (also '；' or a line break); a point several items name (消防通道 …) is "
                "listed once in a visit's checklist",
            ),
            Column(
                "legal_basis",
                Kind.TEXT,
                ("检查依据", "法律依据", "执法依据"),
                doc="the laws and rules the item rests on, shown on the notice (法无授权不可为: never blank)",
            ),
            Column(
                "materials",
                Kind.TEXT,
                ("需准备材料", "准备材料", "企业准备材料"),
                required=False,
                nullable=True,
                doc="what the enterprise prepares, ';'-separated",
            ),
        ),
    ),
    Table(
        "appointments",
        "预约",
        required=False,
        key=("appointment_id",),
        ordered_dates=(("window_start", "window_end"),),
        doc="预约式指导服务: a visit an enterprise asked for (企业预约执法) or a department agreed with it "
        "(执法预约企业), planned in its window with its departments; see docs/planning.md (Appointments)",
        columns=(
            Column("appointment_id", Kind.ID, ("预约编号",)),
            Column("uscc", Kind.USCC, ("统一社会信用代码", "信用代码")),
            Column("window_start", Kind.DATE, ("开始日期", "预约开始日期"), doc="first day, inclusive; in the horizon"),
            Column("window_end", Kind.DATE, ("结束日期", "预约截止日期"), doc="last day, inclusive; in the horizon"),
            Column(
                "dept_ids",
                Kind.ID_LIST,
                ("预约部门", "部门编号"),
                doc="';'-separated dept_ids: every one of them comes, in one visit",
            ),
            Column("topic", Kind.TEXT, ("预约事项", "指导内容", "事项")),
            Column(
                "direction",
                Kind.CHOICE,
                ("预约方向", "预约类型"),
                choices=APPOINTMENT_DIRECTIONS,
                doc="enterprise 企业预约执法 / department 执法预约企业",
            ),
            Column(
                "fold_due",
                Kind.BOOL,
                ("合并到期检查", "同时开展到期检查"),
                doc="the enterprise agrees that checks due in the window are done in the same stay",
            ),
            Column(
                "duration_min",
                Kind.INT,
                ("现场时长", "预约时长（分钟）", "时长"),
                required=False,
                default=60,
                minimum=1,
                maximum=360,
                doc="on-site minutes of each department",
            ),
            Column(
                "min_inspectors",
                Kind.INT,
                ("最少人数",),
                required=False,
                default=2,
                minimum=2,
                maximum=20,
                doc="at least 2, as for any task",
            ),
        ),
    ),
    Table(
        "overrides",
        "人工研判修正",
        required=False,
        key=("override_id",),
        doc="the officials' corrections of the plan (经人工研判修正), one instruction a row, each with its reason; "
        "task ids are tasks.parquet's: a demand's task_id, or a drawn task's id (the same for the same inputs "
        "and seed)",
        columns=(
            Column("override_id", Kind.ID, ("修正编号", "编号")),
            Column(
                "action",
                Kind.CHOICE,
                ("修正类型", "类型"),
                choices=OVERRIDE_ACTIONS,
                doc="pin_date 固定日期 (task_id, date) / together_with 同次检查 (task_id, other_task_id) / "
                "forbid_together 不得同次 (task_id, other_task_id) / lead_dept 牵头部门 (task_id, dept_id) / "
                "exclude_date 排除日期 (uscc, date)",
            ),
            Column("task_id", Kind.ID, ("任务编号",), required=False, nullable=True),
            Column("other_task_id", Kind.ID, ("另一任务编号", "关联任务编号"), required=False, nullable=True),
            Column("uscc", Kind.USCC, ("统一社会信用代码", "信用代码"), required=False, nullable=True),
            Column("date", Kind.DATE, ("日期", "检查日期"), required=False, nullable=True),
            Column("dept_id", Kind.ID, ("牵头部门", "部门编号"), required=False, nullable=True),
            Column("note", Kind.TEXT, ("研判意见", "说明", "理由"), doc="why: the meeting's decision (never blank)"),
        ),
    ),
    Table(
        "conflicts",
        "回避",
        required=False,
        key=("inspector_id", "uscc"),
        columns=(
            Column("inspector_id", Kind.ID, ("人员编号", "执法人员编号")),
            Column("uscc", Kind.USCC, ("统一社会信用代码", "信用代码")),
        ),
    ),
    Table(
        "history",
        "检查记录",
        required=False,
        columns=(
            Column("uscc", Kind.USCC, ("统一社会信用代码", "信用代码")),
            Column("dept_id", Kind.ID, ("部门编号", "检查部门")),
            Column("date", Kind.DATE, ("检查日期", "日期")),
            Column("inspector_id", Kind.ID, ("人员编号", "执法人员编号"), required=False, nullable=True),
            Column("kind", Kind.CHOICE, ("任务类型", "类型"), required=False, nullable=True, choices=HISTORY_KINDS),
        ),
    ),
    Table(
        "credit_rules",
        "信用记分规则",
        required=False,
        doc="points (信用积分) a check's result gives (`planner credit`): the most specific row wins "
        "(department + kind, then department, then kind, then the result alone); two rows equally specific "
        "for one result are an error; absent: the scenario's `[credit] rules` file, else the planner's "
        "template (planner/credit_rules.csv); an outcome's `points` overrides the table",
        columns=(
            Column(
                "result",
                Kind.CHOICE,
                ("结果", "检查结果"),
                choices=OUTCOME_RESULTS,
                doc="clear 未发现问题 / rectify 责令整改 / case 立案查处 / redline 触及红线",
            ),
            Column(
                "kind",
                Kind.CHOICE,
                ("任务类型", "类型"),
                required=False,
                nullable=True,
                choices=HISTORY_KINDS,
                doc="blank: any kind",
            ),
            Column(
                "dept_id", Kind.ID, ("部门编号", "检查部门"), required=False, nullable=True, doc="blank: any department"
            ),
            Column(
                "points",
                Kind.INT,
                ("记分", "信用记分", "分值"),
                minimum=-1000,
                maximum=1000,
                doc="added to the enterprise's score (negative: deducted)",
            ),
        ),
    ),
    Table(
        "calendar",
        "工作日历",
        required=False,
        key=("date",),
        doc="overrides the official calendar, e.g. for a year the calendar library does not know",
        columns=(
            Column("date", Kind.DATE, ("日期",)),
            Column("workday", Kind.BOOL, ("工作日", "是否工作日")),
        ),
    ),
)

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}

OUTCOME_STATUSES = {
    "done": "done",
    "完成": "done",
    "已完成": "done",
    "已检查": "done",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "取消": "cancelled",
    "已取消": "cancelled",
    "撤销": "cancelled",
    "failed": "failed",
    "未完成": "failed",
    "未成行": "failed",
    "失败": "failed",
    "closed": "closed",
    "注销": "closed",
    "关闭": "closed",
    "已注销": "closed",
    "歇业": "closed",
}


#: the actuals folder of ``planner reoptimize``: outcomes, plus optional demands, leave,
#: enterprises and inspectors with the columns of the dataset tables of those names
OUTCOMES = Table(
    "outcomes",
    "执行情况",
    required=True,
    key=("task_id",),
    doc="what happened to planned tasks since the plan was made",
    columns=(
        Column("task_id", Kind.ID, ("任务编号",)),
        Column(
            "status",
            Kind.CHOICE,
            ("状态", "执行状态"),
            choices=OUTCOME_STATUSES,
            doc="done 已完成 / cancelled 已取消 / failed 未成行 (re-plan it) / closed 已注销 (drop the enterprise's open tasks)",
        ),
        Column(
            "date",
            Kind.DATE,
            ("日期", "检查日期"),
            required=False,
            nullable=True,
            doc="done: the date inspected (blank: the planned date)",
        ),
        Column(
            "result",
            Kind.CHOICE,
            ("结果", "检查结果"),
            required=False,
            nullable=True,
            choices=OUTCOME_RESULTS,
            doc="only with status done: clear 未发现问题 / rectify 责令整改 / case 立案查处 / redline 触及红线",
        ),
        Column(
            "rectify_by",
            Kind.DATE,
            ("整改期限",),
            required=False,
            nullable=True,
            doc="required with result rectify, and only with it; after the date inspected",
        ),
        Column(
            "findings",
            Kind.TEXT,
            ("检查发现", "发现问题", "问题描述"),
            required=False,
            nullable=True,
            doc="what the check found; only with a result",
        ),
        Column(
            "points",
            Kind.INT,
            ("记分", "信用记分"),
            required=False,
            nullable=True,
            minimum=-1000,
            maximum=1000,
            doc="credit points of this result, overriding the scoring table; only with a result",
        ),
    ),
)
ACTUALS_TABLES: tuple[Table, ...] = (
    OUTCOMES,
    *(replace(TABLES_BY_NAME[n], required=False) for n in ("demands", "leave", "enterprises", "inspectors")),
)


@dataclass(frozen=True)
class Reference:
    """``table.column`` must name a row of ``target.target_column``."""

    table: str
    column: str
    target: str
    target_column: str
    #: what an unknown value does: "error"; "skip_row" (warn, drop the row: closed businesses
    #: in history); "warn" (keep the row: retired inspectors in history)
    on_unknown: str = "error"


REFERENCES: tuple[Reference, ...] = (
    Reference("enterprises", "township", "townships", "township"),
    Reference("inspectors", "dept_id", "departments", "dept_id"),
    Reference("inspectors", "delegated_depts", "departments", "dept_id"),
    Reference("leave", "inspector_id", "inspectors", "inspector_id"),
    Reference("demands", "dept_id", "departments", "dept_id"),
    Reference("demands", "uscc", "enterprises", "uscc"),
    Reference("sampling_plan", "dept_id", "departments", "dept_id"),
    Reference("items", "dept_id", "departments", "dept_id"),
    Reference("appointments", "uscc", "enterprises", "uscc"),
    Reference("appointments", "dept_ids", "departments", "dept_id"),
    Reference("overrides", "dept_id", "departments", "dept_id"),
    Reference("overrides", "uscc", "enterprises", "uscc"),
    Reference("conflicts", "inspector_id", "inspectors", "inspector_id"),
    Reference("conflicts", "uscc", "enterprises", "uscc"),
    Reference("history", "uscc", "enterprises", "uscc", on_unknown="skip_row"),
    Reference("history", "dept_id", "departments", "dept_id"),
    Reference("history", "inspector_id", "inspectors", "inspector_id", on_unknown="warn"),
    Reference("credit_rules", "dept_id", "departments", "dept_id"),
)


#: what separates the check points (and the materials) of one item in a cell of ``items``
LIST_SEPARATORS = re.compile(r"[;；\n\r]")


def split_list(text: object) -> tuple[str, ...]:
    """The parts of a ';'-separated cell of ``items`` (``；`` and line breaks too), trimmed, blanks
    and repeats dropped, in order. A check point may hold a comma: '安全出口畅通，标志完好' is one point."""
    if not isinstance(text, str):
        return ()
    return tuple(dict.fromkeys(part.strip() for part in LIST_SEPARATORS.split(text) if part.strip()))


def _rule_text(column: Column) -> str:
    """The column's rule in words, for the docs."""
    parts = []
    if column.kind is Kind.CHOICE:
        values = sorted(set(column.choices.values()))
        spellings = sorted(k for k in column.choices if k not in values and k.upper() not in values)
        parts.append("one of " + ", ".join(f"`{v}`" for v in values))
        if spellings:
            parts.append("also " + ", ".join(spellings))
    if column.minimum is not None or column.maximum is not None:
        low = "" if column.minimum is None else f"{'>' if column.exclusive_minimum else '≥'} {column.minimum:g}"
        high = "" if column.maximum is None else f"≤ {column.maximum:g}"
        parts.append(" and ".join(p for p in (low, high) if p))
    if column.default is not None:
        parts.append(f"default {column.default!r}".replace("False", "false"))
    elif column.nullable:
        parts.append("may be blank")
    if column.doc:
        parts.append(column.doc)
    return "; ".join(parts)


def contract_markdown() -> str:
    """The column tables of docs/data-contract.md, rendered from these declarations."""
    lines = []
    for table in TABLES:
        status = "required" if table.required else "optional"
        key = f"; unique: {' + '.join(table.key)}" if table.key else ""
        lines += [f"### {table.name} ({table.title_zh}) — {status}{key}", ""]
        if table.doc:
            lines += [table.doc[0].upper() + table.doc[1:] + ".", ""]
        lines += ["| column | Chinese headers | type | column required | rule |", "|---|---|---|---|---|"]
        for c in table.columns:
            aliases = ", ".join(c.aliases) or "—"
            lines.append(
                f"| `{c.name}` | {aliases} | {c.kind.value} | {'yes' if c.required else 'no'} | {_rule_text(c)} |"
            )
        lines.append("")
    lines += ["### References between tables", "", "| column | must name | when it does not |", "|---|---|---|"]
    outcome = {"error": "error", "skip_row": "warning; the row is skipped", "warn": "warning; the row is kept"}
    for ref in REFERENCES:
        lines.append(f"| `{ref.table}.{ref.column}` | `{ref.target}.{ref.target_column}` | {outcome[ref.on_unknown]} |")
    lines.append("")
    return "\n".join(lines)
