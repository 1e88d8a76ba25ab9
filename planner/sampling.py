"""双随机: fair, coordinated, verifiable random draws of enterprises.

Every enterprise gets a *permanent random number* (PRN) per joint group and year; each row of
the sampling plan takes the enterprises with the smallest numbers in its eligible pool
(Ohlsson 1995, "Coordination of samples using permanent random numbers"). Because the numbers
are i.i.d. uniform, each row is a simple random sample of its own pool — every eligible
enterprise has the same chance — while rows sharing a ``joint_group`` share numbers and so pick
the same enterprises wherever their pools overlap (跨部门联合双随机): one visit serves several
random checks.

The numbers are a documented keyed hash, so anyone can recompute a draw from the seed and
the inputs (一公开):

    key(seed, group)       = first 8 bytes of BLAKE2b("planner-prn-v1|{seed}|{group}"),
                             and key2 the next 8 bytes
    id(uscc)               = first 8 bytes of BLAKE2b("{uscc}")
    x                      = mix(mix(id ^ key) ^ key2)        mix = SplitMix64's finaliser
    base                   = top 53 bits of x / 2**53          (uniform in [0, 1))
    prn                    = frac(base + (year - 2000) × 0.6180339887…)

The year shift rotates the numbers (the golden-ratio step), so firms drawn first one year are
not first the next: for sampling fractions below 38 % consecutive years' samples of a stable
pool do not overlap at all. Rows without a joint group use their own ``plan_id`` as group, so
their draws are independent of every other row.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from planner.dataset import Dataset
from planner.messages import DEFAULT_LANG, Message, console_lang, msg, text
from planner.rules.caps import YearlyCaps, drawn_beyond_cap_reason
from planner.rules.conflicts import all_conflicted_reason, by_enterprise
from planner.rules.crews import certified
from planner.rules.observation import drawable
from planner.rules.tasks import SOURCE_COLUMNS

ALGORITHM = "planner-prn-v1"
YEAR_SHIFT = (math.sqrt(5) - 1) / 2
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)

DRAW_COLUMNS = [
    "plan_id",
    "joint_group",
    "stratum",
    "uscc",
    "prn",
    "rank",
    "selected",
    "substitute_for",
    "reason",
    "drawn",
    "dept_id",
    "year",
]


@dataclass(frozen=True)
class Draw:
    """The outcome of drawing every row of a sampling plan."""

    seed: int
    draws: pd.DataFrame  # one row per enterprise of each row's eligible pool (DRAW_COLUMNS)
    tasks: pd.DataFrame  # the random tasks of the selected enterprises (SOURCE_COLUMNS)
    overlap: pd.DataFrame  # per joint group: achieved joint share against independent draws
    shortfalls: tuple[str, ...]  # rows whose pool was empty or could not fill the quota, in words


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of 64-bit integers with full avalanche."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def enterprise_ids(usccs: pd.Series | list[str]) -> np.ndarray:
    """The 64-bit identity of each enterprise in the PRN hash."""
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(u.encode(), digest_size=8).digest(), "little") for u in usccs),
        dtype=np.uint64,
        count=len(usccs),
    )


def permanent_random_numbers(ids: np.ndarray, seed: int, group: str, year: int) -> np.ndarray:
    """The PRN in [0, 1) of each enterprise id for one joint group and year (see module doc).

    The numbers are permanent for a seed and group; the year only rotates them.
    """
    digest = hashlib.blake2b(f"{ALGORITHM}|{seed}|{group}".encode(), digest_size=16).digest()
    key1 = np.uint64(int.from_bytes(digest[:8], "little"))
    key2 = np.uint64(int.from_bytes(digest[8:], "little"))
    x = _mix(_mix(ids ^ key1) ^ key2)
    base = (x >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    return np.mod(base + (year - 2000) * YEAR_SHIFT, 1.0)


def seed_commitment(seed: int) -> str:
    """The hash to publish before the draw; revealing the seed afterwards proves it was fixed."""
    return hashlib.sha256(f"{ALGORITHM}|commitment|{seed}".encode()).hexdigest()


def sample_size(ratio: float, pool: int) -> int:
    """ceil(ratio × pool), without float noise turning 0.1 × 30 into 4."""
    return min(pool, math.ceil(round(ratio * pool, 9)))


def _stratum(industries: tuple[str, ...], tier: str) -> str:
    return f"{';'.join(industries)} / {tier}"


def _industry_match(industry: pd.Series, prefixes: tuple[str, ...]) -> np.ndarray:
    """'*' matches every enterprise; prefixes match only enterprises with an industry code."""
    if "*" in prefixes:
        return np.ones(len(industry), dtype=bool)
    return industry.fillna("").str.startswith(prefixes).to_numpy() & industry.notna().to_numpy()


@dataclass(frozen=True)
class DrawContext:
    """What every row's draw needs, prepared once."""

    enterprises: pd.DataFrame  # sorted by uscc, RangeIndex
    ids: np.ndarray
    caps: YearlyCaps
    staff_of: Mapping[tuple[str, bool], frozenset[str]]  # (dept, delegable) → eligible inspectors
    conflicts_of: Mapping[str, frozenset[str]]  # uscc → inspectors in conflict


