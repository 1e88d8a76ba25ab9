"""一企一档: every check of every enterprise in the plan's years, and the alerts (预警) they raise.

The ledger (``ledger.parquet`` in a plan folder) has one row per check: a department's task at an
enterprise on a date. Its rows come from three sources:

- ``history``: the dataset's history rows dated in a year of the horizon (one row each; a history
  row has no task);
- ``done``: the tasks of the plan's visits before its as-of date (a re-optimised plan), the tasks
  the actuals report done outside a planned visit, and those the parent plan's ledger recorded so;
- ``planned``: the tasks of the plan's visits from the as-of date on (every visit of a first plan).

A row is ``capped`` as the caps count it (``planner.rules.caps``): a plan row when its visit is a
capped visit, a history or done-elsewhere row unless its kind is exempt. A done row carries the
result its outcome gave (``result``, ``rectify_by``, ``findings``, ``points``), and a re-optimised
plan keeps the results its parent's ledger recorded, so the year's results travel down the lineage.

From the rows alone, with the scenario's caps and ``[alerts]``: ``ledger_summary`` (per enterprise,
year and department: visits per source, capped visits used against each cap, the next planned
date, the results) and ``ledger_alerts`` (预警): two visits of an enterprise within
``repeat_days`` (重复检查) or ``frequent_days`` (高频检查) of each other, a positive-list
enterprise visited more than once, a department at its yearly cap, more departments in a year
than ``max_departments``. A visit here is a distinct date (any department at the enterprise); a
department's visit a distinct (department, date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.messages import DEFAULT_LANG, console_lang, text
from planner.rules.caps import UNCAPPED_KINDS, capped_visit_ids
from planner.xlsx import DATE, INT, TEXT, Sheet

LEDGER_FILE = "ledger.parquet"
SOURCES = ("history", "done", "planned")
SOURCE_LABELS = {"history": "往年及计划前记录", "done": "已检查", "planned": "计划检查"}
RESULT_LABELS = {"clear": "未发现问题", "rectify": "责令整改", "case": "立案查处", "redline": "触及红线"}
KIND_LABELS = {
    "key": "重点监管",
    "triggered": "投诉举报",
    "campaign": "专项整治",
    "followup": "整改复查",
    "random": "双随机抽查",
    "appointment": "预约指导",
}
LEDGER_COLUMNS = [
    "uscc",
    "year",
    "date",
    "dept_id",
    "source",
    "kind",
    "task_id",
    "item",
    "visit_code",
    "capped",
    "positive_list",
    "result",
    "rectify_by",
    "findings",
    "points",
]
SUMMARY_COLUMNS = [
    "uscc",
    "year",
    "dept_id",
    "history",
    "done",
    "planned",
    "kinds",
    "capped",
    "dept_cap",
    "positive_list",
    "firm_capped",
    "firm_cap",
    "next_date",
    "results",
]
ALERT_COLUMNS = ["uscc", "year", "alert", "dept_id", "dates", "message"]
#: alert code → its name for officials, in the order the ledger lists them
ALERT_CODES = ("repeat", "frequent", "positive_list_repeat", "dept_at_cap", "many_departments")


def alert_label(code: str, lang: str = DEFAULT_LANG) -> str:
    """The name of alert ``code`` in ``lang`` (the catalogue's ``alert.<code>``)."""
    return text(f"alert.{code}", lang)


ALERT_LABELS = {code: alert_label(code) for code in ALERT_CODES}


def build_ledger(
    tables: Mapping[str, pd.DataFrame],
    history: pd.DataFrame,
    enterprises: pd.DataFrame,
    years: range,
    *,
    as_of: dt.date | None = None,
    outcomes: pd.DataFrame | None = None,
    parent_tables: Mapping[str, pd.DataFrame] | None = None,
    parent_ledger: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ledger rows (``LEDGER_COLUMNS``) of a plan: ``tables`` its tasks, visits and
    visit_tasks; ``history`` the dataset's (not the re-optimisation's checked facts, which add
    the done tasks); ``years`` the calendar years of the horizon. A re-optimised plan passes its
    ``as_of``, the ``outcomes`` it applied, its parent's tables and the parent's ledger (None for
    a parent written before plans had one)."""
    tasks, visits, visit_tasks = tables["tasks"], tables["visits"], tables["visit_tasks"]
    rows: list[pd.DataFrame] = []
    past = history[history["date"].dt.year.isin(list(years))]
    rows.append(
        pd.DataFrame(
            {
                "uscc": past["uscc"].to_numpy(dtype=object),
                "date": past["date"].dt.date.to_numpy(dtype=object),
                "dept_id": past["dept_id"].to_numpy(dtype=object),
                "source": "history",
                "kind": past["kind"].astype(object).where(past["kind"].notna(), None).to_numpy(dtype=object),
                "capped": ~past["kind"].isin(UNCAPPED_KINDS).to_numpy(dtype=bool),
            }
        )
    )
    capped = set(capped_visit_ids(visit_tasks))
    placed = visit_tasks.merge(visits[["visit_id", "uscc", "date", "visit_code"]], on="visit_id", how="inner")
    dates = pd.to_datetime(placed["date"]).dt.date
    done = dates < as_of if as_of is not None else np.zeros(len(placed), dtype=bool)
    rows.append(
        pd.DataFrame(
            {
                "uscc": placed["uscc"].to_numpy(dtype=object),
                "date": dates.to_numpy(dtype=object),
                "dept_id": placed["dept_id"].to_numpy(dtype=object),
                "source": np.where(done, "done", "planned"),
                "kind": placed["kind"].to_numpy(dtype=object),
                "task_id": placed["task_id"].to_numpy(dtype=object),
                "item": placed["item"].to_numpy(dtype=object),
                "visit_code": placed["visit_code"].to_numpy(dtype=object),
                "capped": _member(placed["visit_id"], capped),
            }
        )
    )
    done_in_visits = set(placed.loc[np.asarray(done, dtype=bool), "task_id"])
    said = outcomes if outcomes is not None else pd.DataFrame(columns=["task_id", "status", "date"])
    rows.append(_done_elsewhere(said, tasks, done_in_visits, parent_tables))
    if parent_ledger is not None and len(parent_ledger):
        earlier = parent_ledger[
            (parent_ledger["source"] == "done")
            & parent_ledger["visit_code"].isna()
            & parent_ledger["task_id"].notna()
            & ~_member(parent_ledger["task_id"], set(said["task_id"]))
            & ~_member(parent_ledger["task_id"], done_in_visits)
        ]
        rows.append(earlier[["uscc", "date", "dept_id", "source", "kind", "task_id", "item", "capped"]])
    ledger = pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) else None
    if ledger is None:
        ledger = pd.DataFrame({c: pd.Series(dtype=object) for c in ["uscc", "date", "dept_id", "source", "capped"]})
    ledger["date"] = pd.to_datetime(ledger["date"]).dt.date
    ledger = ledger[pd.to_datetime(ledger["date"]).dt.year.isin(list(years))].copy()
    ledger["year"] = pd.to_datetime(ledger["date"]).dt.year.astype("int64")
    positive = set(enterprises.loc[enterprises["positive_list"].astype(bool), "uscc"])
    ledger["positive_list"] = _member(ledger["uscc"], positive)
    ledger = _with_results(ledger, said, parent_ledger)
    for column in LEDGER_COLUMNS:
        if column not in ledger:
            ledger[column] = None
    ledger["capped"] = ledger["capped"].astype(bool)
    ledger["points"] = pd.array(ledger["points"], dtype="Int64")
    ledger = ledger[LEDGER_COLUMNS]
    order = ledger.assign(_task=ledger["task_id"].fillna(""), _source=ledger["source"].map(SOURCES.index))
    order = order.sort_values(["uscc", "date", "dept_id", "_source", "_task"], kind="stable")
    return ledger.loc[order.index].reset_index(drop=True)


def plan_ledger(
    tables: Mapping[str, pd.DataFrame],
    history: pd.DataFrame,
    enterprises: pd.DataFrame,
    horizon: tuple[dt.date, dt.date],
    *,
    as_of: dt.date | None = None,
    outcomes: pd.DataFrame | None = None,
    parent_dir: Path | None = None,
) -> pd.DataFrame:
    """``build_ledger`` for a plan: a first plan from its tables and the dataset's ``history`` and
    ``enterprises``; a re-optimised one also with its ``as_of``, the ``outcomes`` it applied and
    its parent plan folder, whose visits and ledger (when it has one) are read here."""
    years = range(horizon[0].year, horizon[1].year + 1)
    parent_tables = parent_ledger = None
    if parent_dir is not None:
        parent_tables = {
            name: pd.read_parquet(Path(parent_dir) / f"{name}.parquet") for name in ("visits", "visit_tasks")
        }
        if (Path(parent_dir) / LEDGER_FILE).is_file():
            parent_ledger = pd.read_parquet(Path(parent_dir) / LEDGER_FILE)
    return build_ledger(
        tables,
        history,
        enterprises,
        years,
        as_of=as_of,
        outcomes=outcomes,
        parent_tables=parent_tables,
        parent_ledger=parent_ledger,
    )


def same_ledger(disk: pd.DataFrame, want: pd.DataFrame) -> list[str]:
    """Where ``disk`` (ledger.parquet as read back) differs from the ledger ``want``: a line per
    differing row (at most 20, then a count), [] when they are the same."""
    if list(disk.columns) != list(want.columns):
        return [_said("ledger.diff.columns", disk=list(disk.columns), want=list(want.columns))]
    lines = []
    if len(disk) != len(want):
        lines.append(_said("ledger.diff.rows", disk=len(disk), want=len(want)))
    for i, (a, b) in enumerate(zip(_canonical(disk), _canonical(want), strict=False)):
        if a != b:
            lines.append(
                _said("ledger.diff.row", n=i + 1, disk=dict(zip(want.columns, a)), want=dict(zip(want.columns, b)))
            )
    return lines[:20] + ([_said("ledger.diff.more", n=len(lines) - 20)] if len(lines) > 20 else [])


def _said(message_id: str, **fields) -> str:
    """A difference's sentence in the console's language (verify prints it)."""
    return text(message_id, console_lang()).format(**fields)


def _canonical(frame: pd.DataFrame) -> list[tuple]:
    """Rows as tuples of plain values (None for a blank, dates as ISO text), to compare across a Parquet round trip."""

    def plain(value: Any) -> Any:
        if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
            return None
        if isinstance(value, (dt.date, pd.Timestamp)):
            return pd.Timestamp(value).date().isoformat()
        if isinstance(value, (np.integer, np.bool_, np.floating)):
            return value.item()
        return value

    return [tuple(plain(v) for v in row) for row in frame.itertuples(index=False, name=None)]


def _member(values: pd.Series, among: set) -> np.ndarray:
    """``values.isin(among)`` as booleans, by Python's set lookup (pandas' Arrow strings test
    membership element by element in Python, and slower)."""
    return np.fromiter((v in among for v in values.tolist()), dtype=bool, count=len(values))


def _done_elsewhere(
    outcomes: pd.DataFrame, tasks: pd.DataFrame, in_visits: set, parent_tables: Mapping[str, pd.DataFrame] | None
) -> pd.DataFrame:
    """Tasks the actuals report done and no visit of the plan holds before as-of: done outside a
    planned visit, on the date the outcome gives (else the parent's planned date)."""
    done = outcomes[(outcomes["status"] == "done").to_numpy(dtype=bool) & ~_member(outcomes["task_id"], in_visits)]
    if not len(done):
        return pd.DataFrame()
    planned_on: dict[str, dt.date] = {}
    if parent_tables is not None:
        placed = parent_tables["visit_tasks"].merge(parent_tables["visits"][["visit_id", "date"]], on="visit_id")
        planned_on = dict(zip(placed["task_id"], pd.to_datetime(placed["date"]).dt.date))
    of = tasks.set_index("task_id")
    known = done[done["task_id"].isin(of.index)]
    when = [
        pd.Timestamp(d).date() if pd.notna(d) else planned_on.get(t) for t, d in zip(known["task_id"], known["date"])
    ]
    frame = pd.DataFrame(
        {
            "uscc": of.loc[known["task_id"], "uscc"].to_numpy(dtype=object),
            "date": when,
            "dept_id": of.loc[known["task_id"], "dept_id"].to_numpy(dtype=object),
            "source": "done",
            "kind": of.loc[known["task_id"], "kind"].to_numpy(dtype=object),
            "task_id": known["task_id"].to_numpy(dtype=object),
            "item": of.loc[known["task_id"], "item"].to_numpy(dtype=object),
        }
    )
    frame["capped"] = ~frame["kind"].isin(UNCAPPED_KINDS)
    return frame[frame["date"].notna()]


def _with_results(ledger: pd.DataFrame, outcomes: pd.DataFrame, parent_ledger: pd.DataFrame | None) -> pd.DataFrame:
    """Each done row's result: the actuals' outcome if it gives one, else the parent ledger's."""
    results: dict[str, dict[str, Any]] = {}
    if parent_ledger is not None and len(parent_ledger):
        given = parent_ledger[parent_ledger["task_id"].notna() & parent_ledger["result"].notna()]
        for record in given.to_dict("records"):
            results[record["task_id"]] = {c: record[c] for c in ("result", "rectify_by", "findings", "points")}
    if "result" in outcomes:
        given = outcomes[outcomes["result"].notna()]
        for record in given.to_dict("records"):
            deadline = record.get("rectify_by")
            results[record["task_id"]] = {
                "result": record["result"],
                "rectify_by": pd.Timestamp(deadline).date() if pd.notna(deadline) else None,
                "findings": record.get("findings") if pd.notna(record.get("findings")) else None,
                "points": int(record["points"]) if pd.notna(record.get("points")) else None,
            }
    done = (ledger["source"] == "done").to_numpy() & ledger["task_id"].notna().to_numpy()
    for column in ("result", "rectify_by", "findings", "points"):
        values = [
            results.get(t, {}).get(column) if is_done else None
            for t, is_done in zip(ledger["task_id"].to_numpy(dtype=object), done)
        ]
        ledger[column] = pd.Series(values, index=ledger.index, dtype=object).where(
            pd.Series(values, index=ledger.index, dtype=object).notna(), None
        )
    return ledger


# ---------------------------------------------------------------------------------------------
# what the rows say: the summary per enterprise, year and department, and the alerts


def _caps(scenario: Mapping[str, Any]) -> tuple[int, int]:
    caps = scenario.get("caps") or {}
    return int(caps.get("per_dept_per_year", 2)), int(caps.get("positive_list_per_year", 1))


def _thresholds(scenario: Mapping[str, Any]) -> tuple[int, int, int]:
    alerts = scenario.get("alerts") or {}
    return (
        int(alerts.get("repeat_days", 7)),
        int(alerts.get("frequent_days", 30)),
        int(alerts.get("max_departments", 3)),
    )


def _checks(ledger: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as plain records, blanks as None: the summaries below loop over them in Python,
    which for a county's tens of thousands of rows is far quicker than a pandas group per firm."""
    columns = ["uscc", "year", "date", "dept_id", "source", "kind", "capped", "positive_list", "result", "rectify_by"]
    values = []
    for c in columns:
        column = ledger[c]
        if c in ("year", "capped", "positive_list"):
            values.append(column.astype(int if c == "year" else bool).tolist())
        else:
            values.append(column.astype(object).where(column.notna(), None).tolist())
    return [dict(zip(columns, row)) for row in zip(*values)]


def ledger_summary(ledger: pd.DataFrame, scenario: Mapping[str, Any], lang: str = DEFAULT_LANG) -> pd.DataFrame:
    """Per enterprise, year and department (``SUMMARY_COLUMNS``): its visits (distinct dates) of
    each source, the task kinds, capped visits used against the department's cap and, for a
    positive-list enterprise, the firm's capped visits against 一年最多查一次, the next planned
    date, and the results of its checks done (kinds and results in ``lang``)."""
    dept_cap, firm_cap = _caps(scenario)
    lines: dict[tuple, dict[str, Any]] = {}
    firm_capped: dict[tuple, set] = {}
    for r in _checks(ledger):
        line = lines.setdefault(
            (r["uscc"], r["year"], r["dept_id"]),
            {**{s: set() for s in SOURCES}, "kinds": set(), "capped": set(), "positive": False, "results": []},
        )
        line[r["source"]].add(r["date"])
        if r["kind"] is not None:
            line["kinds"].add(r["kind"])
        if r["capped"]:
            line["capped"].add(r["date"])
            firm_capped.setdefault((r["uscc"], r["year"]), set()).add(r["date"])
        line["positive"] |= bool(r["positive_list"])
        if r["result"] is not None:
            result = f"result.{r['result']}"
            said = text("ledger.result", lang).format(
                date=r["date"].isoformat(), result=text(result, lang) if r["result"] in RESULT_LABELS else r["result"]
            )
            if r["rectify_by"] is not None:
                said += text("ledger.rectify_by", lang).format(date=pd.Timestamp(r["rectify_by"]).date().isoformat())
            line["results"].append(said)
    out = [
        {
            "uscc": uscc,
            "year": year,
            "dept_id": dept,
            **{s: len(line[s]) for s in SOURCES},
            "kinds": text("sep.list", lang).join(
                text(f"kind.{k}", lang) if k in KIND_LABELS else k for k in sorted(line["kinds"])
            ),
            "capped": len(line["capped"]),
            "dept_cap": dept_cap,
            "positive_list": line["positive"],
            "firm_capped": len(firm_capped.get((uscc, year), ())),
            "firm_cap": firm_cap if line["positive"] else pd.NA,
            "next_date": min(line["planned"]) if line["planned"] else None,
            "results": text("sep.clauses", lang).join(line["results"]),
        }
        for (uscc, year, dept), line in sorted(lines.items())
    ]
    return pd.DataFrame(out, columns=SUMMARY_COLUMNS).astype({"firm_cap": "Int64"})


def ledger_alerts(
    ledger: pd.DataFrame, scenario: Mapping[str, Any], dept_name: Mapping | None = None, lang: str = DEFAULT_LANG
) -> pd.DataFrame:
    """预警 (``ALERT_COLUMNS``): one row per alert, by enterprise and year — the close pairs of
    visits in date order, then the positive list, the departments at their cap, the departments'
    count; ``message`` says it in ``lang`` (Chinese by default) with the dates concerned (and departments by their
    names in ``dept_name``, where given)."""
    dept_name = dept_name or {}
    comma = text("sep.list", lang)
    repeat_days, frequent_days, max_departments = _thresholds(scenario)
    dept_cap, _ = _caps(scenario)
    firms: dict[tuple, dict[str, Any]] = {}
    for r in _checks(ledger):
        if r.get("kind") == "appointment":
            continue  # a visit the enterprise asked for (预约) is service, not an inspection to warn of
        firm = firms.setdefault((r["uscc"], r["year"]), {"dates": set(), "depts": {}, "positive": False})
        firm["dates"].add(r["date"])
        used = firm["depts"].setdefault(r["dept_id"], set())
        if r["capped"]:
            used.add(r["date"])
        firm["positive"] |= bool(r["positive_list"])
    out: list[tuple] = []
    for (uscc, year), firm in sorted(firms.items()):
        dates = sorted(firm["dates"])
        for first, second in zip(dates, dates[1:]):
            gap = (second - first).days
            if gap <= repeat_days:
                code, limit = "repeat", repeat_days
            elif gap <= frequent_days:
                code, limit = "frequent", frequent_days
            else:
                continue
            span = comma.join((first.isoformat(), second.isoformat()))
            message = text("ledger.alert.close", lang).format(span=span, gap=gap, limit=limit)
            out.append((uscc, year, code, None, span, message))
        if firm["positive"] and len(dates) > 1:
            span = comma.join(d.isoformat() for d in dates)
            message = text("ledger.alert.positive_list", lang).format(n=len(dates), span=span)
            out.append((uscc, year, "positive_list_repeat", None, span, message))
        for dept, used in sorted(firm["depts"].items()):
            if used and len(used) >= dept_cap:
                span = comma.join(d.isoformat() for d in sorted(used))
                message = text("ledger.alert.dept_at_cap", lang).format(
                    dept=dept_name.get(dept, dept), n=len(used), cap=dept_cap, span=span
                )
                out.append((uscc, year, "dept_at_cap", dept, span, message))
        if len(firm["depts"]) > max_departments:
            shown = comma.join(str(dept_name.get(d, d)) for d in sorted(firm["depts"]))
            message = text("ledger.alert.many_departments", lang).format(
                n=len(firm["depts"]), shown=shown, most=max_departments
            )
            out.append((uscc, year, "many_departments", None, "", message))
    return pd.DataFrame(out, columns=ALERT_COLUMNS)


def new_alerts(
    before: pd.DataFrame | None,
    after: pd.DataFrame,
    scenario: Mapping[str, Any],
    dept_name: Mapping | None = None,
    lang: str = DEFAULT_LANG,
) -> pd.DataFrame:
    """The alerts ``after`` (a re-optimised plan's ledger) has that ``before`` (its parent's) had
    not: a close pair of visit dates the new plan makes, or a cap, a positive-list firm's second
    visit or a count of departments it newly reaches — the warning a coordinator wants before new
    tasks go ahead. ``ALERT_COLUMNS``; all of ``after``'s alerts when ``before`` is None."""
    now = ledger_alerts(after, scenario, dept_name, lang)
    if before is None or not len(now):
        return now
    then = ledger_alerts(before, scenario, dept_name, lang)

    def keys(alerts: pd.DataFrame) -> pd.Series:
        pair = alerts["alert"].isin(["repeat", "frequent"])  # a pair is its dates; the others their reach
        return (
            alerts["uscc"].astype(str)
            + "|"
            + alerts["year"].astype(str)
            + "|"
            + alerts["alert"]
            + "|"
            + alerts["dept_id"].fillna("").astype(str)
            + "|"
            + alerts["dates"].where(pair, "").astype(str)
        )

    return now[~keys(now).isin(set(keys(then)))].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# for officials: plan.xlsx's sheets, report.html's section, the console


def ledger_sheets(
    ledger: pd.DataFrame,
    scenario: Mapping[str, Any],
    enterprise_name: Mapping,
    dept_name: Mapping,
    lang: str = DEFAULT_LANG,
) -> list[Sheet]:
    """企业检查台账 (the summary, one row per enterprise, year and department) and 检查预警 (the
    alerts), in ``lang`` (Chinese by default; names as they are)."""
    summary = ledger_summary(ledger, scenario, lang)
    alerts = ledger_alerts(ledger, scenario, dept_name, lang)
    labels = {code: alert_label(code, lang) for code in ALERT_CODES}
    yes, no = text("word.yes", lang), text("word.no", lang)
    flagged: dict[tuple, list[str]] = {}
    for uscc, year, code, dept in zip(alerts["uscc"], alerts["year"], alerts["alert"], alerts["dept_id"]):
        flagged.setdefault((uscc, year, dept), []).append(labels[code])
    firm_alerts = [
        text("sep.list", lang).join(dict.fromkeys(flagged.get((u, y, None), []) + flagged.get((u, y, d), [])))
        for u, y, d in zip(summary["uscc"], summary["year"], summary["dept_id"])
    ]
    table = pd.DataFrame(
        {
            "enterprise": summary["uscc"].map(lambda u: enterprise_name.get(u, u)),
            "uscc": summary["uscc"],
            "year": summary["year"],
            "department": summary["dept_id"].map(lambda d: dept_name.get(d, d)),
            "history": summary["history"],
            "done": summary["done"],
            "planned": summary["planned"],
            "kind": summary["kinds"],
            "capped": summary["capped"],
            "dept_cap": summary["dept_cap"],
            "positive_list": summary["positive_list"].map({True: yes, False: no}),
            "firm_capped": summary["firm_capped"],
            "firm_cap": [None if pd.isna(c) else int(c) for c in summary["firm_cap"]],
            "next_date": summary["next_date"],
            "results": summary["results"],
            "alert": firm_alerts,
        }
    )
    kinds = {
        "year": INT,
        "history": INT,
        "done": INT,
        "planned": INT,
        "capped": INT,
        "dept_cap": INT,
        "firm_capped": INT,
        "firm_cap": INT,
        "next_date": DATE,
    }
    warnings = pd.DataFrame(
        {
            "enterprise": alerts["uscc"].map(lambda u: enterprise_name.get(u, u)),
            "uscc": alerts["uscc"],
            "year": alerts["year"],
            "alert": alerts["alert"].map(labels),
            "department": alerts["dept_id"].map(lambda d: None if d is None or pd.isna(d) else dept_name.get(d, d)),
            "note": alerts["message"],
            "code": alerts["alert"],
        }
    )
    return [
        _sheet(text("sheet.ledger", lang), table, {h: kinds.get(h, TEXT) for h in table.columns}, lang),
        _sheet(text("sheet.alerts", lang), warnings, {h: INT if h == "year" else TEXT for h in warnings.columns}, lang),
    ]


def _sheet(name: str, frame: pd.DataFrame, kinds: Mapping[str, str], lang: str) -> Sheet:
    """Sheet ``name`` of ``frame``, whose columns are header ids (the catalogue's ``col.<id>``)."""
    headers = {h: text(f"col.{h}", lang) for h in frame.columns}
    return Sheet(name, frame.rename(columns=headers), {headers[h]: kinds[h] for h in frame.columns})


def alerts_counts(alerts: pd.DataFrame) -> dict[str, int]:
    """Alerts per code, every code listed (0 where none)."""
    counts = alerts["alert"].value_counts()
    return {code: int(counts.get(code, 0)) for code in ALERT_CODES}


def ledger_lines(
    ledger: pd.DataFrame,
    scenario: Mapping[str, Any],
    enterprise_name: Mapping,
    dept_name: Mapping,
    uscc: str | None = None,
) -> list[str]:
    """The ledger as plain lines for the console, none longer than 80 columns (CJK counted
    double): per enterprise and year, one line per department, then its alerts."""
    rows = ledger if uscc is None else ledger[ledger["uscc"] == uscc]
    alerts: dict[tuple, list[str]] = {}
    found = ledger_alerts(rows, scenario, dept_name)
    for firm, year, code, message in zip(found["uscc"], found["year"], found["alert"], found["message"]):
        alerts.setdefault((firm, year), []).append(f"  预警·{ALERT_LABELS[code]}：{message}")
    lines: list[str] = []
    shown = None
    for record in ledger_summary(rows, scenario).to_dict("records"):
        firm, year = record["uscc"], record["year"]
        if (firm, year) != shown:
            if shown is not None:
                lines += [w for text in alerts.get(shown, []) for w in _wrapped(text, "    ")]
            shown = (firm, year)
            lines += _wrapped(f"{enterprise_name.get(firm, firm)} {firm} {year}年", "  ")
            if record["positive_list"]:
                lines += _wrapped(f"  正面清单：计入上限 {record['firm_capped']}/{record['firm_cap']} 次", "    ")
        dept = dept_name.get(record["dept_id"], record["dept_id"])
        nxt = record["next_date"].isoformat() if record["next_date"] is not None else "—"
        lines += _wrapped(
            f"  {dept}：往年{record['history']} 已查{record['done']} 计划{record['planned']} "
            f"上限{record['capped']}/{record['dept_cap']} 下次{nxt}",
            "    ",
        )
        for part in record["results"].split("；") if record["results"] else ():
            lines += _wrapped(f"    结果：{part}", "      ")
    if shown is not None:
        lines += [w for text in alerts.get(shown, []) for w in _wrapped(text, "    ")]
    return lines


def display_width(text: str) -> int:
    """Columns a terminal gives ``text``: East Asian wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrapped(text: str, indent: str = "", width: int = 80) -> list[str]:
    """``text`` in lines of at most ``width`` columns, broken after a separator (、，；： or a
    space) where one is near; lines after the first start with ``indent``."""
    if display_width(text) <= width:
        return [text]
    lines, line, used = [], "", 0
    for ch in text:
        w = display_width(ch)
        if used + w > width:
            cut = max(line.rfind(sep) for sep in "、，；： ") + 1
            if cut <= len(indent) or display_width(line[:cut]) < width // 2:
                cut = len(line)
            lines.append(line[:cut].rstrip())
            line = indent + line[cut:]
            used = display_width(line)
        line += ch
        used += w
    return [*lines, line]
