"""The planner command: exit codes, reports on stderr, help with an example on every command."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from planner import cli
from planner.cli import app
from tests.conftest import valid_tables, write_dataset

runner = CliRunner()

SCENARIO = """name = "test"
dataset = "dataset"
seed = 1
[horizon]
start = 2026-01-01
end = 2026-12-31
"""


def test_validate_dataset_ok(dataset_dir, monkeypatch):
    """A valid dataset exits 0 and its summary lists tables, tiers, departments and months."""
    monkeypatch.setattr(cli.out, "width", 200)  # a wide terminal: no wrapped names
    result = runner.invoke(app, ["validate", str(dataset_dir)])
    assert result.exit_code == 0, result.output
    for text in ("enterprises", "检查对象名录库", "credit tier", "示范县市场监督管理局", "2026-03"):
        assert text in result.stdout


def test_validate_scenario_counts_working_days(dataset_dir):
    """A scenario is validated with its dataset and horizon: working days are counted."""
    scenario = dataset_dir.parent / "s.toml"
    scenario.write_text(SCENARIO)
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 0, result.output
    assert "working days" in result.stdout and "chinesecalendar" in result.stdout


def test_validate_scenario_beyond_the_calendar(dataset_dir):
    """A 2027 horizon without a calendar table exits 2 and says what to add."""
    scenario = dataset_dir.parent / "s.toml"
    scenario.write_text(SCENARIO.replace("2026-12-31", "2027-03-31"))
    result = runner.invoke(app, ["validate", str(scenario)])
    assert result.exit_code == 2
    assert "calendar table" in result.stderr and "2027-01-01…2027-03-31" in result.stderr


def test_bad_input_exits_2_without_traceback(tmp_path):
    """Bad input: exit 2, file, row, column, value and rule on stderr, no traceback."""
    tables = valid_tables()
    tables["enterprises"][2][3] = "95"  # lat of the row on spreadsheet row 3
    folder = write_dataset(tmp_path / "bad", tables)
    result = subprocess.run(
        [sys.executable, "-m", "planner.cli", "validate", str(folder)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert "enterprises.csv" in result.stderr
    assert "row 3, column lat, value '95': must be from 3.5 to 54" in result.stderr


def test_long_reports_are_capped(tmp_path):
    """More than 20 problems in a file: the first 20 and a count of the rest."""
    tables = valid_tables()
    header, first = tables["demands"][0], tables["demands"][1]
    tables["demands"] = [header] + [[f"T{i}", *first[1:7], "999", *first[8:]] for i in range(25)]
    result = runner.invoke(app, ["validate", str(write_dataset(tmp_path / "bad", tables))])
    assert result.exit_code == 2
    assert result.stderr.count("must be from 1 to 480") == 20
    assert "… and 5 more in this file" in result.stderr


def test_demo_data_refuses_to_overwrite(tmp_path):
    """An existing output folder is never overwritten without --force."""
    target = tmp_path / "existing"
    target.mkdir()
    (target / "keep.txt").write_text("previous work")
    result = runner.invoke(app, ["demo-data", "--profile", "tiny", "--out", str(target)])
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (target / "keep.txt").read_text() == "previous work"


def test_sentences_on_stderr_are_never_wrapped(tmp_path):
    """A message is one line whatever the path length: rich's 80 columns off a terminal
    once split "already exists" only for some temp paths, so CI passed where a clone failed."""
    for length in range(1, 90):
        target = tmp_path / ("x" * length)
        target.mkdir()
        result = runner.invoke(app, ["demo-data", "--profile", "tiny", "--out", str(target)])
        assert result.exit_code == 2
        assert f"{target} already exists" in result.stderr.splitlines()[0], length


def commands() -> list[str]:
    return [c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands]


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_with_an_example(command):
    """Each command's --help explains it and shows an example invocation."""
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: planner " + command in " ".join(result.stdout.split())


def test_diagnose_command(tmp_path):
    """planner diagnose: JSON on stdout, exit 1 exactly when a mandatory task is blocked (here: a
    follow-up whose window holds holidays only), 0 once the window is fixed; nothing is written."""
    import json

    tables = valid_tables()
    holiday = [
        "HOLIDAY-1",
        "XF",
        tables["demands"][3][2],
        "消防安全检查",
        "followup",
        "2026-10-01",
        "2026-10-07",
        "45",
        "",
        "",
        "",
    ]
    tables["demands"].append(holiday)
    write_dataset(tmp_path / "dataset", tables)
    (tmp_path / "s.toml").write_text(SCENARIO)
    before = sorted(p.name for p in tmp_path.rglob("*"))
    result = runner.invoke(app, ["diagnose", str(tmp_path / "s.toml"), "--json"])
    assert result.exit_code == 1, result.output
    found = json.loads(result.stdout)
    assert found["blocked"] == 1 and [f["task_id"] for f in found["findings"] if f["mandatory"]] == ["HOLIDAY-1"]
    assert found["findings"][0]["rule"] == "working_day"
    holiday[6] = "2026-10-09"
    write_dataset(tmp_path / "dataset", tables)
    fixed = runner.invoke(app, ["diagnose", str(tmp_path / "s.toml")])
    assert fixed.exit_code == 0, fixed.output
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
