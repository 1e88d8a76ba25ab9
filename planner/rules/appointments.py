"""预约式指导服务: visits an enterprise asked for (企业预约执法) or a department agreed with it
(执法预约企业), planned as promised.

An appointment (a row of the optional ``appointments`` table) becomes one task of kind
``appointment`` per department it names (``<appointment_id>:<dept_id>``), all done in ONE visit,
on a working day of its window, with its departments' inspectors:

- ``appointment``: every task of an appointment is in the plan, and either all of them are
  unscheduled (with their reason) or all are in one visit at the appointment's enterprise, on a
  day of its window;
- the caps: an appointment is service the enterprise agreed to, not an inspection, so
  ``appointment`` is one of ``caps.UNCAPPED_KINDS``: a visit holding only appointment work counts
  against no cap (一年最多查一次 untouched) and may fall on a quiet day (无事不扰 bars unrequested
  checks). A visit that also holds a capped check (folded in with ``fold_due``) is a capped visit
  like any other, and every department in it uses its cap (``caps``);
- placement: appointment tasks carry ``APPOINTMENT_PRIORITY``, so the scheduler places them
  before optional work of ordinary priority; they are not legal duties (not 必查) and do not
  count in the mandatory KPIs.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from planner.messages import Dept, msg
from planner.problems import Problem
from planner.rules.stays import MAX_VISIT_ONSITE_MIN
from planner.rules.tasks import SOURCE_COLUMNS

#: the task kind of an appointment's work
APPOINTMENT = "appointment"
#: the priority of an appointment's tasks: a promise made to a firm goes before optional work
#: of the ordinary priority (1), after the legal duties (which the objective puts first)
APPOINTMENT_PRIORITY = 10


def task_id_of(appointment_id: str, dept_id: str) -> str:
    """The task of one department of an appointment."""
    return f"{appointment_id}:{dept_id}"


def appointment_tasks(appointments: pd.DataFrame) -> pd.DataFrame:
    """One task per (appointment, department), in the order the appointments and their
    ``dept_ids`` are listed: the task columns (``rules.tasks.SOURCE_COLUMNS``)
    and ``appointment_id``."""
    rows = []
    for a in appointments.itertuples(index=False):
        for dept in dict.fromkeys(a.dept_ids):
            rows.append(
                {
                    "task_id": task_id_of(a.appointment_id, dept),
                    "dept_id": dept,
                    "uscc": a.uscc,
                    "item": a.topic,
                    "kind": APPOINTMENT,
                    "window_start": a.window_start,
                    "window_end": a.window_end,
                    "duration_min": int(a.duration_min),
                    "min_inspectors": int(a.min_inspectors),
                    "delegable": False,
                    "priority": APPOINTMENT_PRIORITY,
                    "plan_id": None,
                    "appointment_id": a.appointment_id,
                }
            )
    frame = pd.DataFrame(rows, columns=[*SOURCE_COLUMNS, "appointment_id"])
    for column in ("window_start", "window_end"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


# --- the inputs: what the loaders cannot see alone --------------------------------------------------


def task_id_clashes(appointments: pd.DataFrame, demands: pd.DataFrame, file: str) -> list[Problem]:
    """An appointment whose task id (``<appointment_id>:<dept_id>``) is a demand's task_id."""
    taken = set(demands["task_id"])
    return [
        Problem(file, int(row), "appointment_id", a_id, msg("input.appointments.task_id_taken", task=task))
        for row, a_id, depts in zip(appointments.index, appointments["appointment_id"], appointments["dept_ids"])
        for task in (task_id_of(a_id, d) for d in depts)
        if task in taken
    ]


def horizon_problems(appointments: pd.DataFrame, file: str | None, start: dt.date, end: dt.date) -> list[Problem]:
    """An appointment's window must lie in the plan's horizon: a promise the plan cannot keep is
    refused before planning (unlike a department's check, whose window may run past it)."""
    if file is None or not len(appointments):
        return []
    problems = []
    for column, outside in (
        ("window_start", appointments["window_start"] < pd.Timestamp(start)),
        ("window_end", appointments["window_end"] > pd.Timestamp(end)),
    ):
        problems += [
            Problem(
                file,
                int(row),
                column,
                appointments.at[row, column].date().isoformat(),
                msg("input.appointments.outside_horizon", start=start, end=end),
            )
            for row in appointments.index[outside]
        ]
    return sorted(problems, key=lambda p: (p.row, p.column))


