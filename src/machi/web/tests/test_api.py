from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(databases="__all__")


def test_health_reports_every_database(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    names = {d["name"]: d["ok"] for d in body["databases"]}
    assert names["default"] is True
    assert names["tenant_131016"] is True and names["tenant_271403"] is True


def test_health_reports_unreachable_tenant(client, new_tenants):
    from machi.tenancy.models import Municipality

    new_tenants.append("131130")
    Municipality.objects.create(
        lg_code="131130",
        name="渋谷区",
        prefecture="東京都",
        database_url="postgres://machi:secret@127.0.0.1:1/nowhere",
    )
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["ok"] is False
    assert {"name": "tenant_131130", "ok": False} in body["databases"]
    assert {"name": "tenant_131016", "ok": True} in body["databases"]
    assert "nowhere" not in response.content.decode()
    assert "secret" not in response.content.decode()


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert "/api/v1/health" in document["paths"]


def test_swagger_ui_is_local(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
