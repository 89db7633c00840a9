"""Places: a shared location lands in the right hamlet; distances are right to the metre."""
import math

import pytest

from chalicelib.domain import geo
from chalicelib.domain.geo import distance_m, hamlet_at, is_valid_point
from chalicelib.domain.settings import Hamlet


def square(west, south, east, north):
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


# Two adjacent squares around 43.71N 10.94E sharing the meridian 10.94 (GeoJSON: lon, lat).
WEST = Hamlet("capanne", "Capanne", 43.705, 10.935, {"type": "Polygon", "coordinates": square(10.93, 43.70, 10.94, 43.71)})
EAST = Hamlet("marti", "Marti", 43.705, 10.945, {"type": "Polygon", "coordinates": square(10.94, 43.70, 10.95, 43.71)})
# A hamlet in two separate pieces, the northern one with a hole (a quarry that belongs to nobody).
SPLIT = Hamlet("san-romano", "San Romano", 43.722, 10.962, {"type": "MultiPolygon", "coordinates": [
    square(10.96, 43.72, 10.965, 43.725),
    [[[10.97, 43.73], [10.98, 43.73], [10.98, 43.74], [10.97, 43.74], [10.97, 43.73]],
     [[10.974, 43.734], [10.976, 43.734], [10.976, 43.736], [10.974, 43.736], [10.974, 43.734]]],
]})
NO_GEOMETRY = Hamlet("angelica", "Angelica", 43.70, 10.92)
HAMLETS = (NO_GEOMETRY, WEST, EAST, SPLIT)


@pytest.mark.parametrize(("lat", "lon", "expected"), [
    (43.705, 10.935, "capanne"),
    (43.7099, 10.9301, "capanne"),
    (43.705, 10.945, "marti"),
    (43.7001, 10.9499, "marti"),
    (43.722, 10.962, "san-romano"),
    (43.731, 10.971, "san-romano"),
    (43.735, 10.975, None),  # in the hole
    (43.715, 10.935, None),  # north of both squares
    (43.705, 10.955, None),  # east of both
    (43.70, 10.92, None),  # at the point of the hamlet without a polygon
    (43.727, 10.967, None),  # between the two pieces
])
def test_point_in_hamlet(lat, lon, expected):
    found = hamlet_at(lat, lon, HAMLETS)
    assert (found.id if found else None) == expected


def test_boundary_counts_as_inside_and_first_match_wins():
    assert hamlet_at(43.705, 10.94, HAMLETS) is WEST  # on the shared edge
    assert hamlet_at(43.705, 10.94, (EAST, WEST)) is EAST
    assert hamlet_at(43.71, 10.935, HAMLETS) is WEST  # on the outer northern edge
    assert hamlet_at(43.70, 10.95, HAMLETS) is EAST  # on a corner
    assert hamlet_at(43.734, 10.975, HAMLETS) is SPLIT  # on the rim of the hole


def test_no_hamlets_or_no_geometry():
    assert hamlet_at(43.705, 10.935, ()) is None
    assert hamlet_at(43.70, 10.92, (NO_GEOMETRY,)) is None


def test_unusable_geometries_are_skipped():
    point = Hamlet("pt", "Point", 43.705, 10.935, {"type": "Point", "coordinates": [10.935, 43.705]})
    broken = Hamlet("broken", "Broken", 43.705, 10.935, {"type": "Polygon", "coordinates": [[[10.93]]]})
    assert hamlet_at(43.705, 10.935, (point, broken, WEST)) is WEST


def test_self_intersecting_polygon_is_repaired():
    bowtie = Hamlet("bowtie", "Bowtie", 43.705, 10.935, {"type": "Polygon", "coordinates": [
        [[10.93, 43.70], [10.94, 43.71], [10.94, 43.70], [10.93, 43.71], [10.93, 43.70]]]})
    assert hamlet_at(43.705, 10.932, (bowtie,)) is bowtie
    assert hamlet_at(43.709, 10.935, (bowtie,)) is None


def test_shapes_are_cached_across_calls():
    geo._prepared.cache_clear()
    for _ in range(5):
        hamlet_at(43.705, 10.945, HAMLETS)
    info = geo._prepared.cache_info()
    assert info.misses == 2  # WEST and EAST built once
    assert info.hits == 8
    # an equal geometry in a different dict is the same shape
    copy = Hamlet("marti", "Marti", 43.705, 10.945, {"coordinates": square(10.94, 43.70, 10.95, 43.71), "type": "Polygon"})
    assert hamlet_at(43.705, 10.945, (copy,)) is copy
    assert geo._prepared.cache_info().misses == 2


@pytest.mark.parametrize(("lat", "lon"), [(91, 10.9), (-90.01, 10.9), (43.7, 180.5), (43.7, -181), (math.nan, 10.9),
                                         (43.7, math.inf)])
def test_invalid_coordinates_are_refused(lat, lon):
    assert not is_valid_point(lat, lon)
    with pytest.raises(ValueError):
        hamlet_at(lat, lon, HAMLETS)
    with pytest.raises(ValueError):
        distance_m(lat, lon, 43.7, 10.9)


@pytest.mark.parametrize(("lat", "lon"), [(90, 180), (-90, -180), (0, 0), (43.71, 10.94)])
def test_valid_points(lat, lon):
    assert is_valid_point(lat, lon)


def test_distance_duomo_to_ponte_vecchio():
    assert 600 < distance_m(43.77314, 11.25598, 43.76792, 11.25313) < 650
    assert distance_m(43.77314, 11.25598, 43.76792, 11.25313) == pytest.approx(distance_m(43.76792, 11.25313, 43.77314, 11.25598))


def test_distance_fifty_metre_offsets():
    lat, lon = 43.71, 10.94
    metres_per_degree = math.pi * 6_371_008.8 / 180
    assert distance_m(lat, lon, lat, lon) == 0
    assert distance_m(lat, lon, lat + 50 / metres_per_degree, lon) == pytest.approx(50, abs=0.01)
    assert distance_m(lat, lon, lat, lon - 50 / (metres_per_degree * math.cos(math.radians(lat)))) == pytest.approx(50, abs=0.01)


def test_distance_antipodes_and_across_the_date_line():
    assert distance_m(0, 0, 0, 180) == pytest.approx(math.pi * 6_371_008.8)
    assert distance_m(0, 179.9995, 0, -179.9995) == pytest.approx(111.2, abs=0.1)
