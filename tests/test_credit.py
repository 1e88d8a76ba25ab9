"""信用积分: scores and suggested tiers follow the scoring table, a red line leaves the sandbox and the
positive list, and the update file is what the actuals and next year's scenario take."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.actuals import load_actuals
from planner.cli import app
from planner.credit import TEMPLATE, Rules, score_year
from planner.problems import InputError
from planner.scenario import Credit, load_scenario
from planner.schema import HISTORY_KINDS, OUTCOME_RESULTS, TABLES_BY_NAME
from planner.tables import load_table
from planner.whatif import load_scenario_dataset
from tests.conftest import ACME, valid_tables, write_csv
from tests.test_reoptimize import _actuals, _reoptimize_cli, _small_county

SHOP = valid_tables()["enterprises"][3][0]
#: the county's scoring table: general rows, and rows for a kind, a department and both
RULES = [
    ["结果", "任务类型", "部门编号", "记分"],
    ["clear", "", "", "1"],
    ["rectify", "", "", "-5"],
    ["rectify", "triggered", "", "-6"],
    ["rectify", "", "XF", "-8"],
    ["rectify", "triggered", "XF", "-10"],
    ["case", "", "", "-20"],
    ["redline", "", "", "-50"],
    ["redline", "campaign", "", "-60"],
]
TIERS = {"A": 90, "B": 75, "C": 60}


def _expected_points(rules: list[list[str]], result: str, kind: str, dept: str) -> int:
    """The table read by hand: of the rows for ``result`` whose kind and department are blank or
    equal, the one naming the department, then the kind, wins."""
    rows = [r for r in rules[1:] if r[0] == result and r[1] in ("", kind) and r[2] in ("", dept)]
    best = max(rows, key=lambda r: (r[2] != "", r[1] != ""))
    return int(best[3])


def _expected_tier(score: int) -> str:
    return next((t for t, low in TIERS.items() if score >= low), "D")


def _county_tables() -> dict:
    """The hand-written county: ACME (tier B) in the sandbox and on the positive list, SHOP with
    a credit score of 70, and the scoring table ``RULES``."""
    tables = valid_tables()
    enterprises = tables["enterprises"]
    enterprises[0].append("credit_score")
    enterprises[1][7:9] = ["是", "1"]
    enterprises[1].append("")
    enterprises[2].append("")
    enterprises[3].append("70")
    tables["credit_rules"] = [row[:] for row in RULES]
    return tables


def _credit(plan: Path, out: Path, *extra: str):
    return CliRunner().invoke(app, ["credit", str(plan), "--out", str(out), *extra])


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """The county planned, re-optimised at 2026-06-01 with results — SJ-1 立案查处 with its own
    points −30, XF-1 (a campaign) 触及红线, XF-2 (a complaint) 责令整改 — and scored."""
    folder = tmp_path_factory.mktemp("credit")
    _small_county(folder, _county_tables())
    actuals = _actuals(
        folder / "a1",
        outcomes=[["SJ-1", "done", "2026-03-02"], ["XF-1", "done", "2026-03-02"], ["XF-2", "done", "2026-05-11"]],
    )
    outcomes = pd.read_csv(actuals / "outcomes.csv", dtype=str)
    outcomes = outcomes.assign(
        result=["立案查处", "redline", "rectify"], rectify_by=["", "", "2026-06-15"], points=["-30", "", ""]
    )
    outcomes.to_csv(actuals / "outcomes.csv", index=False)
    run = _reoptimize_cli(folder, actuals, "2026-06-01", folder / "p1")
    assert run.exit_code == 0, run.output
    run = _credit(folder / "p1", folder / "out" / "enterprises.csv")
    assert run.exit_code == 0, run.output
    return folder


def test_scores_and_tiers_follow_the_table(scored):
    """Each enterprise's score is its start plus each done result's points (the outcome's own,
    else the most specific row); the tier is the first threshold it reaches — recomputed here
    from the plan's ledger and the rows of the table."""
    ledger = pd.read_parquet(scored / "p1" / "ledger.parquet")
    counted = ledger[(ledger["source"] == "done") & ledger["result"].notna()]
    assert set(counted["task_id"]) == {"SJ-1", "XF-1", "XF-2"}
    starts = {ACME: 100, SHOP: 70}  # ACME has no credit_score: the scenario's start
    expected: dict[str, int] = dict(starts)
    for row in counted.to_dict("records"):
        own = row["points"]
        points = int(own) if not pd.isna(own) else _expected_points(RULES, row["result"], row["kind"], row["dept_id"])
        expected[row["uscc"]] += points
    assert expected == {ACME: 100 - 30 - 60, SHOP: 70 - 10}  # override; kind row; department + kind row
    update = pd.read_csv(scored / "out" / "enterprises.csv", dtype=str).set_index("uscc")
    assert {u: int(s) for u, s in update["credit_score"].items()} == expected
    assert {u: t for u, t in update["credit_tier"].items()} == {u: _expected_tier(s) for u, s in expected.items()}
    assert update.loc[ACME, "credit_tier"] == "D" and update.loc[SHOP, "credit_tier"] == "C"  # 60 reaches C
    reasons = pd.read_csv(scored / "out" / "enterprises.信用积分理由.csv", dtype=str).set_index("统一社会信用代码")
    assert reasons.loc[ACME, "原信用等级"] == "B" and reasons.loc[ACME, "建议信用等级"] == "D"
    assert "执行情况表所填记分" in reasons.loc[ACME, "计分的检查结果"]
    assert "记分规则第 9 行" in reasons.loc[ACME, "计分的检查结果"]  # redline + campaign: the file's row 9
    assert "记分规则第 6 行" in reasons.loc[SHOP, "计分的检查结果"]  # rectify + triggered + XF
    assert "名录库中的信用积分" in reasons.loc[SHOP, "说明"]


