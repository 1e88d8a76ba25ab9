"""Synthetic showcase datasets: a fictional county (青溪县, Zhejiang) planning calendar year 2026.

``generate_dataset(profile, seed)`` returns the input tables of the data contract as pandas
frames keyed by table name. The data is made to look like a real county's, not uniform noise:

* townships on a jittered grid around (30.5 N, 120.6 E), each with an enforcement station;
  enterprises clustered around town centres and industrial parks (parks dense with
  manufacturing), each assigned to the township of its nearest station;
* realistic Chinese business names, valid GB 32100-2015 codes (including a few collective
  economic organisations whose code starts with ``N``), GB/T 4754-2017 industry codes;
* departments with their real 检查事项; every task goes to an enterprise whose industry that
  department oversees, with key (重点监管), campaign (专项整治), triggered (投诉举报) and
  followup (整改复查) windows inside 2026;
* staff sized so that each department's demands use at most about 45 % of its planned
  inspection capacity (certified inspectors × planned days × hours a day / crew of two), leaving
  room for random sampling; at most two capped tasks per (department, enterprise), and
  positive-list enterprises whose capped tasks share a common window (一年最多查一次);
* county and city profiles carry a handful (about 0.2 %) of deliberately hard tasks: a window
  inside the Spring Festival holiday, a third capped visit in disjoint quarters, a positive-list
  enterprise with a second disjoint key window, a full-day three-person complaint check;
* issue 14's hard profiles (park, q4, tight, short, leave) make the year's work uneven — campaigns
  in spring and summer, year-end safety and fire checks due in Q4, a park whose firms each see
  three departments or more, a department's people away for a quarter — and carry the scenario
  keys they are planned with (``ScenarioKeys``; ``write_profile_scenario`` writes scenario.toml).

Column conventions: text is Python ``str`` in ``object`` columns (blank optional = ``None``),
dates are ``datetime.date`` in ``object`` columns (they write to Parquet as date32), booleans
``bool``, integers ``int64`` (``max_days`` nullable ``Int64``), reals ``float64``. Rows are sorted
by each table's key. All randomness comes from ``numpy.random.default_rng`` streams derived
from the seed, so the same (profile, seed) gives identical frames. The tables the generator draws
from (departments, 检查事项, campaigns, sampling templates, industries, name parts) are data files,
planner/demo_tables/*.toml; this module keeps the generator's logic and the profiles' parameters.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from stdnum.cn import uscc as stdnum_uscc

from planner import demo_tables
from planner.demo_tables import Campaign, Industry, InspectionItem, SamplingTemplate

__all__ = [
    "PROFILES",
    "DemoProfile",
    "ScenarioKeys",
    "generate_actuals",
    "generate_appointments",
    "generate_dataset",
    "scenario_text",
    "write_profile_scenario",
]

# --------------------------------------------------------------------------------------------
# Fixed facts of the sample county
# --------------------------------------------------------------------------------------------

COUNTY_SHORT = "青溪"
COUNTY_NAME = "青溪县"
CITY_NAME = "清源市"
PROVINCE_SHORT = "浙江"
#: Administrative division code of the fictional county (chars 3–8 of its USCCs; cert prefix).
REGION_CODE = "330524"
CENTRE_LAT_DEG = 30.5
CENTRE_LON_DEG = 120.6
KM_PER_DEG_LAT = 111.32

HORIZON_START = dt.date(2026, 1, 1)
HORIZON_END = dt.date(2026, 12, 31)
HISTORY_START = dt.date(2025, 1, 1)
HISTORY_END = dt.date(2025, 12, 31)
#: Official working days of 2026 (State Council holiday notice), used to size staff.
WORKING_DAYS_2026 = 248
PLANNED_SHARE = 0.2
#: Share of a department's planned inspector-hours that its demands may use; the rest is
#: left for random sampling and travel.
DEMAND_LOAD_TARGET = 0.45

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

#: The tables the sample county is drawn from, read once from planner/demo_tables/*.toml (GB/T 4754
#: sections, departments, items, campaigns, sampling templates, industries, name parts).
_TABLES = demo_tables.load()


def _section_of(industry_code: str) -> str:
    """GB/T 4754-2017 section letter of a 2–4 digit industry code."""
    division = int(industry_code[:2])
    for section in _TABLES.sections:
        if section.first_division <= division <= section.last_division:
            return section.letter
    raise ValueError(f"division {industry_code[:2]} is not in GB/T 4754-2017")


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ScenarioKeys:
    """Scenario keys a profile is meant to be planned with (``planner demo-data`` writes them to
    ``scenario.toml`` beside the tables, ``planner bench`` plans with them); None = the default."""

    planned_share: float | None = None
    quiet_days: tuple[int, int] | None = None
    staff_scale: float | None = None  # [staff] scale: the share of each department's certified inspectors kept

    def as_keys(self) -> dict:
        """The keys as a scenario file nests them: ``{"planned_share": 0.1, "staff": {"scale": 0.6}}``."""
        keys: dict = {}
        if self.planned_share is not None:
            keys["planned_share"] = self.planned_share
        if self.quiet_days is not None:
            keys["quiet_days"] = list(self.quiet_days)
        if self.staff_scale is not None:
            keys["staff"] = {"scale": self.staff_scale}
        return keys


@dataclasses.dataclass(frozen=True)
class LeaveCut:
    """A share of one department's certified inspectors away for one period (a secondment, a
    training course): one leave row each, in place of their ordinary leave in that period."""

    dept_id: str
    share: float
    start: dt.date
    end: dt.date


@dataclasses.dataclass(frozen=True)
class DemoProfile:
    """Sizes of one synthetic dataset; distances in km, counts in rows.

    The fields after ``tiny_sampling_plan`` shape the year's work; their defaults are the sample
    county's (mandatory work spread evenly). Issue 14's hard profiles set them to make the work
    uneven the way real counties' is, and carry the scenario keys they are planned with.
    """

    name: str
    n_townships: int
    area_km: float  # side of the square the stations spread over
    n_industrial_parks: int
    n_enterprises: int
    n_collectives: int  # 农村集体经济组织 with an N2… code (python-stdnum rejects their shape)
    dept_ids: tuple[str, ...]
    n_inspectors: int
    min_inspectors_per_dept: int
    n_demands: int
    hard_case_share: float  # deliberately hard tasks, as a share of demands
    n_leave_inspectors: int
    n_conflicts: int
    n_history_visits: int  # each visit is one or two history rows (one per inspector)
    n_closed_enterprise_visits: int  # history visits to enterprises no longer in the register
    tiny_sampling_plan: bool  # only a few sampling rows (unit-test size)
    summary: str = ""  # what the profile is, with its figures (help texts, docs)
    industries: tuple[str, ...] = ()  # draw only these industry codes (their register shares); () = the county's mix
    park_share: float = 0.75  # share of park-setting businesses inside an industrial park
    #: departments whose 重点监管 checks are due in one season (the year-end safety and fire checks)
    #: instead of in quarters or halves spread over the year
    key_windows: tuple[tuple[str, tuple[dt.date, dt.date]], ...] = ()
    #: per department of ``key_windows``, the share of the other firms it oversees (outside its key
    #: sectors) that it checks in that window all the same (消防安全重点单位, 安全生产重点企业)
    key_window_share: tuple[tuple[str, float], ...] = ()
    min_depts_per_firm: int = 0  # every firm gets a key check by its departments until this many have work there
    spring_summer_campaigns: bool = False  # 专项整治 only from March to September, with the spring/summer extras
    load_target: float = DEMAND_LOAD_TARGET  # the most of a department's planned inspector-hours its demands may use
    leave_cut: LeaveCut | None = None
    scenario: ScenarioKeys = ScenarioKeys()


ALL_DEPT_IDS = ("SJ", "YJ", "HB", "XF", "WJ", "JT", "JS", "ZF", "NY", "WL", "SW", "RS", "ZR", "SL", "JY")

# The hard profiles' calendar and shapes (issue 14).
_Q4 = (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
_NOV_DEC = (dt.date(2026, 11, 1), dt.date(2026, 12, 31))
#: Year-end checks of a county's safety departments: 冬春火灾防控 (fire, from November) and the
#: 岁末年初安全生产检查 (work safety, gas and building sites) are due in Q4.
_YEAR_END_CHECKS = (("XF", _NOV_DEC), ("YJ", _Q4), ("JS", _Q4))
#: … of every firm the fire brigade oversees (its winter round), and of a third of the others' firms
_YEAR_END_SHARE = (("XF", 1.0), ("YJ", 0.3), ("JS", 0.3))
#: A chemical, textile and machinery park: the park-setting industries that at least three
#: departments oversee (safety, fire, environment, market regulation, occupational health …).
_PARK_INDUSTRIES = (
    "2614",
    "2641",
    "2661",
    "1752",
    "1713",
    "1761",
    "2110",
    "2221",
    "2922",
    "2927",
    "3011",
    "3021",
    "3311",
    "3360",
    "3381",
    "3831",
    "3841",
    "3872",
    "1391",
    "1514",
    "1810",
    "1820",
    "1952",
)
#: The departments a park's firms see, and 综合行政执法 with its delegations (委托查).
_PARK_DEPT_IDS = ("SJ", "YJ", "HB", "XF", "WJ", "ZF", "RS", "SL")

_PARK = DemoProfile(
    name="park",
    n_townships=3,
    area_km=12.0,
    n_industrial_parks=2,
    n_enterprises=1500,
    n_collectives=0,
    dept_ids=_PARK_DEPT_IDS,
    n_inspectors=100,
    min_inspectors_per_dept=4,
    n_demands=7000,
    hard_case_share=0.002,
    n_leave_inspectors=20,
    n_conflicts=20,
    n_history_visits=600,
    n_closed_enterprise_visits=2,
    tiny_sampling_plan=False,
    summary="a dense industrial park: 1,500 firms in two parks, each checked by at least 3 of 8 departments, "
    "year-end work-safety (YJ) and fire (XF) checks in Q4 after spring/summer campaigns, no department "
    "above 73 % of its inspectors' hours; quiet days 1–10 of each month",
    industries=_PARK_INDUSTRIES,
    park_share=1.0,
    key_windows=(("YJ", _Q4), ("XF", _Q4)),
    min_depts_per_firm=3,
    spring_summer_campaigns=True,
    load_target=0.73,
    scenario=ScenarioKeys(planned_share=0.2, quiet_days=(1, 10)),
)
_Q4_COUNTY = DemoProfile(
    name="q4",
    n_townships=12,
    area_km=36.0,
    n_industrial_parks=3,
    n_enterprises=4000,
    n_collectives=12,
    dept_ids=ALL_DEPT_IDS,
    n_inspectors=150,
    min_inspectors_per_dept=4,
    n_demands=8000,
    hard_case_share=0.002,
    n_leave_inspectors=30,
    n_conflicts=40,
    n_history_visits=1240,
    n_closed_enterprise_visits=4,
    tiny_sampling_plan=False,
    summary="a full county with its mandatory work back-loaded into Q4: 4,000 firms, 150 inspectors, "
    "冬春火灾防控 (XF, Nov–Dec) and 岁末年初安全生产 (YJ, JS, Q4) checks after spring/summer campaigns, "
    "no department above 45 % of its inspectors' hours",
    key_windows=_YEAR_END_CHECKS,
    key_window_share=_YEAR_END_SHARE,
    spring_summer_campaigns=True,
    scenario=ScenarioKeys(planned_share=0.2),
)

PROFILES: dict[str, DemoProfile] = {
    "tiny": DemoProfile(
        name="tiny",
        n_townships=3,
        area_km=14.0,
        n_industrial_parks=1,
        n_enterprises=60,
        n_collectives=3,
        dept_ids=("SJ", "YJ", "HB", "XF", "WJ", "ZF"),
        n_inspectors=24,
        min_inspectors_per_dept=3,
        n_demands=120,
        hard_case_share=0.0,
        n_leave_inspectors=3,
        n_conflicts=3,
        n_history_visits=20,
        n_closed_enterprise_visits=2,
        tiny_sampling_plan=True,
    ),
    "county": DemoProfile(
        name="county",
        n_townships=15,
        area_km=40.0,
        n_industrial_parks=3,
        n_enterprises=5000,
        n_collectives=15,
        dept_ids=ALL_DEPT_IDS,
        n_inspectors=180,
        min_inspectors_per_dept=4,
        n_demands=10000,
        hard_case_share=0.002,
        n_leave_inspectors=40,
        n_conflicts=50,
        n_history_visits=1550,
        n_closed_enterprise_visits=5,
        tiny_sampling_plan=False,
    ),
    "city": DemoProfile(
        name="city",
        n_townships=75,
        area_km=90.0,
        n_industrial_parks=12,
        n_enterprises=25000,
        n_collectives=75,
        dept_ids=ALL_DEPT_IDS,
        n_inspectors=900,
        min_inspectors_per_dept=12,
        n_demands=50000,
        hard_case_share=0.002,
        n_leave_inspectors=200,
        n_conflicts=250,
        n_history_visits=7750,
        n_closed_enterprise_visits=25,
        tiny_sampling_plan=False,
    ),
    # The scale benchmark suite (planner.bench, issue 6): the county's shape at 1 k, 20 k and
    # 100 k enterprises — about 333 enterprises a township, the same density of stations,
    # inspectors (36 per 1,000 enterprises; 45 for the small one, or its departments' floor of
    # two inspectors would trim its demands) and demands (2 per enterprise) as the county.
    "1k": DemoProfile(
        name="1k",
        n_townships=3,
        area_km=18.0,
        n_industrial_parks=1,
        n_enterprises=1000,
        n_collectives=3,
        dept_ids=ALL_DEPT_IDS,
        n_inspectors=45,
        min_inspectors_per_dept=2,
        n_demands=2000,
        hard_case_share=0.002,
        n_leave_inspectors=8,
        n_conflicts=10,
        n_history_visits=310,
        n_closed_enterprise_visits=1,
        tiny_sampling_plan=False,
    ),
    "20k": DemoProfile(
        name="20k",
        n_townships=60,
        area_km=80.0,
        n_industrial_parks=12,
        n_enterprises=20000,
        n_collectives=60,
        dept_ids=ALL_DEPT_IDS,
        n_inspectors=720,
        min_inspectors_per_dept=10,
        n_demands=40000,
        hard_case_share=0.002,
        n_leave_inspectors=160,
        n_conflicts=200,
        n_history_visits=6200,
        n_closed_enterprise_visits=20,
        tiny_sampling_plan=False,
    ),
    "100k": DemoProfile(
        name="100k",
        n_townships=300,
        area_km=180.0,
        n_industrial_parks=60,
        n_enterprises=100000,
        n_collectives=300,
        dept_ids=ALL_DEPT_IDS,
        n_inspectors=3600,
        min_inspectors_per_dept=48,
        n_demands=200000,
        hard_case_share=0.002,
        n_leave_inspectors=800,
        n_conflicts=1000,
        n_history_visits=31000,
        n_closed_enterprise_visits=100,
        tiny_sampling_plan=False,
    ),
    # Issue 14's hard profiles: work as uneven as real counties' (the sample county's is spread
    # evenly), each with the scenario keys it is planned with. On the commit before the
    # horizon-wide capacity model each showed the constructive scheduler's failure
    # (BENCHMARKS.md, "Hard profiles (issue 14): before").
    "park": _PARK,
    "q4": _Q4_COUNTY,
    "tight": dataclasses.replace(
        _PARK,
        name="tight",
        scenario=ScenarioKeys(planned_share=0.1, quiet_days=(1, 10), staff_scale=0.6),
        summary="the park's tables planned with 60 % of its inspectors and planned_share 0.1 (quiet days 1–10)",
    ),
    "short": dataclasses.replace(
        _Q4_COUNTY,
        name="short",
        scenario=ScenarioKeys(planned_share=0.2, staff_scale=0.4),
        summary="the q4 county's tables planned with 40 % of its inspectors (planned_share 0.2)",
    ),
    "leave": DemoProfile(
        name="leave",
        n_townships=9,
        area_km=30.0,
        n_industrial_parks=2,
        n_enterprises=3000,
        n_collectives=9,
        dept_ids=ALL_DEPT_IDS,
        n_inspectors=108,
        min_inspectors_per_dept=5,
        n_demands=6000,
        hard_case_share=0.002,
        n_leave_inspectors=24,
        n_conflicts=30,
        n_history_visits=930,
        n_closed_enterprise_visits=3,
        tiny_sampling_plan=False,
        summary="3,000 firms on the q4 calendar, 108 inspectors; a third of the fire brigade (XF) seconded for "
        "Q4 (one leave row each), the quarter its 冬春火灾防控 checks are due",
        key_windows=_YEAR_END_CHECKS,
        key_window_share=_YEAR_END_SHARE,
        spring_summer_campaigns=True,
        leave_cut=LeaveCut("XF", 1 / 3, dt.date(2026, 10, 1), dt.date(2026, 12, 31)),
        scenario=ScenarioKeys(planned_share=0.2),
    ),
}

# --------------------------------------------------------------------------------------------
# The tables: departments and their 检查事项, campaigns, sampling templates, industries, names
# (planner/demo_tables/*.toml; what is below derives the generator's lookups from them)
# --------------------------------------------------------------------------------------------

DEPARTMENT_NAMES: dict[str, str] = {
    department.dept_id: department.name.format(county=COUNTY_NAME, county_short=COUNTY_SHORT, city=CITY_NAME)
    for department in _TABLES.departments
}
_DELEGATIONS = {department.dept_id: department.delegations for department in _TABLES.departments}
#: Departments whose simple items comprehensive-enforcement (ZF) inspectors are delegated for.
ZF_DELEGATIONS = _DELEGATIONS["ZF"]
#: Other departments an inspector may hold a delegation for (委托查 of simple items).
OTHER_DELEGATIONS = {dept_id: delegations for dept_id, delegations in _DELEGATIONS.items() if dept_id != "ZF"}

ITEMS: tuple[InspectionItem, ...] = _TABLES.items
_ITEM_BY_NAME = {(item.dept_id, item.name): item for item in ITEMS}


def _d(month: int, day: int) -> dt.date:
    """A day of the planned year 2026 (short, to keep the calendar readable)."""
    return dt.date(2026, month, day)


CAMPAIGNS: tuple[Campaign, ...] = _TABLES.campaigns
#: The hard profiles' campaign calendar: spring and summer only (the year's end is for the
#: safety departments' year-end checks), with their spring and summer extras.
SPRING_SUMMER_CAMPAIGNS = (
    tuple(c for c in CAMPAIGNS if c.window[0] >= _d(2, 25) and c.window[1] <= _d(9, 30)) + _TABLES.spring_summer_extra
)

QUARTERS = ((_d(1, 1), _d(3, 31)), (_d(4, 1), _d(6, 30)), (_d(7, 1), _d(9, 30)), (_d(10, 1), _d(12, 31)))
HALVES = ((_d(1, 1), _d(6, 30)), (_d(7, 1), _d(12, 31)))
H1 = HALVES[0]
#: The 2026 Spring Festival holiday: no working day inside (used for a deliberately hard task).
SPRING_FESTIVAL_2026 = (_d(2, 15), _d(2, 23))

#: 信用风险分级分类: random-check ratio per credit tier.
TIER_RATIOS = {"A": 0.03, "B": 0.10, "C": 0.30, "D": 0.80}
SAMPLING_TEMPLATES: tuple[SamplingTemplate, ...] = _TABLES.sampling_templates

INDUSTRIES: tuple[Industry, ...] = _TABLES.industries
_INDUSTRY_BY_CODE = {industry.code: industry for industry in INDUSTRIES}
#: Placed first in every profile so that even the tiny one gives each department some work.
ANCHOR_INDUSTRIES = (
    "6210",
    "5212",
    "2614",
    "5942",
    "6121",
    "1752",
    "4710",
    "5251",
    "0161",
    "9011",
    "5265",
    "8391",
    "1019",
    "5431",
    "4511",
    "8040",
    "6291",
)
#: Industries a 农村集体经济组织 (N2…) is registered under; None = left blank.
COLLECTIVE_INDUSTRIES = ("0111", "0141", "0161", None)

_NAMES = _TABLES.names
_CHINESE_NUMERALS = "零一二三四五六七八九"


def _chinese_number(value: int) -> str:
    """Chinese numeral for 2 ≤ value < 100 (二, 十一, 二十三)."""
    tens, units = divmod(value, 10)
    if tens == 0:
        return _CHINESE_NUMERALS[units]
    text = ("" if tens == 1 else _CHINESE_NUMERALS[tens]) + "十"
    return text + (_CHINESE_NUMERALS[units] if units else "")


def _branch_name(name: str, copy_number: int) -> str:
    """A distinct name for the ``copy_number``-th (≥ 2) business with the same registered name."""
    numeral = _chinese_number(copy_number)
    if name.endswith("公司"):
        return f"{name}第{numeral}分公司"
    if name.endswith("院"):
        return f"{name}（{numeral}分院）"
    if name.endswith(("学校", "中心", "幼儿园")):
        return f"{name}（{numeral}校区）"
    if name.endswith("合作社"):
        return f"{name}（第{numeral}分社）"
    return f"{name}（{numeral}分店）"


# --------------------------------------------------------------------------------------------
# Random helpers (all take an explicit Generator)
# --------------------------------------------------------------------------------------------


def _pick(rng: np.random.Generator, options: tuple | str):
    return options[int(rng.integers(len(options)))]


def _pick_weighted(rng: np.random.Generator, pairs: tuple[tuple[str, float], ...]) -> str:
    weights = np.array([weight for _, weight in pairs])
    return pairs[int(rng.choice(len(pairs), p=weights / weights.sum()))][0]


def _random_date(rng: np.random.Generator, first: dt.date, last: dt.date) -> dt.date:
    return first + dt.timedelta(days=int(rng.integers((last - first).days + 1)))


def _brand(rng: np.random.Generator) -> str:
    first = _pick(rng, _NAMES.brand_first)
    second = _pick(rng, _NAMES.brand_second)
    while second == first:
        second = _pick(rng, _NAMES.brand_second)
    return first + second


def _surname(rng: np.random.Generator) -> str:
    return _pick(rng, _NAMES.surname_boost) if rng.random() < 0.12 else _pick(rng, _NAMES.surnames)


def _person_name(rng: np.random.Generator) -> str:
    """A realistic Chinese name: surname plus one or two given characters."""
    return _surname(rng) + _pick(rng, _NAMES.given_names)


def _uscc(rng: np.random.Generator, registrar_and_type: str) -> str:
    """A GB 32100-2015 code: registrar+type, division code, nine organisation characters, check."""
    if registrar_and_type in ("91", "92", "93") and rng.random() < 0.7:
        # Codes issued since 2015 carry an "MA…" organisation part.
        organisation = "MA" + "".join(USCC_ALPHABET[i] for i in rng.integers(31, size=7))
    else:
        organisation = "".join(str(i) for i in rng.integers(10, size=8)) + USCC_ALPHABET[int(rng.integers(31))]
    first17 = registrar_and_type + REGION_CODE + organisation
    return first17 + stdnum_uscc.calc_check_digit(first17)


def _unique_usccs(rng: np.random.Generator, types: list[str], taken: set[str]) -> list[str]:
    codes = []
    for registrar_and_type in types:
        code = _uscc(rng, registrar_and_type)
        while code in taken:
            code = _uscc(rng, registrar_and_type)
        taken.add(code)
        codes.append(code)
    return codes


def _stage_rngs(seed: int, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """One independent generator per stage, so that one stage's draws never shift another's."""
    children = np.random.SeedSequence(seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children)}


# --------------------------------------------------------------------------------------------
# Geography
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Geography:
    township_names: list[str]
    station_x_km: np.ndarray  # east of the county centre
    station_y_km: np.ndarray  # north of the county centre
    township_weight: np.ndarray  # relative number of businesses
    town_sigma_km: np.ndarray
    park_x_km: np.ndarray
    park_y_km: np.ndarray

    def nearest_township(self, x_km: np.ndarray, y_km: np.ndarray) -> np.ndarray:
        squared = (x_km[:, None] - self.station_x_km[None, :]) ** 2 + (y_km[:, None] - self.station_y_km[None, :]) ** 2
        return squared.argmin(axis=1)


def _km_per_deg_lon() -> float:
    return KM_PER_DEG_LAT * math.cos(math.radians(CENTRE_LAT_DEG))


def _to_lat_lon(x_km: np.ndarray, y_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.round(CENTRE_LAT_DEG + y_km / KM_PER_DEG_LAT, 6)
    lon = np.round(CENTRE_LON_DEG + x_km / _km_per_deg_lon(), 6)
    return lat, lon


def _township_bases(rng: np.random.Generator, count: int) -> list[str]:
    bases = list(_NAMES.township_bases[:count])
    known = set(bases)
    while len(bases) < count:
        base = _pick(rng, _NAMES.town_first) + _pick(rng, _NAMES.town_second)
        if base not in known:
            known.add(base)
            bases.append(base)
    return bases


def _build_geography(profile: DemoProfile, rng: np.random.Generator) -> _Geography:
    """Stations on a jittered grid; the one nearest the centre is the county seat (城关街道)."""
    per_side = math.ceil(math.sqrt(profile.n_townships))
    cell_km = profile.area_km / per_side
    cells = [(row, col) for row in range(per_side) for col in range(per_side)]
    chosen = np.sort(rng.choice(len(cells), size=profile.n_townships, replace=False))
    x_km = np.array([(cells[i][1] + 0.5) * cell_km - profile.area_km / 2 for i in chosen])
    y_km = np.array([(cells[i][0] + 0.5) * cell_km - profile.area_km / 2 for i in chosen])
    x_km = x_km + rng.uniform(-0.3, 0.3, size=len(x_km)) * cell_km
    y_km = y_km + rng.uniform(-0.3, 0.3, size=len(y_km)) * cell_km
    distance_km = np.hypot(x_km, y_km)
    seat = int(distance_km.argmin())
    x_km[seat], y_km[seat] = rng.uniform(-0.8, 0.8, size=2)
    distance_km = np.hypot(x_km, y_km)

    # Names: the seat is 城关; nearer townships are 街道, the remotest 乡, the rest 镇.
    order = np.argsort(distance_km, kind="stable")
    bases = _township_bases(rng, profile.n_townships)
    names = [""] * profile.n_townships
    n_subdistricts = max(1, round(0.2 * profile.n_townships))
    n_rural = round(0.15 * profile.n_townships)
    for rank, index in enumerate(order):
        suffix = "街道" if rank < n_subdistricts else ("乡" if rank >= profile.n_townships - n_rural else "镇")
        names[index] = bases[rank] + suffix

    weight = rng.lognormal(0.0, 0.4, size=profile.n_townships) * np.exp(-distance_km / (0.75 * profile.area_km))
    weight[seat] *= 3.0
    sigma_km = np.where(np.arange(profile.n_townships) == seat, 2.5, rng.uniform(1.0, 2.0, size=profile.n_townships))

    # Industrial parks sit a few km outside a town, never on top of the seat.
    park_x, park_y = [], []
    for _ in range(profile.n_industrial_parks):
        anchor = int(rng.choice(profile.n_townships, p=weight / weight.sum()))
        angle = rng.uniform(0, 2 * math.pi)
        offset_km = rng.uniform(2.5, 5.0)
        park_x.append(x_km[anchor] + offset_km * math.cos(angle))
        park_y.append(y_km[anchor] + offset_km * math.sin(angle))
    return _Geography(names, x_km, y_km, weight, sigma_km, np.array(park_x), np.array(park_y))


# --------------------------------------------------------------------------------------------
# Enterprises
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Enterprises:
    """Working copy of the register; ``industry`` holds the bare digits (None = blank)."""

    uscc: list[str]
    name: list[str]
    township: list[str]
    township_index: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    industry: list[str | None]
    industry_text: list[str | None]  # as written in the table (some with the section letter)
    entity_type: list[str]
    credit_tier: list[str]
    positive_list: np.ndarray
    sandbox: np.ndarray
    observation_until: list[dt.date | None]
    key_sector: list[str | None]

    def __len__(self) -> int:
        return len(self.uscc)

    def is_small(self, index: int) -> bool:
        """个体工商户 and co-operatives: smaller premises, shorter checks."""
        return self.entity_type[index] in ("92", "93", "N2")


def _place(
    geography: _Geography, settings: list[str], rng: np.random.Generator, profile: DemoProfile
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (km from the centre) by setting: town centres, parks, countryside, sites."""
    n = len(settings)
    p_town = geography.township_weight / geography.township_weight.sum()
    p_rural = np.sqrt(geography.township_weight)
    p_rural = p_rural / p_rural.sum()
    town_of = rng.choice(len(p_town), size=n, p=p_town)
    rural_town_of = rng.choice(len(p_rural), size=n, p=p_rural)
    park_of = rng.integers(max(1, len(geography.park_x_km)), size=n)
    in_park = rng.random(n) < profile.park_share
    noise = rng.standard_normal((n, 2))
    x_km = np.empty(n)
    y_km = np.empty(n)
    for i, setting in enumerate(settings):
        if setting == "park" and in_park[i] and len(geography.park_x_km):
            cx, cy, sigma = geography.park_x_km[park_of[i]], geography.park_y_km[park_of[i]], 0.9
        elif setting in ("rural", "park"):
            t = rural_town_of[i]
            cx, cy, sigma = geography.station_x_km[t], geography.station_y_km[t], 3.5
        elif setting == "site":
            t = town_of[i]
            cx, cy, sigma = geography.station_x_km[t], geography.station_y_km[t], 2.5
        else:
            t = town_of[i]
            cx, cy, sigma = geography.station_x_km[t], geography.station_y_km[t], geography.town_sigma_km[t]
        x_km[i] = cx + sigma * noise[i, 0]
        y_km[i] = cy + sigma * noise[i, 1]
    half_km = profile.area_km / 2 + 2.0
    return np.clip(x_km, -half_km, half_km), np.clip(y_km, -half_km, half_km)


