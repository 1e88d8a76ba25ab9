"""The results loop over a year: the annual plan, then a re-optimisation every month whose actuals
carry results (``planner demo-actuals --results``: 70 % clear, 20 % rectify, 8 % case, 2 % red line).

    python benchmarks/results_year.py                      # the sample county (about 15 minutes)
    python benchmarks/results_year.py --work /tmp/year     # keep the plans

Each step runs in a fresh process, as a coordinator would. Reported per month: the exit code and
seconds of ``planner reoptimize``, the rectify results its actuals report, and of their follow-ups
(整改复查) how many are placed, listed as unscheduled with a reason, or missing; the tasks of the
previous plan missing from the new one. At the end: ``planner verify --no-replan`` of the last plan
and ``planner credit`` on it (enterprises scored, tiers changed, red-line firms out of the sandbox
or off the positive list). Exits 1 if a step fails, a follow-up is missing or a task is lost.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
MONTHS = (
    "2026-02-02 2026-03-02 2026-04-01 2026-05-06 2026-06-01 2026-07-01 "
    "2026-08-03 2026-09-01 2026-10-09 2026-11-02 2026-12-01"
).split()


def planner(*args: str) -> tuple[int, float, str]:
    """``planner ARGS`` in a fresh process: exit code, seconds, the tail of what it printed."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "planner.cli", *args], capture_output=True, text=True, cwd=ROOT)
    return done.returncode, time.perf_counter() - started, (done.stdout + done.stderr)[-2000:]


def follow_ups(outcomes: pd.DataFrame, child: Path) -> dict[str, int]:
    """The rectify results of ``outcomes`` and what became of their follow-ups in ``child``."""
    rectify = outcomes.loc[outcomes.get("result", pd.Series(dtype=object)) == "rectify", "task_id"]
    placed = set(pd.read_parquet(child / "visit_tasks.parquet")["task_id"])
    reasons = pd.read_parquet(child / "unscheduled.parquet").set_index("task_id")["reason"]
    counts = {"rectify": len(rectify), "placed": 0, "explained": 0, "missing": 0}
    for origin in rectify:
        task = f"{origin}:整改复查"
        key = "placed" if task in placed else "explained" if str(reasons.get(task, "")).strip() else "missing"
        counts[key] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/baseline.toml")
    parser.add_argument("--work", type=Path, default=None, help="keep the plans here (default: a temporary folder)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="results-year-"))
    work.mkdir(parents=True, exist_ok=True)
    rc, seconds, said = planner("plan", args.scenario, "--out", str(work / "plan-00"), "--quiet", "--force")
    print(f"plan rc={rc} {seconds:.0f}s")
    if rc:
        print(said)
        return 1
    previous, failed = work / "plan-00", False
    for n, day in enumerate(MONTHS, start=1):
        actuals, child = work / f"actuals-{n:02d}", work / f"plan-{n:02d}"
        planner(
            "demo-actuals", str(previous), "--as-of", day, "--out", str(actuals), "--seed", str(2026 + n), "--results"
        )
        rc, seconds, said = planner(
            *("reoptimize", args.scenario, "--plan", str(previous), "--actuals", str(actuals)),
            *("--as-of", day, "--out", str(child), "--quiet"),
        )
        if rc:
            print(f"{day} rc={rc} {seconds:.0f}s\n{said}")
            return 1
        counts = follow_ups(pd.read_csv(actuals / "outcomes.csv"), child)
        lost = set(pd.read_parquet(previous / "tasks.parquet")["task_id"]) - set(
            pd.read_parquet(child / "tasks.parquet")["task_id"]
        )
        failed |= bool(counts["missing"] or lost)
        print(
            f"{day} rc=0 {seconds:.0f}s rectify {counts['rectify']}: follow-ups placed {counts['placed']}, "
            f"explained {counts['explained']}, missing {counts['missing']}; tasks lost {len(lost)}"
        )
        previous = child
    rc, seconds, said = planner("verify", str(previous), "--no-replan")
    print(f"verify rc={rc} {seconds:.0f}s {said.strip().splitlines()[-1][:200] if said.strip() else ''}")
    rc_credit, seconds, said = planner("credit", str(previous), "--out", str(work / "credit.csv"), "--force")
    print(f"credit rc={rc_credit} {seconds:.0f}s {' '.join(said.split())[:300]}")
    return int(failed or rc != 0 or rc_credit != 0)


if __name__ == "__main__":
    sys.exit(main())
