"""Re-checking a plan folder: is it the plan that was made, and is it a valid plan?

``verify_plan`` runs independent checks and reports every finding, each under the name of the
check that found it; it never stops at the first:

1. **outputs** — every file listed in ``manifest.json`` is there with the SHA-256 recorded for it;
   a file that was edited (one byte is enough), is missing, or was added is an error;
2. **signature** (with a public key) — ``manifest.sig`` is a valid Ed25519 signature of
   manifest.json by that key (``planner.signing``);
3. **inputs** — the dataset files and the scenario file still have the bytes the plan read; a
   changed input is a warning (the plan was made from the old one, and the checks below use the
   new one, so they may then report differences that are not tampering);
4. **rules** — the plan tables, read back from Parquet, are checked against every hard rule by the
   independent checker (``planner.checker.check_plan``), with the scenario recorded in the manifest;
5. **draws** — the 双随机 draw is recomputed from its seed and the dataset
   (``planner.audit.verify_draw``) and compared row by row with ``draws.parquet``;
6. **tasks** — the task list is recomputed from the demands and the recomputed draw
   (``model.instance.build_instance``) and compared cell by cell with ``tasks.parquet``; each
   unscheduled task's kind, department, enterprise and ``mandatory`` (from its kind:
   ``rules.tasks.is_mandatory``) must be its task's;
7. **reasons** — every unscheduled task is a task of the plan and is not placed; its reason names
   a rule or outcome of the rulebook by its ``reason_code`` (``rules.reason_codes``); a reason
   saying that the task has no possible day (outside the horizon, 观察期, holidays, quiet days) is
   recomputed and must be the same sentence in the plan's language, and every task without a
   possible day must say so; "no certified inspector" must name a department without one. Capacity, cap and day-length reasons are accepted as
   stated: only a re-plan recomputes them;
8. **kpis** — the figures of kpis.json recomputed from the tables by the planner's own functions
   (``pipeline.compute_kpis``, ``model.bounds.rule_bound``); the capacity bounds and the facts of
   the search (status, exact models, which schedule was kept) need the solve and are not;
9. **workbook**, **report** — plan.xlsx and report.html written again from the tables on disk,
   kpis.json, draw.json and the dataset's names, and compared byte for byte; only under the
   planner version, writer versions and output language the manifest records (else a warning).
   A re-optimised plan's 月会商 agenda (``planner.agenda.recorded_agenda``) is made again from the
   folder's tables, the recorded scenario and the parent's as-of and freeze window: its sheets,
   its report section and agenda.md are compared with the rest;
10. **seats** — 随机选派: every member's lottery number recomputed (``model.matching.lottery``);
    every member on the certified roster, of the department recorded, not on leave, without a
    conflict (回避) with the crew's enterprises; and no member drew a larger number than an
    eligible inspector of their department who was free all horizon (see ``_check_seats``);
11. **lineage** (a re-optimised plan) — the plan against its parent (``actuals.lineage_messages``);
12. **ledger** — ledger.parquet (一企一档) recomputed from the tables, the dataset's history and,
    for a re-optimised plan, its actuals and its parent's ledger (``ledger.plan_ledger``), and
    compared row for row; the workbook's ledger sheets and the report's alerts are rebuilt from
    the recomputed ledger. Not run for a plan whose manifest lists no ledger.parquet;
13. **replan** (``replan=True``) — the plan made again from the dataset, the scenario and the seed
    (``pipeline.make_plan``: same inputs and versions give the same plan bit for bit) and compared
    table by table and figure by figure; the members of every crew-day are compared under
    **seats**. A re-optimised plan is made again by ``planner reoptimize`` over its recorded
    parent, with the actuals the folder holds, at the recorded as-of date and freeze window, and
    its changes.parquet and followups.parquet are compared too. Only for plans whose search was
    not stopped.

Without a signature the manifest cannot vouch for itself: someone who edits a table and the
manifest's hash of it together passes the hash check, and is caught only where a recomputation
differs. A valid signature by the approving office's key closes that gap (docs/security.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import math
import tempfile
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np
import pandas as pd

from planner import __version__
from planner.checker import check_plan
from planner.dataset import Dataset, load_dataset
from planner.export import PLAN_TABLES, PlanFolder, read_plan_folder, recorded_dataset
from planner.messages import DEFAULT_LANG, LANGUAGE_TAGS, Message, console_lang, language_of, listing, msg
from planner.outputs import sha256_file, write_table
from planner.plan import PlanTables
from planner.problems import InputError, Problem, as_is
from planner.scenario import Scenario
from planner.signing import SIGNATURE, check_signature, load_public_key

Check = Literal[
    "outputs",
    "signature",
    "inputs",
    "rules",
    "draws",
    "tasks",
    "reasons",
    "kpis",
    "workbook",
    "report",
    "seats",
    "lineage",
    "ledger",
    "replan",
]
Severity = Literal["error", "warning"]
MANIFEST = "manifest.json"
#: the language of plans written before manifest.json recorded it
OUTPUT_LANGUAGE = LANGUAGE_TAGS[DEFAULT_LANG]
#: libraries whose versions decide the bytes of plan.xlsx and report.html (manifest.json ``versions``)
WRITER_VERSIONS = ("xlsxwriter", "plotly")
#: libraries whose versions decide the plan itself (a re-plan under others may differ)
PLANNING_VERSIONS = ("ortools", "pandas", "pyarrow", "numpy")
#: kpis.json keys that describe the search or need the solve: compared only by a re-plan
KPIS_NOT_RECOMPUTED = (
    "status",
    "method",
    "capacity_bound_mandatory",
    "capacity_bound_tasks",
    "schedule_kept",
    "split_visits",
    "exact_models",
    "exact_models_proven",
    "exact_models_skipped",
    "timings",
    "reoptimisation",
)
#: KPIs added with off-site checks: a plan written before them lacks them, and has none
_KPIS_SINCE_OFFSITE = ("offsite_checks", "offsite_share")
#: reason categories (rule codes) whose claim "no possible day" build_instance recomputes exactly
_NO_DAY_CATEGORIES = ("window", "observation_period", "working_day", "quiet_days")
#: at most this many findings of one kind are listed; the rest are counted
_LISTED = 20
#: files an operating system or Excel puts beside an open workbook: reported, but not as tampering
_HARMLESS_EXTRAS = (".DS_Store", "Thumbs.db", "desktop.ini")


#: subjects that are not a file or a path, read as words of the console's language
_SUBJECTS = {
    "cannot re-check": "verify.subject.cannot_recheck",
    "not re-checked": "verify.subject.not_rechecked",
    "hard rule": "verify.subject.hard_rule",
    "parent plan": "verify.subject.parent_plan",
    "dataset": "verify.subject.dataset",
}


@dataclass(frozen=True)
class Finding:
    """One thing a check found: which check (a code), about what (a file, a rule: a code too), what
    (``said``, a sentence of the message catalogue), and how serious. ``message`` is the sentence
    in the console's language; ``text(lang)`` in any."""

    check: Check
    subject: str
    said: Message
    severity: Severity = "error"

    @property
    def message(self) -> str:
        return self.text(console_lang())

    def text(self, lang: str = DEFAULT_LANG) -> str:
        return self.said.render(lang)

    def line(self, lang: str = DEFAULT_LANG) -> str:
        """The finding for people: the check's name, the subject and the sentence, in ``lang``."""
        subject = msg(_SUBJECTS[self.subject]).render(lang) if self.subject in _SUBJECTS else self.subject
        return msg("verify.line", check=check_name(self.check, lang), subject=subject, text=self.said).render(lang)

    def __str__(self) -> str:
        return self.line(console_lang())


