"""检查通知书 and 一表通查 on a real plan: one .docx per visit, read back, each check point once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pandas as pd
import pytest
from typer.testing import CliRunner

from planner.checklist import point_key, visit_checklists
from planner.cli import app
from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.notices import chinese_date, write_notices
from planner.outputs import sha256_file, write_tables
from planner.pipeline import make_plan, write_plan
from planner.scenario import load_scenario
from planner.workdays import work_calendar

runner = CliRunner()
#: two months of the tiny demo county: a real plan with joint visits, planned in seconds
SCENARIO = 'name = "notices"\ndataset = "ds"\nseed = 3\n[horizon]\nstart = 2026-03-01\nend = 2026-04-30\n'


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    """(plan folder, dataset) of the tiny demo county with its items catalogue, planned for March–April."""
    root = tmp_path_factory.mktemp("notices")
    (root / "ds").mkdir()
    write_tables(generate_dataset("tiny", 3), root / "ds", ".parquet")
    (root / "s.toml").write_text(SCENARIO)
    scenario = load_scenario(root / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    write_plan(plan, root / "plan", dataset, scenario, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    return root / "plan", dataset


def _visits(plan_dir: Path) -> pd.DataFrame:
    visits = pd.read_parquet(plan_dir / "visits.parquet")
    return visits.assign(date=pd.to_datetime(visits["date"]).dt.date)


def test_no_check_point_twice_in_any_visit(county):
    """Every visit's checklist lists each point once, and every department of the visit relies on some row."""
    plan_dir, dataset = county
    visit_tasks = pd.read_parquet(plan_dir / "visit_tasks.parquet")
    rows = visit_checklists(visit_tasks, dataset.items)
    assert set(rows["visit_id"]) == set(visit_tasks["visit_id"]) and rows["catalogued"].all()
    keys = rows["check_point"].map(point_key)
    assert not pd.DataFrame({"v": rows["visit_id"], "k": keys}).duplicated().any()
    relied = {(v, d) for v, ids in zip(rows["visit_id"], rows["dept_ids"]) for d in ids.split(";")}
    assert relied == set(zip(visit_tasks["visit_id"], visit_tasks["dept_id"]))
    assert (rows["n_depts"] > 1).any(), "the tiny county's joint visits share no check point"


def test_notices_write_one_docx_per_visit_in_range(county, tmp_path):
    """planner notices --from --to: one .docx per visit in the dates, an index row each, nothing else."""
    plan_dir, _ = county
    visits = _visits(plan_dir)
    start = sorted(visits["date"])[len(visits) // 3]
    end = start + dt.timedelta(days=14)
    chosen = visits[(visits["date"] >= start) & (visits["date"] <= end)]
    assert 0 < len(chosen) < len(visits)
    out = tmp_path / "notices"
    result = runner.invoke(
        app, ["notices", str(plan_dir), "--out", str(out), "--from", start.isoformat(), "--to", end.isoformat()]
    )
    assert result.exit_code == 0, result.output
    documents = sorted(p.name for p in out.glob("*.docx"))
    assert documents == sorted(f"{d.isoformat()}-{c}.docx" for d, c in zip(chosen["date"], chosen["visit_code"]))
    assert result.stdout.split() == [str(out / name) for name in pd.read_csv(out / "notices.csv")["文件"]]
    index = pd.read_csv(out / "notices.csv", dtype=str, encoding="utf-8-sig")
    assert set(index["检查编号"]) == set(chosen["visit_id"])
    assert all(sha256_file(out / f) == h for f, h in zip(index["文件"], index["SHA-256"]))
    checklist = pd.read_csv(out / "checklist.csv", dtype=str, encoding="utf-8-sig")
    assert set(checklist["检查编号"]) == set(chosen["visit_id"])


def test_a_notice_reads_back_with_enterprise_date_crew_and_items(county, tmp_path):
    """python-docx reads the joint visit's notice: enterprise, date, crew with 执法证号, items, legal basis, code."""
    plan_dir, dataset = county
    visits = _visits(plan_dir)
    visit = visits.loc[visits["dept_ids"].map(len).idxmax()]
    assert len(visit["dept_ids"]) > 1
    write_notices(plan_dir, tmp_path / "n", start=visit["date"], end=visit["date"])
    document = docx.Document(str(tmp_path / "n" / f"{visit['date'].isoformat()}-{visit['visit_code']}.docx"))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)

    firm = dataset.enterprises.set_index("uscc").loc[visit["uscc"]]
    assert firm["name"] in text and visit["uscc"] in cells and chinese_date(visit["date"]) in text
    crews = pd.read_parquet(plan_dir / "crews.parquet")
    members = crews[(crews["crew_id"] == visit["crew_id"])]["inspector_id"]
    roster = dataset.inspectors.set_index("inspector_id")
    for person in members:
        assert roster.loc[person, "name"] in cells and roster.loc[person, "cert_no"] in cells
    tasks = pd.read_parquet(plan_dir / "visit_tasks.parquet")
    catalogue = dataset.items.set_index(["dept_id", "item"])
    for dept, item in zip(*tasks[tasks["visit_id"] == visit["visit_id"]][["dept_id", "item"]].T.values):
        assert item in cells and catalogue.loc[(dept, item), "legal_basis"] in cells
    assert visit["visit_code"] in text and "申请回避" in text and "执法证件" in text
    names = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
    assert all(names[d] in text for d in visit["dept_ids"])
    own = set(crews[crews["crew_id"] == visit["crew_id"]]["dept_id"])
    assert ("委托查" in text) == bool(set(visit["dept_ids"]) - own)  # a department without its own officer