def prepare(dataset: Dataset, positive_list_cap: int, per_dept_cap: int) -> DrawContext:
    enterprises = dataset.enterprises.sort_values("uscc").reset_index(drop=True)
    inspectors = certified(dataset.inspectors)
    staff_of = {}
    for dept in dataset.departments["dept_id"]:
        own = frozenset(inspectors.loc[inspectors["dept_id"] == dept, "inspector_id"])
        holds = [dept in depts for depts in inspectors["delegated_depts"]]
        delegated = frozenset(inspectors.loc[holds, "inspector_id"])
        staff_of[(dept, False)], staff_of[(dept, True)] = own, own | delegated
    return DrawContext(
        enterprises,
        enterprise_ids(enterprises["uscc"].tolist()),
        YearlyCaps.of(dataset, positive_list_cap, per_dept_cap),
        staff_of,
        by_enterprise(dataset.conflicts),
    )


def prn_group(row: pd.Series) -> str:
    """Rows of one joint group share numbers; a row without a group has numbers of its own."""
    return row["joint_group"] or f"plan:{row['plan_id']}"


def eligible_pool(row: pd.Series, ctx: DrawContext) -> np.ndarray:
    """Positions (in ``ctx.enterprises``) of a plan row's eligible pool.

    Industry and tier match; never sandboxed (优信豁免); not when the observation period
    (观察期) reaches the window's end; not positive-list firms whose yearly cap history used up.
    """
    ent = ctx.enterprises
    year = row["window_start"].year
    mask = _industry_match(ent["industry"], row["industries"])
    if row["tier"] != "*":
        mask &= (ent["credit_tier"] == row["tier"]).to_numpy()
    mask &= drawable(ent, row["window_end"])
    mask &= ~np.array([ctx.caps.positive_full(u, year) for u in ent["uscc"].tolist()], dtype=bool)
    return np.flatnonzero(mask)


def rank_pool(pool: np.ndarray, prn: np.ndarray, ctx: DrawContext) -> np.ndarray:
    """Pool positions in rank order: smallest number first (ties, never seen in practice, by uscc)."""
    return pool[np.lexsort((ctx.enterprises["uscc"].to_numpy()[pool], prn[pool]))]


def _blocked(row: pd.Series, uscc: str, ctx: DrawContext) -> Message | None:
    """Why a drawn enterprise cannot be visited for this row, or None."""
    year, dept = row["window_start"].year, row["dept_id"]
    if ctx.caps.dept_full(uscc, dept, year):
        return drawn_beyond_cap_reason(ctx.caps, uscc, dept, year)
    staff = ctx.staff_of.get((dept, bool(row["delegable"])), frozenset())
    if staff and staff <= ctx.conflicts_of.get(uscc, frozenset()):
        return all_conflicted_reason(dept)
    return None


