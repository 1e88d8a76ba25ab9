"""Killing `planner plan` at any moment leaves nothing or a complete plan under the final name, and never harms an earlier one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from planner.demo import generate_dataset
from planner.outputs import OutputExistsError, write_folder, write_tables
from planner.verify import verify_plan

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = 'name = "t"\ndataset = "ds"\nseed = 5\n[horizon]\nstart = 2026-01-01\nend = 2026-12-31\n'
TIMEOUT_S = 120

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")


def start_plan(workdir: Path, out: Path, *extra: str, log: str | None = None) -> subprocess.Popen:
    """`python -m planner.cli plan s.toml --out OUT` in the background; stderr (the stage lines) to OUT.stderr."""
    stderr = open(out.with_name(log or out.name + ".stderr"), "wb")  # closed by the caller, with the process
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "planner.cli", "plan", "s.toml", "--out", str(out), *extra]
    # Ctrl-C as a terminal gives it: a child inherits an ignored SIGINT, and Python then keeps
    # ignoring it (a test run's worker may have been left so by an earlier test)
    process = subprocess.Popen(
        command,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    process.stderr_file = stderr  # type: ignore[attr-defined]
    return process


def partial_folders(out: Path) -> list[Path]:
    """The hidden temporary folders write_folder builds a plan in, beside its final name."""
    return sorted(out.parent.glob(f".{out.name}.*.partial"))


def stage_done(out: Path, stage: str) -> bool:
    """The run has printed the progress line of ``stage`` (so the next stage is under way)."""
    path = out.with_name(out.name + ".stderr")
    return path.exists() and any(
        line.lstrip().startswith(stage) for line in path.read_text(errors="replace").splitlines()
    )


def writing(out: Path, file: str | None = None) -> bool:
    """The temporary folder exists (and holds ``file``, when given)."""
    return any(file is None or (folder / file).exists() for folder in partial_folders(out))


def folder_hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def kill_all_when(runs: dict[str, tuple[subprocess.Popen, Callable[[], bool]]]) -> dict[str, bool]:
    """SIGKILL each run as soon as its moment comes; {name: killed before it finished on its own}."""
    killed: dict[str, bool] = {}
    deadline = time.monotonic() + TIMEOUT_S
    while len(killed) < len(runs) and time.monotonic() < deadline:
        for name, (process, moment) in runs.items():
            if name in killed:
                continue
            if process.poll() is not None:
                killed[name] = False
            elif moment():
                process.send_signal(signal.SIGKILL)
                killed[name] = True
        time.sleep(0.002)
    for process, _ in runs.values():
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr_file.close()  # type: ignore[attr-defined]
    return killed


def generated_workdir(workdir: Path, profile: str, seed: int) -> Path:
    """``workdir`` with a generated county (ds/) and its scenario (s.toml)."""
    (workdir / "ds").mkdir()
    write_tables(generate_dataset(profile, seed), workdir / "ds", ".parquet")
    (workdir / "s.toml").write_text(SCENARIO)
    return workdir


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    """A folder with a generated tiny county (ds/), its scenario (s.toml) and a finished plan (earlier/)."""
    workdir = generated_workdir(tmp_path_factory.mktemp("kill"), "tiny", 5)
    process = start_plan(workdir, workdir / "earlier")
    assert process.wait(TIMEOUT_S) == 0, (workdir / "earlier.stderr").read_text()
    process.stderr_file.close()
    return workdir


def test_sigkill_during_solve_and_while_writing(county):
    """SIGKILL while solving, as the temporary folder appears, once plan.xlsx is written and once the manifest
    is: the final name holds nothing (or, after the manifest, possibly the complete plan); the earlier plan is intact."""
    before = folder_hashes(county / "earlier")
    outs = {moment: county / f"killed-{moment}" for moment in ("solve", "tables", "workbook", "manifest")}
    runs = {
        "solve": (start_plan(county, outs["solve"]), lambda: stage_done(outs["solve"], "instance")),
        "tables": (start_plan(county, outs["tables"]), lambda: writing(outs["tables"])),
        "workbook": (start_plan(county, outs["workbook"]), lambda: writing(outs["workbook"], "plan.xlsx")),
        "manifest": (start_plan(county, outs["manifest"]), lambda: writing(outs["manifest"], "manifest.json")),
    }
    killed = kill_all_when(runs)
    assert killed["solve"] and killed["tables"] and killed["workbook"], killed
    assert not partial_folders(outs["solve"]), "killed while solving: nothing was being written yet"
    for moment in ("solve", "tables", "workbook"):
        assert not outs[moment].exists(), f"killed at {moment}: a folder appeared under the final name"
    for moment in ("tables", "workbook"):  # report.html was still to be built
        assert partial_folders(outs[moment]), "the kill came before the temporary folder was renamed"
    if outs["manifest"].exists():  # the rename won the race with the signal: then it is the whole plan
        assert verify_plan(outs["manifest"]).ok
        assert not partial_folders(outs["manifest"])
    assert folder_hashes(county / "earlier") == before
    assert verify_plan(county / "earlier").ok


def test_force_moves_the_old_plan_aside_and_a_killed_force_keeps_it(county, tmp_path):
    """--force, killed while writing, leaves the old plan in place; --force run to the end moves it aside intact."""
    kept, replaced = tmp_path / "kept", tmp_path / "replaced"
    for folder in (kept, replaced):
        shutil.copytree(county / "earlier", folder)
    for name in ("ds", "s.toml"):
        (tmp_path / name).symlink_to(county / name)
    before = folder_hashes(county / "earlier")
    killed = start_plan(tmp_path, kept, "--force")
    finished = start_plan(tmp_path, replaced, "--force", "--quiet")
    assert kill_all_when({"killed": (killed, lambda: writing(kept, "plan.xlsx"))})["killed"]
    assert finished.wait(TIMEOUT_S) == 0, (tmp_path / "replaced.stderr").read_text()
    finished.stderr_file.close()
    assert folder_hashes(kept) == before and not list(tmp_path.glob("kept.replaced-*"))
    (aside,) = tmp_path.glob("replaced.replaced-*")
    assert folder_hashes(aside) == before, "the old plan was moved aside, byte for byte"
    assert verify_plan(replaced).ok and folder_hashes(replaced) != before  # new timestamps in the manifest


def test_without_force_an_existing_plan_is_refused(county):
    """A second plan to an existing folder exits 2 and writes nothing: the folder keeps its bytes."""
    before = folder_hashes(county / "earlier")
    process = start_plan(county, county / "earlier", log="refused.stderr")
    assert process.wait(TIMEOUT_S) == 2
    process.stderr_file.close()
    assert "already exists" in (county / "refused.stderr").read_text()
    assert folder_hashes(county / "earlier") == before


def test_plan_output_names_no_inspector(county):
    """Privacy: the progress lines, warnings and summary of `planner plan` hold no inspector's name."""
    printed = (county / "earlier.stderr").read_text()
    assert "lower_bound_visits" in printed  # the summary was printed
    names = set(pd.read_parquet(county / "ds" / "inspectors.parquet")["name"])
    assert names and not [n for n in names if n in printed]


