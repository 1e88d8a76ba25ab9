"""Shared fixtures: a small, valid, hand-written dataset that tests corrupt one cell at a time."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from planner.codes import uscc_with_check_digit

# Every run sees the console an 80-column terminal or a pipe gives, whatever the developer's window:
# a test that passes only on a wide terminal is a test CI fails at random.
os.environ["COLUMNS"] = "80"
# Errors and warnings speak the console's language (Chinese unless the locale is English): the
# tests read them in English; tests/test_errors_zh.py sets the locale it tries. Subprocesses inherit it.
os.environ["LANG"] = "en_US.UTF-8"
for _name in ("LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)

ACME = uscc_with_check_digit("91330481MA2B3C4D5")
COOP = uscc_with_check_digit("N2330481MA2B3C4D6")  # letter-first: a collective economic organisation
SHOP = uscc_with_check_digit("92330481MA2B3C4D7")
CLOSED = uscc_with_check_digit("91330481MA2B3C4D8")  # not in enterprises: a closed business


def valid_tables() -> dict[str, list[list[str]]]:
    """Header row + data rows per table; every rule of the contract holds."""
    return {
        "townships": [["township", "lat", "lon"], ["城关街道", "30.50", "120.60"], ["临江镇", "30.58", "120.72"]],
        "departments": [["dept_id", "name"], ["SJ", "示范县市场监督管理局"], ["XF", "示范县消防救援大队"]],
        "enterprises": [
            [
                "uscc",
                "name",
                "township",
                "lat",
                "lon",
                "industry",
                "credit_tier",
                "positive_list",
                "sandbox",
                "observation_until",
                "key_sector",
            ],
            [ACME, "示范县甲化工有限公司", "城关街道", "30.51", "120.61", "C2614", "B", "false", "0", "", "危险化学品"],
            [COOP, "临江镇乙村股份经济合作社", "临江镇", "30.57", "120.71", "0111", "A", "是", "否", "", ""],
            [SHOP, "丙便利店", "城关街道", "30.52", "120.62", "", "C", "", "", "2026-06-30", ""],
        ],
        "inspectors": [
            ["inspector_id", "name", "dept_id", "cert_no", "delegated_depts", "hours_per_day", "max_days"],
            ["SJ001", "张伟", "SJ", "33048100101", "", "7", ""],
            ["SJ002", "王芳", "SJ", "33048100102", "XF", "", "40"],
            ["XF001", "李强", "XF", "33048100201", "", "8", ""],
            ["XF002", "刘洋", "XF", "33048100202", "", "", ""],
        ],
        "leave": [["inspector_id", "start", "end"], ["SJ001", "2026-02-16", "2026-02-20"]],
        "demands": [
            [
                "task_id",
                "dept_id",
                "uscc",
                "item",
                "kind",
                "window_start",
                "window_end",
                "duration_min",
                "min_inspectors",
                "delegable",
                "priority",
            ],
            ["SJ-1", "SJ", ACME, "危险化学品经营检查", "key", "2026-01-01", "2026-03-31", "90", "2", "false", "2"],
            ["XF-1", "XF", ACME, "消防安全检查", "campaign", "2026-03-01", "2026-04-30", "60", "", "true", ""],
            ["XF-2", "XF", SHOP, "消防安全检查", "triggered", "2026-05-11", "2026-05-22", "45", "3", "", "3"],
        ],
        "sampling_plan": [
            [
                "plan_id",
                "dept_id",
                "item",
                "industries",
                "tier",
                "ratio",
                "window_start",
                "window_end",
                "duration_min",
                "delegable",
                "joint_group",
            ],
            ["SJ-R-01", "SJ", "食品经营检查", "52;62", "*", "0.1", "2026-04-01", "2026-06-30", "60", "", "catering"],
            ["XF-R-01", "XF", "消防安全检查", "*", "C", "0.3", "2026-04-01", "2026-09-30", "45", "true", "catering"],
        ],
        "conflicts": [["inspector_id", "uscc"], ["SJ002", SHOP]],
        "history": [
            ["uscc", "dept_id", "date", "inspector_id", "kind"],
            [ACME, "SJ", "2025-05-12", "SJ001", "key"],
            [SHOP, "XF", "2025-08-03", "", "triggered"],
        ],
    }


def write_csv(folder: Path, name: str, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path = folder / f"{name}.csv"
    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_dataset(folder: Path, tables: dict[str, list[list[str]]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        write_csv(folder, name, rows)
    return folder


@pytest.fixture
def tables() -> dict[str, list[list[str]]]:
    """A fresh copy of the valid tables to corrupt."""
    return valid_tables()


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    """The valid tables written as CSV files."""
    return write_dataset(tmp_path / "dataset", valid_tables())


@pytest.fixture(scope="session")
def county_baseline():
    """(plan, dataset, scenario, workdays) of the bundled sample county's baseline scenario, planned once."""
    from planner.dataset import load_dataset
    from planner.pipeline import make_plan
    from planner.scenario import load_scenario
    from planner.workdays import work_calendar

    root = Path(__file__).resolve().parents[1]
    scenario = load_scenario(root / "scenarios/baseline.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    return make_plan(dataset, scenario, calendar), dataset, scenario, set(calendar.workdays)
