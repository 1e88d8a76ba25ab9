"""Re-checking a plan folder: is it the plan that was made, and is it a valid plan?

``verify_plan`` runs four independent checks and reports every finding; it never stops at the first:

1. **outputs** — every file listed in ``manifest.json`` is there with the SHA-256 recorded for it;
   a file that was edited (one byte is enough), is missing, or was added is an error;
2. **inputs** — the dataset files and the scenario file still have the bytes the plan read; a
   changed input is a warning (the plan was made from the old one, and the checks below use the
   new one, so they may then report differences that are not tampering);
3. **rules** — the plan tables, read back from Parquet, are checked against every hard rule by the
   independent checker (``planner.checker.check_plan``), with the scenario recorded in the manifest;
4. **draws** — the 双随机 draw is recomputed from its seed and the dataset
   (``planner.audit.verify_draw``) and compared row by row with ``draws.parquet``.

The manifest cannot vouch for itself: someone who edits a table and the manifest's hash of it
together is caught by the rules and draws checks, not by the hashes. Publishing the manifest's own
SHA-256 (``VerifyResult.manifest_sha256``) when the plan is approved closes that gap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from planner.checker import check_plan
from planner.dataset import Dataset, load_dataset
from planner.export import PLAN_TABLES, PlanFolder, read_plan_folder, recorded_dataset
from planner.outputs import sha256_file
from planner.plan import PlanTables
from planner.problems import InputError, Problem
from planner.scenario import Scenario

Check = Literal["outputs", "inputs", "rules", "draws"]
Severity = Literal["error", "warning"]
MANIFEST = "manifest.json"
#: files an operating system or Excel puts beside an open workbook: reported, but not as tampering
_HARMLESS_EXTRAS = (".DS_Store", "Thumbs.db", "desktop.ini")


@dataclass(frozen=True)
class Finding:
    """One thing a check found: which check, about what (a file, a rule), what, and how serious."""

    check: Check
    subject: str
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.check}: {self.subject}: {self.message}"


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of ``verify_plan``.

    ``ok`` is true when no check found an error (changed inputs are warnings). ``checked`` names the
    checks that ran to the end; a check that could not run (no dataset, an unreadable table) leaves
    an error finding saying why.
    """

    plan_dir: Path
    dataset_dir: Path | None
    manifest_sha256: str
    findings: tuple[Finding, ...]
    checked: tuple[Check, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors

    def of(self, check: Check) -> tuple[Finding, ...]:
        """The findings of one check."""
        return tuple(f for f in self.findings if f.check == check)

    def summary(self) -> list[str]:
        """Plain lines for people: one per finding, then the verdict."""
        lines = [f"{f.severity}: {f}" for f in self.findings]
        verdict = "verified" if self.ok else f"NOT verified: {len(self.errors)} error(s)"
        lines.append(
            f"{self.plan_dir}: {verdict}; checks run: {', '.join(self.checked) or 'none'}; "
            f"manifest sha256 {self.manifest_sha256}"
        )
        return lines


def verify_plan(plan_dir: Path | str, dataset_dir: Path | str | None = None) -> VerifyResult:
    """Re-check a plan folder: output hashes, input hashes, every hard rule, and the draw.

    ``dataset_dir`` is the dataset the plan was made from; by default the one recorded in the plan
    (draw.json's absolute path, else the manifest's scenario). Raises ``InputError`` only when
    ``plan_dir`` is not a plan folder at all (no readable manifest.json); everything else is a finding.
    """
    root = Path(plan_dir)
    manifest_path = root / MANIFEST
    manifest = _read_manifest(root, manifest_path)
    findings: list[Finding] = []
    checked: list[Check] = []

    findings += _check_outputs(root, manifest)
    checked.append("outputs")

    draw_record = _read_json(root / "draw.json")
    folder = (
        Path(dataset_dir)
        if dataset_dir is not None
        else recorded_dataset(PlanFolder(root, {}, {}, manifest, draw_record))
    )
    dataset = None
    if folder is None:
        findings.append(
            Finding(
                "inputs",
                "dataset",
                "the plan's dataset folder is not there any more; pass the "
                "dataset folder to re-check inputs, rules and draws",
            )
        )
    else:
        try:
            dataset = load_dataset(folder)
        except InputError as error:
            findings += [
                Finding("inputs", p.file, f"the dataset cannot be loaded: {p.describe()}") for p in error.errors
            ]
    if dataset is not None:
        findings += _check_inputs(root, manifest, dataset)
        checked.append("inputs")
        rule_findings = _check_rules(root, manifest, dataset)
        findings += rule_findings
        if not any(f.subject == "cannot re-check" for f in rule_findings):
            checked.append("rules")
        draw_findings = _check_draws(root, folder)
        findings += draw_findings
        if not any(f.subject == "cannot re-check" for f in draw_findings):
            checked.append("draws")
    return VerifyResult(root, folder, sha256_file(manifest_path), tuple(findings), tuple(checked))


def _read_manifest(root: Path, path: Path) -> dict[str, Any]:
    if not root.is_dir():
        raise InputError([Problem(str(root), None, None, None, "is not a plan folder")])
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, None, "not found: is this a plan folder?")])
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError([Problem(str(path), None, None, None, f"not valid JSON: {error}")]) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs"), dict):
        raise InputError([Problem(str(path), None, "outputs", None, "the manifest has no outputs to check")])
    return manifest


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


