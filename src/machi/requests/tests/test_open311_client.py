"""Open311 GeoReport v2 over real HTTP, from third-party clients' side.

The GET methods go through ``georeport`` (a published GeoReport v2 client, PyPI); it
has no discovery and no POST, so those go through a minimal client written here from
the spec's examples (urllib, form-encoded POST), and the XML is read with ElementTree
against the element names the spec documents.

The server is Django's WSGI handler on a loopback port in a thread that shares the
test's database connections (the test's transactions stay uncommitted and are rolled
back as usual). pytest-django's ``live_server`` would need a transactional test, whose
flush at the end would empty the municipalities every other test relies on.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import time_machine
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connections
from georeport import GeoReport

from machi.apiclients.services import apiclient_create
from machi.requests.models import Category, CategoryAttribute
from machi.requests.services import request_create
from machi.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db(databases="__all__")

A = "131016"
NOW = "2026-12-07T12:00:00+09:00"
REQUEST_ELEMENTS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
    "long", "media_url",
}  # fmt: skip
SERVICE_ELEMENTS = {
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group"
}  # fmt: skip


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def server_url(data) -> Iterator[str]:
    """http://127.0.0.1:<port>/open311/v2/131016 served from the test's connections."""
    shared = {conn.alias: conn for conn in connections.all(initialized_only=True)}
    for conn in shared.values():
        conn.inc_thread_sharing()
    # As django.test.Client does: a request's end must not close the test's connections.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    httpd: WSGIServer = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_Quiet)

    def serve() -> None:
        for alias, conn in shared.items():
            connections[alias] = conn
        httpd.serve_forever(poll_interval=0.05)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/open311/v2/{A}"
    finally:
        httpd.shutdown()
        thread.join(5)
        httpd.server_close()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        for conn in shared.values():
            conn.dec_thread_sharing()


@pytest.fixture
def data(doro):
    with time_machine.travel("2026-12-01T10:00:00+09:00", tick=False), tenant_context(A):
        road = Category.objects.get(code="road_damage")
        CategoryAttribute.objects.create(
            category=road, code="kind", description="場所", datatype="singlevaluelist",
            required=True, order=1,
            values=[{"key": "road", "name": "車道"}, {"key": "walk", "name": "歩道"}],
        )  # fmt: skip
        light = request_create(category=Category.objects.get(code="streetlight"),
                               description="街灯が消えた", address="千代田1").request  # fmt: skip
        writer = apiclient_create(name="通報アプリ", scopes=["requests:write"])
    return {"light": light, "writer": writer.token}


def http(method: str, url: str, form: dict | None = None) -> tuple[int, str, bytes]:
    """One call as a vendor's client makes it: GET with a query, POST form-encoded."""
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=body, method=method)  # noqa: S310  loopback
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def xml(body: bytes) -> ET.Element:
    assert body.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(body)  # noqa: S314  our own server's output


