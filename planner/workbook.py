"""plan.xlsx, the workbook officials read: the plan's tables with names, in Chinese.

The writer takes plain DataFrames — the plan tables (contract names and columns) and the
enterprise, department and inspector tables for names — and reads no files, so ``planner
plan`` can write the workbook from the plan in memory and ``planner export`` from a plan folder.

Sheets, one row per thing:

- 总览: every KPI of kpis.json with its Chinese label and definition, the scenario and the seed;
- 检查计划: one row per visit (日期, 企业, 检查部门, every item of every department: 一表通查);
- 任务明细: one row per task, and where it went (visit and date, or the reason it was not placed);
- 人员安排: one row per inspector-day (crew, hours, enterprises in route order);
- 路线: one row per stop of each crew-day's route, in order;
- 未排任务: one row per unscheduled task, with its reason;
- 抽查记录: one row per enterprise of each sampling plan's pool (双随机 draw), with the seed;
- 企业检查台账, 检查预警: with the plan's ``ledger`` (一企一档, ``planner.ledger``): one row per
  enterprise, year and department, and one per alert (预警).

Every cell is text or a number, never a formula: the sheets are written by ``planner.xlsx``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from planner.messages import DEFAULT_LANG, catalogue, text
from planner.plan import METHOD_MESSAGES, schedule_text
from planner.rules import reason_codes, reason_label
from planner.rules.tasks import MANDATORY_KINDS
from planner.xlsx import DATE, FLOAT, HOURS, INT, PERCENT, PRN, TEXT, TIME, Sheet, is_blank, write_sheets

if TYPE_CHECKING:
    from planner.dataset import Dataset

#: the sheets of plan.xlsx, in order
SHEETS = ("总览", "检查计划", "任务明细", "人员安排", "路线", "未排任务", "抽查记录")

#: the plan table each sheet lists, one row per row of it (总览 lists kpis.json)
SHEET_SOURCES = {
    "检查计划": "visits",
    "任务明细": "tasks",
    "人员安排": "crews",
    "路线": "routes",
    "未排任务": "unscheduled",
    "抽查记录": "draws",
}

KIND_LABELS = {
    "key": "重点监管",
    "triggered": "投诉举报",
    "campaign": "专项整治",
    "followup": "整改复查",
    "random": "双随机抽查",
}

#: kpis.json key → (Chinese label, definition as in the data contract, cell kind)
KPI_LABELS: dict[str, tuple[str, str, str]] = {
    "tasks": ("任务总数", "方案须安排的全部任务：各部门检查任务加双随机抽中的任务", INT),
    "scheduled": ("已安排任务", "排入某次检查的任务数", INT),
    "unscheduled": ("未安排任务", "未能排入计划的任务数，每项都写明原因（见“未排任务”）", INT),
    "unscheduled_mandatory": ("未安排的必查任务", "未安排任务中的重点监管、投诉举报和整改复查任务数", INT),
    "visits": ("检查户次（扰企户次）", "方案中的检查次数：一个检查组一天到一家企业检查一次", INT),
    "baseline_visits": (
        "各部门单独检查户次",
        "若各部门各自安排：按（部门，企业）计算命中该部门在该企业全部已安排任务时间窗"
        "（与计划期相交，适用时在观察期之后）所需的最少工作日数，再求和",
        INT,
    ),
    "lower_bound_visits": (
        "检查户次下限",
        "按企业计算命中其全部已安排任务时间窗所需的最少工作日数（按时间窗最早结束贪心，结果精确），"
        "再求和；任何方案都不可能更少（此项与上项均不扣除静默日）",
        INT,
    ),
    "disturbance_reduction": ("减少扰企户次", "各部门单独检查户次 − 检查户次", INT),
    "disturbance_saved_joint": (
        "联合检查减少的入企次数",
        "对每次联合检查（两个及以上部门）计（参与部门数 − 1），再求和：若各部门分别进门，本应多出的入企次数",
        INT,
    ),
    "joint_inspection_rate": (
        "综合查一次实施率",
        "部门检查（一个部门在同一天对同一企业的检查）中，在两个及以上部门参与的检查户次中完成的比例"
        "（浙江省公布的口径）",
        PERCENT,
    ),
    "joint_task_rate": ("联合检查任务占比", "已安排任务中，在两个及以上部门参与的检查户次中完成的比例", PERCENT),
    "joint_visit_rate": ("联合检查户次占比", "涉及两个及以上部门的检查户次占全部检查户次的比例", PERCENT),
    "joint_random_rate": (
        "双随机联合抽查率",
        "已安排的双随机任务中，与其他部门的任务在同一次检查中完成的比例",
        PERCENT,
    ),
    "joint_random_rate_strict": (
        "跨部门联合“双随机”监管实施率",
        "已安排的双随机任务中，同一次检查里有其他部门同一联合抽查组的双随机任务的比例（湖州市目标 ≥ 40%）",
        PERCENT,
    ),
    "inspector_hours": ("执法人员工时（小时）", "每名检查组成员每天从出发到返回驻地的时长之和 ÷ 60", HOURS),
    "travel_hours": ("路途时间（小时）", "每个检查组每天全部路段（含返回驻地）的路途时间之和 ÷ 60", HOURS),
    "max_crew_day_hours": ("检查组最长工作日（小时）", "单个检查组一天从出发到返回驻地的最长时长", HOURS),
    "status": (
        "求解状态",
        "可行：所有硬性规则经独立检查通过；求解时限已到或求解被中断时，方案同样完整可行，只是部分企业未能逐户精确求解",
        TEXT,
    ),
    "method": ("求解方法", "生成本方案的方法", TEXT),
    "objective": ("目标值（检查户次）", "方案的检查户次", INT),
    "best_bound": ("最优下界（检查户次）", "已证明的检查户次下限（同“规则下的检查户次下限”）", INT),
    "rule_bound_visits": (
        "规则下的检查户次下限",
        "在时间窗之外再计入年度次数上限和单次检查时长：对检查户次多于时间窗下限的企业，"
        "用 CP-SAT 求出安排其已排任务所需的最少检查次数；任何方案都不可能更少",
        INT,
    ),
    "exact_models": (
        "逐户精确求解次数",
        "年度次数上限或单次时长限制起作用的企业，用 CP-SAT 精确选择检查安排的次数",
        INT,
    ),
    "exact_models_proven": ("其中证明最优", "精确求解中已证明最优的次数", INT),
    "exact_models_skipped": ("未精确求解的企业", "因时限用完或中断而保留贪心安排的企业数", INT),
    "capacity_bound_mandatory": (
        "人力容量下可排法定任务上限",
        "按各部门执法人员可用工日（请假、持证、委托、每人最多检查天数、最少路途时间）"
        "计算，任何方案最多能安排的必查任务数",
        INT,
    ),
    "capacity_bound_tasks": (
        "人力容量下可排任务上限",
        "在必查任务数取上项上限的前提下，任何方案最多能安排的任务数",
        INT,
    ),
    "schedule_kept": (
        "采用的排班方案",
        "按全年人力容量节奏逐日排班；容量模型无解时平均节奏逐日排班；小县整体精确模型；"
        "或在其上第 N 轮为法定任务拆分联合检查",
        TEXT,
    ),
    "split_visits": ("为法定任务拆分的联合检查", "人手不足的部门从联合检查中拆出、单独安排其必查任务的次数", INT),
}
TIMING_LABELS = {
    "sample": "双随机抽取",
    "instance": "可行日期",
    "merge": "合并任务",
    "schedule": "排班与路线",
    "tables": "生成计划表",
    "bound": "计算下界",
    "capacity": "人力容量上界",
    "check": "检查全部规则",
}


@dataclass(frozen=True)
class Names:
    """Display names for the plan's identifiers.

    ``enterprises``: uscc, name, township; ``departments``: dept_id, name; ``inspectors``:
    inspector_id, name. An identifier missing here is shown without a name (or as itself).
    """

    enterprises: pd.DataFrame
    departments: pd.DataFrame
    inspectors: pd.DataFrame

    @classmethod
    def from_dataset(cls, dataset: Dataset) -> Names:
        """The names of a loaded dataset."""
        return cls(
            dataset.enterprises[["uscc", "name", "township"]],
            dataset.departments[["dept_id", "name"]],
            dataset.inspectors[["inspector_id", "name"]],
        )

    def enterprise_name(self) -> pd.Series:
        return _lookup(self.enterprises, "uscc", "name")

    def township(self) -> pd.Series:
        return _lookup(self.enterprises, "uscc", "township")

    def department_name(self) -> pd.Series:
        return _lookup(self.departments, "dept_id", "name")

    def inspector_name(self) -> pd.Series:
        return _lookup(self.inspectors, "inspector_id", "name")


def _lookup(frame: pd.DataFrame, key: str, value: str) -> pd.Series:
    frame = frame.drop_duplicates(key)
    return pd.Series(frame[value].to_numpy(dtype=object), index=frame[key].astype(str).to_numpy(), dtype=object)


def write_workbook(
    path: Path,
    tables: Mapping[str, pd.DataFrame],
    kpis: Mapping[str, Any],
    names: Names,
    *,
    scenario: Mapping[str, Any] | None = None,
    draw_record: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
    created: dt.datetime | None = None,
) -> None:
    """Write plan.xlsx: 总览 and one sheet per plan table, Chinese headers, names joined in.

    ``tables`` maps the plan folder's table names (tasks, visits, visit_tasks, crews, routes,
    unscheduled, draws) to their frames; ``kpis`` is kpis.json; ``scenario`` (the scenario's
    keys, as in manifest.json), ``draw_record`` (draw.json) and ``manifest`` (manifest.json),
    when given, add the plan's name, horizon, seed and times to 总览. ``created`` is the
    workbook's creation time; by default a fixed date, so the same plan gives the same bytes.
    """
    seed = plan_seed(scenario, draw_record, manifest)
    overview = overview_sheet(kpis, scenario=scenario, draw_record=draw_record, manifest=manifest)
    # one sheet made at a time, written, then let go: a county-sized plan never holds them all
    sheets = itertools.chain(
        [overview], iter_table_sheets(tables, names, seed=seed), _ledger_sheets(tables, names, scenario)
    )
    write_sheets(path, sheets, created=created)


def _ledger_sheets(tables: Mapping[str, pd.DataFrame], names: Names, scenario: Mapping | None) -> Iterator[Sheet]:
    """企业检查台账 and 检查预警 (``planner.ledger``), when ``tables`` holds the plan's ``ledger``."""
    if tables.get("ledger") is None:
        return
    from planner.ledger import ledger_sheets

    yield from ledger_sheets(
        tables["ledger"], scenario or {}, names.enterprise_name().to_dict(), names.department_name().to_dict()
    )


