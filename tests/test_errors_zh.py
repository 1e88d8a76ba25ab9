"""Errors and warnings speak the console's language: Chinese by default, English under an English
locale, with the same file, row, column, value and rule either way (issue 18, item 2)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from planner.cli import app
from planner.messages import console_lang
from planner.problems import Problem, format_report
from planner.tables import MAX_ERRORS
from tests.conftest import valid_tables, write_dataset

ROOT = Path(__file__).resolve().parents[1]
#: an English word as tests/test_language.py finds it: not part of a path, a dotted key or an option
WORD = re.compile(r"(?<![\w.:/\\-])[A-Za-z]*[a-z][A-Za-z]*(?![\w:/\\-])")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: the ids and values an official typed or the contract names (column names, codes): not prose
NAMES = {"township", "townships", "routine", "campaign", "followup", "triggered"}  # a reference, a value, choices
NAMES |= {"time_limit_s", "workers", "True"}  # the keys a section knows, a value
NAMES |= {"start", "datetime", "date"}  # the value of [horizon] as Python shows it


def english_words(text: str) -> list[str]:
    return [w for w in WORD.findall(text) if len(w) >= 4]


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    """A dataset folder with several kinds of bad cells and a warning, and a bad scenario beside it."""
    folder = tmp_path_factory.mktemp("errors")
    tables = valid_tables()
    tables["townships"][2][0] = ""  # a required value is blank
    tables["inspectors"][2][3] = ""  # no certificate: a warning
    demands = tables["demands"]
    header = demands[0]
    demands[1][header.index("duration_min")] = "abc"  # not a whole number
    demands[1][header.index("kind")] = "routine"  # not one of the kinds
    demands[2][header.index("window_end")] = "2026-13-40"  # not a date
    demands[2][header.index("duration_min")] = "999"  # out of range
    write_dataset(folder / "dataset", tables)
    (folder / "bad.toml").write_text(
        'name = "bad"\ndataset = "dataset"\nseed = "x"\n'
        "[horizon]\nstart = 2026-03-01\nend = 2026-02-01\n"
        "[solver]\nworkers = 0\nunknown_key = 1\n[travel]\nspeed_kmh = true\n",
        encoding="utf-8",
    )
    return folder


def _validate(target: Path, lang: str | None) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["validate", str(target)], env={"LANG": lang})  # None: unset
    return result.exit_code, result.output


def _prose(output: str, folder: Path) -> str:
    """The output without the file names (paths) and the column and key names it names."""
    return re.sub(r"(?:列|键) [^，：\s]+", "", output.replace(str(folder), ""))


@pytest.mark.parametrize("lang", ["zh_CN.UTF-8", None])
def test_a_bad_dataset_is_reported_in_chinese_by_default(bad, lang):
    """Under a Chinese locale and with none: Chinese sentences, the place still named, exit 2."""
    code, output = _validate(bad / "dataset", lang)
    assert code == 2, output
    assert "第 3 行，列 township，值 ''：必须填写" in output
    assert "第 2 行，列 duration_min，值 'abc'：必须是整数" in output
    assert "第 3 行，列 duration_min，值 '999'：必须在 1 到 480 之间" in output
    assert "第 3 行，列 window_end，值 '2026-13-40'：必须是日期" in output
    assert "列 kind，值 'routine'：必须是以下之一：" in output
    assert "警告：第 3 行，列 cert_no，值 ''：没有执法证号，该人员不会被派往检查" in output
    assert re.search(r"demands\.csv：\d+ 个错误", output) and "个错误：未写出任何文件。" in output
    assert set(english_words(_prose(output, bad))) <= NAMES


def test_a_bad_scenario_is_reported_in_chinese(bad):
    """Pydantic's common errors read as Chinese sentences of the catalogue, the key still named."""
    code, output = _validate(bad / "bad.toml", None)
    assert code == 2, output
    assert re.search("键 horizon，值 .*：结束日期 2026-02-01 早于开始日期 2026-03-01", output)
    assert "键 solver.workers，值 '0'：必须不小于 1" in output
    assert "键 solver.unknown_key：未知的键；此处可用的键：time_limit_s, workers" in output
    assert "键 seed，值 'x'：必须是整数" in output
    assert "键 travel.speed_kmh，值 'True'：必须是数字" in output
    assert set(english_words(_prose(output, bad))) <= NAMES


def test_the_same_report_in_english(bad):
    """An English locale: the same places in today's English words, no Chinese but the names."""
    code, output = _validate(bad / "dataset", "en_US.UTF-8")
    assert code == 2, output
    assert "row 3, column township, value '': a value is required" in output
    assert "row 2, column duration_min, value 'abc': must be a whole number" in output
    assert "warning: row 3, column cert_no, value '': no 执法证号: this inspector is never assigned" in output
    assert re.search(r"demands\.csv: \d+ errors", output) and "errors: nothing was written." in output
    names = {"执法证号", "临江镇"}  # the certificate's own name; a value
    chinese = [line for line in output.splitlines() if CJK.search(line)]
    assert all(any(n in line for n in names) for line in chinese), chinese
    code, output = _validate(bad / "bad.toml", "en_US.UTF-8")
    assert code == 2 and re.search("key horizon, value .*: end 2026-02-01 is before start 2026-03-01", output)
    assert "key solver.workers, value '0': Input should be greater than or equal to 1" in output
    assert not CJK.search(output)


def test_a_subprocess_without_a_locale_speaks_chinese(bad):
    """The installed command, its locale unset: the report on stderr is Chinese, exit 2."""
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "planner.cli", "validate", str(bad / "dataset")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "第 2 行，列 duration_min，值 'abc'：必须是整数" in done.stderr
    assert "未写出任何文件" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("environment", "lang"),
    [
        ({}, "zh"),
        ({"LANG": "C"}, "zh"),
        ({"LANG": "POSIX"}, "zh"),
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "en_GB"}, "en"),
        ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LC_MESSAGES": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LC_ALL": "", "LANG": "en_US.UTF-8"}, "en"),
    ],
)
def test_the_console_language_follows_the_locale(monkeypatch, environment, lang):
    """LC_ALL, LC_MESSAGES, LANG: the first one set decides; English only when it starts with en."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert console_lang() == lang


def test_a_report_keeps_its_limits_in_either_language():
    """The per-file limit and its count line, the error cap's sentence: in Chinese and in English."""
    many = [Problem("demands.csv", row, "kind", "x", "must be one of key") for row in range(2, 30)]
    zh, en = format_report(many, lang="zh"), format_report(many, lang="en")
    assert zh[0] == "demands.csv：28 个错误" and en[0] == "demands.csv: 28 errors"
    assert zh[-1] == "  …… 本文件另有 8 个问题未列出" and en[-1] == "  … and 8 more in this file"
    assert len(zh) == len(en) == 22
    stopped = Problem("x.csv", None, None, None, _stopped())
    assert stopped.describe("zh").startswith(f"发现 {MAX_ERRORS:,} 个错误后停止读取")
    assert stopped.describe("en").startswith(f"reading stopped after {MAX_ERRORS:,} errors")


def _stopped():
    from planner.messages import msg

    return msg("input.stopped", limit=f"{MAX_ERRORS:,}")
