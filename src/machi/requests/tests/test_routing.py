"""Point-in-polygon routing at borders, vertices, outside and in overlaps; rule order."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from machi.requests.models import Category, Routing
from machi.requests.routing import area_for_point
from machi.requests.services import area_create, route, routing_rule_set
from machi.requests.tests.conftest import square

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def areas(in_a):
    west = area_create(name="千代田一丁目", kind="chome", geometry=square(139.0, 35.0, 139.1, 35.1))
    east = area_create(name="千代田二丁目", kind="chome", geometry=square(139.1, 35.0, 139.2, 35.1))
    park = area_create(
        name="中央公園", kind="polygon", geometry=square(139.12, 35.02, 139.14, 35.04)
    )
    return {"west": west, "east": east, "park": park}


@pytest.mark.parametrize(
    ("lat", "long", "expected"),
    [
        ("35.05", "139.05", "west"),  # inside
        ("35.05", "139.15", "east"),  # inside
        ("35.05", "139.1", "west"),  # on the shared border: equal size → the older area
        ("35.0", "139.05", "west"),  # on an outer edge: covers() counts the boundary
        ("35.1", "139.2", "east"),  # on a vertex
        ("35.03", "139.13", "park"),  # overlapping: the smallest area wins
        ("35.02", "139.12", "park"),  # the park's vertex, inside 二丁目: still the park
        ("35.2", "139.05", None),  # outside every area
        ("34.99999", "139.0", None),  # just outside an edge
    ],
)
def test_point_to_area(areas, lat, long, expected):
    category = Category.objects.get(code="road_damage")
    found = area_for_point(lat=Decimal(lat), long=Decimal(long), category_id=category.pk)
    assert found == (areas[expected].pk if expected else None)


def test_area_restricted_to_a_category(areas):
    road = Category.objects.get(code="road_damage")
    park_category = Category.objects.get(code="park")
    grounds = area_create(
        name="公園敷地", kind="polygon", geometry=square(139.0, 35.0, 139.01, 35.01),
        category=park_category,
    )  # fmt: skip
    assert area_for_point(lat=35.005, long=139.005, category_id=park_category.pk) == grounds.pk
    assert area_for_point(lat=35.005, long=139.005, category_id=road.pk) == areas["west"].pk


def test_cache_sees_a_new_area(areas):
    road = Category.objects.get(code="road_damage")
    assert area_for_point(lat=35.5, long=139.5, category_id=road.pk) is None
    far = area_create(name="番町", kind="chome", geometry=square(139.4, 35.4, 139.6, 35.6))
    assert area_for_point(lat=35.5, long=139.5, category_id=road.pk) == far.pk


@pytest.mark.parametrize(
    "geometry",
    [
        "not json",
        '{"type": "Point", "coordinates": [139, 35]}',
        # a bow tie: self-intersecting
        '{"type": "Polygon", "coordinates": [[[0,0],[1,1],[1,0],[0,1],[0,0]]]}',
        '{"type": "Polygon", "coordinates": "x"}',
    ],
)
def test_bad_geometry_is_refused(in_a, geometry):
    with pytest.raises(ValidationError):
        area_create(name="x", kind="polygon", geometry=geometry)


def test_rule_precedence_and_triage(areas, doro):
    road = Category.objects.get(code="road_damage")
    other = Category.objects.get(code="other")
    point = {"lat": Decimal("35.05"), "long": Decimal("139.15"), "address": ""}
    # the category's own department
    assert route(category=road, **point).department == "doro"
    assert route(category=road, **point).routing == Routing.CATEGORY
    # a rule for the area (any category) beats the category's department
    routing_rule_set(department="kankyo", area=areas["east"])
    assert route(category=road, **point).department == "kankyo"
    # a rule for category × area beats the area rule
    routing_rule_set(department="shimin", category=road, area=areas["east"])
    assert route(category=road, **point).department == "shimin"
    assert route(category=road, **point).routing == Routing.RULE
    # "その他" has no department and the west has no rule: triage, never nowhere
    west = {"lat": Decimal("35.05"), "long": Decimal("139.05"), "address": ""}
    triage = route(category=other, **west)
    assert (triage.department, triage.routing, triage.area_id) == ("", "triage", areas["west"].pk)


def test_category_department_missing_goes_to_triage(areas):
    Category.objects.filter(code="park").update(department="gone")  # no such department
    park = Category.objects.get(code="park")
    assert (
        route(category=park, lat=Decimal("35.05"), long=Decimal("139.05"), address="").routing
        == "triage"
    )


def test_address_finds_the_chome(areas):
    road = Category.objects.get(code="road_damage")
    found = route(category=road, lat=None, long=None, address="東京都千代田区千代田二丁目3番")
    assert found.area_id == areas["east"].pk


def test_rule_for_unknown_department_refused(in_a):
    with pytest.raises(ValidationError):
        routing_rule_set(department="nonexistent")