def plan_seed(scenario: Mapping | None, draw_record: Mapping | None, manifest: Mapping | None) -> int | None:
    """The draw's seed: draw.json's, else the manifest's, else the scenario's."""
    for source in (draw_record, manifest, scenario):
        if source and source.get("seed") is not None:
            return int(source["seed"])
    return None


# ---------------------------------------------------------------------------------------------
# sheets as data


def overview_sheet(
    kpis: Mapping[str, Any],
    *,
    scenario: Mapping[str, Any] | None = None,
    draw_record: Mapping[str, Any] | None = None,
    manifest: Mapping[str, Any] | None = None,
    scope: Sequence[tuple[str, Any, str]] = (),
) -> Sheet:
    """总览: the plan (name, horizon, seed), ``scope`` rows (label, value, note), then every KPI.

    Every key of ``kpis`` gets a row: known keys with their Chinese label and definition,
    unknown ones under their own name, ``timings`` one row per stage (seconds).
    """
    rows: list[tuple[str, Any, str, str, str]] = []  # label, value, definition, key, kind

    def add(
        label: str, value: Any, note: str = "", key: str = "", kind: str | None = None, always: bool = False
    ) -> None:
        if value is None and not always:  # plan facts that are absent are left out; a KPI keeps its row
            return
        if kind is None:
            kind = TEXT if isinstance(value, (str, bool)) else INT if isinstance(value, (int, np.integer)) else FLOAT
        if isinstance(value, bool):
            value = "是" if value else "否"
        rows.append((label, value, note, key, kind))

    scenario, draw_record, manifest = scenario or {}, draw_record or {}, manifest or {}
    add("方案名称", scenario.get("name"), "情景文件中的名称", "scenario.name")
    horizon = scenario.get("horizon") or {}
    if horizon.get("start") and horizon.get("end"):
        add("计划期", f"{horizon['start']} 至 {horizon['end']}", "含首尾两天", "scenario.horizon")
    add("随机种子", plan_seed(scenario, draw_record, manifest), "双随机抽取和随机选派所用的种子", "seed", INT)
    add("种子承诺值", draw_record.get("commitment"), "抽取前公布的种子哈希（SHA-256），用于事后核验", "draw.commitment")
    add("抽取算法", draw_record.get("algorithm"), "", "draw.algorithm")
    add("重新抽取原因", draw_record.get("redraw_reason"), "未使用情景文件的种子时必须说明", "draw.redraw_reason")
    add(
        "数据集", draw_record.get("dataset") or scenario.get("dataset"), "检查对象、部门和人员名录所在文件夹", "dataset"
    )
    add("开始生成", manifest.get("started"), "", "manifest.started")
    add("生成完成", manifest.get("finished"), "", "manifest.finished")
    for label, value, note in scope:
        add(label, value, note, "scope")
    for key, value in kpis.items():
        if key == "timings" and isinstance(value, Mapping):
            for stage, seconds in value.items():
                add(
                    f"用时：{TIMING_LABELS.get(stage, stage)}（秒）",
                    seconds,
                    "该阶段的计算时间",
                    f"timings.{stage}",
                    FLOAT,
                )
            continue
        if key == "reoptimisation" and isinstance(value, Mapping):
            for part, figure in value.items():
                if isinstance(figure, Mapping):  # tasks by change
                    figure = "，".join(f"{_said(f'change_kind.{k}', k)} {n:,}" for k, n in figure.items())
                add(_said(f"reopt.{part}", part), figure, "本次重新优化", f"reoptimisation.{part}")
            continue
        label, definition, kind = KPI_LABELS.get(key, (key, "", None))
        if isinstance(value, (Mapping, list, tuple)):
            value = str(value)
        value = shown_value(key, value)
        add(
            label,
            value,
            definition,
            key,
            None if kind is None or value is None or isinstance(value, str) else kind,
            always=True,
        )
    frame = pd.DataFrame([r[:4] for r in rows], columns=["项目", "数值", "说明", "键"])
    value_kinds = pd.Series([r[4] for r in rows], index=frame.index, dtype=object)
    return Sheet("总览", frame, {"项目": TEXT, "数值": value_kinds, "说明": TEXT, "键": TEXT})


