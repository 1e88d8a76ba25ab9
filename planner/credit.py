"""信用积分: each enterprise's score of a year from the results of its checks, the credit tier it
suggests, and the update file an official applies (``planner credit PLAN``).

The checks that count are the plan ledger's ``done`` rows of the year that carry a result (the
ledger holds the results of the plan's whole lineage). Each gives points: the outcome's own
``points`` when it has them, else the most specific row of the scoring table (``credit_rules``:
department + kind, then department, then kind, then the result alone). The table is the dataset's
``credit_rules``, else the scenario's ``[credit] rules`` file, else the planner's template
``credit_rules.csv`` — a template to adapt, not a legal rule.

Per enterprise with at least one counted result: score = its ``credit_score`` (blank: ``[credit]
start``) + the points; suggested tier = A, B or C when the score reaches that tier's threshold,
else D; a red line (触及红线) takes it out of the sandbox (优信豁免沙盒) and off the positive list
(合规正面清单). Nothing changes by itself: ``credit_update`` gives the changed enterprises rows
(the enterprises table's columns, ready for ``actuals/enterprises`` of the next re-optimisation or
the scenario key ``enterprises_update`` of next year's plan) and the reasons, one row each.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.dataset import Dataset, credit_rule_ties, enterprises_update, table_file
from planner.ledger import KIND_LABELS, LEDGER_FILE, RESULT_LABELS
from planner.messages import msg
from planner.problems import InputError, Problem
from planner.scenario import Credit
from planner.schema import TABLES_BY_NAME
from planner.tables import load_table

#: the planner's scoring table: a template for a county to adapt, not a rule of law
TEMPLATE = Path(__file__).with_name("credit_rules.csv")
TIERS = ("A", "B", "C")  # each with its lowest score in ``[credit]``; below C: D
#: the update file's columns: the enterprises table's, in its order
UPDATE_COLUMNS = [c.name for c in TABLES_BY_NAME["enterprises"].columns]
#: the reasons file, next to the update file: ``<stem>.信用积分理由<suffix>``
REASONS_STEM = "信用积分理由"
REASON_COLUMNS = {
    "uscc": "统一社会信用代码",
    "name": "企业名称",
    "old_tier": "原信用等级",
    "tier": "建议信用等级",
    "start": "年初积分",
    "points": "本年记分",
    "score": "本年积分",
    "sandbox": "优信豁免沙盒",
    "positive_list": "合规正面清单",
    "changed": "是否调整",
    "results": "计分的检查结果",
    "why": "说明",
}
#: the rule of a row, by how specific it is (higher wins)
_SPECIFIC = {(True, True): 3, (True, False): 2, (False, True): 1, (False, False): 0}
#: lineages longer than this are not walked (a manifest edited into a loop)
MAX_LINEAGE = 1000


@dataclass(frozen=True)
class Rules:
    """The scoring table (``result``, ``kind``, ``dept_id``, ``points``; index: the file's row) and its file."""

    frame: pd.DataFrame
    file: str


@dataclass(frozen=True)
class CreditResult:
    """Per enterprise scored: ``scores`` (uscc, start, points, score, tier, old_tier, sandbox …,
    changed); ``counted`` the ledger rows that counted with their points and rule; ``update`` the
    changed enterprises rows; ``reasons`` the reasons file's rows (Chinese headers)."""

    year: int
    scores: pd.DataFrame
    counted: pd.DataFrame
    update: pd.DataFrame
    reasons: pd.DataFrame
    rules: Rules


def tier_of(score: int, credit: Credit) -> str:
    """The suggested tier of a score: the first of A, B, C whose threshold it reaches, else D."""
    return next((t for t in TIERS if score >= getattr(credit, t)), "D")


def load_rules(dataset: Dataset, credit: Credit) -> Rules:
    """The scoring table: the dataset's ``credit_rules``, else ``[credit] rules``, else the template;
    ``InputError`` for a bad row or two rows equally specific for one result (naming both rows)."""
    if "credit_rules" in dataset.files:
        frame, file = dataset.credit_rules, str(dataset.files["credit_rules"])
    else:
        path = credit.rules if credit.rules is not None else TEMPLATE
        loaded = load_table(Path(path), str(path), TABLES_BY_NAME["credit_rules"])
        if isinstance(loaded, Problem):
            raise InputError([loaded])
        problems = [p for p in loaded.problems if p.severity == "error"]
        known = set(dataset.departments["dept_id"])
        problems += [
            Problem(str(path), int(row), "dept_id", str(d), msg("input.ref.error", target="departments.dept_id"))
            for row, d in loaded.frame["dept_id"].dropna().items()
            if d not in known and path != TEMPLATE
        ]
        if problems:
            raise InputError(problems)
        frame, file = loaded.frame, str(path)
    ties = credit_rule_ties(frame, file) if "credit_rules" not in dataset.files else []
    if ties:
        raise InputError(ties)
    return Rules(frame, file)


def rule_for(rules: pd.DataFrame, result: str, kind: object, dept: object) -> tuple[int, int] | None:
    """(points, row) of the most specific row matching a result of ``kind`` by ``dept``; None if none."""
    best: tuple[int, int, int] | None = None  # (specificity, points, row)
    for row, r, k, d, points in zip(rules.index, rules["result"], rules["kind"], rules["dept_id"], rules["points"]):
        has_kind, has_dept = isinstance(k, str), isinstance(d, str)
        if r != result or (has_kind and k != kind) or (has_dept and d != dept):
            continue
        specific = _SPECIFIC[(has_dept, has_kind)]
        if best is None or specific > best[0]:
            best = (specific, int(points), int(row))
    return None if best is None else (best[1], best[2])


def score_year(
    ledger: pd.DataFrame,
    enterprises: pd.DataFrame,
    rules: Rules,
    credit: Credit,
    year: int,
    dept_names: dict[str, str] | None = None,
    start_scores: dict[str, object] | None = None,
) -> CreditResult:
    """Score ``year``'s results of ``ledger`` for the enterprises (as they stand: tier, sandbox,
    positive list) with ``rules``; each starts from its ``start_scores`` entry (uscc → the
    ``credit_score`` at the start of the year, blank: ``[credit] start``), by default its own
    ``credit_score``."""
    dept_names = dept_names or {}
    if start_scores is None:
        start_scores = dict(zip(enterprises["uscc"], enterprises["credit_score"]))
    done = ledger[(ledger["source"] == "done") & ledger["result"].notna() & (ledger["year"] == year)]
    counted_rows, missing = [], []
    for record in done.to_dict("records"):
        given = record.get("points")
        if given is not None and not pd.isna(given):
            counted_rows.append(record | {"points": int(given), "rule_row": None})
            continue
        found = rule_for(rules.frame, record["result"], record.get("kind"), record.get("dept_id"))
        if found is None:
            missing.append(record)
            continue
        counted_rows.append(record | {"points": found[0], "rule_row": found[1]})
    if missing:
        seen = dict.fromkeys((r["result"], r.get("kind") or "—", r["dept_id"]) for r in missing)
        raise InputError(
            [
                Problem(rules.file, None, "result", result, msg("input.credit.no_rule", kind=kind, dept=dept))
                for result, kind, dept in seen
            ]
        )
    counted = pd.DataFrame(counted_rows, columns=[*ledger.columns, "rule_row"])
    firms = enterprises.set_index("uscc", drop=False)
    unknown = sorted(set(counted["uscc"]) - set(firms.index))
    if unknown:
        raise InputError(
            [Problem(LEDGER_FILE, None, "uscc", u, msg("input.ref.error", target="enterprises.uscc")) for u in unknown]
        )
    scores, update_rows, reasons = [], [], []
    for uscc, rows in counted.groupby("uscc", sort=True):
        firm = firms.loc[uscc]
        given = start_scores.get(uscc)
        from_table = given is not None and not pd.isna(given)
        start = int(given) if from_table else credit.start
        old_score = firm.get("credit_score")
        has_score = old_score is not None and not pd.isna(old_score)
        points = int(rows["points"].sum())
        score = start + points
        tier = tier_of(score, credit)
        redline = bool((rows["result"] == "redline").any())
        sandbox = bool(firm["sandbox"]) and not redline
        positive = bool(firm["positive_list"]) and not redline
        changed = (
            tier != firm["credit_tier"]
            or sandbox != bool(firm["sandbox"])
            or positive != bool(firm["positive_list"])
            or not has_score
            or score != int(old_score)
        )
        scores.append(
            {
                "uscc": uscc,
                "start": start,
                "points": points,
                "score": score,
                "old_tier": firm["credit_tier"],
                "tier": tier,
                "redline": redline,
                "sandbox": sandbox,
                "positive_list": positive,
                "changed": changed,
            }
        )
        if changed:
            update_rows.append(
                {c: firm[c] for c in UPDATE_COLUMNS}
                | {"credit_tier": tier, "sandbox": sandbox, "positive_list": positive, "credit_score": score}
            )
        reasons.append(
            _reason_row(
                firm, rows, start, from_table, points, score, tier, sandbox, positive, changed, credit, dept_names
            )
        )
    update = pd.DataFrame(update_rows, columns=UPDATE_COLUMNS)
    update["credit_score"] = pd.array(update["credit_score"], dtype="Int64")
    return CreditResult(
        year,
        pd.DataFrame(
            scores,
            columns=[
                "uscc",
                "start",
                "points",
                "score",
                "old_tier",
                "tier",
                "redline",
                "sandbox",
                "positive_list",
                "changed",
            ],
        ),
        counted,
        update,
        pd.DataFrame(reasons, columns=list(REASON_COLUMNS)).rename(columns=REASON_COLUMNS),
        rules,
    )


def _reason_row(
    firm, rows, start, from_table, points, score, tier, sandbox, positive, changed, credit, dept_names
) -> dict:
    """One row of the reasons file: the results that counted and why the tier and lists change, in Chinese."""
    results = []
    for record in rows.sort_values(["date", "dept_id"], kind="stable").to_dict("records"):
        source = (
            msg("credit.reason.own_points")
            if pd.isna(record["rule_row"])
            else msg("credit.reason.rule_row", row=int(record["rule_row"]))
        )
        results.append(
            msg(
                "credit.reason.result",
                date=record["date"],
                dept=dept_names.get(record["dept_id"], record["dept_id"]),
                kind=KIND_LABELS.get(record.get("kind"), record.get("kind") or "—"),
                result=RESULT_LABELS[record["result"]],
                points=f"{int(record['points']):+d}",
                source=source,
            ).render("zh")
        )
    threshold = getattr(credit, tier) if tier in TIERS else credit.C
    why = [
        msg(
            "credit.reason.score",
            start=start,
            start_from=msg("credit.reason.start_score" if from_table else "credit.reason.start_default"),
            n=len(rows),
            points=f"{points:+d}",
            score=score,
        ),
        msg(
            "credit.reason.tier_at_least" if tier in TIERS else "credit.reason.tier_below",
            tier=tier,
            threshold=threshold,
            old=firm["credit_tier"],
        ),
    ]
    if bool(firm["sandbox"]) and not sandbox:
        why.append(msg("credit.reason.out_of_sandbox"))
    if bool(firm["positive_list"]) and not positive:
        why.append(msg("credit.reason.off_positive_list"))
    if not changed:
        why.append(msg("credit.reason.unchanged"))
    return {
        "uscc": firm["uscc"],
        "name": firm["name"],
        "old_tier": firm["credit_tier"],
        "tier": tier,
        "start": start,
        "points": points,
        "score": score,
        "sandbox": _flag(bool(firm["sandbox"]), sandbox),
        "positive_list": _flag(bool(firm["positive_list"]), positive),
        "changed": "是" if changed else "否",
        "results": "；".join(results),
        "why": "；".join(m.render("zh") for m in why),
    }


def _flag(before: bool, after: bool) -> str:
    said = {True: "是", False: "否"}
    return said[after] if before == after else f"{said[before]} → {said[after]}"


def plan_enterprises(plan_root: Path, manifest: dict, dataset: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The enterprises at the start of the plan's year (the dataset's, with the plan scenario's
    ``enterprises_update``) and as the plan saw them (with every ``actuals/enterprises`` of its
    lineage applied too, oldest first). The year's score starts from the first: an update applied
    during the year (which holds the score so far) never makes a result count twice."""
    enterprises = dataset.enterprises
    townships = dataset.townships["township"]
    lineage = [(Path(plan_root), manifest)]
    seen = {Path(plan_root).resolve()}
    while len(lineage) < MAX_LINEAGE:
        parent = (lineage[-1][1].get("parent") or {}).get("plan")
        if not parent or not Path(parent).is_dir() or Path(parent).resolve() in seen:
            break
        seen.add(Path(parent).resolve())
        try:
            parent_manifest = json.loads((Path(parent) / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            break
        lineage.append((Path(parent), parent_manifest))
    update = (lineage[-1][1].get("scenario") or {}).get("enterprises_update")
    if update and Path(update).is_file():
        enterprises = enterprises_update(enterprises, Path(update), townships)
    year_start = enterprises
    for folder, _ in reversed(lineage):
        actuals = folder / "actuals"
        if not actuals.is_dir():
            continue
        path, _problem = table_file(actuals, TABLES_BY_NAME["enterprises"])
        if path is not None:
            enterprises = enterprises_update(enterprises, path, townships)
    return year_start, enterprises


def plan_year(manifest: dict) -> int:
    """The year a plan scores by default: its horizon's first (a plan from its manifest's scenario)."""
    start = ((manifest.get("scenario") or {}).get("horizon") or {}).get("start")
    return dt.date.fromisoformat(str(start)).year


def reasons_path(out: Path) -> Path:
    """The reasons file written next to the update file ``out``."""
    return out.with_name(f"{out.stem}.{REASONS_STEM}{out.suffix}")


def write_update(result: CreditResult, out: Path) -> Path:
    """Write the update file ``out`` (.csv or .xlsx) and its reasons file next to it, each complete
    or not at all (written aside, then renamed); returns the reasons file's path."""
    from planner.outputs import write_table

    out = Path(out)
    reasons = reasons_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".credit.", dir=out.parent) as scratch:
        staged = {out: Path(scratch) / f"update{out.suffix}", reasons: Path(scratch) / f"reasons{out.suffix}"}
        update = result.update.copy()
        update["observation_until"] = pd.to_datetime(update["observation_until"]).dt.date
        write_table(update, staged[out])
        write_table(result.reasons, staged[reasons])
        for final, path in staged.items():
            os.replace(path, final)
    return reasons


