"""The docs stay true to the code: contract tables, scenario keys and commands."""

from __future__ import annotations

from pathlib import Path

from planner.cli import app
from planner.scenario import (
    Alerts,
    Caps,
    Credit,
    Horizon,
    Joint,
    Offsite,
    Reoptimize,
    Results,
    Sampling,
    Scenario,
    Solver,
    Staff,
    Travel,
)
from planner.schema import contract_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_contract_tables_match_the_schema():
    """docs/data-contract.md holds exactly what planner/schema.py declares (regenerate it if not)."""
    docs = (ROOT / "docs/data-contract.md").read_text(encoding="utf-8")
    begin = "<!-- BEGIN generated: planner.schema.contract_markdown() -->\n"
    block = docs[docs.index(begin) + len(begin) : docs.index("<!-- END generated -->")]
    assert block == contract_markdown()


def test_every_scenario_key_is_documented():
    """Each scenario key appears in the docs' scenario table."""
    docs = (ROOT / "docs/data-contract.md").read_text(encoding="utf-8")
    keys = [k for k in Scenario.model_fields if k != "source"]
    sections = (
        ("horizon", Horizon),
        ("solver", Solver),
        ("caps", Caps),
        ("travel", Travel),
        ("staff", Staff),
        ("sampling", Sampling),
        ("joint", Joint),
        ("alerts", Alerts),
        ("results", Results),
        ("reoptimize", Reoptimize),
        ("credit", Credit),
        ("offsite", Offsite),
    )
    keys += [f"[{s}] {k}" for s, model in sections for k in model.model_fields]
    keys = [k for k in keys if k not in dict(sections)]
    missing = [
        k for k in keys if f"| `{k}` |" not in docs and f"| `[{k.split('] ')[0][1:]}.{k.split('] ')[1]}]` |" not in docs
    ]
    assert not missing, missing


def test_readme_lists_every_command():
    """The README's CLI table names every command."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        assert f"planner {name}" in readme, name


def test_rulebook_table_matches_the_rulebook():
    """docs/architecture.md holds the rulebook as planner/rules declares it (regenerate it if not)."""
    from planner.rules import rulebook_markdown

    docs = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    begin = "<!-- BEGIN generated: planner.rules.rulebook_markdown() -->\n"
    block = docs[docs.index(begin) + len(begin) : docs.index("<!-- END generated -->")]
    assert block == rulebook_markdown()
