from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from machi.accounts.roles import Role
from machi.audit import selectors
from machi.audit.forms import AuditSearchForm
from machi.audit.services import Terminal, audit_append
from machi.web.decorators import roles_required


@roles_required(Role.SUPERVISOR)
def search(request: HttpRequest, lg_code: str) -> HttpResponse:
    form = AuditSearchForm(request.GET or None)
    entries = selectors.audit_search()
    if form.is_valid():
        entries = selectors.audit_search(**form.cleaned_data)
        # Searching the log shows who looked at whom: that is itself audited.
        audit_append(
            action="audit.searched",
            actor=request.user,
            function="audit:search",
            terminal=Terminal.from_request(request),
            detail={k: str(v) for k, v in form.cleaned_data.items() if v},
        )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    template = "audit/_results.html" if request.htmx else "audit/search.html"
    return render(request, template, {"form": form, "page": page})
