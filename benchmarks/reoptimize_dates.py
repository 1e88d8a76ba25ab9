"""月会商 at every month: re-optimise counties at each first working day of a month and at random dates.

    python benchmarks/reoptimize_dates.py                                    # the sample county
    python benchmarks/reoptimize_dates.py --profiles q4 leave --random 10    # and generated counties
    python benchmarks/reoptimize_dates.py --dates 2026-03-02 2026-07-01 --work /tmp/reopt

Each county is planned once (``planner plan``); then for every date, as a coordinator would:
``planner demo-actuals`` (3 % of the tasks before the date failed, 1 % cancelled, a firm closed,
50 new complaints, 5 inspectors on leave inside the freeze window), ``planner reoptimize`` and
``planner verify`` in fresh processes. One line per date: the exit code, the seconds the
re-optimisation took, whether verify passed, the visits released (in the freeze window), the urgent
tasks, and the breaches of what must stand (``planner.actuals.lineage_findings``: nothing before
as-of changes, codes included; no frozen visit gains work or moves; planned work never enters the
freeze window; every changes.parquet row has a reason). Exits 1 if any date fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from planner.actuals import lineage_findings
from planner.bench import machine
from planner.export import read_plan_folder
from planner.scenario import load_scenario
from planner.workdays import work_calendar

PLANNER = str(Path(sys.executable).with_name("planner"))
SAMPLE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"


def run(*args: str) -> tuple[int, float, str]:
    """A planner command in a fresh process: exit code, wall seconds, its stderr's last lines."""
    clock = time.perf_counter()
    done = subprocess.run([PLANNER, *args], capture_output=True, text=True)
    return done.returncode, time.perf_counter() - clock, "\n".join(done.stderr.strip().splitlines()[-3:])


def first_working_days(scenario_file: Path) -> tuple[list[dt.date], tuple[dt.date, ...]]:
    """The first working day of each month of the horizon, and every working day."""
    scenario = load_scenario(scenario_file)
    calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, {})
    firsts: dict[tuple[int, int], dt.date] = {}
    for day in calendar.workdays:
        firsts.setdefault((day.year, day.month), day)
    return sorted(firsts.values()), calendar.workdays


def county(name: str, scenario: Path, work: Path, dates: list[dt.date] | None, n_random: int, seed: int, freeze: int):
    """Plan the county once, then re-optimise it at each date; yields one result per date."""
    plan = work / name / "plan"
    if not (plan / "manifest.json").exists():
        code, seconds, tail = run("plan", str(scenario), "--out", str(plan), "-q")
        print(f"{name}: planned in {seconds:.0f} s (exit {code})", file=sys.stderr, flush=True)
        if code != 0:
            raise SystemExit(f"{name}: planner plan failed: {tail}")
    firsts, workdays = first_working_days(scenario)
    if dates is None:
        rng = np.random.default_rng(seed)
        others = [d for d in workdays if d not in firsts]
        picks = rng.choice(len(others), size=min(n_random, len(others)), replace=False)
        dates = firsts + sorted(others[int(i)] for i in picks)
    parent = read_plan_folder(plan).tables
    for as_of in dates:
        actuals, out = work / name / f"actuals-{as_of}", work / name / f"plan-{as_of}"
        if not actuals.exists():
            run("demo-actuals", str(plan), "--as-of", as_of.isoformat(), "--out", str(actuals))
        row = {"county": name, "as_of": as_of.isoformat()}
        if out.exists():
            shutil.rmtree(out)  # this script's own earlier run
        code, seconds, tail = run(
            "reoptimize", str(scenario), "--plan", str(plan), "--actuals", str(actuals),
            "--as-of", as_of.isoformat(), "--out", str(out), "--freeze-days", str(freeze), "-q",
        )  # fmt: skip
        row |= {"exit": code, "seconds": round(seconds, 1)}
        if code != 0:
            yield row | {"error": tail}
            continue
        verified, _, verify_tail = run("verify", str(out))
        child = read_plan_folder(out).tables
        kpis = json.loads((out / "kpis.json").read_text(encoding="utf-8"))["reoptimisation"]
        breaches = lineage_findings(parent, child, as_of, freeze, pd.read_parquet(out / "changes.parquet"))
        row |= {
            "verify": verified == 0,
            "released": kpis.get("visits_released"),
            "frozen_released": kpis.get("frozen_visits_released"),
            "urgent": kpis.get("urgent_tasks"),
            "breaches": len(breaches),
            "first_breaches": breaches[:3],
        }
        if verified != 0:
            row["verify_tail"] = verify_tail
        yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--county", type=Path, default=SAMPLE, help="a scenario file (default: the sample county)")
    parser.add_argument("--no-county", action="store_true", help="only the generated profiles")
    parser.add_argument("--profiles", nargs="*", default=[], help="generated profiles (planner demo-data --profile)")
    parser.add_argument("--dates", nargs="*", type=dt.date.fromisoformat, help="these dates instead of the months")
    parser.add_argument("--random", type=int, default=10, help="random working days besides the months")
    parser.add_argument("--seed", type=int, default=17, help="seed of the random dates")
    parser.add_argument("--freeze-days", type=int, default=14)
    parser.add_argument("--work", type=Path, help="keep plans and actuals here (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="write every row here")
    args = parser.parse_args()

    counties = [] if args.no_county else [("sample", args.county)]
    rows, failed = [], False
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        for profile in args.profiles:
            data = work / profile / "data"
            if not (data / "scenario.toml").exists():
                code, seconds, tail = run("demo-data", "--profile", profile, "--out", str(data), "--force")
                if code != 0:
                    raise SystemExit(f"{profile}: demo-data failed: {tail}")
            counties.append((profile, data / "scenario.toml"))
        print(json.dumps(machine()), file=sys.stderr)
        for name, scenario in counties:
            for row in county(name, scenario, work, args.dates, args.random, args.seed, args.freeze_days):
                rows.append(row)
                bad = row["exit"] != 0 or not row.get("verify") or row.get("breaches")
                failed |= bool(bad)
                print(
                    f"{row['county']:8} {row['as_of']}  exit {row['exit']}  {row['seconds']:6.1f} s  "
                    f"verify {'ok' if row.get('verify') else 'FAILED'}  released {row.get('released')} "
                    f"(frozen {row.get('frozen_released')})  urgent {row.get('urgent')}  "
                    f"breaches {row.get('breaches')}"
                    + (f"  {row.get('error') or row['first_breaches']}" if bad else ""),
                    flush=True,
                )
    table = pd.DataFrame(rows)
    if len(table):
        ok = table[table["exit"] == 0]
        print(
            f"\n{len(table)} re-optimisations: {int((table['exit'] == 0).sum())} exit 0, "
            f"{int(table.get('verify', pd.Series(dtype=bool)).fillna(False).sum())} verified, "
            f"{int(ok['breaches'].sum()) if len(ok) else 0} breaches; seconds median {ok['seconds'].median():.1f}, "
            f"max {ok['seconds'].max():.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2, ensure_ascii=False))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
