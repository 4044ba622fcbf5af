"""The pull feed: ``GET /api/v1/{lg_code}/events?after=&limit=&types=&wait=``.

For API clients with the ``events:read`` scope, and for the municipality's
administrators and supervisors signed in (to look at the feed while operating it).
Events are thin (ids, type, dates): nothing personal is returned here. Every call is
audited with the caller.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from machi.accounts.roles import Role
from machi.apiclients.auth import ApiClientBearer, StaffSession
from machi.apiclients.models import Scope
from machi.apierrors import ErrorOut
from machi.audit.services import Terminal, audit_append
from machi.linkage.selectors import (
    FEED_LIMIT_DEFAULT,
    FeedError,
    feed_types_parse,
    feed_wait,
)

router = Router(tags=["linkage"])

FEED_AUTH = [
    ApiClientBearer(Scope.EVENTS_READ),
    StaffSession(Role.MUNICIPALITY_ADMIN, Role.SUPERVISOR),
]


class CloudEventOut(Schema):
    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: str
    datacontenttype: str
    sequence: int
    data: dict[str, Any]


class FeedOut(Schema):
    events: list[CloudEventOut]
    next_after: int
    has_more: bool


class FeedParams(Schema):
    # The cursor is a 64-bit sequence number: past that no database can compare it.
    after: int = Field(0, le=2**63 - 1)
    # limit and wait are checked by the selector (400 naming the bound, as documented).
    limit: int = FEED_LIMIT_DEFAULT
    types: str = Field("", max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")
    wait: float = 0


@router.get(
    "/{lg_code}/events",
    auth=FEED_AUTH,
    response={200: FeedOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut},
    summary="イベントの取得（プル配信）",
)
def events(request: HttpRequest, lg_code: str, params: Query[FeedParams]):
    """Events of the municipality after the cursor ``after`` (0 = from the start), in
    sequence order, as CloudEvents 1.0 structured JSON. ``limit`` 1–1000 (default
    100); ``types`` comma-separated type patterns (``jp.machi.resident.*``);
    ``wait`` 0–30 seconds: when nothing is there yet, wait for an event (long poll).
    Continue with ``after=next_after``; ``has_more`` says to call again at once."""
    try:
        types = feed_types_parse(params.types)
        page = feed_wait(after=params.after, limit=params.limit, types=types, wait=params.wait)
    except FeedError as error:
        return Status(400, {"detail": str(error)})
    audit_append(
        action="api.events.read",
        actor=request.auth,
        object_type="outbox",
        function="api:events",
        terminal=Terminal.from_request(request),
        detail={
            "after": params.after,
            "types": types,
            "returned": len(page.events),
            "next_after": page.next_after,
        },
    )
    # Built by hand: a thousand events through the schema validator would cost more
    # than reading them (the schema above documents the same document).
    body = json.dumps(
        {"events": page.events, "next_after": page.next_after, "has_more": page.has_more},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return HttpResponse(body, content_type="application/json")
