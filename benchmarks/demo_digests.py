"""Demo-data digests: the SHA-256 of every file ``planner demo-data`` writes, to prove that a change
to planner/demo.py (or its tables, planner/demo_tables/) leaves every generated dataset byte-identical.

    python benchmarks/demo_digests.py --out /tmp/demo-before.json
    python benchmarks/demo_digests.py --out /tmp/demo-after.json --compare /tmp/demo-before.json
    python benchmarks/demo_digests.py --profiles county 20k city --seeds 2026 --out /tmp/d.json

Runs ``planner demo-data`` as a user would, one process per (profile, seed, format), one at a time,
into folders under ``--work``, and hashes every file written there (the tables and, for the hard
profiles, scenario.toml). The county at seed 2026 in Parquet is what ``make sample-data`` writes:
its digests are also checked against data/sample-county (reported as the case ``data/sample-county``).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANNER = [sys.executable, "-m", "planner.cli"]
#: Every profile that generates in seconds (20k, 100k and city take longer: name them to add them).
DEFAULT_PROFILES = ["tiny", "county", "1k", "park", "q4", "tight", "short", "leave"]
DEFAULT_SEEDS = [2026, 7]
SAMPLE_CASE = "county seed 2026 parquet"  # what `make sample-data` writes to data/sample-county


def file_digests(folder: Path) -> dict[str, str]:
    """Relative name → SHA-256 of every file under ``folder``."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(p for p in folder.rglob("*") if p.is_file())
    }


def generate(profile: str, seed: int, table_format: str, out: Path) -> dict:
    """Run ``planner demo-data`` into ``out``; its exit code and, when it succeeded, its files' digests."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}  # this checkout's planner, whatever is installed
    args = ["demo-data", "--profile", profile, "--seed", str(seed), "--format", table_format, "--out", str(out)]
    done = subprocess.run([*PLANNER, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        return {"exit": done.returncode, "stderr": done.stderr[-2000:]}
    return {"exit": 0, "files": file_digests(out)}


def run_cases(profiles: list[str], seeds: list[int], formats: list[str], work: Path) -> dict[str, dict]:
    """Every (profile, seed, format) generated under ``work`` (emptied first); case → exit code and digests."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    results = {}
    for profile in profiles:
        for seed in seeds:
            for table_format in formats:
                case = f"{profile} seed {seed} {table_format}"
                results[case] = generate(profile, seed, table_format, work / f"{profile}-{seed}-{table_format}")
                print(f"{case}: exit {results[case]['exit']}", file=sys.stderr)
    return results


def differences(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """``case: file`` for every file whose digest differs (or exists on one side only), and ``case: exit``."""
    lines = []
    for case in sorted(set(before) & set(after)):
        old, new = before[case].get("files", {}), after[case].get("files", {})
        lines += [f"{case}: {name}" for name in sorted(set(old) | set(new)) if old.get(name) != new.get(name)]
        if before[case]["exit"] != after[case]["exit"]:
            lines.append(f"{case}: exit")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="*", default=DEFAULT_PROFILES)
    parser.add_argument("--seeds", nargs="*", type=int, default=DEFAULT_SEEDS)
    parser.add_argument("--formats", nargs="*", default=["parquet", "csv"], choices=["parquet", "csv", "xlsx"])
    parser.add_argument("--out", type=Path, required=True, help="JSON file of the digests")
    parser.add_argument("--compare", type=Path, help="digests of an earlier run; exit 1 if any file differs")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "planner-demo-digests",
        help="where the datasets are written (emptied first)",
    )
    args = parser.parse_args()
    results = run_cases(args.profiles, args.seeds, args.formats, args.work)
    failed = [case for case, result in results.items() if result["exit"] != 0]
    if SAMPLE_CASE in results:
        results["data/sample-county"] = {"exit": 0, "files": file_digests(ROOT / "data" / "sample-county")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
    differ = [f"{case}: exit {results[case]['exit']}" for case in failed]
    if SAMPLE_CASE in results:
        sample, generated = results["data/sample-county"]["files"], results[SAMPLE_CASE].get("files", {})
        differ += [
            f"data/sample-county: {name} (not what make sample-data writes)"
            for name in sorted(set(sample) | set(generated))
            if sample.get(name) != generated.get(name)
        ]
    if args.compare:
        differ += differences(json.loads(args.compare.read_text(encoding="utf-8")), results)
    for line in differ:
        print(f"differs: {line}")
    files = sum(len(result.get("files", {})) for result in results.values())
    print(f"{len(differ)} difference(s) over {len(results)} cases, {files} files")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