def test_a_red_line_leaves_the_sandbox_and_the_positive_list(scored):
    """ACME was in the sandbox and on the positive list; its red line takes it out of both, and the
    reasons say so. SHOP, without a red line, keeps what it had."""
    update = pd.read_csv(scored / "out" / "enterprises.csv", dtype=str).set_index("uscc")
    assert update.loc[ACME, "sandbox"] == "False" and update.loc[ACME, "positive_list"] == "False"
    reasons = pd.read_csv(scored / "out" / "enterprises.信用积分理由.csv", dtype=str).set_index("统一社会信用代码")
    assert reasons.loc[ACME, "优信豁免沙盒"] == "是 → 否" and reasons.loc[ACME, "合规正面清单"] == "是 → 否"
    assert "移出优信豁免沙盒" in reasons.loc[ACME, "说明"] and "移出合规正面清单" in reasons.loc[ACME, "说明"]
    assert reasons.loc[SHOP, "优信豁免沙盒"] == "否"


def test_the_update_file_is_taken_by_the_actuals_and_a_reoptimisation(scored, tmp_path):
    """The update file, as written, is an actuals folder's enterprises: loaded, then applied by a
    re-optimisation; a second scoring of the year counts nothing twice and changes nothing."""
    actuals = _actuals(tmp_path / "a2")
    shutil.copy(scored / "out" / "enterprises.csv", actuals / "enterprises.csv")
    loaded = load_actuals(actuals).enterprises.set_index("uscc")
    assert loaded.loc[ACME, "credit_tier"] == "D" and not loaded.loc[ACME, "sandbox"]
    assert not loaded.loc[ACME, "positive_list"] and loaded.loc[ACME, "credit_score"] == 10
    assert loaded.loc[SHOP, "observation_until"] == pd.Timestamp("2026-06-30")  # the other columns as they were
    run = _reoptimize_cli(scored, actuals, "2026-07-01", tmp_path / "p2", plan=scored / "p1")
    assert run.exit_code == 0, run.output
    run = _credit(tmp_path / "p2", tmp_path / "again.csv")
    assert run.exit_code == 0, run.output
    again = pd.read_csv(tmp_path / "again.csv", dtype=str)
    assert len(again) == 0  # the year's scores start from the dataset's, not from the update
    reasons = pd.read_csv(tmp_path / "again.信用积分理由.csv", dtype=str).set_index("统一社会信用代码")
    assert reasons.loc[ACME, "本年积分"] == "10" and reasons.loc[ACME, "是否调整"] == "否"


