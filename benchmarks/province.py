"""A province: N generated counties planned in parallel by planner.engine.

    python benchmarks/province.py --counties 8                          # local process pool, one per core
    python benchmarks/province.py --counties 8 --engine dask            # a LocalCluster on this machine
    python benchmarks/province.py --counties 90 --engine dask --address tcp://scheduler:8786 \\
        --work /shared/province                                        # a real cluster, shared folder
    python benchmarks/province.py --counties 8 --engine serial --compare out/province-local.json

Counties get seeds 2026, 2027, … (the first is the sample county). ``--work`` keeps the
generated datasets (a county already there is reused); on a cluster it must be a folder every
worker reads at the same path. Prints the wall time, the sum of the counties' own times (what
one process would need), the speed-up and the province's totals; ``--json`` writes every
county's figures and plan digest, and ``--compare`` checks them against another run's JSON
(identical plans whatever the engine).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from planner.bench import CAPACITY, GENERATED, bench_province


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counties", type=int, default=8)
    parser.add_argument("--profile", default="county", choices=list(GENERATED))
    parser.add_argument("--capacity", default="normal", choices=list(CAPACITY))
    parser.add_argument("--engine", default="local", choices=["local", "dask", "serial"])
    parser.add_argument("--address", help="Dask scheduler, e.g. tcp://scheduler:8786 (default: a LocalCluster)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(), help="processes (local pool or LocalCluster)")
    parser.add_argument("--work", type=Path, help="folder for the generated counties (kept and reused)")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--compare", type=Path, help="another run's --json: check every county's plan digest")
    args = parser.parse_args()

    def heard(result) -> None:
        said = result.error or (
            f"{result.seconds:.1f} s, {result.kpis['visits']:,} visits, {result.peak_mb:.0f} MB, on {result.worker}"
        )
        print(f"  {result.name}: {said}", file=sys.stderr, flush=True)

    print(f"{args.counties} {args.profile} counties on {args.engine}…", file=sys.stderr, flush=True)
    figures, results = bench_province(
        args.counties,
        engine=args.engine,
        address=args.address,
        workers=args.workers,
        work=args.work,
        profile=args.profile,
        capacity=args.capacity,
        progress=heard,
    )
    out = figures.as_dict() | {"profile": args.profile, "capacity": args.capacity}
    t = figures.totals
    print(
        f"{args.engine} × {figures.workers}: {figures.counties} counties, {t['enterprises']:,} enterprises, "
        f"{t['tasks']:,} tasks in {figures.wall_seconds:.1f} s wall after {figures.generate_seconds:.1f} s "
        f"generating (counties' own time {figures.part_seconds:.1f} s, speed-up {out['speedup']}); "
        f"visits {t['visits']:,}, lower bound {t['lower_bound_visits']:,}, baseline {t['baseline_visits']:,}; "
        f"unscheduled {t['unscheduled']:,} ({t['unscheduled_mandatory']} mandatory); "
        f"rules broken {t['rules_broken']}; "
        f"failed {t['failed_parts']}; peak worker {figures.worker_peak_mb:.0f} MB, "
        f"driver {figures.driver_peak_mb:.0f} MB"
    )
    if args.compare:
        theirs = {p["name"]: p["digest"] for p in json.loads(args.compare.read_text())["parts"]}
        differ = [r.name for r in results if theirs.get(r.name) != r.digest]
        out["compared_with"] = str(args.compare)
        out["differing_parts"] = differ
        print(
            f"compared with {args.compare}: {len(results) - len(differ)} identical, {len(differ)} differ "
            + (", ".join(differ) if differ else "")
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    if figures.totals["failed_parts"] or (args.compare and out["differing_parts"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