def credit_plan(plan_dir: Path, dataset_dir: Path | None = None, year: int | None = None) -> CreditResult:
    """Score the year (default: the plan's first) of the plan folder ``plan_dir``: its ledger, its
    recorded scenario's ``[credit]``, the dataset (``dataset_dir``, default: the recorded one) with
    the enterprises as the plan saw them. ``InputError`` for anything missing or broken."""
    from planner.dataset import load_dataset
    from planner.export import read_plan_folder, recorded_dataset

    plan = read_plan_folder(plan_dir)
    path = Path(plan_dir) / LEDGER_FILE
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, None, msg("input.plan.no_ledger"))])
    ledger = pd.read_parquet(path)
    folder = dataset_dir or recorded_dataset(plan)
    if folder is None:
        recorded = (plan.manifest.get("scenario") or {}).get("dataset")
        raise InputError(
            [
                Problem(
                    str(Path(plan_dir) / "manifest.json"),
                    None,
                    "dataset",
                    str(recorded),
                    msg("input.plan.dataset_gone"),
                )
            ]
        )
    dataset = load_dataset(folder)
    credit = Credit.model_validate((plan.manifest.get("scenario") or {}).get("credit") or {}, strict=False)
    if credit.rules is not None and not credit.rules.is_file() and (plan.root.parent / credit.rules).is_file():
        credit = credit.model_copy(update={"rules": plan.root.parent / credit.rules})  # as recorded_dataset does
    rules = load_rules(dataset, credit)
    year_start, enterprises = plan_enterprises(Path(plan_dir), plan.manifest, dataset)
    depts = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
    starts = dict(zip(year_start["uscc"], year_start["credit_score"]))
    chosen = year if year is not None else plan_year(plan.manifest)
    return score_year(ledger, enterprises, rules, credit, chosen, depts, starts)
