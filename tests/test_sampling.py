"""双随机 draws: fair in every stratum, coordinated in joint groups, rules never broken, verifiable."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.audit import verify_draw
from planner.dataset import load_dataset
from planner.sampling import (
    draw_sampling_plan,
    eligible_pool,
    permanent_random_numbers,
    prepare,
    prn_group,
    rank_pool,
    sample_size,
)
from tests.conftest import ACME, COOP, SHOP, valid_tables, write_dataset

ROOT = Path(__file__).resolve().parents[1]
SEEDS = range(500)


@pytest.fixture(scope="module")
def county():
    return load_dataset(ROOT / "data/sample-county")


def inclusion_counts(dataset, select=None) -> list[tuple[str, np.ndarray, int]]:
    """Per plan row: how often each pool member is among the quota, over SEEDS."""
    ctx = prepare(dataset, 1, 2)
    results = []
    for _, row in dataset.sampling_plan.sort_values("plan_id").iterrows():
        pool = eligible_pool(row, ctx)
        quota = sample_size(row["ratio"], len(pool))
        counts = np.zeros(len(ctx.ids), dtype=np.int64)
        for seed in SEEDS:
            prn = permanent_random_numbers(ctx.ids, seed, prn_group(row), row["window_start"].year)
            order = rank_pool(pool, prn, ctx) if select is None else select(pool, prn, ctx)
            counts[order[:quota]] += 1
        results.append((row["plan_id"], counts[pool], quota))
    return results


def uniformity_z(counts: np.ndarray, quota: int, draws: int) -> float:
    """Wilson–Hilferty z of the chi-square statistic for equal inclusion chances.

    Under a fixed-size draw each count has variance draws·p(1−p); the statistic
    Σ (c − draws·p)² / (draws·p(1−p)) is about chi-square with K − 1 degrees of freedom.
    """
    k = len(counts)
    p = quota / k
    statistic = np.sum((counts - draws * p) ** 2) / (draws * p * (1 - p)) * (k - 1) / k
    df = k - 1
    return ((statistic / df) ** (1 / 3) - (1 - 2 / (9 * df))) / math.sqrt(2 / (9 * df))


def test_every_stratum_of_the_sample_county_is_fair(county):
    """Over 500 seeds, every eligible enterprise of every stratum is drawn equally often (chi-square)."""
    tested = 0
    for plan_id, counts, quota in inclusion_counts(county):
        if quota == len(counts):  # everyone drawn every time: trivially equal
            assert (counts == len(SEEDS)).all(), plan_id
            continue
        if quota == 0:
            continue
        z = uniformity_z(counts, quota, len(SEEDS))
        assert z < 4.0, f"{plan_id}: inclusion counts are not uniform (z = {z:.1f})"
        tested += 1
    assert tested >= 30


def test_the_fairness_test_catches_a_biased_draw(county):
    """Drawing by code order instead of by random number fails the same test."""

    # half random, half by code: still biased
    def by_code(pool, prn, ctx):
        return pool[np.argsort(ctx.enterprises["uscc"].to_numpy()[pool] + np.where(prn[pool] < 0.5, "a", "b"))]

    results = inclusion_counts(county, select=by_code)
    zs = [uniformity_z(c, q, len(SEEDS)) for _, c, q in results if 0 < q < len(c)]
    assert max(zs) > 10


def test_joint_groups_overlap_far_above_independent_draws(county):
    """跨部门联合双随机: rows of a joint group draw the same enterprises wherever pools overlap."""
    draw = draw_sampling_plan(county, seed=2026)
    overlap = draw.overlap.set_index("joint_group")
    assert len(overlap) >= 3
    assert (overlap["joint_share"] >= 0.9).all()
    assert (overlap["joint_share"] > overlap["independent_share"] + 0.3).all()
    assert (overlap["enterprises"] < overlap["independent_enterprises"]).all()


def test_independent_rows_are_independent(county):
    """Rows without a joint group use numbers of their own: their overlap is what chance gives."""
    ctx = prepare(county, 1, 2)
    a = permanent_random_numbers(ctx.ids, 2026, "plan:X-R-01", 2026)
    b = permanent_random_numbers(ctx.ids, 2026, "plan:Y-R-01", 2026)
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.05


def test_numbers_rotate_over_years(county):
    """Next year's numbers move on: a 10 % sample of one year and the next do not overlap."""
    ctx = prepare(county, 1, 2)
    n = len(ctx.ids) // 10
    this_year = set(np.argsort(permanent_random_numbers(ctx.ids, 2026, "g", 2026))[:n])
    next_year = set(np.argsort(permanent_random_numbers(ctx.ids, 2026, "g", 2027))[:n])
    assert not this_year & next_year


