"""Pre-filled forms of a visit (書かない窓口): the list page and each PDF.

Staff only (counter clerks, department staff, supervisors of the municipality in the
URL; the tenancy middleware refuses everyone else). The PDF is rendered on request,
never cached, and every rendering is audited (``document.printed``).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from machi.accounts.roles import Role
from machi.audit.services import Terminal
from machi.counter import selectors
from machi.counter.documents import (
    DocumentNotFound,
    document_render,
    documents_render_all,
    visit_documents,
)
from machi.counter.models import Visit
from machi.procedures.engine.catalogue import EVENT_LABELS
from machi.web.decorators import roles_required

DOCUMENT_ROLES = (Role.COUNTER_CLERK, Role.DEPARTMENT_STAFF, Role.SUPERVISOR)


def _visit(code: str) -> Visit:
    visit = selectors.visit_by_public_code(code=code)
    if visit is None:
        raise Http404(_("受付番号が見つかりません。"))
    return visit


@require_GET
@never_cache
@roles_required(*DOCUMENT_ROLES)
def documents(request: HttpRequest, lg_code: str, code: str) -> HttpResponse:
    visit = _visit(code)
    return render(
        request,
        "counter/documents/index.html",
        {
            "visit": visit,
            "event": EVENT_LABELS.get(visit.event_type, visit.event_type),
            "documents": visit_documents(visit=visit),
            "lg_code": lg_code,
        },
    )


def _status_url(request: HttpRequest, lg_code: str, visit: Visit) -> str:
    return request.build_absolute_uri(
        reverse("counter:visit_status", args=[lg_code, visit.public_code])
    )


@require_GET
@never_cache
@roles_required(*DOCUMENT_ROLES)
def document_pdf(request: HttpRequest, lg_code: str, code: str, name: str) -> HttpResponse:
    visit = _visit(code)
    try:
        pdf = document_render(
            visit=visit,
            name=name,
            actor=request.user,
            terminal=Terminal.from_request(request),
            status_url=_status_url(request, lg_code, visit),
            municipality=getattr(request, "municipality", None),
        )
    except DocumentNotFound:
        raise Http404(_("この受付には、その書類はありません。")) from None
    return _pdf_response(pdf, f"{name}_{visit.public_code}.pdf")


@require_GET
@never_cache
@roles_required(*DOCUMENT_ROLES)
def documents_pdf(request: HttpRequest, lg_code: str, code: str) -> HttpResponse:
    """The whole set in one PDF, to print at once while the resident waits."""
    visit = _visit(code)
    pdf = documents_render_all(
        visit=visit,
        actor=request.user,
        terminal=Terminal.from_request(request),
        status_url=_status_url(request, lg_code, visit),
        municipality=getattr(request, "municipality", None),
    )
    return _pdf_response(pdf, f"all_{visit.public_code}.pdf")


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response
