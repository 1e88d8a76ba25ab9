"""一年最多查一次: what history has already used of each enterprise's yearly caps.

History counts as one visit per distinct (department, enterprise, date), capped unless its
kind is triggered or followup (complaint checks and re-inspections are exempt).
"""

from __future__ import annotations

import weakref
from collections import defaultdict

import pandas as pd

from planner.schema import UNCAPPED_KINDS


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