def test_next_years_scenario_applies_the_update(scored, tmp_path):
    """``enterprises_update`` in a scenario: its rows replace the dataset's, the plan made with it
    records the file and verifies; a bad row is an error naming the file's row and column."""
    (scored / "next.toml").write_text('extends = "s.toml"\nenterprises_update = "out/enterprises.csv"\n')
    dataset = load_scenario_dataset(load_scenario(scored / "next.toml"))
    firms = dataset.enterprises.set_index("uscc")
    assert firms.loc[ACME, "credit_tier"] == "D" and not firms.loc[ACME, "sandbox"]
    assert firms.loc[SHOP, "credit_score"] == 60 and len(firms) == 3
    run = CliRunner().invoke(app, ["plan", str(scored / "next.toml"), "--out", str(tmp_path / "next"), "--quiet"])
    assert run.exit_code == 0, run.output
    manifest = json.loads((tmp_path / "next" / "manifest.json").read_text(encoding="utf-8"))
    assert str(scored / "out" / "enterprises.csv") in manifest["inputs"]  # recorded with its hash
    run = CliRunner().invoke(app, ["verify", str(tmp_path / "next")])  # rebuilt with the update applied
    assert run.exit_code == 0, run.output
    bad = pd.read_csv(scored / "out" / "enterprises.csv", dtype=str)
    bad.loc[1, "credit_tier"] = "E"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    (tmp_path / "bad.toml").write_text(f'extends = "{scored / "s.toml"}"\nenterprises_update = "bad.csv"\n')
    with pytest.raises(InputError) as error:
        load_scenario_dataset(load_scenario(tmp_path / "bad.toml"))
    [problem] = error.value.errors
    assert (problem.row, problem.column, problem.value) == (3, "credit_tier", "E")


def test_the_most_specific_row_wins_and_own_points_override(tmp_path):
    """A hand-built ledger: each result scored by the row naming its department and kind, else its
    department, else its kind, else the result alone; an outcome's points replace the table's."""
    write_csv(tmp_path, "credit_rules", RULES)
    loaded = load_table(tmp_path / "credit_rules.csv", "credit_rules.csv", TABLES_BY_NAME["credit_rules"])
    assert loaded.problems == []
    cases = [  # (uscc, dept, kind, result, own points)
        ("E1", "XF", "triggered", "rectify", None),  # dept + kind: -10
        ("E1", "XF", "key", "rectify", None),  # dept: -8
        ("E1", "SJ", "triggered", "rectify", None),  # kind: -6
        ("E2", "SJ", "key", "rectify", None),  # result alone: -5
        ("E2", "SJ", "campaign", "redline", None),  # kind: -60
        ("E2", "SJ", "key", "case", -3),  # its own points
        ("E3", "SJ", "key", "clear", None),  # +1
        ("E3", "SJ", "key", "clear", None),
    ]
    ledger = pd.DataFrame(
        [
            {
                "uscc": u,
                "year": 2026,
                "date": dt.date(2026, 3, 1 + i),
                "dept_id": d,
                "source": "done",
                "kind": k,
                "task_id": f"T{i}",
                "result": r,
                "points": p,
            }
            for i, (u, d, k, r, p) in enumerate(cases)
        ]
        + [  # not counted: planned, another year, no result
            {"uscc": "E3", "year": 2026, "date": dt.date(2026, 9, 1), "dept_id": "SJ", "source": "planned"},
            {
                "uscc": "E3",
                "year": 2025,
                "date": dt.date(2025, 9, 1),
                "dept_id": "SJ",
                "source": "done",
                "result": "case",
            },
            {"uscc": "E3", "year": 2026, "date": dt.date(2026, 9, 2), "dept_id": "SJ", "source": "done"},
        ]
    )
    ledger["points"] = pd.array(ledger["points"], dtype="Int64")
    enterprises = pd.DataFrame(
        {
            "uscc": ["E1", "E2", "E3"],
            "name": ["甲", "乙", "丙"],
            "township": "城关街道",
            "lat": 30.5,
            "lon": 120.6,
            "industry": None,
            "credit_tier": ["A", "B", "A"],
            "positive_list": [False, True, False],
            "sandbox": [True, False, False],
            "observation_until": pd.NaT,
            "key_sector": None,
            "address": None,
            "credit_score": pd.array([None, 95, 90], dtype="Int64"),
        }
    )
    result = score_year(ledger, enterprises, Rules(loaded.frame, "credit_rules.csv"), Credit(), 2026)
    starts = {"E1": 100, "E2": 95, "E3": 90}
    expected = dict(starts)
    for u, d, k, r, p in cases:
        expected[u] += p if p is not None else _expected_points(RULES, r, k, d)
    assert expected == {"E1": 100 - 24, "E2": 95 - 68, "E3": 92}
    scores = result.scores.set_index("uscc")
    assert scores["score"].to_dict() == expected
    assert scores["tier"].to_dict() == {u: _expected_tier(s) for u, s in expected.items()}
    update = result.update.set_index("uscc")
    assert set(update.index) == {"E1", "E2", "E3"}  # E3 keeps tier A, but its score moves
    assert not update.loc["E2", "positive_list"] and update.loc["E1", "sandbox"]  # only a red line removes


