"""Step 5, 確定: ``life_event_confirm`` (one transaction; it also finishes the ticket)
and the result page: the visit code, the 届出人, the public status page, the tasks (and
who files them), the documents; and 中止 (the draft is dropped)."""

from __future__ import annotations

import contextlib
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from machi.counter import selectors, services
from machi.counter.documents.forms import filer_text
from machi.counter.models import NotifierKind, TaskStatus, Visit
from machi.counter.services.intake import IntakeError, life_event_confirm
from machi.counter.views.intake._shared import (
    SESSION_KEY,
    _base,
    _draft,
    _partial,
    _reachable,
    _render,
    _terminal,
    _ticket,
    intake_data,
    intake_role_required,
)
from machi.procedures.engine import EVENT_LABELS, NavigatorInputError


@require_POST
@never_cache
@intake_role_required
def intake_confirm(request: HttpRequest, lg_code: str) -> HttpResponse:
    """確定: the registry change, the visit, the tasks and the events in one transaction."""
    draft = _draft(request)
    if not _reachable(draft, "preview"):
        return _render(request, draft, "event")
    ticket = _ticket(draft)
    try:
        result = life_event_confirm(
            data=intake_data(draft),
            actor=request.user,
            terminal=_terminal(request),
            ticket=ticket,
        )
    except (IntakeError, NavigatorInputError) as error:
        response = _render(request, draft, "preview", problems=list(error.errors), failed=True)
        if not _partial(request):
            response.status_code = 400
        return response
    if draft.get("preapplication"):
        found = selectors.preapplication_get(code=draft["preapplication"])
        if found is not None:
            # expired in the meantime: the intake itself is recorded
            with contextlib.suppress(services.PreApplicationError):
                services.preapplication_mark_used(
                    preapplication=found, actor=request.user, terminal=_terminal(request)
                )
    request.session.pop(SESSION_KEY, None)
    url = reverse("counter:intake_done", args=[lg_code, result.visit.public_code])
    if _partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


@require_POST
@never_cache
@intake_role_required
def intake_cancel(request: HttpRequest, lg_code: str) -> HttpResponse:
    """中止: the draft is dropped (nothing was written)."""
    draft = _draft(request)
    request.session.pop(SESSION_KEY, None)
    url = reverse("counter:call", args=[lg_code]) if draft.get("ticket") else _base(request)
    if _partial(request):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def notifier_text(visit: Visit, names: dict[str, str]) -> str:
    """The visit's 届出人 in a line ("" when none was recorded)."""
    if visit.notifier_kind == NotifierKind.AGENT:
        return _("代理人 %(name)s（%(relationship)s）") % {
            "name": visit.notifier_name,
            "relationship": visit.notifier_relationship,
        }
    if visit.notifier_kind == NotifierKind.MEMBER:
        return names.get(visit.notifier_atena, "")
    return ""


@require_GET
@never_cache
@intake_role_required
def intake_done(request: HttpRequest, lg_code: str, code: str) -> HttpResponse:
    """The result: the visit code, the status page, the tasks; printable."""
    visit = selectors.visit_by_public_code(code=code)
    if visit is None:
        raise Http404(_("受付番号が見つかりません。"))
    tasks = list(visit.tasks.order_by("id"))
    names = selectors.task_resident_names(
        atena_numbers=[t.person_atena for t in tasks]
        + [t.filer_atena for t in tasks]
        + [visit.notifier_atena],
        actor=request.user,
        terminal=_terminal(request),
        function="counter:intake",
    )
    groups: list[dict[str, Any]] = []
    for task in tasks:
        if not groups or groups[-1]["code"] != task.department:
            groups.append(
                {"code": task.department, "name": task.department_name or task.department,
                 "tasks": []}
            )  # fmt: skip
        groups[-1]["tasks"].append(
            {"task": task, "person": names.get(task.person_atena, _("世帯")),
             "named": task.person_atena in names,
             "filer": filer_text(task.procedure_code, task.filer_label,
                                 names.get(task.filer_atena, ""))}
        )  # fmt: skip
    documents_url = ""
    for name in ("counter:visit_documents", "counter:documents"):
        try:
            documents_url = reverse(name, args=[lg_code, visit.public_code])
        except NoReverseMatch:
            continue
        break
    ticket = visit.ticket
    return render(
        request,
        "counter/intake_done.html",
        {
            "visit": visit,
            "event_label": EVENT_LABELS.get(visit.event_type, visit.event_type),
            "groups": groups,
            "task_count": len(tasks),
            "done_count": sum(task.status == TaskStatus.DONE for task in tasks),
            "status_url": reverse("counter:visit_status", args=[lg_code, visit.public_code]),
            "documents_url": documents_url,
            "notifier_text": notifier_text(visit, names),
            "ticket": ticket,
        },
    )
