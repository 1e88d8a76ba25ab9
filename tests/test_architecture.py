"""The package's shape: imports go one way, and there are no import circles.

Layers, lowest first: the rules (``planner.rules``) → the model (``planner.model``) → the library
(pipeline, re-optimisation, diagnose, verify …) → the CLI. Reading files is the library's job,
so the model and the rules never import a loader; the checker re-checks a plan without the
model; and ``planner verify`` does not re-optimise. Imports inside ``if TYPE_CHECKING:`` are
annotations only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "planner"

#: modules that read or write files, or present plans: never imported by the model or the rules
FILE_LAYER = {
    "planner.tables",
    "planner.dataset",
    "planner.scenario",
    "planner.outputs",
    "planner.export",
    "planner.workbook",
    "planner.report",
    "planner.actuals",
}
#: the library above the model
LIBRARY = {
    "planner.pipeline",
    "planner.checker",
    "planner.reoptimize",
    "planner.verify",
    "planner.compare",
    "planner.engine",
    "planner.bench",
    "planner.sampling",
    "planner.audit",
    "planner.whatif",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def runtime_imports(path: Path) -> set[str]:
    """The planner modules ``path`` imports when it runs (at module level or in a function)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("planner"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("planner"):
            for alias in node.names:  # "from planner.rules import caps" imports the module planner.rules.caps
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


IMPORTS = {name: runtime_imports(path) for name, path in MODULES.items()}


def importers_of(pattern) -> list[tuple[str, str]]:
    return [(a, b) for a, targets in IMPORTS.items() for b in sorted(targets) if pattern(a, b)]


def test_nothing_imports_the_cli():
    """The CLI is the top: the library never reaches up to it."""
    assert importers_of(lambda a, b: b == "planner.cli" and a != "planner.cli") == []


@pytest.mark.parametrize("layer", ["planner.model", "planner.rules"])
def test_the_model_and_the_rules_read_no_files(layer):
    """Model and rules work on prepared values: no loader, writer, report, nor the library above them."""
    assert (
        importers_of(
            lambda a, b: a.startswith(layer) and (b in FILE_LAYER or b in LIBRARY or b.startswith("planner.diagnose"))
        )
        == []
    )


def test_the_rules_sit_below_the_model():
    """A rule is written once and the model calls it, never the other way."""
    assert importers_of(lambda a, b: a.startswith("planner.rules") and b.startswith("planner.model")) == []


def test_the_checker_does_not_use_the_model():
    """The checker re-checks a plan from its tables and the rules' checks, so a model bug cannot hide."""
    assert importers_of(lambda a, b: a == "planner.checker" and b.startswith("planner.model")) == []


def test_verify_reoptimises_only_to_replan():
    """``planner verify`` re-checks a re-optimised plan's rules from the recorded actuals, not by
    planning again: only its re-plan check (``_reoptimise_again``, as ``make_plan`` for an annual
    plan) runs the re-optimisation, to compare what it makes with the folder."""
    tree = ast.parse((PACKAGE / "verify.py").read_text(encoding="utf-8"))
    users = {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.ImportFrom) and inner.module == "planner.reoptimize"
    }
    top = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "planner.reoptimize"]
    assert users == {"_reoptimise_again"} and top == []


def test_no_import_circles():
    """No module reaches itself through its imports (a package's ``__init__`` importing its own
    submodules is its table of contents, not a circle)."""

    def edges(name: str) -> set[str]:
        return {b for b in IMPORTS[name] if b in IMPORTS and not name.startswith(b + ".")}

    circles, state = [], {}

    def walk(name: str, path: list[str]) -> None:
        state[name] = "open"
        for nxt in sorted(edges(name)):
            if state.get(nxt) == "open":
                circles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in state:
                walk(nxt, path + [nxt])
        state[name] = "done"

    for name in sorted(IMPORTS):
        if name not in state:
            walk(name, [name])
    assert circles == []


def test_the_checks_see_every_module():
    """The tests above read every module of the package (a moved file is not silently skipped)."""
    assert {"planner.cli", "planner.checker", "planner.rules.caps", "planner.model.merge"} <= set(IMPORTS)