def shown_value(key: str, value: Any) -> Any:
    """A KPI's value as an official reads it: ``status`` and ``method`` say what their codes mean."""
    if key == "status":
        return _said(f"status.{value}", value)
    if key == "method":
        return _said(METHOD_MESSAGES.get(str(value), ""), value)
    if key == "schedule_kept" and isinstance(value, str):
        return schedule_text(value)
    return value


def _said(message_id: str, otherwise: Any) -> Any:
    """The catalogue's Chinese sentence of ``message_id``, or ``otherwise`` where it has none."""
    return text(message_id) if message_id in catalogue(DEFAULT_LANG) else otherwise


def table_sheets(tables: Mapping[str, pd.DataFrame], names: Names, seed: int | None = None) -> list[Sheet]:
    """The sheets listing the plan tables (all but 总览), in workbook order."""
    return list(iter_table_sheets(tables, names, seed))


def iter_table_sheets(tables: Mapping[str, pd.DataFrame], names: Names, seed: int | None = None) -> Iterator[Sheet]:
    """``table_sheets`` one at a time, each made only when the one before has been used."""
    plan = _Joined(tables, names)
    yield plan.visits_sheet()
    yield plan.tasks_sheet()
    yield plan.inspector_days_sheet()
    yield plan.routes_sheet()
    yield plan.unscheduled_sheet()
    yield plan.draws_sheet(seed)


