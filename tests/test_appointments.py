"""预约式指导服务 (issue 20, item 1): appointments planned in their windows with their departments
in one visit, never counted against a cap, due checks folded in only where the caps allow, the
checker's rule, the KPIs, bad rows refused and ``planner verify`` on a plan with appointments.

The county is the hand-written one of tests/conftest.py with a department without inspectors
(HB), a few more demands and six appointments:

- A1 ACME, SJ, March, fold: takes in ACME's March visit (SJ-1, XF-1);
- A3 COOP (positive list; its one capped visit is SJ-7's in February), SJ+XF, October, no fold;
- A4 SHOP, XF, September, fold: SJ-8 is due then, but XF's cap at SHOP (1 in "strict") is used
  by XF-8 in July, so SJ-8 keeps its own visit there (and folds where the cap is 2);
- A5 ACME, HB, November, fold: HB has no inspector, so A5 is unscheduled with its reason, and
  SJ-10, due then, is not folded into it (it keeps a visit of its own where the cap allows);
- A6 SHOP, SJ, on quiet days only (26th … 5th): an appointment is not an unrequested check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.checker import check_plan
from planner.cli import app
from planner.dataset import load_dataset
from planner.pipeline import make_plan
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import ACME, COOP, SHOP, valid_tables, write_dataset

runner = CliRunner()

SCENARIO = """name = "appointments"
dataset = "ds"
seed = 1
quiet_days = [26, 5]
[horizon]
start = 2026-01-01
end = 2026-12-31
[caps]
per_dept_per_year = {per_dept}
positive_list_per_year = 1
"""

HEADER = ["appointment_id", "uscc", "window_start", "window_end", "dept_ids", "topic", "direction", "fold_due"]


def appointment_tables() -> dict[str, list[list[str]]]:
    tables = valid_tables()
    tables["departments"].append(["HB", "示范县生态环境分局"])
    demand = tables["demands"][1]
    tables["demands"] += [
        ["SJ-7", "SJ", COOP, "农产品质量安全检查", "key", "2026-02-09", "2026-02-20", *demand[7:]],
        ["XF-8", "XF", SHOP, "消防安全检查", "key", "2026-07-06", "2026-07-24", *demand[7:]],
        ["SJ-8", "SJ", SHOP, "食品经营检查", "campaign", "2026-09-07", "2026-09-25", *demand[7:]],
        ["SJ-10", "SJ", ACME, "食品经营检查", "campaign", "2026-11-09", "2026-11-20", *demand[7:]],
    ]
    tables["appointments"] = [
        HEADER + ["duration_min"],
        ["A1", ACME, "2026-03-09", "2026-03-20", "SJ", "开业前合规指导", "enterprise", "true", "60"],
        ["A3", COOP, "2026-10-12", "2026-10-23", "SJ;XF", "合规体系建设指导", "企业预约", "false", ""],
        ["A4", SHOP, "2026-09-07", "2026-09-25", "XF", "消防安全隐患自查指导", "department", "是", "45"],
        ["A5", ACME, "2026-11-09", "2026-11-20", "HB", "环保设施运行指导", "enterprise", "true", ""],
        ["A6", SHOP, "2026-06-29", "2026-07-03", "SJ", "经营许可事项指导", "enterprise", "false", ""],
    ]
    return tables


@dataclasses.dataclass
class Planned:
    plan: object
    dataset: object
    scenario: object
    workdays: set

    def visit_of(self, task_id: str) -> pd.Series:
        tables = self.plan.tables
        visit_id = tables.visit_tasks.set_index("task_id").at[task_id, "visit_id"]
        visit = tables.visits.set_index("visit_id").loc[visit_id].copy()
        visit["visit_id"] = visit_id
        return visit

    def tasks_in(self, visit_id: str) -> set[str]:
        vt = self.plan.tables.visit_tasks
        return set(vt.loc[vt["visit_id"] == visit_id, "task_id"])

    def codes(self, tables) -> set[str]:
        return {v.rule for v in check_plan(tables, self.dataset, self.scenario, self.workdays)}


def _plan(folder, per_dept: int) -> Planned:
    write_dataset(folder / "ds", appointment_tables())
    (folder / "s.toml").write_text(SCENARIO.format(per_dept=per_dept))
    scenario = load_scenario(folder / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    assert plan.broken == []
    return Planned(plan, dataset, scenario, set(calendar.workdays))


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> Planned:
    """The county planned with one capped visit a year per department at an enterprise."""
    return _plan(tmp_path_factory.mktemp("strict"), per_dept=1)


@pytest.fixture(scope="module")
def loose(tmp_path_factory) -> Planned:
    """The same county with two a year."""
    return _plan(tmp_path_factory.mktemp("loose"), per_dept=2)


def test_appointments_are_tasks_of_their_own_kind(strict):
    """One task per department of an appointment, kind appointment, its topic as the item."""
    tasks = strict.plan.tables.tasks.set_index("task_id")
    mine = tasks[tasks["kind"] == "appointment"]
    assert sorted(mine.index) == ["A1:SJ", "A3:SJ", "A3:XF", "A4:XF", "A5:HB", "A6:SJ"]
    assert mine.at["A3:XF", "item"] == "合规体系建设指导" and mine.at["A4:XF", "duration_min"] == 45


def test_appointments_are_planned_in_their_windows_with_their_departments(strict):
    """Each kept appointment is one visit at its enterprise, inside its window, every department there."""
    windows = {
        "A1": ("2026-03-09", "2026-03-20"),
        "A3": ("2026-10-12", "2026-10-23"),
        "A6": ("2026-06-29", "2026-07-03"),
    }
    for appointment, (start, end) in windows.items():
        tasks = [t for t in strict.plan.tables.tasks["task_id"] if t.startswith(f"{appointment}:")]
        visits = {strict.visit_of(t)["visit_id"] for t in tasks}
        assert len(visits) == 1, appointment
        visit = strict.visit_of(tasks[0])
        assert dt.date.fromisoformat(start) <= pd.Timestamp(visit["date"]).date() <= dt.date.fromisoformat(end)
    assert set(strict.visit_of("A3:SJ")["dept_ids"]) == {"SJ", "XF"}


def test_a_positive_list_firm_that_had_its_check_still_gets_its_appointment(strict):
    """COOP's one capped visit of the year is SJ-7's; A3 is planned too, and no cap is broken."""
    first, second = strict.visit_of("SJ-7"), strict.visit_of("A3:SJ")
    assert first["visit_id"] != second["visit_id"]
    assert strict.tasks_in(second["visit_id"]) == {"A3:SJ", "A3:XF"}
    assert strict.plan.broken == []


def test_an_appointment_may_fall_on_quiet_days(strict):
    """A6's window holds only quiet days (26th … 5th): it is planned there."""
    day = pd.Timestamp(strict.visit_of("A6:SJ")["date"]).day
    assert day >= 26 or day <= 5