def test_write_folder_keeps_every_replaced_folder(tmp_path):
    """Two replacements within one second get two names: no earlier folder is ever overwritten."""
    out = tmp_path / "out"
    for n in range(3):
        write_folder(out, lambda folder, n=n: (folder / "n.txt").write_text(str(n)), replace=True)
    asides = sorted(tmp_path.glob("out.replaced-*"))
    assert len(asides) == 2 and {(a / "n.txt").read_text() for a in asides} == {"0", "1"}
    assert (out / "n.txt").read_text() == "2" and not partial_folders(out)
    with pytest.raises(OutputExistsError):
        write_folder(out, lambda folder: None)


def test_failed_fill_leaves_nothing(tmp_path):
    """An error while filling removes the temporary folder; the destination never appears."""

    def fill(folder: Path) -> None:
        (folder / "half.parquet").write_bytes(b"PAR1")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_folder(tmp_path / "out", fill)
    assert not (tmp_path / "out").exists() and not partial_folders(tmp_path / "out")


def test_a_second_ctrl_c_during_the_clean_up_still_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C while filling, and Ctrl-C again while the temporary folder is being removed: it is still removed."""

    def fill(folder: Path) -> None:
        (folder / "half.parquet").write_bytes(b"PAR1")
        raise KeyboardInterrupt

    remove = shutil.rmtree

    def rmtree_interrupted(path, **kwargs) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the second Ctrl-C, delivered now, in the middle of the clean-up
        remove(path, **kwargs)

    monkeypatch.setattr("planner.outputs.shutil.rmtree", rmtree_interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_folder(tmp_path / "out", fill)
    assert not (tmp_path / "out").exists() and not partial_folders(tmp_path / "out")


@pytest.fixture(scope="module")
def bigger(tmp_path_factory) -> Path:
    """A generated 1,000-enterprise county: its merge and schedule last seconds, long enough to interrupt."""
    return generated_workdir(tmp_path_factory.mktemp("interrupt"), "1k", 2026)


def interrupt_when(process: subprocess.Popen, moment: Callable[[], bool], times: int) -> None:
    """Send SIGINT ``times`` times (50 ms apart) as soon as ``moment`` comes, then wait for the end."""
    deadline = time.monotonic() + TIMEOUT_S
    while process.poll() is None and not moment() and time.monotonic() < deadline:
        time.sleep(0.002)
    for _ in range(times):
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            time.sleep(0.05)
    process.wait(TIMEOUT_S)
    process.stderr_file.close()  # type: ignore[attr-defined]


def test_ctrl_c_once_completes_the_plan_marked_interrupted(bigger):
    """Ctrl-C during the search: the search stops, the plan is completed, checked and written, marked INTERRUPTED."""
    out = bigger / "once"
    process = start_plan(bigger, out)
    interrupt_when(process, lambda: stage_done(out, "instance"), times=1)
    printed = out.with_name("once.stderr").read_text()
    assert process.returncode == 0, printed
    assert "Traceback" not in printed and "interrupted" in printed
    kpis = json.loads((out / "kpis.json").read_text())
    assert kpis["status"] == "INTERRUPTED" and kpis["exact_models_skipped"] > 0, kpis
    assert verify_plan(out).ok and not partial_folders(out)


@pytest.mark.parametrize("moment", ["solve", "writing"])
def test_ctrl_c_twice_writes_nothing(bigger, moment):
    """Ctrl-C twice (while solving, or while the plan folder is written): exit 130, no traceback, nothing written.

    The folder is written in about a second; on a machine loaded enough that the run finishes
    before both signals land, it must have written the whole plan, and the race is run again
    (three tries)."""
    for attempt in range(3):
        out = bigger / f"twice-{moment}-{attempt}"
        process = start_plan(bigger, out)
        when = (lambda o=out: stage_done(o, "instance")) if moment == "solve" else (lambda o=out: writing(o))
        interrupt_when(process, when, times=2)
        printed = out.with_name(out.name + ".stderr").read_text()
        if process.returncode != 0 or moment == "solve":
            break
        assert verify_plan(out).ok and not partial_folders(out), "finished first: then the whole plan"
    assert process.returncode == 130, printed
    assert "Traceback" not in printed and "nothing was written" in printed
    assert not out.exists() and not partial_folders(out)
