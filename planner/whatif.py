"""What-if knobs of a scenario, applied to a loaded dataset before planning.

Two moments, so that a what-if never changes what it should not:

- ``apply_inputs`` before the 双随机 draw: extra demand files (a special campaign), extra
  inspectors, and sampling ratios (``[sampling]``) — these are meant to change the draw;
- ``apply_staff_scaling`` after it: staff cuts and removals (``[staff]``) must leave the draw
  as it was, so a staff what-if compares plans of the same sample.

``[joint] solo_departments`` acts in the merge (``planner.model.merge``), ``[caps]``, ``quiet_days``
and ``[horizon]`` where those rules are applied.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from planner.dataset import Dataset, enterprises_update, shared_certificates
from planner.messages import Message, msg
from planner.problems import InputError, Problem
from planner.rules.appointments import horizon_problems, stay_problems
from planner.scenario import Scenario
from planner.schema import TABLES_BY_NAME
from planner.tables import load_table


def _rank_key(seed: int, inspector_id: str) -> bytes:
    return hashlib.blake2b(f"planner-staff-v1|{seed}|{inspector_id}".encode(), digest_size=8).digest()


def _key_problem(scenario: Scenario, key: str, value: str | None, rule: Message) -> Problem:
    return Problem(str(scenario.source), None, key, value, rule, label="key")


def apply_inputs(dataset: Dataset, scenario: Scenario) -> Dataset:
    """The dataset with the scenario's extra demands and inspectors and its sampling ratios."""
    from planner.dataset import _check_references

    problems: list[Problem] = []
    frames = {
        "demands": dataset.demands,
        "inspectors": dataset.inspectors,
        "sampling_plan": dataset.sampling_plan,
        "enterprises": dataset.enterprises,
    }
    files = dict(dataset.files)
    for path in scenario.extra_demands:
        extra = _read(path, "demands", problems)
        if extra is not None:
            clash = extra[extra["task_id"].isin(frames["demands"]["task_id"])]
            problems += [
                Problem(str(path), int(row), "task_id", t, msg("input.whatif.demand_exists"))
                for row, t in zip(clash.index, clash["task_id"])
            ]
            frames["demands"] = pd.concat([frames["demands"], extra])
            files["demands"] = path
    if scenario.staff.extra_inspectors is not None:
        extra = _read(scenario.staff.extra_inspectors, "inspectors", problems)
        if extra is not None:
            clash = extra[extra["inspector_id"].isin(frames["inspectors"]["inspector_id"])]
            problems += [
                Problem(
                    str(scenario.staff.extra_inspectors), int(row), "inspector_id", i, msg("input.whatif.on_roster")
                )
                for row, i in zip(clash.index, clash["inspector_id"])
            ]
            problems += shared_certificates(
                extra, scenario.staff.extra_inspectors, frames["inspectors"], dataset.files.get("inspectors")
            )
            frames["inspectors"] = pd.concat([frames["inspectors"], extra])
            files["inspectors"] = scenario.staff.extra_inspectors
    if scenario.enterprises_update is not None:  # planner credit's file, applied by the official
        try:
            frames["enterprises"] = enterprises_update(
                dataset.enterprises, scenario.enterprises_update, dataset.townships["township"]
            )
            files["enterprises_update"] = scenario.enterprises_update  # recorded beside the dataset's file
        except InputError as error:
            problems += error.problems
    sampling = frames["sampling_plan"]
    unknown = sorted(set(scenario.sampling.plan_ratio) - set(sampling["plan_id"]))
    problems += [
        _key_problem(scenario, f"sampling.plan_ratio.{p}", None, msg("input.whatif.unknown_plan", column="plan_id"))
        for p in unknown
    ]
    unknown = sorted(set(scenario.joint.solo_departments) - set(dataset.departments["dept_id"]))
    problems += [
        _key_problem(scenario, "joint.solo_departments", d, msg("input.whatif.unknown_dept", column="dept_id"))
        for d in unknown
    ]
    if scenario.sampling.tier_scale or scenario.sampling.plan_ratio:
        frames["sampling_plan"] = with_ratios(sampling, scenario.sampling.tier_scale, scenario.sampling.plan_ratio)
    if not problems:
        all_frames = {name: dataset.table(name) for name in TABLES_BY_NAME} | frames
        problems += [p for p in _check_references(all_frames, files) if p.severity == "error"]
    if problems:
        raise InputError(problems)
    if (
        frames["demands"] is dataset.demands
        and frames["inspectors"] is dataset.inspectors
        and frames["sampling_plan"] is dataset.sampling_plan
        and frames["enterprises"] is dataset.enterprises
    ):
        return dataset
    return dataclasses.replace(dataset, files=files, **frames)


