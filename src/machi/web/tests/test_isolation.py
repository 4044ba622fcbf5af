"""Every page and API endpoint under /<lg_code>/ refuses staff of another municipality.

The URL list is read from the URL configuration, so pages added later are covered
without touching this test. Routes that take an id are tried with real objects of both
municipalities (``objects.ID_ROUTES``); a new id route without an entry there fails
:func:`test_every_id_route_has_objects`.
"""

from __future__ import annotations

import contextlib

import pytest
from conftest import PASSWORD
from django.test import Client, override_settings
from django.urls import resolve

from machi.accounts.roles import Role
from machi.linkage.tests.receiver import Receiver
from machi.linkage.webhooks import secret_generate
from machi.web.tests.objects import (
    ID_ROUTES,
    A,
    B,
    IdRoute,
    World,
    has_id,
    id_routes,
    tenant_routes,
)
from machi.web.tests.objects import url_of as _url

pytestmark = pytest.mark.django_db(databases="__all__")


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


@pytest.mark.parametrize("route", [r for r in tenant_routes() if not has_id(r)])
def test_staff_of_a_reaches_their_own_pages(route, staff_a, signed_in):
    """The same staff member is not refused at home (the isolation test is not vacuous).
    Routes with an id: test_id_routes_are_isolated, with real objects."""
    url = _url(route, A)
    response = signed_in(staff_a).get(url)
    if response.status_code == 302 and getattr(resolve(url).func, "machi_public", False):
        # A resident's page that needs an earlier step (the contact form's "sent" page)
        # sends the visitor back to it, within the same municipality.
        assert response.url.startswith(f"/{A}/"), (url, response.url)
        return
    assert response.status_code in (200, 405), (url, response.status_code)


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
    assert signed_in(staff_a).get("/").url == "/131016/home/"
    staff_b = make_staff(municipality_b, ("shimin", "counter_clerk"))
    assert signed_in(staff_b).get("/").url == "/271403/home/"
    assert signed_in(make_staff(None)).get("/").url == "/platform/"


def test_platform_page_is_for_operators_only(staff_a, signed_in, make_staff):
    assert signed_in(staff_a).get("/platform/").status_code == 403
    page = signed_in(make_staff(None)).get("/platform/").content.decode()
    assert "131016" in page and "271403" in page


# --- routes that take an id, with real objects of both municipalities -------------------------


def test_every_id_route_has_objects():
    """A new id route needs an entry in objects.ID_ROUTES, else its isolation is untested."""
    routes = set(id_routes())
    missing = sorted(routes - set(ID_ROUTES))
    assert not missing, f"add these routes to machi.web.tests.objects.ID_ROUTES: {missing}"
    stale = sorted(set(ID_ROUTES) - routes)
    assert not stale, f"routes gone from the URL configuration: {stale}"


@pytest.fixture(scope="module")
def worlds(django_db_setup, django_db_blocker, tmp_path_factory):
    """A's and B's objects (B's ids repeat none of A's) with a member of each holding every
    role, made once for the module.

    They live in transactions opened here on every database and rolled back when the
    module is done; each test runs in savepoints inside them (pytest-django), so what a
    test changes (a revoked token, a resident moved out) is undone before the next."""
    from django.db import connections, transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from machi.accounts.services import staff_create
    from machi.tenancy.models import Municipality

    def member(lg_code: str):
        staff = staff_create(
            username=f"isolation-{lg_code}",
            display_name="分離 確認",
            password=PASSWORD,
            municipality=Municipality.objects.get(lg_code=lg_code),
            memberships=ALL_ROLES,
            reveal_my_number_departments=frozenset({"shimin"}),
        )
        TOTPDevice.objects.create(user=staff, name="test", confirmed=True)
        return staff

    aliases = [a for a in connections if not connections[a].settings_dict["TEST"]["MIRROR"]]
    with contextlib.ExitStack() as stack:
        # The files the objects come with (a request's photo, a held mail) go with the module.
        stack.enter_context(override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")))
        stack.enter_context(django_db_blocker.unblock())
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
        # Rolled back however the module ends (the stack unwinds in reverse order).
        stack.callback(lambda: [transaction.set_rollback(True, using=a) for a in aliases])
        receiver = stack.enter_context(_receiver())
        world_a = World(lg_code=A, staff=member(A), receiver=receiver)
        world_b = World(lg_code=B, staff=member(B), receiver=receiver, avoid=A)
        world_a.peer, world_b.peer = world_b, world_a
        World.build_all(world_a, world_b)
        with django_db_blocker.block():
            yield world_a, world_b


@contextlib.contextmanager
def _receiver():
    receiver = Receiver(secret=secret_generate()).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def _request(client, spec: IdRoute, url: str, world: World, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return getattr(client, spec.method)(url, spec.data(world), headers=headers, follow=spec.follow)


def _assert_success(spec: IdRoute, response, url: str) -> None:
    assert response.status_code in spec.ok, (url, response.status_code)
    if response.status_code == 200:
        assert response["Content-Type"].startswith(spec.content_type), url
    if response.status_code == 302:
        assert not response.url.startswith("/login/"), (url, response.url)


@pytest.mark.parametrize("route", sorted(ID_ROUTES))
def test_id_routes_are_isolated(route, worlds, signed_in, client):
    """A's staff reach A's object; B's object is refused through A's URL and B's URL,
    while B's staff reach it through B's URL (so it is a real object there)."""
    spec = ID_ROUTES[route]
    world_a, world_b = worlds
    # Resolve B's objects first: A's requests below must not be able to change them.
    kwargs_a, kwargs_b = spec.kwargs(world_a), spec.kwargs(world_b)
    if spec.api:
        http, token = client, world_a.api_client[1]
    else:
        http, token = signed_in(world_a.staff), None
    home = _url(route, A, kwargs_a)
    through_a = _url(route, A, kwargs_b)
    through_b = _url(route, B, kwargs_b)
    public = getattr(resolve(home).func, "machi_public", False)
    object_arguments = {k: v for k, v in kwargs_b.items() if k not in ("action", "name", "step")}

    # B's object under A's address: not found at A (or refused), whatever A's staff may do.
    if object_arguments:
        assert kwargs_a != kwargs_b
        response = _request(http, spec, through_a, world_b, token)
        assert response.status_code in (403, 404), (through_a, response.status_code)
    # B's address: A's staff (or A's API client) are refused; public views answer anyone.
    if not public:
        response = _request(http, spec, through_b, world_b, token)
        assert response.status_code in (401, 403, 404), (through_b, response.status_code)
    # B's own staff reach B's object: the 404 at A is not merely a missing object.
    if spec.api:
        http_b, token_b = Client(), world_b.api_client[1]
    else:
        http_b, token_b = signed_in(world_b.staff), None
    _assert_success(spec, _request(http_b, spec, through_b, world_b, token_b), through_b)
    # At home the same request succeeds: the refusals above are not vacuous. Last, as it
    # may change A's object (a revoked token, a reset password, a resident moved out).
    _assert_success(spec, _request(http, spec, home, world_a, token), home)
