import json

import pytest

from machi.tenancy.context import tenant_context


def square(x0, y0, x1, y1) -> str:
    """A GeoJSON polygon (longitude x, latitude y)."""
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


@pytest.fixture
def in_a(municipality_a):
    with tenant_context("131016"):
        yield


@pytest.fixture
def doro(municipality_a, municipality_b):
    """道路課 in both municipalities (not a default department)."""
    from machi.accounts.models import Department

    for m in (municipality_a, municipality_b):
        Department.objects.get_or_create(municipality=m, code="doro", defaults={"name": "道路課"})