def _registered_name(
    rng: np.random.Generator, industry: Industry, entity_type: str, township: str, is_park: bool
) -> str:
    """A registered business name: place/字号 + industry word + form."""
    if entity_type == "N2":
        village = _pick(rng, _NAMES.village_first) + _pick(rng, _NAMES.village_second)
        return f"{COUNTY_NAME}{township}{village}村股份经济合作社"
    if entity_type == "12":
        return f"{COUNTY_NAME}{township}{'中心' if industry.code == '8310' else ''}{industry.shop_words[0]}"
    if entity_type == "52":
        return f"{COUNTY_NAME}{_brand(rng)}{_pick(rng, industry.shop_words)}"
    if entity_type == "93":
        place = COUNTY_NAME if rng.random() < 0.5 else COUNTY_NAME + township
        return f"{place}{_brand(rng)}{industry.firm_words[0]}专业合作社"
    if entity_type == "92":
        roll = rng.random()
        if roll < 0.3:
            trade_name = _surname(rng) + "记"
        elif roll < 0.45:
            trade_name = "老" + _surname(rng)
        elif roll < 0.55:
            trade_name = "阿" + _pick(rng, _NAMES.nickname_chars)
        else:
            trade_name = _brand(rng)
        shop_word = (
            _pick(rng, industry.shop_words) if industry.shop_words else _pick(rng, industry.firm_words) + "经营部"
        )
        return f"{COUNTY_NAME}{township}{trade_name}{shop_word}"
    # 91 企业
    word = _pick(rng, industry.firm_words)
    form = "股份有限公司" if is_park and rng.random() < 0.12 else "有限公司"
    roll = rng.random()
    brand = _brand(rng)
    if roll < 0.45:
        return f"{COUNTY_NAME}{brand}{word}{form}"
    if roll < 0.80:
        return f"{COUNTY_SHORT}{brand}{word}{form}"
    if roll < 0.90:
        return f"{PROVINCE_SHORT}{brand}{word}{form}"
    return f"{brand}{word}（{COUNTY_SHORT}）{form}"


