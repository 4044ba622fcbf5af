"""The JSON API root (/api/v1/). Routers of each app are added here."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI, Schema, Status
from ninja.renderers import JSONRenderer

from machi.tenancy.selectors import database_health


class Utf8JSONRenderer(JSONRenderer):
    """JSON in UTF-8 as it is: Japanese messages stay readable (no \\u escapes)."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=Utf8JSONRenderer(),
    title="machi API",
    version="1",
    description="machi: 自治体クラウド API",
    urls_namespace="api",
)
api.add_router("/", "machi.procedures.api.router")
api.add_router("/", "machi.counter.api.router")
api.add_router("/", "machi.registry.api.router")
api.add_router("/", "machi.linkage.api.router")


class DatabaseStatus(Schema):
    name: str
    ok: bool


class HealthOut(Schema):
    ok: bool
    databases: list[DatabaseStatus]


@api.get("/health", response={200: HealthOut, 503: HealthOut}, auth=None, tags=["platform"])
def health(request: HttpRequest):
    """The control database and every municipality's database are reachable."""
    results = database_health()
    body = {
        "ok": all(r.ok for r in results),
        "databases": [{"name": r.name, "ok": r.ok} for r in results],
    }
    return Status(200 if body["ok"] else 503, body)
