"""一公开: what of a plan may be made public, written as CSV files, one workbook and a manifest.

``publish_plan`` reads a plan folder and writes, atomically and never over an existing folder
(unless ``replace``):

- 抽查计划: each sampling-plan row (department, item, industries, credit tier, the ratio the draw
  used, window) with its pool's size and the number drawn;
- 抽取记录: the draw's record — algorithm, seed commitment (published before the draw), seed, the
  scenario's seed and any redraw reason, the caps that shaped the pools;
- 检查计划: the plan at item level, before the checks: per department, item and scope (the kind of
  task, or a random draw's industries and tier), the months its checks are planned in and how
  many checks and enterprises — never which enterprises;
- 检查结果: an enterprise by name and USCC only once its check is done (a re-optimised plan's
  ledger, ``planner.ledger``), with its result (结果) and, for 责令整改, the deadline. A check
  planned but not done is not named: publishing a target before the visit tips it off.

Nothing else leaves the plan: no inspector (name or id), crew, route, visit code, findings, points
or internal reason. ``publish.json`` records the source plan and its manifest's SHA-256, and the
SHA-256 of every file written. The same plan gives the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from planner.dataset import Dataset, load_dataset
from planner.export import read_plan_folder, recorded_dataset, write_sheets_csv
from planner.ledger import KIND_LABELS, LEDGER_FILE, RESULT_LABELS
from planner.messages import msg
from planner.outputs import sha256_file, write_folder
from planner.problems import InputError, Problem
from planner.whatif import with_ratios
from planner.xlsx import DATE, FLOAT, INT, TEXT, Sheet, write_sheets

PUBLISH_RECORD = "publish.json"
WORKBOOK = "公开信息.xlsx"


@dataclass(frozen=True)
class Published:
    """What ``publish_plan`` wrote: the folder, its files, and how many enterprises it names."""

    out: Path
    files: tuple[str, ...]
    enterprises_named: int
    warnings: tuple[str, ...]


def publish_plan(
    plan_dir: Path | str, out_dir: Path | str, dataset: Path | str | None = None, replace: bool = False
) -> Published:
    """Write the public part of the plan in ``plan_dir`` to ``out_dir`` (module doc). ``dataset``:
    the dataset it was made from, by default the recorded one (names and the sampling plan come
    from it). Raises ``InputError`` when the plan or its dataset cannot be read."""
    plan = read_plan_folder(plan_dir)
    folder = Path(dataset) if dataset is not None else recorded_dataset(plan)
    if folder is None:
        raise InputError(
            [
                Problem(
                    str(plan.root / "manifest.json"),
                    None,
                    "dataset",
                    None,
                    msg("input.plan.dataset_gone"),
                )
            ]
        )
    data = load_dataset(folder)
    warnings = []
    ledger = None
    if (plan.root / LEDGER_FILE).is_file():
        ledger = pd.read_parquet(plan.root / LEDGER_FILE)
    else:
        warnings.append(f"{plan.root} has no {LEDGER_FILE} (made before plans had one): no check is published as done")
    sheets = public_sheets(plan.tables, plan.draw_record or {}, data, ledger)
    named = int(sheets[-1].frame["统一社会信用代码"].nunique())

    def fill(tmp: Path) -> None:
        write_sheets_csv(sheets, tmp)
        write_sheets(tmp / WORKBOOK, sheets)
        record = {
            "plan": str(plan.root.resolve()),
            "manifest_sha256": sha256_file(plan.root / "manifest.json"),
            "dataset": str(data.root.resolve()),
            "sheets": {sheet.name: len(sheet.frame) for sheet in sheets},
            "enterprises_named": named,
            "files": {p.name: sha256_file(p) for p in sorted(tmp.iterdir()) if p.is_file()},
        }
        (tmp / PUBLISH_RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=2), encoding="utf-8")

    write_folder(Path(out_dir), fill, replace=replace)
    files = tuple(sorted(p.name for p in Path(out_dir).iterdir()))
    return Published(Path(out_dir), files, named, tuple(warnings))


def public_sheets(
    tables: dict[str, pd.DataFrame], draw_record: dict[str, Any], dataset: Dataset, ledger: pd.DataFrame | None
) -> list[Sheet]:
    """The four public sheets: 抽查计划, 抽取记录, 检查计划, 检查结果 (module doc)."""
    dept_name = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
    return [
        _sampling_sheet(tables["draws"], draw_record, dataset, dept_name),
        _draw_record_sheet(draw_record),
        _items_sheet(tables, dataset, dept_name),
        _results_sheet(ledger, dataset, dept_name),
    ]


def _sampling_sheet(draws: pd.DataFrame, record: dict[str, Any], dataset: Dataset, dept_name: dict) -> Sheet:
    sampling = record.get("sampling") or {}
    rows = dataset.sampling_plan
    if sampling.get("tier_scale") or sampling.get("plan_ratio"):
        rows = with_ratios(rows, sampling.get("tier_scale", {}), sampling.get("plan_ratio", {}))
    pool = draws.groupby("plan_id").size() if len(draws) else pd.Series(dtype=int)
    drawn = draws[draws["selected"]].groupby("plan_id").size() if len(draws) else pd.Series(dtype=int)
    frame = pd.DataFrame(
        {
            "抽查计划编号": rows["plan_id"],
            "部门": rows["dept_id"].map(lambda d: dept_name.get(d, d)),
            "检查事项": rows["item"],
            "行业范围": rows["industries"].map(_listed),
            "信用等级": rows["tier"],
            "抽查比例": rows["ratio"],
            "开始日期": rows["window_start"],
            "结束日期": rows["window_end"],
            "抽查对象库户数": rows["plan_id"].map(pool).fillna(0).astype(int),
            "抽中户数": rows["plan_id"].map(drawn).fillna(0).astype(int),
        }
    ).reset_index(drop=True)
    kinds = {"抽查比例": FLOAT, "开始日期": DATE, "结束日期": DATE, "抽查对象库户数": INT, "抽中户数": INT}
    return Sheet("抽查计划", frame, {h: kinds.get(h, TEXT) for h in frame.columns})


def _listed(value: Any) -> str:
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return ";".join(str(v) for v in list(value))
    return str(value)


def _draw_record_sheet(record: dict[str, Any]) -> Sheet:
    caps = record.get("caps") or {}
    rows = [
        ("抽取算法", record.get("algorithm"), "permanent random numbers（见数据说明）"),
        ("种子承诺值", record.get("commitment"), "抽取前公布的种子哈希（SHA-256）：任何人可核对种子"),
        ("随机种子", record.get("seed"), "抽取所用的种子；以它和检查对象名录库可重算抽取结果"),
        ("情景种子", record.get("scenario_seed"), "情景文件中的种子"),
        ("重新抽取原因", record.get("redraw_reason"), "未使用情景文件的种子时必须说明"),
        ("年度轮换系数", record.get("year_shift"), "各年随机数的轮换"),
        ("部门年度检查上限", caps.get("per_dept_per_year"), "同一部门对同一企业每年计入上限的检查次数"),
        ("正面清单年度上限", caps.get("positive_list_per_year"), "合规正面清单企业每年计入上限的检查次数"),
    ]
    frame = pd.DataFrame(
        [(label, "" if value is None else str(value), note) for label, value, note in rows],
        columns=["项目", "内容", "说明"],
    )
    return Sheet("抽取记录", frame, dict.fromkeys(frame.columns, TEXT))


def _items_sheet(tables: dict[str, pd.DataFrame], dataset: Dataset, dept_name: dict) -> Sheet:
    """检查计划 at item level: per department, item and scope, the months and the counts of checks
    and enterprises planned — never which enterprises."""
    tasks, visits, visit_tasks = tables["tasks"], tables["visits"], tables["visit_tasks"]
    placed = visit_tasks[["task_id", "visit_id"]].merge(visits[["visit_id", "date", "uscc"]], on="visit_id")
    placed = tasks.merge(placed[["task_id", "date"]], on="task_id", how="inner")
    scope_of = {}
    for row in dataset.sampling_plan.to_dict("records"):
        scope_of[row["plan_id"]] = f"双随机抽查：行业 {_listed(row['industries'])}，信用等级 {row['tier']}"
    plan_ids = placed["plan_id"] if "plan_id" in placed else pd.Series([None] * len(placed), index=placed.index)
    placed = placed.assign(
        scope=[
            scope_of.get(p, KIND_LABELS.get(k, k)) if k == "random" else KIND_LABELS.get(k, k)
            for k, p in zip(placed["kind"], plan_ids)
        ],
        month=pd.to_datetime(placed["date"]).dt.strftime("%Y-%m"),
    )
    out = []
    for (dept, item, scope), rows in placed.groupby(["dept_id", "item", "scope"], sort=True):
        out.append(
            (
                dept_name.get(dept, dept),
                item,
                scope,
                "、".join(sorted(set(rows["month"]))),
                len(rows),
                rows["uscc"].nunique(),
            )
        )
    frame = pd.DataFrame(out, columns=["部门", "检查事项", "检查范围", "计划月份", "检查项次", "检查户数"])
    kinds = {"检查项次": INT, "检查户数": INT}
    return Sheet("检查计划", frame, {h: kinds.get(h, TEXT) for h in frame.columns})


def _results_sheet(ledger: pd.DataFrame | None, dataset: Dataset, dept_name: dict) -> Sheet:
    """检查结果: each check done of the plan's tasks, by enterprise name and USCC, with its result."""
    columns = ["企业名称", "统一社会信用代码", "部门", "检查事项", "检查日期", "检查结果", "整改期限"]
    if ledger is None:
        frame = pd.DataFrame(columns=columns)
    else:
        done = ledger[(ledger["source"] == "done") & ledger["task_id"].notna()]
        names = dict(zip(dataset.enterprises["uscc"], dataset.enterprises["name"]))
        frame = pd.DataFrame(
            {
                "企业名称": done["uscc"].map(lambda u: names.get(u, u)),
                "统一社会信用代码": done["uscc"],
                "部门": done["dept_id"].map(lambda d: dept_name.get(d, d)),
                "检查事项": done["item"],
                "检查日期": done["date"],
                "检查结果": done["result"].map(
                    lambda r: RESULT_LABELS.get(r, "结果待录入") if isinstance(r, str) else "结果待录入"
                ),
                "整改期限": done["rectify_by"],
            }
        ).reset_index(drop=True)
    return Sheet("检查结果", frame, {h: DATE if h in ("检查日期", "整改期限") else TEXT for h in columns})