# ---------------------------------------------------------------- 1. outputs


def _check_outputs(root: Path, manifest: dict[str, Any]) -> list[Finding]:
    """Each recorded output has its recorded SHA-256; nothing is missing and nothing was added."""
    findings = []
    recorded: dict[str, str] = {}
    for name, digest in manifest["outputs"].items():
        relative = PurePosixPath(str(name))
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            findings.append(Finding("outputs", str(name), "the manifest names a path outside the plan folder"))
            continue
        recorded[relative.as_posix()] = str(digest)
    for name, digest in sorted(recorded.items()):
        path = root / name
        if not path.is_file():
            findings.append(Finding("outputs", name, "missing: the manifest lists it, the folder does not have it"))
        elif sha256_file(path) != digest:
            findings.append(Finding("outputs", name, "edited: its SHA-256 differs from the one in the manifest"))
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for name in sorted(present - set(recorded) - {MANIFEST}):
        harmless = Path(name).name in _HARMLESS_EXTRAS or Path(name).name.startswith("~$")
        findings.append(
            Finding(
                "outputs",
                name,
                "not in the manifest: added after the plan was written"
                + (" (a file the system or Excel keeps beside open files)" if harmless else ""),
                "warning" if harmless else "error",
            )
        )
    return findings


# ---------------------------------------------------------------- 2. inputs


def _check_inputs(root: Path, manifest: dict[str, Any], dataset: Dataset) -> list[Finding]:
    """Dataset files (matched by file name) and the scenario file still have the bytes the plan read."""
    recorded = {
        Path(str(path)).name: (str(path), str(digest)) for path, digest in (manifest.get("inputs") or {}).items()
    }
    findings = []
    seen = set()
    for path in sorted(dataset.files.values()):
        seen.add(path.name)
        if path.name not in recorded:
            findings.append(
                Finding(
                    "inputs", str(path), "the manifest does not record this file: the plan did not read it", "warning"
                )
            )
        elif sha256_file(path) != recorded[path.name][1]:
            findings.append(
                Finding("inputs", str(path), "changed since the plan was made (its SHA-256 differs)", "warning")
            )
    for name, (path, digest) in sorted(recorded.items()):
        if name in seen:
            continue
        candidates = [Path(path), root.parent / path]
        found = next((c for c in candidates if c.is_file()), None)
        kind = "scenario file" if Path(path).suffix.lower() == ".toml" else "input"
        if found is None:
            findings.append(Finding("inputs", path, f"{kind} not found; its bytes cannot be re-checked", "warning"))
        elif sha256_file(found) != digest:
            findings.append(
                Finding(
                    "inputs", str(found), f"{kind} changed since the plan was made (its SHA-256 differs)", "warning"
                )
            )
    return findings


# ---------------------------------------------------------------- 3. rules