def draw_sampling_plan(
    dataset: Dataset, seed: int, positive_list_cap: int = 1, per_dept_cap: int = 2, lang: str = DEFAULT_LANG
) -> Draw:
    """Draw every row of the sampling plan; identical for the same inputs in any row order (the
    ``reason`` a drawn enterprise was passed over is said in ``lang``)."""
    ctx = prepare(dataset, positive_list_cap, per_dept_cap)
    plan = dataset.sampling_plan.sort_values("plan_id").reset_index(drop=True)
    prn_cache: dict[tuple[str, int], np.ndarray] = {}
    draws, tasks, shortfalls = [], [], []
    for _, row in plan.iterrows():
        group, year = prn_group(row), row["window_start"].year
        if (group, year) not in prn_cache:
            prn_cache[(group, year)] = permanent_random_numbers(ctx.ids, seed, group, year)
        prn = prn_cache[(group, year)]
        order = rank_pool(eligible_pool(row, ctx), prn, ctx)
        quota = sample_size(row["ratio"], len(order))
        if not len(order):
            shortfalls.append(
                f"{row['plan_id']}: the eligible pool is empty "
                f"(no enterprise of stratum {_stratum(row['industries'], row['tier'])})"
            )
        frame, shortfall = _select(row, order, prn, quota, ctx)
        draws.append(frame.assign(joint_group=row["joint_group"], year=year))
        if shortfall:
            shortfalls.append(shortfall)
        tasks.append(_random_tasks(row, frame[frame["selected"]], ctx))
    draws_frame = pd.concat(draws, ignore_index=True) if draws else pd.DataFrame(columns=DRAW_COLUMNS)
    names = dict(zip(dataset.departments["dept_id"], dataset.departments["name"]))
    said = draws_frame["reason"].map(lambda why: why.render(lang, names) if isinstance(why, Message) else why)
    draws_frame["reason"] = said.astype(object)
    tasks_frame = pd.concat(tasks, ignore_index=True) if tasks else pd.DataFrame(columns=SOURCE_COLUMNS)
    return Draw(
        seed,
        draws_frame[DRAW_COLUMNS],
        tasks_frame[SOURCE_COLUMNS],
        overlap_report(draws_frame, plan),
        tuple(shortfalls),
    )


def _select(row, order, prn, quota, ctx) -> tuple[pd.DataFrame, str | None]:
    """Take the ``quota`` smallest numbers; replace any that cannot be visited by the next in rank."""
    usccs = ctx.enterprises["uscc"].to_numpy()[order]
    selected = np.zeros(len(order), dtype=bool)
    substitute_for = np.full(len(order), None, dtype=object)
    reason = np.full(len(order), None, dtype=object)
    waiting: list[str] = []  # replaced enterprises still without a substitute, in rank order
    for rank in range(len(order)):
        if rank >= quota and not waiting:
            break
        why = _blocked(row, usccs[rank], ctx)
        if rank < quota:
            if why:
                reason[rank] = why
                waiting.append(usccs[rank])
            else:
                selected[rank] = True
        elif why:
            reason[rank] = msg("sampling.skipped_substitute", why=why)
        else:
            selected[rank] = True
            substitute_for[rank] = waiting.pop(0)
    frame = pd.DataFrame(
        {
            "plan_id": row["plan_id"],
            "stratum": _stratum(row["industries"], row["tier"]),
            "uscc": usccs,
            "prn": prn[order],
            "rank": np.arange(1, len(order) + 1),
            "selected": selected,
            "substitute_for": substitute_for,
            "reason": reason,
            "drawn": np.arange(len(order)) < quota,
            "dept_id": row["dept_id"],
        }
    )
    shortfall = None
    if waiting:
        shortfall = (
            f"{row['plan_id']}: quota {quota} of a pool of {len(order)}, but only {int(selected.sum())} "
            f"can be visited; no substitute left for {len(waiting)}"
        )
    return frame, shortfall


def _random_tasks(row: pd.Series, chosen: pd.DataFrame, ctx: DrawContext) -> pd.DataFrame:
    """A random task per selected enterprise; its window starts after the observation period."""
    observation = ctx.enterprises.set_index("uscc")["observation_until"].reindex(chosen["uscc"])
    after_observation = pd.Series(observation.to_numpy()) + pd.Timedelta(days=1)
    start = after_observation.where(after_observation > row["window_start"], row["window_start"])
    return pd.DataFrame(
        {
            "task_id": row["plan_id"] + ":" + chosen["uscc"].to_numpy(),
            "dept_id": row["dept_id"],
            "uscc": chosen["uscc"].to_numpy(),
            "item": row["item"],
            "kind": "random",
            "window_start": start.to_numpy(),
            "window_end": row["window_end"],
            "duration_min": int(row["duration_min"]),
            "min_inspectors": 2,
            "delegable": bool(row["delegable"]),
            "priority": 1,
            "plan_id": row["plan_id"],
        }
    )


