"""The resident's status page (the QR code on the visit slip points here).

No login (``@public_view``): whoever holds the visit's code sees its procedures, their
department, status and deadline — nothing the holder does not already know: no names,
atena numbers, addresses or reasons. Two queries (the visit, its tasks); never cached,
never indexed, the code never sent on as a referrer.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from machi.counter import selectors
from machi.counter.models import TaskStatus, VisitStatus
from machi.procedures.engine.catalogue import EVENT_LABELS
from machi.web.decorators import public_view
from machi.web.language import language_switch


@public_view
@require_GET
@cache_control(no_store=True)
def visit_status(request: HttpRequest, lg_code: str, code: str) -> HttpResponse:
    if (switch := language_switch(request)) is not None:
        return switch
    visit = selectors.visit_by_public_code(code=code)
    if visit is None:
        raise Http404(_("受付番号が見つかりません。"))
    rows = selectors.visit_status(visit=visit)
    ended = sum(1 for row in rows if row["status"] in (TaskStatus.DONE, TaskStatus.NOT_NEEDED))
    response = render(
        request,
        "counter/status.html",
        {
            "visit": visit,
            "closed": visit.status == VisitStatus.CLOSED,
            "event": EVENT_LABELS.get(visit.event_type, visit.event_type),
            "rows": rows,
            "ended": ended,
        },
    )
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
