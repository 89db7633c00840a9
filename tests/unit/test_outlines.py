"""Hamlet outlines as staff give them (domain/outlines.py): what a GeoJSON file yields, and what is refused."""
from __future__ import annotations

import json

import pytest

from chalicelib.domain import outlines
from chalicelib.domain.outlines import OutlineProblem, check_geometry, outlines_from_geojson

RING = [[10.93, 43.70], [10.95, 43.70], [10.95, 43.72], [10.93, 43.72], [10.93, 43.70]]


def test_a_polygon_is_kept_with_its_coordinates_rounded():
    geometry = check_geometry({"type": "Polygon", "coordinates": [[[10.123456789, 43.1], [10.2, 43.1],
                                                                   [10.2, 43.2], [10.123456789, 43.1]]]})
    assert geometry["coordinates"][0][0] == [10.123457, 43.1]


@pytest.mark.parametrize("geometry, code", [
    ({"type": "LineString", "coordinates": RING}, "not_a_polygon_type"),
    ({"type": "Polygon", "coordinates": []}, "not_a_polygon"),
    ({"type": "Polygon", "coordinates": [RING[:-1]]}, "not_closed"),
    ({"type": "Polygon", "coordinates": [[RING[0], RING[1], RING[0]]]}, "too_few_points"),
    ({"type": "Polygon", "coordinates": [[[43.70, 10.93], [43.70, 10.95], [43.72, 10.95], [43.70, 10.93]]]},
     "outside_italy"),
    ({"type": "Polygon", "coordinates": [[[True, 43.7], *RING[1:3], [True, 43.7]]]}, "not_a_position"),
    ({"type": "Polygon", "coordinates": [[[float("nan"), 43.7], *RING[1:3], [float("nan"), 43.7]]]}, "not_a_position"),
    ({"type": "MultiPolygon", "coordinates": [[RING]] * (outlines.MAX_VERTICES // 5 + 1)}, "too_many_vertices"),
])
def test_what_is_not_an_outline_is_refused_with_its_reason(geometry, code):
    with pytest.raises(OutlineProblem) as refused:
        check_geometry(geometry)
    assert refused.value.code == code


def test_a_file_names_its_hamlets_and_makes_ids_from_names():
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Sant'Andrea a Gavignano"}, "geometry": {"type": "Polygon",
                                                                                          "coordinates": [RING]}},
        {"type": "Feature", "id": 7, "properties": {"NOME": "Colle"}, "geometry": {"type": "Polygon",
                                                                                "coordinates": [RING]}}]}
    found, problems = outlines_from_geojson(json.dumps(document))
    assert problems == [] and [(h["id"], h["name"]) for h in found] == [("sant-andrea-a-gavignano",
                                                                          "Sant'Andrea a Gavignano"), ("7", "Colle")]


def test_a_file_with_one_bad_feature_yields_nothing_and_names_it():
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Buona"}, "geometry": {"type": "Polygon", "coordinates": [RING]}},
        {"type": "Feature", "properties": {"name": "Buona"}, "geometry": {"type": "Polygon", "coordinates": [RING]}},
        {"type": "Feature", "properties": {"name": "Aperta"}, "geometry": {"type": "Polygon",
                                                                           "coordinates": [RING[:-1]]}}]}
    found, problems = outlines_from_geojson(json.dumps(document))
    assert found == []
    assert [(p["feature"], p["code"]) for p in problems] == [(1, "same_id"), (2, "not_closed")]


def test_a_file_too_large_is_not_read():
    _, problems = outlines_from_geojson(b" " * (outlines.MAX_FILE_BYTES + 1))
    assert problems[0]["code"] == "file_too_large"


def test_an_outline_is_checked_when_written_not_when_read():
    """A comune whose outline was written before the check keeps its hamlets (geo.py ignores what it cannot use)."""
    from chalicelib.domain.settings import TenantSettings, lenient, tenant_settings

    raw = {"hamlets": [{"id": "colle", "name": "Colle", "latitude": 43.7, "longitude": 10.9,
                        "geometry": {"type": "Polygon", "coordinates": [RING[:-1]]}}]}
    with pytest.raises(ValueError, match="not_closed"):
        tenant_settings(raw)
    settings, errors = lenient(TenantSettings, raw)
    assert errors == [] and [h.id for h in settings.hamlets] == ["colle"]
