"""planner diagnose: each rule flags the task that breaks it, and only that; capacity; the sample county."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.diagnose import AT_RISK, BLOCKED, DIAGNOSED, diagnose, render, to_json
from planner.outputs import write_tables
from planner.pipeline import make_plan
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import ACME, COOP, SHOP, valid_tables, write_dataset

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = 'name = "t"\ndataset = "ds"\nseed = {seed}\n{extra}[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'
DEMAND = [
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
]


def inputs(folder: Path, tables: dict | None = None, extra: str = "", seed: int = 1):
    """(dataset, scenario, calendar) of ``tables`` (default: the valid hand-written county)."""
    if tables is not None:
        write_dataset(folder / "ds", tables)
    (folder / "s.toml").write_text(SCENARIO.format(seed=seed, extra=extra))
    scenario = load_scenario(folder / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    return dataset, scenario, calendar


def diagnosed(folder: Path, tables: dict, extra: str = "", optional: bool = False):
    return diagnose(*inputs(folder, tables, extra), optional=optional)


def rules_of(diagnosis) -> dict[str, tuple[str, str]]:
    """task_id → (rule, severity)."""
    return {f.task_id: (f.rule, f.severity) for f in diagnosis.findings}


def with_demands(*rows: list[str]) -> dict:
    tables = valid_tables()
    tables["demands"] = [DEMAND, *rows]
    return tables


def key(task_id, dept, uscc, start, end, minutes="60", kind="key", crew="2", delegable="false") -> list[str]:
    return [task_id, dept, uscc, "检查", kind, start, end, minutes, crew, delegable, "1"]


def test_valid_county_has_no_finding(tmp_path):
    """The hand-written county: every mandatory task can be placed, nobody is short of time."""
    diagnosis = diagnosed(tmp_path, valid_tables(), optional=True)
    assert diagnosis.findings == () and diagnosis.ok
    assert diagnosis.mandatory == 2 and diagnosis.tasks > diagnosis.mandatory


@pytest.mark.parametrize(
    ("window", "rule"),
    [
        (("2026-02-15", "2026-02-23"), "working_day"),  # Spring Festival
        (("2027-03-01", "2027-03-31"), "window"),
    ],
)
def test_window_without_a_day(tmp_path, window, rule):
    """A window with no working day in the horizon is blocked; its neighbour is not."""
    tables = with_demands(key("A", "SJ", ACME, *window), key("B", "SJ", ACME, "2026-02-10", "2026-02-28"))
    diagnosis = diagnosed(tmp_path, tables)
    assert rules_of(diagnosis) == {"A": (rule, BLOCKED)}
    assert not diagnosis.ok and [f.task_id for f in diagnosis.blocked] == ["A"]


def test_holiday_fix_names_the_nearest_working_days(tmp_path):
    """The fix for a holiday-only window names the working days either side."""
    finding = diagnosed(tmp_path, with_demands(key("A", "SJ", ACME, "2026-02-15", "2026-02-23"))).findings[0]
    assert "2026-02-24" in finding.fix_zh and "2026-02-24" in finding.fix_en


def test_quiet_days(tmp_path):
    """Quiet days bar capped tasks only: a key task inside them is blocked, a complaint check is not."""
    tables = with_demands(
        key("A", "SJ", ACME, "2026-03-02", "2026-03-20"),
        key("B", "SJ", COOP, "2026-03-02", "2026-03-20", kind="triggered"),
        key("C", "SJ", SHOP, "2026-03-02", "2026-03-31"),
    )
    diagnosis = diagnosed(tmp_path, tables, extra="quiet_days = [1, 25]\n")
    assert rules_of(diagnosis) == {"A": ("quiet_days", BLOCKED)}


def test_longer_than_day(tmp_path):
    """480 minutes on site plus travel exceeds every SJ inspector's 7-hour day; 360 does not."""
    tables = with_demands(
        key("A", "SJ", ACME, "2026-03-02", "2026-03-31", minutes="480"),
        key("B", "SJ", SHOP, "2026-03-02", "2026-03-31", minutes="360"),
    )
    diagnosis = diagnosed(tmp_path, tables)
    assert rules_of(diagnosis) == {"A": ("day_length", BLOCKED)}
    assert "hours_per_day" in diagnosis.findings[0].fix_zh


