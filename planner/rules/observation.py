"""观察期 and 优信豁免沙盒: routine checks leave new-economy and top-credit firms alone.

- ``observation_period``: a new-economy firm (三新经济) in its observation period (观察期, until
  ``observation_until``) gets no random or campaign task; key, complaint and follow-up checks
  are not routine and still go.
- ``sandbox``: a firm in the 优信豁免沙盒 is never drawn for a random check.

The draw keeps both out of the pool; the instance starts an observed task's feasible days after
the period; ``check_*`` re-checks a plan from its tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.messages import msg, reason
from planner.rules.explain import BLOCKED, Verdict, window_text

#: kinds that wait for the end of the observation period (routine checks)
OBSERVED_KINDS = frozenset({"random", "campaign"})


def observation_until(tasks: pd.DataFrame, enterprises: pd.DataFrame) -> pd.Series:
    """Per task, the end of its enterprise's observation period if the task must wait for it
    (NaT otherwise)."""
    until = tasks["uscc"].map(enterprises.set_index("uscc")["observation_until"])
    return until.where(tasks["kind"].isin(OBSERVED_KINDS))


def earliest_start(start: pd.Series, until: pd.Series) -> pd.Series:
    """A task's first allowed date: ``start``, or the day after ``until`` (``observation_until``)
    when that is later."""
    after_observation = until + pd.Timedelta(days=1)
    return start.where(until.isna() | (after_observation <= start), after_observation)


def drawable(enterprises: pd.DataFrame, window_end: pd.Timestamp) -> np.ndarray:
    """Per enterprise, whether a random check with a window ending ``window_end`` may draw it:
    never in the sandbox (优信豁免), nor while its observation period reaches the window's end."""
    return ~enterprises["sandbox"].to_numpy() & ~(enterprises["observation_until"] >= window_end).to_numpy()


def check_observation_period(plan, inputs) -> list[str]:
    """Hard rule: no random or campaign check of a firm in its observation period (观察期)."""
    joined = inputs.joined
    until = joined["uscc"].map(inputs.dataset.enterprises.set_index("uscc")["observation_until"])
    day = pd.to_datetime(joined["date"]).dt.normalize()
    broken = joined[joined["kind"].isin(OBSERVED_KINDS) & until.notna() & (day <= until)]
    return [
        msg("check.observation", kind=r.kind, task=r.task_id, date=pd.Timestamp(r.date).date(), until=until[i].date())
        for i, r in zip(broken.index, broken.itertuples())
    ]


def check_sandbox(plan, inputs) -> list[str]:
    """Hard rule: a firm in the 优信豁免沙盒 is never drawn for a random check."""
    sandbox = set(inputs.dataset.enterprises.loc[inputs.dataset.enterprises["sandbox"], "uscc"])
    tasks = plan.tasks[(plan.tasks["kind"] == "random") & plan.tasks["uscc"].isin(sandbox)]
    return [msg("check.sandbox", task=t, uscc=u) for t, u in zip(tasks["task_id"], tasks["uscc"])]


# --- explain: why a task cannot keep the rule (planner diagnose) -----------------------------


def explain_observation_period(task: dict, county) -> Verdict | None:
    """Hard rule: random and campaign tasks only after the enterprise's observation period (观察期)."""
    until = county.observation.get(task["uscc"])
    if task["kind"] not in OBSERVED_KINDS or until is None or pd.isna(until):
        return None
    end = min(task["window_end"], pd.Timestamp(county.scenario.horizon.end))
    if until < end:
        return None
    after = (until + pd.Timedelta(days=1)).date()
    return Verdict(
        "observation_period",
        BLOCKED,
        reason("observation_period", "reason.observation_period", until=until.date(), window=window_text(task)),
        msg("fix.observation_period", after=after),
    )