def test_numbers_are_uniform_and_distinct(county):
    """Permanent random numbers are uniform in [0, 1) and never tie."""
    ctx = prepare(county, 1, 2)
    prn = permanent_random_numbers(ctx.ids, 7, "catering", 2026)
    assert prn.min() >= 0 and prn.max() < 1 and len(np.unique(prn)) == len(prn)
    counts = np.histogram(prn, bins=10, range=(0, 1))[0]
    assert np.all(np.abs(counts - len(prn) / 10) < 5 * math.sqrt(len(prn) / 10))


def test_row_order_does_not_matter(tmp_path, county):
    """Same seed and same inputs give the identical draw, whatever the row order of the files."""
    folder = tmp_path / "shuffled"
    folder.mkdir()
    for path in (ROOT / "data/sample-county").iterdir():
        frame = pd.read_parquet(path)
        frame.sample(frac=1, random_state=3).to_parquet(folder / path.name, index=False)
    first = draw_sampling_plan(county, 11)
    second = draw_sampling_plan(load_dataset(folder), 11)
    pd.testing.assert_frame_equal(first.draws, second.draws)
    pd.testing.assert_frame_equal(first.tasks, second.tasks)


def test_pool_rules_are_never_broken(county):
    """Sandboxed firms, firms observed through the window, and capped positive-list firms are never drawn."""
    draw = draw_sampling_plan(county, 5)
    ent = county.enterprises.set_index("uscc")
    plan = county.sampling_plan.set_index("plan_id")
    drawn = draw.draws.join(ent[["sandbox", "observation_until", "credit_tier"]], on="uscc")
    assert not drawn["sandbox"].any()
    window_end = drawn["plan_id"].map(plan["window_end"])
    assert not (drawn["observation_until"] >= window_end).any()
    tier = drawn["plan_id"].map(plan["tier"])
    assert ((tier == "*") | (tier == drawn["credit_tier"])).all()
    tasks = draw.tasks.join(ent["observation_until"], on="uscc")
    assert not (tasks["window_start"] <= tasks["observation_until"]).any()


def small(tables_edit) -> object:
    tables = valid_tables()
    tables_edit(tables)
    import tempfile

    return load_dataset(write_dataset(Path(tempfile.mkdtemp()) / "ds", tables))


def with_rows(sampling_rows: list[list[str]], history: list[list[str]] | None = None, conflicts=None):
    def edit(tables):
        tables["sampling_plan"] = tables["sampling_plan"][:1] + sampling_rows
        if history is not None:
            tables["history"] = tables["history"][:1] + history
        if conflicts is not None:
            tables["conflicts"] = tables["conflicts"][:1] + conflicts

    return small(edit)


ALL = ["R1", "SJ", "检查", "*", "*", "1", "2026-04-01", "2026-06-30", "60", "", ""]


def test_positive_list_cap_used_by_history_leaves_the_pool():
    """A positive-list firm already visited (capped) this year is not in the pool."""
    data = with_rows([ALL], history=[[COOP, "XF", "2026-01-05", "", "key"]])
    draw = draw_sampling_plan(data, 1)
    assert set(draw.draws["uscc"]) == {ACME}  # SHOP is observed until the window's last day
    exempt = with_rows([ALL], history=[[COOP, "XF", "2026-01-05", "", "triggered"]])
    assert COOP in set(draw_sampling_plan(exempt, 1).draws["uscc"])  # complaint checks do not count