def test_no_certified_inspector(tmp_path):
    """Without a 执法证 in XF, its own item is blocked; a delegable one has a delegate, so no finding."""
    tables = valid_tables()
    for row in tables["inspectors"][1:]:
        if row[2] == "XF":
            row[3] = ""
    diagnosis = diagnosed(tmp_path, tables, optional=True)
    assert rules_of(diagnosis)["XF-2"] == ("certified", BLOCKED)
    assert "XF-1" not in rules_of(diagnosis)  # SJ002 holds XF's delegation, and the plan sends SJ002
    assert "执法证" in next(f for f in diagnosis.findings if f.task_id == "XF-2").fix_zh


def test_all_conflicted(tmp_path):
    """Both XF inspectors have a conflict (回避) at SHOP: XF-2 there is blocked, XF-1 at ACME is not."""
    tables = valid_tables()
    tables["conflicts"] += [["XF001", SHOP], ["XF002", SHOP]]
    assert rules_of(diagnosed(tmp_path, tables)) == {"XF-2": ("conflict", BLOCKED)}


def test_on_leave_whole_window(tmp_path):
    """Both XF inspectors on leave through XF-2's window; the fix names a day someone is back."""
    tables = valid_tables()
    tables["leave"] += [["XF001", "2026-05-01", "2026-05-31"], ["XF002", "2026-05-04", "2026-05-29"]]
    diagnosis = diagnosed(tmp_path, tables)
    assert rules_of(diagnosis) == {"XF-2": ("leave", BLOCKED)}
    assert "2026-06-01" in diagnosis.findings[0].fix_zh


def test_leave_on_some_days_is_no_finding(tmp_path):
    """One XF inspector back for a single day of the window is enough (with SJ002's conflict at SHOP
    gone, the crew of three is then complete)."""
    tables = valid_tables()
    tables["conflicts"] = tables["conflicts"][:1]
    tables["leave"] += [["XF001", "2026-05-01", "2026-05-31"], ["XF002", "2026-05-12", "2026-05-29"]]
    assert diagnosed(tmp_path, tables).findings == ()


def test_crew_too_small(tmp_path):
    """XF-2 needs three inspectors; with both SJ inspectors on leave only the two of XF are left."""
    tables = valid_tables()
    tables["leave"] += [["SJ001", "2026-05-01", "2026-05-31"], ["SJ002", "2026-05-01", "2026-05-31"]]
    assert rules_of(diagnosed(tmp_path, tables)) == {"XF-2": ("crew_size", BLOCKED)}


def test_cap_per_dept_names_the_competing_tasks(tmp_path):
    """Three SJ key checks at ACME in Q1, Q2 and Q3, two capped visits a year: one is blocked,
    and the finding lists all three windows."""
    tables = with_demands(
        key("A", "SJ", ACME, "2026-01-05", "2026-03-31"),
        key("B", "SJ", ACME, "2026-04-01", "2026-06-30"),
        key("C", "SJ", ACME, "2026-07-01", "2026-09-30"),
    )
    diagnosis = diagnosed(tmp_path, tables)
    assert [(f.rule, f.severity) for f in diagnosis.findings] == [("cap_per_dept", BLOCKED)]
    assert all(t in diagnosis.findings[0].why_zh for t in ("A（", "B（", "C（"))


def test_overlapping_windows_share_the_cap(tmp_path):
    """Two SJ checks whose windows overlap share one capped visit: no finding."""
    tables = with_demands(
        key("A", "SJ", ACME, "2026-01-05", "2026-03-31"),
        key("B", "SJ", ACME, "2026-03-01", "2026-06-30"),
        key("C", "SJ", ACME, "2026-07-01", "2026-09-30"),
    )
    assert diagnosed(tmp_path, tables).findings == ()


def test_cap_positive_list(tmp_path):
    """COOP is on the positive list: two key checks in disjoint windows, one capped visit a year;
    a complaint check (triggered) is exempt."""
    tables = with_demands(
        key("A", "SJ", COOP, "2026-01-05", "2026-03-31"),
        key("B", "XF", COOP, "2026-07-01", "2026-09-30"),
        key("C", "XF", COOP, "2026-10-08", "2026-10-30", kind="triggered"),
    )
    diagnosis = diagnosed(tmp_path, tables)
    assert [(f.rule, f.severity) for f in diagnosis.findings] == [("cap_positive_list", BLOCKED)]


