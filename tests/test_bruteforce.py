"""Tiny counties against a brute-force optimum: the plan keeps as many tasks and makes as few visits as any plan could.

The brute force knows nothing of the planner's method. Per enterprise it tries every way to
drop tasks and to partition the rest into visits, and keeps a partition only when the contract's
rules allow it: every visit has a working day common to its tasks (window ∩ horizon, after the
observation period for campaign tasks), the visits get distinct days, a stay is at most
``MAX_VISIT_ONSITE_MIN`` unless it is one task or a *long stay* (up to the limit of
``merge.long_stay_limits``: the departments' longest day less the road), and the yearly caps hold
counting history (a visit is capped unless all its tasks are triggered or followup; it counts for
every department in it, and for a positive-list firm once). Staff is ample, so capacity never
binds and the optimum is separable by enterprise. Order of goals, as documented: mandatory
tasks, fewest long stays, tasks, priority, fewest visits. The plan's visits are also never below
the rule-aware lower bound (``planner.model.bounds``).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from planner.checker import check_plan
from planner.dataset import load_dataset
from planner.pipeline import make_plan
from planner.rules.stays import MAX_VISIT_ONSITE_MIN, long_stay_limits
from planner.scenario import load_scenario
from planner.workdays import work_calendar
from tests.conftest import ACME, COOP, SHOP, valid_tables, write_dataset

ENTERPRISES = [ACME, COOP, SHOP]  # COOP is on the positive list; SHOP is observed until 2026-06-30
DEPTS = ["SJ", "XF"]
KINDS = ["key", "campaign", "triggered", "followup"]
MANDATORY = {"key", "triggered", "followup"}
UNCAPPED = {"triggered", "followup"}
FIRST = dt.date(2026, 6, 1)
SCENARIO = """name = "bf"
dataset = "ds"
seed = 3
[horizon]
start = 2026-06-01
end = 2026-12-31
[caps]
per_dept_per_year = {per_dept}
positive_list_per_year = 1
"""

task = st.tuples(
    st.sampled_from(ENTERPRISES),
    st.sampled_from(DEPTS),
    st.sampled_from(KINDS),
    st.integers(0, 50),
    st.integers(0, 20),
    st.sampled_from([30, 60, 120, 200]),
    st.integers(1, 3),
)
past_visit = st.tuples(st.sampled_from(ENTERPRISES), st.sampled_from(DEPTS), st.integers(1, 120))


def county(tasks, history) -> dict:
    """The hand-written county with ample staff, the given demands and capped history in 2026."""
    tables = valid_tables()
    header = tables["inspectors"][0]
    tables["inspectors"] = [header] + [
        [f"{d}{n:03d}", f"人员{n}", d, f"3304{d}{n:05d}", "", "8", ""]  # one 执法证号 per person
        for d in DEPTS
        for n in range(10)
    ]
    tables["leave"], tables["conflicts"] = tables["leave"][:1], tables["conflicts"][:1]
    tables["sampling_plan"] = tables["sampling_plan"][:1]
    tables["history"] = tables["history"][:1] + [
        [uscc, dept, (dt.date(2026, 1, 1) + dt.timedelta(days=day)).isoformat(), "", "key"]
        for uscc, dept, day in history
    ]
    rows = [tables["demands"][0]]
    for n, (uscc, dept, kind, start, length, minutes, priority) in enumerate(tasks):
        first = FIRST + dt.timedelta(days=start)
        rows.append(
            [
                f"T{n}",
                dept,
                uscc,
                "检查",
                kind,
                first.isoformat(),
                (first + dt.timedelta(days=length)).isoformat(),
                str(minutes),
                "",
                "",
                str(priority),
            ]
        )
    tables["demands"] = rows
    return tables


def feasible_dates(uscc: str, kind: str, start: int, length: int, workdays: list[dt.date]) -> set[dt.date]:
    """Working days of the window, after SHOP's observation period for a campaign task."""
    first, last = FIRST + dt.timedelta(days=start), FIRST + dt.timedelta(days=start + length)
    if kind == "campaign" and uscc == SHOP:
        first = max(first, dt.date(2026, 7, 1))
    return {d for d in workdays if first <= d <= last}


def partitions(n: int):
    """Every assignment of n items to 'dropped' (-1) or a block, blocks numbered in first-use order."""

    def extend(prefix: list[int], blocks: int):
        if len(prefix) == n:
            yield list(prefix)
            return
        for label in range(-1, blocks + 1):
            prefix.append(label)
            yield from extend(prefix, max(blocks, label + 1))
            prefix.pop()

    yield from extend([], 0)


def distinct_days(options: list[set[dt.date]]) -> bool:
    """Whether each block can get its own day (bipartite matching by augmenting paths)."""
    owner: dict[dt.date, int] = {}

    def place(block: int, seen: set[dt.date]) -> bool:
        for day in sorted(options[block]):
            if day not in seen:
                seen.add(day)
                if day not in owner or place(owner[day], seen):
                    owner[day] = block
                    return True
        return False

    return all(place(b, set()) for b in range(len(options)))


