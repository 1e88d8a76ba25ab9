"""Tests for the synthetic showcase datasets (planner.demo): contract shape, codes, realism, feasibility."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from importlib import resources

import chinese_calendar
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from stdnum.cn import uscc as stdnum_uscc
from typer.testing import CliRunner

from planner import demo_tables
from planner.cli import app
from planner.dataset import load_dataset
from planner.demo import ALL_DEPT_IDS, ANCHOR_INDUSTRIES, ITEMS, PROFILES, generate_dataset, write_profile_scenario
from planner.outputs import write_tables
from planner.scenario import load_scenario

CONTRACT_COLUMNS = {
    "townships": ["township", "lat", "lon"],
    "departments": ["dept_id", "name"],
    "enterprises": [
        "uscc",
        "name",
        "township",
        "lat",
        "lon",
        "industry",
        "credit_tier",
        "positive_list",
        "sandbox",
        "observation_until",
        "key_sector",
    ],
    "inspectors": ["inspector_id", "name", "dept_id", "cert_no", "delegated_depts", "hours_per_day", "max_days"],
    "leave": ["inspector_id", "start", "end"],
    "demands": [
        "task_id",
        "dept_id",
        "uscc",
        "item",
        "kind",
        "window_start",
        "window_end",
        "duration_min",
        "min_inspectors",
        "delegable",
        "priority",
    ],
    "sampling_plan": [
        "plan_id",
        "dept_id",
        "item",
        "industries",
        "tier",
        "ratio",
        "window_start",
        "window_end",
        "duration_min",
        "delegable",
        "joint_group",
    ],
    "items": ["dept_id", "item", "check_points", "legal_basis", "materials"],
    "conflicts": ["inspector_id", "uscc"],
    "history": ["uscc", "dept_id", "date", "inspector_id", "kind"],
}
TABLE_KEYS = {
    "townships": ["township"],
    "departments": ["dept_id"],
    "enterprises": ["uscc"],
    "inspectors": ["inspector_id"],
    "leave": ["inspector_id", "start"],
    "demands": ["task_id"],
    "sampling_plan": ["plan_id"],
    "items": ["dept_id", "item"],
    "conflicts": ["inspector_id", "uscc"],
    "history": ["uscc", "dept_id", "date", "inspector_id"],
}
DATE_COLUMNS = {
    "enterprises": ["observation_until"],
    "leave": ["start", "end"],
    "demands": ["window_start", "window_end"],
    "sampling_plan": ["window_start", "window_end"],
    "history": ["date"],
}
BOOL_COLUMNS = {"enterprises": ["positive_list", "sandbox"], "demands": ["delegable"], "sampling_plan": ["delegable"]}
INT_COLUMNS = {"demands": ["duration_min", "min_inspectors", "priority"], "sampling_plan": ["duration_min"]}
FLOAT_COLUMNS = {
    "townships": ["lat", "lon"],
    "enterprises": ["lat", "lon"],
    "inspectors": ["hours_per_day"],
    "sampling_plan": ["ratio"],
}
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
SECTIONS = {
    "A": (1, 5),
    "B": (6, 12),
    "C": (13, 43),
    "D": (44, 46),
    "E": (47, 50),
    "F": (51, 52),
    "G": (53, 60),
    "H": (61, 62),
    "I": (63, 65),
    "J": (66, 69),
    "K": (70, 70),
    "L": (71, 72),
    "M": (73, 75),
    "N": (76, 79),
    "O": (80, 82),
    "P": (83, 83),
    "Q": (84, 85),
    "R": (86, 90),
    "S": (91, 97),
    "T": (98, 98),
}
YEAR_2026 = (dt.date(2026, 1, 1), dt.date(2026, 12, 31))
PLANNED_SHARE = 0.2


@pytest.fixture(scope="module")
def tiny() -> dict[str, pd.DataFrame]:
    return generate_dataset("tiny", 7)


@pytest.fixture(scope="module")
def county() -> dict[str, pd.DataFrame]:
    return generate_dataset("county", 2026)


@pytest.fixture(params=["tiny", "county"])
def dataset(request, tiny, county) -> dict[str, pd.DataFrame]:
    return {"tiny": tiny, "county": county}[request.param]


def _is_valid_uscc(code: str) -> bool:
    """GB 32100-2015 shape and check digit (stdnum's validate rejects letter-first codes, so not used)."""
    return (
        len(code) == 18
        and all(c in USCC_ALPHABET for c in code[:2] + code[8:])
        and code[2:8].isdigit()
        and stdnum_uscc.calc_check_digit(code[:17]) == code[17]
    )


def _workdays_2026() -> int:
    return len(chinese_calendar.get_workdays(*YEAR_2026))


# ---------------------------------------------------------------------------------------------
# Shape and determinism
# ---------------------------------------------------------------------------------------------


def test_profiles_are_frozen_size_records():
    """PROFILES offers tiny, county and city (then the benchmark sizes), each an immutable DemoProfile."""
    assert list(PROFILES)[:3] == ["tiny", "county", "city"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["tiny"].n_enterprises = 1  # type: ignore[misc]


def test_unknown_profile_is_an_error():
    """An unknown profile name raises ValueError naming the choices."""
    with pytest.raises(ValueError, match="tiny"):
        generate_dataset("province", 1)


def test_tables_have_contract_columns_in_order(dataset):
    """Every table is present with exactly the contract's English column names, in order."""
    assert set(dataset) == set(CONTRACT_COLUMNS)
    for table, columns in CONTRACT_COLUMNS.items():
        assert list(dataset[table].columns) == columns, table
        assert len(dataset[table]) > 0, table


def test_column_types(dataset):
    """Text is str/None in object columns, dates are datetime.date, flags bool, counts int64."""
    for table, frame in dataset.items():
        typed = {*DATE_COLUMNS.get(table, []), *BOOL_COLUMNS.get(table, []), *INT_COLUMNS.get(table, [])}
        typed |= set(FLOAT_COLUMNS.get(table, [])) | ({"max_days"} if table == "inspectors" else set())
        for column in frame.columns:
            if column in typed:
                continue
            assert frame[column].dtype == object, (table, column)
            assert all(v is None or (isinstance(v, str) and v) for v in frame[column]), (table, column)
        for column in DATE_COLUMNS.get(table, []):
            assert frame[column].dtype == object
            assert all(v is None or type(v) is dt.date for v in frame[column]), (table, column)
        for column in BOOL_COLUMNS.get(table, []):
            assert frame[column].dtype == bool, (table, column)
        for column in INT_COLUMNS.get(table, []):
            assert frame[column].dtype == np.int64, (table, column)
        for column in FLOAT_COLUMNS.get(table, []):
            assert frame[column].dtype == np.float64, (table, column)
    assert dataset["inspectors"]["max_days"].dtype == "Int64"


def test_dates_convert_to_arrow_date32(tiny):
    """Date columns become Arrow date32 and text columns Arrow strings, as the Parquet writer needs."""
    schema = pa.Table.from_pandas(tiny["demands"], preserve_index=False).schema
    assert schema.field("window_start").type == pa.date32()
    assert schema.field("task_id").type in (pa.string(), pa.large_string())
    assert pa.Table.from_pandas(tiny["history"], preserve_index=False).schema.field("date").type == pa.date32()


def test_rows_sorted_by_key(dataset):
    """Each table is sorted by its key with a fresh 0..n-1 index, so written files are stable."""
    for table, key in TABLE_KEYS.items():
        frame = dataset[table]
        resorted = frame.sort_values(key, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(frame, resorted, obj=table)


@pytest.mark.parametrize("profile, seed", [("tiny", 7), ("county", 2026)])
def test_same_seed_gives_identical_frames(profile, seed, tiny, county):
    """Generating the same profile and seed twice gives identical frames."""
    first = {"tiny": tiny, "county": county}[profile]
    second = generate_dataset(profile, seed)
    for table in CONTRACT_COLUMNS:
        pd.testing.assert_frame_equal(first[table], second[table], obj=table)


@pytest.mark.parametrize("profile, seed", [("tiny", 7), ("county", 2026)])
def test_different_seeds_give_different_data(profile, seed, tiny, county):
    """Another seed changes the enterprises, the demands and the staff."""
    first = {"tiny": tiny, "county": county}[profile]
    other = generate_dataset(profile, seed + 1)
    for table in ("enterprises", "demands", "inspectors", "townships"):
        assert not first[table].equals(other[table]), table


# ---------------------------------------------------------------------------------------------
# Codes
# ---------------------------------------------------------------------------------------------


def test_uscc_check_digits_valid_and_unique(dataset):
    """Every enterprise code has a valid GB 32100-2015 check digit, is unique, and some start with a letter."""
    codes = dataset["enterprises"]["uscc"]
    assert codes.is_unique
    assert all(_is_valid_uscc(code) for code in codes)
    assert all(stdnum_uscc.calc_check_digit(code[:17]) == code[17] for code in codes)
    assert sum(code[0].isalpha() for code in codes) >= 3
    prefixes = codes.str[:2].value_counts(normalize=True)
    assert prefixes.get("91", 0) + prefixes.get("92", 0) > 0.8
    assert "93" in prefixes.index or len(codes) < 100


def test_closed_enterprise_history_rows(dataset):
    """At least two history rows name a business not in the register, with a valid code."""
    unknown = dataset["history"].loc[~dataset["history"]["uscc"].isin(dataset["enterprises"]["uscc"]), "uscc"]
    assert len(unknown) >= 2
    assert all(_is_valid_uscc(code) for code in unknown)
    assert len(unknown) <= 0.01 * len(dataset["history"]) + 2


def test_industry_codes_follow_gb4754(dataset):
    """Industry codes are 4 digits, some with a matching section letter, a few blank."""
    industries = dataset["enterprises"]["industry"]
    written = industries.dropna()
    for code in written:
        digits = code[1:] if code[0].isalpha() else code
        assert len(digits) == 4 and digits.isdigit(), code
        if code[0].isalpha():
            first, last = SECTIONS[code[0]]
            assert first <= int(digits[:2]) <= last, code
    assert written.str[0].str.isalpha().any()
    if len(industries) > 1000:
        assert 0.0 < industries.isna().mean() < 0.05


# ---------------------------------------------------------------------------------------------
# Referential integrity
# ---------------------------------------------------------------------------------------------


def test_references_exist(dataset):
    """Townships, departments, enterprises and inspectors named anywhere exist (bar closed businesses)."""
    townships = set(dataset["townships"]["township"])
    depts = set(dataset["departments"]["dept_id"])
    usccs = set(dataset["enterprises"]["uscc"])
    inspectors = set(dataset["inspectors"]["inspector_id"])
    assert set(dataset["enterprises"]["township"]) <= townships
    assert set(dataset["inspectors"]["dept_id"]) <= depts
    assert set(dataset["demands"]["dept_id"]) <= depts
    assert set(dataset["demands"]["uscc"]) <= usccs
    assert set(dataset["sampling_plan"]["dept_id"]) <= depts
    assert set(dataset["leave"]["inspector_id"]) <= inspectors
    assert set(dataset["conflicts"]["inspector_id"]) <= inspectors
    assert set(dataset["conflicts"]["uscc"]) <= usccs
    assert set(dataset["history"]["dept_id"]) <= depts
    assert set(dataset["history"]["inspector_id"].dropna()) <= inspectors
    assert dataset["inspectors"]["inspector_id"].is_unique
    assert dataset["demands"]["task_id"].is_unique
    assert dataset["sampling_plan"]["plan_id"].is_unique
    assert not dataset["conflicts"].duplicated().any()


def test_history_inspectors_belong_to_the_department(dataset):
    """A history row's inspector works for the department that inspected."""
    dept_of = dataset["inspectors"].set_index("inspector_id")["dept_id"]
    history = dataset["history"].dropna(subset=["inspector_id"])
    assert (history["inspector_id"].map(dept_of) == history["dept_id"]).all()


def test_delegations_exist_and_differ_from_own_department(dataset):
    """delegated_depts lists existing departments other than the inspector's own; some inspectors hold one."""
    depts = set(dataset["departments"]["dept_id"])
    inspectors = dataset["inspectors"]
    delegated = inspectors.dropna(subset=["delegated_depts"])
    assert len(delegated) > 0
    for own, text in zip(delegated["dept_id"], delegated["delegated_depts"]):
        listed = text.split(";")
        assert set(listed) <= depts and own not in listed and len(listed) == len(set(listed))


def test_demands_match_department_industries(dataset):
    """Each task is one of its department's items and the enterprise's industry falls under that item."""
    industry = dataset["enterprises"].set_index("uscc")["industry"]
    by_name = {(item.dept_id, item.name): item for item in ITEMS}
    for dept_id, uscc, item_name in zip(
        dataset["demands"]["dept_id"], dataset["demands"]["uscc"], dataset["demands"]["item"]
    ):
        item = by_name[(dept_id, item_name)]
        code = industry[uscc]
        digits = code[1:] if code and code[0].isalpha() else code
        assert item.applies_to(digits), (dept_id, item_name, code)


def test_enterprise_township_is_nearest_station(county):
    """Each enterprise lies in the township of its nearest enforcement station."""
    stations = county["townships"]
    enterprises = county["enterprises"]
    cos_lat = math.cos(math.radians(stations["lat"].mean()))
    dy = enterprises["lat"].to_numpy()[:, None] - stations["lat"].to_numpy()[None, :]
    dx = (enterprises["lon"].to_numpy()[:, None] - stations["lon"].to_numpy()[None, :]) * cos_lat
    nearest = stations["township"].to_numpy()[(dx**2 + dy**2).argmin(axis=1)]
    assert (nearest == enterprises["township"].to_numpy()).all()


def test_coordinates_span_a_county(county):
    """Stations spread over roughly 40 × 40 km in Zhejiang; enterprises stay near them."""
    stations = county["townships"]
    km_lat = (stations["lat"].max() - stations["lat"].min()) * 111.32
    km_lon = (stations["lon"].max() - stations["lon"].min()) * 111.32 * math.cos(math.radians(30.5))
    assert 20 < km_lat < 50 and 20 < km_lon < 50
    enterprises = county["enterprises"]
    assert enterprises["lat"].between(29.9, 31.1).all() and enterprises["lon"].between(120.0, 121.2).all()
    assert stations["township"].str.endswith(("街道", "镇", "乡")).all()
    assert "城关街道" in set(stations["township"])


# ---------------------------------------------------------------------------------------------
# Values and windows
# ---------------------------------------------------------------------------------------------


def test_windows_inside_2026_and_ordered(dataset):
    """Demand, sampling and leave windows lie in 2026 with start ≤ end; history lies on 2025 working days."""
    for table, (start, end) in (
        ("demands", ("window_start", "window_end")),
        ("sampling_plan", ("window_start", "window_end")),
        ("leave", ("start", "end")),
    ):
        frame = dataset[table]
        assert (frame[start] <= frame[end]).all(), table
        assert (frame[start] >= YEAR_2026[0]).all() and (frame[end] <= YEAR_2026[1]).all(), table
    observation = dataset["enterprises"]["observation_until"].dropna()
    assert observation.between(*YEAR_2026).all()
    assert all(chinese_calendar.is_workday(day) and day.year == 2025 for day in dataset["history"]["date"])


def test_demand_and_plan_values_in_range(dataset):
    """Durations 1–480 min, crews of at least two, priorities 1–3, ratios in (0, 1], known kinds and tiers."""
    demands = dataset["demands"]
    assert demands["duration_min"].between(1, 480).all()
    assert (demands["min_inspectors"] >= 2).all()
    assert demands["priority"].between(1, 3).all()
    assert set(demands["kind"]) == {"key", "campaign", "triggered", "followup"}
    plan = dataset["sampling_plan"]
    assert ((plan["ratio"] > 0) & (plan["ratio"] <= 1)).all()
    assert set(plan["tier"]) <= {"A", "B", "C", "D", "*"}
    assert plan["duration_min"].between(30, 120).all()
    assert set(dataset["enterprises"]["credit_tier"]) <= {"A", "B", "C", "D"}
    inspectors = dataset["inspectors"]
    assert inspectors["hours_per_day"].isin([6.0, 7.0, 8.0]).all()
    assert inspectors["max_days"].dropna().between(1, _workdays_2026()).all()


def test_sampling_joint_groups_share_strata(dataset):
    """Every department in a joint group has the same (industries, tier) strata; groups span departments."""
    plan = dataset["sampling_plan"]
    by_name = {(item.dept_id, item.name) for item in ITEMS}
    assert all(pair in by_name for pair in zip(plan["dept_id"], plan["item"]))
    grouped = plan.dropna(subset=["joint_group"])
    assert len(grouped) > 0 and plan["joint_group"].isna().any()
    for group, rows in grouped.groupby("joint_group"):
        strata = {dept: set(zip(r["industries"], r["tier"])) for dept, r in rows.groupby("dept_id")}
        assert len(strata) >= 2, group
        assert len({frozenset(s) for s in strata.values()}) == 1, group
    per_tier = plan[plan["tier"] != "*"]
    expected = {"A": 0.03, "B": 0.10, "C": 0.30, "D": 0.80}
    assert (per_tier["ratio"] == per_tier["tier"].map(expected)).all()


def test_leave_periods(dataset):
    """Leave periods last 2–15 days and never overlap for one inspector."""
    leave = dataset["leave"]
    days = leave.apply(lambda row: (row["end"] - row["start"]).days + 1, axis=1)
    assert days.between(1, 15).all()
    for _, periods in leave.groupby("inspector_id"):
        ordered = sorted(zip(periods["start"], periods["end"]))
        assert all(prev_end < next_start for (_, prev_end), (next_start, _) in zip(ordered, ordered[1:]))
        assert len(ordered) <= 3


def test_tiny_has_one_of_everything(tiny):
    """The unit-test profile shows every feature at least once and stays small."""
    enterprises, inspectors, demands = tiny["enterprises"], tiny["inspectors"], tiny["demands"]
    assert enterprises["positive_list"].any()
    assert enterprises["sandbox"].any()
    assert enterprises["observation_until"].notna().any()
    assert enterprises["key_sector"].notna().any()
    assert enterprises["uscc"].str[0].str.isalpha().sum() >= 3
    assert inspectors["cert_no"].isna().any()
    assert inspectors["delegated_depts"].notna().any()
    assert inspectors["max_days"].notna().any() and inspectors["max_days"].isna().any()
    assert len(tiny["leave"]) >= 1 and len(tiny["conflicts"]) >= 1
    assert demands["delegable"].any()
    assert len(tiny["townships"]) == 3 and 50 <= len(enterprises) <= 70 and len(tiny["departments"]) == 6
    assert 20 <= len(inspectors) <= 30 and 90 <= len(demands) <= 140 and len(tiny["sampling_plan"]) <= 20


# ---------------------------------------------------------------------------------------------
# Realism and feasibility of the county
# ---------------------------------------------------------------------------------------------


def test_county_sizes_near_targets(county):
    """County: 15 townships, ~5,000 enterprises, 14–16 departments, ~180 inspectors, ~10,000 demands."""
    assert len(county["townships"]) == 15
    assert 4500 <= len(county["enterprises"]) <= 5500
    assert 14 <= len(county["departments"]) <= 16
    assert 153 <= len(county["inspectors"]) <= 207
    assert 8500 <= len(county["demands"]) <= 11500
    assert 30 <= county["leave"]["inspector_id"].nunique() <= 50
    assert 40 <= len(county["conflicts"]) <= 60
    assert 2500 <= len(county["history"]) <= 3500


def test_county_credit_and_flags_are_realistic(county):
    """Tiers skew to B; ~10 % positive list (mostly A/B); ~1 % sandbox (only A); ~2 % in observation."""
    enterprises = county["enterprises"]
    tiers = enterprises["credit_tier"].value_counts(normalize=True)
    assert tiers.idxmax() == "B" and 0.5 < tiers["B"] < 0.7
    assert 0.10 < tiers["A"] < 0.20 and 0.15 < tiers["C"] < 0.25 and 0.02 < tiers["D"] < 0.08
    positive = enterprises[enterprises["positive_list"]]
    assert 0.07 < len(positive) / len(enterprises) < 0.13
    assert positive["credit_tier"].isin(["A", "B"]).mean() > 0.9
    sandbox = enterprises[enterprises["sandbox"]]
    assert (sandbox["credit_tier"] == "A").all() and 0.003 < len(sandbox) / len(enterprises) < 0.02
    assert 0.01 < enterprises["observation_until"].notna().mean() < 0.035
    assert set(enterprises["key_sector"].dropna()) == {
        "食品",
        "药品",
        "医疗器械",
        "危险化学品",
        "燃气",
        "特种设备",
        "建设工程",
    }


def test_county_demand_mix(county):
    """~5 % triggered, ~4 % follow-up, ~25 % delegable, crews mostly of two; inspectors ~3 % uncertified."""
    demands = county["demands"]
    kinds = demands["kind"].value_counts(normalize=True)
    assert 0.03 < kinds["triggered"] < 0.07 and 0.02 < kinds["followup"] < 0.06 and kinds["key"] > 0.15
    assert 0.18 < demands["delegable"].mean() < 0.32
    assert (demands["min_inspectors"] == 2).mean() > 0.85
    assert demands["duration_min"].between(30, 240).mean() > 0.995
    assert (demands.loc[demands["kind"] == "triggered", "priority"] >= 2).all()
    inspectors = county["inspectors"]
    assert 0.01 < inspectors["cert_no"].isna().mean() < 0.05
    assert 0.10 < inspectors["delegated_depts"].notna().mean() < 0.22
    staff = inspectors["dept_id"].value_counts()
    assert staff.index[0] == "SJ" and staff["ZF"] > staff["SL"] and staff["ZF"] > staff["JY"]


def test_county_department_load_under_capacity(county):
    """Each department's demands need at most half its planned inspection capacity.

    Capacity per the brief: inspectors × planned_share × working days × hours a day / 2 per crew,
    against the demands' on-site hours; and, stricter, counting only certified inspectors with
    their own max_days, against inspector-hours (duration × min_inspectors).
    """
    demands, inspectors = county["demands"], county["inspectors"]
    onsite_h = demands.groupby("dept_id")["duration_min"].sum() / 60
    crew_h = (demands["duration_min"] * demands["min_inspectors"]).groupby(demands["dept_id"]).sum() / 60
    headcount = inspectors.groupby("dept_id").size()
    brief_capacity_h = headcount * PLANNED_SHARE * 250 * 7 / 2
    assert (onsite_h <= 0.5 * brief_capacity_h.reindex(onsite_h.index)).all()

    certified = inspectors.dropna(subset=["cert_no"])
    default_days = math.floor(PLANNED_SHARE * _workdays_2026())
    planned_days = certified["max_days"].fillna(default_days).astype(float)
    capacity_h = (planned_days * certified["hours_per_day"]).groupby(certified["dept_id"]).sum()
    assert (crew_h <= 0.5 * capacity_h.reindex(crew_h.index)).all(), (crew_h / capacity_h).round(3).to_dict()


def test_county_caps_are_satisfiable_but_for_a_few_hard_cases(county):
    """Capped tasks per (department, enterprise) rarely exceed two; positive-list capped windows share a day."""
    demands = county["demands"]
    positive = set(county["enterprises"].loc[county["enterprises"]["positive_list"], "uscc"])
    capped = demands[demands["kind"].isin(["key", "campaign"])]
    over_cap = (capped.groupby(["dept_id", "uscc"]).size() > 2).sum()
    assert over_cap <= 0.005 * len(demands)
    on_list = capped[capped["uscc"].isin(positive)].groupby("uscc")
    disjoint = (on_list["window_start"].max() > on_list["window_end"].min()).sum()
    assert len(on_list) > 100 and disjoint <= 0.005 * len(demands)
    holiday_only = demands["window_end"] <= dt.date(2026, 2, 23)
    holiday_only &= demands["window_start"] >= dt.date(2026, 2, 15)
    assert 0 < holiday_only.sum() <= 0.005 * len(demands)


def test_county_windows_overlap_for_joint_visits(county):
    """Most enterprises with tasks of several departments have two that could share a day (综合查一次)."""
    demands = county["demands"]
    several = 0
    joinable = 0
    for _, rows in demands.groupby("uscc"):
        if rows["dept_id"].nunique() < 2:
            continue
        several += 1
        windows = list(zip(rows["dept_id"], rows["window_start"], rows["window_end"]))
        joinable += any(
            dept_a != dept_b and max(start_a, start_b) <= min(end_a, end_b)
            for i, (dept_a, start_a, end_a) in enumerate(windows)
            for dept_b, start_b, end_b in windows[i + 1 :]
        )
    assert several > 1000 and joinable / several > 0.6


def test_names_are_realistic_and_unique(county):
    """Enterprise names are unique Chinese business names; departments carry the county's name."""
    names = county["enterprises"]["name"]
    assert names.is_unique
    assert names.str.contains("有限公司").mean() > 0.3
    assert names.str.endswith(("店", "馆", "家", "部", "厂", "房", "社", "院", "场", "吧", "所")).mean() > 0.2
    assert names.str.contains("专业合作社").any() and names.str.contains("股份经济合作社").any()
    assert county["departments"]["name"].str.contains("青溪").all()
    assert county["inspectors"]["name"].str.len().between(2, 4).all()


# ---------------------------------------------------------------------------------------------
# Issue 14's hard profiles: uneven work, short staff, each with its scenario keys
# ---------------------------------------------------------------------------------------------

Q4_2026 = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
MANDATORY_KINDS = ("key", "triggered", "followup")


@pytest.fixture(scope="module")
def hard() -> dict[str, dict[str, pd.DataFrame]]:
    """The tables of the hard profiles with their own data (tight and short reuse park's and q4's)."""
    return {profile: generate_dataset(profile, 2026) for profile in ("park", "q4", "leave")}


def _inspector_hours(demands: pd.DataFrame) -> pd.Series:
    return demands["duration_min"] * demands["min_inspectors"] / 60


def _load_share(tables: dict[str, pd.DataFrame], planned_share: float = PLANNED_SHARE) -> pd.Series:
    """Per department: the demands' inspector-hours over its certified inspectors' planned hours."""
    demands, inspectors = tables["demands"], tables["inspectors"].dropna(subset=["cert_no"])
    days = inspectors["max_days"].astype(float).fillna(math.floor(planned_share * _workdays_2026()))
    capacity_h = (days * inspectors["hours_per_day"]).groupby(inspectors["dept_id"]).sum()
    return _inspector_hours(demands).groupby(demands["dept_id"]).sum() / capacity_h


@pytest.mark.parametrize("profile", ["park", "q4", "leave"])
def test_hard_profile_loads_with_its_scenario(hard, tmp_path, profile):
    """A hard profile's tables load without an error, and its scenario.toml plans them with its keys."""
    write_tables(hard[profile], tmp_path, ".parquet")
    path = write_profile_scenario(tmp_path, profile, 2026)
    dataset = load_dataset(tmp_path)
    assert len(dataset.enterprises) == PROFILES[profile].n_enterprises
    scenario = load_scenario(path)
    keys = PROFILES[profile].scenario
    assert scenario.dataset == tmp_path and scenario.seed == 2026 and scenario.planned_share == keys.planned_share
    assert scenario.quiet_days == keys.quiet_days and scenario.horizon.start == dt.date(2026, 1, 1)


@pytest.mark.parametrize("profile", ["park", "q4", "leave"])
def test_hard_profile_is_deterministic_per_seed(hard, profile):
    """The same (profile, seed) gives identical frames."""
    again = generate_dataset(profile, 2026)
    for table in CONTRACT_COLUMNS:
        pd.testing.assert_frame_equal(hard[profile][table], again[table], obj=table)


def test_hard_profile_seed_changes_the_data(hard):
    """Another seed gives the park other firms, demands and staff."""
    other = generate_dataset("park", 2027)
    for table in ("enterprises", "demands", "inspectors"):
        assert not hard["park"][table].equals(other[table]), table


def test_park_firms_are_each_checked_by_three_departments(hard):
    """park: 1,500 firms of park industries; every firm with work has demands of >= 3 departments, year-end
    safety and fire checks in Q4, campaigns in spring and summer, no department above 73 % of its hours."""
    park = hard["park"]
    demands, enterprises = park["demands"], park["enterprises"]
    assert len(enterprises) == 1500
    assert set(park["departments"]["dept_id"]) == {"SJ", "YJ", "HB", "XF", "WJ", "ZF", "RS", "SL"}
    assert enterprises["industry"].dropna().str.lstrip("ABCDEFGHIJKLMNOPQRST").isin(PROFILES["park"].industries).all()
    per_firm = demands.groupby("uscc")["dept_id"].nunique()
    assert per_firm.min() >= 3 and len(per_firm) >= 0.97 * len(enterprises)
    key = demands[demands["kind"] == "key"]
    year_end = key[key["dept_id"].isin(["YJ", "XF"])].groupby(["dept_id", "uscc"])["window_start"].max()
    assert (year_end == Q4_2026[0]).mean() > 0.99  # each firm's safety and fire key checks: one in Q4
    campaigns = demands[demands["kind"] == "campaign"]
    assert len(campaigns) > 500 and campaigns["window_end"].max() <= dt.date(2026, 9, 30)
    load = _load_share(park)
    assert load.max() <= 0.73 + 1e-9 and load.max() > 0.6, load.round(3).to_dict()


def test_q4_mandatory_work_is_back_loaded(hard):
    """q4: 4,000 firms, 150 inspectors; most mandatory hours due in Q4 (XF in Nov–Dec), campaigns only
    from March to September, and no department above 45 % of its inspectors' hours over the year."""
    q4 = hard["q4"]
    demands = q4["demands"]
    assert len(q4["enterprises"]) == 4000 and len(q4["inspectors"]) == 150
    mandatory = demands[demands["kind"].isin(MANDATORY_KINDS)]
    in_q4 = mandatory["window_start"] >= Q4_2026[0]
    assert _inspector_hours(mandatory[in_q4]).sum() > 0.5 * _inspector_hours(mandatory).sum()
    fire = demands[(demands["dept_id"] == "XF") & (demands["kind"] == "key")]
    assert (fire["window_start"] == dt.date(2026, 11, 1)).mean() > 0.9
    campaigns = demands[demands["kind"] == "campaign"]
    assert campaigns["window_start"].min() >= dt.date(2026, 2, 25)
    assert campaigns["window_end"].max() <= dt.date(2026, 9, 30)
    assert (campaigns["window_end"] <= dt.date(2026, 6, 30)).mean() > 0.5  # campaign-heavy first halves
    load = _load_share(q4)
    assert 0.4 < load.max() <= 0.45 + 1e-9, load.round(3).to_dict()


def test_leave_takes_a_third_of_the_fire_brigade_for_q4(hard):
    """leave: a third of XF's certified inspectors are away the whole of Q4, one leave row each; nobody's
    leave periods overlap."""
    leave, inspectors = hard["leave"]["leave"], hard["leave"]["inspectors"]
    fire = inspectors[(inspectors["dept_id"] == "XF") & inspectors["cert_no"].notna()]
    quarter = leave[(leave["start"] == Q4_2026[0]) & (leave["end"] == Q4_2026[1])]
    assert set(quarter["inspector_id"]) <= set(fire["inspector_id"])
    assert len(quarter) == round(len(fire) / 3) >= 4
    away = leave[leave["inspector_id"].isin(quarter["inspector_id"])]
    assert ((away["end"] < Q4_2026[0]) | (away["start"] >= Q4_2026[0])).all()
    for _, periods in leave.groupby("inspector_id"):
        ordered = sorted(zip(periods["start"], periods["end"], strict=True))
        assert all(end < start for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False))


def test_tight_and_short_are_park_and_q4_with_less_staff():
    """tight plans the park's tables with 60 % of the inspectors and planned_share 0.1; short the q4
    county's with 40 %: the same generator record, other scenario keys."""

    def tables_of(profile: str) -> dict:
        fields = dataclasses.asdict(PROFILES[profile])
        return {k: v for k, v in fields.items() if k not in ("name", "summary", "scenario")}

    assert tables_of("tight") == tables_of("park") and tables_of("short") == tables_of("q4")
    tight = {"planned_share": 0.1, "quiet_days": [1, 10], "staff": {"scale": 0.6}}
    assert PROFILES["tight"].scenario.as_keys() == tight
    assert PROFILES["short"].scenario.as_keys() == {"planned_share": 0.2, "staff": {"scale": 0.4}}


def test_only_hard_profiles_write_a_scenario(tmp_path):
    """The earlier profiles carry no scenario keys: their folder stays exactly the tables (the sample county)."""
    assert all(write_profile_scenario(tmp_path, p, 1) is None for p in ("tiny", "county", "city", "1k", "20k", "100k"))
    assert list(tmp_path.iterdir()) == []
    hard = ("park", "q4", "tight", "short", "leave")
    assert all(PROFILES[p].summary and PROFILES[p].scenario.as_keys() for p in hard)


def test_demo_data_writes_a_ready_to_plan_scenario(tmp_path):
    """planner demo-data --profile tight writes the tables and scenario.toml with the profile's keys."""
    result = CliRunner().invoke(app, ["demo-data", "--profile", "tight", "--seed", "3", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    scenario = load_scenario(tmp_path / "d" / "scenario.toml")
    assert scenario.dataset == tmp_path / "d" and scenario.seed == 3
    assert scenario.planned_share == 0.1 and scenario.quiet_days == (1, 10) and scenario.staff.scale == 0.6
    assert len(load_dataset(tmp_path / "d").enterprises) == 1500


def test_demo_tables_load_and_agree_with_each_other():
    """The shipped tables (planner/demo_tables/*.toml) load and refer only to each other: every item's
    department is a department, every campaign's and sampling template's item is its department's,
    every item and campaign reaches some industry of the register, and the sections are GB/T 4754's."""
    tables = demo_tables.load()
    assert {s.letter: (s.first_division, s.last_division) for s in tables.sections} == SECTIONS
    assert tuple(d.dept_id for d in tables.departments) == ALL_DEPT_IDS
    assert all(d.name.format(county="县", county_short="", city="市") for d in tables.departments)
    for department in tables.departments:
        assert {d for delegation in department.delegations for d in delegation.split(";")} <= set(ALL_DEPT_IDS)
    assert {item.dept_id for item in tables.items} <= set(ALL_DEPT_IDS)
    codes = [industry.code for industry in tables.industries]
    assert len(set(codes)) == len(codes) and set(ANCHOR_INDUSTRIES) <= set(codes)
    assert all(any(item.applies_to(code) for code in codes) for item in tables.items)
    items = {(item.dept_id, item.name): item for item in tables.items}
    assert len(items) == len(tables.items)
    for campaign in tables.campaigns + tables.spring_summer_extra:
        pool = [code for code in codes if code.startswith(campaign.industries)]
        assert any(items[(campaign.dept_id, campaign.item)].applies_to(code) for code in pool), campaign
        assert YEAR_2026[0] <= campaign.window[0] <= campaign.window[1] <= YEAR_2026[1]
    for template in tables.sampling_templates:
        assert (template.dept_id, template.item) in items and template.per_tier == (template.ratio_all_tiers == 0)
    for industry in tables.industries:
        assert math.isclose(sum(p for _, p in industry.entity_mix), 1.0) and industry.share_pct > 0
        assert industry.setting in ("town", "park", "rural", "site") and isinstance(industry.share_pct, float)
    assert len(tables.names.township_bases) == len(set(tables.names.township_bases))


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("campaigns.toml", '"化妆品经营检查", window', '"化妆品检查", window', r"campaign 5: \(dept_id, item\)"),
        ("items.toml", "key_per_year = 2", 'key_per_year = "2"', "item 2, key_per_year: expected int"),
        ("items.toml", "heavy = true", "heavvy = true", "items.toml, item 8: unknown key 'heavvy'"),
        ("departments.toml", '"SJ;WJ;XF"', '"SJ;WJ;XX"', "ZF: delegation 'XX' is unknown"),
        ("industries.toml", 'entity_mix = "farm"', 'entity_mix = "farms"', "entity_mix 'farms'"),
        ("names.toml", "surname_boost =", "surname_bost =", "names.toml: unknown keys"),
    ],
)
def test_demo_tables_reject_a_broken_row(tmp_path, file, old, new, message):
    """A copy of the tables reads as the shipped ones; one broken row is an error naming its file, row and key."""
    for path in resources.files(demo_tables.__name__).iterdir():
        if path.name.endswith(".toml"):
            (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    assert demo_tables.read(tmp_path) == demo_tables.load()
    text = (tmp_path / file).read_text(encoding="utf-8")
    assert old in text
    (tmp_path / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        demo_tables.read(tmp_path)