def _severity(finding: Finding) -> Message:
    return msg("cli.severity.error" if finding.severity == "error" else "cli.severity.warning")


def check_name(check: Check, lang: str = DEFAULT_LANG) -> str:
    """What a check is called in ``lang`` (its code is ``check``)."""
    return msg(f"verify.check.{check}").render(lang)


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of ``verify_plan``.

    ``ok`` is true when no check found an error (changed inputs are warnings). ``checked`` names the
    checks that ran to the end; a check that could not run (no dataset, an unreadable table) leaves
    a finding saying why.
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
        lang = console_lang()
        lines = [
            msg("verify.severity_line", severity=_severity(f), line=f.line(lang)).render(lang) for f in self.findings
        ]
        checks = listing(check_name(c, lang) for c in self.checked)
        verdict = msg("verify.verdict.ok") if self.ok else msg("verify.verdict.not_ok", n=len(self.errors))
        said = msg("verify.summary", path=self.plan_dir, verdict=verdict, checks=checks, sha=self.manifest_sha256)
        lines.append(said.render(lang))
        return lines


def verify_plan(
    plan_dir: Path | str,
    dataset_dir: Path | str | None = None,
    *,
    pubkey: Path | str | None = None,
    replan: bool = False,
) -> VerifyResult:
    """Re-check a plan folder: its hashes, its signature, and everything the tables allow to recompute.

    ``dataset_dir`` is the dataset the plan was made from; by default the one recorded in the plan
    (draw.json's absolute path, else the manifest's scenario). ``pubkey``: a PEM Ed25519 public key
    file; the plan must then carry a valid ``manifest.sig`` by that key. ``replan``: plan again and
    compare (as long as the plan took). Raises ``InputError`` only when ``plan_dir`` is not a plan
    folder at all (no readable manifest.json) or ``pubkey`` is not a public key; everything else is
    a finding.
    """
    root = Path(plan_dir)
    manifest_path = root / MANIFEST
    manifest = _read_manifest(root, manifest_path)
    public_key = load_public_key(pubkey) if pubkey is not None else None
    findings: list[Finding] = []
    checked: list[Check] = []

    findings += _check_outputs(root, manifest)
    checked.append("outputs")
    if public_key is not None:
        findings += [Finding("signature", SIGNATURE, as_is(line)) for line in check_signature(root, public_key)]
        checked.append("signature")
    elif (root / SIGNATURE).is_file():
        findings.append(Finding("signature", SIGNATURE, msg("verify.signature.unchecked"), "warning"))

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
                msg("verify.dataset.gone"),
            )
        )
    else:
        try:
            dataset = load_dataset(folder)
        except InputError as error:
            findings += [
                Finding("inputs", p.file, msg("verify.dataset.unloadable", problem=p.describe())) for p in error.errors
            ]
    if dataset is None:
        return VerifyResult(root, folder, sha256_file(manifest_path), tuple(findings), tuple(checked))
    findings += _check_inputs(root, manifest, dataset)
    checked.append("inputs")
    context = _prepare(root, manifest, dataset)
    if isinstance(context, Finding):
        findings.append(context)
        later: tuple[Check, ...] = ("tasks", "reasons", "kpis", "workbook", "report", "seats")
        findings += [Finding(check, "not re-checked", msg("verify.not_prepared"), context.severity) for check in later]
    else:
        rule_findings = _check_rules(context)
        findings += rule_findings
        if not any(f.subject == "cannot re-check" for f in rule_findings):
            checked.append("rules")
    draw_findings = _check_draws(root, folder)
    findings += draw_findings
    if not any(f.subject == "cannot re-check" for f in draw_findings):
        checked.append("draws")
    if isinstance(context, Finding):
        return VerifyResult(root, folder, sha256_file(manifest_path), tuple(findings), tuple(checked))
    if "ledger.parquet" in manifest["outputs"]:
        try:
            context = dataclasses.replace(context, ledger=_recomputed_ledger(context))
        except Exception as error:  # tables or actuals edited into a shape the ledger cannot be made of
            findings.append(Finding("ledger", "cannot re-check", as_is(_error(error))))
    again = _replan(context) if replan else None
    for check, run in (
        ("tasks", _check_tasks),
        ("reasons", _check_reasons),
        ("kpis", _check_kpis),
        ("workbook", _check_workbook),
        ("report", _check_report),
        ("seats", lambda c: _check_seats(c, again)),
        *((("lineage", _check_lineage),) if context.reoptimised else ()),
        *((("ledger", _check_ledger),) if context.ledger is not None else ()),
    ):
        try:
            found = run(context)
        except Exception as error:  # a table edited into a shape the recomputation cannot read
            found = [Finding(check, "cannot re-check", msg("verify.tables_unreadable", error=_error(error)))]
        findings += found
        if not any(f.subject == "cannot re-check" for f in found):
            checked.append(check)
    if replan:
        replan_findings = _compare_replan(context, again)
        findings += replan_findings
        if not any(f.subject == "cannot re-check" for f in replan_findings):
            checked.append("replan")
    return VerifyResult(root, folder, sha256_file(manifest_path), tuple(findings), tuple(checked))


def outputs_as_recorded(plan_dir: Path | str) -> None:
    """Raise ``InputError`` naming every file of the plan folder that is not as the manifest hashes
    it (edited, missing or added): what ``planner sign`` checks before it signs."""
    root = Path(plan_dir)
    wrong = [f for f in _check_outputs(root, _read_manifest(root, root / MANIFEST)) if f.severity == "error"]
    if wrong:
        raise InputError([Problem(str(root / f.subject), None, None, None, f.said) for f in wrong])


def _read_manifest(root: Path, path: Path) -> dict[str, Any]:
    if not root.is_dir():
        raise InputError([Problem(str(root), None, None, None, msg("input.folder.not_a_plan"))])
    if not path.is_file():
        raise InputError([Problem(str(path), None, None, None, msg("input.folder.not_plan"))])
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(
            [Problem(str(path), None, None, None, msg("input.file.bad_json", format="JSON", error=str(error)))]
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("outputs"), dict):
        raise InputError([Problem(str(path), None, "outputs", None, msg("input.manifest.no_outputs"))])
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
            findings.append(Finding("outputs", str(name), msg("verify.outputs.outside")))
            continue
        recorded[relative.as_posix()] = str(digest)
    for name, digest in sorted(recorded.items()):
        path = root / name
        if not path.is_file():
            findings.append(Finding("outputs", name, msg("verify.outputs.missing")))
        elif sha256_file(path) != digest:
            findings.append(Finding("outputs", name, msg("verify.outputs.edited")))
    present = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    # the manifest and its signature are not outputs: the signature is made after the manifest
    for name in sorted(present - set(recorded) - {MANIFEST, SIGNATURE}):
        harmless = Path(name).name in _HARMLESS_EXTRAS or Path(name).name.startswith("~$")
        findings.append(
            Finding(
                "outputs",
                name,
                msg("verify.outputs.added_harmless" if harmless else "verify.outputs.added"),
                "warning" if harmless else "error",
            )
        )
    return findings


# ---------------------------------------------------------------- 3. inputs


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
            findings.append(Finding("inputs", str(path), msg("verify.inputs.unrecorded"), "warning"))
        elif sha256_file(path) != recorded[path.name][1]:
            findings.append(Finding("inputs", str(path), msg("verify.inputs.changed"), "warning"))
    for name, (path, digest) in sorted(recorded.items()):
        if name in seen:
            continue
        candidates = [Path(path), root.parent / path]
        found = next((c for c in candidates if c.is_file()), None)
        kind = msg("verify.inputs.scenario" if Path(path).suffix.lower() == ".toml" else "verify.inputs.input")
        if found is None:
            findings.append(Finding("inputs", path, msg("verify.inputs.not_found", kind=kind), "warning"))
        elif sha256_file(found) != digest:
            findings.append(Finding("inputs", str(found), msg("verify.inputs.kind_changed", kind=kind), "warning"))
    return findings