def best_for_enterprise(uscc, tasks, history, per_dept: int, workdays, long_stay) -> tuple[int, int, int, int, int]:
    """(mandatory kept, −long stays, tasks kept, priority kept, −visits) of the best legal plan for one enterprise."""
    mine = [t for t in tasks if t[0] == uscc]
    feasible = [feasible_dates(uscc, t[2], t[3], t[4], workdays) for t in mine]
    used_firm = len({day for u, _, day in history if u == uscc})
    used_dept = {d: len({day for u, dd, day in history if u == uscc and dd == d}) for d in DEPTS}
    best = (0, 0, 0, 0, 0)
    for labels in partitions(len(mine)):
        blocks: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            if label >= 0:
                blocks.setdefault(label, []).append(i)
        options, ok = [], True
        capped_blocks, dept_capped, long_blocks = 0, dict.fromkeys(DEPTS, 0), 0
        for members in blocks.values():
            common = set.intersection(*(feasible[i] for i in members))
            onsite = sum(mine[i][5] for i in members)
            limit = long_stay(uscc, {mine[i][1] for i in members})
            if not common or (len(members) > 1 and onsite > max(MAX_VISIT_ONSITE_MIN, limit)):
                ok = False
                break
            long_blocks += len(members) > 1 and onsite > MAX_VISIT_ONSITE_MIN
            options.append(common)
            if any(mine[i][2] not in UNCAPPED for i in members):
                capped_blocks += 1
                for d in {mine[i][1] for i in members}:
                    dept_capped[d] += 1
        if not ok or any(used_dept[d] + dept_capped[d] > per_dept for d in DEPTS if dept_capped[d]):
            continue
        if uscc == COOP and capped_blocks and used_firm + capped_blocks > 1:
            continue
        kept = [mine[i] for i, label in enumerate(labels) if label >= 0]
        score = (sum(t[2] in MANDATORY for t in kept), -long_blocks, len(kept), sum(t[6] for t in kept), -len(blocks))
        if score > best and distinct_days(options):
            best = score
    return best


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)  # CI: the same examples every run
@given(st.lists(task, min_size=1, max_size=8), st.lists(past_visit, max_size=3), st.sampled_from([1, 2]))
# found by random runs: the plan's visits are optimal (5; 3) and the bound is below them (4; 2), for it lets
# several stays share a day and bounds their minutes only in total (610 minutes in two stays on 1 June)
@example(
    tasks=[
        (ACME, "SJ", "key", 16, 20, 120, 3),
        (SHOP, "XF", "key", 1, 0, 30, 2),
        (ACME, "XF", "key", 0, 0, 30, 1),
        (ACME, "SJ", "key", 0, 0, 30, 2),
        (ACME, "XF", "triggered", 21, 20, 200, 3),
        (ACME, "XF", "followup", 23, 20, 200, 3),
    ],
    history=[],
    per_dept=1,
)
@example(
    tasks=[
        (ACME, "SJ", "key", 0, 0, 30, 1),
        (ACME, "SJ", "key", 0, 0, 30, 1),
        (ACME, "SJ", "key", 0, 1, 200, 1),
        (ACME, "SJ", "key", 0, 0, 30, 1),
        (ACME, "SJ", "key", 0, 0, 120, 1),
        (ACME, "XF", "key", 0, 2, 200, 1),
    ],
    history=[],
    per_dept=2,
)
# found by a random run: three key checks must leave SHOP's one campaign day (13 July) to the campaign check
@example(
    tasks=[
        (SHOP, "SJ", "key", 23, 20, 120, 1),
        (SHOP, "SJ", "key", 23, 20, 120, 1),
        (SHOP, "SJ", "key", 40, 3, 120, 1),
        (SHOP, "SJ", "campaign", 40, 2, 30, 1),
    ],
    history=[],
    per_dept=2,
)
def test_plan_matches_brute_force_optimum(tasks, history, per_dept):
    """With ample staff, mandatory kept, tasks kept, priority kept and visits all equal the brute-force optimum."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_dataset(folder / "ds", county(tasks, history))
        (folder / "s.toml").write_text(SCENARIO.format(per_dept=per_dept))
        scenario = load_scenario(folder / "s.toml")
        dataset = load_dataset(scenario.dataset)
        calendar = work_calendar(scenario.horizon.start, scenario.horizon.end, dataset.calendar_overrides())
        plan = make_plan(dataset, scenario, calendar)
        assert check_plan(plan.tables, dataset, scenario, set(calendar.workdays)) == []
        workdays = list(calendar.workdays)
        long_stay = long_stay_limits(dataset, scenario)
        optimum = [
            sum(parts)
            for parts in zip(
                *(best_for_enterprise(u, tasks, history, per_dept, workdays, long_stay) for u in ENTERPRISES)
            )
        ]
        done = plan.tables.visit_tasks["task_id"].str.removeprefix("T").astype(int).tolist()
        kept = [tasks[i] for i in done]
        visits = plan.tables.visits
        long_visits = int(
            ((visits["end_min"] - visits["start_min"] > MAX_VISIT_ONSITE_MIN) & (visits["n_tasks"] > 1)).sum()
        )
        got = [
            sum(t[2] in MANDATORY for t in kept),
            -long_visits,
            len(kept),
            sum(t[6] for t in kept),
            -plan.kpis["visits"],
        ]
        assert got == optimum, plan.tables.unscheduled[["task_id", "reason"]].to_string()
        # the bound is a relaxation: never above the optimum, and below it where the relaxed rules
        # allow (the two examples above)
        assert plan.kpis["lower_bound_visits"] <= plan.kpis["rule_bound_visits"] <= plan.kpis["visits"]