def _check_rules(root: Path, manifest: dict[str, Any], dataset: Dataset) -> list[Finding]:
    """Every hard rule, by the independent checker, on the tables as they are on disk."""
    from planner.whatif import apply_inputs, apply_staff_scaling
    from planner.workdays import work_calendar

    try:
        plan = read_plan_folder(root)
    except InputError as error:
        return [Finding("rules", "cannot re-check", f"{Path(p.file).name}: {p.describe()}") for p in error.errors]
    try:
        scenario = Scenario.model_validate({**manifest["scenario"], "source": root / MANIFEST}, strict=False)
    except Exception as error:  # any shape the manifest's scenario may have been edited into
        return [Finding("rules", "cannot re-check", f"the manifest's scenario is not a valid scenario: {error}")]
    try:
        calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
        if manifest.get("parent"):
            facts = _reoptimised_facts(root, manifest["parent"], apply_inputs(dataset, scenario), scenario, calendar)
            if isinstance(facts, Finding):
                return [facts]
        else:
            facts = apply_staff_scaling(apply_inputs(dataset, scenario), scenario)  # as `planner plan` checks it
    except InputError as error:
        return [Finding("rules", "cannot re-check", str(p)) for p in error.errors]
    tables = PlanTables(**{name: plan.tables[name] for name in PLAN_TABLES if name != "draws"})
    try:
        broken = check_plan(tables, facts, scenario, set(calendar.workdays), plan.tables["draws"])
    except Exception as error:  # a table edited into a shape the checker cannot even read is broken too
        return [
            Finding("rules", "cannot re-check", f"the plan tables are not plan tables: {type(error).__name__}: {error}")
        ]
    return [Finding("rules", "hard rule", line) for line in broken]


def _reoptimised_facts(root: Path, parent: Any, dataset: Dataset, scenario: Scenario, calendar) -> Dataset | Finding:
    """The facts ``planner reoptimize`` checked the plan against: the dataset with the actuals the
    plan folder holds (``actuals/``) applied at the recorded as-of date, over the parent plan."""
    import datetime as dt

    from planner.actuals import ACTUALS_FOLDER, load_actuals, reoptimised_facts

    try:
        as_of = dt.date.fromisoformat(str(parent["as_of"]))
        parent_dir = Path(str(parent["plan"]))
        recorded_sha = str(parent["manifest_sha256"])
    except (TypeError, KeyError, ValueError):
        return Finding(
            "rules", "cannot re-check", "the manifest's parent record has no valid plan, manifest_sha256 and as_of"
        )
    if not (root / ACTUALS_FOLDER).is_dir():
        return Finding(
            "rules",
            "cannot re-check",
            "a re-optimised plan without its actuals folder (made before plans kept "
            "them): its rules cannot be re-checked",
            "warning",
        )
    if not (parent_dir / MANIFEST).is_file():
        return Finding(
            "rules",
            "cannot re-check",
            f"the parent plan {parent_dir} is not there any more; the rules of a re-optimised plan are checked over it",
        )
    if sha256_file(parent_dir / MANIFEST) != recorded_sha:
        return Finding(
            "rules",
            "cannot re-check",
            f"the parent plan {parent_dir} has changed since this plan was made (its manifest's SHA-256 differs)",
        )
    previous = read_plan_folder(parent_dir)
    return reoptimised_facts(dataset, scenario, calendar, previous.tables, load_actuals(root / ACTUALS_FOLDER), as_of)


# ---------------------------------------------------------------- 4. draws


def _check_draws(root: Path, dataset_dir: Path) -> list[Finding]:
    """The draw recomputed from its recorded seed and the dataset, row by row."""
    from planner.audit import verify_draw

    try:
        result = verify_draw(root, dataset_dir)
    except InputError as error:
        return [Finding("draws", "cannot re-check", str(p)) for p in error.errors]
    except Exception as error:  # an edited draw.json or draws.parquet the recomputation cannot use
        return [Finding("draws", "cannot re-check", f"{type(error).__name__}: {error}")]
    return [Finding("draws", "draws.parquet", line) for line in result.differences]


__all__ = ["Finding", "VerifyResult", "verify_plan"]
