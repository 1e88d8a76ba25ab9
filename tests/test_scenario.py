"""Scenario files: typed keys with defaults, errors that name the key, and extends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from planner.problems import InputError
from planner.rules.quiet_days import is_quiet
from planner.scenario import load_scenario

BASE = """
name = "baseline"
dataset = "../data/county"
seed = 2026
[horizon]
start = 2026-01-01
end = 2026-12-31
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def key_errors(path: Path) -> list[tuple[str | None, str]]:
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    return [(p.column, p.rule) for p in caught.value.problems]


def test_defaults(tmp_path):
    """Keys left out take the documented defaults; the dataset is relative to the file."""
    scenario = load_scenario(write(tmp_path, "scenarios/base.toml", BASE))
    assert scenario.dataset == tmp_path / "data/county" or scenario.dataset.resolve() == (tmp_path / "data/county")
    assert scenario.horizon.start == dt.date(2026, 1, 1) and scenario.horizon.days == 365
    assert (scenario.solver.time_limit_s, scenario.solver.workers) == (60.0, 1)
    assert (scenario.caps.per_dept_per_year, scenario.caps.positive_list_per_year) == (2, 1)
    assert scenario.planned_share == 0.2 and scenario.quiet_days is None and scenario.onsite == "sum"


def test_unknown_key_is_named(tmp_path):
    """A misspelt key is an error naming it and listing the keys of its section."""
    path = write(tmp_path, "s.toml", BASE + "[solver]\nwokers = 4\n")
    ((key, rule),) = key_errors(path)
    assert key == "solver.wokers" and "unknown key" in rule and "workers" in rule


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ('seed = "42"\n', "seed"),
        ("planned_share = 1.5\n", "planned_share"),
        ("quiet_days = [0, 5]\n", "quiet_days.0"),
        ('onsite = "max"\n', "onsite"),
        ("[caps]\nper_dept_per_year = 1.5\n", "caps.per_dept_per_year"),
        ("[solver]\nworkers = 0\n", "solver.workers"),
    ],
)
def test_mistyped_value_is_named(tmp_path, extra, key):
    """A value of the wrong type or range is an error naming the key."""
    text = BASE.replace("seed = 2026\n", "") if extra.startswith("seed") else BASE
    path = write(tmp_path, "s.toml", text + extra if extra.startswith("[") else extra + text)
    assert [k for k, _ in key_errors(path)] == [key]


def test_missing_required_key(tmp_path):
    """name, dataset, horizon and seed are required."""
    path = write(tmp_path, "s.toml", BASE.replace("seed = 2026\n", ""))
    assert key_errors(path) == [("seed", "required key is missing")]


def test_reversed_horizon(tmp_path):
    """A horizon ending before it starts is an error on the horizon."""
    path = write(tmp_path, "s.toml", BASE.replace("end = 2026-12-31", "end = 2025-12-31"))
    ((key, rule),) = key_errors(path)
    assert key == "horizon" and "before start" in rule


def test_extends_overrides_key_by_key(tmp_path):
    """extends inherits every key; tables merge key by key; the dataset stays relative to its file."""
    write(tmp_path, "scenarios/base.toml", BASE + "[solver]\ntime_limit_s = 30\nworkers = 2\n")
    child = write(
        tmp_path,
        "scenarios/whatif/staff-cut.toml",
        'extends = "../base.toml"\nname = "staff cut"\nquiet_days = [26, 5]\n[solver]\nworkers = 4\n',
    )
    scenario = load_scenario(child)
    assert scenario.name == "staff cut" and scenario.seed == 2026
    assert (scenario.solver.time_limit_s, scenario.solver.workers) == (30.0, 4)
    assert scenario.dataset.resolve() == (tmp_path / "data/county").resolve()
    quiet = scenario.quiet_days
    assert is_quiet(dt.date(2026, 3, 28), quiet) and is_quiet(dt.date(2026, 3, 3), quiet)
    assert not is_quiet(dt.date(2026, 3, 15), quiet)


def test_extends_loop(tmp_path):
    """A scenario that extends itself through others is an error, not a hang."""
    write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    path = write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    ((key, rule),) = key_errors(path)
    assert key == "extends" and "loop" in rule


def test_not_toml(tmp_path):
    """A syntax error is reported with TOML's line and column."""
    path = write(tmp_path, "s.toml", "name = \n")
    ((key, rule),) = key_errors(path)
    assert key is None and "not valid TOML" in rule and "line 1" in rule
