"""The route layer: Solomon reading and costing, PyVRP and OR-Tools solutions checked independently, crew-day orders."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner import routing
from planner.routing import (
    SCALE,
    bench_routing,
    family_of,
    gap_pct,
    instance_names,
    order_stops,
    read_bks,
    read_solomon,
    read_solution,
    render_routing,
    route_problems,
    routes_distance,
    solve_vrptw,
    summarise_routing,
    travel_minutes,
)

SOLOMON = Path(__file__).resolve().parents[1] / "benchmarks" / "solomon"  # a copy of ../shared/benchmarks/solomon
needs_solomon = pytest.mark.skipif(not (SOLOMON / "bks.csv").exists(), reason=f"no Solomon instances at {SOLOMON}")


def float_distance(instance, routes) -> int:
    """Scaled distance of routes recomputed from the coordinates in floating point, not from the matrix."""
    total = 0
    for route in routes:
        path = [0, *route, 0]
        for a, b in zip(path, path[1:]):
            dx, dy = instance.x[a] - instance.x[b], instance.y[a] - instance.y[b]
            total += math.floor(SCALE * math.hypot(dx, dy) + 1e-9)
    return total


def first_customers(name: str, count: int, folder: Path) -> Path:
    """A smaller Solomon file: the depot and the first ``count`` customers of ``name``."""
    lines = (SOLOMON / f"{name}.txt").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] == ["0"])
    path = folder / f"{name}.txt"
    path.write_text("\n".join(lines[: at + 1 + count]) + "\n")
    return path


@needs_solomon
def test_reads_a_solomon_file():
    """C101: 100 customers, capacity 200, a 25-vehicle fleet, the depot at (40, 50) open until 1236."""
    c101 = read_solomon(SOLOMON / "C101.txt")
    assert (c101.name, c101.customers, c101.capacity, c101.fleet) == ("C101", 100, 200, 25)
    assert (c101.x[0], c101.y[0], c101.due[0]) == (40, 50, 1236)
    assert (c101.demand[1], c101.ready[1], c101.due[1], c101.service[1]) == (10, 912, 967, 90)
    assert c101.distance[0, 1] == math.isqrt(100 * (5**2 + 18**2)) == 186  # 18.68… → 18.6
    assert c101.family == "C1"


@needs_solomon
def test_best_known_routes_cost_their_dist_trunc1_with_zero_gap():
    """Every .sol file's routes are feasible, cost what the file states and bks.csv lists, at 0.00 % gap."""
    bks = read_bks(SOLOMON)
    names = instance_names(SOLOMON)
    assert len(names) == 56 and names[0] == "C101" and names[-1] == "RC208"
    for name in names:
        instance = read_solomon(SOLOMON / f"{name}.txt")
        routes, cost = read_solution(SOLOMON / f"{name}.sol")
        assert route_problems(instance, routes) == [], name
        assert routes_distance(instance, routes) == float_distance(instance, routes) == round(cost * SCALE), name
        assert cost == bks[name]["dist_trunc1"] and len(routes) == bks[name]["dist_trunc1_vehicles"], name
        assert gap_pct(routes_distance(instance, routes), bks[name]["dist_trunc1"]) == 0.0


def test_gap_arithmetic():
    """The gap is measured in scaled integers against the best-known value × 10."""
    assert gap_pct(8273, 827.3) == 0.0
    assert gap_pct(8356, 827.3) == pytest.approx(100 * 83 / 8273)
    assert gap_pct(14666, 1466.6) == 0.0


@needs_solomon
def test_checker_names_each_broken_rule():
    """The independent checker flags a missing customer, a late service, an overload and a late return."""
    instance = read_solomon(SOLOMON / "C101.txt")
    routes, _ = read_solution(SOLOMON / "C101.sol")
    assert route_problems(instance, [routes[0][1:], *routes[1:]]) == [f"customer {routes[0][0]} not visited"]
    late = [routes[0][::-1], *routes[1:]]
    assert any("served at" in p for p in route_problems(instance, late))
    merged = [routes[0] + routes[1], *routes[2:]]
    assert any("load" in p for p in route_problems(instance, merged))
    assert route_problems(instance, [*routes, [routes[0][0]]]) == [f"customer {routes[0][0]} visited more than once"]