def _build_enterprises(profile: DemoProfile, geography: _Geography, rng: np.random.Generator) -> _Enterprises:
    n_regular = profile.n_enterprises - profile.n_collectives
    pool = [industry for industry in INDUSTRIES if not profile.industries or industry.code in profile.industries]
    shares = np.array([industry.share_pct for industry in pool])
    drawn = rng.choice(len(pool), size=n_regular, p=shares / shares.sum())
    codes: list[str | None] = [pool[i].code for i in drawn]
    anchors = profile.industries or ANCHOR_INDUSTRIES
    n_anchor = min(len(anchors), n_regular)
    codes[:n_anchor] = anchors[:n_anchor]
    collective_codes = [
        COLLECTIVE_INDUSTRIES[int(i)] for i in rng.integers(len(COLLECTIVE_INDUSTRIES), size=profile.n_collectives)
    ]

    entity_types = [_pick_weighted(rng, _INDUSTRY_BY_CODE[code].entity_mix) for code in codes]
    entity_types += ["N2"] * profile.n_collectives
    settings = [_INDUSTRY_BY_CODE[code].setting for code in codes] + ["rural"] * profile.n_collectives
    codes = codes + collective_codes

    x_km, y_km = _place(geography, settings, rng, profile)
    township_index = geography.nearest_township(x_km, y_km)
    townships = [geography.township_names[t] for t in township_index]
    lat, lon = _to_lat_lon(x_km, y_km)

    names: list[str] = []
    copies: dict[str, int] = {}
    for i, code in enumerate(codes):
        industry = _INDUSTRY_BY_CODE[code] if code else _INDUSTRY_BY_CODE["0111"]
        name = _registered_name(rng, industry, entity_types[i], townships[i], settings[i] == "park")
        copies[name] = copies.get(name, 0) + 1
        if copies[name] > 1:
            name = _branch_name(name, copies[name])
        names.append(name)

    usccs = _unique_usccs(rng, entity_types, set())

    n = profile.n_enterprises
    tiers = [("A", "B", "C", "D")[i] for i in rng.choice(4, size=n, p=[0.15, 0.60, 0.20, 0.05])]
    key_roll = rng.random(n)
    key_sector: list[str | None] = []
    for i, code in enumerate(codes):
        industry = _INDUSTRY_BY_CODE.get(code) if code else None
        share = 0.0 if industry is None else industry.key_share
        if industry is not None and entity_types[i] == "91":
            share = min(1.0, share * 1.8)  # companies are the bigger premises: more often 重点
        key_sector.append(industry.key_sector if industry is not None and key_roll[i] < share else None)

    # 观察期 for new-economy firms (三新经济), a few others; ends at a month end in 2026.
    observation_roll = rng.random(n)
    observation_end_month = rng.integers(3, 10, size=n)
    observation_until: list[dt.date | None] = []
    for i, code in enumerate(codes):
        new_economy = code is not None and _INDUSTRY_BY_CODE[code].new_economy
        chance = 0.45 if new_economy else 0.008
        if entity_types[i] in ("12", "N2") or key_sector[i] is not None:
            chance = 0.0
        month = int(observation_end_month[i])
        month_end = dt.date(2026, month + 1, 1) - dt.timedelta(days=1)
        observation_until.append(month_end if observation_roll[i] < chance else None)

    tier_array = np.array(tiers)
    in_observation = np.array([d is not None for d in observation_until])
    sandbox = (tier_array == "A") & (rng.random(n) < 0.07) & ~in_observation
    positive_chance = np.select([tier_array == "A", tier_array == "B", tier_array == "C"], [0.35, 0.07, 0.02], 0.0)
    positive_list = rng.random(n) < positive_chance

    # Every profile shows each feature at least once (tiny is what unit tests load).
    def ensure_one(flags: np.ndarray, eligible: np.ndarray) -> None:
        if not flags.any() and eligible.any():
            flags[int(rng.choice(np.flatnonzero(eligible)))] = True

    regular = np.arange(n) < n_regular
    ensure_one(sandbox, (tier_array == "A") & ~in_observation & regular)
    if not sandbox.any():
        index = int(rng.choice(np.flatnonzero(~in_observation & regular)))
        tiers[index] = "A"
        tier_array[index] = "A"
        sandbox[index] = True
    ensure_one(positive_list, np.isin(tier_array, ["A", "B"]) & ~sandbox)
    if not in_observation.any():
        candidates = [i for i in range(n_regular) if key_sector[i] is None and not sandbox[i]]
        observation_until[int(rng.choice(candidates))] = dt.date(2026, 6, 30)

    # How the code is written: mostly 4 digits, some with the section letter, a few blank.
    format_roll = rng.random(n)
    industry_digits: list[str | None] = []
    industry_text: list[str | None] = []
    for i, code in enumerate(codes):
        if code is None or (i >= len(anchors) and format_roll[i] < 0.02):
            industry_digits.append(None)
            industry_text.append(None)
            key_sector[i] = None
        else:
            industry_digits.append(code)
            industry_text.append(_section_of(code) + code if format_roll[i] > 0.87 else code)

    return _Enterprises(
        uscc=usccs,
        name=names,
        township=townships,
        township_index=township_index,
        lat=lat,
        lon=lon,
        industry=industry_digits,
        industry_text=industry_text,
        entity_type=entity_types,
        credit_tier=tiers,
        positive_list=positive_list,
        sandbox=sandbox,
        observation_until=observation_until,
        key_sector=key_sector,
    )


