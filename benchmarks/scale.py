"""The scale suite: generated counties of growing size and capacity, each run in a fresh process.

    python benchmarks/scale.py                                  # 1k, county, 20k at normal capacity
    python benchmarks/scale.py --profiles 1k county --capacities slack normal tight
    python benchmarks/scale.py --profiles 100k --json out/100k.json
    python benchmarks/scale.py --profiles park q4 tight short leave  # issue 14's hard profiles

For every profile the dataset is generated once (timed), then each capacity variant is planned
by ``planner.bench.run_bench`` in a fresh process (its peak memory is its own). Prints one line
per run on stderr, a table and the growth exponent of total time against enterprises (log-log
fit over the normal-capacity runs), and writes every figure as JSON with ``--json``. A profile
with scenario keys of its own (the hard profiles: quiet days, planned_share, a staff scale) is
planned with them, a capacity variant's keys on top.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from planner.bench import CAPACITY, GENERATED, growth_exponent, machine, run_isolated, write_generated, write_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", nargs="+", default=["1k", "county", "20k"], choices=list(GENERATED))
    parser.add_argument("--capacities", nargs="+", default=["normal"], choices=list(CAPACITY))
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--work", type=Path, help="keep the generated datasets here (default: a temporary folder)")
    args = parser.parse_args()

    runs, generated = [], {}
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        for profile in args.profiles:
            data = work / profile / "data"
            clock = time.perf_counter()
            if not data.exists():
                write_generated(profile, data)
            generated[profile] = round(time.perf_counter() - clock, 1)
            print(f"{profile}: generated in {generated[profile]} s", file=sys.stderr, flush=True)
            for capacity in args.capacities:
                scenario = write_scenario(
                    work / profile / f"{capacity}.toml",
                    data,
                    f"{profile} {capacity}",
                    GENERATED[profile][1],
                    capacity,
                    profile,
                )
                result = run_isolated(scenario, f"{profile} {capacity}").as_dict()
                result |= {"profile": profile, "capacity": capacity}
                runs.append(result)
                q = result["quality"]
                print(
                    f"{profile} {capacity}: {result['total_seconds']:.1f} s, {result['peak_mb']:.0f} MB, "
                    f"visits {q['visits']} (lower bound {q['lower_bound_visits']}, "
                    f"+{100 * q['visits_over_lower_bound']:.2f} %; baseline {q['baseline_visits']}), "
                    f"unscheduled {q['unscheduled']} ({q['unscheduled_mandatory']} mandatory), "
                    f"rules broken {q['rules_broken']}",
                    file=sys.stderr,
                    flush=True,
                )

    stages = [s["stage"] for s in runs[0]["stages"]] if runs else []
    print(
        "| profile | capacity | enterprises | tasks | " + " | ".join(stages) + " | total s | peak MB | visits | "
        "lower bound | over LB | baseline | unscheduled (mandatory) |"
    )
    print("|" + "---|" * (len(stages) + 11))
    for r in runs:
        q, seconds = r["quality"], {s["stage"]: s["seconds"] for s in r["stages"]}
        print(
            f"| {r['profile']} | {r['capacity']} | {r['enterprises']:,} | {r['tasks']:,} | "
            + " | ".join(f"{seconds[s]:.1f}" for s in stages)
            + f" | {r['total_seconds']:.1f} | {r['peak_mb']:,.0f} | {q['visits']:,} | {q['lower_bound_visits']:,} | "
            f"+{100 * q['visits_over_lower_bound']:.2f} % | {q['baseline_visits']:,} | "
            f"{q['unscheduled']:,} ({q['unscheduled_mandatory']}) |"
        )
    normal = [(r["enterprises"], r["total_seconds"]) for r in runs if r["capacity"] == "normal"]
    exponents = {}
    if len(normal) >= 2:
        exponents["total"] = growth_exponent(normal)
        for stage in stages:
            exponents[stage] = growth_exponent(
                [
                    (r["enterprises"], max(next(s["seconds"] for s in r["stages"] if s["stage"] == stage), 1e-3))
                    for r in runs
                    if r["capacity"] == "normal"
                ]
            )
        print("growth exponent (seconds ~ enterprises^b): " + ", ".join(f"{k} {v}" for k, v in exponents.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"machine": machine(), "generated_seconds": generated, "runs": runs, "growth_exponent": exponents},
                ensure_ascii=False,
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
