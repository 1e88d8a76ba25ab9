"""一年最多查一次: what history has already used of each enterprise's yearly caps.

History counts as one visit per distinct (department, enterprise, date), capped unless its
kind is triggered or followup (complaint checks and re-inspections are exempt).
"""

from __future__ import annotations

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
    visits = capped_history(history)
    mask = (visits["uscc"] == uscc) & (visits["year"] == year)
    if dept_id is not None:
        mask &= visits["dept_id"] == dept_id
    return sorted({d.date().isoformat() for d in visits.loc[mask, "date"]})