# --------------------------------------------------------------------------------------------
# Demands
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Demand:
    dept_id: str
    enterprise: int
    item: str
    kind: str
    window_start: dt.date
    window_end: dt.date
    duration_min: int
    min_inspectors: int
    delegable: bool
    priority: int

    @property
    def inspector_hours(self) -> float:
        return self.duration_min * self.min_inspectors / 60.0


class _DemandBook:
    """Demands under construction, with the bookkeeping that keeps the caps satisfiable."""

    def __init__(self, enterprises: _Enterprises, dept_ids: tuple[str, ...], rng: np.random.Generator):
        self.enterprises = enterprises
        self.rng = rng
        self.demands: list[_Demand] = []
        self.capped_count: dict[tuple[str, int], int] = {}
        # Positive-list enterprises: the window every capped task must share (一年最多查一次).
        self.common_window: dict[int, tuple[dt.date, dt.date]] = {}
        self.seen: set[tuple] = set()
        self.items_of: list[list[InspectionItem]] = [
            [item for item in ITEMS if item.dept_id in dept_ids and item.applies_to(code)]
            for code in enterprises.industry
        ]

    def draw_duration_min(self, item: InspectionItem, enterprise: int) -> int:
        low, high = item.duration_min
        if self.enterprises.is_small(enterprise):
            high = max(low, (low + high) // 2)
        return 15 * int(self.rng.integers(low // 15, high // 15 + 1))

    def draw_crew(self, item: InspectionItem) -> int:
        return 3 if self.rng.random() < (0.2 if item.heavy else 0.03) else 2

    def draw_delegable(self, item: InspectionItem, enterprise: int) -> bool:
        if not item.simple:
            return False
        return bool(self.rng.random() < (0.6 if self.enterprises.is_small(enterprise) else 0.25))

    def fits_positive_list(self, enterprise: int, window: tuple[dt.date, dt.date], min_overlap_days: int = 20) -> bool:
        if not self.enterprises.positive_list[enterprise]:
            return True
        common = self.common_window.get(enterprise)
        if common is None:
            return True
        start, end = max(common[0], window[0]), min(common[1], window[1])
        return (end - start).days + 1 >= min_overlap_days

    def add(
        self,
        item: InspectionItem,
        enterprise: int,
        kind: str,
        window: tuple[dt.date, dt.date],
        priority: int,
        duration_min: int | None = None,
        min_inspectors: int | None = None,
    ) -> bool:
        """Add one task unless an identical one exists; capped kinds update the cap books."""
        signature = (item.dept_id, enterprise, item.name, kind, window)
        if signature in self.seen:
            return False
        self.seen.add(signature)
        self.demands.append(
            _Demand(
                dept_id=item.dept_id,
                enterprise=enterprise,
                item=item.name,
                kind=kind,
                window_start=window[0],
                window_end=window[1],
                duration_min=duration_min if duration_min is not None else self.draw_duration_min(item, enterprise),
                min_inspectors=min_inspectors if min_inspectors is not None else self.draw_crew(item),
                delegable=self.draw_delegable(item, enterprise),
                priority=priority,
            )
        )
        if kind in ("key", "campaign"):
            pair = (item.dept_id, enterprise)
            self.capped_count[pair] = self.capped_count.get(pair, 0) + 1
            if self.enterprises.positive_list[enterprise]:
                common = self.common_window.get(enterprise, window)
                self.common_window[enterprise] = (max(common[0], window[0]), min(common[1], window[1]))
        return True


def _key_windows(rng: np.random.Generator, visits_per_year: int) -> list[tuple[dt.date, dt.date]]:
    if visits_per_year >= 2:
        roll = rng.random()
        if roll < 0.7:
            return list(HALVES)
        return [QUARTERS[0], QUARTERS[2]] if roll < 0.85 else [QUARTERS[1], QUARTERS[3]]
    if rng.random() < 0.5:
        return [QUARTERS[int(rng.integers(4))]]
    return [HALVES[int(rng.integers(2))]]


def _due_quarter(due: dict[str, tuple[dt.date, dt.date]]) -> int:
    """The quarter of the earliest due window: a positive-list firm's one visit a year is there."""
    first = min(window[0] for window in due.values())
    return next(q for q, (start, end) in enumerate(QUARTERS) if start <= first <= end)


def _add_key_tasks(book: _DemandBook, due: dict[str, tuple[dt.date, dt.date]] | None = None) -> None:
    """重点监管: mandatory, quarter or half-year windows, one or two a year per item; a
    department of ``due`` checks in its own window (after one in H1 if two a year)."""
    enterprises, rng = book.enterprises, book.rng
    due = due or {}
    anchor_quarter = rng.integers(4, size=len(enterprises))
    for e in range(len(enterprises)):
        sector = enterprises.key_sector[e]
        if sector is None:
            continue
        for item in book.items_of[e]:
            if sector not in item.key_sectors:
                continue
            per_year = item.key_per_year or (2 if enterprises.credit_tier[e] in ("C", "D") else 1)
            priority = 3 if enterprises.credit_tier[e] == "D" else 2
            if enterprises.positive_list[e]:
                # One visit a year covers everything: every key window contains the same quarter
                # (where the due windows are, if any).
                quarter = _due_quarter(due) if due else int(anchor_quarter[e])
                window = QUARTERS[quarter] if rng.random() < 0.5 else HALVES[quarter // 2]
                own = due.get(item.dept_id)
                if own is not None and _overlap_days(own, QUARTERS[quarter]) >= 20:
                    window = own
                book.add(item, e, "key", window, priority)
                continue
            windows = _key_windows(rng, per_year)
            if item.dept_id in due:
                own = due[item.dept_id]
                windows = [H1, own] if per_year >= 2 and own[0] > H1[1] else [own]
            for window in windows:
                book.add(item, e, "key", window, priority)


def _overlap_days(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> int:
    return (min(a[1], b[1]) - max(a[0], b[0])).days + 1


def _add_due_checks(book: _DemandBook, due: dict[str, tuple[dt.date, dt.date]], share: dict[str, float]) -> None:
    """Key checks beyond the key sectors: a department of ``share`` also checks that share of the
    other firms it oversees (its 重点单位: 消防安全重点单位, 安全生产重点企业), in its due window."""
    enterprises, rng = book.enterprises, book.rng
    checked = {(d.dept_id, d.enterprise) for d in book.demands if d.kind == "key"}
    for e in range(len(enterprises)):
        for dept_id, fraction in share.items():
            own = [item for item in book.items_of[e] if item.dept_id == dept_id]
            if not own or (dept_id, e) in checked or rng.random() >= fraction:
                continue
            window = due[dept_id]
            if book.fits_positive_list(e, window):
                priority = 3 if enterprises.credit_tier[e] == "D" else 2
                book.add(own[int(rng.integers(len(own)))], e, "key", window, priority)


def _add_coverage_checks(book: _DemandBook, min_depts: int, due: dict[str, tuple[dt.date, dt.date]]) -> None:
    """全覆盖 of a park: each firm gets a key check by more of the departments that oversee it
    (those with a due window first, the others in random order) until ``min_depts`` have work there."""
    enterprises, rng = book.enterprises, book.rng
    depts_at: dict[int, set[str]] = {}
    for demand in book.demands:
        depts_at.setdefault(demand.enterprise, set()).add(demand.dept_id)
    for e in range(len(enterprises)):
        have = depts_at.setdefault(e, set())
        overseers = sorted({item.dept_id for item in book.items_of[e]} - have)
        order = rng.permutation(len(overseers))
        overseers = sorted((overseers[int(i)] for i in order), key=lambda d: d not in due)
        for dept_id in overseers:
            if len(have) >= min_depts:
                break
            own = [item for item in book.items_of[e] if item.dept_id == dept_id]
            item = own[int(rng.integers(len(own)))]
            if dept_id in due:
                window = due[dept_id]
            elif enterprises.positive_list[e]:
                window = QUARTERS[_due_quarter(due)] if due else QUARTERS[int(rng.integers(4))]
            else:
                window = _key_windows(rng, 1)[0]
            if not book.fits_positive_list(e, window):
                continue
            priority = 3 if enterprises.credit_tier[e] == "D" else 2
            if book.add(item, e, "key", window, priority):
                have.add(dept_id)


def _add_triggered_tasks(book: _DemandBook, count: int) -> list[_Demand]:
    """投诉举报: two-week windows from a random day; complaints favour bad credit and shops."""
    enterprises, rng = book.enterprises, book.rng
    tier_weight = {"A": 0.5, "B": 1.0, "C": 2.0, "D": 3.0}
    weights = np.array(
        [
            tier_weight[enterprises.credit_tier[e]] * sum(item.complaint_weight for item in book.items_of[e])
            for e in range(len(enterprises))
        ]
    )
    if count == 0 or weights.sum() == 0:
        return []
    chosen = rng.choice(len(enterprises), size=count, p=weights / weights.sum())
    added: list[_Demand] = []
    for e in chosen:
        items = book.items_of[int(e)]
        item_weights = np.array([item.complaint_weight for item in items])
        item = items[int(rng.choice(len(items), p=item_weights / item_weights.sum()))]
        start = _random_date(rng, HORIZON_START, HORIZON_END - dt.timedelta(days=13))
        priority = 3 if rng.random() < 0.7 else 2
        if book.add(item, int(e), "triggered", (start, start + dt.timedelta(days=13)), priority):
            added.append(book.demands[-1])
    return added


def _add_followup_tasks(
    book: _DemandBook, count: int, triggered: list[_Demand], history_visits: list[tuple[int, str, dt.date, str]]
) -> None:
    """整改复查: a month-long window, after a 2026 complaint or a 2025 inspection that found problems."""
    rng = book.rng
    added = 0
    after_complaint = [d for d in triggered if d.window_end + dt.timedelta(days=45) <= HORIZON_END]
    for demand in after_complaint[: count // 2]:
        start = demand.window_end + dt.timedelta(days=int(rng.integers(7, 15)))
        item = _ITEM_BY_NAME[(demand.dept_id, demand.item)]
        added += book.add(item, demand.enterprise, "followup", (start, start + dt.timedelta(days=30)), 2)
    candidates = [visit for visit in history_visits if visit[3] != "followup"]
    order = rng.permutation(len(candidates))
    for position in order:
        if added >= count:
            break
        e, dept_id, _, _ = candidates[int(position)]
        items = [item for item in book.items_of[e] if item.dept_id == dept_id]
        if not items:
            continue
        start = _random_date(rng, HORIZON_START + dt.timedelta(days=4), dt.date(2026, 11, 30))
        added += book.add(_pick(rng, items), e, "followup", (start, start + dt.timedelta(days=30)), 2)


def _add_campaign_tasks(
    book: _DemandBook, count: int, dept_ids: tuple[str, ...], campaigns: tuple[Campaign, ...] = CAMPAIGNS
) -> None:
    """专项整治: a month or two; at most two capped tasks per (department, enterprise)."""
    enterprises, rng = book.enterprises, book.rng
    pairs: list[tuple[int, int]] = []
    weights: list[float] = []
    for c, campaign in enumerate(campaigns):
        if campaign.dept_id not in dept_ids:
            continue
        item = _ITEM_BY_NAME[(campaign.dept_id, campaign.item)]
        for e in range(len(enterprises)):
            code = enterprises.industry[e]
            if code is None or not code.startswith(campaign.industries) or not item.applies_to(code):
                continue
            if enterprises.sandbox[e]:
                continue  # 优信豁免: no routine campaigns either
            until = enterprises.observation_until[e]
            if until is not None and (campaign.window[1] - until).days < 21:
                continue  # 观察期: campaign only after it ends, and with time left to do it
            pairs.append((c, e))
            weights.append(campaign.intensity * (1.5 if enterprises.credit_tier[e] in ("C", "D") else 1.0))
    if not pairs or count <= 0:
        return
    # Weighted order without replacement (exponential race): lower key = earlier.
    race = rng.exponential(size=len(pairs)) / np.array(weights)
    campaigns_at: dict[int, int] = {}
    added = 0
    for index in np.argsort(race, kind="stable"):
        if added >= count:
            break
        c, e = pairs[int(index)]
        campaign = campaigns[c]
        if book.capped_count.get((campaign.dept_id, e), 0) >= 2:
            continue
        if campaigns_at.get(e, 0) >= 3 or not book.fits_positive_list(e, campaign.window):
            continue  # 无事不扰: no enterprise is in more than three campaigns
        if book.add(_ITEM_BY_NAME[(campaign.dept_id, campaign.item)], e, "campaign", campaign.window, 1):
            campaigns_at[e] = campaigns_at.get(e, 0) + 1
            added += 1


def _add_hard_cases(book: _DemandBook, count: int) -> None:
    """A few deliberately hard mandatory tasks, as real plans have them."""
    enterprises, rng = book.enterprises, book.rng
    if count <= 0:
        return
    hard: list[tuple[InspectionItem, int, str, tuple[dt.date, dt.date], int, int | None, int | None]] = []
    # 1. A third capped visit for one department, in a quarter disjoint from its two key quarters.
    by_pair: dict[tuple[str, int], list[_Demand]] = {}
    for demand in book.demands:
        if demand.kind == "key":
            by_pair.setdefault((demand.dept_id, demand.enterprise), []).append(demand)
    quarter_pairs = sorted(
        pair
        for pair, ds in by_pair.items()
        if len(ds) == 2 and all((d.window_start, d.window_end) in QUARTERS for d in ds)
    )
    # 2. A positive-list enterprise with a second key window disjoint from its common window.
    positive = sorted(e for e in book.common_window if (book.common_window[e][1] - book.common_window[e][0]).days < 100)
    # 3. A follow-up due inside the Spring Festival holiday (no working day in the window).
    # 4. A full-day complaint check needing three inspectors.
    any_item = [e for e in range(len(enterprises)) if book.items_of[e]]
    for k in range(count):
        kind_of_case = k % 4
        if kind_of_case == 0 and quarter_pairs:
            dept_id, e = quarter_pairs[int(rng.integers(len(quarter_pairs)))]
            taken = {(d.window_start, d.window_end) for d in by_pair[(dept_id, e)]}
            free = [q for q in QUARTERS if q not in taken]
            item = _ITEM_BY_NAME[(dept_id, by_pair[(dept_id, e)][0].item)]
            hard.append((item, e, "key", free[int(rng.integers(len(free)))], 2, None, None))
        elif kind_of_case == 1 and positive:
            e = positive[int(rng.integers(len(positive)))]
            common = book.common_window[e]
            disjoint = [q for q in QUARTERS if q[1] < common[0] or q[0] > common[1]]
            if disjoint and book.items_of[e]:
                item = book.items_of[e][int(rng.integers(len(book.items_of[e])))]
                hard.append((item, e, "key", disjoint[int(rng.integers(len(disjoint)))], 2, None, None))
        elif kind_of_case == 2:
            e = any_item[int(rng.integers(len(any_item)))]
            item = book.items_of[e][int(rng.integers(len(book.items_of[e])))]
            hard.append((item, e, "followup", SPRING_FESTIVAL_2026, 2, None, None))
        else:
            e = any_item[int(rng.integers(len(any_item)))]
            item = book.items_of[e][int(rng.integers(len(book.items_of[e])))]
            start = _random_date(rng, HORIZON_START, HORIZON_END - dt.timedelta(days=13))
            hard.append((item, e, "triggered", (start, start + dt.timedelta(days=13)), 3, 480, 3))
    for item, e, kind, window, priority, duration_min, crew in hard:
        # Bypass the cap books on purpose: these are meant to collide with the caps.
        signature = (item.dept_id, e, item.name, kind, window)
        if signature in book.seen:
            continue
        book.seen.add(signature)
        book.demands.append(
            _Demand(
                item.dept_id,
                e,
                item.name,
                kind,
                window[0],
                window[1],
                duration_min or book.draw_duration_min(item, e),
                crew or book.draw_crew(item),
                book.draw_delegable(item, e),
                priority,
            )
        )


# --------------------------------------------------------------------------------------------
# Sampling plan
# --------------------------------------------------------------------------------------------


def _sampling_rows(profile: DemoProfile) -> list[dict]:
    """双随机 plan rows for the profile's departments; joint groups keep only complete strata."""
    templates = [t for t in SAMPLING_TEMPLATES if t.dept_id in profile.dept_ids]
    if profile.tiny_sampling_plan:
        templates = [t for t in templates if t.in_tiny]
    rows: list[dict] = []
    serial: dict[str, int] = {}
    for template in templates:
        strata = (
            [(tier, TIER_RATIOS[tier]) for tier in "ABCD"] if template.per_tier else [("*", template.ratio_all_tiers)]
        )
        for tier, ratio in strata:
            serial[template.dept_id] = serial.get(template.dept_id, 0) + 1
            rows.append(
                {
                    "plan_id": f"{template.dept_id}-R-{serial[template.dept_id]:02d}",
                    "dept_id": template.dept_id,
                    "item": template.item,
                    "industries": template.industries,
                    "tier": tier,
                    "ratio": ratio,
                    "window_start": template.window[0],
                    "window_end": template.window[1],
                    "duration_min": template.duration_min,
                    "delegable": template.delegable,
                    "joint_group": template.joint_group,
                }
            )
    return rows


def _expected_random_hours(rows: list[dict], enterprises: _Enterprises) -> dict[str, float]:
    """Inspector-hours the random draws will roughly need per department (crews of two)."""
    hours: dict[str, float] = {}
    eligible = [not enterprises.sandbox[e] for e in range(len(enterprises))]
    for row in rows:
        prefixes = None if row["industries"] == "*" else tuple(row["industries"].split(";"))
        pool = 0
        for e in range(len(enterprises)):
            code = enterprises.industry[e]
            if not eligible[e] or (prefixes is not None and (code is None or not code.startswith(prefixes))):
                continue
            if row["tier"] != "*" and enterprises.credit_tier[e] != row["tier"]:
                continue
            pool += 1
        drawn = math.ceil(row["ratio"] * pool)
        hours[row["dept_id"]] = hours.get(row["dept_id"], 0.0) + drawn * row["duration_min"] * 2 / 60.0
    return hours


# --------------------------------------------------------------------------------------------
# Inspectors
# --------------------------------------------------------------------------------------------


def _allocate_staff(profile: DemoProfile, workload_h: dict[str, float]) -> dict[str, int]:
    """Inspectors per department in proportion to workload (largest remainder), with a floor."""
    dept_ids = profile.dept_ids
    floor = profile.min_inspectors_per_dept
    spare = profile.n_inspectors - floor * len(dept_ids)
    load = np.array([workload_h.get(d, 0.0) for d in dept_ids])
    # Departments whose floor already covers their load need nothing extra.
    per_inspector_h = load.sum() / profile.n_inspectors
    extra_need = np.maximum(load / max(per_inspector_h, 1e-9) - floor, 0.0)
    quota = extra_need / max(extra_need.sum(), 1e-9) * spare
    counts = np.floor(quota).astype(int)
    remainder_order = np.argsort(-(quota - counts), kind="stable")
    for i in remainder_order[: spare - counts.sum()]:
        counts[i] += 1
    return {d: floor + int(c) for d, c in zip(dept_ids, counts)}


@dataclasses.dataclass
class _Inspector:
    inspector_id: str
    name: str
    dept_id: str
    cert_no: str | None
    delegated_depts: str | None
    hours_per_day: float
    max_days: int | None

    @property
    def planned_hours(self) -> float:
        """Inspector-hours available for planned inspections in 2026 (0 without a certificate)."""
        if self.cert_no is None:
            return 0.0
        days = self.max_days if self.max_days is not None else math.floor(PLANNED_SHARE * WORKING_DAYS_2026)
        return days * self.hours_per_day


def _build_inspectors(profile: DemoProfile, staff: dict[str, int], rng: np.random.Generator) -> list[_Inspector]:
    inspectors: list[_Inspector] = []
    names_taken: set[str] = set()
    # Serials 100–2999 (unchanged for every profile up to 2,900 inspectors); a larger roster gets more.
    serials = np.arange(100, max(3000, 100 + 2 * profile.n_inspectors))
    cert_serials = np.sort(rng.choice(serials, size=profile.n_inspectors, replace=False))
    cert_order = rng.permutation(profile.n_inspectors)
    position = 0
    for dept_id in profile.dept_ids:
        id_numbers = np.sort(rng.choice(np.arange(1, 10 * staff[dept_id] + 1), size=staff[dept_id], replace=False))
        for number in id_numbers:
            name = _person_name(rng)
            while name in names_taken:
                name = _person_name(rng)
            names_taken.add(name)
            if dept_id == "ZF":
                delegated = _pick(rng, ZF_DELEGATIONS) if rng.random() < 0.8 else None
            else:
                options = tuple(d for d in OTHER_DELEGATIONS.get(dept_id, ()) if d in profile.dept_ids)
                delegated = _pick(rng, options) if options and rng.random() < 0.08 else None
            if delegated is not None:
                delegated = ";".join(d for d in delegated.split(";") if d in profile.dept_ids and d != dept_id) or None
            hours_roll = rng.random()
            hours_per_day = 7.0 if hours_roll < 0.8 else (6.0 if hours_roll < 0.9 else 8.0)
            max_days = int(_pick(rng, (30, 40, 50, 60, 60, 80))) if rng.random() < 0.15 else None
            cert_no = f"{REGION_CODE}{cert_serials[cert_order[position]]:05d}"
            inspectors.append(
                _Inspector(f"{dept_id}{number:04d}", name, dept_id, cert_no, delegated, hours_per_day, max_days)
            )
            position += 1

    # About 3 % have no certificate yet (they load with a warning and are never assigned);
    # only in departments large enough to still field crews.
    n_uncertified = max(1, round(0.03 * len(inspectors)))
    large = [i for i, insp in enumerate(inspectors) if staff[insp.dept_id] >= 5]
    for i in np.sort(rng.choice(large, size=min(n_uncertified, len(large)), replace=False)):
        inspectors[int(i)].cert_no = None
    # Even the tiny profile shows both an explicit max_days and the planned_share default.
    with_cap = [insp for insp in inspectors if insp.max_days is not None]
    if not with_cap or len(with_cap) == len(inspectors):
        inspectors[-1].max_days = None if with_cap else 40
    if not any(insp.delegated_depts for insp in inspectors):
        zf = [insp for insp in inspectors if insp.dept_id == "ZF" and insp.cert_no is not None]
        zf[0].delegated_depts = "SJ;XF"
    return inspectors


def _load_share(demands: list[_Demand], inspectors: list[_Inspector]) -> dict[str, float]:
    load: dict[str, float] = {}
    for demand in demands:
        load[demand.dept_id] = load.get(demand.dept_id, 0.0) + demand.inspector_hours
    capacity: dict[str, float] = {}
    for inspector in inspectors:
        capacity[inspector.dept_id] = capacity.get(inspector.dept_id, 0.0) + inspector.planned_hours
    return {d: load.get(d, 0.0) / capacity[d] for d in capacity}


def _trim_to_capacity(
    demands: list[_Demand], inspectors: list[_Inspector], rng: np.random.Generator, target: float = DEMAND_LOAD_TARGET
) -> list[_Demand]:
    """Drop campaign tasks of any department whose demands exceed the load target."""
    share = _load_share(demands, inspectors)
    over = {d for d, s in share.items() if s > target}
    if not over:
        return demands
    capacity: dict[str, float] = {}
    for inspector in inspectors:
        capacity[inspector.dept_id] = capacity.get(inspector.dept_id, 0.0) + inspector.planned_hours
    load = {d: share[d] * capacity[d] for d in share}
    drop: set[int] = set()
    for index in rng.permutation(len(demands)):
        demand = demands[int(index)]
        dept_id = demand.dept_id
        if demand.kind == "campaign" and dept_id in over and load[dept_id] > target * capacity[dept_id]:
            load[dept_id] -= demand.inspector_hours
            drop.add(int(index))
    return [d for i, d in enumerate(demands) if i not in drop]


# --------------------------------------------------------------------------------------------
# Leave, conflicts, history
# --------------------------------------------------------------------------------------------


def _build_leave(
    profile: DemoProfile, inspectors: list[_Inspector], rng: np.random.Generator
) -> list[tuple[str, dt.date, dt.date]]:
    """1–3 periods of 2–15 days: around Spring Festival, training courses, sick leave."""
    rows: list[tuple[str, dt.date, dt.date]] = []
    chosen = np.sort(rng.choice(len(inspectors), size=min(profile.n_leave_inspectors, len(inspectors)), replace=False))
    for index in chosen:
        periods: list[tuple[dt.date, dt.date]] = []
        for _ in range(int(rng.integers(1, 4))):
            reason = rng.random()
            if reason < 0.3:  # extending the Spring Festival break
                start = _random_date(rng, dt.date(2026, 2, 9), dt.date(2026, 2, 14))
                length = int(rng.integers(5, 16))
            elif reason < 0.6:  # training course
                start = _random_date(rng, dt.date(2026, 3, 1), dt.date(2026, 11, 30))
                length = int(rng.integers(2, 6))
            else:  # sick leave or personal matters
                start = _random_date(rng, HORIZON_START, dt.date(2026, 12, 15))
                length = int(rng.integers(2, 16))
            end = min(start + dt.timedelta(days=length - 1), HORIZON_END)
            if all(end < s or start > e for s, e in periods):
                periods.append((start, end))
        rows.extend((inspectors[int(index)].inspector_id, s, e) for s, e in sorted(periods))
    return rows


def _cut_staff(
    rows: list[tuple[str, dt.date, dt.date]], inspectors: list[_Inspector], cut: LeaveCut, rng: np.random.Generator
) -> list[tuple[str, dt.date, dt.date]]:
    """``cut.share`` of the department's certified inspectors away for the whole period: one leave
    row each, their ordinary leave inside that period dropped (periods of a person never overlap)."""
    certified = sorted(i.inspector_id for i in inspectors if i.dept_id == cut.dept_id and i.cert_no is not None)
    chosen = rng.choice(len(certified), size=round(cut.share * len(certified)), replace=False)
    away = {certified[int(i)] for i in chosen}
    kept = [r for r in rows if r[0] not in away or r[2] < cut.start or r[1] > cut.end]
    return kept + [(person, cut.start, cut.end) for person in sorted(away)]


def _build_conflicts(
    profile: DemoProfile,
    inspectors: list[_Inspector],
    enterprises: _Enterprises,
    demands: list[_Demand],
    rng: np.random.Generator,
) -> list[tuple[str, str]]:
    """回避: an inspector living in a township, or related to an owner, conflicts with a business there."""
    served: dict[str, list[int]] = {}
    for demand in demands:
        served.setdefault(demand.dept_id, []).append(demand.enterprise)
    served = {d: sorted(set(es)) for d, es in served.items()}
    certified = [insp for insp in inspectors if insp.cert_no is not None and served.get(insp.dept_id)]
    pairs: set[tuple[str, str]] = set()
    attempts = 0
    while len(pairs) < profile.n_conflicts and attempts < 50 * profile.n_conflicts:
        attempts += 1
        inspector = certified[int(rng.integers(len(certified)))]
        candidates = served[inspector.dept_id]
        home = enterprises.township_index[candidates[int(rng.integers(len(candidates)))]]
        local = [e for e in candidates if enterprises.township_index[e] == home]
        e = local[int(rng.integers(len(local)))]
        pairs.add((inspector.inspector_id, enterprises.uscc[e]))
    return sorted(pairs)


def _history_workdays() -> list[dt.date]:
    """2025 working days: weekdays less the main public holidays, plus the make-up Saturdays/Sundays."""
    holidays = {dt.date(2025, 1, 1)}
    for start, end in (((1, 28), (2, 4)), ((4, 4), (4, 6)), ((5, 1), (5, 5)), ((5, 31), (6, 2)), ((10, 1), (10, 8))):
        day = dt.date(2025, *start)
        while day <= dt.date(2025, *end):
            holidays.add(day)
            day += dt.timedelta(days=1)
    make_up = {
        dt.date(2025, 1, 26),
        dt.date(2025, 2, 8),
        dt.date(2025, 4, 27),
        dt.date(2025, 9, 28),
        dt.date(2025, 10, 11),
    }
    days = []
    day = HISTORY_START
    while day <= HISTORY_END:
        if (day.weekday() < 5 and day not in holidays) or day in make_up:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _build_history(
    profile: DemoProfile,
    enterprises: _Enterprises,
    inspectors: list[_Inspector],
    rng: np.random.Generator,
) -> tuple[list[tuple[str, str, dt.date, str | None, str]], list[tuple[int, str, dt.date, str]]]:
    """2025 inspections (one row per inspector on the visit), plus a few at businesses since closed."""
    workdays = _history_workdays()
    staff: dict[str, list[str]] = {}
    for inspector in inspectors:
        if inspector.cert_no is not None:
            staff.setdefault(inspector.dept_id, []).append(inspector.inspector_id)
    pairs: list[tuple[int, str]] = []
    weights: list[float] = []
    for e in range(len(enterprises)):
        depts = sorted(
            {item.dept_id for item in ITEMS if item.dept_id in staff and item.applies_to(enterprises.industry[e])}
        )
        for dept_id in depts:
            pairs.append((e, dept_id))
            weight = 3.0 if enterprises.key_sector[e] else 1.0
            weights.append(weight * (1.5 if enterprises.credit_tier[e] in ("C", "D") else 1.0))
    p = np.array(weights) / sum(weights)
    chosen = rng.choice(len(pairs), size=profile.n_history_visits, p=p)
    kinds = ("key", "random", "campaign", "triggered", "followup")
    kind_p = np.array([0.35, 0.30, 0.20, 0.10, 0.05])
    rows: list[tuple[str, str, dt.date, str | None, str]] = []
    visits: list[tuple[int, str, dt.date, str]] = []
    seen: set[tuple[int, str, dt.date]] = set()
    for index in chosen:
        e, dept_id = pairs[int(index)]
        date = workdays[int(rng.integers(len(workdays)))]
        if (e, dept_id, date) in seen:
            continue
        seen.add((e, dept_id, date))
        kind = kinds[int(rng.choice(len(kinds), p=kind_p))]
        visits.append((e, dept_id, date, kind))
        team = staff[dept_id]
        crew = rng.choice(len(team), size=2 if len(team) >= 2 and rng.random() < 0.9 else 1, replace=False)
        rows.extend((enterprises.uscc[e], dept_id, date, team[int(m)], kind) for m in np.sort(crew))

    # Businesses that closed in 2025: valid codes not in the register (the loader skips them).
    closed = _unique_usccs(rng, ["92"] * profile.n_closed_enterprise_visits, set(enterprises.uscc))
    for code in closed:
        dept_id = "SJ" if rng.random() < 0.7 or "ZF" not in staff else "ZF"
        date = workdays[int(rng.integers(len(workdays)))]
        team = staff[dept_id]
        rows.append((code, dept_id, date, team[int(rng.integers(len(team)))], "random"))
    return rows, visits


# --------------------------------------------------------------------------------------------
# Assembling the frames
# --------------------------------------------------------------------------------------------


def _text(values) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def _frame(columns: dict[str, pd.Series], sort_by: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(columns)
    return frame.sort_values(sort_by, kind="stable").reset_index(drop=True)


_STAGES = ("geography", "enterprises", "demands", "staff", "leave", "conflicts", "history", "trim")


def generate_dataset(profile: str, seed: int) -> dict[str, pd.DataFrame]:
    """Synthetic but realistic county dataset; same (profile, seed) -> identical frames.

    ``profile`` is a key of ``PROFILES`` ("tiny", "county", "city", the benchmark sizes, the hard
    profiles). The frames are keyed by
    table name (townships, departments, enterprises, inspectors, leave, demands, sampling_plan,
    items, conflicts, history) with the data-contract columns in contract order; durations are in
    minutes, hours per day in hours, coordinates in WGS-84 degrees.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown demo profile {profile!r}; choose one of {', '.join(PROFILES)}")
    sizes = PROFILES[profile]
    rngs = _stage_rngs(int(seed), _STAGES)

    geography = _build_geography(sizes, rngs["geography"])
    enterprises = _build_enterprises(sizes, geography, rngs["enterprises"])

    # Staff is sized from the key, complaint and campaign workload (plus the expected random
    # draws); follow-ups come after, because they revisit the 2025 history, which needs staff.
    book = _DemandBook(enterprises, sizes.dept_ids, rngs["demands"])
    due = dict(sizes.key_windows)
    _add_key_tasks(book, due)
    if sizes.key_window_share:
        _add_due_checks(book, due, dict(sizes.key_window_share))
    if sizes.min_depts_per_firm:
        _add_coverage_checks(book, sizes.min_depts_per_firm, due)
    n_triggered = round(0.05 * sizes.n_demands)
    n_followup = round(0.04 * sizes.n_demands)
    n_hard = round(sizes.hard_case_share * sizes.n_demands)
    triggered = _add_triggered_tasks(book, n_triggered)
    n_campaign = sizes.n_demands - len(book.demands) - n_followup - n_hard
    _add_campaign_tasks(
        book, n_campaign, sizes.dept_ids, SPRING_SUMMER_CAMPAIGNS if sizes.spring_summer_campaigns else CAMPAIGNS
    )

    sampling_rows = _sampling_rows(sizes)
    workload_h: dict[str, float] = dict(_expected_random_hours(sampling_rows, enterprises))
    for demand in book.demands:
        workload_h[demand.dept_id] = workload_h.get(demand.dept_id, 0.0) + demand.inspector_hours
    staff = _allocate_staff(sizes, workload_h)
    inspectors = _build_inspectors(sizes, staff, rngs["staff"])

    history_rows, history_visits = _build_history(sizes, enterprises, inspectors, rngs["history"])
    _add_followup_tasks(book, n_followup, triggered, history_visits)
    _add_hard_cases(book, n_hard)
    demands = _trim_to_capacity(book.demands, inspectors, rngs["trim"], sizes.load_target)

    leave_rows = _build_leave(sizes, inspectors, rngs["leave"])
    if sizes.leave_cut is not None:
        leave_rows = _cut_staff(leave_rows, inspectors, sizes.leave_cut, rngs["leave"])
    conflict_rows = _build_conflicts(sizes, inspectors, enterprises, demands, rngs["conflicts"])

    station_lat, station_lon = _to_lat_lon(geography.station_x_km, geography.station_y_km)
    return {
        "townships": _frame(
            {
                "township": _text(geography.township_names),
                "lat": pd.Series(station_lat, dtype="float64"),
                "lon": pd.Series(station_lon, dtype="float64"),
            },
            ["township"],
        ),
        "departments": _frame(
            {"dept_id": _text(sizes.dept_ids), "name": _text(DEPARTMENT_NAMES[d] for d in sizes.dept_ids)},
            ["dept_id"],
        ),
        "enterprises": _enterprise_frame(enterprises),
        "inspectors": _inspector_frame(inspectors),
        "leave": _frame(
            {
                "inspector_id": _text(r[0] for r in leave_rows),
                "start": _text(r[1] for r in leave_rows),
                "end": _text(r[2] for r in leave_rows),
            },
            ["inspector_id", "start"],
        ),
        "demands": _demand_frame(demands, enterprises),
        "sampling_plan": _sampling_frame(sampling_rows),
        "items": _catalogue_frame(sizes.dept_ids),
        "conflicts": _frame(
            {"inspector_id": _text(r[0] for r in conflict_rows), "uscc": _text(r[1] for r in conflict_rows)},
            ["inspector_id", "uscc"],
        ),
        "history": _frame(
            {
                "uscc": _text(r[0] for r in history_rows),
                "dept_id": _text(r[1] for r in history_rows),
                "date": _text(r[2] for r in history_rows),
                "inspector_id": _text(r[3] for r in history_rows),
                "kind": _text(r[4] for r in history_rows),
            },
            ["uscc", "dept_id", "date", "inspector_id"],
        ),
    }


#: what enterprises ask guidance for (预约式指导服务), and what departments offer (执法预约企业)
APPOINTMENT_TOPICS = {
    "enterprise": (
        "开业前合规指导",
        "消防安全隐患自查指导",
        "安全生产标准化创建指导",
        "经营许可事项指导",
        "整改后合规复核指导",
    ),
    "department": ("重点时段安全生产服务", "新规施行上门宣讲", "合规体系建设指导", "节前安全检查指导"),
}


def generate_appointments(tables: dict[str, pd.DataFrame], count: int, seed: int) -> pd.DataFrame:
    """``count`` appointments (预约) of a generated dataset ``tables``, in 2026 (2 Feb … 30 Nov):
    distinct enterprises, each with one to three departments — those with a demand there first,
    so that some due checks can be folded in — that have a certified inspector; windows of one to
    four weeks; 70 % asked by the enterprise (企业预约执法), 60 % agreeing to fold due checks.
    Its own random stream: the same (tables, count, seed) give the same rows, and the dataset's
    other tables do not change."""
    rng = np.random.default_rng([int(seed), 20, 1])
    enterprises = sorted(tables["enterprises"]["uscc"])
    inspectors = tables["inspectors"]
    staffed = sorted(set(inspectors.loc[inspectors["cert_no"].notna(), "dept_id"]))
    demands = tables["demands"]
    due = demands.groupby("uscc")["dept_id"].agg(lambda d: sorted(set(d))).to_dict()
    first, span = dt.date(2026, 2, 2), (dt.date(2026, 11, 30) - dt.date(2026, 2, 2)).days
    rows = []
    chosen = rng.choice(len(enterprises), size=min(count, len(enterprises)), replace=False)
    for n, at in enumerate(sorted(chosen.tolist()), start=1):
        uscc = enterprises[at]
        own = [d for d in due.get(uscc, []) if d in staffed]
        size = int(rng.integers(1, 4))
        depts = list(rng.permutation(own)[:size]) if own else []
        others = [d for d in staffed if d not in depts]
        while len(depts) < size and others:
            depts.append(others.pop(int(rng.integers(len(others)))))
        length = int(rng.integers(7, 29))
        start = first + dt.timedelta(days=int(rng.integers(0, span - length)))
        direction = "enterprise" if rng.random() < 0.7 else "department"
        topics = APPOINTMENT_TOPICS[direction]
        rows.append(
            {
                "appointment_id": f"YY-2026-{n:04d}",
                "uscc": uscc,
                "window_start": start.isoformat(),
                "window_end": (start + dt.timedelta(days=length)).isoformat(),
                "dept_ids": ";".join(sorted(str(d) for d in depts)),
                "topic": topics[int(rng.integers(len(topics)))],
                "direction": direction,
                "fold_due": bool(rng.random() < 0.6),
                "duration_min": int(rng.choice([45, 60, 90])),
                "min_inspectors": 2,
            }
        )
    columns = [
        "appointment_id",
        "uscc",
        "window_start",
        "window_end",
        "dept_ids",
        "topic",
        "direction",
        "fold_due",
        "duration_min",
        "min_inspectors",
    ]
    return pd.DataFrame(rows, columns=columns)


def _enterprise_frame(enterprises: _Enterprises) -> pd.DataFrame:
    return _frame(
        {
            "uscc": _text(enterprises.uscc),
            "name": _text(enterprises.name),
            "township": _text(enterprises.township),
            "lat": pd.Series(enterprises.lat, dtype="float64"),
            "lon": pd.Series(enterprises.lon, dtype="float64"),
            "industry": _text(enterprises.industry_text),
            "credit_tier": _text(enterprises.credit_tier),
            "positive_list": pd.Series(enterprises.positive_list, dtype=bool),
            "sandbox": pd.Series(enterprises.sandbox, dtype=bool),
            "observation_until": _text(enterprises.observation_until),
            "key_sector": _text(enterprises.key_sector),
        },
        ["uscc"],
    )


def _inspector_frame(inspectors: list[_Inspector]) -> pd.DataFrame:
    return _frame(
        {
            "inspector_id": _text(i.inspector_id for i in inspectors),
            "name": _text(i.name for i in inspectors),
            "dept_id": _text(i.dept_id for i in inspectors),
            "cert_no": _text(i.cert_no for i in inspectors),
            "delegated_depts": _text(i.delegated_depts for i in inspectors),
            "hours_per_day": pd.Series([i.hours_per_day for i in inspectors], dtype="float64"),
            "max_days": pd.Series([i.max_days for i in inspectors], dtype="Int64"),
        },
        ["inspector_id"],
    )


def _demand_frame(demands: list[_Demand], enterprises: _Enterprises) -> pd.DataFrame:
    """Task ids number each department's tasks in window order: ``SJ-2026-00001``."""
    ordered = sorted(
        demands,
        key=lambda d: (d.dept_id, d.window_start, d.window_end, enterprises.uscc[d.enterprise], d.item, d.kind),
    )
    serial: dict[str, int] = {}
    task_ids = []
    for demand in ordered:
        serial[demand.dept_id] = serial.get(demand.dept_id, 0) + 1
        task_ids.append(f"{demand.dept_id}-2026-{serial[demand.dept_id]:05d}")
    return _frame(
        {
            "task_id": _text(task_ids),
            "dept_id": _text(d.dept_id for d in ordered),
            "uscc": _text(enterprises.uscc[d.enterprise] for d in ordered),
            "item": _text(d.item for d in ordered),
            "kind": _text(d.kind for d in ordered),
            "window_start": _text(d.window_start for d in ordered),
            "window_end": _text(d.window_end for d in ordered),
            "duration_min": pd.Series([d.duration_min for d in ordered], dtype="int64"),
            "min_inspectors": pd.Series([d.min_inspectors for d in ordered], dtype="int64"),
            "delegable": pd.Series([d.delegable for d in ordered], dtype=bool),
            "priority": pd.Series([d.priority for d in ordered], dtype="int64"),
        },
        ["task_id"],
    )


def _sampling_frame(rows: list[dict]) -> pd.DataFrame:
    return _frame(
        {
            "plan_id": _text(r["plan_id"] for r in rows),
            "dept_id": _text(r["dept_id"] for r in rows),
            "item": _text(r["item"] for r in rows),
            "industries": _text(r["industries"] for r in rows),
            "tier": _text(r["tier"] for r in rows),
            "ratio": pd.Series([r["ratio"] for r in rows], dtype="float64"),
            "window_start": _text(r["window_start"] for r in rows),
            "window_end": _text(r["window_end"] for r in rows),
            "duration_min": pd.Series([r["duration_min"] for r in rows], dtype="int64"),
            "delegable": pd.Series([r["delegable"] for r in rows], dtype=bool),
            "joint_group": _text(r["joint_group"] for r in rows),
        },
        ["plan_id"],
    )


def _catalogue_frame(dept_ids) -> pd.DataFrame:
    """The items catalogue (检查事项清单) of the profile's departments, from item_catalogue.toml: drawn
    from no random stream, so the other tables of every profile and seed are what they were."""
    entries = [entry for entry in _TABLES.catalogue if entry.dept_id in set(dept_ids)]
    return _frame(
        {
            "dept_id": _text(e.dept_id for e in entries),
            "item": _text(e.item for e in entries),
            "check_points": _text(";".join(e.check_points) for e in entries),
            "legal_basis": _text(e.legal_basis for e in entries),
            "materials": _text(";".join(e.materials) or None for e in entries),
        },
        ["dept_id", "item"],
    )


def _toml_value(value) -> str:
    """A scalar or list as TOML writes it (strings as JSON writes them, which TOML reads alike)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def scenario_text(
    name: str,
    dataset: str,
    seed: int,
    keys: dict,
    description: str | None = None,
    tables: dict[str, dict] | None = None,
) -> str:
    """A calendar-year-2026 scenario file: ``keys`` as ``ScenarioKeys.as_keys`` nests them
    (a dict value is a table such as ``[staff]``), then ``tables`` (such as ``[solver]``)."""
    lines = [f"name = {_toml_value(name)}"]
    if description:
        lines.append(f"description = {_toml_value(description)}")
    lines += [f"dataset = {_toml_value(dataset)}", f"seed = {seed}"]
    lines += [f"{key} = {_toml_value(value)}" for key, value in keys.items() if not isinstance(value, dict)]
    lines += ["[horizon]", "start = 2026-01-01", "end = 2026-12-31"]
    for table, values in [*((k, v) for k, v in keys.items() if isinstance(v, dict)), *(tables or {}).items()]:
        lines += [f"[{table}]", *(f"{key} = {_toml_value(value)}" for key, value in values.items())]
    return "\n".join(lines) + "\n"


#: the scenario file ``planner demo-data`` writes beside the tables of a profile with scenario keys
SCENARIO_FILE = "scenario.toml"


def write_profile_scenario(folder: Path, profile: str, seed: int) -> Path | None:
    """``folder/scenario.toml``, ready to plan the profile's dataset in ``folder`` with its scenario
    keys, for a profile that has them (issue 14's hard profiles); None for the others, whose
    folder stays exactly the tables (the bundled sample county is one)."""
    sizes = PROFILES[profile]
    keys = sizes.scenario.as_keys()
    if not keys:
        return None
    path = Path(folder) / SCENARIO_FILE
    path.write_text(
        scenario_text(f"generated {profile} county, seed {seed}", ".", seed, keys, sizes.summary or None),
        encoding="utf-8",
    )
    return path


def _digest(task_id: str) -> bytes:
    """Sixteen bytes drawn from a task's id: its generated fate, the same whenever it is drawn."""
    return hashlib.blake2b(task_id.encode(), digest_size=16).digest()


def generate_actuals(
    tasks: pd.DataFrame,
    visits: pd.DataFrame,
    visit_tasks: pd.DataFrame,
    crews: pd.DataFrame,
    as_of: dt.date,
    seed: int,
    n_new: int = 50,
    n_leave: int = 5,
    results: bool = False,
) -> dict[str, pd.DataFrame]:
    """Realistic actuals one step into a plan (for demos and tests of ``planner reoptimize``).

    Of the tasks planned before ``as_of``: about 3 % failed (the visit did not happen), 1 %
    cancelled, the rest done on their planned date (explicit rows for most, none for some — the
    contract reads a missing row as done). One enterprise with a later visit closes. ``n_new``
    complaint tasks (投诉举报) arrive at enterprises already in the plan, due within two weeks
    or so, and ``n_leave`` inspectors who have crew-days in the next month take a fortnight off.
    With ``results``, every explicit done row has its result: 70 % clear (未发现问题), 20 %
    rectify (责令整改, a deadline 15–45 days after the check), 8 % case (立案查处), 2 % redline —
    drawn from the task's id, so a later month's actuals report the same result for the same check.
    """
    rng = np.random.default_rng([int(seed), 7331])
    placed = visit_tasks[["task_id", "visit_id"]].merge(visits[["visit_id", "date", "uscc"]], on="visit_id")
    placed["date"] = pd.to_datetime(placed["date"]).dt.date
    before = placed[placed["date"] < as_of].sort_values("task_id").reset_index(drop=True)
    draw = rng.random(len(before))
    if results:  # a check's fate, like its result, is a fact of the check: the same in every month's actuals
        draw = np.array([int.from_bytes(_digest(t)[8:12], "big") / 2**32 for t in before["task_id"]])
    status = np.where(draw < 0.03, "failed", np.where(draw < 0.04, "cancelled", "done"))
    explicit = rng.random(len(before)) < 0.8
    outcomes = pd.DataFrame(
        {
            "task_id": before["task_id"],
            "status": status,
            "date": [d if s == "done" else None for d, s in zip(before["date"], status)],
        }
    )
    if results:
        # a check's result is a fact of that check: the same whatever month's actuals report it
        draws = [_digest(t) for t in outcomes["task_id"]]
        roll = np.array([int.from_bytes(d[:4], "big") / 2**32 for d in draws])
        days = [15 + int.from_bytes(d[4:8], "big") % 31 for d in draws]
        result = np.where(
            roll < 0.7, "clear", np.where(roll < 0.9, "rectify", np.where(roll < 0.98, "case", "redline"))
        )
        result = np.where(outcomes["status"] == "done", result, None)
        deadline = [
            d + dt.timedelta(days=n) if r == "rectify" else None for d, r, n in zip(outcomes["date"], result, days)
        ]
        outcomes = outcomes.assign(result=result, rectify_by=deadline)
    outcomes = outcomes[(status != "done") | explicit]
    later = placed[placed["date"] >= as_of + dt.timedelta(days=30)]
    closing = sorted(set(later["uscc"]))[int(rng.integers(len(set(later["uscc"]))))] if len(later) else None
    if closing is not None:
        first_task = sorted(tasks.loc[tasks["uscc"] == closing, "task_id"])[0]
        outcomes = pd.concat(
            [
                outcomes[outcomes["task_id"] != first_task],
                pd.DataFrame({"task_id": [first_task], "status": ["closed"], "date": [None]}),
            ]
        )
    demand_pool = tasks[tasks["plan_id"].isna()].drop_duplicates(["dept_id", "uscc"]).sort_values("task_id")
    demand_pool = demand_pool[demand_pool["uscc"] != closing]
    picked = demand_pool.iloc[np.sort(rng.choice(len(demand_pool), size=min(n_new, len(demand_pool)), replace=False))]
    starts = [as_of + dt.timedelta(days=int(d)) for d in rng.integers(0, 10, len(picked))]
    demands = pd.DataFrame(
        {
            "task_id": [f"{d}-{as_of:%Y%m}-T{n:03d}" for n, d in enumerate(picked["dept_id"], start=1)],
            "dept_id": picked["dept_id"].to_numpy(),
            "uscc": picked["uscc"].to_numpy(),
            "item": picked["item"].to_numpy(),
            "kind": "triggered",
            "window_start": starts,
            "window_end": [s + dt.timedelta(days=14) for s in starts],
            "duration_min": rng.choice([60, 90, 120], len(picked)),
            "min_inspectors": 2,
            "delegable": False,
            "priority": 3,
        }
    )
    soon = crews[
        (pd.to_datetime(crews["date"]).dt.date >= as_of)
        & (pd.to_datetime(crews["date"]).dt.date < as_of + dt.timedelta(days=30))
    ]
    people = sorted(set(soon["inspector_id"]))
    away = [people[i] for i in np.sort(rng.choice(len(people), size=min(n_leave, len(people)), replace=False))]
    leave = pd.DataFrame(
        {"inspector_id": away, "start": as_of + dt.timedelta(days=3), "end": as_of + dt.timedelta(days=16)}
    )
    return {"outcomes": outcomes.sort_values("task_id").reset_index(drop=True), "demands": demands, "leave": leave}