# ---------------------------------------------------------------- what the recomputations share


@dataclass(frozen=True)
class _Context:
    """A plan folder read back, with what its recomputations need, prepared once.

    ``inputs`` is the dataset with the scenario's extra inputs (what ``planner plan`` reads);
    ``facts`` what the plan was checked against (staff scaled; for a re-optimisation, the actuals
    applied); ``names`` the dataset ``write_plan`` took the workbook's and report's names from;
    ``instance`` every task with its possible days (``model.instance.build_instance``)."""

    root: Path
    manifest: dict[str, Any]
    plan: PlanFolder
    scenario: Scenario
    calendar: Any  # planner.workdays.WorkCalendar
    inputs: Dataset
    facts: Dataset
    names: Dataset
    instance: Any  # planner.model.instance.Instance
    reoptimised: bool
    #: the ledger recomputed from the tables and inputs (``planner.ledger``); None for a plan
    #: written before plans had one (no ledger.parquet in its manifest)
    ledger: pd.DataFrame | None = None

    @cached_property
    def agenda(self) -> Any:
        """A re-optimised plan's agenda, made once for the workbook and the report (``_agenda``)."""
        return _agenda(self)

    @property
    def tables(self) -> PlanTables:
        tables = {name: self.plan.tables[name] for name in PLAN_TABLES if name != "draws"}
        return PlanTables(**tables, offsite=self.plan.tables["offsite"], seats=self.plan.tables["seats"])


def _prepare(root: Path, manifest: dict[str, Any], dataset: Dataset) -> _Context | Finding:
    """The plan tables, the recorded scenario, the calendar, the facts and the instance; or the
    finding (check "rules", subject "cannot re-check") that says why they cannot be had."""
    from planner.model.instance import build_instance
    from planner.sampling import draw_sampling_plan
    from planner.whatif import apply_inputs, apply_staff_scaling
    from planner.workdays import work_calendar

    try:
        plan = read_plan_folder(root)
    except InputError as error:
        lines = "; ".join(f"{Path(p.file).name}: {p.describe()}" for p in error.errors)
        return Finding("rules", "cannot re-check", as_is(lines))
    try:
        scenario = Scenario.model_validate({**manifest["scenario"], "source": root / MANIFEST}, strict=False)
    except Exception as error:  # any shape the manifest's scenario may have been edited into
        return Finding("rules", "cannot re-check", msg("verify.rules.bad_scenario", error=str(error)))
    try:
        calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
        inputs = apply_inputs(dataset, scenario)
        if manifest.get("parent"):
            prepared = _reoptimised_facts(root, manifest["parent"], inputs, scenario, calendar)
            if isinstance(prepared, Finding):
                return prepared
            facts, instance = prepared
            names = facts  # reoptimize writes its plan with the facts' names
        else:
            caps = scenario.caps
            lang = language_of(manifest.get("language"))
            draw = draw_sampling_plan(inputs, scenario.seed, caps.positive_list_per_year, caps.per_dept_per_year, lang)
            facts = apply_staff_scaling(inputs, scenario)  # as `planner plan` checks it: after the draw
            instance = build_instance(facts, draw.tasks, scenario, calendar)
            names = inputs
    except InputError as error:
        return Finding("rules", "cannot re-check", as_is("; ".join(str(p) for p in error.errors)))
    return _Context(
        root, manifest, plan, scenario, calendar, inputs, facts, names, instance, bool(manifest.get("parent"))
    )


def _reoptimised_facts(root: Path, parent: Any, dataset: Dataset, scenario: Scenario, calendar):
    """The facts ``planner reoptimize`` checked the plan against, and its instance: the dataset with
    the actuals the plan folder holds (``actuals/``) applied at the recorded as-of date, over the
    parent plan. A Finding when they cannot be had."""
    from planner.actuals import ACTUALS_FOLDER, checked_facts, load_actuals, state_at

    try:
        as_of = dt.date.fromisoformat(str(parent["as_of"]))
        parent_dir = Path(str(parent["plan"]))
        recorded_sha = str(parent["manifest_sha256"])
    except (TypeError, KeyError, ValueError):
        return Finding(
            "rules",
            "cannot re-check",
            msg("verify.parent.bad_record", keys=listing(("plan", "manifest_sha256", "as_of"))),
        )
    if not (root / ACTUALS_FOLDER).is_dir():
        return Finding(
            "rules",
            "cannot re-check",
            msg("verify.parent.no_actuals"),
            "warning",
        )
    if not (parent_dir / MANIFEST).is_file():
        return Finding(
            "rules",
            "cannot re-check",
            msg("verify.parent.gone", path=parent_dir),
        )
    if sha256_file(parent_dir / MANIFEST) != recorded_sha:
        return Finding(
            "rules",
            "cannot re-check",
            msg("verify.parent.changed", path=parent_dir),
        )
    previous = read_plan_folder(parent_dir)
    actuals = load_actuals(root / ACTUALS_FOLDER)
    facts, instance, _, _, (_, _, done_elsewhere) = state_at(
        dataset, scenario, calendar, previous.tables, actuals, as_of
    )
    return checked_facts(facts, done_elsewhere, instance.workdays), instance


# ---------------------------------------------------------------- 4. rules


def _as_of(context: _Context) -> dt.date | None:
    """A re-optimised plan's date (its parent record's ``as_of``); None for a first plan."""
    parent = context.manifest.get("parent") if context.reoptimised else None
    return dt.date.fromisoformat(str(parent["as_of"])) if isinstance(parent, dict) else None


def _check_rules(context: _Context) -> list[Finding]:
    """Every hard rule, by the independent checker, on the tables as they are on disk."""
    try:
        broken = check_plan(
            context.tables,
            context.facts,
            context.scenario,
            set(context.calendar.workdays),
            context.plan.tables["draws"],
            _as_of(context),
        )
    except Exception as error:  # a table edited into a shape the checker cannot even read is broken too
        return [Finding("rules", "cannot re-check", msg("verify.rules.not_tables", error=_error(error)))]
    return [Finding("rules", "hard rule", as_is(line)) for line in broken]


def _check_lineage(context: _Context) -> list[Finding]:
    """A re-optimised plan against its parent (``planner.actuals.lineage_messages``): nothing before
    as-of changed, visit codes carried and never reissued, no work moved into the freeze window,
    every change with its reason. A first plan has no parent: nothing to check."""
    if not context.reoptimised:
        return []
    from planner.actuals import lineage_messages

    record = context.plan.kpis.get("reoptimisation") or {}
    try:
        parent = read_plan_folder(Path(str(context.manifest["parent"]["plan"])))
        as_of = dt.date.fromisoformat(str(record["as_of"]))
        freeze_days = int(record["freeze_days"])
    except (KeyError, TypeError, ValueError, OSError, InputError) as error:
        return [Finding("lineage", "cannot re-check", msg("verify.lineage.no_parent", error=str(error)))]
    changes_path = context.root / "changes.parquet"
    changes = pd.read_parquet(changes_path) if changes_path.is_file() else None
    found = lineage_messages(parent.tables, context.plan.tables, as_of, freeze_days, changes)
    return [Finding("lineage", "parent plan", line) for line in found]