def stay_problems(appointments: pd.DataFrame, file: str | None, onsite: str) -> list[Problem]:
    """An appointment whose stay is longer than MAX_VISIT_ONSITE_MIN (the planner's stay rule,
    ``rules.stays``): ``duration_min`` × its departments, or ``duration_min`` when departments check
    side by side (``onsite = "parallel"``). It could only be kept by splitting it, which it never is."""
    if file is None or not len(appointments):
        return []
    departments = appointments["dept_ids"].map(lambda depts: len(dict.fromkeys(depts)))
    stay = appointments["duration_min"] * (1 if onsite == "parallel" else departments)
    return [
        Problem(
            file,
            int(row),
            "duration_min",
            str(int(appointments.at[row, "duration_min"])),
            msg(
                "input.appointments.long_stay",
                minutes=int(stay[row]),
                n=int(departments[row]),
                most=MAX_VISIT_ONSITE_MIN,
            ),
        )
        for row in appointments.index[stay > MAX_VISIT_ONSITE_MIN]
    ]


# --- KPIs ---------------------------------------------------------------------------------------------


def appointment_kpis(tasks: pd.DataFrame, visit_tasks: pd.DataFrame) -> dict[str, int]:
    """Nothing when ``tasks`` hold no appointment; else ``appointments_total``; ``appointments_kept`` (every task of the appointment in the plan's
    visits); ``checks_folded_into_appointments``: other tasks done in a visit holding appointment
    work (each a check the enterprise would otherwise have received in a visit of its own).
    ``tasks`` needs ``task_id``, ``kind`` and ``appointment_id`` (the instance's tasks)."""
    mine = tasks[tasks["kind"] == APPOINTMENT]
    if not len(mine):  # a county without appointments: its kpis.json as before they existed
        return {}
    if "appointment_id" not in mine:  # tasks rebuilt without it: the id is the task's before its last ':'
        mine = mine.assign(appointment_id=mine["task_id"].str.rsplit(":", n=1).str[0])
    placed = set(visit_tasks["task_id"])
    kept = mine["task_id"].isin(placed).groupby(mine["appointment_id"]).all()
    holding = set(visit_tasks.loc[visit_tasks["kind"] == APPOINTMENT, "visit_id"])
    folded = visit_tasks["visit_id"].isin(holding) & (visit_tasks["kind"] != APPOINTMENT)
    return {
        "appointments_total": int(len(kept)),
        "appointments_kept": int(kept.sum()),
        "checks_folded_into_appointments": int(folded.sum()),
    }


# --- check: the appointments re-checked from the plan tables ----------------------------------------


def check_appointment(plan, inputs) -> list[str]:
    """Hard rule: each appointment is kept as promised — its departments' tasks are all in the
    plan, as appointment work, and either all unscheduled or all in one visit at its enterprise
    on a day of its window (in a re-optimised plan: those not done before its as-of date)."""
    wanted = appointment_tasks(inputs.dataset.appointments)
    if not len(wanted) and not (plan.tasks["kind"] == APPOINTMENT).any():
        return []
    out = []
    listed = plan.tasks.drop_duplicates("task_id").set_index("task_id")
    for task_id, dept in zip(wanted["task_id"], wanted["dept_id"]):
        if task_id not in listed.index:
            out.append(msg("check.appointment.missing", task=task_id, dept=Dept(dept)))
        elif listed.at[task_id, "kind"] != APPOINTMENT:
            out.append(msg("check.appointment.kind", task=task_id, kind=listed.at[task_id, "kind"]))
    stray = sorted(set(listed.index[listed["kind"] == APPOINTMENT]) - set(wanted["task_id"]))
    out += [msg("check.appointment.unknown", task=t) for t in stray]
    visit_of = dict(zip(plan.visit_tasks["task_id"], plan.visit_tasks["visit_id"]))
    visits = plan.visits.set_index("visit_id")
    # a re-optimised plan: visits before its as-of date are history (a department that did not
    # come is planned again on its own), so only the tasks still to come must share one visit
    past = set()
    if inputs.as_of is not None and len(plan.visits):
        dates = pd.to_datetime(plan.visits["date"])
        past = set(plan.visits.loc[(dates < pd.Timestamp(inputs.as_of)).to_numpy(), "visit_id"])
    for appointment_id, tasks in wanted.groupby("appointment_id", sort=True):
        where = {visit_of.get(t) for t in tasks["task_id"]}
        coming = where - past
        placed = where - {None}
        if coming - {None} and (None in coming or len(coming) > 1):
            out.append(msg("check.appointment.split", appointment=appointment_id, visits=len(placed)))
        first, last = tasks["window_start"].iat[0], tasks["window_end"].iat[0]
        for visit_id in sorted(placed & set(visits.index)):  # plan_integrity names a visit_task without its visit
            visit = visits.loc[visit_id]
            date = pd.Timestamp(visit["date"])
            if not first <= date <= last:
                out.append(
                    msg(
                        "check.appointment.outside_window",
                        appointment=appointment_id,
                        visit=visit_id,
                        date=date.date(),
                        start=first.date(),
                        end=last.date(),
                    )
                )
            if visit["uscc"] != tasks["uscc"].iat[0]:
                out.append(msg("check.appointment.other_enterprise", appointment=appointment_id, visit=visit_id))
    return out