@needs_solomon
@pytest.mark.parametrize("name", ["R101", "RC208"])
def test_pyvrp_routes_are_feasible_and_costed_as_recomputed(name):
    """A short PyVRP run: every customer once within its window and capacity; its cost is its routes' distance."""
    instance = read_solomon(SOLOMON / f"{name}.txt")
    solution = solve_vrptw(instance, "pyvrp", seconds=None, iterations=200, seed=1)
    assert route_problems(instance, solution.routes) == []
    assert solution.distance == routes_distance(instance, solution.routes) == float_distance(instance, solution.routes)
    assert solution.cost == solution.distance / SCALE
    assert solution.cost >= read_bks(SOLOMON)[name]["dist_trunc1"]  # the optimum, proven


@needs_solomon
def test_pyvrp_same_seed_and_iterations_same_routes():
    """Stopped by iterations, PyVRP is reproducible: same seed, same routes."""
    instance = read_solomon(SOLOMON / "R201.txt")
    first = solve_vrptw(instance, seconds=None, iterations=100, seed=5)
    again = solve_vrptw(instance, seconds=None, iterations=100, seed=5)
    assert first.routes == again.routes and first.distance == again.distance


@needs_solomon
def test_ortools_baseline_is_feasible_on_a_small_instance(tmp_path):
    """OR-Tools routing on the first 25 customers of R101 for half a second: feasible, costed as its routes."""
    instance = read_solomon(first_customers("R101", 25, tmp_path))
    assert instance.customers == 25
    baseline = solve_vrptw(instance, "ortools", seconds=0.5)
    engine = solve_vrptw(instance, "pyvrp", seconds=None, iterations=300)
    for solution in (baseline, engine):
        assert route_problems(instance, solution.routes) == []
        assert solution.distance == float_distance(instance, solution.routes)


def test_unknown_engine_is_an_error():
    """An engine other than pyvrp or ortools is refused by name."""
    with pytest.raises(ValueError, match="unknown engine"):
        solve_vrptw(None, "gurobi")


@needs_solomon
def test_bench_rows_summary_and_table():
    """bench_routing gives one row per instance and engine; the summary and the table follow from them."""
    rows = bench_routing(SOLOMON, seconds=0.5, names=["C101"])
    assert [(r["name"], r["engine"]) for r in rows] == [("C101", "pyvrp"), ("C101", "ortools")]
    for row in rows:
        assert row["bks"] == 827.3 and row["problems"] == [] and row["family"] == "C1"
        assert row["gap_pct"] == pytest.approx(100 * (row["cost"] - 827.3) / 827.3)
    summary = summarise_routing(rows)
    assert [(s["engine"], s["family"]) for s in summary] == [
        ("pyvrp", "C1"),
        ("pyvrp", "all"),
        ("ortools", "C1"),
        ("ortools", "all"),
    ]
    assert summary[1]["mean_gap_pct"] == rows[0]["gap_pct"] and summary[1]["worst"] == "C101"
    table = render_routing(rows)
    assert table.row_count == 1 + 2  # C101, then C1 and overall means


def test_family_names():
    """Instance names map to the six Solomon families."""
    assert [family_of(n) for n in ("C101", "C208", "R112", "R211", "RC101", "RC208")] == [
        "C1",
        "C2",
        "R1",
        "R2",
        "RC1",
        "RC2",
    ]
    with pytest.raises(ValueError):
        family_of("X-n101-k25")


# --------------------------------------------------------------------------------------------
# Crew-day orders