def _recomputed_ledger(context: _Context) -> pd.DataFrame:
    """The plan's ledger (一企一档) as ``write_plan`` makes it: from the tables, the dataset's
    history and, for a re-optimised plan, its as-of date, the actuals it keeps and its parent."""
    from planner.actuals import ACTUALS_FOLDER, load_actuals
    from planner.ledger import plan_ledger

    horizon = (context.scenario.horizon.start, context.scenario.horizon.end)
    tables = context.plan.tables
    if not context.reoptimised:
        return plan_ledger(tables, context.inputs.history, context.facts.enterprises, horizon)
    parent = context.manifest["parent"]
    return plan_ledger(
        tables,
        context.inputs.history,
        context.facts.enterprises,
        horizon,
        as_of=dt.date.fromisoformat(str(parent["as_of"])),
        outcomes=load_actuals(context.root / ACTUALS_FOLDER).outcomes,
        parent_dir=Path(str(parent["plan"])),
    )


def _check_ledger(context: _Context) -> list[Finding]:
    """ledger.parquet is the ledger the tables and inputs give (``planner.ledger``), row for row."""
    from planner.ledger import LEDGER_FILE, same_ledger

    path = context.root / LEDGER_FILE
    if not path.is_file():
        return [Finding("ledger", LEDGER_FILE, msg("verify.missing"))]
    return _listed("ledger", LEDGER_FILE, [as_is(line) for line in same_ledger(pd.read_parquet(path), context.ledger)])


# ---------------------------------------------------------------- 5. draws


def _check_draws(root: Path, dataset_dir: Path) -> list[Finding]:
    """The draw recomputed from its recorded seed and the dataset, row by row."""
    from planner.audit import verify_draw

    try:
        result = verify_draw(root, dataset_dir)
    except InputError as error:
        return [Finding("draws", "cannot re-check", as_is(str(p))) for p in error.errors]
    except Exception as error:  # an edited draw.json or draws.parquet the recomputation cannot use
        return [Finding("draws", "cannot re-check", as_is(_error(error)))]
    return [Finding("draws", "draws.parquet", as_is(line)) for line in result.differences]


# ---------------------------------------------------------------- 6. tasks


def _recomputed_tasks(context: _Context) -> pd.DataFrame:
    """tasks.parquet as the planner writes it (``pipeline.plan_tables``), from the instance."""
    from planner.model.instance import TASK_COLUMNS

    tasks = context.instance.tasks[TASK_COLUMNS].copy()
    for column in ("window_start", "window_end"):
        tasks[column] = tasks[column].dt.date
    return tasks


def _check_tasks(context: _Context) -> list[Finding]:
    """tasks.parquet is the demands plus the drawn random tasks, cell for cell; unscheduled.parquet
    repeats each task's kind, department and enterprise, and ``mandatory`` follows from the kind."""
    from planner.rules.tasks import MANDATORY_KINDS

    want = _recomputed_tasks(context)
    disk = context.plan.tables["tasks"]
    if "mode" not in disk and want["mode"].eq("onsite").all():
        want = want.drop(columns="mode")  # a plan written before tasks carried their mode, all on site
    columns = [c for c in want.columns if c != "task_id"]
    found = _differences("tasks", "tasks.parquet", disk, want, ["task_id"], columns, "verify.source.inputs")
    kinds = dict(zip(want["task_id"], want["kind"]))
    unscheduled = context.plan.tables["unscheduled"]
    lines = []
    columns = [c for c in ("kind", "dept_id", "uscc") if c in unscheduled]
    if columns:
        found += _differences(
            "tasks",
            "unscheduled.parquet",
            unscheduled[unscheduled["task_id"].isin(kinds)],
            want[want["task_id"].isin(unscheduled["task_id"])],
            ["task_id"],
            columns,
            "verify.source.task",
            missing=False,
        )
    if "mandatory" in unscheduled:
        for task_id, flag in zip(unscheduled["task_id"], unscheduled["mandatory"]):
            kind = kinds.get(task_id)
            if kind is None:
                continue  # not a task at all: the reasons check says so
            should = kind in MANDATORY_KINDS
            if _cell(flag) is not should:
                duty = msg("verify.duty.yes" if should else "verify.duty.no")
                lines.append(
                    msg(
                        "verify.tasks.mandatory",
                        task=task_id,
                        column="mandatory",
                        value=repr(_cell(flag)),
                        kind=kind,
                        duty=duty,
                    )
                )
    else:
        lines.append(msg("verify.column_missing", column="mandatory"))
    return found + _listed("tasks", "unscheduled.parquet", lines)


# ---------------------------------------------------------------- 7. reasons


def _check_reasons(context: _Context) -> list[Finding]:
    """Every unscheduled task exists and is not placed, with a reason the rulebook knows; reasons
    that can be recomputed without planning are (module doc, point 7)."""

    from planner.model.matching import Roster
    from planner.pipeline import message_names
    from planner.rules import OTHER, reason_codes
    from planner.rules.tasks import MANDATORY_KINDS

    lang = language_of(context.manifest.get("language"))
    names = message_names(context.facts)
    want = _recomputed_tasks(context)
    kinds = dict(zip(want["task_id"], want["kind"]))
    mandatory = {t for t, k in kinds.items() if k in MANDATORY_KINDS}
    unscheduled = context.plan.tables["unscheduled"]
    placed = set(context.plan.tables["visit_tasks"]["task_id"]) | set(context.plan.tables["offsite"]["task_id"])
    unplaceable = context.instance.unplaceable
    no_day = {t: r.render(lang, names) for t, r in zip(unplaceable["task_id"], unplaceable["reason"])}
    roster = Roster.from_dataset(context.facts, len(context.calendar), context.scenario.planned_share)
    certified_depts = set(roster.dept_of.values())
    uncertified_names = {
        name
        for dept, name in zip(context.facts.departments["dept_id"], context.facts.departments["name"])
        if dept not in certified_depts
    }
    errors, warnings = [], []
    listed = set()
    codes = reason_codes(unscheduled) if len(unscheduled) else pd.Series([], dtype=object)
    for task_id, reason, code in zip(unscheduled["task_id"], unscheduled["reason"], codes):
        listed.add(task_id)
        if task_id not in kinds:
            errors.append(msg("verify.reasons.not_a_task", task=task_id))
            continue
        if task_id in placed:
            errors.append(msg("verify.reasons.placed", task=task_id))
        text = reason if isinstance(reason, str) else ""
        task = msg("verify.reasons.mandatory_task" if task_id in mandatory else "verify.reasons.task", task=task_id)
        if code == OTHER or not text.strip():
            line = msg("verify.reasons.unknown", task=task, reason=repr(text[:80]), code=code)
            (errors if task_id in mandatory else warnings).append(line)
        elif code in _NO_DAY_CATEGORIES and no_day.get(task_id) != text:
            truth = (
                msg("verify.reasons.inputs_give", reason=repr(no_day[task_id]))
                if task_id in no_day
                else msg("verify.reasons.has_days")
            )
            errors.append(msg("verify.reasons.no_day", task=task, reason=repr(text[:60]), truth=truth))
        elif code == "certified" and not any(name in text for name in uncertified_names):
            errors.append(msg("verify.reasons.certified", task=task, reason=repr(text[:60])))
    for task_id, reason in sorted(no_day.items()):
        if task_id not in listed:
            errors.append(msg("verify.reasons.not_listed", task=task_id, reason=reason))
        elif not context.reoptimised:  # a re-optimisation may give an outcome instead (cancelled, closed …)
            row = unscheduled["task_id"] == task_id
            recorded, code = unscheduled.loc[row, "reason"].iloc[0], codes[row.to_numpy()].iloc[0]
            if recorded != reason and code not in _NO_DAY_CATEGORIES:  # else said above
                errors.append(
                    msg("verify.reasons.should_be", task=task_id, want=repr(reason), reason=repr(str(recorded)[:60]))
                )
    return _listed("reasons", "unscheduled.parquet", errors) + _listed(
        "reasons", "unscheduled.parquet", warnings, "warning"
    )


