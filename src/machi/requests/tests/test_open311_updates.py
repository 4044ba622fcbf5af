"""mySociety's POST servicerequestupdates: an API client with requests:write posts a
public note and/or a status change; each goes through the request services (history,
audit, outbox event), a retry of the same update_id writes nothing, bad input gets the
spec's error format and writes nothing, in XML and JSON."""

import json
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.test import Client

from machi.apiclients.services import apiclient_create, apiclient_revoke
from machi.audit.models import AuditEntry
from machi.linkage.models import OutboxEvent
from machi.requests.models import Category, Request, RequestUpdate
from machi.requests.services import ANSWERED, STATUS_CHANGED, request_create
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A, B = "131016", "271403"
NOW = "2026-12-07T12:00:00+09:00"


@pytest.fixture(params=["xml", "json"])
def fmt(request):
    return request.param


def post(lg_code: str, fmt: str, form: dict):
    response = Client().post(f"/open311/v2/{lg_code}/servicerequestupdates.{fmt}", form)
    if fmt == "json":
        assert response["Content-Type"].startswith("application/json")
        return response.status_code, json.loads(response.content)
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314  our own server's output
    if root.tag == "errors":
        rows = [{c.tag: c.text for c in e} for e in root.findall("error")]
    else:
        assert root.tag == "service_request_updates"
        assert all(child.tag == "request_update" for child in root)
        rows = [{c.tag: c.text for c in e} for e in root]
    return response.status_code, rows


@pytest.fixture
def data(doro):
    with time_machine.travel("2026-12-01T10:00:00+09:00", tick=False):
        with tenant_context(A):
            light = request_create(
                category=Category.objects.get(code="streetlight"), description="街灯が消えた",
                address="千代田1",
            ).request  # fmt: skip
            opinion = request_create(category=Category.objects.get(code="policy_opinion"),
                                     description="意見", address="千代田").request  # fmt: skip
            writer = apiclient_create(name="道路課システム", scopes=["requests:write"])
            reader = apiclient_create(name="feed", scopes=["events:read"])
            revoked = apiclient_create(name="old", scopes=["requests:write"])
            apiclient_revoke(client=revoked.client)
        with tenant_context(B):
            b_request = request_create(category=Category.objects.get(code="garbage"),
                                       description="B のごみ", address="堺区").request  # fmt: skip
            b_writer = apiclient_create(name="b", scopes=["requests:write"])
    return {
        "light": light, "opinion": opinion, "b": b_request, "writer": writer.token,
        "writer_client": writer.client, "reader": reader.token, "revoked": revoked.token,
        "b_writer": b_writer.token,
    }  # fmt: skip


def form(data, **fields) -> dict:
    values = {
        "api_key": data["writer"], "service_request_id": data["light"].service_request_id,
        "update_id": "fms-1", "updated_datetime": "2026-12-07T11:58:00+09:00",
        "status": "IN_PROGRESS", "description": "明日交換します",
        "email": "taro@example.jp", "first_name": "太郎", "last_name": "山田",
    }  # fmt: skip
    values.update(fields)
    return values


def counts(lg_code: str = A) -> tuple[int, int, int]:
    with tenant_context(lg_code):
        return (
            RequestUpdate.objects.count(), OutboxEvent.objects.count(), AuditEntry.objects.count()
        )  # fmt: skip


def events(lg_code: str = A) -> list[tuple[str, dict]]:
    with tenant_context(lg_code):
        return [(e.type, e.data) for e in OutboxEvent.objects.order_by("seq")]


