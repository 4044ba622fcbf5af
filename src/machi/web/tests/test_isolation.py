"""Every page and API endpoint under /<lg_code>/ refuses staff of another municipality.

The URL list is read from the URL configuration, so pages added later are covered
without touching this test.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from machi.accounts.roles import Role

pytestmark = pytest.mark.django_db(databases="__all__")


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def tenant_routes() -> list[str]:
    routes = sorted({r for r in _walk(get_resolver().url_patterns) if "lg_code" in r})
    assert routes, "no tenant URL found"
    return routes


def _url(route: str, lg_code: str) -> str:
    route = route.lstrip("^").rstrip("$")
    url = re.sub(r"<(?:\w+:)?lg_code>|\{lg_code\}", lg_code, route)
    url = re.sub(r"<(?:\w+:)?\w+>|\{\w+\}", "1", url)
    return "/" + url.replace("\\", "")


def _skip_public(url: str) -> None:
    """Views marked @public_view (the queue display board) are for everyone: their own
    tests check that they show only their municipality's data."""
    if getattr(resolve(url).func, "machi_public", False):
        pytest.skip("public view")


ALL_ROLES = [("shimin", role) for role in Role.values] + [("kosodate", Role.DEPARTMENT_STAFF)]


@pytest.fixture
def staff_a(make_staff, municipality_a):
    return make_staff(
        municipality_a, *ALL_ROLES, reveal_my_number_departments=frozenset({"shimin"})
    )


def test_tenant_routes_exist():
    routes = tenant_routes()
    assert any("audit" in r for r in routes)
    assert any("staff" in r for r in routes)


@pytest.mark.parametrize("route", tenant_routes())
def test_staff_of_a_cannot_reach_b(route, staff_a, signed_in, municipality_b):
    client = signed_in(staff_a)
    url = _url(route, "271403")
    _skip_public(url)
    statuses = []
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (401, 403, 404, 405), (method, url, response.status_code)
        statuses.append(response.status_code)
    # The method the route serves was refused (a GET-only API route answers POST with 405).
    assert statuses != [405, 405], (url, statuses)


@pytest.mark.parametrize("route", tenant_routes())
def test_staff_of_a_reaches_their_own_pages(route, staff_a, signed_in):
    """The same staff member is not refused at home (the isolation test is not vacuous)."""
    if re.search(r"<(?!(?:\w+:)?lg_code>)|\{(?!lg_code\})", route):
        pytest.skip("needs an object id")
    response = signed_in(staff_a).get(_url(route, "131016"))
    assert response.status_code in (200, 405)


@pytest.mark.parametrize("route", tenant_routes())
def test_platform_operator_cannot_reach_municipality_pages(route, make_staff, signed_in):
    operator = make_staff(None)
    _skip_public(_url(route, "131016"))
    response = signed_in(operator).get(_url(route, "131016"))
    assert response.status_code in (401, 403, 404, 405)


@pytest.mark.parametrize("route", tenant_routes())
def test_anonymous_is_sent_to_login(route, client, municipality_a):
    _skip_public(_url(route, "131016"))
    response = client.get(_url(route, "131016"))
    assert response.status_code in (302, 401, 404, 405)
    if response.status_code == 302:
        assert response.url.startswith("/login/")


def test_unknown_municipality_is_404(staff_a, signed_in):
    response = signed_in(staff_a).get("/011002/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()


def test_staff_start_page_sends_each_to_their_own(staff_a, signed_in, make_staff, municipality_b):
    assert signed_in(staff_a).get("/").url == "/131016/"
    staff_b = make_staff(municipality_b, ("shimin", "counter_clerk"))
    assert signed_in(staff_b).get("/").url == "/271403/"
    assert signed_in(make_staff(None)).get("/").url == "/platform/"


def test_platform_page_is_for_operators_only(staff_a, signed_in, make_staff):
    assert signed_in(staff_a).get("/platform/").status_code == 403
    page = signed_in(make_staff(None)).get("/platform/").content.decode()
    assert "131016" in page and "271403" in page