def test_fold_due_takes_in_the_due_checks_the_caps_allow(strict, loose):
    """A1 takes in ACME's March checks; SJ-8 joins A4 only where XF may make a second capped visit at SHOP."""
    assert strict.tasks_in(strict.visit_of("A1:SJ")["visit_id"]) == {"A1:SJ", "SJ-1", "XF-1"}
    assert strict.visit_of("SJ-8")["visit_id"] != strict.visit_of("A4:XF")["visit_id"]
    assert strict.tasks_in(strict.visit_of("A4:XF")["visit_id"]) == {"A4:XF"}
    assert loose.tasks_in(loose.visit_of("A4:XF")["visit_id"]) == {"A4:XF", "SJ-8"}
    assert strict.plan.kpis["checks_folded_into_appointments"] == 2
    assert loose.plan.kpis["checks_folded_into_appointments"] == 3


def test_an_appointment_without_inspectors_is_unscheduled_with_its_reason(strict):
    """A5's department has nobody: unscheduled with a rule's reason, and not kept in the KPIs."""
    unscheduled = strict.plan.tables.unscheduled.set_index("task_id")
    assert "A5:HB" in unscheduled.index
    assert unscheduled.at["A5:HB", "reason_code"] not in (None, "other")
    assert unscheduled.at["A5:HB", "reason"].strip()
    kpis = strict.plan.kpis
    assert (kpis["appointments_total"], kpis["appointments_kept"]) == (5, 4)


