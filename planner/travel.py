"""Travel times between stations and enterprises.

Model (defaults in the scenario's ``[travel]`` table): great-circle distance × a detour factor
for the road network, driven at a constant road speed, rounded up to whole minutes. With the
defaults — detour 1.3, 30 km/h, typical of county roads with village lanes and stops — 10 km
as the crow flies takes 26 minutes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from planner.dataset import Dataset
    from planner.scenario import Scenario

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def great_circle_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Haversine distance in km between points given in degrees (arrays broadcast)."""
    lat1, lon1, lat2, lon2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def travel_minutes(lat: np.ndarray, lon: np.ndarray, detour_factor: float, speed_kmh: float) -> np.ndarray:
    """Square matrix of whole travel minutes between the points (lat[i], lon[i])."""
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    km = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    return np.ceil(np.round(km * detour_factor / speed_kmh * 60, 9)).astype(np.int64)


class TravelTimes:
    """Whole minutes between stations and enterprises under the scenario's travel model.

    A crew stays in its township, so the minutes are kept per township as one dense matrix
    (int16), computed in a single vectorised pass the first time the township is asked for:
    about 85 MB for 100 k enterprises in 300 townships, where a dict of the pairs asked for took
    some 430 MB. Pairs across townships are computed one at a time and kept in a dict."""

    def __init__(self, dataset: Dataset, scenario: Scenario):
        enterprises, townships = dataset.enterprises, dataset.townships
        names = [*enterprises["uscc"], *("station:" + townships["township"].astype(str))]
        town = pd.concat([enterprises["township"], townships["township"]], ignore_index=True)
        self.lat = np.concatenate([enterprises["lat"].to_numpy(float), townships["lat"].to_numpy(float)])
        self.lon = np.concatenate([enterprises["lon"].to_numpy(float), townships["lon"].to_numpy(float)])
        codes, _ = pd.factorize(town)  # −1: no township, never in a matrix
        place = pd.Series(codes).groupby(codes).cumcount().to_numpy()
        #: point → (township code, place in its matrix, row in lat/lon)
        self.where = dict(zip(names, zip(codes.tolist(), place.tolist(), range(len(names)))))
        self.members = pd.Series(np.arange(len(codes))).groupby(codes).agg(np.array).to_dict()
        self.matrices: dict[int, np.ndarray] = {}
        self.factor = scenario.travel.detour_factor / scenario.travel.speed_kmh * 60
        self.cache: dict[tuple[str, str], int] = {}

    def minutes(self, a: str, b: str) -> int:
        town, i, row_a = self.where[a]
        other, j, row_b = self.where[b]
        if town == other and town >= 0:
            matrix = self.matrices.get(town)
            if matrix is None:
                matrix = self.matrices[town] = self._township(town)
            return matrix.item(i, j)
        found = self.cache.get((a, b))
        if found is None:  # kept under both orders: no key to normalise on the hot path
            found = self._minutes(self.lat[row_a], self.lon[row_a], self.lat[row_b], self.lon[row_b])
            self.cache[(a, b)] = self.cache[(b, a)] = found
        return found

    def _township(self, town: int) -> np.ndarray:
        """Every pair of the township's points at once, exactly as ``_minutes`` one by one: away
        from a whole minute any formula gives the same ceiling; next to one, ``_minutes`` decides."""
        rows = self.members[town]
        lat, lon = self.lat[rows], self.lon[rows]
        scaled = great_circle_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * self.factor
        minutes = np.ceil(np.round(scaled, 9))
        for i, j in zip(*np.nonzero((np.abs(scaled - np.round(scaled)) < 1e-5) & (scaled != 0))):  # 0: one place
            minutes[i, j] = self._minutes(lat[i], lon[i], lat[j], lon[j])
        return minutes.astype(np.int16 if minutes.max(initial=0) < 2**15 else np.int32)

    def _minutes(self, la: float, oa: float, lb: float, ob: float) -> int:
        """``great_circle_km`` on plain floats (numpy scalars cost ~20 µs a call). math's sin may
        differ from numpy's in the last bit, which can move the ceiling only next to a whole
        minute: there the numpy formula decides, so the minutes are always the same."""
        la, oa, lb, ob = float(la), float(oa), float(lb), float(ob)
        r1, r2 = math.radians(la), math.radians(lb)
        s1, s2 = math.sin((r2 - r1) / 2), math.sin((math.radians(ob) - math.radians(oa)) / 2)
        a = s1 * s1 + math.cos(r1) * math.cos(r2) * s2 * s2
        scaled = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(max(a, 0.0), 1.0))) * self.factor
        if abs(scaled - round(scaled)) < 1e-6:
            scaled = float(great_circle_km(la, oa, lb, ob)) * self.factor
        return math.ceil(round(scaled, 9))

    def shortest_inward(self, usccs: list[str], townships: list[str]) -> dict[str, int]:
        """Per enterprise of ``usccs``, the shortest leg that can reach it: from the station of
        its township (``townships``, in the same order) or from another of ``usccs`` there."""
        by_town: dict[str, list[str]] = {}
        for uscc, town in zip(usccs, townships):
            by_town.setdefault(town, []).append(uscc)
        inward: dict[str, int] = {}
        for town, members in by_town.items():
            code, station, _ = self.where[f"station:{town}"]
            places = [station] + [self.where[u][1] for u in members]
            matrix = self.matrices.get(code)
            if matrix is None:
                matrix = self.matrices[code] = self._township(code)
            legs = matrix[np.ix_(places, places)].astype(np.int64)
            np.fill_diagonal(legs, np.iinfo(np.int64).max)
            inward.update(zip(members, legs.min(axis=0)[1:].tolist()))
        return inward


def township_of(dataset: Dataset) -> dict[str, str]:
    """uscc → its township (crews keep to their township's station)."""
    return dict(zip(dataset.enterprises["uscc"], dataset.enterprises["township"]))
