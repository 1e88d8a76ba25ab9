"""The route layer: vehicle routing with time windows (VRPTW) by PyVRP, and crew-day visiting orders.

PyVRP (iterated local search, ``pyvrp.solve``) is the routing engine: it orders the visits of a
crew-day in plans (``order_stops``) and it solves plain VRPTW, which is how it is benchmarked
(``bench_routing``) on Solomon's 56 instances of 100 customers against the exact best-known
values, side by side with OR-Tools routing as a baseline (``solve_ortools``).

Solomon conventions (``benchmarks/solomon/README.md``): Euclidean distances, travel time
equal to distance, service time at the customer, waiting allowed, a window bounds the start of
service, the depot's window bounds departure and return, the vehicle capacity from the file,
vehicle count free, distance only. ``dist_trunc1``: every distance and time is scaled by
``SCALE`` = 10 and truncated to an integer, which is how the branch-and-price optima in the
``.sol`` files were costed; solvers see those integers, costs are reported divided by 10.

Crew-day routes (``order_stops``) are a travelling-salesman path station → stops → station in
whole travel minutes: exact (Held–Karp) up to ``EXACT_ORDER_STOPS`` stops, PyVRP beyond it with
a fixed seed and a fixed number of iterations (no wall-clock stop, so a plan does not depend on
the machine), never longer than the order given.
"""

from __future__ import annotations

import csv
import math
import re
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

#: dist_trunc1: distances and times are multiplied by this and truncated to integers
SCALE = 10
#: crew-day routes up to this many stops are ordered exactly (Held–Karp); PyVRP beyond
EXACT_ORDER_STOPS = 10
#: PyVRP iterations for a crew-day route beyond EXACT_ORDER_STOPS stops (deterministic stop)
ORDER_ITERATIONS = 1_000
ORDER_SEED = 0
ENGINES = ("pyvrp", "ortools")
#: Solomon families, in the order the literature lists them
FAMILIES = ("C1", "C2", "R1", "R2", "RC1", "RC2")


# --------------------------------------------------------------------------------------------
# Solomon instances, best-known solutions and values


@dataclass(frozen=True)
class VrptwInstance:
    """A Solomon VRPTW instance. Index 0 is the depot, 1..n the customers; times and demands in
    the file's units; ``distance`` is the integer matrix the solvers see (×SCALE, truncated),
    also the travel times."""

    name: str
    capacity: int
    fleet: int  # the file's vehicle number; the benchmark leaves the count free
    x: tuple[int, ...]
    y: tuple[int, ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]
    distance: np.ndarray

    @property
    def customers(self) -> int:
        return len(self.x) - 1

    @property
    def family(self) -> str:
        return family_of(self.name)


def family_of(name: str) -> str:
    """Solomon family of an instance name: ``RC208`` → ``RC2``."""
    match = re.fullmatch(r"([A-Z]+)(\d)\d\d", name.upper())
    if not match:
        raise ValueError(f"not a Solomon instance name: {name!r}")
    return match[1] + match[2]


def truncated_distances(x: Sequence[int], y: Sequence[int], scale: int = SCALE) -> np.ndarray:
    """Euclidean distances × ``scale``, truncated, for integer coordinates: exact integer
    arithmetic (``isqrt``), so no float ever rounds a distance across an integer."""
    n = len(x)
    matrix = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(i + 1, n):
            squared = (x[i] - x[j]) ** 2 + (y[i] - y[j]) ** 2
            matrix[i, j] = matrix[j, i] = math.isqrt(scale * scale * squared)
    return matrix


def read_solomon(path: str | Path) -> VrptwInstance:
    """A Solomon text file (``C101.txt``): name, vehicle number and capacity, then one row per
    location — number, x, y, demand, ready time, due date, service time — depot first."""
    path = Path(path)
    lines = [line.split() for line in path.read_text().splitlines()]
    lines = [fields for fields in lines if fields]
    name = lines[0][0]
    at = next(i for i, fields in enumerate(lines) if fields[0].upper() == "NUMBER")
    fleet, capacity = int(lines[at + 1][0]), int(lines[at + 1][1])
    rows = [list(map(int, map(float, fields))) for fields in lines[at + 2 :] if fields[0].isdigit()]
    if [row[0] for row in rows] != list(range(len(rows))) or any(len(row) != 7 for row in rows):
        raise ValueError(f"{path}: expected rows 0..n of 7 numbers after the vehicle section")
    _, x, y, demand, ready, due, service = (tuple(column) for column in zip(*rows))
    return VrptwInstance(name, capacity, fleet, x, y, demand, ready, due, service, truncated_distances(x, y))


