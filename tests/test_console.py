"""The console piped at 80 columns: diagnose, compare and bench routing print no line wider than
80 columns, no escape code, and no value (a USCC, a date) split over two lines; --help reads as
written (paragraphs re-flowed, no `<bool>` type on a flag)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len

from planner.demo import generate_dataset
from planner.outputs import write_tables

ROOT = Path(__file__).resolve().parents[1]
# the first quarter of the generated tiny county: its optional findings name enterprises and dates
QUARTER = 'name = "{name}"\ndataset = "ds"\nseed = 5\n{extra}[horizon]\nstart = 2026-01-01\nend = {end}\n'
VALUE = re.compile(r"\d{4}-\d{2}-\d{2}|\b[0-9A-Z]{18}\b")


def piped(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """`planner ARGS` with stdout and stderr to pipes, COLUMNS=80, as a script would run it."""
    env = os.environ | {"COLUMNS": "80", "PYTHONPATH": str(ROOT), "LANG": "zh_CN.UTF-8"}  # an official's console
    for variable in ("LC_ALL", "LC_MESSAGES", "FORCE_COLOR"):
        env.pop(variable, None)
    return subprocess.run(
        [sys.executable, "-m", "planner.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def assert_fits(text: str) -> list[str]:
    """No line over 80 columns, no escape code; every value found when the lines are joined is
    also whole on one line (so none was split). Returns the lines."""
    lines = text.splitlines()
    assert "\x1b[" not in text
    assert all(cell_len(line) <= 80 for line in lines), max(lines, key=cell_len)
    joined = re.sub(r"\n\s*", "", text)
    for value in set(VALUE.findall(joined)):
        assert any(value in line for line in lines), f"{value} is split across lines"
    return lines


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    """The tiny county: its first quarter, and its January with all staff and with half."""
    root = tmp_path_factory.mktemp("console")
    (root / "ds").mkdir()
    write_tables(generate_dataset("tiny", 5), root / "ds", ".parquet")
    (root / "q1.toml").write_text(QUARTER.format(name="q1", extra="", end="2026-03-31"))
    # a month each, for compare to plan quickly
    (root / "jan.toml").write_text(QUARTER.format(name="jan", extra="", end="2026-01-31"))
    (root / "cut.toml").write_text(QUARTER.format(name="cut", extra="[staff]\nscale = 0.5\n", end="2026-01-31"))
    return root


def test_diagnose_piped_at_80_columns(county):
    """diagnose --all: one block per finding, USCCs and windows whole, nothing wider than 80."""
    result = piped("diagnose", "q1.toml", "--all", cwd=county)
    assert result.returncode in (0, 1), result.stderr
    lines = assert_fits(result.stdout)
    assert_fits(result.stderr)
    enterprise = [line for line in lines if line.lstrip().startswith("企业")]
    window = [line for line in lines if line.lstrip().startswith("时间窗")]
    assert enterprise and window, result.stdout
    assert all(re.search(r"\b[0-9A-Z]{18}$", line) for line in enterprise)
    assert all(re.search(r"\d{4}-\d{2}-\d{2}…\d{4}-\d{2}-\d{2}$", line) for line in window)


def test_compare_piped_at_80_columns(county):
    """compare of two scenarios: the table fits 80 columns with Chinese KPI names; three plans
    (too wide for a table) come one block per KPI."""
    from planner.compare import Comparison, comparison_lines

    result = piped("compare", "jan.toml", "cut.toml", cwd=county)
    assert result.returncode == 0, result.stderr
    lines = assert_fits(result.stdout)
    assert_fits(result.stderr)
    assert any(line.startswith("综合查一次实施率") and line.endswith("个百分点)") for line in lines)
    table = Comparison(["a", "b", "c"], [{}, {}, {}], _cells(["a", "b", "c"]), {})
    blocks = comparison_lines(table, 80)
    assert all(cell_len(line) <= 80 for line in blocks)
    assert blocks[1] == "任务总数" and blocks[2] == "  a  49.1% (−3.2 个百分点)"


def _cells(labels: list[str]):
    import pandas as pd

    from planner.compare import COMPARED

    return pd.DataFrame({label: ["49.1% (−3.2 个百分点)"] * len(COMPARED) for label in labels}, index=list(COMPARED))


def test_bench_routing_piped_at_80_columns(tmp_path):
    """bench routing on C101, both engines: the lines and the table fit 80 columns, whole."""
    result = piped("bench", "routing", "--instances", "C101", "--seconds", "0.1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = assert_fits(result.stderr)
    assert any(line.split()[:2] == ["C101", "827.3/10"] for line in lines), result.stderr


def test_help_reads_as_written(tmp_path):
    """plan --help: each docstring paragraph re-flowed to the width, not broken where the source
    wraps; flags show no `<bool>` type."""
    result = piped("plan", "--help", cwd=tmp_path)
    assert result.returncode == 0
    lines = assert_fits(result.stdout)
    assert "<bool>" not in result.stdout and "--force / --no-force" in result.stdout
    start = next(n for n, line in enumerate(lines) if "The plan is checked" in line)
    paragraph = []
    for line in lines[start:]:
        if not line.strip():
            break
        paragraph.append(line.strip())
    assert " ".join(paragraph) == (
        "The plan is checked against every hard rule before it is written; what cannot be placed is "
        "listed in unscheduled.parquet with its reason."
    )
    assert all(cell_len(line) > 60 for line in paragraph[:-1])  # filled, not cut at the source's line ends