def test_positive_list_and_the_six_hour_stay(tmp_path):
    """Two checks at COOP whose windows overlap but need 420 min together, more than the longest
    stay (the inspectors' day less the road): the one visit a year cannot hold both, and the
    finding says the stay limit takes part, with its minutes."""
    tables = with_demands(
        key("A", "SJ", COOP, "2026-03-02", "2026-03-31", minutes="240"),
        key("B", "XF", COOP, "2026-03-02", "2026-03-31", minutes="180"),
    )
    diagnosis = diagnosed(tmp_path, tables)
    (finding,) = diagnosis.findings
    assert finding.rule == "cap_positive_list" and "最长可停留" in finding.why_zh
    longest = re.search(r"最长可停留的 (\d+) 分钟", finding.why_zh).group(1)
    assert 360 <= int(longest) < 420 and f"不超过 {longest} 分钟" in finding.fix_zh


def test_a_longer_stay_keeps_a_mandatory_task(tmp_path):
    """380 min together fit within the longest stay though past 6 hours: diagnose blocks nothing,
    and the plan makes the one long visit rather than drop a task."""
    tables = with_demands(
        key("A", "SJ", COOP, "2026-03-02", "2026-03-31", minutes="200"),
        key("B", "XF", COOP, "2026-03-02", "2026-03-31", minutes="180"),
    )
    dataset, scenario, calendar = inputs(tmp_path, tables, "")
    assert not diagnose(dataset, scenario, calendar).findings
    plan = make_plan(dataset, scenario, calendar)
    assert plan.tables.unscheduled.empty, plan.tables.unscheduled["reason"].tolist()
    visits = plan.tables.visits
    (visit,) = visits[visits["uscc"] == COOP].itertuples()
    assert visit.n_tasks == 2 and visit.end_min - visit.start_min == 380


def capacity_tables(n_tasks: int) -> dict:
    """XF with one certified inspector (8 h) and ``n_tasks`` complaint checks of 300 min in one week."""
    tables = valid_tables()
    tables["inspectors"] = [row for row in tables["inspectors"] if row[0] != "XF002"]
    places = [ACME, COOP, SHOP]
    rows = [
        key(f"T{n}", "XF", places[n % 3], "2026-03-09", "2026-03-13", minutes="300", kind="triggered")
        for n in range(n_tasks)
    ]
    tables["demands"] = [DEMAND, *rows]
    return tables


def test_capacity_shortfall(tmp_path):
    """10 × 300 min of XF work in a week of 5 days × 8 h for its one inspector: a proven shortfall,
    every task in it at risk, and the diagnosis is not ok."""
    diagnosis = diagnosed(tmp_path, capacity_tables(10))
    proven = [s for s in diagnosis.shortfalls if not s.paced]
    assert [(s.dept_id, s.first_week, s.last_week, s.tasks, s.demand_min, s.supply_min) for s in proven] == [
        ("XF", "2026-W11", "2026-W11", 10, 3000, 2400)
    ]
    # the shortest tasks first: 8 × 300 min fill the one inspector's 5 days × 8 h
    assert (proven[0].at_most, proven[0].supply_days) == (8, 5.0)
    assert {f.rule for f in diagnosis.findings} == {"staff_capacity"} and len(diagnosis.findings) == 10
    assert "no plan can place more than 8 of them" in diagnosis.findings[0].why_en
    # the whole county's bound (7-hour crew-days, the road to each firm) is tighter still
    bound = diagnosis.capacity_bound_mandatory
    assert bound is not None and bound <= 7 and diagnosis.short_of_staff == 10 - bound
    assert all(f.severity == AT_RISK for f in diagnosis.findings) and not diagnosis.ok
    week = diagnosis.capacity.set_index(["dept_id", "week"]).loc[("XF", "2026-W11")]
    assert week["due_min"] == 3000 and week["supply_min"] == 2400 and week["inspectors"] == 1


def test_capacity_pressure_is_only_at_risk(tmp_path):
    """4 × 300 min fit in the week's 2,400 but not in its paced share (max_days spread evenly):
    pressure, no finding, still ok."""
    diagnosis = diagnosed(tmp_path, capacity_tables(4))
    assert diagnosis.ok and diagnosis.findings == ()
    assert diagnosis.short_of_staff == 0
    assert [(s.dept_id, s.paced) for s in diagnosis.shortfalls if s.dept_id == "XF"] == [("XF", True)]


