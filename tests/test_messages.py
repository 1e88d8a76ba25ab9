"""The message catalogues: one sentence per id in each language, and the code uses only ids they hold."""

from __future__ import annotations

import datetime as dt
import re
import string
from pathlib import Path

import pytest

from planner.messages import LOCALES, Dept, Person, catalogue, listing, msg, reason
from planner.model.matching import WHY_NOT
from planner.rules import OUTCOMES, RULEBOOK, reason_label

ROOT = Path(__file__).resolve().parents[1]
#: ids built at run time from a prefix (``f"rule.{code}"``, ``f"obstacle.{why}"`` …)
DYNAMIC_PREFIXES = (
    "rule.",
    "schedule.",
    "obstacle.",
    "sep.",
    "status.",
    "method.",
    "reopt.",
    "change_kind.",
    "change.",
    "input.place.",
    "input.count.",
    "input.severity.",
    "verify.seats.why.",
    "input.xlsx.",
    "input.cell.range.",
    "input.actuals.too_late.",
    "input.scenario.",
    "kind.",
    "stage.name.",
    "output.advice.",
    "sheet.",
    "col.",
    "kpi.",
    "timing.",
    "alert.",
    "result.",
    "report.weekday.",
    "credit.reason.",
    "verify.check.",
    "cli.history.col.",
    "agenda.col.",
)
#: a message id in the code: a known prefix, a dot, then not a file's suffix ("report.html" is a file)
ID = re.compile(
    r"""["']((?:reason|change|release|sampling|obstacle|rule|sep|status|method|reopt|change_kind|schedule|input|check|output|signature"""
    r"""|diagnose|fix|kind|cli|stage|sheet|col|kpi|timing|word|overview|workbook|alert|result|ledger|report|export|compare|credit|verify|lineage|agenda)"""
    r"""\.(?!(?:html|parquet|json|xlsx|csv|md|toml|py)["'])[a-z0-9_.]+)["']"""
)
CJK = re.compile(r"[\u4e00-\u9fff]")


def fields(sentence: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(sentence) if name}


def test_both_catalogues_hold_the_same_ids_with_the_same_fields():
    """Every id has a non-empty sentence in Chinese and in English, with the same {fields}."""
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en)
    for message_id in zh:
        assert zh[message_id] and en[message_id], message_id
        assert fields(zh[message_id]) == fields(en[message_id]), message_id


def test_english_sentences_hold_no_chinese_and_chinese_no_english_words():
    """The English catalogue is English; a Chinese sentence holds no English word of 4+ letters."""
    for message_id, sentence in catalogue("en").items():
        assert not CJK.search(sentence), message_id
    for message_id, sentence in catalogue("zh").items():
        prose = re.sub(r"\{\w+\}", "", sentence)
        # not prose: console markup ([green]…[/]), file names, commands and options, scenario keys
        prose = re.sub(r"\[/?[a-z ]*\]|\b\w+\.(?:xlsx|html|parquet|json|md|csv)\b|planner \w+|--[a-z-]+", "", prose)
        prose = re.sub(r"\b(?:visit_tasks|routes|tasks|visits)\b", "", prose)  # the plan's tables, by name
        assert not re.search(r"[A-Za-z]{4,}", prose), message_id


def test_every_id_in_the_code_is_in_the_catalogue():
    """Ids written in planner/ exist; every catalogue id is used (literally or by a known prefix)."""
    used: set[str] = set()
    for path in (ROOT / "planner").rglob("*.py"):
        used |= set(ID.findall(path.read_text(encoding="utf-8")))
    known = set(catalogue("zh"))
    assert used - known == set()
    unused = {m for m in known - used if not m.startswith(DYNAMIC_PREFIXES)}
    assert unused == set()
    assert {f"verify.seats.why.{code}" for code in WHY_NOT} <= known  # Roster.why_not's, said by verify


def test_every_rule_with_a_label_and_every_outcome_is_in_the_catalogue():
    """The rulebook's categories come from the catalogue, in both languages."""
    for code in [r.code for r in RULEBOOK if r.severity != "goal"] + [o.code for o in OUTCOMES]:
        assert reason_label(code) != reason_label("other"), code
        assert reason_label(code, "en") != reason_label("other", "en"), code


def test_a_reason_reads_names_not_codes_in_either_language():
    """Department and inspector ids read as names; lists take each language's separator."""
    names = {"XF": "消防救援大队", "SJ": "市场监管所", "I001": "张三"}
    why = reason(
        "staff_capacity",
        "reason.staff_capacity",
        depts=listing([Dept("XF"), Dept("SJ")]),
        days=3,
        window="2026-03-02…2026-03-04",
        details=listing([msg("reason.staff_capacity.dept", dept=Dept("XF"), people=2, days=3, obstacles="")]),
    )
    zh = why.render("zh", names)
    assert "消防救援大队、市场监管所" in zh and "XF" not in zh and why.code == "staff_capacity"
    en = why.render("en", names)
    assert "消防救援大队, 市场监管所" in en and "working days" in en
    note = msg("release.stand_in", person=Person("I001"), dept=Dept("XF"), why=msg("release.conflict"), other="B")
    assert note.render("zh", names).startswith("张三（消防救援大队）与当日检查的企业须回避")
    assert msg("change.done", date=dt.date(2026, 3, 2)).render("en") == "done as planned on 2026-03-02"


def test_an_unknown_language_or_id_is_named():
    with pytest.raises(ValueError, match="xx"):
        catalogue("xx")
    with pytest.raises(KeyError, match="no.such"):
        msg("no.such").render()
    assert set(LOCALES) == {"zh", "en"}
