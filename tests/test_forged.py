"""Forged plans must not verify: each forgery of issue 16, rehashed consistently in manifest.json,
is named by the check that recomputes what it changed; a signature closes what hashes cannot."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from planner.cli import app
from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.ledger import ledger_alerts, plan_ledger
from planner.model.matching import Roster, lottery
from planner.outputs import write_tables
from planner.pipeline import make_plan, write_plan
from planner.report import write_report
from planner.rules.staff_days import day_minutes
from planner.scenario import load_scenario
from planner.signing import SIGNATURE, check_signature, generate_keys, load_public_key, sign_plan
from planner.verify import verify_plan
from planner.workbook import Names, write_workbook
from planner.workdays import work_calendar

# one quarter of the tiny county: fast, with mandatory tasks placed and certified inspectors left idle
SCENARIO = 'name = "q1"\ndataset = "ds"\nseed = 5\n[horizon]\nstart = 2026-01-01\nend = 2026-03-31\n'
runner = CliRunner()


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory) -> Path:
    """A plan of a generated tiny county's first quarter, written as `planner plan` writes it."""
    return _planned(tmp_path_factory.mktemp("forged"), generate_dataset("tiny", 5))


@pytest.fixture(scope="module")
def roomy_plan_folder(tmp_path_factory) -> Path:
    """Another generated tiny county (seed 13) whose plan leaves two inspectors of a department
    with crews planned on no day at all (idle), as the old plans' seat check needs; the test says
    so when a change of the planner ends that (seed 10 did until the pace stopped rounding up)."""
    return _planned(tmp_path_factory.mktemp("roomy"), generate_dataset("tiny", 13))


