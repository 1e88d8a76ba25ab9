"""`planner verify` speaks the console's language: its findings in Chinese by default, in English
under an English locale, with the same check, file and line either way (issue 18)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.verify import verify_plan
from tests.test_language import english_words
from tests.test_verify import tiny_plan


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> Path:
    """A plan of a generated tiny county whose report.html was edited after it was written."""
    root = tmp_path_factory.mktemp("verifyzh")
    tiny_plan(root)
    copy = root / "edited"
    shutil.copytree(root / "plan", copy)
    with (copy / "report.html").open("ab") as page:
        page.write(b"<p>edited</p>\n")
    return copy


def _verify(folder: Path, lang: str | None) -> tuple[int, str]:
    env = {"LANG": lang, "LC_ALL": None, "LC_MESSAGES": None}  # None: unset
    result = CliRunner().invoke(app, ["verify", str(folder), "--no-replan"], env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize("lang", [None, "zh_CN.UTF-8"])
def test_findings_are_chinese_by_default(edited, lang):
    """Locale unset or Chinese: every finding and the verdict are Chinese; only file names and
    codes stay as they are."""
    code, output = _verify(edited, lang)
    assert code == 1, output
    assert "错误：输出文件：report.html：已被改动：其 SHA-256 与 manifest.json 记录的不同" in output
    assert "报告：report.html：不是由计划表格生成的报告：自第" in output
    assert "核验未通过" in output and "Traceback" not in output
    assert english_words(output) == [], output


def test_findings_are_english_under_an_english_locale(edited):
    code, output = _verify(edited, "en_US.UTF-8")
    assert code == 1, output
    assert "outputs: report.html: edited: its SHA-256 differs from the one in the manifest" in output
    assert "report: report.html: not the report of the plan's tables: it differs from line" in output
    assert "NOT verified" in output and "核验" not in output


def test_a_finding_renders_in_either_language(edited):
    """Finding keeps its codes (check, subject) and renders its sentence in the language asked."""
    finding = next(f for f in verify_plan(edited).of("outputs") if f.subject == "report.html")
    assert finding.said.id == "verify.outputs.edited" and finding.severity == "error"
    assert finding.text("zh").startswith("已被改动") and finding.text("en").startswith("edited:")
    assert finding.message == finding.text("en")  # the tests' locale is English (tests/conftest.py)