def read_solution(path: str | Path) -> tuple[list[list[int]], float]:
    """A ``.sol`` file: the routes (customer numbers in visiting order, depot left out) and the
    cost it states."""
    routes, cost = [], math.nan
    for line in Path(path).read_text().splitlines():
        if line.lower().startswith("route"):
            routes.append([int(c) for c in line.split(":", 1)[1].split()])
        elif line.lower().startswith("cost"):
            cost = float(line.split()[1])
    return routes, cost


def read_bks(folder: str | Path) -> dict[str, dict[str, float]]:
    """``bks.csv``: instance name → its best-known values (``dist_trunc1``, ``dist_trunc1_vehicles``,
    ``dist_double``, …; see the README next to it for which is which)."""
    with open(Path(folder) / "bks.csv", newline="") as handle:
        return {row.pop("instance"): {k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)}


def instance_names(folder: str | Path) -> list[str]:
    """The instances in a folder, in the literature's order (C1, C2, R1, R2, RC1, RC2)."""
    names = [p.stem for p in Path(folder).glob("*.txt")]
    return sorted(names, key=lambda n: (FAMILIES.index(family_of(n)), n))


# --------------------------------------------------------------------------------------------
# Solutions: value, independent check, solvers


@dataclass(frozen=True)
class VrptwSolution:
    """Routes of one solve: customer numbers in visiting order (depot left out), distance in
    scaled integers (``distance``) and in the file's units (``cost`` = distance / SCALE)."""

    engine: str
    routes: list[list[int]]
    distance: int
    seconds: float
    iterations: int | None = None

    @property
    def cost(self) -> float:
        return self.distance / SCALE

    @property
    def vehicles(self) -> int:
        return len(self.routes)


def routes_distance(instance: VrptwInstance, routes: Iterable[Sequence[int]]) -> int:
    """Total distance of routes in scaled integers: depot → customers → depot each."""
    d = instance.distance
    return int(sum(sum(d[a, b] for a, b in zip([0, *r], [*r, 0])) for r in routes if r))