def _planned(root: Path, tables: dict) -> Path:
    (root / "ds").mkdir()
    write_tables(tables, root / "ds", ".parquet")
    (root / "s.toml").write_text(SCENARIO)
    scenario = load_scenario(root / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    write_plan(make_plan(dataset, scenario, calendar), root / "plan", dataset, scenario, dt.datetime.now().astimezone())
    return root / "plan"


@pytest.fixture
def copy(plan_folder, tmp_path) -> Path:
    """A fresh copy of the plan to forge (the dataset stays where the plan recorded it)."""
    return Path(shutil.copytree(plan_folder, tmp_path / "plan"))


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> tuple[Path, Path]:
    """A signing key pair (private, public)."""
    pair = generate_keys(tmp_path_factory.mktemp("keys"))
    return pair.private_key, pair.public_key


def table(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(folder / f"{name}.parquet")


def save(folder: Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_parquet(folder / f"{name}.parquet", index=False)


def origin(folder: Path) -> Path:
    """The fixture's folder (dataset ds/ and scenario s.toml), as the plan recorded its dataset."""
    return Path(json.loads((folder / "draw.json").read_text())["dataset"]).parent


def rehash(folder: Path) -> None:
    """What a careful forger does last: every file's new SHA-256 into the manifest."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["outputs"] = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in manifest["outputs"]
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def rewrite_readables(folder: Path) -> None:
    """A thorough forger also writes the ledger, plan.xlsx and report.html again from the forged
    tables, with the planner's own writers, so that they agree with the tables byte for byte."""
    dataset = load_dataset(origin(folder) / "ds")
    frames = {n: table(folder, n) for n in ("tasks", "visits", "visit_tasks", "crews", "routes", "unscheduled")}
    frames["draws"] = table(folder, "draws")
    kpis = {k: v for k, v in json.loads((folder / "kpis.json").read_text()).items() if k != "timings"}
    manifest = json.loads((folder / "manifest.json").read_text())
    draw = json.loads((folder / "draw.json").read_text())
    horizon = tuple(dt.date.fromisoformat(manifest["scenario"]["horizon"][k]) for k in ("start", "end"))
    ledger = plan_ledger(frames, dataset.history, dataset.enterprises, horizon)  # the forged tables' ledger
    ledger.to_parquet(folder / "ledger.parquet", index=False)
    write_workbook(
        folder / "plan.xlsx",
        frames | {"ledger": ledger},
        kpis,
        Names.from_dataset(dataset),
        scenario=manifest["scenario"],
        draw_record=draw,
    )
    write_report(
        folder / "report.html",
        kpis=kpis,
        visits=frames["visits"],
        routes=frames["routes"],
        crews=frames["crews"],
        unscheduled=frames["unscheduled"],
        tasks=frames["tasks"],
        enterprises=dataset.enterprises,
        townships=dataset.townships,
        departments=dataset.departments,
        title=manifest["scenario"]["name"],
        alerts=ledger_alerts(
            ledger, manifest["scenario"], dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
        ),
    )


def errors_of(result, check: str) -> list[str]:
    return [f.message for f in result.of(check) if f.severity == "error"]


def test_untouched_plan_verifies_every_check_and_the_replan(plan_folder):
    """The plan as written passes every check, the re-plan included (same inputs, seed, versions: same bytes)."""
    result = verify_plan(plan_folder, replan=True)
    assert result.ok and result.findings == (), result.summary()
    assert result.checked == (
        "outputs",
        "inputs",
        "rules",
        "draws",
        "tasks",
        "reasons",
        "kpis",
        "workbook",
        "report",
        "seats",
        "ledger",
        "replan",
    )
    manifest = json.loads((plan_folder / "manifest.json").read_text())
    assert manifest["language"] == "zh-CN" and {"xlsxwriter", "plotly", "planner"} <= set(manifest["versions"])


def _drop_lone_mandatory_visit(folder: Path) -> tuple[str, pd.Series]:
    """Delete the only visit of a crew-day holding one key task, with its crew, route and task rows;
    returns the task and its row of tasks.parquet. The hard rules have nothing left to object to."""
    visits, visit_tasks = table(folder, "visits"), table(folder, "visit_tasks")
    crews, routes = table(folder, "crews"), table(folder, "routes")
    per_crew_day = visits.groupby(["crew_id", "date"])["visit_id"].transform("size")
    lone = visits[(per_crew_day == 1) & (visits["n_tasks"] == 1)]
    key = visit_tasks[visit_tasks["visit_id"].isin(lone["visit_id"]) & (visit_tasks["kind"] == "key")]
    assert len(key), "the fixture plan has a crew-day whose one visit holds one key task"
    task_id, visit_id = key.iloc[0]["task_id"], key.iloc[0]["visit_id"]
    visit = visits[visits["visit_id"] == visit_id].iloc[0]
    save(folder, "visits", visits[visits["visit_id"] != visit_id])
    save(folder, "visit_tasks", visit_tasks[visit_tasks["visit_id"] != visit_id])
    save(folder, "routes", routes[routes["visit_id"] != visit_id])
    save(folder, "crews", crews[~((crews["crew_id"] == visit["crew_id"]) & (crews["date"] == visit["date"]))])
    tasks = table(folder, "tasks")
    return task_id, tasks[tasks["task_id"] == task_id].iloc[0]


def _unschedule(folder: Path, task: pd.Series, reason: str, mandatory: bool, code: str | None = None) -> None:
    unscheduled = table(folder, "unscheduled")
    row = {"task_id": task["task_id"], "kind": task["kind"], "dept_id": task["dept_id"], "uscc": task["uscc"]}
    row |= {"reason_code": code} if code else {}
    save(
        folder,
        "unscheduled",
        pd.concat([unscheduled, pd.DataFrame([row | {"reason": reason, "mandatory": mandatory}])]),
    )


def test_mandatory_task_unscheduled_with_an_invented_reason(copy):
    """A key task's visit deleted and the task moved to unscheduled with mandatory=False and an invented
    reason: the hard rules pass, but `mandatory` recomputed from the kind and the reason's category do not."""
    task_id, task = _drop_lone_mandatory_visit(copy)
    _unschedule(copy, task, "企业申请延期检查", mandatory=False)
    rehash(copy)
    result = verify_plan(copy)
    assert not result.of("rules") and not result.of("outputs"), result.summary()
    assert any(task_id in m and "mandatory is False" in m for m in errors_of(result, "tasks")), result.summary()
    assert any(task_id in m and "not one the rulebook knows" in m for m in errors_of(result, "reasons"))
    assert errors_of(result, "kpis") and errors_of(result, "workbook") and errors_of(result, "report")


def test_mandatory_task_unscheduled_with_a_false_no_day_reason(copy):
    """The same, with `mandatory` kept and the planner's own "no working day" sentence: the task's possible
    days are recomputed, and it has some; kpis.json and the readables rewritten to match do not help."""
    task_id, task = _drop_lone_mandatory_visit(copy)
    window = f"{task['window_start']}…{task['window_end']}"
    _unschedule(copy, task, f"时间窗 {window} 内没有法定工作日（节假日）", mandatory=True, code="working_day")
    kpis = json.loads((copy / "kpis.json").read_text())
    kpis |= {"visits": kpis["visits"] - 1, "objective": kpis["visits"] - 1}
    (copy / "kpis.json").write_text(json.dumps(kpis))
    rewrite_readables(copy)
    rehash(copy)
    result = verify_plan(copy)
    assert any(task_id in m and "it has possible working days" in m for m in errors_of(result, "reasons"))
    assert not errors_of(result, "tasks") and not errors_of(result, "workbook") and not errors_of(result, "report")


def test_kpis_figures_edited(copy):
    """kpis.json's visits and joint rate changed: the figures are recomputed from the tables."""
    kpis = json.loads((copy / "kpis.json").read_text())
    kpis |= {"visits": 1, "joint_visit_rate": 0.99, "joint_inspection_rate": 0.99, "joint_random_rate_strict": 0.01}
    kpis |= {"joint_task_rate": 0.99, "disturbance_saved_joint": 9999}
    (copy / "kpis.json").write_text(json.dumps(kpis, ensure_ascii=False, indent=2))
    rehash(copy)
    result = verify_plan(copy)
    found = errors_of(result, "kpis")
    assert any(m.startswith("visits is 1;") for m in found), result.summary()
    for key in ("joint_visit_rate", "joint_inspection_rate", "joint_random_rate_strict", "joint_task_rate"):
        assert any(m.startswith(f"{key} is 0.99;") or m.startswith(f"{key} is 0.01;") for m in found), key
    assert any(m.startswith("disturbance_saved_joint is 9999;") for m in found)
    assert not result.of("rules") and not result.of("tasks")


@pytest.mark.parametrize("column", ["日期", "企业名称"])
def test_workbook_cell_edited(copy, column):
    """A date or an enterprise edited in plan.xlsx: the workbook written again from the tables differs there."""
    workbook = load_workbook(copy / "plan.xlsx")
    sheet = workbook["检查计划"]
    header = [cell.value for cell in sheet[1]]
    assert column in header, header
    cell = sheet.cell(row=2, column=header.index(column) + 1)
    cell.value = dt.datetime(2026, 3, 31) if column == "日期" else "某某伪造有限公司"
    workbook.save(copy / "plan.xlsx")
    rehash(copy)
    result = verify_plan(copy)
    (finding,) = errors_of(result, "workbook")
    assert "检查计划" in finding, finding
    assert not result.of("report") and not result.of("kpis")


def test_report_edited(copy):
    """One figure of report.html changed: the report written again from the tables differs."""
    page = (copy / "report.html").read_text(encoding="utf-8")
    visits = json.loads((copy / "kpis.json").read_text())["visits"]
    edited = page.replace(f">{visits}<", ">1<", 1)
    assert edited != page
    (copy / "report.html").write_text(edited, encoding="utf-8")
    rehash(copy)
    result = verify_plan(copy)
    assert errors_of(result, "report") and not result.of("workbook"), result.summary()


def _eligible_swaps(folder: Path, idle_only: bool):
    """(crews row index, replacement) pairs where the replacement may take the member's seat by every
    hard rule: same department, certified, free and not on leave that day, no conflict, a long enough day."""
    scenario = load_scenario(origin(folder) / "s.toml")
    dataset = load_dataset(origin(folder) / "ds")
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    roster = Roster.from_dataset(dataset, len(calendar), scenario.planned_share)
    crews, visits = table(folder, "crews"), table(folder, "visits")
    busy_on = crews.groupby("date")["inspector_id"].agg(set).to_dict()
    planned = set(crews["inspector_id"])
    for index, member in crews.iterrows():
        day = pd.Timestamp(member["date"]).date()
        route = set(visits.loc[(visits["crew_id"] == member["crew_id"]) & (visits["date"] == member["date"]), "uscc"])
        length = member["day_end_min"] - member["day_start_min"]
        for person, dept in sorted(roster.dept_of.items()):
            if (
                dept == member["dept_id"]
                and person not in busy_on[member["date"]]
                and (person not in planned) == idle_only
                and day not in roster.leave.get(person, ())
                and not roster.conflicts.get(person, frozenset()) & route
                and day_minutes(roster.hours_per_day[person]) >= length
                and roster.delegations[member["inspector_id"]] <= roster.delegations[person]
            ):
                yield index, person, roster, scenario.seed, day


def _swap(folder: Path, index: int, person: str, seed: int, day: dt.date) -> None:
    crews = table(folder, "crews")
    crews.loc[index, ["inspector_id", "lottery"]] = [person, lottery(seed, day, person)]
    save(folder, "crews", crews)
    rewrite_readables(folder)
    rehash(folder)


def test_crew_member_swapped_is_found_by_the_replan(copy):
    """A member swapped for another eligible inspector (planned on other days), with the right lottery
    number and the readables rewritten: no hard rule breaks; the re-plan's 随机选派 names the crew."""
    index, person, *_, seed, day = next(_eligible_swaps(copy, idle_only=False))
    crew_id = table(copy, "crews").loc[index, "crew_id"]
    _swap(copy, index, person, seed, day)
    result = verify_plan(copy, replan=True)
    assert not result.of("rules") and not result.of("outputs"), result.summary()
    assert any(crew_id in m and person in m and "re-planning" in m for m in errors_of(result, "seats"))


def _idle_swap_past_a_smaller_number(folder: Path):
    """A swap of a member for an idle inspector while another idle inspector of the department, at
    least as eligible, drew a smaller number that day; None if the plan has no such pair."""
    planned = set(table(folder, "crews")["inspector_id"])
    for index, person, roster, seed, day in _eligible_swaps(folder, idle_only=True):
        last = set().union(*roster.last_inspectors.values())  # kept off on purpose: not idle
        for other, dept in roster.dept_of.items():
            if (
                dept == roster.dept_of[person]
                and other != person
                and other not in planned
                and other not in last
                and day not in roster.leave.get(other, ())
                and day_minutes(roster.hours_per_day[other]) >= day_minutes(roster.hours_per_day[person])
                and roster.delegations[person] <= roster.delegations[other]
                and roster.conflicts.get(other, frozenset()) <= roster.conflicts.get(person, frozenset())
                and lottery(seed, day, other) < lottery(seed, day, person)
            ):
                return index, person, seed, day
    return None


def _without_lottery_record(folder: Path) -> None:
    """The plan as written before plans had a lottery record (seats.parquet)."""
    (folder / "seats.parquet").unlink()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    del manifest["outputs"]["seats.parquet"]
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def test_seat_given_past_an_idle_inspector_with_a_smaller_number(roomy_plan_folder, tmp_path):
    """A plan written before the lottery record: a member swapped for an idle inspector while another
    idle one of the department, as eligible, drew a smaller number: the seat matching would have
    chosen that one — found without re-planning."""
    copy = Path(shutil.copytree(roomy_plan_folder, tmp_path / "plan"))
    swap = _idle_swap_past_a_smaller_number(copy)
    assert swap is not None, "the roomy fixture plan has a department with crews and two idle inspectors"
    index, person, seed, day = swap
    _without_lottery_record(copy)
    _swap(copy, index, person, seed, day)
    result = verify_plan(copy)
    assert not result.of("rules"), result.summary()
    assert any(person in m and "free that day and planned on no day at all" in m for m in errors_of(result, "seats")), (
        person,
        errors_of(result, "seats"),
        result.summary(),
    )


def test_crew_member_swapped_is_found_by_the_lottery_record(copy):
    """The swap of the re-plan's test, verified without re-planning: the round of the lottery record
    that filled the crew-day, replayed through the seat matching, gives the member swapped out."""
    index, person, *_, seed, day = next(_eligible_swaps(copy, idle_only=False))
    crews = table(copy, "crews")
    crew_id, gone = crews.loc[index, "crew_id"], crews.loc[index, "inspector_id"]
    _swap(copy, index, person, seed, day)
    result = verify_plan(copy)
    assert not result.of("rules") and not result.of("outputs"), result.summary()
    found = errors_of(result, "seats")
    assert any(crew_id in m and "lottery record" in m and gone in m and person in m for m in found), found


def _round_of(record: pd.DataFrame, crew_id: str) -> pd.DataFrame:
    return record[record["round"] == record.loc[record["crew_id"] == crew_id, "round"].iloc[0]]


def test_lottery_record_rewritten_to_hide_a_swap(copy):
    """A forger swaps a member and takes the member out of every candidate list of that round, so
    that the round replayed gives the newcomer: rebuilt from the rounds before it, the record
    lacks an inspector who was free and eligible."""
    index, person, *_, seed, day = next(_eligible_swaps(copy, idle_only=False))
    crews, record = table(copy, "crews"), table(copy, "seats")
    crew_id, gone = crews.loc[index, "crew_id"], crews.loc[index, "inspector_id"]
    for r in _round_of(record, crew_id).index:
        pairs = [(p, d) for p, d in zip(record.at[r, "eligible"], record.at[r, "days_before"]) if p != gone]
        if record.at[r, "crew_id"] == crew_id and person not in [p for p, _ in pairs]:
            pairs.append((person, 0))
        record.at[r, "eligible"] = [p for p, _ in pairs]
        record.at[r, "days_before"] = [d for _, d in pairs]
    save(copy, "seats", record)
    _swap(copy, index, person, seed, day)
    result = verify_plan(copy)
    assert not result.of("rules"), result.summary()
    found = errors_of(result, "seats")
    assert any(gone in m and "free and eligible but is not among the candidates" in m for m in found), found


def test_lottery_record_days_edited(copy):
    """A candidate's planned days before a round inflated (to push the draw to another): the rounds
    before it give the true count."""
    record = table(copy, "seats")
    late = record[record["days_before"].map(len) > 0].index[-1]
    record.at[late, "days_before"] = [d + 1 for d in record.at[late, "days_before"]]
    save(copy, "seats", record)
    rehash(copy)
    result = verify_plan(copy)
    found = errors_of(result, "seats")
    assert any("planned days before it" in m for m in found), found


@pytest.mark.parametrize("damage", ["column dropped", "days not numbers"])
def test_lottery_record_damaged_is_named_not_a_traceback(copy, damage):
    """A lottery record without a column, or with day counts that are not numbers: the seats check
    names seats.parquet and what is wrong with it."""
    record = table(copy, "seats")
    if damage == "column dropped":
        record = record.drop(columns=["eligible"])
    else:
        record["days_before"] = [["x"] * len(e) for e in record["eligible"]]
    save(copy, "seats", record)
    rehash(copy)
    result = verify_plan(copy)
    found = [f for f in result.of("seats") if f.severity == "error"]
    assert found and all(f.subject == "seats.parquet" for f in found), result.summary()
    want = "eligible" if damage == "column dropped" else "cannot be replayed"
    assert any(want in f.message for f in found), result.summary()


def test_lottery_value_edited(copy):
    """One member's lottery number changed (readables rewritten to match): recomputed from seed, date and id."""
    crews = table(copy, "crews")
    crews.loc[0, "lottery"] = (int(crews.loc[0, "lottery"]) + 1) % 10**6
    save(copy, "crews", crews)
    rewrite_readables(copy)
    rehash(copy)
    result = verify_plan(copy)
    assert any("lottery number" in m for m in errors_of(result, "seats")), result.summary()
    assert not result.of("rules") and not result.of("workbook")


def test_other_planner_version_is_a_warning_not_tampering(copy):
    """A plan written by another release: plan.xlsx and report.html are not compared byte for byte (a
    warning each), so that a later release can still verify an older plan's tables."""
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["versions"]["planner"] = "0.0.1"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = verify_plan(copy)
    assert result.ok, result.summary()
    assert [f.severity for f in result.of("workbook") + result.of("report")] == ["warning", "warning"]


# ---------------------------------------------------------------- signing


def test_keygen_writes_a_private_key_only_its_owner_reads(keys, tmp_path):
    """The private key is mode 0600, the public key plain PEM; existing key files are never replaced."""
    private, public = keys
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    result = runner.invoke(app, ["keygen", "--out", str(private.parent)])
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_signed_plan_verifies_with_its_key(copy, keys):
    """sign, then verify with the public key: the signature check passes, and manifest.sig is no added file."""
    private, public = keys
    sign_plan(copy, private)
    result = verify_plan(copy, pubkey=public)
    assert result.ok and result.findings == (), result.summary()
    assert "signature" in result.checked
    unsigned = verify_plan(copy)  # without the key: a reminder that a signature is there to check
    assert [(f.check, f.severity) for f in unsigned.findings] == [("signature", "warning")]


def test_signature_fails_with_another_key_or_an_edited_manifest(copy, keys, tmp_path):
    """Another key, or kpis.json forged and its hash rewritten in the signed manifest: the signature says so."""
    private, public = keys
    sign_plan(copy, private)
    other = generate_keys(tmp_path / "other").public_key
    (wrong,) = check_signature(copy, load_public_key(other))
    assert "another key" in wrong
    kpis = json.loads((copy / "kpis.json").read_text())
    (copy / "kpis.json").write_text(json.dumps(kpis | {"visits": 1}))
    rehash(copy)
    (edited,) = check_signature(copy, load_public_key(public))
    assert "edited after it was signed" in edited
    (copy / SIGNATURE).unlink()
    (unsigned,) = check_signature(copy, load_public_key(public))
    assert "not signed" in unsigned


def test_sign_and_verify_commands(copy, keys, tmp_path):
    """The CLI: sign exits 0; verify --pubkey exits 0 with the right key, 1 with another or without a
    signature; a key file that is not a key, or signing a folder whose files changed, is exit 2."""
    private, public = keys
    other = generate_keys(tmp_path / "other")
    unsigned = runner.invoke(app, ["verify", str(copy), "--pubkey", str(public), "--no-replan"])
    assert unsigned.exit_code == 1 and "not signed" in unsigned.stderr
    signed = runner.invoke(app, ["sign", str(copy), "--key", str(private)])
    assert signed.exit_code == 0, signed.output
    assert (copy / SIGNATURE).is_file()
    again = runner.invoke(app, ["sign", str(copy), "--key", str(private)])
    assert again.exit_code == 2 and "already exists" in again.stderr
    good = runner.invoke(app, ["verify", str(copy), "--pubkey", str(public), "--no-replan"])
    assert good.exit_code == 0 and "verified" in good.stdout, good.output
    bad = runner.invoke(app, ["verify", str(copy), "--pubkey", str(other.public_key), "--no-replan"])
    assert bad.exit_code == 1 and "another key" in bad.stderr
    not_a_key = runner.invoke(app, ["verify", str(copy), "--pubkey", str(private), "--no-replan"])
    assert not_a_key.exit_code == 2 and "private key" in not_a_key.stderr and "Traceback" not in not_a_key.output
    (copy / "report.html").write_text("edited", encoding="utf-8")
    refused = runner.invoke(app, ["sign", str(copy), "--key", str(private), "--force"])
    assert refused.exit_code == 2 and "report.html" in refused.stderr
