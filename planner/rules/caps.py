"""一年最多查一次 and the per-department yearly cap: what counts, what history used, what is left.

A *capped* visit is one holding a task of any kind but ``triggered`` (投诉举报核查),
``followup`` (整改复查) and ``appointment`` (预约式指导服务, ``rules.appointments``): those are
exempt (complaint checks and re-inspections may exceed a cap; an appointment is service the
enterprise agreed to, not an inspection). Two caps, per calendar year:

- ``cap_positive_list``: an enterprise on the compliance positive list (合规正面清单) gets at most
  ``[caps] positive_list_per_year`` capped visits, whichever departments make them;
- ``cap_per_dept``: a department makes at most ``[caps] per_dept_per_year`` capped visits to one
  enterprise; a department checking in a capped visit uses its cap, whatever the kind of its task.

History counts as one visit per distinct (department, enterprise, date), capped unless its kind
is exempt. This module is the one place these rules are written: the draw, the merge, the
bound, diagnose and the re-optimisation ask it; ``check_*`` re-checks a plan from its tables.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from planner.messages import Dept, Message, Reason, listing, msg, reason

if TYPE_CHECKING:
    from planner.dataset import Dataset
    from planner.scenario import Scenario

#: task kinds a cap never counts: complaint-triggered checks, re-inspections and appointments
#: (``rules.appointments.APPOINTMENT``)
UNCAPPED_KINDS = frozenset({"triggered", "followup", "appointment"})


def is_capped(kind: pd.Series) -> pd.Series:
    """Whether each task of ``kind`` makes its visit a capped one."""
    return ~kind.isin(UNCAPPED_KINDS)


def capped_visit_ids(visit_tasks: pd.DataFrame) -> list[str]:
    """A visit is capped unless every task in it is triggered or followup."""
    uncapped = visit_tasks["kind"].isin(UNCAPPED_KINDS).groupby(visit_tasks["visit_id"]).all()
    return list(uncapped.index[~uncapped])


def leaves_caps_alone(task_capped: bool, task_dept: str, visit_capped: bool, visit_depts) -> bool:
    """Whether a task can join a visit without using a cap: the visit stays uncapped (both are
    exempt), or it is capped already and the task's department already checks in it."""
    if visit_capped:
        return task_dept in visit_depts
    return not task_capped


def positive_list(enterprises: pd.DataFrame) -> set[str]:
    """The enterprises on the compliance positive list (合规正面清单)."""
    return set(enterprises.loc[enterprises["positive_list"], "uscc"])


# --- history --------------------------------------------------------------------------------


def capped_history(history: pd.DataFrame) -> pd.DataFrame:
    """Distinct capped (uscc, dept_id, date) visits of history, with their calendar ``year``."""
    capped = history[~history["kind"].isin(UNCAPPED_KINDS)]
    visits = capped[["uscc", "dept_id", "date"]].drop_duplicates()
    return visits.assign(year=visits["date"].dt.year).reset_index(drop=True)


def positive_list_used(history: pd.DataFrame) -> pd.Series:
    """Capped visit dates per (uscc, year), any department: what counts against the positive list."""
    visits = capped_history(history)
    return visits.drop_duplicates(["uscc", "date"]).groupby(["uscc", "year"]).size()


def per_dept_used(history: pd.DataFrame) -> pd.Series:
    """Capped visit dates per (uscc, dept_id, year): what counts against ``per_dept_per_year``."""
    return capped_history(history).groupby(["uscc", "dept_id", "year"]).size()


def used_dates(history: pd.DataFrame, uscc: str, year: int, dept_id: str | None = None) -> list[str]:
    """The capped history dates of one enterprise in one year (one department's, if given)."""
    found = _dates_index(history).get((uscc, year), ())
    return sorted({date for dept, date in found if dept_id is None or dept == dept_id})


_INDEXES: dict[int, tuple[weakref.ref, tuple[int, int], dict]] = {}


def _dates_index(history: pd.DataFrame) -> dict[tuple[str, int], list[tuple[str, str]]]:
    """(uscc, year) → [(dept_id, ISO date)] of the capped history, built once per history frame:
    filtering the whole history for each of the merge's calls took 9 s of the city's run."""
    cached = _INDEXES.get(id(history))
    if cached is not None and cached[0]() is history and cached[1] == history.shape:
        return cached[2]
    visits = capped_history(history)
    visits = visits[visits["date"].notna()]
    index: dict[tuple[str, int], list[tuple[str, str]]] = defaultdict(list)
    for uscc, dept, date, year in zip(visits["uscc"], visits["dept_id"], visits["date"], visits["year"].tolist()):
        index[(uscc, int(year))].append((dept, date.date().isoformat()))
    key = id(history)
    _INDEXES[key] = (weakref.ref(history, lambda _, key=key: _INDEXES.pop(key, None)), history.shape, dict(index))
    return _INDEXES[key][2]