def route_problems(instance: VrptwInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    """Every broken rule of a VRPTW solution, in words (empty: feasible). Independent of the
    solvers: each customer exactly once; load within capacity; service starts within the window
    (waiting allowed); back at the depot by its due date. Times in scaled integers."""
    problems = []
    seen = [c for r in routes for c in r]
    missing = sorted(set(range(1, instance.customers + 1)) - set(seen))
    twice = sorted({c for c in seen if seen.count(c) > 1})
    unknown = sorted({c for c in seen if not 1 <= c <= instance.customers})
    problems += [f"customer {c} not visited" for c in missing]
    problems += [f"customer {c} visited more than once" for c in twice]
    problems += [f"no customer {c}" for c in unknown]
    if unknown:
        return problems
    d = instance.distance
    for number, route in enumerate(routes, 1):
        load = sum(instance.demand[c] for c in route)
        if load > instance.capacity:
            problems.append(f"route {number}: load {load} > capacity {instance.capacity}")
        clock, here = SCALE * instance.ready[0], 0
        for c in route:
            clock = max(clock + int(d[here, c]), SCALE * instance.ready[c])
            if clock > SCALE * instance.due[c]:
                problems.append(f"route {number}: customer {c} served at {clock / SCALE} > due {instance.due[c]}")
            clock, here = clock + SCALE * instance.service[c], c
        back = clock + int(d[here, 0])
        if back > SCALE * instance.due[0]:
            problems.append(f"route {number}: back at the depot at {back / SCALE} > {instance.due[0]}")
    return problems


def pyvrp_data(instance: VrptwInstance):
    """The instance as PyVRP problem data: one vehicle type, as many vehicles as customers (count
    free), no fixed cost, the depot's window on the vehicles, scaled integer times."""
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType

    s = SCALE
    locations = [Location(x=float(a), y=float(b)) for a, b in zip(instance.x, instance.y)]
    clients = [
        Client(
            location=c,
            delivery=[instance.demand[c]],
            service_duration=s * instance.service[c],
            tw_early=s * instance.ready[c],
            tw_late=s * instance.due[c],
        )
        for c in range(1, instance.customers + 1)
    ]
    vehicles = VehicleType(
        num_available=instance.customers,
        capacity=[instance.capacity],
        tw_early=s * instance.ready[0],
        tw_late=s * instance.due[0],
    )
    return ProblemData(locations, clients, [Depot(location=0)], [vehicles], [instance.distance], [instance.distance])


def _pyvrp_stop(seconds: float | None, iterations: int | None):
    from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

    criteria = [MaxRuntime(seconds)] if seconds is not None else []
    criteria += [MaxIterations(iterations)] if iterations is not None else []
    if not criteria:
        raise ValueError("give seconds, iterations or both")
    return criteria[0] if len(criteria) == 1 else MultipleCriteria(criteria)


def _client_routes(solution) -> list[list[int]]:
    """PyVRP routes as location numbers of their clients, in visiting order."""
    return [[a.idx + 1 for a in route if a.is_client()] for route in solution.routes()]


def solve_pyvrp(
    instance: VrptwInstance, *, seconds: float | None = None, iterations: int | None = None, seed: int = 0
) -> VrptwSolution:
    """PyVRP on the instance, stopped after ``seconds`` (benchmark) or ``iterations``
    (deterministic: same seed and iterations, same routes), whichever comes first."""
    import pyvrp

    clock = time.perf_counter()
    result = pyvrp.solve(pyvrp_data(instance), _pyvrp_stop(seconds, iterations), seed=seed, collect_stats=False)
    elapsed = time.perf_counter() - clock
    if not result.is_feasible():
        raise RuntimeError(f"{instance.name}: PyVRP found no feasible solution")
    routes = _client_routes(result.best)
    return VrptwSolution("pyvrp", routes, int(result.best.distance()), elapsed, result.num_iterations)


def solve_ortools(instance: VrptwInstance, *, seconds: float = 10.0) -> VrptwSolution:
    """OR-Tools routing as a plain baseline: PATH_CHEAPEST_ARC then guided local search for
    ``seconds``, on the same integer matrix, one vehicle per customer at no fixed cost."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    s, n = SCALE, instance.customers
    manager = pywrapcp.RoutingIndexManager(n + 1, n, 0)
    routing = pywrapcp.RoutingModel(manager)
    distance = instance.distance.tolist()
    arc = routing.RegisterTransitMatrix(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    # time of an arc: service at its tail, then travel
    travel = routing.RegisterTransitMatrix(
        [[s * instance.service[i] + t for t in row] for i, row in enumerate(distance)]
    )
    horizon = s * instance.due[0]
    routing.AddDimension(travel, horizon, horizon, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for c in range(1, n + 1):
        clock.CumulVar(manager.NodeToIndex(c)).SetRange(s * instance.ready[c], s * instance.due[c])
    for v in range(n):
        clock.CumulVar(routing.Start(v)).SetRange(s * instance.ready[0], horizon)
        clock.CumulVar(routing.End(v)).SetRange(s * instance.ready[0], horizon)
    load = routing.RegisterUnaryTransitVector(list(instance.demand))
    routing.AddDimensionWithVehicleCapacity(load, 0, [instance.capacity] * n, True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    start = time.perf_counter()
    assignment = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - start
    if assignment is None:
        raise RuntimeError(f"{instance.name}: OR-Tools found no solution in {seconds} s")
    routes = []
    for v in range(n):
        index, route = assignment.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return VrptwSolution("ortools", routes, routes_distance(instance, routes), elapsed)


def solve_vrptw(
    instance: VrptwInstance,
    engine: str = "pyvrp",
    *,
    seconds: float | None = 10.0,
    iterations: int | None = None,
    seed: int = 0,
) -> VrptwSolution:
    """Solve a VRPTW instance (distance only, vehicle count free) with ``engine``: ``pyvrp`` (the
    planner's engine; by ``seconds`` and/or ``iterations``, seeded) or ``ortools`` (baseline,
    by ``seconds`` only)."""
    if engine == "pyvrp":
        return solve_pyvrp(instance, seconds=seconds, iterations=iterations, seed=seed)
    if engine == "ortools":
        if seconds is None:
            raise ValueError("OR-Tools routing stops by time only: give seconds")
        return solve_ortools(instance, seconds=seconds)
    raise ValueError(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")


# --------------------------------------------------------------------------------------------
# Crew-day routes


def travel_minutes(station: Hashable, order: Sequence[Hashable], minutes: Callable[[Any, Any], int]) -> int:
    """Travel of a crew-day route: station → stops in ``order`` → station, in whole minutes."""
    path = [station, *order, station] if order else []
    return sum(minutes(a, b) for a, b in zip(path, path[1:]))


def order_stops(
    station: Hashable,
    stops: Sequence[Hashable],
    minutes: Callable[[Any, Any], int],
    *,
    tie_key: Callable[[Any], Any] | None = None,
    seed: int = ORDER_SEED,
    iterations: int = ORDER_ITERATIONS,
) -> list:
    """The order of ``stops`` with least travel from ``station`` back to it.

    ``minutes(a, b)`` gives whole travel minutes between any two of station and stops (need not
    be symmetric). On-site minutes are the same in every order, so they do not enter. Up to
    ``EXACT_ORDER_STOPS`` stops the order is optimal, and among optimal orders the one whose
    ``tie_key`` sequence (default: the stops themselves, which must then be orderable) is
    smallest. Beyond, PyVRP with ``seed`` and ``iterations`` (deterministic), and the given
    order when PyVRP's is not shorter: never longer than ``stops`` as given.
    """
    key = tie_key or (lambda stop: stop)
    if len(set(stops)) != len(stops):
        raise ValueError("stops must be distinct")
    if len(stops) <= 1:
        return list(stops)
    ordered = sorted(stops, key=key)  # same set, same answer, whatever order it came in
    if len(stops) <= EXACT_ORDER_STOPS:
        return _held_karp(station, ordered, minutes)
    found = _pyvrp_order(station, ordered, minutes, seed=seed, iterations=iterations)
    candidates = [found, found[::-1], list(stops)]
    return min(candidates, key=lambda o: (travel_minutes(station, o, minutes), [key(s) for s in o]))


def _held_karp(station: Hashable, stops: list, minutes: Callable[[Any, Any], int]) -> list:
    """Least-travel order by dynamic programming over subsets; ties go to the first stop in
    ``stops`` at each step, so the order's index sequence is the smallest optimal one."""
    n = len(stops)
    between = [[minutes(a, b) for b in stops] for a in stops]
    home = [minutes(s, station) for s in stops]
    # rest[subset][j]: least travel from stop j through every stop of subset (j not in it) home
    rest = [[0] * n for _ in range(1 << n)]
    for subset in range(1 << n):
        members = [k for k in range(n) if subset >> k & 1]
        for j in range(n):
            if not subset >> j & 1:
                rest[subset][j] = min((between[j][k] + rest[subset ^ 1 << k][k] for k in members), default=home[j])
    order, left, leg = [], (1 << n) - 1, [minutes(station, s) for s in stops]
    while left:
        nxt = min((k for k in range(n) if left >> k & 1), key=lambda k: (leg[k] + rest[left ^ 1 << k][k], k))
        order.append(nxt)
        left ^= 1 << nxt
        leg = between[nxt]
    return [stops[k] for k in order]


def _pyvrp_order(
    station: Hashable, stops: list, minutes: Callable[[Any, Any], int], *, seed: int, iterations: int
) -> list:
    """PyVRP on the crew-day as a one-vehicle problem: station depot, stops clients, minutes as
    both distance and duration; stopped by iterations only."""
    import pyvrp
    from pyvrp import Client, Depot, Location, ProblemData, VehicleType
    from pyvrp.stop import MaxIterations

    points = [station, *stops]
    matrix = np.array([[0 if a == b else minutes(a, b) for b in points] for a in points], dtype=np.int64)
    data = ProblemData(
        [Location(x=0.0, y=0.0) for _ in points],
        [Client(location=i) for i in range(1, len(points))],
        [Depot(location=0)],
        [VehicleType(num_available=1)],
        [matrix],
        [matrix],
    )
    result = pyvrp.solve(data, MaxIterations(iterations), seed=seed, collect_stats=False)
    (route,) = _client_routes(result.best)
    return [points[i] for i in route]


# --------------------------------------------------------------------------------------------
# Benchmark: Solomon, gap to dist_trunc1


def gap_pct(distance: int, best_known: float) -> float:
    """Gap of a scaled integer distance to a best-known value in the file's units, in per cent."""
    reference = round(best_known * SCALE)
    return 100.0 * (distance - reference) / reference


def bench_routing(
    folder: str | Path,
    seconds: float = 10.0,
    engines: Sequence[str] = ENGINES,
    names: Sequence[str] | None = None,
    seed: int = 0,
    on_row: Callable[[dict], None] | None = None,
) -> list[dict]:
    """Each Solomon instance in ``folder`` (or those ``names``) solved by each engine for
    ``seconds``: one row per instance and engine — name, family, engine, cost (file units),
    bks (``dist_trunc1``), gap %, vehicles and the best-known solution's, seconds, and the
    broken rules of the routes (``problems``, empty when feasible) by ``route_problems``.
    ``on_row`` sees every row as soon as it is measured."""
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise ValueError(f"unknown engine(s) {', '.join(unknown)}: one of {', '.join(ENGINES)}")
    bks = read_bks(folder)
    rows = []
    for name in names or instance_names(folder):
        instance = read_solomon(Path(folder) / f"{name}.txt")
        for engine in engines:
            solution = solve_vrptw(instance, engine, seconds=seconds, seed=seed)
            best = bks[instance.name]
            row = {
                "name": instance.name,
                "family": instance.family,
                "engine": engine,
                "cost": solution.cost,
                "bks": best["dist_trunc1"],
                "gap_pct": gap_pct(solution.distance, best["dist_trunc1"]),
                "vehicles": solution.vehicles,
                "bks_vehicles": int(best["dist_trunc1_vehicles"]),
                "seconds": round(solution.seconds, 2),
                "iterations": solution.iterations,
                "problems": route_problems(instance, solution.routes),
            }
            rows.append(row)
            if on_row:
                on_row(row)
    return rows


def summarise_routing(rows: Sequence[dict]) -> list[dict]:
    """Per engine, per family then overall (``family`` = ``all``): instances, mean and worst gap
    (%), the worst instance, how many at 0.00 %, mean extra vehicles, infeasible runs."""
    summary = []
    for engine in dict.fromkeys(r["engine"] for r in rows):
        mine = [r for r in rows if r["engine"] == engine]
        groups = {f: [r for r in mine if r["family"] == f] for f in FAMILIES} | {"all": mine}
        for family, group in groups.items():
            if not group:
                continue
            worst = max(group, key=lambda r: r["gap_pct"])
            summary.append(
                {
                    "engine": engine,
                    "family": family,
                    "instances": len(group),
                    "mean_gap_pct": sum(r["gap_pct"] for r in group) / len(group),
                    "max_gap_pct": worst["gap_pct"],
                    "worst": worst["name"],
                    "at_bks": sum(r["gap_pct"] <= 0.0 for r in group),
                    "extra_vehicles": sum(r["vehicles"] - r["bks_vehicles"] for r in group) / len(group),
                    "infeasible": sum(bool(r["problems"]) for r in group),
                }
            )
    return summary


def render_routing(rows: Sequence[dict]):
    """A rich Table: per instance, cost, gap to dist_trunc1 and vehicles for each engine (``!``:
    routes that break a rule); then per family and overall, instances at the best-known value,
    mean gap and mean vehicles over the best-known solution's. Two engines fit 80 columns, no cell
    wraps (a pipe or a small window gets every value whole)."""
    from rich import box
    from rich.table import Table

    engines = list(dict.fromkeys(r["engine"] for r in rows))
    table = Table(
        title="Solomon VRPTW: gap to dist_trunc1 (×10 truncated distance)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("instance", no_wrap=True)
    table.add_column("bks/veh", justify="right", no_wrap=True)
    for engine in engines:
        table.add_column(f"{engine}\ncost", justify="right", no_wrap=True)
        table.add_column("gap %", justify="right", no_wrap=True)
        table.add_column("veh", justify="right", no_wrap=True)
    by_name: dict[str, dict[str, dict]] = {}
    for r in rows:
        by_name.setdefault(r["name"], {})[r["engine"]] = r
    for name, cells in by_name.items():
        first = next(iter(cells.values()))
        line = [name, f"{first['bks']:.1f}/{first['bks_vehicles']}"]
        for engine in engines:
            r = cells.get(engine)
            flag = " !" if r and r["problems"] else ""
            line += [f"{r['cost']:.1f}{flag}", f"{r['gap_pct']:+.2f}", str(r["vehicles"])] if r else ["", "", ""]
        table.add_row(*line)
    table.add_section()
    summary = {(s["engine"], s["family"]): s for s in summarise_routing(rows)}
    for family in [*FAMILIES, "all"]:
        if not any((e, family) in summary for e in engines):
            continue
        line = [f"{family} mean", "at bks:"]
        for engine in engines:
            s = summary.get((engine, family))
            line += (
                [f"{s['at_bks']}/{s['instances']}", f"{s['mean_gap_pct']:+.2f}", f"{s['extra_vehicles']:+.1f}"]
                if s
                else ["", "", ""]
            )
        table.add_row(*line, style="bold" if family == "all" else None)
    return table


def engine_versions() -> dict[str, str]:
    """Versions of the routing engines, for benchmark records."""
    from importlib.metadata import version

    return {engine: version(engine) for engine in ENGINES}