@time_machine.travel(NOW, tick=True)
def test_discovery(server_url):
    status, content_type, body = http("GET", f"{server_url}/discovery.xml")
    assert status == 200 and content_type.startswith("text/xml")
    root = xml(body)
    assert root.tag == "discovery"
    assert {child.tag for child in root} >= {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = root.findall("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == f"{server_url}/"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "text/xml",
        "application/json",
    ]
    status, _, body = http("GET", f"{server_url}/discovery.json")
    assert status == 200 and json.loads(body)["endpoints"][0]["url"] == f"{server_url}/"


@pytest.mark.parametrize("fmt", ["json", "xml"])
@time_machine.travel(NOW, tick=True)
def test_georeport_client_lists_services_and_requests(server_url, data, fmt):
    client = GeoReport(server_url, jurisdiction=A, output_format=fmt)
    services = client.get_service_list()
    codes = [s["service_code"] for s in services]
    assert codes[:3] == ["road_damage", "streetlight", "garbage"]
    assert all(set(s) == SERVICE_ELEMENTS for s in services)
    definition = client.get_service_definition("road_damage")
    assert definition["service_code"] == "road_damage"
    attributes = definition["attributes"]
    attribute = attributes[0] if fmt == "json" else attributes["attribute"]
    assert attribute["code"] == "kind" and attribute["datatype"] == "singlevaluelist"
    requests = client.get_service_requests(status="open")
    (light,) = [requests] if isinstance(requests, dict) else requests  # xmltodict: one → dict
    assert set(light) == REQUEST_ELEMENTS
    assert light["service_request_id"] == data["light"].service_request_id
    assert light["requested_datetime"] == "2026-12-01T10:00:00+09:00"
    one = client.get_service_request(data["light"].service_request_id)
    assert one["description"] == "街灯が消えた" and one["status"] == "open"


@time_machine.travel(NOW, tick=True)
def test_post_a_request_and_an_update_then_read_them_back(server_url, data):
    status, _, body = http("POST", f"{server_url}/requests.xml", {
        "jurisdiction_id": A, "api_key": data["writer"], "service_code": "road_damage",
        "lat": "35.6940", "long": "139.7536", "description": "歩道に穴があいています",
        "attribute[kind]": "walk", "email": "resident@example.jp",
    })  # fmt: skip
    assert status == 200, body
    root = xml(body)
    assert root.tag == "service_requests"
    (created,) = root.findall("request")
    assert {c.tag for c in created} == {"service_request_id", "token", "service_notice",
                                        "account_id"}  # fmt: skip
    request_id, token = created.findtext("service_request_id"), created.findtext("token")
    status, _, body = http("GET", f"{server_url}/tokens/{token}.xml")
    assert xml(body).findtext("request/service_request_id") == request_id

    status, _, body = http("POST", f"{server_url}/servicerequestupdates.xml", {
        "jurisdiction_id": A, "api_key": data["writer"], "service_request_id": request_id,
        "update_id": "app-77", "updated_datetime": "2026-12-07T12:01:00+09:00",
        "status": "IN_PROGRESS", "description": "補修の予定を立てました",
        "email": "staff@example.jp", "first_name": "一郎", "last_name": "道路",
    })  # fmt: skip
    assert status == 200, body
    root = xml(body)
    assert root.tag == "service_request_updates"
    (update,) = root.findall("request_update")
    assert [c.tag for c in update] == ["update_id"]
    update_id = update.findtext("update_id")

    since = urllib.parse.urlencode({"start_date": "2026-12-07T00:00:00+09:00"})
    status, _, body = http("GET", f"{server_url}/servicerequestupdates.xml?{since}")
    rows = [{c.tag: c.text for c in u} for u in xml(body).findall("request_update")]
    assert {
        "update_id": update_id, "service_request_id": request_id, "status": "IN_PROGRESS",
        "updated_datetime": rows[-1]["updated_datetime"], "description": "補修の予定を立てました",
        "media_url": None,
    } in rows  # fmt: skip
    client = GeoReport(server_url, jurisdiction=A, output_format="xml")
    assert client.get_service_request(request_id)["status"] == "open"  # IN_PROGRESS is open


@time_machine.travel(NOW, tick=True)
def test_errors_in_the_spec_format(server_url, data):
    status, _, body = http("POST", f"{server_url}/servicerequestupdates.xml", {
        "api_key": data["writer"], "service_request_id": "999999", "update_id": "x",
        "updated_datetime": "2026-12-07T11:59:00+09:00", "status": "OPEN", "description": "?",
    })  # fmt: skip
    assert status == 404
    root = xml(body)
    assert root.tag == "errors"
    (error,) = root.findall("error")
    assert [c.tag for c in error] == ["code", "description"] and error.findtext("code") == "404"
    status, content_type, body = http("GET", f"{server_url}/requests.json?start_date=yesterday")
    assert status == 400 and content_type.startswith("application/json")
    assert json.loads(body)[0]["code"] == 400
    client = GeoReport(server_url, jurisdiction=A)
    with pytest.raises(Exception, match="404"):
        client.get_service_definition("no_such_service")