def test_the_template_is_a_complete_table():
    """The shipped template loads without a problem and scores every result by a general row."""
    loaded = load_table(TEMPLATE, str(TEMPLATE), TABLES_BY_NAME["credit_rules"])
    assert loaded.problems == []
    general = loaded.frame[loaded.frame["kind"].isna() & loaded.frame["dept_id"].isna()]
    assert sorted(general["result"]) == sorted(set(OUTCOME_RESULTS.values()))
    assert set(loaded.frame["kind"].dropna()) <= set(HISTORY_KINDS.values())


BAD_RULES = {
    "cells": (
        [["result", "kind", "dept_id", "points"], ["maybe", "", "", "1"], ["clear", "", "XX", "1.5"]],
        [("row 2", "column result"), ("row 3", "column points"), ("row 3", "column dept_id")],
    ),
    "tie": (
        [["result", "kind", "dept_id", "points"], ["clear", "", "", "1"], ["合格", "", "", "2"]],
        [("row 3", "row 2")],
    ),
}


@pytest.mark.parametrize("case", list(BAD_RULES))
def test_bad_scoring_rows_exit_2_naming_row_and_column(scored, tmp_path, case):
    """A bad cell or two rows equally specific: exit 2, each named by row (and column); nothing
    written; ``planner validate`` reports the same."""
    rows, said = BAD_RULES[case]
    dataset = shutil.copytree(scored / "ds", tmp_path / "ds")
    write_csv(dataset, "credit_rules", rows)
    run = _credit(scored / "p1", tmp_path / "out.csv", "--dataset", str(dataset))
    assert run.exit_code == 2, run.output
    text = " ".join(run.output.split())
    for parts in said:
        assert all(p in text for p in parts), (parts, text)
    assert not (tmp_path / "out.csv").exists()
    run = CliRunner().invoke(app, ["validate", str(dataset)])  # the dataset's own check finds them too
    assert run.exit_code == 2 and all(all(p in " ".join(run.output.split()) for p in parts) for parts in said)


def test_unordered_thresholds_are_refused(tmp_path):
    """[credit] A ≥ B ≥ C, or the scenario is refused naming the section."""
    (tmp_path / "s.toml").write_text(
        'name = "t"\ndataset = "ds"\nseed = 1\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n[credit]\nB = 95\n'
    )
    with pytest.raises(InputError) as error:
        load_scenario(tmp_path / "s.toml")
    assert "credit" in str(error.value.errors[0].column)