def test_department_cap_used_by_history_is_substituted():
    """A drawn firm whose department cap is used is replaced by the next in rank, with the reason."""
    row = ["R1", "SJ", "检查", "*", "*", "0.34", "2026-04-01", "2026-06-30", "60", "", ""]
    for seed in range(50):  # find a seed whose first-ranked firm is ACME
        data = with_rows([row], history=[[ACME, "SJ", "2026-01-05", "", "key"], [ACME, "SJ", "2026-02-05", "", "key"]])
        draw = draw_sampling_plan(data, seed)
        if draw.draws.iloc[0]["uscc"] == ACME:
            break
    replaced, substitute = draw.draws.iloc[0], draw.draws.iloc[1]
    assert not replaced["selected"] and replaced["drawn"] and "2026-01-05、2026-02-05" in replaced["reason"]
    assert substitute["selected"] and substitute["substitute_for"] == ACME
    assert list(draw.tasks["uscc"]) == [substitute["uscc"]]


def test_all_inspectors_in_conflict_is_substituted():
    """When every certified inspector of the department must recuse, the firm is replaced."""
    row = ["R1", "XF", "消防", "*", "*", "1", "2026-04-01", "2026-09-30", "60", "false", ""]
    data = with_rows([row], conflicts=[["XF001", SHOP], ["XF002", SHOP]])
    draw = draw_sampling_plan(data, 3)
    shop = draw.draws.set_index("uscc").loc[SHOP]
    assert not shop["selected"] and "回避" in shop["reason"]
    assert draw.shortfalls and "no substitute left" in draw.shortfalls[0]  # never silently fewer
    delegable = with_rows([row[:9] + ["true", ""]], conflicts=[["XF001", SHOP], ["XF002", SHOP]])
    assert SHOP in set(draw_sampling_plan(delegable, 3).tasks["uscc"])  # SJ002 holds an XF delegation


def test_sample_size_is_exact():
    """ceil(ratio × pool) without floating-point noise."""
    assert sample_size(0.1, 30) == 3 and sample_size(0.1, 31) == 4 and sample_size(0.03, 0) == 0
    assert sample_size(1.0, 7) == 7


def test_verify_draw_finds_a_single_changed_row(tmp_path):
    """verify-draw confirms an untouched draw and reports one edited row of draws.parquet."""
    from typer.testing import CliRunner

    from planner.cli import app

    scenario = tmp_path / "s.toml"
    scenario.write_text(
        f'name = "t"\ndataset = "{ROOT / "data/sample-county"}"\nseed = 9\n'
        "[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n"
    )
    runner = CliRunner()
    result = runner.invoke(app, ["sample", str(scenario), "--out", str(tmp_path / "draw")])
    assert result.exit_code == 0, result.output
    assert verify_draw(tmp_path / "draw").confirmed
    draws = pd.read_parquet(tmp_path / "draw/draws.parquet")
    draws.loc[123, "rank"] += 1
    draws.to_parquet(tmp_path / "draw/draws.parquet", index=False)
    check = verify_draw(tmp_path / "draw")
    assert len(check.differences) == 1 and draws.loc[123, "uscc"] in check.differences[0]
    assert runner.invoke(app, ["verify-draw", str(tmp_path / "draw")]).exit_code == 1


def test_redraw_needs_a_reason(tmp_path):
    """Another seed than the scenario's is refused without a recorded reason."""
    from typer.testing import CliRunner

    from planner.cli import app

    scenario = tmp_path / "s.toml"
    scenario.write_text(
        f'name = "t"\ndataset = "{ROOT / "data/sample-county"}"\nseed = 9\n'
        "[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n"
    )
    runner = CliRunner()
    refused = runner.invoke(app, ["sample", str(scenario), "--seed", "10", "--out", str(tmp_path / "d")])
    assert refused.exit_code == 2 and "--reason" in refused.stderr and not (tmp_path / "d").exists()
    done = runner.invoke(
        app, ["sample", str(scenario), "--seed", "10", "--reason", "公证员要求重抽", "--out", str(tmp_path / "d")]
    )
    assert done.exit_code == 0
    import json

    record = json.loads((tmp_path / "d/draw.json").read_text())
    assert record["seed"] == 10 and record["redraw_reason"] == "公证员要求重抽" and record["scenario_seed"] == 9
