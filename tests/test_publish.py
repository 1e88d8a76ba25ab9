"""planner publish (一公开): the draw record and the plan at item level; an enterprise named only
once its check is done, with its result; no inspector in any file; never over an existing folder."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.dataset import load_dataset
from planner.pipeline import make_plan, write_plan
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import write_csv
from tests.test_ledger import small_county

runner = CliRunner()
AS_OF = dt.date(2026, 3, 16)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict:
    """The small county planned, re-optimised at AS_OF with one result, and both plans published."""
    root = tmp_path_factory.mktemp("publish")
    scenario_file = small_county(root)
    scenario = load_scenario(scenario_file)
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    write_plan(plan, root / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    placed = plan.tables.visit_tasks.merge(plan.tables.visits[["visit_id", "date", "uscc"]], on="visit_id")
    dates = pd.to_datetime(placed["date"]).dt.date
    before, after = placed[dates < AS_OF].sort_values("task_id"), placed[dates >= AS_OF]
    task = before["task_id"].iloc[0]
    (root / "actuals").mkdir()
    write_csv(root / "actuals", "outcomes", [["task_id", "status", "result"], [task, "done", "立案查处"]])
    args = ["reoptimize", str(scenario_file), "--plan", str(root / "plan"), "--actuals", str(root / "actuals")]
    done = runner.invoke(app, [*args, "--as-of", AS_OF.isoformat(), "--out", str(root / "plan-03"), "-q"])
    assert done.exit_code == 0, done.output
    for name in ("plan", "plan-03"):
        result = runner.invoke(app, ["publish", str(root / name), "--out", str(root / f"public-{name}")])
        assert result.exit_code == 0, result.output
    return {
        "root": root,
        "dataset": dataset,
        "task": task,
        "done_firms": set(before["uscc"]),
        "later_only": set(after["uscc"]) - set(before["uscc"]),
    }


def texts(folder: Path) -> dict[str, str]:
    """Every file of a folder as text (an xlsx: all its XML parts)."""
    out = {}
    for path in sorted(folder.iterdir()):
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                out[path.name] = "".join(book.read(n).decode("utf-8") for n in book.namelist() if n.endswith(".xml"))
        else:
            out[path.name] = path.read_text(encoding="utf-8-sig")
    return out


def test_no_inspector_is_in_any_published_file(published):
    """No inspector's name, id or certificate number appears in any file written (CSV, xlsx, JSON)."""
    inspectors = published["dataset"].inspectors
    secrets = set(inspectors["name"]) | set(inspectors["inspector_id"]) | set(inspectors["cert_no"].dropna())
    for name in ("plan", "plan-03"):
        files = texts(published["root"] / f"public-{name}")
        assert {"抽查计划.csv", "抽取记录.csv", "检查计划.csv", "检查结果.csv", "公开信息.xlsx", "publish.json"} <= set(
            files
        )
        for file, text in files.items():
            assert not [s for s in secrets if s in text], (name, file)


def test_an_enterprise_is_named_only_once_its_check_is_done(published):
    """A first plan names no enterprise; the re-optimised plan names those checked before as-of,
    with the result the actuals gave, and never one whose checks are all still ahead."""
    root = published["root"]
    first = pd.read_csv(root / "public-plan/检查结果.csv", encoding="utf-8-sig", dtype=str)
    assert first.empty
    later = pd.read_csv(root / "public-plan-03/检查结果.csv", encoding="utf-8-sig", dtype=str)
    assert set(later["统一社会信用代码"]) == published["done_firms"]
    assert not set(later["统一社会信用代码"]) & published["later_only"]
    for name in set(published["dataset"].enterprises.set_index("uscc").loc[list(published["later_only"]), "name"]):
        assert all(name not in text for text in texts(root / "public-plan-03").values())
    assert "立案查处" in set(later["检查结果"])


def test_the_draw_record_and_the_plan_at_item_level(published):
    """抽取记录 holds the seed and its commitment; 抽查计划 each sampling row with its pool size;
    检查计划 counts checks per department, item and scope, adding up to the plan's tasks placed."""
    root = published["root"]
    record = pd.read_csv(root / "public-plan/抽取记录.csv", encoding="utf-8-sig", dtype=str).set_index("项目")["内容"]
    draw = json.loads((root / "plan/draw.json").read_text(encoding="utf-8"))
    assert record["随机种子"] == str(draw["seed"]) and record["种子承诺值"] == draw["commitment"]
    sampling = pd.read_csv(root / "public-plan/抽查计划.csv", encoding="utf-8-sig")
    draws = pd.read_parquet(root / "plan/draws.parquet")
    assert sampling.set_index("抽查计划编号")["抽查对象库户数"].to_dict() == {
        p: int((draws["plan_id"] == p).sum()) for p in sampling["抽查计划编号"]
    }
    items = pd.read_csv(root / "public-plan/检查计划.csv", encoding="utf-8-sig")
    assert items["检查项次"].sum() == len(pd.read_parquet(root / "plan/visit_tasks.parquet"))
    publish = json.loads((root / "public-plan/publish.json").read_text(encoding="utf-8"))
    assert set(publish["files"]) == {"抽查计划.csv", "抽取记录.csv", "检查计划.csv", "检查结果.csv", "公开信息.xlsx"}


def test_publish_never_writes_over_a_folder(published):
    """An existing --out is refused (exit 2) and left as it was."""
    root = published["root"]
    before = (root / "public-plan/检查计划.csv").read_bytes()
    again = runner.invoke(app, ["publish", str(root / "plan"), "--out", str(root / "public-plan")])
    assert again.exit_code == 2 and "already exists" in again.output
    assert (root / "public-plan/检查计划.csv").read_bytes() == before
