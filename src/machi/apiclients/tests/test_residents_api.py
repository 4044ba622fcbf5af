"""The residents API: scopes, the My Number, isolation, staff sessions, audit, queries."""

from __future__ import annotations

import json

import pytest

from machi.accounts.roles import Role
from machi.api import api as ninja_api

from .conftest import A, B, QueryCount, audit_entries, move_in_at, person

pytestmark = pytest.mark.django_db(databases="__all__")

MY_NUMBER = "123456789018"


@pytest.fixture
def reader(api, make_client):
    _, token = make_client("residents:read")
    return api(token)


@pytest.fixture
def number_reader(api, make_client):
    client, token = make_client("residents:read", "residents:read:my_number", name="税務システム")
    caller = api(token)
    caller.client = client
    return caller


def _walk(value):
    """Every key anywhere in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_without_the_scope_the_my_number_never_appears(reader, residents_a):
    ichiro = residents_a[0]
    search = reader.get("/residents", query="たかはし")
    detail = reader.get(f"/residents/{ichiro.atena_number}")
    by_number = reader.get("/residents", number=ichiro.atena_number)
    for response in (search, detail, by_number):
        assert response.status_code == 200
        assert "my_number" not in set(_walk(response.json()))  # absent, not null
        assert MY_NUMBER.encode() not in response.content
    assert len(search.json()["results"]) == 2
    assert audit_entries(A, my_number_shown=True) == []


def test_staff_never_get_the_my_number_through_the_api(
    make_staff, signed_in, residents_a, municipality_a
):
    """Even staff allowed to reveal it: on the screen, with a purpose, not here."""
    staff = make_staff(
        municipality_a,
        ("shimin", Role.DEPARTMENT_STAFF),
        reveal_my_number_departments=frozenset({"shimin"}),
    )
    browser = signed_in(staff)
    detail = browser.get(f"/api/v1/{A}/residents/{residents_a[0].atena_number}")
    search = browser.get(f"/api/v1/{A}/residents", {"query": "髙橋"})
    for response in (detail, search):
        assert response.status_code == 200
        assert "my_number" not in set(_walk(response.json()))
        assert MY_NUMBER.encode() not in response.content
    assert audit_entries(A, my_number_shown=True) == []


def test_with_the_scope_it_appears_and_each_reveal_is_audited(number_reader, residents_a):
    ichiro, hanako = residents_a
    detail = number_reader.get(f"/residents/{ichiro.atena_number}").json()
    assert detail["my_number"] == MY_NUMBER
    # Recorded without one: the key is there (the scope allows it), the value null.
    assert number_reader.get(f"/residents/{hanako.atena_number}").json()["my_number"] is None
    search = number_reader.get("/residents", query="たかはし").json()
    numbers = {r["atena_number"]: r["my_number"] for r in search["results"]}
    assert numbers == {ichiro.atena_number: MY_NUMBER, hanako.atena_number: None}

    reveals = audit_entries(A, action="resident.my_number_revealed")
    assert [(e.object_id, e.function) for e in reveals] == [
        (ichiro.atena_number, "api:residents.get"),
        (ichiro.atena_number, "api:residents.search"),
    ]
    label = f"api:{number_reader.client.pk}:税務システム"
    for entry in reveals:
        assert entry.my_number_shown and entry.actor_username == label and entry.actor_id is None
        assert entry.purpose == "API: residents:read:my_number"
        assert MY_NUMBER not in str(entry.detail)


def test_detail_contents(reader, residents_a):
    ichiro, hanako = residents_a
    body = reader.get(f"/residents/{ichiro.atena_number}").json()
    assert body["name"] == "髙橋 一郎"  # exactly as registered (髙, not 高)
    assert body["household_number"] == ichiro.household.household_number
    assert body["household_members"] == [
        {"atena_number": hanako.atena_number, "relationship": "妻", "status": "1"}
    ]
    assert body["birth_date"] == {"text": "1980-05-10", "approx": "1980-05-10"}
    assert body["address"]["postal_code"] == "1000001" and body["address"]["machiaza"] == "千代田"
    (entry,) = body["history"]
    assert entry["change"] == "move_in" and entry["filed_on"] == "2026-04-06"
    assert entry["effective_on"]["approx"] == "2026-04-03"
    assert "name" in entry["fields"]
    assert "my_number" in entry["fields"]  # that it changed, never its value
    assert MY_NUMBER.encode() not in reader.get(f"/residents/{ichiro.atena_number}").content
    (viewed,) = audit_entries(A, action="resident.viewed")[:1]
    assert viewed.object_id == ichiro.atena_number


def test_search_terms_paging_and_errors(reader, residents_a):
    ichiro, hanako = residents_a
    born_1980 = reader.get("/residents", query="髙橋", birth="昭和55年").json()
    assert [r["atena_number"] for r in born_1980["results"]] == [ichiro.atena_number]
    assert born_1980["results"][0]["match"] in ("exact", "variant")
    variant = reader.get("/residents", query="高橋 花子").json()  # 高 finds 髙
    assert [r["atena_number"] for r in variant["results"]] == [hanako.atena_number]
    first = reader.get("/residents", query="たかはし", limit=1).json()
    second = reader.get("/residents", query="たかはし", limit=1, offset=1).json()
    assert first["total"] == second["total"] == 2 and first["total_is_lower_bound"] is False
    assert {first["results"][0]["atena_number"], second["results"][0]["atena_number"]} == {
        ichiro.atena_number, hanako.atena_number,
    }  # fmt: skip
    assert reader.get("/residents").json()["results"] == []  # no terms, no residents
    bad = reader.get("/residents", birth="令和99年13月")
    assert bad.status_code == 400 and bad.json()["detail"]
    assert reader.get("/residents", limit=201).status_code == 422
    assert reader.get("/residents", status="everyone").status_code == 422
    searches = audit_entries(A, action="resident.searched")
    assert searches[0].detail == {
        "terms": {"query": "髙橋", "birth": "昭和55年", "status": "all"}, "hits": 1,
    }  # fmt: skip


def test_unknown_resident_is_404(reader, municipality_a):
    response = reader.get("/residents/00000000")
    assert response.status_code == 404 and "00000000" in response.json()["detail"]


def test_a_client_of_a_gets_nothing_of_b(api, make_client, residents_b, municipality_a):
    _, token = make_client("residents:read", "residents:read:my_number")
    jiro = residents_b[0]
    at_a = api(token)
    assert at_a.get("/residents", query="たかはし じろう").json()["results"] == []
    assert at_a.get("/residents", number=jiro.atena_number).json()["results"] == []
    assert at_a.get(f"/residents/{jiro.atena_number}").status_code == 404
    at_b = api(token, lg_code=B)
    assert at_b.get(f"/residents/{jiro.atena_number}").status_code == 401
    assert at_b.get("/residents", query="たかはし").status_code == 401
    assert audit_entries(B, action__startswith="resident.viewed") == []
    assert audit_entries(B, action__startswith="resident.searched") == []


@pytest.mark.parametrize(
    ("memberships", "status"),
    [
        ([("shimin", Role.COUNTER_CLERK)], 200),
        ([("kosodate", Role.DEPARTMENT_STAFF)], 200),
        ([("shimin", Role.SUPERVISOR)], 200),
        ([("shimin", Role.MUNICIPALITY_ADMIN)], 401),  # no working role: reads no residents
    ],
)
def test_staff_sessions(
    memberships, status, make_staff, signed_in, residents_a, municipality_a, municipality_b
):
    staff = make_staff(municipality_a, *memberships)
    browser = signed_in(staff)
    atena = residents_a[0].atena_number
    assert browser.get(f"/api/v1/{A}/residents/{atena}").status_code == status
    assert browser.get(f"/api/v1/{A}/residents", {"query": "髙橋"}).status_code == status
    assert browser.get(f"/api/v1/{B}/residents", {"query": "髙橋"}).status_code == 401
    if status == 200:
        actions = [
            e.action for e in audit_entries(A, actor_id=staff.pk, action__startswith="resident.")
        ]
        assert actions == ["resident.viewed", "resident.searched"]


def test_search_query_count(reader, residents_a):
    reader.get("/residents", query="たかはし")
    with QueryCount() as few:
        assert len(reader.get("/residents", query="たかはし").json()["results"]) == 2
    move_in_at(
        A, [person(f"髙橋 {n}郎", f"たかはし {n}ろう", birth="1990-01-01") for n in range(30)]
    )
    with QueryCount() as many:
        assert len(reader.get("/residents", query="たかはし", limit=50).json()["results"]) == 32
    assert many.total == few.total <= 12, many.sql()


def test_detail_query_count(number_reader, residents_a):
    atena = residents_a[0].atena_number
    number_reader.get(f"/residents/{atena}")
    with QueryCount() as count:
        assert number_reader.get(f"/residents/{atena}").status_code == 200
    assert count.total <= 14, count.sql()


def test_openapi_documents_the_endpoints_with_schemas(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema == json.loads(json.dumps(ninja_api.get_openapi_schema()))
    paths = schema["paths"]
    feed = paths["/api/v1/{lg_code}/events"]["get"]
    detail = paths["/api/v1/{lg_code}/residents/{atena_number}"]["get"]
    search = paths["/api/v1/{lg_code}/residents"]["get"]
    for operation in (feed, detail, search):
        assert {"200", "401", "403"} <= set(operation["responses"])
        assert operation["security"]
    components = schema["components"]["schemas"]
    assert {"FeedOut", "CloudEventOut", "ResidentOut", "SearchOut", "HitOut"} <= set(components)
    assert "my_number" not in components["ResidentOut"].get("required", [])
    assert {p["name"] for p in feed["parameters"]} >= {"after", "limit", "types", "wait"}
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_openapi_declares_each_status_once_as_text(client):
    """JSON keys are text: a status declared by a view (int) and by the platform ("422")
    must be one key, the view's."""
    raw = client.get("/api/v1/openapi.json").content.decode()
    schema = json.loads(raw, object_pairs_hook=_refuse_duplicate_keys)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert all(code.isdigit() for code in operation["responses"]), (path, method)
    navigator = schema["paths"]["/api/v1/{lg_code}/navigator"]["post"]["responses"]["422"]
    assert navigator["content"]["application/json"]["schema"]["$ref"].endswith("/NavigatorError")
    life_events = schema["paths"]["/api/v1/{lg_code}/life-events"]["post"]["responses"]
    assert life_events["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/IntakeErrorOut"
    )


def _refuse_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"duplicate keys: {keys}"
    return dict(pairs)