# ---------------------------------------------------------------- 8. kpis


def _recomputed_kpis(context: _Context) -> dict[str, Any]:
    """The KPIs the tables give, by the planner's own functions."""
    from planner.model.bounds import rule_bound
    from planner.pipeline import compute_kpis

    tables = context.tables
    kpis = compute_kpis(tables, context.instance, context.plan.tables["draws"])
    bound = rule_bound(tables.visits, tables.visit_tasks, context.instance, context.facts, context.scenario)
    return kpis | {"objective": kpis["visits"], "best_bound": bound.visits, "rule_bound_visits": bound.visits}


def _check_kpis(context: _Context) -> list[Finding]:
    """Every figure of kpis.json that the tables determine is the figure they give."""
    recorded = context.plan.kpis
    if not isinstance(recorded, dict):
        return [Finding("kpis", "kpis.json", msg("verify.kpis.not_object"))]
    want = _recomputed_kpis(context)
    lines = []
    for key, value in want.items():
        if key in _KPIS_SINCE_OFFSITE and key not in recorded and not value:
            continue  # a plan written before off-site checks, which has none
        if key not in recorded:
            lines.append(msg("verify.kpis.missing", key=key, want=value))
        elif not _same(recorded[key], value):
            lines.append(msg("verify.kpis.differs", key=key, value=repr(recorded[key]), want=repr(value)))
    found = _listed("kpis", "kpis.json", lines)
    unknown = sorted(set(recorded) - set(want) - set(KPIS_NOT_RECOMPUTED))
    found += [Finding("kpis", "kpis.json", msg("verify.kpis.unknown", key=key), "warning") for key in unknown]
    return found


# ---------------------------------------------------------------- 9. workbook and report


def _writers_differ(manifest: dict[str, Any]) -> Message | None:
    """Why plan.xlsx and report.html cannot be expected to have the same bytes today (None: they can)."""
    versions = manifest.get("versions") if isinstance(manifest.get("versions"), dict) else {}
    language = manifest.get("language", OUTPUT_LANGUAGE)  # plans before it was recorded: the only language
    if language not in LANGUAGE_TAGS.values():
        return msg("verify.writers.language", language=repr(language), languages=listing(LANGUAGE_TAGS.values()))
    if versions.get("planner") != __version__:
        return msg("verify.writers.planner", was=versions.get("planner"), now=__version__)
    for name in WRITER_VERSIONS:
        if name in versions and versions[name] != _installed(name):
            return msg("verify.writers.library", name=name, was=versions[name], now=_installed(name))
    return None