def test_due_checks_never_fold_into_an_appointment_nobody_can_keep(loose):
    """SJ-10 is due in A5's window and ACME agreed to fold, but HB has nobody: SJ-10 is planned on its own."""
    assert "A5:HB" in set(loose.plan.tables.unscheduled["task_id"])
    assert loose.tasks_in(loose.visit_of("SJ-10")["visit_id"]) == {"SJ-10"}


def test_the_checker_rejects_an_appointment_outside_its_window(strict):
    """The visit of A3 moved a month earlier breaks ``appointment``."""
    tables = strict.plan.tables
    visit_id = strict.visit_of("A3:SJ")["visit_id"]
    moved = tables.visits["visit_id"] == visit_id
    broken = dataclasses.replace(
        tables, visits=tables.visits.assign(date=tables.visits["date"].where(~moved, dt.date(2026, 9, 14)))
    )
    assert "appointment" in strict.codes(broken)
    assert "appointment" not in strict.codes(tables)


def test_the_checker_rejects_an_appointment_missing_a_department(strict):
    """A3 with XF's task taken out of its visit (and listed unscheduled) breaks ``appointment``."""
    tables = strict.plan.tables
    row = tables.unscheduled.iloc[[0]].assign(task_id="A3:XF", dept_id="XF", uscc=COOP, kind="appointment")
    broken = dataclasses.replace(
        tables,
        visit_tasks=tables.visit_tasks[tables.visit_tasks["task_id"] != "A3:XF"],
        unscheduled=pd.concat([tables.unscheduled, row], ignore_index=True),
    )
    assert "appointment" in strict.codes(broken)


def test_verify_and_reoptimize_on_a_plan_with_appointments(tmp_path):
    """planner plan then planner verify (the appointment KPIs recomputed, the workbook rebuilt),
    then planner reoptimize from June."""
    write_dataset(tmp_path / "ds", appointment_tables())
    (tmp_path / "s.toml").write_text(SCENARIO.format(per_dept=2))
    planned = runner.invoke(app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "plan"), "--quiet"])
    assert planned.exit_code == 0, planned.stderr
    kpis = json.loads((tmp_path / "plan/kpis.json").read_text())
    assert kpis["appointments_kept"] == 4
    verified = runner.invoke(app, ["verify", str(tmp_path / "plan"), str(tmp_path / "ds")])
    assert verified.exit_code == 0, verified.stderr
    # 月会商 from June: the appointments come from the table again (never carried as demands twice)
    actuals = ["demo-actuals", str(tmp_path / "plan"), "--as-of", "2026-06-01", "--out", str(tmp_path / "act")]
    assert runner.invoke(app, [*actuals, "--new-tasks", "0", "--on-leave", "0"]).exit_code == 0
    again = [str(tmp_path / "s.toml"), "--plan", str(tmp_path / "plan"), "--actuals", str(tmp_path / "act")]
    replanned = runner.invoke(app, ["reoptimize", *again, "--as-of", "2026-06-01", "--out", str(tmp_path / "re")])
    assert replanned.exit_code == 0, replanned.stderr
    assert json.loads((tmp_path / "re/kpis.json").read_text())["appointments_total"] == 5


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (["A9", "91330481MA2B3C4D99", "2026-03-02", "2026-03-20", "SJ", "指导", "enterprise", "true"], "uscc", None),
        (["A9", ACME, "2026-03-02", "2026-03-20", "SJ;GA", "指导", "enterprise", "true"], "dept_ids", "GA"),
        (["A9", ACME, "2026-03-20", "2026-03-02", "SJ", "指导", "enterprise", "true"], "window_end", None),
        (["A9", ACME, "2026-03-02", "2026-03-20", "SJ", "指导", "sideways", "true"], "direction", "sideways"),
        (["A1", ACME, "2026-03-02", "2026-03-20", "XF", "指导", "enterprise", "true"], "appointment_id", "A1"),
    ],
)
def test_bad_rows_exit_2_with_row_and_column(tmp_path, row, column, value):
    """An unknown enterprise or department, an end before the start, a bad direction, a repeated
    id: exit 2, the file, spreadsheet row 3 (the second data row), the column; nothing planned."""
    tables = appointment_tables()
    tables["appointments"] = [HEADER, ["A1", ACME, "2026-03-09", "2026-03-20", "SJ", "指导", "enterprise", "true"], row]
    write_dataset(tmp_path / "ds", tables)
    result = runner.invoke(app, ["validate", str(tmp_path / "ds")])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "appointments.csv" in line or f"column {column}" in line]
    assert any(f"row 3, column {column}" in line for line in lines), result.stderr
    if value is not None:
        assert any(repr(value) in line for line in lines), result.stderr
    assert "Traceback" not in result.stderr


