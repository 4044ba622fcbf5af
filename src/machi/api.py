"""The JSON API root (/api/v1/). Routers of each app are added here.

Some answers come from the platform rather than from an endpoint: the middleware's
404 for an unknown municipality, ninja's 401/403 for refused credentials, its 422 for a
parameter of the wrong type or out of bounds, and the 413 below for a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE``. ``MachiAPI`` declares them in the OpenAPI document of
every operation where they can happen, so that the document states the whole API.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema, Status
from ninja.renderers import JSONRenderer

from machi.apierrors import ErrorOut, ValidationErrorOut
from machi.tenancy.selectors import database_health

REF = "#/components/schemas/{model}"
_BODY_METHODS = ("post", "put", "patch")


class Utf8JSONRenderer(JSONRenderer):
    """JSON in UTF-8 as it is: Japanese messages stay readable (no \\u escapes)."""

    json_dumps_params = {"ensure_ascii": False}


def _response(description: str, model: type[Schema]) -> dict[str, Any]:
    ref = {"$ref": REF.format(model=model.__name__)}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


class MachiAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorOut, ValidationErrorOut):
            definition = model.model_json_schema(ref_template=REF)
            components.update(definition.pop("$defs", {}))
            components.setdefault(model.__name__, definition)
        for path, item in schema["paths"].items():
            for method, operation in item.items():
                _declare_platform_responses(path, method, operation)
        return schema


def _declare_platform_responses(path: str, method: str, operation: dict[str, Any]) -> None:
    # ninja keys responses by int; JSON keys are strings, and a 422 declared by the view
    # beside a "422" added here would be the same key twice in the document.
    responses = {str(code): value for code, value in operation.get("responses", {}).items()}
    operation["responses"] = responses
    if "{lg_code}" in path:
        responses.setdefault("404", _response("no such municipality", ErrorOut))
    if operation.get("security"):
        responses.setdefault(
            "401", _response("no, unknown, revoked or expired credentials", ErrorOut)
        )
        responses.setdefault("403", _response("a scope or role is missing (or CSRF)", ErrorOut))
    if operation.get("parameters"):
        responses.setdefault(
            "422",
            _response("a parameter of the wrong type or out of its bounds", ValidationErrorOut),
        )
    if method in _BODY_METHODS:
        responses.setdefault(
            "413", _response("the body is over the limit (docs/integration.md)", ErrorOut)
        )


api = MachiAPI(
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


@api.exception_handler(RequestDataTooBig)
def request_data_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    """Django refuses to read a body over the limit; say so as 413, not as a crash."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = f"リクエストの本文が大きすぎます（上限 {limit:,} バイト）。"
    return api.create_response(request, {"detail": message}, status=413)


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
