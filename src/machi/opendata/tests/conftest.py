import threading
from collections.abc import Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connections

from machi.tenancy.context import tenant_context

A, B = "131016", "271403"


@pytest.fixture
def author(make_staff, municipality_a):
    return make_staff(municipality_a, ("kikaku", "web_author"), username="od-author")


@pytest.fixture
def approver(make_staff, municipality_a):
    return make_staff(municipality_a, ("kikaku", "web_approver"), username="od-approver")


@pytest.fixture
def clerk(make_staff, municipality_a):
    return make_staff(municipality_a, ("shimin", "counter_clerk"), username="od-clerk")


@pytest.fixture
def approver_b(make_staff, municipality_b):
    return make_staff(municipality_b, ("kikaku", "web_approver"), username="od-approver-b")


@pytest.fixture
def in_a(municipality_a):
    with tenant_context(A):
        yield


CSV_UTF8 = (
    "施設名,住所,緯度,経度\r\n"
    "中央図書館,千代田区1-1,35.68,139.75\r\n"
    "区民会館,千代田区2-2,35.69,139.76\r\n"
).encode()


@pytest.fixture
def published(in_a):
    """A generated dataset in A, published with one CSV resource."""
    from machi.opendata.services import ResourceIn, dataset_publish

    return dataset_publish(
        slug="facilities", title="公共施設一覧", notes="区の公共施設です。",
        tags=["施設", "公共施設"], frequency="ANNUAL",
        resources=[ResourceIn(name="公共施設一覧", format="CSV", content=CSV_UTF8,
                              media_type="text/csv")],
    )  # fmt: skip


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def server_url(db) -> Iterator[str]:
    """http://127.0.0.1:<port> served by Django in a thread sharing the test's database
    connections: real HTTP for real clients (ckanapi), while the test's transactions stay
    uncommitted and roll back (a live_server test would flush the shared municipalities,
    see requests/tests/test_open311_client.py)."""
    shared = {conn.alias: conn for conn in connections.all(initialized_only=True)}
    for conn in shared.values():
        conn.inc_thread_sharing()
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
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(5)
        httpd.server_close()
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
        for conn in shared.values():
            conn.dec_thread_sharing()


@pytest.fixture
def catalogue(in_a, published, author, approver):
    """A's catalogue: the generated 公共施設一覧, a GeoJSON AED list, a draft."""
    from machi.opendata.services import (
        dataset_create,
        dataset_state_set,
        resource_upload,
    )

    aed = dataset_create(
        actor=author,
        name="aed",
        title="AED設置箇所一覧",
        notes="区内のAED設置場所",
        tags=["防災", "AED"],
        frequency="MONTHLY",
        department="防災課",
        contact_name="防災課 防災係",
        contact_email="bosai@example.jp",
    )
    resource_upload(actor=author, dataset=aed, name="AED設置箇所", format="GeoJSON",
                    content=GEOJSON)  # fmt: skip
    dataset_state_set(actor=approver, dataset=aed, publish=True)
    draft = dataset_create(actor=author, name="draft-only", title="下書きの防災データ",
                           tags=["防災"])  # fmt: skip
    resource_upload(actor=author, dataset=draft, name="表", format="CSV", content=CSV_UTF8)
    return {"facilities": published, "aed": aed, "draft": draft}


GEOJSON = (
    '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
    '{"type": "Point", "coordinates": [139.75, 35.68]}, "properties": {"name": "区役所"}}]}'
).encode()