def _product_of_others(values: pd.Series) -> np.ndarray:
    """For each element, the product of all the other elements of its group."""
    array = values.to_numpy()
    return np.array([np.prod(np.delete(array, i)) for i in range(len(array))])


def overlap_report(draws: pd.DataFrame, plan: pd.DataFrame) -> pd.DataFrame:
    """Per joint group: share of its random tasks whose enterprise another row also drew.

    ``joint_share`` is what the coordinated draw achieved; ``independent_share`` is its
    expectation had every row drawn independently with the same pools and sample sizes
    (enterprise e in pool i is drawn with p_i = n_i / |pool_i|).
    """
    rows = []
    grouped = draws[draws["joint_group"].notna()]
    for group, frame in grouped.groupby("joint_group", sort=True):
        sizes = frame.groupby("plan_id").agg(pool=("uscc", "size"), n=("selected", "sum"))
        p = frame["plan_id"].map(sizes["n"] / sizes["pool"])
        chosen = frame[frame["selected"]]
        per_enterprise = chosen.groupby("uscc").size()
        tasks = len(chosen)
        joint = int(per_enterprise[per_enterprise >= 2].sum())
        # P(another row draws e | row i drew e) = 1 - Π_{j≠i} (1 - p_j) over rows whose pool holds e
        q = (1 - p).rename("q")
        others_miss = q.groupby(frame["uscc"]).transform(_product_of_others)
        expected_joint = float(np.sum(p.to_numpy() * (1 - others_miss.to_numpy())))
        miss_all = q.groupby(frame["uscc"]).prod()
        rows.append(
            {
                "joint_group": group,
                "rows": len(sizes),
                "tasks": tasks,
                "enterprises": len(per_enterprise),
                "joint_share": joint / tasks if tasks else 0.0,
                "independent_share": expected_joint / tasks if tasks else 0.0,
                "independent_enterprises": float(np.sum(1 - miss_all)),
            }
        )
    columns = [
        "joint_group",
        "rows",
        "tasks",
        "enterprises",
        "joint_share",
        "independent_share",
        "independent_enterprises",
    ]
    return pd.DataFrame(rows, columns=columns)


def _cell(value: object) -> str:
    """A cell as exact text: blanks alike whatever their flavour, floats to the last bit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return repr(float(value)) if isinstance(value, (float, np.floating)) else str(value)


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(object).apply(lambda column: column.map(_cell))


def compare_draws(recorded: pd.DataFrame, recomputed: pd.DataFrame, limit: int = 50) -> list[str]:
    """Differences between a recorded draw and its recomputation, one line each ([] = identical)."""
    key = ["plan_id", "uscc"]
    old, new = _canonical(recorded).set_index(key), _canonical(recomputed).set_index(key)
    lang = console_lang()

    def said(message_id: str, **fields) -> str:
        return text(message_id, lang).format(**fields)

    lines = [said("sampling.diff.only_recorded", plan=p, uscc=u) for p, u in old.index.difference(new.index)]
    lines += [said("sampling.diff.only_recomputed", plan=p, uscc=u) for p, u in new.index.difference(old.index)]
    common = old.index.intersection(new.index)
    columns = [c for c in new.columns if c in old.columns]
    missing_columns = [c for c in new.columns if c not in old.columns]
    lines += [said("sampling.diff.column", column=c) for c in missing_columns]
    old_c, new_c = old.loc[common, columns], new.loc[common, columns]
    changed = (old_c != new_c).any(axis=1)
    for (plan_id, uscc), row_old in old_c[changed].iterrows():
        row_new = new_c.loc[(plan_id, uscc)]
        diffs = [f"{c} {row_old[c]!r} ≠ {row_new[c]!r}" for c in columns if row_old[c] != row_new[c]]
        lines.append(said("sampling.diff.row", plan=plan_id, uscc=uscc, diffs="; ".join(diffs)))
    if len(lines) > limit:
        lines = lines[:limit] + [said("sampling.diff.more", n=len(lines) - limit)]
    return lines
