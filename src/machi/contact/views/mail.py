"""The mail channel's pages: the HTTP endpoint a mail gateway posts received mail to
(an API client with the scope ``contact:mail``), and the staff's quarantine list.

The endpoint takes the raw message as the request body (``Content-Type:
message/rfc822``) and answers 202 with the outcome, 401/403 for a missing, unknown or
under-scoped token, 413 above the size limit, 503 (Retry-After) for a temporary
failure: the gateway keeps the mail and posts it again.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from ninja.errors import HttpError

from machi.apiclients.auth import ApiClientBearer
from machi.apiclients.models import Scope
from machi.audit.services import Terminal
from machi.contact.mail.quarantine import quarantine_discard, quarantine_headers, quarantine_release
from machi.contact.mail.receive import mail_receive
from machi.contact.models import QuarantinedMail, QuarantineStatus
from machi.contact.services.tickets import WORKING_ROLES
from machi.web.decorators import public_view, roles_required

working_role_required = roles_required(*WORKING_ROLES)
mail_bearer = ApiClientBearer(Scope.CONTACT_MAIL)


@public_view  # no staff session: the gateway's token is checked here
@csrf_exempt
@require_POST
def mail_inbound(request: HttpRequest, lg_code: str) -> HttpResponse:
    try:
        client = mail_bearer(request)
    except HttpError as error:
        return JsonResponse({"detail": error.message}, status=error.status_code)
    if client is None:
        return JsonResponse({"detail": "Authorization: Bearer <token> が必要です。"}, status=401)
    limit = settings.MACHI_CONTACT_MAIL_MAX_MESSAGE_BYTES
    # read the stream itself: request.body stops at DATA_UPLOAD_MAX_MEMORY_SIZE
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return JsonResponse({"detail": _("メールが大きすぎます。")}, status=413)
    try:
        result = mail_receive(raw=raw, source="http")
    except DatabaseError:
        response = JsonResponse({"detail": "temporary failure"}, status=503)
        response["Retry-After"] = "60"
        return response
    return JsonResponse(
        {
            "outcome": result.outcome,
            "ticket": result.ticket.number if result.ticket else None,
            "quarantine": result.quarantine.pk if result.quarantine else None,
        },
        status=202,
    )


def _entry(pk: int) -> QuarantinedMail:
    entry = QuarantinedMail.objects.filter(pk=pk).select_related("ticket").first()
    if entry is None:
        raise Http404
    return entry


@require_GET
@never_cache
@working_role_required
def quarantine_list(request: HttpRequest, lg_code: str) -> HttpResponse:
    status = request.GET.get("status") or QuarantineStatus.HELD
    if status not in QuarantineStatus.values:
        status = QuarantineStatus.HELD
    entries = QuarantinedMail.objects.filter(status=status).select_related("ticket")
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "contact/mail/quarantine_list.html",
        {"page": page, "status": status, "statuses": QuarantineStatus.choices},
    )


@require_GET
@never_cache
@working_role_required
def quarantine_detail(request: HttpRequest, lg_code: str, pk: int) -> HttpResponse:
    entry = _entry(pk)
    headers = quarantine_headers(entry) if entry.status == QuarantineStatus.HELD else []
    return render(request, "contact/mail/quarantine.html", {"entry": entry, "headers": headers})


@require_POST
@never_cache
@working_role_required
def quarantine_action(request: HttpRequest, lg_code: str, pk: int, action: str) -> HttpResponse:
    entry = _entry(pk)
    service = {"release": quarantine_release, "discard": quarantine_discard}.get(action)
    if service is None:
        raise Http404
    try:
        entry = service(entry=entry, actor=request.user, terminal=Terminal.from_request(request))
    except PermissionDenied:
        raise
    except ValidationError as error:  # TicketError and the ticket's own checks
        messages.error(request, " ".join(error.messages))
        return redirect("contact:mail_quarantine", lg_code=lg_code, pk=pk)
    if entry.ticket_id:
        messages.success(
            request, _("問い合わせ %(number)s にしました。") % {"number": entry.ticket.number}
        )
        return redirect("contact:ticket", lg_code=lg_code, pk=entry.ticket_id)
    messages.success(request, _("メールを破棄しました。"))
    return redirect("contact:mail_quarantine_list", lg_code=lg_code)
