"""planner.verify: an untouched plan verifies; any edited byte, missing or added file, or tampered table is reported."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.outputs import write_tables
from planner.pipeline import make_plan, write_plan
from planner.problems import InputError
from planner.scenario import load_scenario
from planner.verify import verify_plan
from planner.workdays import work_calendar

SCENARIO = 'name = "t"\ndataset = "ds"\nseed = 5\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'


@pytest.fixture(scope="module")
def plan_folder(tmp_path_factory) -> Path:
    """A plan of a generated tiny county, written by the pipeline (as `planner plan` writes it)."""
    return tiny_plan(tmp_path_factory.mktemp("verify"))


def tiny_plan(root: Path) -> Path:
    """Plan a generated tiny county (its dataset and scenario in ``root``) into root/plan."""
    (root / "ds").mkdir()
    write_tables(generate_dataset("tiny", 5), root / "ds", ".parquet")
    (root / "s.toml").write_text(SCENARIO)
    scenario = load_scenario(root / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    plan = make_plan(dataset, scenario, calendar)
    write_plan(plan, root / "plan", dataset, scenario, dt.datetime.now().astimezone())
    return root / "plan"


def test_same_inputs_and_seed_give_the_same_bytes(plan_folder, tmp_path):
    """A second run writes every file byte for byte the same, except the run's own facts: the stage
    timings in kpis.json and the manifest's start and finish times (and its hash of kpis.json)."""
    root = plan_folder.parent
    scenario = load_scenario(root / "s.toml")
    dataset = load_dataset(scenario.dataset)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
    write_plan(
        make_plan(dataset, scenario, calendar), tmp_path / "again", dataset, scenario, dt.datetime.now().astimezone()
    )

    def hashes(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}

    first, second = hashes(plan_folder), hashes(tmp_path / "again")
    assert first.keys() == second.keys()
    differ = sorted(name for name in first if first[name] != second[name])
    assert set(differ) <= {"kpis.json", "manifest.json"}, differ

    def kpis(folder: Path) -> dict:
        return {k: v for k, v in json.loads((folder / "kpis.json").read_text()).items() if k != "timings"}

    assert kpis(plan_folder) == kpis(tmp_path / "again")
    manifests = [json.loads((folder / "manifest.json").read_text()) for folder in (plan_folder, tmp_path / "again")]
    for manifest in manifests:
        manifest["outputs"].pop("kpis.json")
        manifest.pop("started"), manifest.pop("finished")
    assert manifests[0] == manifests[1]


@pytest.fixture
def copy(plan_folder, tmp_path) -> Path:
    """A fresh copy of the plan folder to tamper with (the dataset stays where the plan recorded it)."""
    return Path(shutil.copytree(plan_folder, tmp_path / "plan"))


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def rehash(folder: Path, name: str) -> None:
    """What a careful forger does: record the edited file's new SHA-256 in the manifest."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["outputs"][name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")


def test_untouched_plan_verifies(plan_folder):
    """A plan as written: every check runs and finds nothing."""
    result = verify_plan(plan_folder)
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
    )
    assert result.manifest_sha256 == hashlib.sha256((plan_folder / "manifest.json").read_bytes()).hexdigest()


def test_every_output_is_in_the_manifest(plan_folder):
    """The manifest hashes every file of the folder but itself: the tables, kpis.json, plan.xlsx …"""
    manifest = json.loads((plan_folder / "manifest.json").read_text(encoding="utf-8"))
    files = {p.name for p in plan_folder.iterdir()} - {"manifest.json"}
    assert set(manifest["outputs"]) == files
    assert {"kpis.json", "plan.xlsx", "draws.parquet", "visits.parquet"} <= files


PLAN_FILES = (
    "tasks.parquet",
    "visits.parquet",
    "visit_tasks.parquet",
    "crews.parquet",
    "routes.parquet",
    "unscheduled.parquet",
    "draws.parquet",
    "kpis.json",
    "draw.json",
    "plan.xlsx",
    "report.html",
)


def test_one_byte_edit_of_any_file_is_caught(copy):
    """Flipping one bit of each plan file makes verify name every one of them as edited (one run: each
    file is hashed on its own, so flipping them together shows the same as flipping one at a time)."""
    for name in PLAN_FILES:
        flip_one_byte(copy / name)
    result = verify_plan(copy)
    edited = {f.subject for f in result.errors if f.check == "outputs" and "edited" in f.message}
    assert edited == set(PLAN_FILES), sorted(set(PLAN_FILES) - edited)


def test_missing_and_added_files(copy):
    """A deleted output and an added file are both errors; Excel's lock file is only a warning."""
    (copy / "report.html").unlink()
    (copy / "extra.parquet").write_bytes(b"PAR1")
    (copy / "~$plan.xlsx").write_bytes(b"lock")
    result = verify_plan(copy)
    messages = {f.subject: (f.severity, f.message) for f in result.of("outputs")}
    assert messages["report.html"][0] == "error" and "missing" in messages["report.html"][1]
    assert messages["extra.parquet"][0] == "error" and "not in the manifest" in messages["extra.parquet"][1]
    assert messages["~$plan.xlsx"][0] == "warning"


def test_forged_table_with_a_matching_hash_breaks_the_rules(copy):
    """A visit_tasks row deleted and its new hash put in the manifest: the rule checker finds the lost task."""
    visit_tasks = pd.read_parquet(copy / "visit_tasks.parquet")
    visit_tasks.iloc[1:].to_parquet(copy / "visit_tasks.parquet", index=False)
    rehash(copy, "visit_tasks.parquet")
    result = verify_plan(copy)
    assert not result.of("outputs")
    assert any("neither placed nor unscheduled" in f.message for f in result.of("rules"))


def test_forged_draw_is_recomputed(copy):
    """A drawn enterprise swapped in draws.parquet, manifest re-hashed: the recomputed draw differs."""
    draws = pd.read_parquet(copy / "draws.parquet")
    assert draws["selected"].any() and (~draws["selected"]).any()
    draws["selected"] = ~draws["selected"]
    draws.to_parquet(copy / "draws.parquet", index=False)
    rehash(copy, "draws.parquet")
    result = verify_plan(copy)
    assert result.of("draws") and all(f.severity == "error" for f in result.of("draws"))


def test_changed_input_is_a_warning(plan_folder, tmp_path):
    """A dataset file with other bytes (same content) is reported as changed, as a warning."""
    dataset = tmp_path / "ds"
    shutil.copytree(plan_folder.parent / "ds", dataset)
    departments = pd.read_parquet(dataset / "departments.parquet")
    departments.to_parquet(dataset / "departments.parquet", index=False, compression="gzip")
    result = verify_plan(plan_folder, dataset)
    assert result.ok, result.summary()
    (changed,) = result.of("inputs")
    assert changed.severity == "warning" and changed.subject.endswith("departments.parquet")


def test_damaged_table_is_reported_not_raised(copy):
    """A table cut in half cannot be read: the hash check names it and the rule check says why it could not run."""
    path = copy / "routes.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = verify_plan(copy)
    assert {f.subject for f in result.of("outputs")} == {"routes.parquet"}
    assert "rules" not in result.checked and any("routes.parquet" in f.message for f in result.of("rules"))


def test_dataset_gone(copy, tmp_path):
    """Without the dataset only the hashes can be checked: an error says what to pass."""
    result = verify_plan(copy, tmp_path / "nowhere")
    assert not result.ok and result.checked == ("outputs",)


def test_not_a_plan_folder(tmp_path):
    """A folder without manifest.json is bad input (InputError), not a finding."""
    with pytest.raises(InputError):
        verify_plan(tmp_path)
