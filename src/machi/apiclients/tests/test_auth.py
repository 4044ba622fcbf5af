"""Bearer authentication: the URL's municipality only, expiry, revocation, scopes, audit."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from machi.apiclients import services
from machi.apiclients.models import ApiClient
from machi.tenancy.context import tenant_context

from .conftest import A, B, audit_entries

pytestmark = pytest.mark.django_db(databases="__all__")

# Every client endpoint and the scope it needs.
ENDPOINTS = [
    ("/events", {}, "events:read"),
    ("/residents", {"query": "たかはし"}, "residents:read"),
    ("/residents/00000019", {}, "residents:read"),
]


@pytest.mark.parametrize(("path", "params", "scope"), ENDPOINTS)
def test_no_or_bad_credentials_get_401(path, params, scope, api, make_client, municipality_a):
    make_client(scope)
    assert api(None).get(path, **params).status_code == 401
    for token in ("", "machi_", "machi_" + "x" * 43, "not-a-machi-token"):
        response = api(token).get(path, **params)
        assert response.status_code == 401, token
        assert "detail" in response.json()
    other = api(None)
    response = other.http.get(
        f"/api/v1/{A}{path}", params, headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert response.status_code == 401 and "Bearer" in response.json()["detail"]


@pytest.mark.parametrize(("path", "params", "scope"), ENDPOINTS)
def test_token_of_a_at_b_is_unknown(path, params, scope, api, make_client, municipality_b):
    _, token = make_client(scope)
    response = api(token, lg_code=B).get(path, **params)
    assert response.status_code == 401
    assert "この自治体に登録されたトークンではありません" in response.json()["detail"]
    # Readable as it is (curl, logs of the vendor): UTF-8, not \u escapes.
    assert "この自治体に登録されたトークン".encode() in response.content
    # Nothing was read in B, and the refusal names no client of B.
    assert audit_entries(B, action__startswith="api.") == []
    assert audit_entries(B, action__startswith="resident.") == []


@pytest.mark.parametrize(("path", "params", "scope"), ENDPOINTS)
def test_revoked_token_gets_401_and_is_audited(path, params, scope, api, make_client):
    client, token = make_client(scope)
    assert api(token).get(path, **params).status_code in (200, 404)
    with tenant_context(A):
        services.apiclient_revoke(client=client)
    response = api(token).get(path, **params)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]
    (refusal,) = audit_entries(A, action="api.refused")
    assert refusal.detail["reason"] == "revoked"
    assert refusal.actor_username == f"api:{client.pk}:国保システム" and refusal.actor_id is None


@pytest.mark.parametrize(("path", "params", "scope"), ENDPOINTS)
def test_expired_token_gets_401(path, params, scope, api, make_client):
    client, token = make_client(scope, expires_at=timezone.now() + datetime.timedelta(hours=1))
    assert api(token).get(path, **params).status_code in (200, 404)
    with tenant_context(A):
        ApiClient.objects.filter(pk=client.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    response = api(token).get(path, **params)
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    (refusal,) = audit_entries(A, action="api.refused")
    assert refusal.detail["reason"] == "expired"


@pytest.mark.parametrize(("path", "params", "scope"), ENDPOINTS)
def test_missing_scope_gets_403_naming_it(path, params, scope, api, make_client):
    others = [s for s in ("events:read", "residents:read", "life_events:write") if s != scope]
    _, token = make_client(*others)
    response = api(token).get(path, **params)
    assert response.status_code == 403
    assert f"missing scope: {scope}" in response.json()["detail"]
    (refusal,) = audit_entries(A, action="api.refused")
    assert refusal.detail == {"reason": "scope", "scope": scope}
    # The My Number scope alone does not open the residents API.
    if scope == "residents:read":
        _, token = make_client("residents:read:my_number")
        assert api(token).get(path, **params).status_code == 403


def test_every_call_is_audited_with_the_client(api, make_client, residents_a):
    client, token = make_client("events:read", "residents:read")
    caller = api(token)
    assert caller.get("/events").status_code == 200
    assert caller.get("/residents", query="髙橋").status_code == 200
    atena = residents_a[0].atena_number
    assert caller.get(f"/residents/{atena}").status_code == 200
    assert caller.get("/residents/99999999").status_code == 404
    label = f"api:{client.pk}:国保システム"
    entries = audit_entries(A, actor_username=label)
    assert [e.action for e in entries] == [
        "api.events.read", "resident.searched", "resident.viewed", "resident.not_found",
    ]  # fmt: skip
    assert all(e.actor_id is None for e in entries)
    assert entries[1].detail["terms"]["query"] == "髙橋" and entries[1].function.startswith("api:")
    assert entries[2].object_id == atena
    # The client's label is what an audit search by actor finds.
    from machi.audit.selectors import audit_search

    with tenant_context(A):
        assert audit_search(actor=label).count() == 4


def test_last_used_is_recorded(api, make_client):
    client, token = make_client("events:read")
    assert client.last_used_at is None
    api(token).get("/events")
    with tenant_context(A):
        client.refresh_from_db()
    assert client.last_used_at is not None
    assert timezone.now() - client.last_used_at < datetime.timedelta(minutes=1)
