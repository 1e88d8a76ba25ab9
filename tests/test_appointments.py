"""预约式指导服务 (issue 20, item 1): appointments in generated data."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from planner.cli import app
from planner.dataset import load_dataset

runner = CliRunner()


def test_demo_data_adds_appointments_and_changes_nothing_else(tmp_path):
    """--appointments N writes N valid appointments; every other table is the same bytes as without it."""
    base = ["demo-data", "--profile", "tiny", "--seed", "7", "--format", "csv"]
    assert runner.invoke(app, [*base, "--out", str(tmp_path / "plain")]).exit_code == 0
    assert runner.invoke(app, [*base, "--appointments", "12", "--out", str(tmp_path / "with")]).exit_code == 0
    plain = sorted(p.name for p in (tmp_path / "plain").iterdir())
    assert sorted(p.name for p in (tmp_path / "with").iterdir()) == sorted([*plain, "appointments.csv"])
    for name in plain:
        assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name
    dataset = load_dataset(tmp_path / "with")  # the contract's rules hold
    appointments = dataset.appointments
    assert len(appointments) == 12 and appointments["uscc"].is_unique
    assert appointments["window_start"].min() >= pd.Timestamp("2026-02-02")
    assert appointments["window_end"].max() <= pd.Timestamp("2026-11-30")
    certified = set(dataset.inspectors.loc[dataset.inspectors["cert_no"].notna(), "dept_id"])
    assert {d for depts in appointments["dept_ids"] for d in depts} <= certified
