"""cProfile one bench run and list its hot spots.

    python benchmarks/profile_run.py --profile city --out out/city.prof      # generate, plan, check, write
    python benchmarks/profile_run.py --scenario scenarios/baseline.toml --top 40

Prints the functions with most own time and most cumulative time (planner's and the libraries'),
and keeps the raw profile in ``--out`` for ``python -m pstats`` or snakeviz. cProfile slows
Python-heavy code by about 1.5–2×: read the shares, not the seconds.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
from pathlib import Path

from planner.bench import GENERATED, generated_scenario, run_bench


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="city", choices=list(GENERATED))
    parser.add_argument("--scenario", type=Path, help="profile this scenario instead of a generated county")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--out", type=Path, help="keep the raw profile here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scenario = args.scenario or generated_scenario(args.profile, Path(folder)).source
        profiler = cProfile.Profile()
        result = profiler.runcall(run_bench, scenario)
    print(
        ", ".join(f"{s.stage} {s.seconds:.1f}" for s in result.stages),
        f"total {result.total_seconds:.1f} s",
        file=sys.stderr,
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(args.out)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