def test_a_stay_too_long_is_refused_before_planning(tmp_path):
    """Five departments of 90 minutes each is 450 minutes on site: refused with its row (validate SCENARIO)."""
    tables = appointment_tables()
    tables["departments"] += [["YJ", "示范县应急管理局"], ["WJ", "示范县卫生健康局"]]
    tables["appointments"][3][4:] = ["SJ;XF;HB;YJ;WJ", "指导", "enterprise", "false", "90"]  # A4, row 4
    write_dataset(tmp_path / "ds", tables)
    (tmp_path / "s.toml").write_text(SCENARIO.format(per_dept=2))
    result = runner.invoke(app, ["validate", str(tmp_path / "s.toml")])
    assert result.exit_code == 2
    assert "row 4, column duration_min, value '90'" in result.stderr and "450" in result.stderr


def test_a_window_outside_the_horizon_is_refused_before_planning(tmp_path):
    """An appointment the plan cannot keep: exit 2 with its row and column, nothing written."""
    tables = appointment_tables()
    tables["appointments"][2][3] = "2027-01-15"  # A3's window_end, spreadsheet row 3
    write_dataset(tmp_path / "ds", tables)
    (tmp_path / "s.toml").write_text(SCENARIO.format(per_dept=2))
    result = runner.invoke(app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "plan")])
    assert result.exit_code == 2
    assert "row 3, column window_end, value '2027-01-15'" in result.stderr
    assert not (tmp_path / "plan").exists()


def test_demo_data_adds_appointments_and_changes_nothing_else(tmp_path):
    """--appointments N writes N valid appointments; every other table is the same bytes as without it."""
    base = ["demo-data", "--profile", "tiny", "--seed", "7", "--format", "csv"]
    assert runner.invoke(app, [*base, "--out", str(tmp_path / "plain")]).exit_code == 0
    assert runner.invoke(app, [*base, "--appointments", "12", "--out", str(tmp_path / "with")]).exit_code == 0
    plain = sorted(p.name for p in (tmp_path / "plain").iterdir())
    assert sorted(p.name for p in (tmp_path / "with").iterdir()) == sorted([*plain, "appointments.csv"])
    for name in plain:
        assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name
    dataset = load_dataset(tmp_path / "with")  # the contract's rules hold
    appointments = dataset.appointments
    assert len(appointments) == 12 and appointments["uscc"].is_unique
    assert appointments["window_start"].min() >= pd.Timestamp("2026-02-02")
    assert appointments["window_end"].max() <= pd.Timestamp("2026-11-30")
    certified = set(dataset.inspectors.loc[dataset.inspectors["cert_no"].notna(), "dept_id"])
    assert {d for depts in appointments["dept_ids"] for d in depts} <= certified
