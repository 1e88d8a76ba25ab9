"""The generator's output obeys the contract, and the bundled sample county is what it generates."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.dataset import load_dataset
from planner.demo import generate_dataset
from planner.outputs import sha256_file, write_tables

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".xlsx"])
def test_generated_tiny_dataset_loads_in_every_format(tmp_path, suffix):
    """A generated dataset written as Parquet, CSV or XLSX loads without an error."""
    tables = generate_dataset("tiny", 5)
    write_tables(tables, tmp_path, suffix)
    dataset = load_dataset(tmp_path)
    for name, frame in tables.items():
        assert len(dataset.table(name)) == len(frame) - (name == "history") * _closed(tables), name
    assert not [w for w in dataset.warnings if w.column not in ("cert_no", "uscc")]


def _closed(tables) -> int:
    return int((~tables["history"]["uscc"].isin(set(tables["enterprises"]["uscc"]))).sum())


def test_bundled_sample_county_is_the_generator_output(tmp_path):
    """data/sample-county is byte for byte `planner demo-data --profile county --seed 2026` (else: make sample-data)."""
    write_tables(generate_dataset("county", 2026), tmp_path, ".parquet")
    bundled = ROOT / "data/sample-county"
    assert sorted(p.name for p in bundled.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for path in tmp_path.iterdir():
        assert sha256_file(path) == sha256_file(bundled / path.name), path.name


def test_baseline_scenario_validates():
    """The README's main job on the sample county succeeds."""
    result = CliRunner().invoke(app, ["validate", str(ROOT / "scenarios/baseline.toml")])
    assert result.exit_code == 0, result.output
    assert "5,000" in result.stdout and "working days" in result.stdout