def _installed(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _stable_kpis(kpis: dict[str, Any]) -> dict[str, Any]:
    """kpis.json without the stage timings, as the workbook and the report show it (``write_plan``)."""
    return {k: v for k, v in kpis.items() if k != "timings"}


def _check_workbook(context: _Context) -> list[Finding]:
    """plan.xlsx is the workbook ``write_plan`` makes of the tables, byte for byte."""
    from planner.workbook import Names, write_workbook

    path = context.root / "plan.xlsx"
    if not path.is_file():
        return [Finding("workbook", "plan.xlsx", msg("verify.missing"))]
    differ = _writers_differ(context.manifest)
    if differ:
        return [Finding("workbook", "plan.xlsx", msg("verify.not_compared", why=differ), "warning")]
    with tempfile.TemporaryDirectory(prefix="planner-verify-") as scratch:
        again = Path(scratch) / "plan.xlsx"
        write_workbook(
            again,
            context.plan.tables | ({"ledger": context.ledger} if context.ledger is not None else {}),
            _stable_kpis(context.plan.kpis),
            Names.from_dataset(context.names),
            scenario=context.manifest.get("scenario"),
            draw_record=context.plan.draw_record,
            lang=language_of(context.manifest.get("language")),
            agenda=context.agenda,
        )
        expected = again.read_bytes()
    actual = path.read_bytes()
    if actual == expected:
        return []
    return [Finding("workbook", "plan.xlsx", msg("verify.workbook.differs", where=_where_xlsx(actual, expected)))]


def _where_xlsx(actual: bytes, expected: bytes) -> Message:
    """Where two workbooks differ: the first sheet and cell whose value differs, as far as they can be read."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        with zipfile.ZipFile(io.BytesIO(actual)) as a, zipfile.ZipFile(io.BytesIO(expected)) as b:
            parts = sorted(set(a.namelist()) | set(b.namelist()))
            changed = [p for p in parts if p not in a.namelist() or p not in b.namelist() or a.read(p) != b.read(p)]
        mine, theirs = (
            load_workbook(io.BytesIO(actual), read_only=True),
            load_workbook(io.BytesIO(expected), read_only=True),
        )
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        return msg("verify.workbook.broken")
    try:
        for sheet in theirs.sheetnames:
            if sheet not in mine.sheetnames:
                return msg("verify.workbook.no_sheet", sheet=sheet)
            rows_a = mine[sheet].iter_rows(values_only=True)
            rows_b = theirs[sheet].iter_rows(values_only=True)
            for r, (row_a, row_b) in enumerate(zip(rows_a, rows_b, strict=False), start=1):
                for c in range(max(len(row_a), len(row_b))):
                    va = row_a[c] if c < len(row_a) and row_a[c] != "" else None  # an empty text cell is a blank
                    vb = row_b[c] if c < len(row_b) and row_b[c] != "" else None
                    if va != vb:
                        cell = f"{get_column_letter(c + 1)}{r}"
                        return msg("verify.workbook.cell", sheet=sheet, cell=cell, value=repr(va), want=repr(vb))
    except Exception:  # a damaged sheet: the parts that differ are all we can say
        pass
    return msg("verify.workbook.bytes", parts=listing(changed[:3]))


def _agenda(context: _Context) -> Any:
    """A re-optimised plan's 月会商 agenda as ``write_plan`` made it from the tables (None for an
    annual plan, which has none)."""
    from planner.agenda import recorded_agenda

    parent = context.manifest.get("parent")
    if not context.reoptimised or not isinstance(parent, dict):
        return None
    lang = language_of(context.manifest.get("language"))
    return recorded_agenda(context.root, context.names, context.scenario, parent, context.plan.kpis, lang)


def _check_agenda(context: _Context, agenda: Any) -> list[Finding]:
    """agenda.md is the agenda of the tables, byte for byte (a re-optimised plan)."""
    from planner.agenda import AGENDA_FILE, agenda_markdown

    if agenda is None:
        return []
    path = context.root / AGENDA_FILE
    if not path.is_file():
        return [Finding("report", AGENDA_FILE, msg("verify.missing"))]
    actual, expected = path.read_bytes(), agenda_markdown(agenda).encode("utf-8")
    if actual == expected:
        return []
    at = next((i for i, (x, y) in enumerate(zip(actual, expected)) if x != y), min(len(actual), len(expected)))
    return [Finding("report", AGENDA_FILE, msg("verify.report.differs", line=actual[:at].count(b"\n") + 1))]


def _alerts(context: _Context) -> pd.DataFrame:
    from planner.ledger import ledger_alerts

    departments = context.names.departments
    names = dict(zip(departments["dept_id"], departments["name"]))
    lang = language_of(context.manifest.get("language"))
    return ledger_alerts(context.ledger, context.manifest.get("scenario") or {}, names, lang)


def _check_report(context: _Context) -> list[Finding]:
    """report.html is the report ``write_plan`` makes of the tables, byte for byte."""
    from planner.report import render_report

    path = context.root / "report.html"
    if not path.is_file():
        return [Finding("report", "report.html", msg("verify.missing"))]
    differ = _writers_differ(context.manifest)
    if differ:
        return [Finding("report", "report.html", msg("verify.not_compared", why=differ), "warning")]
    t, names = context.plan.tables, context.names
    agenda = context.agenda
    page = render_report(
        kpis=_stable_kpis(context.plan.kpis),
        visits=t["visits"],
        routes=t["routes"],
        crews=t["crews"],
        unscheduled=t["unscheduled"],
        tasks=t["tasks"],
        enterprises=names.enterprises,
        townships=names.townships,
        departments=names.departments,
        title=context.scenario.name,
        alerts=None if context.ledger is None else _alerts(context),
        lang=language_of(context.manifest.get("language")),
        agenda=agenda,
    ).encode("utf-8")
    actual = path.read_bytes()
    found = _check_agenda(context, agenda)
    if actual == page:
        return found
    at = next((i for i, (x, y) in enumerate(zip(actual, page)) if x != y), min(len(actual), len(page)))
    line = actual[:at].count(b"\n") + 1
    return [Finding("report", "report.html", msg("verify.report.differs", line=line)), *found]


# ---------------------------------------------------------------- 10. seats


def _check_seats(context: _Context, again: Any) -> list[Finding]:
    """随机选派, as far as the tables and the inputs determine it.

    Each crews row is one member. Recomputed exactly: the lottery number (a keyed hash of the seed,
    the date and the inspector id). Checked: the member is on the certified roster, of the
    department recorded, not on leave that day, and has no conflict (回避) with an enterprise the
    crew visits that day.

    Which eligible inspector took a seat depends, besides the lottery, on rotation and on how many
    days each had been planned *when the seat was filled*. The plan's lottery record
    (seats.parquet, ``_replay_lottery``) holds every round of seats in the order it was filled,
    with each request's candidates and their planned days then: each round is replayed through
    the scheduler's own seat matching, and for a first plan the record itself is rebuilt from the
    rounds before it (who was free, eligible, and how many days each had). A plan written before
    the record existed is checked by the one ranking its tables prove (``_better_idle_inspector``).
    A re-plan (``again``) recomputes every member, their candidate counts and rotation flags."""
    from planner.model.matching import Roster, lottery
    from planner.rules.staff_days import day_minutes

    crews = context.plan.tables["crews"]
    visits = context.plan.tables["visits"]
    seed = context.scenario.seed
    roster = Roster.from_dataset(context.facts, len(context.calendar), context.scenario.planned_share)
    enterprises: dict[tuple[str, dt.date], set[str]] = {}
    for crew_id, date, uscc in visits[["crew_id", "date", "uscc"]].itertuples(index=False):
        enterprises.setdefault((str(crew_id), _date(date)), set()).add(uscc)
    members = list(
        crews[["crew_id", "date", "inspector_id", "dept_id", "candidates", "lottery"]].itertuples(index=False)
    )
    lines = []
    for crew_id, date, who, dept, _, ticket in members:
        day = _date(date)
        where = msg("verify.seats.member", crew=crew_id, date=day, person=who)
        expected = lottery(seed, day, str(who))
        if _cell(ticket) != expected:
            lines.append(msg("verify.seats.lottery", where=where, value=repr(_cell(ticket)), want=expected))
        if who not in roster.dept_of:
            lines.append(msg("verify.seats.not_certified", where=where))
            continue
        if roster.dept_of[who] != dept:
            lines.append(msg("verify.seats.other_dept", where=where, actual=roster.dept_of[who], dept=dept))
        if day in roster.leave.get(who, ()):
            lines.append(msg("verify.seats.leave", where=where))
        clash = sorted(roster.conflicts.get(who, frozenset()) & enterprises.get((str(crew_id), day), set()))
        if clash:
            lines.append(msg("verify.seats.conflict", where=where, usccs=listing(clash)))
    record: list[Message] = []
    if SEATS_FILE in context.manifest.get("outputs", {}):
        record = _replay_lottery(context, crews, roster)
    elif not context.reoptimised:  # a re-optimisation keeps its parent's members, filled under that plan's state
        lines += _better_idle_inspector(context, members, roster, seed, lottery, day_minutes)
    if again is not None and not isinstance(again, Finding):
        lines += _members_replanned(crews, again.tables.crews)
    return _listed("seats", "crews.parquet", lines) + _listed("seats", SEATS_FILE, record)


SEATS_FILE = "seats.parquet"


def _replay_lottery(context: _Context, crews: pd.DataFrame, roster: Any) -> list[Message]:
    """The lottery record (seats.parquet) replayed round by round (docs/security.md, "The seat lottery");
    ``roster`` is taken as the replay's state (its days, leave and crews of each day).

    Every round's requests go through ``matching.assign_seats`` with their recorded candidates
    and planned days: the members it gives, their candidate counts and rotation flags must be the
    plan's. For a first plan every crew-day is filled by exactly one round, and the record is
    rebuilt from the rounds before each one: each candidate's planned days are the rounds that
    seated them before, every candidate was eligible then (department, leave and desk days, not
    on a crew that day, ``max_days``, hours, delegations, 回避), and every inspector of the
    department who was is a candidate. A re-optimisation's rounds start from its kept crews, some
    of which may later have been let go for a legal duty: there the candidates are as recorded,
    and the re-plan proves them."""
    from planner.model.matching import SEAT_COLUMNS, assign_seats
    from planner.rules.tasks import MANDATORY_KINDS

    record = context.plan.tables["seats"]
    absent = [c for c in SEAT_COLUMNS if c not in record]
    if absent:
        return [msg("verify.column_missing", column=absent[0])]
    seed = context.scenario.seed
    people = sorted(roster.dept_of)
    seated = _seated(crews)
    staff_of: dict[str, list[str]] = defaultdict(list)
    for who in people:
        staff_of[roster.dept_of[who]].append(who)
    first_plan = not context.reoptimised
    if first_plan:  # the mandatory off-site checks took their desk days before any crew (model.desk.reserve)
        tasks = context.plan.tables["tasks"]
        mandatory = set(tasks.loc[tasks["kind"].isin(MANDATORY_KINDS), "task_id"])
        desk = context.plan.tables["offsite"]
        desk = desk[desk["task_id"].isin(mandatory)]
        for who, days in desk.groupby("inspector_id")["date"]:
            dates = {_date(d) for d in days}
            roster.leave[who] = set(roster.leave.get(who, ())) | dates
            roster.max_days[who] -= len(dates)
    lines: list[Message] = []
    filled_in: dict[tuple[str, dt.date], list[int]] = defaultdict(list)
    for number, rows in record.groupby("round", sort=True):
        requests = rows.to_dict("records")
        day = _date(requests[0]["date"])
        for request in requests:
            filled_in[(str(request["crew_id"]), _date(request["date"]))].append(int(number))
        if any(_date(r["date"]) != day for r in requests):
            lines.append(msg("verify.seats.round_dates", round=number))
            continue
        try:
            eligible = [[str(p) for p in r["eligible"]] for r in requests]
            days_before = [[int(d) for d in r["days_before"]] for r in requests]
        except (TypeError, ValueError):  # not lists of ids and of day counts
            eligible, days_before = [], [[]]
        strangers = sorted({p for these in eligible for p in these if p not in roster.dept_of})
        if (
            strangers
            or len(eligible) != len(days_before)
            or any(len(e) != len(d) for e, d in zip(eligible, days_before))
        ):
            lines.append(msg("verify.seats.round_unreadable", round=number, people=listing(strangers)))
            continue
        if first_plan:
            lines += _rebuilt_round(int(number), day, requests, eligible, days_before, roster, staff_of)
        filled, _ = assign_seats(day, requests, eligible, days_before, people, roster.last_inspectors, seed)
        want: dict[tuple[str, dt.date], dict[str, tuple]] = {}
        for crew_id, _, who, _, candidates, _, repeat in filled:
            want.setdefault((str(crew_id), day), {})[who] = (candidates, repeat)
        for key in sorted({(str(r["crew_id"]), day) for r in requests}):
            have, should = seated.get(key, {}), want.get(key, {})
            where = msg("verify.seats.crew", crew=key[0], date=key[1])
            if key not in seated:
                lines.append(msg("verify.seats.record_stray", where=where, round=number))
            elif set(have) != set(should):
                lines.append(
                    msg(
                        "verify.seats.replay",
                        where=where,
                        round=number,
                        have=listing(sorted(have)),
                        want=listing(sorted(should)),
                    )
                )
            else:
                for who in sorted(have):
                    if have[who] != should[who]:
                        lines.append(
                            msg("verify.seats.replay_flags", where=where, person=who, have=have[who], want=should[who])
                        )
        for who in {p for _, _, p, *_ in filled}:  # the state the next round starts from
            roster.days_used[who] += 1
            roster.assigned[day].add(who)
    if first_plan:
        exact = context.plan.kpis.get("schedule_kept") == "exact" if isinstance(context.plan.kpis, dict) else False
        for key in sorted(seated):
            where = msg("verify.seats.crew", crew=key[0], date=key[1])
            rounds = filled_in.get(key, [])
            if len(set(rounds)) > 1:
                lines.append(msg("verify.seats.recorded_twice", where=where, rounds=listing(sorted(set(rounds)))))
            elif not rounds and not (exact and not len(record) and all(c == 1 for c, _ in seated[key].values())):
                lines.append(msg("verify.seats.unrecorded", where=where))  # the exact model's own: one candidate
    return lines


def _rebuilt_round(
    number: int, day: dt.date, requests: list[dict], eligible, days_before, roster, staff_of: dict[str, list[str]]
) -> list[Message]:
    """One round of a first plan's lottery record against the rounds before it (``roster``'s state);
    ``staff_of``: each department's inspectors."""
    lines = []
    for request, these, days in zip(requests, eligible, days_before):
        where = msg("verify.seats.crew", crew=request["crew_id"], date=day)
        request = {**request, "needs_delegation": tuple(request["needs_delegation"]), "usccs": tuple(request["usccs"])}
        listed = set(these)
        for who, recorded in zip(these, days):
            if recorded != roster.days_used[who]:
                lines.append(
                    msg("verify.seats.days", round=number, person=who, recorded=recorded, want=roster.days_used[who])
                )
            why = roster.why_not(who, day, request, set())
            if why is not None:
                lines.append(
                    msg(
                        "verify.seats.not_candidate",
                        where=where,
                        round=number,
                        person=who,
                        why=msg(f"verify.seats.why.{why}"),
                    )
                )
        for who in staff_of.get(request["dept_id"], ()):
            if who not in listed:
                if roster.why_not(who, day, request, set()) is None:
                    lines.append(
                        msg("verify.seats.left_out", where=where, round=number, person=who, dept=request["dept_id"])
                    )
    return lines


