"""Hamlet outlines as staff give them: a GeoJSON file (FeatureCollection, Feature, Polygon or MultiPolygon) or a
shape drawn on the console's map. Each problem is an OutlineProblem with a code and its parameters, which the
service words in Italian from the catalogue (settings.outline.<code>).

The structural checks (check_geometry) are pure Python: the settings model runs them whenever a tenant's hamlets
are written (not when read). The ones that need shapely (a ring that crosses itself) and the comune's place (near_problems) run
only where staff save outlines (services/admin/settings.py)."""
from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

# A box around Italy (Lampedusa 35.5 N, Vetta d'Italia 47.1 N; Bardonecchia 6.6 E, Otranto 18.5 E), with a margin.
ITALY = {"south": 35.0, "north": 47.3, "west": 6.4, "east": 18.8}
MAX_VERTICES = 5_000  # per hamlet: the whole comune is one DynamoDB item (400 KB)
MAX_FILE_BYTES = 1_000_000  # an uploaded GeoJSON file
MAX_FEATURES = 100
NEAR_KM = 30  # every outline lies within this of the comune's hamlets (or of the first new one)
DECIMALS = 6  # ~10 cm: enough for an outline, and a third shorter than a GIS export's 15 digits
POLYGON_TYPES = ("Polygon", "MultiPolygon")


class OutlineProblem(ValueError):
    """One thing wrong with an outline: code (settings.outline.<code> in the catalogue) and its parameters."""

    def __init__(self, code: str, **params: Any):
        self.code, self.params = code, params
        super().__init__(f"outline: {code} {json.dumps(params, ensure_ascii=False, default=str)}")


def _position(value: Any) -> tuple[float, float]:
    if (not isinstance(value, list | tuple) or len(value) not in (2, 3)
            or not all(isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in value)):
        raise OutlineProblem("not_a_position")
    lon, lat = float(value[0]), float(value[1])
    if not (ITALY["south"] <= lat <= ITALY["north"] and ITALY["west"] <= lon <= ITALY["east"]):
        raise OutlineProblem("outside_italy", latitude=round(lat, 5), longitude=round(lon, 5))
    return round(lon, DECIMALS), round(lat, DECIMALS)


def _ring(value: Any) -> list[list[float]]:
    if not isinstance(value, list):
        raise OutlineProblem("not_a_ring")
    ring = [list(_position(p)) for p in value]
    if len(ring) < 4:
        raise OutlineProblem("too_few_points", count=len(ring))
    if ring[0] != ring[-1]:
        raise OutlineProblem("not_closed")
    return ring


def _polygon(value: Any) -> list[list[list[float]]]:
    if not isinstance(value, list) or not value:
        raise OutlineProblem("not_a_polygon")
    return [_ring(r) for r in value]


def check_geometry(geometry: Any) -> dict[str, Any]:
    """A Polygon or MultiPolygon with closed rings of at least 4 positions (numbers, in Italy), at most
    MAX_VERTICES; returned with its coordinates rounded to DECIMALS. OutlineProblem otherwise."""
    if not isinstance(geometry, dict) or geometry.get("type") not in POLYGON_TYPES:
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        raise OutlineProblem("not_a_polygon_type", type=str(kind)[:40] if kind else "")
    coordinates = geometry.get("coordinates")
    if geometry["type"] == "Polygon":
        rounded: list = _polygon(coordinates)
        vertices = sum(len(r) for r in rounded)
    else:
        if not isinstance(coordinates, list) or not coordinates:
            raise OutlineProblem("not_a_polygon")
        rounded = [_polygon(p) for p in coordinates]
        vertices = sum(len(r) for p in rounded for r in p)
    if vertices > MAX_VERTICES:
        raise OutlineProblem("too_many_vertices", count=vertices, most=MAX_VERTICES)
    return {"type": geometry["type"], "coordinates": rounded}


def slug(name: str) -> str:
    """An id from a name: "San Martino in Colle" -> "san-martino-in-colle"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:64]


def _features(document: Any) -> list[dict[str, Any]]:
    if not isinstance(document, dict):
        raise OutlineProblem("not_geojson")
    kind = document.get("type")
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list) or not features:
            raise OutlineProblem("no_features")
        if len(features) > MAX_FEATURES:
            raise OutlineProblem("too_many_features", count=len(features), most=MAX_FEATURES)
        return features
    if kind == "Feature":
        return [document]
    if kind in POLYGON_TYPES or kind in ("Point", "LineString", "MultiPoint", "MultiLineString", "GeometryCollection"):
        return [{"type": "Feature", "properties": {}, "geometry": document}]
    raise OutlineProblem("not_geojson")


def _name_of(feature: dict[str, Any]) -> str:
    properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    for key in ("name", "nome", "NAME", "NOME", "denominazione", "DENOMINAZIONE"):
        if isinstance(properties.get(key), str) and properties[key].strip():
            return properties[key].strip()[:200]
    return ""


def _id_of(feature: dict[str, Any], name: str) -> str:
    properties = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    for raw in (properties.get("id"), feature.get("id")):
        if isinstance(raw, str | int) and not isinstance(raw, bool) and slug(str(raw)):
            return slug(str(raw))
    return slug(name)


def outlines_from_geojson(text: str | bytes) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The named outlines of a GeoJSON file: ([{"id", "name", "geometry"}], problems), each problem
    {"feature": index or None, "name", "code", "params"}. Nothing is kept from a file with any problem."""
    if len(text) > MAX_FILE_BYTES:
        return [], [_problem(None, "", OutlineProblem("file_too_large", most_kb=MAX_FILE_BYTES // 1000))]
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return [], [_problem(None, "", OutlineProblem("not_json"))]
    try:
        features = _features(document)
    except OutlineProblem as problem:
        return [], [_problem(None, "", problem)]
    outlines, problems, seen = [], [], set()
    for index, feature in enumerate(features):
        name = _name_of(feature) if isinstance(feature, dict) else ""
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise OutlineProblem("not_a_feature")
            geometry = check_geometry(feature.get("geometry"))
            if not name:
                raise OutlineProblem("no_name")
            hamlet_id = _id_of(feature, name)
            if not hamlet_id:
                raise OutlineProblem("no_id")
            if hamlet_id in seen:
                raise OutlineProblem("same_id", id=hamlet_id)
            seen.add(hamlet_id)
            outlines.append({"id": hamlet_id, "name": name, "geometry": geometry})
        except OutlineProblem as problem:
            problems.append(_problem(index, name, problem))
    return ([] if problems else outlines), problems


def _problem(index: int | None, name: str, problem: OutlineProblem) -> dict[str, Any]:
    return {"feature": index, "name": name, "code": problem.code, "params": problem.params}


def vertices(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    """Every (lon, lat) of a checked Polygon or MultiPolygon."""
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [(p[0], p[1]) for polygon in polygons for ring in polygon for p in ring]


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Rough distance in km between two (lon, lat): enough to tell a neighbouring comune from another region."""
    mean_lat = math.radians((a[1] + b[1]) / 2)
    return math.hypot((a[0] - b[0]) * math.cos(mean_lat), a[1] - b[1]) * 111.2


def far_from(geometry: dict[str, Any], centre: tuple[float, float]) -> bool:
    """True when some vertex of the outline is farther than NEAR_KM from centre (lon, lat)."""
    return any(_km(v, centre) > NEAR_KM for v in vertices(geometry))