@dataclass
class YearlyCaps:
    """The caps and what history used of them, prepared once per county.

    ``pl_used`` (uscc, year) → capped visit dates; ``dept_used`` (uscc, dept_id, year) → the
    department's. The merge adds its own visits to these counts as it goes (a solo department's
    visits come after the joint ones), so they are plain dicts."""

    positive_list_per_year: int
    per_dept_per_year: int
    positive: set[str]
    pl_used: dict
    dept_used: dict
    history: pd.DataFrame

    @classmethod
    def of(cls, dataset: Dataset, positive_list_per_year: int, per_dept_per_year: int) -> YearlyCaps:
        """The caps (the scenario's ``[caps]``) with what the dataset's history used of them."""
        return cls(
            positive_list_per_year,
            per_dept_per_year,
            positive_list(dataset.enterprises),
            positive_list_used(dataset.history).to_dict(),
            per_dept_used(dataset.history).to_dict(),
            dataset.history,
        )

    @classmethod
    def of_scenario(cls, dataset: Dataset, scenario: Scenario) -> YearlyCaps:
        return cls.of(dataset, scenario.caps.positive_list_per_year, scenario.caps.per_dept_per_year)

    def positive_left(self, uscc: str, year: int) -> int:
        """Capped visits the positive list still allows at ``uscc`` in ``year``."""
        return max(0, self.positive_list_per_year - self.pl_used.get((uscc, year), 0))

    def dept_left(self, uscc: str, dept_id: str, year: int) -> int:
        """Capped visits ``dept_id`` may still make to ``uscc`` in ``year``."""
        return max(0, self.per_dept_per_year - self.dept_used.get((uscc, dept_id, year), 0))

    def positive_full(self, uscc: str, year: int, planned: int = 0) -> bool:
        """A positive-list firm whose cap history and ``planned`` capped visits have used up."""
        return uscc in self.positive and self.pl_used.get((uscc, year), 0) + planned >= self.positive_list_per_year

    def dept_full(self, uscc: str, dept_id: str, year: int, planned: int = 0) -> bool:
        """The department's cap at ``uscc`` used up by history and ``planned`` capped visits."""
        return self.dept_used.get((uscc, dept_id, year), 0) + planned >= self.per_dept_per_year

    def count_visit(self, uscc: str, year: int) -> None:
        """A capped visit made at ``uscc`` (for the positive-list count of what comes after)."""
        self.pl_used[(uscc, year)] = self.pl_used.get((uscc, year), 0) + 1


# --- CP-SAT: the caps in a model of one enterprise ------------------------------------------------


def link_capped(model, assign, capped, checks, task_capped: bool) -> None:
    """A task checked on a day (``assign``): a capped task makes that day's visit capped, and a
    department checking in a capped visit uses its cap (``checks``), whatever its task's kind."""
    if task_capped:
        model.add_implication(assign, capped)
    model.add_bool_or([assign.Not(), capped.Not(), checks])


def link_capped_stays(model, assign, capped, checks, stays, task_capped: bool) -> None:
    """``link_capped`` where a day may hold several stays (``stays``, the bound's relaxation): an
    exempt check beside a capped visit uses its department's cap, or is a stay of its own."""
    if task_capped:
        model.add_implication(assign, capped)
        model.add_implication(assign, checks)
    else:
        model.add(stays >= 1 + capped - checks).only_enforce_if(assign)


def add_yearly_caps(
    model,
    uscc: str,
    days: list[int],
    years: np.ndarray,
    capped: dict,
    checks: dict,
    caps: YearlyCaps,
    relax: tuple[str, ...] = (),
) -> None:
    """一年最多查一次 in a CP-SAT model of one enterprise, per calendar year and counting history:
    Σ capped[d] within the positive-list cap left (positive-list firms), Σ checks[k, d] within each
    department's cap left. ``relax`` leaves out "positive_list" or "per_dept"."""
    depts = sorted({k for k, _ in checks})
    positive = uscc in caps.positive
    for year in sorted({int(years[d]) for d in days}):
        in_year = [d for d in days if years[d] == year]
        if positive and "positive_list" not in relax:
            model.add(sum(capped[d] for d in in_year) <= caps.positive_left(uscc, year))
        if "per_dept" not in relax:
            for k in depts:
                model.add(sum(checks[(k, d)] for d in in_year) <= caps.dept_left(uscc, k, year))


CAP_POSITIVE, CAP_PER_DEPT = "cap_positive_list", "cap_per_dept"  # the rules' codes (planner.rules)


# --- explain: the reasons a task leaves, in an official's words -------------------------------------