def test_notices_are_the_same_bytes_and_declare_a_chinese_font(county, tmp_path):
    """Written twice, every notice has the same bytes; the body's East Asian font is 宋体."""
    plan_dir, _ = county
    end = min(_visits(plan_dir)["date"]) + dt.timedelta(days=7)
    first = write_notices(plan_dir, tmp_path / "a", end=end)
    write_notices(plan_dir, tmp_path / "b", end=end)
    for name in (*first.files, "notices.csv", "checklist.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    styles = zipfile.ZipFile(io.BytesIO((tmp_path / "a" / first.files[0]).read_bytes())).read("word/styles.xml")
    assert 'w:eastAsia="宋体"'.encode() in styles


def test_reversed_dates_an_empty_range_or_an_existing_folder_exit_2(county, tmp_path):
    """--to before --from, a range without visits and an existing --out: exit 2, nothing written."""
    plan_dir, _ = county
    for args, said in (
        (["--from", "2026-04-01", "--to", "2026-03-01"], "is before --from"),
        (["--from", "2026-12-01"], "no visit from 2026-12-01"),
    ):
        result = runner.invoke(app, ["notices", str(plan_dir), "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2 and said in result.stderr, result.output
        assert not (tmp_path / "x").exists()
    (tmp_path / "x").mkdir()
    result = runner.invoke(app, ["notices", str(plan_dir), "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "already exists" in result.stderr


def test_checklist_command_prints_each_visit_checklist(county):
    """planner checklist prints CSV: one row per point of each visit in range, with departments' names."""
    plan_dir, dataset = county
    visits = _visits(plan_dir)
    start = min(visits["date"])
    end = start + dt.timedelta(days=6)
    result = runner.invoke(app, ["checklist", str(plan_dir), "--from", start.isoformat(), "--to", end.isoformat()])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(io.StringIO(result.stdout), dtype=str)
    assert {"检查要点", "涉及部门", "对应检查事项", "检查依据"} <= set(rows.columns)
    week = visits[(visits["date"] >= start) & (visits["date"] <= end)]
    assert set(rows["检查编号"]) == set(week["visit_id"])
    assert not rows.duplicated(["检查编号", "检查要点"]).any()
    assert set(rows["涉及部门"].str.split("、").explode()) <= set(dataset.departments["name"])


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_notice_opens_in_libreoffice(county, tmp_path):
    """LibreOffice converts a notice to PDF: the file opens."""
    plan_dir, _ = county
    result = write_notices(plan_dir, tmp_path / "n", end=min(_visits(plan_dir)["date"]))
    done = subprocess.run(
        [
            "soffice",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            str(result.out / result.files[0]),
        ],
        capture_output=True,
        timeout=120,
    )
    pdf = tmp_path / "pdf" / (Path(result.files[0]).stem + ".pdf")
    assert done.returncode == 0 and pdf.read_bytes().startswith(b"%PDF"), done.stderr


def test_markup_and_control_characters_in_names_stay_text(county, tmp_path):
    """A name with <, & and an escape character gives a valid notice showing the name's text; the index quotes '='."""
    plan_dir, dataset = county
    visits = _visits(plan_dir)
    first = visits.sort_values(["date", "start_min"]).iloc[0]
    hostile = "=HYPERLINK(1)<b>&\x1b甲公司"
    firms = dataset.enterprises.assign(
        name=dataset.enterprises["name"].where(dataset.enterprises["uscc"] != first["uscc"], hostile)
    )
    result = write_notices(plan_dir, tmp_path / "n", dataclasses.replace(dataset, enterprises=firms), end=first["date"])
    document = docx.Document(str(result.out / result.files[0]))
    assert "=HYPERLINK(1)<b>&甲公司：" in [p.text for p in document.paragraphs]
    index = pd.read_csv(result.out / "notices.csv", dtype=str, encoding="utf-8-sig")
    assert "'=HYPERLINK(1)<b>&\x1b甲公司" in set(index["企业名称"])
