"""planner.engine plans independent counties on any executor exactly as one by one."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from planner.bench import province_parts
from planner.engine import Part, open_executor, plan_digest, plan_province

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> list[Part]:
    """Two tiny generated counties with different seeds."""
    return province_parts(2, tmp_path_factory.mktemp("province"), profile="tiny", first_seed=7)


@pytest.fixture(scope="module")
def one_by_one(parts):
    """The reference: every county planned in this process, one after the other."""
    return plan_province(parts)


def assert_same_plans(results, reference) -> None:
    """Same names, digests, KPIs and every table frame for frame."""
    assert [r.name for r in results] == [r.name for r in reference]
    for got, want in zip(results, reference):
        assert got.error is None, got.error
        assert got.digest == want.digest and got.kpis == want.kpis
        for name, frame in want.tables.items():
            pd.testing.assert_frame_equal(got.tables[name], frame)


def test_one_by_one_plans_break_no_rule(one_by_one):
    """Each county of the reference run is a valid plan of its own dataset, and the two differ."""
    assert [r.name for r in one_by_one] == ["county-01", "county-02"]
    for result in one_by_one:
        assert result.error is None and result.rules_broken == []
        assert result.kpis["visits"] >= result.kpis["lower_bound_visits"] > 0
        assert result.enterprises == 60 and result.digest == plan_digest(result.tables, result.kpis)
        assert {"load", "merge", "schedule", "check"} <= set(result.timings)
    assert one_by_one[0].digest != one_by_one[1].digest


def test_local_process_pool_gives_the_one_by_one_plans(parts, one_by_one, tmp_path):
    """Planned in a spawned process pool, each county's tables equal the in-process ones and its
    plan folder is written under its name; a county whose scenario is missing comes back with
    its error and the others go on."""
    broken = Part("missing", tmp_path / "nowhere.toml")
    with open_executor("local", max_workers=2) as executor:
        *results, failed = plan_province([*parts, broken], executor, out_root=tmp_path / "plans")
    assert_same_plans(results, one_by_one)
    assert all("write" in r.timings and (tmp_path / "plans" / r.name / "plan.xlsx").is_file() for r in results)
    assert failed.name == "missing" and "not found" in failed.error and failed.kpis == {} and failed.tables is None
    assert not (tmp_path / "plans" / "missing").exists()


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None, reason="Dask distributed is not installed")
def test_dask_local_cluster_gives_the_one_by_one_plans(parts, one_by_one):
    """On a local Dask cluster (worker processes, client.get_executor()) the plans are the same;
    without their tables (keep_tables=False) the digests tell."""
    with open_executor("dask", max_workers=2) as executor:
        results = plan_province(parts, executor, keep_tables=False)
    assert [r.error for r in results] == [None, None] and all(r.tables is None for r in results)
    assert [(r.digest, r.kpis) for r in results] == [(r.digest, r.kpis) for r in one_by_one]


def test_bad_engine_choices_are_errors():
    """An unknown engine, or an address for the local one, is refused before anything starts."""
    with pytest.raises(ValueError, match="unknown engine"), open_executor("spark"):
        pass
    with pytest.raises(ValueError, match="address"), open_executor("local", address="tcp://x:8786"):
        pass
    with pytest.raises(ValueError, match="unique"):
        plan_province([Part("a", Path("a.toml")), Part("a", Path("b.toml"))])