def random_minutes(rng: random.Random, points: list, symmetric: bool):
    """Whole minutes between points: ceil of distance on a plane, or arbitrary (asymmetric) values."""
    where = {p: (rng.uniform(0, 40), rng.uniform(0, 40)) for p in points}
    if symmetric:
        return lambda a, b: 0 if a == b else math.ceil(math.dist(where[a], where[b]))
    table = {(a, b): rng.randint(1, 30) for a in points for b in points if a != b}
    return lambda a, b: 0 if a == b else table[a, b]


def brute_force(station, stops, minutes):
    """Least travel over all orders, ties to the smallest sequence of stops."""
    return list(min(itertools.permutations(sorted(stops)), key=lambda o: (travel_minutes(station, o, minutes), o)))


@settings(max_examples=40, deadline=None)
@given(count=st.integers(0, 7), seed=st.integers(0, 10**6), symmetric=st.booleans())
def test_exact_order_matches_brute_force(count, seed, symmetric):
    """Up to 7 stops, order_stops returns the brute-force optimum, ties included."""
    rng = random.Random(seed)
    stops = rng.sample(range(1, 50), count)
    minutes = random_minutes(rng, ["station", *stops], symmetric)
    assert order_stops("station", stops, minutes) == brute_force("station", stops, minutes)


def test_ties_follow_the_tie_key():
    """All orders equal: the order of the tie key wins, whatever order the stops came in."""
    stops = ["b", "c", "a"]
    assert order_stops("s", stops, lambda a, b: 1) == ["a", "b", "c"]
    assert order_stops("s", stops, lambda a, b: 1, tie_key=lambda s: -ord(s)) == ["c", "b", "a"]


@pytest.mark.parametrize("count", [8, 9, 10, 11, 12])
def test_exact_order_is_never_beaten_by_pyvrp(count, monkeypatch):
    """8–12 stops: PyVRP's order is never longer than the given one nor shorter than the exact one."""
    rng = random.Random(count)
    stops = list(range(1, count + 1))
    rng.shuffle(stops)
    minutes = random_minutes(rng, ["station", *stops], symmetric=count % 2 == 0)
    with monkeypatch.context() as patch:
        patch.setattr(routing, "EXACT_ORDER_STOPS", 20)
        exact = order_stops("station", stops, minutes)
    monkeypatch.setattr(routing, "EXACT_ORDER_STOPS", 3)
    found = order_stops("station", stops, minutes, iterations=300)
    assert sorted(found) == sorted(stops)
    assert travel_minutes("station", exact, minutes) <= travel_minutes("station", found, minutes)
    assert travel_minutes("station", found, minutes) <= travel_minutes("station", stops, minutes)


@pytest.mark.parametrize("count", [11, 14, 25])
def test_pyvrp_order_is_deterministic_and_never_longer_than_given(count):
    """Beyond the exact limit: same stops, same order, and never longer than the order given."""
    rng = random.Random(100 + count)
    stops = [f"u{i}" for i in range(count)]
    minutes = random_minutes(rng, ["station", *stops], symmetric=True)
    found = order_stops("station", stops, minutes)
    assert sorted(found) == sorted(stops)
    assert travel_minutes("station", found, minutes) <= travel_minutes("station", stops, minutes)
    assert order_stops("station", stops[::-1], minutes) == found


def test_given_order_kept_when_it_is_best(monkeypatch):
    """On a line, going out and back is optimal; PyVRP's answer, or the order given, is no longer."""
    monkeypatch.setattr(routing, "EXACT_ORDER_STOPS", 0)
    stops = list(range(1, 13))
    minutes = lambda a, b: abs(a - b)  # noqa: E731 — the station is at 0
    best = order_stops(0, stops, minutes, iterations=50)
    assert travel_minutes(0, best, minutes) == 24 == travel_minutes(0, stops, minutes)


def test_duplicate_stops_are_refused():
    """A stop given twice is an error, not a silently shorter route."""
    with pytest.raises(ValueError, match="distinct"):
        order_stops("s", ["a", "a"], lambda a, b: 1)
