"""POST /api/v1/{lg_code}/navigator."""

from __future__ import annotations

import json

import pytest

from machi.procedures import services
from machi.procedures.tests.helpers import P, S, fired
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

SCENARIO = S("move_in", ["o", "k"], [P("o", "1958-01-01", householder=True), P("k", "2019-06-01")])


def post(client, lg_code, body, **extra):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(
        f"/api/v1/{lg_code}/navigator", data=data, content_type="application/json", **extra
    )


def test_navigator_is_public_and_answers_domain_json(client, municipality_a):
    response = post(client, "131016", SCENARIO)
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["procedures"]
    assert all(
        list(item) == ["code", "title", "department", "person", "filer", "due", "reason"]
        for item in body["procedures"]
    )
    assert fired(body, "kaigo.enroll") == ["o"]
    assert fired(body, "school.transfer_in") == ["k"]


def test_bad_input_is_422_with_the_fields(client, municipality_a):
    response = post(client, "131016", S("moving", ["p9"], [P("a", "1980-02-30x")]))
    assert response.status_code == 422
    body = response.json()
    assert any(e.startswith('event.type: 未知の出来事 "moving"') for e in body["errors"])
    assert any(e.startswith("persons[0].birth_date: ") for e in body["errors"])
    assert "event.type" in body["detail"]


def test_malformed_json_is_400(client, municipality_a):
    response = post(client, "131016", "{not json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON として読めません")


def test_get_is_405_and_unknown_municipality_404(client, municipality_a):
    assert client.get("/api/v1/131016/navigator").status_code == 405
    assert post(client, "011002", SCENARIO).status_code == 404


def test_the_municipality_override_applies(client, make_staff, municipality_a, municipality_b):
    admin = make_staff(municipality_a, ("shimin", "municipality_admin"))
    with tenant_context("131016"):
        services.catalogue_upload(
            text="procedures:\n  - code: kaigo.enroll\n    disabled: true\n",
            actor=admin,
            comment="x",
        )
    assert fired(post(client, "131016", SCENARIO).json(), "kaigo.enroll") == []
    assert fired(post(client, "271403", SCENARIO).json(), "kaigo.enroll") == ["o"]


def test_staff_of_another_municipality_are_refused(make_staff, signed_in, municipality_b):
    staff_b = make_staff(municipality_b, ("shimin", "counter_clerk"))
    client = signed_in(staff_b)
    assert post(client, "131016", SCENARIO).status_code == 403
    assert post(client, "271403", SCENARIO).status_code == 200


def test_openapi_documents_the_endpoint(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/{lg_code}/navigator"]["post"]
    assert "requestBody" in operation


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event": {"type": {}, "date": "2000-01-01", "subjects": []}, "persons": [],
          "answers": {}}, "event.type: "),
        (S("move_in", [], [P("a")]), "event.subjects: "),
        (S("move_in", ["a"], []), "persons: "),
        (S("move_in", ["zz"], [P("a")]), "event.subjects[0]: "),
        (S("move_in", ["a"], [P("a")], date="2026-13-01"), "event.date: "),
        ({"event": [], "persons": "x"}, "event: "),
    ],
)  # fmt: skip
def test_wrong_shapes_are_422_naming_the_field_never_500(client, municipality_a, body, field):
    response = post(client, "131016", body)
    assert response.status_code == 422
    assert any(e.startswith(field) for e in response.json()["errors"]), response.json()


def test_openapi_states_the_input_and_the_422(client):
    schema = client.get("/api/v1/openapi.json").json()
    operation = schema["paths"]["/api/v1/{lg_code}/navigator"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["persons"]["minItems"] == 1
    assert body["properties"]["event"]["properties"]["subjects"]["minItems"] == 1
    assert (
        "NavigatorError"
        in operation["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    )
    procedure = schema["components"]["schemas"]["ProcedureOut"]
    assert "filer" in procedure["properties"]
