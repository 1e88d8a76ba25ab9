"""``planner compare``: several plans' KPIs side by side, with the difference to the first.

Each item is a plan folder (its kpis.json is read) or a scenario file (it is planned in memory,
nothing written). A scenario's acceptance rules are judged on its plan; a folder's, on the
scenario recorded in its manifest when that file still exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from rich.cells import cell_len

from planner.acceptance import Verdict, judge
from planner.messages import DEFAULT_LANG, text

#: the KPIs compared, in the order shown
COMPARED = (
    "tasks",
    "scheduled",
    "unscheduled",
    "unscheduled_mandatory",
    "visits",
    "lower_bound_visits",
    "rule_bound_visits",
    "baseline_visits",
    "disturbance_reduction",
    "disturbance_saved_joint",
    "joint_inspection_rate",
    "joint_task_rate",
    "joint_visit_rate",
    "joint_random_rate",
    "joint_random_rate_strict",
    "inspector_hours",
    "travel_hours",
    "max_crew_day_hours",
)


@dataclass(frozen=True)
class Comparison:
    """The compared plans: labels, raw KPIs, the display table and acceptance verdicts per plan."""

    labels: list[str]
    kpis: list[dict[str, Any]]
    table: pd.DataFrame  # index: KPI; one text column per plan ("value (Δ)")
    verdicts: dict[str, list[Verdict]]

    def values(self) -> pd.DataFrame:
        """The numbers alone: KPI rows, one column per plan."""
        return pd.DataFrame(
            {label: [k.get(name) for name in COMPARED] for label, k in zip(self.labels, self.kpis)},
            index=list(COMPARED),
        )


def compare_plans(
    items: list[Path], progress: Callable[[str], None] | None = None, lang: str = DEFAULT_LANG
) -> Comparison:
    """Read or plan each item and line their KPIs up against the first; ``progress`` hears a line
    before a scenario is planned and one after each item; differences are said in ``lang``."""
    labels, kpis, verdicts = [], [], {}
    for item in items:
        label, figures, rules = _kpis_of(Path(item), progress, lang)
        if progress:
            progress(text("compare.item_done", lang).format(name=Path(item).name, visits=figures.get("visits", "—")))
        while label in labels:
            label += "'"
        labels.append(label)
        kpis.append(figures)
        verdicts[label] = judge(rules, figures) if rules else []
    columns = {}
    for label, figures in zip(labels, kpis):
        cells = []
        for name in COMPARED:
            value, first = figures.get(name), kpis[0].get(name)
            cell = _show(name, value)
            if figures is not kpis[0] and isinstance(value, int | float) and isinstance(first, int | float):
                delta = value - first
                cell += f" ({'+' if delta >= 0 else '−'}{_show_delta(name, abs(delta), lang)})"
            cells.append(cell)
        columns[label] = cells
    return Comparison(labels, kpis, pd.DataFrame(columns, index=list(COMPARED)), verdicts)


def comparison_lines(comparison: Comparison, width: int, lang: str = DEFAULT_LANG) -> list[str]:
    """The comparison for a terminal of ``width`` columns, KPIs by their names in ``lang``: a table
    of KPI rows and plan columns when it fits, else one block per KPI with a line per plan (what a
    pipe or an 80-column window gets for three plans or more). No value is ever cut or wrapped."""
    from planner.terminal import columns, width_of
    from planner.workbook import KPI_KINDS, kpi_label

    title = text("compare.title", lang)
    names = [kpi_label(k, lang)[0] if k in KPI_KINDS else k for k in comparison.table.index]
    rows = [[text("compare.kpi", lang), *comparison.labels]]
    rows += [[name, *cells] for name, cells in zip(names, comparison.table.itertuples(index=False))]
    if width_of(rows) <= width:
        return [title, *columns(rows, [False] + [True] * len(comparison.labels))]
    lines = [title]
    label_cells = max(cell_len(label) for label in comparison.labels)
    for name, cells in zip(names, comparison.table.itertuples(index=False)):
        lines.append(name)
        for label, cell in zip(comparison.labels, cells):
            lines.append(f"  {label}{' ' * (label_cells - cell_len(label))}  {cell}")
    return lines


def is_rate(name: str) -> bool:
    """A KPI that is a share in [0, 1] (``joint_visit_rate``, ``joint_random_rate_strict`` …)."""
    return "_rate" in name


def _show_delta(name: str, delta: float, lang: str = DEFAULT_LANG) -> str:
    """A difference: a rate's in percentage points (个百分点), not in percent of itself."""
    if is_rate(name):
        return text("compare.points", lang).format(n=f"{delta * 100:.1f}")
    return _show(name, delta)


def _show(name: str, value: Any) -> str:
    if value is None:
        return "—"
    if is_rate(name):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def _kpis_of(item: Path, progress, lang: str) -> tuple[str, dict[str, Any], tuple[str, ...]]:
    """(label, KPIs, acceptance rules) of a plan folder or a scenario file."""
    import json

    from planner.scenario import load_scenario

    if item.is_dir():
        kpis = json.loads((item / "kpis.json").read_text(encoding="utf-8"))
        manifest = json.loads((item / "manifest.json").read_text(encoding="utf-8"))
        scenario = manifest.get("scenario", {})
        return item.name, kpis, tuple(scenario.get("acceptance", ()))
    from planner.pipeline import make_plan
    from planner.whatif import load_scenario_dataset
    from planner.workdays import work_calendar

    scenario = load_scenario(item)
    dataset = load_scenario_dataset(scenario)
    calendar = work_calendar(
        scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides(), where=str(item)
    )
    if progress:
        progress(text("compare.planning", lang).format(name=item.name))
    plan = make_plan(dataset, scenario, calendar)
    return item.stem, plan.kpis, scenario.acceptance


def write_compare_xlsx(comparison: Comparison, path: Path) -> None:
    """The numbers, one sheet, KPIs as rows by their Chinese names, then their kpis.json keys
    (text never becomes a formula)."""
    from planner.workbook import KPI_LABELS

    frame = comparison.values().reset_index(names="键")
    frame.insert(0, "指标", [KPI_LABELS.get(k, (k,))[0] for k in frame["键"]])
    with pd.ExcelWriter(
        path, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False, "strings_to_urls": False}}
    ) as writer:
        frame.to_excel(writer, sheet_name="方案对比", index=False)
        sheet = writer.sheets["方案对比"]
        sheet.freeze_panes(1, 1)
        sheet.set_column(0, 0, 28)
        sheet.set_column(1, 1, 24)
        sheet.set_column(2, 1 + len(comparison.labels), 16)


def write_compare_html(comparison: Comparison, path: Path) -> None:
    """One offline page: bars of visits, lower bound and baseline, and of the unscheduled, per plan."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    values = comparison.values()
    figure = make_subplots(rows=1, cols=2, subplot_titles=("检查户次", "未安排任务"))
    for name, label in (("visits", "方案户次"), ("lower_bound_visits", "下限"), ("baseline_visits", "各部门单独")):
        figure.add_trace(go.Bar(name=label, x=comparison.labels, y=values.loc[name].tolist()), row=1, col=1)
    for name, label in (("unscheduled", "未安排"), ("unscheduled_mandatory", "未安排必查")):
        figure.add_trace(go.Bar(name=label, x=comparison.labels, y=values.loc[name].tolist()), row=1, col=2)
    figure.update_layout(barmode="group", title="方案对比")
    path.write_text(figure.to_html(include_plotlyjs=True, full_html=True), encoding="utf-8")
