"""What is in a dataset, as small tables a coordinator reads before planning."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planner.dataset import Dataset
from planner.schema import TABLES


@dataclass(frozen=True)
class DatasetSummary:
    """Counts per table, per credit tier, per department and per task kind and month."""

    tables: pd.DataFrame  # table, title_zh, rows, file
    tiers: pd.DataFrame  # credit_tier, enterprises, positive_list, sandbox, in_observation
    departments: pd.DataFrame  # dept_id, name, inspectors, certified, demands, sampling_rows
    tasks_by_month: pd.DataFrame  # index month (of window_start), one column per kind, total


def summarise(dataset: Dataset) -> DatasetSummary:
    tables = pd.DataFrame(
        [(t.name, t.title_zh, len(dataset.table(t.name)), str(dataset.files.get(t.name, "—"))) for t in TABLES],
        columns=["table", "title_zh", "rows", "file"],
    )
    enterprises = dataset.enterprises
    tiers = (
        enterprises.assign(in_observation=enterprises["observation_until"].notna())
        .groupby("credit_tier")
        .agg(
            enterprises=("uscc", "size"),
            positive_list=("positive_list", "sum"),
            sandbox=("sandbox", "sum"),
            in_observation=("in_observation", "sum"),
        )
        .reindex(list("ABCD"), fill_value=0)
        .rename_axis("credit_tier")
        .reset_index()
    )
    inspectors = dataset.inspectors.assign(certified=dataset.inspectors["cert_no"].notna())
    departments = (
        dataset.departments.set_index("dept_id")[["name"]]
        .join(inspectors.groupby("dept_id").agg(inspectors=("inspector_id", "size"), certified=("certified", "sum")))
        .join(dataset.demands.groupby("dept_id").size().rename("demands"))
        .join(dataset.sampling_plan.groupby("dept_id").size().rename("sampling_rows"))
        .fillna(0)
        .astype({"inspectors": int, "certified": int, "demands": int, "sampling_rows": int})
        .reset_index()
    )
    demands = dataset.demands
    tasks_by_month = pd.crosstab(demands["window_start"].dt.strftime("%Y-%m"), demands["kind"])
    tasks_by_month = tasks_by_month.reindex(columns=["key", "triggered", "campaign", "followup"], fill_value=0)
    tasks_by_month["total"] = tasks_by_month.sum(axis=1)
    tasks_by_month.index.name = "month"
    return DatasetSummary(tables, tiers, departments, tasks_by_month)