@time_machine.travel(NOW, tick=False)
def test_status_change_with_note(fmt, data):
    status, rows = post(A, fmt, form(data))
    assert status == 200, rows
    ((row),) = rows
    assert set(row) == {"update_id"}
    with tenant_context(A):
        update = RequestUpdate.objects.get(pk=int(row["update_id"]))
        light = Request.objects.get(pk=data["light"].pk)
        client_label = data["writer_client"].audit_actor_label
        audit = list(
            AuditEntry.objects.filter(object_id=light.service_request_id)
            .order_by("seq")
            .values_list("action", "actor_username")
        )
    assert light.status == "in_progress"
    assert (update.kind, update.status, update.previous_status) == ("status", "in_progress", "open")
    assert update.text == "明日交換します" and update.is_public
    assert update.staff_username == client_label
    assert audit[-2:] == [
        ("requests.request.status_changed", client_label),
        ("requests.open311.update_received", client_label),
    ]
    type_, payload = events()[-1]
    assert type_ == STATUS_CHANGED
    assert payload == {"service_request_id": light.service_request_id, "from": "open",
                       "to": "in_progress", "update_id": update.pk}  # fmt: skip
    # the reporter of the update is not kept anywhere
    with tenant_context(A):
        assert not AuditEntry.objects.filter(detail__icontains="taro").exists()
        assert "太郎" not in str(list(AuditEntry.objects.values_list("detail", flat=True)))
    # GET servicerequestupdates shows it, in the extended status
    response = Client().get(f"/open311/v2/{A}/servicerequestupdates.json")
    (shown,) = json.loads(response.content)
    assert shown["update_id"] == row["update_id"] and shown["status"] == "IN_PROGRESS"
    assert shown["description"] == "明日交換します"


@time_machine.travel(NOW, tick=False)
def test_note_without_status_change_is_a_public_answer(fmt, data):
    status, rows = post(A, fmt, form(data, status="OPEN", description="確認に向かいます"))
    assert status == 200, rows
    with tenant_context(A):
        update = RequestUpdate.objects.get(pk=int(rows[0]["update_id"]))
        assert Request.objects.get(pk=data["light"].pk).status == "open"
    assert (update.kind, update.is_public, update.text) == ("answer", True, "確認に向かいます")
    assert events()[-1] == (
        ANSWERED,
        {"service_request_id": data["light"].service_request_id, "update_id": update.pk,
         "public": True},
    )  # fmt: skip
    response = Client().get(f"/open311/v2/{A}/requests/{data['light'].service_request_id}.json")
    assert json.loads(response.content)[0]["status_notes"] == "確認に向かいます"


@time_machine.travel(NOW, tick=False)
def test_generic_open_and_closed(fmt, data):
    """CLOSED closes an open request (終了); OPEN reopens it (受付); the same side keeps the
    extended state."""
    status, _ = post(A, fmt, form(data, status="INVESTIGATING", update_id="u1"))
    assert status == 200
    status, _ = post(A, fmt, form(data, status="OPEN", update_id="u2", description="調査中"))
    assert status == 200
    with tenant_context(A):
        assert Request.objects.get(pk=data["light"].pk).status == "investigating"
    status, _ = post(A, fmt, form(data, status="closed", update_id="u3", description="交換済み"))
    assert status == 200
    with tenant_context(A):
        assert Request.objects.get(pk=data["light"].pk).status == "closed"
    status, _ = post(A, fmt, form(data, status="OPEN", update_id="u4", description="再発"))
    assert status == 200
    with tenant_context(A):
        assert Request.objects.get(pk=data["light"].pk).status == "open"
    assert [t for t, _ in events()].count(STATUS_CHANGED) == 3


@time_machine.travel(NOW, tick=False)
def test_retry_of_the_same_update_writes_nothing(fmt, data):
    status, first = post(A, fmt, form(data))
    assert status == 200
    before = counts()
    status, again = post(A, fmt, form(data))
    assert status == 200 and again == first
    assert counts() == before
    status, rows = post(A, fmt, form(data, description="別の内容"))
    assert status == 400 and rows[0]["code"] in (400, "400")
    assert "fms-1" in rows[0]["description"]
    assert counts() == before
    # another client may use the same id of its own
    with tenant_context(A):
        other = apiclient_create(name="other", scopes=["requests:write"]).token
    status, rows = post(A, fmt, form(data, api_key=other, status="OPEN", description="別の会社"))
    assert status == 200 and rows != first


