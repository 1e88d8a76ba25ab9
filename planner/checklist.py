"""一表通查: one merged checklist per visit, for the crew.

A visit holds tasks of several departments, each checking one item (检查事项). The items
catalogue (the optional ``items`` table, 检查事项清单) lists each item's check points (检查要点)
and legal basis. A visit's checklist lists every check point of every item in it once: a point
that several items name — 消防通道, 安全出口, 特种设备 — is one row with every department that
relies on it, every item it serves and every legal basis behind it, so the crew checks it once
and each department reads its own finding from the same row.

An item the catalogue lacks still gets a row (the item itself as the point, ``catalogued``
false): the crew must check it even if nobody wrote down how.

Rows of a visit: points shared by more departments first, then in the order the items name
them (departments in ``dept_id`` order, a department's items in name order); ``point_no``
numbers them 1, 2, … per visit. The function reads no files; ``planner notices`` and
``planner checklist`` call it with a plan's tables and the dataset's catalogue.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd

from planner.schema import split_list

#: the checklist's columns, in order
CHECKLIST_COLUMNS = (
    "visit_id",
    "point_no",
    "check_point",
    "dept_ids",
    "departments",
    "items",
    "legal_basis",
    "n_depts",
    "catalogued",
)

#: Chinese headers of the checklist for the people who read it (``planner notices``' checklist.csv)
CHECKLIST_HEADERS = {
    "visit_id": "检查编号",
    "point_no": "序号",
    "check_point": "检查要点",
    "dept_ids": "部门编号",
    "departments": "涉及部门",
    "items": "对应检查事项",
    "legal_basis": "检查依据",
    "n_depts": "部门数",
    "catalogued": "已列入检查事项清单",
}


@dataclass
class _Point:
    """One check point of one visit, as the items name it."""

    text: str  # the first spelling met
    order: int
    depts: dict[str, None] = field(default_factory=dict)  # ordered sets
    items: dict[str, None] = field(default_factory=dict)
    bases: dict[str, None] = field(default_factory=dict)
    catalogue: bool = True  # named by a catalogued item (not only an item's own name)


def point_key(text: str) -> str:
    """Two spellings of one point are one point: full-width and half-width forms alike (NFKC),
    spaces ignored — '安全出口 ' and '安全出口' are the same door."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def catalogue_index(items: pd.DataFrame) -> dict[tuple[str, str], tuple[tuple[str, ...], str | None, tuple[str, ...]]]:
    """(dept_id, item) → (check points, legal basis, materials) of the items catalogue."""
    if items is None or not len(items):
        return {}
    materials = items["materials"] if "materials" in items else pd.Series(None, index=items.index, dtype=object)
    return {
        (str(dept), str(item)): (split_list(points), basis if isinstance(basis, str) else None, split_list(stuff))
        for dept, item, points, basis, stuff in zip(
            items["dept_id"], items["item"], items["check_points"], items["legal_basis"], materials
        )
    }


class ChecklistRow(NamedTuple):
    """One row of a visit's checklist (the columns of ``CHECKLIST_COLUMNS``)."""

    visit_id: str
    point_no: int
    check_point: str
    dept_ids: str
    departments: str
    items: str
    legal_basis: str | None
    n_depts: int
    catalogued: bool


def checklist_rows(
    visit_tasks: pd.DataFrame,
    items: pd.DataFrame,
    dept_names: Mapping[str, str] | pd.Series | None = None,
    visit_ids: Iterable[str] | None = None,
) -> list[ChecklistRow]:
    """The rows of ``visit_checklists``, as tuples (for callers that make many documents)."""
    names = dict(dept_names.items()) if dept_names is not None else {}
    catalogue = catalogue_index(items)
    tasks = visit_tasks[["visit_id", "dept_id", "item"]].astype(str)
    if visit_ids is not None:
        tasks = tasks[tasks["visit_id"].isin(set(map(str, visit_ids)))]
    tasks = tasks.drop_duplicates().sort_values(["visit_id", "dept_id", "item"], kind="stable")
    rows: list[ChecklistRow] = []
    points: dict[str, _Point] = {}
    visit = None
    for visit_id, dept, item in zip(tasks["visit_id"], tasks["dept_id"], tasks["item"]):
        if visit_id != visit:
            rows += _ordered(visit, points, names)
            visit, points = visit_id, {}
        listed = catalogue.get((dept, item))
        texts, basis = (listed[0], listed[1]) if listed else ((item,), None)
        for text in texts:
            point = points.setdefault(point_key(text), _Point(text, len(points), catalogue=listed is not None))
            point.depts[dept] = None
            point.items[item] = None
            if basis:
                point.bases[basis] = None
    return rows + _ordered(visit, points, names)


def _ordered(visit_id: str | None, points: dict[str, _Point], names: Mapping[str, str]) -> list[ChecklistRow]:
    """One visit's points as rows: shared by more departments first, then in the items' order."""
    ordered = sorted(points.values(), key=lambda p: (-len(p.depts), p.order))
    return [
        ChecklistRow(
            str(visit_id),
            number,
            point.text,
            ";".join(point.depts),
            "、".join(str(names.get(d) or d) for d in point.depts),
            "；".join(point.items),
            "；".join(point.bases) or None,
            len(point.depts),
            point.catalogue,
        )
        for number, point in enumerate(ordered, start=1)
    ]


def visit_checklists(
    visit_tasks: pd.DataFrame,
    items: pd.DataFrame,
    dept_names: Mapping[str, str] | pd.Series | None = None,
    visit_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The merged checklist (一表通查) of each visit: one row per distinct check point.

    ``visit_tasks``: the plan's visit_tasks (visit_id, dept_id, item); ``items``: the items
    catalogue (dept_id, item, check_points, legal_basis); ``dept_names``: dept_id → name for
    the ``departments`` column (the id where a name is missing); ``visit_ids``: only these
    visits (default: every visit of ``visit_tasks``). Columns: ``CHECKLIST_COLUMNS`` —
    ``dept_ids`` ';'-joined, ``departments`` joined with 、, ``items`` and ``legal_basis``
    joined with ；, ``n_depts`` the departments relying on the point.
    """
    return checklist_frame(checklist_rows(visit_tasks, items, dept_names, visit_ids))


def checklist_frame(rows: Iterable[ChecklistRow]) -> pd.DataFrame:
    """Checklist rows as a frame with ``CHECKLIST_COLUMNS``."""
    frame = pd.DataFrame(list(rows), columns=list(CHECKLIST_COLUMNS))
    return frame.astype({"point_no": "int64", "n_depts": "int64", "catalogued": bool})


__all__ = [
    "CHECKLIST_COLUMNS",
    "CHECKLIST_HEADERS",
    "ChecklistRow",
    "catalogue_index",
    "checklist_frame",
    "checklist_rows",
    "point_key",
    "visit_checklists",
]
