"""Places: which hamlet a shared WhatsApp location falls in, and how far apart two points are.

GeoJSON keeps coordinates in lon/lat order; the functions here take latitude first, as people say them.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from chalicelib.domain.settings import Hamlet

if TYPE_CHECKING:
    from shapely.prepared import PreparedGeometry

# shapely (and numpy under it) load on the first lookup, not at import: most cold starts never need them.

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
POLYGON_TYPES = ("Polygon", "MultiPolygon")


def is_valid_point(lat: float, lon: float) -> bool:
    """A finite latitude in -90..90 and longitude in -180..180."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


def _check_point(lat: float, lon: float) -> None:
    if not is_valid_point(lat, lon):
        raise ValueError(f"invalid coordinates: lat={lat!r}, lon={lon!r}")


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine on a sphere of the mean Earth radius)."""
    _check_point(lat1, lon1)
    _check_point(lat2, lon2)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, a))))


@lru_cache(maxsize=512)
def _prepared(geometry_json: str) -> PreparedGeometry | None:
    """The prepared shape of one GeoJSON polygon, built once per warm process; None when unusable."""
    from shapely.errors import GEOSException
    from shapely.geometry import shape
    from shapely.prepared import prep
    from shapely.validation import make_valid

    try:
        geometry = shape(json.loads(geometry_json))
    except (GEOSException, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    if geometry.is_empty:
        return None
    if not geometry.is_valid:  # e.g. a self-touching ring drawn by hand: repair rather than misjudge
        geometry = make_valid(geometry)
    return prep(geometry)


def _shape_of(hamlet: Hamlet) -> PreparedGeometry | None:
    geometry: dict[str, Any] | None = hamlet.geometry
    if not geometry or geometry.get("type") not in POLYGON_TYPES:
        return None
    return _prepared(json.dumps(geometry, sort_keys=True, separators=(",", ":")))


def hamlet_at(latitude: float, longitude: float, hamlets: Sequence[Hamlet]) -> Hamlet | None:
    """The first hamlet whose polygon covers the point (its boundary counts as inside).

    None when the point is outside every polygon; hamlets without a usable Polygon/MultiPolygon
    geometry are never matched. Invalid coordinates raise ValueError.
    """
    from shapely.geometry import Point

    _check_point(latitude, longitude)
    point = Point(float(longitude), float(latitude))
    for hamlet in hamlets:
        prepared = _shape_of(hamlet)
        if prepared is not None and prepared.covers(point):
            return hamlet
    return None


def hamlet_id_at(latitude: float, longitude: float, hamlets: Sequence[Hamlet]) -> str | None:
    """The id of the hamlet a point falls in; None outside them all or for a point that is not on Earth."""
    if not is_valid_point(latitude, longitude):
        return None
    found = hamlet_at(latitude, longitude, hamlets)
    return found.id if found else None


OUTSIDE_MARGIN_M = 10_000  # farther than this from every hamlet (and in none) is surely outside the comune


def is_outside(latitude: float, longitude: float, hamlets: Sequence[Hamlet]) -> bool:
    """True when a point is surely not in the comune: in no hamlet's polygon and more than OUTSIDE_MARGIN_M from
    every hamlet's point. Hamlet outlines rarely cover the whole territory (fields and woods lie between them),
    hence the margin. A comune with no hamlets, or a point not on Earth, cannot be told: False."""
    if not hamlets or not is_valid_point(latitude, longitude) or hamlet_at(latitude, longitude, hamlets):
        return False
    return all(distance_m(latitude, longitude, h.latitude, h.longitude) > OUTSIDE_MARGIN_M for h in hamlets)


def hamlet_features(hamlets: Sequence[Hamlet]) -> dict[str, Any]:
    """The hamlets as a GeoJSON FeatureCollection for maps: each with its point, and its outline when it has a
    usable Polygon or MultiPolygon (None otherwise)."""
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "id": h.id,
        "properties": {"id": h.id, "name": h.name, "latitude": h.latitude, "longitude": h.longitude},
        "geometry": h.geometry if h.geometry and h.geometry.get("type") in ("Polygon", "MultiPolygon") else None,
    } for h in hamlets]}
