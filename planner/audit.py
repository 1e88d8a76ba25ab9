"""一公开: records that let anyone re-check a draw, and the re-check itself.

A draw folder (or a plan folder) holds ``draws.parquet`` and ``draw.json``: the seed, its
commitment hash, the algorithm, the caps that shaped the pools, the dataset and the SHA-256 of
every input file the draw read. ``verify_draw`` recomputes the draw from the dataset and lists
every difference, so a single edited row of ``draws.parquet`` is found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

from planner import __version__
from planner.dataset import Dataset, load_dataset
from planner.messages import DEFAULT_LANG, LANGUAGE_TAGS, language_of, msg
from planner.outputs import sha256_file
from planner.problems import InputError, Problem
from planner.sampling import ALGORITHM, YEAR_SHIFT, Draw, compare_draws, draw_sampling_plan, seed_commitment
from planner.scenario import Scenario

DRAW_RECORD = "draw.json"
#: the tables a draw reads: pools (enterprises, history), rows, and substitution (staff, conflicts)
DRAW_INPUTS = ("enterprises", "sampling_plan", "history", "inspectors", "departments", "conflicts")


def draw_record(
    draw: Draw, scenario: Scenario, dataset: Dataset, redraw_reason: str | None, lang: str = DEFAULT_LANG
) -> dict[str, Any]:
    """The JSON record of a draw: everything needed to recompute and check it (``lang``: the
    language its reasons are said in)."""
    return {
        "algorithm": ALGORITHM,
        "year_shift": YEAR_SHIFT,
        "seed": draw.seed,
        "commitment": seed_commitment(draw.seed),
        "scenario_seed": scenario.seed,
        "redraw_reason": redraw_reason,
        "scenario": {"name": scenario.name, "file": str(scenario.source)},
        "caps": {
            "positive_list_per_year": scenario.caps.positive_list_per_year,
            "per_dept_per_year": scenario.caps.per_dept_per_year,
        },
        "dataset": str(dataset.root.resolve()),
        # what-if inputs of the draw: the sampling ratios and any inspectors added by the scenario
        "sampling": scenario.sampling.model_dump(mode="json"),
        "extra_inspectors": str(scenario.staff.extra_inspectors.resolve()) if scenario.staff.extra_inspectors else None,
        "inputs": {dataset.files[t].name: sha256_file(dataset.files[t]) for t in DRAW_INPUTS if t in dataset.files},
        "overlap": draw.overlap.to_dict(orient="records"),
        "shortfalls": list(draw.shortfalls),
        "versions": {"planner": __version__, "numpy": version("numpy"), "pandas": version("pandas")},
        "language": LANGUAGE_TAGS[lang],
    }


@dataclass(frozen=True)
class DrawCheck:
    """The outcome of re-checking a recorded draw."""

    input_changes: tuple[str, ...]  # input files whose bytes differ from the record
    differences: tuple[str, ...]  # rows of draws.parquet that the recomputation does not give

    @property
    def confirmed(self) -> bool:
        return not self.differences


def verify_draw(folder: Path, dataset_dir: Path | None = None) -> DrawCheck:
    """Recompute the draw recorded in ``folder`` from its dataset (or ``dataset_dir``) and compare."""
    record_path, draws_path = folder / DRAW_RECORD, folder / "draws.parquet"
    missing = [p for p in (record_path, draws_path) if not p.is_file()]
    if missing:
        raise InputError([Problem(str(p), None, None, None, msg("input.folder.not_draw")) for p in missing])
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        seed, caps, inputs = int(record["seed"]), record["caps"], dict(record["inputs"])
        positive_cap, dept_cap = int(caps["positive_list_per_year"]), int(caps["per_dept_per_year"])
        dataset_path = dataset_dir or Path(record["dataset"])
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(
            [Problem(str(record_path), None, None, None, msg("input.audit.bad_record", error=repr(error)))]
        ) from None
    try:
        recorded_draws = pd.read_parquet(draws_path)
    except Exception as error:  # any reader failure means the file is damaged
        raise InputError(
            [Problem(str(draws_path), None, None, None, msg("input.file.unreadable", error=str(error)))]
        ) from None
    missing_columns = [c for c in ("plan_id", "uscc") if c not in recorded_draws.columns]
    if missing_columns:
        raise InputError([Problem(str(draws_path), 1, c, None, msg("input.header.missing")) for c in missing_columns])
    dataset = load_dataset(dataset_path)
    dataset = _with_draw_inputs(dataset, record, record_path)
    changes = []
    for table in DRAW_INPUTS:
        path = dataset.files.get(table)
        recorded = inputs.get(path.name) if path else None
        if path is not None and recorded != sha256_file(path):
            changes.append(
                f"{path}: its bytes differ from the file the draw read" if recorded else f"{path}: not recorded"
            )
    lang = language_of(record.get("language"))
    recomputed = draw_sampling_plan(dataset, seed, positive_cap, dept_cap, lang)
    return DrawCheck(tuple(changes), tuple(compare_draws(recorded_draws, recomputed.draws)))


def _with_draw_inputs(dataset: Dataset, record: dict[str, Any], record_path: Path) -> Dataset:
    """The dataset as the recorded draw saw it: the scenario's sampling ratios and extra inspectors."""
    import dataclasses

    from planner.whatif import _read, with_ratios  # whatif imports this module's neighbours: import late

    sampling = record.get("sampling") or {}
    frames: dict[str, pd.DataFrame] = {}
    if sampling.get("tier_scale") or sampling.get("plan_ratio"):
        frames["sampling_plan"] = with_ratios(
            dataset.sampling_plan, sampling.get("tier_scale", {}), sampling.get("plan_ratio", {})
        )
    if record.get("extra_inspectors"):
        problems: list[Problem] = []
        extra = _read(Path(record["extra_inspectors"]), "inspectors", problems)
        if problems:
            raise InputError(problems)
        frames["inspectors"] = pd.concat([dataset.inspectors, extra])
    return dataclasses.replace(dataset, **frames) if frames else dataset
