"""Loading a dataset with a million-row table: wall time and peak memory, CSV and Parquet.

    python benchmarks/load_1m.py                       # 1,000,000 demand rows, 100 k enterprises
    python benchmarks/load_1m.py --rows 2000000 --work /tmp/load-2m

The generated 100 k-enterprise county (``planner demo-data --profile 100k``) has about 200 k
demands; its demands are repeated with new task ids until the table has ``--rows`` rows (the
same enterprises, departments and windows, so every reference stays valid). The dataset is
written as CSV (the slowest format to read: every cell parsed and checked) and as Parquet, and
each is loaded by ``planner.dataset.load_dataset`` — every rule and reference checked, as
``planner validate`` does — in a fresh process, so the peak memory reported is that load's own.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from planner.bench import machine
from planner.demo import generate_dataset
from planner.outputs import write_tables
from planner.stopwatch import peak_rss_mb


def million_row_dataset(rows: int, seed: int = 2026) -> dict[str, pd.DataFrame]:
    """The 100 k county with its demands repeated (new task ids) to ``rows`` rows."""
    tables = generate_dataset("100k", seed)
    demands = tables["demands"]
    copies = -(-rows // len(demands))
    grown = pd.concat(
        [demands.assign(task_id=demands["task_id"] + (f"-r{n}" if n else "")) for n in range(copies)], ignore_index=True
    ).head(rows)
    return tables | {"demands": grown}


def load(folder: str) -> dict:
    """Load and check one dataset folder (in a fresh process): seconds, peak MB, rows and problems."""
    from planner.dataset import load_dataset
    from planner.problems import InputError

    clock = time.perf_counter()
    try:
        dataset = load_dataset(Path(folder))
        problems, rows = (
            len(dataset.warnings),
            {name: len(dataset.table(name)) for name in ("enterprises", "demands", "history")},
        )
    except InputError as error:
        problems, rows = len(error.problems), {}
    return {
        "seconds": round(time.perf_counter() - clock, 2),
        "peak_mb": peak_rss_mb(),
        "rows": rows,
        "problems": problems,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the demands table")
    parser.add_argument("--work", type=Path, help="keep the generated datasets here")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        clock = time.perf_counter()
        tables = million_row_dataset(args.rows)
        generated = round(time.perf_counter() - clock, 1)
        figures = {"machine": machine(), "rows": args.rows, "generate_seconds": generated, "formats": {}}
        for suffix in (".csv", ".parquet"):
            folder = work / suffix.lstrip(".")
            if not folder.exists():
                folder.mkdir(parents=True)
                write_tables(tables, folder, suffix)
            size_mb = round(sum(p.stat().st_size for p in folder.iterdir()) / 2**20, 1)
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                result = pool.submit(load, str(folder)).result()
            figures["formats"][suffix.lstrip(".")] = result | {"files_mb": size_mb}
            print(
                f"{suffix.lstrip('.')}: {size_mb} MB on disk, loaded and checked in {result['seconds']} s, "
                f"peak {result['peak_mb']:.0f} MB, rows {result['rows']}, problems {result['problems']}",
                file=sys.stderr,
                flush=True,
            )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
