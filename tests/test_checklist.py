"""一表通查: the items catalogue loads like every table, and each visit's checklist lists each point once."""

from __future__ import annotations

import pandas as pd
import pytest

from planner.checklist import visit_checklists
from planner.dataset import load_dataset
from planner.problems import InputError
from tests.conftest import valid_tables, write_csv, write_dataset

ITEMS_HEADER = ["dept_id", "item", "check_points", "legal_basis", "materials"]
SJ_ITEM = [
    "SJ",
    "危险化学品经营检查",
    "经营许可证;安全出口;消防通道；危化品储存",
    "《危险化学品安全管理条例》",
    "经营许可证;购销台账",
]
XF_ITEM = ["XF", "消防安全检查", "消防通道;安全出口 ;灭火器材", "《中华人民共和国消防法》", "消防设施检测报告"]
DEPT_NAMES = {"SJ": "市场监督管理局", "XF": "消防救援大队"}


def catalogue(*rows: list[str]) -> pd.DataFrame:
    return pd.DataFrame([r for r in rows], columns=ITEMS_HEADER)


def test_shared_points_are_listed_once_with_both_departments():
    """消防通道 and 安全出口, named by SJ's and XF's items, are one row each listing both departments and items."""
    visit_tasks = pd.DataFrame(
        {
            "task_id": ["SJ-1", "XF-1", "XF-2"],
            "visit_id": ["v1", "v1", "v2"],
            "dept_id": ["SJ", "XF", "XF"],
            "item": ["危险化学品经营检查", "消防安全检查", "消防安全检查"],
        }
    )
    rows = visit_checklists(visit_tasks, catalogue(SJ_ITEM, XF_ITEM), DEPT_NAMES)
    joint = rows[rows["visit_id"] == "v1"].set_index("check_point")
    assert list(joint.index) == ["安全出口", "消防通道", "经营许可证", "危化品储存", "灭火器材"]
    for shared in ("安全出口", "消防通道"):
        assert joint.loc[shared, "dept_ids"] == "SJ;XF"
        assert joint.loc[shared, "departments"] == "市场监督管理局、消防救援大队"
        assert joint.loc[shared, "items"] == "危险化学品经营检查；消防安全检查"
        assert joint.loc[shared, "legal_basis"] == "《危险化学品安全管理条例》；《中华人民共和国消防法》"
        assert joint.loc[shared, "n_depts"] == 2
    assert joint.loc["灭火器材", "dept_ids"] == "XF" and joint.loc["经营许可证", "departments"] == "市场监督管理局"
    assert list(joint["point_no"]) == [1, 2, 3, 4, 5]
    alone = rows[rows["visit_id"] == "v2"]
    assert list(alone["check_point"]) == ["消防通道", "安全出口", "灭火器材"] and set(alone["dept_ids"]) == {"XF"}


def test_an_item_missing_from_the_catalogue_is_still_checked():
    """A task whose item the catalogue lacks gives one row: the item itself, not catalogued, no legal basis."""
    visit_tasks = pd.DataFrame({"task_id": ["SJ-9"], "visit_id": ["v1"], "dept_id": ["SJ"], "item": ["食品经营检查"]})
    rows = visit_checklists(visit_tasks, catalogue(XF_ITEM), DEPT_NAMES)
    assert rows[["check_point", "catalogued", "departments"]].values.tolist() == [
        ["食品经营检查", False, "市场监督管理局"]
    ]
    assert rows["legal_basis"].isna().all()


def write_items(folder, rows):
    write_csv(folder, "items", [ITEMS_HEADER, *rows])


def test_items_table_loads_with_chinese_headers(tmp_path):
    """The catalogue is found in the dataset folder like any optional table, Chinese headers and all."""
    folder = write_dataset(tmp_path / "ds", valid_tables())
    write_csv(folder, "items", [["部门编号", "检查事项", "检查要点", "检查依据"], SJ_ITEM[:4], XF_ITEM[:4]])
    dataset = load_dataset(folder)
    assert list(dataset.items["item"]) == ["危险化学品经营检查", "消防安全检查"]
    assert dataset.items["materials"].isna().all()
    missing = [w for w in dataset.warnings if w.message.id == "input.items.not_catalogued"]
    assert [(w.file.endswith("sampling_plan.csv"), w.row, w.value) for w in missing] == [(True, 2, "食品经营检查")]


def test_bad_items_rows_are_errors_with_row_and_column(tmp_path):
    """Unknown department, repeated (dept_id, item), blank legal basis, no check point: all errors, each with its row."""
    folder = write_dataset(tmp_path / "ds", valid_tables())
    write_items(
        folder,
        [
            SJ_ITEM,
            ["XX", "消防安全检查", "消防通道", "《消防法》", ""],
            ["SJ", "危险化学品经营检查", "安全出口", "《危险化学品安全管理条例》", ""],
            ["XF", "消防安全检查", "消防通道", "", ""],
            ["XF", "防火检查", ";；", "《中华人民共和国消防法》", ""],
        ],
    )
    with pytest.raises(InputError) as caught:
        load_dataset(folder)
    errors = {(p.row, p.column): p.rule for p in caught.value.errors if p.file.endswith("items.csv")}
    assert set(errors) == {(3, "dept_id"), (4, "dept_id+item"), (5, "legal_basis"), (6, "check_points")}, errors
    assert "departments.dept_id" in errors[(3, "dept_id")] and "row 2" in errors[(4, "dept_id+item")]


def test_bad_items_file_exits_2_naming_row_and_column(tmp_path):
    """planner validate: a broken items row exits 2 and names the file, row and column."""
    from typer.testing import CliRunner

    from planner.cli import app

    folder = write_dataset(tmp_path / "ds", valid_tables())
    write_items(folder, [SJ_ITEM, ["XF", "消防安全检查", "消防通道", "", ""]])
    result = CliRunner().invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "items.csv" in result.stderr and "row 3, column legal_basis" in result.stderr
