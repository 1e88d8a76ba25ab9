"""planner compare lines plans up; acceptance rules make plan and compare exit 4 when they fail."""

from __future__ import annotations

from typer.testing import CliRunner

from planner.acceptance import EXIT_REJECTED
from planner.cli import app
from planner.compare import COMPARED
from planner.demo import generate_dataset
from planner.outputs import write_tables
from tests.test_plan import SCENARIO

runner = CliRunner()


def _tiny(tmp_path, extra: str = "") -> None:
    (tmp_path / "ds").mkdir(exist_ok=True)
    write_tables(generate_dataset("tiny", 5), tmp_path / "ds", ".parquet")
    (tmp_path / "s.toml").write_text(SCENARIO.format(seed=5, extra=extra))
    (tmp_path / "cut.toml").write_text(SCENARIO.format(seed=5, extra="[staff]\nscale = 0.5\n"))


def test_compare_two_plans_with_deltas(tmp_path):
    """A plan folder and a scenario side by side: both labelled, the second with its Δ, and a workbook."""
    _tiny(tmp_path)
    made = runner.invoke(app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "full"), "--quiet"])
    assert made.exit_code == 0, made.output
    result = runner.invoke(
        app,
        [
            "compare",
            str(tmp_path / "full"),
            str(tmp_path / "cut.toml"),
            "--xlsx",
            str(tmp_path / "c.xlsx"),
            "--html",
            str(tmp_path / "c.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "full" in result.stdout and "cut" in result.stdout
    assert "(+" in result.stdout or "(−" in result.stdout
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "c.xlsx").active
    assert [c.value for c in sheet[1]] == ["指标", "键", "full", "cut"] and sheet.max_row == 1 + len(COMPARED)
    assert '<script src="http' not in (tmp_path / "c.html").read_text(encoding="utf-8")
    # in the officials' language (no English locale): no English word but the plans' labels
    from tests.test_language import english_words

    chinese = runner.invoke(
        app, ["compare", str(tmp_path / "full"), str(tmp_path / "full")], env={"LANG": "zh_CN.UTF-8", "COLUMNS": "80"}
    )
    assert chinese.exit_code == 0, chinese.output
    printed = (chinese.stdout + chinese.stderr).replace(str(tmp_path), "")
    assert set(english_words(printed)) <= {"full"}, printed
    cells = [c.value for row in sheet.iter_rows(min_row=2) for c in row[:1] + row[2:] if isinstance(c.value, str)]
    assert not [w for cell in cells for w in english_words(cell)], cells


def test_a_rate_difference_is_in_percentage_points():
    """30.7 % → 27.5 %: 3.2 percentage points less, not "−3.2 %" (which would mean of 30.7 %)."""
    from planner.compare import _show_delta

    assert _show_delta("joint_visit_rate", abs(0.275 - 0.307)) == "3.2 个百分点"
    assert _show_delta("visits", 12) == "12"


def test_failed_acceptance_rule_exits_4_but_keeps_the_plan(tmp_path):
    """A rule the plan cannot meet: plan exits 4, says FAIL, and the plan folder is still written for review."""
    _tiny(tmp_path, extra='acceptance = ["visits <= 1", "scheduled >= 1"]\n')
    result = runner.invoke(app, ["plan", str(tmp_path / "s.toml"), "--out", str(tmp_path / "p"), "--quiet"])
    assert result.exit_code == EXIT_REJECTED
    assert "FAIL visits <= 1" in result.stderr and "pass scheduled >= 1" in result.stderr
    assert (tmp_path / "p/kpis.json").is_file()
    compared = runner.invoke(app, ["compare", str(tmp_path / "p")])
    assert compared.exit_code == EXIT_REJECTED
