"""Solomon VRPTW: PyVRP (the planner's routing engine) and OR-Tools routing, gap to dist_trunc1.

    python benchmarks/routing.py                                      # all 56 instances, 10 s each, both engines
    python benchmarks/routing.py --names C101 R101 RC101 --seconds 2
    python benchmarks/routing.py --engines pyvrp --json out/solomon.json

Instances and best-known values from ``benchmarks/solomon`` (a copy of ../shared/benchmarks/solomon; README there); distances
×10 truncated (``planner.routing.SCALE``), vehicle count free, distance only. Prints one line
per run on stderr, the table on stdout, and writes every row (after each run) as JSON with
``--json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

from rich.console import Console

from planner.routing import ENGINES, bench_routing, engine_versions, render_routing, summarise_routing

SOLOMON = Path(__file__).resolve().parent / "solomon"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=SOLOMON, help="Solomon .txt/.sol files and bks.csv")
    parser.add_argument("--seconds", type=float, default=10.0, help="per instance and engine")
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--names", nargs="+", help="instances (default: every .txt in the folder)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every row here")
    args = parser.parse_args()

    meta = {
        "date": dt.date.today().isoformat(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count() or 0,
        **engine_versions(),
        "seconds": args.seconds,
        "seed": args.seed,
        "command": " ".join(sys.argv),
    }
    rows: list[dict] = []

    def on_row(row: dict) -> None:
        rows.append(row)
        print(
            f"{row['name']} {row['engine']}: {row['cost']:.1f} ({row['gap_pct']:+.2f} %, {row['vehicles']} vehicles,"
            f" {row['seconds']:.1f} s){' INFEASIBLE' if row['problems'] else ''}",
            file=sys.stderr,
            flush=True,
        )
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            record = {"machine": meta, "rows": rows, "summary": summarise_routing(rows)}
            args.json.write_text(json.dumps(record, indent=2))

    bench_routing(args.folder, args.seconds, args.engines, args.names, seed=args.seed, on_row=on_row)
    Console(width=160).print(render_routing(rows))


if __name__ == "__main__":
    main()