def positive_list_reason(caps: YearlyCaps, uscc: str, year: int) -> Reason:
    """A capped task that cannot join the one capped visit its positive-list firm may have."""
    dates = used_dates(caps.history, uscc, year)
    cap = caps.positive_list_per_year
    if dates:
        return reason(CAP_POSITIVE, "reason.cap_positive_list.used", year=year, cap=cap, dates=listing(dates))
    return reason(CAP_POSITIVE, "reason.cap_positive_list.taken", year=year, cap=cap)


def per_dept_reason(caps: YearlyCaps, uscc: str, dept: str, year: int) -> Reason:
    """A capped task of ``dept`` beyond the department's yearly cap at the enterprise."""
    dates = used_dates(caps.history, uscc, year, dept)
    history = msg("reason.cap_per_dept.history", dates=listing(dates)) if dates else ""
    return reason(CAP_PER_DEPT, "reason.cap_per_dept", dept=Dept(dept), cap=caps.per_dept_per_year, history=history)


def positive_list_yields_reason(caps: YearlyCaps, year: int) -> Reason:
    """The exact merge gave the positive-list visit to tasks worth more."""
    return reason(CAP_POSITIVE, "reason.cap_positive_list.yields", year=year, cap=caps.positive_list_per_year)


def per_dept_yields_reason(caps: YearlyCaps, dept: str) -> Reason:
    """The exact merge gave the department's capped visits to tasks worth more."""
    return reason(CAP_PER_DEPT, "reason.cap_per_dept.yields", dept=Dept(dept), cap=caps.per_dept_per_year)


def drawn_beyond_cap_reason(caps: YearlyCaps, uscc: str, dept: str, year: int) -> Message:
    """A drawn enterprise whose department cap history has used up (the draw takes a substitute)."""
    dates = listing(used_dates(caps.history, uscc, year, dept))
    return msg("sampling.cap_used", dept=Dept(dept), cap=caps.per_dept_per_year, dates=dates)


# --- check: the caps re-checked from the plan tables -------------------------------------------------


def planned_capped_checks(visits: pd.DataFrame, visit_tasks: pd.DataFrame) -> pd.DataFrame:
    """(uscc, dept_id, date) of every department checking in a capped visit of the plan."""
    capped = visits[visits["visit_id"].isin(capped_visit_ids(visit_tasks))]
    capped_tasks = visit_tasks[visit_tasks["visit_id"].isin(capped["visit_id"])]
    per_dept = capped_tasks.join(capped.set_index("visit_id")[["uscc", "date"]], on="visit_id")
    return per_dept[["uscc", "dept_id", "date"]].assign(date=lambda f: pd.to_datetime(f["date"]))


def _counted(plan, dataset: Dataset) -> tuple[pd.DataFrame, set, set]:
    """The plan's capped checks with history's, and the (uscc, dept, year) and (uscc, year) the
    plan adds to: history alone is the past, not this plan's doing."""
    per_dept = planned_capped_checks(plan.visits, plan.visit_tasks)
    history = capped_history(dataset.history)[["uscc", "dept_id", "date"]]
    visits = pd.concat([per_dept, history]).drop_duplicates()
    visits["year"] = visits["date"].dt.year
    planned_dept = set(zip(per_dept["uscc"], per_dept["dept_id"], per_dept["date"].dt.year))
    return visits, planned_dept, {(u, y) for u, _, y in planned_dept}


def check_cap_per_dept(plan, inputs) -> list[str]:
    """Hard rule: a department makes at most per_dept_per_year capped visits to an enterprise a year."""
    visits, planned_dept, _ = inputs.shared("caps", lambda: _counted(plan, inputs.dataset))
    mine = np.array([key in planned_dept for key in zip(visits["uscc"], visits["dept_id"], visits["year"])], dtype=bool)
    counts = visits.loc[mine].groupby(["uscc", "dept_id", "year"]).size()
    cap = inputs.scenario.caps.per_dept_per_year
    return [
        msg("check.cap_per_dept", dept=Dept(dept), n=n, uscc=uscc, year=year, cap=cap)
        for (uscc, dept, year), n in counts[counts > cap].items()
    ]


def check_cap_positive_list(plan, inputs) -> list[str]:
    """Hard rule: 一年最多查一次 — a positive-list enterprise gets at most positive_list_per_year
    capped visits a year, whichever departments make them."""
    visits, _, planned_firm = inputs.shared("caps", lambda: _counted(plan, inputs.dataset))
    firm = np.array([key in planned_firm for key in zip(visits["uscc"], visits["year"])], dtype=bool)
    visits = visits.loc[firm]
    positive = positive_list(inputs.dataset.enterprises)
    dates = visits[visits["uscc"].isin(positive)].drop_duplicates(["uscc", "date"]).groupby(["uscc", "year"]).size()
    cap = inputs.scenario.caps.positive_list_per_year
    return [
        msg("check.cap_positive_list", uscc=uscc, n=n, year=year, cap=cap)
        for (uscc, year), n in dates[dates > cap].items()
    ]
