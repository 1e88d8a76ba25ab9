"""Plan digests: the SHA-256 of every file a run writes, to prove a refactor changes no plan.

    python benchmarks/digests.py --out out/digests-before.json            # the sample scenarios, tiny, 1k
    python benchmarks/digests.py --out out/digests-after.json --compare out/digests-before.json
    python benchmarks/digests.py --profiles 1k county 20k --out out/d.json   # the scale profiles too

Runs the ``planner`` command as a user would, each case in its own process: ``plan`` on every
scenario of ``scenarios/`` and on generated counties (normal and tight capacity), a
``reoptimize`` of the baseline one month in, and ``diagnose --json`` on the sample scenarios.
Every file of every plan folder is hashed except the two that hold the run's own facts
(kpis.json's stage timings, manifest.json's clock times and paths): of those the rest is hashed.
Each case runs in its own folder with relative paths (the scenarios and the sample data are
copied there first), so two checkouts in different places give the same bytes.
With ``--compare`` it lists every file whose digest differs and exits 1 if any does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's planner, whatever is installed
PLANNER = [sys.executable, "-m", "planner.cli"]


def file_digests(folder: Path) -> dict[str, str]:
    """name → SHA-256 of every file under ``folder``; kpis.json without timings, manifest.json
    without the run's clock, paths and output hashes (which the other entries already give)."""
    digests = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        data = path.read_bytes()
        if name == "kpis.json":
            data = json.dumps({k: v for k, v in json.loads(data).items() if k != "timings"}, sort_keys=True).encode()
        elif name == "manifest.json":
            manifest = json.loads(data)
            kept = {k: manifest[k] for k in ("seed", "versions") if k in manifest}
            data = json.dumps(kept, sort_keys=True).encode()
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    return subprocess.run([*PLANNER, *args], cwd=cwd, capture_output=True, text=True, env=env)


def inputs(work: Path) -> Path:
    """The scenarios and the sample data, copied under ``work`` (relative paths as in the repository)."""
    root = work / "inputs"
    if not root.exists():
        for folder in ("scenarios", "data"):
            shutil.copytree(ROOT / folder, root / folder)
    return root


def plan_case(scenario: Path, work: Path) -> dict:
    """``scenario``: relative to its run folder (the inputs, or a generated county's)."""
    out = work / "plan"
    base, scenario = scenario
    done = run(["plan", str(scenario), "--out", str(out), "--quiet"], base)
    result = {"exit": done.returncode}
    if done.returncode == 0:
        result["files"] = file_digests(out)
    else:
        result["stderr"] = done.stderr[-2000:]
    return result


def reoptimize_case(scenario: tuple[Path, Path], work: Path, as_of: str) -> dict:
    plan = work / "plan"
    base, scenario = scenario
    steps = [
        ["plan", str(scenario), "--out", str(plan), "--quiet"],
        ["demo-actuals", str(plan), "--as-of", as_of, "--out", str(work / "actuals")],
        [
            "reoptimize",
            str(scenario),
            "--plan",
            str(plan),
            "--actuals",
            str(work / "actuals"),
            "--as-of",
            as_of,
            "--out",
            str(work / "new"),
            "--quiet",
        ],
    ]
    for step in steps:
        done = run(step, base)
        if done.returncode != 0:
            return {"exit": done.returncode, "step": step[0], "stderr": done.stderr[-2000:]}
    return {"exit": 0, "files": file_digests(work / "new")}


def diagnose_case(scenario: tuple[Path, Path], work: Path) -> dict:
    base, scenario = scenario
    done = run(["diagnose", str(scenario), "--json"], base)
    return {"exit": done.returncode, "files": {"stdout": hashlib.sha256(done.stdout.encode()).hexdigest()}}


def generated(profile: str, capacity: str, work: Path) -> tuple[Path, Path]:
    """A generated county's scenario file (the bench's own, so the figures are comparable)."""
    from planner.bench import GENERATED, write_generated, write_scenario

    data = work / "data"
    if not data.exists():
        write_generated(profile, data)
    write_scenario(work / f"{capacity}.toml", data, f"generated {profile} county", GENERATED[profile][1], capacity)
    return work, Path(f"{capacity}.toml")


def cases(profiles: list[str], work: Path) -> dict[str, callable]:
    jobs = {}
    base = inputs(work)
    for scenario in sorted((base / "scenarios").glob("*.toml")):
        relative = scenario.relative_to(base)
        jobs[f"plan {scenario.name}"] = lambda w, s=relative: plan_case((base, s), w)
    for name in ("baseline.toml", "staff-cut-40.toml"):
        jobs[f"diagnose {name}"] = lambda w, s=name: diagnose_case((base, Path("scenarios") / s), w)
    jobs["reoptimize baseline.toml 2026-02-02"] = lambda w: reoptimize_case(
        (base, Path("scenarios/baseline.toml")), w, "2026-02-02"
    )
    for profile in profiles:
        for capacity in ("normal", "tight"):
            data = work / f"gen-{profile}"
            jobs[f"plan {profile} {capacity}"] = lambda w, p=profile, c=capacity, d=data: plan_case(
                generated(p, c, d), w
            )
    return jobs


def run_cases(profiles: list[str], work: Path, jobs: int, only: str | None = None) -> dict[str, dict]:
    """Every case in ``work`` (emptied first), ``jobs`` at a time; case → exit code and digests."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # the generated datasets first (each once), so that two capacities never race to write one
    for profile in profiles:
        generated(profile, "normal", work / f"gen-{profile}")
    todo = {name: job for name, job in cases(profiles, work).items() if only is None or only in name}
    folders = {name: work / f"case-{i}" for i, name in enumerate(todo)}
    for path in folders.values():
        path.mkdir()
    results = {}
    with ThreadPoolExecutor(jobs) as pool:
        futures = {name: pool.submit(job, folders[name]) for name, job in todo.items()}
        for name, future in futures.items():
            results[name] = future.result()
            print(f"{name}: exit {results[name]['exit']}", file=sys.stderr)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="*", default=["tiny", "1k"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", type=Path, help="digests of an earlier run; exit 1 if any file differs")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", help="run only the cases whose name contains this text (e.g. 20k)")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "planner-digests",
        help="where the cases run (emptied first): the same folder for runs that are compared",
    )
    args = parser.parse_args()
    results = run_cases(args.profiles, args.work, args.jobs, args.only)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
    if args.compare:
        before = json.loads(args.compare.read_text(encoding="utf-8"))
        differ = [
            f"{case}: {name}"
            for case in sorted(set(before) | set(results))
            for name in sorted(set(before.get(case, {}).get("files", {})) | set(results.get(case, {}).get("files", {})))
            if before.get(case, {}).get("files", {}).get(name) != results.get(case, {}).get("files", {}).get(name)
        ]
        differ += [
            f"{case}: exit" for case in before if case in results and before[case]["exit"] != results[case]["exit"]
        ]
        for line in differ:
            print(f"differs: {line}")
        print(f"{len(differ)} difference(s) over {len(results)} cases")
        sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
