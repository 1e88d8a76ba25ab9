"""The whole plan: draw → instance → merge → schedule → plan tables and KPIs → plan folder.

The merge is exact per enterprise (CP-SAT where a cap binds), the crew scheduler constructive.
``best_bound`` is the rule-aware lower bound on visits (``planner.model.bounds``): no plan of the
scheduled tasks can make fewer visits under the caps and the stay limits.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import pandas as pd

from planner import __version__
from planner.checker import check_plan
from planner.dataset import Dataset
from planner.messages import DEFAULT_LANG, LANGUAGE_TAGS, Message, Reason, console_lang, msg
from planner.model.bounds import rule_bound
from planner.model.capacity import capacity_bound_model
from planner.model.desk import DeskBook, desk_frame, offsite_tasks, place_desk_work, reserve
from planner.model.horizon import plan_horizon
from planner.model.instance import (
    TASK_COLUMNS,
    Instance,
    baseline_visits,
    build_instance,
    lower_bound_visits,
    with_overrides,
)
from planner.model.matching import Roster
from planner.model.merge import MergeStats, merge_tasks
from planner.model.schedule import DAY_START_MIN, Schedule
from planner.outputs import sha256_file, write_folder, write_table
from planner.plan import PLAN_METHOD, Plan, PlanTables, schedule_text
from planner.problems import InputError, Problem
from planner.rules.appointments import appointment_kpis
from planner.rules.offsite import checks_per_day, empty_offsite
from planner.rules.overrides import default_lead_dept, override_problems, override_reason, prepare, read_overrides
from planner.rules.tasks import is_mandatory
from planner.sampling import Draw, draw_sampling_plan
from planner.scenario import Scenario
from planner.stopwatch import Stopwatch
from planner.travel import TravelTimes, township_of
from planner.whatif import apply_staff_scaling
from planner.workdays import WorkCalendar

TABLES = ("tasks", "visits", "visit_tasks", "crews", "routes", "unscheduled", "draws", "offsite", "seats")
#: the steps of writing a plan folder, in order (``write_plan``'s ``progress`` hears each)
WRITTEN = ("tables", "plan.xlsx", "report.html", "manifest.json")


def make_plan(
    dataset: Dataset,
    scenario: Scenario,
    calendar: WorkCalendar,
    progress: Callable[[str], None] | None = None,
    stop: Callable[[], bool] | None = None,
    lang: str = DEFAULT_LANG,
) -> Plan:
    """Plan the scenario: every stage in order, timed, and the plan checked against every hard
    rule (``Plan.broken``); ``progress`` hears a line after each stage.

    Only the merge's exact models search; they stop at ``[solver] time_limit_s`` or when
    ``stop()`` turns true (Ctrl-C), and the rest of the plan is still built in full, so a stopped
    run gives a complete, valid plan with ``status`` TIME_LIMIT or INTERRUPTED. Its sentences
    (reasons) are said in ``lang`` (planner.messages); nothing else depends on it."""
    watch = Stopwatch()

    def lap(stage: str, said: Message | None = None) -> None:
        seconds = watch.lap(stage)
        if progress is not None:
            fields = {"stage": msg(f"stage.name.{stage}"), "seconds": f"{seconds:.1f}"}
            line = msg("stage.said", **fields, said=said) if said else msg("stage.line", **fields)
            progress(line.render(console_lang()))

    draw = draw_sampling_plan(
        dataset, scenario.seed, scenario.caps.positive_list_per_year, scenario.caps.per_dept_per_year, lang
    )
    lap("sample", msg("stage.sample", n=f"{len(draw.tasks):,}"))
    dataset = apply_staff_scaling(dataset, scenario)  # after the draw: a what-if staff cut must not change it
    instance = build_instance(dataset, draw.tasks, scenario, calendar)
    lap("instance", msg("stage.instance", tasks=f"{len(instance.tasks):,}", none=f"{len(instance.unplaceable):,}"))
    overrides = read_overrides(dataset.overrides)
    if overrides:  # 人工研判修正: one that contradicts a rule by itself stops the run here, with its row
        problems = override_problems(overrides, instance, dataset, scenario, str(dataset.files["overrides"]))
        if problems:
            raise InputError(problems)
        instance = with_overrides(instance, prepare(overrides, instance.workdays))
        lap("overrides", msg("stage.overrides", n=f"{len(overrides):,}"))
    # off-site checks (非现场监管) need no visit: the merge and the crews see the on-site tasks, and the
    # mandatory off-site work takes its desk days first (model.desk)
    onsite, desk_tasks = instance.onsite(), offsite_tasks(instance.tasks)
    desk = DeskBook(
        Roster.from_dataset(dataset, len(calendar), scenario.planned_share),
        checks_per_day(scenario.offsite.desk_share),
        scenario.seed,
    )
    desk_reasons = place_desk_work(desk_tasks[desk_tasks["mandatory"]], instance.workdays, desk)
    facts, dataset = dataset, reserve(dataset, desk, len(calendar), scenario.planned_share)
    stats = MergeStats()
    groups, capped_out = merge_tasks(onsite, dataset, scenario, stats, stop)
    stopped = msg("stage.merge.stopped", why=stats.stopped_by, skipped=f"{stats.skipped:,}") if stats.stopped_by else ""
    windows_bound = lower_bound_visits(onsite.tasks[onsite.tasks["first_day"] >= 0])
    lap(
        "merge",
        msg(
            "stage.merge",
            groups=f"{len(groups):,}",
            bound=f"{windows_bound:,}",
            capped=f"{len(capped_out):,}",
            exact=f"{stats.exact_models:,}",
            proven=f"{stats.proven:,}",
            stopped=stopped,
        ),
    )
    legal_bound, tasks_bound = capacity_bound_model(
        onsite,
        Roster.from_dataset(dataset, len(calendar), scenario.planned_share),
        TravelTimes(dataset, scenario),
        township_of(dataset),
        scenario.onsite,
        stats.mandatory_limits,
    )
    lap("capacity", msg("stage.capacity", n=f"{legal_bound:,}"))
    horizon = plan_horizon(groups, onsite, dataset, scenario, calendar, legal_bound=legal_bound)
    schedule = horizon.schedule
    crew_day = {crew.crew_id: instance.workdays[crew.day] for crew in schedule.crews}
    members = schedule.members if len(schedule.members) else pd.DataFrame(columns=["crew_id", "inspector_id"])
    for crew_id, who in zip(members["crew_id"], members["inspector_id"]):
        desk.busy[who].add(crew_day[crew_id])
    desk_reasons |= place_desk_work(desk_tasks[~desk_tasks["mandatory"]], instance.workdays, desk)
    lap(
        "schedule",
        msg(
            "stage.schedule",
            days=f"{len(schedule.routes):,}",
            unplaced=f"{len(schedule.unplaced):,}",
            chosen=schedule_text(horizon.chosen, console_lang()),
            tried=len(horizon.tried),
        ),
    )
    tables = plan_tables(
        instance, schedule, capped_out | desk_reasons, draw, dataset, scenario, lang, offsite=desk_frame(desk)
    )
    lap("tables")
    kpis = compute_kpis(tables, instance, draw.draws)
    unplaced_onsite = tables.unscheduled["mandatory"] & tables.unscheduled["task_id"].isin(onsite.tasks["task_id"])
    placed_mandatory = int(onsite.tasks["mandatory"].sum()) - int(unplaced_onsite.sum())
    capacity = tasks_bound(placed_mandatory)
    tables = dataclasses.replace(
        tables, unscheduled=with_capacity_statement(tables.unscheduled, capacity.mandatory, placed_mandatory, lang)
    )
    bound = rule_bound(tables.visits, tables.visit_tasks, instance, facts, scenario)
    lap(
        "bound",
        msg(
            "stage.bound",
            placed=f"{placed_mandatory:,}",
            most=f"{capacity.mandatory:,}",
            tasks=f"{kpis['scheduled']:,}",
            most_tasks=f"{capacity.tasks:,}",
            visits=f"{bound.visits:,}",
            above=f"{len(bound.enterprises):,}",
        ),
    )
    if progress is not None:
        said = msg(
            "stage.plan",
            visits=f"{kpis['visits']:,}",
            lower=f"{kpis['lower_bound_visits']:,}",
            rule_bound=f"{bound.visits:,}",
            unplaced=f"{kpis['unscheduled_mandatory']:,}",
        )
        progress(said.render(console_lang()))
    broken = check_plan(tables, facts, scenario, set(calendar.workdays), draw.draws)
    lap("check", msg("stage.check.broken", n=f"{len(broken):,}") if broken else msg("stage.check.kept"))
    status = {None: "FEASIBLE", "time_limit": "TIME_LIMIT", "interrupt": "INTERRUPTED"}[stats.stopped_by]
    kpis |= {
        "status": status,
        "method": PLAN_METHOD,
        "objective": kpis["visits"],
        "best_bound": bound.visits,
        "rule_bound_visits": bound.visits,
        # off-site tasks need no crew: each with a possible day is counted as placeable
        "capacity_bound_mandatory": capacity.mandatory + int(desk_tasks["mandatory"].sum()),
        "capacity_bound_tasks": capacity.tasks + len(desk_tasks),
        "schedule_kept": horizon.chosen,
        "split_visits": sum(horizon.split.values()),
        "exact_models": stats.exact_models,
        "exact_models_proven": stats.proven,
        "exact_models_skipped": stats.skipped,
        "timings": watch.timings,
    }
    return Plan(tables, draw, kpis, watch.timings, broken, lang)


def override_input_problems(dataset: Dataset, scenario: Scenario, calendar: WorkCalendar) -> list[Problem]:
    """The overrides (人工研判修正) that contradict a rule by themselves, as `planner plan` would
    refuse them (the draw made, for the drawn tasks' ids): for `planner validate SCENARIO`."""
    overrides = read_overrides(dataset.overrides)
    if not overrides:
        return []
    draw = draw_sampling_plan(
        dataset, scenario.seed, scenario.caps.positive_list_per_year, scenario.caps.per_dept_per_year
    )
    instance = build_instance(apply_staff_scaling(dataset, scenario), draw.tasks, scenario, calendar)
    return override_problems(overrides, instance, dataset, scenario, str(dataset.files["overrides"]))


def with_capacity_statement(
    unscheduled: pd.DataFrame, bound: int, placed: int, lang: str = DEFAULT_LANG
) -> pd.DataFrame:
    """The capacity bound's statement after the reason of every mandatory task left out for want
    of staff: proven unavoidable in number when the plan places as many as the bound allows."""
    short = unscheduled["mandatory"] & unscheduled["reason_code"].eq("staff_capacity")
    if not short.any():
        return unscheduled
    counts = {"bound": f"{bound:,}", "placed": f"{placed:,}"}
    if placed >= bound:
        statement = msg("reason.capacity_bound.proven", **counts).render(lang)
    else:
        statement = msg("reason.capacity_bound.gap", **counts, gap=f"{bound - placed:,}").render(lang)
    reason = unscheduled["reason"].where(~short, unscheduled["reason"] + statement)
    return unscheduled.assign(reason=reason)


def message_names(dataset: Dataset) -> dict[str, str]:
    """Department and inspector ids → their names, for the sentences (planner.messages)."""
    departments = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
    return dict(zip(dataset.inspectors["inspector_id"], dataset.inspectors["name"])) | departments


def visit_code(uscc: str, date: dt.date, task_ids: list[str]) -> str:
    """A short code for a visit (亮码检查), the same whenever the visit's content is the same."""
    digest = hashlib.sha256(f"{uscc}|{date.isoformat()}|{','.join(sorted(task_ids))}".encode()).digest()
    return base64.b32encode(digest[:5]).decode()


def plan_tables(
    instance: Instance,
    schedule: Schedule,
    capped_out: dict[str, Reason],
    draw: Draw,
    dataset: Dataset,
    scenario: Scenario,
    lang: str = DEFAULT_LANG,
    offsite: pd.DataFrame | None = None,
) -> PlanTables:
    """The contract's tables from the schedule; every unscheduled task's reason as its code
    (``reason_code``) and its sentence in ``lang`` (``reason``); ``offsite``: the off-site checks
    (``model.desk.desk_frame``), none by default."""
    travel = TravelTimes(dataset, scenario)
    facts = instance.overrides
    members: dict[str, list[tuple]] = {}
    if len(schedule.members):
        columns = ["crew_id", "inspector_id", "dept_id", "candidates", "lottery", "repeat_visit"]
        for crew_id, *member in schedule.members[columns].itertuples(index=False):
            members.setdefault(crew_id, []).append(tuple(member))
    visits, visit_tasks, crews, routes = [], [], [], []
    for crew in schedule.crews:
        date = instance.workdays[crew.day]
        station = f"station:{crew.township}"
        here, clock = station, DAY_START_MIN
        for seq, group in enumerate(schedule.routes[crew.crew_id], start=1):
            travel_min = travel.minutes(here, group.uscc)
            arrive = clock + travel_min
            depart = arrive + group.onsite_min(scenario.onsite)
            visit_id = f"{crew.crew_id}-{seq}"
            table, rows = group.table, group.rows
            task_ids = table.task_id[rows].tolist()
            depts = list(group.depts)
            minutes: dict[str, int] = {}
            for dept, duration in zip(table.dept_id[rows].tolist(), table.duration_min[rows].tolist()):
                minutes[dept] = minutes.get(dept, 0) + int(duration)
            # an override's lead department, while it checks in the visit (a cap may have taken its tasks out)
            lead = next((facts.lead[t] for t in task_ids if facts.lead.get(t) in depts), None) if facts else None
            visits.append(
                (
                    visit_id,
                    visit_code(group.uscc, date, task_ids),
                    group.uscc,
                    date,
                    crew.crew_id,
                    arrive,
                    depart,
                    depts,
                    len(task_ids),
                    lead or default_lead_dept(depts, minutes),
                    list(facts.ids_of_visit(group.uscc, task_ids)) if facts else [],
                )
            )
            visit_tasks += zip(
                task_ids,
                [visit_id] * len(task_ids),
                table.dept_id[rows].tolist(),
                table.kind[rows].tolist(),
                table.item[rows].tolist(),
            )
            routes.append((crew.crew_id, date, seq, visit_id, arrive, depart, travel_min))
            here, clock = group.uscc, depart
        day_end = clock + travel.minutes(here, station)
        crews += [
            (crew.crew_id, date, crew.township, DAY_START_MIN, day_end, *member)
            for member in members.get(crew.crew_id, [])
        ]
    reasons = dict(zip(instance.unplaceable["task_id"], instance.unplaceable["reason"])) | capped_out
    for group, reason in schedule.unplaced:
        reasons |= dict.fromkeys(group.task_ids, reason)
    if facts is not None:  # a task an override narrowed says so, whatever else kept it out
        for task_id, why in list(reasons.items()):
            if task_id in facts.restricting and why.code != "override":
                reasons[task_id] = override_reason(facts.restricting[task_id], why)
    tasks = instance.tasks[TASK_COLUMNS].copy()
    for column in ("window_start", "window_end"):
        tasks[column] = tasks[column].dt.date
    unscheduled = tasks[tasks["task_id"].isin(reasons)][["task_id", "kind", "dept_id", "uscc"]]
    why = unscheduled["task_id"].map(reasons)
    names = message_names(dataset)
    unscheduled = unscheduled.assign(
        reason_code=why.map(lambda r: r.code).astype(object),
        reason=why.map(lambda r: r.render(lang, names)).astype(object),
        mandatory=is_mandatory(unscheduled["kind"]),
    )
    return PlanTables(
        tasks=tasks,
        visits=pd.DataFrame(
            visits,
            columns=[
                "visit_id",
                "visit_code",
                "uscc",
                "date",
                "crew_id",
                "start_min",
                "end_min",
                "dept_ids",
                "n_tasks",
                "lead_dept_id",
                "override_ids",
            ],
        ),
        visit_tasks=pd.DataFrame(visit_tasks, columns=["task_id", "visit_id", "dept_id", "kind", "item"]),
        crews=pd.DataFrame(
            crews,
            columns=[
                "crew_id",
                "date",
                "township",
                "day_start_min",
                "day_end_min",
                "inspector_id",
                "dept_id",
                "candidates",
                "lottery",
                "repeat_visit",
            ],
        ),
        routes=pd.DataFrame(
            routes, columns=["crew_id", "date", "seq", "visit_id", "arrive_min", "depart_min", "travel_min"]
        ),
        unscheduled=unscheduled.reset_index(drop=True),
        offsite=empty_offsite() if offsite is None else offsite,
        seats=schedule.fills,  # in the order filled: round by round, each by crew and department
    )


def compute_kpis(tables: PlanTables, instance: Instance, draws: pd.DataFrame) -> dict:
    """The contract's KPIs, from the plan tables and the draws (each random task's joint group),
    and the instance's feasible days for the bounds. The official readings of 综合查一次 are
    defined in docs/data-contract.md ("KPI definitions")."""
    tasks, visits, visit_tasks = tables.tasks, tables.visits, tables.visit_tasks
    scheduled = instance.tasks[instance.tasks["task_id"].isin(visit_tasks["task_id"])]
    mandatory = tasks["kind"].isin(["key", "triggered", "followup"])
    depts_per_visit = visit_tasks.groupby("visit_id")["dept_id"].nunique()
    random_tasks = visit_tasks[visit_tasks["kind"] == "random"]
    joint_random = random_tasks["visit_id"].map(depts_per_visit) >= 2
    joint_task = visit_tasks["visit_id"].map(depts_per_visit) >= 2
    crew_days = tables.crews.drop_duplicates(["crew_id", "date"])
    travel_min = tables.routes["travel_min"].sum() + (
        crew_days["day_end_min"].sum() - tables.routes.groupby(["crew_id", "date"])["depart_min"].max().sum()
    )
    lower, baseline = lower_bound_visits(scheduled), baseline_visits(scheduled)
    offsite = int(tables.offsite["task_id"].nunique())
    done = int(visit_tasks["task_id"].nunique()) + offsite
    return {
        "tasks": len(tasks),
        "scheduled": done,
        "unscheduled": len(tables.unscheduled),
        "unscheduled_mandatory": int(tables.unscheduled["task_id"].isin(tasks.loc[mandatory, "task_id"]).sum()),
        "visits": len(visits),
        "baseline_visits": baseline,
        "lower_bound_visits": lower,
        "disturbance_reduction": baseline - len(visits),
        "disturbance_saved_joint": int((depts_per_visit - 1).sum()),
        "joint_inspection_rate": joint_inspection_rate(visits, visit_tasks, depts_per_visit),
        "joint_task_rate": round(float(joint_task.mean()), 6) if len(visit_tasks) else 0.0,
        "joint_visit_rate": round(float((depts_per_visit >= 2).mean()), 6) if len(visits) else 0.0,
        "joint_random_rate": round(float(joint_random.mean()), 6) if len(random_tasks) else 0.0,
        "joint_random_rate_strict": joint_random_rate_strict(tables.tasks, visit_tasks, draws),
        "offsite_checks": offsite,
        "offsite_share": round(offsite / done, 6) if done else 0.0,
        "inspector_hours": round(float((tables.crews["day_end_min"] - tables.crews["day_start_min"]).sum() / 60), 3),
        "travel_hours": round(float(travel_min / 60), 3),
        "max_crew_day_hours": round(float((crew_days["day_end_min"] - crew_days["day_start_min"]).max() / 60), 3)
        if len(crew_days)
        else 0.0,
        **appointment_kpis(instance.tasks, visit_tasks),
    }


def joint_inspection_rate(visits: pd.DataFrame, visit_tasks: pd.DataFrame, depts_per_visit: pd.Series) -> float:
    """综合查一次实施率: department-inspections (one department's checks of one enterprise on one
    date) done in a visit of two or more departments ÷ all department-inspections."""
    if visit_tasks.empty:
        return 0.0
    where = visits.set_index("visit_id")[["uscc", "date"]]
    checks = visit_tasks[["visit_id", "dept_id"]].drop_duplicates().join(where, on="visit_id")
    checks = checks.assign(joint=checks["visit_id"].map(depts_per_visit) >= 2)
    # one enterprise has one visit a day, so an inspection is in one visit; were it in two, one joint visit makes it joint
    joint = checks.groupby(["dept_id", "uscc", "date"])["joint"].any()
    return round(float(joint.mean()), 6)


def joint_random_rate_strict(tasks: pd.DataFrame, visit_tasks: pd.DataFrame, draws: pd.DataFrame) -> float:
    """跨部门联合双随机 (strict): scheduled random tasks whose visit holds another department's
    random task of the same joint group ÷ scheduled random tasks. A sampling-plan row without a
    joint group is a group of its own, so its tasks are never joint in this reading."""
    random_tasks = visit_tasks[visit_tasks["kind"] == "random"]
    if random_tasks.empty:
        return 0.0
    groups = draws.dropna(subset=["joint_group"]).drop_duplicates("plan_id").set_index("plan_id")["joint_group"]
    plan_of = tasks.set_index("task_id")["plan_id"]
    drawn = random_tasks.assign(group=random_tasks["task_id"].map(plan_of).map(groups)).dropna(subset=["group"])
    joint = drawn.groupby(["visit_id", "group"])["dept_id"].transform("nunique") >= 2
    return round(float(joint.sum() / len(random_tasks)), 6)


def write_plan(
    plan: Plan,
    out_dir: Path,
    dataset: Dataset,
    scenario: Scenario,
    started: dt.datetime,
    replace: bool = False,
    *,
    parent: dict | None = None,
    extra_tables: dict[str, pd.DataFrame] | None = None,
    record: dict | None = None,
    attachments: dict[str, Path] | None = None,
    progress: Callable[[str], None] | None = None,
    ledger: pd.DataFrame | None = None,
) -> Path | None:
    """The plan folder, atomically: tables, kpis.json, draw.json, plan.xlsx, report.html and
    manifest.json with every hash. A re-optimisation passes its ``parent`` (the previous plan and
    the as-of date), its ``extra_tables`` (changes), the previous draw's ``record`` and the
    actuals it applied as ``attachments`` (relative name → file, copied byte for byte so that
    ``planner verify`` can re-check the plan against them). ``progress`` hears the name of each
    of the ``WRITTEN`` steps when it is done (plan.xlsx and report.html take seconds).
    A re-optimised plan (one with a ``parent``) also holds the 月会商 agenda (``planner.agenda``),
    made from the tables as written: agenda.md, three sheets of plan.xlsx and a section of
    report.html. ``ledger``: the plan's ledger (``planner.ledger.plan_ledger``), which a re-optimisation must
    pass; by default a first plan's, from the tables and the dataset's history."""
    from planner.agenda import AGENDA_FILE, agenda_markdown, recorded_agenda
    from planner.audit import DRAW_RECORD, draw_record
    from planner.ledger import LEDGER_FILE, ledger_alerts, plan_ledger
    from planner.report import write_report
    from planner.workbook import Names, write_workbook

    frames = {name: getattr(plan.tables, name) for name in TABLES if name != "draws"} | {"draws": plan.draw.draws}
    # the stage timings are facts of the run, not of the plan: only kpis.json (and the manifest's
    # times) carry them, so every other file is the same bytes for the same inputs and seed
    stable_kpis = {k: v for k, v in plan.kpis.items() if k != "timings"}
    if ledger is None:
        horizon = (scenario.horizon.start, scenario.horizon.end)
        ledger = plan_ledger(frames, dataset.history, dataset.enterprises, horizon)
    scenario_keys = scenario.model_dump(mode="json")

    def done(step: str) -> None:
        if progress is not None:
            progress(step)

    def fill(folder: Path) -> None:
        for name, source in (attachments or {}).items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, folder / name)
        for name, frame in (frames | (extra_tables or {})).items():
            write_table(frame, folder / f"{name}.parquet")
        write_table(ledger, folder / LEDGER_FILE)
        (folder / "kpis.json").write_text(json.dumps(plan.kpis, ensure_ascii=False, indent=2), encoding="utf-8")
        draw = record if record is not None else draw_record(plan.draw, scenario, dataset, None, plan.lang)
        (folder / DRAW_RECORD).write_text(json.dumps(draw, ensure_ascii=False, indent=2), encoding="utf-8")
        agenda = None
        if parent is not None:
            agenda = recorded_agenda(folder, dataset, scenario, parent, stable_kpis, plan.lang)
            (folder / AGENDA_FILE).write_text(agenda_markdown(agenda), encoding="utf-8")
        done(WRITTEN[0])
        write_workbook(
            folder / "plan.xlsx",
            frames | {"ledger": ledger},
            stable_kpis,
            Names.from_dataset(dataset),
            scenario=scenario_keys,
            draw_record=draw,
            lang=plan.lang,
            agenda=agenda,
        )
        done(WRITTEN[1])
        write_report(
            folder / "report.html",
            kpis=stable_kpis,
            visits=plan.tables.visits,
            routes=plan.tables.routes,
            crews=plan.tables.crews,
            unscheduled=plan.tables.unscheduled,
            tasks=plan.tables.tasks,
            enterprises=dataset.enterprises,
            townships=dataset.townships,
            departments=dataset.departments,
            title=scenario.name,
            alerts=ledger_alerts(
                ledger,
                scenario_keys,
                dict(zip(dataset.departments["dept_id"], dataset.departments["name"])),
                plan.lang,
            ),
            agenda=agenda,
            lang=plan.lang,
        )
        done(WRITTEN[2])
        manifest = {
            "inputs": {str(p): sha256_file(p) for p in sorted(dataset.files.values())}
            | {str(scenario.source): sha256_file(scenario.source)},
            "outputs": {
                p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()
            },
            "scenario": scenario_keys,
            "seed": scenario.seed,
            # the writers' versions and the language decide plan.xlsx's and report.html's bytes,
            # which `planner verify` writes again and compares (planner.verify)
            "versions": {
                "planner": __version__,
                **{n: version(n) for n in ("ortools", "pandas", "pyarrow", "numpy", "xlsxwriter", "plotly")},
            },
            "language": LANGUAGE_TAGS[plan.lang],
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "parent": parent,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        done(WRITTEN[3])

    return write_folder(out_dir, fill, replace=replace)