class _Joined:
    """The plan tables with the lookups every sheet shares (names, who is in which crew, …)."""

    def __init__(self, tables: Mapping[str, pd.DataFrame], names: Names):
        def table(name: str) -> pd.DataFrame:  # rows numbered by position: a sheet row points at its source row
            frame = tables.get(name)
            return pd.DataFrame() if frame is None else frame.reset_index(drop=True)

        self.tasks, self.visits, self.visit_tasks = table("tasks"), table("visits"), table("visit_tasks")
        self.crews, self.routes = table("crews"), table("routes")
        self.unscheduled, self.draws = table("unscheduled"), table("draws")
        self.enterprise_name, self.township = names.enterprise_name(), names.township()
        # plain dicts: looked up once per row, where a Series' .get would cost microseconds
        self.dept_name = names.department_name().to_dict()
        self.inspector_name = names.inspector_name().to_dict()
        self.enterprise_dict = self.enterprise_name.to_dict()
        # who is in each crew, in the order crews.parquet lists them
        self.members: dict[str, list[str]] = {}
        for crew_id, inspector_id in zip(_col(self.crews, "crew_id"), _col(self.crews, "inspector_id")):
            self.members.setdefault(crew_id, []).append(inspector_id)
        self.station = dict(zip(_col(self.crews, "crew_id"), _col(self.crews, "township")))
        # each visit's departments and items, in the order visit_tasks lists them (一表通查)
        self.items: dict[str, dict[str, dict[str, None]]] = {}
        for visit_id, dept_id, item in zip(
            _col(self.visit_tasks, "visit_id"), _col(self.visit_tasks, "dept_id"), _col(self.visit_tasks, "item")
        ):
            self.items.setdefault(visit_id, {}).setdefault(dept_id, {})[item] = None
        self.task_visit = pd.Series(
            _col(self.visit_tasks, "visit_id"), index=_col(self.visit_tasks, "task_id"), dtype=object
        )
        self.task_visit = self.task_visit[~self.task_visit.index.duplicated()]
        self.visit_by_id = self.visits.set_index("visit_id") if "visit_id" in self.visits else pd.DataFrame()

    def dept_label(self, dept_id: Any) -> Any:
        if is_blank(dept_id):
            return None
        name = self.dept_name.get(str(dept_id))
        return dept_id if is_blank(name) else name

    def person(self, inspector_id: str) -> str:
        name = self.inspector_name.get(str(inspector_id))
        return inspector_id if is_blank(name) else name

    def enterprise_columns(self, uscc: pd.Series) -> dict[str, pd.Series]:
        keys = uscc.astype(object).where(uscc.notna(), None).astype(str)
        return {"企业名称": keys.map(self.enterprise_name), "统一社会信用代码": uscc, "乡镇": keys.map(self.township)}

    def visits_sheet(self) -> Sheet:
        v = self.visits
        depts = [
            list(self.items.get(visit_id, {})) or list(_listlike(ids))
            for visit_id, ids in zip(_col(v, "visit_id"), _col(v, "dept_ids"))
        ]
        items = [
            "；".join(
                f"{self.dept_label(d)}：{'、'.join(str(i) for i in its if not is_blank(i))}"
                for d, its in self.items.get(visit_id, {}).items()
            )
            for visit_id in _col(v, "visit_id")
        ]
        frame = _frame(
            v.index,
            {
                "日期": _col(v, "date"),
                **self.enterprise_columns(pd.Series(_col(v, "uscc"), index=v.index)),
                "检查部门": ["、".join(str(self.dept_label(d)) for d in ds) for ds in depts],
                "检查事项": items,
                "任务数": _col(v, "n_tasks"),
                "检查组": _col(v, "crew_id"),
                "检查人员": ["、".join(self.person(i) for i in self.members.get(c, [])) for c in _col(v, "crew_id")],
                "开始": _col(v, "start_min"),
                "结束": _col(v, "end_min"),
                "检查码": _col(v, "visit_code"),
                "检查编号": _col(v, "visit_id"),
            },
        )
        order = _order(v, ["date", "crew_id", "start_min", "visit_id"])
        return _sheet("检查计划", frame.loc[order], {"日期": DATE, "任务数": INT, "开始": TIME, "结束": TIME}, "visits")

    def tasks_sheet(self) -> Sheet:
        t = self.tasks
        visit_id = pd.Series(_col(t, "task_id"), index=t.index, dtype=object).map(self.task_visit)
        visit = self.visit_by_id.reindex(visit_id.to_numpy()) if len(self.visit_by_id) else pd.DataFrame(index=visit_id)
        reasons = pd.Series(_col(self.unscheduled, "reason"), index=_col(self.unscheduled, "task_id"), dtype=object)
        reasons = reasons[~reasons.index.duplicated()]
        placed = visit_id.notna().to_numpy()
        reason = pd.Series(_col(t, "task_id"), index=t.index, dtype=object).map(reasons)
        frame = _frame(
            t.index,
            {
                "任务编号": _col(t, "task_id"),
                "检查部门": [self.dept_label(d) for d in _col(t, "dept_id")],
                **self.enterprise_columns(pd.Series(_col(t, "uscc"), index=t.index)),
                "检查事项": _col(t, "item"),
                "任务类型": _kind_labels(_col(t, "kind")),
                "必查": _yes_no(pd.Series(_col(t, "kind")).isin(MANDATORY_KINDS)),
                "时间窗开始": _col(t, "window_start"),
                "时间窗结束": _col(t, "window_end"),
                "现场时长（分钟）": _col(t, "duration_min"),
                "最少人数": _col(t, "min_inspectors"),
                "可委托": _yes_no(_col(t, "delegable")),
                "优先级": _col(t, "priority"),
                "抽查计划": _col(t, "plan_id"),
                "安排情况": [
                    ("已安排" if p else "未安排" if has_reason else None)
                    for p, has_reason in zip(placed, reason.notna().to_numpy())
                ],
                "检查日期": _col(visit, "date"),
                "开始": _col(visit, "start_min"),
                "检查组": _col(visit, "crew_id"),
                "检查码": _col(visit, "visit_code"),
                "检查编号": visit_id.to_numpy(),
                "未安排原因": reason.to_numpy(),
            },
        )
        kinds = {
            "时间窗开始": DATE,
            "时间窗结束": DATE,
            "现场时长（分钟）": INT,
            "最少人数": INT,
            "优先级": INT,
            "检查日期": DATE,
            "开始": TIME,
        }
        return _sheet("任务明细", frame, kinds, "tasks")

    def inspector_days_sheet(self) -> Sheet:
        c = self.crews
        v = (
            self.visits.loc[_order(self.visits, ["crew_id", "start_min", "visit_id"])]
            if len(self.visits)
            else self.visits
        )
        stops: dict[str, list[str]] = {}
        for crew_id, uscc in zip(_col(v, "crew_id"), _col(v, "uscc")):
            name = self.enterprise_dict.get(str(uscc))
            stops.setdefault(crew_id, []).append(uscc if is_blank(name) else name)
        crew_ids, inspector_ids = _col(c, "crew_id"), _col(c, "inspector_id")
        start, end = _col(c, "day_start_min"), _col(c, "day_end_min")
        frame = _frame(
            c.index,
            {
                "日期": _col(c, "date"),
                "执法人员编号": inspector_ids,
                "姓名": [self.person(i) for i in inspector_ids],
                "所属部门": [self.dept_label(d) for d in _col(c, "dept_id")],
                "检查组": crew_ids,
                "驻地": _col(c, "township"),
                "出发": start,
                "返回": end,
                "工作时长（小时）": (
                    pd.to_numeric(pd.Series(end), errors="coerce") - pd.to_numeric(pd.Series(start), errors="coerce")
                ).to_numpy()
                / 60,
                "检查户数": [len(stops.get(k, [])) for k in crew_ids],
                "检查企业": ["、".join(stops.get(k, [])) for k in crew_ids],
                "同组人员": [
                    "、".join(self.person(m) for m in self.members.get(k, []) if m != i)
                    for k, i in zip(crew_ids, inspector_ids)
                ],
                "候选人数": _col(c, "candidates"),
                "摇号数": _col(c, "lottery"),
                "重复检查": _yes_no(_col(c, "repeat_visit")),
            },
        )
        kinds = {
            "日期": DATE,
            "出发": TIME,
            "返回": TIME,
            "工作时长（小时）": HOURS,
            "检查户数": INT,
            "候选人数": INT,
            "摇号数": INT,
        }
        return _sheet("人员安排", frame.loc[_order(c, ["inspector_id", "date", "crew_id"])], kinds, "crews")

    def routes_sheet(self) -> Sheet:
        r = self.routes
        visit = self.visit_by_id.reindex(_col(r, "visit_id")) if len(self.visit_by_id) else pd.DataFrame(index=r.index)
        frame = _frame(
            r.index,
            {
                "日期": _col(r, "date"),
                "检查组": _col(r, "crew_id"),
                "驻地": [self.station.get(k) for k in _col(r, "crew_id")],
                "顺序": _col(r, "seq"),
                **self.enterprise_columns(pd.Series(_col(visit, "uscc"), index=r.index)),
                "到达": _col(r, "arrive_min"),
                "离开": _col(r, "depart_min"),
                "路途（分钟）": _col(r, "travel_min"),
                "检查码": _col(visit, "visit_code"),
                "检查编号": _col(r, "visit_id"),
            },
        )
        kinds = {"日期": DATE, "顺序": INT, "到达": TIME, "离开": TIME, "路途（分钟）": INT}
        return _sheet("路线", frame.loc[_order(r, ["date", "crew_id", "seq"])], kinds, "routes")

    def unscheduled_sheet(self) -> Sheet:
        u = self.unscheduled
        task = self.tasks.drop_duplicates("task_id").set_index("task_id") if "task_id" in self.tasks else pd.DataFrame()
        task = task.reindex(_col(u, "task_id")) if len(task) else pd.DataFrame(index=u.index)

        def either(column: str) -> np.ndarray:  # the unscheduled table's own column, else the task's
            own, from_task = _col(u, column), _col(task, column)
            return np.where(pd.isna(own), from_task, own) if column in u else from_task

        kind = either("kind")
        frame = _frame(
            u.index,
            {
                "任务编号": _col(u, "task_id"),
                "检查部门": [self.dept_label(d) for d in either("dept_id")],
                **self.enterprise_columns(pd.Series(either("uscc"), index=u.index)),
                "检查事项": _col(task, "item"),
                "任务类型": _kind_labels(kind),
                "必查": _yes_no(pd.Series(kind).isin(MANDATORY_KINDS)),
                "时间窗开始": _col(task, "window_start"),
                "时间窗结束": _col(task, "window_end"),
                "原因类别": reason_codes(u).map(reason_label).to_numpy() if len(u) else [],
                "原因": _col(u, "reason"),
            },
        )
        return _sheet("未排任务", frame, {"时间窗开始": DATE, "时间窗结束": DATE}, "unscheduled")

    def draws_sheet(self, seed: int | None) -> Sheet:
        d = self.draws
        dept = _col(d, "dept_id") if "dept_id" in d else pd.Series(_col(d, "plan_id")).map(self.plan_dept()).to_numpy()
        substitute = pd.Series(_col(d, "substitute_for"), index=d.index, dtype=object)
        frame = _frame(
            d.index,
            {
                "抽查计划": _col(d, "plan_id"),
                "检查部门": [self.dept_label(x) for x in dept],
                "联合抽查组": _col(d, "joint_group"),
                "分层": _col(d, "stratum"),
                **self.enterprise_columns(pd.Series(_col(d, "uscc"), index=d.index)),
                "随机数": _col(d, "prn"),
                "排序": _col(d, "rank"),
                "初选": _yes_no(_col(d, "drawn")),
                "入选": _yes_no(_col(d, "selected")),
                "替补对象": substitute.to_numpy(),
                "替补对象名称": substitute.map(
                    lambda u: None if is_blank(u) else self.enterprise_dict.get(str(u))
                ).to_numpy(),
                "替换原因": _col(d, "reason"),
                "年度": _col(d, "year"),
                "随机种子": np.full(len(d), np.nan if seed is None else seed, dtype=float),
            },
        )
        kinds = {"随机数": PRN, "排序": INT, "年度": INT, "随机种子": INT}
        return _sheet("抽查记录", frame, kinds, "draws")

    def plan_dept(self) -> dict[str, str]:
        """plan_id → dept_id, from the drawn random tasks (draws tables without a dept_id column)."""
        return dict(zip(_col(self.tasks, "plan_id"), _col(self.tasks, "dept_id")))


