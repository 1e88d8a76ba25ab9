"""The results loop on a generated county: a plan, then two monthly re-optimisations whose actuals
carry results (70 % clear, 20 % rectify, 8 % case, 2 % red line). Every rectify result gets its
follow-up (整改复查), planned or explained; no task of a plan is lost by the next; each plan verifies."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.demo import generate_dataset
from planner.outputs import write_tables
from planner.verify import verify_plan
from tests.test_plan import SCENARIO

runner = CliRunner()
STEPS = ("2026-03-02", "2026-06-01")


def _run(*args: str) -> None:
    result = runner.invoke(app, [*args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """The folder with the plan, each month's actuals and re-optimised plan: (folder, plan folders)."""
    folder = tmp_path_factory.mktemp("loop")
    (folder / "ds").mkdir()
    write_tables(generate_dataset("tiny", 11), folder / "ds", ".parquet")
    (folder / "s.toml").write_text(SCENARIO.format(seed=11, extra=""))
    _run("plan", str(folder / "s.toml"), "--out", str(folder / "plan"), "--quiet")
    plans = [folder / "plan"]
    for n, day in enumerate(STEPS):
        actuals = folder / f"actuals-{n}"
        _run("demo-actuals", str(plans[-1]), "--as-of", day, "--out", str(actuals), "--new-tasks", "4", "--results")
        child = folder / f"plan-{n}"
        _run(
            "reoptimize",
            str(folder / "s.toml"),
            "--plan",
            str(plans[-1]),
            "--actuals",
            str(actuals),
            "--as-of",
            day,
            "--out",
            str(child),
            "--quiet",
        )
        plans.append(child)
    return folder, plans


def test_every_rectify_result_has_its_follow_up(year):
    """Each month's 责令整改 results (there are some) each have a follow-up task in the new plan:
    placed in a visit, or listed as unscheduled with its reason."""
    folder, plans = year
    seen = 0
    for n, child in enumerate(plans[1:]):
        outcomes = pd.read_csv(folder / f"actuals-{n}" / "outcomes.csv")
        rectify = outcomes.loc[outcomes["result"] == "rectify", "task_id"]
        seen += len(rectify)
        tasks = pd.read_parquet(child / "tasks.parquet").set_index("task_id")
        placed = set(pd.read_parquet(child / "visit_tasks.parquet")["task_id"])
        unscheduled = pd.read_parquet(child / "unscheduled.parquet").set_index("task_id")
        for origin in rectify:
            follow = f"{origin}:整改复查"
            assert follow in tasks.index and tasks.loc[follow, "kind"] == "followup", follow
            assert follow in placed or unscheduled.loc[follow, "reason"], follow
    assert seen > 0


def test_no_task_is_lost_and_every_plan_verifies(year):
    """Every task of a plan is a task of the next (new demands and follow-ups carried); each verifies."""
    folder, plans = year
    for parent, child in zip(plans, plans[1:]):
        before = set(pd.read_parquet(parent / "tasks.parquet")["task_id"])
        assert before <= set(pd.read_parquet(child / "tasks.parquet")["task_id"])
    for plan in plans:
        result = verify_plan(plan, folder / "ds", replan=False)
        assert result.ok, result.summary()