def _better_idle_inspector(context: _Context, members, roster, seed: int, lottery, day_minutes) -> list[Message]:
    """Members who drew a larger number than an inspector free all horizon who could have had the seat."""
    # an inspector with off-site checks (desk days) is not idle: those days were kept from the crews
    busy = {who for _, _, who, _, _, _ in members} | set(context.plan.tables["offsite"]["inspector_id"])
    last = set().union(*roster.last_inspectors.values()) if roster.last_inspectors else set()
    idle: dict[str, list[str]] = {}
    for person, dept in sorted(roster.dept_of.items()):
        if person not in busy and person not in last and roster.max_days[person] >= 1:
            idle.setdefault(dept, []).append(person)
    exact = context.plan.kpis.get("schedule_kept") == "exact" if isinstance(context.plan.kpis, dict) else False
    lines = []
    for crew_id, date, who, dept, candidates, _ in members:
        if who not in roster.dept_of or roster.dept_of[who] != dept or not idle.get(dept):
            continue
        if exact and _cell(candidates) == 1:
            continue  # the exact schedule may keep the model's own choice, recorded with one candidate
        day = _date(date)
        drawn = lottery(seed, day, str(who))
        for person in idle[dept]:
            if (
                day not in roster.leave.get(person, ())
                and day_minutes(roster.hours_per_day[person]) >= day_minutes(roster.hours_per_day[who])
                and roster.delegations[who] <= roster.delegations[person]
                and roster.conflicts.get(person, frozenset()) <= roster.conflicts.get(who, frozenset())
                and lottery(seed, day, person) < drawn
            ):
                lines.append(
                    msg(
                        "verify.seats.idle",
                        crew=crew_id,
                        date=day,
                        person=who,
                        drawn=f"{drawn:,}",
                        dept=dept,
                        other=person,
                        other_drawn=f"{lottery(seed, day, person):,}",
                    )
                )
                break
    return lines


def _seated(crews: pd.DataFrame) -> dict[tuple[str, dt.date], dict[str, tuple]]:
    """Per crew-day of crews.parquet: each member's (candidates, repeat_visit)."""
    out: dict[tuple[str, dt.date], dict[str, tuple]] = {}
    for crew_id, date, who, candidates, repeat in crews[
        ["crew_id", "date", "inspector_id", "candidates", "repeat_visit"]
    ].itertuples(index=False):
        out.setdefault((str(crew_id), _date(date)), {})[str(who)] = (_cell(candidates), _cell(repeat))
    return out


def _members_replanned(crews: pd.DataFrame, again: pd.DataFrame) -> list[Message]:
    """Per crew-day in both plans: the members, their candidate counts and rotation flags, as re-planned."""

    mine, theirs = _seated(crews), _seated(again)
    lines = []
    for key in sorted(set(mine) & set(theirs)):
        have, want = mine[key], theirs[key]
        where = msg("verify.seats.crew", crew=key[0], date=key[1])
        if set(have) != set(want):
            lines.append(
                msg("verify.seats.members", where=where, have=listing(sorted(have)), want=listing(sorted(want)))
            )
            continue
        for who in sorted(have):
            if have[who] != want[who]:
                lines.append(
                    msg(
                        "verify.seats.flags",
                        where=where,
                        person=who,
                        columns="(candidates, repeat_visit)",
                        have=have[who],
                        want=want[who],
                    )
                )
    return lines


# ---------------------------------------------------------------- 11. replan


def _replan(context: _Context) -> Any:
    """The plan made again, or the Finding (check "replan") that says why it is not."""
    from planner.pipeline import make_plan

    kpis = context.plan.kpis if isinstance(context.plan.kpis, dict) else {}
    if kpis.get("status") != "FEASIBLE":
        return Finding(
            "replan",
            "cannot re-check",
            msg("verify.replan.not_feasible", status=repr(kpis.get("status")), feasible="FEASIBLE"),
            "warning",
        )
    versions = context.manifest.get("versions") if isinstance(context.manifest.get("versions"), dict) else {}
    running = {"planner": __version__, **{n: _installed(n) for n in PLANNING_VERSIONS}}
    other = [
        msg("verify.replan.version", name=n, was=versions.get(n), now=v)
        for n, v in running.items()
        if versions.get(n) != v
    ]
    if other:
        return Finding(
            "replan",
            "cannot re-check",
            msg("verify.replan.versions", versions=listing(other)),
            "warning",
        )
    try:
        lang = language_of(context.manifest.get("language"))
        if context.reoptimised:
            return _reoptimise_again(context, lang)
        plan = make_plan(context.inputs, context.scenario, context.calendar, lang=lang)
    except Exception as error:  # inputs changed since (a warning above) into something the planner refuses
        return Finding("replan", "cannot re-check", msg("verify.replan.failed", error=_error(error)))
    if plan.kpis.get("status") != "FEASIBLE":
        return Finding(
            "replan",
            "cannot re-check",
            msg("verify.replan.too_short", status=plan.kpis.get("status"), key="[solver] time_limit_s"),
            "warning",
        )
    return _Again(plan.tables, plan.draw, plan.kpis, {})