def test_county_total_counts_every_crew_member(tmp_path):
    """The whole county's demand counts min_inspectors × minutes per task (onsite = "sum")."""
    diagnosis = diagnosed(tmp_path, valid_tables())
    total = diagnosis.capacity[diagnosis.capacity["dept_id"] == "*"]
    week = total[total["week"] == "2026-W20"].iloc[0]  # XF-2: 45 min × 3 inspectors, 2026-05-11…22 spans W20–W21
    assert total["spread_min"].sum() == pytest.approx(90 * 2 + 45 * 3, abs=2) and week["due_min"] == 0


def test_diagnose_writes_no_files(tmp_path, monkeypatch):
    """Nothing is written: not in the working folder, not in the dataset folder."""
    write_dataset(tmp_path / "ds", valid_tables())
    dataset, scenario, calendar = inputs(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    diagnose(dataset, scenario, calendar, optional=True)
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_json_and_render(tmp_path):
    """to_json is plain JSON; render cuts each table at ``limit`` and says how many more."""
    tables = with_demands(*[key(f"H{n}", "SJ", ACME, "2026-02-15", "2026-02-23") for n in range(5)])
    diagnosis = diagnosed(tmp_path, tables)
    data = json.loads(json.dumps(to_json(diagnosis), ensure_ascii=False))
    assert (
        data["blocked"] == 5
        and not data["ok"]
        and data["counts"] == {"working_day": {BLOCKED: 5, AT_RISK: 0, "optional": 0}}
    )
    assert set(data["rules"]) == set(DIAGNOSED) and len(data["capacity"]) == len(diagnosis.capacity)
    console = Console(file=io.StringIO(), width=160)
    render(diagnosis, console, limit=2, lang="en")
    text = console.file.getvalue()
    assert "H0" in text and "H1" in text and "H4" not in text and "3 more findings" in text
    console = Console(file=io.StringIO(), width=160)
    render(diagnosis, console, limit=2, lang="zh")
    assert "另有 3 项未列出" in console.file.getvalue()


@pytest.mark.parametrize("seed", [3, 4])
def test_blocked_tasks_are_unscheduled_in_the_plan(tmp_path, seed):
    """Soundness on random tiny counties: every task diagnose calls blocked, the planner leaves out."""
    (tmp_path / "ds").mkdir()
    write_tables(generate_dataset("tiny", seed), tmp_path / "ds", ".parquet")
    dataset, scenario, calendar = inputs(tmp_path, seed=seed)
    diagnosis = diagnose(dataset, scenario, calendar, optional=True)
    unscheduled = set(make_plan(dataset, scenario, calendar).tables.unscheduled["task_id"])
    blocked = {f.task_id for f in diagnosis.findings if f.severity == BLOCKED}
    assert blocked <= unscheduled


def test_sample_county_explains_every_mandatory_task_left_out(county_baseline):
    """The sample county: the 18 mandatory tasks the plan leaves out, each with its rule — 5 windows
    of holidays only, 5 checks longer than any day, 8 beyond a yearly cap — and no other."""
    plan, dataset, scenario, _ = county_baseline
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    diagnosis = diagnose(dataset, scenario, calendar)
    unscheduled = plan.tables.unscheduled
    assert {f.task_id for f in diagnosis.blocked} == set(unscheduled.loc[unscheduled["mandatory"], "task_id"])
    assert pd.Series([f.rule for f in diagnosis.findings]).value_counts().to_dict() == {
        "cap_positive_list": 3,
        "working_day": 5,
        "day_length": 5,
        "cap_per_dept": 5,
    }
    assert not any(not s.paced for s in diagnosis.shortfalls)


def test_diagnose_and_the_plan_say_the_same_sentence(tmp_path):
    """A window of holidays only: diagnose's 原因 is the plan's unscheduled reason, word for word,
    in Chinese and in English (one message of the catalogue, ``reason.working_day``)."""
    tables = with_demands(
        key("A", "SJ", ACME, "2026-02-15", "2026-02-23"), key("B", "SJ", SHOP, "2026-03-02", "2026-03-31")
    )
    dataset, scenario, calendar = inputs(tmp_path, tables)
    (finding,) = diagnose(dataset, scenario, calendar).findings
    for lang, why in (("zh", finding.why_zh), ("en", finding.why_en)):
        unscheduled = make_plan(dataset, scenario, calendar, lang=lang).tables.unscheduled.set_index("task_id")
        assert unscheduled.loc["A", "reason"] == why and unscheduled.loc["A", "reason_code"] == finding.rule
    console = Console(file=io.StringIO(), width=160)
    render(diagnose(dataset, scenario, calendar), console, lang="zh")
    (said,) = [line for line in console.file.getvalue().splitlines() if line.lstrip().startswith("原因")]
    assert said.split(maxsplit=1)[1] == finding.why_zh == "时间窗 2026-02-15…2026-02-23 内没有法定工作日（节假日）"


#: codes an output may show in either language: rule codes, task kinds, the inputs' column and
#: scenario keys a fix names
CODES = {*DIAGNOSED, "key", "triggered", "random", "campaign", "followup", "delegable", "horizon"}


def many_rules(folder: Path):
    """The hand-written county with a finding of several rules, each in its own words."""
    tables = with_demands(
        key("A", "SJ", ACME, "2026-02-15", "2026-02-23"),  # working_day
        key("B", "SJ", ACME, "2027-03-01", "2027-03-31"),  # window
        key("C", "SJ", ACME, "2026-03-02", "2026-03-31", minutes="480"),  # day_length
        key("D", "SJ", SHOP, "2026-01-05", "2026-03-31"),  # three windows, two capped visits a year
        key("E", "SJ", SHOP, "2026-04-01", "2026-06-30"),
        key("F", "SJ", SHOP, "2026-07-06", "2026-09-30"),
        key("G", "XF", COOP, "2026-05-04", "2026-05-15", kind="triggered"),  # conflict
        key("H", "SJ", COOP, "2026-08-03", "2026-08-14"),  # quiet_days
    )
    tables["conflicts"] += [["XF001", COOP], ["XF002", COOP]]
    return diagnose(*inputs(folder, tables, extra="quiet_days = [1, 20]\n"), optional=True)


def printed(diagnosis, monkeypatch, **env: str) -> str:
    """What ``render`` prints at 80 columns with the locale variables ``env`` (the others unset)."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    console = Console(file=io.StringIO(), width=80)
    render(diagnosis, console)
    return console.file.getvalue()


def test_diagnose_speaks_the_console_language(tmp_path, monkeypatch):
    """LANG=en_US.UTF-8: no Chinese but the names of departments and enterprises; LANG unset (or
    a Chinese locale): no English word of four letters or more but codes. Over findings of six
    rules and a capacity shortfall."""
    from tests.test_language import CJK, english_words

    diagnosis = many_rules(tmp_path / "rules")
    assert {f.rule for f in diagnosis.findings} >= {
        "working_day",
        "window",
        "day_length",
        "cap_per_dept",
        "conflict",
        "quiet_days",
    }
    short = diagnosed(tmp_path / "short", capacity_tables(10))
    assert {f.rule for f in short.findings} == {"staff_capacity"} and short.shortfalls
    names = [
        "示范县市场监督管理局",
        "示范县消防救援大队",
        "示范县甲化工有限公司",
        "临江镇乙村股份经济合作社",
        "丙便利店",
    ]
    for found in (diagnosis, short):
        english = printed(found, monkeypatch, LANG="en_US.UTF-8")
        for text in (english, *(f.why_en + f.fix_en for f in found.findings)):
            for name in names:
                text = text.replace(name, "")
            assert not CJK.findall(text), text
        assert printed(found, monkeypatch, LC_ALL="en_GB.UTF-8", LANG="zh_CN.UTF-8") == english
        chinese = printed(found, monkeypatch)
        for text in (chinese, *(f.why_zh + f.fix_zh for f in found.findings)):
            assert set(english_words(text)) <= CODES, text
        assert printed(found, monkeypatch, LANG="zh_CN.UTF-8") == chinese
        assert printed(found, monkeypatch, LC_MESSAGES="C.UTF-8", LANG="en_US.UTF-8") == chinese
    english, chinese = printed(diagnosis, monkeypatch, LANG="en_US.UTF-8"), printed(diagnosis, monkeypatch)
    assert "Findings per rule" in english and "working_day: no working day in the window" in english
    assert "按规则统计" in chinese and "示范县消防救援大队可派的 2 名持证人员均与该企业存在回避关系" in chinese
    assert "人力缺口" in printed(short, monkeypatch) and "Capacity shortfalls" in printed(short, monkeypatch, LANG="en")
