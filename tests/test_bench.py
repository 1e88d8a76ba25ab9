"""planner bench reports every stage and the plan's quality; it asserts no speed."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from planner.cli import app


def test_bench_reports_every_stage_and_quality():
    """The tiny county's bench lists load … write, peak memory, and a plan that breaks no rule."""
    result = CliRunner().invoke(app, ["bench", "--profile", "tiny", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    stages = [s["stage"] for s in figures["stages"]]
    assert stages == ["load", "sample", "instance", "merge", "schedule", "tables", "check", "write"]
    assert figures["peak_mb"] > 0 and figures["enterprises"] == 60
    quality = figures["quality"]
    assert quality["rules_broken"] == 0 and quality["visits"] >= quality["lower_bound_visits"] > 0
    assert figures["machine"]["cpus"] >= 1