def with_ratios(sampling: pd.DataFrame, tier_scale: dict[str, float], plan_ratio: dict[str, float]) -> pd.DataFrame:
    """Sampling-plan rows with each tier's ratio scaled (at most 1) and some rows' ratios set."""
    scale = sampling["tier"].map(tier_scale).fillna(1.0)
    ratio = np.minimum(sampling["ratio"] * scale, 1.0)
    ratio = sampling["plan_id"].map(plan_ratio).fillna(ratio)
    return sampling.assign(ratio=ratio.astype(float))


def load_scenario_dataset(scenario: Scenario) -> Dataset:
    """The scenario's dataset with its extra inputs and sampling ratios applied (``apply_inputs``)."""
    from planner.dataset import load_dataset

    return apply_inputs(load_dataset(scenario.dataset), scenario)


def _read(path: Path, table: str, problems: list[Problem]) -> pd.DataFrame | None:
    """One extra table file, checked by the dataset table's rules."""
    if not Path(path).is_file():
        problems.append(Problem(str(path), None, None, None, msg("input.whatif.extra_missing", table=table)))
        return None
    loaded = load_table(Path(path), str(path), TABLES_BY_NAME[table])
    if isinstance(loaded, Problem):
        problems.append(loaded)
        return None
    problems += loaded.problems
    return None if any(p.severity == "error" for p in loaded.problems) else loaded.frame


def staff_problems(dataset: Dataset, scenario: Scenario) -> list[Problem]:
    """``[staff]`` keys naming departments or inspectors the dataset does not have, and ``[offsite]
    items`` no demand or sampling-plan row checks (``planner validate`` reports them as ``planner
    plan`` would)."""
    staff = scenario.staff
    unknown = sorted(set(staff.departments) - set(dataset.departments["dept_id"]))
    problems = [
        _key_problem(scenario, f"staff.departments.{d}", None, msg("input.whatif.unknown_dept", column="dept_id"))
        for d in unknown
    ]
    gone = sorted(set(staff.remove) - set(dataset.inspectors["inspector_id"]))
    problems += [
        _key_problem(scenario, "staff.remove", i, msg("input.whatif.unknown_inspector", column="inspector_id"))
        for i in gone
    ]
    # [offsite] items: a typo would silently leave every such check on site
    items = set(dataset.demands["item"]) | set(dataset.sampling_plan["item"])
    problems += [
        _key_problem(scenario, "offsite.items", item, msg("input.whatif.unknown_item", column="item"))
        for item in sorted(set(scenario.offsite.items) - items)
    ]
    return problems


def appointment_problems(dataset: Dataset, scenario: Scenario) -> list[Problem]:
    """Appointments (预约) whose window leaves the scenario's horizon, or whose stay its stay rule
    refuses (``planner validate`` reports them as ``planner plan`` would, before planning)."""
    file = dataset.files.get("appointments")
    where, horizon = (str(file) if file else None), scenario.horizon
    problems = horizon_problems(dataset.appointments, where, horizon.start, horizon.end)
    return problems + stay_problems(dataset.appointments, where, scenario.onsite)


def apply_staff_scaling(dataset: Dataset, scenario: Scenario) -> Dataset:
    """Take the ``[staff] remove`` inspectors off the roster, then keep round(scale × n) of each
    department's certified inspectors (a staff cut).

    Who stays is decided by a keyed hash of the seed and the inspector id, so the same
    scenario always keeps the same people, whatever the row order. Uncertified inspectors are
    never assigned anyway and stay on the roster.
    """
    staff = scenario.staff
    problems = staff_problems(dataset, scenario)
    if problems:
        raise InputError(problems)
    if staff.scale == 1 and not staff.departments and not staff.remove:
        return dataset
    inspectors = dataset.inspectors[~dataset.inspectors["inspector_id"].isin(staff.remove)]
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
