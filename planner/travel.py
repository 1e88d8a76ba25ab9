"""Travel times between stations and enterprises.

Model (defaults in the scenario's ``[travel]`` table): great-circle distance × a detour factor
for the road network, driven at a constant road speed, rounded up to whole minutes. With the
defaults — detour 1.3, 30 km/h, typical of county roads with village lanes and stops — 10 km
as the crow flies takes 26 minutes.
"""

from __future__ import annotations

import numpy as np

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
