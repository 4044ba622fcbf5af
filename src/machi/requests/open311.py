"""Open311 GeoReport v2 server at /open311/v2/<lg_code>/ (plus mySociety's
servicerequestupdates), in XML (the spec's required format) and JSON.

One endpoint serves one jurisdiction: the municipality of the URL, put in force here
(TenantMiddleware knows only /<lg_code>/ and /api/v1/<lg_code>/ paths). Reads are
public and list only public, unhidden requests; POST needs ``api_key`` = the token of
an API client of *this* municipality with the scope ``requests:write``. Errors use the
spec's format: ``[{"code": 404, "description": "…"}]`` / ``<errors><error>…``.
Datetimes are W3C (ISO 8601) with the +09:00 offset.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from functools import wraps
from typing import Any

import orjson
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from machi.apiclients.selectors import apiclient_by_token
from machi.apiclients.services import apiclient_touch
from machi.audit.models import AuditEntry
from machi.audit.services import Terminal, audit_append
from machi.requests import selectors
from machi.requests.models import OPEN_STATUSES, Channel, Request, Status, open311_status
from machi.requests.services import (
    Reporter,
    request_answer,
    request_create,
    request_status_change,
)
from machi.tenancy.context import current_tenant_alias, tenant_context
from machi.tenancy.selectors import municipality_get
from machi.web.decorators import public_view

SPEC = "http://wiki.open311.org/GeoReport_v2"
SCOPE = "requests:write"
MAX_RESULTS = 1000
MAX_SPAN = datetime.timedelta(days=90)
FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


# --- rendering -----------------------------------------------------------------------


def _w3c(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    # The default zone (cached by Django), not localtime()'s lookup of the active one per
    # field: 3,000 of those were a tenth of a 1,000-request page. Open311 activates none.
    return value.astimezone(timezone.get_default_timezone()).isoformat(timespec="seconds")


def _xml(root: str, item: str | None, rows: Any) -> bytes:
    def fill(element: ET.Element, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                fill(ET.SubElement(element, key), sub)
        elif isinstance(value, tuple):  # (child element name, [values])
            name, items = value
            for sub in items:
                fill(ET.SubElement(element, name), sub)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        elif value is not None:
            element.text = str(value)

    top = ET.Element(root)
    if item is None:
        fill(top, rows)
    else:
        for row in rows:
            fill(ET.SubElement(top, item), row)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _plain(value: Any) -> Any:
    """The JSON form: (name, [values]) lists become plain lists."""
    if isinstance(value, dict):
        return {k: _plain(v) if isinstance(v, dict | tuple | list) else v for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value[1]]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _respond(fmt: str, root: str, item: str | None, rows: Any, status: int = 200) -> HttpResponse:
    # orjson: UTF-8 as the spec's examples, in a fifth of the json module's time
    body = orjson.dumps(_plain(rows)) if fmt == "json" else _xml(root, item, rows)
    return HttpResponse(body, status=status, content_type=FORMATS[fmt])


def _error(fmt: str, code: int, description: str) -> HttpResponse:
    return _respond(fmt, "errors", "error", [{"code": code, "description": description}], code)


def endpoint(view: Callable) -> Callable:
    """Municipality of the URL in force, Open311 errors for every refusal."""

    @public_view
    @csrf_exempt  # token-authenticated, no cookies: third-party clients post here
    @wraps(view)
    def wrapper(request: HttpRequest, lg_code: str, fmt: str = "xml", **kwargs: Any):
        municipality = municipality_get(lg_code=lg_code)
        if municipality is None:
            return _error(fmt, 404, f"jurisdiction {lg_code} not found")
        jurisdiction = request.GET.get("jurisdiction_id") or request.POST.get("jurisdiction_id")
        if jurisdiction and jurisdiction != lg_code:
            return _error(fmt, 404, f"jurisdiction_id {jurisdiction} is not served here")
        with tenant_context(lg_code):
            try:
                return view(request, municipality=municipality, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return _error(fmt, exc.code, exc.description)

    return wrapper


def _methods(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise Open311Error(405, f"method {request.method} not allowed")


# --- parameters ----------------------------------------------------------------------

_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$")


def w3c_parse(name: str, text: str) -> datetime.datetime:
    """A W3C datetime with its zone, or a bare date (the start of that day, local time)."""
    text = text.strip()
    if not _W3C.match(text):
        raise Open311Error(
            400, f"{name} must be a W3C datetime with a time zone, e.g. 2026-04-01T09:00:00+09:00"
        )
    try:
        if "T" not in text:
            day = datetime.date.fromisoformat(text)
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise Open311Error(400, f"{name} is not a valid date: {text}") from exc


def _date_range(
    params: Any, *, default_days: int = 90
) -> tuple[datetime.datetime, datetime.datetime]:
    start = w3c_parse("start_date", params["start_date"]) if params.get("start_date") else None
    end = w3c_parse("end_date", params["end_date"]) if params.get("end_date") else None
    if start and end and end < start:
        raise Open311Error(400, "end_date is before start_date")
    if start and end and end - start > MAX_SPAN:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days")
    if end is None:
        end = start + MAX_SPAN if start else timezone.now()
    if start is None:
        start = end - datetime.timedelta(days=default_days)
    return start, end


def _csv(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


# --- representations -----------------------------------------------------------------


def _service(category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.attributes.all()),
        "type": "realtime",
        "keywords": category.keywords,
        "group": category.group,
    }


def _request_row(row: dict[str, Any]) -> dict[str, Any]:
    """An Open311 request from a row of ``selectors.request_rows_public``."""
    lat, long = row["lat"], row["long"]
    return {
        "service_request_id": str(row["id"]),
        "status": open311_status(row["status"]),
        "status_notes": row["public_answer"] or "",
        "service_name": row["category__name"],
        "service_code": row["category__code"],
        "description": row["description"],
        "agency_responsible": row["department_name"],
        "service_notice": "",
        "requested_datetime": _w3c(row["requested_at"]),
        "updated_datetime": _w3c(row["updated_at"]),
        "expected_datetime": _w3c(row["expected_at"]),
        "address": row["address"],
        "address_id": "",
        "zipcode": "",
        "lat": float(lat) if lat is not None else None,
        "long": float(long) if long is not None else None,
        "media_url": row["media_url"],
    }


# --- views ---------------------------------------------------------------------------


@endpoint
def discovery(request: HttpRequest, *, municipality, fmt: str) -> HttpResponse:
    _methods(request, "GET")
    base = request.build_absolute_uri(f"/open311/v2/{municipality.lg_code}/")
    changed = selectors.catalogue_changed_at()
    return _respond(fmt, "discovery", None, {
        "changeset": _w3c(changed),
        "contact": f"{municipality.name}（Open311 GeoReport v2）",
        "key_service": f"{municipality.name} の管理者が API クライアントを登録します",
        "endpoints": ("endpoint", [{
            "specification": SPEC,
            "url": base,
            "changeset": _w3c(changed),
            "type": "production",
            "formats": ("format", ["text/xml", "application/json"]),
        }]),
    })  # fmt: skip


@endpoint
def services(request: HttpRequest, *, municipality, fmt: str) -> HttpResponse:
    _methods(request, "GET")
    rows = [_service(c) for c in selectors.category_list_active()]
    return _respond(fmt, "services", "service", rows)


@endpoint
def service_definition(request: HttpRequest, *, municipality, fmt: str, code: str):
    _methods(request, "GET")
    category = selectors.category_get_active(code=code)
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    attributes = [
        {
            "variable": True,
            "code": a.code,
            "datatype": "datetime" if a.datatype == "date" else a.datatype,
            "required": a.required,
            "datatype_description": "YYYY-MM-DD" if a.datatype == "date" else "",
            "order": a.order,
            "description": a.description,
            "values": ("value", [{"key": v["key"], "name": v["name"]} for v in a.values]),
        }
        for a in category.attributes.all()
    ]
    return _respond(fmt, "service_definition", None, {
        "service_code": category.code, "attributes": ("attribute", attributes),
    })  # fmt: skip


@endpoint
def requests(request: HttpRequest, *, municipality, fmt: str) -> HttpResponse:
    _methods(request, "GET", "POST")
    if request.method == "POST":
        return _post_request(request, fmt)
    params = request.GET
    ids = _csv(params.get("service_request_id"))
    if ids:  # the spec: other parameters are then ignored
        found = selectors.request_rows_public(ids=ids)
        return _respond(fmt, "service_requests", "request", [_request_row(r) for r in found])
    codes = _csv(params.get("service_code"))
    known = set(selectors.category_codes())
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise Open311Error(404, f"service_code {', '.join(unknown)} not found")
    statuses = _csv(params.get("status"))
    if any(s not in ("open", "closed") for s in statuses):
        raise Open311Error(400, "status must be open, closed or both (comma-separated)")
    start, end = _date_range(params)
    found = selectors.request_rows_public(
        codes=codes, statuses=statuses, start=start, end=end, limit=MAX_RESULTS
    )
    return _respond(fmt, "service_requests", "request", [_request_row(r) for r in found])


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    params = request.POST
    client = _client(request, params.get("api_key", ""))
    code = params.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    category = selectors.category_get_active(code=code)
    if category is None:
        raise Open311Error(404, f"service_code {code} not found")
    has_point = params.get("lat") and params.get("long")
    if not (has_point or params.get("address_string") or params.get("address_id")):
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    attributes: dict[str, Any] = {}
    for key in params:
        match = re.fullmatch(r"attribute\[([^\[\]]+)\](\[\])?", key)
        if match:
            values = params.getlist(key)
            attributes[match[1]] = values if match[2] else values[-1]
    try:
        filed = request_create(
            category=category,
            description=params.get("description", ""),
            lat=params.get("lat") or None,
            long=params.get("long") or None,
            address=params.get("address_string", "") or params.get("address_id", ""),
            attributes=attributes,
            media_url=params.get("media_url", "").strip(),
            reporter=Reporter(
                email=params.get("email", ""), first_name=params.get("first_name", ""),
                last_name=params.get("last_name", ""), phone=params.get("phone", ""),
                device_id=params.get("device_id", ""), account_id=params.get("account_id", ""),
            ),
            channel=Channel.OPEN311, actor=client, terminal=Terminal.from_request(request),
        )  # fmt: skip
    except ValidationError as exc:
        raise Open311Error(400, " ".join(exc.messages)) from exc
    req = filed.request
    return _respond(fmt, "service_requests", "request", [{
        "service_request_id": req.service_request_id,
        "token": str(req.token),
        "service_notice": "",
        "account_id": params.get("account_id", "") or None,
    }])  # fmt: skip


def _client(request: HttpRequest, token: str):
    """The API client of this municipality holding requests:write; refusals audited."""
    client = apiclient_by_token(token=token.strip()) if token.strip() else None
    if client is None:
        raise Open311Error(403, "api_key is missing or not registered for this jurisdiction")
    reason = None
    if client.revoked_at is not None:
        reason = "revoked"
    elif client.is_expired():
        reason = "expired"
    elif not client.has_scope(SCOPE):
        reason = "scope"
    if reason:
        audit_append(
            action="api.refused", actor=client, object_type="api_client",
            object_id=str(client.pk), function=f"open311:{request.method} {request.path}"[:100],
            terminal=Terminal.from_request(request), detail={"reason": reason, "scope": SCOPE},
        )  # fmt: skip
        message = {"revoked": "api_key is revoked", "expired": "api_key has expired"}.get(
            reason, f"api_key lacks the scope {SCOPE}"
        )
        raise Open311Error(403, message)
    apiclient_touch(client=client)
    return client


@endpoint
def request_one(request: HttpRequest, *, municipality, fmt: str, request_id: str):
    _methods(request, "GET")
    found = selectors.request_rows_public(ids=[request_id])
    if not found:
        raise Open311Error(404, f"service_request_id {request_id} not found")
    return _respond(fmt, "service_requests", "request", [_request_row(found[0])])


@endpoint
def token(request: HttpRequest, *, municipality, fmt: str, token: str):
    _methods(request, "GET")
    req = selectors.request_by_token(token=token)
    if req is None:
        raise Open311Error(404, f"token {token} not found")
    return _respond(fmt, "service_requests", "request", [
        {"service_request_id": req.service_request_id, "token": str(req.token)}
    ])  # fmt: skip


@endpoint
def updates(request: HttpRequest, *, municipality, fmt: str) -> HttpResponse:
    _methods(request, "GET", "POST")
    if request.method == "POST":
        return _post_update(request, fmt)
    start, end = _date_range(request.GET, default_days=90)
    rows = [
        {
            "update_id": str(u.pk),
            "service_request_id": str(u.request_id),
            "status": u.status.upper(),
            "updated_datetime": _w3c(u.created_at),
            "description": u.text,
            "media_url": "",
        }
        for u in selectors.update_list_public(start=start, end=end, limit=MAX_RESULTS)
    ]
    return _respond(fmt, "service_request_updates", "request_update", rows)


# mySociety's POST Service Request Update: the generic OPEN/CLOSED or an extended state.
_UPDATE_STATUSES = {"OPEN": None, "CLOSED": None} | {
    s.value.upper(): s.value for s in Status if s.value not in ("open", "closed")
}
CLOCK_SKEW = datetime.timedelta(minutes=5)
# The audit entry of a received update doubles as the record of the client's update_id.
UPDATE_RECEIVED = "requests.open311.update_received"


def _update_target(req: Request, status: str) -> str:
    """The machi status an update's ``status`` asks for (the request's own when unchanged).

    OPEN/CLOSED only say which side the request is on: a request already on that side
    keeps its extended state; crossing over reopens (受付) or closes (終了) it."""
    extended = _UPDATE_STATUSES[status]
    if extended is not None:
        return extended
    if status == "OPEN":
        return req.status if req.status in OPEN_STATUSES else Status.OPEN
    return req.status if req.status not in OPEN_STATUSES else Status.CLOSED


def _update_seen(req: Request, client, client_update_id: str) -> dict[str, Any] | None:
    """The audit detail of this client's earlier update of that id on this request."""
    entries = AuditEntry.objects.filter(
        action=UPDATE_RECEIVED, object_type="request", object_id=req.service_request_id,
        actor_username=client.audit_actor_label,
    ).values_list("detail", flat=True)  # fmt: skip
    return next((d for d in entries if d.get("update_id") == client_update_id), None)


