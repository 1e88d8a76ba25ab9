"""planner bench reports every stage and the plan's quality; it asserts no speed."""

from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from planner.bench import CAPACITY, GENERATED, HARD, SUITE, growth_exponent, province_parts, write_scenario
from planner.cli import app
from planner.demo import PROFILES
from planner.scenario import load_scenario
from planner.stopwatch import MemoryWatch, current_rss_mb


def test_bench_reports_every_stage_and_quality():
    """The tiny county's bench lists load … write, peak memory, and a plan that breaks no rule."""
    result = CliRunner().invoke(app, ["bench", "--profile", "tiny", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    stages = [s["stage"] for s in figures["stages"]]
    assert stages == [
        "load",
        "sample",
        "instance",
        "merge",
        "capacity",
        "schedule",
        "tables",
        "bound",
        "check",
        "write",
    ]
    assert figures["peak_mb"] > 0 and figures["enterprises"] == 60
    if current_rss_mb() is not None:  # the most memory while each stage ran, never above the peak
        assert all(0 < s["stage_peak_mb"] <= figures["peak_mb"] + 1 for s in figures["stages"])
    quality = figures["quality"]
    assert quality["rules_broken"] == 0 and quality["visits"] >= quality["lower_bound_visits"] > 0
    assert figures["machine"]["cpus"] >= 1


@pytest.mark.skipif(current_rss_mb() is None, reason="the system does not say its resident memory")
def test_memory_watch_tells_the_stage_that_held_the_memory():
    """200 MB held in one stretch of time shows in it, and not in the stretch after it is freed."""
    with MemoryWatch(interval=0.01) as memory:
        start = time.perf_counter()
        held = b"x" * (200 * 2**20)  # written, so resident
        memory.read()
        held_until = time.perf_counter()
        del held
        memory.read()
        freed = time.perf_counter()
        memory.read()
        end = time.perf_counter()
    assert memory.most(start, held_until) - memory.most(freed, end) >= 150


def test_capacity_variants_are_valid_scenarios(tmp_path):
    """Slack raises planned_share, tight keeps 60 % of the staff, normal is the scenario as generated."""
    (tmp_path / "data").mkdir()
    written = {c: write_scenario(tmp_path / f"{c}.toml", tmp_path / "data", f"x {c}", 7, c) for c in CAPACITY}
    loaded = {c: load_scenario(path) for c, path in written.items()}
    assert loaded["normal"].planned_share == 0.2 and loaded["normal"].staff.scale == 1.0
    assert loaded["slack"].planned_share == 0.5 and loaded["tight"].staff.scale == 0.6
    assert all(s.dataset == tmp_path / "data" and s.seed == 7 for s in loaded.values())
    assert all(s.solver.time_limit_s == 3600 for s in loaded.values())  # the wall-time limit never decides a bench plan


def test_hard_profiles_plan_with_their_scenario_keys(tmp_path):
    """A hard profile's generated scenario has its own keys; a capacity variant's go on top."""
    (tmp_path / "data").mkdir()
    assert set(HARD) <= set(GENERATED)

    def keys(profile: str, capacity: str = "normal"):
        scenario = load_scenario(
            write_scenario(tmp_path / f"{profile}-{capacity}.toml", tmp_path / "data", profile, 9, capacity, profile)
        )
        return scenario.planned_share, scenario.quiet_days, scenario.staff.scale

    assert keys("park") == (0.2, (1, 10), 1.0) and keys("q4") == (0.2, None, 1.0)
    assert keys("tight") == (0.1, (1, 10), 0.6) and keys("short") == (0.2, None, 0.4)
    assert keys("park", "slack") == (0.5, (1, 10), 1.0) and keys("short", "tight") == (0.2, None, 0.6)
    assert keys("county", "tight") == (0.2, None, 0.6)  # the earlier profiles have no keys of their own


def test_growth_exponent_fits_a_power_law():
    """Seconds = a · n^b gives back b, whatever a; one size alone is an error."""
    assert growth_exponent([(1_000, 2.0), (5_000, 10.0), (20_000, 40.0)]) == 1.0
    assert growth_exponent([(10, 3.0), (100, 300.0)]) == 2.0
    with pytest.raises(ValueError):
        growth_exponent([(10, 1.0)])


def test_suite_profiles_scale_the_county():
    """The suite's profiles grow from 1 k to 100 k enterprises; the county keeps its sizes."""
    assert [PROFILES[p].n_enterprises for p in SUITE] == [1_000, 5_000, 20_000, 100_000]
    assert set(SUITE) <= set(GENERATED) and PROFILES["county"].n_demands == 10_000


def test_province_parts_are_generated_once_and_reused(tmp_path):
    """N counties get seeds first_seed, first_seed + 1, …; a second call reuses their data."""
    parts = province_parts(2, tmp_path, profile="tiny", first_seed=11)
    stamp = (tmp_path / "county-02" / "data" / "enterprises.parquet").stat().st_mtime_ns
    again = province_parts(2, tmp_path, profile="tiny", first_seed=11, capacity="tight")
    assert [p.name for p in again] == ["county-01", "county-02"] == [p.name for p in parts]
    assert (tmp_path / "county-02" / "data" / "enterprises.parquet").stat().st_mtime_ns == stamp
    assert [load_scenario(p.scenario).seed for p in again] == [11, 12]
    assert load_scenario(again[0].scenario).staff.scale == 0.6


def test_bench_province_on_the_command_line(tmp_path):
    """planner bench --profile province: every county planned on the chosen engine, totals with no rule broken."""
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "--profile",
            "province",
            "--counties",
            "2",
            "--county-profile",
            "tiny",
            "--engine",
            "serial",
            "--work",
            str(tmp_path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert (
        figures["counties"] == 2 and figures["totals"]["rules_broken"] == 0 and figures["totals"]["failed_parts"] == 0
    )
    assert figures["totals"]["enterprises"] == 2 * PROFILES["tiny"].n_enterprises
    assert [p["name"] for p in figures["parts"]] == ["county-01", "county-02"]


def test_bench_routing_on_the_command_line():
    """planner bench routing: one row per instance and engine, feasible, with its gap to dist_trunc1."""
    result = CliRunner().invoke(
        app, ["bench", "routing", "--instances", "C101", "--seconds", "0.3", "--engines", "pyvrp", "--json"]
    )
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["rows"]
    assert row["name"] == "C101" and row["engine"] == "pyvrp" and not row["problems"] and row["gap_pct"] >= 0
    bad = CliRunner().invoke(app, ["bench", "routing", "--engines", "gurobi"])
    assert bad.exit_code == 2 and "pyvrp" in bad.output