def _sheet(name: str, frame: pd.DataFrame, kinds: dict[str, str], source: str) -> Sheet:
    return Sheet(name, frame, {h: kinds.get(h, TEXT) for h in frame.columns}, source)


def _frame(index: pd.Index, columns: Mapping[str, Any]) -> pd.DataFrame:
    """A sheet frame on ``index``: arrays taken as they are, Series by position (not by label)."""
    data = {h: (v.to_numpy() if isinstance(v, pd.Series) else v) for h, v in columns.items()}
    return pd.DataFrame(data, index=index)


def _col(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array (missing values None); all None when the table lacks it."""
    if column not in frame:
        return np.full(len(frame), None, dtype=object)
    values = frame[column].to_numpy(dtype=object)
    return np.where(pd.isna(values), None, values) if values.dtype == object and len(values) else values


def _order(frame: pd.DataFrame, columns: list[str]) -> pd.Index:
    """``frame``'s index sorted by those of ``columns`` it has (stable, so ties keep table order)."""
    present = [c for c in columns if c in frame]
    if not present or not len(frame):
        return frame.index
    keys = frame[present].copy()
    for c in present:  # object columns (dates, ids) as text: ISO dates sort like dates, and None sorts first
        if keys[c].dtype == object:
            keys[c] = keys[c].map(lambda x: "" if is_blank(x) else str(x))
    return keys.sort_values(present, kind="stable").index


def _listlike(value: Any) -> list:
    if is_blank(value):
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def _kind_labels(kinds: Any) -> np.ndarray:
    return np.array([None if is_blank(k) else KIND_LABELS.get(str(k), str(k)) for k in kinds], dtype=object)


def _yes_no(values: Any) -> np.ndarray:
    return np.array([None if is_blank(v) else ("是" if bool(v) else "否") for v in values], dtype=object)


# ---------------------------------------------------------------------------------------------
# rendering: xlsxwriter in constant_memory mode, row by row
#
# Each column is made ready once (text as str, numbers, dates and times as Excel serials, blanks
# as None), then the rows are written in order, as constant_memory requires: only the cells
# that are not blank, text by write_string, numbers by write_number. constant_memory writes
# text as inline strings in the sheet, never through write(): no cell is ever a formula.


__all__ = [
    "SHEETS",
    "SHEET_SOURCES",
    "KPI_LABELS",
    "Names",
    "write_workbook",
    "overview_sheet",
    "table_sheets",
    "plan_seed",
]
