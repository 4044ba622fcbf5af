"""Bad input at the API's boundary: 4xx with a JSON message, never a 500."""

from __future__ import annotations

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"


def test_a_body_over_the_limit_is_413_with_a_json_message(client, municipality_a):
    body = b'{"x": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    response = client.post(f"/api/v1/{A}/navigator", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}" in response.json()["detail"]


def test_a_body_at_the_limit_is_read(client, municipality_a):
    response = client.post(f"/api/v1/{A}/navigator", b"{}", content_type="application/json")
    assert response.status_code == 422  # read, and refused for what it says


@pytest.fixture
def token(municipality_a):
    from machi.apiclients.services import apiclient_create
    from machi.tenancy.context import tenant_context

    with tenant_context(A):
        return apiclient_create(name="t", scopes=["residents:read", "events:read"]).token


@pytest.mark.parametrize(
    "path, params",
    [
        ("/residents", {"postal_code": "100", "offset": "579201743832741520080896"}),
        ("/residents", {"postal_code": "100", "offset": "10000001"}),
        ("/residents", {"query": "髙橋\x00"}),
        ("/residents/12\x0034", {}),
        ("/events", {"after": str(2**63)}),
        ("/events", {"types": "jp.machi.\x00"}),
    ],
)
def test_out_of_bounds_parameters_are_422(client, token, path, params):
    response = client.get(
        f"/api/v1/{A}{path}", params, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422, response.content
    assert response.json()["detail"][0]["loc"][0] in ("query", "path")


def test_the_largest_offset_is_answered(client, token):
    response = client.get(
        f"/api/v1/{A}/residents",
        {"postal_code": "100", "offset": "10000000"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.json()["results"] == []


def test_unknown_municipality_is_a_json_404(client, municipality_a):
    response = client.get("/api/v1/999999/residents")
    assert response.status_code == 404
    assert "999999" in response.json()["detail"]


def test_the_openapi_document_declares_the_platform_answers(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    search = paths["/api/v1/{lg_code}/residents"]["get"]["responses"]
    assert {"401", "403", "404", "422"} <= set(search)
    navigator = paths["/api/v1/{lg_code}/navigator"]["post"]["responses"]
    assert {"404", "413", "422"} <= set(navigator)
    offset = next(
        p
        for p in paths["/api/v1/{lg_code}/residents"]["get"]["parameters"]
        if p["name"] == "offset"
    )
    assert offset["schema"]["maximum"] == 10_000_000
