"""What-if knobs applied to a loaded dataset before planning (scenario ``[staff]``)."""

from __future__ import annotations

import dataclasses
import hashlib

from planner.dataset import Dataset
from planner.problems import InputError, Problem
from planner.scenario import Scenario


def _rank_key(seed: int, inspector_id: str) -> bytes:
    return hashlib.blake2b(f"planner-staff-v1|{seed}|{inspector_id}".encode(), digest_size=8).digest()


def apply_staff_scaling(dataset: Dataset, scenario: Scenario) -> Dataset:
    """Keep round(scale × n) of each department's certified inspectors (a staff cut).

    Who stays is decided by a keyed hash of the seed and the inspector id, so the same
    scenario always keeps the same people, whatever the row order. Uncertified inspectors are
    never assigned anyway and stay on the roster.
    """
    staff = scenario.staff
    unknown = sorted(set(staff.departments) - set(dataset.departments["dept_id"]))
    if unknown:
        raise InputError([Problem(str(scenario.source), None, f"staff.departments.{d}", None,
                                  "not a dept_id of the dataset", label="key") for d in unknown])  # fmt: skip
    if staff.scale == 1 and not staff.departments:
        return dataset
    inspectors = dataset.inspectors
    certified = inspectors[inspectors["cert_no"].notna()]
    keep = set(inspectors.loc[inspectors["cert_no"].isna(), "inspector_id"])
    for dept, people in certified.groupby("dept_id", sort=True):
        share = staff.departments.get(dept, staff.scale)
        ranked = sorted(people["inspector_id"], key=lambda i: _rank_key(scenario.seed, i))
        keep.update(ranked[: round(share * len(ranked))])
    kept = inspectors[inspectors["inspector_id"].isin(keep)]
    return dataclasses.replace(
        dataset,
        inspectors=kept,
        leave=dataset.leave[dataset.leave["inspector_id"].isin(keep)],
        conflicts=dataset.conflicts[dataset.conflicts["inspector_id"].isin(keep)],
    )