@time_machine.travel(NOW, tick=False)
def test_a_request_not_listed_publicly_can_be_updated(fmt, data):
    """The department's system learns every id from the events, not only public ones."""
    status, rows = post(A, fmt, form(data, service_request_id=data["opinion"].service_request_id,
                                     status="FIXED", description="施策に反映しました"))  # fmt: skip
    assert status == 200, rows
    with tenant_context(A):
        assert Request.objects.get(pk=data["opinion"].pk).status == "fixed"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"api_key": ""}, 403),
        ({"api_key": "machi_wrong"}, 403),
        ({"api_key": "reader"}, 403),  # no requests:write
        ({"api_key": "revoked"}, 403),
        ({"api_key": "b_writer"}, 403),  # B's key at A's endpoint
        ({"service_request_id": ""}, 400),
        ({"service_request_id": "999999"}, 404),
        ({"service_request_id": "abc"}, 404),
        ({"update_id": ""}, 400),
        ({"update_id": "x" * 101}, 400),
        ({"status": ""}, 400),
        ({"status": "PENDING"}, 400),
        ({"status": "DUPLICATE"}, 400),  # merged by staff with its original
        ({"updated_datetime": ""}, 400),
        ({"updated_datetime": "2026-12-07"}, 400),  # a date, not a datetime
        ({"updated_datetime": "2026-12-07T11:58:00"}, 400),  # no time zone
        ({"updated_datetime": "2026-12-07T25:00:00+09:00"}, 400),
        ({"updated_datetime": "2026-12-07T13:00:00+09:00"}, 400),  # in the future
        ({"updated_datetime": "2026-11-30T10:00:00+09:00"}, 400),  # before it was filed
        ({"status": "OPEN", "description": ""}, 400),  # nothing to update
        ({"status": "OPEN", "description": "   "}, 400),
        ({"description": "長" * 4001}, 400),
        ({"media_url": "javascript:alert(1)"}, 400),
        ({"jurisdiction_id": B}, 404),
    ],
)
def test_bad_updates_are_refused_and_write_nothing(fmt, data, fields, code):
    values = form(data, **fields)
    if values["api_key"] in ("reader", "revoked", "b_writer"):
        values["api_key"] = data[values["api_key"]]
    refusal_audited = fields.get("api_key") in ("reader", "revoked")
    updates, outbox, audit = counts()
    status, rows = post(A, fmt, values)
    assert status == code, rows
    ((error),) = rows
    assert int(error["code"]) == code and error["description"]
    assert counts() == (updates, outbox, audit + (1 if refusal_audited else 0))
    with tenant_context(A):
        assert Request.objects.get(pk=data["light"].pk).status == "open"


@time_machine.travel(NOW, tick=False)
def test_municipalities_kept_apart(fmt, data):
    before_b = counts(B)
    # A's key at B's endpoint, on B's request: unknown there
    status, rows = post(B, fmt, form(data, service_request_id=data["b"].service_request_id))
    assert status == 403
    assert counts(B) == before_b
    # B's key on B's request works at B's endpoint and touches nothing of A
    before_a = counts(A)
    status, rows = post(B, fmt, form(data, api_key=data["b_writer"],
                                     service_request_id=data["b"].service_request_id))  # fmt: skip
    assert status == 200, rows
    assert counts(A) == before_a
    with tenant_context(B):
        assert Request.objects.get(pk=data["b"].pk).status == "in_progress"


def test_other_http_methods(fmt, data):
    response = Client().put(f"/open311/v2/{A}/servicerequestupdates.{fmt}")
    assert response.status_code == 405
    response = Client().get(f"/open311/v2/{A}/servicerequestupdates.{fmt}")
    assert response.status_code == 200