def _post_update(request: HttpRequest, fmt: str) -> HttpResponse:
    """An API client's update (a public note, a status change or both) on a request.

    The client's ``update_id`` makes a retry safe: the same update posted again answers
    with the update already recorded and writes nothing."""
    params = request.POST
    client = _client(request, params.get("api_key", ""))
    request_id = params.get("service_request_id", "").strip()
    if not request_id:
        raise Open311Error(400, "service_request_id is required")
    client_update_id = (params.get("update_id") or params.get("update_id_ext") or "").strip()
    if not client_update_id:
        raise Open311Error(400, "update_id is required (the client's id of this update)")
    if len(client_update_id) > 100:
        raise Open311Error(400, "update_id may have at most 100 characters")
    status = params.get("status", "").strip().upper()
    if status not in _UPDATE_STATUSES:
        raise Open311Error(
            400, f"status must be one of {', '.join(_UPDATE_STATUSES)} (got {status or 'none'})"
        )
    if status == "DUPLICATE":
        raise Open311Error(400, "a duplicate is merged onto its original by staff, not by update")
    stamp = params.get("updated_datetime", "").strip()
    if not stamp:
        raise Open311Error(400, "updated_datetime is required")
    if "T" not in stamp:
        raise Open311Error(400, "updated_datetime must be a W3C datetime with a time zone")
    updated = w3c_parse("updated_datetime", stamp)
    now = timezone.now()
    if updated > now + CLOCK_SKEW:
        raise Open311Error(400, "updated_datetime is in the future")
    description = params.get("description", "").strip()
    media_url = params.get("media_url", "").strip()
    if media_url:
        try:
            URLValidator(schemes=["https", "http"])(media_url)
        except ValidationError as exc:
            raise Open311Error(400, "media_url is not a valid http(s) URL") from exc
    req = (
        Request.objects.filter(pk=int(request_id)).first()
        if request_id.isdigit() and len(request_id) < 19
        else None
    )
    if req is None:
        raise Open311Error(404, f"service_request_id {request_id} not found")
    if updated < req.requested_at:
        raise Open311Error(400, "updated_datetime is before the request was filed")
    digest = hashlib.sha256(f"{status}\n{description}".encode()).hexdigest()
    terminal = Terminal.from_request(request)
    try:
        with transaction.atomic(using=current_tenant_alias()):
            # The row lock serialises a retry racing its original on the same request.
            req = Request.objects.select_for_update().get(pk=req.pk)
            seen = _update_seen(req, client, client_update_id)
            if seen is not None:
                if seen["digest"] != digest:
                    raise Open311Error(
                        400, f"update_id {client_update_id} was already used for another update"
                    )
                update_id = seen["machi_update_id"]
            else:
                target = _update_target(req, status)
                if target != req.status:
                    update = request_status_change(
                        request=req, status=target, actor=client, text=description,
                        terminal=terminal,
                    )  # fmt: skip
                elif description:
                    update = request_answer(
                        request=req, text=description, public=True, actor=client,
                        terminal=terminal,
                    )  # fmt: skip
                else:
                    raise Open311Error(
                        400, "nothing to update: the status is unchanged and description is empty"
                    )
                update_id = update.pk
                audit_append(
                    action=UPDATE_RECEIVED, actor=client, object_type="request",
                    object_id=req.service_request_id, function="open311:servicerequestupdates",
                    terminal=terminal,
                    detail={"update_id": client_update_id, "machi_update_id": update_id,
                            "updated_datetime": updated.isoformat(), "status": status,
                            "digest": digest, "media_url": bool(media_url)},
                )  # fmt: skip
    except ValidationError as exc:
        raise Open311Error(400, " ".join(exc.messages)) from exc
    return _respond(fmt, "service_request_updates", "request_update", [
        {"update_id": str(update_id)}
    ])  # fmt: skip


@public_view
@csrf_exempt
def not_found(request: HttpRequest, lg_code: str = "", **kwargs: Any) -> HttpResponse:
    fmt = "json" if request.path.endswith(".json") else "xml"
    return _error(fmt, 404, "no such Open311 method (use .xml or .json)")