@dataclass(frozen=True)
class _Again:
    """A plan made again: its tables, draw and KPIs, and a re-optimisation's ``extra`` tables."""

    tables: Any  # planner.plan.PlanTables
    draw: Any
    kpis: dict
    extra: dict[str, pd.DataFrame]


def _reoptimise_again(context: _Context, lang: str) -> Any:
    """A re-optimised plan made again: ``planner reoptimize`` over the parent plan recorded in the
    manifest, with the actuals the folder holds, at the recorded as-of date and freeze window.
    Returns the plan with its ``changes`` and ``followups`` (to compare with the folder's)."""
    from planner.actuals import ACTUALS_FOLDER, load_actuals
    from planner.reoptimize import reoptimize

    parent = context.manifest["parent"]
    result = reoptimize(
        context.inputs,
        context.scenario,
        context.calendar,
        read_plan_folder(Path(str(parent["plan"]))),
        load_actuals(context.root / ACTUALS_FOLDER),
        dt.date.fromisoformat(str(parent["as_of"])),
        int(parent.get("freeze_days", 14)),
        lang=lang,
    )
    if result.broken:
        return Finding("replan", "cannot re-check", msg("verify.replan.failed", error=listing(result.broken[:3])))
    return _Again(
        result.plan.tables,
        result.plan.draw,
        result.plan.kpis,
        {"changes": result.changes, "followups": result.followups},
    )


#: the keys that name one row of each plan table (the crews' members are compared under seats)
_ROW_KEYS = {
    "tasks": ["task_id"],
    "visits": ["visit_id"],
    "visit_tasks": ["task_id", "visit_id"],
    "crews": ["crew_id", "date"],
    "routes": ["crew_id", "date", "seq"],
    "unscheduled": ["task_id"],
    "draws": ["plan_id", "uscc"],
    "changes": ["task_id"],
    "followups": ["task_id"],
    "offsite": ["task_id"],
    "seats": ["round", "crew_id", "dept_id", "needs_delegation"],
}


def _compare_replan(context: _Context, again: Any) -> list[Finding]:
    """Every table and figure of the plan against the re-plan's (members: under seats)."""
    if isinstance(again, Finding):
        return [again]
    frames = (
        {name: getattr(again.tables, name) for name in PLAN_TABLES if name != "draws"}
        | {"draws": again.draw.draws, "offsite": again.tables.offsite, "seats": again.tables.seats}
        | {name: frame for name, frame in again.extra.items() if (context.root / f"{name}.parquet").is_file()}
    )
    found = []
    with tempfile.TemporaryDirectory(prefix="planner-verify-") as scratch:
        for name, frame in frames.items():
            path = Path(scratch) / f"{name}.parquet"
            write_table(frame, path)  # as write_plan does: the same frame gives the same bytes
            on_disk = context.root / f"{name}.parquet"
            if on_disk.is_file() and on_disk.read_bytes() == path.read_bytes():
                continue
            want = pd.read_parquet(path)
            disk = context.plan.tables[name] if name in context.plan.tables else pd.read_parquet(on_disk)
            if name == "crews":  # one row per crew-day here; who sat in it is the seats check's
                want = want.drop_duplicates(_ROW_KEYS[name])
                disk = disk.drop_duplicates(_ROW_KEYS[name])
                columns = ["township", "day_start_min", "day_end_min"]
            else:
                columns = [c for c in want.columns if c not in _ROW_KEYS[name]]
            found += _differences(
                "replan", f"{name}.parquet", disk, want, _ROW_KEYS[name], columns, "verify.source.replan"
            )
    recorded = context.plan.kpis if isinstance(context.plan.kpis, dict) else {}
    lines = [
        msg("verify.replan.kpi", key=key, value=repr(recorded.get(key)), want=repr(value))
        for key, value in _stable_kpis(again.kpis).items()
        if not _same(recorded.get(key), value)
    ]
    return found + _listed("replan", "kpis.json", lines)


# ---------------------------------------------------------------- comparing values and tables


def _date(value: Any) -> dt.date:
    return pd.Timestamp(value).date()


def _cell(value: Any) -> Any:
    """A table cell as a plain Python value: blanks as None, dates as ISO text, lists as tuples."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return tuple(_cell(v) for v in value)
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _same(a: Any, b: Any) -> bool:
    """Equal as figures: numbers by value (an int is not a bool), the rest by their plain value."""
    a, b = _cell(a), _cell(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _differences(
    check: Check,
    subject: str,
    disk: pd.DataFrame,
    want: pd.DataFrame,
    key: list[str],
    columns: Iterable[str],
    source: str,
    missing: bool = True,
) -> list[Finding]:
    """Rows of ``disk`` that ``want`` lacks, rows it lacks (``missing``), and differing cells;
    ``source`` is the message id of what gives the rows wanted (``verify.source.…``)."""
    absent = [c for c in key if c not in disk]
    if absent:
        return [Finding(check, subject, msg("verify.column_missing", column=absent[0]))]
    said = msg(source)
    lines = []

    def keyed(frame: pd.DataFrame) -> dict[tuple, dict[str, Any]]:
        rows = {}
        for record in frame.to_dict("records"):
            rows.setdefault(tuple(_cell(record[c]) for c in key), record)  # a doubled key: the rules say so
        return rows

    have, should = keyed(disk), keyed(want)
    name = "/".join(key)

    def label(k: tuple) -> str:
        return "/".join(str(v) for v in k)

    for k in sorted(set(have) - set(should), key=str):
        lines.append(msg("verify.rows.extra", key=name, row=label(k), source=said))
    if missing:
        for k in sorted(set(should) - set(have), key=str):
            lines.append(msg("verify.rows.lacking", key=name, row=label(k), source=said))
    columns = list(columns)
    lost = [c for c in columns if c not in disk]
    lines += [msg("verify.column_missing", column=c) for c in lost]
    for k in sorted(set(have) & set(should), key=str):
        for column in columns:
            if column in lost:
                continue
            mine, theirs = _cell(have[k].get(column)), _cell(should[k].get(column))
            if mine != theirs or isinstance(mine, bool) != isinstance(theirs, bool):
                lines.append(
                    msg(
                        "verify.rows.cell",
                        key=name,
                        row=label(k),
                        column=column,
                        value=repr(mine),
                        source=said,
                        want=repr(theirs),
                    )
                )
    return _listed(check, subject, lines)


def _listed(check: Check, subject: str, lines: list[Message], severity: Severity = "error") -> list[Finding]:
    """The first few lines as findings, and one more counting the rest."""
    found = [Finding(check, subject, line, severity) for line in lines[:_LISTED]]
    if len(lines) > _LISTED:
        found.append(Finding(check, subject, msg("verify.more", n=f"{len(lines) - _LISTED:,}"), severity))
    return found


def _error(error: Exception) -> str:
    """An exception as it is said: its type and its own (a library's) words."""
    return f"{type(error).__name__}: {error}"


__all__ = ["Finding", "VerifyResult", "check_name", "outputs_as_recorded", "verify_plan"]
